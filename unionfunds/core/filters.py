"""Whole-number query filters with bounds, and the same bounds in the OpenAPI schema.

django-filter's ``NumberFilter`` accepts ``1.5`` and 30-digit numbers and hands them to the database,
where they match nothing by accident or overflow the driver (a 500). These take whole numbers within
the column's range only; anything else is a 400 naming the parameter. ``BooleanFilter`` likewise
refuses what is neither true nor false instead of ignoring it (django-filter returns every row for
``?eligible=null``, which looks like an answer).
"""

from decimal import Decimal

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from .forms import MoneyField, WholeNumberField
from .money import AMOUNT_PATTERN

# Largest primary key the database can hold (BigAutoField).
MAX_ID = 2**63 - 1
MAX_SMALL = 32767
MAX_COUNT = 2**31 - 1
MAX_AMOUNT = Decimal("999999999999.99")  # Decimal(14, 2), the money columns


class _BoundedIntegerFilter(django_filters.NumberFilter):
    field_class = WholeNumberField
    low: int
    high: int

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", self.low)
        kwargs.setdefault("max_value", self.high)
        super().__init__(*args, **kwargs)

    def get_max_validator(self):
        return None  # the form field's own max_value applies


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(_BoundedIntegerFilter):
    """An object id."""

    low, high = 1, MAX_ID


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_SMALL})
class YearFilter(_BoundedIntegerFilter):
    low, high = 1, MAX_SMALL


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": MAX_COUNT})
class CountFilter(_BoundedIntegerFilter):
    low, high = 0, MAX_COUNT


@extend_schema_field({"type": "string", "format": "decimal", "pattern": AMOUNT_PATTERN, "example": "45000.00"})
class AmountFilter(django_filters.NumberFilter):
    """An amount of money: 0 to the largest amount a money column holds (``9e294`` is a 400, not a query),
    written as every amount is (``core.money.parse_money``: ASCII digits, at most two decimals)."""

    field_class = MoneyField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", Decimal(0))
        kwargs.setdefault("max_value", MAX_AMOUNT)
        super().__init__(*args, **kwargs)

    def get_max_validator(self):
        return None


class _StrictBooleanField(forms.Field):
    widget = forms.TextInput
    values = {"true": True, "True": True, "1": True, "false": False, "False": False, "0": False}

    def to_python(self, value):
        if value in (None, ""):
            return None  # not given: not filtered
        if value not in self.values:
            raise ValidationError(_("应为 true 或 false。"), code="invalid")
        return self.values[value]


class BooleanFilter(django_filters.BooleanFilter):
    field_class = _StrictBooleanField


class _NoBlankItemsCSVField(django_filters.fields.BaseCSVField):
    def clean(self, value):
        # "?ordering=," is a list of blanks: django-filter ordered by nothing, so pages could repeat rows.
        if value and any(not str(item).strip() for item in value):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": ""})
        return super().clean(value)


class OrderingFilter(django_filters.OrderingFilter):
    """``?ordering=`` as django-filter reads it, but a blank item (``,``, ``priority,``) is a 400."""

    base_field_class = _NoBlankItemsCSVField
