"""The kinds the live source lists, and so the kinds `deploy/rbac.yaml` grants: one table, read by both.

Derived from what the checks read: every `reads=` of `registry.all_checks()` plus every kind a check,
`trace`, `component` or `dr` looks up with `snap.list/get/select` (including the kind tuples they loop
over). `tests/test_live_source.py` greps the code and fails when a check starts reading a kind that is not
here. A kind whose API group is not installed is skipped after discovery, at no request cost, so
optional integrations (Cilium, Calico, admin network policies) can stay listed.

Secrets are listed like any other kind when RBAC allows it (values are dropped as each page is parsed,
keys kept). The shipped ClusterRole does not grant them, because `list secrets` returns every value:
with it the Secret kind is recorded as a collection error and the checks that need Secret existence
(a pod's missing Secret, a Certificate's or an ExternalSecret's target) stay silent about it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KindSpec:
    """One kind: its API group, REST resource (plural) and scope, as the upstream API defines them."""

    kind: str
    group: str  # "" is the core group
    resource: str
    namespaced: bool = True

    @property
    def key(self) -> tuple[str, str]:
        return (self.group, self.kind)


def _k(group: str, namespaced: bool, *pairs: str) -> list[KindSpec]:
    """pairs alternate Kind, resource."""
    return [KindSpec(pairs[i], group, pairs[i + 1], namespaced) for i in range(0, len(pairs), 2)]


COLLECTED_KINDS: tuple[KindSpec, ...] = tuple(
    # core
    _k("", True, "Pod", "pods", "Service", "services", "Endpoints", "endpoints", "Event", "events",
       "PersistentVolumeClaim", "persistentvolumeclaims", "ConfigMap", "configmaps", "Secret", "secrets",
       "ResourceQuota", "resourcequotas", "LimitRange", "limitranges")
    + _k("", False, "Node", "nodes", "Namespace", "namespaces", "PersistentVolume", "persistentvolumes")
    # workloads, autoscaling
    + _k("apps", True, "Deployment", "deployments", "ReplicaSet", "replicasets", "StatefulSet", "statefulsets",
         "DaemonSet", "daemonsets")
    + _k("batch", True, "Job", "jobs", "CronJob", "cronjobs")
    + _k("autoscaling", True, "HorizontalPodAutoscaler", "horizontalpodautoscalers")
    + _k("policy", True, "PodDisruptionBudget", "poddisruptionbudgets")
    # networking, storage, cluster plumbing
    + _k("discovery.k8s.io", True, "EndpointSlice", "endpointslices")
    + _k("networking.k8s.io", True, "NetworkPolicy", "networkpolicies")
    + _k("storage.k8s.io", False, "StorageClass", "storageclasses", "VolumeAttachment", "volumeattachments")
    + _k("apiextensions.k8s.io", False, "CustomResourceDefinition", "customresourcedefinitions")
    + _k("apiregistration.k8s.io", False, "APIService", "apiservices")
    + _k("admissionregistration.k8s.io", False,
         "ValidatingWebhookConfiguration", "validatingwebhookconfigurations",
         "MutatingWebhookConfiguration", "mutatingwebhookconfigurations")
    # Gateway API and Envoy Gateway
    + _k("gateway.networking.k8s.io", False, "GatewayClass", "gatewayclasses")
    + _k("gateway.networking.k8s.io", True, "Gateway", "gateways", "HTTPRoute", "httproutes",
         "ReferenceGrant", "referencegrants")
    + _k("gateway.envoyproxy.io", True, "EnvoyProxy", "envoyproxies", "EnvoyPatchPolicy", "envoypatchpolicies")
    # cert-manager
    + _k("cert-manager.io", True, "Certificate", "certificates", "CertificateRequest", "certificaterequests",
         "Issuer", "issuers")
    + _k("cert-manager.io", False, "ClusterIssuer", "clusterissuers")
    + _k("acme.cert-manager.io", True, "Order", "orders", "Challenge", "challenges")
    # External Secrets Operator
    + _k("external-secrets.io", True, "ExternalSecret", "externalsecrets", "SecretStore", "secretstores")
    + _k("external-secrets.io", False, "ClusterSecretStore", "clustersecretstores")
    + _k("external-secrets.io", False, "ClusterExternalSecret", "clusterexternalsecrets")
    + _k("external-secrets.io", True, "PushSecret", "pushsecrets")
    # Velero
    + _k("velero.io", True, "Backup", "backups", "Schedule", "schedules", "Restore", "restores",
         "BackupStorageLocation", "backupstoragelocations")
    # kube-prometheus (prometheus-operator)
    + _k("monitoring.coreos.com", True, "Prometheus", "prometheuses", "Alertmanager", "alertmanagers",
         "PrometheusRule", "prometheusrules", "ServiceMonitor", "servicemonitors", "PodMonitor", "podmonitors",
         "Probe", "probes", "ScrapeConfig", "scrapeconfigs")
    # Kyverno and its reports
    + _k("kyverno.io", False, "ClusterPolicy", "clusterpolicies")
    + _k("kyverno.io", True, "Policy", "policies")
    + _k("wgpolicyk8s.io", True, "PolicyReport", "policyreports")
    + _k("wgpolicyk8s.io", False, "ClusterPolicyReport", "clusterpolicyreports")
    # Argo CD
    + _k("argoproj.io", True, "Application", "applications", "ApplicationSet", "applicationsets")
    # other network-policy engines (the DNS-egress check must know they exist)
    + _k("cilium.io", True, "CiliumNetworkPolicy", "ciliumnetworkpolicies")
    + _k("cilium.io", False, "CiliumClusterwideNetworkPolicy", "ciliumclusterwidenetworkpolicies")
    + _k("crd.projectcalico.org", False, "GlobalNetworkPolicy", "globalnetworkpolicies")
    + _k("policy.networking.k8s.io", False, "AdminNetworkPolicy", "adminnetworkpolicies",
         "BaselineAdminNetworkPolicy", "baselineadminnetworkpolicies")
)

# Containers whose logs a check reads even when the pod is healthy: the Falco engine prints its alerts
# to stdout (checks/policy.py falco_alerts). Matched on the image repository's last path segment.
ALWAYS_LOG_IMAGES = ("falco", "falco-no-driver", "falco-distroless")

# Pod logs are read through this subresource; the RBAC grants `get` on it.
LOG_RESOURCE = "pods/log"


def by_kind() -> dict[str, list[KindSpec]]:
    out: dict[str, list[KindSpec]] = {}
    for s in COLLECTED_KINDS:
        out.setdefault(s.kind, []).append(s)
    return out
