"""Money: Decimal with two places, never float (docs/rules.md)."""

import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext

from django.utils.translation import gettext as _

FEN = Decimal("0.01")
MONEY_MAX_DIGITS = 14
MONEY_DECIMAL_PLACES = 2
# The largest amount a money column (14 digits, 2 places) holds.
MONEY_MAX = Decimal(10) ** (MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES) - FEN


# An amount as text: ASCII digits, optionally a point and more digits (at most two are accepted below).
# Python's Decimal also reads full-width and Arabic-Indic digits, "1_000", "1e3", "+5" and " nan": no one
# writes money that way here, and a clerk's "１２３" should be told, not silently read.
AMOUNT_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
# The same for the OpenAPI schema: a non-negative amount of at most 12 + 2 digits.
AMOUNT_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"


def parse_money(value) -> Decimal:
    """A non-negative Decimal with at most two decimal places, or ValueError saying why.

    Takes a Decimal, an int (exact) or a string of ASCII digits with an optional point; never a float
    (``0.1`` is not one tenth) and never text in other digits or notations.
    """
    if isinstance(value, float):
        raise ValueError(_('金额不能是浮点数，请用字符串，如 "60000.00"。'))
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value)
    elif isinstance(value, str) and AMOUNT_TEXT.fullmatch(value.strip()):
        amount = Decimal(value.strip())
    else:
        amount = None
    if amount is None or not amount.is_finite():
        raise ValueError(_("「%(value)s」不是有效金额，请用半角数字书写，如 60000.00。") % {"value": value})
    if amount < 0:
        raise ValueError(_("金额不能为负数。"))
    if amount > MONEY_MAX:
        # Checked before quantize, which raises InvalidOperation beyond the context's precision.
        raise ValueError(_("金额不能超过 %(max)s 元。") % {"max": format_money(MONEY_MAX)})
    if amount != amount.quantize(FEN):
        raise ValueError(_("金额最多两位小数（精确到分）。"))
    return abs(amount).quantize(FEN)  # abs: "-0" is zero, not "-0.00"


def split_by_weights(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights``, each part rounded down to the fen, the remainder
    on the last part, so the parts add up to ``total`` exactly and none is negative."""
    if not weights:
        raise ValueError("no weights to split by")
    total = Decimal(total)
    if total < 0 or total != total.quantize(FEN):
        raise ValueError("the total must be a non-negative amount with at most two places")
    weights = [Decimal(w) for w in weights]
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    whole = sum(weights, Decimal("0"))
    if whole <= 0:
        raise ValueError("weights must add up to more than zero")
    total = total.quantize(FEN)
    with localcontext() as ctx:
        ctx.prec = 60  # exact enough for any 14-digit total times any 14-digit weight
        parts = [(total * w / whole).quantize(FEN, rounding=ROUND_DOWN) for w in weights[:-1]]
    parts.append(total - sum(parts, Decimal("0.00")))
    return parts


def format_money(amount: Decimal | None) -> str:
    """60000 -> '60,000.00'."""
    if amount is None:
        return ""
    return f"{Decimal(amount).quantize(FEN, rounding=ROUND_HALF_UP):,.2f}"


def format_rate(rate: Decimal | None) -> str:
    """0.5250 -> '52.50%' (a rate of four places shown exactly, as pages and reports show it); None -> '—'."""
    if rate is None:
        return "—"
    return f"{(Decimal(rate) * 100).quantize(FEN, rounding=ROUND_HALF_UP)}%"


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ["", "拾", "佰", "仟"]
_BIG_UNITS = ["", "万", "亿", "万亿"]


def _four_digits(n: int) -> str:
    out, zero = "", False
    for position in range(3, -1, -1):
        digit = n // 10**position % 10
        if digit == 0:
            zero = bool(out)
        else:
            if zero:
                out += "零"
                zero = False
            out += _DIGITS[digit] + _SMALL_UNITS[position]
    return out


def to_chinese_capital(amount: Decimal) -> str:
    """Amount in Chinese financial capitals (大写), e.g. 60000 -> 陆万元整, 1234.05 -> 壹仟贰佰叁拾肆元零伍分."""
    amount = Decimal(amount).quantize(FEN, rounding=ROUND_HALF_UP)
    if amount < 0:
        return "负" + to_chinese_capital(-amount)
    yuan = int(amount)
    fen_total = int((amount - yuan) * 100)
    jiao, fen = divmod(fen_total, 10)
    text = ""
    if yuan:
        groups = []
        while yuan:
            groups.append(yuan % 10000)
            yuan //= 10000
        need_zero = False
        for index in range(len(groups) - 1, -1, -1):
            group = groups[index]
            if group == 0:
                need_zero = bool(text)
                continue
            if text and (need_zero or group < 1000):
                text += "零"
            text += _four_digits(group) + _BIG_UNITS[index]
            need_zero = False
        text += "元"
    if not jiao and not fen:
        return (text or "零元") + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif text:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    else:
        text += "整"
    return text
