"""A `bundle serve` API server that misbehaves on purpose, for the tests of what reads it (live source,
collect, kubectl): per kind, a status code (403 worded as RBAC does, 404 with the kind gone from discovery
too, 500, any other), a delay, or a body cut in half. Built by subclassing the product's API and HTTP handler,
so the product carries no fault switch."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from sre_expert.core.snapshot import Snapshot
from sre_expert.edges.apiserver.api import BundleAPI, Response
from sre_expert.edges.apiserver.http_front import RequestHandler, ServerHandle, start_server
from sre_expert.edges.apiserver.resources import Resource
from sre_expert.edges.apiserver.status import status

FaultSpec = int | str


@dataclass(frozen=True, slots=True)
class Fault:
    """What to do to every request for one kind: a status code, a delay, or a cut body."""

    code: int = 0
    delay: float = 0.0
    truncate: bool = False

    @classmethod
    def parse(cls, spec: FaultSpec) -> Fault:
        if isinstance(spec, int):
            return cls(code=spec)
        text = str(spec).strip()
        if text.isdigit():
            return cls(code=int(text))
        if text.startswith("slow:"):
            return cls(delay=float(text[5:]))
        if text == "slow":
            return cls(delay=1.0)
        if text == "truncate":
            return cls(truncate=True)
        raise ValueError(f"unknown fault {spec!r}: use an HTTP status (403, 404, 500...), 'slow:SECONDS' or 'truncate'")


@dataclass(slots=True)
class Injected(Response):
    """An answer the faulty handler delays or cuts."""

    delay: float = 0.0
    truncate: bool = False


def forbidden(verb: str, resource: str, group: str, namespace: str = "", name: str = "") -> dict[str, Any]:
    """A 403 as RBAC words it, for a reader without permission."""
    what = f"{resource}.{group}" if group else resource
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    subject = f'{what} "{name}"' if name else what
    return status(403, f'{subject} is forbidden: User "system:serviceaccount:sre-expert:reader" cannot {verb} '
                       f'resource "{resource}" in API group "{group}" {scope}', name=name, group=group, kind=resource)


class FaultyBundleAPI(BundleAPI):
    """BundleAPI whose answers for the kinds in `faults` fail as told; `faults` may be replaced while serving."""

    def __init__(self, snap: Snapshot, discovery: list[Any] | None = None,
                 faults: Mapping[str, FaultSpec] | None = None) -> None:
        super().__init__(snap, discovery)
        self.faults: Mapping[str, Fault] = {kind: Fault.parse(spec) for kind, spec in (faults or {}).items()}
        self.hidden = {r.group_kind for r in self.index.resources.values()
                       if (f := self.faults.get(r.kind)) and f.code == 404}

    def _resource_answer(self, res: Resource, group: str, version: str, namespace: str | None, name: str,
                         sub: list[str], q: dict[str, str], headers: dict[str, str]) -> Response:
        fault = self.faults.get(res.kind)
        if fault is None:
            return super()._resource_answer(res, group, version, namespace, name, sub, q, headers)
        if fault.code:
            verb = "get" if name else "list"
            if fault.code == 403:
                doc = forbidden(verb, res.plural, group, namespace or "", name)
            elif fault.code == 500:
                doc = status(500, f"Internal error occurred: {verb} {res.plural}: injected fault")
            else:
                doc = status(fault.code, f"{verb} {res.plural}: injected fault ({fault.code})")
            return Response(fault.code, orjson.dumps(doc))
        resp = super()._resource_answer(res, group, version, namespace, name, sub, q, headers)
        return Injected(resp.code, resp.body, resp.content_type, fault.delay, fault.truncate)


class FaultyHandler(RequestHandler):
    """Waits before an Injected answer, or sends half of its body and drops the connection."""

    def _send(self, resp: Response, head: bool = False) -> None:
        if not isinstance(resp, Injected):
            return super()._send(resp, head)
        if resp.delay:
            time.sleep(resp.delay)
        if not resp.truncate:
            return super()._send(resp, head)
        self.send_response(resp.code)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(resp.body[: len(resp.body) // 2])
            self.wfile.flush()
        self.close_connection = True
        return None


def faulty_api(faults: Mapping[str, FaultSpec] | None) -> Callable[[Snapshot, list[Any] | None], BundleAPI]:
    return lambda snap, discovery: FaultyBundleAPI(snap, discovery, faults)


def start_faulty_server(source: Snapshot | str | Path, faults: Mapping[str, FaultSpec] | None = None,
                        **kw: Any) -> ServerHandle:
    """start_server with the faults applied (an empty table serves as the product does)."""
    return start_server(source, api_type=faulty_api(faults), handler_type=FaultyHandler, **kw)
