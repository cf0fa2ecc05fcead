"""Runbooks: the data validates against the command guard, branches follow real pod states, and runs go
through real kubectl against bundles served as a read-only API (demo platform and synth faults), with the
guard, confirmations and the audit log in the loop."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import scenario
from typer.testing import CliRunner

from sre_expert.edges.cli.main import app
from sre_expert.edges.cli.runbook_cli import guarded_executor
from sre_expert.edges.runbook_runner import Exec, RunUsageError, open_target, resolve_params, run_runbook
from sre_expert.knowledge.catalogue import catalogue
from sre_expert.knowledge.platform_components import load_components
from sre_expert.runbooks.library import (
    END,
    RUNBOOK_IDS,
    Output,
    PathError,
    RunbookError,
    Step,
    fill,
    load_runbooks,
    next_step,
    parse_condition,
    parse_runbook,
    sample_params,
    select,
)
from sre_expert.safety.audit import AuditLog
from sre_expert.safety.confirm import NonInteractiveConfirmer, ScriptedConfirmer
from sre_expert.safety.guard import classify
from sre_expert.safety.redact import PLACEHOLDER, PlaceholderTable
from sre_expert.sources.bundle_reader import load_bundle
from sre_expert.sources.resolve import demo_path
from synth import faults as F
from synth.bundle_writer import write_bundle

pytestmark = [pytest.mark.e2e, pytest.mark.needs("kubectl", trusted=True)]

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
API_POD = "api-55wcnlhq-54cp4"  # crash-looping api pod of the demo's mycure-production


# ---------------------------------------------------------------------------------------- the data


def test_all_eight_runbooks_load_and_findings_point_at_them() -> None:
    books = load_runbooks()
    assert tuple(books) == RUNBOOK_IDS
    referenced = {s.runbook for s in catalogue().values() if s.runbook}
    assert referenced <= set(books), f"catalogue points at missing runbooks: {referenced - set(books)}"
    for rb in books.values():
        assert rb.title and len(rb.summary) > 60 and rb.when
        assert sum(1 for s in rb.steps if s.runs) >= 4, f"{rb.id}: too few executable steps"


def test_every_declared_safety_equals_the_guard_and_templates_fill() -> None:
    comps = load_components()
    for rb in load_runbooks().values():
        sample = sample_params(rb)
        assert set(rb.components) <= set(comps)
        for s in rb.steps:
            if s.command is None:
                assert s.manual
                continue
            cmd = fill(s.command, sample)
            assert not [p for p in sample if "{" + p + "}" in cmd], cmd
            verdict = classify(cmd)
            assert verdict.cls == s.safety, f"{rb.id}/{s.id}: declared {s.safety}, guard says {verdict.cls}: {cmd}"
            if s.runs and s.safety == "read-only":
                assert not verdict.exposes_secrets, f"{rb.id}/{s.id} would print Secret values: {cmd}"


def test_the_reference_procedures_are_there() -> None:
    books = load_runbooks()

    def cmds(rid: str) -> list[str]:
        return [s.command or "" for s in books[rid].steps]

    assert "kubectl logs {pod} -n {namespace} --previous --all-containers=true --tail=100" in cmds("pod-not-starting")
    assert any(c.startswith("velero restore create emergency-{date} --from-backup {backup}") for c in cmds("backup-restore"))
    assert "kubectl delete certificate {certificate} -n {namespace}" in cmds("certificate-renewal")
    assert "kubectl rollout restart deployment -n envoy-gateway-system" in cmds("complete-outage")
    assert "kubectl logs -n external-secrets-system deployment/external-secrets --tail=50" in cmds("secrets-not-syncing")
    assert "helm template test charts/{chart} -f values/deployments/{values_file}.yaml --debug" in cmds("argocd-sync-failure")
    assert any(c.startswith("kubectl patch pvc {name}") for c in cmds("storage-pvc"))
    writes = {(rb.id, s.id): s.safety for rb in books.values() for s in rb.steps if s.safety in ("mutating", "destructive")}
    assert writes[("certificate-renewal", "reissue")] == "destructive"
    assert writes[("backup-restore", "restore")] == "mutating"


def _doc(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": "demo-book", "title": "Demo", "summary": "A runbook written for the validation tests of the loader.",
        "when": ["always"], "parameters": {"namespace": {"description": "ns", "required": True}},
        "steps": [
            {"id": "look", "title": "Look", "command": "kubectl get pods -n {namespace} -o json", "safety": "read-only",
             "expect": "pods", "branches": [{"if": {"path": "items[*].status.phase", "equals": "Pending"},
                                             "goto": "fix", "why": "pending"}], "next": "end"},
            {"id": "fix", "title": "Fix", "command": "kubectl delete pod x -n {namespace}", "safety": "destructive",
             "expect": "gone"},
        ],
    }
    doc.update(over)
    return doc


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["steps"][1].update(safety="read-only"), "guard classifies `kubectl delete pod x -n namespace` as destructive"),
    (lambda d: d["steps"][0].update(command="kubectl get pods -n {namespace} -o json > /tmp/out"),
     "declared read-only but the guard"),
    (lambda d: d["steps"][0]["branches"][0].update(goto="nowhere"), "unknown step 'nowhere'"),
    (lambda d: d["steps"][1].update(next="look"), "steps loop"),
    (lambda d: d["steps"][0]["branches"].clear(), "no path reaches: ['fix']"),
    (lambda d: d["steps"][0].update(command="kubectl get pods -n {ns}"), "undeclared parameters ['ns']"),
    (lambda d: d["steps"][1].update(command='kubectl patch pod x -p {"a":1}'), "template is malformed"),
    (lambda d: d["steps"][0]["branches"][0].update({"if": {"path": "items[?x", "equals": "a"}}), "filter"),
    (lambda d: d["steps"][0]["branches"][0].update({"if": {"regex": "a"}}), "unknown condition"),
    (lambda d: d["steps"][0].update(capture={"param": "pod", "path": "items[0].metadata.name"}), "not a declared parameter"),
    (lambda d: d["steps"][1].update(safety="maybe"), "safety must be one of"),
    (lambda d: d["steps"][1].pop("command"), "must be manual"),
    (lambda d: d.update(components=["no-such-component"]), "unknown components"),
    (lambda d: d["steps"].insert(1, {"id": "think", "title": "Think", "manual": True}), "step think is manual"),
    (lambda d: d["steps"][0].update(show=["items[?"]), "show[0]"),
])
def test_bad_runbooks_fail_to_load(change: Any, message: str) -> None:
    doc = _doc()
    change(doc)
    with pytest.raises(RunbookError) as e:
        parse_runbook("demo-book.yaml", doc, classify, load_components().keys())
    assert message in str(e.value)


def test_a_valid_runbook_loads() -> None:
    rb = parse_runbook("demo-book.yaml", _doc(), classify, load_components().keys())
    assert [s.id for s in rb.steps] == ["look", "fix"] and rb.following(rb.steps[1]) == END


# ---------------------------------------------------------------------------------------- paths and conditions


def test_paths() -> None:
    doc = {"items": [
        {"metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "api"}},
         "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}},
        {"metadata": {"name": "b"}, "status": {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False"}]}},
        {"metadata": {"name": "c"}, "status": {}},
    ]}
    assert select(doc, "items[*].metadata.name") == ["a", "b", "c"]
    assert select(doc, "items[-1].metadata.name") == ["c"]
    assert select(doc, "items[5].metadata.name") == []
    assert select(doc, "items[0].metadata.labels['app.kubernetes.io/name']") == ["api"]
    assert select(doc, "items[?status.phase=Pending].metadata.name") == ["b"]
    assert select(doc, "items[?status.conditions[?type=Ready].status!=True].metadata.name") == ["b", "c"]
    assert select(doc, "items[?metadata.name~^(a|b)$].status.phase") == ["Running", "Pending"]
    for bad in ("", "items[", "items[?x]", ".[*]", "items[?a~(]"):
        with pytest.raises(PathError):
            select(doc, bad)


def test_conditions() -> None:
    out = Output(json.dumps({"status": {"phase": "Pending", "ready": False}}), 0)
    assert parse_condition({"path": "status.phase", "equals": "Pending"}, "t").holds(out)
    assert parse_condition({"path": "status.ready", "equals": False}, "t").holds(out)
    assert parse_condition({"path": "status.reason", "exists": False}, "t").holds(out)
    assert parse_condition({"not": {"path": "status.phase", "in": ["Running", "Succeeded"]}}, "t").holds(out)
    assert parse_condition({"any": [{"exit": "failed"}, {"match": '"phase": "Pend'}]}, "t").holds(out)
    assert not parse_condition({"all": [{"exit": "ok"}, {"path": "status.phase", "matches": "^Run"}]}, "t").holds(out)
    warned = Output('W1126 deprecated API\n{"status": {"phase": "Running"}}', 0)
    assert parse_condition({"path": "status.phase", "equals": "Running"}, "t").holds(warned)
    assert not parse_condition({"path": "status.phase", "equals": "Running"}, "t").holds(Output("not json", 1))


# ---------------------------------------------------------------------------------------- branches on synth pods


def _platform() -> Any:
    return scenario.platform(NOW)


def _pod_state_branch(pod: dict[str, Any]) -> tuple[str, str | None]:
    rb = load_runbooks()["pod-not-starting"]
    goto, branch = next_step(rb, rb.step("pod-state"), Output(json.dumps(pod), 0))
    return goto, branch.why if branch else None


def test_branches_follow_the_pod_state() -> None:
    b = _platform()
    api = scenario.live_pods(b, "Deployment", "api")
    crash = F.crashloop(b, api[0])
    assert _pod_state_branch(crash)[0] == "previous-logs"
    oom = F.oomkilled(b, scenario.live_pods(b, "StatefulSet", "mongodb")[0])
    assert _pod_state_branch(oom)[0] == "memory-limits"
    cfg = F.create_container_config_error(b, api[1])
    assert _pod_state_branch(cfg)[0] == "config-describe"
    b2 = _platform()
    pulled = F.image_pull_backoff(b2, scenario.live_pods(b2, "Deployment", "api")[0])
    assert _pod_state_branch(pulled)[0] == "image-events"
    b3 = _platform()
    pending = F.unschedulable(b3, scenario.live_pods(b3, "Deployment", "api")[0])
    assert _pod_state_branch(pending)[0] == "pending-describe"
    healthy = scenario.live_pods(_platform(), "Deployment", "api")[0]
    assert _pod_state_branch(healthy) == ("describe", None)


# ---------------------------------------------------------------------------------------- runs through bundle serve


@pytest.fixture()
def audit(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit.log")


def _records(audit: AuditLog) -> list[dict[str, Any]]:
    return [json.loads(line) for line in audit.path.read_text().splitlines()]


def _run(rid: str, snap: Any, params: dict[str, str], confirm: Any, audit: AuditLog, *,
         offer_failed_preview: bool = False, **kw: Any) -> Any:
    """A run against a snapshot served read-only. Its dry runs of changes fail (the server refuses writes),
    so the tests of the confirmation itself pass `offer_failed_preview=True` to be asked anyway."""
    rb = load_runbooks()[rid]
    executor = guarded_executor(confirm, audit, timeout=60, offer_failed_preview=offer_failed_preview)
    with open_target(snap, label="test") as target:
        return run_runbook(rb, resolve_params(rb, params), executor,
                           env=target.env, kubectl_args=target.kubectl_args, **kw)


@pytest.fixture(scope="module")
def demo() -> Any:
    return load_bundle(demo_path())


def test_crash_looping_api_pod_takes_the_previous_logs_branch(demo: Any, audit: AuditLog) -> None:
    confirm = ScriptedConfirmer()
    res = _run("pod-not-starting", demo, {"namespace": "mycure-production", "pod": API_POD}, confirm, audit)
    steps = {r.id: r for r in res.steps}
    assert [r.id for r in res.steps][:3] == ["list-pods", "pod-state", "previous-logs"]
    assert steps["pod-state"].goto == "previous-logs" and "CrashLoopBackOff" in (steps["pod-state"].branch or "")
    assert "MongoServerSelectionError" in steps["previous-logs"].output  # the real --previous log, via kubectl
    assert steps["previous-logs"].goto == "dependencies"  # ECONNREFUSED to mongodb → check the services
    assert "CrashLoopBackOff" in steps["pod-state"].summary and "Error" in steps["pod-state"].summary
    assert res.outcome == "completed" and all(r.status == "ok" for r in res.steps)
    assert confirm.shown == [], "read-only steps must not ask"
    recs = _records(audit)
    starts = [r for r in recs if r["event"] == "start"]
    assert [r["command"] for r in starts] == [r.command for r in res.steps]
    assert all(r["decision"] == "auto-read-only" and r["class"] == "read-only" for r in starts)
    assert all(r["exit"] == 0 for r in recs if r["event"] == "end")


def test_declined_confirmation_stops_the_run_and_is_audited(demo: Any, audit: AuditLog) -> None:
    confirm = ScriptedConfirmer(answers=["no"])
    res = _run("secrets-not-syncing", demo, {"namespace": "lfh-staging"}, confirm, audit, offer_failed_preview=True)
    last = res.steps[-1]
    assert res.outcome == "stopped" and res.stopped_at == "force-sync" and last.status == "declined"
    assert res.params["name"] == "api-secrets"  # captured: the ExternalSecret that is not Ready
    assert [p.command.split(" force-sync=")[0] for p in confirm.shown] == [
        "kubectl annotate externalsecret api-secrets -n lfh-staging"]
    assert confirm.shown[0].token == "api-secrets" and confirm.shown[0].verdict.cls == "mutating"
    decisions = [r for r in _records(audit) if r["event"] == "decision"]
    assert len(decisions) == 1 and decisions[0]["decision"] == "declined" and decisions[0]["class"] == "mutating"
    assert decisions[0]["command"].startswith("kubectl annotate externalsecret api-secrets")
    assert not any(r["event"] == "start" and r["class"] == "mutating" for r in _records(audit)), "nothing ran"
    assert {r.id for r in res.steps} >= {"list", "describe", "remote-key", "store", "operator-logs"}


def test_approved_change_runs_and_the_bundle_refuses_it(demo: Any, audit: AuditLog) -> None:
    rb = load_runbooks()["secrets-not-syncing"]
    confirm = ScriptedConfirmer(answers=["api-secrets"])
    res = _run("secrets-not-syncing", demo, {"namespace": "lfh-staging", "name": "api-secrets"}, confirm, audit,
               start="force-sync", offer_failed_preview=True)
    assert [r.id for r in res.steps] == ["force-sync", "verify"] and rb.step("verify").safety == "read-only"
    change = res.steps[0]
    assert change.status == "failed" and change.exit_code == 1 and "read-only" in change.output
    assert res.failed_changes == [change]
    approved = [r for r in _records(audit) if r.get("decision") == "approved"]
    assert {r["event"] for r in approved} == {"start", "end"} and approved[-1]["exit"] == 1


def test_without_a_terminal_a_change_needs_the_flag_and_its_token(demo: Any, audit: AuditLog) -> None:
    params = {"namespace": "lfh-staging", "name": "api-secrets"}
    for confirm, status in ((NonInteractiveConfirmer(), "refused"),
                            (NonInteractiveConfirmer(True, "mutating"), "refused"),
                            (NonInteractiveConfirmer(True, "api-secrets"), "failed")):  # failed: the bundle is read-only
        res = _run("secrets-not-syncing", demo, params, confirm, audit, start="force-sync", offer_failed_preview=True)
        assert res.steps[0].status == status
        assert res.steps[0].token == "api-secrets"
    decisions = [r["decision"] for r in _records(audit) if r["event"] in ("decision", "start") and r["class"] == "mutating"]
    assert decisions == ["refused", "refused", "approved"]


def test_a_change_whose_dry_run_failed_is_not_offered_for_confirmation(demo: Any, audit: AuditLog) -> None:
    confirm = ScriptedConfirmer(answers=["api-secrets"])
    res = _run("secrets-not-syncing", demo, {"namespace": "lfh-staging", "name": "api-secrets"}, confirm, audit,
               start="force-sync")
    change = res.steps[0]
    assert confirm.shown == [], "the server already refused the dry run: nothing to confirm"
    assert change.status == "failed" and "read-only" in change.output and "dry run failed" in change.note
    assert res.failed_changes == [change] and [r.id for r in res.steps] == ["force-sync", "verify"]
    recs = _records(audit)
    assert [r["command"].endswith("--dry-run=server -o yaml") for r in recs if r["event"] == "start"] == [True, False]
    decision = next(r for r in recs if r["event"] == "decision")
    assert decision["decision"] == "refused" and decision["class"] == "mutating"
    assert not any(r["event"] == "start" and r["class"] == "mutating" for r in recs), "the change never ran"


def test_a_pod_that_does_not_exist_stops_the_run_where_it_shows(demo: Any, audit: AuditLog) -> None:
    res = _run("pod-not-starting", demo, {"namespace": "mycure-production", "pod": "ghost-0"}, ScriptedConfirmer(),
               audit)
    assert [r.id for r in res.steps] == ["list-pods", "pod-state"]
    assert res.outcome == "stopped" and res.stopped_at == "pod-state" and not res.ok
    assert res.steps[-1].note.startswith("pod ghost-0 does not exist in namespace mycure-production")
    r = CliRunner().invoke(app, ["runbook", "run", "pod-not-starting", "--demo", "-n", "mycure-production",
                                 "--pod", "ghost-0"], env={"SRE_EXPERT_AUDIT_LOG": str(audit.path)})
    out = " ".join(r.output.split())
    assert r.exit_code == 1 and "Stopped at step pod-state" in out and "Pod ghost-0 does not exist" in out
    assert "▸ describe" not in r.output


def test_missing_object_reads_kubectl_not_found_lines() -> None:
    from sre_expert.edges.runbook_runner import missing_object

    params = {"namespace": "lfh-staging", "name": "api-secrets", "now": "1"}
    line = 'Error from server (NotFound): externalsecrets.external-secrets.io "api-secrets" not found'
    assert missing_object(line, params) == "externalsecret api-secrets does not exist in namespace lfh-staging"
    assert missing_object('Error from server (NotFound): namespaces "lfh-staging" not found', params) == \
        "namespace lfh-staging does not exist"
    assert missing_object('Error from server (NotFound): ingresses.networking.k8s.io "api-secrets" not found',
                          params).startswith("ingress api-secrets")
    # an object the operator did not name (a dependency) is a finding of the runbook, not a typo
    assert missing_object('Error from server (NotFound): secrets "gcp-sa" not found', params) is None


def test_run_help_offers_only_the_formats_run_accepts() -> None:
    r = CliRunner().invoke(app, ["runbook", "run", "--help"], env={"COLUMNS": "200"})
    assert r.exit_code == 0 and "terminal|json" in r.output and "markdown" not in r.output
    r = CliRunner().invoke(app, ["runbook", "run", "pod-not-starting", "--demo", "-n", "x", "--pod", "y",
                                 "-o", "markdown"])
    assert r.exit_code == 2


def test_ctrl_c_at_the_confirmation_is_audited_as_declined(demo: Any, audit: AuditLog) -> None:
    class Interrupted:
        def confirm(self, proposal: Any) -> Any:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run("secrets-not-syncing", demo, {"namespace": "lfh-staging", "name": "api-secrets"}, Interrupted(), audit,
             start="force-sync", offer_failed_preview=True)
    decision = [r for r in _records(audit) if r["event"] == "decision"]
    assert [(d["decision"], d["note"], d["class"]) for d in decision] == [("declined", "interrupted", "mutating")]


def test_runs_against_synth_faults_follow_the_scheduler_and_pull_errors(tmp_path: Path, audit: AuditLog) -> None:
    b = _platform()
    pending = F.unschedulable(b, scenario.live_pods(b, "Deployment", "api")[0])
    pulled = F.image_pull_backoff(b, b.workload("Deployment", "lfh-staging", "api"))
    path = write_bundle(b, tmp_path / "bundle")
    snap = load_bundle(path)
    ns1, ns2 = pending["metadata"]["namespace"], pulled["metadata"]["namespace"]
    res = _run("pod-not-starting", snap, {"namespace": ns1, "pod": pending["metadata"]["name"]}, ScriptedConfirmer(), audit)
    ids = [r.id for r in res.steps]
    assert ids[:4] == ["list-pods", "pod-state", "pending-describe", "pending-nodes"], ids
    assert "Insufficient memory" in res.steps[2].output
    assert ids[-1] == "node-labels" and res.outcome == "completed"
    res = _run("pod-not-starting", snap, {"namespace": ns2, "pod": pulled["metadata"]["name"]}, ScriptedConfirmer(), audit)
    ids = [r.id for r in res.steps]
    assert ids == ["list-pods", "pod-state", "image-events", "image-spec", "pull-secrets"], ids
    assert "Failed to pull image" in res.steps[2].output and "v9.9.9" in res.steps[3].output


def test_context_flag_reaches_kubectl(demo: Any, audit: AuditLog) -> None:
    rb = load_runbooks()["pod-not-starting"]
    with open_target(demo) as target:
        # the operator's --context reaches the executor too: the gate admits that context and no other
        res = run_runbook(rb, resolve_params(rb, {"namespace": "mycure-production", "pod": API_POD}),
                          guarded_executor(ScriptedConfirmer(), audit, context="sre-expert-bundle"), env=target.env,
                          kubectl_args=("--context=sre-expert-bundle",))
        assert res.steps[0].command and res.steps[0].status == "ok"
        bad = run_runbook(rb, resolve_params(rb, {"namespace": "mycure-production", "pod": API_POD}),
                          guarded_executor(ScriptedConfirmer(), audit, context="no-such-context"), env=target.env,
                          kubectl_args=("--context=no-such-context",))
        assert bad.steps[0].status == "failed" and "no-such-context" in bad.steps[0].output
        other = run_runbook(rb, resolve_params(rb, {"namespace": "mycure-production", "pod": API_POD}),
                            guarded_executor(ScriptedConfirmer(), audit), env=target.env,
                            kubectl_args=("--context=sre-expert-bundle",))
        assert other.steps[0].status == "declined"  # a --context the product did not choose is asked about
    assert any("--context=sre-expert-bundle" in r["command"] for r in _records(audit))


# ---------------------------------------------------------------------------------------- the runner's rules


def _scripted(outputs: dict[str, tuple[int, str]]) -> Any:
    calls: list[str] = []

    def execute(step: Step, command: str, env: Any) -> Exec:
        calls.append(command)
        code, text = outputs.get(step.id, (0, ""))
        return Exec("ok" if code == 0 else "failed", code, text, "")

    execute.calls = calls  # type: ignore[attr-defined]
    return execute


def test_output_is_redacted_but_branches_see_the_raw_text() -> None:
    rb = load_runbooks()["pod-not-starting"]
    log = ('{"msg":"MongoServerSelectionError: connect ECONNREFUSED mongodb://api:Hunter2-Prod@mongodb:27017/app",'
           '"user":"maria.santos@example.org"}')
    pod = {"status": {"phase": "Running",
                      "containerStatuses": [{"name": "api", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}
    execute = _scripted({"pod-state": (0, json.dumps(pod)), "previous-logs": (0, log)})
    table = PlaceholderTable()
    res = run_runbook(rb, resolve_params(rb, {"namespace": "mycure-production", "pod": "api-1"}), execute,
                      table=table, which=lambda p: "/usr/bin/" + p)
    logs = next(r for r in res.steps if r.id == "previous-logs")
    assert "Hunter2-Prod" not in logs.output and "maria.santos" not in logs.output
    assert "<redacted:password#1>" in logs.output and PLACEHOLDER.search(logs.output)
    assert logs.goto == "dependencies"  # the regex saw ECONNREFUSED
    assert table.counts() == {"password": 1, "email": 1}


def test_missing_programs_and_parameters_skip_steps_and_the_run_goes_on() -> None:
    rb = load_runbooks()["backup-restore"]
    backups = {"items": [{"metadata": {"name": "infrastructure-daily-20261125030000"}, "status": {"phase": "Completed"}},
                         {"metadata": {"name": "infrastructure-daily-20261126030000"}, "status": {"phase": "Failed"}}]}
    execute = _scripted({"backups": (0, json.dumps(backups)), "locations": (0, '{"items": []}')})
    res = run_runbook(rb, resolve_params(rb, {}), execute, which=lambda p: None if p == "velero" else "/usr/bin/" + p)
    by = {r.id: r for r in res.steps}
    assert by["backups"].captured == {"backup": "infrastructure-daily-20261125030000"}
    assert by["backup-details"].status == "skipped" and "velero is not installed" in by["backup-details"].note
    assert by["restore"].status == "skipped"  # namespace missing too; nothing ran
    assert not [c for c in execute.calls if c.startswith("velero")]
    assert res.outcome == "completed"


def test_blocked_when_the_actual_command_is_not_what_the_step_declares(audit: AuditLog) -> None:
    step = Step("look", "Look", "kubectl get pods", "read-only", "pods")
    res = guarded_executor(ScriptedConfirmer(), audit)(step, "kubectl delete pod x -n y", {})
    assert res.status == "blocked" and "destructive" in res.message
    assert not audit.path.exists(), "a blocked command is never run"


def test_parameters_are_checked() -> None:
    rb = load_runbooks()["pod-not-starting"]
    with pytest.raises(RunUsageError, match="--pod"):
        resolve_params(rb, {"namespace": "x"})
    with pytest.raises(RunUsageError, match="no parameter 'size'"):
        resolve_params(rb, {"namespace": "x", "pod": "p", "size": "1Gi"})
    for bad in ("p; rm -rf /", "$(id)", "a b", "`x`", "x|y", "-o=json"):
        with pytest.raises(RunUsageError, match="plain"):
            resolve_params(rb, {"namespace": "x", "pod": bad})
    p = resolve_params(load_runbooks()["certificate-renewal"], {}, now=0)
    assert p["certificate"] == "gateway-tls" and p["namespace"] == "gateway-system" and p["date"] == "19700101-0000"


# ---------------------------------------------------------------------------------------- CLI


def test_cli_list_and_show() -> None:
    r = CliRunner().invoke(app, ["runbook", "list", "-o", "json"])
    assert r.exit_code == 0
    rows = json.loads(r.stdout)
    assert [x["id"] for x in rows] == list(RUNBOOK_IDS) and all(x["steps"] >= 5 for x in rows)
    r = CliRunner().invoke(app, ["runbook", "show", "certificate-renewal", "-o", "json"])
    shown = json.loads(r.stdout)
    reissue = next(s for s in shown["steps"] if s["id"] == "reissue")
    assert reissue["safety"] == "destructive" and reissue["command"] == "kubectl delete certificate {certificate} -n {namespace}"
    assert "cmctl renew gateway-tls -n gateway-system" in [c["command"] for c in shown["components"]["cert-manager"]]
    r = CliRunner().invoke(app, ["runbook", "show", "pod-not-starting"])
    assert r.exit_code == 0 and "previous-logs" in r.stdout and "[read-only]" in r.stdout
    r = CliRunner().invoke(app, ["runbook", "show", "pod-not-starting", "-o", "markdown"])
    assert r.stdout.startswith("# Pod not starting (`pod-not-starting`)")
    r = CliRunner().invoke(app, ["runbook", "show", "no-such"])
    assert r.exit_code == 2 and "unknown runbook" in r.output


def test_cli_run_on_the_demo(tmp_path: Path) -> None:
    env = {"SRE_EXPERT_AUDIT_LOG": str(tmp_path / "audit.log")}
    r = CliRunner().invoke(app, ["runbook", "run", "pod-not-starting", "--demo", "-n", "mycure-production",
                                 "--pod", API_POD, "-o", "json"], env=env)
    assert r.exit_code == 0, r.output
    run = json.loads(r.stdout)
    assert run["outcome"] == "completed" and run["steps"][1]["next"] == "previous-logs"
    r = CliRunner().invoke(app, ["runbook", "run", "pod-not-starting", "--demo", "-n", "mycure-production",
                                 "--pod", API_POD], env=env)
    assert r.exit_code == 0 and "→" in r.stdout and "previous-logs" in r.stdout and "Completed" in r.stdout
    # the bundle refuses writes, so the change's dry run fails: it is not offered (no token to type), it fails
    r = CliRunner().invoke(app, ["runbook", "run", "secrets-not-syncing", "--demo", "-n", "lfh-staging"], env=env)
    assert r.exit_code == 1, r.output
    out = " ".join(r.output.split())
    assert "--confirm" not in out and "not offered for confirmation" in out and "read-only" in out
    r = CliRunner().invoke(app, ["runbook", "run", "secrets-not-syncing", "--demo", "-n", "lfh-staging", "-p",
                                 "name=api-secrets", "--from", "force-sync", "--yes-i-understand", "--confirm",
                                 "api-secrets", "-o", "json"], env=env)
    assert r.exit_code == 1 and json.loads(r.stdout)["failedChanges"] == ["force-sync"]
    audit = [json.loads(x) for x in (tmp_path / "audit.log").read_text().splitlines()]
    changes = [a for a in audit if a["class"] == "mutating" and a["event"] != "end"]
    assert [a["decision"] for a in changes] == ["refused", "refused"]  # never run, even with the token
    assert all("dry run failed" in a["note"] for a in changes)


@pytest.mark.parametrize("args", [
    ["runbook", "run", "pod-not-starting", "--demo", "-n", "x"],
    ["runbook", "run", "pod-not-starting", "--demo", "-n", "x", "--pod", "a;b"],
    ["runbook", "run", "pod-not-starting", "--demo", "--context", "c", "-n", "x", "--pod", "p"],
    ["runbook", "run", "pod-not-starting", "--demo", "-n", "x", "--pod", "p", "--from", "nope"],
    ["runbook", "run", "pod-not-starting", "--demo", "-n", "x", "--pod", "p", "-p", "novalue"],
    ["runbook", "run", "nope"],
])
def test_cli_run_bad_usage_is_exit_2(args: list[str], tmp_path: Path) -> None:
    r = CliRunner().invoke(app, args, env={"SRE_EXPERT_AUDIT_LOG": str(tmp_path / "a.log")})
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output


def test_cli_import_stays_light() -> None:
    code = ("import sys, sre_expert.edges.cli.main; heavy = [m for m in ('sre_expert.runbooks.library', "
            "'sre_expert.safety.guard', 'sre_expert.safety.redact', 'sre_expert.edges.runbook_runner', 'yaml', 'rich') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
