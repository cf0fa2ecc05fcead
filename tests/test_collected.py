"""Collected means collected: a kind the capture does not hold is "not checked", never "missing".

The partial bundles are what the README's recipe leaves when some `kubectl get` fails: files of the demo
platform (real-looking objects, full status, ownerReferences) copied alone, no bundle.json."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sre_expert.core.kinds import COLLECTED_KINDS
from sre_expert.diagnosis.engine import diagnose
from sre_expert.sources.api_discovery import Served
from sre_expert.sources.bundle_reader import load_bundle
from sre_expert.sources.bundle_writer import bundle_meta, write_bundle
from sre_expert.sources.live import Sweep
from sre_expert.sources.resolve import demo_path

pytestmark = pytest.mark.e2e

EXE = str(Path(sys.executable).parent / "sre-expert")
SPECS = {s.kind: s for s in COLLECTED_KINDS}
# Conclusions that something does not exist: none may be drawn about a kind that was not collected.
ABSENCE = ("missing", "not installed", "does not exist", "no such", "not found", "no velero schedule")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "160"})


def partial(tmp_path: Path, *files: str) -> Path:
    root = tmp_path / "-".join(f.split(".")[0] for f in files)[:60]
    root.mkdir()
    for f in files:
        shutil.copy(demo_path() / f, root / f)
    return root


@pytest.fixture(scope="module")
def pods_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return partial(tmp_path_factory.mktemp("partial"), "pods.json")


@pytest.fixture(scope="module")
def pods_nodes_events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return partial(tmp_path_factory.mktemp("partial"), "pods.json", "nodes.json", "events.json")


@pytest.mark.parametrize("bundle", ["pods_only", "pods_nodes_events"])
def test_no_conclusion_about_a_kind_that_was_not_collected(bundle: str, request: pytest.FixtureRequest) -> None:
    snap = load_bundle(request.getfixturevalue(bundle))
    held = {"Pod"} | ({"Node", "Event"} if bundle == "pods_nodes_events" else set())
    assert {k for k in SPECS if snap.collected(k)} == held
    report = diagnose(snap)
    serious = [f for f in report.findings if f.severity in ("critical", "warning")]
    for f in serious:
        # (the catalogue's generic detail may name causes; the title and evidence are this finding's claims)
        if f.code == "EVENT-WARNING":  # the event's own words ("not found") are the cluster's, quoted
            assert f.object.kind in held or any("its kind was not collected" in e for e in f.evidence), f.evidence
            continue
        text = " ".join([f.title, *f.evidence]).lower()
        assert not any(a in text for a in ABSENCE), f"{f.code}: {f.title} {f.evidence}"
        assert not f.code.startswith("COMPONENT-"), f.title
        # a finding about an object of an uncollected kind stands only on events that were captured
        assert f.object.kind in held, f"{f.code}: {f.title}"
    # the real problems in those pods are still found
    codes = {(f.code, f.object.name) for f in serious}
    assert ("POD-OOMKILLED", "mongodb-0") in codes
    assert sum(1 for c, _ in codes if c == "POD-CRASHLOOP") == 2
    # "not checked" names what was missing and how to add it
    line = next(t for t in report.not_checked if t.startswith("not in the bundle"))
    for kind in ("Deployment", "StatefulSet", "Certificate", "Schedule", "Application"):
        assert kind in line
    assert "Pod," not in line and not line.endswith("Pod")
    how = next(t for t in report.not_checked if t.startswith("to add them"))
    assert "deployments.apps" in how and "kubectl get $r -A -o json > $r.json" in how
    assert not [t for t in report.not_checked if "could not read" in t or "check failed" in t], report.not_checked


def test_the_full_demo_holds_every_kind_and_has_no_uncollected_line() -> None:
    snap = load_bundle(demo_path())
    assert all(snap.collected(k) for k in SPECS) and snap.uncollected() == []


def test_component_trace_and_dr_say_not_checked(pods_nodes_events: Path) -> None:
    b = str(pods_nodes_events)
    comp = run("component", "--bundle", b, "-o", "json")
    assert comp.returncode == 0, comp.stdout + comp.stderr
    states = {c["name"]: c["state"] for c in json.loads(comp.stdout)["components"]}
    assert states["velero"] == "not-checked" and states["cert-manager"] == "not-checked", states
    velero = run("component", "--bundle", b, "velero")
    assert "not checked (Deployments were not collected)" in velero.stdout and "missing" not in velero.stdout

    dr = run("dr", "status", "--bundle", b, "-o", "json")
    assert dr.returncode == 0, dr.stdout + dr.stderr
    doc = json.loads(dr.stdout)
    assert doc["namespaces"] == [] and doc["veleroInstalled"] is None
    assert "Velero Schedule and Backup were not in the bundle" in doc["notChecked"][0]
    assert "kubectl get schedules.velero.io -A -o json > schedules.velero.io.json" in doc["notChecked"][0]
    term = run("dr", "status", "--bundle", b)
    assert "not installed" not in term.stdout and "NO SCHEDULE" not in term.stdout

    plan = json.loads(run("dr", "plan", "namespace-deletion", "-n", "mycure-production", "--bundle", b, "-o", "json").stdout)
    assert [(p["ok"], p["detail"]) for p in plan["preconditions"]] == [
        (None, "not checked: Deployments were not collected"), (None, "not checked: Backups were not collected")]
    assert plan["notes"][0].startswith("Velero Schedule and Backup were not collected")

    host = run("trace", "--bundle", b, "api.mycure.md")
    assert "HTTPRoute was not collected" in host.stdout and "no HTTPRoute serves" not in host.stdout
    svc = run("trace", "--bundle", b, "svc/mycure-production/api")
    assert "Service was not collected" in svc.stdout


def test_trace_claims_nothing_about_pods_when_pods_were_not_collected(tmp_path: Path) -> None:
    keep = [p.name for p in demo_path().glob("*.json") if p.name not in ("pods.json", "bundle.json")]
    root = partial(tmp_path, *keep)
    res = run("trace", "--bundle", str(root), "-o", "json", "svc/mycure-production/api")
    doc = json.loads(res.stdout)
    hops = {h["name"]: h for h in doc["hops"]}
    assert hops["pods"]["status"] == "skipped", doc["hops"]
    # the EndpointSlice's own readiness still counts; which pods the selector matches is not claimed
    ev = hops["endpoints"]["evidence"]
    assert "Pods were not collected: which pods the selector matches is not checked" in ev
    assert not any("matches no pod" in e for e in ev), ev
    # a Service whose endpoints are ready: the pods hop says why it was not checked, and the trace passes
    ok = run("trace", "--bundle", str(root), "-o", "json", "argocd.mycureapp.com")
    doc = json.loads(ok.stdout)
    pods = next(h for h in doc["hops"] if h["name"] == "pods")
    assert ok.returncode == 0 and pods["status"] == "skipped" and "Pod was not collected" in pods["title"], doc


def _list(kind: str, items: list | None, api_version: str = "v1") -> str:
    return json.dumps({"apiVersion": api_version, "kind": kind, "items": items, "metadata": {"resourceVersion": "4711"}})


def test_empty_lists_and_bundle_json_kinds_count_as_collected(tmp_path: Path) -> None:
    shutil.copy(demo_path() / "pods.json", tmp_path / "pods.json")
    # what `kubectl get deployments.apps -A -o json` prints when there are none: the name says the kind
    (tmp_path / "deployments.apps.json").write_text(_list("List", []))
    (tmp_path / "daemonsets.yaml").write_text("apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: \"\"\n")
    (tmp_path / "whatever.json").write_text(_list("StatefulSetList", [], "apps/v1"))
    (tmp_path / "bundle.json").write_text(json.dumps({
        "capturedAt": "2026-11-26T03:07:12Z", "kinds": ["velero.io/Schedule", "Backup.velero.io", "Secret"],
        "kindsNotInstalled": ["Certificate.cert-manager.io"]}))
    snap = load_bundle(tmp_path)
    for kind in ("Pod", "Deployment", "DaemonSet", "StatefulSet", "Schedule", "Backup", "Secret", "Certificate"):
        assert snap.collected(kind), kind
    for kind in ("Node", "Event", "Issuer", "Application"):
        assert not snap.collected(kind), kind


def test_the_crd_list_tells_which_custom_kinds_are_not_installed(tmp_path: Path) -> None:
    shutil.copy(demo_path() / "pods.json", tmp_path / "pods.json")
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "certificates.cert-manager.io", "uid": "c0ffee00-0000-4000-8000-000000000001",
                        "resourceVersion": "310", "creationTimestamp": "2026-04-25T22:20:00Z"},
           "spec": {"group": "cert-manager.io", "scope": "Namespaced",
                    "names": {"kind": "Certificate", "listKind": "CertificateList", "plural": "certificates",
                              "singular": "certificate", "shortNames": ["cert", "certs"]},
                    "versions": [{"name": "v1", "served": True, "storage": True}]},
           "status": {"acceptedNames": {"kind": "Certificate", "plural": "certificates"}, "storedVersions": ["v1"]}}
    (tmp_path / "crds.json").write_text(_list("List", [crd]))
    snap = load_bundle(tmp_path)
    assert not snap.collected("Certificate")  # installed, but its objects were not captured
    assert snap.collected("Schedule") and snap.collected("Application")  # no CRD: none can exist
    assert not snap.collected("Deployment")  # built-in kinds exist on every cluster


def _served(kind: str) -> Served:
    s = SPECS[kind]
    return Served(s, "v1", s.resource, s.namespaced)


def test_a_sweep_and_its_bundle_know_what_was_listed(tmp_path: Path) -> None:
    pods = json.loads((demo_path() / "pods.json").read_text())["items"][:3]
    sweep = Sweep(datetime(2026, 11, 26, 3, 7, 12, tzinfo=UTC), "prod", "v1.31.2", "test", (),
                  lists=[(_served("Pod"), pods), (_served("Deployment"), [])],
                  not_installed=[SPECS["Schedule"]],
                  errors=[{"kind": "Secret", "namespace": "", "error": "forbidden"}])
    assert bundle_meta(sweep)["kinds"] == ["Pod", "apps/Deployment"]
    for snap in (sweep.snapshot(), load_bundle(write_bundle(sweep, tmp_path / "b")[0])):
        assert snap.collected("Pod") and snap.collected("Deployment") and snap.collected("Schedule")
        assert not snap.collected("Secret") and not snap.collected("Certificate")


CLAIMS = ("does not exist", "not installed", "is missing", "pod(s) missing", "no such", "not permitted", "matches no pod",
          "no velero schedule")


@pytest.mark.parametrize("name", [p.name for p in sorted(demo_path().glob("*.json")) if p.name != "bundle.json"])
def test_one_kind_alone_gives_no_claim_about_the_others(name: str, tmp_path: Path) -> None:
    """Each file of the demo alone: whatever it shows is judged on its own status; nothing it refers to in
    a kind that was not collected is said to be missing."""
    shutil.copy(demo_path() / name, tmp_path / name)
    report = diagnose(load_bundle(tmp_path))
    assert not [t for t in report.not_checked if "check failed" in t], report.not_checked
    for f in report.findings:
        if f.severity == "info" or f.code == "EVENT-WARNING":
            continue
        # what the cluster itself said is quoted ("… does not exist." in a condition message): not ours
        text = re.sub(r'"[^"]*"', '""', " ".join([f.title, *f.evidence])).lower()
        assert not any(c in text for c in CLAIMS), f"{f.code}: {f.title} {f.evidence}"


def demo_without(root: Path, dropped: str) -> Path:
    for p in demo_path().iterdir():
        if p.is_dir():
            shutil.copytree(p, root / p.name)
        elif p.name not in (dropped, "bundle.json"):
            shutil.copy(p, root / p.name)
    meta = json.loads((demo_path() / "bundle.json").read_text())
    del meta["kinds"]
    (root / "bundle.json").write_text(json.dumps(meta))
    return root


def test_trace_does_not_call_a_cross_namespace_backend_unpermitted_without_reference_grants(tmp_path: Path) -> None:
    root = demo_without(tmp_path, "referencegrants.gateway.networking.k8s.io.json")
    res = run("trace", "--bundle", str(root), "-o", "json", "argocd.mycureapp.com")
    assert res.returncode == 0, res.stdout
    svc = next(h for h in json.loads(res.stdout)["hops"] if h["name"] == "service")
    assert any("ReferenceGrants were not collected" in e for e in svc["evidence"]), svc


@pytest.mark.parametrize(("dropped", "claim"), [
    ("referencegrants.gateway.networking.k8s.io.json", "HTTPROUTE-BACKEND-NOT-PERMITTED"),
    ("gatewayclasses.gateway.networking.k8s.io.json", "GATEWAY-NOT-ACCEPTED"),
    ("deployments.apps.json", "HPA-TARGET-MISSING"),
    ("clustersecretstores.external-secrets.io.json", "does not exist; no ClusterSecretStore exists"),
])
def test_the_demo_without_one_kind_claims_nothing_about_it(dropped: str, claim: str, tmp_path: Path) -> None:
    """The whole demo but one file (and no bundle.json "kinds"): what referred to the missing kind is not
    said to be broken because of it."""
    report = diagnose(load_bundle(demo_without(tmp_path, dropped)))
    said = [f"{f.code}: {f.title} {f.evidence}" for f in report.findings]
    assert not [s for s in said if claim in s], said
    kind = json.loads((demo_path() / dropped).read_text())["items"][0]["kind"]
    assert kind in next(t for t in report.not_checked if t.startswith("not in the bundle"))
