"""Passwords built from the username are refused (``unionfunds.core.passwords.UsernamePasswordValidator``).

The rule, compared without case, accents of width (ＯＵＨＡＩ) or separators:
- a username of 4 or more characters may not appear in the password at all;
- a shorter one may, but once every occurrence is taken out (again and again, as taking one out can join
  two halves of another) and digits and symbols are dropped, at least 4 characters must be left.
"""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import translation

from members.models import User
from unionfunds.core.passwords import UsernamePasswordValidator


def refused(username: str, password: str) -> bool:
    try:
        UsernamePasswordValidator().validate(password, User(username=username))
    except ValidationError:
        return True
    return False


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("ouhai", "ouhai-ouhai-1"),  # what got through: the name twice, a digit and dashes
        ("ouhai", "OUHAI-2026-abc!"),  # the name in capitals, with something else
        ("ouhai", "Ｏｕｈａｉ-Ｏｕｈａｉ-1"),  # full-width letters, as a Chinese keyboard types them
        ("ouhai", "1-Ouhai-Climbing-Horse"),  # a long name is not allowed anywhere
        ("union_xixi", "UnionXixi#2026"),  # separators of the username do not count
        ("county.330106", "County330106!"),
        ("wl", "wl-wl-wl-2024A"),  # a short name repeated: only "a" is left
        ("ab", "aabb-Xy-12!"),  # a-(ab)-b: taking "ab" out leaves "ab" again, then only "xy"
        ("张三", "张三张三-2024!Ab"),
    ],
)
def test_passwords_made_of_the_username_are_refused(username, password):
    assert refused(username, password)


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("ouhai", "Qz7!matrix-Pw"),
        ("ouhai", "Ouha1-Climbing"),  # close, but not the name
        ("wl", "wl-Climbing-Horse-7"),  # a short name inside a real password
        ("a", "Abcdefgh-12"),  # a one-letter name is in most passwords
        ("张三", "张三-Climbing-7"),
        ("t_officer", "Test-pass-2026"),
        ("", "ouhai-ouhai-1"),  # no username to compare with
    ],
)
def test_real_passwords_pass(username, password):
    assert not refused(username, password)


def test_without_a_user_nothing_is_compared():
    UsernamePasswordValidator().validate("ouhai-ouhai-1", None)


def test_it_is_one_of_the_projects_validators_with_its_message_in_both_languages():
    with pytest.raises(ValidationError) as zh:
        validate_password("ouhai-ouhai-1", User(username="ouhai"))
    assert any("用户名" in m for m in zh.value.messages)
    with translation.override("en"), pytest.raises(ValidationError) as en:
        validate_password("ouhai-ouhai-1", User(username="ouhai"))
    assert any("username" in m for m in en.value.messages)
