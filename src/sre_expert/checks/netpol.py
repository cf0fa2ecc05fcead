"""NetworkPolicies: policies that select no pod, and egress isolation that leaves no way to DNS.

NetworkPolicies are additive: a pod selected by at least one Egress policy may only send what one of
those policies allows. A pod is cut off from DNS when none of its Egress policies has a rule allowing
UDP 53 to the cluster DNS pods (by namespace/pod selector or an ipBlock covering them) or to anywhere.
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import orjson
from collections.abc import Iterator

from sre_expert.core.model import Finding, Key
from sre_expert.checks.registry import check, finding
from sre_expert.core.selectors import describe, matches
from sre_expert.core.snapshot import Snapshot
from sre_expert.checks.events import clip, pod_ready, pod_state, pod_terminal

Obj = dict[str, Any]

DNS_SERVICE_NAMES = ("kube-dns", "coredns", "rke2-coredns-rke2-coredns")
DEFAULT_DNS_LABELS = {"k8s-app": "kube-dns"}
NODE_LOCAL_DNS_IP = "169.254.20.10"
TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")
OTHER_POLICY_KINDS = (
    "CiliumNetworkPolicy",
    "CiliumClusterwideNetworkPolicy",
    "GlobalNetworkPolicy",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
)
LOOKED_FOR = (
    "an egress rule allowing UDP port 53 (or all ports) to the cluster DNS pods "
    "(namespaceSelector matching namespace {ns} and podSelector matching {labels}), "
    "to an ipBlock covering {ips}, or to any destination (empty `to`)"
)


class DNSTarget:
    """Where cluster DNS lives: its namespace, pods' label sets, IPs and port names."""

    def __init__(self, snap: Snapshot):
        # A scoped sweep (-n) that skipped kube-system knows neither the DNS pods' labels nor their IPs.
        self.unseen = not snap.sees("kube-system")
        svc = None
        for name in DNS_SERVICE_NAMES:
            svc = snap.get("Service", "kube-system", name)
            if svc is not None:
                break
        self.namespace = "kube-system"
        self.label_sets: list[dict[str, str]] = []
        self.ips: list[str] = []
        self.port_names: set[str] = set()
        self.pod_keys: set[Key] = set()
        self.selector: dict[str, str] = dict(DEFAULT_DNS_LABELS)
        if svc is not None:
            self.namespace = svc["metadata"].get("namespace") or "kube-system"
            spec = svc.get("spec") or {}
            if spec.get("selector"):
                self.selector = dict(spec["selector"])
            self.ips.extend(
                ip for ip in (spec.get("clusterIPs") or [spec.get("clusterIP")]) if ip and ip != "None"
            )
            for pod in snap.service_pods(svc):
                md = pod["metadata"]
                self.label_sets.append(md.get("labels") or {})
                self.pod_keys.add(("Pod", md.get("namespace") or "", md["name"]))
                ip = (pod.get("status") or {}).get("podIP")
                if ip:
                    self.ips.append(ip)
                for c in (pod.get("spec") or {}).get("containers") or ():
                    for cp in c.get("ports") or ():
                        if (
                            cp.get("name")
                            and cp.get("containerPort") == 53
                            and (cp.get("protocol") or "TCP") == "UDP"
                        ):
                            self.port_names.add(cp["name"])
            if not self.label_sets and spec.get("selector"):
                self.label_sets.append(dict(spec["selector"]))
        if not self.label_sets:
            self.label_sets.append(dict(DEFAULT_DNS_LABELS))
        if not self.port_names:
            self.port_names.add("dns")
        if any("node-local-dns" in d["metadata"]["name"] for d in snap.list("DaemonSet", "kube-system")):
            self.ips.append(NODE_LOCAL_DNS_IP)
        self._addrs = []
        for ip in self.ips:
            try:
                self._addrs.append(ipaddress.ip_address(ip))
            except ValueError:
                pass
        ns_obj = snap.get("Namespace", "", self.namespace)
        self.ns_labels = dict((ns_obj or {}).get("metadata", {}).get("labels") or {})
        self.ns_labels.setdefault("kubernetes.io/metadata.name", self.namespace)

    def describe(self) -> str:
        labels = ",".join(f"{k}={v}" for k, v in self.selector.items())
        return LOOKED_FOR.format(ns=self.namespace, labels=labels, ips=", ".join(self.ips[:4]) or "their IPs")

    def ports_allow(self, ports: list[Obj] | None) -> bool:
        return ports_admit(ports, "UDP", 53, self.port_names)

    def peer_hits(self, peer: Obj, policy_ns: str) -> bool:
        block = peer.get("ipBlock")
        if block:
            try:
                net = ipaddress.ip_network(block.get("cidr") or "", strict=False)
                excepts = [ipaddress.ip_network(e, strict=False) for e in block.get("except") or ()]
            except ValueError:
                return False
            return any(
                a in net and not any(a in e for e in excepts) for a in self._addrs if a.version == net.version
            )
        ns_sel = peer.get("namespaceSelector")
        pod_sel = peer.get("podSelector")
        if ns_sel is not None:
            if not matches(ns_sel, self.ns_labels):
                return False
        elif policy_ns != self.namespace:
            return False
        if pod_sel is not None:
            return any(matches(pod_sel, ls) for ls in self.label_sets)
        return True

    def policy_allows(self, pol: Obj) -> bool:
        ns = pol["metadata"].get("namespace") or ""
        for rule in (pol.get("spec") or {}).get("egress") or ():
            if not self.ports_allow(rule.get("ports")):
                continue
            peers = rule.get("to")
            if not peers or any(self.peer_hits(p, ns) for p in peers):
                return True
        return False

    def may_allow(self, pol: Obj) -> bool:
        """With the DNS namespace unseen: some rule opens port 53 to peers that could be the DNS pods, whose
        IPs and labels were not read (an ipBlock, or a namespaceSelector matching the DNS namespace), so
        "blocked" cannot be claimed. A peer without namespaceSelector is the policy's own namespace: never."""
        if not self.unseen:
            return False
        return any(self.ports_allow(r.get("ports"))
                   and any(p.get("ipBlock") or (p.get("namespaceSelector") is not None
                                                and matches(p["namespaceSelector"], self.ns_labels))
                           for p in r.get("to") or ())
                   for r in (pol.get("spec") or {}).get("egress") or ())


def policy_types(pol: Obj) -> list[str]:
    spec = pol.get("spec") or {}
    types = spec.get("policyTypes")
    if types:
        return list(types)
    return ["Ingress"] + (["Egress"] if "egress" in spec else [])


def _selector_empty(sel: Obj | None) -> bool:
    return not sel or (not sel.get("matchLabels") and not sel.get("matchExpressions"))


def _template_labels(obj: Obj) -> dict[str, str]:
    spec = obj.get("spec") or {}
    if obj.get("kind") == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    return ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}


@check(
    codes=("NETPOL-SELECTS-NOTHING", "NETPOL-DNS-BLOCKED"),
    reads=("NetworkPolicy", "Pod"),
    speaks_for=("NetworkPolicy", "Pod"),
    depends_on=(),
)
def network_policies(snap: Snapshot) -> Iterator[Finding]:
    pols = snap.list("NetworkPolicy")
    if not pols:
        return
    by_ns: dict[str, list[Obj]] = defaultdict(list)
    for p in pols:
        by_ns[p["metadata"].get("namespace") or ""].append(p)
    dns: DNSTarget | None = None
    others = [k for k in OTHER_POLICY_KINDS if snap.count(k)]
    for ns, ns_pols in sorted(by_ns.items()):
        pods = [p for p in snap.list("Pod", ns) if not pod_terminal(p)]
        for pol in ns_pols:
            sel = (pol.get("spec") or {}).get("podSelector")
            if sel and not _selector_empty(sel) and not any(matches(sel, p["metadata"].get("labels")) for p in pods):
                f = _selects_nothing(snap, pol, sel, ns)
                if f:
                    yield f
        egress = [p for p in ns_pols if "Egress" in policy_types(p)]
        if not egress:
            continue
        if dns is None:
            dns = DNSTarget(snap)
        allows = {p["metadata"]["name"]: dns.policy_allows(p) for p in egress}
        if all(allows.values()):
            continue
        groups: dict[tuple[str, ...], list[Obj]] = defaultdict(list)
        for pod in pods:
            if (pod.get("spec") or {}).get("hostNetwork"):
                continue
            md = pod["metadata"]
            if ("Pod", ns, md["name"]) in dns.pod_keys:
                continue
            selecting = tuple(
                p["metadata"]["name"]
                for p in egress
                if matches((p.get("spec") or {}).get("podSelector") or {}, md.get("labels"))
            )
            if selecting and not any(allows[n] for n in selecting):
                groups[selecting].append(pod)
        for names, blocked in groups.items():
            if any(dns.may_allow(p) for p in egress if p["metadata"]["name"] in names):
                snap.outside(dns.namespace, f"cluster DNS pods (namespace {dns.namespace}) that egress rules of "
                                            f"{ns} may allow")
                continue
            yield _dns_blocked(
                snap, ns, [p for p in egress if p["metadata"]["name"] in names], blocked, dns, others
            )


def _selects_nothing(snap: Snapshot, pol: Obj, sel: Obj, ns: str) -> Finding | None:
    for kind in TEMPLATE_KINDS:
        for w in snap.list(kind, ns):
            if matches(sel, _template_labels(w)):
                return None  # it targets a workload that has no pods right now (scaled down, CronJob)
    return finding(
        "NETPOL-SELECTS-NOTHING",
        pol,
        title=f"NetworkPolicy {pol['metadata']['name']} selects no pod (podSelector {describe(sel)})",
        evidence=[
            f"spec.podSelector: {describe(sel)}",
            f"no pod and no workload pod template in namespace {ns} has these labels",
            f"spec.policyTypes: {', '.join(policy_types(pol))}: the rules protect nothing",
        ],
        params={"selector": describe(sel)},
    )


def _dns_blocked(
    snap: Snapshot, ns: str, pols: list[Obj], blocked: list[Obj], dns: DNSTarget, others: list[str]
) -> Finding:
    def deny_first(p: Obj) -> tuple[int, int, str]:
        spec = p.get("spec") or {}
        return (
            len(spec.get("egress") or ()),
            0 if _selector_empty(spec.get("podSelector")) else 1,
            p["metadata"]["name"],
        )

    pols = sorted(pols, key=deny_first)
    main = pols[0]
    failing = [p for p in blocked if not pod_ready(p)]
    evidence = []
    for p in pols:
        spec = p.get("spec") or {}
        rules = spec.get("egress") or []
        evidence.append(
            f"NetworkPolicy {p['metadata']['name']}: policyTypes {', '.join(policy_types(p))}, "
            f"podSelector {describe(spec.get('podSelector')) or '{} (all pods)'}, "
            + (
                f"{len(rules)} egress rule(s), none reaching DNS: "
                + "; ".join(_rule_text(r) for r in rules[:3])
                if rules
                else "no egress rules (deny all egress)"
            )
        )
    evidence.append("looked for " + dns.describe() + ": none found in the policies selecting these pods")
    evidence.append(f"{len(blocked)} pod(s) cannot resolve names, {len(failing)} not Ready")
    evidence.extend(f"pod {pod_state(p)}" for p in (failing or blocked)[:5])
    severity = "critical" if failing else "warning"
    if others:
        evidence.append(f"{', '.join(others)} objects exist and are not evaluated: they may allow DNS")
        severity = "warning"
    return finding(
        "NETPOL-DNS-BLOCKED",
        main,
        title=f"NetworkPolicy {main['metadata']['name']} blocks DNS egress for {len(blocked)} pod(s) in {ns}"
        + (f" ({len(failing)} failing)" if failing else ""),
        evidence=evidence,
        severity=severity,
        subjects=[("Pod", ns, p["metadata"]["name"]) for p in blocked]
        + [("NetworkPolicy", ns, p["metadata"]["name"]) for p in pols[1:]],
        params={"dns_namespace": dns.namespace, "pod": blocked[0]["metadata"]["name"]},
    )


def _rule_text(rule: Obj, direction: str = "to") -> str:
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
BROKEN_FLAGS = frozenset({"UF", "UT", "URX", "UH", "UC"})
"""Envoy response flags of a request the upstream never answered (connect failure, timeout, no healthy host)."""
TEXT_ACCESS = re.compile(r'"\s(5\d\d)\s([A-Z,]+)\s')
MAX_LOG_LINES = 3


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


def proxy_failures(snap: Snapshot, iso: Isolated) -> tuple[list[str], bool]:
    """Proxy log lines of this route's requests the upstream never answered (503 UF/UT, `upstream connect
    error ... timeout`), newest last; and whether any proxy log was captured at all."""
    hosts = set((iso.route.get("spec") or {}).get("hostnames") or ())
    md = iso.route["metadata"]
    route_id = f"httproute/{md.get('namespace')}/{md['name']}/"
    ips = {ip for p in iso.pods if (ip := (p.get("status") or {}).get("podIP")) is not None}
    lines: list[str] = []
    seen_logs = False
    for proxy in iso.proxies:
        text = snap.logs(proxy["metadata"]["namespace"], proxy["metadata"]["name"], "envoy")
        if text is None:
            continue
        seen_logs = True
        for line in text.splitlines():
            if _route_failure(line, hosts, route_id, ips):
                lines.append(f"{proxy['metadata']['name']}: {_access_summary(line)}")
    return lines, seen_logs


def _access_summary(line: str) -> str:
    """`503 UF GET api.mycure.md/v1/patients -> 10.244.1.20:8080 (upstream_reset_before_response_started
    {connection_timeout}) at 2025-…`: the fields that prove it, from a JSON access-log line; others clipped."""
    if line.lstrip().startswith("{"):
        try:
            r = orjson.loads(line)
        except orjson.JSONDecodeError:
            return clip(line, 240)
        details = f" ({r['response_code_details']})" if r.get("response_code_details") else ""
        return (f"{r.get('response_code')} {r.get('response_flags')} {r.get('method') or ''} "
                f"{r.get(':authority') or ''}{r.get('x-envoy-origin-path') or ''} -> {r.get('upstream_host') or '-'}"
                f"{details} at {r.get('start_time')}")
    return clip(line, 240)


def _route_failure(line: str, hosts: set[str], route_id: str, ips: set[str]) -> bool:
    ours = route_id in line or any(h and h in line for h in hosts) or any(f"{ip}:" in line for ip in ips)
    if not ours:
        return False
    if "upstream connect error" in line and "timeout" in line:
        return True
    if line.lstrip().startswith("{"):
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError:
            return False
        flags = set(str(rec.get("response_flags") or "").split(","))
        return str(rec.get("response_code")) == "503" and bool(flags & BROKEN_FLAGS)
    m = TEXT_ACCESS.search(line)
    return bool(m and m.group(1) == "503" and set(m.group(2).split(",")) & BROKEN_FLAGS)


@check(
    codes=("NETPOL-GATEWAY-BLOCKED", "ROUTE-UPSTREAM-UNREACHABLE"),
    reads=("NetworkPolicy", "Pod", "HTTPRoute", "Service"),
    speaks_for=("HTTPRoute", "NetworkPolicy"),
    depends_on=("NetworkPolicy",),
)
def gateway_reachability(snap: Snapshot) -> Iterator[Finding]:
    """Ingress NetworkPolicies between a Gateway's Envoy proxies and each backend its routes send to."""
    if not snap.list("NetworkPolicy"):
        return
    for route in snap.list("HTTPRoute"):
        for iso in isolated_backends(snap, route):
            yield from _isolation_findings(snap, iso)


def _blamed(iso: Isolated) -> Obj:
    """The policy to change: one with ingress rules on the port (it meant to admit someone and leaves the
    proxies out) before a bare default-deny."""
    def order(p: Obj) -> tuple[int, str]:
        return (0 if (p.get("spec") or {}).get("ingress") else 1, p["metadata"]["name"])

    return sorted(iso.policies, key=order)[0]


def isolation_evidence(snap: Snapshot, iso: Isolated) -> list[str]:
    """Why the proxies cannot reach the backend: the policies selecting its pods and their ingress rules,
    what was looked for, how many pods are cut off. For `check` and for `trace`'s service hop."""
    pol, ns, smd, route_ref, proxy_ns, number = _named(iso)
    proxy_labels = {k: v for k, v in (iso.proxies[0]["metadata"].get("labels") or {}).items()
                    if k in OWNING_GATEWAY or k == "app.kubernetes.io/name"}
    evidence = []
    for p in sorted(iso.policies, key=lambda p: p is not pol):
        rules = (p.get("spec") or {}).get("ingress") or []
        evidence.append(
            f"NetworkPolicy {p['metadata']['name']}: podSelector "
            f"{describe((p.get('spec') or {}).get('podSelector')) or '{} (all pods)'}, "
            + (f"{len(rules)} ingress rule(s), none admitting the proxies: "
               + "; ".join(_rule_text(r, "from") for r in rules[:3]) if rules else "no ingress rules (deny all ingress)"))
    labels = ns_labels(snap, proxy_ns[0]) or {}
    evidence.append(
        f"looked for an ingress rule admitting the Envoy proxies of {route_ref}'s Gateway: pods "
        f"{','.join(f'{k}={v}' for k, v in proxy_labels.items())} in namespace {', '.join(proxy_ns)} "
        f"(labels {','.join(f'{k}={v}' for k, v in labels.items()) or 'unknown'}) on port {iso.port}"
        + (f" ({number})" if number is not None and number != iso.port else "") + "/TCP")
    evidence.append(f"Service {ns}/{smd['name']} (backend of {route_ref}): {len(iso.pods)} of "
                    f"{len(iso.pods) + len(iso.reachable)} pod(s) unreachable from the gateway")
    return evidence


def _named(iso: Isolated) -> tuple[Obj, str, Obj, str, list[str], int | None]:
    """What the evidence and the findings of one isolation name: the blamed policy, the Service's namespace
    and metadata, the route, the proxies' namespaces and the backend's port number."""
    rmd, smd = iso.route["metadata"], iso.service["metadata"]
    number, _ = _pod_port(iso.pods[0], iso.port)
    return (_blamed(iso), smd.get("namespace") or "", smd, f"HTTPRoute {rmd.get('namespace')}/{rmd['name']}",
            sorted({p["metadata"]["namespace"] for p in iso.proxies}), number)


def _isolation_findings(snap: Snapshot, iso: Isolated) -> Iterator[Finding]:
    pol, ns, smd, route_ref, proxy_ns, number = _named(iso)
    evidence = isolation_evidence(snap, iso)
    lines, seen = proxy_failures(snap, iso)
    evidence.extend(f"proxy log {ln}" for ln in lines[-MAX_LOG_LINES:])
    if not seen:
        evidence.append("proxy logs not captured: the route's 503s not checked")
    total = not iso.reachable
    port_json = str(number) if number is not None else f'"{iso.port}"'
    keys = [("NetworkPolicy", ns, p["metadata"]["name"]) for p in iso.policies]
    yield finding(
        "NETPOL-GATEWAY-BLOCKED", pol,
        title=f"NetworkPolicy {pol['metadata']['name']} isolates Service {ns}/{smd['name']} from the gateway's "
              f"Envoy proxies: {route_ref} cannot reach {'any' if total else len(iso.pods)} backend pod(s)",
        evidence=evidence,
        severity="critical" if total else "warning",
        subjects=keys,
        params={"proxy_namespace": proxy_ns[0], "port": port_json},
    )
    if lines or total:
        rev = [f"backend Service {ns}/{smd['name']}: {len(iso.pods)} pod(s) isolated by NetworkPolicy "
               f"{pol['metadata']['name']}", *(f"proxy log {ln}" for ln in lines[-MAX_LOG_LINES:])]
        yield finding(
            "ROUTE-UPSTREAM-UNREACHABLE", iso.route,
            title=f"{route_ref}: the gateway cannot connect to backend {smd['name']}"
                  + (f" ({len(lines)} request(s) answered 503 without an upstream)" if lines else ""),
            evidence=rev,
            severity="critical" if total else "warning",
            depends_on=keys,
            params={"proxy_namespace": proxy_ns[0]},
        )


