"""Services, the EndpointSlices and Endpoints the control plane derives from pods, and NetworkPolicies.

Endpoint objects are recomputed from pod readiness (`endpoints_for`) so a fault that makes a pod
unready shows up in the slice exactly as the EndpointSlice controller would publish it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from synth.meta import bump, new_object, owner_reference, safe_suffix, ts
from synth.pods import is_ready, is_terminal

ServicePort = (
    tuple[str, int] | tuple[str, int, int | str] | tuple[str, int, int | str, str] | Mapping[str, Any]
)


def _svc_port(p: ServicePort) -> dict[str, Any]:
    if isinstance(p, Mapping):
        out = dict(p)
        out.setdefault("protocol", "TCP")
        out.setdefault("targetPort", out["port"])
        return out
    name, port, *rest = p
    target = rest[0] if rest else port
    proto = rest[1] if len(rest) > 1 else "TCP"
    return {"name": name, "port": port, "protocol": proto, "targetPort": target}


def service(
    namespace_: str,
    name: str,
    selector: Mapping[str, str] | None,
    ports: Sequence[ServicePort],
    created: datetime,
    *,
    cluster_ip: str | None,
    type_: str = "ClusterIP",
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    headless: bool = False,
    publish_not_ready: bool = False,
    load_balancer_ip: str | None = None,
    external_traffic_policy: str = "Cluster",
    node_ports: Sequence[int] = (),
    health_check_node_port: int | None = None,
    owners: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    obj = new_object(
        "Service", name, namespace_, created, labels=labels, annotations=annotations, owners=owners or []
    )
    port_list = [_svc_port(p) for p in ports]
    spec: dict[str, Any] = {}
    if type_ == "LoadBalancer":
        spec["allocateLoadBalancerNodePorts"] = True
        for p, np in zip(port_list, node_ports):
            p["nodePort"] = np
    ip = "None" if headless else cluster_ip
    spec["clusterIP"] = ip
    spec["clusterIPs"] = [ip]
    if type_ in ("LoadBalancer", "NodePort"):
        spec["externalTrafficPolicy"] = external_traffic_policy
        if external_traffic_policy == "Local" and health_check_node_port:
            spec["healthCheckNodePort"] = health_check_node_port
    spec["internalTrafficPolicy"] = "Cluster"
    spec["ipFamilies"] = ["IPv4"]
    spec["ipFamilyPolicy"] = "SingleStack"
    spec["ports"] = port_list
    if publish_not_ready:
        spec["publishNotReadyAddresses"] = True
    if selector:
        spec["selector"] = dict(selector)
    spec["sessionAffinity"] = "None"
    spec["type"] = type_
    obj["spec"] = spec
    lb: dict[str, Any] = {}
    if type_ == "LoadBalancer" and load_balancer_ip:
        lb = {"ingress": [{"ip": load_balancer_ip, "ipMode": "VIP"}]}
    obj["status"] = {"loadBalancer": lb}
    return obj


def _resolve_port(target: int | str, pod: dict[str, Any]) -> int | None:
    if isinstance(target, int):
        return target
    for c in pod["spec"]["containers"]:
        for p in c.get("ports", []):
            if p.get("name") == target:
                return p["containerPort"]
    return None


def _eligible(
    svc: dict[str, Any], pods: Iterable[dict[str, Any]], terminating: bool = False
) -> list[dict[str, Any]]:
    """Pods with an IP that the endpoint controllers publish (slices also keep terminating ones)."""
    return [
        p
        for p in pods
        if not is_terminal(p)
        and p.get("status", {}).get("podIP")
        and (terminating or not p["metadata"].get("deletionTimestamp"))
    ]


def endpoint_slice(svc: dict[str, Any], pods: Iterable[dict[str, Any]], changed: datetime) -> dict[str, Any]:
    """The EndpointSlice the endpointslice controller keeps for a selector Service."""
    md = svc["metadata"]
    name = f"{md['name']}-{safe_suffix('eps', md['namespace'], md['name'])}"
    labels = {
        **md.get("labels", {}),
        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
        "kubernetes.io/service-name": md["name"],
    }
    if svc["spec"].get("clusterIP") == "None":
        labels["service.kubernetes.io/headless"] = ""
    created = datetime.fromisoformat(md["creationTimestamp"])
    obj = new_object(
        "EndpointSlice",
        name,
        md["namespace"],
        created,
        labels=labels,
        annotations={"endpoints.kubernetes.io/last-change-trigger-time": ts(changed)},
        owners=[owner_reference(svc)],
        generate_name=f"{md['name']}-",
    )
    obj["addressType"] = "IPv4"
    fill_endpoint_slice(obj, svc, pods, changed)
    return obj


def fill_endpoint_slice(
    obj: dict[str, Any], svc: dict[str, Any], pods: Iterable[dict[str, Any]], changed: datetime | None = None
) -> None:
    publish = bool(svc["spec"].get("publishNotReadyAddresses"))
    endpoints = []
    pod_list = _eligible(svc, pods, terminating=True)
    for p in sorted(pod_list, key=lambda x: x["status"]["podIP"]):
        ready = is_ready(p)
        terminating = bool(p["metadata"].get("deletionTimestamp"))
        ep: dict[str, Any] = {
            "addresses": [p["status"]["podIP"]],
            "conditions": {
                "ready": (ready or publish) and not terminating,
                "serving": ready or publish,
                "terminating": terminating,
            },
        }
        if svc["spec"].get("clusterIP") == "None":
            ep["hostname"] = p["spec"].get("hostname") or p["metadata"]["name"]
        if p["spec"].get("nodeName"):
            ep["nodeName"] = p["spec"]["nodeName"]
        ep["targetRef"] = {
            "kind": "Pod",
            "name": p["metadata"]["name"],
            "namespace": p["metadata"]["namespace"],
            "uid": p["metadata"]["uid"],
        }
        endpoints.append(ep)
    before = (obj.get("endpoints"), obj.get("ports"))
    obj["endpoints"] = endpoints or None
    ports = []
    for sp in svc["spec"]["ports"]:
        resolved = next((r for r in (_resolve_port(sp["targetPort"], p) for p in pod_list) if r), None)
        if resolved is None and not pod_list:
            resolved = sp["targetPort"] if isinstance(sp["targetPort"], int) else None
        if resolved is None:
            continue
        ep_port = {"port": resolved, "protocol": sp.get("protocol", "TCP")}
        if sp.get("name"):
            ep_port = {"name": sp["name"], **ep_port}
        if sp.get("appProtocol"):
            ep_port["appProtocol"] = sp["appProtocol"]
        ports.append(ep_port)
    obj["ports"] = ports or None
    if changed is not None and before != (obj["endpoints"], obj["ports"]) and before != (None, None):
        obj["metadata"].setdefault("annotations", {})["endpoints.kubernetes.io/last-change-trigger-time"] = (
            ts(changed)
        )
        bump(obj, generation=True)


def endpoints(svc: dict[str, Any], pods: Iterable[dict[str, Any]], changed: datetime) -> dict[str, Any]:
    """core/v1 Endpoints (still maintained in 1.32, read by older tools)."""
    md = svc["metadata"]
    created = datetime.fromisoformat(md["creationTimestamp"])
    labels = dict(md.get("labels") or {})
    if svc["spec"].get("clusterIP") == "None":
        labels["service.kubernetes.io/headless"] = ""
    obj = new_object(
        "Endpoints",
        md["name"],
        md["namespace"],
        created,
        labels=labels or None,
        annotations={"endpoints.kubernetes.io/last-change-trigger-time": ts(changed)},
    )
    fill_endpoints(obj, svc, pods, changed)
    return obj


def fill_endpoints(
    obj: dict[str, Any], svc: dict[str, Any], pods: Iterable[dict[str, Any]], changed: datetime | None = None
) -> None:
    publish = bool(svc["spec"].get("publishNotReadyAddresses"))
    ready, not_ready = [], []
    pod_list = _eligible(svc, pods)
    for p in sorted(pod_list, key=lambda x: x["status"]["podIP"]):
        addr: dict[str, Any] = {}
        if svc["spec"].get("clusterIP") == "None":
            addr["hostname"] = p["spec"].get("hostname") or p["metadata"]["name"]
        addr["ip"] = p["status"]["podIP"]
        if p["spec"].get("nodeName"):
            addr["nodeName"] = p["spec"]["nodeName"]
        addr["targetRef"] = {
            "kind": "Pod",
            "name": p["metadata"]["name"],
            "namespace": p["metadata"]["namespace"],
            "uid": p["metadata"]["uid"],
        }
        (ready if (is_ready(p) or publish) else not_ready).append(addr)
    before = obj.get("subsets")
    subsets = []
    if ready or not_ready:
        subset: dict[str, Any] = {}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        ports = []
        for sp in svc["spec"]["ports"]:
            resolved = next((r for r in (_resolve_port(sp["targetPort"], p) for p in pod_list) if r), None)
            if resolved is None:
                continue
            port = {"port": resolved, "protocol": sp.get("protocol", "TCP")}
            if sp.get("name"):
                port = {"name": sp["name"], **port}
            ports.append(port)
        subset["ports"] = ports
        subsets.append(subset)
    if subsets:
        obj["subsets"] = subsets
    else:
        obj.pop("subsets", None)
    if changed is not None and before != obj.get("subsets") and before is not None:
        obj["metadata"].setdefault("annotations", {})["endpoints.kubernetes.io/last-change-trigger-time"] = (
            ts(changed)
        )
        bump(obj)


def network_policy(
    namespace_: str,
    name: str,
    created: datetime,
    *,
    pod_selector: Mapping[str, Any] | None = None,
    ingress: list[dict[str, Any]] | None = None,
    egress: list[dict[str, Any]] | None = None,
    policy_types: Sequence[str] = ("Ingress",),
    labels: Mapping[str, str] | None = None,
) -> dict:
    obj = new_object("NetworkPolicy", name, namespace_, created, labels=labels)
    spec: dict[str, Any] = {}
    if egress is not None:
        spec["egress"] = egress
    if ingress is not None:
        spec["ingress"] = ingress
    spec["podSelector"] = dict(pod_selector or {})
    spec["policyTypes"] = list(policy_types)
    obj["spec"] = spec
    return obj


def ns_selector(namespace_: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace_}}}


def np_ports(*ports: int | tuple[int, str]) -> list[dict[str, Any]]:
    out = []
    for p in ports:
        port, proto = (p, "TCP") if isinstance(p, int) else p
        out.append({"port": port, "protocol": proto})
    return out
