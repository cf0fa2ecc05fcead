"""core/v1 Events in the two shapes a 1.32 cluster stores them.

Most components (kubelet, controllers, operators) still record through the legacy recorder:
source/firstTimestamp/lastTimestamp/count. The scheduler uses the events.k8s.io API, which reads
back through core/v1 with eventTime/action/series, `source: {}` and null first/lastTimestamp —
checks must cope with both, so both are produced faithfully.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from synth.meta import micro_ts, number, object_ref, resource_version, ts, uid


def event_name(involved: dict[str, Any], first: datetime, salt: str = "") -> str:
    """'<object>.<hex unix nanos>' the way client-go names events."""
    nanos = int(first.timestamp()) * 1_000_000_000 + number(
        "evn", involved["metadata"]["uid"], salt, hi=999_999_999
    )
    return f"{involved['metadata']['name']}.{nanos:x}"


def _namespace_of(involved: dict[str, Any]) -> str:
    return involved["metadata"].get("namespace") or "default"


def _event_metadata(ns: str, name: str, first: datetime, count: int) -> dict[str, Any]:
    return {
        "creationTimestamp": ts(first),
        "name": name,
        "namespace": ns,
        "resourceVersion": resource_version("Event", ns, name, count),
        "uid": uid("Event", ns, name),
    }


def event(
    involved: dict[str, Any],
    reason: str,
    message: str,
    *,
    type_: str = "Normal",
    count: int = 1,
    first: datetime,
    last: datetime | None = None,
    component: str,
    host: str | None = None,
    field_path: str | None = None,
    reporting_instance: str | None = None,
    salt: str = "",
) -> dict[str, Any]:
    """Legacy-recorder Event (kubelet, controller-manager, operators)."""
    last = last or first
    name = event_name(involved, first, f"{reason}{salt}{message}")
    ns = _namespace_of(involved)
    source: dict[str, Any] = {"component": component}
    if host:
        source["host"] = host
    return {
        "apiVersion": "v1",
        "count": count,
        "eventTime": None,
        "firstTimestamp": ts(first),
        "involvedObject": object_ref(involved, field_path),
        "kind": "Event",
        "lastTimestamp": ts(last),
        "message": message,
        "metadata": _event_metadata(ns, name, first, count),
        "reason": reason,
        "reportingComponent": component,
        "reportingInstance": reporting_instance if reporting_instance is not None else (host or ""),
        "source": source,
        "type": type_,
    }


def scheduler_event(
    pod: dict[str, Any],
    reason: str,
    message: str,
    *,
    first: datetime,
    type_: str = "Normal",
    count: int = 1,
    last: datetime | None = None,
    scheduler_host: str,
) -> dict[str, Any]:
    """Scheduled / FailedScheduling as written by kube-scheduler through events.k8s.io/v1."""
    ns = _namespace_of(pod)
    name = event_name(pod, first, reason)
    ev: dict[str, Any] = {
        "action": "Binding" if reason == "Scheduled" else "Scheduling",
        "apiVersion": "v1",
        "eventTime": micro_ts(first + timedelta(microseconds=number("us", name, hi=999_999))),
        "firstTimestamp": None,
        "involvedObject": object_ref(pod),
        "kind": "Event",
        "lastTimestamp": None,
        "message": message,
        "metadata": _event_metadata(ns, name, first, count),
        "reason": reason,
        "reportingComponent": "default-scheduler",
        "reportingInstance": f"default-scheduler-{scheduler_host}",
        "source": {},
        "type": type_,
    }
    if count > 1:
        ev["series"] = {"count": count, "lastObservedTime": micro_ts(last or first)}
    return ev


def event_last_seen(ev: dict[str, Any]) -> str | None:
    """Newest time an event was observed, whichever shape it has."""
    series = ev.get("series") or {}
    return (
        ev.get("lastTimestamp")
        or series.get("lastObservedTime")
        or ev.get("eventTime")
        or ev.get("firstTimestamp")
    )
