#!/usr/bin/env python3
"""Benchmark the live source: a sweep of a large synthetic cluster served by `sre-expert bundle serve`,
against reading the same bundle directly.

    python benchmarks/bench_live.py [BUNDLE_DIR] [--runs 3] [--big] [--workers 8] [--collect] [--json]

With no BUNDLE_DIR a bundle is generated with benchmarks/generate.py into a temporary directory:
2,000 pods / 100 namespaces / 6,000 events by default (quick), or with --big the 10,000-pod /
500-namespace / 30,000-event bundle of bench_check.py (--pods/--namespaces/--events override).

The API server is `sre-expert bundle serve DIR -q` in its own process (so its JSON encoding does not
share the client's interpreter lock), started once; its kubeconfig is what the sweep uses, through the
official kubernetes client exactly as against a cluster. Each measurement runs in a fresh interpreter,
modes interleaved run by run, median of --runs:

  (a) direct   load_bundle(DIR): the Snapshot from the files
  (b) live     sweep (discovery, one paginated LIST per kind, logs of unhealthy containers) + Snapshot
  (c) collect  (with --collect) the sweep written as a .tar.gz by `bundle collect`'s writer

Reported: wall and CPU seconds, objects, requests (discovery + lists + logs), pages, bytes on the
wire, and the live/direct ratio. Loopback has no network latency or API-server work (etcd, auth,
admission), so on a real cluster the list requests cost more; the request count is the portable figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


# ---------------------------------------------------------------------------------------------------
# Worker side: one measurement in a fresh interpreter; prints one JSON line.
# ---------------------------------------------------------------------------------------------------
def _worker(mode: str, bundle: str, kubeconfig: str, workers: int, out_dir: str) -> dict[str, Any]:
    t0, c0 = time.perf_counter(), time.process_time()
    if mode == "direct":
        from sre_expert.sources.bundle_reader import load_bundle

        snap = load_bundle(bundle)
        objects = sum(snap.count(k) for k in snap.kinds())
        return {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "objects": objects}
    from sre_expert.sources.live import LiveOptions, sweep

    result = sweep(LiveOptions(kubeconfig=kubeconfig, workers=workers))
    t_sweep = time.perf_counter() - t0
    out: dict[str, Any] = {"sweep": t_sweep, "objects": result.object_count, "requests": result.requests,
                           "pages": result.pages, "bytes": result.bytes, "logs": len(result.logs),
                           "retried": result.retried, "errors": len(result.errors)}
    if mode == "live":
        result.snapshot()
    else:
        from sre_expert.sources.bundle_writer import write_bundle

        path, size = write_bundle(result, Path(out_dir) / f"collect-{os.getpid()}.tar.gz")
        out["archive_bytes"] = path.stat().st_size
        out["uncompressed_bytes"] = size
        path.unlink()
    out["wall"] = time.perf_counter() - t0
    out["cpu"] = time.process_time() - c0
    return out


# ---------------------------------------------------------------------------------------------------
# Driver side
# ---------------------------------------------------------------------------------------------------
def _exe() -> str:
    return shutil.which("sre-expert", path=str(Path(sys.executable).parent)) or "sre-expert"


def _start_server(bundle: Path, kubeconfig: Path, timeout: float = 300.0) -> subprocess.Popen[bytes]:
    """`sre-expert bundle serve` in its own process; returns once /version answers."""
    import urllib.request

    import yaml

    proc = subprocess.Popen([_exe(), "bundle", "serve", str(bundle), "--write-kubeconfig", str(kubeconfig), "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"bundle serve exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
        if kubeconfig.is_file():
            try:
                server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
                with urllib.request.urlopen(server + "/version", timeout=2) as r:
                    if r.status == 200:
                        return proc
            except Exception:  # not written completely or not listening yet
                pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("bundle serve did not come up in time")


def _run_worker(mode: str, bundle: Path, kubeconfig: Path, workers: int, out_dir: Path) -> dict[str, Any]:
    r = subprocess.run([sys.executable, __file__, "--_worker", mode, str(bundle), str(kubeconfig), str(workers),
                        str(out_dir)], capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        raise SystemExit(f"worker {mode} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def _median(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bundle", nargs="?", help="bundle directory (generated into a temp dir when omitted)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--big", action="store_true", help="10,000 pods / 500 namespaces / 30,000 events")
    ap.add_argument("--pods", type=int)
    ap.add_argument("--namespaces", type=int)
    ap.add_argument("--events", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=8, help="concurrent requests of the sweep")
    ap.add_argument("--collect", action="store_true", help="also time writing the sweep as a .tar.gz")
    ap.add_argument("--keep", action="store_true", help="keep the generated bundle")
    ap.add_argument("--json", action="store_true", help="print machine-readable results only")
    ap.add_argument("--_worker", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args._worker:
        mode, bundle, kc, workers, out_dir = args._worker
        print(json.dumps(_worker(mode, bundle, kc, int(workers), out_dir)))
        return 0

    pods = args.pods or (10_000 if args.big else 2_000)
    namespaces = args.namespaces or (500 if args.big else 100)
    events = args.events or (30_000 if args.big else 6_000)
    tmp = Path(tempfile.mkdtemp(prefix="bench-live-"))
    try:
        if args.bundle:
            bundle = Path(args.bundle)
        else:
            bundle = tmp / "bundle"
            say = (lambda m: None) if args.json else (lambda m: print(m, file=sys.stderr, flush=True))
            say(f"generating {pods:,} pods / {namespaces} namespaces / {events:,} events into {bundle} ...")
            subprocess.run([sys.executable, str(HERE / "generate.py"), "--out", str(bundle), "--pods", str(pods),
                            "--namespaces", str(namespaces), "--events", str(events), "--seed", str(args.seed)],
                           check=True, stdout=subprocess.DEVNULL if args.json else sys.stderr)
        size = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())
        for p in bundle.rglob("*.json"):  # page cache: every mode reads warm files
            p.read_bytes()
        kc = tmp / "kubeconfig"
        t0 = time.perf_counter()
        server = _start_server(bundle, kc)
        server_start = time.perf_counter() - t0
        try:
            modes = ["direct", "live"] + (["collect"] if args.collect else [])
            rows: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
            for _ in range(args.runs):
                for m in modes:
                    rows[m].append(_run_worker(m, bundle, kc, args.workers, tmp))
        finally:
            server.terminate()
            server.wait(timeout=30)
        live = rows["live"][-1]
        result: dict[str, Any] = {
            "bundle": str(bundle), "bundle_bytes": size, "runs": args.runs, "workers": args.workers,
            "server_start_seconds": round(server_start, 2),
            "direct": {"wall": _median(rows["direct"], "wall"), "cpu": _median(rows["direct"], "cpu"),
                       "objects": rows["direct"][-1]["objects"]},
            "live": {"wall": _median(rows["live"], "wall"), "cpu": _median(rows["live"], "cpu"),
                     "sweep": _median(rows["live"], "sweep"), "objects": live["objects"], "requests": live["requests"],
                     "pages": live["pages"], "bytes": live["bytes"], "logs": live["logs"], "retried": live["retried"],
                     "errors": live["errors"]},
        }
        result["ratio_live_direct"] = result["live"]["wall"] / result["direct"]["wall"]
        if args.collect:
            c = rows["collect"]
            result["collect"] = {"wall": _median(c, "wall"), "archive_bytes": c[-1]["archive_bytes"],
                                 "uncompressed_bytes": c[-1]["uncompressed_bytes"]}
        if args.json:
            print(json.dumps(result, indent=2))
            return 0
        d, lv = result["direct"], result["live"]
        print(f"bundle {bundle} ({size / 1e6:,.1f} MB, {d['objects']:,} objects); server up in {server_start:.1f} s")
        print(f"  direct  load_bundle              {d['wall']:6.2f} s wall  {d['cpu']:6.2f} s cpu")
        print(f"  live    sweep + snapshot         {lv['wall']:6.2f} s wall  {lv['cpu']:6.2f} s cpu"
              f"   (sweep alone {lv['sweep']:.2f} s, {args.workers} workers)")
        print(f"          {lv['objects']:,} objects, {lv['requests']:,} requests = discovery + {lv['pages']:,} list pages"
              f" + {lv['logs']:,} logs; {lv['bytes'] / 1e6:,.1f} MB on the wire; {lv['retried']} retried,"
              f" {lv['errors']} collection errors")
        print(f"  ratio   live / direct            {result['ratio_live_direct']:.2f}x")
        if args.collect:
            c = result["collect"]
            print(f"  collect sweep + write .tar.gz    {c['wall']:6.2f} s wall   "
                  f"({c['uncompressed_bytes'] / 1e6:,.1f} MB -> {c['archive_bytes'] / 1e6:,.1f} MB gzip)")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
