"""What a ``permissions.can_<verb>`` check answers, and the one way services act on it.

A check answers allowed, or refused for one of two reasons that the API must tell apart: the user's role
may not do this (403), or the role may but the object's state does not allow it — a dissolved union, an
application that is no longer a draft (409 with a code, like any other refusal by a rule). Pages only
need ``allowed, reason = can_edit_union(user, union)`` and show the reason; services and API views call
``enforce``. A check asks about the role first, so a role that may never act gets 403 whatever the state
(as ``Workflow.apply`` does).
"""

from django.core.exceptions import PermissionDenied

from .errors import ApplicationError


class Decision(tuple):
    """``(allowed, reason)``, unpacked as a pair; ``code`` names a refusal by state ("" for one by role)."""

    def __new__(cls, allowed: bool, reason: str = "", code: str = ""):
        decision = super().__new__(cls, (allowed, reason))
        decision.code = code
        return decision

    @property
    def allowed(self) -> bool:
        return self[0]

    @property
    def reason(self) -> str:
        return self[1]


OK = Decision(True)


def role_refusal(reason: str) -> Decision:
    return Decision(False, reason)


def state_refusal(code: str, reason: str) -> Decision:
    return Decision(False, reason, code)


def enforce(decision: tuple[bool, str]) -> None:
    """Nothing if allowed; else PermissionDenied (403) for a role, ApplicationError(code) (409) for a state."""
    allowed, reason = decision
    if allowed:
        return
    code = getattr(decision, "code", "")
    if code:
        raise ApplicationError(code, reason)
    raise PermissionDenied(reason)
