"""Keys for outside systems: OAuth2 client credentials (django-oauth-toolkit) bound to service accounts.

Issue, expiry, revocation, scopes, the region limit, write endpoints refused, the audit trail, the page."""

import base64
import datetime as dt
import io
import re

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher
from django.core.management import CommandError, call_command
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from oauth2_provider.models import AccessToken, Application
from rest_framework.test import APIClient

from members import services
from members.choices import Role
from members.models import ApiClient
from tests.factories import approve
from unionfunds.core.models import AuditEvent

HANGZHOU, NINGBO = "330100", "330200"


def add_client(name: str, region: str, *scopes: str) -> tuple[str, str]:
    out = io.StringIO()
    call_command("add_client", name, "--region", region, *[a for s in scopes for a in ("--scope", s)], stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2, lines
    client_id = re.fullmatch(r"client_id: (\S+)", lines[0]).group(1)
    secret = re.fullmatch(r"client_secret: (\S+)", lines[1]).group(1)
    return client_id, secret


def get_token(client_id: str, secret: str, **extra):
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return Client().post(
        "/o/token/", {"grant_type": "client_credentials", **extra}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def issued(name="省财政厅预算系统", region=HANGZHOU, *scopes) -> tuple[ApiClient, str]:
    client_id, secret = add_client(name, region, *(scopes or ("allocations:read",)))
    response = get_token(client_id, secret)
    assert response.status_code == 200, response.content
    return ApiClient.objects.get(application__client_id=client_id), response.json()["access_token"]


@pytest.fixture
def allocations(stocked, program):
    """One allocation in each of Xihu and Yuhang (Hangzhou) and Yinzhou (Ningbo)."""
    return {
        "xihu": approve(program, stocked.union_xihu, "60000.00"),
        "yuhang": approve(program, stocked.union_yuhang, "50000.00"),
        "yinzhou": approve(program, stocked.union_yinzhou, "30000.00"),
    }


# ---------------------------------------------------------------- registration and the token


def test_add_client_prints_the_credentials_and_stores_the_secret_hashed(regions):
    client_id, secret = add_client("审计系统", HANGZHOU, "allocations:read", "unions:read")
    application = Application.objects.get(client_id=client_id)
    assert application.hash_client_secret
    assert application.client_secret != secret and secret not in application.client_secret
    identify_hasher(application.client_secret)  # a Django password hash, not the secret
    assert check_password(secret, application.client_secret)
    client = ApiClient.objects.get(application=application)
    assert client.scope_list == ["allocations:read", "unions:read"]
    account = client.account
    assert (account.role, account.region_id, account.has_usable_password()) == (Role.AUDITOR, HANGZHOU, False)
    event = AuditEvent.objects.get(action="api_client.register")
    assert event.object_repr == "审计系统" and secret not in str(event.after)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x", "--region", "999999", "--scope", "allocations:read"], "999999"),
        (["", "--region", HANGZHOU, "--scope", "allocations:read"], "name"),
    ],
)
def test_add_client_refuses_bad_input(regions, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("add_client", *args, stdout=io.StringIO())
    assert not ApiClient.objects.exists() and not Application.objects.exists()


def test_add_client_refuses_an_unknown_scope(regions):
    with pytest.raises(CommandError):
        call_command("add_client", "x", "--region", HANGZHOU, "--scope", "allocations:write", stderr=io.StringIO())


def test_client_credentials_give_an_expiring_bearer_token_with_the_registered_scope(regions, settings):
    client_id, secret = add_client("审计系统", HANGZHOU, "allocations:read")
    response = get_token(client_id, secret)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "allocations:read"
    assert "refresh_token" not in body
    # The access token itself is not stored, only its digest.
    stored = AccessToken.objects.get()
    assert stored.token != body["access_token"] and body["access_token"] not in stored.token


def test_a_wrong_secret_or_an_unregistered_scope_gets_no_token(regions):
    client_id, secret = add_client("审计系统", HANGZHOU, "allocations:read")
    assert get_token(client_id, secret[:-1] + "x").status_code == 401
    response = get_token(client_id, secret, scope="allocations:read applications:read")
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"
    response = Client().post("/o/token/", {"grant_type": "password", "username": "t_xihu", "password": "x"})
    assert response.status_code in (400, 401)
    assert not AccessToken.objects.exists()


# ---------------------------------------------------------------- what a client token reads


def test_a_client_of_hangzhou_reads_hangzhou_allocations_and_never_ningbos(allocations):
    _client, token = issued("杭州市财政局系统", HANGZHOU)
    response = bearer(token).get("/api/v1/allocations/?page_size=500")
    assert response.status_code == 200, response.content
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {allocations["xihu"].pk, allocations["yuhang"].pk}
    assert bearer(token).get(f"/api/v1/allocations/{allocations['yinzhou'].pk}/").status_code == 404
    assert bearer(token).get(f"/api/v1/allocations/{allocations['xihu'].pk}/").status_code == 200
    response = bearer(token).get("/api/v1/allocations/summary/?group_by=county")
    assert response.status_code == 200
    assert "330212" not in response.content.decode()


def test_every_pull_is_in_the_audit_trail_with_the_clients_name_and_moves_its_last_use(allocations):
    client, token = issued("杭州市财政局系统", HANGZHOU)
    assert client.last_used_at is None
    bearer(token).get("/api/v1/allocations/?updated_after=2020-01-01T00:00:00%2B08:00")
    bearer(token).get("/api/v1/allocations/")
    events = AuditEvent.objects.filter(action="api_client.request").order_by("id")
    assert events.count() == 2
    first = events.first()
    assert first.object_repr == "杭州市财政局系统" and first.actor == client.account
    assert first.after == {
        "method": "GET",
        "path": "/api/v1/allocations/",
        "query": "updated_after=2020-01-01T00:00:00%2B08:00",
    }
    client.refresh_from_db()
    assert client.last_used_at is not None


def test_a_client_token_is_refused_by_every_write_and_every_endpoint_outside_its_scopes(allocations):
    client, token = issued("杭州市财政局系统", HANGZHOU)
    api = bearer(token)
    schema = SchemaGenerator().get_schema(request=None, public=True)
    allowed, refused = [], []
    for path, operations in schema["paths"].items():
        url = re.sub(r"\{[^}]+\}", str(allocations["xihu"].pk), path)
        for method in operations:
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            response = getattr(api, method)(url, {}, format="json")
            if method == "get" and path.startswith("/api/v1/allocations/"):
                assert response.status_code in (200, 404), (method, path, response.content)
                allowed.append(path)
            else:
                assert response.status_code == 403, (method, path, response.status_code, response.content)
                refused.append((method, path))
    assert "/api/v1/allocations/" in allowed and "/api/v1/allocations/summary/" in allowed
    assert ("post", "/api/v1/allocations/{id}/disbursements/") in refused
    assert ("get", "/api/v1/unions/") in refused and ("post", "/api/v1/auth/token/") in refused
    assert AuditEvent.objects.filter(action="api_client.refused").count() == len(refused)
    assert not AuditEvent.objects.exclude(action__startswith="api_client.").filter(actor=client.account).exists()


def test_scopes_decide_the_endpoints(allocations):
    _client, token = issued("申请统计系统", HANGZHOU, "applications:read", "unions:read")
    api = bearer(token)
    response = api.get("/api/v1/allocations/")
    assert response.status_code == 403
    assert "下拨与使用" in response.json()["detail"]
    assert api.get("/api/v1/applications/").status_code == 200
    unions = api.get("/api/v1/unions/?page_size=500").json()["results"]
    assert {u["county"] for u in unions} <= {"330106", "330110"} and unions
    assert api.get(f"/api/v1/unions/{allocations['xihu'].union_id}/members/").status_code == 403  # no rosters


def test_an_expired_token_is_refused(allocations):
    _client, token = issued()
    assert bearer(token).get("/api/v1/allocations/").status_code == 200
    # An hour later (the expiry is a row's timestamp; moving it is moving the clock for this token).
    AccessToken.objects.update(expires=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert bearer(token).get("/api/v1/allocations/").status_code == 401


def test_revoking_a_client_stops_its_tokens_at_once_and_is_audited(allocations, cast):
    client, token = issued()
    assert bearer(token).get("/api/v1/allocations/").status_code == 200
    assert services.api_client_revoke(client=client, by=cast.province) == 1
    assert bearer(token).get("/api/v1/allocations/").status_code == 401
    client.refresh_from_db()
    assert client.revoked_at is not None and not client.account.is_active
    assert not AccessToken.objects.exists()
    event = AuditEvent.objects.get(action="api_client.revoke")
    assert (event.actor, event.object_repr, event.after) == (cast.province, client.name, {"tokens_revoked": 1})
    with pytest.raises(services.ApplicationError):
        services.api_client_revoke(client=client, by=cast.province)


def test_a_revoked_client_gets_no_new_token(regions, cast):
    client_id, secret = add_client("审计系统", HANGZHOU, "allocations:read")
    services.api_client_revoke(client=ApiClient.objects.get(), by=cast.province)
    assert get_token(client_id, secret).status_code == 401


@pytest.mark.parametrize("who", ["hangzhou", "xihu", "auditor", "officer"])
def test_only_province_staff_register_and_revoke_clients(cast, who):
    user = cast.users()[who]
    with pytest.raises(services.PermissionDenied):
        services.api_client_register(name="x", region_code=HANGZHOU, scopes=["allocations:read"], by=user)
    add_client("审计系统", HANGZHOU, "allocations:read")
    with pytest.raises(services.PermissionDenied):
        services.api_client_revoke(client=ApiClient.objects.get(), by=user)
    assert ApiClient.objects.get().is_active


def test_peoples_tokens_and_sessions_keep_working(cast):
    from rest_framework.authtoken.models import Token

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=cast.xihu).key}")
    assert api.get("/api/v1/unions/").status_code == 200
    assert api.post("/api/v1/unions/", {}, format="json").status_code == 400  # a write reaches the view


# ---------------------------------------------------------------- the province's page


def test_the_clients_page_registers_shows_the_secret_once_lists_last_use_and_revokes(allocations, cast):
    page = Client()
    page.force_login(cast.province)
    assert "还没有登记外部系统" in page.get("/accounts/clients/").content.decode()
    response = page.post(
        "/accounts/clients/", {"name": "宁波市审计局系统", "region": NINGBO, "scopes": ["allocations:read"]}
    )
    assert response.status_code == 200
    text = response.content.decode()
    secret = re.search(r'secret-value">([^<]+)<', text).group(1)
    client = ApiClient.objects.get(name="宁波市审计局系统")
    assert client.application.client_id in text and client.account.region_id == NINGBO
    token = get_token(client.application.client_id, secret).json()["access_token"]
    rows = bearer(token).get("/api/v1/allocations/").json()["results"]
    assert [row["id"] for row in rows] == [allocations["yinzhou"].pk]

    listing = page.get("/accounts/clients/").content.decode()
    assert "宁波市审计局系统" in listing and "从未使用" not in listing
    assert secret not in listing  # shown once
    response = page.post(f"/accounts/clients/{client.pk}/revoke/", follow=True)
    assert "已停用外部系统「宁波市审计局系统」，1 个访问令牌立即失效" in response.content.decode()
    assert bearer(token).get("/api/v1/allocations/").status_code == 401


def test_the_clients_page_keeps_a_refused_form_and_names_the_field(cast):
    page = Client()
    page.force_login(cast.province)
    response = page.post("/accounts/clients/", {"name": "审计系统", "region": HANGZHOU})
    assert response.status_code == 200
    assert "审计系统" in response.content.decode()
    assert "该字段是必填项" in response.content.decode()
    assert not ApiClient.objects.exists()


def test_other_roles_are_sent_away_from_the_clients_page(cast):
    page = Client()
    page.force_login(cast.hangzhou)
    response = page.get("/accounts/clients/", follow=True)
    assert "只有省总工会可以登记和停用外部系统" in response.content.decode()
