"""`sre-expert ask` and `chat` end to end through the CLI (typer's runner) with a scripted model injected
through the test seam (cli_agent._TEST_MODEL; not reachable from the environment or flags)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic_ai import models
from typer.testing import CliRunner

from sre_expert.edges.agent.loop import ScriptedApprover
from sre_expert.edges.agent.scripted import Script, call, last_tool_result
from sre_expert.edges.cli import agent_cli as cli_agent
from sre_expert.edges.cli.main import app

pytestmark = pytest.mark.unit

EMAIL = "maria.santos@example.ph"


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("SRE_EXPERT_AUDIT_LOG", str(tmp_path / "audit.log"))
    return tmp_path


def use(monkeypatch: pytest.MonkeyPatch, script: Script, approver: ScriptedApprover | None = None) -> None:
    monkeypatch.setattr(cli_agent, "_TEST_MODEL", script.model())
    monkeypatch.setattr(cli_agent, "_TEST_APPROVER", approver)


def test_ask_demo_end_to_end(monkeypatch: pytest.MonkeyPatch, isolated: Path) -> None:
    def answer(messages: list) -> str:
        found = json.loads(last_tool_result(messages).split("\n", 1)[1].rsplit("\n", 1)[0])
        top = found["findings"][0]
        return f"**{top['code']}** on {top['object']}. Contact {EMAIL}."

    script = Script([call("check", min_severity="critical"), answer])
    use(monkeypatch, script)
    r = CliRunner().invoke(app, ["ask", "--demo", "what is broken?"])
    assert r.exit_code == 0, r.output
    assert "NODE-NOT-READY" in r.output and "k8s-worker-2" in r.output
    assert EMAIL not in r.output and "<redacted:" in r.output.lower()  # printed through the redacting console
    transcripts = list((isolated / "state" / "sre-expert" / "transcripts").glob("*.jsonl"))
    assert len(transcripts) == 1 and EMAIL not in transcripts[0].read_text()
    assert "transcript:" in r.output and "2 turn(s)" in r.output


def test_ask_without_terminal_refuses_a_destructive_command(monkeypatch: pytest.MonkeyPatch, isolated: Path) -> None:
    script = Script([call("Bash", command="kubectl delete pod api-0 -n mycure-production"),
                     lambda m: "tool said: " + last_tool_result(m)])
    use(monkeypatch, script)  # no approver injected: the CLI picks the non-interactive one (no TTY here)
    r = CliRunner().invoke(app, ["ask", "--demo", "delete the api pod", "--transcript", str(isolated / "t.jsonl")])
    assert r.exit_code == 0, r.output
    assert "no terminal to approve on" in r.output and "sre-expert guard run" in r.output
    audit = [json.loads(line) for line in (isolated / "audit.log").read_text().splitlines()]
    assert [(a["event"], a["decision"], a["context"]) for a in audit] == [("decision", "refused", "sre-expert-bundle")]
    events = [json.loads(line).get("event") for line in (isolated / "t.jsonl").read_text().splitlines()]
    assert "approval" in events


@pytest.mark.e2e
def test_ask_runs_read_only_kubectl_against_the_demo_bundle(monkeypatch: pytest.MonkeyPatch, isolated: Path) -> None:
    script = Script([call("Bash", command="kubectl get nodes -o name"), lambda m: last_tool_result(m)])
    use(monkeypatch, script)
    r = CliRunner().invoke(app, ["ask", "--demo", "which nodes?", "--read-only"])
    assert r.exit_code == 0, r.output
    assert "node/k8s-worker-2" in r.output


def test_ask_turn_limit_exits_1_with_an_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    script = Script([call("check", min_severity="critical")],
                    then=lambda n, m: "best effort" if not script.tools_seen[-1] else call("runbook", name=f"x{n}"))
    use(monkeypatch, script)
    r = CliRunner().invoke(app, ["ask", "--demo", "q", "--max-turns", "2"])
    assert r.exit_code == 1, r.output
    assert "turn limit of 2" in r.output and "best effort" in r.output


def test_ask_errors_exit_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use(monkeypatch, Script(["x"]))
    bad = tmp_path / "agent.md"
    bad.write_text("---\nname: a\ndescription: b\ntools: Bash, Telnet\n---\nbody\n")
    r = CliRunner().invoke(app, ["ask", "--demo", "q", "--agent", str(bad)])
    assert r.exit_code == 2 and "unknown tool 'Telnet'" in r.output
    r = CliRunner().invoke(app, ["ask", "--demo", "q", "--repo", str(tmp_path / "nope")])
    assert r.exit_code == 2 and "not a directory" in r.output
    r = CliRunner().invoke(app, ["ask", "--bundle", str(tmp_path / "nope"), "q"])
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_chat_keeps_history_and_exits(monkeypatch: pytest.MonkeyPatch) -> None:
    script = Script([call("check", min_severity="critical"), "first", "second"])
    use(monkeypatch, script, ScriptedApprover([]))
    r = CliRunner().invoke(app, ["chat", "--demo"], input="what is broken?\n\nand why?\n/exit\nnever asked\n")
    assert r.exit_code == 0, r.output
    assert "first" in r.output and "second" in r.output
    assert len(script.received) == 3
    assert "never asked" not in script.sent_text()
    assert any("first" in str(getattr(p, "content", "")) for m in script.received[-1] for p in m.parts)
