"""Concurrent approvals never overspend (docs/rules.md, §6: "approvals are race-free"), on PostgreSQL.

A program has room for exactly N approvals — by budget, by target count or by a city quota — and more
than N reviewed applications are approved at the same moment from several threads. Exactly N succeed,
every other one is refused with the rule that stopped it, and the program's totals stay within bounds.

Run: DATABASE_URL=postgres://... pytest tests/grants/test_races.py --create-db
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from grants import services
from grants.choices import ApplicationStatus as S
from grants.models import Allocation, AllocationFunding, Application, ApplicationTransition
from members.models import User
from tests.factories import eligible_union, make_application, make_program
from unionfunds.core.errors import ApplicationError
from unionfunds.core.models import AuditEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def approve_concurrently(applications, amount: str) -> list:
    """Approve every application at the same moment, one thread (and DB connection) each."""
    province_pk = User.objects.get(username="t_province").pk
    barrier = threading.Barrier(len(applications))
    outcomes: list = [None] * len(applications)

    def attempt(index: int, application_pk: int) -> None:
        try:
            by = User.objects.get(pk=province_pk)  # own instance per thread
            application = Application(pk=application_pk)
            barrier.wait(timeout=10)
            outcomes[index] = services.application_transition(
                application=application, action="approve", by=by, approved_amount=amount
            )
        except Exception as exc:  # collected and asserted on in the main thread
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(i, a.pk)) for i, a in enumerate(applications)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def reviewed(program, counties: list[str], requested: str) -> list[Application]:
    return [
        make_application(program, eligible_union(county), until=S.REVIEWED, requested=requested) for county in counties
    ]


def assert_exactly(outcomes, n: int, code: str, program) -> None:
    winners = [o for o in outcomes if isinstance(o, Application)]
    losers = [o for o in outcomes if not isinstance(o, Application)]
    assert len(winners) == n, outcomes
    assert all(isinstance(o, ApplicationError) for o in losers), losers
    assert {o.code for o in losers} == {code}, [(o.code, o.detail) for o in losers]
    approved = Application.objects.filter(program=program, status=S.APPROVED)
    assert approved.count() == n
    assert set(approved.values_list("pk", flat=True)) == {w.pk for w in winners}
    assert Allocation.objects.filter(program=program).count() == n
    assert ApplicationTransition.objects.filter(application__program=program, action="approve").count() == n
    assert AuditEvent.objects.filter(action="application.approve").count() == n
    total = approved.aggregate(t=Sum("approved_amount"))["t"] or Decimal("0")
    assert total <= program.budget_total
    funded = AllocationFunding.objects.filter(allocation__program=program).aggregate(t=Sum("amount"))["t"]
    assert funded == total  # every allocation split to the fen, nothing lost or doubled
    # The losers are still waiting for a decision, untouched.
    for loser in Application.objects.filter(program=program).exclude(status=S.APPROVED):
        assert loser.status == S.REVIEWED and loser.approved_amount is None


def test_budget_for_exactly_three_of_six(cast):
    program = make_program(
        cast.province,
        name="预算竞争",
        budget_total="150000.00",
        funding_sources=[{"source": "fiscal", "amount": "60000.00"}, {"source": "union", "amount": "90000.00"}],
        target_count=10,
        max_grant="50000.00",
    )
    applications = reviewed(program, ["330106", "330110", "330212", "330106", "330110", "330212"], "50000.00")

    outcomes = approve_concurrently(applications, "50000.00")

    assert_exactly(outcomes, 3, "budget_exceeded", program)
    assert services.program_budget_figures(program)["approved_total"] == Decimal("150000.00")


def test_target_count_for_exactly_two_of_six(cast):
    program = make_program(cast.province, name="名额竞争", target_count=2)
    applications = reviewed(program, ["330106", "330110", "330212", "330106", "330110", "330212"], "10000.00")

    outcomes = approve_concurrently(applications, "10000.00")

    assert_exactly(outcomes, 2, "target_reached", program)


def test_city_quota_for_exactly_two_of_five(cast):
    program = make_program(cast.province, name="市名额竞争", city_quotas={"330100": 2})
    applications = reviewed(program, ["330106", "330110", "330106", "330110", "330106"], "10000.00")  # all Hangzhou

    outcomes = approve_concurrently(applications, "10000.00")

    assert_exactly(outcomes, 2, "city_quota_reached", program)


def test_the_same_application_approved_twice_at_once_is_approved_once(cast):
    program = make_program(cast.province, name="重复批准")
    (application,) = reviewed(program, ["330106"], "10000.00")

    outcomes = approve_concurrently([application, application, application], "10000.00")

    assert_exactly(outcomes, 1, "illegal_transition", program)
