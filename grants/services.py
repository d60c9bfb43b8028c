"""Every write of the grants app: programs, applications and their workflow, the approval that creates
an allocation. Each function checks role and scope, validates, writes and audits in one transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from members.choices import RegionLevel
from members.models import Region, Union, User
from unionfunds.core import clock
from unionfunds.core.audit import audit_record, snapshot
from unionfunds.core.dates import date_error
from unionfunds.core.decisions import enforce
from unionfunds.core.errors import ApplicationError
from unionfunds.core.filters import MAX_COUNT
from unionfunds.core.money import FEN, format_money, parse_money, split_by_weights
from unionfunds.core.uploads import check_upload, display_file_name

from . import eligibility, permissions
from .choices import AllocationStatus, ApplicationStatus, AttachmentKind, Category, FundingSource
from .models import (
    Allocation,
    AllocationFunding,
    Application,
    ApplicationTransition,
    Attachment,
    BudgetLine,
    CityQuota,
    Disbursement,
    Expenditure,
    Program,
    ProgramFunding,
)
from .workflows import DECISIONS, workflow_for

PROGRAM_AUDIT_FIELDS = ["name", "year", "owner", "budget_total", "target_count", "max_grant", "opens_on", "closes_on"]
APPLICATION_AUDIT_FIELDS = ["program", "union", "status", "requested_amount", "approved_amount", "plan"]
COMMENT_REQUIRED = {"return", "reject"}
# Also refused by the evaluation services, in the same words.
PROGRAM_NOT_FOUND = gettext_lazy("项目不存在或不在您的范围内。")


def _money(value: Any, field: str) -> Decimal:
    try:
        return parse_money(value)
    except ValueError as exc:
        raise ValidationError({field: str(exc)}) from None


# ---------------------------------------------------------------- programs


@transaction.atomic
def program_create(*, data: Mapping[str, Any], by: User) -> Program:
    """Create a program owned by the user's own region (province, city or county staff)."""
    enforce(permissions.can_create_program(by))
    owner_code = str(data.get("owner") or by.region_id)
    if owner_code != by.region_id:
        raise ValidationError({"owner": _("只能为本级区划设立专项经费项目。")})
    owner = Region.objects.get(code=owner_code)
    errors: dict[str, Any] = {}
    budget = _money(data.get("budget_total"), "budget_total")
    if budget <= 0:
        errors["budget_total"] = _("预算总额必须大于 0。")
    target = data.get("target_count")
    if isinstance(target, bool) or not isinstance(target, int) or not 0 < target <= MAX_COUNT:
        errors["target_count"] = _("计划补助工会数必须是正整数。")
        target = 1
    max_grant = data.get("max_grant")
    if max_grant in (None, ""):
        max_grant = (budget / target).quantize(FEN, rounding=ROUND_DOWN) if budget > 0 else Decimal("0")
    else:
        max_grant = _money(max_grant, "max_grant")
    if max_grant <= 0 or max_grant > budget:
        errors["max_grant"] = _("单个工会补助上限必须大于 0 且不超过预算总额。")

    sources = list(data.get("funding_sources") or [])
    seen: set[str] = set()
    funding: list[tuple[str, Decimal]] = []
    for index, item in enumerate(sources):
        source = item.get("source")
        if source not in FundingSource.values:
            errors["funding_sources"] = _("第 %(n)d 项：未知的资金来源「%(source)s」。") % {
                "n": index + 1,
                "source": source,
            }
            break
        if source in seen:
            errors["funding_sources"] = _("资金来源「%(source)s」重复。") % {"source": source}
            break
        seen.add(source)
        funding.append((source, _money(item.get("amount"), "funding_sources")))
    if not funding and "funding_sources" not in errors:
        errors["funding_sources"] = _("请填写资金来源。")
    elif "funding_sources" not in errors:
        total = sum((amount for _source, amount in funding), Decimal("0"))
        if total != budget:
            errors["funding_sources"] = _("资金来源合计 %(total)s 元，与预算总额 %(budget)s 元不一致。") % {
                "total": format_money(total),
                "budget": format_money(budget),
            }

    categories = list(data.get("categories") or Category.values)
    unknown = [c for c in categories if c not in Category.values]
    if unknown:
        errors["categories"] = _("未知的使用范围：%(categories)s。") % {
            "categories": pgettext("list separator", "、").join(map(str, unknown))
        }

    quotas: dict[str, int] = {}
    for city_code, count in (data.get("city_quotas") or {}).items():
        city = Region.objects.filter(code=str(city_code), level=RegionLevel.CITY, parent=owner).first()
        if city is None:
            errors["city_quotas"] = _("「%(code)s」不是本项目主管区划下的市。") % {"code": city_code}
            break
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_COUNT:
            errors["city_quotas"] = _("%(city)s的名额必须是 0 到 %(max)d 之间的整数。") % {
                "city": city.name,
                "max": MAX_COUNT,
            }
            break
        quotas[city.code] = count

    opens_on, closes_on = data.get("opens_on"), data.get("closes_on")
    if not opens_on or not closes_on:
        errors["opens_on"] = _("请填写申报起止日期。")
    elif date_error(opens_on) or date_error(closes_on):
        for name, day in (("opens_on", opens_on), ("closes_on", closes_on)):
            if date_error(day):
                errors[name] = date_error(day)
    elif closes_on < opens_on:
        errors["closes_on"] = _("申报截止日期不能早于开始日期。")
    name = str(data.get("name") or "").strip()
    if name and Program.objects.filter(owner=owner, year=data.get("year"), name=name).exists():
        errors["name"] = _("%(federation)s%(year)s 年度已有同名项目「%(name)s」。") % {
            "federation": owner.federation_name,
            "year": data.get("year"),
            "name": name,
        }
    if errors:
        raise ValidationError(errors)

    program = Program(
        owner=owner,
        name=name,
        year=data.get("year"),
        budget_total=budget,
        target_count=target,
        max_grant=max_grant,
        opens_on=opens_on,
        closes_on=closes_on,
        categories=[c for c in Category.values if c in categories],
        min_members=data.get("min_members", 150),
        min_committee=data.get("min_committee", 3),
        allowed_parent_levels=list(data.get("allowed_parent_levels") or eligibility.DEFAULT_PARENT_LEVELS),
        created_by=by,
    )
    program.full_clean()
    try:
        with transaction.atomic():
            program.save()
    except IntegrityError:
        raise ValidationError({"name": _("本级同一年度已有同名项目。")}) from None
    ProgramFunding.objects.bulk_create(
        ProgramFunding(program=program, source=s, amount=a, position=i) for i, (s, a) in enumerate(funding)
    )
    CityQuota.objects.bulk_create(CityQuota(program=program, city_id=c, count=n) for c, n in quotas.items())
    after = snapshot(program, PROGRAM_AUDIT_FIELDS)
    after["funding_sources"] = [{"source": s, "amount": a} for s, a in funding]
    after["city_quotas"] = quotas
    audit_record(action="program.create", obj=program, by=by, after=after)
    return program


# ---------------------------------------------------------------- applications


def _application_in_scope(pk: int, by: User, *, lock: bool = False) -> Application:
    qs = Application.objects.for_user(by).select_related("program__owner", "union__county")
    if lock:
        qs = qs.select_for_update(of=("self",))
    try:
        return qs.get(pk=pk)
    except Application.DoesNotExist:
        raise Http404(_("申请 %(pk)s 不存在。") % {"pk": pk}) from None


def _budget_lines(data: Mapping[str, Any], program: Program, requested: Decimal) -> list[BudgetLine]:
    lines = []
    for index, item in enumerate(data.get("budget_lines") or []):
        category = item.get("category")
        if category not in program.categories:
            raise ValidationError(
                {
                    "budget_lines": _("第 %(n)d 行：使用范围「%(category)s」不在本项目允许的范围内。")
                    % {"n": index + 1, "category": category}
                }
            )
        amount = _money(item.get("amount"), "budget_lines")
        if amount <= 0:
            raise ValidationError({"budget_lines": _("第 %(n)d 行：金额必须大于 0。") % {"n": index + 1}})
        lines.append(BudgetLine(category=category, amount=amount, description=str(item.get("description") or "")[:300]))
    if lines:
        total = sum((line.amount for line in lines), Decimal("0"))
        if total != requested:
            raise ValidationError(
                {
                    "budget_lines": _("预算明细合计 %(total)s 元，与申请金额 %(requested)s 元不一致。")
                    % {"total": format_money(total), "requested": format_money(requested)}
                }
            )
    return lines


def _requested(value: Any, program: Program) -> Decimal:
    requested = _money(value, "requested_amount")
    if requested <= 0:
        raise ValidationError({"requested_amount": _("申请金额必须大于 0。")})
    if requested > program.max_grant:
        raise ValidationError(
            {
                "requested_amount": _("申请金额不得超过单个工会补助上限 %(max)s 元。")
                % {"max": format_money(program.max_grant)}
            }
        )
    return requested


def _refresh_eligibility(application: Application, *, on=None) -> list[eligibility.Check]:
    on = on or clock.today()
    members = application.union.member_count  # kept on the union by the roster services
    others = (
        Application.objects.filter(program_id=application.program_id, union_id=application.union_id)
        .exclude(pk=application.pk)
        .count()
    )
    checks = eligibility.evaluate(
        application.program,
        application.union,
        member_count=members,
        other_applications=others,
        on=on,
    )
    application.eligible = all(c.passed for c in checks)
    application.eligibility_checks = [c.as_dict() for c in checks]
    application.priority_score = eligibility.priority_score(application.union, members)
    return checks


@transaction.atomic
def application_create(*, data: Mapping[str, Any], by: User) -> Application:
    """A draft application of a union in the user's scope to a program the user can see."""
    program = Program.objects.for_user(by).filter(pk=getattr(data.get("program"), "pk", data.get("program"))).first()
    if program is None:
        raise ValidationError({"program": str(PROGRAM_NOT_FOUND)})
    union = Union.objects.for_user(by).filter(pk=getattr(data.get("union"), "pk", data.get("union"))).first()
    if union is None:
        raise ValidationError({"union": _("工会不存在或不在您的管辖范围内。")})
    enforce(permissions.can_draft_application(by, union))
    if not permissions.union_under(union, program.owner):
        raise ValidationError(
            {"union": _("该工会不在「%(region)s」范围内，不能申请本项目。") % {"region": program.owner.name}}
        )
    if clock.today() > program.closes_on:
        raise ApplicationError(
            "window_closed", _("本项目申报已于 %(date)s 截止。") % {"date": program.closes_on.isoformat()}
        )
    existing = Application.objects.filter(program=program, union=union).first()
    if existing is not None:
        raise ValidationError(
            {
                "union": _("%(rule)s：该工会在本项目中已有申请（编号 %(pk)s，%(status)s）。")
                % {"rule": "single_application", "pk": existing.pk, "status": existing.get_status_display()}
            }
        )
    requested = _requested(data.get("requested_amount"), program)
    lines = _budget_lines(data, program, requested)
    application = Application(
        program=program, union=union, requested_amount=requested, plan=str(data.get("plan") or ""), created_by=by
    )
    _refresh_eligibility(application)
    application.full_clean()
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:
        raise ValidationError(
            {"union": _("%(rule)s：该工会在本项目中已有申请。") % {"rule": "single_application"}}
        ) from None
    for line in lines:
        line.application = application
    BudgetLine.objects.bulk_create(lines)
    audit_record(
        action="application.create",
        obj=application,
        by=by,
        after={**snapshot(application, APPLICATION_AUDIT_FIELDS), "budget_lines": _lines_audit(lines)},
    )
    return application


def _lines_audit(lines) -> list[dict]:
    return [{"category": line.category, "amount": line.amount, "description": line.description} for line in lines]


@transaction.atomic
def application_update(*, application: Application, data: Mapping[str, Any], by: User) -> Application:
    """Change a draft: requested amount, plan, budget lines."""
    application = _application_in_scope(application.pk, by, lock=True)
    enforce(permissions.can_edit_application(by, application))
    before = {
        **snapshot(application, APPLICATION_AUDIT_FIELDS),
        "budget_lines": _lines_audit(application.budget_lines.all()),
    }
    if "requested_amount" in data:
        application.requested_amount = _requested(data["requested_amount"], application.program)
    if "plan" in data:
        application.plan = str(data["plan"] or "")
    if "budget_lines" in data or "requested_amount" in data:
        source = data if "budget_lines" in data else {"budget_lines": _lines_audit(application.budget_lines.all())}
        lines = _budget_lines(source, application.program, application.requested_amount)
        application.budget_lines.all().delete()
        for line in lines:
            line.application = application
        BudgetLine.objects.bulk_create(lines)
    _refresh_eligibility(application)
    application.full_clean()
    application.save()
    after = {
        **snapshot(application, APPLICATION_AUDIT_FIELDS),
        "budget_lines": _lines_audit(application.budget_lines.all()),
    }
    if after != before:
        audit_record(action="application.update", obj=application, by=by, before=before, after=after)
    return application


def program_budget_figures(program: Program) -> dict:
    """Approved totals of a program now (callers inside a transaction hold the program's row lock)."""
    approved = Application.objects.filter(program=program, status=ApplicationStatus.APPROVED)
    totals = approved.aggregate(total=Sum("approved_amount"), count=Count("id"))
    by_city = dict(
        approved.values("union__county__parent_id").annotate(n=Count("id")).values_list("union__county__parent_id", "n")
    )
    return {
        "approved_total": totals["total"] or Decimal("0.00"),
        "approved_count": totals["count"],
        "by_city": by_city,
    }


def _check_budget(program: Program, application: Application, amount: Decimal) -> None:
    """The budget rules of SPEC §3; the caller holds the program row lock."""
    if amount <= 0:
        raise ApplicationError("amount_not_positive", _("核定金额必须大于 0。"))
    if amount > application.requested_amount:
        raise ApplicationError(
            "amount_above_requested",
            _("核定金额 %(amount)s 元超过申请金额 %(requested)s 元。")
            % {"amount": format_money(amount), "requested": format_money(application.requested_amount)},
        )
    if amount > program.max_grant:
        raise ApplicationError(
            "amount_above_max_grant",
            _("核定金额 %(amount)s 元超过单个工会补助上限 %(max)s 元。")
            % {"amount": format_money(amount), "max": format_money(program.max_grant)},
        )
    figures = program_budget_figures(program)
    remaining = program.budget_total - figures["approved_total"]
    if amount > remaining:
        raise ApplicationError(
            "budget_exceeded",
            _("预算不足：项目剩余 %(remaining)s 元，核定金额 %(amount)s 元。")
            % {"remaining": format_money(remaining), "amount": format_money(amount)},
            extra={"remaining": f"{remaining:.2f}"},
        )
    if figures["approved_count"] >= program.target_count:
        raise ApplicationError(
            "target_reached",
            ngettext(
                "名额已满：本项目计划补助 %(target)d 家，已批准 %(approved)d 家，剩余 0 个名额。",
                "名额已满：本项目计划补助 %(target)d 家，已批准 %(approved)d 家，剩余 0 个名额。",
                program.target_count,
            )
            % {"target": program.target_count, "approved": figures["approved_count"]},
            extra={"remaining_slots": 0},
        )
    city_code = application.union.county.parent_id
    quota = CityQuota.objects.filter(program=program, city_id=city_code).select_related("city").first()
    if quota is not None:
        used = figures["by_city"].get(city_code, 0)
        if used >= quota.count:
            raise ApplicationError(
                "city_quota_reached",
                _("%(city)s名额已满：名额 %(quota)d 家，已批准 %(used)d 家。")
                % {"city": quota.city.name, "quota": quota.count, "used": used},
                extra={"city": city_code, "quota": quota.count, "approved": used},
            )


def _create_allocation(application: Application, amount: Decimal, at) -> Allocation:
    allocation = Allocation.objects.create(
        application=application,
        program=application.program,
        union=application.union,
        year=application.program.year,
        county_id=application.union.county_id,
        city_id=application.union.county.parent_id,
        amount=amount,
        approved_at=at,
        updated_at=at,
    )
    sources = list(application.program.funding.all())
    parts = split_by_weights(amount, [s.amount for s in sources])
    AllocationFunding.objects.bulk_create(
        AllocationFunding(allocation=allocation, source=s.source, amount=part)
        for s, part in zip(sources, parts, strict=True)
    )
    return allocation


@transaction.atomic
def application_transition(
    *, application: Application, action: str, by: User, comment: str = "", approved_amount: Any = None
) -> Application:
    """submit / recommend / review / approve / reject / return, as the program's workflow table allows.

    Approval locks the program row first, so concurrent approvals are serialised and can never
    overspend the budget, exceed the target or a city quota.
    """
    if action == "approve":
        # Lock order: program, then application — the same for every approver.
        program_id = _application_in_scope(application.pk, by).program_id
        Program.objects.select_for_update().get(pk=program_id)
    application = _application_in_scope(application.pk, by, lock=True)
    program = application.program
    workflow = workflow_for(program)
    comment = (comment or "").strip()
    before_status = application.status
    target = workflow.apply(application.status, action, by.role)
    if action in DECISIONS and not permissions.is_owner_staff(by, program):
        raise PermissionDenied(
            _("只有「%(federation)s」可以作出决定。") % {"federation": program.owner.federation_name}
        )
    if action in COMMENT_REQUIRED and not comment:
        raise ValidationError({"comment": _("退回或不予批准时必须填写意见。")})
    if action == "submit":
        today = clock.today()
        if not program.opens_on <= today <= program.closes_on:
            raise ApplicationError(
                "window_closed",
                _("不在申报时间内（%(opens)s 至 %(closes)s）。")
                % {"opens": program.opens_on.isoformat(), "closes": program.closes_on.isoformat()},
            )
        if application.union.status == "dissolved":
            raise ApplicationError("union_dissolved", _("工会已撤销，不能提交申请。"))
        application.submitted_at = clock.now()
    checks = _refresh_eligibility(application)
    if action == "approve":
        failed = [c for c in checks if not c.passed]
        if failed:
            raise ApplicationError(
                "not_eligible",
                _("不符合申请条件，不能批准：%(failed)s")
                % {
                    "failed": pgettext("list separator", "；").join(
                        _("%(label)s（%(detail)s）") % {"label": c.label, "detail": c.detail} for c in failed
                    )
                },
                extra={"failed": [c.as_dict() for c in failed]},
            )
        if approved_amount in (None, ""):
            raise ValidationError({"approved_amount": _("批准时必须填写核定金额。")})
        amount = _money(approved_amount, "approved_amount")
        _check_budget(program, application, amount)
        application.approved_amount = amount
    if action in DECISIONS:
        application.decided_at = clock.now()
    application.status = target
    application.save()
    ApplicationTransition.objects.create(
        application=application, action=action, from_status=before_status, to_status=target, actor=by, comment=comment
    )
    if action == "approve":
        _create_allocation(application, application.approved_amount, application.decided_at)
    audit_record(
        action=f"application.{action}",
        obj=application,
        by=by,
        before={"status": before_status},
        after={
            "status": target,
            "comment": comment,
            "eligible": application.eligible,
            **({"approved_amount": application.approved_amount} if action == "approve" else {}),
        },
    )
    return application


# ---------------------------------------------------------------- attachments


@transaction.atomic
def attachment_add(*, application: Application, kind: str, filename: str, content: bytes, by: User) -> Attachment:
    application = _application_in_scope(application.pk, by, lock=True)
    enforce(permissions.can_attach(by, application))
    if kind not in AttachmentKind.values:
        raise ValidationError({"kind": _("未知的材料类型「%(kind)s」。") % {"kind": kind}})
    content_type = check_upload(content)
    attachment = Attachment(
        application=application,
        kind=kind,
        original_name=display_file_name(filename),
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=by,
    )
    attachment.file.save("upload", ContentFile(content), save=False)
    attachment.save()
    audit_record(
        action="application.attach",
        obj=application,
        by=by,
        after={
            "attachment": attachment.pk,
            "kind": kind,
            "name": attachment.original_name,
            "sha256": attachment.sha256,
        },
    )
    return attachment


__all__ = [
    "application_create",
    "application_transition",
    "application_update",
    "attachment_add",
    "program_budget_figures",
    "program_create",
]


# ---------------------------------------------------------------- money after approval


def _allocation_locked(pk: int, by: User) -> Allocation:
    try:
        return (
            Allocation.objects.for_user(by)
            .select_for_update(of=("self",))
            .select_related("program", "union", "county")
            .get(pk=pk)
        )
    except Allocation.DoesNotExist:
        raise Http404(_("下拨记录 %(pk)s 不存在。") % {"pk": pk}) from None


def allocation_status_for(allocation: Allocation) -> str:
    """allocated → partially_disbursed → disbursed → spent, from the allocation's running totals."""
    if allocation.disbursed_amount == 0:
        return AllocationStatus.ALLOCATED
    if allocation.disbursed_amount < allocation.amount:
        return AllocationStatus.PARTIALLY_DISBURSED
    if allocation.spent_amount < allocation.amount:
        return AllocationStatus.DISBURSED
    return AllocationStatus.SPENT


def _touch(allocation: Allocation) -> None:
    allocation.status = allocation_status_for(allocation)
    allocation.updated_at = clock.now()
    allocation.full_clean(exclude=["application", "program", "union", "county", "city"])
    allocation.save(update_fields=["disbursed_amount", "spent_amount", "status", "updated_at"])


def _voucher_no(value: Any) -> str:
    voucher = str(value or "").strip()
    if not voucher:
        raise ValidationError({"voucher_no": _("请填写凭证号。")})
    if len(voucher) > 50:
        raise ValidationError({"voucher_no": _("凭证号不超过 50 个字符。")})
    return voucher


def _voucher_taken(voucher: str) -> ValidationError:
    return ValidationError({"voucher_no": _("凭证号「%(voucher)s」已登记过，请勿重复录入。") % {"voucher": voucher}})


def _positive_money(value: Any, field: str) -> Decimal:
    amount = _money(value, field)
    if amount <= 0:
        raise ValidationError({field: _("金额必须大于 0。")})
    return amount


def disbursement_targets(allocation: Allocation, payer: Region | None) -> list[Region]:
    """The federations a payer may pass a tranche down to: those on the union's chain below it."""
    if payer is None or payer.level == RegionLevel.COUNTY:
        return []
    chain = (
        [allocation.city_id, allocation.county_id] if payer.level == RegionLevel.PROVINCE else [allocation.county_id]
    )
    return list(Region.objects.filter(code__in=chain).order_by("code"))


@transaction.atomic
def disbursement_record(
    *, allocation: Allocation, amount: Any, paid_on, voucher_no: str, by: User, to: str | None = None
) -> Disbursement:
    """A tranche paid by the user's federation to the union (``to`` empty) or to a lower federation on the
    union's chain. What reaches the union never exceeds the allocation, nor does what any one federation
    receives."""
    allocation = _allocation_locked(allocation.pk, by)
    enforce(permissions.can_disburse(by, allocation))
    to_region = None
    if to:
        to_region = next((r for r in disbursement_targets(allocation, by.region) if r.code == str(to)), None)
        if to_region is None:
            raise ValidationError(
                {
                    "to": _("「%(code)s」不是本级可以拨付的下级总工会（只能拨给该工会所在的下级总工会或工会本身）。")
                    % {"code": to}
                }
            )
    amount = _positive_money(amount, "amount")
    voucher = _voucher_no(voucher_no)
    if paid_on is None:
        raise ValidationError({"paid_on": _("请填写拨付日期。")})
    if paid_on > clock.today():
        raise ValidationError({"paid_on": _("拨付日期不能晚于今天。")})
    approved_on = timezone.localdate(allocation.approved_at)
    if paid_on < approved_on:
        raise ValidationError({"paid_on": _("拨付日期不能早于批准日期 %(date)s。") % {"date": approved_on.isoformat()}})
    if Disbursement.objects.filter(from_region_id=by.region_id, voucher_no=voucher).exists():
        raise _voucher_taken(voucher)
    received = (
        allocation.disbursed_amount
        if to_region is None
        else allocation.disbursements.filter(to_region=to_region).aggregate(total=Sum("amount"))["total"] or Decimal(0)
    )
    left = allocation.amount - received
    if amount > left:
        raise ApplicationError(
            "disbursement_exceeds_allocation",
            _("拨付金额 %(amount)s 元超过尚未拨付的 %(left)s 元（下拨 %(allocated)s 元，已拨付 %(received)s 元）。")
            % {
                "amount": format_money(amount),
                "left": format_money(left),
                "allocated": format_money(allocation.amount),
                "received": format_money(received),
            },
            extra={"remaining": f"{left:.2f}"},
        )
    try:
        with transaction.atomic():
            tranche = Disbursement.objects.create(
                allocation=allocation,
                amount=amount,
                paid_on=paid_on,
                voucher_no=voucher,
                from_region_id=by.region_id,
                to_region=to_region,
                recorded_by=by,
            )
    except IntegrityError:  # the same voucher entered at the same moment by another clerk
        raise _voucher_taken(voucher) from None
    if to_region is None:
        allocation.disbursed_amount += amount
    _touch(allocation)
    audit_record(
        action="allocation.disburse",
        obj=allocation,
        by=by,
        after={
            "disbursement": tranche.pk,
            "amount": amount,
            "paid_on": paid_on,
            "voucher_no": voucher,
            "from": by.region_id,
            "to": to_region.code if to_region else f"union:{allocation.union_id}",
        },
    )
    return tranche


@transaction.atomic
def expenditure_record(
    *,
    allocation: Allocation,
    data: Mapping[str, Any],
    by: User,
    voucher_name: str = "",
    voucher_content: bytes | None = None,
) -> Expenditure:
    """Money spent by the union: category allowed by the program, date within the program year,
    the sum never above what was disbursed."""
    allocation = _allocation_locked(allocation.pk, by)
    enforce(permissions.can_spend(by, allocation))
    errors: dict[str, str] = {}
    program = allocation.program
    amount = _positive_money(data.get("amount"), "amount")
    voucher = _voucher_no(data.get("voucher_no"))
    spent_on = data.get("spent_on")
    if spent_on is None:
        errors["spent_on"] = _("请填写支出日期。")
    elif spent_on.year != allocation.year:
        errors["spent_on"] = _("支出日期须在项目年度 %(year)s 年内。") % {"year": allocation.year}
    elif spent_on > clock.today():
        errors["spent_on"] = _("支出日期不能晚于今天。")
    category = data.get("category")
    if category not in program.categories:
        errors["category"] = _("使用范围「%(category)s」不在本项目允许的范围内（%(allowed)s）。") % {
            "category": category,
            "allowed": pgettext("list separator", "、").join(map(str, program.category_labels())),
        }
    description = str(data.get("description") or "").strip()
    if not description:
        errors["description"] = _("请填写用途说明。")
    beneficiaries = data.get("beneficiaries") or 0
    if isinstance(beneficiaries, bool) or not isinstance(beneficiaries, int) or not 0 <= beneficiaries <= MAX_COUNT:
        errors["beneficiaries"] = _("受益职工人数须为 0 到 %(max)d 之间的整数。") % {"max": MAX_COUNT}
    content_type = ""
    if voucher_content is not None:
        try:
            content_type = check_upload(voucher_content, field="voucher_file")
        except ValidationError as exc:
            errors["voucher_file"] = exc.message_dict["voucher_file"][0]
    if errors:
        raise ValidationError(errors)
    left = allocation.disbursed_amount - allocation.spent_amount
    if amount > left:
        raise ApplicationError(
            "expenditure_exceeds_disbursed",
            _("支出金额 %(amount)s 元超过已到账未使用的 %(left)s 元（已拨付 %(disbursed)s 元，已支出 %(spent)s 元）。")
            % {
                "amount": format_money(amount),
                "left": format_money(left),
                "disbursed": format_money(allocation.disbursed_amount),
                "spent": format_money(allocation.spent_amount),
            },
            extra={"remaining": f"{left:.2f}"},
        )
    expenditure = Expenditure(
        allocation=allocation,
        spent_on=spent_on,
        category=category,
        amount=amount,
        description=description[:300],
        voucher_no=voucher,
        beneficiaries=beneficiaries,
        recorded_by=by,
    )
    if voucher_content is not None:
        expenditure.voucher_name = display_file_name(voucher_name)
        expenditure.voucher_type = content_type
        expenditure.voucher_file.save("voucher", ContentFile(voucher_content), save=False)
    expenditure.save()
    allocation.spent_amount += amount
    _touch(allocation)
    audit_record(
        action="allocation.spend",
        obj=allocation,
        by=by,
        after={
            "expenditure": expenditure.pk,
            "amount": amount,
            "category": category,
            "spent_on": spent_on,
            "voucher_no": voucher,
            "beneficiaries": beneficiaries,
        },
    )
    return expenditure
