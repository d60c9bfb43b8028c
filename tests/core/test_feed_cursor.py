"""Cursors of the change feed (``unionfunds.core.feed``): opaque, signed, bound to one list; anything else
is a 400 naming ``cursor``."""

import base64

import pytest
from django.core import signing
from rest_framework.exceptions import ValidationError

from unionfunds.core.feed import Position, decode_cursor, encode_cursor

LABEL = "grants.allocation"


def forged(text: str, label: str = LABEL) -> str:
    """A cursor signed with the real key around any text: what only the server could make."""
    signed = signing.Signer(salt=f"unionfunds.core.feed:{label}").sign(text)
    return base64.urlsafe_b64encode(signed.encode()).decode().rstrip("=")


@pytest.mark.parametrize("position", [Position(0, 0), Position(7, 3), Position(2**62, 2**63 - 1)])
def test_a_cursor_comes_back_as_its_position(position):
    cursor = encode_cursor(position, LABEL)
    assert decode_cursor(cursor, LABEL) == position
    assert cursor.isascii() and all(c.isalnum() or c in "-_" for c in cursor)  # safe in a URL as it is


def test_positions_order_by_change_then_id():
    assert Position(5, 9) < Position(6, 0) < Position(6, 1)
    assert max(Position(6, 1), Position(7, 0)) == Position(7, 0)


def refused(raw: str, label: str = LABEL) -> None:
    with pytest.raises(ValidationError) as caught:
        decode_cursor(raw, label)
    assert list(caught.value.detail) == ["cursor"]


def test_a_changed_character_is_refused():
    cursor = encode_cursor(Position(1234, 56), LABEL)
    for index in range(len(cursor)):
        changed = cursor[:index] + ("B" if cursor[index] != "B" else "C") + cursor[index + 1 :]
        if changed.rstrip("=") != cursor:
            refused(changed)


@pytest.mark.parametrize("raw", ["x", "abc", "!!", "====", "MS4xLjE", "é", "A" * 4000, "MS4xLjE6"])
def test_garbage_is_refused(raw):
    refused(raw)


def test_a_cursor_of_another_list_is_refused():
    refused(encode_cursor(Position(3, 4), "members.union"))


@pytest.mark.parametrize("text", ["2.1.1", "1.-1.5", "1.5.-1", "1.5", "1.a.b", "1.1.1.1", f"1.{2**63}.1", ""])
def test_only_what_the_server_issues_is_taken_even_when_signed(text):
    refused(forged(text))
    assert decode_cursor(forged("1.5.6"), LABEL) == Position(5, 6)
