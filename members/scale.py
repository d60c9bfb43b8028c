"""Province-scale registry for ``seed_demo --scale province`` (docs/benchmarks.md).

Zhejiang's own figures: about 5,200 new-economy unions with 823,000 members over 11 cities and 90
counties. This module tops the demo data up to those totals, reproducibly from the seed:

- unions spread over the cities roughly by population and unevenly over the counties, each with a
  valid GB 32100 credit code (``81`` + county code), a plausible name, organisation form, groups,
  chair term (some expired), committee size (some under 3), and a status (most verified);
- members spread unevenly over the unions: a third sit close to the 150-member threshold of the
  eligibility rules, most of the rest are smaller, a few are large; every member has a valid GB 11643 ID
  number (stored as the keyed hash and the mask, like the services do), a phone, a group the union covers,
  a platform; 823,000 are active and about 2 % more have left;
- one county staff account per county and one city staff account per city (``county_330102``,
  ``city_330200``, password of the demo), beside the demo's named accounts.

It writes rows in bulk (``unionfunds.core.bulk.insert_rows``: COPY on PostgreSQL) instead of through the
services, which would take hours for 823,000 members; the rows are those the services would write
(same identifier checks, hashes and masks; an audit event per registration, verification and roster
import, dated when it happened).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import random
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db.models import Count
from django.utils import timezone

from members import fakes
from members.choices import OrgForm, ParentLevel, RegionLevel, Role, UnionStatus, WorkerGroup
from members.demo import DEMO_PASSWORD
from members.models import Member, Region, Union, User
from members.services import hash_id_number
from unionfunds.core.bulk import insert_rows
from unionfunds.core.clock import add_years
from unionfunds.core.identifiers import mask_id_number
from unionfunds.core.models import AuditEvent

TARGET_UNIONS = 5_200
TARGET_MEMBERS = 823_000
# Cities weighted by resident population (millions, 2020 census), so Hangzhou has the most unions.
CITY_WEIGHTS = {
    "330100": 11.9, "330200": 9.4, "330300": 9.6, "330400": 5.4, "330500": 3.4, "330600": 5.3,
    "330700": 7.1, "330800": 2.3, "330900": 1.2, "331000": 6.6, "331100": 2.5,
}  # fmt: skip
G = WorkerGroup
GROUP_WEIGHTS = [
    (G.FOOD_DELIVERY, 26), (G.COURIER, 24), (G.TRUCK_DRIVER, 14), (G.RIDE_HAILING, 12), (G.DOMESTIC_WORKER, 6),
    (G.CARE_WORKER, 5), (G.SECURITY_GUARD, 5), (G.ESTATE_AGENT, 3), (G.MALL_INFO, 3), (G.OTHER_NEW, 2),
]  # fmt: skip
GROUP_TRADE = {
    G.FOOD_DELIVERY: "外卖配送", G.COURIER: "快递物流", G.TRUCK_DRIVER: "货运物流", G.RIDE_HAILING: "网约车",
    G.DOMESTIC_WORKER: "家政服务", G.CARE_WORKER: "护理服务", G.SECURITY_GUARD: "保安服务",
    G.ESTATE_AGENT: "房产中介", G.MALL_INFO: "商场信息", G.OTHER_NEW: "新就业形态",
}  # fmt: skip
TOWNS = (
    "城东 城西 城南 城北 东湖 西湖 南湖 北苑 新城 江滨 湖滨 古城 临江 钱塘 望江 文昌 凤凰 龙山 金山 银湖 "
    "青山 白塔 双桥 三墩 五里 七里 九龙 十里 新塘 石桥 长安 永安 太平 和平 清河 红星 前进 光明 高新 开发"
).split()
COMPANY_WORDS = "顺达 速达 通达 宏运 安捷 众邦 联运 鸿途 捷诚 优送 蜂鸟 骑士 星驰 路路通 鑫达 万邦".split()
COMPANY_KINDS = ["物流有限公司", "配送服务有限公司", "供应链管理有限公司", "网络科技有限公司", "家政服务有限公司"]
LOCAL = timezone.get_fixed_timezone(480)  # Asia/Shanghai, without daylight saving


@dataclass
class RegistryFigures:
    unions: int = 0
    members: int = 0
    accounts: int = 0


def moment(day: dt.date, rng: random.Random) -> dt.datetime:
    """A working-hours moment of ``day`` in the province's time (UTC+8), as the services would stamp it."""
    return dt.datetime.combine(day, dt.time(8 + rng.randrange(9), rng.randrange(60)), tzinfo=LOCAL)


@functools.cache
def _demo_password_hash() -> str:
    # Hashed once: a few thousand accounts hashed one by one would cost minutes.
    return make_password(DEMO_PASSWORD)


def _day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange(max((end - start).days, 1)))


def staff_accounts() -> int:
    """One county staff account per county and one city staff account per city that has none yet."""
    have = set(
        User.objects.filter(role__in=[Role.COUNTY_STAFF, Role.CITY_STAFF]).values_list("role", "region_id").distinct()
    )
    password = _demo_password_hash()
    joined = timezone.make_aware(dt.datetime(2022, 1, 4, 9))
    new = []
    for region in Region.objects.exclude(level=RegionLevel.PROVINCE).order_by("code"):
        role = Role.CITY_STAFF if region.level == RegionLevel.CITY else Role.COUNTY_STAFF
        if (role, region.code) in have:
            continue
        prefix = "city" if role == Role.CITY_STAFF else "county"
        new.append(
            User(username=f"{prefix}_{region.code}", role=role, region=region, password=password, date_joined=joined)
        )
    User.objects.bulk_create(new)
    return len(new)


def officer_accounts(unions: list[Union]) -> dict[int, User]:
    """An officer account for each of ``unions`` that has none (``union_<id>``, the demo's password), by union id."""
    unions = list({u.pk: u for u in unions}.values())  # a union that applied in several years: one account
    have = set(User.objects.filter(role=Role.UNION_OFFICER, union__in=unions).values_list("union_id", flat=True))
    User.objects.bulk_create(
        User(
            username=f"union_{u.pk}",
            role=Role.UNION_OFFICER,
            union=u,
            password=_demo_password_hash(),
            date_joined=u.created_at,
        )
        for u in unions
        if u.pk not in have
    )
    return {u.union_id: u for u in User.objects.filter(role=Role.UNION_OFFICER, union__in=unions)}


def _county_quotas(rng: random.Random, total: int) -> dict[str, int]:
    """Unions per county: cities by population, counties within a city unevenly (log-normal), at least a few."""
    counties = defaultdict(list)
    for code, parent in Region.objects.filter(level=RegionLevel.COUNTY).values_list("code", "parent_id"):
        counties[parent].append(code)
    weights = {}
    for city, codes in counties.items():
        spread = [rng.lognormvariate(0, 0.55) for _ in codes]
        for code, w in zip(sorted(codes), spread, strict=True):
            weights[code] = CITY_WEIGHTS[city] * w / sum(spread)
    scale = total / sum(weights.values())
    floor = min(12, total // (2 * len(weights)))  # every county has some unions (12 at province scale)
    quotas = {code: max(floor, round(w * scale)) for code, w in sorted(weights.items())}
    # Hand the rounding difference to the largest counties so the total is exact.
    diff = total - sum(quotas.values())
    for code in sorted(quotas, key=lambda c: -quotas[c])[: abs(diff)]:
        quotas[code] += 1 if diff > 0 else -1
    return quotas


def member_sizes(rng: random.Random, count: int, total: int) -> list[int]:
    """Active members per union: a third near the threshold of 150, about half smaller, the rest large,
    scaled (the large ones only) so the sizes add up to ``total``."""
    kinds = rng.choices(["near", "small", "large"], weights=[34, 48, 18], k=count)
    sizes = []
    for kind in kinds:
        if kind == "near":
            sizes.append(int(rng.triangular(128, 178, 152)))
        elif kind == "small":
            sizes.append(int(rng.triangular(25, 149, 110)))
        else:
            sizes.append(min(2_400, int(180 + rng.lognormvariate(math.log(220), 0.8))))
    large = [i for i, k in enumerate(kinds) if k == "large"]
    rest = sum(s for i, s in enumerate(sizes) if kinds[i] != "large")
    if large and total > rest:
        factor = (total - rest) / sum(sizes[i] for i in large)
        for i in large:
            sizes[i] = max(179, round(sizes[i] * factor))
        diff = total - sum(sizes)
        for offset in range(abs(diff)):
            sizes[large[offset % len(large)]] += 1 if diff > 0 else -1
    return sizes


def _union_name(rng: random.Random, county: Region, form: str, groups: list[str], taken: set[str]) -> str:
    short = county.name
    trade = GROUP_TRADE[groups[0]] if groups else "新就业形态"
    for _attempt in range(20):
        town = rng.choice(TOWNS) + rng.choice(["街道", "镇", "街道", "乡"])
        if form == OrgForm.REGIONAL_FEDERATION:
            name = f"{short}{town}新业态区域性工会联合会"
        elif form == OrgForm.INDUSTRY_FEDERATION:
            name = f"{short}{rng.choice(['', town])}{trade}行业工会联合会"
        elif form == OrgForm.JOINT_UNION:
            name = f"{short}{town}{trade}联合工会"
        elif form == OrgForm.ENTERPRISE_UNION:
            name = f"{short[:2]}{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_KINDS)}工会"
        else:
            name = f"{short}{town}{trade}从业人员工会"
        if name not in taken:
            taken.add(name)
            return name
    name = f"{name[:-2]}（{len(taken)}）工会"
    taken.add(name)
    return name


def _new_unions(rng: random.Random, missing: int) -> list[tuple]:
    """Rows of the unions to add, spread over the counties."""
    existing = dict(Union.objects.values("county_id").annotate(n=Count("id")).values_list("county_id", "n"))
    quotas = _county_quotas(rng, TARGET_UNIONS)
    counties = {r.code: r for r in Region.objects.filter(level=RegionLevel.COUNTY)}
    codes = set(Union.objects.values_list("credit_code", flat=True))
    names = set(Union.objects.values_list("name", flat=True))
    forms = [
        (OrgForm.REGIONAL_FEDERATION, 18),
        (OrgForm.INDUSTRY_FEDERATION, 24),
        (OrgForm.JOINT_UNION, 26),
        (OrgForm.ENTERPRISE_UNION, 27),
        (OrgForm.OTHER, 5),
    ]
    groups_all, group_weights = zip(*GROUP_WEIGHTS, strict=True)
    rows = []
    for code in sorted(quotas):
        for _ in range(max(0, quotas[code] - existing.get(code, 0))):
            if len(rows) >= missing:
                break
            form = rng.choices([f for f, _ in forms], [w for _, w in forms])[0]
            groups = (
                []
                if rng.random() < 0.03
                else sorted(set(rng.choices(groups_all, group_weights, k=rng.choice((1, 1, 2, 3)))))
            )
            while (credit := fakes.credit_code(rng, code)) in codes:
                pass
            codes.add(credit)
            founded = _day(rng, dt.date(2017, 3, 1), dt.date(2024, 6, 30))
            # The chair is elected as the union is set up and, in four unions of five, re-elected when the term
            # ends; only the latest election is kept (grants.scale.as_of finds the one in office on a past day).
            term = rng.choices([5, 3], [82, 18])[0]
            elected = founded + dt.timedelta(days=rng.randrange(120))
            while (ends := add_years(elected, term)) <= dt.date(2026, 6, 30) and rng.random() < 0.8:
                elected = ends + dt.timedelta(days=rng.randrange(-20, 10))
            status = rng.choices(
                [UnionStatus.VERIFIED, UnionStatus.PENDING, UnionStatus.SUSPENDED, UnionStatus.DISSOLVED],
                [86, 9, 3, 2],
            )[0]
            registered = moment(founded + dt.timedelta(days=rng.randrange(5, 40)), rng)
            verified_at = (
                registered + dt.timedelta(days=rng.randrange(2, 25)) if status != UnionStatus.PENDING else None
            )
            rows.append(
                {
                    "name": _union_name(rng, counties[code], form, groups, names),
                    "credit_code": credit,
                    "org_form": form,
                    "county_id": code,
                    "parent_level": rng.choices(
                        [ParentLevel.TOWNSHIP, ParentLevel.COUNTY, ParentLevel.CITY], [52, 40, 8]
                    )[0],
                    "covered_groups": Union.encode_groups(groups),
                    "chair_name": fakes.person_name(rng),
                    "chair_elected_on": elected,
                    "chair_term_years": term,
                    "committee_size": rng.choices([1, 2, 3, 5, 7, 9, 11, 15], [2, 4, 20, 28, 20, 14, 8, 4])[0],
                    "founded_on": founded,
                    "funds_hard_to_guarantee": rng.random() < 0.42,
                    "bank_name": rng.choice(
                        ["中国工商银行", "中国农业银行", "浙江农商银行", "中国建设银行", "中国银行"]
                    ),
                    "bank_account": "".join(str(rng.randrange(10)) for _ in range(19)),
                    "contact_name": fakes.person_name(rng),
                    "contact_phone": fakes.phone(rng),
                    "status": status,
                    "verified_at": verified_at,
                    "created_at": registered,
                    "updated_at": verified_at or registered,
                }
            )
    return rows


UNION_FIELDS = [
    "name", "credit_code", "org_form", "county_id", "parent_level", "covered_groups", "chair_name",
    "chair_elected_on", "chair_term_years", "committee_size", "founded_on", "funds_hard_to_guarantee",
    "bank_name", "bank_account", "contact_name", "contact_phone", "status", "verified_at", "created_at",
    "updated_at",
]  # fmt: skip
MEMBER_FIELDS = [
    "union_id", "name", "id_number_hash", "id_number_masked", "gender", "phone", "group", "platform",
    "joined_on", "left_on", "created_at", "updated_at",
]  # fmt: skip
# The columns of the audit events every scale module writes in bulk.
AUDIT_FIELDS = ["at", "actor_id", "actor_username", "action", "object_type", "object_id", "object_repr", "after"]


def _member_rows(rng: random.Random, unions: list[dict], sizes: dict[int, int], taken: set[str]):
    """Member rows of every new union (a generator: 823,000 rows are never all in memory)."""
    platforms = {
        G.FOOD_DELIVERY: ["美团", "饿了么", "美团", "饿了么", "达达快送"],
        G.COURIER: ["顺丰速运", "中通快递", "圆通速递", "韵达快递", "京东物流", "申通快递", "极兔速递"],
        G.TRUCK_DRIVER: ["满帮", "货拉拉", "传化物流", "个体货运"],
        G.RIDE_HAILING: ["滴滴出行", "曹操出行", "T3出行", "高德打车"],
    }
    for union in unions:
        groups = [g for g in union["covered_groups"].split(",") if g] or [G.OTHER_NEW]
        start = max(union["founded_on"], dt.date(2018, 1, 1))
        created = union["created_at"] + dt.timedelta(days=3)
        size = sizes[union["id"]]
        # Everyone counted is active; about 2 % more have left (they stay on the roster with a leaving date).
        for index in range(size + round(size * 0.02)):
            while (digest := hash_id_number(number := fakes.id_number(rng))) in taken:
                pass
            taken.add(digest)
            group = rng.choice(groups)
            joined = _day(rng, start, dt.date(2025, 12, 31))
            left = _day(rng, joined, dt.date(2026, 11, 15)) if index >= size else None
            yield (
                union["id"],
                fakes.person_name(rng),
                digest,
                mask_id_number(number),
                "M" if int(number[16]) % 2 else "F",
                fakes.phone(rng),
                group,
                rng.choice(platforms.get(group, fakes.PLATFORMS)),
                joined,
                left,
                created,
                created,
            )


LATER_ACTIONS = {UnionStatus.SUSPENDED: "union.suspend", UnionStatus.DISSOLVED: "union.dissolve"}


def _audit_rows(unions: list[dict], staff: dict[str, tuple[int, str]], sizes: dict[int, int]):
    for union in unions:
        actor_id, username = staff[union["county_id"]]
        key = ("members.union", str(union["id"]), union["name"][:255])
        yield (union["created_at"], actor_id, username, "union.register", *key, {"status": "pending"})
        yield (
            union["created_at"] + dt.timedelta(days=3),
            actor_id,
            username,
            "member.import",
            *key,
            {"file": "会员名册.xlsx", "rows": sizes[union["id"]], "created": sizes[union["id"]], "updated": 0},
        )
        if union["verified_at"]:
            yield (union["verified_at"], actor_id, username, "union.verify", *key, {"status": "verified"})
        if union["status"] in LATER_ACTIONS:
            action = LATER_ACTIONS[union["status"]]
            yield (union["updated_at"], actor_id, username, action, *key, {"status": union["status"]})


def seed_registry(seed: int) -> RegistryFigures:
    """Top the registry up to the province's totals; does nothing more once they are reached."""
    figures = RegistryFigures(accounts=staff_accounts())
    rng = random.Random(f"province-registry-{seed}")
    missing = TARGET_UNIONS - Union.objects.count()
    if missing <= 0:
        return figures
    rows = _new_unions(rng, missing)
    insert_rows(Union, UNION_FIELDS, ([r[f] for f in UNION_FIELDS] for r in rows))
    ids = dict(Union.objects.filter(credit_code__in=[r["credit_code"] for r in rows]).values_list("credit_code", "id"))
    for row in rows:
        row["id"] = ids[row["credit_code"]]
    active = Member.objects.filter(left_on__isnull=True).count()
    planned = member_sizes(rng, len(rows), TARGET_MEMBERS - active)
    sizes = {row["id"]: size for row, size in zip(rows, planned, strict=True)}
    # Everyone already registered (the demo's members) is taken: one person, one active membership.
    taken = set(Member.objects.values_list("id_number_hash", flat=True))
    members = insert_rows(Member, MEMBER_FIELDS, _member_rows(rng, rows, sizes, taken))
    Union.objects.filter(pk__in=[r["id"] for r in rows]).refresh_member_counts()
    staff = {
        u.region_id: (u.pk, u.username)
        for u in User.objects.filter(role=Role.COUNTY_STAFF).order_by("-username").only("pk", "username", "region_id")
    }
    insert_rows(AuditEvent, AUDIT_FIELDS, _audit_rows(rows, staff, sizes))
    figures.unions, figures.members = len(rows), members
    return figures
