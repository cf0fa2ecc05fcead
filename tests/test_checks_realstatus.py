"""Status fields real clusters carry that the checks did not read (issue 13): ClusterExternalSecret and
PushSecret, PodDisruptionBudget DisruptionAllowed=False, ApplicationSet ResourcesUpToDate=False, HPA
autoscaling/v1 conditions kept in an annotation, CronJob schedules that can never fire and runs that left
no Job. Each scenario changes the healthy reference platform the way the controller writes the status.

Status shapes follow the controllers' source: ESO's clusterexternalsecret controller (Ready=False with only
"one or more namespaces failed", the reason per namespace in failedNamespaces; before v0.9 NotReady or
PartiallyReady with status True) and pushsecret controller (Ready=False reason Errored, a Warning event
Errored with the same message); Kubernetes' disruption controller (DisruptionAllowed, InsufficientPods,
currentHealthy/desiredHealthy/expectedPods/disruptionsAllowed); Argo CD's applicationset controller;
the HPA v1 conversion (autoscaling.alpha.kubernetes.io/conditions, …/current-metrics); the CronJob
controller (Jobs named <cronjob>-<minutes since the epoch>, batch.kubernetes.io/cronjob-scheduled-timestamp).
Not checked: ClusterExternalSecret and PushSecret objects against a CRD schema (shared/crds has none for
them); the ApplicationSet is validated against its CRD, the core objects against kubernetes-validate.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import scenario
from schema_validation import validate_object
from velero_faults import assert_templates_filled

from sre_expert.core import cron
from sre_expert.core.model import Finding
from sre_expert.diagnosis.engine import Report, diagnose
from synth import faults
from synth.meta import condition, new_object, set_condition, ts

pytestmark = pytest.mark.scenario

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
NS = "mycure-production"
STAGING = "lfh-staging"
AREAS = ("pods", "workloads", "disruption", "externalsecrets", "argocd", "autoscaling")
H = scenario.Scenario(NOW, areas=AREAS, build=scenario.platform, refresh=False)

Obj = dict[str, Any]


def run(b) -> Report:
    return H.run(b)


def codes(report: Report, prefix: str) -> list[Finding]:
    return [f for f in report.findings if f.code.startswith(prefix)]


def only(report: Report, code: str) -> Finding:
    found = [f for f in report.findings if f.code == code]
    assert len(found) == 1, H.dump(report)
    return found[0]


def new_serious_roots(report: Report) -> list[Finding]:
    return H.serious_roots(report)


# ================================================================================ CronJob


@pytest.mark.parametrize(("schedule", "why"), [
    ("0 0 30 2 *", "day 30 of the month never occurs in February (at most 29 days)"),
    ("15 3 31 4,6,9,11 *", "day 31 of the month never occurs in April, June, September or November (at most 30 days)"),
    ("0 0 30,31 feb *", "days 30, 31 of the month never occur in February (at most 29 days)"),
])
def test_cron_schedule_that_never_fires(schedule: str, why: str) -> None:
    assert cron.parse(schedule).never_fires() == why
    assert cron.parse(schedule).next(NOW) is None


@pytest.mark.parametrize("schedule", ["0 0 29 2 *", "0 0 31 * *", "0 0 30 2 1", "0 0 */2 2 *", "@every 1h",
                                      "CRON_TZ=Asia/Manila 0 0 28 2 *"])
def test_cron_schedules_that_do_fire(schedule: str) -> None:
    assert cron.parse(schedule).never_fires() is None


def test_cronjob_whose_schedule_names_a_date_that_does_not_exist() -> None:
    b = H.platform()
    cj = b.workload("CronJob", NS, "session-cleanup").cronjob
    cj["spec"]["schedule"] = "0 0 31 4,6,9,11 *"
    validate_object(cj)
    report = run(b)
    f = only(report, "CRONJOB-SCHEDULE-NEVER-FIRES")
    assert f.object.name == "session-cleanup" and f.severity == "warning" and f.root_cause
    assert "cause: day 31 of the month never occurs in April, June, September or November (at most 30 days)" in f.evidence
    assert "spec.schedule='0 0 31 4,6,9,11 *'" in f.evidence
    assert not codes(report, "CRONJOB-NOT-SCHEDULED") and not codes(report, "CRONJOB-RUN-MISSING")
    assert [g.id for g in new_serious_roots(report)] == [f.id], H.dump(report)


def _run_without_its_job(b, *, failed_history: int | None = 0) -> Obj:
    """The 09:00 run of mycure-production/session-cleanup failed and its Job is gone; the 10:00 run has not
    started yet. The 08:00 run, kept, succeeded."""
    w = b.workload("CronJob", NS, "session-cleanup")
    cj = w.cronjob
    nine = NOW - timedelta(hours=1)
    for job in [j for j in w.jobs if j["metadata"]["creationTimestamp"] >= ts(nine)]:
        b.delete(job)
        for p in [p for p in b.list("Pod", NS) if any(r.get("uid") == job["metadata"]["uid"]
                                                       for r in p["metadata"].get("ownerReferences") or ())]:
            b.delete(p)
    kept = [j for j in b.list("Job", NS) if j["metadata"]["name"].startswith("session-cleanup-")]
    assert kept and all(j["metadata"]["creationTimestamp"] < ts(nine) for j in kept)
    if failed_history is not None:
        cj["spec"]["failedJobsHistoryLimit"] = failed_history
    cj["status"] = {"lastScheduleTime": ts(nine), "lastSuccessfulTime": kept[-1]["status"]["completionTime"]}
    job_name = f"session-cleanup-{int(nine.timestamp() // 60)}"
    b.remove_events(cj)
    b.add_event(cj, "SuccessfulCreate", f"Created job {job_name}", component="cronjob-controller", first=nine)
    b.add_event(cj, "SawCompletedJob", f"Saw completed job: {job_name}, condition: Failed",
                component="cronjob-controller", first=nine + timedelta(minutes=4))
    b.add_event(cj, "SuccessfulDelete", f"Deleted job {job_name}", component="cronjob-controller",
                first=nine + timedelta(minutes=4, seconds=1))
    validate_object(cj)
    return cj


def test_cronjob_run_that_left_no_job_and_no_success() -> None:
    b = H.platform()
    _run_without_its_job(b)
    report = run(b)
    f = only(report, "CRONJOB-RUN-MISSING")
    assert f.object.name == "session-cleanup" and f.severity == "warning" and f.root_cause
    assert f.title == ("CronJob mycure-production/session-cleanup: the run scheduled at 2026-11-26T09:00:00Z left no "
                       "Job and no success after it (1h ago)")
    assert "status.lastScheduleTime=2026-11-26T09:00:00Z" in f.evidence
    assert any(e.startswith("status.lastSuccessfulTime=2026-11-26T08:00") and "(before the last scheduled run)" in e
               for e in f.evidence)
    assert "spec.failedJobsHistoryLimit=0 deletes a failed Job at once" in f.evidence
    assert any("SawCompletedJob" in e and "condition: Failed" in e for e in f.evidence)
    assert not codes(report, "CRONJOB-NOT-SCHEDULED") and not codes(report, "CRONJOB-FAILED")
    assert [g.id for g in new_serious_roots(report)] == [f.id], H.dump(report)


def test_deleted_job_with_the_default_history_limit_says_it_was_deleted() -> None:
    b = H.platform()
    _run_without_its_job(b, failed_history=None)
    f = only(run(b), "CRONJOB-RUN-MISSING")
    assert any(e.startswith("spec.failedJobsHistoryLimit=1: a failed Job should still be kept") for e in f.evidence)


def test_a_success_after_the_last_schedule_means_nothing_is_missing() -> None:
    b = H.platform()
    cj = _run_without_its_job(b)
    cj["status"]["lastSuccessfulTime"] = ts(NOW - timedelta(minutes=55))
    assert not codes(run(b), "CRONJOB-RUN-MISSING")


def test_the_run_job_found_by_its_scheduled_timestamp_annotation() -> None:
    b = H.platform()
    w = b.workload("CronJob", NS, "session-cleanup")
    cj = w.cronjob
    newest = w.jobs[-1]
    # a run that is still active (and so has no success yet), named by a newer controller's annotation
    fire = cron.parse("0 * * * *").prev(NOW - timedelta(minutes=30))
    newest["metadata"].setdefault("annotations", {})["batch.kubernetes.io/cronjob-scheduled-timestamp"] = ts(fire)
    newest["metadata"]["creationTimestamp"] = ts(fire - timedelta(hours=2))  # (the annotation wins)
    cj["status"] = {"lastScheduleTime": ts(fire), "lastSuccessfulTime": ts(fire - timedelta(hours=1))}
    assert not codes(run(b), "CRONJOB-RUN-MISSING")


def test_no_jobs_captured_at_all_proves_nothing() -> None:
    b = H.platform()
    _run_without_its_job(b)
    for j in b.list("Job"):
        b.remove(j)
    assert not codes(run(b), "CRONJOB-RUN-MISSING")


# ================================================================================ ClusterExternalSecret


def _ces(b, status: Obj, name: str = "registry-credentials") -> Obj:
    created = NOW - timedelta(days=12)
    ces = new_object("ClusterExternalSecret", name, None, created, api_version="external-secrets.io/v1beta1")
    ces["spec"] = {
        "externalSecretName": name,
        "externalSecretSpec": {
            "refreshInterval": "1h",
            "secretStoreRef": {"kind": "ClusterSecretStore", "name": "gcp-secretstore"},
            "target": {"creationPolicy": "Owner", "deletionPolicy": "Retain", "name": "ghcr-pull",
                       "template": {"type": "kubernetes.io/dockerconfigjson", "engineVersion": "v2"}},
            "data": [{"secretKey": ".dockerconfigjson", "remoteRef": {"key": "platform-ghcr-dockerconfig",
                                                                     "conversionStrategy": "Default",
                                                                     "decodingStrategy": "None",
                                                                     "metadataPolicy": "None"}}],
        },
        "namespaceSelector": {"matchLabels": {"platform.monobase.io/tenant": "true"}},
        "refreshTime": "1m",
    }
    ces["status"] = {"externalSecretName": name, **status}
    return b.add(ces)


def test_cluster_external_secret_failing_in_some_namespaces() -> None:
    b = H.platform()
    admission = ('could not create or update ExternalSecret: admission webhook "validate.kyverno.svc-fail" denied '
                 'the request: resource ExternalSecret/mycure-production/registry-credentials was blocked due to '
                 'the following policies restrict-secret-stores: check-store: store gcp-secretstore is not allowed')
    # someone created an ExternalSecret of the same name by hand in lfh-staging
    other = new_object("ExternalSecret", "registry-credentials", STAGING, NOW - timedelta(days=30),
                       api_version="external-secrets.io/v1beta1")
    other["spec"] = {"refreshInterval": "1h", "secretStoreRef": {"kind": "ClusterSecretStore", "name": "gcp-secretstore"},
                     "target": {"creationPolicy": "Owner", "deletionPolicy": "Retain", "name": "ghcr-pull"},
                     "data": [{"secretKey": ".dockerconfigjson", "remoteRef": {
                         "key": "lfh-staging-ghcr-dockerconfig", "conversionStrategy": "Default",
                         "decodingStrategy": "None", "metadataPolicy": "None"}}]}
    other["status"] = {"binding": {"name": "ghcr-pull"}, "refreshTime": ts(NOW - timedelta(minutes=20)),
                       "syncedResourceVersion": "1-5d41402abc4b2a76b9719d911017c592",
                       "conditions": [condition("Ready", "True", "SecretSynced", "Secret was synced",
                                                NOW - timedelta(days=30))]}
    validate_object(other)
    b.add(other)
    b.add_secret(STAGING, "ghcr-pull", [".dockerconfigjson"], type_="kubernetes.io/dockerconfigjson",
                 labels={"reconcile.external-secrets.io/managed": "true"}, created=NOW - timedelta(days=30),
                 owners=[{"apiVersion": "external-secrets.io/v1beta1", "kind": "ExternalSecret",
                          "name": "registry-credentials", "uid": other["metadata"]["uid"],
                          "controller": True, "blockOwnerDeletion": True}])
    _ces(b, {
        "conditions": [{"type": "Ready", "status": "False", "message": "one or more namespaces failed"}],
        "failedNamespaces": [{"namespace": STAGING, "reason": "external secret already exists in namespace"},
                             {"namespace": NS, "reason": admission}],
        "provisionedNamespaces": ["acme-demo"],
    })
    report = run(b)
    f = only(report, "ESO-CLUSTER-EXTERNAL-SECRET-FAILED")
    assert f.severity == "warning" and f.root_cause
    assert f.title.startswith("ClusterExternalSecret registry-credentials could not create ExternalSecret "
                              "registry-credentials in 2 namespace(s): lfh-staging, mycure-production: "
                              "external secret already exists in namespace")
    assert f.evidence[0] == 'status.conditions[Ready]: False "one or more namespaces failed"'
    assert "status.failedNamespaces: lfh-staging: external secret already exists in namespace" in f.evidence
    assert any(e.startswith("status.failedNamespaces: mycure-production: could not create or update ExternalSecret: "
                            "admission webhook") for e in f.evidence)
    assert ("ExternalSecret lfh-staging/registry-credentials exists and is owned by nothing, not by "
            "ClusterExternalSecret registry-credentials") in f.evidence
    assert "status.provisionedNamespaces: 1 (acme-demo)" in f.evidence
    # in the refused namespace it speaks for the Secret it should have made; in the conflicting one the other
    # ExternalSecret is in the way (its cause), and the Secret is that one's
    assert ("Secret", NS, "ghcr-pull") in f.subjects and ("Secret", STAGING, "ghcr-pull") not in f.subjects
    assert ("ExternalSecret", STAGING, "registry-credentials") in f.depends_on
    assert any(r.command == "kubectl get clusterexternalsecret registry-credentials -o yaml" for r in f.remediation)
    assert_templates_filled([f])


def test_cluster_external_secret_old_partially_ready_condition() -> None:
    b = H.platform()
    _ces(b, {"conditions": [{"type": "PartiallyReady", "status": "True", "message": "one or more namespaces failed"}],
             "failedNamespaces": [{"namespace": NS, "reason": "could not get existing ExternalSecret: "
                                                          "externalsecrets.external-secrets.io is forbidden"}],
             "provisionedNamespaces": [STAGING]})
    f = only(run(b), "ESO-CLUSTER-EXTERNAL-SECRET-FAILED")
    assert f.evidence[0].startswith("status.conditions[PartiallyReady]: True")


def test_ready_cluster_external_secret_is_quiet() -> None:
    b = H.platform()
    _ces(b, {"conditions": [{"type": "Ready", "status": "True"}], "provisionedNamespaces": [STAGING, NS]})
    assert not codes(run(b), "ESO-CLUSTER-EXTERNAL-SECRET")


# ================================================================================ PushSecret


def _push_secret(b, ready: Obj, source: str = "wildcard-tls", ns: str = "gateway-system") -> Obj:
    ps = new_object("PushSecret", "wildcard-tls-to-gcp", ns, NOW - timedelta(days=3),
                    api_version="external-secrets.io/v1alpha1",
                    finalizers=["pushsecret.externalsecrets.io/finalizer"])
    ps["spec"] = {
        "deletionPolicy": "Delete", "refreshInterval": "1h", "updatePolicy": "Replace",
        "secretStoreRefs": [{"kind": "ClusterSecretStore", "name": "gcp-secretstore"}],
        "selector": {"secret": {"name": source}},
        "data": [{"conversionStrategy": "None",
                  "match": {"secretKey": "tls.crt", "remoteRef": {"remoteKey": "wildcard-tls-crt"}}},
                 {"conversionStrategy": "None",
                  "match": {"secretKey": "tls.key", "remoteRef": {"remoteKey": "wildcard-tls-key"}}}],
    }
    ps["status"] = {"conditions": [ready], "refreshTime": ts(NOW - timedelta(hours=5)),
                    "syncedResourceVersion": "1-88a3f2e5c0c74d0d0d3c1aa0e0b5f3e1"}
    b.add(ps)
    if ready.get("status") == "False":
        b.add_event(ps, ready["reason"], ready["message"], "Warning", count=24, component="pushsecret")
    return ps


def test_push_secret_refused_by_the_provider() -> None:
    b = H.platform()
    msg = ("set secret failed: could not write remote ref tls.crt to target secretstore gcp-secretstore: rpc error: "
           "code = PermissionDenied desc = Permission 'secretmanager.versions.add' denied for resource "
           "'projects/mc-v4-prod/secrets/wildcard-tls-crt' (or it may not exist).")
    _push_secret(b, condition("Ready", "False", "Errored", msg, NOW - timedelta(hours=4)))
    report = run(b)
    f = only(report, "ESO-PUSH-SECRET-FAILED")
    assert f.severity == "warning" and f.root_cause and f.object.namespace == "gateway-system"
    assert f.title.startswith("PushSecret gateway-system/wildcard-tls-to-gcp cannot push key tls.crt to store "
                              "gcp-secretstore: rpc error: code = PermissionDenied desc = Permission "
                              "'secretmanager.versions.add' denied")
    assert f.evidence[0].startswith('status.conditions[Ready]: False (Errored) "set secret failed: could not write '
                                    'remote ref tls.crt')
    assert any(e.startswith("spec.secretStoreRefs: ClusterSecretStore gcp-secretstore — Ready=True") for e in f.evidence)
    assert "remote keys: wildcard-tls-crt, wildcard-tls-key" in f.evidence
    assert ("ClusterSecretStore", "", "gcp-secretstore") in f.depends_on
    assert ("Secret", "gateway-system", "wildcard-tls") in f.depends_on
    assert not any("kubectl get secret" in (r.command or "") and "jsonpath" in (r.command or "") for r in f.remediation)


def test_push_secret_whose_store_is_broken_is_explained_by_the_store() -> None:
    b = H.platform()
    store = b.require("ClusterSecretStore", None, "gcp-secretstore")
    set_condition(store, condition("Ready", "False", "ValidationFailed", "unable to validate store",
                                   NOW - timedelta(hours=6)))
    b.add_event(store, "ValidationFailed", "unable to validate store: rpc error: code = Unauthenticated desc = "
                "transport: per-RPC creds failed due to error: oauth2: \"invalid_grant\" \"Invalid JWT Signature.\"",
                "Warning", count=40, component="cluster-secret-store")
    _push_secret(b, condition("Ready", "False", "Errored", "set secret failed: could not get secrets client for store "
                              "gcp-secretstore: unable to validate store", NOW - timedelta(hours=5)))
    report = run(b)
    f = only(report, "ESO-PUSH-SECRET-FAILED")
    store_f = next(g for g in report.findings if g.code == "ESO-STORE-NOT-READY")
    assert store_f.id in f.caused_by and not f.root_cause


def test_synced_push_secret_is_quiet() -> None:
    b = H.platform()
    _push_secret(b, condition("Ready", "True", "Synced", "PushSecret synced successfully", NOW - timedelta(days=3)))
    assert not codes(run(b), "ESO-PUSH-SECRET")


# ================================================================================ PodDisruptionBudget


def _pdb(b, ns: str = NS, name: str = "api") -> Obj:
    return b.require("PodDisruptionBudget", ns, name)


def _blocked_since(pdb: Obj, since: datetime) -> None:
    c = next(c for c in pdb["status"]["conditions"] if c["type"] == "DisruptionAllowed")
    assert c["status"] == "False" and c["reason"] == "InsufficientPods"
    c["lastTransitionTime"] = ts(since)
    validate_object(pdb)


def test_budget_blocked_for_long_by_crashing_pods_is_their_symptom() -> None:
    b = H.platform()
    pods = scenario.live_pods(b, "Deployment", "api", NS)
    for p in pods:
        faults.crashloop(b, p, since=timedelta(hours=2))
    b.refresh()
    pdb = _pdb(b)
    _blocked_since(pdb, NOW - timedelta(hours=2))
    report = run(b)
    f = only(report, "PDB-BLOCKS-EVICTION")
    crash = next(g for g in report.findings if g.code == "POD-CRASHLOOP" and g.object.name == "api")
    assert f.severity == "warning" and crash.id in f.caused_by and not f.root_cause
    assert f.title.startswith("PodDisruptionBudget mycure-production/api has allowed no eviction for 2h: 0 of ")
    assert f.evidence[0].startswith("status.conditions[DisruptionAllowed]: False (InsufficientPods) since")
    assert any(e.startswith("status: currentHealthy=0 desiredHealthy=1 expectedPods=") for e in f.evidence)
    assert "spec.minAvailable=1" in f.evidence
    assert any(e.startswith(f"pod {pods[0]['metadata']['name']} not Ready (phase Running, api: CrashLoopBackOff")
               for e in f.evidence)
    assert {("Pod", NS, p["metadata"]["name"]) for p in pods} <= set(f.depends_on)


def test_budget_blocked_only_briefly_is_quiet() -> None:
    b = H.platform()
    for p in scenario.live_pods(b, "Deployment", "api", NS):
        faults.crashloop(b, p, since=timedelta(minutes=10))
    b.refresh()
    _blocked_since(_pdb(b), NOW - timedelta(minutes=10))
    assert not codes(run(b), "PDB-")


def test_budget_blocked_during_a_rollout_is_info() -> None:
    b = H.platform()
    w = b.workload("Deployment", NS, "api")
    dep = w.controller
    for p in scenario.live_pods(b, "Deployment", "api", NS):
        p["status"]["conditions"] = [c if c["type"] not in ("Ready", "ContainersReady") else
                                     {**c, "status": "False", "reason": "ContainersNotReady"} for c in p["status"]["conditions"]]
        for cs in p["status"]["containerStatuses"]:
            cs["ready"] = False
    b.refresh()
    dep["metadata"]["generation"] += 1
    dep["status"]["observedGeneration"] = dep["metadata"]["generation"]
    dep["status"]["updatedReplicas"] = 1
    set_condition(dep, condition("Progressing", "True", "ReplicaSetUpdated",
                                 f"ReplicaSet \"{w.name}-7d9c6b5f4\" is progressing.", NOW - timedelta(minutes=40),
                                 update=NOW - timedelta(minutes=1)))
    pdb = _pdb(b)
    _blocked_since(pdb, NOW - timedelta(minutes=40))
    f = only(run(b), "PDB-BLOCKS-EVICTION")
    assert f.severity == "info" and f.title.endswith("(a rollout is in progress)")
    assert any("rollout in progress (1/" in e for e in f.evidence)


def test_budget_that_leaves_no_room_even_when_every_pod_is_healthy() -> None:
    b = H.platform()
    pdb = _pdb(b)
    expected = pdb["status"]["expectedPods"]
    pdb["spec"] = {"minAvailable": expected, "selector": pdb["spec"]["selector"]}
    pdb["metadata"]["generation"] += 1
    pdb["status"].update({"currentHealthy": expected, "desiredHealthy": expected, "disruptionsAllowed": 0,
                          "observedGeneration": pdb["metadata"]["generation"]})
    pdb["status"]["conditions"] = [condition("DisruptionAllowed", "False", "InsufficientPods", "",
                                             NOW - timedelta(days=9), observed_generation=pdb["metadata"]["generation"])]
    validate_object(pdb)
    report = run(b)
    f = only(report, "PDB-BLOCKS-EVICTION")
    assert f.severity == "warning" and f.root_cause
    assert (f"cause: it requires {expected} healthy pods out of {expected}, "
            f"so even with every pod healthy no pod may be evicted") in f.evidence
    assert any(e.startswith("a drain of ") and e.endswith("waits on this budget") for e in f.evidence)
    assert [g.id for g in new_serious_roots(report)] == [f.id], H.dump(report)


def test_healthy_platform_budgets_are_quiet() -> None:
    assert not codes(run(H.platform()), "PDB-")


# ================================================================================ ApplicationSet


def test_applicationset_resources_not_up_to_date_without_error_occurred() -> None:
    b = H.platform()
    root = b.require("Application", "argocd", "infrastructure-root")
    aset = new_object("ApplicationSet", "tenants", "argocd", NOW - timedelta(days=40), api_version="argoproj.io/v1alpha1")
    aset["spec"] = {"generators": [{"list": {"elements": [{"tenant": "mycure-production"}, {"tenant": "lfh-staging"}]}}],
                    "goTemplate": True, "goTemplateOptions": ["missingkey=error"],
                    "template": {"metadata": {"name": "{{.tenant}}"},
                                 "spec": {"project": "tenants", "source": root["spec"]["source"],
                                          "destination": {"server": "https://kubernetes.default.svc",
                                                          "namespace": "{{.tenant}}"}}}}
    msg = "application references project tenants which does not exist"
    aset["status"] = {"conditions": [
        {"lastTransitionTime": ts(NOW - timedelta(hours=3)), "message": msg, "reason": "ApplicationValidationError",
         "status": "False", "type": "ResourcesUpToDate"},
        {"lastTransitionTime": ts(NOW - timedelta(days=40)), "message": "Successfully generated parameters for all Applications",
         "reason": "ParametersGenerated", "status": "True", "type": "ParametersGenerated"},
    ]}
    validate_object(aset)
    b.add(aset)
    f = only(run(b), "ARGOCD-APPSET-ERROR")
    assert f.title == f"ApplicationSet tenants failed: ApplicationValidationError: {msg}"
    assert f.evidence[0].startswith(f'status.conditions[ResourcesUpToDate]: False (ApplicationValidationError) "{msg}"')


# ================================================================================ HPA autoscaling/v1


def _as_v1(hpa: Obj) -> Obj:
    """The v2 object as an autoscaling/v1 client reads it: conditions and metrics move to annotations."""
    spec, st = hpa["spec"], hpa["status"]
    cpu = next(m for m in spec["metrics"] if m["type"] == "Resource" and m["resource"]["name"] == "cpu")
    cur = next((m for m in st.get("currentMetrics") or () if m["type"] == "Resource" and m["resource"]["name"] == "cpu"), None)
    others = [{"type": m["type"], "resource": {"name": m["resource"]["name"],
               "currentAverageUtilization": m["resource"]["current"].get("averageUtilization"),
               "currentAverageValue": m["resource"]["current"].get("averageValue")}}
              for m in st.get("currentMetrics") or () if m["type"] == "Resource"]
    md = dict(hpa["metadata"])
    md["annotations"] = {**(md.get("annotations") or {}),
                         "autoscaling.alpha.kubernetes.io/conditions": json.dumps(st.get("conditions") or []),
                         "autoscaling.alpha.kubernetes.io/current-metrics": json.dumps(others)}
    v1 = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": md,
          "spec": {"maxReplicas": spec["maxReplicas"], "minReplicas": spec.get("minReplicas", 1),
                   "scaleTargetRef": spec["scaleTargetRef"],
                   "targetCPUUtilizationPercentage": cpu["resource"]["target"]["averageUtilization"]},
          "status": {"currentReplicas": st["currentReplicas"], "desiredReplicas": st["desiredReplicas"]}}
    if cur is not None and cur["resource"]["current"].get("averageUtilization") is not None:
        v1["status"]["currentCPUUtilizationPercentage"] = cur["resource"]["current"]["averageUtilization"]
    if st.get("lastScaleTime"):
        v1["status"]["lastScaleTime"] = st["lastScaleTime"]
    validate_object(v1)
    return v1


def _replace(b, old: Obj, new: Obj) -> None:
    b.remove(old)
    b.add(new)


def test_hpa_v1_unable_to_scale_is_read_from_its_annotation() -> None:
    b = H.platform()
    hpa = b.require("HorizontalPodAutoscaler", NS, "api")
    set_condition(hpa, condition("AbleToScale", "False", "FailedGetScale",
                                 'the HPA controller was unable to get the target\'s current scale: deployments/scale.apps '
                                 '"api" is forbidden: User "system:serviceaccount:kube-system:horizontal-pod-autoscaler" '
                                 'cannot get resource "deployments/scale" in API group "apps"',
                                 NOW - timedelta(minutes=50)))
    _replace(b, hpa, _as_v1(hpa))
    report = run(b)
    f = only(report, "HPA-UNABLE-TO-SCALE")
    assert f.title == "HPA api cannot scale Deployment api: FailedGetScale"
    assert f.evidence[0].startswith("metadata.annotations[autoscaling.alpha.kubernetes.io/conditions][AbleToScale]: "
                                    "False (FailedGetScale)")


def test_hpa_v1_metrics_unavailable() -> None:
    b = H.platform()
    hpa = b.require("HorizontalPodAutoscaler", NS, "api")
    set_condition(hpa, condition("ScalingActive", "False", "FailedGetResourceMetric",
                                 "the HPA was unable to compute the replica count: failed to get cpu utilization: "
                                 "unable to get metrics for resource cpu: unable to fetch metrics from resource metrics "
                                 "API: the server is currently unable to handle the request (get pods.metrics.k8s.io)",
                                 NOW - timedelta(minutes=30)))
    for m in hpa["status"]["currentMetrics"]:
        m["resource"]["current"] = {}
    _replace(b, hpa, _as_v1(hpa))
    f = only(run(b), "HPA-METRICS-UNAVAILABLE")
    assert "FailedGetResourceMetric" in f.title
    assert ("APIService", "", "v1beta1.metrics.k8s.io") in f.depends_on


def test_hpa_v1_at_max_over_its_cpu_target() -> None:
    b = H.platform()
    hpa = b.require("HorizontalPodAutoscaler", NS, "api")
    mx = hpa["spec"]["maxReplicas"]
    hpa["status"]["currentReplicas"] = hpa["status"]["desiredReplicas"] = mx
    for m in hpa["status"]["currentMetrics"]:
        if m["resource"]["name"] == "cpu":
            m["resource"]["current"]["averageUtilization"] = 96
    set_condition(hpa, condition("ScalingLimited", "True", "TooManyReplicas",
                                 "the desired replica count is more than the maximum replica count",
                                 NOW - timedelta(minutes=45)))
    _replace(b, hpa, _as_v1(hpa))
    f = only(run(b), "HPA-AT-MAX-REPLICAS")
    target = hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"]
    assert f.title == f"HPA api is pinned at maxReplicas {mx} while cpu 96% of request > target {target}%"


def test_healthy_hpa_v1_is_quiet() -> None:
    b = H.platform()
    hpa = b.require("HorizontalPodAutoscaler", NS, "api")
    _replace(b, hpa, _as_v1(hpa))
    assert not codes(run(b), "HPA-")


def test_hpa_target_is_not_called_missing_when_no_deployment_was_captured() -> None:
    b = H.platform()
    hpa = b.require("HorizontalPodAutoscaler", NS, "api")
    only_hpa = scenario.snapshot_from_objects([hpa], NOW)
    assert not [f for f in diagnose(only_hpa).findings if f.code == "HPA-TARGET-MISSING"]
    # with Deployments captured, a target that is not among them is missing
    hpa["spec"]["scaleTargetRef"]["name"] = "api-v2"
    f = only(run(b), "HPA-TARGET-MISSING")
    assert f.title == "HPA api targets Deployment api-v2, which does not exist"


def test_cluster_external_secret_ready_wins_over_a_stale_partially_ready() -> None:
    b = H.platform()
    _ces(b, {"conditions": [{"type": "PartiallyReady", "status": "True", "message": "one or more namespaces failed"},
                            {"type": "Ready", "status": "True"}],
             "provisionedNamespaces": [STAGING, NS]})
    assert not codes(run(b), "ESO-CLUSTER-EXTERNAL-SECRET")


# ================================================================================ ReplicaSet without its Deployment


def test_replicaset_whose_deployment_was_not_captured_is_judged_itself() -> None:
    b = H.platform()
    dep = b.workload("Deployment", NS, "api").controller
    rs = next(r for r in b.list("ReplicaSet", NS) if any(o.get("uid") == dep["metadata"]["uid"]
                                                         for o in r["metadata"].get("ownerReferences") or ()))
    rs["status"] = {"fullyLabeledReplicas": rs["spec"]["replicas"], "observedGeneration": rs["metadata"]["generation"],
                    "replicas": rs["spec"]["replicas"]}  # no pod ready or available: the server omits the zeros
    validate_object(rs)
    snap = scenario.snapshot_from_objects([b.require("Namespace", None, NS), rs], NOW)
    f = only(diagnose(snap), "WORKLOAD-UNAVAILABLE")
    assert f.object.kind == "ReplicaSet" and f.severity == "critical"
    assert f.title == f"ReplicaSet {NS}/{rs['metadata']['name']}: 0/{rs['spec']['replicas']} replicas available"
    assert "not checked: pods were not captured, so which pods are down (and why) cannot be seen" in f.evidence
    assert not any("the controller has not created them" in e for e in f.evidence)
    # captured with its Deployment, it is judged through the Deployment only
    both = diagnose(scenario.snapshot_from_objects([b.require("Namespace", None, NS), dep, rs], NOW))
    assert not [g for g in both.findings if g.object.kind == "ReplicaSet"]


def test_budget_selector_with_expressions_gives_a_working_kubectl_selector() -> None:
    b = H.platform()
    pdb = _pdb(b)
    labels = pdb["spec"]["selector"]["matchLabels"]
    pdb["spec"]["selector"] = {"matchExpressions": [{"key": k, "operator": "In", "values": [v]} for k, v in labels.items()]}
    expected = pdb["status"]["expectedPods"]
    pdb["spec"]["minAvailable"] = expected
    pdb["status"].update({"currentHealthy": expected, "desiredHealthy": expected, "disruptionsAllowed": 0})
    pdb["status"]["conditions"] = [condition("DisruptionAllowed", "False", "InsufficientPods", "",
                                             NOW - timedelta(days=2), observed_generation=1)]
    validate_object(pdb)
    f = only(run(b), "PDB-BLOCKS-EVICTION")
    want = ",".join(f"{k} in ({v})" for k, v in labels.items())
    assert any(r.command == f"kubectl get pods -n {NS} -l '{want}' -o wide" for r in f.remediation)
    assert any(e.startswith("a drain of ") for e in f.evidence)  # the expressions select the pods
