"""`sre-expert component [NAME]`: one component's health in one screen, or every component's state.

For one component: installed or not, expected vs running version, each controller workload with its
ready/available counts, the component's findings (root causes marked, symptoms pointing at their
cause), what its healthy state looks like, what an offline snapshot cannot show, and the commands to
debug it live. Without a name: a table of every component's state.

Exit status: 0 healthy (or not installed), 1 the component has warning or critical findings or a
controller short of pods, 2 unknown component name.
"""

from __future__ import annotations

from typing import Any

import orjson
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from sre_expert.core.model import Finding
from sre_expert.core.snapshot import Snapshot
from sre_expert.core.wording import plural
from sre_expert.diagnosis.engine import Report
from sre_expert.knowledge.platform_components import ComponentStatus, load_components, resolve, status_of
from sre_expert.render.terminal import is_plain, print_fitted

STATE_STYLE = {
    "healthy": "bold green", "degraded": "bold yellow", "failing": "bold red", "down": "bold red",
    "not-installed": "dim", "not-checked": "dim",
}
SEV_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
SAFETY_STYLE = {"read-only": "green", "mutating": "yellow", "destructive": "bold red"}


def _fmt(output: Any) -> str:
    return str(getattr(output, "value", output) or "terminal")


def _exit(statuses: list[ComponentStatus]) -> int:
    """1 when an installed component has problems, a controller short of pods, or a required one missing;
    a role this install simply leaves out (Grafana, the node agent) is not a problem."""
    bad = any(
        s.installed and (s.problems or any((c.found and not c.healthy) or (not c.found and c.required and c.visible
                                                                              and c.collected)
                                           for c in s.controllers))
        for s in statuses
    )
    return 1 if bad else 0


def _write_json(console: Console, data: Any) -> None:
    console.file.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
    console.file.flush()


def _version_text(s: ComponentStatus) -> Text:
    t = Text()
    t.append(f"expected {s.component.version}")
    if not s.versions_seen:
        t.append(" · no controller image seen", style="dim")
        return t
    t.append(" · running " + ", ".join(s.versions_seen))
    ok = s.version_ok
    t.append("  ✔" if ok else "  ✘ differs", style="green" if ok else "yellow")
    return t


def _controllers_table(s: ComponentStatus) -> Table:
    tbl = Table(box=None, show_header=True, header_style="dim", pad_edge=False, expand=False)
    for col in ("", "controller", "ready", "available", "image"):
        tbl.add_column(col, overflow="fold")
    for cs in s.controllers:
        if not cs.visible or not cs.collected:
            tbl.add_row(Text("?", style="dim"), cs.ref.display(), Text(cs.summary(), style="dim"), "", "")
            continue
        mark = Text("✔", style="green") if cs.healthy else Text("✘", style="bold red")
        if not cs.found:
            if cs.required:
                tbl.add_row(mark, cs.ref.display(), Text("missing", style="bold red"), "", "")
            else:
                tbl.add_row(Text("–", style="dim"), cs.ref.display(), Text("not installed", style="dim"), "", "")
            continue
        name = cs.display() + (f" (as {cs.ref.display()}, by {cs.how})" if cs.differs else "")
        tbl.add_row(
            mark, name, f"{cs.ready}/{cs.desired}", f"{cs.available}/{cs.desired}",
            ", ".join(img.rsplit("/", 1)[-1] for img in cs.images),
        )
    return tbl


def _findings_grid(s: ComponentStatus, by_id: dict[str, Finding]) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, min_width=10)
    grid.add_column(overflow="fold")
    for f in s.findings:
        grid.add_row(Text(f"  {f.severity.upper()}", style=SEV_STYLE[f.severity]), Text(f.title))
        role = "root cause" if f.root_cause else "symptom"
        if f.root_cause and f.causes:
            role += f" of {plural(len(f.causes), 'other finding')}"
        grid.add_row("", Text(f"{f.code} · {f.object.display()} · {role}", style="dim"))
        for cid in f.caused_by[:3]:
            cause = by_id.get(cid)
            if cause is not None:
                grid.add_row("", Text(f"← caused by: {cause.title} ({cause.code})", style="dim"))
        for e in f.evidence[:2]:
            grid.add_row("", Text(e, style="dim"))
    return grid


def _bullets(items: tuple[str, ...], style: str) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for item in items:
        grid.add_row(Text("  ·"), Text(item, style=style))
    return grid


def render_component(s: ComponentStatus, report: Report, boxed: bool = True) -> Panel | Group:
    """One component in a panel; unboxed (piped), the title then the same lines, without a frame."""
    c = s.component
    by_id = {f.id: f for f in report.findings}
    parts: list[Any] = []
    head = Text()
    head.append(s.state.upper(), style=STATE_STYLE[s.state])
    head.append(f"   namespaces: {', '.join(c.namespaces)}   findings component: {c.component}", style="dim")
    parts.append(head)
    if s.installed:
        parts.append(Text("installed: " + "; ".join(s.detected_by), style="dim"))
        for d in s.differences:
            parts.append(Text(f"differs from the reference platform: {d}", style="dim"))
    else:
        parts.append(Text("not installed: none of its kinds, CRDs, controllers or namespace workloads were found"))
    parts.append(Text.assemble(("version  ", "bold"), _version_text(s)))
    if c.controllers:
        parts.append(Text("\nControllers", style="bold"))
        parts.append(_controllers_table(s))
    problems = [f for f in s.findings if f.severity != "info"]
    infos = len(s.findings) - len(problems)
    parts.append(Text(f"\nFindings ({len(problems)} warning or worse" + (f", {infos} info)" if infos else ")"), style="bold"))
    if s.findings:
        parts.append(_findings_grid(s, by_id))
    else:
        parts.append(Text("  none", style="green"))
    parts.append(Text("\nHealthy looks like", style="bold"))
    parts.append(_bullets(c.healthy, ""))
    if c.not_checked:
        parts.append(Text("\nNot checked offline", style="bold"))
        parts.append(_bullets(c.not_checked, "dim"))
    parts.append(Text("\nDebugging commands", style="bold"))
    cmds = Table.grid(padding=(0, 1))
    cmds.add_column(no_wrap=True)
    cmds.add_column(overflow="fold")
    for cmd in c.commands:
        cmds.add_row(Text("  #", style="dim"), Text(cmd.description, style="dim"))
        t = Text(cmd.command, style="bold")
        if cmd.safety != "read-only":
            t.append(f"  [{cmd.safety}]", style=SAFETY_STYLE[cmd.safety])
        cmds.add_row(Text("  $"), t)
    parts.append(cmds)
    title = Text.assemble((c.title, "bold"), (f"  ({c.name})", "dim"))
    if not boxed:
        return Group(title, *parts)
    return Panel(Group(*parts), title=title, title_align="left", border_style=STATE_STYLE[s.state].replace("bold ", ""))


def run_component(snap: Snapshot, report: Report, name: str, output: Any, console: Console,
                  err_console: Console | None = None) -> int:
    """Show one component (or every component a catalogue name such as `policy` covers)."""
    comps = load_components()
    matched = resolve(name, comps)
    if not matched:
        known = sorted(comps)
        if _fmt(output) == "json":
            _write_json(console, {"error": f"unknown component {name!r}", "known": known})
        else:
            err = err_console or Console(stderr=True, highlight=False)
            err.print(Text.assemble(("error: ", "bold red"), f"unknown component {name!r}. Known components: {', '.join(known)}"))
        return 2
    statuses = [status_of(snap, c, report.findings) for c in matched]
    if _fmt(output) == "json":
        _write_json(console, statuses[0].to_json() if len(statuses) == 1 else {"components": [s.to_json() for s in statuses]})
    else:
        for s in statuses:
            print_fitted(console, render_component(s, report, boxed=not is_plain(console)))
    return _exit(statuses)


def run_components_list(snap: Snapshot, report: Report, output: Any, console: Console) -> int:
    """Every known component with its state, version and controller readiness."""
    statuses = [status_of(snap, c, report.findings) for c in load_components().values()]
    if _fmt(output) == "json":
        _write_json(console, {"components": [summary_json(s) for s in statuses]})
        return _exit(statuses)
    tbl = Table(title="Platform components", title_justify="left")
    for col in ("component", "state", "version", "controllers", "findings"):
        tbl.add_column(col, no_wrap=True)  # a name split across lines cannot be read, found or copied
    tbl.add_column("namespaces", overflow="fold")
    for s in statuses:
        crit = sum(1 for f in s.findings if f.severity == "critical")
        warn = sum(1 for f in s.findings if f.severity == "warning")
        ready = sum(1 for c in s.controllers if c.healthy)
        present = sum(1 for c in s.controllers if c.found or c.required)
        ver = Text(", ".join(s.versions_seen) or "—")
        if s.version_ok is False:
            ver.append(f" (expected {s.component.version})", style="yellow")
        fnd = Text()
        if crit:
            fnd.append(f"{crit} critical ", style=SEV_STYLE["critical"])
        if warn:
            fnd.append(f"{warn} warning", style=SEV_STYLE["warning"])
        tbl.add_row(
            Text(s.component.name, style="bold"),
            Text(s.state, style=STATE_STYLE[s.state]),
            ver if s.installed else Text("—", style="dim"),
            f"{ready}/{present} healthy" if s.installed else "—",
            fnd if (crit or warn) else Text("—", style="dim"),
            ", ".join(s.component.namespaces),
        )
    print_fitted(console, tbl)
    console.print(Text("Details: sre-expert component NAME", style="dim"))
    return _exit(statuses)


def summary_json(s: ComponentStatus) -> dict[str, Any]:
    """One line of the component list as JSON (state, versions, controllers, finding counts), shared with
    the agent's and MCP's `component` tool so both list components the same way."""
    return {
        "name": s.component.name,
        "title": s.component.title,
        "component": s.component.component,
        "installed": s.installed,
        "state": s.state,
        "version": {"expected": s.component.version, "seen": s.versions_seen, "matches": s.version_ok},
        "controllers": [c.to_json() for c in s.controllers],
        "findings": {sev: sum(1 for f in s.findings if f.severity == sev) for sev in ("critical", "warning", "info")},
        "findingIds": [f.id for f in s.findings],
    }
