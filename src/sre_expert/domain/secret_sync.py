"""What an External Secrets Operator object refers to, read from its spec: the stores an ExternalSecret reads
(spec.secretStoreRef and each item's sourceRef.storeRef), the remote keys it asks for, and the namespaces
that belong to the platform rather than a tenant.

Shared by the external-secrets checks (cluster state) and lint (the GitOps repo), so both name a store
and a key the same way.
"""

from __future__ import annotations

from sre_expert.core.k8s import Obj, ns_of
from sre_expert.core.model import Key

# Namespaces of the platform itself: the `{namespace}-{secret-name}` convention is for tenant secrets.
PLATFORM_NAMESPACES = frozenset({
    "argocd", "cert-manager", "envoy-gateway-system", "gateway-system", "external-secrets-system",
    "longhorn-system", "velero", "monitoring", "kube-system", "kube-public", "kube-node-lease", "default",
    "kyverno", "falco", "ingress-nginx",
})


def store_key(ref: Obj | None, namespace: str) -> Key | None:
    if not ref or not ref.get("name"):
        return None
    if (ref.get("kind") or "SecretStore") == "ClusterSecretStore":
        return ("ClusterSecretStore", "", ref["name"])
    return ("SecretStore", namespace, ref["name"])


def store_keys(es: Obj) -> list[Key]:
    """Every store an ExternalSecret reads from: spec.secretStoreRef and per-item sourceRef.storeRef."""
    spec = es.get("spec") or {}
    ns = ns_of(es)
    out: list[Key] = []
    k = store_key(spec.get("secretStoreRef"), ns)
    if k:
        out.append(k)
    for item in (spec.get("data") or []) + (spec.get("dataFrom") or []):
        sk = store_key(((item or {}).get("sourceRef") or {}).get("storeRef"), ns)
        if sk and sk not in out:
            out.append(sk)
    return out


def remote_keys(es: Obj) -> list[str]:
    spec = es.get("spec") or {}
    keys = [((d or {}).get("remoteRef") or {}).get("key") for d in spec.get("data") or ()]
    keys += [((d or {}).get("extract") or {}).get("key") for d in spec.get("dataFrom") or ()]
    return [k for k in keys if k]
