"""Workflows declared as data: a table of (from, action, to, roles).

Services call ``Workflow.apply`` to learn the next state or get a refusal; pages and the API call
``Workflow.actions_for`` to offer only what the table allows.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from .errors import ApplicationError


@dataclass(frozen=True)
class Transition:
    source: str
    action: str
    target: str
    roles: frozenset[str]


class Workflow:
    def __init__(
        self,
        name: str,
        transitions: list[tuple[str | tuple[str, ...], str, str, set[str]]],
        *,
        states=None,
        action_labels: dict | None = None,
    ):
        """``states`` (a TextChoices) and ``action_labels`` name states and actions in refusals, so a clerk
        reads 「市级已审核」, not ``reviewed``."""
        self.name = name
        self.state_labels = dict(states.choices) if states is not None else {}
        self.action_labels = dict(action_labels or {})
        self.transitions: list[Transition] = []
        for sources, action, target, roles in transitions:
            for source in (sources,) if isinstance(sources, str) else sources:
                self.transitions.append(Transition(source, action, target, frozenset(roles)))

    @property
    def actions(self) -> list[str]:
        return list(dict.fromkeys(t.action for t in self.transitions))

    def actions_for(self, state: str, role: str) -> list[str]:
        return [t.action for t in self.transitions if t.source == state and role in t.roles]

    def roles_for(self, action: str) -> set[str]:
        return {role for t in self.transitions if t.action == action for role in t.roles}

    def apply(self, state: str, action: str, role: str) -> str:
        """The state after ``action``.

        A role that may never take this action is refused first (PermissionDenied, 403), whatever the
        state; a role that may, but not from this state, gets ApplicationError ``illegal_transition`` (409).
        """
        if action not in self.actions:
            raise ApplicationError(
                "illegal_transition", _("没有「%(action)s」这一操作。") % {"action": action}, extra={"action": action}
            )
        named = {"action": self.action_labels.get(action, action), "state": self.state_labels.get(state, state)}
        if role not in self.roles_for(action):
            raise PermissionDenied(_("您的角色不能执行「%(action)s」操作。") % named)
        for t in self.transitions:
            if t.source == state and t.action == action and role in t.roles:
                return t.target
        raise ApplicationError(
            "illegal_transition",
            _("当前状态「%(state)s」下不能执行「%(action)s」操作。") % named,
            extra={"state": state, "action": action},
        )
