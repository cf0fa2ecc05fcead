"""`sre-expert trace TARGET`: follow one request outside-in and stop at the first broken hop.

TARGET is a host (`api.mycureapp.com`, `https://api.mycureapp.com/path`, `http://…`), `route/NS/NAME`,
`svc/NS/NAME` or `pod/NS/NAME`. Hops: gateway → listener → route → service → endpoints → pods (with
their containers); see `sre_expert.diagnosis.trace` for how each hop is resolved.

Exit status: 0 every hop passed, 1 a hop failed, 2 the target cannot be resolved (the message lists
close matches).

JSON output (`--output json`, stable; fields are only ever added):

    {
      "capturedAt": "2025-01-01T00:00:00Z", "cluster": "…", "source": "bundle|live|demo",
      "target": "api.mycureapp.com",
      "targetKind": "host|route|service|pod",
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
      "suggestions": ["close matches for an unresolved target"]
    }
"""

from __future__ import annotations

from typing import Any

import orjson
from rich.console import Console
from rich.text import Text

from ..diagnosis.trace import FAILED, PASSED, SKIPPED, Hop, TraceResult, trace
from ..snapshot import Snapshot

ICON = {PASSED: ("✔", "bold green"), FAILED: ("✘", "bold red"), SKIPPED: ("·", "dim")}
SAFETY_STYLE = {"read-only": "green", "mutating": "yellow", "destructive": "bold red"}
PASSED_EVIDENCE = 3


def trace_dict(snap: Snapshot, result: TraceResult) -> dict[str, Any]:
    info = snap.info
    return {
        "capturedAt": info.captured_at.isoformat().replace("+00:00", "Z"),
        "cluster": info.cluster,
        "source": info.source,
        **result.to_json(),
    }


def run_trace(snap: Snapshot, target: str, output: Any = "terminal", console: Console | None = None) -> int:
    """Trace `target` in `snap`, render it, return the exit status (0 ok, 1 broken hop, 2 unresolved)."""
    console = console or Console(highlight=False)
    fmt = str(getattr(output, "value", output) or "terminal")
    result = trace(snap, target)
    if fmt == "json":
        console.file.write(orjson.dumps(trace_dict(snap, result), option=orjson.OPT_INDENT_2).decode() + "\n")
        console.file.flush()
    elif fmt == "markdown":
        console.file.write(render_markdown(snap, result))
        console.file.flush()
    else:
        render_terminal(snap, result, console)
    return result.exit_code


# ---------------------------------------------------------------------------------------------- terminal


def render_terminal(snap: Snapshot, result: TraceResult, console: Console) -> None:
    info = snap.info
    head = Text()
    head.append("trace ", style="bold")
    head.append(result.target, style="bold cyan")
    head.append(f" · {info.cluster or 'cluster'} · captured {info.captured_at:%Y-%m-%d %H:%M} UTC · {info.source}",
                style="dim")
    console.print(head)
    if not result.resolved:
        line = Text()
        line.append("✘ cannot resolve the target: ", style="bold red")
        line.append(result.message)
        console.print(line)
        if result.suggestions:
            console.print(Text("  did you mean: " + ", ".join(result.suggestions), style="yellow"))
        console.print(Text("  targets: HOST, route/NS/NAME, svc/NS/NAME, pod/NS/NAME", style="dim"))
        return
    console.print()
    for hop in result.hops:
        _hop_block(hop, console)
    console.print()
    broken = result.broken_hop
    if broken is None:
        console.print(Text("✔ every hop passed", style="bold green"))
        return
    summary = Text()
    summary.append("✘ stopped at ", style="bold red")
    summary.append(f"{broken.name}", style="bold")
    summary.append(f": {broken.title}")
    console.print(summary)
    imp = result.impact
    for label, key in (("also down: hosts", "hosts"), ("also down: routes", "routes"), ("broken service", "services")):
        items = imp.get(key) or []
        if items:
            more = f", … {len(items) - 12} more" if len(items) > 12 else ""
            console.print(Text(f"  {label:<18} " + ", ".join(items[:12]) + more, style="yellow"))


def _hop_block(hop: Hop, console: Console) -> None:
    icon, style = ICON.get(hop.status, ("?", ""))
    line = Text()
    line.append(f" {icon} ", style=style)
    line.append(f"{hop.name:<10}", style="bold" if hop.status != SKIPPED else "dim")
    line.append(hop.title, style="" if hop.status != SKIPPED else "dim")
    if hop.note:
        line.append(f"  ({hop.note})", style="dim")
    console.print(line)
    if hop.status == SKIPPED:
        return
    shown = hop.evidence if hop.status == FAILED else hop.evidence[:PASSED_EVIDENCE]
    for e in shown:
        console.print(Text("      " + e, style="" if hop.status == FAILED else "dim"), overflow="fold")
    if hop.status == FAILED:
        for r in hop.fix:
            fl = Text("      fix: ", style="bold")
            if r.command:
                fl.append(r.command, style="bold")
                fl.append(f"  [{r.safety}]", style=SAFETY_STYLE.get(r.safety, ""))
                fl.append(f"  {r.description}", style="dim")
            else:
                fl.append(r.description)
            console.print(fl, overflow="fold")


# ---------------------------------------------------------------------------------------------- markdown


def render_markdown(snap: Snapshot, result: TraceResult) -> str:
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
    out.append("")
    return "\n".join(out)
