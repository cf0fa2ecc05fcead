"""Bearer-token check for the API and pages. Constant-time compare so the token cannot be guessed a
byte at a time from response timings."""

from __future__ import annotations

import hmac
import ipaddress

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


def loopback_host(host_header: str | None) -> bool:
    """Does a Host header name this machine (localhost, 127.0.0.0/8, ::1)? With auth off (loopback only), a
    page on any web site can still reach the server by DNS rebinding (its own name resolving to 127.0.0.1);
    the browser then sends that name as Host, which is how it is told apart."""
    if not host_header:
        return False
    host = host_header.strip()
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
