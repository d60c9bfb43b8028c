"""Hostile input is a 400 (or a form error) naming what was wrong, never a 500, and changes nothing.

Each class of input a probe of a production-like instance (gunicorn, PostgreSQL, DEBUG off) turned into a
500 is tested here through HTTP, as a client sends it:

- JSON nested thousands of levels deep (Python's decoder recursed until RecursionError), on every JSON
  endpoint including the unauthenticated token endpoint;
- a NUL character in a path, a query string, a header or a form field (PostgreSQL cannot hold one, so the
  driver failed wherever such a value reached a query: a search box, a login, a token lookup);
- a username longer than django-axes's column, on the login page and the token endpoint;
- integers larger than their column (a city quota of 10**20, 2**31 workers served);
- amounts in other digits or notations (full-width, Arabic-Indic, ``1_000``, floats), which were read as
  numbers; dates in year 1 or in the future where only the past makes sense.

Several of these only fail on PostgreSQL (SQLite stores NUL and 64-bit integers); the suite runs there too
(``DATABASE_URL``). The property-based fuzzing of every operation with such values is in
``tests/core/test_api_fuzz.py``; the bounds of every number and date field in ``test_input_fields.py``.
"""

import datetime as dt
import json

import pytest
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.test import Client

from evaluation import services as evaluation_services
from evaluation.models import SpotCheckDraw
from grants.models import CityQuota, Expenditure, Program
from members.models import Member, Union, User
from tests.factories import (
    MemberFactory,
    approve,
    approve_assessment,
    disburse,
    eligible_union,
    make_application,
    make_program,
    program_data,
    submit,
)
from unionfunds.core import clock
from unionfunds.core.auth import USERNAME_MAX_LENGTH, LoginForm, axes_username

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

DEEP = "[" * 5000 + "]" * 5000
TOKEN = "/api/v1/auth/token/"


def post_json(client, url, body):
    return client.post(url, body if isinstance(body, str) else json.dumps(body), content_type="application/json")


@pytest.fixture
def web():
    """A test client that answers a view's exception with Django's 500 page, as gunicorn would."""
    return Client(raise_request_exception=False)


# ---------------------------------------------------------------- deeply nested JSON


def test_deeply_nested_json_to_the_token_endpoint_is_a_400(web):
    for body in (DEEP, '{"username": ' + DEEP + "}", "{" * 3000):
        response = post_json(web, TOKEN, body)
        assert response.status_code == 400, response.content[:200]
        assert "detail" in response.json()


@pytest.mark.parametrize(
    "url",
    ["/api/v1/programs/", "/api/v1/unions/", "/api/v1/applications/", "/api/v1/evaluation-rounds/", "/api/v1/reports/"],
)
def test_deeply_nested_json_to_a_json_endpoint_is_a_400(cast, web, url):
    web.force_login(cast.xihu)
    for body in (DEEP, '{"name": ' + DEEP + "}", '{"a": "' + "[" * 5000 + '"}'):
        response = post_json(web, url, body)
        assert response.status_code == 400, response.content[:200]


def test_moderately_nested_json_is_still_read(cast, api):
    """What the API's own bodies need (three levels) is far inside the limit."""
    body = {"program": 999999, "adjustments": {"coverage": {"score": "80"}}, "x": [[[[[[[[1]]]]]]]]}
    response = api.as_user(cast.province).post("/api/v1/evaluation-rounds/", body, format="json")
    assert response.status_code == 400
    assert "program" in response.json()  # the body was parsed; its program does not exist


# ---------------------------------------------------------------- NUL characters


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/unions/?q=ab%00c",
        "/api/v1/unions/?county=%00",
        "/api/v1/allocations/?updated_after=%00",
        "/api/v1/regions/%00/",
        "/api/v1/unions/%00/",
        "/api/v1/applications/?ordering=%00",
        "/api/v1/unions/?q%00=1",
    ],
)
def test_nul_in_an_api_path_or_query_is_a_json_400(cast, web, url):
    web.force_login(cast.province)
    response = web.get(url)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body == {"detail": body.get("detail")} or all(isinstance(v, list) for v in body.values())
    if "?" in url and "%00=" not in url:
        assert url.split("?")[1].split("=")[0] in body  # names the parameter


@pytest.mark.parametrize(
    "url",
    ["/audit/?q=%00", "/audit/?actor=a%00", "/unions/?q=%00", "/applications/?program=%00", "/allocations/?county=%00"],
)
def test_nul_in_a_page_query_is_a_400(cast, web, url):
    web.force_login(cast.province)
    response = web.get(url)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_nul_in_a_page_form_field_is_a_400_and_changes_nothing(cast, web):
    web.force_login(cast.province)
    response = web.post("/accounts/locked/", {"username": "t_officer\x00"})
    assert response.status_code == 400
    assert "username" in response.content.decode()


def test_nul_in_the_login_form_is_a_400_and_records_no_attempt(web):
    response = web.post("/accounts/login/", {"username": "t\x00admin", "password": "x"})
    assert response.status_code == 400
    assert not AccessAttempt.objects.exists()


@pytest.mark.parametrize("as_json", [True, False])
def test_nul_in_a_token_request_is_a_400_naming_the_field(web, as_json):
    body = {"username": "t\x00admin", "password": "Test-pass-2026"}
    response = post_json(web, TOKEN, body) if as_json else web.post(TOKEN, body)
    assert response.status_code == 400, response.content[:200]
    assert "username" in response.json()
    assert not AccessAttempt.objects.exists()


def test_nul_in_a_header_is_a_400(cast, web):
    response = web.get("/api/v1/unions/", HTTP_AUTHORIZATION="Token abc\x00def")
    assert response.status_code == 400
    response = web.get("/", HTTP_USER_AGENT="probe\x00")
    assert response.status_code == 400


def test_a_json_body_with_nul_is_refused_by_the_field(cast, api):
    response = api.as_user(cast.xihu).patch(
        f"/api/v1/unions/{cast.union_xihu.pk}/", {"chair_name": "王\x00芳"}, format="json"
    )
    assert response.status_code == 400
    assert "chair_name" in response.json()
    assert Union.objects.get(pk=cast.union_xihu.pk).chair_name != "王\x00芳"


# ---------------------------------------------------------------- usernames longer than any account's


def test_a_username_longer_than_any_accounts_is_a_form_error_on_the_login_page(web):
    response = web.post("/accounts/login/", {"username": "a" * 300, "password": "x"})
    assert response.status_code == 200
    assert "150" in response.content.decode()  # the form says how long a username may be
    assert not AccessAttempt.objects.exists()  # and axes never saw it


@pytest.mark.parametrize("length", [151, 256, 10_000])
def test_a_username_longer_than_any_accounts_is_a_400_at_the_token_endpoint(web, length):
    response = post_json(web, TOKEN, {"username": "a" * length, "password": "x"})
    assert response.status_code == 400
    assert "username" in response.json()
    assert not AccessAttempt.objects.exists()


def test_a_username_of_the_longest_allowed_length_still_counts_towards_the_lockout(web):
    response = post_json(web, TOKEN, {"username": "a" * 150, "password": "x"})
    assert response.status_code == 400
    assert AccessAttempt.objects.filter(username="a" * 150).exists()


# ---------------------------------------------------------------- numbers larger than their column


@pytest.mark.parametrize("count", [10**20, 2**31, 2**63, -1, 1.5, "１２", True])
def test_a_city_quota_no_column_can_hold_is_a_400(cast, api, count):
    body = {**_program_body(), "city_quotas": {"330100": count}}
    response = api.as_user(cast.province).post("/api/v1/programs/", body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert "city_quotas" in response.json()
    assert not Program.objects.exists() and not CityQuota.objects.exists()


def test_a_city_quota_no_column_can_hold_is_a_form_error_on_the_program_page(cast, web):
    web.force_login(cast.province)
    data = {
        "name": "专项经费",
        "year": clock.today().year,
        "budget_total": "100000.00",
        "fiscal": "100000.00",
        "target_count": "2",
        "opens_on": clock.today().isoformat(),
        "closes_on": (clock.today() + dt.timedelta(days=30)).isoformat(),
        "categories": ["activities"],
        "min_members": "150",
        "min_committee": "3",
        "city_quotas": "330100 100000000000000000000",
    }
    response = web.post("/programs/new/", data)
    assert response.status_code == 200
    assert "city_quotas" in response.context["form"].errors or response.context["form"].non_field_errors()
    assert not Program.objects.exists()


@pytest.mark.parametrize(("field", "value"), [("target_count", 10**20), ("min_members", 2**31), ("year", 10**20)])
def test_a_program_number_no_column_can_hold_is_a_400(cast, api, field, value):
    response = api.as_user(cast.province).post("/api/v1/programs/", {**_program_body(), field: value}, format="json")
    assert response.status_code == 400
    assert field in response.json()


@pytest.fixture
def spendable(cast):
    program = make_program(cast.province)
    allocation = approve(program, eligible_union("330106"))
    disburse(allocation, "1000.00")
    return allocation


@pytest.mark.parametrize("beneficiaries", [2**31, 10**20, -1, "１０"])
def test_workers_served_beyond_the_column_is_a_400(cast, api, spendable, beneficiaries):
    body = {**_expenditure_body(), "beneficiaries": beneficiaries}
    response = api.as_user(cast.xihu).post(f"/api/v1/allocations/{spendable.pk}/expenditures/", body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert "beneficiaries" in response.json()
    assert not Expenditure.objects.exists()


def test_workers_served_beyond_the_column_is_a_form_error_on_the_page(cast, web, spendable):
    web.force_login(cast.xihu)
    data = {**_expenditure_body(), "beneficiaries": str(2**31)}
    web.post(f"/allocations/{spendable.pk}/expenditures/", data)
    assert not Expenditure.objects.exists()


@pytest.mark.parametrize("seed", [str(10**30), str(2**63), "１２"])
def test_a_seed_for_a_spot_check_draw_no_column_can_hold_is_refused(cast, web, api, seed):
    round_ = evaluation_services.round_create(program=make_program(cast.province), by=cast.province)
    submit(round_, "330106")
    approve_assessment(round_, "330106")
    web.force_login(cast.province)
    web.post(f"/evaluation/rounds/{round_.pk}/spot-check/", {"count": "1", "seed": seed})
    response = api.as_user(cast.province).post(
        f"/api/v1/evaluation-rounds/{round_.pk}/spot-check/",
        {"count": 1, "seed": int(seed) if seed.isascii() else seed},
        format="json",
    )
    assert response.status_code == 400 and "seed" in response.json()
    assert not SpotCheckDraw.objects.exists()


# ---------------------------------------------------------------- amounts and dates


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("１５００００００", "半角数字"),  # full-width
        ("١٥٠٠٠٠٠٠", "半角数字"),  # Arabic-Indic
        ("15_000_000", "半角数字"),
        ("1.5e7", "半角数字"),
        ("15,000,000.00", "半角数字"),
        (15000000.0, "浮点数"),
        (15000000, "字符串"),
        ("15000000.001", "两位小数"),
        ("-15000000", "负数"),
    ],
)
def test_an_amount_not_written_as_money_is_a_400_naming_the_field(cast, api, amount, words):
    body = {**_program_body(), "budget_total": amount}
    response = api.as_user(cast.province).post("/api/v1/programs/", body, format="json")
    assert response.status_code == 400
    assert words in " ".join(response.json()["budget_total"])
    body = {**_program_body(), "funding_sources": [{"source": "fiscal", "amount": amount}]}
    response = api.as_user(cast.province).post("/api/v1/programs/", body, format="json")
    assert response.status_code == 400
    assert words in json.dumps(response.json()["funding_sources"], ensure_ascii=False)
    assert not Program.objects.exists()


def test_amounts_in_ascii_digits_are_accepted(cast, api):
    response = api.as_user(cast.province).post("/api/v1/programs/", _program_body(), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["budget_total"] == "15000000.00"


@pytest.mark.parametrize("amount", ["１２０", "1_20", "1e2", "12.345"])
def test_an_expenditure_amount_not_written_as_money_is_a_400_in_json_and_multipart(cast, api, spendable, amount):
    client = api.as_user(cast.xihu)
    url = f"/api/v1/allocations/{spendable.pk}/expenditures/"
    for fmt in ("json", "multipart"):
        response = client.post(url, {**_expenditure_body(), "amount": amount}, format=fmt)
        assert response.status_code == 400, response.content[:300]
        assert "amount" in response.json()
    assert not Expenditure.objects.exists()


@pytest.mark.parametrize("amount", ["６００００", "60_000", "6e4"])
def test_an_amount_not_written_as_money_is_a_form_error_on_the_page(cast, web, amount):
    program = make_program(cast.province)
    union = eligible_union("330106")
    web.force_login(cast.xihu)
    response = web.post("/applications/new/", {"program": program.pk, "union": union.pk, "requested_amount": amount})
    assert response.status_code == 200
    assert "requested_amount" in response.context["form"].errors
    assert not program.applications.exists()


@pytest.mark.parametrize(
    ("field", "value"), [("joined_on", "0001-01-01"), ("joined_on", "9999-12-31"), ("joined_on", "１９９０-０１-０１")]
)
def test_a_member_date_no_one_can_mean_is_a_400(cast, api, field, value):
    body = {"name": "张三", "id_number": "11010519491231002X", "group": "courier", "joined_on": "2024-01-01"}
    response = api.as_user(cast.xihu).post(
        f"/api/v1/unions/{cast.union_xihu.pk}/members/", {**body, field: value}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not Member.objects.filter(union=cast.union_xihu).exists()


@pytest.mark.parametrize("left_on", ["0001-01-01", "2099-01-01", (dt.date.today() + dt.timedelta(days=2)).isoformat()])
def test_a_leaving_date_in_the_future_or_year_one_is_a_400(cast, api, left_on):
    member = MemberFactory(union=cast.union_xihu, joined_on=dt.date(2024, 1, 1))
    response = api.as_user(cast.xihu).patch(
        f"/api/v1/unions/{cast.union_xihu.pk}/members/{member.pk}/", {"left_on": left_on}, format="json"
    )
    assert response.status_code == 400
    assert "left_on" in response.json()
    assert Member.objects.get(pk=member.pk).left_on is None


def test_a_leaving_date_in_the_future_is_refused_on_the_page(cast, web):
    member = MemberFactory(union=cast.union_xihu, joined_on=dt.date(2024, 1, 1))
    web.force_login(cast.xihu)
    future = (clock.today() + dt.timedelta(days=30)).isoformat()
    web.post(f"/unions/{cast.union_xihu.pk}/members/{member.pk}/leave/", {"left_on": future})
    assert Member.objects.get(pk=member.pk).left_on is None


@pytest.mark.parametrize("field", ["founded_on", "chair_elected_on"])
def test_a_union_date_of_year_one_is_a_400(cast, api, field):
    response = api.as_user(cast.xihu).patch(
        f"/api/v1/unions/{cast.union_xihu.pk}/", {field: "0001-01-01"}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("field", ["opens_on", "closes_on"])
def test_a_program_date_of_year_one_or_9999_is_a_400(cast, api, field):
    for value in ("0001-01-01", "9999-12-31"):
        body = {**_program_body(), field: value}
        response = api.as_user(cast.province).post("/api/v1/programs/", body, format="json")
        assert response.status_code == 400
        assert field in response.json()


def test_a_disbursement_date_of_year_one_is_a_400(cast, api):
    allocation = approve(make_program(cast.province), eligible_union("330106"))
    response = api.as_user(cast.xihu).post(
        f"/api/v1/allocations/{allocation.pk}/disbursements/",
        {"amount": "100.00", "paid_on": "0001-01-01", "voucher_no": "PZ-1"},
        format="json",
    )
    assert response.status_code == 400
    assert "paid_on" in response.json()


def test_an_application_draft_with_a_float_amount_is_a_400(cast, api):
    program = make_program(cast.province)
    union = eligible_union("330106")
    body = {"program": program.pk, "union": union.pk, "requested_amount": 30000.0}
    response = api.as_user(cast.xihu).post("/api/v1/applications/", body, format="json")
    assert response.status_code == 400
    assert "浮点数" in response.json()["requested_amount"][0]
    make_application(program, union, requested="30000.00")  # the same request, as a string: accepted


def _program_body() -> dict:
    data = program_data()
    return {
        **data,
        "opens_on": data["opens_on"].isoformat(),
        "closes_on": data["closes_on"].isoformat(),
        "city_quotas": {"330100": 40},
    }


def _expenditure_body() -> dict:
    return {
        "spent_on": clock.today().isoformat(),
        "category": "activities",
        "amount": "100.00",
        "description": "外卖骑手夏季送清凉",
        "voucher_no": "ZC-0001",
        "beneficiaries": 30,
    }


def test_the_token_endpoint_and_the_login_page_allow_the_username_length_of_the_model():
    assert USERNAME_MAX_LENGTH == User._meta.get_field("username").max_length
    assert LoginForm().fields["username"].max_length == USERNAME_MAX_LENGTH


def test_axes_never_gets_a_username_longer_than_its_column(rf):
    assert axes_username(None, {"username": "a" * 300}) == "a" * 255
    assert axes_username(rf.post("/admin/login/", {"username": "b" * 300}), None) == "b" * 255
    assert axes_username(None, {"username": "t_officer"}) == "t_officer"
    assert get_client_username(rf.post("/admin/login/", {"username": "c" * 300})) == "c" * 255  # axes uses it
