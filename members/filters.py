"""Explicit filters for unions, shared by the API and the union list page."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from unionfunds.core.filters import CountFilter

from .choices import OrgForm, RegionLevel, UnionStatus, WorkerGroup
from .models import Region, Union


class UnionFilter(django_filters.FilterSet):
    county = django_filters.CharFilter(field_name="county_id", label=_("县（市、区）代码"))
    city = django_filters.CharFilter(field_name="county__parent_id", label=_("市代码"))
    status = django_filters.ChoiceFilter(choices=UnionStatus.choices, label=_("状态"))
    org_form = django_filters.ChoiceFilter(choices=OrgForm.choices, label=_("组织形式"))
    group = django_filters.ChoiceFilter(choices=WorkerGroup.choices, method="filter_group", label=_("覆盖群体"))
    min_members = CountFilter(field_name="member_count", lookup_expr="gte", label=_("会员数不少于"))
    max_members = CountFilter(field_name="member_count", lookup_expr="lte", label=_("会员数不多于"))
    q = django_filters.CharFilter(method="filter_text", label=_("名称或信用代码"))

    class Meta:
        model = Union
        fields = ["county", "city", "status", "org_form", "group", "min_members", "max_members", "q"]

    def filter_group(self, queryset, name, value):
        return queryset.covering(value) if value else queryset

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(credit_code__iexact=value.upper()))


class RegionFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=RegionLevel.choices, label=_("级别"))
    # A code, like the county and city filters: an unknown one lists nothing (a model choice answered 400).
    parent = django_filters.CharFilter(field_name="parent_id", label=_("上级"))

    class Meta:
        model = Region
        fields = ["level", "parent"]
