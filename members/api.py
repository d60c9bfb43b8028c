"""REST endpoints of the members app (README, REST API). Thin: scope from ``for_user``, writes via services."""

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from unionfunds.core.changes import FEED_ORDER
from unionfunds.core.decisions import enforce
from unionfunds.core.feed import FeedPagination
from unionfunds.core.uploads import too_large_message

from . import permissions, services
from .filters import RegionFilter, UnionFilter
from .models import Member, Region, Union
from .serializers import (
    CommentSerializer,
    MemberSerializer,
    MemberUpdateSerializer,
    RegionSerializer,
    RosterImportResultSerializer,
    RosterImportSerializer,
    UnionSerializer,
)
from .workflows import UNION_WORKFLOW


class UnionPermission(BasePermission):
    """Wraps members.permissions for the union endpoints (scope is the queryset's job)."""

    message = ""

    def has_permission(self, request, view):
        if view.action == "create":
            allowed, self.message = permissions.can_register_union(request.user)
            return allowed
        return True

    def has_object_permission(self, request, view, obj):
        if view.action in ("partial_update", "update"):
            enforce(permissions.can_edit_union(request.user, obj))  # 403 for the role, 409 for a dissolved union
        return True


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RegionSerializer
    lookup_field = "code"
    filterset_class = RegionFilter

    def get_queryset(self):
        return Region.objects.for_user(self.request.user).order_by("code")


@extend_schema_view(
    verify=extend_schema(request=CommentSerializer, responses=UnionSerializer),
    suspend=extend_schema(request=CommentSerializer, responses=UnionSerializer),
    reinstate=extend_schema(request=CommentSerializer, responses=UnionSerializer),
    dissolve=extend_schema(request=CommentSerializer, responses=UnionSerializer),
)
class UnionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = UnionSerializer
    filterset_class = UnionFilter
    pagination_class = FeedPagination  # the change feed outside systems pull (unionfunds.core.feed)
    # IsAuthenticated first: setting permission_classes replaces the default, and anonymous requests must
    # get 401 (not an empty list, nor a 500 from a user without a role).
    permission_classes = [IsAuthenticated, UnionPermission]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return Union.objects.for_user(self.request.user).select_related("county").order_by(*FEED_ORDER)

    def _read(self, union: Union) -> dict:
        return UnionSerializer(self.get_queryset().get(pk=union.pk)).data

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        union = services.union_register(data=serializer.to_service_data(), by=request.user)
        return Response(self._read(union), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        union = self.get_object()
        serializer = self.get_serializer(union, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        union = services.union_update(union=union, data=serializer.to_service_data(), by=request.user)
        return Response(self._read(union))

    def _transition(self, request, name: str):
        union = self.get_object()
        body = CommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        union = services.union_transition(
            union=union, action=name, by=request.user, comment=body.validated_data["comment"]
        )
        return Response(self._read(union))

    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        return self._transition(request, "verify")

    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        return self._transition(request, "suspend")

    @action(detail=True, methods=["post"])
    def reinstate(self, request, pk=None):
        return self._transition(request, "reinstate")

    @action(detail=True, methods=["post"])
    def dissolve(self, request, pk=None):
        return self._transition(request, "dissolve")


assert set(UNION_WORKFLOW.actions) == {"verify", "suspend", "reinstate", "dissolve"}


class UnionMemberViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The roster of one union: ``/unions/{union_pk}/members/``."""

    serializer_class = MemberSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_union(self) -> Union:
        if not hasattr(self, "_union"):
            self._union = get_object_or_404(Union.objects.for_user(self.request.user), pk=self.kwargs["union_pk"])
        return self._union

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Member.objects.none()
        union = self.get_union()
        queryset = Member.objects.for_user(self.request.user).filter(union=union).order_by("id")
        active = self.request.query_params.get("active")
        if active in ("true", "1"):
            queryset = queryset.active()
        elif active in ("false", "0"):
            queryset = queryset.filter(left_on__isnull=False)
        elif active not in (None, ""):
            raise ValidationError({"active": [_("应为 true 或 false。")]})
        return queryset

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return MemberUpdateSerializer
        if self.action == "import_roster":
            return RosterImportSerializer
        return MemberSerializer

    def _check_roster_keeper(self, union: Union) -> None:
        """Scope (404), role (403) and the union's state (409) are decided before the body is looked at."""
        enforce(permissions.can_manage_roster(self.request.user, union))

    def create(self, request, *args, **kwargs):
        union = self.get_union()
        self._check_roster_keeper(union)
        serializer = MemberSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = services.member_add(union=union, data=serializer.validated_data, by=request.user)
        return Response(MemberSerializer(member).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        member = self.get_object()
        self._check_roster_keeper(self.get_union())
        serializer = MemberUpdateSerializer(member, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        member = services.member_update(member=member, data=serializer.validated_data, by=request.user)
        return Response(MemberSerializer(member).data)

    @extend_schema(
        request={"multipart/form-data": RosterImportSerializer},
        responses={200: RosterImportResultSerializer, 400: OpenApiResponse(RosterImportResultSerializer)},
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser, FormParser])
    def import_roster(self, request, union_pk=None):
        union = self.get_union()
        self._check_roster_keeper(union)
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": [_("请上传名册文件（字段名 file）。")]})
        if upload.size > settings.UPLOAD_MAX_BYTES:
            result = services.RosterImportResult(
                errors=[
                    {
                        "row": 1,
                        "column": "",
                        "message": too_large_message(),
                    }
                ]
            )
        else:
            result = services.roster_import(union=union, filename=upload.name, content=upload.read(), by=request.user)
        return Response(result.as_dict(), status=status.HTTP_200_OK if result.ok else status.HTTP_400_BAD_REQUEST)
