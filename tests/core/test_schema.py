import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator


def test_the_openapi_schema_generates_without_warnings(tmp_path):
    # drf-spectacular's warnings also fail `check --deploy`; catch them in every run, not only in CI's last step.
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for path in ("/api/v1/unions/", "/api/v1/allocations/", "/api/v1/self-assessments/", "/api/v1/reports/"):
        assert path in text


def test_the_interactive_docs_load_nothing_from_outside(client, django_user_model):
    # Government networks are often closed: Swagger UI comes from our own static files, not a CDN.
    client.force_login(django_user_model.objects.create_user("reader", password="x"))
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn." not in page and "https://" not in page


@pytest.fixture(scope="module")
def openapi() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def responses(openapi, method: str, path: str) -> dict:
    return openapi["paths"][path][method]["responses"]


@pytest.mark.parametrize(
    ("method", "path", "codes"),
    [
        ("post", "/api/v1/applications/{id}/approve/", {"200", "400", "401", "403", "404", "409", "415"}),
        ("post", "/api/v1/applications/", {"201", "400", "401", "403", "409", "415"}),
        ("get", "/api/v1/applications/", {"200", "400", "401", "403", "404"}),  # 404: a page past the end
        ("get", "/api/v1/unions/{id}/", {"200", "401", "403", "404"}),
        ("post", "/api/v1/reports/", {"202", "400", "401", "403", "409", "415", "503"}),
        ("post", "/api/v1/auth/token/", {"200", "400", "415", "429"}),  # public: no 401/403; 429 when locked out
    ],
)
def test_every_operation_documents_the_errors_it_can_answer(openapi, method, path, codes):
    assert set(responses(openapi, method, path)) == codes


def test_error_bodies_are_documented_as_the_exception_handler_writes_them(openapi):
    approve = responses(openapi, "post", "/api/v1/applications/{id}/approve/")
    refusal = approve["409"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(openapi["components"]["schemas"][refusal]["required"]) == {"code", "detail"}
    error = approve["404"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert openapi["components"]["schemas"][error]["required"] == ["detail"]
    assert approve["400"]["content"]["application/json"]["schema"]["type"] == "object"


def test_paging_parameters_document_the_limits_the_api_enforces(openapi):
    parameters = {p["name"]: p["schema"] for p in openapi["paths"]["/api/v1/unions/"]["get"]["parameters"]}
    assert parameters["page"] == {"type": "integer", "minimum": 1}
    assert parameters["page_size"] == {"type": "integer", "minimum": 1, "maximum": 500}


def test_id_filters_document_their_bounds(openapi):
    parameters = {p["name"]: p["schema"] for p in openapi["paths"]["/api/v1/applications/"]["get"]["parameters"]}
    assert parameters["program"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    amounts = {p["name"]: p["schema"] for p in openapi["paths"]["/api/v1/allocations/"]["get"]["parameters"]}
    # Amounts are written as everywhere in the API: ASCII digits, at most 12 + 2 (the money column).
    assert amounts["max_amount"] == {
        "type": "string",
        "format": "decimal",
        "pattern": r"^[0-9]{1,12}(\.[0-9]{1,2})?$",
        "example": "45000.00",
    }
    checks = {p["name"] for p in openapi["paths"]["/api/v1/spot-checks/"]["get"]["parameters"]}
    assert "round" in checks  # the REST contract in README: GET /spot-checks/?round=


def test_money_in_request_bodies_is_documented_as_a_string_of_ascii_digits(openapi):
    schemas = openapi["components"]["schemas"]
    for component, field in (
        ("ProgramRequest", "budget_total"),
        ("FundingSourceRequest", "amount"),
        ("ApplicationRequest", "requested_amount"),
        ("BudgetLineRequest", "amount"),
        ("DisbursementRequest", "amount"),
        ("ExpenditureRequest", "amount"),
    ):
        schema = schemas[component]["properties"][field]
        assert schema["type"] == "string" and schema["pattern"] == r"^[0-9]{1,12}(\.[0-9]{1,2})?$", component


def test_an_empty_query_parameter_is_documented_and_treated_as_not_given(openapi, api, cast):
    for path in ("/api/v1/allocations/", "/api/v1/allocations/summary/", "/api/v1/regions/"):
        for parameter in openapi["paths"][path]["get"]["parameters"]:
            if parameter["in"] == "query":
                assert parameter["allowEmptyValue"] is True, (path, parameter["name"])
    client = api.as_user(cast.province)
    everything = client.get("/api/v1/allocations/").json()
    assert client.get("/api/v1/allocations/?updated_after=&status=&format=&page=&page_size=").json() == everything
    assert (
        client.get("/api/v1/allocations/summary/?group_by=&program=").json()
        == client.get("/api/v1/allocations/summary/?group_by=city").json()
    )
