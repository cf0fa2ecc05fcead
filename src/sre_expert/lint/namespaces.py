"""The namespace each manifest is deployed to, as the deploying tool decides it.

A manifest without `metadata.namespace` is not "in default": kustomize's `namespace:` (followed
through `resources:` into bases and components, the outermost overlay winning) and a Flux
Kustomization's `spec.targetNamespace` replace the namespace of every namespaced object they build;
an Argo CD Application's `spec.destination.namespace` fills it where the manifest sets none. A file
deployed by several overlays or applications is in each of their namespaces.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from typing import Any

from sre_expert.lint.repo import Doc, Repo

KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_REMOTE = re.compile(r"^(?:[a-z+]+://|git@|github\.com/|gitlab\.com/|bitbucket\.org/)")


def norm_url(url: Any) -> str:
    """A git URL reduced to host/path, so https, ssh and scp forms and a `.git` suffix compare equal."""
    u = str(url or "").strip().lower()
    u = re.sub(r"^[a-z+]+://", "", u)
    u = re.sub(r"^[^@/]+@", "", u)
    u = u.replace(":", "/", 1) if re.match(r"^[^/]+:[^/\d]", u) else u
    return u.removesuffix("/").removesuffix(".git").removesuffix("/")


def kustomization(repo: Repo, d: str) -> Doc | None:
    for name in KUSTOMIZATIONS:
        doc = repo.doc(f"{d}/{name}" if d else name)
        if doc is not None and isinstance(doc.data, dict):
            return doc
    return None


def kustomize_files(repo: Repo, d: str, outer_ns: str | None, out: dict[str, set[str | None]],
                    seen: frozenset[str] = frozenset()) -> None:
    """Record, for each manifest a kustomize build of directory `d` includes, the namespace it ends in
    (None: the manifest's own). An outer overlay's namespace wins over a base's."""
    k = kustomization(repo, d)
    if k is None or d in seen:
        return
    own = k.data.get("namespace")
    ns = outer_ns or (str(own) if isinstance(own, str) and own else None)
    entries: list[Any] = []
    for key in ("resources", "bases", "components"):
        v = k.data.get(key)
        entries += v if isinstance(v, list) else []
    for e in entries:
        if not isinstance(e, str) or _REMOTE.match(e):
            continue
        p = posixpath.normpath(posixpath.join(d, e)) if d else posixpath.normpath(e)
        if p in repo.files:
            out[p].add(ns)
        elif p in repo.dirs:
            kustomize_files(repo, p, ns, out, seen | {d})


def _tree(repo: Repo, d: str, recurse: bool) -> list[str]:
    d = d.strip("/")
    d = "" if d in (".", "") else posixpath.normpath(d.removeprefix("./"))
    pre = f"{d}/" if d else ""
    return [f for f in repo.files if f.startswith(pre) and f.endswith((".yaml", ".yml", ".json"))
            and (recurse or "/" not in f[len(pre):])]


def deployed(repo: Repo, path: str, target_ns: str | None, recurse: bool) -> dict[str, set[str | None]]:
    """Manifests a tool deploys from `path`: its kustomization's build when it has one, else its files
    (all below it when `recurse`)."""
    out: dict[str, set[str | None]] = defaultdict(set)
    d = posixpath.normpath(path.strip("/").removeprefix("./")) if path.strip("/.") else ""
    if kustomization(repo, d) is not None:
        kustomize_files(repo, d, target_ns, out)
    else:
        for f in _tree(repo, d, recurse):
            out[f].add(target_ns)
    return out


def argo_sources(doc: Doc) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """(path in the document, source) of an Application, or of an ApplicationSet's template."""
    spec = doc.get("spec")
    base: tuple[Any, ...] = ("spec",)
    if doc.kind == "ApplicationSet":
        spec, base = doc.get("spec", "template", "spec"), ("spec", "template", "spec")
    if not isinstance(spec, dict):
        return []
    out = [(base + ("source",), spec["source"])] if isinstance(spec.get("source"), dict) else []
    out += [(base + ("sources", i), s) for i, s in enumerate(spec.get("sources") or []) if isinstance(s, dict)]
    return out


def own_repo(repo: Repo) -> tuple[str, str]:
    """(normalised URL of this repository, how it is known): --repo-url or git's origin; else the platform
    values' argocd.repoURL; else a guess, the repoURL most Argo CD sources with a `path` name; ("", "")."""
    if repo.origin:
        return norm_url(repo.origin), repo.origin_from
    vals = repo.infra_values
    if vals is not None and vals.get("argocd", "repoURL"):
        return norm_url(vals.get("argocd", "repoURL")), "values argocd.repoURL"
    counts: dict[str, int] = defaultdict(int)
    for doc in repo.docs:
        if doc.is_object and doc.kind in ("Application", "ApplicationSet") and str(doc.data.get("apiVersion", "")
                                                                                   ).startswith("argoproj.io/"):
            for _, src in argo_sources(doc):
                if src.get("path") is not None and src.get("repoURL"):
                    counts[norm_url(src["repoURL"])] += 1
    if counts:
        return max(counts, key=lambda u: counts[u]), "guessed"
    return "", ""


def _own_source(repo: Repo, src: dict[str, Any], own: str) -> bool:
    return bool(own) and norm_url(src.get("repoURL")) == own


def patch_files(repo: Repo, d: str, k: Doc) -> set[str]:
    """Files a kustomization applies as patches (patchesStrategicMerge, patches[].path, patchesJson6902)."""
    out: set[str] = set()
    for key in ("patchesStrategicMerge", "patches", "patchesJson6902"):
        for e in k.data.get(key) or [] if isinstance(k.data.get(key), list) else []:
            rel = e if isinstance(e, str) else e.get("path") if isinstance(e, dict) else None
            if isinstance(rel, str) and "\n" not in rel:
                p = posixpath.normpath(posixpath.join(d, rel)) if d else posixpath.normpath(rel)
                if p in repo.files:
                    out.add(p)
    return out


def assign_namespaces(repo: Repo) -> None:
    own, _ = own_repo(repo)
    override: dict[str, set[str]] = defaultdict(set)
    default: dict[str, set[str]] = defaultdict(set)
    for d in sorted({f.rsplit("/", 1)[0] if "/" in f else "" for f in repo.files
                     if f.rsplit("/", 1)[-1] in KUSTOMIZATIONS}):
        found: dict[str, set[str | None]] = defaultdict(set)
        kustomize_files(repo, d, None, found)
        k = kustomization(repo, d)
        if k is not None:
            repo.patches |= patch_files(repo, d, k)
        for f, nss in found.items():
            override[f] |= {n for n in nss if n}
    for doc in repo.docs:
        data = doc.data
        if not doc.is_object or repo.is_fixture(doc.file):
            continue
        api, kind, spec = data.get("apiVersion", ""), data.get("kind"), data.get("spec")
        if not isinstance(spec, dict):
            continue
        if kind == "Kustomization" and api.startswith("kustomize.toolkit.fluxcd.io/") and isinstance(spec.get("path"), str):
            target = spec.get("targetNamespace")
            for f, nss in deployed(repo, spec["path"], str(target) if target else None, recurse=True).items():
                override[f] |= {n for n in nss if n}
        elif kind == "Application" and api.startswith("argoproj.io/"):
            dest = (spec.get("destination") or {}).get("namespace") if isinstance(spec.get("destination"), dict) else None
            srcs = [spec["source"]] if isinstance(spec.get("source"), dict) else []
            srcs += [s for s in spec.get("sources") or [] if isinstance(s, dict)]
            for src in srcs:
                if not isinstance(src.get("path"), str) or src.get("chart") or not _own_source(repo, src, own):
                    continue
                recurse = bool((src.get("directory") or {}).get("recurse")) if isinstance(src.get("directory"), dict) else False
                for f, nss in deployed(repo, src["path"], None, recurse).items():
                    override[f] |= {n for n in nss if n}
                    if dest:
                        default[f].add(str(dest))
    for doc in repo.docs:
        if doc.file in override and override[doc.file]:
            doc.ns_override = tuple(sorted(override[doc.file]))
        if doc.file in default:
            doc.ns_default = tuple(sorted(default[doc.file]))
