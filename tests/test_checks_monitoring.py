"""kube-prometheus checks: one scenario per fault on the healthy platform, with the cause → symptom links.

Each scenario asserts the root cause (code, object, evidence), the findings it explains, and that nothing
else of severity warning or above appears (findings the untouched platform already has are ignored).
"""

from __future__ import annotations

from datetime import timedelta

import monitoring_faults as mf
import pytest
from monitoring_faults import NS, PROM, PROM_STS, assert_only, codes, one, platform, run

from sre_expert.checks.registry import _Params
from sre_expert.core.model import key_of
from sre_expert.knowledge.catalogue import catalogue
from synth import faults
from synth.meta import bump

pytestmark = pytest.mark.scenario

TENANT = "mycure-production"
MY_CODES = {c for c, s in catalogue().items() if s.component in ("monitoring", "policy", "platform")}


def test_healthy_platform_has_no_monitoring_findings() -> None:
    report = run(platform())
    assert [f.id for f in report.findings if f.component == "monitoring" or f.code in MY_CODES] == []


def test_every_remediation_template_formats() -> None:
    """Literal braces (jsonpath, JSON patches) must be doubled, or the check crashes at run time."""
    for code in MY_CODES:
        for r in catalogue()[code].remediation:
            if r.command:
                r.command.format_map(_Params(kind="Prometheus", namespace="ns", name="n", resource="prometheus"))


# ---------------------------------------------------------------- Prometheus / Alertmanager


def test_prometheus_disk_full_explains_unavailable_prometheus() -> None:
    b = platform()
    pod = mf.prometheus_disk_full(b)
    r = run(b)
    full = one(r, "PROMETHEUS-DISK-FULL")
    assert full.root_cause and full.severity == "critical"
    assert (full.object.kind, full.object.namespace, full.object.name) == ("Prometheus", NS, PROM)
    assert any("no space left on device" in e and f"pod {pod['metadata']['name']}" in e for e in full.evidence), full.evidence
    assert any("not checked offline" in e for e in full.evidence)
    assert ("PersistentVolumeClaim", NS, f"{PROM_STS}-db-{PROM_STS}-0") in full.subjects
    assert key_of(pod) in full.subjects
    unavailable = one(r, "PROMETHEUS-UNAVAILABLE")
    assert full.id in unavailable.caused_by and not unavailable.root_cause
    assert any("reason=NoPodReady" in e for e in unavailable.evidence), unavailable.evidence
    comp = one(r, "COMPONENT-CONTROLLER-UNAVAILABLE")
    assert (comp.object.kind, comp.object.name) == ("StatefulSet", PROM_STS) and not comp.root_cause
    assert comp.component == "monitoring"
    # The pod check's crash-loop finding is a second root until it links crash logs to the pod's volumes.
    assert_only(r, {"PROMETHEUS-DISK-FULL"}, {"POD-CRASHLOOP"})


def test_prometheus_pending_on_its_volume_is_a_symptom_of_the_claim() -> None:
    """Multi-hop: claim with a missing StorageClass → pod unschedulable → Prometheus unavailable → controller."""
    b = platform()
    claim = faults.pvc_pending(b, b.workload("StatefulSet", NS, PROM_STS))
    r = run(b)
    by_id = {f.id: f for f in r.findings}
    unavailable = one(r, "PROMETHEUS-UNAVAILABLE")
    assert not unavailable.root_cause
    comp = one(r, "COMPONENT-CONTROLLER-UNAVAILABLE")
    assert unavailable.id in comp.caused_by and not comp.root_cause
    roots = _roots_of(unavailable, by_id)
    assert [(f.code, f.object.name) for f in roots] == [("PVC-STORAGECLASS-MISSING", claim["metadata"]["name"])]
    assert_only(r, {"PVC-STORAGECLASS-MISSING"})


def _roots_of(f, by_id) -> list:
    out, seen, stack = [], set(), [f.id]
    while stack:
        x = by_id[stack.pop()]
        if x.id in seen:
            continue
        seen.add(x.id)
        if x.root_cause and x is not f:
            out.append(x)
        stack.extend(x.caused_by)
    return out


def test_prometheus_reconcile_failure_names_the_missing_secret() -> None:
    b = platform()
    mf.prometheus_reconcile_failed(b)
    r = run(b)
    f = one(r, "PROMETHEUS-NOT-RECONCILED")
    assert f.root_cause and f.severity == "warning"
    assert any('secret "additional-scrape-configs" not found' in e and "ReconciliationFailed" in e for e in f.evidence)
    assert ("Secret", NS, "additional-scrape-configs") in f.depends_on
    assert ("Deployment", NS, mf.OPERATOR) in f.depends_on
    assert_only(r, {"PROMETHEUS-NOT-RECONCILED"})


def test_alertmanager_crashloop_makes_alertmanager_unavailable() -> None:
    b = platform()
    mf.alertmanager_crashloop(b)
    r = run(b)
    am = one(r, "ALERTMANAGER-UNAVAILABLE")
    assert am.severity == "critical" and not am.root_cause
    cause = next(x for x in r.findings if x.id in am.caused_by)
    assert cause.code == "POD-CRASHLOOP" and (cause.object.kind, cause.object.name) == ("Alertmanager", mf.AM)
    assert_only(r, {cause.code})


def test_one_of_two_prometheus_replicas_crashing_is_degraded() -> None:
    b = platform()
    pods = mf.scale_prometheus(b, 2)
    assert not codes(run(b), "PROMETHEUS-DEGRADED")
    faults.crashloop(b, pods[0], "prometheus")
    r = run(b)
    deg = one(r, "PROMETHEUS-DEGRADED")
    assert deg.severity == "warning" and not deg.root_cause
    assert any("Available=Degraded reason=SomePodsNotReady" in e for e in deg.evidence), deg.evidence
    assert any(f"pod {pods[0]['metadata']['name']}" in e for e in deg.evidence)
    comp = one(r, "COMPONENT-CONTROLLER-UNAVAILABLE")
    assert comp.severity == "warning" and "1/2 available" in comp.title
    assert_only(r, {"POD-CRASHLOOP"})


# ---------------------------------------------------------------- rules and monitors


def test_rejected_rule_quotes_the_operator_event() -> None:
    b = platform()
    rule = mf.invalid_rule(b)
    r = run(b)
    f = one(r, "PROMETHEUSRULE-REJECTED")
    assert f.root_cause and (f.object.kind, f.object.name) == ("PrometheusRule", rule["metadata"]["name"])
    assert any("InvalidConfiguration" in e and "unclosed left parenthesis" in e for e in f.evidence), f.evidence
    assert_only(r, {"PROMETHEUSRULE-REJECTED"})


def test_rule_outside_the_rule_namespace_selector_is_not_selected() -> None:
    b = platform()
    cr = b.require("Prometheus", NS, PROM)
    cr["spec"]["ruleNamespaceSelector"] = None
    del cr["spec"]["ruleNamespaceSelector"]
    bump(cr, generation=True)
    rule = mf.invalid_rule(b, namespace=TENANT, name="api-alerts", valid=True)
    r = run(b)
    f = one(r, "PROMETHEUSRULE-NOT-SELECTED")
    assert (f.object.namespace, f.object.name) == (TENANT, rule["metadata"]["name"]) and f.root_cause
    assert "1 rule never evaluated" in f.title
    assert any("ruleNamespaceSelector not set (only namespace monitoring)" in e for e in f.evidence), f.evidence
    assert_only(r, {"PROMETHEUSRULE-NOT-SELECTED"})


def test_service_monitor_without_the_selected_label_is_not_scraped() -> None:
    b = platform()
    mf.require_monitor_label(b, "app.kubernetes.io/managed-by", "Helm")
    sm = mf.tenant_service_monitor(b, TENANT, selector={"app.kubernetes.io/name": "api"}, port="http")
    r = run(b)
    f = one(r, "SERVICEMONITOR-NOT-SELECTED")
    assert f.root_cause and (f.object.namespace, f.object.name) == (TENANT, sm["metadata"]["name"])
    assert any("serviceMonitorSelector={app.kubernetes.io/managed-by=Helm}" in e for e in f.evidence), f.evidence
    assert any("kubectl label servicemonitor api-business-metrics -n mycure-production app.kubernetes.io/managed-by=Helm"
               == (x.command or "") for x in f.remediation), [x.command for x in f.remediation]
    assert_only(r, {"SERVICEMONITOR-NOT-SELECTED"})


def test_service_monitor_selecting_no_service_shows_the_closest_one() -> None:
    b = platform()
    mf.tenant_service_monitor(b, TENANT, selector={"app.kubernetes.io/name": "api-server",
                                                   "app.kubernetes.io/instance": TENANT}, port="http")
    r = run(b)
    f = one(r, "SERVICEMONITOR-NO-SERVICES")
    assert f.root_cause
    assert any("matches no Service" in e for e in f.evidence)
    assert any(e.startswith("closest Service: mycure-production/api") for e in f.evidence), f.evidence
    assert_only(r, {"SERVICEMONITOR-NO-SERVICES"})


def test_service_monitor_port_name_missing_on_the_service() -> None:
    b = platform()
    svc = next(s for s in b.list("Service", TENANT) if s["metadata"]["name"] == "api")
    labels = {k: v for k, v in svc["metadata"]["labels"].items() if k == "app.kubernetes.io/name"}
    mf.tenant_service_monitor(b, TENANT, selector=labels, port="metrics")
    r = run(b)
    f = one(r, "SERVICEMONITOR-PORT-MISSING")
    assert f.root_cause and "'metrics'" in f.title
    assert any(e.startswith("selected Service ports: api:") for e in f.evidence), f.evidence
    assert_only(r, {"SERVICEMONITOR-PORT-MISSING"})


def test_alerting_to_a_missing_alertmanager_service() -> None:
    b = platform()
    cr = b.require("Prometheus", NS, PROM)
    cr["spec"]["alerting"]["alertmanagers"][0]["name"] = "alertmanager-operated-old"
    bump(cr, generation=True)
    r = run(b)
    f = one(r, "PROMETHEUS-ALERTMANAGER-NOT-FOUND")
    assert any("does not exist" in e for e in f.evidence)
    assert_only(r, {"PROMETHEUS-ALERTMANAGER-NOT-FOUND"})


def test_old_rejection_of_a_recreated_rule_is_ignored() -> None:
    b = platform()
    rule = mf.invalid_rule(b)
    rule["metadata"]["creationTimestamp"] = (mf.NOW - timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = run(b)
    assert not codes(r, "PROMETHEUSRULE-REJECTED")
