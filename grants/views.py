"""Browser pages of the grants app: the review queue, the application page, drafting, programs."""

from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from members.choices import OrgForm, RegionLevel
from unionfunds.core import charts, clock
from unionfunds.core.charts import progress_bar
from unionfunds.core.forms import call_service, errors_to_messages
from unionfunds.core.money import format_money
from unionfunds.core.uploads import download_response, voucher_too_large_message

from . import eligibility, permissions, selectors, services
from .choices import ACTION_LABELS, AllocationStatus, ApplicationStatus
from .filters import AllocationFilter
from .forms import (
    ActionForm,
    AllocationFilterForm,
    ApplicationForm,
    AttachmentForm,
    DisbursementForm,
    ExpenditureForm,
    ProgramForm,
    QueueFilterForm,
)
from .models import Allocation, ApplicationTransition, Attachment, BudgetLine, Expenditure
from .workflows import DECISIONS, QUEUE_ACTIONS, waiting_for


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    user = request.user
    programs = selectors.program_choices(user)
    params = request.GET.copy()
    default_status = selectors.queue_status(user)
    if "status" not in params and default_status:
        params["status"] = default_status
    if not params.get("program") and programs:
        params["program"] = str(programs[0].pk)
    form = QueueFilterForm(params, programs=programs, regions=selectors.filter_regions(user), org_forms=OrgForm.choices)
    program = None
    if form.is_valid():
        data = form.cleaned_data
        if data.get("program"):
            program = next(p for p in programs if str(p.pk) == data["program"])
        rows = selectors.review_queue(user, data, program=program)
    else:
        rows = selectors.applications_for(user).none()
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    selectors.mark_eligibility(page)
    query = params.copy()
    query.pop("page", None)
    status_counts = selectors.queue_counts(user, program=program)
    return render(
        request,
        "grants/queue.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "program": program,
            "budget": selectors.program_budget(program, user=user) if program else None,
            "status_tabs": [(value, label, status_counts[value]) for value, label in ApplicationStatus.choices],
            "current_status": form.cleaned_data.get("status") if form.is_valid() else "",
            "can_draft": permissions.can_draft_applications(user).allowed,
        },
    )


def _application_or_404(request: HttpRequest, pk: int):
    queryset = selectors.applications_for(request.user).prefetch_related(
        "budget_lines",
        Prefetch("history", queryset=ApplicationTransition.objects.select_related("actor")),
        Prefetch("attachments", queryset=Attachment.objects.select_related("uploaded_by")),
    )
    return get_object_or_404(queryset, pk=pk)


def _suggested_amount(application, budget: dict) -> Decimal:
    remaining = Decimal(budget["remaining"])
    return max(min(application.requested_amount, application.program.max_grant, remaining), Decimal("0.00"))


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = _application_or_404(request, pk)
    user = request.user
    program = application.program
    checks = eligibility.evaluate_many([application], on=clock.today())[application.pk]
    actions = [(name, ACTION_LABELS[name]) for name in permissions.application_actions(user, application)]
    budget = selectors.program_budget(program, user=user)
    return render(
        request,
        "grants/application_detail.html",
        {
            "application": application,
            "checks": checks,
            "eligible": all(c.passed for c in checks),
            "actions": actions,
            "can_decide": any(name in DECISIONS for name, _label in actions),
            "waiting_for": None if actions else waiting_for(program, application.status),
            "action_form": ActionForm(initial={"approved_amount": _suggested_amount(application, budget)}),
            "budget": budget,
            "can_edit": permissions.can_edit_application(user, application)[0],
            "can_attach": permissions.can_attach(user, application)[0],
            "attachment_form": AttachmentForm(),
            "allocation": getattr(application, "allocation", None)
            if application.status == ApplicationStatus.APPROVED
            else None,
        },
    )


@login_required
@require_POST
def application_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    application = _application_or_404(request, pk)
    form = ActionForm(request.POST)
    if form.is_valid():
        done = call_service(
            form,
            lambda: services.application_transition(
                application=application,
                action=action,
                by=request.user,
                comment=form.cleaned_data["comment"],
                approved_amount=form.cleaned_data["approved_amount"],
            ),
        )
        if done:
            messages.success(request, _("已%(action)s。") % {"action": ACTION_LABELS.get(action, action)})
            if action in QUEUE_ACTIONS:  # a reviewer's step: on to the next application in the queue
                return redirect("application-queue")
            return redirect("application-detail", pk=pk)
    errors_to_messages(request, form)
    return redirect("application-detail", pk=pk)


@login_required
def application_create(request: HttpRequest) -> HttpResponse:
    allowed, reason = permissions.can_draft_applications(request.user)
    if not allowed:
        messages.error(request, reason)
        return redirect("application-queue")
    programs, unions = selectors.draft_choices(request.user)
    initial = {"union": request.GET.get("union"), "program": request.GET.get("program")}
    form = ApplicationForm(request.POST or None, programs=programs, unions=unions, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        application = call_service(form, lambda: services.application_create(data=data, by=request.user))
        if application is not None:
            messages.success(request, _("申请已保存为草稿；核对无误后请提交。"))
            return redirect("application-detail", pk=application.pk)
    return render(request, "grants/application_form.html", {"form": form, "title": _("填写补助申请")})


def _lines_text(lines: list[BudgetLine]) -> str:
    return "\n".join(f"{line.get_category_display()} {line.amount} {line.description}".strip() for line in lines)


@login_required
def application_edit(request: HttpRequest, pk: int) -> HttpResponse:
    application = _application_or_404(request, pk)
    allowed, reason = permissions.can_edit_application(request.user, application)
    if not allowed:
        messages.error(request, reason)
        return redirect("application-detail", pk=pk)
    initial = {
        "program": str(application.program_id),
        "union": str(application.union_id),
        "requested_amount": application.requested_amount,
        "plan": application.plan,
        "budget_lines": _lines_text(list(application.budget_lines.all())),
    }
    form = ApplicationForm(
        request.POST or None,
        programs=[application.program],
        unions=[application.union],
        editing=True,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in ("requested_amount", "plan", "budget_lines")}
        if call_service(form, lambda: services.application_update(application=application, data=data, by=request.user)):
            messages.success(request, _("已保存。"))
            return redirect("application-detail", pk=pk)
    return render(
        request, "grants/application_form.html", {"form": form, "title": _("修改申请"), "application": application}
    )


@login_required
@require_POST
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    application = _application_or_404(request, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        attachment = call_service(
            form,
            lambda: services.attachment_add(
                application=application,
                kind=form.cleaned_data["kind"],
                filename=upload.name,
                content=upload.read(),
                by=request.user,
            ),
        )
        if attachment:
            messages.success(request, _("已上传「%(name)s」。") % {"name": attachment.original_name})
    errors_to_messages(request, form)
    return redirect("application-detail", pk=pk)


@login_required
def attachment_download(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
    application = _application_or_404(request, pk)
    attachment = get_object_or_404(Attachment, application=application, pk=attachment_pk)
    return download_response(attachment.file, name=attachment.original_name, content_type=attachment.content_type)


@login_required
def program_list(request: HttpRequest) -> HttpResponse:
    programs = selectors.programs_for(request.user).order_by("-year", "id")
    return render(
        request,
        "grants/program_list.html",
        {
            "programs": programs,
            "can_create": permissions.can_create_program(request.user)[0],
        },
    )


@login_required
def program_detail(request: HttpRequest, pk: int) -> HttpResponse:
    program = get_object_or_404(selectors.programs_for(request.user), pk=pk)
    return render(
        request,
        "grants/program_detail.html",
        {"program": program, "budget": selectors.program_budget(program, user=request.user)},
    )


@login_required
def program_create(request: HttpRequest) -> HttpResponse:
    allowed, reason = permissions.can_create_program(request.user)
    if not allowed:
        messages.error(request, reason)
        return redirect("program-list")
    form = ProgramForm(request.POST or None, initial={"year": clock.today().year})
    if request.method == "POST" and form.is_valid():
        try:
            data = form.service_data(request.user.region_id)
        except ValidationError as exc:
            form.add_error("city_quotas", exc)
        else:
            program = call_service(form, lambda: services.program_create(data=data, by=request.user))
            if program is not None:
                messages.success(request, _("已设立项目「%(name)s」。") % {"name": program.name})
                return redirect("program-detail", pk=program.pk)
    return render(request, "grants/program_form.html", {"form": form})


# ---------------------------------------------------------------- allocations


@login_required
def allocation_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = AllocationFilterForm(
        request.GET or None,
        programs=selectors.program_choices(user),
        regions=selectors.filter_regions(user),
        statuses=AllocationStatus.choices,
    )
    rows = selectors.allocations_for(user).order_by("-approved_at", "id")
    if form.is_bound and form.is_valid():
        rows = AllocationFilter({k: v for k, v in form.cleaned_data.items() if v not in (None, "")}, queryset=rows).qs
    totals = selectors.allocation_totals(rows)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "grants/allocation_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "api_query": urlencode({k: v for k, v in form.cleaned_data.items() if v not in (None, "")})
            if form.is_bound and form.is_valid()
            else "",
            "totals": totals,
        },
    )


def _allocation_or_404(request: HttpRequest, pk: int) -> Allocation:
    return get_object_or_404(selectors.allocations_for(request.user).select_related("program"), pk=pk)


@login_required
def allocation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = _allocation_or_404(request, pk)
    user = request.user
    return render(
        request,
        "grants/allocation_detail.html",
        {
            "allocation": allocation,
            "bar": progress_bar(allocation.utilization_rate),
            "tranches": allocation.disbursements.select_related("from_region", "to_region", "recorded_by"),
            "expenditures": allocation.expenditures.select_related("recorded_by"),
            "by_category": selectors.by_category(allocation),
            "can_disburse": permissions.can_disburse(user, allocation)[0],
            "can_spend": permissions.can_spend(user, allocation)[0],
            "disbursement_form": DisbursementForm(
                initial={"paid_on": clock.today()},
                union_name=allocation.union.name,
                targets=selectors.disbursement_targets(allocation, user.region),
            ),
            "expenditure_form": ExpenditureForm(categories=allocation.program.categories),
        },
    )


@login_required
@require_POST
def disbursement_create(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = _allocation_or_404(request, pk)
    form = DisbursementForm(
        request.POST,
        union_name=allocation.union.name,
        targets=selectors.disbursement_targets(allocation, request.user.region),
    )
    if form.is_valid() and call_service(
        form, lambda: services.disbursement_record(allocation=allocation, by=request.user, **form.cleaned_data)
    ):
        messages.success(
            request, _("已登记拨付 %(amount)s 元。") % {"amount": format_money(form.cleaned_data["amount"])}
        )
    errors_to_messages(request, form)
    return redirect("allocation-detail", pk=pk)


@login_required
@require_POST
def expenditure_create(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = _allocation_or_404(request, pk)
    form = ExpenditureForm(request.POST, request.FILES, categories=allocation.program.categories)
    if form.is_valid():
        data = dict(form.cleaned_data)
        upload = data.pop("voucher_file", None)
        if upload is not None and upload.size > settings.UPLOAD_MAX_BYTES:
            form.add_error("voucher_file", voucher_too_large_message())
        elif call_service(
            form,
            lambda: services.expenditure_record(
                allocation=allocation,
                data=data,
                by=request.user,
                voucher_name=upload.name if upload else "",
                voucher_content=upload.read() if upload else None,
            ),
        ):
            messages.success(request, _("已登记支出 %(amount)s 元。") % {"amount": format_money(data["amount"])})
    errors_to_messages(request, form)
    return redirect("allocation-detail", pk=pk)


@login_required
def voucher_download(request: HttpRequest, pk: int, expenditure_pk: int) -> HttpResponse:
    allocation = _allocation_or_404(request, pk)
    expenditure = get_object_or_404(Expenditure, allocation=allocation, pk=expenditure_pk)
    if not expenditure.voucher_file:
        raise Http404
    return download_response(
        expenditure.voucher_file, name=expenditure.voucher_name, content_type=expenditure.voucher_type
    )


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Allocated vs. spent by city (by county for a city) and the distribution of utilisation."""
    user = request.user
    programs = selectors.dashboard_programs(user)
    chosen = request.GET.get("program")
    program = next((p for p in programs if str(p.pk) == chosen), None)
    if program is None:
        program = next((p for p in programs if p.allocated), programs[0] if programs else None)
    home = user.home_region
    group_by = "city" if home is not None and home.level == RegionLevel.PROVINCE else "county"
    rows = selectors.summary(user, group_by=group_by, program=program.pk if program else None)
    scoped = Allocation.objects.for_user(user)
    if program is not None:
        scoped = scoped.filter(program=program)
    buckets = selectors.utilization_buckets(scoped)
    totals = selectors.allocation_totals(scoped)
    rate = (totals["spent"] / totals["allocated"]) if totals["allocated"] else Decimal("0")
    by_area = charts.bar_chart(
        [r["name"] for r in rows],
        [
            charts.Series(_("下拨"), [Decimal(r["allocated"]) for r in rows]),
            charts.Series(_("已支出"), [Decimal(r["spent"]) for r in rows], color=charts.PALETTE[2]),
        ],
        title=_("各地下拨与支出（元）"),
    )
    distribution = charts.column_chart(
        [b["band"] for b in buckets], [b["count"] for b in buckets], title=_("资金使用率分布（工会数）")
    )
    return render(
        request,
        "grants/dashboard.html",
        {
            "programs": programs,
            "program": program,
            "rows": rows,
            "totals": totals,
            "rate": rate,
            "rate_bar": progress_bar(rate, width=320),
            "by_area": by_area,
            "distribution": distribution,
            "group_by": group_by,
        },
    )
