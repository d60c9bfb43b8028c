"""The county self-assessment and its review: submit (figures frozen), the city's approval (with adjusted
scores) or return, the evidence files, and the city's own summary once all its counties are approved."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from members.models import User
from unionfunds.core import clock
from unionfunds.core.audit import audit_record
from unionfunds.core.decisions import enforce
from unionfunds.core.errors import ApplicationError
from unionfunds.core.scoping import get_in_scope
from unionfunds.core.uploads import store_upload

from .. import indicators, permissions, selectors
from ..choices import Indicator
from ..models import AssessmentTransition, CitySummary, EvaluationRound, EvidenceFile, SelfAssessment
from ..workflows import ASSESSMENT_WORKFLOW
from ._values import bounded_decimal


def _assessment_locked(assessment: SelfAssessment, by: User) -> SelfAssessment:
    """The assessment, in ``by``'s scope and locked, with its round, program, county and city."""
    return get_in_scope(
        SelfAssessment.objects.for_user(by).select_related("round__program", "county__parent"),
        assessment.pk,
        lock=True,
    )


def _transition(assessment: SelfAssessment, action: str, by: User, comment: str = "") -> str:
    before = assessment.status
    assessment.status = ASSESSMENT_WORKFLOW.apply(assessment.status, action, by.role)
    AssessmentTransition.objects.create(
        assessment=assessment, action=action, from_status=before, to_status=assessment.status, actor=by, comment=comment
    )
    return before


def _step_saved(
    assessment: SelfAssessment, action: str, by: User, *, before: dict[str, Any], after: dict[str, Any]
) -> SelfAssessment:
    """Save the assessment after a workflow step and audit the step, its new status first among the changes."""
    assessment.save()
    audit_record(
        action=f"evaluation.{action}",
        obj=assessment,
        by=by,
        before=before,
        after={"status": assessment.status, **after},
    )
    return assessment


@transaction.atomic
def assessment_submit(*, assessment: SelfAssessment, narrative: str, by: User) -> SelfAssessment:
    """The county submits: figures computed from recorded data and frozen with its narrative."""
    assessment = _assessment_locked(assessment, by)
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
    return _step_saved(
        assessment,
        "submit",
        by,
        before={"status": before},
        after={"total_score": assessment.total_score, "flags": assessment.flags},
    )


def _adjustments(adjustments: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, str]]:
    """The city's adjusted indicator scores, checked: known indicators, a score of 0–100, a reason each."""
    clean: dict[str, dict[str, str]] = {}
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
        value = bounded_decimal((change or {}).get("score"), "adjustments", low=Decimal(0), high=Decimal(100), places=2)
        clean[indicator] = {"score": str(value.quantize(Decimal("0.01"))), "reason": reason[:500]}
    return clean


@transaction.atomic
def assessment_approve(
    *,
    assessment: SelfAssessment,
    by: User,
    adjustments: Mapping[str, Mapping[str, Any]] | None = None,
    comment: str = "",
) -> SelfAssessment:
    """The city approves, optionally adjusting indicator scores; each adjustment needs a reason."""
    assessment = _assessment_locked(assessment, by)
    before = _transition(assessment, "approve", by, comment)  # role and state first; a refusal below rolls back
    clean = _adjustments(adjustments)
    scores = assessment.scores()
    for indicator, change in clean.items():
        scores[indicator] = Decimal(change["score"])
    assessment.adjustments = clean
    assessment.reviewed_score = indicators.total_of(scores, assessment.round.weights)
    assessment.final_score = assessment.reviewed_score
    assessment.final_grade = indicators.grade_for(assessment.final_score)
    if clean and "adjusted" not in assessment.flags:
        assessment.flags = [*assessment.flags, "adjusted"]
    assessment.approved_at = clock.now()
    return _step_saved(
        assessment,
        "approve",
        by,
        before={"status": before, "total_score": assessment.total_score},
        after={"reviewed_score": assessment.reviewed_score, "adjustments": clean},
    )


@transaction.atomic
def assessment_return(*, assessment: SelfAssessment, by: User, comment: str) -> SelfAssessment:
    """The city returns a submitted assessment (or the province an approved one) to the county."""
    assessment = _assessment_locked(assessment, by)
    comment = (comment or "").strip()
    before = _transition(assessment, "return", by, comment)  # role and state first; a refusal below rolls back
    if not comment:
        raise ValidationError({"comment": _("退回时必须填写意见。")})
    assessment.reviewed_score = None
    assessment.final_score = None
    assessment.final_grade = ""
    return _step_saved(assessment, "return", by, before={"status": before}, after={"comment": comment})


# The service of each action of the assessment workflow (pages and the API take the actions from the table).
ASSESSMENT_SERVICES = {"submit": assessment_submit, "approve": assessment_approve, "return": assessment_return}


@transaction.atomic
def evidence_add(*, assessment: SelfAssessment, filename: str, content: bytes, by: User) -> EvidenceFile:
    """An evidence file of the county's self-assessment (PDF or image, sniffed from its content)."""
    assessment = _assessment_locked(assessment, by)
    enforce(permissions.can_upload_evidence(by, assessment))
    evidence = EvidenceFile(assessment=assessment, uploaded_by=by)
    stored = store_upload(evidence.file, name=filename, content=content)
    evidence.original_name = stored.name
    evidence.content_type = stored.content_type
    evidence.size = stored.size
    evidence.save()
    audit_record(
        action="evaluation.evidence",
        obj=assessment,
        by=by,
        after={"file": stored.name, "sha256": stored.sha256, "size": stored.size},
    )
    return evidence


@transaction.atomic
def city_summary_complete(*, round_: EvaluationRound, by: User, narrative: str = "") -> CitySummary:
    """A city's own summary, possible only when every county of the city is approved."""
    enforce(permissions.can_complete_city_summary(by))
    get_in_scope(EvaluationRound.objects.for_user(by), round_.pk)
    city = by.region
    pending = selectors.pending_counties(round_, city)
    if pending:
        raise ApplicationError(
            "counties_pending",
            _("尚有县（市、区）未审核通过：%(counties)s")
            % {"counties": pgettext("list separator", "、").join(a.county.name for a in pending)},
            extra={"pending": [a.county_id for a in pending]},
        )
    figures = indicators.compute(round_, selectors.counties_under(city))
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
