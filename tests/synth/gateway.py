"""Gateway API and Envoy Gateway resources with the status Envoy Gateway v1.2 writes.

Status messages are Envoy Gateway's own strings because the
gateway checks and `trace` key on them. `refresh_gateway_status` recounts listener attachedRoutes
from the HTTPRoutes' accepted parents, as the controller does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from synth.meta import condition, hex_id, new_object

GW_API = "gateway.networking.k8s.io/v1"
GW_GROUP = "gateway.networking.k8s.io"
EG_API = "gateway.envoyproxy.io/v1alpha1"
CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller"


def gateway_class(
    name: str,
    created: datetime,
    *,
    parameters_ref: Mapping[str, str] | None = None,
    accepted: bool = True,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    obj = new_object("GatewayClass", name, None, created, api_version=GW_API, labels=labels)
    spec: dict[str, Any] = {"controllerName": CONTROLLER}
    if parameters_ref:
        spec["parametersRef"] = dict(parameters_ref)
    obj["spec"] = spec
    when = created
    obj["status"] = {
        "conditions": [
            condition("Accepted", "True", "Accepted", "Valid GatewayClass", when, observed_generation=1)
            if accepted
            else condition(
                "Accepted",
                "Unknown",
                "Pending",
                "Waiting for controller",
                datetime.fromtimestamp(0).astimezone(),
            )
        ]
    }
    return obj


def envoy_proxy(
    namespace: str,
    name: str,
    created: datetime,
    *,
    lb_annotations: Mapping[str, str] | None = None,
    replicas: int = 2,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """EnvoyProxy (GatewayClass parametersRef): replicas and LoadBalancer annotations of the data plane."""
    obj = new_object("EnvoyProxy", name, namespace, created, api_version=EG_API, labels=labels)
    service: dict[str, Any] = {"type": "LoadBalancer", "externalTrafficPolicy": "Local"}
    if lb_annotations:
        service["annotations"] = dict(lb_annotations)
    obj["spec"] = {
        "logging": {"level": {"default": "warn"}},
        "provider": {
            "kubernetes": {
                "envoyDeployment": {
                    "replicas": replicas,
                    "container": {
                        "resources": {
                            "limits": {"memory": "1Gi"},
                            "requests": {"cpu": "100m", "memory": "256Mi"},
                        }
                    },
                },
                "envoyService": service,
            },
            "type": "Kubernetes",
        },
    }
    obj["status"] = {}
    return obj


def listener(
    name: str,
    protocol: str,
    port: int,
    hostname: str | None,
    *,
    tls_secret: str | None = None,
    tls_namespace: str | None = None,
    from_: str = "All",
) -> dict[str, Any]:
    lst: dict[str, Any] = {"allowedRoutes": {"namespaces": {"from": from_}}}
    if hostname:
        lst["hostname"] = hostname
    lst.update({"name": name, "port": port, "protocol": protocol})
    if tls_secret:
        ref: dict[str, Any] = {"group": "", "kind": "Secret", "name": tls_secret}
        if tls_namespace:
            ref["namespace"] = tls_namespace
        lst["tls"] = {"certificateRefs": [ref], "mode": "Terminate"}
    return lst


def _listener_status(
    lst: Mapping[str, Any],
    attached: int,
    when: datetime,
    generation: int,
    resolved: tuple[str, str, str] | None = None,
) -> dict[str, Any]:
    kinds = [{"group": GW_GROUP, "kind": "HTTPRoute"}, {"group": GW_GROUP, "kind": "GRPCRoute"}]
    if resolved is None:
        programmed = ("True", "Programmed", "Sending translated listener configuration to the data plane")
        resolved = ("True", "ResolvedRefs", "Listener references have been resolved")
    else:
        programmed = ("False", "Invalid", "Listener is invalid, see other Conditions for details.")
    conds = [
        condition("Programmed", *programmed, when, observed_generation=generation),
        condition(
            "Accepted",
            "True",
            "Accepted",
            "Listener has been successfully translated",
            when,
            observed_generation=generation,
        ),
        condition("ResolvedRefs", *resolved, when, observed_generation=generation),
    ]
    return {"attachedRoutes": attached, "conditions": conds, "name": lst["name"], "supportedKinds": kinds}


def gateway(
    namespace: str,
    name: str,
    class_name: str,
    listeners: Sequence[dict[str, Any]],
    created: datetime,
    *,
    address: str | None,
    ready_replicas: int = 2,
    replicas: int = 2,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Gateway accepted and programmed by Envoy Gateway (attachedRoutes filled by refresh_gateway_status)."""
    obj = new_object(
        "Gateway", name, namespace, created, api_version=GW_API, labels=labels, annotations=annotations
    )
    obj["spec"] = {"gatewayClassName": class_name, "listeners": list(listeners)}
    gen = obj["metadata"]["generation"]
    programmed = (
        condition(
            "Programmed",
            "True",
            "Programmed",
            f"Address assigned to the Gateway, {ready_replicas}/{replicas} envoy replicas available",
            created,
            observed_generation=gen,
        )
        if address and ready_replicas
        else condition(
            "Programmed",
            "False",
            "AddressNotAssigned" if not address else "NoResources",
            "No addresses have been assigned to the Gateway" if not address else "Envoy replicas unavailable",
            created,
            observed_generation=gen,
        )
    )
    status: dict[str, Any] = {}
    if address:
        status["addresses"] = [{"type": "IPAddress", "value": address}]
    status["conditions"] = [
        condition(
            "Accepted",
            "True",
            "Accepted",
            "The Gateway has been scheduled by Envoy Gateway",
            created,
            observed_generation=gen,
        ),
        programmed,
    ]
    status["listeners"] = [_listener_status(lst, 0, created, gen) for lst in listeners]
    obj["status"] = status
    return obj


def parent_ref(gateway_namespace: str, gateway_name: str, section: str | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {
        "group": GW_GROUP,
        "kind": "Gateway",
        "name": gateway_name,
        "namespace": gateway_namespace,
    }
    if section:
        ref["sectionName"] = section
    return ref


def backend_ref(service: str, port: int, namespace: str | None = None, weight: int = 1) -> dict[str, Any]:
    ref: dict[str, Any] = {"group": "", "kind": "Service", "name": service}
    if namespace:
        ref["namespace"] = namespace
    ref.update({"port": port, "weight": weight})
    return ref


def route_parent_status(
    ref: Mapping[str, Any],
    when: datetime,
    generation: int,
    *,
    accepted: tuple[str, str, str] | None = None,
    resolved: tuple[str, str, str] | None = None,
) -> dict[str, Any]:
    a_status, a_reason, a_msg = accepted or ("True", "Accepted", "Route is accepted")
    r_status, r_reason, r_msg = resolved or (
        "True",
        "ResolvedRefs",
        "Resolved all the Object references for the Route",
    )
    return {
        "conditions": [
            condition("Accepted", a_status, a_reason, a_msg, when, observed_generation=generation),
            condition("ResolvedRefs", r_status, r_reason, r_msg, when, observed_generation=generation),
        ],
        "controllerName": CONTROLLER,
        "parentRef": dict(ref),
    }


def httproute(
    namespace: str,
    name: str,
    hostnames: Sequence[str],
    parents: Sequence[Mapping[str, Any]],
    backends: Sequence[Mapping[str, Any]],
    created: datetime,
    *,
    path: str = "/",
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """HTTPRoute accepted on every parent with resolved backends (one PathPrefix rule)."""
    obj = new_object(
        "HTTPRoute", name, namespace, created, api_version=GW_API, labels=labels, annotations=annotations
    )
    obj["spec"] = {
        "hostnames": list(hostnames),
        "parentRefs": [dict(p) for p in parents],
        "rules": [
            {
                "backendRefs": [dict(b) for b in backends],
                "matches": [{"path": {"type": "PathPrefix", "value": path}}],
            }
        ],
    }
    gen = obj["metadata"]["generation"]
    obj["status"] = {"parents": [route_parent_status(p, created, gen) for p in parents]}
    return obj


def reference_grant(
    namespace: str,
    name: str,
    from_namespace: str,
    created: datetime,
    *,
    from_kind: str = "HTTPRoute",
    to_kind: str = "Service",
    to_group: str = "",
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    obj = new_object(
        "ReferenceGrant",
        name,
        namespace,
        created,
        api_version="gateway.networking.k8s.io/v1beta1",
        labels=labels,
    )
    obj["spec"] = {
        "from": [{"group": GW_GROUP, "kind": from_kind, "namespace": from_namespace}],
        "to": [{"group": to_group, "kind": to_kind}],
    }
    return obj


def envoy_patch_policy(
    namespace: str,
    name: str,
    gateway_name: str,
    patches: Sequence[Mapping[str, Any]],
    created: datetime,
    *,
    programmed: bool = True,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    obj = new_object("EnvoyPatchPolicy", name, namespace, created, api_version=EG_API, labels=labels)
    obj["spec"] = {
        "jsonPatches": [dict(p) for p in patches],
        "priority": 0,
        "targetRef": {"group": GW_GROUP, "kind": "Gateway", "name": gateway_name},
        "type": "JSONPatch",
    }
    gen = obj["metadata"]["generation"]
    conds = [
        condition(
            "Accepted", "True", "Accepted", "Policy has been accepted.", created, observed_generation=gen
        )
    ]
    conds.append(
        condition(
            "Programmed",
            "True",
            "Programmed",
            "Patches have been successfully applied.",
            created,
            observed_generation=gen,
        )
        if programmed
        else condition(
            "Programmed",
            "False",
            "ResourceNotFound",
            "Unable to find xds resources: " + ", ".join(p["name"] for p in patches),
            created,
            observed_generation=gen,
        )
    )
    obj["status"] = {
        "ancestors": [
            {
                "ancestorRef": {
                    "group": GW_GROUP,
                    "kind": "Gateway",
                    "name": gateway_name,
                    "namespace": namespace,
                },
                "conditions": conds,
                "controllerName": CONTROLLER,
            }
        ]
    }
    return obj


def max_header_patches(
    gateway_namespace: str, gateway_name: str, listener_names: Iterable[str], kb: int = 96
) -> list[dict[str, Any]]:
    """JSON patches raising max_request_headers_kb on each xDS listener (one per port in EG 1.2)."""
    out = []
    for lname in listener_names:
        path = (
            "/default_filter_chain/filters/0/typed_config/max_request_headers_kb"
            if not lname.startswith("https")
            else "/filter_chains/0/filters/0/typed_config/max_request_headers_kb"
        )
        out.append(
            {
                "name": f"{gateway_namespace}/{gateway_name}/{lname}",
                "operation": {"op": "add", "path": path, "value": kb},
                "type": "type.googleapis.com/envoy.config.listener.v3.Listener",
            }
        )
    return out


def infra_name(gateway_namespace: str, gateway_name: str) -> str:
    """Name Envoy Gateway gives the proxy Deployment/Service of a Gateway (merged-gateways off)."""
    return f"envoy-{gateway_namespace}-{gateway_name}-{hex_id('infra', gateway_namespace, gateway_name, n=8)}"


def _hostname_matches(listener_host: str | None, route_hosts: Sequence[str]) -> bool:
    if not listener_host or not route_hosts:
        return True
    for h in route_hosts:
        if h == listener_host:
            return True
        if listener_host.startswith("*.") and h.endswith(listener_host[1:]) and h != listener_host[2:]:
            return True
        if h.startswith("*.") and listener_host.endswith(h[1:]):
            return True
    return False


def refresh_gateway_status(gateways: Iterable[dict[str, Any]], routes: Iterable[dict[str, Any]]) -> None:
    """Recount status.listeners[].attachedRoutes from routes whose parent status is Accepted."""
    routes = list(routes)
    for gw in gateways:
        gmd = gw["metadata"]
        counts = {lst["name"]: 0 for lst in gw["spec"]["listeners"]}
        for r in routes:
            for ps in r.get("status", {}).get("parents", []):
                ref = ps["parentRef"]
                if (
                    ref.get("name") != gmd["name"]
                    or ref.get("namespace", r["metadata"]["namespace"]) != gmd["namespace"]
                ):
                    continue
                if not any(c["type"] == "Accepted" and c["status"] == "True" for c in ps["conditions"]):
                    continue
                for lst in gw["spec"]["listeners"]:
                    if ref.get("sectionName") and ref["sectionName"] != lst["name"]:
                        continue
                    if _hostname_matches(lst.get("hostname"), r["spec"].get("hostnames", [])):
                        counts[lst["name"]] += 1
        for ls in gw.get("status", {}).get("listeners", []):
            ls["attachedRoutes"] = counts.get(ls["name"], 0)
