"""The API's list filters of the grants app: programs, applications, allocations."""

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.constants import EMPTY_VALUES

from members.choices import OrgForm
from unionfunds.core.filters import AmountFilter, BooleanFilter, IdFilter, OrderingFilter, YearFilter

from .choices import AllocationStatus, ApplicationStatus
from .models import Allocation, Application, Program


class ApplicationFilter(django_filters.FilterSet):
    program = IdFilter(field_name="program_id", label=_("项目"))
    year = YearFilter(field_name="program__year", label=_("年度"))
    city = django_filters.CharFilter(field_name="union__county__parent_id", label=_("市代码"))
    county = django_filters.CharFilter(field_name="union__county_id", label=_("县（市、区）代码"))
    union = IdFilter(field_name="union_id", label=_("工会"))
    status = django_filters.ChoiceFilter(choices=ApplicationStatus.choices, label=_("状态"))
    eligible = BooleanFilter(field_name="eligible", label=_("符合条件"))
    org_form = django_filters.ChoiceFilter(field_name="union__org_form", choices=OrgForm.choices, label=_("组织形式"))
    ordering = OrderingFilter(
        fields=(("priority_score", "priority"), ("requested_amount", "amount"), ("submitted_at", "date"), ("id", "id")),
        label=_("排序"),
    )

    class Meta:
        model = Application
        fields = ["program", "year", "city", "county", "union", "status", "eligible", "org_form"]


class ProgramFilter(django_filters.FilterSet):
    year = YearFilter(field_name="year", label=_("年度"))

    class Meta:
        model = Program
        fields = ["year"]


class StableOrderingFilter(OrderingFilter):
    """Ordering with ``id`` as the last key, so rows with equal amounts (most grants are the maximum)
    come in the same order on every request and pages never repeat or skip a row."""

    def filter(self, qs: QuerySet, value) -> QuerySet:
        qs = super().filter(qs, value)
        if value not in EMPTY_VALUES:
            ordering = list(qs.query.order_by)
            if not {"id", "-id", "pk", "-pk"} & set(ordering):
                qs = qs.order_by(*ordering, "id")
        return qs


class AllocationFilter(django_filters.FilterSet):
    program = IdFilter(field_name="program_id")
    year = YearFilter(field_name="year")
    city = django_filters.CharFilter(field_name="city_id")
    county = django_filters.CharFilter(field_name="county_id")
    union = IdFilter(field_name="union_id")
    status = django_filters.ChoiceFilter(choices=AllocationStatus.choices)
    min_amount = AmountFilter(field_name="amount", lookup_expr="gte")
    max_amount = AmountFilter(field_name="amount", lookup_expr="lte")
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gt")
    ordering = StableOrderingFilter(
        fields=(
            ("approved_at", "approved_at"),
            ("updated_at", "updated_at"),
            ("amount", "approved_amount"),
            ("spent_amount", "spent_amount"),
            ("disbursed_amount", "disbursed_amount"),
            ("id", "id"),
        )
    )

    class Meta:
        model = Allocation
        fields = ["program", "year", "city", "county", "union", "status"]
