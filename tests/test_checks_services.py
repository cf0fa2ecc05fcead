"""Service and NetworkPolicy checks: one fault at a time on the healthy reference platform.

Faults are applied as the API server would show them (selectors, ports, endpoint slices re-derived by
the builder, status fields, controller events); each test asserts the finding (code, object, evidence),
how it links, and that nothing else of severity warning or above appears.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from scenario import Scenario, has, live_pods

from synth import faults
from synth import pods as podlib
from synth.builder import PlatformBuilder

pytestmark = pytest.mark.scenario

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
MYCURE = "mycure-production"
LFH = "lfh-staging"
MINE = ("SVC-", "NETPOL-")

Obj = dict[str, Any]


# --------------------------------------------------------------------------------------------- harness

H = Scenario(NOW, areas=("services", "netpol"), namespace=MYCURE)
platform, run, serious, dump, one, only_serious = H.platform, H.run, H.serious, H.dump, H.one, H.only_serious


def crashloop(b: PlatformBuilder, pod: Obj, log: str | None = None) -> None:
    faults.crashloop(b, pod, previous_log=log)


def service(b: PlatformBuilder, name: str, namespace: str = MYCURE) -> Obj:
    return b.require("Service", namespace, name)


# --------------------------------------------------------------------------------------------- healthy


def test_healthy_platform_has_no_service_or_networkpolicy_findings() -> None:
    report = run(platform())
    mine = [f for f in report.findings if f.code.startswith(MINE)]
    assert not mine, dump(report) or [f.title for f in mine]


# --------------------------------------------------------------------------------------------- services


def test_service_without_ready_endpoints_is_explained_by_its_crashing_pods() -> None:
    b = platform()
    pods = live_pods(b, "Deployment", "api")
    for p in pods:
        crashloop(b, p)
    report = run(b)
    svc = one(report, "SVC-NO-READY-ENDPOINTS", "api")
    assert svc.severity == "critical"
    assert has(svc.evidence, f"selects {len(pods)} pod(s), 0 Ready")
    assert has(svc.evidence, "EndpointSlices: 2 address(es), 0 ready")
    assert has(svc.evidence, "api waiting CrashLoopBackOff, 7 restarts")
    assert set(svc.depends_on) == {("Pod", MYCURE, p["metadata"]["name"]) for p in pods}
    # the pod finding speaks for the pods, so it is the cause and the Service is its symptom
    causes = [f for f in report.findings if f.id in svc.caused_by]
    assert causes and all(f.code.startswith("POD-") for f in causes), dump(report)
    assert not svc.root_cause
    only_serious(report, *causes)


def test_service_without_ready_endpoints_and_no_pod_finding_names_the_pods() -> None:
    """Pods that only just turned unready (no pod finding yet): the Service is the root, with pod states."""
    b = platform()
    pods = live_pods(b, "Deployment", "api")
    for p in pods:
        cs = podlib.container_status(p, "api")
        cs["ready"] = False
        podlib.refresh_readiness(p, NOW - timedelta(seconds=40))
    report = run(b)
    svc = one(report, "SVC-NO-READY-ENDPOINTS", "api")
    assert has(svc.evidence, "0 Ready") and has(svc.evidence, "Ready=False")
    assert [r.command for r in svc.remediation][0] == (
        f"kubectl get endpointslices -n {MYCURE} -l kubernetes.io/service-name=api -o wide"
    )


def test_selector_matching_no_pod() -> None:
    b = platform()
    svc = service(b, "api")
    svc["spec"]["selector"] = {**svc["spec"]["selector"], "app.kubernetes.io/name": "api-server"}
    report = run(b)
    f = one(report, "SVC-NO-MATCHING-PODS", "api")
    assert f.severity == "warning"
    assert has(f.evidence, "spec.selector: ") and has(f.evidence, "app.kubernetes.io/name=api-server")
    assert has(f.evidence, f"0 pods in namespace {MYCURE} have these labels")
    assert has(f.evidence, "no Deployment/StatefulSet/DaemonSet/ReplicaSet pod template matches")
    assert not [x for x in report.findings if x.code == "SVC-NO-READY-ENDPOINTS" and x.object.name == "api"]
    only_serious(report, f)


def test_selector_of_a_workload_scaled_to_zero_is_info() -> None:
    b = platform()
    w = b.workload("StatefulSet", MYCURE, "mongodb")
    w.controller["spec"]["replicas"] = 0
    for p in list(live_pods(b, "StatefulSet", "mongodb")):
        b.remove(p)
    report = run(b)
    for name in ("mongodb", "mongodb-headless"):
        assert b.get("Service", MYCURE, name), name
        f = one(report, "SVC-NO-MATCHING-PODS", name)
        assert f.severity == "info"
        assert has(f.evidence, "StatefulSet mongodb has matching pod template labels, desired replicas 0")


def test_control_plane_scrape_service_on_a_managed_cluster_is_info() -> None:
    b = platform()
    b.add_service(
        "kube-system",
        "kube-prometheus-kube-controller-manager",
        {"component": "kube-controller-manager"},
        [("http-metrics", 10257, 10257)],
        headless=True,
    )
    for p in [
        p for p in b.list("Pod", "kube-system") if p["metadata"]["name"].startswith("kube-controller-manager")
    ]:
        b.remove(p)
    report = run(b)
    f = one(report, "SVC-NO-MATCHING-PODS", "kube-prometheus-kube-controller-manager", "kube-system")
    assert f.severity == "info" and has(f.evidence, "managed control plane")


def test_named_target_port_that_no_container_declares() -> None:
    b = platform()
    svc = service(b, "api")
    svc["spec"]["ports"][0]["targetPort"] = "web"
    report = run(b)
    f = one(report, "SVC-TARGETPORT-UNRESOLVED", "api")
    assert f.severity == "critical"
    assert has(f.evidence, "targetPort 'web'")
    assert has(f.evidence, 'api: 8080/TCP "http"')
    assert not [x for x in report.findings if x.code == "SVC-NO-READY-ENDPOINTS" and x.object.name == "api"]
    only_serious(report, f)


def test_numeric_target_port_not_declared_is_a_warning() -> None:
    b = platform()
    svc = service(b, "api")
    svc["spec"]["ports"][0]["targetPort"] = 80
    report = run(b)
    f = one(report, "SVC-TARGETPORT-UNDECLARED", "api")
    assert f.severity == "warning"
    assert has(f.evidence, "targetPort 80") and has(f.evidence, "8080/TCP")
    only_serious(report, f)


def test_numeric_target_port_is_not_judged_when_pods_declare_no_ports() -> None:
    b = platform()
    for p in live_pods(b, "Deployment", "api"):
        for c in p["spec"]["containers"]:
            c.pop("ports", None)
    service(b, "api")["spec"]["ports"][0]["targetPort"] = 8080
    report = run(b)
    assert not [f for f in report.findings if f.code.startswith("SVC-TARGETPORT")], dump(report)


def test_load_balancer_without_address() -> None:
    b = platform()
    svc, _, _ = b.add_service(
        MYCURE,
        "api-public",
        {"app.kubernetes.io/instance": MYCURE, "app.kubernetes.io/name": "api"},
        [("http", 80, "http")],
        type_="LoadBalancer",
        created=NOW - timedelta(minutes=25),
    )
    b.add_event(
        svc, "EnsuringLoadBalancer", "Ensuring load balancer", count=8, component="service-controller"
    )
    b.add_event(
        svc,
        "SyncLoadBalancerFailed",
        "Error syncing load balancer: failed to ensure load balancer: googleapi: Error 400: IP address "
        '"203.0.113.99" is already being used by another resource., badRequest',
        "Warning",
        count=8,
        component="service-controller",
    )
    report = run(b)
    f = one(report, "SVC-LB-PENDING", "api-public")
    assert f.severity == "warning"
    assert has(f.evidence, "status.loadBalancer.ingress: empty")
    assert has(f.evidence, "SyncLoadBalancerFailed ×8") and has(
        f.evidence, "is already being used by another resource"
    )
    only_serious(report, f)


def test_young_load_balancer_is_not_reported() -> None:
    b = platform()
    b.add_service(
        MYCURE,
        "api-public",
        {"app.kubernetes.io/name": "api"},
        [("http", 80, "http")],
        type_="LoadBalancer",
        created=NOW - timedelta(minutes=2),
    )
    report = run(b)
    assert not [f for f in report.findings if f.code == "SVC-LB-PENDING"]


def test_externalname_selectorless_and_headless_services_are_not_missing_endpoints() -> None:
    b = platform()
    ext, _, _ = b.add_service(MYCURE, "payments", None, [("https", 443)])
    ext["spec"] = {
        "externalName": "api.payments.example.com",
        "sessionAffinity": "None",
        "type": "ExternalName",
    }
    b.add_service(MYCURE, "legacy-db", None, [("pg", 5432)])  # Endpoints managed by hand, none yet
    b.add_service(MYCURE, "peers", None, [("gossip", 7946)], headless=True)
    report = run(b)
    assert not [f for f in report.findings if f.code.startswith("SVC-")], dump(report)


# ------------------------------------------------------------------------------------ network policies


def _drop_dns_rule(b: PlatformBuilder, ns: str) -> Obj:
    pol = b.require("NetworkPolicy", ns, "restrict-egress")
    pol["spec"]["egress"] = [
        r for r in pol["spec"]["egress"] if not any(p.get("port") == 53 for p in r.get("ports") or ())
    ]
    pol["metadata"]["generation"] += 1
    return pol


def test_default_deny_egress_without_dns_is_a_warning_while_pods_still_run() -> None:
    b = platform()
    _drop_dns_rule(b, LFH)
    report = run(b)
    f = one(report, "NETPOL-DNS-BLOCKED", "restrict-egress", LFH)
    assert f.severity == "warning"
    assert has(f.evidence, "looked for an egress rule allowing UDP port 53")
    assert has(
        f.evidence,
        "namespaceSelector matching namespace kube-system and podSelector matching k8s-app=kube-dns",
    )
    assert has(f.evidence, "10.96.0.10")
    assert has(f.evidence, "to ipBlock 0.0.0.0/0 on 443/TCP")
    api_pods = live_pods(b, "Deployment", "api", LFH)
    assert {("Pod", LFH, p["metadata"]["name"]) for p in api_pods} <= set(f.subjects)
    only_serious(report, f)


def test_dns_blocked_with_failing_pods_is_critical() -> None:
    b = platform()
    _drop_dns_rule(b, LFH)
    for p in live_pods(b, "Deployment", "api", LFH):
        crashloop(b, p, log="2026-11-26T09:58:01Z Error: getaddrinfo EAI_AGAIN postgresql\n")
    report = run(b)
    f = one(report, "NETPOL-DNS-BLOCKED", "restrict-egress", LFH)
    assert f.severity == "critical" and f.root_cause
    assert has(f.evidence, "not Ready")
    # The Service has no endpoints; the policy speaks for the pods, so it explains the Service too.
    svc = one(report, "SVC-NO-READY-ENDPOINTS", "api", LFH)
    assert f.id in svc.caused_by


def test_a_separate_allow_dns_policy_keeps_dns_open() -> None:
    b = platform()
    _drop_dns_rule(b, LFH)
    from synth import networking

    b.add(
        networking.network_policy(
            LFH,
            "allow-dns",
            NOW - timedelta(days=2),
            policy_types=("Egress",),
            egress=[
                {
                    "to": [
                        {"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}
                    ],
                    "ports": networking.np_ports((53, "UDP"), (53, "TCP")),
                }
            ],
        )
    )
    report = run(b)
    assert not [f for f in report.findings if f.code == "NETPOL-DNS-BLOCKED"], dump(report)


def test_ipblock_to_the_dns_service_ip_counts_as_dns() -> None:
    b = platform()
    pol = _drop_dns_rule(b, LFH)
    pol["spec"]["egress"].append(
        {"to": [{"ipBlock": {"cidr": "10.96.0.10/32"}}], "ports": [{"port": 53, "protocol": "UDP"}]}
    )
    report = run(b)
    assert not [f for f in report.findings if f.code == "NETPOL-DNS-BLOCKED"], dump(report)


def test_tcp_only_dns_rule_is_not_enough() -> None:
    b = platform()
    pol = b.require("NetworkPolicy", LFH, "restrict-egress")
    pol["spec"]["egress"][0]["ports"] = [{"port": 53, "protocol": "TCP"}]
    report = run(b)
    assert one(report, "NETPOL-DNS-BLOCKED", "restrict-egress", LFH)


def test_network_policy_selecting_nothing() -> None:
    b = platform()
    pol = b.require("NetworkPolicy", MYCURE, "allow-api-to-database")
    pol["spec"]["podSelector"] = {"matchLabels": {"app.kubernetes.io/name": "mongo"}}
    report = run(b)
    f = one(report, "NETPOL-SELECTS-NOTHING", "allow-api-to-database")
    assert f.severity == "warning"
    assert has(f.evidence, "spec.podSelector: app.kubernetes.io/name=mongo")
    only_serious(report, f)


def test_policy_for_a_cronjob_between_runs_is_not_reported() -> None:
    b = platform()
    from synth import networking

    b.add(
        networking.network_policy(
            MYCURE,
            "cleanup-egress",
            NOW - timedelta(days=3),
            pod_selector={"matchLabels": {"app.kubernetes.io/name": "session-cleanup"}},
            policy_types=("Ingress",),
        )
    )
    for p in list(b.list("Pod", MYCURE)):
        if (p["metadata"].get("labels") or {}).get("app.kubernetes.io/name") == "session-cleanup":
            b.remove(p)
    report = run(b)
    assert not [f for f in report.findings if f.code == "NETPOL-SELECTS-NOTHING"], dump(report)
