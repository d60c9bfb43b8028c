"""Fixtures of the evaluation tests: a small, hand-computed world built through the grants services.

``world`` (the current-year provincial program of the cast, built by ``tests/factories.py``):

| county | verified new-economy unions | allocated | spent | answers |
|---|---|---|---|---|
| 西湖区 330106 | 8 (+1 pending, +1 without groups) | 60,000.00 + 40,000.00 | 45,000.00 + 10,000.00 | 100, 80 / 80, 60 |
| 余杭区 330110 | 10 | 50,000.00 | 50,000.00 | none |
| 鄞州区 330212 | 1 | 30,000.00 | 0.00 | none |

So Xihu: U = 0.5500 (55.00), C = 2/8 = 0.2500 (100.00 at target 0.2), S = 80.00, total 76.50 (中);
Yuhang: U = 1.0000 (100.00), C = 1/10 = 0.1000 (50.00), S none (0), total 40.00 (差).
"""

from dataclasses import dataclass

import pytest

from evaluation import services
from evaluation.models import EvaluationRound
from grants.models import Allocation, Program
from members.choices import UnionStatus
from tests.factories import XIHU, YUHANG, UnionFactory, allocate, answers, verified_unions


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@dataclass
class World:
    program: Program
    xihu_a: Allocation
    xihu_b: Allocation
    yuhang: Allocation
    yinzhou: Allocation


@pytest.fixture
def world(stocked, program) -> World:
    cast = stocked
    verified_unions(XIHU, 6)
    UnionFactory(county_id=XIHU, status=UnionStatus.PENDING)  # not verified: not counted
    UnionFactory(county_id=XIHU, covered_groups="")  # covers no new-employment group: not counted
    verified_unions(YUHANG, 9)
    return World(
        program=program,
        xihu_a=allocate(program, cast.union_xihu, "60000.00", "45000.00"),
        xihu_b=allocate(program, cast.union_xihu_other, "40000.00", "10000.00"),
        yuhang=allocate(program, cast.union_yuhang, "50000.00", "50000.00"),
        yinzhou=allocate(program, cast.union_yinzhou, "30000.00"),
    )


@pytest.fixture
def round_(world, cast) -> EvaluationRound:
    """The round of the world's program, opened by the province with the default settings."""
    return services.round_create(program=world.program, by=cast.province)


@pytest.fixture
def answered(round_, cast) -> EvaluationRound:
    """Xihu's answers: 100 and 80 for one union, 80 and 60 for the other (S = 80.00)."""
    answers(round_, cast.union_xihu, "very_satisfied", "satisfied")
    answers(round_, cast.union_xihu_other, "satisfied", "neutral")
    return round_
