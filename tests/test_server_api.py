"""`sre-expert serve --demo` as a real process (uvicorn): auth, limits, errors, webhook → investigation,
manual checks, metrics (checked by the real promtool), pages and login, and CLI refusals."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import programs
import pytest
from prometheus_client.parser import text_string_to_metric_families
from server_harness import output, request, start_serve, stop_serve, wait_for, webhook_payload

pytestmark = pytest.mark.e2e

PROMTOOL = programs.path("promtool")
MAX_BODY = 64 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    db = tmp_path_factory.mktemp("api") / "db.sqlite"
    base, token, proc = start_serve(db, args=("--demo", "--max-body", str(MAX_BODY)))
    try:
        yield base, token
    finally:
        stop_serve(proc)


def crashloop(pod: str, ns: str = "lfh-staging") -> dict[str, Any]:
    return {"labels": {"alertname": "PodCrashLooping", "severity": "critical", "namespace": ns, "pod": pod,
                       "container": "api"}}


def raw_post(base: str, path: str, chunks: list[bytes], headers: dict[str, str]) -> tuple[int, bytes]:
    """POST with Transfer-Encoding: chunked (no Content-Length), as a streaming client sends."""
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("POST", path, body=iter(chunks), headers=headers, encode_chunked=True)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


# ------------------------------------------------------------------------------------------------ auth


def test_health_endpoints_need_no_token(server) -> None:
    base, _ = server
    assert request(base, "GET", "/healthz") == (200, {"status": "ok"})
    status, body = request(base, "GET", "/readyz")
    assert status == 200 and body["db"] is True and body["source"] is True


@pytest.mark.parametrize("path,method", [("/api/v1/investigations", "GET"), ("/api/v1/alerts", "POST"),
                                         ("/api/v1/check", "POST"), ("/metrics", "GET"),
                                         ("/api/v1/investigations/inv-000000000000", "GET")])
def test_everything_else_needs_the_token(server, path: str, method: str) -> None:
    base, token = server
    body = {} if method == "POST" else None
    for headers in ({}, {"Authorization": f"Bearer {token}x"}, {"Authorization": f"Basic {token}"},
                    {"Authorization": "Bearer"}):
        status, doc = request(base, method, path, body, headers=headers)
        assert status == 401, (headers, doc)
        assert doc["error"].startswith("missing or wrong bearer token")


def test_a_cookie_never_authorises_a_post(server) -> None:
    """Cookies ride along on cross-site requests; only the header may change state."""
    base, token = server
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request("POST", "/login", body=f"token={token}", headers={"Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    session = resp.getheader("set-cookie").split(";", 1)[0]  # sre_expert_session=<random id>
    assert resp.status == 303 and session.startswith("sre_expert_session=")
    for cookie in (session, f"sre_expert_token={token}"):
        status, _ = request(base, "POST", "/api/v1/alerts", webhook_payload([crashloop("x")]),
                            headers={"Cookie": cookie})
        assert status == 401, cookie


# ------------------------------------------------------------------------------------------------ limits


def test_oversized_body_is_413_with_content_length(server) -> None:
    base, token = server
    status, doc = request(base, "POST", "/api/v1/alerts", raw=b"x" * (MAX_BODY + 1), token=token)
    assert status == 413 and doc["error"] == f"request body larger than {MAX_BODY} bytes"


def test_oversized_chunked_body_is_413(server) -> None:
    base, token = server
    status, body = raw_post(base, "/api/v1/alerts", [b"[" + b" " * 8192] * 10,
                            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert status == 413 and b"larger than" in body


@pytest.mark.parametrize("path", ["/api/v1/ask", "/api/v1/ask/0123456789abcdef/approvals", "/api/v1/check"])
def test_every_route_caps_a_chunked_body(server, path: str) -> None:
    """The agent routes let FastAPI parse a pydantic body; the cap must hold there too, without a length."""
    base, token = server
    question = b'{"question": "' + b"a" * (MAX_BODY + 10) + b'"}'
    chunks = [question[i:i + 8192] for i in range(0, len(question), 8192)]
    status, body = raw_post(base, path, chunks,
                            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert status == 413, body
    assert json.loads(body) == {"error": f"request body larger than {MAX_BODY} bytes"}


def test_agent_route_refuses_a_declared_oversized_body(server) -> None:
    base, token = server
    status, doc = request(base, "POST", "/api/v1/ask", raw=b"{" + b" " * MAX_BODY + b"}", token=token)
    assert status == 413 and doc == {"error": f"request body larger than {MAX_BODY} bytes"}


def test_bodies_under_the_cap_still_reach_the_routes(server) -> None:
    base, token = server
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    # chunked and just under the cap: parsed and validated by the route (question too long → 422)
    big = b'{"question": "' + b"a" * (MAX_BODY - 100) + b'"}'
    status, body = raw_post(base, "/api/v1/ask", [big[i:i + 8192] for i in range(0, len(big), 8192)], auth)
    assert status == 422 and b"question" in body
    status, doc = request(base, "POST", "/api/v1/ask", {"question": ""}, token=token)
    assert status == 422 and doc["error"] == "invalid request"
    status, body = raw_post(base, "/api/v1/check", [b'{"namespace": ', b'"lfh-staging"}'], auth)
    assert status == 202 and json.loads(body)["id"].startswith("inv-")
    status, doc = request(base, "POST", "/api/v1/ask/0123456789abcdef/approvals", {"decisions": {}}, token=token)
    assert status == 404 and "no conversation" in doc["error"]


def test_malformed_json_is_400(server) -> None:
    base, token = server
    status, doc = request(base, "POST", "/api/v1/alerts", raw=b'{"alerts": [', token=token)
    assert status == 400 and doc["error"].startswith("the body is not JSON")


@pytest.mark.parametrize("body,expected", [
    ([], "the body must be a JSON object"),
    ({"version": "4", "alerts": []}, "alerts must be a non-empty list"),
    ({"version": "3", "alerts": [{"labels": {"alertname": "X"}}]}, "unsupported payload version '3'"),
    ({"alerts": [{"labels": {"alertname": 1}}]}, "alerts[0].labels.alertname must be a string"),
    ({"alerts": [{"labels": {"alertname": "X"}, "status": "pending"}]}, "alerts[0].status must be firing or resolved"),
])
def test_wrong_payload_is_422_saying_what_is_wrong(server, body: Any, expected: str) -> None:
    base, token = server
    status, doc = request(base, "POST", "/api/v1/alerts", body, token=token)
    assert status == 422 and doc["error"] == "invalid Alertmanager webhook payload"
    assert any(d.startswith(expected) for d in doc["detail"]), doc


def test_bad_query_parameters_are_422_and_unknown_ids_404(server) -> None:
    base, token = server
    assert request(base, "GET", "/api/v1/investigations?status=bogus", token=token)[0] == 422
    assert request(base, "GET", "/api/v1/investigations?limit=0", token=token)[0] == 422
    status, doc = request(base, "GET", "/api/v1/investigations/inv-ffffffffffff", token=token)
    assert status == 404 and doc == {"error": "no investigation inv-ffffffffffff"}


# ------------------------------------------------------------------------------------------------ flow


def test_webhook_to_root_cause_and_resolve(server) -> None:
    base, token = server
    status, doc = request(base, "POST", "/api/v1/alerts",
                          webhook_payload([crashloop("api-h2jfc4tw-xsn8x")], group_key="flow-1"), token=token)
    assert status == 200 and doc["accepted"] == 1 and len(doc["investigations"]) == 1
    inv = doc["investigations"][0]
    rec = wait_for(base, token, inv)
    assert rec["status"] == "done" and rec["error"] is None
    assert rec["rootCause"]["code"] == "ESO-REMOTE-KEY-MISSING"
    assert [f["code"] for f in rec["chain"]] == ["ESO-REMOTE-KEY-MISSING", "POD-CONFIG-ERROR"]
    assert rec["report"]["findings"] and rec["groupKey"] == "flow-1"
    listed = request(base, "GET", "/api/v1/investigations?status=done&limit=500", token=token)[1]
    assert inv in [i["id"] for i in listed["items"]] and all("report" not in i for i in listed["items"])
    resolved = webhook_payload([{**crashloop("api-h2jfc4tw-xsn8x"), "status": "resolved"}], group_key="flow-1")
    assert request(base, "POST", "/api/v1/alerts", resolved, token=token)[1]["investigations"] == [inv]
    rec = request(base, "GET", f"/api/v1/investigations/{inv}", token=token)[1]
    assert rec["status"] == "resolved" and rec["resolvedAt"] >= rec["createdAt"]


def test_big_group_list_items_carry_a_few_alerts_and_the_total(server) -> None:
    base, token = server
    pods = [f"big-{i}" for i in range(45)]
    _, doc = request(base, "POST", "/api/v1/alerts", webhook_payload([crashloop(p) for p in pods], group_key="big"),
                     token=token)
    inv = doc["investigations"][0]
    items = request(base, "GET", "/api/v1/investigations?limit=500", token=token)[1]["items"]
    item = next(i for i in items if i["id"] == inv)
    assert item["alertsTotal"] == 45 and [a["labels"]["pod"] for a in item["alerts"]] == pods[:20]
    rec = request(base, "GET", f"/api/v1/investigations/{inv}", token=token)[1]
    assert rec["alertsTotal"] == 45 and len(rec["alerts"]) == 45
    part = request(base, "GET", f"/api/v1/investigations/{inv}?alertsOffset=40&alertsLimit=3", token=token)[1]
    assert part["alertsTotal"] == 45 and [a["labels"]["pod"] for a in part["alerts"]] == pods[40:43]
    assert request(base, "GET", f"/api/v1/investigations/{inv}?alertsLimit=x", token=token)[0] == 422
    status, html = request(base, "GET", "/", token=token, headers={"Accept": "text/html"})
    assert status == 200 and "45 alerts" in str(html)


def test_manual_check(server) -> None:
    base, token = server
    status, doc = request(base, "POST", "/api/v1/check", {"namespace": "mycure-production", "component": None},
                          token=token)
    assert status == 202
    rec = wait_for(base, token, doc["id"])
    assert rec["trigger"] == "manual" and rec["scope"]["namespace"] == "mycure-production"
    assert rec["rootCause"]["rootCause"] is True and "root cause" in rec["summary"]
    assert request(base, "POST", "/api/v1/check", {"namespace": 3}, token=token)[0] == 422


@pytest.mark.needs("promtool")
def test_metrics_pass_promtool_and_count(server) -> None:
    base, token = server
    _, doc = request(base, "POST", "/api/v1/alerts",
                     webhook_payload([crashloop("m-1"), crashloop("m-2")], group_key="m"), token=token)
    wait_for(base, token, doc["investigations"][0])
    status, text = request(base, "GET", "/metrics", token=token)
    assert status == 200
    lint = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    values = {(s.name, tuple(sorted(s.labels.items()))): s.value
              for family in text_string_to_metric_families(text) for s in family.samples}
    assert values[("sre_expert_alerts_received_total", ())] >= 2
    assert values[("sre_expert_webhook_duration_seconds_bucket", (("le", "+Inf"),))] >= 1
    assert ("sre_expert_investigations", (("status", "done"),)) in values
    assert values[("sre_expert_investigation_runs_total", (("status", "done"),))] >= 1
    assert ("sre_expert_notifications_total", (("result", "failed"), ("target", "slack"))) in values


# ------------------------------------------------------------------------------------------------ pages


def test_pages_redirect_to_login_and_the_cookie_opens_them(server) -> None:
    base, token = server
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request("GET", "/")
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 303 and resp.getheader("location") == "/login"
    conn.request("POST", "/login", body="token=wrong", headers={"Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 401
    conn.request("POST", "/login", body=f"token={token}", headers={"Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    resp.read()
    cookie = resp.getheader("set-cookie")
    assert resp.status == 303 and resp.getheader("location") == "/"
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    conn.request("GET", "/", headers={"Cookie": cookie.split(";", 1)[0]})
    resp = conn.getresponse()
    html = resp.read().decode()
    conn.close()
    assert resp.status == 200 and "<html" in html.lower()


# ------------------------------------------------------------------------------------------------ CLI


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "SRE_EXPERT_TOKEN"} | env
    return subprocess.run([sys.executable, "-m", "sre_expert.edges.cli.main", "serve", *args], capture_output=True, text=True,
                          env=full, timeout=60)


def test_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    r = run_cli(["--demo", "--port", "0", "--db", str(tmp_path / "db")], {})
    assert r.returncode == 2 and "set SRE_EXPERT_TOKEN" in r.stderr
    r = run_cli(["--demo", "--port", "0", "--db", str(tmp_path / "db")], {"SRE_EXPERT_TOKEN": "short"})
    assert r.returncode == 2 and "too short" in r.stderr


def test_no_auth_only_on_loopback(tmp_path: Path) -> None:
    r = run_cli(["--demo", "--insecure-no-auth", "--host", "0.0.0.0", "--port", "0", "--db", str(tmp_path / "db")], {})
    assert r.returncode == 2 and "only allowed on a loopback address" in r.stderr


def test_insecure_no_auth_on_loopback_serves_without_a_token(tmp_path: Path) -> None:
    base, _, proc = start_serve(tmp_path / "db", args=("--demo", "--insecure-no-auth"))
    try:
        assert request(base, "GET", "/api/v1/investigations")[0] == 200
        assert request(base, "GET", "/api/v1/investigations", headers={"Host": "localhost:8080"})[0] == 200
        # DNS rebinding: a web page whose own name resolves to 127.0.0.1 must not read the investigations
        status, body = request(base, "GET", "/api/v1/investigations", headers={"Host": "rebind.attacker.example"})
        assert status == 403 and "localhost" in body["error"]
    finally:
        stop_serve(proc)
    assert "auth OFF" in output(proc)
    assert "stopped; 0 investigation(s) queued or running will resume" in output(proc)
