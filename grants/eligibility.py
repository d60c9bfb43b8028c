"""The eligibility engine (docs/rules.md) and the priority score.

Seven rules, each a parameter of the program, each reported as ``{rule, passed, detail}`` with a reason
a person understands. ``evaluate`` checks one union; ``evaluate_many`` checks a list of applications
with one query whatever the length of the list (the other applications of the same unions).

Priority score (0–100; staff sort the review queue by it), following the policy's preferences
(以区域性、行业性工会联合会或联合工会为主; 工会经费难以保证; 覆盖新就业群体):
- organisation form: regional or industry federation, or joint union: +40;
- union funds hard to guarantee: +30;
- new-employment groups covered: +5 each, at most +15;
- members: +1 per full 50 active members, at most +15 (150 members → 3, 750 or more → 15).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import asdict, dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from members.choices import OrgForm, ParentLevel, UnionStatus
from members.models import Union
from unionfunds.core import clock

RULES = (
    "verified",
    "new_economy_groups",
    "level",
    "min_members",
    "chair_elected",
    "min_committee",
    "single_application",
)
# What the pages call each rule (the codes are the API's contract, not words for a clerk).
RULE_LABELS = {
    "verified": gettext_lazy("已核实"),
    "new_economy_groups": gettext_lazy("覆盖新就业形态群体"),
    "level": gettext_lazy("县级及以下"),
    "min_members": gettext_lazy("会员人数"),
    "chair_elected": gettext_lazy("主席依法选举"),
    "min_committee": gettext_lazy("工会骨干人数"),
    "single_application": gettext_lazy("每个项目限申请一次"),
}
PREFERRED_FORMS = {OrgForm.REGIONAL_FEDERATION, OrgForm.INDUSTRY_FEDERATION, OrgForm.JOINT_UNION}
DEFAULT_PARENT_LEVELS = [ParentLevel.COUNTY.value, ParentLevel.TOWNSHIP.value]


@dataclass(frozen=True)
class Check:
    rule: str
    passed: bool
    detail: str

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def label(self) -> str:
        return str(RULE_LABELS.get(self.rule, self.rule))


def term_ends_on(elected_on: dt.date, years: int) -> dt.date:
    return clock.add_years(elected_on, years)


def evaluate(program, union: Union, *, member_count: int, other_applications: int, on: dt.date) -> list[Check]:
    checks: list[Check] = []
    status_label = union.get_status_display()
    if program.require_verified:
        checks.append(
            Check(
                "verified",
                union.status == UnionStatus.VERIFIED,
                _("工会已经县级总工会核实")
                if union.status == UnionStatus.VERIFIED
                else _("工会状态为「%(status)s」，尚未经县级总工会核实") % {"status": status_label}
                if union.status == UnionStatus.PENDING
                else _("工会状态为「%(status)s」，须为「%(verified)s」")
                % {"status": status_label, "verified": UnionStatus.VERIFIED.label},
            )
        )
    else:
        checks.append(Check("verified", True, _("本项目不要求核实")))

    groups = union.get_groups_display()
    if program.require_groups:
        checks.append(
            Check(
                "new_economy_groups",
                bool(union.groups),
                _("覆盖%(groups)s") % {"groups": groups} if union.groups else _("未覆盖任何新就业形态群体"),
            )
        )
    else:
        checks.append(Check("new_economy_groups", True, _("本项目不要求覆盖群体")))

    allowed = program.allowed_parent_levels or DEFAULT_PARENT_LEVELS
    level_ok = union.parent_level in allowed
    parent = {"level": union.get_parent_level_display()}
    checks.append(
        Check(
            "level",
            level_ok,
            (
                _("隶属%(level)s，属县级及以下") % parent
                if union.parent_level in DEFAULT_PARENT_LEVELS
                else _("隶属%(level)s，本项目允许该层级申请") % parent
            )
            if level_ok
            else _("隶属%(level)s，不属于本项目补助的层级") % parent,
        )
    )

    minimum = program.min_members
    checks.append(
        Check(
            "min_members",
            member_count >= minimum,
            _("会员 %(n)d 人，不少于 %(minimum)d 人") % {"n": member_count, "minimum": minimum}
            if member_count >= minimum
            else _("会员 %(n)d 人，少于 %(minimum)d 人") % {"n": member_count, "minimum": minimum},
        )
    )

    if not program.require_chair_elected:
        checks.append(Check("chair_elected", True, _("本项目不要求")))
    elif union.chair_elected_on is None:
        checks.append(Check("chair_elected", False, _("未登记工会主席的选举日期")))
    else:
        ends = term_ends_on(union.chair_elected_on, union.chair_term_years)
        if union.chair_elected_on > on:
            checks.append(
                Check(
                    "chair_elected",
                    False,
                    _("主席选举日期 %(date)s 晚于检查日期") % {"date": f"{union.chair_elected_on:%Y-%m-%d}"},
                )
            )
        elif ends <= on:
            checks.append(
                Check(
                    "chair_elected", False, _("主席任期已于 %(date)s 届满，须换届选举") % {"date": f"{ends:%Y-%m-%d}"}
                )
            )
        else:
            checks.append(
                Check(
                    "chair_elected",
                    True,
                    _("主席于 %(elected)s 依法选举，任期至 %(ends)s")
                    % {"elected": f"{union.chair_elected_on:%Y-%m-%d}", "ends": f"{ends:%Y-%m-%d}"},
                )
            )

    committee = union.committee_size
    checks.append(
        Check(
            "min_committee",
            committee >= program.min_committee,
            _("工会骨干 %(n)d 人，不少于 %(minimum)d 人") % {"n": committee, "minimum": program.min_committee}
            if committee >= program.min_committee
            else _("工会骨干 %(n)d 人，少于 %(minimum)d 人") % {"n": committee, "minimum": program.min_committee},
        )
    )

    checks.append(
        Check(
            "single_application",
            other_applications == 0,
            _("本项目中没有该工会的其他申请")
            if other_applications == 0
            else ngettext(
                "该工会在本项目中已有 %(n)d 份其他申请", "该工会在本项目中已有 %(n)d 份其他申请", other_applications
            )
            % {"n": other_applications},
        )
    )
    return checks


def priority_score(union: Union, member_count: int) -> int:
    score = 40 if union.org_form in PREFERRED_FORMS else 0
    score += 30 if union.funds_hard_to_guarantee else 0
    score += min(15, 5 * len(union.groups))
    score += min(15, member_count // 50)
    return score


def evaluate_many(applications, *, on: dt.date) -> dict[int, list[Check]]:
    """Eligibility of many applications (with ``program`` and ``union`` loaded) in one query: the member
    counts come with the unions, the other applications of the same unions are counted together."""
    from .models import Application

    applications = list(applications)
    others: Counter = Counter()
    if applications:
        rows = Application.objects.filter(
            program_id__in={a.program_id for a in applications}, union_id__in={a.union_id for a in applications}
        ).values_list("program_id", "union_id")
        others.update(rows)
    return {
        a.pk: evaluate(
            a.program,
            a.union,
            member_count=a.union.member_count,
            other_applications=others.get((a.program_id, a.union_id), 1) - 1,
            on=on,
        )
        for a in applications
    }
