"""Playwright in Debian's Chromium against pytest-django's live server.

Never ``playwright install``: the browser is the system one at /usr/bin/chromium. Tests log in
through the real login form (django-axes is active), so they exercise what a clerk does.
Screenshots land in ``test-artifacts/browser/<test>/`` at the repository root (gitignored).
"""

import os
import re
from pathlib import Path

import pytest

from members.models import User
from tests.otp_helpers import SECRET, give_device, next_code
from unionfunds.core import otp

# Playwright's sync API runs an asyncio loop in this thread; Django would otherwise refuse ORM
# calls made by the test itself (fixtures, assertions on the database).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
PASSWORD = "Test-pass-2026"


def pytest_collection_modifyitems(config, items):
    if not os.path.exists(CHROMIUM):
        skip = pytest.mark.skip(reason=f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A clerk's desktop in Zhejiang: Chinese UI, local time, an ordinary laptop screen.
    return {
        **browser_context_args,
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
        "viewport": {"width": 1366, "height": 900},
    }


@pytest.fixture
def site(live_server, transactional_db, page):
    """The live server's base URL, with a page whose default timeout suits a loaded CI machine."""
    page.set_default_timeout(15_000)
    return live_server.url


@pytest.fixture
def shot(request, page):
    """``shot("name")`` saves a full-page screenshot as test-artifacts/browser/<test>/<NN>-<name>.png;
    ``shot("name", target=other_page)`` takes it of another page (a second context, e.g. a phone);
    ``full_page=False`` keeps only the viewport (pages far longer than a screen)."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    counter = iter(range(1, 100))

    def take(name: str, target=None, full_page: bool = True) -> Path:
        path = folder / f"{next(counter):02d}-{name}.png"
        (target or page).screenshot(path=str(path), full_page=full_page)
        return path

    take.folder = folder
    return take


@pytest.fixture
def login(site, page):
    """Log in through the real form at /accounts/login/ and land on the home page.

    An account that must log in with two factors is given an authenticator with the tests' known secret
    (if it has none yet); then the code step is answered with the code an authenticator app would show.
    """

    def do(username: str, password: str = PASSWORD, secret: str = SECRET):
        user = User.objects.filter(username=username).first()
        if user is not None and user.two_factor_required and not otp.has_device(user):
            give_device(user, secret)
        page.goto(f"{site}/accounts/login/")
        page.get_by_label("账号").fill(username)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()
        if user is not None and otp.has_device(user):
            page.wait_for_url(f"{site}/accounts/login/code/")
            page.get_by_label("验证码").fill(next_code(user, secret))
            page.get_by_role("button", name="验证并登录").click()
        page.wait_for_url(f"{site}/")
        return page

    return do
