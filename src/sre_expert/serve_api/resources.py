"""Which REST resources a bundle serves: kind → group, versions, plural, scope, short names.

A real API server learns this from its built-in types and the installed CRDs. A bundle only holds
objects, so the mapping comes from, in order: a CustomResourceDefinition captured in the bundle, the
built-in table below (Kubernetes types and the platform's operators), and for anything else the
objects themselves (group/version from apiVersion, scope from whether they carry a namespace, plural
by the English rules `kubectl` and controller-gen use).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]

# kind: (group, plural, shortNames, namespaced, categories)
_K = tuple[str, str, tuple[str, ...], bool, tuple[str, ...]]
ALL = ("all",)
KNOWN: dict[tuple[str, str], _K] = {}


def _known(kind: str, group: str, plural: str, short: tuple[str, ...] = (), namespaced: bool = True,
           categories: tuple[str, ...] = ()) -> None:
    KNOWN[(group, kind)] = (group, plural, short, namespaced, categories)


for _args in (
    # core/v1
    ("Pod", "", "pods", ("po",), True, ALL), ("Service", "", "services", ("svc",), True, ALL),
    ("Node", "", "nodes", ("no",), False), ("Namespace", "", "namespaces", ("ns",), False),
    ("Event", "", "events", ("ev",)), ("ConfigMap", "", "configmaps", ("cm",)), ("Secret", "", "secrets"),
    ("ServiceAccount", "", "serviceaccounts", ("sa",)), ("Endpoints", "", "endpoints", ("ep",)),
    ("PersistentVolumeClaim", "", "persistentvolumeclaims", ("pvc",)),
    ("PersistentVolume", "", "persistentvolumes", ("pv",), False), ("ResourceQuota", "", "resourcequotas", ("quota",)),
    ("LimitRange", "", "limitranges", ("limits",)), ("ReplicationController", "", "replicationcontrollers", ("rc",), True, ALL),
    ("PodTemplate", "", "podtemplates"), ("ComponentStatus", "", "componentstatuses", ("cs",), False),
    # apps, batch, autoscaling, policy
    ("Deployment", "apps", "deployments", ("deploy",), True, ALL), ("ReplicaSet", "apps", "replicasets", ("rs",), True, ALL),
    ("StatefulSet", "apps", "statefulsets", ("sts",), True, ALL), ("DaemonSet", "apps", "daemonsets", ("ds",), True, ALL),
    ("ControllerRevision", "apps", "controllerrevisions"),
    ("Job", "batch", "jobs", (), True, ALL), ("CronJob", "batch", "cronjobs", ("cj",), True, ALL),
    ("HorizontalPodAutoscaler", "autoscaling", "horizontalpodautoscalers", ("hpa",), True, ALL),
    ("PodDisruptionBudget", "policy", "poddisruptionbudgets", ("pdb",)),
    # networking, discovery, storage, scheduling, rbac, coordination, events, admission, apiextensions
    ("Ingress", "networking.k8s.io", "ingresses", ("ing",)),
    ("IngressClass", "networking.k8s.io", "ingressclasses", (), False),
    ("NetworkPolicy", "networking.k8s.io", "networkpolicies", ("netpol",)),
    ("EndpointSlice", "discovery.k8s.io", "endpointslices"),
    ("StorageClass", "storage.k8s.io", "storageclasses", ("sc",), False),
    ("VolumeAttachment", "storage.k8s.io", "volumeattachments", (), False),
    ("CSIDriver", "storage.k8s.io", "csidrivers", (), False), ("CSINode", "storage.k8s.io", "csinodes", (), False),
    ("PriorityClass", "scheduling.k8s.io", "priorityclasses", ("pc",), False),
    ("Role", "rbac.authorization.k8s.io", "roles"), ("RoleBinding", "rbac.authorization.k8s.io", "rolebindings"),
    ("ClusterRole", "rbac.authorization.k8s.io", "clusterroles", (), False),
    ("ClusterRoleBinding", "rbac.authorization.k8s.io", "clusterrolebindings", (), False),
    ("Lease", "coordination.k8s.io", "leases"),
    ("Event", "events.k8s.io", "events", ("ev",)),
    ("ValidatingWebhookConfiguration", "admissionregistration.k8s.io", "validatingwebhookconfigurations", (), False),
    ("MutatingWebhookConfiguration", "admissionregistration.k8s.io", "mutatingwebhookconfigurations", (), False),
    ("CustomResourceDefinition", "apiextensions.k8s.io", "customresourcedefinitions", ("crd", "crds"), False),
    ("APIService", "apiregistration.k8s.io", "apiservices", (), False),
    ("CertificateSigningRequest", "certificates.k8s.io", "certificatesigningrequests", ("csr",), False),
    ("RuntimeClass", "node.k8s.io", "runtimeclasses", (), False),
    ("FlowSchema", "flowcontrol.apiserver.k8s.io", "flowschemas", (), False),
    ("PriorityLevelConfiguration", "flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations", (), False),
    # the platform's operators (names as their upstream CRDs spell them)
    ("Application", "argoproj.io", "applications", ("app", "apps")),
    ("ApplicationSet", "argoproj.io", "applicationsets", ("appset", "appsets")),
    ("AppProject", "argoproj.io", "appprojects", ("appproj", "appprojs")),
    ("Certificate", "cert-manager.io", "certificates", ("cert", "certs"), True, ("cert-manager",)),
    ("CertificateRequest", "cert-manager.io", "certificaterequests", ("cr", "crs"), True, ("cert-manager",)),
    ("Issuer", "cert-manager.io", "issuers", (), True, ("cert-manager",)),
    ("ClusterIssuer", "cert-manager.io", "clusterissuers", (), False, ("cert-manager",)),
    ("Challenge", "acme.cert-manager.io", "challenges", (), True, ("cert-manager", "cert-manager-acme")),
    ("Order", "acme.cert-manager.io", "orders", (), True, ("cert-manager", "cert-manager-acme")),
    ("EnvoyPatchPolicy", "gateway.envoyproxy.io", "envoypatchpolicies", ("epp",), True, ("envoy-gateway",)),
    ("EnvoyProxy", "gateway.envoyproxy.io", "envoyproxies", ("eproxy",), True, ("envoy-gateway",)),
    ("ClientTrafficPolicy", "gateway.envoyproxy.io", "clienttrafficpolicies", ("ctp",), True, ("envoy-gateway",)),
    ("BackendTrafficPolicy", "gateway.envoyproxy.io", "backendtrafficpolicies", ("btp",), True, ("envoy-gateway",)),
    ("SecurityPolicy", "gateway.envoyproxy.io", "securitypolicies", ("sp",), True, ("envoy-gateway",)),
    ("ExternalSecret", "external-secrets.io", "externalsecrets", ("es",), True, ("externalsecrets",)),
    ("SecretStore", "external-secrets.io", "secretstores", ("ss",), True, ("externalsecrets",)),
    ("ClusterSecretStore", "external-secrets.io", "clustersecretstores", ("css",), False, ("externalsecrets",)),
    ("GatewayClass", "gateway.networking.k8s.io", "gatewayclasses", ("gc",), False, ("gateway-api",)),
    ("Gateway", "gateway.networking.k8s.io", "gateways", ("gtw",), True, ("gateway-api",)),
    ("HTTPRoute", "gateway.networking.k8s.io", "httproutes", (), True, ("gateway-api",)),
    ("GRPCRoute", "gateway.networking.k8s.io", "grpcroutes", (), True, ("gateway-api",)),
    ("ReferenceGrant", "gateway.networking.k8s.io", "referencegrants", ("refgrant",), True, ("gateway-api",)),
    ("ClusterPolicy", "kyverno.io", "clusterpolicies", ("cpol",), False, ("kyverno",)),
    ("Policy", "kyverno.io", "policies", ("pol",), True, ("kyverno",)),
    ("PolicyReport", "wgpolicyk8s.io", "policyreports", ("polr",)),
    ("ClusterPolicyReport", "wgpolicyk8s.io", "clusterpolicyreports", ("cpolr",), False),
    ("Alertmanager", "monitoring.coreos.com", "alertmanagers", ("am",), True, ("prometheus-operator",)),
    ("Prometheus", "monitoring.coreos.com", "prometheuses", ("prom",), True, ("prometheus-operator",)),
    ("PrometheusRule", "monitoring.coreos.com", "prometheusrules", ("promrule",), True, ("prometheus-operator",)),
    ("ServiceMonitor", "monitoring.coreos.com", "servicemonitors", ("smon",), True, ("prometheus-operator",)),
    ("PodMonitor", "monitoring.coreos.com", "podmonitors", ("pmon",), True, ("prometheus-operator",)),
    ("Backup", "velero.io", "backups"), ("Restore", "velero.io", "restores"), ("Schedule", "velero.io", "schedules"),
    ("BackupStorageLocation", "velero.io", "backupstoragelocations", ("bsl",)),
    ("VolumeSnapshotLocation", "velero.io", "volumesnapshotlocations", ("vsl",)),
):
    _known(*_args)

_IRREGULAR = {"endpoints": "endpoints", "prometheus": "prometheuses"}


def plural_of(kind: str) -> str:
    """English plural as controller-gen (and so most CRDs) spells it."""
    low = kind.lower()
    if low in _IRREGULAR:
        return _IRREGULAR[low]
    if low.endswith("y") and low[-2:-1] not in ("a", "e", "i", "o", "u"):
        return low[:-1] + "ies"
    if low.endswith(("s", "ch", "sh", "x", "z")):
        return low + "es"
    return low + "s"


def split_api_version(api_version: str) -> tuple[str, str]:
    """'apps/v1' → ('apps', 'v1'); 'v1' → ('', 'v1')."""
    if "/" in api_version:
        g, v = api_version.split("/", 1)
        return g, v
    return "", api_version


def _version_key(v: str) -> tuple[int, int, int]:
    """Kubernetes version priority: GA > beta > alpha, then higher numbers first (sorted descending)."""
    m = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", v)
    if not m:
        return (-1, 0, 0)
    stage = {"alpha": 0, "beta": 1, None: 2}[m.group(2)]
    return (stage, int(m.group(1)), int(m.group(3) or 0))


def sort_versions(versions: set[str] | list[str]) -> list[str]:
    return sorted(versions, key=_version_key, reverse=True)


@dataclass
class Resource:
    """One served REST resource (e.g. apps/deployments) and the objects behind it."""

    group: str
    kind: str
    plural: str
    namespaced: bool
    versions: list[str]
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    crd: Obj | None = None
    objects: list[Obj] = field(default_factory=list)

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def group_kind(self) -> tuple[str, str]:
        return (self.group, self.kind)


@dataclass
class ResourceIndex:
    """Served resources by (group, plural) and by (group, version) for discovery."""

    resources: dict[tuple[str, str], Resource]

    def lookup(self, group: str, version: str, plural: str) -> Resource | None:
        r = self.resources.get((group, plural))
        if r is None or version not in r.versions:
            return None
        return r

    def by_kind(self, group: str, kind: str) -> Resource | None:
        for r in self.resources.values():
            if r.group == group and r.kind == kind:
                return r
        return None

    def group_versions(self) -> dict[str, list[str]]:
        """group → served versions, preferred first."""
        out: dict[str, set[str]] = defaultdict(set)
        for r in self.resources.values():
            out[r.group].update(r.versions)
        return {g: sort_versions(vs) for g, vs in out.items()}

    def in_group_version(self, group: str, version: str) -> list[Resource]:
        return sorted((r for r in self.resources.values() if r.group == group and version in r.versions),
                      key=lambda r: r.plural)


def _crd_info(crd: Obj) -> tuple[str, str, str, tuple[str, ...], bool, tuple[str, ...], list[str]] | None:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group, kind, plural = spec.get("group"), names.get("kind"), names.get("plural")
    if not (group and kind and plural):
        return None
    versions = [v.get("name") for v in spec.get("versions") or () if v.get("served", True) and v.get("name")]
    return (group, kind, plural, tuple(names.get("shortNames") or ()), spec.get("scope") != "Cluster",
            tuple(names.get("categories") or ()), versions)


def build_index(objects_by_kind: dict[str, list[Obj]]) -> ResourceIndex:
    """Group the snapshot's objects into served resources.

    Objects of one kind may belong to different groups (an Istio `Gateway` beside a Gateway API one),
    so resources are keyed by (group, kind) from each object's apiVersion. Core and events.k8s.io
    Events are one stored type in a real cluster; both are served from every Event (see events.py).
    """
    crds: dict[tuple[str, str], Obj] = {}
    for crd in objects_by_kind.get("CustomResourceDefinition", ()):
        info = _crd_info(crd)
        if info:
            crds[(info[0], info[1])] = crd

    grouped: dict[tuple[str, str], list[Obj]] = defaultdict(list)
    versions: dict[tuple[str, str], set[str]] = defaultdict(set)
    for index_name, objs in objects_by_kind.items():
        for o in objs:
            kind = str(o.get("kind") or index_name)  # the Snapshot's name may be qualified: "Node.longhorn.io"
            group, version = split_api_version(str(o.get("apiVersion") or ""))
            if kind == "Event" and group in ("", "events.k8s.io"):
                for g, v in (("", "v1"), ("events.k8s.io", "v1")):
                    grouped[(g, kind)].append(o)
                    versions[(g, kind)].add(v)
                continue
            if not version:
                continue
            grouped[(group, kind)].append(o)
            versions[(group, kind)].add(version)

    resources: dict[tuple[str, str], Resource] = {}
    for (group, kind), objs in grouped.items():
        crd = crds.get((group, kind))
        crd_info = _crd_info(crd) if crd else None
        known = KNOWN.get((group, kind))
        if crd_info:
            _, _, plural, short, namespaced, cats, crd_versions = crd_info
            served = set(versions[(group, kind)]) | set(crd_versions)
        elif known:
            _, plural, short, namespaced, cats = known
            served = set(versions[(group, kind)])
        else:
            plural, short, cats = plural_of(kind), (), ()
            namespaced = any((o.get("metadata") or {}).get("namespace") for o in objs)
            served = set(versions[(group, kind)])
        objs.sort(key=lambda o: ((o["metadata"].get("namespace") or ""), o["metadata"].get("name") or ""))
        resources[(group, plural)] = Resource(group=group, kind=kind, plural=plural, namespaced=namespaced,
                                              versions=sort_versions(served), short_names=short,
                                              categories=cats, crd=crd, objects=objs)
    return ResourceIndex(resources)
