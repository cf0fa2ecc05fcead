"""Namespaces and namespaced configuration: ServiceAccounts, ConfigMaps, Secrets, quotas, priority classes.

Secret values are base64 of obviously synthetic strings: bundles built from these objects can be
shared and committed without leaking anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from synth.meta import b64, hex_id, new_object, placeholder_secret_value

ROOT_CA_DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as "
    "the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of "
    "Kubernetes clusters."
)


def fake_pem(kind: str, *seed: object, lines: int = 6) -> str:
    """PEM-shaped text whose body is a hash stream: parses as PEM framing, is no real key or cert."""
    body = "".join(b64(bytes.fromhex(hex_id(kind, i, *seed, n=96))) for i in range(lines))
    wrapped = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {kind}-----\n{wrapped}\n-----END {kind}-----\n"


def namespace(
    name: str,
    created: datetime,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    obj = new_object(
        "Namespace",
        name,
        None,
        created,
        labels={"kubernetes.io/metadata.name": name, **(labels or {})},
        annotations=annotations,
    )
    obj["spec"] = {"finalizers": ["kubernetes"]}
    obj["status"] = {"phase": "Active"}
    return obj


def service_account(
    namespace_: str,
    name: str,
    created: datetime,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    return new_object("ServiceAccount", name, namespace_, created, labels=labels, annotations=annotations)


def config_map(
    namespace_: str,
    name: str,
    data: Mapping[str, str],
    created: datetime,
    *,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    owners: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    obj = new_object(
        "ConfigMap", name, namespace_, created, labels=labels, annotations=annotations, owners=owners or []
    )
    obj["data"] = dict(data)
    return obj


def root_ca_config_map(namespace_: str, created: datetime) -> dict[str, Any]:
    """kube-root-ca.crt, published into every namespace by kube-controller-manager."""
    return config_map(
        namespace_,
        "kube-root-ca.crt",
        {"ca.crt": fake_pem("CERTIFICATE", "cluster-ca", lines=12)},
        created,
        annotations={"kubernetes.io/description": ROOT_CA_DESCRIPTION},
    )


def secret(
    namespace_: str,
    name: str,
    keys: Mapping[str, str | None] | list[str],
    created: datetime,
    *,
    type_: str = "Opaque",
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    owners: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Secret with base64 data. keys: key -> plain value (None = synthetic placeholder) or a list of keys."""
    items = {k: None for k in keys} if isinstance(keys, list) else dict(keys)
    obj = new_object(
        "Secret", name, namespace_, created, labels=labels, annotations=annotations, owners=owners or []
    )
    obj["data"] = {
        k: (b64(v) if v is not None else placeholder_secret_value(namespace_, name, k))
        for k, v in items.items()
    }
    obj["type"] = type_
    return obj


def tls_secret(
    namespace_: str,
    name: str,
    created: datetime,
    *,
    annotations: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    with_ca: bool = False,
) -> dict[str, Any]:
    keys: dict[str, str | None] = {
        "tls.crt": fake_pem("CERTIFICATE", namespace_, name, lines=20),
        "tls.key": fake_pem("PRIVATE KEY", namespace_, name, lines=3),
    }
    if with_ca:
        keys = {"ca.crt": fake_pem("CERTIFICATE", "ca", namespace_, name), **keys}
    return secret(
        namespace_, name, keys, created, type_="kubernetes.io/tls", labels=labels, annotations=annotations
    )


def resource_quota(
    namespace_: str,
    name: str,
    hard: Mapping[str, str],
    used: Mapping[str, str],
    created: datetime,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    obj = new_object("ResourceQuota", name, namespace_, created, labels=labels)
    obj["spec"] = {"hard": dict(hard)}
    obj["status"] = {"hard": dict(hard), "used": dict(used)}
    return obj


def priority_class(
    name: str, value: int, created: datetime, description: str, *, global_default: bool = False
) -> dict[str, Any]:
    obj = new_object("PriorityClass", name, None, created)
    obj.update({"description": description, "preemptionPolicy": "PreemptLowerPriority", "value": value})
    if global_default:
        obj["globalDefault"] = True
    return obj
