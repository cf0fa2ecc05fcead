"""`check` over several clusters: repeated --bundle / --context give one report per cluster, a fleet
summary, and the worst exit status; a cluster that cannot be read is reported, never fatal."""

from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
import yaml
from live_harness import NOW, faulty_platform
from server_harness import free_port
from test_cli import EXE, SCHEMA

from sre_expert.edges.apiserver import start_server
from synth import PlatformBuilder, healthy_platform, write_bundle

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A healthy cluster (staging), a broken one (prod: crashloops, pending PVC, failed ExternalSecret,
    image pull errors), and a path that holds nothing."""
    root = tmp_path_factory.mktemp("fleet")
    healthy = write_bundle(healthy_platform(PlatformBuilder(NOW, cluster="staging")), root / "staging")
    broken = write_bundle(faulty_platform(), root / "prod.tar.gz")
    return {"healthy": str(healthy), "broken": str(broken), "missing": str(root / "gone")}


FLEET_SCHEMA = json.loads((Path(__file__).parent.parent / "docs" / "fleet.schema.json").read_text())


def validate_fleet(doc: dict) -> None:
    """The fleet document against docs/fleet.schema.json, its reports against findings.schema.json."""
    from referencing import Registry, Resource

    registry = Registry().with_resources([(FLEET_SCHEMA["$id"], Resource.from_contents(FLEET_SCHEMA)),
                                          (SCHEMA["$id"], Resource.from_contents(SCHEMA))])
    jsonschema.Draft202012Validator(FLEET_SCHEMA, registry=registry).validate(doc)


def run(*args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    if home is not None:  # no config file, no kubeconfig of the machine running the tests
        env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"))
        env.pop("KUBECONFIG", None)
    return subprocess.run([EXE, "check", *args], capture_output=True, text=True, timeout=300, env=env)


def test_terminal_gives_each_cluster_its_report_then_one_summary_line_each(bundles) -> None:
    r = run("-b", bundles["healthy"], "-b", bundles["broken"], "-b", bundles["missing"], "--brief")
    assert r.returncode == 2, r.stderr  # the worst: one cluster cannot be read
    out = r.stdout
    heads = [out.index(f"━━ cluster {bundles[k]} ━━") for k in ("healthy", "broken", "missing")]
    assert heads == sorted(heads)
    staging, prod, gone = out[heads[0]:heads[1]], out[heads[1]:heads[2]], out[heads[2]:]
    assert "sre-expert · staging · captured 2026-11-26 10:00 UTC · bundle" in staging
    assert "No problems found." in staging
    assert "sre-expert · monobase-prod · captured" in prod and "CRITICAL" in prod
    assert f"unreadable: {bundles['missing']}: no such file or directory" in gone
    summary = out[out.index("Fleet: 3 clusters, exit 2"):].splitlines()[1:]
    assert [line.split()[0] for line in summary] == [bundles["healthy"], bundles["broken"], bundles["missing"]]
    assert summary[0].split()[1:] == ["exit", "0", "0", "root", "causes"]
    assert summary[1].split()[1:3] == ["exit", "1"] and "critical" in summary[1]
    assert summary[2].split()[1:3] == ["exit", "2"] and "unreadable" in summary[2]
    # the prod section is what `check` alone prints for it (redacted the same: the crash log's password)
    alone = run("-b", bundles["broken"], "--brief")
    assert alone.returncode == 1
    assert prod.split("\n", 1)[1].strip() == alone.stdout.strip()
    assert "s3cr3t-pw" not in out


def test_json_has_one_entry_per_cluster_each_the_single_report_contract(bundles) -> None:
    r = run("-b", bundles["healthy"], "-b", bundles["broken"], "-b", bundles["missing"], "-o", "json")
    assert r.returncode == 2, r.stderr
    doc = json.loads(r.stdout)
    assert doc["exitCode"] == 2 and doc["failOn"] == "warning"
    assert list(doc["clusters"]) == [bundles["healthy"], bundles["broken"], bundles["missing"]]
    healthy, broken, missing = doc["clusters"].values()
    assert healthy == {**healthy, "readable": True, "exitCode": 0, "error": None,
                       "rootCauses": {"critical": 0, "warning": 0, "info": 0}}
    assert healthy["report"]["cluster"] == "staging" and healthy["report"]["findings"] == []
    assert broken["readable"] and broken["exitCode"] == 1 and broken["rootCauses"]["critical"] >= 1
    roots = [f for f in broken["report"]["findings"] if f["rootCause"]]
    assert broken["rootCauses"] == {s: sum(1 for f in roots if f["severity"] == s) for s in ("critical", "warning", "info")}
    for entry in (healthy, broken):
        jsonschema.validate(entry["report"], SCHEMA)
    validate_fleet(doc)
    alone = run("-b", bundles["broken"], "-o", "json")
    assert broken["report"] == json.loads(alone.stdout)  # unchanged from a single-cluster run
    assert missing == {"readable": False, "exitCode": 2, "rootCauses": None, "report": None,
                       "error": f"{bundles['missing']}: no such file or directory"}


def test_exit_status_is_the_worst_clusters(bundles) -> None:
    assert run("-b", bundles["healthy"], "-b", bundles["broken"], "-o", "json").returncode == 1
    assert run("-b", bundles["broken"], "-b", bundles["healthy"], "--fail-on", "never", "-o", "json").returncode == 0
    assert run("-b", bundles["missing"], "-b", bundles["healthy"], "--fail-on", "never", "-o", "json").returncode == 2
    # filters apply to every cluster (a finding outside the namespace stays only as a root cause it names)
    r = run("-b", bundles["healthy"], "-b", bundles["broken"], "-n", "lfh-staging", "-o", "json")
    doc = json.loads(r.stdout)
    prod = doc["clusters"][bundles["broken"]]["report"]["findings"]
    assert prod and all(f["object"]["namespace"] == "lfh-staging" or f["rootCause"] for f in prod)
    assert not any(f["object"]["namespace"] == "mycure-production" and not f["rootCause"] for f in prod)
    assert r.returncode == 1 == max(e["exitCode"] for e in doc["clusters"].values())


def test_markdown_and_ci_formats_cover_every_cluster(bundles) -> None:
    args = ("-b", bundles["healthy"], "-b", bundles["missing"])
    md = run(*args, "-o", "markdown")
    assert md.returncode == 2
    assert md.stdout.index(f"# Cluster `{bundles['healthy']}`") < md.stdout.index(f"# Cluster `{bundles['missing']}`")
    assert f"| `{bundles['healthy']}` | 0 | 0 root causes |" in md.stdout
    assert f"| `{bundles['missing']}` | 2 | unreadable:" in md.stdout
    junit = ET.fromstring(run(*args, "-o", "junit").stdout.encode())
    suites = junit.findall("testsuite")
    assert [s.get("name") for s in suites] == [f"sre-expert check {bundles[k]}" for k in ("healthy", "missing")]
    assert junit.get("errors") == "1" and suites[1].find("testcase/error") is not None
    assert int(junit.get("tests")) == sum(int(s.get("tests")) for s in suites)
    sarif = json.loads(run(*args, "-o", "sarif").stdout)
    assert [r["properties"]["fleetMember"] for r in sarif["runs"]] == [bundles["healthy"], bundles["missing"]]
    assert [r["invocations"][0]["executionSuccessful"] for r in sarif["runs"]] == [True, False]


@pytest.mark.parametrize("args,message", [
    (("--demo", "-b", "a", "-b", "b"), "--demo is one cluster"),
    (("-b", "x", "-b", "x"), "x is named twice"),
    (("-b", "x", "-b", "y", "--context", "c"), "not both"),
    (("-b", "x", "-b", "y", "--prometheus", "http://prometheus:9090"), "--prometheus names one cluster's"),
])
def test_usage_errors_exit_2(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    r = run(*args, home=tmp_path)
    assert r.returncode == 2 and message in r.stderr, r.stderr


def test_clusters_can_be_named(bundles) -> None:
    r = run("-b", f"staging={bundles['healthy']}", "-b", f"prod={bundles['broken']}", "-o", "json")
    doc = json.loads(r.stdout)
    assert list(doc["clusters"]) == ["staging", "prod"] and doc["clusters"]["prod"]["exitCode"] == 1
    assert run("-b", f"a={bundles['healthy']}", "-b", f"a={bundles['broken']}").returncode == 2


def test_a_namespace_no_cluster_holds_is_a_usage_error(bundles) -> None:
    r = run("-b", bundles["healthy"], "-b", bundles["broken"], "-n", "mycure-prodution")
    assert r.returncode == 2 and "namespace mycure-prodution is not in any cluster" in r.stderr


# ------------------------------------------------------------------------------------------- live


def multi_kubeconfig(path: Path, servers: dict[str, str]) -> Path:
    """One kubeconfig with a context per cluster, as a platform team's admin kubeconfig looks."""
    doc = {
        "apiVersion": "v1", "kind": "Config", "current-context": next(iter(servers)), "preferences": {},
        "clusters": [{"name": n, "cluster": {"server": url}} for n, url in servers.items()],
        "users": [{"name": n, "user": {}} for n in servers],
        "contexts": [{"name": n, "context": {"cluster": n, "user": n}} for n in servers],
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def live_fleet(bundles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("live")
    # a live read's clock is the wall clock: the healthy cluster is captured now, so nothing in it is late
    now = datetime.now(UTC).replace(microsecond=0)
    healthy = write_bundle(healthy_platform(PlatformBuilder(now, cluster="staging")), tmp / "staging")
    with start_server(bundles["broken"]) as prod, start_server(healthy) as staging:
        yield multi_kubeconfig(tmp / "kubeconfig", {"prod": prod.url, "staging": staging.url,
                                                    "down": f"http://127.0.0.1:{free_port()}"})


def test_contexts_are_read_live_and_an_unreachable_one_is_reported(live_fleet: Path, tmp_path: Path) -> None:
    r = run("--kubeconfig", str(live_fleet), "--context", "prod", "--context", "staging", "--context", "down",
            "--context", "nowhere", "-o", "json", home=tmp_path)
    assert r.returncode == 2, r.stderr
    doc = json.loads(r.stdout)
    assert list(doc["clusters"]) == ["prod", "staging", "down", "nowhere"]
    validate_fleet(doc)
    prod, staging, down, nowhere = doc["clusters"].values()
    assert prod["report"]["source"] == "live" and prod["exitCode"] == 1
    assert any(f["code"] == "PVC-STORAGECLASS-MISSING" and f["rootCause"] for f in prod["report"]["findings"])
    assert any(f["code"] == "POD-CRASHLOOP" for f in prod["report"]["findings"])
    assert staging["report"]["findings"] == [] and staging["exitCode"] == 0
    assert not down["readable"] and "cannot reach the API server" in down["error"]
    assert not nowhere["readable"] and "nowhere" in nowhere["error"]
    assert "prod" in nowhere["error"] and "staging" in nowhere["error"]  # the contexts it does know
    # each live read says what it read, on its own line, named
    read = [line for line in r.stderr.splitlines() if " objects of " in line]
    assert sorted(line.split(":", 1)[0] for line in read) == ["prod", "staging"], r.stderr
    assert all(": read " in line for line in read)


def test_one_context_keeps_the_single_report(live_fleet: Path, tmp_path: Path) -> None:
    r = run("--kubeconfig", str(live_fleet), "--context", "staging", "-o", "json", home=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert "clusters" not in doc and doc["source"] == "live"
