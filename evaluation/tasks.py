"""Celery tasks: thin, take an id, safe to run twice. The services enqueue (``enqueue_report``) once their
transaction commits; the task runs the job through ``reports``, which imports neither this module nor the
services: imports point one way (services → tasks → reports)."""

import logging

from celery import shared_task
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from kombu.exceptions import OperationalError

from unionfunds.core.errors import ApplicationError

from . import reports

log = logging.getLogger(__name__)
# Stored on the job in the source language; pages and the API translate it for whoever reads it.
QUEUE_DOWN = gettext_noop("任务队列暂不可用，未能排队。")


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=5,
    max_retries=3,
)
def generate_report(self, job_id: int) -> None:
    try:
        reports.generate(job_id)
    except Exception as exc:
        if self.request.retries >= self.max_retries:
            reports.fail(job_id, f"{type(exc).__name__}: {exc}")
            log.exception("report job %s failed for good", job_id)
            return
        raise


def enqueue_report(job_id: int) -> None:
    """Put a job on the queue; a broker outage becomes a clear refusal (503), not a 500."""
    try:
        generate_report.delay(job_id)
    except (OperationalError, ConnectionError, OSError) as exc:
        log.error("report job %s not queued, the broker cannot be reached: %s", job_id, exc)  # for monitoring
        reports.fail(job_id, QUEUE_DOWN)
        raise ApplicationError(
            "queue_unavailable", _("报告生成服务暂时不可用（任务队列无法连接），请稍后再试。"), status=503
        ) from exc
