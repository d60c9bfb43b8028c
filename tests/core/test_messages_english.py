"""Refusals in the user's language: the services' and the API's messages go through the catalogue.

Each refusal is triggered twice, the same way, with English and with Simplified Chinese active (a
refusal changes nothing, so the second attempt meets the same state): in English it has no Chinese left
(names of regions and unions aside, which stay as registered) and its numbers formatted as before; in
Chinese it is the source text word for word, as the user guides quote it.
"""

import datetime as dt
import re
from unittest import mock

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation
from kombu.exceptions import OperationalError

from evaluation import reports, tasks
from evaluation import services as evaluation_services
from evaluation.choices import JobStatus, ReportKind
from evaluation.indicators import FLAG_LABELS
from evaluation.models import ReportJob, SelfAssessment
from grants import services
from grants.choices import ApplicationStatus as S
from grants.models import Allocation
from tests.factories import API, approve, disburse, eligible_union, make_application, make_program, voucher
from unionfunds.core import clock
from unionfunds.core.errors import ApplicationError

# The grants fixtures (regions in one INSERT, the cast's provincial programme of this year, the cast's
# unions with 150 members each) and the evaluation round with nothing recorded yet.

# CJK ideographs, CJK punctuation (、。「」) and full-width forms (：；（）).
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
XIHU = "330106"


def refusal(action) -> str:
    """The message a user is shown when ``action`` is refused (a page shows the same text as the API)."""
    try:
        action()
    except ApplicationError as exc:
        return str(exc.detail)
    except ValidationError as exc:
        return " ".join(exc.messages)
    except PermissionDenied as exc:
        return str(exc)
    raise AssertionError("the action was not refused")


def assert_refused(action, *, en: str, zh: str) -> None:
    with translation.override("en"):
        english = refusal(action)
    assert not CJK.search(english), english
    assert english == en
    with translation.override("zh-hans"):
        assert refusal(action) == zh


@pytest.fixture
def allocation(stocked, program) -> Allocation:
    """60,000.00 granted to the Xihu officer's union today."""
    return approve(program, stocked.union_xihu)


# ------------------------------------------------------------------ approval: budget rules, eligibility, workflow


def test_target_reached_at_approval(stocked):
    one_union = make_program(stocked.province, target_count=1)
    make_application(one_union, stocked.union_xihu, until=S.APPROVED)
    second = make_application(one_union, stocked.union_yuhang, until=S.REVIEWED)
    assert_refused(
        lambda: services.application_transition(
            application=second, action="approve", by=stocked.province, approved_amount="1000.00"
        ),
        en="No places left: the programme funds 1 union, 1 approved, 0 places remaining.",
        zh="名额已满：本项目计划补助 1 家，已批准 1 家，剩余 0 个名额。",
    )


def test_target_reached_counts_in_the_plural(stocked):
    two_unions = make_program(stocked.province, target_count=2)
    make_application(two_unions, stocked.union_xihu, until=S.APPROVED)
    make_application(two_unions, stocked.union_yuhang, until=S.APPROVED)
    third = make_application(two_unions, stocked.union_yinzhou, until=S.REVIEWED)
    with translation.override("en"):
        message = refusal(
            lambda: services.application_transition(
                application=third, action="approve", by=stocked.province, approved_amount="1000.00"
            )
        )
    assert message == "No places left: the programme funds 2 unions, 2 approved, 0 places remaining."


def test_budget_exceeded_at_approval_keeps_the_money_format(stocked):
    small = make_program(
        stocked.province, budget_total="100000.00", funding_sources=[{"source": "fiscal", "amount": "100000.00"}]
    )
    make_application(small, stocked.union_xihu, until=S.APPROVED, requested="60000.00")
    second = make_application(small, stocked.union_yuhang, until=S.REVIEWED, requested="60000.00")
    assert_refused(
        lambda: services.application_transition(
            application=second, action="approve", by=stocked.province, approved_amount="60000.00"
        ),
        en="Insufficient budget: CNY 40,000.00 left in the programme, approved amount CNY 60,000.00.",
        zh="预算不足：项目剩余 40,000.00 元，核定金额 60,000.00 元。",
    )


def test_city_quota_reached_names_the_city_as_registered(stocked):
    quotas = make_program(stocked.province, city_quotas={"330100": 1})
    make_application(quotas, stocked.union_xihu, until=S.APPROVED)
    yuhang = make_application(quotas, stocked.union_yuhang, until=S.REVIEWED)
    with translation.override("en"):
        message = refusal(
            lambda: services.application_transition(
                application=yuhang, action="approve", by=stocked.province, approved_amount="60000.00"
            )
        )
    # The city's name is data and stays as registered; the words around it are English.
    assert message == "No places left for 杭州市: quota 1, 1 approved."


def test_not_eligible_at_approval_lists_the_failed_rules_in_english(cast, program):
    too_small = eligible_union(XIHU, members=100)
    application = make_application(program, too_small, until=S.REVIEWED)
    assert_refused(
        lambda: services.application_transition(
            application=application, action="approve", by=cast.province, approved_amount="60000.00"
        ),
        en="Requirements not met, so the application cannot be approved: "
        "Number of members (100 members, below the minimum of 150)",
        zh="不符合申请条件，不能批准：会员人数（会员 100 人，少于 150 人）",
    )


def test_illegal_workflow_transition(stocked, program):
    draft = make_application(program, stocked.union_xihu)
    assert_refused(
        lambda: services.application_transition(
            application=draft, action="approve", by=stocked.province, approved_amount="60000.00"
        ),
        en="The action “Approve” is not allowed in the state “Draft”.",
        zh="当前状态「草稿」下不能执行「批准」操作。",
    )


def test_submit_outside_the_application_window(stocked, program):
    draft = make_application(program, stocked.union_xihu)
    opens, closes = program.opens_on.isoformat(), program.closes_on.isoformat()
    with clock.travel(dt.datetime.combine(program.closes_on + dt.timedelta(days=1), dt.time(9))):
        assert_refused(
            lambda: services.application_transition(application=draft, action="submit", by=stocked.xihu),
            en=f"Outside the application period ({opens} to {closes}).",
            zh=f"不在申报时间内（{opens} 至 {closes}）。",
        )


def test_a_second_application_keeps_the_rule_code(stocked, program):
    first = make_application(program, stocked.union_xihu)
    data = {"program": program.pk, "union": stocked.union_xihu.pk, "requested_amount": "1000.00"}
    assert_refused(
        lambda: services.application_create(data=data, by=stocked.xihu),
        en=f"single_application: the union already has an application in this programme (no. {first.pk}, Draft).",
        zh=f"single_application：该工会在本项目中已有申请（编号 {first.pk}，草稿）。",
    )


# ------------------------------------------------------------------ tranches and expenditures


def test_tranche_above_the_allocation(stocked, allocation):
    disburse(allocation, "50000.00")
    assert_refused(
        lambda: services.disbursement_record(
            allocation=allocation, amount="10000.01", paid_on=clock.today(), voucher_no=voucher(), by=stocked.xihu
        ),
        en="The disbursement of CNY 10,000.01 exceeds the CNY 10,000.00 not yet disbursed "
        "(allocated CNY 60,000.00, disbursed CNY 50,000.00).",
        zh="拨付金额 10,000.01 元超过尚未拨付的 10,000.00 元（下拨 60,000.00 元，已拨付 50,000.00 元）。",
    )


def test_expenditure_above_what_arrived(stocked, allocation):
    disburse(allocation, "20000.00")
    data = {
        "spent_on": clock.today(),
        "category": "activities",
        "amount": "20000.01",
        "description": "外卖骑手夏季送清凉",
        "voucher_no": "ZC-1",
    }
    assert_refused(
        lambda: services.expenditure_record(allocation=allocation, data=data, by=stocked.officer),
        en="The expenditure of CNY 20,000.01 exceeds the CNY 20,000.00 received and not yet spent "
        "(disbursed CNY 20,000.00, spent CNY 0.00).",
        zh="支出金额 20,000.01 元超过已到账未使用的 20,000.00 元（已拨付 20,000.00 元，已支出 0.00 元）。",
    )


def test_bad_voucher_numbers(stocked, allocation):
    def tranche(voucher_no):
        return lambda: services.disbursement_record(
            allocation=allocation, amount="100.00", paid_on=clock.today(), voucher_no=voucher_no, by=stocked.xihu
        )

    assert_refused(
        tranche("X" * 51),
        en="The voucher number can have at most 50 characters.",
        zh="凭证号不超过 50 个字符。",
    )
    assert_refused(tranche("  "), en="Please enter the voucher number.", zh="请填写凭证号。")
    disburse(allocation, "100.00", voucher_no="XH-2026-007")
    assert_refused(
        tranche("XH-2026-007"),
        en="Voucher number “XH-2026-007” has already been recorded; do not enter it twice.",
        zh="凭证号「XH-2026-007」已登记过，请勿重复录入。",
    )


@pytest.mark.parametrize(
    ("amount", "en", "zh"),
    [
        ("12.345", "The amount can have at most two decimal places (to the fen).", "金额最多两位小数（精确到分）。"),
        (
            "abc",
            "“abc” is not a valid amount: write it in ASCII digits, e.g. 60000.00.",
            "「abc」不是有效金额，请用半角数字书写，如 60000.00。",
        ),
        ("-5", "The amount cannot be negative.", "金额不能为负数。"),
        ("0", "The amount must be greater than 0.", "金额必须大于 0。"),
    ],
)
def test_bad_amounts(stocked, allocation, amount, en, zh):
    assert_refused(
        lambda: services.disbursement_record(
            allocation=allocation, amount=amount, paid_on=clock.today(), voucher_no=voucher(), by=stocked.xihu
        ),
        en=en,
        zh=zh,
    )


# ------------------------------------------------------------------ evaluation


def test_self_assessment_without_narrative(cast, bare_round):
    assessment = SelfAssessment.objects.get(round=bare_round, county_id=XIHU)
    assert_refused(
        lambda: evaluation_services.assessment_submit(assessment=assessment, narrative="  ", by=cast.xihu),
        en="Please enter the self-assessment narrative.",
        zh="请填写自评说明。",
    )


def test_spot_check_with_nothing_to_draw(cast, bare_round):
    assert_refused(
        lambda: evaluation_services.spot_check_draw(round_=bare_round, by=cast.province, count=1),
        en="No county/district has passed city review yet, so there is nothing to spot-check.",
        zh="尚无市级审核通过的县（市、区），无法抽查。",
    )


def test_report_requests_of_a_bad_kind_or_level(cast, bare_round):
    def request(kind):
        return lambda: evaluation_services.report_request(kind=kind, round_=bare_round, region=XIHU, by=cast.xihu)

    assert_refused(
        request("town"),
        en="The report kind must be one of county / city / province.",
        zh="报告类型应为 county / city / province 之一。",
    )
    assert_refused(
        request(ReportKind.CITY),
        en="A “City review and evaluation report” must be for a division at City level.",
        zh="市级审核评价报告须对应市级区划。",
    )


def test_paper_answers_name_the_entry(cast, bare_round):
    union = cast.union_xihu.pk
    assert_refused(
        lambda: evaluation_services.survey_responses_enter(
            round_=bare_round, rows=[{"union": union, "answer": "great"}], by=cast.xihu
        ),
        en=f"Entry 1: union {union} has no grant from this programme. Entry 1: satisfaction “great” must be "
        "one of very_satisfied, satisfied, neutral, dissatisfied, very_dissatisfied.",
        zh=f"第 1 条：工会 {union} 未获本项目补助。 第 1 条：满意度「great」应为 "
        "very_satisfied、satisfied、neutral、dissatisfied、very_dissatisfied 之一。",
    )


def test_queue_down_refusal_and_the_failed_job(cast, bare_round, api):
    job = ReportJob.objects.create(kind="county", round=bare_round, region_id=XIHU, requested_by=cast.xihu)
    down = OperationalError("Error 111 connecting to 127.0.0.1:6399")
    with mock.patch.object(tasks.generate_report, "delay", side_effect=down):
        assert_refused(
            lambda: tasks.enqueue_report(job.pk),
            en="Report generation is temporarily unavailable (the task queue cannot be reached); "
            "please try again later.",
            zh="报告生成服务暂时不可用（任务队列无法连接），请稍后再试。",
        )
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    # Stored as the source text, shown in the reader's language.
    assert job.error == "任务队列暂不可用，未能排队。"
    api.as_user(cast.xihu)
    assert api.get("/api/v1/reports/").json()["results"][0]["error"] == "任务队列暂不可用，未能排队。"
    api.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = api.get("/api/v1/reports/").json()["results"][0]["error"]
    assert english == "The task queue was unavailable; the report could not be queued."


def test_flags_and_round_names_next_to_the_figures(bare_round):
    with translation.override("en"):
        assert str(bare_round) == f"{bare_round.program.year} performance evaluation"
        labels = [str(label) for label in FLAG_LABELS.values()]
    assert not any(CJK.search(label) for label in labels), labels
    with translation.override("zh-hans"):
        assert str(bare_round) == f"{bare_round.program.year}年度绩效评价"
        assert str(FLAG_LABELS["no_responses"]) == "没有满意度答卷，满意度计 0 分"


def test_reports_stay_chinese_when_rendered_inside_an_english_request(cast, bare_round, settings, tmp_path):
    """A task run eagerly (tests, CELERY_TASK_ALWAYS_EAGER) renders inside the asking request, with its
    language active; the report is an official Chinese document all the same."""
    settings.MEDIA_ROOT = tmp_path
    job = ReportJob.objects.create(kind="county", round=bare_round, region_id=XIHU, requested_by=cast.xihu)
    with (
        translation.override("en"),
        mock.patch.object(reports, "render_pdf", return_value=reports.RenderedPdf(b"%PDF-1.4", 1)) as render,
    ):
        reports.generate(job.pk)
    html = render.call_args.args[0]
    assert f"{bare_round.program.year}年度绩效评价" in html
    assert "本地区本项目没有下拨，资金使用率计 0 分" in html  # a flag: nothing allocated in Xihu
    assert "performance evaluation" not in html


# ------------------------------------------------------------------ through the API, with the language cookie


@pytest.fixture
def english_api(api):
    api.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return api


def test_api_expenditure_above_what_arrived(stocked, allocation, api, english_api):
    body = {
        "spent_on": clock.today().isoformat(),
        "category": "activities",
        "amount": "0.01",
        "description": "快递小哥技能培训",
        "voucher_no": "ZC-9",
    }
    url = f"{API}/{allocation.pk}/expenditures/"
    response = english_api.as_user(stocked.officer).post(url, body, format="json")
    assert response.status_code == 409
    assert response["Content-Language"] == "en"
    assert response.json()["code"] == "expenditure_exceeds_disbursed"
    assert response.json()["detail"] == (
        "The expenditure of CNY 0.01 exceeds the CNY 0.00 received and not yet spent "
        "(disbursed CNY 0.00, spent CNY 0.00)."
    )
    del api.cookies[settings.LANGUAGE_COOKIE_NAME]
    response = api.post(url, body, format="json")
    assert response.json()["detail"] == "支出金额 0.01 元超过已到账未使用的 0.00 元（已拨付 0.00 元，已支出 0.00 元）。"


def test_api_tranche_dated_tomorrow(stocked, allocation, english_api):
    body = {"amount": "100.00", "paid_on": (clock.today() + dt.timedelta(days=1)).isoformat(), "voucher_no": "XH-1"}
    response = english_api.as_user(stocked.xihu).post(f"{API}/{allocation.pk}/disbursements/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"paid_on": ["The disbursement date cannot be later than today."]}


def test_api_summary_group_by_and_spot_check_body(cast, bare_round, english_api):
    english_api.as_user(cast.province)
    response = english_api.get(f"{API}/summary/", {"group_by": "street"})
    assert response.status_code == 400
    assert response.json() == {"group_by": ["Must be one of city / county / category."]}
    response = english_api.post(f"/api/v1/evaluation-rounds/{bare_round.pk}/spot-check/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["count"] == ["Give either the number to spot-check (count) or the share (ratio), not both."]
    response = english_api.post(f"/api/v1/evaluation-rounds/{bare_round.pk}/spot-check/", {"count": 1}, format="json")
    assert response.status_code == 409
    assert (
        response.json()["detail"] == "No county/district has passed city review yet, so there is nothing to spot-check."
    )


def test_api_not_eligible_and_chinese_stays_the_default(cast, program, api):
    too_small = eligible_union(XIHU, members=100)
    application = make_application(program, too_small, until=S.REVIEWED)
    url = f"/api/v1/applications/{application.pk}/approve/"
    response = api.as_user(cast.province).post(url, {"approved_amount": "60000.00"}, format="json")
    assert response.status_code == 409
    assert response["Content-Language"] == "zh-hans"
    assert response.json()["detail"] == "不符合申请条件，不能批准：会员人数（会员 100 人，少于 150 人）"
    api.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = api.post(url, {"approved_amount": "60000.00"}, format="json")
    assert response.json()["detail"].startswith("Requirements not met, so the application cannot be approved: ")
    assert not CJK.search(response.json()["detail"])
