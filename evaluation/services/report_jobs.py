"""Requesting a PDF report: a job, queued for the worker once the request commits (``tasks``), or the job
already queued or running for the same report."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from members.choices import RegionLevel
from members.models import Region, User
from unionfunds.core import clock
from unionfunds.core.audit import audit_record
from unionfunds.core.decisions import enforce

from .. import permissions, tasks
from ..choices import REPORT_LEVEL, JobStatus, ReportKind
from ..models import EvaluationRound, ReportJob

# How long past the broker's visibility timeout a report job may go untouched before it counts as lost:
# longer than any report takes to render (the province report takes seconds).
REPORT_GRACE = dt.timedelta(minutes=10)
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


def _lost(job: ReportJob) -> bool:
    """Queued or running for longer than a killed worker's message takes to come back, and then some: its
    message must be lost (with acks late, a dead worker's message returns after the visibility timeout)."""
    patience = dt.timedelta(seconds=settings.CELERY_VISIBILITY_TIMEOUT) + REPORT_GRACE
    last_seen = job.started_at or job.requested_at
    return last_seen < clock.now() - patience


def _enqueue_on_commit(job: ReportJob) -> None:
    # Looked up when the transaction commits, so the worker never sees a job that is not there yet.
    transaction.on_commit(lambda: tasks.enqueue_report(job.pk))


@transaction.atomic
def report_request(*, kind: str, round_: EvaluationRound | int, region: str, by: User) -> tuple[ReportJob, bool]:
    """A report job, or the one already queued or running for the same report. Returns (job, created)."""
    enforce(permissions.can_request_report(by))
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
    existing = ReportJob.objects.filter(kind=kind, round=round_, region=target, status__in=ACTIVE).first()
    if existing is not None:
        if _lost(existing):
            # Its message is gone (a broker restarted without persistence, a purge): send it once more.
            # The task is idempotent, so a late first delivery cannot store a second version.
            audit_record(action="report.resend", obj=existing, by=by, after={"status": existing.status})
            _enqueue_on_commit(existing)
        return existing, False
    try:
        with transaction.atomic():
            job = ReportJob.objects.create(kind=kind, round=round_, region=target, requested_by=by)
    except IntegrityError:
        return ReportJob.objects.get(kind=kind, round=round_, region=target, status__in=ACTIVE), False
    audit_record(action="report.request", obj=job, by=by, after={"kind": kind, "region": target.code})
    _enqueue_on_commit(job)
    return job, True
