"""REST endpoints of the evaluation app (SPEC §5). Scope from ``for_user``, writes through services."""

import django_filters
from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from unionfunds.core.fields import DecimalField, IntegerField
from unionfunds.core.filters import MAX_ID, MAX_SMALL, IdFilter
from unionfunds.core.schema import RefusalSerializer

from . import services
from .choices import Answer, AssessmentStatus, Grade, JobStatus, ReportKind
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


class RoundViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = RoundSerializer

    def get_queryset(self):
        return EvaluationRound.objects.for_user(self.request.user).select_related("program").order_by("-id")

    def create(self, request, *args, **kwargs):
        body = RoundSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        round_ = services.round_create(
            program=data["program_id"],
            by=request.user,
            coverage_target=data.get("coverage_target", "0.2"),
            min_responses=data.get("min_responses", 10),
            weights=data.get("weights"),
        )
        return Response(RoundSerializer(round_).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=SurveyEntrySerializer(many=True),
        responses=inline_serializer("SurveyEntryResult", {"created": serializers.IntegerField()}),
    )
    @action(detail=True, methods=["post"], url_path="survey-responses")
    def survey_responses(self, request, pk=None):
        round_ = self.get_object()
        if isinstance(request.data, list):  # the cap before each row is validated
            services.survey_batch_check(len(request.data))
        body = SurveyEntrySerializer(data=request.data, many=True)
        body.is_valid(raise_exception=True)
        created = services.survey_responses_enter(round_=round_, rows=body.validated_data, by=request.user)
        return Response({"created": len(created)}, status=status.HTTP_201_CREATED)

    @extend_schema(request=SpotCheckRequestSerializer, responses=None)
    @action(detail=True, methods=["post"], url_path="spot-check")
    def spot_check(self, request, pk=None):
        round_ = self.get_object()
        body = SpotCheckRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        draw = services.spot_check_draw(round_=round_, by=request.user, **body.validated_data)
        checks = SpotCheck.objects.filter(draw=draw).select_related("assessment__county__parent")
        return Response(
            {
                "id": draw.pk,
                "round": round_.pk,
                "seed": draw.seed,
                "count": draw.count,
                "counties": [
                    {"spot_check": c.pk, "code": c.assessment.county_id, "name": c.assessment.county.name}
                    for c in checks
                ],
            },
            status=status.HTTP_201_CREATED,
        )


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


class AssessmentFilter(django_filters.FilterSet):
    round = IdFilter(field_name="round_id")
    county = django_filters.CharFilter(field_name="county_id")
    city = django_filters.CharFilter(field_name="county__parent_id")
    status = django_filters.ChoiceFilter(choices=AssessmentStatus.choices)

    class Meta:
        model = SelfAssessment
        fields = ["round", "county", "city", "status"]


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


class AssessmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = AssessmentSerializer
    filterset_class = AssessmentFilter

    def get_queryset(self):
        return (
            SelfAssessment.objects.for_user(self.request.user)
            .select_related("county")
            .order_by("round_id", "county_id")
        )

    def _read(self, assessment):
        return AssessmentSerializer(self.get_queryset().get(pk=assessment.pk)).data

    @extend_schema(request=SubmitSerializer, responses=AssessmentSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        body = SubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(
            self._read(
                services.assessment_submit(
                    assessment=self.get_object(), narrative=body.validated_data["narrative"], by=request.user
                )
            )
        )

    @extend_schema(request=ApproveSerializer, responses=AssessmentSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        body = ApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(
            self._read(
                services.assessment_approve(
                    assessment=self.get_object(),
                    by=request.user,
                    adjustments=body.validated_data.get("adjustments"),
                    comment=body.validated_data["comment"],
                )
            )
        )

    @extend_schema(request=AssessmentCommentSerializer, responses=AssessmentSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        body = AssessmentCommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(
            self._read(
                services.assessment_return(
                    assessment=self.get_object(), by=request.user, comment=body.validated_data["comment"]
                )
            )
        )


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


class SpotCheckFilter(django_filters.FilterSet):
    round = IdFilter(field_name="draw__round_id")

    class Meta:
        model = SpotCheck
        fields = ["round"]


class SpotCheckViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = SpotCheckSerializer
    filterset_class = SpotCheckFilter

    def get_queryset(self):
        queryset = SpotCheck.objects.for_user(self.request.user).select_related("draw", "assessment__county")
        return queryset.order_by("-draw__drawn_at", "assessment__county_id")

    @extend_schema(request=VerifySerializer, responses=SpotCheckSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        body = VerifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        check = services.spot_check_verify(
            check=self.get_object(),
            scores=body.validated_data["scores"],
            findings=body.validated_data["findings"],
            by=request.user,
        )
        return Response(SpotCheckSerializer(self.get_queryset().get(pk=check.pk)).data)


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


class ReportViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ReportJobSerializer

    def get_queryset(self):
        return ReportJob.objects.for_user(self.request.user).select_related("version").order_by("-id")

    @extend_schema(
        request=ReportRequestSerializer,
        responses={
            202: ReportJobSerializer,
            503: OpenApiResponse(RefusalSerializer, description="The job queue cannot be reached (queue_unavailable)."),
        },
    )
    def create(self, request, *args, **kwargs):
        body = ReportRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        job, _created = services.report_request(
            kind=data["kind"], round_=data["round"], region=data["region"], by=request.user
        )
        job.refresh_from_db()
        return Response(ReportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        job = self.get_object()
        version = getattr(job, "version", None)
        if job.status != JobStatus.DONE or version is None:
            raise NotFound(_("报告尚未生成完成。"))
        response = FileResponse(version.file.open("rb"), content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="report-{job.kind}-{job.region_id}-v{version.number}.pdf"'
        )
        response["X-Content-SHA256"] = version.sha256
        return response
