"""Discovery documents (`/api`, `/api/v1`, `/apis`, `/apis/{group}[/{version}]`) from the served resources.

Legacy (unaggregated) discovery: kubectl and client-go fall back to it when the answer is plain
`application/json`, and every client understands it. Verbs are get and list only, so tools that check
verbs (`kubectl api-resources --verbs=watch`, informers) see that nothing can be watched or written.
"""

from __future__ import annotations

from typing import Any

from sre_expert.edges.apiserver.resources import Resource, ResourceIndex

Obj = dict[str, Any]
READ_VERBS = ["get", "list"]

# Review APIs answered by the server itself (see server.py), not backed by bundle objects.
REVIEW_GROUPS: dict[str, list[Obj]] = {
    "authorization.k8s.io": [
        {"name": "selfsubjectaccessreviews", "singularName": "selfsubjectaccessreview", "namespaced": False,
         "kind": "SelfSubjectAccessReview", "verbs": ["create"]},
        {"name": "selfsubjectrulesreviews", "singularName": "selfsubjectrulesreview", "namespaced": False,
         "kind": "SelfSubjectRulesReview", "verbs": ["create"]},
    ],
    "authentication.k8s.io": [
        {"name": "selfsubjectreviews", "singularName": "selfsubjectreview", "namespaced": False,
         "kind": "SelfSubjectReview", "verbs": ["create"]},
    ],
}


def _api_resource(r: Resource) -> list[Obj]:
    entry: Obj = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind,
                  "verbs": READ_VERBS}
    if r.short_names:
        entry["shortNames"] = list(r.short_names)
    if r.categories:
        entry["categories"] = list(r.categories)
    out = [entry]
    if r.group == "" and r.kind == "Pod":
        out.append({"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]})
    return out


def api_versions(server_address: str) -> Obj:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def resource_list(index: ResourceIndex, group: str, version: str, hidden: set[tuple[str, str]]) -> Obj | None:
    gv = f"{group}/{version}" if group else version
    resources: list[Obj] = []
    for r in index.in_group_version(group, version):
        if r.group_kind not in hidden:
            resources.extend(_api_resource(r))
    if version == "v1" and group in REVIEW_GROUPS:
        resources.extend(REVIEW_GROUPS[group])
    if not resources:
        return None
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


def _groups(index: ResourceIndex, hidden: set[tuple[str, str]]) -> dict[str, list[str]]:
    from sre_expert.edges.apiserver.resources import sort_versions

    out: dict[str, set[str]] = {}
    for r in index.resources.values():
        if r.group and r.group_kind not in hidden:
            out.setdefault(r.group, set()).update(r.versions)
    for g in REVIEW_GROUPS:
        out.setdefault(g, set()).add("v1")
    return {g: sort_versions(vs) for g, vs in sorted(out.items())}


def _group_doc(name: str, versions: list[str]) -> Obj:
    vs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": vs, "preferredVersion": vs[0]}


def api_group_list(index: ResourceIndex, hidden: set[tuple[str, str]]) -> Obj:
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [_group_doc(g, vs) for g, vs in _groups(index, hidden).items()]}


def api_group(index: ResourceIndex, group: str, hidden: set[tuple[str, str]]) -> Obj | None:
    versions = _groups(index, hidden).get(group)
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_doc(group, versions)}
