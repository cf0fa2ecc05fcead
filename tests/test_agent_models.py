"""Model resolution: aliases kept as data, providers from env / config / flag, and the messages a user sees
when nothing or something wrong is configured (exit 2, no traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from sre_expert.edges.agent.models import (
    ANTHROPIC,
    OPENAI,
    OPENAI_COMPATIBLE,
    ModelConfigError,
    NoModelConfigured,
    aliases,
    build_model,
    load_config,
    resolve_settings,
)
from sre_expert.edges.cli.main import app

pytestmark = pytest.mark.unit

KEY = {"ANTHROPIC_API_KEY": "sk-ant-test"}


def test_aliases_are_data_and_resolve_to_claude_ids() -> None:
    doc = yaml.safe_load((Path(__file__).parents[1] / "src/sre_expert/knowledge/models.yaml").read_text())
    assert set(doc["anthropic"]["aliases"]) == {"sonnet", "opus", "haiku"}
    for alias, model_id in aliases().items():
        assert model_id.startswith(f"claude-{alias}-")
        s = resolve_settings(definition_model=alias, env=KEY)
        assert (s.provider, s.model, s.api_key) == (ANTHROPIC, model_id, "sk-ant-test")


def test_precedence_flag_env_config_definition() -> None:
    env = {**KEY, "SRE_EXPERT_MODEL": "haiku"}
    config = {"model": "opus"}
    assert resolve_settings(cli_model="claude-x-1", definition_model="sonnet", env=env, config=config).model == "claude-x-1"
    assert resolve_settings(definition_model="sonnet", env=env, config=config).model == aliases()["haiku"]
    assert resolve_settings(definition_model="sonnet", env=KEY, config=config).model == aliases()["opus"]
    assert resolve_settings(definition_model="sonnet", env=KEY).model == aliases()["sonnet"]


def test_openai_and_provider_prefixes() -> None:
    s = resolve_settings(cli_model="gpt-4.1", env={"OPENAI_API_KEY": "sk-oa"})
    assert (s.provider, s.model, s.base_url) == (OPENAI, "gpt-4.1", None)
    s = resolve_settings(cli_model="openai:my-model", env={"OPENAI_API_KEY": "sk-oa"})
    assert (s.provider, s.model) == (OPENAI, "my-model")
    s = resolve_settings(cli_model="anthropic:opus", env=KEY)
    assert (s.provider, s.model) == (ANTHROPIC, aliases()["opus"])


def test_openai_compatible_base_url_needs_no_key() -> None:
    env = {"SRE_EXPERT_BASE_URL": "http://localhost:11434/v1/", "SRE_EXPERT_MODEL": "llama3.1"}
    s = resolve_settings(definition_model="sonnet", env=env)
    assert (s.provider, s.model, s.base_url) == (OPENAI_COMPATIBLE, "llama3.1", "http://localhost:11434/v1")
    assert "no-key" not in repr(s)  # the key is never in the repr
    s = resolve_settings(cli_model="ollama:qwen2.5", env={"SRE_EXPERT_BASE_URL": "http://127.0.0.1:8000/v1"})
    assert (s.provider, s.model) == (OPENAI_COMPATIBLE, "qwen2.5")
    model = build_model(s)
    assert model.model_name == "qwen2.5"


def test_config_file_with_api_key_env(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("agent:\n  provider: vllm\n  base_url: http://gpu-box:8000/v1\n  model: mistral\n"
                   "  api_key_env: MY_VLLM_KEY\n")
    conf = load_config(cfg)
    s = resolve_settings(definition_model="sonnet", env={"MY_VLLM_KEY": "k-123"}, config=conf)
    assert (s.provider, s.model, s.base_url, s.api_key) == (OPENAI_COMPATIBLE, "mistral", "http://gpu-box:8000/v1", "k-123")
    assert load_config(None, env={"HOME": str(tmp_path / "nohome")}) == {}  # the default file is optional


@pytest.mark.parametrize("kwargs, error, text", [
    ({"definition_model": "sonnet", "env": {}}, NoModelConfigured, "ANTHROPIC_API_KEY is not set"),
    ({"cli_model": "gpt-4o", "env": {}}, NoModelConfigured, "OPENAI_API_KEY is not set"),
    ({"env": {}}, NoModelConfigured, "no model configured"),
    ({"cli_model": "mystery-7b", "env": {}}, ModelConfigError, "cannot tell which provider serves model 'mystery-7b'"),
    ({"definition_model": "sonnet", "env": {"SRE_EXPERT_PROVIDER": "bedrock"}}, ModelConfigError, "unknown provider 'bedrock'"),
    ({"definition_model": "sonnet", "env": {"SRE_EXPERT_BASE_URL": "localhost:11434"}},
     ModelConfigError, "is not an http(s) URL"),
    ({"definition_model": "sonnet", "env": {"SRE_EXPERT_BASE_URL": "http://localhost:11434/v1"}},
     ModelConfigError, "is a Claude alias"),
    ({"cli_model": "llama3", "env": {"SRE_EXPERT_PROVIDER": "ollama"}}, ModelConfigError, "needs a base URL"),
])
def test_misconfiguration_messages(kwargs: dict, error: type, text: str) -> None:
    with pytest.raises(error) as e:
        resolve_settings(**kwargs)
    assert text in str(e.value)
    if error is NoModelConfigured:
        assert "check`, `trace`" in str(e.value) and "SRE_EXPERT_BASE_URL" in str(e.value)


def test_bad_config_file(tmp_path: Path) -> None:
    with pytest.raises(ModelConfigError, match="config file not found"):
        load_config(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [\n")
    with pytest.raises(ModelConfigError, match="cannot read the config file"):
        load_config(bad)
    bad.write_text("model: 42\n")
    with pytest.raises(ModelConfigError, match="'model' must be a string"):
        load_config(bad)


@pytest.fixture
def no_model_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "SRE_EXPERT_MODEL", "SRE_EXPERT_PROVIDER",
                "SRE_EXPERT_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def test_ask_without_a_model_says_how_to_configure_one(no_model_env: None) -> None:
    r = CliRunner().invoke(app, ["ask", "--demo", "what is broken?"])
    assert r.exit_code == 2, r.output
    assert "ANTHROPIC_API_KEY" in r.output and "check`, `trace`" in r.output
    assert "Traceback" not in r.output and r.exc_info[0] is SystemExit


def test_ask_with_a_bad_base_url_and_an_unknown_provider(no_model_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SRE_EXPERT_BASE_URL", "ftp://models")
    r = CliRunner().invoke(app, ["ask", "--demo", "q", "--model", "llama3"])
    assert r.exit_code == 2 and "not an http(s) URL" in r.output
    monkeypatch.delenv("SRE_EXPERT_BASE_URL")
    monkeypatch.setenv("SRE_EXPERT_PROVIDER", "watson")
    r = CliRunner().invoke(app, ["ask", "--demo", "q"])
    assert r.exit_code == 2 and "unknown provider 'watson'" in r.output


def test_a_rejected_key_is_a_clear_message(no_model_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A provider answering 401 (here a local fake) ends with a message naming the key, exit 2."""
    import http.server
    import threading

    class Deny(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = (b'{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", '
                    b'"code": "invalid_api_key"}}')
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Deny)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        monkeypatch.setenv("SRE_EXPERT_BASE_URL", f"http://127.0.0.1:{srv.server_address[1]}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
        from pydantic_ai import models

        monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", True)  # a loopback fake, not a real provider
        r = CliRunner().invoke(app, ["ask", "--demo", "q", "--model", "llama3", "--max-turns", "1",
                                     "--transcript", str(tmp_path / "t.jsonl")])
    finally:
        srv.shutdown()
        srv.server_close()
    assert r.exit_code == 2, r.output
    assert "rejected the API key" in r.output and "OPENAI_API_KEY" in r.output
    assert "Traceback" not in r.output
