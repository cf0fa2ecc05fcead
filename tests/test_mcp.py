"""`sre-expert mcp`: the toolbox over the Model Context Protocol, through the official SDK's own client,
in process and as a real stdio subprocess; run_command against the real kubectl and `bundle serve`."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import programs
import pytest
from mcp import Client, StdioServerParameters
from redaction_plant import END, PLANTED_LOG, leaked
from test_toolbox import CRASH_LOG, EMAIL, NOW, PASSWORD, TENANT, TOKEN

from sre_expert.edges.apiserver import start_server
from sre_expert.edges.apiserver.kubeconfig import write_kubeconfig
from sre_expert.edges.mcp_server import build_server
from sre_expert.edges.toolbox import MAX_TOOL_CHARS, Toolbox
from sre_expert.sources.bundle_reader import load_bundle
from sre_expert.sources.resolve import demo_path
from synth import faults
from synth.builder import PlatformBuilder
from synth.bundle_writer import write_bundle
from synth.platform import healthy_platform

pytestmark = [pytest.mark.e2e, pytest.mark.needs("kubectl")]

EXE = shutil.which("sre-expert", path=str(Path(sys.executable).parent)) or "sre-expert"
KUBECTL = programs.path("kubectl")
TOOLS = {"check", "trace", "component", "runbook", "dr_status", "pod_logs", "describe", "guard_classify", "redact",
         "run_command"}


def call(server: Any, calls: list[tuple[str, dict[str, Any]]], **client: Any) -> tuple[Any, list[Any]]:
    """Connect the SDK's client, list the tools, make the calls; returns (tool list, results)."""

    async def go() -> tuple[Any, list[Any]]:
        async with Client(server, **client) as c:
            tools = await c.list_tools()
            return tools, [await c.call_tool(name, args) for name, args in calls]

    return anyio.run(go)


def payload(result: Any) -> dict[str, Any]:
    """The tool's dict: the text the model reads and the structured content are the same JSON."""
    text = result.content[0].text
    assert json.loads(text) == result.structured_content and len(text) <= MAX_TOOL_CHARS
    return result.structured_content


def audit_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    audit = tmp_path_factory.mktemp("audit") / "audit.log"
    return build_server(Toolbox(lambda: load_bundle(demo_path())), audit_path=audit), audit


# ------------------------------------------------------------------------------------------ in process


def test_every_tool_is_listed_read_only_with_a_description_and_typed_params(demo_server: Any) -> None:
    tools, _ = call(demo_server[0], [])
    by_name = {t.name: t for t in tools.tools}
    assert set(by_name) == TOOLS
    for t in tools.tools:
        assert t.description and len(t.description) > 60, t.name
        assert t.annotations.read_only_hint is True, t.name
    schema = by_name["check"].input_schema["properties"]
    assert schema["min_severity"]["enum"] == ["critical", "warning", "info"] and schema["min_severity"]["default"] == "warning"
    logs = by_name["pod_logs"].input_schema
    assert logs["required"] == ["namespace", "pod"] and logs["properties"]["tail"]["type"] == "integer"
    assert by_name["describe"].input_schema["required"] == ["kind", "name"]


def test_each_tool_answers_on_the_demo(demo_server: Any) -> None:
    pod = next(p["metadata"]["name"] for p in load_bundle(demo_path()).list("Pod", TENANT)
               if p["metadata"]["name"].startswith("api-"))
    _, results = call(demo_server[0], [
        ("check", {}),
        ("check", {"namespace": "lfh-staging", "min_severity": "info"}),
        ("trace", {"target": "api.mycure.md"}),
        ("component", {}),
        ("component", {"name": "cert-manager"}),
        ("runbook", {}),
        ("runbook", {"name": "app-unreachable"}),
        ("dr_status", {}),
        ("pod_logs", {"namespace": TENANT, "pod": pod, "previous": True, "tail": 5}),
        ("describe", {"kind": "node", "name": "k8s-worker-2"}),
        ("guard_classify", {"command": "kubectl delete pod x"}),
        ("redact", {"text": f"token={TOKEN}"}),
    ])
    assert not any(r.is_error for r in results)
    check, lfh, trace, comps, cert, books, book, dr, logs, node, guard, red = map(payload, results)
    assert check["summary"]["rootCauses"] == 7 and check["truncated"] is True
    assert {f["code"] for f in lfh["findings"] if f["rootCause"]} >= {"ESO-REMOTE-KEY-MISSING", "CRONJOB-FAILED"}
    assert trace["brokenHop"] == "pods"
    assert {c["name"] for c in comps["components"]} >= {"cert-manager", "velero", "argocd"}
    assert cert["name"] == "cert-manager" and any(f["code"] == "CERT-CHALLENGE-STUCK" for f in cert["findings"])
    assert "app-unreachable" in {b["id"] for b in books["runbooks"]} and book["steps"]
    assert dr["summary"]["missed"] > 0
    assert any("ECONNREFUSED" in line for line in logs["lines"]) and logs["shown"] <= 5
    assert node["object"]["kind"] == "Node" and node["events"]
    assert guard["class"] == "destructive"
    assert TOKEN not in red["text"] and "<redacted:" in red["text"]


def test_a_bad_call_is_an_error_result_the_model_can_read(demo_server: Any) -> None:
    _, (miss, bad_kind) = call(demo_server[0], [("pod_logs", {"namespace": TENANT, "pod": "nosuch"}),
                                                ("describe", {"kind": "widget", "name": "x"})])
    assert miss.is_error and "no pod 'nosuch'" in payload(miss)["error"]
    assert bad_kind.is_error and "Pod" in payload(bad_kind)["kinds"]


def test_run_command_refuses_what_is_not_read_only(demo_server: Any) -> None:
    server, audit = demo_server
    _, results = call(server, [("run_command", {"command": "kubectl delete pod mongodb-0 -n mycure-production"}),
                               ("run_command", {"command": "kubectl get secret api-secrets -n x -o yaml"}),
                               ("run_command", {"command": "kubectl get pods; rm -rf /tmp/x"})])
    for r, cls in zip(results, ("destructive", "read-only", "destructive")):
        p = payload(r)
        assert r.is_error and p["ran"] is False and p["class"] == cls
        assert "run it themselves" in p["error"] and p["reasons"]
    assert "Secret values" in payload(results[1])["error"]
    records = audit_records(audit)
    assert [r["decision"] for r in records[-3:]] == ["refused"] * 3
    assert not any(r["event"] == "start" and "delete" in r["command"] for r in records)


# ------------------------------------------------------------------------ run_command against bundle serve


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, str], str, Path]]:
    """The synth platform with a crash log full of secrets, served read-only; kubectl's environment for it."""
    b = healthy_platform(PlatformBuilder(NOW))
    pod = b.workload("Deployment", TENANT, "api").pods[0]
    faults.crashloop(b, pod, previous_log=CRASH_LOG + PLANTED_LOG, restarts=7)  # + the redaction corpus' leaks
    path = write_bundle(b, tmp_path_factory.mktemp("mcp") / "bundle")
    snap = load_bundle(path)
    home = tmp_path_factory.mktemp("home")
    audit = home / "audit.log"
    with start_server(snap) as handle:
        env = {"HOME": str(home), "KUBECONFIG": str(write_kubeconfig(home / "kubeconfig", handle.url)),
               "PATH": os.environ.get("PATH", "/usr/bin")}
        yield build_server(Toolbox(lambda: snap), command_env=env, audit_path=audit), env, pod["metadata"]["name"], audit


def test_run_command_runs_kubectl_read_only_and_redacts_its_output(served: Any) -> None:
    server, _, pod, audit = served
    _, (pods, logs) = call(server, [
        ("run_command", {"command": "kubectl get pods -A --request-timeout=20s"}),
        ("run_command", {"command": f"kubectl logs {pod} -n {TENANT} -c api --previous --request-timeout=20s"}),
    ])
    p = payload(pods)
    assert not pods.is_error and p["ran"] and p["exitCode"] == 0, p
    assert p["stdout"].split("\n", 1)[0].split() == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert any(pod in line and "CrashLoopBackOff" in line for line in p["stdout"].splitlines())
    text = payload(logs)["stdout"]
    assert "MongoServerSelectionError" in text and "<redacted:" in text
    for secret in (TOKEN, PASSWORD, EMAIL):
        assert secret not in json.dumps(logs.structured_content) and secret not in logs.content[0].text
    # issue 12: every planted secret and piece of PHI of the corpus, through run_command and pod_logs
    assert END in text and leaked(logs.content[0].text) == [] and leaked(logs.structured_content) == []
    _, (tool_logs,) = call(server, [("pod_logs", {"namespace": TENANT, "pod": pod, "previous": True, "tail": 1000})])
    assert END in tool_logs.content[0].text and leaked(tool_logs.content[0].text) == []
    runs = [r for r in audit_records(audit) if r["event"] == "end"]
    assert [r["decision"] for r in runs[-2:]] == ["auto-read-only"] * 2 and runs[-1]["exit"] == 0


# ------------------------------------------------------------------------------------- a real stdio session


def test_a_stdio_subprocess_speaks_mcp(tmp_path: Path) -> None:
    """`sre-expert mcp --demo` as a client launches it: initialize, list tools, call check and run_command
    (whose kubectl reads the demo through the local API the server starts on first use)."""
    env = {**os.environ, "SRE_EXPERT_AUDIT_LOG": str(tmp_path / "audit.log"), "HOME": str(tmp_path)}
    params = StdioServerParameters(command=EXE, args=["mcp", "--demo"], env=env, cwd=str(tmp_path))

    async def go() -> tuple[Any, Any, Any, Any]:
        async with Client(params, mode="legacy", read_timeout_seconds=120) as c:
            info = c.server_info
            tools = await c.list_tools()
            check = await c.call_tool("check", {"min_severity": "critical"})
            get = await c.call_tool("run_command", {"command": "kubectl get pods -n mycure-production --request-timeout=20s"})
            return info, tools, check, get

    info, tools, check, get = anyio.run(go)
    assert info.name == "sre-expert"
    assert {t.name for t in tools.tools} == TOOLS
    p = payload(check)
    assert p["summary"]["rootCauses"] >= 5 and p["findings"][0]["rootCause"] and p["cluster"] == "monobase-prod"
    g = payload(get)
    assert g["exitCode"] == 0 and "mongodb-0" in g["stdout"], g


def test_mcp_command_rejects_bad_source_options() -> None:
    import subprocess

    r = subprocess.run([EXE, "mcp", "--demo", "--bundle", "x"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "not both" in r.stderr and r.stdout == ""
    r = subprocess.run([EXE, "mcp", "--bundle", "/nonexistent/snap"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "no such file" in r.stderr and r.stdout == ""


def test_stdout_carries_only_the_protocol(tmp_path: Path) -> None:
    """Raw JSON-RPC over the pipes, as any client sends it: every stdout line is a JSON-RPC message,
    nothing else (the tool run here starts a local API and runs kubectl, both of which could print)."""
    import subprocess
    import threading

    msgs = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
         "params": {"name": "run_command", "arguments": {"command": "kubectl get ns --request-timeout=20s"}}},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "trace", "arguments": {"target": "x"}}},
    ]
    env = {**os.environ, "SRE_EXPERT_AUDIT_LOG": str(tmp_path / "audit.log"), "HOME": str(tmp_path)}
    proc = subprocess.Popen([EXE, "mcp", "--demo"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    killer = threading.Timer(120, proc.kill)  # a hung server fails the test instead of hanging it
    killer.start()
    try:
        assert proc.stdin and proc.stdout
        proc.stdin.write("".join(json.dumps(m) + "\n" for m in msgs))
        proc.stdin.flush()
        replies = sorted((json.loads(proc.stdout.readline()) for _ in range(3)), key=lambda r: r["id"])
        proc.stdin.close()
        rest = proc.stdout.read()
        assert proc.wait(30) == 0
    finally:
        killer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rest == ""
    assert [r["id"] for r in replies] == [1, 2, 3] and all(r["jsonrpc"] == "2.0" and "result" in r for r in replies)
    ns = replies[1]["result"]["structuredContent"]
    assert ns["exitCode"] == 0 and "mycure-production" in ns["stdout"]
    assert replies[2]["result"]["isError"] is True and "cannot resolve" in replies[2]["result"]["structuredContent"]["error"]
