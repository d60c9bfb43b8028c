"""Browser pages of the grants app: the review queue, the application page, drafting, programs."""

from decimal import Decimal
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Sum
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from members.choices import OrgForm, Role, UnionStatus
from members.models import Region, Union
from unionfunds.core import charts, clock
from unionfunds.core.charts import progress_bar
from unionfunds.core.forms import call_service
from unionfunds.core.money import format_money
from unionfunds.core.uploads import voucher_too_large_message

from . import allocations, eligibility, permissions, selectors, services
from .choices import ACTION_LABELS, AllocationStatus, ApplicationStatus
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
from .models import Allocation, ApplicationTransition, Attachment, BudgetLine, Expenditure, Program
from .workflows import DECISIONS, workflow_for

# What each role works on first when it opens the queue.
DEFAULT_STATUS = {
    Role.PROVINCE_STAFF: ApplicationStatus.REVIEWED,
    Role.CITY_STAFF: ApplicationStatus.RECOMMENDED,
    Role.COUNTY_STAFF: ApplicationStatus.SUBMITTED,
}
SORTS = {
    "priority": ["-priority_score", "submitted_at", "id"],
    "amount": ["-requested_amount", "id"],
    "date": ["submitted_at", "id"],
}


@login_required
def queue(request):
    user = request.user
    programs = list(Program.objects.for_user(user).select_related("owner").order_by("-year", "id"))
    regions = list(Region.objects.for_user(user).exclude(level="province").order_by("code"))
    params = request.GET.copy()
    if "status" not in params and user.role in DEFAULT_STATUS:
        params["status"] = DEFAULT_STATUS[user.role]
    if not params.get("program") and programs:
        params["program"] = str(programs[0].pk)
    form = QueueFilterForm(params, programs=programs, regions=regions, org_forms=OrgForm.choices)
    rows = selectors.applications_for(user)
    program = None
    if form.is_valid():
        data = form.cleaned_data
        if data.get("program"):
            program = next(p for p in programs if str(p.pk) == data["program"])
            rows = rows.filter(program=program)
        if data.get("city"):
            rows = rows.filter(union__county__parent_id=data["city"])
        if data.get("county"):
            rows = rows.filter(union__county_id=data["county"])
        if data.get("status"):
            rows = rows.filter(status=data["status"])
        if data.get("eligible"):
            rows = rows.filter(eligible=data["eligible"] == "yes")
        if data.get("org_form"):
            rows = rows.filter(union__org_form=data["org_form"])
        rows = rows.order_by(*SORTS[data.get("sort") or "priority"])
    else:
        rows = rows.none()
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
            "can_draft": user.role in (Role.UNION_OFFICER, Role.COUNTY_STAFF),
        },
    )


def _application_or_404(request, pk: int):
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
def application_detail(request, pk: int):
    application = _application_or_404(request, pk)
    user = request.user
    program = application.program
    checks = eligibility.evaluate_many([application], on=clock.today())[application.pk]
    actions = [
        (name, ACTION_LABELS[name])
        for name in workflow_for(program).actions_for(application.status, user.role)
        if name not in DECISIONS or permissions.is_owner_staff(user, program)
    ]
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
            "waiting_for": None if actions else _waiting_for(program, application.status),
            "action_form": ActionForm(initial={"approved_amount": _suggested_amount(application, budget)}),
            "budget": budget,
            "can_edit": permissions.can_edit_application(user, application)[0],
            "can_attach": permissions.can_attach(user, application)[0],
            "attachment_form": AttachmentForm(),
            "allocation": getattr(application, "allocation", None) if application.status == "approved" else None,
        },
    )


def _waiting_for(program, status: str) -> str | None:
    """Who acts next on an application in ``status``, read from the workflow table (e.g. 市总工会)."""
    roles = {
        role
        for t in workflow_for(program).transitions
        if t.source == status and t.action != "return"
        for role in t.roles
    }
    return _("或").join(str(Role(r).label) for r in sorted(roles)) if roles else None


@login_required
@require_POST
def application_action(request, pk: int, action: str):
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
            if request.user.role != Role.UNION_OFFICER and action in ("recommend", "review", "approve", "reject"):
                return redirect("application-queue")
            return redirect("application-detail", pk=pk)
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect("application-detail", pk=pk)


def _draft_choices(user):
    programs = [p for p in Program.objects.for_user(user).select_related("owner") if p.closes_on >= clock.today()]
    unions = Union.objects.for_user(user).exclude(status=UnionStatus.DISSOLVED).order_by("name")
    return programs, unions


@login_required
def application_create(request):
    if request.user.role not in (Role.UNION_OFFICER, Role.COUNTY_STAFF):
        messages.error(request, _("只有基层工会或所在县（市、区）总工会可以填写申请。"))
        return redirect("application-queue")
    programs, unions = _draft_choices(request.user)
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
def application_edit(request, pk: int):
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
def attachment_upload(request, pk: int):
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
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect("application-detail", pk=pk)


@login_required
def attachment_download(request, pk: int, attachment_pk: int):
    application = _application_or_404(request, pk)
    attachment = get_object_or_404(Attachment, application=application, pk=attachment_pk)
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(attachment.original_name, safe='')}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def program_list(request):
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
def program_detail(request, pk: int):
    program = get_object_or_404(selectors.programs_for(request.user), pk=pk)
    return render(
        request,
        "grants/program_detail.html",
        {"program": program, "budget": selectors.program_budget(program, user=request.user)},
    )


@login_required
def program_create(request):
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
def allocation_list(request):
    user = request.user
    programs = list(Program.objects.for_user(user).order_by("-year", "id"))
    regions = list(Region.objects.for_user(user).exclude(level="province").order_by("code"))
    form = AllocationFilterForm(
        request.GET or None, programs=programs, regions=regions, statuses=AllocationStatus.choices
    )
    rows = allocations.allocations_for(user).order_by("-approved_at", "id")
    if form.is_bound and form.is_valid():
        filterset = allocations.AllocationFilter(
            {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}, queryset=rows
        )
        rows = filterset.qs
    totals = rows.aggregate(
        allocated=Coalesce(Sum("amount"), Decimal("0")),
        disbursed=Coalesce(Sum("disbursed_amount"), Decimal("0")),
        spent=Coalesce(Sum("spent_amount"), Decimal("0")),
    )
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


def _allocation_or_404(request, pk: int) -> Allocation:
    return get_object_or_404(allocations.allocations_for(request.user).select_related("program"), pk=pk)


@login_required
def allocation_detail(request, pk: int):
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
            "by_category": allocations.by_category(allocation),
            "can_disburse": permissions.can_disburse(user, allocation)[0],
            "can_spend": permissions.can_spend(user, allocation)[0],
            "disbursement_form": DisbursementForm(
                initial={"paid_on": clock.today()},
                union_name=allocation.union.name,
                targets=services.disbursement_targets(allocation, user.region),
            ),
            "expenditure_form": ExpenditureForm(categories=allocation.program.categories),
        },
    )


@login_required
@require_POST
def disbursement_create(request, pk: int):
    allocation = _allocation_or_404(request, pk)
    form = DisbursementForm(
        request.POST,
        union_name=allocation.union.name,
        targets=services.disbursement_targets(allocation, request.user.region),
    )
    if form.is_valid() and call_service(
        form, lambda: services.disbursement_record(allocation=allocation, by=request.user, **form.cleaned_data)
    ):
        messages.success(
            request, _("已登记拨付 %(amount)s 元。") % {"amount": format_money(form.cleaned_data["amount"])}
        )
    _form_errors_to_messages(request, form)
    return redirect("allocation-detail", pk=pk)


@login_required
@require_POST
def expenditure_create(request, pk: int):
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
    _form_errors_to_messages(request, form)
    return redirect("allocation-detail", pk=pk)


def _form_errors_to_messages(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, _("%(label)s：%(error)s") % {"label": label, "error": error} if label else error)


@login_required
def voucher_download(request, pk: int, expenditure_pk: int):
    allocation = _allocation_or_404(request, pk)
    expenditure = get_object_or_404(Expenditure, allocation=allocation, pk=expenditure_pk)
    if not expenditure.voucher_file:
        raise Http404
    response = FileResponse(expenditure.voucher_file.open("rb"), content_type=expenditure.voucher_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(expenditure.voucher_name, safe='')}"
    return response


@login_required
def dashboard(request):
    """Allocated vs. spent by city (by county for a city) and the distribution of utilisation."""
    user = request.user
    # Whether each program has allocations comes with the list (one EXISTS per row, not a query per program).
    programs = list(
        Program.objects.for_user(user)
        .annotate(allocated=Exists(Allocation.objects.filter(program=OuterRef("pk"))))
        .order_by("-year", "id")
    )
    chosen = request.GET.get("program")
    program = next((p for p in programs if str(p.pk) == chosen), None)
    if program is None:
        program = next((p for p in programs if p.allocated), programs[0] if programs else None)
    home = user.home_region
    group_by = "city" if home is not None and home.level == "province" else "county"
    rows = allocations.summary(user, group_by=group_by, program=program.pk if program else None)
    scoped = Allocation.objects.for_user(user)
    if program is not None:
        scoped = scoped.filter(program=program)
    buckets = allocations.utilization_buckets(scoped)
    totals = scoped.aggregate(
        allocated=Coalesce(Sum("amount"), Decimal("0")),
        disbursed=Coalesce(Sum("disbursed_amount"), Decimal("0")),
        spent=Coalesce(Sum("spent_amount"), Decimal("0")),
        count=Count("id"),
    )
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
