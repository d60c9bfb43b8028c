"""Two factors and outside systems' keys in Chromium: a province administrator without an authenticator is
sent to enrolment after the password, scans (reads) the secret, confirms a code, keeps the recovery codes;
next time the login asks for the code; the province's pages for resets and outside systems. Screenshots at
1366×900 and on a phone (390×844)."""

import re

import pytest
from playwright.sync_api import expect

from members.choices import Role
from members.models import ApiClient, User
from tests.factories import make_user
from tests.otp_helpers import code_at, give_device, next_code, step_now

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
PASSWORD = "Test-pass-2026"


def password_step(page, site, username):
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("账号").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_enrolment_after_the_password_then_the_code_step(site, page, shot, browser, regions):
    admin = make_user("b_admin", Role.PROVINCE_STAFF, region="330000")
    password_step(page, site, "b_admin")
    page.wait_for_url(f"{site}/accounts/two-factor/")
    expect(page.locator("header .who")).to_have_count(0)  # not logged in yet
    expect(page.locator("figure.qr svg")).to_be_visible()
    secret = page.locator("#otp-secret").inner_text().replace(" ", "")
    shot("enrol")

    page.get_by_label("验证码").fill(code_at(secret, step_now() + 6))
    page.get_by_role("button", name="确认绑定").click()
    expect(page.locator("p.error")).to_contain_text("验证码不正确")
    page.get_by_label("验证码").fill(code_at(secret, step_now()))
    page.get_by_role("button", name="确认绑定").click()
    codes = page.locator("#recovery-codes li")
    expect(codes).to_have_count(10)
    assert all(re.fullmatch(r"[a-z2-7]{4}-[a-z2-7]{4}", c) for c in codes.all_inner_texts())
    shot("recovery-codes")
    page.get_by_role("link", name="我已保存，继续").click()
    page.wait_for_url(f"{site}/")
    expect(page.locator("header .who")).to_contain_text("b_admin")

    page.locator("header form[action$='/accounts/logout/'] button").click()
    password_step(page, site, "b_admin")
    page.wait_for_url(f"{site}/accounts/login/code/")
    shot("code-step")
    page.get_by_label("验证码").fill(next_code(admin, secret))
    page.get_by_role("button", name="验证并登录").click()
    page.wait_for_url(f"{site}/")

    phone = browser.new_context(**PHONE)
    try:
        mobile = phone.new_page()
        other = make_user("b_auditor", Role.AUDITOR, region="330000")
        password_step(mobile, site, other.username)
        mobile.wait_for_url(f"{site}/accounts/two-factor/")
        shot("enrol-phone", target=mobile)
        give_device(other)
        password_step(mobile, site, other.username)
        mobile.wait_for_url(f"{site}/accounts/login/code/")
        shot("code-step-phone", target=mobile)
    finally:
        phone.close()


def test_province_pages_for_resets_and_outside_systems(site, page, login, shot, browser, cast):
    give_device(cast.xihu)
    login(cast.province.username)
    page.goto(f"{site}/")
    page.get_by_role("link", name="两步验证管理").click()
    rows = page.locator("#two-factor-accounts tbody tr")
    expect(rows.filter(has_text="t_xihu")).to_have_count(1)
    shot("two-factor-accounts")
    rows.filter(has_text="t_xihu").get_by_role("button", name="重置").click()
    expect(page.locator(".messages")).to_contain_text("已重置账号「t_xihu」")

    page.goto(f"{site}/")
    page.get_by_role("link", name="外部系统接入").click()
    page.get_by_label("系统名称").fill("杭州市财政局预算管理一体化系统")
    page.get_by_label("可见区划").select_option("330100")
    shot("clients-form")
    page.get_by_role("button", name="登记并生成密钥").click()
    expect(page.locator("#client-credentials")).to_contain_text("client_secret")
    shot("client-created")
    page.get_by_role("link", name="返回外部系统列表").click()
    expect(page.locator("#api-clients tbody tr")).to_have_count(1)
    shot("clients")

    phone = browser.new_context(**PHONE)
    try:
        mobile = phone.new_page()
        mobile.context.add_cookies(page.context.cookies())
        mobile.goto(f"{site}/accounts/clients/")
        shot("clients-phone", target=mobile)
    finally:
        phone.close()
    page.get_by_role("button", name="停用").click()
    expect(page.locator(".messages")).to_contain_text("立即失效")
    assert not ApiClient.objects.get().is_active
    assert User.objects.get(username=ApiClient.objects.get().account.username).is_active is False
