"""A county clerk registers a union, imports its roster and verifies it — in a real browser."""

import csv
import io
import random

import pytest
from playwright.sync_api import expect

from members import fakes
from members.choices import Role, UnionStatus
from members.models import Member, Union
from tests.factories import MemberFactory, UnionFactory, make_user

pytestmark = [
    pytest.mark.browser,
    # WhiteNoise warns when collectstatic has not run; the live server serves static files itself.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
    # pytest-base-url (pulled in by pytest-playwright) defines a session fixture the old way.
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]

HEADER = ["姓名", "身份证号", "性别", "手机号", "群体", "平台或单位", "入会日期"]


def roster_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def valid_rows(n: int, seed: int = 7) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        number = fakes.id_number(rng)
        gender = "男" if int(number[16]) % 2 else "女"
        rows.append(
            [
                fakes.person_name(rng),
                number,
                gender,
                fakes.phone(rng),
                "外卖配送员",
                rng.choice(fakes.PLATFORMS),
                "2024-03-01",
            ]
        )
    return rows


def test_register_import_verify(regions, site, login, page, shot, tmp_path):
    make_user("b_xihu", Role.COUNTY_STAFF, region="330106")
    code = fakes.credit_code(random.Random(1), "330106")
    rows = valid_rows(5)

    login("b_xihu")
    expect(page.locator("h1")).to_have_text("杭州市西湖区总工会")
    shot("home")

    page.get_by_role("link", name="登记基层工会").first.click()
    expect(page.locator("h1")).to_have_text("登记基层工会")
    shot("register-empty")
    page.get_by_label("工会名称").fill("文新街道快递外卖行业工会联合会")
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    page.get_by_label("统一社会信用代码").fill(wrong)
    page.get_by_label("组织形式").select_option("industry_federation")
    page.get_by_label("所在县（市、区）").select_option("330106")
    page.get_by_label("隶属工会层级").select_option("township")
    page.get_by_label("快递员").check()
    page.get_by_label("外卖配送员").check()
    page.get_by_label("工会主席", exact=True).fill("陈丽")
    page.get_by_label("主席选举日期").fill("2024-05-20")
    page.get_by_label("工会骨干人数").fill("7")
    page.get_by_label("成立日期").fill("2024-04-01")
    page.get_by_label("经费难以保证").check()
    page.get_by_role("button", name="保存").click()
    # A mistyped code is refused with the reason, and nothing else is lost.
    expect(page.locator(".field.has-error")).to_contain_text("校验位")
    expect(page.get_by_label("工会名称")).to_have_value("文新街道快递外卖行业工会联合会")
    expect(page.get_by_label("快递员")).to_be_checked()
    shot("register-error")
    assert not Union.objects.filter(credit_code__in=[code, wrong]).exists()
    page.get_by_label("统一社会信用代码").fill(code)
    shot("register-filled")
    page.get_by_role("button", name="保存").click()

    union = Union.objects.get(credit_code=code)
    page.wait_for_url(f"{site}/unions/{union.pk}/")
    expect(page.locator("h1 .status")).to_have_text("待核实")
    expect(page.locator("#member-count")).to_have_text("0")
    expect(page.locator(".messages")).to_contain_text("已登记")
    shot("union-registered")

    page.get_by_role("link", name="导入会员名册").click()
    expect(page.locator("h1")).to_contain_text("导入会员名册")
    roster = tmp_path / "名册.csv"
    roster.write_bytes(roster_csv(rows))
    page.get_by_label("名册文件").set_input_files(roster)
    shot("import-chosen")
    page.get_by_role("button", name="导入", exact=True).click()

    page.wait_for_url(f"{site}/unions/{union.pk}/")
    expect(page.locator(".messages")).to_contain_text("新增 5 人")
    expect(page.locator("#member-count")).to_have_text("5")
    expect(page.locator("#roster tbody tr")).to_have_count(5)
    body = page.content()
    for row in rows:
        assert row[1] not in body, "a full ID number reached the page"
        assert row[3] not in body, "a full phone number reached the page"
    shot("roster-imported")

    page.get_by_role("button", name="核实").click()
    expect(page.locator("h1 .status")).to_have_text("已核实")
    expect(page.locator(".messages")).to_contain_text("已核实")
    shot("union-verified")
    union.refresh_from_db()
    assert union.status == UnionStatus.VERIFIED
    assert Member.objects.filter(union=union, left_on__isnull=True).count() == 5

    page.get_by_role("navigation").get_by_role("link", name="基层工会", exact=True).click()
    expect(page.locator("table.data tbody")).to_contain_text("文新街道快递外卖行业工会联合会")
    shot("union-list")


def test_bad_roster_shows_errors_and_changes_nothing(regions, site, login, page, shot, tmp_path):
    union = UnionFactory(name="西溪街道新就业形态联合工会", county_id="330106")
    MemberFactory.create_batch(2, union=union)
    make_user("b_xihu", Role.COUNTY_STAFF, region="330106")
    good = valid_rows(2, seed=11)
    bad_id = good[0][1][:17] + ("0" if good[0][1][17] != "0" else "1")
    rows = [
        good[0],  # row 2: fine
        ["李四", bad_id, "", "13900001111", "快递员", "中通快递", "2024-02-01"],  # row 3: checksum
        ["王五", good[1][1], "", "13900002222", "骑手", "美团", "2024-02-01"],  # row 4: unknown group
        ["赵六", fakes.id_number(random.Random(99)), "", "139", "快递员", "圆通速递", "2024-02-30"],  # row 5: date
        ["", fakes.id_number(random.Random(98)), "", "", "快递员", "", "2024-02-01"],  # row 6: no name
    ]

    login("b_xihu")
    page.goto(f"{site}/unions/{union.pk}/")
    expect(page.locator("#member-count")).to_have_text("2")
    page.get_by_role("link", name="导入会员名册").click()
    roster = tmp_path / "bad.csv"
    roster.write_bytes(roster_csv(rows))
    page.get_by_label("名册文件").set_input_files(roster)
    page.get_by_role("button", name="导入", exact=True).click()

    table = page.locator("#import-errors")
    expect(table).to_be_visible()
    expect(page.locator(".error-card h2")).to_contain_text("名册未导入")
    expect(table.locator("thead")).to_contain_text("行")
    expect(table.locator("thead")).to_contain_text("列")
    found = [[cell.strip() for cell in r.locator("td").all_inner_texts()] for r in table.locator("tbody tr").all()]
    by_row = {(r[0], r[1]): r[2] for r in found}
    assert "校验位" in by_row[("3", "身份证号")]
    assert "骑手" in by_row[("4", "群体")]
    assert "2024-02-30" in by_row[("5", "入会日期")]
    assert "姓名" in by_row[("6", "姓名")]
    assert all(r[0] != "2" for r in found), "a valid row was reported as an error"
    shot("import-errors")

    page.get_by_role("link", name=union.name).click()
    expect(page.locator("#member-count")).to_have_text("2")
    shot("count-unchanged")
    assert Member.objects.filter(union=union).count() == 2


def test_thousands_of_errors_are_listed_in_part_with_the_total(regions, site, login, page, shot, tmp_path):
    union = UnionFactory(name="西溪街道新就业形态联合工会", county_id="330106")
    make_user("b_xihu", Role.COUNTY_STAFF, region="330106")
    rows = [[f"会员{i}", f"3301061990{i:08d}", "", "", "外卖配送员", "美团", "2024-01-01"] for i in range(1200)]
    rows += [[f"新人{i}", fakes.id_number(random.Random(i)), "", "", "快递员", "", "1/2/2024"] for i in range(40)]

    login("b_xihu")
    page.goto(f"{site}/unions/{union.pk}/members/import/")
    roster = tmp_path / "big.csv"
    roster.write_bytes(roster_csv(rows))
    page.get_by_label("名册文件").set_input_files(roster)
    page.get_by_role("button", name="导入", exact=True).click()

    expect(page.locator(".error-card h2")).to_contain_text("共 1,240 处")
    expect(page.locator(".warn-note")).to_contain_text("前 200 处")
    expect(page.locator("#import-errors tbody tr")).to_have_count(200)
    expect(page.locator(".by-column")).to_contain_text("身份证号")
    shot("many-errors")
    assert Member.objects.filter(union=union).count() == 0


def test_province_filters_the_union_list(regions, site, login, page, shot):
    UnionFactory(name="西溪街道新就业形态联合工会", county_id="330106")
    UnionFactory(name="余杭区外卖配送员工会联合会", county_id="330110", status=UnionStatus.PENDING)
    UnionFactory(name="鄞州区快递物流行业工会联合会", county_id="330212")
    make_user("b_province", Role.PROVINCE_STAFF, region="330000")

    login("b_province")
    shot("home")
    page.get_by_role("navigation").get_by_role("link", name="基层工会", exact=True).click()
    expect(page.locator("table.data tbody tr")).to_have_count(3)
    page.get_by_label("市", exact=True).select_option("330100")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("table.data tbody tr")).to_have_count(2)
    expect(page.locator("table.data tbody")).not_to_contain_text("鄞州区")
    page.get_by_label("状态").select_option("pending")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("table.data tbody tr")).to_have_count(1)
    expect(page.locator("table.data tbody")).to_contain_text("余杭区外卖配送员工会联合会")
    shot("union-list-filtered")


def test_officer_home_and_english(regions, site, login, page, shot):
    union = UnionFactory(name="西溪街道新就业形态联合工会", county_id="330106")
    MemberFactory.create_batch(3, union=union)
    make_user("b_officer", Role.UNION_OFFICER, union=union)

    login("b_officer")
    expect(page.locator("h1")).to_have_text(union.name)
    shot("officer-home")
    page.get_by_label("Language").select_option("en")
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    shot("officer-home-en")


def test_member_leaves_and_roster_search(regions, site, login, page, shot):
    union = UnionFactory(name="西溪街道新就业形态联合工会", county_id="330106")
    MemberFactory(union=union, name="张晓东")
    MemberFactory(union=union, name="李娜")
    MemberFactory(union=union, name="王强")
    make_user("b_xihu", Role.COUNTY_STAFF, region="330106")

    login("b_xihu")
    page.goto(f"{site}/unions/{union.pk}/")
    expect(page.locator("#member-count")).to_have_text("3")
    row = page.locator("#roster tbody tr", has_text="李娜")
    row.get_by_text("办理离会").click()
    row.get_by_label("离会日期").fill("2025-06-30")
    shot("leave-open")
    row.get_by_role("button", name="确认离会").click()
    expect(page.locator(".messages")).to_contain_text("离会")
    expect(page.locator("#member-count")).to_have_text("2")
    expect(page.locator("#roster tbody")).not_to_contain_text("李娜")

    page.get_by_role("link", name="全部（含离会）").click()
    expect(page.locator("#roster tbody tr", has_text="李娜")).to_contain_text("2025-06-30")
    shot("roster-all")

    page.get_by_label("查找会员").fill("王")
    page.get_by_role("button", name="查找").click()
    expect(page.locator("#roster tbody tr")).to_have_count(1)
    expect(page.locator("#roster tbody")).to_contain_text("王强")
    shot("roster-search")


def test_login_page_and_wrong_password(regions, site, page, shot):
    make_user("b_xihu", Role.COUNTY_STAFF, region="330106")
    page.goto(f"{site}/unions/")
    page.wait_for_url(f"{site}/accounts/login/?next=/unions/")
    shot("login")
    page.get_by_label("账号").fill("b_xihu")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".errorlist")).to_contain_text("账号或密码不正确")
    expect(page.get_by_label("账号")).to_have_value("b_xihu")
    shot("login-wrong-password")
    page.get_by_label("密码").fill("Test-pass-2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{site}/unions/")
