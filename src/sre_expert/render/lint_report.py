"""Terminal and Markdown output of `lint`: one block per finding, led by file:line like a compiler.

JSON goes through report.json_report (the `check` contract, plus `location`)."""

from __future__ import annotations

import re

from rich.console import Console
from rich.text import Text

from sre_expert.core.wording import plural
from sre_expert.diagnosis.engine import Report
from sre_expert.lint.codes import LintFinding
from sre_expert.render.terminal import STYLE, counts_line


def _where(f) -> str:
    return f.where() if isinstance(f, LintFinding) else f.object.display()


# Quoted values, and words with digits, punctuation or an inner capital: names (app-1, KubePodCrashLooping),
# images, paths, hosts, durations.
_VARYING = re.compile(r"'[^']*'|\"[^\"]*\"|\S*(?:[\d/.:@*_-]|[a-z][A-Z])\S*")
GROUP_FROM = 3  # this many findings of one shape are printed as one group


def shape(f) -> tuple[str, str, str]:
    """What makes findings "the same problem": code, severity and the title with its varying words
    (names, images, paths, numbers, quoted values) blanked."""
    return f.code, f.severity, _VARYING.sub("…", f.title)


def groups(findings: list) -> list[list]:
    """Findings of one shape together, in the order of their first (most severe) member."""
    out: dict[tuple[str, str, str], list] = {}
    for f in findings:
        out.setdefault(shape(f), []).append(f)
    return list(out.values())


def render_terminal(report: Report, console: Console, header: str, max_evidence: int = 4,
                    show_all: bool = False, shown: int = 3) -> None:
    """Every string goes to a console whose file redacts (cli._console). Findings of one shape seen
    GROUP_FROM times or more print as one group (count, the first `shown`), unless `show_all`."""
    console.print(Text(header, style="bold"))
    console.print(counts_line(report, f"{plural(len(report.findings), 'finding')} · "))
    console.print()
    if not report.findings:
        console.print("[green]✔ No problems found.[/]")
    hidden = 0
    for group in ([[f] for f in report.findings] if show_all else groups(report.findings)):
        if len(group) < GROUP_FROM:
            for f in group:
                _block(console, f, max_evidence)
            continue
        first = group[0]
        files = list(dict.fromkeys(f.file for f in group if isinstance(f, LintFinding) and f.file))
        head = Text()
        head.append(f"{len(group)} × ", style="bold")
        head.append(f"{first.severity.upper()}", style=STYLE[first.severity])
        head.append(f"  {first.code}", style="dim")
        head.append(f"  in {len(files)} file{'s' if len(files) != 1 else ''}" if files else "")
        console.print(head)
        console.print(Text(f"    {shape(first)[2]}"))
        for f in group[:shown]:
            console.print(Text(f"      · {_where(f)}: {f.title}", style="dim"))
        if len(group) > shown:
            hidden += len(group) - shown
            console.print(Text(f"      · … {len(group) - shown} more (--all, or --output json)", style="dim"))
        for r in first.remediation[:1]:
            fix = Text("    fix: ", style="green")
            fix.append(r.description)
            console.print(fix)
        console.print()
    if hidden:
        console.print(Text(f"{hidden} findings folded into groups above: --all prints each, --output json lists all.",
                           style="dim"))
        console.print()
    if report.not_checked:
        console.print("[bold]Not checked[/]")
        for t in report.not_checked:
            console.print(Text(f"  · {t}", style="dim"))


def _block(console: Console, f, max_evidence: int) -> None:
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


def render_markdown(report: Report, header: str) -> str:
    from sre_expert.safety.redact import redact

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
