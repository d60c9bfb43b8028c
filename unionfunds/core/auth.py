from axes.handlers.proxy import AxesProxyHandler
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

from .schema import RefusalSerializer


class ObtainTokenView(ObtainAuthToken):
    """``POST /api/v1/auth/token/`` with username and password answers ``{"token"}``.

    Authentication goes through django-axes, so failures count towards the per-account lockout
    exactly as on the login page. A locked account (per username and address) is told so with 429
    ``{"code": "locked_out"}``, even with the right password, instead of the 400 of a wrong password:
    a client must be able to tell a lockout from a typo.
    """

    @extend_schema(
        request=inline_serializer(
            "TokenRequest", {"username": serializers.CharField(), "password": serializers.CharField()}
        ),
        responses={
            200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
            429: OpenApiResponse(RefusalSerializer, description="Locked out after repeated failures (locked_out)."),
        },
    )
    def post(self, request, *args, **kwargs):
        username = request.data.get("username") if hasattr(request.data, "get") else None
        if isinstance(username, str) and AxesProxyHandler.is_locked(request._request, {"username": username}):
            return Response(
                {
                    "code": "locked_out",
                    "detail": _(
                        "密码错误次数过多，此账号在当前地址已被暂时锁定。请 30 分钟后再试，或联系上级工会管理员解锁。"
                    ),
                },
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        return super().post(request, *args, **kwargs)
