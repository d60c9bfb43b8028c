"""The union status workflow as data (docs/rules.md §2): pending → verified (by its county) → suspended / dissolved."""

from django.utils.translation import gettext_lazy as _

from unionfunds.core.workflow import Workflow

from .choices import Role, UnionStatus

P, V, S, D = UnionStatus.PENDING, UnionStatus.VERIFIED, UnionStatus.SUSPENDED, UnionStatus.DISSOLVED
COUNTY = {Role.COUNTY_STAFF}

UNION_ACTION_LABELS = {"verify": _("核实"), "suspend": _("暂停"), "reinstate": _("恢复"), "dissolve": _("撤销")}

UNION_WORKFLOW = Workflow(
    "union",
    [
        (P, "verify", V, COUNTY),
        (V, "suspend", S, COUNTY),
        (S, "reinstate", V, COUNTY),
        ((P, V, S), "dissolve", D, COUNTY),
    ],
    states=UnionStatus,
    action_labels=UNION_ACTION_LABELS,
)
