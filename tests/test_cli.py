"""The command line end to end, as a user runs it: exit codes, the JSON contract, errors without tracebacks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "findings.schema.json").read_text())
EXE = shutil.which("sre-expert", path=str(Path(sys.executable).parent)) or "sre-expert"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture()
def crash_bundle(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "tests" / "data" / "pod-crashloop.json", tmp_path / "pod.json")
    (tmp_path / "bundle.json").write_text('{"capturedAt": "2026-11-26T03:00:00Z", "cluster": "unit"}')
    return tmp_path


def test_help_teaches_the_first_command() -> None:
    r = run("--help")
    assert r.returncode == 0 and "check --demo" in r.stdout


def test_json_output_matches_the_contract(crash_bundle: Path) -> None:
    r = run("check", "--bundle", str(crash_bundle), "--output", "json")
    assert r.returncode in (0, 1), r.stderr
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["capturedAt"] == "2026-11-26T03:00:00Z" and doc["source"] == "bundle" and doc["cluster"] == "unit"
    assert len({f["id"] for f in doc["findings"]}) == len(doc["findings"])


def test_missing_bundle_is_exit_2_without_traceback(tmp_path: Path) -> None:
    r = run("check", "--bundle", str(tmp_path / "nope"))
    assert r.returncode == 2
    assert "no such file or directory" in r.stderr and "Traceback" not in r.stderr + r.stdout


def test_unreadable_bundle_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{not json")
    r = run("check", "--bundle", str(tmp_path))
    assert r.returncode == 2 and "x.json" in r.stderr and "Traceback" not in r.stderr


def test_no_source_explains_what_to_pass() -> None:
    r = run("check")
    assert r.returncode == 2 and "--bundle" in r.stderr and "--demo" in r.stderr


def test_bad_option_value_is_exit_2(crash_bundle: Path) -> None:
    r = run("check", "--bundle", str(crash_bundle), "--fail-on", "sometimes")
    assert r.returncode == 2


def test_fail_on_never_exits_0(crash_bundle: Path) -> None:
    assert run("check", "--bundle", str(crash_bundle), "--fail-on", "never").returncode == 0


def test_checks_catalogue_lists_codes() -> None:
    r = run("checks", "--output", "json")
    assert r.returncode == 0
    rows = json.loads(r.stdout)
    assert rows and all({"code", "severity", "component", "title", "explanation"} <= set(x) for x in rows)
    one = run("checks", rows[0]["code"])
    assert one.returncode == 0 and rows[0]["code"] in one.stdout
    assert run("checks", "NO-SUCH-CODE").returncode == 2


def test_check_help_names_every_component_of_the_catalogue() -> None:
    from sre_expert.knowledge.catalogue import catalogue

    text = " ".join(run("check", "--help").stdout.split())
    missing = sorted({s.component for s in catalogue().values()} - set(text.replace(",", " ").replace(".", " ").split()))
    assert not missing, f"--help does not mention components {missing}"


def test_help_shows_what_to_type_not_python_types() -> None:
    """`--help` of every command names values (PATH, NS, terminal|json) and no Python type (`<str>`,
    `<list[str]>`, `<bool>`), as Typer would print by default (issue 15)."""
    import os
    import re
    import subprocess
    import sys

    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    for command in (["check"], ["lint"], ["trace"], ["runbook", "run"], ["bundle", "collect"], ["serve"],
                    ["guard", "classify"], ["dr", "plan"], ["rules"], ["redact"]):
        out = subprocess.run([sys.executable, "-m", "sre_expert.edges.cli.main", *command, "--help"], env=env,
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, (command, out.stderr[-500:])
        leaked = re.findall(r"<(?:str|bool|int|float|path|list\[[^\]]*\])>", out.stdout)
        assert not leaked, (command, leaked)
