"""`sre-expert serve --kubeconfig` against a live API (the demo served by `bundle serve`): investigations
on a live sweep, one sweep for a burst of alerts, a new sweep once the snapshot is older than its TTL."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from server_harness import request, start_serve, stop_serve, wait_for, webhook_payload

from sre_expert.edges.apiserver import start_server
from sre_expert.edges.apiserver.kubeconfig import write_kubeconfig
from sre_expert.sources.resolve import demo_path

pytestmark = pytest.mark.e2e

TTL = 3.0
POD = "api-55wcnlhq-54cp4"  # crash-looping in the demo because mongodb is OOM-killed


def sweeps(log: list[tuple[str, str, int]]) -> int:
    """Full sweeps the API saw: each lists Nodes once."""
    return sum(1 for m, p, _ in log if m == "GET" and p.split("?")[0] == "/api/v1/nodes")


def crashloop(pod: str, tag: str) -> dict:
    return {"labels": {"alertname": "PodCrashLooping", "severity": "critical", "namespace": "mycure-production",
                       "pod": pod, "tag": tag}}


def test_live_source_is_swept_once_per_ttl(tmp_path: Path) -> None:
    with start_server(demo_path()) as api:
        kc = write_kubeconfig(tmp_path / "kubeconfig", api.url)
        base, token, proc = start_serve(tmp_path / "db.sqlite", args=("--kubeconfig", str(kc), "--source-ttl", str(TTL)),
                                        env={"HOME": str(tmp_path)})
        try:
            t0 = time.monotonic()
            ids = [request(base, "POST", "/api/v1/alerts", webhook_payload([crashloop(POD, f"a{i}")], group_key=f"a{i}"),
                           token=token)[1]["investigations"][0] for i in range(20)]
            recs = [wait_for(base, token, i) for i in ids]
            burst_done = time.monotonic() - t0
            after_burst = sweeps(list(api.request_log))
            time.sleep(max(0.0, TTL - burst_done) + 0.2)
            later = request(base, "POST", "/api/v1/alerts", webhook_payload([crashloop(POD, "b")],
                                                                             group_key="b"), token=token)[1]
            rec_later = wait_for(base, token, later["investigations"][0])
            after_ttl = sweeps(list(api.request_log))
        finally:
            stop_serve(proc)
    assert all(r["status"] == "done" for r in recs)
    assert [f["code"] for f in recs[0]["chain"]] == ["POD-STORAGE-CORRUPTION", "SVC-NO-READY-ENDPOINTS", "POD-CRASHLOOP"]
    assert recs[0]["report"]["source"] == "live"
    if burst_done < TTL:  # the whole burst ran inside one TTL: one sweep (the start-up one)
        assert after_burst == 1, after_burst
    assert rec_later["rootCause"]["code"] == "POD-STORAGE-CORRUPTION"
    assert after_ttl == after_burst + 1
