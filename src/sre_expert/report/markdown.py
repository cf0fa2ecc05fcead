"""Markdown report: for tickets and incident channels. Root causes first, symptoms under them."""

from __future__ import annotations

from ..diagnosis.engine import Report
from ..model import Finding


def _fence(cmd: str) -> str:
    return f"`{cmd}`" if "`" not in cmd else f"``{cmd}``"


def render_markdown(report: Report, max_evidence: int = 8) -> str:
    info = report.info
    s = report.summary()
    by_id = {f.id: f for f in report.findings}
    lines = [
        f"# sre-expert report: {info.cluster or 'cluster'}",
        "",
        f"Captured {info.captured_at:%Y-%m-%d %H:%M:%S} UTC from {info.source}"
        + (f" `{info.location}`" if info.location else "")
        + (f" ({info.captured_at_note()})" if info.captured_at_note() else "")
        + (f" (only namespaces {', '.join(info.namespaces)} were swept)" if info.namespaces else "")
        + f". {s['critical']} critical, {s['warning']} warning, {s['info']} info.",
        "",
    ]
    roots = [f for f in report.findings if f.root_cause]
    if not roots:
        lines += ["No problems found.", ""]
    for n, f in enumerate(roots, 1):
        lines += _finding(n, f, max_evidence)
        symptoms = _symptoms(f, by_id)
        if symptoms:
            lines.append("**Explains:**")
            lines += [f"- {g.severity} `{g.code}` {g.object.display()}: {g.title}" for g in symptoms]
            lines.append("")
    if report.not_checked:
        lines += ["## Not checked", ""] + [f"- {t}" for t in report.not_checked] + [""]
    if info.collection_errors:
        lines += ["## Collection errors", ""]
        lines += [f"- {e.get('kind')} {e.get('namespace') or ''}: {e.get('error')}" for e in info.collection_errors]
        lines.append("")
    if info.warnings:
        lines += ["## Input warnings", ""] + [f"- {w}" for w in info.warnings] + [""]
    from ..safety.controls import visible_controls
    from ..safety.redact import redact

    return visible_controls(redact("\n".join(lines)))


def _finding(n: int, f: Finding, max_evidence: int) -> list[str]:
    out = [f"## {n}. [{f.severity.upper()}] {f.title}", "", f"`{f.code}` · {f.component} · {f.object.display()}", "", f.detail, ""]
    if f.evidence:
        out.append("**Evidence:**")
        out += [f"- {_fence(e)}" for e in f.evidence[:max_evidence]]
        if len(f.evidence) > max_evidence:
            out.append(f"- … {len(f.evidence) - max_evidence} more")
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


def _symptoms(root: Finding, by_id: dict[str, Finding]) -> list[Finding]:
    seen: list[str] = []
    stack = list(root.causes)
    while stack:
        fid = stack.pop(0)
        if fid in seen or fid not in by_id:
            continue
        seen.append(fid)
        stack.extend(by_id[fid].causes)
    return [by_id[i] for i in seen]
