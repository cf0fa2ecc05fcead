"""Warning events nothing else explains, plus the small event/condition helpers the other area checks share.

The post check runs after every other check: a Warning event about an object that no finding speaks
for (directly or through its controller) is reported once per (object, reason), recent ones only, with
resolved start-up noise dropped and large bursts grouped per namespace so 30,000 events stay readable.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sre_expert.core.model import Finding, Key, ObjectRef
from sre_expert.checks.registry import ANY_KIND, check, finding
from sre_expert.core.snapshot import Snapshot, event_subject, event_time
from sre_expert.core.timeutil import human, parse_time
from sre_expert.core.wording import QUOTE_LIMIT, quote

Obj = dict[str, Any]

RECENT = timedelta(hours=1)
MAX_MESSAGE = 300
GROUP_OVER = 5  # more objects than this with one (namespace, reason) become one grouped finding
MAX_FINDINGS = 100


# --- helpers shared by the area checks ---------------------------------------------------------------


def cond(obj: Obj, type_: str) -> Obj | None:
    for c in (obj.get("status") or {}).get("conditions") or ():
        if c.get("type") == type_:
            found: Obj = c
            return found
    return None


def ago(snap: Snapshot, timestamp: str | datetime | None) -> str:
    """'12m ago' for a timestamp, '' when unknown."""
    t = timestamp if isinstance(timestamp, datetime) else parse_time(timestamp)
    if t is None:
        return ""
    return f"{human(snap.now - t)} ago"


def cond_line(snap: Snapshot, c: Obj, prefix: str = "status.conditions") -> str:
    """`status.conditions[Ready]: Unknown (NodeStatusUnknown) "Kubelet stopped posting …" since …`."""
    parts = [f"{prefix}[{c.get('type')}]: {c.get('status')}"]
    if c.get("reason"):
        parts.append(f"({c['reason']})")
    if c.get("message"):
        parts.append(f'"{clip(c["message"])}"')
    since = c.get("lastTransitionTime")
    if since:
        parts.append(f"since {since} ({ago(snap, since)})")
    return " ".join(parts)


def event_count(ev: Obj) -> int:
    series = ev.get("series") or {}
    return int(series.get("count") or ev.get("count") or ev.get("deprecatedCount") or 1)


def event_message(ev: Obj) -> str:
    return clip(ev.get("message") or ev.get("note") or "")


def event_line(snap: Snapshot, ev: Obj) -> str:
    """`event Warning ProvisioningFailed ×12, last 2m ago: "…"` — the exact message, as kubectl shows it."""
    n = event_count(ev)
    when = ago(snap, event_time(ev))
    return (
        f"event {ev.get('type') or 'Normal'} {ev.get('reason') or '?'}"
        f'{f" ×{n}" if n > 1 else ""}{f", last {when}" if when else ""}: "{event_message(ev)}"'
    )


def recent_events(
    snap: Snapshot,
    obj: Obj | Key,
    reasons: tuple[str, ...] | None = None,
    warning_only: bool = False,
    within: timedelta = RECENT,
) -> list[Obj]:
    """Events of an object seen within `within` of the capture, oldest first."""
    cutoff = snap.now - within
    out = []
    for ev in snap.events_for(obj, warning_only=warning_only):
        if reasons and ev.get("reason") not in reasons:
            continue
        t = event_time(ev)
        if t is not None and t < cutoff:
            continue
        out.append(ev)
    return out


def latest_by_reason(events: list[Obj], limit: int = 3) -> list[Obj]:
    """The newest event of each reason (events oldest first in), Warnings first, then newest first."""
    seen: dict[str, Obj] = {}
    for ev in events:
        seen[ev.get("reason") or ""] = ev
    newest_first = list(reversed(list(seen.values())))
    newest_first.sort(key=lambda e: e.get("type") != "Warning")
    return newest_first[:limit]


def pod_ready(pod: Obj) -> bool:
    c = cond(pod, "Ready")
    return c is not None and c.get("status") == "True"  # a found condition is never empty


def daemon_node(pod: Obj) -> str | None:
    """The node a DaemonSet pod is pinned to (required nodeAffinity on metadata.name), None if not pinned."""
    aff = (((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution") or {}
    for term in aff.get("nodeSelectorTerms") or ():
        for f in term.get("matchFields") or ():
            if f.get("key") == "metadata.name" and f.get("values"):
                node: str = f["values"][0]
                return node
    return None


def pod_terminal(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def pod_state(pod: Obj) -> str:
    """`web-7d9f-abcde: Running, Ready=False, app waiting CrashLoopBackOff, 7 restarts`."""
    st = pod.get("status") or {}
    bits = [st.get("phase") or "Unknown"]
    if st.get("reason"):
        bits.append(f"reason {st['reason']}")
    if pod["metadata"].get("deletionTimestamp"):
        bits.append("terminating")
    rc = cond(pod, "Ready")
    if rc is not None:
        bits.append(f"Ready={rc.get('status')}")
    restarts = 0
    for cs in (st.get("initContainerStatuses") or []) + (st.get("containerStatuses") or []):
        restarts += cs.get("restartCount") or 0
        state = cs.get("state") or {}
        if "waiting" in state and (state["waiting"] or {}).get("reason"):
            bits.append(f"{cs.get('name')} waiting {state['waiting']['reason']}")
        elif "terminated" in state and (state["terminated"] or {}).get("reason") not in (None, "Completed"):
            bits.append(f"{cs.get('name')} terminated {state['terminated']['reason']}")
    if restarts:
        bits.append(f"{restarts} restart{'s' if restarts != 1 else ''}")
    return f"{pod['metadata']['name']}: {', '.join(bits)}"


def ns_flag(namespace: str | None) -> str:
    return f" -n {namespace}" if namespace else ""


def clip(text: Any, width: int = MAX_MESSAGE) -> str:
    """White space folded to single spaces, cut to `width` characters with an ellipsis ('' for None)."""
    return quote(text, max(width, QUOTE_LIMIT))


def fmt_event(ev: Obj, width: int = MAX_MESSAGE) -> str:
    """`event Warning BackOff x12: …` — type, reason, count and clipped message, without the age."""
    count = ev.get("count") or (ev.get("series") or {}).get("count") or 1
    times = f" x{count}" if count > 1 else ""
    return f"event {ev.get('type') or 'Normal'} {ev.get('reason')}{times}: {clip(ev.get('message'), width)}"


# --- the post check ----------------------------------------------------------------------------------

# Warnings that say nothing actionable on their own, or that another signal already carries.
BENIGN_REASONS = frozenset(
    {
        "DNSConfigForming",  # "Nameserver limits were exceeded": resolv.conf trimmed, harmless
        "InvalidDiskCapacity",  # kubelet start-up: "invalid capacity 0 on image filesystem"
        "CgroupV1",  # kubelet deprecation notice
        "ProbeWarning",  # probe succeeded with a warning (e.g. redirect)
        "FailedToUpdateEndpoint",  # optimistic-lock conflicts, retried by the controller
        "FailedToUpdateEndpointSlices",
        "Preempting",
        "NodeSysctlChange",
    }
)
# Pod start-up warnings that no longer matter once the pod is Ready.
POD_STARTUP_REASONS = frozenset(
    {
        "FailedScheduling",
        "FailedMount",
        "FailedAttachVolume",
        "FailedCreatePodSandBox",
        "FailedPodSandBoxStatus",
        "Failed",
        "BackOff",
        "Unhealthy",
        "FailedSync",
        "NetworkNotReady",
        "ErrImagePull",
        "InspectFailed",
        "FailedKillPod",
        "FailedPreStopHook",
        "ExceededGracePeriod",
    }
)
RESOLVED_WHEN_BOUND = frozenset({"ProvisioningFailed", "FailedBinding", "ExternalProvisioning"})
SERIOUS_REASONS = frozenset(
    {
        "FailedCreate",
        "FailedMount",
        "FailedAttachVolume",
        "FailedScheduling",
        "BackOff",
        "Failed",
        "FailedCreatePodSandBox",
        "SystemOOM",
        "OOMKilling",
        "Evicted",
        "EvictionThresholdMet",
        "FreeDiskSpaceFailed",
        "ImageGCFailed",
        "ContainerGCFailed",
        "ProvisioningFailed",
        "VolumeResizeFailed",
        "SyncLoadBalancerFailed",
        "FailedDelete",
        "FailedBinding",
        "NetworkNotReady",
        "FailedKillPod",
        "FailedPostStartHook",
        "FailedPreStopHook",
        "FailedMapVolume",
        "FailedDaemonPod",
        "UpdateFailed",
        "FailedComputeMetricsReplicas",
        "FailedGetScale",
        "FailedRescale",
        "FailedCreatePod",
    }
)


@check(
    codes=("EVENT-WARNING", "EVENT-WARNINGS-GROUPED"),
    reads=("Event",),
    speaks_for=(ANY_KIND,),
    depends_on=(),
    post=True,
)
def unexplained_warning_events(snap: Snapshot, findings: list[Finding]) -> list[Finding]:
    covered: set[Key] = set()
    for f in findings:
        covered.update(f.subjects)
    cutoff = snap.now - RECENT
    groups: dict[tuple[Key, str], list[Obj]] = defaultdict(list)
    for key, evs in snap.event_index().items():
        if key in covered:
            continue
        for ev in evs:
            if ev.get("type") != "Warning":
                continue
            reason = ev.get("reason") or ""
            if reason in BENIGN_REASONS:
                continue
            t = event_time(ev)
            if t is None or t < cutoff:
                continue
            groups[(key, reason)].append(ev)
    if not groups:
        return []

    kept: list[tuple[Key, str, list[Obj], Obj | None]] = []
    history: list[tuple[Key, str, list[Obj], Obj, Obj]] = []
    gone_kinds = {k for k in {key[0] for key, _ in groups} if snap.count(k) > 0}
    for (key, reason), evs in groups.items():
        obj = snap.get(*key)
        if obj is None and key[0] in ("Node", "PersistentVolume", "Namespace", "StorageClass"):
            obj = snap.get(key[0], "", key[2])
        if obj is None and key[0] in gone_kinds:
            continue  # the object is gone: its warnings are history
        if obj is not None and (_explained_by_owner(snap, obj, covered) or _resolved(snap, obj, reason, evs)):
            continue
        if obj is not None and (healthy := recovered_after(obj, evs)) is not None:
            history.append((key, reason, evs, obj, healthy))
            continue
        if (
            reason == "Unhealthy"
            and "Readiness probe" in (evs[-1].get("message") or "")
            and sum(event_count(e) for e in evs) < 3
        ):
            continue
        kept.append((key, reason, evs, obj))

    by_ns_reason: dict[tuple[str, str], list[tuple[Key, str, list[Obj], Obj | None]]] = defaultdict(list)
    for item in kept:
        by_ns_reason[(item[0][1], item[1])].append(item)

    out: list[Finding] = []
    for (ns, reason), items in by_ns_reason.items():
        if len(items) > GROUP_OVER:
            out.append(_grouped(snap, ns, reason, items))
        else:
            out.extend(_single(snap, key, reason, evs, obj) for key, reason, evs, obj in items)
    out.extend(_single(snap, key, reason, evs, obj, healthy) for key, reason, evs, obj, healthy in history)
    out.sort(key=lambda f: (f.severity != "warning", -_weight(f), f.object.namespace or "", f.object.name))
    return out[:MAX_FINDINGS]


def _weight(f: Finding) -> int:
    return len(f.subjects)


def _explained_by_owner(snap: Snapshot, obj: Obj, covered: set[Key]) -> bool:
    cur = obj
    for _ in range(4):
        up = snap.controller_of(cur)
        if up is None:
            return False
        md = up["metadata"]
        if (up.get("kind") or "", md.get("namespace") or "", md.get("name") or "") in covered:
            return True
        cur = up
    return False


def _resolved(snap: Snapshot, obj: Obj, reason: str, evs: list[Obj]) -> bool:
    kind = obj.get("kind")
    st = obj.get("status") or {}
    if kind == "Pod":
        if reason == "FailedScheduling" and (obj.get("spec") or {}).get("nodeName"):
            return True
        if reason in POD_STARTUP_REASONS and (pod_ready(obj) or st.get("phase") == "Succeeded"):
            return True
    elif kind == "PersistentVolumeClaim":
        if reason in RESOLVED_WHEN_BOUND and st.get("phase") == "Bound":
            return True
    elif kind in ("ReplicaSet", "StatefulSet", "ReplicationController"):
        if reason in ("FailedCreate", "FailedDelete"):
            want = (obj.get("spec") or {}).get("replicas")
            want = 1 if want is None else want
            if (st.get("replicas") or 0) == want and (st.get("readyReplicas") or 0) >= want:
                return True
    elif kind == "DaemonSet":
        if reason in ("FailedCreate", "FailedDaemonPod") and (st.get("numberReady") or 0) >= (
            st.get("desiredNumberScheduled") or 0
        ):
            return True
    elif kind == "HorizontalPodAutoscaler":
        c = cond(obj, "ScalingActive")
        if reason.startswith("FailedGet") and c is not None and c.get("status") == "True":
            return True
    elif kind == "Node":
        c = cond(obj, "Ready")
        if reason in ("NodeNotReady",) and c is not None and c.get("status") == "True":
            return True
    return False


# The condition whose True status says an object works now, per kind (Ready for most controllers' objects).
HEALTHY_CONDITION = {
    "HorizontalPodAutoscaler": "ScalingActive",
    "Gateway": "Programmed",
    "Deployment": "Available",
}


def healthy_condition(obj: Obj) -> Obj | None:
    """The condition that says `obj` works now (Ready=True, an HPA's ScalingActive=True, ...), None when its
    current status does not say so (not healthy, or a kind without such a condition)."""
    c = cond(obj, HEALTHY_CONDITION.get(obj.get("kind") or "", "Ready"))
    if c is None or c.get("status") != "True" or parse_time(c.get("lastTransitionTime")) is None:
        return None
    if obj.get("kind") == "HorizontalPodAutoscaler":
        able = cond(obj, "AbleToScale")
        if able is not None and able.get("status") != "True":
            return None
    return c


def recovered_after(obj: Obj, evs: list[Obj]) -> Obj | None:
    """The healthy condition of `obj` when it turned healthy at or after the newest of `evs`: those events
    are history (the object failed, then recovered), judged by its current status first. None otherwise."""
    c = healthy_condition(obj)
    if c is None:
        return None
    since = parse_time(c.get("lastTransitionTime"))
    times = [t for t in (event_time(e) for e in evs) if t is not None]
    if since is None or not times or max(times) > since:
        return None
    return c


def _involved(evs: list[Obj]) -> Obj:
    return event_subject(evs[-1])


def _ref(key: Key, evs: list[Obj], obj: Obj | None) -> ObjectRef:
    if obj is not None:
        return ObjectRef.of(obj)
    inv = _involved(evs)  # its own kind: key[0] is the index name ("Node.longhorn.io" for a Longhorn Node)
    return ObjectRef(inv.get("apiVersion") or "", inv.get("kind") or key[0], key[1] or None, key[2])


def _single(
    snap: Snapshot, key: Key, reason: str, evs: list[Obj], obj: Obj | None, healthy: Obj | None = None
) -> Finding:
    ref = _ref(key, evs, obj)
    total = sum(event_count(e) for e in evs)
    last = evs[-1]
    first_t = min((t for e in evs if (t := event_time(e))), default=None)
    evidence = [event_line(snap, e) for e in latest_distinct_messages(evs)]
    evidence.append(
        f"{total} occurrence{'s' if total != 1 else ''} in the last hour"
        + (f", first {ago(snap, first_t)}" if first_t else "")
    )
    src = last.get("reportingComponent") or (last.get("source") or {}).get("component")
    if src:
        evidence.append(f"reported by {src}")
    if obj is None:
        why = "(kind not collected or already deleted)" if snap.collected(key[0]) else ": its kind was not collected"
        evidence.append(f"{key[0]} {key[2]} is not in the capture{' ' if why[0] == '(' else ''}{why}")
    sev = "warning" if reason in SERIOUS_REASONS and healthy is None else "info"
    title = (
        f"{ref.kind} {ref.namespace + '/' if ref.namespace else ''}{ref.name}: {reason} ×{total}: "
        f"{event_message(last)[:120]}"
    )
    if healthy is not None:
        evidence.insert(0, cond_line(snap, healthy) + ": recovered after the last of these events")
        title = f"{title} (history: {healthy.get('type')}=True since {ago(snap, healthy.get('lastTransitionTime'))})"
    return finding(
        "EVENT-WARNING",
        ref,
        title=title,
        evidence=evidence,
        params={"reason": reason, "ns_flag": ns_flag(ref.namespace), "okind": ref.kind},
        severity=sev,
    )


def latest_distinct_messages(evs: list[Obj], limit: int = 3) -> list[Obj]:
    seen: dict[str, Obj] = {}
    for ev in evs:
        seen[event_message(ev)] = ev
    return list(reversed(list(seen.values())))[:limit]


def _grouped(
    snap: Snapshot, ns: str, reason: str, items: list[tuple[Key, str, list[Obj], Obj | None]]
) -> Finding:
    items = sorted(items, key=lambda it: -sum(event_count(e) for e in it[2]))
    total = sum(event_count(e) for it in items for e in it[2])
    kinds = sorted({it[0][0] for it in items})
    ref = (
        ObjectRef("v1", "Namespace", None, ns)
        if ns
        else ObjectRef("", "Cluster", None, snap.info.cluster or "cluster")
    )
    evidence = [
        f"{len(items)} {'/'.join(kinds)} objects with Warning {reason}, {total} occurrences in the last hour"
    ]
    for key, _, evs, _ in items[:5]:
        evidence.append(f"{key[0]} {key[2]}: {event_line(snap, evs[-1])}")
    if len(items) > 5:
        evidence.append(f"… and {len(items) - 5} more")
    sev = "warning" if reason in SERIOUS_REASONS else "info"
    return finding(
        "EVENT-WARNINGS-GROUPED",
        ref,
        title=f"{len(items)} objects in {'namespace ' + ns if ns else 'the cluster'} report Warning {reason} "
        f"({total} events in the last hour)",
        evidence=evidence,
        params={"reason": reason, "ns_flag": ns_flag(ns) if ns else " -A"},
        subjects=[it[0] for it in items],
        severity=sev,
    )
