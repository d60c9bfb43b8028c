"""Programs and applications for the grants tests, built through the services as a user would.

``make_program`` builds a program like the 2022 provincial one (15,000,000.00 = fiscal 6,000,000.00 +
union 9,000,000.00, 250 unions, at most 60,000.00 each) with an application window around today, so
the rules of today apply; pass ``year=2022`` and the real 2022 window to get the historical one.
``make_application`` drafts an application and walks it along the chain with the right actors.
"""

import datetime as dt
import itertools

import pytest
from django.db import transaction

from grants import services
from grants.choices import ApplicationStatus
from grants.models import Application, Program
from members.choices import Role, WorkerGroup
from members.models import Member, Region, Union, User
from members.services import regions_load
from tests.conftest import make_user
from tests.factories import UnionFactory
from unionfunds.core import clock

PROVINCE = "330000"


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
    """Same regions as the root fixture, written in one INSERT (the grants tests need many fresh ones)."""
    if not Region.objects.exists():
        Region.objects.bulk_create(Region(**row) for row in _region_rows)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


_serial = itertools.count(1)


def add_members(union: Union, count: int, **fields) -> list[Member]:
    """``count`` active members in one INSERT. Only counts matter to the grants rules, so the ID number
    hash is a unique stand-in instead of a real keyed hash (MemberFactory builds real ones, slowly)."""
    values = {
        "gender": "F",
        "group": WorkerGroup.FOOD_DELIVERY,
        "platform": "美团",
        "joined_on": dt.date(2024, 1, 15),
        "id_number_masked": "330106********002X",
        **fields,
    }
    members = []
    for _ in range(count):
        n = next(_serial)
        members.append(Member(union=union, name=f"会员{n}", id_number_hash=f"grants-test-{n:08d}", **values))
    created = Member.objects.bulk_create(members)
    Union.objects.filter(pk=union.pk).refresh_member_counts()  # as the members services do
    return created


def eligible_union(county: str = "330106", *, members: int = 150, **fields) -> Union:
    """A union that passes all seven rules of a provincial program with default parameters."""
    union = UnionFactory(county_id=county, **fields)
    add_members(union, members)
    return union


def staff(region_code: str) -> User:
    """The (one) staff account of a region, created on first use: county or city staff by level."""
    region = Region.objects.get(code=region_code)
    role = {"province": Role.PROVINCE_STAFF, "city": Role.CITY_STAFF, "county": Role.COUNTY_STAFF}[region.level]
    user = User.objects.filter(role=role, region_id=region_code).order_by("id").first()
    return user or make_user(f"staff_{region_code}", role, region=region_code)


def program_data(**overrides) -> dict:
    today = clock.today()
    data = {
        "name": "新业态基层工会专项经费",
        "year": today.year,
        "owner": PROVINCE,
        "budget_total": "15000000.00",
        "funding_sources": [
            {"source": "fiscal", "amount": "6000000.00"},
            {"source": "union", "amount": "9000000.00"},
        ],
        "target_count": 250,
        "max_grant": "60000.00",
        "city_quotas": {},
        "opens_on": today - dt.timedelta(days=30),
        "closes_on": today + dt.timedelta(days=60),
        "categories": ["activities", "skills", "mutual_aid", "labor_protection"],
    }
    data.update(overrides)
    return data


def make_program(by: User | None = None, **overrides) -> Program:
    """A program created through ``program_create`` by ``by`` (default: the province's staff)."""
    data = program_data(**overrides)
    by = by or staff(str(data["owner"]))
    return services.program_create(data=data, by=by)


def make_application(
    program: Program,
    union: Union,
    *,
    until: str = ApplicationStatus.DRAFT,
    requested: str = "60000.00",
    approved: str | None = None,
    lines: list[dict] | None = None,
) -> Application:
    """Draft (by the union's county staff) and walk along the chain of the program's owner level up to
    ``until``: submit and recommend by the county, review by the city (provincial and city programs),
    approve / reject by the owner's staff."""
    county_staff = staff(union.county_id)
    if lines is None:
        lines = [{"category": "activities", "amount": requested, "description": "节日慰问"}]
    application = services.application_create(
        data={"program": program.pk, "union": union.pk, "requested_amount": requested, "budget_lines": lines},
        by=county_staff,
    )
    steps = [("submit", county_staff), ("recommend", county_staff)]
    if program.owner.level != "county":
        steps.append(("review", staff(union.county.parent_id)))
    for action, by in steps:
        if application.status == until:
            return application
        application = services.application_transition(application=application, action=action, by=by)
    decider = staff(program.owner_id)
    if until == ApplicationStatus.APPROVED:
        application = services.application_transition(
            application=application, action="approve", by=decider, approved_amount=approved or requested
        )
    elif until == ApplicationStatus.REJECTED:
        application = services.application_transition(
            application=application, action="reject", by=decider, comment="本年度名额有限。"
        )
    assert application.status == until
    return application


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
