"""Bearer-token check for the API, and the sign-in sessions of the pages. Constant-time compare so the
token cannot be guessed a byte at a time from response timings.

The pages' cookie carries a random session id, never the API token: a cookie ends up in browser profiles,
proxies' logs and screenshots of developer tools, and the token it would leak also posts alerts. The
session table lives in the server's memory (only hashes of the ids), so a restart signs everyone out.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import threading
import time
from collections.abc import Callable

COOKIE = "sre_expert_session"
MIN_TOKEN_CHARS = 16
SESSION_SECONDS = 12 * 3600  # one on-call shift
MAX_SESSIONS = 10_000  # past this the oldest sessions are dropped: sign-ins cannot grow memory without end


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


class Sessions:
    """Server-side sign-in sessions: a random id in the cookie, its SHA-256 and expiry here."""

    def __init__(self, ttl: float = SESSION_SECONDS, *, clock: Callable[[], float] = time.monotonic,
                 limit: int = MAX_SESSIONS) -> None:
        self.ttl, self.clock, self.limit = ttl, clock, limit
        self._expiry: dict[str, float] = {}  # sha256(id) -> monotonic expiry, oldest first
        self._lock = threading.Lock()

    @staticmethod
    def _key(session_id: str) -> str:
        return hashlib.sha256(session_id.encode()).hexdigest()

    def create(self) -> str:
        """A new session id (256 random bits) valid for `ttl` seconds."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        with self._lock:
            self._purge(now)
            while len(self._expiry) >= self.limit:
                self._expiry.pop(next(iter(self._expiry)))
            self._expiry[self._key(session_id)] = now + self.ttl
        return session_id

    def valid(self, session_id: str | None) -> bool:
        if not session_id or len(session_id) > 128:
            return False
        with self._lock:
            expiry = self._expiry.get(self._key(session_id))
            if expiry is None:
                return False
            if expiry <= self.clock():
                del self._expiry[self._key(session_id)]
                return False
            return True

    def delete(self, session_id: str | None) -> bool:
        """Sign out: the id stops working at once. True when it was a live session."""
        if not session_id:
            return False
        with self._lock:
            return self._expiry.pop(self._key(session_id), None) is not None

    def __len__(self) -> int:
        with self._lock:
            self._purge(self.clock())
            return len(self._expiry)

    def _purge(self, now: float) -> None:
        for key in [k for k, exp in self._expiry.items() if exp <= now]:
            del self._expiry[key]


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
