"""The alert catalogue (knowledge/alerts.yaml) against the real Prometheus tools: `promtool check rules`
on both renderings, `promtool test rules` unit tests for every alert (firing with exact labels and
annotations at the minute its `for` ends, not a minute before, and quiet just under its threshold), the
PrometheusRule against the prometheus-operator CRD, and the catalogue's links (runbooks, components,
kinds). The rule file is rendered from the catalogue in each run, so the tests follow it; the unit
tests' input series are hand-written in tests/data/promtool/<group>.test.yaml."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import programs
import pytest
import yaml
from schema_validation import validate_object

from sre_expert.knowledge.alert_catalogue import (
    SEVERITIES,
    load_alert_rules,
    prometheus_rule,
    render_yaml,
    rule_file,
    rule_groups,
)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests" / "data" / "promtool"
EXE = shutil.which("sre-expert", path=str(Path(sys.executable).parent)) or "sre-expert"

# The platform's alerts as documented (name, group, severity, for, threshold op and value): a change to
# any of them in alerts.yaml must be deliberate, so it has to be made here as well.
EXPECTED = {
    "NodeDown": ("node-health", "critical", "5m", "==", 0),
    "NodeHighCPU": ("node-health", "warning", "10m", ">", 85),
    "NodeHighMemory": ("node-health", "warning", "10m", ">", 85),
    "NodeDiskFillingUp": ("node-health", "warning", "10m", ">", 80),
    "NodeDiskCritical": ("node-health", "critical", "5m", ">", 90),
    "PodCrashLooping": ("pod-health", "critical", "5m", ">", 3),
    "PodNotReady": ("pod-health", "warning", "15m", ">", 0),
    "PodHighMemory": ("pod-health", "warning", "10m", ">", 90),
    "APIHighErrorRate": ("api-performance", "warning", "5m", ">", 5),
    "APIHighLatency": ("api-performance", "warning", "10m", ">", 1),
    "APIDown": ("api-performance", "critical", "2m", "==", 0),
    "PersistentVolumeFillingUp": ("storage-alerts", "warning", "10m", ">", 80),
    "PersistentVolumeCritical": ("storage-alerts", "critical", "5m", ">", 90),
    "GatewayHighErrorRate": ("gateway-alerts", "warning", "5m", ">", 5),
    "CertificateExpiringSoon": ("certificates", "warning", "1h", "<", 7),
    "CertificateExpiryCritical": ("certificates", "critical", "10m", "<", 2),
}
GROUPS = ["node-health", "pod-health", "api-performance", "storage-alerts", "gateway-alerts", "certificates"]


def promtool() -> str:
    return programs.require("promtool")


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120, cwd=cwd)


def seconds(duration: str) -> int:
    """A Prometheus duration (`1h30m`, `59m`, `10m`) in seconds."""
    parts = re.findall(r"(\d+)(h|m|s)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(int(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """rules.yaml rendered from the catalogue, next to copies of the unit test files that name it."""
    d = tmp_path_factory.mktemp("promtool")
    (d / "rules.yaml").write_text(render_yaml(rule_file()))
    for f in TESTS.glob("*.test.yaml"):
        shutil.copy(f, d / f.name)
    return d


def unit_test_files() -> list[Path]:
    return sorted(TESTS.glob("*.test.yaml"))


# ------------------------------------------------------------------------------------------ promtool
def test_the_plain_rule_file_passes_promtool_check(workdir: Path) -> None:
    r = run(promtool(), "check", "rules", str(workdir / "rules.yaml"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"SUCCESS: {len(EXPECTED)} rules found" in r.stdout


def test_the_cli_renderings_pass_promtool_check(tmp_path: Path) -> None:
    """What users commit: `sre-expert rules` (PrometheusRule: its spec.groups) and `--format prometheus`."""
    tool = promtool()
    r = run(EXE, "rules")
    assert r.returncode == 0, r.stderr
    doc = yaml.safe_load(r.stdout)
    assert doc["kind"] == "PrometheusRule" and doc["metadata"] == prometheus_rule()["metadata"]
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump({"groups": doc["spec"]["groups"]}, sort_keys=False))
    plain = tmp_path / "plain.yaml"
    r2 = run(EXE, "rules", "--format", "prometheus", "-o", str(plain))
    assert r2.returncode == 0 and "wrote" in r2.stderr and r2.stdout == ""
    assert yaml.safe_load(plain.read_text()) == rule_file() == {"groups": doc["spec"]["groups"]}
    for f in ("spec.yaml", "plain.yaml"):
        c = run(tool, "check", "rules", str(tmp_path / f))
        assert c.returncode == 0 and f"SUCCESS: {len(EXPECTED)} rules found" in c.stdout, c.stdout + c.stderr
    assert "infrastructure/monitoring/prometheus-rules.yaml" in r.stdout.splitlines()[1]  # header comment


def test_promtool_check_rejects_a_broken_rule(tmp_path: Path) -> None:
    """The check above can fail: a rule with bad PromQL is refused."""
    bad = rule_file()
    bad["groups"][0]["rules"][0]["expr"] = 'up{job="node-exporter" == 0'
    (tmp_path / "bad.yaml").write_text(render_yaml(bad))
    r = run(promtool(), "check", "rules", str(tmp_path / "bad.yaml"))
    assert r.returncode != 0 and "FAILED" in r.stdout + r.stderr


@pytest.mark.parametrize("test_file", [f.name for f in unit_test_files()])
def test_promtool_unit_tests(workdir: Path, test_file: str) -> None:
    r = run(promtool(), "test", "rules", test_file, cwd=workdir)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout


def test_promtool_unit_tests_fail_when_a_threshold_moves(workdir: Path, tmp_path: Path) -> None:
    """The unit tests can fail: with PersistentVolumeFillingUp at 85% instead of 80%, the 85% volume no
    longer fires."""
    moved = rule_file()
    for g in moved["groups"]:
        for r in g["rules"]:
            if r["alert"] == "PersistentVolumeFillingUp":
                r["expr"] = r["expr"].replace("> 80", "> 85")
    (tmp_path / "rules.yaml").write_text(render_yaml(moved))
    shutil.copy(TESTS / "storage-alerts.test.yaml", tmp_path)
    r = run(promtool(), "test", "rules", "storage-alerts.test.yaml", cwd=tmp_path)
    assert r.returncode != 0 and "PersistentVolumeFillingUp" in r.stdout + r.stderr



@pytest.mark.parametrize(("alert", "expr", "test_file", "missed"), [
    # phase only: a Running pod that fails its readiness check never fires
    ("PodNotReady", 'sum by (namespace, pod) (kube_pod_status_phase{phase=~"Pending|Unknown|Failed"}) > 0',
     "pod-health.test.yaml", 'pod="api-55wcnlhq-54cp4"'),
    # readiness of every phase: a finished Job's pod (Succeeded, Ready=False) fires
    ("PodNotReady", 'sum by (namespace, pod) (kube_pod_status_ready{condition="false"}) > 0 or '
                    'sum by (namespace, pod) (kube_pod_status_phase{phase=~"Pending|Unknown|Failed"}) > 0',
     "pod-health.test.yaml", 'pod="backup-verify-28711440-zx7qp"'),
    # every job with "api" in its name: the Kubernetes API server's own job fires
    ("APIDown", 'up{job=~".*api.*"} == 0', "api-performance.test.yaml", 'job="apiserver"'),
])
def test_promtool_unit_tests_catch_the_known_wrong_expressions(tmp_path: Path, alert: str, expr: str, test_file: str,
                                                               missed: str) -> None:
    """The readiness and API-server cases are real checks: each earlier or naive expression fails them."""
    wrong = rule_file()
    for g in wrong["groups"]:
        for r in g["rules"]:
            if r["alert"] == alert:
                r["expr"] = expr
    (tmp_path / "rules.yaml").write_text(render_yaml(wrong))
    shutil.copy(TESTS / test_file, tmp_path)
    r = run(promtool(), "test", "rules", test_file, cwd=tmp_path)
    assert r.returncode != 0 and f"alertname: {alert}" in r.stdout + r.stderr, r.stdout + r.stderr
    assert missed in r.stdout + r.stderr


# ------------------------------------------------------------------------------ the unit tests cover
def checks() -> list[tuple[str, int, str, int, bool, list[dict[str, Any]]]]:
    """(file, test group index, alertname, eval seconds, fires, expected alerts) of every check."""
    out = []
    for f in unit_test_files():
        doc = yaml.safe_load(f.read_text())
        assert doc["rule_files"] == ["rules.yaml"] and doc.get("evaluation_interval") == "1m", f.name
        for i, group in enumerate(doc["tests"]):
            for c in group["alert_rule_test"]:
                exp = c.get("exp_alerts") or []
                out.append((f.name, i, c["alertname"], seconds(c["eval_time"]), bool(exp), exp))
    return out


def test_there_is_one_unit_test_file_per_group_and_only_catalogue_alerts() -> None:
    assert [f.name for f in unit_test_files()] == sorted(f"{g}.test.yaml" for g in GROUPS)
    by_name = {r.alert: r for r in load_alert_rules()}
    for file, _, alert, _, fires, _ in checks():
        assert alert in by_name, f"{file}: {alert} is not in the catalogue"
        # another group's file may only show that its series do not trigger this alert
        assert file == f"{by_name[alert].group}.test.yaml" or not fires, f"{alert} fires in {file}"


@pytest.mark.parametrize("alert", list(EXPECTED))
def test_every_alert_fires_at_its_for_and_stays_quiet_below_threshold(alert: str) -> None:
    """Three kinds of check per alert: firing (exact labels and annotations), not firing one evaluation
    before that in the same series (its `for` is not over yet), and not firing on series just below the
    threshold long after `for` would have passed."""
    rule = next(r for r in load_alert_rules() if r.alert == alert)
    for_s = seconds(rule.for_)
    mine = [c for c in checks() if c[2] == alert]
    firing = [c for c in mine if c[4]]
    assert firing, f"{alert}: no unit test where it fires"
    for *_, exp in firing:
        for e in exp:
            assert e["exp_labels"]["severity"] == rule.severity and e["exp_labels"]["component"] == rule.component
            assert set(e["exp_annotations"]) == {"summary", "description", "runbook"}
            assert e["exp_annotations"]["runbook"] == rule.runbook
            # the alert as Prometheus sends it names its object: `sre-expert serve` can scope to it
            assert any(s.label in e["exp_labels"] for s in rule.scope), (alert, e["exp_labels"])
    boundary = [(f, i, t) for f, i, _, t, fires, _ in firing
                if t >= for_s and any(c[0] == f and c[1] == i and c[3] == t - 60 and not c[4] for c in mine)]
    assert boundary, f"{alert}: no test shows it pending one evaluation before it fires"
    groups_firing = {(c[0], c[1]) for c in firing}
    quiet = [c for c in mine if not c[4] and (c[0], c[1]) not in groups_firing and c[3] >= for_s + 300]
    assert quiet, f"{alert}: no test with series below its threshold past its `for`"


# ------------------------------------------------------------------------------------------ catalogue
def test_the_catalogue_holds_the_platform_alerts() -> None:
    rules = load_alert_rules()
    assert [r.alert for r in rules] == list(EXPECTED)
    assert [g["name"] for g in rule_groups()] == GROUPS
    for r in rules:
        group, severity, for_, op, value = EXPECTED[r.alert]
        assert (r.group, r.severity, r.for_, r.threshold["op"], r.threshold["value"]) == (group, severity, for_, op, value)
        assert r.severity in SEVERITIES


def test_each_expression_compares_with_its_threshold() -> None:
    """`threshold` (read by lint and the prose) is the number the expression really compares with."""
    for r in load_alert_rules():
        t = r.threshold
        assert r.expr.rstrip().endswith(f" {t['op']} {t['value']}"), (r.alert, r.expr, t)


def test_runbooks_components_and_scope_kinds_exist() -> None:
    from sre_expert.core.kinds import COLLECTED_KINDS
    from sre_expert.knowledge.catalogue import catalogue
    from sre_expert.runbooks.library import load_runbooks

    books = load_runbooks()
    components = {s.component for s in catalogue().values()}
    kinds = {k.kind for k in COLLECTED_KINDS}
    for r in load_alert_rules():
        assert r.runbook in books, f"{r.alert}: runbook {r.runbook} missing from knowledge/runbooks"
        assert r.component in components, f"{r.alert}: component {r.component} is no finding component"
        assert r.scope, f"{r.alert}: no scope label"
        for s in r.scope:
            assert s.kind in kinds, f"{r.alert}: scope kind {s.kind} is not a kind sre-expert reads"
            assert s.label != "namespace"  # the namespace scopes the investigation, it names no object


def test_the_prometheusrule_is_valid_for_the_operator_crd() -> None:
    validate_object(prometheus_rule())
    validate_object(prometheus_rule("sre-expert-alerts", "observability"))
    broken = prometheus_rule()
    broken["spec"]["groups"][0]["rules"][0]["for"] = "five minutes"
    with pytest.raises(AssertionError, match="for"):
        validate_object(broken)


# ------------------------------------------------------------------------------------------ the CLI
def test_rules_help_says_where_it_goes_and_how_to_verify() -> None:
    r = run(EXE, "rules", "--help")
    assert r.returncode == 0
    text = " ".join(r.stdout.split())
    for needle in ("infrastructure/monitoring/prometheus-rules.yaml", "promtool check rules", "promtool test rules",
                   "--format", "--namespace", "rules list"):
        assert needle in text, needle


def test_rules_list_shows_every_alert() -> None:
    r = run(EXE, "rules", "list", "-o", "json")
    assert r.returncode == 0, r.stderr
    rows = orjson.loads(r.stdout)
    assert [(x["group"], x["alert"], x["severity"], x["for"], x["runbook"]) for x in rows] == [
        (r.group, r.alert, r.severity, r.for_, r.runbook) for r in load_alert_rules()]
    md = run(EXE, "rules", "list", "-o", "markdown").stdout.splitlines()
    assert md[0] == "| group | alert | severity | threshold | for | runbook | component |" and len(md) == 2 + len(EXPECTED)
    assert "| certificates | CertificateExpiringSoon | warning | < 7 days | 1h | certificate-renewal | cert-manager |" in md
    term = run(EXE, "rules", "list")
    assert term.returncode == 0 and "16 alerts in 6 groups" in term.stdout
    # the help promises a component column: the table has it, with each alert's component on its row
    assert "component" in run(EXE, "rules", "list", "--help").stdout
    header = next(line for line in term.stdout.splitlines() if "severity" in line and "alert" in line)
    assert header.split() == ["alert", "severity", "threshold", "for", "runbook", "component"]
    row = next(line for line in term.stdout.splitlines() if "CertificateExpiringSoon" in line)
    assert row.split()[-1] == "cert-manager"


def test_rules_output_creates_its_directory(tmp_path: Path) -> None:
    out = tmp_path / "infrastructure" / "monitoring" / "prometheus-rules.yaml"
    r = run(EXE, "rules", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert yaml.safe_load(out.read_text())["kind"] == "PrometheusRule" and f"wrote {out}" in r.stderr


def test_rules_name_and_namespace(tmp_path: Path) -> None:
    r = run(EXE, "rules", "--name", "platform-alerts-v2", "-n", "observability")
    doc = yaml.safe_load(r.stdout)
    assert (doc["metadata"]["name"], doc["metadata"]["namespace"]) == ("platform-alerts-v2", "observability")
    validate_object(doc)


@pytest.mark.parametrize("args", [("--name", "Platform_Alerts"), ("-n", "-bad-"), ("--format", "helm"),
                                  ("-o", "/dev/null/rules.yaml")])  # a directory under a file: cannot exist
def test_rules_bad_usage_is_exit_2_without_traceback(args: tuple[str, ...]) -> None:
    r = run(EXE, "rules", *args)
    assert r.returncode == 2, r
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_rendering_passes_redaction_unchanged() -> None:
    """Printed output goes through the redactor; the catalogue holds nothing it would hide."""
    from sre_expert.edges.cli.rules_cli import RuleFormat, render

    assert render(RuleFormat.prometheus, "x", "y").split("\n", 2)[2] == render_yaml(rule_file())
    header_lines = 3
    assert render(RuleFormat.prometheusrule, "platform-alerts", "monitoring").split("\n", header_lines)[header_lines] \
        == render_yaml(prometheus_rule())
