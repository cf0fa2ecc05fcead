"""Tenants and what fronts them: namespaces with API + database, shared-gateway, Argo CD apps, reports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from synth import argocd, certmanager, kyverno, monitoring, networking
from synth import gateway as gw
from synth import pods as podlib
from synth.builder import PlatformBuilder
from synth.meta import app_labels, fmt_bytes, fmt_cpu, hex_id, number, parse_ts
from synth.platform_addons import add_external_secret
from synth.platform_spec import (
    CERTIFICATES,
    DOMAINS,
    EG_NS,
    GATEWAY_NAME,
    GATEWAY_NS,
    LB_IP,
    Tenant,
    security_contexts,
)


def add_tenant(b: PlatformBuilder, t: Tenant, index: int) -> None:
    ns = t.name
    b.add_namespace(
        ns, labels={"monobase.io/tenant": ns}, created=b.now - timedelta(days=120 - 30 * index, hours=3)
    )
    created = b._ns_created(ns)
    c, p = security_contexts()
    add_external_secret(
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
        add_external_secret(
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
        add_external_secret(
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


def add_shared_gateway(b: PlatformBuilder, tenants: Sequence[Tenant]) -> None:
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


def add_applications(b: PlatformBuilder, tenants: Sequence[Tenant]) -> None:
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
        for reason, message, offset in (
            ("OperationStarted", f"Initiated automated sync to '{sha}'", 0),
            ("ResourceUpdated", "Updated sync status: Synced -> OutOfSync", -2),
            ("OperationCompleted", f"Sync operation to {sha} succeeded", 9),
            ("ResourceUpdated", "Updated sync status: OutOfSync -> Synced", 10),
            ("ResourceUpdated", "Updated health status: Progressing -> Healthy", 55),
        ):
            b.add_event(
                app,
                reason,
                message,
                component="argocd-application-controller",
                first=when + timedelta(seconds=offset),
            )


def add_policy_reports(b: PlatformBuilder, tenants: Sequence[Tenant]) -> None:
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
