"""tests/programs.py finds the real programs the e2e tests drive, and a unit test cannot start one."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import programs
import pytest

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _fresh_lookups() -> Iterator[None]:
    programs.find.cache_clear()
    programs.pg_bin_dir.cache_clear()
    yield
    programs.find.cache_clear()
    programs.pg_bin_dir.cache_clear()


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_path_comes_first_then_the_fallback_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    on_path = executable(tmp_path / "path" / "promtool")
    fallback = executable(tmp_path / "usr-local" / "promtool")
    monkeypatch.setattr(programs, "FALLBACK_DIRS", (str(fallback.parent),))
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert programs.find("promtool") == str(on_path)
    programs.find.cache_clear()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert programs.find("promtool") == str(fallback)


def test_a_program_is_found_under_its_other_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    debian = executable(tmp_path / "bin" / "prometheus-alertmanager")
    monkeypatch.setattr(programs, "FALLBACK_DIRS", ())
    monkeypatch.setenv("PATH", str(debian.parent))
    assert programs.find("alertmanager") == str(debian)


def test_a_missing_program_is_none_and_keeps_its_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(programs, "FALLBACK_DIRS", (str(tmp_path),))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert programs.find("chromium") is None
    assert programs.path("chromium") == "chromium"
    assert programs.missing_message("chromium") == "chromium not installed: run scripts/install-test-programs.sh"


def test_a_file_that_is_not_executable_is_not_the_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "kubectl").write_text("not a program")
    monkeypatch.setattr(programs, "FALLBACK_DIRS", ())
    monkeypatch.setenv("PATH", str(tmp_path))
    assert programs.find("kubectl") is None


def test_postgres_is_the_newest_versioned_directory_with_initdb_and_pg_ctl(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for version in ("9", "15", "16"):
        executable(tmp_path / "postgresql" / version / "bin" / "initdb")
        if version != "16":  # 16 lacks pg_ctl: not usable
            executable(tmp_path / "postgresql" / version / "bin" / "pg_ctl")
    monkeypatch.delenv("SRE_EXPERT_PG_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(programs, "PG_DIR_GLOBS", (str(tmp_path / "postgresql" / "*" / "bin"),))
    assert programs.find("postgres") == str(tmp_path / "postgresql" / "15" / "bin")
    programs.find.cache_clear()
    programs.pg_bin_dir.cache_clear()
    monkeypatch.setenv("SRE_EXPERT_PG_BIN", str(tmp_path / "elsewhere"))  # when set, only there
    assert programs.find("postgres") is None


@pytest.mark.parametrize("ci, outcome", [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_a_missing_program_fails_in_ci_and_skips_elsewhere(ci: str, outcome: type[BaseException],
                                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(programs, "FALLBACK_DIRS", ())
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(outcome, match="^jq not installed: run scripts/install-test-programs.sh$"):
        programs.require("jq")


@pytest.mark.parametrize("start", [
    lambda: subprocess.run(["true"], check=False),
    lambda: subprocess.Popen(["true"]),
    lambda: os.system("true"),
])
def test_a_unit_test_cannot_start_a_program(start: object) -> None:
    assert callable(start)
    with pytest.raises(AssertionError, match="a unit test started a program"):
        start()
