"""The evaluation endpoints of the REST contract in README for every role of the cast, in and out of scope.

Status codes: 200/201/202 for what a role may do, 400 bad input, 403 a role that may not, 404 out of
scope, 409 ``{"code", "detail"}`` for an illegal transition. The service tests check the figures; here
the contract: URLs, field names, status codes, error bodies.
"""

import hashlib
from decimal import Decimal

import pytest

from evaluation import reports, services
from evaluation.models import EvaluationRound, ReportJob, SelfAssessment, SpotCheck, SurveyResponse
from members.models import Region
from tests.factories import HANGZHOU, NINGBO, PROVINCE, XIHU, YINZHOU, assessment, make_program, submit

ROUNDS = "/api/v1/evaluation-rounds/"
ASSESSMENTS = "/api/v1/self-assessments/"
CHECKS = "/api/v1/spot-checks/"
REPORTS = "/api/v1/reports/"

CONTRACT_FIELDS = {
    "id",
    "round",
    "county",
    "status",
    "utilization_rate",
    "coverage_rate",
    "satisfaction",
    "score_utilization",
    "score_coverage",
    "score_satisfaction",
    "total_score",
    "grade",
    "final_score",
    "flags",
}
ALL_ROLES = ["province", "auditor", "hangzhou", "xihu", "yuhang", "ningbo", "yinzhou", "officer", "city_auditor"]


def counties_of(city: str) -> int:
    return Region.objects.filter(parent_id=city).count()


def post(api, user, url, body=None):
    return api.as_user(user).post(url, body or {}, format="json")


def get(api, user, url, **params):
    return api.as_user(user).get(url, params)


@pytest.fixture
def ningbo_round(cast, regions) -> EvaluationRound:
    """A round of a Ningbo city program: outside Hangzhou's scope."""
    program = make_program(
        cast.ningbo,
        owner=NINGBO,
        name="宁波市新就业形态工会补助",
        budget_total="1000000.00",
        funding_sources=[{"source": "union", "amount": "1000000.00"}],
        target_count=20,
        max_grant="50000.00",
    )
    return services.round_create(program=program, by=cast.ningbo)


# ---------------------------------------------------------------- rounds


def test_anonymous_gets_401(api, bare_round):
    for url in (ROUNDS, ASSESSMENTS, CHECKS, REPORTS):
        assert api.get(url).status_code == 401
    assert api.post(REPORTS, {}, format="json").status_code == 401


def test_round_list_and_detail_follow_program_scope(api, cast, bare_round, ningbo_round):
    for who in ALL_ROLES:
        response = get(api, cast.users()[who], ROUNDS)
        assert response.status_code == 200, who
        ids = {r["id"] for r in response.json()["results"]}
        assert bare_round.pk in ids, who
        assert (ningbo_round.pk in ids) == (who in {"province", "auditor", "ningbo", "yinzhou"}), who
    for who in ("hangzhou", "xihu", "city_auditor"):
        assert get(api, cast.users()[who], f"{ROUNDS}{ningbo_round.pk}/").status_code == 404
    assert get(api, cast.yinzhou, f"{ROUNDS}{ningbo_round.pk}/").status_code == 200


def test_create_round_as_the_province(api, cast, program):
    response = post(
        api,
        cast.province,
        ROUNDS,
        {
            "program": program.pk,
            "coverage_target": "0.25",
            "min_responses": 12,
            "weights": {"utilization": "0.35", "coverage": "0.15", "satisfaction": "0.5"},
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["program"] == program.pk
    assert body["coverage_target"] == "0.250"
    assert body["min_responses"] == 12
    assert body["weights"] == {"utilization": "0.350", "coverage": "0.150", "satisfaction": "0.500"}
    assert SelfAssessment.objects.filter(round_id=body["id"]).count() == 90


def test_create_round_defaults(api, cast, program):
    response = post(api, cast.province, ROUNDS, {"program": program.pk})
    assert response.status_code == 201
    body = response.json()
    assert (body["coverage_target"], body["min_responses"]) == ("0.200", 10)
    assert body["weights"] == {"utilization": "0.300", "coverage": "0.200", "satisfaction": "0.500"}


def test_create_round_refusals(api, cast, program, ningbo_round):
    for who in ("auditor", "hangzhou", "xihu", "ningbo", "officer", "city_auditor"):
        assert post(api, cast.users()[who], ROUNDS, {"program": program.pk}).status_code == 403, who
    bad_weights = {"utilization": "0.3", "coverage": "0.3", "satisfaction": "0.5"}
    response = post(api, cast.province, ROUNDS, {"program": program.pk, "weights": bad_weights})
    assert response.status_code == 400 and "weights" in response.json()
    assert post(api, cast.province, ROUNDS, {"program": 999999}).status_code == 400
    assert post(api, cast.province, ROUNDS, {}).status_code == 400
    assert post(api, cast.province, ROUNDS, {"program": program.pk, "min_responses": 0}).status_code == 400
    assert post(api, cast.hangzhou, ROUNDS, {"program": ningbo_round.program_id}).status_code == 400
    assert EvaluationRound.objects.count() == 1  # only Ningbo's
    assert post(api, cast.province, ROUNDS, {"program": program.pk}).status_code == 201
    second = post(api, cast.province, ROUNDS, {"program": program.pk})
    assert second.status_code == 400 and "program" in second.json()
    assert EvaluationRound.objects.count() == 2


# ---------------------------------------------------------------- survey responses


def test_paper_answers_by_county_staff(api, cast, round_):
    url = f"{ROUNDS}{round_.pk}/survey-responses/"
    rows = [
        {"union": cast.union_xihu.pk, "answer": "very_satisfied"},
        {"union": cast.union_xihu_other.pk, "answer": "dissatisfied", "comment": "希望多组织活动"},
    ]
    response = post(api, cast.xihu, url, rows)
    assert response.status_code == 201
    assert response.json() == {"created": 2}
    assert sorted(SurveyResponse.objects.values_list("score", flat=True)) == [40, 100]


def test_paper_answers_refusals(api, cast, round_, ningbo_round):
    url = f"{ROUNDS}{round_.pk}/survey-responses/"
    good = [{"union": cast.union_xihu.pk, "answer": "satisfied"}]
    for who in ("province", "auditor", "hangzhou", "ningbo", "officer", "city_auditor"):
        assert post(api, cast.users()[who], url, good).status_code == 403, who
    # An answer outside the five levels: 400, the errors keyed by the row's list position.
    response = post(api, cast.xihu, url, [*good, {"union": cast.union_xihu.pk, "answer": "great"}])
    assert response.status_code == 400
    assert set(response.json()) == {"1"} and "answer" in response.json()["1"]
    # A union of another county: 400 naming the row, nothing written.
    response = post(api, cast.yinzhou, url, [{"union": cast.union_yinzhou.pk, "answer": "satisfied"}, *good])
    assert response.status_code == 400
    assert "第 2 条" in response.json()["1.union"][0]
    assert post(api, cast.xihu, url, []).status_code == 400
    assert post(api, cast.xihu, f"{ROUNDS}{ningbo_round.pk}/survey-responses/", good).status_code == 404
    assert not SurveyResponse.objects.exists()


# ---------------------------------------------------------------- self-assessments


def test_assessment_lists_follow_scope(api, cast, bare_round):
    expected = {
        "province": 90,
        "auditor": 90,
        "hangzhou": counties_of(HANGZHOU),
        "city_auditor": counties_of(HANGZHOU),
        "ningbo": counties_of(NINGBO),
        "xihu": 1,
        "yuhang": 1,
        "yinzhou": 1,
        "officer": 0,  # a county's assessment is not inside a union
    }
    for who, count in expected.items():
        response = get(api, cast.users()[who], ASSESSMENTS, page_size=500)
        assert response.status_code == 200
        assert response.json()["count"] == count, who
    counties = {a["county"] for a in get(api, cast.hangzhou, ASSESSMENTS, page_size=500).json()["results"]}
    assert XIHU in counties and YINZHOU not in counties


def test_assessment_filters(api, cast, bare_round):
    submit(bare_round, XIHU)
    province = api.as_user(cast.province)
    assert province.get(ASSESSMENTS, {"city": HANGZHOU}).json()["count"] == counties_of(HANGZHOU)
    assert [a["county"] for a in province.get(ASSESSMENTS, {"county": XIHU}).json()["results"]] == [XIHU]
    assert [a["county"] for a in province.get(ASSESSMENTS, {"status": "submitted"}).json()["results"]] == [XIHU]
    assert province.get(ASSESSMENTS, {"round": bare_round.pk}).json()["count"] == 90
    assert province.get(ASSESSMENTS, {"round": bare_round.pk + 1}).json()["count"] == 0
    assert province.get(ASSESSMENTS, {"status": "nonsense"}).status_code == 400


def test_assessment_detail_scope(api, cast, bare_round):
    url = f"{ASSESSMENTS}{assessment(bare_round, XIHU).pk}/"
    for who in ALL_ROLES:
        expected = 404 if who in {"yuhang", "ningbo", "yinzhou", "officer"} else 200
        assert get(api, cast.users()[who], url).status_code == expected, who


def test_submit_answers_with_the_contract_fields(api, cast, answered):
    url = f"{ASSESSMENTS}{assessment(answered, XIHU).pk}/submit/"
    response = post(api, cast.xihu, url, {"narrative": "本区按计划使用专项经费。"})
    assert response.status_code == 200
    body = response.json()
    assert CONTRACT_FIELDS <= set(body)
    assert body["round"] == answered.pk
    assert body["county"] == XIHU
    assert body["status"] == "submitted"
    assert (body["utilization_rate"], body["coverage_rate"], body["satisfaction"]) == ("0.5500", "0.2500", "80.00")
    assert (body["score_utilization"], body["score_coverage"], body["score_satisfaction"]) == (
        "55.00",
        "100.00",
        "80.00",
    )
    assert (body["total_score"], body["grade"], body["final_score"]) == ("76.50", "中", None)
    assert body["flags"] == ["sample_too_small"]


def test_submit_refusals(api, cast, bare_round):
    url = f"{ASSESSMENTS}{assessment(bare_round, XIHU).pk}/submit/"
    body = {"narrative": "说明"}
    for who in ("province", "auditor", "hangzhou", "city_auditor"):
        assert post(api, cast.users()[who], url, body).status_code == 403, who
    for who in ("yuhang", "ningbo", "yinzhou", "officer"):
        assert post(api, cast.users()[who], url, body).status_code == 404, who
    response = post(api, cast.xihu, url, {"narrative": ""})
    assert response.status_code == 400 and "narrative" in response.json()
    assert post(api, cast.xihu, url, body).status_code == 200
    again = post(api, cast.xihu, url, body)
    assert again.status_code == 409
    assert again.json()["code"] == "illegal_transition" and again.json()["detail"]
    assert post(api, cast.xihu, f"{ASSESSMENTS}999999/submit/", body).status_code == 404


def test_approve_with_an_adjustment(api, cast, answered):
    submit(answered, XIHU)
    url = f"{ASSESSMENTS}{assessment(answered, XIHU).pk}/approve/"
    response = post(
        api,
        cast.hangzhou,
        url,
        {"adjustments": {"utilization": {"score": "65.00", "reason": "补录了两笔支出凭证"}}, "comment": "同意"},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    # 0.3 × 65 + 0.2 × 100 + 0.5 × 80 = 19.5 + 20 + 40
    assert body["status"] == "approved"
    assert body["final_score"] == "79.50"
    assert body["total_score"] == "76.50"
    assert "adjusted" in body["flags"]


def test_approve_refusals(api, cast, bare_round):
    url = f"{ASSESSMENTS}{assessment(bare_round, XIHU).pk}/approve/"
    draft = post(api, cast.hangzhou, url)
    assert draft.status_code == 409 and draft.json()["code"] == "illegal_transition"
    submit(bare_round, XIHU)
    for who in ("province", "auditor", "xihu", "city_auditor"):
        assert post(api, cast.users()[who], url).status_code == 403, who
    for who in ("ningbo", "yinzhou", "yuhang", "officer"):
        assert post(api, cast.users()[who], url).status_code == 404, who
    for adjustments in (
        {"satisfaction": {"score": "90"}},
        {"satisfaction": {"score": "90", "reason": ""}},
        {"satisfaction": {"score": "101", "reason": "理由"}},
        {"satisfaction": {"score": "-1", "reason": "理由"}},
        {"speed": {"score": "90", "reason": "理由"}},
    ):
        response = post(api, cast.hangzhou, url, {"adjustments": adjustments})
        assert response.status_code == 400, adjustments
        assert "adjustments" in response.json()
    assert assessment(bare_round, XIHU).status == "submitted"
    assert post(api, cast.hangzhou, url).status_code == 200
    assert post(api, cast.hangzhou, url).status_code == 409


def test_return(api, cast, bare_round):
    submit(bare_round, XIHU)
    url = f"{ASSESSMENTS}{assessment(bare_round, XIHU).pk}/return/"
    for who in ("auditor", "xihu", "city_auditor"):
        assert post(api, cast.users()[who], url, {"comment": "退回"}).status_code == 403, who
    assert post(api, cast.ningbo, url, {"comment": "退回"}).status_code == 404
    # The province returns approved assessments only: a submitted one is the city's to return.
    assert post(api, cast.province, url, {"comment": "退回"}).status_code == 409
    missing = post(api, cast.hangzhou, url, {})
    assert missing.status_code == 400 and "comment" in missing.json()
    response = post(api, cast.hangzhou, url, {"comment": "请补充佐证材料"})
    assert response.status_code == 200 and response.json()["status"] == "draft"
    assert post(api, cast.hangzhou, url, {"comment": "再退"}).status_code == 409


def test_province_returns_an_approved_assessment(api, cast, bare_round):
    submit(bare_round, XIHU)
    url = f"{ASSESSMENTS}{assessment(bare_round, XIHU).pk}/"
    assert post(api, cast.hangzhou, url + "approve/").status_code == 200
    assert post(api, cast.hangzhou, url + "return/", {"comment": "退回"}).status_code == 409
    response = post(api, cast.province, url + "return/", {"comment": "抽查发现问题"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["final_score"]) == ("draft", None)


# ---------------------------------------------------------------- spot-checks


def approve_everything(round_: EvaluationRound) -> None:
    SelfAssessment.objects.filter(round=round_).update(
        status="approved", total_score=Decimal(70), reviewed_score=Decimal(70), final_score=Decimal(70)
    )


def test_spot_check_draw(api, cast, bare_round):
    url = f"{ROUNDS}{bare_round.pk}/spot-check/"
    nothing = post(api, cast.province, url, {"count": 3, "seed": 42})
    assert nothing.status_code == 409 and nothing.json()["code"] == "nothing_to_draw"
    approve_everything(bare_round)
    first = post(api, cast.province, url, {"count": 11, "seed": 42})
    assert first.status_code == 201
    body = first.json()
    assert (body["round"], body["seed"], body["count"]) == (bare_round.pk, 42, 11)
    codes = [c["code"] for c in body["counties"]]
    assert len(codes) == 11 and len({c[:4] for c in codes}) == 11  # one per city
    assert all(c["name"] and c["spot_check"] for c in body["counties"])
    again = post(api, cast.province, url, {"count": 11, "seed": 42}).json()
    assert [c["code"] for c in again["counties"]] == codes
    by_ratio = post(api, cast.province, url, {"ratio": "0.2", "seed": 1}).json()
    assert by_ratio["count"] == 18


def test_spot_check_draw_refusals(api, cast, bare_round, ningbo_round):
    approve_everything(bare_round)
    url = f"{ROUNDS}{bare_round.pk}/spot-check/"
    for who in ("auditor", "hangzhou", "xihu", "ningbo", "officer", "city_auditor"):
        assert post(api, cast.users()[who], url, {"count": 1, "seed": 1}).status_code == 403, who
    for body in ({}, {"count": 1, "ratio": "0.1"}, {"count": 0}, {"count": 91}, {"ratio": "2"}, {"count": "x"}):
        assert post(api, cast.province, url, body).status_code == 400, body
    assert post(api, cast.province, f"{ROUNDS}999999/spot-check/", {"count": 1}).status_code == 404
    assert not SpotCheck.objects.exists()


@pytest.fixture
def drawn(cast, bare_round):
    """Xihu (Hangzhou) and Yinzhou (Ningbo) approved by their cities and both drawn."""
    for county in (XIHU, YINZHOU):
        submit(bare_round, county)
        services.assessment_approve(assessment=assessment(bare_round, county), by=staff_city(cast, county))
    draw = services.spot_check_draw(round_=bare_round, by=cast.province, count=2, seed=9)
    return {c.assessment.county_id: c for c in draw.checks.select_related("assessment")}


def staff_city(cast, county):
    return cast.hangzhou if county == XIHU else cast.ningbo


def test_spot_check_list_follows_scope(api, cast, bare_round, drawn):
    expected = {
        "province": {XIHU, YINZHOU},
        "auditor": {XIHU, YINZHOU},
        "hangzhou": {XIHU},
        "city_auditor": {XIHU},
        "xihu": {XIHU},
        "ningbo": {YINZHOU},
        "yinzhou": {YINZHOU},
        "yuhang": set(),
        "officer": set(),
    }
    for who, counties in expected.items():
        response = get(api, cast.users()[who], CHECKS, round=bare_round.pk)
        assert response.status_code == 200
        assert {c["county"] for c in response.json()["results"]} == counties, who
    assert get(api, cast.province, CHECKS, round=bare_round.pk + 1).json()["count"] == 0
    assert get(api, cast.province, CHECKS, round="abc").status_code == 400


def test_verify(api, cast, drawn):
    url = f"{CHECKS}{drawn[XIHU].pk}/verify/"
    body = {"scores": {"utilization": "100", "coverage": "100", "satisfaction": "100"}, "findings": "凭证齐全。"}
    for who in ("auditor", "hangzhou", "xihu", "city_auditor"):
        assert post(api, cast.users()[who], url, body).status_code == 403, who
    for who in ("ningbo", "yinzhou", "yuhang", "officer"):
        assert post(api, cast.users()[who], url, body).status_code == 404, who
    for bad in (
        {"scores": {"utilization": "100", "coverage": "100"}, "findings": "x"},
        {"scores": {"utilization": "100", "coverage": "100", "satisfaction": "101"}, "findings": "x"},
        {"scores": body["scores"], "findings": ""},
    ):
        assert post(api, cast.province, url, bad).status_code == 400, bad
    response = post(api, cast.province, url, body)
    assert response.status_code == 200
    verified = response.json()
    # Xihu had nothing recorded: reviewed 0.2 × 0 … = 0.00; verified 100: flagged
    assert (verified["status"], verified["verified_score"], verified["flagged"]) == ("verified", "100.00", True)
    assert verified["difference"] == "100.00"
    assert get(api, cast.xihu, f"{ASSESSMENTS}{drawn[XIHU].assessment_id}/").json()["final_score"] == "100.00"
    assert post(api, cast.province, url, body).status_code == 409


# ---------------------------------------------------------------- reports


def report(api, user, kind, round_, region):
    return post(api, user, REPORTS, {"kind": kind, "round": round_.pk, "region": region})


def test_report_request_returns_the_queued_job(api, cast, bare_round):
    first = report(api, cast.province, "province", bare_round, PROVINCE)
    assert first.status_code == 202
    job = first.json()
    assert (job["status"], job["progress"], job["kind"], job["region"]) == ("queued", 0, "province", PROVINCE)
    second = report(api, cast.province, "province", bare_round, PROVINCE)
    assert second.status_code == 202
    assert second.json()["id"] == job["id"]
    assert ReportJob.objects.count() == 1
    # Another kind or region is another job.
    assert report(api, cast.province, "city", bare_round, HANGZHOU).json()["id"] != job["id"]


def test_report_request_scope_and_input(api, cast, bare_round, ningbo_round):
    assert report(api, cast.hangzhou, "county", bare_round, XIHU).status_code == 202
    assert report(api, cast.hangzhou, "city", bare_round, HANGZHOU).status_code == 202
    assert report(api, cast.xihu, "county", bare_round, XIHU).status_code == 202
    assert report(api, cast.city_auditor, "county", bare_round, XIHU).status_code == 202
    # Out of scope or the wrong level: refused, nothing queued.
    before = ReportJob.objects.count()
    for who, kind, region in [
        ("hangzhou", "county", YINZHOU),
        ("hangzhou", "city", NINGBO),
        ("hangzhou", "province", PROVINCE),
        ("xihu", "county", "330110"),
        ("xihu", "city", HANGZHOU),
        ("province", "county", HANGZHOU),
        ("province", "city", XIHU),
        ("province", "county", "999999"),
    ]:
        response = report(api, cast.users()[who], kind, bare_round, region)
        assert response.status_code == 400, (who, kind, region)
        assert "region" in response.json()
    assert report(api, cast.province, "nation", bare_round, PROVINCE).status_code == 400
    assert report(api, cast.hangzhou, "county", ningbo_round, XIHU).status_code == 400
    assert report(api, cast.officer, "county", bare_round, XIHU).status_code == 403
    assert ReportJob.objects.count() == before


def test_report_job_of_another_city_is_not_found(api, cast, bare_round):
    job_id = report(api, cast.hangzhou, "city", bare_round, HANGZHOU).json()["id"]
    for who in ("province", "auditor", "hangzhou", "city_auditor"):
        assert get(api, cast.users()[who], f"{REPORTS}{job_id}/").status_code == 200, who
    for who in ("ningbo", "yinzhou", "xihu", "yuhang", "officer"):
        assert get(api, cast.users()[who], f"{REPORTS}{job_id}/").status_code == 404, who
        assert get(api, cast.users()[who], f"{REPORTS}{job_id}/download/").status_code == 404, who
    assert {j["id"] for j in get(api, cast.ningbo, REPORTS).json()["results"]} == set()
    assert {j["id"] for j in get(api, cast.hangzhou, REPORTS).json()["results"]} == {job_id}


def test_download_only_when_done(api, cast, round_):
    job_id = report(api, cast.xihu, "county", round_, XIHU).json()["id"]
    url = f"{REPORTS}{job_id}/download/"
    assert get(api, cast.xihu, url).status_code == 404
    reports.generate(job_id)
    status = get(api, cast.xihu, f"{REPORTS}{job_id}/").json()
    assert (status["status"], status["progress"]) == ("done", 100)
    assert status["version"]["number"] == 1 and status["version"]["pages"] >= 1
    response = get(api, cast.xihu, url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    content = b"".join(response.streaming_content)
    assert content.startswith(b"%PDF")
    assert hashlib.sha256(content).hexdigest() == status["version"]["sha256"] == response["X-Content-SHA256"]
    assert get(api, cast.hangzhou, url).status_code == 200
    assert get(api, cast.yuhang, url).status_code == 404
    # Done: asking again queues a new job (a new version when it is generated).
    again = report(api, cast.xihu, "county", round_, XIHU).json()
    assert again["id"] != job_id and again["status"] == "queued"


@pytest.mark.parametrize(
    "url",
    [
        f"{CHECKS}?round=²",  # "²".isdigit() is True, int("²") raised: 500
        f"{CHECKS}?round=99999999999999999999",
        f"{ASSESSMENTS}?round=99999999999999999999",
        f"{ASSESSMENTS}?round=1.5",
    ],
)
def test_round_filters_refuse_what_is_not_an_id_with_400(api, cast, url):
    response = api.as_user(cast.province).get(url)
    assert response.status_code == 400, response.content
    assert "round" in response.json()


def test_spot_check_round_filter_still_filters(api, cast, bare_round, drawn):
    found = get(api, cast.province, CHECKS, round=bare_round.pk).json()["results"]
    assert {c["id"] for c in found} == {c.pk for c in drawn.values()}
    assert get(api, cast.province, CHECKS, round=bare_round.pk + 1).json()["results"] == []


def test_the_schema_admits_the_blank_grade_of_a_draft(api, cast, bare_round):
    from drf_spectacular.generators import SchemaGenerator

    draft = get(api, cast.xihu, ASSESSMENTS).json()["results"][0]
    assert (draft["status"], draft["grade"], draft["final_grade"]) == ("draft", "", "")
    schema = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    for field in ("grade", "final_grade"):
        choices = schema["Assessment"]["properties"][field]["oneOf"]
        allowed = {v for ref in choices for v in schema[ref["$ref"].rsplit("/", 1)[-1]]["enum"]}
        assert allowed == {"优", "良", "中", "差", ""}


def test_paper_answers_are_capped_per_request(api, cast, round_):
    url = f"{ROUNDS}{round_.pk}/survey-responses/"
    rows = [{"union": cast.union_xihu.pk, "answer": "satisfied"}] * 2001
    response = post(api, cast.xihu, url, rows)
    assert response.status_code == 400
    assert list(response.json()) == ["responses"] and "2000" in response.json()["responses"][0]
    assert not SurveyResponse.objects.exists()
    # A body far past the cap is refused as a whole, not validated row by row.
    response = post(api, cast.xihu, url, [{"union": "x", "answer": "?"}] * 50_000)
    assert response.status_code == 400 and list(response.json()) == ["responses"]
    assert post(api, cast.xihu, url, rows[:2000]).status_code == 201
