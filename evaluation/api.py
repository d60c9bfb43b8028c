"""REST endpoints of the evaluation app. Lists through ``selectors`` (scoped with ``for_user``), writes
through ``services``; the actions on a self-assessment are those of its workflow table."""

from __future__ import annotations

import keyword
from collections.abc import Callable
from typing import Any

from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from unionfunds.core.schema import RefusalSerializer

from . import selectors, services
from .choices import JobStatus
from .filters import AssessmentFilter, SpotCheckFilter
from .models import SelfAssessment
from .serializers import (
    ASSESSMENT_ACTION_SERIALIZERS,
    AssessmentSerializer,
    ReportJobSerializer,
    ReportRequestSerializer,
    RoundSerializer,
    SpotCheckRequestSerializer,
    SpotCheckSerializer,
    SurveyEntrySerializer,
    VerifySerializer,
)
from .workflows import ASSESSMENT_WORKFLOW


class RoundViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = RoundSerializer

    def get_queryset(self):
        return selectors.rounds(self.request.user)

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
        return Response(
            {
                "id": draw.pk,
                "round": round_.pk,
                "seed": draw.seed,
                "count": draw.count,
                "counties": [
                    {"spot_check": c.pk, "code": c.assessment.county_id, "name": c.assessment.county.name}
                    for c in selectors.draw_checks(draw)
                ],
            },
            status=status.HTTP_201_CREATED,
        )


# Self-assessments; one POST action per action of ``ASSESSMENT_WORKFLOW``, added below the class. (A comment,
# not a docstring: the schema would publish a docstring as the description of every operation.)
class AssessmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = AssessmentSerializer
    filterset_class = AssessmentFilter

    def get_queryset(self):
        return selectors.assessments(self.request.user)

    def _read(self, assessment: SelfAssessment) -> dict[str, Any]:
        return AssessmentSerializer(self.get_queryset().get(pk=assessment.pk)).data


def _assessment_action(name: str) -> Callable[..., Response]:
    """The POST ``/self-assessments/{id}/<name>/`` of one workflow action: its body, its service."""
    body_class = ASSESSMENT_ACTION_SERIALIZERS[name]
    service = services.ASSESSMENT_SERVICES[name]

    def view(self: AssessmentViewSet, request: Request, pk: str | None = None) -> Response:
        body = body_class(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(self._read(service(assessment=self.get_object(), by=request.user, **body.validated_data)))

    view.__name__ = f"{name}_" if keyword.iskeyword(name) else name
    view = action(detail=True, methods=["post"], url_path=name)(view)
    return extend_schema(request=body_class, responses=AssessmentSerializer)(view)


for _name in ASSESSMENT_WORKFLOW.actions:
    _view = _assessment_action(_name)
    setattr(AssessmentViewSet, _view.__name__, _view)


class SpotCheckViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = SpotCheckSerializer
    filterset_class = SpotCheckFilter

    def get_queryset(self):
        return selectors.spot_checks(self.request.user)

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


class ReportViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ReportJobSerializer

    def get_queryset(self):
        return selectors.report_jobs(self.request.user)

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
