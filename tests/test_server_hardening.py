"""serve under hostile clients (issue 12, item 5): a client sending its headers a byte at a time is cut
off; /login is throttled per client; a forged fingerprint under another group key merges into nothing."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from redaction_plant import END, PLANTED_TEXTS, leaked
from server_harness import request, start_serve, stop_serve, wait_for, webhook_payload

from sre_expert.edges.webhook.auth import LoginThrottle

pytestmark = pytest.mark.e2e

HEADER_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    db = tmp_path_factory.mktemp("hardening") / "db.sqlite"
    base, token, proc = start_serve(db, args=("--demo", "--header-timeout", str(HEADER_TIMEOUT)))
    try:
        yield base, token, db
    finally:
        stop_serve(proc)


def _connect(base: str) -> socket.socket:
    u = urlsplit(base)
    s = socket.create_connection((u.hostname, u.port), timeout=10)
    s.settimeout(0.2)
    return s


def _dribble_until_closed(s: socket.socket, data: bytes, gap: float, limit: float) -> float | None:
    """Send `data` a byte every `gap` seconds; the seconds after which the server closed, or None."""
    start = time.monotonic()
    for b in data:
        if time.monotonic() - start > limit:
            return None
        try:
            s.sendall(bytes([b]))
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - start
        try:
            got = s.recv(4096)
        except TimeoutError:
            time.sleep(max(0.0, gap - 0.2))
            continue
        except ConnectionResetError:
            return time.monotonic() - start
        if got == b"":
            return time.monotonic() - start
        raise AssertionError(f"the server answered a request it never fully received: {got[:200]!r}")
    return None


SLOW = (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 20) for i in range(20)) + b"\r\n")


def test_a_client_sending_headers_byte_by_byte_is_cut_off(server) -> None:
    base, _, _ = server
    s = _connect(base)
    try:
        closed = _dribble_until_closed(s, SLOW, gap=0.25, limit=HEADER_TIMEOUT + 8)
    finally:
        s.close()
    assert closed is not None, "the server kept a connection whose headers never finished"
    assert closed >= HEADER_TIMEOUT * 0.8
    # the server still serves everyone else
    assert request(base, "GET", "/healthz")[0] == 200


def test_the_deadline_applies_again_to_the_next_request_on_a_kept_alive_connection(server) -> None:
    base, _, _ = server
    s = _connect(base)
    try:
        s.settimeout(10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = b""
        while b"\r\n\r\n" not in first or not first.rstrip().endswith(b"}"):
            first += s.recv(4096)
        assert first.startswith(b"HTTP/1.1 200")
        s.settimeout(0.2)
        closed = _dribble_until_closed(s, SLOW, gap=0.25, limit=HEADER_TIMEOUT + 8)
    finally:
        s.close()
    assert closed is not None


def test_a_request_sent_at_once_is_not_affected(server) -> None:
    base, _, _ = server
    s = _connect(base)
    try:
        s.settimeout(10)
        s.sendall(SLOW)
        got = b""
        while not got.rstrip().endswith(b"}"):
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    finally:
        s.close()
    assert got.startswith(b"HTTP/1.1 200") and b'"ok"' in got


def test_login_attempts_are_throttled_per_client(server) -> None:
    base, token, _ = server
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    statuses = [request(base, "POST", "/login", raw=b"token=wrong-guess", headers=form)[0] for _ in range(5)]
    assert statuses == [401] * 5
    import urllib.error
    import urllib.request

    req = urllib.request.Request(base + "/login", data=f"token={token}".encode(), method="POST", headers=form)
    with pytest.raises(urllib.error.HTTPError) as e:  # even the right token waits: the limit is on attempts
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 429
    retry = int(e.value.headers["Retry-After"])
    assert 1 <= retry <= 60
    assert "too many attempts" in e.value.read().decode()
    # the API's bearer token is not throttled by the form
    assert request(base, "GET", "/api/v1/investigations", token=token)[0] == 200


def test_throttle_window_clients_and_memory() -> None:
    now = [1000.0]
    t = LoginThrottle(limit=5, window=60, clock=lambda: now[0], max_clients=3)
    assert [t.attempt("10.0.0.1") for _ in range(5)] == [None] * 5
    assert t.attempt("10.0.0.1") == pytest.approx(60)
    assert t.attempt("10.0.0.2") is None  # another client is not affected
    now[0] += 30
    assert t.attempt("10.0.0.1") == pytest.approx(30)  # refused attempts do not extend the wait
    now[0] += 30.5
    assert t.attempt("10.0.0.1") is None  # the window has passed
    for i in range(10):
        t.attempt(f"10.0.1.{i}")
    assert len(t) <= 3


def test_a_forged_fingerprint_under_another_group_key_leaves_the_group_alone(server) -> None:
    base, token, _ = server
    real = webhook_payload([{"labels": {"alertname": "KubePodCrashLooping", "severity": "critical",
                                        "namespace": "lfh-staging", "pod": "api-7d9f8b6c5d-x2kqp"}}],
                           group_key='{}/{severity="critical"}:{alertname="KubePodCrashLooping"}')
    status, body = request(base, "POST", "/api/v1/alerts", real, token=token)
    assert status == 200
    (first,) = body["investigations"]
    fp = real["alerts"][0]["fingerprint"]
    forged = webhook_payload([{"labels": {"alertname": "KubePodCrashLooping", "severity": "info",
                                          "namespace": "lfh-staging", "pod": "nothing-here"},
                               "fingerprint": fp, "status": "resolved"},
                              {"labels": {"alertname": "Noise", "namespace": "x"}}],
                             group_key='{}:{alertname="Noise"}')
    status, body = request(base, "POST", "/api/v1/alerts", forged, token=token)
    assert status == 200 and first not in body["investigations"]
    status, rec = request(base, "GET", f"/api/v1/investigations/{first}", token=token)
    assert status == 200 and rec["alertsTotal"] == 1
    assert rec["alerts"][0]["labels"]["pod"] == "api-7d9f8b6c5d-x2kqp" and rec["alerts"][0]["status"] == "firing"
    assert rec["status"] != "resolved"



def test_planted_secrets_reach_neither_the_store_nor_the_api_nor_the_pages(server) -> None:
    """Issue 12: the corpus' secrets and PHI sent as alert annotations and labels (any sender with the
    token can): not in the SQLite files, the API's JSON or the pages' HTML; the alerts themselves are."""
    base, token, db = server
    alerts = [{"labels": {"alertname": "PlantedSecrets", "severity": "warning", "namespace": "mycure-production",
                          "pod": f"api-55wcnlhq-{i:05d}", **({"note": text} if "\n" not in text else {})},
               "annotations": {"description": text, "summary": END}}
              for i, text in enumerate(PLANTED_TEXTS)]
    status, body = request(base, "POST", "/api/v1/alerts", webhook_payload(alerts, group_key="planted"), token=token)
    assert status == 200, body
    (inv,) = body["investigations"]
    rec = wait_for(base, token, inv)
    assert rec["alertsTotal"] == len(PLANTED_TEXTS)
    outputs = {"record": rec,
               "list": request(base, "GET", "/api/v1/investigations?limit=500", token=token)[1],
               "page": request(base, "GET", f"/investigations/{inv}", token=token, headers={"Accept": "text/html"})[1],
               "list page": request(base, "GET", "/", token=token, headers={"Accept": "text/html"})[1]}
    stored = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    outputs["sqlite files"] = stored.decode("utf-8", "replace")
    for name, out in outputs.items():
        assert leaked(out) == [], f"{name} leaked"
    assert END in str(outputs["record"]) and END in outputs["sqlite files"] and END in outputs["page"]
    assert "<redacted:" in str(outputs["record"])
