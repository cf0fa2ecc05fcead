"""Explanations that used to be wrong (issue 13): exit codes read as signals they are not, a Go panic read as
"invalid usage", a WiredTiger panic read only as OOMKilled, and a crashing Velero server blamed for a
Schedule nobody wrote. Each scenario changes one pod of the healthy reference platform the way the kubelet
shows it (lastState.terminated, previous-instance log) and asserts what the report says and links.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import scenario
import velero_faults as vf

from sre_expert.checks import logscan
from sre_expert.checks.pods import exit_meaning
from synth import faults

pytestmark = pytest.mark.scenario

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
NS = "mycure-production"
H = scenario.Scenario(NOW, areas=("pods", "workloads"), build=scenario.platform)

GO_PANIC_LOG = """\
2026-11-26T09:58:01.112Z\tINFO\tstarting worker\t{"version": "v2.14.3"}
panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x12f4a3c]

goroutine 1 [running]:
main.(*Worker).Start(0x0)
\t/src/cmd/worker/main.go:88 +0x3c
main.main()
\t/src/cmd/worker/main.go:41 +0x1a5
"""

# mongod 6.0 writes one JSON document per line; these are the lines it ends on when WiredTiger refuses a
# data file whose checksum does not match (the same message ids a real mongod logs).
WT_PANIC_LOG = "\n".join([
    '{"t":{"$date":"2026-11-26T09:57:40.310+00:00"},"s":"I","c":"CONTROL","id":20698,"ctx":"-",'
    '"msg":"***** SERVER RESTARTED *****"}',
    '{"t":{"$date":"2026-11-26T09:57:41.002+00:00"},"s":"E","c":"WT","id":22435,"ctx":"initandlisten",'
    '"msg":"WiredTiger error message",'
    '"attr":{"error":-31802,"message":"[1764151061:2011][1:0x7f8c][initandlisten], file:collection-7-5834.wt, '
    'WT_SESSION.open_cursor: __wt_block_read_off, 226: collection-7-5834.wt: read checksum error for 4096B block '
    'at offset 2211840: block header checksum of 0x6b7ae0e1 doesn\'t match expected checksum of 0x4cd4a4d7"}}',
    '{"t":{"$date":"2026-11-26T09:57:41.002+00:00"},"s":"E","c":"WT","id":22435,"ctx":"initandlisten",'
    '"msg":"WiredTiger error message",'
    '"attr":{"error":-31804,"message":"[1764151061:2013][1:0x7f8c][initandlisten], file:collection-7-5834.wt, '
    'WT_SESSION.open_cursor: __wt_panic, 490: the process must exit and restart: WT_PANIC: WiredTiger library panic"}}',
    '{"t":{"$date":"2026-11-26T09:57:41.003+00:00"},"s":"F","c":"ASSERT","id":23089,"ctx":"initandlisten",'
    '"msg":"Fatal assertion",'
    '"attr":{"msgid":50853,"file":"src/mongo/db/storage/wiredtiger/wiredtiger_util.cpp","line":572}}',
    "",
])


def _pod(b, name_prefix: str, ns: str = NS):
    return next(p for p in b.list("Pod", ns) if p["metadata"]["name"].startswith(name_prefix))


# ------------------------------------------------------------------------------------------- exit codes


@pytest.mark.parametrize(("code", "says"), [
    (137, "SIGKILL"), (143, "SIGTERM"), (129, "killed by signal 1"), (192, "killed by signal 64"),
    (255, "exited with -1 (255)"), (193, ""), (254, ""), (2, "invalid usage"), (3, ""),
])
def test_exit_code_meaning(code: int, says: str) -> None:
    meaning = exit_meaning(code)
    assert (says in meaning) if says else meaning == ""
    assert "signal 127" not in meaning and "signal 65" not in meaning


def test_exit_255_is_never_called_a_signal() -> None:
    b = H.platform()
    faults.crashloop(b, _pod(b, "api-"), exit_code=255, reason="Error",
                     previous_log="ssh: connect to host bastion port 22: Connection timed out\n")
    f = H.one(H.run(b), "POD-CRASHLOOP", "api")
    line = next(e for e in f.evidence if "lastState.terminated.exitCode=255" in e)
    assert "exited with -1 (255)" in line and "signal" in line and "killed by signal" not in line


# ------------------------------------------------------------------------------------------- Go panic


def test_exit_2_after_a_go_panic_is_the_panic_not_invalid_usage() -> None:
    b = H.platform()
    faults.crashloop(b, _pod(b, "api-"), exit_code=2, reason="Error", previous_log=GO_PANIC_LOG)
    f = H.one(H.run(b), "POD-CRASHLOOP", "api")
    assert not any("invalid usage" in e for e in f.evidence), f.evidence
    assert any("lastState.terminated.exitCode=2" in e and "Go panic" in e for e in f.evidence)
    cause = next(e for e in f.evidence if e.startswith("cause: the Go program panicked"))
    assert "panic: runtime error: invalid memory address or nil pointer dereference" in cause
    # the cause sits with the pod's own status lines, before the log excerpts
    assert f.evidence.index(cause) < min(i for i, e in enumerate(f.evidence) if e.startswith("log"))


def test_exit_2_without_a_panic_keeps_the_usage_reading() -> None:
    b = H.platform()
    faults.crashloop(b, _pod(b, "api-"), exit_code=2, reason="Error",
                     previous_log="Usage: server [--config FILE]\nerror: unknown flag --listen\n")
    f = H.one(H.run(b), "POD-CRASHLOOP", "api")
    assert any("exitCode=2" in e and "invalid usage or arguments" in e for e in f.evidence)
    assert not any(e.startswith("cause: the Go program panicked") for e in f.evidence)


@pytest.mark.parametrize(("lines", "kind"), [
    (["panic: assignment to entry in nil map"], "go-panic"),
    (["fatal error: concurrent map writes", "", "goroutine 58 [running]:", "runtime.throw(...)"], "go-panic"),
    (["2026-11-26T09:58:01Z panic: boom", "goroutine 1 [running]:"], "go-panic"),
    (['level=error msg="recovered from panic: timeout"'], None),  # the app logged it and carried on
    (["fatal error: config file missing"], None),  # an application's own message, no Go traceback
    (['{"s":"F","c":"ASSERT","msg":"Fatal assertion","attr":{"msgid":50853,'
      '"file":"src/mongo/db/storage/wiredtiger/wiredtiger_util.cpp"}}'], "storage-corruption"),
    (['{"s":"F","msg":"Fatal assertion","attr":{"msgid":40507,"file":"src/mongo/db/repl/oplog.cpp"}}'], None),
    (['{"msg":"Fatal assertion","attr":{"error":"WiredTiger error: No space left on device"}}'], None),
])
def test_crash_cause_reads_only_unambiguous_last_words(lines: list[str], kind: str | None) -> None:
    cause = logscan.crash_cause(lines)
    assert (cause.kind if cause else None) == kind


# ------------------------------------------------------------------------------------------- WiredTiger panic


def test_wiredtiger_panic_is_storage_corruption_not_just_a_crash() -> None:
    b = H.platform()
    faults.crashloop(b, b.require("Pod", NS, "mongodb-0"), exit_code=14, reason="Error", previous_log=WT_PANIC_LOG)
    report = H.run(b)
    lead = H.one(report, "POD-STORAGE-CORRUPTION", "mongodb")
    crash = H.one(report, "POD-CRASHLOOP", "mongodb")
    assert lead.root_cause and lead.severity == "critical" and lead.runbook == "backup-restore"
    assert crash.caused_by == [lead.id] and not crash.root_cause
    assert any("WT_PANIC: WiredTiger library panic" in e for e in lead.evidence)
    assert any("Fatal assertion" in e and "wiredtiger_util.cpp" in e for e in lead.evidence)
    assert "data volume: PersistentVolumeClaim datadir-mongodb-0" in lead.evidence
    assert ("DataFiles", NS, "datadir-mongodb-0") in lead.subjects and ("DataFiles", NS, "datadir-mongodb-0") in crash.depends_on
    assert ("PersistentVolumeClaim", NS, "datadir-mongodb-0") not in lead.subjects  # a full claim is another finding
    fixes = " | ".join(f"{r.description} {r.command}" for r in lead.remediation)
    assert "kubectl describe pvc datadir-mongodb-0 -n mycure-production" in fixes and "velero restore create" in fixes
    assert not any("limits.memory" in (r.command or "") for r in lead.remediation)


def test_oomkilled_with_a_wiredtiger_panic_reports_both_with_the_panic_leading() -> None:
    b = H.platform()
    pod = b.require("Pod", NS, "mongodb-0")
    faults.oomkilled(b, pod)
    b.add_log(pod, "mongodb", WT_PANIC_LOG, previous=True)
    report = H.run(b)
    lead = H.one(report, "POD-STORAGE-CORRUPTION", "mongodb")
    oom = H.one(report, "POD-OOMKILLED", "mongodb")
    assert lead.root_cause and oom.caused_by == [lead.id]
    assert any(e.startswith("also OOMKilled (container mongodb is OOMKilled") for e in lead.evidence)
    assert [f.id for f in H.serious_roots(report)] == [lead.id], H.dump(report)
    assert report.findings.index(lead) < report.findings.index(oom)


def test_oomkilled_without_a_panic_in_its_log_stays_an_oom() -> None:
    b = H.platform()
    pod = b.require("Pod", NS, "mongodb-0")
    faults.oomkilled(b, pod)
    b.add_log(pod, "mongodb", previous=True, text=(
        '{"t":{"$date":"2026-11-26T09:57:40.310+00:00"},"s":"I","c":"NETWORK","id":23016,"ctx":"listener",'
        '"msg":"Waiting for connections","attr":{"port":27017,"ssl":"off"}}\n'))
    report = H.run(b)
    assert H.one(report, "POD-OOMKILLED", "mongodb").root_cause
    assert not [f for f in report.findings if f.code == "POD-STORAGE-CORRUPTION"]


# ------------------------------------------------------------------------------------------- Velero


def test_a_crashing_velero_server_does_not_explain_a_missing_cluster_schedule() -> None:
    vf.assert_healthy_is_silent()
    b = vf.platform()
    for o in [vf.schedule(b, "cluster-resources-weekly"), *vf.backups_of(b, "cluster-resources-weekly")]:
        b.remove(o)
    vf.server_oom_loop(b)
    report = vf.run(b)
    gap = vf.one(report, "VELERO-CLUSTER-RPO-MISSED")
    assert "no Schedule backs up the cluster-scoped resources (includeClusterResources, or every namespace)" in gap.evidence
    assert gap.root_cause and gap.caused_by == [] and gap.depends_on == []
    crash = [f for f in vf.alarms(report) if f.object.key == ("Deployment", "velero", "velero")]
    assert crash and all(gap.id not in f.causes for f in crash)
