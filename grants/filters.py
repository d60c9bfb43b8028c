import django_filters
from django.utils.translation import gettext_lazy as _

from members.choices import OrgForm
from unionfunds.core.filters import BooleanFilter, IdFilter, OrderingFilter, YearFilter

from .choices import ApplicationStatus
from .models import Application, Program


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
