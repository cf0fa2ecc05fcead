"""Run one command line through the execution gate, the confirmation step and the audit log.

    admitted by the gate, and the guard's label is read-only without Secret output
                                      → runs without asking (execve, no shell), recorded as auto-read-only
    anything else                     → dry-run preview (only when the gate's preview rule admits it)
                                        → confirmer → approved? runs under bash : recorded
    every run                         → audit start record (fsynced) → subprocess → audit end record

The gate (`gate.admit`) alone can let a command run unasked; the guard's label can only add a reason to ask.
Admitted commands run as argv with programs resolved from a fixed PATH and an environment the product builds
(`gate.ExecPolicy`). Confirmed commands run under bash (the operator approved that exact text) with the
caller's environment minus `gate.CONFIRMED_DROP`. Output is captured, stdin closed, the process group killed
on timeout. Commands the guard marks interactive (a shell, an editor, port-forward, `logs -f`) run attached
to the terminal, after confirmation, and are refused without one. If the audit start record cannot be
written, nothing runs (AuditError propagates).
"""

from __future__ import annotations

import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass

from sre_expert.safety.audit import AuditLog, AuditSubject, current_kube_context, sha256
from sre_expert.safety.confirm import Confirmer, Preview, Proposal, confirmation_token, truncate
from sre_expert.safety.gate import Admission, ExecPolicy, admit, confirmed_env, preview_argv, resolve_program
from sre_expert.safety.guard import classify
from sre_expert.safety.kubectl_rules import command_context, command_kubeconfig
from sre_expert.safety.verdict import DESTRUCTIVE, MUTATING, READ_ONLY, Verdict

DEFAULT_TIMEOUT = 900.0  # seconds: long enough for `velero restore create … --wait`
DRY_RUN_TIMEOUT = 60.0
_KILL_GRACE = 5.0
# What an unasked (gate-admitted) pipeline may print before it is stopped: `jq -n 'repeat(…)'` is admitted
# and never ends, and its output is held in memory until the timeout.
MAX_AUTO_OUTPUT_BYTES = 64 << 20
# The address space of an admitted filter stage (jq, sort, grep…): `jq -n '[range(1e9)]'` is admitted and would
# take ~16 GB. Applied right after the stage starts (no preexec_fn: sre-expert serve is threaded); kubectl
# (Go reserves address space up front) is bounded by what the API server sends instead.
MAX_FILTER_MEMORY_BYTES = 4 << 30


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
    gate: str = ""  # why the gate admitted the command, or why it asked / refused

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


def auto_run(command: str, *, context: str | None = None) -> tuple[Admission, Verdict]:
    """The gate's admission and the guard's label; the command runs unasked only if `may_auto_run`."""
    return admit(command, context=context), classify(command)


def may_auto_run(admission: Admission, verdict: Verdict) -> bool:
    """Admitted by the gate and labelled read-only, without Secret output, not interactive: the label can
    only take a command off the auto-run path, never put one on it."""
    return admission.admitted and verdict.cls == READ_ONLY and not verdict.exposes_secrets and not verdict.interactive


def why_asked(admission: Admission, verdict: Verdict) -> str:
    if not admission.admitted:
        return f"not on the auto-run allow-list: {admission.reason}"
    return f"the guard labels it {verdict.cls}" + (" and printing Secret values" if verdict.exposes_secrets else "")


def run_guarded(command: str, *, confirm: Confirmer, audit: AuditLog, env: Mapping[str, str] | None = None,
                timeout: float | None = DEFAULT_TIMEOUT, dry_run_first: bool = True,
                context: str | None = None, offer_failed_preview: bool = True) -> RunResult:
    """Gate, label, preview, confirm, audit and run `command`.

    `env` is the product's environment for this caller (None: this process's): the gate builds the
    environment of an admitted command from it, and a confirmed command gets it minus CONFIRMED_DROP.
    `timeout` in seconds (None: no limit). `context` is the kube context the product chose: the only one a
    command may name with `--context` and still run unasked (the audit record falls back to the one the
    command names, else the kubeconfig's current-context). With `offer_failed_preview` False, a command
    whose server-side dry run failed is not offered for confirmation (a runbook step: the server already
    said it would fail); it is recorded as refused with the dry run's reason.
    """
    admission, verdict = auto_run(command, context=context)
    ctx = context or command_context(command) or current_kube_context(env, command_kubeconfig(command))
    common: AuditSubject = {"command": command, "cls": verdict.cls, "exposes": verdict.exposes_secrets,
                             "context": ctx}

    if verdict.interactive and not _terminal():
        no_tty = "interactive command (shell, editor, port-forward, follow) needs a terminal"
        audit.decision(decision="refused", note=no_tty, **common)
        return RunResult(command, verdict, "refused", False, message=no_tty)

    if may_auto_run(admission, verdict):
        return _run_admitted(command, admission, verdict, ExecPolicy.from_env(env, context), audit, common, timeout)

    asked = why_asked(admission, verdict)
    preview: Preview | None = None
    note: str | None = None
    if dry_run_first and verdict.cls in (MUTATING, DESTRUCTIVE):
        preview, note = _preview(command, ExecPolicy.from_env(env, context), audit, ctx)
    if preview is not None and not preview.ok and not offer_failed_preview:
        why = "the server-side dry run failed, so it was not offered for confirmation"
        audit.decision(decision="refused", note=why, **common)
        return RunResult(command, verdict, "refused", False, preview=preview, message=why, gate=asked)
    token = confirmation_token(verdict)
    try:
        answer = confirm.confirm(Proposal(command, verdict, token, preview, note, asked))
    except KeyboardInterrupt:  # Ctrl-C at the question is a decision too: record it, then stop as asked
        audit.decision(decision="declined", note="interrupted", **common)
        raise
    if not answer.approved:
        audit.decision(decision=answer.decision, note=answer.note, **common)
        return RunResult(command, verdict, answer.decision, False, preview=preview,
                         message=answer.note or answer.decision, gate=asked)
    decision = "approved"
    run_env = confirmed_env(env)
    env_note = f"confirmed: bash -c with the caller's environment minus {', '.join(sorted(_dropped(env)))}" \
        if _dropped(env) else "confirmed: bash -c with the caller's environment"
    run_id = audit.start(decision=decision, note=env_note, **common)
    started = time.monotonic()
    code: int | None
    if verdict.interactive:
        code = subprocess.run([_shell(), "-c", command], env=run_env).returncode
        duration = time.monotonic() - started
        audit.end(run_id, decision=decision, exit_code=code, stdout=None, stderr=None, duration=duration,
                  note="interactive: output not captured", **common)
        return RunResult(command, verdict, decision, True, code, duration=duration, preview=preview,
                         audit_id=run_id, captured=False, gate=asked)
    code, out, err, note = _run_captured([_shell(), "-c", command], run_env, None, timeout)
    duration = time.monotonic() - started
    audit.end(run_id, decision=decision, exit_code=code, stdout=out, stderr=err, duration=duration, note=note,
              **common)
    return RunResult(command, verdict, decision, True, code, out, err, duration, sha256(out), preview,
                     note or "", run_id, gate=asked)


def _dropped(env: Mapping[str, str] | None) -> list[str]:
    from sre_expert.safety.gate import CONFIRMED_DROP

    return [k for k in CONFIRMED_DROP if k in (os.environ if env is None else env)]


def _run_admitted(command: str, admission: Admission, verdict: Verdict, policy: ExecPolicy, audit: AuditLog,
                  common: AuditSubject, timeout: float | None) -> RunResult:
    """Run the gate's argv stages with execve, each program from TRUSTED_PATH in the product's environment."""
    progs = [s[0] for s in admission.stages]
    note = "gate: " + " | ".join(f"{p}={resolve_program(p)}" for p in progs) + "; " + \
        "; ".join(dict.fromkeys(policy.describe(p) for p in progs))
    run_id = audit.start(decision="auto-read-only", note=note, **common)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sre-expert-gate-") as scratch:
        code, out, err, rnote = _run_stages(admission.stages, policy, scratch, timeout)
    duration = time.monotonic() - started
    audit.end(run_id, decision="auto-read-only", exit_code=code, stdout=out, stderr=err, duration=duration,
              note=rnote, **common)
    return RunResult(command, verdict, "auto-read-only", True, code, out, err, duration, sha256(out), None,
                     rnote or "", run_id, gate=admission.reason)


def _run_stages(stages: tuple[tuple[str, ...], ...], policy: ExecPolicy, scratch: str,
                timeout: float | None) -> tuple[int | None, bytes, bytes, str | None]:
    """A pipeline without a shell: each stage execve'd by absolute path, stdout into the next stage's stdin,
    all in one process group (killed on timeout), stderr of all stages collected. Exit: the last stage's."""
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryFile() as errf:
        prev = None
        try:
            for n, stage in enumerate(stages):
                argv = policy.argv_for(stage)
                exe = resolve_program(argv[0])
                if exe is None:  # admit() checked it; the file vanished since
                    return None, b"", f"{argv[0]}: not found in the trusted PATH".encode(), "not run"
                last = n == len(stages) - 1
                p = subprocess.Popen([exe, *argv[1:]], executable=exe, stdin=prev or subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=errf, env=policy.env_for(argv[0], scratch),
                                     cwd=scratch, close_fds=True,
                                     process_group=procs[0].pid if procs else 0)
                if argv[0] != "kubectl":
                    _limit_memory(p.pid, MAX_FILTER_MEMORY_BYTES)
                if prev is not None:
                    prev.close()  # the next stage owns it now
                prev = None if last else p.stdout
                procs.append(p)
            deadline = None if timeout is None else time.monotonic() + timeout
            out, note = _read_capped(procs[-1], deadline, MAX_AUTO_OUTPUT_BYTES, timeout)
            procs[-1].stdout.close()  # type: ignore[union-attr]
            if note is None:
                try:
                    for p in procs:
                        p.wait(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    note = f"killed after the {timeout:g}s timeout"
            if note is not None:
                _kill_group(procs[0])
            code = None if note else procs[-1].returncode
        finally:
            for p in procs:
                if p.poll() is None:
                    _kill_group(procs[0])
                    break
        errf.seek(0)
        err = errf.read()
    return code, out, err, note


def _limit_memory(pid: int, limit: int) -> None:
    """Cap `pid`'s address space (a process that already ended needs none)."""
    try:
        resource.prlimit(pid, resource.RLIMIT_AS, (limit, limit))
    except ProcessLookupError:
        pass


def _read_capped(proc: subprocess.Popen[bytes], deadline: float | None, limit: int,
                 timeout: float | None) -> tuple[bytes, str | None]:
    """`proc`'s standard output until it closes, the deadline passes or `limit` bytes arrive (then cut
    there); the note says which stop it was (None: it closed)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buf = bytearray()
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return bytes(buf), f"killed after the {timeout:g}s timeout"
            if not sel.select(left):
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return bytes(buf), None
            buf += chunk
            if len(buf) > limit:
                return bytes(buf[:limit]), f"killed at the output limit ({limit >> 20} MiB printed)"


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


def _preview(command: str, policy: ExecPolicy, audit: AuditLog,
             ctx: str | None) -> tuple[Preview | None, str | None]:
    """The server-side dry run of a kubectl write, before confirmation, only when `gate.preview_argv` admits
    it: the same grammar, kubectl's environment from the product, `--dry-run=server` forced and re-parsed."""
    argv, why = preview_argv(command, context=policy.context)
    if argv is None:
        return None, why
    shown = " ".join(argv)
    note = "dry-run preview"
    run_id = audit.start(command=shown, cls=READ_ONLY, exposes=False, decision="auto-read-only", context=ctx,
                         note=note)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sre-expert-gate-") as scratch:
        code, out, err, rnote = _run_stages((argv,), policy, scratch, DRY_RUN_TIMEOUT)
    audit.end(run_id, command=shown, cls=READ_ONLY, exposes=False, decision="auto-read-only", context=ctx,
              exit_code=code, stdout=out, stderr=err, duration=time.monotonic() - started,
              note=rnote or f"{note}; {policy.describe('kubectl')}")
    ok = code == 0
    text = out.decode("utf-8", errors="replace") if ok else (err + out).decode("utf-8", errors="replace")
    if rnote:
        text = (text + "\n" + rnote).strip()
    return Preview(shown, ok, truncate(text.strip())), None
