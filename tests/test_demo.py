"""The shipped demo platform: up to date with its builder, and every incident found as a root cause."""

from __future__ import annotations

import json
import subprocess

import jsonschema
import pytest
from test_cli import EXE, SCHEMA

from sre_expert.diagnosis.engine import diagnose
from sre_expert.sources.bundle_reader import load_bundle
from sre_expert.sources.resolve import demo_path
from synth.bundle_writer import bundle_files
from synth.demo import build_demo

pytestmark = pytest.mark.e2e

# (code, kind, namespace, name-prefix) of the root cause each incident must surface as
INCIDENTS = [
    # mongodb's previous log shows a WiredTiger panic: the unreadable data leads, its OOMKilled restarts follow
    ("POD-STORAGE-CORRUPTION", "StatefulSet", "mycure-production", "mongodb"),
    ("ESO-REMOTE-KEY-MISSING", "ExternalSecret", "lfh-staging", "api-secrets"),
    ("CERT-CHALLENGE-STUCK", "Challenge", "gateway-system", "stg-localfirsthealth-wildcard"),
    ("NODE-NOT-READY", "Node", None, "k8s-worker-"),
    ("VELERO-BSL-UNAVAILABLE", "BackupStorageLocation", "velero", "default"),
    ("KYVERNO-ADMISSION-DENIED", "ClusterPolicy", None, "pod-security"),
    ("CRONJOB-FAILED", "CronJob", "lfh-staging", "session-cleanup"),
]


@pytest.fixture(scope="module")
def report():
    return diagnose(load_bundle(demo_path()))


def test_shipped_demo_matches_its_builder() -> None:
    """Regenerate with `PYTHONPATH=tests python -m synth.demo src/sre_expert/demo/platform` when this fails."""
    expected = bundle_files(build_demo())
    root = demo_path()
    shipped = {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}
    assert sorted(shipped) == sorted(expected)
    stale = [name for name, text in expected.items() if shipped[name] != text]
    assert not stale, f"demo files out of date: {stale[:5]}"


def test_every_incident_is_a_root_cause_with_evidence_and_a_fix(report) -> None:
    roots = [f for f in report.findings if f.root_cause and f.severity != "info"]
    for code, kind, ns, name in INCIDENTS:
        hits = [f for f in roots if f.code == code and f.object.kind == kind and f.object.namespace == ns
                and f.object.name.startswith(name)]
        assert len(hits) == 1, f"{code} on {kind} {ns}/{name}: {[(f.code, f.object.display()) for f in roots]}"
        f = hits[0]
        assert f.evidence and any(r.command for r in f.remediation), f.id
    assert len(roots) == len(INCIDENTS), [(f.code, f.object.display()) for f in roots]


def test_symptoms_hang_under_their_causes(report) -> None:
    by_id = {f.id: f for f in report.findings}

    def below(code: str) -> set[str]:
        root = next(f for f in report.findings if f.code == code and f.root_cause)
        out, stack = set(), list(root.causes)
        while stack:
            g = by_id[stack.pop()]
            if g.code not in out:
                out.add(g.code)
                stack.extend(g.causes)
        return out

    # api fails on mongodb, via its logs; mongodb's OOMKilled restarts hang under its corrupted data files
    assert {"SVC-NO-READY-ENDPOINTS", "POD-CRASHLOOP", "POD-OOMKILLED"} <= below("POD-STORAGE-CORRUPTION")
    assert {"CERT-NOT-READY", "GATEWAY-LISTENER-CERT-INVALID", "HTTPROUTE-NOT-ACCEPTED"} <= below("CERT-CHALLENGE-STUCK")
    assert {"POD-CONFIG-ERROR"} <= below("ESO-REMOTE-KEY-MISSING")
    assert {"VELERO-BACKUP-FAILED", "VELERO-RPO-MISSED"} <= below("VELERO-BSL-UNAVAILABLE")
    assert {"POD-NODE-LOST"} <= below("NODE-NOT-READY")


def test_cli_demo_json_is_valid_and_exits_1() -> None:
    r = subprocess.run([EXE, "check", "--demo", "-o", "json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["capturedAt"] == "2026-11-26T03:07:12Z" and doc["warnings"] == []
    assert [t.split(" (")[0] for t in doc["notChecked"]] == ["metrics: no Prometheus source"]
    assert [f["rootCause"] for f in doc["findings"]][: len(INCIDENTS)] == [True] * len(INCIDENTS)


def test_cli_demo_terminal_and_markdown() -> None:
    term = subprocess.run([EXE, "check", "--demo"], capture_output=True, text=True, timeout=120)
    assert term.returncode == 1 and "root causes" in term.stdout and "Traceback" not in term.stderr
    md = subprocess.run([EXE, "check", "--demo", "-o", "markdown", "-n", "lfh-staging"], capture_output=True,
                        text=True, timeout=120)
    assert md.returncode == 1 and md.stdout.startswith("# sre-expert report")
    assert "api-secrets" in md.stdout and "mongodb" not in md.stdout


def test_trace_and_dr_on_the_demo() -> None:
    t = subprocess.run([EXE, "trace", "api.stg.localfirsthealth.com", "--demo", "-o", "json"], capture_output=True,
                       text=True, timeout=120)
    assert t.returncode == 1, t.stderr
    doc = json.loads(t.stdout)
    assert "https-lfh-stg" in json.dumps(doc)
    ok = subprocess.run([EXE, "trace", "svc/mycure-production/mongodb", "--demo"], capture_output=True, text=True,
                        timeout=120)
    assert ok.returncode == 1 and "OOMKilled" in ok.stdout
    dr = subprocess.run([EXE, "dr", "status", "--demo", "-o", "json"], capture_output=True, text=True, timeout=120)
    assert dr.returncode == 1, dr.stderr
    plan = subprocess.run([EXE, "dr", "plan", "namespace-deletion", "-n", "mycure-production", "--demo"],
                          capture_output=True, text=True, timeout=120)
    assert plan.returncode in (0, 1) and "velero restore create" in plan.stdout
    comp = subprocess.run([EXE, "component", "cert-manager", "--demo"], capture_output=True, text=True, timeout=120)
    assert comp.returncode == 1 and "cert-manager" in comp.stdout
