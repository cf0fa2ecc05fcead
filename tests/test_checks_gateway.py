"""Gateway API / Envoy Gateway checks: one scenario per fault on the healthy reference platform.

Each test injects one fault (tests/gateway_faults.py writes it the way the controllers would), runs the
whole diagnosis, and asserts the root cause (code, object, evidence), how the symptoms link to it, and
that no other finding of severity warning or above appears.
"""

from __future__ import annotations

import gateway_faults as gf
import pytest
from scenario import Scenario, descendants, has

from sre_expert.core.model import Finding
from sre_expert.diagnosis.engine import Report
from sre_expert.domain.gateway_api import (
    GatewayIndex,
    cert_covers,
    host_matches,
    intersect_hostnames,
    listener_key,
    specificity,
)

pytestmark = pytest.mark.scenario

GW_NS, GW = gf.GW_NS, gf.GW
GW_KEY = ("Gateway", GW_NS, GW)


# ------------------------------------------------------------------------------------------- harness


H = Scenario(gf.NOW, areas=("gateway",), refresh=False, kinds=gf.CR_KINDS)
snapshot, run, serious, dump, one = H.snapshot, H.run, H.serious, H.dump, H.one


def only_root(report: Report, code: str, kind: str, namespace: str | None, name: str,
              allow: tuple[tuple[str, str], ...] = ()) -> Finding:
    """The single new warning-or-worse root cause; every other new warning-or-worse finding descends from it.
    `allow`: (code, object name) of independent consequences that nothing can link (asserted by the caller)."""
    return H.only_root(report, code, kind, name, namespace, allow=allow)


def commands(f: Finding) -> list[str]:
    return [r.command or "" for r in f.remediation]


# ------------------------------------------------------------------------------------------- hostname rules


def test_listener_wildcard_matches_one_or_more_labels_never_the_bare_domain() -> None:
    # gateway.networking.k8s.io_gateways.yaml: "*.example.com" matches test.example.com and foo.test.example.com
    assert host_matches("*.localfirsthealth.com", "api.localfirsthealth.com")
    assert host_matches("*.localfirsthealth.com", "api.stg.localfirsthealth.com")
    assert not host_matches("*.localfirsthealth.com", "localfirsthealth.com")
    assert not host_matches("*.localfirsthealth.com", "api.mycure.md")
    assert specificity("*.stg.localfirsthealth.com") > specificity("*.localfirsthealth.com") > specificity(None)
    assert specificity("api.localfirsthealth.com") > specificity("*.stg.localfirsthealth.com")


def test_route_listener_intersection_follows_envoy_gateway() -> None:
    assert intersect_hostnames(["api.stg.localfirsthealth.com"], "*.localfirsthealth.com") == ["api.stg.localfirsthealth.com"]
    assert intersect_hostnames(["*.stg.localfirsthealth.com"], "*.localfirsthealth.com") == ["*.stg.localfirsthealth.com"]
    assert intersect_hostnames(["*.mycureapp.com"], "api.mycureapp.com") == ["api.mycureapp.com"]
    assert intersect_hostnames([], "*.mycure.md") == ["*.mycure.md"]
    assert intersect_hostnames(["api.mycure.md"], "*.localfirsthealth.com") == []
    # the controller's switch order: a wildcard listener never matches a *less* specific route wildcard
    assert intersect_hostnames(["*.localfirsthealth.com"], "*.stg.localfirsthealth.com") == []


def test_certificate_wildcards_cover_exactly_one_label() -> None:
    assert cert_covers(["*.localfirsthealth.com"], "api.localfirsthealth.com")
    assert not cert_covers(["*.localfirsthealth.com"], "api.stg.localfirsthealth.com")
    assert not cert_covers(["*.localfirsthealth.com"], "localfirsthealth.com")
    assert cert_covers(["*.stg.localfirsthealth.com"], "*.stg.localfirsthealth.com")


# ------------------------------------------------------------------------------------------- healthy


def test_healthy_platform_has_no_gateway_findings() -> None:
    report = run(gf.healthy())
    assert [f.id for f in report.findings if f.component == "gateway"] == []


def test_index_attaches_every_tenant_route_to_its_listeners() -> None:
    idx = GatewayIndex(snapshot(gf.healthy()))
    att = {a.section: a for a in idx.by_route[("HTTPRoute", "lfh-staging", "api")]}
    assert att["https-lfh-stg"].hosts == {"https-lfh-stg": ["api.stg.localfirsthealth.com"]}
    assert att["https-lfh-stg"].status is not None
    assert idx.listener_for(idx.gateways[(GW_NS, GW)], "api.stg.localfirsthealth.com", "HTTPS").name == "https-lfh-stg"
    assert idx.listener_for(idx.gateways[(GW_NS, GW)], "api.localfirsthealth.com", "HTTPS").name == "https-lfh"
    assert [r["metadata"]["name"] for r in idx.routes_by_service[("monitoring", "grafana")]] == ["grafana"]


# ------------------------------------------------------------------------------------------- GatewayClass


def test_gatewayclass_never_claimed_is_the_root_of_the_whole_gateway() -> None:
    b = gf.healthy()
    gf.gatewayclass_unclaimed(b)
    report = run(b)
    # Envoy Gateway never created the proxy, so the proxy ServiceMonitor has nothing to scrape: a true,
    # independent consequence that no object key links to the class
    sm = ("SERVICEMONITOR-NO-SERVICES", "envoy-gateway")
    root = only_root(report, "GATEWAYCLASS-NO-CONTROLLER", "GatewayClass", None, "envoy-gateway", allow=(sm,))
    assert root.severity == "critical"
    assert has(root.evidence, 'spec.controllerName: "gateway.envoyproxy.io/gateway-controller"')
    assert has(root.evidence, "Waiting for controller", "CRD default")
    assert has(root.evidence, "gateway.envoyproxy.io/gatewayclass-controller")
    assert has(root.evidence, "Gateways of this class", f"{GW_NS}/{GW}")
    gwf = one(report, "GATEWAY-NOT-ACCEPTED")
    assert gwf.caused_by == [root.id]
    assert has(gwf.evidence, "Takes down", "api.mycure.md", "api.stg.localfirsthealth.com")
    routes = [f for f in report.findings if f.code == "HTTPROUTE-NOT-RECONCILED"]
    assert {f.object.name for f in routes} == {"api", "grafana", "argocd-server"}
    assert all(not f.root_cause for f in routes)
    epp = one(report, "ENVOYPATCHPOLICY-NOT-RECONCILED")
    assert not epp.root_cause and has(epp.evidence, "HTTP 431")


def test_gatewayclass_rejected_for_missing_envoyproxy() -> None:
    b = gf.healthy()
    gf.gatewayclass_invalid_parameters(b)
    report = run(b)
    root = only_root(report, "GATEWAYCLASS-NOT-ACCEPTED", "GatewayClass", None, "envoy-gateway")
    assert has(root.evidence, "Accepted=False (InvalidParameters)", "envoyproxy referenced by gatewayclass is not found")
    assert has(root.evidence, "EnvoyProxy envoy-gateway-system/envoy-proxy-config is not in the snapshot")
    assert ("EnvoyProxy", "envoy-gateway-system", "envoy-proxy-config") in root.depends_on
    assert "kubectl get envoyproxy envoy-proxy-config -n envoy-gateway-system -o yaml" in commands(root)


# ------------------------------------------------------------------------------------------- Gateway


def test_gateway_without_load_balancer_address() -> None:
    b = gf.healthy()
    gf.gateway_no_address(b)
    report = run(b)
    f = one(report, "GATEWAY-NO-ADDRESS")
    assert f.object.name == GW and f.severity == "critical"
    assert has(f.evidence, 'Programmed=False (AddressNotAssigned): "No addresses have been assigned to the Gateway"')
    assert has(f.evidence, f"Service envoy-gateway-system/{gf.PROXY}", "type LoadBalancer", "status.loadBalancer {}")
    assert has(f.evidence, "SyncLoadBalancerFailed", "static IP")
    assert ("Service", "envoy-gateway-system", gf.PROXY) in f.depends_on
    assert f"kubectl describe service {gf.PROXY} -n envoy-gateway-system" in commands(f)
    # the Service's own load-balancer finding (services checks), if any, explains the Gateway
    roots = [x for x in serious(report) if x.root_cause]
    assert len(roots) == 1 and (roots[0] is f
                                or (roots[0].object.kind, roots[0].object.name) == ("Service", gf.PROXY)), dump(report)
    only_root(report, roots[0].code, roots[0].object.kind, roots[0].object.namespace, roots[0].object.name)


def test_envoy_proxy_crashloop_makes_gateway_unprogrammed_and_links_to_the_pods() -> None:
    b = gf.healthy()
    gf.proxy_crashloop(b)
    report = run(b)
    f = one(report, "GATEWAY-PROXY-UNAVAILABLE")
    assert has(f.evidence, 'Programmed=False (NoResources): "Envoy replicas unavailable"')
    assert has(f.evidence, f"Deployment envoy-gateway-system/{gf.PROXY}", "availableReplicas 0")
    assert has(f.evidence, "CrashLoopBackOff")
    assert ("Deployment", "envoy-gateway-system", gf.PROXY) in f.depends_on
    assert has(f.evidence, "Takes down", "api.mycure.md", "grafana.mycureapp.com")
    # the pod finding (workload checks) is the root; the Gateway is its symptom
    assert not f.root_cause, dump(report)
    roots = [x for x in serious(report) if x.root_cause]
    assert len(roots) == 1 and roots[0].object.name == gf.PROXY, dump(report)
    assert f.id in descendants(report, roots[0])
    only_root(report, roots[0].code, roots[0].object.kind, roots[0].object.namespace, roots[0].object.name)


# ------------------------------------------------------------------------------------------- listener ← certificate


def test_missing_tls_secret_chain_challenge_certificate_listener_routes() -> None:
    b = gf.healthy()
    gf.listener_cert_missing(b)
    report = run(b)
    lis = one(report, "GATEWAY-LISTENER-CERT-INVALID")
    assert lis.object.name == GW and lis.severity == "critical"
    assert has(lis.evidence, "listener https-lfh-stg", "InvalidCertificateRef",
               f'"Secret {GW_NS}/stg-localfirsthealth-wildcard-tls does not exist."')
    assert has(lis.evidence, f"Secret {GW_NS}/stg-localfirsthealth-wildcard-tls: does not exist")
    assert has(lis.evidence, f"Certificate {GW_NS}/stg-localfirsthealth-wildcard", "Ready=False (DoesNotExist)")
    assert has(lis.evidence, "Takes down HTTPS for", "api.stg.localfirsthealth.com", "lfh-staging/api")
    assert ("Certificate", GW_NS, "stg-localfirsthealth-wildcard") in lis.depends_on
    assert ("Secret", GW_NS, "stg-localfirsthealth-wildcard-tls") in lis.depends_on
    assert listener_key(GW_NS, GW, "https-lfh-stg") in lis.subjects
    assert ("HTTPRoute", "lfh-staging", "api") in lis.subjects
    assert "kubectl describe certificate stg-localfirsthealth-wildcard -n gateway-system" in commands(lis)
    # the route attached only through that listener is not accepted, and is the listener's symptom
    rt = one(report, "HTTPROUTE-NOT-ACCEPTED")
    assert (rt.object.namespace, rt.object.name) == ("lfh-staging", "api")
    assert has(rt.evidence, "NoReadyListeners", "There are no ready listeners for this parent ref")
    assert rt.caused_by == [lis.id]
    # cert-manager's findings speak for the Certificate and its Secret: they are the root
    assert [f for f in report.findings if f.component == "cert-manager"], dump(report)
    assert not lis.root_cause, dump(report)
    roots = [f for f in serious(report) if f.root_cause]
    assert len(roots) == 1 and roots[0].component == "cert-manager", dump(report)
    assert lis.id in descendants(report, roots[0]) and rt.id in descendants(report, roots[0])
    only_root(report, roots[0].code, roots[0].object.kind, roots[0].object.namespace, roots[0].object.name)


def test_listener_cert_finding_is_root_without_cert_manager_objects() -> None:
    b = gf.healthy()
    gf.listener_cert_missing(b, "localfirsthealth-wildcard", "https-lfh")
    for kind in ("Certificate", "CertificateRequest", "Order", "Challenge"):
        for o in b.list(kind, GW_NS):
            if "localfirsthealth-wildcard" in o["metadata"]["name"] and "stg" not in o["metadata"]["name"]:
                b.remove(o)
    report = run(b)
    root = only_root(report, "GATEWAY-LISTENER-CERT-INVALID", "Gateway", GW_NS, GW)
    assert has(root.evidence, "no cert-manager Certificate in gateway-system has spec.secretName localfirsthealth-wildcard-tls")
    assert has(root.evidence, "Takes down HTTPS for: no HTTPRoute attached")
    # nothing is attached to https-lfh yet: broken, but nothing is down because of it
    assert root.severity == "warning"


# ------------------------------------------------------------------------------------------- HTTPRoute attachment


def test_section_name_naming_no_listener() -> None:
    b = gf.healthy()
    gf.route_section(b, "lfh-staging", "api", 0, "https-lfhstg",
                     ("False", "NoMatchingParent", "No listeners match this parent ref"))
    report = run(b)
    root = only_root(report, "HTTPROUTE-NO-MATCHING-PARENT", "HTTPRoute", "lfh-staging", "api")
    assert has(root.evidence, "NoMatchingParent", "No listeners match this parent ref")
    assert has(root.evidence, "sectionName 'https-lfhstg' names no listener")
    assert has(root.evidence, "closest listener names: https-lfh-stg")
    assert any('"value":"https-lfh-stg"' in c and "/spec/parentRefs/0/sectionName" in c for c in commands(root))
    assert any(r.safety == "mutating" for r in root.remediation if "patch" in (r.command or ""))


def test_synth_route_not_accepted_fault() -> None:
    b = gf.healthy()
    gf.faults.route_not_accepted(b, gf.route(b, "lfh-staging", "api"))
    report = run(b)
    root = only_root(report, "HTTPROUTE-NO-MATCHING-PARENT", "HTTPRoute", "lfh-staging", "api")
    assert has(root.evidence, "sectionName 'https-lfh-prod' names no listener")
    assert has(root.evidence, "spec.hostnames api.stg.localfirsthealth.com fit listener https-lfh-stg")
    assert any('"value":"https-lfh-stg"' in c for c in commands(root))


def test_section_name_computed_from_spec_when_status_not_written_yet() -> None:
    b = gf.healthy()
    gf.route_section(b, "lfh-staging", "api", 0, "https-stg", None, status=False)
    report = run(b)
    root = only_root(report, "HTTPROUTE-NO-MATCHING-PARENT", "HTTPRoute", "lfh-staging", "api")
    assert has(root.evidence, "computed from spec")
    assert has(root.evidence, "sectionName 'https-stg' names no listener")


def test_brand_new_route_without_any_status_is_judged_from_spec() -> None:
    b = gf.healthy()
    r = gf.route_section(b, "lfh-staging", "api", 0, "https-lfh-stg-v2", None, status=False)
    r["status"] = {"parents": []}
    r["metadata"]["creationTimestamp"] = gf.ts(gf.ago(seconds=40))
    report = run(b)
    root = only_root(report, "HTTPROUTE-NO-MATCHING-PARENT", "HTTPRoute", "lfh-staging", "api")
    assert has(root.evidence, "computed from spec")
    # 40 seconds old: the valid parentRef simply has not been processed yet, which is not a fault
    assert not [f for f in report.findings if f.code == "HTTPROUTE-NOT-RECONCILED"], dump(report)


def test_route_without_status_long_after_creation_is_not_reconciled() -> None:
    b = gf.healthy()
    b.refresh()
    gf.route(b, "lfh-staging", "api")["status"] = {"parents": []}
    report = run(b)
    root = only_root(report, "HTTPROUTE-NOT-RECONCILED", "HTTPRoute", "lfh-staging", "api")
    assert root.severity == "warning"
    assert has(root.evidence, "sectionName 'https-lfh-stg'", "never reconciled")
    assert has(root.evidence, "sectionName 'http-lfh-stg'", "never reconciled")


def test_stg_host_attached_to_the_wider_lfh_listener_is_shadowed() -> None:
    """api.stg.localfirsthealth.com on https-lfh: Accepted (the Gateway API wildcard covers several labels),
    but Envoy hands HTTPS for that host to the more specific https-lfh-stg listener, where the route is absent."""
    b = gf.healthy()
    gf.route_section(b, "lfh-staging", "api", 0, "https-lfh", None)
    gf.route_section(b, "lfh-staging", "api", 1, "http-lfh", None)
    report = run(b)
    root = only_root(report, "HTTPROUTE-HOST-SHADOWED", "HTTPRoute", "lfh-staging", "api")
    assert root.severity == "critical"
    assert has(root.evidence, "*.localfirsthealth.com matches api.stg.localfirsthealth.com", "one or more labels")
    assert has(root.evidence, "listener https-lfh-stg", "more specific match", "SNI")
    assert has(root.evidence, "404")
    assert has(root.evidence, 'Accepted=True (Accepted): "Route is accepted"')
    assert any('"value":"https-lfh-stg"' in c for c in commands(root))


def test_hostname_outside_the_listener_wildcard_is_rejected() -> None:
    b = gf.healthy()
    gf.route_section(b, "lfh-staging", "api", 0, "https-mycure", (
        "False", "NoMatchingListenerHostname",
        "There were no hostname intersections between the HTTPRoute and this parent ref's Listener(s)."))
    report = run(b)
    root = only_root(report, "HTTPROUTE-HOSTNAME-MISMATCH", "HTTPRoute", "lfh-staging", "api")
    assert has(root.evidence, "NoMatchingListenerHostname")
    assert has(root.evidence, "listener https-mycure hostname *.mycure.md", "'.mycure.md'",
               "api.stg.localfirsthealth.com does not end in it")
    assert has(root.evidence, "listeners whose hostname does cover them", "https-lfh-stg")
    assert any('"value":"https-lfh-stg"' in c for c in commands(root))


def test_stg_wildcard_route_on_lfh_listener_is_left_to_the_stg_listener() -> None:
    """Envoy Gateway drops a route hostname equal to another listener's hostname on the same port."""
    b = gf.healthy()
    gf.route_section(b, "lfh-staging", "api", 0, "https-lfh", None)
    gf.route_section(b, "lfh-staging", "api", 1, "http-lfh", None)
    nomatch = ("False", "NoMatchingListenerHostname",
               "There were no hostname intersections between the HTTPRoute and this parent ref's Listener(s).")
    gf.route_hostnames(b, "lfh-staging", "api", ["*.stg.localfirsthealth.com"],
                       {"https-lfh": nomatch, "http-lfh": nomatch})
    report = run(b)
    found = [f for f in serious(report) if f.code == "HTTPROUTE-HOSTNAME-MISMATCH"]
    assert len(found) == 1 and found[0].root_cause, dump(report)
    assert has(found[0].evidence, "*.stg.localfirsthealth.com is exactly the hostname of listener")
    assert not [f for f in serious(report) if f.code != "HTTPROUTE-HOSTNAME-MISMATCH"], dump(report)


def test_route_host_not_covered_by_the_listener_certificate() -> None:
    b = gf.healthy()
    gf.route_hostnames(b, "mycure-production", "api", ["api.mycure.md", "api.eu.mycure.md"])
    report = run(b)
    root = only_root(report, "HTTPROUTE-HOST-NOT-IN-CERT", "HTTPRoute", "mycure-production", "api")
    assert has(root.evidence, "dnsNames ['*.mycure.md', 'mycure.md']")
    assert has(root.evidence, "api.eu.mycure.md is not covered", "exactly one label")
    assert ("Certificate", GW_NS, "mycure-md-wildcard") in root.depends_on


def test_namespace_not_allowed_by_listeners() -> None:
    b = gf.healthy()
    gf.listeners_same_namespace(b, ("https-mycure", "http-mycure"))
    report = run(b)
    found = [f for f in serious(report)]
    assert {(f.code, f.object.namespace, f.object.name) for f in found} == {
        ("HTTPROUTE-NOT-ALLOWED", "mycure-production", "api")}, dump(report)
    f = found[0]
    assert f.root_cause and len([x for x in report.findings if x.code == "HTTPROUTE-NOT-ALLOWED"]) == 1
    assert has(f.evidence, "https-mycure]", "NotAllowedByListeners") and has(f.evidence, "http-mycure]", "NotAllowedByListeners")
    assert has(f.evidence, "NotAllowedByListeners")
    assert has(f.evidence, "allowedRoutes.namespaces.from is Same", "only routes in gateway-system")


def test_parent_gateway_that_does_not_exist_is_never_reconciled() -> None:
    b = gf.healthy()
    gf.route_wrong_gateway(b, "mycure-production", "api", "shared-gatway")
    report = run(b)
    found = [f for f in serious(report)]
    assert {f.code for f in found} == {"HTTPROUTE-NOT-RECONCILED"} and all(f.root_cause for f in found), dump(report)
    f = found[0]
    assert has(f.evidence, "status.parents has no entry for it")
    assert has(f.evidence, "Gateway gateway-system/shared-gatway does not exist")
    assert has(f.evidence, "did you mean gateway-system/shared-gateway")


# ------------------------------------------------------------------------------------------- backends


def test_backend_service_not_found() -> None:
    b = gf.healthy()
    gf.route_backend(b, "mycure-production", "api", service="api-svc",
                     resolved=("False", "BackendNotFound", "Service mycure-production/api-svc not found"))
    report = run(b)
    root = only_root(report, "HTTPROUTE-BACKEND-NOT-FOUND", "HTTPRoute", "mycure-production", "api")
    assert has(root.evidence, 'ResolvedRefs=False (BackendNotFound): "Service mycure-production/api-svc not found"')
    assert has(root.evidence, "Services in mycure-production with a similar name: api")
    assert has(root.evidence, "Hosts answering 500", "api.mycure.md")


def test_backend_port_not_on_service() -> None:
    b = gf.healthy()
    gf.route_backend(b, "mycure-production", "api", port=80,
                     resolved=("False", "BackendNotFound", "TCP Port 80 not found on service mycure-production/api"))
    report = run(b)
    root = only_root(report, "HTTPROUTE-BACKEND-NOT-FOUND", "HTTPRoute", "mycure-production", "api")
    assert has(root.evidence, "port 80 is not a port of Service mycure-production/api (spec.ports: [8080])")


def test_cross_namespace_backend_without_reference_grant() -> None:
    b = gf.healthy()
    gf.reference_grant_deleted(b, "monitoring", GW_NS, "grafana", "grafana")
    report = run(b)
    root = only_root(report, "HTTPROUTE-BACKEND-NOT-PERMITTED", "HTTPRoute", GW_NS, "grafana")
    assert has(root.evidence, "RefNotPermitted", "not permitted by any ReferenceGrant")
    assert has(root.evidence, "ReferenceGrants in monitoring: none", "HTTPRoute from gateway-system")
    assert has(root.evidence, "grafana.mycureapp.com")


def test_backend_pods_crash_route_is_a_symptom_of_the_pods() -> None:
    b = gf.healthy()
    gf.backend_crashloop(b, "mycure-production")
    report = run(b)
    f = one(report, "HTTPROUTE-BACKEND-UNAVAILABLE")
    assert (f.object.namespace, f.object.name) == ("mycure-production", "api")
    assert has(f.evidence, "Service mycure-production/api has 0 ready endpoints")
    assert has(f.evidence, "CrashLoopBackOff")
    assert has(f.evidence, "503", "api.mycure.md")
    assert ("Service", "mycure-production", "api") in f.depends_on
    assert not f.root_cause, dump(report)
    roots = [x for x in serious(report) if x.root_cause]
    assert len(roots) == 1 and (roots[0].object.namespace, roots[0].object.name) == ("mycure-production", "api"), dump(report)
    assert roots[0].component == "workloads" and f.id in descendants(report, roots[0])
    only_root(report, roots[0].code, roots[0].object.kind, "mycure-production", "api")


# ------------------------------------------------------------------------------------------- controller


def test_controller_down_explains_unreconciled_routes() -> None:
    b = gf.healthy()
    gf.controller_crashloop(b)
    report = run(b)
    f = one(report, "HTTPROUTE-NOT-RECONCILED", "docs")
    assert ("Deployment", "envoy-gateway-system", "envoy-gateway") in f.depends_on
    assert has(f.evidence, "Deployment envoy-gateway-system/envoy-gateway", "availableReplicas 0")
    assert not f.root_cause, dump(report)
    roots = [x for x in serious(report) if x.root_cause]
    assert len(roots) == 1 and roots[0].object.name == "envoy-gateway", dump(report)
    assert f.id in descendants(report, roots[0])
    only_root(report, roots[0].code, roots[0].object.kind, "envoy-gateway-system", "envoy-gateway")


# ------------------------------------------------------------------------------------------- EnvoyPatchPolicy


def test_patch_policy_disabled_means_http_431_on_large_headers() -> None:
    b = gf.healthy()
    gf.patch_policy_disabled(b)
    report = run(b)
    root = only_root(report, "ENVOYPATCHPOLICY-DISABLED", "EnvoyPatchPolicy", GW_NS, "max-request-headers")
    assert root.severity == "warning"
    assert "431" in root.title
    assert has(root.evidence, 'Accepted=False (Disabled): "EnvoyPatchPolicy is disabled in the EnvoyGateway configuration"')
    assert has(root.evidence, "envoy-gateway-config", "enableEnvoyPatchPolicy is not true")
    assert has(root.evidence, "max_request_headers_kb to 96 KiB", "HTTP 431")
    assert "kubectl rollout restart deployment/envoy-gateway -n envoy-gateway-system" in commands(root)


@pytest.mark.parametrize(("fault", "code", "evidence"), [
    pytest.param(gf.patch_policy_resource_not_found, "ENVOYPATCHPOLICY-RESOURCE-NOT-FOUND", [
        ("ResourceNotFound", "Unable to find xds resources: gateway-system/shared-gateway/https-main"),
        ('jsonPatches[1]: type.googleapis.com/envoy.config.listener.v3.Listener "gateway-system/shared-gateway/https-main"',),
    ], id="names_an_xds_listener_that_does_not_exist"),
    pytest.param(gf.patch_policy_wrong_target, "ENVOYPATCHPOLICY-INVALID", [
        ("Accepted=False (Invalid)", "only TargetRef.Group:gateway.networking.k8s.io and TargetRef.Kind:Gateway"),
        ("spec.targetRef: gateway.networking.k8s.io/GatewayClass envoy-gateway",),
        ("HTTP 431",),
    ], id="with_an_unsupported_target_is_rejected"),
    pytest.param(gf.patch_policy_patch_failed, "ENVOYPATCHPOLICY-INVALID", [
        ("Programmed=False (Invalid)", "Unable to access invalid index: 3"),
        ("jsonPatches[0]", "/default_filter_chain/filters/3/typed_config/max_request_headers_kb"),
    ], id="whose_json_patch_fails"),
])
def test_patch_policy(fault, code: str, evidence: list[tuple[str, ...]]) -> None:
    b = gf.healthy()
    fault(b)
    report = run(b)
    root = only_root(report, code, "EnvoyPatchPolicy", GW_NS, "max-request-headers")
    for texts in evidence:
        assert has(root.evidence, *texts), texts


def test_extra_route_hostname_outside_its_listener_is_ignored() -> None:
    b = gf.healthy()
    gf.route_hostnames(b, "mycure-production", "api", ["api.mycure.md", "api.mycureapp.com"])
    report = run(b)
    root = only_root(report, "HTTPROUTE-HOSTNAME-MISMATCH", "HTTPRoute", "mycure-production", "api")
    assert root.severity == "warning"
    assert has(root.evidence, "api.mycureapp.com get no route (404)")
    assert has(root.evidence, "listener https-mycure hostname *.mycure.md matches hosts ending in '.mycure.md'")


def test_class_controller_name_differs_from_the_controller_configuration() -> None:
    b = gf.healthy()
    gf.gatewayclass_unclaimed(b)
    report = run(b)
    root = one(report, "GATEWAYCLASS-NO-CONTROLLER")
    assert has(root.evidence, "envoy-gateway-config", 'gateway.controllerName "gateway.envoyproxy.io/gatewayclass-controller"')


# ------------------------------------------------------------------------------------------- stale status


def test_stale_gateway_status_is_info_only() -> None:
    b = gf.healthy()
    b.refresh()
    gf.bump(gf.gateway(b), generation=True)
    report = run(b)
    f = one(report, "GATEWAY-API-STATUS-STALE")
    assert f.severity == "info" and f.object.name == GW
    assert has(f.evidence, "metadata.generation 2, status conditions observedGeneration 1")
    assert not serious(report), dump(report)


def test_listener_conflict_is_reported_per_listener() -> None:
    b = gf.healthy()
    b.refresh()
    gw = gf.gateway(b)
    ls = gf.listener_status(gw, "https-mycure")
    when = gf.ago(minutes=5)
    ls["conditions"] = [
        gf.condition("Conflicted", "True", "HostnameConflict", "All listeners for a given port must use a unique hostname",
                     when, observed_generation=1),
        gf.condition("Programmed", "False", "Invalid", "Listener is invalid, see other Conditions for details.", when,
                     observed_generation=1),
    ]
    report = run(b)
    f = one(report, "GATEWAY-LISTENER-INVALID")
    assert f.root_cause and f.severity == "critical"
    assert has(f.evidence, "listener https-mycure", "Conflicted=True (HostnameConflict)")
    assert has(f.evidence, "Takes down HTTPS for", "api.mycure.md")


@pytest.mark.parametrize("code", ["GATEWAY-LISTENER-CERT-INVALID", "HTTPROUTE-HOST-SHADOWED", "ENVOYPATCHPOLICY-DISABLED"])
def test_catalogue_entries_have_read_only_first_steps(code: str) -> None:
    from sre_expert.knowledge.catalogue import spec

    s = spec(code)
    assert s.component == "gateway"
    assert s.remediation[0].safety == "read-only"
