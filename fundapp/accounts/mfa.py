"""Two-step verification with an authenticator app (TOTP, RFC 6238, through pyotp), its QR code
(segno, an inline SVG the page's CSP allows) and one-time recovery codes.

The writes (enrolling, using a code, resetting) are in accounts.operations; this module only
computes.
"""

import hmac
import re
import secrets

import pyotp
import segno
from flask import current_app

from .models import token_digest, wall_clock

STEP_SECONDS = 30
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from paper


def new_secret():
    return pyotp.random_base32()


def provisioning_uri(email, secret):
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=current_app.config["MFA_ISSUER"])


def qr_svg_data_uri(uri):
    return segno.make(uri, error="m").svg_data_uri(scale=4, border=2)


def grouped(secret):
    """The secret as people type it into an app: groups of four."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def matching_step(secret, code, *, after=None):
    """The time step whose code is `code` (this one or its neighbours, for clocks a little off),
    newer than `after`; None when the code does not match."""
    code = re.sub(r"\s", "", code or "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    now = int(wall_clock().timestamp()) // STEP_SECONDS
    for step in (now - 1, now, now + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def new_recovery_codes():
    """[(code shown once, its digest to keep)]."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        code = f"{raw[:5]}-{raw[5:]}"
        codes.append((code, recovery_digest(code)))
    return codes


def recovery_digest(code):
    return token_digest(re.sub(r"[^a-z0-9]", "", (code or "").lower()))


def looks_like_recovery_code(code):
    return len(re.sub(r"[^a-z0-9]", "", (code or "").lower())) == 10
