from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.settings import api_settings

from . import otp
from .schema import RefusalSerializer

# django-axes records every failed login with its username in a column of this width.
AXES_USERNAME_LENGTH = 255
# The longest username an account can have (Django's AbstractUser; a test holds it to the model).
USERNAME_MAX_LENGTH = 150


class LoginForm(AuthenticationForm):
    """The login page's form: a username longer than any account's is a field error, before authenticating.

    Django's form shows the username's max_length on the widget only; without a validator a 300-character
    username reached django-axes, whose failed-login record could not hold it (a 500 on PostgreSQL).
    """

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))


class TokenRequestSerializer(serializers.Serializer):
    """The shape of a token request, checked before the lockout lookup and the authentication."""

    username = serializers.CharField(max_length=USERNAME_MAX_LENGTH)
    password = serializers.CharField(trim_whitespace=False)
    otp = serializers.CharField(
        required=False,
        max_length=64,
        help_text="Two-factor code (6 digits) or a recovery code; required for accounts with a second "
        "factor (otp_required without it, otp_invalid when wrong).",
    )


def axes_username(request, credentials=None):
    """The username django-axes records (``AXES_USERNAME_CALLABLE``): what it would take itself, cut to its
    column, for any login form that does not check the length first (the admin's)."""
    source = credentials if credentials else getattr(request, "data", request.POST)
    username = source.get("username") if hasattr(source, "get") else None
    return username[:AXES_USERNAME_LENGTH] if isinstance(username, str) else username


def _refusal(code: str, detail: str, http_status: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"code": code, "detail": detail}, status=http_status)


class ObtainTokenView(ObtainAuthToken):
    """``POST /api/v1/auth/token/`` with username, password and, for accounts with a second factor, ``otp``
    answers ``{"token"}``.

    Authentication goes through django-axes, so failures count towards the per-account lockout
    exactly as on the login page; so do wrong codes. A locked account (per username and address) is told so
    with 429 ``{"code": "locked_out"}``, even with the right password, instead of the 400 of a wrong
    password: a client must be able to tell a lockout from a typo.

    An account that must use two factors (``User.two_factor_required``) or has enrolled an authenticator
    sends ``otp`` too — the authenticator's current code, or one of its recovery codes: without it the answer
    is 400 ``{"code": "otp_required"}``, with a wrong one 400 ``{"code": "otp_invalid"}``.
    A body that is not a username and a password (a username longer than any account's, a NUL character,
    nesting) is a 400 before either.
    """

    parser_classes = api_settings.DEFAULT_PARSER_CLASSES  # ObtainAuthToken names DRF's own

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
            429: OpenApiResponse(RefusalSerializer, description="Locked out after repeated failures (locked_out)."),
        },
    )
    def post(self, request, *args, **kwargs):
        shape = TokenRequestSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        username = shape.validated_data["username"]
        if AxesProxyHandler.is_locked(request._request, {"username": username}):
            return _refusal(
                "locked_out",
                _(
                    "密码或验证码错误次数过多，此账号在当前地址已被暂时锁定。"
                    "请 30 分钟后再试，或联系上级工会管理员解锁。"
                ),
                status.HTTP_429_TOO_MANY_REQUESTS,
            )
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        if otp.has_device(user):
            code = request.data.get("otp") if hasattr(request.data, "get") else None
            if not isinstance(code, str) or not code.strip():
                return _refusal(
                    "otp_required", _("此账号已启用两步验证：请在 otp 字段中提供验证器当前显示的 6 位验证码。")
                )
            if otp.verify(user, code) is None:
                otp.report_failure(request, user.username)  # counts towards the lockout like a wrong password
                return _refusal(
                    "otp_invalid",
                    _("验证码不正确或已使用过。密码或验证码连续输错 %(n)d 次，此账号在当前地址将被锁定。")
                    % {"n": settings.AXES_FAILURE_LIMIT},
                )
        elif getattr(user, "two_factor_required", False):
            return _refusal(
                "otp_required",
                _("此账号须使用两步验证，但尚未绑定验证器：请先在网页上登录并按提示绑定，再用验证码取令牌。"),
            )
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
