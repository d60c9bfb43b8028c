"""Query-count guards of the grants app's lists: a few rows, then several times more,
and not one query more (``tests/query_counts.py``). Guards named ``test_…`` are in this module.

| list (view) | roles | guard |
|---|---|---|
| `GET /api/v1/programs/` (`ProgramViewSet`) | province, city, county, officer | `test_program_lists_…` |
| `/programs/` (`views.program_list`) | province, city, county, officer | `test_program_lists_…` |
| `GET /api/v1/programs/{id}/budget/` | province (by city), city | `test_program_budget_…` |
| `/programs/{id}/`: funding, budget meter | province (by city), city | `test_program_budget_…` |
| `GET /api/v1/applications/` | province | `test_api.py`: list does not grow |
| (`ApplicationViewSet`: history, lines) | city, county, officer, city auditor | `test_application_lists_…` |
| `/applications/` review queue, budget meter, | province, city, county | `test_application_lists_…` |
| live eligibility (`views.queue`) | (every status) | |
| `GET /api/v1/applications/{id}/` | county, officer, city, province | `test_application_detail_…` |
| `/applications/{id}/`: history, attachments, | county, officer, city, province | `test_application_detail_…` |
| budget lines (`views.application_detail`) | | |
| `/applications/new/`: programs, unions | county, officer | `test_application_form_choices` |
| `GET /api/v1/allocations/` (JSON, CSV, | province, city, county, officer, | `test_allocations_api.py`: page |
| xlsx; `AllocationViewSet`) | city auditor | size 1 and 500, scopes, exports |
| `/allocations/` (`views.allocation_list`) | province | `test_allocation_pages.py`: list |
| | city, county, city auditor | `test_allocation_list_page` |
| `GET /api/v1/allocations/{id}/`: tranches, | province, city, county, officer, | `test_allocation_detail_…` |
| expenditures, by category | auditor | |
| `/allocations/{id}/` (the same lists) | the same | `test_allocation_detail_…` |
| `GET /api/v1/allocations/summary/` | province, auditor (city, county, | `test_allocation_summary_api` |
| (`group_by=city/county/category`) | category); city (county, category) | |
| `/dashboard/`: programs, areas, bands | province, city, county, auditor | `test_dashboard_page` |
| eligibility of a list (`evaluate_many`) | — | `test_eligibility.py`: 3 and 30 |

Not lists that grow: `GET /api/v1/applications/{id}/eligibility/` (the seven rules), the program form, the
tranche and expenditure forms (their choices are the union's chain: at most three federations). An
officer's review queue shows one program, where the union has one application, so it cannot grow.
"""

import datetime as dt
import re
from decimal import Decimal

import pytest

from grants import services
from grants.choices import ApplicationStatus as S
from grants.models import BudgetLine, CityQuota
from members.models import Region
from tests.factories import (
    PDF,
    add_members,
    approve,
    bulk_allocations,
    disburse,
    eligible_union,
    make_application,
    make_program,
    spend,
    staff,
)
from tests.query_counts import (
    Probe,
    api_client,
    assert_flat,
    html,
    list_items,
    matches,
    page_client,
    results,
    table_rows,
)
from unionfunds.core import clock

API = "/api/v1"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _first_counties(*cities: str) -> list[str]:
    """The first county of each city (a county in that city's subtree)."""
    return [Region.objects.filter(parent_id=city, level="county").order_by("code").first().code for city in cities]


def _api_rows(response) -> dict[str, int]:
    return {"rows": results(response)}


# ---------------------------------------------------------------- programs


def test_program_lists_api_and_page(cast, program, django_assert_max_num_queries):
    users = cast.users()
    probes = []
    for who in ("province", "hangzhou", "xihu", "officer"):
        probes.append(Probe.of(f"API programs as {who}", api_client(users[who]), f"{API}/programs/", _api_rows))
        probes.append(
            Probe.of(
                f"program list as {who}",
                page_client(users[who]),
                "/programs/",
                lambda r: {"programs": matches(html(r), r'<td><a href="/programs/\d+/">')},
            )
        )

    def grow():
        year = clock.today().year
        for n, owner in enumerate(["330000", "330000", "330100", "330100", "330106", "330106", "330106", "330200"]):
            make_program(
                staff(owner),
                owner=owner,
                name=f"测试项目{n}",
                year=year - n % 2,
                city_quotas={"330100": 10, "330200": 5, "330300": 3} if owner == "330000" else {},
                funding_sources=[
                    {"source": "fiscal", "amount": "5000000.00"},
                    {"source": "union", "amount": "9000000.00"},
                    {"source": "other", "amount": "1000000.00"},
                ],
            )

    assert_flat(django_assert_max_num_queries, probes, grow)


def _approved_count(response) -> int:
    if response["Content-Type"].startswith("application/json"):
        return response.json()["approved_count"]
    return int(re.search(r"已批准 <b>(\d+)</b> / ", html(response)).group(1))


def _by_city(response) -> int:
    if response["Content-Type"].startswith("application/json"):
        return len(response.json()["by_city"])
    return table_rows(html(response), "budget-meter")


def test_program_budget_api_and_page(cast, django_assert_max_num_queries):
    program = make_program(cast.province, name="名额测试项目", city_quotas={"330100": 40})
    bulk_allocations(program, 1, counties=("330106",))
    probes = []
    for who, rows in (
        ("province", lambda r: {"approved": _approved_count(r), "cities": _by_city(r)}),
        ("hangzhou", lambda r: {"approved": _approved_count(r)}),
    ):
        user = cast.users()[who]
        probes.append(Probe.of(f"API budget as {who}", api_client(user), f"{API}/programs/{program.pk}/budget/", rows))
        probes.append(Probe.of(f"program page as {who}", page_client(user), f"/programs/{program.pk}/", rows))

    def grow():
        CityQuota.objects.bulk_create(CityQuota(program=program, city_id=c, count=20) for c in ("330200", "330300"))
        bulk_allocations(program, 10, counties=("330106", "330110", *_first_counties("330200", "330300", "330400")))

    assert_flat(django_assert_max_num_queries, probes, grow)


# ---------------------------------------------------------------- applications


def test_application_lists_api_and_queue(cast, program, django_assert_max_num_queries):
    """The API list and the review queue (all statuses, so every role sees the same growth), with the live
    eligibility of open applications and the budget meter."""
    add_members(cast.union_xihu, 150)
    add_members(cast.union_yinzhou, 150)
    lines = [
        {"category": "activities", "amount": "30000.00", "description": "节日慰问"},
        {"category": "skills", "amount": "20000.00", "description": "技能培训"},
    ]
    make_application(program, cast.union_xihu, until=S.SUBMITTED, requested="50000.00", lines=lines)
    # An approval from the start: the budget meter reads the cities only once something is approved.
    make_application(program, cast.union_yinzhou, until=S.APPROVED, requested="50000.00", lines=lines)
    users = cast.users()
    probes = [
        Probe.of(f"API applications as {who}", api_client(users[who]), f"{API}/applications/", _api_rows)
        for who in ("hangzhou", "xihu", "officer", "city_auditor")
    ] + [
        Probe.of(
            f"review queue as {who}",
            page_client(users[who]),
            "/applications/",
            lambda r: {"applications": table_rows(html(r), "queue")},
            {"status": ""},
        )
        for who in ("province", "hangzhou", "xihu")
    ]

    def grow():
        statuses = [S.DRAFT, S.SUBMITTED, S.RECOMMENDED, S.REVIEWED, S.APPROVED, S.REJECTED]
        for n, county in enumerate(["330106", "330110", "330106", "330110", "330106", "330110", "330106"]):
            union = eligible_union(county, members=150 + n)
            make_application(program, union, until=statuses[n % len(statuses)], requested="50000.00", lines=lines)
        for n in range(2):  # the officer's union applies to two more programs
            other = make_program(cast.province, name=f"另一项目{n}")
            make_application(other, cast.union_xihu, until=S.RECOMMENDED, requested="50000.00", lines=lines)

    assert_flat(django_assert_max_num_queries, probes, grow)


def _history_rows(response) -> dict[str, int]:
    if response["Content-Type"].startswith("application/json"):
        body = response.json()
        return {"history": len(body["history"]), "lines": len(body["budget_lines"])}
    text = html(response)
    lines = text.split("<h2>预算明细</h2>", 1)[1]
    return {
        "history": table_rows(text, "history"),
        "attachments": list_items(text, "attachments"),
        "lines": matches(lines.split("</table>", 1)[0], r"<tr><td>"),
    }


def test_application_detail_api_and_page(cast, program, django_assert_max_num_queries):
    add_members(cast.union_xihu, 150)
    application = make_application(program, cast.union_xihu, until=S.SUBMITTED, requested="50000.00")
    services.attachment_add(application=application, kind="plan", filename="计划.pdf", content=PDF, by=cast.xihu)
    users = cast.users()
    probes = []
    for who in ("xihu", "officer", "hangzhou", "province"):
        probes.append(
            Probe.of(
                f"API application as {who}",
                api_client(users[who]),
                f"{API}/applications/{application.pk}/",
                _history_rows,
            )
        )
        probes.append(
            Probe.of(
                f"application page as {who}", page_client(users[who]), f"/applications/{application.pk}/", _history_rows
            )
        )

    def grow():
        lines = [
            {"category": category, "amount": "10000.00", "description": "明细"}
            for category in ("activities", "skills", "mutual_aid", "labor_protection", "activities")
        ]
        for n in range(3):
            services.application_transition(
                application=application, action="return", by=cast.xihu, comment="请补充材料。"
            )
            if n == 0:
                services.application_update(application=application, data={"budget_lines": lines}, by=cast.officer)
            services.attachment_add(
                application=application, kind="roster", filename=f"名册{n}.pdf", content=PDF, by=cast.officer
            )
            services.application_transition(application=application, action="submit", by=cast.officer)

    assert_flat(django_assert_max_num_queries, probes, grow)


def test_application_form_choices(cast, program, django_assert_max_num_queries):
    def options(name: str):
        def count(response) -> int:
            select = html(response).split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
            return matches(select, r"<option value=\"\d+\"")

        return count

    probes = [
        Probe.of(
            "application form as county staff",
            page_client(cast.xihu),
            "/applications/new/",
            lambda r: {"programs": options("program")(r), "unions": options("union")(r)},
        ),
        Probe.of(
            "application form as officer",
            page_client(cast.officer),
            "/applications/new/",
            lambda r: {"programs": options("program")(r)},
        ),
    ]

    def grow():
        make_program(cast.province, name="第二个项目")
        make_program(cast.xihu, owner="330106", name="区级项目")
        make_program(cast.hangzhou, owner="330100", name="市级项目")
        for _ in range(5):
            eligible_union("330106", members=3)

    assert_flat(django_assert_max_num_queries, probes, grow)


# ---------------------------------------------------------------- allocations


def test_allocation_list_page(cast, program, django_assert_max_num_queries):
    bulk_allocations(program, 1, counties=("330106",))
    probes = [
        Probe.of(
            f"allocation list as {who}",
            page_client(cast.users()[who]),
            "/allocations/",
            lambda r: {"allocations": table_rows(html(r), "allocations")},
        )
        for who in ("hangzhou", "xihu", "city_auditor")
    ]
    assert_flat(
        django_assert_max_num_queries, probes, lambda: bulk_allocations(program, 12, counties=("330106", "330110"))
    )


def _money_rows(response) -> dict[str, int]:
    if response["Content-Type"].startswith("application/json"):
        body = response.json()
        return {
            "tranches": len(body["disbursements"]),
            "expenditures": len(body["expenditures"]),
            "categories": len(body["by_category"]),
        }
    text = html(response)
    return {
        "tranches": table_rows(text, "tranches"),
        "expenditures": table_rows(text, "expenditures"),
        "categories": table_rows(text, "by-category"),
    }


def test_allocation_detail_api_and_page(cast, program, django_assert_max_num_queries):
    add_members(cast.union_xihu, 150)
    allocation = approve(program, cast.union_xihu, "60000.00")
    disburse(allocation, "30000.00", by=cast.province, voucher_no="SZ-1")  # to the union directly
    spend(allocation, "1000.00", by=cast.officer)
    users = cast.users()
    probes = []
    for who in ("province", "hangzhou", "xihu", "officer", "auditor"):
        probes.append(
            Probe.of(
                f"API allocation as {who}", api_client(users[who]), f"{API}/allocations/{allocation.pk}/", _money_rows
            )
        )
        probes.append(
            Probe.of(
                f"allocation page as {who}", page_client(users[who]), f"/allocations/{allocation.pk}/", _money_rows
            )
        )

    def grow():
        pay = services.disbursement_record
        today = clock.today()
        pay(allocation=allocation, amount="20000.00", paid_on=today, voucher_no="SZ-2", by=cast.province, to="330100")
        pay(allocation=allocation, amount="20000.00", paid_on=today, voucher_no="HZ-1", by=cast.hangzhou, to="330106")
        for n in range(2):
            disburse(allocation, "5000.00", by=cast.xihu, voucher_no=f"XH-{n}")
        for n, category in enumerate(["activities", "skills", "skills", "labor_protection", "mutual_aid"]):
            extra = {"voucher_name": f"凭证{n}.pdf", "voucher_content": PDF} if n % 2 else {}
            if extra:
                services.expenditure_record(
                    allocation=allocation,
                    data={
                        "spent_on": today,
                        "category": category,
                        "amount": "2000.00",
                        "description": "送清凉",
                        "voucher_no": f"ZC-{n}",
                        "beneficiaries": 10,
                    },
                    by=cast.officer,
                    **extra,
                )
            else:
                spend(allocation, "2000.00", by=cast.xihu, category=category)

    assert_flat(django_assert_max_num_queries, probes, grow)


def test_allocation_summary_api(cast, program, django_assert_max_num_queries):
    add_members(cast.union_xihu, 150)
    allocation = approve(program, cast.union_xihu, "60000.00")
    disburse(allocation, "60000.00")
    spend(allocation, "1000.00")
    url = f"{API}/allocations/summary/"
    probes = [
        Probe.of(
            f"summary by {group} as {who}",
            api_client(cast.users()[who]),
            url,
            lambda r: {"rows": len(r.json())},
            {"group_by": group, "program": program.pk},
        )
        for who, group in (
            ("province", "city"),
            ("province", "county"),
            ("province", "category"),
            ("auditor", "city"),
            ("hangzhou", "county"),
            ("hangzhou", "category"),
        )
    ]

    def grow():
        counties = ("330110", "330102", *_first_counties("330200", "330300", "330400"))
        allocations = bulk_allocations(program, 10, counties=counties)
        categories = ["skills", "mutual_aid", "labor_protection"]
        BudgetLine.objects.bulk_create(
            BudgetLine(application_id=a.application_id, category=categories[n % 3], amount=Decimal("25000.00"))
            for n, a in enumerate(allocations)
            for _ in range(2)
        )

    assert_flat(django_assert_max_num_queries, probes, grow)


def test_dashboard_page(cast, program, django_assert_max_num_queries):
    bulk_allocations(program, 1, counties=("330106",))

    def rows(response) -> dict[str, int]:
        text = html(response)
        found = {"programs": matches(text.split('name="program"', 1)[1].split("</select>", 1)[0], r"<option ")}
        if "xihu" not in response.wsgi_request.user.username:
            found["areas"] = table_rows(text, "summary")
        return found

    probes = [
        Probe.of(f"dashboard as {who}", page_client(cast.users()[who]), "/dashboard/", rows)
        for who in ("province", "hangzhou", "xihu", "auditor")
    ]

    def grow():
        # Next year's programs, set up before anything is allocated, come first in the list.
        next_year = clock.today() + dt.timedelta(days=366)
        for n in range(3):
            make_program(
                cast.province,
                name=f"下一年度项目{n}",
                year=next_year.year,
                opens_on=next_year,
                closes_on=next_year + dt.timedelta(days=60),
            )
        bulk_allocations(
            program, 12, counties=("330106", "330110", "330102", *_first_counties("330200", "330300", "330400"))
        )

    assert_flat(django_assert_max_num_queries, probes, grow)
