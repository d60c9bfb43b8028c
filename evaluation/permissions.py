"""Who may do what in the evaluation app inside their scope. Each check returns (allowed, reason).

Scope itself is not checked here: objects reach these functions only through ``for_user`` querysets, so
an object outside the scope never gets this far (404). These checks decide the 403s.
"""

from django.utils.translation import gettext as _

from members.choices import Role

Decision = tuple[bool, str]
OK: Decision = (True, "")

SURVEY_INVITERS = frozenset({Role.PROVINCE_STAFF, Role.CITY_STAFF, Role.COUNTY_STAFF})


def can_create_survey_invite(user, union) -> Decision:
    """Creating a union's public survey link (and its QR code) is the federations' work: the county runs the
    survey of its unions, and a city or the province may print the links of the unions below them. Auditors
    only read. A union officer does not open the survey that scores their own union (satisfaction weighs
    most in the evaluation); once a link exists, anyone who sees the union may still see and print it."""
    if user.role in SURVEY_INVITERS:
        return OK
    return False, _("只有省、市、县（市、区）总工会可以生成满意度调查链接。")
