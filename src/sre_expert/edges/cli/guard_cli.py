"""`sre-expert guard`: classify command lines, and run one through confirmation and the audit log."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

import typer

from sre_expert.edges.cli.options import print_error, stdout_console

guard_app = typer.Typer(
    help="Classify commands as read-only, mutating, destructive or unknown (and flag those that print Secret "
         "values); run one with confirmation and an audit record.",
    no_args_is_help=True,
)

_PASSTHROUGH = {"allow_interspersed_args": False, "ignore_unknown_options": True}


class GuardOutput(str, Enum):
    terminal = "terminal"
    json = "json"
    tsv = "tsv"


def register(app: typer.Typer) -> None:
    app.add_typer(guard_app, name="guard")


def _command_line(args: list[str]) -> str:
    """One argument is the command line as written; several are argv words (quoted back as a shell would)."""
    import shlex

    return args[0] if len(args) == 1 else shlex.join(args)


def _read_batch(path: str) -> list[str]:
    """One command per line; a trailing backslash continues the line; blank lines and comments are skipped."""

    try:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    except (OSError, UnicodeDecodeError) as e:
        print_error(f"cannot read {path}: {e}")
        raise typer.Exit(2) from None
    commands: list[str] = []
    buf = ""
    for line in text.splitlines():
        if line.endswith("\\") and not line.endswith("\\\\"):
            buf += (line[:-1].lstrip() if buf else line[:-1]).rstrip() + " "
            continue
        full = (buf + (line.lstrip() if buf else line)).strip()
        buf = ""
        if full and not full.startswith("#"):
            commands.append(full)
    if buf.strip():
        commands.append(buf.strip())
    return commands


@guard_app.command("classify", context_settings=_PASSTHROUGH)
def classify_cmd(
    command: Annotated[list[str] | None, typer.Argument(
        help="The command: one quoted string ('kubectl get pods | grep x') or its words after --.")] = None,
    output: Annotated[GuardOutput | None, typer.Option(
        "--output", "-o", help="json (default: one object), terminal (coloured, with reasons) or tsv "
                               "(default with --batch).")] = None,
    batch: Annotated[str | None, typer.Option(
        "--batch", help="Classify one command per line of FILE ('-' = stdin): TSV class, exposesSecrets, command "
                        "(JSON lines with -o json).")] = None,
) -> None:
    """Classify a command line without running it: read-only, mutating, destructive or unknown.

    Examples: [bold]sre-expert guard classify 'kubectl delete pod x -n prod'[/] ·
    [bold]sre-expert guard classify -o json -- kubectl exec pg-0 -- psql -c 'DROP TABLE t'[/] ·
    [bold]sre-expert guard classify --batch commands.txt[/]   (options go before the command)

    The line is parsed as bash parses it: pipes, lists, subshells, $( ), heredocs, sh -c, sudo, xargs …
    Its class is the highest of its parts: destructive > mutating > unknown > read-only.
    The class is a label: what runs without confirmation is decided by the execution gate's allow-list
    (kubectl reads and text filters, no shell syntax); everything else, read-only or not, is confirmed first.

    Output: JSON ({"class": …, "exposesSecrets": …, "reasons": […]}), the contract scripts read; -o terminal for
    people. With --batch: one TSV line per command, or JSON lines with -o json.

    Exit status: 0 (the class is data, not an error); 2 for bad usage.
    """
    import json

    from sre_expert.safety.guard import classify

    if output is None:
        output = GuardOutput.tsv if batch is not None else GuardOutput.json

    if batch is not None:
        if command:
            print_error("give either --batch FILE or a command, not both")
            raise typer.Exit(2)
        out = sys.stdout
        for line in _read_batch(batch):
            v = classify(line)
            if output is GuardOutput.json:
                out.write(json.dumps({**v.to_json(), "command": line}, ensure_ascii=False) + "\n")
            else:
                out.write(f"{v.cls}\t{'true' if v.exposes_secrets else 'false'}\t{line}\n")
        return
    if not command:
        print_error("no command given: sre-expert guard classify 'kubectl get pods' (or --batch FILE)")
        raise typer.Exit(2)
    line = _command_line(command)
    v = classify(line)
    if output is GuardOutput.tsv:
        sys.stdout.write(f"{v.cls}\t{'true' if v.exposes_secrets else 'false'}\t{line}\n")
        return
    if output is GuardOutput.json:
        sys.stdout.write(json.dumps(v.to_json(), ensure_ascii=False) + "\n")
        return
    from rich.markup import escape

    style = {"read-only": "green", "mutating": "yellow", "destructive": "bold red", "unknown": "magenta"}[v.cls]
    console = stdout_console()
    console.print(f"[{style}]{v.cls}[/]" + ("  [bold red]· prints Secret values[/]" if v.exposes_secrets else ""))
    for r in v.reasons:
        console.print(f"  - {escape(r)}")


@guard_app.command("run", context_settings=_PASSTHROUGH)
def run_cmd(
    command: Annotated[list[str] | None, typer.Argument(
        help="The command: one quoted string or its words after --.")] = None,
    yes_i_understand: Annotated[bool, typer.Option(
        "--yes-i-understand", help="Without a terminal: allow a command that needs confirmation (with --confirm).")] = False,
    confirm_token: Annotated[str | None, typer.Option(
        "--confirm", help="The confirmation token (the object's name, or the class word) for non-interactive runs.")] = None,
    no_dry_run: Annotated[bool, typer.Option("--no-dry-run", help="Skip the server-side dry-run preview.")] = False,
    show_secrets: Annotated[bool, typer.Option(
        "--show-secrets", help="Print the command's output as is: not redacted, and not withheld when it prints "
                               "Secret values.")] = False,
    audit_log: Annotated[str | None, typer.Option(
        "--audit-log", help="Audit log path (default $SRE_EXPERT_AUDIT_LOG or ~/.local/state/sre-expert/audit.log).")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds before the command is killed.")] = 900.0,
) -> None:
    """Run one command: what the execution gate admits runs; anything else is previewed and confirmed first.

    Example: [bold]sre-expert guard run 'kubectl rollout restart deployment/api -n prod'[/]

    On a terminal you type the confirmation token: the object's name (the pod, the deployment), else the class.
    Without a terminal nothing that needs confirmation runs unless you pass --yes-i-understand --confirm TOKEN.
    Every run, decline and refusal is appended to the audit log; output is never logged, only its sha256.

    Exit status: the command's own when it ran; 1 declined or timed out; 2 refused, or bad usage.
    """
    from sre_expert.safety.audit import AuditError, AuditLog
    from sre_expert.safety.confirm import choose_confirmer
    from sre_expert.safety.execute import run_guarded

    if not command:
        print_error("no command given: sre-expert guard run -- kubectl rollout restart deployment/x -n ns")
        raise typer.Exit(2)
    line = _command_line(command)
    confirmer = choose_confirmer(yes_i_understand, confirm_token)
    try:
        result = run_guarded(line, confirm=confirmer, audit=AuditLog(audit_log), timeout=timeout,
                             dry_run_first=not no_dry_run)
    except AuditError as e:
        print_error(f"{e}; nothing was run")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        print_error("interrupted: nothing was run (recorded in the audit log as declined)")
        raise typer.Exit(130) from None
    if not result.ran:
        print_error(f"not run ({result.decision}): {result.message}")
        raise typer.Exit(2 if result.decision == "refused" else 1)
    if result.captured:
        if show_secrets:
            sys.stdout.buffer.write(result.stdout)
            sys.stderr.buffer.write(result.stderr)
        elif result.verdict.exposes_secrets:
            print_error(f"output withheld: this command prints Secret values ({len(result.stdout)} bytes, sha256 "
                 f"{result.output_sha256}); rerun with --show-secrets to print it")
        else:  # like every console of sre-expert: secrets and personal data become placeholders
            from sre_expert.safety.controls import visible_controls
            from sre_expert.safety.redact import PlaceholderTable, redact

            table = PlaceholderTable()
            sys.stdout.write(visible_controls(redact(result.stdout.decode("utf-8", errors="replace"), table=table)))
            sys.stderr.write(visible_controls(redact(result.stderr.decode("utf-8", errors="replace"), table=table)))
        sys.stdout.flush()
    if result.exit_code is None:
        print_error(result.message or "the command did not finish")
        raise typer.Exit(1)
    raise typer.Exit(result.exit_code)
