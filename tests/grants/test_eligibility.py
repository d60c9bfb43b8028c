"""The eligibility engine (docs/rules.md): seven rules with reasons in words, program parameters, the
priority score staff sort by, and a constant number of queries however many applications are checked."""

import datetime as dt

import pytest
from django.db.models import Count

from grants import eligibility
from grants.choices import ApplicationStatus
from grants.eligibility import RULES, evaluate, evaluate_many, priority_score
from grants.models import Application, Program
from members.choices import OrgForm, ParentLevel, UnionStatus, WorkerGroup
from members.models import Member, Union
from tests.factories import UnionFactory, add_members, eligible_union, leave, make_application, make_program

ON = dt.date(2026, 6, 30)


@pytest.fixture
def provincial(db) -> Program:
    """Unsaved program with the provincial defaults (150 members, committee 3, county/township level)."""
    return Program(min_members=150, min_committee=3)


def check(program, union, *, members=150, others=0, on=ON) -> dict[str, eligibility.Check]:
    checks = evaluate(program, union, member_count=members, other_applications=others, on=on)
    assert [c.rule for c in checks] == list(RULES)
    return {c.rule: c for c in checks}


def union(**fields) -> Union:
    defaults = {
        "status": UnionStatus.VERIFIED,
        "covered_groups": Union.encode_groups([WorkerGroup.COURIER, WorkerGroup.FOOD_DELIVERY]),
        "parent_level": ParentLevel.TOWNSHIP,
        "chair_elected_on": dt.date(2023, 3, 1),
        "chair_term_years": 5,
        "committee_size": 5,
    }
    defaults.update(fields)
    return UnionFactory.build(**defaults)


def test_a_union_like_the_factory_default_passes_every_rule(regions, provincial):
    checks = check(provincial, union())
    assert all(c.passed for c in checks.values()), checks


# ------------------------------------------------------------------ each rule, pass and fail


def test_verified(regions, provincial):
    ok = check(provincial, union())["verified"]
    assert ok.passed and "核实" in ok.detail
    pending = check(provincial, union(status=UnionStatus.PENDING))["verified"]
    assert not pending.passed and "待核实" in pending.detail
    suspended = check(provincial, union(status=UnionStatus.SUSPENDED))["verified"]
    assert not suspended.passed and "已暂停" in suspended.detail
    assert "尚未" not in suspended.detail  # it was verified once; now it is suspended


def test_new_economy_groups(regions, provincial):
    ok = check(provincial, union())["new_economy_groups"]
    assert ok.passed and "快递员" in ok.detail and "外卖配送员" in ok.detail
    none = check(provincial, union(covered_groups=""))["new_economy_groups"]
    assert not none.passed and "未覆盖" in none.detail


@pytest.mark.parametrize(
    ("level", "passed", "words"),
    [
        (ParentLevel.COUNTY, True, "县级总工会"),
        (ParentLevel.TOWNSHIP, True, "乡镇"),
        (ParentLevel.CITY, False, "市总工会直属"),
    ],
)
def test_level(regions, provincial, level, passed, words):
    result = check(provincial, union(parent_level=level))["level"]
    assert result.passed is passed
    assert words in result.detail


def test_min_members_149_fails_and_150_passes(regions, provincial):
    short = check(provincial, union(), members=149)["min_members"]
    assert not short.passed
    assert "149" in short.detail and "150" in short.detail
    enough = check(provincial, union(), members=150)["min_members"]
    assert enough.passed and "150" in enough.detail


def test_chair_elected_within_term(regions, provincial):
    result = check(provincial, union(chair_elected_on=dt.date(2023, 3, 1), chair_term_years=5))["chair_elected"]
    assert result.passed
    assert "2023-03-01" in result.detail and "2028-03-01" in result.detail


@pytest.mark.parametrize(
    ("elected", "years", "on", "passed", "words"),
    [
        # A three-year term elected on 2023-03-01 ends on 2026-03-01.
        (dt.date(2023, 3, 1), 3, dt.date(2026, 2, 28), True, "2026-03-01"),
        (dt.date(2023, 3, 1), 3, dt.date(2026, 3, 1), False, "2026-03-01"),
        (dt.date(2023, 3, 1), 3, dt.date(2026, 6, 30), False, "届满"),
        (dt.date(2020, 2, 29), 5, dt.date(2025, 2, 27), True, "2025-02-28"),
        (dt.date(2020, 2, 29), 5, dt.date(2025, 2, 28), False, "2025-02-28"),
        (dt.date(2026, 7, 1), 5, dt.date(2026, 6, 30), False, "晚于"),
        (None, 5, dt.date(2026, 6, 30), False, "未登记"),
    ],
)
def test_chair_elected_term_and_dates(regions, provincial, elected, years, on, passed, words):
    result = check(provincial, union(chair_elected_on=elected, chair_term_years=years), on=on)["chair_elected"]
    assert result.passed is passed, result
    assert words in result.detail


def test_min_committee(regions, provincial):
    ok = check(provincial, union(committee_size=3))["min_committee"]
    assert ok.passed and "3" in ok.detail
    short = check(provincial, union(committee_size=2))["min_committee"]
    assert not short.passed
    assert "2" in short.detail and "3" in short.detail


def test_single_application(regions, provincial):
    ok = check(provincial, union(), others=0)["single_application"]
    assert ok.passed
    twice = check(provincial, union(), others=1)["single_application"]
    assert not twice.passed and "1" in twice.detail


def test_a_failing_union_fails_every_rule_and_only_those(regions, provincial):
    bad = union(
        status=UnionStatus.PENDING,
        covered_groups="",
        parent_level=ParentLevel.CITY,
        chair_elected_on=None,
        committee_size=1,
    )
    checks = check(provincial, bad, members=10, others=1)
    assert [rule for rule, c in checks.items() if c.passed] == []


# ------------------------------------------------------------------ program parameters


def test_parameters_of_the_program_change_the_outcome(regions):
    small = union(status=UnionStatus.PENDING, covered_groups="", parent_level=ParentLevel.CITY, committee_size=4)
    strict = Program(min_members=150, min_committee=5)
    relaxed = Program(
        min_members=100,
        min_committee=3,
        require_verified=False,
        require_groups=False,
        require_chair_elected=False,
        allowed_parent_levels=["county", "township", "city"],
    )
    on_strict = check(strict, small, members=120)
    on_relaxed = check(relaxed, small, members=120)
    for rule in ("verified", "new_economy_groups", "level", "min_members", "min_committee"):
        assert not on_strict[rule].passed, rule
        assert on_relaxed[rule].passed, rule
    assert "100" in on_relaxed["min_members"].detail
    assert "县级及以下" not in on_relaxed["level"].detail  # a city-direct union is not "county level or below"
    assert "5" in on_strict["min_committee"].detail
    expired = union(chair_elected_on=dt.date(2015, 1, 1), chair_term_years=3)
    assert not check(strict, expired)["chair_elected"].passed
    assert check(relaxed, expired)["chair_elected"].passed


def test_min_members_100_on_a_saved_program_lets_a_union_of_120_apply_eligible(cast):
    union_120 = eligible_union(members=120)
    default = make_program(cast.province, name="默认条件")
    lower = make_program(cast.province, name="放宽人数", min_members=100)
    on_default = make_application(default, union_120)
    on_lower = make_application(lower, union_120)
    assert on_default.eligible is False
    assert on_lower.eligible is True
    failed = [c for c in on_default.eligibility_checks if not c["passed"]]
    assert [c["rule"] for c in failed] == ["min_members"]
    assert "120" in failed[0]["detail"] and "150" in failed[0]["detail"]


# ------------------------------------------------------------------ many at once, from the database


def test_evaluate_many_counts_only_active_members(cast):
    program = make_program(cast.province)
    union = eligible_union(members=150)
    application = make_application(program, union)
    assert evaluate_many([application], on=ON)[application.pk][3].passed
    leave(union.members.first(), dt.date(2026, 1, 1))
    application = Application.objects.select_related("program", "union").get(pk=application.pk)
    result = {c.rule: c for c in evaluate_many([application], on=ON)[application.pk]}
    assert not result["min_members"].passed
    assert "149" in result["min_members"].detail and "150" in result["min_members"].detail
    assert result["single_application"].passed  # its own application is not "another one"


def _applications(program, count: int) -> list[Application]:
    unions = [UnionFactory(county_id="330106") for _ in range(count)]
    for index, union in enumerate(unions):
        add_members(union, 1 + index % 3)
    Application.objects.bulk_create(
        Application(program=program, union=union, requested_amount="50000.00", status=ApplicationStatus.SUBMITTED)
        for union in unions
    )
    return list(Application.objects.filter(program=program).select_related("program", "union"))


@pytest.mark.parametrize("count", [3, 30])
def test_evaluate_many_uses_a_constant_number_of_queries(cast, count, django_assert_max_num_queries):
    program = make_program(cast.province, min_members=2)
    applications = _applications(program, count)
    with django_assert_max_num_queries(2):
        results = evaluate_many(applications, on=ON)
    assert set(results) == {a.pk for a in applications}
    by_members = {a.union_id: results[a.pk][3] for a in applications}
    counts = dict(
        Member.objects.filter(union_id__in=by_members, left_on__isnull=True)
        .values_list("union_id")
        .annotate(n=Count("id"))
    )
    for union_id, result in by_members.items():
        assert result.passed is (counts[union_id] >= 2)
        assert f"会员 {counts[union_id]} 人" in result.detail


# ------------------------------------------------------------------ priority score


@pytest.mark.parametrize(
    ("org_form", "hard", "groups", "members", "score"),
    [
        # federation/joint union +40, funds hard to guarantee +30, +5 per group (≤ 15), +1 per 50 members (≤ 15)
        (OrgForm.JOINT_UNION, True, [WorkerGroup.COURIER, WorkerGroup.FOOD_DELIVERY], 150, 40 + 30 + 10 + 3),
        (OrgForm.REGIONAL_FEDERATION, False, [WorkerGroup.COURIER], 199, 40 + 0 + 5 + 3),
        (OrgForm.INDUSTRY_FEDERATION, True, [], 49, 40 + 30 + 0 + 0),
        (OrgForm.ENTERPRISE_UNION, True, [WorkerGroup.COURIER], 150, 0 + 30 + 5 + 3),
        (OrgForm.OTHER, False, list(WorkerGroup)[:4], 749, 0 + 0 + 15 + 14),
        (OrgForm.JOINT_UNION, True, list(WorkerGroup), 10_000, 40 + 30 + 15 + 15),
    ],
)
def test_priority_score_follows_the_documented_formula(regions, org_form, hard, groups, members, score):
    subject = union(org_form=org_form, funds_hard_to_guarantee=hard, covered_groups=Union.encode_groups(groups))
    assert priority_score(subject, members) == score


def test_federations_and_hard_funded_unions_come_first_in_the_review_order(cast):
    program = make_program(cast.province)
    enterprise = eligible_union(org_form=OrgForm.ENTERPRISE_UNION, funds_hard_to_guarantee=False)
    federation = eligible_union(org_form=OrgForm.REGIONAL_FEDERATION, funds_hard_to_guarantee=True)
    for subject in (enterprise, federation):
        make_application(program, subject, until=ApplicationStatus.SUBMITTED)
    ordered = list(Application.objects.filter(program=program).values_list("union_id", "priority_score"))
    assert ordered == [(federation.pk, 83), (enterprise.pk, 13)]
