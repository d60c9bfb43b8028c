"""Checks and masks for the identifiers of docs/rules.md §10.

Pure functions, no Django models: each validator returns the normalised value or raises
``django.core.exceptions.ValidationError`` with a message a person can act on.
"""

import datetime as dt
import hashlib
import hmac
import re
from urllib.parse import unquote_plus

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

# GB 32100-2015: 31 characters, no I, O, S, V, Z.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
UNION_CREDIT_CODE_PREFIX = "81"  # registering authority 8 (trade unions), category 1

# GB 11643-1999.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
ID_PATTERN = re.compile(r"^\d{17}[\dX]$")
PHONE_PATTERN = re.compile(r"^1[3-9]\d{9}$")


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str, *, union: bool = True) -> str:
    code = (value or "").strip().upper()
    if len(code) != 18:
        raise ValidationError(_("统一社会信用代码应为 18 位，现为 %(n)d 位。") % {"n": len(code)}, code="length")
    bad = sorted({c for c in code if c not in CREDIT_CODE_ALPHABET})
    if bad:
        raise ValidationError(
            _("统一社会信用代码含有不允许的字符：%(chars)s（不使用 I、O、S、V、Z）。")
            % {"chars": pgettext("list separator", "、").join(bad)},
            code="alphabet",
        )
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _("统一社会信用代码校验位错误：第 18 位应为 %(expected)s，而不是 %(got)s。")
            % {"expected": expected, "got": code[17]},
            code="checksum",
        )
    if union and not code.startswith(UNION_CREDIT_CODE_PREFIX):
        raise ValidationError(_("工会的统一社会信用代码应以 81 开头（登记管理部门 8 为工会，类别 1）。"), code="prefix")
    return code


def id_number_check_char(first17: str) -> str:
    return ID_CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def validate_id_number(value: str, *, today: dt.date | None = None) -> str:
    number = (value or "").strip().upper()
    if not ID_PATTERN.match(number):
        raise ValidationError(_("身份证号应为 18 位：17 位数字加 1 位数字或 X。"), code="format")
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("身份证号第 7–14 位不是有效的出生日期。"), code="birth_date") from None
    if born > (today or dt.date.today()) or born.year < 1900:
        raise ValidationError(_("身份证号第 7–14 位的出生日期不合理。"), code="birth_date")
    expected = id_number_check_char(number[:17])
    if number[17] != expected:
        raise ValidationError(
            _("身份证号校验位错误：第 18 位应为 %(expected)s。") % {"expected": expected}, code="checksum"
        )
    return number


def gender_from_id_number(number: str) -> str:
    """'M' or 'F' from the 17th digit (odd is male)."""
    return "M" if int(number[16]) % 2 else "F"


def validate_phone(value: str) -> str:
    phone = re.sub(r"[\s-]", "", value or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not PHONE_PATTERN.match(phone):
        raise ValidationError(_("手机号应为 11 位、以 1 开头的中国大陆手机号码。"), code="phone")
    return phone


LANDLINE_PATTERN = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


def validate_contact_phone(value: str) -> str:
    """A mobile number, or a landline with area code (0571-87654321, extension allowed)."""
    text = re.sub(r"\s", "", value or "")
    if LANDLINE_PATTERN.match(text):
        return text
    try:
        return validate_phone(text)
    except ValidationError:
        raise ValidationError(
            _("联系电话应为手机号，或带区号的固定电话（如 0571-87654321）。"), code="contact_phone"
        ) from None


def mask_id_number(number: str) -> str:
    """330106199003071236 -> 330106********1236 (docs/rules.md §10): region code and last four kept."""
    if not number:
        return ""
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(phone: str) -> str:
    if not phone:
        return ""
    if phone.startswith("0"):  # landline: keep the area code and the last four
        head = phone.split("-")[0] if "-" in phone else phone[:4]
        return head + "-****" + phone[-4:] if len(phone) > 8 else "*" * len(phone)
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def id_number_digest(number: str, key: str) -> str:
    """Keyed hash used to find the same person again without keeping the number (docs/rules.md §2)."""
    return hmac.new(key.encode(), number.encode(), hashlib.sha256).hexdigest()


# ID- and phone-number-like runs in free text. Bounded by digits only, so a number glued to letters
# ("q=a330106199003071236") is found; a long hex token (a SHA-256 in an audit payload) is left whole.
_PERSONAL = re.compile(
    r"(?P<hex>(?<![0-9A-Za-z])[0-9A-Fa-f]{32,}(?![0-9A-Za-z]))"
    r"|(?P<id>(?<!\d)\d{17}[\dXx](?!\d))"
    # As people type phones and validate_phone accepts them: 138-0013-8000, 138 0013 8000, +86 13800138000.
    r"|(?P<spaced>(?<![\d+])(?:\+86[ -]?)?(1[3-9]\d)([ -]?)(\d{4})\5(\d{4})(?![\d-]))"
    r"|(?P<phone>(?<!\d)1[3-9]\d{9}(?!\d))"
)


def _mask_match(match: re.Match) -> str:
    if match.group("id"):
        return mask_id_number(match.group("id").upper())
    if match.group("spaced"):
        return mask_phone("".join(match.group(4, 6, 7)))
    if match.group("phone"):
        return mask_phone(match.group("phone"))
    return match.group(0)


def mask_personal_text(text: str) -> str:
    """``text`` with every ID-number-like and mobile-phone-like run masked (330106********1236,
    138****5678). The one mask for user-supplied text that is echoed or kept for display: error
    messages, stored file names, audit payloads, log lines.

    Percent-encoded text (a URL in a log line, a file name a browser encoded) is also decoded,
    ``+`` included, and masked as decoded when that reveals a number the encoded form hid
    (``%E5%BC%A0%E4%B8%89330106199003071236``: the ``%89`` glues a digit to the number).
    """
    if not text:
        return text
    masked = _PERSONAL.sub(_mask_match, text)
    if "%" in masked or "+" in masked:
        decoded = masked
        for _round in range(3):  # encoded twice or three times over, as proxies and logs sometimes do
            once = unquote_plus(decoded)
            if once == decoded:
                break
            decoded = once
        revealed = _PERSONAL.sub(_mask_match, decoded)
        if revealed != decoded:
            return revealed
    return masked
