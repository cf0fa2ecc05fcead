"""The whole alert path with the real programs: Prometheus evaluates the platform's own rule on the volume's
metrics, the real Alertmanager routes the alert to `sre-expert serve`, and serve (reading the same
Prometheus) stores an investigation whose root cause is the full volume, with the crashing database pod
under it. Nothing in between is faked: rule, routing, webhook, token and payload are the programs' own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import prom_harness as ph
import pytest
from prom_harness import Faults, Window
from server_harness import alertmanager, request, start_serve, stop_serve
from test_server_alertmanager import receiver_config

from synth import faults
from synth.bundle_writer import write_bundle

pytestmark = [pytest.mark.e2e, pytest.mark.needs("prometheus", "promtool", "alertmanager")]

PG = ("lfh-staging", "data-postgresql-0")
NO_SPACE_LOG = ("2026-11-26 02:50:01.123 UTC [1] LOG:  starting PostgreSQL 16.4\n"
                "2026-11-26 02:50:01.456 UTC [1] FATAL:  could not write to file \"pg_wal/xlogtemp.1\": "
                "No space left on device\n")


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Prometheus (volume at 95%, PersistentVolumeCritical evaluated live) → Alertmanager → serve."""
    win = Window("pvc95", ph.window_ends(1)[0], Faults(pvc_percent={PG: 95.0}))
    b = win.platform()
    faults.crashloop(b, b.require("Pod", *PG[:1], "postgresql-0"), previous_log=NO_SPACE_LOG)
    bundle = write_bundle(b, tmp_path / "bundle")
    am_port = ph.free_port()
    with ph.prometheus([win], live_alert="PersistentVolumeCritical", alertmanager=f"127.0.0.1:{am_port}") as prom:
        base, token, serve = start_serve(tmp_path / "db.sqlite",
                                         args=("--bundle", str(bundle), "--prometheus", prom.url))
        try:
            (tmp_path / "token").write_text(token)
            with alertmanager(tmp_path, receiver_config(base, tmp_path / "token"), port=am_port):
                yield {"base": base, "token": token, "prom": prom, "am_log": tmp_path / "am.log"}
        finally:
            stop_serve(serve)


def test_a_rule_fired_by_prometheus_reaches_serve_through_alertmanager_with_the_full_volume_as_root(
        pipeline: dict[str, Any]) -> None:
    base, token = pipeline["base"], pipeline["token"]
    deadline = time.monotonic() + 60
    rec: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        status, body = request(base, "GET", "/api/v1/investigations?limit=10", token=token)
        assert status == 200, body
        done = [i for i in body["items"] if i["alertname"] == "PersistentVolumeCritical" and i["status"] == "done"]
        if done:
            rec = request(base, "GET", f"/api/v1/investigations/{done[0]['id']}", token=token)[1]
            break
        time.sleep(0.3)
    assert rec is not None, ("no investigation within 60 s; alertmanager log:\n"
                             + pipeline["am_log"].read_text()[-2000:])
    assert rec["receiver"] == "sre-expert" and rec["severity"] == "critical"
    assert rec["scope"] == {"namespace": "lfh-staging", "kind": "PersistentVolumeClaim", "name": "data-postgresql-0"}
    assert rec["runbook"]["id"] == "storage-pvc"
    root = rec["rootCause"]
    assert root["code"] == "PVC-FULL" and root["object"]["name"] == "data-postgresql-0", root
    assert any("95.0% full" in e for e in root["evidence"]), root["evidence"]
    # the pod that cannot write is a symptom of that volume, drawn under it
    crash = next(f for f in rec["report"]["findings"] if f["code"] == "POD-CRASHLOOP")
    assert crash["id"] in root["causes"] and not crash["rootCause"], (root["causes"], crash["id"])
    assert [f["code"] for f in rec["chain"]][0] == "PVC-FULL"
    assert not any(n.startswith("metrics: no Prometheus") for n in rec["report"].get("notChecked") or [])
