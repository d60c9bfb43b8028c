"""Fixtures of the evaluation tests: a small, hand-computed world built through the grants services.

``world`` (the current-year provincial program of the cast, see ``tests/grants/conftest.py``):

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
from evaluation.models import EvaluationRound, SelfAssessment
from grants.models import Allocation, Program
from members.choices import UnionStatus
from members.models import Union, User
from tests.factories import UnionFactory
from tests.grants import conftest as grants_fixtures
from tests.grants.allocation_helpers import approve, disburse, spend
from tests.grants.conftest import staff

# The grants fixtures, shared with this folder: regions written in one INSERT, the cast's provincial
# program of this year, the cast's four unions with 150 members each.
_region_rows = grants_fixtures._region_rows
regions = grants_fixtures.regions
program = grants_fixtures.program
stocked = grants_fixtures.stocked

XIHU, YUHANG, YINZHOU = "330106", "330110", "330212"
HANGZHOU, NINGBO, PROVINCE = "330100", "330200", "330000"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def allocate(program: Program, union: Union, amount: str, spent: str = "0.00") -> Allocation:
    """Approve ``union`` for ``amount``, disburse all of it and record ``spent`` as one expenditure."""
    allocation = approve(program, union, amount)
    disburse(allocation, amount)
    if spent != "0.00":
        spend(allocation, spent)
    allocation.refresh_from_db()
    return allocation


def verified_unions(county: str, count: int, **fields) -> list[Union]:
    return [UnionFactory(county_id=county, **fields) for _ in range(count)]


def answers(round_: EvaluationRound, union: Union, *codes: str, by: User | None = None) -> None:
    """Paper answers typed in by the union's county staff."""
    services.survey_responses_enter(
        round_=round_,
        rows=[{"union": union.pk, "answer": code} for code in codes],
        by=by or staff(union.county_id),
    )


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


def assessment(round_: EvaluationRound, county: str) -> SelfAssessment:
    return SelfAssessment.objects.get(round=round_, county_id=county)


def submit(round_: EvaluationRound, county: str, narrative: str = "本县按计划使用专项经费。") -> SelfAssessment:
    return services.assessment_submit(assessment=assessment(round_, county), narrative=narrative, by=staff(county))


def approve_assessment(round_: EvaluationRound, county: str, **kwargs) -> SelfAssessment:
    city = county[:4] + "00"
    return services.assessment_approve(assessment=assessment(round_, county), by=staff(city), **kwargs)


@pytest.fixture
def bare_round(cast, program) -> EvaluationRound:
    """A round of the cast's program with nothing recorded yet (cheap: for rules that need no figures)."""
    return services.round_create(program=program, by=cast.province)
