"""``/healthz/`` for the load balancer and monitoring: 200 when the database and the queue answer, 503 with
the one that does not, no account needed, nothing more said."""

from unittest import mock

from kombu.exceptions import OperationalError


def test_healthy(client, db):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "queue": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_the_queue_down_is_503_naming_it(client, db, caplog):
    with mock.patch("kombu.Connection.ensure_connection", side_effect=OperationalError("Error 111 connecting")):
        response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "queue": "down"}
    assert "Error 111" not in response.content.decode() and "Error 111" in caplog.text


def test_the_database_down_is_503_naming_it(client, db):
    down = mock.Mock(**{"cursor.side_effect": OperationalError("could not connect to server")})
    with mock.patch("unionfunds.core.health.connection", down):
        response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json() == {"database": "down", "queue": "ok"}


def test_plain_http_is_not_redirected_even_with_ssl_redirect(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz/").status_code == 200
    assert client.get("/accounts/login/").status_code == 301
    assert client.post("/healthz/").status_code in (301, 405)
