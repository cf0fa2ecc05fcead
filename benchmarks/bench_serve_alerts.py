#!/usr/bin/env python3
"""Benchmark `sre-expert serve`: webhook-to-report latency and sustained alert intake, on the demo, with one
replica on SQLite, one on PostgreSQL and two sharing PostgreSQL.

    python benchmarks/bench_serve_alerts.py [--runs 3] [--latency-runs 50] [--seconds 10] [--posters 8]
                                            [--workers 2] [--only sqlite,pg1,pg2] [--json]

Real `sre-expert serve --demo` subprocesses (uvicorn), each configuration on a fresh database: SQLite (WAL,
synchronous=FULL) or a throwaway PostgreSQL started by tests/pg_harness.py with fsync on (so both commit
to disk before the 200). Driven over HTTP with keep-alive connections, as Alertmanager would:

  latency     one alert posted (a new group each time, PodCrashLooping on a demo pod), then the record
              polled every 2 ms until done: p50/p95 of post → done, and of the POST alone (the commit)
  sustained   --posters threads post single-alert webhooks for --seconds (each a new group, so each
              opens an investigation), spread over the replicas as a Service would; alerts/s accepted,
              and how long the backlog takes to drain to done afterwards (investigations/s overall)

Each figure is the median of --runs. Numbers depend on the disk (fsync per webhook) and the two cores
shared by everything else, the replicas and PostgreSQL included.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from server_harness import start_serve, stop_serve  # noqa: E402

PODS = ("api-h2jfc4tw-xsn8x", "api-55wcnlhq-54cp4", "mongodb-0", "postgresql-0")


class Client:
    """One keep-alive connection."""

    def __init__(self, base: str, token: str):
        host, port = base.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        self.conn.request(method, path, body=data, headers=self.headers)
        resp = self.conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")


def alert(i: int, tag: str) -> dict[str, Any]:
    pod = PODS[i % len(PODS)]
    ns = "lfh-staging" if pod in ("api-h2jfc4tw-xsn8x", "postgresql-0") else "mycure-production"
    labels = {"alertname": "PodCrashLooping", "severity": "critical", "namespace": ns, "pod": pod, "bench": f"{tag}{i}"}
    return {"version": "4", "groupKey": f"{{}}:{{bench=\"{tag}{i}\"}}", "status": "firing", "receiver": "bench",
            "groupLabels": {"bench": f"{tag}{i}"}, "commonLabels": labels, "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "alerts": [{"status": "firing", "labels": labels, "annotations": {"summary": "crash looping"},
                        "startsAt": "2026-11-26T03:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                        "fingerprint": f"{tag}{i:08d}"}]}


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def latency(base: str, token: str, runs: int) -> dict[str, float]:
    c = Client(base, token)
    total, post = [], []
    for i in range(runs):
        t0 = time.perf_counter()
        status, doc = c.call("POST", "/api/v1/alerts", alert(i, "lat"))
        t1 = time.perf_counter()
        assert status == 200, doc
        inv = doc["investigations"][0]
        while True:
            status, rec = c.call("GET", f"/api/v1/investigations/{inv}")
            if rec["status"] in ("done", "failed"):
                break
            time.sleep(0.002)
        assert rec["status"] == "done", rec
        total.append(time.perf_counter() - t0)
        post.append(t1 - t0)
    return {"post_p50_ms": statistics.median(post) * 1e3, "post_p95_ms": pct(post, 95) * 1e3,
            "report_p50_ms": statistics.median(total) * 1e3, "report_p95_ms": pct(total, 95) * 1e3}


def sustained(bases: list[str], token: str, seconds: float, posters: int) -> dict[str, float]:
    """Poster k posts to replica k mod len(bases): one keep-alive connection each, as a Service pins a
    connection to one pod."""
    stop = time.monotonic() + seconds
    counts = [0] * posters
    errors = [0] * posters

    def run(k: int) -> None:
        c = Client(bases[k % len(bases)], token)
        i = 0
        while time.monotonic() < stop:
            status, _ = c.call("POST", "/api/v1/alerts", alert(k * 10_000_000 + i, "sus"))
            i += 1
            if status == 200:
                counts[k] += 1
            else:
                errors[k] += 1

    threads = [threading.Thread(target=run, args=(k,)) for k in range(posters)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - t0
    accepted = sum(counts)
    c = Client(bases[0], token)
    t1 = time.perf_counter()
    while True:
        q = c.call("GET", "/api/v1/investigations?status=queued&limit=1")[1]["total"]
        r = c.call("GET", "/api/v1/investigations?status=running&limit=1")[1]["total"]
        if q == r == 0:
            break
        time.sleep(0.05)
    drain = time.perf_counter() - t1
    done = c.call("GET", "/api/v1/investigations?status=done&limit=1")[1]["total"]
    return {"alerts_accepted": accepted, "errors": sum(errors), "alerts_per_s": accepted / took,
            "drain_s": drain, "investigations_done": done,
            "investigations_per_s": done / (took + drain)}


CONFIGS = {"sqlite": ("SQLite", 1), "pg1": ("PostgreSQL", 1), "pg2": ("PostgreSQL", 2)}


def one_run(config: str, tmp: Path, run: int, args: argparse.Namespace, pg: Any) -> dict[str, Any]:
    """Start the replicas of `config` on a fresh database, measure, stop them."""
    engine, replicas = CONFIGS[config]
    db = str(tmp / f"{config}-{run}.db") if engine == "SQLite" else pg.create_database(f"bench_{config}_{run}")
    token = "bench-" + "x" * 32
    procs, bases = [], []
    try:
        for _ in range(replicas):
            base, _, proc = start_serve(db, args=("--demo", "--workers", str(args.workers)), token=token)
            procs.append(proc)
            bases.append(base)
        lat = latency(bases[0], token, args.latency_runs)
        sus = sustained(bases, token, args.seconds, args.posters)
    finally:
        for proc in procs:
            stop_serve(proc)
    return {**lat, **sus}


def median_of(runs: list[dict[str, Any]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--latency-runs", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--posters", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", default="sqlite,pg1,pg2", help="configurations, comma-separated: sqlite, pg1, pg2")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    configs = [c.strip() for c in args.only.split(",") if c.strip()]
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        ap.error(f"unknown configuration {', '.join(unknown)} (sqlite, pg1, pg2)")
    pg = None
    if any(CONFIGS[c][0] == "PostgreSQL" for c in configs):
        from pg_harness import PgServer  # tests/pg_harness.py

        pg = PgServer(fsync=True)
        pg.start()
    results: dict[str, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for config in configs:
                runs = [one_run(config, Path(tmp), r, args, pg) for r in range(args.runs)]
                results[config] = median_of(runs)
    finally:
        if pg is not None:
            pg.stop()
    if args.json:
        print(json.dumps({"loadavg": os.getloadavg()[0], "results": results}, indent=2))
        return 0
    load = os.getloadavg()[0]
    print(f"sre-expert serve --demo, {args.workers} workers per replica; medians of {args.runs} runs; "
          f"{os.cpu_count()} CPUs, load average {load:.1f} at the end")
    print(f"latency: {args.latency_runs} alerts one at a time; sustained: {args.posters} posters for "
          f"{args.seconds:.0f} s, each alert a new group")
    print()
    print(f"{'database':<12}{'replicas':>9}{'POST p50':>10}{'done p50':>10}{'done p95':>10}"
          f"{'alerts/s':>10}{'drain s':>9}{'inv/s':>8}{'errors':>8}")
    for config, m in results.items():
        engine, replicas = CONFIGS[config]
        print(f"{engine:<12}{replicas:>9}{m['post_p50_ms']:>8.1f}ms{m['report_p50_ms']:>8.1f}ms"
              f"{m['report_p95_ms']:>8.1f}ms{m['alerts_per_s']:>10.0f}{m['drain_s']:>9.1f}"
              f"{m['investigations_per_s']:>8.0f}{m['errors']:>8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
