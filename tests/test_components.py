"""The components framework: data files, detection, status, the components check and `component` command."""

from __future__ import annotations

import copy
import io
import json

import policy_faults as pf
import pytest
from monitoring_faults import NOW, dump, platform, run, serious
from rich.console import Console

from sre_expert.diagnosis.engine import diagnose
from sre_expert.knowledge.platform_components import (
    ComponentDataError,
    component_status,
    detect,
    image_tag,
    load_components,
    parse_components,
    resolve,
    version_matches,
)
from sre_expert.render.component_view import run_component, run_components_list
from sre_expert.sources.memory import snapshot_from_objects

pytestmark = pytest.mark.scenario

MINE = ("kube-prometheus", "kyverno", "falco")

GOOD = """
name: demo
title: Demo
version: v1.2.3
namespaces: [demo]
detect: {kinds: [Demo], namespaces: [demo]}
controllers: [{kind: Deployment, namespace: demo, name: demo}]
healthy: [the demo Deployment is available]
commands: [{description: pods, command: kubectl get pods -n demo}]
"""


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=140, color_system=None, highlight=False), buf


# ---------------------------------------------------------------- data files


def test_packaged_component_files_load() -> None:
    comps = load_components()
    assert set(MINE) <= set(comps)
    assert comps["kube-prometheus"].component == "monitoring"
    assert comps["kyverno"].component == comps["falco"].component == "policy"
    for c in comps.values():
        assert c.healthy and c.commands and c.namespaces, c.name


@pytest.mark.parametrize("mutate, message", [
    (lambda s: s + "colour: blue\n", "unknown keys ['colour']"),
    (lambda s: s.replace("version: v1.2.3\n", ""), "missing required keys ['version']"),
    (lambda s: s.replace("version: v1.2.3", "version: 1.2"), "'version' must be quoted"),
    (lambda s: s.replace("kind: Deployment", "kind: Pod"), "controllers[0]: kind must be one of"),
    (lambda s: s.replace("[the demo Deployment is available]", "\n  - the demo: is available"), "healthy[0]"),
    (lambda s: s.replace("{description: pods, command: kubectl get pods -n demo}", "{description: pods}"),
     "commands[0]: must have the keys description and command"),
    (lambda s: s.replace("detect: {kinds: [Demo], namespaces: [demo]}", "detect: {}"), "detect needs at least one"),
    (lambda s: s.replace("name: demo\ntitle", "name: Demo_1\ntitle"), "must be lower-case"),
])
def test_malformed_files_are_rejected_with_file_and_field(mutate, message) -> None:
    with pytest.raises(ComponentDataError) as e:
        parse_components([("demo.yaml", mutate(GOOD))])
    assert "demo.yaml" in str(e.value) and message in str(e.value), str(e.value)


def test_file_name_and_aliases_must_be_unambiguous() -> None:
    with pytest.raises(ComponentDataError, match="must be named after its component"):
        parse_components([("other.yaml", GOOD)])
    other = GOOD.replace("name: demo", "name: other").replace("title: Demo", "title: Other\naliases: [demo]")
    with pytest.raises(ComponentDataError, match="alias 'demo' already names component demo"):
        parse_components([("demo.yaml", GOOD), ("other.yaml", other)])
    assert parse_components([("demo.yaml", GOOD)])["demo"].component == "demo"


def test_resolve_names_aliases_and_catalogue_components() -> None:
    assert [c.name for c in resolve("kube-prometheus")] == ["kube-prometheus"]
    assert [c.name for c in resolve("grafana")] == ["kube-prometheus"]
    assert sorted(c.name for c in resolve("policy")) == ["falco", "kyverno"]
    assert resolve("nope") == []


def test_versions() -> None:
    assert image_tag("docker.io/bitnami/prometheus-operator:0.78.2") == "0.78.2"
    assert image_tag("registry:5000/kyverno@sha256:abc") is None
    assert image_tag("ghcr.io/kyverno/kyverno:v1.12.7@sha256:abc") == "v1.12.7"
    assert version_matches("0.78.2", "v0.78.2") and version_matches("1.12.7-debian-12-r3", "v1.12.7")
    assert not version_matches("v1.12.70", "v1.12.7") and not version_matches("v1.11.4", "v1.12.7")


# ---------------------------------------------------------------- detection and status


def test_healthy_platform_components_are_installed_and_healthy() -> None:
    b = platform()
    r = run(b)
    snap = snapshot_from_objects(copy.deepcopy(b.objects), NOW, logs=dict(b.logs))
    for name in MINE:
        comp = load_components()[name]
        assert detect(snap, comp), name
        st = component_status(snap, name, r.findings)
        assert st.installed and st.state == "healthy", (name, st.state, [f.id for f in st.findings])
        assert st.version_ok is True, (name, st.versions_seen)
        assert all(c.healthy for c in st.controllers), [c.to_json() for c in st.controllers]
    prom = component_status(snap, "kube-prometheus", r.findings)
    assert prom.versions_seen == ["0.78.2"]  # only the operator image carries the version, not Grafana's
    assert [c.summary() for c in prom.controllers][:2] == ["1/1 available", "1/1 available"]
    assert not [f for f in r.findings if f.code.startswith("COMPONENT-")]


def test_absent_component_is_information_only() -> None:
    b = platform()
    objs = [o for o in copy.deepcopy(b.objects)
            if (o["metadata"].get("namespace") != "falco" and not (o["kind"] == "Namespace" and o["metadata"]["name"] == "falco")
                and not (o["kind"] == "Application"
                         and (o.get("spec") or {}).get("destination", {}).get("namespace") == "falco"))]
    snap = snapshot_from_objects(objs, NOW, logs=dict(b.logs))
    r = diagnose(snap)
    falco = [f for f in r.findings if f.code == "COMPONENT-NOT-INSTALLED"]
    assert [(f.object.kind, f.object.name, f.severity, f.component) for f in falco] == [("Component", "falco", "info", "policy")]
    assert "no Deployments, StatefulSets, DaemonSets or Pods in namespace falco" in falco[0].evidence[0]
    assert not [f for f in r.findings if f.component == "policy" and f.severity != "info"]
    st = component_status(snap, "falco", r.findings)
    assert not st.installed and st.state == "not-installed" and st.versions_seen == []


def test_missing_controller_is_critical_and_explains_dependents() -> None:
    b = platform()
    snapshot_objs = [o for o in copy.deepcopy(b.objects)
                     if not (o["kind"] in ("Deployment", "ReplicaSet", "Pod") and o["metadata"].get("namespace") == "kyverno"
                             and o["metadata"]["name"].startswith("kyverno-reports-controller"))]
    r = diagnose(snapshot_from_objects(snapshot_objs, NOW, logs=dict(b.logs)))
    missing = [f for f in r.findings if f.code == "COMPONENT-CONTROLLER-MISSING"]
    assert [(f.object.kind, f.object.name, f.severity, f.component) for f in missing] == [
        ("Deployment", "kyverno-reports-controller", "critical", "policy")]
    assert missing[0].root_cause
    assert "installed: " in missing[0].evidence[-1]


def test_status_of_a_broken_component_lists_its_findings_only() -> None:
    b = platform()
    pf.webhook_unreachable(b, b.workload("Deployment", "mycure-production", "api"))
    r = run(b)
    snap = snapshot_from_objects(copy.deepcopy(b.objects), NOW, logs=dict(b.logs))
    ky = component_status(snap, "kyverno", r.findings)
    assert ky.state == "down"
    codes = {f.code for f in ky.findings}
    assert {"KYVERNO-WEBHOOK-UNAVAILABLE", "COMPONENT-CONTROLLER-UNAVAILABLE"} <= codes, codes
    assert all(f.code.startswith(("KYVERNO-", "COMPONENT-")) for f in ky.findings)
    admission = next(c for c in ky.controllers if c.ref.name == "kyverno-admission-controller")
    assert admission.summary() == "0/3 available" and not admission.healthy
    falco = component_status(snap, "falco", r.findings)
    assert falco.state == "healthy" and falco.findings == []


# ---------------------------------------------------------------- command


def test_component_command_panel_and_exit_codes() -> None:
    b = platform()
    r = run(b)
    snap = snapshot_from_objects(copy.deepcopy(b.objects), NOW, logs=dict(b.logs))
    con, buf = _console()
    assert run_component(snap, r, "kube-prometheus", "terminal", con) == 0
    out = buf.getvalue()
    for text in ("kube-prometheus (Prometheus, Alertmanager, Grafana)", "HEALTHY", "expected v0.78.2",
                 "running 0.78.2", "StatefulSet monitoring/prometheus-kube-prometheus-prometheus",
                 "Healthy looks like", "Not checked offline", "kubectl get prometheus,alertmanager -n monitoring"):
        assert text in out, (text, out)
    con, buf = _console()
    assert run_component(snap, r, "monitoring", "json", con) == 0
    data = json.loads(buf.getvalue())
    assert data["name"] == "kube-prometheus" and data["installed"] and data["version"]["matches"] is True
    assert {c["name"]: c["healthy"] for c in data["controllers"]}["grafana"] is True


def test_component_command_on_a_failing_component() -> None:
    b = platform()
    pf.webhook_unreachable(b, b.workload("Deployment", "mycure-production", "api"))
    r = run(b)
    snap = snapshot_from_objects(copy.deepcopy(b.objects), NOW, logs=dict(b.logs))
    con, buf = _console()
    assert run_component(snap, r, "kyverno", "terminal", con) == 1
    out = buf.getvalue()
    assert "DOWN" in out and "0/3" in out and "KYVERNO-WEBHOOK-UNAVAILABLE" in out, out
    assert "caused by:" in out
    con, buf = _console()
    assert run_component(snap, r, "policy", "json", con) == 1
    data = json.loads(buf.getvalue())
    assert sorted(c["name"] for c in data["components"]) == ["falco", "kyverno"]


def test_unknown_component_exits_2_with_the_known_names() -> None:
    b = platform()
    r = run(b)
    snap = snapshot_from_objects(copy.deepcopy(b.objects), NOW, logs=dict(b.logs))
    con, buf = _console()
    err, err_buf = _console()
    assert run_component(snap, r, "istio", "terminal", con, err_console=err) == 2
    assert "unknown component 'istio'" in err_buf.getvalue()
    for name in load_components():
        assert name in err_buf.getvalue()
    con, buf = _console()
    assert run_component(snap, r, "istio", "json", con) == 2
    assert json.loads(buf.getvalue())["known"] == sorted(load_components())


def test_components_list() -> None:
    b = platform()
    r = run(b)
    snap = snapshot_from_objects(copy.deepcopy(b.objects), NOW, logs=dict(b.logs))
    con, buf = _console()
    code = run_components_list(snap, r, "terminal", con)
    out = buf.getvalue()
    for name in load_components():
        assert name in out
    assert "healthy" in out
    con, buf = _console()
    assert run_components_list(snap, r, "json", con) == code
    data = json.loads(buf.getvalue())
    by = {c["name"]: c for c in data["components"]}
    assert set(MINE) <= set(by) and all(by[n]["state"] == "healthy" for n in MINE), dump(r)
    assert not serious(r)
