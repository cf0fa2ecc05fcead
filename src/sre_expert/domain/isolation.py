"""NetworkPolicy ingress as the CNI enforces it for Gateway traffic: whether the policies selecting a backend
pod admit the Envoy proxy pods of the Gateway that routes to it (namespace and pod selectors, ports by
number or name), and which HTTPRoute backends are therefore cut off (an Isolated each), with the evidence
that names the blamed policy.

Shared by the networking checks and diagnosis.trace (the endpoints hop says when traffic is dropped).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sre_expert.core.k8s import pod_terminal
from sre_expert.core.selectors import describe, matches
from sre_expert.core.snapshot import Snapshot

Obj = dict[str, Any]


def policy_types(pol: Obj) -> list[str]:
    spec = pol.get("spec") or {}
    types = spec.get("policyTypes")
    if types:
        return list(types)
    return ["Ingress"] + (["Egress"] if "egress" in spec else [])


def rule_text(rule: Obj, direction: str = "to") -> str:
    """One egress (`to`) or ingress (`from`) rule in words: its peers and ports."""
    ports = (
        ",".join(f"{p.get('port', '*')}/{p.get('protocol') or 'TCP'}" for p in rule.get("ports") or ())
        or "all ports"
    )
    same_ns = " (same namespace)" if direction == "from" else ""
    peers = []
    for peer in rule.get(direction) or ():
        if peer.get("ipBlock"):
            peers.append(f"ipBlock {peer['ipBlock'].get('cidr')}")
            continue
        bits = []
        if peer.get("namespaceSelector") is not None:
            bits.append(f"namespaceSelector {describe(peer['namespaceSelector']) or '{}'}")
        if peer.get("podSelector") is not None:
            bits.append(f"podSelector {describe(peer['podSelector']) or '{}' + same_ns}")
        peers.append(" ".join(bits))
    return f"{direction} {' | '.join(peers) or 'anywhere'} on {ports}"


# --- reachability from the gateway -------------------------------------------------------------------

OWNING_GATEWAY = ("gateway.envoyproxy.io/owning-gateway-name", "gateway.envoyproxy.io/owning-gateway-namespace")


@dataclass(slots=True)
class Isolated:
    """A routed backend's pods that no ingress policy admits the gateway's proxies to, and why."""

    route: Obj
    service: Obj
    port: int | str  # the pods' target port (number or name) the proxies connect to
    pods: list[Obj]
    reachable: list[Obj]  # the Service's other pods, which the proxies can reach
    policies: list[Obj]  # the Ingress policies selecting the isolated pods
    proxies: list[Obj]


def gateway_proxy_pods(snap: Snapshot, gw_namespace: str, gw_name: str) -> list[Obj]:
    """The Envoy proxy pods of a Gateway (Envoy Gateway labels them with the Gateway they serve; they run
    in the controller's namespace, or in the Gateway's own namespace in GatewayNamespace mode)."""
    return snap.memo("netpol.gateway_proxies", _proxies_by_gateway).get((gw_namespace, gw_name), [])


def _proxies_by_gateway(snap: Snapshot) -> dict[tuple[str, str], list[Obj]]:
    """Every live pod carrying Envoy Gateway's owning-gateway labels, by (Gateway namespace, name): one pass."""
    out: dict[tuple[str, str], list[Obj]] = defaultdict(list)
    for p in snap.list("Pod"):
        labels = p["metadata"].get("labels") or {}
        name, ns = labels.get(OWNING_GATEWAY[0]), labels.get(OWNING_GATEWAY[1])
        if name and ns and not pod_terminal(p):
            out[(ns, name)].append(p)
    return out


def ns_labels(snap: Snapshot, namespace: str) -> dict[str, str] | None:
    """A namespace's labels (with the automatic kubernetes.io/metadata.name); None when it was not read."""
    ns = snap.get("Namespace", "", namespace)
    if ns is None:
        return None
    out = dict(ns["metadata"].get("labels") or {})
    out.setdefault("kubernetes.io/metadata.name", namespace)
    return out


def _pod_port(pod: Obj, target: int | str) -> tuple[int | None, str | None]:
    """(number, name) of a pod's port a Service targetPort names; (None, None) when the pod does not have it
    (a name no container declares, or a number while the containers declare other ports): the Service's
    own finding, not a policy's."""
    declared = False
    for c in (pod.get("spec") or {}).get("containers") or ():
        for p in c.get("ports") or ():
            declared = True
            if p.get("name") == target or p.get("containerPort") == target:
                return p.get("containerPort"), p.get("name")
    return (target, None) if isinstance(target, int) and not declared else (None, None)


def ports_admit(ports: list[Obj] | None, protocol: str, number: int | None, names: set[str]) -> bool:
    """Whether a rule's `ports` (none: every port) admit `protocol` traffic to port `number` or to a
    container port named in `names` (a policy may name the port instead of numbering it)."""
    if not ports:
        return True
    for p in ports:
        if (p.get("protocol") or "TCP") != protocol:
            continue
        port = p.get("port")
        if port is None:
            return True
        if isinstance(port, int) or str(port).isdigit():
            lo = int(port)
            if number is not None and lo <= number <= int(p.get("endPort") or lo):
                return True
        elif port in names:
            return True
    return False


def _peer_admits(snap: Snapshot, peer: Obj, policy_ns: str, src: Obj) -> bool:
    """Does one `from` peer of an ingress rule admit the source pod? An unread namespace counts as admitted
    (nothing is concluded from what could not be seen)."""
    md = src["metadata"]
    if peer.get("ipBlock"):
        try:
            net = ipaddress.ip_network(peer["ipBlock"].get("cidr") or "", strict=False)
            addr = ipaddress.ip_address((src.get("status") or {}).get("podIP") or "")
            excepts = [ipaddress.ip_network(e, strict=False) for e in peer["ipBlock"].get("except") or ()]
        except ValueError:
            return True
        return addr.version == net.version and addr in net and not any(addr in e for e in excepts)
    ns_sel = peer.get("namespaceSelector")
    if ns_sel is not None:
        labels = ns_labels(snap, md.get("namespace") or "")
        if labels is not None and not matches(ns_sel, labels):
            return False
    elif (md.get("namespace") or "") != policy_ns:
        return False
    pod_sel = peer.get("podSelector")
    return pod_sel is None or matches(pod_sel, md.get("labels"))


def ingress_admits(snap: Snapshot, pol: Obj, src: Obj, number: int | None, name: str | None) -> bool:
    """Does this policy admit TCP from the source pod to the given port of the pods it selects?"""
    ns = pol["metadata"].get("namespace") or ""
    for rule in (pol.get("spec") or {}).get("ingress") or ():
        if not ports_admit(rule.get("ports"), "TCP", number, {name} if name else set()):
            continue
        peers = rule.get("from")
        if not peers or any(_peer_admits(snap, p, ns, src) for p in peers):
            return True
    return False


def ingress_policies(snap: Snapshot, pod: Obj) -> list[Obj]:
    """The NetworkPolicies that isolate a pod for ingress (they select it and have type Ingress)."""
    md = pod["metadata"]
    by_ns = snap.memo("netpol.ingress_by_ns", _ingress_by_namespace)
    return [p for p in by_ns.get(md.get("namespace") or "", ())
            if matches((p.get("spec") or {}).get("podSelector") or {}, md.get("labels"))]


def _ingress_by_namespace(snap: Snapshot) -> dict[str, list[Obj]]:
    out: dict[str, list[Obj]] = defaultdict(list)
    for p in snap.list("NetworkPolicy"):
        if "Ingress" in policy_types(p):
            out[p["metadata"].get("namespace") or ""].append(p)
    return out


def route_backends(snap: Snapshot, route: Obj) -> list[tuple[Obj, int | None]]:
    """(Service, port) of every backendRef of a route that names a Service in the capture."""
    ns = route["metadata"].get("namespace") or ""
    out: list[tuple[Obj, int | None]] = []
    for rule in (route.get("spec") or {}).get("rules") or ():
        for ref in rule.get("backendRefs") or ():
            if (ref.get("group") or "") != "" or (ref.get("kind") or "Service") != "Service":
                continue
            svc = snap.get("Service", ref.get("namespace") or ns, ref.get("name") or "")
            if svc is not None and all(svc is not s for s, _ in out):
                out.append((svc, ref.get("port")))
    return out


def route_gateways(snap: Snapshot, route: Obj) -> list[tuple[str, str]]:
    ns = route["metadata"].get("namespace") or ""
    return list(dict.fromkeys(
        (p.get("namespace") or ns, p.get("name") or "") for p in (route.get("spec") or {}).get("parentRefs") or ()
        if (p.get("kind") or "Gateway") == "Gateway"))


def isolated_backends(snap: Snapshot, route: Obj) -> list[Isolated]:
    """The route's backends whose pods admit none of the Gateway's proxy pods: the call `trace` and `check`
    share. Empty when every backend is reachable, or when the proxies are not in the capture (not judged)."""
    out: list[Isolated] = []
    proxies = [p for gw in route_gateways(snap, route) for p in gateway_proxy_pods(snap, *gw)]
    if not proxies:
        return out
    for svc, port in route_backends(snap, route):
        target: int | str | None = None
        for sp in (svc.get("spec") or {}).get("ports") or ():
            if port is None or sp.get("port") == port:
                target = sp.get("targetPort", sp.get("port"))
                break
        if target is None:
            continue
        blocked, open_, pols = [], [], {}
        for pod in snap.service_pods(svc):
            if pod_terminal(pod):
                continue
            selecting = ingress_policies(snap, pod)
            number, name = _pod_port(pod, target)
            if number is None and name is None:
                continue  # the Service targets a port this pod does not have: not a policy question
            if selecting and not any(ingress_admits(snap, pol, src, number, name)
                                     for pol in selecting for src in proxies):
                blocked.append(pod)
                pols.update({p["metadata"]["name"]: p for p in selecting})
            else:
                open_.append(pod)
        if blocked:
            out.append(Isolated(route, svc, target, blocked, open_, list(pols.values()), proxies))
    return out


def _blamed(iso: Isolated) -> Obj:
    """The policy to change: one with ingress rules on the port (it meant to admit someone and leaves the
    proxies out) before a bare default-deny."""
    def order(p: Obj) -> tuple[int, str]:
        return (0 if (p.get("spec") or {}).get("ingress") else 1, p["metadata"]["name"])

    return sorted(iso.policies, key=order)[0]


def isolation_evidence(snap: Snapshot, iso: Isolated) -> list[str]:
    """Why the proxies cannot reach the backend: the policies selecting its pods and their ingress rules,
    what was looked for, how many pods are cut off. For `check` and for `trace`'s service hop."""
    pol, ns, smd, route_ref, proxy_ns, number = isolation_named(iso)
    proxy_labels = {k: v for k, v in (iso.proxies[0]["metadata"].get("labels") or {}).items()
                    if k in OWNING_GATEWAY or k == "app.kubernetes.io/name"}
    evidence = []
    for p in sorted(iso.policies, key=lambda p: p is not pol):
        rules = (p.get("spec") or {}).get("ingress") or []
        evidence.append(
            f"NetworkPolicy {p['metadata']['name']}: podSelector "
            f"{describe((p.get('spec') or {}).get('podSelector')) or '{} (all pods)'}, "
            + (f"{len(rules)} ingress rule(s), none admitting the proxies: "
               + "; ".join(rule_text(r, "from") for r in rules[:3]) if rules else "no ingress rules (deny all ingress)"))
    labels = ns_labels(snap, proxy_ns[0]) or {}
    evidence.append(
        f"looked for an ingress rule admitting the Envoy proxies of {route_ref}'s Gateway: pods "
        f"{','.join(f'{k}={v}' for k, v in proxy_labels.items())} in namespace {', '.join(proxy_ns)} "
        f"(labels {','.join(f'{k}={v}' for k, v in labels.items()) or 'unknown'}) on port {iso.port}"
        + (f" ({number})" if number is not None and number != iso.port else "") + "/TCP")
    evidence.append(f"Service {ns}/{smd['name']} (backend of {route_ref}): {len(iso.pods)} of "
                    f"{len(iso.pods) + len(iso.reachable)} pod(s) unreachable from the gateway")
    return evidence


def isolation_named(iso: Isolated) -> tuple[Obj, str, Obj, str, list[str], int | None]:
    """What the evidence and the findings of one isolation name: the blamed policy, the Service's namespace
    and metadata, the route, the proxies' namespaces and the backend's port number."""
    rmd, smd = iso.route["metadata"], iso.service["metadata"]
    number, _ = _pod_port(iso.pods[0], iso.port)
    return (_blamed(iso), smd.get("namespace") or "", smd, f"HTTPRoute {rmd.get('namespace')}/{rmd['name']}",
            sorted({p["metadata"]["namespace"] for p in iso.proxies}), number)
