"""Test tiers and real programs, enforced for every test; every check run held to its @check declaration.

Every test belongs to exactly one tier, its nearest marker of TIERS (a module's `pytestmark`, overridden by a
test's own marker): `unit` and `scenario` run no program (a subprocess started from one fails the test, so the
fast tier stays true), `e2e` and `ha` may. A test with no tier stops the collection, so a new module cannot slip
out of `make test-unit`'s accounting. `@pytest.mark.needs("promtool", ...)` names the real programs a test runs;
each is looked up by tests/programs.py before the test, and a missing one stops that test only.

Every check run of every test is held to its @check declaration (codes, speaks_for, depends_on): a finding
that emits an undeclared code or links by an undeclared key kind fails the test that produced it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from typing import Any

import programs
import pytest

from sre_expert.checks.registry import AUDIT, Check, outside_declaration
from sre_expert.core.model import Finding

TIERS = ("unit", "scenario", "e2e", "ha")
PROGRAM_FREE = ("unit", "scenario")


def tier_of(item: pytest.Item) -> str | None:
    """The nearest tier marker of `item` (a test's own before its class's before its module's)."""
    return next((m.name for m in item.iter_markers() if m.name in TIERS), None)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:  # the throwaway PostgreSQL (tests/pg_harness.py) is a real program
        if "pg_dsn" in getattr(item, "fixturenames", ()):
            if tier_of(item) != "ha":
                item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.needs("postgres"))
    untiered = sorted({item.nodeid.split("::")[0] for item in items if tier_of(item) is None})
    if untiered:
        raise pytest.UsageError("tests without a tier marker (unit, scenario, e2e or ha; see tests/conftest.py): "
                                + ", ".join(untiered))
    wrong = sorted({item.nodeid for item in items
                    if tier_of(item) in PROGRAM_FREE and item.get_closest_marker("needs") is not None})
    if wrong:
        raise pytest.UsageError("tests that need a real program must be e2e (or ha): " + ", ".join(wrong))
    _select_by_tier(config, items)


def _select_by_tier(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Apply `-m` with each test's own tier only: an e2e test in a unit module carries the module's `unit` mark
    too, and pytest's own `-m unit` would select it. The expression is then cleared, being applied."""
    from _pytest.mark.expression import Expression

    expr = config.option.markexpr
    if not expr:
        return
    compiled = Expression.compile(expr)
    keep, drop = [], []
    for item in items:
        names = {m.name for m in item.iter_markers() if m.name not in TIERS} | {str(tier_of(item))}
        (keep if compiled.evaluate(lambda name, **_: name in names) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    config.option.markexpr = ""


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("needs"):
        trusted = bool(mark.kwargs.get("trusted", False))
        for program in mark.args:
            if programs.find(program, trusted) is None:
                programs.stop(programs.missing_message(program, trusted))


def _refuse(tier: str, argv_at: int) -> Any:
    """A stand-in for a process-starting call whose command is its positional argument `argv_at`."""
    def refuse(*args: Any, **kwargs: Any) -> Any:
        what = args[argv_at] if len(args) > argv_at else kwargs.get("args")
        raise AssertionError(f"a {tier} test started a program ({what!r}): mark the test e2e, with "
                             "@pytest.mark.needs(...) for a real program")
    return refuse


@pytest.fixture(autouse=True)
def _program_free_tiers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Unit and scenario tests start no process: subprocess, os.system and posix_spawn raise there."""
    tier = tier_of(request.node)
    if tier in PROGRAM_FREE:
        monkeypatch.setattr(subprocess.Popen, "__init__", _refuse(str(tier), 1))  # (self, args, ...)
        for name, argv_at in (("system", 0), ("posix_spawn", 1), ("posix_spawnp", 1)):
            monkeypatch.setattr(os, name, _refuse(str(tier), argv_at))
    yield


def _hold_to_declaration(chk: Check, produced: list[Finding]) -> None:
    problems = outside_declaration(chk, produced)
    if problems:
        raise AssertionError("findings outside their @check declaration (declare the kind, or fix the key): "
                             + "; ".join(problems[:10]))


@pytest.fixture(autouse=True)
def _audit_check_declarations() -> Iterator[None]:
    token = AUDIT.set(_hold_to_declaration)
    yield
    AUDIT.reset(token)
