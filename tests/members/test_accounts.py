"""Accounts the pages hand out: the county opens its union's officer account with an initial
password, the officer changes it. Service and pages, every role of the cast, in and out of scope."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from members import services
from members.choices import Role, UnionStatus
from members.models import User
from unionfunds.core.errors import ApplicationError
from unionfunds.core.models import AuditEvent

pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")

PASSWORD = "Chushi-mima-0701"


def test_the_county_opens_an_officer_account_for_its_union(cast):
    account = services.union_account_open(union=cast.union_xihu, username="xixi_union", password=PASSWORD, by=cast.xihu)
    assert (account.role, account.union, account.region) == (Role.UNION_OFFICER, cast.union_xihu, None)
    assert account.check_password(PASSWORD)
    event = AuditEvent.objects.get(action="user.create")
    assert (event.actor_username, event.object_id) == ("t_xihu", str(account.pk))
    assert PASSWORD not in str(event.after)


@pytest.mark.parametrize("role", ["province", "auditor", "hangzhou", "officer", "city_auditor"])
def test_only_county_staff_open_accounts(cast, role):
    with pytest.raises(PermissionDenied):
        services.union_account_open(
            union=cast.union_xihu, username="xixi_union", password=PASSWORD, by=cast.users()[role]
        )
    assert not User.objects.filter(username="xixi_union").exists()


def test_a_union_of_another_county_is_out_of_scope(cast):
    with pytest.raises(Http404):
        services.union_account_open(union=cast.union_yuhang, username="yh_union", password=PASSWORD, by=cast.xihu)
    assert not User.objects.filter(username="yh_union").exists()


def test_a_dissolved_union_gets_no_account(cast):
    cast.union_xihu.status = UnionStatus.DISSOLVED
    cast.union_xihu.save()
    with pytest.raises(ApplicationError, match="已撤销") as refused:
        services.union_account_open(union=cast.union_xihu, username="xixi_union", password=PASSWORD, by=cast.xihu)
    assert refused.value.code == "union_dissolved"


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [
        ("xixi_union", "short1A!", "password"),  # too short
        ("xixi_union", "xixi_union_2026", "password"),  # like the username, two character classes
        ("t_officer", PASSWORD, "username"),  # taken
        ("西溪 工会", PASSWORD, "username"),  # spaces are not allowed in usernames
    ],
)
def test_bad_accounts_are_refused_by_field(cast, username, password, field):
    before = User.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.union_account_open(union=cast.union_xihu, username=username, password=password, by=cast.xihu)
    assert field in refused.value.message_dict
    assert User.objects.count() == before


def test_the_union_page_lists_accounts_and_offers_the_form_to_the_county(client, cast):
    client.force_login(cast.xihu)
    page = client.get(reverse("union-detail", args=[cast.union_xihu.pk])).content.decode()
    assert "t_officer" in page and reverse("union-account-create", args=[cast.union_xihu.pk]) in page

    response = client.post(
        reverse("union-account-create", args=[cast.union_xihu.pk]),
        {"username": "xixi_union", "password": PASSWORD, "password_confirm": PASSWORD},
    )
    assert response.status_code == 302
    assert User.objects.get(username="xixi_union").union == cast.union_xihu


def test_the_form_says_what_is_wrong_and_keeps_nothing(client, cast):
    client.force_login(cast.xihu)
    url = reverse("union-account-create", args=[cast.union_xihu.pk])
    mismatch = client.post(url, {"username": "xixi_union", "password": PASSWORD, "password_confirm": PASSWORD + "x"})
    assert mismatch.status_code == 200
    assert "两次输入的密码不一致" in mismatch.content.decode()
    weak = client.post(url, {"username": "xixi_union", "password": "12345678", "password_confirm": "12345678"})
    assert weak.status_code == 200
    assert "密码太短，至少需要 10 个字符" in weak.content.decode()  # in Chinese (Django 5.2 says it in English)
    assert not User.objects.filter(username="xixi_union").exists()


@pytest.mark.parametrize("role", ["province", "hangzhou", "officer", "auditor"])
def test_other_roles_see_no_form_and_are_sent_back(client, cast, role):
    client.force_login(cast.users()[role])
    url = reverse("union-account-create", args=[cast.union_xihu.pk])
    page = client.get(reverse("union-detail", args=[cast.union_xihu.pk])).content.decode()
    assert url not in page
    response = client.post(url, {"username": "x_union", "password": PASSWORD, "password_confirm": PASSWORD})
    assert response.status_code == 302
    assert not User.objects.filter(username="x_union").exists()


def test_out_of_scope_union_is_404_on_the_page(client, cast):
    client.force_login(cast.yinzhou)
    assert client.get(reverse("union-account-create", args=[cast.union_xihu.pk])).status_code == 404


def test_the_officer_changes_the_initial_password(client, cast):
    client.force_login(cast.officer)
    url = reverse("password-change")
    wrong_old = client.post(
        url, {"old_password": "nope", "new_password1": "Gonghui-2026!xx", "new_password2": "Gonghui-2026!xx"}
    )
    assert wrong_old.status_code == 200
    cast.officer.refresh_from_db()
    assert cast.officer.check_password("Test-pass-2026")

    done = client.post(
        url,
        {"old_password": "Test-pass-2026", "new_password1": "Gonghui-2026!xx", "new_password2": "Gonghui-2026!xx"},
    )
    assert done.status_code == 302
    cast.officer.refresh_from_db()
    assert cast.officer.check_password("Gonghui-2026!xx")
    assert client.get(reverse("home")).status_code == 200  # still logged in on this device
    assert AuditEvent.objects.filter(action="user.password_change", actor_username="t_officer").count() == 1


def test_nobody_sets_someone_elses_password(cast):
    with pytest.raises(PermissionDenied):
        services.password_change(user=cast.officer, password="Gonghui-2026!xx", by=cast.xihu)
