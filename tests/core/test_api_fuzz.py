"""Property-based fuzzing of the whole REST API against its own OpenAPI schema (issue 7, item 4).

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
import os
from unittest import mock

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import override_settings
from rest_framework.authtoken.models import Token

from evaluation import reports
from evaluation import services as evaluation_services
from evaluation.models import EvaluationRound, ReportJob, SelfAssessment, SpotCheck
from grants.choices import ApplicationStatus
from grants.models import Allocation, Application, Program
from members.choices import Role
from members.models import Member, Union
from members.services import regions_load
from tests.conftest import make_user
from tests.evaluation.conftest import allocate, answers
from tests.factories import MemberFactory
from tests.grants.conftest import eligible_union, make_application, make_program, staff
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

# Real objects per path parameter, filled by the ``world`` fixture.
REAL: dict[str, list] = {}


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
        yield {"Authorization": f"Token {token.key}"}
        transaction.set_rollback(True)
    REAL.clear()


def seed():
    regions_load()
    province = make_user("fuzz_province", Role.PROVINCE_STAFF, region="330000")
    program = make_program(province, name="新业态基层工会专项经费（接口测试）")
    union = eligible_union("330106")
    MemberFactory(union=union)
    allocate(program, union, "60000.00", "45000.00")
    allocate(program, eligible_union("330212"), "30000.00")
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

    REAL.update(
        {
            "/api/v1/allocations/{id}": list(Allocation.objects.values_list("pk", flat=True)),
            "/api/v1/applications/{id}": list(Application.objects.values_list("pk", flat=True)),
            "/api/v1/evaluation-rounds/{id}": [round_.pk],
            "/api/v1/programs/{id}": list(Program.objects.values_list("pk", flat=True)),
            "/api/v1/regions/{code}": ["330000", "330100", "330106"],
            "/api/v1/reports/{id}": list(ReportJob.objects.values_list("pk", flat=True)),
            "/api/v1/self-assessments/{id}": list(SelfAssessment.objects.values_list("pk", flat=True)[:5]),
            "/api/v1/spot-checks/{id}": list(SpotCheck.objects.values_list("pk", flat=True)),
            "/api/v1/unions/{id}": list(Union.objects.values_list("pk", flat=True)[:5]),
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
