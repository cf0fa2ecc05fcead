"""Durability: a burst of 1,000 alerts, `kill -9` of the server in the middle, restart on the same db.

Every alert whose POST was answered 200 must be in the database, and after the restart every
investigation must end done (the ones queued or running at the kill are resumed).
"""

from __future__ import annotations

import http.client
import os
import signal
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from server_harness import request, start_serve, stop_serve, webhook_payload

pytestmark = pytest.mark.e2e

POSTS = 250
ALERTS_PER_POST = 4  # 1,000 alerts
GROUPS = 100  # posts share group keys, so merges and re-investigations happen during the burst
KILL_AFTER = 90  # answered posts


def payload(i: int) -> dict:
    alerts = [{"labels": {"alertname": "PodCrashLooping", "severity": "critical", "namespace": "lfh-staging",
                          "pod": f"burst-{i}-{j}"}, "fingerprint": f"fp-{i:04d}-{j}"} for j in range(ALERTS_PER_POST)]
    return webhook_payload(alerts, group_key=f"burst-{i % GROUPS}")


def test_kill_9_during_a_burst_loses_no_acknowledged_alert(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    base, token, proc = start_serve(db, args=("--demo", "--workers", "2"))
    acked: list[int] = []
    lock = threading.Lock()
    killed = threading.Event()

    def post(i: int) -> None:
        if killed.is_set():
            return
        try:
            status, body = request(base, "POST", "/api/v1/alerts", payload(i), token=token, timeout=10)
        except (OSError, http.client.HTTPException):
            return  # the server is gone: this post was never acknowledged
        if status == 200:
            assert body["accepted"] == ALERTS_PER_POST
            with lock:
                acked.append(i)
                if len(acked) >= KILL_AFTER and not killed.is_set():
                    killed.set()
                    os.kill(proc.pid, signal.SIGKILL)

    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(post, range(POSTS)))
        proc.wait(10)
    finally:
        stop_serve(proc)
    assert proc.returncode == -signal.SIGKILL and len(acked) >= KILL_AFTER

    with sqlite3.connect(db) as conn:  # before the restart: exactly what survived the kill
        stored = {r[0] for r in conn.execute("SELECT fingerprint FROM alerts")}
        unfinished = conn.execute("SELECT COUNT(*) FROM investigations WHERE status IN ('queued','running')").fetchone()[0]
    missing = [f"fp-{i:04d}-{j}" for i in acked for j in range(ALERTS_PER_POST) if f"fp-{i:04d}-{j}" not in stored]
    assert missing == []

    base, token, proc = start_serve(db, args=("--demo", "--workers", "2"))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            _, queued = request(base, "GET", "/api/v1/investigations?status=queued&limit=1", token=token)
            _, running = request(base, "GET", "/api/v1/investigations?status=running&limit=1", token=token)
            if queued["total"] == running["total"] == 0:
                break
            time.sleep(0.1)
        _, done = request(base, "GET", "/api/v1/investigations?status=done&limit=500", token=token)
        _, everything = request(base, "GET", "/api/v1/investigations?limit=1", token=token)
    finally:
        stop_serve(proc)
    assert everything["total"] == done["total"] > 0, (everything["total"], done["total"], unfinished)
    assert everything["total"] <= GROUPS
    for inv in done["items"]:  # the burst's pods are made up: each record says so, none is a half-written row
        assert inv["rootCause"] is None and inv["error"] is None
        assert inv["summary"].startswith("Pod lfh-staging/burst-") and "is not in the snapshot" in inv["summary"]
        assert "ESO-REMOTE-KEY-MISSING" in [c["code"] for c in inv["candidates"]]
