"""prometheus-operator v0.78 objects: Prometheus/Alertmanager CRs, PrometheusRules, ServiceMonitors.

The platform's six alert groups are reproduced as real PromQL so promtool can check them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from synth.meta import condition, new_object

MON_API = "monitoring.coreos.com/v1"


def _cr_status(
    name: str, replicas: int, available: int, created: datetime, gen: int, selector: str
) -> dict[str, Any]:
    ok = available >= replicas
    when = created + timedelta(seconds=40)
    status: dict[str, Any] = {
        "availableReplicas": available,
        "conditions": [
            condition(
                "Available",
                "True" if ok else ("Degraded" if available else "False"),
                None if ok else ("SomePodsNotReady" if available else "NoPodReady"),
                None if ok else f"{replicas - available}/{replicas} pods are not ready",
                when,
                observed_generation=gen,
            ),
            condition("Reconciled", "True", None, None, when, observed_generation=gen),
        ],
        "paused": False,
        "replicas": replicas,
        "selector": selector,
        "unavailableReplicas": replicas - available,
        "updatedReplicas": replicas,
    }
    return status


def prometheus(
    namespace: str,
    name: str,
    created: datetime,
    *,
    replicas: int = 1,
    version: str = "v2.55.1",
    image: str = "docker.io/bitnami/prometheus:2.55.1",
    retention: str = "30d",
    storage: str = "50Gi",
    alertmanager_service: str | None = None,
    service_account: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    obj = new_object("Prometheus", name, namespace, created, api_version=MON_API, labels=labels)
    spec: dict[str, Any] = {
        "enableAdminAPI": False,
        "evaluationInterval": "30s",
        "image": image,
        "listenLocal": False,
        "logFormat": "logfmt",
        "logLevel": "info",
        "paused": False,
        "podMonitorNamespaceSelector": {},
        "podMonitorSelector": {},
        "portName": "web",
        "probeNamespaceSelector": {},
        "probeSelector": {},
        "replicas": replicas,
        "retention": retention,
        "routePrefix": "/",
        "ruleNamespaceSelector": {},
        "ruleSelector": {},
        "scrapeInterval": "30s",
        "securityContext": {"fsGroup": 1001, "runAsNonRoot": True, "runAsUser": 1001},
        "serviceAccountName": service_account or name,
        "serviceMonitorNamespaceSelector": {},
        "serviceMonitorSelector": {},
        "shards": 1,
        "storage": {
            "volumeClaimTemplate": {
                "metadata": {},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": storage}},
                    "storageClassName": "longhorn",
                },
            }
        },
        "version": version,
    }
    if alertmanager_service:
        spec["alerting"] = {
            "alertmanagers": [
                {
                    "apiVersion": "v2",
                    "name": alertmanager_service,
                    "namespace": namespace,
                    "pathPrefix": "/",
                    "port": "http",
                }
            ]
        }
    obj["spec"] = spec
    gen = obj["metadata"]["generation"]
    status = _cr_status(
        name,
        replicas,
        replicas,
        created,
        gen,
        f"app.kubernetes.io/instance={name},app.kubernetes.io/managed-by=prometheus-operator,"
        f"app.kubernetes.io/name=prometheus,operator.prometheus.io/name={name},"
        f"operator.prometheus.io/shard=0,prometheus={name}",
    )
    status["shardStatuses"] = [
        {
            "availableReplicas": replicas,
            "replicas": replicas,
            "shardID": "0",
            "unavailableReplicas": 0,
            "updatedReplicas": replicas,
        }
    ]
    status["shards"] = 1
    obj["status"] = status
    return obj


def alertmanager(
    namespace: str,
    name: str,
    created: datetime,
    *,
    replicas: int = 1,
    image: str = "docker.io/bitnami/alertmanager:0.28.1",
    labels: Mapping[str, str] | None = None,
) -> dict:
    obj = new_object("Alertmanager", name, namespace, created, api_version=MON_API, labels=labels)
    obj["spec"] = {
        "image": image,
        "listenLocal": False,
        "logFormat": "logfmt",
        "logLevel": "info",
        "paused": False,
        "portName": "web",
        "replicas": replicas,
        "retention": "120h",
        "routePrefix": "/",
        "securityContext": {"fsGroup": 1001, "runAsNonRoot": True, "runAsUser": 1001},
        "serviceAccountName": name,
        "version": "v0.28.1",
    }
    gen = obj["metadata"]["generation"]
    obj["status"] = _cr_status(
        name,
        replicas,
        replicas,
        created,
        gen,
        f"alertmanager={name},app.kubernetes.io/instance={name},"
        f"app.kubernetes.io/managed-by=prometheus-operator,app.kubernetes.io/name=alertmanager",
    )
    return obj


def service_monitor(
    namespace: str,
    name: str,
    selector: Mapping[str, str],
    port: str,
    created: datetime,
    *,
    path: str = "/metrics",
    interval: str = "30s",
    namespaces: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    obj = new_object("ServiceMonitor", name, namespace, created, api_version=MON_API, labels=labels)
    obj["spec"] = {
        "endpoints": [{"interval": interval, "path": path, "port": port}],
        "namespaceSelector": {"matchNames": list(namespaces or [namespace])},
        "selector": {"matchLabels": dict(selector)},
    }
    return obj


def prometheus_rule(
    namespace: str,
    name: str,
    groups: Sequence[Mapping[str, Any]],
    created: datetime,
    *,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    obj = new_object("PrometheusRule", name, namespace, created, api_version=MON_API, labels=labels)
    obj["spec"] = {"groups": [dict(g) for g in groups]}
    return obj


def _alert(name: str, expr: str, for_: str, severity: str, summary: str, description: str) -> dict[str, Any]:
    return {
        "alert": name,
        "annotations": {"description": description, "summary": summary},
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity},
    }


PLATFORM_ALERT_GROUPS: list[dict[str, Any]] = [
    {
        "name": "node-health",
        "rules": [
            _alert(
                "NodeDown",
                'up{job="node-exporter"} == 0',
                "2m",
                "critical",
                "Node {{ $labels.instance }} is down",
                "node-exporter on {{ $labels.instance }} has not been scraped for 2 minutes.",
            ),
            _alert(
                "NodeHighCPU",
                '100 - (avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 85',
                "10m",
                "warning",
                "High CPU on {{ $labels.instance }}",
                "CPU usage is {{ $value | humanize }}%.",
            ),
            _alert(
                "NodeHighMemory",
                "(1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes) * 100 > 90",
                "10m",
                "warning",
                "High memory on {{ $labels.instance }}",
                "Memory usage is {{ $value | humanize }}%.",
            ),
            _alert(
                "NodeDiskFillingUp",
                '(1 - node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"}'
                ' / node_filesystem_size_bytes{fstype!~"tmpfs|overlay"}) * 100 > 80',
                "15m",
                "warning",
                "Disk filling up on {{ $labels.instance }}",
                "Disk usage is {{ $value | humanize }}%.",
            ),
            _alert(
                "NodeDiskCritical",
                '(1 - node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"}'
                ' / node_filesystem_size_bytes{fstype!~"tmpfs|overlay"}) * 100 > 90',
                "5m",
                "critical",
                "Disk almost full on {{ $labels.instance }}",
                "Disk usage is {{ $value | humanize }}%.",
            ),
        ],
    },
    {
        "name": "pod-health",
        "rules": [
            _alert(
                "PodCrashLooping",
                "increase(kube_pod_container_status_restarts_total[15m]) > 3",
                "5m",
                "critical",
                "Pod {{ $labels.namespace }}/{{ $labels.pod }} is crash looping",
                "Container {{ $labels.container }} restarted {{ $value }} times in 15 minutes.",
            ),
            _alert(
                "PodNotReady",
                'sum by (namespace, pod) (kube_pod_status_ready{condition="false"}) > 0',
                "10m",
                "warning",
                "Pod {{ $labels.namespace }}/{{ $labels.pod }} not ready",
                "Pod has been not ready for 10 minutes.",
            ),
            _alert(
                "PodHighMemory",
                'sum by (namespace, pod) (container_memory_working_set_bytes{container!=""})'
                ' / sum by (namespace, pod) (kube_pod_container_resource_limits{resource="memory"}) > 0.9',
                "10m",
                "warning",
                "Pod {{ $labels.namespace }}/{{ $labels.pod }} near its memory limit",
                "Working set is above 90% of the limit.",
            ),
        ],
    },
    {
        "name": "api-performance",
        "rules": [
            _alert(
                "APIHighErrorRate",
                'sum by (namespace) (rate(http_requests_total{status=~"5.."}[5m]))'
                ' / sum by (namespace) (rate(http_requests_total[5m])) > 0.05',
                "5m",
                "warning",
                "API 5xx rate above 5% in {{ $labels.namespace }}",
                "5xx ratio is {{ $value | humanizePercentage }}.",
            ),
            _alert(
                "APIHighLatency",
                "histogram_quantile(0.95, sum by (namespace, le) (rate(http_request_duration_seconds_bucket[5m]))) > 1",
                "10m",
                "warning",
                "API P95 latency above 1s in {{ $labels.namespace }}",
                "P95 is {{ $value }}s.",
            ),
            _alert(
                "APIDown",
                'up{job=~".*api.*"} == 0',
                "2m",
                "critical",
                "API {{ $labels.namespace }} is down",
                "No API target is up.",
            ),
        ],
    },
    {
        "name": "storage-alerts",
        "rules": [
            _alert(
                "PersistentVolumeFillingUp",
                "kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes > 0.8",
                "15m",
                "warning",
                "PVC {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is over 80% full",
                "Usage is {{ $value | humanizePercentage }}.",
            ),
            _alert(
                "PersistentVolumeCritical",
                "kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes > 0.9",
                "5m",
                "critical",
                "PVC {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is over 90% full",
                "Usage is {{ $value | humanizePercentage }}.",
            ),
        ],
    },
    {
        "name": "gateway-alerts",
        "rules": [
            _alert(
                "GatewayHighErrorRate",
                'sum(rate(envoy_http_downstream_rq_xx{envoy_response_code_class="5"}[5m]))'
                ' / sum(rate(envoy_http_downstream_rq_total[5m])) > 0.05',
                "5m",
                "warning",
                "Gateway 5xx rate above 5%",
                "5xx ratio is {{ $value | humanizePercentage }}.",
            ),
        ],
    },
    {
        "name": "certificates",
        "rules": [
            _alert(
                "CertificateExpiringSoon",
                "certmanager_certificate_expiration_timestamp_seconds - time() < 7 * 24 * 3600",
                "1h",
                "warning",
                "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in less than 7 days",
                "Check the Certificate, its CertificateRequest and the issuer.",
            ),
            _alert(
                "CertificateExpiryCritical",
                "certmanager_certificate_expiration_timestamp_seconds - time() < 2 * 24 * 3600",
                "10m",
                "critical",
                "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in less than 2 days",
                "Renewal has failed; see runbook certificate-renewal.",
            ),
        ],
    },
]
