"""The one clock of the service layer.

Services ask ``clock.now()`` / ``clock.today()`` instead of the system time, so historical records
(e.g. the 2022 program entered after the fact by ``seed_demo``) can be written with ``clock.travel``
exactly as they happened, through the same rules.
"""

import contextlib
import contextvars
import datetime as dt

from django.utils import timezone

_frozen: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar("frozen_now", default=None)


def now() -> dt.datetime:
    return _frozen.get() or timezone.now()


def today() -> dt.date:
    return timezone.localdate(now())


@contextlib.contextmanager
def travel(moment: dt.datetime):
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    token = _frozen.set(moment)
    try:
        yield
    finally:
        _frozen.reset(token)


def add_years(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later (or earlier); 29 February becomes 28 February in other years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
