"""The mechanics of the second factor (django-otp): TOTP secrets, QR codes, checking a code.

Who must use it is the accounts' business (``members.models.User.two_factor_required``); this module only
knows devices. A user has at most one confirmed TOTP device (an authenticator app) and one static device
holding their one-time recovery codes. Wrong codes are reported to django-axes as failed logins, so they
count towards the same lockout (per username and address) as wrong passwords.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from urllib.parse import quote, urlencode

import segno
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import audit_record

ISSUER = "浙江省总工会专项经费"
SECRET_BYTES = 20  # 160 bits, what RFC 4226 recommends and authenticator apps expect
RECOVERY_CODES = 10
TOTP_DIGITS = 6


def new_secret() -> str:
    """A fresh TOTP secret, base32 without padding (what authenticator apps accept typed in)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def secret_key(secret: str) -> bytes:
    """The key bytes of a base32 secret (spaces and case ignored); ValueError if it is not one."""
    text = "".join(secret.split()).upper()
    if not text:
        raise ValueError("empty secret")
    try:
        key = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        raise ValueError("not base32") from None
    if len(key) < 10:  # under 80 bits is too weak to accept, even from a script
        raise ValueError("too short")
    return key


def grouped(secret: str) -> str:
    """``JBSW Y3DP EHPK 3PXP`` — easier to type into a phone than one long word."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(username: str, secret: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    label = quote(f"{ISSUER}:{username}")
    query = urlencode({"secret": secret, "issuer": ISSUER, "algorithm": "SHA1", "digits": TOTP_DIGITS, "period": 30})
    return f"otpauth://totp/{label}?{query}"


def qr_svg(uri: str) -> str:
    """The QR code as inline SVG markup: no image request, nothing from outside the page."""
    return segno.make(uri, error="m").svg_inline(border=2, dark="#102a43", omitsize=True)


def normalise(code: str) -> str:
    """What the user typed, without spaces or dashes (codes are shown grouped), lower case."""
    return "".join(ch for ch in str(code or "") if ch not in " -\t").lower()


def code_matches(secret: str, code: str, *, at: float | None = None) -> int | None:
    """The time step a TOTP code is valid for (this, the previous or the next 30 s), or None."""
    code = normalise(code)
    if not (code.isdigit() and len(code) == TOTP_DIGITS):
        return None
    totp = TOTP(secret_key(secret), digits=TOTP_DIGITS)
    totp.time = time.time() if at is None else at
    return totp.t() if totp.verify(int(code), tolerance=1) else None


def has_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def install(user, secret: str, *, last_t: int = -1, recovery: bool = True) -> list[str]:
    """Replace the user's devices by a confirmed TOTP device for ``secret`` and, with ``recovery``, ten
    new recovery codes (returned, to be shown once). Callers are services: they check and audit."""
    remove(user)
    TOTPDevice.objects.create(
        user=user, name="authenticator", key=secret_key(secret).hex(), confirmed=True, last_t=last_t, digits=TOTP_DIGITS
    )
    if not recovery:
        return []
    device = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return [f"{code[:4]}-{code[4:]}" for code in codes]


def remove(user) -> int:
    """Delete every device of the user (their recovery codes go with the static device)."""
    totp, static = TOTPDevice.objects.filter(user=user), StaticDevice.objects.filter(user=user)
    count = totp.count() + static.count()
    totp.delete()
    static.delete()
    return count


def verify(user, code: str):
    """The device that accepts ``code`` (a TOTP code, or a recovery code, which is then used up), or None.

    A TOTP code is accepted once (django-otp remembers the last time step used). Using a recovery code is
    written to the audit trail with the number left, so the owner and the auditors can see it happened.
    """
    code = normalise(code)
    if not code:
        return None
    is_totp = code.isdigit() and len(code) == TOTP_DIGITS
    model = TOTPDevice if is_totp else StaticDevice
    with transaction.atomic():
        for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
            if device.verify_token(code):
                if not is_totp:
                    audit_record(
                        action="user.recovery_code_used",
                        obj=user,
                        by=user,
                        after={"recovery_codes_left": device.token_set.count()},
                    )
                return device
    return None


def report_failure(request, username: str) -> None:
    """Tell django-axes a login failed at the second step: it counts like a wrong password."""
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)
