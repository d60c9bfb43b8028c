"""REST endpoints of programs, applications and allocations (the pull API of outside systems, its exports and
summaries, and the tranche and expenditure records). Scope via selectors, writes via services."""

import keyword
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

from unionfunds.core import clock
from unionfunds.core.changes import FEED_ORDER
from unionfunds.core.exports import to_csv, to_xlsx
from unionfunds.core.feed import CURSOR, FeedPagination, bad_cursor
from unionfunds.core.filters import MAX_ID, WholeNumberField
from unionfunds.core.parsers import JSONParser
from unionfunds.core.renderers import SPREADSHEET_RENDERERS, CSVRenderer, XLSXRenderer
from unionfunds.core.uploads import voucher_too_large_message

from . import eligibility, permissions, selectors, services
from .filters import AllocationFilter, ApplicationFilter, ProgramFilter
from .models import ApplicationTransition
from .serializers import (
    ActionSerializer,
    AllocationSchema,
    ApplicationSerializer,
    ApplicationUpdateSerializer,
    ApproveSerializer,
    BudgetSerializer,
    DisbursementSerializer,
    EligibilitySerializer,
    ExpenditureSerializer,
    ProgramSerializer,
    allocation_summary_schema,
    disbursement_data,
    expenditure_data,
)
from .workflows import ACTIONS

# ---------------------------------------------------------------- programs


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


# ---------------------------------------------------------------- applications


class ApplicationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    # One ``POST /applications/{id}/<action>/`` per action of the workflow tables is added below the class.
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


# What an action's body holds beyond the comment.
ACTION_BODIES: dict[str, type[ActionSerializer]] = {"approve": ApproveSerializer}


def _workflow_action(name: str) -> Callable:
    """The endpoint ``POST /applications/{id}/<name>/``: the service decides whether it is allowed."""
    serializer_class = ACTION_BODIES.get(name, ActionSerializer)

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

    view.__name__ = _method_name(name)
    return action(detail=True, methods=["post"], url_path=name, url_name=name)(view)


def _method_name(name: str) -> str:
    return f"{name}_" if keyword.iskeyword(name) else name  # "return" is a keyword


for _name in ACTIONS:
    setattr(ApplicationViewSet, _method_name(_name), _workflow_action(_name))


# ---------------------------------------------------------------- allocations


class AllocationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filterset_class = AllocationFilter
    pagination_class = FeedPagination  # the change feed outside systems pull (unionfunds.core.feed)
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, *SPREADSHEET_RENDERERS]
    serializer_class = AllocationSchema

    def get_queryset(self):
        return selectors.allocations_for(self.request.user)

    def get_renderers(self):
        # Only the list exports: a CSV of one allocation's detail would be a meaningless "field,message" sheet.
        renderers = super().get_renderers()
        if self.action in ("list", None):  # None: a method the view does not take, answered 405 in any format
            return renderers
        return [r for r in renderers if not isinstance(r, SPREADSHEET_RENDERERS)]

    @extend_schema(
        parameters=[
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv", "xlsx"]),
        ],
        responses={200: AllocationSchema(many=True)},
    )
    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        export = request.accepted_renderer.format
        if export in ("csv", "xlsx"):
            self.paginator.check_params(request)  # an export has every row, but page=-5 is still wrong
            if request.query_params.get(CURSOR):
                raise bad_cursor(_("导出包含全部符合条件的记录，不接受 cursor。"))
            rows = selectors.export_rows(queryset)
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
            if export == "csv":
                body, content_type = (
                    to_csv(selectors.EXPORT_HEADERS, rows),
                    CSVRenderer.media_type + "; charset=utf-8",
                )
            else:
                body, content_type = (
                    to_xlsx(selectors.EXPORT_HEADERS, rows, sheet_title="allocations"),
                    XLSXRenderer.media_type,
                )
            response = HttpResponse(body, content_type=content_type)
            response["Content-Disposition"] = f'attachment; filename="allocations-{stamp}.{export}"'
            return response
        values = self.paginator.paginate_sliced(queryset, request, view=self, read=selectors.list_values)
        return self.get_paginated_response(selectors.page_rows(values))

    def retrieve(self, request, *args, **kwargs):
        allocation = self.get_object()
        data = selectors.allocation_row(allocation)
        data["disbursements"] = [disbursement_data(d) for d in allocation.disbursements.all()]
        data["expenditures"] = [expenditure_data(e) for e in allocation.expenditures.all()]
        data["by_category"] = [{**r, "total": f"{r['total']:.2f}"} for r in selectors.by_category(allocation)]
        return Response(data)

    @extend_schema(
        parameters=[
            OpenApiParameter("program", {"type": "integer", "minimum": 0, "maximum": MAX_ID}),
            OpenApiParameter("group_by", OpenApiTypes.STR, enum=[*selectors.GROUPS]),
        ],
        responses=allocation_summary_schema(),
    )
    @action(
        detail=False,
        methods=["get"],
        renderer_classes=[JSONRenderer, BrowsableAPIRenderer],
        pagination_class=None,  # a few rows per group: one plain list, as the schema says
        filterset_class=None,
    )
    def summary(self, request):
        group_by = request.query_params.get("group_by") or "city"
        if group_by not in selectors.GROUPS:
            raise ValidationError(
                {"group_by": [_("应为 %(choices)s 之一。") % {"choices": " / ".join(selectors.GROUPS)}]}
            )
        try:  # the id filters' whole-number rule: ASCII digits within the id range ("²" or "1.0" are not ids)
            program = WholeNumberField(min_value=0, max_value=MAX_ID, required=False).clean(
                request.query_params.get("program")
            )
        except DjangoValidationError:
            raise ValidationError({"program": [_("应为项目编号（整数）。")]}) from None
        return Response(selectors.summary(request.user, group_by=group_by, program=program))

    @extend_schema(request=DisbursementSerializer, responses={201: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"], renderer_classes=[JSONRenderer], parser_classes=[JSONParser, FormParser])
    def disbursements(self, request, pk=None):
        allocation = self.get_object()
        body = DisbursementSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tranche = services.disbursement_record(allocation=allocation, by=request.user, **body.validated_data)
        return Response(disbursement_data(tranche), status=status.HTTP_201_CREATED)

    @extend_schema(
        request={"multipart/form-data": ExpenditureSerializer, "application/json": ExpenditureSerializer},
        responses={201: OpenApiTypes.OBJECT},
    )
    @action(
        detail=True,
        methods=["post"],
        renderer_classes=[JSONRenderer],
        parser_classes=[JSONParser, MultiPartParser, FormParser],
    )
    def expenditures(self, request, pk=None):
        allocation = self.get_object()
        body = ExpenditureSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        upload = data.pop("voucher_file", None)
        if upload is not None and upload.size > settings.UPLOAD_MAX_BYTES:
            raise ValidationError({"voucher_file": [voucher_too_large_message()]})
        expenditure = services.expenditure_record(
            allocation=allocation,
            data=data,
            by=request.user,
            voucher_name=upload.name if upload else "",
            voucher_content=upload.read() if upload else None,
        )
        return Response(expenditure_data(expenditure), status=status.HTTP_201_CREATED)
