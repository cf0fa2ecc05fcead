"""API discovery: which of the collected kinds this cluster serves, at which version and REST path.

Aggregated discovery (`/api` and `/apis` as `APIGroupDiscoveryList`, Kubernetes ≥ 1.26 beta, 1.30 GA)
answers in two requests; older servers (and simple fakes) get the legacy walk: `/api`, `/api/v1`,
`/apis`, then one `/apis/<group>/<version>` per group that holds a wanted kind. Parsing is pure; the
two fetch functions do the I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from sre_expert.core.kinds import KindSpec
from sre_expert.sources.live_http import HttpClient, RequestFailed

AGGREGATED_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json"
)


@dataclass(frozen=True, slots=True)
class Served:
    """A kind as this server serves it."""

    spec: KindSpec
    version: str
    resource: str
    namespaced: bool

    @property
    def group_version(self) -> str:
        return f"{self.spec.group}/{self.version}" if self.spec.group else self.version

    def list_path(self, namespace: str | None = None) -> str:
        base = f"/apis/{self.spec.group}/{self.version}" if self.spec.group else f"/api/{self.version}"
        if namespace and self.namespaced:
            return f"{base}/namespaces/{namespace}/{self.resource}"
        return f"{base}/{self.resource}"


# (group, kind) -> [(version, resource, namespaced)] in the server's preference order
Offers = dict[tuple[str, str], list[tuple[str, str, bool]]]


def parse_resource_list(group: str, doc: Any, offers: Offers) -> None:
    """An APIResourceList (`/api/v1`, `/apis/apps/v1`): add its top-level, listable resources."""
    if not isinstance(doc, dict):
        return
    gv = str(doc.get("groupVersion") or "")
    version = gv.split("/", 1)[1] if "/" in gv else gv
    for r in doc.get("resources") or ():
        name = r.get("name") or ""
        if not name or "/" in name:
            continue
        verbs = r.get("verbs")
        if verbs is not None and "list" not in verbs:
            continue
        offers.setdefault((group, r.get("kind") or ""), []).append((version, name, bool(r.get("namespaced"))))


def parse_aggregated(doc: Any, offers: Offers) -> bool:
    """An APIGroupDiscoveryList; False when the server answered with something else."""
    if not isinstance(doc, dict) or doc.get("kind") != "APIGroupDiscoveryList":
        return False
    for item in doc.get("items") or ():
        group = ((item.get("metadata") or {}).get("name")) or ""
        for v in item.get("versions") or ():  # already in preference order
            version = v.get("version") or ""
            for r in v.get("resources") or ():
                kind = ((r.get("responseKind") or {}).get("kind")) or ""
                verbs = r.get("verbs")
                if not kind or (verbs is not None and "list" not in verbs):
                    continue
                offers.setdefault((group, kind), []).append((version, r.get("resource") or "", r.get("scope") != "Cluster"))
    return True


def resolve(wanted: Iterable[KindSpec], offers: Offers) -> tuple[list[Served], list[KindSpec]]:
    """(served kinds, kinds this cluster does not serve). The first offered version wins."""
    served, missing = [], []
    for spec in wanted:
        got = offers.get(spec.key)
        if got:
            version, resource, namespaced = got[0]
            served.append(Served(spec, version, resource or spec.resource, namespaced))
        else:
            missing.append(spec)
    return served, missing


def _versions(group: dict[str, Any]) -> list[str]:
    """Versions of an APIGroup, preferred first."""
    pref = ((group.get("preferredVersion") or {}).get("version")) or ""
    rest = [v.get("version") for v in group.get("versions") or () if v.get("version") and v.get("version") != pref]
    return ([pref] if pref else []) + rest


def discover(http: HttpClient, wanted: list[KindSpec], pool: Executor) -> tuple[list[Served], list[KindSpec]]:
    """Ask the server which wanted kinds it serves. Raises RequestFailed when discovery itself fails."""
    offers: Offers = {}
    core = http.get_json("/api", accept=AGGREGATED_ACCEPT)
    groups = http.get_json("/apis", accept=AGGREGATED_ACCEPT)
    if parse_aggregated(core, offers) and parse_aggregated(groups, offers):
        return resolve(wanted, offers)

    offers.clear()
    want_groups = {s.group for s in wanted}
    fetches: list[tuple[str, str]] = []  # (group, path)
    if "" in want_groups:
        for v in (core or {}).get("versions") or ["v1"]:
            fetches.append(("", f"/api/{v}"))
    by_name = {g.get("name"): g for g in (groups or {}).get("groups") or ()}
    later: dict[str, list[str]] = {}
    for name in sorted(want_groups - {""}):
        g = by_name.get(name)
        if not g:
            continue
        versions = _versions(g)
        if versions:
            fetches.append((name, f"/apis/{name}/{versions[0]}"))
            later[name] = versions[1:]

    def fetch(group: str, path: str) -> tuple[str, Any]:
        try:
            return group, http.get_json(path)
        except RequestFailed as e:
            if e.status in (403, 404):  # a group version that vanished, or a partially aggregated API
                return group, None
            raise

    for group, doc in pool_map(pool, fetch, fetches):
        parse_resource_list(group, doc, offers)
    # Kinds absent from a group's preferred version may be served only by an older one.
    second = [(g, f"/apis/{g}/{v}") for g, vs in later.items() for v in vs
              if any(s.group == g and s.key not in offers for s in wanted)]
    for group, doc in pool_map(pool, fetch, second):
        parse_resource_list(group, doc, offers)
    return resolve(wanted, offers)


def pool_map(pool: Executor, fn: Callable[..., Any], args: list[tuple[Any, ...]]) -> list[Any]:
    futures = [pool.submit(fn, *a) for a in args]
    return [f.result() for f in futures]
