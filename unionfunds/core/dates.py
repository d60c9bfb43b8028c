"""The one rule for dates people type (API, pages, roster files): a year this system can mean.

Python dates run from year 1 to 9999 and every parser here took them all, so a member could join in
0001 and leave in 9999. Every date input goes through ``check_date``: within ``EARLIEST``–``LATEST``,
and not after today for what has already happened (joined, left, elected, founded, paid, spent).
The API's and the forms' date fields apply the range as they parse (``unionfunds.core.fields`` and
``unionfunds.core.forms``); services apply both again, for every caller.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from . import clock

EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2100, 12, 31)


def range_error() -> str:
    return _("日期应在 %(earliest)s 至 %(latest)s 之间。") % {
        "earliest": EARLIEST.isoformat(),
        "latest": LATEST.isoformat(),
    }


def date_error(value: dt.date, *, past: bool = False, future_message: str | None = None) -> str | None:
    """Why ``value`` is not an acceptable date (None if it is). ``past``: it must not be after today."""
    if not EARLIEST <= value <= LATEST:
        return range_error()
    if past and value > clock.today():
        return future_message or _("日期不能晚于今天。")
    return None


def check_date(value: dt.date, field: str, *, past: bool = False, future_message: str | None = None) -> dt.date:
    """``value``, or ValidationError naming ``field``."""
    error = date_error(value, past=past, future_message=future_message)
    if error:
        raise ValidationError({field: error})
    return value
