"""The three PDF reports (county self-evaluation, city review, the province's comprehensive report): what
goes into them, their rendering with WeasyPrint from Django templates, and running one report job.

``render_pdf(html)`` is the one function that touches WeasyPrint (bytes in, bytes out, testable without
Celery). ``report_context`` gathers the figures (reads through ``selectors`` and ``indicators``);
``generate`` runs a job start to finish and is idempotent: a job already done is left alone, a job whose
earlier attempt died restarts cleanly, and each finished job stores exactly one version. ``fail`` marks a
job that will not finish. The worker's task (``tasks``) calls these; this module imports neither the
services nor the tasks, so imports point one way: services → tasks → reports → selectors.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from unionfunds.core import charts, clock
from unionfunds.core.money import format_rate, to_chinese_capital

from . import indicators, selectors
from .choices import AssessmentStatus, Grade, Indicator, JobStatus, ReportKind
from .models import EvaluationRound, ReportJob, ReportVersion

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RenderedPdf:
    content: bytes
    pages: int


def render_pdf(html: str) -> RenderedPdf:
    """HTML in, PDF bytes (and the page count) out: the only place that calls WeasyPrint."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=str(settings.BASE_DIR)).render()
    return RenderedPdf(content=document.write_pdf(), pages=len(document.pages))


def adjustment_rows(adjustments: dict) -> list[dict]:
    """The city's adjustments with the indicators' names (not their codes) for the reports."""
    return [
        {"label": Indicator(key).label if key in Indicator.values else key, **change}
        for key, change in (adjustments or {}).items()
    ]


def _assessment_rows(round_: EvaluationRound, counties: list[str]) -> list[dict]:
    """One row per county: frozen figures when submitted, live ones otherwise (marked as such)."""
    assessments = selectors.area_assessments(round_, counties)
    drafts = [code for code, a in assessments.items() if a.status == AssessmentStatus.DRAFT]
    live_figures = indicators.compute_areas(round_, {code: [code] for code in drafts})
    rows = []
    for code in counties:
        a = assessments.get(code)
        if a is None:
            continue
        if a.status == AssessmentStatus.DRAFT:
            live = live_figures[code]
            scores, total, frozen = live.scores(), live.total_score, False
            rates = (live.utilization_rate, live.coverage_rate, live.satisfaction)
        else:
            scores, total, frozen = a.scores(), a.total_score, True
            rates = (a.utilization_rate, a.coverage_rate, a.satisfaction)
        final = a.final_score if a.final_score is not None else total
        rows.append(
            {
                "assessment": a,
                "county": a.county,
                "city": a.county.parent,
                "scores": scores,
                "total": total,
                "final": final,
                "grade": indicators.grade_for(final),
                "frozen": frozen,
                "utilization_rate": rates[0],
                "coverage_rate": rates[1],
                "satisfaction": rates[2],
                "flags": [indicators.FLAG_LABELS.get(f, f) for f in a.flags],
                "adjustments": adjustment_rows(a.adjustments),
            }
        )
    return rows


def _subsidised(round_: EvaluationRound, counties: list[str]) -> list[dict]:
    """The area's subsidised unions with their utilisation and their number of survey answers."""
    answers = selectors.answer_counts(round_, union__county_id__in=counties)
    rows = []
    for a in selectors.subsidised_allocations(round_, counties):
        rows.append(
            {
                "allocation": a,
                "responses": answers.get(a.union_id, 0),
                "rate": format_rate(a.spent_amount / a.amount) if a.amount else "—",
            }
        )
    return rows


def report_context(job: ReportJob) -> dict:
    """Everything the job's template shows (the worker renders it with the job's round and region loaded)."""
    round_ = job.round
    region = job.region
    counties = selectors.counties_under(region)
    assessment = None
    if job.kind == ReportKind.COUNTY:
        assessment = selectors.county_assessment(round_, region)
    if assessment is not None and assessment.status != AssessmentStatus.DRAFT and assessment.figures:
        # Submitted: the report shows the figures frozen at submit (as it says), not today's.
        figures = indicators.Figures.from_json(assessment.figures)
        flags = assessment.flags
    else:
        figures = indicators.compute(round_, counties)
        flags = figures.flags
    context = {
        "job": job,
        "round": round_,
        "program": round_.program,
        "region": region,
        "figures": figures,
        "flags": [indicators.FLAG_LABELS.get(f, f) for f in flags],
        "rates": {
            "utilization": format_rate(figures.utilization_rate),
            "coverage": format_rate(figures.coverage_rate),
            "target": format_rate(round_.coverage_target),
        },
        "allocated_capital": to_chinese_capital(figures.allocated),
        "spent_capital": to_chinese_capital(figures.spent),
        "generated_at": clock.now(),
        "weights": round_.weights,
    }
    if job.kind == ReportKind.COUNTY:
        context["assessment"] = assessment
        context["adjustments"] = adjustment_rows(assessment.adjustments) if assessment else []
        context["history"] = list(assessment.history.select_related("actor__region")) if assessment else []
        context["unions"] = _subsidised(round_, counties)
    elif job.kind == ReportKind.CITY:
        rows = _assessment_rows(round_, counties)
        context["rows"] = rows
        context["summary"] = selectors.city_summary(round_, region)
        context["unions"] = _subsidised(round_, counties)
        context["chart"] = charts.bar_chart(
            [r["county"].name for r in rows],
            [charts.Series("综合得分", [r["final"] or Decimal(0) for r in rows])],
            title="各县（市、区）综合得分",
            width=640,
        )
    else:
        city_rows = indicators.city_figures(round_, region)
        county_rows = sorted(_assessment_rows(round_, counties), key=lambda r: r["final"] or Decimal(0), reverse=True)
        checks = selectors.finished_spot_checks(round_)
        bands = dict.fromkeys(Grade.values, 0)
        for r in county_rows:
            if r["grade"]:
                bands[r["grade"]] += 1
        context.update(
            {
                "city_rows": city_rows,
                "county_rows": county_rows,
                "top_counties": county_rows[:10],
                "bottom_counties": county_rows[-10:][::-1] if len(county_rows) > 10 else [],
                "checks": checks,
                "unions": _subsidised(round_, counties),
                "city_chart": charts.bar_chart(
                    [r["city"].name for r in city_rows],
                    [
                        charts.Series("资金使用率得分", [r["figures"].score_utilization for r in city_rows]),
                        charts.Series("覆盖率得分", [r["figures"].score_coverage for r in city_rows]),
                        charts.Series("满意度得分", [r["figures"].score_satisfaction for r in city_rows]),
                    ],
                    title="各市分项指标得分",
                    width=640,
                    bar_height=13,  # the value labels (11 px) of three bars must not overlap
                ),
                "grade_chart": charts.column_chart(list(bands), list(bands.values()), title="县（市、区）等次分布"),
            }
        )
    return context


TEMPLATES = {
    ReportKind.COUNTY: "reports/county.html",
    ReportKind.CITY: "reports/city.html",
    ReportKind.PROVINCE: "reports/province.html",
}


def _progress(job: ReportJob, value: int, **fields) -> None:
    ReportJob.objects.filter(pk=job.pk).update(progress=value, **fields)


def generate(job_id: int) -> ReportJob | None:
    """Run one report job; safe to call again for the same job (idempotent)."""
    with transaction.atomic():
        job = ReportJob.objects.select_for_update().select_related("round__program", "region").filter(pk=job_id).first()
        if job is None or job.status == JobStatus.DONE:
            return job
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.started_at = clock.now()
        job.progress = 5
        job.error = ""
        job.save(update_fields=["status", "attempts", "started_at", "progress", "error"])
    # Reports are official Chinese documents, whoever asked: the same language in the worker and when a
    # task runs eagerly inside an English request.
    with translation.override(settings.LANGUAGE_CODE):
        context = report_context(job)
        _progress(job, 40)
        html = render_to_string(TEMPLATES[job.kind], context)
    rendered = render_pdf(html)
    pdf = rendered.content
    _progress(job, 90)
    with transaction.atomic():
        job = ReportJob.objects.select_for_update().get(pk=job.pk)
        if job.status == JobStatus.DONE:  # another worker finished it meanwhile
            return job
        number = (
            ReportVersion.objects.filter(job__kind=job.kind, job__round=job.round, job__region=job.region).count() + 1
        )
        version = ReportVersion(
            job=job, number=number, sha256=hashlib.sha256(pdf).hexdigest(), size=len(pdf), pages=rendered.pages
        )
        version.file.save("report.pdf", ContentFile(pdf), save=False)
        version.save()
        job.status = JobStatus.DONE
        job.progress = 100
        job.finished_at = clock.now()
        job.save(update_fields=["status", "progress", "finished_at"])
    log.info("report %s %s %s done: %d bytes", job.kind, job.round_id, job.region_id, len(pdf))
    return job


def fail(job_id: int, error: str) -> None:
    """Mark a job that will not finish (its last attempt failed, or it could not be queued) with why."""
    ReportJob.objects.filter(pk=job_id).exclude(status=JobStatus.DONE).update(
        status=JobStatus.FAILED, error=error[:2000], finished_at=clock.now()
    )
