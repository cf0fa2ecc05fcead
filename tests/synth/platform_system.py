"""Cluster scaffolding of the reference platform: nodes, kube-system, Longhorn, Falco."""

from __future__ import annotations

from datetime import timedelta

from synth import pods as podlib
from synth.builder import PlatformBuilder
from synth.config import priority_class
from synth.meta import app_labels, uid
from synth.storage import storage_class


def add_cluster(b: PlatformBuilder, workers: int) -> None:
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


def add_kube_system(b: PlatformBuilder) -> None:
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
            "config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n"
            "mode: iptables\nclusterCIDR: 10.244.0.0/16\n"
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
            {
                "name": "metrics-server",
                "selector": {
                    "app.kubernetes.io/instance": "metrics-server",
                    "app.kubernetes.io/name": "metrics-server",
                },
                "labels": app_labels("metrics-server", "metrics-server"),
                "ports": [("https", 443, "https")],
            }
        ],
    )


def add_longhorn(b: PlatformBuilder) -> None:
    ns = "longhorn-system"
    b.add_namespace(ns)
    created = b._ns_created(ns)
    b.add(
        storage_class(
            "longhorn", created, default=True, labels=app_labels("longhorn", "longhorn", version="v1.7.2")
        )
    )
    common = {
        "instance": "longhorn",
        "part_of": "longhorn-system",
        "chart": "longhorn-1.7.2",
        "version": "v1.7.2",
        "created": created,
    }
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
            {
                "name": "longhorn-backend",
                "selector": {
                    "app.kubernetes.io/component": "manager",
                    "app.kubernetes.io/instance": "longhorn",
                    "app.kubernetes.io/name": "longhorn-manager",
                },
                "labels": app_labels("longhorn-manager", "longhorn", part_of="longhorn-system"),
                "ports": [("manager", 9500, "manager")],
            }
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
            {
                "name": "longhorn-frontend",
                "selector": {
                    "app.kubernetes.io/instance": "longhorn",
                    "app.kubernetes.io/name": "longhorn-ui",
                },
                "labels": app_labels("longhorn-ui", "longhorn", part_of="longhorn-system"),
                "ports": [("http", 80, "http")],
            }
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


def add_falco(b: PlatformBuilder) -> None:
    ns = "falco"
    b.add_namespace(ns)
    created = b._ns_created(ns)
    labels = app_labels("falco", "falco", chart="falco-4.6.1", version="0.38.1")
    rules = (
        "- rule: Unexpected process in API container\n  desc: A process other than node ran in an API container\n"
        '  condition: spawned_process and container and k8s.pod.label.app.kubernetes.io/name = "api"'
        " and not proc.name in (node, npm)\n"
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
