"""Demo data of the evaluation app: the 2022 round with survey answers, county self-assessments at
several steps of the chain, a city review with an adjustment and a province spot-check.

Idempotent: the round is found again by program; steps already taken are skipped.
"""

import random

from grants.models import Allocation, Program
from members.models import User

from . import services
from .choices import Answer, AssessmentStatus
from .models import EvaluationRound, SelfAssessment, SpotCheck, SurveyResponse

# Most answers are positive, as in the policy's own reports; a few unions stay under the minimum.
ANSWER_WEIGHTS = [
    (Answer.VERY_SATISFIED, 45),
    (Answer.SATISFIED, 35),
    (Answer.NEUTRAL, 14),
    (Answer.DISSATISFIED, 4),
    (Answer.VERY_DISSATISFIED, 2),
]
NARRATIVE = (
    "本县（市、区）获补助的新业态基层工会均按照《新业态基层工会专项经费管理办法（试行）》使用资金，"
    "主要用于职工活动、技能培训、互助保障和劳动保护；资金拨付及时，支出凭证齐全。"
    "下一步将加强对满意度调查的组织，扩大样本覆盖面。"
)


def seed_evaluation(seed: int = 2022) -> None:
    program = Program.objects.filter(owner_id="330000", year=2022).first()
    if program is None:
        return
    province = User.objects.get(username="province")
    round_ = EvaluationRound.objects.filter(program=program).first() or services.round_create(
        program=program, by=province
    )
    rng = random.Random(f"evaluation-{seed}")
    answers, weights = zip(*ANSWER_WEIGHTS, strict=True)
    allocations = list(Allocation.objects.filter(program=program).select_related("union").order_by("id"))
    for index, allocation in enumerate(allocations):
        if SurveyResponse.objects.filter(round=round_, union=allocation.union).exists():
            continue
        county_staff = User.objects.filter(role="county_staff", region_id=allocation.county_id).first()
        count = 6 if index == 0 else rng.randrange(12, 40)  # the first stays under the minimum
        rows = [{"union": allocation.union_id, "answer": a} for a in rng.choices(answers, weights, k=count)]
        services.survey_responses_enter(round_=round_, rows=rows, by=county_staff)

    counties = sorted({a.county_id for a in allocations})
    for index, code in enumerate(counties):
        assessment = SelfAssessment.objects.get(round=round_, county_id=code)
        county_staff = User.objects.filter(role="county_staff", region_id=code).first()
        city_staff = User.objects.filter(role="city_staff", region_id=assessment.county.parent_id).first()
        if assessment.status == AssessmentStatus.DRAFT and index != len(counties) - 1:  # the last stays a draft
            assessment = services.assessment_submit(assessment=assessment, narrative=NARRATIVE, by=county_staff)
        if assessment.status == AssessmentStatus.SUBMITTED and city_staff and index % 3 != 2:
            adjustments = (
                {"satisfaction": {"score": "88.00", "reason": "补录了纸质问卷，核实后调整。"}} if index == 0 else None
            )
            services.assessment_approve(assessment=assessment, by=city_staff, adjustments=adjustments, comment="同意。")
    if (
        not SpotCheck.objects.filter(draw__round=round_).exists()
        and SelfAssessment.objects.filter(round=round_, status=AssessmentStatus.APPROVED).exists()
    ):
        draw = services.spot_check_draw(round_=round_, by=province, count=2, seed=20221231)
        first = draw.checks.select_related("assessment").first()
        scores = {
            "utilization": first.assessment.score_utilization,
            "coverage": first.assessment.score_coverage,
            "satisfaction": max(first.assessment.score_satisfaction - 12, 0),
        }
        services.spot_check_verify(
            check=first,
            scores=scores,
            findings="抽查 2 家获补助工会：支出凭证齐全；满意度问卷部分为集中代填，核减满意度得分。",
            by=province,
        )
