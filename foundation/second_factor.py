"""A TOTP second factor (RFC 6238: 6 digits, 30-second steps, via pyotp) for the roles a city
asks it of (``totp_roles``), and for anyone who enrolled.

A code is accepted for the current step or one either side (clock drift), and only once: the
last step used is kept on the user, so a code seen over a shoulder cannot be replayed.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

from foundation.users import User

STEP_S = 30


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (typed in, or as a QR code)."""
    return pyotp.TOTP(secret, interval=STEP_S).provisioning_uri(name=username,
                                                                 issuer_name=issuer)


def check_code(user: User, code: str, now: datetime) -> bool:
    """True when ``code`` is the user's code at ``now`` (one step of drift) and not used
    before; the step it matched is remembered."""
    if not user.totp_secret:
        return False
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return False
    totp = pyotp.TOTP(user.totp_secret, interval=STEP_S)
    step = int(now.timestamp()) // STEP_S
    for candidate in (step - 1, step, step + 1):
        if candidate <= (user.totp_last_step or -1):
            continue
        if hmac.compare_digest(totp.at(candidate * STEP_S).encode(), code.encode()):
            user.totp_last_step = candidate
            return True
    return False
