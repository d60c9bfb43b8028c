"""REST API of the members slice (docs/rules.md §1, §2, §5, §7), as a client of the contract sees it.

The cast of tests/conftest.py: province staff and auditor (浙江省), Hangzhou city staff and a Hangzhou
auditor, Xihu and Yuhang county staff (both in Hangzhou), Ningbo city staff and Yinzhou county staff
(Ningbo), and the officer of ``union_xihu``. Unions: two in Xihu, one in Yuhang, one in Yinzhou.
"""

import csv
import datetime as dt
import io
import json
import logging
import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from rest_framework.test import APIClient

from members import fakes
from members.choices import UnionStatus
from members.models import Member, Region, Union, User
from members.services import regions_load
from tests.factories import MemberFactory, UnionFactory, make_user
from unionfunds.core.identifiers import credit_code_check_char, id_number_check_char
from unionfunds.core.models import AuditEvent

pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")  # whitenoise, no collectstatic

PASSWORD = "Test-pass-2026"
API = "/api/v1"

CAST_USERS = ["province", "auditor", "hangzhou", "city_auditor", "xihu", "yuhang", "ningbo", "yinzhou", "officer"]
CAST_UNIONS = ["union_xihu", "union_xihu_other", "union_yuhang", "union_yinzhou"]

# The cast's unions each user sees (docs/rules.md §1: a region's subtree; an officer only their own union).
SCOPE = {
    "province": {"union_xihu", "union_xihu_other", "union_yuhang", "union_yinzhou"},
    "auditor": {"union_xihu", "union_xihu_other", "union_yuhang", "union_yinzhou"},
    "hangzhou": {"union_xihu", "union_xihu_other", "union_yuhang"},
    "city_auditor": {"union_xihu", "union_xihu_other", "union_yuhang"},
    "xihu": {"union_xihu", "union_xihu_other"},
    "yuhang": {"union_yuhang"},
    "ningbo": {"union_yinzhou"},
    "yinzhou": {"union_yinzhou"},
    "officer": {"union_xihu"},
}

# Expected answer of each user on one union, by kind of request:
#   read   — GET of the union or its roster: any role, inside its scope
#   keep   — edit the union's profile or its roster: the county staff of its county or its own officer
#   decide — verify / suspend / reinstate / dissolve: the county staff only
# A union outside the user's scope is 404, never 403. Province and auditor have no such union.
# fmt: off
MATRIX = [
    # user            union                read  keep  decide
    ("province",      "union_yinzhou",     200,  403,  403),
    ("province",      "union_xihu",        200,  403,  403),
    ("auditor",       "union_xihu",        200,  403,  403),
    ("hangzhou",      "union_yuhang",      200,  403,  403),
    ("hangzhou",      "union_yinzhou",     404,  404,  404),
    ("city_auditor",  "union_xihu_other",  200,  403,  403),
    ("city_auditor",  "union_yinzhou",     404,  404,  404),
    ("xihu",          "union_xihu_other",  200,  200,  200),
    ("xihu",          "union_yuhang",      404,  404,  404),
    ("yuhang",        "union_yuhang",      200,  200,  200),
    ("yuhang",        "union_xihu",        404,  404,  404),
    ("ningbo",        "union_yinzhou",     200,  403,  403),
    ("ningbo",        "union_xihu",        404,  404,  404),
    ("yinzhou",       "union_yinzhou",     200,  200,  200),
    ("yinzhou",       "union_yuhang",      404,  404,  404),
    ("officer",       "union_xihu",        200,  200,  403),
    ("officer",       "union_xihu_other",  404,  404,  404),
]
# fmt: on
READ = [pytest.param(u, t, r, id=f"{u}-{t}") for u, t, r, _k, _d in MATRIX]
KEEP = [pytest.param(u, t, k, id=f"{u}-{t}") for u, t, _r, k, _d in MATRIX]
DECIDE = [pytest.param(u, t, d, id=f"{u}-{t}") for u, t, _r, _k, d in MATRIX]

UNION_CONTRACT_FIELDS = {
    "name",
    "credit_code",
    "org_form",
    "county",
    "parent_level",
    "covered_groups",
    "chair_name",
    "chair_elected_on",
    "chair_term_years",
    "committee_size",
    "founded_on",
    "funds_hard_to_guarantee",
    "status",
    "member_count",
}
MEMBER_READ_FIELDS = {"id", "name", "id_number_masked", "gender", "phone", "group", "platform", "joined_on", "left_on"}


_REGION_ROWS: list[dict] = []


@pytest.fixture
def regions(db):
    """Overrides the conftest fixture for speed: the real loader runs once, later tests copy its rows."""
    if not _REGION_ROWS:
        regions_load()
        _REGION_ROWS.extend(
            Region.objects.order_by("code").values("code", "name", "level", "parent_id", "federation_name")
        )
    elif not Region.objects.exists():
        Region.objects.bulk_create([Region(**row) for row in _REGION_ROWS])


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The cast is built for every test; the production hasher would make that take seconds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# ---------------------------------------------------------------- helpers


def id_number(seed, *, gender: str | None = None) -> str:
    return fakes.id_number(random.Random(f"api-{seed}"), gender=gender)


def credit_code(seed, county: str = "330106") -> str:
    return fakes.credit_code(random.Random(f"api-cc-{seed}"), county)


def wrong_check_char(good: str, alphabet: str) -> str:
    """``good`` with its last character replaced by another character of ``alphabet``."""
    return good[:-1] + next(c for c in alphabet if c != good[-1])


def union_payload(seed="new", county: str = "330106", **overrides) -> dict:
    data = {
        "name": f"三墩镇新就业形态联合工会{seed}",
        "credit_code": credit_code(seed, county),
        "org_form": "regional_federation",
        "county": county,
        "parent_level": "township",
        "covered_groups": ["courier", "food_delivery"],
        "chair_name": "陈丽",
        "chair_elected_on": "2024-03-01",
        "chair_term_years": 3,
        "committee_size": 7,
        "founded_on": "2024-01-10",
        "funds_hard_to_guarantee": True,
        "bank_name": "中国工商银行杭州西湖支行",
        "bank_account": "6222020200112233445",
        "contact_name": "赵敏",
        "contact_phone": "13912340001",
    }
    data.update(overrides)
    return data


def member_payload(seed="m", **overrides) -> dict:
    data = {
        "name": "张伟",
        "id_number": id_number(seed),
        "phone": "13957001234",
        "group": "food_delivery",
        "platform": "美团",
        "joined_on": "2024-05-01",
    }
    data.update(overrides)
    return data


ROSTER_CODES = ["name", "id_number", "gender", "phone", "group", "platform", "joined_on"]
ROSTER_LABELS = ["姓名", "身份证号", "性别", "手机号", "群体", "平台或单位", "入会日期"]


def roster_csv(rows, *, header=ROSTER_CODES, bom: bool = True, name: str = "roster.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    text = ("\ufeff" if bom else "") + out.getvalue()
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def roster_xlsx(rows, *, header=ROSTER_LABELS) -> SimpleUploadedFile:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return SimpleUploadedFile(
        "roster.xlsx", out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def audit_events():
    """The audit trail written by the test (loading the regions for the cast writes one event too)."""
    return AuditEvent.objects.exclude(action="region.load")


def result_ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def union_ids(cast, names) -> set[int]:
    return {getattr(cast, name).pk for name in names}


def union_url(union, suffix: str = "") -> str:
    return f"{API}/unions/{union.pk}/{suffix}"


def members_url(union, suffix: str = "") -> str:
    return f"{API}/unions/{union.pk}/members/{suffix}"


# ---------------------------------------------------------------- authentication


@pytest.fixture
def a_member(cast):
    return MemberFactory(union=cast.union_xihu)


ANONYMOUS_REQUESTS = [
    ("get", "/regions/", None),
    ("get", "/regions/330106/", None),
    ("get", "/unions/", None),
    ("post", "/unions/", "union"),
    ("get", "/unions/{union}/", None),
    ("patch", "/unions/{union}/", "patch"),
    ("post", "/unions/{union}/verify/", None),
    ("post", "/unions/{union}/suspend/", None),
    ("get", "/unions/{union}/members/", None),
    ("post", "/unions/{union}/members/", "member"),
    ("get", "/unions/{union}/members/{member}/", None),
    ("patch", "/unions/{union}/members/{member}/", "patch_member"),
    ("post", "/unions/{union}/members/import/", "file"),
    ("get", "/unions/999999/", None),
]


@pytest.mark.parametrize(
    ("method", "path", "body"), ANONYMOUS_REQUESTS, ids=[f"{m}-{p}" for m, p, _ in ANONYMOUS_REQUESTS]
)
def test_unauthenticated_requests_get_401_and_change_nothing(api, cast, a_member, method, path, body):
    union = cast.union_xihu
    url = API + path.format(union=union.pk, member=a_member.pk)
    bodies = {
        None: {},
        "union": union_payload(),
        "patch": {"chair_name": "黑客"},
        "member": member_payload(),
        "patch_member": {"left_on": "2025-01-01"},
    }
    if body == "file":
        response = api.post(
            url, {"file": roster_csv([["李四", id_number("anon"), "", "", "courier", "", "2024-01-01"]])}
        )
    else:
        response = getattr(api, method)(url, bodies[body], format="json")
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"].startswith("Token")
    assert Union.objects.count() == 4
    assert Member.objects.count() == 1
    union.refresh_from_db()
    a_member.refresh_from_db()
    assert (union.chair_name, union.status) == ("王芳", UnionStatus.VERIFIED)
    assert a_member.left_on is None
    assert not audit_events().exists()


def test_token_login_returns_a_token_that_authenticates(cast):
    client = APIClient()
    response = client.post(f"{API}/auth/token/", {"username": "t_xihu", "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    token = response.json()["token"]
    assert set(response.json()) == {"token"}

    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = reader.get(f"{API}/unions/")
    assert result_ids(response) == union_ids(cast, SCOPE["xihu"])
    # the token acts as its user: county staff may register a union of their county
    response = reader.post(f"{API}/unions/", union_payload("token"), format="json")
    assert response.status_code == 201, response.content
    assert audit_events().get(action="union.register").actor == cast.xihu


def test_token_login_with_form_data_also_works(cast):
    response = APIClient().post(f"{API}/auth/token/", {"username": "t_officer", "password": PASSWORD})
    assert response.status_code == 200, response.content
    assert len(response.json()["token"]) >= 20


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "t_xihu", "password": "wrong-pass-2026"},
        {"username": "nobody", "password": PASSWORD},
        {"username": "t_xihu"},
        {},
    ],
    ids=["wrong-password", "unknown-user", "no-password", "empty"],
)
def test_token_login_refused_with_400_and_no_token(cast, credentials):
    response = APIClient().post(f"{API}/auth/token/", credentials, format="json")
    assert response.status_code == 400, response.content
    assert "token" not in response.json()


def test_token_login_locks_out_after_repeated_failures(cast, settings):
    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(f"{API}/auth/token/", {"username": "t_xihu", "password": "wrong-pass-2026"}, format="json")
    response = client.post(f"{API}/auth/token/", {"username": "t_xihu", "password": PASSWORD}, format="json")
    # locked, and told so: not the 400 of a wrong password, even with the right one
    assert response.status_code == 429, response.content
    assert response.json()["code"] == "locked_out"
    assert "锁定" in response.json()["detail"]
    assert "token" not in response.content.decode()
    # the lockout is per account and address: another account from the same address still logs in
    response = client.post(f"{API}/auth/token/", {"username": "t_yuhang", "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content


def test_bad_token_is_401(cast):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert client.get(f"{API}/unions/").status_code == 401


def test_browser_session_works_for_reading(cast):
    client = APIClient()
    client.force_login(cast.hangzhou)
    assert result_ids(client.get(f"{API}/unions/")) == union_ids(cast, SCOPE["hangzhou"])


def test_browser_session_writes_need_csrf_token(cast):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(cast.xihu)
    response = client.post(f"{API}/unions/", union_payload("csrf"), format="json")
    assert response.status_code == 403
    assert Union.objects.count() == 4


# ---------------------------------------------------------------- regions


@pytest.mark.parametrize("user", CAST_USERS)
def test_region_list_is_the_users_subtree(api, cast, user):
    who = getattr(cast, user)
    response = api.as_user(who).get(f"{API}/regions/", {"page_size": 500})
    assert response.status_code == 200
    codes = {row["code"] for row in response.json()["results"]}
    home = who.home_region.code
    expected = set(
        Region.objects.filter(Q(code=home) | Q(parent=home) | Q(parent__parent=home)).values_list("code", flat=True)
    )
    assert codes == expected
    assert response.json()["count"] == len(expected)


def test_region_list_sizes_and_fields(api, cast):
    body = api.as_user(cast.province).get(f"{API}/regions/", {"page_size": 500}).json()
    assert body["count"] == 1 + 11 + 90
    rows = {row["code"]: row for row in body["results"]}
    assert {"code", "name", "level", "parent"} <= set(rows["330106"])
    assert rows["330000"]["parent"] is None
    assert rows["330000"]["level"] == "province"
    assert (rows["330100"]["level"], rows["330100"]["parent"]) == ("city", "330000")
    assert (rows["330106"]["name"], rows["330106"]["level"], rows["330106"]["parent"]) == ("西湖区", "county", "330100")
    assert sum(1 for r in rows.values() if r["level"] == "city") == 11
    assert sum(1 for r in rows.values() if r["level"] == "county") == 90

    hangzhou = api.as_user(cast.hangzhou).get(f"{API}/regions/", {"page_size": 500}).json()["results"]
    assert {r["code"] for r in hangzhou} >= {"330100", "330106", "330110"}
    assert not {r["code"] for r in hangzhou} & {"330000", "330200", "330212"}


def test_region_list_filters_by_level_and_parent(api, cast):
    client = api.as_user(cast.province)
    cities = client.get(f"{API}/regions/", {"level": "city"}).json()
    assert cities["count"] == 11
    assert {r["level"] for r in cities["results"]} == {"city"}
    ningbo = client.get(f"{API}/regions/", {"parent": "330200", "page_size": 500}).json()["results"]
    assert "330212" in {r["code"] for r in ningbo}
    assert {r["parent"] for r in ningbo} == {"330200"}
    assert client.get(f"{API}/regions/", {"level": "planet"}).status_code == 400


@pytest.mark.parametrize("parent", ["999999", "abc(w", "330000330000"])
def test_region_list_with_an_unknown_parent_lists_nothing(api, cast, parent):
    # Like the county and city filters elsewhere: an unknown code matches nothing (it was a 400
    # "not one of the available choices" for a value the schema allows).
    response = api.as_user(cast.province).get(f"{API}/regions/", {"parent": parent})
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_region_list_parent_filter_stays_inside_the_scope(api, cast):
    response = api.as_user(cast.hangzhou).get(f"{API}/regions/", {"parent": "330200"})
    assert response.json()["results"] == []  # Ningbo's counties are outside Hangzhou's scope


# fmt: off
REGION_DETAIL = [
    # user            code       expected
    ("province",      "330000",  200),
    ("province",      "330212",  200),
    ("auditor",       "330106",  200),
    ("hangzhou",      "330100",  200),
    ("hangzhou",      "330110",  200),
    ("hangzhou",      "330000",  404),
    ("hangzhou",      "330212",  404),
    ("city_auditor",  "330106",  200),
    ("city_auditor",  "330200",  404),
    ("xihu",          "330106",  200),
    ("xihu",          "330110",  404),
    ("xihu",          "330100",  404),
    ("yuhang",        "330110",  200),
    ("yuhang",        "330106",  404),
    ("ningbo",        "330212",  200),
    ("ningbo",        "330106",  404),
    ("yinzhou",       "330212",  200),
    ("yinzhou",       "330200",  404),
    ("officer",       "330106",  200),
    ("officer",       "330110",  404),
    ("province",      "999999",  404),
]
# fmt: on


@pytest.mark.parametrize(("user", "code", "expected"), REGION_DETAIL, ids=[f"{u}-{c}" for u, c, _ in REGION_DETAIL])
def test_region_detail_by_code(api, cast, user, code, expected):
    response = api.as_user(getattr(cast, user)).get(f"{API}/regions/{code}/")
    assert response.status_code == expected, response.content
    if expected == 200:
        assert response.json()["code"] == code
        assert response.json()["name"] == Region.objects.get(code=code).name


def test_regions_are_read_only(api, cast):
    client = api.as_user(cast.province)
    assert client.post(f"{API}/regions/", {"code": "330199", "name": "x", "level": "county"}).status_code == 405
    assert client.patch(f"{API}/regions/330106/", {"name": "改名"}, format="json").status_code == 405
    assert client.delete(f"{API}/regions/330106/").status_code == 405
    assert Region.objects.get(code="330106").name == "西湖区"


# ---------------------------------------------------------------- unions: scope and roles


@pytest.mark.parametrize("user", CAST_USERS)
def test_union_list_shows_exactly_the_users_scope(api, cast, user):
    response = api.as_user(getattr(cast, user)).get(f"{API}/unions/")
    assert result_ids(response) == union_ids(cast, SCOPE[user])
    assert response.json()["count"] == len(SCOPE[user])


@pytest.mark.parametrize(("user", "target", "expected"), READ)
def test_union_detail(api, cast, user, target, expected):
    union = getattr(cast, target)
    response = api.as_user(getattr(cast, user)).get(union_url(union))
    assert response.status_code == expected, response.content
    if expected == 200:
        assert response.json()["id"] == union.pk
        assert response.json()["name"] == union.name


def test_out_of_scope_looks_exactly_like_missing(api, cast):
    """Nothing in a 404 tells an object outside the scope from one that does not exist."""
    client = api.as_user(cast.xihu)
    member = MemberFactory(union=cast.union_yinzhou)
    pairs = [
        ("get", union_url(cast.union_yinzhou), f"{API}/unions/999999/"),
        ("patch", union_url(cast.union_yinzhou), f"{API}/unions/999999/"),
        ("post", union_url(cast.union_yinzhou, "verify/"), f"{API}/unions/999999/verify/"),
        ("get", members_url(cast.union_yinzhou), f"{API}/unions/999999/members/"),
        ("post", members_url(cast.union_yinzhou), f"{API}/unions/999999/members/"),
        ("get", members_url(cast.union_yinzhou, f"{member.pk}/"), f"{API}/unions/999999/members/{member.pk}/"),
        ("post", members_url(cast.union_yinzhou, "import/"), f"{API}/unions/999999/members/import/"),
        ("get", f"{API}/regions/330212/", f"{API}/regions/999999/"),
    ]
    for method, hidden, missing in pairs:
        a = getattr(client, method)(hidden, {}, format="json" if method != "get" else None)
        b = getattr(client, method)(missing, {}, format="json" if method != "get" else None)
        assert a.status_code == b.status_code == 404, hidden
        assert a.content == b.content
        assert cast.union_yinzhou.name not in a.content.decode()


def test_union_that_does_not_exist_is_404(api, cast):
    assert api.as_user(cast.province).get(f"{API}/unions/999999/").status_code == 404
    assert api.as_user(cast.xihu).post(f"{API}/unions/999999/verify/").status_code == 404


# fmt: off
REGISTER = [
    # user            county     expected
    ("province",      "330106",  403),
    ("auditor",       "330106",  403),
    ("hangzhou",      "330106",  403),
    ("city_auditor",  "330106",  403),
    ("ningbo",        "330212",  403),
    ("officer",       "330106",  403),
    ("xihu",          "330106",  201),
    ("yuhang",        "330110",  201),
    ("yinzhou",       "330212",  201),
    # a county outside the user's scope is a bad value of the field `county`
    ("xihu",          "330110",  400),
    ("xihu",          "330212",  400),
    ("yinzhou",       "330106",  400),
]
# fmt: on


@pytest.mark.parametrize(("user", "county", "expected"), REGISTER, ids=[f"{u}-{c}" for u, c, _ in REGISTER])
def test_union_register(api, cast, user, county, expected):
    payload = union_payload(f"reg-{user}-{county}", county=county)
    response = api.as_user(getattr(cast, user)).post(f"{API}/unions/", payload, format="json")
    assert response.status_code == expected, response.content
    if expected == 201:
        body = response.json()
        union = Union.objects.get(pk=body["id"])
        assert union.county_id == county
        assert body["status"] == "pending"
        assert body["credit_code"] == payload["credit_code"]
    else:
        assert not Union.objects.filter(credit_code=payload["credit_code"]).exists()
        assert Union.objects.count() == 4
    if expected == 400:
        assert "county" in response.json()


@pytest.mark.parametrize(("user", "target", "expected"), KEEP)
def test_union_patch(api, cast, user, target, expected):
    union = getattr(cast, target)
    response = api.as_user(getattr(cast, user)).patch(
        union_url(union), {"chair_name": "李明", "committee_size": 9}, format="json"
    )
    assert response.status_code == expected, response.content
    union.refresh_from_db()
    if expected == 200:
        assert (response.json()["chair_name"], response.json()["committee_size"]) == ("李明", 9)
        assert (union.chair_name, union.committee_size) == ("李明", 9)
    else:
        assert (union.chair_name, union.committee_size) == ("王芳", 5)


# fmt: off
WORKFLOW_ACTIONS = [
    # action       from          to
    ("verify",     "pending",    "verified"),
    ("suspend",    "verified",   "suspended"),
    ("reinstate",  "suspended",  "verified"),
    ("dissolve",   "verified",   "dissolved"),
]
# fmt: on


@pytest.mark.parametrize(
    ("action", "source", "target_status"), WORKFLOW_ACTIONS, ids=[a for a, _, _ in WORKFLOW_ACTIONS]
)
@pytest.mark.parametrize(("user", "target", "expected"), DECIDE)
def test_union_workflow_actions(api, cast, user, target, expected, action, source, target_status):
    union = getattr(cast, target)
    Union.objects.filter(pk=union.pk).update(status=source)
    response = api.as_user(getattr(cast, user)).post(union_url(union, f"{action}/"), {"comment": "ok"}, format="json")
    assert response.status_code == expected, response.content
    union.refresh_from_db()
    if expected == 200:
        assert response.json()["status"] == target_status
        assert response.json()["id"] == union.pk
        assert union.status == target_status
    else:
        assert union.status == source
        assert not audit_events().exists()


def test_verify_records_when(api, cast):
    union = cast.union_xihu_other
    Union.objects.filter(pk=union.pk).update(status="pending", verified_at=None)
    response = api.as_user(cast.xihu).post(union_url(union, "verify/"))
    assert response.status_code == 200, response.content
    assert response.json()["verified_at"]
    union.refresh_from_db()
    assert union.verified_at is not None


def test_dissolve_works_from_pending_and_suspended(api, cast):
    client = api.as_user(cast.xihu)
    for status in ("pending", "suspended"):
        Union.objects.filter(pk=cast.union_xihu.pk).update(status=status)
        response = client.post(union_url(cast.union_xihu, "dissolve/"))
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "dissolved"


# fmt: off
ILLEGAL = [
    # action       current status
    ("verify",     "verified"),
    ("verify",     "suspended"),
    ("verify",     "dissolved"),
    ("suspend",    "pending"),
    ("suspend",    "suspended"),
    ("reinstate",  "verified"),
    ("reinstate",  "pending"),
    ("dissolve",   "dissolved"),
]
# fmt: on


@pytest.mark.parametrize(("action", "status"), ILLEGAL, ids=[f"{a}-{s}" for a, s in ILLEGAL])
def test_illegal_transition_is_409_with_code_and_detail(api, cast, action, status):
    union = cast.union_xihu
    Union.objects.filter(pk=union.pk).update(status=status)
    response = api.as_user(cast.xihu).post(union_url(union, f"{action}/"))
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "illegal_transition"
    assert isinstance(body["detail"], str) and body["detail"]
    union.refresh_from_db()
    assert union.status == status
    assert not audit_events().exists()


@pytest.mark.parametrize("user", ["province", "auditor", "hangzhou", "officer"])
def test_role_that_may_never_verify_gets_403_whatever_the_state(api, cast, user):
    """A read-only auditor asking to verify an already verified union is refused for its role."""
    response = api.as_user(getattr(cast, user)).post(union_url(cast.union_xihu, "verify/"))
    assert response.status_code == 403, response.content


def test_unsupported_methods_are_405(api, cast):
    client = api.as_user(cast.xihu)
    union = cast.union_xihu
    assert client.put(union_url(union), union_payload("put"), format="json").status_code == 405
    assert client.delete(union_url(union)).status_code == 405
    assert client.get(union_url(union, "verify/")).status_code == 405
    member = MemberFactory(union=union)
    assert client.delete(members_url(union, f"{member.pk}/")).status_code == 405
    assert Union.objects.filter(pk=union.pk).exists()
    assert Member.objects.filter(pk=member.pk).exists()


# ---------------------------------------------------------------- members: scope and roles


@pytest.mark.parametrize(("user", "target", "expected"), READ)
def test_member_list(api, cast, user, target, expected):
    union = getattr(cast, target)
    mine = {MemberFactory(union=union).pk, MemberFactory(union=union).pk}
    MemberFactory(union=cast.union_xihu_other if union != cast.union_xihu_other else cast.union_xihu)
    response = api.as_user(getattr(cast, user)).get(members_url(union))
    assert response.status_code == expected, response.content
    if expected == 200:
        assert result_ids(response) == mine
        assert {row["union"] for row in response.json()["results"]} == {union.pk}


@pytest.mark.parametrize(("user", "target", "expected"), READ)
def test_member_detail(api, cast, user, target, expected):
    member = MemberFactory(union=getattr(cast, target))
    response = api.as_user(getattr(cast, user)).get(members_url(member.union, f"{member.pk}/"))
    assert response.status_code == expected, response.content
    if expected == 200:
        assert response.json()["id"] == member.pk


def test_member_of_another_union_is_404_under_this_union(api, cast):
    """/unions/A/members/{a member of B}/ does not exist, even when both unions are in scope."""
    other = MemberFactory(union=cast.union_xihu_other)
    client = api.as_user(cast.xihu)
    assert client.get(members_url(cast.union_xihu, f"{other.pk}/")).status_code == 404
    response = client.patch(members_url(cast.union_xihu, f"{other.pk}/"), {"left_on": "2025-01-01"}, format="json")
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.left_on is None


@pytest.mark.parametrize(("user", "target", "expected"), KEEP)
def test_member_create(api, cast, user, target, expected):
    union = getattr(cast, target)
    payload = member_payload(f"create-{user}-{target}")
    response = api.as_user(getattr(cast, user)).post(members_url(union), payload, format="json")
    expected = 201 if expected == 200 else expected
    assert response.status_code == expected, response.content
    if expected == 201:
        member = Member.objects.get(pk=response.json()["id"])
        assert member.union == union
        assert response.json()["union"] == union.pk
    else:
        assert not Member.objects.exists()


@pytest.mark.parametrize(("user", "target", "expected"), KEEP)
def test_member_create_with_bad_body_still_answers_by_scope_and_role(api, cast, user, target, expected):
    """Scope (404) and role (403) come before checking the body: a bad body says nothing about them."""
    union = getattr(cast, target)
    response = api.as_user(getattr(cast, user)).post(members_url(union), {"name": ""}, format="json")
    assert response.status_code == (400 if expected == 200 else expected), response.content


@pytest.mark.parametrize(("user", "target", "expected"), KEEP)
def test_member_patch(api, cast, user, target, expected):
    member = MemberFactory(union=getattr(cast, target))
    response = api.as_user(getattr(cast, user)).patch(
        members_url(member.union, f"{member.pk}/"), {"platform": "饿了么", "left_on": "2025-06-30"}, format="json"
    )
    assert response.status_code == expected, response.content
    member.refresh_from_db()
    if expected == 200:
        assert response.json()["left_on"] == "2025-06-30"
        assert response.json()["is_active"] is False
        assert (member.platform, member.left_on) == ("饿了么", dt.date(2025, 6, 30))
    else:
        assert (member.platform, member.left_on) == ("美团", None)


@pytest.mark.parametrize(("user", "target", "expected"), KEEP)
def test_member_import(api, cast, user, target, expected):
    union = getattr(cast, target)
    upload = roster_csv(
        [["李四", id_number(f"imp-{user}-{target}"), "", "13800001111", "courier", "顺丰", "2024-02-01"]]
    )
    response = api.as_user(getattr(cast, user)).post(members_url(union, "import/"), {"file": upload})
    assert response.status_code == expected, response.content
    if expected == 200:
        assert response.json() == {"created": 1, "updated": 0, "errors": []}
        assert Member.objects.filter(union=union).count() == 1
    else:
        assert not Member.objects.exists()


def test_dissolved_union_refuses_edits_and_roster_changes(api, cast):
    """A role that may edit, refused by the union's state: 409 union_dissolved (not the 403 of a role)."""
    union = cast.union_xihu
    member = MemberFactory(union=union)
    Union.objects.filter(pk=union.pk).update(status="dissolved")

    def refused(response):
        assert response.status_code == 409, response.content
        assert response.json()["code"] == "union_dissolved" and "已撤销" in response.json()["detail"]
        return True

    for user in (cast.xihu, cast.officer):
        client = api.as_user(user)
        assert refused(client.patch(union_url(union), {"chair_name": "李明"}, format="json"))
        assert refused(client.post(members_url(union), member_payload("dissolved"), format="json"))
        assert refused(client.patch(members_url(union, f"{member.pk}/"), {"platform": "x"}, format="json"))
        upload = roster_csv([["李四", id_number("dissolved-imp"), "", "", "courier", "", "2024-02-01"]])
        assert refused(client.post(members_url(union, "import/"), {"file": upload}))
        # reading stays possible
        assert client.get(union_url(union)).status_code == 200
        assert client.get(members_url(union)).status_code == 200
    # A role that may never edit a union is still told so (403), dissolved or not.
    assert api.as_user(cast.hangzhou).patch(union_url(union), {"chair_name": "李明"}, format="json").status_code == 403
    assert Member.objects.count() == 1
    assert Union.objects.get(pk=union.pk).chair_name == "王芳"


# ---------------------------------------------------------------- contract fields


def test_union_create_answers_201_with_contract_fields_round_tripped(api, cast):
    payload = union_payload("contract")
    response = api.as_user(cast.xihu).post(f"{API}/unions/", payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert UNION_CONTRACT_FIELDS <= set(body)
    for name in UNION_CONTRACT_FIELDS - {"status", "member_count", "covered_groups"}:
        assert body[name] == payload[name], name
    assert sorted(body["covered_groups"]) == sorted(payload["covered_groups"])
    assert body["county"] == "330106"
    assert body["status"] == "pending"
    assert body["member_count"] == 0
    assert body["chair_elected_on"] == "2024-03-01"

    for read in (
        api.get(union_url(Union.objects.get(pk=body["id"]))).json(),
        next(r for r in api.get(f"{API}/unions/").json()["results"] if r["id"] == body["id"]),
    ):
        assert UNION_CONTRACT_FIELDS <= set(read)
        assert {k: read[k] for k in UNION_CONTRACT_FIELDS} == {k: body[k] for k in UNION_CONTRACT_FIELDS}


def test_union_write_only_and_masked_fields(api, cast):
    payload = union_payload("secret")
    body = api.as_user(cast.xihu).post(f"{API}/unions/", payload, format="json").json()
    assert "bank_account" not in body
    assert body["bank_account_masked"].startswith("6222") and body["bank_account_masked"].endswith("3445")
    assert "*" in body["bank_account_masked"]
    assert body["contact_phone"] == "139****0001"


def test_union_read_only_fields_cannot_be_written(api, cast):
    payload = union_payload("ro", status="verified", member_count=999)
    body = api.as_user(cast.xihu).post(f"{API}/unions/", payload, format="json").json()
    assert (body["status"], body["member_count"]) == ("pending", 0)
    response = api.patch(union_url(cast.union_xihu), {"status": "dissolved", "member_count": 7}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["member_count"]) == ("verified", 0)
    assert Union.objects.get(pk=cast.union_xihu.pk).status == "verified"


def test_member_create_answers_201_with_masked_contract_fields(api, cast):
    payload = member_payload("fields", gender="", phone="13957001234")
    response = api.as_user(cast.officer).post(members_url(cast.union_xihu), payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert MEMBER_READ_FIELDS <= set(body)
    assert "id_number" not in body
    number = payload["id_number"]
    masked = body["id_number_masked"]
    assert len(masked) == 18
    assert masked[:6] == number[:6]  # the region stays visible
    assert masked[-1] == number[-1]
    assert "*" * 8 in masked
    assert number[6:14] not in masked  # the birth date is hidden
    assert body["phone"] == "139****1234"
    assert body["gender"] == ("M" if int(number[16]) % 2 else "F")  # derived from the ID number
    assert (body["name"], body["group"], body["platform"], body["joined_on"], body["left_on"]) == (
        "张伟",
        "food_delivery",
        "美团",
        "2024-05-01",
        None,
    )
    listed = api.get(members_url(cast.union_xihu)).json()["results"][0]
    assert {k: listed[k] for k in MEMBER_READ_FIELDS} == {k: body[k] for k in MEMBER_READ_FIELDS}


def test_paginated_list_shape(api, cast):
    body = api.as_user(cast.province).get(f"{API}/unions/", {"page_size": 3}).json()
    assert set(body) >= {"count", "next", "previous", "results"}
    assert body["count"] == 4
    assert len(body["results"]) == 3
    assert body["next"]
    second = api.get(f"{API}/unions/", {"page_size": 3, "page": 2}).json()
    assert len(second["results"]) == 1
    assert {r["id"] for r in body["results"]} | {r["id"] for r in second["results"]} == union_ids(cast, CAST_UNIONS)


# ---------------------------------------------------------------- masking everywhere


def test_no_response_ever_contains_a_full_id_or_phone_number(api, cast, caplog):
    caplog.set_level(logging.INFO)
    union = cast.union_xihu
    secrets: list[str] = []
    client = api.as_user(cast.officer)
    bodies: list[bytes] = []

    # the union's own numbers
    response = client.patch(
        union_url(union), {"contact_phone": "13711112222", "bank_account": "6222000011112222333"}, format="json"
    )
    assert response.status_code == 200, response.content
    bodies.append(response.content)
    secrets += ["13711112222", "6222000011112222333"]

    # one member typed in
    typed = member_payload("mask-typed", phone="13957005678")
    secrets += [typed["id_number"], typed["phone"]]
    response = client.post(members_url(union), typed, format="json")
    assert response.status_code == 201
    bodies.append(response.content)

    # two by CSV (codes header, BOM), one by xlsx (Chinese header)
    csv_rows = [
        ["李四", id_number("mask-csv-1"), "", "13800005555", "courier", "顺丰", "2024-02-01"],
        ["王五", id_number("mask-csv-2"), "", "+86 150-1234-9876", "快递员", "中通", "2024/02/03"],
    ]
    xlsx_rows = [["赵六", id_number("mask-xlsx"), "", "18911112222", "外卖配送员", "饿了么", "2024-03-01"]]
    secrets += [csv_rows[0][1], csv_rows[0][3], csv_rows[1][1], "15012349876", xlsx_rows[0][1], xlsx_rows[0][3]]
    for upload in (roster_csv(csv_rows), roster_xlsx(xlsx_rows)):
        response = client.post(members_url(union, "import/"), {"file": upload})
        assert response.status_code == 200, response.content
        bodies.append(response.content)
    # the same files again, and a failing import whose errors talk about these people
    bodies.append(client.post(members_url(union, "import/"), {"file": roster_csv(csv_rows)}).content)
    bad = [*csv_rows, [csv_rows[0][0], csv_rows[0][1], "", csv_rows[0][3], "courier", "", "2024-02-01"]]
    response = client.post(members_url(union, "import/"), {"file": roster_csv(bad)})
    assert response.status_code == 400
    bodies.append(response.content)
    # a second membership refused elsewhere, naming the union but not the number
    response = api.as_user(cast.xihu).post(members_url(cast.union_xihu_other), typed, format="json")
    assert response.status_code == 400
    bodies.append(response.content)
    # a refused ID number is not echoed either
    refused = member_payload("mask-bad")
    refused["id_number"] = wrong_check_char(refused["id_number"], "0123456789X")
    secrets.append(refused["id_number"])
    bodies.append(client.post(members_url(union), refused, format="json").content)

    assert Member.objects.filter(union=union).count() == 4
    member = Member.objects.filter(union=union).first()
    for user in (cast.officer, cast.xihu, cast.province, cast.auditor):
        reader = api.as_user(user)
        bodies.append(reader.get(members_url(union), {"page_size": 500}).content)
        bodies.append(reader.get(members_url(union, f"{member.pk}/")).content)
        bodies.append(reader.get(union_url(union)).content)
        bodies.append(reader.get(f"{API}/unions/").content)
    bodies.append(
        api.as_user(cast.officer).patch(members_url(union, f"{member.pk}/"), {"platform": "x"}, format="json").content
    )

    for body in bodies:
        text = body.decode()
        for secret in secrets:
            assert secret not in text, f"{secret} leaked in {text[:200]}"
    # ...and neither the audit trail nor the log keep them
    trail = json.dumps([[e.before, e.after, e.object_repr] for e in audit_events()], ensure_ascii=False)
    for secret in secrets:
        assert secret not in trail
        assert secret not in caplog.text


# ---------------------------------------------------------------- validation errors (400)


def test_bad_credit_code_checksum_names_the_field(api, cast):
    payload = union_payload("badcc")
    payload["credit_code"] = wrong_check_char(payload["credit_code"], "0123456789ABCDEFGHJKLMNPQRTUWXY")
    response = api.as_user(cast.xihu).post(f"{API}/unions/", payload, format="json")
    assert response.status_code == 400
    assert "credit_code" in response.json()
    assert "校验位" in " ".join(response.json()["credit_code"])
    assert Union.objects.count() == 4


@pytest.mark.parametrize(
    "code",
    ["91330106MA2H00000X", "81330106MA2H0000", "81330106MA2HO0000I", ""],
    ids=["not-a-union-authority", "too-short", "forbidden-letters", "empty"],
)
def test_other_bad_credit_codes_name_the_field(api, cast, code):
    if code.startswith("9"):
        code = code[:17] + credit_code_check_char(code[:17])
    response = api.as_user(cast.xihu).post(f"{API}/unions/", union_payload("bad", credit_code=code), format="json")
    assert response.status_code == 400, response.content
    assert "credit_code" in response.json()


def test_duplicate_credit_code_names_the_other_union(api, cast):
    payload = union_payload("dup", credit_code=cast.union_xihu_other.credit_code)
    response = api.as_user(cast.xihu).post(f"{API}/unions/", payload, format="json")
    assert response.status_code == 400
    assert cast.union_xihu_other.name in " ".join(response.json()["credit_code"])
    # lower case is the same code
    payload["credit_code"] = cast.union_xihu_other.credit_code.lower()
    response = api.post(f"{API}/unions/", payload, format="json")
    assert response.status_code == 400
    assert "credit_code" in response.json()
    # a PATCH onto another union's code is refused the same way
    response = api.patch(union_url(cast.union_xihu), {"credit_code": cast.union_xihu_other.credit_code}, format="json")
    assert response.status_code == 400
    assert cast.union_xihu_other.name in " ".join(response.json()["credit_code"])
    assert Union.objects.count() == 4


def test_patch_keeping_own_credit_code_is_fine(api, cast):
    response = api.as_user(cast.xihu).patch(
        union_url(cast.union_xihu), {"credit_code": cast.union_xihu.credit_code, "name": "新名称"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "新名称"


def test_county_outside_scope_or_not_a_county_names_the_field(api, cast):
    client = api.as_user(cast.xihu)
    for county in ("330110", "330100", "330000", "999999"):
        response = client.post(f"{API}/unions/", union_payload(f"c{county}", county=county), format="json")
        assert response.status_code == 400, county
        assert "county" in response.json()
    response = client.patch(union_url(cast.union_xihu), {"county": "330110"}, format="json")
    assert response.status_code == 400
    assert "county" in response.json()
    assert Union.objects.get(pk=cast.union_xihu.pk).county_id == "330106"
    assert Union.objects.count() == 4


def test_unknown_group_code_names_the_field(api, cast):
    payload = union_payload("grp", covered_groups=["courier", "astronaut"])
    response = api.as_user(cast.xihu).post(f"{API}/unions/", payload, format="json")
    assert response.status_code == 400
    assert "covered_groups" in response.json()
    response = api.as_user(cast.officer).post(
        members_url(cast.union_xihu), member_payload("grp", group="astronaut"), format="json"
    )
    assert response.status_code == 400
    assert "group" in response.json()
    assert Union.objects.count() == 4
    assert not Member.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("org_form", "cooperative"),
        ("parent_level", "province"),
        ("chair_term_years", 4),
        ("chair_elected_on", "2024-13-01"),
        ("founded_on", "2999-01-01"),
        ("contact_phone", "12345"),
        ("name", ""),
        ("committee_size", -1),
    ],
)
def test_bad_union_field_names_the_field(api, cast, field, value):
    response = api.as_user(cast.xihu).post(f"{API}/unions/", union_payload("f", **{field: value}), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Union.objects.count() == 4


def test_union_officer_cannot_change_identity_fields(api, cast):
    client = api.as_user(cast.officer)
    response = client.patch(union_url(cast.union_xihu), {"parent_level": "city"}, format="json")
    assert response.status_code == 400
    assert "parent_level" in response.json()
    response = client.patch(union_url(cast.union_xihu), {"credit_code": credit_code("officer")}, format="json")
    assert response.status_code == 400
    assert "credit_code" in response.json()
    union = Union.objects.get(pk=cast.union_xihu.pk)
    assert (union.parent_level, union.credit_code) == ("township", cast.union_xihu.credit_code)


def test_bad_id_number_checksum_names_the_field(api, cast):
    payload = member_payload("badid")
    payload["id_number"] = wrong_check_char(payload["id_number"], "0123456789X")
    response = api.as_user(cast.officer).post(members_url(cast.union_xihu), payload, format="json")
    assert response.status_code == 400
    assert "id_number" in response.json()
    assert "校验位" in " ".join(response.json()["id_number"])
    assert not Member.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id_number", "33010619900101123"),
        ("id_number", "330106199002301234"),
        ("phone", "1234567"),
        ("joined_on", "2999-01-01"),
        ("joined_on", ""),
        ("name", ""),
        ("gender", "X"),
    ],
)
def test_bad_member_field_names_the_field(api, cast, field, value):
    payload = member_payload("bad", **{field: value})
    if field == "id_number" and len(value) == 18:
        payload[field] = value[:17] + id_number_check_char(value[:17])  # good checksum, impossible birth date
    response = api.as_user(cast.officer).post(members_url(cast.union_xihu), payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Member.objects.exists()


def test_gender_contradicting_the_id_number_is_refused(api, cast):
    number = id_number("g", gender="M")
    payload = member_payload("g", id_number=number, gender="F")
    response = api.as_user(cast.officer).post(members_url(cast.union_xihu), payload, format="json")
    assert response.status_code == 400
    assert "gender" in response.json()


def test_member_without_id_number_is_refused(api, cast):
    payload = member_payload("noid")
    del payload["id_number"]
    response = api.as_user(cast.officer).post(members_url(cast.union_xihu), payload, format="json")
    assert response.status_code == 400
    assert "id_number" in response.json()


def test_person_active_in_another_union_is_refused_without_naming_a_union_outside_the_scope(api, cast):
    number = id_number("twice")
    first = api.as_user(cast.yinzhou).post(
        members_url(cast.union_yinzhou), member_payload("twice", id_number=number), format="json"
    )
    assert first.status_code == 201
    response = api.as_user(cast.officer).post(
        members_url(cast.union_xihu), member_payload("twice", id_number=number), format="json"
    )
    assert response.status_code == 400
    refusal = " ".join(response.json()["id_number"])
    assert "省内其他工会" in refusal and cast.union_yinzhou.name not in refusal
    assert not Member.objects.filter(union=cast.union_xihu).exists()

    # the same by import: the row and column are given, nothing is imported
    rows = [
        ["李四", id_number("twice-ok"), "", "", "courier", "", "2024-02-01"],
        ["张伟", number, "", "", "courier", "", "2024-02-01"],
    ]
    response = api.post(members_url(cast.union_xihu, "import/"), {"file": roster_csv(rows, header=ROSTER_LABELS)})
    assert response.status_code == 400
    body = response.json()
    assert (body["created"], body["updated"]) == (0, 0)
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert (error["row"], error["column"]) == (3, "身份证号")
    assert "省内其他工会" in error["message"] and cast.union_yinzhou.name not in error["message"]
    assert not Member.objects.filter(union=cast.union_xihu).exists()

    # once they have left the other union they may join here
    other = Member.objects.get(union=cast.union_yinzhou)
    response = api.as_user(cast.yinzhou).patch(
        members_url(cast.union_yinzhou, f"{other.pk}/"), {"left_on": "2025-01-31"}, format="json"
    )
    assert response.status_code == 200, response.content
    response = api.as_user(cast.officer).post(
        members_url(cast.union_xihu), member_payload("twice", id_number=number), format="json"
    )
    assert response.status_code == 201, response.content
    # ...and cannot be made active again over there
    response = api.as_user(cast.yinzhou).patch(
        members_url(cast.union_yinzhou, f"{other.pk}/"), {"left_on": None}, format="json"
    )
    assert response.status_code == 400
    refusal = " ".join(response.json()["left_on"])
    assert "省内其他工会" in refusal and cast.union_xihu.name not in refusal


def test_the_county_that_holds_both_unions_is_told_which_one(api, cast):
    number = id_number("both")
    staff = api.as_user(cast.xihu)
    assert (
        staff.post(members_url(cast.union_xihu), member_payload("both", id_number=number), format="json").status_code
        == 201
    )
    response = staff.post(members_url(cast.union_xihu_other), member_payload("both", id_number=number), format="json")
    assert response.status_code == 400
    assert cast.union_xihu.name in " ".join(response.json()["id_number"])
    rows = [["张伟", number, "", "", "courier", "", "2024-02-01"]]
    response = staff.post(
        members_url(cast.union_xihu_other, "import/"), {"file": roster_csv(rows, header=ROSTER_LABELS)}
    )
    assert response.status_code == 400
    assert cast.union_xihu.name in response.json()["errors"][0]["message"]


def test_same_person_twice_in_the_same_union_is_refused(api, cast):
    client = api.as_user(cast.officer)
    payload = member_payload("same")
    assert client.post(members_url(cast.union_xihu), payload, format="json").status_code == 201
    response = client.post(members_url(cast.union_xihu), payload, format="json")
    assert response.status_code == 400
    assert "id_number" in response.json()
    assert Member.objects.count() == 1


def test_id_number_cannot_be_changed_by_patch(api, cast):
    member = MemberFactory(union=cast.union_xihu)
    response = api.as_user(cast.officer).patch(
        members_url(cast.union_xihu, f"{member.pk}/"), {"id_number": id_number("other")}, format="json"
    )
    assert response.status_code == 400
    assert "id_number" in response.json()
    assert Member.objects.get(pk=member.pk).id_number_hash == member.id_number_hash


def test_left_before_joined_is_refused(api, cast):
    member = MemberFactory(union=cast.union_xihu)
    response = api.as_user(cast.officer).patch(
        members_url(cast.union_xihu, f"{member.pk}/"), {"left_on": "2020-01-01"}, format="json"
    )
    assert response.status_code == 400
    assert "left_on" in response.json()
    assert Member.objects.get(pk=member.pk).left_on is None


# ---------------------------------------------------------------- roster import


def test_import_all_or_nothing_with_row_column_message(api, cast):
    good = ["李四", id_number("imp-good"), "男", "13800001111", "courier", "顺丰", "2024-02-01"]
    rows = [
        good,
        ["王五", wrong_check_char(id_number("imp-bad"), "0123456789X"), "", "", "courier", "", "2024-02-01"],
        ["赵六", id_number("imp-bad-group"), "", "", "astronaut", "", "2024-02-01"],
        ["钱七", id_number("imp-bad-date"), "", "", "courier", "", "yesterday"],
        [good[0], good[1], "", "", "courier", "", "2024-02-01"],
    ]
    good[2] = "男" if int(good[1][16]) % 2 else "女"
    response = api.as_user(cast.officer).post(members_url(cast.union_xihu, "import/"), {"file": roster_csv(rows)})
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"created", "updated", "errors"}
    assert (body["created"], body["updated"]) == (0, 0)
    by_row = {(e["row"], e["column"]) for e in body["errors"]}
    assert by_row == {(3, "id_number"), (4, "group"), (5, "joined_on"), (6, "id_number")}
    assert all(set(e) == {"row", "column", "message"} and e["message"] for e in body["errors"])
    assert not Member.objects.exists()
    assert not audit_events().exists()


def test_import_is_an_upsert_and_reimport_changes_nothing(api, cast):
    client = api.as_user(cast.xihu)
    rows = [
        ["李四", id_number("up-1"), "", "13800001111", "courier", "顺丰", "2024-02-01"],
        ["王五", id_number("up-2"), "", "", "快递员", "中通", "2024年02月03日"],
    ]
    url = members_url(cast.union_xihu, "import/")
    assert client.post(url, {"file": roster_csv(rows, bom=False)}).json() == {"created": 2, "updated": 0, "errors": []}
    assert client.post(url, {"file": roster_csv(rows)}).json() == {"created": 0, "updated": 0, "errors": []}
    rows[1][5] = "圆通"
    rows.append(["赵六", id_number("up-3"), "", "", "food_delivery", "", "2024-03-01"])
    response = client.post(url, {"file": roster_xlsx(rows, header=ROSTER_CODES)})
    assert response.json() == {"created": 1, "updated": 1, "errors": []}
    assert Member.objects.filter(union=cast.union_xihu).count() == 3
    assert Member.objects.get(name="王五").platform == "圆通"
    listed = client.get(members_url(cast.union_xihu)).json()
    assert listed["count"] == 3
    assert client.get(union_url(cast.union_xihu)).json()["member_count"] == 3
    # the re-import that changed nothing left no trace in the audit trail
    assert audit_events().filter(action="member.import").count() == 2


def test_import_without_a_file_names_the_field(api, cast):
    response = api.as_user(cast.officer).post(members_url(cast.union_xihu, "import/"), {})
    assert response.status_code == 400
    assert "file" in response.json()


@pytest.mark.parametrize(
    "content",
    [b"", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, b"name,foo\n", b"PK\x03\x04garbage"],
    ids=["empty", "legacy-xls", "unknown-and-missing-columns", "broken-xlsx"],
)
def test_unreadable_roster_is_400_with_errors(api, cast, content):
    upload = SimpleUploadedFile("roster.csv", content, content_type="text/csv")
    response = api.as_user(cast.officer).post(members_url(cast.union_xihu, "import/"), {"file": upload})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["errors"]
    assert body["created"] == 0
    assert not Member.objects.exists()


def test_import_requires_multipart(api, cast):
    response = api.as_user(cast.officer).post(members_url(cast.union_xihu, "import/"), {"file": "x"}, format="json")
    assert response.status_code == 415


# ---------------------------------------------------------------- member_count


def test_member_count_counts_active_members_only(api, cast):
    union = cast.union_xihu
    MemberFactory.create_batch(3, union=union)
    MemberFactory.create_batch(2, union=union, left_on=dt.date(2025, 1, 1))
    MemberFactory(union=cast.union_xihu_other)
    client = api.as_user(cast.xihu)
    assert client.get(union_url(union)).json()["member_count"] == 3
    rows = {r["id"]: r["member_count"] for r in client.get(f"{API}/unions/").json()["results"]}
    assert rows == {union.pk: 3, cast.union_xihu_other.pk: 1}
    # the roster still lists everyone; ?active= narrows it
    assert client.get(members_url(union)).json()["count"] == 5
    assert client.get(members_url(union), {"active": "true"}).json()["count"] == 3
    assert client.get(members_url(union), {"active": "false"}).json()["count"] == 2
    assert client.get(members_url(union), {"active": "maybe"}).status_code == 400

    # a member leaving through the API lowers the count
    member = Member.objects.filter(union=union, left_on__isnull=True).first()
    response = client.patch(members_url(union, f"{member.pk}/"), {"left_on": "2025-02-01"}, format="json")
    assert response.status_code == 200
    assert client.get(union_url(union)).json()["member_count"] == 2
    # so does the answer to an action
    Union.objects.filter(pk=union.pk).update(status="pending")
    assert client.post(union_url(union, "verify/")).json()["member_count"] == 2
    assert client.patch(union_url(union), {"committee_size": 3}, format="json").json()["member_count"] == 2


# ---------------------------------------------------------------- filters of /unions/


@pytest.fixture
def varied(cast):
    """Give the cast's unions distinct attributes to filter on."""
    Union.objects.filter(pk=cast.union_yuhang.pk).update(status="pending", org_form="industry_federation")
    Union.objects.filter(pk=cast.union_yinzhou.pk).update(status="suspended")
    Union.objects.filter(pk=cast.union_xihu_other.pk).update(
        covered_groups=Union.encode_groups(["truck_driver", "other_new"])
    )
    MemberFactory.create_batch(4, union=cast.union_xihu)
    MemberFactory.create_batch(3, union=cast.union_xihu, left_on=dt.date(2025, 1, 1))
    MemberFactory.create_batch(2, union=cast.union_yuhang)
    return cast


# fmt: off
FILTERS = [
    # user       query                                         unions expected (union_…)
    ("province", {"county": "330106"},                         "xihu xihu_other"),
    ("province", {"county": "330212"},                         "yinzhou"),
    ("province", {"city": "330100"},                           "xihu xihu_other yuhang"),
    ("province", {"city": "330200"},                           "yinzhou"),
    ("province", {"city": "330300"},                           ""),
    ("province", {"status": "pending"},                        "yuhang"),
    ("province", {"status": "verified"},                       "xihu xihu_other"),
    ("province", {"status": "suspended"},                      "yinzhou"),
    ("province", {"status": "dissolved"},                      ""),
    ("province", {"org_form": "industry_federation"},          "yuhang"),
    ("province", {"org_form": "joint_union"},                  "xihu xihu_other yinzhou"),
    ("province", {"group": "truck_driver"},                    "xihu_other"),
    ("province", {"group": "other_new"},                       "xihu_other"),
    ("province", {"group": "courier"},                         "xihu yuhang yinzhou"),
    ("province", {"group": "ride_hailing"},                    ""),
    ("province", {"min_members": 4},                           "xihu"),
    ("province", {"min_members": 5},                           ""),
    ("province", {"min_members": 1},                           "xihu yuhang"),
    ("province", {"max_members": 0},                           "xihu_other yinzhou"),
    ("province", {"max_members": 2},                           "xihu_other yinzhou yuhang"),
    ("province", {"min_members": 2, "max_members": 3},         "yuhang"),
    ("province", {"q": "余杭"},                                "yuhang"),
    ("province", {"q": "工会联合会"},                          "xihu_other yuhang yinzhou"),
    ("province", {"q": "  "},                                  "xihu xihu_other yuhang yinzhou"),
    ("province", {"q": "不存在的工会"},                        ""),
    ("province", {"city": "330100", "status": "verified",
                  "group": "courier"},                         "xihu"),
    # filters never widen the scope
    ("xihu",     {"county": "330110"},                         ""),
    ("xihu",     {"city": "330100"},                           "xihu xihu_other"),
    ("hangzhou", {"city": "330200"},                           ""),
    ("ningbo",   {"q": "西湖"},                                ""),
    ("officer",  {"county": "330106"},                         "xihu"),
]
# fmt: on


@pytest.mark.parametrize(("user", "query", "expected"), FILTERS, ids=[f"{u}-{q}" for u, q, _ in FILTERS])
def test_union_filters(api, varied, user, query, expected):
    response = api.as_user(getattr(varied, user)).get(f"{API}/unions/", query)
    assert result_ids(response) == union_ids(varied, [f"union_{name}" for name in expected.split()])


def test_union_filter_q_finds_a_credit_code_in_any_case(api, cast):
    client = api.as_user(cast.province)
    code = cast.union_yinzhou.credit_code
    assert result_ids(client.get(f"{API}/unions/", {"q": code})) == {cast.union_yinzhou.pk}
    assert result_ids(client.get(f"{API}/unions/", {"q": f" {code.lower()} "})) == {cast.union_yinzhou.pk}


@pytest.mark.parametrize(
    "query",
    [
        {"status": "foo"},
        {"org_form": "cooperative"},
        {"group": "astronaut"},
        {"min_members": "many"},
        {"max_members": "1.x"},
    ],
    ids=lambda q: next(iter(q)),
)
def test_unknown_filter_value_is_400_naming_the_filter(api, cast, query):
    response = api.as_user(cast.province).get(f"{API}/unions/", query)
    assert response.status_code == 400, response.content
    assert next(iter(query)) in response.json()


@pytest.mark.parametrize("url", [f"{API}/unions/", f"{API}/regions/", "members"])
@pytest.mark.parametrize(("size", "expected"), [("501", 400), ("abc", 400), ("0", 400), ("-1", 400), ("500", 200)])
def test_page_size_limit(api, cast, url, size, expected):
    if url == "members":
        url = members_url(cast.union_xihu)
    response = api.as_user(cast.province).get(url, {"page_size": size})
    assert response.status_code == expected, response.content
    if expected == 400:
        assert "page_size" in response.json()


def test_page_size_500_returns_up_to_500_rows(api, cast):
    UnionFactory.create_batch(3, county=Region.objects.get(code="330110"))
    body = api.as_user(cast.province).get(f"{API}/unions/", {"page_size": 500}).json()
    assert len(body["results"]) == body["count"] == 7
    assert body["next"] is None


def test_page_out_of_range_is_404(api, cast):
    assert api.as_user(cast.province).get(f"{API}/unions/", {"page": 99}).status_code == 404


# ---------------------------------------------------------------- query counts


def _list_queries(user: User, url: str, max_queries, most: int = 3) -> tuple[int, int]:
    """(SQL queries of one GET of a list, rows the list reports), for a freshly loaded user."""
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))  # nothing cached on the user object
    with max_queries(most) as captured:
        response = client.get(url, {"page_size": 100})
    assert response.status_code == 200
    return len(captured), response.json()["count"]


def test_union_list_queries_do_not_grow_with_rows(cast, django_assert_max_num_queries):
    # The union list is a change feed: one more query for the reader's horizon.
    small, rows = _list_queries(cast.province, f"{API}/unions/", django_assert_max_num_queries, 4)
    assert rows == 4
    counties = list(Region.objects.filter(parent__in=["330100", "330200"]).counties())
    for i in range(36):
        union = UnionFactory(county=counties[i % len(counties)])
        if i % 3 == 0:
            MemberFactory(union=union)
    large, rows = _list_queries(cast.province, f"{API}/unions/", django_assert_max_num_queries, 4)
    assert rows == 40
    assert large == small  # the user's region, the horizon, count, page


def test_member_list_queries_do_not_grow_with_rows(cast, django_assert_max_num_queries):
    union = cast.union_xihu
    MemberFactory.create_batch(3, union=union)
    small, rows = _list_queries(cast.officer, members_url(union), django_assert_max_num_queries)
    assert rows == 3
    MemberFactory.create_batch(37, union=union)
    large, rows = _list_queries(cast.officer, members_url(union), django_assert_max_num_queries)
    assert rows == 40
    assert large == small  # the union, count, page


def test_region_list_queries_are_constant(api, cast, django_assert_max_num_queries):
    client = api.as_user(User.objects.get(pk=cast.province.pk))
    with django_assert_max_num_queries(3):  # the user's region, count, page
        response = client.get(f"{API}/regions/", {"page_size": 500})
    assert response.json()["count"] == 102


# ---------------------------------------------------------------- OpenAPI


def test_openapi_schema_lists_the_members_paths(client, cast):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200, response.content[:500]
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/regions/",
        "/api/v1/regions/{code}/",
        "/api/v1/unions/",
        "/api/v1/unions/{id}/",
        "/api/v1/unions/{id}/verify/",
        "/api/v1/unions/{id}/suspend/",
        "/api/v1/unions/{id}/reinstate/",
        "/api/v1/unions/{id}/dissolve/",
        "/api/v1/unions/{union_pk}/members/",
        "/api/v1/unions/{union_pk}/members/{id}/",
        "/api/v1/unions/{union_pk}/members/import/",
    ):
        assert path in paths, path
    assert {"get", "post"} <= set(paths["/api/v1/unions/"])
    assert {"get", "patch"} <= set(paths["/api/v1/unions/{id}/"])
    assert "put" not in paths["/api/v1/unions/{id}/"]
    assert "multipart/form-data" in paths["/api/v1/unions/{union_pk}/members/import/"]["post"]["requestBody"]["content"]
    components = schema["components"]["schemas"]
    # id_number is write-only: in the request shape, not in the response shape
    assert "id_number" not in components["Member"]["properties"]
    assert "id_number_masked" in components["Member"]["properties"]
    assert "id_number" in components["MemberRequest"]["properties"]
    assert UNION_CONTRACT_FIELDS <= set(components["Union"]["properties"])


def test_openapi_schema_default_format_and_docs_page(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/unions/{id}/verify/" in response.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


# ---------------------------------------------------------------- audit trail


def test_register_writes_an_audit_event(api, cast):
    response = api.as_user(cast.xihu).post(f"{API}/unions/", union_payload("audit"), format="json")
    assert response.status_code == 201
    event = audit_events().get()
    assert event.action == "union.register"
    assert event.actor == cast.xihu
    assert event.actor_username == "t_xihu"
    assert (event.object_type, event.object_id) == ("members.union", str(response.json()["id"]))
    assert event.after["name"] == response.json()["name"]
    assert event.ip == "127.0.0.1"
    assert "6222020200112233445" not in json.dumps(event.after)
    assert "13912340001" not in json.dumps(event.after)


def test_verify_writes_an_audit_event_with_before_and_after(api, cast):
    union = cast.union_xihu_other
    Union.objects.filter(pk=union.pk).update(status="pending")
    response = api.as_user(cast.xihu).post(union_url(union, "verify/"), {"comment": "材料齐全"}, format="json")
    assert response.status_code == 200
    event = audit_events().get()
    assert (event.action, event.actor, event.object_id) == ("union.verify", cast.xihu, str(union.pk))
    assert event.before == {"status": "pending"}
    assert event.after["status"] == "verified"
    assert event.after["comment"] == "材料齐全"


def test_member_writes_are_audited(api, cast):
    client = api.as_user(cast.officer)
    member_id = client.post(members_url(cast.union_xihu), member_payload("aud"), format="json").json()["id"]
    client.patch(members_url(cast.union_xihu, f"{member_id}/"), {"left_on": "2025-01-01"}, format="json")
    actions = list(audit_events().order_by("id").values_list("action", "actor_id", "object_id"))
    assert actions == [
        ("member.add", cast.officer.pk, str(member_id)),
        ("member.update", cast.officer.pk, str(member_id)),
    ]


# fmt: off
REFUSED = [
    # user        method    path                           body                expected
    ("province",  "post",   "/unions/",                    "union",            403),
    ("officer",   "post",   "/unions/",                    "union",            403),
    ("xihu",      "post",   "/unions/",                    "union_elsewhere",  400),
    ("xihu",      "post",   "/unions/",                    "union_bad_code",   400),
    ("auditor",   "post",   "/unions/{pending}/verify/",   None,               403),
    ("hangzhou",  "post",   "/unions/{pending}/verify/",   None,               403),
    ("yuhang",    "post",   "/unions/{pending}/verify/",   None,               404),
    ("xihu",      "post",   "/unions/{verified}/verify/",  None,               409),
    ("auditor",   "patch",  "/unions/{pending}/",          "patch",            403),
    ("yinzhou",   "patch",  "/unions/{pending}/",          "patch",            404),
    ("province",  "post",   "/unions/{pending}/members/",  "member",           403),
    ("ningbo",    "post",   "/unions/{pending}/members/",  "member",           404),
]
# fmt: on


@pytest.mark.parametrize(
    ("user", "method", "path", "body", "expected"), REFUSED, ids=[f"{u}-{m}-{p}" for u, m, p, _, _ in REFUSED]
)
def test_refused_request_writes_no_audit_and_changes_nothing(api, cast, user, method, path, body, expected):
    pending, verified = cast.union_xihu, cast.union_xihu_other
    Union.objects.filter(pk=pending.pk).update(status="pending")
    bodies = {
        None: {},
        "union": union_payload("refused"),
        "union_elsewhere": union_payload("refused", county="330212"),
        "union_bad_code": union_payload("refused", credit_code="81330106MA2H000000"),
        "patch": {"chair_name": "李明"},
        "member": member_payload("refused"),
    }
    before = list(Union.objects.order_by("pk").values())
    url = API + path.format(pending=pending.pk, verified=verified.pk)
    response = getattr(api.as_user(getattr(cast, user)), method)(url, bodies[body], format="json")
    assert response.status_code == expected, response.content
    assert list(Union.objects.order_by("pk").values()) == before
    assert not Member.objects.exists()
    assert not audit_events().exists()


# ---------------------------------------------------------------- a user without role or home


def test_account_without_role_sees_nothing_and_may_do_nothing(api, cast):
    nobody = make_user("t_nobody", "")
    client = api.as_user(nobody)
    assert client.get(f"{API}/unions/").json()["count"] == 0
    assert client.get(f"{API}/regions/").json()["count"] == 0
    assert client.get(union_url(cast.union_xihu)).status_code == 404
    assert client.get(members_url(cast.union_xihu)).status_code == 404
    assert client.post(f"{API}/unions/", union_payload("nobody"), format="json").status_code == 403
    assert Union.objects.count() == 4


@pytest.mark.parametrize("query", ["min_members=99999999999999999999", "max_members=1.5", "min_members=-1"])
def test_member_count_filters_refuse_what_no_union_can_have_with_400(api, cast, query):
    response = api.as_user(cast.province).get(f"{API}/unions/?{query}")
    assert response.status_code == 400, response.content
    assert query.split("=")[0] in response.json()
