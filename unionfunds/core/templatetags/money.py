from decimal import Decimal, InvalidOperation

from django import template

from unionfunds.core.money import format_money, format_rate, to_chinese_capital

register = template.Library()


def _decimal(value):
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None


@register.filter
def money(value) -> str:
    """60000 -> 60,000.00 (thousands separators, two places)."""
    amount = _decimal(value)
    return "" if amount is None else format_money(amount)


@register.filter
def percent(value) -> str:
    """0.8400 -> 84.00%; None -> — (as the reports show rates)."""
    return format_rate(_decimal(value) if value is not None else None)


@register.filter
def capital(value) -> str:
    """60000 -> 陆万元整."""
    amount = _decimal(value)
    return "" if amount is None else to_chinese_capital(amount)
