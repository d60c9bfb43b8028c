"""The pages' input fields for numbers and dates, and bridging service refusals onto Django forms.

Every number and date field of a page's form is one of the fields below (a test walks every form), for
the same reasons as the API's (``unionfunds.core.fields``): Django's own read ``１２３`` and ``1_000`` as
numbers, take integers of any size and dates of any year.
"""

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from .dates import EARLIEST, LATEST, range_error
from .errors import ApplicationError
from .fields import DECIMAL_TEXT
from .identifiers import mask_personal_text
from .money import MONEY_MAX, MONEY_MAX_DIGITS, parse_money

WHOLE_NUMBER_TEXT = re.compile(r"-?[0-9]+")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(
            attrs={"min": EARLIEST.isoformat(), "max": LATEST.isoformat(), **(attrs or {})}, format="%Y-%m-%d"
        )


class DateField(forms.DateField):
    """A date within ``core.dates.EARLIEST``–``LATEST`` (a browser's date box lets one type year 0001)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", DateInput())
        super().__init__(**kwargs)

    def to_python(self, value):
        day = super().to_python(value)
        if day is not None and not EARLIEST <= day <= LATEST:
            raise ValidationError(range_error(), code="range")
        return day


class WholeNumberField(forms.IntegerField):
    """ASCII digits only: Django's IntegerField also takes "1.0" and full-width "１２", which no client means."""

    def to_python(self, value):
        if value not in self.empty_values and not WHOLE_NUMBER_TEXT.fullmatch(str(value).strip()):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class IntegerField(WholeNumberField):
    """A whole number in ASCII digits, between bounds that fit its column (both required)."""

    def __init__(self, *, min_value: int, max_value: int, **kwargs):
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)


class DecimalField(forms.DecimalField):
    """Django's, reading ASCII digits only (rates, weights and scores; money is ``MoneyField``)."""

    def to_python(self, value):
        if value not in self.empty_values and not DECIMAL_TEXT.fullmatch(str(value)):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class MoneyField(forms.DecimalField):
    """An amount in yuan as ``core.money.parse_money`` reads it: ASCII digits, at most two decimals."""

    def __init__(self, *, min_value=Decimal(0), max_value=MONEY_MAX, **kwargs):
        super().__init__(
            max_digits=MONEY_MAX_DIGITS, decimal_places=2, min_value=min_value, max_value=max_value, **kwargs
        )

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_money(str(value))
        except ValueError as exc:
            # As a parameter: the message quotes what was typed, which may hold a "%".
            raise ValidationError("%(reason)s", code="invalid", params={"reason": str(exc)}) from None


def call_service(form: forms.Form, fn: Callable[[], Any]) -> Any | None:
    """Run ``fn``; on a refusal attach its message to ``form`` and return None. Refusals may echo what
    was sent: every message goes through the one mask for ID and phone numbers."""
    try:
        return fn()
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                target = field if field in form.fields else None
                for error in errors:
                    for message in error.messages:
                        message = mask_personal_text(str(message))
                        form.add_error(target, message if target else f"{form_label(form, field)}{message}")
        else:
            for message in exc.messages:
                form.add_error(None, mask_personal_text(str(message)))
    except (ApplicationError, PermissionDenied) as exc:
        form.add_error(None, mask_personal_text(str(getattr(exc, "detail", exc))))
    return None


def form_label(form: forms.Form, field: str) -> str:
    return "" if field in ("__all__", "non_field_errors") else _("%(field)s：") % {"field": field}


def errors_to_messages(request, form: forms.Form) -> None:
    """Every error of ``form`` as a page message, each field's under its label (for forms that redirect
    back to the page they came from instead of showing themselves again)."""
    from django.contrib import messages

    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, _("%(label)s：%(error)s") % {"label": label, "error": error} if label else error)
