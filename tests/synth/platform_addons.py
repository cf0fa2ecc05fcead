"""Platform add-ons in the request path: cert-manager, External Secrets Operator, Envoy Gateway, Kyverno."""

from __future__ import annotations

from datetime import datetime, timedelta

from synth import certmanager, eso, kyverno
from synth import gateway as gw
from synth import pods as podlib
from synth.builder import PlatformBuilder
from synth.config import fake_pem
from synth.meta import app_labels, number
from synth.platform_spec import (
    APPROVED_REGISTRIES,
    EG_NS,
    EG_VERSION,
    ENVOY_IMAGE,
    GATEWAY_NAME,
    GATEWAY_NS,
    LB_IP,
    security_contexts,
)


def add_cert_manager(b: PlatformBuilder) -> None:
    ns = "cert-manager"
    b.add_namespace(ns)
    created = b._ns_created(ns)
    c, _p = security_contexts()
    common = {
        "instance": "cert-manager",
        "part_of": "cert-manager",
        "chart": "cert-manager-v1.16.2",
        "version": "v1.16.2",
        "security_context": c,
        "pod_security_context": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "created": created,
        "log_flavor": "cert-manager",
    }
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


def add_external_secret(
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


def add_external_secrets_operator(b: PlatformBuilder) -> None:
    ns = "external-secrets-system"
    b.add_namespace(ns)
    created = b._ns_created(ns)
    c, _p = security_contexts(1000)
    common = {
        "instance": "external-secrets",
        "chart": "external-secrets-0.9.11",
        "version": "v0.9.11",
        "security_context": c,
        "pod_security_context": None,
        "created": created,
        "log_flavor": "external-secrets",
    }
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
    add_external_secret(
        b,
        "cert-manager",
        "cloudflare-api-token",
        {"api-token": "cloudflare-api-token"},
        instance="cert-manager",
        created=created + timedelta(minutes=5),
    )


def add_envoy_gateway(b: PlatformBuilder) -> None:
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
    c, p = security_contexts(65532)
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
            {
                "name": name,
                "selector": proxy_labels,
                "labels": proxy_labels,
                "type_": "LoadBalancer",
                "ports": [("http-80", 80, 10080), ("https-443", 443, 10443)],
                "load_balancer_ip": LB_IP,
                "external_traffic_policy": "Local",
            }
        ],
    )
    b.add_pdb(w, min_available=1)


def add_kyverno(b: PlatformBuilder) -> None:
    ns = "kyverno"
    b.add_namespace(ns)
    created = b._ns_created(ns)
    c, _p = security_contexts(65534)
    common = {
        "instance": "kyverno",
        "part_of": "kyverno",
        "chart": "kyverno-3.2.9",
        "version": "v1.12.7",
        "security_context": c,
        "created": created,
        "log_flavor": "kyverno",
        "pod_security_context": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    }
    b.add_deployment(
        ns,
        "kyverno-admission-controller",
        "ghcr.io/kyverno/kyverno:v1.12.7",
        replicas=3,
        component="admission-controller",
        ports=[("https", 9443), ("metrics-port", 8000)],
        probe_path="/health/liveness",
        service=[
            {
                "name": "kyverno-svc",
                "selector": {
                    "app.kubernetes.io/component": "admission-controller",
                    "app.kubernetes.io/instance": "kyverno",
                    "app.kubernetes.io/part-of": "kyverno",
                },
                "labels": app_labels(
                    "kyverno", "kyverno", component="admission-controller", part_of="kyverno"
                ),
                "ports": [("https", 443, "https")],
            }
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
