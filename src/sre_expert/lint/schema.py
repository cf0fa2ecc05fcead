"""Custom resources of the repository against their CRD schemas (structural, as the API server reads them).

CRDs come from `--crds DIR` (any tree of CRD YAML files, e.g. the charts' crds/ folders) and from
CustomResourceDefinitions committed in the repository. A field the schema does not declare is an error:
the API server would prune it, so the setting would silently be lost. Kinds without a CRD are listed
as not checked.
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from sre_expert.lint.codes import lint_finding
from sre_expert.lint.context import LintContext, obj_ref

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
K8S_VERSION = "1.32"
CORE_GROUPS = {"v1", "apps/v1", "batch/v1", "networking.k8s.io/v1", "policy/v1", "rbac.authorization.k8s.io/v1",
               "autoscaling/v2", "storage.k8s.io/v1", "scheduling.k8s.io/v1", "admissionregistration.k8s.io/v1",
               "apiextensions.k8s.io/v1", "coordination.k8s.io/v1", "discovery.k8s.io/v1"}


def crd_to_json_schema(node: Any) -> Any:
    """Structural schema -> JSON Schema with pruning (additionalProperties: false) made explicit."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-") or key in ("nullable", "default", "description", "example"):
            continue
        if key == "properties":
            out[key] = {k: crd_to_json_schema(v) for k, v in value.items()}
        elif key in ("items", "not"):
            out[key] = crd_to_json_schema(value)
        elif key == "additionalProperties":
            out[key] = crd_to_json_schema(value) if isinstance(value, dict) else value
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [crd_to_json_schema(v) for v in value]
        else:
            out[key] = value
    if node.get("x-kubernetes-embedded-resource"):
        props = out.setdefault("properties", {})
        for k in ("apiVersion", "kind"):
            props.setdefault(k, {"type": "string"})
        props.setdefault("metadata", {"type": "object"})
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = out.get("anyOf", []) + [{"type": "integer"}, {"type": "string"}]
    if node.get("type") == "object" and not node.get("x-kubernetes-preserve-unknown-fields") \
            and "additionalProperties" not in node:
        out["additionalProperties"] = False
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def _crds_in(docs: list[Any]) -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for crd in docs:
        if not isinstance(crd, dict) or crd.get("kind") != "CustomResourceDefinition":
            continue
        spec = crd.get("spec") or {}
        for v in spec.get("versions") or []:
            schema = (v.get("schema") or {}).get("openAPIV3Schema")
            if v.get("served") and schema:
                found.setdefault((f"{spec['group']}/{v['name']}", spec["names"]["kind"]), schema)
    return found


def load_crds(dirs: tuple[str, ...]) -> tuple[dict[tuple[str, str], dict[str, Any]], list[str]]:
    """(apiVersion, kind) -> openAPIV3Schema from every CRD file under dirs; plus unreadable-file notes."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    problems: list[str] = []
    for d in dirs:
        base = Path(d)
        if not base.is_dir():
            problems.append(f"--crds {d}: not a directory")
            continue
        files = sorted(base.rglob("*.y*ml"))
        signature = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
        crds, bad = _load_dir(signature)
        problems += bad
        for k, v in crds.items():
            found.setdefault(k, v)
    return found, problems


@lru_cache(maxsize=8)
def _load_dir(signature: tuple[tuple[str, int, int], ...]) -> tuple[dict[tuple[str, str], dict[str, Any]], list[str]]:
    """CRD files parsed once per process while they do not change (10 MB of CRDs take seconds to parse)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    problems: list[str] = []
    for name, _, _ in signature:
        try:
            docs = list(yaml.load_all(Path(name).read_text(encoding="utf-8"), Loader=_LOADER))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
            problems.append(f"CRD file {name}: {type(e).__name__}")
            continue
        for k, v in _crds_in(docs).items():
            found.setdefault(k, v)
    return found, problems


_VALIDATORS: dict[tuple[str, str, int], Any] = {}


def _validator(api_version: str, kind: str, schema: dict[str, Any]):
    """One compiled validator per schema object (the cached CRD schemas keep their identity)."""
    key = (api_version, kind, id(schema))
    if key not in _VALIDATORS:
        _VALIDATORS[key] = (_compile(api_version, kind, schema), schema)
    return _VALIDATORS[key][0]


def _compile(api_version: str, kind: str, schema: dict[str, Any]):
    import jsonschema

    s = crd_to_json_schema(copy.deepcopy(schema))
    props = s.setdefault("properties", {})
    props["apiVersion"] = {"const": api_version}
    props["kind"] = {"const": kind}
    props["metadata"] = {"type": "object"}
    s["required"] = sorted(set(s.get("required", [])) | {"apiVersion", "kind", "metadata"})
    return jsonschema.Draft202012Validator(s)


def check_schemas(ctx: LintContext) -> None:
    crds, problems = load_crds(ctx.crd_dirs)
    for p in problems:
        ctx.skip(p)
    in_repo = _crds_in([d.data for d in ctx.repo.docs])
    for k, v in in_repo.items():
        crds.setdefault(k, v)
    unchecked: dict[str, int] = {}
    validators: dict[tuple[str, str], Any] = {}
    taken = {(f.file, f.line) for f in ctx.findings}  # a rule already explains that line better
    for ro in ctx.repo.objects():
        with ctx.guard("schema", ro):
            if ro.from_values or ro.obj.get("apiVersion", "").startswith("kustomize.config.k8s.io/"):
                continue  # rendered from values (no manifest to validate) / a kustomize build file, not an object
            key = (ro.obj.get("apiVersion", ""), ro.kind)
            if key[0] in CORE_GROUPS or key[1] == "CustomResourceDefinition":
                problem = _core_problem(ro.obj)
                if isinstance(problem, str):
                    unchecked[problem] = unchecked.get(problem, 0) + 1
                elif problem is not None and (ro.file, ro.line(*problem[0])) not in taken:
                    path, message = problem
                    ctx.add(lint_finding(
                        "LINT-SCHEMA-INVALID", obj_ref(ro), ro.file, ro.line(*path),
                        f"{ro.display()} does not match the {key[1]} schema: "
                        f"{'.'.join(map(str, path)) or '(root)'}: {_short(message)}",
                        evidence=[f"{'.'.join(map(str, path)) or '(root)'}: {_short(message)}"]))
                continue
            if key not in crds:
                unchecked[f"{key[1]} ({key[0]})"] = unchecked.get(f"{key[1]} ({key[0]})", 0) + 1
                continue
            if key not in validators:
                validators[key] = _validator(key[0], key[1], crds[key])
            errors = sorted(validators[key].iter_errors(ro.obj), key=lambda e: list(map(str, e.absolute_path)))
            if not errors:
                continue
            first = errors[0]
            path = _pin(tuple(first.absolute_path), first.message)
            if (ro.file, ro.line(*path)) in taken:
                continue
            ctx.add(lint_finding(
                "LINT-SCHEMA-INVALID", obj_ref(ro), ro.file, ro.line(*path),
                f"{ro.display()} does not match the {key[1]} schema: "
                f"{'.'.join(map(str, path)) or '(root)'}: {_short(first.message)}",
                evidence=[f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {_short(e.message)}" for e in errors[:6]],
            ))
    if unchecked:
        how = "" if ctx.crd_dirs else " (pass --crds DIR with the CRD files)"
        ctx.skip("schema: no schema for " + ", ".join(f"{k} ×{n}" for k, n in sorted(unchecked.items())) + how)


def _core_problem(obj: dict[str, Any]) -> tuple[tuple[Any, ...], str] | str | None:
    """A core kind against the Kubernetes OpenAPI schema (kubernetes-validate, strict): None when valid,
    (path, message) when not, or the reason it cannot be checked."""
    try:
        import kubernetes_validate as kv
    except ImportError:
        return "core kinds (kubernetes-validate not installed)"
    try:
        kv.validate(obj, K8S_VERSION, strict=True)
    except kv.SchemaNotFoundError:
        return f"{obj.get('kind')} ({obj.get('apiVersion')})"
    except kv.ValidationError as e:
        return _pin(tuple(e.path), e.message), e.message
    return None


_UNEXPECTED = re.compile(r"\('([^']+)' was unexpected\)")


def _pin(path: tuple[Any, ...], message: str) -> tuple[Any, ...]:
    """Point an "unexpected property" error at the property's own line, not its parent's."""
    m = _UNEXPECTED.search(message)
    return path + (m.group(1),) if m else path


def _short(msg: str, limit: int = 160) -> str:
    return msg if len(msg) <= limit else msg[: limit - 1] + "…"
