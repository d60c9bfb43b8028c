"""The registry of kinds of work: apps register providers; the core asks them, skipping empty kinds."""

import datetime as dt

import pytest

from unionfunds.core import clock, todo


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(todo, "_KINDS", {})
    return todo


def test_groups_list_only_kinds_with_work_in_their_order_and_the_badge_counts_all(registry):
    item = todo.TodoItem(1, "核实工会", "/unions/1/", due_on=dt.date(2026, 3, 1))
    registry.register("b_kind", "乙", lambda user, limit: (3, [item][:limit]), order=2)
    registry.register("a_kind", "甲", lambda user, limit: (1, [item][:limit]), order=1)
    registry.register("empty", "丙", lambda user, limit: (0, []), order=0)
    groups = registry.groups_for(object(), limit=1)
    assert [(g.kind, g.label, g.count, len(g.items)) for g in groups] == [
        ("a_kind", "甲", 1, 1),
        ("b_kind", "乙", 3, 1),
    ]
    assert registry.total_for(object()) == 4


def test_an_item_is_overdue_by_whole_days_past_its_due_date():
    item = todo.TodoItem(1, "提交自评", "/x/", due_on=dt.date(2026, 3, 1))
    with clock.travel(dt.datetime(2026, 3, 1, 23, 0)):
        assert item.overdue_days == 0
    with clock.travel(dt.datetime(2026, 3, 4, 9, 0)):
        assert item.overdue_days == 3
        assert item.as_dict() == {"id": 1, "title": "提交自评", "url": "/x/", "due_on": "2026-03-01", "overdue_days": 3}
    assert todo.TodoItem(2, "无期限", "/y/").overdue_days == 0
