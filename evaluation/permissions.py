"""Who may do what in the evaluation app inside their scope. Each check returns a ``Decision``
(``core.decisions``): refused by the role (403) or, for a role that may act, by the state of the object
(409 with a code). Services ``enforce`` them; pages and templates ask them for what to offer.

Scope itself is not checked here: objects reach these functions only through ``for_user`` querysets, so
an object outside the scope never gets this far (404). These checks decide the 403s and the 409s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members.choices import RegionLevel, Role
from unionfunds.core.decisions import OK, Decision, role_refusal, state_refusal

from .choices import AssessmentStatus, SpotCheckStatus
from .workflows import ASSESSMENT_WORKFLOW

if TYPE_CHECKING:
    from grants.models import Program
    from members.models import Union, User

    from .models import SelfAssessment, SpotCheck

# The code of a refusal by state: the object is no longer in the state the action needs.
ILLEGAL_TRANSITION = "illegal_transition"
# The federations: they run programs, their evaluations and the survey of their unions.
FEDERATION_STAFF = frozenset({Role.PROVINCE_STAFF, Role.CITY_STAFF, Role.COUNTY_STAFF})
SURVEY_INVITERS = FEDERATION_STAFF
PROVINCE, CITY, COUNTY = (frozenset({role}) for role in (Role.PROVINCE_STAFF, Role.CITY_STAFF, Role.COUNTY_STAFF))
# A report covers a whole region (every subsidised union of it): beyond a union officer's scope.
REPORT_REQUESTERS = frozenset(Role.values) - {Role.UNION_OFFICER}
# Refusals given in more than one place, in one wording.
CHECK_CLOSED = gettext_lazy("该抽查已办结。")


def _role_in(user: User, roles: frozenset[str], refusal: str) -> Decision:
    return OK if user.role in roles else role_refusal(refusal)


def can_open_rounds(user: User) -> Decision:
    """Whether the user's role may open an evaluation at all (of a program their region runs)."""
    return _role_in(user, FEDERATION_STAFF, _("只有项目主管单位可以开展绩效评价。"))


def can_create_round(user: User, program: Program) -> Decision:
    """The evaluation of a program is opened by the staff of the region that runs it."""
    if user.role in FEDERATION_STAFF and user.region_id == program.owner_id:
        return OK
    return role_refusal(_("只有项目主管单位可以开展绩效评价。"))


def can_create_survey_invite(user: User, union: Union) -> Decision:
    """Creating a union's public survey link (and its QR code) is the federations' work: the county runs the
    survey of its unions, and a city or the province may print the links of the unions below them. Auditors
    only read. A union officer does not open the survey that scores their own union (satisfaction weighs
    most in the evaluation); once a link exists, anyone who sees the union may still see and print it."""
    return _role_in(user, SURVEY_INVITERS, _("只有省、市、县（市、区）总工会可以生成满意度调查链接。"))


def can_enter_survey_answers(user: User) -> Decision:
    """Paper answers are typed in (or imported) by the county that ran the survey."""
    return _role_in(user, COUNTY, _("只有县（市、区）总工会可以录入纸质问卷。"))


def assessment_actions(user: User, assessment: SelfAssessment) -> list[str]:
    """The workflow actions the user may take on the assessment now (the page offers these)."""
    return ASSESSMENT_WORKFLOW.actions_for(assessment.status, user.role)


def can_upload_evidence(user: User, assessment: SelfAssessment) -> Decision:
    """Evidence belongs to the county's self-assessment while it is still a draft."""
    if user.role != Role.COUNTY_STAFF:
        return role_refusal(_("只有县（市、区）总工会可以上传自评佐证材料。"))
    if assessment.status != AssessmentStatus.DRAFT:
        return state_refusal(ILLEGAL_TRANSITION, _("自评已提交，不能再上传佐证材料；如需补充请由市级退回。"))
    return OK


def can_complete_city_summary(user: User) -> Decision:
    return _role_in(user, CITY, _("只有市总工会可以完成市级审核评价。"))


def can_draw_spot_check(user: User) -> Decision:
    return _role_in(user, PROVINCE, _("只有省总工会可以开展抽查。"))


def _province_on_pending(user: User, check: SpotCheck, refusal: str) -> Decision:
    if user.role not in PROVINCE:
        return role_refusal(refusal)
    if check.status != SpotCheckStatus.PENDING:
        return state_refusal(ILLEGAL_TRANSITION, str(CHECK_CLOSED))
    return OK


def can_verify_spot_check(user: User, check: SpotCheck) -> Decision:
    """The province records the verified scores of a check still pending."""
    return _province_on_pending(user, check, _("只有省总工会可以核定抽查结果。"))


def can_send_back_spot_check(user: User, check: SpotCheck) -> Decision:
    """The province sends a county whose check is still pending back down to redo its self-assessment."""
    return _province_on_pending(user, check, _("只有省总工会可以退回抽查的县（市、区）。"))


def can_request_report(user: User) -> Decision:
    """Any role but a union officer's (``REPORT_REQUESTERS``)."""
    return _role_in(user, REPORT_REQUESTERS, _("基层工会不能生成地区评价报告。"))


def can_view_city_ranking(user: User) -> Decision:
    """The ranking of the cities (live figures of the whole province) is for the province's staff and auditors."""
    if user.role in (Role.PROVINCE_STAFF, Role.AUDITOR) and user.region and user.region.level == RegionLevel.PROVINCE:
        return OK
    return role_refusal(_("只有省总工会和经审可以查看各市排名。"))
