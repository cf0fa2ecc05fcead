"""Write a builder's cluster as a bundle (README: "Making a bundle"): the only I/O in synth.

JSON files are byte-for-byte what `kubectl get <kind> -A -o json` prints: a `List` with sorted keys,
4-space indent and Go's HTML escaping of <, > and &. YAML is a multi-document stream per kind.
A path ending in .tar.gz/.tgz produces the archive instead of a directory.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from synth.meta import ts

if TYPE_CHECKING:
    from synth.builder import PlatformBuilder

_IRREGULAR = {
    "Endpoints": "endpoints",
    "PolicyReport": "policyreports",
    "ClusterPolicyReport": "clusterpolicyreports",
}


def plural(kind: str) -> str:
    if kind in _IRREGULAR:
        return _IRREGULAR[kind]
    low = kind.lower()
    if low.endswith("y") and low[-2:-1] not in "aeiou":
        return low[:-1] + "ies"
    if low.endswith(("s", "ch", "sh", "x")):
        return low + "es"
    return low + "s"


def resource_file(obj: dict[str, Any]) -> str:
    """kubectl resource name: 'pods', 'deployments.apps', 'gateways.gateway.networking.k8s.io'."""
    api = obj["apiVersion"]
    group = api.split("/")[0] if "/" in api else ""
    return plural(obj["kind"]) + (f".{group}" if group else "")


def kubectl_json(obj: Any) -> str:
    text = json.dumps(obj, indent=4, sort_keys=True, ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e") + "\n"


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
    """Relative path -> file content for the whole bundle."""
    if fmt not in ("json", "yaml"):
        raise ValueError("fmt must be 'json' or 'yaml'")
    groups: dict[str, list[dict[str, Any]]] = {}
    for obj in b.objects:
        groups.setdefault(resource_file(obj), []).append(obj)
    files: dict[str, str] = {}
    for name, items in sorted(groups.items()):
        items = sorted(items, key=_sort_key)
        if fmt == "json":
            files[f"{name}.json"] = kubectl_json(
                {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}
            )
        else:
            files[f"{name}.yaml"] = kubectl_yaml_stream(items)
    for (ns, pod, container, previous), text in sorted(b.logs.items()):
        suffix = ".previous.log" if previous else ".log"
        files[f"logs/{ns}/{pod}/{container}{suffix}"] = text
    files["bundle.json"] = (
        json.dumps(
            {"capturedAt": ts(b.now), "cluster": b.cluster, "kubernetesVersion": b.kubernetes_version,
             "kinds": swept_kinds(b.objects)},
            indent=2,
        )
        + "\n"
    )
    return files


def write_bundle(b: PlatformBuilder, path: str | Path, fmt: str = "json") -> Path:
    """Write the bundle to a directory (created) or, for *.tar.gz / *.tgz, to an archive. Returns the path."""
    path = Path(path)
    files = bundle_files(b, fmt)
    if path.name.endswith((".tar.gz", ".tgz")):
        path.parent.mkdir(parents=True, exist_ok=True)
        root = path.name.removesuffix(".tar.gz").removesuffix(".tgz")
        mtime = int(b.now.timestamp())
        with tarfile.open(path, "w:gz") as tar:
            for rel, text in files.items():
                data = text.encode()
                info = tarfile.TarInfo(f"{root}/{rel}")
                info.size, info.mtime, info.mode = len(data), mtime, 0o644
                tar.addfile(info, io.BytesIO(data))
        return path
    path.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        target = path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return path
