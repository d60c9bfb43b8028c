"""Keys for outside systems: OAuth2 client credentials (django-oauth-toolkit), one client per system.

Each client (``ApiClient``) is bound to a service account of its own: role auditor, homed in the client's
region, no usable password. Its access tokens act as that account, so the one scope rule
(``members/scope.py``) limits what it reads exactly as for a person. On top of that a client token
- reads only: any other method is refused (403), whatever the endpoint;
- reaches only the endpoints of the scopes it was registered with (``SCOPE_ENDPOINTS``; 403 elsewhere);
- stops working at once when the client is revoked (its tokens are deleted, its account deactivated);
- leaves one audit event per request (``api_client.request`` / ``api_client.refused``, with the client's
  name as the object) and moves the client's ``last_used_at``.
The checks sit in the authentication class, which every API view runs first, so a view that sets its own
``permission_classes`` cannot forget them.
"""

import datetime as dt

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes
from oauth2_provider.settings import oauth2_settings
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS

from unionfunds.core.audit import audit_record

from .models import ApiClient

# What a client may be given, in the words the province's page shows.
SCOPES = {
    "allocations:read": gettext_lazy("下拨与使用（只读）"),
    "applications:read": gettext_lazy("补助申请（只读）"),
    "unions:read": gettext_lazy("基层工会（只读，不含名册）"),
}
# The API endpoints (router basenames) each scope opens, for reading. Nothing else is open to a client.
SCOPE_ENDPOINTS = {
    "allocation": "allocations:read",
    "application": "applications:read",
    "union": "unions:read",
}
# last_used_at moves at most once a minute: a client paging through 800 rows need not write 8 times.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class ClientScopes(BaseScopes):
    """A client may ask for, and by default gets, the scopes it was registered with."""

    def get_all_scopes(self):
        return dict(oauth2_settings.SCOPES)

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        client = ApiClient.objects.active().filter(application=application).first() if application else None
        return client.scope_list if client else []

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return self.get_available_scopes(application, request)


class ClientValidator(OAuth2Validator):
    """Only the client-credentials grant, only for registered clients that are not revoked; the token
    acts as the client's service account."""

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        if grant_type != "client_credentials" or not ApiClient.objects.active().filter(application=client).exists():
            return False
        return super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs)

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        request.user = request.client.user  # django-oauth-toolkit leaves client-credentials tokens user-less
        return super()._create_access_token(expires, request, token, source_refresh_token)


def refusal(view, method: str, scopes: list[str]) -> str | None:
    """Why a client token may not make this request, or None if it may."""
    if method not in SAFE_METHODS:
        return _("外部系统的访问令牌只能读取数据，不能修改。")
    scope = SCOPE_ENDPOINTS.get(getattr(view, "basename", None))
    if scope is None:
        return _("外部系统的访问令牌不能访问此接口。")
    if scope not in scopes:
        return _("此外部系统没有“%(scope)s”的权限。") % {"scope": SCOPES[scope]}
    return None


class ClientTokenAuthentication(OAuth2Authentication):
    """``Authorization: Bearer <token>`` of an outside system (see the module docstring)."""

    def authenticate(self, request):
        if not request.META.get("HTTP_AUTHORIZATION", "").startswith("Bearer "):
            return None  # not ours (a person's token or session): do not even build oauthlib's request
        # The Django request: oauthlib must not make DRF parse the body before the refusals below.
        found = super().authenticate(request._request)
        if found is None:
            return None
        user, token = found
        client = ApiClient.objects.filter(application_id=token.application_id).first()
        if client is None or not client.is_active or user is None or not user.is_active or user.pk != client.account_id:
            raise exceptions.AuthenticationFailed(_("此访问令牌已失效。"))
        view = (request.parser_context or {}).get("view")
        reason = refusal(view, request.method, token.scope.split())
        record = {"method": request.method, "path": request.path, "query": request.META.get("QUERY_STRING", "")[:500]}
        if reason:
            audit_record(action="api_client.refused", obj=client, by=user, after=record)
            raise exceptions.PermissionDenied(reason)
        now = timezone.now()
        ApiClient.objects.filter(pk=client.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        audit_record(action="api_client.request", obj=client, by=user, after=record)
        return user, token


class ClientTokenScheme(OpenApiAuthenticationExtension):
    """The OpenAPI schema says which operations take a client token, and with which scope."""

    target_class = ClientTokenAuthentication
    name = "clientCredentials"

    def get_security_requirement(self, auto_schema):
        scope = SCOPE_ENDPOINTS.get(getattr(auto_schema.view, "basename", None))
        if scope is None or auto_schema.method not in SAFE_METHODS:
            return None
        return {self.name: [scope]}

    def get_security_definition(self, auto_schema):
        return {
            "type": "oauth2",
            "flows": {"clientCredentials": {"tokenUrl": "/o/token/", "scopes": dict(oauth2_settings.SCOPES)}},
        }
