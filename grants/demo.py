"""Demo data of the grants app, written through the services.

- The 2022 provincial program of the seed (15,000,000.00 = fiscal 6,000,000.00 + union 9,000,000.00,
  250 unions, at most 60,000.00 each, city quotas adding up to 250), entered after the fact with
  ``clock.travel`` so dates and rules are those of 2022: most eligible unions approved, one rejected,
  one still with the city.
- The current year's provincial program, open now, with applications at every step of the chain so the
  queues of county, city and province have work in them.

Idempotent: programs are found again by owner, year and name; a union that already applied is skipped.
"""

import datetime as dt
import random
from decimal import Decimal

from members.demo import UNIONS as DEMO_UNIONS
from members.models import Union, User
from unionfunds.core import clock

from . import services
from .choices import ApplicationStatus, Category
from .models import Allocation, Application, Program

PROVINCE = "330000"
QUOTAS_2022 = {
    "330100": 40, "330200": 35, "330300": 30, "330400": 20, "330500": 15, "330600": 22,
    "330700": 25, "330800": 12, "330900": 8, "331000": 25, "331100": 18,
}  # fmt: skip
CITY_STAFF = {"330100": "hangzhou", "330200": "ningbo", "330300": "wenzhou", "330400": "jiaxing", "331000": "taizhou"}
PLAN = (
    "一、开展职工活动：组织新就业形态劳动者节日慰问、文体活动；\n"
    "二、素质技能提升：联合职业院校开展电动车安全驾驶、急救技能培训；\n"
    "三、互助保障：为困难会员办理职工互助保障；\n"
    "四、劳动保护：为骑手、快递员配发防暑降温和冬季防护用品。"
)


def _program(by: User, *, year: int, name: str, opens: dt.date, closes: dt.date, quotas: dict) -> Program:
    existing = Program.objects.filter(owner_id=PROVINCE, year=year, name=name).first()
    if existing:
        return existing
    with clock.travel(dt.datetime.combine(opens, dt.time(9))):
        return services.program_create(
            data={
                "name": name,
                "year": year,
                "owner": PROVINCE,
                "budget_total": "15000000.00",
                "funding_sources": [
                    {"source": "fiscal", "amount": "6000000.00"},
                    {"source": "union", "amount": "9000000.00"},
                ],
                "target_count": 250,
                "max_grant": "60000.00",
                "city_quotas": quotas,
                "opens_on": opens,
                "closes_on": closes,
                "categories": list(Category.values),
                "min_members": 150,
                "min_committee": 3,
            },
            by=by,
        )


def _budget_lines(rng: random.Random, amount: Decimal) -> list[dict]:
    categories = rng.sample(["activities", "skills", "mutual_aid", "labor_protection", "warmth", "hardship"], 3)
    first = (amount * Decimal("0.4")).quantize(Decimal("1"))
    second = (amount * Decimal("0.35")).quantize(Decimal("1"))
    amounts = [first, second, amount - first - second]
    notes = {
        "activities": "节日慰问及文体活动",
        "skills": "安全驾驶与技能培训",
        "mutual_aid": "职工互助保障参保",
        "labor_protection": "防暑降温与冬季防护用品",
        "warmth": "困难会员送温暖",
        "hardship": "帮困救助金",
    }
    return [
        {"category": c, "amount": str(a), "description": notes[c]} for c, a in zip(categories, amounts, strict=True)
    ]


def _advance(application: Application, until: str, moment: dt.datetime, rng: random.Random) -> Application:
    """Walk an application along the chain up to ``until`` with realistic actors and comments."""
    union = application.union
    county_staff = User.objects.filter(role="county_staff", region_id=union.county_id).first()
    city_staff = User.objects.filter(username=CITY_STAFF.get(union.county.parent_id, "")).first()
    province = User.objects.get(username="province")
    officer = union.officers.first() or county_staff
    decision = "reject" if until == ApplicationStatus.REJECTED else "approve"
    steps = [
        (ApplicationStatus.DRAFT, "submit", officer, "请审核。"),
        (ApplicationStatus.SUBMITTED, "recommend", county_staff, "材料齐全，同意推荐。"),
        (ApplicationStatus.RECOMMENDED, "review", city_staff, "经审核符合条件，报省总工会。"),
        (ApplicationStatus.REVIEWED, decision, province, ""),
    ]
    for source, action, actor, comment in steps:
        if application.status == until or actor is None:
            break
        if application.status != source:
            continue
        moment += dt.timedelta(days=rng.randrange(3, 12), hours=rng.randrange(8))
        amount = None
        if action == "approve":
            amount = min(application.requested_amount, Decimal("60000.00"))
            comment = "经省总工会基层工作部审定，予以补助。"
        if action == "reject":
            comment = (
                "经审定，本年度不予补助："
                + "；".join(c["detail"] for c in application.eligibility_checks if not c["passed"])
                if not application.eligible
                else "本年度名额有限，优先补助联合会及经费难以保证的工会。"
            )
        with clock.travel(moment):
            application = services.application_transition(
                application=application, action=action, by=actor, comment=comment, approved_amount=amount
            )
    return application


def seed_grants(seed: int = 2022) -> None:
    province = User.objects.get(username="province")
    rng = random.Random(f"grants-{seed}")
    p2022 = _program(
        province,
        year=2022,
        name="2022年度新业态基层工会专项经费",
        opens=dt.date(2022, 7, 1),
        closes=dt.date(2022, 9, 30),
        quotas=QUOTAS_2022,
    )
    today = clock.today()
    current = _program(
        province,
        year=today.year,
        name=f"{today.year}年度新业态基层工会专项经费",
        opens=dt.date(today.year, 3, 1),
        closes=dt.date(today.year, 12, 31),
        quotas={},
    )
    # The demo's own unions only: on a province-scale database the other 5,000 have their own story.
    demo_names = [row[1] for row in DEMO_UNIONS]
    unions = list(Union.objects.filter(status="verified", name__in=demo_names).select_related("county").order_by("id"))
    # 2022: most approved, the last one rejected, one left with the city.
    outcomes_2022 = [ApplicationStatus.APPROVED] * (len(unions) - 2) + [
        ApplicationStatus.REVIEWED,
        ApplicationStatus.REJECTED,
    ]
    for union, until in zip(unions, outcomes_2022, strict=True):
        _apply(p2022, union, until, dt.datetime(2022, 7, 5, 9), rng)
    # This year: the queues have work at every step.
    steps_now = [
        ApplicationStatus.REVIEWED,
        ApplicationStatus.REVIEWED,
        ApplicationStatus.RECOMMENDED,
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.DRAFT,
    ]
    for index, union in enumerate(unions[1:]):
        _apply(current, union, steps_now[index % len(steps_now)], dt.datetime(today.year, 3, 10, 9), rng)


def _apply(program: Program, union: Union, until: str, start: dt.datetime, rng: random.Random) -> None:
    application = Application.objects.filter(program=program, union=union).first()
    if application is None:
        officer = union.officers.first()
        author = officer or User.objects.filter(role="county_staff", region_id=union.county_id).first()
        requested = Decimal(rng.choice([40000, 50000, 55000, 60000]))
        moment = start + dt.timedelta(days=rng.randrange(0, 20))
        with clock.travel(moment):
            application = services.application_create(
                data={
                    "program": program.pk,
                    "union": union.pk,
                    "requested_amount": str(requested),
                    "plan": PLAN,
                    "budget_lines": _budget_lines(rng, requested),
                },
                by=author,
            )
    if until == ApplicationStatus.APPROVED and not application.eligible:
        until = ApplicationStatus.REJECTED  # the province refuses what the rules refuse
    if application.status == ApplicationStatus.DRAFT and until != ApplicationStatus.DRAFT:
        _advance(application, until, start + dt.timedelta(days=21), rng)


EXPENSES = {
    "activities": ["中秋节日慰问活动", "骑手运动会", "职工之家观影活动"],
    "skills": ["电动车安全驾驶培训", "急救技能培训", "小哥学院学费补助"],
    "mutual_aid": ["职工互助保障参保", "住院互助保障"],
    "legal_aid": ["劳动争议法律咨询服务"],
    "hardship": ["困难会员帮扶金", "大病救助"],
    "warmth": ["冬送温暖慰问品", "夏送清凉慰问品"],
    "labor_protection": ["防暑降温用品", "冬季防护手套和头盔"],
}


def seed_money(seed: int = 2022) -> None:
    """Tranches and expenditures for the 2022 allocations, so utilisation has a story to tell."""
    rng = random.Random(f"money-{seed}")
    for allocation in Allocation.objects.filter(year=2022).select_related("union__county", "program").order_by("id"):
        if allocation.disbursements.exists():
            continue
        county_staff = User.objects.filter(role="county_staff", region_id=allocation.county_id).first()
        spender = allocation.union.officers.first() or county_staff
        first = (allocation.amount * Decimal("0.6")).quantize(Decimal("0.01"))
        tranches = [(dt.date(2022, 10, 20), first), (dt.date(2022, 12, 1), allocation.amount - first)]
        for number, (paid_on, amount) in enumerate(tranches, start=1):
            with clock.travel(dt.datetime.combine(paid_on, dt.time(10))):
                services.disbursement_record(
                    allocation=allocation,
                    amount=amount,
                    paid_on=paid_on,
                    voucher_no=f"{allocation.county_id}-2022-{allocation.pk:03d}-{number}",
                    by=county_staff,
                )
        share = Decimal(rng.choice([45, 60, 75, 85, 92, 100])) / 100
        budget = (allocation.amount * share).quantize(Decimal("0.01"))
        spent = Decimal("0.00")
        day = dt.date(2022, 10, 25)
        index = 0
        while spent < budget:
            index += 1
            category = rng.choice(allocation.program.categories)
            amount = min(Decimal(rng.randrange(1500, 9000)), budget - spent)
            day = min(day + dt.timedelta(days=rng.randrange(1, 6)), dt.date(2022, 12, 30))
            with clock.travel(dt.datetime.combine(day, dt.time(15))):
                services.expenditure_record(
                    allocation=allocation,
                    data={
                        "spent_on": day,
                        "category": category,
                        "amount": amount,
                        "description": rng.choice(EXPENSES[category]),
                        "voucher_no": f"ZC-{allocation.pk:03d}-{index:02d}",
                        "beneficiaries": rng.randrange(20, 180),
                    },
                    by=spender,
                )
            spent += amount
