"""`check` and `lint` for CI systems: `-o sarif` validated against the SARIF 2.1.0 JSON schema (OASIS,
tests/data/sarif/SOURCE.md), `-o junit` parsed as JUnit XML (testsuites > testsuite > testcase with
failure / skipped), failures following --fail-on exactly as the exit status does."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from lint_faults import copy_repo, edit, line_of

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
EXE = shutil.which("sre-expert", path=str(Path(sys.executable).parent)) or "sre-expert"
SARIF_SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif" / "sarif-schema-2.1.0.json").read_text())
STAGING = "values/deployments/lfh-staging.yaml"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=180)


def validate_sarif(doc: dict) -> None:
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    [r] = doc["runs"]
    rules = r["tool"]["driver"]["rules"]
    assert len({x["id"] for x in rules}) == len(rules)
    for res in r["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]


def junit_shape(xml: str) -> ET.Element:
    """The common JUnit XSD shape: one <testsuites>, <testsuite> with consistent counts, <testcase> with
    name and classname, at most one <failure>/<skipped> each."""
    root = ET.fromstring(xml)
    assert root.tag == "testsuites"
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(c.find("failure") is not None for c in cases)
        assert int(suite.get("skipped")) == sum(c.find("skipped") is not None for c in cases)
        assert suite.get("errors") == "0" and suite.get("timestamp") and suite.get("name")
        for c in cases:
            assert c.get("name") and c.get("classname") and float(c.get("time")) >= 0
            assert len(c.findall("failure")) + len(c.findall("skipped")) <= 1
            for f in c.findall("failure"):
                assert f.get("message") and f.get("type") in ("critical", "warning", "info")
    assert int(root.get("tests")) == sum(int(s.get("tests")) for s in root.findall("testsuite"))
    return root


@pytest.fixture(scope="module")
def demo_json() -> dict:
    r = run("check", "--demo", "-o", "json")
    return json.loads(r.stdout)


def test_check_sarif_is_valid_sarif_2_1_0_with_one_result_per_finding(demo_json: dict) -> None:
    r = run("check", "--demo", "-o", "sarif")
    assert r.returncode == 1, r.stderr  # the exit status is the same as for every output
    doc = json.loads(r.stdout)
    validate_sarif(doc)
    [run_] = doc["runs"]
    results = run_["results"]
    assert len(results) == len(demo_json["findings"])
    levels = {"critical": "error", "warning": "warning", "info": "note"}
    for res, f in zip(results, demo_json["findings"]):
        assert res["ruleId"] == f["code"] and res["level"] == levels[f["severity"]]
        assert res["message"]["text"].startswith(f["title"])
        [loc] = res["locations"]
        obj = f["object"]
        assert loc["logicalLocations"][0]["name"] == obj["name"] and "physicalLocation" not in loc
    rule = next(x for x in run_["tool"]["driver"]["rules"] if x["id"] == "NODE-NOT-READY")
    assert rule["defaultConfiguration"]["level"] == "error" and rule["fullDescription"]["text"]
    # what was not checked is said, never dropped
    notes = [n["message"]["text"] for n in run_["invocations"][0].get("toolExecutionNotifications", [])]
    assert [n.removeprefix("not checked: ") for n in notes if n.startswith("not checked: ")] == demo_json["notChecked"]
    assert len({res["partialFingerprints"]["sreExpertFinding/v1"] for res in results}) == len(results)


def test_check_junit_fails_exactly_what_fail_on_fails(demo_json: dict) -> None:
    severities = [f["severity"] for f in demo_json["findings"]]
    for fail_on, failing in (("warning", {"critical", "warning"}), ("critical", {"critical"}), ("never", set())):
        r = run("check", "--demo", "-o", "junit", "--fail-on", fail_on)
        assert r.returncode == (1 if failing else 0), r.stderr
        root = junit_shape(r.stdout)
        [suite] = root.findall("testsuite")
        cases = [c for c in suite.findall("testcase") if c.get("classname") != "sre-expert check.not-checked"]
        assert len(cases) == len(severities)
        assert int(suite.get("failures")) == sum(s in failing for s in severities)
        for c, f in zip(cases, demo_json["findings"]):
            assert c.get("name").startswith(f["code"] + " ")
            fail = c.find("failure")
            assert (fail is not None) == (f["severity"] in failing)
    skipped = [c.find("skipped").get("message") for c in suite.findall("testcase") if c.find("skipped") is not None]
    assert skipped == [f"not checked: {t}" for t in demo_json["notChecked"]]


def test_lint_sarif_points_at_the_file_and_line(tmp_path: Path) -> None:
    root = copy_repo(tmp_path)
    edit(root, STAGING, "sectionName: https-lfh-stg", "sectionName: https-lfh")
    r = run("lint", str(root), "-o", "sarif")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    validate_sarif(doc)
    [res] = doc["runs"][0]["results"]
    phys = res["locations"][0]["physicalLocation"]
    assert res["ruleId"] == "LINT-ROUTE-LISTENER-SHADOWED" and res["level"] == "warning"
    assert phys["artifactLocation"] == {"uri": STAGING, "uriBaseId": "%SRCROOT%"}
    assert phys["region"]["startLine"] == line_of(root, STAGING, "sectionName: https-lfh")
    assert str(tmp_path) not in r.stdout, "no local path in a CI artifact"
    rule = doc["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["id"] == "LINT-ROUTE-LISTENER-SHADOWED" and rule["help"]["text"]


def test_lint_junit_names_file_and_line_and_a_clean_repo_passes(tmp_path: Path) -> None:
    root = copy_repo(tmp_path)
    r = run("lint", str(root), "-o", "junit")
    assert r.returncode == 0, r.stderr
    suite = junit_shape(r.stdout).find("testsuite")
    assert suite.get("failures") == "0"
    assert [c.get("name") for c in suite.findall("testcase") if c.find("skipped") is None] == ["no problems found"]
    edit(root, STAGING, "sectionName: https-lfh-stg", "sectionName: https-lfh")
    line = line_of(root, STAGING, "sectionName: https-lfh")
    r = run("lint", str(root), "-o", "junit")
    assert r.returncode == 1
    suite = junit_shape(r.stdout).find("testsuite")
    [case] = [c for c in suite.findall("testcase") if c.find("failure") is not None]
    assert case.get("name") == f"LINT-ROUTE-LISTENER-SHADOWED {STAGING}:{line}"
    assert case.find("failure").get("type") == "warning"
    r = run("lint", str(root), "-o", "junit", "--fail-on", "critical")  # a warning below the bar: reported, passing
    assert r.returncode == 0 and junit_shape(r.stdout).find("testsuite").get("failures") == "0"
    assert "below --fail-on critical" in r.stdout


def test_help_offers_the_ci_formats() -> None:
    for cmd in ("check", "lint"):
        text = " ".join(run(cmd, "--help").stdout.split())
        assert "junit" in text and "sarif" in text, cmd


def test_check_junit_stays_valid_xml_when_the_cluster_writes_control_characters(tmp_path: Path) -> None:
    """An event or termination message is the cluster's text: an escape byte quoted as evidence made the whole
    JUnit file unreadable (XML 1.0 holds no control characters). It is spelled out instead."""
    pod = json.loads((Path(__file__).parent / "data" / "pod-crashloop.json").read_text())
    status = pod["status"]["containerStatuses"][0]
    status["state"]["waiting"]["message"] = "back-off \x1b[31mred\x1b[0m \x07 bell \x00 nul"
    (tmp_path / "pods.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [pod]}))
    r = run("check", "--bundle", str(tmp_path), "-o", "junit")
    assert r.returncode == 1, r.stderr
    root = ET.fromstring(r.stdout.encode())  # raised "not well-formed (invalid token)" before
    text = "".join(root.itertext())
    assert "\\x1b[31mred\\x1b[0m \\x07 bell \\x00 nul" in text and "\x1b" not in text
