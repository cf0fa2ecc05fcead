"""Running a runbook: the execution edge.

Steps run one after the other, each through the command guard (`safety.execute.run_guarded`): a
read-only step runs at once; a mutating or destructive step waits for the operator's confirmation
(or, without a terminal, for --yes-i-understand and its confirmation token) and every run is written
to the audit log. Output is redacted before anyone sees it; branches are evaluated on it
(`runbooks.next_step`) and parameters captured from it.

The target is the current kube context, an explicit `--context`/`--kubeconfig`, or a bundle served
in-process as a read-only Kubernetes API (`edges/apiserver`), so `runbook run --demo` exercises real kubectl
against the demo platform. Writes against a bundle are refused by the server itself.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sre_expert.core.kinds import kind_of_resource
from sre_expert.runbooks.library import (
    END,
    VALUE,
    Output,
    Runbook,
    Step,
    builtins,
    fill,
    next_step,
    summarize,
)
from sre_expert.safety.redact import PlaceholderTable, redact

STATUSES = ("ok", "failed", "skipped", "manual", "declined", "refused", "blocked")
"""ok/failed: the command ran (exit 0 / not 0); skipped: not run (a parameter or the program is
missing); manual: for a human, never run; declined: the operator said no; refused: no confirmation
was possible (no terminal and no matching token); blocked: the guard's class of the actual command
differs from the step's declared safety, so it did not run."""


class RunUsageError(ValueError):
    """Bad parameters for a run (unknown or missing parameter, a value that is not a plain word)."""


@dataclass(slots=True)
class Exec:
    """What running one command gave. `status`: ok | failed | declined | refused | blocked."""

    status: str
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    message: str = ""
    safety: str | None = None
    token: str | None = None


Executor = Callable[[Step, str, Mapping[str, str]], Exec]
"""(step, filled command, environment) → Exec. The real one is `guarded_executor`; tests may script one."""


@dataclass(slots=True)
class StepRecord:
    id: str
    title: str
    safety: str | None
    status: str
    command: str | None = None
    exit_code: int | None = None
    output: str = ""
    note: str = ""
    branch: str | None = None
    goto: str | None = None
    captured: dict[str, str] = field(default_factory=dict)
    expect: str = ""
    see: str | None = None
    token: str | None = None
    summary: str | None = None
    """The step's `show` lines (redacted) when it has them: what a terminal prints instead of `output`."""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "safety": self.safety, "status": self.status,
                "command": self.command, "exitCode": self.exit_code, "output": self.output, "note": self.note,
                "branch": self.branch, "next": self.goto, "captured": self.captured, "see": self.see,
                "summary": self.summary}


@dataclass(slots=True)
class RunResult:
    runbook: str
    target: str
    params: dict[str, str]
    steps: list[StepRecord]
    outcome: str  # completed | stopped
    stopped_at: str | None = None

    @property
    def failed_changes(self) -> list[StepRecord]:
        """Confirmed changes whose command failed: the run did not do what it set out to."""
        return [s for s in self.steps if s.status == "failed" and s.safety in ("mutating", "destructive", "unknown")]

    @property
    def unexpected_failures(self) -> list[StepRecord]:
        """Commands that failed where no branch expected it (no access, a missing object, a server error)."""
        return [s for s in self.steps if s.status == "failed" and s.branch is None]

    @property
    def ok(self) -> bool:
        """Reached its end, and every command that failed was one a branch expected to fail."""
        return self.outcome == "completed" and not self.unexpected_failures

    def to_json(self) -> dict[str, Any]:
        return {"runbook": self.runbook, "target": self.target, "params": self.params, "outcome": self.outcome,
                "stoppedAt": self.stopped_at, "failedChanges": [s.id for s in self.failed_changes],
                "failedSteps": [s.id for s in self.unexpected_failures], "steps": [s.to_json() for s in self.steps]}


# ---------------------------------------------------------------------------------------- parameters


def resolve_params(rb: Runbook, given: Mapping[str, str | None], now: float | None = None) -> dict[str, str]:
    """Defaults, then the user's values, then the per-run builtins. Unknown names, values that are
    not plain words, and missing required parameters are usage errors."""
    known = {p.name for p in rb.parameters}
    out: dict[str, str] = {p.name: p.default for p in rb.parameters if p.default is not None}
    for k, v in given.items():
        if v is None:
            continue
        if k not in known:
            raise RunUsageError(f"runbook {rb.id} has no parameter {k!r}; its parameters: {', '.join(sorted(known)) or 'none'}")
        if not VALUE.match(v):
            raise RunUsageError(f"parameter {k}={v!r}: use a plain name or value (letters, digits and . _ : / = @ + -)")
        out[k] = v
    missing = [p.name for p in rb.parameters if p.required and p.name not in out]
    if missing:
        raise RunUsageError(f"runbook {rb.id} needs " + ", ".join(f"--param {m}=…" if m not in ("namespace", "pod") else f"--{m}" for m in missing))
    out.update(builtins(now))
    return out


def parse_param_options(values: list[str] | None) -> dict[str, str]:
    """`--param key=value` options → dict."""
    out: dict[str, str] = {}
    for item in values or ():
        key, sep, val = item.partition("=")
        if not sep or not key:
            raise RunUsageError(f"--param {item!r}: expected NAME=VALUE")
        out[key.strip().replace("-", "_")] = val.strip()
    return out


# ---------------------------------------------------------------------------------------- the run

_NOT_FOUND = re.compile(r'Error from server \(NotFound\): (?:(\S+?)(?:\.[\w.-]+)? )?"([^"]+)" not found')


def _singular(resource: str) -> str:
    """kubectl's plural resource name as one object (pods → pod, ingresses → ingress, policies → policy): the
    kinds table's kind when it knows the resource, else English's rule."""
    kind = kind_of_resource(resource)
    if kind is not None:
        return kind.lower()
    if resource.endswith("ies"):
        return resource[:-3] + "y"
    if resource.endswith(("sses", "xes")):
        return resource[:-2]
    return resource.removesuffix("s")


def missing_object(output: str, params: Mapping[str, str]) -> str | None:
    """The object a parameter names that the API server says does not exist ("pod ghost-0 does not
    exist"), from kubectl's NotFound line; None when the output names no such object."""
    given = {v: k for k, v in params.items() if k not in ("now", "date")}
    for kind, name in _NOT_FOUND.findall(output):
        if name in given:
            what = _singular(kind) if kind else given[name]
            where = f" in namespace {params['namespace']}" if "namespace" in params and given[name] != "namespace" else ""
            return f"{what} {name} does not exist{where}"
    return None



def _display(text: str, step: Step, table: PlaceholderTable) -> str:
    lines = text.splitlines()
    if step.hide is not None and lines:
        lines = [lines[0]] + [ln for ln in lines[1:] if not step.hide.search(ln)]
    if step.tail is not None and len(lines) > step.tail:
        lines = lines[-step.tail:]
    return redact("\n".join(lines), table=table)


def run_runbook(
    rb: Runbook,
    params: Mapping[str, str],
    execute: Executor,
    *,
    env: Mapping[str, str] | None = None,
    table: PlaceholderTable | None = None,
    which: Callable[[str], str | None] = shutil.which,
    start: str | None = None,
    kubectl_args: tuple[str, ...] = (),
    on_step: Callable[[StepRecord], None] | None = None,
    target: str = "",
) -> RunResult:
    """Follow the runbook from its first step (or `start`) to the end, or until a confirmation is
    declined or refused. `params` come from `resolve_params`; captured values are added as they come."""
    values = dict(params)
    tb = PlaceholderTable() if table is None else table
    records: list[StepRecord] = []
    current = start or rb.steps[0].id
    environ = dict(os.environ if env is None else env)
    outcome, stopped_at = "completed", None
    while current != END:
        step = rb.step(current)
        rec = StepRecord(step.id, step.title, step.safety, "manual", expect=step.expect, see=step.see)
        out: Output | None = None
        if step.command is not None:
            missing = [f for f in dict.fromkeys(step.fields()) if f not in values]
            if missing:
                rec.command = step.command
                if step.runs:
                    rec.status = "skipped"
                    rec.note = "needs " + ", ".join(f"--param {m}=…" for m in missing)
            else:
                rec.command = redact(fill(step.command, values), table=tb)
        if step.runs and rec.status != "skipped":
            command = fill(step.command or "", values)
            argv0 = shlex.split(command)[0]
            if argv0 == "kubectl" and kubectl_args:
                command = "kubectl " + " ".join(shlex.quote(a) for a in kubectl_args) + command[len("kubectl"):]
                rec.command = redact(command, table=tb)
            if which(argv0) is None:
                rec.status, rec.note = "skipped", f"{argv0} is not installed (not found on PATH)"
            else:
                res = execute(step, command, environ)
                rec.status, rec.exit_code, rec.token = res.status, res.exit_code, res.token
                rec.note = res.message
                if res.status in ("ok", "failed"):
                    text = res.stdout + (("\n" if res.stdout and res.stderr else "") + res.stderr if res.stderr else "")
                    out = Output(text, res.exit_code if res.exit_code is not None else 1, json_text=res.stdout)
                    rec.output = _display(text, step, tb)
                    if step.show:
                        summary = summarize(step.show, Output(res.stdout, out.exit_code))
                        rec.summary = None if summary is None else redact(summary, table=tb)
                    for cap in step.captures:
                        if cap.param in values:
                            continue
                        v = cap.value(Output(res.stdout, out.exit_code), values)
                        if v is not None:
                            values[cap.param] = v
                            rec.captured[cap.param] = v
                elif res.status in ("declined", "refused", "blocked") and (step.on_decline == "stop" or res.status == "blocked"):
                    records.append(rec)
                    if on_step:
                        on_step(rec)
                    outcome, stopped_at = "stopped", step.id
                    break
        goto, branch = next_step(rb, step, out)
        rec.goto = goto
        if branch is not None:
            rec.branch = branch.why
        gone = missing_object(rec.output, params) if rec.status == "failed" and branch is None else None
        if gone:  # every later step asks about the same object: stop where the run learnt it is not there
            rec.goto, rec.note = None, f"{gone}; the runbook stops here (check the name and the namespace)"
            records.append(rec)
            if on_step:
                on_step(rec)
            outcome, stopped_at = "stopped", step.id
            break
        records.append(rec)
        if on_step:
            on_step(rec)
        current = goto
    shown = {k: v for k, v in values.items() if k not in ("now", "date")}
    return RunResult(rb.id, target, shown, records, outcome, stopped_at)


# ---------------------------------------------------------------------------------------- targets


@dataclass(slots=True)
class Target:
    env: dict[str, str]
    kubectl_args: tuple[str, ...]
    description: str


@contextmanager
def open_target(snapshot: Any = None, context: str | None = None, kubeconfig: str | None = None,
                label: str = "") -> Iterator[Target]:
    """Where kubectl points during the run. With a Snapshot: a read-only API server for it, in this
    process, and a temporary kubeconfig (no credentials) removed afterwards."""
    env = dict(os.environ)
    if snapshot is not None:
        from sre_expert.edges.apiserver import start_server
        from sre_expert.edges.apiserver.kubeconfig import write_kubeconfig

        handle = start_server(snapshot, port=0)
        tmp = tempfile.TemporaryDirectory(prefix="sre-expert-runbook-")
        try:
            kc = write_kubeconfig(Path(tmp.name) / "kubeconfig", handle.url)
            env["KUBECONFIG"] = str(kc)
            yield Target(env, (), f"{label or 'bundle'} (served read-only at {handle.url})")
        finally:
            handle.close()
            tmp.cleanup()
        return
    args: tuple[str, ...] = ()
    desc = "current kube context"
    if kubeconfig:
        env["KUBECONFIG"] = str(Path(kubeconfig).expanduser())
        desc = f"kubeconfig {kubeconfig}"
    if context:
        args = (f"--context={context}",)
        desc = f"context {context}" + (f" of {kubeconfig}" if kubeconfig else "")
    yield Target(env, args, desc)
