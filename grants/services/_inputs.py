"""Reading what a service is given, shared by the grants services: a bad value names its field."""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from unionfunds.core.money import parse_money


def money_input(value: Any, field: str) -> Decimal:
    """An amount as ``parse_money`` reads it, else ValidationError naming ``field``."""
    try:
        return parse_money(value)
    except ValueError as exc:
        raise ValidationError({field: str(exc)}) from None
