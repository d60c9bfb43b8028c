"""Every write of the evaluation app (SPEC §4): rounds, survey answers, self-assessments and their
review, the province spot-check, report requests. Each checks role and scope, validates, writes and
audits in one transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from grants.models import Allocation, Program
from grants.services import PROGRAM_NOT_FOUND
from members.choices import RegionLevel, Role
from members.models import Region, Union, User
from unionfunds.core import clock
from unionfunds.core.audit import audit_record
from unionfunds.core.errors import ApplicationError
from unionfunds.core.identifiers import mask_personal_text
from unionfunds.core.tables import TableError, cell_text, read_table
from unionfunds.core.uploads import check_upload, display_file_name, too_large_message

from . import indicators, permissions
from .choices import ANSWER_SCORES, Answer, AssessmentStatus, Indicator, ReportKind, ResponseSource, SpotCheckStatus
from .models import (
    AssessmentTransition,
    CitySummary,
    EvaluationRound,
    EvidenceFile,
    ReportJob,
    SelfAssessment,
    SpotCheck,
    SpotCheckDraw,
    SurveyInvite,
    SurveyResponse,
)
from .workflows import ASSESSMENT_WORKFLOW

FLAG_DIFFERENCE = Decimal(5)
# Answers one paper entry, import or API request may carry: a county types in a union's stack of forms at a
# time, a few hundred at most; a bound keeps one request from tying up a worker (docs/guide).
SURVEY_ENTRY_MAX = 2000
# A draw's seed is stored (BigIntegerField); the API and the page take it up to this.
MAX_SEED = 2**62
# Refusals given in more than one place (services, the survey page, the API), in one wording.
COOKIES_NEEDED = gettext_lazy("请允许浏览器保存 Cookie 后再提交。")
ALREADY_ANSWERED = gettext_lazy("您已经提交过本次调查，感谢参与！")
COUNT_OR_RATIO = gettext_lazy("请给出抽查数量 count 或比例 ratio 之一。")
CHECK_CLOSED = gettext_lazy("该抽查已办结。")


def _deny(allowed: bool, reason: str) -> None:
    if not allowed:
        raise PermissionDenied(reason)


def _decimal(value: Any, field: str, *, low: Decimal, high: Decimal, places: int = 3) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("「%(value)s」不是有效数字。") % {"value": value}}) from None
    if not number.is_finite() or not low <= number <= high:
        raise ValidationError({field: _("应在 %(low)s 到 %(high)s 之间。") % {"low": low, "high": high}})
    if number != round(number, places):
        raise ValidationError(
            {field: ngettext("最多 %(places)d 位小数。", "最多 %(places)d 位小数。", places) % {"places": places}}
        )
    return number


def counties_under(region: Region) -> list[str]:
    if region.level == RegionLevel.COUNTY:
        return [region.code]
    if region.level == RegionLevel.CITY:
        return list(Region.objects.filter(parent=region).values_list("code", flat=True))
    return list(Region.objects.filter(parent__parent=region).values_list("code", flat=True))


# ---------------------------------------------------------------- rounds


@transaction.atomic
def round_create(
    *,
    program: Program | int,
    by: User,
    coverage_target: Any = "0.2",
    min_responses: Any = 10,
    weights: Mapping[str, Any] | None = None,
) -> EvaluationRound:
    """Open the evaluation of a program year; creates one self-assessment per county of the owner."""
    program = Program.objects.for_user(by).filter(pk=getattr(program, "pk", program)).select_related("owner").first()
    if program is None:
        raise ValidationError({"program": str(PROGRAM_NOT_FOUND)})
    _deny(
        by.role in (Role.PROVINCE_STAFF, Role.CITY_STAFF, Role.COUNTY_STAFF) and by.region_id == program.owner_id,
        _("只有项目主管单位可以开展绩效评价。"),
    )
    if EvaluationRound.objects.filter(program=program).exists():
        raise ValidationError({"program": _("该项目已开展绩效评价。")})
    weights = dict(weights or {"utilization": "0.3", "coverage": "0.2", "satisfaction": "0.5"})
    unknown = set(weights) - {i.value for i in Indicator}
    missing = {i.value for i in Indicator} - set(weights)
    if unknown or missing:
        raise ValidationError({"weights": _("权重应包含且仅包含 utilization、coverage、satisfaction 三项。")})
    parsed = {k: _decimal(v, "weights", low=Decimal(0), high=Decimal(1)) for k, v in weights.items()}
    if sum(parsed.values()) != 1:
        raise ValidationError({"weights": _("三项权重之和应为 1，现为 %(sum)s。") % {"sum": sum(parsed.values())}})
    try:
        minimum = int(min_responses)
    except (TypeError, ValueError):
        minimum = 0
    if minimum < 1:
        raise ValidationError({"min_responses": _("应为正整数。")})
    round_ = EvaluationRound(
        program=program,
        coverage_target=_decimal(coverage_target, "coverage_target", low=Decimal("0.001"), high=Decimal(1)),
        min_responses=minimum,
        weight_utilization=parsed["utilization"],
        weight_coverage=parsed["coverage"],
        weight_satisfaction=parsed["satisfaction"],
        created_by=by,
    )
    round_.full_clean()
    round_.save()
    counties = Region.objects.filter(code__in=counties_under(program.owner)).order_by("code")
    SelfAssessment.objects.bulk_create(SelfAssessment(round=round_, county=c) for c in counties)
    audit_record(
        action="evaluation.round_create",
        obj=round_,
        by=by,
        after={
            "program": program.pk,
            "weights": parsed,
            "coverage_target": round_.coverage_target,
            "counties": len(counties),
        },
    )
    return round_


def subsidised_union_ids(round_: EvaluationRound) -> set[int]:
    return set(Allocation.objects.filter(program_id=round_.program_id).values_list("union_id", flat=True))


@transaction.atomic
def survey_invite(*, round_: EvaluationRound, union: Union, by: User) -> SurveyInvite:
    """The public survey link of a subsidised union (created on first request, audited then)."""
    if not Union.objects.for_user(by).filter(pk=union.pk).exists():
        raise Http404
    _deny(*permissions.can_create_survey_invite(by, union))
    if union.pk not in subsidised_union_ids(round_):
        raise ValidationError({"union": _("该工会未获本项目补助，不需要满意度调查。")})
    invite, created = SurveyInvite.objects.get_or_create(round=round_, union=union)
    if created:
        audit_record(
            action="evaluation.survey_invite", obj=invite, by=by, after={"round": round_.pk, "union": union.pk}
        )
    return invite


# ---------------------------------------------------------------- surveys


def device_digest(device_token: str) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}:{device_token}".encode()).hexdigest()


@transaction.atomic
def survey_answer_public(*, token: str, answer: str, comment: str, device_token: str) -> SurveyResponse:
    """A member answers on the public page; one answer per device, union and round."""
    invite = SurveyInvite.objects.select_related("round", "union").filter(token=token).first()
    if invite is None:
        raise Http404
    if answer not in Answer.values:
        raise ValidationError({"answer": _("请选择满意程度。")})
    if not device_token:
        raise ValidationError({"answer": str(COOKIES_NEEDED)})
    digest = device_digest(device_token)
    if SurveyResponse.objects.filter(round=invite.round, union=invite.union, device=digest).exists():
        raise ApplicationError("already_answered", str(ALREADY_ANSWERED))
    try:
        with transaction.atomic():
            response = SurveyResponse.objects.create(
                round=invite.round,
                union=invite.union,
                answer=answer,
                score=int(ANSWER_SCORES[answer]),
                comment=(comment or "").strip()[:500],
                source=ResponseSource.WEB,
                device=digest,
            )
    except IntegrityError:
        raise ApplicationError("already_answered", str(ALREADY_ANSWERED)) from None
    return response


def survey_batch_check(count: int, field: str = "responses") -> None:
    """Refuse a batch of more than ``SURVEY_ENTRY_MAX`` answers as a whole, naming ``field``."""
    if count > SURVEY_ENTRY_MAX:
        raise ValidationError(
            {
                field: ngettext(
                    "一次最多录入 %(max)d 份答卷，本次有 %(n)d 份，请分批录入。",
                    "一次最多录入 %(max)d 份答卷，本次有 %(n)d 份，请分批录入。",
                    count,
                )
                % {"max": SURVEY_ENTRY_MAX, "n": count}
            }
        )


def check_survey_entry(by: User) -> None:
    """Only county staff type in or import paper answers; PermissionDenied for anyone else."""
    _deny(by.role == Role.COUNTY_STAFF, _("只有县（市、区）总工会可以录入纸质问卷。"))


@transaction.atomic
def survey_responses_enter(
    *,
    round_: EvaluationRound,
    rows: Sequence[Mapping[str, Any]],
    by: User,
    source: str = ResponseSource.PAPER,
    row_names: Sequence[str] | None = None,
) -> list[SurveyResponse]:
    """Paper answers typed in by county staff (or imported): all rows or none, errors by row index."""
    check_survey_entry(by)
    if not rows:
        raise ValidationError({"responses": _("没有答卷。")})
    survey_batch_check(len(rows))
    in_scope = set(Union.objects.for_user(by).values_list("pk", flat=True))
    subsidised = subsidised_union_ids(round_)
    errors: dict[str, str] = {}

    def name(index: int) -> str:  # how a row is called in messages: 第 3 条 (a list) or 第 5 行 (a sheet)
        return row_names[index] if row_names else _("第 %(n)d 条") % {"n": index + 1}

    objects = []
    for index, row in enumerate(rows):
        try:
            union_id = int(row.get("union"))
        except (TypeError, ValueError):
            errors[f"{index}.union"] = _("%(row)s：工会编号无效。") % {"row": name(index)}
            continue
        answer = row.get("answer")
        if union_id not in in_scope:
            errors[f"{index}.union"] = _("%(row)s：工会 %(union)s 不存在或不在您的管辖范围内。") % {
                "row": name(index),
                "union": union_id,
            }
        elif union_id not in subsidised:
            errors[f"{index}.union"] = _("%(row)s：工会 %(union)s 未获本项目补助。") % {
                "row": name(index),
                "union": union_id,
            }
        if answer not in Answer.values:
            errors[f"{index}.answer"] = _("%(row)s：满意度「%(answer)s」应为 %(choices)s 之一。") % {
                "row": name(index),
                "answer": mask_personal_text(str(answer)),
                "choices": pgettext("list separator", "、").join(Answer.values),
            }
        if f"{index}.union" in errors or f"{index}.answer" in errors:
            continue
        objects.append(
            SurveyResponse(
                round=round_,
                union_id=union_id,
                answer=answer,
                score=int(ANSWER_SCORES[answer]),
                comment=str(row.get("comment") or "")[:500],
                source=source,
                entered_by=by,
            )
        )
    if errors:
        raise ValidationError(errors)
    created = SurveyResponse.objects.bulk_create(objects)
    audit_record(
        action="evaluation.survey_enter",
        obj=round_,
        by=by,
        after={"count": len(created), "source": source, "unions": sorted({o.union_id for o in objects})},
    )
    return created


# ---------------------------------------------------------------- self-assessments


def _assessment_in_scope(pk: int, by: User) -> SelfAssessment:
    try:
        return (
            SelfAssessment.objects.for_user(by)
            .select_for_update(of=("self",))
            .select_related("round__program", "county__parent")
            .get(pk=pk)
        )
    except SelfAssessment.DoesNotExist:
        raise Http404 from None


def _transition(assessment: SelfAssessment, action: str, by: User, comment: str = "") -> str:
    before = assessment.status
    assessment.status = ASSESSMENT_WORKFLOW.apply(assessment.status, action, by.role)
    AssessmentTransition.objects.create(
        assessment=assessment, action=action, from_status=before, to_status=assessment.status, actor=by, comment=comment
    )
    return before


@transaction.atomic
def assessment_submit(*, assessment: SelfAssessment, narrative: str, by: User) -> SelfAssessment:
    """The county submits: figures computed from recorded data and frozen with its narrative."""
    assessment = _assessment_in_scope(assessment.pk, by)
    narrative = (narrative or "").strip()
    before = _transition(assessment, "submit", by)  # role and state first; a refusal below rolls it back
    if not narrative:
        raise ValidationError({"narrative": _("请填写自评说明。")})
    figures = indicators.compute(assessment.round, [assessment.county_id])
    assessment.narrative = narrative
    assessment.utilization_rate = figures.utilization_rate
    assessment.coverage_rate = figures.coverage_rate
    assessment.satisfaction = figures.satisfaction
    assessment.score_utilization = figures.score_utilization
    assessment.score_coverage = figures.score_coverage
    assessment.score_satisfaction = figures.score_satisfaction
    assessment.total_score = figures.total_score
    assessment.grade = figures.grade
    assessment.figures = figures.as_json()
    assessment.flags = list(figures.flags)
    assessment.adjustments = {}
    assessment.reviewed_score = None
    assessment.final_score = None
    assessment.final_grade = ""
    assessment.submitted_at = clock.now()
    assessment.save()
    audit_record(
        action="evaluation.submit",
        obj=assessment,
        by=by,
        before={"status": before},
        after={"status": assessment.status, "total_score": assessment.total_score, "flags": assessment.flags},
    )
    return assessment


def _scores(assessment: SelfAssessment) -> dict[str, Decimal]:
    return {
        "utilization": assessment.score_utilization,
        "coverage": assessment.score_coverage,
        "satisfaction": assessment.score_satisfaction,
    }


@transaction.atomic
def assessment_approve(
    *,
    assessment: SelfAssessment,
    by: User,
    adjustments: Mapping[str, Mapping[str, Any]] | None = None,
    comment: str = "",
) -> SelfAssessment:
    """The city approves, optionally adjusting indicator scores; each adjustment needs a reason."""
    assessment = _assessment_in_scope(assessment.pk, by)
    before = _transition(assessment, "approve", by, comment)  # role and state first; a refusal below rolls back
    clean: dict[str, dict] = {}
    for indicator, change in (adjustments or {}).items():
        if indicator not in Indicator.values:
            raise ValidationError({"adjustments": _("未知指标「%(indicator)s」。") % {"indicator": indicator}})
        reason = str((change or {}).get("reason") or "").strip()
        if not reason:
            raise ValidationError(
                {
                    "adjustments": _("调整「%(indicator)s」得分必须说明理由。")
                    % {"indicator": Indicator(indicator).label}
                }
            )
        value = _decimal((change or {}).get("score"), "adjustments", low=Decimal(0), high=Decimal(100), places=2)
        clean[indicator] = {"score": str(value.quantize(Decimal("0.01"))), "reason": reason[:500]}
    scores = _scores(assessment)
    for indicator, change in clean.items():
        scores[indicator] = Decimal(change["score"])
    assessment.adjustments = clean
    assessment.reviewed_score = indicators.total_of(scores, assessment.round.weights)
    assessment.final_score = assessment.reviewed_score
    assessment.final_grade = indicators.grade_for(assessment.final_score)
    if clean and "adjusted" not in assessment.flags:
        assessment.flags = [*assessment.flags, "adjusted"]
    assessment.approved_at = clock.now()
    assessment.save()
    audit_record(
        action="evaluation.approve",
        obj=assessment,
        by=by,
        before={"status": before, "total_score": assessment.total_score},
        after={"status": assessment.status, "reviewed_score": assessment.reviewed_score, "adjustments": clean},
    )
    return assessment


@transaction.atomic
def assessment_return(*, assessment: SelfAssessment, by: User, comment: str) -> SelfAssessment:
    """The city returns a submitted assessment (or the province an approved one) to the county."""
    assessment = _assessment_in_scope(assessment.pk, by)
    comment = (comment or "").strip()
    before = _transition(assessment, "return", by, comment)  # role and state first; a refusal below rolls back
    if not comment:
        raise ValidationError({"comment": _("退回时必须填写意见。")})
    assessment.reviewed_score = None
    assessment.final_score = None
    assessment.final_grade = ""
    assessment.save()
    audit_record(
        action="evaluation.return",
        obj=assessment,
        by=by,
        before={"status": before},
        after={"status": assessment.status, "comment": comment},
    )
    return assessment


@transaction.atomic
def city_summary_complete(*, round_: EvaluationRound, by: User, narrative: str = "") -> CitySummary:
    """A city's own summary, possible only when every county of the city is approved."""
    _deny(by.role == Role.CITY_STAFF, _("只有市总工会可以完成市级审核评价。"))
    if not EvaluationRound.objects.for_user(by).filter(pk=round_.pk).exists():
        raise Http404
    city = by.region
    pending = list(
        SelfAssessment.objects.filter(round=round_, county__parent=city)
        .exclude(status=AssessmentStatus.APPROVED)
        .select_related("county")
    )
    if pending:
        raise ApplicationError(
            "counties_pending",
            _("尚有县（市、区）未审核通过：%(counties)s")
            % {"counties": pgettext("list separator", "、").join(a.county.name for a in pending)},
            extra={"pending": [a.county_id for a in pending]},
        )
    figures = indicators.compute(round_, counties_under(city))
    summary, _created = CitySummary.objects.update_or_create(
        round=round_,
        city=city,
        defaults={
            "narrative": narrative,
            "figures": figures.as_json(),
            "completed_by": by,
            "completed_at": clock.now(),
        },
    )
    audit_record(action="evaluation.city_summary", obj=summary, by=by, after={"total_score": str(figures.total_score)})
    return summary


# ---------------------------------------------------------------- spot-checks


def draw_sample(population: Sequence[tuple[int, str]], count: int, seed: int) -> list[int]:
    """Reproducible stratified draw of ``count`` ids from (id, city) pairs.

    When ``count`` is at least the number of cities, each city gets one county first (drawn within
    the city), then the rest is drawn from what remains; otherwise ``count`` cities are drawn and one
    county from each. Same seed and same population, same sample.
    """
    rng = random.Random(seed)
    ordered = sorted(population)
    by_city: dict[str, list[int]] = {}
    for item_id, city in ordered:
        by_city.setdefault(city, []).append(item_id)
    cities = sorted(by_city)
    if count >= len(cities):
        chosen = [rng.choice(by_city[c]) for c in cities]
        rest = [i for i, _ in ordered if i not in set(chosen)]
        chosen += rng.sample(rest, min(count - len(chosen), len(rest)))
    else:
        chosen = [rng.choice(by_city[c]) for c in rng.sample(cities, count)]
    return sorted(chosen)


@transaction.atomic
def spot_check_draw(
    *, round_: EvaluationRound, by: User, count: int | None = None, ratio: Any = None, seed: int | None = None
) -> SpotCheckDraw:
    _deny(by.role == Role.PROVINCE_STAFF, _("只有省总工会可以开展抽查。"))
    EvaluationRound.objects.select_for_update().get(pk=round_.pk)
    population = list(
        SelfAssessment.objects.filter(round=round_, status=AssessmentStatus.APPROVED).values_list(
            "pk", "county__parent_id"
        )
    )
    if not population:
        raise ApplicationError("nothing_to_draw", _("尚无市级审核通过的县（市、区），无法抽查。"))
    if (count is None) == (ratio is None):
        raise ValidationError({"count": str(COUNT_OR_RATIO)})
    if ratio is not None:
        share = _decimal(ratio, "ratio", low=Decimal("0.001"), high=Decimal(1))
        count = max(1, math.ceil(share * len(population)))
    if not isinstance(count, int) or count < 1:
        raise ValidationError({"count": _("抽查数量应为正整数。")})
    if count > len(population):
        raise ValidationError(
            {
                "count": ngettext(
                    "抽查数量 %(count)d 超过可抽查的 %(n)d 个县（市、区）。",
                    "抽查数量 %(count)d 超过可抽查的 %(n)d 个县（市、区）。",
                    len(population),
                )
                % {"count": count, "n": len(population)}
            }
        )
    if seed is None:
        seed = random.SystemRandom().randrange(1, 2**31)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ValidationError({"seed": _("随机种子应为 0 到 %(max)d 之间的整数。") % {"max": MAX_SEED}})
    chosen = draw_sample(population, count, int(seed))
    draw = SpotCheckDraw.objects.create(
        round=round_, seed=int(seed), count=count, population=sorted(p for p, _ in population), drawn_by=by
    )
    SpotCheck.objects.bulk_create(SpotCheck(draw=draw, assessment_id=pk) for pk in chosen)
    audit_record(
        action="evaluation.spot_check_draw",
        obj=draw,
        by=by,
        after={"seed": draw.seed, "count": count, "sample": chosen, "population": len(population)},
    )
    return draw


def _check_in_scope(pk: int, by: User) -> SpotCheck:
    try:
        return (
            SpotCheck.objects.for_user(by)
            .select_for_update(of=("self",))
            .select_related("assessment__round", "assessment__county")
            .get(pk=pk)
        )
    except SpotCheck.DoesNotExist:
        raise Http404 from None


@transaction.atomic
def spot_check_verify(*, check: SpotCheck, scores: Mapping[str, Any], findings: str, by: User) -> SpotCheck:
    """Verified scores and findings; the final score becomes the verified score; > 5 points apart is flagged."""
    check = _check_in_scope(check.pk, by)  # out of scope: as if it did not exist (404) before the role (403)
    _deny(by.role == Role.PROVINCE_STAFF, _("只有省总工会可以核定抽查结果。"))
    if check.status != SpotCheckStatus.PENDING:
        raise ApplicationError("illegal_transition", str(CHECK_CLOSED))
    assessment = check.assessment
    if assessment.status != AssessmentStatus.APPROVED:
        raise ApplicationError("illegal_transition", _("该县（市、区）的自评尚未审核通过。"))
    if set(scores) != {i.value for i in Indicator}:
        raise ValidationError({"scores": _("应给出 utilization、coverage、satisfaction 三项核定得分。")})
    findings = (findings or "").strip()
    if not findings:
        raise ValidationError({"findings": _("请填写抽查发现。")})
    parsed = {k: _decimal(v, "scores", low=Decimal(0), high=Decimal(100), places=2) for k, v in scores.items()}
    check.verified_utilization = parsed["utilization"]
    check.verified_coverage = parsed["coverage"]
    check.verified_satisfaction = parsed["satisfaction"]
    check.verified_score = indicators.total_of(parsed, assessment.round.weights)
    check.difference = check.verified_score - assessment.reviewed_score
    check.flagged = abs(check.difference) > FLAG_DIFFERENCE
    check.findings = findings
    check.status = SpotCheckStatus.VERIFIED
    check.verified_by = by
    check.verified_at = clock.now()
    check.save()
    assessment.final_score = check.verified_score
    assessment.final_grade = indicators.grade_for(check.verified_score)
    if check.flagged and "spot_check_difference" not in assessment.flags:
        assessment.flags = [*assessment.flags, "spot_check_difference"]
    assessment.save(update_fields=["final_score", "final_grade", "flags", "updated_at"])
    audit_record(
        action="evaluation.spot_check_verify",
        obj=check,
        by=by,
        before={"reviewed_score": assessment.reviewed_score},
        after={"verified_score": check.verified_score, "difference": check.difference, "flagged": check.flagged},
    )
    return check


@transaction.atomic
def spot_check_send_back(*, check: SpotCheck, comment: str, by: User) -> SpotCheck:
    """The province sends the county's assessment back down to be redone."""
    check = _check_in_scope(check.pk, by)
    _deny(by.role == Role.PROVINCE_STAFF, _("只有省总工会可以退回抽查的县（市、区）。"))
    if check.status != SpotCheckStatus.PENDING:
        raise ApplicationError("illegal_transition", str(CHECK_CLOSED))
    assessment_return(assessment=check.assessment, by=by, comment=comment)
    check.status = SpotCheckStatus.SENT_BACK
    check.findings = comment
    check.verified_by = by
    check.verified_at = clock.now()
    check.save()
    return check


# ---------------------------------------------------------------- reports


# How long past the broker's visibility timeout a report job may go untouched before it counts as lost:
# longer than any report takes to render (the province report takes seconds).
REPORT_GRACE = dt.timedelta(minutes=10)
REPORT_LEVEL = {
    ReportKind.COUNTY: RegionLevel.COUNTY,
    ReportKind.CITY: RegionLevel.CITY,
    ReportKind.PROVINCE: RegionLevel.PROVINCE,
}


def _lost(job: ReportJob) -> bool:
    """Queued or running for longer than a killed worker's message takes to come back, and then some: its
    message must be lost (with acks late, a dead worker's message returns after the visibility timeout)."""
    patience = dt.timedelta(seconds=settings.CELERY_VISIBILITY_TIMEOUT) + REPORT_GRACE
    last_seen = job.started_at or job.requested_at
    return last_seen < clock.now() - patience


@transaction.atomic
def report_request(*, kind: str, round_: EvaluationRound | int, region: str, by: User) -> tuple[ReportJob, bool]:
    """A report job, or the one already queued or running for the same report. Returns (job, created)."""
    # A report covers a whole region (every subsidised union of it): beyond a union officer's scope.
    _deny(by.role != Role.UNION_OFFICER, _("基层工会不能生成地区评价报告。"))
    if kind not in ReportKind.values:
        raise ValidationError({"kind": _("报告类型应为 %(kinds)s 之一。") % {"kinds": " / ".join(ReportKind.values)}})
    round_ = EvaluationRound.objects.for_user(by).filter(pk=getattr(round_, "pk", round_)).first()
    if round_ is None:
        raise ValidationError({"round": _("评价轮次不存在或不在您的范围内。")})
    target = Region.objects.for_user(by).filter(code=str(region)).first()
    if target is None:
        raise ValidationError({"region": _("区划不存在或不在您的范围内。")})
    if target.level != REPORT_LEVEL[kind]:
        raise ValidationError(
            {
                "region": _("%(kind)s须对应%(level)s级区划。")
                % {"kind": ReportKind(kind).label, "level": RegionLevel(REPORT_LEVEL[kind]).label}
            }
        )
    existing = ReportJob.objects.filter(
        kind=kind, round=round_, region=target, status__in=["queued", "running"]
    ).first()
    if existing is not None:
        if _lost(existing):
            # Its message is gone (a broker restarted without persistence, a purge): send it once more.
            # The task is idempotent, so a late first delivery cannot store a second version.
            audit_record(action="report.resend", obj=existing, by=by, after={"status": existing.status})
            from .tasks import enqueue_report

            transaction.on_commit(lambda: enqueue_report(existing.pk))
        return existing, False
    try:
        with transaction.atomic():
            job = ReportJob.objects.create(kind=kind, round=round_, region=target, requested_by=by)
    except IntegrityError:
        return ReportJob.objects.get(kind=kind, round=round_, region=target, status__in=["queued", "running"]), False
    audit_record(action="report.request", obj=job, by=by, after={"kind": kind, "region": target.code})
    from .tasks import enqueue_report

    transaction.on_commit(lambda: enqueue_report(job.pk))
    return job, True


@transaction.atomic
def evidence_add(*, assessment: SelfAssessment, filename: str, content: bytes, by: User) -> EvidenceFile:
    """An evidence file of the county's self-assessment (PDF or image, sniffed from its content)."""
    assessment = _assessment_in_scope(assessment.pk, by)
    _deny(by.role == Role.COUNTY_STAFF, _("只有县（市、区）总工会可以上传自评佐证材料。"))
    if assessment.status != AssessmentStatus.DRAFT:
        raise ApplicationError("illegal_transition", _("自评已提交，不能再上传佐证材料；如需补充请由市级退回。"))
    content_type = check_upload(content)
    evidence = EvidenceFile(
        assessment=assessment,
        original_name=display_file_name(filename),
        content_type=content_type,
        size=len(content),
        uploaded_by=by,
    )
    evidence.file.save("evidence", ContentFile(content), save=False)
    evidence.save()
    audit_record(
        action="evaluation.evidence",
        obj=assessment,
        by=by,
        after={"file": evidence.original_name, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)},
    )
    return evidence


def _sheet_row(number: int) -> str:
    """How a row of an imported spreadsheet is named in messages: the number the spreadsheet shows."""
    return _("第 %(n)d 行") % {"n": number}


SURVEY_COLUMNS = {
    "credit_code": ("credit_code", "统一社会信用代码", "工会统一社会信用代码"),
    "answer": ("answer", "满意度", "满意程度"),
    "comment": ("comment", "意见建议", "意见"),
}


@transaction.atomic
def survey_import(*, round_: EvaluationRound, filename: str, content: bytes, by: User) -> list[SurveyResponse]:
    """Paper answers from a spreadsheet: one row per answer, the union by its credit code, the answer as
    a code or its Chinese label. All rows or none; errors name the spreadsheet row."""
    check_survey_entry(by)  # before the file is read: reading costs the server, refusing costs nothing
    if len(content) > settings.UPLOAD_MAX_BYTES:
        raise ValidationError({"file": too_large_message()})
    try:
        table = read_table(content)
    except TableError as exc:
        raise ValidationError({"file": str(exc)}) from None
    if not table:
        raise ValidationError({"file": _("文件中没有表头行。")})
    header = [cell_text(c) for c in table[0][1]]
    index = {}
    for code, names in SURVEY_COLUMNS.items():
        for position, name in enumerate(header):
            if name in names:
                index[code] = position
    missing = [SURVEY_COLUMNS[c][1] for c in ("credit_code", "answer") if c not in index]
    if missing:
        raise ValidationError(
            {"file": _("缺少必填列：%(columns)s。") % {"columns": pgettext("list separator", "、").join(missing)}}
        )
    survey_batch_check(sum(1 for cells in table[1:] if any(cell_text(c) for c in cells)), field="file")
    labels = {str(a.label): a.value for a in Answer} | {a.value: a.value for a in Answer}
    codes = {cell_text(r[index["credit_code"]]).upper() for _n, r in table[1:] if len(r) > index["credit_code"]}
    union_ids = dict(Union.objects.for_user(by).filter(credit_code__in=codes).values_list("credit_code", "pk"))
    rows, numbers, errors = [], [], {}
    for number, cells in table[1:]:

        def cell(code, cells=cells):
            position = index.get(code)
            return cell_text(cells[position]) if position is not None and position < len(cells) else ""

        union_id = union_ids.get(cell("credit_code").upper())
        if union_id is None:
            errors[f"row {number}"] = _("%(row)s：统一社会信用代码「%(code)s」不是您管辖范围内的工会。") % {
                "row": _sheet_row(number),
                "code": mask_personal_text(cell("credit_code")),
            }
            continue
        rows.append(
            {"union": union_id, "answer": labels.get(cell("answer"), cell("answer")), "comment": cell("comment")}
        )
        numbers.append(number)
    if errors:
        raise ValidationError(errors)
    return survey_responses_enter(
        round_=round_, rows=rows, by=by, source=ResponseSource.IMPORT, row_names=[_sheet_row(n) for n in numbers]
    )
