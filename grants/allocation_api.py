"""``/api/v1/allocations/``: the pull API of outside systems (SPEC §5), exports, summaries, and the
tranche and expenditure records that move an allocation's figures."""

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

from unionfunds.core.exports import to_csv, to_xlsx
from unionfunds.core.feed import CURSOR, FeedPagination, bad_cursor
from unionfunds.core.fields import DateField, IntegerField, MoneyField
from unionfunds.core.filters import MAX_COUNT, MAX_ID, WholeNumberField
from unionfunds.core.parsers import JSONParser
from unionfunds.core.uploads import voucher_too_large_message

from . import allocations, services
from .choices import Category


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        # Errors under ?format=csv come back as a small CSV of (field, message).
        rows = [(k, " ".join(map(str, v if isinstance(v, list) else [v]))) for k, v in (data or {}).items()]
        return to_csv(["field", "message"], rows)


class XLSXRenderer(BaseRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        rows = [(k, " ".join(map(str, v if isinstance(v, list) else [v]))) for k, v in (data or {}).items()]
        return to_xlsx(["field", "message"], rows, sheet_title="errors")


class FundingPartSerializer(serializers.Serializer):
    source = serializers.CharField()
    amount = serializers.CharField()


class CodeNameSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class AllocationSchema(serializers.Serializer):
    """Documentation of the row shape; rows are built by ``allocations.page_rows``."""

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


def _record_row(obj, fields) -> dict:
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


class AllocationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filterset_class = allocations.AllocationFilter
    pagination_class = FeedPagination  # the change feed outside systems pull (unionfunds.core.feed)
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer, XLSXRenderer]
    serializer_class = AllocationSchema

    def get_queryset(self):
        return allocations.allocations_for(self.request.user)

    def get_renderers(self):
        # Only the list exports: a CSV of one allocation's detail would be a meaningless "field,message" sheet.
        renderers = super().get_renderers()
        if self.action in ("list", None):  # None: a method the view does not take, answered 405 in any format
            return renderers
        return [r for r in renderers if not isinstance(r, CSVRenderer | XLSXRenderer)]

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
            rows = allocations.export_rows(queryset)
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
            if export == "csv":
                body, content_type = (
                    to_csv(allocations.EXPORT_HEADERS, rows),
                    CSVRenderer.media_type + "; charset=utf-8",
                )
            else:
                body, content_type = (
                    to_xlsx(allocations.EXPORT_HEADERS, rows, sheet_title="allocations"),
                    XLSXRenderer.media_type,
                )
            response = HttpResponse(body, content_type=content_type)
            response["Content-Disposition"] = f'attachment; filename="allocations-{stamp}.{export}"'
            return response
        values = self.paginator.paginate_sliced(queryset, request, view=self, read=allocations.list_values)
        return self.get_paginated_response(allocations.page_rows(values))

    def retrieve(self, request, *args, **kwargs):
        allocation = self.get_object()
        data = allocations.allocation_row(allocation)
        data["disbursements"] = [_record_row(d, DISBURSEMENT_FIELDS) for d in allocation.disbursements.all()]
        data["expenditures"] = [_record_row(e, EXPENDITURE_FIELDS) for e in allocation.expenditures.all()]
        data["by_category"] = [{**r, "total": f"{r['total']:.2f}"} for r in allocations.by_category(allocation)]
        return Response(data)

    @extend_schema(
        parameters=[
            OpenApiParameter("program", {"type": "integer", "minimum": 0, "maximum": MAX_ID}),
            OpenApiParameter("group_by", OpenApiTypes.STR, enum=[*allocations.GROUPS]),
        ],
        responses=inline_serializer(
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
        ),
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
        if group_by not in allocations.GROUPS:
            raise ValidationError(
                {"group_by": [_("应为 %(choices)s 之一。") % {"choices": " / ".join(allocations.GROUPS)}]}
            )
        try:  # the id filters' whole-number rule: ASCII digits within the id range ("²" or "1.0" are not ids)
            program = WholeNumberField(min_value=0, max_value=MAX_ID, required=False).clean(
                request.query_params.get("program")
            )
        except DjangoValidationError:
            raise ValidationError({"program": [_("应为项目编号（整数）。")]}) from None
        return Response(allocations.summary(request.user, group_by=group_by, program=program))

    @extend_schema(request=DisbursementSerializer, responses={201: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"], renderer_classes=[JSONRenderer], parser_classes=[JSONParser, FormParser])
    def disbursements(self, request, pk=None):
        allocation = self.get_object()
        body = DisbursementSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tranche = services.disbursement_record(allocation=allocation, by=request.user, **body.validated_data)
        return Response(_record_row(tranche, DISBURSEMENT_FIELDS), status=status.HTTP_201_CREATED)

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
        return Response(_record_row(expenditure, EXPENDITURE_FIELDS), status=status.HTTP_201_CREATED)
