"""Two factors (TOTP with django-otp): who must use them, the two-step login, enrolment, recovery codes,
the lockout shared with wrong passwords, the token endpoint, the province's reset, add_user --totp-secret."""

import os
import re
import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from members import services
from members.choices import Role
from members.models import User
from tests.factories import make_user
from tests.otp_helpers import SECRET, code_at, give_device, next_code, step_now
from unionfunds.core import otp
from unionfunds.core.models import AuditEvent

PASSWORD = "Test-pass-2026"
LOGIN = "/accounts/login/"
CODE = "/accounts/login/code/"
SETUP = "/accounts/two-factor/"
RESET = "/accounts/two-factor/accounts/"
TOKEN = "/api/v1/auth/token/"


def password_step(client: Client, username: str, password: str = PASSWORD, next_url: str = ""):
    data = {"username": username, "password": password, **({"next": next_url} if next_url else {})}
    return client.post(LOGIN, data)


def logged_in(client: Client) -> bool:
    response = client.get("/")
    return response.status_code == 200


def session_secret(client: Client) -> str:
    return client.session["uf_otp_setup_secret"]


# ---------------------------------------------------------------- who must


def test_the_required_roles_come_from_the_setting_and_admin_and_audit_readers_always_need_it(cast, settings):
    assert settings.OTP_REQUIRED_ROLES == ["province_staff", "auditor"]  # the default
    required = {name for name, user in cast.users().items() if user.two_factor_required}
    assert required == {"province", "auditor", "city_auditor"}

    settings.OTP_REQUIRED_ROLES = ["city_staff"]
    required = {name for name, user in cast.users().items() if user.two_factor_required}
    # The province's staff and auditor read the whole audit trail: required whatever the setting says.
    assert required == {"province", "auditor", "hangzhou", "ningbo"}
    settings.OTP_REQUIRED_ROLES = []
    cast.xihu.is_staff = True  # can reach /admin/
    assert cast.xihu.two_factor_required
    assert not cast.yuhang.two_factor_required


def test_an_unknown_role_in_the_setting_stops_start_up_naming_it():
    env = {**os.environ, "OTP_REQUIRED_ROLES": "province_staff,boss", "DEBUG": "1"}
    result = subprocess.run(
        [sys.executable, "-c", "import unionfunds.settings"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "OTP_REQUIRED_ROLES" in result.stderr and "boss" in result.stderr


def test_the_settings_know_every_role():
    from unionfunds import settings as module

    assert set(module._ROLES) == set(Role.values)


# ---------------------------------------------------------------- the browser login


def test_a_user_with_a_device_is_asked_for_the_code_after_the_password(cast):
    give_device(cast.province)
    client = Client()
    response = password_step(client, "t_province", next_url="/unions/")
    assert response.status_code == 302 and response["Location"] == CODE
    assert not logged_in(client)  # the password alone logs nobody in
    assert client.get("/unions/")["Location"].startswith(LOGIN)

    page = client.get(CODE)
    assert page.status_code == 200 and "t_province" in page.content.decode()
    response = client.post(CODE, {"code": next_code(cast.province)})
    assert response.status_code == 302 and response["Location"] == "/unions/"
    assert logged_in(client)
    assert client.session["otp_device_id"] == TOTPDevice.objects.get(user=cast.province).persistent_id


def test_a_wrong_code_keeps_the_session_anonymous_and_says_so(cast):
    give_device(cast.province)
    client = Client()
    password_step(client, "t_province")
    wrong = code_at(SECRET, step_now() + 5)
    response = client.post(CODE, {"code": wrong})
    assert response.status_code == 200
    assert "验证码不正确" in response.content.decode()
    assert not logged_in(client)


def test_a_code_is_accepted_once(cast):
    give_device(cast.province)
    code = next_code(cast.province)
    first, second = Client(), Client()
    password_step(first, "t_province")
    password_step(second, "t_province")
    assert first.post(CODE, {"code": code}).status_code == 302
    assert second.post(CODE, {"code": code}).status_code == 200  # replayed: refused
    assert not logged_in(second)


def test_the_code_step_without_the_password_step_goes_back_to_the_login(cast):
    give_device(cast.province)
    client = Client()
    response = client.post(CODE, {"code": code_at(SECRET, step_now())})
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert not logged_in(client)


def test_an_optional_role_without_a_device_logs_in_with_the_password_alone(cast):
    client = Client()
    response = password_step(client, "t_xihu")
    assert response.status_code == 302 and response["Location"] == "/"
    assert logged_in(client)


def test_an_account_that_must_have_two_factors_is_sent_to_enrolment_and_can_use_nothing_else(cast):
    client = Client()
    response = password_step(client, "t_auditor", next_url="/allocations/")
    assert response.status_code == 302 and response["Location"] == SETUP
    for path in ("/", "/unions/", "/audit/", "/accounts/password/"):
        assert client.get(path)["Location"].startswith(LOGIN), path
    assert client.get("/api/v1/unions/").status_code == 401
    assert client.get(CODE)["Location"] == SETUP  # no device yet: enrolment is the only way on
    assert not logged_in(client)

    page = client.get(SETUP).content.decode()
    secret = session_secret(client)
    svg = page.split("<svg", 1)[1].split("</svg>", 1)[0]  # the QR code, drawn in the page itself
    assert "href" not in svg and "src=" not in svg
    assert all(" src=" in tag for tag in re.findall(r"<script[^>]*>", page))  # only our own script files
    assert otp.grouped(secret) in page
    response = client.post(SETUP, {"code": code_at(secret, step_now() + 7)})
    assert response.status_code == 200 and "验证码不正确" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=cast.auditor).exists()

    response = client.post(SETUP, {"code": code_at(secret, step_now())})
    assert response.status_code == 200
    codes = re.findall(r"<li>([a-z2-7]{4}-[a-z2-7]{4})</li>", response.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "/allocations/" in response.content.decode()  # continue where the login was going
    assert logged_in(client)
    assert TOTPDevice.objects.get(user=cast.auditor).confirmed
    assert StaticToken.objects.filter(device__user=cast.auditor).count() == 10
    event = AuditEvent.objects.get(action="user.otp_enrol")
    assert event.actor == cast.auditor and event.after == {"replaced": False, "recovery_codes": 10}
    assert not any(code in str(event.after) for code in codes)

    # Next time: password, then the code.
    client.post("/accounts/logout/")
    assert password_step(Client(), "t_auditor")["Location"] == CODE


def test_an_optional_role_may_enrol_and_then_logs_in_with_a_code(cast):
    client = Client()
    password_step(client, "t_xihu")
    page = client.get(SETUP).content.decode()
    assert "可选" in page
    secret = session_secret(client)
    response = client.post(SETUP, {"code": code_at(secret, step_now())})
    assert response.status_code == 200 and "恢复码" in response.content.decode()
    client.post("/accounts/logout/")

    again = Client()
    assert password_step(again, "t_xihu")["Location"] == CODE
    assert again.post(CODE, {"code": next_code(cast.xihu, secret)}).status_code == 302
    assert logged_in(again)


def test_re_enrolling_replaces_the_device_and_the_recovery_codes(cast):
    old = services.otp_enrol(user=cast.xihu, secret=SECRET, code=code_at(SECRET, step_now()), by=cast.xihu)
    other = otp.new_secret()
    new = services.otp_enrol(user=cast.xihu, secret=other, code=code_at(other, step_now()), by=cast.xihu)
    assert TOTPDevice.objects.filter(user=cast.xihu).count() == 1
    assert StaticDevice.objects.filter(user=cast.xihu).count() == 1
    assert otp.verify(cast.xihu, old[0]) is None
    assert otp.verify(cast.xihu, new[0]) is not None
    assert AuditEvent.objects.filter(action="user.otp_enrol").order_by("id").last().after["replaced"] is True


def test_nobody_enrols_a_device_for_someone_else(cast):
    with pytest.raises(services.PermissionDenied):
        services.otp_enrol(user=cast.xihu, secret=SECRET, code=code_at(SECRET, step_now()), by=cast.province)


# ---------------------------------------------------------------- recovery codes


def test_a_recovery_code_logs_in_once_and_its_use_is_audited(cast):
    codes = services.otp_enrol(user=cast.province, secret=SECRET, code=code_at(SECRET, step_now()), by=cast.province)
    client = Client()
    password_step(client, "t_province")
    response = client.post(CODE, {"code": codes[3].upper()})  # typed in capitals, with the dash
    assert response.status_code == 302
    assert logged_in(client)
    event = AuditEvent.objects.get(action="user.recovery_code_used")
    assert event.actor == cast.province and event.after == {"recovery_codes_left": 9}

    again = Client()
    password_step(again, "t_province")
    response = again.post(CODE, {"code": codes[3]})
    assert response.status_code == 200 and "验证码不正确" in response.content.decode()
    assert not logged_in(again)
    assert again.post(CODE, {"code": codes[4].replace("-", "")}).status_code == 302
    assert otp.recovery_codes_left(cast.province) == 8


# ---------------------------------------------------------------- the lockout


def test_five_wrong_codes_lock_the_account_like_five_wrong_passwords(cast, settings):
    give_device(cast.province)
    client = Client()
    password_step(client, "t_province")
    wrong = code_at(SECRET, step_now() + 9)
    for attempt in range(1, settings.AXES_FAILURE_LIMIT + 1):
        response = client.post(CODE, {"code": wrong})
        if attempt < settings.AXES_FAILURE_LIMIT:
            assert response.status_code == 200, attempt
    assert response.status_code == 429  # the fifth: django-axes's lockout page
    assert "锁定" in response.content.decode()
    assert AccessAttempt.objects.get(username="t_province").failures_since_start == settings.AXES_FAILURE_LIMIT

    # Locked: the right password and the right code are refused too.
    fresh = Client()
    response = password_step(fresh, "t_province")
    assert response.status_code == 429
    assert client.post(CODE, {"code": next_code(cast.province)}).status_code == 429
    assert not logged_in(client) and not logged_in(fresh)


def test_wrong_passwords_and_wrong_codes_share_one_counter(cast, settings):
    give_device(cast.province)
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert password_step(client, "t_province", "Wrong-pass-2026").status_code == 200
    password_step(client, "t_province")  # right password: on to the code
    response = client.post(CODE, {"code": code_at(SECRET, step_now() + 9)})
    assert response.status_code == 429


def test_the_right_code_clears_earlier_failures(cast, settings):
    give_device(cast.province)
    client = Client()
    password_step(client, "t_province")
    client.post(CODE, {"code": code_at(SECRET, step_now() + 9)})
    assert AccessAttempt.objects.filter(username="t_province").exists()
    assert client.post(CODE, {"code": next_code(cast.province)}).status_code == 302
    assert not AccessAttempt.objects.filter(username="t_province").exists()


# ---------------------------------------------------------------- the token endpoint


def token(data: dict, client: APIClient | None = None):
    return (client or APIClient()).post(TOKEN, data, format="json")


def test_the_token_endpoint_asks_for_the_code_of_an_account_with_a_device(cast):
    give_device(cast.province)
    response = token({"username": "t_province", "password": PASSWORD})
    assert response.status_code == 400
    assert response.json()["code"] == "otp_required" and response.json()["detail"]
    response = token({"username": "t_province", "password": PASSWORD, "otp": code_at(SECRET, step_now() + 9)})
    assert response.status_code == 400 and response.json()["code"] == "otp_invalid"
    response = token({"username": "t_province", "password": PASSWORD, "otp": next_code(cast.province)})
    assert response.status_code == 200 and len(response.json()["token"]) == 40
    # A wrong password is still the 400 of a wrong password, whatever the code.
    response = token({"username": "t_province", "password": "Wrong-pass-2026", "otp": next_code(cast.province)})
    assert response.status_code == 400 and "non_field_errors" in response.json()


def test_the_token_endpoint_refuses_a_required_role_without_a_device(cast):
    response = token({"username": "t_auditor", "password": PASSWORD, "otp": "123456"})
    assert response.status_code == 400
    assert response.json()["code"] == "otp_required"
    assert "绑定" in response.json()["detail"]


def test_the_token_endpoint_takes_a_recovery_code(cast):
    codes = services.otp_enrol(user=cast.auditor, secret=SECRET, code=code_at(SECRET, step_now()), by=cast.auditor)
    response = token({"username": "t_auditor", "password": PASSWORD, "otp": codes[0]})
    assert response.status_code == 200
    assert token({"username": "t_auditor", "password": PASSWORD, "otp": codes[0]}).json()["code"] == "otp_invalid"


def test_wrong_codes_at_the_token_endpoint_lock_the_account(cast, settings):
    give_device(cast.province)
    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = token({"username": "t_province", "password": PASSWORD, "otp": "000000"}, client)
        assert response.status_code == 400 and response.json()["code"] == "otp_invalid"
    response = token({"username": "t_province", "password": PASSWORD, "otp": next_code(cast.province)}, client)
    assert response.status_code == 429 and response.json()["code"] == "locked_out"


def test_an_optional_role_that_enrolled_needs_the_code_at_the_token_endpoint_too(cast):
    give_device(cast.xihu)
    assert token({"username": "t_xihu", "password": PASSWORD}).json()["code"] == "otp_required"
    assert token({"username": "t_xihu", "password": PASSWORD, "otp": next_code(cast.xihu)}).status_code == 200


# ---------------------------------------------------------------- the province resets a device


def test_province_staff_reset_an_accounts_device_and_it_is_audited(cast):
    codes = services.otp_enrol(user=cast.xihu, secret=SECRET, code=code_at(SECRET, step_now()), by=cast.xihu)
    assert services.otp_reset(username="t_xihu", by=cast.province) == 2  # the TOTP and the recovery device
    assert not TOTPDevice.objects.filter(user=cast.xihu).exists()
    assert not StaticDevice.objects.filter(user=cast.xihu).exists()
    assert otp.verify(cast.xihu, codes[0]) is None
    event = AuditEvent.objects.get(action="user.otp_reset")
    assert (event.actor, event.object_id, event.after) == (cast.province, str(cast.xihu.pk), {"devices_deleted": 2})
    # Optional for county staff: the password alone again.
    assert password_step(Client(), "t_xihu")["Location"] == "/"


@pytest.mark.parametrize("who", ["hangzhou", "xihu", "auditor", "officer", "city_auditor"])
def test_only_province_staff_reset_devices(cast, who):
    give_device(cast.yuhang)
    with pytest.raises(services.PermissionDenied):
        services.otp_reset(username="t_yuhang", by=cast.users()[who])
    assert TOTPDevice.objects.filter(user=cast.yuhang).exists()
    assert not AuditEvent.objects.filter(action="user.otp_reset").exists()


def test_a_reset_of_an_unknown_account_or_one_without_a_device_is_refused(cast):
    with pytest.raises(services.Http404):
        services.otp_reset(username="nobody", by=cast.province)
    with pytest.raises(services.ApplicationError):
        services.otp_reset(username="t_yuhang", by=cast.province)
    assert not AuditEvent.objects.filter(action="user.otp_reset").exists()


def test_the_reset_page(cast):
    give_device(cast.officer)
    client = Client()
    client.force_login(cast.province)
    page = client.get(RESET)
    assert page.status_code == 200 and "t_officer" in page.content.decode()
    assert "t_yinzhou" not in page.content.decode()  # without a search, only accounts with a device
    assert "t_yinzhou" in client.get(RESET, {"q": "yinzhou"}).content.decode()
    response = client.post(RESET, {"username": "t_officer"}, follow=True)
    assert "已重置账号「t_officer」" in response.content.decode()
    assert not otp.has_device(cast.officer)
    response = client.post(RESET, {"username": "t_officer"}, follow=True)
    assert "无需重置" in response.content.decode()

    city = Client()
    city.force_login(cast.hangzhou)
    response = city.get(RESET, follow=True)
    assert "只有省总工会可以重置" in response.content.decode()


def test_a_reset_during_the_login_sends_the_user_to_enrolment(cast):
    give_device(cast.province)
    client = Client()
    password_step(client, "t_province")
    services.otp_reset(username="t_province", by=make_user("t_province2", Role.PROVINCE_STAFF, region="330000"))
    assert client.get(CODE)["Location"] == SETUP


# ---------------------------------------------------------------- the admin's login and add_user


def test_the_admin_login_form_cannot_be_used_to_skip_the_second_factor(cast):
    admin = User.objects.create_superuser("root", password=PASSWORD)
    assert admin.two_factor_required
    client = Client()
    response = client.get("/admin/login/?next=/admin/members/union/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Fmembers%2Funion%2F"
    response = client.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert client.get("/admin/").status_code == 302  # still not logged in
    assert password_step(client, "root")["Location"] == SETUP  # a superuser enrols first


def test_add_user_with_a_totp_secret_gives_a_confirmed_device(regions):
    out = call_command_text(
        "add_user",
        "ops_province",
        "--role",
        "province_staff",
        "--region",
        "330000",
        "--password",
        PASSWORD,
        "--totp-secret",
        SECRET.lower(),
    )
    assert "two-factor" in out
    user = User.objects.get(username="ops_province")
    assert TOTPDevice.objects.get(user=user).confirmed
    client = Client()
    assert password_step(client, "ops_province")["Location"] == CODE
    assert client.post(CODE, {"code": next_code(user)}).status_code == 302


def test_add_user_refuses_a_bad_totp_secret_and_creates_nothing(regions):
    with pytest.raises(CommandError, match="totp_secret"):
        call_command_text(
            "add_user",
            "ops_x",
            "--role",
            "auditor",
            "--region",
            "330000",
            "--password",
            PASSWORD,
            "--totp-secret",
            "not-base32!",
        )
    assert not User.objects.filter(username="ops_x").exists()


def call_command_text(*args) -> str:
    import io

    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()
