"""The default provider, Anthropic, end to end: a loopback fake of /v1/messages (speaking SSE when the
client streams, which pydantic-ai does even for run_sync), the real SDK client, one tool round trip."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai import models
from typer.testing import CliRunner

from sre_expert.edges.agent.models import aliases
from sre_expert.edges.cli.main import app

pytestmark = pytest.mark.unit


class FakeAnthropic(http.server.BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []
    keys: list[str | None] = []

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeAnthropic.requests.append(body)
        # the SDK sends the key as x-api-key or as a bearer token, depending on its version and base URL
        key = self.headers.get("x-api-key") or (self.headers.get("authorization") or "").removeprefix("Bearer ")
        FakeAnthropic.keys.append(key or None)
        results = [b for m in body["messages"] if isinstance(m["content"], list) for b in m["content"]
                   if b.get("type") == "tool_result"]
        if not results:
            block = {"type": "tool_use", "id": "toolu_01", "name": "check", "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps({"min_severity": "critical"})}
            stop = "tool_use"
        else:
            content = results[-1]["content"]
            text = content if isinstance(content, str) else "".join(c.get("text", "") for c in content)
            block = {"type": "text", "text": ""}
            delta = {"type": "text_delta", "text": "Cause: NODE-NOT-READY" if "NODE-NOT-READY" in text else "unknown"}
            stop = "end_turn"
        message = {"id": "msg_01", "type": "message", "role": "assistant", "model": body["model"], "content": [],
                   "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 50, "output_tokens": 1}}
        events = [
            ("message_start", {"type": "message_start", "message": message}),
            ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                               "usage": {"output_tokens": 12}}),
            ("message_stop", {"type": "message_stop"}),
        ]
        if not body.get("stream"):
            full = {**message, "content": [{**block, **({"input": json.loads(delta["partial_json"])}
                                                        if block["type"] == "tool_use" else {"text": delta["text"]})}],
                    "stop_reason": stop}
            data = json.dumps(full).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for name, data in events:
            self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_anthropic() -> Iterator[str]:
    FakeAnthropic.requests, FakeAnthropic.keys = [], []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeAnthropic)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()
    t.join(5)


def test_ask_through_anthropic_with_the_sonnet_alias(fake_anthropic: str, monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    for var in ("OPENAI_API_KEY", "SRE_EXPERT_MODEL", "SRE_EXPERT_PROVIDER"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
    monkeypatch.setenv("SRE_EXPERT_PROVIDER", "anthropic")
    monkeypatch.setenv("SRE_EXPERT_BASE_URL", fake_anthropic)  # a proxy / gateway in front of the API
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", True)  # loopback only: the fake above

    r = CliRunner().invoke(app, ["ask", "--demo", "what is broken?"])
    assert r.exit_code == 0, r.output
    assert "Cause: NODE-NOT-READY" in r.output
    first, second = FakeAnthropic.requests
    assert first["model"] == aliases()["sonnet"]  # the definition's `model: sonnet`, resolved from data
    assert first.get("stream") is True  # pydantic-ai streams from Anthropic even in run_sync: the SSE path ran
    assert FakeAnthropic.keys == ["sk-ant-test-key", "sk-ant-test-key"]
    assert {"check", "Bash"} <= {t["name"] for t in first["tools"]}
    system = first["system"] if isinstance(first["system"], str) else " ".join(b["text"] for b in first["system"])
    assert "untrusted" in system
