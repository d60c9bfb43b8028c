"""Management commands of the REST contract in README: load_regions, add_user, seed_demo."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from members import demo as seed_demo
from members import services
from members.choices import RegionLevel, Role, UnionStatus
from members.models import Member, Region, Union, User
from tests.otp_helpers import code_at, step_now
from unionfunds.core import otp
from unionfunds.core.models import AuditEvent

from ..factories import UnionFactory

GOOD_PASSWORD = "Qiantang-river-2026"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# ---------------------------------------------------------------- load_regions


def shipped_region_count() -> int:
    with open(services.REGIONS_CSV, encoding="utf-8-sig", newline="") as handle:
        return len(list(csv.DictReader(handle)))


@pytest.mark.django_db
def test_load_regions_loads_every_shipped_region_once():
    # docs/rules.md §2: the province, its 11 cities and 90 counties (an earlier text said "the 103 regions"; the
    # shipped GB/T 2260 list has 1 + 11 + 90 = 102 rows).
    assert Region.objects.count() == 0
    total = shipped_region_count()
    assert total == 1 + 11 + 90
    assert f"{total} created, 0 updated" in run("load_regions")
    assert Region.objects.count() == total
    assert Region.objects.filter(level=RegionLevel.PROVINCE).count() == 1
    assert Region.objects.filter(level=RegionLevel.CITY).count() == 11
    assert Region.objects.filter(level=RegionLevel.COUNTY).count() == 90
    assert Region.objects.get(code="330000").federation_name == "浙江省总工会"
    assert Region.objects.get(code="330106").federation_name == "杭州市西湖区总工会"
    assert Region.objects.get(code="330106").parent_id == "330100"
    assert Region.objects.get(code="331023").federation_name == "天台县总工会"
    before = list(Region.objects.values())
    events = AuditEvent.objects.count()

    assert "0 created, 0 updated" in run("load_regions")
    assert list(Region.objects.values()) == before
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_load_regions_repairs_a_changed_region():
    run("load_regions")
    Region.objects.filter(code="330106").update(name="西湖", federation_name="x")
    assert "0 created, 1 updated" in run("load_regions")
    region = Region.objects.get(code="330106")
    assert (region.name, region.federation_name) == ("西湖区", "杭州市西湖区总工会")


# ---------------------------------------------------------------- add_user


@pytest.mark.parametrize(
    ("role", "region", "home"),
    [
        (Role.PROVINCE_STAFF, "330000", "浙江省总工会"),
        (Role.CITY_STAFF, "330100", "杭州市总工会"),
        (Role.COUNTY_STAFF, "330106", "杭州市西湖区总工会"),
        (Role.AUDITOR, "330000", "浙江省总工会"),
        (Role.AUDITOR, "330200", "宁波市总工会"),
        (Role.AUDITOR, "330212", "宁波市鄞州区总工会"),
    ],
)
def test_add_user_for_each_regional_role(regions, role, region, home):
    out = run("add_user", "newbie", "--role", role, "--region", region, "--password", GOOD_PASSWORD)
    user = User.objects.get(username="newbie")
    assert (user.role, user.region_id, user.union_id) == (role, region, None)
    assert user.check_password(GOOD_PASSWORD)
    assert "newbie" in out and home in out
    event = AuditEvent.objects.get(action="user.create")
    assert event.after == {"role": role, "home": region}
    assert GOOD_PASSWORD not in str(event.after)


def test_add_user_union_officer(regions):
    union = UnionFactory(name="西溪街道新就业形态联合工会")
    out = run("add_user", "officer1", "--role", "union_officer", "--union", str(union.pk), "--password", GOOD_PASSWORD)
    user = User.objects.get(username="officer1")
    assert (user.role, user.union_id, user.region_id) == (Role.UNION_OFFICER, union.pk, None)
    assert user.check_password(GOOD_PASSWORD)
    assert "西溪街道新就业形态联合工会" in out


@pytest.mark.parametrize(
    ("role", "region"),
    [
        (Role.COUNTY_STAFF, "330100"),  # a city code for county staff
        (Role.COUNTY_STAFF, "330000"),
        (Role.CITY_STAFF, "330106"),
        (Role.CITY_STAFF, "330000"),
        (Role.PROVINCE_STAFF, "330100"),
    ],
)
def test_add_user_refuses_a_region_of_the_wrong_level(regions, role, region):
    with pytest.raises(CommandError) as exc:
        run("add_user", "wrong", "--role", role, "--region", region, "--password", GOOD_PASSWORD)
    assert "region" in str(exc.value)
    assert role in str(exc.value)
    assert not User.objects.filter(username="wrong").exists()


@pytest.mark.parametrize("region", ["999999", "330199", "abc"])
def test_add_user_refuses_an_unknown_region(regions, region):
    with pytest.raises(CommandError) as exc:
        run("add_user", "lost", "--role", "county_staff", "--region", region, "--password", GOOD_PASSWORD)
    assert region in str(exc.value)
    assert "不存在" in str(exc.value)
    assert not User.objects.filter(username="lost").exists()


@pytest.mark.parametrize(
    "password",
    ["short1!", "password123", "12345678901", "weakling-2026"],  # too short, common, all digits, like the username
)
def test_add_user_refuses_a_weak_password(regions, password):
    with pytest.raises(CommandError) as exc:
        run("add_user", "weakling", "--role", "county_staff", "--region", "330106", "--password", password)
    assert str(exc.value).startswith("password:")
    assert not User.objects.filter(username="weakling").exists()


def test_add_user_union_officer_needs_a_union_not_a_region(regions):
    with pytest.raises(CommandError) as exc:
        run("add_user", "o", "--role", "union_officer", "--region", "330106", "--password", GOOD_PASSWORD)
    assert "union" in str(exc.value)
    assert not User.objects.filter(username="o").exists()


def test_add_user_regional_role_cannot_be_given_a_union(regions):
    union = UnionFactory()
    with pytest.raises(CommandError) as exc:
        run("add_user", "c", "--role", "county_staff", "--union", str(union.pk), "--password", GOOD_PASSWORD)
    assert "region" in str(exc.value)


def test_add_user_refuses_an_unknown_union(regions):
    with pytest.raises(CommandError) as exc:
        run("add_user", "o", "--role", "union_officer", "--union", "987654", "--password", GOOD_PASSWORD)
    assert "987654" in str(exc.value)


def test_add_user_refuses_an_existing_username(regions):
    run("add_user", "twice", "--role", "county_staff", "--region", "330106", "--password", GOOD_PASSWORD)
    with pytest.raises(CommandError) as exc:
        run("add_user", "twice", "--role", "city_staff", "--region", "330100", "--password", GOOD_PASSWORD)
    assert "twice" in str(exc.value)
    assert User.objects.get(username="twice").role == Role.COUNTY_STAFF


@pytest.mark.parametrize(
    "args",
    [
        ["x", "--role", "mayor", "--region", "330106", "--password", GOOD_PASSWORD],  # unknown role
        ["x", "--role", "county_staff", "--password", GOOD_PASSWORD],  # no home
        ["x", "--role", "county_staff", "--region", "330106", "--union", "1", "--password", GOOD_PASSWORD],
        ["x", "--role", "county_staff", "--region", "330106"],  # no password
    ],
)
def test_add_user_refuses_bad_arguments(regions, args):
    with pytest.raises(CommandError):
        run("add_user", *args)
    assert not User.objects.filter(username="x").exists()


# ---------------------------------------------------------------- seed_demo


def counts() -> dict:
    return {
        "regions": Region.objects.count(),
        "unions": Union.objects.count(),
        "members": Member.objects.count(),
        "users": User.objects.count(),
        "verified": Union.objects.filter(status=UnionStatus.VERIFIED).count(),
        "audit": AuditEvent.objects.count(),
    }


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_prints_the_demo_accounts():
    first_out = run("seed_demo")
    first = counts()
    assert first["regions"] == shipped_region_count()
    assert first["unions"] == len(seed_demo.UNIONS)
    assert first["members"] == sum(row[5] for row in seed_demo.UNIONS)
    assert first["verified"] == sum(1 for row in seed_demo.UNIONS if row[7])
    usernames = (
        {username for username, _role, _region in seed_demo.ACCOUNTS}
        | set(seed_demo.CITY_ACCOUNTS.values())
        | set(seed_demo.COUNTY_ACCOUNTS.values())
    )
    assert set(User.objects.values_list("username", flat=True)) == usernames

    second_out = run("seed_demo")
    assert counts() == first

    for out in (first_out, second_out):
        assert seed_demo.DEMO_PASSWORD in out
        for username, role, _region in seed_demo.ACCOUNTS:
            assert username in out
            assert role in out
    # Each printed account logs in with the printed password.
    for username, role, _region in seed_demo.ACCOUNTS:
        user = User.objects.get(username=username)
        assert user.role == role
        assert user.check_password(seed_demo.DEMO_PASSWORD)
    # The accounts that must log in with two factors have an authenticator with the printed demo secret.
    for out in (first_out, second_out):
        assert seed_demo.DEMO_TOTP_SECRET in out
    for username in ("province", "auditor"):
        user = User.objects.get(username=username)
        assert user.two_factor_required and otp.has_device(user)
        assert otp.verify(user, code_at(seed_demo.DEMO_TOTP_SECRET, step_now())) is not None
    assert not otp.has_device(User.objects.get(username="xihu"))
    officer = User.objects.get(username="union_xixi")
    assert officer.union.name == seed_demo.UNIONS[0][1]
    sizes = dict(Union.objects.values_list("name", "member_count"))
    assert sizes == {row[1]: row[5] for row in seed_demo.UNIONS}
    # One active membership per person across the whole demo province.
    assert Member.objects.active().values("id_number_hash").distinct().count() == first["members"]


@pytest.mark.django_db
def test_there_is_one_province_per_installation(regions):
    """The province's scope is everything (members/scope.py) because the database holds one province."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Region.objects.create(code="320000", name="江苏省", level=RegionLevel.PROVINCE, federation_name="江苏省总工会")
    assert Region.objects.filter(level=RegionLevel.PROVINCE).count() == 1
