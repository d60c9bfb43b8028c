"""The client's address behind a reverse proxy: ``X-Forwarded-For`` is believed only
from a trusted proxy, read from the right; the audit trail and the login lockout use the result."""

import ipaddress
import os
import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.test import RequestFactory

from unionfunds.core.clientip import client_address
from unionfunds.core.models import AuditEvent

PROXY = "10.0.0.5"
CLIENT = "203.0.113.7"
FORGED = "198.51.100.66"


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network(PROXY), ipaddress.ip_network("10.1.0.0/16")]
    return settings


def address(remote: str, forwarded: str | None = None) -> str | None:
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **meta))


# ---------------------------------------------------------------- the rule


def test_without_trusted_proxies_a_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert address(CLIENT, FORGED) == CLIENT
    assert address(PROXY, CLIENT) == PROXY


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored(behind_proxy):
    assert address(CLIENT, f"{FORGED}, 10.1.2.3") == CLIENT


def test_from_the_trusted_proxy_the_right_most_address_is_the_client(behind_proxy):
    assert address(PROXY, CLIENT) == CLIENT
    # The client wrote the left part itself; the proxy appended the address it really saw.
    assert address(PROXY, f"{FORGED}, {CLIENT}") == CLIENT


def test_a_chain_of_trusted_proxies_is_skipped_to_the_client(behind_proxy):
    assert address(PROXY, f"{FORGED}, {CLIENT}, 10.1.2.3, 10.1.9.9") == CLIENT


def test_a_client_claiming_to_be_a_trusted_proxy_gains_nothing(behind_proxy):
    # The client sends "10.1.2.3" itself; the proxy appends the real address, which stops the walk.
    assert address(PROXY, f"10.1.2.3, {CLIENT}") == CLIENT


def test_a_garbage_hop_stops_the_walk_at_the_last_trusted_address(behind_proxy):
    assert address(PROXY, "not-an-address") == PROXY
    assert address(PROXY, f"{FORGED}, junk, 10.1.2.3") == "10.1.2.3"


def test_a_missing_or_empty_header_from_the_proxy_is_the_proxy(behind_proxy):
    assert address(PROXY) == PROXY
    assert address(PROXY, " , ") == PROXY


def test_ipv6_and_ipv4_mapped_addresses(settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("fd00::/8")]
    assert address("fd00::1", "2001:db8::7") == "2001:db8::7"
    assert address("::ffff:203.0.113.7") == CLIENT
    assert address("") is None


# ---------------------------------------------------------------- configuration


@pytest.mark.parametrize("value", ["banana", "10.0.0.5/24", "10.0.0.0/33", "10.0.0.5;10.0.0.6"])
def test_a_bad_trusted_proxies_value_stops_start_up_naming_it(value):
    env = {**os.environ, "TRUSTED_PROXIES": value, "DEBUG": "1"}
    result = subprocess.run(
        [sys.executable, "-c", "import unionfunds.settings"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr and repr(value.split(",")[0]) in result.stderr


# ---------------------------------------------------------------- who uses it


def test_the_audit_trail_records_the_client_behind_the_proxy(client, cast, behind_proxy):
    client.force_login(cast.xihu)
    client.post(
        f"/unions/{cast.union_xihu.pk}/suspend/",
        {"comment": "暂停"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=f"{FORGED}, {CLIENT}",
    )
    assert AuditEvent.objects.get(action="union.suspend").ip == CLIENT


def test_the_audit_trail_ignores_a_forged_header_without_a_proxy(client, cast, settings):
    settings.TRUSTED_PROXIES = []
    client.force_login(cast.xihu)
    client.post(
        f"/unions/{cast.union_xihu.pk}/suspend/", {"comment": "暂停"}, REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR=FORGED
    )
    assert AuditEvent.objects.get(action="union.suspend").ip == CLIENT


def fail_login(client, username: str, source: str) -> None:
    client.post(
        "/accounts/login/",
        {"username": username, "password": "wrong-pass-2026"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=source,
    )


def test_the_login_lockout_counts_per_client_behind_the_proxy(client, cast, behind_proxy):
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        fail_login(client, cast.xihu.username, CLIENT)
    attempt = AccessAttempt.objects.get(username=cast.xihu.username)
    assert (attempt.ip_address, attempt.failures_since_start) == (CLIENT, django_settings.AXES_FAILURE_LIMIT)
    # The locked-out address cannot log in even with the right password ...
    locked = client.post(
        "/accounts/login/",
        {"username": cast.xihu.username, "password": "Test-pass-2026"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=CLIENT,
    )
    assert "_auth_user_id" not in client.session and locked.status_code != 302
    # ... while a colleague behind the same proxy (another address) still can: the proxy is not locked.
    ok = client.post(
        "/accounts/login/",
        {"username": cast.xihu.username, "password": "Test-pass-2026"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="203.0.113.8",
    )
    assert ok.status_code == 302 and client.session["_auth_user_id"] == str(cast.xihu.pk)


def test_a_forged_header_cannot_dodge_the_lockout_without_a_trusted_proxy(client, cast, settings):
    settings.TRUSTED_PROXIES = []
    for n in range(django_settings.AXES_FAILURE_LIMIT):
        client.post(
            "/accounts/login/",
            {"username": cast.xihu.username, "password": "wrong-pass-2026"},
            REMOTE_ADDR=CLIENT,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",  # a new "address" every time
        )
    attempt = AccessAttempt.objects.get(username=cast.xihu.username)
    assert (attempt.ip_address, attempt.failures_since_start) == (CLIENT, django_settings.AXES_FAILURE_LIMIT)
