"""Workload checks: controllers short of replicas, stuck rollouts, pod creation refused (quota, admission),
failed Jobs and CronJobs, on the synth platform with one fault each, plus the states that are not failures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from scenario import descendants
from test_checks_pods import (
    API_IMAGE,
    NOW,
    NS,
    _dump,
    codes,
    has,
    only_root,
    platform,
    pods_of,
    run,
    serious_roots,
)

from synth import faults as F
from synth import pods as podlib
from synth.meta import condition, safe_suffix, set_condition, ts

pytestmark = pytest.mark.scenario


# --------------------------------------------------------------------------------------------- FailedCreate


def test_quota_exceeded_names_the_quota_and_depends_on_it() -> None:
    b = platform()
    F.quota_exceeded(b, b.workload("Deployment", NS, "api"))
    report = run(b)
    f = next(f for f in report.findings if f.code == "WORKLOAD-QUOTA-EXCEEDED")
    assert (f.object.kind, f.object.name) == ("Deployment", "api")
    assert ("ResourceQuota", NS, "compute-quota") in f.depends_on
    assert "ResourceQuota compute-quota exceeded: requested limits.memory=1Gi" in f.title
    assert has(f.evidence, "event Warning FailedCreate x")
    assert has(f.evidence, "condition ReplicaFailure=True reason=FailedCreate")
    assert has(f.evidence, "ResourceQuota mycure-production/compute-quota: limits.memory used")
    assert has(f.evidence, "2/3 replicas available")
    assert f.severity == "warning"  # two replicas still serve
    assert any(r.command == f"kubectl describe resourcequota compute-quota -n {NS}" for r in f.remediation)
    roots = serious_roots(report)
    assert len(roots) == 1, _dump(report)
    if roots[0].object.kind == "ResourceQuota":  # the quota area speaks for the quota
        assert f.id in descendants(report, roots[0])
    else:
        assert roots[0].id == f.id
    unavailable = [x for x in report.findings if x.code == "WORKLOAD-UNAVAILABLE"]
    assert all(not x.root_cause for x in unavailable)


def test_webhook_denial_names_webhook_and_policy() -> None:
    b = platform()
    F.webhook_denied(b, b.workload("Deployment", NS, "api"))
    report = run(b)
    f = next(f for f in report.findings if f.code == "WORKLOAD-ADMISSION-DENIED")
    assert (f.object.kind, f.object.name) == ("Deployment", "api")
    assert "validate.kyverno.svc-fail" in f.title and "pod-security" in f.title
    assert has(f.evidence, "policy pod-security: restricted: Validation rule 'restricted' failed")
    assert ("ClusterPolicy", "", "pod-security") in f.depends_on
    assert f.severity == "warning"  # the old ReplicaSet still serves
    roots = serious_roots(report)
    assert len(roots) == 1, _dump(report)
    assert roots[0].id == f.id or f.id in descendants(report, roots[0])


def _failed_create(b, w, message: str) -> None:
    rs = w.replicaset
    rs["spec"]["replicas"] = rs["spec"]["replicas"] + 1
    w.deployment["spec"]["replicas"] = rs["spec"]["replicas"]
    first = NOW - timedelta(minutes=12)
    set_condition(rs, condition("ReplicaFailure", "True", "FailedCreate", message, first))
    b.add_event(rs, "FailedCreate", f"Error creating: {message}", "Warning", 14, first=first,
                component="replicaset-controller")
    b.refresh()


def test_unreachable_webhook_depends_on_its_service() -> None:
    b = platform()
    w = b.workload("Deployment", NS, "api")
    pod = f"{w.replicaset['metadata']['name']}-{safe_suffix('x', 'y')}"
    _failed_create(b, w, f'Internal error occurred: failed calling webhook "mutate.kyverno.svc-fail": failed to call '
                         f'webhook: Post "https://kyverno-svc.kyverno.svc:443/mutate/fail?timeout=10s": dial tcp '
                         f'10.96.4.12:443: connect: connection refused ({pod})')
    report = run(b)
    f = next(f for f in report.findings if f.code == "WORKLOAD-ADMISSION-DENIED")
    assert "mutate.kyverno.svc-fail is unreachable" in f.title
    assert ("Service", "kyverno", "kyverno-svc") in f.depends_on


def test_pod_security_admission_rejection() -> None:
    b = platform()
    w = b.workload("Deployment", NS, "api")
    _failed_create(b, w, f'pods "{w.replicaset["metadata"]["name"]}-abcde" is forbidden: violates PodSecurity '
                         '"restricted:latest": allowPrivilegeEscalation != false (container "api" must set '
                         'securityContext.allowPrivilegeEscalation=false)')
    report = run(b)
    root = only_root(report, "WORKLOAD-ADMISSION-DENIED", "Deployment", "api")
    assert "violates PodSecurity restricted:latest" in root.title


def test_missing_service_account() -> None:
    b = platform()
    w = b.workload("Deployment", NS, "api")
    _failed_create(b, w, f'pods "{w.replicaset["metadata"]["name"]}-abcde" is forbidden: error looking up service '
                         f'account {NS}/api-runner: serviceaccount "api-runner" not found')
    report = run(b)
    root = only_root(report, "WORKLOAD-CREATE-FAILED", "Deployment", "api")
    assert ("ServiceAccount", NS, "api-runner") in root.depends_on
    assert "ServiceAccount api-runner does not exist" in root.title


def test_stale_failed_create_is_ignored_once_the_replicas_exist() -> None:
    b = platform()
    w = b.workload("Deployment", NS, "api")
    rs = w.replicaset
    b.add_event(rs, "FailedCreate", f'Error creating: pods "{rs["metadata"]["name"]}-zzzzz" is forbidden: exceeded '
                "quota: compute-quota, requested: limits.memory=1Gi, used: limits.memory=4Gi, limited: limits.memory=4Gi",
                "Warning", 3, first=NOW - timedelta(minutes=50), last=NOW - timedelta(minutes=40),
                component="replicaset-controller")
    report = run(b)
    assert not codes(report, "WORKLOAD-"), _dump(report)


def test_statefulset_claim_refused_by_quota() -> None:
    b = platform()
    w = b.workload("StatefulSet", NS, "redis")
    sts = w.statefulset
    sts["spec"]["replicas"] = 2
    msg = ("create Claim data-redis-1 for Pod redis-1 in StatefulSet redis failed error: persistentvolumeclaims "
           '"data-redis-1" is forbidden: exceeded quota: compute-quota, requested: requests.storage=8Gi, used: '
           "requests.storage=196Gi, limited: requests.storage=200Gi")
    b.add_event(sts, "FailedCreate", msg, "Warning", 9, first=NOW - timedelta(minutes=20),
                component="statefulset-controller")
    report = run(b)
    f = next(f for f in report.findings if f.code == "WORKLOAD-QUOTA-EXCEEDED")
    assert (f.object.kind, f.object.name) == ("StatefulSet", "redis")
    assert "requests.storage=8Gi" in f.title
    assert not [x for x in report.findings if x.code == "WORKLOAD-UNAVAILABLE" and x.object.name == "redis"]


# --------------------------------------------------------------------------------------------- availability


def test_progress_deadline_after_bad_image_is_explained_by_the_pod() -> None:
    b = platform()
    F.deployment_progress_deadline(b, b.workload("Deployment", NS, "api"))
    report = run(b)
    dl = next(f for f in report.findings if f.code == "WORKLOAD-PROGRESS-DEADLINE")
    assert has(dl.evidence, "condition Progressing=False reason=ProgressDeadlineExceeded")
    assert "progressDeadlineSeconds=600" in dl.title
    assert dl.severity == "warning"  # the old ReplicaSet keeps 2/2 available
    assert not dl.root_cause
    only_root(report, "POD-IMAGE-PULL", "Deployment", "api")
    assert any(r.command and r.command.startswith("kubectl rollout undo") and r.safety == "mutating"
               for r in dl.remediation)


def test_progress_deadline_with_nothing_else_wrong_is_the_root() -> None:
    b = platform()
    w = b.workload("Deployment", NS, "api")
    F.rollout(b, w, lambda t: t["metadata"]["annotations"].update({"checksum/config": "v2"}),
              since=timedelta(minutes=25), new_pods=0)
    w.replicaset["spec"]["replicas"] = 1
    dep = w.deployment
    set_condition(dep, condition("Progressing", "False", "ProgressDeadlineExceeded",
                                 f'ReplicaSet "{w.replicaset["metadata"]["name"]}" has timed out progressing.',
                                 NOW - timedelta(minutes=15), update=NOW - timedelta(minutes=15)))
    b.refresh()
    report = run(b)
    root = only_root(report, "WORKLOAD-PROGRESS-DEADLINE", "Deployment", "api")
    assert ("ReplicaSet", NS, w.replicaset["metadata"]["name"]) in root.depends_on


def test_missing_pods_nobody_explains_make_the_workload_the_root() -> None:
    b = platform()
    w = b.workload("StatefulSet", NS, "redis")
    w.statefulset["spec"]["replicas"] = 3  # the controller never created redis-1/redis-2 (no events either)
    b.refresh()
    report = run(b)
    root = only_root(report, "WORKLOAD-UNAVAILABLE", "StatefulSet", "redis")
    assert root.severity == "warning"
    assert "1/3 replicas available" in root.title
    assert has(root.evidence, "2 pod(s) missing")


def test_statefulset_down_is_explained_by_its_pod() -> None:
    b = platform()
    # a start-up configuration error (synth's default mongodb crash log is a WiredTiger panic, which would make
    # POD-STORAGE-CORRUPTION the root: see test_checks_explanations.py)
    F.crashloop(b, pods_of(b, "StatefulSet", "mongodb")[0], exit_code=14, previous_log=(
        '{"t":{"$date":"2026-11-26T09:58:02.114+00:00"},"s":"F","c":"CONTROL","id":20574,"ctx":"-",'
        '"msg":"Error during global initialization","attr":{"error":{"code":2,"codeName":"BadValue","errmsg":'
        '"storage.wiredTiger.engineConfig.cacheSizeGB must be greater than or equal to 0.25"}}}\n'))
    report = run(b)
    root = only_root(report, "POD-CRASHLOOP", "StatefulSet", "mongodb")
    wl = next(f for f in report.findings if f.code == "WORKLOAD-UNAVAILABLE" and f.object.name == "mongodb")
    assert wl.severity == "critical" and root.id in wl.caused_by
    assert ("Pod", NS, "mongodb-0") in wl.depends_on


def test_daemonset_pod_failing_on_one_node_is_a_warning() -> None:
    b = platform()
    ds = pods_of(b, "DaemonSet", "kube-prometheus-node-exporter", "monitoring")
    F.crashloop(b, ds[0])
    report = run(b)
    root = only_root(report, "POD-CRASHLOOP", "DaemonSet", "kube-prometheus-node-exporter", namespace="monitoring")
    assert root.severity == "warning"
    wl = [f for f in report.findings if f.code == "WORKLOAD-UNAVAILABLE"]
    assert all(not f.root_cause for f in wl)


def test_scaled_to_zero_is_not_a_failure() -> None:
    b = platform()
    w = b.add_deployment(NS, "maintenance-page", API_IMAGE, replicas=0, service=False)
    b.refresh()
    assert w.deployment["spec"]["replicas"] == 0
    report = run(b)
    assert not [f for f in report.findings if f.object.name == "maintenance-page"], _dump(report)


def test_rollout_in_progress_within_its_deadline_is_not_a_failure() -> None:
    b = platform()
    w = b.workload("Deployment", NS, "api")
    new = F.rollout(b, w, lambda t: t["metadata"]["annotations"].update({"checksum/config": "v2"}),
                    since=timedelta(minutes=1), new_pods=2)
    for p in w.pods:
        if p not in new:
            b.remove(p)  # the old ReplicaSet was already scaled down
    for p in new:
        p["status"]["containerStatuses"][0]["ready"] = False
        podlib.refresh_readiness(p, NOW - timedelta(seconds=50))
    b.refresh()
    report = run(b)
    assert not [f for f in report.findings if f.code.startswith(("WORKLOAD-", "POD-"))], _dump(report)


def test_standalone_replicaset_short_of_replicas() -> None:
    b = platform()
    w = b.workload("Deployment", NS, "api")
    rs = w.old_replicasets[0]
    rs["metadata"].pop("ownerReferences")
    rs["spec"]["replicas"] = 1
    b.refresh()
    rs["status"]["replicas"] = 0
    report = run(b)
    f = next(f for f in report.findings if f.code == "WORKLOAD-UNAVAILABLE" and f.object.kind == "ReplicaSet")
    assert "0/1 replicas available" in f.title


# --------------------------------------------------------------------------------------------- Jobs and CronJobs


def test_failed_job_with_exit_code_and_log() -> None:
    b = platform()
    F.job_failed(b, b.workload("Job", NS, "api-migrate-7"), exit_code=3,
                 log="2026-11-26T07:00:03Z INFO migrating\n2026-11-26T07:00:04Z ERROR migration 0042 failed: "
                     "duplicate key error collection: monobase.patients index: email_1\n")
    report = run(b)
    root = only_root(report, "JOB-FAILED", "Job", "api-migrate-7")
    assert root.severity == "warning"
    assert "BackoffLimitExceeded" in root.title and "exit code 3" in root.title
    assert has(root.evidence, "condition Failed=True reason=BackoffLimitExceeded")
    assert has(root.evidence, "spec.backoffLimit=2")
    assert has(root.evidence, "duplicate key error")


def test_job_deadline_exceeded() -> None:
    b = platform()
    j = b.workload("Job", NS, "api-migrate-7").job
    t = NOW - timedelta(minutes=30)
    j["spec"]["activeDeadlineSeconds"] = 600
    j["status"] = {"conditions": [condition("FailureTarget", "True", "DeadlineExceeded",
                                            "Job was active longer than specified deadline", t),
                                  condition("Failed", "True", "DeadlineExceeded",
                                            "Job was active longer than specified deadline", t)],
                   "failed": 1, "ready": 0, "startTime": ts(t - timedelta(minutes=10)), "terminating": 0,
                   "uncountedTerminatedPods": {}}
    report = run(b)
    root = only_root(report, "JOB-FAILED", "Job", "api-migrate-7")
    assert "DeadlineExceeded" in root.title
    assert has(root.evidence, "spec.activeDeadlineSeconds=600")


def test_old_failed_job_is_info() -> None:
    b = platform()
    F.job_failed(b, b.workload("Job", NS, "api-migrate-7"), at=NOW - timedelta(days=3))
    j = b.require("Job", NS, "api-migrate-7")
    for c in j["status"]["conditions"]:
        c["lastTransitionTime"] = ts(NOW - timedelta(days=3))
    report = run(b)
    assert [f.severity for f in report.findings if f.code == "JOB-FAILED"] == ["info"]


def test_cronjob_last_run_failed() -> None:
    b = platform()
    F.job_failed(b, b.workload("CronJob", NS, "session-cleanup"))
    report = run(b)
    root = only_root(report, "CRONJOB-FAILED", "CronJob", "session-cleanup")
    assert "BackoffLimitExceeded" in root.title
    assert not codes(report, "JOB-FAILED")  # the Job is judged as the CronJob's run
    assert any(r.command and "--from=cronjob/session-cleanup" in r.command and r.safety == "mutating"
               for r in root.remediation)


def test_cronjob_failure_followed_by_a_success_is_not_a_failure() -> None:
    b = platform()
    cj = b.workload("CronJob", NS, "session-cleanup")
    F.job_failed(b, cj, at=NOW - timedelta(hours=1))  # the 09:00 run failed; the 10:00 run (kept) succeeded
    newest = b.require("Job", NS, f"session-cleanup-{int(NOW.timestamp() // 60)}")
    assert newest["status"]["conditions"][-1]["type"] == "Complete"
    cj.cronjob["status"] = {"lastScheduleTime": ts(NOW), "lastSuccessfulTime": newest["status"]["completionTime"]}
    report = run(b)
    assert not codes(report, "CRONJOB-FAILED"), _dump(report)
    assert not codes(report, "JOB-FAILED")


def test_cronjob_not_scheduled_for_hours() -> None:
    b = platform()
    cj = b.workload("CronJob", NS, "session-cleanup").cronjob
    cj["status"]["lastScheduleTime"] = ts(NOW - timedelta(hours=5))
    report = run(b)
    root = only_root(report, "CRONJOB-NOT-SCHEDULED", "CronJob", "session-cleanup")
    assert has(root.evidence, "spec.schedule='0 * * * *'")
    assert has(root.evidence, "next run was due at 2026-11-26T06:00:00Z")


def test_cronjob_blocked_by_a_long_running_job() -> None:
    b = platform()
    w = b.workload("CronJob", NS, "session-cleanup")
    cj = w.cronjob
    cj["spec"]["concurrencyPolicy"] = "Forbid"
    stuck = w.jobs[-1]
    stuck["status"] = {"active": 1, "ready": 1, "startTime": ts(NOW - timedelta(hours=3)), "terminating": 0,
                       "uncountedTerminatedPods": {}}
    stuck["metadata"]["creationTimestamp"] = ts(NOW - timedelta(hours=3))
    cj["status"]["lastScheduleTime"] = ts(NOW - timedelta(hours=3))
    report = run(b)
    root = only_root(report, "CRONJOB-NOT-SCHEDULED", "CronJob", "session-cleanup")
    assert has(root.evidence, f"concurrencyPolicy=Forbid and Job {stuck['metadata']['name']} is still active")


def test_cronjob_on_schedule_in_its_time_zone_is_fine() -> None:
    b = platform()
    cj = b.workload("CronJob", NS, "session-cleanup").cronjob
    cj["spec"]["schedule"] = "30 2 * * *"
    cj["spec"]["timeZone"] = "Asia/Manila"  # 02:30 in Manila is 18:30 UTC
    cj["status"]["lastScheduleTime"] = ts(NOW.replace(hour=18, minute=30) - timedelta(days=1))
    report = run(b)
    assert not codes(report, "CRONJOB-"), _dump(report)
    cj["status"]["lastScheduleTime"] = ts(NOW.replace(hour=18, minute=30) - timedelta(days=2))
    report = run(b)
    assert codes(report, "CRONJOB-NOT-SCHEDULED")


def test_suspended_cronjob_is_info() -> None:
    b = platform()
    cj = b.workload("CronJob", NS, "session-cleanup").cronjob
    cj["spec"]["suspend"] = True
    cj["status"]["lastScheduleTime"] = ts(NOW - timedelta(days=2))
    report = run(b)
    found = [f for f in report.findings if f.code.startswith("CRONJOB-")]
    assert [(f.code, f.severity) for f in found] == [("CRONJOB-SUSPENDED", "info")]
    assert serious_roots(report) == [], _dump(report)
