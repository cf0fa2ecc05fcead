"""The reference Monobase platform, built healthy: what every fault scenario starts from.

`healthy_platform` lays down the cluster the seed agent describes (shared/reference/
seed-sre-expert-agent.md): kubeadm-style nodes, Envoy Gateway with the multi-domain shared-gateway,
cert-manager with the three ClusterIssuers, ESO against GCP Secret Manager, Velero schedules,
kube-prometheus, Kyverno + Falco, Argo CD, Longhorn, and one namespace per tenant. Nothing in it
should make a careful SRE frown; tests assert that, so checks can rely on zero findings here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import argocd, certmanager, eso, kyverno, monitoring, networking, velero
from . import gateway as gw
from . import pods as podlib
from .builder import PlatformBuilder
from .config import fake_pem, priority_class
from .cron import fire_times_before
from .meta import app_labels, fmt_bytes, fmt_cpu, hex_id, number, parse_ts, uid
from .storage import storage_class

GATEWAY_NS = "gateway-system"
GATEWAY_NAME = "shared-gateway"
EG_NS = "envoy-gateway-system"
LB_IP = "203.0.113.10"
EG_VERSION = "v1.2.8"
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


def _sc(uid: int = 1001) -> tuple[dict[str, Any], dict[str, Any]]:
    return dict(podlib.RESTRICTED_CONTAINER_SC), podlib.restricted_pod_sc(uid)


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
    _cluster(b, workers or max(3, 2 + math.ceil(len(specs) / 5)))
    _kube_system(b)
    _longhorn(b)
    _cert_manager(b)
    _external_secrets(b)
    _envoy_gateway(b)
    _monitoring(b)
    _velero(b, [t.name for t in specs])
    _kyverno(b)
    _falco(b)
    _argocd(b)
    for i, t in enumerate(specs):
        _tenant(b, t, i)
    _shared_gateway(b, specs)
    _applications(b, specs)
    _policy_reports(b, specs)
    b.refreshers += [_refresh_gateways, argocd.refresh_applications]
    b.refresh()
    return b


def _refresh_gateways(b: PlatformBuilder) -> None:
    gw.refresh_gateway_status(b.list("Gateway"), b.list("HTTPRoute"))


# ---------------------------------------------------------------- cluster scaffolding


def _cluster(b: PlatformBuilder, workers: int) -> None:
    b.add_node("k8s-cp-1", control_plane=True, cpu=4, memory="16Gi")
    for i in range(1, workers + 1):
        b.add_node(f"k8s-worker-{i}", cpu=8, memory="32Gi")
    created = b.cluster_created
    b.add(
        priority_class(
            "system-cluster-critical",
            2000000000,
            created,
            "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
        )
    )
    b.add(
        priority_class(
            "system-node-critical",
            2000001000,
            created,
            "Used for system critical pods that must not be moved from their current node.",
        )
    )
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        b.add_namespace(ns, created=created)


def _kube_system(b: PlatformBuilder) -> None:
    cp = "k8s-cp-1"
    cp_ip = "10.0.0.10"
    created = b.cluster_created
    kubernetes = b.add_service(
        "default",
        "kubernetes",
        None,
        [("https", 443, 6443)],
        cluster_ip="10.96.0.1",
        labels={"component": "apiserver", "provider": "kubernetes"},
        created=created,
    )[0]
    ep = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            **{
                k: v
                for k, v in kubernetes["metadata"].items()
                if k in ("creationTimestamp", "name", "namespace")
            },
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
            "resourceVersion": "204",
            "uid": uid("Endpoints", "default", "kubernetes"),
        },
        "subsets": [
            {"addresses": [{"ip": cp_ip}], "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}
        ],
    }
    b.add(ep)
    b.add(
        {
            "addressType": "IPv4",
            "apiVersion": "discovery.k8s.io/v1",
            "endpoints": [{"addresses": [cp_ip], "conditions": {"ready": True}}],
            "kind": "EndpointSlice",
            "metadata": {
                "creationTimestamp": kubernetes["metadata"]["creationTimestamp"],
                "generation": 1,
                "labels": {"kubernetes.io/service-name": "kubernetes"},
                "name": "kubernetes",
                "namespace": "default",
                "resourceVersion": "206",
                "uid": uid("EndpointSlice", "default", "kubernetes"),
            },
            "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
        }
    )
    for comp, image, port, path, cmd in (
        (
            "etcd",
            "registry.k8s.io/etcd:3.5.16-0",
            2381,
            "/health?exclude=NOSPACE&serializable=true",
            ["etcd", "--advertise-client-urls=https://10.0.0.10:2379", "--data-dir=/var/lib/etcd"],
        ),
        (
            "kube-apiserver",
            "registry.k8s.io/kube-apiserver:v1.32.2",
            6443,
            "/livez",
            [
                "kube-apiserver",
                "--advertise-address=10.0.0.10",
                "--event-ttl=1h0m0s",
                "--service-cluster-ip-range=10.96.0.0/12",
            ],
        ),
        (
            "kube-controller-manager",
            "registry.k8s.io/kube-controller-manager:v1.32.2",
            10257,
            "/healthz",
            ["kube-controller-manager", "--cluster-cidr=10.244.0.0/16", "--leader-elect=true"],
        ),
        (
            "kube-scheduler",
            "registry.k8s.io/kube-scheduler:v1.32.2",
            10259,
            "/livez",
            ["kube-scheduler", "--leader-elect=true"],
        ),
    ):
        b.add_static_pod(
            cp,
            comp,
            image,
            command=cmd,
            probe_port=port,
            probe_path=path,
            probe_scheme="HTTP" if comp == "etcd" else "HTTPS",
            requests={
                "cpu": "250m" if comp == "kube-apiserver" else "100m",
                **({"memory": "100Mi"} if comp == "etcd" else {}),
            },
        )
    corefile = (
        ".:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    ready\n"
        "    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n"
        "       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }\n    prometheus :9153\n"
        "    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n    cache 30 {\n"
        "       disable success cluster.local\n       disable denial cluster.local\n    }\n    loop\n"
        "    reload\n    loadbalance\n}\n"
    )
    b.add_configmap("kube-system", "coredns", {"Corefile": corefile}, created=created + timedelta(minutes=2))
    dns = podlib.container(
        "coredns",
        "registry.k8s.io/coredns/coredns:v1.11.3",
        args=["-conf", "/etc/coredns/Corefile"],
        ports=[("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")],
        requests={"cpu": "100m", "memory": "70Mi"},
        limits={"memory": "170Mi"},
        liveness=podlib.http_probe("/health", 8080, initial_delay=60, timeout=5, failure=5),
        readiness=podlib.http_probe("/ready", 8181, period=10),
        security_context={
            "allowPrivilegeEscalation": False,
            "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
        },
        volume_mounts=[{"mountPath": "/etc/coredns", "name": "config-volume", "readOnly": True}],
    )
    b.add_deployment(
        "kube-system",
        "coredns",
        containers=[dns],
        replicas=2,
        labels={"k8s-app": "kube-dns"},
        volumes=[
            podlib.configmap_volume(
                "config-volume", "coredns", items=[{"key": "Corefile", "path": "Corefile"}]
            )
        ],
        priority_class="system-cluster-critical",
        service=False,
        created=created + timedelta(minutes=2),
        tolerations=[
            {"key": "CriticalAddonsOnly", "operator": "Exists"},
            {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"},
        ],
        strategy={"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}, "type": "RollingUpdate"},
        log_flavor="coredns",
    )
    dep = b.workload("Deployment", "kube-system", "coredns")
    svc, eps, ep2 = b.add_service(
        "kube-system",
        "kube-dns",
        {"k8s-app": "kube-dns"},
        [("dns", 53, 53, "UDP"), ("dns-tcp", 53, 53, "TCP"), ("metrics", 9153, 9153, "TCP")],
        cluster_ip="10.96.0.10",
        created=created + timedelta(minutes=2),
        labels={
            "k8s-app": "kube-dns",
            "kubernetes.io/cluster-service": "true",
            "kubernetes.io/name": "CoreDNS",
        },
        annotations={"prometheus.io/port": "9153", "prometheus.io/scrape": "true"},
    )
    dep.services.append(svc)
    dep.endpointslices.append(eps)
    dep.endpoints_list.append(ep2)
    b.add_configmap(
        "kube-system",
        "kube-proxy",
        {
            "config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\nclusterCIDR: 10.244.0.0/16\n"
        },
        labels={"app": "kube-proxy"},
        created=created + timedelta(minutes=2),
    )
    proxy = podlib.container(
        "kube-proxy",
        "registry.k8s.io/kube-proxy:v1.32.2",
        command=[
            "/usr/local/bin/kube-proxy",
            "--config=/var/lib/kube-proxy/config.conf",
            "--hostname-override=$(NODE_NAME)",
        ],
        env_fields={"NODE_NAME": "spec.nodeName"},
        security_context={"privileged": True},
        volume_mounts=[
            {"mountPath": "/var/lib/kube-proxy", "name": "kube-proxy"},
            {"mountPath": "/run/xtables.lock", "name": "xtables-lock"},
            {"mountPath": "/lib/modules", "name": "lib-modules", "readOnly": True},
        ],
    )
    b.add_daemonset(
        "kube-system",
        "kube-proxy",
        containers=[proxy],
        labels={"k8s-app": "kube-proxy"},
        host_network=True,
        priority_class="system-node-critical",
        tolerations=[{"operator": "Exists"}],
        node_selector={"kubernetes.io/os": "linux"},
        created=created + timedelta(minutes=2),
        volumes=[
            podlib.configmap_volume("kube-proxy", "kube-proxy"),
            podlib.host_path("xtables-lock", "/run/xtables.lock", "FileOrCreate"),
            podlib.host_path("lib-modules", "/lib/modules"),
        ],
    )
    cilium = podlib.container(
        "cilium-agent",
        "quay.io/cilium/cilium:v1.16.5",
        command=["cilium-agent"],
        args=["--config-dir=/tmp/cilium/config-map"],
        env_fields={"K8S_NODE_NAME": "spec.nodeName", "CILIUM_K8S_NAMESPACE": "metadata.namespace"},
        requests={"cpu": "100m", "memory": "256Mi"},
        limits={"memory": "1Gi"},
        readiness=podlib.http_probe("/healthz", 9879, period=30, timeout=5),
        liveness=podlib.http_probe("/healthz", 9879, period=30, timeout=5, failure=10),
        security_context={"privileged": True},
        volume_mounts=[
            {"mountPath": "/tmp/cilium/config-map", "name": "cilium-config-path", "readOnly": True}
        ],
    )
    b.add_configmap(
        "kube-system",
        "cilium-config",
        {
            "enable-policy": "default",
            "ipam": "kubernetes",
            "kube-proxy-replacement": "false",
            "tunnel-protocol": "vxlan",
        },
        labels=app_labels("cilium", "cilium", part_of="cilium"),
        created=created + timedelta(minutes=3),
    )
    b.add_daemonset(
        "kube-system",
        "cilium",
        containers=[cilium],
        host_network=True,
        labels={
            "app.kubernetes.io/name": "cilium-agent",
            "app.kubernetes.io/part-of": "cilium",
            "k8s-app": "cilium",
        },
        priority_class="system-node-critical",
        tolerations=[{"operator": "Exists"}],
        created=created + timedelta(minutes=3),
        volumes=[podlib.configmap_volume("cilium-config-path", "cilium-config")],
    )
    op = podlib.container(
        "cilium-operator",
        "quay.io/cilium/operator-generic:v1.16.5",
        command=["cilium-operator-generic"],
        args=["--config-dir=/tmp/cilium/config-map"],
        liveness=podlib.http_probe("/healthz", 9234, initial_delay=60, timeout=3),
        readiness=podlib.http_probe("/healthz", 9234, period=5, timeout=3, failure=5),
        volume_mounts=[
            {"mountPath": "/tmp/cilium/config-map", "name": "cilium-config-path", "readOnly": True}
        ],
    )
    b.add_deployment(
        "kube-system",
        "cilium-operator",
        containers=[op],
        replicas=1,
        host_network=True,
        labels={
            "app.kubernetes.io/name": "cilium-operator",
            "app.kubernetes.io/part-of": "cilium",
            "io.cilium/app": "operator",
            "name": "cilium-operator",
        },
        priority_class="system-cluster-critical",
        service=False,
        tolerations=[{"operator": "Exists"}],
        created=created + timedelta(minutes=3),
        volumes=[podlib.configmap_volume("cilium-config-path", "cilium-config")],
    )
    ms = podlib.container(
        "metrics-server",
        "registry.k8s.io/metrics-server/metrics-server:v0.7.2",
        args=[
            "--cert-dir=/tmp",
            "--secure-port=10250",
            "--kubelet-preferred-address-types=InternalIP",
            "--kubelet-use-node-status-port",
            "--metric-resolution=15s",
        ],
        ports=[("https", 10250)],
        requests={"cpu": "100m", "memory": "200Mi"},
        readiness=podlib.http_probe("/readyz", "https", initial_delay=20, scheme="HTTPS"),
        liveness=podlib.http_probe("/livez", "https", scheme="HTTPS"),
        security_context=podlib.RESTRICTED_CONTAINER_SC,
    )
    b.add_deployment(
        "kube-system",
        "metrics-server",
        containers=[ms],
        replicas=1,
        labels=app_labels("metrics-server", "metrics-server", chart="metrics-server-3.12.2", version="0.7.2"),
        priority_class="system-cluster-critical",
        created=created + timedelta(days=1),
        service=[
            dict(
                name="metrics-server",
                selector={
                    "app.kubernetes.io/instance": "metrics-server",
                    "app.kubernetes.io/name": "metrics-server",
                },
                labels=app_labels("metrics-server", "metrics-server"),
                ports=[("https", 443, "https")],
            )
        ],
    )


def _longhorn(b: PlatformBuilder) -> None:
    ns = "longhorn-system"
    b.add_namespace(ns)
    created = b._ns_created(ns)
    b.add(
        storage_class(
            "longhorn", created, default=True, labels=app_labels("longhorn", "longhorn", version="v1.7.2")
        )
    )
    common = dict(
        instance="longhorn",
        part_of="longhorn-system",
        chart="longhorn-1.7.2",
        version="v1.7.2",
        created=created,
    )
    mgr = podlib.container(
        "longhorn-manager",
        "docker.io/longhornio/longhorn-manager:v1.7.2",
        command=[
            "longhorn-manager",
            "-d",
            "daemon",
            "--engine-image",
            "longhornio/longhorn-engine:v1.7.2",
            "--service-account",
            "longhorn-service-account",
        ],
        ports=[("manager", 9500), ("conversion-wh", 9501), ("admission-wh", 9502)],
        env_fields={
            "POD_NAMESPACE": "metadata.namespace",
            "POD_IP": "status.podIP",
            "NODE_NAME": "spec.nodeName",
        },
        readiness=podlib.http_probe("/v1/healthz", 9502, scheme="HTTPS"),
        security_context={"privileged": True},
        volume_mounts=[
            {"mountPath": "/host/dev/", "name": "dev"},
            {"mountPath": "/host/proc/", "name": "proc"},
        ],
    )
    b.add_daemonset(
        ns,
        "longhorn-manager",
        containers=[mgr],
        service_account="longhorn-service-account",
        component="manager",
        tolerations=[
            {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}
        ],
        volumes=[podlib.host_path("dev", "/dev/"), podlib.host_path("proc", "/proc/")],
        service=[
            dict(
                name="longhorn-backend",
                selector={
                    "app.kubernetes.io/component": "manager",
                    "app.kubernetes.io/instance": "longhorn",
                    "app.kubernetes.io/name": "longhorn-manager",
                },
                labels=app_labels("longhorn-manager", "longhorn", part_of="longhorn-system"),
                ports=[("manager", 9500, "manager")],
            )
        ],
        **common,
    )
    b.add_deployment(
        ns,
        "longhorn-ui",
        "docker.io/longhornio/longhorn-ui:v1.7.2",
        replicas=2,
        ports=[("http", 8000)],
        probe_path="/",
        service=[
            dict(
                name="longhorn-frontend",
                selector={"app.kubernetes.io/instance": "longhorn", "app.kubernetes.io/name": "longhorn-ui"},
                labels=app_labels("longhorn-ui", "longhorn", part_of="longhorn-system"),
                ports=[("http", 80, "http")],
            )
        ],
        service_account="longhorn-ui-service-account",
        **common,
    )
    b.add_deployment(
        ns,
        "longhorn-driver-deployer",
        "docker.io/longhornio/longhorn-manager:v1.7.2",
        replicas=1,
        ports=(),
        probe_path=None,
        service=False,
        service_account="longhorn-service-account",
        **common,
    )
    for csi in ("csi-attacher", "csi-provisioner", "csi-resizer", "csi-snapshotter"):
        tag = {
            "csi-attacher": "v4.7.0",
            "csi-provisioner": "v4.0.1-20241007",
            "csi-resizer": "v1.12.0",
            "csi-snapshotter": "v7.0.2-20241007",
        }[csi]
        b.add_deployment(
            ns,
            csi,
            f"docker.io/longhornio/{csi}:{tag}",
            replicas=3,
            ports=(),
            probe_path=None,
            service=False,
            service_account="longhorn-service-account",
            **common,
        )
    plugin = podlib.container(
        "longhorn-csi-plugin",
        "docker.io/longhornio/longhorn-manager:v1.7.2",
        args=["longhorn-manager", "-d", "csi", "--nodeid=$(NODE_ID)"],
        env_fields={"NODE_ID": "spec.nodeName"},
        security_context={"privileged": True},
        volume_mounts=[{"mountPath": "/csi/", "name": "socket-dir"}],
    )
    b.add_daemonset(
        ns,
        "longhorn-csi-plugin",
        containers=[plugin],
        service_account="longhorn-service-account",
        volumes=[
            podlib.host_path("socket-dir", "/var/lib/kubelet/plugins/driver.longhorn.io", "DirectoryOrCreate")
        ],
        **common,
    )


def _cert_manager(b: PlatformBuilder) -> None:
    ns = "cert-manager"
    b.add_namespace(ns)
    created = b._ns_created(ns)
    c, _p = _sc()
    common = dict(
        instance="cert-manager",
        part_of="cert-manager",
        chart="cert-manager-v1.16.2",
        version="v1.16.2",
        security_context=c,
        pod_security_context={"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        created=created,
        log_flavor="cert-manager",
    )
    b.add_deployment(
        ns,
        "cert-manager",
        "quay.io/jetstack/cert-manager-controller:v1.16.2",
        replicas=1,
        component="controller",
        ports=[("http-metrics", 9402), ("http-healthz", 9403)],
        probe_path="/livez",
        args=[
            "--v=2",
            "--cluster-resource-namespace=$(POD_NAMESPACE)",
            "--leader-election-namespace=kube-system",
        ],
        env={"POD_NAMESPACE": "cert-manager"},
        service_ports=[("tcp-prometheus-servicemonitor", 9402, "http-metrics")],
        **common,
    )
    b.add_deployment(
        ns,
        "cert-manager-cainjector",
        "quay.io/jetstack/cert-manager-cainjector:v1.16.2",
        replicas=1,
        component="cainjector",
        ports=(),
        probe_path=None,
        service=False,
        **common,
    )
    b.add_deployment(
        ns,
        "cert-manager-webhook",
        "quay.io/jetstack/cert-manager-webhook:v1.16.2",
        replicas=1,
        component="webhook",
        ports=[("https", 10250), ("healthcheck", 6080)],
        probe_path="/healthz",
        service_ports=[("https", 443, "https")],
        **common,
    )
    b.add_secret(
        ns,
        "cert-manager-webhook-ca",
        {
            "ca.crt": fake_pem("CERTIFICATE", "cm-wh-ca"),
            "tls.crt": fake_pem("CERTIFICATE", "cm-wh"),
            "tls.key": fake_pem("PRIVATE KEY", "cm-wh", lines=3),
        },
        type_="kubernetes.io/tls",
        created=created,
    )
    issuer_labels = app_labels("cert-manager", "cert-manager", part_of="cert-manager")
    b.add(
        certmanager.cluster_issuer(
            "letsencrypt-prod",
            created + timedelta(minutes=5),
            solver=certmanager.http01_gateway_solver(GATEWAY_NS, GATEWAY_NAME),
            labels=issuer_labels,
        )
    )
    b.add(
        certmanager.cluster_issuer(
            "letsencrypt-staging",
            created + timedelta(minutes=5),
            server=certmanager.LE_STAGING,
            solver=certmanager.http01_gateway_solver(GATEWAY_NS, GATEWAY_NAME),
            labels=issuer_labels,
        )
    )
    b.add(
        certmanager.cluster_issuer(
            "letsencrypt-mycure-cloudflare-prod",
            created + timedelta(minutes=5),
            solver=certmanager.cloudflare_dns01_solver(),
            labels=issuer_labels,
        )
    )
    for issuer in ("letsencrypt-prod", "letsencrypt-staging", "letsencrypt-mycure-cloudflare-prod"):
        b.add_secret(
            ns,
            f"{issuer}-account-key",
            {"tls.key": fake_pem("EC PRIVATE KEY", issuer, lines=3)},
            created=created + timedelta(minutes=5, seconds=2),
        )


def _external_secret(
    b: PlatformBuilder,
    ns: str,
    name: str,
    keys: dict[str, str],
    *,
    instance: str,
    created: datetime | None = None,
) -> tuple[dict, dict]:
    """ExternalSecret (remote keys `{ns}-{suffix}`) plus the Secret ESO keeps in sync from it."""
    created = created or b._ns_created(ns) + timedelta(minutes=number("escreated", ns, name, lo=1, hi=30))
    es = b.add(
        eso.external_secret(
            ns,
            name,
            {k: eso.remote_key(ns, v) for k, v in keys.items()},
            created,
            b.now,
            labels=app_labels(name, instance),
        )
    )
    sec = b.add(eso.target_secret(es))
    return es, sec


def _external_secrets(b: PlatformBuilder) -> None:
    ns = "external-secrets-system"
    b.add_namespace(ns)
    created = b._ns_created(ns)
    c, _p = _sc(1000)
    common = dict(
        instance="external-secrets",
        chart="external-secrets-0.9.11",
        version="v0.9.11",
        security_context=c,
        pod_security_context=None,
        created=created,
        log_flavor="external-secrets",
    )
    image = "ghcr.io/external-secrets/external-secrets:v0.9.11"
    b.add_deployment(
        ns,
        "external-secrets",
        image,
        replicas=1,
        ports=[("metrics", 8080)],
        probe_path=None,
        args=["--concurrent=1", "--metrics-addr=:8080"],
        service=False,
        **common,
    )
    b.add_deployment(
        ns,
        "external-secrets-webhook",
        image,
        replicas=1,
        ports=[("webhook", 10250), ("metrics", 8080)],
        probe_path=None,
        args=[
            "webhook",
            "--port=10250",
            "--dns-name=external-secrets-webhook.external-secrets-system.svc",
            "--cert-dir=/tmp/certs",
            "--check-interval=5m",
            "--metrics-addr=:8080",
            "--healthz-addr=:8081",
        ],
        volume_mounts=[{"mountPath": "/tmp/certs", "name": "certs", "readOnly": True}],
        volumes=[podlib.secret_volume("certs", "external-secrets-webhook")],
        service_ports=[("webhook", 443, 10250)],
        **common,
    )
    b.add_deployment(
        ns,
        "external-secrets-cert-controller",
        image,
        replicas=1,
        ports=[("metrics", 8080)],
        probe_path=None,
        args=[
            "certcontroller",
            "--crd-requeue-interval=5m",
            "--service-name=external-secrets-webhook",
            "--secret-name=external-secrets-webhook",
        ],
        service=False,
        **common,
    )
    b.add_secret(
        ns,
        "external-secrets-webhook",
        {
            "ca.crt": fake_pem("CERTIFICATE", "eso-ca"),
            "tls.crt": fake_pem("CERTIFICATE", "eso-wh"),
            "tls.key": fake_pem("PRIVATE KEY", "eso-wh", lines=3),
        },
        labels={"external-secrets.io/component": "webhook"},
        created=created,
    )
    b.add_secret(
        ns,
        "gcpsm-secret",
        {
            "secret-access-credentials": (
                '{"type": "service_account", "project_id": "mc-v4-prod", "private_key_id": "synthetic-not-a-key", '
                '"client_email": "external-secrets@mc-v4-prod.iam.gserviceaccount.com"}'
            )
        },
        labels=app_labels("gcp-secretstore", "external-secrets"),
        created=created,
    )
    b.add(
        eso.cluster_secret_store(
            "gcp-secretstore",
            created + timedelta(minutes=3),
            labels=app_labels("gcp-secretstore", "external-secrets"),
        )
    )
    _external_secret(
        b,
        "cert-manager",
        "cloudflare-api-token",
        {"api-token": "cloudflare-api-token"},
        instance="cert-manager",
        created=created + timedelta(minutes=5),
    )


def _envoy_gateway(b: PlatformBuilder) -> None:
    ns = EG_NS
    b.add_namespace(ns)
    created = b._ns_created(ns)
    labels = app_labels(
        "gateway-helm", "envoy-gateway", chart=f"gateway-helm-{EG_VERSION}", version=EG_VERSION
    )
    eg_config = (
        "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: EnvoyGateway\ngateway:\n"
        "  controllerName: gateway.envoyproxy.io/gatewayclass-controller\nlogging:\n  level:\n"
        "    default: info\nprovider:\n  type: Kubernetes\nextensionApis:\n  enableEnvoyPatchPolicy: true\n"
    )
    b.add_configmap(
        ns, "envoy-gateway-config", {"envoy-gateway.yaml": eg_config}, labels=labels, created=created
    )
    for sec in ("envoy-gateway", "envoy", "envoy-rate-limit"):
        b.add_secret(
            ns,
            sec,
            {
                "ca.crt": fake_pem("CERTIFICATE", "eg-ca"),
                "tls.crt": fake_pem("CERTIFICATE", sec),
                "tls.key": fake_pem("PRIVATE KEY", sec, lines=3),
            },
            type_="kubernetes.io/tls",
            created=created,
        )
    c, p = _sc(65532)
    ctr = podlib.container(
        "envoy-gateway",
        f"docker.io/envoyproxy/gateway:{EG_VERSION}",
        args=["server", "--config-path=/config/envoy-gateway.yaml"],
        env_fields={"ENVOY_GATEWAY_NAMESPACE": "metadata.namespace"},
        env={"KUBERNETES_CLUSTER_DOMAIN": "cluster.local"},
        ports=[("grpc", 18000), ("ratelimit", 18001), ("wasm", 18002), ("metrics", 19001)],
        requests={"cpu": "100m", "memory": "256Mi"},
        limits={"memory": "1024Mi"},
        readiness=podlib.http_probe("/readyz", 8081, initial_delay=5),
        liveness=podlib.http_probe("/healthz", 8081, initial_delay=15, period=20),
        security_context=c,
        volume_mounts=[
            {"mountPath": "/config", "name": "envoy-gateway-config", "readOnly": True},
            {"mountPath": "/certs", "name": "certs", "readOnly": True},
        ],
    )
    b.add_deployment(
        ns,
        "envoy-gateway",
        containers=[ctr],
        replicas=1,
        labels={**labels, "control-plane": "envoy-gateway"},
        volumes=[
            podlib.configmap_volume("envoy-gateway-config", "envoy-gateway-config"),
            podlib.secret_volume("certs", "envoy-gateway"),
        ],
        pod_security_context=p,
        log_flavor="envoy-gateway",
        created=created,
    )
    b.add(gw.envoy_proxy(ns, "envoy-proxy-config", created + timedelta(minutes=1), labels=labels))
    name = gw.infra_name(GATEWAY_NS, GATEWAY_NAME)
    proxy_labels = {
        "app.kubernetes.io/component": "proxy",
        "app.kubernetes.io/managed-by": "envoy-gateway",
        "app.kubernetes.io/name": "envoy",
        "gateway.envoyproxy.io/owning-gateway-name": GATEWAY_NAME,
        "gateway.envoyproxy.io/owning-gateway-namespace": GATEWAY_NS,
    }
    envoy = podlib.container(
        "envoy",
        ENVOY_IMAGE,
        args=[
            "--service-cluster",
            f"{GATEWAY_NS}/{GATEWAY_NAME}",
            "--service-node",
            "$(ENVOY_POD_NAME)",
            "--config-yaml",
            "...",
            "--log-level",
            "warn",
            "--cpuset-threads",
            "--drain-strategy",
            "immediate",
        ],
        env_fields={"ENVOY_GATEWAY_NAMESPACE": "metadata.namespace", "ENVOY_POD_NAME": "metadata.name"},
        ports=[("http-10080", 10080), ("https-10443", 10443), ("metrics", 19001)],
        requests={"cpu": "100m", "memory": "256Mi"},
        limits={"memory": "1Gi"},
        readiness=podlib.http_probe("/ready", 19003, period=5, failure=1),
        startup=podlib.http_probe("/ready", 19003, period=1, failure=30),
        volume_mounts=[
            {"mountPath": "/certs", "name": "certs", "readOnly": True},
            {"mountPath": "/sds", "name": "sds"},
        ],
    )
    shutdown = podlib.container(
        "shutdown-manager",
        f"docker.io/envoyproxy/gateway:{EG_VERSION}",
        command=["envoy-gateway"],
        args=["envoy", "shutdown-manager"],
        requests={"cpu": "10m", "memory": "32Mi"},
        readiness=podlib.http_probe("/shutdown/ready", 19002, period=5, failure=1),
        liveness=podlib.http_probe("/shutdown/ready", 19002, period=5, failure=3),
    )
    w = b.add_deployment(
        ns,
        name,
        containers=[envoy, shutdown],
        replicas=2,
        labels=proxy_labels,
        selector=proxy_labels,
        volumes=[podlib.secret_volume("certs", "envoy"), podlib.empty_dir("sds", "Memory")],
        service_account=name,
        log_flavor="envoy",
        created=created + timedelta(days=2),
        service=[
            dict(
                name=name,
                selector=proxy_labels,
                labels=proxy_labels,
                type_="LoadBalancer",
                ports=[("http-80", 80, 10080), ("https-443", 443, 10443)],
                load_balancer_ip=LB_IP,
                external_traffic_policy="Local",
            )
        ],
    )
    b.add_pdb(w, min_available=1)


def _monitoring(b: PlatformBuilder) -> None:
    ns = "monitoring"
    b.add_namespace(ns)
    created = b._ns_created(ns)
    dict(
        instance="kube-prometheus", part_of="kube-prometheus", chart="kube-prometheus-10.2.5", created=created
    )
    c, p = _sc()
    b.add_deployment(
        ns,
        "kube-prometheus-operator",
        "docker.io/bitnami/prometheus-operator:0.78.2",
        replicas=1,
        component="operator",
        ports=[("http", 8080)],
        probe_path="/healthz",
        labels=app_labels(
            "kube-prometheus",
            "kube-prometheus",
            component="operator",
            part_of="kube-prometheus",
            chart="kube-prometheus-10.2.5",
            version="0.78.2",
        ),
        security_context=c,
        pod_security_context=p,
        created=created,
    )
    prom_cr = b.add(
        monitoring.prometheus(
            ns,
            "kube-prometheus-prometheus",
            created + timedelta(minutes=2),
            alertmanager_service="kube-prometheus-alertmanager",
            labels=app_labels(
                "kube-prometheus",
                "kube-prometheus",
                component="prometheus",
                part_of="kube-prometheus",
                chart="kube-prometheus-10.2.5",
            ),
        )
    )
    am_cr = b.add(
        monitoring.alertmanager(
            ns,
            "kube-prometheus-alertmanager",
            created + timedelta(minutes=2),
            labels=app_labels(
                "kube-prometheus",
                "kube-prometheus",
                component="alertmanager",
                part_of="kube-prometheus",
                chart="kube-prometheus-10.2.5",
            ),
        )
    )
    op_labels = {"app.kubernetes.io/managed-by": "prometheus-operator"}
    prom = podlib.container(
        "prometheus",
        "docker.io/bitnami/prometheus:2.55.1",
        args=[
            "--web.console.templates=/etc/prometheus/consoles",
            "--storage.tsdb.retention.time=30d",
            "--config.file=/etc/prometheus/config_out/prometheus.env.yaml",
            "--storage.tsdb.path=/prometheus",
            "--web.enable-lifecycle",
        ],
        ports=[("web", 9090)],
        requests={"cpu": "500m", "memory": "2Gi"},
        limits={"memory": "4Gi"},
        readiness=podlib.http_probe("/-/ready", "web", period=5, timeout=3, failure=3),
        startup=podlib.http_probe("/-/ready", "web", period=15, timeout=3, failure=60),
        security_context=c,
        volume_mounts=[
            {
                "mountPath": "/prometheus",
                "name": "prometheus-kube-prometheus-prometheus-db",
                "subPath": "prometheus-db",
            }
        ],
    )
    reloader = podlib.container(
        "config-reloader",
        "docker.io/bitnami/prometheus-operator:0.78.2",
        command=["/bin/prometheus-config-reloader"],
        args=["--listen-address=:8080", "--reload-url=http://127.0.0.1:9090/-/reload"],
        ports=[("reloader-web", 8080)],
        requests={"cpu": "10m", "memory": "50Mi"},
        limits={"cpu": "10m", "memory": "50Mi"},
        security_context=c,
    )
    prom_labels = {
        "app.kubernetes.io/instance": "kube-prometheus-prometheus",
        **op_labels,
        "app.kubernetes.io/name": "prometheus",
        "operator.prometheus.io/name": "kube-prometheus-prometheus",
        "operator.prometheus.io/shard": "0",
        "prometheus": "kube-prometheus-prometheus",
    }
    b.add_statefulset(
        ns,
        "prometheus-kube-prometheus-prometheus",
        containers=[prom, reloader],
        replicas=1,
        labels=prom_labels,
        selector=prom_labels,
        volume_claims={"prometheus-kube-prometheus-prometheus-db": "50Gi"},
        service_name="prometheus-operated",
        service=[
            dict(
                name="prometheus-operated",
                selector={"app.kubernetes.io/name": "prometheus"},
                labels={"operated-prometheus": "true"},
                headless=True,
                ports=[("web", 9090, "web")],
            )
        ],
        service_account="kube-prometheus-prometheus",
        owner=prom_cr,
        pod_security_context=p,
        pod_management="Parallel",
        created=created + timedelta(minutes=3),
        log_flavor="prometheus",
    )
    b.add_service(
        ns,
        "kube-prometheus-prometheus",
        {"app.kubernetes.io/name": "prometheus", "prometheus": "kube-prometheus-prometheus"},
        [("http", 9090, "web")],
        labels=app_labels(
            "kube-prometheus", "kube-prometheus", component="prometheus", part_of="kube-prometheus"
        ),
        created=created,
    )
    am = podlib.container(
        "alertmanager",
        "docker.io/bitnami/alertmanager:0.28.1",
        args=[
            "--config.file=/etc/alertmanager/config_out/alertmanager.env.yaml",
            "--storage.path=/alertmanager",
            "--data.retention=120h",
        ],
        ports=[("web", 9093), ("mesh-tcp", 9094)],
        requests={"cpu": "50m", "memory": "128Mi"},
        limits={"memory": "256Mi"},
        readiness=podlib.http_probe("/-/ready", "web", period=10, timeout=3),
        liveness=podlib.http_probe("/-/healthy", "web", period=10, timeout=3, failure=10),
        security_context=c,
    )
    am_labels = {
        "alertmanager": "kube-prometheus-alertmanager",
        "app.kubernetes.io/instance": "kube-prometheus-alertmanager",
        **op_labels,
        "app.kubernetes.io/name": "alertmanager",
    }
    b.add_statefulset(
        ns,
        "alertmanager-kube-prometheus-alertmanager",
        containers=[am],
        replicas=1,
        labels=am_labels,
        selector=am_labels,
        service_name="alertmanager-operated",
        owner=am_cr,
        pod_security_context=p,
        service=[
            dict(
                name="alertmanager-operated",
                selector={"app.kubernetes.io/name": "alertmanager"},
                labels={"operated-alertmanager": "true"},
                headless=True,
                ports=[("web", 9093, "web"), ("tcp-mesh", 9094, 9094)],
            )
        ],
        service_account="kube-prometheus-alertmanager",
        pod_management="Parallel",
        created=created + timedelta(minutes=3),
    )
    b.add_service(
        ns,
        "kube-prometheus-alertmanager",
        {"alertmanager": "kube-prometheus-alertmanager", "app.kubernetes.io/name": "alertmanager"},
        [("http", 9093, "web")],
        labels=app_labels(
            "kube-prometheus", "kube-prometheus", component="alertmanager", part_of="kube-prometheus"
        ),
        created=created,
    )
    b.add_service_account(
        ns, "kube-prometheus-prometheus", labels=app_labels("kube-prometheus", "kube-prometheus")
    )
    b.add_service_account(
        ns, "kube-prometheus-alertmanager", labels=app_labels("kube-prometheus", "kube-prometheus")
    )
    b.add_deployment(
        ns,
        "kube-prometheus-kube-state-metrics",
        "docker.io/bitnami/kube-state-metrics:2.14.0",
        replicas=1,
        ports=[("http", 8080)],
        probe_path="/healthz",
        labels=app_labels(
            "kube-state-metrics", "kube-prometheus", chart="kube-state-metrics-4.3.3", version="2.14.0"
        ),
        security_context=c,
        pod_security_context=p,
        created=created,
    )
    exporter = podlib.container(
        "node-exporter",
        "docker.io/bitnami/node-exporter:1.8.2",
        args=["--path.procfs=/host/proc", "--path.sysfs=/host/sys", "--web.listen-address=0.0.0.0:9100"],
        ports=[("metrics", 9100)],
        requests={"cpu": "50m", "memory": "64Mi"},
        limits={"memory": "128Mi"},
        readiness=podlib.http_probe("/", 9100),
        liveness=podlib.http_probe("/", 9100, initial_delay=120),
        volume_mounts=[
            {"mountPath": "/host/proc", "name": "proc", "readOnly": True},
            {"mountPath": "/host/sys", "name": "sys", "readOnly": True},
        ],
    )
    b.add_daemonset(
        ns,
        "kube-prometheus-node-exporter",
        containers=[exporter],
        host_network=True,
        labels=app_labels("node-exporter", "kube-prometheus", chart="node-exporter-4.4.20", version="1.8.2"),
        tolerations=[{"operator": "Exists"}],
        volumes=[podlib.host_path("proc", "/proc"), podlib.host_path("sys", "/sys")],
        service=[
            dict(
                name="kube-prometheus-node-exporter",
                selector={
                    "app.kubernetes.io/instance": "kube-prometheus",
                    "app.kubernetes.io/name": "node-exporter",
                },
                labels=app_labels("node-exporter", "kube-prometheus"),
                ports=[("metrics", 9100, "metrics")],
            )
        ],
        created=created,
    )
    b.add_secret(
        ns,
        "grafana-admin",
        {"GF_SECURITY_ADMIN_PASSWORD": None},
        labels=app_labels("grafana", "grafana", chart="grafana-11.3.26"),
        created=created,
    )
    b.add_pvc(
        ns,
        "grafana",
        "10Gi",
        labels=app_labels("grafana", "grafana", chart="grafana-11.3.26"),
        created=created,
    )
    b.add_deployment(
        ns,
        "grafana",
        "docker.io/bitnami/grafana:11.3.0",
        replicas=1,
        ports=[("dashboard", 3000)],
        probe_path="/api/health",
        env_secrets={"GF_SECURITY_ADMIN_PASSWORD": ("grafana-admin", "GF_SECURITY_ADMIN_PASSWORD")},
        requests={"cpu": "100m", "memory": "256Mi"},
        limits={"memory": "512Mi"},
        volumes=[podlib.pvc_volume("data", "grafana")],
        volume_mounts=[{"mountPath": "/opt/bitnami/grafana/data", "name": "data"}],
        labels=app_labels("grafana", "grafana", chart="grafana-11.3.26", version="11.3.0"),
        security_context=c,
        pod_security_context=p,
        strategy={"type": "Recreate"},
        service_ports=[("http", 3000, "dashboard")],
        created=created,
    )
    mon_labels = app_labels("kube-prometheus", "kube-prometheus", part_of="kube-prometheus")
    b.add(
        monitoring.prometheus_rule(
            ns,
            "platform-alerts",
            monitoring.PLATFORM_ALERT_GROUPS,
            created + timedelta(minutes=4),
            labels=mon_labels,
        )
    )
    for name, target_ns, selector, port in (
        ("envoy-gateway", EG_NS, {"control-plane": "envoy-gateway"}, "metrics"),
        (
            "cert-manager",
            "cert-manager",
            {"app.kubernetes.io/instance": "cert-manager", "app.kubernetes.io/name": "cert-manager"},
            "tcp-prometheus-servicemonitor",
        ),
        ("node-exporter", ns, {"app.kubernetes.io/name": "node-exporter"}, "metrics"),
        ("kube-state-metrics", ns, {"app.kubernetes.io/name": "kube-state-metrics"}, "http"),
    ):
        b.add(
            monitoring.service_monitor(
                ns,
                name,
                selector,
                port,
                created + timedelta(minutes=4),
                namespaces=[target_ns],
                labels=mon_labels,
            )
        )


def _velero(b: PlatformBuilder, tenants: Sequence[str]) -> None:
    ns = "velero"
    b.add_namespace(ns)
    created = b._ns_created(ns)
    labels = app_labels("velero", "velero", chart="velero-8.1.0", version="1.15.2")
    b.add_secret(ns, "cloud-credentials", {"cloud": None}, labels=labels, created=created)
    plugin = podlib.container(
        "velero-plugin-for-gcp",
        "docker.io/velero/velero-plugin-for-gcp:v1.11.1",
        volume_mounts=[{"mountPath": "/target", "name": "plugins"}],
    )
    ctr = podlib.container(
        "velero",
        "docker.io/velero/velero:v1.15.2",
        command=["/velero"],
        args=["server", "--uploader-type=kopia", "--features="],
        ports=[("http-monitoring", 8085)],
        env={"GOOGLE_APPLICATION_CREDENTIALS": "/credentials/cloud", "VELERO_SCRATCH_DIR": "/scratch"},
        env_fields={"VELERO_NAMESPACE": "metadata.namespace"},
        requests={"cpu": "500m", "memory": "128Mi"},
        limits={"cpu": "1", "memory": "512Mi"},
        readiness=podlib.http_probe("/metrics", "http-monitoring", initial_delay=10, period=30, timeout=5),
        liveness=podlib.http_probe("/metrics", "http-monitoring", initial_delay=10, period=30, timeout=5),
        volume_mounts=[
            {"mountPath": "/plugins", "name": "plugins"},
            {"mountPath": "/credentials", "name": "cloud-credentials"},
            {"mountPath": "/scratch", "name": "scratch"},
        ],
    )
    b.add_deployment(
        ns,
        "velero",
        containers=[ctr],
        init_containers=[plugin],
        replicas=1,
        labels=labels,
        volumes=[
            podlib.empty_dir("plugins"),
            podlib.secret_volume("cloud-credentials", "cloud-credentials"),
            podlib.empty_dir("scratch"),
        ],
        service_account="velero-server",
        log_flavor="velero",
        service_ports=[("http-monitoring", 8085, "http-monitoring")],
        created=created,
    )
    agent = podlib.container(
        "node-agent",
        "docker.io/velero/velero:v1.15.2",
        command=["/velero"],
        args=["node-agent", "server"],
        env_fields={"NODE_NAME": "spec.nodeName"},
        ports=[("http-monitoring", 8085)],
        security_context={"privileged": False},
        volume_mounts=[
            {"mountPath": "/host_pods", "mountPropagation": "HostToContainer", "name": "host-pods"}
        ],
    )
    b.add_daemonset(
        ns,
        "node-agent",
        containers=[agent],
        service_account="velero-server",
        labels=app_labels("velero", "velero", component="node-agent", chart="velero-8.1.0", version="1.15.2"),
        volumes=[podlib.host_path("host-pods", "/var/lib/kubelet/pods")],
        created=created,
    )
    b.add(velero.backup_storage_location(ns, "default", created + timedelta(minutes=2), b.now, labels=labels))
    schedules = [
        (
            "infrastructure-daily",
            "0 3 * * *",
            "720h0m0s",
            dict(included_namespaces=INFRA_DAILY_NAMESPACES),
            3,
        ),
        (
            "cluster-resources-weekly",
            "0 4 * * 0",
            "2160h0m0s",
            dict(
                included_namespaces=["*"], included_resources=WEEKLY_RESOURCES, include_cluster_resources=True
            ),
            2,
        ),
        (
            "tenant-databases-daily",
            "0 2 * * *",
            "720h0m0s",
            dict(included_namespaces=list(tenants), fs_backup=True),
            3,
        ),
    ]
    for name, cron, ttl, kw, keep in schedules:
        sched = b.add(
            velero.schedule(ns, name, cron, ttl, created + timedelta(minutes=3), b.now, labels=labels, **kw)
        )
        for fire in fire_times_before(cron, b.now, keep):
            start = fire + timedelta(seconds=number("bk", name, fire.isoformat(), hi=3))
            bk = velero.backup(sched, start)
            if parse_ts(bk["status"]["completionTimestamp"]) > b.now:
                bk = velero.backup(sched, start, phase="InProgress")
            b.add(bk)


def _kyverno(b: PlatformBuilder) -> None:
    ns = "kyverno"
    b.add_namespace(ns)
    created = b._ns_created(ns)
    c, _p = _sc(65534)
    common = dict(
        instance="kyverno",
        part_of="kyverno",
        chart="kyverno-3.2.9",
        version="v1.12.7",
        security_context=c,
        created=created,
        log_flavor="kyverno",
        pod_security_context={"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    )
    b.add_deployment(
        ns,
        "kyverno-admission-controller",
        "ghcr.io/kyverno/kyverno:v1.12.7",
        replicas=3,
        component="admission-controller",
        ports=[("https", 9443), ("metrics-port", 8000)],
        probe_path="/health/liveness",
        service=[
            dict(
                name="kyverno-svc",
                selector={
                    "app.kubernetes.io/component": "admission-controller",
                    "app.kubernetes.io/instance": "kyverno",
                    "app.kubernetes.io/part-of": "kyverno",
                },
                labels=app_labels("kyverno", "kyverno", component="admission-controller", part_of="kyverno"),
                ports=[("https", 443, "https")],
            )
        ],
        **common,
    )
    for comp, image in (
        ("background-controller", "background-controller"),
        ("cleanup-controller", "cleanup-controller"),
        ("reports-controller", "reports-controller"),
    ):
        b.add_deployment(
            ns,
            f"kyverno-{comp}",
            f"ghcr.io/kyverno/{image}:v1.12.7",
            replicas=1,
            component=comp,
            ports=[("metrics", 8000)],
            probe_path=None,
            service=False,
            **common,
        )
    pol_created = created + timedelta(minutes=10)
    for pol in kyverno.platform_policies(pol_created, APPROVED_REGISTRIES):
        pol["metadata"]["labels"] = app_labels("kyverno-policies", "kyverno-policies", part_of="kyverno")
        b.add(pol)
    b.add_cronjob(
        ns,
        "kyverno-cleanup-admission-reports",
        "docker.io/bitnami/kubectl:1.30.2",
        "*/10 * * * *",
        args=[
            "/bin/bash",
            "-c",
            "kubectl delete admissionreports -A -l kyverno.io/report.aggregate=true --ignore-not-found",
        ],
        history=1,
        instance="kyverno",
        part_of="kyverno",
        service_account="kyverno-cleanup-jobs",
        security_context=c,
        pod_security_context={"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        runtime=timedelta(seconds=4),
    )


def _falco(b: PlatformBuilder) -> None:
    ns = "falco"
    b.add_namespace(ns)
    created = b._ns_created(ns)
    labels = app_labels("falco", "falco", chart="falco-4.6.1", version="0.38.1")
    rules = (
        "- rule: Unexpected process in API container\n  desc: A process other than node ran in an API container\n"
        '  condition: spawned_process and container and k8s.pod.label.app.kubernetes.io/name = "api" and not proc.name in (node, npm)\n'
        "  output: Unexpected process in API container (command=%proc.cmdline pod=%k8s.pod.name ns=%k8s.ns.name)\n"
        "  priority: WARNING\n  tags: [api, process]\n"
    )
    b.add_configmap(
        ns,
        "falco-rules",
        {
            "api-rules.yaml": rules,
            "database-rules.yaml": rules.replace("API", "database").replace("api", "database"),
        },
        labels=labels,
        created=created,
    )
    driver = podlib.container(
        "falco-driver-loader",
        "docker.io/falcosecurity/falco-driver-loader:0.38.1",
        args=["auto"],
        security_context={"privileged": True},
    )
    falco = podlib.container(
        "falco",
        "docker.io/falcosecurity/falco:0.38.1",
        args=["/usr/bin/falco", "-pk"],
        ports=[("web", 8765)],
        requests={"cpu": "100m", "memory": "512Mi"},
        limits={"cpu": "1", "memory": "1024Mi"},
        readiness=podlib.http_probe("/healthz", 8765, initial_delay=3, period=15),
        liveness=podlib.http_probe("/healthz", 8765, initial_delay=60, period=15, timeout=5),
        security_context={"privileged": True},
        volume_mounts=[{"mountPath": "/etc/falco/rules.d", "name": "rules-volume"}],
    )
    b.add_daemonset(
        ns,
        "falco",
        containers=[falco],
        init_containers=[driver],
        labels=labels,
        tolerations=[{"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}],
        volumes=[podlib.configmap_volume("rules-volume", "falco-rules")],
        created=created,
        log_flavor="falco",
    )


def _argocd(b: PlatformBuilder) -> None:
    ns = "argocd"
    b.add_namespace(ns)
    created = b._ns_created(ns)
    image = "quay.io/argoproj/argocd:v2.13.9"
    c, _p = _sc(999)
    common = dict(
        instance="argocd",
        part_of="argocd",
        chart="argo-cd-7.7.23",
        version="v2.13.9",
        security_context=c,
        pod_security_context=None,
        created=created,
        log_flavor="argocd",
    )
    for cm, data in (
        (
            "argocd-cm",
            {
                "admin.enabled": "false",
                "url": "https://argocd.mycureapp.com",
                "timeout.reconciliation": "180s",
            },
        ),
        ("argocd-rbac-cm", {"policy.default": "role:readonly"}),
        ("argocd-cmd-params-cm", {"server.insecure": "true", "application.namespaces": ""}),
    ):
        b.add_configmap(ns, cm, data, labels=app_labels(cm, "argocd", part_of="argocd"), created=created)
    b.add_secret(
        ns,
        "argocd-secret",
        {"server.secretkey": None},
        labels=app_labels("argocd-secret", "argocd", part_of="argocd"),
        created=created,
    )
    b.add_secret(
        ns,
        "argocd-redis",
        {"auth": None},
        labels=app_labels("argocd-redis", "argocd", part_of="argocd"),
        created=created,
    )
    ctrl = podlib.container(
        "application-controller",
        image,
        args=["/usr/local/bin/argocd-application-controller"],
        ports=[("metrics", 8082)],
        requests={"cpu": "250m", "memory": "512Mi"},
        limits={"memory": "2Gi"},
        readiness=podlib.http_probe("/healthz", 8082, initial_delay=10),
        env_secrets={"REDIS_PASSWORD": ("argocd-redis", "auth")},
        security_context=c,
    )
    b.add_statefulset(
        ns,
        "argocd-application-controller",
        containers=[ctrl],
        replicas=1,
        component="application-controller",
        service=[
            dict(
                name="argocd-application-controller-metrics",
                selector={
                    "app.kubernetes.io/instance": "argocd",
                    "app.kubernetes.io/name": "argocd-application-controller",
                },
                labels=app_labels("argocd-metrics", "argocd", part_of="argocd"),
                ports=[("http-metrics", 8082, "metrics")],
            )
        ],
        **{k: v for k, v in common.items() if k != "log_flavor"},
        log_flavor="argocd",
    )
    b.add_deployment(
        ns,
        "argocd-repo-server",
        image,
        replicas=2,
        component="repo-server",
        ports=[("repo-server", 8081), ("metrics", 8084)],
        probe_path=None,
        args=["/usr/local/bin/argocd-repo-server"],
        env_secrets={"REDIS_PASSWORD": ("argocd-redis", "auth")},
        **common,
    )
    b.add_deployment(
        ns,
        "argocd-server",
        image,
        replicas=2,
        component="server",
        ports=[("server", 8080), ("metrics", 8083)],
        probe_path="/healthz",
        args=["/usr/local/bin/argocd-server", "--insecure"],
        env_secrets={"REDIS_PASSWORD": ("argocd-redis", "auth")},
        service_ports=[("http", 80, "server"), ("https", 443, "server")],
        **common,
    )
    b.add_deployment(
        ns,
        "argocd-applicationset-controller",
        image,
        replicas=1,
        component="applicationset-controller",
        ports=[("webhook", 7000), ("metrics", 8080)],
        probe_path=None,
        args=["/usr/local/bin/argocd-applicationset-controller"],
        **common,
    )
    b.add_deployment(
        ns,
        "argocd-redis",
        "docker.io/bitnami/redis:7.4.1",
        replicas=1,
        component="redis",
        ports=[("redis", 6379)],
        probe_path=None,
        args=["--save", "", "--appendonly", "no", "--requirepass", "$(REDIS_PASSWORD)"],
        env_secrets={"REDIS_PASSWORD": ("argocd-redis", "auth")},
        **{**common, "log_flavor": None},
    )


# ---------------------------------------------------------------- tenants


def _tenant(b: PlatformBuilder, t: Tenant, index: int) -> None:
    ns = t.name
    b.add_namespace(
        ns, labels={"monobase.io/tenant": ns}, created=b.now - timedelta(days=120 - 30 * index, hours=3)
    )
    created = b._ns_created(ns)
    c, p = _sc()
    _external_secret(
        b,
        ns,
        "api-secrets",
        {
            "MONGO_URI" if t.database == "mongodb" else "DATABASE_URL": "mongo-uri"
            if t.database == "mongodb"
            else "database-url",
            "JWT_SECRET": "jwt-secret",
        },
        instance=ns,
        created=created + timedelta(minutes=1),
    )
    if t.database == "mongodb":
        _external_secret(
            b,
            ns,
            "mongodb",
            {"mongodb-root-password": "mongodb-root-password", "mongodb-passwords": "mongodb-passwords"},
            instance=ns,
            created=created + timedelta(minutes=1),
        )
        db = podlib.container(
            "mongodb",
            "docker.io/bitnami/mongodb:7.0.12",
            ports=[("mongodb", 27017)],
            env={
                "BITNAMI_DEBUG": "false",
                "MONGODB_USERNAMES": "monobase",
                "MONGODB_DATABASES": "monobase",
                "ALLOW_EMPTY_PASSWORD": "no",
                "MONGODB_SYSTEM_LOG_VERBOSITY": "0",
                "MONGODB_DISABLE_SYSTEM_LOG": "no",
                "MONGODB_DISABLE_JAVASCRIPT": "no",
                "MONGODB_ENABLE_JOURNAL": "yes",
                "MONGODB_PORT_NUMBER": "27017",
                "MONGODB_ENABLE_IPV6": "no",
                "MONGODB_ENABLE_DIRECTORY_PER_DB": "no",
            },
            env_secrets={
                "MONGODB_PASSWORDS": ("mongodb", "mongodb-passwords"),
                "MONGODB_ROOT_PASSWORD": ("mongodb", "mongodb-root-password"),
            },
            requests={"cpu": "500m", "memory": "1Gi"},
            limits={"cpu": "1500m", "memory": "2Gi"},
            liveness=podlib.exec_probe(
                ["/bitnami/scripts/ping-mongodb.sh"], initial_delay=30, period=20, timeout=10
            ),
            readiness=podlib.exec_probe(
                ["/bitnami/scripts/readiness-probe.sh"], initial_delay=5, period=10, timeout=5
            ),
            security_context=c,
            volume_mounts=[
                {"mountPath": "/bitnami/mongodb", "name": "datadir"},
                {"mountPath": "/tmp", "name": "empty-dir", "subPath": "tmp-dir"},
            ],
        )
        b.add_statefulset(
            ns,
            "mongodb",
            containers=[db],
            replicas=1,
            component="mongodb",
            instance=ns,
            part_of=ns,
            chart="mongodb-15.6.26",
            version="7.0.12",
            labels=app_labels("mongodb", ns, component="mongodb", chart="mongodb-15.6.26", version="7.0.12"),
            volume_claims={"datadir": "20Gi"},
            volumes=[podlib.empty_dir("empty-dir")],
            pod_security_context=p,
            service_name="mongodb-headless",
            created=created + timedelta(minutes=3),
            log_flavor="mongodb",
        )
        db_port, db_env = 27017, {"MONGO_URI": ("api-secrets", "MONGO_URI")}
    else:
        _external_secret(
            b,
            ns,
            "postgresql",
            {"postgres-password": "postgres-password", "password": "postgres-app-password"},
            instance=ns,
            created=created + timedelta(minutes=1),
        )
        db = podlib.container(
            "postgresql",
            "docker.io/bitnami/postgresql:16.4.0",
            ports=[("tcp-postgresql", 5432)],
            env={
                "BITNAMI_DEBUG": "false",
                "POSTGRESQL_PORT_NUMBER": "5432",
                "POSTGRESQL_VOLUME_DIR": "/bitnami/postgresql",
                "PGDATA": "/bitnami/postgresql/data",
                "POSTGRES_USER": "monobase",
                "POSTGRES_DATABASE": "monobase",
            },
            env_secrets={
                "POSTGRES_PASSWORD": ("postgresql", "password"),
                "POSTGRES_POSTGRES_PASSWORD": ("postgresql", "postgres-password"),
            },
            requests={"cpu": "250m", "memory": "512Mi"},
            limits={"cpu": "1", "memory": "1Gi"},
            liveness=podlib.exec_probe(
                ["/bin/sh", "-c", 'exec pg_isready -U "monobase" -d "dbname=monobase" -h 127.0.0.1 -p 5432'],
                initial_delay=30,
                period=10,
                timeout=5,
            ),
            readiness=podlib.exec_probe(
                [
                    "/bin/sh",
                    "-c",
                    "-e",
                    'exec pg_isready -U "monobase" -d "dbname=monobase" -h 127.0.0.1 -p 5432',
                ],
                initial_delay=5,
                period=10,
                timeout=5,
            ),
            security_context=c,
            volume_mounts=[
                {"mountPath": "/bitnami/postgresql", "name": "data"},
                {"mountPath": "/tmp", "name": "empty-dir", "subPath": "tmp-dir"},
            ],
        )
        b.add_statefulset(
            ns,
            "postgresql",
            containers=[db],
            replicas=1,
            labels=app_labels(
                "postgresql", ns, component="primary", chart="postgresql-15.5.38", version="16.4.0"
            ),
            volume_claims={"data": "20Gi"},
            volumes=[podlib.empty_dir("empty-dir")],
            pod_security_context=p,
            service_name="postgresql-hl",
            created=created + timedelta(minutes=3),
            log_flavor="postgresql",
        )
        db_port, db_env = 5432, {"DATABASE_URL": ("api-secrets", "DATABASE_URL")}
    api_labels = app_labels(
        "api", ns, component="api", part_of="monobase", chart="api-1.8.0", version=t.api_version
    )
    rollout = timedelta(minutes=38) if index == 0 else None
    api = b.add_deployment(
        ns,
        "api",
        f"ghcr.io/monobaselabs/api:{t.api_version}",
        replicas=t.api_replicas,
        labels=api_labels,
        env={"NODE_ENV": "production", "PORT": "8080", "LOG_LEVEL": "info"},
        env_secrets={**db_env, "JWT_SECRET": ("api-secrets", "JWT_SECRET")},
        requests={"cpu": "250m", "memory": "512Mi"},
        limits={"cpu": "1", "memory": "1Gi"},
        security_context=c,
        pod_security_context=p,
        pod_annotations={
            "prometheus.io/path": "/metrics",
            "prometheus.io/port": "8080",
            "prometheus.io/scrape": "true",
        },
        service_ports=[("http", 8080, "http")],
        created=created + timedelta(minutes=5),
        revision=4 if index == 0 else 2,
        pod_age=rollout,
        log_flavor="api",
    )
    b.add_hpa(api, min_replicas=t.api_replicas)
    b.add_pdb(api, min_available=1)
    if rollout:
        b.state["argocd.sync"][ns] = b.now - rollout - timedelta(seconds=20)
    b.add_cronjob(
        ns,
        "session-cleanup",
        f"ghcr.io/monobaselabs/api:{t.api_version}",
        "0 * * * *",
        args=["node", "dist/jobs/session-cleanup.js"],
        env_secrets={**db_env},
        labels=app_labels("session-cleanup", ns, component="cronjob", part_of="monobase", chart="api-1.8.0"),
        requests={"cpu": "50m", "memory": "128Mi"},
        limits={"cpu": "200m", "memory": "256Mi"},
        security_context=c,
        pod_security_context=p,
        created=created + timedelta(minutes=5),
    )
    b.add(
        monitoring.service_monitor(
            ns,
            "api",
            {"app.kubernetes.io/instance": ns, "app.kubernetes.io/name": "api"},
            "http",
            created + timedelta(minutes=5),
            labels=app_labels("api", ns, part_of="monobase"),
        )
    )
    labels = app_labels("network-policies", ns, part_of="monobase")
    pol_created = created + timedelta(minutes=2)
    db_name = "mongodb" if t.database == "mongodb" else "postgresql"
    b.add(networking.network_policy(ns, "default-deny-ingress", pol_created, labels=labels))
    b.add(
        networking.network_policy(
            ns,
            "allow-from-gateway",
            pol_created,
            labels=labels,
            pod_selector={"matchLabels": {"app.kubernetes.io/name": "api"}},
            ingress=[{"from": [networking.ns_selector(EG_NS)], "ports": networking.np_ports(8080)}],
        )
    )
    b.add(
        networking.network_policy(
            ns,
            "allow-api-to-database",
            pol_created,
            labels=labels,
            pod_selector={"matchLabels": {"app.kubernetes.io/name": db_name}},
            ingress=[
                {
                    "from": [
                        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}}},
                        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "session-cleanup"}}},
                    ],
                    "ports": networking.np_ports(db_port),
                }
            ],
        )
    )
    b.add(
        networking.network_policy(
            ns,
            "allow-monitoring",
            pol_created,
            labels=labels,
            pod_selector={"matchLabels": {"app.kubernetes.io/name": "api"}},
            ingress=[{"from": [networking.ns_selector("monitoring")], "ports": networking.np_ports(8080)}],
        )
    )
    b.add(
        networking.network_policy(
            ns,
            "restrict-egress",
            pol_created,
            labels=labels,
            policy_types=("Egress",),
            egress=[
                {
                    "ports": networking.np_ports((53, "UDP"), (53, "TCP")),
                    "to": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                            },
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                        }
                    ],
                },
                {"to": [{"podSelector": {}}]},
                {
                    "ports": networking.np_ports(443),
                    "to": [
                        {
                            "ipBlock": {
                                "cidr": "0.0.0.0/0",
                                "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
                            }
                        }
                    ],
                },
            ],
        )
    )
    usage = b.namespace_usage(ns)

    def headroom(v: float, unit: float) -> float:
        return max(unit, ((v * 2) // unit + 1) * unit)

    b.add_resource_quota(
        ns,
        "compute-quota",
        {
            "limits.cpu": fmt_cpu(headroom(usage["limits.cpu"], 1)),
            "limits.memory": fmt_bytes(headroom(usage["limits.memory"], 2**30)),
            "persistentvolumeclaims": "10",
            "pods": "30",
            "requests.cpu": fmt_cpu(headroom(usage["requests.cpu"], 1)),
            "requests.memory": fmt_bytes(headroom(usage["requests.memory"], 2**30)),
            "requests.storage": "200Gi",
        },
    )


def _shared_gateway(b: PlatformBuilder, tenants: Sequence[Tenant]) -> None:
    ns = GATEWAY_NS
    b.add_namespace(ns, created=b._ns_created(EG_NS))
    created = b._ns_created(ns)
    labels = app_labels("gateway", "gateway", part_of="monobase-infra")
    b.add(
        gw.gateway_class(
            "envoy-gateway",
            created,
            labels=labels,
            parameters_ref={
                "group": "gateway.envoyproxy.io",
                "kind": "EnvoyProxy",
                "name": "envoy-proxy-config",
                "namespace": EG_NS,
            },
        )
    )
    listeners = []
    for suffix, host, secret in DOMAINS:
        listeners.append(gw.listener(f"http{suffix}", "HTTP", 80, host))
        listeners.append(gw.listener(f"https{suffix}", "HTTPS", 443, host, tls_secret=secret))
    b.add(
        gw.gateway(
            ns,
            GATEWAY_NAME,
            "envoy-gateway",
            listeners,
            created + timedelta(minutes=1),
            address=LB_IP,
            labels=labels,
        )
    )
    b.add(
        gw.envoy_patch_policy(
            ns,
            "max-request-headers",
            GATEWAY_NAME,
            gw.max_header_patches(ns, GATEWAY_NAME, ["http", "https"]),
            created + timedelta(minutes=2),
            labels=labels,
        )
    )
    for cert_name, secret, dns in CERTIFICATES:
        cert = b.add(
            certmanager.certificate(
                ns,
                cert_name,
                secret,
                dns,
                "letsencrypt-mycure-cloudflare-prod",
                created + timedelta(minutes=2),
                b.now,
                labels=labels,
                revision=number("rev", cert_name, lo=2, hi=6),
            )
        )
        b.add(certmanager.certificate_secret(cert))
        issued = parse_ts(cert["status"]["conditions"][0]["lastTransitionTime"]) - timedelta(minutes=2)
        cr = b.add(certmanager.certificate_request(cert, cert["status"]["revision"], issued))
        b.add(certmanager.order(cr, dns, issued + timedelta(seconds=1)))
    for app_ns, svc, port, host in (
        ("monitoring", "grafana", 3000, "grafana.mycureapp.com"),
        ("argocd", "argocd-server", 80, "argocd.mycureapp.com"),
    ):
        b.add(
            gw.reference_grant(
                app_ns,
                f"allow-{ns}-routes",
                ns,
                created + timedelta(minutes=3),
                labels=app_labels("gateway", "gateway", part_of="monobase-infra"),
            )
        )
        b.add(
            gw.httproute(
                ns,
                svc,
                [host],
                [gw.parent_ref(ns, GATEWAY_NAME, "https"), gw.parent_ref(ns, GATEWAY_NAME, "http")],
                [gw.backend_ref(svc, port, app_ns)],
                created + timedelta(minutes=3),
                labels=labels,
            )
        )
    for t in tenants:
        sections = [f"https{t.listener}", f"http{t.listener}"]
        b.add(
            gw.httproute(
                t.name,
                "api",
                [t.hostname],
                [gw.parent_ref(ns, GATEWAY_NAME, s) for s in sections],
                [gw.backend_ref("api", 8080)],
                b._ns_created(t.name) + timedelta(minutes=6),
                labels=app_labels("api", t.name, part_of="monobase"),
            )
        )


def _applications(b: PlatformBuilder, tenants: Sequence[Tenant]) -> None:
    created = b._ns_created("argocd") + timedelta(minutes=20)
    b.add(
        argocd.application(
            "infrastructure-root",
            created,
            path="argocd/infrastructure",
            dest_namespace="argocd",
            project="default",
            labels={"app.kubernetes.io/instance": "argocd-bootstrap"},
        )
    )
    infra = [
        ("cert-manager", "cert-manager"),
        ("external-secrets", "external-secrets-system"),
        ("envoy-gateway", EG_NS),
        ("gateway", GATEWAY_NS),
        ("kube-prometheus", "monitoring"),
        ("grafana", "monitoring"),
        ("velero", "velero"),
        ("kyverno", "kyverno"),
        ("kyverno-policies", "kyverno"),
        ("falco", "falco"),
        ("longhorn", "longhorn-system"),
        ("argocd", "argocd"),
    ]
    for name, dest in infra:
        b.add(
            argocd.application(
                name,
                created + timedelta(minutes=1),
                path=f"infrastructure/{name}",
                dest_namespace=dest,
                project="infrastructure",
                value_files=("../../values/infrastructure/main.yaml",),
                labels={"app.kubernetes.io/instance": "infrastructure-root"},
            )
        )
    for t in tenants:
        b.add(
            argocd.application(
                t.name,
                b._ns_created(t.name),
                path="charts/monobase",
                dest_namespace=t.name,
                project="tenants",
                value_files=(f"../../values/deployments/{t.name}.yaml",),
            )
        )
    sync = b.state.get("argocd.sync", {})
    for name, when in sync.items():
        app = b.require("Application", "argocd", name)
        sha = hex_id("commit", "monobase-infra", b.now.date().isoformat(), n=40)
        b.add_event(
            app,
            "OperationStarted",
            f"Initiated automated sync to '{sha}'",
            component="argocd-application-controller",
            first=when,
        )
        b.add_event(
            app,
            "ResourceUpdated",
            "Updated sync status: Synced -> OutOfSync",
            component="argocd-application-controller",
            first=when - timedelta(seconds=2),
        )
        b.add_event(
            app,
            "OperationCompleted",
            f"Sync operation to {sha} succeeded",
            component="argocd-application-controller",
            first=when + timedelta(seconds=9),
        )
        b.add_event(
            app,
            "ResourceUpdated",
            "Updated sync status: OutOfSync -> Synced",
            component="argocd-application-controller",
            first=when + timedelta(seconds=10),
        )
        b.add_event(
            app,
            "ResourceUpdated",
            "Updated health status: Progressing -> Healthy",
            component="argocd-application-controller",
            first=when + timedelta(seconds=55),
        )


def _policy_reports(b: PlatformBuilder, tenants: Sequence[Tenant]) -> None:
    policies = b.list("ClusterPolicy")
    for t in tenants:
        for kind in ("Deployment", "StatefulSet", "CronJob", "Pod"):
            for obj in b.list(kind, t.name):
                if kind == "Pod" and podlib.is_terminal(obj):
                    continue
                when = b.now - timedelta(minutes=number("scan", obj["metadata"]["uid"], lo=1, hi=55))
                b.add(
                    kyverno.passing_report(
                        obj, policies, max(when, parse_ts(obj["metadata"]["creationTimestamp"]))
                    )
                )
