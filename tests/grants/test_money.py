"""Money helpers (docs/rules.md): splitting an allocation over funding sources, Chinese capitals, parsing."""

import re
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from unionfunds.core.money import format_money, parse_money, split_by_weights, to_chinese_capital

FEN = Decimal("0.01")
amounts = st.decimals(min_value=0, max_value=Decimal("999999999999.99"), places=2, allow_nan=False)
weights = st.lists(
    st.decimals(min_value=0, max_value=Decimal("999999999999.99"), places=2, allow_nan=False), min_size=1, max_size=6
).filter(lambda ws: sum(ws) > 0)


@settings(database=None, deadline=None)
@given(total=amounts, weights=weights)
@example(total=Decimal("60000.00"), weights=[Decimal("6000000.00"), Decimal("9000000.00")])
@example(total=Decimal("0.01"), weights=[Decimal("1"), Decimal("1"), Decimal("1")])
@example(total=Decimal("100.00"), weights=[Decimal("1"), Decimal("1"), Decimal("1")])
@example(total=Decimal("999999999999.99"), weights=[Decimal("999999999999.99"), Decimal("0.01")])
def test_split_by_weights_adds_up_exactly_with_the_remainder_on_the_last(total, weights):
    parts = split_by_weights(total, weights)

    assert len(parts) == len(weights)
    assert sum(parts) == total
    for part in parts:
        assert part >= 0
        assert part.as_tuple().exponent == -2, part
    whole = sum(weights)
    for part, weight in zip(parts[:-1], weights[:-1], strict=True):
        share = total * weight / whole
        # Rounded down to the fen: never above the exact share, less than one fen below it.
        assert share - FEN < part <= share
    # What the rounding left over lands on the last part only, and is less than one fen per other part.
    last_share = total * weights[-1] / whole
    assert last_share <= parts[-1] < last_share + FEN * len(weights)


def test_split_of_a_60000_grant_over_the_2022_sources_is_40_60():
    parts = split_by_weights(Decimal("60000.00"), [Decimal("6000000.00"), Decimal("9000000.00")])
    assert parts == [Decimal("24000.00"), Decimal("36000.00")]
    parts = split_by_weights(Decimal("33333.33"), [Decimal("6000000.00"), Decimal("9000000.00")])
    assert parts == [Decimal("13333.33"), Decimal("20000.00")]


def test_split_into_three_equal_sources_puts_the_extra_fen_last():
    assert split_by_weights(Decimal("100.00"), [Decimal(1)] * 3) == [
        Decimal("33.33"),
        Decimal("33.33"),
        Decimal("33.34"),
    ]


def test_split_of_a_whole_number_with_one_source_still_has_two_places():
    (part,) = split_by_weights(Decimal("5"), [Decimal("1")])
    assert part == Decimal("5.00") and part.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("total", "weights"),
    [
        (Decimal("10.00"), []),
        (Decimal("10.00"), [Decimal("0"), Decimal("0")]),
        (Decimal("10.00"), [Decimal("-1"), Decimal("2")]),
        (Decimal("-10.00"), [Decimal("1")]),
        (Decimal("10.005"), [Decimal("1")]),
    ],
)
def test_split_refuses_what_cannot_be_split_exactly(total, weights):
    with pytest.raises(ValueError):
        split_by_weights(total, weights)


@pytest.mark.parametrize(
    ("amount", "capitals"),
    [
        ("60000", "陆万元整"),
        ("60000.00", "陆万元整"),
        ("15000000", "壹仟伍佰万元整"),
        ("1234.05", "壹仟贰佰叁拾肆元零伍分"),
        ("100010", "壹拾万零壹拾元整"),
        ("0.5", "伍角整"),
        ("0.05", "伍分"),
        ("0", "零元整"),
        ("1.20", "壹元贰角整"),
        ("10.25", "壹拾元贰角伍分"),
        ("1001", "壹仟零壹元整"),
        ("10010000", "壹仟零壹万元整"),
        ("1000001", "壹佰万零壹元整"),
        ("100000001", "壹亿零壹元整"),
        ("100001000", "壹亿零壹仟元整"),
        ("24000.00", "贰万肆仟元整"),
        ("36000.00", "叁万陆仟元整"),
    ],
)
def test_to_chinese_capital(amount, capitals):
    assert to_chinese_capital(Decimal(amount)) == capitals


def test_format_money_has_thousands_separators_and_two_places():
    assert format_money(Decimal("15000000")) == "15,000,000.00"
    assert format_money(Decimal("60000.5")) == "60,000.50"
    assert format_money(None) == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("60000", "60000.00"),
        ("60000.5", "60000.50"),
        ("60000.00", "60000.00"),
        (" 12 ", "12.00"),
        ("0", "0.00"),
        ("-0", "0.00"),
        ("999999999999.99", "999999999999.99"),
        (Decimal("7"), "7.00"),
        (7, "7.00"),
    ],
)
def test_parse_money_accepts_strings_and_decimals(raw, expected):
    parsed = parse_money(raw)
    assert parsed == Decimal(expected)
    assert str(parsed) == expected


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (0.1, "浮点数"),
        (60000.0, "浮点数"),
        ("100.005", "两位小数"),
        ("-1", "负数"),
        ("-0.01", "负数"),
        ("abc", "「abc」"),
        ("", "不是有效金额"),
        ("NaN", "不是有效金额"),
        ("Infinity", "不是有效金额"),
        ("1000000000000", "不能超过"),
        ("9" * 400, "不能超过"),
        (Decimal("NaN"), "不是有效金额"),
        (True, "不是有效金额"),
        (None, "不是有效金额"),
        # Only ASCII digits with an optional point: Python's Decimal reads all of these as numbers.
        ("１２３", "半角数字"),  # full-width
        ("١٢٣", "半角数字"),  # Arabic-Indic
        ("1_000", "半角数字"),
        ("1e3", "半角数字"),
        ("1e30", "半角数字"),
        ("+5", "半角数字"),
        ("1,234.05", "半角数字"),
        ("60000.", "半角数字"),
        (".5", "半角数字"),
    ],
)
def test_parse_money_refuses_with_a_reason(raw, words):
    with pytest.raises(ValueError, match=words):
        parse_money(raw)


@settings(database=None, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=20))
@example(text="１２３")
@example(text="1_000")
@example(text="٣")
def test_parse_money_reads_only_ascii_digits_with_at_most_two_decimals(text):
    try:
        amount = parse_money(text)
    except ValueError:
        return
    assert re.fullmatch(r"-?[0-9]+(\.[0-9]{1,2})?", text.strip()), text
    assert amount == Decimal(text.strip()) and amount >= 0


@settings(database=None, deadline=None)
@given(amount=amounts)
def test_parse_money_reads_back_every_amount_it_writes(amount):
    assert parse_money(f"{amount:.2f}") == amount
