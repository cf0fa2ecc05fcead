"""An OpenAI-compatible server (what Ollama and vLLM expose) end to end: a loopback fake of
/v1/chat/completions, the real pydantic-ai OpenAI client, one tool round trip through `sre-expert ask`."""

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

from sre_expert.edges.cli.main import app

pytestmark = pytest.mark.unit


class FakeOpenAI(http.server.BaseHTTPRequestHandler):
    """Answers the first request with a `check` tool call and the second with text quoting the tool result.
    Speaks both plain JSON and SSE streaming, whichever the client asks for."""

    requests: list[dict[str, Any]] = []
    headers_seen: list[dict[str, str]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeOpenAI.requests.append(body)
        FakeOpenAI.headers_seen.append({k.lower(): v for k, v in self.headers.items()})
        if self.path != "/v1/chat/completions":
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        tool_msgs = [m for m in body["messages"] if m.get("role") == "tool"]
        if not tool_msgs:
            message = {"role": "assistant", "content": None, "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": "check", "arguments": json.dumps({"min_severity": "critical"})}}]}
            finish = "tool_calls"
        else:
            result = tool_msgs[-1]["content"]
            codes = [c for c in ("NODE-NOT-READY", "CERT-NOT-READY") if c in result]
            message = {"role": "assistant", "content": f"Root cause: {', '.join(codes) or 'unknown'}"}
            finish = "stop"
        if body.get("stream"):
            self._stream(message, finish)
        else:
            self._send(200, {"id": "chatcmpl-1", "object": "chat.completion", "created": 1764150000,
                             "model": body["model"], "choices": [{"index": 0, "message": message,
                                                                  "finish_reason": finish}],
                             "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}})

    def _send(self, code: int, doc: dict[str, Any]) -> None:
        data = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, message: dict[str, Any], finish: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        delta: dict[str, Any] = {"role": "assistant"}
        if message.get("tool_calls"):
            delta["tool_calls"] = [{"index": 0, **message["tool_calls"][0]}]
        else:
            delta["content"] = message["content"]
        for chunk in ({"choices": [{"index": 0, "delta": delta, "finish_reason": None}]},
                      {"choices": [{"index": 0, "delta": {}, "finish_reason": finish}],
                       "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}}):
            chunk.update({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1764150000, "model": "m"})
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_openai() -> Iterator[str]:
    FakeOpenAI.requests = []
    FakeOpenAI.headers_seen = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()
    srv.server_close()
    t.join(5)


def test_ask_through_an_openai_compatible_server(fake_openai: str, monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    for var in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "SRE_EXPERT_PROVIDER", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SRE_EXPERT_BASE_URL", fake_openai)
    monkeypatch.setenv("SRE_EXPERT_MODEL", "llama3.1")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", True)  # loopback only: the fake above

    r = CliRunner().invoke(app, ["ask", "--demo", "what is broken?"])
    assert r.exit_code == 0, r.output
    assert "Root cause: NODE-NOT-READY" in r.output
    first, second = FakeOpenAI.requests
    assert first["model"] == "llama3.1"
    offered = {t["function"]["name"] for t in first["tools"]}
    assert {"check", "trace", "Bash", "pod_logs"} <= offered and "Read" not in offered
    system = next(m for m in first["messages"] if m["role"] == "system")["content"]
    assert "trust=\"untrusted\"" in system
    tool_reply = next(m for m in second["messages"] if m["role"] == "tool")
    assert tool_reply["tool_call_id"] == "call_1"
    assert tool_reply["content"].startswith('<tool_result tool="check" trust="untrusted">')
    assert FakeOpenAI.headers_seen[0].get("authorization") == "Bearer no-key"  # keyless local server
