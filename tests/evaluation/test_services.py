"""The evaluation services (docs/rules.md §9): rounds, surveys, the self-assessment workflow, the city summary,
the province spot-check. Every transition with the right actor, and every refusal with what it leaves
unchanged. HTTP status codes for the same refusals are in ``test_api.py``."""

from collections import Counter
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from evaluation import indicators, services
from evaluation.choices import AssessmentStatus, ResponseSource, SpotCheckStatus
from evaluation.models import (
    AssessmentTransition,
    CitySummary,
    EvaluationRound,
    SelfAssessment,
    SpotCheck,
    SpotCheckDraw,
    SurveyInvite,
    SurveyResponse,
)
from members.models import Region
from tests.factories import (
    HANGZHOU,
    NINGBO,
    XIHU,
    YINZHOU,
    YUHANG,
    UnionFactory,
    answers,
    approve_assessment,
    assessment,
    make_program,
    spend,
    staff,
    submit,
)
from unionfunds.core.errors import ApplicationError
from unionfunds.core.models import AuditEvent

D = Decimal


def counties_of(city: str) -> list[str]:
    return sorted(Region.objects.filter(parent_id=city).values_list("code", flat=True))


def mark_approved(round_: EvaluationRound, cities: list[str] | None = None, score: str = "70.00") -> None:
    """Set-up shortcut for the draw: mark the counties of ``cities`` (all if None) approved with a score."""
    queryset = SelfAssessment.objects.filter(round=round_)
    if cities is not None:
        queryset = queryset.filter(county__parent_id__in=cities)
    queryset.update(
        status=AssessmentStatus.APPROVED, total_score=D(score), reviewed_score=D(score), final_score=D(score)
    )


def drawn_counties(draw: SpotCheckDraw) -> list[str]:
    return sorted(draw.checks.values_list("assessment__county_id", flat=True))


# ---------------------------------------------------------------- rounds


def test_round_creates_one_self_assessment_per_county_of_the_province(world, cast):
    round_ = services.round_create(program=world.program, by=cast.province)
    assessments = SelfAssessment.objects.filter(round=round_)
    assert assessments.count() == 90
    assert set(assessments.values_list("county_id", flat=True)) == set(
        Region.objects.filter(level="county").values_list("code", flat=True)
    )
    assert set(assessments.values_list("status", flat=True)) == {AssessmentStatus.DRAFT}
    assert round_.weights == {"utilization": D("0.3"), "coverage": D("0.2"), "satisfaction": D("0.5")}
    assert (round_.coverage_target, round_.min_responses) == (D("0.2"), 10)
    assert AuditEvent.objects.filter(action="evaluation.round_create").count() == 1


def test_round_of_a_city_program_covers_the_citys_counties(cast, regions):
    program = make_program(
        cast.hangzhou,
        owner=HANGZHOU,
        name="杭州市新就业形态工会补助",
        budget_total="1000000.00",
        funding_sources=[{"source": "union", "amount": "1000000.00"}],
        target_count=20,
        max_grant="50000.00",
    )
    round_ = services.round_create(program=program, by=cast.hangzhou)
    assert sorted(SelfAssessment.objects.filter(round=round_).values_list("county_id", flat=True)) == counties_of(
        HANGZHOU
    )
    assert len(counties_of(HANGZHOU)) == 13


@pytest.mark.parametrize(
    "weights",
    [
        {"utilization": "0.3", "coverage": "0.2", "satisfaction": "0.6"},
        {"utilization": "0.3", "coverage": "0.2", "satisfaction": "0.4"},
        {"utilization": "0.3", "coverage": "0.2"},
        {"utilization": "0.3", "coverage": "0.2", "satisfaction": "0.5", "speed": "0"},
        {"utilization": "-0.5", "coverage": "1", "satisfaction": "0.5"},
        {"utilization": "abc", "coverage": "0.5", "satisfaction": "0.5"},
        {"utilization": "0.3333", "coverage": "0.3333", "satisfaction": "0.3334"},
    ],
)
def test_bad_weights_are_refused_and_nothing_is_created(program, cast, weights):
    with pytest.raises(ValidationError) as refused:
        services.round_create(program=program, by=cast.province, weights=weights)
    assert "weights" in refused.value.message_dict
    assert not EvaluationRound.objects.exists()
    assert not SelfAssessment.objects.exists()


@pytest.mark.parametrize(
    "weights",
    [
        {"utilization": "0.1", "coverage": "0.2", "satisfaction": "0.7"},
        {"utilization": "0.333", "coverage": "0.333", "satisfaction": "0.334"},
        {"utilization": "0", "coverage": "0", "satisfaction": "1"},
    ],
)
def test_weights_that_sum_to_one_exactly_are_accepted(program, cast, weights):
    round_ = services.round_create(program=program, by=cast.province, weights=weights)
    round_.refresh_from_db()
    assert sum(round_.weights.values()) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("coverage_target", "0"), ("coverage_target", "1.5"), ("coverage_target", "x"), ("min_responses", 0)],
)
def test_bad_target_or_minimum_is_refused(program, cast, field, value):
    with pytest.raises(ValidationError) as refused:
        services.round_create(program=program, by=cast.province, **{field: value})
    assert field in refused.value.message_dict
    assert not EvaluationRound.objects.exists()


def test_a_second_round_for_the_same_program_is_refused(bare_round, cast):
    with pytest.raises(ValidationError) as refused:
        services.round_create(program=bare_round.program, by=cast.province)
    assert "program" in refused.value.message_dict
    assert EvaluationRound.objects.count() == 1
    assert SelfAssessment.objects.count() == 90


def test_only_the_programs_owner_opens_a_round(program, cast):
    for who in ("hangzhou", "xihu", "auditor", "officer", "city_auditor", "ningbo"):
        with pytest.raises(PermissionDenied):
            services.round_create(program=program, by=cast.users()[who])
    assert not EvaluationRound.objects.exists()


# ---------------------------------------------------------------- surveys


def test_survey_invite_for_a_subsidised_union(round_, cast):
    invite = services.survey_invite(round_=round_, union=cast.union_xihu, by=cast.xihu)
    again = services.survey_invite(round_=round_, union=cast.union_xihu, by=cast.hangzhou)
    assert invite.pk == again.pk
    assert 16 <= len(invite.token) <= SurveyInvite._meta.get_field("token").max_length


def test_survey_invites_are_created_by_federation_staff_only_and_audited(round_, cast):
    """Auditors only read; a union officer does not open the survey that scores their own union."""
    for who in ("auditor", "city_auditor", "officer"):
        with pytest.raises(PermissionDenied):
            services.survey_invite(round_=round_, union=cast.union_xihu, by=cast.users()[who])
    assert not SurveyInvite.objects.exists()
    assert not AuditEvent.objects.filter(action="evaluation.survey_invite").exists()
    invite = services.survey_invite(round_=round_, union=cast.union_xihu, by=cast.xihu)
    for who in ("hangzhou", "province"):  # the link exists: handed out again, not created or audited twice
        assert services.survey_invite(round_=round_, union=cast.union_xihu, by=cast.users()[who]) == invite
    event = AuditEvent.objects.get(action="evaluation.survey_invite")
    assert (event.actor, event.object_id) == (cast.xihu, str(invite.pk))
    assert invite.token not in str(event.after) + event.object_repr  # the link itself is not in the trail


def test_survey_invite_refused_for_an_unsubsidised_or_foreign_union(round_, cast):
    other = UnionFactory(county_id=XIHU)
    with pytest.raises(ValidationError):
        services.survey_invite(round_=round_, union=other, by=cast.xihu)
    with pytest.raises(Http404):
        services.survey_invite(round_=round_, union=cast.union_yinzhou, by=cast.xihu)
    assert not SurveyInvite.objects.exists()


def test_public_answer_once_per_device(round_, cast):
    invite = services.survey_invite(round_=round_, union=cast.union_xihu, by=cast.xihu)
    first = services.survey_answer_public(
        token=invite.token, answer="satisfied", comment=" 活动很好 ", device_token="device-1"
    )
    assert (first.score, first.source, first.comment) == (80, ResponseSource.WEB, "活动很好")
    assert "device-1" not in first.device  # only a keyed digest of the device cookie is kept
    with pytest.raises(ApplicationError) as refused:
        services.survey_answer_public(token=invite.token, answer="very_satisfied", comment="", device_token="device-1")
    assert refused.value.code == "already_answered"
    services.survey_answer_public(token=invite.token, answer="neutral", comment="", device_token="device-2")
    assert list(SurveyResponse.objects.order_by("id").values_list("score", flat=True)) == [80, 60]


def test_public_answer_refusals(round_, cast):
    invite = services.survey_invite(round_=round_, union=cast.union_xihu, by=cast.xihu)
    with pytest.raises(Http404):
        services.survey_answer_public(token="no-such-token", answer="satisfied", comment="", device_token="d")
    for bad in ("great", "", "100", None):
        with pytest.raises(ValidationError):
            services.survey_answer_public(token=invite.token, answer=bad, comment="", device_token="d")
    with pytest.raises(ValidationError):
        services.survey_answer_public(token=invite.token, answer="satisfied", comment="", device_token="")
    assert not SurveyResponse.objects.exists()


def test_answer_codes_of_the_contract(round_, cast):
    codes = ["very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied"]
    created = services.survey_responses_enter(
        round_=round_, rows=[{"union": cast.union_xihu.pk, "answer": code} for code in codes], by=cast.xihu
    )
    assert [(r.answer, r.score) for r in created] == list(zip(codes, [100, 80, 60, 40, 20], strict=True))
    assert {(r.source, r.entered_by_id, r.union_id) for r in created} == {
        (ResponseSource.PAPER, cast.xihu.pk, cast.union_xihu.pk)
    }
    assert AuditEvent.objects.filter(action="evaluation.survey_enter").count() == 1


def test_paper_entry_is_all_or_nothing_and_names_the_rows(round_, cast):
    unsubsidised = UnionFactory(county_id=XIHU)
    rows = [
        {"union": cast.union_xihu.pk, "answer": "satisfied"},
        {"union": cast.union_xihu.pk, "answer": "great"},
        {"union": cast.union_yinzhou.pk, "answer": "satisfied"},
        {"union": unsubsidised.pk, "answer": "neutral"},
        {"union": "abc", "answer": "neutral"},
        {"union": cast.union_xihu_other.pk, "answer": "neutral"},
    ]
    with pytest.raises(ValidationError) as refused:
        services.survey_responses_enter(round_=round_, rows=rows, by=cast.xihu)
    errors = {key: " ".join(messages) for key, messages in refused.value.message_dict.items()}
    assert set(errors) == {"1.answer", "2.union", "3.union", "4.union"}
    assert "第 2 条" in errors["1.answer"] and "great" in errors["1.answer"]
    assert "第 3 条" in errors["2.union"] and "管辖范围" in errors["2.union"]
    assert "第 4 条" in errors["3.union"] and "未获本项目补助" in errors["3.union"]
    assert "第 5 条" in errors["4.union"]
    assert not SurveyResponse.objects.exists()


def test_only_county_staff_enter_paper_answers(round_, cast):
    for who in ("province", "hangzhou", "officer", "auditor", "city_auditor"):
        with pytest.raises(PermissionDenied):
            services.survey_responses_enter(
                round_=round_, rows=[{"union": cast.union_xihu.pk, "answer": "satisfied"}], by=cast.users()[who]
            )
    assert not SurveyResponse.objects.exists()


def test_paper_entry_of_nothing_is_refused(bare_round, cast):
    with pytest.raises(ValidationError):
        services.survey_responses_enter(round_=bare_round, rows=[], by=cast.xihu)


# ---------------------------------------------------------------- self-assessment: submit


def test_submit_freezes_the_figures(answered, world, cast):
    submitted = submit(answered, XIHU, "西湖区自评：资金按计划使用。")
    assert submitted.status == AssessmentStatus.SUBMITTED
    assert (submitted.utilization_rate, submitted.coverage_rate, submitted.satisfaction) == (
        D("0.5500"),
        D("0.2500"),
        D("80.00"),
    )
    assert (submitted.score_utilization, submitted.score_coverage, submitted.score_satisfaction) == (
        D("55.00"),
        D("100.00"),
        D("80.00"),
    )
    assert (submitted.total_score, submitted.grade) == (D("76.50"), "中")
    assert submitted.narrative == "西湖区自评：资金按计划使用。"
    assert submitted.figures["allocated"] == "100000.00"
    assert submitted.flags == ["sample_too_small"]

    # Later records change the live figures, not the submitted ones.
    spend(world.xihu_b, "30000.00")
    answers(answered, cast.union_xihu, "very_dissatisfied")
    live = indicators.compute(answered, [XIHU])
    assert live.utilization_rate == D("0.8500")
    frozen = assessment(answered, XIHU)
    assert frozen.utilization_rate == D("0.5500")
    assert frozen.satisfaction == D("80.00")
    assert frozen.total_score == D("76.50")
    assert frozen.figures["spent"] == "55000.00"

    history = list(
        AssessmentTransition.objects.filter(assessment=frozen).values_list(
            "action", "from_status", "to_status", "actor"
        )
    )
    assert history == [("submit", "draft", "submitted", cast.xihu.pk)]
    assert AuditEvent.objects.filter(action="evaluation.submit").count() == 1


def test_submit_needs_a_narrative(bare_round, cast):
    with pytest.raises(ValidationError) as refused:
        services.assessment_submit(assessment=assessment(bare_round, XIHU), narrative="   ", by=cast.xihu)
    assert "narrative" in refused.value.message_dict
    unchanged = assessment(bare_round, XIHU)
    assert unchanged.status == AssessmentStatus.DRAFT and unchanged.total_score is None
    assert not AssessmentTransition.objects.exists()


def test_submit_by_a_role_that_may_not(bare_round, cast):
    for who in ("hangzhou", "province", "auditor", "city_auditor"):
        with pytest.raises(PermissionDenied):
            services.assessment_submit(assessment=assessment(bare_round, XIHU), narrative="说明", by=cast.users()[who])
    assert assessment(bare_round, XIHU).status == AssessmentStatus.DRAFT
    assert not AssessmentTransition.objects.exists()


def test_submit_out_of_scope_is_not_found(bare_round, cast):
    # A union officer is outside every self-assessment's scope, like another county.
    for who in ("yuhang", "yinzhou", "ningbo", "officer"):
        with pytest.raises(Http404):
            services.assessment_submit(assessment=assessment(bare_round, XIHU), narrative="说明", by=cast.users()[who])
    assert assessment(bare_round, XIHU).status == AssessmentStatus.DRAFT


def test_submit_twice_is_an_illegal_transition(bare_round, cast):
    submit(bare_round, XIHU)
    with pytest.raises(ApplicationError) as refused:
        submit(bare_round, XIHU)
    assert refused.value.code == "illegal_transition"
    assert AssessmentTransition.objects.count() == 1


# ---------------------------------------------------------------- city review


def test_approve_without_adjustments_keeps_the_self_assessed_score(answered, cast):
    submit(answered, XIHU)
    approved = approve_assessment(answered, XIHU, comment="同意。")
    assert approved.status == AssessmentStatus.APPROVED
    assert (approved.reviewed_score, approved.final_score, approved.final_grade) == (D("76.50"), D("76.50"), "中")
    assert approved.adjustments == {}
    assert "adjusted" not in approved.flags
    assert approved.history.last().comment == "同意。"


def test_approve_with_an_adjustment_recomputes_the_reviewed_score(answered, cast):
    submit(answered, XIHU)
    approved = approve_assessment(
        answered, XIHU, adjustments={"satisfaction": {"score": "90", "reason": "补充核实的纸质问卷"}}
    )
    # 0.5 × 90 + 0.3 × 55 + 0.2 × 100 = 45 + 16.5 + 20
    assert approved.reviewed_score == D("81.50")
    assert (approved.final_score, approved.final_grade) == (D("81.50"), "良")
    assert approved.total_score == D("76.50")  # the county's own score stays on record
    assert approved.adjustments == {"satisfaction": {"score": "90.00", "reason": "补充核实的纸质问卷"}}
    assert "adjusted" in approved.flags


@pytest.mark.parametrize(
    "adjustments",
    [
        {"satisfaction": {"score": "90", "reason": ""}},
        {"satisfaction": {"score": "90", "reason": "   "}},
        {"satisfaction": {"score": "90"}},
        {"satisfaction": {"score": "100.01", "reason": "理由"}},
        {"satisfaction": {"score": "-1", "reason": "理由"}},
        {"satisfaction": {"score": "abc", "reason": "理由"}},
        {"satisfaction": {"score": "80.123", "reason": "理由"}},
        {"speed": {"score": "90", "reason": "理由"}},
    ],
)
def test_bad_adjustments_are_refused_and_change_nothing(bare_round, cast, adjustments):
    submit(bare_round, XIHU)
    with pytest.raises(ValidationError) as refused:
        approve_assessment(bare_round, XIHU, adjustments=adjustments)
    assert "adjustments" in refused.value.message_dict
    unchanged = assessment(bare_round, XIHU)
    assert unchanged.status == AssessmentStatus.SUBMITTED
    assert unchanged.reviewed_score is None and unchanged.adjustments == {}
    assert AssessmentTransition.objects.filter(action="approve").count() == 0


def test_adjustment_at_the_bounds_is_accepted(round_, cast):
    submit(round_, XIHU)
    approved = approve_assessment(
        round_,
        XIHU,
        adjustments={
            "utilization": {"score": "0", "reason": "支出凭证不全"},
            "coverage": {"score": "100", "reason": "核实"},
        },
    )
    # Xihu without answers: S 0; 0.3 × 0 + 0.2 × 100 + 0.5 × 0
    assert approved.reviewed_score == D("20.00")


def test_approve_by_a_role_that_may_not(bare_round, cast):
    submit(bare_round, XIHU)
    for who in ("xihu", "province", "auditor", "city_auditor"):
        with pytest.raises(PermissionDenied):
            services.assessment_approve(assessment=assessment(bare_round, XIHU), by=cast.users()[who])
    assert assessment(bare_round, XIHU).status == AssessmentStatus.SUBMITTED


def test_approve_by_another_city_is_not_found(bare_round, cast):
    submit(bare_round, XIHU)
    for who in ("ningbo", "yinzhou", "yuhang", "officer"):
        with pytest.raises(Http404):
            services.assessment_approve(assessment=assessment(bare_round, XIHU), by=cast.users()[who])
    assert assessment(bare_round, XIHU).status == AssessmentStatus.SUBMITTED


def test_approve_a_draft_or_twice_is_an_illegal_transition(bare_round, cast):
    with pytest.raises(ApplicationError) as refused:
        approve_assessment(bare_round, XIHU)
    assert refused.value.code == "illegal_transition"
    submit(bare_round, XIHU)
    approve_assessment(bare_round, XIHU)
    with pytest.raises(ApplicationError) as refused:
        approve_assessment(bare_round, XIHU)
    assert refused.value.code == "illegal_transition"


def test_wrong_role_is_refused_before_bad_input(bare_round, cast):
    submit(bare_round, XIHU)
    with pytest.raises(PermissionDenied):
        services.assessment_approve(
            assessment=assessment(bare_round, XIHU), by=cast.xihu, adjustments={"speed": {"score": 1, "reason": ""}}
        )
    with pytest.raises(PermissionDenied):
        services.assessment_return(assessment=assessment(bare_round, XIHU), by=cast.xihu, comment="")


def test_return_needs_a_comment_and_goes_back_to_draft(answered, cast):
    submit(answered, XIHU)
    with pytest.raises(ValidationError) as refused:
        services.assessment_return(assessment=assessment(answered, XIHU), by=cast.hangzhou, comment="  ")
    assert "comment" in refused.value.message_dict
    assert assessment(answered, XIHU).status == AssessmentStatus.SUBMITTED

    returned = services.assessment_return(
        assessment=assessment(answered, XIHU), by=cast.hangzhou, comment="请补充满意度调查样本。"
    )
    assert returned.status == AssessmentStatus.DRAFT
    assert returned.history.last().comment == "请补充满意度调查样本。"
    # The county answers the comment and submits again: figures are computed afresh.
    answers(answered, cast.union_xihu, *["very_satisfied"] * 8)
    answers(answered, cast.union_xihu_other, *["very_satisfied"] * 8)
    resubmitted = submit(answered, XIHU)
    # S = (320 + 1600) / 20 = 96
    assert resubmitted.satisfaction == D("96.00")
    assert "sample_too_small" not in resubmitted.flags
    actions = list(resubmitted.history.values_list("action", flat=True))
    assert actions == ["submit", "return", "submit"]


def test_return_refusals(bare_round, cast):
    round_ = bare_round
    with pytest.raises(ApplicationError):  # a draft cannot be returned
        services.assessment_return(assessment=assessment(round_, XIHU), by=cast.hangzhou, comment="退回")
    submit(round_, XIHU)
    with pytest.raises(PermissionDenied):
        services.assessment_return(assessment=assessment(round_, XIHU), by=cast.xihu, comment="退回")
    with pytest.raises(Http404):
        services.assessment_return(assessment=assessment(round_, XIHU), by=cast.ningbo, comment="退回")
    approve_assessment(round_, XIHU)
    # Once approved, only the province may send it back down.
    with pytest.raises(ApplicationError) as refused:
        services.assessment_return(assessment=assessment(round_, XIHU), by=cast.hangzhou, comment="退回")
    assert refused.value.code == "illegal_transition"
    returned = services.assessment_return(assessment=assessment(round_, XIHU), by=cast.province, comment="抽查发现问题")
    assert returned.status == AssessmentStatus.DRAFT
    assert (returned.reviewed_score, returned.final_score, returned.final_grade) == (None, None, "")


def test_city_summary_waits_for_every_county_of_the_city(answered, cast):
    hangzhou_counties = counties_of(HANGZHOU)
    submit(answered, XIHU)
    approve_assessment(answered, XIHU)
    with pytest.raises(ApplicationError) as refused:
        services.city_summary_complete(round_=answered, by=cast.hangzhou, narrative="全市总结")
    assert refused.value.code == "counties_pending"
    assert set(refused.value.extra["pending"]) == set(hangzhou_counties) - {XIHU}
    assert "余杭区" in refused.value.detail and "西湖区" not in refused.value.detail
    assert not CitySummary.objects.exists()

    for code in hangzhou_counties:
        if code != XIHU:
            submit(answered, code)
    # Submitted is not enough: approved is.
    with pytest.raises(ApplicationError):
        services.city_summary_complete(round_=answered, by=cast.hangzhou)
    for code in hangzhou_counties:
        if code != XIHU:
            approve_assessment(answered, code)
    summary = services.city_summary_complete(round_=answered, by=cast.hangzhou, narrative="全市总结")
    assert summary.city_id == HANGZHOU
    assert summary.figures["total_score"] == "77.67"  # computed over the city (see test_indicators)
    # Ningbo's counties are not Hangzhou's business, and Ningbo still waits for its own.
    with pytest.raises(ApplicationError) as refused:
        services.city_summary_complete(round_=answered, by=cast.ningbo)
    assert set(refused.value.extra["pending"]) == set(counties_of(NINGBO))


def test_only_city_staff_complete_a_city_summary(bare_round, cast):
    for who in ("province", "xihu", "auditor", "city_auditor", "officer"):
        with pytest.raises(PermissionDenied):
            services.city_summary_complete(round_=bare_round, by=cast.users()[who])
    assert not CitySummary.objects.exists()


def test_city_summary_of_another_citys_round_is_not_found(cast, regions):
    program = make_program(
        cast.ningbo,
        owner=NINGBO,
        name="宁波市新就业形态工会补助",
        budget_total="1000000.00",
        funding_sources=[{"source": "union", "amount": "1000000.00"}],
        target_count=20,
        max_grant="50000.00",
    )
    ningbo_round = services.round_create(program=program, by=cast.ningbo)
    with pytest.raises(Http404):
        services.city_summary_complete(round_=ningbo_round, by=cast.hangzhou)
    assert not CitySummary.objects.exists()


# ---------------------------------------------------------------- the seeded draw


def population(round_: EvaluationRound) -> list[tuple[int, str]]:
    return list(
        SelfAssessment.objects.filter(round=round_, status=AssessmentStatus.APPROVED).values_list(
            "pk", "county__parent_id"
        )
    )


def test_same_seed_same_data_same_counties(bare_round, cast):
    round_ = bare_round
    mark_approved(round_)
    first = services.spot_check_draw(round_=round_, by=cast.province, count=12, seed=20240601)
    second = services.spot_check_draw(round_=round_, by=cast.province, count=12, seed=20240601)
    assert drawn_counties(first) == drawn_counties(second)
    assert len(drawn_counties(first)) == 12
    assert (first.seed, first.count) == (20240601, 12)
    assert sorted(first.population) == sorted(SelfAssessment.objects.filter(round=round_).values_list("pk", flat=True))
    # The draw is reproducible from the stored seed and population alone.
    assert services.draw_sample(population(round_), first.count, first.seed) == sorted(
        first.checks.values_list("assessment_id", flat=True)
    )


def test_different_seeds_usually_draw_different_counties(bare_round):
    round_ = bare_round
    mark_approved(round_)
    people = population(round_)
    samples = {tuple(services.draw_sample(people, 12, seed)) for seed in range(20)}
    assert len(samples) >= 15


def test_the_draw_does_not_depend_on_the_order_it_is_given(bare_round):
    round_ = bare_round
    mark_approved(round_)
    people = population(round_)
    assert services.draw_sample(people, 15, 7) == services.draw_sample(list(reversed(people)), 15, 7)


@pytest.mark.parametrize("count", [11, 12, 30])
def test_every_city_gets_a_county_when_the_count_allows(bare_round, count):
    round_ = bare_round
    mark_approved(round_)
    people = population(round_)
    city_of = dict(people)
    for seed in range(10):
        chosen = services.draw_sample(people, count, seed)
        assert len(set(chosen)) == count
        per_city = Counter(city_of[pk] for pk in chosen)
        assert len(per_city) == 11
        if count == 11:
            assert set(per_city.values()) == {1}


def test_stratification_counts_only_cities_with_approved_counties(bare_round, cast):
    round_ = bare_round
    mark_approved(round_, cities=[HANGZHOU, NINGBO, "330300"])
    draw = services.spot_check_draw(round_=round_, by=cast.province, count=3, seed=5)
    cities = Counter(code[:4] + "00" for code in drawn_counties(draw))
    assert cities == {HANGZHOU: 1, NINGBO: 1, "330300": 1}


def test_fewer_than_the_cities_draws_from_distinct_cities(bare_round):
    round_ = bare_round
    mark_approved(round_)
    people = population(round_)
    city_of = dict(people)
    for seed in range(10):
        chosen = services.draw_sample(people, 5, seed)
        assert len({city_of[pk] for pk in chosen}) == 5


def test_ratio_rounds_up(bare_round, cast):
    round_ = bare_round
    mark_approved(round_)
    draw = services.spot_check_draw(round_=round_, by=cast.province, ratio="0.1", seed=1)
    assert draw.count == 9 and draw.checks.count() == 9  # ⌈0.1 × 90⌉
    draw = services.spot_check_draw(round_=round_, by=cast.province, ratio="0.001", seed=1)
    assert draw.count == 1


def test_without_a_seed_one_is_chosen_and_stored(bare_round, cast):
    round_ = bare_round
    mark_approved(round_, cities=[HANGZHOU])
    draw = services.spot_check_draw(round_=round_, by=cast.province, count=2)
    assert draw.seed > 0
    assert services.draw_sample(population(round_), 2, draw.seed) == sorted(
        draw.checks.values_list("assessment_id", flat=True)
    )


@pytest.mark.parametrize(
    "params",
    [
        {"count": 0},
        {"count": -1},
        {"count": 91},
        {"count": 2, "ratio": "0.1"},
        {},
        {"ratio": "0"},
        {"ratio": "1.5"},
        {"ratio": "abc"},
    ],
)
def test_count_and_ratio_are_validated(bare_round, cast, params):
    round_ = bare_round
    mark_approved(round_)
    with pytest.raises(ValidationError):
        services.spot_check_draw(round_=round_, by=cast.province, seed=1, **params)
    assert not SpotCheckDraw.objects.exists()


def test_nothing_approved_nothing_to_draw(bare_round, cast):
    round_ = bare_round
    with pytest.raises(ApplicationError) as refused:
        services.spot_check_draw(round_=round_, by=cast.province, count=1, seed=1)
    assert refused.value.code == "nothing_to_draw"


def test_only_the_province_draws(bare_round, cast):
    mark_approved(bare_round)
    for who in ("hangzhou", "xihu", "auditor", "city_auditor", "officer"):
        with pytest.raises(PermissionDenied):
            services.spot_check_draw(round_=bare_round, by=cast.users()[who], count=1, seed=1)
    assert not SpotCheckDraw.objects.exists()


# ---------------------------------------------------------------- verification and final score


@pytest.fixture
def checked(answered, cast) -> SpotCheck:
    """Xihu submitted (76.50), approved by Hangzhou as is, and drawn (the only approved county)."""
    submit(answered, XIHU)
    approve_assessment(answered, XIHU)
    submit(answered, YUHANG)
    approve_assessment(answered, YUHANG)
    draw = services.spot_check_draw(round_=answered, by=cast.province, count=1, seed=3)
    draw_check = draw.checks.get()
    if draw_check.assessment.county_id != XIHU:
        draw = services.spot_check_draw(round_=answered, by=cast.province, count=2, seed=3)
        draw_check = draw.checks.get(assessment__county_id=XIHU)
    return draw_check


def verify(check, u, c, s, findings="抽查了支出凭证和问卷。", by=None):
    return services.spot_check_verify(
        check=check,
        scores={"utilization": u, "coverage": c, "satisfaction": s},
        findings=findings,
        by=by or check.draw.drawn_by,
    )


def test_verified_score_becomes_the_final_score(checked):
    verified = verify(checked, "55", "100", "78")
    # 0.3 × 55 + 0.2 × 100 + 0.5 × 78 = 16.5 + 20 + 39 = 75.50, 1.00 below the reviewed 76.50
    assert verified.status == SpotCheckStatus.VERIFIED
    assert (verified.verified_score, verified.difference, verified.flagged) == (D("75.50"), D("-1.00"), False)
    xihu = assessment(checked.draw.round, XIHU)
    assert (xihu.reviewed_score, xihu.final_score, xihu.final_grade) == (D("76.50"), D("75.50"), "中")
    assert "spot_check_difference" not in xihu.flags
    # Yuhang was not spot-checked: its final score is the city-reviewed one.
    yuhang = assessment(checked.draw.round, YUHANG)
    assert yuhang.final_score == yuhang.reviewed_score == D("40.00")


def test_exactly_five_points_is_not_flagged(checked):
    verified = verify(checked, "55", "100", "70")  # 16.5 + 20 + 35 = 71.50: −5.00
    assert (verified.difference, verified.flagged) == (D("-5.00"), False)


def test_more_than_five_points_is_flagged(checked):
    verified = verify(checked, "55", "100", "69.98")  # 16.5 + 20 + 34.99 = 71.49: −5.01
    assert (verified.verified_score, verified.difference, verified.flagged) == (D("71.49"), D("-5.01"), True)
    xihu = assessment(checked.draw.round, XIHU)
    assert "spot_check_difference" in xihu.flags
    assert (xihu.final_score, xihu.final_grade) == (D("71.49"), "中")


def test_a_higher_verified_score_is_flagged_too(checked):
    verified = verify(checked, "100", "100", "90")  # 30 + 20 + 45 = 95: +18.50
    assert (verified.difference, verified.flagged) == (D("18.50"), True)
    assert assessment(checked.draw.round, XIHU).final_grade == "优"


def test_verify_refusals(checked, cast):
    with pytest.raises(PermissionDenied):
        verify(checked, "55", "100", "78", by=cast.hangzhou)
    with pytest.raises(Http404):
        verify(checked, "55", "100", "78", by=cast.yinzhou)
    with pytest.raises(ValidationError):
        verify(checked, "55", "100", "78", findings=" ")
    with pytest.raises(ValidationError):
        services.spot_check_verify(check=checked, scores={"utilization": "55"}, findings="x", by=cast.province)
    with pytest.raises(ValidationError):
        verify(checked, "55", "100", "101")
    checked.refresh_from_db()
    assert checked.status == SpotCheckStatus.PENDING and checked.verified_score is None
    verify(checked, "55", "100", "78")
    with pytest.raises(ApplicationError) as refused:
        verify(checked, "55", "100", "78")
    assert refused.value.code == "illegal_transition"


def test_send_back_returns_the_assessment_to_draft(checked, cast):
    sent = services.spot_check_send_back(check=checked, comment="问卷样本不足，请重新自评。", by=cast.province)
    assert sent.status == SpotCheckStatus.SENT_BACK
    assert sent.findings == "问卷样本不足，请重新自评。"
    xihu = assessment(checked.draw.round, XIHU)
    assert xihu.status == AssessmentStatus.DRAFT
    assert (xihu.reviewed_score, xihu.final_score) == (None, None)
    assert xihu.history.last().actor_id == cast.province.pk
    # The check is closed; the county can submit again.
    with pytest.raises(ApplicationError):
        services.spot_check_send_back(check=checked, comment="再次退回", by=cast.province)
    assert submit(checked.draw.round, XIHU).status == AssessmentStatus.SUBMITTED


def test_send_back_needs_a_comment_and_the_province(checked, cast):
    with pytest.raises(ValidationError):
        services.spot_check_send_back(check=checked, comment="", by=cast.province)
    with pytest.raises(PermissionDenied):
        services.spot_check_send_back(check=checked, comment="退回", by=cast.hangzhou)
    with pytest.raises(PermissionDenied):
        services.spot_check_send_back(check=checked, comment="退回", by=cast.auditor)
    checked.refresh_from_db()
    assert checked.status == SpotCheckStatus.PENDING
    assert assessment(checked.draw.round, XIHU).status == AssessmentStatus.APPROVED


def test_staff_helper_is_the_casts_county_user(cast, regions):
    # The helpers act as the cast's own accounts, so scope follows the cast.
    assert staff(XIHU) == cast.xihu and staff(YINZHOU) == cast.yinzhou and staff(HANGZHOU) == cast.hangzhou


# ---------------------------------------------------------------- lost report messages


def test_a_report_job_whose_message_was_lost_is_sent_again_when_asked_again(
    cast, bare_round, settings, django_capture_on_commit_callbacks
):
    """Queued long past the broker's visibility timeout: the message is gone (Redis lost it), so asking
    again re-sends the same job instead of pointing at a job no worker will ever take."""
    import datetime as dt
    from unittest import mock

    from evaluation.models import ReportJob

    settings.CELERY_VISIBILITY_TIMEOUT = 900
    with mock.patch("evaluation.tasks.enqueue_report") as enqueue:
        with django_capture_on_commit_callbacks(execute=True):
            job, created = services.report_request(
                kind="province", round_=bare_round, region="330000", by=cast.province
            )
        assert created and enqueue.call_count == 1
        # Asked again at once: the same job, not sent twice.
        with django_capture_on_commit_callbacks(execute=True):
            again, created = services.report_request(
                kind="province", round_=bare_round, region="330000", by=cast.auditor
            )
        assert (again.pk, created, enqueue.call_count) == (job.pk, False, 1)
        # Twenty-six minutes later still queued (15 min visibility timeout + 10 min grace): lost, sent again.
        ReportJob.objects.filter(pk=job.pk).update(requested_at=job.requested_at - dt.timedelta(minutes=26))
        with django_capture_on_commit_callbacks(execute=True):
            again, created = services.report_request(
                kind="province", round_=bare_round, region="330000", by=cast.auditor
            )
        assert (again.pk, created, enqueue.call_count) == (job.pk, False, 2)
        enqueue.assert_called_with(job.pk)
    assert ReportJob.objects.count() == 1
    assert AuditEvent.objects.filter(action="report.resend", object_id=str(job.pk)).count() == 1


def test_paper_entry_takes_at_most_2000_answers_at_a_time(round_, cast):
    """A bound on one submission (documented in the user guide): past it the whole batch is refused,
    naming the field and the cap, before a row is looked at."""
    row = {"union": cast.union_xihu.pk, "answer": "satisfied"}
    with pytest.raises(ValidationError) as refused:
        services.survey_responses_enter(round_=round_, rows=[row] * 2001, by=cast.xihu)
    assert set(refused.value.message_dict) == {"responses"}
    assert "2000" in refused.value.message_dict["responses"][0]
    assert not SurveyResponse.objects.exists()
    assert len(services.survey_responses_enter(round_=round_, rows=[row] * 2000, by=cast.xihu)) == 2000
