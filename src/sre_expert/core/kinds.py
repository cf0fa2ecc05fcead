"""The kinds the live source lists, and so the kinds `deploy/rbac.yaml` grants: one table, read by both.

Derived from what the checks read: every `reads=` of `registry.all_checks()` plus every kind a check,
`trace`, `component` or `dr` looks up with `snap.list/get/select` (including the kind tuples they loop
over). `tests/test_check_declarations.py` records every kind they look up through the Snapshot API on the
demo and synth faults, and fails when one is not here (or when a kind here is read by nothing). A kind
whose API group is not installed is skipped after discovery, at no request cost, so optional integrations
(Cilium, Calico, admin network policies) can stay listed.

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
         "ReferenceGrant", "referencegrants", "GRPCRoute", "grpcroutes", "BackendTLSPolicy", "backendtlspolicies")
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


# Built-in kinds no check reads but bundles hold (troubleshoot writes most of them). Their group is known so
# that a custom resource reusing one of these kind names is indexed apart from them (see `model.kind_name`).
OTHER_BUILTIN_KINDS: tuple[KindSpec, ...] = tuple(
    _k("", True, "ServiceAccount", "serviceaccounts", "ReplicationController", "replicationcontrollers",
       "PodTemplate", "podtemplates")
    + _k("", False, "ComponentStatus", "componentstatuses")
    + _k("apps", True, "ControllerRevision", "controllerrevisions")
    + _k("networking.k8s.io", True, "Ingress", "ingresses")
    + _k("networking.k8s.io", False, "IngressClass", "ingressclasses")
    + _k("storage.k8s.io", False, "CSIDriver", "csidrivers", "CSINode", "csinodes")
    + _k("scheduling.k8s.io", False, "PriorityClass", "priorityclasses")
    + _k("rbac.authorization.k8s.io", True, "Role", "roles", "RoleBinding", "rolebindings")
    + _k("rbac.authorization.k8s.io", False, "ClusterRole", "clusterroles", "ClusterRoleBinding", "clusterrolebindings")
    + _k("coordination.k8s.io", True, "Lease", "leases")
    + _k("certificates.k8s.io", False, "CertificateSigningRequest", "certificatesigningrequests")
    + _k("node.k8s.io", False, "RuntimeClass", "runtimeclasses")
    + _k("flowcontrol.apiserver.k8s.io", False, "FlowSchema", "flowschemas",
         "PriorityLevelConfiguration", "prioritylevelconfigurations")
)

# Custom kinds some checks read that the live sweep does not list yet (its RBAC does not grant them): their
# group, so their objects keep the plain kind name the checks ask for.
OTHER_READ_KINDS: tuple[KindSpec, ...] = tuple(
    _k("gateway.networking.k8s.io", True, "ListenerSet", "listenersets")
    + _k("gateway.networking.x-k8s.io", True, "XListenerSet", "xlistenersets")
)

# API groups served by the API server itself, not by CRDs: a kind of these groups exists on every cluster,
# so only a kind of another group can be known "not installed" from the CRD list.
BUILTIN_GROUPS = frozenset({
    "", "apps", "batch", "autoscaling", "policy", "extensions", "discovery.k8s.io", "networking.k8s.io",
    "storage.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "admissionregistration.k8s.io",
    "rbac.authorization.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "certificates.k8s.io", "node.k8s.io",
    "flowcontrol.apiserver.k8s.io", "events.k8s.io",
})

# Older groups that served the same kind with the same schema before it moved (clusters of 1.15 and earlier,
# fixtures kept from them), and events.k8s.io, a second view of the one stored Event type.
LEGACY_GROUPS: dict[str, tuple[str, ...]] = {
    "Deployment": ("extensions",), "DaemonSet": ("extensions",), "ReplicaSet": ("extensions",),
    "NetworkPolicy": ("extensions",), "Ingress": ("extensions",), "Event": ("events.k8s.io",),
}


def _kind_groups() -> dict[str, frozenset[str]]:
    out: dict[str, frozenset[str]] = {}
    for s in (*COLLECTED_KINDS, *OTHER_BUILTIN_KINDS, *OTHER_READ_KINDS):
        out.setdefault(s.kind, frozenset((s.group, *LEGACY_GROUPS.get(s.kind, ()))))
    return out


KIND_GROUPS: dict[str, frozenset[str]] = _kind_groups()
"""Kind name → the API groups whose objects of that kind are *the* kind the checks mean."""


# kubectl's short names of the built-in kinds, as scripts name their files (`kubectl get pvc -A -o json > pvc.json`).
SHORT_NAMES = {"po": "Pod", "svc": "Service", "ep": "Endpoints", "ev": "Event", "pvc": "PersistentVolumeClaim",
               "cm": "ConfigMap", "quota": "ResourceQuota", "limits": "LimitRange", "no": "Node", "ns": "Namespace",
               "pv": "PersistentVolume", "deploy": "Deployment", "rs": "ReplicaSet", "sts": "StatefulSet",
               "ds": "DaemonSet", "cj": "CronJob", "hpa": "HorizontalPodAutoscaler", "netpol": "NetworkPolicy",
               "sc": "StorageClass", "crd": "CustomResourceDefinition", "crds": "CustomResourceDefinition",
               "sa": "ServiceAccount", "ing": "Ingress", "pdb": "PodDisruptionBudget", "pc": "PriorityClass"}


def _file_kinds() -> dict[str, tuple[str, str]]:
    """File or folder stem → (kind, group): `pods`, `deployments.apps`, `pvc`, and troubleshoot's names."""
    out: dict[str, tuple[str, str]] = {}
    specs = {s.kind: s for s in (*OTHER_READ_KINDS, *OTHER_BUILTIN_KINDS, *COLLECTED_KINDS)}
    for s in specs.values():
        for stem in (s.resource, f"{s.resource}.{s.group}" if s.group else s.resource, s.kind.lower()):
            out.setdefault(stem, (s.kind, s.group))
    for short, kind in SHORT_NAMES.items():
        out.setdefault(short, (kind, specs[kind].group))
    return out


FILE_KINDS: dict[str, tuple[str, str]] = _file_kinds()


def spec_of(kind: str) -> KindSpec | None:
    """The table's entry for a kind name (the group the checks mean), None for a kind it does not know."""
    return _SPECS.get(kind)


_SPECS: dict[str, KindSpec] = {}
for _s in (*COLLECTED_KINDS, *OTHER_BUILTIN_KINDS, *OTHER_READ_KINDS):
    _SPECS.setdefault(_s.kind, _s)

_RESOURCE_KINDS: dict[str, str] = {s.resource: s.kind for s in reversed(_SPECS.values())}


def spellings(kind: str) -> tuple[str, ...]:
    """The names kubectl takes for a kind of the table without its group: short names, kind, resource (lower case)."""
    spec = _SPECS[kind]
    return (*(short for short, k in SHORT_NAMES.items() if k == kind), kind.lower(), spec.resource)


def kind_of_resource(resource: str) -> str | None:
    """The kind a REST resource name (plural, any case: `pods`, `Ingresses`) of the table stands for, else None."""
    return _RESOURCE_KINDS.get(resource.lower())


CLUSTER_SCOPED_NAMES: frozenset[str] = frozenset(
    [name for s in _SPECS.values() if not s.namespaced for name in (s.resource, s.kind.lower())]
    + [short for short, kind in SHORT_NAMES.items() if not _SPECS[kind].namespaced]
)
"""Every spelling (plural, kind, kubectl short name) of the table's cluster-scoped kinds."""


def resource_of(group: str, kind: str) -> str:
    """The REST resource (plural) of a kind: the table's when it knows the kind in this group, else the English
    plural controller-gen (and so most CRDs) spells."""
    spec = spec_of(kind)
    if spec is not None and spec.group == group:
        return spec.resource
    low = kind.lower()
    if low.endswith("y") and low[-2:-1] not in ("a", "e", "i", "o", "u"):
        return low[:-1] + "ies"
    if low.endswith(("s", "ch", "sh", "x", "z")):
        return low + "es"
    return low + "s"


def resource_name(kind: str) -> str:
    """kubectl's name for a kind of the table: pods, deployments.apps, certificates.cert-manager.io."""
    spec = spec_of(kind)
    if spec is None:
        return kind.lower()
    return f"{spec.resource}.{spec.group}" if spec.group else spec.resource


def add_commands(kinds: list[str]) -> str:
    """The kubectl commands that add these kinds to a bundle, one file per kind."""
    return "; ".join(f"kubectl get {r} -A -o json > {r}.json" for r in map(resource_name, kinds))


def by_kind() -> dict[str, list[KindSpec]]:
    out: dict[str, list[KindSpec]] = {}
    for s in COLLECTED_KINDS:
        out.setdefault(s.kind, []).append(s)
    return out
