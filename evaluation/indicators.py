"""The three indicators of the evaluation, computed from recorded data only, for a county, a city or the province.

- U (资金使用率) = Σ spent ÷ Σ allocated over the allocations of the round's program in the area;
  score_U = 100 × min(1, U).
- C (接受补助工会覆盖率) = unions in the area subsidised that year by any program ÷ verified unions in
  the area that cover at least one new-employment group; score_C = 100 × min(1, C ÷ coverage_target).
- S (职工平均满意度) = mean of the survey answers (100/80/60/40/20) given in this round for the unions of
  the area subsidised by the round's program (the ones with a survey link); score_S = S.
- Total = Σ weight × score; grade 优 ≥ 90, 良 ≥ 80, 中 ≥ 60, 差 < 60.

Rates keep four places, scores two, all Decimal. An area is given as a list of county codes, so the
same function serves a county, a city (its counties) and the province. Flags explain what is missing:
``no_allocations`` (U has nothing to measure: score 0), ``no_verified_unions``, ``no_responses`` (S is
empty: score 0), ``sample_too_small`` (listing the subsidised unions with fewer answers than the round's
minimum).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import get_args, get_type_hints

from django.db.models import Count, Sum
from django.utils.translation import gettext_lazy as _

from grants.models import Allocation
from members.choices import UnionStatus
from members.models import Region, Union

from .choices import Grade
from .models import EvaluationRound, SurveyResponse

RATE_PLACES = Decimal("0.0001")
SCORE_PLACES = Decimal("0.01")
FEN = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal(0)


def score(value: Decimal) -> Decimal:
    return value.quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)


def grade_for(total: Decimal | None) -> str:
    if total is None:
        return ""
    if total >= 90:
        return Grade.EXCELLENT
    if total >= 80:
        return Grade.GOOD
    if total >= 60:
        return Grade.FAIR
    return Grade.POOR


@dataclass
class Figures:
    """The indicator figures of one area, with what they were computed from."""

    utilization_rate: Decimal | None
    coverage_rate: Decimal | None
    satisfaction: Decimal | None
    score_utilization: Decimal
    score_coverage: Decimal
    score_satisfaction: Decimal
    total_score: Decimal
    grade: str
    allocated: Decimal = ZERO
    spent: Decimal = ZERO
    subsidised_unions: int = 0
    verified_unions: int = 0
    responses: int = 0
    small_samples: list[dict] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    def scores(self) -> dict[str, Decimal]:
        return {
            "utilization": self.score_utilization,
            "coverage": self.score_coverage,
            "satisfaction": self.score_satisfaction,
        }

    def as_json(self) -> dict:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, Decimal):
                out[key] = str(value)
        return out

    @classmethod
    def from_json(cls, data: dict) -> Figures:
        """The inverse of ``as_json``: the snapshot frozen at submit, as figures again."""
        hints = get_type_hints(cls)
        decimals = {name for name in cls.__dataclass_fields__ if Decimal in (hints[name], *get_args(hints[name]))}
        values = {
            key: Decimal(value) if key in decimals and value is not None else value
            for key, value in data.items()
            if key in cls.__dataclass_fields__
        }
        return cls(**values)


def total_of(scores: dict[str, Decimal], weights: dict[str, Decimal]) -> Decimal:
    return score(sum((weights[k] * scores[k] for k in weights), ZERO))


def compute(round_: EvaluationRound, counties: Iterable[str]) -> Figures:
    """Indicators of the area made of ``counties`` in ``round_``; four queries whatever the area."""
    return compute_areas(round_, {"area": list(counties)})["area"]


def compute_areas(round_: EvaluationRound, areas: Mapping[str, Iterable[str]]) -> dict[str, Figures]:
    """Indicators of several areas at once (e.g. the eleven cities of the province, or every county),
    each given as its county codes; four queries whatever the number of areas."""
    areas = {key: list(codes) for key, codes in areas.items()}
    counties = sorted({code for codes in areas.values() for code in codes})
    year = round_.program.year
    money = {
        row["county_id"]: row
        for row in Allocation.objects.filter(program_id=round_.program_id, county_id__in=counties)
        .values("county_id")
        .annotate(allocated=Sum("amount"), spent=Sum("spent_amount"))
        .order_by()
    }
    # Coverage counts unions subsidised that year by any program; the survey (S and its sample sizes)
    # concerns the unions of this round's program only: they are the ones that get a survey link.
    granted = set(
        Allocation.objects.filter(year=year, county_id__in=counties)
        .values_list("county_id", "union_id", "program_id")
        .distinct()
    )
    verified = dict(
        Union.objects.filter(county_id__in=counties, status=UnionStatus.VERIFIED)
        .exclude(covered_groups="")
        .values("county_id")
        .annotate(n=Count("id"))
        .values_list("county_id", "n")
        .order_by()
    )
    surveyed_all = {union_id for _county, union_id, program_id in granted if program_id == round_.program_id}
    per_union = {
        row["union_id"]: row
        for row in SurveyResponse.objects.filter(round=round_, union_id__in=surveyed_all)
        .values("union_id")
        .annotate(n=Count("id"), points=Sum("score"))
        .order_by()
    }
    return {
        key: _figures(round_, set(codes), money=money, granted=granted, verified=verified, per_union=per_union)
        for key, codes in areas.items()
    }


def _figures(round_, codes: set[str], *, money, granted, verified, per_union) -> Figures:
    # Money keeps its two places whatever the database returns for a SUM (SQLite drops them).
    allocated = sum((money[c]["allocated"] or ZERO for c in codes if c in money), ZERO).quantize(FEN)
    spent = sum((money[c]["spent"] or ZERO for c in codes if c in money), ZERO).quantize(FEN)
    subsidised = {union_id for county, union_id, _program in granted if county in codes}
    surveyed = {
        union_id for county, union_id, program_id in granted if county in codes and program_id == round_.program_id
    }
    verified_count = sum(verified.get(c, 0) for c in codes)
    flags: list[str] = []

    utilization = None
    if allocated > 0:
        utilization = (spent / allocated).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)
        score_u = score(HUNDRED * min(Decimal(1), spent / allocated))
    else:
        score_u = score(ZERO)  # 0.00: scores always keep two places
        flags.append("no_allocations")

    coverage = None
    if verified_count:
        coverage = (Decimal(len(subsidised)) / verified_count).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)
        score_c = score(HUNDRED * min(Decimal(1), Decimal(len(subsidised)) / verified_count / round_.coverage_target))
    else:
        score_c = score(ZERO)
        flags.append("no_verified_unions")

    answered = [per_union[u] for u in surveyed if u in per_union]
    responses = sum(r["n"] for r in answered)
    satisfaction = None
    if responses:
        # Integer sums, not a database average (a float on SQLite): the mean is exact before rounding.
        total_points = sum(int(r["points"]) for r in answered)
        satisfaction = score(Decimal(total_points) / responses)
        score_s = satisfaction
    else:
        score_s = score(ZERO)
        flags.append("no_responses")

    small = [
        {"union": union_id, "responses": per_union.get(union_id, {}).get("n", 0)}
        for union_id in sorted(surveyed)
        if per_union.get(union_id, {}).get("n", 0) < round_.min_responses
    ]
    if small:
        flags.append("sample_too_small")

    scores = {"utilization": score_u, "coverage": score_c, "satisfaction": score_s}
    total = total_of(scores, round_.weights)
    return Figures(
        utilization_rate=utilization,
        coverage_rate=coverage,
        satisfaction=satisfaction,
        score_utilization=score_u,
        score_coverage=score_c,
        score_satisfaction=score_s,
        total_score=total,
        grade=grade_for(total),
        allocated=allocated,
        spent=spent,
        subsidised_unions=len(subsidised),
        verified_unions=verified_count,
        responses=responses,
        small_samples=small,
        flags=flags,
    )


def city_figures(round_: EvaluationRound, province: Region) -> list[dict]:
    """The province's cities with their indicators, best first (four queries for all of them)."""
    cities = list(Region.objects.filter(parent=province).order_by("code"))
    children: dict[str, list[str]] = {c.code: [] for c in cities}
    for code, parent in Region.objects.filter(parent__in=cities).values_list("code", "parent_id"):
        children[parent].append(code)
    figures = compute_areas(round_, children)
    rows = [{"city": city, "figures": figures[city.code]} for city in cities]
    rows.sort(key=lambda r: r["figures"].total_score, reverse=True)
    return rows


FLAG_LABELS = {
    "no_allocations": _("本地区本项目没有下拨，资金使用率计 0 分"),
    "no_verified_unions": _("本地区没有已核实的新业态工会"),
    "no_responses": _("没有满意度答卷，满意度计 0 分"),
    "sample_too_small": _("有获补助工会的答卷数少于最低样本量"),
    "adjusted": _("市级对指标得分作了调整"),
    "spot_check_difference": _("省级抽查核定分与市级审核分相差超过 5 分"),
}
