"""The OpenAPI schema documents the errors of every operation, not only its success (README, REST API).

``AutoSchema`` adds the answers the single exception handler (``unionfunds.core.api``) gives, to every
operation where they can happen, unless a view documents that status itself:

- 400 ``{field: [message, …]}`` (nested for lists and objects; ``non_field_errors`` for the whole body)
  when the operation takes a body or query parameters;
- 401 and 403 ``{"detail"}`` when it needs an account;
- 404 ``{"detail"}`` when it names an object in its path (missing or outside the user's scope) or pages
  through a list (a page past the end);
- 409 ``{"code", "detail"}`` when it writes (a workflow or budget rule refused it);
- 415 ``{"detail"}`` when it takes a body (a content type none of its parsers reads).

Optional query parameters are marked ``allowEmptyValue``: across the API an empty value (``?status=``,
what an HTML form sends for an untouched field) is the same as leaving the parameter out, as django-filter
and DRF's ``?page=`` already do.

Views add what is theirs with ``extend_schema`` (the report request's 503 ``queue_unavailable``).
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class RefusalSerializer(serializers.Serializer):
    """``ApplicationError.as_dict()``: a machine-readable code and a sentence; rules may add figures."""

    code = serializers.CharField()
    detail = serializers.CharField()


FIELD_ERRORS = {
    "type": "object",
    "additionalProperties": {},
    "description": "Field name → list of messages (nested for lists and objects); non_field_errors for the whole body.",
}

ERROR_RESPONSES = {
    "400": OpenApiResponse(FIELD_ERRORS, description="Bad input; nothing was changed."),
    "401": OpenApiResponse(ErrorSerializer, description="Not authenticated."),
    "403": OpenApiResponse(ErrorSerializer, description="The user's role may not do this."),
    "404": OpenApiResponse(ErrorSerializer, description="Not found, or outside the user's scope."),
    "409": OpenApiResponse(RefusalSerializer, description="Refused by a workflow or budget rule."),
    "415": OpenApiResponse(ErrorSerializer, description="The request body's content type is not accepted."),
}

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class AutoSchema(SpectacularAutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
        responses = operation.setdefault("responses", {})
        for code in self._error_codes(operation):
            if code not in responses:
                responses[code] = self._get_response_for_code(ERROR_RESPONSES[code], code)
        return operation

    def _error_codes(self, operation: dict) -> list[str]:
        where = {p["in"] for p in operation.get("parameters", [])}
        query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        permissions = self.view.get_permissions()
        public = all(isinstance(p, AllowAny) for p in permissions)  # the token endpoint has none
        codes = []
        if self.method in WRITES or query:
            codes.append("400")
        if not public:
            codes += ["401", "403"]
        if "path" in where or "page" in query:
            codes.append("404")
        if self.method in WRITES and not public:
            codes.append("409")
        if "requestBody" in operation:
            codes.append("415")
        return codes
