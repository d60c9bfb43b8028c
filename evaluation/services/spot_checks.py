"""The province's spot-check: a reproducible random draw of approved counties, the verified scores and
findings of each, or sending a county back down to redo its self-assessment."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from members.models import User
from unionfunds.core import clock
from unionfunds.core.audit import audit_record
from unionfunds.core.decisions import enforce
from unionfunds.core.errors import ApplicationError
from unionfunds.core.scoping import get_in_scope

from .. import indicators, permissions
from ..choices import AssessmentStatus, Indicator, SpotCheckStatus
from ..models import EvaluationRound, SelfAssessment, SpotCheck, SpotCheckDraw
from ._values import bounded_decimal
from .assessments import assessment_return

# A verified score this far from the city's reviewed score is flagged.
FLAG_DIFFERENCE = Decimal(5)
# A draw's seed is stored (BigIntegerField); the API and the page take it up to this.
MAX_SEED = 2**62
COUNT_OR_RATIO = gettext_lazy("请给出抽查数量 count 或比例 ratio 之一。")


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
    """Draw ``count`` (or a ``ratio`` of) the approved counties, at least one per city when the count allows."""
    enforce(permissions.can_draw_spot_check(by))
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
        share = bounded_decimal(ratio, "ratio", low=Decimal("0.001"), high=Decimal(1))
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


def _check_locked(check: SpotCheck, by: User) -> SpotCheck:
    """The check, in ``by``'s scope and locked, with its assessment, round and county."""
    return get_in_scope(
        SpotCheck.objects.for_user(by).select_related("assessment__round", "assessment__county"), check.pk, lock=True
    )


@transaction.atomic
def spot_check_verify(*, check: SpotCheck, scores: Mapping[str, Any], findings: str, by: User) -> SpotCheck:
    """Verified scores and findings; the final score becomes the verified score; > 5 points apart is flagged."""
    check = _check_locked(check, by)  # out of scope: as if it did not exist (404) before the role (403)
    enforce(permissions.can_verify_spot_check(by, check))
    assessment = check.assessment
    if assessment.status != AssessmentStatus.APPROVED:
        raise ApplicationError(permissions.ILLEGAL_TRANSITION, _("该县（市、区）的自评尚未审核通过。"))
    if set(scores) != {i.value for i in Indicator}:
        raise ValidationError({"scores": _("应给出 utilization、coverage、satisfaction 三项核定得分。")})
    findings = (findings or "").strip()
    if not findings:
        raise ValidationError({"findings": _("请填写抽查发现。")})
    parsed = {k: bounded_decimal(v, "scores", low=Decimal(0), high=Decimal(100), places=2) for k, v in scores.items()}
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
    check = _check_locked(check, by)
    enforce(permissions.can_send_back_spot_check(by, check))
    assessment_return(assessment=check.assessment, by=by, comment=comment)
    check.status = SpotCheckStatus.SENT_BACK
    check.findings = comment
    check.verified_by = by
    check.verified_at = clock.now()
    check.save()
    return check
