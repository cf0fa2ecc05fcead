"""Run one command line through the guard, the confirmation step and the audit log.

    verdict = classify(command)
    read-only (and prints no Secret)  → runs, recorded as auto-read-only
    anything else                     → dry-run preview (kubectl writes) → confirmer → approved? runs : recorded
    every run                         → audit start record (fsynced) → subprocess → audit end record

The command runs under bash (the guard parsed it as bash), with stdin closed, its output captured and
its process group killed on timeout. Commands the guard marks interactive (a shell, an editor,
port-forward, `logs -f`) run attached to the terminal instead, and are refused without one. If the
audit start record cannot be written, nothing runs (AuditError propagates).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Mapping

from .audit import AuditLog, current_kube_context, sha256
from .confirm import Confirmer, Preview, Proposal, confirmation_token, truncate
from .guard import classify
from .kubectl_rules import command_context, command_kubeconfig, dry_run_plan
from .verdict import DESTRUCTIVE, MUTATING, READ_ONLY, Verdict

DEFAULT_TIMEOUT = 900.0  # seconds: long enough for `velero restore create … --wait`
DRY_RUN_TIMEOUT = 60.0
_KILL_GRACE = 5.0


@dataclass(slots=True)
class RunResult:
    command: str
    verdict: Verdict
    decision: str  # approved | declined | refused | auto-read-only
    ran: bool
    exit_code: int | None = None  # None: not run, killed on timeout, or not captured
    stdout: bytes = b""
    stderr: bytes = b""
    duration: float = 0.0
    output_sha256: str | None = None
    preview: Preview | None = None
    message: str = ""
    audit_id: str | None = None
    captured: bool = True

    @property
    def ok(self) -> bool:
        return self.ran and self.exit_code == 0

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", errors="replace")


def _shell() -> str:
    return shutil.which("bash") or "/bin/sh"


def _terminal() -> bool:
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def run_guarded(command: str, *, confirm: Confirmer, audit: AuditLog, env: Mapping[str, str] | None = None,
                timeout: float | None = DEFAULT_TIMEOUT, dry_run_first: bool = True,
                context: str | None = None) -> RunResult:
    """Classify, preview, confirm, audit and run `command`.

    `env` replaces the environment of the command (None: inherit). `timeout` in seconds (None: no limit).
    `context` names the kube context for the audit record (default: the one the command names, else the
    kubeconfig's current-context).
    """
    verdict = classify(command)
    ctx = context or command_context(command) or current_kube_context(env, command_kubeconfig(command))
    common = {"command": command, "cls": verdict.cls, "exposes": verdict.exposes_secrets, "context": ctx}

    if verdict.interactive and not _terminal():
        note = "interactive command (shell, editor, port-forward, follow) needs a terminal"
        audit.decision(decision="refused", note=note, **common)
        return RunResult(command, verdict, "refused", False, message=note)

    preview: Preview | None = None
    if not verdict.needs_confirmation:
        decision = "auto-read-only"
    else:
        note = None
        if dry_run_first and verdict.cls in (MUTATING, DESTRUCTIVE):
            preview, note = _preview(command, env, audit, ctx)
        token = confirmation_token(verdict)
        answer = confirm.confirm(Proposal(command, verdict, token, preview, note))
        if not answer.approved:
            audit.decision(decision=answer.decision, note=answer.note, **common)
            return RunResult(command, verdict, answer.decision, False, preview=preview,
                             message=answer.note or answer.decision)
        decision = "approved"

    run_id = audit.start(decision=decision, **common)
    started = time.monotonic()
    if verdict.interactive:
        code = subprocess.run([_shell(), "-c", command], env=None if env is None else dict(env)).returncode
        duration = time.monotonic() - started
        audit.end(run_id, decision=decision, exit_code=code, stdout=None, stderr=None, duration=duration,
                  note="interactive: output not captured", **common)
        return RunResult(command, verdict, decision, True, code, duration=duration, preview=preview,
                         audit_id=run_id, captured=False)
    code, out, err, note = _run_captured([_shell(), "-c", command], env, None, timeout)
    duration = time.monotonic() - started
    audit.end(run_id, decision=decision, exit_code=code, stdout=out, stderr=err, duration=duration, note=note,
              **common)
    return RunResult(command, verdict, decision, True, code, out, err, duration, sha256(out), preview,
                     note or "", run_id)


def _run_captured(argv: list[str], env: Mapping[str, str] | None, stdin: str | None,
                  timeout: float | None) -> tuple[int | None, bytes, bytes, str | None]:
    """Run argv in its own process group; on timeout kill the whole group. Returns (exit, out, err, note)."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=None if env is None else dict(env), start_new_session=True)
    try:
        out, err = proc.communicate(stdin.encode() if stdin is not None else None, timeout=timeout)
        return proc.returncode, out, err, None
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        return None, out, err, f"killed after the {timeout:g}s timeout"


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(_KILL_GRACE)
            return
        except subprocess.TimeoutExpired:
            continue


def _preview(command: str, env: Mapping[str, str] | None, audit: AuditLog,
             ctx: str | None) -> tuple[Preview | None, str | None]:
    """Run the server-side dry run of a kubectl write, itself through the guard (it must be read-only)."""
    plan = dry_run_plan(command)
    if plan is None:
        return None, "No preview: only a single kubectl write with a server-side dry run can be previewed."
    check = classify(plan.command)
    if check.cls != READ_ONLY:
        return None, f"No preview: the dry-run form is classified {check.cls}."
    if check.exposes_secrets:
        return None, "No preview: the dry run would print Secret values."
    run_env = dict(os.environ if env is None else env)
    run_env.update(dict(plan.env))
    run_id = audit.start(command=plan.command, cls=check.cls, exposes=False, decision="auto-read-only", context=ctx,
                         note="dry-run preview")
    started = time.monotonic()
    code, out, err, note = _run_captured(list(plan.argv), run_env, plan.stdin, DRY_RUN_TIMEOUT)
    audit.end(run_id, command=plan.command, cls=check.cls, exposes=False, decision="auto-read-only", context=ctx,
              exit_code=code, stdout=out, stderr=err, duration=time.monotonic() - started,
              note=note or "dry-run preview")
    ok = code == 0
    text = out.decode("utf-8", errors="replace") if ok else (err + out).decode("utf-8", errors="replace")
    if note:
        text = (text + "\n" + note).strip()
    return Preview(plan.command, ok, truncate(text.strip())), None
