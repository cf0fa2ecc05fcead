"""Facts of the reference platform (names, domains, versions, tenants) shared by its builders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from synth import pods as podlib

GATEWAY_NS = "gateway-system"


GATEWAY_NAME = "shared-gateway"


EG_NS = "envoy-gateway-system"


LB_IP = "203.0.113.10"


EG_VERSION = "v1.2.0"  # the platform runs v1.2.0 (status semantics read from v1.2.8, same API)


ENVOY_IMAGE = "docker.io/envoyproxy/envoy:distroless-v1.32.3"


# (listener suffix, hostname, TLS secret) of the shared-gateway; listeners http/https, http-lfh/https-lfh...
DOMAINS = [
    ("", "*.mycureapp.com", "gateway-tls"),
    ("-lfh", "*.localfirsthealth.com", "localfirsthealth-wildcard-tls"),
    ("-lfh-stg", "*.stg.localfirsthealth.com", "stg-localfirsthealth-wildcard-tls"),
    ("-mycure", "*.mycure.md", "mycure-md-wildcard-tls"),
]


CERTIFICATES = [  # (Certificate name, secret, dnsNames)
    ("gateway-tls", "gateway-tls", ["*.mycureapp.com", "mycureapp.com"]),
    (
        "localfirsthealth-wildcard",
        "localfirsthealth-wildcard-tls",
        ["*.localfirsthealth.com", "localfirsthealth.com"],
    ),
    ("stg-localfirsthealth-wildcard", "stg-localfirsthealth-wildcard-tls", ["*.stg.localfirsthealth.com"]),
    ("mycure-md-wildcard", "mycure-md-wildcard-tls", ["*.mycure.md", "mycure.md"]),
]


APPROVED_REGISTRIES = [
    "ghcr.io/monobaselabs/",
    "docker.io/bitnami/",
    "registry.k8s.io/",
    "quay.io/jetstack/",
    "ghcr.io/external-secrets/",
    "docker.io/envoyproxy/",
    "quay.io/argoproj/",
    "ghcr.io/kyverno/",
    "docker.io/falcosecurity/",
    "docker.io/velero/",
    "docker.io/longhornio/",
    "quay.io/cilium/",
]


INFRA_DAILY_NAMESPACES = [
    "cert-manager",
    "envoy-gateway-system",
    "external-secrets-system",
    "longhorn-system",
    "velero",
    "monitoring",
    "kube-system",
    "argocd",
]


WEEKLY_RESOURCES = [
    "customresourcedefinitions",
    "clusterroles",
    "clusterrolebindings",
    "storageclasses",
    "validatingwebhookconfigurations",
    "mutatingwebhookconfigurations",
    "priorityclasses",
]


@dataclass(frozen=True)
class Tenant:
    """One tenant namespace: its API and database, and where the gateway publishes it."""

    name: str
    database: str = "mongodb"  # or "postgresql"
    listener: str = ""  # DOMAINS suffix: "", "-lfh", "-lfh-stg", "-mycure"
    api_version: str = "v2.14.3"
    api_replicas: int = 2

    @property
    def hostname(self) -> str:
        domain = next(h for s, h, _ in DOMAINS if s == self.listener)[2:]
        return f"api.{domain}"


def tenant_for(name: str) -> Tenant:
    """Sensible defaults by name: lfh-* on the LocalFirstHealth domains with PostgreSQL, mycure-* on mycure.md."""
    if name.startswith("lfh-"):
        return Tenant(name, "postgresql", "-lfh-stg" if name.endswith(("staging", "stg")) else "-lfh")
    if name.startswith("mycure-"):
        return Tenant(name, "mongodb", "-mycure")
    return Tenant(name)


def security_contexts(uid: int = 1001) -> tuple[dict[str, Any], dict[str, Any]]:
    return dict(podlib.RESTRICTED_CONTAINER_SC), podlib.restricted_pod_sc(uid)
