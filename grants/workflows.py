"""The application workflow as data: (from, action, to, roles).

Provincial programs follow the full chain county → city → province. A program run by a city or a
county is decided by its owner: for a city program the city reviews and then decides; for a county
program the county recommends and then decides (there is no one above it to review). The service also
checks that the deciding user belongs to the program's owner region.
"""

from django.utils.translation import gettext as _

from members.choices import RegionLevel, Role
from unionfunds.core.workflow import Workflow

from .choices import ACTION_LABELS
from .choices import ApplicationStatus as S

OFFICER, COUNTY, CITY, PROVINCE = Role.UNION_OFFICER, Role.COUNTY_STAFF, Role.CITY_STAFF, Role.PROVINCE_STAFF

_SUBMIT = (S.DRAFT, "submit", S.SUBMITTED, {OFFICER, COUNTY})
_RECOMMEND = (S.SUBMITTED, "recommend", S.RECOMMENDED, {COUNTY})
_RETURN_BY_COUNTY = (S.SUBMITTED, "return", S.DRAFT, {COUNTY})

PROVINCIAL = Workflow(
    "application.province",
    [
        _SUBMIT,
        _RECOMMEND,
        _RETURN_BY_COUNTY,
        (S.RECOMMENDED, "review", S.REVIEWED, {CITY}),
        (S.RECOMMENDED, "return", S.DRAFT, {CITY}),
        (S.REVIEWED, "approve", S.APPROVED, {PROVINCE}),
        (S.REVIEWED, "reject", S.REJECTED, {PROVINCE}),
        (S.REVIEWED, "return", S.DRAFT, {PROVINCE}),
    ],
    states=S,
    action_labels=ACTION_LABELS,
)

CITY_PROGRAM = Workflow(
    "application.city",
    [
        _SUBMIT,
        _RECOMMEND,
        _RETURN_BY_COUNTY,
        (S.RECOMMENDED, "review", S.REVIEWED, {CITY}),
        (S.RECOMMENDED, "return", S.DRAFT, {CITY}),
        (S.REVIEWED, "approve", S.APPROVED, {CITY}),
        (S.REVIEWED, "reject", S.REJECTED, {CITY}),
        (S.REVIEWED, "return", S.DRAFT, {CITY}),
    ],
    states=S,
    action_labels=ACTION_LABELS,
)

COUNTY_PROGRAM = Workflow(
    "application.county",
    [
        _SUBMIT,
        _RECOMMEND,
        _RETURN_BY_COUNTY,
        (S.RECOMMENDED, "approve", S.APPROVED, {COUNTY}),
        (S.RECOMMENDED, "reject", S.REJECTED, {COUNTY}),
        (S.RECOMMENDED, "return", S.DRAFT, {COUNTY}),
    ],
    states=S,
    action_labels=ACTION_LABELS,
)

BY_OWNER_LEVEL = {RegionLevel.PROVINCE: PROVINCIAL, RegionLevel.CITY: CITY_PROGRAM, RegionLevel.COUNTY: COUNTY_PROGRAM}
DECISIONS = {"approve", "reject"}

# Every action some program's workflow takes: what the pages' URLs and the API's endpoints accept.
ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(a for workflow in BY_OWNER_LEVEL.values() for a in workflow.actions))

# The steps a reviewer takes from the review queue (neither drafting nor sending back): after one, the page
# goes back to the queue for the next application.
QUEUE_ACTIONS = frozenset(
    t.action
    for workflow in BY_OWNER_LEVEL.values()
    for t in workflow.transitions
    if t.source != S.DRAFT and t.target != S.DRAFT
)


def workflow_for(program) -> Workflow:
    return BY_OWNER_LEVEL[program.owner.level]


def waiting_for(program, status: str) -> str | None:
    """Who acts next on an application of ``program`` in ``status``, read from its table (e.g. 市总工会)."""
    roles = {
        role
        for t in workflow_for(program).transitions
        if t.source == status and t.action != "return"
        for role in t.roles
    }
    return _("或").join(str(Role(r).label) for r in sorted(roles)) if roles else None
