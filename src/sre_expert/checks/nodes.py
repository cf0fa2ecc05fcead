"""Nodes: NotReady, resource pressure, network unavailable, cordoned, unusual taints.

A node finding speaks for the pods on that node that fail because of it (every pod still bound to a
NotReady node; pods evicted under pressure), so a Service whose pods sat on the node is explained, and a
pod finding that depends on ("Node", "", name) is too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sre_expert.checks.registry import check, finding
from sre_expert.core.k8s import condition, pod_ready, pod_terminal
from sre_expert.core.model import Finding, Key
from sre_expert.core.snapshot import Snapshot
from sre_expert.core.timeutil import parse_time
from sre_expert.domain.event_text import ago, cond_line, event_line, latest_by_reason, recent_events

Obj = dict[str, Any]

JOINING_SECONDS = 300
STARTUP_TAINT_SECONDS = 600
LONG_CORDON_SECONDS = 3600

CONTROL_PLANE_TAINTS = {"node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"}
# Set by the node lifecycle controller / kubelet from conditions: reported through the condition itself.
CONDITION_TAINTS = {
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
    "node.kubernetes.io/unschedulable",
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/pid-pressure",
    "node.kubernetes.io/network-unavailable",
    "node.kubernetes.io/out-of-disk",
}
# Taints a component adds at start-up or during scale-down and removes by itself; stuck = broken.
STARTUP_TAINTS = {
    "node.cloudprovider.kubernetes.io/uninitialized": (
        "the cloud controller manager has not initialized the node"
    ),
    "node.cilium.io/agent-not-ready": "the Cilium agent on the node is not ready",
    "node.kubernetes.io/network-unavailable": "the network plugin has not configured the node",
    "karpenter.sh/unregistered": "Karpenter has not seen the node register",
}
AUTOSCALER_TAINTS = {
    "ToBeDeletedByClusterAutoscaler",
    "DeletionCandidateOfClusterAutoscaler",
    "karpenter.sh/disruption",
}

PRESSURE = {
    "MemoryPressure": "NODE-MEMORY-PRESSURE",
    "DiskPressure": "NODE-DISK-PRESSURE",
    "PIDPressure": "NODE-PID-PRESSURE",
}


def _pkey(pod: Obj) -> Key:
    md = pod["metadata"]
    return ("Pod", md.get("namespace") or "", md["name"])


def _taint(t: Obj) -> str:
    v = f"={t['value']}" if t.get("value") else ""
    added = f" (added {t['timeAdded']})" if t.get("timeAdded") else ""
    return f"{t.get('key')}{v}:{t.get('effect')}{added}"


def _evicted(pods: list[Obj]) -> list[Obj]:
    return [p for p in pods if (p.get("status") or {}).get("reason") == "Evicted"]


@check(
    codes=("NODE-NOT-READY", "NODE-MEMORY-PRESSURE", "NODE-DISK-PRESSURE", "NODE-PID-PRESSURE",
        "NODE-NETWORK-UNAVAILABLE", "NODE-CORDONED", "NODE-TAINTED"),
    reads=("Node",),
    speaks_for=("Node", "Pod"),
    depends_on=(),
)
def nodes(snap: Snapshot) -> Iterator[Finding]:
    for node in snap.list("Node"):
        name = node["metadata"]["name"]
        pods = snap.pods_on_node(name)
        ready = condition(node, "Ready")
        not_ready = ready is None or ready.get("status") != "True"
        if not_ready:
            f = _not_ready(snap, node, ready, pods)
            if f:
                yield f
        for ctype, code in PRESSURE.items():
            c = condition(node, ctype)
            if c is not None and c.get("status") == "True":
                yield _pressure(snap, node, c, code, pods)
        net = condition(node, "NetworkUnavailable")
        if net is not None and net.get("status") == "True":
            yield _network(snap, node, net, pods)
        if (node.get("spec") or {}).get("unschedulable"):
            yield _cordoned(snap, node, not_ready)
        f = _taints(snap, node)
        if f:
            yield f


def _node_basics(node: Obj) -> list[str]:
    info = (node.get("status") or {}).get("nodeInfo") or {}
    out = []
    if info.get("kubeletVersion"):
        out.append(
            f"kubelet {info['kubeletVersion']}, {info.get('containerRuntimeVersion') or ''}".rstrip(", ")
        )
    return out


def _not_ready(snap: Snapshot, node: Obj, ready: Obj | None, pods: list[Obj]) -> Finding | None:
    name = node["metadata"]["name"]
    created = node["metadata"].get("creationTimestamp")
    age = snap.age(created)
    status: str | None
    if ready is None:
        if age is not None and age.total_seconds() < JOINING_SECONDS:
            return None
        evidence = ["status.conditions has no Ready condition: the kubelet never reported"]
        status, reason = "Unknown", "no Ready condition"
    else:
        evidence = [cond_line(snap, ready)]
        status, reason = ready.get("status"), ready.get("reason") or ""
        hb = ready.get("lastHeartbeatTime")
        if hb:
            evidence.append(f"last kubelet heartbeat {hb} ({ago(snap, hb)})")
    taints = [t for t in (node.get("spec") or {}).get("taints") or () if t.get("key") in CONDITION_TAINTS]
    if taints:
        evidence.append("spec.taints: " + ", ".join(_taint(t) for t in taints))
    evidence.extend(_node_basics(node))
    affected = [p for p in pods if not (p.get("status") or {}).get("phase") == "Succeeded"]
    not_ready_pods = [p for p in affected if not pod_ready(p)]
    evidence.append(
        f"{len(affected)} pod(s) bound to the node, {len(not_ready_pods)} not Ready"
        + (
            ": "
            + ", ".join(
                f"{p['metadata'].get('namespace')}/{p['metadata']['name']}" for p in not_ready_pods[:5]
            )
            if not_ready_pods
            else ""
        )
    )
    for ev in latest_by_reason(
        recent_events(
            snap,
            node,
            reasons=("NodeNotReady", "Rebooted", "NodeNotSchedulable", "ContainerGCFailed", "SystemOOM"),
        )
    ):
        evidence.append(event_line(snap, ev))
    severity = None
    joining = age is not None and age.total_seconds() < JOINING_SECONDS
    if joining:
        severity = "warning"
        evidence.append(f"node created {ago(snap, created)}: it may still be joining")
    explain = f" ({reason})" if reason else ""
    since = ago(snap, (ready or {}).get("lastTransitionTime")).removesuffix(" ago")
    return finding(
        "NODE-NOT-READY",
        node,
        title=f"Node {name} is NotReady{' for ' + since if since else ''}: Ready={status}{explain}, "
        f"{len(affected)} pod(s) affected",
        evidence=evidence,
        subjects=[_pkey(p) for p in affected],
        severity=severity,
    )


def _pressure(snap: Snapshot, node: Obj, c: Obj, code: str, pods: list[Obj]) -> Finding:
    name = node["metadata"]["name"]
    evidence = [cond_line(snap, c)]
    alloc = (node.get("status") or {}).get("allocatable") or {}
    cap = (node.get("status") or {}).get("capacity") or {}
    res = {
        "NODE-MEMORY-PRESSURE": "memory",
        "NODE-DISK-PRESSURE": "ephemeral-storage",
        "NODE-PID-PRESSURE": "pods",
    }[code]
    if res in cap:
        evidence.append(f"status.capacity.{res}: {cap[res]}, allocatable: {alloc.get(res)}")
    taints = [t for t in (node.get("spec") or {}).get("taints") or () if t.get("key") in CONDITION_TAINTS]
    if taints:
        evidence.append("spec.taints: " + ", ".join(_taint(t) for t in taints))
    evicted = _evicted(pods)
    for p in evicted[:5]:
        evidence.append(
            f"pod {p['metadata'].get('namespace')}/{p['metadata']['name']} evicted: "
            f'"{(p.get("status") or {}).get("message") or ""}"'
        )
    if len(evicted) > 5:
        evidence.append(f"… {len(evicted)} evicted pods on this node in total")
    for ev in latest_by_reason(
        recent_events(
            snap, node, reasons=("EvictionThresholdMet", "FreeDiskSpaceFailed", "ImageGCFailed", "SystemOOM")
        )
    ):
        evidence.append(event_line(snap, ev))
    what = {"NODE-MEMORY-PRESSURE": "memory", "NODE-DISK-PRESSURE": "disk", "NODE-PID-PRESSURE": "PID"}[code]
    return finding(
        code,
        node,
        title=f"Node {name} has {what} pressure ({c.get('reason') or c.get('type')})"
        + (f": {len(evicted)} pod(s) evicted" if evicted else ""),
        evidence=evidence,
        subjects=[_pkey(p) for p in evicted],
    )


def _network(snap: Snapshot, node: Obj, c: Obj, pods: list[Obj]) -> Finding:
    name = node["metadata"]["name"]
    affected = [p for p in pods if not pod_terminal(p) and not (p.get("spec") or {}).get("hostNetwork")]
    evidence = [cond_line(snap, c), f"{len(affected)} pod-network pod(s) on the node"]
    return finding(
        "NODE-NETWORK-UNAVAILABLE",
        node,
        title=f"Node {name} network is unavailable ({c.get('reason') or 'NetworkUnavailable'})",
        evidence=evidence,
        subjects=[_pkey(p) for p in affected],
    )


def _cordoned(snap: Snapshot, node: Obj, not_ready: bool) -> Finding:
    name = node["metadata"]["name"]
    since = None
    for t in (node.get("spec") or {}).get("taints") or ():
        if t.get("key") == "node.kubernetes.io/unschedulable" and t.get("timeAdded"):
            since = parse_time(t["timeAdded"])
    if since is None:
        evs = recent_events(snap, node, reasons=("NodeNotSchedulable",), within=timedelta(days=3650))
        if evs:
            since = parse_time(evs[-1].get("lastTimestamp") or evs[-1].get("firstTimestamp"))
    evidence = ["spec.unschedulable: true (new pods are not scheduled here; running pods stay)"]
    if since is not None:
        evidence.append(f"cordoned since {since.isoformat()} ({ago(snap, since)})")
    ann = node["metadata"].get("annotations") or {}
    for k, v in ann.items():
        if "drain" in k.lower() or "cordon" in k.lower() or "maintenance" in k.lower():
            evidence.append(f"metadata.annotations[{k}]: {v}")
    auto = [t for t in (node.get("spec") or {}).get("taints") or () if t.get("key") in AUTOSCALER_TAINTS]
    if auto:
        evidence.append("being removed by the autoscaler: " + ", ".join(_taint(t) for t in auto))
    long = since is not None and (snap.now - since).total_seconds() >= LONG_CORDON_SECONDS
    severity = "warning" if long and not not_ready and not auto else "info"
    pods = [p for p in snap.pods_on_node(name) if not pod_terminal(p)]
    evidence.append(f"{len(pods)} pod(s) still running on it")
    return finding(
        "NODE-CORDONED",
        node,
        title=f"Node {name} is cordoned (SchedulingDisabled)"
        + (f" for {ago(snap, since).removesuffix(' ago')}" if since is not None else ""),
        evidence=evidence,
        severity=severity,
    )


def _taints(snap: Snapshot, node: Obj) -> Finding | None:
    name = node["metadata"]["name"]
    taints = (node.get("spec") or {}).get("taints") or ()
    unusual, stuck = [], []
    for t in taints:
        key = t.get("key") or ""
        if key in CONTROL_PLANE_TAINTS or t.get("effect") == "PreferNoSchedule":
            continue
        if key in STARTUP_TAINTS:
            if key == "node.kubernetes.io/network-unavailable":
                continue  # the NetworkUnavailable condition speaks for it
            added = parse_time(t.get("timeAdded")) or parse_time(node["metadata"].get("creationTimestamp"))
            if added is not None and (snap.now - added).total_seconds() >= STARTUP_TAINT_SECONDS:
                stuck.append(t)
            continue
        if key in CONDITION_TAINTS or key in AUTOSCALER_TAINTS:
            continue
        unusual.append(t)
    if not unusual and not stuck:
        return None
    evidence = []
    for t in stuck:
        since = ago(snap, t.get("timeAdded") or node["metadata"].get("creationTimestamp")).removesuffix(
            " ago"
        )
        evidence.append(f"spec.taints: {_taint(t)}: {STARTUP_TAINTS[t['key']]} after {since}")
    if unusual:
        evidence.append("spec.taints: " + ", ".join(_taint(t) for t in unusual))
        evidence.append(
            "only pods tolerating these taints can be scheduled here "
            + (
                "(NoExecute also evicts pods that do not tolerate it)"
                if any(t.get("effect") == "NoExecute" for t in unusual)
                else ""
            )
        )
    first = (stuck or unusual)[0]
    return finding(
        "NODE-TAINTED",
        node,
        title=(
            f"Node {name} still has start-up taint {first.get('key')}"
            if stuck
            else f"Node {name} has taint{'s' if len(unusual) > 1 else ''} "
            + ", ".join(
                f"{t.get('key')}{'=' + t['value'] if t.get('value') else ''}:{t.get('effect')}"
                for t in unusual
            )
        ),
        evidence=evidence,
        severity="warning" if stuck else None,
        params={"taint": first.get("key") or ""},
    )
