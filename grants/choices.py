from django.db import models
from django.utils.translation import gettext_lazy as _


class FundingSource(models.TextChoices):
    FISCAL = "fiscal", _("财政资金")
    UNION = "union", _("工会补助/本级经费")
    OTHER = "other", _("其他")


class Category(models.TextChoices):
    ACTIVITIES = "activities", _("职工活动")
    SKILLS = "skills", _("素质技能提升")
    MUTUAL_AID = "mutual_aid", _("互助保障")
    LEGAL_AID = "legal_aid", _("法律援助")
    HARDSHIP = "hardship", _("帮困救助")
    WARMTH = "warmth", _("职工送温暖")
    LABOR_PROTECTION = "labor_protection", _("劳动保护")


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    RECOMMENDED = "recommended", _("县级已推荐")
    REVIEWED = "reviewed", _("市级已审核")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("未批准")


class AllocationStatus(models.TextChoices):
    ALLOCATED = "allocated", _("待拨付")
    PARTIALLY_DISBURSED = "partially_disbursed", _("部分拨付")
    DISBURSED = "disbursed", _("已拨付")
    SPENT = "spent", _("已使用完毕")


class AttachmentKind(models.TextChoices):
    ELECTION_RECORD = "election_record", _("选举材料")
    ROSTER = "roster", _("会员名册")
    PLAN = "plan", _("使用计划")
    OTHER = "other", _("其他材料")


ACTION_LABELS = {
    "submit": _("提交"),
    "recommend": _("推荐"),
    "review": _("审核通过"),
    "approve": _("批准"),
    "reject": _("不予批准"),
    "return": _("退回修改"),
}
