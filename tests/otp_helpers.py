"""Second-factor codes for tests, computed with django-otp's own TOTP helper from a known secret."""

import time

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from members import services
from unionfunds.core import otp

SECRET = "KRSXG5CUN5ZGKZLOKRSXG5CU"  # 15 bytes, known to the tests only


def step_now(step: int = 30) -> int:
    return int(time.time()) // step


def code_at(secret: str, step: int) -> str:
    """The code an authenticator app shows during time step ``step`` (30 s steps since the epoch)."""
    totp = TOTP(otp.secret_key(secret), step=30, t0=0, digits=6)
    totp.time = step * 30
    return f"{totp.token():06d}"


def give_device(user, secret: str = SECRET) -> None:
    services.otp_device_set(user=user, secret=secret)


def next_code(user, secret: str = SECRET) -> str:
    """A code the user's device accepts now: the current step, or a later one still inside the tolerance when
    this step was used already (a code is accepted once). Waits for the next step if neither is possible."""
    while True:
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        centre = step_now() + device.drift  # django-otp accepts centre ± tolerance, above the last step used
        target = max(centre, device.last_t + 1)
        if target <= centre + device.tolerance:
            return code_at(secret, target)
        time.sleep(30 - time.time() % 30 + 0.05)
