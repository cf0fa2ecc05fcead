"""The reference Monobase platform, built healthy: what every fault scenario starts from.

`healthy_platform` lays down the reference multi-tenant cluster: kubeadm-style nodes, Envoy Gateway with the multi-domain
shared-gateway, cert-manager with the three ClusterIssuers, ESO against GCP Secret Manager, Velero schedules,
kube-prometheus, Kyverno + Falco, Argo CD, Longhorn, and one namespace per tenant. Nothing in it
should make a careful SRE frown; tests assert that, so checks can rely on zero findings here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from synth import argocd
from synth import gateway as gw
from synth.builder import PlatformBuilder
from synth.platform_addons import (
    add_cert_manager,
    add_envoy_gateway,
    add_external_secrets_operator,
    add_kyverno,
)
from synth.platform_ops import add_argocd, add_monitoring, add_velero
from synth.platform_spec import (
    APPROVED_REGISTRIES,
    CERTIFICATES,
    DOMAINS,
    EG_NS,
    EG_VERSION,
    ENVOY_IMAGE,
    GATEWAY_NAME,
    GATEWAY_NS,
    INFRA_DAILY_NAMESPACES,
    LB_IP,
    WEEKLY_RESOURCES,
    Tenant,
    tenant_for,
)
from synth.platform_system import add_cluster, add_falco, add_kube_system, add_longhorn
from synth.platform_tenants import add_applications, add_policy_reports, add_shared_gateway, add_tenant

__all__ = [
    "APPROVED_REGISTRIES",
    "CERTIFICATES",
    "DOMAINS",
    "EG_NS",
    "EG_VERSION",
    "ENVOY_IMAGE",
    "GATEWAY_NAME",
    "GATEWAY_NS",
    "INFRA_DAILY_NAMESPACES",
    "LB_IP",
    "WEEKLY_RESOURCES",
    "Tenant",
    "healthy_platform",
    "tenant_for",
]


def healthy_platform(
    b: PlatformBuilder,
    tenants: Sequence[str | Tenant] = ("mycure-production", "lfh-staging"),
    *,
    workers: int | None = None,
) -> PlatformBuilder:
    """Build the whole reference platform, healthy, into `b` (which must be empty). Returns `b`.

    workers: worker nodes (default 3, more for many tenants so requests stay under 70% of capacity)."""
    if b.objects:
        raise ValueError("healthy_platform needs an empty builder")
    specs = [t if isinstance(t, Tenant) else tenant_for(t) for t in tenants]
    b.state["argocd.sync"] = {}
    add_cluster(b, workers or max(3, 2 + math.ceil(len(specs) / 5)))
    add_kube_system(b)
    add_longhorn(b)
    add_cert_manager(b)
    add_external_secrets_operator(b)
    add_envoy_gateway(b)
    add_monitoring(b)
    add_velero(b, [t.name for t in specs])
    add_kyverno(b)
    add_falco(b)
    add_argocd(b)
    for i, t in enumerate(specs):
        add_tenant(b, t, i)
    add_shared_gateway(b, specs)
    add_applications(b, specs)
    add_policy_reports(b, specs)
    b.refreshers += [_refresh_gateways, argocd.refresh_applications]
    b.refresh()
    return b


def _refresh_gateways(b: PlatformBuilder) -> None:
    gw.refresh_gateway_status(b.list("Gateway"), b.list("HTTPRoute"))


# ---------------------------------------------------------------- cluster scaffolding
