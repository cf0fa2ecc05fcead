"""Events in both API shapes: core/v1 (`involvedObject`, `lastTimestamp`) and events.k8s.io/v1
(`regarding`, `deprecatedLastTimestamp`).

A real API server stores one Event and serves it through both groups; a bundle holds whichever shape
the collector asked for. `kubectl describe` reads core/v1, so converting is what lets it show the
events of a bundle captured with `kubectl get events.events.k8s.io`.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def is_core(ev: Obj) -> bool:
    return str(ev.get("apiVersion") or "v1") == "v1"


def to_core(ev: Obj) -> Obj:
    if is_core(ev):
        return ev
    out: Obj = {"apiVersion": "v1", "kind": "Event", "metadata": ev.get("metadata") or {}}
    pairs = (("regarding", "involvedObject"), ("note", "message"), ("reason", "reason"), ("type", "type"),
             ("deprecatedFirstTimestamp", "firstTimestamp"), ("deprecatedLastTimestamp", "lastTimestamp"),
             ("deprecatedCount", "count"), ("eventTime", "eventTime"), ("series", "series"), ("action", "action"),
             ("related", "related"), ("reportingController", "reportingComponent"),
             ("reportingInstance", "reportingInstance"), ("deprecatedSource", "source"))
    for src, dst in pairs:
        if ev.get(src) is not None:
            out[dst] = ev[src]
    series = out.get("series")
    if isinstance(series, dict):
        out["series"] = {"count": series.get("count"), "lastObservedTime": series.get("lastObservedTime")}
    out.setdefault("involvedObject", {})
    out.setdefault("source", {})
    out.setdefault("firstTimestamp", None)
    out.setdefault("lastTimestamp", None)
    return out


def to_events_v1(ev: Obj) -> Obj:
    if not is_core(ev):
        return ev
    out: Obj = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": ev.get("metadata") or {}}
    pairs = (("involvedObject", "regarding"), ("message", "note"), ("reason", "reason"), ("type", "type"),
             ("firstTimestamp", "deprecatedFirstTimestamp"), ("lastTimestamp", "deprecatedLastTimestamp"),
             ("count", "deprecatedCount"), ("eventTime", "eventTime"), ("series", "series"), ("action", "action"),
             ("related", "related"), ("reportingComponent", "reportingController"),
             ("reportingInstance", "reportingInstance"), ("source", "deprecatedSource"))
    for src, dst in pairs:
        if ev.get(src) not in (None, {}, ""):
            out[dst] = ev[src]
    out.setdefault("eventTime", None)
    return out


def for_group(ev: Obj, group: str) -> Obj:
    return to_events_v1(ev) if group == "events.k8s.io" else to_core(ev)
