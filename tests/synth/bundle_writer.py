"""Write a builder's cluster as a bundle (README: "Making a bundle"): the only I/O in synth.

The layout and the JSON are the product's own (sources/bundle_writer.py, which `bundle collect` writes with):
byte-for-byte what `kubectl get <kind> -A -o json` prints. YAML is a multi-document stream per kind.
A path ending in .tar.gz/.tgz produces the archive instead of a directory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from sre_expert.core.kinds import resource_of
from sre_expert.sources.bundle_writer import file_name, list_document, log_path, meta_json, write_files
from synth.meta import ts

if TYPE_CHECKING:
    from synth.builder import PlatformBuilder


def resource_file(obj: dict[str, Any], ext: str = "json") -> str:
    """The file named after kubectl's resource name: pods.json, deployments.apps.json, httproutes.gateway...json."""
    api = obj["apiVersion"]
    group = api.split("/")[0] if "/" in api else ""
    return file_name(group, resource_of(group, obj["kind"]), ext)


def kubectl_yaml_stream(objs: Iterable[dict[str, Any]]) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump_all(
        list(objs), Dumper=dumper, sort_keys=True, default_flow_style=False, allow_unicode=True, width=10_000
    )


def _sort_key(obj: dict[str, Any]) -> tuple[str, str]:
    md = obj["metadata"]
    return (md.get("namespace") or "", md["name"])


def swept_kinds(objects: Iterable[dict[str, Any]]) -> list[str]:
    """bundle.json "kinds": a synthetic cluster stands for a full sweep, so every kind a live sweep lists
    counts as collected (none of it exists when there is no file), plus the kinds of its objects."""
    from sre_expert.core.kinds import COLLECTED_KINDS

    kinds = {f"{s.group}/{s.kind}" if s.group else s.kind for s in COLLECTED_KINDS}
    for obj in objects:
        api = obj["apiVersion"]
        kinds.add(f"{api.split('/')[0]}/{obj['kind']}" if "/" in api else obj["kind"])
    return sorted(kinds)


def bundle_files(b: PlatformBuilder, fmt: str = "json") -> dict[str, str]:
    """Relative path -> file content for the whole bundle, in the product's layout (sources/bundle_writer.py)."""
    return {rel: data.decode() for rel, data in _files(b, fmt)}


def _files(b: PlatformBuilder, fmt: str) -> Iterator[tuple[str, bytes]]:
    if fmt not in ("json", "yaml"):
        raise ValueError("fmt must be 'json' or 'yaml'")
    groups: dict[str, list[dict[str, Any]]] = {}
    for obj in b.objects:
        groups.setdefault(resource_file(obj, fmt), []).append(obj)
    for name, items in sorted(groups.items()):
        items = sorted(items, key=_sort_key)
        yield name, list_document(items) if fmt == "json" else kubectl_yaml_stream(items).encode()
    for (ns, pod, container, previous), text in sorted(b.logs.items()):
        yield log_path(ns, pod, container, previous), text.encode()
    yield "bundle.json", meta_json({"capturedAt": ts(b.now), "cluster": b.cluster,
                                    "kubernetesVersion": b.kubernetes_version, "kinds": swept_kinds(b.objects)})


def write_bundle(b: PlatformBuilder, path: str | Path, fmt: str = "json") -> Path:
    """Write the bundle to a directory (created) or, for *.tar.gz / *.tgz, to an archive. Returns the path."""
    path = Path(path)
    write_files(_files(b, fmt), path, mtime=int(b.now.timestamp()))
    return path
