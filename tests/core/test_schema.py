from django.core.management import call_command


def test_the_openapi_schema_generates_without_warnings(tmp_path):
    # drf-spectacular's warnings also fail `check --deploy`; catch them in every run, not only in CI's last step.
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for path in ("/api/v1/unions/", "/api/v1/allocations/", "/api/v1/self-assessments/", "/api/v1/reports/"):
        assert path in text
