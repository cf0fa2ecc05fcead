"""DR status and recovery plans: objectives from the data file, namespace coverage, RPO verdicts and
concrete plans on the healthy platform and on faulty ones; the command layer's outputs and exit codes."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
import velero_faults as vf
from rich.console import Console

from sre_expert.core.model import SAFETY_CLASSES
from sre_expert.core.units import objective_duration
from sre_expert.domain.recovery import (
    Scope,
    UnknownScenario,
    dr_plan,
    dr_status,
    format_duration,
    objectives,
)
from sre_expert.render.dr_view import run_dr_plan, run_dr_status
from synth import faults

pytestmark = pytest.mark.scenario


@pytest.fixture(scope="module")
def healthy():
    return vf.snapshot(vf.platform())


@pytest.fixture(scope="module")
def outage():
    b = vf.platform()
    vf.bsl_unavailable(b)
    return vf.snapshot(b)


def console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=220, color_system=None, highlight=False), buf


# ----------------------------------------------------------------------------------------- objectives


def test_objectives_match_the_rto_rpo_table() -> None:
    table = {s.id: (format_duration(s.rto), format_duration(s.rpo)) for s in objectives().scenarios}
    assert table == {
        "pod-failure": ("0", "0"),
        "node-failure": ("30s", "0"),
        "database-corruption": ("1h", "24h"),
        "namespace-deletion": ("2h", "24h"),
        "cluster-failure": ("4h", "1w"),
        "region-failure": ("8h", "1w"),
    }
    obj = objectives()
    assert obj.scenario("Complete cluster failure").id == "cluster-failure"
    assert obj.scenario("database_corruption").id == "database-corruption"
    assert obj.scenario("db").id == "database-corruption"
    assert obj.scenario("meteor") is None
    assert obj.infrastructure_namespaces() == vf.INFRA
    assert objective_duration("1w") == timedelta(days=7) and objective_duration("90m") == timedelta(minutes=90)
    with pytest.raises(ValueError):
        objective_duration("soon")


def test_scope_coverage_follows_velero_includes_and_excludes() -> None:
    assert Scope.of({}).covers("anything")
    assert Scope.of({"includedNamespaces": ["*"], "excludedNamespaces": ["kube-*"]}).covers("velero")
    assert not Scope.of({"includedNamespaces": ["*"], "excludedNamespaces": ["kube-*"]}).covers("kube-system")
    assert Scope.of({"includedNamespaces": ["mycure-*"]}).covers("mycure-production")
    assert not Scope.of({"includedNamespaces": ["mycure-*"]}).covers("lfh-staging")
    # A backup of cluster-scoped resources only holds no namespace content.
    weekly = Scope.of({"includedNamespaces": ["*"], "includedResources": ["customresourcedefinitions", "clusterroles",
                                                                          "storageclasses"], "includeClusterResources": True})
    assert not weekly.covers("velero") and weekly.cluster_wide()
    partial = Scope.of({"includedNamespaces": ["t"], "includedResources": ["statefulsets", "persistentvolumeclaims"]})
    assert partial.covers("t") and partial.limits() == ["only resources statefulsets,persistentvolumeclaims"]
    assert not Scope.of({"includedNamespaces": ["a", "b"]}).cluster_wide()


# ----------------------------------------------------------------------------------------- status


def test_dr_status_on_the_healthy_platform(healthy) -> None:
    rows = {r.namespace: r for r in dr_status(healthy)}
    for ns in vf.INFRA:
        r = rows[ns]
        assert (r.klass, r.required, r.status, r.met) == ("infrastructure", True, "met", True), r
        assert r.last_backup == "infrastructure-daily-20250312030000"
        assert r.last_backup_time.isoformat() == "2025-03-12T03:00:00+00:00"
        assert r.age == timedelta(hours=7, minutes=30)
        assert r.rpo == timedelta(hours=24)
        assert [s.name for s in r.schedules] == ["infrastructure-daily"]
    mp = rows["mycure-production"]
    assert (mp.klass, mp.status, mp.scenario) == ("database", "met", "database-corruption")
    assert mp.databases == ["StatefulSet/mongodb"]
    assert mp.last_backup.startswith("tenant-databases-daily-20250312020")
    assert mp.volumes == "fs-backup"
    assert rows["lfh-staging"].databases == ["StatefulSet/postgresql"]
    for ns in ("gateway-system", "kyverno", "falco"):
        assert (rows[ns].required, rows[ns].status, rows[ns].met) == (False, "not-covered", None)
    for ns in ("default", "kube-public", "kube-node-lease"):
        assert ns not in rows


def test_dr_status_during_a_storage_outage(outage) -> None:
    rows = {r.namespace: r for r in dr_status(outage)}
    r = rows["cert-manager"]
    assert (r.status, r.met) == ("missed", False)
    assert r.last_backup == "infrastructure-daily-20250310030000"
    assert r.newest_attempt == "infrastructure-daily-20250312030000" and r.newest_attempt_phase == "Failed"
    assert "beyond the RPO of 24h" in r.reason and "is Failed" in r.reason
    assert ("BackupStorageLocation", "velero", "default") in r.depends_on
    assert rows["mycure-production"].status == "missed"


def test_run_dr_status_outputs_and_exit_codes(healthy, outage) -> None:
    c, buf = console()
    assert run_dr_status(healthy, "terminal", c) == 0
    text = buf.getvalue()
    assert "infrastructure-daily-20250312030000" in text and "10 met" in text

    c, buf = console()
    assert run_dr_status(outage, "json", c) == 1
    data = json.loads(buf.getvalue())
    assert data["capturedAt"] == "2025-03-12T10:30:00Z"
    assert data["summary"] == {"met": 0, "missed": 10, "unprotected": 0, "notRequired": 3}
    row = next(n for n in data["namespaces"] if n["namespace"] == "mycure-production")
    assert row["rpo"] == "24h" and row["rpoSeconds"] == 86400 and row["met"] is False
    assert row["lastBackup"]["name"].startswith("tenant-databases-daily-20250310")
    assert row["newestAttempt"]["phase"] == "Failed"

    c, buf = console()
    assert run_dr_status(outage, "markdown", c) == 1
    md = buf.getvalue()
    assert md.startswith("# Recovery points (2025-03-12T10:30:00Z)")
    assert "| cert-manager | infrastructure | 24h | infrastructure-daily | infrastructure-daily-20250310030000 |" in md
    assert "## Not met" in md


# ----------------------------------------------------------------------------------------- plans


def _commands(plan) -> list[str]:
    return [s.command for s in plan.steps if s.command]


def test_every_scenario_has_a_plan_with_classified_steps(healthy) -> None:
    for sc in objectives().scenarios:
        plan = dr_plan(healthy, sc.id, "mycure-production" if sc.namespace_scoped else None)
        assert plan.steps, sc.id
        assert plan.ready, (sc.id, [p for p in plan.preconditions if p.ok is False])
        for s in plan.steps:
            assert s.safety in SAFETY_CLASSES
            words = (s.command or "").split()
            if words[:2] in (["kubectl", "get"], ["kubectl", "describe"], ["kubectl", "logs"]) or \
                    words[:3] in (["velero", "backup", "describe"], ["velero", "backup", "get"], ["velero", "backup", "logs"],
                                  ["velero", "restore", "describe"], ["velero", "restore", "logs"]):
                assert s.safety == "read-only", s
            elif words[:2] in (["kubectl", "delete"], ["kubectl", "drain"]):
                assert s.safety == "destructive", s
            elif words:
                assert s.safety != "read-only" or words[:3] == ["kubectl", "rollout", "status"], s
        assert plan.to_json()["scenario"]["id"] == sc.id


def test_namespace_deletion_plan_uses_the_newest_good_backup(healthy) -> None:
    plan = dr_plan(healthy, "namespace-deletion", "mycure-production")
    assert plan.backup == "tenant-databases-daily-20250312020002"
    assert plan.rpo_met is True and plan.backup_age == timedelta(hours=8, minutes=29, seconds=58)
    cmds = _commands(plan)
    assert ("velero restore create restore-mycure-production-202503121030 --from-backup "
            "tenant-databases-daily-20250312020002 --include-namespaces mycure-production --wait") in cmds
    assert "argocd app set mycure-production --app-namespace argocd --sync-policy none" in cmds
    assert "argocd app set mycure-production --app-namespace argocd --sync-policy automated --self-heal --auto-prune" in cmds
    pre = {p.description: p for p in plan.preconditions}
    assert pre["Backup tenant-databases-daily-20250312020002 is Completed"].ok is True
    assert pre["Its storage location default is Available"].ok is True
    assert pre["The Velero server is running"].ok is True
    assert pre["node-agent runs on every node (file-system restore needs it)"].ok is True
    assert pre["Namespace mycure-production is gone or empty"].ok is None  # still exists: advisory


def test_database_corruption_plan_stops_replaces_and_restores_volumes(healthy) -> None:
    plan = dr_plan(healthy, "database-corruption", "mycure-production")
    steps = [(s.command, s.safety) for s in plan.steps if s.command]
    assert ("kubectl scale statefulset mongodb -n mycure-production --replicas=0", "destructive") in steps
    assert ("kubectl delete statefulset mongodb -n mycure-production", "destructive") in steps
    assert ("kubectl delete pvc datadir-mongodb-0 -n mycure-production", "destructive") in steps
    restore = next(c for c, _ in steps if c.startswith("velero restore create"))
    assert restore == ("velero restore create restore-db-mycure-production-202503121030 --from-backup "
                       "tenant-databases-daily-20250312020002 --include-namespaces mycure-production --include-resources "
                       "statefulsets,persistentvolumeclaims,persistentvolumes,pods --wait")
    # Argo CD is paused before anything is deleted, and resumed at the end.
    cmds = [c for c, _ in steps]
    assert cmds.index("argocd app set mycure-production --app-namespace argocd --sync-policy none") < \
        cmds.index("kubectl delete statefulset mongodb -n mycure-production")
    assert cmds[-1].startswith("argocd app set mycure-production") and "automated" in cmds[-1]
    assert any("Writes made after 2025-03-12T02:00:02Z are lost" in n for n in plan.notes)


def test_plans_refuse_a_backup_behind_an_unavailable_location(outage) -> None:
    plan = dr_plan(outage, "namespace-deletion", "velero")
    assert plan.backup == "infrastructure-daily-20250310030000"  # the newest Completed one, not the Failed ones
    assert plan.rpo_met is False
    pre = {p.description: p for p in plan.preconditions}
    loc = pre["Its storage location default is Available"]
    assert loc.ok is False and loc.blocking and "Unavailable" in loc.detail
    assert pre["The backup is within the RPO of 24h"].ok is False
    assert not plan.ready
    c, buf = console()
    assert run_dr_plan(outage, "namespace-deletion", "velero", "terminal", c) == 1
    assert "blocking precondition fails" in buf.getvalue()


def test_cluster_failure_plan_restores_the_weekly_archive_then_newer_backups(healthy) -> None:
    plan = dr_plan(healthy, "Complete cluster failure")
    assert plan.backup == "cluster-resources-weekly-20250309040000"
    cmds = _commands(plan)
    assert cmds[0].startswith("velero install --provider velero.io/gcp --bucket mc-v4-prod-velero-backups --prefix cluster")
    assert "--plugins docker.io/velero/velero-plugin-for-gcp:v1.11.1" in cmds[0] and "--use-node-agent" in cmds[0]
    assert ("velero restore create restore-cluster-202503121030 "
            "--from-backup cluster-resources-weekly-20250309040000 --wait") in cmds
    infra = next(c for c in cmds if c.startswith("velero restore create restore-infra"))
    assert "--from-backup infrastructure-daily-20250312030000" in infra
    assert any(c.startswith("velero restore create restore-mycure-production-") for c in cmds)
    ro = next(i for i, c in enumerate(cmds) if '"accessMode":"ReadOnly"' in c)
    rw = next(i for i, c in enumerate(cmds) if '"accessMode":"ReadWrite"' in c)
    first_restore = next(i for i, c in enumerate(cmds) if c.startswith("velero restore create"))
    assert ro < first_restore < rw
    assert any("gateway-system" in n for n in plan.notes)


def test_region_failure_plan_flags_a_single_location(healthy) -> None:
    plan = dr_plan(healthy, "region-failure")
    pre = {p.description: p for p in plan.preconditions}
    p = pre["Backups are stored outside the failed region"]
    assert p.ok is None and not p.blocking and "replicated" in p.detail


def test_node_failure_plan_names_the_down_node() -> None:
    b = vf.platform()
    faults.node_not_ready(b, b.require("Node", None, "k8s-worker-2"))
    plan = dr_plan(vf.snapshot(b), "node-failure")
    cmds = _commands(plan)
    assert "kubectl cordon k8s-worker-2" in cmds
    assert "kubectl drain k8s-worker-2 --ignore-daemonsets --delete-emptydir-data --timeout=10m" in cmds
    assert plan.preconditions[0].ok is True and "3 of 4 nodes Ready; not Ready: k8s-worker-2" in plan.preconditions[0].detail


def test_pod_failure_plan_in_a_namespace(healthy) -> None:
    plan = dr_plan(healthy, "pod-failure", "mycure-production")
    assert _commands(plan)[0] == ("kubectl get pods -n mycure-production "
                                  "--field-selector=status.phase!=Running,status.phase!=Succeeded -o wide")
    single = next(p for p in plan.preconditions if p.description.startswith("Workloads run at least 2 replicas"))
    assert single.ok is False and not single.blocking and "StatefulSet mycure-production/mongodb" in single.detail


def test_unknown_scenario_and_missing_namespace(healthy) -> None:
    with pytest.raises(UnknownScenario) as e:
        dr_plan(healthy, "meteor-strike")
    assert "namespace-deletion" in e.value.valid
    c, buf = console()
    assert run_dr_plan(healthy, "meteor-strike", None, "terminal", c) == 2
    out = buf.getvalue()
    assert "unknown scenario 'meteor-strike'" in out
    for sc in objectives().scenarios:
        assert sc.id in out
    c, buf = console()
    assert run_dr_plan(healthy, "meteor-strike", None, "json", c) == 2
    assert json.loads(buf.getvalue())["validScenarios"][0] == "pod-failure"

    c, buf = console()
    assert run_dr_plan(healthy, "namespace-deletion", None, "terminal", c) == 2
    assert "mycure-production" in buf.getvalue() and "cert-manager" in buf.getvalue()


def test_run_dr_plan_json_and_markdown(healthy) -> None:
    c, buf = console()
    assert run_dr_plan(healthy, "database-corruption", "lfh-staging", "json", c) == 0
    data = json.loads(buf.getvalue())
    assert data["scenario"] == {"id": "database-corruption", "name": "Database corruption", "rto": "1h", "rpo": "24h",
                                "rtoSeconds": 3600, "rpoSeconds": 86400,
                                "method": "Restore the database volumes from the newest Velero daily backup",
                                "namespaceScoped": True}
    assert data["ready"] is True and data["backup"]["rpoMet"] is True
    assert {s["safety"] for s in data["steps"]} <= {"read-only", "mutating", "destructive", "manual"}
    assert any(s["command"] == "kubectl scale statefulset postgresql -n lfh-staging --replicas=0" for s in data["steps"])

    c, buf = console()
    assert run_dr_plan(healthy, "namespace-deletion", "lfh-staging", "markdown", c) == 0
    md = buf.getvalue()
    assert md.startswith("# Recovery plan: Namespace deletion (lfh-staging)")
    assert "- RTO: **2h** · RPO: **24h**" in md
    assert "velero restore create restore-lfh-staging-202503121030 --from-backup tenant-databases-daily-" in md


def test_restoring_the_argocd_namespace_does_not_drive_argocd(healthy) -> None:
    plan = dr_plan(healthy, "namespace-deletion", "argocd")
    cmds = _commands(plan)
    assert not [c for c in cmds if c.startswith("argocd ")]
    assert any(c.startswith("velero restore create restore-argocd-202503121030 --from-backup "
                            "infrastructure-daily-20250312030000 --include-namespaces argocd") for c in cmds)
    assert any("Argo CD runs in argocd" in n for n in plan.notes)


def test_cluster_archive_standing_counts_in_the_exit_status(healthy) -> None:
    c, buf = console()
    assert run_dr_status(healthy, "json", c) == 0
    arch = json.loads(buf.getvalue())["clusterArchive"]
    assert arch == {"rpo": "1w", "rpoSeconds": 604800, "schedules": ["cluster-resources-weekly"],
                    "backup": "cluster-resources-weekly-20250309040000", "time": "2025-03-09T04:00:00Z",
                    "age": "3d6h", "met": True}
    b = vf.platform()
    for bk in vf.backups_of(b, "cluster-resources-weekly"):
        vf.fail_backup(bk, "rpc error: code = Unavailable desc = error reading from server: EOF")
    c, buf = console()
    assert run_dr_status(vf.snapshot(b), "terminal", c) == 1
    assert "cluster archive (cluster-resources-weekly): no Completed backup, RPO 1w MISSED" in buf.getvalue()
