"""Bearer-token check for the API and pages. Constant-time compare so the token cannot be guessed a
byte at a time from response timings."""

from __future__ import annotations

import hmac

COOKIE = "sre_expert_token"
MIN_TOKEN_CHARS = 16


def token_ok(expected: str | None, presented: str | None) -> bool:
    """True when auth is off (expected is None) or the presented token matches."""
    if expected is None:
        return True
    if not presented:
        return False
    return hmac.compare_digest(presented.encode(), expected.encode())


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None
