"""GET requests to the API server over the official client's raw path, with timeouts and retries.

The `kubernetes` client builds the URL and authentication (tokens, exec plugins, client certificates,
in-cluster service account) with `ApiClient.param_serialize` and sends it with `ApiClient.call_api`,
the layer its typed methods use with `_preload_content=False`: the body arrives as bytes and is parsed
with orjson, never into typed models. The retry policy is ours, because the sweep needs one that is
bounded and visible: 429 (honouring Retry-After), 5xx, connection resets, timeouts and truncated bodies
are retried with exponential backoff and jitter; 4xx answers are final and become collection errors.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Callable, Sequence
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

JSON = "application/json"
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})

# The canonical `error` values of a collection error (a bundle's errors and the report's "Not checked" use them).
FORBIDDEN = "forbidden"
NOT_INSTALLED = "not installed"
TIMED_OUT = "timed out"
TRUNCATED = "truncated response"
UNAUTHORIZED = "unauthorized"
CONNECTION_REFUSED = "connection refused"
NAME_NOT_RESOLVED = "host name not resolved"


class RequestFailed(Exception):
    """A GET that did not succeed after its retries. `error` is the short text a report shows."""

    def __init__(self, error: str, status: int | None = None, detail: str = "", attempts: int = 1):
        super().__init__(f"{error}{f' ({detail})' if detail else ''}")
        self.error = error
        self.status = status
        self.detail = detail
        self.attempts = attempts


class _Retryable(Exception):
    def __init__(self, error: str, status: int | None = None, detail: str = "", wait: float | None = None):
        super().__init__(error)
        self.error, self.status, self.detail, self.wait = error, status, detail, wait


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _status_message(body: bytes) -> str:
    """The `message` of a metav1.Status body, else the first line of the body."""
    try:
        doc = orjson.loads(body)
        if isinstance(doc, dict) and doc.get("message"):
            return str(doc["message"])[:300]
    except orjson.JSONDecodeError:
        pass
    return body[:200].decode("utf-8", "replace").strip().splitlines()[0] if body.strip() else ""


def error_for_status(status: int) -> str:
    if status == 403:
        return FORBIDDEN
    if status == 404:
        return NOT_INSTALLED
    if status == 401:
        return UNAUTHORIZED
    return f"HTTP {status}"


class HttpClient:
    """Thread-safe GETs against one API server. Counts requests so a sweep can prove its cost."""

    def __init__(
        self,
        api_client: Any,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        max_retry_after: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.api = api_client
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._lock = threading.Lock()
        self.requests = 0
        self.retried = 0
        self.bytes = 0

    @property
    def host(self) -> str:
        return str(self.api.configuration.host)

    def get_json(self, path: str, query: Sequence[tuple[str, Any]] = (), accept: str = JSON,
                 retries: int | None = None) -> Any:
        return self._get(path, query, accept, parse=True, retries=retries)

    def get_text(self, path: str, query: Sequence[tuple[str, Any]] = ()) -> str:
        data = self._get(path, query, "text/plain, */*", parse=False)
        return data.decode("utf-8", "replace")

    # ------------------------------------------------------------------------------------------------
    def _get(self, path: str, query: Sequence[tuple[str, Any]], accept: str, parse: bool,
             retries: int | None = None) -> Any:
        limit = self.retries if retries is None else retries
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._once(path, query, accept, parse)
            except _Retryable as r:
                if attempt > limit:
                    raise RequestFailed(r.error, r.status, r.detail, attempt) from None
                with self._lock:
                    self.retried += 1
                self._sleep(self._delay(attempt, r.wait))

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        base = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        return base * (0.5 + random.random() / 2)

    def _once(self, path: str, query: Sequence[tuple[str, Any]], accept: str, parse: bool) -> Any:
        import urllib3
        from kubernetes.client.exceptions import ApiException

        method, url, headers, _, _ = self.api.param_serialize(
            method="GET", resource_path=path, query_params=list(query) or None,
            header_params={"Accept": accept}, auth_settings=["BearerToken"],
        )
        with self._lock:
            self.requests += 1
        deadline = time.monotonic() + self.timeout
        try:
            resp = self.api.call_api(method, url, header_params=headers,
                                     _request_timeout=(min(10.0, self.timeout), self.timeout))
        except ApiException as e:  # the client turns TLS failures into status 0: not worth retrying
            raise RequestFailed("TLS or connection setup failed", None, str(e.reason or e).splitlines()[-1]) from None
        except urllib3.exceptions.NewConnectionError as e:  # a subclass of the timeout: test it first
            what = connect_error(e)  # refused / not resolved say it all; urllib3's text repeats the address
            raise _Retryable(what, None, "" if what in (CONNECTION_REFUSED, NAME_NOT_RESOLVED) else _short(e)) from None
        except urllib3.exceptions.TimeoutError:
            raise _Retryable(TIMED_OUT, None, f"no answer within {self.timeout:g}s") from None
        except urllib3.exceptions.HTTPError as e:  # refused, reset, DNS: the server may be restarting
            raise _Retryable(connect_error(e), None, _short(e)) from None
        raw = resp.response
        try:
            body = self._read(raw, deadline)
        finally:
            raw.release_conn()
        status = resp.status
        with self._lock:
            self.bytes += len(body)
        if status >= 400:
            detail = _status_message(body)
            if status in RETRY_STATUS:
                wait = retry_after_seconds(raw.headers.get("Retry-After")) if status in (429, 503) else None
                raise _Retryable(error_for_status(status), status, detail, wait)
            raise RequestFailed(error_for_status(status), status, detail)
        if not parse:
            return body
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as e:
            raise _Retryable(TRUNCATED, status, f"{len(body)} bytes, {e}") from None

    def _read(self, raw: Any, deadline: float) -> bytes:
        """The whole body, or a retryable error when it stops short or outlasts the request timeout."""
        import urllib3

        chunks: list[bytes] = []
        try:
            for chunk in raw.stream(1 << 20, decode_content=True):
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raw.close()
                    raise _Retryable(TIMED_OUT, None, f"body not complete within {self.timeout:g}s")
        except urllib3.exceptions.TimeoutError:
            raise _Retryable(TIMED_OUT, None, f"body stalled for {self.timeout:g}s") from None
        except urllib3.exceptions.HTTPError as e:  # IncompleteRead, connection reset mid-body
            raise _Retryable(TRUNCATED, None, _short(e)) from None
        return b"".join(chunks)


def connect_error(e: BaseException) -> str:
    """What kind of connection failure this is, in the words a person checks next: refused (nothing
    listens: wrong port, server down), name not resolved (DNS), else connection failed. urllib3 makes
    its connect failures subclasses of its timeout, so without this a refusal reads as "timed out"."""
    inner: BaseException | None = e
    for _ in range(8):  # bounded: exception chains can loop
        if inner is None:
            break
        if isinstance(inner, ConnectionRefusedError):
            return CONNECTION_REFUSED
        if type(inner).__name__ == "NameResolutionError" or isinstance(inner, socket.gaierror):
            return NAME_NOT_RESOLVED
        nxt = inner.args[-1] if inner.args and isinstance(inner.args[-1], BaseException) else None
        inner = nxt or inner.__cause__ or inner.__context__
    text = str(e)
    if "Connection refused" in text:
        return CONNECTION_REFUSED
    return "connection failed"


def _short(e: BaseException) -> str:
    """A transport error in a few words: urllib3 nests the useful part (IncompleteRead, the errno)."""
    inner: BaseException | None = e
    for _ in range(8):  # bounded: exception chains can loop
        if inner is None:
            break
        partial, expected = getattr(inner, "partial", None), getattr(inner, "expected", None)
        if isinstance(partial, int) and isinstance(expected, int):
            return f"{partial} bytes read, {expected} more expected"
        nxt = inner.args[-1] if inner.args and isinstance(inner.args[-1], BaseException) else None
        inner = nxt or inner.__cause__ or inner.__context__
    text = str(e).strip().splitlines()
    return (text[-1] if text else type(e).__name__)[:200]
