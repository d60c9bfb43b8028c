"""Browser pages of the evaluation app, per role: the county fills and submits its self-assessment,
the city reviews its counties side by side, the province ranks, draws the spot-check, records findings
and requests reports; members answer the survey on a public, phone-sized page.

Pages read through ``selectors``, write through ``services`` and ask ``permissions`` what to offer."""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import quote

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from members.models import Union
from unionfunds.core import charts, ratelimit
from unionfunds.core.clientip import client_address
from unionfunds.core.errors import ApplicationError
from unionfunds.core.forms import call_service, errors_to_messages

from . import indicators, permissions, selectors, services
from .choices import Answer, AssessmentStatus, Indicator, JobStatus
from .forms import ASSESSMENT_ACTION_INPUT, DrawForm, PaperForm, RoundForm, ServiceForm, UploadForm, VerifyForm
from .models import EvaluationRound, ReportJob, SelfAssessment, SpotCheck, SurveyInvite

DEVICE_COOKIE = "uf_device"
T = TypeVar("T")


def _current_round(request: HttpRequest, rounds: list[EvaluationRound]) -> EvaluationRound | None:
    chosen = request.GET.get("round")
    return next((r for r in rounds if str(r.pk) == chosen), rounds[0] if rounds else None)


def _carry_out(request: HttpRequest, run: Callable[[], T], success: Callable[[T], str]) -> T | None:
    """Run a service for a page that redirects back: the success message, or its refusals as messages."""
    form = ServiceForm(request.POST)
    result = call_service(form, run)
    if result is not None:
        messages.success(request, success(result))
    errors_to_messages(request, form)
    return result


def _round_page(round_: EvaluationRound | int, anchor: str = "") -> str:
    """The overview page of a round (given or by its id), at ``anchor``."""
    return f"{reverse('evaluation')}?round={getattr(round_, 'pk', round_)}{anchor}"


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    user = request.user
    rounds = selectors.rounds_by_year(user)
    round_ = _current_round(request, rounds)
    context = {"rounds": rounds, "round": round_}
    if permissions.can_open_rounds(user).allowed:
        open_programs = selectors.programs_open_for_evaluation(user)
        if open_programs.exists():
            context["round_form"] = RoundForm(programs=open_programs)
    if round_ is not None:
        assessments = selectors.round_assessments(user, round_)
        checks = list(selectors.round_spot_checks(user, round_))
        context.update(
            {
                "assessments": assessments,
                "ranked": selectors.ranking(assessments),
                "status_counts": selectors.status_counts(assessments),
                "can_complete_city_summary": permissions.can_complete_city_summary(user).allowed,
                "checks": checks,
                "verifiable": {c.pk for c in checks if permissions.can_verify_spot_check(user, c).allowed},
                "draw_form": DrawForm() if permissions.can_draw_spot_check(user).allowed else None,
                "verify_form": VerifyForm(),
                "jobs": selectors.recent_report_jobs(user, round_),
                "report_targets": selectors.report_targets(user)
                if permissions.can_request_report(user).allowed
                else [],
            }
        )
        if permissions.can_view_city_ranking(user).allowed:
            city_rows = indicators.city_figures(round_, user.region)
            context["city_rows"] = city_rows
            context["city_chart"] = charts.bar_chart(
                [r["city"].name for r in city_rows],
                [charts.Series(_("综合得分（按当前数据）"), [r["figures"].total_score for r in city_rows])],
                title=_("各市综合得分"),
            )
    return render(request, "evaluation/overview.html", context)


@login_required
@require_POST
def round_create(request: HttpRequest) -> HttpResponse:
    form = RoundForm(request.POST, programs=selectors.programs(request.user))
    if form.is_valid():
        data = form.cleaned_data
        round_ = call_service(
            form,
            lambda: services.round_create(
                program=int(data["program"]),
                by=request.user,
                coverage_target=data["coverage_target"],
                min_responses=data["min_responses"],
                weights=form.weights(),
            ),
        )
        if round_ is not None:
            messages.success(request, _("已开展%(round)s，已为各县（市、区）建立自评。") % {"round": round_})
            return redirect(_round_page(round_))
    errors_to_messages(request, form)
    return redirect("evaluation")


@login_required
def assessment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    assessment = get_object_or_404(selectors.assessment_detail(user), pk=pk)
    live = (
        indicators.compute(assessment.round, [assessment.county_id])
        if assessment.status == AssessmentStatus.DRAFT
        else None
    )
    return render(
        request,
        "evaluation/assessment_detail.html",
        {
            "a": assessment,
            "live": live,
            "actions": permissions.assessment_actions(user, assessment),
            "indicators": Indicator.choices,
            "unions": selectors.assessment_unions(assessment),
            "flags": [indicators.FLAG_LABELS.get(f, f) for f in (live.flags if live else assessment.flags)],
            "history": assessment.history.select_related("actor"),
            "checks": assessment.spot_checks.select_related("draw"),
            "evidence": assessment.evidence.select_related("uploaded_by"),
            "can_upload": permissions.can_upload_evidence(user, assessment).allowed,
        },
    )


@login_required
@require_POST
def assessment_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One action of the assessment workflow (the URL accepts the table's actions)."""
    assessment = get_object_or_404(SelfAssessment.objects.for_user(request.user), pk=pk)
    if action not in services.ASSESSMENT_SERVICES:
        raise Http404
    service = services.ASSESSMENT_SERVICES[action]
    fields = ASSESSMENT_ACTION_INPUT[action](request.POST)
    _carry_out(request, lambda: service(assessment=assessment, by=request.user, **fields), lambda _a: _("已办理。"))
    return redirect("assessment-detail", pk=pk)


@login_required
@require_POST
def city_summary(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = get_object_or_404(EvaluationRound.objects.for_user(request.user), pk=pk)
    _carry_out(
        request,
        lambda: services.city_summary_complete(
            round_=round_, by=request.user, narrative=request.POST.get("narrative", "")
        ),
        lambda _summary: _("已完成市级审核评价。"),
    )
    return redirect(_round_page(round_))


@login_required
@require_POST
def spot_check_draw(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = get_object_or_404(EvaluationRound.objects.for_user(request.user), pk=pk)
    form = DrawForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        draw = call_service(
            form,
            lambda: services.spot_check_draw(
                round_=round_, by=request.user, count=data["count"], ratio=data["ratio"], seed=data["seed"]
            ),
        )
        if draw is not None:
            messages.success(
                request, _("已抽取 %(n)d 个县（市、区），随机种子 %(seed)d。") % {"n": draw.count, "seed": draw.seed}
            )
    errors_to_messages(request, form)
    return redirect(_round_page(round_, "#spot-checks"))


@login_required
@require_POST
def spot_check_verify(request: HttpRequest, pk: int) -> HttpResponse:
    check = get_object_or_404(SpotCheck.objects.for_user(request.user).select_related("draw"), pk=pk)
    if request.POST.get("send_back"):
        form = ServiceForm(request.POST)
        done = call_service(
            form,
            lambda: services.spot_check_send_back(
                check=check, comment=request.POST.get("findings", ""), by=request.user
            ),
        )
    else:
        form = VerifyForm(request.POST)
        done = form.is_valid() and call_service(
            form,
            lambda: services.spot_check_verify(
                check=check, scores=form.scores(), findings=form.cleaned_data["findings"], by=request.user
            ),
        )
    if done:
        messages.success(request, _("已记录抽查结果。"))
    errors_to_messages(request, form)
    return redirect(_round_page(check.draw.round_id, "#spot-checks"))


@login_required
@require_POST
def report_request(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = get_object_or_404(EvaluationRound.objects.for_user(request.user), pk=pk)
    try:
        _job, created = services.report_request(
            kind=request.POST.get("kind", ""), round_=round_, region=request.POST.get("region", ""), by=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except (ApplicationError, PermissionDenied) as exc:
        messages.error(request, str(getattr(exc, "detail", exc)))
    else:
        messages.success(
            request,
            _("已提交报告生成请求。") if created else _("同一报告正在生成中，请稍候。"),
        )
    return redirect(_round_page(round_, "#reports"))


@login_required
def report_download(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ReportJob.objects.for_user(request.user).select_related("version", "region"), pk=pk)
    version = getattr(job, "version", None)
    if job.status != JobStatus.DONE or version is None:
        raise Http404
    response = FileResponse(version.file.open("rb"), content_type="application/pdf")
    # ASCII name for old clients, the Chinese one (全省综合评价报告-浙江省-v1.pdf) for the rest.
    name = f"{job.get_kind_display()}-{job.region.name}-v{version.number}.pdf"
    response["Content-Disposition"] = (
        f'inline; filename="report-{job.kind}-{job.region_id}-v{version.number}.pdf"; '
        f"filename*=UTF-8''{quote(name, safe='')}"
    )
    return response


# ---------------------------------------------------------------- surveys


@login_required
def survey_links(request: HttpRequest, pk: int) -> HttpResponse:
    """Survey links and QR codes of the subsidised unions in scope, and paper entry (county staff)."""
    user = request.user
    round_ = get_object_or_404(EvaluationRound.objects.for_user(user).select_related("program"), pk=pk)
    rows = selectors.survey_link_rows(user, round_)
    for row in rows:
        invite = row["invite"]
        url = request.build_absolute_uri(reverse("survey", args=[invite.token])) if invite else ""
        row["url"] = url
        row["qr"] = _qr(url) if url else ""
        row["can_invite"] = permissions.can_create_survey_invite(user, row["union"]).allowed
    unions = [row["union"] for row in rows]
    paper = PaperForm(unions=unions) if permissions.can_enter_survey_answers(user).allowed and unions else None
    return render(
        request,
        "evaluation/surveys.html",
        {"round": round_, "rows": rows, "paper_form": paper, "minimum": round_.min_responses},
    )


def _qr(url: str) -> SafeString:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=3, xmldecl=False, svgns=True)
    return mark_safe(out.getvalue().decode())  # noqa: S308 - segno's own SVG of our own URL


@login_required
@require_POST
def survey_invite(request: HttpRequest, pk: int, union_pk: int) -> HttpResponse:
    round_ = get_object_or_404(EvaluationRound.objects.for_user(request.user), pk=pk)
    union = get_object_or_404(Union.objects.for_user(request.user), pk=union_pk)
    _carry_out(
        request,
        lambda: services.survey_invite(round_=round_, union=union, by=request.user),
        lambda _invite: _("已生成「%(name)s」的调查链接。") % {"name": union.name},
    )
    return redirect("survey-links", pk=pk)


@login_required
@require_POST
def survey_paper(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = get_object_or_404(EvaluationRound.objects.for_user(request.user), pk=pk)
    form = PaperForm(request.POST, unions=selectors.surveyed_unions(request.user, round_))
    if form.is_valid():
        rows = form.rows()
        created = call_service(form, lambda: services.survey_responses_enter(round_=round_, rows=rows, by=request.user))
        if created is not None:
            messages.success(request, _("已录入 %(n)d 份纸质问卷。") % {"n": len(created)})
    errors_to_messages(request, form)
    return redirect("survey-links", pk=pk)


@login_required
@require_POST
def survey_import(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = get_object_or_404(EvaluationRound.objects.for_user(request.user), pk=pk)
    allowed, reason = permissions.can_enter_survey_answers(request.user)
    if not allowed:  # refused before the upload is touched
        messages.error(request, reason)
        return redirect("survey-links", pk=pk)
    form = UploadForm(request.POST, request.FILES, missing=_("请选择要导入的文件。"))
    if form.is_valid():
        upload = form.upload
        created = call_service(
            form,
            lambda: services.survey_import(round_=round_, filename=upload.name, content=upload.read(), by=request.user),
        )
        if created is not None:
            messages.success(request, _("已导入 %(n)d 份问卷。") % {"n": len(created)})
    errors_to_messages(request, form)
    return redirect("survey-links", pk=pk)


def survey(request: HttpRequest, token: str) -> HttpResponse:
    """The public survey page (no account): one answer per device, rate-limited per address."""
    invite = get_object_or_404(SurveyInvite.objects.select_related("union", "round__program"), token=token)
    device = request.COOKIES.get(DEVICE_COOKIE) or secrets.token_urlsafe(24)
    state = "form"
    error = ""
    if request.method == "POST":
        address = client_address(request) or ""
        key = f"survey-rate:{token}:{address}"  # per union link, so one office NAT does not block every survey
        # Every submission counts, refused ones too; counted before the answer is saved (ratelimit.hit).
        if not ratelimit.hit(key, limit=settings.SURVEY_ANSWERS_PER_IP_PER_HOUR, window=3600):
            state, error = "limited", _("提交过于频繁，请稍后再试。")
        elif not request.COOKIES.get(DEVICE_COOKIE):
            error = str(services.COOKIES_NEEDED)
        else:
            try:
                services.survey_answer_public(
                    token=token,
                    answer=request.POST.get("answer", ""),
                    comment=request.POST.get("comment", ""),
                    device_token=device,
                )
                state = "thanks"
            except ApplicationError as exc:
                state, error = "already", exc.detail
            except ValidationError as exc:
                error = " ".join(exc.messages)
    elif selectors.answered_from_device(invite, services.device_digest(device)):
        state = "already"
    response = render(
        request,
        "evaluation/survey.html",
        {"invite": invite, "answers": Answer.choices, "state": state, "error": error},
        status=429 if state == "limited" else 200,
    )
    response.set_cookie(
        DEVICE_COOKIE, device, max_age=3 * 365 * 86400, httponly=True, samesite="Lax", secure=request.is_secure()
    )
    return response


# ---------------------------------------------------------------- evidence


@login_required
@require_POST
def evidence_upload(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = get_object_or_404(SelfAssessment.objects.for_user(request.user), pk=pk)
    form = UploadForm(request.POST, request.FILES, missing=_("请选择要上传的文件。"))
    if form.is_valid():
        upload = form.upload
        evidence = call_service(
            form,
            lambda: services.evidence_add(
                assessment=assessment, filename=upload.name, content=upload.read(), by=request.user
            ),
        )
        if evidence:
            messages.success(request, _("已上传「%(name)s」。") % {"name": evidence.original_name})
    errors_to_messages(request, form)
    return redirect("assessment-detail", pk=pk)


@login_required
def evidence_download(request: HttpRequest, pk: int, evidence_pk: int) -> HttpResponse:
    assessment = get_object_or_404(SelfAssessment.objects.for_user(request.user), pk=pk)
    evidence = get_object_or_404(assessment.evidence, pk=evidence_pk)
    response = FileResponse(evidence.file.open("rb"), content_type=evidence.content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(evidence.original_name, safe='')}"
    return response
