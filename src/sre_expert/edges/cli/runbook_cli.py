"""`sre-expert runbook list|show|run` and `sre-expert redact`. Top level imports typer and stdlib only."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sre_expert.edges.cli.options import load_snapshot, print_error, stdout_console

if TYPE_CHECKING:
    from sre_expert.edges.runbook_runner import Exec, RunResult, StepRecord
    from sre_expert.runbooks.library import Runbook, Step

runbook_app = typer.Typer(
    name="runbook",
    help=("Operational runbooks as executable steps: read-only steps run by themselves, every change "
          "waits for confirmation, all output is redacted."),
    no_args_is_help=True,
    rich_markup_mode="rich",
)

SAFETY_STYLE = {"read-only": "green", "mutating": "yellow", "destructive": "bold red", "unknown": "magenta"}
STATUS_STYLE = {"ok": "green", "failed": "red", "skipped": "dim", "manual": "magenta", "declined": "yellow",
                "refused": "yellow", "blocked": "bold red"}
MAX_LINES = 40


class Format(str, Enum):
    terminal = "terminal"
    json = "json"
    markdown = "markdown"


FormatOpt = Annotated[Format, typer.Option("--output", "-o", help="terminal, json or markdown.")]


class RunFormat(str, Enum):
    """What `runbook run` writes: a run is a live record, not a document (no markdown)."""

    terminal = "terminal"
    json = "json"


def _books() -> dict[str, Runbook]:
    from sre_expert.runbooks.library import RunbookError, load_runbooks

    try:
        return load_runbooks()
    except RunbookError as e:  # a packaging bug: say which file and field
        print_error(f"runbook data: {e}")
        raise typer.Exit(2) from None


def _book(runbook_id: str) -> Runbook:
    books = _books()
    if runbook_id not in books:
        print_error(f"unknown runbook {runbook_id!r}; known: {', '.join(books)}")
        raise typer.Exit(2)
    return books[runbook_id]


def _write_json(data: Any) -> None:
    import orjson

    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()


# ---------------------------------------------------------------------------------------- list / show


@runbook_app.command("list")
def list_cmd(output: FormatOpt = Format.terminal) -> None:
    """Every runbook: id, title, number of steps, and how many of them change something."""
    books = _books()
    rows = [(rb.id, rb.title, len(rb.steps), sum(1 for s in rb.steps if s.runs and s.safety != "read-only"))
            for rb in books.values()]
    if output is Format.json:
        _write_json([{"id": i, "title": t, "steps": n, "changes": c} for i, t, n, c in rows])
        return
    if output is Format.markdown:
        sys.stdout.write("| id | title | steps | changes |\n|---|---|---|---|\n")
        sys.stdout.writelines(f"| {i} | {t} | {n} | {c} |\n" for i, t, n, c in rows)
        return
    from rich.table import Table

    table = Table(title=f"{len(rows)} runbooks", caption="sre-expert runbook show ID · sre-expert runbook run ID")
    for col in ("id", "title", "steps", "changes"):
        table.add_column(col, justify="right" if col in ("steps", "changes") else "left")
    for i, t, n, c in rows:
        table.add_row(i, t, str(n), str(c) if c else "-")
    stdout_console().print(table)


@runbook_app.command("show")
def show_cmd(
    runbook_id: Annotated[str, typer.Argument(metavar="ID", help="Runbook id, e.g. pod-not-starting.")],
    output: FormatOpt = Format.terminal,
) -> None:
    """One runbook: when to use it, its parameters, every step with its command, safety and branches,
    and the debugging commands of the components it involves."""
    from sre_expert.runbooks.library import component_commands, runbook_json

    rb = _book(runbook_id)
    comps = component_commands(rb)
    if output is Format.json:
        _write_json(runbook_json(rb, comps))
        return
    if output is Format.markdown:
        sys.stdout.write(_show_markdown(rb, comps))
        return
    _show_terminal(rb, comps)


def _show_terminal(rb: Runbook, comps: list[tuple[str, list[Any]]]) -> None:
    from rich.text import Text

    con = stdout_console()
    con.print(Text.assemble((rb.id, "bold"), " · ", (rb.title, "bold")))
    con.print(rb.summary, markup=False)
    con.print()
    con.print("[bold]When to use[/]")
    for w in rb.when:
        con.print(f"  · {w}", markup=False)
    if rb.parameters:
        con.print("\n[bold]Parameters[/]")
        for p in rb.parameters:
            flag = f"--{p.name}" if p.name in ("namespace", "pod") else f"--param {p.name}=…"
            extra = " (required)" if p.required else (f" (default {p.default})" if p.default else "")
            con.print(Text.assemble("  ", (flag, "bold"), extra, "  ", (p.description, "dim")))
    con.print("\n[bold]Steps[/]")
    for n, s in enumerate(rb.steps, 1):
        head = Text.assemble((f"{n:>3} ", "bold"), (s.id, "bold"), "  ", s.title)
        if s.command is not None:
            head.append(f"  [{s.safety}]", style=SAFETY_STYLE.get(s.safety or "", ""))
        if s.manual:
            head.append("  [manual]", style="magenta")
        con.print(head)
        if s.command:
            con.print(Text("      " + s.command.replace("{{", "{").replace("}}", "}"), style="cyan"))
        if s.expect:
            con.print(Text("      expect: " + s.expect, style="dim"))
        for b in s.branches:
            con.print(Text.assemble("      if ", b.when.describe(), " → ", (b.goto, "bold"), ("  " + b.why, "dim")))
        nxt = rb.following(s)
        if s.branches or (s.next is not None and nxt != (rb.steps[n].id if n < len(rb.steps) else "end")):
            con.print(Text.assemble("      otherwise → ", (nxt, "bold")))
        if s.see:
            con.print(Text.assemble("      continue with runbook ", (s.see, "bold")))
    if comps:
        con.print("\n[bold]Component debugging commands[/]")
        for name, cmds in comps:
            con.print(Text(f"  {name}", style="bold"))
            for c in cmds:
                con.print(Text.assemble("    ", (c.command, "cyan"), (f"  [{c.safety}]", SAFETY_STYLE.get(c.safety, "")),
                                        ("  " + c.description, "dim")))


def _show_markdown(rb: Runbook, comps: list[tuple[str, list[Any]]]) -> str:
    out = [f"# {rb.title} (`{rb.id}`)", "", rb.summary, "", "**When to use:**", ""]
    out += [f"- {w}" for w in rb.when] + [""]
    if rb.parameters:
        out += ["**Parameters:**", ""]
        out += [f"- `{p.name}`{' (required)' if p.required else ''}{f' (default `{p.default}`)' if p.default else ''}: "
                f"{p.description}" for p in rb.parameters] + [""]
    out += ["## Steps", ""]
    for n, s in enumerate(rb.steps, 1):
        tag = f" ({s.safety})" if s.command else ""
        out.append(f"{n}. **{s.id}**: {s.title}{tag}{' (manual)' if s.manual else ''}")
        if s.command:
            cmd = s.command.replace("{{", "{").replace("}}", "}")
            out.append(f"   ``{cmd}``" if "`" in cmd else f"   `{cmd}`")
        if s.expect:
            out.append(f"   Expect: {s.expect}")
        for b in s.branches:
            out.append(f"   - if {b.when.describe()} → `{b.goto}`: {b.why}")
        if s.branches:
            out.append(f"   - otherwise → `{rb.following(s)}`")
        if s.see:
            out.append(f"   Continue with runbook `{s.see}`.")
    out.append("")
    if comps:
        out += ["## Component debugging commands", ""]
        for name, cmds in comps:
            out.append(f"**{name}**")
            out += [f"- `{c.command}` ({c.safety}): {c.description}" for c in cmds]
            out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------- run


def guarded_executor(confirm: Any, audit: Any, timeout: float | None = None, context: str | None = None,
                     offer_failed_preview: bool = False) -> Any:
    """The real executor: the guard classifies the actual command (it must match the step's declared
    safety), then `run_guarded` gates, confirms, audits and runs it. `context` is the kube context the
    operator chose with --context (the runbook adds it to kubectl; the gate admits only that one).
    A change whose server-side dry run failed is recorded as failed and not offered for confirmation,
    unless `offer_failed_preview` (the API server may reject dry runs it would accept for real)."""
    from sre_expert.edges.runbook_runner import Exec
    from sre_expert.safety.confirm import confirmation_token
    from sre_expert.safety.execute import DEFAULT_TIMEOUT, run_guarded
    from sre_expert.safety.guard import classify

    def execute(step: Step, command: str, env: dict[str, str]) -> Exec:
        verdict = classify(command)
        if verdict.cls != step.safety:
            return Exec("blocked", message=f"the guard classifies this command as {verdict.cls} but the runbook "
                                           f"declares {step.safety}; not run", safety=verdict.cls)
        token = confirmation_token(verdict) if verdict.needs_confirmation else None
        r = run_guarded(command, confirm=confirm, audit=audit, env=env,
                        timeout=DEFAULT_TIMEOUT if timeout is None else timeout, context=context,
                        offer_failed_preview=offer_failed_preview)
        if not r.ran and not offer_failed_preview and r.preview is not None and not r.preview.ok:  # the server said no
            return Exec("failed", 1, "", r.preview.text, r.message, verdict.cls, token)
        if not r.ran:
            return Exec(r.decision if r.decision in ("declined", "refused") else "refused", message=r.message,
                        safety=verdict.cls, token=token)
        return Exec("ok" if r.exit_code == 0 else "failed", r.exit_code,
                    r.stdout.decode("utf-8", errors="replace"), r.stderr.decode("utf-8", errors="replace"),
                    r.message, verdict.cls, token)

    return execute


@runbook_app.command("run")
def run_cmd(
    runbook_id: Annotated[str, typer.Argument(metavar="ID", help="Runbook id, e.g. pod-not-starting.")],
    namespace: Annotated[str | None, typer.Option("--namespace", "-n", help="The runbook's namespace parameter.")] = None,
    pod: Annotated[str | None, typer.Option("--pod", help="The runbook's pod parameter.")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="Another parameter, NAME=VALUE (repeatable).")] = None,
    bundle: Annotated[str | None, typer.Option(
        "--bundle", "-b", help="Run against a bundle, served read-only to kubectl.")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Run against the demo platform, served read-only to kubectl.")] = False,
    context: Annotated[str | None, typer.Option(
        "--context", help="Kube context to run against (default: the current one).")] = None,
    kubeconfig: Annotated[str | None, typer.Option("--kubeconfig", help="Kubeconfig file to use.")] = None,
    yes_i_understand: Annotated[bool, typer.Option(
        "--yes-i-understand", help="Without a terminal: allow the change whose token --confirm gives.")] = False,
    confirm: Annotated[str | None, typer.Option(
        "--confirm", help="Confirmation token of the change to allow (printed when one is refused).")] = None,
    start: Annotated[str | None, typer.Option(
        "--from", help="Start at this step (e.g. to continue after a refused change).")] = None,
    full: Annotated[bool, typer.Option(
        "--full", help=f"Show whole outputs (default: the first {MAX_LINES} lines of each).")] = False,
    output: Annotated[RunFormat, typer.Option("--output", "-o", help="terminal or json (the run record).")] = RunFormat.terminal,
) -> None:
    """Run a runbook: read-only steps run by themselves, each change asks first.

    Output is redacted; branches follow what each step shows (Pending → scheduling checks,
    CrashLoopBackOff → previous logs…). Every command, run or refused, goes to the audit log
    ($SRE_EXPERT_AUDIT_LOG, default ~/.local/state/sre-expert/audit.log).

    Without a terminal a change runs only with --yes-i-understand and --confirm TOKEN (the token is the
    name of the object it acts on, shown when it is refused).

    Examples: [bold]sre-expert runbook run pod-not-starting --demo -n mycure-production --pod api-55wcnlhq-54cp4[/] ·
    [bold]sre-expert runbook run secrets-not-syncing -n lfh-staging --context prod[/]

    Exit status: 0 the run reached its end, 1 it stopped at a change that was not confirmed or a command
    failed where no branch expected it (no access, a confirmed change refused by the server), 2 bad usage.
    """
    from sre_expert.edges.runbook_runner import (
        RunUsageError,
        open_target,
        parse_param_options,
        resolve_params,
        run_runbook,
    )
    from sre_expert.safety.audit import AuditError, AuditLog
    from sre_expert.safety.confirm import choose_confirmer
    from sre_expert.safety.redact import PlaceholderTable

    rb = _book(runbook_id)
    if (bundle or demo) and (context or kubeconfig):
        print_error("give a bundle (--bundle/--demo) or a cluster (--context/--kubeconfig), not both")
        raise typer.Exit(2)
    try:
        given = parse_param_options(param)
        for key, val in (("namespace", namespace), ("pod", pod)):
            if val is not None:
                if key in given and given[key] != val:
                    raise RunUsageError(f"--{key} and --param {key}= disagree")
                given[key] = val
        params = resolve_params(rb, given)
    except RunUsageError as e:
        print_error(str(e))
        raise typer.Exit(2) from None
    if start is not None and start not in {s.id for s in rb.steps}:
        print_error(f"--from {start}: runbook {rb.id} has no such step; steps: {', '.join(s.id for s in rb.steps)}")
        raise typer.Exit(2)

    snap = load_snapshot(bundle, demo) if (bundle or demo) else None
    label = "demo platform" if demo else (f"bundle {bundle}" if bundle else "")
    confirmer = choose_confirmer(yes_i_understand, confirm)
    audit = AuditLog()
    table = PlaceholderTable()
    con = None
    if output is RunFormat.terminal:
        con = stdout_console()
    with open_target(snap, context, kubeconfig, label) as target:
        if con is not None:
            con.print(f"[bold]{rb.id}[/] · {rb.title} · against {target.description}")
            con.print(f"audit log: {audit.path}", style="dim", markup=False)
        executor = guarded_executor(confirmer, audit, context=context)

        def execute(step: Step, command: str, env: Mapping[str, str]) -> Exec:
            if con is not None:
                _print_step_start(con, step, command, table)
            return executor(step, command, env)

        try:
            result = run_runbook(rb, params, execute, env=target.env, table=table, start=start,
                                 kubectl_args=target.kubectl_args, target=target.description,
                                 on_step=(lambda rec: _print_record(con, rec, full)) if con is not None else None)
        except AuditError as e:
            print_error(f"{e}; nothing more was run")
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            sys.stderr.write("\n")
            print_error("interrupted: the run stopped; the unanswered change was not run (audit log: declined)")
            raise typer.Exit(130) from None
    if output is RunFormat.json:
        _write_json(result.to_json())
    else:
        source = ("--demo" if demo else f"--bundle {bundle}" if bundle else
                  " ".join(x for x in (f"--context {context}" if context else "",
                                       f"--kubeconfig {kubeconfig}" if kubeconfig else "") if x))
        _print_summary(con, rb, result, given, source)
    raise typer.Exit(0 if result.ok else 1)


def _print_step_start(con: Any, step: Step, command: str, table: Any) -> None:
    from rich.text import Text

    from sre_expert.safety.redact import redact

    head = Text.assemble(("▸ ", "bold"), (step.id, "bold"), "  ", step.title,
                         (f"  [{step.safety}]", SAFETY_STYLE.get(step.safety or "", "")))
    con.print()
    con.print(head)
    con.print(Text("  $ " + redact(command, table=table), style="cyan"))


def _print_record(con: Any, rec: StepRecord, full: bool) -> None:
    from rich.text import Text

    if rec.status in ("ok", "failed", "declined", "refused", "blocked"):
        pass  # the header was printed before it ran
    else:
        con.print()
        con.print(Text.assemble(("▸ ", "bold"), (rec.id, "bold"), "  ", rec.title,
                                (f"  [{rec.status}]", STATUS_STYLE.get(rec.status, ""))))
        if rec.command and rec.status == "manual":
            con.print(Text("  " + rec.command, style="cyan"))
    text = rec.output if (full or rec.summary is None) else rec.summary
    if text:
        lines = text.splitlines()
        shown = lines if full else lines[:MAX_LINES]
        for ln in shown:
            con.print(Text("  │ " + ln), highlight=False, soft_wrap=True)
        more = len(lines) - len(shown)
        if more:
            con.print(Text(f"  │ … {more} more lines (--full)", style="dim"))
        elif text is rec.summary:
            con.print(Text("  │ (selected fields; --full for the whole output)", style="dim"))
    if rec.status == "failed":
        con.print(Text(f"  exit status {rec.exit_code}" + (f": {rec.note}" if rec.note else ""), style="red"))
    if rec.status in ("skipped", "declined", "refused", "blocked") and rec.note:
        con.print(Text(f"  {rec.status}: {rec.note}", style=STATUS_STYLE.get(rec.status, "")))
    if rec.status == "manual" and rec.expect:
        con.print(Text("  " + rec.expect, style="magenta"))
    elif rec.status in ("ok", "failed") and rec.expect:
        con.print(Text("  expect: " + rec.expect, style="dim"))
    for k, v in rec.captured.items():
        con.print(Text.assemble("  captured ", (f"{k}={v}", "bold")))
    if rec.branch:
        con.print(Text.assemble(("  → ", "bold yellow"), (rec.branch, "yellow"), " → ", (rec.goto or "", "bold")))
    if rec.see:
        con.print(Text.assemble("  continue with: ", (f"sre-expert runbook show {rec.see}", "bold")))


def _print_summary(con: Any, rb: Runbook, result: RunResult, given: dict[str, str], source: str) -> None:
    from collections import Counter

    from rich.markup import escape

    counts = Counter(r.status for r in result.steps)
    con.print()
    parts = ", ".join(f"{n} {s}" for s, n in counts.items())
    if result.outcome == "completed":
        failed = result.unexpected_failures
        if failed:
            con.print(f"[bold yellow]Completed[/] {rb.id}: {parts}; failed: " + ", ".join(r.id for r in failed) + ".")
        else:
            con.print(f"[bold green]Completed[/] {rb.id}: {parts}.")
        return
    last = result.steps[-1]
    why = f" {last.note[:1].upper()}{last.note[1:]}." if last.status == "failed" and last.note else ""
    con.print(f"[bold yellow]Stopped[/] at step {last.id} ({last.status}): {parts}.{escape(why)}")
    if last.status in ("declined", "refused") and last.token:
        args = " ".join(f"-p {k}={v}" for k, v in given.items() if k not in ("namespace", "pod"))
        ns = f" -n {given['namespace']}" if "namespace" in given else ""
        pod = f" --pod {given['pod']}" if "pod" in given else ""
        con.print(f"To run it without a terminal: sre-expert runbook run {rb.id}{ns}{pod}"
                  f"{(' ' + args) if args else ''}{(' ' + source) if source else ''} --from {last.id} "
                  f"--yes-i-understand --confirm {last.token}", markup=False)
        if any(r.captured for r in result.steps):
            con.print("(values captured in this run must then be given with -p: "
                      + ", ".join(f"{k}={v}" for r in result.steps for k, v in r.captured.items()) + ")", markup=False)


# ---------------------------------------------------------------------------------------- redact


def redact_cmd(
    patterns: Annotated[list[str] | None, typer.Option(
        "--patterns", help="YAML file of extra rules (format of knowledge/redaction.yaml); repeatable.")] = None,
    text: Annotated[bool, typer.Option(
        "--text", help="Treat the input as plain text even when it is JSON or YAML objects.")] = False,
    stats: Annotated[bool, typer.Option("--stats", help="Print how many values were hidden, per kind, to stderr.")] = False,
) -> None:
    """Read stdin, write it to stdout with secrets and personal data replaced by placeholders.

    Tokens, passwords (also inside URIs), keys, cloud credentials, emails, phone numbers, national IDs
    and dates of birth become <redacted:KIND#N>; the same value gets the same placeholder. Kubernetes
    JSON or YAML (kubectl get -o json|yaml) is read as objects, so every Secret value goes, whatever its key.

    Example: [bold]kubectl logs deploy/api | sre-expert redact[/] · [bold]kubectl get secret x -o yaml | sre-expert redact[/]
    """
    from sre_expert.safety.redact import (
        PlaceholderTable,
        RedactionConfigError,
        load_rules,
        redact,
        redact_obj,
    )

    try:
        rules = load_rules(patterns or ())
    except RedactionConfigError as e:
        print_error(str(e))
        raise typer.Exit(2) from None
    data = sys.stdin.read()
    table = PlaceholderTable()
    out = None if text else _redact_structured(data, table, rules, redact_obj)
    if out is None:
        out = redact(data, table=table, rules=rules)
    sys.stdout.write(out)
    sys.stdout.flush()
    if stats:
        counts = table.counts()
        summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing"
        sys.stderr.write(f"redacted: {summary}\n")


def _redact_structured(data: str, table: Any, rules: Any, redact_obj: Any) -> str | None:
    """JSON or Kubernetes YAML objects, redacted as objects and written back in the same format; None
    when the input is not that (then it is redacted as text)."""
    import re

    stripped = data.lstrip()
    if stripped[:1] in ("{", "["):
        import json

        try:
            doc = json.loads(data)
        except ValueError:
            return None
        indent = 2 if "\n" in data.strip() else None
        return json.dumps(redact_obj(doc, table=table, rules=rules), indent=indent, ensure_ascii=False) + "\n"
    if re.search(r"^kind:\s*\S", data, re.MULTILINE) and re.search(r"^apiVersion:\s*\S", data, re.MULTILINE):
        import yaml

        try:
            docs = [d for d in yaml.safe_load_all(data) if d is not None]
        except yaml.YAMLError:
            return None
        if not docs or not all(isinstance(d, dict) for d in docs):
            return None
        red = [redact_obj(d, table=table, rules=rules) for d in docs]
        return yaml.safe_dump_all(red, sort_keys=False, allow_unicode=True, width=10_000)
    return None


def register(app: typer.Typer) -> None:
    app.add_typer(runbook_app, name="runbook")
    app.command("redact")(redact_cmd)
