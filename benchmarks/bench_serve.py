#!/usr/bin/env python3
"""Benchmark `bundle serve`: how fast the read-only API answers what kubectl asks on a large bundle.

    python benchmarks/bench_serve.py [BUNDLE_DIR] [--runs 5] [--json]

With no BUNDLE_DIR a bundle is generated into a temporary directory with benchmarks/generate.py
(10,000 pods, 500 namespaces, 30,000 events). The server runs in this process, as in the tests; HTTP
requests go over one keep-alive connection (as kubectl's do); figures include sending the answer and
parsing it with orjson (with the cyclic GC off, as load_bundle does: with it on, parsing 40 MB of pods
costs the client 10x the server's time). Each figure is the median of --runs.

  startup          load_bundle + index the served resources (BundleAPI)
  list pods json   GET /api/v1/pods (every pod, one answer)
  list pods table  GET /api/v1/pods as a Table (what `kubectl get pods -A` asks, without paging)
  page pods 500    every page of /api/v1/pods?limit=500 (kubectl's default chunking), Table
  label selector   GET /api/v1/pods?labelSelector=app.kubernetes.io/name in (api,mongodb)
  describe events  GET one namespace's events by involvedObject field selector (kubectl describe pod)
  kubectl get -A   `kubectl get pods -A` end to end (discovery cache warm), if kubectl is installed
  kubectl describe `kubectl describe pod` of a crash-looping pod, end to end
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


def median_time(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bundle", nargs="?")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    tmp = None
    bundle = args.bundle
    if not bundle:
        tmp = tempfile.mkdtemp(prefix="bench-serve-")
        bundle = os.path.join(tmp, "bundle")
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--out", bundle], check=True,
                       stdout=subprocess.DEVNULL)

    from sre_expert.edges.apiserver import start_server
    from sre_expert.edges.apiserver.api import BundleAPI
    from sre_expert.edges.apiserver.kubeconfig import write_kubeconfig
    from sre_expert.sources.bundle_reader import load_bundle

    results: dict[str, Any] = {}
    t = time.perf_counter()
    snap = load_bundle(bundle)
    load = time.perf_counter() - t
    t = time.perf_counter()
    BundleAPI(snap)
    results["startup s"] = {"load_bundle": round(load, 3), "index": round(time.perf_counter() - t, 3)}
    pods = snap.list("Pod")
    results["objects"] = {"pods": len(pods), "events": snap.count("Event"),
                          "all": sum(snap.count(k) for k in snap.kinds())}

    gc.disable()
    handle = start_server(snap)
    conn = http.client.HTTPConnection(handle.host, handle.port, timeout=120)

    def get(path: str, accept: str = "application/json") -> dict[str, Any]:
        conn.request("GET", path, headers={"Accept": accept})
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError(f"{path}: {r.status} {body[:200]!r}")
        return {"bytes": len(body), "doc": orjson.loads(body)}  # orjson: time the server, not the parser

    def walk() -> int:
        token, n = "", 0
        while True:
            doc = get("/api/v1/pods?limit=500" + (f"&continue={urllib.parse.quote(token)}" if token else ""), TABLE)["doc"]
            n += 1
            token = doc["metadata"].get("continue", "")
            if not token:
                return n

    crashing = next((p for p in pods if any((c.get("state") or {}).get("waiting", {}).get("reason") == "CrashLoopBackOff"
                                            for c in (p.get("status") or {}).get("containerStatuses") or ())), pods[0])
    md = crashing["metadata"]
    sel = urllib.parse.quote(f"involvedObject.namespace={md['namespace']},involvedObject.uid={md['uid']},"
                             f"involvedObject.name={md['name']}")
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("list pods json", lambda: get("/api/v1/pods")["bytes"]),
        ("list pods table", lambda: get("/api/v1/pods", TABLE)["bytes"]),
        ("page pods 500", walk),
        ("label selector", lambda: len(get("/api/v1/pods?labelSelector="
                                           + urllib.parse.quote("app.kubernetes.io/name in (api,mongodb)"))["doc"]["items"])),
        ("describe events", lambda: len(get(f"/api/v1/namespaces/{md['namespace']}/events"
                                            f"?fieldSelector={sel}&limit=500")["doc"]["items"])),
    ]
    for name, fn in cases:
        secs, out = median_time(fn, args.runs)
        results[name] = {"ms": round(secs * 1000, 1), "result": out}

    kubectl = shutil.which("kubectl")
    if kubectl:
        home = tempfile.mkdtemp(prefix="bench-serve-home-")
        kc = write_kubeconfig(Path(home) / "kc", handle.url)
        env = {"HOME": home, "KUBECONFIG": str(kc), "PATH": os.environ.get("PATH", "")}

        def run(*cmd: str) -> int:
            r = subprocess.run([kubectl, "--request-timeout=120s", *cmd], env=env, capture_output=True, timeout=300)
            if r.returncode:
                raise RuntimeError(r.stderr.decode()[:300])
            return len(r.stdout.splitlines())

        run("get", "ns")  # fills the discovery cache, as any earlier kubectl command would
        for name, cmd in (("kubectl get -A", ("get", "pods", "-A")),
                          ("kubectl describe", ("describe", "pod", md["name"], "-n", md["namespace"]))):
            secs, out = median_time(lambda cmd=cmd: run(*cmd), args.runs)
            results[name] = {"ms": round(secs * 1000, 1), "lines": out}
        shutil.rmtree(home, ignore_errors=True)
    conn.close()
    handle.close()
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for k, v in results.items():
            print(f"{k:18} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
