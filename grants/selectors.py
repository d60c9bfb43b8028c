"""Reads of the grants app, always through scoped querysets: programs and their budget figures, the review
queue, and the allocations (the list behind ``GET /allocations/``, its exports and summaries, the dashboard).

The allocations list runs in a constant number of queries whatever the page size: allocations with union,
county and city joined (read as plain values), plus one query for the funding split of the page (and, in the
change feed, one for the reader's horizon: ``unionfunds.core.feed``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any, TypedDict

from django.db.models import Count, Exists, F, OuterRef, Prefetch, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from members.choices import RegionLevel, UnionStatus
from members.models import Region, Union, User
from unionfunds.core import clock
from unionfunds.core.changes import FEED_ORDER
from unionfunds.core.money import split_by_weights

from . import eligibility
from .choices import ApplicationStatus, Category
from .models import Allocation, AllocationFunding, Application, BudgetLine, Expenditure, Program
from .workflows import PROVINCIAL, QUEUE_ACTIONS

ZERO = Decimal("0.00")

# ---------------------------------------------------------------- programs and their budget


class CityFigures(TypedDict):
    count: int
    total: Decimal


class BudgetFigures(TypedDict):
    approved_total: Decimal
    approved_count: int
    by_city: dict[str, CityFigures]


def program_budget_figures(program: Program) -> BudgetFigures:
    """What ``program`` has approved so far, in all and per city: the one count behind both the budget meter
    and the budget rules at approval (whose caller holds the program's row lock, so it cannot move)."""
    rows = (
        Application.objects.filter(program=program, status=ApplicationStatus.APPROVED)
        .values("union__county__parent_id")
        .annotate(count=Count("id"), total=Sum("approved_amount"))
        .order_by()
    )
    by_city: dict[str, CityFigures] = {
        row["union__county__parent_id"]: {"count": row["count"], "total": row["total"] or ZERO} for row in rows
    }
    return {
        "approved_total": sum((city["total"] for city in by_city.values()), ZERO),
        "approved_count": sum(city["count"] for city in by_city.values()),
        "by_city": by_city,
    }


def program_budget(program: Program, *, user: User) -> dict[str, Any]:
    """The budget meter (``/programs/{id}/budget/`` and the pages). ``by_city`` lists the cities of the user's
    scope that have a quota or an approval."""
    figures = program_budget_figures(program)
    per_city = figures["by_city"]
    quotas = {q.city_id: q.count for q in program.city_quotas.all()}
    city_codes = set(quotas) | set(per_city)
    cities = Region.objects.for_user(user).filter(code__in=city_codes, level=RegionLevel.CITY).order_by("code")
    by_city = []
    for city in cities:
        approved = per_city.get(city.code, {"count": 0, "total": ZERO})
        quota = quotas.get(city.code)
        by_city.append(
            {
                "city": city.code,
                "name": city.name,
                "quota": quota,
                "approved_count": approved["count"],
                "approved_total": f"{approved['total']:.2f}",
                "remaining_slots": None if quota is None else max(quota - approved["count"], 0),
            }
        )
    remaining = program.budget_total - figures["approved_total"]
    return {
        "program": program.pk,
        "budget_total": f"{program.budget_total:.2f}",
        "approved_total": f"{figures['approved_total']:.2f}",
        "remaining": f"{remaining:.2f}",
        "approved_count": figures["approved_count"],
        "target_count": program.target_count,
        "remaining_slots": max(program.target_count - figures["approved_count"], 0),
        "by_city": by_city,
    }


def programs_for(user: User) -> QuerySet[Program]:
    return Program.objects.for_user(user).select_related("owner").prefetch_related("funding", "city_quotas")


def program_choices(user: User) -> list[Program]:
    """The programs of the user's scope for a filter's choices, newest first."""
    return list(Program.objects.for_user(user).select_related("owner").order_by("-year", "id"))


def draft_choices(user: User) -> tuple[list[Program], QuerySet[Union]]:
    """What a new application may name: programs still open for applications, unions not dissolved."""
    programs = [p for p in Program.objects.for_user(user).select_related("owner") if p.closes_on >= clock.today()]
    unions = Union.objects.for_user(user).exclude(status=UnionStatus.DISSOLVED).order_by("name")
    return programs, unions


def filter_regions(user: User) -> list[Region]:
    """The cities and counties of the user's scope, for the filter forms' choices."""
    return list(Region.objects.for_user(user).exclude(level=RegionLevel.PROVINCE).order_by("code"))


# ---------------------------------------------------------------- applications and the review queue

QUEUE_SORTS = {
    "priority": ["-priority_score", "submitted_at", "id"],
    "amount": ["-requested_amount", "id"],
    "date": ["submitted_at", "id"],
}


def applications_for(user: User) -> QuerySet[Application]:
    """Applications in the user's scope with what lists and the queue show, in a fixed number of queries."""
    return (
        Application.objects.for_user(user)
        .select_related("program__owner", "union__county__parent")
        .annotate(member_count=F("union__member_count"))
    )


def queue_status(user: User) -> str | None:
    """The status the user works on first in the review queue (None: every status): where the user's role
    takes its first queue step in the provincial chain (county: submitted, city: recommended, province: reviewed)."""
    return next((t.source for t in PROVINCIAL.transitions if t.action in QUEUE_ACTIONS and user.role in t.roles), None)


def review_queue(user: User, filters: Mapping[str, Any], *, program: Program | None) -> QuerySet[Application]:
    """The queue's rows for the cleaned filters of ``QueueFilterForm``."""
    rows = applications_for(user)
    if program is not None:
        rows = rows.filter(program=program)
    if filters.get("city"):
        rows = rows.filter(union__county__parent_id=filters["city"])
    if filters.get("county"):
        rows = rows.filter(union__county_id=filters["county"])
    if filters.get("status"):
        rows = rows.filter(status=filters["status"])
    if filters.get("eligible"):
        rows = rows.filter(eligible=filters["eligible"] == "yes")
    if filters.get("org_form"):
        rows = rows.filter(union__org_form=filters["org_form"])
    return rows.order_by(*QUEUE_SORTS[filters.get("sort") or "priority"])


def mark_eligibility(applications: Iterable[Application]) -> None:
    """Set ``shown_eligible`` on each application of a list: today's checks for open ones, as their page
    shows them (the union may have been verified since the last transition recorded ``eligible``); the
    recorded result for decided ones. One query for the whole list."""
    applications = list(applications)
    open_ones = [a for a in applications if a.status not in (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED)]
    live = eligibility.evaluate_many(open_ones, on=clock.today())
    for a in applications:
        a.shown_eligible = all(c.passed for c in live[a.pk]) if a.pk in live else a.eligible


def queue_counts(user: User, *, program: Program | None = None) -> dict[str, int]:
    rows = Application.objects.for_user(user)
    if program is not None:
        rows = rows.filter(program=program)
    rows = rows.values("status").annotate(n=Count("id")).order_by()
    counts = {s: 0 for s in ApplicationStatus.values}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


# ---------------------------------------------------------------- allocations


def allocations_for(user: User) -> QuerySet[Allocation]:
    return (
        Allocation.objects.for_user(user)
        .select_related("union", "county", "city")
        .prefetch_related(Prefetch("funding", queryset=AllocationFunding.objects.order_by("id")))
        .order_by(*FEED_ORDER)
    )


def allocation_totals(allocations: QuerySet[Allocation]) -> dict[str, Any]:
    """``allocated``, ``disbursed``, ``spent`` (sums) and ``count`` of ``allocations``, in one query."""
    return allocations.aggregate(
        allocated=Coalesce(Sum("amount"), ZERO),
        disbursed=Coalesce(Sum("disbursed_amount"), ZERO),
        spent=Coalesce(Sum("spent_amount"), ZERO),
        count=Count("id"),
    )


def dashboard_programs(user: User) -> list[Program]:
    """The programs of the user's scope, each with ``allocated``: whether it has allocations (one EXISTS per
    row, not a query per program)."""
    return list(
        Program.objects.for_user(user)
        .annotate(allocated=Exists(Allocation.objects.filter(program=OuterRef("pk"))))
        .order_by("-year", "id")
    )


def disbursement_targets(allocation: Allocation, payer: Region | None) -> list[Region]:
    """The federations a payer may pass a tranche down to: those on the union's chain below it."""
    if payer is None or payer.level == RegionLevel.COUNTY:
        return []
    chain = (
        [allocation.city_id, allocation.county_id] if payer.level == RegionLevel.PROVINCE else [allocation.county_id]
    )
    return list(Region.objects.filter(code__in=chain).order_by("code"))


# What one row of the list needs, read as plain values: the list is the hot path of outside systems, and
# building 600 model instances for a page of 100 would cost more than the queries themselves.
# ``change_xid`` is not shown: the feed reads the position of the page's last row from it.
ROW_FIELDS = (
    "id", "program_id", "year", "union_id", "union__name", "union__credit_code", "county_id", "county__name",
    "city_id", "city__name", "amount", "disbursed_amount", "spent_amount", "status", "approved_at", "updated_at",
    "change_xid",
)  # fmt: skip
RATE = Decimal("0.0001")


def _row(v: dict[str, Any], funding: list[tuple[str, Decimal]], tz: dt.tzinfo | None = None) -> dict[str, Any]:
    """The contract shape of one allocation in the API; times in ``tz`` (the current time zone)."""
    tz = tz or timezone.get_current_timezone()
    amount = v["amount"]
    rate = (v["spent_amount"] / amount).quantize(RATE) if amount else Decimal("0")
    return {
        "id": v["id"],
        "program": v["program_id"],
        "year": v["year"],
        "union": {"id": v["union_id"], "name": v["union__name"], "credit_code": v["union__credit_code"]},
        "county": {"code": v["county_id"], "name": v["county__name"]},
        "city": {"code": v["city_id"], "name": v["city__name"]},
        "approved_amount": f"{amount:.2f}",
        "disbursed_amount": f"{v['disbursed_amount']:.2f}",
        "spent_amount": f"{v['spent_amount']:.2f}",
        "utilization_rate": f"{rate:.4f}",
        "funding": [{"source": source, "amount": f"{part:.2f}"} for source, part in funding],
        "status": v["status"],
        "approved_at": v["approved_at"].astimezone(tz).isoformat(),
        "updated_at": v["updated_at"].astimezone(tz).isoformat(),
    }


def list_values(queryset: QuerySet[Allocation]) -> QuerySet:
    """The filtered, ordered list as plain values (what ``page_rows`` turns into rows)."""
    return queryset.prefetch_related(None).values(*ROW_FIELDS)


def page_rows(values: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of one page of ``list_values``: one more query for the funding split of the whole page."""
    values = list(values)
    funding: dict[int, list[tuple[str, Decimal]]] = {v["id"]: [] for v in values}
    for allocation_id, source, part in (
        AllocationFunding.objects.filter(allocation_id__in=funding)
        .order_by("id")
        .values_list("allocation_id", "source", "amount")
    ):
        funding[allocation_id].append((source, part))
    tz = timezone.get_current_timezone()
    return [_row(v, funding[v["id"]], tz) for v in values]


def allocation_row(allocation: Allocation) -> dict[str, Any]:
    """The same row for one allocation loaded as a model (with ``union``, ``county``, ``city``, ``funding``)."""
    values = {name: getattr(allocation, name) for name in ROW_FIELDS if "__" not in name}
    for name in ROW_FIELDS:
        if "__" in name:
            relation, attribute = name.split("__")
            values[name] = getattr(getattr(allocation, relation), attribute)
    return _row(values, [(f.source, f.amount) for f in allocation.funding.all()])


EXPORT_HEADERS = [
    "id",
    "program",
    "year",
    "union_id",
    "union_name",
    "credit_code",
    "county_code",
    "county_name",
    "city_code",
    "city_name",
    "approved_amount",
    "disbursed_amount",
    "spent_amount",
    "utilization_rate",
    "funding_fiscal",
    "funding_union",
    "funding_other",
    "status",
    "approved_at",
    "updated_at",
]


def export_rows(queryset: QuerySet[Allocation]) -> Iterator[list[Any]]:
    for a in queryset.iterator(chunk_size=500):
        funding = {f.source: f.amount for f in a.funding.all()}
        yield [
            a.pk,
            a.program_id,
            a.year,
            a.union_id,
            a.union.name,
            a.union.credit_code,
            a.county_id,
            a.county.name,
            a.city_id,
            a.city.name,
            a.amount,
            a.disbursed_amount,
            a.spent_amount,
            a.utilization_rate,
            funding.get("fiscal", ZERO),
            funding.get("union", ZERO),
            funding.get("other", ZERO),
            a.status,
            a.approved_at,
            a.updated_at,
        ]


GROUPS = ("city", "county", "category")


def summary(user: User, *, group_by: str, program: int | None = None) -> list[dict[str, Any]]:
    """Totals per city, county or spending category within the user's scope.

    For ``category``, ``allocated`` is each allocation's amount split over the categories of its
    application's budget lines in proportion (to the fen, so a grant cut below the request still adds
    up to what was granted); ``disbursed`` is not split by category (tranches are not earmarked), so it
    is null; ``spent`` and ``count`` (allocations with spending in it) are actual.
    """
    allocations = Allocation.objects.for_user(user)
    if program is not None:
        allocations = allocations.filter(program_id=program)
    if group_by in ("city", "county"):
        key = f"{group_by}_id"
        rows = (
            allocations.values(key)
            .annotate(
                allocated=Coalesce(Sum("amount"), ZERO),
                disbursed=Coalesce(Sum("disbursed_amount"), ZERO),
                spent=Coalesce(Sum("spent_amount"), ZERO),
                count=Count("id"),
            )
            .order_by(key)
        )
        names = dict(Region.objects.filter(code__in=[r[key] for r in rows]).values_list("code", "name"))
        return [
            {
                "key": r[key],
                "name": names.get(r[key], r[key]),
                "allocated": f"{r['allocated']:.2f}",
                "disbursed": f"{r['disbursed']:.2f}",
                "spent": f"{r['spent']:.2f}",
                "count": r["count"],
            }
            for r in rows
        ]
    planned = _planned_by_category(allocations)
    spent = {
        r["category"]: r
        for r in Expenditure.objects.filter(allocation__in=allocations)
        .values("category")
        .annotate(total=Sum("amount"), n=Count("allocation_id", distinct=True))
    }
    labels = dict(Category.choices)
    return [
        {
            "key": code,
            "name": str(labels[code]),
            "allocated": f"{planned.get(code, ZERO):.2f}",
            "disbursed": None,
            "spent": f"{spent.get(code, {}).get('total') or ZERO:.2f}",
            "count": spent.get(code, {}).get("n", 0),
        }
        for code in Category.values
        if code in planned or code in spent
    ]


def _planned_by_category(allocations: QuerySet[Allocation]) -> dict[str, Decimal]:
    lines = (
        BudgetLine.objects.filter(
            application__allocation__in=allocations, application__status=ApplicationStatus.APPROVED
        )
        .order_by("application_id", "id")
        .values_list("application_id", "category", "amount", "application__allocation__amount")
    )
    per_application: dict[int, tuple[Decimal, list[tuple[str, Decimal]]]] = {}
    for application_id, category, amount, granted in lines:
        per_application.setdefault(application_id, (granted, []))[1].append((category, amount))
    planned: dict[str, Decimal] = {}
    for granted, plan in per_application.values():
        parts = split_by_weights(granted, [amount for _, amount in plan])
        for (category, _), part in zip(plan, parts, strict=True):
            planned[category] = planned.get(category, ZERO) + part
    return planned


def by_category(allocation: Allocation) -> list[dict[str, Any]]:
    rows = (
        allocation.expenditures.values("category")
        .annotate(total=Sum("amount"), n=Count("id"), people=Sum("beneficiaries"))
        .order_by("category")
    )
    labels = dict(Category.choices)
    return [{**r, "label": str(labels.get(r["category"], r["category"]))} for r in rows]


def utilization_buckets(queryset: QuerySet[Allocation]) -> list[dict[str, Any]]:
    """How many allocations fall in each utilisation band: 0–20 %, 20–40 %, …, 80–100 %."""
    counts = [0] * 5
    for amount, spent in queryset.values_list("amount", "spent_amount"):
        band = min(int(spent * 5 / amount), 4) if amount else 0
        counts[band] += 1
    return [{"band": f"{i * 20}–{(i + 1) * 20}%", "count": n} for i, n in enumerate(counts)]
