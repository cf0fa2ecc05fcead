"""Confirmation and the audit log, around real commands: bash, and the real kubectl against a fake API server that
records every request (so a dry run is proven to be a dry run and a declined command is proven never sent)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from sre_expert.safety import audit as audit_mod
from sre_expert.safety.audit import AuditError, AuditLog, current_kube_context, default_audit_path
from sre_expert.safety.confirm import (
    NonInteractiveConfirmer,
    Proposal,
    ScriptedConfirmer,
    TtyConfirmer,
    choose_confirmer,
    confirmation_token,
    render,
)
from sre_expert.safety.execute import run_guarded
from sre_expert.safety.guard import classify

pytestmark = pytest.mark.unit

EXE = shutil.which("sre-expert", path=str(Path(sys.executable).parent)) or "sre-expert"


def needs_kubectl(test: Any) -> Any:
    """An e2e test that runs the real kubectl where the gate runs it from."""
    return pytest.mark.e2e(pytest.mark.needs("kubectl", trusted=True)(test))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture()
def log(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "state" / "sre-expert" / "audit.log")


@pytest.fixture()
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Inodes of the files fsynced by the audit log, in order."""
    seen: list[int] = []
    real = os.fsync

    def spy(fd: int) -> None:
        seen.append(os.fstat(fd).st_ino)
        real(fd)

    monkeypatch.setattr(audit_mod.os, "fsync", spy)
    return seen


# -- the audit log ----------------------------------------------------------------------------------------

def test_audit_log_is_created_private_and_append_only(log: AuditLog) -> None:
    a, b = AuditLog(log.path), AuditLog(log.path)
    a.write({"event": "one"})
    b.write({"event": "two"})
    a.write({"event": "three"})
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.path.parent.stat().st_mode) == 0o700
    records = log.records()
    assert [r["event"] for r in records] == ["one", "two", "three"]
    assert all(r["time"].endswith("Z") and r["user"] and r["host"] for r in records)


def test_every_record_is_fsynced(log: AuditLog, fsyncs: list[int]) -> None:
    log.write({"event": "x"})
    log.write({"event": "y"})
    assert fsyncs == [log.path.stat().st_ino] * 2


def test_default_audit_path() -> None:
    assert default_audit_path({"SRE_EXPERT_AUDIT_LOG": "/x/a.log", "XDG_STATE_HOME": "/s"}) == Path("/x/a.log")
    assert default_audit_path({"XDG_STATE_HOME": "/s", "HOME": "/h"}) == Path("/s/sre-expert/audit.log")
    assert default_audit_path({"HOME": "/h"}) == Path("/h/.local/state/sre-expert/audit.log")


def test_an_unwritable_audit_log_runs_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    marker = tmp_path / "marker"
    broken = AuditLog(blocker / "audit.log")
    with pytest.raises(AuditError):
        run_guarded(f"touch {marker}", confirm=ScriptedConfirmer([str(marker)]), audit=broken)
    with pytest.raises(AuditError):
        run_guarded(f"ls {tmp_path}", confirm=ScriptedConfirmer(), audit=broken)
    assert not marker.exists()


def test_current_kube_context(tmp_path: Path) -> None:
    kc = tmp_path / "kc"
    kc.write_text("apiVersion: v1\nkind: Config\ncurrent-context: prod-admin\n")
    assert current_kube_context({"KUBECONFIG": f"{tmp_path / 'missing'}{os.pathsep}{kc}"}) == "prod-admin"
    assert current_kube_context({"HOME": str(tmp_path)}) is None


# -- running through the guard ----------------------------------------------------------------------------

@pytest.mark.e2e
def test_read_only_runs_without_asking_and_is_audited(log: AuditLog, tmp_path: Path) -> None:
    confirmer = ScriptedConfirmer()
    r = run_guarded("echo hello", confirm=confirmer, audit=log, context="unit")
    assert r.ran and r.ok and r.stdout == b"hello\n" and r.decision == "auto-read-only"
    assert confirmer.shown == []
    start, end = log.records()
    assert (start["event"], end["event"]) == ("start", "end") and start["id"] == end["id"]
    assert start["decision"] == end["decision"] == "auto-read-only" and start["class"] == "read-only"
    assert end["exit"] == 0 and end["outputSha256"] == sha(b"hello\n") and end["outputBytes"] == 6
    assert start["context"] == "unit" and start["command"] == "echo hello" and "exit" not in start


def test_declined_is_not_run_and_is_recorded(log: AuditLog, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    confirmer = ScriptedConfirmer(["no"])
    r = run_guarded(f"touch {marker}", confirm=confirmer, audit=log)
    assert not r.ran and r.decision == "declined" and not marker.exists()
    (rec,) = log.records()
    assert rec["event"] == "decision" and rec["decision"] == "declined" and rec["class"] == "mutating"
    (proposal,) = confirmer.shown
    assert proposal.token == str(marker) and proposal.command == f"touch {marker}"
    assert proposal.preview is None and "No preview" in (proposal.note or "")


@pytest.mark.e2e
def test_approved_runs_after_a_flushed_start_record(log: AuditLog, tmp_path: Path, fsyncs: list[int]) -> None:
    out = tmp_path / "out.txt"
    # the command itself reads the audit log: the start record is on disk before it runs
    command = f"grep -c '\"event\":\"start\"' {log.path} | tee {out}"
    r = run_guarded(command, confirm=ScriptedConfirmer([str(out)]), audit=log)
    assert r.ran and r.ok and r.decision == "approved"
    assert out.read_text() == "1\n" and r.stdout == b"1\n"
    start, end = log.records()
    assert start["event"] == "start" and end["event"] == "end" and start["decision"] == "approved"
    assert end["exit"] == 0 and end["outputSha256"] == sha(b"1\n") == r.output_sha256
    assert end["stderrSha256"] == sha(b"") and end["durationSeconds"] >= 0
    assert fsyncs == [log.path.stat().st_ino] * 2


def test_a_wrong_scripted_token_is_declined(log: AuditLog, tmp_path: Path) -> None:
    marker = tmp_path / "m"
    r = run_guarded(f"rm -f {marker}; touch {marker}", confirm=ScriptedConfirmer(["destructive!"]), audit=log)
    assert not r.ran and not marker.exists() and log.records()[0]["decision"] == "declined"


@pytest.mark.e2e
def test_secret_output_needs_confirmation_and_is_never_logged(log: AuditLog) -> None:
    env = {**os.environ, "DB_PASSWORD": "s3cr3t-value-123"}
    refused = run_guarded("echo $DB_PASSWORD", confirm=ScriptedConfirmer(), audit=log, env=env)
    assert not refused.ran
    r = run_guarded("echo $DB_PASSWORD", confirm=ScriptedConfirmer(["secrets"]), audit=log, env=env)
    assert r.ran and r.stdout == b"s3cr3t-value-123\n"
    text = log.path.read_text()
    assert "s3cr3t" not in text
    end = log.records()[-1]
    assert end["exposesSecrets"] is True and end["outputSha256"] == sha(b"s3cr3t-value-123\n")


@pytest.mark.e2e
def test_non_interactive_needs_the_flag_and_the_matching_token(log: AuditLog, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    command = f"touch {marker}"
    for confirmer in (NonInteractiveConfirmer(), NonInteractiveConfirmer(True, None),
                      NonInteractiveConfirmer(False, str(marker)), NonInteractiveConfirmer(True, "marker")):
        confirmer.stdout = io.StringIO()
        r = run_guarded(command, confirm=confirmer, audit=log)
        assert not r.ran and r.decision == "refused" and not marker.exists()
    assert [rec["decision"] for rec in log.records()] == ["refused"] * 4
    ok = NonInteractiveConfirmer(True, str(marker), io.StringIO())
    r = run_guarded(command, confirm=ok, audit=log)
    assert r.ran and r.ok and marker.exists()
    assert "Confirmed by --yes-i-understand" in ok.stdout.getvalue()  # type: ignore[union-attr]


def test_terminal_confirmation_needs_the_typed_token(tmp_path: Path) -> None:
    verdict = classify("kubectl delete pod mongodb-0 -n mycure-production")
    proposal = Proposal("kubectl delete pod mongodb-0 -n mycure-production", verdict, confirmation_token(verdict))
    for typed, approved in (("mongodb-0\n", True), ("  mongodb-0  \n", True), ("y\n", False), ("destructive\n", False),
                            ("", False)):
        out = io.StringIO()
        d = TtyConfirmer(io.StringIO(typed), out).confirm(proposal)
        assert d.approved is approved and d.decision == ("approved" if approved else "declined")
        shown = out.getvalue()
        assert "DESTRUCTIVE" in shown and "kubectl delete pod mongodb-0" in shown and "Type mongodb-0 to run it" in shown


def test_choose_confirmer() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(choose_confirmer(stdin=io.StringIO()), NonInteractiveConfirmer)
    assert isinstance(choose_confirmer(stdin=Tty()), TtyConfirmer)
    assert isinstance(choose_confirmer(True, "x", stdin=Tty()), NonInteractiveConfirmer)


@pytest.mark.parametrize("command,token", [
    ("kubectl delete pod mongodb-0 -n prod", "mongodb-0"),
    ("kubectl delete pod a b", "destructive"),
    ("frobnicate --now", "unknown"),
    ("kubectl get secret db -o yaml", "secrets"),
    ("mise run resize-storage", "resize-storage"),
])
def test_confirmation_token(command: str, token: str) -> None:
    assert confirmation_token(classify(command)) == token


def test_interactive_commands_are_refused_without_a_terminal(log: AuditLog) -> None:
    r = run_guarded("kubectl exec -it api-0 -- sh", confirm=ScriptedConfirmer(["api-0"]), audit=log)
    assert not r.ran and r.decision == "refused" and "terminal" in r.message
    assert log.records()[0]["decision"] == "refused"


@pytest.mark.e2e
def test_timeout_kills_the_command_and_records_it(log: AuditLog) -> None:
    # `sleep` is not on the execution gate's allow-list: it runs only once confirmed
    token = confirmation_token(classify("sleep 30"))
    r = run_guarded("sleep 30", confirm=ScriptedConfirmer([token]), audit=log, timeout=0.3)
    assert r.ran and r.exit_code is None and "timeout" in r.message
    end = log.records()[-1]
    assert end["event"] == "end" and end["exit"] is None and "timeout" in end["note"]


# -- the real kubectl: preview by server-side dry run, then the real request ---------------------------------

class FakeAPI:
    """Just enough of an API server for `kubectl delete pod`: discovery, and DELETE that records its body."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, code: int, obj: dict) -> None:
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path == "/api":
                    return self._send(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                        {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
                if path == "/apis":
                    return self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
                if path == "/api/v1":
                    return self._send(200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                        {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod", "shortNames": ["po"],
                         "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}]})
                return self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404})

            def do_DELETE(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}")
                api.requests.append(("DELETE", self.path, body))
                name = self.path.rstrip("/").rsplit("/", 1)[-1]
                return self._send(200, {"kind": "Pod", "apiVersion": "v1",
                                        "metadata": {"name": name, "namespace": "mycure-production"}})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def deletes(self) -> list[bool]:
        """For each DELETE received: was it a dry run?"""
        return [body.get("dryRun") == ["All"] for method, _, body in self.requests if method == "DELETE"]


def _kubeconfig(path: Path, server: str) -> Path:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake-admin",
        "clusters": [{"name": "fake", "cluster": {"server": server}}],
        "users": [{"name": "admin", "user": {"token": "not-a-real-token"}}],
        "contexts": [{"name": "fake-admin", "context": {"cluster": "fake", "user": "admin"}}]}))
    return path


@pytest.fixture()
def fake_api(tmp_path: Path) -> Iterator[tuple[FakeAPI, dict[str, str]]]:
    api = FakeAPI()
    api.thread.start()
    kc = _kubeconfig(tmp_path / "kubeconfig", api.url)
    env = {**os.environ, "KUBECONFIG": str(kc), "HOME": str(tmp_path), "KUBECACHEDIR": str(tmp_path / "cache")}
    try:
        yield api, env
    finally:
        api.server.shutdown()
        api.server.server_close()


@needs_kubectl
def test_destructive_kubectl_is_previewed_by_a_dry_run_then_runs(fake_api, log: AuditLog) -> None:
    api, env = fake_api
    confirmer = ScriptedConfirmer(["mongodb-0"])
    r = run_guarded("kubectl delete pod mongodb-0 -n mycure-production", confirm=confirmer, audit=log, env=env,
                    timeout=60)
    assert r.ran and r.ok, r.stderr
    (proposal,) = confirmer.shown
    assert proposal.preview is not None and proposal.preview.ok
    assert 'pod "mongodb-0" deleted (server dry run)' in proposal.preview.text
    assert "server dry run" in render(proposal)
    assert api.deletes() == [True, False]  # the preview, then the real request
    records = log.records()
    assert [(x["event"], x["decision"]) for x in records] == [
        ("start", "auto-read-only"), ("end", "auto-read-only"), ("start", "approved"), ("end", "approved")]
    assert records[0]["command"].endswith("--dry-run=server") and records[0]["note"] == "dry-run preview"
    assert {x["context"] for x in records} == {"fake-admin"}
    assert records[3]["outputSha256"] == sha(r.stdout) and b'pod "mongodb-0" deleted' in r.stdout


@needs_kubectl
def test_declined_kubectl_never_reaches_the_api_server(fake_api, log: AuditLog) -> None:
    api, env = fake_api
    r = run_guarded("kubectl delete pod mongodb-0 -n mycure-production", confirm=ScriptedConfirmer(["y"]),
                    audit=log, env=env, timeout=60)
    assert not r.ran and r.decision == "declined"
    assert api.deletes() == [True]  # only the dry run
    assert log.records()[-1]["event"] == "decision" and log.records()[-1]["decision"] == "declined"


@needs_kubectl
def test_without_dry_run_first_only_the_real_request_is_sent(fake_api, log: AuditLog) -> None:
    api, env = fake_api
    confirmer = ScriptedConfirmer(["api-0"])
    r = run_guarded("kubectl delete pod api-0 -n mycure-production", confirm=confirmer, audit=log, env=env,
                    dry_run_first=False, timeout=60)
    assert r.ran and r.ok and confirmer.shown[0].preview is None
    assert api.deletes() == [False]


@needs_kubectl
def test_a_failing_dry_run_is_shown(log: AuditLog, tmp_path: Path) -> None:
    kc = _kubeconfig(tmp_path / "kc", "https://127.0.0.1:1")
    env = {**os.environ, "KUBECONFIG": str(kc), "HOME": str(tmp_path), "KUBECACHEDIR": str(tmp_path / "cache")}
    confirmer = ScriptedConfirmer(["no"])
    r = run_guarded("kubectl --request-timeout=5s delete pod x -n y", confirm=confirmer, audit=log, env=env)
    assert not r.ran
    preview = confirmer.shown[0].preview
    assert preview is not None and not preview.ok and "127.0.0.1:1" in preview.text
    assert "The dry run failed" in render(confirmer.shown[0])


@needs_kubectl
def test_kubectl_config_change_runs_for_real_after_confirmation(log: AuditLog, tmp_path: Path) -> None:
    kc = _kubeconfig(tmp_path / "kc", "https://127.0.0.1:1")
    command = f"kubectl --kubeconfig {kc} config set-context staging --cluster=fake --user=admin"
    r = run_guarded(command, confirm=ScriptedConfirmer(["staging"]), audit=log)
    assert r.ran and r.ok, r.stderr
    assert "staging" in [c["name"] for c in yaml.safe_load(kc.read_text())["contexts"]]
    assert {rec["context"] for rec in log.records()} == {"fake-admin"}  # read from the --kubeconfig it names


# -- `sre-expert guard run` ---------------------------------------------------------------------------------

def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SRE_EXPERT_AUDIT_LOG": str(tmp_path / "audit.log")}
    return subprocess.run([EXE, "guard", "run", *args], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=60)


@pytest.mark.e2e
def test_cli_run_refuses_without_a_terminal_unless_flag_and_token(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    r = _cli(tmp_path, f"touch {marker}")
    assert r.returncode == 2 and not marker.exists() and f"--confirm {marker}" in r.stderr
    r = _cli(tmp_path, "--yes-i-understand", "--confirm", "nope", f"touch {marker}")
    assert r.returncode == 2 and not marker.exists()
    r = _cli(tmp_path, "--yes-i-understand", "--confirm", str(marker), f"touch {marker}")
    assert r.returncode == 0 and marker.exists(), r.stderr
    decisions = [json.loads(x)["decision"] for x in (tmp_path / "audit.log").read_text().splitlines()]
    assert decisions == ["refused", "refused", "approved", "approved"]


@pytest.mark.e2e
def test_cli_run_passes_output_and_exit_status(tmp_path: Path) -> None:
    # a list (`;`) is outside the execution gate's grammar: without a terminal it needs the flag and token
    r = _cli(tmp_path, "echo hi; exit 3")
    assert r.returncode == 2 and r.stdout == "" and "--confirm read-only" in r.stderr
    r = _cli(tmp_path, "--yes-i-understand", "--confirm", "read-only", "echo hi; exit 3")
    assert r.returncode == 3 and r.stdout == "hi\n"


@pytest.mark.e2e
def test_cli_run_redacts_output_unless_asked(tmp_path: Path) -> None:
    line = "echo 'db password=hunter2-very-secret for a@example.com'"
    r = _cli(tmp_path, line)
    assert r.returncode == 0 and "hunter2" not in r.stdout and "a@example.com" not in r.stdout and "db" in r.stdout
    r = _cli(tmp_path, "--show-secrets", line)
    assert r.stdout == "db password=hunter2-very-secret for a@example.com\n"


@pytest.mark.e2e
def test_cli_run_withholds_secret_output_unless_asked(tmp_path: Path) -> None:
    env_cmd = "echo $API_TOKEN"
    os.environ["API_TOKEN"] = "tok-123456"
    try:
        r = _cli(tmp_path, "--yes-i-understand", "--confirm", "secrets", env_cmd)
        assert r.returncode == 0 and "tok-123456" not in r.stdout and "withheld" in r.stderr
        r = _cli(tmp_path, "--yes-i-understand", "--confirm", "secrets", "--show-secrets", env_cmd)
        assert r.returncode == 0 and r.stdout == "tok-123456\n"
    finally:
        del os.environ["API_TOKEN"]
    assert "tok-123456" not in (tmp_path / "audit.log").read_text()
