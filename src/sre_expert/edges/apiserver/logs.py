"""`GET /api/v1/namespaces/{ns}/pods/{name}/log` from the captured container logs.

Errors are the API server's own (400 with the same messages) so `kubectl logs` prints what it would
print against a cluster; a log the bundle simply does not hold is a 404 that says so, rather than an
empty answer that would look like a silent container.
"""

from __future__ import annotations

from typing import Any

import orjson

from sre_expert.core.snapshot import Snapshot
from sre_expert.edges.apiserver.status import status

Obj = dict[str, Any]
TEXT = "text/plain"


def _err(code: int, message: str, name: str = "") -> tuple[int, bytes, str]:
    body = status(code, message, name=name, kind="pods") if name else status(code, message)
    return code, orjson.dumps(body), "application/json"


def _bool(q: dict[str, str], key: str) -> bool:
    return q.get(key, "").lower() in ("true", "1")


def _int(q: dict[str, str], key: str) -> int | None | str:
    raw = q.get(key)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        return raw


def _container_status(pod: Obj, name: str) -> Obj:
    st = pod.get("status") or {}
    for field in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
        for cs in st.get(field) or ():
            if cs.get("name") == name:
                return cs
    return {}


def pod_log(snap: Snapshot, pod: Obj, q: dict[str, str]) -> tuple[int, bytes, str]:
    """(status, body, content type) for a log request on one pod."""
    md = pod.get("metadata") or {}
    ns, name = md.get("namespace") or "", md.get("name") or ""
    spec = pod.get("spec") or {}
    containers = [c.get("name") for c in spec.get("containers") or ()]
    inits = [c.get("name") for c in spec.get("initContainers") or ()]
    ephemeral = [c.get("name") for c in spec.get("ephemeralContainers") or ()]
    container = q.get("container") or ""
    if not container:
        if len(containers) == 1:
            container = containers[0]
        else:
            msg = f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
            if inits:
                msg += f" or one of the init containers: [{' '.join(inits)}]"
            if ephemeral:
                msg += f" or one of the ephemeral containers: [{' '.join(ephemeral)}]"
            return _err(400, msg, name)
    if container not in containers + inits + ephemeral:
        return _err(400, f"container {container} is not valid for pod {name}", name)

    tail, limit = _int(q, "tailLines"), _int(q, "limitBytes")
    if isinstance(tail, str) or (isinstance(tail, int) and tail < 0):
        return _err(422, f'PodLogOptions "{name}" is invalid: '
                         f'tailLines: Invalid value: {tail}: must be greater than or equal to 0')
    if isinstance(limit, str) or (isinstance(limit, int) and limit < 1):
        return _err(422, f'PodLogOptions "{name}" is invalid: limitBytes: Invalid value: {limit}: must be greater than 0')

    previous = _bool(q, "previous")
    text = snap.logs(ns, name, container, previous)
    if text is None:
        cs = _container_status(pod, container)
        if previous and not (cs.get("lastState") or {}).get("terminated"):
            return _err(400, f'previous terminated container "{container}" in pod "{name}" not found', name)
        waiting = (cs.get("state") or {}).get("waiting")
        if not previous and waiting and not cs.get("restartCount"):
            return _err(400, f'container "{container}" in pod "{name}" is waiting to start: '
                             f'{waiting.get("reason") or "ContainerCreating"}', name)
        which = "previous log" if previous else "log"
        return _err(404, f'the {which} of container "{container}" in pod "{name}" (namespace "{ns}") '
                         "was not captured in this bundle", name)

    from sre_expert.safety.redact import redact

    data = redact(text).encode("utf-8")  # a hand-made bundle may hold credentials in its logs
    if isinstance(tail, int):
        data = _tail(data, tail)
    if isinstance(limit, int):
        data = data[:limit]
    return 200, data, TEXT


def _tail(data: bytes, n: int) -> bytes:
    if n == 0:
        return b""
    lines = data.splitlines(keepends=True)
    return b"".join(lines[-n:])
