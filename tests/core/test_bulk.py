"""``insert_rows``: what the province generator and roster imports write in bulk comes back unchanged,
on SQLite (executemany) and PostgreSQL (COPY), and a broken constraint is Django's IntegrityError."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from members.models import Member, Union
from unionfunds.core.bulk import insert_rows
from unionfunds.core.models import AuditEvent

from ..factories import UnionFactory

AWKWARD = "tab\there, new\nline, back\\slash, ' \" 中文（全角）"


@pytest.mark.django_db
def test_rows_come_back_as_written_with_defaults_for_the_columns_not_named(regions):
    union = UnionFactory(county_id="330106")
    at = dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.UTC)
    written = insert_rows(
        Member,
        ["union_id", "name", "id_number_hash", "id_number_masked", "gender", "group", "joined_on", "created_at",
         "updated_at"],
        [
            (union.pk, AWKWARD, "h1", "330106********1234", "F", "courier", dt.date(2024, 1, 2), at, at),
            (union.pk, "李四", "h2", "330106********5678", "M", "food_delivery", dt.date(2024, 1, 3), at, at),
        ],
    )  # fmt: skip
    assert written == 2
    first, second = Member.objects.filter(union=union).order_by("id")
    assert first.name == AWKWARD
    assert (first.joined_on, first.created_at, first.left_on) == (dt.date(2024, 1, 2), at, None)
    assert (first.phone, first.platform) == ("", "")  # not named: the field's default
    assert second.name == "李四"


@pytest.mark.django_db
def test_json_booleans_decimals_and_nulls(regions):
    union = UnionFactory(county_id="330106", funds_hard_to_guarantee=False)
    insert_rows(
        AuditEvent,
        ["at", "actor_username", "action", "object_type", "object_id", "object_repr", "after"],
        [(dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "system", "test.bulk", "members.union", str(union.pk), AWKWARD,
          {"amount": "60000.00", "note": AWKWARD, "ok": True, "none": None})],
    )  # fmt: skip
    event = AuditEvent.objects.get(action="test.bulk")
    assert event.after == {"amount": "60000.00", "note": AWKWARD, "ok": True, "none": None}
    assert event.object_repr == AWKWARD
    assert event.actor_id is None and event.ip is None
    assert Union.objects.get(pk=union.pk).funds_hard_to_guarantee is False
    assert Decimal("60000.00") == Decimal(event.after["amount"])


@pytest.mark.django_db
def test_a_broken_constraint_is_an_integrity_error_and_writes_nothing(regions):
    union = UnionFactory(county_id="330106")
    at = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    row = (union.pk, "张三", "same-person", "330106********1234", "F", "courier", dt.date(2024, 1, 2), at, at)
    fields = ["union_id", "name", "id_number_hash", "id_number_masked", "gender", "group", "joined_on",
              "created_at", "updated_at"]  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Member, fields, [row, row])  # one person twice in one union
    assert not Member.objects.exists()
