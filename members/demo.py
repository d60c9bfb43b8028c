"""Demo data of the members app: regions, accounts, unions in five cities with real-name rosters.

Idempotent: accounts and unions are found again by username and credit code; a union whose roster
is already there is not imported again. Called by ``manage.py seed_demo``. Everything is written
through the services, so the audit trail of the demo looks like that of real use.
"""

import csv
import datetime as dt
import io
import random

from django.db import transaction

from members import fakes, services
from members.choices import OrgForm, ParentLevel, Role, UnionStatus, WorkerGroup
from members.models import Member, Union, User
from unionfunds.core import otp

DEMO_PASSWORD = "Gonghui-2026!"
# The demo accounts that must log in with two factors get an authenticator with this known secret: add it to
# an authenticator app by hand (TOTP, 6 digits, 30 s), or `oathtool --totp -b UNIONFUNDSDEMOZJ`. Demo only.
DEMO_TOTP_SECRET = "UNIONFUNDSDEMOZJ"

# username, role, region code (or None for the union officer), what it shows
ACCOUNTS = [
    ("province", Role.PROVINCE_STAFF, "330000"),
    ("hangzhou", Role.CITY_STAFF, "330100"),
    ("xihu", Role.COUNTY_STAFF, "330106"),
    ("union_xixi", Role.UNION_OFFICER, None),
    ("auditor", Role.AUDITOR, "330000"),
]
# City staff who review the demo applications of their cities.
CITY_ACCOUNTS = {
    "330100": "hangzhou",
    "330200": "ningbo",
    "330300": "wenzhou",
    "330400": "jiaxing",
    "331000": "taizhou",
}
# County staff used to register the demo unions of their counties (also demo accounts).
COUNTY_ACCOUNTS = {
    "330106": "xihu",
    "330110": "yuhang",
    "330212": "yinzhou",
    "330304": "ouhai",
    "331023": "tiantai",
    "330402": "nanhu",
}

F, J, IND, E = OrgForm.REGIONAL_FEDERATION, OrgForm.JOINT_UNION, OrgForm.INDUSTRY_FEDERATION, OrgForm.ENTERPRISE_UNION
G = WorkerGroup
# county, name, org form, parent level, groups, members, funds hard to guarantee, verified
UNIONS = [
    (
        "330106",
        "杭州市西湖区西溪街道新就业形态联合工会",
        J,
        ParentLevel.TOWNSHIP,
        [G.FOOD_DELIVERY, G.COURIER],
        212,
        True,
        True,
    ),
    ("330106", "杭州市西湖区快递行业工会联合会", IND, ParentLevel.COUNTY, [G.COURIER], 168, True, True),
    ("330106", "杭州市西湖区网约车司机联合工会", J, ParentLevel.COUNTY, [G.RIDE_HAILING], 149, False, True),
    (
        "330106",
        "杭州市西湖区家政服务行业工会",
        IND,
        ParentLevel.COUNTY,
        [G.DOMESTIC_WORKER, G.CARE_WORKER],
        95,
        True,
        False,
    ),
    ("330110", "杭州市余杭区外卖配送员工会联合会", IND, ParentLevel.COUNTY, [G.FOOD_DELIVERY], 240, True, True),
    (
        "330110",
        "杭州市余杭区仓前街道新业态区域性工会联合会",
        F,
        ParentLevel.TOWNSHIP,
        [G.COURIER, G.FOOD_DELIVERY, G.MALL_INFO],
        185,
        False,
        True,
    ),
    ("330110", "杭州市余杭区货车司机联合工会", J, ParentLevel.CITY, [G.TRUCK_DRIVER], 176, True, True),
    (
        "330212",
        "宁波市鄞州区快递物流行业工会联合会",
        IND,
        ParentLevel.COUNTY,
        [G.COURIER, G.TRUCK_DRIVER],
        203,
        True,
        True,
    ),
    (
        "330212",
        "宁波市鄞州区首南街道新就业形态工会联合会",
        F,
        ParentLevel.TOWNSHIP,
        [G.FOOD_DELIVERY, G.SECURITY_GUARD],
        158,
        True,
        True,
    ),
    ("330212", "宁波市鄞州区房产中介行业工会", IND, ParentLevel.COUNTY, [G.ESTATE_AGENT], 131, False, True),
    ("330304", "温州市瓯海区网约车行业工会联合会", IND, ParentLevel.COUNTY, [G.RIDE_HAILING], 190, True, True),
    (
        "330304",
        "温州市瓯海区娄桥街道新业态联合工会",
        J,
        ParentLevel.TOWNSHIP,
        [G.FOOD_DELIVERY, G.COURIER],
        152,
        True,
        False,
    ),
    (
        "331023",
        "天台县银轮普天物流综合园工会联合会",
        F,
        ParentLevel.COUNTY,
        [G.TRUCK_DRIVER, G.COURIER],
        226,
        True,
        True,
    ),
    ("331023", "天台县始丰街道新就业形态联合工会", J, ParentLevel.TOWNSHIP, [G.FOOD_DELIVERY], 161, True, True),
    ("330402", "嘉兴市南湖区保安服务行业工会联合会", IND, ParentLevel.COUNTY, [G.SECURITY_GUARD], 174, False, True),
    ("330402", "嘉兴市南湖区某科技有限公司工会", E, ParentLevel.TOWNSHIP, [], 160, False, True),
]
GROUP_LABELS = dict(WorkerGroup.choices)


class DemoError(Exception):
    pass


def seed_members(seed: int = 2022) -> dict[str, User]:
    """Regions, accounts, unions and rosters; returns the county staff by county code."""
    services.regions_load()
    staff = {code: _account(username, Role.COUNTY_STAFF, code) for code, username in COUNTY_ACCOUNTS.items()}
    for code, username in CITY_ACCOUNTS.items():
        _account(username, Role.CITY_STAFF, code)
    for username, role, region in ACCOUNTS:
        if region is not None:
            user = _account(username, role, region)
            if user.two_factor_required and not otp.has_device(user):
                services.otp_device_set(user=user, secret=DEMO_TOTP_SECRET)
    taken = set(Member.objects.values_list("id_number_hash", flat=True))
    for county, name, form, level, groups, size, hard, verified in UNIONS:
        union_rng = random.Random(f"{seed}:{name}")
        union = _union(union_rng, staff[county], county, name, form, level, groups, hard)
        if not union.members.exists():
            _roster(union_rng, staff[county], union, groups, size, taken)
        if verified and union.status == UnionStatus.PENDING:
            services.union_verify(union=union, by=staff[county], comment="材料齐全，核实通过。")
    officer_union = Union.objects.get(name=UNIONS[0][1])
    if not User.objects.filter(username="union_xixi").exists():
        services.user_create(
            username="union_xixi", role=Role.UNION_OFFICER, password=DEMO_PASSWORD, union_id=officer_union.pk
        )
    return staff


def _account(username: str, role: str, region: str) -> User:
    user = User.objects.filter(username=username).first()
    return user or services.user_create(username=username, role=role, password=DEMO_PASSWORD, region_code=region)


def _union(rng, by, county, name, form, level, groups, hard) -> Union:
    code = fakes.credit_code(rng, county)
    union = Union.objects.filter(credit_code=code).first()
    if union is not None:
        return union
    elected = dt.date(2021, 6, 1) + dt.timedelta(days=rng.randrange(330))
    data = {
        "name": name,
        "credit_code": code,
        "org_form": form,
        "county": county,
        "parent_level": level,
        "covered_groups": groups,
        "chair_name": fakes.person_name(rng),
        "chair_elected_on": elected,
        "chair_term_years": 5,
        "committee_size": rng.choice([2, 3, 5, 7, 9]),
        "founded_on": elected - dt.timedelta(days=rng.randrange(30, 400)),
        "funds_hard_to_guarantee": hard,
        "bank_name": rng.choice(["中国工商银行", "中国农业银行", "浙江农商银行", "中国建设银行"]),
        "bank_account": "".join(str(rng.randrange(10)) for _ in range(19)),
        "contact_name": fakes.person_name(rng),
        "contact_phone": fakes.phone(rng),
    }
    return services.union_register(data=data, by=by)


def _roster(rng, by, union, groups, size, taken: set) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["姓名", "身份证号", "性别", "手机号", "群体", "平台或单位", "入会日期"])
    written = 0
    while written < size:
        number = fakes.id_number(rng)
        digest = services.hash_id_number(number)
        if digest in taken:
            continue
        taken.add(digest)
        group = rng.choice(groups or [WorkerGroup.OTHER_NEW])
        writer.writerow(
            [
                fakes.person_name(rng),
                number,
                "",
                fakes.phone(rng),
                GROUP_LABELS[group],
                rng.choice(fakes.PLATFORMS),
                (dt.date(2021, 6, 1) + dt.timedelta(days=rng.randrange(330))).isoformat(),
            ]
        )
        written += 1
    with transaction.atomic():
        result = services.roster_import(union=union, filename="demo.csv", content=out.getvalue().encode(), by=by)
    if not result.ok:
        raise DemoError(f"demo roster of {union.name} refused: {result.errors[:3]}")


def account_lines() -> list[str]:
    lines = [f"Demo accounts (password for all: {DEMO_PASSWORD})"]
    for username, role, _region in ACCOUNTS:
        user = User.objects.select_related("region", "union").get(username=username)
        lines.append(f"  {username:<12} {role:<15} {user.home_label}")
    counties = ", ".join(u for u in COUNTY_ACCOUNTS.values() if u != "xihu")
    cities = ", ".join(u for u in CITY_ACCOUNTS.values() if u != "hangzhou")
    lines.append(f"  more county_staff: {counties}")
    lines.append(f"  more city_staff:   {cities}")
    two_factor = [u for u, _role, _region in ACCOUNTS if User.objects.get(username=u).two_factor_required]
    lines.append(
        f"  two-factor login for {', '.join(two_factor)}: TOTP secret {DEMO_TOTP_SECRET} "
        "(add it to an authenticator app by hand, or: oathtool --totp -b " + DEMO_TOTP_SECRET + ")"
    )
    return lines
