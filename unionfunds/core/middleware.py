from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _

from .audit import client_ip
from .clientip import client_address


class AuditContextMiddleware:
    """Makes the client's address available to the audit trail for the length of the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = client_ip.set(client_address(request))
        try:
            return self.get_response(request)
        finally:
            client_ip.reset(token)


class ChosenLanguageMiddleware:
    """Simplified Chinese unless the user picked another language with the switcher (cookie).

    Django's LocaleMiddleware follows the browser's Accept-Language; staff machines are often set to
    English while the office works in Chinese, so the browser's wish is not followed here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


URLENCODED, MULTIPART = "application/x-www-form-urlencoded", "multipart/form-data"


def _nul_in(items) -> str | None:
    """The name of the first (name, value) pair with a NUL character in it, or None."""
    for name, value in items:
        if "\x00" in name or (isinstance(value, str) and "\x00" in value):
            return name.replace("\x00", "\\x00")
    return None


class RefuseNulMiddleware:
    """400 for a NUL character in the path, the query string, a header or a form field.

    PostgreSQL cannot store or compare text containing NUL (the driver raises before the query is sent),
    so any view or library that passes such a value to a query failed with a 500: a search box, a page's
    own ``request.POST.get``, django-axes recording a login, a token lookup. No legitimate request carries
    one; this refuses them all before any view sees them. Form fields are those Django parses (urlencoded
    bodies, and multipart on pages); the API parses its own JSON and multipart bodies, and its serializers'
    string fields refuse NUL themselves.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        where = self._where(request)
        if where is None:
            return self.get_response(request)
        message = _("不能包含空字符（NUL）。")
        if request.path_info.startswith("/api/"):
            body = {"detail": message} if where == "" else {where: [message]}
            return JsonResponse(body, status=400, json_dumps_params={"ensure_ascii": False})
        text = f"{where}：{message}" if where else message
        return HttpResponseBadRequest(text, content_type="text/plain; charset=utf-8")

    def _where(self, request) -> str | None:
        """Where the NUL is: the parameter's name for a query or form field, "" for the path or a header."""
        if "\x00" in request.path_info or "\x00" in request.path:
            return ""
        if any(isinstance(v, str) and "\x00" in v for k, v in request.META.items() if k.startswith("HTTP_")):
            return ""
        found = _nul_in((name, value) for name, values in request.GET.lists() for value in values)
        if found is None and request.method == "POST" and self._django_parses_form(request):
            found = _nul_in((name, value) for name, values in request.POST.lists() for value in values)
        return found

    @staticmethod
    def _django_parses_form(request) -> bool:
        if request.content_type == URLENCODED:
            return True
        return request.content_type == MULTIPART and not request.path_info.startswith("/api/")
