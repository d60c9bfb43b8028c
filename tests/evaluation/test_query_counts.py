"""Query-count guards of the evaluation app's lists: a few rows, then several times more,
and not one query more (``tests/query_counts.py``). Guards named ``test_…`` are in this module.

| list (view) | roles | guard |
|---|---|---|
| `GET /api/v1/evaluation-rounds/` (`RoundViewSet`) | province, city, county | `test_round_and_assessment_…` |
| `GET /api/v1/self-assessments/` | province, city, county | `test_round_and_assessment_…` |
| `GET /api/v1/spot-checks/` (`SpotCheckViewSet`) | province, city, county | `test_spot_check_and_report_…` |
| `GET /api/v1/reports/` (`ReportViewSet`) | province, city, county | `test_spot_check_and_report_…` |
| `/evaluation/` overview: rounds, counties, city | province, auditor, city, county | `test_overview_page` |
| ranking, spot-checks, report jobs | | |
| `/evaluation/assessments/{id}/`: subsidised | county, city, province, auditor | `test_assessment_page` |
| unions and answers, evidence, history | | |
| `/evaluation/rounds/{id}/surveys/`: links, | county (with the paper form), city, | `test_survey_links_page` |
| QR codes, answers | province | |
| county, city, province reports (context and | the worker | `test_report_contexts` |
| HTML, not the PDF) | | |
| indicators of many areas (`compute_areas`) | — | `test_indicators.py`: four queries |

Not lists: the public survey page `/s/<token>/` (one union), the round, draw, verify and paper forms, the
POST actions (a draw answers with the counties it drew, built with one query).
"""

import pytest
from django.template.loader import render_to_string

from evaluation import reports, services
from evaluation.choices import JobStatus, ReportKind
from evaluation.models import EvaluationRound, ReportJob, ReportVersion
from tests.factories import (
    PDF,
    add_members,
    answers,
    approve,
    approve_assessment,
    assessment,
    bulk_allocations,
    disburse,
    make_program,
    spend,
    staff,
    submit,
)
from tests.query_counts import (
    Probe,
    api_client,
    assert_flat,
    html,
    list_items,
    matches,
    page_client,
    results,
    table_rows,
)

API = "/api/v1"
XIHU, YUHANG, SHANGCHENG, YINZHOU = "330106", "330110", "330102", "330212"


def _api_rows(response) -> dict[str, int]:
    return {"rows": results(response)}


def owner_round(owner: str, name: str) -> EvaluationRound:
    """The round of a program run by ``owner`` (a city's or a county's own fund): its counties only."""
    program = make_program(staff(owner), owner=owner, name=name)
    return services.round_create(program=program, by=staff(owner))


def approved(round_: EvaluationRound, *counties: str) -> None:
    for county in counties:
        submit(round_, county)
        approve_assessment(round_, county)


def draw(round_: EvaluationRound, count: int, seed: int = 1):
    return services.spot_check_draw(round_=round_, by=staff("330000"), count=count, seed=seed)


def done_job(round_: EvaluationRound, kind: str, region: str) -> ReportJob:
    """A finished report job (setup without rendering a PDF)."""
    job = ReportJob.objects.create(
        kind=kind, round=round_, region_id=region, status=JobStatus.DONE, requested_by=staff(region)
    )
    ReportVersion.objects.create(job=job, number=job.pk, file="reports/x.pdf", sha256="0" * 64, size=1, pages=1)
    return job


# ---------------------------------------------------------------- API


def test_round_and_assessment_lists_api(cast, django_assert_max_num_queries):
    owner_round(XIHU, "西湖区专项经费")
    users = cast.users()
    probes = []
    for who in ("province", "hangzhou", "xihu"):
        probes.append(Probe.of(f"API rounds as {who}", api_client(users[who]), f"{API}/evaluation-rounds/", _api_rows))
        probes.append(
            Probe.of(f"API self-assessments as {who}", api_client(users[who]), f"{API}/self-assessments/", _api_rows)
        )

    def grow():
        owner_round(XIHU, "西湖区专项经费（二）")
        owner_round("330100", "杭州市专项经费")  # the city's thirteen counties
        owner_round(YUHANG, "余杭区专项经费")
        owner_round("330200", "宁波市专项经费")

    assert_flat(django_assert_max_num_queries, probes, grow)


def test_spot_check_and_report_lists_api(cast, bare_round, django_assert_max_num_queries):
    approved(bare_round, XIHU)
    draw(bare_round, 1)
    done_job(bare_round, ReportKind.COUNTY, XIHU)
    users = cast.users()
    probes = []
    for who in ("province", "hangzhou", "xihu"):
        probes.append(Probe.of(f"API spot-checks as {who}", api_client(users[who]), f"{API}/spot-checks/", _api_rows))
        probes.append(Probe.of(f"API reports as {who}", api_client(users[who]), f"{API}/reports/", _api_rows))

    def grow():
        approved(bare_round, YUHANG, SHANGCHENG, YINZHOU)
        for seed in (2, 3, 4):
            draw(bare_round, 4, seed)
        for _ in range(3):
            done_job(bare_round, ReportKind.COUNTY, XIHU)
        done_job(bare_round, ReportKind.CITY, "330100")
        done_job(bare_round, ReportKind.CITY, "330100")
        done_job(bare_round, ReportKind.PROVINCE, "330000")

    assert_flat(django_assert_max_num_queries, probes, grow)


# ---------------------------------------------------------------- pages


def test_overview_page(cast, bare_round, django_assert_max_num_queries):
    """Few rows: a county's own round (one county, one spot-check, one report); many: the provincial round
    (90 counties, three draws, five reports) among six rounds."""
    small = owner_round(XIHU, "西湖区专项经费")
    approved(small, XIHU)
    draw(small, 1)
    done_job(small, ReportKind.COUNTY, XIHU)
    shown = {"round": small}

    def rows(response) -> dict[str, int]:
        text = html(response)
        found = {
            "rounds": matches(text.split('name="round"', 1)[1].split("</select>", 1)[0], r"<option "),
            "checks": table_rows(text, "checks"),
            "jobs": table_rows(text, "jobs"),
        }
        if response.wsgi_request.user.role != "county_staff":  # a county sees its own county only
            found["counties"] = table_rows(text, "assessments")
        return found

    probes = [
        Probe.of(
            f"overview as {who}",
            page_client(cast.users()[who]),
            "/evaluation/",
            rows,
            lambda: {"round": shown["round"].pk},
        )
        for who in ("province", "auditor", "hangzhou", "xihu")
    ]

    def grow():
        shown["round"] = bare_round
        approved(bare_round, XIHU, YUHANG, YINZHOU)
        for seed in (1, 2, 3):
            draw(bare_round, 3, seed)
        for _ in range(3):
            done_job(bare_round, ReportKind.COUNTY, XIHU)
        done_job(bare_round, ReportKind.CITY, "330100")
        done_job(bare_round, ReportKind.PROVINCE, "330000")
        for n in range(4):
            owner_round(XIHU, f"西湖区专项经费（{n + 2}）")

    assert_flat(django_assert_max_num_queries, probes, grow)


def _assessment_rows(response) -> dict[str, int]:
    text = html(response)
    history = text.split("<h2>办理记录</h2>", 1)[1].split("</table>", 1)[0]
    return {
        "unions": table_rows(text, "unions"),
        "evidence": list_items(text, "evidence"),
        "history": matches(history, r"<tr><td>"),
    }


def test_assessment_page(cast, program, bare_round, django_assert_max_num_queries):
    """A draft (so its figures are computed live) with its subsidised unions, answers, evidence and history."""
    add_members(cast.union_xihu, 150)
    allocation = approve(program, cast.union_xihu, "60000.00")
    disburse(allocation, "60000.00")
    spend(allocation, "20000.00")
    answers(bare_round, cast.union_xihu, "satisfied", "very_satisfied")
    county = assessment(bare_round, XIHU)
    services.evidence_add(assessment=county, filename="活动照片.pdf", content=PDF, by=cast.xihu)

    def cycle():
        submit(bare_round, XIHU)
        services.assessment_return(assessment=county, by=cast.hangzhou, comment="请补充佐证材料。")

    cycle()
    url = f"/evaluation/assessments/{county.pk}/"
    probes = [
        Probe.of(f"assessment page as {who}", page_client(cast.users()[who]), url, _assessment_rows)
        for who in ("xihu", "hangzhou", "province", "auditor")
    ]

    def grow():
        for n, more in enumerate(bulk_allocations(program, 4, counties=(XIHU,))):
            answers(bare_round, more.union, "satisfied", "neutral", "very_satisfied")
            services.evidence_add(assessment=county, filename=f"佐证{n}.pdf", content=PDF, by=cast.xihu)
        cycle()
        cycle()

    assert_flat(django_assert_max_num_queries, probes, grow)


def test_survey_links_page(cast, program, bare_round, django_assert_max_num_queries):
    add_members(cast.union_xihu, 150)
    approve(program, cast.union_xihu, "60000.00")
    services.survey_invite(round_=bare_round, union=cast.union_xihu, by=cast.xihu)
    answers(bare_round, cast.union_xihu, "satisfied")
    url = f"/evaluation/rounds/{bare_round.pk}/surveys/"

    def rows(response) -> dict[str, int]:
        text = html(response)
        return {"unions": matches(text, r'<section class="card qr-card">'), "links": matches(text, r"<svg ")}

    probes = [
        Probe.of(f"survey links as {who}", page_client(cast.users()[who]), url, rows)
        for who in ("xihu", "hangzhou", "province")
    ]

    def grow():
        for n, more in enumerate(bulk_allocations(program, 6, counties=(XIHU, YUHANG))):
            if n % 3 != 2:
                services.survey_invite(round_=bare_round, union=more.union, by=staff(more.county_id))
            answers(bare_round, more.union, "satisfied", "neutral")

    assert_flat(django_assert_max_num_queries, probes, grow)


# ---------------------------------------------------------------- reports


def _report(job_pk: int):
    """What the worker does before WeasyPrint: the context and the HTML."""
    job = ReportJob.objects.select_related("round__program", "region").get(pk=job_pk)
    context = reports.report_context(job)
    return context, render_to_string(reports.TEMPLATES[job.kind], context)


@pytest.mark.parametrize(("kind", "region"), [("county", XIHU), ("city", "330100"), ("province", "330000")])
def test_report_contexts(cast, program, bare_round, kind, region, django_assert_max_num_queries):
    add_members(cast.union_xihu, 150)
    allocation = approve(program, cast.union_xihu, "60000.00")
    disburse(allocation, "60000.00")
    spend(allocation, "20000.00")
    answers(bare_round, cast.union_xihu, "satisfied", "very_satisfied")
    bulk_allocations(program, 1, counties=("330302",))  # a county still in draft with a subsidised union
    approved(bare_round, XIHU)
    check = draw(bare_round, 1).checks.get()
    scores = {"utilization": "30.00", "coverage": "100.00", "satisfaction": "90.00"}
    services.spot_check_verify(check=check, scores=scores, findings="凭证齐全。", by=cast.province)
    job = ReportJob.objects.create(kind=kind, round=bare_round, region_id=region, requested_by=staff(region))

    def rows(result) -> dict[str, int]:
        context, _html = result
        found = {"unions": len(context["unions"])}
        if kind == "county":
            found["history"] = len(context["history"])
        if kind == "province":
            found["checks"] = len(context["checks"])
        return found

    def grow():
        counties = (XIHU, YUHANG, SHANGCHENG, XIHU, YUHANG, YINZHOU, "330302")
        for more in bulk_allocations(program, 7, counties=counties):
            answers(bare_round, more.union, "satisfied", "neutral")
        approved(bare_round, YUHANG, SHANGCHENG, YINZHOU)
        for pending in draw(bare_round, 4, seed=7).checks.all():
            services.spot_check_verify(check=pending, scores=scores, findings="抽查无异常。", by=cast.province)
        county = assessment(bare_round, XIHU)  # province sends it back, the city returns it once more
        services.assessment_return(assessment=county, by=cast.province, comment="抽查发现问题。")
        submit(bare_round, XIHU)
        services.assessment_return(assessment=county, by=cast.hangzhou, comment="请补充材料。")
        approved(bare_round, XIHU)

    assert_flat(django_assert_max_num_queries, [Probe(f"{kind} report", lambda: _report(job.pk), rows)], grow)
