"""API shapes of the REST contract in README. Serializers only check types and shape; rules live in services.py."""

from rest_framework import serializers

from unionfunds.core.fields import DateField, IntegerField

from .choices import Gender, OrgForm, ParentLevel, WorkerGroup
from .models import Member, Region, Union


class RegionSerializer(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent_id", allow_null=True, read_only=True)

    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent", "federation_name"]


class UnionSerializer(serializers.ModelSerializer):
    county = serializers.CharField(source="county_id", max_length=6)
    county_name = serializers.CharField(source="county.name", read_only=True)
    org_form = serializers.ChoiceField(choices=OrgForm.choices)
    parent_level = serializers.ChoiceField(choices=ParentLevel.choices)
    covered_groups = serializers.ListField(
        child=serializers.ChoiceField(choices=WorkerGroup.choices), source="groups", allow_empty=True
    )
    chair_term_years = serializers.ChoiceField(choices=[3, 5])
    chair_elected_on = DateField(required=False, allow_null=True)
    founded_on = DateField(required=False, allow_null=True)
    committee_size = IntegerField(min_value=0, max_value=999, required=False)
    member_count = serializers.IntegerField(read_only=True)
    bank_account = serializers.CharField(max_length=40, required=False, allow_blank=True, write_only=True)
    bank_account_masked = serializers.CharField(read_only=True)
    contact_phone = serializers.CharField(max_length=20, required=False, allow_blank=True)

    class Meta:
        model = Union
        fields = [
            "id",
            "name",
            "credit_code",
            "org_form",
            "county",
            "county_name",
            "parent_level",
            "covered_groups",
            "chair_name",
            "chair_elected_on",
            "chair_term_years",
            "committee_size",
            "founded_on",
            "funds_hard_to_guarantee",
            "bank_name",
            "bank_account",
            "bank_account_masked",
            "contact_name",
            "contact_phone",
            "status",
            "member_count",
            "verified_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "status", "member_count", "verified_at", "created_at", "updated_at"]
        extra_kwargs = {"credit_code": {"validators": []}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["contact_phone"] = instance.contact_phone_masked
        return data

    def to_service_data(self) -> dict:
        """validated_data with the model's source names turned back into the field names of §5."""
        data = dict(self.validated_data)
        if "county_id" in data:
            data["county"] = data.pop("county_id")
        if "groups" in data:
            data["covered_groups"] = data.pop("groups")
        return data


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class MemberSerializer(serializers.ModelSerializer):
    id_number = serializers.CharField(write_only=True, max_length=18)
    gender = serializers.ChoiceField(choices=Gender.choices, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    group = serializers.ChoiceField(choices=WorkerGroup.choices)
    joined_on = DateField()
    left_on = DateField(required=False, allow_null=True)
    union = serializers.IntegerField(source="union_id", read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = Member
        fields = [
            "id",
            "union",
            "name",
            "id_number",
            "id_number_masked",
            "gender",
            "phone",
            "group",
            "platform",
            "joined_on",
            "left_on",
            "is_active",
        ]
        read_only_fields = ["id", "id_number_masked"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["phone"] = instance.phone_masked
        return data


class MemberUpdateSerializer(MemberSerializer):
    id_number = serializers.CharField(write_only=True, max_length=18, required=False)


class RosterImportSerializer(serializers.Serializer):
    file = serializers.FileField()


class RosterErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    column = serializers.CharField()
    message = serializers.CharField()


class RosterImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    errors = RosterErrorSerializer(many=True)
