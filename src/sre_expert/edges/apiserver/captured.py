"""The discovery documents a bundle captured from its own API server (troubleshoot.sh's
`cluster-resources/resources.json`), read from the bundle directory or archive.

They are the exact resource set of that cluster and release: built-in groups of an old release
(batch/v1beta1 CronJobs on 1.23), aggregated APIs, custom resources whose CRD was not captured. The
bundle loader does not keep them (they hold no objects), so `bundle serve` reads them here, once.
"""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Any

import orjson

from sre_expert.edges.apiserver.resources import split_api_version
from sre_expert.knowledge.rest_resources import Builtin

Obj = dict[str, Any]
NAME = "resources.json"
PARENT = "cluster-resources"
MAX_BYTES = 8 << 20  # a discovery document is tens of kB; anything this large is not one


def _find_in_dir(root: Path) -> bytes | None:
    for p in sorted(root.rglob(f"{PARENT}/{NAME}")):
        if p.is_file() and p.stat().st_size <= MAX_BYTES:
            return p.read_bytes()
    return None


def _find_in_archive(path: Path) -> bytes | None:
    try:
        with tarfile.open(path, "r:*") as tf:
            for m in tf:
                parts = m.name.split("/")
                if m.isfile() and parts[-2:] == [PARENT, NAME] and m.size <= MAX_BYTES:
                    f = tf.extractfile(m)
                    return f.read() if f else None
    except (tarfile.TarError, OSError, EOFError):
        return None
    return None


def read_discovery(location: str | Path) -> list[Obj] | None:
    """The APIResourceLists a bundle captured, or None when it has none (or they do not parse)."""
    path = Path(location)
    try:
        data = _find_in_dir(path) if path.is_dir() else _find_in_archive(path) if path.is_file() else None
    except OSError:
        return None
    if data is None:
        return None
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    lists = doc if isinstance(doc, list) else (doc.get("items") if isinstance(doc, dict) else None)
    return [d for d in lists or () if isinstance(d, dict) and isinstance(d.get("groupVersion"), str)] or None


def builtins_from(discovery: list[Obj]) -> tuple[Builtin, ...]:
    """The served resources the captured documents list (subresources such as pods/log left out)."""
    out: list[Builtin] = []
    for doc in discovery:
        group, version = split_api_version(doc["groupVersion"])
        for r in doc.get("resources") or ():
            if not isinstance(r, dict):
                continue
            name, kind = r.get("name"), r.get("kind")
            if not (isinstance(name, str) and name and "/" not in name and isinstance(kind, str) and kind):
                continue
            if isinstance(r.get("verbs"), list) and "list" not in r["verbs"]:
                continue  # bindings, tokenreviews...: nothing a reader lists
            out.append(Builtin(group, version, kind, name, bool(r.get("namespaced")),
                               tuple(r.get("shortNames") or ()), tuple(r.get("categories") or ())))
    return tuple(out)
