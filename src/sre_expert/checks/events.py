"""Warning events nothing else explains (the shared event helpers are domain.event_text, the condition and
pod ones core.k8s).

The post check runs after every other check: a Warning event about an object that no finding speaks
for (directly or through its controller) is reported once per (object, reason), recent ones only, with
resolved start-up noise dropped and large bursts grouped per namespace so 30,000 events stay readable.
"""

from __future__ import annotations

from collections import defaultdict

from sre_expert.checks.registry import ANY_KIND, check, finding
from sre_expert.core.k8s import Obj, condition, ns_flag, pod_ready
from sre_expert.core.model import Finding, Key, ObjectRef
from sre_expert.core.snapshot import Snapshot, event_subject, event_time
from sre_expert.core.timeutil import parse_time
from sre_expert.domain.event_text import RECENT, ago, cond_line, event_count, event_line, event_message

GROUP_OVER = 5  # more objects than this with one (namespace, reason) become one grouped finding
MAX_FINDINGS = 100


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
        c = condition(obj, "ScalingActive")
        if reason.startswith("FailedGet") and c is not None and c.get("status") == "True":
            return True
    elif kind == "Node":
        c = condition(obj, "Ready")
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
    c = condition(obj, HEALTHY_CONDITION.get(obj.get("kind") or "", "Ready"))
    if c is None or c.get("status") != "True" or parse_time(c.get("lastTransitionTime")) is None:
        return None
    if obj.get("kind") == "HorizontalPodAutoscaler":
        able = condition(obj, "AbleToScale")
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
