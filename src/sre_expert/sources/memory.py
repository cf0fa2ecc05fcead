"""A Snapshot from objects already in memory: tests, the demo builder, and sources that fetched JSON."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sre_expert.core.snapshot import Snapshot, SnapshotInfo
from sre_expert.sources.bundle_reader import clean_object


def snapshot_from_objects(
    objects: Iterable[dict[str, Any]],
    captured_at: datetime,
    logs: dict[tuple[str, str, str, bool], str] | None = None,
    cluster: str = "",
    source: str = "bundle",
    collection_errors: list[dict[str, str]] | None = None,
) -> Snapshot:
    """Same cleaning as the bundle loader (no managedFields, no Secret values), no files involved."""
    objs = []
    for o in objects:
        clean_object(o)
        objs.append(o)
    table = dict(logs or {})
    info = SnapshotInfo(captured_at=captured_at, cluster=cluster, source=source,
                        collection_errors=list(collection_errors or []))
    return Snapshot(objs, info, lambda ns, pod, c, prev: table.get((ns, pod, c, prev)))
