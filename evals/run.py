"""Evaluate the agent: questions over scenario bundles, scored on the facts the answer must contain.

    python evals/run.py                    # every case against the configured model (skipped without one)
    python evals/run.py --case demo-node   # one case
    python evals/run.py --json out.json    # also write the results

The model comes from the same settings as `sre-expert ask` (ANTHROPIC_API_KEY, SRE_EXPERT_MODEL, …). With
none configured the run is skipped and says why (exit 0). Each case runs read-only (no command is ever
approved), with the default agent definition. Reported: pass rate, tokens, latency per case and in total.
A case passes when every `must_include` string appears in the answer (case-insensitive).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

# synth, the platform builder, is test support (tests/synth), not part of the installed package
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

HERE = Path(__file__).resolve().parent
NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)


def _crashloop_api(b: Any) -> None:
    from synth import faults

    faults.crashloop(b, b.workload("Deployment", "mycure-production", "api").pods[0],
                     previous_log="MongoServerSelectionError: connect ECONNREFUSED 10.0.3.7:27017\n")


def _image_pull_staging_api(b: Any) -> None:
    from synth import faults

    faults.image_pull_backoff(b, b.workload("Deployment", "lfh-staging", "api"))


def _oom_api(b: Any) -> None:
    from synth import faults

    faults.oomkilled(b, b.workload("Deployment", "mycure-production", "api").pods[0])


FAULTS: dict[str, Callable[[Any], None]] = {
    "crashloop-api": _crashloop_api,
    "image-pull-staging-api": _image_pull_staging_api,
    "oom-api": _oom_api,
}


@dataclass
class Case:
    id: str
    source: str
    question: str
    must_include: list[str]
    faults: list[str] = field(default_factory=list)


@dataclass
class CaseResult:
    id: str
    passed: bool
    missing: list[str]
    seconds: float
    turns: int
    input_tokens: int
    output_tokens: int
    limit_reached: bool
    error: str | None = None
    answer: str = ""


def load_cases(path: Path = HERE / "cases.yaml") -> list[Case]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = []
    for raw in doc["cases"]:
        c = Case(raw["id"], raw["source"], raw["question"], list(raw["must_include"]), list(raw.get("faults", [])))
        if c.source not in ("demo", "synth"):
            raise ValueError(f"{path}: case {c.id}: source must be demo or synth")
        unknown = [f for f in c.faults if f not in FAULTS]
        if unknown:
            raise ValueError(f"{path}: case {c.id}: unknown fault {unknown}; known: {sorted(FAULTS)}")
        cases.append(c)
    return cases


def snapshot_for(case: Case) -> Any:
    """The scenario's snapshot, loaded the way a user's bundle is (synth platforms are written as a bundle)."""
    from sre_expert.sources.bundle_reader import load_bundle
    from sre_expert.sources.resolve import demo_path

    if case.source == "demo":
        return load_bundle(demo_path())
    from synth.builder import PlatformBuilder
    from synth.bundle_writer import write_bundle
    from synth.platform import healthy_platform

    b = healthy_platform(PlatformBuilder(NOW))
    for name in case.faults:
        FAULTS[name](b)
    with tempfile.TemporaryDirectory(prefix="sre-expert-eval-") as tmp:
        return load_bundle(write_bundle(b, Path(tmp) / "bundle"))


def score(answer: str, must_include: list[str]) -> list[str]:
    """The expected facts missing from the answer (case-insensitive); empty means the case passes."""
    low = answer.lower()
    return [fact for fact in must_include if fact.lower() not in low]


def run_case(case: Case, model: Any, *, max_turns: int = 30, workdir: Path | None = None) -> CaseResult:
    """One case, read-only, with the default definition; a failure of the run is a failed case, not a crash."""
    from sre_expert.edges.agent.boundary import Boundary, Transcript
    from sre_expert.edges.agent.definition import load_definition
    from sre_expert.edges.agent.loop import AgentSession, DenyingApprover, findings_summary
    from sre_expert.edges.agent.tools import AgentTools
    from sre_expert.edges.apiserver.sandbox import KubectlSandbox
    from sre_expert.edges.toolbox import Toolbox
    from sre_expert.safety.audit import AuditLog

    snap = snapshot_for(case)
    work = workdir or Path(tempfile.mkdtemp(prefix="sre-expert-eval-"))
    sandbox = KubectlSandbox.start(snap)
    started = time.monotonic()
    try:
        toolbox = Toolbox(lambda: snap)
        boundary = Boundary()
        tools = AgentTools(toolbox, boundary, AuditLog(work / f"{case.id}.audit.log"), read_only=True,
                           bash_env=sandbox.env, kube_context="sre-expert-bundle")
        session = AgentSession(load_definition(), model, tools, max_turns=max_turns,
                               transcript=Transcript(work / f"{case.id}.jsonl", boundary),
                               fallback=lambda: findings_summary(toolbox.report()),
                               extra_instructions="This session is read-only.")
        step = session.ask(case.question, DenyingApprover(out=io.StringIO()))
        answer = step.answer or ""
        missing = score(answer, case.must_include)
        return CaseResult(case.id, not missing, missing, round(time.monotonic() - started, 2), step.turns,
                          step.input_tokens, step.output_tokens, step.limit_reached, None, answer)
    except Exception as e:  # a provider error fails the case and the report says why
        return CaseResult(case.id, False, list(case.must_include), round(time.monotonic() - started, 2), 0, 0, 0,
                          False, f"{type(e).__name__}: {e}")
    finally:
        sandbox.close()


def run_evals(cases: list[Case], model_for: Callable[[Case], Any], *, max_turns: int = 30,
              out: Any = sys.stdout) -> dict[str, Any]:
    """Run every case; print one line per case and the totals; return the summary (JSON-ready)."""
    results = []
    for case in cases:
        r = run_case(case, model_for(case), max_turns=max_turns)
        results.append(r)
        status = "PASS" if r.passed else "FAIL"
        detail = f" missing {r.missing}" if r.missing and not r.error else ""
        detail += f" error: {r.error}" if r.error else ""
        out.write(f"{status} {case.id:28} {r.seconds:6.1f}s {r.turns:2} turns "
                  f"{r.input_tokens:>7}+{r.output_tokens:<6} tokens{detail}\n")
    n = len(results)
    passed = sum(r.passed for r in results)
    summary = {
        "cases": n, "passed": passed, "passRate": round(passed / n, 3) if n else 0.0,
        "inputTokens": sum(r.input_tokens for r in results), "outputTokens": sum(r.output_tokens for r in results),
        "seconds": round(sum(r.seconds for r in results), 2),
        "medianSeconds": sorted(r.seconds for r in results)[n // 2] if n else 0.0,
        "results": [asdict(r) for r in results],
    }
    out.write(f"pass rate {passed}/{n} ({summary['passRate']:.0%}); tokens {summary['inputTokens']} in + "
              f"{summary['outputTokens']} out; {summary['seconds']}s total, median {summary['medianSeconds']}s per case\n")
    return summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--case", action="append", help="Run only this case id (repeatable).")
    p.add_argument("--model", help="Model (as for sre-expert ask --model).")
    p.add_argument("--config", help="Config file (as for sre-expert ask --config).")
    p.add_argument("--max-turns", type=int, default=30)
    p.add_argument("--json", help="Write the summary to this file.")
    args = p.parse_args(argv)

    from sre_expert.edges.agent.definition import load_definition
    from sre_expert.edges.agent.models import (
        ModelConfigError,
        NoModelConfigured,
        build_model,
        load_config,
        resolve_settings,
    )

    cases = load_cases()
    if args.case:
        unknown = set(args.case) - {c.id for c in cases}
        if unknown:
            print(f"unknown case(s): {sorted(unknown)}", file=sys.stderr)
            return 2
        cases = [c for c in cases if c.id in args.case]
    try:
        settings = resolve_settings(cli_model=args.model, definition_model=load_definition().model,
                                    config=load_config(args.config))
    except NoModelConfigured as e:
        print(f"evals skipped: {e}", file=sys.stderr)
        return 0
    except ModelConfigError as e:
        print(f"evals: {e}", file=sys.stderr)
        return 2
    model = build_model(settings)
    print(f"{len(cases)} case(s) against {settings.describe()}")
    summary = run_evals(cases, lambda case: model, max_turns=args.max_turns)
    summary["model"] = settings.describe()
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
