"""Operations add-ons of the platform: kube-prometheus + Grafana, Velero, Argo CD."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from synth import monitoring, velero
from synth import pods as podlib
from synth.builder import PlatformBuilder
from synth.cron import fire_times_before
from synth.meta import app_labels, number, parse_ts
from synth.platform_spec import EG_NS, INFRA_DAILY_NAMESPACES, WEEKLY_RESOURCES, security_contexts


def add_monitoring(b: PlatformBuilder) -> None:
    ns = "monitoring"
    b.add_namespace(ns)
    created = b._ns_created(ns)
    c, p = security_contexts()
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
            {
                "name": "prometheus-operated",
                "selector": {"app.kubernetes.io/name": "prometheus"},
                "labels": {"operated-prometheus": "true"},
                "headless": True,
                "ports": [("web", 9090, "web")],
            }
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
            {
                "name": "alertmanager-operated",
                "selector": {"app.kubernetes.io/name": "alertmanager"},
                "labels": {"operated-alertmanager": "true"},
                "headless": True,
                "ports": [("web", 9093, "web"), ("tcp-mesh", 9094, 9094)],
            }
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
            {
                "name": "kube-prometheus-node-exporter",
                "selector": {
                    "app.kubernetes.io/instance": "kube-prometheus",
                    "app.kubernetes.io/name": "node-exporter",
                },
                "labels": app_labels("node-exporter", "kube-prometheus"),
                "ports": [("metrics", 9100, "metrics")],
            }
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


def add_velero(b: PlatformBuilder, tenants: Sequence[str]) -> None:
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
            {"included_namespaces": INFRA_DAILY_NAMESPACES},
            3,
        ),
        (
            "cluster-resources-weekly",
            "0 4 * * 0",
            "2160h0m0s",
            {
                "included_namespaces": ["*"],
                "included_resources": WEEKLY_RESOURCES,
                "include_cluster_resources": True,
            },
            2,
        ),
        (
            "tenant-databases-daily",
            "0 2 * * *",
            "720h0m0s",
            {"included_namespaces": list(tenants), "fs_backup": True},
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


def add_argocd(b: PlatformBuilder) -> None:
    ns = "argocd"
    b.add_namespace(ns)
    created = b._ns_created(ns)
    image = "quay.io/argoproj/argocd:v2.13.9"
    c, _p = security_contexts(999)
    common = {
        "instance": "argocd",
        "part_of": "argocd",
        "chart": "argo-cd-7.7.23",
        "version": "v2.13.9",
        "security_context": c,
        "pod_security_context": None,
        "created": created,
        "log_flavor": "argocd",
    }
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
    for secret, keys in (("argocd-secret", {"server.secretkey": None}), ("argocd-redis", {"auth": None})):
        b.add_secret(ns, secret, keys, labels=app_labels(secret, "argocd", part_of="argocd"), created=created)
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
            {
                "name": "argocd-application-controller-metrics",
                "selector": {
                    "app.kubernetes.io/instance": "argocd",
                    "app.kubernetes.io/name": "argocd-application-controller",
                },
                "labels": app_labels("argocd-metrics", "argocd", part_of="argocd"),
                "ports": [("http-metrics", 8082, "metrics")],
            }
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
