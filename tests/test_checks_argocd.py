"""Argo CD checks: one scenario per fault on the healthy platform, asserting root cause, evidence, links,
and that nothing else of severity warning or above appears."""

from __future__ import annotations

import argocd_faults as af
import pytest
import velero_faults as vf
from velero_faults import assert_exactly, assert_templates_filled

from sre_expert.core.model import Finding
from sre_expert.diagnosis.engine import Report
from synth import faults

pytestmark = pytest.mark.scenario


@pytest.fixture(scope="module", autouse=True)
def _healthy_is_silent() -> None:
    vf.assert_healthy_is_silent()


def argocd_findings(report: Report) -> list[Finding]:
    return [f for f in report.findings if f.code.startswith("ARGOCD-")]


def test_healthy_platform_has_no_argocd_finding() -> None:
    report = vf.run(vf.platform())
    assert argocd_findings(report) == [], vf.describe(report)
    assert not [f for f in report.findings if f.component == "argocd"]
    assert not [t for t in report.not_checked if t.startswith("argocd.")]


def test_helm_template_error() -> None:
    b = vf.platform()
    af.comparison_error(b)
    report = vf.run(b)
    f = vf.one(report, "ARGOCD-APP-COMPARISON-ERROR", "mycure-production")
    assert f.root_cause and f.severity == "critical"
    assert f.evidence[0].startswith("status.conditions[ComparisonError]: Failed to load target state:")
    assert "nil pointer evaluating interface {}.memory" in f.evidence[0]
    assert "status.sync.status: Unknown at revision " + af.NEW_SHA in f.evidence
    assert ("source: https://github.com/monobaselabs/monobase-infra.git path charts/monobase @ main "
            "(-f ../../values/deployments/mycure-production.yaml); destination namespace mycure-production") in f.evidence
    cmds = [r.command for r in f.remediation]
    assert "helm template test charts/monobase -f ../../values/deployments/mycure-production.yaml --debug" in cmds
    assert "argocd app get mycure-production --app-namespace argocd" in cmds
    # A rendering error returned by the repo-server is not blamed on the repo-server.
    assert f.depends_on == []
    assert not vf.by_code(report, "ARGOCD-APP-SYNC-UNKNOWN")  # folded into the comparison error
    assert_exactly(report, [f])
    assert_templates_filled(report.findings)


def test_repo_server_unreachable_links_to_the_repo_server() -> None:
    b = vf.platform()
    af.comparison_error(b, message=af.REPO_DOWN)
    report = vf.run(b)
    f = vf.one(report, "ARGOCD-APP-COMPARISON-ERROR", "mycure-production")
    assert f.depends_on == [("Deployment", "argocd", "argocd-repo-server")]


def test_sync_failed_on_an_immutable_field() -> None:
    b = vf.platform()
    af.sync_failed(b)
    report = vf.run(b)
    f = vf.one(report, "ARGOCD-APP-SYNC-FAILED", "mycure-production")
    assert f.root_cause and f.severity == "critical"
    assert "status.operationState.phase: Failed" in f.evidence
    assert any(e.startswith("status.operationState.message: one or more objects failed to apply, reason: StatefulSet.apps")
               for e in f.evidence)
    assert any(e.startswith("syncResult: StatefulSet mycure-production/mongodb: SyncFailed: StatefulSet.apps \"mongodb\" "
                            "is invalid: spec: Forbidden") for e in f.evidence)
    assert any(e.startswith(f"status.conditions[SyncError]: Failed sync attempt to {af.NEW_SHA}") for e in f.evidence)
    assert any("retry 5" in e for e in f.evidence)
    assert f.depends_on == [("StatefulSet", "mycure-production", "mongodb")]
    assert not vf.by_code(report, "ARGOCD-APP-OUT-OF-SYNC")  # the OutOfSync state is this failure's
    assert_exactly(report, [f])


def test_settled_old_sync_failure_is_info() -> None:
    b = vf.platform()
    af.old_sync_failure(b)
    report = vf.run(b)
    assert vf.one(report, "ARGOCD-APP-SYNC-FAILED", "lfh-staging").severity == "info"
    assert_exactly(report, [])


def test_out_of_sync_drift() -> None:
    b = vf.platform()
    af.drift(b)
    report = vf.run(b)
    f = vf.one(report, "ARGOCD-APP-OUT-OF-SYNC", "lfh-staging")
    assert f.root_cause and f.severity == "warning"
    assert "Deployment lfh-staging/api: OutOfSync" in f.evidence
    assert "sync policy: manual" in f.evidence
    assert_exactly(report, [f])


def test_warning_condition_is_info() -> None:
    b = vf.platform()
    af.shared_resource_warning(b)
    report = vf.run(b)
    f = vf.one(report, "ARGOCD-APP-WARNING", "grafana")
    assert f.severity == "info"
    assert f.evidence[0].startswith("status.conditions[SharedResourceWarning]: ConfigMap/grafana-dashboards is part of")
    assert_exactly(report, [])


def test_degraded_app_is_explained_by_its_external_secret() -> None:
    b = vf.platform()
    af.break_external_secret(b, "mycure-production", "api-secrets")
    report = vf.run(b)
    app = vf.one(report, "ARGOCD-APP-DEGRADED", "mycure-production")
    assert not app.root_cause
    assert ("ExternalSecret mycure-production/api-secrets: health Degraded "
            "(could not get secret data from provider)") in app.evidence
    assert ("ExternalSecret", "mycure-production", "api-secrets") in app.depends_on
    roots = [f for f in vf.alarms(report) if f.root_cause]
    assert len(roots) == 1 and roots[0].object.key == ("ExternalSecret", "mycure-production", "api-secrets")
    assert app.caused_by == [roots[0].id] and roots[0].component == "external-secrets"
    assert_exactly(report, [app, roots[0]])


def test_three_hop_chain_external_secret_to_app_to_root_app() -> None:
    b = vf.platform()
    af.break_external_secret(b, "cert-manager", "cloudflare-api-token")
    report = vf.run(b)
    child = vf.one(report, "ARGOCD-APP-DEGRADED", "cert-manager")
    root_app = vf.one(report, "ARGOCD-APP-DEGRADED", "infrastructure-root")
    assert "Application argocd/cert-manager: health Degraded" in root_app.evidence
    assert root_app.caused_by == [child.id]
    es = [f for f in report.findings if f.object.key == ("ExternalSecret", "cert-manager", "cloudflare-api-token")]
    assert len(es) == 1 and es[0].root_cause and child.caused_by == [es[0].id]
    assert [f for f in vf.alarms(report) if f.root_cause] == es
    assert_exactly(report, [child, root_app, es[0]])


def test_reconciliation_stale() -> None:
    b = vf.platform()
    af.reconciliation_stopped(b)
    report = vf.run(b)
    f = vf.one(report, "ARGOCD-RECONCILIATION-STALE")
    assert f.root_cause and f.object.key == ("StatefulSet", "argocd", "argocd-application-controller")
    assert f.evidence[0].startswith("newest status.reconciledAt among 15 Application(s):")
    assert_exactly(report, [f])


def test_stale_reconciliation_is_explained_by_the_crashing_controller() -> None:
    b = vf.platform()
    af.controller_oom_loop(b)
    report = vf.run(b)
    f = vf.one(report, "ARGOCD-RECONCILIATION-STALE")
    assert not f.root_cause
    roots = [x for x in vf.alarms(report) if x.root_cause]
    assert len(roots) == 1 and roots[0].object.key == ("StatefulSet", "argocd", "argocd-application-controller")
    assert roots[0].id in f.caused_by
    assert f.causes == []  # the symptom does not claim to explain the controller's own findings


def test_long_running_sync_waits_for_a_hook() -> None:
    b = vf.platform()
    af.hook_running(b)
    report = vf.run(b)
    f = vf.one(report, "ARGOCD-APP-SYNC-RUNNING", "mycure-production")
    assert f.severity == "warning" and f.root_cause
    assert "status.operationState.message: waiting for completion of hook batch/Job/mycure-production-db-migrate" in f.evidence
    assert ("PreSync hook Job mycure-production/mycure-production-db-migrate: Running "
            "(job.batch/mycure-production-db-migrate created)") in f.evidence
    assert ("Job", "mycure-production", "mycure-production-db-migrate") in f.depends_on
    assert_exactly(report, [f])


def test_applicationset_error() -> None:
    b = vf.platform()
    af.applicationset_error(b)
    report = vf.run(b)
    f = vf.one(report, "ARGOCD-APPSET-ERROR", "tenants-auto-discover")
    assert f.root_cause and f.severity == "warning"
    assert f.evidence[0].startswith("status.conditions[ErrorOccurred]: True (ApplicationGenerationFromParamsError) "
                                    "\"failed to execute go template {{.tenant.namespace}}")
    assert "status.conditions[ResourcesUpToDate]: False (ApplicationGenerationFromParamsError)" in f.evidence
    assert "generators: git" in f.evidence
    assert_exactly(report, [f])


def _set_status(b, name: str, **changes) -> dict:
    a = af.app(b, name)
    a["status"].update(changes)
    vf.validated(a)
    return a


def test_invalid_spec() -> None:
    b = vf.platform()
    _set_status(b, "lfh-staging", conditions=[{
        "type": "InvalidSpecError", "lastTransitionTime": "2025-03-12T09:00:00Z",
        "message": "application destination server 'https://kubernetes.default.svc' and namespace 'lfh-staging' "
                   "do not match any of the allowed destinations in project 'tenants'"}])
    report = vf.run(b)
    f = vf.one(report, "ARGOCD-APP-INVALID-SPEC", "lfh-staging")
    assert f.root_cause and f.severity == "critical"
    assert "argocd proj get tenants" in [r.command for r in f.remediation]
    assert_exactly(report, [f])


def test_deletion_error_condition() -> None:
    b = vf.platform()
    _set_status(b, "grafana", conditions=[{"type": "DeletionError", "lastTransitionTime": "2025-03-12T09:00:00Z",
                                           "message": "error deleting application: finalizer blocked"}])
    report = vf.run(b)
    f = vf.one(report, "ARGOCD-APP-ERROR-CONDITION", "grafana")
    assert f.severity == "warning" and "DeletionError" in f.title
    assert_exactly(report, [f])


def test_missing_and_unknown_health_without_a_sync_problem() -> None:
    b = vf.platform()
    a = af.app(b, "falco")
    a["status"]["health"] = {"status": "Missing"}
    for r in a["status"]["resources"]:
        if r["kind"] == "DaemonSet":
            r["health"] = {"status": "Missing"}
    vf.validated(a)
    _set_status(b, "grafana", health={"status": "Unknown", "message": "failed to get resource health for Deployment"})
    report = vf.run(b)
    missing = vf.one(report, "ARGOCD-APP-MISSING", "falco")
    assert "DaemonSet falco/falco: health Missing" in missing.evidence
    unknown = vf.one(report, "ARGOCD-APP-HEALTH-UNKNOWN", "grafana")
    assert "status.health.status: Unknown (failed to get resource health for Deployment)" in unknown.evidence
    assert_exactly(report, [missing, unknown])


def test_out_of_sync_with_missing_resources_is_one_finding() -> None:
    b = vf.platform()
    a = af.drift(b, "lfh-staging", ("Service", "api"))
    for r in a["status"]["resources"]:
        if (r["kind"], r["name"]) == ("Service", "api"):
            r["health"] = {"status": "Missing"}
    a["status"]["health"] = {"status": "Missing"}
    vf.validated(a)
    report = vf.run(b)
    f = vf.one(report, "ARGOCD-APP-OUT-OF-SYNC", "lfh-staging")
    assert f.title == "Application lfh-staging is OutOfSync (1 resource(s) differ from Git, 1 missing)"
    assert "Service lfh-staging/api: OutOfSync, health Missing" in f.evidence
    assert not vf.by_code(report, "ARGOCD-APP-MISSING")
    assert_exactly(report, [f])


def test_degraded_app_is_explained_by_its_stuck_deployment() -> None:
    b = vf.platform()
    faults.deployment_progress_deadline(b, b.workload("Deployment", "mycure-production", "api"))
    report = vf.run(b)
    app = vf.one(report, "ARGOCD-APP-DEGRADED", "mycure-production")
    assert any(e.startswith('Deployment mycure-production/api: health Degraded (Deployment "api" exceeded its progress')
               for e in app.evidence)
    assert ("Deployment", "mycure-production", "api") in app.depends_on
    assert not app.root_cause and app.caused_by
    causes = [f for f in report.findings if f.id in app.caused_by]
    assert all(f.object.namespace == "mycure-production" for f in causes)
    assert any(("Deployment", "mycure-production", "api") in f.subjects for f in causes)
    argo = [f for f in vf.alarms(report) if f.code.startswith("ARGOCD-")]
    assert argo == [app]
