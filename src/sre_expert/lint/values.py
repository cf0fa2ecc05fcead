"""What values files mean: the objects a tenant chart renders from them, and the images they name.

Tenant values (values/deployments/<tenant>.yaml) declare `namespace`, `httpRoutes` and
`externalSecrets` in the shape of the objects' own spec fields (charts/tenant renders them one to
one). Deriving those objects here lets every rule, and the drift comparison, treat them like
manifests while pointing findings at the values line a human edits.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sre_expert.lint.repo import Doc, Repo, RepoObject

GATEWAY_API = "gateway.networking.k8s.io/v1"
ESO_API = "external-secrets.io/v1beta1"
DEFAULT_STORE = {"kind": "ClusterSecretStore", "name": "gcp-secretstore"}


def derive_objects(repo: Repo) -> list[RepoObject]:
    from sre_expert.lint.repo import RepoObject

    out: list[RepoObject] = []
    for doc in repo.deployment_values:
        ns = doc.data.get("namespace")
        if not isinstance(ns, str) or not ns:
            continue
        for i, route in enumerate(_list(doc.data.get("httpRoutes"))):
            if not isinstance(route, dict) or not route.get("name"):
                continue
            route_spec = {k: route[k] for k in ("parentRefs", "hostnames") if k in route}
            obj = {"apiVersion": GATEWAY_API, "kind": "HTTPRoute",
                   "metadata": {"name": str(route["name"]), "namespace": ns}, "spec": route_spec}
            out.append(RepoObject(obj, doc, ("httpRoutes", i), from_values=True))
        for i, es in enumerate(_list(doc.data.get("externalSecrets"))):
            if not isinstance(es, dict) or not es.get("name"):
                continue
            spec: dict[str, Any] = {
                "refreshInterval": es.get("refreshInterval", "1h"),
                "secretStoreRef": dict(es.get("secretStoreRef") or DEFAULT_STORE),
                "target": {"name": str(es["name"]), "creationPolicy": "Owner"},
            }
            for k in ("data", "dataFrom"):
                if k in es:
                    spec[k] = es[k]
            obj = {"apiVersion": ESO_API, "kind": "ExternalSecret",
                   "metadata": {"name": str(es["name"]), "namespace": ns}, "spec": spec}
            out.append(RepoObject(obj, doc, ("externalSecrets", i), from_values=True))
    return out


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def image_refs(doc: Doc) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """(image as the pod will name it, path of its field) for every image a values file sets.

    `image: repo/name:tag` strings, and Bitnami-style maps `image: {registry, repository, tag|digest}`.
    """

    def walk(node: Any, path: tuple[Any, ...]) -> Iterator[tuple[str, tuple[Any, ...]]]:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "image" and isinstance(v, str) and v:
                    yield v, path + (k,)
                elif k == "image" and isinstance(v, dict) and isinstance(v.get("repository"), str):
                    yield _compose(v), path + (k, "repository")
                else:
                    yield from walk(v, path + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from walk(v, path + (i,))

    yield from walk(doc.data, ())


def _compose(img: dict[str, Any]) -> str:
    ref = img["repository"]
    if img.get("registry"):
        ref = f"{img['registry']}/{ref}"
    if img.get("digest"):
        return f"{ref}@{img['digest']}"
    return f"{ref}:{img['tag']}" if img.get("tag") not in (None, "") else ref


def manifest_images(obj: dict[str, Any]) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """(image, path) of every container of a workload manifest (Pod, controllers, CronJob)."""
    spec = obj.get("spec") or {}
    pod_paths: list[tuple[Any, ...]] = []
    kind = obj.get("kind")
    if kind == "Pod":
        pod_paths.append(("spec",))
    elif kind == "CronJob":
        pod_paths.append(("spec", "jobTemplate", "spec", "template", "spec"))
    elif isinstance(spec.get("template"), dict):
        pod_paths.append(("spec", "template", "spec"))
    for base in pod_paths:
        pod: Any = obj
        for k in base:
            pod = pod.get(k) if isinstance(pod, dict) else None
        if not isinstance(pod, dict):
            continue
        for field in ("initContainers", "containers", "ephemeralContainers"):
            for i, c in enumerate(pod.get(field) or []):
                if isinstance(c, dict) and isinstance(c.get("image"), str):
                    yield c["image"], base + (field, i, "image")
