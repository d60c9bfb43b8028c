"""The API's input fields for numbers and dates: strict about how they are written, bounded to the column.

DRF's own fields read ``"１２３"`` (full-width digits), ``"1_000"`` and floats as numbers, take integers of
any size (``10**20`` reached the database and overflowed its column: a 500) and dates of any year from
1 to 9999. Every serializer field that takes a number or a date is one of these (a test walks every
serializer the API uses):

- ``MoneyField``: an amount is a string of ASCII digits with at most two decimals (``"60000.00"``), read by
  ``core.money.parse_money``. Anything else is a 400 naming the field: a JSON float (``60000.0``, which
  is not an exact amount) and, to keep one form for money both ways, a JSON integer (``60000``) too.
  Written back as ``"60000.00"``.
- ``IntegerField``: a whole number between ``min_value`` and ``max_value``, both required.
- ``DecimalField``: DRF's, with ASCII digits only (rates and weights; not money).
- ``DateField``: an ISO date (ASCII) within ``core.dates.EARLIEST``–``LATEST``.
"""

import re

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .dates import EARLIEST, LATEST, range_error
from .money import AMOUNT_PATTERN, parse_money

# Whole numbers as text: ASCII digits, optionally followed by ".0…" (DRF's IntegerField takes "3.0").
_WHOLE_TEXT = re.compile(r"\s*-?[0-9]+(?:\.0+)?\s*")
# Decimals as text: ASCII digits with an optional point (no "1_000", "1e3", "NaN" or other digits).
DECIMAL_TEXT = re.compile(r"\s*-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*")


@extend_schema_field({"type": "string", "format": "decimal", "pattern": AMOUNT_PATTERN, "example": "60000.00"})
class MoneyField(serializers.Field):
    def validate_empty_values(self, data):
        if data == "" and self.allow_null:  # an HTML form's untouched optional amount
            return (True, None)
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if not isinstance(data, str | float):  # a float gets parse_money's own message
            raise serializers.ValidationError(_('金额应写成字符串，如 "60000.00"。'))
        try:
            return parse_money(data)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value):
        return f"{value:.2f}"


class IntegerField(serializers.IntegerField):
    def __init__(self, **kwargs):
        if kwargs.get("min_value") is None or kwargs.get("max_value") is None:
            raise TypeError("an API integer needs min_value and max_value that fit its column")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or (isinstance(data, str) and not _WHOLE_TEXT.fullmatch(data)):
            self.fail("invalid")
        return super().to_internal_value(data)


class DecimalField(serializers.DecimalField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or (isinstance(data, str) and not DECIMAL_TEXT.fullmatch(data)):
            self.fail("invalid")
        return super().to_internal_value(data)


class DateField(serializers.DateField):
    def to_internal_value(self, value):
        if isinstance(value, str) and not value.isascii():
            self.fail("invalid", format="YYYY-MM-DD")
        day = super().to_internal_value(value)
        if not EARLIEST <= day <= LATEST:
            raise serializers.ValidationError(range_error())
        return day
