"""Query-count guards of the members app's lists: a few rows, then several times more,
and not one query more (``tests/query_counts.py``).

| list (view) | roles | guard |
|---|---|---|
| `GET /api/v1/regions/` (`RegionViewSet`) | province, 102 rows | `test_api.py`: region list constant |
| `GET /api/v1/unions/` (`UnionViewSet`) | province | `test_api.py`: union list does not grow |
| | city, county, city auditor | `test_union_lists_api_and_page` |
| `GET /api/v1/unions/{id}/members/` | officer | `test_api.py`: member list does not grow |
| (`UnionMemberViewSet`) | province, city, county | `test_member_list_api` |
| `/` home: tiles, pending unions, per-city or | province, city, county, officer | `test_pages.py`: home (now with |
| per-county table (`views.home`) | | pending unions, so their list is measured) |
| | auditor; county (pending list) | `test_home_page` |
| `/unions/` (`views.union_list`) | province, county, officer | `test_pages.py`: union list |
| | city, city auditor | `test_union_lists_api_and_page` |
| `/unions/{id}/`: roster, accounts | province, county, officer: roster | `test_pages.py`: union detail |
| (`views.union_detail`) | city, city auditor: roster; county, | `test_union_page_roster_and_accounts` |
| | officer: roster and accounts | |
| `/accounts/locked/` (`views.locked_accounts`) | province, city, county | `test_locked_accounts_page` |
| `/audit/` (`views.audit_log`) and its CSV | province staff, auditor | `test_audit_log_page` |
| `/admin/`: regions, accounts, unions, members, | superuser | `test_admin_changelists` |
| audit events changelists (no API tokens: not in the admin) | | |

Not lists (nothing to grow): the union, member, account and password forms, the roster import page (its
error list comes from the file, not the database), the roster templates. The county choices of the union
form are the regions of the scope (at most 90, one query).
"""

import datetime as dt

from axes.models import AccessAttempt

from members.choices import Role, UnionStatus
from members.models import Member, Region, Union, User
from tests.factories import UnionFactory, add_members, lockout, make_user
from tests.query_counts import (
    Probe,
    api_client,
    assert_flat,
    html,
    matches,
    page_client,
    results,
    table_rows,
)
from unionfunds.core.audit import audit_record

# Regions written in one INSERT (the grants tests' fixture), as every test here needs fresh ones.

API = "/api/v1"
UNION_LINK = r'<td><a href="/unions/\d+/">'


def _more_unions(n: int, counties=("330106", "330110")) -> None:
    """``n`` unions over ``counties``, some pending, most with a few members."""
    for i in range(n):
        union = UnionFactory(
            county_id=counties[i % len(counties)], status=UnionStatus.PENDING if i % 3 == 0 else UnionStatus.VERIFIED
        )
        if i % 4:
            add_members(union, 1 + i % 3)


def test_union_lists_api_and_page(cast, django_assert_max_num_queries):
    add_members(cast.union_xihu, 3)
    users = cast.users()
    probes = [
        Probe.of(f"API unions as {who}", api_client(users[who]), f"{API}/unions/", _api_rows, {"page_size": 100})
        for who in ("hangzhou", "xihu", "city_auditor")
    ] + [
        Probe.of(f"union list as {who}", page_client(users[who]), "/unions/", _union_links)
        for who in ("hangzhou", "city_auditor")
    ]
    assert_flat(django_assert_max_num_queries, probes, lambda: _more_unions(14))


def _api_rows(response) -> dict[str, int]:
    return {"rows": results(response)}


def _union_links(response) -> dict[str, int]:
    return {"unions": matches(html(response), UNION_LINK)}


def _some_leave(union: Union, n: int) -> None:
    """``n`` of the union's members left (setup behind the services' back, the count kept true)."""
    Member.objects.filter(pk__in=list(Member.objects.filter(union=union).values_list("pk", flat=True)[:n])).update(
        left_on=dt.date(2025, 6, 30)
    )
    Union.objects.filter(pk=union.pk).refresh_member_counts()


def test_member_list_api(cast, django_assert_max_num_queries):
    union = cast.union_xihu
    add_members(union, 2)
    url = f"{API}/unions/{union.pk}/members/"
    probes = [
        Probe.of(f"API roster as {who}", api_client(cast.users()[who]), url, _api_rows)
        for who in ("province", "hangzhou", "xihu")
    ]

    def grow():
        add_members(union, 10)
        _some_leave(union, 3)

    assert_flat(django_assert_max_num_queries, probes, grow)


def _pending(response) -> dict[str, int]:
    section = html(response).split("<h2>待核实的工会</h2>", 1)[1].split("</section>", 1)[0]
    return {"pending": matches(section, r'<li><a href="/unions/\d+/">')}


def _union_total(response) -> dict[str, int]:
    return {"unions": int(html(response).split('<a class="tile" href="/unions/"><b>', 1)[1].split("<", 1)[0])}


def test_home_page(cast, django_assert_max_num_queries):
    UnionFactory(county_id="330106", status=UnionStatus.PENDING)
    probes = [
        Probe.of("home as county staff (pending unions)", page_client(cast.xihu), "/", _pending),
        Probe.of("home as the province's auditor", page_client(cast.auditor), "/", _union_total),
    ]

    def grow():
        for _ in range(6):
            add_members(UnionFactory(county_id="330106", status=UnionStatus.PENDING), 2)
        _more_unions(12, counties=("330110", "330212", "330302"))

    assert_flat(django_assert_max_num_queries, probes, grow)


def _roster(response) -> dict[str, int]:
    return {"roster": table_rows(html(response), "roster")}


def _roster_and_accounts(response) -> dict[str, int]:
    section = html(response).split('id="accounts"', 1)[1].split("</section>", 1)[0]
    return {**_roster(response), "accounts": matches(section, r'<li><span class="mono">')}


def test_union_page_roster_and_accounts(cast, django_assert_max_num_queries):
    union = cast.union_xihu
    add_members(union, 2)
    url = f"/unions/{union.pk}/?show=all"
    users = cast.users()
    probes = [
        Probe.of(f"union page as {who}", page_client(users[who]), url, _roster) for who in ("hangzhou", "city_auditor")
    ]
    probes += [
        Probe.of(f"union page as {who}", page_client(users[who]), url, _roster_and_accounts)
        for who in ("xihu", "officer")
    ]

    def grow():
        add_members(union, 12)
        _some_leave(union, 4)
        for n in range(3):
            make_user(f"t_officer_{n}", Role.UNION_OFFICER, union=union)

    assert_flat(django_assert_max_num_queries, probes, grow)


def _attempt(username: str) -> AccessAttempt:
    return lockout(username)


def test_locked_accounts_page(cast, django_assert_max_num_queries):
    _attempt(cast.officer.username)
    probes = [
        Probe.of(
            f"locked accounts as {who}",
            page_client(cast.users()[who]),
            "/accounts/locked/",
            lambda r: {"attempts": table_rows(html(r), "attempts")},
        )
        for who in ("province", "hangzhou", "xihu")
    ]

    def grow():
        for n in range(4):
            _attempt(make_user(f"t_locked_officer_{n}", Role.UNION_OFFICER, union=cast.union_xihu_other).username)
            _attempt(make_user(f"t_locked_staff_{n}", Role.COUNTY_STAFF, region="330106").username)

    assert_flat(django_assert_max_num_queries, probes, grow)


def _events(n: int, by) -> None:
    for union in UnionFactory.create_batch(n, county_id="330110"):
        audit_record(action="union.register", obj=union, by=by, after={"name": union.name, "status": union.status})


def test_audit_log_page(cast, django_assert_max_num_queries):
    _events(2, cast.yuhang)
    probes = [
        Probe.of(
            f"audit log as {who}",
            page_client(cast.users()[who]),
            "/audit/",
            lambda r: {"events": table_rows(html(r), "audit")},
        )
        for who in ("province", "auditor")
    ] + [
        Probe.of(
            "audit CSV export",
            page_client(cast.auditor),
            "/audit/",
            lambda r: {"events": len(r.content.decode("utf-8-sig").strip().splitlines()) - 1},
            {"format": "csv"},
        )
    ]
    assert_flat(django_assert_max_num_queries, probes, lambda: _events(20, cast.yuhang))


def _admin_rows(response) -> dict[str, int]:
    table = html(response).split('id="result_list"', 1)[1].split("</table>", 1)[0]
    return {"rows": matches(table.split("<tbody>", 1)[1], r"<tr[ >]")}


def test_admin_changelists(cast, django_assert_max_num_queries):
    """The read-only admin: every changelist shows its foreign keys without a query per row."""
    client = page_client(User.objects.create_superuser("t_ops", password="Ops-pass-2026!"))
    add_members(cast.union_xihu, 2)
    _events(2, cast.yuhang)
    level = {"value": "city"}  # regions cannot be added: 11 cities first, then the 90 counties
    probes = [
        Probe.of("admin regions", client, "/admin/members/region/", _admin_rows, lambda: {"level": level["value"]}),
        Probe.of("admin accounts", client, "/admin/members/user/", _admin_rows),
        Probe.of("admin unions", client, "/admin/members/union/", _admin_rows),
        Probe.of("admin members", client, "/admin/members/member/", _admin_rows),
        Probe.of("admin audit events", client, "/admin/core/auditevent/", _admin_rows),
    ]

    def grow():
        level["value"] = "county"
        counties = list(Region.objects.filter(parent_id="330200").values_list("code", flat=True))
        for n in range(30):
            make_user(f"t_admin_staff_{n}", Role.COUNTY_STAFF, region=counties[n % len(counties)])
        for union in UnionFactory.create_batch(10, county_id="330212"):
            add_members(union, 2)
        _events(20, cast.yuhang)

    assert_flat(django_assert_max_num_queries, probes, grow)
