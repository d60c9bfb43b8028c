"""The Content-Security-Policy header (django-csp) on every response, and nothing in the templates that it
would refuse. The browser test (tests/browser/test_csp.py) loads the pages in Chromium; this one reads
every template, so an inline handler added to a page nobody visits in a test is caught too."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from evaluation import services as evaluation_services
from tests.factories import add_members, approve, make_program

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def directives(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy", "")
    parts = (p.strip().split(None, 1) for p in header.split(";") if p.strip())
    return {name: value for name, value in parts}


@pytest.fixture
def survey_url(cast):
    add_members(cast.union_xihu, 160)
    program = make_program(cast.province)
    approve(program, cast.union_xihu, "60000.00")
    round_ = evaluation_services.round_create(program=program, by=cast.province)
    return reverse(
        "survey", args=[evaluation_services.survey_invite(round_=round_, union=cast.union_xihu, by=cast.xihu).token]
    )


def test_every_kind_of_response_carries_the_policy(client, cast, survey_url):
    answers = [client.get(reverse("login")), client.get("/healthz/"), client.get(survey_url)]
    answers.append(client.get("/api/v1/regions/"))  # 401 JSON
    client.force_login(cast.province)
    answers += [client.get(reverse("home")), client.get("/no/such/page/"), client.get("/api/v1/regions/")]
    answers.append(client.post(reverse("logout")))  # a redirect
    for response in answers:
        assert directives(response) == POLICY, (response.status_code, response.headers.get("Content-Security-Policy"))


def test_the_api_docs_keep_scripts_to_the_site_and_allow_only_inline_styles(client, cast):
    client.force_login(cast.province)
    page = client.get(reverse("api-docs"))
    assert page.status_code == 200 and "<script>" not in page.content.decode()
    assert directives(page) == {**POLICY, "style-src": "'self' 'unsafe-inline'"}
    script = client.get(reverse("api-docs") + "?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


# What a policy without 'unsafe-inline' refuses, as it would appear in a template or in markup built in Python.
REFUSED = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "event handler attribute": re.compile(r"""\son[a-z]+\s*=\s*["'{]""", re.I),
    "style attribute": re.compile(r"""\sstyle\s*=\s*\\?["'{]""", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}
# Rendered to PDF by WeasyPrint only, never sent to a browser: styles inline there are fine.
PDF_ONLY = Path(settings.BASE_DIR, "templates", "reports")


def _sources():
    root = Path(settings.BASE_DIR)
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if parts[0] in (".venv", "var", "tests", "test-artifacts", ".git", "bench") or path.is_relative_to(PDF_ONLY):
            continue
        if path.suffix == ".html" or (path.suffix == ".py" and "migrations" not in parts):
            yield path


def test_no_template_or_markup_builder_uses_what_the_policy_refuses():
    found = []
    for path in _sources():
        text = path.read_text()
        for what, pattern in REFUSED.items():
            found += [f"{path.relative_to(settings.BASE_DIR)}: {what}: {m.group(0)}" for m in pattern.finditer(text)]
    assert not found, "\n".join(found)
