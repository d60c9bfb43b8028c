"""Browser pages of the members app. Reads through ``for_user``; writes through services."""

import datetime as dt
import json
import re
from collections import Counter

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from unionfunds.core.exports import to_csv
from unionfunds.core.forms import call_service
from unionfunds.core.models import AuditEvent
from unionfunds.core.uploads import display_file_name, too_large_message

from . import permissions, services
from .choices import OrgForm, RegionLevel, Role, UnionStatus, WorkerGroup
from .filters import UnionFilter
from .forms import MemberForm, MemberLeaveForm, RosterImportForm, TransitionForm, UnionAccountForm, UnionForm
from .models import Member, Region, Union, User
from .roster import COLUMNS, template_csv, template_xlsx
from .workflows import UNION_ACTION_LABELS, UNION_WORKFLOW

# The import page lists at most this many errors; a file with thousands of bad rows usually has one
# systematic problem (a whole column in the wrong format), which the per-column totals show.
IMPORT_ERRORS_SHOWN = 200


def _posted(request, *, files: bool = False):
    """The submitted data on POST (even when empty, so the form is bound and says what is missing)."""
    if request.method != "POST":
        return None
    return request.FILES if files else request.POST


def _union_or_404(request, pk: int) -> Union:
    return get_object_or_404(Union.objects.for_user(request.user).select_related("county__parent"), pk=pk)


@login_required
def home(request):
    unions = Union.objects.for_user(request.user)
    by_status = dict(unions.values_list("status").annotate(n=Count("id")).order_by())
    members = unions.aggregate(n=Sum("member_count"))["n"] or 0
    return render(
        request,
        "members/home.html",
        {
            "by_status": [(label, by_status.get(value, 0), value) for value, label in UnionStatus.choices],
            "union_total": sum(by_status.values()),
            "member_total": members,
            "can_register": permissions.can_register_union(request.user)[0],
            "can_view_audit": permissions.can_view_audit(request.user)[0],
            "own_union": request.user.union if request.user.role == Role.UNION_OFFICER else None,
            "pending": unions.filter(status=UnionStatus.PENDING).order_by("-created_at")[:10]
            if request.user.role == Role.COUNTY_STAFF
            else [],
            "breakdown": _breakdown(request.user, unions),
        },
    )


def _breakdown(user, unions) -> dict | None:
    """Unions and members per city (for the province) or per county (for a city), zeros included."""
    region = user.region if user.role != Role.UNION_OFFICER else None
    if region is None or region.level == RegionLevel.COUNTY:
        return None
    key = "county__parent_id" if region.level == RegionLevel.PROVINCE else "county_id"
    counts = {
        row[key]: row
        for row in unions.values(key)
        .annotate(
            total=Count("id"),
            verified=Count("id", filter=Q(status=UnionStatus.VERIFIED)),
            pending=Count("id", filter=Q(status=UnionStatus.PENDING)),
            members=Sum("member_count"),
        )
        .order_by()
    }
    rows = [
        {
            "region": child,
            "total": counts.get(child.code, {}).get("total", 0),
            "verified": counts.get(child.code, {}).get("verified", 0),
            "pending": counts.get(child.code, {}).get("pending", 0),
            "members": counts.get(child.code, {}).get("members") or 0,
        }
        for child in Region.objects.filter(parent=region).order_by("code")
    ]
    return {"param": "city" if region.level == RegionLevel.PROVINCE else "county", "rows": rows}


@login_required
def union_list(request):
    queryset = Union.objects.for_user(request.user).select_related("county__parent").order_by("county_id", "name")
    filterset = UnionFilter(request.GET or None, queryset=queryset)
    rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    counties = list(_scope_counties(request.user))
    cities = sorted({c.parent for c in counties}, key=lambda r: r.code)
    return render(
        request,
        "members/union_list.html",
        {
            "filter": filterset,
            "page": page,
            "query": query.urlencode(),
            "counties": counties if len(counties) > 1 else [],
            "cities": cities if len(cities) > 1 else [],
            "choices": {
                "status": UnionStatus.choices,
                "org_form": OrgForm.choices,
                "group": WorkerGroup.choices,
            },
            "selected": {name: request.GET.get(name, "") for name in ("status", "org_form", "group", "county", "city")},
            "filter_errors": [
                (filterset.form.fields[name].label if name in filterset.form.fields else "", " ".join(errors))
                for name, errors in (filterset.errors.items() if filterset.is_bound else [])
            ],
            "can_register": permissions.can_register_union(request.user)[0],
        },
    )


def _scope_counties(user):
    return Region.objects.for_user(user).counties().select_related("parent").order_by("code")


@login_required
def union_detail(request, pk: int):
    union = _union_or_404(request, pk)
    roster = Member.objects.for_user(request.user).filter(union=union)
    show = "all" if request.GET.get("show") == "all" else "active"
    if show == "active":
        roster = roster.active()
    search = request.GET.get("q", "").strip()[:50]
    if FULL_NUMBER.search(search):
        # A search box is not the place for whole ID or phone numbers: drop it from the URL at once.
        messages.warning(request, _("为保护个人信息，请按姓名或身份证号末几位查找，不要输入完整号码。"))
        return redirect(f"{request.path}?{urlencode({'show': show})}")
    if search:
        roster = roster.filter(_member_search(search))
    page = Paginator(roster.order_by("-left_on", "name", "id"), 100).get_page(request.GET.get("page"))
    actions = [(a, UNION_ACTION_LABELS[a]) for a in UNION_WORKFLOW.actions_for(union.status, request.user.role)]
    query = {"show": show, **({"q": search} if search else {})}
    return render(
        request,
        "members/union_detail.html",
        {
            "union": union,
            "page": page,
            "show": show,
            "search": search,
            "query": urlencode(query),
            "actions": actions,
            "transition_form": TransitionForm(),
            "can_edit": permissions.can_edit_union(request.user, union)[0],
            "can_manage_roster": permissions.can_manage_roster(request.user, union)[0],
            "can_open_account": permissions.can_open_union_account(request.user, union)[0],
            "accounts": User.objects.for_user(request.user).filter(union=union).order_by("username")
            if permissions.can_see_union_accounts(request.user, union)[0]
            else [],
        },
    )


FULL_NUMBER = re.compile(r"\d{11,}[\dXx]?")
TAIL = re.compile(r"[\dXx]{3,4}")


def _member_search(text: str) -> Q:
    """Members by name, or by the visible tail of the masked ID number (e.g. ``123X``)."""
    if TAIL.fullmatch(text):
        return Q(id_number_masked__endswith=text.upper()) | Q(name__icontains=text)
    return Q(name__icontains=text)


def _union_initial(union: Union) -> dict:
    data = {name: getattr(union, name) for name in services.UNION_FIELDS}
    data["county"] = union.county_id
    data["covered_groups"] = union.groups
    return data


@login_required
def union_create(request):
    allowed, reason = permissions.can_register_union(request.user)
    if not allowed:
        messages.error(request, reason)
        return redirect("union-list")
    form = UnionForm(_posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        union = call_service(form, lambda: services.union_register(data=form.cleaned_data, by=request.user))
        if union is not None:
            messages.success(request, _("已登记「%(name)s」，待核实。") % {"name": union.name})
            return redirect("union-detail", pk=union.pk)
    return render(request, "members/union_form.html", {"form": form, "title": _("登记基层工会")})


@login_required
def union_edit(request, pk: int):
    union = _union_or_404(request, pk)
    allowed, reason = permissions.can_edit_union(request.user, union)
    if not allowed:
        messages.error(request, reason)
        return redirect("union-detail", pk=pk)
    locked = (
        sorted(set(services.UNION_FIELDS) - services.OFFICER_EDITABLE)
        if request.user.role == Role.UNION_OFFICER
        else []
    )
    form = UnionForm(_posted(request), user=request.user, locked=locked, initial=_union_initial(union), stored=union)
    if request.method == "POST" and form.is_valid():
        data = form.changes(locked)
        if call_service(form, lambda: services.union_update(union=union, data=data, by=request.user)):
            messages.success(request, _("已保存。"))
            return redirect("union-detail", pk=pk)
    return render(request, "members/union_form.html", {"form": form, "title": _("修改工会信息"), "union": union})


@login_required
@require_POST
def union_transition(request, pk: int, action: str):
    union = _union_or_404(request, pk)
    label = str(UNION_ACTION_LABELS.get(action, action))
    if action not in UNION_WORKFLOW.actions_for(union.status, request.user.role):
        # Say it in the clerk's words; the service would refuse with the workflow's codes.
        if any(t.source == union.status and t.action == action for t in UNION_WORKFLOW.transitions):
            messages.error(request, _("只有所在县（市、区）总工会可以%(action)s工会。") % {"action": label})
        else:
            messages.error(
                request,
                _("“%(status)s”的工会不能%(action)s。") % {"status": union.get_status_display(), "action": label},
            )
        return redirect("union-detail", pk=pk)
    form = TransitionForm(request.POST)
    if form.is_valid():
        done = call_service(
            form,
            lambda: services.union_transition(
                union=union, action=action, by=request.user, comment=form.cleaned_data["comment"]
            ),
        )
        if done:
            messages.success(request, _("已%(action)s。") % {"action": label})
    for error in form.non_field_errors():
        messages.error(request, error)
    return redirect("union-detail", pk=pk)


@login_required
def union_account_create(request, pk: int):
    union = _union_or_404(request, pk)
    allowed, reason = permissions.can_open_union_account(request.user, union)
    if not allowed:
        messages.error(request, reason)
        return redirect("union-detail", pk=pk)
    form = UnionAccountForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        account = call_service(
            form,
            lambda: services.union_account_open(
                union=union,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                by=request.user,
            ),
        )
        if account is not None:
            messages.success(
                request,
                _("已为「%(union)s」开设账号「%(username)s」。请将账号和初始密码告知工会负责人，首次登录后修改密码。")
                % {"union": union.name, "username": account.username},
            )
            return redirect(f"{reverse('union-detail', args=[pk])}#accounts")
    return render(request, "members/union_account_form.html", {"union": union, "form": form})


@login_required
def roster_import(request, pk: int):
    union = _union_or_404(request, pk)
    allowed, reason = permissions.can_manage_roster(request.user, union)
    if not allowed:
        messages.error(request, reason)
        return redirect("union-detail", pk=pk)
    form = RosterImportForm(_posted(request), _posted(request, files=True))
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > settings.UPLOAD_MAX_BYTES:
            form.add_error("file", too_large_message())
        else:
            result = call_service(
                form,
                lambda: services.roster_import(
                    union=union, filename=upload.name, content=upload.read(), by=request.user
                ),
            )
            if result is not None and result.ok:
                messages.success(
                    request,
                    _("导入完成：新增 %(created)d 人，更新 %(updated)d 人。")
                    % {"created": result.created, "updated": result.updated},
                )
                return redirect("union-detail", pk=pk)
    context = {
        "union": union,
        "form": form,
        "result": result,
        "columns": COLUMNS,
        "max_mb": settings.UPLOAD_MAX_BYTES // 1048576,
    }
    if result is not None and result.errors:
        errors = result.errors
        by_column = Counter(e["column"] or _("（整个文件）") for e in errors)
        context.update(
            filename=display_file_name(form.cleaned_data["file"].name),
            errors_shown=errors[:IMPORT_ERRORS_SHOWN],
            error_total=len(errors),
            error_rows=len({e["row"] for e in errors}),
            # Per-column totals help only when there are many errors spread over several columns.
            errors_by_column=by_column.most_common() if len(errors) > 10 and len(by_column) > 1 else [],
        )
    return render(request, "members/roster_import.html", context)


@login_required
def roster_template(request):
    if request.GET.get("format") == "csv":
        response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = "attachment; filename*=UTF-8''roster-template.csv"
        return response
    response = HttpResponse(
        template_xlsx(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = "attachment; filename*=UTF-8''roster-template.xlsx"
    return response


@login_required
def member_add(request, pk: int):
    union = _union_or_404(request, pk)
    allowed, reason = permissions.can_manage_roster(request.user, union)
    if not allowed:
        messages.error(request, reason)
        return redirect("union-detail", pk=pk)
    form = MemberForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        member = call_service(form, lambda: services.member_add(union=union, data=form.cleaned_data, by=request.user))
        if member is not None:
            messages.success(request, _("已录入会员 %(member)s。") % {"member": member})
            return redirect("union-detail", pk=pk)
    return render(request, "members/member_form.html", {"union": union, "form": form})


@login_required
@require_POST
def member_leave(request, pk: int, member_pk: int):
    member = get_object_or_404(Member.objects.for_user(request.user).filter(union_id=pk), pk=member_pk)
    form = MemberLeaveForm(request.POST)
    if form.is_valid() and call_service(
        form,
        lambda: services.member_update(member=member, data={"left_on": form.cleaned_data["left_on"]}, by=request.user),
    ):
        messages.success(request, _("已办理 %(member)s 离会。") % {"member": member})
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect("union-detail", pk=pk)


@login_required
def password_change(request):
    """Change one's own password (the old one first; the project's password rules apply)."""
    form = PasswordChangeForm(request.user, _posted(request))
    if request.method == "POST" and form.is_valid():
        user = call_service(
            form,
            lambda: services.password_change(
                user=request.user, password=form.cleaned_data["new_password1"], by=request.user
            ),
        )
        if user is not None:
            update_session_auth_hash(request, user)  # stay logged in on this device
            messages.success(request, _("密码已修改，下次登录请使用新密码。"))
            return redirect("home")
    return render(request, "registration/password_change.html", {"form": form})


@login_required
def locked_accounts(request):
    """Accounts locked after repeated failed logins, in the user's scope, with an unlock button."""
    allowed, reason = permissions.can_unlock_accounts(request.user)
    if not allowed:
        messages.error(request, reason)
        return redirect("home")
    if request.method == "POST":
        username = request.POST.get("username", "")
        try:
            cleared = services.account_unlock(username=username, by=request.user)
        except Http404 as refused:
            messages.error(request, str(refused))
        else:
            messages.success(
                request, _("已解锁账号「%(name)s」（清除 %(n)d 条失败记录）。") % {"name": username, "n": cleared}
            )
        return redirect("locked-accounts")
    usernames = User.objects.for_user(request.user).values("username")
    attempts = (
        AccessAttempt.objects.filter(username__in=usernames)
        .order_by("-attempt_time")
        .values("username", "ip_address", "failures_since_start", "attempt_time")
    )
    return render(
        request,
        "members/locked_accounts.html",
        {"attempts": attempts, "limit": settings.AXES_FAILURE_LIMIT},
    )


AUDIT_EXPORT_HEADERS = ["at", "actor", "action", "object_type", "object_id", "object", "ip", "before", "after"]


@login_required
def audit_log(request):
    """Search the audit trail and export it (province-level staff and auditors)."""
    allowed, reason = permissions.can_view_audit(request.user)
    if not allowed:
        messages.error(request, reason)
        return redirect("home")
    events = AuditEvent.objects.order_by("-at", "-id")
    params = request.GET
    if params.get("actor"):
        events = events.filter(actor_username=params["actor"].strip())
    if params.get("action"):
        events = events.filter(action__startswith=params["action"].strip())
    if params.get("q"):
        events = events.filter(object_repr__icontains=params["q"].strip())
    for name, lookup in (("since", "at__date__gte"), ("until", "at__date__lte")):
        if params.get(name):
            try:
                events = events.filter(**{lookup: dt.date.fromisoformat(params[name])})
            except ValueError:
                messages.error(request, _("日期「%(value)s」应写成 2026-01-31。") % {"value": params[name]})
    if params.get("format") == "csv":
        rows = (
            [e.at, e.actor_username, e.action, e.object_type, e.object_id, e.object_repr, e.ip, e.before, e.after]
            for e in events.iterator(chunk_size=1000)
        )
        response = HttpResponse(
            to_csv(
                AUDIT_EXPORT_HEADERS,
                ([*r[:7], json.dumps(r[7], ensure_ascii=False), json.dumps(r[8], ensure_ascii=False)] for r in rows),
            ),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="audit.csv"'
        return response
    page = Paginator(events, 100).get_page(params.get("page"))
    query = params.copy()
    query.pop("page", None)
    return render(request, "members/audit_log.html", {"page": page, "query": query.urlencode(), "params": params})
