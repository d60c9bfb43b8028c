"""Opening the evaluation of a program year: the round, with one self-assessment per county of the owner."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from grants.models import Program
from grants.services import PROGRAM_NOT_FOUND
from members.models import Region, User
from unionfunds.core.audit import audit_record
from unionfunds.core.decisions import enforce

from .. import permissions, selectors
from ..choices import Indicator
from ..models import EvaluationRound, SelfAssessment
from ._values import bounded_decimal

DEFAULT_WEIGHTS = {"utilization": "0.3", "coverage": "0.2", "satisfaction": "0.5"}


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
    enforce(permissions.can_create_round(by, program))
    if EvaluationRound.objects.filter(program=program).exists():
        raise ValidationError({"program": _("该项目已开展绩效评价。")})
    weights = dict(weights or DEFAULT_WEIGHTS)
    unknown = set(weights) - {i.value for i in Indicator}
    missing = {i.value for i in Indicator} - set(weights)
    if unknown or missing:
        raise ValidationError({"weights": _("权重应包含且仅包含 utilization、coverage、satisfaction 三项。")})
    parsed = {k: bounded_decimal(v, "weights", low=Decimal(0), high=Decimal(1)) for k, v in weights.items()}
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
        coverage_target=bounded_decimal(coverage_target, "coverage_target", low=Decimal("0.001"), high=Decimal(1)),
        min_responses=minimum,
        weight_utilization=parsed["utilization"],
        weight_coverage=parsed["coverage"],
        weight_satisfaction=parsed["satisfaction"],
        created_by=by,
    )
    round_.full_clean()
    round_.save()
    counties = Region.objects.filter(code__in=selectors.counties_under(program.owner)).order_by("code")
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
