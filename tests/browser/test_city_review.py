"""The city reviews a county's self-assessment in the browser, adjusting one indicator."""

import pytest

from evaluation import services as evaluation
from evaluation.models import SelfAssessment
from tests.factories import add_members, make_application, make_program

pytestmark = pytest.mark.browser


def test_city_reviews_its_counties_side_by_side_and_approves_with_an_adjustment(site, page, login, shot, cast):
    add_members(cast.union_xihu, 160)
    program = make_program(cast.province, name="新业态基层工会专项经费（评价测试）")
    make_application(program, cast.union_xihu, until="approved", requested="60000.00")
    round_ = evaluation.round_create(program=program, by=cast.province)
    xihu = SelfAssessment.objects.get(round=round_, county_id="330106")
    evaluation.assessment_submit(assessment=xihu, narrative="资金已全部拨付，开展职工活动 6 次。", by=cast.xihu)

    login(cast.hangzhou.username)
    page.goto(f"{site}/evaluation/?round={round_.pk}")
    table = page.locator("#assessments")
    # The city sees its own counties only, side by side.
    assert table.locator("tbody tr").count() == 13
    assert "宁波" not in table.inner_text()
    shot("city-overview")

    table.get_by_role("link", name="杭州市 西湖区").click()
    page.wait_for_url(f"{site}/evaluation/assessments/{xihu.pk}/")
    shot("assessment")

    form = page.locator("#approve-form")
    form.locator("input[name=adjust_satisfaction]").fill("80")
    form.get_by_role("button", name="审核通过").click()
    page.wait_for_url(f"{site}/evaluation/assessments/{xihu.pk}/")
    assert "理由" in page.locator(".messages").inner_text()  # an adjustment without a reason is refused
    xihu.refresh_from_db()
    assert xihu.status == "submitted"

    form = page.locator("#approve-form")
    form.locator("input[name=adjust_satisfaction]").fill("80")
    form.locator("input[name=reason_satisfaction]").fill("补录纸质问卷 40 份，核实后调整。")
    form.get_by_role("button", name="审核通过").click()
    page.wait_for_url(f"{site}/evaluation/assessments/{xihu.pk}/")
    shot("approved")
    xihu.refresh_from_db()
    assert xihu.status == "approved"
    assert xihu.adjustments["satisfaction"]["reason"].startswith("补录")
    assert str(xihu.final_score) in page.locator("#final-score").inner_text()
