"""What the evaluation pages show a clerk (fixes found walking the journey): rates as
percentages, the report downloaded under a Chinese name, the evidence above the narrative."""

from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evaluation import reports, services
from evaluation.models import SelfAssessment, SurveyResponse
from tests.factories import XIHU, assessment

pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")


def test_the_self_assessment_shows_rates_as_percentages(client, answered, cast):
    client.force_login(cast.xihu)
    page = client.get(reverse("assessment-detail", args=[assessment(answered, XIHU).pk])).content.decode()
    figures = page[page.index('id="figures"') : page.index("</table>", page.index('id="figures"'))]
    assert "55.00%" in figures and "25.00%" in figures  # U = 0.5500, C = 0.2500
    assert "0.5500" not in figures
    # Evidence comes first: uploading it reloads the page, which would lose a narrative typed above it.
    assert page.index('id="evidence"') < page.index('id="submit-form"')


def test_the_report_downloads_under_its_chinese_name(client, bare_round, cast):
    job, _ = services.report_request(kind="county", round_=bare_round, region=XIHU, by=cast.xihu)
    reports.generate(job.pk)
    client.force_login(cast.xihu)
    response = client.get(reverse("report-download", args=[job.pk]))
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert f'filename="report-county-{XIHU}-v1.pdf"' in disposition
    assert quote("县级自评报告-西湖区-v1.pdf") in disposition
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_the_paper_form_refuses_more_than_2000_answers_at_a_time(client, round_, cast):
    client.force_login(cast.xihu)
    counts = {"very_satisfied": 1500, "satisfied": 600, "neutral": 0, "dissatisfied": 0, "very_dissatisfied": 0}
    url = reverse("survey-paper", args=[round_.pk])
    response = client.post(url, {"union": cast.union_xihu.pk, **counts}, follow=True)
    said = " ".join(str(m) for m in response.context["messages"])
    assert "2000" in said and "2100" in said
    assert not SurveyResponse.objects.exists()
    counts["satisfied"] = 500
    response = client.post(url, {"union": cast.union_xihu.pk, **counts}, follow=True)
    assert SurveyResponse.objects.count() == 2000


def test_the_survey_page_offers_to_create_a_link_only_to_federation_staff(client, round_, cast):
    url = reverse("survey-links", args=[round_.pk])
    create = reverse("survey-invite", args=[round_.pk, cast.union_xihu.pk])
    for user, offered in ((cast.xihu, True), (cast.hangzhou, True), (cast.auditor, False), (cast.city_auditor, False)):
        client.force_login(user)
        assert (create in client.get(url).content.decode()) is offered, user


def test_evidence_named_after_a_person_is_kept_and_announced_under_its_masked_name(
    client, bare_round, cast, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    county = SelfAssessment.objects.get(round=bare_round, county_id="330106")
    client.force_login(cast.xihu)
    upload = SimpleUploadedFile("佐证a330106199003071236.pdf", b"%PDF-1.4\n%%EOF\n")
    page = client.post(reverse("evidence-upload", args=[county.pk]), {"file": upload}, follow=True).content.decode()
    assert county.evidence.get().original_name == "佐证a330106********1236.pdf"
    assert "330106199003071236" not in page and "佐证a330106********1236.pdf" in page
