"""Workflows declared as data: a table of (from, action, to, roles).

Services call ``Workflow.apply`` to learn the next state or get a refusal; pages and the API call
``Workflow.actions_for`` to offer only what the table allows.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied

from .errors import ApplicationError


@dataclass(frozen=True)
class Transition:
    source: str
    action: str
    target: str
    roles: frozenset[str]


class Workflow:
    def __init__(self, name: str, transitions: list[tuple[str | tuple[str, ...], str, str, set[str]]]):
        self.name = name
        self.transitions: list[Transition] = []
        for sources, action, target, roles in transitions:
            for source in (sources,) if isinstance(sources, str) else sources:
                self.transitions.append(Transition(source, action, target, frozenset(roles)))

    @property
    def actions(self) -> list[str]:
        return list(dict.fromkeys(t.action for t in self.transitions))

    def actions_for(self, state: str, role: str) -> list[str]:
        return [t.action for t in self.transitions if t.source == state and role in t.roles]

    def apply(self, state: str, action: str, role: str) -> str:
        """The state after ``action``; ApplicationError (409) if the state forbids it, 403 if the role does."""
        matching = [t for t in self.transitions if t.source == state and t.action == action]
        if not matching:
            raise ApplicationError(
                "illegal_transition",
                f"当前状态「{state}」下不能执行「{action}」操作。",
                extra={"state": state, "action": action},
            )
        for t in matching:
            if role in t.roles:
                return t.target
        raise PermissionDenied(f"角色「{role}」不能执行「{action}」操作。")
