"""Argo CD Applications and ApplicationSets: every path they name in this repository must exist.

Sources from other repositories (Helm charts, upstream repos) are not this repository's business: a
source counts as "this repository" when its repoURL, normalised (https/ssh/.git), is `--repo-url` or
the checkout's git origin; without either, values `argocd.repoURL`; without that, the repoURL most
sources with a `path` use, and the report says it was a guess. Paths in other repositories are listed
as not checked. Templated parts (`{{path.filename}}`) become `*` and must match at least one file, as
the generator would.
"""

from __future__ import annotations

import re
from typing import Any

from sre_expert.lint.codes import lint_finding
from sre_expert.lint.context import LintContext, obj_ref
from sre_expert.lint.namespaces import norm_url, own_repo
from sre_expert.lint.repo import RepoObject

_TEMPLATE = re.compile(r"\{\{[^}]*\}\}")


def _norm(url: Any) -> str:
    return norm_url(url)


def _sources(spec: dict[str, Any]) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    out: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    if isinstance(spec.get("source"), dict):
        out.append((("source",), spec["source"]))
    for i, s in enumerate(spec.get("sources") or []):
        if isinstance(s, dict):
            out.append((("sources", i), s))
    return out


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
    own, how = own_repo(ctx.repo)
    if how == "guessed" and (specs or gens):
        ctx.skip(f"argo cd paths: which repository this checkout is was guessed ({own}, the repoURL most sources "
                 "name): no git remote origin at its top level; pass --repo-url to say")
    elsewhere: dict[str, list[str]] = {}
    for ro, path, src in specs:
        with ctx.guard("argo cd paths", ro):
            if src.get("chart"):
                continue
            if _norm(src.get("repoURL")) != own:
                if src.get("path") is not None:
                    elsewhere.setdefault(str(src.get("repoURL")), []).append(str(src["path"]))
                continue
            base = src.get("path")
            if base is not None:
                _expect(ctx, ro, path + ("path",), str(base), dirs=True, what="source path")
            refs = {s.get("ref") for r2, p, s in specs
                    if r2 is ro and s.get("ref") and _norm(s.get("repoURL")) == own and p[:-1] == path[:-1]}
            for vi, vf in enumerate((src.get("helm") or {}).get("valueFiles") or []):
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
                elsewhere.setdefault(str(g.get("repoURL")), []).extend(
                    str(x.get("path")) for x in (g.get("files") or []) + (g.get("directories") or [])
                    if isinstance(x, dict) and x.get("path"))
                continue
            for fi, f in enumerate(g.get("files") or []):
                if isinstance(f, dict) and f.get("path"):
                    _expect(ctx, ro, path + ("files", fi, "path"), str(f["path"]), dirs=False, what="git files generator path")
            for di, d in enumerate(g.get("directories") or []):
                if isinstance(d, dict) and d.get("path") and not d.get("exclude"):
                    _expect(ctx, ro, path + ("directories", di, "path"), str(d["path"]), dirs=True,
                            what="git directories generator path")

    for url, paths in elsewhere.items():
        uniq = list(dict.fromkeys(paths))
        shown = ", ".join(uniq[:4]) + (f" and {len(uniq) - 4} more" if len(uniq) > 4 else "")
        ctx.skip(f"argo cd paths: not checked: {'path' if len(uniq) == 1 else 'paths'} {shown} "
                 f"{'is' if len(uniq) == 1 else 'are'} in another repository ({url})")


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
