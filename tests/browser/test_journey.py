"""The whole journey in Chromium: one union from registration to the province report.

Everything the story does is clicked and typed in the pages by the person who does it, each logging in
through the real login form. Service calls only build what exists before the story starts: the regions,
the staff accounts, the open provincial program, and the other unions and grants that make the
figures meaningful (four more verified unions in Xihu, a grant in Yuhang and one in Yinzhou).

The story, one step per function:

1. 西湖区总工会 registers the union and opens an account for its officer (no self sign-up: docs/rules.md §1).
2. The officer completes the union profile, imports a roster of 160 members (.xlsx) and drafts and
   submits the application with an election record attached.
3. The county verifies the union and recommends the application.
4. 杭州市总工会 reviews it; 5. the province approves 50,000.00 in the review queue (budget meter moves).
6. The province pays a tranche to the county federation, the county passes it on to the union;
   7. the officer records two expenditures (42,000.00: utilisation 84%).
8. The province opens the evaluation round; the county prints the survey link; 10 members answer on
   phones (10 browser contexts, phone viewport and user agent); the county submits its self-assessment.
9. The city approves it; 10. the province draws the spot-check, verifies it, and has the province
   report rendered by WeasyPrint in the Celery task (eager here) and downloads the PDF.
11. The auditor reads the allocations and pulls them over the REST API with a token and updated_after.

Expected figures of Xihu: U = 42,000 / 50,000 = 0.84 (84.00); C = 1 subsidised / 5 verified = 0.2
(100.00 at the target 0.2); S = (5×100 + 4×80 + 1×60) / 10 = 88.00; total 0.5×88 + 0.3×84 + 0.2×100
= 89.20 (良).
"""

import datetime as dt
import io
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from evaluation.models import ReportVersion, SelfAssessment
from grants.models import Allocation, Application
from members import fakes
from members.choices import Role, UnionStatus
from members.models import Union, User
from tests.factories import UnionFactory, add_members, approve, disburse, make_program, make_user, spend
from tests.otp_helpers import next_code
from unionfunds.celery import app as celery_app
from unionfunds.core import clock

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext, pdftoppm)"),
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]

UNION = "西溪街道新就业形态联合工会"
OFFICER = "xixi_union"
OFFICER_PASSWORD = "Chushi-mima-0701"
NEW_PASSWORD = "Gonghui-2026!xx"
PROGRAM = "2026年度新业态基层工会专项经费"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Mobile Safari/537.36 MicroMessenger/8.0.49"
    ),
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
ANSWERS = ["非常满意"] * 5 + ["满意"] * 4 + ["一般"]
HEADER = ["姓名", "身份证号", "性别", "手机号", "群体", "平台或单位", "入会日期"]


def roster_xlsx(count: int, seed: int = 2026) -> tuple[bytes, list[list[str]]]:
    """A roster as the union keeps it in Excel: Chinese headers, ID numbers as text."""
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        number = fakes.id_number(rng)
        rows.append(
            [
                fakes.person_name(rng),
                number,
                "男" if int(number[16]) % 2 else "女",
                fakes.phone(rng),
                ["外卖配送员", "快递员"][index % 2],
                rng.choice(["美团", "饿了么", "顺丰速运", "中通快递"]),
                (dt.date(2025, 3, 1) + dt.timedelta(days=index % 200)).isoformat(),
            ]
        )
    book = Workbook()
    sheet = book.active
    sheet.title = "会员名册"
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    for cell in sheet["B"]:
        cell.number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), rows


@pytest.fixture
def world(regions, settings, tmp_path):
    """What exists before the story: staff, the open program, the other unions and grants."""
    settings.MEDIA_ROOT = tmp_path / "media"
    staff = {
        "province": make_user("province", Role.PROVINCE_STAFF, region="330000"),
        "hangzhou": make_user("hangzhou", Role.CITY_STAFF, region="330100"),
        "xihu": make_user("xihu", Role.COUNTY_STAFF, region="330106"),
        "auditor": make_user("auditor", Role.AUDITOR, region="330000"),
    }
    program = make_program(staff["province"], name=PROGRAM, city_quotas={"330100": 40, "330200": 35})
    for index in range(4):  # Xihu's other verified new-economy unions: the denominator of coverage
        add_members(UnionFactory(county_id="330106", name=f"西湖区新就业形态工会联合会{index + 1}"), 60)
    yuhang = UnionFactory(county_id="330110", name="余杭区外卖配送员工会联合会")
    yinzhou = UnionFactory(county_id="330212", name="鄞州区快递物流行业工会联合会")
    for union, granted, spent in ((yuhang, "50000.00", "50000.00"), (yinzhou, "40000.00", "10000.00")):
        add_members(union, 180)
        allocation = approve(program, union, granted)
        disburse(allocation, granted)
        spend(allocation, spent)
    return staff, program


class Story:
    """The browser, the live server and the screenshots, shared by the steps."""

    def __init__(self, site, page, login, shot, browser, tmp_path):
        self.site, self.page, self.shot, self.browser, self.tmp = site, page, shot, browser, tmp_path
        self._login = login

    def url(self, path: str) -> re.Pattern:
        return re.compile(re.escape(self.site + path) + r"(\?.*)?(#.*)?$")

    def as_user(self, username: str, password: str | None = None) -> None:
        """Log out whoever is logged in (the header's 退出 button), then log in through the form."""
        page = self.page
        logout = page.locator("header form[action$='/accounts/logout/'] button")
        if page.url.startswith(self.site) and logout.count():
            logout.click()
            page.wait_for_url(self.url("/accounts/login/"))
        if password:
            self._login(username, password)
        else:
            self._login(username)
        expect(page.locator("header .who")).to_contain_text(username)

    def nav(self, name: str) -> None:
        self.page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()

    def file(self, name: str, content: bytes) -> Path:
        path = self.tmp / name
        path.write_bytes(content)
        return path

    def messages(self):
        return self.page.locator(".messages")


@pytest.fixture
def story(world, site, page, login, shot, browser, tmp_path):
    return Story(site, page, login, shot, browser, tmp_path)


# ---------------------------------------------------------------- the steps


def county_registers_the_union(s: Story) -> Union:
    page = s.page
    s.as_user("xihu")
    s.shot("county-home")
    page.get_by_role("link", name="登记基层工会").first.click()
    expect(page.locator("h1")).to_have_text("登记基层工会")
    code = fakes.credit_code(random.Random("journey"), "330106")
    page.get_by_label("工会名称").fill(UNION)
    page.get_by_label("统一社会信用代码").fill(code)
    page.get_by_label("组织形式").select_option("joint_union")
    page.get_by_label("隶属工会层级").select_option("township")
    page.get_by_label("外卖配送员").check()
    page.get_by_label("快递员").check()
    page.get_by_label("工会主席", exact=True).fill("陈丽")
    page.get_by_label("工会骨干人数").fill("7")
    s.shot("county-register-union")
    page.get_by_role("button", name="保存").click()
    union = Union.objects.get(credit_code=code)
    page.wait_for_url(s.url(f"/unions/{union.pk}/"))
    expect(page.locator("h1 .status")).to_have_text("待核实")

    # The officer needs a login: the county opens it on the union's page.
    page.locator("#accounts").get_by_role("link", name="开设账号").click()
    page.wait_for_url(s.url(f"/unions/{union.pk}/accounts/new/"))
    page.get_by_label("账号").fill(OFFICER)
    page.get_by_label("初始密码", exact=True).fill(OFFICER_PASSWORD)
    page.get_by_label("再次输入初始密码").fill(OFFICER_PASSWORD)
    s.shot("county-open-account")
    page.get_by_role("button", name="开设账号").click()
    page.wait_for_url(s.url(f"/unions/{union.pk}/"))
    expect(s.messages()).to_contain_text(f"已为「{UNION}」开设账号「{OFFICER}」")
    expect(page.locator("#accounts")).to_contain_text(OFFICER)
    s.shot("county-union-registered")
    return union


def officer_completes_profile_and_roster(s: Story, union: Union) -> list[list[str]]:
    page = s.page
    s.as_user(OFFICER, OFFICER_PASSWORD)
    expect(page.locator("#own-union")).to_contain_text(UNION)

    # First thing: replace the initial password the county chose.
    page.get_by_role("link", name="修改密码").click()
    page.get_by_label("旧密码").fill(OFFICER_PASSWORD)
    page.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("新密码确认").fill(NEW_PASSWORD)
    s.shot("officer-password")
    page.get_by_role("button", name="修改密码").click()
    page.wait_for_url(s.url("/"))
    expect(s.messages()).to_contain_text("密码已修改")
    s.shot("officer-home")

    page.locator("#own-union").get_by_role("link", name="查看工会信息与名册").click()
    page.get_by_role("link", name="修改工会信息").click()
    page.wait_for_url(s.url(f"/unions/{union.pk}/edit/"))
    expect(page.get_by_label("统一社会信用代码")).to_be_disabled()  # identity stays with the county
    page.get_by_label("主席选举日期").fill("2024-05-20")
    page.get_by_label("任期（年）").select_option("5")
    page.get_by_label("成立日期").fill("2024-04-01")
    page.get_by_label("经费难以保证").check()
    s.shot("officer-edit-profile")  # before the account and phone numbers are typed: the guide shows it
    page.get_by_label("开户银行").fill("中国工商银行杭州西溪支行")
    page.get_by_label("银行账号").fill("1202021709900123456")
    page.get_by_label("联系人").fill("陈丽")
    page.get_by_label("联系电话").fill("13857104321")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(s.url(f"/unions/{union.pk}/"))
    expect(s.messages()).to_contain_text("已保存")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("2024-05-20")
    assert "1202021709900123456" not in facts.inner_text() and "13857104321" not in facts.inner_text()

    content, rows = roster_xlsx(160)
    page.get_by_role("link", name="导入会员名册").first.click()
    page.get_by_label("名册文件").set_input_files(s.file("西溪街道联合工会会员名册.xlsx", content))
    s.shot("officer-roster-chosen")
    page.get_by_role("button", name="导入", exact=True).click()
    page.wait_for_url(s.url(f"/unions/{union.pk}/"))
    expect(s.messages()).to_contain_text("新增 160 人")
    expect(page.locator("#member-count")).to_have_text("160")
    body = page.content()
    for row in rows:
        assert row[1] not in body and row[3] not in body, "a full ID or phone number reached the page"
    s.shot("officer-roster-imported")
    return rows


def officer_applies(s: Story, union: Union) -> Application:
    page = s.page
    s.nav("补助申请")
    page.get_by_role("link", name="填写补助申请").click()
    page.wait_for_url(s.url("/applications/new/"))
    expect(page.get_by_label("工会")).to_contain_text(UNION)
    page.get_by_label("申请金额（元）").fill("60000")
    page.get_by_label("预算明细").fill(
        "职工活动 20000 骑手节日慰问与新春联谊\n"
        "素质技能提升 25000 电动车安全驾驶与急救培训\n"
        "劳动保护 15000 夏季防暑降温用品"
    )
    page.get_by_label("使用计划").fill("面向辖区 160 名外卖骑手和快递员，全年开展培训 4 期、慰问 2 次、送清凉 1 次。")
    s.shot("officer-application-form")
    page.get_by_role("button", name="保存草稿").click()
    application = Application.objects.get(union=union)
    page.wait_for_url(s.url(f"/applications/{application.pk}/"))
    expect(page.locator("h1 .status")).to_have_text("草稿")

    attach = page.locator("form[action$='/attachments/']")
    attach.locator("select").select_option("election_record")
    attach.locator("input[type=file]").set_input_files(s.file("主席选举结果报告.pdf", PDF))
    attach.get_by_role("button", name="上传").click()
    expect(page.locator("#attachments")).to_contain_text("主席选举结果报告.pdf")
    # Still pending verification: the checklist says so, the application can be submitted anyway.
    expect(page.locator("#eligibility li.fail")).to_have_count(1)
    s.shot("officer-application-draft")
    page.locator("#application-actions").get_by_role("button", name="提交").click()
    expect(page.locator("h1 .status")).to_have_text("已提交")
    expect(page.locator("#waiting-for")).to_contain_text("等待县（市、区）总工会办理")
    s.shot("officer-application-submitted")
    return application


def county_verifies_and_recommends(s: Story, union: Union, application: Application) -> None:
    page = s.page
    s.as_user("xihu")
    pending = page.get_by_role("link", name=UNION)
    expect(pending).to_be_visible()  # the home page lists the unions waiting for verification
    pending.click()
    page.wait_for_url(s.url(f"/unions/{union.pk}/"))
    s.shot("county-verify")
    page.locator("#union-actions input[name=comment]").fill("已核对信用代码、选举材料和名册。")
    page.locator("#union-actions").get_by_role("button", name="核实").click()
    expect(page.locator("h1 .status")).to_have_text("已核实")

    s.nav("补助申请")
    queue = page.locator("#queue")
    expect(queue.locator("tbody tr")).to_have_count(1)  # the county opens on what waits for it: submitted
    # Verified a moment ago: the queue says so at once (today's checks, not those recorded at submit).
    expect(queue.locator("tbody tr .status.verified")).to_have_text("符合")
    s.shot("county-queue")
    queue.get_by_role("link", name=UNION).click()
    page.wait_for_url(s.url(f"/applications/{application.pk}/"))
    expect(page.locator("#eligibility li.fail")).to_have_count(0)
    page.locator("#id_comment").fill("材料齐全，符合条件，同意推荐。")
    s.shot("county-recommend")
    page.get_by_role("button", name="推荐", exact=True).click()
    page.wait_for_url(s.url("/applications/"))
    expect(s.messages()).to_contain_text("已推荐")


def city_reviews(s: Story, application: Application) -> None:
    page = s.page
    s.as_user("hangzhou")
    s.nav("补助申请")
    queue = page.locator("#queue")
    expect(queue.get_by_role("link", name=UNION)).to_be_visible()
    s.shot("city-queue")
    queue.get_by_role("link", name=UNION).click()
    page.wait_for_url(s.url(f"/applications/{application.pk}/"))
    page.locator("#id_comment").fill("经审核，同意报省总工会审批。")
    s.shot("city-review")
    page.get_by_role("button", name="审核通过", exact=True).click()
    page.wait_for_url(s.url("/applications/"))
    expect(s.messages()).to_contain_text("已审核通过")


def province_approves(s: Story, application: Application) -> Allocation:
    page = s.page
    s.as_user("province")
    s.nav("补助申请")
    meter = page.locator("#budget-meter")
    expect(meter.locator(".remaining")).to_have_text("14,910,000.00")  # Yuhang and Yinzhou already approved
    expect(meter.locator(".remaining-slots")).to_have_text("248")
    s.shot("province-queue-before")
    page.locator("#queue").get_by_role("link", name=UNION).click()
    page.wait_for_url(s.url(f"/applications/{application.pk}/"))
    page.locator("#id_approved_amount").fill("50000.00")
    page.locator("#id_comment").fill("按评审意见核定补助 50,000.00 元。")
    s.shot("province-approve")
    page.get_by_role("button", name="批准", exact=True).click()
    page.wait_for_url(s.url("/applications/"))
    expect(s.messages()).to_contain_text("已批准")
    page.goto(f"{s.site}/applications/?program={application.program_id}&status=approved")
    meter = page.locator("#budget-meter")
    expect(meter.locator(".remaining")).to_have_text("14,860,000.00")
    expect(meter.locator(".remaining-slots")).to_have_text("247")
    expect(meter.locator("table tr", has_text="杭州市")).to_contain_text("38")  # quota 40, two approved
    s.shot("province-queue-after")
    return Allocation.objects.get(application=application)


def money_flows(s: Story, allocation: Allocation) -> None:
    page = s.page
    today = clock.today().isoformat()
    # The province pays the county federation, which passes the money on to the union.
    s.nav("下拨与使用")
    page.locator("#allocations").get_by_role("link", name=UNION).click()
    page.wait_for_url(s.url(f"/allocations/{allocation.pk}/"))
    form = page.locator("#disbursement-form")
    form.get_by_label("拨付金额（元）").fill("50000")
    form.get_by_label("凭证号").fill("ZJ-2026-0107")
    form.get_by_label("拨入单位").select_option("330106")
    s.shot("province-tranche")
    form.get_by_role("button", name="登记拨付").click()
    expect(s.messages()).to_contain_text("已登记拨付 50,000.00 元")
    expect(page.locator("h1 .status")).to_have_text("待拨付")  # nothing has reached the union yet

    s.as_user("xihu")
    s.nav("下拨与使用")
    page.locator("#allocations").get_by_role("link", name=UNION).click()
    form = page.locator("#disbursement-form")
    form.get_by_label("拨付金额（元）").fill("50000")
    form.get_by_label("拨付日期").fill(today)
    form.get_by_label("凭证号").fill("XH-2026-0031")
    form.get_by_role("button", name="登记拨付").click()
    expect(s.messages()).to_contain_text("已登记拨付 50,000.00 元")
    expect(page.locator("h1 .status")).to_have_text("已拨付")
    s.shot("county-tranche")

    s.as_user(OFFICER, NEW_PASSWORD)
    s.nav("下拨与使用")
    page.locator("#allocations").get_by_role("link", name=UNION).click()
    for category, amount, text, voucher, people, file in (
        ("skills", "30000", "电动车安全驾驶与急救培训 4 期", "ZC-2026-0001", "160", "培训费发票.pdf"),
        ("labor_protection", "12000", "夏季防暑降温用品", "ZC-2026-0002", "150", None),
    ):
        spending = page.locator("#expenditure-form")
        spending.get_by_label("支出日期").fill(today)
        spending.get_by_label("使用范围").select_option(category)
        spending.get_by_label("金额（元）").fill(amount)
        spending.get_by_label("用途说明").fill(text)
        spending.get_by_label("凭证号").fill(voucher)
        spending.get_by_label("受益职工人数").fill(people)
        if file:
            spending.get_by_label("凭证附件").set_input_files(s.file(file, PDF))
            s.shot("officer-expenditure-form")
        spending.get_by_role("button", name="登记支出").click()
        expect(page.locator("#expenditures")).to_contain_text(voucher)
    expect(page.locator("#spent")).to_have_text("42,000.00")
    expect(page.locator("#rate")).to_have_text("84%")
    s.shot("officer-utilization")


def surveys_and_self_assessment(s: Story, union: Union) -> SelfAssessment:
    page = s.page
    s.as_user("province")
    s.nav("绩效评价")
    form = page.locator("#round-form")
    expect(form).to_be_visible()  # no round yet: the form is open
    form.get_by_label("项目").select_option(label=PROGRAM)
    s.shot("province-open-round")
    form.get_by_role("button", name="开展评价").click()
    expect(s.messages()).to_contain_text("已为各县（市、区）建立自评")

    s.as_user("xihu")
    s.nav("绩效评价")
    page.get_by_role("link", name="满意度调查").click()
    card = page.locator(".qr-card", has_text=UNION)
    card.get_by_role("button", name="生成调查链接和二维码").click()
    expect(s.messages()).to_contain_text("已生成")
    link = page.locator(".qr-card", has_text=UNION).locator(".small-url").inner_text().strip()
    assert re.fullmatch(re.escape(s.site) + r"/s/[\w-]+/", link), link
    s.shot("county-survey-links")

    # Ten members scan the QR code, each on their own phone.
    for index, answer in enumerate(ANSWERS):
        phone = s.browser.new_context(**PHONE)
        try:
            member = phone.new_page()
            member.set_default_timeout(15_000)
            member.goto(link)
            expect(member.locator("h1")).to_have_text("职工满意度调查")
            expect(member.locator("main")).to_contain_text(UNION)
            member.get_by_label(answer, exact=True).check()
            if index == 0:
                member.get_by_label("意见建议（选填）").fill("培训很实用，希望多组织几期。")
                s.shot("member-survey-phone", target=member)
            member.get_by_role("button", name="提交").click()
            expect(member.locator("main")).to_contain_text("提交成功，感谢您的参与！")
            if index == 0:
                s.shot("member-survey-thanks", target=member)
                member.goto(link)  # the same phone again: one answer per device
                expect(member.locator("main")).to_contain_text("您已经提交过本次调查")
        finally:
            phone.close()

    page.reload()
    expect(page.locator(".qr-card", has_text=UNION)).to_contain_text("已收 10 份")
    expect(page.locator(".qr-card", has_text=UNION)).not_to_contain_text("样本不足")

    s.nav("绩效评价")
    page.locator("#assessments").get_by_role("link", name="杭州市 西湖区").click()
    assessment = SelfAssessment.objects.get(county_id="330106", round__program__name=PROGRAM)
    page.wait_for_url(s.url(f"/evaluation/assessments/{assessment.pk}/"))
    figures = page.locator("#figures")
    expect(figures).to_contain_text("84.00%")
    expect(figures).to_contain_text("20.00%")
    expect(figures).to_contain_text("89.20（良）")
    page.locator("form[action$='/evidence/'] input[type=file]").set_input_files(s.file("培训签到表.pdf", PDF))
    page.locator("form[action$='/evidence/']").get_by_role("button", name="上传").click()
    expect(page.locator("#evidence")).to_contain_text("培训签到表.pdf")
    page.locator("#submit-form textarea").fill(
        "本区获补助工会 1 家，下拨 50,000.00 元，已支出 42,000.00 元，开展安全驾驶与急救培训 4 期、"
        "防暑降温 1 次，受益职工 310 人次；满意度调查收回 10 份。"
    )
    s.shot("county-self-assessment")
    page.get_by_role("button", name="提交自评（冻结指标）").click()
    expect(page.locator("h1 .status")).to_have_text("已提交，待市级审核")
    s.shot("county-self-assessment-submitted")
    return assessment


def city_approves_assessment(s: Story, assessment: SelfAssessment) -> None:
    page = s.page
    s.as_user("hangzhou")
    s.nav("绩效评价")
    table = page.locator("#assessments")
    expect(table.locator("tbody tr")).to_have_count(13)
    s.shot("city-evaluation")
    table.get_by_role("link", name="杭州市 西湖区").click()
    page.wait_for_url(s.url(f"/evaluation/assessments/{assessment.pk}/"))
    page.locator("#approve-form input[name=comment]").fill("数据与台账一致，同意。")
    s.shot("city-assessment")
    page.locator("#approve-form").get_by_role("button", name="审核通过").click()
    expect(page.locator("h1 .status")).to_have_text("市级已审核")
    expect(page.locator("#final-score")).to_contain_text("89.20")


def province_spot_checks_and_reports(s: Story) -> Path:
    page = s.page
    s.as_user("province")
    s.nav("绩效评价")
    draw = page.locator("#draw-form")
    draw.get_by_label("抽查数量").fill("1")
    draw.get_by_label("随机种子").fill("20260701")
    draw.get_by_role("button", name="随机抽取").click()
    expect(s.messages()).to_contain_text("已抽取 1 个县（市、区），随机种子 20260701")
    checks = page.locator("#checks")
    expect(checks).to_contain_text("杭州市 西湖区")
    verify = checks.locator(".verify-form")
    verify.get_by_label("资金使用率核定分").fill("84")
    verify.get_by_label("覆盖率核定分").fill("100")
    verify.get_by_label("满意度核定分").fill("86")
    verify.get_by_label("抽查发现").fill("抽查 3 笔支出凭证齐全；电话回访 5 名会员，满意度略低于问卷。")
    s.shot("province-spot-check")
    verify.get_by_role("button", name="记录核定结果").click()
    expect(s.messages()).to_contain_text("已记录抽查结果")
    expect(checks).to_contain_text("88.20")

    # Eager Celery: the request renders the PDF before it answers, which takes a while on a loaded machine.
    page.get_by_role("button", name="生成全省综合评价报告").click(timeout=90_000)
    download = page.locator("#jobs").get_by_role("link", name="下载 PDF")
    expect(download).to_be_visible(timeout=90_000)
    s.shot("province-reports")
    with page.expect_download() as info:
        download.click()
    assert info.value.suggested_filename == "全省综合评价报告-浙江省-v1.pdf"
    pdf = s.tmp / "province-report.pdf"
    info.value.save_as(pdf)
    return pdf


def auditor_pulls(s: Story, allocation: Allocation) -> None:
    page = s.page
    s.as_user("auditor")
    s.nav("下拨与使用")
    rows = page.locator("#allocations tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#disbursement-form")).to_have_count(0)
    s.shot("auditor-allocations")
    s.nav("接口文档")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("unionfunds API", timeout=20_000)
    s.shot("auditor-api-docs", full_page=False)
    # An outside system that last pulled right after the other two grants were paid and spent.
    since = Allocation.objects.exclude(pk=allocation.pk).latest("updated_at").updated_at.isoformat()
    api = s.page.context.browser.new_context()  # an outside system: no session, a token
    try:
        token = api.request.post(
            f"{s.site}/api/v1/auth/token/",
            data={
                "username": "auditor",
                "password": "Test-pass-2026",
                "otp": next_code(User.objects.get(username="auditor")),  # the auditor logs in with two factors
            },
        )
        assert token.status == 200, token.text()
        pulled = api.request.get(
            f"{s.site}/api/v1/allocations/",
            params={"updated_after": since, "ordering": "updated_at"},
            headers={"Authorization": f"Token {token.json()['token']}"},
        )
        assert pulled.status == 200, pulled.text()
        body = pulled.json()
        names = [row["union"]["name"] for row in body["results"]]
        assert names == [UNION], names  # only what changed since: the older grants are not pulled again
        row = body["results"][0]
        assert (row["approved_amount"], row["disbursed_amount"], row["spent_amount"]) == (
            "50000.00",
            "50000.00",
            "42000.00",
        )
    finally:
        api.close()


def read_the_report(s: Story, pdf: Path) -> None:
    head = pdf.read_bytes()[:5]
    assert head == b"%PDF-", head
    version = ReportVersion.objects.get(job__kind="province")
    assert version.pages >= 2
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    first = text.split("\f")[0]
    for expected in ("全省综合评价报告", "一、全省总体情况", "资金使用率", "接受补助工会覆盖率", "职工平均满意度"):
        assert expected in first, expected
    assert "杭州市" in text and "西湖区" in text and UNION in text
    assert "88.2" in text  # the verified score of the spot-check
    assert "抽查 3 笔支出凭证齐全" in text
    assert re.search(r"\d{17}[\dX]", text) is None, "a full ID number in the report"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "2", str(pdf), str(s.shot.folder / "zz-province-report")],
        check=True,
    )


# ---------------------------------------------------------------- the journey


def test_the_whole_journey(story, world, settings):
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # the report task runs at the request's commit, in the server
    try:
        union = county_registers_the_union(story)
        officer_completes_profile_and_roster(story, union)
        application = officer_applies(story, union)
        county_verifies_and_recommends(story, union, application)
        city_reviews(story, application)
        allocation = province_approves(story, application)
        money_flows(story, allocation)
        assessment = surveys_and_self_assessment(story, union)
        city_approves_assessment(story, assessment)
        pdf = province_spot_checks_and_reports(story)
        auditor_pulls(story, allocation)
        read_the_report(story, pdf)
    finally:
        celery_app.conf.task_always_eager = eager

    union.refresh_from_db()
    assert union.status == UnionStatus.VERIFIED
    assert User.objects.get(username=OFFICER).check_password(NEW_PASSWORD)
    assessment.refresh_from_db()
    assert (assessment.status, str(assessment.total_score), assessment.grade) == ("approved", "89.20", "良")
    assert str(assessment.final_score) == "88.20"
