"""Province-scale evaluation for ``seed_demo --scale province``: one round per decided program
year, each at another stage, so every state of docs/rules.md §9 is there at the province's scale.

- 2022: finished — every county submitted and approved (a few with adjustments), every city summary
  completed, a spot-check of about a fifth of the counties verified (one with a difference over 5 points),
  one county sent back and approved again.
- 2023: in the city review — most counties approved, some submitted and waiting, some returned to the
  county, a few still drafting; a spot-check drawn, partly verified.
- 2024: just opened — answers still coming in, most counties drafting, a few submitted.

Survey answers are written in bulk (members answering on the public page: one per device); county staff's
paper answers and every workflow step go through the services, under ``clock.travel`` to when they
happened, so frozen figures, adjustments and spot-check flags are computed by the real code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field

from django.utils import timezone

from grants.models import Allocation, Program
from members.models import User
from members.scale import LOCAL
from unionfunds.core import clock
from unionfunds.core.bulk import insert_rows

from . import services
from .choices import ANSWER_SCORES, AssessmentStatus, SpotCheckStatus
from .demo import ANSWER_WEIGHTS, NARRATIVE
from .models import EvaluationRound, SelfAssessment, SpotCheck, SurveyResponse

# year: (share of counties submitted, share of the submitted the city approved, share returned, spot-check ratio,
#        share of spot-checks verified)
STAGES = {
    2022: (1.0, 1.0, 0.0, "0.2", 1.0),
    2023: (1.0, 0.9, 0.1, "0.15", 0.5),
    2024: (0.55, 0.5, 0.1, None, 0.0),
}
# year: (surveys open, self-assessments start); the 2024 round is the one under way now.
CALENDAR = {
    2022: (dt.date(2023, 1, 5), dt.date(2023, 3, 1)),
    2023: (dt.date(2024, 1, 5), dt.date(2024, 3, 1)),
    2024: (dt.date(2026, 9, 1), dt.date(2026, 11, 1)),
}


@dataclass
class EvaluationFigures:
    rounds: int = 0
    responses: int = 0
    by_year: dict = field(default_factory=dict)


def _cap(moment: dt.datetime) -> dt.datetime:
    """Never later than an hour ago: the current round's steps stop at today."""
    return min(moment, timezone.now() - dt.timedelta(hours=1))


def _moment(day: dt.date, hour: int = 10) -> dt.datetime:
    return _cap(dt.datetime.combine(day, dt.time(hour), tzinfo=LOCAL))


def _answers(rng: random.Random, mood: float, count: int) -> list[str]:
    """``count`` answers; ``mood`` moves a county's answers up or down a little."""
    choices, weights = zip(*ANSWER_WEIGHTS, strict=True)
    tilted = [w * (1 + mood * (2 - i)) for i, w in enumerate(weights)]
    return rng.choices(choices, [max(w, 0.5) for w in tilted], k=count)


def _surveys(rng: random.Random, round_: EvaluationRound, staff: dict[str, User], year: int) -> int:
    """Answers for every subsidised union: most from the public page, some typed in from paper."""
    if SurveyResponse.objects.filter(round=round_).exists():
        return 0
    allocations = list(Allocation.objects.filter(program=round_.program).order_by("county_id", "union_id"))
    moods = {code: rng.uniform(-0.35, 0.35) for code in {a.county_id for a in allocations}}
    web, paper = [], {}
    start = CALENDAR[year][0]
    for allocation in allocations:
        count = rng.randrange(4, 10) if rng.random() < 0.07 else rng.randrange(10, 46)
        answers = _answers(rng, moods[allocation.county_id], count)
        typed = rng.randrange(0, max(1, count // 3))
        for index, answer in enumerate(answers[typed:]):
            device = hashlib.sha256(f"{round_.pk}:{allocation.union_id}:{index}:{rng.random()}".encode()).hexdigest()
            at = _moment(start + dt.timedelta(days=rng.randrange(40)), 8 + rng.randrange(12))
            web.append(
                (round_.pk, allocation.union_id, answer, int(ANSWER_SCORES[answer]), "", "web", device, None, at)
            )
        if typed:
            paper.setdefault(allocation.county_id, []).extend(
                {"union": allocation.union_id, "answer": a} for a in answers[:typed]
            )
    written = insert_rows(
        SurveyResponse,
        ["round_id", "union_id", "answer", "score", "comment", "source", "device", "entered_by_id", "created_at"],
        web,
    )
    for county, rows in sorted(paper.items()):
        with clock.travel(_moment(start + dt.timedelta(days=45), 15)):
            written += len(services.survey_responses_enter(round_=round_, rows=rows, by=staff[county]))
    return written


def _workflow(rng: random.Random, round_: EvaluationRound, staff: dict[str, User], province: User, year: int):
    submitted_share, approved_share, returned_share, spot_ratio, verified_share = STAGES[year]
    day = CALENDAR[year][1]
    assessments = list(SelfAssessment.objects.filter(round=round_).select_related("county").order_by("county_id"))
    cities = sorted({a.county.parent_id for a in assessments})
    for index, assessment in enumerate(assessments):
        if assessment.status != AssessmentStatus.DRAFT or rng.random() >= submitted_share:
            continue
        county, city = staff[assessment.county_id], staff[assessment.county.parent_id]
        at = _moment(day + dt.timedelta(days=rng.randrange(20)))
        with clock.travel(at):
            assessment = services.assessment_submit(assessment=assessment, narrative=NARRATIVE, by=county)
        if rng.random() < returned_share:
            with clock.travel(_cap(at + dt.timedelta(days=5))):
                services.assessment_return(
                    assessment=assessment, by=city, comment="满意度样本偏少，请补充问卷后重新提交。"
                )
            continue
        if rng.random() >= approved_share:
            continue
        adjustments = None
        if index % 9 == 4:
            adjustments = {
                "satisfaction": {
                    "score": str(min(100, assessment.score_satisfaction + 3)),
                    "reason": "补录纸质问卷后复核。",
                }
            }
        with clock.travel(_cap(at + dt.timedelta(days=rng.randrange(4, 15)))):
            services.assessment_approve(assessment=assessment, by=city, adjustments=adjustments, comment="同意。")
    for city in cities:
        if not SelfAssessment.objects.filter(round=round_, county__parent_id=city).exclude(status="approved").exists():
            with clock.travel(_moment(day + dt.timedelta(days=40))):
                services.city_summary_complete(
                    round_=round_, by=staff[city], narrative="全市各县（市、区）自评已审核，资金使用规范。"
                )
    if spot_ratio is None or SpotCheck.objects.filter(draw__round=round_).exists():
        return
    with clock.travel(_moment(day + dt.timedelta(days=50))):
        draw = services.spot_check_draw(round_=round_, by=province, ratio=spot_ratio, seed=year * 1000 + 7)
    checks = list(draw.checks.select_related("assessment").order_by("id"))
    # One verification finds the survey padded: the first county with a satisfaction score to cut.
    padded = next((n for n, c in enumerate(checks) if n != 1 and c.assessment.score_satisfaction >= 20), None)
    for number, check in enumerate(checks):
        a = check.assessment
        at = _moment(day + dt.timedelta(days=60 + number))
        if number == 1 and year == 2022:
            # Sent back, redone by the county and approved again by the city.
            with clock.travel(at):
                services.spot_check_send_back(
                    check=check, comment="支出凭证与台账不符，请核实后重新自评。", by=province
                )
            with clock.travel(_cap(at + dt.timedelta(days=7))):
                redone = services.assessment_submit(
                    assessment=a, narrative=NARRATIVE + "已按省级抽查意见核实台账。", by=staff[a.county_id]
                )
            with clock.travel(_cap(at + dt.timedelta(days=12))):
                services.assessment_approve(assessment=redone, by=staff[a.county.parent_id], comment="已核实。")
            continue
        if rng.random() >= verified_share:
            continue
        cut = 12 if number == padded else rng.choice([0, 0, 1, 2, 3])
        scores = {
            "utilization": a.score_utilization,
            "coverage": a.score_coverage,
            "satisfaction": max(a.score_satisfaction - cut, 0),
        }
        findings = (
            "满意度问卷部分为集中代填，核减满意度得分。" if cut >= 5 else "抽查获补助工会：支出凭证齐全，台账清楚。"
        )
        with clock.travel(at):
            services.spot_check_verify(check=check, scores=scores, findings=findings, by=province)


def seed_rounds(seed: int) -> EvaluationFigures:
    rng = random.Random(f"province-evaluation-{seed}")
    province = User.objects.get(username="province")
    staff: dict[str, User] = {}
    for user in User.objects.filter(role__in=["county_staff", "city_staff"]).order_by("-username"):
        staff[user.region_id] = user
    figures = EvaluationFigures()
    for year in STAGES:
        program = Program.objects.filter(owner_id="330000", year=year).first()
        if program is None:
            continue
        round_ = EvaluationRound.objects.filter(program=program).first()
        if round_ is None:
            with clock.travel(_moment(CALENDAR[year][0] - dt.timedelta(days=2))):
                round_ = services.round_create(program=program, by=province)
        responses = _surveys(rng, round_, staff, year)
        _workflow(rng, round_, staff, province, year)
        figures.rounds += 1
        figures.responses += responses
        figures.by_year[year] = {"responses": responses, "assessments": _status_counts(round_)}
    return figures


def _status_counts(round_: EvaluationRound) -> dict[str, int]:
    out = dict.fromkeys(AssessmentStatus.values, 0)
    for status in SelfAssessment.objects.filter(round=round_).values_list("status", flat=True):
        out[status] += 1
    out["spot_checks"] = SpotCheck.objects.filter(draw__round=round_).exclude(status=SpotCheckStatus.PENDING).count()
    return out
