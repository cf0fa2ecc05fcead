"""Terminal report with rich: the root causes on one page first, then each with evidence, fix and symptoms.

Two modes, chosen by where stdout goes. On a terminal, prose wraps at word boundaries with its
continuation lines indented under the text, and commands are printed whole on their own line (so a
copy-paste of the line works at any width). Piped (not a TTY), every item is one line, never wrapped or
padded, so `grep` finds it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from sre_expert.core.model import Finding
from sre_expert.core.wording import not_checked_words, plural, shorten
from sre_expert.diagnosis.engine import Report
from sre_expert.render.markdown import symptoms_of

STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
SAFETY_STYLE = {"read-only": "green", "mutating": "yellow", "destructive": "bold red"}
SEVERITIES = ("critical", "warning", "info")
MAX_SYMPTOMS = 8
MAX_EVIDENCE_CHARS = 320  # one evidence item on the terminal, unless --full
LEAD = 12  # " 1 CRITICAL ": the title, and every detail under it, start at this column
LABEL = 10  # width of the "evidence"/"fix" label (after two blanks), so details start at LEAD
FULL_HINT = "--full shows all"


# ------------------------------------------------------------------------------------------- helpers


def is_plain(console: Console) -> bool:
    """Piped or written to a file: print one line per item, no wrapping, no padding."""
    return not console.is_terminal


def emit(console: Console, text: Text | str, indent: int = 0, first: Text | str | None = None) -> None:
    """Print `first` (or `indent` spaces) then `text`. On a terminal `text` wraps at word boundaries and its
    continuation lines start at column `indent`, under the text; piped, it is one unwrapped line."""
    body = text if isinstance(text, Text) else Text(text)
    lead = Text(" " * indent) if first is None else (first if isinstance(first, Text) else Text(first))
    if is_plain(console):
        console.print(Text.assemble(lead, body), soft_wrap=True)
        return
    width = max(20, console.width - indent)
    for i, line in enumerate(body.wrap(console, width)):
        line.rstrip()
        console.print(Text.assemble(lead if i == 0 else " " * indent, line), soft_wrap=True)


def emit_command(console: Console, command: Text | str, indent: int) -> None:
    """A command on its own line, whole: never wrapped by us, so copying the line copies the command."""
    cmd = command if isinstance(command, Text) else Text(command, style="bold")
    console.print(Text.assemble(" " * indent, cmd), soft_wrap=True)


def print_fitted(console: Console, renderable: Any) -> None:
    """A table or panel: at the terminal's width on a terminal; piped, at its natural width (nothing
    folded, a name is never split across lines)."""
    if not is_plain(console):
        console.print(renderable)
        return
    if isinstance(renderable, Table):  # piped: columns separated by blanks, no box to cut through a grep
        renderable = copy.copy(renderable)
        renderable.box = None
        renderable.pad_edge = False
    wide = console.options.update_width(100_000)
    width = Measurement.get(console, wide, renderable).maximum
    narrow = console.width  # print(width=…) is capped at the console's width, so lift that for this call
    console.width = max(1, width)
    try:
        console.print(renderable)
    finally:
        console.width = narrow


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


def roots_line(report: Report) -> Text:
    """`7 root causes (4 critical, 3 warning) · 65 findings in all`: what needs fixing, counted by what
    needs fixing, then everything found (symptoms included)."""
    roots = [f for f in report.findings if f.root_cause]
    by_sev = {s: sum(1 for f in roots if f.severity == s) for s in SEVERITIES}
    line = Text(plural(len(roots), "root cause"), style="bold")
    parts = [(f"{by_sev[s]} {s}", STYLE[s]) for s in SEVERITIES if by_sev[s]]
    if parts:
        line.append(" (")
        for i, (words, style) in enumerate(parts):
            line.append(", " if i else "")
            line.append(words, style=style)
        line.append(")")
    line.append(f" · {plural(len(report.findings), 'finding')} in all")
    kept = len(report.findings) - report.matched if report.matched is not None else 0
    if kept:
        line.append(f" ({report.matched} {'matches' if report.matched == 1 else 'match'} the filter, "
                    f"{plural(kept, 'cause')} from outside it kept)", style="dim")
    if report.hidden:
        line.append(f" · {report.hidden} filtered out", style="dim")
    return line


# ------------------------------------------------------------------------------------------- report


def render_terminal(report: Report, console: Console, max_evidence: int = 4, show_info: bool = True, *,
                    brief: bool = False, full: bool = False) -> None:
    """Print the report: header, one line per root cause, then (unless `brief`) each root cause's details.
    Every string that quotes the cluster goes through the redactor first. `full` lifts every limit."""
    from sre_expert.safety.controls import visible_controls
    from sre_expert.safety.redact import PlaceholderTable, redact

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
    emit(console, head)
    emit(console, roots_line(report))
    console.print()
    if not report.findings:
        console.print(Text("✔ No problems found.", style="green"))
    for n, f in enumerate(roots, 1):
        _summary_line(console, n, f, red, full)
    if roots and brief:
        console.print()
        emit(console, Text("Evidence, fixes and symptoms: the same command without --brief.", style="dim"))
    elif roots:
        for n, f in enumerate(roots, 1):
            console.print()
            _root_block(console, n, f, symptoms_of(f, by_id), max_evidence, red, full)
    _tail(console, report, red)


def _tail(console: Console, report: Report, red: Callable[[str], str]) -> None:
    info = report.info
    if report.not_checked or info.collection_errors or info.warnings:
        console.print()
    if report.not_checked:
        console.print(Text("Not checked", style="bold"))
        for t in report.not_checked:
            emit(console, Text(not_checked_words(t), style="dim"), 4, Text("  · ", style="dim"))
    if info.collection_errors:
        console.print(Text("Collection errors", style="bold"))
        for e in info.collection_errors:
            where = f" in {e['namespace']}" if e.get("namespace") else ""
            emit(console, Text(f"{e.get('kind')}{where}: {red(str(e.get('error')))}"), 4, Text("  · "))
    if info.warnings:
        console.print(Text("Input warnings", style="bold"))
        for w in info.warnings[:20]:
            emit(console, Text(red(w), style="dim"), 4, Text("  · ", style="dim"))
        if len(info.warnings) > 20:
            emit(console, Text(f"… {len(info.warnings) - 20} more (see --output json)", style="dim"), 4,
                 Text("  · ", style="dim"))


def _object_and_title(f: Finding, red: Callable[[str], str], width: int | None = None) -> str:
    """The object, then the title; a title that already opens with the object is not repeated. Given a
    `width`, a long object name takes at most a third of it, so the title still shows."""
    title, obj = red(f.title), f.object.display()
    if title.startswith(obj):
        return title
    if width is not None and len(obj) > width // 3:  # the name alone, cut after a dash: the title says what
        obj = f.object.name
        if len(obj) > width // 3:
            cut = obj[: width // 3 - 1]
            obj = (cut[: cut.rfind("-")] if "-" in cut else cut) + "…"
    return f"{obj} · {title}"


def _summary_line(console: Console, n: int, f: Finding, red: Callable[[str], str], full: bool) -> None:
    """One root cause in one line: number, severity, object and title (shortened to the terminal's width
    at a word boundary unless piped or --full)."""
    lead = Text()
    lead.append(f"{n:>2} ", style="bold")
    lead.append(f"{f.severity.upper():<9}", style=STYLE[f.severity])
    if full or is_plain(console):
        text = _object_and_title(f, red)
    else:
        width = console.width - len(lead)
        text = shorten(_object_and_title(f, red, width), width)
    console.print(Text.assemble(lead, text), soft_wrap=True)


def _root_block(console: Console, n: int, f: Finding, symptoms: list[Finding], max_evidence: int,
                red: Callable[[str], str], full: bool) -> None:
    title_lead = Text()
    title_lead.append(f"{n:>2} ", style="bold")
    title_lead.append(f"{f.severity.upper():<9}", style=STYLE[f.severity])
    indent = LEAD
    emit(console, Text(red(f.title), style="bold"), indent, title_lead)
    emit(console, Text(f"{f.code} · {f.component} · {f.object.display()}", style="dim"), indent)

    def label(word: str) -> Text:
        return Text(f"  {word:<{LABEL}}", style="dim")

    evidence = f.evidence if full else f.evidence[:max_evidence]
    for i, e in enumerate(evidence):
        text = Text(red(e))
        if not full and len(text) > MAX_EVIDENCE_CHARS:
            text = Text(shorten(text.plain, MAX_EVIDENCE_CHARS))
            text.append(" (--full)", style="dim")
        emit(console, text, indent, label("evidence" if i == 0 else ""))
    if len(f.evidence) > len(evidence):
        emit(console, Text(f"… {plural(len(f.evidence) - len(evidence), 'more line')} ({FULL_HINT})", style="dim"),
             indent)
    fixes = f.remediation if full else f.remediation[:3]
    for i, r in enumerate(fixes):
        words = Text(red(r.description))
        if r.command:
            words.append(f"  [{r.safety}]", style=SAFETY_STYLE.get(r.safety, ""))
        emit(console, words, indent, label("fix" if i == 0 else ""))
        if r.command:
            emit_command(console, Text(red(r.command), style="bold"), indent + 2)
    if len(f.remediation) > len(fixes):
        emit(console, Text(f"… {plural(len(f.remediation) - len(fixes), 'more step')} ({FULL_HINT})", style="dim"),
             indent)
    if f.runbook:
        emit(console, Text(f"sre-expert runbook show {f.runbook}"), indent, label("runbook"))
    shown = symptoms if full else symptoms[:MAX_SYMPTOMS]
    for i, g in enumerate(shown):
        line = Text()
        line.append("✘ ", style=STYLE[g.severity])
        line.append(red(g.title))
        line.append(f"  ({g.code})", style="dim")
        emit(console, line, indent + 2, label("explains" if i == 0 else ""))
    if len(symptoms) > len(shown):
        emit(console, Text(f"… {plural(len(symptoms) - len(shown), 'more symptom')} ({FULL_HINT})", style="dim"),
             indent)
