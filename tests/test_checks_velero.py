"""Velero checks: one scenario per fault on the healthy platform, asserting the root cause, its evidence,
the linked symptoms, and that nothing else of severity warning or above appears.

The healthy platform raises no finding at all (checked once per module), so every alarm is the fault's.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import velero_faults as vf
from velero_faults import assert_exactly, assert_templates_filled

from synth.meta import ts

pytestmark = pytest.mark.scenario

VELERO_CODES_PREFIX = ("VELERO-",)


@pytest.fixture(scope="module", autouse=True)
def _healthy_is_silent() -> None:
    vf.assert_healthy_is_silent()


# ----------------------------------------------------------------------------------------- healthy


def test_healthy_platform_has_no_velero_finding() -> None:
    report = vf.run(vf.platform())
    mine = [f for f in report.findings if f.code.startswith(VELERO_CODES_PREFIX) or f.component == "velero"]
    assert mine == [], vf.describe(report)
    assert not [t for t in report.not_checked if t.startswith("velero.")]


def test_healthy_platform_at_other_times_of_day() -> None:
    """Just before and just after the nightly runs the RPO grace and schedule grace keep it quiet."""
    for hour, minute in ((1, 59), (2, 5), (3, 10), (23, 0)):
        b = vf.platform(vf.NOW.replace(hour=hour, minute=minute))
        report = vf.run(b)
        mine = [f for f in report.findings if f.component == "velero"]
        assert mine == [], f"{hour}:{minute}\n" + vf.describe(report)


# ----------------------------------------------------------------------------------------- storage location


def test_bsl_unavailable_is_the_only_root_of_failed_backups_and_missed_rpos() -> None:
    b = vf.platform()
    vf.bsl_unavailable(b)
    report = vf.run(b)

    root = vf.one(report, "VELERO-BSL-UNAVAILABLE", "default")
    assert root.root_cause and root.severity == "critical"
    assert "status.phase: Unavailable" in root.evidence
    assert any(e.startswith('status.message: BackupStorageLocation "default" is unavailable: rpc error') and
               "storage.objects.list" in e for e in root.evidence)
    assert any("target of schedule(s) cluster-resources-weekly, infrastructure-daily, tenant-databases-daily" in e
               for e in root.evidence)
    assert any(r.command == "kubectl get backupstoragelocation default -n velero -o yaml" for r in root.remediation)
    assert any(r.command == "kubectl get secret cloud-credentials -n velero --show-labels" for r in root.remediation)

    failed = vf.by_code(report, "VELERO-BACKUP-FAILED")
    assert sorted(f.object.name for f in failed) == ["infrastructure-daily-20250312030000",
                                                      "tenant-databases-daily-20250312020002"]
    for f in failed:
        assert not f.root_cause and f.caused_by == [root.id]
        assert any(e.startswith("status.failureReason: error checking if backup already exists in object storage")
                   for e in f.evidence)
        assert any("newest Completed backup of the same schedule" in e and "-20250310" in e for e in f.evidence)

    rpo = vf.by_code(report, "VELERO-RPO-MISSED")
    assert sorted(f.object.name for f in rpo) == sorted(vf.INFRA + vf.TENANTS)
    for f in rpo:
        assert not f.root_cause and f.severity == "critical"
        assert root.id in f.caused_by
        assert any(c.startswith("VELERO-BACKUP-FAILED/") for c in f.caused_by)
    mp = vf.one(report, "VELERO-RPO-MISSED", "mycure-production")
    assert "databases: StatefulSet/mongodb" in mp.evidence
    assert any("newest backup tenant-databases-daily-20250312020002 is Failed" in e for e in mp.evidence)
    assert any(e.startswith("newest Completed backup holding mycure-production: tenant-databases-daily-20250310")
               for e in mp.evidence)

    roots = [f for f in vf.alarms(report) if f.root_cause]
    assert roots == [root]
    assert_exactly(report, [root, *failed, *rpo])
    assert_templates_filled(report.findings)


def test_bsl_read_only_fails_backup_validation() -> None:
    b = vf.platform()
    vf.bsl_read_only(b)
    report = vf.run(b)
    root = vf.one(report, "VELERO-BSL-READ-ONLY", "default")
    assert root.root_cause and "spec.accessMode: ReadOnly" in root.evidence
    assert any('"spec":{"accessMode":"ReadWrite"}' in (r.command or "") and r.safety == "mutating" for r in root.remediation)
    invalid = vf.by_code(report, "VELERO-BACKUP-VALIDATION-FAILED")
    assert len(invalid) == 2 and all(f.caused_by == [root.id] for f in invalid)
    assert all(any("currently in read-only mode" in e for e in f.evidence) for f in invalid)
    rpo = vf.by_code(report, "VELERO-RPO-MISSED")
    assert len(rpo) == 10 and all(not f.root_cause for f in rpo)
    assert [f for f in vf.alarms(report) if f.root_cause] == [root]
    assert_exactly(report, [root, *invalid, *rpo])


def test_stale_validation_and_late_schedules_follow_a_crashing_server() -> None:
    b = vf.platform()
    vf.server_oom_loop(b)
    report = vf.run(b)
    stale = vf.one(report, "VELERO-BSL-VALIDATION-STALE", "default")
    assert not stale.root_cause
    assert any(e.startswith("status.lastValidationTime: 2025-03-10T12:00:00Z (1d22h ago)") for e in stale.evidence)
    late = vf.by_code(report, "VELERO-SCHEDULE-LATE")
    assert sorted(f.object.name for f in late) == ["infrastructure-daily", "tenant-databases-daily"]
    infra = vf.one(report, "VELERO-SCHEDULE-LATE", "infrastructure-daily")
    assert any(e.startswith("next run was due 2025-03-11T03:00:00Z") and "2 run(s) missed" in e for e in infra.evidence)
    assert any("velero server is not creating scheduled backups" in e for e in infra.evidence)
    # The velero Deployment's own (pod/workload/component) finding is the root of all of them.
    roots = [f for f in vf.alarms(report) if f.root_cause]
    assert len(roots) == 1 and roots[0].object.key == ("Deployment", "velero", "velero"), vf.describe(report)
    for f in [stale, *late, *vf.by_code(report, "VELERO-RPO-MISSED")]:
        assert not f.root_cause and f.caused_by, f.id
    rpo = vf.by_code(report, "VELERO-RPO-MISSED")
    assert len(rpo) == 10
    assert all(any(c.startswith("VELERO-SCHEDULE-LATE/") for c in f.caused_by) for f in rpo)
    velero_alarms = [f for f in vf.alarms(report) if f.code.startswith("VELERO-")]
    assert {f.code for f in velero_alarms} == {"VELERO-BSL-VALIDATION-STALE", "VELERO-SCHEDULE-LATE", "VELERO-RPO-MISSED"}


# ----------------------------------------------------------------------------------------- schedules


def test_paused_schedule_explains_missed_tenant_rpo() -> None:
    b = vf.platform()
    vf.pause_schedule(b)
    report = vf.run(b)
    root = vf.one(report, "VELERO-SCHEDULE-PAUSED", "tenant-databases-daily")
    assert root.root_cause and root.severity == "warning"
    assert "spec.paused: true" in root.evidence
    assert any(e.startswith("status.lastBackup: 2025-03-10T02:00") for e in root.evidence)
    assert any(r.command == "velero schedule unpause tenant-databases-daily" and r.safety == "mutating" for r in root.remediation)
    rpo = vf.rpo_missed_because_of(report, root, vf.TENANTS)
    assert all(any("schedule tenant-databases-daily ('0 2 * * *', paused)" in e for e in f.evidence) for f in rpo)
    assert not vf.by_code(report, "VELERO-SCHEDULE-LATE")  # a paused schedule is not "late"
    assert_exactly(report, [root, *rpo])


def test_invalid_cron_fails_validation() -> None:
    b = vf.platform()
    vf.invalid_schedule(b)
    report = vf.run(b)
    root = vf.one(report, "VELERO-SCHEDULE-INVALID", "infrastructure-daily")
    assert root.root_cause and root.severity == "critical"
    assert "status.phase: FailedValidation" in root.evidence
    assert "status.validationErrors: invalid schedule: expected exactly 5 fields, found 6: [0 0 3 * * *]" in root.evidence
    rpo = vf.rpo_missed_because_of(report, root, vf.INFRA)
    assert_exactly(report, [root, *rpo])


def test_schedule_late_only_after_the_grace() -> None:
    """lastBackup one run behind: quiet within 15 minutes of the due time, late after."""
    for minutes_after, late in ((10, False), (20, True)):
        now = vf.NOW.replace(hour=3, minute=0) + timedelta(minutes=minutes_after)
        b = vf.platform(now)
        s = vf.schedule(b, "infrastructure-daily")
        vf.drop_backups_after(b, "infrastructure-daily", now.replace(hour=2, minute=0))
        assert s["status"]["lastBackup"].startswith("2025-03-11T03:00")
        report = vf.run(b)
        found = vf.by_code(report, "VELERO-SCHEDULE-LATE")
        assert bool(found) is late, vf.describe(report)


# ----------------------------------------------------------------------------------------- backups


def test_partially_failed_newest_backup() -> None:
    b = vf.platform()
    bk = vf.partially_failed_newest(b)
    report = vf.run(b)
    root = vf.one(report, "VELERO-BACKUP-PARTIALLY-FAILED", bk["metadata"]["name"])
    assert root.root_cause and root.severity == "warning"
    assert any(e.startswith("status.errors: 2, status.warnings: 0") for e in root.evidence)
    assert any(r.command == f"velero backup logs {bk['metadata']['name']} | grep -i error" for r in root.remediation)
    assert ("DaemonSet", "velero", "node-agent") in root.depends_on
    rpo = vf.rpo_missed_because_of(report, root, vf.TENANTS)
    assert_exactly(report, [root, *rpo])


def test_stuck_backup_blocks_the_schedule() -> None:
    b = vf.platform()
    bk = vf.stuck_newest(b)
    report = vf.run(b)
    root = vf.one(report, "VELERO-BACKUP-STUCK", bk["metadata"]["name"])
    assert root.root_cause and root.severity == "warning"
    assert "status.phase: InProgress" in root.evidence
    assert any(e.startswith("InProgress for 8h29m (limit 4h)") for e in root.evidence)
    assert any(r.safety == "destructive" and r.command.startswith("velero backup delete") for r in root.remediation)
    rpo = vf.rpo_missed_because_of(report, root, vf.TENANTS)
    assert_exactly(report, [root, *rpo])


def test_new_backup_never_picked_up_depends_on_the_server() -> None:
    b = vf.platform()
    bk = vf.backups_of(b, "tenant-databases-daily")[0]
    bk["status"] = {}
    vf.validated(bk)
    report = vf.run(b)
    f = vf.one(report, "VELERO-BACKUP-STUCK", bk["metadata"]["name"])
    assert ("Deployment", "velero", "velero") in f.depends_on
    assert any("never picked up" in e for e in f.evidence)


def test_old_failure_followed_by_success_is_only_info() -> None:
    b = vf.platform()
    bk = vf.old_failure(b)
    report = vf.run(b)
    info = vf.one(report, "VELERO-BACKUP-PAST-FAILURES", "infrastructure-daily")
    assert info.severity == "info"
    assert any(e.startswith(f"{bk['metadata']['name']}: Failed") for e in info.evidence)
    assert not vf.by_code(report, "VELERO-BACKUP-FAILED")
    assert_exactly(report, [])


def test_failed_one_off_backup_is_reported() -> None:
    b = vf.platform()
    sched = vf.schedule(b, "tenant-databases-daily")
    from synth import velero as synth_velero

    bk = synth_velero.backup(sched, b.now - timedelta(hours=2), phase="Failed",
                             failure_reason="rpc error: code = Unavailable desc = error reading from server: EOF")
    bk["metadata"]["name"] = "before-mongodb-upgrade"
    del bk["metadata"]["labels"]["velero.io/schedule-name"]
    bk["spec"]["includedNamespaces"] = ["mycure-production"]
    vf.validated(bk)
    b.add(bk)
    report = vf.run(b)
    f = vf.one(report, "VELERO-BACKUP-FAILED", "before-mongodb-upgrade")
    assert "one-off backup" in f.title
    assert ("velero backup create before-mongodb-upgrade-retry --include-namespaces mycure-production "
            "--storage-location default --wait") in [r.command for r in f.remediation]
    assert "status.failureReason: rpc error: code = Unavailable desc = error reading from server: EOF" in f.evidence


# ----------------------------------------------------------------------------------------- restores


def test_partially_failed_restore() -> None:
    b = vf.platform()
    r = vf.failed_restore(b)
    report = vf.run(b)
    f = vf.one(report, "VELERO-RESTORE-PARTIALLY-FAILED", r["metadata"]["name"])
    assert f.root_cause and f.severity == "warning"
    assert "status.errors: 3, status.warnings: 12" in f.evidence
    assert "source backup tenant-databases-daily-20250312020002: phase Completed" in f.evidence
    assert ("Backup", "velero", "tenant-databases-daily-20250312020002") in f.depends_on
    assert_exactly(report, [f])


def test_failed_restore_of_a_failed_backup_is_explained_by_it() -> None:
    b = vf.platform()
    vf.bsl_unavailable(b)
    r = vf.failed_restore(b, phase="Failed")
    report = vf.run(b)
    f = vf.one(report, "VELERO-RESTORE-FAILED", r["metadata"]["name"])
    assert not f.root_cause
    assert "VELERO-BSL-UNAVAILABLE/velero/BackupStorageLocation/default" in f.caused_by
    assert any(e.startswith("status.failureReason: error getting backup") for e in f.evidence)


def test_old_failed_restore_is_info() -> None:
    b = vf.platform()
    r = vf.failed_restore(b, phase="Failed")
    r["status"]["startTimestamp"] = ts(b.now - timedelta(days=10))
    r["status"]["completionTimestamp"] = ts(b.now - timedelta(days=10) + timedelta(minutes=3))
    report = vf.run(b)
    assert vf.one(report, "VELERO-RESTORE-FAILED").severity == "info"


# ----------------------------------------------------------------------------------------- RPO coverage


def test_database_namespace_in_no_schedule() -> None:
    b = vf.platform()
    vf.unprotect(b, "lfh-staging")
    report = vf.run(b)
    f = vf.one(report, "VELERO-NAMESPACE-UNPROTECTED", "lfh-staging")
    assert f.root_cause and f.severity == "warning"
    assert "databases: StatefulSet/postgresql" in f.evidence
    assert "no Completed backup holds lfh-staging" in f.evidence
    assert any("--include-namespaces lfh-staging" in (r.command or "") for r in f.remediation)
    assert ("Namespace", "", "lfh-staging") not in f.subjects  # it does not speak for the namespace
    assert_exactly(report, [f])


def test_velero_absent_reports_no_rpo() -> None:
    b = vf.platform()
    for kind in ("Backup", "Schedule", "BackupStorageLocation"):
        for o in b.list(kind):
            b.remove(o)
    report = vf.run(b)
    assert not [f for f in report.findings if f.code.startswith("VELERO-")]


def test_failing_weekly_archive_misses_the_cluster_rpo() -> None:
    b = vf.platform()
    for bk in vf.backups_of(b, "cluster-resources-weekly"):
        vf.fail_backup(bk, "rpc error: code = Unavailable desc = error reading from server: EOF")
    report = vf.run(b)
    root = vf.one(report, "VELERO-BACKUP-FAILED", "cluster-resources-weekly-20250309040000")
    assert root.root_cause and "schedule cluster-resources-weekly has no Completed backup" in root.evidence
    cluster = vf.one(report, "VELERO-CLUSTER-RPO-MISSED")
    assert cluster.title == "The cluster archive misses its 1w RPO: no Completed archive exists"
    assert cluster.caused_by == [root.id] and cluster.subjects == []
    assert_exactly(report, [root, cluster])


def test_no_cluster_archive_schedule_at_all() -> None:
    b = vf.platform()
    for o in [vf.schedule(b, "cluster-resources-weekly"), *vf.backups_of(b, "cluster-resources-weekly")]:
        b.remove(o)
    report = vf.run(b)
    f = vf.one(report, "VELERO-CLUSTER-RPO-MISSED")
    assert f.root_cause and f.object.kind == "Cluster"
    assert "no Schedule backs up the cluster-scoped resources (includeClusterResources, or every namespace)" in f.evidence
    assert_exactly(report, [f])
