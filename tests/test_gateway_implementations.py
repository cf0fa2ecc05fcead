"""Gateway API implementations other than Envoy Gateway, and the standard status the checks read.

Istio, NGINX Gateway Fabric, Cilium, Traefik and Contour Gateways are judged by the conditions their own
controllers write (Accepted, Programmed, ResolvedRefs), never by Envoy Gateway's knowledge. Route parents
are matched by parentRef *and* controllerName (Traefik writes an entry for every parent, even other
implementations' Gateways). Hostnames are judged across all parents, a listener that is not Programmed
takes no traffic, and GRPCRoute, ListenerSet parents, RequestMirror backends, BackendTLSPolicy and
Gateway-level ResolvedRefs each get a check. Objects follow gateway-api v1.2 shapes and, where a schema
is in shared/crds, validate against it.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import gateway_faults as gf
import pytest
import scenario

import sre_expert.domain.gateway_api as gwmodel
from sre_expert.diagnosis.engine import Report, diagnose
from sre_expert.diagnosis.trace import trace
from sre_expert.sources.memory import snapshot_from_objects
from synth import gateway as gwlib
from synth.builder import PlatformBuilder
from synth.meta import condition

pytestmark = pytest.mark.scenario

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
ISTIO = "istio.io/gateway-controller"
T = NOW - timedelta(days=20)
Obj = dict[str, Any]


def ago(**kw: float) -> datetime:
    return NOW - timedelta(**kw)


def implementation_class(name: str, controller: str, accepted: bool = True) -> Obj:
    gc = gwlib.gateway_class(name, T, accepted=accepted)
    gc["spec"]["controllerName"] = controller
    if accepted:
        gc["status"]["conditions"][0]["message"] = ("Handled by Istio controller" if controller == ISTIO
                                                    else "GatewayClass is accepted")
    return gc


def istio_gateway(ns: str, name: str, listeners: list[Obj], programmed: bool = True, cls: str = "istio") -> Obj:
    """A Gateway with Istio's own messages (pilot/pkg/config/kube/gateway): Accepted "Resource accepted",
    Programmed "Resource programmed, assigned to service(s) ..."."""
    gw = gwlib.gateway(ns, name, cls, listeners, T, address="10.96.14.7")
    gen = gw["metadata"]["generation"]
    gw["status"]["conditions"] = [
        condition("Accepted", "True", "Accepted", "Resource accepted", T, observed_generation=gen),
        condition("Programmed", "True", "Programmed",
                  f"Resource programmed, assigned to service(s) {name}-istio.{ns}.svc.cluster.local:443",
                  T, observed_generation=gen)
        if programmed else
        condition("Programmed", "False", "Invalid",
                  f"Failed to assign to any requested addresses: hostname \"{name}-istio.{ns}.svc.cluster.local\" not found",
                  T, observed_generation=gen),
    ]
    gw["status"]["addresses"] = [{"type": "Hostname", "value": f"{name}-istio.{ns}.svc.cluster.local"}] if programmed else []
    for ls in gw["status"]["listeners"]:
        ls["attachedRoutes"] = 1
    return gw


def parent_status(ref: Obj, controller: str, accepted: tuple[str, str, str] | None = None,
                  resolved: tuple[str, str, str] | None = None, gen: int = 1) -> Obj:
    st = gwlib.route_parent_status(ref, T, gen, accepted=accepted, resolved=resolved)
    st["controllerName"] = controller
    return st


def cluster() -> PlatformBuilder:
    """A kind cluster with Istio's Gateway API support and one application; none of the reference platform."""
    b = PlatformBuilder(NOW, cluster="kind-istio")
    b.add_node("kind-control-plane", control_plane=True)
    b.add_node("kind-worker")
    for ns in ("istio-system", "istio-ingress", "shop"):
        b.add_namespace(ns)
    b.add_deployment("istio-system", "istiod", "docker.io/istio/pilot:1.24.2", 1,
                     labels={"app": "istiod", "istio": "pilot"}, ports=(("grpc-xds", 15010),), probe_path=None)
    b.add_deployment("shop", "web", "ghcr.io/example/shop-web:2.3.1", 2, ports=(("http", 8080),))
    b.add(implementation_class("istio", ISTIO))
    b.add(istio_gateway("istio-ingress", "public", [gwlib.listener("https", "HTTPS", 443, "*.shop.example.org",
                                                                    tls_secret="shop-wildcard"),
                                                     gwlib.listener("http", "HTTP", 80, "*.shop.example.org")]))
    b.add_secret("istio-ingress", "shop-wildcard", ["tls.crt", "tls.key"], type_="kubernetes.io/tls")
    ref = gwlib.parent_ref("istio-ingress", "public")
    route = gwlib.httproute("shop", "web", ["www.shop.example.org"], [ref], [gwlib.backend_ref("web", 8080)], T)
    route["status"]["parents"] = [parent_status(ref, ISTIO)]
    b.add(route)
    return b


def run(b: PlatformBuilder) -> Report:
    b.refresh()
    return diagnose(snapshot_from_objects(copy.deepcopy(b.objects), NOW, logs=dict(b.logs)))


def gateway_findings(r: Report) -> list[tuple[str, str, str]]:
    return [(f.severity, f.code, f.title) for f in r.findings
            if f.component == "gateway" or f.code.startswith(("GATEWAY", "HTTPROUTE", "BACKENDTLS"))]


def serious(r: Report) -> list[tuple[str, str, str]]:
    return [x for x in gateway_findings(r) if x[0] != "info"]


def commands(r: Report, code: str) -> list[str]:
    return [x.command or "" for f in r.findings if f.code == code for x in f.remediation]


# ------------------------------------------------------------------------------------ other implementations


def test_healthy_istio_gateway_is_not_judged_as_envoy_gateway() -> None:
    b = cluster()
    scenario.validate_custom_resources(b, kinds=("GatewayClass", "Gateway", "HTTPRoute"))
    r = run(b)
    assert not serious(r), serious(r)
    # no Envoy Gateway "controller missing": Gateway API objects alone do not make Envoy Gateway installed
    assert not [f for f in r.findings if f.code.startswith("COMPONENT-") and f.severity != "info"]
    absent = next(f for f in r.findings if f.code == "COMPONENT-NOT-INSTALLED")
    assert "envoy-gateway" in absent.title
    res = trace(snapshot_from_objects(copy.deepcopy(b.objects), NOW, logs=dict(b.logs)), "https://www.shop.example.org")
    assert res.exit_code == 0 and [h.name for h in res.hops][:3] == ["gateway", "listener", "route"], res.to_json()


def test_istio_gateway_not_programmed_is_reported_with_istio_commands() -> None:
    b = cluster()
    gw = b.require("Gateway", "istio-ingress", "public")
    b.remove(gw)
    b.add(istio_gateway("istio-ingress", "public", gw["spec"]["listeners"], programmed=False))
    r = run(b)
    f = next(f for f in r.findings if f.code == "GATEWAY-NOT-PROGRAMMED")
    assert f.severity == "critical" and "Failed to assign to any requested addresses" in " ".join(f.evidence)
    cmds = commands(r, "GATEWAY-NOT-PROGRAMMED")
    assert "kubectl logs -n istio-system deployment/istiod --tail=100" in cmds
    assert not [c for c in cmds if "envoy-gateway" in c], cmds
    assert not [x for x in serious(r) if x[1] in ("GATEWAY-PROXY-UNAVAILABLE", "GATEWAY-NOT-ACCEPTED")]


@pytest.mark.parametrize("controller", [
    "istio.io/gateway-controller", "gateway.nginx.org/nginx-gateway-controller", "io.cilium/gateway-controller",
    "traefik.io/gateway-controller", "projectcontour.io/gateway-controller", "kgateway.dev/kgateway"])
def test_other_controllers_are_never_a_misspelling_of_envoy_gateway(controller: str) -> None:
    assert not getattr(gwmodel, "misspelt_envoy", lambda c: True)(controller)
    b = cluster()
    b.add(implementation_class("unclaimed", controller, accepted=False))
    r = run(b)
    f = next(f for f in r.findings if f.code == "GATEWAYCLASS-NO-CONTROLLER")
    ev = " ".join(f.evidence)
    assert "misspelling" not in ev and "Envoy Gateway only reconciles" not in ev, ev
    assert f.severity == "warning"  # no Gateway uses it
    assert not [c for c in commands(r, "GATEWAYCLASS-NO-CONTROLLER") if "envoy-gateway" in c or "delete" in c]


def test_near_miss_of_envoy_gateway_name_is_a_misspelling_warning() -> None:
    b = cluster()
    b.add(implementation_class("eg", "gateway.envoyproxy.io/gatewayclass-controler", accepted=False))
    r = run(b)
    f = next(f for f in r.findings if f.code == "GATEWAYCLASS-NO-CONTROLLER")
    assert f.severity == "warning" and any("a misspelling?" in e for e in f.evidence), f.evidence


# ------------------------------------------------------------------------------------ routes with several parents


def test_route_with_parents_of_two_implementations_and_traefik_foreign_status() -> None:
    """Reference platform plus an Istio Gateway in another namespace: one hostname per parent, each parent's
    own controller accepts it, and Traefik's entry for the Envoy Gateway parent (Accepted=False) is ignored."""
    b = gf.healthy()
    b.add_namespace("istio-ingress")
    b.add(implementation_class("istio", ISTIO))
    b.add(istio_gateway("istio-ingress", "partner", [gwlib.listener("http", "HTTP", 80, "*.partner.example.org")]))
    route = b.require("HTTPRoute", "mycure-production", "api")
    eg_ref = route["spec"]["parentRefs"][0]
    istio_ref = gwlib.parent_ref("istio-ingress", "partner")
    route["spec"]["parentRefs"].append(istio_ref)
    route["spec"]["hostnames"].append("api.partner.example.org")
    route["status"]["parents"].append(parent_status(istio_ref, ISTIO))
    route["status"]["parents"].insert(0, parent_status(eg_ref, "traefik.io/gateway-controller",
                                                       accepted=("False", "NoMatchingParent", "No Gateway matches")))
    scenario.validate_custom_resources(b, kinds=("GatewayClass", "Gateway", "HTTPRoute"))
    r = run(b)
    about = [x for x in serious(r) if "mycure-production/api" in x[2]]
    assert not about, about
    assert not [f for f in r.findings if f.code in ("HTTPROUTE-HOSTNAME-MISMATCH", "HTTPROUTE-NOT-RECONCILED",
                                                    "HTTPROUTE-HOST-SHADOWED", "HTTPROUTE-NO-MATCHING-PARENT")]


def test_listener_that_is_not_programmed_takes_no_traffic() -> None:
    """A more specific HTTPS listener whose certificate is broken is not programmed: requests for its hosts
    go to the wider wildcard listener the route is attached to, so the route is not shadowed."""
    b = gf.healthy()
    gw = gf.gateway(b)
    wildcard = next(l for l in gw["spec"]["listeners"]
                    if l["protocol"] == "HTTPS" and (l.get("hostname") or "").endswith("mycureapp.com"))
    exact = gwlib.listener("https-app", "HTTPS", wildcard["port"], "*.app.mycureapp.com", tls_secret="app-mycureapp-tls")
    gw["spec"]["listeners"].append(exact)
    gen = gw["metadata"]["generation"]
    gw["status"]["listeners"].append({
        "name": "https-app", "attachedRoutes": 0,
        "supportedKinds": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}],
        "conditions": [
            condition("Programmed", "False", "Invalid", "Listener is invalid, see other Conditions for details.",
                      T, observed_generation=gen),
            condition("Accepted", "True", "Accepted", "Listener has been successfully translated", T, observed_generation=gen),
            condition("ResolvedRefs", "False", "InvalidCertificateRef", "Secret gateway-system/app-mycureapp-tls does not exist.",
                      T, observed_generation=gen),
        ]})
    served = [r for r in b.list("HTTPRoute") if any(h.endswith(".mycureapp.com") for h in r["spec"].get("hostnames") or [])]
    assert served
    served[0]["spec"]["hostnames"] = ["eu.app.mycureapp.com"]
    r = run(b)
    assert not [f for f in r.findings if f.code == "HTTPROUTE-HOST-SHADOWED"], gateway_findings(r)
    assert [f.code for f in r.findings if f.code == "GATEWAY-LISTENER-CERT-INVALID"] == ["GATEWAY-LISTENER-CERT-INVALID"]
    res = trace(snapshot_from_objects(copy.deepcopy(b.objects), NOW, logs=dict(b.logs)), "https://eu.app.mycureapp.com")
    hop = next(h for h in res.hops if h.name == "listener")
    # trace stops at the listener meant for the host, whose own conditions say why it serves nothing
    assert hop.title.startswith("listener https-app of Gateway") and hop.status == "failed", (hop.title, hop.evidence)
    assert any("InvalidCertificateRef" in e for e in hop.evidence), hop.evidence
    assert not any("https-app" in e and "receives" in e for e in hop.evidence), hop.evidence


# ------------------------------------------------------------------------------------ standard kinds


def test_grpc_route_gets_the_same_backend_checks() -> None:
    b = cluster()
    ref = gwlib.parent_ref("istio-ingress", "public", "https")
    route = gwlib.httproute("shop", "cart", ["cart.shop.example.org"], [ref], [gwlib.backend_ref("cart-grpc", 9090)], T)
    route["apiVersion"], route["kind"] = "gateway.networking.k8s.io/v1", "GRPCRoute"
    route["spec"]["rules"][0].pop("matches")
    route["spec"]["rules"][0]["matches"] = [{"method": {"service": "shop.cart.v1.Cart"}}]
    route["status"]["parents"] = [parent_status(ref, ISTIO, resolved=("False", "BackendNotFound",
                                                                      "backend(cart-grpc.shop.svc.cluster.local) not found"))]
    b.add(route)
    scenario.validate_custom_resources(b, kinds=("GRPCRoute",))
    r = run(b)
    f = next(f for f in r.findings if f.code == "HTTPROUTE-BACKEND-NOT-FOUND")
    assert f.object.kind == "GRPCRoute" and f.title.startswith("GRPCRoute shop/cart: backend Service shop/cart-grpc")
    assert "kubectl get grpcroute cart -n shop -o jsonpath='{.spec.rules[*].backendRefs}'" in [x.command for x in f.remediation]


def test_missing_request_mirror_service_is_a_warning_not_a_broken_route() -> None:
    b = cluster()
    route = b.require("HTTPRoute", "shop", "web")
    route["spec"]["rules"][0]["filters"] = [{"type": "RequestMirror", "requestMirror": {
        "backendRef": {"group": "", "kind": "Service", "name": "web-shadow", "port": 8080}}}]
    route["status"]["parents"][0] = parent_status(
        route["spec"]["parentRefs"][0], ISTIO,
        resolved=("False", "BackendNotFound", "backend(web-shadow.shop.svc.cluster.local) not found"))
    scenario.validate_custom_resources(b, kinds=("HTTPRoute",))
    r = run(b)
    assert [(x[0], x[1]) for x in serious(r)] == [("warning", "HTTPROUTE-MIRROR-BACKEND-NOT-FOUND")], serious(r)


def test_backend_tls_policy_with_unresolved_ca_is_critical_for_a_routed_service() -> None:
    b = cluster()
    b.add({"apiVersion": "gateway.networking.k8s.io/v1alpha3", "kind": "BackendTLSPolicy",
           "metadata": {"name": "web-tls", "namespace": "shop", "uid": "uid-btlsp-web", "generation": 2,
                        "creationTimestamp": "2026-11-06T10:00:00Z"},
           "spec": {"targetRefs": [{"group": "", "kind": "Service", "name": "web"}],
                    "validation": {"caCertificateRefs": [{"group": "", "kind": "ConfigMap", "name": "shop-ca"}],
                                   "hostname": "web.shop.svc.cluster.local"}},
           "status": {"ancestors": [{
               "ancestorRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway",
                               "name": "public", "namespace": "istio-ingress"},
               "controllerName": ISTIO,
               "conditions": [
                   {"type": "Accepted", "status": "True", "reason": "Accepted", "message": "Configuration is valid",
                    "lastTransitionTime": "2026-11-06T10:00:00Z", "observedGeneration": 2},
                   {"type": "ResolvedRefs", "status": "False", "reason": "InvalidCACertificateRef",
                    "message": "Certificate reference invalid: ConfigMap shop/shop-ca not found",
                    "lastTransitionTime": "2026-11-06T10:00:00Z", "observedGeneration": 2}]}]}})
    r = run(b)
    f = next(f for f in r.findings if f.code == "BACKENDTLSPOLICY-NOT-ACCEPTED")
    assert f.severity == "critical" and "ConfigMap shop/shop-ca does not exist" in " ".join(f.evidence), f.evidence
    assert "shop/web" in " ".join(f.evidence)


def test_gateway_level_resolved_refs_false_is_reported() -> None:
    b = cluster()
    gw = b.require("Gateway", "istio-ingress", "public")
    gw["spec"]["tls"] = {"backend": {"clientCertificateRef": {"group": "", "kind": "Secret", "name": "gw-client-cert"}}}
    gw["status"]["conditions"].append(condition("ResolvedRefs", "False", "InvalidClientCertificateRef",
                                                 "Secret istio-ingress/gw-client-cert does not exist", T, observed_generation=1))
    r = run(b)
    f = next(f for f in r.findings if f.code == "GATEWAY-REFS-UNRESOLVED")
    assert "backend client certificate: Secret istio-ingress/gw-client-cert" in " ".join(f.evidence), f.evidence


def _listener_set(accepted: bool) -> Obj:
    st = "True" if accepted else "False"
    reason = "Accepted" if accepted else "NotAllowed"
    msg = "ListenerSet accepted" if accepted else "Gateway does not allow ListenerSets from namespace shop"
    return {"apiVersion": "gateway.networking.x-k8s.io/v1alpha1", "kind": "XListenerSet",
            "metadata": {"name": "shop-extra", "namespace": "shop", "uid": "uid-xls-shop", "generation": 1,
                         "creationTimestamp": "2026-11-06T10:00:00Z"},
            "spec": {"parentRef": {"name": "public", "namespace": "istio-ingress", "kind": "Gateway",
                                   "group": "gateway.networking.k8s.io"},
                     "listeners": [{"name": "extra", "port": 8443, "protocol": "HTTPS", "hostname": "extra.shop.example.org",
                                    "tls": {"certificateRefs": [{"kind": "Secret", "name": "extra-tls"}]}}]},
            "status": {"conditions": [
                {"type": "Accepted", "status": st, "reason": reason, "message": msg,
                 "lastTransitionTime": "2026-11-06T10:00:00Z", "observedGeneration": 1},
                {"type": "Programmed", "status": st, "reason": "Programmed" if accepted else "NotAllowed", "message": msg,
                 "lastTransitionTime": "2026-11-06T10:00:00Z", "observedGeneration": 1}]}}


@pytest.mark.parametrize("accepted", [True, False])
def test_route_through_a_listener_set_is_judged_by_its_parent_status(accepted: bool) -> None:
    b = cluster()
    b.add(_listener_set(accepted))
    ref = {"group": "gateway.networking.x-k8s.io", "kind": "XListenerSet", "name": "shop-extra", "sectionName": "extra"}
    route = gwlib.httproute("shop", "extra", ["extra.shop.example.org"], [ref], [gwlib.backend_ref("web", 8080)], T)
    route["status"]["parents"] = [parent_status(ref, ISTIO, accepted=None if accepted else
                                                ("False", "NotAllowedByListeners", "no listener allowed this route"))]
    b.add(route)
    r = run(b)
    if accepted:
        assert not serious(r), serious(r)
    else:
        codes = sorted(x[1] for x in serious(r))
        assert codes == ["GATEWAY-LISTENERSET-NOT-ACCEPTED", "HTTPROUTE-NOT-ACCEPTED"], serious(r)
        f = next(f for f in r.findings if f.code == "HTTPROUTE-NOT-ACCEPTED")
        assert "XListenerSet shop/shop-extra: Accepted=False (NotAllowed)" in " ".join(f.evidence), f.evidence
