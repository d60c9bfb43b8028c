"""Test data, built the way users build it.

factory_boy factories for the registry (identifiers valid, unique per sequence number), and builders for
everything that has rules: programs, applications, allocations, tranches, expenditures, self-assessments.
Those go through the services with the right actor, so a test's data obeys the same rules as real data.
``make_program`` builds a program like the 2022 provincial one (15,000,000.00 = fiscal 6,000,000.00 +
union 9,000,000.00, 250 unions, at most 60,000.00 each) with an application window around today; pass
``year=2022`` and the real 2022 window for the historical one. ``make_application`` drafts an application
and walks it along the chain with the right actors. Fixtures live in the conftest files; nothing here is
a fixture, and no test imports from a conftest.
"""

import datetime as dt
import itertools
import random
from dataclasses import dataclass
from decimal import Decimal

import factory
from django.utils import timezone

from evaluation import services as evaluation_services
from evaluation.models import EvaluationRound, SelfAssessment
from grants import services
from grants.choices import ApplicationStatus
from grants.models import Allocation, AllocationFunding, Application, Disbursement, Expenditure, Program
from members import fakes
from members.choices import OrgForm, ParentLevel, Role, UnionStatus, WorkerGroup
from members.models import Member, Region, Union, User
from members.services import hash_id_number
from unionfunds.core import clock
from unionfunds.core.identifiers import mask_id_number
from unionfunds.core.models import AuditEvent

PROVINCE = "330000"
XIHU, YUHANG, YINZHOU = "330106", "330110", "330212"
HANGZHOU, NINGBO = "330100", "330200"


def valid_id_number(n: int) -> str:
    return fakes.id_number(random.Random(f"id-{n}"))


class UnionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Union

    name = factory.Sequence(lambda n: f"测试新就业形态联合工会{n}")
    credit_code = factory.LazyAttributeSequence(lambda o, n: fakes.credit_code(random.Random(f"cc-{n}"), o.county.code))
    org_form = OrgForm.JOINT_UNION
    county = factory.LazyFunction(lambda: Region.objects.get(code="330106"))
    parent_level = ParentLevel.TOWNSHIP
    covered_groups = Union.encode_groups([WorkerGroup.FOOD_DELIVERY, WorkerGroup.COURIER])
    chair_name = "王芳"
    chair_elected_on = dt.date(2023, 3, 1)
    chair_term_years = 5
    committee_size = 5
    founded_on = dt.date(2022, 12, 1)
    funds_hard_to_guarantee = True
    status = UnionStatus.VERIFIED


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member
        exclude = ["id_number"]
        skip_postgeneration_save = True  # the hook below writes the union, not the member

    union = factory.SubFactory(UnionFactory)
    name = factory.Sequence(lambda n: f"会员{n}")
    id_number = factory.Sequence(valid_id_number)
    id_number_hash = factory.LazyAttribute(lambda o: hash_id_number(o.id_number))
    id_number_masked = factory.LazyAttribute(lambda o: mask_id_number(o.id_number))
    gender = factory.LazyAttribute(lambda o: "M" if int(o.id_number[16]) % 2 else "F")
    phone = "13812345678"
    group = WorkerGroup.FOOD_DELIVERY
    platform = "美团"
    joined_on = dt.date(2024, 1, 15)

    @factory.post_generation
    def recount(obj, create, extracted, **kwargs):
        # The members services keep Union.member_count; rows made here bypass them.
        if create:
            Union.objects.filter(pk=obj.union_id).refresh_member_counts()


def leave(member: Member, on) -> None:
    """Record that ``member`` left, behind the services' back (setup only), keeping the union's count true."""
    Member.objects.filter(pk=member.pk).update(left_on=on)
    Union.objects.filter(pk=member.union_id).refresh_member_counts()


def lockout(username: str, failures: int = 5):
    """The django-axes record of ``username`` locked out after ``failures`` wrong passwords from 10.0.0.1."""
    from axes.models import AccessAttempt
    from django.utils import timezone

    return AccessAttempt.objects.create(
        username=username,
        ip_address="10.0.0.1",
        user_agent="test",
        http_accept="*/*",
        path_info="/accounts/login/",
        attempt_time=timezone.now(),
        get_data="",
        post_data="",
        failures_since_start=failures,
    )


def make_user(username: str, role: str, *, region: str | None = None, union: Union | None = None) -> User:
    user = User(username=username, role=role, region_id=region, union=union)
    user.set_password("Test-pass-2026")
    user.save()
    return user


_serial = itertools.count(1)


def add_members(union: Union, count: int, **fields) -> list[Member]:
    """``count`` active members in one INSERT. Only counts matter to the grants rules, so the ID number
    hash is a unique stand-in instead of a real keyed hash (MemberFactory builds real ones, slowly)."""
    values = {
        "gender": "F",
        "group": WorkerGroup.FOOD_DELIVERY,
        "platform": "美团",
        "joined_on": dt.date(2024, 1, 15),
        "id_number_masked": "330106********002X",
        **fields,
    }
    members = []
    for _ in range(count):
        n = next(_serial)
        members.append(Member(union=union, name=f"会员{n}", id_number_hash=f"grants-test-{n:08d}", **values))
    created = Member.objects.bulk_create(members)
    Union.objects.filter(pk=union.pk).refresh_member_counts()  # as the members services do
    return created


def eligible_union(county: str = "330106", *, members: int = 150, **fields) -> Union:
    """A union that passes all seven rules of a provincial program with default parameters."""
    union = UnionFactory(county_id=county, **fields)
    add_members(union, members)
    return union


def staff(region_code: str) -> User:
    """The (one) staff account of a region, created on first use: county or city staff by level."""
    region = Region.objects.get(code=region_code)
    role = {"province": Role.PROVINCE_STAFF, "city": Role.CITY_STAFF, "county": Role.COUNTY_STAFF}[region.level]
    user = User.objects.filter(role=role, region_id=region_code).order_by("id").first()
    return user or make_user(f"staff_{region_code}", role, region=region_code)


def program_data(**overrides) -> dict:
    today = clock.today()
    data = {
        "name": "新业态基层工会专项经费",
        "year": today.year,
        "owner": PROVINCE,
        "budget_total": "15000000.00",
        "funding_sources": [
            {"source": "fiscal", "amount": "6000000.00"},
            {"source": "union", "amount": "9000000.00"},
        ],
        "target_count": 250,
        "max_grant": "60000.00",
        "city_quotas": {},
        "opens_on": today - dt.timedelta(days=30),
        "closes_on": today + dt.timedelta(days=60),
        "categories": ["activities", "skills", "mutual_aid", "labor_protection"],
    }
    data.update(overrides)
    return data


def make_program(by: User | None = None, **overrides) -> Program:
    """A program created through ``program_create`` by ``by`` (default: the province's staff)."""
    data = program_data(**overrides)
    by = by or staff(str(data["owner"]))
    return services.program_create(data=data, by=by)


def make_application(
    program: Program,
    union: Union,
    *,
    until: str = ApplicationStatus.DRAFT,
    requested: str = "60000.00",
    approved: str | None = None,
    lines: list[dict] | None = None,
) -> Application:
    """Draft (by the union's county staff) and walk along the chain of the program's owner level up to
    ``until``: submit and recommend by the county, review by the city (provincial and city programs),
    approve / reject by the owner's staff."""
    county_staff = staff(union.county_id)
    if lines is None:
        lines = [{"category": "activities", "amount": requested, "description": "节日慰问"}]
    application = services.application_create(
        data={"program": program.pk, "union": union.pk, "requested_amount": requested, "budget_lines": lines},
        by=county_staff,
    )
    steps = [("submit", county_staff), ("recommend", county_staff)]
    if program.owner.level != "county":
        steps.append(("review", staff(union.county.parent_id)))
    for action, by in steps:
        if application.status == until:
            return application
        application = services.application_transition(application=application, action=action, by=by)
    decider = staff(program.owner_id)
    if until == ApplicationStatus.APPROVED:
        application = services.application_transition(
            application=application, action="approve", by=decider, approved_amount=approved or requested
        )
    elif until == ApplicationStatus.REJECTED:
        application = services.application_transition(
            application=application, action="reject", by=decider, comment="本年度名额有限。"
        )
    assert application.status == until
    return application


# Money after approval: tranches, expenditures.

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


# Evaluation.


def allocate(program: Program, union: Union, amount: str, spent: str = "0.00") -> Allocation:
    """Approve ``union`` for ``amount``, disburse all of it and record ``spent`` as one expenditure."""
    allocation = approve(program, union, amount)
    disburse(allocation, amount)
    if spent != "0.00":
        spend(allocation, spent)
    allocation.refresh_from_db()
    return allocation


def verified_unions(county: str, count: int, **fields) -> list[Union]:
    return [UnionFactory(county_id=county, **fields) for _ in range(count)]


def answers(round_: EvaluationRound, union: Union, *codes: str, by: User | None = None) -> None:
    """Paper answers typed in by the union's county staff."""
    evaluation_services.survey_responses_enter(
        round_=round_,
        rows=[{"union": union.pk, "answer": code} for code in codes],
        by=by or staff(union.county_id),
    )


def assessment(round_: EvaluationRound, county: str) -> SelfAssessment:
    return SelfAssessment.objects.get(round=round_, county_id=county)


def submit(round_: EvaluationRound, county: str, narrative: str = "本县按计划使用专项经费。") -> SelfAssessment:
    return evaluation_services.assessment_submit(
        assessment=assessment(round_, county), narrative=narrative, by=staff(county)
    )


def approve_assessment(round_: EvaluationRound, county: str, **kwargs) -> SelfAssessment:
    city = county[:4] + "00"
    return evaluation_services.assessment_approve(assessment=assessment(round_, county), by=staff(city), **kwargs)


# The fixed cast of test users (the ``cast`` fixture).


@dataclass
class Cast:
    province: User
    auditor: User
    hangzhou: User
    xihu: User
    yuhang: User
    ningbo: User
    yinzhou: User
    officer: User
    city_auditor: User
    union_xihu: Union
    union_xihu_other: Union
    union_yuhang: Union
    union_yinzhou: Union

    def users(self) -> dict[str, User]:
        return {
            "province": self.province,
            "auditor": self.auditor,
            "hangzhou": self.hangzhou,
            "xihu": self.xihu,
            "yuhang": self.yuhang,
            "ningbo": self.ningbo,
            "yinzhou": self.yinzhou,
            "officer": self.officer,
            "city_auditor": self.city_auditor,
        }


def build_cast() -> Cast:
    """The cast itself (the regions must be loaded); also used by fixtures of wider scope."""
    union_xihu = UnionFactory(name="西溪街道新就业形态联合工会", county_id="330106")
    union_xihu_other = UnionFactory(name="西湖区快递行业工会联合会", county_id="330106")
    union_yuhang = UnionFactory(name="余杭区外卖配送员工会联合会", county_id="330110")
    union_yinzhou = UnionFactory(name="鄞州区快递物流行业工会联合会", county_id="330212")
    return Cast(
        province=make_user("t_province", Role.PROVINCE_STAFF, region="330000"),
        auditor=make_user("t_auditor", Role.AUDITOR, region="330000"),
        hangzhou=make_user("t_hangzhou", Role.CITY_STAFF, region="330100"),
        xihu=make_user("t_xihu", Role.COUNTY_STAFF, region="330106"),
        yuhang=make_user("t_yuhang", Role.COUNTY_STAFF, region="330110"),
        ningbo=make_user("t_ningbo", Role.CITY_STAFF, region="330200"),
        yinzhou=make_user("t_yinzhou", Role.COUNTY_STAFF, region="330212"),
        officer=make_user("t_officer", Role.UNION_OFFICER, union=union_xihu),
        city_auditor=make_user("t_city_auditor", Role.AUDITOR, region="330100"),
        union_xihu=union_xihu,
        union_xihu_other=union_xihu_other,
        union_yuhang=union_yuhang,
        union_yinzhou=union_yinzhou,
    )
