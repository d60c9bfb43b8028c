"""Indicator arithmetic (docs/rules.md §9) on the hand-computed world of ``conftest.py``.

Every expected figure below is worked out by hand from the table in the conftest docstring; the
comments show the sums.
"""

from decimal import Decimal

import pytest

from evaluation import indicators, services
from evaluation.choices import Grade
from evaluation.indicators import grade_for
from members.choices import UnionStatus
from members.models import Region
from tests.factories import (
    HANGZHOU,
    PROVINCE,
    XIHU,
    YINZHOU,
    YUHANG,
    UnionFactory,
    add_members,
    allocate,
    answers,
    make_program,
    spend,
)

D = Decimal


def counties_of(city: str) -> list[str]:
    return list(Region.objects.filter(parent_id=city).values_list("code", flat=True))


def test_county_with_two_allocations_by_hand(answered, cast):
    f = indicators.compute(answered, [XIHU])
    # U = (45,000 + 10,000) / (60,000 + 40,000)
    assert (f.allocated, f.spent) == (D("100000.00"), D("55000.00"))
    assert f.utilization_rate == D("0.5500")
    assert f.score_utilization == D("55.00")
    # C = 2 subsidised / 8 verified new-economy unions (the pending one and the one without groups
    # do not count) = 0.25 ≥ target 0.2 → 100
    assert (f.subsidised_unions, f.verified_unions) == (2, 8)
    assert f.coverage_rate == D("0.2500")
    assert f.score_coverage == D("100.00")
    # S = (100 + 80 + 80 + 60) / 4
    assert f.responses == 4
    assert f.satisfaction == D("80.00")
    assert f.score_satisfaction == D("80.00")
    # total = 0.5 × 80 + 0.3 × 55 + 0.2 × 100 = 40 + 16.5 + 20
    assert f.total_score == D("76.50")
    assert f.grade == Grade.FAIR
    # Both unions have 2 answers, under the default minimum of 10
    assert answered.min_responses == 10
    assert f.flags == ["sample_too_small"]
    assert f.small_samples == [
        {"union": cast.union_xihu.pk, "responses": 2},
        {"union": cast.union_xihu_other.pk, "responses": 2},
    ]
    # The frozen form keeps exact decimals as strings, money with its two places
    data = f.as_json()
    assert (data["utilization_rate"], data["total_score"], data["allocated"]) == ("0.5500", "76.50", "100000.00")
    # A suspended union is not a verified one
    UnionFactory(county_id=XIHU, status=UnionStatus.SUSPENDED)
    assert indicators.compute(answered, [XIHU]).verified_unions == 8


def test_coverage_below_target_scores_in_proportion_and_no_answers_score_zero(answered):
    f = indicators.compute(answered, [YUHANG])
    assert f.utilization_rate == D("1.0000")
    assert f.score_utilization == D("100.00")
    # 1 of 10 = 0.1 = half the 0.2 target → 50
    assert f.coverage_rate == D("0.1000")
    assert f.score_coverage == D("50.00")
    assert f.satisfaction is None
    assert str(f.score_satisfaction) == "0.00"
    assert "no_responses" in f.flags
    # 0.3 × 100 + 0.2 × 50 + 0.5 × 0
    assert f.total_score == D("40.00")
    assert f.grade == Grade.POOR


def test_coverage_target_comes_from_the_round(world, cast):
    round_ = services.round_create(program=world.program, by=cast.province, coverage_target="0.5")
    f = indicators.compute(round_, [XIHU])
    assert f.coverage_rate == D("0.2500")
    assert f.score_coverage == D("50.00")  # 0.25 / 0.5


def test_weights_come_from_the_round(world, cast):
    round_ = services.round_create(
        program=world.program,
        by=cast.province,
        weights={"utilization": "0.6", "coverage": "0.2", "satisfaction": "0.2"},
    )
    answers(round_, cast.union_xihu, "very_satisfied", "satisfied")
    answers(round_, cast.union_xihu_other, "satisfied", "neutral")
    f = indicators.compute(round_, [XIHU])
    # 0.6 × 55 + 0.2 × 100 + 0.2 × 80 = 33 + 20 + 16
    assert f.total_score == D("69.00")
    assert f.grade == Grade.FAIR


def test_each_answer_level_and_an_exact_mean(round_, cast):
    answers(round_, cast.union_yuhang, "very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied")
    # (100 + 80 + 60 + 40 + 20) / 5
    assert indicators.compute(round_, [YUHANG]).satisfaction == D("60.00")
    answers(round_, cast.union_yuhang, "very_satisfied")
    # (300 + 100) / 6 = 66.666… → 66.67 (half up, from exact integer sums)
    assert indicators.compute(round_, [YUHANG]).satisfaction == D("66.67")
    answers(round_, cast.union_yuhang, "very_satisfied", "very_dissatisfied")
    # (400 + 120) / 8 = 65
    assert indicators.compute(round_, [YUHANG]).satisfaction == D("65.00")


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        ("100", "优"),
        ("90", "优"),
        ("90.00", "优"),
        ("89.99", "良"),
        ("80", "良"),
        ("79.99", "中"),
        ("60", "中"),
        ("59.99", "差"),
        ("0", "差"),
    ],
)
def test_grade_boundaries(total, grade):
    assert grade_for(D(total)) == grade


def test_no_total_no_grade():
    assert grade_for(None) == ""


def test_county_without_allocations_or_unions_is_flagged_and_scores_zero(round_):
    f = indicators.compute(round_, ["330108"])  # 滨江区: nothing recorded
    assert f.utilization_rate is None and f.coverage_rate is None and f.satisfaction is None
    assert [str(s) for s in f.scores().values()] == ["0.00", "0.00", "0.00"]
    assert f.total_score == D("0.00")
    assert f.grade == Grade.POOR
    assert f.flags == ["no_allocations", "no_verified_unions", "no_responses"]


def test_sample_too_small_names_the_unions_under_the_round_minimum(world, cast):
    round_ = services.round_create(program=world.program, by=cast.province, min_responses=2)
    answers(round_, cast.union_xihu, "very_satisfied", "satisfied")
    answers(round_, cast.union_xihu_other, "satisfied")
    f = indicators.compute(round_, [XIHU])
    assert "sample_too_small" in f.flags
    assert f.small_samples == [{"union": cast.union_xihu_other.pk, "responses": 1}]

    answers(round_, cast.union_xihu_other, "neutral")
    f = indicators.compute(round_, [XIHU])
    assert "sample_too_small" not in f.flags
    assert f.small_samples == []
    assert f.flags == []


def test_coverage_counts_any_program_of_the_year_but_utilisation_only_the_rounds(answered, cast):
    city_program = make_program(
        cast.hangzhou,
        owner=HANGZHOU,
        name="杭州市新就业形态工会补助",
        budget_total="1000000.00",
        funding_sources=[{"source": "union", "amount": "1000000.00"}],
        target_count=20,
        max_grant="50000.00",
    )
    union = UnionFactory(county_id=XIHU)
    add_members(union, 150)
    allocate(city_program, union, "20000.00", "1000.00")
    f = indicators.compute(answered, [XIHU])
    # U is unchanged: the city's money is not the round's program
    assert (f.allocated, f.spent, f.score_utilization) == (D("100000.00"), D("55000.00"), D("55.00"))
    # C: 3 subsidised of 9 verified (the new union is verified too)
    assert (f.subsidised_unions, f.verified_unions) == (3, 9)
    assert f.coverage_rate == D("0.3333")
    # The city-funded union has no survey link in this round: it is no "sample too small"
    assert union.pk not in {s["union"] for s in f.small_samples}


def test_city_is_computed_over_its_area_not_averaged(answered):
    city = indicators.compute(answered, counties_of(HANGZHOU))
    # U = (45,000 + 10,000 + 50,000) / (60,000 + 40,000 + 50,000) = 105,000 / 150,000
    assert (city.allocated, city.spent) == (D("150000.00"), D("105000.00"))
    assert city.utilization_rate == D("0.7000")
    assert city.score_utilization == D("70.00")
    # C = 3 / (8 + 10) = 0.1667 → 0.1667 / 0.2 = 83.33
    assert (city.subsidised_unions, city.verified_unions) == (3, 18)
    assert city.coverage_rate == D("0.1667")
    assert city.score_coverage == D("83.33")
    assert city.satisfaction == D("80.00")
    # 0.5 × 80 + 0.3 × 70 + 0.2 × 83.33 = 40 + 21 + 16.666
    assert city.total_score == D("77.67")
    # An average of the two counties would give U 77.50, C 75.00, total 58.25
    xihu, yuhang = (indicators.compute(answered, [c]) for c in (XIHU, YUHANG))
    assert (xihu.score_utilization + yuhang.score_utilization) / 2 == D("77.50")
    assert city.score_utilization != D("77.50")


def test_province_is_computed_over_all_counties(answered):
    province = indicators.compute(answered, services.counties_under(Region.objects.get(code=PROVINCE)))
    # 105,000 / 180,000 = 0.58333 → 58.33
    assert (province.allocated, province.spent) == (D("180000.00"), D("105000.00"))
    assert province.utilization_rate == D("0.5833")
    assert province.score_utilization == D("58.33")
    # 4 / 19 = 0.2105 ≥ 0.2 → 100
    assert (province.subsidised_unions, province.verified_unions) == (4, 19)
    assert province.coverage_rate == D("0.2105")
    assert province.score_coverage == D("100.00")
    # 0.5 × 80 + 0.3 × 58.33 + 0.2 × 100 = 77.499 → 77.50
    assert province.total_score == D("77.50")
    assert province.grade == Grade.FAIR


def test_counties_under_each_level(regions):
    assert services.counties_under(Region.objects.get(code=XIHU)) == [XIHU]
    hangzhou = services.counties_under(Region.objects.get(code=HANGZHOU))
    assert XIHU in hangzhou and YUHANG in hangzhou and YINZHOU not in hangzhou
    assert len(services.counties_under(Region.objects.get(code=PROVINCE))) == 90


def test_figures_follow_the_recorded_data(answered, world):
    before = indicators.compute(answered, [XIHU])
    spend(world.xihu_b, "5000.00")
    after = indicators.compute(answered, [XIHU])
    assert before.utilization_rate == D("0.5500")
    assert after.utilization_rate == D("0.6000")  # 60,000 / 100,000
    assert after.score_utilization == D("60.00")


def test_many_areas_at_once_give_the_figures_of_each_area_alone(answered, django_assert_max_num_queries):
    """What the province page and report use: every city (and single counties) in one go, same figures."""
    areas = {
        "hangzhou": counties_of(HANGZHOU),
        "xihu": [XIHU],
        "yuhang_and_yinzhou": [YUHANG, YINZHOU],
        "province": services.counties_under(Region.objects.get(code=PROVINCE)),
        "nowhere": [],
    }
    with django_assert_max_num_queries(4):
        together = indicators.compute_areas(answered, areas)
    for key, codes in areas.items():
        assert together[key] == indicators.compute(answered, codes), key


def test_city_figures_rank_the_eleven_cities_in_a_fixed_number_of_queries(answered, django_assert_max_num_queries):
    with django_assert_max_num_queries(7):  # cities, their counties, the round's program, four for the figures
        rows = indicators.city_figures(answered, Region.objects.get(code=PROVINCE))
    assert len(rows) == 11
    assert [r["figures"].total_score for r in rows] == sorted((r["figures"].total_score for r in rows), reverse=True)
    hangzhou = next(r for r in rows if r["city"].code == HANGZHOU)
    assert hangzhou["figures"] == indicators.compute(answered, counties_of(HANGZHOU))
