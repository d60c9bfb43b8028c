"""Reads of the grants app, always through scoped querysets."""

from decimal import Decimal

from django.db.models import Count, F, Sum
from django.db.models.functions import Coalesce

from members.models import Region
from unionfunds.core import clock

from . import eligibility
from .choices import ApplicationStatus
from .models import Application, Program


def program_budget(program: Program, *, user) -> dict:
    """The budget meter of SPEC §5 (``/programs/{id}/budget/``). ``by_city`` lists the cities of the
    user's scope that have a quota or an approval."""
    approved = Application.objects.filter(program=program, status=ApplicationStatus.APPROVED)
    totals = approved.aggregate(total=Coalesce(Sum("approved_amount"), Decimal("0.00")), count=Count("id"))
    per_city = {
        row["union__county__parent_id"]: row
        for row in approved.values("union__county__parent_id").annotate(n=Count("id"), total=Sum("approved_amount"))
    }
    quotas = {q.city_id: q.count for q in program.city_quotas.all()}
    city_codes = set(quotas) | set(per_city)
    cities = Region.objects.for_user(user).filter(code__in=city_codes, level="city").order_by("code")
    by_city = []
    for city in cities:
        row = per_city.get(city.code, {})
        quota = quotas.get(city.code)
        count = row.get("n", 0)
        by_city.append(
            {
                "city": city.code,
                "name": city.name,
                "quota": quota,
                "approved_count": count,
                "approved_total": f"{row.get('total') or Decimal('0.00'):.2f}",
                "remaining_slots": None if quota is None else max(quota - count, 0),
            }
        )
    remaining = program.budget_total - totals["total"]
    return {
        "program": program.pk,
        "budget_total": f"{program.budget_total:.2f}",
        "approved_total": f"{totals['total']:.2f}",
        "remaining": f"{remaining:.2f}",
        "approved_count": totals["count"],
        "target_count": program.target_count,
        "remaining_slots": max(program.target_count - totals["count"], 0),
        "by_city": by_city,
    }


def applications_for(user):
    """Applications in the user's scope with what lists and the queue show, in a fixed number of queries."""
    return (
        Application.objects.for_user(user)
        .select_related("program__owner", "union__county__parent")
        .annotate(member_count=F("union__member_count"))
    )


def mark_eligibility(applications) -> None:
    """Set ``shown_eligible`` on each application of a list: today's checks for open ones, as their page
    shows them (the union may have been verified since the last transition recorded ``eligible``); the
    recorded result for decided ones. One query for the whole list."""
    applications = list(applications)
    open_ones = [a for a in applications if a.status not in (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED)]
    live = eligibility.evaluate_many(open_ones, on=clock.today())
    for a in applications:
        a.shown_eligible = all(c.passed for c in live[a.pk]) if a.pk in live else a.eligible


def queue_counts(user, *, program: Program | None = None) -> dict[str, int]:
    rows = Application.objects.for_user(user)
    if program is not None:
        rows = rows.filter(program=program)
    rows = rows.values("status").annotate(n=Count("id")).order_by()
    counts = {s: 0 for s in ApplicationStatus.values}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


def programs_for(user):
    return Program.objects.for_user(user).select_related("owner").prefetch_related("funding", "city_quotas")
