"""Who may do what inside their scope (docs/rules.md §1). Each check returns a ``Decision``: (allowed, reason).

Scope itself is not checked here: objects reach these functions only through ``for_user`` querysets,
so an object outside the scope never gets this far (404). These checks decide the 403s (the role) and,
for a role that may act, the 409s of an object whose state does not allow it (``core.decisions``).
"""

from django.utils.translation import gettext as _

from unionfunds.core.decisions import OK, Decision, role_refusal, state_refusal

from .choices import RegionLevel, Role, UnionStatus

UNION_DISSOLVED = "union_dissolved"

UNION_REGISTRARS = {Role.COUNTY_STAFF}
ROSTER_KEEPERS = {Role.UNION_OFFICER, Role.COUNTY_STAFF}


def can_register_union(user) -> Decision:
    if user.role in UNION_REGISTRARS:
        return OK
    return role_refusal(_("只有县（市、区）总工会可以登记基层工会。"))


def can_edit_union(user, union) -> Decision:
    if user.role not in (Role.COUNTY_STAFF, Role.UNION_OFFICER):
        return role_refusal(_("只有所在县（市、区）总工会或本工会可以修改工会信息。"))
    if union.status == UnionStatus.DISSOLVED:
        return state_refusal(UNION_DISSOLVED, _("已撤销的工会不能修改。"))
    return OK


def can_manage_roster(user, union) -> Decision:
    if user.role not in ROSTER_KEEPERS:
        return role_refusal(_("只有本工会或所在县（市、区）总工会可以维护会员名册。"))
    if union.status == UnionStatus.DISSOLVED:
        return state_refusal(UNION_DISSOLVED, _("已撤销的工会不能修改会员名册。"))
    return OK


def can_open_union_account(user, union) -> Decision:
    # The county that registered the union hands its officer a login (there is no self sign-up).
    if user.role != Role.COUNTY_STAFF:
        return role_refusal(_("只有所在县（市、区）总工会可以为基层工会开设账号。"))
    if union.status == UnionStatus.DISSOLVED:
        return state_refusal(UNION_DISSOLVED, _("已撤销的工会不能开设账号。"))
    return OK


def can_see_union_accounts(user, union) -> Decision:
    # Who can log in for a union is the business of the union and of the county that opened its accounts.
    if user.role in (Role.COUNTY_STAFF, Role.UNION_OFFICER):
        return OK
    return role_refusal(_("只有本工会和所在县（市、区）总工会可以查看工会的登录账号。"))


def can_view_audit(user) -> Decision:
    # Audit events are not regional: only province-level staff and auditors read the whole trail.
    if user.role in (Role.PROVINCE_STAFF, Role.AUDITOR) and user.region and user.region.level == RegionLevel.PROVINCE:
        return OK
    return role_refusal(_("只有省总工会和经审可以查看审计日志。"))


def is_county_level(user) -> bool:
    return user.role == Role.COUNTY_STAFF and user.region is not None and user.region.level == RegionLevel.COUNTY


def can_unlock_accounts(user) -> Decision:
    if user.role in (Role.PROVINCE_STAFF, Role.CITY_STAFF, Role.COUNTY_STAFF):
        return OK
    return role_refusal(_("只有省、市、县（市、区）总工会可以解锁账号。"))


def can_reset_two_factor(user) -> Decision:
    # The province's administrators vouch for who gets a new authenticator (a lost or replaced phone).
    if user.role == Role.PROVINCE_STAFF:
        return OK
    return role_refusal(_("只有省总工会可以重置账号的两步验证。"))


def can_manage_api_clients(user) -> Decision:
    if user.role == Role.PROVINCE_STAFF:
        return OK
    return role_refusal(_("只有省总工会可以登记和停用外部系统。"))
