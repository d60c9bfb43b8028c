"""``change_xid`` is set by the database on every write of a tracked row, whatever wrote it: the services'
``save()``, queryset ``update()`` (``refresh_member_counts``), ``bulk_update`` (the scale generators),
``bulk_create`` and the COPY of ``unionfunds.core.bulk``. A write it missed would be a change the feed
never shows. Each write commits on its own here, as in production.
"""

import datetime as dt
import random

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection

from grants import services
from grants.choices import ApplicationStatus
from grants.models import Allocation, Application
from members import fakes
from members import services as member_services
from members.models import Union
from tests.factories import UnionFactory, add_members, approve, disburse, eligible_union, make_application, spend
from unionfunds.core import changes
from unionfunds.core.bulk import insert_rows
from unionfunds.core.errors import ApplicationError

TRACKED = [Allocation, Application, Union]


def position(row) -> int:
    return type(row).objects.values_list("change_xid", flat=True).get(pk=row.pk)


def test_the_tracked_models_are_the_pulled_lists_and_each_has_its_triggers(db):
    assert set(changes.tracked_models()) == set(TRACKED)
    for model in TRACKED:
        assert changes.has_triggers(model), model


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite rebuilds tables; PostgreSQL keeps triggers")
def test_triggers_dropped_by_a_table_rebuild_come_back_after_migrate(db):
    """SQLite rebuilds a table for most schema changes and its triggers go with it; ``migrate`` ends by
    putting them back (``CoreConfig.ready``)."""
    with connection.cursor() as cursor:
        for model in TRACKED:
            for name in changes._trigger_names(model._meta.db_table):
                cursor.execute(f"DROP TRIGGER {name}")
    assert not any(changes.has_triggers(model) for model in TRACKED)
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert all(changes.has_triggers(model) for model in TRACKED)


@pytest.mark.django_db(transaction=True)
def test_every_write_of_an_allocation_moves_it(stocked, program):
    allocation = approve(program, stocked.union_xihu, "60000.00")
    seen = [position(allocation)]
    assert seen[0] > 0  # the insert itself

    def moved():
        seen.append(position(allocation))
        assert seen[-1] > seen[-2], seen

    disburse(allocation, "30000.00")  # save(update_fields=...) under the row lock
    moved()
    spend(allocation, "1000.00")
    moved()
    Allocation.objects.filter(pk=allocation.pk).update(updated_at=allocation.updated_at)  # a queryset update
    moved()
    allocation.refresh_from_db()
    allocation.status = "partially_disbursed"
    Allocation.objects.bulk_update([allocation], ["status"])  # as the province-scale generator does
    moved()
    allocation.save()  # a whole save writes the stale change_xid it loaded: the database overrides it
    moved()


@pytest.mark.django_db(transaction=True)
def test_every_write_of_an_application_moves_it(stocked, program):
    application = make_application(program, stocked.union_xihu, until=ApplicationStatus.DRAFT)
    before = position(application)
    services.application_update(application=application, data={"plan": "改过的计划"}, by=stocked.xihu)
    after_update = position(application)
    services.application_transition(application=application, action="submit", by=stocked.xihu)
    after_submit = position(application)
    Application.objects.filter(pk=application.pk).update(priority_score=3)
    assert 0 < before < after_update < after_submit < position(application)


@pytest.mark.django_db(transaction=True)
def test_every_write_of_a_union_moves_it(cast):
    union = cast.union_xihu
    seen = [position(union)]

    def moved():
        seen.append(position(union))
        assert seen[-1] > seen[-2], seen

    member_services.union_update(union=union, data={"chair_name": "李明"}, by=cast.xihu)
    moved()
    member_services.union_transition(union=union, action="suspend", by=cast.xihu, comment="换届")
    moved()  # save(update_fields=...)
    add_members(union, 3)  # a roster change recounts the union with a queryset update
    moved()
    union.refresh_from_db()
    assert union.member_count == 3


@pytest.mark.django_db(transaction=True)
def test_bulk_inserts_get_positions_too(cast):
    """``bulk_create`` and ``insert_rows`` (COPY on PostgreSQL) write ``change_xid`` as 0, its default; the
    database numbers the rows anyway, after everything written before."""
    newest = max(position(u) for u in Union.objects.all())
    [made] = Union.objects.bulk_create([UnionFactory.build(county_id="330106", credit_code=_code(1))])
    assert position(made) > newest
    now = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    insert_rows(
        Union,
        ["name", "credit_code", "org_form", "county_id", "parent_level", "chair_name", "created_at", "updated_at"],
        [(f"批量工会{n}", _code(n + 2), "joint_union", "330106", "county", "王强", now, now) for n in range(3)],
    )
    copied = list(Union.objects.filter(name__startswith="批量工会").values_list("change_xid", flat=True))
    assert len(copied) == 3 and min(copied) > position(made)


def _code(n: int) -> str:
    return fakes.credit_code(random.Random(f"positions-{n}"), "330106")


@pytest.mark.django_db(transaction=True)
def test_a_write_that_fails_leaves_the_position(stocked, program):
    allocation = approve(program, stocked.union_xihu, "60000.00")
    before = position(allocation)
    with pytest.raises(ApplicationError):
        disburse(allocation, "60000.01")
    assert position(allocation) == before


@pytest.mark.django_db(transaction=True)
def test_the_horizon_passes_every_committed_write(stocked, program):
    """With no write in progress, everything committed is below the horizon, and it never goes back."""
    first = changes.horizon()
    allocation = approve(program, eligible_union("330110"), "10000.00")
    second = changes.horizon()
    assert first <= position(allocation) < second
    assert changes.horizon() >= second
