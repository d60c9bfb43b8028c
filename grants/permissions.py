"""Who may do what with programs and applications inside their scope (scope itself: ``for_user``).

Each check returns a ``Decision`` (``core.decisions``): refused by the role (403) or, for a role that may
act, by the state of the union or the application (409 with a code).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from members.choices import Role, UnionStatus
from members.permissions import UNION_DISSOLVED
from unionfunds.core.decisions import OK, Decision, role_refusal, state_refusal

from .choices import ApplicationStatus
from .workflows import DECISIONS, workflow_for

if TYPE_CHECKING:
    from members.models import Region, Union, User

    from .models import Allocation, Application, Program

APPLICATION_NOT_DRAFT = "application_not_draft"
APPLICATION_DECIDED = "application_decided"
PROGRAM_OWNERS = {Role.PROVINCE_STAFF, Role.CITY_STAFF, Role.COUNTY_STAFF}


def can_create_program(user: User) -> Decision:
    if user.role in PROGRAM_OWNERS:
        return OK
    return role_refusal(_("只有省、市、县（市、区）总工会可以设立专项经费项目。"))


DRAFTERS = {Role.UNION_OFFICER, Role.COUNTY_STAFF}


def can_draft_applications(user: User) -> Decision:
    """Whether the user's role drafts applications at all (the union is checked by ``can_draft_application``)."""
    if user.role not in DRAFTERS:
        return role_refusal(_("只有基层工会或所在县（市、区）总工会可以填写申请。"))
    return OK


def can_draft_application(user: User, union: Union) -> Decision:
    decision = can_draft_applications(user)
    if not decision.allowed:
        return decision
    if union.status == UnionStatus.DISSOLVED:
        return state_refusal(UNION_DISSOLVED, _("工会已撤销，不能申请。"))
    return OK


def can_edit_application(user: User, application: Application) -> Decision:
    if user.role in DRAFTERS and application.status != ApplicationStatus.DRAFT:
        return state_refusal(APPLICATION_NOT_DRAFT, _("只有草稿状态的申请可以修改；已提交的申请须退回后修改。"))
    return can_draft_application(user, application.union)


def can_attach(user: User, application: Application) -> Decision:
    if user.role not in DRAFTERS:
        return role_refusal(_("只有基层工会或所在县（市、区）总工会可以上传申请材料。"))
    if application.status in (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED):
        return state_refusal(APPLICATION_DECIDED, _("已决定的申请不能再上传材料。"))
    return OK


def union_under(union: Union, region: Region) -> bool:
    """Whether ``union`` lies inside ``region``'s subtree."""
    county = union.county
    return region.code in (county.code, county.parent_id) or region.parent_id is None


def is_owner_staff(user: User, program: Program) -> bool:
    """Decisions belong to the staff of the region that runs the program."""
    return user.region_id == program.owner_id and user.role in PROGRAM_OWNERS


def owner_decides(user: User, program: Program) -> Decision:
    """Approving or rejecting is for the staff of the program's owner region, whatever the workflow's roles."""
    if is_owner_staff(user, program):
        return OK
    return role_refusal(_("只有「%(federation)s」可以作出决定。") % {"federation": program.owner.federation_name})


def application_actions(user: User, application: Application) -> list[str]:
    """The workflow actions ``user`` may take on ``application`` in its present state (what its page offers)."""
    program = application.program
    return [
        name
        for name in workflow_for(program).actions_for(application.status, user.role)
        if name not in DECISIONS or is_owner_staff(user, program)
    ]


def can_disburse(user: User, allocation: Allocation) -> Decision:
    if user.role in (Role.COUNTY_STAFF, Role.CITY_STAFF, Role.PROVINCE_STAFF):
        return OK
    return role_refusal(_("只有省、市、县（市、区）总工会可以登记拨付。"))


def can_spend(user: User, allocation: Allocation) -> Decision:
    if user.role in (Role.UNION_OFFICER, Role.COUNTY_STAFF):
        return OK
    return role_refusal(_("只有本工会或所在县（市、区）总工会可以登记支出。"))
