"""Identity, time and metadata helpers shared by every synthetic object.

Everything is derived from a hash of stable inputs (kind, namespace, name...), never from a random
source, so two runs build byte-identical clusters and a benchmark can be regenerated exactly.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

# Alphabet of apimachinery's rand.SafeEncodeString: no vowels, no 0/1/3 (no accidental words).
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

# API versions as a 1.32 API server serves them.
API = {
    "Pod": "v1",
    "Service": "v1",
    "Endpoints": "v1",
    "Node": "v1",
    "Namespace": "v1",
    "Event": "v1",
    "ConfigMap": "v1",
    "Secret": "v1",
    "ServiceAccount": "v1",
    "PersistentVolume": "v1",
    "PersistentVolumeClaim": "v1",
    "ResourceQuota": "v1",
    "LimitRange": "v1",
    "Deployment": "apps/v1",
    "ReplicaSet": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "ControllerRevision": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "EndpointSlice": "discovery.k8s.io/v1",
    "NetworkPolicy": "networking.k8s.io/v1",
    "StorageClass": "storage.k8s.io/v1",
    "PodDisruptionBudget": "policy/v1",
    "PriorityClass": "scheduling.k8s.io/v1",
}

# Kinds whose metadata.generation the API server maintains (1.32; pods only from 1.33).
_GENERATION_KINDS = {
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "NetworkPolicy",
    "PodDisruptionBudget",
    "EndpointSlice",
}
# Built-in API groups; every other group is served from a CRD, and CRs always carry a generation.
_BUILTIN_GROUPS = {
    "",
    "apps",
    "batch",
    "autoscaling",
    "policy",
    "discovery.k8s.io",
    "networking.k8s.io",
    "storage.k8s.io",
    "scheduling.k8s.io",
    "rbac.authorization.k8s.io",
    "coordination.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "events.k8s.io",
}


def is_custom(api_version: str) -> bool:
    """True for kinds served from a CustomResourceDefinition."""
    group = api_version.split("/")[0] if "/" in api_version else ""
    return group not in _BUILTIN_GROUPS


def digest(*parts: object) -> bytes:
    """Stable 32-byte digest of the parts; the single source of every synthetic identifier."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()


def uid(kind: str, namespace: str | None, name: str, salt: str = "") -> str:
    """UUIDv4-shaped uid, stable for the same object identity."""
    b = bytearray(digest("uid", kind, namespace or "", name, salt)[:16])
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def hex_id(*parts: object, n: int = 64) -> str:
    """Lowercase hex of length n (container ids, digests, git shas, event suffixes)."""
    out = ""
    i = 0
    while len(out) < n:
        out += digest("hex", i, *parts).hex()
        i += 1
    return out[:n]


def safe_suffix(*parts: object, n: int = 5) -> str:
    """Suffix in the alphabet Kubernetes uses for generated names (pod names, template hashes)."""
    d = digest("safe", *parts)
    return "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in d[:n])


def number(*parts: object, lo: int = 0, hi: int = 1_000_000) -> int:
    """Deterministic integer in [lo, hi)."""
    return lo + int.from_bytes(digest("num", *parts)[:8], "big") % max(1, hi - lo)


def resource_version(*parts: object) -> str:
    """etcd revision-like string; only ordering-free equality matters to clients."""
    return str(number("rv", *parts, lo=1_000_000, hi=90_000_000))


def ts(dt: datetime | None) -> str | None:
    """metav1.Time as the server writes it: second precision, UTC, 'Z'."""
    if dt is None:
        return None
    return dt.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_ts(dt: datetime) -> str:
    """metav1.MicroTime (event eventTime, lease renewTime): microsecond precision."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def jitter(base: datetime, *parts: object, max_seconds: int = 60) -> datetime:
    """base plus a stable offset of 0..max_seconds, so siblings don't share identical times."""
    return base + timedelta(seconds=number("jit", *parts, hi=max_seconds + 1))


def b64(value: str | bytes) -> str:
    raw = value.encode() if isinstance(value, str) else value
    return base64.b64encode(raw).decode()


def placeholder_secret_value(namespace: str, name: str, key: str) -> str:
    """Base64 of an obviously fake value: looks like data, is never a real credential."""
    return b64(f"synthetic-{key.lower()}-{hex_id(namespace, name, key, n=12)}")


def owner_reference(owner: dict[str, Any], controller: bool = True, block: bool = True) -> dict[str, Any]:
    ref = {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
    }
    if controller:
        ref["controller"] = True
    if block:
        ref["blockOwnerDeletion"] = True
    return ref


def object_ref(obj: dict[str, Any], field_path: str | None = None, with_rv: bool = True) -> dict[str, Any]:
    """core/v1 ObjectReference to obj (events' involvedObject, EndpointSlice targetRef...)."""
    md = obj["metadata"]
    ref: dict[str, Any] = {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": md["name"]}
    if md.get("namespace"):
        ref["namespace"] = md["namespace"]
    if with_rv:
        ref["resourceVersion"] = md["resourceVersion"]
    ref["uid"] = md["uid"]
    if field_path:
        ref["fieldPath"] = field_path
    return ref


def new_object(
    kind: str,
    name: str,
    namespace: str | None,
    created: datetime,
    *,
    api_version: str | None = None,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    owners: Iterable[dict[str, Any]] = (),
    generation: int | None = None,
    generate_name: str | None = None,
    finalizers: list[str] | None = None,
) -> dict[str, Any]:
    """Object skeleton with the metadata the API server always fills in."""
    api_version = api_version or API[kind]
    md: dict[str, Any] = {}
    if annotations:
        md["annotations"] = dict(annotations)
    md["creationTimestamp"] = ts(created)
    if finalizers:
        md["finalizers"] = list(finalizers)
    if generate_name:
        md["generateName"] = generate_name
    if generation is None and (kind in _GENERATION_KINDS or is_custom(api_version)):
        generation = 1
    if generation is not None:
        md["generation"] = generation
    if labels:
        md["labels"] = dict(labels)
    md["name"] = name
    if namespace:
        md["namespace"] = namespace
    owners = list(owners)
    if owners:
        md["ownerReferences"] = owners
    md["resourceVersion"] = resource_version(kind, namespace, name)
    md["uid"] = uid(kind, namespace, name)
    return {"apiVersion": api_version, "kind": kind, "metadata": md}


def bump(obj: dict[str, Any], generation: bool = False) -> None:
    """Record a write: new resourceVersion (and generation for spec changes)."""
    md = obj["metadata"]
    md["resourceVersion"] = str(
        int(md["resourceVersion"]) + number("bump", md["uid"], md["resourceVersion"], lo=1, hi=5000)
    )
    if generation and "generation" in md:
        md["generation"] += 1


def app_labels(
    name: str,
    instance: str,
    *,
    component: str | None = None,
    part_of: str | None = None,
    managed_by: str | None = "Helm",
    version: str | None = None,
    chart: str | None = None,
) -> dict[str, str]:
    """Recommended labels, as Helm charts render them."""
    labels = {"app.kubernetes.io/instance": instance}
    if managed_by:
        labels["app.kubernetes.io/managed-by"] = managed_by
    labels["app.kubernetes.io/name"] = name
    if component:
        labels["app.kubernetes.io/component"] = component
    if part_of:
        labels["app.kubernetes.io/part-of"] = part_of
    if version:
        labels["app.kubernetes.io/version"] = version
    if chart:
        labels["helm.sh/chart"] = chart
    return labels


def condition(
    type_: str,
    status: str,
    reason: str | None,
    message: str | None,
    when: datetime,
    *,
    observed_generation: int | None = None,
    probe: datetime | None = None,
    update: datetime | None = None,
) -> dict[str, Any]:
    """A status condition with the keys in the server's alphabetical output order."""
    c: dict[str, Any] = {}
    if probe is not None:
        c["lastProbeTime"] = ts(probe)
    c["lastTransitionTime"] = ts(when)
    if update is not None:
        c["lastUpdateTime"] = ts(update)
    if message is not None:
        c["message"] = message
    if observed_generation is not None:
        c["observedGeneration"] = observed_generation
    if reason is not None:
        c["reason"] = reason
    c["status"] = status
    c["type"] = type_
    return c


def set_condition(obj: dict[str, Any], cond: dict[str, Any]) -> None:
    """Replace (or append) the condition of the same type, keeping list order."""
    conds = obj.setdefault("status", {}).setdefault("conditions", [])
    for i, c in enumerate(conds):
        if c.get("type") == cond["type"]:
            conds[i] = cond
            return
    conds.append(cond)


# ---------------------------------------------------------------- quantities


_BIN = [("Ei", 2**60), ("Pi", 2**50), ("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)]


def fmt_bytes(n: float) -> str:
    """Canonical binary-SI form the server prints (largest unit that keeps an integer)."""
    n = round(n)
    if n == 0:
        return "0"
    for suffix, mult in _BIN:
        if n % mult == 0:
            return f"{n // mult}{suffix}"
    return str(n)


def fmt_cpu(cores: float) -> str:
    milli = round(cores * 1000)
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
