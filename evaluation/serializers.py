"""The evaluation API's request and response bodies (the field names are part of the API's contract)."""

from django.utils.translation import gettext as _
from rest_framework import serializers

from unionfunds.core.fields import DecimalField, IntegerField
from unionfunds.core.filters import MAX_ID, MAX_SMALL

from . import services
from .choices import Answer, Grade, JobStatus, ReportKind
from .models import EvaluationRound, ReportJob, SelfAssessment, SpotCheck

SCORE = {"max_digits": 5, "decimal_places": 2}


class WeightsSerializer(serializers.Serializer):
    utilization = DecimalField(max_digits=4, decimal_places=3)
    coverage = DecimalField(max_digits=4, decimal_places=3)
    satisfaction = DecimalField(max_digits=4, decimal_places=3)


class RoundSerializer(serializers.ModelSerializer):
    program = IntegerField(source="program_id", min_value=1, max_value=MAX_ID)
    weights = WeightsSerializer(required=False)
    year = serializers.IntegerField(read_only=True)
    coverage_target = DecimalField(max_digits=4, decimal_places=3, required=False)
    min_responses = IntegerField(min_value=1, max_value=MAX_SMALL, required=False)

    class Meta:
        model = EvaluationRound
        fields = ["id", "program", "year", "coverage_target", "min_responses", "weights", "created_at"]
        read_only_fields = ["id", "created_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["weights"] = {k: f"{v:.3f}" for k, v in instance.weights.items()}
        return data


class SurveyEntrySerializer(serializers.Serializer):
    union = IntegerField(min_value=1, max_value=MAX_ID)
    answer = serializers.ChoiceField(choices=Answer.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=500)


class SpotCheckRequestSerializer(serializers.Serializer):
    count = IntegerField(min_value=1, max_value=MAX_SMALL, required=False)
    ratio = DecimalField(max_digits=4, decimal_places=3, required=False)
    seed = IntegerField(min_value=0, max_value=services.MAX_SEED, required=False)

    def validate(self, attrs):
        if ("count" in attrs) == ("ratio" in attrs):
            raise serializers.ValidationError({"count": str(services.COUNT_OR_RATIO)})
        return attrs


class AssessmentSerializer(serializers.ModelSerializer):
    round = serializers.IntegerField(source="round_id")
    county = serializers.CharField(source="county_id")
    county_name = serializers.CharField(source="county.name")
    city = serializers.CharField(source="county.parent_id")
    # Blank until the figures are computed; read-only model fields lose allow_blank, so the schema
    # would not admit "" without these declarations.
    grade = serializers.ChoiceField(choices=Grade.choices, allow_blank=True, read_only=True)
    final_grade = serializers.ChoiceField(choices=Grade.choices, allow_blank=True, read_only=True)

    class Meta:
        model = SelfAssessment
        fields = [
            "id",
            "round",
            "county",
            "county_name",
            "city",
            "status",
            "utilization_rate",
            "coverage_rate",
            "satisfaction",
            "score_utilization",
            "score_coverage",
            "score_satisfaction",
            "total_score",
            "grade",
            "reviewed_score",
            "final_score",
            "final_grade",
            "flags",
            "adjustments",
            "narrative",
            "submitted_at",
            "approved_at",
        ]
        read_only_fields = fields


class AdjustmentSerializer(serializers.Serializer):
    score = DecimalField(**SCORE, min_value=0, max_value=100)
    reason = serializers.CharField(max_length=500)


class ApproveSerializer(serializers.Serializer):
    adjustments = serializers.DictField(child=AdjustmentSerializer(), required=False)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class SubmitSerializer(serializers.Serializer):
    narrative = serializers.CharField(max_length=20000, allow_blank=True, required=False, default="")


class AssessmentCommentSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")


class SpotCheckSerializer(serializers.ModelSerializer):
    round = serializers.IntegerField(source="draw.round_id")
    seed = serializers.IntegerField(source="draw.seed")
    assessment = serializers.IntegerField(source="assessment_id")
    county = serializers.CharField(source="assessment.county_id")
    county_name = serializers.CharField(source="assessment.county.name")
    reviewed_score = serializers.DecimalField(source="assessment.reviewed_score", **SCORE)

    class Meta:
        model = SpotCheck
        fields = [
            "id",
            "round",
            "seed",
            "assessment",
            "county",
            "county_name",
            "status",
            "reviewed_score",
            "verified_utilization",
            "verified_coverage",
            "verified_satisfaction",
            "verified_score",
            "difference",
            "flagged",
            "findings",
            "verified_at",
        ]
        read_only_fields = fields


class VerifiedScoresSerializer(serializers.Serializer):
    utilization = DecimalField(**SCORE, min_value=0, max_value=100)
    coverage = DecimalField(**SCORE, min_value=0, max_value=100)
    satisfaction = DecimalField(**SCORE, min_value=0, max_value=100)


class VerifySerializer(serializers.Serializer):
    scores = VerifiedScoresSerializer()
    findings = serializers.CharField(max_length=5000)


class ReportJobSerializer(serializers.ModelSerializer):
    round = serializers.IntegerField(source="round_id")
    region = serializers.CharField(source="region_id")
    error = serializers.SerializerMethodField()
    version = serializers.SerializerMethodField()

    class Meta:
        model = ReportJob
        fields = [
            "id",
            "kind",
            "round",
            "region",
            "status",
            "progress",
            "error",
            "requested_at",
            "finished_at",
            "version",
        ]
        read_only_fields = fields

    def get_error(self, job) -> str:
        # Our own failures are stored as source text (a catalogue entry); a worker's exception text is not.
        return _(job.error) if job.error else ""

    def get_version(self, job) -> dict | None:
        version = getattr(job, "version", None) if job.status == JobStatus.DONE else None
        if version is None:
            return None
        return {"number": version.number, "sha256": version.sha256, "size": version.size, "pages": version.pages}


class ReportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    round = IntegerField(min_value=1, max_value=MAX_ID)
    region = serializers.CharField(max_length=6)


# The request body of each action of the assessment workflow (the API takes the actions from the table).
ASSESSMENT_ACTION_SERIALIZERS = {
    "submit": SubmitSerializer,
    "approve": ApproveSerializer,
    "return": AssessmentCommentSerializer,
}
