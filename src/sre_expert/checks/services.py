"""Services: selectors that match nothing, no ready endpoints, target ports no pod exposes, pending LBs.

Skipped on purpose: ExternalName Services and Services without a selector (their Endpoints are managed
by hand or by another controller, headless or not), so they are never "missing endpoints".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sre_expert.checks.registry import check, finding
from sre_expert.core.k8s import pod_ready, pod_state, pod_terminal
from sre_expert.core.model import Finding, Key, key_of
from sre_expert.core.selectors import describe, matches_map
from sre_expert.core.snapshot import Snapshot
from sre_expert.core.timeutil import parse_time
from sre_expert.domain.event_text import ago, event_line, latest_by_reason, recent_events

Obj = dict[str, Any]

LB_GRACE_SECONDS = 300
READY_RACE_SECONDS = 60  # pods Ready for less than this may simply be newer than the captured endpoints
MAX_LISTED = 5
MAX_DEPS = 200

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")
# kube-prometheus-stack creates scrape Services for control-plane components; on managed clusters (GKE, EKS,
# AKS) those pods are invisible, so an empty selection there is expected, not an outage.
CONTROL_PLANE_COMPONENTS = {
    "kube-controller-manager",
    "kube-scheduler",
    "etcd",
    "kube-apiserver",
    "kube-proxy",
}


class PodLabelIndex:
    """Per-namespace inverted index label=value → pods, built lazily: a Service selector costs the
    smallest posting list, not a scan of the namespace. Built per label key that some selector asks
    about (value → pods), not per label: pods carry many labels that no selector uses."""

    def __init__(self, snap: Snapshot, kind: str = "Pod"):
        self.snap = snap
        self.kind = kind
        self._idx: dict[tuple[str, str], dict[str, list[Obj]]] = {}

    def _values(self, ns: str, key: str) -> dict[str, list[Obj]]:
        idx = self._idx.get((ns, key))
        if idx is None:
            idx = defaultdict(list)
            for p in self.snap.list(self.kind, ns):
                labels = p["metadata"].get("labels")
                if labels and key in labels:
                    idx[labels[key]].append(p)
            self._idx[(ns, key)] = idx
        return idx

    def select(self, ns: str, selector: dict[str, str]) -> list[Obj]:
        if not selector:
            return []
        best: list[Obj] | None = None
        for k, v in selector.items():
            posting = self._values(ns, k).get(v)
            if not posting:
                return []
            if best is None or len(posting) < len(best):
                best = posting
        return [p for p in best or () if matches_map(selector, p["metadata"].get("labels"))]


def _containers(pod: Obj) -> list[Obj]:
    spec = pod.get("spec") or {}
    # Sidecars (init containers with restartPolicy Always) serve traffic too.
    sidecars = [c for c in spec.get("initContainers") or () if c.get("restartPolicy") == "Always"]
    return list(spec.get("containers") or ()) + sidecars


def _port_desc(p: Obj) -> str:
    name = f'"{p["name"]}" ' if p.get("name") else ""
    tp = p.get("targetPort", p.get("port"))
    return f"port {name}{p.get('port')}/{p.get('protocol') or 'TCP'} → targetPort {tp!r}"


def _declared(pods: list[Obj]) -> list[str]:
    seen: dict[str, None] = {}
    for pod in pods:
        for c in _containers(pod):
            for cp in c.get("ports") or ():
                n = f' "{cp["name"]}"' if cp.get("name") else ""
                seen[f"{c.get('name')}: {cp.get('containerPort')}/{cp.get('protocol') or 'TCP'}{n}"] = None
    return list(seen)


def _matching_workloads(snap: Snapshot, ns: str, selector: dict[str, str]) -> list[Obj]:
    out = []
    for kind in WORKLOAD_KINDS:
        for w in snap.list(kind, ns):
            tmpl = ((w.get("spec") or {}).get("template") or {}).get("metadata") or {}
            if matches_map(selector, tmpl.get("labels")):
                out.append(w)
    return out


def _desired(w: Obj) -> int | None:
    spec = w.get("spec") or {}
    if w.get("kind") == "DaemonSet":
        return (w.get("status") or {}).get("desiredNumberScheduled")
    r = spec.get("replicas")
    return 1 if r is None else r


@check(
    codes=("SVC-NO-MATCHING-PODS", "SVC-NO-READY-ENDPOINTS", "SVC-TARGETPORT-UNRESOLVED", "SVC-TARGETPORT-UNDECLARED",
        "SVC-LB-PENDING"),
    reads=("Service", "Pod"),
    speaks_for=("Service",),
    depends_on=("Deployment", "Pod", "ReplicaSet", "StatefulSet"),
)
def services(snap: Snapshot) -> Iterator[Finding]:
    index = PodLabelIndex(snap)
    for svc in snap.list("Service"):
        spec = svc.get("spec") or {}
        if spec.get("type") == "LoadBalancer":
            f = _lb_pending(snap, svc)
            if f:
                yield f
        if spec.get("type") == "ExternalName":
            continue
        selector = spec.get("selector")
        if not selector:
            continue
        ns = svc["metadata"].get("namespace") or ""
        pods = index.select(ns, selector)
        active = [p for p in pods if not pod_terminal(p)]
        if not active:
            yield _no_pods(snap, svc, selector, pods)
            continue
        unresolved, undeclared = _port_problems(spec, active)
        if unresolved:
            yield _unresolved(svc, selector, active, unresolved)
        elif undeclared:
            yield _undeclared(svc, selector, active, undeclared)
        f = _no_ready(snap, svc, selector, pods, active, bool(unresolved))
        if f:
            yield f


def _no_pods(snap: Snapshot, svc: Obj, selector: dict[str, str], finished: list[Obj]) -> Finding:
    ns = svc["metadata"].get("namespace") or ""
    sel = describe(selector)
    if finished:
        evidence = [
            f"spec.selector: {sel}",
            f"only {len(finished)} finished pod(s) (Succeeded/Failed) in namespace {ns} have these labels",
        ]
        evidence.extend(f"pod {pod_state(p)}" for p in finished[:MAX_LISTED])
    else:
        evidence = [f"spec.selector: {sel}", f"0 pods in namespace {ns} have these labels"]
    workloads = _matching_workloads(snap, ns, selector)
    deps: list[Key] = [key_of(p) for p in finished[:MAX_DEPS]]
    severity = "warning"
    title = f"Service {svc['metadata']['name']} selects no pod (selector {sel})"
    if workloads:
        wanted = [w for w in workloads if (_desired(w) or 0) > 0]
        for w in workloads:
            evidence.append(
                f"{w['kind']} {w['metadata']['name']} has matching pod template labels, "
                f"desired replicas {_desired(w)}"
            )
            deps.append(key_of(w))
        if wanted:
            severity = "critical"
            w = wanted[0]
            title = (
                f"Service {svc['metadata']['name']} has no pods: {w['kind']} {w['metadata']['name']} "
                f"wants {_desired(w)} but none exist"
            )
        else:
            severity = "info"
            title = f"Service {svc['metadata']['name']} selects no pod: its workload is scaled to zero"
    else:
        evidence.append(
            "no Deployment/StatefulSet/DaemonSet/ReplicaSet pod template matches the selector either"
        )
        if ns == "kube-system" and set(selector.values()) & CONTROL_PLANE_COMPONENTS:
            severity = "info"
            evidence.append(
                "it selects control-plane pods, which a managed control plane does not expose: "
                "usually a monitoring scrape Service that can be disabled in the chart values"
            )
    return finding(
        "SVC-NO-MATCHING-PODS",
        svc,
        title=title,
        evidence=evidence,
        severity=severity,
        depends_on=deps,
        params={"selector": sel},
    )


def _port_problems(spec: Obj, pods: list[Obj]) -> tuple[list[tuple[Obj, list[str]]], list[Obj]]:
    """(named targetPorts no pod resolves, numeric targetPorts no container declares — when any declares)."""
    if not pods:
        return [], []
    by_name: set[tuple[str, str]] = set()
    names: set[str] = set()
    numbers: set[int] = set()
    for pod in pods:
        for c in _containers(pod):
            for cp in c.get("ports") or ():
                if cp.get("name"):
                    by_name.add((cp["name"], cp.get("protocol") or "TCP"))
                    names.add(cp["name"])
                if isinstance(cp.get("containerPort"), int):
                    numbers.add(cp["containerPort"])
    unresolved: list[tuple[Obj, list[str]]] = []
    undeclared: list[Obj] = []
    for p in spec.get("ports") or ():
        tp = p.get("targetPort", p.get("port"))
        proto = p.get("protocol") or "TCP"
        if isinstance(tp, str) and not tp.isdigit():
            if (tp, proto) not in by_name:
                hint = (
                    [f'a container port named "{tp}" exists, but not with protocol {proto}']
                    if tp in names
                    else []
                )
                unresolved.append((p, hint))
        else:
            try:
                num = int(tp)
            except (TypeError, ValueError):
                continue
            if numbers and num not in numbers:
                undeclared.append(p)
    return unresolved, undeclared


def _unresolved(svc: Obj, selector: dict[str, str], pods: list[Obj], bad: list[tuple[Obj, list[str]]]) -> Finding:
    name = svc["metadata"]["name"]
    first = bad[0][0]
    tp = first.get("targetPort")
    evidence = [f"spec.ports: {_port_desc(p)}" for p, _ in bad]
    for _, hint in bad:
        evidence.extend(hint)
    declared = _declared(pods)
    shown = ", ".join(declared[:8]) if declared else "none"
    evidence.append(f"{len(pods)} selected pod(s) declare container ports: {shown}")
    evidence.append(
        "a named targetPort must match a containerPort name (and protocol) in the pod, "
        "otherwise the endpoints carry no port for it and connections fail"
    )
    return finding(
        "SVC-TARGETPORT-UNRESOLVED",
        svc,
        title=f'Service {name} targetPort "{tp}" matches no container port name in its {len(pods)} pod(s)',
        evidence=evidence,
        params={"selector": describe(selector), "port": tp},
    )


def _undeclared(svc: Obj, selector: dict[str, str], pods: list[Obj], bad: list[Obj]) -> Finding:
    name = svc["metadata"]["name"]
    tps = [str(p.get("targetPort", p.get("port"))) for p in bad]
    declared = _declared(pods)
    evidence = [f"spec.ports: {_port_desc(p)}" for p in bad]
    evidence.append(f"selected pods declare only: {', '.join(declared[:8])}")
    evidence.append(
        "containerPorts are informational, so the app may still listen there; "
        "but a port no container declares is the usual sign of a wrong targetPort"
    )
    return finding(
        "SVC-TARGETPORT-UNDECLARED",
        svc,
        title=f"Service {name} targets port {', '.join(tps)}, which no selected container declares",
        evidence=evidence,
        params={"selector": describe(selector), "port": tps[0]},
    )


def _no_ready(
    snap: Snapshot, svc: Obj, selector: dict[str, str], pods: list[Obj], active: list[Obj], port_broken: bool
) -> Finding | None:
    spec = svc.get("spec") or {}
    md = svc["metadata"]
    endpoints = snap.service_endpoints(svc)
    if endpoints is not None and any(e.get("ready") for e in endpoints):
        return None  # the usual case, settled before reading every selected pod's conditions
    ready_pods = [p for p in active if pod_ready(p)]
    if endpoints is not None:
        if ready_pods and (port_broken or not _ready_for_a_while(snap, ready_pods)):
            return None  # explained by the port finding, or pods newer than the captured endpoints
        source = "EndpointSlices" if snap.endpoint_slices(svc) else "Endpoints"
        ep_line = f"{source}: {len(endpoints)} address(es), 0 ready"
    else:
        if spec.get("publishNotReadyAddresses"):
            if any((p.get("status") or {}).get("podIP") for p in active):
                return None
        elif ready_pods:
            return None
        ep_line = "no EndpointSlices or Endpoints captured: readiness taken from the pods' Ready condition"
    sel = describe(selector)
    evidence = [
        f"spec.selector: {sel} selects {len(pods)} pod(s), {len(ready_pods)} Ready"
        + (f", {len(pods) - len(active)} finished (Succeeded/Failed)" if len(pods) != len(active) else ""),
        ep_line,
    ]
    if ready_pods and endpoints is not None:
        evidence.append(
            f"{len(ready_pods)} pod(s) report Ready=True yet no endpoint is ready: "
            "the endpoints controller is not updating this Service"
        )
    shown = sorted(pods, key=lambda p: (pod_ready(p), p["metadata"]["name"]))[:MAX_LISTED]
    evidence.extend(f"pod {pod_state(p)}" for p in shown)
    if len(pods) > MAX_LISTED:
        evidence.append(f"… and {len(pods) - MAX_LISTED} more pods")
    ports = ", ".join(str(p.get("port")) for p in spec.get("ports") or ())
    return finding(
        "SVC-NO-READY-ENDPOINTS",
        svc,
        title=f"Service {md['name']} has no ready endpoints: 0 of {len(pods)} selected pods are Ready"
        + (f" (port {ports})" if ports else ""),
        evidence=evidence,
        params={"selector": sel},
        depends_on=[key_of(p) for p in pods[:MAX_DEPS]],
    )


def _ready_for_a_while(snap: Snapshot, pods: list[Obj]) -> bool:
    for p in pods:
        for c in (p.get("status") or {}).get("conditions") or ():
            if c.get("type") == "Ready":
                t = parse_time(c.get("lastTransitionTime"))
                if t is None or (snap.now - t).total_seconds() >= READY_RACE_SECONDS:
                    return True
    return False


def _lb_pending(snap: Snapshot, svc: Obj) -> Finding | None:
    ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress")
    if ingress:
        return None
    age = snap.age(svc["metadata"].get("creationTimestamp"))
    if age is None or age.total_seconds() < LB_GRACE_SECONDS:
        return None
    spec = svc.get("spec") or {}
    evidence = [
        "status.loadBalancer.ingress: empty (no external IP or hostname assigned)",
        f"created {ago(snap, svc['metadata'].get('creationTimestamp'))}",
    ]
    if spec.get("loadBalancerClass"):
        evidence.append(
            f"spec.loadBalancerClass: {spec['loadBalancerClass']} (only that controller will serve it)"
        )
    if spec.get("loadBalancerIP"):
        evidence.append(f"spec.loadBalancerIP: {spec['loadBalancerIP']} requested")
    evs = recent_events(
        snap,
        svc,
        reasons=(
            "SyncLoadBalancerFailed",
            "EnsuringLoadBalancer",
            "LoadBalancerUpdateFailed",
            "AllocationFailed",
        ),
    )
    evidence.extend(event_line(snap, e) for e in latest_by_reason(evs))
    if not evs:
        evidence.append(
            "no load-balancer events: no cloud controller or LB implementation seems to handle it"
        )
    return finding(
        "SVC-LB-PENDING",
        svc,
        title=f"LoadBalancer Service {svc['metadata']['name']} has no external address after "
        f"{ago(snap, svc['metadata'].get('creationTimestamp')).removesuffix(' ago')}",
        evidence=evidence,
    )


APISERVICE_GRACE_SECONDS = 120  # the aggregator re-probes often; a flap during a rollout is not an outage


@check(codes=("APISERVICE-UNAVAILABLE",), reads=("APIService",), speaks_for=("APIService",), depends_on=("Service",))
def api_services(snap: Snapshot) -> Iterator[Finding]:
    """An aggregated API (metrics.k8s.io, a webhook's admission API …) whose Available condition is False:
    the API server cannot reach the Service behind it, so discovery of that group fails for every client
    and whatever needs the group (HPAs, namespace deletion, garbage collection) stalls."""
    for aps in snap.list("APIService"):
        svc = (aps.get("spec") or {}).get("service") or {}
        if not svc.get("name"):
            continue  # served by the API server itself
        cond = next((c for c in (aps.get("status") or {}).get("conditions") or []
                     if isinstance(c, dict) and c.get("type") == "Available"), None)
        if cond is None or cond.get("status") != "False":
            continue
        since = parse_time(cond.get("lastTransitionTime"))
        # A transition at the capture instant itself tells nothing: a bundle without capturedAt may have
        # taken its capture time from this very timestamp. Only a known short age is a flap.
        age = (snap.now - since).total_seconds() if since is not None else None
        if age is not None and 0 < age < APISERVICE_GRACE_SECONDS:
            continue
        ns, name = svc.get("namespace") or "", svc["name"]
        reason = cond.get("reason") or "Unavailable"
        evidence = [f"status.conditions[Available]: False, reason {reason}"
                    + (f", since {cond['lastTransitionTime']}" if cond.get("lastTransitionTime") else "")]
        if cond.get("message"):
            evidence.append(f"message: {cond['message']}")
        evidence.append(f"spec.service: {ns}/{name}")
        yield finding(
            "APISERVICE-UNAVAILABLE", aps,
            title=f"API {aps['metadata']['name']} is unavailable ({reason}): Service {ns}/{name} does not answer",
            evidence=evidence,
            depends_on=[("Service", ns, name)],
            params={"service": name, "service_namespace": ns},
        )
