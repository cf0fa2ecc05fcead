"""Read a bundle (directory or .tar.gz) into a Snapshot.

Formats: the project's own bundle (README "Making a bundle": any *.json/*.yaml outside logs/, logs/<ns>/<pod>/<c>.log,
bundle.json) and troubleshoot.sh support bundles (cluster-resources/, custom-resources/, pods/logs/).
Every unreadable file becomes a warning naming it; only a bundle with nothing readable is an error.
"""

from __future__ import annotations

import gc
import os
import re
import stat
import tarfile
import zlib
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from sre_expert.core.kinds import FILE_KINDS, kind_of_resource
from sre_expert.core.model import Key, index_kind, kind_name
from sre_expert.core.snapshot import Snapshot, SnapshotInfo
from sre_expert.core.timeutil import parse_time, robust_latest

# Per file: kubectl's list of the Kubernetes envelope's 150,000 pods is 1.8 GB of JSON.
MAX_FILE_BYTES = 4 << 30
MAX_LOG_BYTES = 1 << 20
# A log inside an archive is streamed to keep its tail; one larger than this is not read at all, and an archive
# is read only up to MAX_ARCHIVE_BYTES of decompressed content (tar must decompress a member even to skip it,
# so this bounds the time a gzip bomb can take; memory is bounded by the streaming).
MAX_LOG_SCAN_BYTES = 1 << 30
MAX_ARCHIVE_BYTES = 8 << 30
MAX_KEPT_LOG_BYTES = 1 << 30  # the tails of an archive's logs, kept in memory
# Deeper objects than this are skipped: real ones (CRD schemas included) stay far below, and serialising one
# deeper than orjson's 254 levels would fail a whole `kubectl get` list or JSON report downstream.
MAX_DEPTH = 100
# Folders of a directory bundle deeper than this are skipped (real bundles nest fewer than 10 deep).
MAX_DIR_DEPTH = 64
CHUNK = 1 << 20
DROP_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)

# troubleshoot.sh names its per-type folders and files by resource, often without kind on items: the plural
# resource names (pods, deployments, ...) are the kinds table's; these are its own spellings.
TROUBLESHOOT_KINDS = {
    "ingress": "Ingress", "network-policy": "NetworkPolicy", "resource-quota": "ResourceQuota",
    "pvcs": "PersistentVolumeClaim", "pod-disruption-budgets": "PodDisruptionBudget", "pvs": "PersistentVolume",
    "storage-classes": "StorageClass", "ingress-classes": "IngressClass",
    "custom-resource-definitions": "CustomResourceDefinition",
    "validating-webhook-configurations": "ValidatingWebhookConfiguration",
    "mutating-webhook-configurations": "MutatingWebhookConfiguration",
}
TROUBLESHOOT_SKIP = {"groups", "resources", "auth-cani-list", "image-pull-secrets", "analysis", "version",
                     "cluster_version", "summary", "license"}
SONOBUOY_SCOPES = {"ns", "cluster", "non-ns"}
# sonobuoy files in resources/ that are not objects; 0.8 kept its query times in resources/*/results.json
SONOBUOY_SKIP = {"serverversion", "servergroups", "ServerVersion", "ServerGroups", "results"}
SONOBUOY_META = {"run.log", "config.json", "info.json", "query-time.json", "clusterhealth.json"}
SONOBUOY_ARCHIVE_TIME = re.compile(r"(?:^|/)(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})_sonobuoy_[0-9a-f-]+(?:\.tar\.gz|\.tgz)?(?:/|$)")
RUN_LOG_TAIL = 1 << 16
SONOBUOY_INFO_FILES = {"serverversion.json", "servergroups.json"}
SUPPORT_BUNDLE_TIME = re.compile(r"support-bundle-(\d{4}-\d{2}-\d{2})T(\d{2})_(\d{2})_(\d{2})")


class BundleError(Exception):
    """The bundle cannot be used at all (missing, not a bundle, nothing readable)."""


@dataclass
class _Accum:
    objects: list[dict[str, Any]] = field(default_factory=list)
    keys: list[tuple[Key, str | None]] = field(default_factory=list)  # (key_of, uid) of each of objects
    logs: dict[tuple[str, str, str, bool], Callable[[], bytes | None]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    files_read: int = 0
    troubleshoot_root: str | None = None
    metrics: bytes | bytearray | None = None  # metrics/metrics.json: a MetricSet captured with the objects
    kinds: set[str] = field(default_factory=set)  # kinds of empty lists (the objects' kinds the Snapshot adds)
    log_bytes_kept: int = 0  # bytes of archive log tails held in `logs`
    logs_full: bool = False
    collector_time: datetime | None = None  # troubleshoot's collector-errors/*.json timestamps
    run_log_tail: bytes | None = None  # sonobuoy's meta/run.log: its last lines carry the time of the run
    file_starts: list[tuple[int, str]] = field(default_factory=list)  # (index in objects of its first, file)
    log_folders: list[tuple[str, str]] = field(default_factory=list)  # (relative, path) of each logs/ on disk


def clean_object(obj: dict[str, Any]) -> None:
    """Drop what no check reads and what must never be printed: managedFields, Secret values."""
    md = obj.get("metadata")
    if isinstance(md, dict):
        md.pop("managedFields", None)
        ann = md.get("annotations")
        if ann:
            for a in DROP_ANNOTATIONS:
                ann.pop(a, None)
    if obj.get("kind") == "Secret":
        _blank_secret(obj)


def _blank_secret(obj: dict[str, Any]) -> None:
    """Keep a Secret's key names (checks compare them), never its values."""
    for f in ("data", "stringData"):
        if isinstance(obj.get(f), dict):
            obj[f] = {k: "" for k in obj[f]}


def _split(rel: str) -> tuple[tuple[str, ...], str]:
    """(PurePosixPath(rel).parts, .name) without building a path: this runs once per file of the bundle,
    and a large bundle has a log file per container. Paths needing normalisation go through pathlib."""
    parts = tuple(rel.split("/"))
    if "" in parts or "." in parts:
        p = PurePosixPath(rel)
        return p.parts, p.name
    return parts, parts[-1]


def _items(doc: Any, default_kind: str | None) -> list[Any]:
    """The entries of one parsed document: a List's items (kind filled in from the List's kind or the
    folder's), or the document itself. A List's own items list comes back as is, not through a generator:
    the caller visits every object of the bundle."""
    if isinstance(doc, list):
        out: list[Any] = []
        for d in doc:
            out.extend(_items(d, default_kind))
        return out
    if doc is None:  # a file holding `null`
        return []
    if not isinstance(doc, dict):
        return [doc]
    kind = doc.get("kind")
    items = doc.get("items")
    if items is None and "items" in doc and (kind is None or str(kind).endswith("List")):
        return []  # troubleshoot writes an empty list as "items": null
    if isinstance(items, list) and (kind is None or str(kind).endswith("List")):
        inner = default_kind
        if kind and kind != "List":
            inner = kind[: -len("List")]
        if inner:
            for item in items:
                if isinstance(item, dict) and not item.get("kind"):
                    item["kind"] = inner
        return items
    if not kind and default_kind:
        doc["kind"] = default_kind
    return [doc]


def _parse_documents(name: str, data: bytes | bytearray) -> tuple[list[Any], list[str]]:
    """The documents of one file and what was wrong with some of them (a YAML document that expands through
    aliases past lint's bound, or that fails to construct, is skipped alone). Raises when nothing parses."""
    if name.endswith(".json"):
        return [orjson.loads(data)], []
    if HIDDEN in data:  # troubleshoot's redactor writes `password: ***HIDDEN***`, which YAML reads as an alias
        data = HIDDEN_VALUE.sub(_quote_hidden, data)
    return _parse_yaml(bytes(data))  # the same object for bytes (only padded JSON reads are bytearrays)


HIDDEN = b"***HIDDEN***"
HIDDEN_VALUE = re.compile(rb"(?m)^([ \t]*(?:- )*(?:[^\s#'\"][^:#\n]*:[ \t]+)?)(\*\*\*HIDDEN\*\*\*[^\n]*?)([ \t]*)$")


def _quote_hidden(m: re.Match[bytes]) -> bytes:
    return m.group(1) + b"'" + m.group(2).replace(b"'", b"''") + b"'" + m.group(3)


def _parse_yaml(data: bytes) -> tuple[list[Any], list[str]]:
    """Compose each document, refuse one that aliases would blow up (lint's measure of expanded size), then
    construct it. A syntax error after some documents keeps those before it, and says so."""
    import yaml

    from sre_expert.safety.yaml_aliases import MAX_EXPANDED_NODES, expanded_size

    loader = yaml.CSafeLoader(data)
    docs: list[Any] = []
    problems: list[str] = []
    index = 0
    try:
        while loader.check_node():
            index += 1
            node = loader.get_node()
            if node is None:
                continue
            if expanded_size(node) > MAX_EXPANDED_NODES:
                problems.append(f"document {index} skipped: it expands to more than {MAX_EXPANDED_NODES:,} nodes "
                                "through aliases (a YAML bomb?)")
                continue
            try:
                doc = loader.construct_document(node)
            except (yaml.YAMLError, RecursionError, ValueError, TypeError) as e:
                problems.append(f"document {index} skipped: {_first_line(e)}")
                continue
            if doc is not None:
                docs.append(doc)
    except yaml.YAMLError as e:
        if not docs and not problems:
            raise
        problems.append(f"cannot parse after document {index - 1} ({_first_line(e)}); "
                        "the documents before it were read")
    finally:
        loader.dispose()
    return docs, problems


def _first_line(e: BaseException) -> str:
    text = str(e)
    return text.splitlines()[0] if text else type(e).__name__


def _troubleshoot_kind(stem: str) -> str | None:
    """The kind of troubleshoot's `cluster-resources/<stem>`: its own spelling, else a resource of the kinds table."""
    return TROUBLESHOOT_KINDS.get(stem) or kind_of_resource(stem)


def _file_kind(parts: tuple[str, ...]) -> tuple[str | None, bool]:
    """(kind to assume for items without one, skip this file) from where a collector put the file: troubleshoot's
    `cluster-resources/<resource>[/<ns>].json`, sonobuoy's `resources/{ns/<ns>,cluster}/<File>.json` (older
    sonobuoy: `Pods.json`, a bare array of kind-less items; newer: `core_v1_pods.json`, a List with kinds)."""
    if "cluster-resources" in parts:
        rel = parts[parts.index("cluster-resources") + 1 :]
        stem = PurePosixPath(rel[0]).stem if rel else ""
        if stem in TROUBLESHOOT_SKIP:
            return None, True
        return _troubleshoot_kind(stem), False
    i = parts.index("resources") if "resources" in parts else -1
    if i >= 0 and len(parts) > i + 2 and parts[i + 1] in SONOBUOY_SCOPES:
        stem = PurePosixPath(parts[-1]).stem
        if stem in SONOBUOY_SKIP:
            return None, True
        return kind_of_resource(stem.rsplit("_", 1)[-1]), False
    return None, False




def _add_file(acc: _Accum, rel: str, read: Callable[..., bytes | bytearray], size: int, path: str | None = None,
              read_tail: Callable[[], bytes] | None = None) -> None:
    """Route one file: metadata, collection errors, a container log (kept as a reader), or objects.
    `path` for a file on disk (logs are then read when asked for), `read_tail` inside an archive."""
    parts, name = _split(rel)
    if name.startswith(".") or "__MACOSX" in parts:  # dotfiles, macOS AppleDouble `._x` and resource forks
        return
    log_key = _log_key(parts)
    if size > (MAX_LOG_SCAN_BYTES if log_key else MAX_FILE_BYTES):
        limit = MAX_LOG_SCAN_BYTES if log_key else MAX_FILE_BYTES
        acc.warnings.append(f"{rel}: skipped, {size / 1e6:.0f} MB is over the {limit >> 20} MiB limit per "
                            f"{'log' if log_key else 'file'}")
        return
    if log_key:  # most files of a large bundle: routed before the layout tests below, which never apply
        _add_log(acc, rel, log_key, read, path, read_tail)
        return
    if len(parts) == 2 and parts[0] == "meta" or len(parts) == 3 and parts[1] == "meta":  # sonobuoy's run metadata
        if name == "run.log":
            if read_tail is not None:
                acc.run_log_tail = read_tail()
            else:
                acc.run_log_tail = _tail_reader(path)() if path else bytes(read()[-RUN_LOG_TAIL:])
        if name in SONOBUOY_META:
            return
    if "plugins" in parts[:2] and (name in ("sonobuoy_results.yaml", "definition.json") or "results" in parts):
        return  # sonobuoy plugin results: test reports, not Kubernetes objects
    if (name in SONOBUOY_INFO_FILES and len(parts) <= 3
            or "hosts" in parts[:2] and name in ("healthz.json", "configz.json")):
        return  # sonobuoy's server version and API groups, and each node's kubelet health and config
    if "metrics" in parts[:-1] and parts.index("metrics") <= 1:  # metrics/, not Kubernetes objects
        if name == "metrics.json" and parts[-2] == "metrics":
            acc.metrics = read()
        return
    if name == "bundle.json" and len(parts) <= 2:
        try:
            meta = orjson.loads(read())
            if isinstance(meta, dict):
                acc.meta.update(meta)
                acc.files_read += 1
                errs = meta.get("collectionErrors")
                if isinstance(errs, list):  # written by `bundle collect` for kinds it could not read
                    acc.errors.extend(
                        {"kind": str(e["kind"]), "namespace": str(e.get("namespace") or ""),
                         "error": str(e.get("error") or "")}
                        for e in errs if isinstance(e, dict) and e.get("kind"))
                return
        except orjson.JSONDecodeError as e:
            acc.warnings.append(f"{rel}: not valid JSON ({e}); capturedAt unknown")
            return
    if "cluster-resources" in parts or "custom-resources" in parts:
        idx = parts.index("cluster-resources") if "cluster-resources" in parts else parts.index("custom-resources")
        acc.troubleshoot_root = "/".join(parts[:idx])
        if name.endswith("-errors.json"):
            _add_collection_errors(acc, rel, parts, read)
            return
    if name == "cluster_version.json" and "cluster-info" in parts:
        try:
            info = orjson.loads(read())
            acc.meta.setdefault("kubernetesVersion", (info.get("info") or {}).get("gitVersion") or info.get("string", ""))
        except (orjson.JSONDecodeError, AttributeError):
            acc.warnings.append(f"{rel}: unreadable cluster version")
        return
    if log_key is not None:
        return  # log-like but not logs/<namespace>/<pod>/<container>.log
    if not name.endswith((".json", ".yaml", ".yml")):
        return
    if name in ("analysis.json", "version.yaml") or "execution-data" in parts or "host-collectors" in parts:
        return
    if "collector-errors" in parts[:2]:  # troubleshoot: {"collector", "error", "timestamp"} of a failed collector
        _note_collector_error(acc, rel, read)
        return
    default_kind, skip = _file_kind(parts)
    if skip:
        return
    try:
        if name.endswith(".json"):
            docs, maybe_deep = _parse_json(read(READ_PAD))
            problems: list[str] = []
        else:
            data = read()
            docs, problems = _parse_documents(name, data)
            maybe_deep = len(data) > MAX_DEPTH
    except Exception as e:  # any parser error names the file; the rest of the bundle still counts
        acc.warnings.append(f"{rel}: skipped, cannot parse ({_first_line(e)})")
        return
    acc.files_read += 1
    acc.warnings.extend(f"{rel}: {p}" for p in problems)
    for doc in docs:  # an empty list still says its kind was collected
        listed = _list_kind(doc, default_kind, parts)
        if listed:
            acc.kinds.add(listed)
    entries = _items(docs[0], default_kind) if len(docs) == 1 else [i for d in docs for i in _items(d, default_kind)]
    deep = _deep_entries(entries) if maybe_deep else None
    acc.file_starts.append((len(acc.objects), rel))
    _take(acc, rel, entries, deep)


def _take(acc: _Accum, rel: str, entries: list[Any], deep: set[int] | None) -> None:
    """Keep a file's well-formed objects (their Snapshot keys read alongside), cleaned as `clean_object` would.

    This loop runs for every object of the bundle, so the shape test of a well-formed object is inlined
    here (`_malformed` says why for the others), and the label and annotation maps of the whole file are
    proven maps of strings by two str.join calls at the end, in C, instead of two per object."""
    bad = 0
    malformed: list[str] = []
    maps: list[dict[str, Any]] = []  # every non-empty labels and annotations map kept from this file
    first = len(acc.objects)
    append, append_key, keep_map = acc.objects.append, acc.keys.append, maps.append
    for index, item in enumerate(entries):
        if type(item) is not dict:
            if item is None:
                continue
            if not isinstance(item, dict):
                bad += 1
                continue
        kind, md = item.get("kind"), item.get("metadata")
        if type(kind) is not str or type(md) is not dict:
            if item:  # `{}`: sonobuoy 0.8 wrote `[{}]` for a namespace with nothing to list
                bad += 1
            continue
        name = md.get("name")
        if not name:
            bad += 1
            continue
        ns, uid, labels, ann = md.get("namespace"), md.get("uid"), md.get("labels"), md.get("annotations")
        refs, spec, status = md.get("ownerReferences"), item.get("spec"), item.get("status")
        if not (type(name) is str and (ns is None or type(ns) is str) and (uid is None or type(uid) is str)
                and (spec is None or type(spec) is dict) and (status is None or type(status) is dict)
                and (labels is None or type(labels) is dict) and (ann is None or type(ann) is dict)
                and (refs is None or type(refs) is list and all(map(_is_ref, refs)))
                and (kind != "Pod" or type((spec or {}).get("nodeName", "")) is str)
                and (kind != "Event" or _is_map_or_none(item.get("involvedObject"))
                     and _is_map_or_none(item.get("regarding")))
                and not (deep and index in deep)):
            why = _malformed(item, kind, md, name) or f"nested deeper than {MAX_DEPTH} levels"
            malformed.append(f"{kind} {_display(md)}: {why}")
            continue
        md.pop("managedFields", None)
        if labels:
            keep_map(labels)
        if ann:
            keep_map(ann)
            for a in DROP_ANNOTATIONS:
                ann.pop(a, None)
        if kind == "Secret":
            _blank_secret(item)
        append(item)
        append_key(((index_kind(kind, item.get("apiVersion")), ns or "", name), uid))  # key_of(item)
    if maps and not _all_strings(maps):  # rare: find the objects whose labels or annotations are not strings
        kept = list(zip(acc.objects[first:], acc.keys[first:]))
        del acc.objects[first:], acc.keys[first:]
        for item, key in kept:
            md = item["metadata"]
            problem = _malformed(item, item["kind"], md, md["name"])
            if problem is None:
                append(item)
                append_key(key)
            else:
                malformed.append(f"{item['kind']} {_display(md)}: {problem}")
    if bad:
        acc.warnings.append(f"{rel}: {bad} entr{'y' if bad == 1 else 'ies'} without kind or metadata.name skipped")
    for text in malformed[:5]:
        acc.warnings.append(f"{rel}: skipped {text}")
    if len(malformed) > 5:
        acc.warnings.append(f"{rel}: skipped {len(malformed) - 5} more malformed entries")


def _all_strings(maps: list[dict[str, Any]]) -> bool:
    """Every key and value of every map is a str (str.join refuses anything else, and runs in C)."""
    try:
        "".join(chain.from_iterable(maps))
        "".join(chain.from_iterable(map(dict.values, maps)))
    except TypeError:
        return False
    return True


def _display(md: dict[str, Any]) -> str:
    """ns/name of a possibly malformed object, short and printable."""
    ns, name = md.get("namespace"), md.get("name")
    text = f"{ns}/{name}" if isinstance(ns, str) and ns else str(name)
    return text[:120]


def _str_map(value: Any) -> bool:
    """None or a map of strings to strings (str.join is the quickest type test of a whole dict, in C)."""
    if not value:
        return value is None or type(value) is dict
    if type(value) is not dict:
        return False
    try:
        "".join(value)
        "".join(value.values())
    except TypeError:
        return False
    return True


def _malformed(item: dict[str, Any], kind: str, md: dict[str, Any], name: Any) -> str | None:
    """Why an object does not have the shape the API server gives every object (so indexes and checks, which
    trust that shape, would crash on it), or None. Only what the Snapshot and the checks read unguarded.
    The first test is the whole check for a well-formed object; it runs for every object of the bundle."""
    ns, uid, labels, ann = md.get("namespace"), md.get("uid"), md.get("labels"), md.get("annotations")
    refs, spec, status = md.get("ownerReferences"), item.get("spec"), item.get("status")
    if (type(name) is str and (ns is None or type(ns) is str) and (uid is None or type(uid) is str)
            and (spec is None or type(spec) is dict) and (status is None or type(status) is dict)
            and _str_map(labels) and _str_map(ann)
            and (refs is None or type(refs) is list and all(map(_is_ref, refs)))
            and (kind != "Pod" or type((spec or {}).get("nodeName", "")) is str)
            and (kind != "Event"
                 or _is_map_or_none(item.get("involvedObject")) and _is_map_or_none(item.get("regarding")))):
        return None
    if type(name) is not str:
        return "metadata.name is not a string"
    if ns is not None and type(ns) is not str:
        return "metadata.namespace is not a string"
    if uid is not None and type(uid) is not str:
        return "metadata.uid is not a string"
    if not _str_map(labels):
        return "metadata.labels is not a map of strings"
    if not _str_map(ann):
        return "metadata.annotations is not a map of strings"
    if refs is not None and (type(refs) is not list or not all(map(_is_ref, refs))):
        return "metadata.ownerReferences is not a list of references"
    for f, v in (("spec", spec), ("status", status), ("involvedObject", item.get("involvedObject")),
                 ("regarding", item.get("regarding"))):
        if not _is_map_or_none(v):
            return f"{f} is not a mapping"
    return "spec.nodeName is not a string"


def _is_map_or_none(value: Any) -> bool:
    return value is None or type(value) is dict


def _is_ref(ref: Any) -> bool:
    """An ownerReference the owner index can use: a mapping whose uid, kind and name are strings."""
    return (type(ref) is dict and type(ref.get("uid", "")) is str and type(ref.get("kind", "")) is str
            and type(ref.get("name", "")) is str)


# orjson refuses to serialise more than 254 nested containers; wrapped in this many lists, an object deeper than
# MAX_DEPTH hits that limit, so one C-speed dumps() tells whether anything in a file is too deep.
_WRAP = 253 - MAX_DEPTH


def _wrapped(value: Any, levels: int) -> Any:
    for _ in range(levels):
        value = [value]
    return value


def _exceeds(value: Any, levels: int) -> bool | None:
    """True when `value` wrapped in `levels` lists is too deep for orjson; None when it failed for another reason."""
    try:
        orjson.dumps(_wrapped(value, levels), default=str, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError as e:
        return True if "ecursion" in str(e) else None
    return False


def _deep_entries(entries: list[Any]) -> set[int]:
    """Indexes of the entries nested deeper than MAX_DEPTH: each is skipped alone, the rest of its file is kept."""
    if _exceeds(entries, _WRAP) is False:
        return set()
    return {i for i, e in enumerate(entries) if _exceeds(e, _WRAP + 1)}


# orjson.loads accepts 1024 nested containers. A JSON file parsed inside JSON_PAD extra arrays therefore parses
# only when nothing in it nests deeper than MAX_DEPTH + 2 (entries sit inside a List's items): the depth check
# costs nothing for every normal file, and only a file that fails it is parsed again and checked entry by entry.
ORJSON_MAX_DEPTH = 1024
JSON_PAD = ORJSON_MAX_DEPTH - MAX_DEPTH - 2
# The reader's spare bytes each side: the arrays and room for two spaces after the outermost one. orjson's parser
# (yyjson) picks its reader for indented JSON only when the root's opening bracket is followed by two whitespace
# bytes, as in kubectl's `{\n    "apiVersion"`; a bare `[[[` before such a file sent it to the reader for
# compact JSON and made every parse 10-15 % slower.
READ_PAD = JSON_PAD + 2
_WS = b" \t\r\n"


def _parse_json(buf: bytes | bytearray) -> tuple[list[Any], bool]:
    """([document], may hold over-deep entries) from a buffer with READ_PAD spare bytes at each end (a reader
    given pad=READ_PAD) or from plain bytes."""
    if not isinstance(buf, bytearray) or len(buf) < 2 * READ_PAD:
        return [orjson.loads(buf)], True
    end = len(buf) - READ_PAD
    indented = end - READ_PAD >= 3 and buf[READ_PAD] in b"[{" and buf[READ_PAD + 1] in _WS and buf[READ_PAD + 2] in _WS
    buf[:READ_PAD] = b"[  " + b"[" * (JSON_PAD - 1) if indented else b"  " + b"[" * JSON_PAD
    buf[end:] = b"]" * JSON_PAD + b"  "
    try:
        doc = orjson.loads(buf)
        for _ in range(JSON_PAD):  # exactly one value inside each spare array, or the file was not one document
            if type(doc) is not list or len(doc) != 1:
                raise ValueError
            doc = doc[0]
    except (orjson.JSONDecodeError, ValueError):  # too deep, not JSON, empty, `1],[2`: parse the file alone,
        return [orjson.loads(memoryview(buf)[READ_PAD:end])], True  # for its own error
    return [doc], False


def _note_collector_error(acc: _Accum, rel: str, read: Callable[..., bytes | bytearray]) -> None:
    """Keep the newest time troubleshoot stamped on a failed collector: it ran during the collection."""
    try:
        doc = orjson.loads(read())
    except orjson.JSONDecodeError:
        return
    t = parse_time(doc.get("timestamp")) if isinstance(doc, dict) else None
    if t and (acc.collector_time is None or t > acc.collector_time):
        acc.collector_time = t


def _list_kind(doc: Any, default_kind: str | None, parts: tuple[str, ...]) -> str | None:
    """The kind a list document says was collected, so an empty one still counts: `PodList` names it; an
    empty `List` or JSON array (what `kubectl get deployments -A -o json` prints when there are none) is
    named by troubleshoot's folder or by the file's own name (`deployments.apps.json`, `pods.yaml`)."""
    if isinstance(doc, dict):
        kind, items = doc.get("kind"), doc.get("items")
        if "items" not in doc or not (items is None or isinstance(items, list)):
            return None
        if isinstance(kind, str) and kind.endswith("List") and kind != "List":
            return index_kind(kind[: -len("List")], doc.get("apiVersion"))
        if kind not in (None, "List") or items:
            return None
    elif doc != []:
        return None
    if default_kind:
        return default_kind
    for part in (parts[-1].rsplit(".", 1)[0], *reversed(parts[:-1])):
        spec = FILE_KINDS.get(part.lower())
        if spec:
            return kind_name(*spec)
    return None


def _declared_kinds(meta: dict[str, Any], warnings: list[str]) -> set[str]:
    """bundle.json "kinds" (what `bundle collect` listed, even when empty) and "kindsNotInstalled" (what
    discovery said the cluster does not serve, so none exist): entries "Kind", "group/Kind" or "Kind.group"."""
    out: set[str] = set()
    for field_name in ("kinds", "kindsNotInstalled"):
        value = meta.get(field_name)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            warnings.append(f"bundle.json: \"{field_name}\" is not a list of kind names ({str(value)[:80]}); ignored")
            continue
        for v in value:
            if "/" in v:
                group, kind = v.rsplit("/", 1)
                out.add(kind_name(kind, group))
            elif "." in v:
                kind, group = v.split(".", 1)
                out.add(kind_name(kind, group))
            else:
                out.add(v)
    return out


def _add_log(acc: _Accum, rel: str, log_key: tuple[str, str, str, bool], read: Callable[..., bytes | bytearray],
             path: str | None, read_tail: Callable[[], bytes] | None) -> None:
    """Keep a container log: a reader of its tail on disk, or (inside an archive) the tail itself, bounded."""
    if path is not None:
        acc.logs[log_key] = _tail_reader(path)
    elif acc.log_bytes_kept >= MAX_KEPT_LOG_BYTES:  # archive tails live in memory: bounded in all
        if not acc.logs_full:
            acc.warnings.append(f"{rel}: not read, nor any later log: the archive's logs already hold "
                                f"{MAX_KEPT_LOG_BYTES >> 20} MiB of tails (the limit per bundle)")
            acc.logs_full = True
    else:  # inside an archive: keep the tail now, the stream cannot be revisited cheaply
        data = read_tail() if read_tail else bytes(read()[-MAX_LOG_BYTES:])
        acc.log_bytes_kept += len(data)
        acc.logs[log_key] = lambda: data


def _log_key(parts: tuple[str, ...]) -> tuple[str, str, str, bool] | None | tuple[()]:
    """Key for a container log path; () for a log-like file to ignore; None if not a log."""
    if "logs" not in parts:
        return None
    i = parts.index("logs")
    rest = parts[i + 1 :]
    if len(rest) != 3:
        return ()
    ns, pod, fname = rest
    if not fname.endswith(".log") or fname.endswith("-logs-errors.log"):
        return ()
    base = fname[: -len(".log")]
    previous = False
    for suffix in (".previous", "-previous"):
        if base.endswith(suffix):
            base, previous = base[: -len(suffix)], True
    return (ns, pod, base, previous)


def _add_collection_errors(acc: _Accum, rel: str, parts: tuple[str, ...],
                           read: Callable[..., bytes | bytearray]) -> None:
    kind = _troubleshoot_kind(PurePosixPath(rel).name[: -len("-errors.json")]) or PurePosixPath(rel).name
    try:
        data = orjson.loads(read())
    except orjson.JSONDecodeError:
        acc.warnings.append(f"{rel}: unreadable collection-error file")
        return
    entries = data.items() if isinstance(data, dict) else (("", e) for e in (data if isinstance(data, list) else [data]))
    for ns, err in entries:
        for e in err if isinstance(err, list) else [err]:
            text = str(e)
            m = re.search(r"namespace[s]? \"?([a-z0-9-]+)\"?", text)
            acc.errors.append({"kind": kind, "namespace": ns or (m.group(1) if m else ""), "error": text})


def _walk_dir(root: Path, acc: _Accum) -> None:
    """Depth-first over os.scandir: one stat per entry, which matters for bundles of 10,000 log files. Only
    regular files are read (a FIFO blocks forever, a device never ends), and a symbolic link only when it
    stays inside the bundle: a bundle is untrusted input and must not make the report quote ~/.kube/config.
    An explicit stack, not recursion, and folders deeper than MAX_DIR_DEPTH are skipped by name: a hostile
    bundle nested thousands deep would otherwise end the run with a RecursionError."""
    real_root = os.path.realpath(root)

    def listing(folder: str, rel: str) -> list[os.DirEntry[str]] | None:
        try:
            return sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            acc.warnings.append(f"{rel or '.'}: unreadable folder ({e.strerror})")
            return None

    first = listing(str(root), "")
    if first is None:
        return
    # each frame: (entries of one folder, index of the next one, its path relative to the root, names of
    # its entries, built only for a symlink: most folders hold one log file)
    stack: list[tuple[list[os.DirEntry[str]], list[int], str, list[set[str] | None]]] = [(first, [0], "", [None])]
    while stack:
        entries, pos, rel, names = stack[-1]
        if pos[0] >= len(entries):
            stack.pop()
            continue
        entry = entries[pos[0]]
        pos[0] += 1
        child = f"{rel}/{entry.name}" if rel else entry.name
        try:
            if entry.is_dir(follow_symlinks=False):
                if entry.name == "logs":  # one folder per pod below: listed only for the pods a check asks about
                    acc.log_folders.append((child, entry.path))
                    continue
                if len(stack) >= MAX_DIR_DEPTH:
                    acc.warnings.append(f"{child}: nested deeper than {MAX_DIR_DEPTH} folders, not read")
                    continue
                sub = listing(entry.path, child)
                if sub is not None:
                    stack.append((sub, [0], child, [None]))
                continue
            if entry.is_symlink():
                # troubleshoot keeps a .yaml symlink beside each custom-resource .json
                seen = names[0]
                if seen is None:
                    seen = names[0] = {e.name for e in entries}
                if entry.name.endswith(".yaml") and entry.name[:-5] + ".json" in seen:
                    continue
                target = os.path.realpath(entry.path)
                if os.path.commonpath((real_root, target)) != real_root:
                    acc.warnings.append(f"{child}: symbolic link to a file outside the bundle, not followed")
                    continue
                st = os.stat(target)
            else:
                st = entry.stat(follow_symlinks=False)
        except (OSError, ValueError) as e:
            acc.warnings.append(f"{child}: unreadable ({getattr(e, 'strerror', None) or e})")
            continue
        if not stat.S_ISREG(st.st_mode):
            if not entry.name.startswith("."):
                acc.warnings.append(f"{child}: not a regular file ({_file_type(st.st_mode)}), not read")
            continue
        _add_file(acc, child, _reader(entry.path, acc, child), st.st_size, entry.path)


class _LogFolders:
    """Container logs of a directory bundle, found when a check asks for them. A 10,000-pod bundle has a
    folder per pod under logs/: listing them all up front cost about as much as checking the bundle, and
    checks read the logs of a few failing pods. A pod's folder is listed once, named by _log_key as the
    walk would have named it, with the walk's rules: no symbolic link out of the bundle, regular files only.
    A later logs/ folder wins, as a later file did."""

    def __init__(self, roots: list[tuple[str, str]], real_root: str, warnings: list[str]):
        self.roots = roots
        self.real_root = real_root
        self.warnings = warnings
        self.folders: dict[tuple[str, str], dict[tuple[str, bool], Callable[[], bytes | None]]] = {}

    def __call__(self, ns: str, pod: str, container: str, previous: bool) -> bytes | None:
        found = self.folders.get((ns, pod))
        if found is None:
            found = self.folders[(ns, pod)] = self._list(ns, pod)
        reader = found.get((container, previous))
        return reader() if reader else None

    def _list(self, ns: str, pod: str) -> dict[tuple[str, bool], Callable[[], bytes | None]]:
        if not _one_component(ns) or not _one_component(pod):
            return {}  # names from the bundle's objects, never a path out of the folder
        found: dict[tuple[str, bool], Callable[[], bytes | None]] = {}
        for rel, root in self.roots:  # in walk order: a later one overwrites, as in the walk
            folder = os.path.join(root, ns, pod)
            try:
                if not (stat.S_ISDIR(os.lstat(os.path.join(root, ns)).st_mode)
                        and stat.S_ISDIR(os.lstat(folder).st_mode)):
                    continue  # the walk never followed a linked folder
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except (OSError, ValueError):
                continue
            for entry in entries:
                key = _log_key(("logs", ns, pod, entry.name))
                if key and self._readable(entry, f"{rel}/{ns}/{pod}/{entry.name}"):
                    found[(key[2], key[3])] = _tail_reader(entry.path)
        return found

    def _readable(self, entry: os.DirEntry[str], rel: str) -> bool:
        try:
            if entry.is_symlink():
                target = os.path.realpath(entry.path)
                if os.path.commonpath((self.real_root, target)) != self.real_root:
                    self.warnings.append(f"{rel}: symbolic link to a file outside the bundle, not followed")
                    return False
                mode = os.stat(target).st_mode
            else:
                mode = entry.stat(follow_symlinks=False).st_mode
        except (OSError, ValueError) as e:
            self.warnings.append(f"{rel}: unreadable ({getattr(e, 'strerror', None) or e})")
            return False
        if not stat.S_ISREG(mode):
            self.warnings.append(f"{rel}: not a regular file ({_file_type(mode)}), not read")
            return False
        return True


def _one_component(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\0" not in name


def _file_type(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def _read_regular(path: str, limit: int, pad: int = 0) -> bytes | bytearray:
    """At most `limit` bytes of a regular file. Opened non-blocking and checked after opening, so a file
    swapped for a FIFO between the walk and the read cannot hang the load."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(0, "not a regular file")
        if pad and st.st_size <= limit:
            return _read_padded(f, st.st_size, pad)
        return f.read(limit)


def _read_padded(f: Any, size: int, pad: int) -> bytes | bytearray:
    """The stream's `size` bytes with `pad` spare bytes before and after (for _parse_json), read in place."""
    buf = bytearray(pad + size + pad)
    view = memoryview(buf)
    got = 0
    while got < size:
        n = f.readinto(view[pad + got : pad + size])
        if not n:
            break
        got += n
    view.release()
    if got < size:  # shrank while being read
        return bytes(buf[pad : pad + got])
    return buf


def _reader(path: str, acc: _Accum, rel: str) -> Callable[..., bytes | bytearray]:
    def read(pad: int = 0) -> bytes | bytearray:
        try:
            data = _read_regular(path, MAX_FILE_BYTES + 1, pad)
        except OSError as e:
            acc.warnings.append(f"{rel}: unreadable ({e.strerror})")
            return b""
        if len(data) > MAX_FILE_BYTES + 2 * pad:  # grew after it was listed
            acc.warnings.append(f"{rel}: read only its first {MAX_FILE_BYTES >> 20} MiB (the limit per file)")
            return data[:MAX_FILE_BYTES]
        return data

    return read


def _tail_reader(path: str) -> Callable[[], bytes | None]:
    """Read the last MAX_LOG_BYTES of a log file when a check asks for it."""

    def read() -> bytes | None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as f:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    return None
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - MAX_LOG_BYTES))
                return f.read(MAX_LOG_BYTES)
        except OSError:
            return None

    return read


def _stream_tail(f: Any, keep: int) -> bytes:
    """The last `keep` bytes of a stream read in chunks: memory stays near 2 x keep whatever the stream's size."""
    tail = b""
    while True:
        chunk = f.read(CHUNK)
        if not chunk:
            return tail
        tail = (tail + chunk)[-keep:]


def _archive_name(name: str) -> str:
    """A member's path without a leading `./` or `/` (str.lstrip("./") would also eat `.x` and `..foo`)."""
    while name.startswith(("./", "/")):
        name = name[2:] if name.startswith("./") else name[1:]
    return "" if name == "." else name


_TAR_METHODS = {".gz": "gz", ".tgz": "gz", ".bz2": "bz2", ".xz": "xz", ".tar": "tar"}


def tar_open_error(path: Path, e: BaseException) -> str:
    """Why tarfile could not open an archive, in one sentence: tarfile tries every compression and lists
    each failure on its own line; only the one the file name promises (else the first) says anything."""
    lines = [ln.strip("- ").strip() for ln in str(e).splitlines() if ln.strip().startswith("- method")]
    if not lines:
        return f"{path}: not a readable tar archive ({str(e).strip() or type(e).__name__})"
    want = _TAR_METHODS.get(path.suffix.lower(), "")
    line = next((ln for ln in lines if ln.startswith(f"method {want}:")), lines[0])
    method, _, reason = line.removeprefix("method ").partition(":")
    reason = reason.strip()
    m = re.fullmatch(r"ReadError\('(.*)'\)", reason)
    reason = m.group(1) if m else reason
    kind = {"gz": "gzip-compressed", "bz2": "bzip2-compressed", "xz": "xz-compressed", "tar": "plain"}.get(method, method)
    return f"{path}: not a readable {kind} tar archive ({reason})"


def _walk_tar(path: Path, acc: _Accum) -> None:
    """Members in order; only regular files are read, and no more than MAX_ARCHIVE_BYTES of content in all
    (tar decompresses a member even to skip it: this bounds the time a gzip bomb can take)."""
    try:
        tf = tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise BundleError(tar_open_error(path, e)) from None
    consumed = 0
    with tf:
        try:
            for member in tf:
                if not member.isfile():
                    if member.isdev() or member.isfifo():
                        acc.warnings.append(
                            f"{_archive_name(member.name)}: a device or FIFO inside the archive, not read")
                    continue
                consumed += member.size
                if consumed > MAX_ARCHIVE_BYTES:
                    acc.warnings.append(
                        f"{path.name}: stopped reading at {_archive_name(member.name)}: the archive holds more than "
                        f"{MAX_ARCHIVE_BYTES >> 30} GiB uncompressed (the limit per bundle)")
                    break
                rel = _archive_name(member.name)
                if not rel:
                    continue

                def read(pad: int = 0, m: tarfile.TarInfo = member) -> bytes | bytearray:
                    f = tf.extractfile(m)
                    if f is None:
                        return b""
                    return _read_padded(f, m.size, pad) if pad else f.read(MAX_FILE_BYTES)

                def read_tail(m: tarfile.TarInfo = member) -> bytes:
                    f = tf.extractfile(m)
                    return _stream_tail(f, MAX_LOG_BYTES) if f else b""

                _add_file(acc, rel, read, member.size, read_tail=read_tail)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
            acc.warnings.append(f"{path.name}: archive is truncated or corrupt after {acc.files_read} files ({e})")


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except (OSError, EOFError, tarfile.TarError):
        return False


def _captured_at(acc: _Accum, location: str) -> tuple[datetime, str]:
    """The bundle's "now" and where it came from: bundle.json capturedAt; else the format's own record of
    when it ran (troubleshoot's archive name, sonobuoy's run log or archive name); else an estimate from
    the event and status times of the objects that a few outliers cannot move; the clock only when the
    bundle holds no time at all."""
    t = parse_time(acc.meta.get("capturedAt"))
    if t:
        return t, SOURCE_CAPTURED_AT
    if acc.meta.get("capturedAt") is not None:
        text = str(acc.meta.get("capturedAt"))[:60]
        acc.warnings.append(f"bundle.json: capturedAt {text!r} is not an RFC 3339 time")
    m = SUPPORT_BUNDLE_TIME.search(location) or SUPPORT_BUNDLE_TIME.search(acc.troubleshoot_root or "")
    if m:
        return (datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}:{m.group(3)}:{m.group(4)}+00:00"),
                "the troubleshoot bundle's name")
    if acc.collector_time:
        return acc.collector_time, "troubleshoot's collector-errors timestamps"
    t = _run_log_time(acc.run_log_tail) if acc.run_log_tail else None
    if t:
        return t, "sonobuoy's meta/run.log"
    m = SONOBUOY_ARCHIVE_TIME.search(location)
    if m:
        year, month, day, hour, minute = (int(g) for g in m.groups())
        return datetime(year, month, day, hour, minute, tzinfo=UTC), "the sonobuoy archive's name"
    # Creation times only when nothing else is known: objects copied in from elsewhere keep theirs (real bundles
    # hold ConfigMaps and Namespaces created years after the capture), while activity times are the capture's.
    t = (robust_latest(list(_activity_times(acc.objects)), ESTIMATE_WINDOW, ESTIMATE_SUPPORT)
         or robust_latest(list(_creation_times(acc.objects)), ESTIMATE_WINDOW, ESTIMATE_SUPPORT))
    if t:
        acc.warnings.append(f"no capturedAt in bundle.json: capture time estimated from event and status times "
                            f"({t.isoformat().replace('+00:00', 'Z')}); ages are relative to it")
        return t, SOURCE_ESTIMATED
    acc.warnings.append("no capturedAt and no timestamps: using the current time as now")
    return datetime.now(UTC), "the current time (the bundle holds no timestamps)"


SOURCE_CAPTURED_AT = "bundle.json capturedAt"
SOURCE_ESTIMATED = "estimated from event and status times"
# An estimate is the latest time that ESTIMATE_SUPPORT others corroborate within ESTIMATE_WINDOW: kubelets
# post node status at least every 5 minutes and events live an hour, so a real capture has many times close
# to it, while a stray future-dated object stands alone.
ESTIMATE_WINDOW = timedelta(hours=1)
ESTIMATE_SUPPORT = 2


def _run_log_time(tail: bytes) -> datetime | None:
    """The newest "time" of sonobuoy's run log (logrus JSON lines): the run ends with the resource queries."""
    newest: datetime | None = None
    for line in tail.splitlines()[-200:]:
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        t = parse_time(entry.get("time")) if isinstance(entry, dict) else None
        if t and (newest is None or t > newest):
            newest = t
    return newest


# Status fields that record something that already happened (never a future time like cert-manager's
# renewalTime or a CronJob's next run): Pods, Jobs, CronJobs, Velero, External Secrets, Argo CD.
PAST_STATUS_TIMES = ("startTime", "completionTime", "lastScheduleTime", "lastSuccessfulTime", "lastValidationTime",
                     "lastSyncTime", "refreshTime", "startTimestamp", "completionTimestamp", "lastBackup",
                     "reconciledAt")


def _activity_times(objects: list[dict[str, Any]]) -> Iterator[datetime]:
    """Times at which a controller or kubelet observed something: event times, condition transitions and
    heartbeats, container starts and ends, a status's own record of its last run. Malformed ones are skipped,
    never fatal."""
    for o in objects:
        series = o.get("series")
        for ts in (o.get("lastTimestamp"), o.get("eventTime"),
                   series.get("lastObservedTime") if isinstance(series, dict) else None):
            t = parse_time(ts)
            if t:
                yield t
        status = o.get("status")
        if not isinstance(status, dict):
            continue
        for f in PAST_STATUS_TIMES:
            t = parse_time(status.get(f))
            if t:
                yield t
        conds = status.get("conditions")
        if isinstance(conds, list):
            for c in conds:
                if isinstance(c, dict):
                    for f in ("lastHeartbeatTime", "lastTransitionTime", "lastProbeTime", "lastUpdateTime"):
                        t = parse_time(c.get(f))
                        if t:
                            yield t
        statuses = status.get("containerStatuses")
        for cs in statuses if isinstance(statuses, list) else ():
            state = cs.get("state") if isinstance(cs, dict) else None
            if isinstance(state, dict):
                for st in state.values():
                    if isinstance(st, dict):
                        for f in ("startedAt", "finishedAt"):
                            t = parse_time(st.get(f))
                            if t:
                                yield t


def _creation_times(objects: list[dict[str, Any]]) -> Iterator[datetime]:
    for o in objects:
        t = parse_time((o.get("metadata") or {}).get("creationTimestamp"))
        if t:
            yield t


def _drop_duplicates(acc: _Accum) -> None:
    """One object per identity. The same object in two files (a bundle merged from two captures, a List and a
    per-namespace file) keeps the newer resourceVersion; different objects under one name (different uid) are
    said in a warning rather than silently collapsed. Identical copies go without a word."""
    first: dict[Any, int] = {}
    drop: set[int] = set()
    notes: list[str] = []
    for i, (key, uid) in enumerate(acc.keys):
        j = first.get(key)
        if j is None:
            first[key] = i
            continue
        old, new = acc.objects[j], acc.objects[i]
        rv_old, rv_new = _rv(old), _rv(new)
        same = uid == acc.keys[j][1]
        if same and rv_old == rv_new and (uid is not None or rv_new is not None or old == new):
            drop.add(j)  # a copy: keep the later one, as the index always did
            first[key] = i
            continue
        keep_new = rv_new > rv_old if rv_new is not None and rv_old is not None else True
        kept, lost = (i, j) if keep_new else (j, i)
        drop.add(lost)
        first[key] = kept
        comparable = rv_new is not None and rv_old is not None
        why = "its newer resourceVersion" if comparable else "the later file (no comparable resourceVersion)"
        what = "the same object" if same else f"two different objects (uid {acc.keys[j][1]} and {uid})"
        where = (f"{_file_of(acc, j)} (resourceVersion {(old.get('metadata') or {}).get('resourceVersion')}) and "
                 f"{_file_of(acc, i)} (resourceVersion {(new.get('metadata') or {}).get('resourceVersion')})")
        notes.append(f"{new.get('kind')} {_display(new.get('metadata') or {})}: {what} in {where}; "
                     f"kept the one from {_file_of(acc, kept)}, {why}")
    if not drop:
        return
    acc.warnings.extend(notes[:10])
    if len(notes) > 10:
        acc.warnings.append(f"{len(notes) - 10} more objects appear twice with different contents; "
                            "the newer resourceVersion was kept")
    acc.objects[:] = [o for i, o in enumerate(acc.objects) if i not in drop]
    acc.keys[:] = [k for i, k in enumerate(acc.keys) if i not in drop]


def _rv(obj: dict[str, Any]) -> int | None:
    """resourceVersion as a number: etcd's revision, comparable across objects of one cluster."""
    rv = (obj.get("metadata") or {}).get("resourceVersion")
    return int(rv) if isinstance(rv, str) and rv.isdigit() else None


def _file_of(acc: _Accum, index: int) -> str:
    """The bundle file the index-th object came from."""
    pos = bisect_right(acc.file_starts, (index, "\uffff")) - 1
    return acc.file_starts[pos][1] if pos >= 0 else "?"


def _scope(acc: _Accum) -> tuple[str, ...]:
    """bundle.json "namespaces": the namespaces `bundle collect -n` swept ([] or absent: all of them)."""
    value = acc.meta.get("namespaces")
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(n, str) and n for n in value):
        acc.warnings.append(f"bundle.json: \"namespaces\" is not a list of names ({str(value)[:80]}); read as all namespaces")
        return ()
    return tuple(dict.fromkeys(value))


def _metrics(data: bytes | bytearray, warnings: list[str]) -> Any:
    """The bundle's MetricSet; an unreadable one is a warning and a "not checked" line, never fatal."""
    from sre_expert.core.metric_set import MetricSet

    try:
        return MetricSet.from_json(orjson.loads(data))
    except (orjson.JSONDecodeError, ValueError, KeyError, TypeError) as e:
        warnings.append(f"metrics/metrics.json: unreadable ({e})")
        return MetricSet.absent(f"metrics/metrics.json in the bundle is unreadable ({e})")


def load_bundle(location: str | Path) -> Snapshot:
    """Load a bundle directory or archive. Raises BundleError only when nothing is usable."""
    path = Path(location)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise BundleError(f"{path}: no such file or directory") from None
    except OSError as e:
        raise BundleError(f"{path}: unreadable ({e.strerror})") from None
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        raise BundleError(f"{path}: {_file_type(mode)}, not a bundle (a folder, a .tar.gz or a file of objects)")
    acc = _Accum()
    enabled = gc.isenabled()
    gc.disable()  # the cyclic GC, not parsing, dominates bulk loads of small dicts
    try:
        if path.is_dir():
            _walk_dir(path, acc)
        elif path.name.endswith((".tar.gz", ".tgz", ".tar")) or _is_tar(path):
            _walk_tar(path, acc)
        else:
            try:
                size = path.stat().st_size
            except OSError as e:
                raise BundleError(f"{path}: unreadable ({e.strerror})") from None
            _add_file(acc, path.name, _reader(str(path), acc, path.name), size, str(path))
        if not acc.objects:
            detail = "; ".join(acc.warnings[:5])
            raise BundleError(
                f"{path}: no Kubernetes objects could be read"
                + (f" ({detail})" if detail else " (expected *.json/*.yaml files as written by `kubectl get -o json|yaml`)")
            )
        _drop_duplicates(acc)
        captured_at, captured_at_source = _captured_at(acc, str(path))
        info = SnapshotInfo(
            captured_at=captured_at,
            captured_at_source=captured_at_source,
            cluster=str(acc.meta.get("cluster") or ""),
            kubernetes_version=str(acc.meta.get("kubernetesVersion") or ""),
            source="bundle",
            location=str(path),
            collection_errors=acc.errors,
            warnings=acc.warnings,
            namespaces=_scope(acc),
            collected_kinds=frozenset(acc.kinds | _declared_kinds(acc.meta, acc.warnings)),
        )
        logs = acc.logs
        folders = _LogFolders(acc.log_folders, os.path.realpath(path), acc.warnings) if acc.log_folders else None

        def read_log(ns: str, pod: str, container: str, previous: bool) -> str | None:
            reader = logs.get((ns, pod, container, previous))
            data = reader() if reader else folders(ns, pod, container, previous) if folders else None
            return data.decode("utf-8", "replace") if data is not None else None

        snap = Snapshot(acc.objects, info, read_log, keys=acc.keys)
        if acc.metrics is not None:
            snap.metrics = _metrics(acc.metrics, acc.warnings)
        # The loaded objects live for the whole run: freeze them before the collector comes back, or its
        # first pass rescans millions of dicts for cycles they cannot have.
        gc.freeze()
    finally:
        if enabled:
            gc.enable()
    return snap


__all__ = ["BundleError", "load_bundle"]
