"""TOTP arithmetic (RFC 6238 on RFC 4226, through pyotp): codes, the step window, replay refusal.

No database and no login flow here. A code is accepted when it is the code of a time step within
`WINDOW` steps of now (±30 s of clock drift with the defaults) and that step is later than the
last step already used (`after_step`): the caller stores the step a code matched, so the same code
(or an older one) never works twice. Every step of the window is compared, in constant time, so
the answer's timing does not tell which step matched.
"""

from __future__ import annotations

import hashlib
import hmac
import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pyotp
import segno

DIGITS = 6
PERIOD = 30  # seconds per time step
WINDOW = 1  # steps accepted on either side of the current one
SECRET_LENGTH = 32  # base32 characters: 160 bits, the HMAC-SHA1 key size RFC 4226 recommends

Digest = Callable[..., Any]


def secret_new() -> str:
    """A fresh random base32 secret (160 bits)."""
    return pyotp.random_base32(SECRET_LENGTH)


def time_step(at: datetime | float, *, period: int = PERIOD) -> int:
    """The RFC 6238 counter T = floor((unix time - T0) / period), T0 = 0."""
    seconds = at.timestamp() if isinstance(at, datetime) else float(at)
    return int(seconds // period)


def _totp(secret: str, digits: int, digest: Digest, period: int) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=digits, digest=digest, interval=period)


def code_at_step(
    secret: str, step: int, *, digits: int = DIGITS, digest: Digest = hashlib.sha1
) -> str:
    """The code of time step `step` (zero-padded to `digits`)."""
    return _totp(secret, digits, digest, PERIOD).generate_otp(step)


def code_at(
    secret: str,
    at: datetime | float,
    *,
    digits: int = DIGITS,
    digest: Digest = hashlib.sha1,
    period: int = PERIOD,
) -> str:
    """The code valid at time `at`."""
    return _totp(secret, digits, digest, period).generate_otp(time_step(at, period=period))


def normalize_code(code: str | None, *, digits: int = DIGITS) -> str | None:
    """The code without spaces, if it has the shape of a code (`digits` ASCII digits)."""
    if not isinstance(code, str):
        return None
    cleaned = code.replace(" ", "").strip()
    if len(cleaned) != digits or not cleaned.isascii() or not cleaned.isdigit():
        return None
    return cleaned


def code_match(
    secret: str,
    code: str | None,
    *,
    now: datetime | float,
    after_step: int | None = None,
    window: int = WINDOW,
    digits: int = DIGITS,
    digest: Digest = hashlib.sha1,
) -> int | None:
    """The time step `code` belongs to, when it is within `window` steps of `now` and later than
    `after_step`; None otherwise (wrong, expired, replayed or malformed: one answer)."""
    cleaned = normalize_code(code, digits=digits)
    if cleaned is None:
        return None
    current = time_step(now)
    matched = None
    for step in range(current - window, current + window + 1):
        if step < 0:
            continue
        candidate = code_at_step(secret, step, digits=digits, digest=digest)
        if hmac.compare_digest(candidate.encode(), cleaned.encode()) and matched is None:
            matched = step
    if matched is None or (after_step is not None and matched <= after_step):
        return None
    return matched


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The `otpauth://totp/…` URI authenticator apps import (Key Uri Format)."""
    return _totp(secret, DIGITS, hashlib.sha1, PERIOD).provisioning_uri(
        name=account, issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    """The URI as a QR code, a standalone SVG document (no XML declaration)."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(
        buffer, kind="svg", scale=4, border=4, xmldecl=False, svgns=True, nl=False
    )
    return buffer.getvalue().decode()
