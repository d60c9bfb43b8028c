"""Refusals by role are 403, refusals by state 409 with a code — for every ``can_<verb>`` check.

A check that refuses a role for one state of the object but allows the same role for another is refusing
by state: its refusal must carry a code (the API answers 409 ``{code, detail}``). A check that refuses a
role whatever the state is refusing by role: no code (403). The test runs every check of the permission
modules over every role and every state of the objects it looks at, so a new check that mixes the two
kinds (a state test returning a plain refusal) fails here.
"""

import inspect
import itertools

import pytest
from django.core.exceptions import PermissionDenied

from grants import permissions as grants_permissions
from grants.choices import ApplicationStatus
from grants.models import Allocation, Application
from members import permissions as members_permissions
from members.choices import Role, UnionStatus
from members.models import Union, User
from unionfunds.core.decisions import Decision, enforce, role_refusal, state_refusal
from unionfunds.core.errors import ApplicationError


def unions():
    return [Union(status=status) for status in UnionStatus.values]


def applications():
    return [
        Application(status=status, union=union)
        for status, union in itertools.product(ApplicationStatus.values, unions())
    ]


# What each check's second argument is, by parameter name; checks without one look at the user only.
OBJECTS = {"union": unions, "application": applications, "allocation": lambda: [Allocation()]}
CHECKS = [
    (module.__name__, name, function)
    for module in (members_permissions, grants_permissions)
    for name, function in inspect.getmembers(module, inspect.isfunction)
    if name.startswith("can_") and function.__module__ == module.__name__
]


def test_the_checks_are_found():
    names = {name for _module, name, _function in CHECKS}
    assert {"can_edit_union", "can_manage_roster", "can_edit_application", "can_attach"} <= names


@pytest.mark.parametrize(("module", "name", "check"), CHECKS, ids=[f"{m}.{n}" for m, n, _c in CHECKS])
def test_every_refusal_is_either_by_role_or_by_state(module, name, check):
    parameters = list(inspect.signature(check).parameters)
    objects = OBJECTS[parameters[1]]() if len(parameters) > 1 else [None]
    for role in Role.values:
        user = User(role=role)
        decisions = [check(user, obj) if obj is not None else check(user) for obj in objects]
        assert all(isinstance(d, Decision) for d in decisions), f"{name} must return a Decision"
        allowed_somewhere = any(d.allowed for d in decisions)
        for obj, decision in zip(objects, decisions, strict=True):
            if decision.allowed:
                continue
            assert decision.reason, f"{name}({role}) refuses without saying why"
            if allowed_somewhere:
                state = getattr(obj, "status", None)
                assert decision.code, f"{name}({role}, {state}) refuses by state without a code (must be 409)"
            else:
                assert not decision.code, f"{name}({role}) refuses the role everywhere, but with a code"


def test_a_decision_unpacks_as_allowed_and_reason_for_the_pages():
    allowed, reason = state_refusal("union_dissolved", "已撤销的工会不能修改。")
    assert (allowed, reason) == (False, "已撤销的工会不能修改。")
    assert role_refusal("只有县级可以。") == (False, "只有县级可以。")


def test_enforce_raises_403_for_a_role_and_409_with_the_code_for_a_state():
    enforce(Decision(True))
    with pytest.raises(PermissionDenied, match="只有县级可以。"):
        enforce(role_refusal("只有县级可以。"))
    with pytest.raises(ApplicationError) as refused:
        enforce(state_refusal("union_dissolved", "已撤销的工会不能修改。"))
    assert (refused.value.code, refused.value.detail, refused.value.status) == (
        "union_dissolved",
        "已撤销的工会不能修改。",
        409,
    )
