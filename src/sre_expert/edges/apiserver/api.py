"""The read-only Kubernetes API over a Snapshot: one request in, one response out, no sockets.

server.py puts this behind HTTP. Keeping the routing and answers here, as plain functions of
(method, path, query, headers), lets the tests and the benchmark call it without a network.
"""

from __future__ import annotations

import bisect
import re
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import orjson

from sre_expert.core.snapshot import Snapshot
from sre_expert.edges.apiserver import convert, paging
from sre_expert.edges.apiserver import discovery_docs as discovery
from sre_expert.edges.apiserver.captured import builtins_from
from sre_expert.edges.apiserver.event_shapes import for_group
from sre_expert.edges.apiserver.query_selectors import (
    SelectorError,
    parse_field_selector,
    parse_label_selector,
)
from sre_expert.edges.apiserver.resources import Resource, ResourceIndex, build_index
from sre_expert.edges.apiserver.status import not_found, read_only, status
from sre_expert.knowledge.rest_resources import kubernetes_minor, table_minors

Obj = dict[str, Any]
JSON = "application/json"
REVIEWS = {("authorization.k8s.io", "selfsubjectaccessreviews"), ("authorization.k8s.io", "selfsubjectrulesreviews"),
           ("authentication.k8s.io", "selfsubjectreviews")}
WRITE_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
NOT_FOUND_PATH = "the server could not find the requested resource"
WATCH_REFUSED = "watch is not supported: this API serves a captured bundle, which never changes; list instead"


@dataclass(slots=True)
class Response:
    code: int
    body: bytes
    content_type: str = JSON


def bundle_version(snap: Snapshot) -> str:
    """The Kubernetes version the bundle was captured from: what the bundle says (bundle.json
    kubernetesVersion, troubleshoot's cluster_version.json), else the kubelet version most nodes report
    (the control plane is never older than its kubelets, so this is a lower bound); "" when nothing says."""
    if snap.info.kubernetes_version:
        return snap.info.kubernetes_version
    counts: dict[str, int] = {}
    for node in snap.list("Node"):
        if node.get("apiVersion") not in (None, "v1"):
            continue  # a custom resource of kind Node (Longhorn's) has no nodeInfo
        v = str(((node.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion") or "")
        if kubernetes_minor(v) is not None:
            counts[v] = counts.get(v, 0) + 1
    return max(counts, key=lambda v: (counts[v], v)) if counts else ""


def version_info(git_version: str, now: Any) -> Obj:
    """/version as kube-apiserver answers it: major and minor plain numbers, gitVersion semver ("+k3s1"
    and other build suffixes kept). An unknown version leaves major/minor empty (see BundleAPI._version)."""
    v = git_version.strip()
    m = re.match(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(.*)$", v)
    if m:
        git = f"v{m.group(1)}.{m.group(2)}.{m.group(3) or 0}{m.group(4)}"
        major, minor = m.group(1), m.group(2)
    else:
        git, major, minor = "v0.0.0-unknown", "", ""
    return {"major": major, "minor": minor, "gitVersion": git,
            "gitCommit": "", "gitTreeState": "", "buildDate": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "goVersion": "", "compiler": "", "platform": "bundle/read-only"}


def json_response(code: int, obj: Any) -> Response:
    return Response(code, orjson.dumps(obj))


def _resource_version(snap: Snapshot) -> str:
    """The list resourceVersion: the newest object's, as a real list would report (constant: nothing changes)."""
    best = 0
    for kind in snap.kinds():
        for o in snap.list(kind):
            rv = (o.get("metadata") or {}).get("resourceVersion")
            if isinstance(rv, str) and rv.isdigit() and int(rv) > best:
                best = int(rv)
    return str(best or 1)


def _accept(headers: dict[str, str]) -> tuple[str, str]:
    """('Table'|'PartialObjectMetadata'|'', meta version) from the Accept header, as content negotiation picks."""
    accept = headers.get("accept", "")
    for part in accept.split(","):
        params = dict(p.strip().split("=", 1) for p in part.split(";")[1:] if "=" in p)
        if params.get("g") == "meta.k8s.io" and params.get("v") in ("v1", "v1beta1"):
            as_ = params.get("as", "")
            if as_ == "Table":
                return "Table", params["v"]
            if as_ in ("PartialObjectMetadata", "PartialObjectMetadataList"):
                return "PartialObjectMetadata", params["v"]
    return "", ""


class BundleAPI:
    """Answers Kubernetes API requests from one Snapshot. Thread-safe: after init only a cache of
    converted objects (Events, autoscaling/v1 HPAs) is filled, under a lock."""

    def __init__(self, snap: Snapshot, discovery: list[Obj] | None = None):
        """discovery: the APIResourceLists the bundle captured from its cluster (captured.py), if any."""
        self.snap = snap
        self.version = version_info(bundle_version(snap), snap.now)
        self.captured = builtins_from(discovery) if discovery else ()
        self.index: ResourceIndex = build_index({k: list(snap.list(k)) for k in snap.kinds()},
                                                kubernetes_minor(self.version["gitVersion"]), self.captured)
        # (group, kind) left out of discovery and answered 404, as a cluster without that API: none here; a
        # subclass that imitates a cluster with fewer APIs fills it
        self.hidden: set[tuple[str, str]] = set()
        self.resource_version = _resource_version(snap)
        self.server_address = "127.0.0.1:0"
        self._converted: dict[tuple[str, str, str], list[Obj]] = {}
        self._lock = threading.Lock()

    def notes(self) -> list[str]:
        """What a user of this server should know it does not answer as the cluster did (printed by the CLI)."""
        out = []
        lo, hi = table_minors()
        minor = kubernetes_minor(self.version["gitVersion"])
        if minor is None:
            out.append("the bundle does not say its Kubernetes version: /version answers each client with its own "
                       "version, marked +unknown")
        if self.captured:
            out.append(f"discovery as the cluster answered it: {len(self.captured)} resources captured in the bundle")
        elif minor is None:
            out.append(f"discovery lists the built-in resources of 1.{hi}, the newest release known")
        elif not lo <= minor <= hi:
            near = lo if minor < lo else hi
            out.append(f"Kubernetes {self.version['gitVersion']}: discovery lists the built-in resources of 1.{near} "
                       f"(the nearest release known), plus every version the bundle's objects use")
        for kind, n in sorted(self.index.unresolved.items()):
            out.append(f"{n} {kind} object{'s' if n != 1 else ''} without apiVersion not served: no built-in kind "
                       "or captured CRD tells their API group")
        return out

    # ------------------------------------------------------------------ entry point
    def handle(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes = b"") -> Response:
        segs = [s for s in path.split("/") if s]
        q = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        if method in ("GET", "HEAD"):
            return self._get(segs, q, headers)
        if method == "POST" and len(segs) == 4 and segs[0] == "apis" and segs[2] == "v1":
            review = self._review(segs[1], segs[3], body, headers.get("content-type", ""))
            if review is not None:
                return review
        return self._write(method, segs)

    # ------------------------------------------------------------------ GET routing
    def _get(self, segs: list[str], q: dict[str, str], headers: dict[str, str]) -> Response:
        if not segs:
            return json_response(200, {"paths": ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/version",
                                         *sorted(f"/apis/{g}/{v}" for g, vs in self.index.group_versions().items()
                                                 if g for v in vs)]})
        head = segs[0]
        if head in ("healthz", "livez", "readyz") and len(segs) == 1:
            return Response(200, b"ok", "text/plain; charset=utf-8")
        if head == "version" and len(segs) == 1:
            return json_response(200, self._version(headers.get("user-agent", "")))
        if head == "api":
            if len(segs) == 1:
                return json_response(200, discovery.api_versions(self.server_address))
            if segs[1] != "v1":
                return json_response(404, status(404, NOT_FOUND_PATH))
            if len(segs) == 2:
                return self._discovery_doc(discovery.resource_list(self.index, "", "v1", self.hidden))
            return self._resource_get("", "v1", segs[2:], q, headers)
        if head == "apis":
            if len(segs) == 1:
                return json_response(200, discovery.api_group_list(self.index, self.hidden))
            if len(segs) == 2:
                return self._discovery_doc(discovery.api_group(self.index, segs[1], self.hidden))
            if len(segs) == 3:
                return self._discovery_doc(discovery.resource_list(self.index, segs[1], segs[2], self.hidden))
            return self._resource_get(segs[1], segs[2], segs[3:], q, headers)
        return json_response(404, status(404, NOT_FOUND_PATH))

    def _discovery_doc(self, doc: Obj | None) -> Response:
        return json_response(200, doc) if doc is not None else json_response(404, status(404, NOT_FOUND_PATH))

    def _version(self, user_agent: str) -> Obj:
        """The bundle's version. When nothing in the bundle tells it, a client that names its own version
        (kubectl/v1.32.4) gets that one, marked `+unknown`: a made-up 0.0 would only make kubectl warn
        about a version skew that does not exist."""
        if self.version["major"]:
            return self.version
        m = re.search(r"/v(\d+)\.(\d+)\.(\d+)", user_agent)
        if not m:
            return self.version
        return {**self.version, "major": m.group(1), "minor": m.group(2),
                "gitVersion": f"v{m.group(1)}.{m.group(2)}.{m.group(3)}+unknown"}

    def _split(self, group: str, version: str, rest: list[str]) -> tuple[Resource | None, str | None, str, list[str]] | Response:
        """Resolve a resource path to (resource or None if not served, namespace or None, name, subresource path)."""
        if rest and rest[0] == "watch":
            return json_response(405, status(405, WATCH_REFUSED, reason="MethodNotAllowed"))
        namespace: str | None = None
        if len(rest) >= 3 and rest[0] == "namespaces" and not (group == "" and rest[2] in ("status", "finalize")):
            namespace, rest = rest[1], rest[2:]
        plural, name, sub = rest[0], rest[1] if len(rest) > 1 else "", rest[2:]
        res = self.index.lookup(group, version, plural)
        if res is None or res.group_kind in self.hidden:
            return None, namespace, name, sub
        if res.namespaced and namespace is None and name:
            return None, None, name, sub   # /api/v1/pods/x is not a path a real server serves
        if not res.namespaced and namespace is not None:
            return None, namespace, name, sub
        return res, namespace, name, sub

    def _resource_get(self, group: str, version: str, rest: list[str], q: dict[str, str],
                      headers: dict[str, str]) -> Response:
        split = self._split(group, version, rest)
        if isinstance(split, Response):
            return split
        res, namespace, name, sub = split
        if res is None:
            return json_response(404, status(404, NOT_FOUND_PATH))
        if q.get("watch") in ("true", "1"):
            return json_response(405, status(405, WATCH_REFUSED, reason="MethodNotAllowed"))
        return self._resource_answer(res, group, version, namespace, name, sub, q, headers)

    def _resource_answer(self, res: Resource, group: str, version: str, namespace: str | None, name: str,
                         sub: list[str], q: dict[str, str], headers: dict[str, str]) -> Response:
        """The answer to a GET of a served resource (a list, one object or a subresource)."""
        if not name:
            return self._list(res, group, version, namespace, q, headers)
        obj = self._find(res, group, version, namespace, name)
        if obj is None:
            return json_response(404, not_found(res.plural, group, name))
        if not sub:
            return self._one(res, group, version, obj, q, headers)
        if sub == ["status"]:
            return self._one(res, group, version, obj, q, headers)
        if sub == ["log"] and res.group == "" and res.kind == "Pod":
            from sre_expert.edges.apiserver.logs import pod_log

            code, body, ctype = pod_log(self.snap, obj, q)
            return Response(code, body, ctype)
        if sub and sub[0] in ("exec", "attach", "portforward", "proxy", "eviction", "ephemeralcontainers", "binding"):
            return json_response(405, read_only("get", res.plural, group, name, sub[0]))
        return json_response(404, status(404, NOT_FOUND_PATH))

    # ------------------------------------------------------------------ objects
    def _objects(self, res: Resource, group: str, version: str) -> list[Obj]:
        """The resource's objects as served at group/version: Events in the group's shape, an HPA captured
        at autoscaling/v1 converted for v2 (convert.py); converted lists are made once and kept."""
        is_event = res.kind == "Event" and group in ("", "events.k8s.io")
        if not is_event and not convert.needs(group, res.kind):
            return res.objects
        key = (group, res.kind, "" if is_event else version)
        cached = self._converted.get(key)
        if cached is None:
            cached = [for_group(e, group) if is_event else convert.at_version(e, group, res.kind, version)
                      for e in res.objects]
            with self._lock:
                self._converted[key] = cached
        return cached

    def _in_namespace(self, objs: list[Obj], namespace: str | None) -> list[Obj]:
        if namespace is None:
            return objs
        lo = bisect.bisect_left(objs, (namespace, ""), key=paging.sort_key)
        hi = bisect.bisect_left(objs, (namespace + "\x00", ""), key=paging.sort_key)
        return objs[lo:hi]

    def _find(self, res: Resource, group: str, version: str, namespace: str | None, name: str) -> Obj | None:
        objs = self._in_namespace(self._objects(res, group, version), namespace if res.namespaced else "")
        i = bisect.bisect_left(objs, (namespace or "", name), key=paging.sort_key)
        if i < len(objs) and paging.sort_key(objs[i]) == (namespace or "", name):
            return objs[i]
        return None

    def _list(self, res: Resource, group: str, version: str, namespace: str | None, q: dict[str, str],
              headers: dict[str, str]) -> Response:
        try:
            lsel = parse_label_selector(q.get("labelSelector"))
            fsel = parse_field_selector(q.get("fieldSelector"), res.group, res.kind)
        except SelectorError as e:
            return json_response(400, status(400, str(e)))
        limit_text = q.get("limit") or ""
        try:
            limit = int(limit_text) if limit_text else None
        except ValueError:
            return json_response(400, status(400, f"limit: Invalid value: {limit_text!r}: must be an integer"))
        objs = self._in_namespace(self._objects(res, group, version), namespace)
        if lsel or fsel:
            objs = [o for o in objs if (lsel is None or lsel(o)) and (fsel is None or fsel(o))]
        try:
            items, token, remaining = paging.page(objs, limit, q.get("continue"), self.resource_version)
        except paging.PagingError as e:
            return json_response(e.code, status(e.code, str(e)))
        meta: Obj = {"resourceVersion": self.resource_version}
        if token:
            meta["continue"] = token
        if remaining is not None:
            meta["remainingItemCount"] = remaining
        gv = f"{group}/{version}" if group else version
        as_, meta_version = _accept(headers)
        if as_ == "Table":
            from sre_expert.edges.apiserver.tables import table

            return json_response(200, table(res, version, items, self.snap.now, meta, q.get("includeObject"),
                                    meta_version, self.index))
        if as_ == "PartialObjectMetadata":
            return json_response(200, {"kind": "PartialObjectMetadataList", "apiVersion": f"meta.k8s.io/{meta_version}",
                               "metadata": meta, "items": [_partial(o, meta_version) for o in items]})
        return json_response(200, {"kind": f"{res.kind}List", "apiVersion": gv, "metadata": meta, "items": items})

    def _one(self, res: Resource, group: str, version: str, obj: Obj, q: dict[str, str],
             headers: dict[str, str]) -> Response:
        as_, meta_version = _accept(headers)
        if as_ == "Table":
            from sre_expert.edges.apiserver.tables import table

            return json_response(200, table(res, version, [obj], self.snap.now, {"resourceVersion": self.resource_version},
                                    q.get("includeObject"), meta_version, self.index))
        if as_ == "PartialObjectMetadata":
            return json_response(200, _partial(obj, meta_version))
        return json_response(200, obj)

    # ------------------------------------------------------------------ writes and reviews
    def _write(self, method: str, segs: list[str]) -> Response:
        verb = WRITE_VERBS.get(method, method.lower())
        group, rest = "", []
        if len(segs) >= 3 and segs[0] == "api":
            rest = segs[2:]
        elif len(segs) >= 4 and segs[0] == "apis":
            group, rest = segs[1], segs[3:]
        if rest and rest[0] == "namespaces" and len(rest) >= 3:
            rest = rest[2:]
        resource = rest[0] if rest else (segs[-1] if segs else "")
        name = rest[1] if len(rest) > 1 else ""
        if method == "DELETE" and not name:
            verb = "deletecollection"
        return json_response(405, read_only(verb, resource, group, name, "/".join(rest[2:])))

    def _review(self, group: str, resource: str, body: bytes, content_type: str) -> Response | None:
        if (group, resource) not in REVIEWS:
            return None
        try:
            if "protobuf" in content_type:
                from sre_expert.edges.apiserver.protobuf import decode_review

                req = decode_review(body)
            else:
                req = orjson.loads(body) if body else {}
        except ValueError as e:  # orjson.JSONDecodeError and ProtobufError are ValueErrors
            return json_response(400, status(400, f"the request body cannot be decoded: {e}"))
        if not isinstance(req, dict):
            return json_response(400, status(400, "the request body must be a JSON object"))
        out = {k: v for k, v in req.items() if k != "status"}
        out.setdefault("metadata", {})
        if group == "authorization.k8s.io" and resource == "selfsubjectaccessreviews":
            spec = req.get("spec") or {}
            attrs = spec.get("resourceAttributes") or spec.get("nonResourceAttributes") or {}
            verb = str(attrs.get("verb") or "")
            allowed = verb in ("get", "list", "watch")
            out["status"] = {"allowed": allowed, "reason": "the bundle is served read-only: get and list are allowed"
                             if allowed else f"the bundle is served read-only: {verb or 'this verb'} is not allowed"}
            return json_response(201, out)
        if group == "authorization.k8s.io" and resource == "selfsubjectrulesreviews":
            out["status"] = {"resourceRules": [{"verbs": ["get", "list", "watch"], "apiGroups": ["*"], "resources": ["*"]}],
                             "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["*"]}], "incomplete": False}
            return json_response(201, out)
        if group == "authentication.k8s.io" and resource == "selfsubjectreviews":
            out["status"] = {"userInfo": {"username": "bundle-reader", "groups": ["system:authenticated"]}}
            return json_response(201, out)
        return None


def _partial(obj: Obj, meta_version: str) -> Obj:
    return {"kind": "PartialObjectMetadata", "apiVersion": f"meta.k8s.io/{meta_version}",
            "metadata": obj.get("metadata") or {}}

