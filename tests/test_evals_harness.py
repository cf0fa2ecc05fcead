"""The eval harness (evals/run.py) scores answers for real: with a scripted model that reads the check
findings it passes, with one that does not it fails, and every case's scenario is buildable."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai import models

from sre_expert.edges.agent.scripted import Script, call, last_tool_result

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def evals() -> Any:
    spec = importlib.util.spec_from_file_location("sre_expert_evals_run", ROOT / "evals" / "run.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(autouse=True)
def no_model_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", False)


def diligent(case: Any) -> Any:
    """Calls check, then names every root cause it was shown (code and object): what a good answer contains."""
    def answer(messages: list[Any]) -> str:
        body = last_tool_result(messages).split("\n", 1)[1].rsplit("\n", 1)[0]
        roots = [f for f in json.loads(body)["findings"] if f["rootCause"]]
        return "\n".join(f"- {f['code']} on {f['object']}: {f['title']}" for f in roots)

    return Script([call("check"), answer]).model()


def careless(case: Any) -> Any:
    return Script(["Everything looks fine to me."]).model()


def test_cases_file_is_valid_and_covers_demo_and_synth(evals: Any) -> None:
    cases = evals.load_cases()
    assert {c.source for c in cases} == {"demo", "synth"}
    assert len({c.id for c in cases}) == len(cases) >= 8
    assert all(c.must_include for c in cases)


def test_scoring(evals: Any) -> None:
    assert evals.score("Root cause: POD-OOMKILLED on StatefulSet mongodb", ["pod-oomkilled", "MongoDB"]) == []
    assert evals.score("mongodb restarts", ["POD-OOMKILLED", "mongodb"]) == ["POD-OOMKILLED"]


def test_harness_passes_a_diligent_agent_and_fails_a_careless_one(evals: Any) -> None:
    cases = [c for c in evals.load_cases() if c.id in ("demo-mongodb-restarts", "demo-secrets-staging",
                                                       "synth-api-crashloop")]
    assert len(cases) == 3
    out = io.StringIO()
    good = evals.run_evals(cases, diligent, out=out)
    assert good["passRate"] == 1.0, out.getvalue()
    assert all(r["turns"] == 2 and r["error"] is None for r in good["results"])
    assert "pass rate 3/3 (100%)" in out.getvalue()

    out = io.StringIO()
    bad = evals.run_evals(cases, careless, out=out)
    assert bad["passRate"] == 0.0 and bad["passed"] == 0
    assert "FAIL demo-mongodb-restarts" in out.getvalue() and "missing ['POD-STORAGE-CORRUPTION', 'mongodb']" in out.getvalue()


def test_without_a_model_the_run_is_skipped_and_says_why(evals: Any, monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for var in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "SRE_EXPERT_MODEL", "SRE_EXPERT_PROVIDER", "SRE_EXPERT_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert evals.main([]) == 0
    err = capsys.readouterr().err
    assert err.startswith("evals skipped:") and "ANTHROPIC_API_KEY" in err
