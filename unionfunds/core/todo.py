"""What waits on a user (待办): the kinds of work each app registers, asked by the home page, the nav badge
and ``GET /api/v1/todo/``.

Each app registers its kinds in its ``AppConfig.ready()`` with a *provider*: a function of (user, limit)
that answers how many items of that kind wait on the user and the first ``limit`` of them, oldest first
(``limit=0`` asks for the count alone, which is what the nav badge needs). Providers read through the
app's scoped selectors, so nobody is shown work outside their scope. The core knows nothing of the apps:
dependencies keep pointing down.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import clock


@dataclass(frozen=True)
class TodoItem:
    """One thing to do: what (``title``), where it is done (``url``), by when (``due_on``, optional) and
    since when it waits (``since``: what "oldest first" orders by)."""

    id: int | str
    title: str
    url: str
    due_on: dt.date | None = None
    since: dt.datetime | dt.date | None = None

    @property
    def overdue_days(self) -> int:
        """Whole days past ``due_on`` (0 when not due yet or without a due date)."""
        if self.due_on is None:
            return 0
        return max((clock.today() - self.due_on).days, 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "url": self.url,
            "due_on": self.due_on.isoformat() if self.due_on else None,
            "overdue_days": self.overdue_days,
        }


@dataclass
class TodoGroup:
    kind: str
    label: str
    count: int
    items: list[TodoItem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "count": self.count, "items": [item.as_dict() for item in self.items]}


Provider = Callable[[Any, int], tuple[int, list[TodoItem]]]


@dataclass(frozen=True)
class Kind:
    code: str
    label: Any  # a lazy translation
    provider: Provider
    order: int


_KINDS: dict[str, Kind] = {}


def register(code: str, label: Any, provider: Provider, *, order: int = 100) -> None:
    """Register (or replace, on a second ``ready()``) the provider of one kind of work."""
    _KINDS[code] = Kind(code, label, provider, order)


def kinds() -> list[Kind]:
    return sorted(_KINDS.values(), key=lambda k: (k.order, k.code))


def groups_for(user: Any, *, limit: int = 10) -> list[TodoGroup]:
    """The kinds of work waiting on ``user`` (only those with something to do), each with its count and
    its first ``limit`` items oldest first."""
    groups = []
    for kind in kinds():
        count, items = kind.provider(user, limit)
        if count:
            groups.append(TodoGroup(kind.code, str(kind.label), count, list(items)))
    return groups


def total_for(user: Any) -> int:
    """How many items wait on ``user`` in all (the nav badge): counts only, one query per kind at most."""
    return sum(kind.provider(user, 0)[0] for kind in kinds())
