"""A bundle's "now": recorded capturedAt, else the format's own record, else an estimate that outliers and
malformed timestamps cannot move. Reports say which, and no age printed is ever negative."""

from __future__ import annotations

import copy
import io
import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import scenario
from rich.console import Console

from sre_expert.core.timeutil import human, parse_time, robust_latest
from sre_expert.diagnosis.engine import diagnose
from sre_expert.render.json_report import render_json
from sre_expert.render.markdown import render_markdown
from sre_expert.render.terminal import render_terminal
from sre_expert.sources.bundle_reader import load_bundle
from sre_expert.sources.resolve import demo_path
from synth import faults as F
from synth.meta import ts

pytestmark = pytest.mark.scenario

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
NS = "mycure-production"
POD = json.loads((Path(__file__).parent / "data" / "pod-crashloop.json").read_text())
NEGATIVE_AGE = re.compile(r"\(-\d|for -\d|in -\d|-\d+[dhms](?:\d+[hm])? ago|\b-\d+[dhms]\d*[hm]? old")


def write(path: Path, data: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data)


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def test_the_estimate_ignores_one_outlier_and_needs_corroboration() -> None:
    times = [at(-m) for m in (0.5, 1, 3, 7, 30, 300)]
    assert robust_latest(times, timedelta(hours=1), 2) == at(-0.5)
    assert robust_latest(times + [at(2 * 365 * 24 * 60)], timedelta(hours=1), 2) == at(-0.5)
    assert robust_latest(times + [at(60 * 24 * 300), at(60 * 24 * 301)], timedelta(hours=1), 2) == at(-0.5)
    # two times far apart: neither corroborates the other, the lower median is taken
    assert robust_latest([at(0), at(60 * 24 * 700)], timedelta(hours=1), 2) == at(0)
    assert robust_latest([at(-5)], timedelta(hours=1), 2) == at(-5)
    assert robust_latest([], timedelta(hours=1), 2) is None


def test_ages_are_never_negative() -> None:
    assert human(timedelta(days=-1, hours=-4)) == "0s"
    assert human(timedelta(minutes=-10)) == "0s"
    assert human(timedelta(days=1, hours=4)) == "1d4h" and human(timedelta(seconds=40)) == "40s"


def _node(name: str, heartbeat: datetime) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "uid": f"n-{name}", "resourceVersion": "9120",
                         "creationTimestamp": "2026-10-01T08:00:00Z", "labels": {"kubernetes.io/hostname": name}},
            "spec": {"podCIDR": "10.244.1.0/24"},
            "status": {"conditions": [
                {"type": t, "status": s, "reason": r, "message": r, "lastHeartbeatTime": ts(heartbeat),
                 "lastTransitionTime": "2026-10-01T08:01:00Z"}
                for t, s, r in (("MemoryPressure", "False", "KubeletHasSufficientMemory"),
                                ("DiskPressure", "False", "KubeletHasNoDiskPressure"),
                                ("Ready", "True", "KubeletReady"))]}}


def _event(name: str, last: datetime) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Event", "type": "Normal", "reason": "Pulled", "count": 1,
            "message": 'Container image "ghcr.io/monobaselabs/api:2.14.1" already present on machine',
            "metadata": {"name": f"{name}.17b2a1c9d3e4f5a6", "namespace": NS, "uid": f"ev-{name}",
                         "resourceVersion": "99", "creationTimestamp": ts(last)},
            "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": name, "namespace": NS, "uid": f"uid-{name}"},
            "source": {"component": "kubelet", "host": "worker-1"}, "firstTimestamp": ts(last), "lastTimestamp": ts(last)}


def test_a_stray_future_object_and_a_malformed_time_do_not_move_the_estimate(tmp_path: Path) -> None:
    stray = copy.deepcopy(POD)
    stray["metadata"].update(name="from-a-skewed-clock", uid="u-stray",
                             creationTimestamp=ts(NOW + timedelta(days=730)))
    broken = copy.deepcopy(POD)
    broken["metadata"].update(name="broken-time", uid="u-broken", creationTimestamp="26/11/2026 10:00")
    write(tmp_path / "pods.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": [POD, stray, broken]}))
    write(tmp_path / "nodes.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        _node("worker-1", at(-0.5)), _node("worker-2", at(-2))]}))
    write(tmp_path / "events.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        _event("api-a", at(-1)), _event("api-b", at(-4))]}))
    snap = load_bundle(tmp_path)
    assert snap.now == at(-0.5)
    assert snap.info.captured_at_source == "estimated from event and status times"
    assert [w for w in snap.info.warnings if w.startswith("no capturedAt in bundle.json: capture time estimated")]
    report = diagnose(snap)
    console = Console(file=io.StringIO(), width=200, color_system=None)
    render_terminal(report, console)
    assert "capture time: estimated from event and status times" in console.file.getvalue().splitlines()[0]
    assert "(capture time: estimated from event and status times)" in render_markdown(report)
    assert json.loads(render_json(report))["capturedAtSource"] == "estimated from event and status times"


def test_a_recorded_capture_time_is_not_annotated(tmp_path: Path) -> None:
    write(tmp_path / "pods.json", json.dumps(POD))
    write(tmp_path / "bundle.json", json.dumps({"capturedAt": "2026-11-26T03:00:00Z"}))
    snap = load_bundle(tmp_path)
    assert snap.info.captured_at_source == "bundle.json capturedAt" and snap.info.captured_at_note() == ""
    assert "capturedAtSource" not in json.loads(render_json(diagnose(snap)))


def test_an_unreadable_captured_at_falls_back_with_a_message(tmp_path: Path) -> None:
    write(tmp_path / "pods.json", json.dumps(POD))
    write(tmp_path / "bundle.json", json.dumps({"capturedAt": "yesterday"}))
    snap = load_bundle(tmp_path)
    assert "bundle.json: capturedAt 'yesterday' is not an RFC 3339 time" in snap.info.warnings
    assert snap.info.captured_at_source == "estimated from event and status times"
    assert snap.now.year == 2026  # from the pod's own times, never the wall clock


def test_an_unschedulable_pod_is_reported_in_a_bundle_without_captured_at(tmp_path: Path) -> None:
    """`kubectl get pods -n batch` and `kubectl get nodes` saved as a bundle, no bundle.json: the newest
    creationTimestamp is the stuck pod's own, which made it look zero minutes old and inside the Pending grace.
    The kubelets' heartbeats say how late the capture really was."""
    b = scenario.platform(NOW)
    b.add_namespace("batch")
    w = b.add_deployment("batch", "reports", "ghcr.io/monobaselabs/api:v2.14.3", replicas=1, service=False)
    b.refresh()
    F.unschedulable(b, w.pods[0], request="64Gi", since=timedelta(minutes=30))
    pods = [o for o in b.objects if o["kind"] == "Pod" and o["metadata"]["namespace"] == "batch"]
    nodes = [o for o in b.objects if o["kind"] == "Node"]
    write(tmp_path / "pods.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": pods}))
    write(tmp_path / "nodes.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": nodes}))
    snap = load_bundle(tmp_path)
    assert abs(snap.now - NOW) <= timedelta(minutes=5), snap.now
    report = diagnose(snap)
    assert [f for f in report.findings if f.code == "POD-UNSCHEDULABLE" and f.object.namespace == "batch"], \
        [f.code for f in report.findings]


def test_no_negative_age_in_any_report_when_objects_are_newer_than_the_capture(tmp_path: Path) -> None:
    """capturedAt a day before the objects' own times (a bundle whose clock was wrong): every age the reports
    print, "heartbeat (…ago)", "for …", "… old", is clamped at zero instead of going negative."""
    bundle = shutil.copytree(demo_path(), tmp_path / "demo")
    meta = json.loads((bundle / "bundle.json").read_text())
    real = parse_time(meta["capturedAt"])
    assert real is not None
    meta["capturedAt"] = ts(real - timedelta(days=1, hours=4))
    (bundle / "bundle.json").write_text(json.dumps(meta))
    report = diagnose(load_bundle(bundle))
    console = Console(file=io.StringIO(), width=240, color_system=None)
    render_terminal(report, console)
    for text in (console.file.getvalue(), render_markdown(report, max_evidence=100), render_json(report).decode()):
        assert not NEGATIVE_AGE.findall(text), NEGATIVE_AGE.findall(text)[:5]
