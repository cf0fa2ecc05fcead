"""Velero faults on the healthy synthetic platform, written the way the Velero v1.15 controllers would
write them, plus helpers shared by the Velero and DR tests.

The reference clock is Wednesday 2025-03-12 10:30 UTC: tenant-databases-daily fired at 02:00 on the
10th, 11th and 12th, infrastructure-daily at 03:00 on the same days, cluster-resources-weekly on
Sundays 2025-03-02 and 2025-03-09 at 04:00.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import scenario
from scenario import validated

from sre_expert.core.model import Finding
from sre_expert.core.snapshot import Snapshot
from sre_expert.diagnosis.engine import Report, diagnose
from sre_expert.sources.memory import snapshot_from_objects
from synth import faults
from synth.builder import PlatformBuilder
from synth.meta import bump, new_object, parse_ts, ts

NOW = datetime(2025, 3, 12, 10, 30, tzinfo=UTC)
VELERO_NS = "velero"
TENANTS = ("mycure-production", "lfh-staging")
INFRA = ("cert-manager", "envoy-gateway-system", "external-secrets-system", "longhorn-system", "velero",
         "monitoring", "kube-system", "argocd")
OUTAGE_START = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)  # the 11th and 12th daily runs fall after it

GCS_403 = ("googleapi: Error 403: velero-server@mc-v4-prod.iam.gserviceaccount.com does not have "
           "storage.objects.get access to the Google Cloud Storage object. Permission 'storage.objects.get' denied "
           "on resource (or it may not exist)., forbidden")


# ------------------------------------------------------------------------------ building and diagnosing


def platform(now: datetime = NOW) -> PlatformBuilder:
    return scenario.platform(now)


def snapshot(b: PlatformBuilder) -> Snapshot:
    return snapshot_from_objects(b.objects, b.now, logs=b.logs, cluster=b.cluster)


def run(b: PlatformBuilder) -> Report:
    return diagnose(snapshot(b))


def alarms(report: Report) -> list[Finding]:
    """Findings of severity warning or above."""
    return [f for f in report.findings if scenario.is_serious(f)]


by_code = scenario.by_code


def one(report: Report, code: str, name: str | None = None) -> Finding:
    hits = scenario.pick(report, code, name)
    assert len(hits) == 1, f"expected one {code} {name or ''}, got {[f.id for f in hits]}\n" + describe(report)
    return hits[0]


def describe(report: Report) -> str:
    return "\n".join(f"  {f.severity:8} {'ROOT ' if f.root_cause else '     '}{f.id} | {f.title}" for f in report.findings)


def assert_exactly(report: Report, expected: list[Finding]) -> None:
    """Nothing of severity warning or above but the expected findings."""
    ids = {f.id for f in expected}
    extra = [f for f in alarms(report) if f.id not in ids]
    assert not extra, "unexpected findings:\n" + "\n".join(f"  {f.id} | {f.title}" for f in extra) + "\n" + describe(report)


def assert_healthy_is_silent() -> None:
    """The untouched platform has no finding at all, so every alarm of a broken one is the fault's."""
    report = run(platform())
    assert not report.findings, describe(report)


def rpo_missed_because_of(report: Report, root: Finding, namespaces: Iterable[str]) -> list[Finding]:
    """The VELERO-RPO-MISSED findings are on exactly `namespaces`, each explained by `root` alone."""
    rpo = by_code(report, "VELERO-RPO-MISSED")
    assert sorted(f.object.name for f in rpo) == sorted(namespaces)
    assert all(f.caused_by == [root.id] for f in rpo)
    return rpo


def assert_templates_filled(findings: list[Finding]) -> None:
    """Every remediation command has its {placeholders} filled from the finding's params."""
    for f in findings:
        for r in f.remediation:
            if r.command:
                assert not re.search(r"\{[a-z_]+\}", r.command), f"{f.code}: unfilled placeholder in {r.command!r}"


# ------------------------------------------------------------------------------ object access


def bsl(b: PlatformBuilder, name: str = "default") -> dict[str, Any]:
    return b.require("BackupStorageLocation", VELERO_NS, name)


def schedule(b: PlatformBuilder, name: str) -> dict[str, Any]:
    return b.require("Schedule", VELERO_NS, name)


def backups_of(b: PlatformBuilder, sched: str) -> list[dict[str, Any]]:
    """The schedule's backups, newest first."""
    out = [o for o in b.list("Backup", VELERO_NS) if o["metadata"]["labels"].get("velero.io/schedule-name") == sched]
    return sorted(out, key=lambda o: o["status"]["startTimestamp"], reverse=True)


def _started(bk: dict[str, Any]) -> datetime:
    return parse_ts(bk["status"].get("startTimestamp") or bk["metadata"]["creationTimestamp"])


def fail_backup(bk: dict[str, Any], reason: str) -> None:
    """Failed at the object storage existence check: before any item was backed up."""
    st = bk["status"]
    started = _started(bk)
    st["phase"] = "Failed"
    st["failureReason"] = reason
    st.pop("progress", None)
    st["completionTimestamp"] = ts(started + timedelta(seconds=2))
    validated(bk)


def fail_validation(bk: dict[str, Any], errors: list[str]) -> None:
    """Rejected by the backup controller before running: no start or completion time is recorded."""
    st = bk["status"]
    for k in ("startTimestamp", "completionTimestamp", "progress", "hookStatus"):
        st.pop(k, None)
    st["phase"] = "FailedValidation"
    st["validationErrors"] = errors
    validated(bk)


def drop_backups_after(b: PlatformBuilder, sched: str, when: datetime) -> None:
    """Backups the schedule did not create because it stopped at `when`; lastBackup stays before it."""
    s = schedule(b, sched)
    kept = []
    for bk in backups_of(b, sched):
        if _started(bk) > when:
            b.remove(bk)
        else:
            kept.append(bk)
    if kept:
        s["status"]["lastBackup"] = kept[0]["metadata"]["creationTimestamp"]
    else:
        s["status"].pop("lastBackup", None)
    validated(s)


# ------------------------------------------------------------------------------ faults


def bsl_unavailable(b: PlatformBuilder, since: datetime = OUTAGE_START) -> dict[str, Any]:
    """The GCS bucket refuses the server's service account since `since`: the location turns Unavailable
    at its next validation and every backup after that fails at the existence check."""
    loc = faults.bsl_unavailable(b, message="rpc error: code = Unknown desc = " + GCS_403.replace(
        "storage.objects.get", "storage.objects.list").replace(" object.", " bucket."))
    loc["status"]["lastSyncedTime"] = ts(since)
    validated(loc)
    for s in b.list("Schedule", VELERO_NS):
        for bk in backups_of(b, s["metadata"]["name"]):
            if _started(bk) > since:
                fail_backup(bk, "error checking if backup already exists in object storage: rpc error: code = Unknown "
                                f"desc = {GCS_403}")
    return loc


def bsl_read_only(b: PlatformBuilder, since: datetime = OUTAGE_START) -> dict[str, Any]:
    """Someone left the location ReadOnly after a restore drill: every backup since fails validation."""
    loc = bsl(b)
    loc["spec"]["accessMode"] = "ReadOnly"
    bump(loc, generation=True)
    validated(loc)
    for s in b.list("Schedule", VELERO_NS):
        for bk in backups_of(b, s["metadata"]["name"]):
            if _started(bk) > since:
                fail_validation(bk, [("backup can't be created because backup storage location default is "
                                      "currently in read-only mode")])
    return loc


def pause_schedule(b: PlatformBuilder, name: str = "tenant-databases-daily", since: datetime = OUTAGE_START) -> dict[str, Any]:
    s = schedule(b, name)
    s["spec"]["paused"] = True
    bump(s, generation=True)
    drop_backups_after(b, name, since)
    return s


def invalid_schedule(b: PlatformBuilder, name: str = "infrastructure-daily", since: datetime = OUTAGE_START) -> dict[str, Any]:
    """A six-field cron (with seconds) slipped into Git; ParseStandard rejects it."""
    s = schedule(b, name)
    s["spec"]["schedule"] = "0 0 3 * * *"
    bump(s, generation=True)
    s["status"]["phase"] = "FailedValidation"
    s["status"]["validationErrors"] = ["invalid schedule: expected exactly 5 fields, found 6: [0 0 3 * * *]"]
    drop_backups_after(b, name, since)
    return s


def partially_failed_newest(b: PlatformBuilder, name: str = "tenant-databases-daily") -> dict[str, Any]:
    """The newest run finished with item errors (synth's fault: a volume's file-system backup failed)."""
    bk = faults.backup_failed(b, name, phase="PartiallyFailed", errors=2)
    validated(bk)
    return bk


def stuck_newest(b: PlatformBuilder, name: str = "tenant-databases-daily") -> dict[str, Any]:
    """The newest run has been InProgress since it started (a file-system backup that hangs)."""
    bk = backups_of(b, name)[0]
    st = bk["status"]
    st["phase"] = "InProgress"
    st.pop("completionTimestamp", None)
    st["progress"]["itemsBackedUp"] = st["progress"]["totalItems"] // 3
    validated(bk)
    return bk


def old_failure(b: PlatformBuilder, name: str = "infrastructure-daily") -> dict[str, Any]:
    """The oldest retained run failed once; the two newer ones completed."""
    bk = backups_of(b, name)[-1]
    fail_backup(bk, "rpc error: code = Unavailable desc = error reading from server: EOF")
    return bk


def failed_restore(b: PlatformBuilder, namespace: str = "mycure-production", phase: str = "PartiallyFailed") -> dict[str, Any]:
    """A namespace restore from the newest tenant backup that could not recreate some objects."""
    src = backups_of(b, "tenant-databases-daily")[0]
    started = b.now - timedelta(hours=1)
    r = new_object("Restore", f"restore-{namespace}-20250312", VELERO_NS, started, api_version="velero.io/v1")
    r["spec"] = {"backupName": src["metadata"]["name"], "excludedResources": [
        "nodes", "events", "events.events.k8s.io", "backups.velero.io", "restores.velero.io", "resticrepositories.velero.io",
        "csinodes.storage.k8s.io", "volumeattachments.storage.k8s.io", "backuprepositories.velero.io"],
        "hooks": {}, "includedNamespaces": [namespace], "itemOperationTimeout": "4h0m0s"}
    r["status"] = {"completionTimestamp": ts(started + timedelta(minutes=6)), "phase": phase,
                   "progress": {"itemsRestored": 61, "totalItems": 64}, "startTimestamp": ts(started)}
    if phase == "PartiallyFailed":
        r["status"]["errors"] = 3
        r["status"]["warnings"] = 12
    else:
        r["status"]["failureReason"] = "error getting backup: backups.velero.io \"missing\" not found"
    validated(r)
    return b.add(r)


def unprotect(b: PlatformBuilder, namespace: str = "lfh-staging", sched: str = "tenant-databases-daily") -> None:
    """The schedule (and the backups it made) never listed this tenant namespace."""
    s = schedule(b, sched)
    s["spec"]["template"]["includedNamespaces"] = [n for n in s["spec"]["template"]["includedNamespaces"] if n != namespace]
    validated(s)
    for bk in backups_of(b, sched):
        bk["spec"]["includedNamespaces"] = list(s["spec"]["template"]["includedNamespaces"])
        validated(bk)


def server_oom_loop(b: PlatformBuilder, since: datetime = OUTAGE_START) -> dict[str, Any]:
    """The velero server is OOMKilled at start-up since `since`: nothing validates locations or runs schedules."""
    w = b.workload("Deployment", VELERO_NS, "velero")
    pod = next(p for p in w.pods if b.get("Pod", VELERO_NS, p["metadata"]["name"]) is p)
    faults.oomkilled(b, pod, restarts=212, since=b.now - since)
    loc = bsl(b)
    loc["status"]["lastValidationTime"] = ts(since)
    loc["status"]["lastSyncedTime"] = ts(since)
    validated(loc)
    for s in b.list("Schedule", VELERO_NS):
        drop_backups_after(b, s["metadata"]["name"], since)
    return pod
