"""The API's shared pieces: pagination with a hard page-size limit and the one exception handler."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import InvalidPage
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ApplicationError
from .identifiers import mask_personal_text

MAX_PAGE_SIZE = 500


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if not raw:  # absent or empty: as for every query parameter, empty means not given
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise exceptions.ValidationError({"page_size": [_("必须是 1 到 500 之间的整数。")]}) from None
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise exceptions.ValidationError({"page_size": [_("必须是 1 到 500 之间的整数。")]})
        return size

    def paginate_sliced(self, queryset, request, view=None):
        """Like ``paginate_queryset``, but the page comes back as an unevaluated slice of ``queryset``, so a
        hot list can read it as plain values. The count is that of ``queryset`` (its joins for display,
        ``select_related``, are left out of it)."""
        self.request = request
        paginator = self.django_paginator_class(queryset, self.get_page_size(request))
        page_number = self.get_page_number(request, paginator)
        try:
            self.page = paginator.page(page_number)
        except InvalidPage as exc:
            message = self.invalid_page_message.format(page_number=page_number, message=str(exc))
            raise exceptions.NotFound(message) from None
        self.display_page_controls = paginator.num_pages > 1 and self.template is not None
        return self.page.object_list

    def check_params(self, request) -> None:
        """Refuse bad paging parameters where they do not apply (the CSV/xlsx exports of a whole list), as
        a paged request would: a size out of range is 400, a page that cannot exist 404."""
        self.get_page_size(request)
        raw = request.query_params.get(self.page_query_param)
        if raw and raw != "last" and not (raw.isascii() and raw.isdigit() and int(raw) >= 1):
            raise exceptions.NotFound(self.invalid_page_message.format(page_number=raw, message=""))

    def get_schema_operation_parameters(self, view):
        # Document the limits the API enforces: a page past the end is 404, a size out of range 400.
        parameters = super().get_schema_operation_parameters(view)
        limits = {"page": {"minimum": 1}, "page_size": {"minimum": 1, "maximum": MAX_PAGE_SIZE}}
        for parameter in parameters:
            parameter["schema"].update(limits.get(parameter["name"], {}))
        return parameters


def validation_error_to_dict(error: DjangoValidationError) -> dict | list:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(m) for e in errs for m in e.messages]
            for field, errs in error.error_dict.items()
        }
    return {"non_field_errors": [str(m) for m in error.messages]}


def _masked(data):
    """Refusals echo what was sent ("13912345678" is not a valid choice): the one mask over every string."""
    if isinstance(data, str):
        return mask_personal_text(data)
    if isinstance(data, dict):
        return {key: _masked(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_masked(value) for value in data]
    return data


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(_masked(exc.as_dict()), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        return Response(_masked(validation_error_to_dict(exc)), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = _masked(response.data)
    return response


def not_found(request, exception=None):
    """``handler404``: an API client gets the API's JSON 404 even for a URL no route matches
    (``/api/v1/programs/1.5/``), not the HTML page meant for browsers."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(exceptions.NotFound.default_detail)}, status=404)
    return defaults.page_not_found(request, exception)
