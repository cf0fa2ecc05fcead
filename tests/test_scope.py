"""Namespace-scoped sweeps (`check -n NS` against a cluster, `bundle collect -n`): what lies outside the
swept namespaces is reported as "not checked", never as missing, and faults inside them are still found
with the same root causes as a whole-cluster snapshot.

`scoped()` builds what a live sweep with `-n` reads: namespaced objects (events and logs included) only
inside the scope, cluster-scoped kinds listed whole, or, for an identity with a namespaced Role only,
recorded as forbidden. The end-to-end tests run the real CLI against `bundle serve`.
"""

from __future__ import annotations

import copy
import io
import json
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

import certmanager_faults as cmf
import eso_faults as esf
import gateway_faults as gf
import pytest
import scenario
import velero_faults as vf
from live_harness import fast, served
from rich.console import Console
from test_cli import EXE

from sre_expert.core.snapshot import Snapshot, SnapshotInfo, unseen_notes
from sre_expert.diagnosis.engine import Report, diagnose
from sre_expert.diagnosis.trace import FAILED, PASSED, SKIPPED, trace
from sre_expert.render.dr_view import run_dr_status
from sre_expert.sources.bundle_reader import load_bundle
from sre_expert.sources.bundle_writer import write_bundle as collect_bundle
from sre_expert.sources.live import sweep
from sre_expert.sources.memory import snapshot_from_objects
from synth import faults
from synth.builder import PlatformBuilder
from synth.bundle_writer import write_bundle

pytestmark = pytest.mark.e2e

TENANT = "mycure-production"
STG = "lfh-staging"
GW_NS = gf.GW_NS


# ------------------------------------------------------------------------------------------- helpers


def scoped(b: PlatformBuilder, scope: Iterable[str], *, cluster_readable: bool = True) -> Snapshot:
    """What `-n` sweeps of `b` read: namespaced objects and logs only in `scope`; cluster-scoped kinds in
    full, or (cluster_readable=False, a namespaced Role) not at all and recorded as forbidden."""
    scope = tuple(scope)
    cluster_kinds = sorted({o["kind"] for o in b.objects if not o["metadata"].get("namespace")})
    objs = [o for o in b.objects
            if (o["metadata"].get("namespace") in scope) or (cluster_readable and not o["metadata"].get("namespace"))]
    errors = [] if cluster_readable else [{"kind": k, "namespace": "", "error": "forbidden"} for k in cluster_kinds]
    snap = snapshot_from_objects(copy.deepcopy(objs), b.now, logs={k: v for k, v in b.logs.items() if k[0] in scope},
                                 source="live", collection_errors=errors)
    snap.info.namespaces = scope
    return snap


def keys(report: Report, scope: Iterable[str]) -> set[tuple[str, str, bool]]:
    """(code, object, root cause) of the findings about objects inside `scope` or cluster-scoped."""
    inside = set(scope)
    return {(f.code, f.object.display(), f.root_cause) for f in report.findings
            if f.object.namespace in inside or not f.object.namespace}


def dump(report: Report) -> str:
    return "\n".join([f"{f.severity} {f.code} {f.object.display()}: {f.title}" for f in report.findings]
                     + [f"not checked: {n}" for n in report.not_checked])


def line(report: Report, check: str) -> str:
    found = [n for n in report.not_checked if n.startswith(f"{check}: ")]
    assert len(found) == 1, dump(report)
    return found[0]


def pod_of(b: PlatformBuilder, kind: str, name: str, ns: str = TENANT) -> dict:
    return scenario.live_pods(b, kind, name, ns)[0]


# ------------------------------------------------------------------------------------------- the snapshot


def test_snapshot_knows_what_it_could_not_see() -> None:
    b = gf.healthy()
    snap = scoped(b, (STG,))
    assert snap.sees(STG) and snap.sees(None) and snap.sees("") and not snap.sees(GW_NS)
    assert snap.absent("Gateway", GW_NS, "shared-gateway") is None  # not swept: unknowable
    assert snap.absent("Service", STG, "api") is False
    assert snap.absent("Service", STG, "no-such-service") is True
    assert snap.absent("ClusterIssuer", None, "no-such-issuer") is True  # cluster-scoped kinds were listed
    with unseen_notes() as notes:
        assert snap.outside(GW_NS, "parent Gateway gateway-system/shared-gateway")
        assert snap.outside(GW_NS, "parent Gateway gateway-system/shared-gateway")
        assert not snap.outside(STG, "Service lfh-staging/api")
    assert notes == ["parent Gateway gateway-system/shared-gateway"]
    assert snap.info.scope_text() == "-n lfh-staging"


def test_a_whole_cluster_snapshot_sees_every_namespace() -> None:
    snap = scenario.snapshot(gf.healthy())
    assert snap.info.namespaces == () and snap.sees("anything") and snap.absent("Gateway", GW_NS, "nope") is True
    with unseen_notes() as notes:
        assert not snap.outside("anything", "x")
    assert notes == []


def test_a_kind_forbidden_in_every_swept_namespace_was_not_collected() -> None:
    snap = Snapshot([], SnapshotInfo(captured_at=gf.NOW, namespaces=("a", "b"), collection_errors=[
        {"kind": "Secret", "namespace": "a", "error": "forbidden"}, {"kind": "Secret", "namespace": "b", "error": "forbidden"},
        {"kind": "ConfigMap", "namespace": "a", "error": "forbidden"}]))
    assert not snap.collected("Secret")
    assert snap.collected("ConfigMap") and snap.absent("ConfigMap", "a", "x") is None and snap.absent("ConfigMap", "b", "x")


# ------------------------------------------------------------------------------------------- healthy platform


@pytest.mark.parametrize("scope", [(STG,), (TENANT,), (STG, TENANT), (GW_NS,), ("monitoring",), ("velero",),
                                   ("cert-manager",), ("envoy-gateway-system",), ("kube-system",)])
def test_a_healthy_platform_swept_in_some_namespaces_reports_nothing(scope: tuple[str, ...]) -> None:
    """Before scoping was understood a tenant sweep gave 18 findings (controllers, issuer and store Secrets,
    components "not installed", the route's Gateway), gateway-system 19, monitoring 18."""
    report = diagnose(scoped(gf.healthy(), scope))
    assert report.findings == [], dump(report)
    assert not [n for n in report.not_checked if "check failed" in n or "undeclared" in n], dump(report)


def test_a_namespaced_role_sweep_of_a_healthy_tenant_reports_nothing() -> None:
    report = diagnose(scoped(gf.healthy(), (STG,), cluster_readable=False))
    assert report.findings == [], dump(report)
    assert "could not read Node: forbidden" in line(report, "nodes.nodes")


def test_the_not_checked_lines_name_what_was_not_visible() -> None:
    report = diagnose(scoped(gf.healthy(), (STG,)))
    assert line(report, "gateway.http_routes") == (
        "gateway.http_routes: parent Gateway gateway-system/shared-gateway is outside the swept namespaces "
        "(-n lfh-staging); not checked")
    assert "ClusterSecretStore gcp-secretstore credentials Secret external-secrets-system/gcpsm-secret" in line(
        report, "externalsecrets.cluster_secret_stores")
    assert "DNS-01 credentials Secret cert-manager/cloudflare-api-token" in line(report, "certmanager.issuers")
    comps = line(report, "components.platform_components")
    assert "cert-manager controllers (namespace cert-manager)" in comps and "Argo CD (GitOps) (namespace argocd)" in comps
    assert "Velero schedules and backups (namespace velero)" in line(report, "velero.recovery_points")
    assert all(n.endswith("outside the swept namespaces (-n lfh-staging); not checked") for n in report.not_checked
               if "outside" in n)


def test_services_a_service_monitor_selects_elsewhere_are_not_checked() -> None:
    report = diagnose(scoped(gf.healthy(), ("monitoring",)))
    assert report.findings == []
    assert "Services selected by ServiceMonitor monitoring/cert-manager in cert-manager" in line(
        report, "monitoring.service_monitors")


# ------------------------------------------------------------------------------------------- faults in scope

FAULTS: dict[str, tuple[Callable[[PlatformBuilder], object], tuple[str, ...]]] = {  # fault, scope
    "crashloop": (lambda b: faults.crashloop(b, pod_of(b, "Deployment", "api")), (TENANT,)),
    "oomkilled": (lambda b: faults.oomkilled(b, pod_of(b, "StatefulSet", "mongodb")), (TENANT,)),
    "image-pull": (lambda b: faults.image_pull_backoff(b, b.workload("Deployment", TENANT, "api")), (TENANT,)),
    "probe": (lambda b: faults.probe_failure(b, pod_of(b, "Deployment", "api")), (TENANT,)),
    "quota": (lambda b: faults.quota_exceeded(b, b.workload("Deployment", TENANT, "api")), (TENANT,)),
    "eso-remote-key": (lambda b: esf.remote_key_missing(b), (TENANT,)),
    "eso-target-deleted": (lambda b: esf.target_deleted(b), (TENANT,)),
    "route-section": (lambda b: gf.route_section(b, STG, "api", 0, "https-lfhstg", (
        "False", "NoMatchingParent", "No listeners match this parent ref")), (STG,)),
    "route-not-allowed": (lambda b: gf.listeners_same_namespace(b, ("https-mycure", "http-mycure")), (TENANT,)),
    "route-wrong-gateway": (lambda b: gf.route_wrong_gateway(b, TENANT, "api", "shared-gatway"), (TENANT,)),
    "backend-not-found": (lambda b: gf.route_backend(b, TENANT, "api", service="api-svc", resolved=(
        "False", "BackendNotFound", "Service mycure-production/api-svc not found")), (TENANT,)),
    "backend-crashloop": (lambda b: gf.backend_crashloop(b, TENANT), (TENANT,)),
    "reference-grant": (lambda b: gf.reference_grant_deleted(b, "monitoring", GW_NS, "grafana", "grafana"), (GW_NS,)),
    "controller-crashloop": (gf.controller_crashloop, (gf.EG_NS,)),
    "issuer-token-both-swept": (cmf.cloudflare_token_missing, (GW_NS, "cert-manager")),
}
BUILDERS = {"issuer-token-both-swept": cmf.platform}  # faults written at another NOW


@pytest.mark.parametrize("name", list(FAULTS))
def test_faults_inside_the_scope_keep_their_codes_and_root_causes(name: str) -> None:
    fault, scope = FAULTS[name]
    b = BUILDERS.get(name, gf.healthy)()
    fault(b)
    whole = diagnose(scenario.snapshot(b))
    expected = keys(whole, scope)
    assert any(root for _, _, root in expected), dump(whole)
    report = diagnose(scoped(b, scope))
    assert keys(report, scope) == expected, dump(report)
    # and nothing about objects the sweep never listed
    assert all(f.object.namespace in scope or not f.object.namespace for f in report.findings), dump(report)


def test_a_route_rejected_by_a_gateway_outside_the_scope_is_judged_by_its_own_status() -> None:
    b = gf.healthy()
    FAULTS["route-section"][0](b)
    report = diagnose(scoped(b, (STG,)))
    [f] = report.findings
    assert f.code == "HTTPROUTE-NO-MATCHING-PARENT" and f.root_cause
    assert scenario.has(f.evidence, "NoMatchingParent", "No listeners match this parent ref")
    assert scenario.has(f.evidence, "Gateway gateway-system/shared-gateway is outside the swept namespaces (-n lfh-staging)")
    assert not scenario.has(f.evidence, "names no listener")  # that needs the Gateway's listeners


def test_a_misspelled_gateway_outside_the_scope_is_not_called_missing() -> None:
    b = gf.healthy()
    gf.route_wrong_gateway(b, TENANT, "api", "shared-gatway")
    [f] = diagnose(scoped(b, (TENANT,))).findings
    assert f.code == "HTTPROUTE-NOT-RECONCILED" and scenario.has(f.evidence, "status.parents has no entry for it")
    assert scenario.has(f.evidence, "outside the swept namespaces") and not scenario.has(f.evidence, "does not exist")


def test_a_root_cause_outside_the_scope_is_not_checked_and_its_symptoms_stay() -> None:
    b = cmf.platform()
    cmf.cloudflare_token_missing(b)
    whole = diagnose(scenario.snapshot(b))
    assert any(f.code == "CERT-ISSUER-SECRET-MISSING" and f.root_cause for f in whole.findings)
    report = diagnose(scoped(b, (GW_NS,)))
    assert not [f for f in report.findings if f.code == "CERT-ISSUER-SECRET-MISSING"], dump(report)
    assert "Secret cert-manager/cloudflare-api-token" in line(report, "certmanager.issuers")
    symptoms = {(c, o) for c, o, _ in keys(whole, (GW_NS,)) if c != "CERT-ISSUER-SECRET-MISSING"}
    assert {(c, o) for c, o, _ in keys(report, (GW_NS,))} == symptoms  # every symptom in scope is still reported
    challenge = next(f for f in report.findings if f.code == "CERT-CHALLENGE-STUCK")
    assert scenario.has(challenge.evidence, "cert-manager/cloudflare-api-token", "outside the swept namespaces")


def test_netpol_dns_rules_to_an_unswept_kube_system_are_not_judged() -> None:
    b = gf.healthy()
    pol = b.require("NetworkPolicy", TENANT, "restrict-egress")
    pol["spec"]["egress"][0]["to"] = [{"ipBlock": {"cidr": "10.96.0.10/32"}}]  # the kube-dns Service IP
    assert diagnose(scenario.snapshot(b)).findings == []
    report = diagnose(scoped(b, (TENANT,)))
    assert report.findings == [], dump(report)
    assert "cluster DNS pods (namespace kube-system)" in line(report, "netpol.network_policies")
    pol["spec"]["egress"].pop(0)  # now no rule opens port 53 to anything that could be DNS: blocked either way
    whole = diagnose(scenario.snapshot(b))
    assert {"NETPOL-DNS-BLOCKED"} <= {f.code for f in whole.findings}
    assert keys(diagnose(scoped(b, (TENANT,))), (TENANT,)) == keys(whole, (TENANT,))


# ------------------------------------------------------------------------------------------- velero, dr status


def test_velero_outside_the_scope_gives_no_backup_verdicts() -> None:
    b = vf.platform()
    vf.bsl_unavailable(b)
    report = diagnose(scoped(b, (TENANT,)))
    assert not [f for f in report.findings if f.component == "velero"], dump(report)
    buf = io.StringIO()
    code = run_dr_status(scoped(b, (TENANT,)), "json", Console(file=buf, width=200))
    doc = json.loads(buf.getvalue())
    assert code == 0 and doc["namespaces"] == [] and doc["veleroInstalled"] is None
    assert doc["sweptNamespaces"] == [TENANT] and doc["notChecked"] == ["Velero schedules and backups (namespace velero)"]
    buf = io.StringIO()
    run_dr_status(scoped(b, (TENANT,)), "terminal", Console(file=buf, width=200))
    assert "not installed" not in buf.getvalue() and "outside the swept namespaces (-n mycure-production)" in buf.getvalue()


def test_dr_status_judges_only_the_swept_namespaces() -> None:
    b = vf.platform()
    vf.unprotect(b, "lfh-staging")
    snap = scoped(b, ("velero", STG))
    buf = io.StringIO()
    code = run_dr_status(snap, "json", Console(file=buf, width=200))
    doc = json.loads(buf.getvalue())
    rows = {r["namespace"]: r["status"] for r in doc["namespaces"]}
    assert code == 1 and rows[STG] == "unprotected" and set(rows) <= {"velero", STG}
    assert "namespace mycure-production" in doc["notChecked"]
    report = diagnose(snap)
    assert {(f.code, f.object.name) for f in report.findings if f.component == "velero"} == {
        ("VELERO-NAMESPACE-UNPROTECTED", STG)}, dump(report)


# ------------------------------------------------------------------------------------------- trace


def test_trace_through_a_gateway_outside_the_scope_checks_the_rest() -> None:
    b = gf.healthy()
    res = trace(scoped(b, (STG,)), "api.stg.localfirsthealth.com")
    status = {h.name: h.status for h in res.hops}
    assert status["gateway"] == status["listener"] == SKIPPED
    assert status["route"] == status["service"] == status["endpoints"] == status["pods"] == PASSED
    assert res.ok and res.exit_code == 0
    gw = next(h for h in res.hops if h.name == "gateway")
    assert "outside the swept namespaces (-n lfh-staging): not checked" in gw.evidence[0]

    gf.backend_crashloop(b, STG)
    res = trace(scoped(b, (STG,)), "route/lfh-staging/api")
    assert res.broken_hop is not None and res.broken_hop.name in ("endpoints", "pods") and res.exit_code == 1
    assert all(h.status != FAILED for h in res.hops if h.name in ("gateway", "listener", "route"))


def test_trace_of_something_outside_the_scope_says_where_it_looked() -> None:
    res = trace(scoped(gf.healthy(), (STG,)), "svc/mycure-production/api")
    assert not res.resolved and "only the swept namespaces were searched: -n lfh-staging" in res.message


# ------------------------------------------------------------------------------------------- live and bundles


def _run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=180,
                          env={"HOME": str(home), "PATH": "/usr/bin:/bin"})


def _findings(doc: dict) -> list[tuple]:
    return sorted((f["code"], f["object"]["kind"], f["object"]["namespace"] or "", f["object"]["name"], f["rootCause"])
                  for f in doc["findings"])


def _scope_lines(not_checked: list[str]) -> list[str]:
    return [n for n in not_checked if "outside the swept namespaces" in n]


def test_live_sweep_with_n_then_its_bundle_report_nothing_on_a_healthy_platform(tmp_path: Path) -> None:
    """The live source with namespaces against `bundle serve`, at the platform's clock: no finding; the
    bundle written from that sweep carries the scope in bundle.json and reads back to the same report."""
    b = gf.healthy()
    with served(write_bundle(b, tmp_path / "platform"), tmp_path) as (_, kc):
        result = sweep(fast(kc, b.now, namespaces=(STG,)))
    live = result.snapshot()
    assert live.info.namespaces == (STG,) and live.info.source == "live"
    report = diagnose(live)
    assert report.findings == [], dump(report)
    assert ("gateway.http_routes: parent Gateway gateway-system/shared-gateway is outside the swept namespaces "
            "(-n lfh-staging); not checked") in report.not_checked
    out, _ = collect_bundle(result, tmp_path / "stg")
    assert json.loads((out / "bundle.json").read_text())["namespaces"] == [STG]
    offline = load_bundle(out)
    assert offline.info.namespaces == (STG,)
    again = diagnose(offline)
    assert again.findings == [] and _scope_lines(again.not_checked) == _scope_lines(report.not_checked)


def test_live_sweep_with_n_finds_the_faults_inside_the_scope(tmp_path: Path) -> None:
    b = gf.healthy()
    gf.route_section(b, STG, "api", 0, "https-lfhstg", ("False", "NoMatchingParent", "No listeners match this parent ref"))
    faults.crashloop(b, pod_of(b, "Deployment", "api", STG))
    whole = diagnose(scenario.snapshot(b))
    with served(write_bundle(b, tmp_path / "platform"), tmp_path) as (_, kc):
        report = diagnose(sweep(fast(kc, b.now, namespaces=(STG,))).snapshot())
    assert keys(report, (STG,)) == keys(whole, (STG,)), dump(report)
    assert {"HTTPROUTE-NO-MATCHING-PARENT", "POD-CRASHLOOP"} <= {c for c, _, root in keys(report, (STG,)) if root}


def test_cli_check_n_and_bundle_collect_n_agree(tmp_path: Path) -> None:
    """The commands a user runs: `check -n` live, `bundle collect -n`, then `check --bundle` on it."""
    b = gf.healthy()
    out = tmp_path / "stg.tar.gz"
    with served(write_bundle(b, tmp_path / "platform"), tmp_path) as (_, kc):
        live = _run("check", "--kubeconfig", str(kc), "-n", STG, "-o", "json", home=tmp_path)
        collect = _run("bundle", "collect", "--kubeconfig", str(kc), "-n", STG, "-o", str(out), home=tmp_path)
    offline = _run("check", "--bundle", str(out), "-o", "json", home=tmp_path)
    assert collect.returncode == 0 and "Traceback" not in collect.stderr, collect.stderr
    assert load_bundle(out).info.namespaces == (STG,)
    doc, odoc = json.loads(live.stdout), json.loads(offline.stdout)
    assert offline.returncode == live.returncode and _findings(odoc) == _findings(doc)
    assert doc["source"] == "live" and odoc["source"] == "bundle"
    assert _scope_lines(odoc["notChecked"]) == _scope_lines(doc["notChecked"]) != []
    assert not [f for f in doc["findings"] if f["code"].startswith(("COMPONENT-", "HTTPROUTE-", "ESO-STORE", "CERT-ISSUER"))]


def test_bundle_json_namespaces_is_read_back_and_checked(tmp_path: Path) -> None:
    b = gf.healthy()
    good = write_bundle(b, tmp_path / "good")
    (good / "bundle.json").write_text(json.dumps({"capturedAt": "2026-11-26T10:00:00Z", "namespaces": []}))
    assert load_bundle(good).info.namespaces == ()
    (good / "bundle.json").write_text(json.dumps({"capturedAt": "2026-11-26T10:00:00Z", "namespaces": "lfh-staging"}))
    snap = load_bundle(good)
    assert snap.info.namespaces == () and any('"namespaces" is not a list' in w for w in snap.info.warnings)


def test_components_outside_the_scope_are_not_checked_not_down() -> None:
    from sre_expert.knowledge.platform_components import load_components, status_of

    b = scenario.platform(gf.NOW)
    snap = scoped(b, [TENANT])
    findings = diagnose(snap).findings
    states = {name: status_of(snap, comp, findings) for name, comp in load_components().items()}
    # installed (cluster-scoped CRDs prove it) or not, a component whose controllers were not swept is never
    # called healthy, down or missing
    assert {n: s.state for n, s in states.items()} == {n: "not-checked" for n in states}
    cm = states["cert-manager"]
    assert cm.installed
    ctl = cm.controllers[0]
    assert not ctl.visible and ctl.summary() == "not checked (namespace not swept)"
    assert ctl.to_json()["visible"] is False
    whole = status_of(snapshot_from_objects(copy.deepcopy(b.objects), b.now), load_components()["cert-manager"], [])
    assert whole.state == "healthy" and whole.controllers[0].visible
