"""The three PDF reports (docs/rules.md §9), rendered by ``reports.generate`` directly (no Celery) and read back
with ``pdftotext``: names, indicator names, amounts in Chinese capitals, page numbers, escaped user
text, no full ID number. One PNG per kind lands in ``test-artifacts/reports/`` (gitignored) for a
human look (``pdftoppm -r 50``).
"""

import hashlib
import shutil
import subprocess
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings

from evaluation import indicators, reports, services, tasks
from evaluation.choices import JobStatus
from evaluation.models import ReportJob, ReportVersion, SelfAssessment, SpotCheck
from tests.factories import (
    HANGZHOU,
    PROVINCE,
    XIHU,
    YINZHOU,
    YUHANG,
    MemberFactory,
    UnionFactory,
    add_members,
    allocate,
    approve_assessment,
    assessment,
    spend,
    submit,
)

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "reports"
ID_NUMBER = "11010519491231002X"  # a valid resident ID number (GB 11643 check digit X)
XSS = "<script>alert(1)</script>"
INDICATORS = ("资金使用率", "接受补助工会覆盖率", "职工平均满意度")


@pytest.fixture
def evaluated(answered, world, cast):
    """The world of conftest plus: a Xihu union named like a script tag (20,000.00 granted), a member
    with a full ID number, Xihu and Yuhang submitted and approved (Xihu with an adjustment), the
    Hangzhou summary completed, Xihu drawn and verified.

    Amounts: Xihu 120,000.00 granted / 55,000.00 spent; Hangzhou 170,000.00 / 105,000.00;
    the province 200,000.00 / 105,000.00.
    """
    script = UnionFactory(county_id=XIHU, name=XSS)
    add_members(script, 150)
    allocate(world.program, script, "20000.00")
    MemberFactory(union=cast.union_xihu, id_number=ID_NUMBER)
    submit(answered, XIHU, "西湖区：资金按计划使用。\n第二段说明 <b>不是粗体</b>")
    approve_assessment(answered, XIHU, adjustments={"satisfaction": {"score": "85", "reason": "补充纸质问卷"}})
    submit(answered, YUHANG)
    approve_assessment(answered, YUHANG)
    others = SelfAssessment.objects.filter(round=answered, county__parent_id=HANGZHOU).exclude(
        county_id__in=[XIHU, YUHANG]
    )
    others.update(
        status="approved",
        score_utilization=60,
        score_coverage=60,
        score_satisfaction=60,
        total_score=60,
        reviewed_score=60,
        final_score=60,
        final_grade="中",
    )
    services.city_summary_complete(round_=answered, by=cast.hangzhou, narrative="全市各县均已完成自评审核。")
    draw = services.spot_check_draw(round_=answered, by=cast.province, count=1, seed=1)
    check = draw.checks.get()
    services.spot_check_verify(
        check=check,
        scores={"utilization": "50", "coverage": "100", "satisfaction": "70"},
        findings=f"抽查发现问卷样本偏少。{XSS}",
        by=cast.province,
    )
    return answered


def job(round_, kind, region, by) -> ReportJob:
    created, _ = services.report_request(kind=kind, round_=round_, region=region, by=by)
    return created


def pdf_text(job_id: int) -> str:
    version = ReportVersion.objects.get(job_id=job_id)
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", version.file.path, "-"], capture_output=True, check=True, timeout=30
    )
    return result.stdout.decode()


def to_png(job_id: int, name: str) -> list[Path]:
    """Every page at 50 dpi as test-artifacts/reports/<name>-<n>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    version = ReportVersion.objects.get(job_id=job_id)
    subprocess.run(["pdftoppm", "-r", "50", "-png", version.file.path, str(ARTIFACTS / name)], check=True, timeout=60)
    return sorted(ARTIFACTS.glob(f"{name}-*.png"))


def assert_common(text: str) -> None:
    for name in INDICATORS:
        assert name in text, name
    assert "第 1 页" in text
    assert ID_NUMBER not in text
    assert ID_NUMBER[:6] + "********" + ID_NUMBER[-4:] not in text  # no member list at all


def test_county_report(evaluated, cast):
    county = job(evaluated, "county", XIHU, cast.xihu)
    reports.generate(county.pk)
    assert to_png(county.pk, "county")
    text = pdf_text(county.pk)
    assert_common(text)
    assert "西湖区总工会" in text or "西湖区" in text
    assert "壹拾贰万元整" in text  # 120,000.00 granted in Xihu
    assert "伍万伍仟元整" in text  # 55,000.00 spent
    assert "120,000.00" in text
    assert XSS in text  # the union's name, shown as text
    assert "<b>不是粗体</b>" in text  # the narrative too
    assert "补充纸质问卷" in text  # the city's adjustment and its reason
    assert "西溪街道新就业形态联合工会" in text
    assert "鄞州" not in text  # nothing of another city


def test_city_report(evaluated, cast):
    city = job(evaluated, "city", HANGZHOU, cast.hangzhou)
    reports.generate(city.pk)
    assert to_png(city.pk, "city")
    text = pdf_text(city.pk)
    assert_common(text)
    assert "杭州市" in text and "西湖区" in text and "余杭区" in text
    assert "壹拾柒万元整" in text  # 170,000.00
    assert "壹拾万伍仟元整" in text  # 105,000.00 (万位 zero: 零 may be omitted, as 支付结算办法 allows)
    assert "全市各县均已完成自评审核。" in text
    assert XSS in text
    assert "鄞州" not in text


def test_province_report(evaluated, cast):
    province = job(evaluated, "province", PROVINCE, cast.province)
    reports.generate(province.pk)
    assert to_png(province.pk, "province")
    text = pdf_text(province.pk)
    assert_common(text)
    assert "全省综合评价报告" in text
    assert "杭州市" in text and "宁波市" in text and "西湖区" in text
    assert "贰拾万元整" in text  # 200,000.00
    assert "抽查发现问卷样本偏少。" + XSS in text  # findings escaped
    assert "鄞州区快递物流行业工会联合会" in text  # the subsidised unions, all cities
    assert ReportVersion.objects.get(job=province).pages >= 2


def test_county_report_shows_the_figures_frozen_at_submit(world, answered, cast):
    submit(answered, XIHU)
    spend(world.xihu_b, "20000.00")  # after submit: 75,000.00 spent now, 55,000.00 when submitted
    county = job(answered, "county", XIHU, cast.xihu)
    reports.generate(county.pk)
    text = pdf_text(county.pk)
    assert "提交时冻结的数据" in text
    assert "伍万伍仟元整" in text and "55,000.00" in text
    assert "柒万伍仟元整" not in text.split("三、")[0]  # the union table below shows today's spending
    assert "55.00" in text and "45.83" not in text


def test_report_without_any_data_still_renders(bare_round, cast):
    county = job(bare_round, "county", YINZHOU, cast.yinzhou)
    reports.generate(county.pk)
    text = pdf_text(county.pk)
    assert "鄞州区" in text
    assert "本地区本项目无获补助工会" in text
    assert "零元整" in text


def test_generate_twice_keeps_one_version(world, bare_round, cast):
    county = job(bare_round, "county", XIHU, cast.xihu)
    first = reports.generate(county.pk)
    second = reports.generate(county.pk)
    assert first.status == second.status == JobStatus.DONE
    version = ReportVersion.objects.get(job=county)
    assert ReportVersion.objects.count() == 1
    content = Path(version.file.path).read_bytes()
    assert hashlib.sha256(content).hexdigest() == version.sha256
    assert (version.size, version.number) == (len(content), 1)
    county.refresh_from_db()
    assert (county.status, county.progress, county.attempts) == ("done", 100, 1)
    assert county.finished_at >= county.started_at
    # Done: a new request is a new job and its report the next version.
    again = job(bare_round, "county", XIHU, cast.xihu)
    reports.generate(again.pk)
    assert ReportVersion.objects.get(job=again).number == 2


def test_a_restarted_job_renders_cleanly(bare_round, cast):
    """A worker died mid-render: the job is left running; running it again finishes it."""
    county = job(bare_round, "county", XIHU, cast.xihu)
    ReportJob.objects.filter(pk=county.pk).update(status="running", progress=40, attempts=1)
    reports.generate(county.pk)
    county.refresh_from_db()
    assert (county.status, county.attempts) == ("done", 2)
    assert ReportVersion.objects.filter(job=county).count() == 1


def test_a_failing_render_fails_the_job_after_the_retries(bare_round, cast):
    county = job(bare_round, "county", XIHU, cast.xihu)
    with mock.patch.object(reports, "render_pdf", side_effect=RuntimeError("字体缺失")) as render:
        tasks.generate_report.apply(args=[county.pk])
    county.refresh_from_db()
    assert render.call_count == tasks.generate_report.max_retries + 1
    assert county.status == JobStatus.FAILED
    assert county.error == "RuntimeError: 字体缺失"
    assert county.attempts == tasks.generate_report.max_retries + 1
    assert not ReportVersion.objects.exists()
    # Failed is not active: asking again makes a new job.
    assert job(bare_round, "county", XIHU, cast.xihu).pk != county.pk


def test_fail_leaves_a_done_job_alone(bare_round, cast):
    county = job(bare_round, "county", XIHU, cast.xihu)
    reports.generate(county.pk)
    reports.fail(county.pk, "late failure of an older attempt")
    county.refresh_from_db()
    assert (county.status, county.error) == ("done", "")


def test_generate_of_a_missing_job_does_nothing(db):
    assert reports.generate(987654) is None


def test_the_final_score_in_the_reports_follows_the_spot_check(evaluated):
    check = SpotCheck.objects.get(draw__round=evaluated)
    checked = check.assessment.county_id
    unchecked = YUHANG if checked != YUHANG else XIHU
    rows = {r["county"].code: r for r in reports._assessment_rows(evaluated, [checked, unchecked])}
    assert rows[checked]["final"] == check.verified_score
    assert rows[unchecked]["final"] == assessment(evaluated, unchecked).reviewed_score
    assert rows[checked]["grade"] == indicators.grade_for(check.verified_score)
