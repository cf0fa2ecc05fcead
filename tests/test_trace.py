"""Outside-in trace: healthy paths pass every hop; a broken path stops at the hop that explains it."""

from __future__ import annotations

import io
import json

import gateway_faults as gf
import pytest
import scenario
from rich.console import Console
from scenario import has

from sre_expert.diagnosis.trace import FAILED, PASSED, SKIPPED, TraceResult, parse_target, trace
from sre_expert.render.trace_view import run_trace
from synth.builder import PlatformBuilder

pytestmark = pytest.mark.scenario

HOPS = ["gateway", "listener", "route", "service", "endpoints", "pods"]


def snap_of(b: PlatformBuilder):
    gf.validate_custom_resources(b)
    return scenario.snapshot(b, gf.NOW)


_HEALTHY = []


def healthy_snap():
    if not _HEALTHY:
        _HEALTHY.append(snap_of(gf.healthy()))
    return _HEALTHY[0]


def hop(res: TraceResult, name: str):
    return next(h for h in res.hops if h.name == name)


def render(snap, target: str, output: str = "terminal") -> tuple[int, str]:
    buf = io.StringIO()
    code = run_trace(snap, target, output, Console(file=buf, width=200, highlight=False, color_system=None))
    return code, buf.getvalue()


# ------------------------------------------------------------------------------------------- targets


def test_parse_target_forms() -> None:
    assert parse_target("https://API.mycureapp.com/v1/users?x=1") == ("host", "api.mycureapp.com", None, "https", None)
    assert parse_target("api.mycure.md:8443") == ("host", "api.mycure.md", None, None, 8443)
    assert parse_target("route/lfh-staging/api") == ("route", "api", "lfh-staging", None, None)
    assert parse_target("svc/monitoring/grafana")[:3] == ("service", "grafana", "monitoring")
    assert parse_target("pod/mycure-production/api-0")[:3] == ("pod", "api-0", "mycure-production")


# ------------------------------------------------------------------------------------------- healthy


def test_healthy_host_passes_every_hop() -> None:
    res = trace(healthy_snap(), "api.mycure.md")
    assert res.resolved and res.ok and res.exit_code == 0
    assert [h.name for h in res.hops] == HOPS
    assert all(h.status == PASSED for h in res.hops)
    assert hop(res, "listener").title == "listener https-mycure of Gateway gateway-system/shared-gateway"
    assert has(hop(res, "route").evidence, 'Accepted=True (Accepted): "Route is accepted"')
    assert has(hop(res, "endpoints").evidence, "2 of 2 endpoints ready")
    assert has(hop(res, "pods").evidence, "2 of 2 pods ready", "Deployment api")


def test_most_specific_https_listener_receives_the_stg_host() -> None:
    res = trace(healthy_snap(), "api.stg.localfirsthealth.com")
    assert res.ok
    lis = hop(res, "listener")
    assert "https-lfh-stg" in lis.title
    assert has(lis.evidence, "most specific of", "https-lfh *.localfirsthealth.com", "SNI")


def test_http_scheme_uses_the_http_listener() -> None:
    res = trace(healthy_snap(), "http://api.mycure.md/health")
    assert res.ok and "http-mycure" in hop(res, "listener").title


def test_cross_namespace_backend_shows_the_reference_grant() -> None:
    res = trace(healthy_snap(), "grafana.mycureapp.com")
    assert res.ok
    assert has(hop(res, "service").evidence, "ReferenceGrant monitoring/allow-gateway-system-routes")


def test_terminal_and_json_output_for_a_healthy_host() -> None:
    code, text = render(healthy_snap(), "api.mycure.md")
    assert code == 0 and "✔ every hop passed" in text and "✔ pods" in text
    code, text = render(healthy_snap(), "api.mycure.md", "json")
    data = json.loads(text)
    assert code == 0 and data["ok"] and data["brokenHop"] is None and data["targetKind"] == "host"
    assert [h["name"] for h in data["hops"]] == HOPS
    assert set(data["hops"][0]) == {"name", "title", "object", "status", "evidence", "fix", "note"}
    assert data["hops"][0]["object"] == {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
                                         "namespace": "gateway-system", "name": "shared-gateway"}
    assert data["capturedAt"] == "2026-11-26T10:00:00Z"


# ------------------------------------------------------------------------------------------- broken paths


def test_crashing_backend_pods_stop_the_trace_at_the_pods_hop() -> None:
    b = gf.healthy()
    gf.backend_crashloop(b, "mycure-production")
    snap = snap_of(b)
    res = trace(snap, "api.mycure.md")
    assert res.exit_code == 1 and res.broken_hop is not None and res.broken_hop.name == "pods"
    ep = hop(res, "endpoints")
    assert ep.status == FAILED and ep.note == "explained by the pods hop"
    assert has(ep.evidence, "0 of 2 endpoints ready")
    pods = hop(res, "pods")
    assert pods.status == FAILED and pods.object.kind == "Pod"
    assert has(pods.evidence, "0 of 2 pods ready")
    assert has(pods.evidence, "waiting CrashLoopBackOff", "last terminated Error exitCode 1", "restartCount 9")
    assert has(pods.evidence, "previous log of api", "MongoServerSelectionError")
    assert any("--previous" in (r.command or "") for r in pods.fix)
    assert res.impact["services"] == ["mycure-production/api"]
    code, text = render(snap, "api.mycure.md")
    assert code == 1 and "✘ stopped at pods" in text and "CrashLoopBackOff" in text
    md = run_md(snap, "api.mycure.md")
    assert "**Stopped at pods:**" in md and "| ✘ | pods |" in md


def run_md(snap, target: str) -> str:
    return render(snap, target, "markdown")[1]


def test_route_attached_to_the_wider_listener_fails_at_the_route_hop() -> None:
    b = gf.healthy()
    gf.route_section(b, "lfh-staging", "api", 0, "https-lfh", None)
    gf.route_section(b, "lfh-staging", "api", 1, "http-lfh", None)
    snap = snap_of(b)
    res = trace(snap, "api.stg.localfirsthealth.com")
    assert res.exit_code == 1 and res.broken_hop.name == "route"
    assert hop(res, "listener").status == PASSED and "https-lfh-stg" in hop(res, "listener").title
    r = hop(res, "route")
    assert has(r.evidence, "not attached to listener https-lfh-stg", "404")
    assert has(r.evidence, "sectionName 'https-lfh' attaches it to https-lfh")
    assert has(r.evidence, "more specific match")
    assert any('"value":"https-lfh-stg"' in (f.command or "") and f.safety == "mutating" for f in r.fix)
    assert [h.status for h in res.hops[3:]] == [SKIPPED, SKIPPED, SKIPPED]
    # plain HTTP for the same host still works: the HTTP listeners on port 80 share one route table
    assert trace(snap, "http://api.stg.localfirsthealth.com").ok


def test_section_name_typo_fails_at_the_route_hop() -> None:
    b = gf.healthy()
    gf.route_section(b, "lfh-staging", "api", 0, "https-lfhstg",
                     ("False", "NoMatchingParent", "No listeners match this parent ref"))
    snap = snap_of(b)
    res = trace(snap, "api.stg.localfirsthealth.com")
    assert res.broken_hop.name == "route"
    r = hop(res, "route")
    assert has(r.evidence, "sectionName 'https-lfhstg' names no listener")
    assert has(r.evidence, "NoMatchingParent")
    res2 = trace(snap, "route/lfh-staging/api")
    assert res2.exit_code == 1 and res2.broken_hop.name == "listener"
    lis = hop(res2, "listener")
    assert has(lis.evidence, "sectionName 'https-lfhstg': matches no listener")
    assert has(lis.evidence, "sectionName 'http-lfh-stg' → listener http-lfh-stg", "Programmed=True")
    assert any('"value":"https-lfh-stg"' in (f.command or "") for f in lis.fix)
    assert res2.impact == {"hosts": [], "routes": [], "services": []}


def test_missing_tls_secret_stops_at_the_listener_and_lists_what_else_is_down() -> None:
    b = gf.healthy()
    gf.listener_cert_missing(b, "localfirsthealth-wildcard", "https-lfh")
    # a second route on that listener, to show what else the broken hop takes down
    b.add(gf.gwlib.httproute("lfh-staging", "portal", ["portal.localfirsthealth.com"],
                             [gf.gwlib.parent_ref(gf.GW_NS, gf.GW, "https-lfh")], [gf.gwlib.backend_ref("api", 8080)],
                             gf.ago(days=3)))
    b.add(gf.gwlib.httproute("lfh-staging", "www", ["www.localfirsthealth.com"],
                             [gf.gwlib.parent_ref(gf.GW_NS, gf.GW, "https-lfh")], [gf.gwlib.backend_ref("api", 8080)],
                             gf.ago(days=3)))
    snap = snap_of(b)
    res = trace(snap, "portal.localfirsthealth.com")
    assert res.broken_hop.name == "listener"
    lis = hop(res, "listener")
    assert has(lis.evidence, "InvalidCertificateRef", "localfirsthealth-wildcard-tls does not exist.")
    assert has(lis.evidence, "Certificate gateway-system/localfirsthealth-wildcard", "Ready=False")
    assert any("kubectl describe certificate localfirsthealth-wildcard -n gateway-system" == f.command for f in lis.fix)
    assert res.impact["hosts"] == ["www.localfirsthealth.com"]
    assert res.impact["routes"] == ["lfh-staging/www"]


def test_gateway_without_address_stops_at_the_gateway() -> None:
    b = gf.healthy()
    gf.gateway_no_address(b)
    res = trace(snap_of(b), "api.mycure.md")
    assert res.broken_hop.name == "gateway"
    g = hop(res, "gateway")
    assert has(g.evidence, "Programmed=False (AddressNotAssigned)")
    assert has(g.evidence, "status.addresses: none")
    assert any(f.command and f.command.startswith("kubectl describe service envoy-gateway-system-shared-gateway") for f in g.fix)
    assert set(res.impact["hosts"]) == {"grafana.mycureapp.com", "argocd.mycureapp.com", "api.stg.localfirsthealth.com"}


def test_crashing_proxy_fails_the_gateway_hop() -> None:
    b = gf.healthy()
    gf.proxy_crashloop(b)
    res = trace(snap_of(b), "grafana.mycureapp.com")
    g = hop(res, "gateway")
    assert res.broken_hop is g
    assert has(g.evidence, "Programmed=False (NoResources)")
    assert has(g.evidence, "availableReplicas 0") and has(g.evidence, "CrashLoopBackOff")


def test_unknown_host_cannot_be_resolved_and_lists_close_matches() -> None:
    res = trace(healthy_snap(), "apii.mycure.md")
    assert not res.resolved and res.exit_code == 2
    assert "no HTTPRoute serves host apii.mycure.md" in res.message
    assert "listener https-mycure (*.mycure.md)" in res.message and "404" in res.message
    assert res.suggestions[0] == "api.mycure.md"
    code, text = render(healthy_snap(), "apii.mycure.md")
    assert code == 2 and "cannot resolve the target" in text and "did you mean: api.mycure.md" in text
    code, text = render(healthy_snap(), "nothing.example.org", "json")
    data = json.loads(text)
    assert code == 2 and data["resolved"] is False and data["hops"] == [] and data["message"]


def test_unknown_route_service_and_pod_targets() -> None:
    snap = healthy_snap()
    res = trace(snap, "route/lfh-staging/apii")
    assert res.exit_code == 2 and res.suggestions == ["lfh-staging/api"]
    assert trace(snap, "svc/mycure-production/ap").suggestions[0] == "mycure-production/api"
    assert trace(snap, "pod/nowhere/x").exit_code == 2


# ------------------------------------------------------------------------------------------- other targets


def test_route_service_and_pod_targets_on_the_healthy_platform() -> None:
    snap = healthy_snap()
    res = trace(snap, "route/lfh-staging/api")
    assert res.ok and [h.name for h in res.hops] == HOPS
    assert has(hop(res, "listener").evidence, "https-lfh-stg", "api.stg.localfirsthealth.com")
    res = trace(snap, "svc/monitoring/grafana")
    assert res.ok and [h.name for h in res.hops] == ["service", "endpoints", "pods"]
    assert has(res.hops[0].evidence, "used by HTTPRoute gateway-system/grafana")
    pod = next(p for p in snap.list("Pod", "mycure-production") if p["metadata"]["name"].startswith("api-"))
    res = trace(snap, f"pod/mycure-production/{pod['metadata']['name']}")
    assert res.ok and has(res.hops[0].evidence, "behind Service api")


def test_service_target_with_crashing_pods_stops_at_pods() -> None:
    b = gf.healthy()
    pods = gf.backend_crashloop(b, "mycure-production")
    snap = snap_of(b)
    res = trace(snap, "svc/mycure-production/api")
    assert res.broken_hop.name == "pods" and res.exit_code == 1
    assert res.impact["hosts"] == ["api.mycure.md"] and res.impact["routes"] == ["mycure-production/api"]
    res = trace(snap, f"pod/mycure-production/{pods[0]['metadata']['name']}")
    assert res.broken_hop.name == "pods" and res.impact["hosts"] == ["api.mycure.md"]
