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


class LoginThrottle:
    """At most `limit` POST /login attempts per client address in any `window` seconds; past that the
    client is told when it may try again (429 + Retry-After). A 16-character token cannot be guessed at 5
    tries a minute, and a client that tries cannot slow the server either. Every attempt counts, right or
    wrong (a browser logs in once and then carries the cookie).

    Behind a reverse proxy every client shares the proxy's address (not checked: X-Forwarded-For is
    not trusted, since any client can send it). Memory is bounded: past `max_clients` addresses the
    ones with no attempt inside the window are forgotten, then the oldest."""

    def __init__(self, limit: int = 5, window: float = 60.0, *, clock=None, max_clients: int = 10_000) -> None:
        import time
        from collections import OrderedDict, deque

        self.limit, self.window, self.max_clients = limit, window, max_clients
        self._clock = clock or time.monotonic
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._deque = deque

    def attempt(self, client: str) -> float | None:
        """Record an attempt by `client`; None when it may proceed, else the seconds until it may."""
        now = self._clock()
        times = self._seen.get(client)
        if times is None:
            self._forget(now)
            times = self._seen[client] = self._deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.limit:
            return max(1.0, times[0] + self.window - now)
        times.append(now)
        self._seen.move_to_end(client)
        return None

    def _forget(self, now: float) -> None:
        if len(self._seen) < self.max_clients:
            return
        for key in [k for k, t in self._seen.items() if not t or t[-1] <= now - self.window]:
            del self._seen[key]
        while len(self._seen) >= self.max_clients:
            self._seen.popitem(last=False)

    def __len__(self) -> int:
        return len(self._seen)
