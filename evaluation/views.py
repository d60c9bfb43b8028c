"""Browser pages of the evaluation app, per role: the county fills and submits its self-assessment,
the city reviews its counties side by side, the province ranks, draws the spot-check, records findings
and requests reports; members answer the survey on a public, phone-sized page."""

import io
import secrets
from decimal import Decimal
from urllib.parse import quote

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grants.models import Allocation, Program
from members.choices import Role
from members.models import Region, Union
from unionfunds.core import charts, ratelimit
from unionfunds.core.clientip import client_address
from unionfunds.core.errors import ApplicationError
from unionfunds.core.filters import MAX_SMALL
from unionfunds.core.forms import DecimalField, IntegerField, call_service
from unionfunds.core.uploads import too_large_message

from . import indicators, permissions, services
from .choices import Answer, AssessmentStatus, Indicator, JobStatus, ReportKind
from .models import EvaluationRound, ReportJob, SelfAssessment, SpotCheck, SurveyInvite, SurveyResponse
from .workflows import ASSESSMENT_WORKFLOW

DEVICE_COOKIE = "uf_device"


class RoundForm(forms.Form):
    program = forms.ChoiceField(label=_("项目"))
    coverage_target = DecimalField(label=_("覆盖率目标"), initial=Decimal("0.2"), max_digits=4, decimal_places=3)
    min_responses = IntegerField(label=_("每个工会最少答卷数"), initial=10, min_value=1, max_value=MAX_SMALL)
    weight_satisfaction = DecimalField(label=_("满意度权重"), initial=Decimal("0.5"), max_digits=4, decimal_places=3)
    weight_utilization = DecimalField(label=_("资金使用率权重"), initial=Decimal("0.3"), max_digits=4, decimal_places=3)
    weight_coverage = DecimalField(label=_("覆盖率权重"), initial=Decimal("0.2"), max_digits=4, decimal_places=3)


class DrawForm(forms.Form):
    count = IntegerField(label=_("抽查数量"), min_value=1, max_value=MAX_SMALL, required=False)
    ratio = DecimalField(label=_("或抽查比例"), max_digits=4, decimal_places=3, required=False)
    seed = IntegerField(label=_("随机种子（留空则随机生成）"), required=False, min_value=0, max_value=services.MAX_SEED)


class VerifyForm(forms.Form):
    utilization = DecimalField(label=_("资金使用率核定分"), max_digits=5, decimal_places=2, min_value=0, max_value=100)
    coverage = DecimalField(label=_("覆盖率核定分"), max_digits=5, decimal_places=2, min_value=0, max_value=100)
    satisfaction = DecimalField(label=_("满意度核定分"), max_digits=5, decimal_places=2, min_value=0, max_value=100)
    findings = forms.CharField(label=_("抽查发现"), widget=forms.Textarea(attrs={"rows": 2}))


class PaperForm(forms.Form):
    """Counts of paper answers per level for one union: 12 非常满意, 30 满意, …"""

    union = forms.ChoiceField(label=_("工会"))

    def __init__(self, *args, unions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["union"].choices = [(str(u.pk), u.name) for u in unions]
        for answer in Answer:
            self.fields[answer.value] = IntegerField(
                label=answer.label, min_value=0, max_value=services.SURVEY_ENTRY_MAX, initial=0
            )

    def clean(self):
        data = super().clean()
        try:
            services.survey_batch_check(sum(data.get(a.value) or 0 for a in Answer))
        except ValidationError as exc:
            self.add_error(None, exc.message_dict["responses"])
        return data


def _rounds(user):
    return list(EvaluationRound.objects.for_user(user).select_related("program").order_by("-program__year", "-id"))


def _current_round(request, rounds):
    chosen = request.GET.get("round")
    return next((r for r in rounds if str(r.pk) == chosen), rounds[0] if rounds else None)


@login_required
def overview(request):
    user = request.user
    rounds = _rounds(user)
    round_ = _current_round(request, rounds)
    context = {"rounds": rounds, "round": round_}
    if user.role == Role.PROVINCE_STAFF or user.role == Role.CITY_STAFF or user.role == Role.COUNTY_STAFF:
        open_programs = Program.objects.for_user(user).filter(owner_id=user.region_id, evaluation_round__isnull=True)
        if open_programs.exists():
            form = RoundForm()
            form.fields["program"].choices = [(str(p.pk), str(p)) for p in open_programs]
            context["round_form"] = form
    if round_ is not None:
        assessments = list(
            SelfAssessment.objects.for_user(user)
            .filter(round=round_)
            .select_related("county__parent")
            .order_by("county__parent_id", "county_id")
        )
        ranked = sorted(
            (a for a in assessments if a.final_score is not None), key=lambda a: a.final_score, reverse=True
        )
        counts = {s: 0 for s in AssessmentStatus.values}
        for a in assessments:
            counts[a.status] += 1
        context.update(
            {
                "assessments": assessments,
                "ranked": ranked,
                "status_counts": [(AssessmentStatus(s).label, n) for s, n in counts.items()],
                "checks": SpotCheck.objects.for_user(user)
                .filter(draw__round=round_)
                .select_related("assessment__county__parent", "draw")
                .order_by("-draw__drawn_at", "assessment__county_id"),
                "draw_form": DrawForm() if user.role == Role.PROVINCE_STAFF else None,
                "verify_form": VerifyForm(),
                "jobs": ReportJob.objects.for_user(user)
                .filter(round=round_)
                .select_related("region", "version")
                .order_by("-id")[:20],
                "report_targets": _report_targets(user),
            }
        )
        if user.role in (Role.PROVINCE_STAFF, Role.AUDITOR) and user.region and user.region.level == "province":
            city_rows = indicators.city_figures(round_, user.region)
            context["city_rows"] = city_rows
            context["city_chart"] = charts.bar_chart(
                [r["city"].name for r in city_rows],
                [charts.Series(_("综合得分（按当前数据）"), [r["figures"].total_score for r in city_rows])],
                title=_("各市综合得分"),
            )
    return render(request, "evaluation/overview.html", context)


def _report_targets(user) -> list[tuple[str, Region]]:
    home = user.home_region
    if home is None or user.role == Role.UNION_OFFICER:
        return []
    kind = {"province": ReportKind.PROVINCE, "city": ReportKind.CITY, "county": ReportKind.COUNTY}[home.level]
    targets = [(kind, home)]
    if home.level == "city":
        targets += [(ReportKind.COUNTY, c) for c in Region.objects.filter(parent=home).order_by("code")]
    return targets


@login_required
@require_POST
def round_create(request):
    form = RoundForm(request.POST)
    form.fields["program"].choices = [(str(p.pk), str(p)) for p in Program.objects.for_user(request.user)]
    if form.is_valid():
        data = form.cleaned_data
        round_ = call_service(
            form,
            lambda: services.round_create(
                program=int(data["program"]),
                by=request.user,
                coverage_target=data["coverage_target"],
                min_responses=data["min_responses"],
                weights={
                    "utilization": data["weight_utilization"],
                    "coverage": data["weight_coverage"],
                    "satisfaction": data["weight_satisfaction"],
                },
            ),
        )
        if round_ is not None:
            messages.success(request, _("已开展%(round)s，已为各县（市、区）建立自评。") % {"round": round_})
            return redirect(f"{reverse('evaluation')}?round={round_.pk}")
    _errors(request, form)
    return redirect("evaluation")


def _errors(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, _("%(label)s：%(error)s") % {"label": label, "error": error} if label else error)


@login_required
def assessment_detail(request, pk: int):
    assessment = get_object_or_404(
        SelfAssessment.objects.for_user(request.user).select_related("round__program", "county__parent"), pk=pk
    )
    live = indicators.compute(assessment.round, [assessment.county_id]) if assessment.status == "draft" else None
    actions = ASSESSMENT_WORKFLOW.actions_for(assessment.status, request.user.role)
    unions = (
        Allocation.objects.filter(program=assessment.round.program, county=assessment.county)
        .select_related("union")
        .order_by("union__name")
    )
    answered = dict(
        SurveyResponse.objects.filter(round=assessment.round, union__county=assessment.county)
        .values("union_id")
        .annotate(n=Count("id"))
        .values_list("union_id", "n")
    )
    return render(
        request,
        "evaluation/assessment_detail.html",
        {
            "a": assessment,
            "live": live,
            "actions": actions,
            "indicators": Indicator.choices,
            "unions": [(allocation, answered.get(allocation.union_id, 0)) for allocation in unions],
            "flags": [indicators.FLAG_LABELS.get(f, f) for f in (live.flags if live else assessment.flags)],
            "history": assessment.history.select_related("actor"),
            "checks": assessment.spot_checks.select_related("draw"),
            "evidence": assessment.evidence.select_related("uploaded_by"),
            "can_upload": request.user.role == Role.COUNTY_STAFF and assessment.status == AssessmentStatus.DRAFT,
        },
    )


@login_required
@require_POST
def assessment_action(request, pk: int, action: str):
    assessment = get_object_or_404(SelfAssessment.objects.for_user(request.user), pk=pk)
    form = forms.Form(request.POST)
    if action == "submit":
        run = lambda: services.assessment_submit(  # noqa: E731
            assessment=assessment, narrative=request.POST.get("narrative", ""), by=request.user
        )
    elif action == "approve":
        adjustments = {}
        for indicator in Indicator.values:
            value = request.POST.get(f"adjust_{indicator}", "").strip()
            if value:
                adjustments[indicator] = {"score": value, "reason": request.POST.get(f"reason_{indicator}", "")}
        run = lambda: services.assessment_approve(  # noqa: E731
            assessment=assessment, by=request.user, adjustments=adjustments, comment=request.POST.get("comment", "")
        )
    elif action == "return":
        run = lambda: services.assessment_return(  # noqa: E731
            assessment=assessment, by=request.user, comment=request.POST.get("comment", "")
        )
    else:
        raise Http404
    if call_service(form, run) is not None:
        messages.success(request, _("已办理。"))
    for error in form.non_field_errors():
        messages.error(request, error)
    for field, errors in form.errors.items():
        if field != "__all__":
            for error in errors:
                messages.error(request, error)
    return redirect("assessment-detail", pk=pk)


@login_required
@require_POST
def city_summary(request, pk: int):
    round_ = get_object_or_404(EvaluationRound.objects.for_user(request.user), pk=pk)
    form = forms.Form(request.POST)
    if call_service(
        form,
        lambda: services.city_summary_complete(
            round_=round_, by=request.user, narrative=request.POST.get("narrative", "")
        ),
    ):
        messages.success(request, _("已完成市级审核评价。"))
    for error in form.non_field_errors():
        messages.error(request, error)
    return redirect(f"{reverse('evaluation')}?round={round_.pk}")


@login_required
@require_POST
def spot_check_draw(request, pk: int):
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
    _errors(request, form)
    return redirect(f"{reverse('evaluation')}?round={round_.pk}#spot-checks")


@login_required
@require_POST
def spot_check_verify(request, pk: int):
    check = get_object_or_404(SpotCheck.objects.for_user(request.user).select_related("draw"), pk=pk)
    if request.POST.get("send_back"):
        form = forms.Form(request.POST)
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
                check=check,
                scores={k: form.cleaned_data[k] for k in ("utilization", "coverage", "satisfaction")},
                findings=form.cleaned_data["findings"],
                by=request.user,
            ),
        )
    if done:
        messages.success(request, _("已记录抽查结果。"))
    _errors(request, form)
    return redirect(f"{reverse('evaluation')}?round={check.draw.round_id}#spot-checks")


@login_required
@require_POST
def report_request(request, pk: int):
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
    return redirect(f"{reverse('evaluation')}?round={round_.pk}#reports")


@login_required
def report_download(request, pk: int):
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
def survey_links(request, pk: int):
    """Survey links and QR codes of the subsidised unions in scope, and paper entry (county staff)."""
    round_ = get_object_or_404(EvaluationRound.objects.for_user(request.user).select_related("program"), pk=pk)
    subsidised = services.subsidised_union_ids(round_)
    unions = list(
        Union.objects.for_user(request.user).filter(pk__in=subsidised).select_related("county").order_by("name")
    )
    answered = dict(
        SurveyResponse.objects.filter(round=round_, union__in=unions)
        .values("union_id")
        .annotate(n=Count("id"))
        .values_list("union_id", "n")
    )
    invites = {i.union_id: i for i in SurveyInvite.objects.filter(round=round_, union__in=unions)}
    rows = []
    for union in unions:
        invite = invites.get(union.pk)
        url = request.build_absolute_uri(reverse("survey", args=[invite.token])) if invite else ""
        rows.append(
            {
                "union": union,
                "invite": invite,
                "url": url,
                "qr": _qr(url) if url else "",
                "n": answered.get(union.pk, 0),
                "can_invite": permissions.can_create_survey_invite(request.user, union)[0],
            }
        )
    paper = PaperForm(unions=unions) if request.user.role == Role.COUNTY_STAFF and unions else None
    return render(
        request,
        "evaluation/surveys.html",
        {"round": round_, "rows": rows, "paper_form": paper, "minimum": round_.min_responses},
    )


def _qr(url: str):
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=3, xmldecl=False, svgns=True)
    return mark_safe(out.getvalue().decode())  # noqa: S308 - segno's own SVG of our own URL


@login_required
@require_POST
def survey_invite(request, pk: int, union_pk: int):
    round_ = get_object_or_404(EvaluationRound.objects.for_user(request.user), pk=pk)
    union = get_object_or_404(Union.objects.for_user(request.user), pk=union_pk)
    form = forms.Form(request.POST)
    if call_service(form, lambda: services.survey_invite(round_=round_, union=union, by=request.user)):
        messages.success(request, _("已生成「%(name)s」的调查链接。") % {"name": union.name})
    for error in form.errors.get("__all__", []) + form.errors.get("union", []):
        messages.error(request, error)
    return redirect("survey-links", pk=pk)


@login_required
@require_POST
def survey_paper(request, pk: int):
    round_ = get_object_or_404(EvaluationRound.objects.for_user(request.user), pk=pk)
    unions = Union.objects.for_user(request.user).filter(pk__in=services.subsidised_union_ids(round_))
    form = PaperForm(request.POST, unions=unions)
    if form.is_valid():
        rows = [
            {"union": form.cleaned_data["union"], "answer": answer.value}
            for answer in Answer
            for _n in range(form.cleaned_data[answer.value])
        ]
        created = call_service(form, lambda: services.survey_responses_enter(round_=round_, rows=rows, by=request.user))
        if created is not None:
            messages.success(request, _("已录入 %(n)d 份纸质问卷。") % {"n": len(created)})
    _errors(request, form)
    return redirect("survey-links", pk=pk)


def survey(request, token: str):
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
    elif SurveyResponse.objects.filter(
        round=invite.round, union=invite.union, device=services.device_digest(device)
    ).exists():
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


@login_required
@require_POST
def evidence_upload(request, pk: int):
    assessment = get_object_or_404(SelfAssessment.objects.for_user(request.user), pk=pk)
    upload = request.FILES.get("file")
    form = forms.Form(request.POST)
    if upload is None:
        messages.error(request, _("请选择要上传的文件。"))
    elif upload.size > settings.UPLOAD_MAX_BYTES:
        messages.error(request, too_large_message())
    elif evidence := call_service(
        form,
        lambda: services.evidence_add(
            assessment=assessment, filename=upload.name, content=upload.read(), by=request.user
        ),
    ):
        messages.success(request, _("已上传「%(name)s」。") % {"name": evidence.original_name})
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect("assessment-detail", pk=pk)


@login_required
def evidence_download(request, pk: int, evidence_pk: int):
    assessment = get_object_or_404(SelfAssessment.objects.for_user(request.user), pk=pk)
    evidence = get_object_or_404(assessment.evidence, pk=evidence_pk)
    response = FileResponse(evidence.file.open("rb"), content_type=evidence.content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(evidence.original_name, safe='')}"
    return response


@login_required
@require_POST
def survey_import(request, pk: int):
    round_ = get_object_or_404(EvaluationRound.objects.for_user(request.user), pk=pk)
    try:
        services.check_survey_entry(request.user)  # refused before the upload is touched
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("survey-links", pk=pk)
    upload = request.FILES.get("file")
    form = forms.Form(request.POST)
    if upload is None:
        messages.error(request, _("请选择要导入的文件。"))
    elif upload.size > settings.UPLOAD_MAX_BYTES:
        messages.error(request, too_large_message())
    else:
        created = call_service(
            form,
            lambda: services.survey_import(round_=round_, filename=upload.name, content=upload.read(), by=request.user),
        )
        if created is not None:
            messages.success(request, _("已导入 %(n)d 份问卷。") % {"n": len(created)})
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect("survey-links", pk=pk)
