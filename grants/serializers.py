"""API shapes of programs, applications and allocations. Type and shape only; the rules are in the services."""

import datetime as dt
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from members.choices import ParentLevel
from unionfunds.core.fields import DateField, IntegerField, MoneyField
from unionfunds.core.filters import MAX_COUNT, MAX_ID, MAX_SMALL

from .choices import ApplicationStatus, Category, FundingSource
from .models import Application, Disbursement, Expenditure, Program


class FundingSourceSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=FundingSource.choices)
    amount = MoneyField()


class ProgramSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner_id", required=False, max_length=6)
    owner_name = serializers.CharField(source="owner.federation_name", read_only=True)
    # Written as given; read back by to_representation from the related rows (write_only keeps the
    # ModelSerializer from looking for attributes of these names on the Program).
    funding_sources = FundingSourceSerializer(many=True, write_only=True)
    city_quotas = serializers.DictField(
        child=IntegerField(min_value=0, max_value=MAX_COUNT), required=False, write_only=True
    )
    categories = serializers.ListField(child=serializers.ChoiceField(choices=Category.choices), required=False)
    allowed_parent_levels = serializers.ListField(
        child=serializers.ChoiceField(choices=ParentLevel.choices), required=False
    )
    max_grant = MoneyField(required=False, allow_null=True)
    budget_total = MoneyField()
    year = IntegerField(min_value=2000, max_value=2100)
    target_count = IntegerField(min_value=1, max_value=MAX_COUNT)
    min_members = IntegerField(min_value=0, max_value=MAX_COUNT, required=False)
    min_committee = IntegerField(min_value=0, max_value=MAX_SMALL, required=False)
    opens_on = DateField()
    closes_on = DateField()

    class Meta:
        model = Program
        fields = [
            "id",
            "name",
            "year",
            "owner",
            "owner_name",
            "budget_total",
            "funding_sources",
            "target_count",
            "max_grant",
            "city_quotas",
            "opens_on",
            "closes_on",
            "categories",
            "min_members",
            "min_committee",
            "allowed_parent_levels",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        validators = []

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["funding_sources"] = [{"source": f.source, "amount": f"{f.amount:.2f}"} for f in instance.funding.all()]
        data["city_quotas"] = {q.city_id: q.count for q in instance.city_quotas.all()}
        return data

    def to_service_data(self) -> dict:
        data = dict(self.validated_data)
        if "owner_id" in data:
            data["owner"] = data.pop("owner_id")
        data["funding_sources"] = [dict(item) for item in data.get("funding_sources", [])]
        return data


class BudgetLineSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=Category.choices)
    amount = MoneyField()
    description = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class HistorySerializer(serializers.Serializer):
    action = serializers.CharField()
    to = serializers.CharField(source="to_status")
    actor = serializers.CharField(source="actor.username")
    at = serializers.DateTimeField()
    comment = serializers.CharField()

    def get_fields(self):
        # "from" (the contract name) is a Python keyword, so it cannot be a class attribute; declared
        # here, it is both what the API writes and what the schema documents.
        fields = super().get_fields()
        fields["from"] = serializers.CharField(source="from_status")
        return {name: fields[name] for name in ("action", "from", "to", "actor", "at", "comment")}


class ApplicationSerializer(serializers.ModelSerializer):
    program = IntegerField(source="program_id", min_value=1, max_value=MAX_ID)
    union = IntegerField(source="union_id", min_value=1, max_value=MAX_ID)
    union_name = serializers.CharField(source="union.name", read_only=True)
    county = serializers.CharField(source="union.county_id", read_only=True)
    city = serializers.CharField(source="union.county.parent_id", read_only=True)
    requested_amount = MoneyField()
    budget_lines = BudgetLineSerializer(many=True, required=False)
    history = HistorySerializer(many=True, read_only=True)
    status = serializers.ChoiceField(choices=ApplicationStatus.choices, read_only=True)
    member_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Application
        fields = [
            "id",
            "program",
            "union",
            "union_name",
            "county",
            "city",
            "requested_amount",
            "budget_lines",
            "plan",
            "status",
            "approved_amount",
            "priority_score",
            "eligible",
            "member_count",
            "history",
            "submitted_at",
            "decided_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "approved_amount",
            "priority_score",
            "eligible",
            "submitted_at",
            "decided_at",
            "created_at",
            "updated_at",
        ]

    def to_service_data(self) -> dict:
        data = dict(self.validated_data)
        for source, name in (("program_id", "program"), ("union_id", "union")):
            if source in data:
                data[name] = data.pop(source)
        if "budget_lines" in data:
            data["budget_lines"] = [dict(line) for line in data["budget_lines"]]
        return data


class ApplicationUpdateSerializer(ApplicationSerializer):
    program = serializers.IntegerField(source="program_id", read_only=True)
    union = serializers.IntegerField(source="union_id", read_only=True)


class ActionSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class ApproveSerializer(ActionSerializer):
    approved_amount = MoneyField()


class CheckSerializer(serializers.Serializer):
    rule = serializers.CharField()
    passed = serializers.BooleanField()
    detail = serializers.CharField()


class EligibilitySerializer(serializers.Serializer):
    eligible = serializers.BooleanField()
    checks = CheckSerializer(many=True)


class BudgetCitySerializer(serializers.Serializer):
    city = serializers.CharField()
    name = serializers.CharField()
    quota = serializers.IntegerField(allow_null=True)
    approved_count = serializers.IntegerField()
    approved_total = serializers.CharField()
    remaining_slots = serializers.IntegerField(allow_null=True)


class BudgetSerializer(serializers.Serializer):
    program = serializers.IntegerField()
    budget_total = serializers.CharField()
    approved_total = serializers.CharField()
    remaining = serializers.CharField()
    approved_count = serializers.IntegerField()
    target_count = serializers.IntegerField()
    remaining_slots = serializers.IntegerField()
    by_city = BudgetCitySerializer(many=True)


# ---------------------------------------------------------------- allocations


class FundingPartSerializer(serializers.Serializer):
    source = serializers.CharField()
    amount = serializers.CharField()


class CodeNameSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class AllocationSchema(serializers.Serializer):
    """Documentation of the row shape; rows are built by ``selectors.page_rows``."""

    id = serializers.IntegerField()
    program = serializers.IntegerField()
    year = serializers.IntegerField()
    union = inline_serializer(
        "AllocationUnion",
        {"id": serializers.IntegerField(), "name": serializers.CharField(), "credit_code": serializers.CharField()},
    )
    county = CodeNameSerializer()
    city = CodeNameSerializer()
    approved_amount = serializers.CharField()
    disbursed_amount = serializers.CharField()
    spent_amount = serializers.CharField()
    utilization_rate = serializers.CharField()
    funding = FundingPartSerializer(many=True)
    status = serializers.CharField()
    approved_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def allocation_summary_schema() -> serializers.Serializer:
    """Documentation of ``GET /allocations/summary/``: one row per city, county or category."""
    return inline_serializer(
        "AllocationSummaryRow",
        {
            "key": serializers.CharField(),
            "name": serializers.CharField(),
            "allocated": serializers.CharField(),
            "disbursed": serializers.CharField(allow_null=True),
            "spent": serializers.CharField(),
            "count": serializers.IntegerField(),
        },
        many=True,
    )


class DisbursementSerializer(serializers.Serializer):
    amount = MoneyField()
    paid_on = DateField()
    voucher_no = serializers.CharField(max_length=50)
    to = serializers.CharField(
        max_length=6,
        required=False,
        allow_blank=True,
        help_text=gettext_lazy("下级总工会区划代码；留空表示直接拨付给工会"),
    )


class ExpenditureSerializer(serializers.Serializer):
    spent_on = DateField()
    category = serializers.ChoiceField(choices=Category.choices)
    amount = MoneyField()
    description = serializers.CharField(max_length=300)
    voucher_no = serializers.CharField(max_length=50)
    beneficiaries = IntegerField(min_value=0, max_value=MAX_COUNT, required=False, default=0)
    voucher_file = serializers.FileField(required=False)


DISBURSEMENT_FIELDS = ["id", "amount", "paid_on", "voucher_no", "from_region_id", "to_region_id", "created_at"]
EXPENDITURE_FIELDS = [
    "id",
    "spent_on",
    "category",
    "amount",
    "description",
    "voucher_no",
    "beneficiaries",
    "created_at",
]


def record_row(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """A tranche or an expenditure as the API shows it: money as a string, times local, dates ISO."""
    out = {}
    for name in fields:
        value = getattr(obj, name)
        if name == "amount":
            value = f"{value:.2f}"
        elif isinstance(value, dt.datetime):
            value = timezone.localtime(value).isoformat()
        elif isinstance(value, dt.date):
            value = value.isoformat()
        out[name] = value
    return out


def disbursement_data(tranche: Disbursement) -> dict[str, Any]:
    return record_row(tranche, DISBURSEMENT_FIELDS)


def expenditure_data(expenditure: Expenditure) -> dict[str, Any]:
    return record_row(expenditure, EXPENDITURE_FIELDS)
