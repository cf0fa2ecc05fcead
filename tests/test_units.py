"""core/units: the one quantity parser and the one duration parser, and the checks that read through them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sre_expert.checks import metrics as metrics_check
from sre_expert.core import units
from sre_expert.core.snapshot import Snapshot, SnapshotInfo

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 26, 3, 7, 12, tzinfo=UTC)


@pytest.mark.parametrize("text,value", [
    ("1Pi", 2.0**50), ("2Ei", 2.0 * 2**60), ("1e3", 1000.0), ("500m", 0.5), ("1.5Gi", 1.5 * 2**30),
    ("16Gi", 16.0 * 2**30), ("100k", 1e5), ("2M", 2e6), ("3", 3.0), (" 8Mi ", 8.0 * 2**20), (4, 4.0), (0.25, 0.25),
    ("-1", -1.0),
])
def test_quantity_values(text: Any, value: float) -> None:
    assert units.parse_quantity(text) == value
    assert units.quantity(text) == value


@pytest.mark.parametrize("text", ["garbage", "", "1Xi", "1ki", "Gi", "nan", "Infinity", None, True, "1 Gi"])
def test_quantity_garbage_is_none(text: Any) -> None:
    assert units.parse_quantity(text) is None
    with pytest.raises(ValueError):
        units.quantity(text)


def _pvc(name: str, capacity: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": "monitoring", "uid": f"0c6f3a1e-5b7d-4e2a-9c1f-{name[-12:]:0>12}",
                     "creationTimestamp": "2026-10-01T09:00:00Z", "resourceVersion": "48121"},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "premium-rwo", "volumeMode": "Filesystem",
                 "volumeName": f"pvc-{name}", "resources": {"requests": {"storage": capacity}}},
        "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": capacity}},
    }


@pytest.mark.parametrize("capacity,expected", [("1Pi", 2.0**50), ("2Ei", 2.0 * 2**60), ("1e3", 1000.0),
                                               ("1.5Gi", 1.5 * 2**30), ("garbage", None)])
def test_pvc_capacity_read_with_every_suffix(capacity: str, expected: float | None) -> None:
    """The Prometheus volume's capacity: '1Pi' was read as 1 byte and '1e3' as unknown before."""
    snap = Snapshot([_pvc("prometheus-db-0", capacity)], SnapshotInfo(captured_at=NOW))
    assert metrics_check._claim_capacity(snap, "monitoring", "prometheus-db-0") == expected


@pytest.mark.parametrize("text,seconds", [
    ("1h", 3600), ("30m", 1800), ("1h30m", 5400), ("90s", 90), ("0", 0), ("0s", 0), ("1.5h", 5400),
    ("500ms", 0.5), ("720h0m0s", 720 * 3600), ("+2h", 7200), ("1m30s", 90), (" 5m ", 300),
    ("", None), ("1d", None), ("abc", None), ("-1h", None), ("1h 30m", None), ("h", None), (None, None),
])
def test_go_duration(text: Any, seconds: float | None) -> None:
    d = units.go_duration(text)
    assert (d.total_seconds() if d is not None else None) == seconds


@pytest.mark.parametrize("text,expected", [
    ("1w", timedelta(days=7)), ("2d", timedelta(days=2)), ("90m", timedelta(minutes=90)), ("0s", timedelta(0)),
    ("1H 30M", timedelta(minutes=90)), (None, timedelta(0)), ("", timedelta(0)), (45, timedelta(seconds=45)),
])
def test_objective_duration(text: Any, expected: timedelta) -> None:
    assert units.objective_duration(text) == expected


@pytest.mark.parametrize("text", ["soon", "1y", "h1", "1h soon"])
def test_objective_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        units.objective_duration(text)
