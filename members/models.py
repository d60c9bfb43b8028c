from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings

from unionfunds.core.changes import ChangeTracked
from unionfunds.core.identifiers import mask_phone

from .choices import Gender, OrgForm, ParentLevel, RegionLevel, Role, UnionStatus, WorkerGroup
from .permissions import can_view_audit
from .scope import region_scope_q, scope_q

GROUP_SEPARATOR = ","


class RegionQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(region_scope_q(user))

    def counties(self):
        return self.filter(level=RegionLevel.COUNTY)


class Region(models.Model):
    """An administrative division of GB/T 2260 and its federation of trade unions."""

    code = models.CharField(_("区划代码"), max_length=6, primary_key=True)
    name = models.CharField(_("名称"), max_length=50)
    level = models.CharField(_("级别"), max_length=10, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("上级")
    )
    federation_name = models.CharField(_("总工会名称"), max_length=60)

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level="province", parent__isnull=True) | Q(parent__isnull=False),
                name="region_parent_unless_province",
            ),
            models.CheckConstraint(condition=Q(code__regex=r"^\d{6}$"), name="region_code_six_digits"),
            # One provincial federation per installation: the province's subtree is everything (scope.py).
            models.UniqueConstraint(fields=["level"], condition=Q(level="province"), name="region_one_province"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def city_code(self) -> str | None:
        if self.level == RegionLevel.COUNTY:
            return self.parent_id
        if self.level == RegionLevel.CITY:
            return self.code
        return None


class UserQuerySet(models.QuerySet):
    def for_user(self, user):
        """Accounts homed in the user's subtree or in a union of it."""
        return self.filter(Q(region__in=Region.objects.for_user(user)) | Q(union__in=Union.objects.for_user(user)))


class ScopedUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """An account: one role, and either one region or (for union officers) one union (docs/rules.md §1)."""

    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, blank=True)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="users", verbose_name=_("所属区划")
    )
    union = models.ForeignKey(
        "members.Union",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="officers",
        verbose_name=_("所属工会"),
    )

    objects = ScopedUserManager()

    class Meta:
        verbose_name = _("账号")
        verbose_name_plural = _("账号")
        constraints = [
            models.CheckConstraint(
                condition=Q(role="")
                | Q(role="union_officer", union__isnull=False, region__isnull=True)
                | (~Q(role="union_officer") & Q(region__isnull=False, union__isnull=True)),
                name="user_role_has_one_home",
            )
        ]

    @property
    def home_region(self) -> Region | None:
        return self.union.county if self.role == Role.UNION_OFFICER and self.union_id else self.region

    @property
    def two_factor_required(self) -> bool:
        """Whether this account must log in with a second factor: its role is in ``OTP_REQUIRED_ROLES``, or
        it can reach the admin or the whole audit trail, whatever the setting says."""
        return self.role in settings.OTP_REQUIRED_ROLES or self.is_staff or self.is_superuser or can_view_audit(self)[0]

    @property
    def home_label(self) -> str:
        if self.role == Role.UNION_OFFICER and self.union_id:
            return self.union.name
        return self.region.federation_name if self.region_id else ""


class UnionQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(scope_q(user, county="county", union="pk"))

    def refresh_member_counts(self) -> int:
        """Recount ``member_count`` of these unions from their active members (one UPDATE)."""
        active = (
            Member.objects.filter(union=models.OuterRef("pk"), left_on__isnull=True)
            .order_by()
            .values("union")
            .annotate(n=Count("id"))
            .values("n")
        )
        return self.update(member_count=Coalesce(models.Subquery(active), 0))

    def covering(self, group: str):
        return self.filter(covered_groups__contains=f"{GROUP_SEPARATOR}{group}{GROUP_SEPARATOR}")


class Union(ChangeTracked):
    """A grassroots union (基层工会) of new-economy workers (docs/rules.md §2)."""

    name = models.CharField(_("工会名称"), max_length=100)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    org_form = models.CharField(_("组织形式"), max_length=24, choices=OrgForm.choices)
    county = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="unions", verbose_name=_("所在县（市、区）")
    )
    parent_level = models.CharField(_("隶属工会层级"), max_length=10, choices=ParentLevel.choices)
    # Stored as ",courier,food_delivery," so one LIKE finds a group on any database; use the
    # `groups` property for the list.
    covered_groups = models.CharField(_("覆盖群体"), max_length=200, blank=True, default="")
    chair_name = models.CharField(_("工会主席"), max_length=50)
    chair_elected_on = models.DateField(_("主席选举日期"), null=True, blank=True)
    chair_term_years = models.PositiveSmallIntegerField(_("任期（年）"), choices=[(3, "3"), (5, "5")], default=5)
    committee_size = models.PositiveSmallIntegerField(_("工会骨干人数"), default=0)
    founded_on = models.DateField(_("成立日期"), null=True, blank=True)
    funds_hard_to_guarantee = models.BooleanField(_("经费难以保证"), default=False)
    bank_name = models.CharField(_("开户银行"), max_length=100, blank=True)
    bank_account = models.CharField(_("银行账号"), max_length=40, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=UnionStatus.choices, default=UnionStatus.PENDING)
    # Active members (docs/rules.md §2), recounted by the members services under the union's row lock after every
    # roster change, so lists, filters and totals at province scale never count 823,000 rows. Every write of
    # a union (profile or roster) holds that lock, so a union saved whole writes back a current count.
    member_count = models.PositiveIntegerField(_("在册会员数"), default=0, editable=False)
    verified_at = models.DateTimeField(_("核实时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = UnionQuerySet.as_manager()

    class Meta:
        verbose_name = _("基层工会")
        verbose_name_plural = _("基层工会")
        ordering = ["county_id", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(chair_term_years__in=[3, 5]), name="union_term_3_or_5"),
            models.CheckConstraint(condition=Q(credit_code__regex=r"^81[0-9A-Z]{16}$"), name="union_credit_code_81"),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in UnionStatus]), name="union_status_known"),
        ]
        indexes = [*ChangeTracked.Meta.indexes, models.Index(fields=["status", "county"])]

    def __str__(self) -> str:
        return self.name

    @property
    def groups(self) -> list[str]:
        return [g for g in self.covered_groups.split(GROUP_SEPARATOR) if g]

    @staticmethod
    def encode_groups(groups) -> str:
        ordered = [g.value for g in WorkerGroup if g.value in set(groups)]
        return f"{GROUP_SEPARATOR}{GROUP_SEPARATOR.join(ordered)}{GROUP_SEPARATOR}" if ordered else ""

    def get_groups_display(self) -> str:
        labels = dict(WorkerGroup.choices)
        return pgettext("list separator", "、").join(str(labels[g]) for g in self.groups if g in labels)

    @property
    def contact_phone_masked(self) -> str:
        return mask_phone(self.contact_phone)

    @property
    def bank_account_masked(self) -> str:
        acct = self.bank_account
        return acct[:4] + "*" * max(len(acct) - 8, 0) + acct[-4:] if len(acct) > 8 else acct


class MemberQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(scope_q(user, county="union__county", union="union"))

    def active(self):
        return self.filter(left_on__isnull=True)


class Member(models.Model):
    """A real-name member (会员). The ID number itself is never stored: a keyed hash finds the same
    person again (docs/rules.md §2) and the masked form is what people see."""

    union = models.ForeignKey(Union, on_delete=models.PROTECT, related_name="members", verbose_name=_("工会"))
    name = models.CharField(_("姓名"), max_length=50)
    id_number_hash = models.CharField(max_length=64, editable=False)
    id_number_masked = models.CharField(_("身份证号"), max_length=18, editable=False)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices)
    # Kept whole because the union must be able to call its members; shown only masked.
    phone = models.CharField(_("手机号"), max_length=11, blank=True)
    group = models.CharField(_("群体"), max_length=20, choices=WorkerGroup.choices)
    platform = models.CharField(_("平台或单位"), max_length=100, blank=True)
    joined_on = models.DateField(_("入会日期"))
    left_on = models.DateField(_("离会日期"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("会员")
        verbose_name_plural = _("会员")
        ordering = ["union_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["union", "id_number_hash"], name="member_once_per_union"),
            # One active membership per person in the whole province.
            models.UniqueConstraint(
                fields=["id_number_hash"], condition=Q(left_on__isnull=True), name="member_one_active_union"
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="member_left_after_joined",
            ),
        ]
        indexes = [models.Index(fields=["union", "left_on"])]

    def __str__(self) -> str:
        return gettext("%(name)s（%(id_number)s）") % {"name": self.name, "id_number": self.id_number_masked}

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def is_active(self) -> bool:
        return self.left_on is None


class ApiClientQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiClient(models.Model):
    """An outside system that pulls data with OAuth2 client credentials (members/clients.py).

    Bound to a service account of its own (role auditor, homed in the client's region), so the one scope
    rule applies to its reads unchanged; ``scopes`` limit which endpoints it may call at all.
    """

    name = models.CharField(_("系统名称"), max_length=100, unique=True)
    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.PROTECT, related_name="api_client", editable=False
    )
    account = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="api_client", editable=False, verbose_name=_("服务账号")
    )
    scopes = models.CharField(_("权限范围"), max_length=200)  # space-separated, as OAuth2 writes them
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("登记人")
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("停用时间"), null=True, blank=True)

    objects = ApiClientQuerySet.as_manager()

    class Meta:
        verbose_name = _("外部系统")
        verbose_name_plural = _("外部系统")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
