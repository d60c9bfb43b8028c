"""The fixed cast of test users (healthchecks style) and shared fixtures.

Regions are the real 102 (1 + 11 + 90) of the project's CSV. The cast: province staff and auditor (浙江省),
Hangzhou city staff, Xihu county staff (杭州市西湖区), Yuhang county staff (another county of the same
city), Ningbo city staff and Yinzhou county staff (another city), and the officer of a Xihu union.
"""

import datetime as dt
import os

import pytest
from django.db import connection, transaction
from django.utils import translation
from rest_framework.test import APIClient

from evaluation import services as evaluation_services
from evaluation.models import EvaluationRound
from grants.models import Program
from members.models import Region
from members.services import regions_load
from unionfunds.core import clock

from .factories import Cast, add_members, build_cast, make_program


def pytest_collection_modifyitems(config, items):
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))
    has_redis = bool(os.environ.get("REDIS_URL"))
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL"))
        if "redis" in item.keywords and not has_redis:
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL"))


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request activates the language it chose for the whole
    thread (ChosenLanguageMiddleware), and refusals are built in the active language."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """The production hasher costs ~0.3 s a password; tests set many."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def _region_rows(django_db_setup, django_db_blocker) -> list[dict]:
    """The regions as ``regions_load`` writes them, read once in a transaction that is rolled back."""
    with django_db_blocker.unblock(), transaction.atomic():
        regions_load()
        rows = list(
            Region.objects.order_by("level", "code").values("code", "name", "level", "parent_id", "federation_name")
        )
        transaction.set_rollback(True)
    return sorted(rows, key=lambda r: ({"province": 0, "city": 1, "county": 2}[r["level"]], r["code"]))


@pytest.fixture
def regions(db, _region_rows):
    """The real 102 regions, read once per session and written in one INSERT per test that needs them."""
    if not Region.objects.exists():
        Region.objects.bulk_create(Region(**row) for row in _region_rows)


@pytest.fixture
def cast(regions) -> Cast:
    return build_cast()


@pytest.fixture
def api():
    """An APIClient; ``api.as_user(user)`` authenticates it (force, so axes is not involved)."""
    client = APIClient()

    def as_user(user):
        client.force_authenticate(user=user)
        return client

    client.as_user = as_user
    return client


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def program(cast) -> Program:
    """The provincial program of this year (2022 figures, window open today), created by the cast's
    province staff."""
    return make_program(cast.province, name="新业态基层工会专项经费（测试）")


@pytest.fixture
def program_2022(cast) -> Program:
    """The 2022 provincial program as the seed describes it, entered on its own dates (clock.travel):
    window 2022-07-01 to 2022-09-30, quotas for Hangzhou (40) and Ningbo (35)."""
    with clock.travel(dt.datetime(2022, 6, 20, 9)):
        return make_program(
            cast.province,
            name="2022年度新业态基层工会专项经费",
            year=2022,
            opens_on=dt.date(2022, 7, 1),
            closes_on=dt.date(2022, 9, 30),
            city_quotas={"330100": 40, "330200": 35},
        )


@pytest.fixture
def stocked(cast):
    """The cast's four unions with 150 active members each, so they pass every rule."""
    for union in (cast.union_xihu, cast.union_xihu_other, cast.union_yuhang, cast.union_yinzhou):
        add_members(union, 150)
    return cast


@pytest.fixture
def bare_round(cast, program) -> EvaluationRound:
    """A round of the cast's program with nothing recorded yet (cheap: for rules that need no figures)."""
    return evaluation_services.round_create(program=program, by=cast.province)
