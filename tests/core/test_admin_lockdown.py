"""The Django admin is a read-only window: nothing registered in it can be added, changed or deleted, not even
by a superuser, and no secret (an API token's key) is shown on any of its pages.

The tests walk ``admin.site._registry`` rather than a list of models, so an admin that a library brings
along later (two-factor devices, OAuth applications and tokens, …) is covered the day it is installed.
"""

import pytest
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import Token, TokenProxy

from members.models import User
from tests.factories import MemberFactory, lockout
from unionfunds.core.adminsite import ReadOnlyAdminSite
from unionfunds.core.models import AuditEvent

OPS_PASSWORD = "Ops-pass-2026!"


@pytest.fixture
def stocked_admin(cast):
    """A superuser and at least one object of every kind the admin could list, secrets included."""
    operator = User.objects.create_superuser("ops", password=OPS_PASSWORD)
    token = Token.objects.create(user=cast.auditor)
    MemberFactory(union=cast.union_xihu)
    lockout(cast.officer.username)
    Group.objects.create(name="everyone")
    AuditEvent.objects.create(actor_username="t_xihu", action="union.verify", object_type="members.union")
    return operator, token


def _counts() -> dict:
    return {model: model._default_manager.count() for model in admin.site._registry} | {
        Token: Token.objects.count(),
        AccessAttempt: AccessAttempt.objects.count(),
        Group: Group.objects.count(),
    }


def _url(model, view: str, *args) -> str | None:
    try:
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)
    except NoReverseMatch:
        return None


def test_the_registry_is_not_empty_and_holds_the_operators_models():
    labels = {model._meta.label for model in admin.site._registry}
    assert {"members.Member", "members.Union", "members.User", "core.AuditEvent"} <= labels


def test_no_registered_admin_grants_add_change_delete_or_actions_to_a_superuser(stocked_admin):
    operator, _token = stocked_admin
    request = RequestFactory().get("/admin/")
    request.user = operator
    for model, model_admin in admin.site._registry.items():
        obj = model_admin.get_queryset(request).first()
        assert not model_admin.has_add_permission(request), model
        assert not model_admin.has_change_permission(request), model
        assert not model_admin.has_change_permission(request, obj), model
        assert not model_admin.has_delete_permission(request), model
        assert not model_admin.has_delete_permission(request, obj), model
        assert not model_admin.get_actions(request), model  # a bulk action is a write without a change form
        perms = model_admin.get_model_perms(request)
        assert not (perms["add"] or perms["change"] or perms["delete"]), model


def test_every_admin_page_refuses_writes_and_never_shows_a_token_key(client, stocked_admin):
    operator, token = stocked_admin
    client.force_login(operator)
    before = _counts()
    request = RequestFactory().get("/admin/")
    request.user = operator
    pages = ["/admin/"]
    for model, model_admin in admin.site._registry.items():
        changelist = _url(model, "changelist")
        pages.append(changelist)
        for query in (token.key, token.key[:8]):  # a search that finds something by the key is an oracle
            response = client.get(changelist, {"q": query})
            assert response.status_code == 200, model
            assert response.context["cl"].result_count == 0, (model, query)
            body = response.content.decode().replace(f'value="{query}"', "").replace(f"q={query}", "")
            assert query not in body, (model, query)
        add = _url(model, "add")
        assert client.get(add).status_code == 403, model
        assert client.post(add, {}).status_code == 403, model
        obj = model_admin.get_queryset(request).first()
        if obj is None:
            continue
        change = _url(model, "change", obj.pk)
        pages.append(change)
        assert client.post(change, {}).status_code == 403, model
        assert client.post(_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403, model
        response = client.post(changelist, {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"})
        assert response.status_code in (200, 302, 403), model
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert token.key not in body and token.key[:10] not in body, url
    assert _counts() == before
    assert Token.objects.filter(key=token.key).exists()


def test_a_writable_admin_registered_later_is_dropped_or_made_read_only(cast):
    """What a library's ``admin.py`` does (DRF registers a writable token admin that lists the keys), on a
    site of the project's class: a model of another app is not registered at all; a model of the project's
    own apps registered with a writable ``ModelAdmin`` comes out read-only."""
    site = ReadOnlyAdminSite(name="probe")
    site.register(TokenProxy, TokenAdmin)
    site.register(Group)
    assert not site.is_registered(TokenProxy) and not site.is_registered(Group)

    class Writable(admin.ModelAdmin):
        actions = ["bulk_touch"]

        def has_add_permission(self, request):
            return True

        @admin.action(description="touch")
        def bulk_touch(self, modeladmin, request, queryset):
            raise AssertionError("never reached")

    site.register(AuditEvent, Writable)
    request = RequestFactory().get("/")
    request.user = User.objects.create_superuser("ops2", password=OPS_PASSWORD)
    model_admin = site.get_model_admin(AuditEvent)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request) and not model_admin.has_delete_permission(request)
    assert not model_admin.get_actions(request)


def test_the_admin_password_form_is_the_sites_own_page(client, stocked_admin):
    """The admin's own password form would save the password past the service (no audit, API tokens kept)."""
    operator, _token = stocked_admin
    client.force_login(operator)
    response = client.post(
        "/admin/password_change/",
        {"old_password": OPS_PASSWORD, "new_password1": "Qz7!elsewhere", "new_password2": "Qz7!elsewhere"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("password-change")
    operator.refresh_from_db()
    assert operator.check_password(OPS_PASSWORD)
