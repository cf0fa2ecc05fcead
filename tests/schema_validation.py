"""Validate Kubernetes objects against the real schemas, fast enough for thousands of objects.

Core kinds use the strict JSON schemas shipped with `kubernetes-validate` (one compiled validator per
kind, reused). Custom resources use the CRD files in `../shared/crds/` (see SOURCES.md there),
converted the way the API server reads a structural schema: a field the schema does not declare
would be pruned by the server, so an object that claims to be "as the server returns it" must not
carry one; `nullable`, `x-kubernetes-int-or-string`, `x-kubernetes-preserve-unknown-fields` and
`x-kubernetes-embedded-resource` keep their server meaning. Metadata is checked against ObjectMeta.

`missing_defaults` reports CRD defaults that the server would have filled in but the object lacks.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource

from sre_expert.lint.schema import crd_to_json_schema  # the product's converter: one definition of pruning

K8S_VERSION = "1.32"
CRD_DIR = Path(__file__).resolve().parents[2] / "shared" / "crds"
_OBJECT_META_REF = {"$ref": "/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$")

_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        raise ValueError(f"{value!r} is not an RFC 3339 timestamp")
    datetime.fromisoformat(value)
    return True


class CRDsMissing(RuntimeError):
    pass


# ---------------------------------------------------------------- core kinds (kubernetes-validate)


def _schema_dir() -> Path:
    import kubernetes_validate

    base = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    return base / f"v{K8S_VERSION}.0-local-strict"


@lru_cache(maxsize=1)
def _core_registry() -> Registry:
    defs = json.loads((_schema_dir() / "_definitions.json").read_text())
    return Resource.from_contents(defs) @ Registry()


@cache
def _core_validator(api_version: str, kind: str) -> jsonschema.Draft202012Validator | None:
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    path = _schema_dir() / f"{kind.lower()}-{group_version}.json"
    if not path.exists():
        return None
    schema = json.loads(path.read_text())
    registry = Resource.from_contents(schema) @ _core_registry()
    return jsonschema.Draft202012Validator(schema, registry=registry, format_checker=_FORMATS)


# ---------------------------------------------------------------- custom resources (CRD files)


def _iter_crd_files() -> Iterator[Path]:
    if not CRD_DIR.is_dir():
        raise CRDsMissing(
            f"CRD schemas not found at {CRD_DIR}: custom resources cannot be validated. "
            "The shared/crds directory must sit next to the repository (see shared/crds/SOURCES.md)."
        )
    # Experimental Gateway API first: that is what the Envoy Gateway Helm chart installs.
    files = sorted(
        CRD_DIR.glob("*/*.yaml"), key=lambda p: (p.parent.name != "gateway-api-experimental", str(p))
    )
    if not files:
        raise CRDsMissing(f"no CRD files under {CRD_DIR}")
    yield from files


@lru_cache(maxsize=1)
def _crd_schemas() -> dict[tuple[str, str], list[tuple[str, dict[str, Any]]]]:
    """(apiVersion, kind) -> [(source file, openAPIV3Schema)] for every served version."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    found: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
    for path in _iter_crd_files():
        crd = yaml.load(path.read_text(), Loader=loader)
        spec = crd["spec"]
        for version in spec["versions"]:
            if not version.get("served"):
                continue
            key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
            schema = version["schema"]["openAPIV3Schema"]
            found.setdefault(key, []).append((f"{path.parent.name}/{path.name}", schema))
    return found


def crd_kinds() -> set[tuple[str, str]]:
    return set(_crd_schemas())


@cache
def _crd_validators(api_version: str, kind: str) -> list[tuple[str, jsonschema.Draft202012Validator]]:
    out = []
    for source, raw in _crd_schemas().get((api_version, kind), []):
        schema = crd_to_json_schema(copy.deepcopy(raw))
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://kubernetes.io/api/crd/{api_version}/{kind.lower()}"
        props = schema.setdefault("properties", {})
        props["apiVersion"] = {"const": api_version}
        props["kind"] = {"const": kind}
        props["metadata"] = _OBJECT_META_REF
        schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind", "metadata"})
        registry = Resource.from_contents(schema) @ _core_registry()
        out.append(
            (source, jsonschema.Draft202012Validator(schema, registry=registry, format_checker=_FORMATS))
        )
    return out


# ---------------------------------------------------------------- public API


def _path(error: jsonschema.ValidationError) -> str:
    return "." + ".".join(str(p) for p in error.absolute_path) if error.absolute_path else "(root)"


def validation_errors(obj: dict[str, Any]) -> list[str]:
    """Every schema violation of one object, as readable lines; [] when it is valid.

    An object whose kind no schema knows is itself an error: nothing may pass unchecked.
    """
    api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
    md = obj.get("metadata") or {}
    label = f"{kind} {md.get('namespace', '')}/{md.get('name', '')}"
    crd = _crd_validators(api_version, kind)
    if crd:
        errors = []
        for source, validator in crd:
            errors += [f"{label} [{source}] {_path(e)}: {e.message}" for e in validator.iter_errors(obj)]
        return errors
    validator = _core_validator(api_version, kind)
    if validator is None:
        return [
            f"{label}: no schema for apiVersion {api_version!r} kind {kind!r} (neither core {K8S_VERSION} nor a CRD)"
        ]
    return [f"{label} {_path(e)}: {e.message}" for e in validator.iter_errors(obj)]


def validate_object(obj: dict[str, Any]) -> None:
    """Raise AssertionError listing every violation when `obj` does not match its schema."""
    errors = validation_errors(obj)
    if errors:
        raise AssertionError("\n".join(errors[:20]))


def _missing(schema: dict[str, Any], value: Any, path: str) -> Iterator[str]:
    if isinstance(value, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if name not in value:
                if "default" in sub:
                    yield f"{path}.{name} (default {sub['default']!r})"
            else:
                yield from _missing(sub, value[name], f"{path}.{name}")
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for name, item in value.items():
                yield from _missing(extra, item, f"{path}.{name}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            yield from _missing(schema["items"], item, f"{path}[{i}]")


def missing_defaults(obj: dict[str, Any]) -> list[str]:
    """CRD defaults the API server would have set on this custom resource, but which it lacks."""
    schemas = _crd_schemas().get((obj.get("apiVersion", ""), obj.get("kind", "")), [])
    if not schemas:
        return []
    md = obj.get("metadata") or {}
    label = f"{obj['kind']} {md.get('namespace', '')}/{md.get('name', '')}"
    _, schema = schemas[0]
    return [f"{label} {p}" for p in _missing(schema, obj, "")]
