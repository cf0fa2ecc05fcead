"""External Secrets Operator v0.9.11 objects: the GCP ClusterSecretStore, ExternalSecrets and their Secrets.

Remote keys follow the platform convention `{namespace}-{secret-name}`; the target Secret is owned
by its ExternalSecret (creationPolicy Owner), which is how checks tie a missing Secret to ESO.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from synth.config import secret
from synth.meta import condition, hex_id, new_object, number, owner_reference, ts

ESO_API = "external-secrets.io/v1beta1"


def cluster_secret_store(
    name: str,
    created: datetime,
    *,
    project: str = "mc-v4-prod",
    auth_secret: str = "gcpsm-secret",
    auth_key: str = "secret-access-credentials",
    auth_namespace: str = "external-secrets-system",
    ready: bool = True,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    obj = new_object("ClusterSecretStore", name, None, created, api_version=ESO_API, labels=labels)
    obj["spec"] = {
        "provider": {
            "gcpsm": {
                "auth": {
                    "secretRef": {
                        "secretAccessKeySecretRef": {
                            "key": auth_key,
                            "name": auth_secret,
                            "namespace": auth_namespace,
                        }
                    }
                },
                "projectID": project,
            }
        }
    }
    when = created + timedelta(seconds=3)
    obj["status"] = {
        "capabilities": "ReadWrite",
        "conditions": [
            condition("Ready", "True", "Valid", "store validated", when)
            if ready
            else condition("Ready", "False", "InvalidProviderConfig", "unable to create client", when)
        ],
    }
    if not ready:
        del obj["status"]["capabilities"]
    return obj


def remote_key(namespace: str, secret_name: str) -> str:
    return f"{namespace}-{secret_name}"


def external_secret(
    namespace: str,
    name: str,
    data: Mapping[str, str],
    created: datetime,
    now: datetime,
    *,
    target: str | None = None,
    store: str = "gcp-secretstore",
    store_kind: str = "ClusterSecretStore",
    refresh_interval: str = "1h",
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """ExternalSecret synced within the last refresh interval. data: secret key -> remote key."""
    obj = new_object("ExternalSecret", name, namespace, created, api_version=ESO_API, labels=labels)
    obj["spec"] = {
        "data": [
            {
                "remoteRef": {
                    "conversionStrategy": "Default",
                    "decodingStrategy": "None",
                    "key": rk,
                    "metadataPolicy": "None",
                },
                "secretKey": sk,
            }
            for sk, rk in data.items()
        ],
        "refreshInterval": refresh_interval,
        "secretStoreRef": {"kind": store_kind, "name": store},
        "target": {"creationPolicy": "Owner", "deletionPolicy": "Retain", "name": target or name},
    }
    refreshed = now - timedelta(
        minutes=number("esref", namespace, name, lo=2, hi=55),
        seconds=number("esrefs", namespace, name, hi=60),
    )
    obj["status"] = {
        "binding": {"name": target or name},
        "conditions": [
            condition(
                "Ready",
                "True",
                "SecretSynced",
                "Secret was synced",
                created + timedelta(seconds=number("essync", name, lo=2, hi=9)),
            )
        ],
        "refreshTime": ts(refreshed),
        "syncedResourceVersion": f"{obj['metadata']['generation']}-{hex_id('srv', namespace, name, n=32)}",
    }
    return obj


def target_secret(es: dict[str, Any]) -> dict[str, Any]:
    """The Secret ESO writes for an ExternalSecret: one key per data entry, owned by the ExternalSecret."""
    md = es["metadata"]
    keys = [d["secretKey"] for d in es["spec"]["data"]]
    created = datetime.fromisoformat(md["creationTimestamp"]) + timedelta(seconds=2)
    return secret(
        md["namespace"],
        es["spec"]["target"]["name"],
        keys,
        created,
        annotations={
            "reconcile.external-secrets.io/data-hash": hex_id("dh", md["namespace"], md["name"], n=32)
        },
        owners=[owner_reference(es)],
    )
