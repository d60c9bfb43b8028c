"""The Content-Security-Policy is enforced and nothing on the site breaks it: Chromium loads the main pages
of each kind of user, the public survey page, the admin and the API docs with the policy the server sends,
and reports no violation (an inline script, event handler or style attribute would be refused and show up
on the console). What the inline handlers did still works from static/js/app.js: the language switcher,
the selects that reload their page, the confirmation before dissolving a union."""

import pytest
from django.urls import reverse

from evaluation import services as evaluation_services
from evaluation.models import SelfAssessment
from members.models import User
from tests.factories import add_members, approve, disburse, make_application, make_program, spend

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

VIOLATION_LISTENER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.fixture
def violations(page):
    """Every CSP complaint of the page: console messages and securitypolicyviolation events."""
    found = []
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script(VIOLATION_LISTENER)
    return found


@pytest.fixture
def world(cast):
    for union in (cast.union_xihu, cast.union_xihu_other):
        add_members(union, 160)
    program = make_program(cast.province, name="CSP 测试项目")
    other = make_program(cast.province, name="CSP 测试项目（二）")
    allocation = approve(program, cast.union_xihu, "60000.00")
    disburse(allocation, "60000.00")
    spend(allocation, "15000.00")
    application = make_application(program, cast.union_xihu_other, until="reviewed", requested="50000.00")
    round_ = evaluation_services.round_create(program=program, by=cast.province)
    other_round = evaluation_services.round_create(program=other, by=cast.province)
    invite = evaluation_services.survey_invite(round_=round_, union=cast.union_xihu, by=cast.xihu)
    return {
        "program": program,
        "other": other,
        "allocation": allocation,
        "application": application,
        "round": round_,
        "other_round": other_round,
        "invite": invite,
        "assessment": SelfAssessment.objects.get(round=round_, county_id="330106"),
    }


def visit(page, site, path: str, violations: list) -> None:
    response = page.goto(site + path)
    assert response.status == 200, path
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "default-src 'self'" in policy, (path, policy)
    page.wait_for_load_state("load")
    violations.extend(page.evaluate("window.__csp || []"))
    assert not violations, (path, violations)


def test_the_main_pages_load_under_the_policy_without_a_violation(site, page, login, shot, cast, world, violations):
    w = world
    login(cast.province.username)
    for path in [
        reverse("home"),
        reverse("union-list"),
        reverse("union-detail", args=[cast.union_xihu.pk]),
        reverse("application-queue") + f"?program={w['program'].pk}",
        reverse("application-detail", args=[w["application"].pk]),
        reverse("allocation-list"),
        reverse("allocation-detail", args=[w["allocation"].pk]),
        reverse("dashboard") + f"?program={w['program'].pk}",
        reverse("program-list"),
        reverse("program-detail", args=[w["program"].pk]),
        reverse("evaluation") + f"?round={w['round'].pk}",
        reverse("assessment-detail", args=[w["assessment"].pk]),
        reverse("survey-links", args=[w["round"].pk]),
        reverse("audit-log"),
        reverse("locked-accounts"),
        reverse("password-change"),
        reverse("api-docs"),
    ]:
        visit(page, site, path, violations)
    # Swagger UI drew the operations from the schema (its script ran under the docs page's own policy).
    page.goto(site + reverse("api-docs"))
    page.locator(".opblock").first.wait_for()
    shot("api-docs", full_page=False)
    page.goto(site + reverse("application-queue") + f"?program={w['program'].pk}")
    shot("budget-meter", full_page=False)  # progress bars instead of inline widths
    assert not violations

    page.context.clear_cookies()
    login(cast.xihu.username)
    for path in [
        reverse("survey-links", args=[w["round"].pk]),  # QR codes (SVG) and the paper form
        reverse("assessment-detail", args=[w["assessment"].pk]),
        reverse("union-detail", args=[cast.union_xihu.pk]),
    ]:
        visit(page, site, path, violations)
    page.goto(site + reverse("survey-links", args=[w["round"].pk]))
    shot("survey-links")
    page.context.clear_cookies()
    visit(page, site, reverse("login"), violations)
    visit(page, site, reverse("survey", args=[w["invite"].token]), violations)  # the public page


def test_the_admin_loads_under_the_policy(site, page, login, cast, violations):
    # The admin's own login sends to the site's two-step login; a superuser logs in with a second factor.
    User.objects.create_superuser("ops", password="Ops-pass-2026!")
    login("ops", "Ops-pass-2026!")
    for path in ["/admin/", "/admin/members/union/", f"/admin/members/union/{cast.union_xihu.pk}/change/"]:
        visit(page, site, path, violations)


def test_what_the_inline_handlers_did_still_works(site, page, login, cast, world, violations):
    login(cast.province.username)
    # The language switcher submits on change.
    page.select_option("select[name=language]", "en")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.get_by_role("link", name="Grassroots unions", exact=True).count() == 1
    page.select_option("select[name=language]", "zh-hans")
    page.wait_for_function("document.documentElement.lang === 'zh-hans'")
    # The dashboard's and the evaluation page's selects reload the page for the chosen item.
    page.goto(f"{site}{reverse('dashboard')}?program={world['program'].pk}")
    with page.expect_navigation():
        page.select_option("select[name=program]", str(world["other"].pk))
    assert f"program={world['other'].pk}" in page.url
    page.goto(f"{site}{reverse('evaluation')}?round={world['round'].pk}")
    with page.expect_navigation():
        page.select_option("select[name=round]", str(world["other_round"].pk))
    assert f"round={world['other_round'].pk}" in page.url
    # Dissolving a union asks first; saying no leaves it as it was.
    page.context.clear_cookies()
    login(cast.xihu.username)
    # The survey page's print link prints.
    page.goto(f"{site}{reverse('survey-links', args=[world['round'].pk])}")
    page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }")
    page.get_by_role("link", name="打印本页").click()
    assert page.evaluate("window.__printed") == 1
    page.goto(f"{site}{reverse('union-detail', args=[cast.union_xihu_other.pk])}")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.locator("button.danger", has_text="撤销").click()
    page.wait_for_timeout(300)
    assert asked and cast.union_xihu_other.name in asked[0]
    assert page.url.endswith(reverse("union-detail", args=[cast.union_xihu_other.pk]))
    cast.union_xihu_other.refresh_from_db()
    assert cast.union_xihu_other.status == "verified"
    assert not violations
