"""A slow writer never slips past a client of the change feed (PostgreSQL, two connections).

A transaction writes a row first and commits last; another writes a second row and commits in between; a
client pulls in between and again after. A client that moves a mark to the newest ``updated_at`` it saw
loses the first row for good (its ``updated_at`` is older than the mark). A client of the cursor gets both:
the second row is held back while the first writer is still open, then both come, in order.

Run: DATABASE_URL=postgres://... pytest tests/grants/test_change_feed_races.py --create-db
"""

import datetime as dt
import threading

import psycopg2
import pytest
from django.db import connection, transaction

from unionfunds.core.feed import decode_cursor

from .test_change_feed import ENDPOINTS, catch_up, pull

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LABELS = {"allocations": "grants.allocation", "applications": "grants.application", "unions": "members.union"}


class SlowWriter:
    """``touch(row)`` in a transaction of its own thread and connection, committed (or rolled back) on cue."""

    def __init__(self, touch, row):
        self.wrote, self.finish = threading.Event(), threading.Event()
        self.commit, self.xid, self.error = True, None, None
        self.thread = threading.Thread(target=self._run, args=(touch, row))

    def _run(self, touch, row):
        try:
            with transaction.atomic():
                touch(row)
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_current_xact_id_if_assigned()::text::bigint")
                    self.xid = cursor.fetchone()[0]
                self.wrote.set()
                assert self.finish.wait(30)
                transaction.set_rollback(not self.commit)
        except Exception as exc:  # asserted on in the main thread
            self.error = exc
        finally:
            self.wrote.set()
            connection.close()

    def start(self) -> "SlowWriter":
        self.thread.start()
        assert self.wrote.wait(30) and self.error is None, self.error
        return self

    def end(self, *, commit: bool = True) -> None:
        self.commit = commit
        self.finish.set()
        self.thread.join(30)
        assert not self.thread.is_alive() and self.error is None, self.error


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_write_that_commits_late_is_seen_on_the_next_pull(cast, program, api, endpoint):
    first, second = endpoint.make(program, "330106"), endpoint.make(program, "330110")
    model = type(first)
    client = api.as_user(cast.province)
    _, cursor = catch_up(client, endpoint.url)

    slow = SlowWriter(endpoint.touch, first).start()  # writes first (gets the lower transaction id) ...
    endpoint.touch(second)  # ... this one writes later and commits at once

    # The pull in between: the slow writer's row is not visible, and the committed second row is held back,
    # because a transaction below it is still open. The cursor does not move past the open transaction.
    ids, body = pull(client, endpoint.url, cursor)
    assert ids == []
    held = body["next_cursor"]
    assert decode_cursor(held, LABELS[endpoint.name]).xid <= slow.xid
    # A client that marks the newest updated_at it saw takes the second row's: later than the first's.
    late_mark = model.objects.get(pk=second.pk).updated_at

    slow.end(commit=True)
    written_first = model.objects.get(pk=first.pk)
    assert written_first.updated_at < late_mark  # what a timestamp mark passes over
    assert written_first.change_xid == slow.xid < model.objects.get(pk=second.pk).change_xid

    seen, cursor = catch_up(client, endpoint.url, held)
    assert seen == [first.pk, second.pk]  # both, in the order their transactions wrote
    assert catch_up(client, endpoint.url, cursor)[0] == []


def test_updated_after_alone_loses_the_late_commit_that_the_cursor_gets(cast, program, api):
    """The same race read through ``updated_after`` as the old sync loop did: the late commit is lost."""
    endpoint = next(e for e in ENDPOINTS if e.name == "allocations")
    first, second = endpoint.make(program, "330106"), endpoint.make(program, "330110")
    client = api.as_user(cast.auditor)

    def by_time(mark):
        params = {"ordering": "updated_at", "page_size": 500, **({"updated_after": mark} if mark else {})}
        return client.get(endpoint.url, params).json()["results"]

    rows = by_time(None)
    mark = max(rows, key=lambda r: dt.datetime.fromisoformat(r["updated_at"]))["updated_at"]
    _, cursor = catch_up(client, endpoint.url)

    slow = SlowWriter(endpoint.touch, first).start()
    endpoint.touch(second)
    changed = by_time(mark)
    assert [r["id"] for r in changed] == [second.pk]
    mark = changed[-1]["updated_at"]
    ids, body = pull(client, endpoint.url, cursor)
    assert ids == []  # held back: the first writer is still open
    cursor = body["next_cursor"]
    slow.end(commit=True)

    assert by_time(mark) == []  # the first row's change is older than the mark: never seen this way
    body = pull(client, endpoint.url, cursor, page_size=500)[1]
    assert [(r["id"], r["disbursed_amount"]) for r in body["results"]] == [(first.pk, "100.00"), (second.pk, "100.00")]


def test_a_write_rolled_back_holds_nothing_back_afterwards(cast, program, api):
    endpoint = next(e for e in ENDPOINTS if e.name == "allocations")
    first, second = endpoint.make(program, "330106"), endpoint.make(program, "330110")
    client = api.as_user(cast.province)
    _, cursor = catch_up(client, endpoint.url)
    slow = SlowWriter(endpoint.touch, first).start()
    endpoint.touch(second)
    ids, body = pull(client, endpoint.url, cursor)
    assert ids == []
    slow.end(commit=False)
    seen, cursor = catch_up(client, endpoint.url, body["next_cursor"])
    assert seen == [second.pk]
    assert catch_up(client, endpoint.url, cursor)[0] == []


def test_a_transaction_of_another_database_holds_nothing_back(cast, program, api):
    """The horizon counts this database's transactions only: another database on the same server (another
    application, a test run) keeping a write transaction open does not stop the feed."""
    endpoint = next(e for e in ENDPOINTS if e.name == "unions")
    client = api.as_user(cast.province)
    _, cursor = catch_up(client, endpoint.url)
    settings = connection.settings_dict
    other = psycopg2.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"], password=settings["PASSWORD"],
        dbname="postgres",
    )  # fmt: skip
    try:
        with other.cursor() as elsewhere:
            elsewhere.execute("CREATE TEMP TABLE elsewhere (x int); INSERT INTO elsewhere VALUES (1)")
            elsewhere.execute("SELECT pg_current_xact_id_if_assigned()::text::bigint")
            assert elsewhere.fetchone()[0] is not None  # a write transaction, open
            union = endpoint.make(program, "330106")  # committed after it started
            assert catch_up(client, endpoint.url, cursor)[0] == [union.pk]
    finally:
        other.rollback()
        other.close()
