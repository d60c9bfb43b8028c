import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.choices import RegionLevel, Role
from members.models import Region, Union
from members.scope import scope_q
from unionfunds.core import clock
from unionfunds.core.changes import ChangeTracked
from unionfunds.core.models import WorkflowStep

from .choices import ACTION_LABELS, AllocationStatus, ApplicationStatus, AttachmentKind, Category, FundingSource

MONEY = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0.00")


class ProgramQuerySet(models.QuerySet):
    def for_user(self, user):
        """Programs a user may see: those run by their region or any region above it (the fund they can
        apply to or work under) and those run inside their subtree. A union officer sees the programs
        of their county, its city and the province."""
        if not getattr(user, "is_authenticated", False) or not getattr(user, "role", ""):
            return self.none()
        home = user.home_region
        if home is None:
            return self.none()
        ancestors = [home.code]
        if home.parent_id:
            ancestors.append(home.parent_id)
            if home.level == RegionLevel.COUNTY:
                ancestors.append(Region.objects.filter(code=home.parent_id).values_list("parent_id", flat=True)[0])
        visible = Q(owner_id__in=ancestors)
        if user.role != Role.UNION_OFFICER:
            visible |= Q(owner__parent_id=home.code) | Q(owner__parent__parent_id=home.code)
        return self.filter(visible)


class Program(models.Model):
    """A special-purpose grant program (专项经费项目) of one region for one year (docs/rules.md)."""

    owner = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="programs", verbose_name=_("主管区划"))
    name = models.CharField(_("项目名称"), max_length=120)
    year = models.PositiveSmallIntegerField(_("年度"))
    budget_total = models.DecimalField(_("预算总额"), **MONEY)
    target_count = models.PositiveIntegerField(_("计划补助工会数"))
    max_grant = models.DecimalField(_("单个工会补助上限"), **MONEY)
    opens_on = models.DateField(_("申报开始"))
    closes_on = models.DateField(_("申报截止"))
    categories = models.JSONField(_("使用范围"), default=list)
    # Eligibility parameters (docs/rules.md, provincial defaults).
    min_members = models.PositiveIntegerField(_("会员人数下限"), default=150)
    min_committee = models.PositiveSmallIntegerField(_("工会骨干人数下限"), default=3)
    allowed_parent_levels = models.JSONField(_("允许的隶属层级"), default=list)
    require_verified = models.BooleanField(_("须已核实"), default=True)
    require_groups = models.BooleanField(_("须覆盖新就业群体"), default=True)
    require_chair_elected = models.BooleanField(_("须主席依法选举且在任期内"), default=True)
    # Evaluation weights (docs/rules.md §9); the evaluation round copies them.
    weight_satisfaction = models.DecimalField(_("满意度权重"), max_digits=4, decimal_places=3, default=Decimal("0.5"))
    weight_utilization = models.DecimalField(
        _("资金使用率权重"), max_digits=4, decimal_places=3, default=Decimal("0.3")
    )
    weight_coverage = models.DecimalField(_("覆盖率权重"), max_digits=4, decimal_places=3, default=Decimal("0.2"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProgramQuerySet.as_manager()

    class Meta:
        verbose_name = _("专项经费项目")
        verbose_name_plural = _("专项经费项目")
        ordering = ["-year", "owner_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "year", "name"], name="program_unique_name_per_owner_year"),
            models.CheckConstraint(condition=Q(budget_total__gt=0), name="program_budget_positive"),
            models.CheckConstraint(condition=Q(max_grant__gt=0), name="program_max_grant_positive"),
            models.CheckConstraint(
                condition=Q(max_grant__lte=models.F("budget_total")), name="program_max_within_budget"
            ),
            models.CheckConstraint(condition=Q(target_count__gt=0), name="program_target_positive"),
            models.CheckConstraint(condition=Q(closes_on__gte=models.F("opens_on")), name="program_window_ordered"),
        ]

    def __str__(self) -> str:
        return self.name if str(self.year) in self.name else f"{self.year} {self.name}"

    def category_labels(self) -> list[str]:
        labels = dict(Category.choices)
        return [str(labels.get(c, c)) for c in self.categories]


class ProgramFunding(models.Model):
    """One funding source of a program (财政资金 / 工会补助 / 其他); amounts add up to the budget."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="funding")
    source = models.CharField(_("资金来源"), max_length=10, choices=FundingSource.choices)
    amount = models.DecimalField(_("金额"), **MONEY)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "source"], name="program_funding_source_once"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="program_funding_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.amount}"


class CityQuota(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="city_quotas")
    city = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    count = models.PositiveIntegerField(_("名额"))

    class Meta:
        ordering = ["city_id"]
        constraints = [models.UniqueConstraint(fields=["program", "city"], name="city_quota_once")]

    def __str__(self) -> str:
        return f"{self.city_id}: {self.count}"


class ApplicationQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(scope_q(user, county="union__county", union="union"))


class Application(ChangeTracked):
    """A union's subsidy application to a program (docs/rules.md)."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="applications")
    union = models.ForeignKey(Union, on_delete=models.PROTECT, related_name="applications")
    status = models.CharField(
        _("状态"), max_length=12, choices=ApplicationStatus.choices, default=ApplicationStatus.DRAFT
    )
    requested_amount = models.DecimalField(_("申请金额"), **MONEY)
    approved_amount = models.DecimalField(_("核定金额"), null=True, blank=True, **MONEY)
    plan = models.TextField(_("使用计划"), blank=True)
    # Snapshot of the last eligibility check and the priority score at the last transition.
    eligible = models.BooleanField(_("符合条件"), null=True)
    eligibility_checks = models.JSONField(default=list, blank=True)
    priority_score = models.PositiveSmallIntegerField(_("优先分"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(_("创建时间"), default=clock.now)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("补助申请")
        verbose_name_plural = _("补助申请")
        ordering = ["-priority_score", "submitted_at", "id"]
        constraints = [
            # single_application: one application per union and program.
            models.UniqueConstraint(fields=["program", "union"], name="application_once_per_program"),
            models.CheckConstraint(condition=Q(requested_amount__gt=0), name="application_requested_positive"),
            models.CheckConstraint(
                condition=Q(approved_amount__isnull=True) | Q(approved_amount__gt=0),
                name="application_approved_positive",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(approved_amount__isnull=False),
                name="application_approved_has_amount",
            ),
        ]
        indexes = [
            *ChangeTracked.Meta.indexes,
            models.Index(fields=["program", "status"]),
            models.Index(fields=["status", "priority_score"]),
        ]

    def __str__(self) -> str:
        return f"{self.union.name} · {self.program.name}"


class BudgetLine(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="budget_lines")
    category = models.CharField(_("使用范围"), max_length=20, choices=Category.choices)
    amount = models.DecimalField(_("金额"), **MONEY)
    description = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="budget_line_positive")]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.amount}"


class ApplicationTransition(WorkflowStep):
    """One step of an application's history."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="history")

    class Meta(WorkflowStep.Meta):
        pass

    @property
    def action_label(self) -> str:
        return str(ACTION_LABELS.get(self.action, self.action))

    @property
    def from_label(self) -> str:
        return str(ApplicationStatus(self.from_status).label)

    @property
    def to_label(self) -> str:
        return str(ApplicationStatus(self.to_status).label)


def attachment_path(instance, filename: str) -> str:
    # Unguessable name; the original name is kept in the row, never in the path.
    return f"attachments/{instance.application_id}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="attachments")
    kind = models.CharField(_("类型"), max_length=20, choices=AttachmentKind.choices)
    file = models.FileField(upload_to=attachment_path)
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class AllocationQuerySet(models.QuerySet):
    def for_user(self, user):
        # ``city`` is copied from the union's county at approval, so it is the same scope in fewer joins.
        return self.filter(scope_q(user, county="county", union="union", city="city"))


class Allocation(ChangeTracked):
    """Money granted to a union (下拨), created when its application is approved.

    ``year``, ``county`` and ``city`` are copied from the program and the union at approval: they are
    what the money was granted under, and they let the allocations API filter without joins.
    ``disbursed_amount`` and ``spent_amount`` are kept by the services under the allocation's row lock
    (and checked by constraints); ``updated_at`` moves whenever the allocation, a tranche or an
    expenditure changes. Rewriting the row on every such change is also what moves ``change_xid``, the
    position of the change feed that outside systems pull (``unionfunds.core.feed``).
    """

    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="allocation")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="allocations")
    union = models.ForeignKey(Union, on_delete=models.PROTECT, related_name="allocations")
    year = models.PositiveSmallIntegerField(_("年度"))
    county = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("县（市、区）"))
    city = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("市"))
    amount = models.DecimalField(_("下拨金额"), **MONEY)
    disbursed_amount = models.DecimalField(_("已拨付"), default=ZERO, **MONEY)
    spent_amount = models.DecimalField(_("已支出"), default=ZERO, **MONEY)
    status = models.CharField(
        _("状态"), max_length=20, choices=AllocationStatus.choices, default=AllocationStatus.ALLOCATED
    )
    approved_at = models.DateTimeField(_("批准时间"))
    updated_at = models.DateTimeField(_("更新时间"))

    objects = AllocationQuerySet.as_manager()

    class Meta:
        verbose_name = _("下拨")
        verbose_name_plural = _("下拨")
        ordering = ["-approved_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_positive"),
            models.CheckConstraint(
                condition=Q(disbursed_amount__gte=0, disbursed_amount__lte=models.F("amount")),
                name="allocation_disbursed_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(spent_amount__gte=0, spent_amount__lte=models.F("disbursed_amount")),
                name="allocation_spent_within_disbursed",
            ),
        ]
        indexes = [
            *ChangeTracked.Meta.indexes,
            models.Index(fields=["updated_at", "id"]),
            models.Index(fields=["year", "city", "county"]),
            models.Index(fields=["program", "status"]),
            models.Index(fields=["amount"]),
            # ?status= alone: every filter of the API has an index.
            models.Index(fields=["status", "updated_at", "id"]),
        ]

    def __str__(self) -> str:
        return f"{self.union.name} {self.amount}"

    @property
    def utilization_rate(self) -> Decimal:
        """Spent ÷ allocated, four places (0.7500 = 75 %)."""
        return (self.spent_amount / self.amount).quantize(Decimal("0.0001")) if self.amount else Decimal("0")


class AllocationFunding(models.Model):
    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="funding")
    source = models.CharField(max_length=10, choices=FundingSource.choices)
    amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["allocation", "source"], name="allocation_funding_source_once"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="allocation_funding_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.amount}"


def voucher_path(instance, filename: str) -> str:
    return f"vouchers/{instance.allocation_id}/{uuid.uuid4().hex}"


class Disbursement(models.Model):
    """A tranche (拨付) of an allocation paid one step down the hierarchy: from a federation to a lower
    federation on the union's chain (province → city or county, city → county) or to the union."""

    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="disbursements")
    amount = models.DecimalField(_("金额"), **MONEY)
    paid_on = models.DateField(_("拨付日期"))
    voucher_no = models.CharField(_("凭证号"), max_length=50)
    from_region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("拨出单位"))
    # Where the tranche went: a federation further down the union's chain, or (null) the union itself.
    # Only tranches that reach the union count as disbursed to it.
    to_region = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("拨入单位")
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name = _("拨付")
        verbose_name_plural = _("拨付")
        ordering = ["paid_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="disbursement_positive"),
            # A paying federation's voucher is entered once, even by two clerks at the same moment.
            models.UniqueConstraint(fields=["from_region", "voucher_no"], name="disbursement_voucher_once"),
        ]

    def __str__(self) -> str:
        return f"{self.paid_on} {self.amount}"


class Expenditure(models.Model):
    """Money spent (支出) by the union from what it received, by policy category."""

    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="expenditures")
    spent_on = models.DateField(_("支出日期"))
    category = models.CharField(_("使用范围"), max_length=20, choices=Category.choices)
    amount = models.DecimalField(_("金额"), **MONEY)
    description = models.CharField(_("用途说明"), max_length=300)
    voucher_no = models.CharField(_("凭证号"), max_length=50)
    beneficiaries = models.PositiveIntegerField(_("受益职工人数"), default=0)
    voucher_file = models.FileField(upload_to=voucher_path, blank=True)
    voucher_name = models.CharField(max_length=200, blank=True)
    voucher_type = models.CharField(max_length=100, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name = _("支出")
        verbose_name_plural = _("支出")
        ordering = ["spent_on", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="expenditure_positive")]
        indexes = [models.Index(fields=["allocation", "category"])]

    def __str__(self) -> str:
        return f"{self.spent_on} {self.get_category_display()} {self.amount}"
