"""Argo CD Applications and ApplicationSets: every path they name in this repository must exist.

Sources from other repositories (Helm charts, upstream repos) are not this repository's business:
a source counts as "this repository" when its repoURL is values `argocd.repoURL`, else the repoURL
most sources with a `path` use. Templated parts (`{{path.filename}}`) become `*` and must match at
least one file, as the generator would.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from .codes import lint_finding
from .context import LintContext, obj_ref
from .repo import RepoObject

_TEMPLATE = re.compile(r"\{\{[^}]*\}\}")


def _norm(url: Any) -> str:
    return str(url or "").strip().removesuffix("/").removesuffix(".git").lower()


def _sources(spec: dict[str, Any]) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    out = []
    if isinstance(spec.get("source"), dict):
        out.append((("source",), spec["source"]))
    for i, s in enumerate(spec.get("sources") or []):
        if isinstance(s, dict):
            out.append((("sources", i), s))
    return out


def _own_repo(ctx: LintContext, apps: list[tuple[RepoObject, tuple[Any, ...], dict[str, Any]]]) -> str:
    vals = ctx.repo.infra_values
    if vals is not None and vals.get("argocd", "repoURL"):
        return _norm(vals.get("argocd", "repoURL"))
    counts = Counter(_norm(spec.get("repoURL")) for _, _, spec in apps if spec.get("path") is not None)
    return counts.most_common(1)[0][0] if counts else ""


def check_argocd(ctx: LintContext) -> None:
    specs: list[tuple[RepoObject, tuple[Any, ...], dict[str, Any]]] = []
    gens: list[tuple[RepoObject, tuple[Any, ...], dict[str, Any]]] = []
    for ro in ctx.repo.objects("Application", "ApplicationSet"):
        with ctx.guard("argo cd paths", ro):
            if not ro.obj.get("apiVersion", "").startswith("argoproj.io/"):
                continue
            spec = ro.obj.get("spec") or {}
            if ro.kind == "Application":
                specs += [(ro, ("spec",) + p, s) for p, s in _sources(spec)]
            else:
                tspec = (spec.get("template") or {}).get("spec") or {}
                specs += [(ro, ("spec", "template", "spec") + p, s) for p, s in _sources(tspec)]
                gens += list(_git_generators(ro, spec.get("generators") or [], ("spec", "generators")))
    own = _own_repo(ctx, specs)
    for ro, path, src in specs:
        with ctx.guard("argo cd paths", ro):
            if _norm(src.get("repoURL")) != own or src.get("chart"):
                continue
            base = src.get("path")
            if base is not None:
                _expect(ctx, ro, path + ("path",), str(base), dirs=True, what="source path")
            refs = {s.get("ref") for r2, p, s in specs
                    if r2 is ro and s.get("ref") and _norm(s.get("repoURL")) == own and p[:-1] == path[:-1]}
            for vi, vf in enumerate(((src.get("helm") or {}).get("valueFiles") or [])):
                vf = str(vf)
                if vf.startswith("$"):
                    ref, _, rest = vf[1:].partition("/")
                    if ref not in refs:
                        continue
                    target = rest
                elif base is not None:
                    target = f"{str(base).rstrip('/')}/{vf}"
                else:
                    continue
                _expect(ctx, ro, path + ("helm", "valueFiles", vi), target, dirs=False, what="Helm value file")
    for ro, path, g in gens:
        with ctx.guard("argo cd paths", ro):
            if _norm(g.get("repoURL")) != own:
                continue
            for fi, f in enumerate(g.get("files") or []):
                if isinstance(f, dict) and f.get("path"):
                    _expect(ctx, ro, path + ("files", fi, "path"), str(f["path"]), dirs=False, what="git files generator path")
            for di, d in enumerate(g.get("directories") or []):
                if isinstance(d, dict) and d.get("path") and not d.get("exclude"):
                    _expect(ctx, ro, path + ("directories", di, "path"), str(d["path"]), dirs=True,
                            what="git directories generator path")


def _git_generators(ro: RepoObject, gens: list[Any], path: tuple[Any, ...]):
    for i, g in enumerate(gens):
        if not isinstance(g, dict):
            continue
        if isinstance(g.get("git"), dict):
            yield ro, path + (i, "git"), g["git"]
        for combo in ("matrix", "merge"):
            inner = (g.get(combo) or {}).get("generators")
            if isinstance(inner, list):
                yield from _git_generators(ro, inner, path + (i, combo, "generators"))


def _expect(ctx: LintContext, ro: RepoObject, path: tuple[Any, ...], target: str, *, dirs: bool, what: str) -> None:
    pattern = _TEMPLATE.sub("*", target).strip("/")
    if pattern.startswith("./"):
        pattern = pattern[2:]
    if any(c in pattern for c in "*?["):
        ok = bool(ctx.repo.glob(pattern, dirs=dirs) or (not dirs and ctx.repo.glob(pattern, dirs=True)))
    else:
        ok = ctx.repo.exists(pattern)
    if ok:
        return
    ctx.add(lint_finding(
        "LINT-ARGO-PATH", obj_ref(ro), ro.file, ro.line(*path),
        f"{ro.display()}: {what} {target!r} matches nothing in the repository",
        evidence=[f"{'.'.join(str(p) for p in path)}: {target}"] + _near(ctx, pattern),
    ))


def _near(ctx: LintContext, pattern: str) -> list[str]:
    parent = pattern.rsplit("/", 1)[0] if "/" in pattern else ""
    while parent and not ctx.repo.exists(parent):
        parent = parent.rsplit("/", 1)[0] if "/" in parent else ""
    kids = sorted({p[len(parent) + 1:].split("/")[0] if parent else p.split("/")[0]
                   for p in ctx.repo.files | ctx.repo.dirs if not parent or p.startswith(parent + "/")})
    return [f"{parent or '(repository root)'} holds: " + ", ".join(kids[:12])] if kids else []
