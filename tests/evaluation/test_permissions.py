"""The evaluation app's ``can_<verb>`` checks: each returns a ``Decision``, refusing by role (403) or, for a
role that may act, by the object's state (409 with a code); pages and templates ask them instead of
testing roles; the actions pages and the API accept are those of the workflow table."""

import inspect
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import NoReverseMatch, reverse

from evaluation import forms, permissions, serializers, services
from evaluation.api import AssessmentViewSet
from evaluation.choices import AssessmentStatus, SpotCheckStatus
from evaluation.models import SelfAssessment, SpotCheck
from evaluation.workflows import ASSESSMENT_WORKFLOW
from grants.models import Program
from members.choices import RegionLevel, Role
from members.models import Region, Union, User
from unionfunds.core.decisions import Decision

PROVINCE = Region(code="330000", level=RegionLevel.PROVINCE)
# What each check's second argument is, by parameter name; checks without one look at the user only.
OBJECTS = {
    "assessment": lambda: [SelfAssessment(status=status) for status in AssessmentStatus.values],
    "check": lambda: [SpotCheck(status=status) for status in SpotCheckStatus.values],
    "union": lambda: [Union()],
    "program": lambda: [Program(owner=PROVINCE)],
}
CHECKS = [
    (name, function)
    for name, function in inspect.getmembers(permissions, inspect.isfunction)
    if name.startswith("can_") and function.__module__ == permissions.__name__
]


def test_the_checks_are_found():
    assert {"can_create_round", "can_upload_evidence", "can_verify_spot_check", "can_request_report"} <= {
        name for name, _check in CHECKS
    }


@pytest.mark.parametrize(("name", "check"), CHECKS, ids=[name for name, _check in CHECKS])
def test_every_refusal_is_either_by_role_or_by_state(name, check):
    parameters = list(inspect.signature(check).parameters)
    objects = OBJECTS[parameters[1]]() if len(parameters) > 1 else [None]
    allowed_roles = set()
    for role in Role.values:
        user = User(role=role, region=PROVINCE)
        decisions = [check(user, obj) if obj is not None else check(user) for obj in objects]
        assert all(isinstance(d, Decision) for d in decisions), f"{name} must return a Decision"
        allowed_somewhere = any(d.allowed for d in decisions)
        allowed_roles |= {role} if allowed_somewhere else set()
        for obj, decision in zip(objects, decisions, strict=True):
            if decision.allowed:
                continue
            assert decision.reason, f"{name}({role}) refuses without saying why"
            if allowed_somewhere:
                state = getattr(obj, "status", None)
                assert decision.code, f"{name}({role}, {state}) refuses by state without a code (must be 409)"
            else:
                assert not decision.code, f"{name}({role}) refuses the role everywhere, but with a code"
    assert allowed_roles and allowed_roles != set(Role.values), f"{name} allows {allowed_roles}"


def test_a_spot_check_is_verified_or_sent_back_by_the_province_while_it_is_pending():
    province, city = User(role=Role.PROVINCE_STAFF), User(role=Role.CITY_STAFF)
    pending, verified = SpotCheck(status=SpotCheckStatus.PENDING), SpotCheck(status=SpotCheckStatus.VERIFIED)
    for check in (permissions.can_verify_spot_check, permissions.can_send_back_spot_check):
        assert check(province, pending).allowed
        assert check(province, verified).code == permissions.ILLEGAL_TRANSITION
        assert not check(city, pending).allowed and not check(city, pending).code


def test_the_city_ranking_is_for_the_province_level():
    city = Region(code="330100", level=RegionLevel.CITY)
    assert permissions.can_view_city_ranking(User(role=Role.AUDITOR, region=PROVINCE)).allowed
    assert not permissions.can_view_city_ranking(User(role=Role.AUDITOR, region=city)).allowed
    assert not permissions.can_view_city_ranking(User(role=Role.CITY_STAFF, region=city)).allowed


# ---------------------------------------------------------------- pages ask, they do not test roles

ROLE_TEST = re.compile(r"\.role\s*(==|!=|\bin\b|\bnot in\b)|\buser\.role\b")


@pytest.mark.parametrize(
    "path",
    [
        *sorted(str(p) for p in (settings.BASE_DIR / "templates" / "evaluation").glob("*.html")),
        *sorted(str(p) for p in (settings.BASE_DIR / "templates" / "reports").glob("*.html")),
        *(str(settings.BASE_DIR / "evaluation" / name) for name in ("views.py", "forms.py", "api.py")),
        *sorted(str(p) for p in (settings.BASE_DIR / "evaluation" / "services").glob("*.py")),
    ],
    ids=lambda path: str(Path(path).relative_to(settings.BASE_DIR)),
)
def test_pages_services_and_templates_ask_permissions_instead_of_testing_roles(path):
    text = Path(path).read_text()
    assert not ROLE_TEST.search(text), ROLE_TEST.search(text).group(0)


# ---------------------------------------------------------------- actions from the workflow table


def test_the_assessment_actions_of_pages_and_api_are_those_of_the_workflow():
    actions = set(ASSESSMENT_WORKFLOW.actions)
    assert set(services.ASSESSMENT_SERVICES) == actions
    assert set(forms.ASSESSMENT_ACTION_INPUT) == actions
    assert set(serializers.ASSESSMENT_ACTION_SERIALIZERS) == actions
    assert {a.url_path for a in AssessmentViewSet.get_extra_actions()} == actions
    for action in actions:
        assert reverse("assessment-action", args=[1, action]) == f"/evaluation/assessments/1/{action}/"
        assert reverse("self-assessment-detail", args=[1]) + f"{action}/" in {
            reverse(f"self-assessment-{a.url_name}", args=[1]) for a in AssessmentViewSet.get_extra_actions()
        }
    with pytest.raises(NoReverseMatch):
        reverse("assessment-action", args=[1, "recommend"])
