"""Province-scale grants for ``seed_demo --scale province``: the provincial programs of 2022,
2023 and 2024 decided in full (applications of about a sixth of the unions, 250 approvals each within the
city quotas, tranches down the chain, about 20 expenditures per allocation), and this year's program
with a full review queue (hundreds of applications at every step, some already approved).

Rows are written in bulk (``insert_rows``), not through the services, but with the services' own rules
and functions: eligibility and the priority score from ``grants.eligibility``, approvals by priority
within the target, the budget and the city quotas, the allocation split of ``split_by_weights``, the
allocation status of ``allocation_status_for``, one workflow transition and one audit event per step.
Dates follow each program's year (the window, approval, tranches, spending inside the year).
"""

from __future__ import annotations

import copy
import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise

from django.utils import timezone

from members.choices import Role, UnionStatus
from members.models import Union, User
from members.scale import AUDIT_FIELDS, LOCAL, moment, officer_accounts
from unionfunds.core import clock
from unionfunds.core.bulk import insert_rows
from unionfunds.core.models import AuditEvent
from unionfunds.core.money import split_by_weights

from . import eligibility
from .choices import ApplicationStatus as S
from .choices import Category
from .demo import EXPENSES, PLAN, PROVINCE, QUOTAS_2022, _budget_lines, _program
from .models import (
    Allocation,
    AllocationFunding,
    Application,
    ApplicationTransition,
    BudgetLine,
    Disbursement,
    Expenditure,
    Program,
)
from .services import allocation_status_for

FEN = Decimal("0.01")
# Program years of the province: how many unions apply, and how far the money has gone by now.
PAST_YEARS = {
    # year: (applications, share of the allocation spent: low, high; share of allocations paid in full)
    2022: (620, (0.72, 1.0), 1.0),
    2023: (780, (0.55, 1.0), 1.0),
    2024: (940, (0.15, 0.75), 0.55),
}
CURRENT_APPLICATIONS = 1_400
# This year's queue: the share of applications at each step (the province has decided a few already).
CURRENT_STEPS = [
    (S.DRAFT, 10),
    (S.SUBMITTED, 15),
    (S.RECOMMENDED, 20),
    (S.REVIEWED, 45),
    (S.APPROVED, 8),
    (S.REJECTED, 2),
]
REJECTION_FULL = "本年度名额有限，优先补助联合会、联合工会及经费难以保证的工会。"


@dataclass
class GrantFigures:
    applications: int = 0
    approvals: int = 0
    tranches: int = 0
    expenditures: int = 0
    by_year: dict = field(default_factory=dict)


class Writer:
    """Collects the rows of one run and writes each table in one bulk insert, in dependency order."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.staff = {u.region_id: u for u in User.objects.filter(role__in=[Role.COUNTY_STAFF, Role.CITY_STAFF])}
        self.province = User.objects.get(username="province")
        self.applications: list[dict] = []
        self.audit: list[tuple] = []

    def event(self, at, actor: User, action: str, obj_type: str, obj_id, text: str, after: dict) -> None:
        self.audit.append((at, actor.pk, actor.username, action, obj_type, str(obj_id), text[:255], after))


def _weight(union: Union, program: Program, counts: dict[int, int]) -> float:
    """How likely a union is to apply: counties recommend mostly unions that qualify (verified, enough
    members), federations and joint unions more often, city-direct ones rarely."""
    return (
        (6 if counts.get(union.pk, 0) >= program.min_members else 1)
        * (4 if union.status == UnionStatus.VERIFIED else 1)
        * (2 if union.org_form in eligibility.PREFERRED_FORMS else 1)
        * (0.3 if union.parent_level == "city" else 1)
    )


def _draw(rng: random.Random, pool: list[Union], weights: list[float], count: int) -> list[Union]:
    chosen: dict[int, Union] = {}
    while len(chosen) < min(count, len(pool)):
        for u in rng.choices(pool, weights, k=count - len(chosen)):
            chosen.setdefault(u.pk, u)
    return list(chosen.values())[:count]


def _applicants(
    rng: random.Random, program: Program, count: int, *, founded_before: dt.date, counts: dict[int, int]
) -> list[Union]:
    """Unions that apply to ``program``; with city quotas, each city puts forward applicants in proportion
    to its quota (as cities do when the province shares out the places)."""
    applied = set(Application.objects.filter(program=program).values_list("union_id", flat=True))
    pool = [
        u
        for u in Union.objects.filter(founded_on__lt=founded_before).select_related("county").order_by("id")
        if u.pk not in applied and u.status != UnionStatus.DISSOLVED
    ]
    quotas = {q.city_id: q.count for q in program.city_quotas.all()}
    if not quotas:
        chosen = _draw(rng, pool, [_weight(u, program, counts) for u in pool], count)
    else:
        chosen = []
        for city, quota in sorted(quotas.items()):
            local = [u for u in pool if u.county.parent_id == city]
            wanted = round(count * quota / sum(quotas.values()))
            chosen += _draw(rng, local, [_weight(u, program, counts) for u in local], wanted)
    return sorted(chosen, key=lambda u: u.pk)


def as_of(union: Union, day: dt.date) -> Union:
    """The union as it stood on ``day`` for the chair rule: the election in office then is the latest one
    minus whole terms (chairs are re-elected when the term ends), or none if the first came later."""
    past = copy.copy(union)
    elected = union.chair_elected_on
    while elected is not None and elected > day:
        earlier = eligibility.term_ends_on(elected, -union.chair_term_years)
        elected = earlier if union.founded_on is None or earlier >= union.founded_on else None
    past.chair_elected_on = elected if elected is not None else union.chair_elected_on
    return past


def _requested(rng: random.Random, program: Program) -> Decimal:
    return min(program.max_grant, Decimal(rng.choice([30000, 40000, 45000, 50000, 55000, 60000, 60000, 60000])))


def _decide(program: Program, candidates: list[dict], *, target: int) -> None:
    """Mark approvals: eligible applications by priority within the target, the budget and the city quotas."""
    approved = Application.objects.filter(program=program, status=S.APPROVED)
    used = Counter(approved.values_list("union__county__parent_id", flat=True))
    spent = sum(approved.values_list("approved_amount", flat=True), Decimal(0))
    count = sum(used.values())
    quotas = {q.city_id: q.count for q in program.city_quotas.all()}
    for row in sorted(candidates, key=lambda r: (-r["priority_score"], r["tiebreak"])):
        city = row["union"].county.parent_id
        amount = row["approved_amount"]
        fits = (
            row["eligible"]
            and count < target
            and spent + amount <= program.budget_total
            and used[city] < quotas.get(city, target)
        )
        if fits:
            row["status"] = S.APPROVED
            used[city] += 1
            count += 1
            spent += amount
        else:
            row["status"] = S.REJECTED
            row["approved_amount"] = None


def _plan_year(writer: Writer, program: Program, count: int, *, decided: bool, counts: dict[int, int]) -> list[dict]:
    """Application rows of one program (statuses decided, dates set); nothing written yet."""
    rng = writer.rng
    opens, closes = program.opens_on, program.closes_on
    unions = _applicants(rng, program, count, founded_before=opens, counts=counts)
    rows = []
    for union in unions:
        members = counts.get(union.pk, 0)
        # Past years were checked when decided; this year's applications are checked live, today.
        on = closes + dt.timedelta(days=15) if decided else clock.today()
        checks = eligibility.evaluate(program, as_of(union, on), member_count=members, other_applications=0, on=on)
        created = moment(
            opens + dt.timedelta(days=rng.randrange(max(1, (min(closes, clock.today()) - opens).days))), rng
        )
        requested = _requested(rng, program)
        approved = requested if rng.random() < 0.85 else (requested * Decimal("0.8")).quantize(Decimal("1"))
        rows.append(
            {
                "union": union,
                "program": program,
                "requested_amount": requested,
                "approved_amount": approved,
                "eligible": all(c.passed for c in checks),
                "eligibility_checks": [c.as_dict() for c in checks],
                "priority_score": eligibility.priority_score(union, members),
                "created_at": created,
                "tiebreak": rng.random(),
                "decision_day": closes + dt.timedelta(days=rng.randrange(10, 21)),
            }
        )
    if not decided:
        steps, weights = zip(*CURRENT_STEPS, strict=True)
        for row in rows:
            row["status"] = rng.choices(steps, weights)[0]
            earliest = timezone.localtime(row["created_at"], LOCAL).date() + dt.timedelta(days=40)
            row["decision_day"] = min(earliest + dt.timedelta(days=rng.randrange(30)), clock.today())
        rows_to_decide = [r for r in rows if r["status"] in (S.APPROVED, S.REJECTED)]
    else:
        rows_to_decide = rows
    _decide(program, rows_to_decide, target=program.target_count)
    for row in rows:
        if row["status"] != S.APPROVED:
            row["approved_amount"] = None
    return rows


def _history(writer: Writer, row: dict, officer: User | None) -> list[tuple]:
    """(action, from, to, actor, at, comment) steps up to the row's status; sets submitted/decided times."""
    rng = writer.rng
    union = row["union"]
    county = writer.staff[union.county_id]
    city = writer.staff[union.county.parent_id]
    status = row["status"]
    last = row["created_at"]  # the time of the last step so far
    latest = timezone.now() - dt.timedelta(hours=1)  # nothing in the future

    def later(days_low: int, days_high: int) -> dt.datetime:
        nonlocal last
        last = min(last + dt.timedelta(days=rng.randrange(days_low, days_high), hours=rng.randrange(6)), latest)
        return last

    steps = []
    order = [S.SUBMITTED, S.RECOMMENDED, S.REVIEWED]
    reach = {S.DRAFT: 0, S.SUBMITTED: 1, S.RECOMMENDED: 2, S.REVIEWED: 3, S.APPROVED: 3, S.REJECTED: 3}[status]
    returned = status == S.DRAFT and rng.random() < 0.3  # sent back by the county, not yet resubmitted
    if returned:
        reach = 1
    actors = [officer or county, county, city]
    actions = ["submit", "recommend", "review"]
    comments = ["请审核。", "材料齐全，同意推荐。", "经审核符合条件，报省总工会。"]
    previous = S.DRAFT
    for index in range(reach):
        at = later(1, 6) if index == 0 else later(4, 15)
        steps.append((actions[index], previous, order[index], actors[index], at, comments[index]))
        previous = order[index]
        if index == 0:
            row["submitted_at"] = at
    if returned:
        steps.append(("return", S.SUBMITTED, S.DRAFT, county, later(2, 6), "请补充会员名册和选举材料后重新提交。"))
    if status in (S.APPROVED, S.REJECTED):
        day = row["decision_day"]
        at = min(max(moment(day, rng), last + dt.timedelta(hours=1)), latest)
        if status == S.APPROVED:
            comment = "经省总工会基层工作部审定，予以补助。"
        elif not row["eligible"]:
            failed = [c["detail"] for c in row["eligibility_checks"] if not c["passed"]]
            comment = "经审定，本年度不予补助：" + "；".join(failed)
        else:
            comment = REJECTION_FULL
        steps.append(
            ("approve" if status == S.APPROVED else "reject", S.REVIEWED, status, writer.province, at, comment)
        )
        row["decided_at"] = at
    row["updated_at"] = steps[-1][4] if steps else row["created_at"]
    return steps


APPLICATION_FIELDS = [
    "program_id", "union_id", "status", "requested_amount", "approved_amount", "plan", "eligible",
    "eligibility_checks", "priority_score", "created_by_id", "created_at", "submitted_at", "decided_at",
    "updated_at",
]  # fmt: skip


def _write_applications(writer: Writer, rows: list[dict], officers: dict[int, User]) -> dict[tuple[int, int], int]:
    histories = []
    for row in rows:
        officer = officers.get(row["union"].pk)
        row.setdefault("submitted_at", None)
        row.setdefault("decided_at", None)
        histories.append(_history(writer, row, officer))
        row["created_by"] = officer or writer.staff[row["union"].county_id]
    insert_rows(
        Application,
        APPLICATION_FIELDS,
        (
            (
                r["program"].pk, r["union"].pk, r["status"], r["requested_amount"], r["approved_amount"], PLAN,
                r["eligible"], r["eligibility_checks"], r["priority_score"], r["created_by"].pk, r["created_at"],
                r["submitted_at"], r["decided_at"], r["updated_at"],
            )
            for r in rows
        ),
    )  # fmt: skip
    programs = {r["program"].pk for r in rows}
    ids = {
        (p, u): pk
        for pk, p, u in Application.objects.filter(program_id__in=programs).values_list("id", "program_id", "union_id")
    }
    lines, steps = [], []
    for row, history in zip(rows, histories, strict=True):
        pk = ids[(row["program"].pk, row["union"].pk)]
        row["id"] = pk
        for line in _budget_lines(writer.rng, row["requested_amount"]):
            lines.append((pk, line["category"], Decimal(line["amount"]), line["description"]))
        text = f"{row['union'].name} · {row['program'].name}"
        writer.event(
            row["created_at"], row["created_by"], "application.create", "grants.application", pk, text,
            {"status": S.DRAFT, "requested_amount": f"{row['requested_amount']:.2f}"},
        )  # fmt: skip
        for action, source, target, actor, at, comment in history:
            steps.append((pk, action, source, target, actor.pk, at, comment))
            after = {"status": target, "comment": comment, "eligible": row["eligible"]}
            if action == "approve":
                after["approved_amount"] = f"{row['approved_amount']:.2f}"
            writer.event(at, actor, f"application.{action}", "grants.application", pk, text, after)
    insert_rows(BudgetLine, ["application_id", "category", "amount", "description"], lines)
    insert_rows(
        ApplicationTransition,
        ["application_id", "action", "from_status", "to_status", "actor_id", "at", "comment"],
        steps,
    )
    return ids


def _parts(rng: random.Random, total: Decimal, n: int) -> list[Decimal]:
    """``total`` cut into ``n`` positive amounts of whole fen that add up exactly."""
    fen = int(total * 100)
    n = max(1, min(n, fen))
    cuts = sorted(rng.sample(range(1, fen), n - 1)) if n > 1 else []
    edges = [0, *cuts, fen]
    return [Decimal(b - a).scaleb(-2) for a, b in pairwise(edges)]


def _money(writer: Writer, rows: list[dict], *, year: int, spent_share: tuple[float, float], paid_in_full: float):
    """Allocations, their funding split, tranches (province → county → union) and expenditures."""
    rng = writer.rng
    approved = [r for r in rows if r["status"] == S.APPROVED]
    if not approved:
        return 0, 0
    program = approved[0]["program"]
    sources = list(program.funding.all())
    today = clock.today()
    year_end = min(dt.date(year, 12, 31), today)
    insert_rows(
        Allocation,
        ["application_id", "program_id", "union_id", "year", "county_id", "city_id", "amount", "disbursed_amount",
         "spent_amount", "status", "approved_at", "updated_at"],
        (
            (r["id"], program.pk, r["union"].pk, year, r["union"].county_id, r["union"].county.parent_id,
             r["approved_amount"], Decimal(0), Decimal(0), "allocated", r["decided_at"], r["decided_at"])
            for r in approved
        ),
    )  # fmt: skip
    allocations = {
        a.application_id: a for a in Allocation.objects.filter(application_id__in=[r["id"] for r in approved])
    }
    funding, tranches, spending = [], [], []
    for row in approved:
        allocation = allocations[row["id"]]
        union = row["union"]
        parts = split_by_weights(allocation.amount, [s.amount for s in sources])
        funding += [(allocation.pk, s.source, part) for s, part in zip(sources, parts, strict=True)]
        county = writer.staff[union.county_id]
        text = f"{union.name} {allocation.amount}"
        approved_day = timezone.localtime(row["decided_at"], LOCAL).date()
        first_day = min(approved_day + dt.timedelta(days=rng.randrange(10, 25)), year_end)
        if first_day < approved_day:
            continue  # approved today: nothing paid yet
        # Province to the county federation, then the county to the union in one or two tranches.
        tranches.append((allocation.pk, allocation.amount, first_day, f"ZJ{year}-{allocation.pk:06d}", PROVINCE,
                         union.county_id, writer.province.pk, moment(first_day, rng)))  # fmt: skip
        writer.event(
            moment(first_day, rng), writer.province, "allocation.disburse", "grants.allocation", allocation.pk, text,
            {"amount": f"{allocation.amount:.2f}", "from": PROVINCE, "to": union.county_id},
        )  # fmt: skip
        full = rng.random() < paid_in_full
        first = (allocation.amount * Decimal("0.6")).quantize(FEN)
        to_union = [(first_day + dt.timedelta(days=rng.randrange(3, 10)), first)]
        if full:
            to_union.append((to_union[0][0] + dt.timedelta(days=rng.randrange(20, 50)), allocation.amount - first))
        disbursed = Decimal(0)
        last_money_day = first_day
        for number, (day, amount) in enumerate(to_union, start=1):
            day = min(day, year_end)
            tranches.append((allocation.pk, amount, day, f"{union.county_id}-{year}-{allocation.pk:06d}-{number}",
                             union.county_id, None, county.pk, moment(day, rng)))  # fmt: skip
            writer.event(
                moment(day, rng), county, "allocation.disburse", "grants.allocation", allocation.pk, text,
                {"amount": f"{amount:.2f}", "from": union.county_id, "to": f"union:{union.pk}"},
            )  # fmt: skip
            disbursed += amount
            last_money_day = max(last_money_day, day)
        share = Decimal(str(round(rng.uniform(*spent_share), 3)))
        spent = min(disbursed, (allocation.amount * share).quantize(FEN))
        amounts = _parts(rng, spent, rng.randrange(14, 27)) if spent > 0 else []
        categories = [c for c in program.categories if c in EXPENSES] or list(Category.values)
        spender = row.get("officer") or county
        # Spending follows the money: what is spent before the second tranche stays within the first.
        windows = [(min(day, year_end), amount) for day, amount in to_union]
        received, running, window = windows[0][1], Decimal(0), 0
        for index, amount in enumerate(amounts, start=1):
            running += amount
            while running > received and window + 1 < len(windows):
                window += 1
                received += windows[window][1]
            start = windows[window][0]
            end = windows[window + 1][0] - dt.timedelta(days=1) if window + 1 < len(windows) else year_end
            day = start + dt.timedelta(days=rng.randrange(max(1, (max(end, start) - start).days + 1)))
            category = rng.choice(categories)
            spending.append((allocation.pk, day, category, amount, rng.choice(EXPENSES[category]),
                             f"ZC{year}-{allocation.pk:06d}-{index:02d}", rng.randrange(15, 200), spender.pk,
                             moment(day, rng)))  # fmt: skip
            writer.event(
                moment(day, rng), spender, "allocation.spend", "grants.allocation", allocation.pk, text,
                {"amount": f"{amount:.2f}", "category": category, "spent_on": day.isoformat()},
            )  # fmt: skip
            last_money_day = max(last_money_day, day)
        allocation.disbursed_amount = disbursed
        allocation.spent_amount = sum(amounts, Decimal(0))
        allocation.status = allocation_status_for(allocation)
        allocation.updated_at = moment(last_money_day, rng)
    insert_rows(AllocationFunding, ["allocation_id", "source", "amount"], funding)
    insert_rows(
        Disbursement,
        ["allocation_id", "amount", "paid_on", "voucher_no", "from_region_id", "to_region_id", "recorded_by_id",
         "created_at"],
        tranches,
    )  # fmt: skip
    insert_rows(
        Expenditure,
        ["allocation_id", "spent_on", "category", "amount", "description", "voucher_no", "beneficiaries",
         "recorded_by_id", "created_at"],
        spending,
    )  # fmt: skip
    Allocation.objects.bulk_update(
        allocations.values(), ["disbursed_amount", "spent_amount", "status", "updated_at"], batch_size=500
    )
    return len(tranches), len(spending)


def seed_program_years(seed: int) -> GrantFigures:
    """The programs 2022–2024 decided and paid, and this year's queue, at the province's scale."""
    rng = random.Random(f"province-grants-{seed}")
    writer = Writer(rng)
    figures = GrantFigures()
    counts = dict(Union.objects.values_list("pk", "member_count"))
    programs = {}
    for year in PAST_YEARS:
        programs[year] = _program(
            writer.province,
            year=year,
            name=f"{year}年度新业态基层工会专项经费",
            opens=dt.date(year, 7, 1) if year == 2022 else dt.date(year, 4, 1),
            closes=dt.date(year, 9, 30) if year == 2022 else dt.date(year, 6, 30),
            quotas=QUOTAS_2022,
        )
    today = clock.today()
    current = Program.objects.filter(owner_id=PROVINCE, year=today.year).first()
    plan = [(year, programs[year], spec) for year, spec in PAST_YEARS.items()]
    if current is not None:
        plan.append((today.year, current, (CURRENT_APPLICATIONS, (0.0, 0.35), 0.3)))
    all_rows = []
    for year, program, (count, share, full) in plan:
        existing = Application.objects.filter(program=program).count()
        if existing >= count:
            continue
        rows = _plan_year(writer, program, count - existing, decided=year != today.year, counts=counts)
        all_rows.append((year, rows, share, full))
    officers = officer_accounts([r["union"] for _y, rows, _s, _f in all_rows for r in rows])
    for _year, rows, _share, _full in all_rows:
        _write_applications(writer, rows, officers)
    for year, rows, share, full in all_rows:
        for row in rows:
            row["officer"] = officers.get(row["union"].pk)
        tranches, spending = _money(writer, rows, year=year, spent_share=share, paid_in_full=full)
        approvals = sum(1 for r in rows if r["status"] == S.APPROVED)
        figures.applications += len(rows)
        figures.approvals += approvals
        figures.tranches += tranches
        figures.expenditures += spending
        figures.by_year[year] = {"applications": len(rows), "approved": approvals, "expenditures": spending}
    insert_rows(AuditEvent, AUDIT_FIELDS, writer.audit)
    return figures
