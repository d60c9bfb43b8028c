"""The self-assessment workflow as data.

The county submits (figures frozen); the city approves (optionally adjusting scores) or returns it;
the province may send an approved assessment back down after a spot-check.
"""

from django.utils.translation import gettext_lazy as _

from members.choices import Role
from unionfunds.core.workflow import Workflow

from .choices import AssessmentStatus as S

ACTION_LABELS = {"submit": _("提交自评"), "approve": _("审核通过"), "return": _("退回")}

ASSESSMENT_WORKFLOW = Workflow(
    "self_assessment",
    [
        (S.DRAFT, "submit", S.SUBMITTED, {Role.COUNTY_STAFF}),
        (S.SUBMITTED, "approve", S.APPROVED, {Role.CITY_STAFF}),
        (S.SUBMITTED, "return", S.DRAFT, {Role.CITY_STAFF}),
        (S.APPROVED, "return", S.DRAFT, {Role.PROVINCE_STAFF}),
    ],
    states=S,
    action_labels=ACTION_LABELS,
)
