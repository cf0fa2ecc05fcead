"""`sre-expert lint` as a user runs it: exit codes, --fail-on, the JSON contract with locations, drift
against a bundle, and clear errors without tracebacks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from lint_faults import EXAMPLE, cluster_objects, copy_repo, edit, line_of
from schema_validation import CRD_DIR

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "findings.schema.json").read_text())
EXE = shutil.which("sre-expert", path=str(Path(sys.executable).parent)) or "sre-expert"
STAGING = "values/deployments/lfh-staging.yaml"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("cluster")
    (d / "objects.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": cluster_objects()}))
    (d / "bundle.json").write_text('{"capturedAt": "2026-11-26T09:30:00Z", "cluster": "mc-v4-prod"}')
    return d


def test_clean_repo_exits_0_and_json_matches_the_contract() -> None:
    r = run("lint", str(EXAMPLE), "--crds", str(CRD_DIR), "-o", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["findings"] == [] and doc["summary"] == {"critical": 0, "warning": 0, "info": 0}
    assert doc["notChecked"] == ["helm template: helm not installed (charts/tenant not rendered)"]


def test_terminal_output_leads_with_file_and_line(tmp_path: Path) -> None:
    root = copy_repo(tmp_path)
    edit(root, STAGING, "sectionName: https-lfh-stg", "sectionName: https-lfh")
    r = run("lint", str(root))
    assert r.returncode == 1, r.stderr
    line = line_of(root, STAGING, "sectionName: https-lfh")
    assert f"{STAGING}:{line}" in r.stdout and "LINT-ROUTE-LISTENER-SHADOWED" in r.stdout
    assert "helm not installed" in r.stdout and "Traceback" not in r.stderr


def test_fail_on_and_json_location(tmp_path: Path) -> None:
    root = copy_repo(tmp_path)
    edit(root, STAGING, "sectionName: https-lfh-stg", "sectionName: https-lfh")  # a warning
    assert run("lint", str(root), "--fail-on", "critical").returncode == 0
    assert run("lint", str(root), "--fail-on", "never").returncode == 0
    r = run("lint", str(root), "-o", "json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, SCHEMA)
    [f] = doc["findings"]
    assert f["location"] == {"file": STAGING, "line": line_of(root, STAGING, "sectionName: https-lfh")}
    assert f["code"] == "LINT-ROUTE-LISTENER-SHADOWED" and f["id"] == "L1"
    assert f["object"] == {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                           "namespace": "lfh-staging", "name": "api"}


def test_markdown_output(tmp_path: Path) -> None:
    root = copy_repo(tmp_path)
    edit(root, "infrastructure/velero/schedules.yaml", 'schedule: "0 3 * * *"', 'schedule: "0 3 * *"')
    r = run("lint", str(root), "-o", "markdown", "--severity", "critical")
    assert r.returncode == 1
    line = line_of(root, "infrastructure/velero/schedules.yaml", 'schedule: "0 3 * *"')
    assert f"`infrastructure/velero/schedules.yaml:{line}`" in r.stdout and "LINT-VELERO-CRON-INVALID" in r.stdout


def test_invalid_yaml_is_a_finding_not_a_traceback(tmp_path: Path) -> None:
    root = copy_repo(tmp_path)
    (root / "values" / "deployments" / "broken.yaml").write_text("namespace: x\n  image: [a, b\n")
    r = run("lint", str(root), "-o", "json")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    [f] = json.loads(r.stdout)["findings"]
    assert f["code"] == "LINT-YAML-INVALID" and f["location"]["file"] == "values/deployments/broken.yaml"


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    r = run("lint", str(tmp_path / "nope"))
    assert r.returncode == 2 and "no such directory" in r.stderr and "Traceback" not in r.stderr
    r = run("lint", str(EXAMPLE), "--demo")
    assert r.returncode == 2 and "--against-cluster" in r.stderr
    r = run("lint", str(EXAMPLE), "--against-cluster", "--bundle", str(tmp_path / "missing"))
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_against_a_bundle_built_from_the_repo(bundle: Path, tmp_path: Path) -> None:
    r = run("lint", str(EXAMPLE), "--against-cluster", "--bundle", str(bundle), "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["findings"] == [] and doc["cluster"] == "mc-v4-prod" and doc["capturedAt"] == "2026-11-26T09:30:00Z"
    root = copy_repo(tmp_path)
    rel = "infrastructure/velero/schedules.yaml"
    edit(root, rel, "snapshotVolumes: true", "snapshotVolumes: false")
    r = run("lint", str(root), "--against-cluster", "--bundle", str(bundle), "-o", "json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, SCHEMA)
    [f] = doc["findings"]
    assert f["code"] == "LINT-DRIFT-SPEC"
    assert f["location"] == {"file": rel, "line": line_of(root, rel, "snapshotVolumes: false")}
    assert "spec.template.snapshotVolumes: repository False ≠ cluster True" in f["evidence"]
    assert f["object"]["kind"] == "Schedule" and f["object"]["name"] == "infrastructure-daily"


def test_against_the_demo_runs(tmp_path: Path) -> None:
    """The demo platform is not this repository: drift is reported, and the command still exits cleanly."""
    r = run("lint", str(EXAMPLE), "--against-cluster", "--demo", "-o", "json")
    assert r.returncode in (0, 1), r.stderr
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert all(f["code"].startswith("LINT-DRIFT-") for f in doc["findings"])


def test_against_a_live_cluster(tmp_path: Path) -> None:
    """The live path a user with a kubeconfig takes: `bundle serve`'s API in front of the repo's cluster,
    with one Schedule deleted by hand."""
    from sre_expert.edges.apiserver import start_server
    from sre_expert.edges.apiserver.kubeconfig import write_kubeconfig

    objs = [o for o in cluster_objects() if not (o["kind"] == "Schedule" and o["metadata"]["name"] == "infrastructure-hourly")]
    d = tmp_path / "cluster"
    d.mkdir()
    (d / "objects.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objs}))
    (d / "bundle.json").write_text('{"capturedAt": "2026-11-26T09:30:00Z", "cluster": "mc-v4-prod"}')
    with start_server(d) as server:
        kc = write_kubeconfig(tmp_path / "kubeconfig", server.url)
        r = subprocess.run([EXE, "lint", str(EXAMPLE), "--against-cluster", "--kubeconfig", str(kc), "-o", "json"],
                           capture_output=True, text=True, timeout=180, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["source"] == "live"
    [f] = doc["findings"]
    rel = "infrastructure/velero/schedules.yaml"
    assert f["code"] == "LINT-DRIFT-MISSING-IN-CLUSTER" and f["object"]["name"] == "infrastructure-hourly"
    assert f["location"] == {"file": rel, "line": line_of(EXAMPLE, rel, "name: infrastructure-hourly")}
