"""Reachability from the gateway (issue 17): ingress NetworkPolicies evaluated between a Gateway's Envoy
proxy pods and each routed backend (podSelector, namespaceSelector with the namespace's labels, ports).

The healthy platform admits the proxies (namespace envoy-gateway-system) on 8080 to each tenant's api; the
fault rewrites that policy to admit the tenant's own namespace only, and the proxies log 503 UF for the
route as Envoy Gateway's JSON access log writes them.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import depth_faults as D
import pytest
from scenario import TENANT, Scenario, descendants, has

from sre_expert.diagnosis.engine import diagnose
from sre_expert.domain.isolation import isolated_backends, isolation_evidence
from sre_expert.sources.memory import snapshot_from_objects

pytestmark = pytest.mark.scenario

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
H = Scenario(NOW, areas=("netpol", "gateway", "services", "pods"), refresh=False)
platform, run, dump, serious, one, only_root = H.platform, H.run, H.dump, H.serious, H.one, H.only_root


def test_healthy_platform_routes_reach_their_backends() -> None:
    b = platform()
    report = run(b)
    assert not [f for f in report.findings if f.code in ("NETPOL-GATEWAY-BLOCKED", "ROUTE-UPSTREAM-UNREACHABLE")]


def test_same_namespace_only_policy_is_the_root_with_the_route_under_it() -> None:
    b = platform()
    D.gateway_ingress_same_namespace_only(b)
    report = run(b)
    root = only_root(report, "NETPOL-GATEWAY-BLOCKED", "NetworkPolicy", "allow-from-gateway", TENANT)
    assert serious(report)[0] is root and root.severity == "critical"
    assert has(root.evidence, "allow-from-gateway", "from podSelector {} (same namespace) on 8080/TCP")
    assert has(root.evidence, "namespace envoy-gateway-system", "port http (8080)/TCP")
    assert has(root.evidence, "503 UF GET api.mycure.md/v1/patients", "connection_timeout")
    route = one(report, "ROUTE-UPSTREAM-UNREACHABLE", "api", TENANT)
    assert route.object.kind == "HTTPRoute" and route.id in descendants(report, root)
    assert "8 request(s) answered 503" in route.title
    cmd = root.remediation[-1].command or ""
    assert '"kubernetes.io/metadata.name":"envoy-gateway-system"' in cmd and '"port":8080' in cmd


def test_a_namespace_selector_on_the_proxies_namespace_labels_admits_them() -> None:
    """A custom label on the proxies' namespace, selected by the policy: reachable."""
    b = platform()
    D.gateway_ingress_same_namespace_only(b)
    b.require("Namespace", "", "envoy-gateway-system")["metadata"]["labels"]["platform.mycure.md/role"] = "ingress"
    pol = b.require("NetworkPolicy", TENANT, "allow-from-gateway")
    pol["spec"]["ingress"][0]["from"].append({"namespaceSelector": {"matchLabels": {"platform.mycure.md/role": "ingress"}},
                                              "podSelector": {"matchLabels": {"app.kubernetes.io/component": "proxy"}}})
    report = run(b)
    assert not [f for f in report.findings if f.code == "NETPOL-GATEWAY-BLOCKED"], dump(report)


def test_the_wrong_port_still_isolates() -> None:
    b = platform()
    pol = b.require("NetworkPolicy", TENANT, "allow-from-gateway")
    pol["spec"]["ingress"][0]["ports"] = [{"port": 8443, "protocol": "TCP"}]
    report = run(b)
    f = one(report, "NETPOL-GATEWAY-BLOCKED", "allow-from-gateway", TENANT)
    assert has(f.evidence, "namespaceSelector kubernetes.io/metadata.name=envoy-gateway-system on 8443/TCP")
    route = one(report, "ROUTE-UPSTREAM-UNREACHABLE", "api", TENANT)  # no 503 logged yet: the policy alone
    assert route.id in f.causes and "503" not in route.title


def test_unread_proxy_namespace_is_not_judged() -> None:
    """Without the Namespace objects the proxies' namespace labels are unknown: no isolation is concluded."""
    b = platform()
    D.gateway_ingress_same_namespace_only(b)
    pol = b.require("NetworkPolicy", TENANT, "allow-from-gateway")
    pol["spec"]["ingress"][0]["from"] = [{"namespaceSelector": {"matchLabels": {"team": "edge"}}}]
    objs = [o for o in copy.deepcopy(b.objects) if o["kind"] != "Namespace"]
    snap = snapshot_from_objects(objs, NOW, logs=dict(b.logs), collection_errors=[{"kind": "Namespace", "error": "forbidden"}])
    report = diagnose(snap)
    assert not [f for f in report.findings if f.code == "NETPOL-GATEWAY-BLOCKED"]


def test_trace_can_ask_about_one_route() -> None:
    b = platform()
    D.gateway_ingress_same_namespace_only(b)
    snap = snapshot_from_objects(copy.deepcopy(b.objects), NOW, logs=dict(b.logs))
    route = snap.get("HTTPRoute", TENANT, "api")
    isos = isolated_backends(snap, route)
    assert [(i.service["metadata"]["name"], len(i.pods), len(i.reachable)) for i in isos] == [("api", 2, 0)]
    assert has(isolation_evidence(snap, isos[0]), "2 of 2 pod(s) unreachable from the gateway")
    assert isolated_backends(snap, snap.get("HTTPRoute", "lfh-staging", "api")) == []


def test_trace_stops_at_the_service_hop_with_the_isolating_policy() -> None:
    from sre_expert.diagnosis.trace import trace

    b = platform()
    D.gateway_ingress_same_namespace_only(b)
    snap = snapshot_from_objects(copy.deepcopy(b.objects), NOW, logs=dict(b.logs))
    res = trace(snap, "api.mycure.md")
    hop = res.broken_hop
    assert hop is not None and hop.name == "service", [(h.name, h.status) for h in res.hops]
    assert has(hop.evidence, "NetworkPolicy allow-from-gateway", "from podSelector {} (same namespace)")
    healthy = trace(snapshot_from_objects(copy.deepcopy(platform().objects), NOW), "api.mycure.md")
    assert healthy.broken_hop is None
