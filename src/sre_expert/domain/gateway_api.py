"""The Gateway API model built from a Snapshot: GatewayIndex (listeners, route attachments, ListenerSets,
the Envoy Gateway controller and proxies), the hostname and certificate matching rules, and the short
lines that cite workloads and pods.

Shared by the gateway checks, diagnosis.trace (which walks the same model hop by hop) and lint. Attachment
is recomputed from spec with the controller's own rules (`GetReferencedListeners`, `computeHosts`,
allowedRoutes) so that a route the controller has not looked at yet is still explained.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeGuard

from sre_expert.core.k8s import find_condition, ns_of
from sre_expert.core.model import LISTENER_KIND, Key, key_of
from sre_expert.core.selectors import matches
from sre_expert.core.snapshot import Snapshot

Obj = dict[str, Any]

GROUP = "gateway.networking.k8s.io"
X_GROUP = "gateway.networking.x-k8s.io"
LISTENERSET_KINDS = ("XListenerSet", "ListenerSet")
ROUTE_KINDS = ("HTTPRoute", "GRPCRoute")
EG_CONTROLLER_NAME = "gateway.envoyproxy.io/gatewayclass-controller"
# GatewayClass spec.controllerName of other Gateway API implementations: (name, namespace and workload of
# its controller in a default install, for the log command). Their Gateways and routes are judged by the
# standard conditions they write; Envoy Gateway's own knowledge (proxies, EnvoyProxy, its controller)
# applies only to classes whose controllerName is EG_CONTROLLER_NAME.
IMPLEMENTATIONS: dict[str, tuple[str, str, str]] = {
    EG_CONTROLLER_NAME: ("Envoy Gateway", "envoy-gateway-system", "deployment/envoy-gateway"),
    "istio.io/gateway-controller": ("Istio", "istio-system", "deployment/istiod"),
    "istio.io/unmanaged-gateway": ("Istio (unmanaged)", "istio-system", "deployment/istiod"),
    "gateway.nginx.org/nginx-gateway-controller": ("NGINX Gateway Fabric", "nginx-gateway", "deployment/nginx-gateway"),
    "io.cilium/gateway-controller": ("Cilium", "kube-system", "deployment/cilium-operator"),
    "traefik.io/gateway-controller": ("Traefik", "traefik", "deployment/traefik"),
    "projectcontour.io/gateway-controller": ("Contour", "projectcontour", "deployment/contour"),
    "kgateway.dev/kgateway": ("kgateway", "kgateway-system", "deployment/kgateway"),
    "solo.io/gloo-gateway": ("Gloo Gateway", "gloo-system", "deployment/gloo"),
    "konghq.com/kic-gateway-controller": ("Kong Ingress Controller", "kong", "deployment/kong-controller"),
    "networking.gke.io/gateway": ("GKE Gateway (managed)", "", ""),
    "application-networking.k8s.aws/gateway-api-controller": ("AWS Gateway API Controller", "aws-application-networking-system",
                                                              "deployment/gateway-api-controller"),
}
EG_NAMESPACE = "envoy-gateway-system"
EG_DEPLOYMENT = "envoy-gateway"
EG_CONFIGMAP = "envoy-gateway-config"
OWNING_GATEWAY_NAME = "gateway.envoyproxy.io/owning-gateway-name"
OWNING_GATEWAY_NAMESPACE = "gateway.envoyproxy.io/owning-gateway-namespace"
OWNING_GATEWAYCLASS = "gateway.envoyproxy.io/owning-gatewayclass"
ENVOY_DEFAULT_MAX_HEADERS_KB = 60
MAX_LIST = 8
RECONCILE_GRACE = timedelta(minutes=2)


# ----------------------------------------------------------------------------------------------
# small helpers


def cond_text(c: Obj | None, type_: str = "") -> str:
    """`Programmed=False (AddressNotAssigned): "No addresses have been assigned to the Gateway"`."""
    if c is None:
        return f"{type_}: condition not set"
    text = f"{c.get('type')}={c.get('status')}"
    if c.get("reason"):
        text += f" ({c['reason']})"
    if c.get("message"):
        text += f': "{c["message"]}"'
    return text


def is_default_pending(c: Obj | None) -> bool:
    """The CRD default a controller never replaced: Unknown/Pending "Waiting for controller"."""
    return (
        c is not None
        and c.get("status") == "Unknown"
        and c.get("reason") in ("Pending", "Waiting", "NotReconciled")
        and (c.get("message") or "").startswith("Waiting for controller")
    )


def is_true(c: Obj | None) -> TypeGuard[Obj]:
    return c is not None and c.get("status") == "True"


def is_false(c: Obj | None) -> TypeGuard[Obj]:
    return c is not None and c.get("status") == "False"


def name_of(obj: Obj) -> str:
    return (obj.get("metadata") or {}).get("name") or ""


def kind_of(obj: Obj) -> str:
    """HTTPRoute or GRPCRoute: findings about either say which."""
    return obj.get("kind") or "HTTPRoute"


def generation(obj: Obj) -> int | None:
    g = (obj.get("metadata") or {}).get("generation")
    return g if isinstance(g, int) else None


def listener_key(gw_ns: str, gw_name: str, listener: str) -> Key:
    """Pseudo-key for one listener of a Gateway: what listener findings speak for."""
    return (LISTENER_KIND, gw_ns, f"{gw_name}/{listener}")


def short_list(items: Iterable[str], limit: int = MAX_LIST) -> str:
    items = list(items)
    if not items:
        return "none"
    text = ", ".join(items[:limit])
    if len(items) > limit:
        text += f", … {len(items) - limit} more"
    return text


def close_matches(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    return difflib.get_close_matches(word, sorted(set(choices)), n=n, cutoff=0.5)


def misspelt_envoy(controller_name: str) -> bool:
    """A controllerName that is a near miss of Envoy Gateway's and names no known implementation. The
    threshold is tight on purpose: "istio.io/gateway-controller" or Contour's share the "-controller" tail
    and used to pass a loose fuzzy match."""
    if controller_name == EG_CONTROLLER_NAME or controller_name in IMPLEMENTATIONS or not controller_name:
        return False
    return difflib.SequenceMatcher(None, controller_name.lower(), EG_CONTROLLER_NAME).ratio() >= 0.9


# ----------------------------------------------------------------------------------------------
# hostname matching, exactly as Gateway API v1.2 specifies and Envoy Gateway v1.2 implements it


def wildcard_matches(hostname: str, wildcard: str) -> bool:
    """Envoy Gateway's hostnameMatchesWildcardHostname: `*.example.com` matches `a.example.com` and
    `a.b.example.com` (one or more labels, the Gateway API rule), never `example.com` itself."""
    suffix = wildcard[1:]  # ".example.com"
    return hostname.endswith(suffix) and len(hostname) > len(suffix)


def host_matches(pattern: str | None, host: str) -> bool:
    """Does a listener or route hostname (exact, `*.` wildcard, or unset = any) match a concrete host?"""
    if not pattern or pattern == "*":
        return True
    if pattern.startswith("*."):
        return wildcard_matches(host, pattern)
    return pattern == host


def specificity(pattern: str | None) -> tuple[int, int]:
    """Order of preference when several hostnames match one host: exact, then the longest wildcard
    suffix, then no hostname. Envoy picks the TLS filter chain (SNI) and the virtual host this way."""
    if not pattern or pattern == "*":
        return (0, 0)
    if pattern.startswith("*."):
        return (1, len(pattern))
    return (2, len(pattern))


def sample_host(pattern: str) -> str:
    """A concrete host a pattern stands for, to ask which listener would receive it."""
    return "x" + pattern[1:] if pattern.startswith("*.") else pattern


def intersect_hostnames(route_hostnames: list[str], listener_hostname: str | None) -> list[str]:
    """The hosts a route gets on a listener (Envoy Gateway computeHosts, before the same-port filter).

    Note the controller's switch order: with a wildcard listener, a route wildcard that is *less*
    specific than the listener's (route `*.example.com` on listener `*.stg.example.com`) does not match.
    """
    if not route_hostnames:
        return [listener_hostname] if listener_hostname else ["*"]
    out: list[str] = []
    for rh in route_hostnames:
        hit: str | None
        if not listener_hostname or listener_hostname == rh:
            hit = rh
        elif listener_hostname.startswith("*"):
            hit = rh if wildcard_matches(rh, listener_hostname) else None
        elif rh.startswith("*"):
            hit = listener_hostname if wildcard_matches(listener_hostname, rh) else None
        else:
            hit = None
        if hit and hit not in out:
            out.append(hit)
    return out


def cert_covers(dns_names: Iterable[str], host: str) -> bool:
    """X.509 name matching (RFC 6125): a certificate wildcard covers exactly one label, unlike a
    Gateway API listener wildcard. A wildcard host is covered only by the same wildcard."""
    host = host.lower()
    for n in dns_names:
        n = n.lower()
        if n == host:
            return True
        if n.startswith("*.") and not host.startswith("*."):
            head, _, rest = host.partition(".")
            if head and rest == n[2:]:
                return True
    return False


# ----------------------------------------------------------------------------------------------
# the model: listeners, route attachments, backends, proxy infrastructure


@dataclass(slots=True)
class Listener:
    gateway: Obj
    name: str
    port: int
    protocol: str
    hostname: str | None
    spec: Obj
    status: Obj | None

    @property
    def gw_ns(self) -> str:
        return ns_of(self.gateway)

    @property
    def gw_name(self) -> str:
        return name_of(self.gateway)

    @property
    def key(self) -> Key:
        return listener_key(self.gw_ns, self.gw_name, self.name)

    @property
    def tls(self) -> bool:
        return self.protocol in ("HTTPS", "TLS")

    def cond(self, type_: str) -> Obj | None:
        return find_condition((self.status or {}).get("conditions"), type_)

    def describe(self) -> str:
        host = self.hostname or "any host"
        return f"{self.name} ({self.protocol} :{self.port}, hostname {host})"

    def cert_refs(self) -> list[tuple[str, str]]:
        refs = []
        for r in ((self.spec.get("tls") or {}).get("certificateRefs")) or ():
            if (r.get("kind") or "Secret") == "Secret" and not r.get("group"):
                refs.append((r.get("namespace") or self.gw_ns, r.get("name") or ""))
        return refs


@dataclass(slots=True)
class Attachment:
    """One parentRef of one route to a Gateway, resolved against the Gateway's spec and the route status."""

    route: Obj
    index: int
    ref: Obj
    gw_ns: str
    gw_name: str
    section: str | None
    port: int | None
    gateway: Obj | None = None
    selected: list[Listener] = field(default_factory=list)
    allowed: list[Listener] = field(default_factory=list)
    hosts: dict[str, list[str]] = field(default_factory=dict)
    status: Obj | None = None

    @property
    def route_key(self) -> Key:
        return key_of(self.route)

    @property
    def gateway_key(self) -> Key:
        return ("Gateway", self.gw_ns, self.gw_name)

    def describe_ref(self) -> str:
        text = f"parentRefs[{self.index}] → Gateway {self.gw_ns}/{self.gw_name}"
        if self.section:
            text += f" sectionName '{self.section}'"
        if self.port is not None:
            text += f" port {self.port}"
        return text

    def cond(self, type_: str) -> Obj | None:
        return find_condition((self.status or {}).get("conditions"), type_)

    def status_label(self) -> str:
        """How to name this parent's status entry in evidence: status.parents[gateway/sectionName]."""
        return f"status.parents[{self.gw_ns}/{self.gw_name}" + (f" {self.section}" if self.section else "") + "]"

    def computed_problem(self) -> str | None:
        """What the controller would write as Accepted=False for this parentRef, from spec alone."""
        if self.gateway is None:
            return None
        if not self.selected:
            return "NoMatchingParent"
        if not self.allowed:
            return "NotAllowedByListeners"
        if not any(self.hosts.get(lis.name) for lis in self.allowed):
            return "NoMatchingListenerHostname"
        return None

    def status_stale(self) -> bool:
        gen = generation(self.route)
        if self.status is None or gen is None:
            return False
        seen = [c.get("observedGeneration") for c in (self.status.get("conditions") or ())]
        seen = [g for g in seen if isinstance(g, int)]
        return bool(seen) and max(seen) < gen


def route_hostnames(route: Obj) -> list[str]:
    return list((route.get("spec") or {}).get("hostnames") or ())


def backend_refs(route: Obj) -> list[tuple[int, int, Obj]]:
    """(rule index, backend index, backendRef) for every backendRef of every rule."""
    out = []
    for ri, rule in enumerate((route.get("spec") or {}).get("rules") or ()):
        for bi, ref in enumerate(rule.get("backendRefs") or ()):
            out.append((ri, bi, ref))
    return out


def mirror_refs(route: Obj) -> list[tuple[str, Obj]]:
    """(where, backendRef) of every RequestMirror filter: on a rule or on one of its backendRefs."""
    out = []
    for ri, rule in enumerate((route.get("spec") or {}).get("rules") or ()):
        for fi, f in enumerate(rule.get("filters") or ()):
            if f.get("type") == "RequestMirror" and (f.get("requestMirror") or {}).get("backendRef"):
                out.append((f"rules[{ri}].filters[{fi}].requestMirror", f["requestMirror"]["backendRef"]))
        for bi, b in enumerate(rule.get("backendRefs") or ()):
            for fi, f in enumerate(b.get("filters") or ()):
                if f.get("type") == "RequestMirror" and (f.get("requestMirror") or {}).get("backendRef"):
                    out.append((f"rules[{ri}].backendRefs[{bi}].filters[{fi}].requestMirror", f["requestMirror"]["backendRef"]))
    return out


def is_service_ref(ref: Obj) -> bool:
    return (ref.get("group") or "") == "" and (ref.get("kind") or "Service") == "Service"


def _norm_parent(ref: Obj, route_ns: str) -> tuple:
    return (
        ref.get("group") if ref.get("group") is not None else GROUP,
        ref.get("kind") or "Gateway",
        ref.get("namespace") or route_ns,
        ref.get("name") or "",
        ref.get("sectionName") or None,
        ref.get("port"),
    )


def parent_status(parents: list[Obj], ref: Obj, route_ns: str, controller: str | None) -> Obj | None:
    """The route's status.parents entry for one parentRef, written by that parent's own controller.

    Several controllers may write an entry for the same parentRef (Traefik writes one for every parent,
    even other implementations' Gateways): when the parent's controllerName is known only its entry
    counts; entries without controllerName (older captures) are accepted when no exact one exists."""
    want = _norm_parent(ref, route_ns)
    same = [p for p in parents if _norm_parent(p.get("parentRef") or {}, route_ns) == want]
    if not same:
        return None
    if controller is None:
        return same[0]
    exact = [p for p in same if p.get("controllerName") == controller]
    if exact:
        return exact[0]
    unnamed = [p for p in same if not p.get("controllerName")]
    return unnamed[0] if unnamed else None


@dataclass(slots=True)
class ListenerSetAttachment:
    """One parentRef of a route to a ListenerSet (XListenerSet in gateway.networking.x-k8s.io)."""

    route: Obj
    index: int
    ref: Obj
    ls_ns: str
    ls_name: str
    listener_set: Obj | None
    gateway: Obj | None
    status: Obj | None

    def cond(self, type_: str) -> Obj | None:
        return find_condition((self.status or {}).get("conditions"), type_)

    def describe_ref(self) -> str:
        kind = self.ref.get("kind") or "ListenerSet"
        text = f"parentRefs[{self.index}] → {kind} {self.ls_ns}/{self.ls_name}"
        if self.ref.get("sectionName"):
            text += f" sectionName '{self.ref['sectionName']}'"
        return text


class GatewayIndex:
    """Every Gateway API relation of one snapshot, computed once (dict lookups afterwards)."""

    def __init__(self, snap: Snapshot):
        self.snap = snap
        self.classes: dict[str, Obj] = {name_of(o): o for o in snap.list("GatewayClass")}
        self.gateways: dict[tuple[str, str], Obj] = {(ns_of(o), name_of(o)): o for o in snap.list("Gateway")}
        self.listeners: dict[tuple[str, str], list[Listener]] = {}
        for (ns, name), gw in self.gateways.items():
            status_by_name = {s.get("name"): s for s in ((gw.get("status") or {}).get("listeners") or ())}
            self.listeners[(ns, name)] = [
                Listener(gw, l.get("name") or "", int(l.get("port") or 0), l.get("protocol") or "", l.get("hostname"),
                         l, status_by_name.get(l.get("name")))
                for l in ((gw.get("spec") or {}).get("listeners") or ())
            ]
        self.ns_labels: dict[str, dict[str, str]] = {
            name_of(o): (o["metadata"].get("labels") or {}) for o in snap.list("Namespace")
        }
        self.routes: list[Obj] = [r for k in ROUTE_KINDS for r in snap.list(k)]
        self.listener_sets: dict[tuple[str, str], Obj] = {
            (ns_of(o), name_of(o)): o for k in LISTENERSET_KINDS for o in snap.list(k)}
        self.by_route: dict[Key, list[Attachment]] = {}
        self.via_listener_sets: dict[Key, list[ListenerSetAttachment]] = defaultdict(list)
        self.by_gateway: dict[tuple[str, str], list[Attachment]] = defaultdict(list)
        self.by_listener: dict[Key, list[Attachment]] = defaultdict(list)
        self.routes_by_service: dict[tuple[str, str], list[Obj]] = defaultdict(list)
        for route in self.routes:
            self._attach(route)
        self.certs_by_secret: dict[tuple[str, str], Obj] = {}
        for cert in snap.list("Certificate"):
            secret = (cert.get("spec") or {}).get("secretName")
            if secret:
                self.certs_by_secret[(ns_of(cert), secret)] = cert
        self.grants: dict[str, list[Obj]] = defaultdict(list)
        for g in snap.list("ReferenceGrant"):
            self.grants[ns_of(g)].append(g)
        self._infra: dict[tuple[str, str], dict[str, list[Obj]]] = defaultdict(lambda: defaultdict(list))
        self._infra_by_class: dict[str, dict[str, list[Obj]]] = defaultdict(lambda: defaultdict(list))
        for kind in ("Deployment", "DaemonSet", "Service"):
            for o in snap.list(kind):
                labels = o["metadata"].get("labels") or {}
                if labels.get(OWNING_GATEWAY_NAME):
                    self._infra[(labels.get(OWNING_GATEWAY_NAMESPACE) or "", labels[OWNING_GATEWAY_NAME])][kind].append(o)
                elif labels.get(OWNING_GATEWAYCLASS):
                    self._infra_by_class[labels[OWNING_GATEWAYCLASS]][kind].append(o)

    # --- attachment -----------------------------------------------------------------------------
    def _attach(self, route: Obj) -> None:
        rns = ns_of(route)
        parents = list(((route.get("status") or {}).get("parents")) or ())
        atts: list[Attachment] = []
        for i, ref in enumerate((route.get("spec") or {}).get("parentRefs") or ()):
            kind = ref.get("kind") or "Gateway"
            group = ref.get("group") if ref.get("group") is not None else GROUP
            if kind in LISTENERSET_KINDS and group in (GROUP, X_GROUP):
                self._attach_listener_set(route, i, ref, parents)
                continue
            if kind != "Gateway" or group != GROUP:
                continue
            att = Attachment(route, i, ref, ref.get("namespace") or rns, ref.get("name") or "",
                             ref.get("sectionName") or None, ref.get("port"))
            att.gateway = self.gateways.get((att.gw_ns, att.gw_name))
            att.status = parent_status(parents, ref, rns, self.controller_name(att.gateway) if att.gateway else None)
            if att.gateway is not None:
                lst = self.listeners.get((att.gw_ns, att.gw_name), [])
                att.selected = [l for l in lst if (att.section is None or l.name == att.section)
                                and (att.port is None or l.port == att.port)]
                att.allowed = [l for l in att.selected if self.allows_route(l, route)]
                names = route_hostnames(route)
                for l in att.allowed:
                    hosts = intersect_hostnames(names, l.hostname)
                    if names:
                        # Envoy Gateway drops hosts that are exactly another listener's hostname on the same port
                        others = {o.hostname for o in lst if o is not l and o.port == l.port and o.hostname}
                        hosts = [h for h in hosts if h not in others]
                    att.hosts[l.name] = hosts
                    self.by_listener[l.key].append(att)
                self.by_gateway[(att.gw_ns, att.gw_name)].append(att)
            atts.append(att)
        self.by_route[key_of(route)] = atts
        for _, _, b in backend_refs(route):
            if is_service_ref(b) and b.get("name"):
                senders = self.routes_by_service[(b.get("namespace") or rns, b["name"])]
                if not senders or senders[-1] is not route:
                    senders.append(route)

    def _attach_listener_set(self, route: Obj, index: int, ref: Obj, parents: list[Obj]) -> None:
        """A parentRef to a ListenerSet: judged by the route's status entry for it and the ListenerSet's own
        conditions (its listeners are merged into the Gateway by the implementation, not recomputed here)."""
        rns = ns_of(route)
        ls_ns, ls_name = ref.get("namespace") or rns, ref.get("name") or ""
        ls = self.listener_sets.get((ls_ns, ls_name))
        gw = None
        if ls is not None:
            pref = (ls.get("spec") or {}).get("parentRef") or {}
            gw = self.gateways.get((pref.get("namespace") or ls_ns, pref.get("name") or ""))
        st = parent_status(parents, ref, rns, self.controller_name(gw) if gw else None)
        self.via_listener_sets[key_of(route)].append(ListenerSetAttachment(route, index, ref, ls_ns, ls_name, ls, gw, st))

    @staticmethod
    def kind_allowed(listener: Listener, kind: str) -> bool:
        kinds = (listener.spec.get("allowedRoutes") or {}).get("kinds")
        if kinds:
            return any(k.get("kind") == kind and (k.get("group") if k.get("group") is not None else GROUP) == GROUP
                       for k in kinds)
        if kind in ROUTE_KINDS:
            return listener.protocol in ("HTTP", "HTTPS")
        return True

    def allows_route(self, listener: Listener, route: Obj) -> bool:
        return (self.kind_allowed(listener, route.get("kind") or "HTTPRoute")
                and self.namespace_allowed(listener, ns_of(route)) is not False)

    def namespace_allowed(self, listener: Listener, route_ns: str) -> bool | None:
        """allowedRoutes.namespaces (default Same). None when a selector cannot be judged (no Namespace)."""
        spec = (listener.spec.get("allowedRoutes") or {}).get("namespaces") or {}
        frm = spec.get("from") or "Same"
        if frm == "All":
            return True
        if frm == "Same":
            return route_ns == listener.gw_ns
        if frm == "Selector":
            labels = self.ns_labels.get(route_ns)
            if labels is None:
                ok = matches(spec.get("selector"), {"kubernetes.io/metadata.name": route_ns})
                return True if ok else None
            return matches(spec.get("selector"), labels)
        return None

    # --- lookups --------------------------------------------------------------------------------
    def gateway_listeners(self, gw: Obj) -> list[Listener]:
        return self.listeners.get((ns_of(gw), name_of(gw)), [])

    def gateway_class(self, gw: Obj) -> Obj | None:
        return self.classes.get((gw.get("spec") or {}).get("gatewayClassName") or "")

    def controller_name(self, gw: Obj | None) -> str | None:
        """spec.controllerName of the Gateway's class; None when the class is not in the snapshot."""
        gc = self.gateway_class(gw) if gw is not None else None
        return None if gc is None else ((gc.get("spec") or {}).get("controllerName") or "")

    def is_envoy(self, gw: Obj) -> bool:
        """Whether Envoy Gateway runs this Gateway: its class names Envoy Gateway's controller."""
        return self.controller_name(gw) == EG_CONTROLLER_NAME

    def foreign(self, gw: Obj) -> bool:
        """A Gateway of another implementation, or of a class the snapshot does not hold: Envoy Gateway's
        knowledge (its proxies, its controller, spec recomputation) does not apply; standard conditions do."""
        return not self.is_envoy(gw)

    def implementation(self, gw: Obj | None) -> tuple[str, str, str]:
        """(name, controller namespace, controller workload) of the Gateway's implementation, as far as known."""
        ctrl = self.controller_name(gw)
        if ctrl is None:
            return ("its controller", "", "")
        return IMPLEMENTATIONS.get(ctrl, (f"controller {ctrl}" if ctrl else "its controller", "", ""))

    def gateways_of_class(self, class_name: str) -> list[Obj]:
        return [g for g in self.gateways.values() if (g.get("spec") or {}).get("gatewayClassName") == class_name]

    def infra(self, gw: Obj, kind: str) -> list[Obj]:
        """The Envoy proxy Deployments/DaemonSets/Services Envoy Gateway runs for this Gateway."""
        found = self._infra.get((ns_of(gw), name_of(gw)), {}).get(kind, [])
        if not found:
            found = self._infra_by_class.get((gw.get("spec") or {}).get("gatewayClassName") or "", {}).get(kind, [])
        return found

    def controller(self) -> Obj | None:
        dep = self.snap.get("Deployment", EG_NAMESPACE, EG_DEPLOYMENT)
        if dep is not None:
            return dep
        for d in self.snap.list("Deployment"):
            labels = d["metadata"].get("labels") or {}
            if name_of(d) == EG_DEPLOYMENT or labels.get("control-plane") == "envoy-gateway":
                return d
        return None

    def controller_down(self) -> bool:
        dep = self.controller()
        return dep is not None and workload_available(dep) == 0

    def listener_routes(self, listener: Listener) -> list[tuple[Obj, list[str]]]:
        """Routes attached to a listener (spec) with the hosts each gets there."""
        return [(a.route, a.hosts.get(listener.name, [])) for a in self.by_listener.get(listener.key, [])]

    def route_hosts(self, route: Obj) -> list[str]:
        out: list[str] = []
        for a in self.by_route.get(key_of(route), []):
            for hosts in a.hosts.values():
                for h in hosts:
                    if h not in out:
                        out.append(h)
        return out or route_hostnames(route)

    def listener_for(self, gw: Obj, host: str, protocol: str, port: int | None = None,
                     programmed_only: bool = True) -> Listener | None:
        """The listener Envoy hands a request for `host` to: most specific hostname on that protocol/port.
        A listener whose Programmed is False takes no traffic, so it is skipped unless `programmed_only` is
        False (trace asks which listener was *meant* to receive the host, to stop there)."""
        cands = [l for l in self.gateway_listeners(gw) if l.protocol == protocol
                 and (port is None or l.port == port) and host_matches(l.hostname, host)
                 and not (programmed_only and is_false(l.cond("Programmed")))]
        if not cands:
            return None
        return max(cands, key=lambda l: specificity(l.hostname))

    def grant_allows(self, route: Obj, svc_ns: str, svc_name: str) -> Obj | None:
        for g in self.grants.get(svc_ns, ()):
            spec = g.get("spec") or {}
            ok_from = any(f.get("group") == GROUP and f.get("kind") == route.get("kind") and f.get("namespace") == ns_of(route)
                          for f in spec.get("from") or ())
            ok_to = any((t.get("group") or "") == "" and t.get("kind") == "Service"
                        and (not t.get("name") or t.get("name") == svc_name)
                        for t in spec.get("to") or ())
            if ok_from and ok_to:
                return g
        return None


# ----------------------------------------------------------------------------------------------
# workload and pod state, stated briefly (core checks diagnose pods; we only cite them)


def workload_available(obj: Obj) -> int:
    st = obj.get("status") or {}
    if obj.get("kind") == "DaemonSet":
        return int(st.get("numberAvailable") or 0)
    return int(st.get("availableReplicas") or 0)


def workload_line(obj: Obj) -> str:
    st = obj.get("status") or {}
    kind, ns, name = key_of(obj)
    if kind == "DaemonSet":
        text = (f"{kind} {ns}/{name}: desiredNumberScheduled {st.get('desiredNumberScheduled', 0)}, "
                f"numberReady {st.get('numberReady', 0)}, numberAvailable {st.get('numberAvailable', 0)}")
    else:
        want = (obj.get("spec") or {}).get("replicas", 1)
        text = (f"{kind} {ns}/{name}: spec.replicas {want}, readyReplicas {st.get('readyReplicas', 0)}, "
                f"availableReplicas {st.get('availableReplicas', 0)}")
    avail = find_condition(st.get("conditions"), "Available")
    if is_false(avail):
        text += f"; {cond_text(avail)}"
    return text


def container_problems(pod: Obj) -> list[str]:
    """One line per container that is not ready: waiting/terminated reason, last termination, restarts."""
    st = pod.get("status") or {}
    out = []
    for group in ("initContainerStatuses", "containerStatuses"):
        for cs in st.get(group) or ():
            if cs.get("ready") or (group == "initContainerStatuses"
                                   and ((cs.get("state") or {}).get("terminated") or {}).get("exitCode") == 0):
                continue
            state = cs.get("state") or {}
            last = (cs.get("lastState") or {}).get("terminated")
            parts = [f"container {cs.get('name')}"]
            if "waiting" in state:
                w = state["waiting"] or {}
                # the CrashLoopBackOff message only repeats the back-off delay and the pod uid
                msg = w.get("message") if w.get("reason") != "CrashLoopBackOff" else None
                parts.append(f"waiting {w.get('reason', '')}" + (f': "{msg}"' if msg else ""))
            elif "terminated" in state:
                t = state["terminated"] or {}
                parts.append(f"terminated {t.get('reason', '')} exitCode {t.get('exitCode')}")
            elif "running" in state:
                parts.append("running but not ready")
            if last:
                parts.append(f"last terminated {last.get('reason', '')} exitCode {last.get('exitCode')}"
                             + (f" at {last['finishedAt']}" if last.get("finishedAt") else ""))
            if cs.get("restartCount"):
                parts.append(f"restartCount {cs['restartCount']}")
            out.append(", ".join(parts))
    return out


def pod_line(pod: Obj) -> str:
    st = pod.get("status") or {}
    text = f"Pod {ns_of(pod)}/{name_of(pod)}: phase {st.get('phase', 'Unknown')}"
    if st.get("reason"):
        text += f" ({st['reason']})"
    ready = find_condition(st.get("conditions"), "Ready")
    text += f", Ready={ready.get('status') if ready else 'unset'}"
    sched = find_condition(st.get("conditions"), "PodScheduled")
    if is_false(sched):
        text += f"; {cond_text(sched)}"
    probs = container_problems(pod)
    if probs:
        text += "; " + "; ".join(probs)
    return text


def workload_pods(snap: Snapshot, obj: Obj) -> list[Obj]:
    return snap.pods_of(obj)


def pod_keys(pods: Iterable[Obj]) -> list[Key]:
    return [key_of(p) for p in pods]


# ----------------------------------------------------------------------------------------------
# impact: what a broken listener / gateway / service takes down


def listener_impact(idx: GatewayIndex, listener: Listener) -> tuple[list[Obj], list[str]]:
    routes: list[Obj] = []
    hosts: list[str] = []
    seen_routes: set[int] = set()
    seen_hosts: set[str] = set()
    for route, hs in idx.listener_routes(listener):
        if not hs:
            continue
        _add_route(route, routes, seen_routes)
        for h in hs:
            _add_host(h, hosts, seen_hosts)
    return routes, hosts


def gateway_impact(idx: GatewayIndex, gw: Obj) -> tuple[list[Obj], list[str]]:
    routes: list[Obj] = []
    hosts: list[str] = []
    seen_routes: set[int] = set()
    seen_hosts: set[str] = set()
    for lis in idx.gateway_listeners(gw):
        r, h = listener_impact(idx, lis)
        for x in r:
            _add_route(x, routes, seen_routes)
        for host in h:
            _add_host(host, hosts, seen_hosts)
    return routes, hosts


def _add_route(route: Obj, routes: list[Obj], seen: set[int]) -> None:
    """Append unless listed, by identity: a shared Gateway carries a thousand routes and a list scan per
    route was quadratic. Identity is equality here, as the snapshot holds one dict per (kind, ns, name)."""
    if id(route) not in seen:
        seen.add(id(route))
        routes.append(route)


def _add_host(host: str, hosts: list[str], seen: set[str]) -> None:
    """Append unless listed (a set beside the list, for the same reason as _add_route)."""
    if host not in seen:
        seen.add(host)
        hosts.append(host)


def route_names(routes: Iterable[Obj]) -> list[str]:
    return [f"{ns_of(r)}/{name_of(r)}" for r in routes]


def impact_line(what: str, routes: list[Obj], hosts: list[str]) -> str:
    if not routes:
        return f"{what}: no HTTPRoute attached"
    return (f"{what}: {short_list(hosts)} "
            f"({len(routes)} HTTPRoute{'s' if len(routes) != 1 else ''}: {short_list(route_names(routes))})")


def controller_deps(idx: GatewayIndex) -> tuple[list[Key], list[str]]:
    """depends_on keys and one evidence line for the Envoy Gateway controller, when it is down."""
    dep = idx.controller()
    if dep is None:
        return [], []
    pods = workload_pods(idx.snap, dep)
    if workload_available(dep) > 0:
        return [], []
    return [key_of(dep), *pod_keys(pods)], [workload_line(dep)] + [pod_line(p) for p in pods[:2]]


# ----------------------------------------------------------------------------------------------
# which listener a route's parentRef meant


def receiving_listener(idx: GatewayIndex, att: Attachment, prefer_tls: bool | None) -> str | None:
    """The listener that would actually receive the route's hostnames (most specific match), preferring
    HTTPS or HTTP as the broken reference suggests; None when the route has no hostnames."""
    gw = att.gateway
    if gw is None:
        return None
    order = ["HTTPS", "HTTP"] if prefer_tls in (True, None) else ["HTTP", "HTTPS"]
    for h in route_hostnames(att.route):
        for proto in order:
            lis = idx.listener_for(gw, sample_host(h), proto)
            if lis is not None and idx.allows_route(lis, att.route):
                return lis.name
    return None


def wants_tls(att: Attachment, lst: list[Listener]) -> bool | None:
    """Whether the parentRef meant an HTTPS listener: from the listeners it selects, else from its name."""
    if att.selected:
        return any(l.tls for l in att.selected)
    if att.section:
        if "https" in att.section:
            return True
        if "http" in att.section:
            return False
    return None
