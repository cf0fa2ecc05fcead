"""Pieces of an HA `serve` setup for tests and benchmarks: an Alertmanager pair that gossips on loopback,
a round-robin proxy standing in for the Kubernetes Service in front of the replicas (and writing down
which webhook each replica acknowledged), and a notification receiver that counts deliveries per
`Idempotency-Key`.

Why a proxy rather than both Alertmanagers posting to both replicas: in the cluster Alertmanager knows
one URL, the Service's, and the Service picks a pod; a webhook that reaches a killed pod fails and
Alertmanager retries it. The proxy does the same (round robin per request, 502 when the replica is gone)
and, since it sees every answer, it is the witness of which alerts were acknowledged with a 200.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from server_harness import alertmanager, free_port

INV_ID = re.compile(r"\binv-[0-9a-f]{12}\b")


# ------------------------------------------------------------------------------------ Alertmanager pair
@contextmanager
def alertmanager_pair(tmp: Path, config: Mapping[str, Any], *, peer_timeout: str = "500ms") -> Iterator[list[str]]:
    """Two real Alertmanagers clustered over loopback (each peers with the other), each with its own
    storage and log under tmp/am0, tmp/am1; yields their URLs. Short gossip and push-pull intervals so the
    notification log reaches the peer within a test; `peer_timeout` is how long the second in the
    cluster's order waits before sending what the first should have sent."""
    ports = [free_port(), free_port()]
    with ExitStack() as stack:
        urls = []
        for i in (0, 1):
            d = tmp / f"am{i}"
            d.mkdir(parents=True, exist_ok=True)
            cluster = (f"--cluster.listen-address=127.0.0.1:{ports[i]}",
                       f"--cluster.advertise-address=127.0.0.1:{ports[i]}",
                       f"--cluster.peer=127.0.0.1:{ports[1 - i]}",
                       "--cluster.gossip-interval=50ms", "--cluster.pushpull-interval=1s",
                       f"--cluster.peer-timeout={peer_timeout}", "--cluster.settle-timeout=2s")
            urls.append(stack.enter_context(alertmanager(d, config, cluster=cluster)))
        yield urls


def cluster_size(url: str) -> int:
    """How many peers this Alertmanager sees (its /api/v2/status)."""
    conn = http.client.HTTPConnection(url.removeprefix("http://"), timeout=5)
    try:
        conn.request("GET", "/api/v2/status")
        doc = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    return len(doc.get("cluster", {}).get("peers") or [])


# ------------------------------------------------------------------------------------ the Service
@dataclass
class Forwarded:
    """One webhook the proxy forwarded: to which replica, the answer, and what it carried."""
    backend: int
    status: int  # 502: the replica was not there (refused, or died before answering)
    group_key: str
    alerts: list[tuple[str, str]]  # (fingerprint, status)
    investigations: list[str] = field(default_factory=list)  # the ids a 200 named
    seconds: float = 0.0  # how long the replica took to answer
    at: float = 0.0  # when it was sent (time.monotonic())


class RoundRobinProxy:
    """An HTTP proxy for POST /api/v1/alerts over a mutable list of replica URLs, round robin per request.
    A replica that refuses the connection or dies mid-request is answered for with 502, as an ingress
    would; the sender (Alertmanager) retries. Every forward is recorded in `log`."""

    def __init__(self, backends: list[str], timeout: float = 30.0) -> None:
        self.backends = list(backends)
        self.timeout = timeout
        self.log: list[Forwarded] = []
        self.sender_gone = 0  # answers the sender was no longer there to read
        self.last_request = time.monotonic()
        self._lock = threading.Lock()
        self._next = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Alertmanager's client expects

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = outer.forward(self.path, body, {k: v for k, v in self.headers.items()
                                                                 if k.lower() in ("authorization", "content-type")})
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:  # the sender gave up waiting (its timeout): it will retry; the log says so
                    outer.sender_gone += 1
                    self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> RoundRobinProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def set_backend(self, i: int, url: str) -> None:
        with self._lock:
            self.backends[i] = url

    def forward(self, path: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        with self._lock:
            i = self._next % len(self.backends)
            self._next += 1
            base = self.backends[i]
            self.last_request = time.monotonic()
        try:
            doc = json.loads(body)
            group_key = str(doc.get("groupKey"))
            alerts = [(a["fingerprint"], a["status"]) for a in doc.get("alerts") or ()]
        except (ValueError, KeyError, TypeError, AttributeError):
            group_key, alerts = "", []
        conn = http.client.HTTPConnection(base.removeprefix("http://"), timeout=self.timeout)
        started = time.monotonic()
        try:
            conn.request("POST", path, body=body, headers=dict(headers))
            resp = conn.getresponse()
            status, answer = resp.status, resp.read()
        except (OSError, http.client.HTTPException) as e:
            status, answer = 502, json.dumps({"error": f"replica {i} unreachable: {type(e).__name__}"}).encode()
        finally:
            conn.close()
        ids: list[str] = []
        if status == 200:
            ids = list(json.loads(answer).get("investigations") or ())
        with self._lock:
            self.log.append(Forwarded(i, status, group_key, alerts, ids, time.monotonic() - started, started))
            self.last_request = time.monotonic()
        return status, answer

    def idle_for(self) -> float:
        with self._lock:
            return time.monotonic() - self.last_request


# ------------------------------------------------------------------------------------ notifications
@dataclass
class Delivery:
    path: str
    key: str | None  # the Idempotency-Key header
    investigation: str | None  # the id the message is about (webhook body `id`; Slack: the link text)
    event: str  # investigated | resolved (webhook `event`; Slack: from the text)


class NotificationSink:
    """Accepts every POST with 200 and records it (path, Idempotency-Key, which investigation, which kind).
    `delay`: seconds it takes to answer, as a chat service does; a replica killed meanwhile has sent a
    message it never marked sent."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.deliveries: list[Delivery] = []
        self.last = time.monotonic()
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                outer.record(self.path, self.headers.get("Idempotency-Key"), body)
                time.sleep(outer.delay)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> NotificationSink:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def record(self, path: str, key: str | None, body: Mapping[str, Any]) -> None:
        if "text" in body:  # Slack: the investigation is named in the link, the kind in the text
            m = INV_ID.search(json.dumps(body.get("blocks") or []))
            inv = m.group(0) if m else None
            event = "resolved" if str(body["text"]).startswith("[RESOLVED]") else "investigated"
        else:
            inv, event = body.get("id"), str(body.get("event"))
        with self._lock:
            self.deliveries.append(Delivery(path, key, inv, event))
            self.last = time.monotonic()

    def idle_for(self) -> float:
        with self._lock:
            return time.monotonic() - self.last
