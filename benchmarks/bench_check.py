#!/usr/bin/env python3
"""Benchmark `sre-expert check` on a (large) bundle against the cost of just parsing it.

    python benchmarks/bench_check.py [BUNDLE_DIR] [--runs 5] [--help-runs 10] [--json]
    python benchmarks/bench_check.py --profile [BUNDLE_DIR] [--profile-out check.prof]

With no BUNDLE_DIR a bundle is generated into a temporary directory with benchmarks/generate.py
(defaults: 10,000 pods, 500 namespaces, 30,000 events; see --pods/--namespaces/--events/--seed).

Every measurement runs in a fresh interpreter (`python bench_check.py --_worker MODE DIR`), so no run
inherits another's heap, imports or caches, and the modes are interleaved run by run so that load from
elsewhere on the machine hits them alike; each figure is the median of --runs runs. The bundle's files
are read once beforehand, so every mode reads them from the OS page cache. Wall and CPU time are both
reported: on a shared machine the CPU times are the steadier ones.

  (a) orjson     read + orjson.loads every *.json of the bundle, gc disabled, results kept alive
  (b) pipeline   load_bundle (load + index), diagnose (checks + linking), report (JSON rendering)
  (c) cli        `sre-expert check --bundle DIR --output json` as a subprocess (exit 0 or 1 is fine)
  (d) memory     peak RSS of the (b) child (VmHWM, i.e. its own ru_maxrss) minus a bare interpreter's,
                 against the bundle's size on disk (all files, logs included)
  (e) help       `sre-expert --help` (median of --help-runs)

Targets: check total / orjson parse <= 2.0, peak memory / bundle size <= 3.0, peak memory / the memory of
(a) <= 1.3 (both less a bare interpreter), --help < 0.3 s.
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
TARGET_CHECK_RATIO = 2.0
TARGET_MEMORY_RATIO = 3.0
TARGET_HOLD_RATIO = 1.3  # peak memory against a process that only parses the files and holds the result
TARGET_HELP_SECONDS = 0.3


# ---------------------------------------------------------------------------------------------------
# Worker side: one measurement, in a fresh interpreter; prints one JSON line on stdout.
# ---------------------------------------------------------------------------------------------------
def _maxrss_bytes() -> int:
    """Peak RSS of this process. VmHWM belongs to this process image only; ru_maxrss would also carry
    the parent's RSS at fork time across exec (Linux keeps the larger of the two)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _worker_baseline(_: Path) -> dict[str, Any]:
    return {"maxrss": _maxrss_bytes()}


def _worker_imports(_: Path) -> dict[str, Any]:
    """The interpreter plus the modules the pipeline imports, before any data is read."""
    t0 = time.perf_counter()
    from sre_expert.checks.registry import all_checks
    from sre_expert.diagnosis import engine  # noqa: F401
    from sre_expert.sources import bundle_reader as bundle  # noqa: F401

    all_checks()
    _report_renderer()
    return {"import": time.perf_counter() - t0, "maxrss": _maxrss_bytes()}


def _worker_orjson(root: Path) -> dict[str, Any]:
    import gc

    import orjson

    paths = sorted(p for p in root.rglob("*.json") if p.is_file())
    gc.disable()
    keep = []
    c0, t0 = time.process_time(), time.perf_counter()
    for p in paths:
        keep.append(orjson.loads(p.read_bytes()))
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"parse": elapsed, "parse_cpu": cpu, "files": len(paths), "maxrss": _maxrss_bytes(), "kept": len(keep)}


def _report_renderer():
    """(name, fn(report) -> bytes|str) for the product's JSON report, or the orjson fallback."""
    import importlib

    import orjson

    for modname, fnames in (
        ("sre_expert.render.json_report", ("render_json", "render", "to_json", "dumps")),
        ("sre_expert.render.jsonout", ("render_json", "render", "to_json", "dumps")),
        ("sre_expert.render.json", ("render_json", "render", "to_json", "dumps")),
        ("sre_expert.render", ("render_json", "to_json", "json_report", "report_json")),
    ):
        try:
            mod = importlib.import_module(modname)
        except ImportError:
            continue
        for fname in fnames:
            fn = getattr(mod, fname, None)
            if callable(fn):
                return f"{modname}.{fname}", fn

    def fallback(report):
        return orjson.dumps([f.to_json() for f in report.findings])

    return "orjson.dumps([f.to_json() ...]) (fallback: no sre_expert.render JSON renderer)", fallback


def _worker_pipeline(root: Path, profile_out: str | None = None) -> dict[str, Any]:
    t_imp = time.perf_counter()
    from sre_expert.checks.registry import all_checks
    from sre_expert.diagnosis.engine import diagnose
    from sre_expert.sources.bundle_reader import load_bundle

    checks = all_checks()  # import the check modules outside the timed part, like the imports above
    render_name, render = _report_renderer()
    t_imp = time.perf_counter() - t_imp

    prof = None
    if profile_out:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    pt = time.process_time
    c0, t0 = pt(), time.perf_counter()
    snap = load_bundle(root)
    c1, t1 = pt(), time.perf_counter()
    report = diagnose(snap)
    c2, t2 = pt(), time.perf_counter()
    out = render(report)
    if isinstance(out, str):
        out = out.encode()
    c3, t3 = pt(), time.perf_counter()
    if prof is not None:
        prof.disable()
        prof.dump_stats(profile_out)

    counts = {k: snap.count(k) for k in snap.kinds()}
    return {
        "import": t_imp,
        "load": t1 - t0,
        "check": t2 - t1,
        "report": t3 - t2,
        "total": t3 - t0,
        "load_cpu": c1 - c0,
        "check_cpu": c2 - c1,
        "report_cpu": c3 - c2,
        "total_cpu": c3 - c0,
        "maxrss": _maxrss_bytes(),
        "report_bytes": len(out) if out is not None else 0,
        "renderer": render_name,
        "checks": len(checks),
        "findings": len(report.findings),
        "summary": report.summary(),
        "by_code": _count_codes(report.findings),
        "not_checked": list(report.not_checked),
        "warnings": len(snap.info.warnings),
        "warning_lines": snap.info.warnings[:5],
        "objects": sum(counts.values()),
        "kinds": counts,
    }


def _count_codes(findings) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in findings:
        out[f.code] = out.get(f.code, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


WORKERS = {
    "baseline": _worker_baseline,
    "imports": _worker_imports,
    "orjson": _worker_orjson,
    "pipeline": _worker_pipeline,
}


# ---------------------------------------------------------------------------------------------------
# Parent side
# ---------------------------------------------------------------------------------------------------
def _run_worker(mode: str, root: Path, *extra: str) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_worker", mode, str(root), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {mode} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _cli_path() -> str | None:
    cand = Path(sys.executable).parent / "sre-expert"
    if cand.exists():
        return str(cand)
    return shutil.which("sre-expert")


def _timed(cmd: list[str]) -> tuple[float, float, int, bytes, bytes]:
    """(wall seconds, child cpu seconds, exit code, stdout, stderr) of one subprocess."""
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fo, stderr=fe)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        return wall, ru.ru_utime + ru.ru_stime, proc.returncode, fo.read(), fe.read()


def _du(root: Path) -> tuple[int, int, int]:
    """(apparent bytes of all files, bytes of *.json files, blocks-on-disk bytes)."""
    total = js = disk = 0
    for p in root.rglob("*"):
        if p.is_file():
            st = p.stat()
            total += st.st_size
            disk += st.st_blocks * 512
            if p.name.endswith(".json"):
                js += st.st_size
    return total, js, disk


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def measure(root: Path, runs: int, help_runs: int, progress) -> dict[str, Any]:
    res: dict[str, Any] = {"bundle": str(root), "runs": runs, "cpus": os.cpu_count(),
                           "loadavg_start": os.getloadavg()[0]}
    size, json_size, disk = _du(root)
    res["bundle_bytes"] = size
    res["bundle_json_bytes"] = json_size
    res["bundle_disk_bytes"] = disk

    progress("warming the page cache ...")
    for p in root.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                while f.read(1 << 22):
                    pass
    progress("baseline interpreter ...")
    base = [_run_worker("baseline", root)["maxrss"] for _ in range(3)]
    imps = [_run_worker("imports", root) for _ in range(3)]
    res["baseline_maxrss"] = int(_median(base))
    res["imports_maxrss"] = int(_median([r["maxrss"] for r in imps]))

    # Interleave the modes run by run so that a burst of load from elsewhere hits all of them alike.
    orj: list[dict[str, Any]] = []
    pipe: list[dict[str, Any]] = []
    cli: list[float] = []
    cli_cpu: list[float] = []
    cli_rc: list[int] = []
    exe = _cli_path()
    cli_err = None
    for i in range(runs):
        progress(f"run {i + 1}/{runs}: orjson ...")
        orj.append(_run_worker("orjson", root))
        progress(f"run {i + 1}/{runs}: pipeline ...")
        pipe.append(_run_worker("pipeline", root))
        if exe and cli_err is None:
            progress(f"run {i + 1}/{runs}: cli ...")
            t, cpu, rc, out, err = _timed([exe, "check", "--bundle", str(root), "--output", "json"])
            if rc in (0, 1):
                cli.append(t)
                cli_cpu.append(cpu)
                cli_rc.append(rc)
                if i == 0:
                    res["cli_output_bytes"] = len(out)
                    try:
                        doc = json.loads(out)
                        res["cli_summary"] = doc.get("summary")
                        res["cli_findings"] = len(doc.get("findings") or [])
                    except ValueError:
                        res["cli_summary"] = None
            else:
                cli_err = f"exit {rc}: {err.decode(errors='replace').strip()[-600:]}"
    if not exe:
        cli_err = "no sre-expert executable found"

    res["orjson_parse"] = _median([r["parse"] for r in orj])
    res["orjson_parse_cpu"] = _median([r["parse_cpu"] for r in orj])
    res["orjson_runs"] = [r["parse"] for r in orj]
    res["orjson_files"] = orj[0]["files"]
    res["orjson_maxrss"] = int(_median([r["maxrss"] for r in orj]))
    for k in ("load", "check", "report", "total", "load_cpu", "check_cpu", "report_cpu", "total_cpu"):
        res[k] = _median([r[k] for r in pipe])
    res["total_runs"] = [r["total"] for r in pipe]
    res["pipeline_maxrss"] = int(_median([r["maxrss"] for r in pipe]))
    res["peak_memory"] = res["pipeline_maxrss"] - res["baseline_maxrss"]
    res["peak_memory_over_imports"] = res["pipeline_maxrss"] - res["imports_maxrss"]
    last = pipe[-1]
    for k in ("renderer", "checks", "findings", "summary", "by_code", "not_checked", "warnings", "warning_lines", "objects",
              "kinds", "report_bytes"):
        res[k] = last[k]
    res["cli"] = _median(cli) if cli else None
    res["cli_cpu"] = _median(cli_cpu) if cli_cpu else None
    res["cli_runs"] = cli
    res["cli_exit"] = cli_rc[0] if cli_rc else None
    res["cli_error"] = cli_err

    helps: list[float] = []
    help_cpu: list[float] = []
    help_err = None
    if exe:
        progress("--help ...")
        for _ in range(help_runs):
            t, cpu, rc, _, err = _timed([exe, "--help"])
            if rc != 0:
                help_err = f"exit {rc}: {err.decode(errors='replace').strip()[-600:]}"
                break
            helps.append(t)
            help_cpu.append(cpu)
    else:
        help_err = "no sre-expert executable found"
    res["help"] = _median(helps) if helps else None
    res["help_cpu"] = _median(help_cpu) if help_cpu else None
    res["help_runs"] = helps
    res["help_error"] = help_err

    res["loadavg_end"] = os.getloadavg()[0]
    res["check_ratio"] = res["total"] / res["orjson_parse"] if res["orjson_parse"] else None
    res["check_ratio_cpu"] = res["total_cpu"] / res["orjson_parse_cpu"] if res["orjson_parse_cpu"] else None
    res["memory_ratio"] = res["peak_memory"] / res["bundle_bytes"] if res["bundle_bytes"] else None
    held = res["orjson_maxrss"] - res["baseline_maxrss"]
    res["hold_ratio"] = res["peak_memory"] / held if held > 0 else None
    res["pass"] = {
        "check_ratio": res["check_ratio"] is not None and res["check_ratio"] <= TARGET_CHECK_RATIO,
        "memory_ratio": res["memory_ratio"] is not None and res["memory_ratio"] <= TARGET_MEMORY_RATIO,
        "hold_ratio": res["hold_ratio"] is not None and res["hold_ratio"] <= TARGET_HOLD_RATIO,
        "help": res["help"] is not None and res["help"] < TARGET_HELP_SECONDS,
    }
    return res


def _mb(n: int | float) -> str:
    return f"{n / 1e6:,.1f} MB"


def print_table(r: dict[str, Any]) -> None:
    def mark(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    def sec(v: float | None) -> str:
        return f"{v:>9.3f} s" if v is not None else f"{'n/a':>11}"

    n = r["runs"]
    print()
    print(f"bundle: {r['bundle']}")
    print(f"  size on disk {_mb(r['bundle_bytes'])} ({r['orjson_files']} *.json files holding {_mb(r['bundle_json_bytes'])}; "
          f"{_mb(r['bundle_disk_bytes'])} in allocated blocks); {r['objects']:,} objects")
    kinds = r["kinds"]
    top = ", ".join(f"{k} {kinds[k]:,}" for k in sorted(kinds, key=lambda k: -kinds[k])[:12])
    print(f"  {top}")
    print()
    w = 46
    print(f"machine: {r['cpus']} cpus, 1-min load average {r['loadavg_start']:.1f} at start, {r['loadavg_end']:.1f} at end "
          f"(wall times stretch when the load exceeds the cpus; cpu times much less)")
    print()
    print(f"{f'measurement (median of {n} fresh processes)':<{w}} {'wall':>11} {'cpu':>11}")
    print("-" * (w + 24))
    print(f"{'(a) read + orjson.loads every *.json, gc off':<{w}} {sec(r['orjson_parse'])} {sec(r['orjson_parse_cpu'])}")
    print(f"{'(b) load + index (load_bundle)':<{w}} {sec(r['load'])} {sec(r['load_cpu'])}")
    print(f"{'    checks + linking (diagnose)':<{w}} {sec(r['check'])} {sec(r['check_cpu'])}")
    print(f"{'    JSON report':<{w}} {sec(r['report'])} {sec(r['report_cpu'])}")
    print(f"{'    total in-process':<{w}} {sec(r['total'])} {sec(r['total_cpu'])}")
    print(f"{'(c) CLI check --output json, end to end':<{w}} {sec(r['cli'])} {sec(r.get('cli_cpu'))}")
    help_label = f"(e) sre-expert --help (median of {len(r['help_runs'] or [0])})"
    print(f"{help_label:<{w}} {sec(r['help'])} {sec(r.get('help_cpu'))}")
    print()
    print(f"{'(d) peak RSS of the (b) process':<{w}} {_mb(r['pipeline_maxrss']):>11}")
    print(f"{'    bare interpreter':<{w}} {_mb(r['baseline_maxrss']):>11}")
    print(f"{'    interpreter + product imports':<{w}} {_mb(r['imports_maxrss']):>11}")
    print(f"{'    peak memory = (b) - bare interpreter':<{w}} {_mb(r['peak_memory']):>11}")
    print(f"{'    peak RSS of the (a) process (parse + hold)':<{w}} {_mb(r['orjson_maxrss']):>11}")
    print(f"{'    bundle size (all files)':<{w}} {_mb(r['bundle_bytes']):>11}")
    print()
    print(f"{'ratio':<{w}} {'value':>8}  {'target':>8}  verdict")
    print("-" * (w + 30))
    print(f"{'check total / orjson parse (wall)':<{w}} {r['check_ratio']:>8.2f}  {f'<= {TARGET_CHECK_RATIO:.1f}':>8}  "
          f"{mark(r['pass']['check_ratio'])}")
    if r.get("check_ratio_cpu") is not None:
        print(f"{'  same ratio on CPU time (less noisy)':<{w}} {r['check_ratio_cpu']:>8.2f}  {'':>8}  "
              f"{'(pass)' if r['check_ratio_cpu'] <= TARGET_CHECK_RATIO else '(fail)'}")
    print(f"{'peak memory / bundle size':<{w}} {r['memory_ratio']:>8.2f}  {f'<= {TARGET_MEMORY_RATIO:.1f}':>8}  "
          f"{mark(r['pass']['memory_ratio'])}")
    if r.get("hold_ratio") is not None:
        print(f"{'peak memory / (a) parse + hold, both - bare':<{w}} {r['hold_ratio']:>8.2f}  "
              f"{f'<= {TARGET_HOLD_RATIO:.1f}':>8}  {mark(r['pass']['hold_ratio'])}")
    hs = f"{r['help']:>8.3f}" if r["help"] is not None else f"{'n/a':>8}"
    print(f"{'--help seconds (wall)':<{w}} {hs}  {f'< {TARGET_HELP_SECONDS:.1f}':>8}  {mark(r['pass']['help'])}")
    print()
    s = r["summary"]
    print(f"findings: {r['findings']:,} (critical {s['critical']:,}, warning {s['warning']:,}, info {s['info']:,}) "
          f"from {r['checks']} checks; report: {r['renderer']} ({_mb(r['report_bytes'])})")
    if r["by_code"]:
        print("  by code: " + ", ".join(f"{k} {v}" for k, v in list(r["by_code"].items())[:24]))
    if r.get("cli_summary"):
        print(f"  CLI summary: {r['cli_summary']} (exit {r['cli_exit']})")
    for nc in r["not_checked"][:10]:
        print(f"  not checked: {nc}")
    if r["warnings"]:  # a skipped file makes every figure meaningless: show why
        print(f"  bundle warnings: {r['warnings']}")
        for w in r.get("warning_lines") or ():
            print(f"    {w}")
    if r["cli_error"]:
        print(f"  CLI check failed: {r['cli_error']}")
    if r["help_error"]:
        print(f"  --help failed: {r['help_error']}")
    fmt = lambda xs: " ".join(f"{x:.2f}" for x in xs)  # noqa: E731
    print(f"  all runs (wall s): orjson [{fmt(r['orjson_runs'])}]  check [{fmt(r['total_runs'])}]  "
          f"cli [{fmt(r['cli_runs'])}]  help [{fmt(r['help_runs'])}]")


def profile(root: Path, out: str, top: int) -> None:
    import pstats

    res = _run_worker("pipeline", root, "--profile-out", out)
    print(f"profiled load {res['load']:.3f} s, check {res['check']:.3f} s, report {res['report']:.3f} s "
          f"(inflated by cProfile); stats in {out}")
    st = pstats.Stats(out)
    st.strip_dirs()
    print(f"\n=== top {top} by own time (tottime) ===")
    st.sort_stats("tottime").print_stats(top)
    print(f"\n=== top {top} by cumulative time ===")
    st.sort_stats("cumulative").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_worker"]:
        mode, root = argv[1], Path(argv[2])
        if mode == "pipeline" and "--profile-out" in argv:
            res = _worker_pipeline(root, argv[argv.index("--profile-out") + 1])
        else:
            res = WORKERS[mode](root)
        sys.stdout.write(json.dumps(res) + "\n")
        return 0

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bundle", nargs="?", help="bundle directory (generated into a temp dir when omitted)")
    ap.add_argument("--runs", type=int, default=5, help="runs per measurement (median is reported)")
    ap.add_argument("--help-runs", type=int, default=10)
    ap.add_argument("--json", action="store_true", help="print machine-readable results only")
    ap.add_argument("--json-out", help="also write the machine-readable results to this file")
    ap.add_argument("--pods", type=int, default=10_000)
    ap.add_argument("--namespaces", type=int, default=500)
    ap.add_argument("--events", type=int, default=30_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the generated bundle")
    ap.add_argument("--profile", action="store_true", help="cProfile load+check+report once and print hot spots")
    ap.add_argument("--profile-out", default="check.prof")
    ap.add_argument("--top", type=int, default=30)
    args = ap.parse_args(argv)

    def progress(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    tmp = None
    try:
        if args.bundle:
            root = Path(args.bundle)
            if not root.is_dir():
                progress(f"{root}: not a bundle directory")
                return 2
        else:
            tmp = tempfile.mkdtemp(prefix="sre-bench-")
            root = Path(tmp) / "bundle"
            progress(f"generating {args.pods} pods / {args.namespaces} namespaces / {args.events} events into {root} ...")
            t0 = time.perf_counter()
            # in a child, so that this process stays small (a child's peak RSS starts from its parent's)
            gen = subprocess.run([sys.executable, str(HERE / "generate.py"), "--out", str(root), "--pods", str(args.pods),
                                  "--namespaces", str(args.namespaces), "--events", str(args.events),
                                  "--seed", str(args.seed)], stdout=subprocess.PIPE, text=True)
            progress(gen.stdout.rstrip())
            if gen.returncode != 0:
                progress(f"generate.py failed with exit {gen.returncode}")
                return 2
            progress(f"generated in {time.perf_counter() - t0:.1f} s")
        if args.profile:
            profile(root, args.profile_out, args.top)
            return 0
        res = measure(root, args.runs, args.help_runs, progress if not args.json else (lambda m: None))
        if args.json:
            print(json.dumps(res, indent=2))
        else:
            print_table(res)
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(res, indent=2) + "\n")
        return 0 if all(res["pass"].values()) else 1
    finally:
        if tmp and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp:
            progress(f"bundle kept in {root}")


if __name__ == "__main__":
    sys.exit(main())
