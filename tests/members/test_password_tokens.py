"""A new password ends the API tokens issued under the old one: a token that leaked with the old password
must not outlive the change. Every way a password of an existing account can be set goes through one
service (``members.services``) that revokes the tokens and writes the audit trail."""

import ast
from pathlib import Path
from unittest.mock import patch

import pytest
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from unionfunds.core.models import AuditEvent

OLD, NEW = "Test-pass-2026", "Gonghui-2026!xx"


def token_for(username: str, password: str) -> str:
    response = APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def reads_with(token: str) -> int:
    return APIClient().get("/api/v1/regions/", HTTP_AUTHORIZATION=f"Token {token}").status_code


def test_changing_ones_password_on_the_page_revokes_ones_api_token(client, cast):
    old_token = token_for(cast.hangzhou.username, OLD)
    other = token_for(cast.xihu.username, OLD)
    assert reads_with(old_token) == 200
    client.force_login(cast.hangzhou)
    response = client.post(
        reverse("password-change"), {"old_password": OLD, "new_password1": NEW, "new_password2": NEW}
    )
    assert response.status_code == 302
    assert reads_with(old_token) == 401
    assert reads_with(other) == 200  # someone else's token is not touched
    event = AuditEvent.objects.get(action="user.password_change")
    assert event.actor == cast.hangzhou and event.after == {"api_tokens_revoked": 1}
    assert old_token not in str(event.after)
    new_token = token_for(cast.hangzhou.username, NEW)
    assert new_token != old_token and reads_with(new_token) == 200


def test_the_operators_changepassword_command_revokes_the_token_and_is_audited(cast, capsys):
    old_token = token_for(cast.hangzhou.username, OLD)
    typed = iter(["short", "short", NEW, "different", NEW, NEW])  # too weak, then a typo, then right
    with patch("getpass.getpass", lambda prompt="": next(typed)):
        call_command("changepassword", cast.hangzhou.username)
    cast.hangzhou.refresh_from_db()
    assert cast.hangzhou.check_password(NEW)
    assert reads_with(old_token) == 401
    assert "至少需要 10 个字符" in capsys.readouterr().err
    event = AuditEvent.objects.get(action="user.password_reset")
    assert event.actor is None and event.actor_username == "system" and event.object_id == str(cast.hangzhou.pk)
    assert event.after == {"api_tokens_revoked": 1}


def test_the_changepassword_command_gives_up_after_three_tries(cast):
    with patch("getpass.getpass", lambda prompt="": "short"), pytest.raises(CommandError):
        call_command("changepassword", cast.hangzhou.username)
    cast.hangzhou.refresh_from_db()
    assert cast.hangzhou.check_password(OLD)
    with pytest.raises(CommandError):
        call_command("changepassword", "nobody-here")


# ---------------------------------------------------------------- no other way in


def test_changepassword_is_the_projects_command():
    assert get_commands()["changepassword"] == "members"


def _project_sources():
    root = Path(settings.BASE_DIR)
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).parts
        if parts[0] in (".venv", "tests", "var", "test-artifacts") or "migrations" in parts:
            continue
        yield path


def test_only_the_accounts_services_set_a_password():
    """``set_password`` appears in the services only: where a new account is made, and in the one helper
    that changes an existing account's password (and revokes its tokens)."""
    calls = set()
    for path in _project_sources():
        tree = ast.parse(path.read_text(), filename=str(path))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "set_password":
                    calls.add((str(path.relative_to(settings.BASE_DIR)), function.name))
    assert calls == {("members/services.py", "user_create"), ("members/services.py", "_password_set")}


def _views(resolver=None):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from _views(entry)
        elif isinstance(entry, URLPattern):
            yield getattr(entry.callback, "view_class", None) or entry.callback


def test_no_url_serves_djangos_own_password_forms():
    """Django's password views save the form themselves: past the service, the audit trail and the tokens."""
    own = (auth_views.PasswordChangeView, auth_views.PasswordResetConfirmView, auth_views.PasswordResetView)
    assert not [v for v in _views() if isinstance(v, type) and issubclass(v, own)]


def test_a_token_made_before_the_change_is_gone_from_the_table(cast):
    from members import services

    Token.objects.create(user=cast.officer)
    services.password_change(user=cast.officer, password=NEW, by=cast.officer)
    assert not Token.objects.filter(user=cast.officer).exists()
