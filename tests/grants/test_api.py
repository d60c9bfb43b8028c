"""REST API of the grants slice (the REST contract in README) as a client of the contract sees it: programs, the budget
meter, applications, eligibility, the workflow actions for every user of the cast, filters, history.

Cast (tests/conftest.py): province staff and auditor, Hangzhou city staff and auditor, Xihu and Yuhang
county staff (Hangzhou), Ningbo city staff and Yinzhou county staff, the officer of ``union_xihu``.
"""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from grants.choices import ApplicationStatus as S
from grants.eligibility import RULES
from grants.models import Allocation, Application, ApplicationTransition, Program
from grants.workflows import PROVINCIAL
from members.choices import OrgForm
from members.models import Union
from tests.factories import add_members, eligible_union, leave, make_application, make_program, program_data
from unionfunds.core import clock
from unionfunds.core.models import AuditEvent

API = "/api/v1"
MONEY = re.compile(r"^\d+\.\d{2}$")
USERS = ["province", "auditor", "hangzhou", "city_auditor", "xihu", "yuhang", "ningbo", "yinzhou", "officer"]
# Users who can see an application of union_xihu (a Xihu union in Hangzhou).
SEES_XIHU = {"province", "auditor", "hangzhou", "city_auditor", "xihu", "officer"}


def as_(api, user):
    return api.as_user(user)


def state_of(application) -> tuple:
    application.refresh_from_db()
    return (
        application.status,
        application.approved_amount,
        ApplicationTransition.objects.filter(application=application).count(),
        Allocation.objects.count(),
        AuditEvent.objects.count(),
    )


def program_body(**overrides) -> dict:
    data = program_data(**overrides)
    for key in ("opens_on", "closes_on"):
        data[key] = data[key].isoformat()
    return data


# ------------------------------------------------------------------ programs


def test_post_program_answers_201_with_money_as_strings(cast, api):
    response = as_(api, cast.province).post(
        f"{API}/programs/", program_body(city_quotas={"330100": 40, "330200": 35}), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"] == "330000"
    assert body["budget_total"] == "15000000.00"
    assert body["max_grant"] == "60000.00"
    assert body["target_count"] == 250
    assert body["funding_sources"] == [
        {"source": "fiscal", "amount": "6000000.00"},
        {"source": "union", "amount": "9000000.00"},
    ]
    assert body["city_quotas"] == {"330100": 40, "330200": 35}
    assert body["min_members"] == 150 and body["min_committee"] == 3
    assert Program.objects.get(pk=body["id"]).funding.count() == 2


def test_post_program_without_max_grant_gets_total_over_target(cast, api):
    body = program_body()
    del body["max_grant"]
    response = as_(api, cast.province).post(f"{API}/programs/", body, format="json")
    assert response.status_code == 201
    assert response.json()["max_grant"] == "60000.00"


@pytest.mark.parametrize(
    ("user", "owner", "status"),
    [
        ("province", "330000", 201),
        ("hangzhou", "330100", 201),
        ("xihu", "330106", 201),
        ("hangzhou", "330000", 400),
        ("xihu", "330100", 400),
        ("officer", "330106", 403),
        ("auditor", "330000", 403),
        ("city_auditor", "330100", 403),
    ],
)
def test_post_program_by_role(cast, api, user, owner, status):
    response = as_(api, cast.users()[user]).post(
        f"{API}/programs/", program_body(owner=owner, city_quotas={}), format="json"
    )
    assert response.status_code == status, response.json()
    if status == 400:
        assert "owner" in response.json()
    assert Program.objects.count() == (1 if status == 201 else 0)


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        (
            {
                "funding_sources": [
                    {"source": "fiscal", "amount": "6000000.00"},
                    {"source": "union", "amount": "8000000.00"},
                ]
            },
            "funding_sources",
            ["14,000,000.00", "15,000,000.00"],
        ),
        ({"budget_total": "15000000.001"}, "budget_total", []),
        ({"budget_total": "abc"}, "budget_total", []),
        ({"categories": ["travel"]}, "categories", []),
        ({"city_quotas": {"330106": 2}}, "city_quotas", ["330106"]),
        ({"target_count": 0}, "target_count", []),
    ],
)
def test_post_program_bad_input_is_400_and_creates_nothing(cast, api, overrides, field, words):
    response = as_(api, cast.province).post(f"{API}/programs/", program_body(**overrides), format="json")
    assert response.status_code == 400
    errors = response.json()
    assert field in errors, errors
    for word in words:
        assert word in str(errors[field])
    assert not Program.objects.exists()


def test_program_list_and_detail_follow_the_scope(cast, api):
    province = make_program(cast.province, name="省级项目")
    hangzhou = make_program(cast.hangzhou, owner="330100", name="杭州市项目")
    xihu = make_program(cast.xihu, owner="330106", name="西湖区项目")
    visible = {
        "province": {province, hangzhou, xihu},
        "auditor": {province, hangzhou, xihu},
        "hangzhou": {province, hangzhou, xihu},
        "city_auditor": {province, hangzhou, xihu},
        "xihu": {province, hangzhou, xihu},
        "officer": {province, hangzhou, xihu},
        "yuhang": {province, hangzhou},
        "ningbo": {province},
        "yinzhou": {province},
    }
    for name, programs in visible.items():
        client = as_(api, cast.users()[name])
        listed = client.get(f"{API}/programs/").json()["results"]
        assert {p["id"] for p in listed} == {p.pk for p in programs}, name
        for program in (province, hangzhou, xihu):
            expected = 200 if program in programs else 404
            assert client.get(f"{API}/programs/{program.pk}/").status_code == expected, (name, program.name)
            assert client.get(f"{API}/programs/{program.pk}/budget/").status_code == expected, (name, program.name)


# ------------------------------------------------------------------ the budget meter


def test_budget_meter(stocked, api):
    program = make_program(stocked.province, city_quotas={"330100": 40, "330200": 35})
    make_application(program, stocked.union_xihu, until=S.APPROVED, requested="60000.00")
    make_application(program, stocked.union_yinzhou, until=S.APPROVED, requested="45000.50")
    make_application(program, stocked.union_yuhang, until=S.REVIEWED, requested="50000.00")

    body = as_(api, stocked.province).get(f"{API}/programs/{program.pk}/budget/").json()

    assert body["budget_total"] == "15000000.00"
    assert body["approved_total"] == "105000.50"
    assert body["remaining"] == "14894999.50"
    assert body["approved_count"] == 2
    assert body["remaining_slots"] == 248
    for key in ("budget_total", "approved_total", "remaining"):
        assert MONEY.match(body[key]), key
    by_city = {row["city"]: row for row in body["by_city"]}
    assert by_city["330100"]["quota"] == 40
    assert by_city["330100"]["approved_count"] == 1
    assert by_city["330100"]["approved_total"] == "60000.00"
    assert by_city["330100"]["remaining_slots"] == 39
    assert by_city["330200"]["approved_total"] == "45000.50"
    assert by_city["330200"]["remaining_slots"] == 34
    # Hangzhou's staff see the program's totals, but only their own city in the breakdown.
    hangzhou = as_(api, stocked.hangzhou).get(f"{API}/programs/{program.pk}/budget/").json()
    assert hangzhou["approved_total"] == "105000.50"
    assert [row["city"] for row in hangzhou["by_city"]] == ["330100"]


def test_budget_meter_of_an_empty_program(cast, api):
    program = make_program(cast.province)
    body = as_(api, cast.auditor).get(f"{API}/programs/{program.pk}/budget/").json()
    assert body["approved_total"] == "0.00"
    assert body["remaining"] == "15000000.00"
    assert body["approved_count"] == 0 and body["remaining_slots"] == 250
    assert body["by_city"] == []


# ------------------------------------------------------------------ applications: create, read, update


def application_body(program, union, /, **overrides) -> dict:
    body = {
        "program": program.pk,
        "union": union.pk,
        "requested_amount": "50000.00",
        "budget_lines": [
            {"category": "activities", "amount": "20000.00", "description": "节日慰问"},
            {"category": "skills", "amount": "30000.00", "description": "技能培训"},
        ],
        "plan": "开展职工活动和技能培训",
    }
    body.update(overrides)
    return body


def test_post_application_answers_201_with_the_object(stocked, program, api):
    response = as_(api, stocked.officer).post(
        f"{API}/applications/", application_body(program, stocked.union_xihu), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["program"] == program.pk and body["union"] == stocked.union_xihu.pk
    assert body["requested_amount"] == "50000.00"
    assert body["approved_amount"] is None
    assert body["budget_lines"] == [
        {"category": "activities", "amount": "20000.00", "description": "节日慰问"},
        {"category": "skills", "amount": "30000.00", "description": "技能培训"},
    ]
    assert body["eligible"] is True
    assert body["priority_score"] == 83
    assert body["history"] == []
    assert Application.objects.get(pk=body["id"]).created_by == stocked.officer


@pytest.mark.parametrize(
    ("user", "union", "status"),
    [
        ("officer", "union_xihu", 201),
        ("xihu", "union_xihu_other", 201),
        ("yinzhou", "union_yinzhou", 201),
        ("officer", "union_xihu_other", 400),  # not the officer's union
        ("yuhang", "union_xihu", 400),  # not in Yuhang
        ("province", "union_xihu", 403),
        ("hangzhou", "union_yuhang", 403),
        ("auditor", "union_xihu", 403),
        ("city_auditor", "union_xihu", 403),
    ],
)
def test_post_application_by_role_and_scope(stocked, program, api, user, union, status):
    target = getattr(stocked, union)
    response = as_(api, stocked.users()[user]).post(
        f"{API}/applications/", application_body(program, target), format="json"
    )
    assert response.status_code == status, response.json()
    if status == 400:
        assert "union" in response.json()
    assert Application.objects.count() == (1 if status == 201 else 0)


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"requested_amount": "abc"}, "requested_amount", []),
        ({"requested_amount": "50000.001"}, "requested_amount", []),
        ({"requested_amount": "60000.01", "budget_lines": []}, "requested_amount", ["60,000.00"]),
        ({"budget_lines": [{"category": "activities", "amount": "1.00"}]}, "budget_lines", ["1.00", "50,000.00"]),
        ({"budget_lines": [{"category": "warmth", "amount": "50000.00"}]}, "budget_lines", ["warmth"]),
        ({"budget_lines": [{"category": "cinema", "amount": "50000.00"}]}, "budget_lines", []),
        ({"program": 999999}, "program", []),
    ],
)
def test_post_application_bad_input_is_400(stocked, program, api, overrides, field, words):
    response = as_(api, stocked.officer).post(
        f"{API}/applications/", application_body(program, stocked.union_xihu, **overrides), format="json"
    )
    assert response.status_code == 400
    errors = response.json()
    assert field in errors, errors
    for word in words:
        assert word in str(errors[field])
    assert not Application.objects.exists()


def test_a_second_application_of_the_same_union_is_400_single_application(stocked, program, api):
    client = as_(api, stocked.xihu)
    assert (
        client.post(f"{API}/applications/", application_body(program, stocked.union_xihu), format="json").status_code
        == 201
    )
    response = client.post(f"{API}/applications/", application_body(program, stocked.union_xihu), format="json")
    assert response.status_code == 400
    assert "single_application" in response.json()["union"][0]
    assert Application.objects.count() == 1


def test_application_list_and_detail_follow_the_scope(stocked, program, api):
    apps = {
        name: make_application(program, getattr(stocked, name))
        for name in ("union_xihu", "union_xihu_other", "union_yuhang", "union_yinzhou")
    }
    sees = {
        "province": set(apps),
        "auditor": set(apps),
        "hangzhou": {"union_xihu", "union_xihu_other", "union_yuhang"},
        "city_auditor": {"union_xihu", "union_xihu_other", "union_yuhang"},
        "xihu": {"union_xihu", "union_xihu_other"},
        "yuhang": {"union_yuhang"},
        "ningbo": {"union_yinzhou"},
        "yinzhou": {"union_yinzhou"},
        "officer": {"union_xihu"},
    }
    for user, names in sees.items():
        client = as_(api, stocked.users()[user])
        body = client.get(f"{API}/applications/").json()
        assert body["count"] == len(names), user
        assert {row["id"] for row in body["results"]} == {apps[n].pk for n in names}, user
        for name, application in apps.items():
            expected = 200 if name in names else 404
            assert client.get(f"{API}/applications/{application.pk}/").status_code == expected, (user, name)
            assert client.get(f"{API}/applications/{application.pk}/eligibility/").status_code == expected


def test_unauthenticated_requests_are_401(stocked, program):
    application = make_application(program, stocked.union_xihu, until=S.REVIEWED)
    client = APIClient()
    assert client.get(f"{API}/applications/").status_code == 401
    assert client.get(f"{API}/programs/").status_code == 401
    response = client.post(f"{API}/applications/{application.pk}/approve/", {"approved_amount": "1.00"}, format="json")
    assert response.status_code == 401
    assert Application.objects.get(pk=application.pk).status == S.REVIEWED


@pytest.mark.parametrize(
    ("user", "status"),
    [
        ("officer", 200),
        ("xihu", 200),
        ("province", 403),
        ("hangzhou", 403),
        ("auditor", 403),
        ("yuhang", 404),
        ("ningbo", 404),
        ("yinzhou", 404),
    ],
)
def test_patch_a_draft(stocked, program, api, user, status):
    application = make_application(program, stocked.union_xihu, requested="50000.00")
    response = as_(api, stocked.users()[user]).patch(
        f"{API}/applications/{application.pk}/",
        {
            "plan": "新的使用计划",
            "requested_amount": "40000.00",
            "budget_lines": [{"category": "mutual_aid", "amount": "40000.00", "description": "互助保障"}],
        },
        format="json",
    )
    assert response.status_code == status
    application.refresh_from_db()
    if status == 200:
        body = response.json()
        assert body["plan"] == "新的使用计划"
        assert body["requested_amount"] == "40000.00"
        assert body["budget_lines"] == [{"category": "mutual_aid", "amount": "40000.00", "description": "互助保障"}]
        assert application.requested_amount == Decimal("40000.00")
    else:
        assert application.requested_amount == Decimal("50000.00")
        assert application.plan == ""


def test_patch_refuses_a_submitted_application_and_bad_lines(stocked, program, api):
    draft = make_application(program, stocked.union_xihu, requested="50000.00")
    client = as_(api, stocked.officer)
    response = client.patch(f"{API}/applications/{draft.pk}/", {"requested_amount": "45000.00"}, format="json")
    assert response.status_code == 400  # the lines (50,000.00) no longer add up
    assert "45,000.00" in str(response.json()["budget_lines"])
    client.post(f"{API}/applications/{draft.pk}/submit/", {}, format="json")
    response = client.patch(f"{API}/applications/{draft.pk}/", {"plan": "改"}, format="json")
    # The officer may edit applications, just not this one now: a state refusal, 409 with a code.
    assert response.status_code == 409
    assert response.json()["code"] == "application_not_draft"
    assert "草稿" in response.json()["detail"]
    assert Application.objects.get(pk=draft.pk).requested_amount == Decimal("50000.00")
    # A role that may never edit an application is refused as such (403), whatever the state.
    response = as_(api, stocked.hangzhou).patch(f"{API}/applications/{draft.pk}/", {"plan": "改"}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize("until", [S.SUBMITTED, S.RECOMMENDED, S.REVIEWED, S.APPROVED, S.REJECTED])
def test_patch_of_an_application_past_draft_is_409_application_not_draft(stocked, program, api, until):
    application = make_application(program, stocked.union_xihu, until=until, requested="30000.00")
    for user in (stocked.officer, stocked.xihu):
        response = as_(api, user).patch(f"{API}/applications/{application.pk}/", {"plan": "改"}, format="json")
        assert response.status_code == 409, response.content
        assert response.json()["code"] == "application_not_draft"
    assert Application.objects.get(pk=application.pk).plan == ""


def test_drafting_for_a_dissolved_union_is_409_union_dissolved(stocked, program, api):
    Union.objects.filter(pk=stocked.union_xihu.pk).update(status="dissolved")
    response = as_(api, stocked.xihu).post(
        f"{API}/applications/",
        {"program": program.pk, "union": stocked.union_xihu.pk, "requested_amount": "30000.00"},
        format="json",
    )
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "union_dissolved"
    assert not Application.objects.exists()


# ------------------------------------------------------------------ eligibility


def test_eligibility_endpoint_reports_seven_rules(stocked, program, api):
    application = make_application(program, stocked.union_xihu)
    body = as_(api, stocked.officer).get(f"{API}/applications/{application.pk}/eligibility/").json()
    assert body["eligible"] is True
    assert [c["rule"] for c in body["checks"]] == list(RULES)
    for check in body["checks"]:
        assert set(check) == {"rule", "passed", "detail"}
        assert check["passed"] is True and check["detail"]


def test_eligibility_endpoint_says_why_not(stocked, program, api):
    union = eligible_union(members=149, committee_size=2)
    application = make_application(program, union)
    body = as_(api, stocked.xihu).get(f"{API}/applications/{application.pk}/eligibility/").json()
    assert body["eligible"] is False
    failed = {c["rule"]: c["detail"] for c in body["checks"] if not c["passed"]}
    assert set(failed) == {"min_members", "min_committee"}
    assert "149" in failed["min_members"] and "150" in failed["min_members"]
    # Checked live: one more member and the rule passes.
    add_members(union, 1)
    body = as_(api, stocked.xihu).get(f"{API}/applications/{application.pk}/eligibility/").json()
    assert {c["rule"] for c in body["checks"] if not c["passed"]} == {"min_committee"}


def test_eligibility_endpoint_uses_the_service_clock(stocked, program, api):
    application = make_application(program, stocked.union_xihu)
    # The factory's chair was elected on 2023-03-01 for five years.
    with clock.travel(dt.datetime(2028, 3, 2, 9)):
        body = as_(api, stocked.xihu).get(f"{API}/applications/{application.pk}/eligibility/").json()
    chair = next(c for c in body["checks"] if c["rule"] == "chair_elected")
    assert chair["passed"] is False and "2028-03-01" in chair["detail"]


# ------------------------------------------------------------------ workflow actions for every user

ACTIONS = [
    # state the application is in, action, the users who may take it (all others in scope: 403)
    (S.DRAFT, "submit", S.SUBMITTED, ["officer", "xihu"]),
    (S.SUBMITTED, "recommend", S.RECOMMENDED, ["xihu"]),
    (S.SUBMITTED, "return", S.DRAFT, ["xihu"]),
    (S.RECOMMENDED, "review", S.REVIEWED, ["hangzhou"]),
    (S.RECOMMENDED, "return", S.DRAFT, ["hangzhou"]),
    (S.REVIEWED, "approve", S.APPROVED, ["province"]),
    (S.REVIEWED, "reject", S.REJECTED, ["province"]),
    (S.REVIEWED, "return", S.DRAFT, ["province"]),
]


@pytest.mark.parametrize(
    ("state", "action", "target", "winner"),
    [(state, action, target, winner) for state, action, target, winners in ACTIONS for winner in winners],
)
def test_action_for_every_user_of_the_cast(stocked, program, api, state, action, target, winner):
    application = make_application(program, stocked.union_xihu, until=state, requested="60000.00")
    allowed = next(w for s, a, _, w in ACTIONS if (s, a) == (state, action))
    url = f"{API}/applications/{application.pk}/{action}/"
    body = {"comment": "意见", **({"approved_amount": "50000.00"} if action == "approve" else {})}
    before = state_of(application)

    answers, expected = {}, {}
    for name in USERS:
        if name in allowed:
            continue
        user = stocked.users()[name]
        answers[name] = as_(api, user).post(url, body, format="json").status_code
        # Out of scope: 404. A role that never takes this action: 403. A role that takes it from another
        # state (e.g. the province returning what is still with the county): 409 illegal transition.
        expected[name] = 404 if name not in SEES_XIHU else 409 if user.role in PROVINCIAL.roles_for(action) else 403
    assert answers == expected
    assert state_of(application) == before

    response = as_(api, stocked.users()[winner]).post(url, body, format="json")
    assert response.status_code == 200, response.json()
    result = response.json()
    assert result["id"] == application.pk
    assert result["status"] == target
    last = result["history"][-1]
    assert list(last) == ["action", "from", "to", "actor", "at", "comment"]
    assert (last["action"], last["from"], last["to"], last["actor"], last["comment"]) == (
        action,
        state,
        target,
        stocked.users()[winner].username,
        "意见",
    )
    assert dt.datetime.fromisoformat(last["at"])
    if action == "approve":
        assert result["approved_amount"] == "50000.00"
        assert Allocation.objects.get(application=application).amount == Decimal("50000.00")


@pytest.mark.parametrize(
    ("state", "action", "user"),
    [
        (S.DRAFT, "approve", "province"),
        (S.DRAFT, "recommend", "xihu"),
        (S.DRAFT, "review", "hangzhou"),
        (S.SUBMITTED, "submit", "officer"),
        (S.SUBMITTED, "review", "hangzhou"),
        (S.REVIEWED, "recommend", "xihu"),
        (S.APPROVED, "reject", "province"),
        (S.APPROVED, "return", "province"),
        (S.REJECTED, "approve", "province"),
    ],
)
def test_illegal_transition_is_409_with_code_and_detail(stocked, program, api, state, action, user):
    application = make_application(program, stocked.union_xihu, until=state)
    before = state_of(application)
    response = as_(api, stocked.users()[user]).post(
        f"{API}/applications/{application.pk}/{action}/",
        {"comment": "意见", "approved_amount": "100.00"},
        format="json",
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "illegal_transition"
    assert isinstance(body["detail"], str) and body["detail"]
    assert state_of(application) == before


@pytest.mark.parametrize("user", ["auditor", "city_auditor", "officer", "hangzhou", "xihu"])
def test_approve_by_a_role_that_never_decides_is_403_whatever_the_state(stocked, program, api, user):
    application = make_application(program, stocked.union_xihu, until=S.DRAFT)
    response = as_(api, stocked.users()[user]).post(
        f"{API}/applications/{application.pk}/approve/", {"approved_amount": "100.00"}, format="json"
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"approved_amount": "abc"}, "approved_amount"),
        ({"approved_amount": "50000.005"}, "approved_amount"),
        ({"approved_amount": "-5.00"}, "approved_amount"),
        ({}, "approved_amount"),
        ({"approved_amount": "50000.00", "comment": "x" * 2001}, "comment"),
    ],
)
def test_approve_with_bad_input_is_400_and_changes_nothing(stocked, program, api, body, field):
    application = make_application(program, stocked.union_xihu, until=S.REVIEWED)
    before = state_of(application)
    response = as_(api, stocked.province).post(f"{API}/applications/{application.pk}/approve/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert state_of(application) == before


@pytest.mark.parametrize(
    ("state", "action", "user"), [(S.SUBMITTED, "return", "xihu"), (S.REVIEWED, "reject", "province")]
)
def test_return_and_reject_without_comment_are_400(stocked, program, api, state, action, user):
    application = make_application(program, stocked.union_xihu, until=state)
    before = state_of(application)
    response = as_(api, stocked.users()[user]).post(
        f"{API}/applications/{application.pk}/{action}/", {"comment": " "}, format="json"
    )
    assert response.status_code == 400
    assert "comment" in response.json()
    assert state_of(application) == before


def _small_program(province, **overrides):
    return make_program(
        province,
        name="小额项目",
        budget_total="100000.00",
        funding_sources=[{"source": "fiscal", "amount": "40000.00"}, {"source": "union", "amount": "60000.00"}],
        **overrides,
    )


def test_broken_budget_rules_are_409_with_the_numbers(stocked, api):
    program = _small_program(stocked.province, target_count=3, city_quotas={"330100": 1})
    make_application(program, stocked.union_xihu, until=S.APPROVED, requested="60000.00")
    yuhang = make_application(program, stocked.union_yuhang, until=S.REVIEWED, requested="30000.00")
    yinzhou = make_application(program, stocked.union_yinzhou, until=S.REVIEWED, requested="60000.00")
    client = as_(api, stocked.province)

    cases = [
        (yinzhou, "0.00", "amount_not_positive", []),
        (yinzhou, "60000.00", "budget_exceeded", ["40,000.00"]),
        (yuhang, "30000.01", "amount_above_requested", ["30,000.00"]),
        (yuhang, "30000.00", "city_quota_reached", ["杭州市"]),
    ]
    for application, amount, code, words in cases:
        before = state_of(application)
        response = client.post(
            f"{API}/applications/{application.pk}/approve/", {"approved_amount": amount}, format="json"
        )
        assert response.status_code == 409, (code, response.json())
        body = response.json()
        assert body["code"] == code
        for word in words:
            assert word in body["detail"]
        assert state_of(application) == before
    # What is left can still be granted.
    response = client.post(f"{API}/applications/{yinzhou.pk}/approve/", {"approved_amount": "40000.00"}, format="json")
    assert response.status_code == 200
    assert response.json()["approved_amount"] == "40000.00"
    budget = client.get(f"{API}/programs/{program.pk}/budget/").json()
    assert (budget["approved_total"], budget["remaining"], budget["approved_count"]) == ("100000.00", "0.00", 2)


def test_target_reached_is_409(stocked, api):
    program = make_program(stocked.province, target_count=1)
    make_application(program, stocked.union_xihu, until=S.APPROVED)
    other = make_application(program, stocked.union_yinzhou, until=S.REVIEWED)
    response = as_(api, stocked.province).post(
        f"{API}/applications/{other.pk}/approve/", {"approved_amount": "60000.00"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "target_reached"


def test_an_ineligible_application_cannot_be_approved_409(stocked, program, api):
    application = make_application(program, stocked.union_xihu, until=S.REVIEWED)
    Union.objects.filter(pk=stocked.union_xihu.pk).update(committee_size=2)
    response = as_(api, stocked.province).post(
        f"{API}/applications/{application.pk}/approve/", {"approved_amount": "60000.00"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "not_eligible"
    assert "工会骨干人数" in response.json()["detail"]  # in words; the codes for machines come in ``failed``
    assert [c["rule"] for c in response.json()["failed"]] == ["min_committee"]


def test_history_entries(stocked, program, api):
    application = make_application(program, stocked.union_xihu, until=S.REVIEWED)
    as_(api, stocked.province).post(
        f"{API}/applications/{application.pk}/return/", {"comment": "请补充选举材料"}, format="json"
    )
    history = as_(api, stocked.officer).get(f"{API}/applications/{application.pk}/").json()["history"]
    assert [(h["action"], h["from"], h["to"], h["actor"]) for h in history] == [
        ("submit", "draft", "submitted", "t_xihu"),
        ("recommend", "submitted", "recommended", "t_xihu"),
        ("review", "recommended", "reviewed", "t_hangzhou"),
        ("return", "reviewed", "draft", "t_province"),
    ]
    assert history[-1]["comment"] == "请补充选举材料"
    assert all(set(h) == {"action", "from", "to", "actor", "at", "comment"} for h in history)
    stamps = [dt.datetime.fromisoformat(h["at"]) for h in history]
    assert stamps == sorted(stamps)


# ------------------------------------------------------------------ list filters and ordering


@pytest.fixture
def queue(stocked):
    """Four applications with different cities, forms, amounts, dates and priority scores."""
    Union.objects.filter(pk=stocked.union_xihu_other.pk).update(
        org_form=OrgForm.ENTERPRISE_UNION, funds_hard_to_guarantee=False
    )
    Union.objects.filter(pk=stocked.union_yuhang.pk).update(
        org_form=OrgForm.REGIONAL_FEDERATION, funds_hard_to_guarantee=False
    )
    leave(stocked.union_yinzhou.members.first(), dt.date(2026, 1, 1))
    program = make_program(stocked.province)
    other_program = make_program(stocked.province, name="另一个项目")
    plan = [
        ("union_xihu", "30000.00", 3, S.SUBMITTED),  # priority 83
        ("union_xihu_other", "40000.00", 1, S.SUBMITTED),  # priority 13
        ("union_yuhang", "50000.00", 4, S.RECOMMENDED),  # priority 53
        ("union_yinzhou", "60000.00", 2, S.SUBMITTED),  # priority 82, 149 members: not eligible
    ]
    apps = {}
    for name, amount, day, until in plan:
        with clock.travel(dt.datetime.combine(clock.today() - dt.timedelta(days=10 - day), dt.time(9))):
            apps[name] = make_application(program, getattr(stocked, name), until=until, requested=amount)
    apps["other_program"] = make_application(other_program, stocked.union_xihu, requested="10000.00")
    return program, other_program, apps


def ids(api, user, query: str) -> list[int]:
    response = as_(api, user).get(f"{API}/applications/?{query}")
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_list_filters(stocked, api, queue):
    program, other_program, apps = queue
    p = f"program={program.pk}"
    province = stocked.province
    assert sorted(ids(api, province, p)) == sorted(
        apps[n].pk for n in ("union_xihu", "union_xihu_other", "union_yuhang", "union_yinzhou")
    )
    assert ids(api, province, f"program={other_program.pk}") == [apps["other_program"].pk]
    assert set(ids(api, province, f"{p}&city=330100")) == {
        apps[n].pk for n in ("union_xihu", "union_xihu_other", "union_yuhang")
    }
    assert set(ids(api, province, f"{p}&city=330200")) == {apps["union_yinzhou"].pk}
    assert set(ids(api, province, f"{p}&county=330106")) == {apps["union_xihu"].pk, apps["union_xihu_other"].pk}
    assert ids(api, province, f"{p}&status=recommended") == [apps["union_yuhang"].pk]
    assert ids(api, province, f"{p}&eligible=false") == [apps["union_yinzhou"].pk]
    assert apps["union_yinzhou"].pk not in ids(api, province, f"{p}&eligible=true")
    assert ids(api, province, f"{p}&org_form=enterprise_union") == [apps["union_xihu_other"].pk]
    assert set(ids(api, province, f"{p}&org_form=joint_union")) == {apps["union_xihu"].pk, apps["union_yinzhou"].pk}
    # Filters never widen the scope.
    assert ids(api, stocked.hangzhou, f"{p}&city=330200") == []
    assert ids(api, stocked.officer, f"{p}&county=330106") == [apps["union_xihu"].pk]
    # A bad filter value is 400, not a silent full list.
    assert as_(api, province).get(f"{API}/applications/?status=paid").status_code == 400


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("priority", ["union_xihu_other", "union_yuhang", "union_yinzhou", "union_xihu"]),
        ("-priority", ["union_xihu", "union_yinzhou", "union_yuhang", "union_xihu_other"]),
        ("amount", ["union_xihu", "union_xihu_other", "union_yuhang", "union_yinzhou"]),
        ("-amount", ["union_yinzhou", "union_yuhang", "union_xihu_other", "union_xihu"]),
        ("date", ["union_xihu_other", "union_yinzhou", "union_xihu", "union_yuhang"]),
        ("-date", ["union_yuhang", "union_xihu", "union_yinzhou", "union_xihu_other"]),
    ],
)
def test_list_ordering(stocked, api, queue, ordering, expected):
    program, _, apps = queue
    assert ids(api, stocked.province, f"program={program.pk}&ordering={ordering}") == [apps[n].pk for n in expected]


def test_the_review_order_is_priority_first(stocked, api, queue):
    # Without ``ordering`` the list is the change feed (tests/grants/test_change_feed.py).
    program, _, apps = queue
    assert ids(api, stocked.province, f"program={program.pk}&ordering=-priority") == [
        apps[n].pk for n in ("union_xihu", "union_yinzhou", "union_yuhang", "union_xihu_other")
    ]


def test_list_rows_carry_money_as_strings_and_the_member_count(stocked, api, queue):
    program, _, apps = queue
    rows = as_(api, stocked.province).get(f"{API}/applications/?program={program.pk}").json()["results"]
    row = next(r for r in rows if r["id"] == apps["union_yinzhou"].pk)
    assert row["requested_amount"] == "60000.00"
    assert row["member_count"] == 149
    assert row["city"] == "330200" and row["county"] == "330212"
    assert row["eligible"] is False


def test_list_query_count_does_not_grow_with_the_page(stocked, program, api):
    client = as_(api, stocked.province)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"{API}/applications/?page_size=100")
        assert response.status_code == 200
        return len(captured), response.json()["count"]

    make_application(program, stocked.union_xihu, until=S.REVIEWED)
    make_application(program, stocked.union_yinzhou, until=S.SUBMITTED)
    make_application(program, stocked.union_yuhang, until=S.APPROVED)
    queries()  # warm-up
    few, count = queries()
    assert count == 3
    for index in range(12):
        union = eligible_union(["330106", "330110", "330212"][index % 3], members=3 + index)
        make_application(program, union, until=[S.DRAFT, S.SUBMITTED, S.RECOMMENDED][index % 3])
    many, count = queries()
    assert count == 15
    assert many == few
    assert few <= 8


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/applications/?program=99999999999999999999", "program"),  # overflowed the driver: 500
        ("/applications/?union=1.5", "union"),
        ("/applications/?year=1e30", "year"),
        ("/applications/?program=0", "program"),
        ("/programs/?year=99999999999999999999", "year"),
        ("/programs/?year=2022.5", "year"),
        ("/programs/?year=2022.0", "year"),  # Django's IntegerField takes it; the schema says integer
        ("/programs/?year=２０２２", "year"),  # full-width digits, which int() accepts
    ],
)
def test_id_and_year_filters_refuse_what_no_row_can_have_with_400(api, cast, url, field):
    response = api.as_user(cast.province).get(API + url)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_id_and_year_filters_still_filter(api, cast, program):
    assert [p["id"] for p in api.as_user(cast.province).get(f"{API}/programs/?year={program.year}").json()["results"]]
    assert api.as_user(cast.province).get(f"{API}/programs/?year=1999").json()["results"] == []
    assert api.as_user(cast.province).get(f"{API}/applications/?program={program.pk}").status_code == 200


def test_the_schema_documents_history_entries_with_the_keys_the_api_writes(stocked, program, api):
    from drf_spectacular.generators import SchemaGenerator

    application = make_application(program, stocked.union_xihu, until=S.SUBMITTED)
    entry = as_(api, stocked.province).get(f"{API}/applications/{application.pk}/").json()["history"][0]
    schema = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]["History"]
    assert (
        set(schema["properties"])
        == set(schema["required"])
        == set(entry)
        == {"action", "from", "to", "actor", "at", "comment"}
    )


@pytest.mark.parametrize("value", ["null", "unknown", "yes", "2"])
def test_the_eligible_filter_refuses_what_is_neither_true_nor_false(api, cast, value):
    # django-filter ignored these and listed every application, which reads like an answer.
    response = api.as_user(cast.province).get(f"{API}/applications/?eligible={value}")
    assert response.status_code == 400
    assert "eligible" in response.json()


def test_the_eligible_filter_takes_true_false_and_empty(stocked, api, queue):
    program, _other, _apps = queue
    p = f"program={program.pk}"
    everything = ids(api, stocked.province, p)
    assert ids(api, stocked.province, f"{p}&eligible=") == everything
    for true, false in (("true", "false"), ("True", "False"), ("1", "0")):
        yes, no = (
            ids(api, stocked.province, f"{p}&eligible={true}"),
            ids(api, stocked.province, f"{p}&eligible={false}"),
        )
        assert sorted(yes + no) == sorted(everything) and no


@pytest.mark.parametrize("ordering", [",", "priority,", ",,amount"])
def test_an_ordering_with_a_blank_item_is_refused(api, cast, ordering):
    # django-filter ordered by nothing for "?ordering=,", so pages of the list could repeat or skip rows.
    response = api.as_user(cast.province).get(f"{API}/applications/", {"ordering": ordering})
    assert response.status_code == 400 and "ordering" in response.json()


def test_an_empty_ordering_keeps_the_default_order(stocked, api, queue):
    program, _other, _apps = queue
    default = ids(api, stocked.province, f"program={program.pk}")
    assert ids(api, stocked.province, f"program={program.pk}&ordering=") == default
    assert ids(api, stocked.province, f"program={program.pk}&ordering=-id") == sorted(default, reverse=True)
