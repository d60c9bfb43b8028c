"""The API's one exception handler and its page-size rule (README, REST API: 400 / 403 / 404 / 409 shapes)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from unionfunds.core.api import MAX_PAGE_SIZE, Pagination, exception_handler
from unionfunds.core.errors import ApplicationError

pytestmark = pytest.mark.django_db


def handle(exc):
    return exception_handler(exc, {"view": None, "request": None})


def test_application_error_is_409_with_code_and_detail():
    response = handle(ApplicationError("budget_exceeded", "超出专项经费预算。", extra={"remaining": "0.00"}))
    assert response.status_code == 409
    assert response.data == {"code": "budget_exceeded", "detail": "超出专项经费预算。", "remaining": "0.00"}


def test_django_field_errors_are_400_by_field():
    response = handle(ValidationError({"credit_code": "校验位错误。", "county": ["不在管辖范围内。", "另一条。"]}))
    assert response.status_code == 400
    assert response.data == {"credit_code": ["校验位错误。"], "county": ["不在管辖范围内。", "另一条。"]}


def test_django_errors_without_a_field_are_non_field_errors():
    assert handle(ValidationError("整体错误。")).data == {"non_field_errors": ["整体错误。"]}
    response = handle(ValidationError({"__all__": "两项冲突。"}))
    assert response.status_code == 400
    assert response.data == {"non_field_errors": ["两项冲突。"]}


def test_permission_denied_is_403_with_the_reason():
    response = handle(PermissionDenied("只有县（市、区）总工会可以登记基层工会。"))
    assert response.status_code == 403
    assert response.data["detail"] == "只有县（市、区）总工会可以登记基层工会。"
    default = handle(PermissionDenied())
    assert default.status_code == 403
    assert default.data["detail"]


def test_http404_is_a_plain_404_that_does_not_repeat_the_message():
    """A service's 404 names the model and id; the client must not learn whether it exists."""
    response = handle(Http404("基层工会 4711 不存在。"))
    assert response.status_code == 404
    assert "4711" not in str(response.data)
    assert response.data == handle(Http404("something else")).data


def test_drf_exceptions_keep_their_status():
    assert handle(exceptions.NotAuthenticated()).status_code == 401
    assert handle(exceptions.MethodNotAllowed("DELETE")).status_code == 405


def test_unexpected_exceptions_are_not_swallowed():
    assert handle(RuntimeError("boom")) is None  # Django answers 500 and logs it


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, 50), ("", 50), ("1", 1), ("50", 50), (str(MAX_PAGE_SIZE), MAX_PAGE_SIZE)],
)
def test_page_size_accepted(raw, expected):
    params = {} if raw is None else {"page_size": raw}
    request = APIView().initialize_request(APIRequestFactory().get("/", params))
    paginator = Pagination()
    paginator.page_size = 50
    assert paginator.get_page_size(request) == expected


@pytest.mark.parametrize("raw", [str(MAX_PAGE_SIZE + 1), "0", "-5", "ten", "1.5"])
def test_page_size_refused(raw):
    request = APIView().initialize_request(APIRequestFactory().get("/", {"page_size": raw}))
    with pytest.raises(exceptions.ValidationError) as caught:
        Pagination().get_page_size(request)
    assert "page_size" in caught.value.detail


@pytest.mark.parametrize("url", ["/api/v1/programs/1.5/", "/api/v1/no-such-thing/", "/api/v1/unions/x/members/"])
def test_an_api_url_no_route_matches_is_the_api_json_404(api, cast, url):
    response = api.as_user(cast.province).get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "未找到。"}


def test_a_page_url_no_route_matches_stays_the_html_404(client, cast):
    client.force_login(cast.province)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/regions/%00/",
        "/api/v1/regions/?parent=%00",
        "/api/v1/self-assessments/?city=%00",
        "/api/v1/unions/?q=ab%00c",
        "/api/v1/allocations/summary/?group_by=%00",
        "/api/v1/allocations/?county=%00&format=csv",
    ],
)
def test_a_nul_character_in_a_query_or_path_is_refused_not_a_500(api, cast, url):
    # PostgreSQL cannot hold NUL; Django's validators refuse it. The fuzzer generates no NUL (see
    # tests/core/test_api_fuzz.py), so this is where it is checked.
    assert api.as_user(cast.province).get(url).status_code in (400, 404)


def test_a_nul_character_in_a_json_body_is_a_400_naming_the_field(api, cast):
    response = api.as_user(cast.xihu).post("/api/v1/unions/", {"name": "西溪\x00工会"}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()
