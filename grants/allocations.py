"""Reads of allocations: the scoped, filterable list behind ``GET /allocations/``, its exports and summaries.

The list runs in a constant number of queries whatever the page size: allocations with union, county
and city joined (read as plain values), plus one query for the funding split of the page (and, in the
change feed, one for the reader's horizon: ``unionfunds.core.feed``).
"""

from decimal import Decimal

import django_filters
from django.db.models import Count, Prefetch, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_filters.constants import EMPTY_VALUES

from members.models import Region
from unionfunds.core.changes import FEED_ORDER
from unionfunds.core.filters import AmountFilter, IdFilter, OrderingFilter, YearFilter
from unionfunds.core.money import split_by_weights

from .choices import AllocationStatus, ApplicationStatus, Category
from .models import Allocation, AllocationFunding, BudgetLine, Expenditure

ZERO = Decimal("0.00")


class StableOrderingFilter(OrderingFilter):
    """Ordering with ``id`` as the last key, so rows with equal amounts (most grants are the maximum)
    come in the same order on every request and pages never repeat or skip a row."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value not in EMPTY_VALUES:
            ordering = list(qs.query.order_by)
            if not {"id", "-id", "pk", "-pk"} & set(ordering):
                qs = qs.order_by(*ordering, "id")
        return qs


class AllocationFilter(django_filters.FilterSet):
    program = IdFilter(field_name="program_id")
    year = YearFilter(field_name="year")
    city = django_filters.CharFilter(field_name="city_id")
    county = django_filters.CharFilter(field_name="county_id")
    union = IdFilter(field_name="union_id")
    status = django_filters.ChoiceFilter(choices=AllocationStatus.choices)
    min_amount = AmountFilter(field_name="amount", lookup_expr="gte")
    max_amount = AmountFilter(field_name="amount", lookup_expr="lte")
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gt")
    ordering = StableOrderingFilter(
        fields=(
            ("approved_at", "approved_at"),
            ("updated_at", "updated_at"),
            ("amount", "approved_amount"),
            ("spent_amount", "spent_amount"),
            ("disbursed_amount", "disbursed_amount"),
            ("id", "id"),
        )
    )

    class Meta:
        model = Allocation
        fields = ["program", "year", "city", "county", "union", "status"]


def allocations_for(user):
    return (
        Allocation.objects.for_user(user)
        .select_related("union", "county", "city")
        .prefetch_related(Prefetch("funding", queryset=AllocationFunding.objects.order_by("id")))
        .order_by(*FEED_ORDER)
    )


# What one row of the list needs, read as plain values: the list is the hot path of outside systems, and
# building 600 model instances for a page of 100 would cost more than the queries themselves.
# ``change_xid`` is not shown: the feed reads the position of the page's last row from it.
ROW_FIELDS = (
    "id", "program_id", "year", "union_id", "union__name", "union__credit_code", "county_id", "county__name",
    "city_id", "city__name", "amount", "disbursed_amount", "spent_amount", "status", "approved_at", "updated_at",
    "change_xid",
)  # fmt: skip
RATE = Decimal("0.0001")


def _row(v: dict, funding: list[tuple[str, Decimal]], tz=None) -> dict:
    """The contract shape of one allocation (SPEC §5); times in ``tz`` (the current time zone)."""
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


def list_values(queryset):
    """The filtered, ordered list as plain values (what ``page_rows`` turns into rows)."""
    return queryset.prefetch_related(None).values(*ROW_FIELDS)


def page_rows(values) -> list[dict]:
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


def allocation_row(allocation: Allocation) -> dict:
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


def export_rows(queryset):
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


def summary(user, *, group_by: str, program: int | None = None) -> list[dict]:
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


def _planned_by_category(allocations) -> dict[str, Decimal]:
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


def by_category(allocation: Allocation) -> list[dict]:
    rows = (
        allocation.expenditures.values("category")
        .annotate(total=Sum("amount"), n=Count("id"), people=Sum("beneficiaries"))
        .order_by("category")
    )
    labels = dict(Category.choices)
    return [{**r, "label": str(labels.get(r["category"], r["category"]))} for r in rows]


def utilization_buckets(queryset) -> list[dict]:
    """How many allocations fall in each utilisation band: 0–20 %, 20–40 %, …, 80–100 %."""
    counts = [0] * 5
    for amount, spent in queryset.values_list("amount", "spent_amount"):
        band = min(int(spent * 5 / amount), 4) if amount else 0
        counts[band] += 1
    return [{"band": f"{i * 20}–{(i + 1) * 20}%", "count": n} for i, n in enumerate(counts)]
