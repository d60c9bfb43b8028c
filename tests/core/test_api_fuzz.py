"""Property-based fuzzing of the whole REST API against its own OpenAPI schema.

Schemathesis loads ``/api/schema/`` from the Django WSGI app in this process and, for every operation,
sends generated requests (examples, the valid boundary values of the coverage phase, then random valid and invalid
data) as province staff, and checks every answer: no 5xx, a documented status code, a body that matches
the schema, invalid data refused and valid data accepted.

The world is seeded once for the module (inside a transaction rolled back at the end) and every
operation's test runs in a savepoint on top of it, so each operation starts from the same data:
applications in every state, an allocation with money, a round with submitted and approved
self-assessments, a spot-check and a finished report. Generated path ids are mostly mapped onto those
real objects (a third stay random, for the 404 paths). Generation is seeded and derandomized, so a CI
failure reproduces locally.
"""

import datetime as dt
import itertools
import json
import os
import random
from unittest import mock
from urllib.parse import quote, urlencode

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import Client, override_settings
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token

from evaluation import reports
from evaluation import services as evaluation_services
from evaluation.models import EvaluationRound, ReportJob, SelfAssessment, SpotCheck
from grants.choices import ApplicationStatus
from grants.models import Allocation, Application, Program
from members import fakes
from members.choices import Role, UnionStatus
from members.models import Member, Union
from members.services import regions_load
from tests.factories import (
    MemberFactory,
    allocate,
    answers,
    approve,
    eligible_union,
    make_application,
    make_program,
    make_user,
    staff,
)
from unionfunds.core.feed import Position, encode_cursor

# Random examples per operation after the coverage phase, and which boundary values that phase sends.
# A deeper run by hand (minutes): FUZZ_EXAMPLES=100 FUZZ_COVERAGE=all.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
COVERAGE = os.environ.get("FUZZ_COVERAGE", "positive")
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261201,
        # No NUL characters: Django refuses them in any string (400, tests/core/test_api_errors.py), which
        # a schema-valid string may contain, so with them every read would "reject valid data".
        "generation": {"max-examples": EXAMPLES, "deterministic": True, "allow-x00": False},
        "phases": {
            # The boundary values of every parameter, valid ones only by default: the invalid half
            # doubles the run time, and the fuzzing phase sends invalid data too.
            "coverage": {"generation": {"mode": COVERAGE}},
            # One request per operation is examined at a time; stateful sequences would need links.
            "stateful": {"enabled": False},
        },
        "operations": [
            {
                # A body can match the schema and still be refused with 400 naming the field: an id of an
                # object that does not exist or is out of scope, an ID number or credit code with a wrong
                # check digit, funding sources that do not add up to the budget, wrong credentials.
                # JSON Schema cannot say any of that, so for writes 400 is an acceptable answer to
                # schema-valid data too. Reads stay strict: a schema-valid query must never be a 400.
                "include-method": ["POST", "PATCH"],
                "exclude-path": "/api/v1/auth/token/",
                "checks": {"positive_data_acceptance": {"expected-statuses": [200, 201, 202, 400, 403, 404, 409]}},
            },
            {
                # Wrong credentials are 400; after five of them for one username the account is locked and
                # says so (429 locked_out), whatever the password: both answer schema-valid data.
                "include-path": "/api/v1/auth/token/",
                "checks": {"positive_data_acceptance": {"expected-statuses": [200, 400, 429]}},
            },
        ],
    }
)

with override_settings(ALLOWED_HOSTS=["localhost"]):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=CONFIG)

# Real objects per path parameter, filled by the ``world`` fixture; and API tokens of three roles.
REAL: dict[str, list] = {}
TOKENS: dict[str, str] = {}
OFFICER: list = []
SPARE: dict[str, int] = {}  # objects the hostile fuzzing's valid bodies name


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    media = tmp_path_factory.mktemp("fuzz-media")
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=hashers, MEDIA_ROOT=media, ALLOWED_HOSTS=["localhost"]),
        transaction.atomic(),
    ):
        province = seed()
        token = Token.objects.create(user=province)
        users = {
            "province": province,
            "city": staff("330100"),
            "county": staff("330106"),
            "county_draft": staff("330102"),  # whose self-assessment is still a draft
            "officer": OFFICER.pop(),
        }
        for role, user in users.items():
            TOKENS[role] = Token.objects.get_or_create(user=user)[0].key
        yield {"Authorization": f"Token {token.key}"}
        transaction.set_rollback(True)
    REAL.clear()
    TOKENS.clear()
    SPARE.clear()


def seed():
    regions_load()
    province = make_user("fuzz_province", Role.PROVINCE_STAFF, region="330000")
    program = make_program(province, name="新业态基层工会专项经费（接口测试）")
    union = eligible_union("330106")
    MemberFactory(union=union)
    OFFICER.append(make_user("fuzz_officer", Role.UNION_OFFICER, union=union))
    allocate(program, union, "60000.00", "45000.00")
    allocate(program, eligible_union("330212"), "30000.00")
    approve(program, eligible_union("330110"), "20000.00")  # nothing paid out yet
    for until in (
        ApplicationStatus.DRAFT,
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.RECOMMENDED,
        ApplicationStatus.REVIEWED,
        ApplicationStatus.REJECTED,
    ):
        make_application(program, eligible_union("330106"), until=until, requested="30000.00")
    round_ = evaluation_services.round_create(program=program, by=province)
    answers(round_, union, "very_satisfied", "satisfied")
    for county in ("330106", "330110", "330212"):
        evaluation_services.assessment_submit(
            assessment=SelfAssessment.objects.get(round=round_, county_id=county),
            narrative="按计划使用。",
            by=staff(county),
        )
    for county, city in (("330106", "330100"), ("330212", "330200")):
        evaluation_services.assessment_approve(
            assessment=SelfAssessment.objects.get(round=round_, county_id=county), by=staff(city)
        )
    evaluation_services.spot_check_draw(round_=round_, by=province, count=1, seed=7)
    with mock.patch("evaluation.tasks.enqueue_report"):
        job, _ = evaluation_services.report_request(kind="county", round_=round_, region="330106", by=province)
    reports.generate(job.pk)
    evaluation_services.report_request(kind="province", round_=round_, region="330000", by=province)  # stays queued
    suspended = eligible_union("330106", status=UnionStatus.SUSPENDED)
    pending = eligible_union("330106", status=UnionStatus.PENDING)
    SPARE.update(
        program=make_program(province, name="新业态基层工会专项经费（第二期）").pk,  # no round yet
        union=eligible_union("330106").pk,  # no application yet
        member_union=union.pk,
    )

    REAL.update(
        {
            "/api/v1/allocations/{id}": list(Allocation.objects.values_list("pk", flat=True)),
            "/api/v1/applications/{id}": list(Application.objects.values_list("pk", flat=True)),
            "/api/v1/evaluation-rounds/{id}": [round_.pk],
            "/api/v1/programs/{id}": list(Program.objects.values_list("pk", flat=True)),
            "/api/v1/regions/{code}": ["330000", "330100", "330106"],
            "/api/v1/reports/{id}": list(ReportJob.objects.values_list("pk", flat=True)),
            "/api/v1/self-assessments/{id}": list(  # a draft, a submitted and two approved
                SelfAssessment.objects.filter(county_id__in=["330102", "330106", "330110", "330212"])
                .order_by("pk")
                .values_list("pk", flat=True)
            ),
            "/api/v1/spot-checks/{id}": list(SpotCheck.objects.values_list("pk", flat=True)),
            "/api/v1/unions/{id}": [*Union.objects.values_list("pk", flat=True)[:5], suspended.pk, pending.pk],
            "/api/v1/unions/{union_pk}": [union.pk],
            "/api/v1/unions/{union_pk}/members/{id}": list(
                Member.objects.filter(union=union).values_list("pk", flat=True)[:3]
            ),
        }
    )
    return province


def real_path_parameters(path: str, parameters: dict) -> dict:
    """Two generated ids in three become a real object of the seeded world (chosen by the value)."""
    out = dict(parameters)
    for name, value in parameters.items():
        prefix = path.split("{" + name + "}")[0] + "{" + name + "}"
        choices = REAL.get(prefix)
        if choices and isinstance(value, int) and not isinstance(value, bool) and value >= 0 and value % 3:
            out[name] = choices[value % len(choices)]
    return out


# The lists that are change feeds, by the model whose positions their cursors carry.
FEEDS = {"/api/v1/allocations/": Allocation, "/api/v1/applications/": Application, "/api/v1/unions/": Union}


def real_query(path: str, query: dict) -> dict:
    """A generated ``cursor`` becomes one the server issued for that list (a signed value no schema can
    describe), without ``page`` and ``ordering``, which a cursor never comes with."""
    if not query or not query.get("cursor") or path not in FEEDS:
        return query
    out = {k: v for k, v in query.items() if k not in ("page", "ordering")}
    out["cursor"] = encode_cursor(Position(0, 0), FEEDS[path]._meta.label_lower)
    return out


@pytest.fixture
def live(world, db):
    """The seeded world in a savepoint; the app's requests keep the test's connection (as Django's test client)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield world
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@hypothesis.settings(deadline=None, database=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_api_conforms_to_its_schema(case, live):
    if case.path_parameters:
        case.path_parameters = real_path_parameters(case.operation.path, case.path_parameters)
    case.query = real_query(case.operation.path, case.query)
    case.call_and_validate(headers=live)


def test_the_world_has_the_objects_the_fuzzer_needs(live):
    statuses = set(Application.objects.values_list("status", flat=True))
    assert statuses >= {"draft", "submitted", "recommended", "reviewed", "approved", "rejected"}
    assert set(SelfAssessment.objects.values_list("status", flat=True)) >= {"draft", "submitted", "approved"}
    assert ReportJob.objects.filter(status="done").exists() and SpotCheck.objects.exists()
    assert EvaluationRound.objects.count() == 1
    assert dt.date.today().year in set(Program.objects.values_list("year", flat=True))


# ---------------------------------------------------------------- hostile values, every operation
#
# Schemathesis sends what the schema describes, valid or not. Attackers send what the schema never
# mentions: JSON nested thousands of levels, NUL characters (which PostgreSQL cannot store: no-x00 above
# keeps them out of the schema-driven run), integers no column holds, floats and other digits for money,
# year-1 dates, formula text, very long strings. Here every operation of the schema gets a body that is
# valid except for one to three values replaced by such, or replaced whole, with such query parameters and
# path segments, from the province, a city, a county and a union officer. Whatever the answer, it is not a 5xx.
# More examples on PostgreSQL, where NUL and overflow used to bite: FUZZ_HOSTILE_EXAMPLES sets the number.

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))
HOSTILE_EXAMPLES = int(os.environ.get("FUZZ_HOSTILE_EXAMPLES", "60" if ON_POSTGRES else "25"))
DEEP = "__deeply_nested__"
ROLES = ("province", "city", "county", "county_draft", "officer")  # replaced in the JSON text by 5,000 nested arrays

HOSTILE_TEXT = [
    "\x00", "a\x00b", "%00", "１２３", "١٢٣", "1_000", "1e3", "1e400", "-1", "+5", "0x1F", "NaN", "Infinity", "",
    " ", "0001-01-01", "9999-12-31", "10000-01-01", "２０２６-０１-０１", "2026-02-30", "=1+1", "＝HYPERLINK(\"x\")",
    "@SUM(A1)", "%s%d", "100%", "x" * 20_000, "\u202e\ufeff", "😀", "null", "true", "[]", "{}", "../../etc/passwd",
    "330100\x00",
]  # fmt: skip
HOSTILE_NUMBERS = [2**31 - 1, 2**31, -(2**31) - 1, 2**63, -(2**63) - 1, 10**20, 10**400, -1, 0, 0.1, 60000.0, 1e308]
hostile_value = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.sampled_from(HOSTILE_NUMBERS),
    st.sampled_from([None, True, False, [], {}, [1, "x"], {"a": 1}, float("nan"), DEEP]),
    st.text(max_size=12),
)


def _today() -> str:
    return dt.date.today().isoformat()


def valid_bodies() -> dict[tuple[str, str], object]:
    """A body each write operation accepts (on the right object, from the right user), to mutate."""
    lines = [{"category": "activities", "amount": "30000.00", "description": "节日慰问"}]
    comment = {"comment": "意见"}
    return {
        ("POST", "/api/v1/auth/token/"): {"username": "fuzz_officer", "password": "Test-pass-2026"},  # no second factor
        ("POST", "/api/v1/programs/"): {
            "name": "专项经费",
            "year": dt.date.today().year,
            "owner": "330000",
            "budget_total": "100000.00",
            "funding_sources": [{"source": "fiscal", "amount": "40000.00"}, {"source": "union", "amount": "60000.00"}],
            "target_count": 2,
            "max_grant": "50000.00",
            "city_quotas": {"330100": 1},
            "opens_on": _today(),
            "closes_on": _today(),
            "categories": ["activities"],
            "min_members": 150,
            "min_committee": 3,
        },
        ("POST", "/api/v1/applications/"): {
            "program": REAL["/api/v1/programs/{id}"][0],
            "union": SPARE["union"],
            "requested_amount": "30000.00",
            "budget_lines": lines,
            "plan": "计划",
        },
        ("PATCH", "/api/v1/applications/{id}/"): {"requested_amount": "30000.00", "budget_lines": lines, "plan": "改"},
        ("POST", "/api/v1/applications/{id}/approve/"): {"approved_amount": "30000.00", "comment": "同意"},
        **{("POST", f"/api/v1/applications/{{id}}/{a}/"): comment for a in ("submit", "recommend", "review")},
        **{("POST", f"/api/v1/applications/{{id}}/{a}/"): comment for a in ("reject", "return")},
        ("POST", "/api/v1/allocations/{id}/disbursements/"): {
            "amount": "100.00",
            "paid_on": _today(),
            "voucher_no": "PZ-FUZZ",
            "to": "",
        },
        ("POST", "/api/v1/allocations/{id}/expenditures/"): {
            "spent_on": _today(),
            "category": "activities",
            "amount": "100.00",
            "description": "送清凉",
            "voucher_no": "ZC-FUZZ",
            "beneficiaries": 30,
        },
        ("POST", "/api/v1/unions/"): {
            "name": "模糊测试工会",
            "credit_code": fakes.credit_code(random.Random(7), "330106"),
            "org_form": "joint_union",
            "county": "330106",
            "parent_level": "county",
            "covered_groups": ["courier"],
            "chair_name": "李明",
            "chair_elected_on": "2024-01-01",
            "chair_term_years": 5,
            "committee_size": 5,
            "founded_on": "2020-01-01",
            "funds_hard_to_guarantee": True,
            "contact_phone": "13800138000",
        },
        ("PATCH", "/api/v1/unions/{id}/"): {"chair_name": "李明", "committee_size": 5, "founded_on": "2020-01-01"},
        **{("POST", f"/api/v1/unions/{{id}}/{a}/"): comment for a in ("verify", "suspend", "reinstate", "dissolve")},
        ("POST", "/api/v1/unions/{union_pk}/members/"): {
            "name": "张三",
            "id_number": fakes.id_number(random.Random(7)),
            "group": "courier",
            "platform": "美团",
            "joined_on": "2024-01-01",
            "phone": "13800138000",
        },
        ("PATCH", "/api/v1/unions/{union_pk}/members/{id}/"): {"platform": "饿了么", "left_on": _today()},
        ("POST", "/api/v1/unions/{union_pk}/members/import/"): {
            "file": f"姓名,身份证号,群体,入会日期\n李四,{fakes.id_number(random.Random(8))},courier,2024-01-01\n"
        },
        ("POST", "/api/v1/evaluation-rounds/"): {
            "program": SPARE["program"],
            "coverage_target": "0.2",
            "min_responses": 10,
            "weights": {"utilization": "0.3", "coverage": "0.2", "satisfaction": "0.5"},
        },
        ("POST", "/api/v1/evaluation-rounds/{id}/survey-responses/"): [
            {"union": SPARE["member_union"], "answer": "satisfied", "comment": "好"}
        ],
        ("POST", "/api/v1/evaluation-rounds/{id}/spot-check/"): {"count": 1, "seed": 7},
        ("POST", "/api/v1/self-assessments/{id}/submit/"): {"narrative": "按计划使用。"},
        ("POST", "/api/v1/self-assessments/{id}/approve/"): {
            "adjustments": {"coverage": {"score": "80.00", "reason": "核实"}},
            "comment": "",
        },
        ("POST", "/api/v1/self-assessments/{id}/return/"): comment,
        ("POST", "/api/v1/spot-checks/{id}/verify/"): {
            "scores": {"utilization": "80.00", "coverage": "80.00", "satisfaction": "80.00"},
            "findings": "属实",
        },
        ("POST", "/api/v1/reports/"): {
            "kind": "county",
            "round": REAL["/api/v1/evaluation-rounds/{id}"][0],
            "region": "330106",
        },
    }


OPERATIONS = sorted(
    (method.upper(), path)
    for path, item in schema.raw_schema["paths"].items()
    for method in item
    if method in ("get", "post", "patch", "put", "delete")
)


def test_every_write_operation_has_a_valid_body_to_mutate(live):
    """Each body is accepted as it is by some role on some real object, so its mutations reach the code
    behind the serializer (the services, the database) and are not all refused at the door."""
    writes = {(m, p) for m, p in OPERATIONS if m != "GET"}
    assert writes == set(valid_bodies())
    client = Client(SERVER_NAME="localhost")
    for method, path in sorted(writes):
        operation = schema.raw_schema["paths"][path][method.lower()]
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
        choices = [REAL.get(path.split("{" + n + "}")[0] + "{" + n + "}") or [1] for n in names]
        statuses = set()
        for role in ROLES:
            for values in itertools.product(*choices):
                url = path
                for name, value in zip(names, values, strict=True):
                    url = url.replace("{" + name + "}", str(value))
                content_type = "multipart/form-data" if "import/" in path else "application/json"
                with transaction.atomic():
                    statuses.add(
                        _send(client, method, url, {}, valid_bodies()[(method, path)], content_type, role).status_code
                    )
                    transaction.set_rollback(True)
        assert statuses & {200, 201, 202}, (method, path, statuses)


def _leaves(value, path=()):
    """Every position in a body (containers included) that a hostile value can replace."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))


def _replace(value, path, new):
    """``value`` with ``new`` at ``path``; unchanged if an earlier replacement removed that position."""
    if not path:
        return new
    if isinstance(value, dict) and path[0] in value:
        return {**value, path[0]: _replace(value[path[0]], path[1:], new)}
    if isinstance(value, list) and isinstance(path[0], int) and path[0] < len(value):
        return [*value[: path[0]], _replace(value[path[0]], path[1:], new), *value[path[0] + 1 :]]
    return value


@st.composite
def hostile_request(draw, method: str, path: str):
    operation = schema.raw_schema["paths"][path][method.lower()]
    url = path
    for name in (p["name"] for p in operation.get("parameters", []) if p["in"] == "path"):
        prefix = path.split("{" + name + "}")[0] + "{" + name + "}"
        real = REAL.get(prefix) or [1]
        if draw(st.integers(0, 4)):
            value = str(draw(st.sampled_from(real)))
        else:
            value = quote(str(draw(hostile_value)), safe="")
        url = url.replace("{" + name + "}", value or "0")
    query = {}
    for name in (p["name"] for p in operation.get("parameters", []) if p["in"] == "query"):
        if draw(st.booleans()):
            query[name] = str(draw(hostile_value))
    body, content_type = None, None
    if method != "GET":
        body = valid_bodies()[(method, path)]
        if draw(st.integers(0, 9)) == 0:
            body = draw(hostile_value)  # the whole body
        else:
            positions = list(_leaves(body))[1:] or [()]
            for position in draw(st.lists(st.sampled_from(positions), max_size=3)):
                body = _replace(body, position, draw(hostile_value))
            if isinstance(body, dict) and draw(st.booleans()):
                body = {**body, draw(st.sampled_from(HOSTILE_TEXT)): draw(hostile_value)}
        content_type = "application/json"
        if "import/" in path or (isinstance(body, dict) and draw(st.integers(0, 4)) == 0):
            content_type = "multipart/form-data" if "import/" in path else "application/x-www-form-urlencoded"
    role = draw(st.sampled_from(ROLES))
    return url, query, body, content_type, role


def _send(client, method, url, query, body, content_type, role):
    headers = {"HTTP_AUTHORIZATION": f"Token {TOKENS[role]}"}
    url = url + ("?" + urlencode(query) if query else "")
    if method == "GET":
        return client.get(url, **headers)
    if content_type == "application/json":
        text = json.dumps(body, ensure_ascii=False).replace(json.dumps(DEEP), "[" * 5000 + "]" * 5000)
        return client.generic(method, url, text.encode("utf-8"), content_type, **headers)
    fields = body if isinstance(body, dict) else {"value": body}
    fields = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
    if content_type == "multipart/form-data":
        upload = SimpleUploadedFile("roster.csv", fields.pop("file", "").encode("utf-8"), "text/csv")
        return client.generic(method, url, encode_multipart(BOUNDARY, {**fields, "file": upload}),
                              MULTIPART_CONTENT, **headers)  # fmt: skip
    return client.generic(method, url, urlencode(fields), content_type, **headers)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_operation_answers_hostile_input_with_a_5xx(live, method, path):
    client = Client(SERVER_NAME="localhost")  # raises what a view raises: a 500 fails here with its traceback

    @hypothesis.settings(
        max_examples=HOSTILE_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(request=hostile_request(method, path))
    def check(request):
        with transaction.atomic():
            response = _send(client, method, *request)
            assert response.status_code < 500, (request[:2], response.status_code, response.content[:300])
            transaction.set_rollback(True)

    check()
