"""Helpers for the tests of money after approval (tranches, expenditures, the allocations API and pages).

Plain functions, not fixtures: each test module declares the few fixtures it needs on top of them, and
reuses ``tests/grants/conftest.py`` (program, stocked cast, ``make_application``) unchanged.
"""

import datetime as dt
import itertools
import random
from decimal import Decimal

from django.utils import timezone

from grants import services
from grants.choices import ApplicationStatus
from grants.models import Allocation, AllocationFunding, Application, Disbursement, Expenditure, Program
from members import fakes
from members.models import Union
from tests.factories import UnionFactory
from unionfunds.core import clock
from unionfunds.core.models import AuditEvent

from .conftest import make_application, staff

API = "/api/v1/allocations"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
_vouchers = itertools.count(1)
_codes = itertools.count(1)


def voucher(prefix: str = "PZ") -> str:
    return f"{prefix}-{next(_vouchers):05d}"


def approve(program: Program, union: Union, amount: str = "60000.00") -> Allocation:
    """An application of ``union`` walked up the chain and approved for ``amount``: its allocation."""
    application = make_application(program, union, until=ApplicationStatus.APPROVED, requested=amount)
    return Allocation.objects.get(application=application)


def disburse(allocation: Allocation, amount: str, *, by=None, paid_on: dt.date | None = None, voucher_no=None):
    by = by or staff(allocation.county_id)
    return services.disbursement_record(
        allocation=allocation,
        amount=amount,
        paid_on=paid_on or clock.today(),
        voucher_no=voucher_no or voucher(),
        by=by,
    )


def spend(allocation: Allocation, amount: str, *, by=None, category: str = "activities", **extra) -> Expenditure:
    by = by or staff(allocation.county_id)
    data = {
        "spent_on": clock.today(),
        "category": category,
        "amount": amount,
        "description": "外卖骑手夏季送清凉",
        "voucher_no": voucher("ZC"),
        "beneficiaries": 30,
        **extra,
    }
    return services.expenditure_record(allocation=allocation, data=data, by=by)


def figures(allocation: Allocation) -> tuple:
    """Everything a refused record must leave untouched."""
    allocation.refresh_from_db()
    return (
        allocation.disbursed_amount,
        allocation.spent_amount,
        allocation.status,
        allocation.updated_at,
        Disbursement.objects.filter(allocation=allocation).count(),
        Expenditure.objects.filter(allocation=allocation).count(),
        AuditEvent.objects.count(),
    )


def bulk_allocations(program: Program, count: int, *, counties=("330106", "330110", "330212")) -> list[Allocation]:
    """``count`` approved applications with their allocations (split 40/60 like the program's sources),
    written in a handful of INSERTs: for query-count tests that need full pages, not for rules."""
    rng = random.Random(count)
    unions = []
    for index in range(count):
        county = counties[index % len(counties)]
        union = UnionFactory.build(name=f"批量工会{next(_codes)}", county_id=county)
        union.credit_code = fakes.credit_code(rng, county)
        unions.append(union)
    unions = Union.objects.bulk_create(unions)
    now = timezone.now()
    applications = Application.objects.bulk_create(
        Application(
            program=program,
            union=u,
            status=ApplicationStatus.APPROVED,
            requested_amount=Decimal("50000.00"),
            approved_amount=Decimal("50000.00") - index,
            eligible=True,
            decided_at=now,
        )
        for index, u in enumerate(unions)
    )
    cities = {u.county_id: u.county_id[:4] + "00" for u in unions}
    allocations = Allocation.objects.bulk_create(
        Allocation(
            application=a,
            program=program,
            union_id=a.union_id,
            year=program.year,
            county_id=a.union.county_id,
            city_id=cities[a.union.county_id],
            amount=a.approved_amount,
            approved_at=now - dt.timedelta(seconds=index),
            updated_at=now - dt.timedelta(seconds=index),
        )
        for index, a in enumerate(applications)
    )
    AllocationFunding.objects.bulk_create(
        AllocationFunding(allocation=a, source=source, amount=(a.amount * share).quantize(Decimal("0.01")))
        for a in allocations
        for source, share in (("fiscal", Decimal("0.4")), ("union", Decimal("0.6")))
    )
    return allocations
