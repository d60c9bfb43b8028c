"""Province staff approve an application in the review queue and the budget meter moves."""

import pytest

from grants.models import Allocation
from tests.factories import add_members, make_application, make_program

pytestmark = pytest.mark.browser


def test_province_approves_in_the_queue_and_the_budget_meter_moves(site, page, login, shot, cast):
    for union in (cast.union_xihu, cast.union_yinzhou):
        add_members(union, 160)
    program = make_program(
        cast.province, name="新业态基层工会专项经费（浏览器测试）", city_quotas={"330100": 40, "330200": 35}
    )
    reviewed = make_application(program, cast.union_xihu, until="reviewed", requested="60000.00")
    make_application(program, cast.union_yinzhou, until="reviewed", requested="50000.00")

    login(cast.province.username)
    page.goto(f"{site}/applications/?program={program.pk}")
    meter = page.locator("#budget-meter")
    assert "15,000,000.00" in meter.locator(".remaining").inner_text()
    assert meter.locator(".remaining-slots").inner_text() == "250"
    shot("queue-before")

    rows = page.locator("#queue tbody tr")
    assert rows.count() == 2
    page.get_by_role("link", name=cast.union_xihu.name).click()
    page.wait_for_url(f"{site}/applications/{reviewed.pk}/")
    checklist = page.locator("#eligibility")
    assert checklist.locator("li.fail").count() == 0
    shot("application")

    page.locator("#id_approved_amount").fill("55000.00")
    page.locator("#id_comment").fill("经审定，予以补助。")
    page.get_by_role("button", name="批准", exact=True).click()
    page.wait_for_url(f"{site}/applications/")
    assert "已批准" in page.locator(".messages").inner_text()

    page.goto(f"{site}/applications/?program={program.pk}&status=")
    meter = page.locator("#budget-meter")
    assert "14,945,000.00" in meter.locator(".remaining").inner_text()
    assert meter.locator(".remaining-slots").inner_text() == "249"
    hangzhou = meter.locator("table tr", has_text="杭州市")
    assert "39" in hangzhou.inner_text()  # quota 40, one approved
    shot("queue-after")

    allocation = Allocation.objects.get(application=reviewed)
    assert str(allocation.amount) == "55000.00"
    assert sorted(f.amount for f in allocation.funding.all()) == [22000, 33000]


def test_an_over_budget_approval_is_refused_with_the_numbers(site, page, login, shot, cast):
    add_members(cast.union_xihu, 160)
    program = make_program(
        cast.province,
        name="小额试点项目",
        budget_total="50000.00",
        funding_sources=[{"source": "union", "amount": "50000.00"}],
        max_grant="50000.00",
        target_count=2,
    )
    application = make_application(program, cast.union_xihu, until="reviewed", requested="50000.00")
    login(cast.province.username)
    page.goto(f"{site}/applications/{application.pk}/")
    page.locator("#id_approved_amount").fill("50000.01")
    page.get_by_role("button", name="批准", exact=True).click()
    page.wait_for_url(f"{site}/applications/{application.pk}/")
    text = page.locator(".messages").inner_text()
    shot("refused")
    assert "50,000.01" in text or "核定金额" in text
    assert not Allocation.objects.filter(application=application).exists()
