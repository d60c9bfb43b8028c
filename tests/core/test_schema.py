from django.core.management import call_command


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
