"""Velero v1.15 objects: the BackupStorageLocation, Schedules and the Backups they produced.

Velero kinds have no status subresource and no conditions: health is `status.phase` plus times
(lastValidationTime, lastBackup, completionTimestamp) compared with now, so every time is set
relative to the builder's clock and the schedule's cron.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sre_expert.core.units import go_duration
from synth.cron import fire_times_before
from synth.meta import new_object, number, ts

VELERO_API = "velero.io/v1"


def _ttl(ttl: str) -> timedelta:
    d = go_duration(ttl)
    if d is None:
        raise ValueError(f"not a Go duration: {ttl!r}")
    return d


def backup_storage_location(
    namespace: str,
    name: str,
    created: datetime,
    now: datetime,
    *,
    provider: str = "velero.io/gcp",
    bucket: str = "mc-v4-prod-velero-backups",
    prefix: str = "cluster",
    default: bool = True,
    available: bool = True,
    message: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    obj = new_object("BackupStorageLocation", name, namespace, created, api_version=VELERO_API, labels=labels)
    obj["spec"] = {
        "accessMode": "ReadWrite",
        "default": default,
        "objectStorage": {"bucket": bucket, "prefix": prefix},
        "provider": provider,
    }
    status: dict[str, Any] = {
        "lastSyncedTime": ts(now - timedelta(seconds=number("bslsync", name, lo=20, hi=59))),
        "lastValidationTime": ts(now - timedelta(seconds=number("bslval", name, lo=5, hi=55))),
        "phase": "Available" if available else "Unavailable",
    }
    if not available:
        status["message"] = (
            f'BackupStorageLocation "{name}" is unavailable: '
            f'{message or "rpc error: code = Unknown desc = storage: bucket does not exist"}'
        )
    obj["status"] = status
    return obj


def schedule(
    namespace: str,
    name: str,
    cron: str,
    ttl: str,
    created: datetime,
    now: datetime,
    *,
    included_namespaces: Sequence[str] = ("*",),
    included_resources: Sequence[str] | None = None,
    include_cluster_resources: bool | None = None,
    fs_backup: bool = False,
    storage_location: str = "default",
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    obj = new_object("Schedule", name, namespace, created, api_version=VELERO_API, labels=labels)
    template: dict[str, Any] = {
        "csiSnapshotTimeout": "10m0s",
        "hooks": {},
        "includedNamespaces": list(included_namespaces),
        "itemOperationTimeout": "4h0m0s",
        "metadata": {},
        "storageLocation": storage_location,
        "ttl": ttl,
    }
    if fs_backup:
        template["defaultVolumesToFsBackup"] = True
    if included_resources:
        template["includedResources"] = list(included_resources)
    if include_cluster_resources is not None:
        template["includeClusterResources"] = include_cluster_resources
    obj["spec"] = {"schedule": cron, "template": template, "useOwnerReferencesInBackup": False}
    last = fire_times_before(cron, now, 1)
    status: dict[str, Any] = {"phase": "Enabled"}
    if last and last[0] > created:
        status["lastBackup"] = ts(last[0] + timedelta(seconds=number("sched", name, hi=3)))
    obj["status"] = status
    return obj


def backup_name(schedule_name: str, started: datetime) -> str:
    return f"{schedule_name}-{started.strftime('%Y%m%d%H%M%S')}"


def backup(
    sched: dict[str, Any],
    started: datetime,
    *,
    phase: str = "Completed",
    items: int | None = None,
    duration: timedelta | None = None,
    errors: int = 0,
    warnings: int = 0,
    failure_reason: str | None = None,
) -> dict[str, Any]:
    """A Backup created by `sched` at `started`, labelled velero.io/schedule-name like Velero does."""
    smd = sched["metadata"]
    tmpl = sched["spec"]["template"]
    name = backup_name(smd["name"], started)
    obj = new_object(
        "Backup",
        name,
        smd["namespace"],
        started,
        api_version=VELERO_API,
        labels={
            "velero.io/schedule-name": smd["name"],
            "velero.io/storage-location": tmpl.get("storageLocation", "default"),
        },
        annotations={
            "velero.io/resource-timeout": "10m0s",
            "velero.io/source-cluster-k8s-gitversion": "v1.32.2",
            "velero.io/source-cluster-k8s-major-version": "1",
            "velero.io/source-cluster-k8s-minor-version": "32",
        },
    )
    spec = {k: v for k, v in tmpl.items() if k != "metadata"}
    spec["metadata"] = {}
    spec["snapshotMoveData"] = False
    obj["spec"] = spec
    total = items if items is not None else number("items", name, lo=800, hi=4200)
    duration = duration or timedelta(seconds=number("dur", name, lo=25, hi=400))
    status: dict[str, Any] = {
        "expiration": ts(started + _ttl(tmpl["ttl"])),
        "formatVersion": "1.1.0",
        "hookStatus": {},
        "phase": phase,
        "progress": {"itemsBackedUp": total if phase == "Completed" else total // 2, "totalItems": total},
        "startTimestamp": ts(started),
        "version": 1,
    }
    if phase not in ("InProgress", "New"):
        status["completionTimestamp"] = ts(started + duration)
    if errors:
        status["errors"] = errors
    if warnings:
        status["warnings"] = warnings
    if failure_reason:
        status["failureReason"] = failure_reason
    obj["status"] = status
    return obj
