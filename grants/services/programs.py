"""Writes of programs: setting one up with its funding sources and city quotas."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from members.choices import RegionLevel
from members.models import Region, User
from unionfunds.core.audit import audit_record, snapshot
from unionfunds.core.dates import date_error
from unionfunds.core.decisions import enforce
from unionfunds.core.filters import MAX_COUNT
from unionfunds.core.money import FEN, format_money

from .. import eligibility, permissions
from ..choices import Category, FundingSource
from ..models import CityQuota, Program, ProgramFunding
from ._inputs import money_input

PROGRAM_AUDIT_FIELDS = ["name", "year", "owner", "budget_total", "target_count", "max_grant", "opens_on", "closes_on"]
# Also refused by the evaluation services, in the same words.
PROGRAM_NOT_FOUND = gettext_lazy("项目不存在或不在您的范围内。")


@transaction.atomic
def program_create(*, data: Mapping[str, Any], by: User) -> Program:
    """Create a program owned by the user's own region (province, city or county staff)."""
    enforce(permissions.can_create_program(by))
    owner_code = str(data.get("owner") or by.region_id)
    if owner_code != by.region_id:
        raise ValidationError({"owner": _("只能为本级区划设立专项经费项目。")})
    owner = Region.objects.get(code=owner_code)
    errors: dict[str, Any] = {}
    budget = money_input(data.get("budget_total"), "budget_total")
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
        max_grant = money_input(max_grant, "max_grant")
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
        funding.append((source, money_input(item.get("amount"), "funding_sources")))
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
