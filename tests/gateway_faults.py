"""Gateway API / Envoy Gateway faults on the healthy reference platform, written as the controllers would.

Each function mutates a `PlatformBuilder` built by `healthy_platform` so that the objects look exactly
like `kubectl get -o json` after the fault: status conditions with Envoy Gateway's own reasons and
messages (envoyproxy/gateway@v1.2.8), kubelet container states
and events for pods, cert-manager conditions for certificates. Workload status is re-derived with
`b.refresh()` *before* Gateway API status is written, because the synthetic refresher recounts
`attachedRoutes` its own way; tests snapshot the builder without refreshing again.

`validate_custom_resources(b)` checks every Gateway API, Envoy Gateway and cert-manager object against
the CRD schemas in shared/crds.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import scenario

from synth import faults
from synth import gateway as gwlib
from synth.builder import PlatformBuilder
from synth.meta import bump, condition, ts

__all__ = ["bump", "condition", "ts"]
from synth.platform import EG_NS, GATEWAY_NAME, GATEWAY_NS

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
GW_NS, GW = GATEWAY_NS, GATEWAY_NAME
PROXY = gwlib.infra_name(GW_NS, GW)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Obj = dict[str, Any]

CR_KINDS = ("GatewayClass", "Gateway", "HTTPRoute", "ReferenceGrant", "EnvoyPatchPolicy", "EnvoyProxy", "Certificate",
            "CertificateRequest", "Order", "Challenge")


def healthy() -> PlatformBuilder:
    return scenario.platform(NOW)


def validate_custom_resources(b: PlatformBuilder) -> None:
    scenario.validate_custom_resources(b, kinds=CR_KINDS)


# ----------------------------------------------------------------------------------------------- helpers


def ago(**kw: float) -> datetime:
    return NOW - timedelta(**kw)


def gateway(b: PlatformBuilder) -> Obj:
    return b.require("Gateway", GW_NS, GW)


def route(b: PlatformBuilder, ns: str, name: str) -> Obj:
    return b.require("HTTPRoute", ns, name)


def set_cond(conds: list[Obj], c: Obj) -> None:
    for i, x in enumerate(conds):
        if x["type"] == c["type"]:
            conds[i] = c
            return
    conds.append(c)


def gw_cond(gw: Obj, type_: str, status: str, reason: str, message: str, when: datetime) -> None:
    set_cond(gw["status"]["conditions"], condition(type_, status, reason, message, when,
                                                   observed_generation=gw["metadata"]["generation"]))


def listener_status(gw: Obj, name: str) -> Obj:
    return next(s for s in gw["status"]["listeners"] if s["name"] == name)


def route_parent(r: Obj, section: str | None) -> Obj:
    return next(p for p in r["status"]["parents"] if p["parentRef"].get("sectionName") == section)


def set_route_parent(r: Obj, section: str | None, *, accepted: tuple[str, str, str] | None = None,
                     resolved: tuple[str, str, str] | None = None, when: datetime | None = None) -> None:
    """Rewrite one status.parents entry as Envoy Gateway computes it for the route's current generation."""
    p = route_parent(r, section)
    gen = r["metadata"]["generation"]
    new = gwlib.route_parent_status(p["parentRef"], when or ago(minutes=20), gen, accepted=accepted, resolved=resolved)
    p.clear()
    p.update(new)


def change_route_spec(r: Obj) -> None:
    """A spec edit: generation +1; the controller rewrites every parent for the new generation."""
    bump(r, generation=True)
    gen = r["metadata"]["generation"]
    for p in r["status"]["parents"]:
        for c in p["conditions"]:
            c["observedGeneration"] = gen


def change_gateway_spec(gw: Obj) -> None:
    bump(gw, generation=True)
    gen = gw["metadata"]["generation"]
    for c in gw["status"]["conditions"]:
        c["observedGeneration"] = gen
    for ls in gw["status"]["listeners"]:
        for c in ls["conditions"]:
            c["observedGeneration"] = gen


def crashloop(b: PlatformBuilder, pod: Obj, container: str, *, exit_code: int = 1, restarts: int = 9,
              log: str | None = None) -> None:
    """kubelet's view of a container in CrashLoopBackOff (synth.faults), with its previous log."""
    faults.crashloop(b, pod, container, exit_code=exit_code, previous_log=log, restarts=restarts,
                     since=timedelta(minutes=30))


def workload_pods(b: PlatformBuilder, ns: str, name: str, kind: str = "Deployment") -> list[Obj]:
    return scenario.live_pods(b, kind, name, ns)


# ----------------------------------------------------------------------------------------------- GatewayClass


def gatewayclass_unclaimed(b: PlatformBuilder) -> None:
    """The class was created with a misspelt controllerName: no controller ever touched it, its Gateway or
    the routes (CRD defaults everywhere), and Envoy Gateway created no proxy."""
    b.refresh()
    gc = b.require("GatewayClass", None, "envoy-gateway")
    gc["spec"]["controllerName"] = "gateway.envoyproxy.io/gateway-controller"
    gc["status"] = {"conditions": [condition("Accepted", "Unknown", "Pending", "Waiting for controller", EPOCH)]}
    gw = gateway(b)
    gw["status"] = {"conditions": [
        condition("Accepted", "Unknown", "Pending", "Waiting for controller", EPOCH),
        condition("Programmed", "Unknown", "Pending", "Waiting for controller", EPOCH),
    ]}
    for r in b.list("HTTPRoute"):
        r["status"] = {"parents": []}
    for e in b.list("EnvoyPatchPolicy"):
        e["status"] = {"ancestors": []}
    w = b.workload("Deployment", EG_NS, PROXY)
    for obj in [w.controller, *w.pods, *([w.replicaset] if w.replicaset else []), *w.old_replicasets, *w.services,
                *w.endpointslices, *w.endpoints_list, *([w.service_account] if w.service_account else [])]:
        b.remove(obj)
    for pdb in b.list("PodDisruptionBudget", EG_NS):
        b.remove(pdb)
    for ev in [e for e in b.list("Event", EG_NS) if PROXY in e["involvedObject"].get("name", "")]:
        b.remove(ev)
    b.workloads.remove(w)


def gatewayclass_invalid_parameters(b: PlatformBuilder) -> None:
    """The EnvoyProxy the class references was deleted: Envoy Gateway rejects the class and stops
    processing its Gateways (their status is left as it was)."""
    b.refresh()
    b.remove(b.require("EnvoyProxy", EG_NS, "envoy-proxy-config"))
    gc = b.require("GatewayClass", None, "envoy-gateway")
    set_cond(gc["status"]["conditions"], condition(
        "Accepted", "False", "InvalidParameters",
        'Invalid parametersRef: envoyproxy referenced by gatewayclass is not found: envoyproxies.gateway.envoyproxy.io '
        '"envoy-proxy-config" not found', ago(minutes=12), observed_generation=gc["metadata"]["generation"]))


# ----------------------------------------------------------------------------------------------- Gateway


def gateway_no_address(b: PlatformBuilder) -> None:
    """The cloud load balancer for the proxy Service could not be created: no ingress IP, so Envoy
    Gateway reports AddressNotAssigned."""
    b.refresh()
    svc = b.require("Service", EG_NS, PROXY)
    svc["status"] = {"loadBalancer": {}}
    b.add_event(svc, "EnsuringLoadBalancer", "Ensuring load balancer", count=14, component="service-controller")
    b.add_event(svc, "SyncLoadBalancerFailed",
                'Error syncing load balancer: failed to ensure load balancer: failed to ensure a static IP for load '
                'balancer (a1b2c3): requested address IP 203.0.113.10 is neither static nor assigned to the LB',
                "Warning", count=14, component="service-controller")
    gw = gateway(b)
    gw["status"].pop("addresses", None)
    gw_cond(gw, "Programmed", "False", "AddressNotAssigned", "No addresses have been assigned to the Gateway", ago(minutes=35))


def proxy_crashloop(b: PlatformBuilder) -> None:
    """Every Envoy proxy pod crash-loops: the Deployment has 0 available and the Gateway reports NoResources."""
    for pod in workload_pods(b, EG_NS, PROXY):
        crashloop(b, pod, "envoy", exit_code=1, log=(
            "[2026-11-26 09:57:21.114][1][critical][main] [source/server/server.cc:131] error initializing "
            "configuration '/config/envoy.json': Unable to parse JSON as proto (INVALID_ARGUMENT: invalid JSON in "
            "envoy.config.bootstrap.v3.Bootstrap @ admin.address.socket_address.port_value: "
            "invalid value 190000 for type TYPE_UINT32)\n"
            "[2026-11-26 09:57:21.114][1][info][main] [source/server/server.cc:1002] exiting\n"))
    b.refresh()
    gw_cond(gateway(b), "Programmed", "False", "NoResources", "Envoy replicas unavailable", ago(minutes=28))


def controller_crashloop(b: PlatformBuilder) -> None:
    """The Envoy Gateway controller crash-loops (bad config file); a route created since has no status."""
    for pod in workload_pods(b, EG_NS, "envoy-gateway"):
        crashloop(b, pod, "envoy-gateway", log=(
            '2026-11-26T09:57:40.512Z\tERROR\tcmd/server.go:53\tfailed to load config\t{"error": '
            '"failed to decode EnvoyGateway config: strict decoding error: unknown field \\"extensionApi\\""}\n'))
    b.refresh()
    r = copy.deepcopy(route(b, "lfh-staging", "api"))
    md = r["metadata"]
    md["name"], md["namespace"] = "docs", "lfh-staging"
    md["uid"] = "6d2c62d4-5a47-4d8e-9b1e-5d0c4f8e7a10"
    md["creationTimestamp"] = ts(ago(minutes=10))
    r["spec"]["hostnames"] = ["docs.stg.localfirsthealth.com"]
    r["status"] = {"parents": []}
    b.add(r)


def listener_cert_missing(b: PlatformBuilder, cert_name: str = "stg-localfirsthealth-wildcard",
                          listener: str = "https-lfh-stg") -> None:
    """The wildcard TLS Secret of a listener is gone and cert-manager cannot re-issue it: its DNS-01
    challenge is refused by Cloudflare (invalid token). The listener loses its certificate
    (InvalidCertificateRef) and routes attached only to it are not accepted (NoReadyListeners)."""
    from synth import certmanager as cm

    b.refresh()
    cert = b.require("Certificate", GW_NS, cert_name)
    secret_name = cert["spec"]["secretName"]
    b.remove(b.require("Secret", GW_NS, secret_name))
    since = ago(minutes=45)
    gen = cert["metadata"]["generation"]
    cert["status"]["conditions"] = [
        condition("Ready", "False", "DoesNotExist", "Issuing certificate as Secret does not exist", since,
                  observed_generation=gen),
        condition("Issuing", "True", "DoesNotExist", "Issuing certificate as Secret does not exist", since,
                  observed_generation=gen),
    ]
    for k in ("notAfter", "notBefore", "renewalTime"):
        cert["status"].pop(k, None)
    revision = cert["status"]["revision"] + 1
    cr = b.add(cm.certificate_request(cert, revision, since + timedelta(seconds=2), ready=False))
    order = b.add(cm.order(cr, cert["spec"]["dnsNames"], since + timedelta(seconds=3), state="pending"))
    issuer = b.require("ClusterIssuer", None, cert["spec"]["issuerRef"]["name"])
    solver = issuer["spec"]["acme"]["solvers"][0]
    for dns in cert["spec"]["dnsNames"]:
        b.add(cm.challenge(order, dns, solver, since + timedelta(seconds=4), state="pending", presented=False, reason=(
            'Error getting Cloudflare zone ID: Cloudflare API Error for GET "/zones?name=stg.localfirsthealth.com"\n'
            " Error: 9109: Invalid access token")))
    gw = gateway(b)
    ls = listener_status(gw, listener)
    g = gw["metadata"]["generation"]
    ls["conditions"] = [
        condition("ResolvedRefs", "False", "InvalidCertificateRef", f"Secret {GW_NS}/{secret_name} does not exist.",
                  since, observed_generation=g),
        condition("Programmed", "False", "Invalid", "Listener is invalid, see other Conditions for details.", since,
                  observed_generation=g),
    ]
    for r in b.list("HTTPRoute"):
        for p in r["status"]["parents"]:
            if p["parentRef"].get("sectionName") == listener:
                set_route_parent(r, listener, accepted=("False", "NoReadyListeners",
                                                        "There are no ready listeners for this parent ref"), when=since)
                ls["attachedRoutes"] = ls.get("attachedRoutes", 0)  # still counted: allowed by kind and namespace


# ----------------------------------------------------------------------------------------------- HTTPRoute


def route_section(b: PlatformBuilder, ns: str, name: str, index: int, section: str,
                  accepted: tuple[str, str, str] | None, *, status: bool = True) -> Obj:
    """Edit parentRefs[index].sectionName; the controller then writes `accepted` for that parent
    (None: Accepted=True). status=False: the controller has not processed the new generation yet."""
    b.refresh()
    r = route(b, ns, name)
    old = r["spec"]["parentRefs"][index].get("sectionName")
    if status:
        change_route_spec(r)
    else:
        bump(r, generation=True)
    r["spec"]["parentRefs"][index]["sectionName"] = section
    p = route_parent(r, old)
    if status:
        p["parentRef"]["sectionName"] = section
        set_route_parent(r, section, accepted=accepted)
    return r


def route_hostnames(b: PlatformBuilder, ns: str, name: str, hostnames: list[str],
                    accepted: dict[str, tuple[str, str, str]] | None = None) -> Obj:
    b.refresh()
    r = route(b, ns, name)
    change_route_spec(r)
    r["spec"]["hostnames"] = hostnames
    for section, acc in (accepted or {}).items():
        set_route_parent(r, section, accepted=acc)
    return r


def route_wrong_gateway(b: PlatformBuilder, ns: str, name: str, gateway_name: str) -> Obj:
    """parentRefs name a Gateway that does not exist: Envoy Gateway never writes status for them."""
    b.refresh()
    r = route(b, ns, name)
    bump(r, generation=True)
    for ref in r["spec"]["parentRefs"]:
        ref["name"] = gateway_name
    r["status"] = {"parents": []}
    return r


def listeners_same_namespace(b: PlatformBuilder, listeners: tuple[str, ...]) -> None:
    """allowedRoutes.namespaces.from: Same on some listeners: routes from tenant namespaces are refused."""
    b.refresh()
    gw = gateway(b)
    change_gateway_spec(gw)
    for lst in gw["spec"]["listeners"]:
        if lst["name"] in listeners:
            lst["allowedRoutes"]["namespaces"]["from"] = "Same"
    for r in b.list("HTTPRoute"):
        if r["metadata"]["namespace"] == GW_NS:
            continue
        for p in r["status"]["parents"]:
            if p["parentRef"].get("sectionName") in listeners:
                set_route_parent(r, p["parentRef"]["sectionName"], accepted=(
                    "False", "NotAllowedByListeners", "No listeners included by this parent ref allowed this attachment."))
    for ls in gw["status"]["listeners"]:
        if ls["name"] in listeners:
            ls["attachedRoutes"] = 0


def route_backend(b: PlatformBuilder, ns: str, name: str, *, service: str | None = None, port: int | None = None,
                  resolved: tuple[str, str, str]) -> Obj:
    b.refresh()
    r = route(b, ns, name)
    change_route_spec(r)
    ref = r["spec"]["rules"][0]["backendRefs"][0]
    if service:
        ref["name"] = service
    if port:
        ref["port"] = port
    for p in r["status"]["parents"]:
        set_route_parent(r, p["parentRef"].get("sectionName"), resolved=resolved)
    return r


def reference_grant_deleted(b: PlatformBuilder, grant_ns: str, route_ns: str, route_name: str, service: str) -> None:
    b.refresh()
    b.remove(b.require("ReferenceGrant", grant_ns, f"allow-{GW_NS}-routes"))
    r = route(b, route_ns, route_name)
    for p in r["status"]["parents"]:
        set_route_parent(r, p["parentRef"].get("sectionName"), resolved=(
            "False", "RefNotPermitted", f"Backend ref to Service {grant_ns}/{service} not permitted by any ReferenceGrant."))


def backend_crashloop(b: PlatformBuilder, ns: str, name: str = "api") -> list[Obj]:
    pods = workload_pods(b, ns, name)
    for pod in pods:
        crashloop(b, pod, pod["spec"]["containers"][0]["name"], log=(
            '{"level":30,"time":1795600651000,"pid":1,"msg":"Loading configuration"}\n'
            '{"level":60,"time":1795600651900,"pid":1,'
            '"msg":"MongoServerSelectionError: connect ECONNREFUSED 10.96.120.17:27017"}\n'
            '{"level":60,"time":1795600651905,"pid":1,"msg":"Application failed to start, exiting"}\n'))
    b.refresh()
    return pods


# ----------------------------------------------------------------------------------------------- EnvoyPatchPolicy


def patch_policy_disabled(b: PlatformBuilder) -> None:
    """EnvoyPatchPolicy switched off in the EnvoyGateway config (extensionApis dropped on a Helm upgrade)."""
    b.refresh()
    cm = b.require("ConfigMap", EG_NS, "envoy-gateway-config")
    text = cm["data"]["envoy-gateway.yaml"]
    cm["data"]["envoy-gateway.yaml"] = text.replace("extensionApis:\n  enableEnvoyPatchPolicy: true\n", "")
    epp = b.require("EnvoyPatchPolicy", GW_NS, "max-request-headers")
    anc = epp["status"]["ancestors"][0]
    anc["conditions"] = [condition("Accepted", "False", "Disabled",
                                   "EnvoyPatchPolicy is disabled in the EnvoyGateway configuration", ago(hours=3),
                                   observed_generation=epp["metadata"]["generation"])]


def patch_policy_resource_not_found(b: PlatformBuilder) -> None:
    """The policy patches an xDS listener name that does not exist (written for a renamed listener)."""
    b.refresh()
    epp = b.require("EnvoyPatchPolicy", GW_NS, "max-request-headers")
    bump(epp, generation=True)
    gen = epp["metadata"]["generation"]
    epp["spec"]["jsonPatches"][1]["name"] = f"{GW_NS}/{GW}/https-main"
    anc = epp["status"]["ancestors"][0]
    anc["conditions"] = [
        condition("Accepted", "True", "Accepted", "Policy has been accepted.", ago(hours=2), observed_generation=gen),
        # Envoy Gateway writes Programmed with observedGeneration 0, which JSON omits
        condition("Programmed", "False", "ResourceNotFound",
                  f"Unable to find xds resources: {GW_NS}/{GW}/https-main", ago(hours=2)),
    ]


def patch_policy_wrong_target(b: PlatformBuilder) -> None:
    """targetRef points at the GatewayClass while mergeGateways is off: the policy is rejected (Invalid)."""
    b.refresh()
    epp = b.require("EnvoyPatchPolicy", GW_NS, "max-request-headers")
    bump(epp, generation=True)
    gen = epp["metadata"]["generation"]
    epp["spec"]["targetRef"] = {"group": "gateway.networking.k8s.io", "kind": "GatewayClass", "name": "envoy-gateway"}
    anc = epp["status"]["ancestors"][0]
    anc["ancestorRef"]["name"] = "envoy-gateway"
    anc["conditions"] = [condition(
        "Accepted", "False", "Invalid",
        "TargetRef.Group:gateway.networking.k8s.io TargetRef.Kind:GatewayClass, only "
        "TargetRef.Group:gateway.networking.k8s.io and TargetRef.Kind:Gateway is supported.",
        ago(minutes=50), observed_generation=gen)]


def patch_policy_patch_failed(b: PlatformBuilder) -> None:
    """The JSON patch does not apply to the generated listener (bad path): Programmed=False, Invalid."""
    b.refresh()
    epp = b.require("EnvoyPatchPolicy", GW_NS, "max-request-headers")
    bump(epp, generation=True)
    gen = epp["metadata"]["generation"]
    epp["spec"]["jsonPatches"][0]["operation"]["path"] = "/default_filter_chain/filters/3/typed_config/max_request_headers_kb"
    anc = epp["status"]["ancestors"][0]
    anc["conditions"] = [
        condition("Accepted", "True", "Accepted", "Policy has been accepted.", ago(minutes=50), observed_generation=gen),
        condition("Programmed", "False", "Invalid",
                  "unable to apply patch:\nerror in add for path: '/default_filter_chain/filters/3/typed_config/"
                  "max_request_headers_kb': Unable to access invalid index: 3", ago(minutes=50)),
    ]
