"""Money after approval in a real browser: the county pays a tranche, the union records what it spent
(with a scanned voucher) and sees its utilisation move."""

import pytest
from playwright.sync_api import expect

from grants.choices import ApplicationStatus
from grants.models import Allocation, Expenditure
from members.choices import Role
from tests.factories import eligible_union, make_application, make_program, make_user, staff
from unionfunds.core import clock

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def allocation(regions, settings, tmp_path) -> Allocation:
    settings.MEDIA_ROOT = tmp_path / "media"
    union = eligible_union("330106", name="西溪街道新就业形态联合工会")
    program = make_program(staff("330000"), name="新业态基层工会专项经费")
    application = make_application(program, union, until=ApplicationStatus.APPROVED, requested="60000.00")
    make_user("b_officer", Role.UNION_OFFICER, union=union)
    return Allocation.objects.get(application=application)


def test_tranche_then_expenditure_moves_the_utilisation(allocation, site, login, page, shot, tmp_path):
    county = staff("330106")  # staff_330106, the Xihu clerk who recommended the application

    # 1. The county records the first tranche.
    login(county.username)
    page.get_by_role("navigation").get_by_role("link", name="下拨与使用").click()
    expect(page.locator("#allocations tbody")).to_contain_text("西溪街道新就业形态联合工会")
    shot("county-list")
    page.locator("#allocations").get_by_role("link", name="西溪街道新就业形态联合工会").click()
    page.wait_for_url(f"{site}/allocations/{allocation.pk}/")
    expect(page.locator("h1 .status")).to_have_text("待拨付")
    tranche = page.locator("#disbursement-form")
    tranche.get_by_label("拨付金额（元）").fill("70000")
    tranche.get_by_label("凭证号").fill("XH-2026-0001")
    tranche.get_by_role("button", name="登记拨付").click()
    # Above the allocation: refused with the numbers, nothing recorded.
    expect(page.locator(".messages")).to_contain_text("60,000.00")
    expect(page.locator("#tranches")).to_contain_text("尚未拨付")
    shot("tranche-refused")
    tranche.get_by_label("拨付金额（元）").fill("40000")
    tranche.get_by_label("凭证号").fill("XH-2026-0001")
    tranche.get_by_role("button", name="登记拨付").click()
    expect(page.locator(".messages")).to_contain_text("已登记拨付 40,000.00 元")
    expect(page.locator("#tranches")).to_contain_text("XH-2026-0001")
    expect(page.locator("h1 .status")).to_have_text("部分拨付")
    shot("tranche-recorded")

    # 2. The union's officer records spending with a voucher and watches the utilisation.
    page.context.clear_cookies()
    login("b_officer")
    page.goto(f"{site}/allocations/")
    page.locator("#allocations").get_by_role("link", name="西溪街道新就业形态联合工会").click()
    expect(page.locator("#spent")).to_have_text("0.00")
    expect(page.locator("#rate")).to_have_text("0%")
    expect(page.locator("#disbursement-form")).to_have_count(0)
    spending = page.locator("#expenditure-form")
    spending.get_by_label("支出日期").fill(clock.today().isoformat())
    spending.get_by_label("使用范围").select_option("skills")
    spending.get_by_label("金额（元）").fill("15000")
    spending.get_by_label("用途说明").fill("外卖骑手安全驾驶培训")
    spending.get_by_label("凭证号").fill("ZC-2026-0001")
    spending.get_by_label("受益职工人数").fill("120")
    voucher = tmp_path / "培训发票.pdf"
    voucher.write_bytes(PDF)
    spending.get_by_label("凭证附件").set_input_files(voucher)
    shot("expenditure-filled")
    spending.get_by_role("button", name="登记支出").click()

    expect(page.locator(".messages")).to_contain_text("已登记支出 15,000.00 元")
    expect(page.locator("#spent")).to_have_text("15,000.00")
    expect(page.locator("#rate")).to_have_text("25%")
    expect(page.locator("#by-category")).to_contain_text("素质技能提升")
    expect(page.locator("#expenditures")).to_contain_text("培训发票.pdf")
    shot("expenditure-recorded")

    # Spending more than was paid so far is refused, and the figures stay.
    spending = page.locator("#expenditure-form")
    spending.get_by_label("支出日期").fill(clock.today().isoformat())
    spending.get_by_label("使用范围").select_option("activities")
    spending.get_by_label("金额（元）").fill("25000.01")
    spending.get_by_label("用途说明").fill("夏送清凉")
    spending.get_by_label("凭证号").fill("ZC-2026-0002")
    spending.get_by_role("button", name="登记支出").click()
    expect(page.locator(".messages")).to_contain_text("25,000.00")
    expect(page.locator("#spent")).to_have_text("15,000.00")
    expect(page.locator("#rate")).to_have_text("25%")
    shot("expenditure-refused")

    # The voucher comes back through the page's link.
    with page.expect_download() as download:
        page.locator("#expenditures").get_by_role("link", name="培训发票.pdf").click()
    assert download.value.suggested_filename == "培训发票.pdf"
    assert open(download.value.path(), "rb").read() == PDF

    # 3. The province sees it on the dashboard.
    page.context.clear_cookies()
    login(staff("330000").username)
    page.get_by_role("navigation").get_by_role("link", name="看板").click()
    expect(page.locator("svg.chart[aria-label='各地下拨与支出（元）']")).to_contain_text("杭州市")
    expect(page.locator("svg.chart[aria-label='资金使用率分布（工会数）']")).to_contain_text("20–40%")
    expect(page.locator("#summary")).to_contain_text("15,000.00")
    shot("province-dashboard")

    allocation.refresh_from_db()
    assert (allocation.disbursed_amount, allocation.spent_amount) == (40000, 15000)
    assert Expenditure.objects.get(allocation=allocation).recorded_by.username == "b_officer"
