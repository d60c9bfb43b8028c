"""``seed_demo --scale province``, run here at a tenth of a tenth of the province so the suite stays
fast: the data must be what the services would have written — valid identifiers, money that adds up,
workflows that follow their tables, an evaluation round at every stage — and a second run changes nothing.
The full scale runs in ``make bench``.
"""

import datetime as dt
import io
import random
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F, Min, Q, Sum
from django.test import override_settings

from evaluation.choices import AssessmentStatus, SpotCheckStatus
from evaluation.models import EvaluationRound, SelfAssessment, SpotCheck, SurveyResponse
from grants import scale as grants_scale
from grants.choices import ApplicationStatus as S
from grants.models import Allocation, Application, Disbursement, Expenditure, Program
from grants.services import allocation_status_for
from grants.workflows import PROVINCIAL
from members import scale as members_scale
from members.models import Member, Union
from members.services import regions_load
from unionfunds.core.identifiers import validate_credit_code
from unionfunds.core.models import AuditEvent

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]
UNIONS, MEMBERS = 300, 36_000
SCALE = {
    (members_scale, "TARGET_UNIONS"): UNIONS,
    (members_scale, "TARGET_MEMBERS"): MEMBERS,
    (grants_scale, "PAST_YEARS"): {
        2022: (60, (0.72, 1.0), 1.0),
        2023: (70, (0.55, 1.0), 1.0),
        2024: (80, (0.15, 0.75), 0.55),
    },
    (grants_scale, "CURRENT_APPLICATIONS"): 100,
}


def seed_small(seed: int = 2022) -> None:
    with pytest.MonkeyPatch.context() as patch:
        for (module, name), value in SCALE.items():
            patch.setattr(module, name, value)
        call_command("seed_demo", "--scale", "province", "--seed", str(seed), stdout=io.StringIO())


@pytest.fixture(scope="module")
def small_province(django_db_setup, django_db_blocker):
    """Seeded once for the module inside a transaction that is rolled back at its end; each test runs
    in a savepoint inside it (pytest-django's own), so nothing leaks into the rest of the suite."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHER), transaction.atomic():
        regions_load()
        seed_small()
        yield
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_the_registry_has_the_provinces_shape(small_province):
    assert Union.objects.count() == UNIONS
    assert Member.objects.filter(left_on__isnull=True).count() == MEMBERS
    assert Member.objects.filter(left_on__isnull=False).count() > MEMBERS * 0.01  # some have left
    for code, county in Union.objects.values_list("credit_code", "county_id"):
        assert validate_credit_code(code) == code and code[2:8] == county
    # one person, one active membership; the count on each union is its active members
    active = Member.objects.filter(left_on__isnull=True)
    assert active.values("id_number_hash").distinct().count() == MEMBERS
    real = dict(active.values_list("union_id").annotate(n=Count("id")))
    assert all(u.member_count == real.get(u.pk, 0) for u in Union.objects.all())
    # masks only, never a number: 6 digits, 8 stars, 4 characters
    assert not Member.objects.exclude(id_number_masked__regex=r"^[0-9]{6}\*{8}[0-9]{3}[0-9X]$").exists()
    sizes = list(Union.objects.exclude(member_count=0).values_list("member_count", flat=True))
    near = sum(1 for n in sizes if 128 <= n <= 178)
    assert near > len(sizes) * 0.25, "many unions sit near the 150-member threshold"
    assert len(set(Union.objects.values_list("county_id", flat=True))) == 90  # every county has unions
    assert AuditEvent.objects.filter(action="member.import").count() >= UNIONS - 20


@pytest.mark.django_db
def test_decided_programs_respect_target_budget_quotas_and_eligibility(small_province):
    for year in (2022, 2023, 2024):
        program = Program.objects.get(owner_id="330000", year=year)
        approved = Application.objects.filter(program=program, status=S.APPROVED)
        assert 0 < approved.count() <= program.target_count
        assert approved.aggregate(t=Sum("approved_amount"))["t"] <= program.budget_total
        quotas = {q.city_id: q.count for q in program.city_quotas.all()}
        for city, n in Counter(approved.values_list("union__county__parent_id", flat=True)).items():
            assert n <= quotas[city], (year, city)
        assert not approved.filter(eligible=False).exists()
        assert not approved.filter(
            Q(approved_amount__gt=program.max_grant) | Q(approved_amount__gt=F("requested_amount"))
        ).exists()
        # decided: nothing waits in the chain of a past year but the demo's one left with the city
        assert not Application.objects.filter(
            program=program, status__in=[S.DRAFT, S.SUBMITTED, S.RECOMMENDED]
        ).exists()
    current = Program.objects.filter(owner_id="330000").order_by("-year").first()
    statuses = Counter(Application.objects.filter(program=current).values_list("status", flat=True))
    assert statuses[S.REVIEWED] > 20, "the province's review queue has work in it"
    assert set(statuses) >= {S.DRAFT, S.SUBMITTED, S.RECOMMENDED, S.REVIEWED}


@pytest.mark.django_db
def test_every_history_follows_the_workflow_table_and_is_audited(small_province):
    allowed = {(t.source, t.action): t.target for t in PROVINCIAL.transitions}
    histories = defaultdict(list)
    for a_id, action, source, target in (
        Application.objects.filter(program__year__lte=2024)
        .values_list("id", "history__action", "history__from_status", "history__to_status")
        .order_by("id", "history__at", "history__id")
    ):
        if action:
            histories[a_id].append((action, source, target))
    for application in Application.objects.filter(program__year__lte=2024):
        steps = histories[application.pk]
        state = S.DRAFT
        for action, source, target in steps:
            assert source == state and allowed[(source, action)] == target, (application.pk, steps)
            state = target
        assert state == application.status
    audited = AuditEvent.objects.filter(action__startswith="application.").exclude(action="application.create")
    assert audited.count() >= sum(len(s) for s in histories.values())


@pytest.mark.django_db
def test_money_adds_up_to_the_fen(small_province):
    assert Expenditure.objects.count() > 14 * Allocation.objects.filter(spent_amount__gt=0).count() * 0.9
    tranches = defaultdict(Decimal)
    for allocation_id, amount in Disbursement.objects.filter(to_region__isnull=True).values_list(
        "allocation_id", "amount"
    ):
        tranches[allocation_id] += amount
    spent = dict(Expenditure.objects.values_list("allocation_id").annotate(t=Sum("amount")))
    first_paid = dict(
        Disbursement.objects.filter(to_region__isnull=True).values_list("allocation_id").annotate(d=Min("paid_on"))
    )
    for allocation in Allocation.objects.prefetch_related("funding"):
        assert sum(f.amount for f in allocation.funding.all()) == allocation.amount
        assert allocation.disbursed_amount == tranches.get(allocation.pk, Decimal(0))
        assert allocation.spent_amount == spent.get(allocation.pk, Decimal(0))
        assert allocation.spent_amount <= allocation.disbursed_amount <= allocation.amount
        assert allocation.status == allocation_status_for(allocation)
        assert allocation.application.status == S.APPROVED
    for e in Expenditure.objects.select_related("allocation"):
        assert e.spent_on.year == e.allocation.year
        assert e.spent_on >= first_paid[e.allocation_id]
        assert e.spent_on <= dt.date.today()


@pytest.mark.django_db
def test_an_evaluation_round_at_every_stage(small_province):
    states = {}
    for year in (2022, 2023, 2024):
        round_ = EvaluationRound.objects.get(program__owner_id="330000", program__year=year)
        states[year] = Counter(SelfAssessment.objects.filter(round=round_).values_list("status", flat=True))
        subsidised = set(Allocation.objects.filter(program=round_.program).values_list("union_id", flat=True))
        answered = set(SurveyResponse.objects.filter(round=round_).values_list("union_id", flat=True))
        assert answered <= subsidised and answered
    assert states[2022] == {AssessmentStatus.APPROVED: 90}
    assert states[2023][AssessmentStatus.APPROVED] > states[2023][AssessmentStatus.SUBMITTED]
    assert set(states[2024]) == {AssessmentStatus.DRAFT, AssessmentStatus.SUBMITTED, AssessmentStatus.APPROVED}
    checks = Counter(SpotCheck.objects.filter(draw__round__program__year=2022).values_list("status", flat=True))
    assert checks[SpotCheckStatus.VERIFIED] and checks[SpotCheckStatus.SENT_BACK] == 1
    assert SpotCheck.objects.filter(draw__round__program__year=2022, flagged=True).exists()
    assert SpotCheck.objects.filter(draw__round__program__year=2023, status=SpotCheckStatus.PENDING).exists()
    web = SurveyResponse.objects.filter(source="web")
    assert web.values("round", "union", "device").distinct().count() == web.count()


@pytest.mark.django_db
def test_a_second_run_changes_nothing(small_province):
    before = (Union.objects.count(), Member.objects.count(), Application.objects.count(), AuditEvent.objects.count())
    seed_small()
    after = (Union.objects.count(), Member.objects.count(), Application.objects.count(), AuditEvent.objects.count())
    assert after == before


@pytest.mark.django_db
def test_the_same_seed_draws_the_same_province(regions):
    first = members_scale._new_unions(random.Random("same"), 300)
    again = members_scale._new_unions(random.Random("same"), 300)
    assert [(u["name"], u["credit_code"], u["founded_on"]) for u in first] == [
        (u["name"], u["credit_code"], u["founded_on"]) for u in again
    ]
    assert members_scale.member_sizes(random.Random(1), 500, 80_000) == members_scale.member_sizes(
        random.Random(1), 500, 80_000
    )
    assert sum(members_scale.member_sizes(random.Random(2), 500, 80_000)) == 80_000
