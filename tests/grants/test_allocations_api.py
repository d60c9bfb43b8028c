"""``/api/v1/allocations/`` as outside systems pull it (README, REST API): scope and roles for every endpoint and
every user of the cast, the row shape, filters, ordering, pages, bad input, the incremental pull, the
query count, the CSV and xlsx exports, and the summaries.

Allocations of the ``four`` fixture (all in this year's provincial program):
X 60,000 (union_xihu, 西湖区/杭州市), XO 30,000 (union_xihu_other, 西湖区), Y 45,000 (union_yuhang,
余杭区/杭州市), N 20,000 (union_yinzhou, 鄞州区/宁波市). The officer belongs to union_xihu.
"""

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from grants.models import Allocation
from members.models import Union
from tests.factories import (
    API,
    approve,
    bulk_allocations,
    disburse,
    eligible_union,
    figures,
    make_application,
    spend,
    voucher,
)
from unionfunds.core import clock

MONEY = re.compile(r"^\d+\.\d{2}$")
USERS = ["province", "auditor", "hangzhou", "city_auditor", "xihu", "yuhang", "ningbo", "yinzhou", "officer"]
VISIBLE = {
    "province": {"X", "XO", "Y", "N"},
    "auditor": {"X", "XO", "Y", "N"},
    "hangzhou": {"X", "XO", "Y"},
    "city_auditor": {"X", "XO", "Y"},
    "xihu": {"X", "XO"},
    "yuhang": {"Y"},
    "ningbo": {"N"},
    "yinzhou": {"N"},
    "officer": {"X"},
}
MAY_DISBURSE = {"province", "hangzhou", "xihu", "yuhang", "ningbo", "yinzhou"}
MAY_SPEND = {"xihu", "yuhang", "yinzhou", "officer"}


@pytest.fixture
def four(stocked, program) -> dict[str, Allocation]:
    return {
        "X": approve(program, stocked.union_xihu, "60000.00"),
        "XO": approve(program, stocked.union_xihu_other, "30000.00"),
        "Y": approve(program, stocked.union_yuhang, "45000.00"),
        "N": approve(program, stocked.union_yinzhou, "20000.00"),
    }


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def names_of(four, id_list) -> set[str]:
    by_id = {a.pk: name for name, a in four.items()}
    return {by_id.get(pk, pk) for pk in id_list}


# ------------------------------------------------------------------ scope and roles


def test_list_and_detail_follow_the_scope(stocked, four, api):
    for who in USERS:
        client = api.as_user(stocked.users()[who])
        assert names_of(four, ids(client.get(f"{API}/?page_size=500"))) == VISIBLE[who], who
        for name, allocation in four.items():
            response = client.get(f"{API}/{allocation.pk}/")
            assert response.status_code == (200 if name in VISIBLE[who] else 404), (who, name)
            if response.status_code == 200:
                assert response.json()["id"] == allocation.pk


def test_exports_follow_the_scope(stocked, four, api):
    for who in USERS:
        client = api.as_user(stocked.users()[who])
        rows = csv.DictReader(io.StringIO(client.get(f"{API}/?format=csv").content.decode("utf-8-sig")))
        assert names_of(four, [int(r["id"]) for r in rows]) == VISIBLE[who], who
        sheet = openpyxl.load_workbook(io.BytesIO(client.get(f"{API}/?format=xlsx").content), read_only=True).active
        assert names_of(four, [r[0] for r in list(sheet.values)[1:]]) == VISIBLE[who], who


def test_summary_follows_the_scope(stocked, four, api):
    for who in USERS:
        client = api.as_user(stocked.users()[who])
        visible = [four[name] for name in VISIBLE[who]]
        for group_by, key in (("city", "city_id"), ("county", "county_id")):
            rows = client.get(f"{API}/summary/?group_by={group_by}").json()
            assert {r["key"] for r in rows} == {getattr(a, key) for a in visible}, (who, group_by)
            assert sum(r["count"] for r in rows) == len(visible), who
            assert sum(Decimal(r["allocated"]) for r in rows) == sum(a.amount for a in visible), who


def test_recording_a_tranche_by_every_user(stocked, four, api):
    for who in USERS:
        client = api.as_user(stocked.users()[who])
        for name, allocation in four.items():
            before = figures(allocation)
            response = client.post(
                f"{API}/{allocation.pk}/disbursements/",
                {"amount": "100.00", "paid_on": clock.today().isoformat(), "voucher_no": voucher(who)},
                format="json",
            )
            expected = 404 if name not in VISIBLE[who] else 201 if who in MAY_DISBURSE else 403
            assert response.status_code == expected, (who, name, response.content)
            if expected != 201:
                assert figures(allocation) == before, (who, name)
            else:
                assert figures(allocation)[0] == before[0] + Decimal("100.00")
    # Province, Hangzhou and Xihu paid X; nobody else could.
    assert four["X"].disbursements.count() == 3


def test_recording_an_expenditure_by_every_user(stocked, four, api):
    for allocation in four.values():
        disburse(allocation, "10000.00")
    for who in USERS:
        client = api.as_user(stocked.users()[who])
        for name, allocation in four.items():
            before = figures(allocation)
            response = client.post(
                f"{API}/{allocation.pk}/expenditures/",
                {
                    "spent_on": clock.today().isoformat(),
                    "category": "activities",
                    "amount": "100.00",
                    "description": "送清凉",
                    "voucher_no": voucher(who),
                },
                format="json",
            )
            expected = 404 if name not in VISIBLE[who] else 201 if who in MAY_SPEND else 403
            assert response.status_code == expected, (who, name, response.content)
            if expected != 201:
                assert figures(allocation) == before, (who, name)
            else:
                assert figures(allocation)[1] == before[1] + Decimal("100.00")
    # Xihu county staff and the union's officer spent on X; the auditors and cities could not.
    assert four["X"].expenditures.count() == 2


def test_role_refusals_say_who_may(stocked, four, api):
    disburse(four["X"], "1000.00")
    response = api.as_user(stocked.officer).post(
        f"{API}/{four['X'].pk}/disbursements/",
        {"amount": "1.00", "paid_on": clock.today().isoformat(), "voucher_no": "V"},
        format="json",
    )
    assert response.status_code == 403
    assert "拨付" in response.json()["detail"]
    response = api.as_user(stocked.hangzhou).post(
        f"{API}/{four['X'].pk}/expenditures/",
        {
            "spent_on": clock.today().isoformat(),
            "category": "activities",
            "amount": "1.00",
            "description": "x",
            "voucher_no": "V",
        },
        format="json",
    )
    assert response.status_code == 403
    assert "支出" in response.json()["detail"]


def test_unauthenticated_requests_are_401(four):
    client = APIClient()
    allocation = four["X"]
    for url in (f"{API}/", f"{API}/?format=csv", f"{API}/{allocation.pk}/", f"{API}/summary/"):
        assert client.get(url).status_code == 401, url
    for url in (f"{API}/{allocation.pk}/disbursements/", f"{API}/{allocation.pk}/expenditures/"):
        assert client.post(url, {}, format="json").status_code == 401, url


def test_the_api_is_read_only_for_the_allocation_itself(stocked, four, api):
    client = api.as_user(stocked.province)
    url = f"{API}/{four['X'].pk}/"
    for method in (client.put, client.patch, client.delete):
        assert method(url, {"approved_amount": "1.00"}, format="json").status_code == 405
    assert client.post(f"{API}/", {}, format="json").status_code == 405
    assert Allocation.objects.get(pk=four["X"].pk).amount == Decimal("60000.00")


# ------------------------------------------------------------------ the row shape


def test_every_field_of_the_contract(stocked, four, api):
    allocation = four["Y"]
    disburse(allocation, "45000.00")
    spend(allocation, "11250.00")
    rows = api.as_user(stocked.province).get(f"{API}/").json()["results"]
    row = next(r for r in rows if r["id"] == allocation.pk)

    assert set(row) == {
        "id",
        "program",
        "year",
        "union",
        "county",
        "city",
        "approved_amount",
        "disbursed_amount",
        "spent_amount",
        "utilization_rate",
        "funding",
        "status",
        "approved_at",
        "updated_at",
    }
    union = stocked.union_yuhang
    assert row["program"] == allocation.program_id
    assert row["year"] == allocation.program.year
    assert row["union"] == {"id": union.pk, "name": union.name, "credit_code": union.credit_code}
    assert row["county"] == {"code": "330110", "name": "余杭区"}
    assert row["city"] == {"code": "330100", "name": "杭州市"}
    assert (row["approved_amount"], row["disbursed_amount"], row["spent_amount"]) == (
        "45000.00",
        "45000.00",
        "11250.00",
    )
    assert row["utilization_rate"] == "0.2500"
    # Split over the program's sources 40/60, to the fen, adding up exactly.
    assert row["funding"] == [{"source": "fiscal", "amount": "18000.00"}, {"source": "union", "amount": "27000.00"}]
    assert row["status"] == "disbursed"
    approved_at = dt.datetime.fromisoformat(row["approved_at"])
    updated_at = dt.datetime.fromisoformat(row["updated_at"])
    assert approved_at.utcoffset() == dt.timedelta(hours=8)  # Asia/Shanghai
    assert updated_at > approved_at
    for r in rows:
        for key in ("approved_amount", "disbursed_amount", "spent_amount"):
            assert MONEY.match(r[key]), (key, r[key])
        assert sum(Decimal(f["amount"]) for f in r["funding"]) == Decimal(r["approved_amount"])


@pytest.mark.parametrize("export", ["csv", "xlsx"])
def test_only_the_list_exports_a_detail_is_json(stocked, four, api, export):
    client = api.as_user(stocked.province)
    assert client.get(f"{API}/?format={export}").status_code == 200
    detail = client.get(f"{API}/{four['X'].pk}/?format={export}")
    assert detail.status_code == 404  # an unknown format for this endpoint, as DRF answers it
    assert detail["Content-Type"] == "application/json"
    assert client.get(f"{API}/{four['X'].pk}/")["Content-Type"] == "application/json"
    assert client.generic("TRACE", f"{API}/?format={export}").status_code == 405


@pytest.mark.parametrize("export", ["csv", "xlsx"])
def test_an_export_has_every_row_but_refuses_bad_paging_like_a_page(stocked, four, api, export):
    client = api.as_user(stocked.province)
    assert client.get(f"{API}/?format={export}&page=2&page_size=1").status_code == 200  # paging does not apply
    for query, status in (("page=-1", 404), ("page=0", 404), ("page=x", 404), ("page_size=0", 400)):
        assert client.get(f"{API}/?format={export}&{query}").status_code == status, query
        assert client.get(f"{API}/?{query}").status_code == status, query  # what the JSON list answers


def test_detail_has_the_history_of_tranches_and_expenditures(stocked, four, api):
    allocation = four["X"]
    disburse(allocation, "20000.00", voucher_no="XH-1")
    disburse(allocation, "10000.00", by=stocked.hangzhou, voucher_no="HZ-1")
    spend(allocation, "8000.00", category="skills", beneficiaries=20)
    spend(allocation, "2000.00", category="activities", beneficiaries=5)
    spend(allocation, "1000.00", category="skills", beneficiaries=3)
    body = api.as_user(stocked.officer).get(f"{API}/{allocation.pk}/").json()
    assert [(d["amount"], d["voucher_no"], d["from_region_id"]) for d in body["disbursements"]] == [
        ("20000.00", "XH-1", "330106"),
        ("10000.00", "HZ-1", "330100"),
    ]
    assert [e["amount"] for e in body["expenditures"]] == ["8000.00", "2000.00", "1000.00"]
    assert {(c["category"], c["total"], c["n"], c["people"]) for c in body["by_category"]} == {
        ("skills", "9000.00", 2, 23),
        ("activities", "2000.00", 1, 5),
    }
    assert (body["disbursed_amount"], body["spent_amount"], body["utilization_rate"]) == (
        "30000.00",
        "11000.00",
        "0.1833",
    )


# ------------------------------------------------------------------ filters, ordering, pages


@pytest.fixture
def varied(four, program_2022):
    """X spent in full, XO partly disbursed, Y disbursed, N untouched, plus two 2022 allocations."""
    disburse(four["X"], "60000.00")
    spend(four["X"], "60000.00")
    disburse(four["XO"], "10000.00")
    disburse(four["Y"], "45000.00")
    old = bulk_allocations(program_2022, 2, counties=("330106", "330110"))  # 50,000.00 and 49,999.00
    return {**four, "old0": old[0], "old1": old[1]}


FILTER_CASES = [
    ("", {"X", "XO", "Y", "N", "old0", "old1"}),
    ("year=2022", {"old0", "old1"}),
    ("city=330200", {"N"}),
    ("city=330100", {"X", "XO", "Y", "old0", "old1"}),
    ("county=330106", {"X", "XO", "old0"}),
    ("county=330110", {"Y", "old1"}),
    ("status=spent", {"X"}),
    ("status=partially_disbursed", {"XO"}),
    ("status=disbursed", {"Y"}),
    ("status=allocated", {"N", "old0", "old1"}),
    ("min_amount=45000", {"X", "Y", "old0", "old1"}),
    ("max_amount=30000", {"XO", "N"}),
    ("min_amount=30000&max_amount=45000.00", {"XO", "Y"}),
    ("min_amount=49999.01", {"X", "old0"}),
    ("city=330100&status=allocated", {"old0", "old1"}),
    ("county=330212&year=2022", set()),
]


def test_filters(stocked, varied, api):
    client = api.as_user(stocked.province)
    for query, expected in FILTER_CASES:
        assert names_of(varied, ids(client.get(f"{API}/?page_size=500&{query}"))) == expected, query


def test_program_union_and_year_filters(stocked, varied, program, program_2022, api):
    client = api.as_user(stocked.province)
    assert names_of(varied, ids(client.get(f"{API}/?program={program.pk}"))) == {"X", "XO", "Y", "N"}
    assert names_of(varied, ids(client.get(f"{API}/?program={program_2022.pk}"))) == {"old0", "old1"}
    assert names_of(varied, ids(client.get(f"{API}/?union={stocked.union_yuhang.pk}"))) == {"Y"}
    assert names_of(varied, ids(client.get(f"{API}/?year={program.year}"))) == {"X", "XO", "Y", "N"}
    # A filter never widens the scope: Ningbo asking for Hangzhou gets nothing, not an error.
    assert ids(api.as_user(stocked.ningbo).get(f"{API}/?city=330100")) == []
    assert ids(api.as_user(stocked.officer).get(f"{API}/?union={stocked.union_yuhang.pk}")) == []


ORDERINGS = [
    ("approved_amount", "approved_amount", False),
    ("-approved_amount", "approved_amount", True),
    ("spent_amount", "spent_amount", False),
    ("-disbursed_amount", "disbursed_amount", True),
    ("updated_at", "updated_at", False),
    ("-updated_at", "updated_at", True),
    ("approved_at", "approved_at", False),
    ("-id", "id", True),
]


def test_ordering(stocked, varied, api):
    def value(row, key):
        raw = row[key]
        if key.endswith("amount"):
            return Decimal(raw)
        return dt.datetime.fromisoformat(raw) if key.endswith("_at") else raw

    client = api.as_user(stocked.province)
    for ordering, key, reverse in ORDERINGS:
        rows = client.get(f"{API}/?ordering={ordering}").json()["results"]
        assert len(rows) == 6
        values = [value(r, key) for r in rows]
        assert values == sorted(values, reverse=reverse), ordering


def test_default_order_is_the_order_of_the_changes(stocked, varied, api):
    """Without ``ordering`` the list is the change feed: rows in the order they were last written (the two
    2022 allocations were written last, with old ``updated_at`` values), not by ``updated_at``."""
    client = api.as_user(stocked.province)
    rows = client.get(f"{API}/").json()["results"]
    written = sorted(varied.values(), key=lambda a: (Allocation.objects.get(pk=a.pk).change_xid, a.pk))
    assert [r["id"] for r in rows] == [a.pk for a in written]
    assert [r["id"] for r in rows][-2:] == [varied["old0"].pk, varied["old1"].pk]
    by_time = client.get(f"{API}/?ordering=updated_at").json()["results"]
    keys = [(dt.datetime.fromisoformat(r["updated_at"]), r["id"]) for r in by_time]
    assert keys == sorted(keys) and [r["id"] for r in by_time] != [r["id"] for r in rows]


def test_ties_in_the_ordering_are_broken_by_id_so_pages_never_repeat_or_skip(stocked, program, api):
    """Most unions get the maximum grant: ordering by amount ties on almost every row. Paging a
    client through those ties must give every allocation exactly once, in the same order each time."""
    allocations = bulk_allocations(program, 12)
    Allocation.objects.filter(pk__in=[a.pk for a in allocations]).update(amount=Decimal("60000.00"))
    client = api.as_user(stocked.province)
    for ordering in ("-approved_amount", "approved_amount", "spent_amount"):
        seen = []
        for page in (1, 2, 3, 4):
            seen += ids(client.get(f"{API}/?ordering={ordering}&page_size=3&page={page}"))
        assert sorted(seen) == sorted(a.pk for a in allocations)
        assert seen == sorted(seen), ordering  # equal amounts: by id, the same on every database


def test_pages(stocked, varied, api):
    client = api.as_user(stocked.province)
    # The default list is the change feed: ``next`` continues it with the cursor.
    first = client.get(f"{API}/?page_size=4").json()
    assert first["count"] == 6
    assert len(first["results"]) == 4
    assert "cursor=" in first["next"] and "page_size=4" in first["next"] and first["previous"] is None
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 2 and second["next"] is None
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}
    # Page numbers keep working, from page 2 or with an explicit ordering.
    by_page = client.get(f"{API}/?page_size=4&page=2").json()
    assert [r["id"] for r in by_page["results"]] == [r["id"] for r in second["results"]]
    assert by_page["next"] is None and "page_size=4" in by_page["previous"] and by_page["next_cursor"] is None
    ordered = client.get(f"{API}/?page_size=4&ordering=id").json()
    assert "page=2" in ordered["next"] and ordered["next_cursor"] is None
    assert len(client.get(f"{API}/?page_size=500").json()["results"]) == 6


def test_default_page_size_is_50(stocked, program, api):
    bulk_allocations(program, 51)
    body = api.as_user(stocked.province).get(f"{API}/").json()
    assert body["count"] == 51 and len(body["results"]) == 50


BAD_QUERIES = [
    ("min_amount=abc", "min_amount"),
    ("max_amount=1e400", "max_amount"),
    ("min_amount=NaN", "min_amount"),
    ("max_amount=1000000000000", "max_amount"),  # more than a money column holds (the schema says so too)
    ("min_amount=-0.01", "min_amount"),
    ("updated_after=yesterday", "updated_after"),
    ("updated_after=2026-13-01T00:00:00", "updated_after"),
    ("ordering=password", "ordering"),
    ("ordering=,", "ordering"),
    ("ordering=union__users__password", "ordering"),
    ("status=foo", "status"),
    ("program=abc", "program"),
    ("program=99999999999999999999999", "program"),
    ("union=99999999999999999999999", "union"),
    ("union=1.5", "union"),
    ("year=abc", "year"),
    ("year=2022.5", "year"),
    ("page_size=501", "page_size"),
    ("page_size=0", "page_size"),
    ("page_size=abc", "page_size"),
]


def test_bad_query_is_400_naming_the_parameter_never_500(stocked, four, api):
    client = api.as_user(stocked.province)
    for query, field in BAD_QUERIES:
        response = client.get(f"{API}/?{query}")
        assert response.status_code == 400, (query, response.content)
        assert field in response.json(), query


def test_bad_query_on_an_export_is_400_too(stocked, four, api):
    client = api.as_user(stocked.province)
    for fmt in ("csv", "xlsx"):
        for query, field in BAD_QUERIES:
            if field == "page_size":
                continue  # exports are not paginated
            assert client.get(f"{API}/?format={fmt}&{query}").status_code == 400, (fmt, query)


# ------------------------------------------------------------------ incremental pull


def test_incremental_pull_gets_exactly_what_changed(stocked, four, api, program):
    client = api.as_user(stocked.auditor)  # an outside system reads with an auditor account

    def pull(since: str) -> list[dict]:
        return client.get(f"{API}/", {"updated_after": since, "page_size": 500}).json()["results"]

    rows = client.get(f"{API}/?page_size=500").json()["results"]
    newest = max(rows, key=lambda r: dt.datetime.fromisoformat(r["updated_at"]))["updated_at"]
    assert pull(newest) == []

    disburse(four["Y"], "5000.00")
    changed = pull(newest)
    assert [r["id"] for r in changed] == [four["Y"].pk]
    assert changed[0]["disbursed_amount"] == "5000.00"

    newest = changed[0]["updated_at"]
    disburse(four["N"], "5000.00")
    spend(four["N"], "1200.00")
    changed = pull(newest)
    assert [r["id"] for r in changed] == [four["N"].pk]
    assert (changed[0]["spent_amount"], changed[0]["utilization_rate"]) == ("1200.00", "0.0600")

    # A new approval is a change too.
    newest = changed[0]["updated_at"]
    new = approve(program, eligible_union("330110"))
    assert [r["id"] for r in pull(newest)] == [new.pk]


def test_a_refused_record_is_not_a_change_for_the_pull(stocked, four, api):
    client = api.as_user(stocked.province)
    rows = client.get(f"{API}/?page_size=500").json()["results"]
    newest = max(rows, key=lambda r: dt.datetime.fromisoformat(r["updated_at"]))["updated_at"]
    response = client.post(
        f"{API}/{four['X'].pk}/disbursements/",
        {"amount": "60000.01", "paid_on": clock.today().isoformat(), "voucher_no": "V-9"},
        format="json",
    )
    assert response.status_code == 409
    assert client.get(f"{API}/", {"updated_after": newest}).json()["results"] == []


# ------------------------------------------------------------------ query counts


@pytest.fixture
def five_hundred(stocked, program):
    return bulk_allocations(program, 500)


def test_list_query_count_does_not_grow_with_the_page_size(stocked, five_hundred, api, django_assert_max_num_queries):
    client = api.as_user(stocked.province)

    def measure(size: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"{API}/?page_size={size}")
        assert response.status_code == 200
        assert len(response.json()["results"]) == size
        return len(captured)

    # The reader's horizon (the list is the change feed), the count, the page, its funding split.
    with django_assert_max_num_queries(4 + 1):
        client.get(f"{API}/?page_size=1")
    with django_assert_max_num_queries(4 + 1):
        client.get(f"{API}/?page_size=500")
    assert measure(1) == measure(500)


def test_query_count_is_the_same_for_every_scope(stocked, five_hundred, api, django_assert_max_num_queries):
    for user in (stocked.hangzhou, stocked.xihu, stocked.officer, stocked.city_auditor):
        client = api.as_user(user)
        with django_assert_max_num_queries(4):
            assert client.get(f"{API}/?page_size=500&ordering=-approved_amount").status_code == 200


def test_export_of_500_rows_uses_a_handful_of_queries(stocked, five_hundred, api, django_assert_max_num_queries):
    client = api.as_user(stocked.province)
    for fmt in ("csv", "xlsx"):
        with django_assert_max_num_queries(4):
            assert client.get(f"{API}/?format={fmt}").status_code == 200


# ------------------------------------------------------------------ exports

EVIL = {"X": '=HYPERLINK("http://x")', "XO": "+1", "Y": "-1", "N": "@SUM(A1)"}


@pytest.fixture
def evil(four):
    for name, allocation in four.items():
        Union.objects.filter(pk=allocation.union_id).update(name=EVIL[name])
    return four


def _json_rows(client, query="") -> dict[int, dict]:
    return {r["id"]: r for r in client.get(f"{API}/?page_size=500&{query}").json()["results"]}


def test_csv_is_utf8_with_bom_and_has_the_same_rows_as_json(stocked, varied, api):
    Union.objects.filter(pk=stocked.union_yinzhou.pk).update(name="鄞州区快递物流行业工会联合会（宁波）")
    spend(varied["XO"], "2500.00")
    client = api.as_user(stocked.province)
    response = client.get(f"{API}/?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"] and ".csv" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content[3:].decode("utf-8"))))
    expected = _json_rows(client)
    assert sorted(int(r["id"]) for r in rows) == sorted(expected)
    for row in rows:
        j = expected[int(row["id"])]
        funding = {f["source"]: f["amount"] for f in j["funding"]}
        assert row["program"] == str(j["program"]) and row["year"] == str(j["year"])
        assert (row["union_id"], row["union_name"], row["credit_code"]) == (
            str(j["union"]["id"]),
            j["union"]["name"],
            j["union"]["credit_code"],
        )
        assert (row["county_code"], row["county_name"]) == (j["county"]["code"], j["county"]["name"])
        assert (row["city_code"], row["city_name"]) == (j["city"]["code"], j["city"]["name"])
        for key in ("approved_amount", "disbursed_amount", "spent_amount", "utilization_rate", "status"):
            assert row[key] == j[key], key
        assert row["funding_fiscal"] == funding.get("fiscal", "0.00")
        assert row["funding_union"] == funding.get("union", "0.00")
        assert row["funding_other"] == "0.00"
        # The same (local, Asia/Shanghai) times as the JSON.
        assert (row["approved_at"], row["updated_at"]) == (j["approved_at"], j["updated_at"])
    assert "鄞州区快递物流行业工会联合会（宁波）" in {r["union_name"] for r in rows}


def test_xlsx_opens_with_openpyxl_and_has_the_same_rows_as_json(stocked, varied, api):
    spend(varied["XO"], "2500.00")
    client = api.as_user(stocked.province)
    response = client.get(f"{API}/?format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert ".xlsx" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    values = list(workbook["allocations"].values)
    header, body = values[0], values[1:]
    expected = _json_rows(client)
    assert sorted(r[0] for r in body) == sorted(expected)
    for raw in body:
        row = dict(zip(header, raw, strict=True))
        j = expected[row["id"]]
        assert row["union_name"] == j["union"]["name"] and row["credit_code"] == j["union"]["credit_code"]
        assert (row["county_code"], row["city_name"]) == (j["county"]["code"], j["city"]["name"])
        for key in ("approved_amount", "disbursed_amount", "spent_amount"):
            assert Decimal(str(row[key])).quantize(Decimal("0.01")) == Decimal(j[key]), key
        assert Decimal(str(row["utilization_rate"])) == Decimal(j["utilization_rate"])
        assert row["status"] == j["status"]
        local = dt.datetime.fromisoformat(j["approved_at"]).replace(tzinfo=None)
        assert abs(row["approved_at"] - local) < dt.timedelta(milliseconds=1)


def test_formula_cells_are_neutralised_in_both_exports_but_not_in_json(stocked, evil, api):
    client = api.as_user(stocked.province)
    names = {r["union"]["name"] for r in client.get(f"{API}/").json()["results"]}
    assert names == set(EVIL.values())  # JSON is data, not a spreadsheet: unchanged

    rows = list(csv.DictReader(io.StringIO(client.get(f"{API}/?format=csv").content.decode("utf-8-sig"))))
    assert {r["union_name"] for r in rows} == {"'" + name for name in EVIL.values()}

    sheet = openpyxl.load_workbook(io.BytesIO(client.get(f"{API}/?format=xlsx").content), read_only=True).active
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    column = header.index("union_name")
    cells = [row[column] for row in sheet.iter_rows(min_row=2)]
    assert {c.value for c in cells} == {"'" + name for name in EVIL.values()}
    assert {c.data_type for c in cells} == {"s"}  # text, never a formula


def test_filters_apply_to_exports(stocked, varied, api):
    client = api.as_user(stocked.province)
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(f"{API}/?format=csv&city=330100&status=allocated").content.decode("utf-8-sig"))
        )
    )
    assert names_of(varied, [int(r["id"]) for r in rows]) == {"old0", "old1"}
    sheet = openpyxl.load_workbook(
        io.BytesIO(client.get(f"{API}/?format=xlsx&min_amount=45000&year=2026").content), read_only=True
    ).active
    assert names_of(varied, [r[0] for r in list(sheet.values)[1:]]) == {"X", "Y"}


def test_export_is_not_paginated(stocked, program, api):
    bulk_allocations(program, 60)
    content = api.as_user(stocked.province).get(f"{API}/?format=csv&page_size=5").content.decode("utf-8-sig")
    assert len(list(csv.DictReader(io.StringIO(content)))) == 60


# ------------------------------------------------------------------ summary


def test_summary_by_city_for_the_province_adds_up_the_rows(stocked, varied, api, program):
    client = api.as_user(stocked.province)
    rows = client.get(f"{API}/summary/?group_by=city&program={program.pk}").json()
    listed = client.get(f"{API}/?page_size=500&program={program.pk}").json()["results"]
    assert [r["key"] for r in rows] == ["330100", "330200"]
    assert [r["name"] for r in rows] == ["杭州市", "宁波市"]
    for row in rows:
        mine = [r for r in listed if r["city"]["code"] == row["key"]]
        assert row["count"] == len(mine)
        for total, field in (
            ("allocated", "approved_amount"),
            ("disbursed", "disbursed_amount"),
            ("spent", "spent_amount"),
        ):
            assert Decimal(row[total]) == sum(Decimal(r[field]) for r in mine), (row["key"], total)
            assert MONEY.match(row[total])
    hangzhou = rows[0]
    assert (hangzhou["allocated"], hangzhou["disbursed"], hangzhou["spent"], hangzhou["count"]) == (
        "135000.00",
        "115000.00",
        "60000.00",
        3,
    )


def test_summary_by_county_for_a_city_shows_only_its_counties(stocked, varied, api, program):
    rows = api.as_user(stocked.hangzhou).get(f"{API}/summary/?group_by=county&program={program.pk}").json()
    assert [(r["key"], r["name"], r["allocated"], r["count"]) for r in rows] == [
        ("330106", "西湖区", "90000.00", 2),
        ("330110", "余杭区", "45000.00", 1),
    ]
    rows = api.as_user(stocked.ningbo).get(f"{API}/summary/?group_by=county").json()
    assert [(r["key"], r["allocated"]) for r in rows] == [("330212", "20000.00")]
    # Without a program: every year in scope.
    rows = api.as_user(stocked.hangzhou).get(f"{API}/summary/?group_by=county").json()
    assert [(r["key"], r["count"]) for r in rows] == [("330106", 3), ("330110", 2)]


def test_summary_by_category_adds_up_the_expenditures(stocked, four, api, program):
    disburse(four["X"], "60000.00")
    spend(four["X"], "10000.00", category="activities")
    spend(four["X"], "5000.00", category="skills")
    disburse(four["N"], "20000.00")
    spend(four["N"], "3000.00", category="activities")
    spend(four["N"], "0.50", category="activities")
    rows = {r["key"]: r for r in api.as_user(stocked.province).get(f"{API}/summary/?group_by=category").json()}
    assert rows["activities"]["spent"] == "13000.50"
    assert rows["activities"]["count"] == 2
    assert rows["skills"]["spent"] == "5000.00"
    assert rows["skills"]["count"] == 1
    assert rows["activities"]["name"] == "职工活动"
    # Planned (approved budget lines): every application planned its whole amount for activities.
    assert rows["activities"]["allocated"] == "155000.00"
    total_spent = sum(Decimal(r["spent"]) for r in rows.values())
    assert total_spent == sum(Decimal(a["spent_amount"]) for a in _json_rows(api.as_user(stocked.province)).values())
    # Ningbo sees only its own spending.
    rows = {r["key"]: r for r in api.as_user(stocked.ningbo).get(f"{API}/summary/?group_by=category").json()}
    assert set(rows) == {"activities"}
    assert rows["activities"]["spent"] == "3000.50"


def test_summary_by_category_splits_a_cut_grant_over_its_plan(stocked, program, api):
    """Approved 50,000 of a 60,000 plan (40,000 activities + 20,000 skills): the categories' allocated
    totals add up to what was granted, not to what was asked for."""
    lines = [
        {"category": "activities", "amount": "40000.00", "description": "活动"},
        {"category": "skills", "amount": "20000.00", "description": "培训"},
    ]
    make_application(
        program, stocked.union_xihu, until="approved", requested="60000.00", approved="50000.00", lines=lines
    )
    rows = {r["key"]: r for r in api.as_user(stocked.province).get(f"{API}/summary/?group_by=category").json()}
    assert (rows["activities"]["allocated"], rows["skills"]["allocated"]) == ("33333.33", "16666.67")
    assert sum(Decimal(r["allocated"]) for r in rows.values()) == Decimal("50000.00")


SUMMARY_BAD = [
    ("group_by=union", "group_by"),
    ("group_by=city&program=abc", "program"),
    ("group_by=city&program=%C2%B2", "program"),  # "²" is a digit to str.isdigit, not to int()
    ("group_by=city&program=99999999999999999999999", "program"),
]


def test_summary_bad_input_is_400(stocked, four, api):
    client = api.as_user(stocked.province)
    for query, field in SUMMARY_BAD:
        response = client.get(f"{API}/summary/?{query}")
        assert response.status_code == 400, (query, response.content)
        assert field in response.json(), query


def test_summary_is_a_plain_list_as_its_schema_says(stocked, four, api):
    from drf_spectacular.generators import SchemaGenerator

    rows = api.as_user(stocked.province).get(f"{API}/summary/?group_by=city&page=2&page_size=1").json()
    assert isinstance(rows, list) and rows  # paging parameters do not apply to a summary
    operation = SchemaGenerator().get_schema(request=None, public=True)["paths"]["/api/v1/allocations/summary/"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "array"
    assert {p["name"] for p in operation["parameters"]} == {"group_by", "program"}
