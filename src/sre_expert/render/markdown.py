"""Markdown report: for tickets and incident channels. Root causes first, symptoms under them."""

from __future__ import annotations

from pathlib import PurePath

from sre_expert.core.model import Finding
from sre_expert.core.wording import not_checked_words, plural
from sre_expert.diagnosis.engine import Report


def source_name(location: str) -> str:
    """The bundle's file or directory name, never its local path: a report pasted into a ticket must not
    carry `/home/me/…`."""
    return PurePath(location.rstrip("/\\")).name or location


def _fence(cmd: str) -> str:
    return f"`{cmd}`" if "`" not in cmd else f"``{cmd}``"


def render_markdown(report: Report, max_evidence: int = 8) -> str:
    info = report.info
    s = report.summary()
    by_id = {f.id: f for f in report.findings}
    roots = [f for f in report.findings if f.root_cause]
    by_sev = [f"{sum(1 for f in roots if f.severity == sev)} {sev}" for sev in s if any(f.severity == sev for f in roots)]
    lines = [
        f"# sre-expert report: {info.cluster or 'cluster'}",
        "",
        f"Captured {info.captured_at:%Y-%m-%d %H:%M:%S} UTC from {info.source}"
        + (f" `{source_name(info.location)}`" if info.location and info.source == "bundle" else "")
        + (f" ({info.captured_at_note()})" if info.captured_at_note() else "")
        + (f" (only namespaces {', '.join(info.namespaces)} were swept)" if info.namespaces else "")
        + f". {plural(len(roots), 'root cause')}" + (f" ({', '.join(by_sev)})" if by_sev else "")
        + f" · {plural(len(report.findings), 'finding')} in all"
        + (f" · {report.hidden} filtered out" if report.hidden else "") + ".",
        "",
    ]
    if not roots:
        lines += ["No problems found.", ""]
    for n, f in enumerate(roots, 1):
        lines += _finding(n, f, max_evidence)
        symptoms = symptoms_of(f, by_id)
        if symptoms:
            lines.append("**Explains:**")
            lines += [f"- {g.severity} `{g.code}` {g.object.display()}: {g.title}" for g in symptoms]
            lines.append("")
    if report.not_checked:
        lines += ["## Not checked", ""] + [f"- {not_checked_words(t)}" for t in report.not_checked] + [""]
    if info.collection_errors:
        lines += ["## Collection errors", ""]
        lines += [f"- {e.get('kind')} {e.get('namespace') or ''}: {e.get('error')}" for e in info.collection_errors]
        lines.append("")
    if info.warnings:
        lines += ["## Input warnings", ""] + [f"- {w}" for w in info.warnings] + [""]
    from sre_expert.safety.controls import visible_controls
    from sre_expert.safety.redact import redact

    return visible_controls(redact("\n".join(lines)))


def _finding(n: int, f: Finding, max_evidence: int) -> list[str]:
    out = [f"## {n}. [{f.severity.upper()}] {f.title}", "",
           f"`{f.code}` · {f.component} · {f.object.display()}", "", f.detail, ""]
    if f.evidence:
        out.append("**Evidence:**")
        out += [f"- {_fence(e)}" for e in f.evidence[:max_evidence]]
        if len(f.evidence) > max_evidence:
            out.append(f"- … {plural(len(f.evidence) - max_evidence, 'more line')} (`--output json` has them all)")
        out.append("")
    if f.remediation:
        out.append("**Fix:**")
        for r in f.remediation:
            cmd = f" {_fence(r.command)}" if r.command else ""
            out.append(f"- {r.description}:{cmd} ({r.safety})" if cmd else f"- {r.description} ({r.safety})")
        out.append("")
    if f.runbook:
        out += [f"Runbook: `{f.runbook}`", ""]
    return out


def symptoms_of(root: Finding, by_id: dict[str, Finding]) -> list[Finding]:
    seen: list[str] = []
    stack = list(root.causes)
    while stack:
        fid = stack.pop(0)
        if fid in seen or fid not in by_id:
            continue
        seen.append(fid)
        stack.extend(by_id[fid].causes)
    return [by_id[i] for i in seen]
