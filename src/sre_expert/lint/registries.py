"""Images in values and manifests against the registry allow-lists of the Kyverno policies that restrict them.

A registry policy is a Kyverno validate rule whose pattern restricts container `image:` fields to
registry prefixes (`"ghcr.io/org/* | registry.k8s.io/*"`); rules about tags (`"!*:latest"`, `"*:*"`)
are not allow-lists. Each rule applies where Kyverno would apply it: the kinds of its match (a Pod
rule also covers the Pod controllers, as Kyverno's auto-generation does, unless the policy's
autogen-controllers annotation narrows that), its namespaces minus those of its exclude, its own
namespace for a namespaced Policy. Its validationFailureAction decides the severity: Enforce refuses
the Pod (critical), Audit only reports it (warning, said "audit"); Kyverno's default is Audit.
Kyverno matches the image string as the pod spec names it, with `*` and `?` wildcards: so does this check.
Rules selecting by labels (selector, namespaceSelector) are not evaluated: the labels of the target
namespaces are not known here, and that is said.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from sre_expert.core.model import ObjectRef
from sre_expert.lint.codes import file_ref, lint_finding
from sre_expert.lint.context import LintContext
from sre_expert.lint.repo import RepoObject
from sre_expert.lint.values import image_refs, manifest_images

WORKLOAD_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")
POD_CONTROLLERS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")
AUTOGEN = "pod-policies.kyverno.io/autogen-controllers"


@dataclass(slots=True)
class RegistryRule:
    """One validate rule that restricts image registries, with where it applies."""

    policy: RepoObject
    rule: str
    rule_index: int
    patterns: list[str]
    kinds: set[str]
    namespaces: list[str] = field(default_factory=list)  # empty: every namespace
    excluded: list[str] = field(default_factory=list)
    enforce: bool = False
    by_labels: bool = False

    @property
    def where(self) -> str:
        return f"{self.policy.kind} {self.policy.name} rule {self.rule} ({self.policy.file}:" \
               f"{self.policy.line('spec', 'rules', self.rule_index)})"

    def applies(self, kind: str, namespace: str) -> bool:
        if kind not in self.kinds:
            return False
        if self.namespaces and not any(fnmatchcase(namespace, n) for n in self.namespaces):
            return False
        return not any(fnmatchcase(namespace, n) for n in self.excluded)


def _image_patterns(node: Any) -> list[str]:
    """Alternatives of every unconditional `image:` pattern. A container pattern with a conditional anchor
    (`(name): controller`) constrains only the containers it selects: not an allow-list."""
    out: list[str] = []
    if isinstance(node, dict):
        if any(str(k).startswith("(") for k in node):
            return out
        for k, v in node.items():
            if str(k).strip("=()<>^+X") == "image" and isinstance(v, str):
                out += [p.strip() for p in v.split("|") if p.strip()]
            else:
                out += _image_patterns(v)
    elif isinstance(node, list):
        for v in node:
            out += _image_patterns(v)
    return out


def restricts_registries(patterns: list[str]) -> bool:
    """Every alternative is a registry or repository prefix whose wildcard starts a path segment
    (`ghcr.io/org/*`): not a tag rule (`*:*`, `!*:latest`), a negation, nor one image pinned to a
    version (`registry.k8s.io/ingress-nginx/controller:v1.11.*`)."""
    return bool(patterns) and all(p[0] not in "*?!" and "*" in p and p.split("*", 1)[0].endswith("/")
                                  for p in patterns)


def _resource_blocks(node: Any) -> list[dict[str, Any]]:
    """The `resources` blocks of a match/exclude, old style (`resources:`) or `any:`/`all:` lists."""
    if not isinstance(node, dict):
        return []
    out = [node["resources"]] if isinstance(node.get("resources"), dict) else []
    for key in ("any", "all"):
        for item in node.get(key) or []:
            if isinstance(item, dict) and isinstance(item.get("resources"), dict):
                out.append(item["resources"])
    return out


def _kind(k: Any) -> str:
    return str(k).rsplit("/", 1)[-1]


def registry_rules(ctx: LintContext) -> list[RegistryRule]:
    out: list[RegistryRule] = []
    for ro in ctx.repo.objects("ClusterPolicy", "Policy"):
        with ctx.guard("image registries", ro):
            if not ro.obj.get("apiVersion", "").startswith("kyverno.io/"):
                continue
            spec = ro.obj.get("spec") or {}
            annotations = ro.metadata.get("annotations") or {}
            autogen = str(annotations.get(AUTOGEN) or "")
            controllers = set() if autogen.lower() == "none" else (
                {c.strip() for c in autogen.split(",") if c.strip()} if autogen else set(POD_CONTROLLERS))
            for ri, rule in enumerate(spec.get("rules") or []):
                if not isinstance(rule, dict):
                    continue
                validate = rule.get("validate") or {}
                patterns = list(dict.fromkeys(_image_patterns(validate.get("pattern"))))
                for alt in validate.get("anyPattern") or []:
                    patterns += [p for p in _image_patterns(alt) if p not in patterns]
                if not restricts_registries(patterns):
                    continue
                match, exclude = _resource_blocks(rule.get("match")), _resource_blocks(rule.get("exclude"))
                kinds = {_kind(k) for b in match for k in b.get("kinds") or []}
                if "Pod" in kinds:
                    kinds |= controllers
                namespaces = [str(n) for b in match for n in b.get("namespaces") or []]
                if ro.kind == "Policy":
                    namespaces = [ro.namespace or "default"]
                action = validate.get("failureAction") or spec.get("validationFailureAction") or "Audit"
                out.append(RegistryRule(
                    ro, str(rule.get("name") or ri), ri, patterns, kinds, namespaces,
                    [str(n) for b in exclude for n in b.get("namespaces") or []],
                    str(action).lower() == "enforce",
                    any(b.get("selector") or b.get("namespaceSelector") for b in match)))
    return out


def allow_list(ctx: LintContext) -> tuple[RepoObject, list[str]] | None:
    """The first policy restricting registries and its allow-list (for the values comparison)."""
    rules = registry_rules(ctx)
    return (rules[0].policy, rules[0].patterns) if rules else None


def check_registries(ctx: LintContext) -> None:
    rules = registry_rules(ctx)
    if not rules:
        if ctx.trusts_absence("image registries", "ClusterPolicy", "Policy"):
            ctx.skip("image registries: no Kyverno policy restricting image registries in the repository")
        return
    for r in rules:
        if r.by_labels:
            ctx.skip(f"image registries: {r.where} selects resources by labels, not evaluated")
    active = [r for r in rules if not r.by_labels]
    docs = [ctx.repo.infra_values] if ctx.repo.infra_values else []
    for doc in docs + ctx.repo.deployment_values:
        ns = doc.get("namespace") if doc is not ctx.repo.infra_values else None
        # values images become Pods of their chart: judged by the Pod rules of their namespace (or of all)
        here = [r for r in active if "Pod" in r.kinds and (r.applies("Pod", ns) if isinstance(ns, str)
                                                           else not r.namespaces)]
        for image, path in image_refs(doc):
            with ctx.guard("image registries", doc):
                for r in here:
                    if not any(fnmatchcase(image, p) for p in r.patterns):
                        ctx.add(_finding(file_ref(doc.file), doc.file, doc.line(*path), image, r))
    for ro in ctx.repo.objects(*WORKLOAD_KINDS):
        with ctx.guard("image registries", ro):
            here = [r for r in active if r.applies(ro.kind, ro.namespace)]
            for image, path in manifest_images(ro.obj):
                for r in here:
                    if not any(fnmatchcase(image, p) for p in r.patterns):
                        ctx.add(_finding(ObjectRef.of(ro.obj), ro.file, ro.line(*path), image, r))


def _finding(ref: ObjectRef, file: str, line: int, image: str, r: RegistryRule):
    mode = "enforce: admission refuses the Pod" if r.enforce else "audit: reported, not blocked"
    return lint_finding(
        "LINT-KYVERNO-REGISTRY", ref, file, line,
        f"Image {image} is from a registry the {r.policy.name} policy does not allow ({mode})",
        evidence=[f"image: {image}", f"allow-list from {r.where}: " + " | ".join(r.patterns[:12])
                  + (" …" if len(r.patterns) > 12 else ""),
                  f"validationFailureAction: {'Enforce' if r.enforce else 'Audit'}"],
        severity="critical" if r.enforce else "warning",
    )
