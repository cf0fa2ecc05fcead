"""NetworkPolicies: policies that select no pod, and egress isolation that leaves no way to DNS.

NetworkPolicies are additive: a pod selected by at least one Egress policy may only send what one of
those policies allows. A pod is cut off from DNS when none of its Egress policies has a rule allowing
UDP 53 to the cluster DNS pods (by namespace/pod selector or an ipBlock covering them) or to anywhere.
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from collections.abc import Iterator

import orjson

from sre_expert.checks.registry import check, finding
from sre_expert.core.k8s import pod_ready, pod_state, pod_terminal
from sre_expert.core.model import Finding, Key
from sre_expert.core.selectors import describe, matches
from sre_expert.core.snapshot import Snapshot
from sre_expert.core.wording import quote
from sre_expert.domain.isolation import (
    Isolated,
    Obj,
    isolated_backends,
    isolation_evidence,
    isolation_named,
    policy_types,
    ports_admit,
    rule_text,
)

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
                + "; ".join(rule_text(r) for r in rules[:3])
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


BROKEN_FLAGS = frozenset({"UF", "UT", "URX", "UH", "UC"})
"""Envoy response flags of a request the upstream never answered (connect failure, timeout, no healthy host)."""
TEXT_ACCESS = re.compile(r'"\s(5\d\d)\s([A-Z,]+)\s')
MAX_LOG_LINES = 3


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
            return quote(line)
        details = f" ({r['response_code_details']})" if r.get("response_code_details") else ""
        return (f"{r.get('response_code')} {r.get('response_flags')} {r.get('method') or ''} "
                f"{r.get(':authority') or ''}{r.get('x-envoy-origin-path') or ''} -> {r.get('upstream_host') or '-'}"
                f"{details} at {r.get('start_time')}")
    return quote(line)


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


def _isolation_findings(snap: Snapshot, iso: Isolated) -> Iterator[Finding]:
    pol, ns, smd, route_ref, proxy_ns, number = isolation_named(iso)
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


