"""Images in values and manifests against the registry allow-list of the Kyverno policy.

The allow-list is read from the policy itself (every `image:` pattern of a validate.pattern, split
on `|`), so the check follows the policy the cluster enforces, not a copy of it. Kyverno matches the
image string as the pod spec names it, with `*` and `?` wildcards: so does this check.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from ..model import ObjectRef
from .codes import file_ref, lint_finding
from .context import LintContext
from .repo import RepoObject
from .values import image_refs, manifest_images

WORKLOAD_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")


def allow_list(ctx: LintContext) -> tuple[RepoObject, list[str]] | None:
    for ro in ctx.repo.objects("ClusterPolicy", "Policy"):
        with ctx.guard("image registries", ro):
            if not ro.obj.get("apiVersion", "").startswith("kyverno.io/"):
                continue
            patterns: list[str] = []
            for rule in (ro.obj.get("spec") or {}).get("rules") or []:
                patterns += _image_patterns(((rule or {}).get("validate") or {}).get("pattern"))
            if patterns:
                return ro, list(dict.fromkeys(patterns))
    return None


def _image_patterns(node: Any) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k.strip("=()") == "image" and isinstance(v, str):
                out += [p.strip() for p in v.split("|") if p.strip()]
            else:
                out += _image_patterns(v)
    elif isinstance(node, list):
        for v in node:
            out += _image_patterns(v)
    return out


def check_registries(ctx: LintContext) -> None:
    found = allow_list(ctx)
    if found is None:
        if ctx.trusts_absence("image registries", "ClusterPolicy", "Policy"):
            ctx.skip("image registries: no Kyverno policy with an image allow-list in the repository")
        return
    policy, patterns = found
    where = f"ClusterPolicy {policy.name} ({policy.file}:{policy.line('spec', 'rules')})"
    docs = [ctx.repo.infra_values] if ctx.repo.infra_values else []
    for doc in docs + ctx.repo.deployment_values:
        for image, path in image_refs(doc):
            with ctx.guard("image registries", doc):
                if not any(fnmatchcase(image, p) for p in patterns):
                    ctx.add(_finding(file_ref(doc.file), doc.file, doc.line(*path), image, where, patterns))
    for ro in ctx.repo.objects(*WORKLOAD_KINDS):
        with ctx.guard("image registries", ro):
            for image, path in manifest_images(ro.obj):
                if not any(fnmatchcase(image, p) for p in patterns):
                    ctx.add(_finding(ObjectRef.of(ro.obj), ro.file, ro.line(*path), image, where, patterns))


def _finding(ref: ObjectRef, file: str, line: int, image: str, where: str, patterns: list[str]):
    return lint_finding(
        "LINT-KYVERNO-REGISTRY", ref, file, line,
        f"Image {image} is from a registry the restrict-registries policy does not allow",
        evidence=[f"image: {image}", f"allow-list from {where}: " + " | ".join(patterns[:12])
                  + (" …" if len(patterns) > 12 else "")],
    )
