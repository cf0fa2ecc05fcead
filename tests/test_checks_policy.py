"""Kyverno and Falco checks: one scenario per fault on the healthy platform, with the cause → symptom links."""

from __future__ import annotations

import policy_faults as pf
import pytest
from monitoring_faults import assert_only, codes, dump, one, platform, run, serious

from sre_expert.checks.policy import parse_kyverno_denial, redact_cmdline
from sre_expert.core.model import key_of
from synth import faults

pytestmark = pytest.mark.scenario

TENANT = "mycure-production"


def _api(b):
    return b.workload("Deployment", TENANT, "api")


def test_healthy_platform_has_no_policy_findings() -> None:
    report = run(platform())
    assert [f.id for f in report.findings if f.component == "policy"] == []


# ---------------------------------------------------------------- Kyverno admission


def test_enforced_policy_blocking_a_rollout_is_the_root_cause() -> None:
    b = platform()
    rs = faults.webhook_denied(b, _api(b))
    r = run(b)
    f = one(r, "KYVERNO-ADMISSION-DENIED")
    assert f.root_cause and (f.object.kind, f.object.name) == ("ClusterPolicy", "pod-security")
    assert key_of(rs) in f.subjects and ("Deployment", TENANT, "api") in f.subjects
    assert f.evidence[0].startswith("spec.validationFailureAction=Enforce")
    assert any(e.startswith(f"ReplicaSet {TENANT}/{rs['metadata']['name']} of Deployment {TENANT}/api (2/2 available)")
               for e in f.evidence), f.evidence
    assert any(e.startswith("rule restricted: Validation rule 'restricted' failed") for e in f.evidence), f.evidence
    assert f.severity == "warning"  # the old ReplicaSet still serves; the rollout is what is blocked
    workload = one(r, "WORKLOAD-ADMISSION-DENIED")
    assert f.id in workload.caused_by and not workload.root_cause
    assert_only(r, {"KYVERNO-ADMISSION-DENIED"})


def test_denial_with_no_pod_left_is_critical() -> None:
    b = platform()
    w = _api(b)
    faults.webhook_denied(b, w)
    for p in [p for p in w.pods if p["metadata"]["ownerReferences"][0]["uid"] != w.replicaset["metadata"]["uid"]]:
        b.remove(p)
    r = run(b)
    assert one(r, "KYVERNO-ADMISSION-DENIED").severity == "critical"


def test_unreachable_kyverno_webhook_chain() -> None:
    """Multi-hop: admission controller pods OOMKilled → webhook unreachable → tenant rollout cannot create pods."""
    b = platform()
    w = _api(b)
    pods = pf.webhook_unreachable(b, w)
    r = run(b)
    hook = one(r, "KYVERNO-WEBHOOK-UNAVAILABLE")
    assert (hook.object.kind, hook.object.namespace, hook.object.name) == ("Service", "kyverno", "kyverno-svc")
    assert not hook.root_cause, dump(r)
    assert ("Deployment", "kyverno", "kyverno-admission-controller") in hook.depends_on
    assert {key_of(p) for p in pods} <= set(hook.depends_on)
    assert any("no endpoints available for service" in e for e in hook.evidence)
    assert any("Deployment kyverno/kyverno-admission-controller: 0/3 available" in e for e in hook.evidence)
    assert ("Deployment", TENANT, "api") in hook.subjects
    workload = one(r, "WORKLOAD-ADMISSION-DENIED")
    assert hook.id in workload.caused_by and not workload.root_cause
    by_id = {f.id: f for f in r.findings}
    roots = {by_id[c].code for c in hook.caused_by}
    assert {"POD-OOMKILLED", "COMPONENT-CONTROLLER-UNAVAILABLE"} <= roots, hook.caused_by
    assert_only(r, {"POD-OOMKILLED"})


def test_policy_not_ready() -> None:
    b = platform()
    pf.policy_not_ready(b)
    r = run(b)
    f = one(r, "KYVERNO-POLICY-NOT-READY")
    assert f.root_cause and f.object.name == "pod-security"
    assert f.evidence[0] == "condition Ready=False reason=Failed: Not ready yet"
    assert "status.ready=false" in f.evidence
    assert "its rules are not enforced" in f.title
    assert ("Deployment", "kyverno", "kyverno-admission-controller") in f.depends_on
    assert_only(r, {"KYVERNO-POLICY-NOT-READY"})


def test_policy_not_ready_because_the_admission_controller_is_down() -> None:
    b = platform()
    for p in [p for p in b.list("Pod", "kyverno") if p["metadata"]["name"].startswith("kyverno-admission-controller-")]:
        faults.oomkilled(b, p)
    pf.policy_not_ready(b)
    r = run(b)
    f = one(r, "KYVERNO-POLICY-NOT-READY")
    assert not f.root_cause, dump(r)
    assert_only(r, {"POD-OOMKILLED"})


# ---------------------------------------------------------------- Policy reports


def test_enforced_policy_violations_are_a_warning_audit_ones_information() -> None:
    b = platform()
    dep = b.require("Deployment", TENANT, "api")
    pf.report_result(b, dep, "pod-security", "fail",
                     "Validation rule 'autogen-restricted' failed. It violates PodSecurity \"restricted:latest\": "
                     "(Forbidden reason: allowPrivilegeEscalation != false)")
    mongo = next(o for o in b.list("StatefulSet", TENANT))
    pf.report_result(b, mongo, "require-labels", "fail",
                     "validation error: The labels app.kubernetes.io/name and app.kubernetes.io/instance are required.")
    r = run(b)
    found = {f.object.name: f for f in codes(r, "KYVERNO-POLICY-VIOLATIONS")}
    assert set(found) == {"pod-security", "require-labels"}
    enforce, audit = found["pod-security"], found["require-labels"]
    assert enforce.severity == "warning" and "Enforce mode" in enforce.title
    assert any(e.startswith(f"Deployment {TENANT}/api: rule autogen-restricted") for e in enforce.evidence), enforce.evidence
    assert audit.severity == "info" and "Audit mode" in audit.title
    assert audit.evidence[0].startswith("spec.validationFailureAction=Audit")
    assert_only(r, {"KYVERNO-POLICY-VIOLATIONS"})


def test_error_results_mean_the_policy_cannot_be_evaluated() -> None:
    b = platform()
    dep = b.require("Deployment", TENANT, "api")
    pf.report_result(b, dep, "restrict-registries", "error",
                     "failed to substitute variables in rule: variable substitution failed: "
                     "Unknown key \"images\" in path")
    r = run(b)
    f = one(r, "KYVERNO-POLICY-ERRORS")
    assert f.severity == "warning" and f.object.name == "restrict-registries"
    assert any("Unknown key" in e for e in f.evidence)


# ---------------------------------------------------------------- Falco


def test_falco_not_ready_on_a_node_that_went_down() -> None:
    b = platform()
    node = b.require("Node", None, "k8s-worker-2")
    faults.node_not_ready(b, node)
    r = run(b)
    gap = one(r, "FALCO-COVERAGE-GAP")
    assert not gap.root_cause, dump(r)
    assert any("k8s-worker-2" in e for e in gap.evidence), gap.evidence
    assert ("Node", "", "k8s-worker-2") in gap.depends_on
    by_id = {f.id: f for f in r.findings}
    assert any(by_id[c].object.kind == "Node" for c in gap.caused_by), gap.caused_by


def test_falco_crashing_on_one_node() -> None:
    b = platform()
    pod = pf.falco_pods(b)[0]
    faults.crashloop(b, pod, "falco", previous_log=(
        "Thu Nov 26 09:58:01 2026: Falco version: 0.38.1 (x86_64)\n"
        "Thu Nov 26 09:58:01 2026: Loading rules from file /etc/falco/falco_rules.yaml\n"
        "Thu Nov 26 09:58:02 2026: Opening 'syscall' source with Kernel module\n"
        "Thu Nov 26 09:58:02 2026: An error occurred in an event source, forcing termination...\n"
        "Error: can't open /dev/falco0: No such file or directory\n"))
    r = run(b)
    gap = one(r, "FALCO-COVERAGE-GAP")
    assert gap.severity == "warning" and "3 of 4 nodes" in gap.title, gap.title
    assert any(pod["spec"]["nodeName"] in e and "CrashLoopBackOff" in e for e in gap.evidence), gap.evidence
    assert not gap.root_cause
    assert_only(r, {"POD-CRASHLOOP"})


def test_falco_alerts_grouped_by_rule_without_secrets() -> None:
    b = platform()
    api, _ = pf.shell_in_api(b, TENANT)
    r = run(b)
    alerts = {f.title.split("'")[1]: f for f in codes(r, "FALCO-ALERT")}
    assert set(alerts) == {"Unexpected process in API container", "Read sensitive file untrusted"}, list(alerts)
    crit = alerts["Read sensitive file untrusted"]
    assert crit.severity == "critical" and "fired 1 time(s)" in crit.title  # the two-day-old one is out of window
    warn = alerts["Unexpected process in API container"]
    assert warn.severity == "warning" and "fired 3 time(s) in 1 pod(s)" in warn.title
    assert any(f"{TENANT}/{api['metadata']['name']} (3x)" in e for e in warn.evidence)
    text = " ".join(warn.evidence + [warn.title])
    assert "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9" not in text and "Bearer ***" in text, text
    assert all(len(e.split("proc.cmdline: ", 1)[1]) <= 80 for e in warn.evidence if e.startswith("proc.cmdline: "))
    assert not [f for f in serious(r) if f.code != "FALCO-ALERT"]


# ---------------------------------------------------------------- parsing helpers


def test_parse_kyverno_denial_message() -> None:
    msg = ('admission webhook "validate.kyverno.svc-fail" denied the request: \n\nresource Pod/t/api-x was blocked '
           "due to the following policies \n\npod-security:\n  autogen-restricted: 'validation error: run as non-root'\n"
           "require-labels:\n  check-for-labels: 'validation error: labels required'\n")
    resource, pols = parse_kyverno_denial(msg)
    assert resource == "Pod/t/api-x"
    assert pols == {"pod-security": {"autogen-restricted": "validation error: run as non-root"},
                    "require-labels": {"check-for-labels": "validation error: labels required"}}
    flat = " ".join(msg.split())
    _, pols = parse_kyverno_denial(flat, ["pod-security", "require-labels", "restrict-registries"])
    assert set(pols) == {"pod-security", "require-labels"}
    assert parse_kyverno_denial("pods is forbidden: exceeded quota") == (None, {})


def test_redact_cmdline() -> None:
    assert redact_cmdline("mysql -uroot -pS3cr3t -h db") == "mysql -uroot -p*** -h db"
    assert "hunter2" not in redact_cmdline("app --password hunter2 --port 80")
    assert "hunter2" not in redact_cmdline("PGPASSWORD=hunter2 psql")
    assert "s3cr3t" not in redact_cmdline("curl https://admin:s3cr3t@db.internal/x")
    long = redact_cmdline("tar czf /backup/x.tgz /var/lib/postgresql/data " * 5)
    assert long.endswith("…") and len(long) <= 80
    assert ("tar czf /backup/x.tgz /var/lib/postgresql/data " * 5).startswith(long[:-1] + " ")  # a word boundary
    assert redact_cmdline("curl -H 'Authorization: Bearer abc.def.ghi' https://x") == "curl -H 'Authorization: Bearer *** https://x"


def test_falco_text_output_is_read_too() -> None:
    """Chart 4.6 defaults to json_output: false; alerts are then text lines without the rule name."""
    b = platform()
    falco = pf.falco_pods(b)[1]
    pf.add_falco_alerts(b, falco, [
        "Thu Nov 26 09:00:01 2026: Falco version: 0.38.1 (x86_64)",
        "09:41:12.123456789: Warning Unexpected process in database container (command=psql -U postgres "
        "--password=hunter2 pod=postgresql-0 ns=lfh-staging) k8s.ns=lfh-staging k8s.pod=postgresql-0 container=9c1d",
        "09:42:12.123456789: Warning Unexpected process in database container (command=pg_dump -U postgres "
        "pod=postgresql-0 ns=lfh-staging) k8s.ns=lfh-staging k8s.pod=postgresql-0 container=9c1d",
        "09:43:00.000000001: Notice Container with sensitive mount started (k8s.ns=kube-system k8s.pod=cilium-x)",
    ])
    r = run(b)
    f = one(r, "FALCO-ALERT")
    assert f.title.startswith("Falco alert 'Unexpected process in database container' (Warning) fired 2 time(s) in 1 pod(s)")
    assert any("lfh-staging/postgresql-0 (2x)" in e for e in f.evidence)
    assert any(e.startswith("nodes: " + falco["spec"]["nodeName"]) for e in f.evidence)
    assert "hunter2" not in " ".join(f.evidence)
