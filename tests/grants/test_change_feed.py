"""The change feed of the lists outside systems pull (``?cursor=`` / ``next_cursor``), the same for
``/api/v1/allocations/``, ``/api/v1/applications/`` and ``/api/v1/unions/``: order, pages, rows written
again, scope, filters, and how it sits with page numbers and ``ordering``.

Each write here commits on its own (transactional tests), as it does in production: on PostgreSQL the
rows of one transaction share one position, so a test wrapped in one transaction could not show a row
coming again after it was written again. The race of a slow writer is in ``test_change_feed_races.py``.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from grants import services
from grants.choices import ApplicationStatus
from members import services as member_services
from tests.factories import UnionFactory, approve, disburse, eligible_union, make_application, spend, staff
from unionfunds.core import feed

pytestmark = pytest.mark.django_db(transaction=True)

API = "/api/v1"


@dataclass
class Endpoint:
    name: str
    url: str
    make: Callable  # (program, county) -> a new row of the list, in that county
    touch: Callable  # (row) -> writes it again through a service

    def __str__(self) -> str:
        return self.name


def _new_allocation(program, county):
    return approve(program, eligible_union(county), "50000.00")


def _touch_allocation(allocation):
    disburse(allocation, "100.00")


def _new_application(program, county):
    return make_application(program, eligible_union(county), until=ApplicationStatus.DRAFT, requested="50000.00")


def _touch_application(application):
    application.refresh_from_db()
    services.application_update(
        application=application, data={"plan": f"{application.plan}再改一次。"}, by=staff(application.union.county_id)
    )


def _new_union(program, county):
    return UnionFactory(county_id=county)


def _touch_union(union):
    union.refresh_from_db()
    member_services.union_update(
        union=union, data={"committee_size": union.committee_size + 1}, by=staff(union.county_id)
    )


ENDPOINTS = [
    Endpoint("allocations", f"{API}/allocations/", _new_allocation, _touch_allocation),
    Endpoint("applications", f"{API}/applications/", _new_application, _touch_application),
    Endpoint("unions", f"{API}/unions/", _new_union, _touch_union),
]


@pytest.fixture(params=ENDPOINTS, ids=str)
def endpoint(request) -> Endpoint:
    return request.param


def pull(client, url: str, cursor: str | None, **params) -> tuple[list[int], dict]:
    """One page of the feed from ``cursor``."""
    response = client.get(url, {**params, **({"cursor": cursor} if cursor else {})})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["next_cursor"], body
    return [row["id"] for row in body["results"]], body


def catch_up(client, url: str, cursor: str | None = None, **params) -> tuple[list[int], str]:
    """Every page from ``cursor`` until the feed has nothing more: the ids in order and the last cursor."""
    seen = []
    for _ in range(100):
        ids, body = pull(client, url, cursor, **params)
        seen += ids
        cursor = body["next_cursor"]
        if body["next"] is None:
            return seen, cursor
    raise AssertionError("the feed never ended")


def mine(ids: list[int], rows) -> list[int]:
    """``ids`` restricted to the rows a test made (the cast's own unions are in the unions feed too)."""
    keep = {row.pk for row in rows}
    return [pk for pk in ids if pk in keep]


def test_the_feed_gives_every_row_once_in_the_order_written(cast, program, api, endpoint):
    rows = [endpoint.make(program, county) for county in ("330106", "330110", "330106", "330212", "330106")]
    client = api.as_user(cast.province)
    seen, cursor = catch_up(client, endpoint.url, page_size=2)
    assert mine(seen, rows) == [r.pk for r in rows]
    assert len(seen) == len(set(seen))
    # Caught up: nothing more until something changes.
    ids, body = pull(client, endpoint.url, cursor)
    assert ids == [] and body["count"] == 0 and body["next"] is None


def test_a_row_written_again_comes_again_and_only_then(cast, program, api, endpoint):
    rows = [endpoint.make(program, county) for county in ("330106", "330110", "330212")]
    client = api.as_user(cast.province)
    _, cursor = catch_up(client, endpoint.url)
    endpoint.touch(rows[1])
    seen, cursor = catch_up(client, endpoint.url, cursor)
    assert seen == [rows[1].pk]
    endpoint.touch(rows[2])
    endpoint.touch(rows[0])
    endpoint.touch(rows[2])
    seen, cursor = catch_up(client, endpoint.url, cursor)
    assert seen == [rows[0].pk, rows[2].pk]  # by its last write; once
    assert catch_up(client, endpoint.url, cursor)[0] == []


def test_pages_of_every_size_give_the_same_feed(cast, program, api, endpoint):
    rows = [endpoint.make(program, county) for county in ("330106", "330110", "330212", "330106")]
    client = api.as_user(cast.province)
    everything, _ = catch_up(client, endpoint.url, page_size=500)
    for size in (1, 2, 3, len(everything), len(everything) + 1):
        seen, cursor, counts = [], None, []
        while True:
            ids, body = pull(client, endpoint.url, cursor, page_size=size)
            seen += ids
            counts.append(body["count"])
            cursor = body["next_cursor"]
            assert len(ids) == min(size, body["count"])
            if body["next"] is None:
                break
            assert f"page_size={size}" in body["next"] and body["previous"] is None
        assert seen == everything, size
        # ``count`` is what remains from the cursor on.
        assert counts == [len(everything) - i * size for i in range(len(counts))], size
    assert mine(everything, rows) == [r.pk for r in rows]


def test_next_is_the_same_request_from_the_next_cursor(cast, program, api, endpoint):
    for county in ("330106", "330110", "330212"):
        endpoint.make(program, county)
    client = api.as_user(cast.province)
    seen, _ = catch_up(client, endpoint.url, page_size=2)
    url, followed = f"{endpoint.url}?page_size=2", []
    while url:
        body = client.get(url).json()
        followed += [row["id"] for row in body["results"]]
        url = body["next"]
    assert followed == seen


def test_a_countys_feed_never_shows_another_countys_rows(cast, program, api, endpoint):
    xihu = [endpoint.make(program, "330106")]
    others = [endpoint.make(program, "330110"), endpoint.make(program, "330212")]
    client = api.as_user(cast.xihu)
    seen, cursor = catch_up(client, endpoint.url)
    assert set(mine(seen, xihu + others)) == {xihu[0].pk}
    for row in others:
        endpoint.touch(row)
    assert catch_up(client, endpoint.url, cursor)[0] == []
    endpoint.touch(xihu[0])
    assert catch_up(client, endpoint.url, cursor)[0] == [xihu[0].pk]
    # A city's feed has its counties' rows and not another city's.
    seen, _ = catch_up(api.as_user(cast.hangzhou), endpoint.url)
    assert set(mine(seen, xihu + others)) == {xihu[0].pk, others[0].pk}


def test_filters_apply_to_every_page_of_the_feed(cast, program, api, endpoint):
    rows = {county: endpoint.make(program, county) for county in ("330106", "330110", "330212")}
    client = api.as_user(cast.province)
    seen, cursor = catch_up(client, endpoint.url, county="330110")
    assert mine(seen, rows.values()) == [rows["330110"].pk]
    for row in rows.values():
        endpoint.touch(row)
    assert catch_up(client, endpoint.url, cursor, county="330110")[0] == [rows["330110"].pk]


def test_without_cursor_page_and_ordering_the_list_is_the_start_of_the_feed(cast, program, api, endpoint):
    rows = [endpoint.make(program, county) for county in ("330106", "330110", "330212")]
    client = api.as_user(cast.province)
    start = client.get(endpoint.url, {"page_size": 2}).json()
    assert start["next_cursor"] and "cursor=" in start["next"]
    assert client.get(endpoint.url, {"page_size": 2, "page": 1}).json()["results"] == start["results"]
    # Page numbers from page 2 are the plain list, in the same order and without a cursor.
    second = client.get(endpoint.url, {"page_size": 2, "page": 2}).json()
    assert second["next_cursor"] is None and second["previous"] is not None
    everything, _ = catch_up(client, endpoint.url, page_size=500)
    assert [r["id"] for r in start["results"] + second["results"]] == everything[:4]
    assert mine(everything, rows) == [r.pk for r in rows]


@pytest.mark.parametrize("url", [f"{API}/allocations/", f"{API}/applications/"])
def test_an_explicit_ordering_is_the_plain_list(cast, program, api, url):
    client = api.as_user(cast.province)
    body = client.get(url, {"ordering": "-id"}).json()
    assert body["next_cursor"] is None and set(body) == {"count", "next", "previous", "next_cursor", "results"}


def test_cursor_with_page_or_ordering_is_refused_naming_cursor(cast, program, api, endpoint):
    endpoint.make(program, "330106")
    client = api.as_user(cast.province)
    _, cursor = catch_up(client, endpoint.url)
    refused = [{"page": 2}, {"page": 1}]
    if endpoint.name != "unions":  # the union list has no ordering
        refused.append({"ordering": "id"})
    for params in refused:
        response = client.get(endpoint.url, {"cursor": cursor, **params})
        assert response.status_code == 400, params
        assert list(response.json()) == ["cursor"]


def test_a_cursor_of_another_list_is_refused(cast, program, api):
    client = api.as_user(cast.province)
    _, cursor = catch_up(client, f"{API}/unions/")
    for other in ("allocations", "applications"):
        response = client.get(f"{API}/{other}/", {"cursor": cursor})
        assert response.status_code == 400 and "cursor" in response.json()


def test_a_forged_or_damaged_cursor_is_refused(cast, api, endpoint):
    client = api.as_user(cast.province)
    _, cursor = catch_up(client, endpoint.url)
    label = {"allocations": "grants.allocation", "applications": "grants.application", "unions": "members.union"}
    ahead = feed.encode_cursor(feed.Position(10**15, 0), label[endpoint.name])  # past the database's position
    for bad in (cursor[:-2], cursor[:10] + ("A" if cursor[10] != "A" else "B") + cursor[11:], "abc", "!!", ahead):
        response = client.get(endpoint.url, {"cursor": bad})
        assert response.status_code == 400, bad
        assert list(response.json()) == ["cursor"]


def test_a_disbursement_or_an_expenditure_brings_its_allocation_back(cast, program, api):
    """Tranches and expenditures are read in the allocation's detail: recording one writes the allocation
    row, so the allocations feed tells a client which details to read again."""
    allocation, other = _new_allocation(program, "330106"), _new_allocation(program, "330110")
    client = api.as_user(cast.auditor)
    _, cursor = catch_up(client, f"{API}/allocations/")
    disburse(allocation, "20000.00")
    seen, cursor = catch_up(client, f"{API}/allocations/", cursor)
    assert seen == [allocation.pk]
    spend(allocation, "500.00")
    body = pull(client, f"{API}/allocations/", cursor)[1]
    assert [(r["id"], r["spent_amount"]) for r in body["results"]] == [(allocation.pk, "500.00")]
    assert other.pk not in [r["id"] for r in body["results"]]


def test_exports_refuse_a_cursor(cast, program, api):
    client = api.as_user(cast.province)
    _, cursor = catch_up(client, f"{API}/allocations/")
    for fmt in ("csv", "xlsx"):
        assert client.get(f"{API}/allocations/", {"format": fmt}).status_code == 200
        response = client.get(f"{API}/allocations/", {"format": fmt, "cursor": cursor})
        assert response.status_code == 400, fmt


def test_the_openapi_schema_documents_cursor_and_next_cursor():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path in ("/api/v1/allocations/", "/api/v1/applications/", "/api/v1/unions/"):
        operation = schema["paths"][path]["get"]
        assert "cursor" in {p["name"] for p in operation["parameters"]}, path
        page = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        properties = schema["components"]["schemas"][page]["properties"]
        assert properties["next_cursor"]["nullable"] is True, path
        assert {"count", "next", "previous", "results"} <= set(properties), path
    # Lists that are no feed do not offer a cursor.
    assert "cursor" not in {p["name"] for p in schema["paths"]["/api/v1/programs/"]["get"]["parameters"]}
