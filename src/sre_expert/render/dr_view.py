"""`sre-expert dr status` and `sre-expert dr plan SCENARIO [-n NAMESPACE]`.

status: every namespace with the schedules that cover it, its newest Completed backup, that backup's
age against the namespace's RPO, and the verdict. Exit 0 when every namespace that must meet an RPO
does, 1 when one misses it or is in no schedule.

plan: the recovery procedure of one scenario of the RTO/RPO table, with the real backup names of the
snapshot, preconditions checked against it, and every command labelled read-only, mutating or
destructive. Exit 0 when no blocking precondition fails, 1 when one does, 2 for an unknown scenario
(the valid ones are listed) or a namespace-scoped scenario without a namespace (candidates listed).

Output: terminal (rich tables), json, or markdown; written to the given console.
"""

from __future__ import annotations

from typing import Any

import orjson
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from sre_expert.core.kinds import add_commands
from sre_expert.core.snapshot import Snapshot, unseen_notes
from sre_expert.core.timeutil import human
from sre_expert.domain.recovery import (
    ArchiveDR,
    NamespaceDR,
    Plan,
    UnknownScenario,
    VeleroState,
    dr_cluster_archive,
    dr_plan,
    dr_status,
    format_duration,
    objectives,
)
from sre_expert.render.terminal import emit, emit_command, print_fitted

STATUS_STYLE = {"met": "green", "missed": "bold red", "unprotected": "bold red", "not-covered": "dim"}
SAFETY_STYLE = {"read-only": "green", "mutating": "yellow", "destructive": "bold red", "manual": "magenta"}


def _fmt(output: Any) -> str:
    v = str(getattr(output, "value", output) or "terminal").lower()
    return "terminal" if v in ("table", "text", "rich") else v


def _iso(t: Any) -> str:
    return t.isoformat().replace("+00:00", "Z") if t else "-"


def _write(console: Console, text: str) -> None:
    console.file.write(text if text.endswith("\n") else text + "\n")
    console.file.flush()


def _json(console: Console, data: Any) -> None:
    console.file.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
    console.file.flush()


# ------------------------------------------------------------------------------------------ status


def status_summary(rows: list[NamespaceDR]) -> dict[str, int]:
    """Namespaces per verdict (met, missed, unprotected, notRequired): the CLI, the agent and MCP count alike."""
    out = {"met": 0, "missed": 0, "unprotected": 0, "notRequired": 0}
    for r in rows:
        if not r.required:
            out["notRequired"] += 1
        elif r.status == "met":
            out["met"] += 1
        elif r.status == "unprotected":
            out["unprotected"] += 1
        else:
            out["missed"] += 1
    return out


def status_exit(rows: list[NamespaceDR], archive: ArchiveDR | None = None) -> int:
    missed = any(r.required and r.status != "met" for r in rows) or (archive is not None and not archive.met)
    return 1 if missed else 0


def scope_note(snap: Snapshot, unseen: list[str]) -> str | None:
    """What a scoped sweep (`-n`) could not judge, as one line; None when everything was read."""
    if not unseen:
        return None
    shown = ", ".join(unseen[:6]) + (f" and {len(unseen) - 6} more" if len(unseen) > 6 else "")
    return f"not checked: {shown}: outside the swept namespaces ({snap.info.scope_text()})"


def uncollected_note(snap: Snapshot, kinds: list[str]) -> str | None:
    """Why nothing is judged when the capture lacks the kinds a verdict needs, and how to add them."""
    if not kinds:
        return None
    return (f"not checked: Velero {' and '.join(kinds)} {'was' if len(kinds) == 1 else 'were'} not in the "
            f"{'bundle' if snap.info.source == 'bundle' else 'sweep'}, so no recovery point is judged; "
            f"add {'it' if len(kinds) == 1 else 'them'}: {add_commands(kinds)}")


NOT_INSTALLED = "Velero not installed: no backups to judge (not checked)"


def velero_absent(snap: Snapshot, st: VeleroState) -> bool:
    """Velero is known not to be installed: no Velero objects and no Velero server workload, with its namespace
    swept. Then there are no recovery points to judge, which is not the same as every RPO missed."""
    return not st.installed and not st.unseen and st.server() is None


def run_dr_status(snap: Snapshot, output: Any, console: Console) -> int:
    st = VeleroState(snap)
    if velero_absent(snap, st):
        fmt = _fmt(output)
        if fmt == "json":
            _json(console, {
                "capturedAt": _iso(snap.now), "cluster": snap.info.cluster,
                "grace": format_duration(objectives().grace), "veleroInstalled": False,
                "namespaces": [], "clusterArchive": None, "summary": status_summary([]),
                "sweptNamespaces": list(snap.info.namespaces), "notChecked": [NOT_INSTALLED],
            })
        elif fmt == "markdown":
            _write(console, f"# Recovery points ({_iso(snap.now)})\n\n{NOT_INSTALLED}\n")
        else:
            console.print(Text(NOT_INSTALLED, style="yellow"))
        return 0
    with unseen_notes() as unseen:
        rows = dr_status(snap, st)
    archive = dr_cluster_archive(snap, st) if st.installed and not st.unseen else None
    note = scope_note(snap, unseen)
    missing = uncollected_note(snap, st.not_collected)
    if missing:
        unseen = [missing, *unseen]
        note = "\n".join(n for n in (missing, note) if n)
    fmt = _fmt(output)
    summary = status_summary(rows)
    if fmt == "json":
        _json(console, {
            "capturedAt": _iso(snap.now), "cluster": snap.info.cluster,
            "grace": format_duration(objectives().grace), "veleroInstalled": None if st.unseen else st.installed,
            "namespaces": [r.to_json() for r in rows],
            "clusterArchive": archive.to_json() if archive else None, "summary": summary,
            "sweptNamespaces": list(snap.info.namespaces), "notChecked": unseen,
        })
    elif fmt == "markdown":
        _write(console, _status_markdown(snap, rows, summary, archive, st.unseen) + (f"\n{note}\n" if note else ""))
    else:
        _status_terminal(snap, rows, summary, console, archive, st.unseen)
        if note:
            console.print(Text(note, style="yellow"))
    return status_exit(rows, archive)


def _archive_line(a: ArchiveDR) -> str:
    src = ", ".join(a.schedules) or "no schedule"
    if a.backup is None:
        return f"cluster archive ({src}): no Completed backup, RPO {format_duration(a.rpo)} MISSED"
    verdict = "met" if a.met else "MISSED"
    return (f"cluster archive ({src}): {a.backup}, {human(a.age) if a.age is not None else '?'} old, "
            f"RPO {format_duration(a.rpo)} {verdict}")


def _schedules_text(r: NamespaceDR) -> str:
    if not r.schedules:
        return "-"
    parts = []
    for s in r.schedules:
        t = s.name + (" (paused)" if s.paused else "")
        if s.limits:
            t += " (partial)"
        parts.append(t)
    return ", ".join(parts)


def _verdict(r: NamespaceDR) -> str:
    if r.status == "met":
        return "met"
    if r.status == "missed":
        return "MISSED"
    if r.status == "unprotected":
        return "NO SCHEDULE"
    return "not required"


def _status_terminal(snap: Snapshot, rows: list[NamespaceDR], summary: dict[str, int], console: Console,
                     archive: ArchiveDR | None = None, velero_unseen: bool = False) -> None:
    table = Table(title=f"Recovery points · captured {snap.now:%Y-%m-%d %H:%M} UTC", show_lines=False)
    for col in ("namespace", "class", "RPO", "schedules", "newest good backup", "age", "verdict"):
        table.add_column(col, overflow="fold", no_wrap=col in ("namespace", "class", "RPO", "age"))
    order = {"missed": 0, "unprotected": 1, "met": 2, "not-covered": 3}
    for r in sorted(rows, key=lambda r: (not r.required, order.get(r.status, 9), r.namespace)):
        style = STATUS_STYLE.get(r.status, "") if r.required else "dim"
        table.add_row(
            r.namespace, r.klass, format_duration(r.rpo) if r.required else f"({format_duration(r.rpo)})",
            _schedules_text(r), r.last_backup or "-", human(r.age) if r.age is not None else "-",
            Text(_verdict(r), style=style),
        )
    print_fitted(console, table)
    line = Text()
    line.append(f"{summary['met']} met", style="green")
    line.append(" · ")
    line.append(f"{summary['missed']} missed", style="bold red" if summary["missed"] else "dim")
    line.append(" · ")
    line.append(f"{summary['unprotected']} in no schedule", style="bold red" if summary["unprotected"] else "dim")
    line.append(f" · {summary['notRequired']} without an RPO requirement")
    console.print(line)
    if archive is not None:
        console.print(Text(_archive_line(archive), style="green" if archive.met else "bold red"))
    elif not velero_unseen:
        console.print(Text("Velero has no storage location, schedule or backup: no namespace is backed up", style="bold red"))
    for r in rows:
        if r.required and r.status != "met":
            console.print(f"  ✘ {escape(r.namespace)}: {escape(r.reason)}", style="red", highlight=False)


def _md_cell(v: Any) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def _status_markdown(snap: Snapshot, rows: list[NamespaceDR], summary: dict[str, int],
                     archive: ArchiveDR | None = None, velero_unseen: bool = False) -> str:
    out = [f"# Recovery points ({_iso(snap.now)})", ""]
    out.append(f"{summary['met']} met · {summary['missed']} missed · {summary['unprotected']} in no schedule · "
               f"{summary['notRequired']} without an RPO requirement")
    out.append("")
    if archive is not None or not velero_unseen:
        out.append(_archive_line(archive) if archive is not None
                   else "Velero has no storage location, schedule or backup: no namespace is backed up")
        out.append("")
    out.append("| namespace | class | RPO | schedules | newest good backup | taken | age | verdict |")
    out.append("|---|---|---|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: (not r.required, r.status == "met", r.namespace)):
        out.append("| " + " | ".join(_md_cell(x) for x in (
            r.namespace, r.klass, format_duration(r.rpo) if r.required else "-", _schedules_text(r),
            r.last_backup or "-", _iso(r.last_backup_time), human(r.age) if r.age is not None else "-", _verdict(r),
        )) + " |")
    bad = [r for r in rows if r.required and r.status != "met"]
    if bad:
        out += ["", "## Not met", ""]
        out += [f"- **{r.namespace}**: {r.reason}" for r in bad]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------------------ plan


def run_dr_plan(snap: Snapshot, scenario: str, namespace: str | None, output: Any, console: Console) -> int:
    fmt = _fmt(output)
    try:
        plan = dr_plan(snap, scenario, namespace)
    except UnknownScenario as e:
        if fmt == "json":
            _json(console, {"error": str(e), "validScenarios": e.valid})
        else:
            _write(console, f"error: unknown scenario {scenario!r}. Valid scenarios:")
            for s in objectives().scenarios:
                _write(console, f"  {s.id:<22} {s.name} (RTO {format_duration(s.rto)}, RPO {format_duration(s.rpo)})")
        return 2
    if plan.scenario.namespace_scoped and not namespace:
        if fmt == "json":
            _json(console, {"error": f"scenario {plan.scenario.id} needs a namespace", "candidates": plan.candidates,
                            "plan": plan.to_json()})
        else:
            _write(console, f"error: scenario {plan.scenario.id} restores one namespace; name it with --namespace/-n. "
                            f"Namespaces that must meet an RPO: {', '.join(plan.candidates) or '(none found)'}")
        return 2
    if fmt == "json":
        _json(console, {"capturedAt": _iso(snap.now), "cluster": snap.info.cluster, **plan.to_json()})
    elif fmt == "markdown":
        _write(console, plan_markdown(snap, plan))
    else:
        _plan_terminal(snap, plan, console)
    return 0 if plan.ready else 1


def _backup_line(plan: Plan) -> str:
    if plan.backup is None:
        return "no usable backup found"
    age = human(plan.backup_age) if plan.backup_age is not None else "?"
    verdict = "" if plan.rpo_met is None else (" (within RPO)" if plan.rpo_met else " (OLDER THAN THE RPO)")
    return f"{plan.backup}, taken {_iso(plan.backup_time)}, {age} ago{verdict}"


def _mark(ok: bool | None) -> tuple[str, str]:
    if ok is True:
        return "✔", "green"
    if ok is False:
        return "✘", "bold red"
    return "?", "yellow"


def _plan_terminal(snap: Snapshot, plan: Plan, console: Console) -> None:
    sc = plan.scenario
    head = Text()
    head.append(f"{sc.name}", style="bold")
    if plan.namespace:
        head.append(f" · namespace {plan.namespace}")
    head.append(f"\nRTO {format_duration(sc.rto)} · RPO {format_duration(sc.rpo)} · {sc.method}")
    if sc.backup != "none":
        head.append(f"\nrestore point: {_backup_line(plan)}")
    head.append(f"\nsnapshot captured {_iso(snap.now)}", style="dim")
    console.print(Panel(head, expand=False))
    if plan.preconditions:
        t = Table(title="Preconditions", show_header=False, box=None, pad_edge=False)
        t.add_column("", width=2)
        t.add_column("check", overflow="fold")
        t.add_column("evidence", overflow="fold")
        for p in plan.preconditions:
            mark, style = _mark(p.ok)
            desc = Text(p.description + ("" if p.blocking else " (advisory)"))
            t.add_row(Text(mark, style=style), desc, Text(p.detail, style="dim"))
        print_fitted(console, t)
        console.print()
    # each step: its words (wrapped under themselves), then its command whole on its own line, so a
    # copy of the line is the command at any terminal width
    console.print(Text("Procedure", style="bold"))
    for i, s in enumerate(plan.steps, 1):
        safety = s.safety if s.command else "manual"
        words = Text(s.description)
        words.append(f"  [{safety}]", style=SAFETY_STYLE.get(safety, ""))
        emit(console, words, 5, Text(f"{i:>3}. ", style="bold"))
        if s.command:
            emit_command(console, Text(s.command, style="bold"), 7)
    for n in plan.notes:
        console.print(f"• {escape(n)}", highlight=False)
    if not plan.ready:
        console.print(Text("A blocking precondition fails: fix it before running the mutating steps.", style="bold red"))
    console.print(Text("Mutating and destructive commands are never run by sre-expert: run them yourself after review.",
                       style="dim"))


def plan_markdown(snap: Snapshot, plan: Plan) -> str:
    sc = plan.scenario
    out = [f"# Recovery plan: {sc.name}" + (f" ({plan.namespace})" if plan.namespace else ""), ""]
    out.append(f"- RTO: **{format_duration(sc.rto)}** · RPO: **{format_duration(sc.rpo)}**")
    out.append(f"- Method: {sc.method}")
    if sc.backup != "none":
        out.append(f"- Restore point: {_backup_line(plan)}")
    out.append(f"- Snapshot captured: {_iso(snap.now)}")
    if plan.preconditions:
        out += ["", "## Preconditions", ""]
        for p in plan.preconditions:
            mark = {True: "✅", False: "❌", None: "❔"}[p.ok]
            out.append(f"- {mark} {p.description}{'' if p.blocking else ' (advisory)'}: {p.detail}")
    out += ["", "## Procedure", ""]
    for i, s in enumerate(plan.steps, 1):
        safety = s.safety if s.command else "manual"
        out.append(f"{i}. {s.description} — *{safety}*")
        if s.command:
            out += ["", "   ```sh", f"   {s.command}", "   ```", ""]
    if plan.notes:
        out += ["", "## Notes", ""] + [f"- {n}" for n in plan.notes]
    if not plan.ready:
        out += ["", "**A blocking precondition fails: fix it before running the mutating steps.**"]
    return "\n".join(out) + "\n"
