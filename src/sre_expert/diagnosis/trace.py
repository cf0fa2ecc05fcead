"""Outside-in trace: Gateway → listener → HTTPRoute → Service → EndpointSlices → Pods (and containers).

`trace(snap, target)` follows one request path the way Envoy Gateway and Envoy resolve it and stops at
the first broken hop, with the exact status fields as evidence, the commands that fix it, and what else
that hop takes down (other hosts and routes on the same listener, Gateway or Service).

Targets: a host (`api.mycureapp.com`, optionally `https://…`, `http://…`, `…:8443` or with a path),
`route/NS/NAME` (also `httproute/…`), `svc/NS/NAME` (also `service/…`) or `pod/NS/NAME`.

How a host is resolved (Envoy Gateway v1.2 semantics):
- Listener: among the Gateway's listeners of the scheme's protocol (HTTPS when the Gateway has an HTTPS
  listener for the host and no scheme is given), the one whose hostname matches the host most
  specifically: exact, then the longest `*.` suffix, then a listener without hostname. For HTTPS this is
  the TLS filter chain Envoy picks by SNI, and each HTTPS listener has its own route table; plain HTTP
  listeners on one port share a single route table.
- Route: the HTTPRoutes attached to that listener (HTTP: to any HTTP listener on the port) whose hosts
  on it match the host, precedence to the longest matching exact hostname, then the longest hostname.
  When no attached route serves the host but a route lists it, the trace explains why that route is
  not attached (wrong sectionName, more specific listener, namespace not allowed, no parent status).
- A hop that fails only because the next one does (no ready endpoints because no pod is ready) is
  marked failed and the trace goes on to the hop that explains it; the trace stops there.

Pure: reads the Snapshot only.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sre_expert.core.k8s import condition, ns_of, pod_ready
from sre_expert.core.kinds import add_commands, spellings
from sre_expert.core.model import Finding, ObjectRef, Remediation, key_of
from sre_expert.core.selectors import describe
from sre_expert.core.snapshot import Snapshot
from sre_expert.core.timeutil import parse_time
from sre_expert.domain.gateway_api import (
    EG_NAMESPACE,
    OWNING_GATEWAY_NAME,
    OWNING_GATEWAY_NAMESPACE,
    Attachment,
    GatewayIndex,
    Listener,
    backend_refs,
    cert_covers,
    cond_text,
    container_problems,
    gateway_impact,
    host_matches,
    is_default_pending,
    is_false,
    is_service_ref,
    is_true,
    listener_impact,
    name_of,
    pod_line,
    receiving_listener,
    route_hostnames,
    short_list,
    specificity,
    wants_tls,
    workload_available,
    workload_line,
)
from sre_expert.domain.isolation import isolated_backends, isolation_evidence
from sre_expert.domain.traffic_metrics import route_metric_lines, service_metric_lines

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
GW_API = "gateway.networking.k8s.io/v1"
HOP_ORDER = ("gateway", "listener", "route", "service", "endpoints", "pods")
LOG_LINES = 3
LOG_LINE_CHARS = 240

Obj = dict[str, Any]


@dataclass(slots=True)
class Hop:
    name: str
    title: str
    object: ObjectRef | None = None
    status: str = PASSED
    evidence: list[str] = field(default_factory=list)
    fix: list[Remediation] = field(default_factory=list)
    note: str = ""

    def fail(self, *lines: str) -> Hop:
        self.status = FAILED
        self.evidence.extend(lines)
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "object": self.object.to_json() if self.object else None,
            "status": self.status,
            "evidence": list(self.evidence),
            "fix": [r.to_json() for r in self.fix],
            "note": self.note,
        }


@dataclass(slots=True)
class TraceResult:
    target: str
    target_kind: str
    resolved: bool = True
    hops: list[Hop] = field(default_factory=list)
    broken: int | None = None
    impact: dict[str, list[str]] = field(default_factory=lambda: {"hosts": [], "routes": [], "services": []})
    message: str = ""
    suggestions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.resolved and self.broken is None and all(h.status != FAILED for h in self.hops)

    @property
    def broken_hop(self) -> Hop | None:
        return self.hops[self.broken] if self.broken is not None else None

    @property
    def exit_code(self) -> int:
        if not self.resolved:
            return 2
        return 0 if self.ok else 1

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "targetKind": self.target_kind,
            "resolved": self.resolved,
            "ok": self.ok,
            "brokenHop": self.broken_hop.name if self.broken_hop else None,
            "hops": [h.to_json() for h in self.hops],
            "impact": {k: list(v) for k, v in self.impact.items()},
            "message": self.message,
            "suggestions": list(self.suggestions),
        }


# ----------------------------------------------------------------------------------------------
# entry point


KIND_PREFIXES = {
    "httproute": "route", "httproutes": "route", "route": "route",
    "svc": "service", "service": "service", "services": "service",
    "pod": "pod", "po": "pod", "pods": "pod",
    "deploy": "workload", "deployment": "workload", "deployments": "workload",
    "sts": "workload", "statefulset": "workload", "statefulsets": "workload",
    "ds": "workload", "daemonset": "workload", "daemonsets": "workload",
}
# Every spelling kubectl accepts for a workload kind (deploy, deployment, deployments, ...), from the kinds table.
WORKLOAD_KINDS = {name: kind for kind in ("Deployment", "StatefulSet", "DaemonSet") for name in spellings(kind)}


def parse_target(target: str, namespace: str | None = None) -> tuple[str, str, str | None, str | None, int | None]:
    """(kind, value, namespace, scheme, port): kind is host, route, service, pod or workload.

    Objects as kubectl names them: `KIND/NS/NAME`, or `KIND/NAME` with `namespace` (`-n`, else "default").
    A workload's value is `Kind/name` (Deployment, StatefulSet or DaemonSet)."""
    t = target.strip()
    low = t.lower()
    prefix, sep, rest = t.partition("/")
    kind = KIND_PREFIXES.get(prefix.lower()) if sep and "://" not in low else None
    if kind is not None:
        ns, _, name = rest.partition("/")
        if not name:  # KIND/NAME: the namespace comes from -n, as with kubectl
            ns, name = namespace or "default", ns
        if kind == "workload":
            name = f"{WORKLOAD_KINDS[prefix.lower()]}/{name}"
        return kind, name, ns, None, None
    scheme = None
    if "://" in low:
        scheme, _, low = low.partition("://")
    host = low.split("/", 1)[0].split("?", 1)[0].rstrip(".")
    port = None
    if ":" in host:
        host, _, p = host.partition(":")
        port = int(p) if p.isdigit() else None
    return "host", host, None, scheme, port


def trace(snap: Snapshot, target: str, namespace: str | None = None) -> TraceResult:
    kind, value, ns, scheme, port = parse_target(target, namespace)
    idx = GatewayIndex(snap)
    if kind == "host":
        return _Tracer(snap, idx, target, "host").host(value, scheme, port)
    if kind == "route":
        return _Tracer(snap, idx, target, "route").route(ns or "", value)
    if kind == "service":
        return _Tracer(snap, idx, target, "service").service(ns or "", value)
    if kind == "workload":
        wkind, _, name = value.partition("/")
        return _Tracer(snap, idx, target, "workload").workload(wkind, ns or "", name)
    return _Tracer(snap, idx, target, "pod").pod(ns or "", value)


def root_causes(snap: Snapshot, result: TraceResult, findings: list[Finding]) -> list[tuple[Finding, list[Finding]]]:
    """The root causes `check` links to the broken hop: each with the chain from the hop's own finding up
    to it (the pods' crash, then the database under them). Findings about the hop's object count, and, for
    pods, those about the workload that owns them. Empty when no finding is about the broken hop."""
    hop = result.broken_hop
    if hop is None or hop.object is None:
        return []
    keys = {hop.object.key}
    if hop.object.kind == "Pod":
        pod = snap.get("Pod", hop.object.namespace, hop.object.name)
        if pod is not None:
            keys |= {key_of(o) for o in (snap.top_controller(pod), *snap.owners(pod))}
    by_id = {f.id: f for f in findings}
    out: dict[str, tuple[Finding, list[Finding]]] = {}
    for f in findings:
        if f.object.key not in keys:
            continue
        chain, seen = [f], {f.id}
        while not chain[-1].root_cause:
            up = next((by_id[c] for c in chain[-1].caused_by if c in by_id and c not in seen), None)
            if up is None:
                break
            chain.append(up)
            seen.add(up.id)
        root = chain[-1]
        if root.root_cause and root.id not in out:
            out[root.id] = (root, chain[:-1])
    return sorted(out.values(), key=lambda rc: findings.index(rc[0]))


# ----------------------------------------------------------------------------------------------


def _ref(obj: Obj) -> ObjectRef:
    return ObjectRef.of(obj)


def _cmd(description: str, command: str, safety: str = "read-only") -> Remediation:
    return Remediation(description, command, safety)


def _similar(word: str, choices: list[str], n: int = 5) -> list[str]:
    return difflib.get_close_matches(word, sorted(set(choices)), n=n, cutoff=0.6)


def _similar_hosts(host: str, choices: list[str], n: int = 5) -> list[str]:
    """Close host names, those in the same parent domain first (a typo in the first label is the usual case)."""
    parent = host.partition(".")[2]
    scored = []
    for c in set(choices):
        r = difflib.SequenceMatcher(None, host, c).ratio()
        if r < 0.6:
            continue
        scored.append((c.partition(".")[2] == parent, r, c))
    return [c for _, _, c in sorted(scored, key=lambda x: (not x[0], -x[1], x[2]))[:n]]


class _Tracer:
    def __init__(self, snap: Snapshot, idx: GatewayIndex, target: str, kind: str):
        self.snap = snap
        self.idx = idx
        self.res = TraceResult(target=target, target_kind=kind)
        self.self_hosts: set[str] = set()
        self.self_route: Obj | None = None

    # --- bookkeeping ----------------------------------------------------------------------------
    def unseen(self, namespace: str, kind: str | None = None) -> bool:
        """The namespace was outside a scoped sweep (`-n`), or the kind was not collected: its objects are
        unknown, never "missing"."""
        return not self.snap.sees(namespace) or (kind is not None and not self.snap.collected(kind))

    def why_unseen(self, kind: str) -> str:
        if not self.snap.collected(kind):
            return f"not in the capture ({kind} was not collected)"
        return f"outside the swept namespaces ({self.snap.info.scope_text()})"

    def unseen_hop(self, name: str, title: str, obj: ObjectRef, what: str) -> Hop:
        """A skipped hop that says why in its title too (terminal output shows no evidence for skipped hops)."""
        why = self.why_unseen(obj.kind)
        return Hop(name, f"{title}: {why}, not checked", obj, status=SKIPPED,
                   evidence=[f"{what} is {why}: not checked"])

    def unseen_gateway(self, att: Attachment, route: Obj, host: str | None, others: list[Obj]) -> TraceResult:
        """A route whose Gateway was not swept: its gateway and listener hops are not checked; the route's own
        status for that Gateway and its backends still are."""
        ref = ObjectRef(GW_API, "Gateway", att.gw_ns, att.gw_name)
        self.res.hops.append(self.unseen_hop("gateway", f"Gateway {att.gw_ns}/{att.gw_name}", ref,
                                             f"Gateway {att.gw_ns}/{att.gw_name}"))
        self.res.hops.append(self.unseen_hop("listener", "listener", ref, f"the listeners of Gateway {att.gw_ns}/{att.gw_name}"))
        if self.route_hop(route, att, host, others):
            self.backend_hops(route)
        return self.finish(list(HOP_ORDER))

    def unresolved(self, message: str, suggestions: list[str], needs: tuple[str, ...] = ()) -> TraceResult:
        """The target was not found. When a kind the lookup `needs` was not collected, that is all it proves."""
        self.res.resolved = False
        missing = [k for k in needs if not self.snap.collected(k)]
        if missing:
            self.res.message = (f"not checked: {' and '.join(missing)} {'was' if len(missing) == 1 else 'were'} not "
                                f"collected, so the target cannot be looked up; add: {add_commands(missing)}")
            return self.res
        if self.snap.info.namespaces:  # a scoped sweep: "no such object" only holds inside what was read
            message += f" (only the swept namespaces were searched: {self.snap.info.scope_text()})"
        self.res.message = message
        self.res.suggestions = suggestions
        return self.res

    def add(self, hop: Hop) -> bool:
        """Append a hop; False when the trace must stop (this hop is the broken one)."""
        self.res.hops.append(hop)
        if hop.status == FAILED and not hop.note:
            self.res.broken = len(self.res.hops) - 1
            return False
        return True

    def finish(self, remaining: list[str]) -> TraceResult:
        for name in remaining:
            if not any(h.name == name for h in self.res.hops):
                self.res.hops.append(Hop(name, f"{name}: not checked (an earlier hop is broken)", status=SKIPPED))
        if self.res.broken is None:
            failed = [i for i, h in enumerate(self.res.hops) if h.status == FAILED]
            if failed:
                self.res.broken = failed[-1]
        return self.res

    def set_impact(self, routes: list[Obj], hosts: list[str], services: Sequence[str] = ()) -> None:
        skip_route = key_of(self.self_route) if self.self_route is not None else None
        self.res.impact = {
            "hosts": [h for h in hosts if h not in self.self_hosts],
            "routes": [f"{ns_of(r)}/{name_of(r)}" for r in routes if key_of(r) != skip_route],
            "services": [s for s in services],
        }

    # --- host -----------------------------------------------------------------------------------
    def _known_hosts(self) -> list[str]:
        hosts: set[str] = set()
        for r in self.idx.routes:
            hosts.update(route_hostnames(r))
        for lst in self.idx.listeners.values():
            for l in lst:
                if l.hostname:
                    hosts.add(l.hostname)
        return sorted(hosts)

    def host(self, host: str, scheme: str | None, port: int | None) -> TraceResult:
        idx = self.idx
        self.self_hosts = {host}
        if not host:
            return self.unresolved("empty target: give a host, route/NS/NAME, svc/NS/NAME or pod/NS/NAME", [])
        # routes that list the host (or list nothing and sit on a listener matching it)
        listed: list[tuple[tuple[Any, ...], Obj]] = []
        for r in idx.routes:
            names = route_hostnames(r)
            if names:
                best = max((specificity(n) for n in names if host_matches(n, host)), default=None)
                if best is not None:
                    listed.append((best, r))
            else:
                for att in idx.by_route.get(key_of(r), []):
                    if any(host_matches(l.hostname, host) for l in att.allowed):
                        listed.append(((0, 0), r))
                        break
        if not listed:
            known = self._known_hosts()
            sugg = _similar_hosts(host, [h for h in known if not h.startswith("*")]) or _similar(host, known)
            under = [f"{l.gw_ns}/{l.gw_name} listener {l.name} ({l.hostname})"
                     for lst in idx.listeners.values() for l in lst if l.hostname and host_matches(l.hostname, host)]
            msg = f"no HTTPRoute serves host {host}"
            if under:
                msg += (f"; it falls under {', '.join(under)}, so the Gateway would accept the request but "
                        f"answer 404 (no route)")
            return self.unresolved(msg, sugg, needs=("HTTPRoute",))
        listed.sort(key=lambda x: (x[0], _older(x[1])), reverse=True)
        self.self_route = listed[0][1]
        # the Gateway: the first parent of the best route that exists, else that parent's name
        gw, wanted = None, None
        for _, r in listed:
            for att in idx.by_route.get(key_of(r), []):
                wanted = wanted or att
                if att.gateway is not None:
                    gw = att.gateway
                    break
            if gw is not None:
                break
        remaining = list(HOP_ORDER)
        if gw is None and wanted is not None and self.unseen(wanted.gw_ns, "Gateway"):
            self.self_route = wanted.route
            return self.unseen_gateway(wanted, wanted.route, host, [r for _, r in listed if r is not wanted.route])
        if gw is None:
            hop = Hop("gateway", "Gateway", status=FAILED)
            if wanted is None:
                hop.evidence.append(f"HTTPRoute {ns_of(listed[0][1])}/{name_of(listed[0][1])} lists {host} but has no "
                                    f"Gateway parentRef")
            else:
                hop.object = ObjectRef(GW_API, "Gateway", wanted.gw_ns, wanted.gw_name)
                names = [f"{n}/{g}" for (n, g) in idx.gateways]
                hop.evidence.append(f"HTTPRoute {ns_of(wanted.route)}/{name_of(wanted.route)} {wanted.describe_ref()}, "
                                    f"which does not exist")
                hop.evidence.append(f"Gateways present: {short_list(names)}")
            hop.fix.append(_cmd("List the Gateways", "kubectl get gateway -A"))
            self.self_route = listed[0][1]
            self.set_impact([listed[0][1]], route_hostnames(listed[0][1]))
            self.add(hop)
            return self.finish(remaining)
        if not self.gateway_hop(gw):
            return self.finish(remaining)
        # the listener
        proto = {"https": "HTTPS", "http": "HTTP"}.get(scheme or "")
        if proto is None:
            proto = "HTTPS" if idx.listener_for(gw, host, "HTTPS", port, programmed_only=False) is not None else "HTTP"
        # the listener meant for the host, programmed or not: a broken one stops the trace there (its own
        # conditions say why); the wider listener a client may fall back to is named in its evidence
        lis = idx.listener_for(gw, host, proto, port, programmed_only=False)
        other = idx.listener_for(gw, host, "HTTP" if proto == "HTTPS" else "HTTPS", programmed_only=False)
        if not self.listener_hop(gw, lis, host, proto, other, port):
            return self.finish(remaining)
        assert lis is not None
        # the route
        route, route_att = self.route_for(gw, lis, host)
        if route is None:
            nearest = listed[0][1]
            self.self_route = nearest
            self.add(self.unattached_route_hop(gw, lis, host, nearest))
            self.set_impact([nearest], self.idx.route_hosts(nearest))
            return self.finish(remaining)
        self.self_route = route
        others = [r for _, r in listed if r is not route]
        if not self.route_hop(route, route_att, host, others):
            return self.finish(remaining)
        self.backend_hops(route)
        return self.finish(remaining)

    def route_for(self, gw: Obj, lis: Listener, host: str) -> tuple[Obj | None, Attachment | None]:
        """The attached route Envoy would use for `host` on this listener (HTTP: any HTTP listener on the port)."""
        if lis.protocol == "HTTPS":
            pool = [(lis, a) for a in self.idx.by_listener.get(lis.key, [])]
        else:
            pool = [(l, a) for l in self.idx.gateway_listeners(gw) if l.protocol == "HTTP" and l.port == lis.port
                    for a in self.idx.by_listener.get(l.key, [])]
        best, score = None, None
        for l, a in pool:
            hs = [h for h in a.hosts.get(l.name, []) if host_matches(h, host)]
            if not hs:
                continue
            exact = max((len(h) for h in hs if not h.startswith("*")), default=0)
            s = (exact, max(len(h) for h in hs), _older(a.route))
            if score is None or s > score:
                best, score = (a.route, a), s
        return best if best else (None, None)

    # --- hops ---------------------------------------------------------------------------------
    def gateway_hop(self, gw: Obj) -> bool:
        idx, snap = self.idx, self.snap
        ns, name = ns_of(gw), name_of(gw)
        hop = Hop("gateway", f"Gateway {ns}/{name}", _ref(gw))
        hop.fix.append(_cmd("Read the Gateway conditions", f"kubectl describe gateway {name} -n {ns}"))
        cls = (gw.get("spec") or {}).get("gatewayClassName") or ""
        gc = idx.classes.get(cls)
        acc, prog = condition(gw, "Accepted"), condition(gw, "Programmed")
        addrs = [a.get("value") for a in ((gw.get("status") or {}).get("addresses") or ())]
        if gc is None and not snap.collected("GatewayClass"):
            hop.evidence.append(f"GatewayClass {cls}: not collected, not checked")
        elif gc is None:
            hop.fail(f"spec.gatewayClassName '{cls}': no such GatewayClass")
        else:
            gacc = condition(gc, "Accepted")
            line = f"GatewayClass {cls}: {cond_text(gacc, 'Accepted')}"
            if not is_true(gacc):
                hop.fail(line + (" (the CRD default: no controller claimed it)"
                                 if gacc is None or is_default_pending(gacc) else ""))
            else:
                hop.evidence.append(line)
        for c, t in ((acc, "Accepted"), (prog, "Programmed")):
            if is_true(c):
                hop.evidence.append(f"status.conditions: {cond_text(c, t)}")
            else:
                hop.fail(f"status.conditions: {cond_text(c, t)}")
        hop.evidence.append(f"status.addresses: {', '.join(a for a in addrs if a) or 'none'}")
        proxies = idx.infra(gw, "Deployment") + idx.infra(gw, "DaemonSet")
        for p in proxies:
            line = workload_line(p)
            if workload_available(p) == 0:
                hop.fail(line)
                for pod in snap.pods_of(p)[:2]:
                    hop.evidence.append(pod_line(pod))
                hop.fix.append(_cmd("See the Envoy proxy pods",
                                    f"kubectl get pods -n {ns_of(p)} "
                                    f"-l {OWNING_GATEWAY_NAME}={name},{OWNING_GATEWAY_NAMESPACE}={ns}"))
            else:
                hop.evidence.append(line)
        if prog is not None and prog.get("reason") == "AddressNotAssigned":
            for svc in idx.infra(gw, "Service"):
                hop.evidence.append(f"Service {ns_of(svc)}/{name_of(svc)}: type {(svc.get('spec') or {}).get('type')}, "
                                    f"status.loadBalancer {(svc.get('status') or {}).get('loadBalancer') or {}}")
                hop.fix.append(_cmd("See why the load balancer has no IP",
                                    f"kubectl describe service {name_of(svc)} -n {ns_of(svc)}"))
        if hop.status == FAILED:
            if idx.is_envoy(gw):
                hop.fix.append(_cmd("Read the Envoy Gateway controller log",
                                    f"kubectl logs -n {EG_NAMESPACE} deployment/envoy-gateway --tail=100"))
            else:
                impl, impl_ns, impl_wl = idx.implementation(gw)
                if impl_wl:
                    hop.fix.append(_cmd(f"Read the {impl} controller log (default install location)",
                                        f"kubectl logs -n {impl_ns} {impl_wl} --tail=100"))
            routes, hosts = gateway_impact(idx, gw)
            self.set_impact(routes, hosts)
        return self.add(hop)

    def listener_hop(self, gw: Obj, lis: Listener | None, host: str, proto: str, other: Listener | None,
                     port: int | None = None) -> bool:
        ns, name = ns_of(gw), name_of(gw)
        if lis is None:
            hop = Hop("listener", f"{proto} listener for {host}", ObjectRef(GW_API, "Gateway", ns, name))
            lst = self.idx.gateway_listeners(gw)
            hop.fail(f"no {proto} listener of Gateway {ns}/{name} matches {host}" + (f" on port {port}" if port else ""),
                     "listeners: " + short_list([l.describe() for l in lst], 12))
            if other is not None:
                hop.evidence.append(f"{other.protocol} listener {other.name} does match it: try {other.protocol.lower()}://{host}")
            hop.fix.append(_cmd("Compare the listener hostnames",
                                f"kubectl get gateway {name} -n {ns} -o jsonpath='{{range .spec.listeners[*]}}"
                                f"{{.name}} {{.protocol}} {{.port}} {{.hostname}}{{\"\\n\"}}{{end}}'"))
            return self.add(hop)
        hop = Hop("listener", f"listener {lis.name} of Gateway {ns}/{name}", _ref(gw))
        cands = [l for l in self.idx.gateway_listeners(gw)
                 if l.protocol == lis.protocol and l.port == lis.port and host_matches(l.hostname, host)]
        # a listener that is not programmed takes no traffic: it is only the one meant for the host
        why = f"receives {host}" if not is_false(lis.cond("Programmed")) else f"is the listener meant for {host}"
        if len(cands) > 1:
            why += (" (most specific of " + ", ".join(f"{l.name} {l.hostname or '*'}" for l in cands)
                    + (": Envoy picks the TLS filter chain by SNI this way)" if lis.tls else ")"))
        hop.evidence.append(f"listener {lis.describe()} {why}")
        if lis.status is None:
            hop.fail(f"status.listeners has no entry for {lis.name}: the controller has not programmed it")
        else:
            for t in ("Programmed", "ResolvedRefs", "Accepted"):
                c = lis.cond(t)
                if c is None:
                    continue
                if is_true(c):
                    hop.evidence.append(cond_text(c))
                else:
                    hop.fail(cond_text(c))
            conf = lis.cond("Conflicted")
            if is_true(conf):
                hop.fail(cond_text(conf))
            hop.evidence.append(f"attachedRoutes: {lis.status.get('attachedRoutes')}")
        if lis.tls:
            for sns, sname in lis.cert_refs():
                sec = self.snap.get("Secret", sns, sname)
                cert = self.idx.certs_by_secret.get((sns, sname))
                if sec is None and self.unseen(sns):
                    hop.evidence.append(f"TLS Secret {sns}/{sname}: outside the swept namespaces "
                                        f"({self.snap.info.scope_text()}), not checked")
                elif sec is None and self.snap.collected("Secret"):
                    hop.fail(f"TLS Secret {sns}/{sname} does not exist")
                elif sec is not None:
                    hop.evidence.append(f"TLS Secret {sns}/{sname}: type {sec.get('type')}")
                if cert is not None:
                    ready = condition(cert, "Ready")
                    line = f"Certificate {ns_of(cert)}/{name_of(cert)}: {cond_text(ready, 'Ready')}"
                    if is_true(ready):
                        hop.evidence.append(line)
                    else:
                        hop.fail(line)
                    hop.fix.append(_cmd("See why the Certificate is not issued",
                                        f"kubectl describe certificate {name_of(cert)} -n {ns_of(cert)}"))
                    dns = (cert.get("spec") or {}).get("dnsNames") or []
                    if dns and not cert_covers(dns, host):
                        hop.fail(f"{host} is not in the certificate's dnsNames {dns} (a certificate wildcard covers "
                                 f"exactly one label): clients fail TLS verification")
        if other is not None and other.name != lis.name:
            hop.evidence.append(f"{other.protocol} is handled by listener {other.name}")
        if hop.status == FAILED:
            hop.fix.append(_cmd("Read the listener conditions", f"kubectl describe gateway {name} -n {ns}"))
            routes, hosts = listener_impact(self.idx, lis)
            self.set_impact(routes, hosts)
        return self.add(hop)

    def unattached_route_hop(self, gw: Obj, lis: Listener, host: str, route: Obj) -> Hop:
        """No attached route serves the host on the receiving listener: explain why the route that lists it is not there."""
        rns, rname = ns_of(route), name_of(route)
        hop = Hop("route", f"{route.get('kind') or 'HTTPRoute'} {rns}/{rname}", _ref(route), status=FAILED)
        hop.evidence.append(f"spec.hostnames {', '.join(route_hostnames(route))} include {host}, "
                            f"but the route is not attached to listener {lis.name}, "
                            f"which receives {host}: requests get 404 (no route)")
        atts = [a for a in self.idx.by_route.get(key_of(route), []) if a.gw_ns == ns_of(gw) and a.gw_name == name_of(gw)]
        if not atts:
            refs = [a.describe_ref() for a in self.idx.by_route.get(key_of(route), [])] or ["no parentRefs"]
            hop.evidence.append(f"its parentRefs do not name Gateway {ns_of(gw)}/{name_of(gw)}: {'; '.join(refs)}")
        lst = self.idx.gateway_listeners(gw)
        for a in atts:
            if a.selected and all(l.protocol != lis.protocol for l in a.selected):
                continue  # a parent on the other protocol does not decide this request
            if not a.selected and a.section and lis.protocol == "HTTP" and "https" in a.section:
                continue
            acc = a.cond("Accepted")
            if a.section and not a.selected:
                hop.evidence.append(f"{a.describe_ref()}: sectionName '{a.section}' names no listener (listeners: "
                                    f"{', '.join(l.name for l in lst)})")
            elif a.selected and not a.allowed:
                hop.evidence.append(f"{a.describe_ref()}: listener {', '.join(l.name for l in a.selected)} does not allow "
                                    f"routes from namespace {rns} (allowedRoutes)")
            elif a.allowed and lis not in a.allowed:
                via = ", ".join(l.describe() for l in a.allowed)
                hop.evidence.append(f"{a.describe_ref()} attaches it to {via}")
                if any(host_matches(l.hostname, host) and l.protocol == lis.protocol for l in a.allowed):
                    hop.evidence.append(f"Gateway API lets {', '.join(l.hostname or '*' for l in a.allowed)} "
                                        f"match {host} (a '*.' "
                                        f"wildcard covers one or more labels), but listener {lis.name} ({lis.hostname}) is the "
                                        f"more specific match and gets the {lis.protocol} traffic")
            elif a.allowed:
                hop.evidence.append(f"{a.describe_ref()}: no hostname of the route intersects listener {lis.name} "
                                    f"({lis.hostname}) once Envoy Gateway's rules are applied")
            if acc is not None:
                hop.evidence.append(f"{a.status_label()}: {cond_text(acc)}")
            elif a.status is None:
                hop.evidence.append(f"status.parents: no entry for {a.gw_ns}/{a.gw_name} (never reconciled)")
            if a.section != lis.name:
                hop.fix.append(_cmd(
                    f"Attach parentRefs[{a.index}] to listener {lis.name} (change it in Git if Argo CD manages the route)",
                    f"kubectl patch httproute {rname} -n {rns} --type=json -p "
                    f"'[{{\"op\":\"{'replace' if a.section else 'add'}\","
                    f"\"path\":\"/spec/parentRefs/{a.index}/sectionName\",\"value\":\"{lis.name}\"}}]'",
                    "mutating"))
        hop.fix.append(_cmd("Read the route's parentRefs and status", f"kubectl describe httproute {rname} -n {rns}"))
        return hop

    def route_hop(self, route: Obj, att: Attachment | None, host: str | None, others: list[Obj]) -> bool:
        rns, rname = ns_of(route), name_of(route)
        hop = Hop("route", f"{route.get('kind') or 'HTTPRoute'} {rns}/{rname}", _ref(route))
        hop.fix.append(_cmd("Read the route's status", f"kubectl describe httproute {rname} -n {rns}"))
        names = route_hostnames(route)
        if att is None:
            hop.fail("the route has no Gateway parentRef")
        else:
            via = (", ".join(f"{l.name}" for l in att.allowed)
                   or ("listeners not checked" if att.gateway is None else "no listener"))
            hop.evidence.append(f"spec.hostnames {', '.join(names) or '(none: every host of the listener)'}; "
                                f"{att.describe_ref()} → {via}")
            if att.gateway is None and not self.unseen(att.gw_ns):
                hop.fail(f"Gateway {att.gw_ns}/{att.gw_name} does not exist")
            elif att.status is None:
                hop.fail(f"status.parents has no entry for {att.gw_ns}/{att.gw_name}: never reconciled")
                problem = att.computed_problem() if att.gateway is not None else None
                if problem:
                    hop.evidence.append(f"computed from spec, the controller will answer Accepted=False ({problem})")
            else:
                acc, rr = att.cond("Accepted"), att.cond("ResolvedRefs")
                if is_true(acc):
                    hop.evidence.append(f"{att.status_label()}: {cond_text(acc)}")
                else:
                    hop.fail(f"{att.status_label()}: {cond_text(acc, 'Accepted')}")
                if rr is not None and is_false(rr):
                    hop.evidence.append(f"{att.status_label()}: {cond_text(rr)} (checked at the service hop)")
                if att.status_stale():
                    hop.evidence.append("status predates the last spec change (observedGeneration < generation)")
            if host and att.gateway is not None and names:
                for l in att.allowed:
                    for h in att.hosts.get(l.name, []):
                        if host_matches(h, host) and h != host:
                            hop.evidence.append(f"{host} matches route hostname {h}")
                            break
        hop.evidence.extend(route_metric_lines(self.snap, rns, rname))
        if others:
            hop.evidence.append("other routes listing this host: " + short_list(f"{ns_of(r)}/{name_of(r)}" for r in others))
        if hop.status == FAILED:
            self.set_impact([route], self.idx.route_hosts(route))
        return self.add(hop)

    def backend_hops(self, route: Obj) -> bool:
        rns = ns_of(route)
        refs = [(ri, bi, r) for ri, bi, r in backend_refs(route) if r.get("weight") != 0]
        if not refs:
            hop = Hop("service", "backend", status=FAILED)
            hop.evidence.append("the route has no backendRefs: Envoy answers 500 (or only redirects/filters apply)")
            filters = [f.get("type") for rule in (route.get("spec") or {}).get("rules") or () for f in rule.get("filters") or ()]
            if filters and any(t in ("RequestRedirect",) for t in filters):
                hop.status = PASSED
                hop.evidence = [f"the route only redirects ({', '.join(filters)}): no backend to check"]
            return self.add(hop)
        seen = set()
        for ri, bi, ref in refs:
            if not is_service_ref(ref):
                hop = Hop("service", f"{ref.get('kind')} {ref.get('namespace') or rns}/{ref.get('name')}")
                hop.evidence.append(f"rules[{ri}].backendRefs[{bi}] is a {ref.get('group')}/{ref.get('kind')}: "
                                    "not traced further")
                self.add(hop)
                continue
            sns, sname, port = ref.get("namespace") or rns, ref.get("name") or "", ref.get("port")
            if (sns, sname, port) in seen:
                continue
            seen.add((sns, sname, port))
            if not self.service_chain(sns, sname, port, route, f"rules[{ri}].backendRefs[{bi}]"):
                return False
        return True

    def service_chain(self, sns: str, sname: str, port: int | None, route: Obj | None, where: str = "") -> bool:
        snap, idx = self.snap, self.idx
        hop = Hop("service", f"Service {sns}/{sname}" + (f" port {port}" if port is not None else ""),
                  ObjectRef("v1", "Service", sns, sname))
        hop.evidence.extend(service_metric_lines(snap, sns, sname))
        users = idx.routes_by_service.get((sns, sname), [])

        def impact() -> None:
            hosts: list[str] = []
            for r in users:
                hosts += [h for h in idx.route_hosts(r) if h not in hosts]
            self.set_impact(users, hosts, [f"{sns}/{sname}"])

        svc = snap.get("Service", sns, sname)
        if svc is None and self.unseen(sns, "Service"):
            self.res.hops.append(self.unseen_hop("service", hop.title, hop.object or ObjectRef("v1", "Service", sns, sname),
                                                 f"Service {sns}/{sname}"))
            return True
        if svc is None:
            hop.fail(f"{where + ': ' if where else ''}Service {sns}/{sname} does not exist")
            sim = _similar(sname, [name_of(s) for s in snap.list("Service", sns)], 3)
            if sim:
                hop.evidence.append(f"similar Services in {sns}: {', '.join(sim)}")
            hop.fix.append(_cmd("List the Services", f"kubectl get svc -n {sns}"))
            impact()
            return self.add(hop)
        spec = svc.get("spec") or {}
        ports = spec.get("ports") or []
        hop.evidence.append(f"type {spec.get('type', 'ClusterIP')}, ports "
                            + ", ".join(f"{p.get('port')}→{p.get('targetPort')}" for p in ports)
                            + (f", selector {describe(spec.get('selector'))}" if spec.get("selector") else ", no selector"))
        if route is not None:
            if port is not None and not any(p.get("port") == port for p in ports):
                hop.fail(f"{where}: port {port} is not a port of the Service (backendRefs name the Service port)")
            if sns != ns_of(route):
                grant = idx.grant_allows(route, sns, sname)
                if grant is None and not snap.collected("ReferenceGrant"):
                    hop.evidence.append(f"cross-namespace reference from {ns_of(route)}: ReferenceGrants were not "
                                        "collected, whether one allows it is not checked")
                elif grant is None:
                    hop.fail(f"cross-namespace reference from {ns_of(route)}: no ReferenceGrant in {sns} allows it")
                    hop.fix.append(_cmd("List the ReferenceGrants", f"kubectl get referencegrant -n {sns}"))
                else:
                    hop.evidence.append(f"ReferenceGrant {sns}/{name_of(grant)} allows HTTPRoute from {ns_of(route)}")
            for iso in isolated_backends(snap, route):  # ingress NetworkPolicies between proxies and pods
                if iso.service is svc:
                    if not iso.reachable:
                        hop.fail(f"{where + ': ' if where else ''}NetworkPolicies keep the gateway's Envoy proxies out")
                        hop.fix.append(_cmd("Show the ingress policies", f"kubectl get networkpolicy -n {sns} -o yaml"))
                    hop.evidence.extend(isolation_evidence(snap, iso))
        hop.fix.append(_cmd("Read the Service", f"kubectl describe svc {sname} -n {sns}"))
        if hop.status == FAILED:
            impact()
            return self.add(hop)
        self.add(hop)
        if spec.get("type") == "ExternalName":
            self.res.hops.append(Hop("endpoints", f"ExternalName {spec.get('externalName')}", status=SKIPPED,
                                     evidence=["an ExternalName Service has no endpoints to check"]))
            return True
        return self.endpoints_and_pods(svc, port, impact)

    def endpoints_and_pods(self, svc: Obj, port: int | None, impact: Callable[[], None]) -> bool:
        snap = self.snap
        sns, sname = ns_of(svc), name_of(svc)
        hop = Hop("endpoints", f"EndpointSlices of {sns}/{sname}", ObjectRef("v1", "Service", sns, sname))
        hop.fix.append(_cmd("See the endpoints", f"kubectl get endpointslices -n {sns} -l kubernetes.io/service-name={sname}"))
        eps = snap.service_endpoints(svc)
        pods = snap.service_pods(svc)
        selector = (svc.get("spec") or {}).get("selector")
        if eps is None:
            hop.status = SKIPPED
            hop.evidence.append("neither EndpointSlices nor Endpoints were captured")
            self.res.hops.append(hop)
        else:
            ready = [e for e in eps if e["ready"]]
            slices = [name_of(s) for s in snap.endpoint_slices(svc)]
            hop.evidence.append(f"{len(ready)} of {len(eps)} endpoints ready"
                                + (f" (EndpointSlice {', '.join(slices)})" if slices else ""))
            not_ready = [e.get("pod") or e["ip"] for e in eps if not e["ready"]]  # every entry has an "ip"
            if not_ready:
                hop.evidence.append(f"not ready: {short_list(not_ready)}")
            if not ready:
                hop.status = FAILED
                if not selector:
                    hop.evidence.append("the Service has no selector: something must maintain its EndpointSlices")
                elif not pods and not snap.collected("Pod"):
                    hop.evidence.append("Pods were not collected: which pods the selector matches is not checked")
                elif not pods:
                    hop.evidence.append(f"selector {describe(selector)} matches no pod in {sns}")
                    hop.fix.append(_cmd("Compare the selector with the pod labels", f"kubectl get pods -n {sns} --show-labels"))
                elif not any(pod_ready(p) for p in pods):
                    hop.note = "explained by the pods hop"
                    hop.evidence.append(f"{len(pods)} selected pod(s), none ready: see the pods hop")
                else:
                    hop.evidence.append("pods are ready but not behind the Service: check targetPort against the container ports")
                if not hop.note:
                    impact()
                    return self.add(hop)
            self.add(hop)
        # pods
        phop = Hop("pods", f"pods of Service {sns}/{sname}")
        if not pods and not snap.collected("Pod"):
            phop.status = SKIPPED
            phop.title += f": {self.why_unseen('Pod')}, not checked"
            self.res.hops.append(phop)
            return True
        if not pods:
            if eps:
                phop.evidence.append("no pod matches the selector; endpoints are managed outside the Service selector")
            else:
                phop.fail(f"no pod matches selector {describe(selector)}" if selector else "no selector")
                impact()
            return self.add(phop)
        ok = self.pods_hop(phop, pods)
        if not ok:
            impact()
        return self.add(phop)

    def pods_hop(self, hop: Hop, pods: list[Obj]) -> bool:
        """Fill a pods hop: failed when no pod is ready, with each broken pod's state and container reasons."""
        snap = self.snap
        ready = [p for p in pods if pod_ready(p)]
        owners = {key_of(snap.top_controller(p)) for p in pods}
        hop.evidence.append(f"{len(ready)} of {len(pods)} pods ready"
                            + (f" ({', '.join(f'{k[0]} {k[2]}' for k in sorted(owners) if k[0] != 'Pod')})" if owners else ""))
        bad = [p for p in pods if not pod_ready(p)]
        groups: dict[tuple[str, ...], list[Obj]] = {}
        for p in bad:
            groups.setdefault(tuple(container_problems(p)) or (pod_line(p),), []).append(p)
        for same in list(groups.values())[:3]:
            p = same[0]
            line = pod_line(p)
            if len(same) > 1:
                line += f" (and {len(same) - 1} more pod{'s' if len(same) > 2 else ''} in the same state)"
            hop.evidence.append(line)
            for cs in ((p.get("status") or {}).get("containerStatuses") or ()):
                if cs.get("ready"):
                    continue
                log = snap.logs(ns_of(p), name_of(p), cs.get("name") or "", bool(cs.get("restartCount")))
                if log:
                    tail = [l.strip()[:LOG_LINE_CHARS] for l in log.strip().splitlines() if l.strip()][-LOG_LINES:]
                    if tail:
                        which = "previous" if cs.get("restartCount") else "current"
                        hop.evidence.append(f"  {which} log of {cs.get('name')}: " + " | ".join(tail))
        target = bad[0] if bad else pods[0]
        hop.object = _ref(target)
        pname, pns = name_of(target), ns_of(target)
        crashed = any(cs.get("restartCount") for cs in ((target.get("status") or {}).get("containerStatuses") or ()))
        hop.fix.append(_cmd("Read the pod's events and container states", f"kubectl describe pod {pname} -n {pns}"))
        if crashed:
            hop.fix.append(_cmd("Read the log of the crashed container", f"kubectl logs {pname} -n {pns} --previous --tail=50"))
        if not ready:
            hop.status = FAILED
            return False
        return True

    # --- route, service, pod targets ------------------------------------------------------------
    def route(self, ns: str, name: str) -> TraceResult:
        idx = self.idx
        route = self.snap.get("HTTPRoute", ns, name)
        if route is None:
            names = [f"{ns_of(r)}/{name_of(r)}" for r in idx.routes]
            return self.unresolved(f"no HTTPRoute {ns}/{name}", _similar(f"{ns}/{name}", names), needs=("HTTPRoute",))
        self.self_route = route
        self.self_hosts = set(route_hostnames(route))
        remaining = list(HOP_ORDER)
        atts = idx.by_route.get(key_of(route), [])
        att = next((a for a in atts if a.gateway is not None), atts[0] if atts else None)
        if att is not None and att.gateway is None and self.unseen(att.gw_ns, "Gateway"):
            return self.unseen_gateway(att, route, None, [])
        if att is None or att.gateway is None:
            hop = Hop("gateway", "Gateway", status=FAILED)
            if att is not None:
                hop.object = ObjectRef(GW_API, "Gateway", att.gw_ns, att.gw_name)
                hop.evidence.append(f"{att.describe_ref()}: no such Gateway")
                hop.evidence.append("Gateways present: " + short_list(f"{n}/{g}" for (n, g) in idx.gateways))
            else:
                hop.evidence.append("the route has no Gateway parentRef")
            hop.fix.append(_cmd("List the Gateways", "kubectl get gateway -A"))
            self.set_impact([route], route_hostnames(route))
            self.add(hop)
            return self.finish(remaining)
        gw = att.gateway
        if not self.gateway_hop(gw):
            return self.finish(remaining)
        hop = self.route_listeners_hop(route, gw, [a for a in atts if a.gateway is gw])
        if not self.add(hop):
            return self.finish(remaining)
        if not self.route_hop(route, att, None, []):
            return self.finish(remaining)
        self.backend_hops(route)
        return self.finish(remaining)

    def route_listeners_hop(self, route: Obj, gw: Obj, atts: list[Attachment]) -> Hop:
        """Every parentRef of the route to this Gateway: the listeners it selects and the hosts it gets there."""
        idx = self.idx
        ns, name = ns_of(route), name_of(route)
        hop = Hop("listener", f"listeners of Gateway {ns_of(gw)}/{name_of(gw)} for HTTPRoute {ns}/{name}", _ref(gw))
        lst = idx.gateway_listeners(gw)
        broken: list[Listener] = []
        for att in atts:
            if not att.selected:
                hop.fail(f"{att.describe_ref()}: matches no listener")
                close = _similar(att.section or "", [l.name for l in lst], 3) if att.section else []
                if close:
                    hop.evidence.append(f"closest listener names: {', '.join(close)}")
                fit = receiving_listener(idx, att, wants_tls(att, lst))
                if fit and att.section:
                    hop.fix.append(_cmd(
                        f"Point parentRefs[{att.index}] at listener {fit} (change it in Git if Argo CD manages the route)",
                        f"kubectl patch httproute {name} -n {ns} --type=json -p "
                        f"'[{{\"op\":\"replace\",\"path\":\"/spec/parentRefs/{att.index}/sectionName\",\"value\":\"{fit}\"}}]'",
                        "mutating"))
                continue
            if not att.allowed:
                hop.fail(f"{att.describe_ref()}: listener {', '.join(l.name for l in att.selected)} does not allow routes "
                         f"from namespace {ns} (allowedRoutes)")
                continue
            served = False
            for l in att.allowed:
                hs = att.hosts.get(l.name, [])
                prog = l.cond("Programmed")
                line = (f"{att.describe_ref()} → listener {l.describe()}: hosts {', '.join(hs) or 'none'}; "
                        f"{cond_text(prog, 'Programmed')}")
                if hs and not is_true(prog):
                    hop.fail(line)
                    broken.append(l)
                else:
                    hop.evidence.append(line)
                served = served or bool(hs)
            if not served:
                hop.fail(f"{att.describe_ref()}: no hostname of the route "
                         f"({', '.join(route_hostnames(route)) or 'none'}) intersects its listeners")
        if hop.status == FAILED:
            hop.evidence.append("listeners: " + short_list([l.describe() for l in lst], 12))
            hop.fix.append(_cmd("Read the route's parentRefs and status", f"kubectl describe httproute {name} -n {ns}"))
            if broken:
                hop.fix.append(_cmd("Read the listener conditions", f"kubectl describe gateway {name_of(gw)} -n {ns_of(gw)}"))
                routes, hosts = listener_impact(idx, broken[0])
                self.set_impact(routes, hosts)
            else:
                self.set_impact([route], route_hostnames(route))
        return hop

    def service(self, ns: str, name: str) -> TraceResult:
        svc = self.snap.get("Service", ns, name)
        if svc is None:
            names = [f"{ns_of(s)}/{name_of(s)}" for s in self.snap.list("Service")]
            return self.unresolved(f"no Service {ns}/{name}", _similar(f"{ns}/{name}", names), needs=("Service",))
        users = self.idx.routes_by_service.get((ns, name), [])
        self.service_chain(ns, name, None, None)
        if users and self.res.hops:
            self.res.hops[0].evidence.append("used by HTTPRoute " + short_list(f"{ns_of(r)}/{name_of(r)}" for r in users))
        return self.finish(["service", "endpoints", "pods"])

    def pod(self, ns: str, name: str) -> TraceResult:
        pod = self.snap.get("Pod", ns, name)
        if pod is None:
            names = [f"{ns_of(p)}/{name_of(p)}" for p in self.snap.list("Pod")]
            return self.unresolved(f"no Pod {ns}/{name}", _similar(f"{ns}/{name}", names), needs=("Pod",))
        hop = Hop("pods", f"Pod {ns}/{name}")
        return self.pods_behind_services(hop, ns, [pod])


    def workload(self, kind: str, ns: str, name: str) -> TraceResult:
        """A Deployment, StatefulSet or DaemonSet: its pods, the Services in front of them, what they serve."""
        obj = self.snap.get(kind, ns, name)
        if obj is None:
            names = [f"{ns_of(o)}/{name_of(o)}" for o in self.snap.list(kind)]
            return self.unresolved(f"no {kind} {ns}/{name}", _similar(f"{ns}/{name}", names))
        pods = self.snap.pods_of(obj)
        hop = Hop("pods", f"pods of {kind} {ns}/{name}", _ref(obj))
        if not pods:
            hop.fail(f"{kind} {ns}/{name} has no pods")
            hop.fix.append(_cmd(f"Read the {kind}'s conditions and events", f"kubectl describe {kind.lower()} {name} -n {ns}"))
            self.add(hop)
            return self.finish(["pods"])
        return self.pods_behind_services(hop, ns, pods)

    def pods_behind_services(self, hop: Hop, ns: str, pods: list[Obj]) -> TraceResult:
        """The pods hop of a pod or workload target, with the Services that select any of the pods and, when
        the pods fail, the routes and hosts that lose them."""
        services = [s for s in self.snap.list("Service", ns)
                    if (s.get("spec") or {}).get("selector")
                    and any(all(((p["metadata"].get("labels") or {}).get(k) == v) for k, v in s["spec"]["selector"].items())
                            for p in pods)]
        ok = self.pods_hop(hop, pods)
        if services:
            hop.evidence.append("behind Service " + ", ".join(name_of(s) for s in services))
        if not ok:
            routes: list[Obj] = []
            for s in services:
                routes += [r for r in self.idx.routes_by_service.get((ns, name_of(s)), []) if r not in routes]
            hosts: list[str] = []
            for r in routes:
                hosts += [h for h in self.idx.route_hosts(r) if h not in hosts]
            self.set_impact(routes, hosts, [f"{ns}/{name_of(s)}" for s in services])
        self.add(hop)
        return self.finish(["pods"])


def _older(obj: Obj) -> float:
    """Larger for older objects: Gateway API breaks precedence ties in favour of the oldest route."""
    t = parse_time((obj.get("metadata") or {}).get("creationTimestamp"))
    return -t.timestamp() if t else 0.0
