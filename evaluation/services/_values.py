"""Reading the numbers a service is given (weights, rates, scores) as bounded Decimals."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def bounded_decimal(value: Any, field: str, *, low: Decimal, high: Decimal, places: int = 3) -> Decimal:
    """``value`` as a Decimal between ``low`` and ``high`` with at most ``places`` decimals, else a
    ValidationError naming ``field``."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("「%(value)s」不是有效数字。") % {"value": value}}) from None
    if not number.is_finite() or not low <= number <= high:
        raise ValidationError({field: _("应在 %(low)s 到 %(high)s 之间。") % {"low": low, "high": high}})
    if number != round(number, places):
        raise ValidationError(
            {field: ngettext("最多 %(places)d 位小数。", "最多 %(places)d 位小数。", places) % {"places": places}}
        )
    return number
