#!/usr/bin/env python3
"""Redaction: leaks and over-redaction on tests/data/redaction_corpus.yaml, per approach, and the cost
per MB of log text.

    PYTHONPATH=src python benchmarks/bench_redact.py [--runs 5] [--mb 2]

Approaches compared (the libraries only when importable; neither is a dependency):
  rules           sre_expert.safety.redact (knowledge/redaction.yaml + the structural text passes)
  detect-secrets  Yelp's detect-secrets 1.5.0 (`pip install detect-secrets==1.5.0`), every default plugin
                  as a detector over each line, eager search and verification off; each value it
                  reports is replaced wherever it occurs.
  combined        rules, then detect-secrets over what is left.
  datafog         DataFog 4.9.0's regex engine (`pip install datafog==4.9.0`: pydantic only, offline).
  rules+datafog   rules, then DataFog.

Definitions (the same as tests/test_redact.py::test_corpus_totals_zero_leaks_and_at_most_two_percent_over_redaction):
  leak            a `leak` substring of a case that is still in the output (counted per substring)
  over-redaction  (keep substrings lost + look-alike cases changed) / (keep substrings + look-alike cases)
Cost: CPU seconds per MB of the demo's pod logs (repeated up to --mb MB), median of --runs runs.

Last run (2-core shared machine, 2026-12-06; 188 cases: 189 leak substrings in 134 cases, 221 keeps + 54
look-alikes = 275 things that must stay; cost over 1 MB, CPU time, median of 3):

  approach            leaks  leak-cases   over-redaction    s/MB
  rules (before)         85          61     1/275 = 0.4%    0.59   (main before issue 12, 5 runs of 2 MB)
  rules (after)           0           0     0/275 = 0.0%    0.78   (0.77 over 5 runs of 2 MB)
  detect-secrets        156         115     6/275 = 2.2%    6.91
  rules+detect-secrets    0           0     3/275 = 1.1%    7.65
  datafog (regex)       154         111   32/275 = 11.6%    0.81
  rules+datafog           0           0   23/275 = 8.4%    1.59

detect-secrets finds vendor tokens by shape (Stripe, SendGrid, Twilio, Discord, OpenAI...) but none of the
personal data, the Secret data values in pasted YAML/JSON or the passwords given by CLI flag, costs ~9x per
MB, and on top of our rules only adds over-redaction. DataFog (a light, offline PII library) finds e-mails,
phones and SSNs but no secrets, and redacts every IP address and date (the look-alikes an SRE needs). We
kept our own rules, no dependency, and wrote the missing token shapes and contexts into
knowledge/redaction.yaml (facts about token formats only, no code taken).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "redaction_corpus.yaml"


def score(redact: Callable[[str], str], cases: list[dict]) -> dict[str, int]:
    leaks = leak_cases = lost = changed = keeps = lookalikes = leak_total = 0
    for c in cases:
        out = redact(c["text"])
        missed = [s for s in c.get("leak", ()) if s in out]
        leaks += len(missed)
        leak_cases += bool(missed)
        leak_total += len(c.get("leak", ()))
        keeps += len(c.get("keep", ()))
        lost += sum(1 for k in c.get("keep", ()) if k not in out)
        if not c.get("leak"):
            lookalikes += 1
            changed += out != c["text"]
    return {"leaks": leaks, "leak_cases": leak_cases, "leak_total": leak_total, "over": lost + changed,
            "over_total": keeps + lookalikes}


def detect_secrets_redactor() -> Callable[[str], str] | None:
    """detect-secrets' own ad-hoc line scan, with eager search off (on, its entropy plugins report every
    word of a log line) and verification off (it would call the vendors' APIs)."""
    try:
        from detect_secrets.core import scan
        from detect_secrets.settings import default_settings, get_plugins, get_settings
        from detect_secrets.util.code_snippet import get_code_snippet
    except ImportError:
        return None

    def secrets_of(line: str) -> set[str]:
        context = get_code_snippet(lines=[line], line_number=1)
        out = set()
        for plugin in get_plugins():
            for s in scan._scan_line(plugin=plugin, filename="evidence.log", line=line, line_number=0,
                                     enable_eager_search=False, context=context):
                if s.secret_value and not scan._is_filtered_out(
                        required_filter_parameters=["context"], filename=s.filename, secret=s.secret_value,
                        plugin=plugin, line=line, context=context):
                    out.add(s.secret_value)
        return out

    def redact(text: str) -> str:
        found: set[str] = set()
        with default_settings():
            get_settings().disable_filters("detect_secrets.filters.common.is_invalid_file",
                                           "detect_secrets.filters.common.is_ignored_due_to_verification_policies")
            for line in text.splitlines():
                found |= secrets_of(line)
        for v in sorted(found, key=len, reverse=True):
            text = text.replace(v, "<redacted:ds#1>")
        return text

    return redact


def datafog_redactor() -> Callable[[str], str] | None:
    """DataFog's regex engine (PyPI `datafog`, its core install: pydantic only, offline; telemetry off)."""
    import os

    os.environ.setdefault("DATAFOG_NO_TELEMETRY", "1")
    try:
        import datafog
    except ImportError:
        return None
    return lambda text: datafog.redact(text, engine="regex").redacted_text


def log_text(mb: float) -> str:
    from sre_expert.sources.resolve import demo_path

    base = "".join(p.read_text() for p in sorted((demo_path() / "logs").rglob("*.log")))
    n = max(1, int(mb * 1024 * 1024 / max(1, len(base))))
    return base * n


def cost(redact: Callable[[str], str], text: str, runs: int) -> float:
    lines = text.splitlines(keepends=True)
    chunks = ["".join(lines[i:i + 200]) for i in range(0, len(lines), 200)]  # evidence is redacted in pieces
    times = []
    for _ in range(runs):  # CPU time: on a shared 2-core machine wall time mostly measures the neighbours
        t = time.process_time()
        for ch in chunks:
            redact(ch)
        times.append(time.process_time() - t)
    return statistics.median(times) / (len(text) / 1024 / 1024)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--mb", type=float, default=2.0)
    ap.add_argument("--only", choices=("rules", "detect-secrets", "combined", "datafog", "rules+datafog"),
                    help="measure one approach")
    args = ap.parse_args()
    cases = yaml.safe_load(CORPUS.read_text())["cases"]
    from sre_expert.safety.redact import redact as rules

    approaches: dict[str, Callable[[str], str]] = {"rules": rules}
    ds = detect_secrets_redactor()
    if ds is not None:
        approaches["detect-secrets"] = ds
        approaches["combined"] = lambda t: ds(rules(t))
    else:
        print("detect-secrets not installed: not measured", file=sys.stderr)
    df = datafog_redactor()
    if df is not None:
        approaches["datafog"] = df
        approaches["rules+datafog"] = lambda t: df(rules(t))
    else:
        print("datafog not installed: not measured", file=sys.stderr)
    if args.only:
        approaches = {k: v for k, v in approaches.items() if k == args.only}
    text = log_text(args.mb)
    print(f"{len(cases)} cases; cost over {len(text) / 1024 / 1024:.1f} MB of demo pod logs, median of {args.runs}")
    print(f"{'approach':16} {'leaks':>6} {'leak-cases':>11} {'over-redaction':>16} {'s/MB':>7}")
    for name, fn in approaches.items():
        s = score(fn, cases)
        over = f"{s['over']}/{s['over_total']} = {100 * s['over'] / s['over_total']:.1f}%"
        print(f"{name:16} {s['leaks']:>6} {s['leak_cases']:>11} {over:>16} {cost(fn, text, args.runs):>7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
