"""Start a real `sre-expert serve` subprocess for tests, and small helpers to talk to it.

    base_url, token, proc = start_serve(tmp_path / "db.sqlite", args=("--demo",))
    try: ...
    finally: stop_serve(proc)

The server binds port 0 and prints the port it got; we read that line, then wait for /readyz.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import programs

LISTEN = re.compile(r"listening on (http://\S+?) ")
START_TIMEOUT = 30.0


SOURCE_FLAGS = ("--demo", "--bundle", "-b", "--context", "--kubeconfig", "--clusters")


def start_serve(db_path: str | Path | None, *, args: Iterable[str] = (), env: Mapping[str, str] | None = None,
                token: str | None = None, ready: bool = True) -> tuple[str, str, subprocess.Popen[str]]:
    """(base_url, token, process) of a serve on 127.0.0.1 and a free port; extra CLI `args` (--demo is
    added when they name no source); db_path None: no --db (SRE_EXPERT_DB in `env` names it). The caller
    must stop it (`stop_serve`) in a finally or a fixture."""
    args = list(args)
    if not any(a.split("=", 1)[0] in SOURCE_FLAGS for a in args):
        args.insert(0, "--demo")
    token = token or secrets.token_urlsafe(24)
    full_env = {**os.environ, "SRE_EXPERT_TOKEN": token, "PYTHONUNBUFFERED": "1", **(env or {})}
    cmd = [sys.executable, "-m", "sre_expert.edges.cli.main", "serve", "--host", "127.0.0.1", "--port", "0",
           *(("--db", str(db_path)) if db_path is not None else ()), *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=full_env)
    try:
        base = _read_base_url(proc)
        if ready:
            wait_ready(base)
    except BaseException:
        stop_serve(proc)
        raise
    return base, token, proc


def _read_base_url(proc: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    seen: list[str] = []
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                raise RuntimeError(f"serve exited with {proc.returncode}:\n" + "".join(seen))
            continue
        seen.append(line)
        m = LISTEN.search(line)
        if m:
            _drain(proc, seen)
            return m.group(1)
    raise RuntimeError("serve did not print its address in time:\n" + "".join(seen))


def _drain(proc: subprocess.Popen[str], seen: list[str]) -> None:
    """Keep reading the server's output so a full pipe never blocks it (`output(proc)` returns it)."""
    import threading

    out: list[str] = list(seen)
    proc.output = out  # type: ignore[attr-defined]

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            out.append(line)

    threading.Thread(target=pump, daemon=True).start()


def output(proc: subprocess.Popen[str]) -> str:
    return "".join(getattr(proc, "output", []))


def wait_ready(base: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            status, body = request(base, "GET", "/readyz")
            if status == 200:
                return
            last = str(body)
        except OSError as e:
            last = str(e)
        time.sleep(0.05)
    raise RuntimeError(f"serve at {base} not ready: {last}")


def stop_serve(proc: subprocess.Popen[str], *, timeout: float = 15.0) -> int:
    """SIGTERM (graceful), then SIGKILL if it does not stop; returns the exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    return proc.returncode


def request(base: str, method: str, path: str, body: Any = None, *, token: str | None = None,
            headers: Mapping[str, str] | None = None, raw: bytes | None = None,
            timeout: float = 30.0) -> tuple[int, Any]:
    """(status, parsed JSON or text) of one request; HTTP errors are returned, not raised."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    hdrs = {"Content-Type": "application/json"} if data is not None else {}
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    hdrs.update(headers or {})
    req = urllib.request.Request(base + path, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, text, ctype = resp.status, resp.read().decode(), resp.headers.get("content-type", "")
    except urllib.error.HTTPError as e:
        status, text, ctype = e.code, e.read().decode(), e.headers.get("content-type", "")
    return status, (json.loads(text) if "json" in ctype and text else text)


def wait_until(fn: Any, what: str, timeout: float = 30.0) -> Any:
    """Call `fn` until it returns something truthy, and return that; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def wait_for(base: str, token: str, inv_id: str, statuses: Iterable[str] = ("done", "failed"),
             timeout: float = 30.0) -> dict[str, Any]:
    """Poll an investigation until its status is one of `statuses`."""
    want = set(statuses)
    deadline = time.monotonic() + timeout
    rec: Any = None
    while time.monotonic() < deadline:
        status, rec = request(base, "GET", f"/api/v1/investigations/{inv_id}", token=token)
        if status == 200 and rec["status"] in want:
            return rec
        time.sleep(0.05)
    raise AssertionError(f"{inv_id} did not reach {sorted(want)}: {rec}")


def webhook_payload(alerts: list[Mapping[str, Any]], *, group_key: str | None = None, status: str | None = None,
                    receiver: str = "sre-expert") -> dict[str, Any]:
    """An Alertmanager v4 webhook body for `alerts` (each {labels, status?, fingerprint?, annotations?})."""
    full = []
    for a in alerts:
        labels = dict(a["labels"])
        full.append({
            "status": a.get("status", "firing"),
            "labels": labels,
            "annotations": dict(a.get("annotations") or {}),
            "startsAt": a.get("startsAt", "2026-11-26T03:00:00Z"),
            "endsAt": a.get("endsAt", "0001-01-01T00:00:00Z"),
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": a.get("fingerprint") or hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16],
        })
    common = dict(set.intersection(*(set(a["labels"].items()) for a in full))) if full else {}
    names = sorted({a["labels"].get("alertname", "") for a in full})
    return {
        "version": "4",
        "groupKey": group_key or f"{{}}:{{alertname={json.dumps(names[0] if names else '')}}}",
        "truncatedAlerts": 0,
        "status": status or ("firing" if any(a["status"] == "firing" for a in full) else "resolved"),
        "receiver": receiver,
        "groupLabels": {"alertname": names[0]} if names else {},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": full,
    }


# ------------------------------------------------------------------------------ the real Alertmanager

ALERTMANAGER = programs.path("alertmanager")


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (for programs that cannot report the port 0 they bound)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def alertmanager(tmp: Path, config: Mapping[str, Any], port: int | None = None,
                 cluster: Iterable[str] = ("--cluster.listen-address=",)) -> Iterator[str]:
    """The real Alertmanager (tests/programs.py finds it) on loopback with `config`, ready; yields its
    URL and stops it afterwards. Its log is tmp/am.log (quoted when it does not start). `cluster`: its
    --cluster.* flags (default: clustering off; an HA pair passes listen and peer addresses)."""
    programs.require("alertmanager")
    port = port or free_port()
    (tmp / "alertmanager.yml").write_text(json.dumps(config))
    log = tmp / "am.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [ALERTMANAGER, f"--config.file={tmp / 'alertmanager.yml'}", f"--storage.path={tmp / 'am'}",
             f"--web.listen-address=127.0.0.1:{port}", *cluster],
            stdout=subprocess.DEVNULL, stderr=err)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise AssertionError("alertmanager exited: " + log.read_text()[-2000:])
            try:
                if request(url, "GET", "/-/ready", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("alertmanager did not start: " + log.read_text()[-2000:])
            time.sleep(0.1)
        yield url
    finally:
        stop_serve(proc, timeout=10)
