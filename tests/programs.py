"""The real programs the e2e tests drive, found in one place.

A test (or its module) declares what it runs with `@pytest.mark.needs("prometheus", ...)`; tests/conftest.py
looks each one up before the test and, when one is missing, stops that test only with one message saying how to
install it. In CI (`CI=true`) a missing program fails the test; on a developer's machine it skips it, with the
same message in the summary (`-rs`), so a partial machine can still run the rest and sees what was not checked.

Lookup: the user's PATH first, then the usual install locations (a fallback list, not one distribution's
layout), under every name the program ships as (Debian calls Alertmanager `prometheus-alertmanager`).
`needs(..., trusted=True)` asks for the program where the product's execution gate will run it from
(gate.TRUSTED_PATH), never the user's PATH.
"""

from __future__ import annotations

import functools
import glob
import os
import re
import shutil
from pathlib import Path

import pytest

INSTALL = "run scripts/install-test-programs.sh"

# Where a program usually lives when it is not on PATH: distribution packages, local builds, Homebrew, snaps.
FALLBACK_DIRS = ("/usr/local/bin", "/usr/bin", "/bin", "/opt/homebrew/bin", "/home/linuxbrew/.linuxbrew/bin",
                 "/snap/bin")

# The names each program ships as, in order of preference.
NAMES: dict[str, tuple[str, ...]] = {
    "kubectl": ("kubectl",),
    "prometheus": ("prometheus",),
    "promtool": ("promtool",),
    "alertmanager": ("alertmanager", "prometheus-alertmanager"),
    "amtool": ("amtool",),
    "chromium": ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome"),
    "jq": ("jq",),
    "helm": ("helm",),
}

# PostgreSQL's server programs are usually outside PATH, in a versioned directory.
PG_DIR_GLOBS = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/opt/homebrew/opt/postgresql@*/bin",
                "/usr/pgsql-*/bin")


def in_ci() -> bool:
    """True in a CI job, where a missing program is a failure (never a skip)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _version_key(path: str) -> tuple[int, ...]:
    """Sort key of a versioned directory such as /usr/lib/postgresql/15/bin (newest first when reversed)."""
    return tuple(int(n) for n in re.findall(r"\d+", path))


@functools.cache
def pg_bin_dir() -> Path | None:
    """The directory holding initdb and pg_ctl: $SRE_EXPERT_PG_BIN when set (and only there), else the one of
    initdb on PATH, else the newest of the usual install directories."""
    env = os.environ.get("SRE_EXPERT_PG_BIN")
    if env:
        candidates = [env]
    else:
        on_path = shutil.which("initdb")
        candidates = [str(Path(on_path).resolve().parent)] if on_path else []
        for pattern in PG_DIR_GLOBS:
            candidates += sorted(glob.glob(pattern), key=_version_key, reverse=True)
    for c in candidates:
        if (Path(c) / "initdb").is_file() and (Path(c) / "pg_ctl").is_file():
            return Path(c)
    return None


@functools.cache
def find(program: str, trusted: bool = False) -> str | None:
    """The absolute path of `program` (a key of NAMES, or `postgres` for initdb's directory), or None."""
    if program == "postgres":
        found = pg_bin_dir()
        return str(found) if found else None
    if trusted:
        from sre_expert.safety import gate

        return next((p for p in map(gate.resolve_program, NAMES.get(program, (program,))) if p), None)
    for name in NAMES.get(program, (program,)):
        hit = shutil.which(name) or shutil.which(name, path=os.pathsep.join(FALLBACK_DIRS))
        if hit:
            return hit
    return None


def path(program: str) -> str:
    """`program`'s path for a module constant; its first name when missing (the `needs` marker stops the
    test before it runs, so the bare name is never executed)."""
    return find(program) or NAMES.get(program, (program,))[0]


def missing_message(program: str, trusted: bool = False) -> str:
    """The one line a test stops with when `program` is missing."""
    if program == "postgres":
        return (f"postgres not installed (initdb and pg_ctl; or set SRE_EXPERT_PG_BIN to their directory): "
                f"{INSTALL}")
    if trusted:
        from sre_expert.safety import gate

        return f"{program} not installed in {gate.TRUSTED_PATH} (the only place the gate runs it from): {INSTALL}"
    return f"{program} not installed: {INSTALL}"


def stop(message: str) -> None:
    """Fail (CI) or skip (a developer's machine) the current test with `message`."""
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def require(program: str, trusted: bool = False) -> str:
    """`program`'s path, or stop the calling test with the missing-program message."""
    found = find(program, trusted)
    if found is None:
        stop(missing_message(program, trusted))
        raise AssertionError("unreachable")  # pragma: no cover - stop() raises
    return found
