"""serve shares one Snapshot between its worker threads and the agent's requests: reading it from several
threads at once must give every thread the whole answer."""

from __future__ import annotations

import copy
import json
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sre_expert.sources.memory import snapshot_from_objects

pytestmark = pytest.mark.unit

POD = json.loads((Path(__file__).parent / "data" / "pod-crashloop.json").read_text())
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def event(pod: dict[str, Any], i: int, at: datetime) -> dict[str, Any]:
    md = pod["metadata"]
    stamp = at.isoformat().replace("+00:00", "Z")
    return {
        "apiVersion": "v1", "kind": "Event", "type": "Warning", "reason": "BackOff", "count": 1,
        "metadata": {"name": f"{md['name']}.{i:08x}", "namespace": md["namespace"], "uid": f"ev-{i}",
                     "resourceVersion": str(1000 + i), "creationTimestamp": stamp},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "namespace": md["namespace"], "name": md["name"],
                           "uid": md["uid"], "fieldPath": "spec.containers{api}"},
        "message": "Back-off restarting failed container api", "source": {"component": "kubelet"},
        "firstTimestamp": stamp, "lastTimestamp": stamp,
    }


def test_events_of_one_object_read_by_many_threads_at_once_are_all_there() -> None:
    rng = random.Random(7)
    for _ in range(5):  # a fresh snapshot each round: the events are sorted on their first read
        pod = copy.deepcopy(POD)
        evs = [event(pod, i, NOW - timedelta(seconds=rng.randrange(86_400))) for i in range(5_000)]
        snap = snapshot_from_objects([pod, *evs], NOW)
        start = threading.Barrier(8)
        seen: list[int] = []

        def read() -> None:
            start.wait()
            for _ in range(3):
                seen.append(len(snap.events_for(pod)))

        threads = [threading.Thread(target=read) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert seen == [5_000] * 24  # list.sort() in place showed a thread an empty list while it sorted
        got = snap.events_for(pod)
        assert [e["lastTimestamp"] for e in got] == sorted(e["lastTimestamp"] for e in evs)


def test_a_derived_index_is_built_once_when_threads_ask_together() -> None:
    snap = snapshot_from_objects([copy.deepcopy(POD)], NOW)
    calls: list[int] = []

    def factory(_: Any) -> dict[str, int]:
        calls.append(1)
        time.sleep(0.05)  # wide enough for every thread to find the index missing
        return {"built": len(calls)}

    start = threading.Barrier(6)
    got: list[Any] = []

    def ask() -> None:
        start.wait()
        got.append(snap.memo("test-index", factory))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and all(g is got[0] for g in got)
