"""Shared by the live-source, collect and RBAC tests: a bundle served as a Kubernetes API by
`sre-expert bundle serve` (in-process), a kubeconfig for it, fast sweep options, a faulty synth
platform, and a comparable fingerprint of a diagnosis.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apiserver_faults import Fault, start_faulty_server

from sre_expert.core.snapshot import Snapshot
from sre_expert.diagnosis.engine import Report, diagnose
from sre_expert.edges.apiserver.http_front import ServerHandle
from sre_expert.edges.apiserver.kubeconfig import write_kubeconfig
from sre_expert.sources.live import LiveOptions
from sre_expert.sources.memory import snapshot_from_objects
from synth import PlatformBuilder, faults, healthy_platform, write_bundle

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
TENANT = "mycure-production"
MONGO_URI_LINE = ("2026-11-26T09:58:01Z ERROR MongoServerSelectionError: connect ECONNREFUSED "
                  "mongodb://api:s3cr3t-pw@mongodb.mycure-production.svc:27017/app\n")


@contextmanager
def served(source: Snapshot | str | Path, tmp_path: Path, faults: dict[str, Any] | None = None,
           name: str = "kc") -> Iterator[tuple[ServerHandle, Path]]:
    handle = start_faulty_server(source, faults)
    try:
        yield handle, write_kubeconfig(tmp_path / name, handle.url)
    finally:
        handle.close()


def fast(kubeconfig: Path, now: datetime, **kw: Any) -> LiveOptions:
    """Options for tests: the bundle's capture time as the clock, short timeouts and backoffs."""
    base: dict[str, Any] = dict(kubeconfig=str(kubeconfig), clock=lambda: now, timeout=5.0, retries=2,
                                backoff=0.01, max_backoff=0.05, max_retry_after=0.1)
    base.update(kw)
    return LiveOptions(**base)


def fingerprint(report: Report) -> list[tuple[Any, ...]]:
    """What must not change between sources: each finding's code, object and root-cause flag, and the
    findings it explains (by code and object, since ids depend on order)."""
    by_id = {f.id: f for f in report.findings}
    return sorted(
        (f.code, f.object.key, f.root_cause, tuple(sorted((by_id[c].code, by_id[c].object.key) for c in f.causes)))
        for f in report.findings
    )


def without(snap: Snapshot, kinds: set[str], errors: list[dict[str, str]]) -> Snapshot:
    """The oracle for a sweep that could not read `kinds`: the same capture without them, with errors."""
    objs = [copy.deepcopy(o) for k in snap.kinds() if k not in kinds for o in snap.list(k)]
    logs: dict[tuple[str, str, str, bool], str] = {}
    for pod in snap.list("Pod"):
        md = pod["metadata"]
        for cs in (pod.get("status") or {}).get("containerStatuses") or ():
            for prev in (False, True):
                text = snap.logs(md["namespace"], md["name"], cs["name"], prev)
                if text is not None:
                    logs[(md["namespace"], md["name"], cs["name"], prev)] = text
    return snapshot_from_objects(objs, snap.now, logs=logs, collection_errors=errors)


def faulty_platform() -> PlatformBuilder:
    """The reference platform with faults across areas, one of them with a password in its crash log."""
    b = healthy_platform(PlatformBuilder(NOW))
    api = b.workload("Deployment", TENANT, "api")
    faults.crashloop(b, api.pods[0], previous_log=MONGO_URI_LINE)
    faults.create_container_config_error(b, api.pods[1])
    faults.pvc_pending(b, b.workload("StatefulSet", TENANT, "mongodb"), storage_class="fast-ssd")
    es = next(o for o in b.objects if o["kind"] == "ExternalSecret" and o["metadata"]["namespace"] == "lfh-staging")
    faults.external_secret_failed(b, es)
    faults.image_pull_backoff(b, b.workload("Deployment", "lfh-staging", "api"))
    return b


def write_faulty_bundle(path: Path) -> Path:
    return write_bundle(faulty_platform(), path)


def counting_faults(api: Any, kind: str, spec: int | str, times: int) -> None:
    """Make `kind` fail with `spec` for its first `times` requests only (the server's faults are
    permanent), by replacing the served API's fault table with one that forgets after `times` uses."""
    fault = Fault.parse(spec)
    left = {"n": times}
    previous = api.faults

    class Faults(dict):
        def get(self, key: Any, default: Any = None) -> Any:
            if key == kind and left["n"] > 0:
                left["n"] -= 1
                return fault
            return previous.get(key, default)

    api.faults = Faults(previous)


def wrap_handle(api: Any, wrapper: Callable[..., Any]) -> None:
    """Route every request through wrapper(inner, method, path, query, headers, body)."""
    inner = api.handle

    def handle(method: str, path: str, query: str, headers: dict[str, str], body: bytes = b"") -> Any:
        return wrapper(inner, method, path, query, headers, body)

    api.handle = handle


def findings(snap: Snapshot) -> list[tuple[Any, ...]]:
    return fingerprint(diagnose(snap))


__all__ = ["NOW", "TENANT", "MONGO_URI_LINE", "counting_faults", "fast", "faulty_platform", "findings",
           "fingerprint", "served", "without", "wrap_handle", "write_faulty_bundle"]
