"""`sre-expert trace TARGET`: follow one request outside-in and stop at the first broken hop.

TARGET is a host (`api.mycureapp.com`, `https://api.mycureapp.com/path`, `http://…`), or an object as
kubectl names it: `route/NS/NAME`, `svc/NS/NAME`, `pod/NS/NAME`, `deploy/NS/NAME` (also sts, ds), or
`KIND/NAME -n NS`. Hops: gateway → listener → route → service → endpoints → pods (with their
containers); see `sre_expert.diagnosis.trace` for how each hop is resolved. A broken hop is then
followed along the links `check` makes, down to its root cause (the pods crash; the database under
them is why).

Exit status: 0 every hop passed, 1 a hop failed, 2 the target cannot be resolved (the message lists
close matches).

JSON output (`--output json`, stable; fields are only ever added):

    {
      "capturedAt": "2025-01-01T00:00:00Z", "cluster": "…", "source": "bundle|live|demo",
      "target": "api.mycureapp.com",
      "targetKind": "host|route|service|pod|workload",
      "resolved": true,                 # false: target not found, see message/suggestions
      "ok": false,                      # every hop passed
      "brokenHop": "pods",              # name of the hop the trace stopped at, or null
      "hops": [{
        "name": "gateway|listener|route|service|endpoints|pods",
        "title": "one line naming the object of the hop",
        "object": {"apiVersion": "…", "kind": "…", "namespace": "… or null", "name": "…"} | null,
        "status": "passed|failed|skipped",
        "evidence": ["exact status fields, conditions, container states, log lines"],
        "fix": [{"description": "…", "command": "…", "safety": "read-only|mutating|destructive"}],
        "note": "set when a failed hop is explained by the next one (the trace then continues)"
      }],
      "impact": {"hosts": [], "routes": ["ns/name"], "services": ["ns/name"]},
                                        # what else the broken hop takes down (the target excluded)
      "message": "why the target could not be resolved, else empty",
      "suggestions": ["close matches for an unresolved target"],
      "rootCauses": [{                  # what `check` links the broken hop to (added; [] when none;
                                        #  absent where the caller did not look, e.g. the agent's tool)
        "id": "…", "code": "…", "severity": "…", "title": "…", "object": {…},
        "evidence": ["…"], "remediation": [{…}],
        "via": [{"id": "…", "code": "…", "title": "…"}]   # the chain from the hop's finding up to it
      }],
      "notChecked": ["metrics: … (as check reports it: no Prometheus, unreachable, empty)"]
    }
"""

from __future__ import annotations

from typing import Any

import orjson
from rich.console import Console
from rich.text import Text

from sre_expert.core.model import Finding
from sre_expert.core.snapshot import Snapshot
from sre_expert.diagnosis.trace import FAILED, PASSED, SKIPPED, Hop, TraceResult, root_causes, trace
from sre_expert.render.terminal import STYLE as SEV_STYLE
from sre_expert.render.terminal import emit, emit_command

ICON = {PASSED: ("✔", "bold green"), FAILED: ("✘", "bold red"), SKIPPED: ("·", "dim")}
SAFETY_STYLE = {"read-only": "green", "mutating": "yellow", "destructive": "bold red"}
PASSED_EVIDENCE = 3


def trace_dict(snap: Snapshot, result: TraceResult, causes: list[tuple[Finding, list[Finding]]] | None = None
               ) -> dict[str, Any]:
    """The trace document; `rootCauses` only when `causes` were looked for (None: not looked for, so the key
    is absent rather than an empty list that would read as "none")."""
    info = snap.info
    doc = {
        "capturedAt": info.captured_at.isoformat().replace("+00:00", "Z"),
        "cluster": info.cluster,
        "source": info.source,
        **result.to_json(),
        "notChecked": metrics_not_checked(snap),
    }
    if causes is not None:
        doc["rootCauses"] = [{**_finding_brief(root), "evidence": list(root.evidence),
                              "remediation": [r.to_json() for r in root.remediation],
                              "object": root.object.to_json(), "via": [_finding_brief(f) for f in via]}
                             for root, via in causes]
    return doc


def _finding_brief(f: Finding) -> dict[str, Any]:
    return {"id": f.id, "code": f.code, "severity": f.severity, "title": f.title}


def metrics_not_checked(snap: Snapshot) -> list[str]:
    """What the metric hops could not judge (no Prometheus, unreachable, empty), as `check` reports it."""
    return snap.metrics.not_checked() if snap.metrics is not None else []


def linked_causes(snap: Snapshot, result: TraceResult) -> list[tuple[Finding, list[Finding]]]:
    """The root causes `check` links to the broken hop (diagnosis runs only when a hop is broken)."""
    if result.broken_hop is None:
        return []
    from sre_expert.diagnosis.engine import diagnose

    return root_causes(snap, result, diagnose(snap).findings)


def run_trace(snap: Snapshot, target: str, output: Any = "terminal", console: Console | None = None,
              namespace: str | None = None) -> int:
    """Trace `target` in `snap`, render it, return the exit status (0 ok, 1 broken hop, 2 unresolved)."""
    console = console or Console(highlight=False)
    fmt = str(getattr(output, "value", output) or "terminal")
    result = trace(snap, target, namespace)
    causes = linked_causes(snap, result)
    if fmt == "json":
        console.file.write(orjson.dumps(trace_dict(snap, result, causes), option=orjson.OPT_INDENT_2).decode() + "\n")
        console.file.flush()
    elif fmt == "markdown":
        console.file.write(render_markdown(snap, result, causes))
        console.file.flush()
    else:
        render_terminal(snap, result, console, causes)
    return result.exit_code


# ---------------------------------------------------------------------------------------------- terminal

TARGETS_HELP = "targets: HOST, route/NS/NAME, svc/NS/NAME, pod/NS/NAME, deploy/NS/NAME, or KIND/NAME -n NS"


def render_terminal(snap: Snapshot, result: TraceResult, console: Console,
                    causes: list[tuple[Finding, list[Finding]]] | None = None) -> None:
    info = snap.info
    head = Text()
    head.append("trace ", style="bold")
    head.append(result.target, style="bold cyan")
    head.append(f" · {info.cluster or 'cluster'} · captured {info.captured_at:%Y-%m-%d %H:%M} UTC · {info.source}",
                style="dim")
    emit(console, head)
    if not result.resolved:
        line = Text()
        line.append("✘ cannot resolve the target: ", style="bold red")
        line.append(result.message)
        emit(console, line, 2, "")
        if result.suggestions:
            emit(console, Text("did you mean: " + ", ".join(result.suggestions), style="yellow"), 16, "  ")
        emit(console, Text(TARGETS_HELP, style="dim"), 4, "  ")
        return
    console.print()
    for hop in result.hops:
        _hop_block(hop, console)
    console.print()
    broken = result.broken_hop
    if broken is None:
        console.print(Text("✔ every hop passed", style="bold green"))
    else:
        summary = Text()
        summary.append("✘ stopped at ", style="bold red")
        summary.append(f"{broken.name}", style="bold")
        summary.append(f": {broken.title}")
        emit(console, summary, 2, "")
        imp = result.impact
        for label, key in (("also down: hosts", "hosts"), ("also down: routes", "routes"), ("broken service", "services")):
            items = imp.get(key) or []
            if items:
                more = f", … {len(items) - 12} more" if len(items) > 12 else ""
                emit(console, Text(", ".join(items[:12]) + more, style="yellow"), 21, f"  {label:<18} ")
        for root, via in causes or ():
            _cause_block(console, root, via)
    nc = metrics_not_checked(snap)
    if nc:
        console.print()
        console.print(Text("Not checked", style="bold"))
        for t in nc:
            emit(console, Text(t, style="dim"), 4, Text("  · ", style="dim"))


def _cause_block(console: Console, root: Finding, via: list[Finding]) -> None:
    """A root cause `check` links to the broken hop: the chain to it, its evidence and its fix."""
    console.print()
    line = Text()
    line.append("root cause ", style="bold")
    line.append(root.severity.upper(), style=SEV_STYLE[root.severity])
    line.append(f" {root.title}")
    emit(console, line, 2, "")
    if via:
        chain = " → ".join([f"{f.title} ({f.code})" for f in via] + ["the root cause above"])
        emit(console, Text(chain, style="dim"), 8, Text("  via   ", style="dim"))
    for e in root.evidence[:3]:
        emit(console, Text(e), 8, "        ")
    for r in root.remediation[:2]:
        words = Text(r.description)
        if r.command:
            words.append(f"  [{r.safety}]", style=SAFETY_STYLE.get(r.safety, ""))
        emit(console, words, 8, Text("  fix   ", style="bold"))
        if r.command:
            emit_command(console, Text(r.command, style="bold"), 10)


def _hop_block(hop: Hop, console: Console) -> None:
    icon, style = ICON.get(hop.status, ("?", ""))
    line = Text()
    line.append(hop.title, style="" if hop.status != SKIPPED else "dim")
    if hop.note:
        line.append(f"  ({hop.note})", style="dim")
    lead = Text()
    lead.append(f" {icon} ", style=style)
    lead.append(f"{hop.name:<10}", style="bold" if hop.status != SKIPPED else "dim")
    emit(console, line, len(lead), lead)
    if hop.status == SKIPPED:
        return
    shown = hop.evidence if hop.status == FAILED else hop.evidence[:PASSED_EVIDENCE]
    for e in shown:
        emit(console, Text(e, style="" if hop.status == FAILED else "dim"), 6)
    if hop.status == FAILED:
        for r in hop.fix:
            words = Text(r.description)
            if r.command:
                words.append(f"  [{r.safety}]", style=SAFETY_STYLE.get(r.safety, ""))
            emit(console, words, 11, Text("      fix: ", style="bold"))
            if r.command:
                emit_command(console, Text(r.command, style="bold"), 11)


# ---------------------------------------------------------------------------------------------- markdown


def render_markdown(snap: Snapshot, result: TraceResult,
                    causes: list[tuple[Finding, list[Finding]]] | None = None) -> str:
    info = snap.info
    out = [f"# Trace `{result.target}`", "",
           f"{info.cluster or 'cluster'} · captured {info.captured_at:%Y-%m-%d %H:%M} UTC · {info.source}", ""]
    if not result.resolved:
        out.append(f"**Cannot resolve the target:** {result.message}")
        if result.suggestions:
            out.append("")
            out.append("Did you mean: " + ", ".join(f"`{s}`" for s in result.suggestions))
        out.append("")
        return "\n".join(out)
    out += ["| | hop | object |", "|---|---|---|"]
    for hop in result.hops:
        title = hop.title.replace("|", "\\|")
        out.append(f"| {ICON[hop.status][0]} | {hop.name} | {title} |")
    out.append("")
    for hop in result.hops:
        if hop.status == SKIPPED:
            continue
        out.append(f"## {ICON[hop.status][0]} {hop.name}: {hop.title}" + (f" ({hop.note})" if hop.note else ""))
        out.append("")
        for e in hop.evidence:
            out.append(f"- {e}")
        if hop.status == FAILED and hop.fix:
            out.append("")
            out.append("Fix:")
            out.append("")
            for r in hop.fix:
                out.append(f"- {r.description}" + (f": `{r.command}` ({r.safety})" if r.command else ""))
        out.append("")
    broken = result.broken_hop
    if broken is None:
        out.append("**Every hop passed.**")
    else:
        out.append(f"**Stopped at {broken.name}:** {broken.title}")
        for key in ("hosts", "routes", "services"):
            if result.impact.get(key):
                out.append(f"- also down ({key}): " + ", ".join(result.impact[key]))
        for root, via in causes or ():
            out += ["", f"## Root cause: [{root.severity.upper()}] {root.title}", "",
                    f"`{root.code}` · {root.object.display()}", ""]
            if via:
                out += ["Via: " + " → ".join(f"{f.title} (`{f.code}`)" for f in via), ""]
            out += [f"- {e}" for e in root.evidence]
            out += [f"- fix: {r.description}" + (f": `{r.command}` ({r.safety})" if r.command else "")
                    for r in root.remediation]
    nc = metrics_not_checked(snap)
    if nc:
        out += ["", "## Not checked", ""] + [f"- {t}" for t in nc]
    out.append("")
    return "\n".join(out)
