"""Rotating SECRET_KEY (docs/operations.md): with the old key in SECRET_KEY_FALLBACKS signed-in users stay
signed in; without it every session ends. ID_HASH_KEY is not rotated (members are found by its HMAC)."""

import pytest

OLD, NEW = "old-key-" + "x" * 50, "new-key-" + "y" * 50


@pytest.fixture
def signed_in(client, cast, settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD, []
    client.force_login(cast.province)
    assert client.get("/audit/").status_code == 200
    return client


def test_with_the_old_key_as_fallback_sessions_survive_the_rotation(signed_in, settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, [OLD]
    assert signed_in.get("/audit/").status_code == 200


def test_without_a_fallback_every_session_ends(signed_in, settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, []
    response = signed_in.get("/audit/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
