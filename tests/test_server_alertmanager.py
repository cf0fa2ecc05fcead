"""The real Alertmanager (0.25) delivers to a real `sre-expert serve --demo`; notifications go to a fake
Slack and a fake generic webhook that fail twice before they accept.

Alerts are posted to Alertmanager's own API (POST /api/v2/alerts), exactly as Prometheus does; the
webhook, its bearer token (credentials_file) and the resolved notification are Alertmanager's doing; the
"resolved" messages that follow on Slack and the webhook are ours.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from server_harness import alertmanager, request, start_serve, stop_serve, wait_for, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.needs("alertmanager")]

FAILURES_BEFORE_OK = 2


class FakeReceiver:
    """Records each POST per path; answers 500 to the first FAILURES_BEFORE_OK of each path, then 200."""

    def __init__(self) -> None:
        self.posts: dict[str, list[dict[str, Any]]] = {}
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.lock:
                    seen = outer.posts.setdefault(self.path, [])
                    seen.append(json.loads(body))
                    fail = len(seen) <= FAILURES_BEFORE_OK
                self.send_response(500 if fail else 200)
                self.end_headers()
                self.wfile.write(b"boom" if fail else b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def http_json(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    import urllib.error
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read().decode()
            is_json = "json" in (r.headers.get("content-type") or "")
            return r.status, json.loads(text) if text and is_json else text
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def receiver_config(serve_url: str, token_file: Path) -> dict[str, Any]:
    """One webhook receiver for sre-expert, grouped by alert name and namespace, sent at once."""
    return {
        "route": {"receiver": "sre-expert", "group_by": ["alertname", "namespace"], "group_wait": "0s",
                  "group_interval": "1s", "repeat_interval": "1h"},
        "receivers": [{"name": "sre-expert", "webhook_configs": [{
            "url": f"{serve_url}/api/v1/alerts", "send_resolved": True,
            "http_config": {"authorization": {"type": "Bearer", "credentials_file": str(token_file)}}}]}],
    }


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with FakeReceiver() as fake:
        base, token, serve = start_serve(
            tmp_path / "db.sqlite",
            args=("--demo", "--slack-webhook", fake.url + "/slack", "--webhook", fake.url + "/hook",
                  "--notify-backoff", "0.2", "--notify-attempts", "4"))
        try:
            (tmp_path / "token").write_text(token)
            with alertmanager(tmp_path, receiver_config(base, tmp_path / "token")) as am_url:
                yield {"base": base, "token": token, "am": am_url, "fake": fake, "log": tmp_path / "am.log"}
        finally:
            stop_serve(serve)


def rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_alertmanager_delivers_and_the_root_cause_is_found_then_resolved(stack) -> None:
    base, token, am = stack["base"], stack["token"], stack["am"]
    labels = {"alertname": "CertificateExpiryCritical", "severity": "critical", "namespace": "gateway-system",
              "name": "stg-localfirsthealth-wildcard"}
    now = datetime.now(UTC)
    status, _ = http_json("POST", am + "/api/v2/alerts", [{
        "labels": labels, "annotations": {"summary": "expires in 1.2 days"},
        "startsAt": rfc3339(now - timedelta(minutes=10)), "generatorURL": "http://prometheus:9090/graph"}])
    assert status == 200

    def first() -> Any:
        items = request(base, "GET", "/api/v1/investigations", token=token)[1]["items"]
        return items[0] if items else None

    inv = wait_until(first, f"Alertmanager to deliver the webhook (log: {stack['log']})")
    assert inv["receiver"] == "sre-expert" and inv["groupKey"].endswith(
        '{alertname="CertificateExpiryCritical", namespace="gateway-system"}')
    rec = wait_for(base, token, inv["id"])
    assert rec["status"] == "done"
    assert rec["alerts"][0]["fingerprint"] and rec["alerts"][0]["annotations"] == {"summary": "expires in 1.2 days"}
    assert rec["scope"] == {"namespace": "gateway-system", "kind": "Certificate", "name": "stg-localfirsthealth-wildcard"}
    assert [f["code"] for f in rec["chain"]] == ["CERT-CHALLENGE-STUCK", "CERT-NOT-READY"]

    # both notifications: two refusals, then accepted; the record shows three attempts each
    fake = stack["fake"]

    def delivered() -> Any:
        notes = request(base, "GET", f"/api/v1/investigations/{inv['id']}", token=token)[1]["notifications"]
        return notes if len(notes) == 2 and all(n["status"] == "sent" for n in notes) else None

    notes = wait_until(delivered, "notifications after retries")
    assert sorted((n["target"], n["attempts"]) for n in notes) == [("slack", 3), ("webhook", 3)]
    slack = fake.posts["/slack"][-1]
    assert slack["text"].startswith("[CRITICAL] CertificateExpiryCritical · Certificate gateway-system/")
    blocks = json.dumps(slack["blocks"])
    assert "CERT-CHALLENGE-STUCK" in blocks and "*Evidence*" in blocks and "*Fix*" in blocks
    assert f"{base}/investigations/{inv['id']}" in blocks
    hook = fake.posts["/hook"][-1]
    assert hook["id"] == inv["id"] and hook["rootCause"]["code"] == "CERT-CHALLENGE-STUCK" and "report" not in hook
    assert len(fake.posts["/slack"]) == len(fake.posts["/hook"]) == FAILURES_BEFORE_OK + 1

    # the alert ends: Alertmanager sends the resolved notification, which closes the investigation
    status, _ = http_json("POST", am + "/api/v2/alerts", [{
        "labels": labels, "startsAt": rfc3339(now - timedelta(minutes=10)), "endsAt": rfc3339(datetime.now(UTC))}])
    assert status == 200
    closed = wait_until(lambda: (r := request(base, "GET", f"/api/v1/investigations/{inv['id']}", token=token)[1])
                        ["status"] == "resolved" and r, "the resolved webhook")
    assert closed["resolvedAt"] and closed["alerts"][0]["status"] == "resolved"
    assert request(base, "GET", "/api/v1/investigations", token=token)[1]["total"] == 1

    # ... and each target that got the result now gets one short "resolved" message (receivers accept at once)
    def resolved_sent() -> Any:
        notes = request(base, "GET", f"/api/v1/investigations/{inv['id']}", token=token)[1]["notifications"]
        done = [n for n in notes if n["kind"] == "resolved" and n["status"] == "sent"]
        return notes if len(done) == 2 else None

    notes = wait_until(resolved_sent, "the resolved notifications")
    assert sorted((n["target"], n["kind"]) for n in notes) == [
        ("slack", "resolved"), ("slack", "result"), ("webhook", "resolved"), ("webhook", "result")]
    assert len(fake.posts["/slack"]) == len(fake.posts["/hook"]) == FAILURES_BEFORE_OK + 2
    slack = fake.posts["/slack"][-1]
    assert slack["text"].startswith("[RESOLVED] CertificateExpiryCritical · Certificate gateway-system/")
    assert "1 alert resolved; the root cause was `CERT-CHALLENGE-STUCK`" in slack["text"]
    hook = fake.posts["/hook"][-1]
    assert hook["event"] == "resolved" and hook["id"] == inv["id"] and hook["resolvedAt"] == closed["resolvedAt"]
