import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from unionfunds.core.identifiers import (
    CREDIT_CODE_ALPHABET,
    credit_code_check_char,
    gender_from_id_number,
    id_number_check_char,
    mask_id_number,
    mask_phone,
    validate_credit_code,
    validate_id_number,
    validate_phone,
)

# Published examples: the national standard's sample ID and real unified social credit codes.
GOOD_IDS = ["11010519491231002X", "330106199003071236"]
GOOD_CREDIT_CODES = ["91350100M000100Y43", "91110000600037341L"]


@pytest.mark.parametrize("number", GOOD_IDS)
def test_known_good_id_numbers_pass(number):
    assert validate_id_number(number) == number


def test_lower_case_x_is_accepted_and_normalised():
    assert validate_id_number("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "fragment"),
    [
        ("110105194912310021", "校验位"),  # wrong check digit
        ("11010519491331002X", "出生日期"),  # month 13
        ("1101051949123100", "18 位"),
        ("11010519491231002Y", "18 位"),
        ("110105290012310029", "出生日期"),  # born in 2900
    ],
)
def test_bad_id_numbers_say_what_is_wrong(number, fragment):
    with pytest.raises(ValidationError) as exc:
        validate_id_number(number, today=dt.date(2026, 1, 1))
    assert fragment in exc.value.messages[0]


def test_gender_comes_from_the_17th_digit():
    assert gender_from_id_number("11010519491231002X") == "F"
    assert gender_from_id_number("330106199003071236") == "M"


@pytest.mark.parametrize("code", GOOD_CREDIT_CODES)
def test_known_good_credit_codes_pass_the_checksum(code):
    assert validate_credit_code(code, union=False) == code


def test_union_credit_code_must_start_with_81():
    with pytest.raises(ValidationError) as exc:
        validate_credit_code("91350100M000100Y43")
    assert "81" in exc.value.messages[0]


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("91350100M000100Y44", "校验位"),
        ("91350100M000100Y4", "18 位"),
        ("91350100M00010OY43", "不允许的字符"),  # letter O
    ],
)
def test_bad_credit_codes_say_what_is_wrong(code, fragment):
    with pytest.raises(ValidationError) as exc:
        validate_credit_code(code, union=False)
    assert fragment in exc.value.messages[0]


@given(st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=17, max_size=17))
def test_every_generated_credit_code_validates_and_any_other_check_char_fails(body):
    code = body + credit_code_check_char(body)
    assert validate_credit_code(code, union=False) == code
    wrong = next(c for c in CREDIT_CODE_ALPHABET if c != code[-1])
    with pytest.raises(ValidationError):
        validate_credit_code(body + wrong, union=False)


@given(st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2010, 12, 31)), st.integers(0, 999))
def test_every_generated_id_number_validates(born, seq):
    body = f"330106{born:%Y%m%d}{seq:03d}"
    assert validate_id_number(body + id_number_check_char(body))


def test_masks_hide_the_middle():
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_phone("13812345678") == "138****5678"


def test_phone_validation():
    assert validate_phone("+86 138-1234-5678") == "13812345678"
    with pytest.raises(ValidationError):
        validate_phone("12345")
