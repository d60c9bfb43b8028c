"""The allocation pages (Django test client): the list with filters, totals and export links, the
allocation page with tranches, spending by category and utilisation, the two record forms with their
success and refusal messages, voucher downloads behind the scope check, and the dashboard charts.

Allocations of ``four``: X 60,000 (union_xihu, the officer's), XO 30,000 (union_xihu_other), Y 45,000
(union_yuhang), N 20,000 (union_yinzhou, Ningbo).
"""

import html as htmllib
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grants.models import Allocation, Expenditure, Program
from tests.factories import PDF, approve, bulk_allocations, disburse, figures, make_user, spend
from unionfunds.core import clock

pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")

USERS = ["province", "auditor", "hangzhou", "city_auditor", "xihu", "yuhang", "ningbo", "yinzhou", "officer"]
VISIBLE = {
    "province": {"X", "XO", "Y", "N"},
    "auditor": {"X", "XO", "Y", "N"},
    "hangzhou": {"X", "XO", "Y"},
    "city_auditor": {"X", "XO", "Y"},
    "xihu": {"X", "XO"},
    "yuhang": {"Y"},
    "ningbo": {"N"},
    "yinzhou": {"N"},
    "officer": {"X"},
}
UNION_OF = {"X": "union_xihu", "XO": "union_xihu_other", "Y": "union_yuhang", "N": "union_yinzhou"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def four(stocked, program) -> dict[str, Allocation]:
    return {
        "X": approve(program, stocked.union_xihu, "60000.00"),
        "XO": approve(program, stocked.union_xihu_other, "30000.00"),
        "Y": approve(program, stocked.union_yuhang, "45000.00"),
        "N": approve(program, stocked.union_yinzhou, "20000.00"),
    }


def login(client, user):
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def by_id(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', page, re.S)
    assert match, element_id
    return htmllib.unescape(match.group(1)).strip()


def table(page: str, element_id: str) -> str:
    match = re.search(rf'<table[^>]*id="{element_id}".*?</table>', page, re.S)
    assert match, element_id
    return match.group(0)


# ------------------------------------------------------------------ list


def test_list_shows_only_what_is_in_scope(stocked, four, client):
    for who in USERS:
        page = text(login(client, stocked.users()[who]).get(reverse("allocation-list")))
        rows = table(page, "allocations")
        shown = {name for name, key in UNION_OF.items() if getattr(stocked, key).name in rows}
        assert shown == VISIBLE[who], who


def test_list_totals_and_export_links_follow_the_filters(stocked, four, client):
    disburse(four["X"], "60000.00")
    spend(four["X"], "15000.00")
    disburse(four["Y"], "20000.00")
    login(client, stocked.province)

    page = text(client.get(reverse("allocation-list")))
    assert "155,000.00" in page and "80,000.00" in page and "15,000.00" in page

    response = client.get(reverse("allocation-list"), {"city": "330100", "min_amount": "40000"})
    page = text(response)
    rows = table(page, "allocations")
    assert stocked.union_xihu.name in rows and stocked.union_yuhang.name in rows
    assert stocked.union_xihu_other.name not in rows and stocked.union_yinzhou.name not in rows
    tiles = re.findall(r'<div class="tile"><b>(.*?)</b>', page)
    assert tiles[:4] == ["2", "105,000.00", "80,000.00", "15,000.00"]
    assert "25%" in rows  # X: 15,000 of 60,000
    for link_id, fmt in (("export-csv", "csv"), ("export-xlsx", "xlsx")):
        href = htmllib.unescape(re.search(rf'id="{link_id}" href="([^"]+)"', page).group(1))
        assert href.startswith(f"/api/v1/allocations/?format={fmt}&")
        assert "city=330100" in href and "min_amount=40000" in href
        # The link really exports what the page shows.
        export = client.get(href)
        assert export.status_code == 200
    csv_href = htmllib.unescape(re.search(r'id="export-csv" href="([^"]+)"', page).group(1))
    body = client.get(csv_href).content.decode("utf-8-sig")
    assert stocked.union_yuhang.name in body and stocked.union_xihu_other.name not in body


def test_list_status_and_program_filters(stocked, four, program, client):
    disburse(four["XO"], "10000.00")
    login(client, stocked.hangzhou)
    rows = table(text(client.get(reverse("allocation-list"), {"status": "partially_disbursed"})), "allocations")
    assert stocked.union_xihu_other.name in rows and stocked.union_xihu.name not in rows
    rows = table(text(client.get(reverse("allocation-list"), {"program": program.pk})), "allocations")
    assert stocked.union_xihu.name in rows and stocked.union_yuhang.name in rows


@pytest.mark.parametrize("query", [{"min_amount": "abc"}, {"status": "foo"}, {"program": "abc"}, {"county": "330212"}])
def test_list_bad_filters_show_an_error_never_500(stocked, four, client, query):
    # Hangzhou staff: Yinzhou (330212, Ningbo) is not one of their choices.
    response = login(client, stocked.hangzhou).get(reverse("allocation-list"), query)
    assert response.status_code == 200
    assert 'class="errorlist"' in text(response)


def test_a_city_asking_for_another_city_on_the_list_sees_nothing_of_it(stocked, four, client):
    page = text(login(client, stocked.hangzhou).get(reverse("allocation-list"), {"city": "330200"}))
    assert stocked.union_yinzhou.name not in page


def test_list_page_query_count_does_not_grow(stocked, program, client, django_assert_max_num_queries):
    login(client, stocked.province)

    def measure() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("allocation-list")).status_code == 200
        return len(captured)

    bulk_allocations(program, 3)
    measure()
    few = measure()
    bulk_allocations(program, 120)
    many = measure()
    assert many == few
    with django_assert_max_num_queries(few):
        client.get(reverse("allocation-list"), {"city": "330100", "status": "allocated", "page": "2"})


# ------------------------------------------------------------------ detail


def test_detail_scope_for_every_user(stocked, four, client):
    for who in USERS:
        login(client, stocked.users()[who])
        for name, allocation in four.items():
            response = client.get(reverse("allocation-detail", args=[allocation.pk]))
            assert response.status_code == (200 if name in VISIBLE[who] else 404), (who, name)


def test_detail_shows_tranches_spending_by_category_and_utilisation(stocked, four, client):
    allocation = four["X"]
    disburse(allocation, "40000.00", voucher_no="XH-2026-001")
    disburse(allocation, "20000.00", by=stocked.hangzhou, voucher_no="HZ-2026-009")
    spend(allocation, "12000.00", category="skills", beneficiaries=30)
    spend(allocation, "3000.00", category="activities", beneficiaries=80, description="<b>夏送清凉</b>")
    page = text(login(client, stocked.officer).get(reverse("allocation-detail", args=[allocation.pk])))

    assert by_id(page, "spent") == "15,000.00"
    assert by_id(page, "rate") == "25%"
    assert "陆万元整" in page  # 60,000.00 in Chinese capitals
    tranches = table(page, "tranches")
    for bit in ("40,000.00", "XH-2026-001", "杭州市西湖区总工会", "20,000.00", "HZ-2026-009", "杭州市总工会"):
        assert bit in tranches
    categories = table(page, "by-category")
    assert "素质技能提升" in categories and "12,000.00" in categories and "职工活动" in categories
    expenditures = table(page, "expenditures")
    assert "&lt;b&gt;夏送清凉&lt;/b&gt;" in expenditures and "<b>夏送清凉" not in expenditures
    assert 'aria-label="25.0%"' in page  # the utilisation bar


FORMS_BY_ROLE = [
    ("province", True, False),
    ("auditor", False, False),
    ("hangzhou", True, False),
    ("city_auditor", False, False),
    ("xihu", True, True),
    ("officer", False, True),
]


def test_detail_offers_only_the_forms_the_role_may_use(stocked, four, client):
    for who, tranche_form, spend_form in FORMS_BY_ROLE:
        page = text(login(client, stocked.users()[who]).get(reverse("allocation-detail", args=[four["X"].pk])))
        assert ('id="disbursement-form"' in page) is tranche_form, who
        assert ('id="expenditure-form"' in page) is spend_form, who


def test_expenditure_form_offers_only_the_programs_categories(stocked, four, client):
    page = text(login(client, stocked.officer).get(reverse("allocation-detail", args=[four["X"].pk])))
    form = re.search(r'id="expenditure-form".*?</form>', page, re.S).group(0)
    options = set(re.findall(r'<option value="(\w+)"', form))
    assert options == {"activities", "skills", "mutual_aid", "labor_protection"}


# ------------------------------------------------------------------ the two forms


def post_tranche(client, allocation, **overrides):
    data = {"amount": "20000.00", "paid_on": clock.today().isoformat(), "voucher_no": "XH-P-1", **overrides}
    return client.post(reverse("disbursement-create", args=[allocation.pk]), data, follow=True)


def post_spend(client, allocation, **overrides):
    data = {
        "spent_on": clock.today().isoformat(),
        "category": "activities",
        "amount": "5000.00",
        "description": "骑手防暑降温用品",
        "voucher_no": "ZC-P-1",
        "beneficiaries": "60",
        **overrides,
    }
    return client.post(reverse("expenditure-create", args=[allocation.pk]), data, follow=True)


def test_recording_a_tranche_on_the_page(stocked, four, client):
    response = post_tranche(login(client, stocked.xihu), four["X"])
    assert response.redirect_chain[-1][0] == reverse("allocation-detail", args=[four["X"].pk])
    assert "已登记拨付 20,000.00 元。" in messages_of(response)
    page = text(response)
    assert "XH-P-1" in table(page, "tranches")
    four["X"].refresh_from_db()
    assert (four["X"].disbursed_amount, four["X"].status) == (Decimal("20000.00"), "partially_disbursed")


REFUSED_TRANCHES = [
    ("xihu", {"amount": "60000.01"}, ["60,000.01", "60,000.00"]),
    ("xihu", {"amount": "-1"}, ["负数"]),
    ("xihu", {"amount": "０.５"}, ["半角数字"]),
    ("xihu", {"amount": "1.234"}, ["金额"]),
    ("xihu", {"paid_on": "2999-01-01"}, ["拨付日期"]),
    ("officer", {}, ["只有省、市、县（市、区）总工会可以登记拨付"]),
    ("auditor", {}, ["只有省、市、县（市、区）总工会可以登记拨付"]),
]


def test_a_refused_tranche_says_why_and_changes_nothing(stocked, four, client):
    before = figures(four["X"])
    for who, overrides, words in REFUSED_TRANCHES:
        response = post_tranche(login(client, stocked.users()[who]), four["X"], **overrides)
        assert response.status_code == 200
        messages = " ".join(messages_of(response))
        for word in words:
            assert word in messages, (who, overrides, messages)
        assert figures(four["X"]) == before, (who, overrides)


def test_a_duplicate_voucher_on_the_page_is_refused(stocked, four, client):
    login(client, stocked.xihu)
    post_tranche(client, four["X"], voucher_no="XH-DUP")
    before = figures(four["XO"])
    response = post_tranche(client, four["XO"], voucher_no="XH-DUP")
    assert any("XH-DUP" in m and "已登记" in m for m in messages_of(response))
    assert figures(four["XO"]) == before


def test_recording_an_expenditure_with_a_voucher_on_the_page(stocked, four, client):
    disburse(four["X"], "20000.00")
    login(client, stocked.officer)
    response = post_spend(client, four["X"], voucher_file=SimpleUploadedFile("发票.pdf", PDF))
    assert "已登记支出 5,000.00 元。" in messages_of(response)
    page = text(response)
    assert by_id(page, "spent") == "5,000.00"
    assert by_id(page, "rate") == "8%"  # 5,000 of 60,000
    assert "发票.pdf" in table(page, "expenditures")


REFUSED_EXPENDITURES = [
    ("officer", {"amount": "20000.01"}, ["20,000.01", "20,000.00"]),
    ("officer", {"category": "hardship"}, ["使用范围"]),
    ("officer", {"spent_on": f"{clock.today().year - 1}-06-01"}, [f"{clock.today().year}"]),
    ("officer", {"amount": "0"}, ["0.01"]),
    ("officer", {"voucher_file": b"plain text, named .pdf"}, ["PDF"]),
    ("hangzhou", {}, ["只有本工会或所在县（市、区）总工会可以登记支出"]),
    ("auditor", {}, ["只有本工会或所在县（市、区）总工会可以登记支出"]),
]


def test_a_refused_expenditure_says_why_and_changes_nothing(stocked, four, client):
    disburse(four["X"], "20000.00")
    before = figures(four["X"])
    for who, overrides, words in REFUSED_EXPENDITURES:
        if "voucher_file" in overrides:
            overrides = {**overrides, "voucher_file": SimpleUploadedFile("a.pdf", overrides["voucher_file"])}
        response = post_spend(login(client, stocked.users()[who]), four["X"], **overrides)
        assert response.status_code == 200
        messages = " ".join(messages_of(response))
        for word in words:
            assert word in messages, (who, overrides, messages)
        assert figures(four["X"]) == before, (who, overrides)


def test_an_oversized_voucher_on_the_page_is_refused(stocked, four, client):
    disburse(four["X"], "20000.00")
    before = figures(four["X"])
    with override_settings(UPLOAD_MAX_BYTES=1024):
        response = post_spend(
            login(client, stocked.officer), four["X"], voucher_file=SimpleUploadedFile("a.pdf", PDF + b"0" * 2048)
        )
    assert any("凭证" in m for m in messages_of(response))
    assert figures(four["X"]) == before


def test_the_page_names_the_configured_size_limit(stocked, four, client):
    disburse(four["X"], "20000.00")
    with override_settings(UPLOAD_MAX_BYTES=2 * 1048576):
        big = SimpleUploadedFile("a.pdf", PDF + b"0" * (2 * 1048576))
        response = post_spend(login(client, stocked.officer), four["X"], voucher_file=big)
    messages = " ".join(messages_of(response))
    assert "2 MB" in messages and "10 MB" not in messages


MAY_DISBURSE = {"province", "hangzhou", "xihu", "yuhang", "ningbo", "yinzhou"}
MAY_SPEND = {"xihu", "yuhang", "yinzhou", "officer"}


def test_the_tranche_form_for_every_user_and_allocation(stocked, four, client):
    for who in USERS:
        login(client, stocked.users()[who])
        for name, allocation in four.items():
            before = figures(allocation)
            response = post_tranche(client, allocation, amount="100.00", voucher_no=f"P-{who}-{name}")
            if name not in VISIBLE[who]:
                assert response.status_code == 404, (who, name)
                assert figures(allocation) == before
            elif who in MAY_DISBURSE:
                assert "已登记拨付 100.00 元。" in messages_of(response), (who, name)
                assert figures(allocation)[0] == before[0] + Decimal("100.00")
            else:
                assert any("登记拨付" in m for m in messages_of(response)), (who, name)
                assert figures(allocation) == before, (who, name)


def test_the_expenditure_form_for_every_user_and_allocation(stocked, four, client):
    for allocation in four.values():
        disburse(allocation, "10000.00")
    for who in USERS:
        login(client, stocked.users()[who])
        for name, allocation in four.items():
            before = figures(allocation)
            response = post_spend(client, allocation, amount="100.00", voucher_no=f"S-{who}-{name}")
            if name not in VISIBLE[who]:
                assert response.status_code == 404, (who, name)
                assert figures(allocation) == before
            elif who in MAY_SPEND:
                assert "已登记支出 100.00 元。" in messages_of(response), (who, name)
                assert figures(allocation)[1] == before[1] + Decimal("100.00")
            else:
                assert any("登记支出" in m for m in messages_of(response)), (who, name)
                assert figures(allocation) == before, (who, name)


def test_the_forms_take_posts_only(stocked, four, client):
    login(client, stocked.xihu)
    assert client.get(reverse("disbursement-create", args=[four["X"].pk])).status_code == 405
    assert client.get(reverse("expenditure-create", args=[four["X"].pk])).status_code == 405


# ------------------------------------------------------------------ voucher download


@pytest.fixture
def with_voucher(four, stocked, client):
    disburse(four["X"], "20000.00")
    response = post_spend(login(client, stocked.officer), four["X"], voucher_file=SimpleUploadedFile("发票 1.pdf", PDF))
    assert "已登记支出 5,000.00 元。" in messages_of(response)
    client.logout()
    return Expenditure.objects.get(allocation=four["X"])


def test_voucher_download_only_through_the_scope_check(stocked, four, with_voucher, client):
    url = reverse("voucher-download", args=[four["X"].pk, with_voucher.pk])
    for who in USERS:
        response = login(client, stocked.users()[who]).get(url)
        if "X" in VISIBLE[who]:
            assert response.status_code == 200, who
            assert b"".join(response.streaming_content) == PDF
            assert response["Content-Type"] == "application/pdf"
            assert response["Content-Disposition"].startswith("attachment;")
            assert response["X-Content-Type-Options"] == "nosniff"
            assert "%E5%8F%91%E7%A5%A8%201.pdf" in response["Content-Disposition"]
        else:
            assert response.status_code == 404, who
    client.logout()
    assert client.get(url).status_code == 302  # to the login page
    # The file is not reachable by any other path: not under the allocation of another union…
    login(client, stocked.province)
    assert client.get(reverse("voucher-download", args=[four["XO"].pk, with_voucher.pk])).status_code == 404
    # …and not as a static media URL.
    assert client.get("/media/" + with_voucher.voucher_file.name).status_code == 404


def test_an_expenditure_without_a_voucher_has_nothing_to_download(stocked, four, client):
    disburse(four["X"], "1000.00")
    expenditure = spend(four["X"], "100.00")
    response = login(client, stocked.officer).get(reverse("voucher-download", args=[four["X"].pk, expenditure.pk]))
    assert response.status_code == 404


# ------------------------------------------------------------------ dashboard


def test_dashboard_counts_only_what_is_in_scope_for_every_user(stocked, four, client):
    names = {"X": "西湖区", "XO": "西湖区", "Y": "余杭区", "N": "鄞州区"}
    for who in USERS:
        response = login(client, stocked.users()[who]).get(reverse("dashboard"))
        assert response.status_code == 200, who
        page = text(response)
        tiles = re.findall(r'<div class="tile"><b>(.*?)</b>', page)
        assert tiles[0] == str(len(VISIBLE[who])), who
        expected = sum((four[n].amount for n in VISIBLE[who]), Decimal("0"))
        assert tiles[1] == f"{expected:,.2f}", who
        if "N" not in VISIBLE[who]:
            assert "宁波市" not in page and "鄞州区" not in page, who
        if who in ("xihu", "yuhang", "ningbo", "yinzhou"):
            assert {names[n] for n in VISIBLE[who]} == {c for c in names.values() if c in table(page, "summary")}


def test_dashboard_for_the_province_has_both_charts_by_city(stocked, four, client):
    disburse(four["X"], "60000.00")
    spend(four["X"], "45000.00")
    disburse(four["N"], "20000.00")
    spend(four["N"], "2000.00")
    page = text(login(client, stocked.province).get(reverse("dashboard")))
    charts = re.findall(r"<svg.*?</svg>", page, re.S)
    titled = [c for c in charts if "各地下拨与支出" in c or "资金使用率分布" in c]
    assert len(titled) == 2
    by_area, distribution = titled
    assert "杭州市" in by_area and "宁波市" in by_area
    assert "13.5万" in by_area  # Hangzhou allocated 135,000.00
    assert "80–100%" in distribution and "0–20%" in distribution
    summary = table(page, "summary")
    assert "杭州市" in summary and "宁波市" in summary and "135,000.00" in summary
    tiles = re.findall(r'<div class="tile"><b>(.*?)</b>', page)
    assert tiles[:4] == ["4", "155,000.00", "80,000.00", "47,000.00"]
    assert tiles[4] == "30%"


def test_dashboard_for_a_city_is_by_county_and_shows_only_its_counties(stocked, four, client):
    page = text(login(client, stocked.hangzhou).get(reverse("dashboard")))
    summary = table(page, "summary")
    assert "西湖区" in summary and "余杭区" in summary
    assert "鄞州区" not in page and "宁波市" not in page
    assert "90,000.00" in summary  # 西湖区: X + XO
    charts = [c for c in re.findall(r"<svg.*?</svg>", page, re.S) if "各地下拨与支出" in c or "资金使用率分布" in c]
    assert len(charts) == 2
    assert "西湖区" in charts[0] and "余杭区" in charts[0]


def test_dashboard_for_a_city_auditor_is_by_county_like_city_staff(stocked, four, client):
    page = text(login(client, stocked.city_auditor).get(reverse("dashboard")))
    summary = table(page, "summary")
    assert "西湖区" in summary and "余杭区" in summary


def test_dashboard_for_a_county_and_one_without_allocations(stocked, four, client):
    page = text(login(client, stocked.yinzhou).get(reverse("dashboard")))
    assert "鄞州区" in table(page, "summary") and "西湖区" not in page
    # A county with no allocation at all still gets its (empty) dashboard.
    lonely = make_user("t_lishui_county", "county_staff", region="331102")
    response = login(client, lonely).get(reverse("dashboard"))
    assert response.status_code == 200
    assert "本项目尚无下拨" in text(response)


def test_dashboard_escapes_region_and_program_names(stocked, four, program, client):
    Program.objects.filter(pk=program.pk).update(name="<script>alert(1)</script>")
    page = text(login(client, stocked.province).get(reverse("dashboard")))
    assert "<script>alert(1)</script>" not in page


def test_years_and_program_ids_are_not_printed_with_thousands_separators(stocked, four, program, client):
    """USE_THOUSAND_SEPARATOR is on for money; a year is not money ("2,026"), and an option value of
    "1,234" would make the dashboard's program choice silently fall back to another program."""
    login(client, stocked.province)
    rows = table(text(client.get(reverse("allocation-list"))), "allocations")
    assert f"<td>{program.year}</td>" in rows and "2,0" not in rows
    Program.objects.create(
        pk=1234,
        owner_id="330000",
        name="第1234号项目",
        year=program.year,
        budget_total=program.budget_total,
        target_count=1,
        max_grant=program.max_grant,
        opens_on=program.opens_on,
        closes_on=program.closes_on,
    )
    page = text(client.get(reverse("dashboard"), {"program": "1234"}))
    assert '<option value="1234" selected>' in page
