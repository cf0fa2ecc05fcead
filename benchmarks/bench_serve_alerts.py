#!/usr/bin/env python3
"""Benchmark `sre-expert serve`: webhook-to-report latency and sustained alert intake, on the demo.

    python benchmarks/bench_serve_alerts.py [--latency-runs 50] [--seconds 10] [--posters 8] [--workers 2] [--json]

A real `sre-expert serve --demo` subprocess (uvicorn) on a fresh SQLite file (WAL, synchronous=FULL),
driven over HTTP with keep-alive connections, as Alertmanager would:

  latency     one alert posted (a new group each time, PodCrashLooping on a demo pod), then the record
              polled every 2 ms until done: p50/p95 of post → done, and of the POST alone (the commit)
  sustained   --posters threads post single-alert webhooks for --seconds (each a new group, so each
              opens an investigation); alerts/s accepted, and how long the backlog takes to drain
              to done afterwards (investigations/s)

Numbers depend on the disk (fsync per webhook) and the two cores shared with everything else.
"""

from __future__ import annotations

import argparse
import http.client
import json
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


def sustained(base: str, token: str, seconds: float, posters: int) -> dict[str, float]:
    stop = time.monotonic() + seconds
    counts = [0] * posters
    errors = [0] * posters

    def run(k: int) -> None:
        c = Client(base, token)
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
    c = Client(base, token)
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--latency-runs", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--posters", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base, token, proc = start_serve(Path(tmp) / "bench.db", args=("--demo", "--workers", str(args.workers)))
        try:
            lat = latency(base, token, args.latency_runs)
            sus = sustained(base, token, args.seconds, args.posters)
        finally:
            stop_serve(proc)
    if args.json:
        print(json.dumps({"latency": lat, "sustained": sus}, indent=2))
        return 0
    print(f"webhook → report (demo, {args.latency_runs} alerts, one at a time):")
    print(f"  POST (committed)   p50 {lat['post_p50_ms']:7.1f} ms   p95 {lat['post_p95_ms']:7.1f} ms")
    print(f"  POST → done        p50 {lat['report_p50_ms']:7.1f} ms   p95 {lat['report_p95_ms']:7.1f} ms")
    print(f"sustained ({args.posters} posters, {args.seconds:.0f} s, {args.workers} workers, each alert a new group):")
    print(f"  accepted           {sus['alerts_accepted']} alerts, {sus['alerts_per_s']:.0f} alerts/s, "
          f"{sus['errors']} errors")
    print(f"  backlog drained in {sus['drain_s']:.1f} s after the burst; {sus['investigations_done']} investigations "
          f"done, {sus['investigations_per_s']:.0f}/s overall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
