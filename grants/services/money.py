"""Writes of the money after approval: the allocation an approval opens (split over the program's funding
sources), the tranches paid down the chain and the union's expenditures, each under the allocation's row
lock so its running totals never pass what was granted or received."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from members.models import User
from unionfunds.core import clock
from unionfunds.core.audit import audit_record
from unionfunds.core.decisions import enforce
from unionfunds.core.errors import ApplicationError
from unionfunds.core.filters import MAX_COUNT
from unionfunds.core.money import format_money, split_by_weights
from unionfunds.core.scoping import get_in_scope
from unionfunds.core.uploads import check_upload, store_upload

from .. import permissions
from ..choices import AllocationStatus
from ..models import Allocation, AllocationFunding, Application, Disbursement, Expenditure
from ..selectors import disbursement_targets
from ._inputs import money_input


def allocation_open(application: Application) -> Allocation:
    """The allocation of an application being approved, its amount split over the program's funding sources
    (``application_transition`` calls it in the approval's transaction)."""
    amount = application.approved_amount
    allocation = Allocation.objects.create(
        application=application,
        program=application.program,
        union=application.union,
        year=application.program.year,
        county_id=application.union.county_id,
        city_id=application.union.county.parent_id,
        amount=amount,
        approved_at=application.decided_at,
        updated_at=application.decided_at,
    )
    sources = list(application.program.funding.all())
    parts = split_by_weights(amount, [s.amount for s in sources])
    AllocationFunding.objects.bulk_create(
        AllocationFunding(allocation=allocation, source=s.source, amount=part)
        for s, part in zip(sources, parts, strict=True)
    )
    return allocation


def _allocations(by: User):
    return Allocation.objects.for_user(by).select_related("program", "union", "county")


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
    amount = money_input(value, field)
    if amount <= 0:
        raise ValidationError({field: _("金额必须大于 0。")})
    return amount


@transaction.atomic
def disbursement_record(
    *, allocation: Allocation, amount: Any, paid_on, voucher_no: str, by: User, to: str | None = None
) -> Disbursement:
    """A tranche paid by the user's federation to the union (``to`` empty) or to a lower federation on the
    union's chain. What reaches the union never exceeds the allocation, nor does what any one federation
    receives."""
    allocation = get_in_scope(_allocations(by), allocation.pk, lock=True)
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
    allocation = get_in_scope(_allocations(by), allocation.pk, lock=True)
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
    if voucher_content is not None:
        try:  # reported with the other fields' errors; stored only once everything is right
            check_upload(voucher_content, field="voucher_file")
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
        voucher_file = store_upload(
            expenditure.voucher_file, name=voucher_name, content=voucher_content, field="voucher_file"
        )
        expenditure.voucher_name, expenditure.voucher_type = voucher_file.name, voucher_file.content_type
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
