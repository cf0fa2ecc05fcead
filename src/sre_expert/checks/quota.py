"""ResourceQuotas at or near their hard limit, and the creations they refused.

The FailedCreate finding of a workload (workloads checks) depends on ("ResourceQuota", ns, name); this
finding speaks for the quota, so it is the root cause of the refused pods.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sre_expert.checks.registry import check, finding
from sre_expert.core.model import TOP_CONTROLLER_KINDS, Finding
from sre_expert.core.snapshot import Snapshot, event_subject, event_time
from sre_expert.core.units import parse_quantity
from sre_expert.domain.event_text import RECENT, event_count, event_line

Obj = dict[str, Any]

NEAR = 0.9
EXCEEDED_RE = re.compile(r"exceeded quota: ([a-z0-9]([-a-z0-9.]*[a-z0-9])?)")
def quota_refusals(snap: Snapshot, namespaces: set[str]) -> dict[tuple[str, str], list[Obj]]:
    """(namespace, quota) → recent Warning events whose message says `exceeded quota: <name>`."""
    out: dict[tuple[str, str], list[Obj]] = defaultdict(list)
    cutoff = snap.now - RECENT
    for key, evs in snap.event_index().items():
        if key[1] not in namespaces:
            continue
        for ev in evs:
            if ev.get("type") != "Warning":
                continue
            msg = ev.get("message") or ev.get("note") or ""
            if "exceeded quota" not in msg:
                continue
            t = event_time(ev)
            if t is not None and t < cutoff:
                continue
            for m in EXCEEDED_RE.finditer(msg):
                out[(key[1], m.group(1))].append(ev)
    for evs in out.values():
        evs.sort(key=lambda e: event_time(e) or snap.now)
    return out


@check(
    codes=("QUOTA-BLOCKING", "QUOTA-FULL", "QUOTA-NEAR-LIMIT"),
    reads=("ResourceQuota",),
    speaks_for=(*TOP_CONTROLLER_KINDS, "Pod", "ResourceQuota"),
    depends_on=(),
)
def quotas(snap: Snapshot) -> Iterator[Finding]:
    rqs = snap.list("ResourceQuota")
    if not rqs:
        return
    refusals = quota_refusals(snap, {q["metadata"].get("namespace") or "" for q in rqs})
    for rq in rqs:
        md = rq["metadata"]
        ns, name = md.get("namespace") or "", md["name"]
        st = rq.get("status") or {}
        hard, used = st.get("hard") or {}, st.get("used") or {}
        rows = []
        for res, h in hard.items():
            hv, uv = parse_quantity(h), parse_quantity(used.get(res, "0"))
            if hv is None or uv is None:
                continue
            if hv == 0:
                ratio = 1.0 if uv > 0 else 0.0  # hard 0 with nothing used: a deliberate ban, not a limit hit
            else:
                ratio = uv / hv
            rows.append((ratio, res, used.get(res, "0"), h))
        rows.sort(key=lambda r: (-r[0], r[1]))
        evs = refusals.get((ns, name), [])
        if evs:
            yield _blocking(snap, rq, rows, evs)
            continue
        full = [r for r in rows if r[0] >= 1.0]
        if full:
            yield finding(
                "QUOTA-FULL",
                rq,
                title=f"ResourceQuota {name} is exhausted: "
                + ", ".join(f"{r[1]} {r[2]}/{r[3]}" for r in full[:3]),
                evidence=[_row(r) for r in full]
                + [
                    "no creation was refused in the last hour, "
                    "but the next pod or object that needs these resources will be"
                ],
                params={"resource_name": full[0][1]},
            )
            continue
        near = [r for r in rows if r[0] >= NEAR]
        if near:
            yield finding(
                "QUOTA-NEAR-LIMIT",
                rq,
                title=f"ResourceQuota {name} is at {near[0][0]:.0%} of {near[0][1]} "
                f"({near[0][2]}/{near[0][3]})",
                evidence=[_row(r) for r in near],
                params={"resource_name": near[0][1]},
            )


def _row(r: tuple[float, str, str, str]) -> str:
    return f"status.used[{r[1]}]: {r[2]} of status.hard {r[3]} ({r[0]:.0%})"


def _blocking(snap: Snapshot, rq: Obj, rows: list[tuple[float, str, str, str]], evs: list[Obj]) -> Finding:
    name = rq["metadata"]["name"]
    refused: dict[tuple[str, str], int] = {}
    for ev in evs:
        s = event_subject(ev)
        k = (s.get("kind") or "", s.get("name") or "")
        refused[k] = refused.get(k, 0) + event_count(ev)
    # The resources named in the newest refusal ("limited: requests.cpu=8") first.
    msg = evs[-1].get("message") or ""
    limited = re.search(r"limited: ([^\s,]+(?:,[^\s,]+)*)", msg)
    named = [x.split("=")[0] for x in limited.group(1).split(",")] if limited else []
    hot = [r for r in rows if r[1] in named] or [r for r in rows if r[0] >= NEAR] or rows[:1]
    evidence = [_row(r) for r in hot]
    evidence.append(event_line(snap, evs[-1]))
    evidence.append(
        "refused: "
        + ", ".join(f"{k} {n} ×{c}" for (k, n), c in list(refused.items())[:6])
        + (" …" if len(refused) > 6 else "")
    )
    res = hot[0][1] if hot else "?"
    requested = re.search(r"requested: ([^\s,]+(?:,[^\s,]+)*)", msg)
    asked = dict(x.split("=", 1) for x in requested.group(1).split(",") if "=" in x) if requested else {}
    ns = rq["metadata"].get("namespace") or ""
    subjects: list[tuple[str, str, str]] = []
    for kind, obj_name in refused:
        subjects.append((kind, ns, obj_name))
        obj = snap.get(kind, ns, obj_name)
        if obj is not None:
            top = snap.top_controller(obj)
            if top is not obj:
                subjects.append((top.get("kind") or "", ns, top["metadata"]["name"]))
    return finding(
        "QUOTA-BLOCKING",
        rq,
        title=f"ResourceQuota {name} is refusing creations: {res} "
        + (f"used {hot[0][2]} of {hot[0][3]}" if hot else "limit reached")
        + (f", a new pod asks {asked[res]}" if res in asked else "")
        + f" ({len(refused)} object(s) failing to create)",
        evidence=evidence,
        subjects=subjects,
        params={
            "resource_name": res,
            "owner_kind": next(iter(refused))[0].lower() if refused else "replicaset",
            "owner": next(iter(refused))[1] if refused else "<owner>",
        },
    )
