"""The evaluation app's choices: survey answers, states of assessments, spot-checks and report jobs, grades."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from members.choices import RegionLevel


class Answer(models.TextChoices):
    VERY_SATISFIED = "very_satisfied", _("非常满意")
    SATISFIED = "satisfied", _("满意")
    NEUTRAL = "neutral", _("一般")
    DISSATISFIED = "dissatisfied", _("不满意")
    VERY_DISSATISFIED = "very_dissatisfied", _("非常不满意")


ANSWER_SCORES = {
    Answer.VERY_SATISFIED: Decimal(100),
    Answer.SATISFIED: Decimal(80),
    Answer.NEUTRAL: Decimal(60),
    Answer.DISSATISFIED: Decimal(40),
    Answer.VERY_DISSATISFIED: Decimal(20),
}


class ResponseSource(models.TextChoices):
    WEB = "web", _("扫码填写")
    PAPER = "paper", _("纸质录入")
    IMPORT = "import", _("表格导入")


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", _("待自评")
    SUBMITTED = "submitted", _("已提交，待市级审核")
    APPROVED = "approved", _("市级已审核")


class SpotCheckStatus(models.TextChoices):
    PENDING = "pending", _("待核查")
    VERIFIED = "verified", _("已核查")
    SENT_BACK = "sent_back", _("已退回县级")


class Indicator(models.TextChoices):
    UTILIZATION = "utilization", _("资金使用率")
    COVERAGE = "coverage", _("接受补助工会覆盖率")
    SATISFACTION = "satisfaction", _("职工平均满意度")


class Grade(models.TextChoices):
    EXCELLENT = "优", _("优")
    GOOD = "良", _("良")
    FAIR = "中", _("中")
    POOR = "差", _("差")


class ReportKind(models.TextChoices):
    COUNTY = "county", _("县级自评报告")
    CITY = "city", _("市级审核评价报告")
    PROVINCE = "province", _("全省综合评价报告")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


# The level of region each report covers: a county's self-evaluation, a city's review, the province's.
REPORT_LEVEL = {
    ReportKind.COUNTY: RegionLevel.COUNTY,
    ReportKind.CITY: RegionLevel.CITY,
    ReportKind.PROVINCE: RegionLevel.PROVINCE,
}
