"""Packaging: the base install runs the offline commands; a command whose extra is missing exits 2 with one line
naming the extra. A missing package is simulated in a subprocess by a meta-path finder that refuses it, the way
Python behaves when the distribution is not installed (the test environment has every extra)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sre_expert.edges.extras import EXTRA_MODULES, missing_extra

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]

_BLOCKER = """
import sys
BLOCKED = set(sys.argv[1].split(","))
class _NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _NotInstalled())
del sys.argv[1]
"""

# every top-level module the optional extras bring, the heavy transitive ones included (pydantic is not one:
# typer, a base dependency, requires it)
ALL_OPTIONAL = sorted({m for mods in EXTRA_MODULES.values() for m in mods} | {"anthropic", "openai", "sse_starlette"})


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SRE_EXPERT_")}
    env.update(PYTHONPATH=str(ROOT / "src"), NO_COLOR="1", COLUMNS="200", HOME=str(ROOT / "tests" / "data"),
               XDG_CONFIG_HOME="/nonexistent", XDG_STATE_HOME="/nonexistent")
    return env


def _run(blocked: list[str], code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _BLOCKER + code, ",".join(blocked), *args], cwd=ROOT,
                          env=_env(), capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)


def _cli(blocked: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    code = "from sre_expert.edges.cli.main import main\nsys.argv[0] = 'sre-expert'\nmain()\n"
    return _run(blocked, code, *args)


def test_the_blocker_simulates_a_missing_package() -> None:
    """The premise of the tests below: with the blocker, the import fails as if the package were absent."""
    r = _run(["fastapi"], "import fastapi\n")
    assert r.returncode == 1 and "ModuleNotFoundError: No module named 'fastapi'" in r.stderr


def test_extras_present_in_the_test_install() -> None:
    """`[test]` pulls every extra: none is reported missing here."""
    assert {e: missing_extra(e, "x") for e in EXTRA_MODULES} == dict.fromkeys(EXTRA_MODULES)


def test_only_the_serve_agent_and_mcp_edges_need_an_extra() -> None:
    """Every product module imports without any optional package, except the edges that are the extras."""
    code = """
import importlib, pkgutil, sre_expert
for m in pkgutil.walk_packages(sre_expert.__path__, "sre_expert."):
    try:
        importlib.import_module(m.name)
    except ModuleNotFoundError as e:
        print(m.name, e.name)
"""
    r = _run(ALL_OPTIONAL, code)
    assert r.returncode == 0, r.stderr
    failed = dict(line.split() for line in r.stdout.splitlines())
    assert "sre_expert.edges.webhook.app" in failed  # the blocker reached the product
    outside = {m: dep for m, dep in failed.items()
               if not m.startswith(("sre_expert.edges.webhook.", "sre_expert.edges.mcp_server"))}
    assert outside == {}


@pytest.mark.parametrize("args, code", [
    (["check", "--demo", "-o", "json"], 1),
    (["trace", "deploy/mycure-production/api", "--demo"], None),
    (["component", "--demo"], None),
    (["dr", "status", "--demo"], None),
    (["lint", "examples/platform-repo", "-o", "json"], None),
    (["rules"], 0),
    (["runbook", "list"], 0),
    (["guard", "classify", "kubectl get pods -n mycure-production"], 0),
    (["bundle", "serve", "--help"], 0),
])
def test_base_commands_run_without_any_extra(args: list[str], code: int | None) -> None:
    r = _cli(ALL_OPTIONAL, *args)
    assert "Traceback" not in r.stderr and "needs the optional" not in r.stderr, r.stderr
    assert r.returncode in ((0, 1) if code is None else (code,)), r.stderr
    assert r.stdout.strip()


@pytest.mark.parametrize("extra, args", [
    ("serve", ["serve", "--demo", "--insecure-no-auth"]),
    ("mcp", ["mcp", "--demo"]),
    ("agent", ["ask", "why is api.mycureapp.com down?", "--demo"]),
    ("agent", ["chat", "--demo"]),
])
def test_a_missing_extra_is_one_line_and_exit_2(extra: str, args: list[str]) -> None:
    r = _cli([EXTRA_MODULES[extra][0]], *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert f"pip install 'sre-expert[{extra}]'" in lines[0]
    assert f"{EXTRA_MODULES[extra][0]} not installed" in lines[0]


def test_serve_reports_every_missing_module_of_its_extra() -> None:
    r = _cli(["prometheus_client", "uvicorn"], "serve", "--demo", "--insecure-no-auth")
    assert r.returncode == 2
    assert "(uvicorn, prometheus_client not installed)" in r.stderr
