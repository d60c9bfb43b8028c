"""Property: whatever the interleaving of writes and pulls (and page sizes), a client of the change feed
receives a row only when it is new or written since it last received it, in the order of the writes, and
holds exactly the database's rows whenever it has caught up.

SQLite only: it numbers every write, even inside the test's one transaction. On PostgreSQL the writes of
one transaction share its id (they are one change); the races of separate transactions are in
``test_change_feed_races.py``.
"""

import itertools
import random

import pytest
from django.db import connection
from django.db.models import F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from members import fakes
from members.models import Union
from tests.factories import UnionFactory

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="writes of one test transaction share an id")

URL = "/api/v1/unions/"
_codes = itertools.count(1)

WRITE = st.tuples(st.just("write"), st.integers(0, 5))
NEW = st.tuples(st.just("new"), st.just(0))
PULL = st.tuples(st.just("pull"), st.integers(1, 4))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.one_of(WRITE, NEW, PULL), max_size=30))
def test_any_interleaving_of_writes_and_pulls(cast, api, steps):
    client = api.as_user(cast.xihu)  # the county's scope: its unions only
    rows = list(Union.objects.for_user(cast.xihu).order_by("id"))
    cursor, copy, pending, order = None, {}, {u.pk for u in rows}, []

    def pull(size: int) -> bool:
        nonlocal cursor
        body = client.get(URL, {"page_size": size, **({"cursor": cursor} if cursor else {})}).json()
        for row in body["results"]:
            assert row["id"] in pending, f"union {row['id']} came again without a write"
            pending.discard(row["id"])
            copy[row["id"]] = row["committee_size"]
        got = [row["id"] for row in body["results"]]
        positions = dict(Union.objects.filter(pk__in=got).values_list("pk", "change_xid"))
        order.extend(positions[pk] for pk in got)
        assert order == sorted(order), "rows out of the order of their writes"  # across pulls too
        cursor = body["next_cursor"]
        return body["next"] is None

    for action, value in steps:
        if action == "write":
            union = rows[value % len(rows)]
            Union.objects.filter(pk=union.pk).update(committee_size=F("committee_size") + 1)
            pending.add(union.pk)
        elif action == "new":
            union = UnionFactory(
                county_id="330106", credit_code=fakes.credit_code(random.Random(next(_codes)), "330106")
            )
            rows.append(union)
            pending.add(union.pk)
        else:
            pull(value)
    while not pull(3):
        pass
    assert not pending
    assert copy == dict(Union.objects.for_user(cast.xihu).values_list("pk", "committee_size"))
