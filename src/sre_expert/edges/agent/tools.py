"""The agent's tools: files of the configuration repository, a guarded shell, and the product's own tools.

- Read / Grep / Glob see only `--repo PATH`: a path that resolves outside it (`..`, an absolute path, a
  symlink pointing out) is refused, binary files are refused, and every answer is capped. Grep's
  model-chosen regex is bounded: pattern length, nested repetitions refused, lines searched in their first
  2,000 characters, and the search killed after 10 s (see GREP_TIMEOUT_SECONDS).
- Bash runs a command unasked only when the execution gate (`safety.gate`) admits it and the guard labels it
  read-only (timeout, output capped); anything else raises `ApprovalRequired`, so the run pauses and the
  user decides (pydantic-ai's deferred approval). With `--read-only` such commands are refused outright.
  Approved commands run through `safety.execute.run_guarded`, which writes the audit log; refusals and
  declines are audited too.
- check, trace, component, runbook, dr_status, pod_logs, describe call `Toolbox` (the same logic as the CLI).

Every result goes through the Boundary (redaction, cap, untrusted-data wrapper, repeated-call refusal).
"""

# No `from __future__ import annotations`: pydantic-ai reads the tool functions' annotations at runtime,
# and the nested tools refer to RunContext imported inside build().
import fnmatch
import importlib
import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sre_expert.edges.agent.boundary import Boundary
from sre_expert.edges.agent.definition import AgentDefinition
from sre_expert.safety.audit import AuditError, AuditLog, AuditSubject
from sre_expert.safety.confirm import Decision, Proposal

READ_MAX_LINES = 400
READ_MAX_BYTES = 2_000_000
GREP_MAX_MATCHES = 100
GREP_MAX_FILE_BYTES = 1_000_000
GLOB_MAX_ENTRIES = 500
BASH_DEFAULT_TIMEOUT = 60
BASH_MAX_TIMEOUT = 300
BASH_MAX_OUTPUT_BYTES = 200_000
_SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv", ".terraform"}


class ToolInputError(ValueError):
    """A tool argument the model got wrong; its message goes back to the model."""


class _AlreadyApproved:
    """The user approved this exact tool call in the agent session; run_guarded must not ask again."""

    def confirm(self, proposal: Proposal) -> Decision:
        return Decision(True, "approved", "approved by the user in the agent session")


# --------------------------------------------------------------------------------------------- files

def inside(root: Path, rel: str) -> Path:
    """`rel` resolved (symlinks followed) under `root`, or ToolInputError if it leaves it."""
    base = root.resolve()
    p = Path(rel).expanduser()
    target = (p if p.is_absolute() else base / p).resolve()
    if target != base and base not in target.parents:
        raise ToolInputError(f"{rel}: outside the repository ({base}); only files inside it can be read")
    return target


def _open_regular(path: Path) -> Any:
    """`path` opened for reading only if it is a regular file. Opened without blocking and checked on the
    open descriptor: a FIFO planted in the repository (or swapped in after a check) would otherwise hang
    the tool until something writes to it."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ToolInputError(f"{path.name}: not a regular file")
    return os.fdopen(fd, "rb")


def _is_binary(path: Path) -> bool:
    with _open_regular(path) as f:
        return b"\0" in f.read(8192)


def read_file(root: Path, path: str, offset: int = 1, limit: int = READ_MAX_LINES) -> str:
    p = inside(root, path)
    if not p.is_file():
        raise ToolInputError(f"{path}: not a file")
    if _is_binary(p):
        raise ToolInputError(f"{path}: binary file, not shown")
    if p.stat().st_size > READ_MAX_BYTES:
        raise ToolInputError(f"{path}: larger than {READ_MAX_BYTES} bytes; use Grep to find the lines you need")
    with _open_regular(p) as f:
        lines = f.read(READ_MAX_BYTES + 1).decode("utf-8", errors="replace").splitlines()
    offset = max(1, offset)
    limit = max(1, min(limit, READ_MAX_LINES))
    chunk = lines[offset - 1: offset - 1 + limit]
    rel = p.relative_to(root.resolve())
    out = [f"{rel} (lines {offset}-{offset + len(chunk) - 1} of {len(lines)})"]
    out += [f"{i:>6}\t{line}" for i, line in enumerate(chunk, start=offset)]
    if offset - 1 + limit < len(lines):
        out.append(f"… {len(lines) - (offset - 1 + limit)} more lines: Read again with offset={offset + limit}")
    return "\n".join(out)


def _walk_files(root: Path, start: Path) -> Any:
    base = root.resolve()
    if start.is_file():
        yield start
        return
    for dirpath, dirnames, filenames in os.walk(start, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in sorted(filenames):
            p = Path(dirpath) / name
            try:
                real = p.resolve()
            except OSError:
                continue
            if real != base and base not in real.parents:
                continue  # a symlink pointing out of the repository
            if not real.is_file():
                continue  # a FIFO, socket or device: opening it could block or never end
            yield p


# Grep runs a pattern the model chose, and Python's `re` backtracks: `(a+)+$` on a long line of a's never
# ends, holds the GIL, and cannot be interrupted from a thread. So, in order: the pattern is capped in
# length and refused when a repetition repeats another one (the classic catastrophic shape, found on the
# parsed pattern); each line is searched in its first GREP_MAX_LINE_CHARS characters only; and the search
# itself runs in a child Python process that is killed after GREP_TIMEOUT_SECONDS (other exponential
# shapes, such as `(a|aa)*c`, pass the static check, so the deadline is what really bounds the time).
GREP_MAX_PATTERN_CHARS = 300
GREP_MAX_LINE_CHARS = 2_000
GREP_TIMEOUT_SECONDS = 10.0

# the child: stdlib only, ASCII JSON in and out (no dependence on the locale's encoding)
_GREP_CHILD = r"""
import json, os, re, stat, sys
job = json.load(sys.stdin)
rx = re.compile(job["pattern"], job["flags"])
cap, limit, hits = job["line_chars"], job["max"], []
for rel, path in job["files"]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with open(fd, encoding="utf-8", errors="replace") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue
            text = f.read(job["file_bytes"])
    except OSError:
        continue
    for n, line in enumerate(text.splitlines(), 1):
        if rx.search(line, 0, cap):
            hits.append([rel, n, line[:300]])
            if len(hits) >= limit:
                break
    if len(hits) >= limit:
        break
sys.stdout.write(json.dumps(hits))
"""


def _nested_repeat(pattern: str, flags: int) -> bool:
    r"""True when a repetition (`*`, `+`, `{m,n}` with n > 1) contains another one, e.g. `(a+)+`, `(\w*\s?)*`:
    on a line that almost matches, the engine tries every way of splitting it between the two."""
    # the stdlib's own parser: no regex-over-regex guessing (private modules typeshed does not describe)
    c, p = importlib.import_module("re._constants"), importlib.import_module("re._parser")

    repeats = {c.MAX_REPEAT, c.MIN_REPEAT} | ({c.POSSESSIVE_REPEAT} if hasattr(c, "POSSESSIVE_REPEAT") else set())

    def children(av: Any) -> Any:
        if isinstance(av, p.SubPattern):
            yield av
        elif isinstance(av, (list, tuple)):
            for x in av:
                yield from children(x)

    def walk(sub: Any, inside_repeat: bool) -> bool:
        for op, av in sub:
            if op in repeats:
                lo, hi, body = av
                many = hi is c.MAXREPEAT or hi > 1
                if many and inside_repeat:
                    return True
                if walk(body, inside_repeat or many):
                    return True
            elif any(walk(ch, inside_repeat) for ch in children(av)):
                return True
        return False

    return walk(p.parse(pattern, flags), False)


def grep_files(root: Path, pattern: str, path: str = ".", glob: str | None = None, ignore_case: bool = False,
               max_matches: int = GREP_MAX_MATCHES, timeout: float = GREP_TIMEOUT_SECONDS) -> str:
    """Lines matching `pattern` under `path` (see the comment above for how the time is bounded)."""
    if len(pattern) > GREP_MAX_PATTERN_CHARS:
        raise ToolInputError(f"pattern longer than {GREP_MAX_PATTERN_CHARS} characters: search for a shorter, "
                             "distinctive part of the text")
    flags = re.IGNORECASE if ignore_case else 0
    try:
        re.compile(pattern, flags)
    except re.error as e:
        raise ToolInputError(f"invalid regular expression {pattern!r}: {e}") from None
    if _nested_repeat(pattern, flags):
        raise ToolInputError(f"refused {pattern!r}: a repetition inside a repetition (like `(a+)+`) can take "
                             "exponential time; use one level, e.g. `a+`, or search for literal text")
    start = inside(root, path)
    base = root.resolve()
    max_matches = max(1, min(max_matches, GREP_MAX_MATCHES))
    files: list[list[str]] = []
    for p in _walk_files(root, start):
        rel = str(p.resolve().relative_to(base)) if p.is_symlink() else str(p.relative_to(base))
        if glob and not (fnmatch.fnmatch(rel, glob) or fnmatch.fnmatch(p.name, glob)):
            continue
        try:
            if p.stat().st_size > GREP_MAX_FILE_BYTES or _is_binary(p):
                continue
        except (OSError, ToolInputError):
            continue
        files.append([rel, str(p)])
    if not files:
        return f"no match for {pattern!r}"
    job = {"pattern": pattern, "flags": int(flags), "line_chars": GREP_MAX_LINE_CHARS, "max": max_matches,
           "files": files, "file_bytes": GREP_MAX_FILE_BYTES}
    try:
        done = subprocess.run([sys.executable, "-I", "-S", "-c", _GREP_CHILD], input=json.dumps(job).encode(),
                              capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:  # run() has killed the child
        raise ToolInputError(f"stopped: searching for {pattern!r} took longer than {timeout:g} s (the pattern "
                             "backtracks too much, or the search is too wide); use literal text or a simpler "
                             "pattern, and narrow path or glob") from None
    if done.returncode != 0:
        raise RuntimeError(f"the search failed: {done.stderr.decode('utf-8', 'replace').strip()[-500:]}")
    hits = [f"{rel}:{n}: {line}" for rel, n, line in json.loads(done.stdout)]
    if len(hits) >= max_matches:
        return "\n".join(hits) + f"\n… stopped at {max_matches} matches: narrow the pattern, path or glob"
    return "\n".join(hits) if hits else f"no match for {pattern!r}"


def glob_files(root: Path, pattern: str, path: str = ".") -> str:
    start = inside(root, path)
    base = root.resolve()
    if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
        raise ToolInputError(f"{pattern}: use a pattern relative to the repository, without '..'")
    found: list[str] = []
    for p in sorted(start.glob(pattern)):
        if any(part in _SKIP_DIRS for part in p.relative_to(start).parts):
            continue
        real = p.resolve()
        if real != base and base not in real.parents:
            continue
        found.append(str(p.relative_to(base)) + ("/" if p.is_dir() else ""))
        if len(found) >= GLOB_MAX_ENTRIES:
            found.append(f"… stopped at {GLOB_MAX_ENTRIES} entries: use a narrower pattern")
            break
    return "\n".join(found) if found else f"nothing matches {pattern!r}"


# --------------------------------------------------------------------------------------------- environments

# The model's own credentials and sre-expert's API token never reach commands the model chooses (a read-only
# `env` would otherwise put them in a tool result). Cloud credentials stay: kubectl's exec plugins need them.
MODEL_CREDENTIALS = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "SRE_EXPERT_TOKEN")


def live_shell_env(kubeconfig: str | None = None, drop: tuple[str, ...] = ()) -> dict[str, str]:
    """The environment of the Bash tool on a live cluster: ours, minus the model credentials."""
    env = {k: v for k, v in os.environ.items() if k not in MODEL_CREDENTIALS and k not in drop}
    if kubeconfig:
        env["KUBECONFIG"] = str(Path(kubeconfig).expanduser())
    return env


# --------------------------------------------------------------------------------------------- the tool set

@dataclass
class AgentTools:
    """What the tools act on. `bash_env` None inherits the environment (a live cluster)."""

    toolbox: Any
    boundary: Boundary
    audit: AuditLog
    repo: Path | None = None
    read_only: bool = False
    bash_env: dict[str, str] | None = None
    kube_context: str | None = None
    executed: list[str] = field(default_factory=list)  # commands that ran (tests, the session summary)

    # -- plumbing ------------------------------------------------------------------------------------------
    def _call(self, name: str, args: dict[str, Any], fn: Callable[[], Any]) -> str:
        refusal = self.boundary.repeated(name, args)
        if refusal:
            return refusal
        try:
            payload = fn()
        except ToolInputError as e:
            payload = f"error: {e}"
        except Exception as e:  # a tool failure is information for the model, never a crash of the run
            payload = f"error: {type(e).__name__}: {e}"
        self.boundary.record(name, args)
        return self.boundary.wrap(name, payload)

    def _product(self, name: str, args: dict[str, Any], method: str) -> str:
        def run() -> Any:
            from sre_expert.edges.toolbox import cap

            # leave room for the wrapper and placeholders, so the toolbox's own structured cap is the one
            # that applies (it keeps whole findings and says how to narrow) rather than the blunt text cut
            return cap(getattr(self.toolbox, method)(**args), max(1_000, self.boundary.limit - 1_000))

        return self._call(name, args, run)

    def _repo(self) -> Path:
        assert self.repo is not None
        return self.repo

    # -- Bash ----------------------------------------------------------------------------------------------
    def bash(self, ctx: Any, command: str, timeout_seconds: int = BASH_DEFAULT_TIMEOUT) -> str:
        from pydantic_ai.exceptions import ApprovalRequired

        args = {"command": command, "timeout_seconds": timeout_seconds}
        refusal = self.boundary.repeated("Bash", args)
        if refusal:
            return refusal
        from sre_expert.safety.execute import auto_run, may_auto_run, why_asked

        admission, verdict = auto_run(command, context=self.kube_context)
        common: AuditSubject = {"command": command, "cls": verdict.cls, "exposes": verdict.exposes_secrets,
                                "context": self.kube_context}
        if verdict.interactive:
            self.audit.decision(decision="refused", note="interactive command in the agent", **common)
            return self.boundary.wrap("Bash", "refused: interactive commands (shells, editors, port-forward, "
                                              "follow) cannot run inside the agent; give it to the user instead")
        if not may_auto_run(admission, verdict):
            asked = why_asked(admission, verdict)
            what = verdict.cls + (" (prints Secret values)" if verdict.exposes_secrets else "")
            if self.read_only:
                self.audit.decision(decision="refused", note=f"agent --read-only; {asked}", **common)
                return self.boundary.wrap("Bash", f"refused: this command is {what} and the session is read-only "
                                                  f"({asked}). Recommend it to the user instead of running it.")
            if not ctx.tool_call_approved:
                raise ApprovalRequired(metadata={"command": command, "class": verdict.cls,
                                                 "exposesSecrets": verdict.exposes_secrets,
                                                 "reasons": list(verdict.reasons), "gate": asked})
        from sre_expert.safety.execute import run_guarded
        from sre_expert.safety.redact import redact_command_output

        timeout = max(1, min(int(timeout_seconds or BASH_DEFAULT_TIMEOUT), BASH_MAX_TIMEOUT))
        try:
            result = run_guarded(command, confirm=_AlreadyApproved(), audit=self.audit, env=self.bash_env,
                                 timeout=timeout, dry_run_first=False, context=self.kube_context)
        except AuditError as e:
            return self.boundary.wrap("Bash", f"not run: {e}")
        self.boundary.record("Bash", args)
        if not result.ran:
            return self.boundary.wrap("Bash", f"not run ({result.decision}): {result.message}")
        self.executed.append(command)
        if verdict.exposes_secrets:
            body = (f"exit {result.exit_code}\noutput withheld: the command prints Secret values "
                    f"({len(result.stdout)} bytes)")
        else:
            # Read after its command line, so a bare password printed by `… | base64 -d` is hidden too.
            out = redact_command_output(command, result.stdout[:BASH_MAX_OUTPUT_BYTES].decode("utf-8", errors="replace"),
                                        table=self.boundary.table)
            err = redact_command_output(command, result.stderr[:BASH_MAX_OUTPUT_BYTES].decode("utf-8", errors="replace"),
                                        table=self.boundary.table)
            code = "killed (timeout)" if result.exit_code is None else str(result.exit_code)
            body = f"exit {code}\n" + (f"stdout:\n{out}" if out else "stdout: (empty)") + (f"\nstderr:\n{err}" if err else "")
        return self.boundary.wrap("Bash", body)

    # -- building the pydantic-ai tools --------------------------------------------------------------------
    def build(self, definition: AgentDefinition) -> list[Any]:
        """The pydantic-ai Tools the definition names (file tools only when a repository is given)."""
        from pydantic_ai import RunContext, Tool

        t = self
        fns: dict[str, tuple[Callable[..., Any], bool]] = {}

        def Read(path: str, offset: int = 1, limit: int = READ_MAX_LINES) -> str:
            """Read a text file of the configuration repository, with line numbers.

            Args:
                path: Path relative to the repository root.
                offset: First line to show (1-based).
                limit: Number of lines (at most 400).
            """
            return t._call("Read", {"path": path, "offset": offset, "limit": limit},
                           lambda: read_file(t._repo(), path, offset, limit))

        def Grep(pattern: str, path: str = ".", glob: str | None = None, ignore_case: bool = False) -> str:
            """Search the configuration repository's text files for a regular expression.

            Args:
                pattern: Python regular expression, at most 300 characters; a repetition inside a repetition
                    such as (a+)+ is refused. Lines are searched in their first 2000 characters.
                path: File or directory to search, relative to the repository root.
                glob: Only files matching this glob, e.g. '*.yaml' or 'values/**'.
                ignore_case: Case-insensitive search.
            """
            return t._call("Grep", {"pattern": pattern, "path": path, "glob": glob, "ignore_case": ignore_case},
                           lambda: grep_files(t._repo(), pattern, path, glob, ignore_case))

        def Glob(pattern: str, path: str = ".") -> str:
            """List files of the configuration repository matching a glob, e.g. 'values/**/*.yaml'.

            Args:
                pattern: Glob relative to `path`.
                path: Directory to start from, relative to the repository root.
            """
            return t._call("Glob", {"pattern": pattern, "path": path}, lambda: glob_files(t._repo(), pattern, path))

        def Bash(ctx: RunContext[None], command: str, timeout_seconds: int = BASH_DEFAULT_TIMEOUT) -> str:
            """Run a command. Runs at once only if on the read-only allow-list: kubectl get/describe/logs/top/
            events/explain/api-resources/version/auth can-i with plain flags, optionally piped into grep, head,
            tail, wc, sort, uniq, cut, tr or jq; no shell syntax ($, backticks, ;, &&, >, globs, braces), no
            VAR= prefixes, no --kubeconfig/--context/--server, no Secret data. Anything else is shown to the
            user, who decides (or refused in read-only mode).

            Args:
                command: The command line, as typed in bash.
                timeout_seconds: Kill it after this many seconds (at most 300).
            """
            return t.bash(ctx, command, timeout_seconds)

        def check(namespace: str | None = None, component: str | None = None, min_severity: str = "warning") -> str:
            """The deterministic platform sweep: findings (root causes first) with evidence, runbook and fix.

            Args:
                namespace: Only findings in this namespace (their root causes are kept).
                component: Only this component, e.g. workloads, gateway, cert-manager, velero.
                min_severity: critical, warning or info.
            """
            return t._product("check", {"namespace": namespace, "component": component,
                                        "min_severity": min_severity}, "check")

        def trace(target: str) -> str:
            """Follow a request outside-in (Gateway → listener → HTTPRoute → Service → endpoints → Pods) and stop
            at the first broken hop.

            Args:
                target: A host name (api.example.com), route/NS/NAME, svc/NS/NAME or pod/NS/NAME.
            """
            return t._product("trace", {"target": target}, "trace")

        def component(name: str | None = None) -> str:
            """Health of one platform component (installed?, version, controllers, problems); all when omitted.

            Args:
                name: e.g. envoy-gateway, cert-manager, external-secrets, velero, kube-prometheus, kyverno.
            """
            return t._product("component", {"name": name}, "component")

        def runbook(name: str | None = None) -> str:
            """A documented operational procedure; the list of runbooks when omitted.

            Args:
                name: e.g. pod-not-starting, app-unreachable, secrets-not-syncing, certificate-renewal.
            """
            return t._product("runbook", {"name": name}, "runbook")

        def dr_status() -> str:
            """Backups per namespace: the covering schedule, last good backup, its age, and whether the RPO is met."""
            return t._product("dr_status", {}, "dr_status")

        def pod_logs(namespace: str, pod: str, container: str | None = None, previous: bool = False,
                     tail: int = 200) -> str:
            """Log lines of a pod's container.

            Args:
                namespace: The pod's namespace.
                pod: The pod's name.
                container: Container name (needed when the pod has several).
                previous: Logs of the previous (crashed) instance.
                tail: Number of last lines.
            """
            return t._product("pod_logs", {"namespace": namespace, "pod": pod, "container": container,
                                           "previous": previous, "tail": tail}, "pod_logs")

        def describe(kind: str, namespace: str, name: str) -> str:
            """One object: its status, conditions, owners and recent events (like kubectl describe).

            Args:
                kind: Object kind, e.g. Pod, Deployment, HTTPRoute, Certificate, ExternalSecret.
                namespace: Its namespace ('' for cluster-scoped objects).
                name: Its name.
            """
            return t._product("describe", {"kind": kind, "namespace": namespace, "name": name}, "describe")

        for fn, takes_ctx in ((Read, False), (Grep, False), (Glob, False), (Bash, True), (check, False),
                              (trace, False), (component, False), (runbook, False), (dr_status, False),
                              (pod_logs, False), (describe, False)):
            fns[fn.__name__] = (fn, takes_ctx)
        tools = []
        for name in definition.tools:
            if name in ("Read", "Grep", "Glob") and self.repo is None:
                continue
            fn, takes_ctx = fns[name]
            tools.append(Tool(fn, takes_ctx=takes_ctx, name=name, max_retries=2))
        return tools
