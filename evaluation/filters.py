"""Query filters of the evaluation API's lists."""

import django_filters

from unionfunds.core.filters import IdFilter

from .choices import AssessmentStatus
from .models import SelfAssessment, SpotCheck


class AssessmentFilter(django_filters.FilterSet):
    round = IdFilter(field_name="round_id")
    county = django_filters.CharFilter(field_name="county_id")
    city = django_filters.CharFilter(field_name="county__parent_id")
    status = django_filters.ChoiceFilter(choices=AssessmentStatus.choices)

    class Meta:
        model = SelfAssessment
        fields = ["round", "county", "city", "status"]


class SpotCheckFilter(django_filters.FilterSet):
    round = IdFilter(field_name="draw__round_id")

    class Meta:
        model = SpotCheck
        fields = ["round"]
