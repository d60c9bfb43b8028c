"""The fixed cast of test users (healthchecks style) and shared fixtures.

Regions are the real 102 (1 + 11 + 90) of the project's CSV. The cast: province staff and auditor (浙江省),
Hangzhou city staff, Xihu county staff (杭州市西湖区), Yuhang county staff (another county of the same
city), Ningbo city staff and Yinzhou county staff (another city), and the officer of a Xihu union.
"""

import os
from dataclasses import dataclass

import pytest
from django.db import connection
from django.utils import translation
from rest_framework.test import APIClient

from members.choices import Role
from members.models import Region, Union, User
from members.services import regions_load

from .factories import UnionFactory


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


@pytest.fixture
def regions(db):
    if Region.objects.count() != 102:  # 1 province + 11 cities + 90 counties
        regions_load()


def make_user(username: str, role: str, *, region: str | None = None, union: Union | None = None) -> User:
    user = User(username=username, role=role, region_id=region, union=union)
    user.set_password("Test-pass-2026")
    user.save()
    return user


@dataclass
class Cast:
    province: User
    auditor: User
    hangzhou: User
    xihu: User
    yuhang: User
    ningbo: User
    yinzhou: User
    officer: User
    city_auditor: User
    union_xihu: Union
    union_xihu_other: Union
    union_yuhang: Union
    union_yinzhou: Union

    def users(self) -> dict[str, User]:
        return {
            "province": self.province,
            "auditor": self.auditor,
            "hangzhou": self.hangzhou,
            "xihu": self.xihu,
            "yuhang": self.yuhang,
            "ningbo": self.ningbo,
            "yinzhou": self.yinzhou,
            "officer": self.officer,
            "city_auditor": self.city_auditor,
        }


@pytest.fixture
def cast(regions) -> Cast:
    return build_cast()


def build_cast() -> Cast:
    """The cast itself (the regions must be loaded); also used by fixtures of wider scope."""
    union_xihu = UnionFactory(name="西溪街道新就业形态联合工会", county_id="330106")
    union_xihu_other = UnionFactory(name="西湖区快递行业工会联合会", county_id="330106")
    union_yuhang = UnionFactory(name="余杭区外卖配送员工会联合会", county_id="330110")
    union_yinzhou = UnionFactory(name="鄞州区快递物流行业工会联合会", county_id="330212")
    return Cast(
        province=make_user("t_province", Role.PROVINCE_STAFF, region="330000"),
        auditor=make_user("t_auditor", Role.AUDITOR, region="330000"),
        hangzhou=make_user("t_hangzhou", Role.CITY_STAFF, region="330100"),
        xihu=make_user("t_xihu", Role.COUNTY_STAFF, region="330106"),
        yuhang=make_user("t_yuhang", Role.COUNTY_STAFF, region="330110"),
        ningbo=make_user("t_ningbo", Role.CITY_STAFF, region="330200"),
        yinzhou=make_user("t_yinzhou", Role.COUNTY_STAFF, region="330212"),
        officer=make_user("t_officer", Role.UNION_OFFICER, union=union_xihu),
        city_auditor=make_user("t_city_auditor", Role.AUDITOR, region="330100"),
        union_xihu=union_xihu,
        union_xihu_other=union_xihu_other,
        union_yuhang=union_yuhang,
        union_yinzhou=union_yinzhou,
    )


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
