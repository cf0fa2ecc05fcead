"""Terminal report with rich: each root cause with short evidence, its fix, and what it explains."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console, Group
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ..diagnosis.engine import Report
from ..model import Finding
from .markdown import _symptoms

STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
SAFETY_STYLE = {"read-only": "green", "mutating": "yellow", "destructive": "bold red"}


def counts_line(report: Report, lead: str) -> Text:
    """`lead` then the counts by severity (zero counts dimmed) and how many a filter hid."""
    s = report.summary()
    line = Text(lead)
    line.append(f"{s['critical']} critical", style=STYLE["critical"] if s["critical"] else "dim")
    line.append(" · ")
    line.append(f"{s['warning']} warning", style=STYLE["warning"] if s["warning"] else "dim")
    line.append(f" · {s['info']} info")
    if report.hidden:
        line.append(f" · {report.hidden} filtered out", style="dim")
    return line


def render_terminal(report: Report, console: Console, max_evidence: int = 4, show_info: bool = True) -> None:
    """Print the report; every string that quotes the cluster goes through the redactor first."""
    from ..safety.controls import visible_controls
    from ..safety.redact import PlaceholderTable, redact

    table = PlaceholderTable()

    def red(text: str) -> str:
        return visible_controls(redact(text, table=table))
    info = report.info
    by_id = {f.id: f for f in report.findings}
    roots = [f for f in report.findings if f.root_cause and (show_info or f.severity != "info")]
    head = Text()
    head.append("sre-expert", style="bold")
    head.append(f" · {info.cluster or 'cluster'} · captured {info.captured_at:%Y-%m-%d %H:%M} UTC · {info.source}")
    if info.captured_at_note():
        head.append(f" · {info.captured_at_note()}", style="yellow")
    if info.namespaces:
        head.append(f" · swept only {', '.join(info.namespaces)}", style="yellow")
    console.print(head)
    console.print(counts_line(report, f"{len([f for f in report.findings if f.root_cause])} root causes · "))
    console.print()
    if not report.findings:
        console.print("[green]✔ No problems found.[/]")
    for n, f in enumerate(roots, 1):
        console.print(_root_block(n, f, _symptoms(f, by_id), max_evidence, red))
        console.print()
    if report.not_checked:
        console.print("[bold]Not checked[/]")
        for t in report.not_checked:
            console.print(f"  · {t}", style="dim", markup=False, highlight=False)
    if info.collection_errors:
        console.print("[bold]Collection errors[/]")
        for e in info.collection_errors:
            console.print(f"  · {e.get('kind')} {e.get('namespace') or ''}: {red(str(e.get('error')))}", markup=False,
                          highlight=False)
    if info.warnings:
        console.print("[bold]Input warnings[/]")
        for w in info.warnings[:20]:
            console.print(f"  · {red(w)}", style="dim", markup=False, highlight=False)
        if len(info.warnings) > 20:
            console.print(f"  · … {len(info.warnings) - 20} more (see --output json)", style="dim")


def _root_block(n: int, f: Finding, symptoms: list[Finding], max_evidence: int, red: Callable[[str], str]) -> Group:
    title = Text()
    title.append(f"{n:>2}  ", style="bold")
    title.append(f"{f.severity.upper():<8}", style=STYLE[f.severity])
    title.append(f" {red(f.title)}", style="bold")
    sub = Text(f"    {f.code} · {f.component} · {f.object.display()}", style="dim")
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    for i, e in enumerate(f.evidence[:max_evidence]):
        grid.add_row("evidence" if i == 0 else "", Text(red(e)))
    if len(f.evidence) > max_evidence:
        grid.add_row("", Text(f"… {len(f.evidence) - max_evidence} more (--output json)", style="dim"))
    for i, r in enumerate(f.remediation[:3]):
        line = Text()
        if r.command:
            line.append(red(r.command), style="bold")
            line.append(f"  [{r.safety}]", style=SAFETY_STYLE.get(r.safety, ""))
            line.append(f"  {red(r.description)}", style="dim")
        else:
            line.append(red(r.description))
        grid.add_row("fix" if i == 0 else "", line)
    if f.runbook:
        grid.add_row("runbook", Text(f.runbook))
    for i, g in enumerate(symptoms[:8]):
        line = Text()
        line.append("✘ ", style=STYLE[g.severity])
        line.append(red(g.title))
        line.append(f"  ({g.code})", style="dim")
        grid.add_row("explains" if i == 0 else "", line)
    if len(symptoms) > 8:
        grid.add_row("", Text(f"… {len(symptoms) - 8} more symptoms", style="dim"))
    return Group(title, sub, Padding(grid, (0, 0, 0, 4)))
