"""Terminal and Markdown output of `lint`: one block per finding, led by file:line like a compiler.

JSON goes through report.json_report (the `check` contract, plus `location`)."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from ..diagnosis.engine import Report
from ..report.terminal import STYLE, counts_line
from ..wording import plural
from .codes import LintFinding

def _where(f) -> str:
    return f.where() if isinstance(f, LintFinding) else f.object.display()


def render_terminal(report: Report, console: Console, header: str, max_evidence: int = 4) -> None:
    """Every string goes to a console whose file redacts (cli._console)."""
    console.print(Text(header, style="bold"))
    console.print(counts_line(report, f"{plural(len(report.findings), 'finding')} · "))
    console.print()
    if not report.findings:
        console.print("[green]✔ No problems found.[/]")
    for f in report.findings:
        head = Text()
        head.append(_where(f), style="bold")
        head.append("  ")
        head.append(f"{f.severity.upper()}", style=STYLE[f.severity])
        head.append(f"  {f.code}", style="dim")
        console.print(head)
        console.print(Text(f"    {f.title}"))
        for e in f.evidence[:max_evidence]:
            console.print(Text(f"      · {e}", style="dim"))
        if len(f.evidence) > max_evidence:
            console.print(Text(f"      · … {len(f.evidence) - max_evidence} more (--output json)", style="dim"))
        for r in f.remediation[:1]:
            fix = Text("    fix: ", style="green")
            fix.append(r.description)
            if r.command:
                fix.append(f"  ({r.command})", style="bold")
            console.print(fix)
        console.print()
    if report.not_checked:
        console.print("[bold]Not checked[/]")
        for t in report.not_checked:
            console.print(Text(f"  · {t}", style="dim"))


def render_markdown(report: Report, header: str) -> str:
    from ..safety.redact import redact

    s = report.summary()
    lines = [f"# {header}", "", f"{s['critical']} critical, {s['warning']} warning, {s['info']} info.", ""]
    if not report.findings:
        lines += ["No problems found.", ""]
    for f in report.findings:
        lines += [f"## [{f.severity.upper()}] `{_where(f)}` {f.title}", "", f"`{f.code}` · {f.component} · "
                  f"{f.object.display()}", "", f.detail, ""]
        if f.evidence:
            lines += ["**Evidence:**"] + [f"- `{e}`" if "`" not in e else f"- {e}" for e in f.evidence] + [""]
        for r in f.remediation:
            lines += [f"**Fix:** {r.description}" + (f" `{r.command}`" if r.command else ""), ""]
    if report.not_checked:
        lines += ["## Not checked", ""] + [f"- {t}" for t in report.not_checked] + [""]
    return redact("\n".join(lines))
