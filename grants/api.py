"""REST endpoints for programs and applications (SPEC §5). Scope via selectors, writes via services."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from unionfunds.core import clock
from unionfunds.core.changes import FEED_ORDER
from unionfunds.core.feed import FeedPagination

from . import eligibility, permissions, selectors, services
from .filters import ApplicationFilter, ProgramFilter
from .models import ApplicationTransition
from .serializers import (
    ActionSerializer,
    ApplicationSerializer,
    ApplicationUpdateSerializer,
    ApproveSerializer,
    BudgetSerializer,
    EligibilitySerializer,
    ProgramSerializer,
)


class ProgramPermission(IsAuthenticated):
    message = ""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if view.action == "create":
            allowed, self.message = permissions.can_create_program(request.user)
            return allowed
        return True


class ProgramViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = ProgramSerializer
    permission_classes = [ProgramPermission]
    filterset_class = ProgramFilter

    def get_queryset(self):
        return selectors.programs_for(self.request.user).order_by("-year", "id")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        program = services.program_create(data=serializer.to_service_data(), by=request.user)
        return Response(ProgramSerializer(self.get_queryset().get(pk=program.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=BudgetSerializer)
    @action(detail=True, methods=["get"])
    def budget(self, request, pk=None):
        return Response(selectors.program_budget(self.get_object(), user=request.user))


def _action(name: str, serializer_class=ActionSerializer):
    @extend_schema(request=serializer_class, responses=ApplicationSerializer)
    def view(self, request, pk=None):
        body = serializer_class(data=request.data)
        body.is_valid(raise_exception=True)
        application = services.application_transition(
            application=self.get_object(),
            action=name,
            by=request.user,
            comment=body.validated_data.get("comment", ""),
            approved_amount=body.validated_data.get("approved_amount"),
        )
        return Response(self._read(application))

    view.__name__ = name if name != "return" else "return_"
    return action(detail=True, methods=["post"], url_path=name, url_name=name)(view)


class ApplicationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ApplicationSerializer
    filterset_class = ApplicationFilter
    pagination_class = FeedPagination  # the change feed outside systems pull (unionfunds.core.feed)
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (
            selectors.applications_for(self.request.user)
            .prefetch_related(
                "budget_lines", Prefetch("history", queryset=ApplicationTransition.objects.select_related("actor"))
            )
            .order_by(*FEED_ORDER)  # the feed's order; ?ordering=-priority for the review order
        )

    def get_serializer_class(self):
        return ApplicationUpdateSerializer if self.action in ("update", "partial_update") else ApplicationSerializer

    def _read(self, application) -> dict:
        return ApplicationSerializer(self.get_queryset().get(pk=application.pk)).data

    def create(self, request, *args, **kwargs):
        serializer = ApplicationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        application = services.application_create(data=serializer.to_service_data(), by=request.user)
        return Response(self._read(application), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        application = self.get_object()
        serializer = ApplicationUpdateSerializer(application, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        application = services.application_update(
            application=application, data=serializer.to_service_data(), by=request.user
        )
        return Response(self._read(application))

    @extend_schema(responses=EligibilitySerializer)
    @action(detail=True, methods=["get"])
    def eligibility(self, request, pk=None):
        application = self.get_object()
        checks = eligibility.evaluate_many([application], on=clock.today())[application.pk]
        return Response({"eligible": all(c.passed for c in checks), "checks": [c.as_dict() for c in checks]})

    submit = _action("submit")
    recommend = _action("recommend")
    review = _action("review")
    approve = _action("approve", ApproveSerializer)
    reject = _action("reject")
    return_ = _action("return")
