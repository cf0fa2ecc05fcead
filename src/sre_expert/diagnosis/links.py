"""Cause → symptom links between findings.

A finding G explains F when F depends on an object G speaks for (F.depends_on ∩ G.subjects), unless G is
only informational and F is not: an info note (an old restart, a stray event) never becomes the root cause
of an outage. Roots are findings nothing explains; in a cycle the most severe member is the root.
"""

from __future__ import annotations

from collections import defaultdict

from sre_expert.core.model import SEVERITY_RANK, Finding, Key


def assign_ids(findings: list[Finding]) -> None:
    seen: dict[str, int] = defaultdict(int)
    for f in findings:
        o = f.object
        base = f"{f.code}/{o.namespace or '_'}/{o.kind}/{o.name}"
        seen[base] += 1
        f.id = base if seen[base] == 1 else f"{base}#{seen[base]}"


def link(findings: list[Finding]) -> None:
    """Fill id, causes, caused_by and root_cause on every finding (in place)."""
    assign_ids(findings)
    speaks_for: dict[Key, list[Finding]] = defaultdict(list)
    for f in findings:
        for k in f.subjects:
            speaks_for[k].append(f)
    for f in findings:
        f.causes, f.caused_by = [], []
    by_id = {f.id: f for f in findings}
    for f in findings:
        for dep in f.depends_on:
            for g in speaks_for.get(dep, ()):
                if g is f or f.id in g.causes or (g.severity == "info" and f.severity != "info"):
                    continue
                g.causes.append(f.id)
                f.caused_by.append(g.id)
    for f in findings:
        f.root_cause = not f.caused_by
    _break_cycles(findings, by_id)


def _break_cycles(findings: list[Finding], by_id: dict[str, Finding]) -> None:
    reached: set[str] = set()
    stack = [f.id for f in findings if f.root_cause]
    while stack:
        fid = stack.pop()
        if fid in reached:
            continue
        reached.add(fid)
        stack.extend(by_id[fid].causes)
    orphans = [f for f in findings if f.id not in reached]
    while orphans:
        head = min(orphans, key=lambda f: (SEVERITY_RANK[f.severity], f.id))
        head.root_cause = True
        stack = [head.id]
        while stack:
            fid = stack.pop()
            if fid in reached:
                continue
            reached.add(fid)
            stack.extend(by_id[fid].causes)
        orphans = [f for f in orphans if f.id not in reached]


def descendants(f: Finding, by_id: dict[str, Finding]) -> set[str]:
    out: set[str] = set()
    stack = list(f.causes)
    while stack:
        fid = stack.pop()
        if fid in out:
            continue
        out.add(fid)
        stack.extend(by_id[fid].causes)
    return out


def rank(findings: list[Finding]) -> list[Finding]:
    """Root causes first, then by severity, then by how much each explains."""
    by_id = {f.id: f for f in findings}
    weight = {f.id: len(descendants(f, by_id)) for f in findings}
    worst = {f.id: min([SEVERITY_RANK[by_id[d].severity] for d in descendants(f, by_id)] + [SEVERITY_RANK[f.severity]])
             for f in findings}
    return sorted(
        findings,
        key=lambda f: (not f.root_cause, worst[f.id], SEVERITY_RANK[f.severity], -weight[f.id], f.component, f.id),
    )
