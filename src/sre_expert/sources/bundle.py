"""Read a bundle (directory or .tar.gz) into a Snapshot.

Formats: the project's own bundle (DESIGN.md: any *.json/*.yaml outside logs/, logs/<ns>/<pod>/<c>.log,
bundle.json) and troubleshoot.sh support bundles (cluster-resources/, custom-resources/, pods/logs/).
Every unreadable file becomes a warning naming it; only a bundle with nothing readable is an error.
"""

from __future__ import annotations

import gc
import os
import re
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from ..model import Key, index_kind, kind_name
from ..snapshot import Snapshot, SnapshotInfo
from ..timeutil import parse_time
from .kinds import FILE_KINDS

MAX_FILE_BYTES = 1 << 30
MAX_LOG_BYTES = 1 << 20
DROP_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)

# troubleshoot.sh names its per-type folders and files by resource, often without kind on items.
TROUBLESHOOT_KINDS = {
    "pods": "Pod", "services": "Service", "deployments": "Deployment", "replicasets": "ReplicaSet",
    "statefulsets": "StatefulSet", "daemonsets": "DaemonSet", "jobs": "Job", "cronjobs": "CronJob",
    "ingress": "Ingress", "network-policy": "NetworkPolicy", "resource-quota": "ResourceQuota",
    "limitranges": "LimitRange", "events": "Event", "pvcs": "PersistentVolumeClaim", "roles": "Role",
    "rolebindings": "RoleBinding", "endpoints": "Endpoints", "endpointslices": "EndpointSlice",
    "serviceaccounts": "ServiceAccount", "leases": "Lease", "configmaps": "ConfigMap",
    "pod-disruption-budgets": "PodDisruptionBudget", "namespaces": "Namespace", "nodes": "Node",
    "pvs": "PersistentVolume", "storage-classes": "StorageClass", "ingress-classes": "IngressClass",
    "priorityclasses": "PriorityClass", "custom-resource-definitions": "CustomResourceDefinition",
    "clusterroles": "ClusterRole", "clusterrolebindings": "ClusterRoleBinding",
    "volumeattachments": "VolumeAttachment", "validating-webhook-configurations": "ValidatingWebhookConfiguration",
    "mutating-webhook-configurations": "MutatingWebhookConfiguration", "horizontalpodautoscalers": "HorizontalPodAutoscaler",
}
TROUBLESHOOT_SKIP = {"groups", "resources", "auth-cani-list", "image-pull-secrets", "analysis", "version",
                     "cluster_version", "summary", "license"}
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
    metrics: bytes | None = None  # metrics/metrics.json: a MetricSet captured with the objects
    kinds: set[str] = field(default_factory=set)  # kinds of empty lists (the objects' kinds the Snapshot adds)


def _clean(obj: dict[str, Any]) -> None:
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
    if not isinstance(doc, dict):
        return [doc]
    kind = doc.get("kind")
    items = doc.get("items")
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


def _parse_documents(name: str, data: bytes) -> list[Any]:
    if name.endswith(".json"):
        return [orjson.loads(data)]
    import yaml

    return [d for d in yaml.load_all(data, Loader=yaml.CSafeLoader) if d is not None]


def _troubleshoot_kind(parts: tuple[str, ...]) -> tuple[str | None, bool]:
    """(kind to assume for items without one, skip this file) from a troubleshoot path."""
    if "cluster-resources" not in parts:
        return None, False
    rel = parts[parts.index("cluster-resources") + 1 :]
    stem = PurePosixPath(rel[0]).stem if rel else ""
    if stem in TROUBLESHOOT_SKIP:
        return None, True
    return TROUBLESHOOT_KINDS.get(stem), False


def _add_file(acc: _Accum, rel: str, read: Callable[[], bytes], size: int, path: str | None = None) -> None:
    """Route one file: metadata, collection errors, a container log (kept as a reader), or objects."""
    parts, name = _split(rel)
    if name.startswith("."):
        return
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
    log_key = _log_key(parts)
    if log_key is not None:
        if log_key:
            if path is not None:
                acc.logs[log_key] = _tail_reader(path)
            else:  # inside an archive: keep the tail now, the stream cannot be revisited cheaply
                data = read()[-MAX_LOG_BYTES:]
                acc.logs[log_key] = lambda data=data: data
        return
    if not name.endswith((".json", ".yaml", ".yml")):
        return
    if name in ("analysis.json", "version.yaml") or "execution-data" in parts or "host-collectors" in parts:
        return
    if size > MAX_FILE_BYTES:
        acc.warnings.append(f"{rel}: skipped, {size / 1e6:.0f} MB is over the {MAX_FILE_BYTES >> 20} MiB limit per file")
        return
    default_kind, skip = _troubleshoot_kind(parts)
    if skip:
        return
    try:
        docs = _parse_documents(name, read())
    except Exception as e:  # any parser error names the file; the rest of the bundle still counts
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        acc.warnings.append(f"{rel}: skipped, cannot parse ({msg})")
        return
    acc.files_read += 1
    bad = 0
    append, append_key = acc.objects.append, acc.keys.append
    for doc in docs:
        listed = _list_kind(doc, default_kind, parts)
        if listed:
            acc.kinds.add(listed)
        for item in _items(doc, default_kind):
            # _clean(item) inlined and the Snapshot's key read here, while the freshly parsed object is still
            # in the CPU cache: this loop runs for every object of the bundle.
            if isinstance(item, dict):
                kind = item.get("kind")
                md = item.get("metadata")
                if isinstance(kind, str) and isinstance(md, dict):
                    name = md.get("name")
                    if name:
                        md.pop("managedFields", None)
                        ann = md.get("annotations")
                        if ann:
                            for a in DROP_ANNOTATIONS:
                                ann.pop(a, None)
                        if kind == "Secret":
                            _blank_secret(item)
                        append(item)
                        append_key(((index_kind(kind, item.get("apiVersion")), md.get("namespace") or "", name),
                                    md.get("uid")))  # key_of(item)
                        continue
            bad += 1
    if bad:
        acc.warnings.append(f"{rel}: {bad} entr{'y' if bad == 1 else 'ies'} without kind or metadata.name skipped")


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


def _add_collection_errors(acc: _Accum, rel: str, parts: tuple[str, ...], read: Callable[[], bytes]) -> None:
    kind = TROUBLESHOOT_KINDS.get(PurePosixPath(rel).name[: -len("-errors.json")]) or PurePosixPath(rel).name
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
    """Depth-first over os.scandir: one stat per entry, which matters for bundles of 10,000 log files."""

    def visit(folder: str, rel: str) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            acc.warnings.append(f"{rel or '.'}: unreadable folder ({e.strerror})")
            return
        names: set[str] | None = None  # built only for a symlink: most folders hold one log file
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    visit(entry.path, child)
                    continue
                if entry.is_symlink():
                    # troubleshoot keeps a .yaml symlink beside each custom-resource .json
                    if names is None:
                        names = {e.name for e in entries}
                    if entry.name.endswith(".yaml") and entry.name[:-5] + ".json" in names:
                        continue
                    if not entry.is_file():
                        continue
                size = entry.stat().st_size
            except OSError as e:
                acc.warnings.append(f"{child}: unreadable ({e.strerror})")
                continue
            _add_file(acc, child, _reader(entry.path, acc, child), size, entry.path)

    visit(str(root), "")


def _reader(path: str, acc: _Accum, rel: str) -> Callable[[], bytes]:
    def read() -> bytes:
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError as e:
            acc.warnings.append(f"{rel}: unreadable ({e.strerror})")
            return b""

    return read


def _tail_reader(path: str) -> Callable[[], bytes | None]:
    """Read the last MAX_LOG_BYTES of a log file when a check asks for it."""

    def read() -> bytes | None:
        try:
            with open(path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - MAX_LOG_BYTES))
                return f.read()
        except OSError:
            return None

    return read


def _walk_tar(path: Path, acc: _Accum) -> None:
    try:
        tf = tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise BundleError(f"{path}: not a readable tar archive ({e})") from None
    with tf:
        try:
            for member in tf:
                if not member.isfile():
                    continue
                rel = member.name.lstrip("./")
                def read(m: tarfile.TarInfo = member) -> bytes:
                    f = tf.extractfile(m)
                    return f.read() if f else b""
                _add_file(acc, rel, read, member.size)
        except (tarfile.TarError, OSError, EOFError) as e:
            acc.warnings.append(f"{path.name}: archive is truncated or corrupt after {acc.files_read} files ({e})")



def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except (OSError, EOFError, tarfile.TarError):
        return False


def _captured_at(acc: _Accum, location: str) -> datetime:
    t = parse_time(acc.meta.get("capturedAt"))
    if t:
        return t
    m = SUPPORT_BUNDLE_TIME.search(location) or SUPPORT_BUNDLE_TIME.search(acc.troubleshoot_root or "")
    if m:
        return datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}:{m.group(3)}:{m.group(4)}+00:00")
    newest = ""
    for o in acc.objects:
        for ts in (o.get("lastTimestamp"), (o.get("metadata") or {}).get("creationTimestamp")):
            if isinstance(ts, str) and ts > newest:
                newest = ts
    t = parse_time(newest) if newest else None
    if t:
        acc.warnings.append(f"no capturedAt in bundle.json: using the newest timestamp in the bundle ({newest}) as now")
        return t
    acc.warnings.append("no capturedAt and no timestamps: using the current time as now")
    return datetime.now(UTC)


def _scope(acc: _Accum) -> tuple[str, ...]:
    """bundle.json "namespaces": the namespaces `bundle collect -n` swept ([] or absent: all of them)."""
    value = acc.meta.get("namespaces")
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(n, str) and n for n in value):
        acc.warnings.append(f"bundle.json: \"namespaces\" is not a list of names ({str(value)[:80]}); read as all namespaces")
        return ()
    return tuple(dict.fromkeys(value))


def _metrics(data: bytes, warnings: list[str]) -> Any:
    """The bundle's MetricSet; an unreadable one is a warning and a "not checked" line, never fatal."""
    from ..metrics import MetricSet

    try:
        return MetricSet.from_json(orjson.loads(data))
    except (orjson.JSONDecodeError, ValueError, KeyError, TypeError) as e:
        warnings.append(f"metrics/metrics.json: unreadable ({e})")
        return MetricSet.absent(f"metrics/metrics.json in the bundle is unreadable ({e})")


def load_bundle(location: str | Path) -> Snapshot:
    """Load a bundle directory or archive. Raises BundleError only when nothing is usable."""
    path = Path(location)
    if not path.exists():
        raise BundleError(f"{path}: no such file or directory")
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
        info = SnapshotInfo(
            captured_at=_captured_at(acc, str(path)),
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

        def read_log(ns: str, pod: str, container: str, previous: bool) -> str | None:
            reader = logs.get((ns, pod, container, previous))
            data = reader() if reader else None
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
