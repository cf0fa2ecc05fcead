"""The agent over `sre-expert serve`'s HTTP API: ask, pause at a destructive command, approve or decline
through the API, poll the answer; the bearer token guards it like every other route."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic_ai import models

from sre_expert.edges.agent.scripted import Script, call, last_tool_result
from sre_expert.edges.webhook.app import create_app
from sre_expert.edges.webhook.config import ServeConfig
from sre_expert.sources.bundle_reader import load_bundle
from sre_expert.sources.resolve import demo_path

pytestmark = pytest.mark.unit

TOKEN = "test-token-agent-routes"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
COMMAND = "kubectl delete pod mongodb-0 -n mycure-production"


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Any]]:
    monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("SRE_EXPERT_AUDIT_LOG", str(tmp_path / "audit.log"))
    snap = load_bundle(demo_path())
    app = create_app(ServeConfig(db_path=str(tmp_path / "db.sqlite"), token=TOKEN, demo=True, loader=lambda: snap))
    with TestClient(app) as c:
        yield c, app
    reg = getattr(app.state, "agent_registry", None)
    if reg is not None:
        reg.pool.shutdown(wait=True)
        if reg.sandbox is not None:
            reg.sandbox.close()


def wait(c: TestClient, conv_id: str, *, until: tuple[str, ...] = ("done", "needs_approval", "failed")) -> dict:
    for _ in range(400):  # bounded polling of a background run, not a timing assertion
        doc = c.get(f"/api/v1/ask/{conv_id}", headers=AUTH).json()
        if doc["status"] in until:
            return doc
        time.sleep(0.025)
    raise AssertionError(f"conversation stuck: {doc}")


@pytest.mark.e2e
def test_ask_pause_approve_resume(client: tuple[TestClient, Any], tmp_path: Path) -> None:
    c, app = client
    script = Script([call("check", min_severity="critical"), call("Bash", command=COMMAND),
                     lambda m: "result: " + last_tool_result(m)])
    app.state.agent_model = script.model()
    r = c.post("/api/v1/ask", json={"question": "fix mongodb"}, headers=AUTH)
    assert r.status_code == 202 and r.json()["status"] == "running"
    conv_id = r.json()["id"]
    doc = wait(c, conv_id)
    assert doc["status"] == "needs_approval" and doc["answer"] is None
    (approval,) = doc["approvals"]
    assert (approval["tool"], approval["command"], approval["class"]) == ("Bash", COMMAND, "destructive")

    assert c.post(f"/api/v1/ask/{conv_id}/approvals", json={"decisions": {"nope": True}}, headers=AUTH).status_code == 422
    r = c.post(f"/api/v1/ask/{conv_id}/approvals", json={"decisions": {approval["id"]: True}}, headers=AUTH)
    assert r.status_code == 202
    doc = wait(c, conv_id, until=("done", "failed"))
    assert doc["status"] == "done", doc
    assert "exit 1" in doc["answer"] and "read-only" in doc["answer"]  # ran against the read-only bundle API
    log = (tmp_path / "audit.log").read_text()
    assert '"decision":"approved"' in log and COMMAND in log
    assert c.post(f"/api/v1/ask/{conv_id}/approvals", json={"decisions": {}}, headers=AUTH).status_code == 409


def test_decline_through_the_api(client: tuple[TestClient, Any], tmp_path: Path) -> None:
    c, app = client
    script = Script([call("Bash", command=COMMAND), lambda m: "result: " + last_tool_result(m)])
    app.state.agent_model = script.model()
    conv_id = c.post("/api/v1/ask", json={"question": "fix mongodb"}, headers=AUTH).json()["id"]
    doc = wait(c, conv_id)
    r = c.post(f"/api/v1/ask/{conv_id}/approvals", json={"decisions": {doc["approvals"][0]["id"]: False}}, headers=AUTH)
    assert r.status_code == 202
    doc = wait(c, conv_id, until=("done", "failed"))
    assert "did not approve" in doc["answer"]
    assert '"decision":"declined"' in (tmp_path / "audit.log").read_text()


def test_routes_need_the_token_and_valid_input(client: tuple[TestClient, Any]) -> None:
    c, app = client
    app.state.agent_model = Script(["hi"]).model()
    assert c.post("/api/v1/ask", json={"question": "q"}).status_code == 401
    assert c.post("/api/v1/ask", json={"question": ""}, headers=AUTH).status_code == 422
    assert c.get("/api/v1/ask/unknown", headers=AUTH).status_code == 404


def test_without_a_model_ask_is_503_with_how_to_configure(client: tuple[TestClient, Any],
                                                         monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    c, _ = client
    for var in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "SRE_EXPERT_MODEL", "SRE_EXPERT_PROVIDER", "SRE_EXPERT_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    r = c.post("/api/v1/ask", json={"question": "q"}, headers=AUTH)
    assert r.status_code == 503 and "ANTHROPIC_API_KEY" in r.json()["error"]


def test_without_the_agent_extra_ask_is_503_naming_it(client: tuple[TestClient, Any],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """`serve` installed without [agent]: the page and API work, a question says which extra to install."""
    import sys

    c, _ = client
    monkeypatch.setitem(sys.modules, "pydantic_ai", None)  # what an absent package looks like to find_spec
    r = c.post("/api/v1/ask", json={"question": "q"}, headers=AUTH)
    assert r.status_code == 503
    assert r.json()["error"] == ("the agent (POST /api/v1/ask) needs the optional [agent] extra (pydantic_ai not "
                                 "installed): pip install 'sre-expert[agent]'")


def test_conversations_stay_bounded_when_they_wait_for_approval(client: tuple[TestClient, Any],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Conversations waiting for an approval were never dropped: asking again and again grew memory (and
    queued model runs) without bound. The oldest waiting one now makes room; all slots running → 429."""
    import sre_expert.edges.webhook.agent_routes as routes

    c, app = client
    monkeypatch.setattr(routes, "MAX_CONVERSATIONS", 2)
    app.state.agent_model = Script([call("Bash", command=COMMAND)]).model()
    ids = []
    for _ in range(3):
        conv_id = c.post("/api/v1/ask", json={"question": "fix mongodb"}, headers=AUTH).json()["id"]
        assert wait(c, conv_id)["status"] == "needs_approval"
        ids.append(conv_id)
    reg = app.state.agent_registry
    assert len(reg.items) == 2 and ids[0] not in reg.items
    for conv in reg.items.values():
        conv.status = "running"  # as if both were still thinking
    r = c.post("/api/v1/ask", json={"question": "again"}, headers=AUTH)
    assert r.status_code == 429 and len(reg.items) == 2


def test_a_failed_run_reports_a_redacted_error(client: tuple[TestClient, Any]) -> None:
    """The error of a failed run is served by the API: it must not quote secrets or personal data."""
    from pydantic_ai.models.function import FunctionModel

    def boom(messages: Any, info: Any) -> Any:
        raise RuntimeError("provider echoed: password=hunter2hunter2 for jane.patient@example.org")

    c, app = client
    app.state.agent_model = FunctionModel(boom, model_name="boom")
    conv_id = c.post("/api/v1/ask", json={"question": "q"}, headers=AUTH).json()["id"]
    doc = wait(c, conv_id, until=("failed", "done"))
    assert doc["status"] == "failed" and "RuntimeError" in doc["error"]
    assert "hunter2" not in doc["error"] and "jane.patient" not in doc["error"]


@pytest.mark.parametrize("path", ["/api/v1/ask", "/api/v1/ask/0123456789abcdef/approvals", "/api/v1/alerts"])
def test_a_streamed_body_over_the_cap_is_413_and_no_error_is_logged(tmp_path: Path, path: str,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    """The cap holds for pydantic-parsed routes too; hitting it is expected, not an 'unhandled error'."""
    snap = load_bundle(demo_path())
    app = create_app(ServeConfig(db_path=str(tmp_path / "db.sqlite"), token=TOKEN, demo=True, loader=lambda: snap,
                                 max_body=4096))

    def chunks() -> Iterator[bytes]:
        yield b'{"question": "'
        for _ in range(8):
            yield b"a" * 1024
        yield b'"}'

    with TestClient(app) as c:
        r = c.post(path, content=chunks(), headers={**AUTH, "Content-Type": "application/json"})
        small = c.post("/api/v1/ask", json={"question": ""}, headers=AUTH)
    assert r.status_code == 413 and r.json() == {"error": "request body larger than 4096 bytes"}
    assert small.status_code == 422  # under the cap: parsed and validated by the route as before
    assert "unhandled error" not in caplog.text
