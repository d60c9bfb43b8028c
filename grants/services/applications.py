"""Writes of applications: drafting, changing a draft, and the workflow (submit … approve), whose approval
checks the budget rules under the program's row lock and opens the allocation."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from members.choices import UnionStatus
from members.models import Union, User
from unionfunds.core import clock
from unionfunds.core.audit import audit_record, snapshot
from unionfunds.core.decisions import enforce
from unionfunds.core.errors import ApplicationError
from unionfunds.core.money import format_money
from unionfunds.core.scoping import get_in_scope

from .. import eligibility, permissions
from ..models import Application, ApplicationTransition, BudgetLine, CityQuota, Program
from ..selectors import program_budget_figures
from ..workflows import DECISIONS, workflow_for
from ._inputs import money_input
from .money import allocation_open
from .programs import PROGRAM_NOT_FOUND

APPLICATION_AUDIT_FIELDS = ["program", "union", "status", "requested_amount", "approved_amount", "plan"]
COMMENT_REQUIRED = {"return", "reject"}


def scoped_applications(by: User) -> QuerySet[Application]:
    """Applications in ``by``'s scope, with what the writes read of program and union (for ``get_in_scope``)."""
    return Application.objects.for_user(by).select_related("program__owner", "union__county")


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
        amount = money_input(item.get("amount"), "budget_lines")
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
    requested = money_input(value, "requested_amount")
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


def _lines_audit(lines) -> list[dict[str, Any]]:
    return [{"category": line.category, "amount": line.amount, "description": line.description} for line in lines]


@transaction.atomic
def application_update(*, application: Application, data: Mapping[str, Any], by: User) -> Application:
    """Change a draft: requested amount, plan, budget lines."""
    application = get_in_scope(scoped_applications(by), application.pk, lock=True)
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


def _check_budget(program: Program, application: Application, amount: Decimal) -> None:
    """The budget rules at approval: amount, budget, target and city quota; the caller holds the program's
    row lock, so the figures cannot move until the approval commits."""
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
        used = figures["by_city"].get(city_code, {}).get("count", 0)
        if used >= quota.count:
            raise ApplicationError(
                "city_quota_reached",
                _("%(city)s名额已满：名额 %(quota)d 家，已批准 %(used)d 家。")
                % {"city": quota.city.name, "quota": quota.count, "used": used},
                extra={"city": city_code, "quota": quota.count, "approved": used},
            )


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
        program_id = get_in_scope(scoped_applications(by), application.pk).program_id
        Program.objects.select_for_update().get(pk=program_id)
    application = get_in_scope(scoped_applications(by), application.pk, lock=True)
    program = application.program
    workflow = workflow_for(program)
    comment = (comment or "").strip()
    before_status = application.status
    target = workflow.apply(application.status, action, by.role)
    if action in DECISIONS:
        enforce(permissions.owner_decides(by, program))
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
        if application.union.status == UnionStatus.DISSOLVED:
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
        amount = money_input(approved_amount, "approved_amount")
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
        allocation_open(application)
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
