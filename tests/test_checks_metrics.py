"""Metric-backed checks as pure functions: MetricSets built in memory on the synth platform (fast).

The same checks against a real Prometheus are in test_prometheus_source.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import monitoring_faults as mf
import pytest
import scenario

from sre_expert.checks.metrics import node_name, threshold
from sre_expert.core.metric_set import (
    ERROR,
    MISSING,
    OK,
    QUERIES,
    Alert,
    MetricSet,
    QueryResult,
    Series,
    Target,
)
from sre_expert.core.model import Finding
from sre_expert.diagnosis.engine import Report, diagnose
from sre_expert.knowledge.alert_catalogue import alert_rule
from synth import faults
from synth.builder import PlatformBuilder

pytestmark = pytest.mark.scenario

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
GiB = float(1 << 30)
MONGO = ("mycure-production", "datadir-mongodb-0")
PROM_PVC = "prometheus-kube-prometheus-prometheus-db-prometheus-kube-prometheus-prometheus-0"


def metric_set(**series: list[tuple[dict[str, str], float]]) -> MetricSet:
    """Every query answered (empty unless given), as a healthy Prometheus with nothing to report would."""
    ms = MetricSet(source="memory", evaluated_at=NOW, alerts=[], targets_down=[])
    for q in QUERIES:
        ms.results[q.name] = QueryResult(OK, [Series(dict(lab), v) for lab, v in series.get(q.name, [])])
    return ms


def run(b: PlatformBuilder, ms: MetricSet | None) -> Report:
    snap = scenario.snapshot(b)
    snap.metrics = ms
    return diagnose(snap)


def pvc_series(ns: str, claim: str, pct: float, cap_gib: float = 20) -> dict[str, list]:
    lab = {"namespace": ns, "persistentvolumeclaim": claim}
    return {"pvc_percent": [(lab, pct)], "pvc_used_bytes": [(lab, cap_gib * GiB * pct / 100)],
            "pvc_capacity_bytes": [(lab, cap_gib * GiB)]}


def only(report: Report) -> Finding:
    assert len(report.findings) == 1, [(f.code, f.object.display()) for f in report.findings]
    return report.findings[0]


# ------------------------------------------------------------------------------------------ data


def test_metric_set_round_trips_through_json() -> None:
    ms = metric_set(route_p95_ms=[({"envoy_cluster_name": "httproute/a/b/rule/0"}, float("inf"))],
                    **pvc_series(*MONGO, 85.0))
    ms.results["cert_expiry_timestamp"] = QueryResult(MISSING)
    ms.results["node_cpu_percent"] = QueryResult(ERROR, error="HTTP 503 timeout: query timed out")
    ms.alerts = [Alert("NodeHighCPU", {"alertname": "NodeHighCPU", "instance": "10.0.0.11:9100"}, {"summary": "s"},
                       "2026-11-26T02:40:00Z", "91.2")]
    ms.targets_down = [Target({"job": "api"}, "http://10.244.1.2:8080/metrics", "connection refused", "")]
    ms.warnings.append("w")
    doc = json.loads(json.dumps(ms.to_json()))
    back = MetricSet.from_json(doc)
    assert back == ms and back.to_json() == doc
    assert MetricSet.from_json(MetricSet.absent("why").to_json()).unavailable == "why"
    with pytest.raises(ValueError, match="not a metric set"):
        MetricSet.from_json({"queries": {}})


def test_not_checked_lines() -> None:
    ms = metric_set()
    assert ms.not_checked() == []
    ms.results["pvc_percent"] = QueryResult(MISSING)
    ms.results["pvc_used_bytes"] = QueryResult(MISSING)
    ms.results["route_rps"] = QueryResult(ERROR, error="HTTP 503 timeout: query timed out")
    ms.alerts_error = "cannot reach Prometheus"
    assert ms.not_checked() == [
        "metrics: not checked: PersistentVolumeClaim fill (metric kubelet_volume_stats_used_bytes not found in Prometheus)",
        "metrics: not checked: HTTPRoute 5xx rate and latency (Envoy Gateway) (query failed: HTTP 503 timeout: query timed out)",
        "metrics: not checked: Prometheus alerts API (cannot reach Prometheus)",
    ]
    assert MetricSet.absent("no Prometheus source").not_checked() == ["metrics: no Prometheus source"]


def test_no_metrics_means_silence_absent_metrics_means_one_line() -> None:
    b = scenario.platform(NOW)
    assert run(b, None).not_checked == []
    report = run(b, MetricSet.absent("no Prometheus source (pass --prometheus URL)"))
    assert report.findings == [] and report.not_checked == ["metrics: no Prometheus source (pass --prometheus URL)"]


def test_thresholds_are_the_alert_rules() -> None:
    for name in ("PersistentVolumeFillingUp", "NodeDiskCritical", "GatewayHighErrorRate", "APIHighLatency",
                 "CertificateExpiringSoon"):
        assert threshold(name) == float(alert_rule(name).threshold["value"])  # type: ignore[union-attr]
    with pytest.raises(KeyError):
        threshold("NoSuchAlert")


# ------------------------------------------------------------------------------------------ volumes and nodes


@pytest.mark.parametrize(("pct", "code"), [(80.0, None), (80.5, "PVC-FILLING-UP"), (90.0, "PVC-FILLING-UP"),
                                           (90.5, "PVC-FULL")])
def test_pvc_fill_thresholds(pct: float, code: str | None) -> None:
    report = run(scenario.platform(NOW), metric_set(**pvc_series(*MONGO, pct)))
    assert [f.code for f in report.findings] == ([code] if code else [])
    if code:
        f = report.findings[0]
        assert f.object.display() == "PersistentVolumeClaim mycure-production/datadir-mongodb-0"
        assert ("PersistentVolumeClaim", *MONGO) in f.subjects and any(f"{pct:.1f}% full" in e for e in f.evidence)
        assert any("mounted by pod mongodb-0" in e for e in f.evidence)


def test_no_space_in_a_pod_log_links_the_pod_under_the_full_claim() -> None:
    b = scenario.platform(NOW)
    pod = b.require("Pod", "mycure-production", "mongodb-0")
    faults.crashloop(b, pod, previous_log='{"t":{"$date":"2026-11-26T02:59:01Z"},"s":"F","msg":"Fatal assertion",'
                     '"attr":{"error":"WiredTiger error: No space left on device"}}\n')
    report = run(b, metric_set(**pvc_series(*MONGO, 99.0)))
    full = next(f for f in report.findings if f.code == "PVC-FULL")
    crash = next(f for f in report.findings if f.code == "POD-CRASHLOOP")
    assert full.root_cause and crash.caused_by == [full.id]
    assert any("No space left on device" in e and "pod mongodb-0" in e for e in full.evidence)


def test_a_pod_crashing_for_another_reason_is_not_blamed_on_a_filling_claim() -> None:
    b = scenario.platform(NOW)
    faults.crashloop(b, b.require("Pod", "mycure-production", "mongodb-0"))
    report = run(b, metric_set(**pvc_series(*MONGO, 99.0)))
    crash = next(f for f in report.findings if f.code == "POD-CRASHLOOP")
    # synth's mongodb crash log is a WiredTiger panic: that corruption leads the crash, the filling claim does not
    full = next(f for f in report.findings if f.code == "PVC-FULL")
    lead = next(f for f in report.findings if f.code == "POD-STORAGE-CORRUPTION")
    assert crash.caused_by == [lead.id] and lead.root_cause and lead.caused_by == [] and full.causes == []


def test_prometheus_disk_full_quotes_the_volume_usage_and_is_explained_by_it() -> None:
    b = mf.platform()
    mf.prometheus_disk_full(b)
    ms = metric_set(**pvc_series("monitoring", PROM_PVC, 99.6, cap_gib=50))
    ms.evaluated_at = b.now
    report = run(b, ms)
    disk = next(f for f in report.findings if f.code == "PROMETHEUS-DISK-FULL")
    assert any("49.8 GiB used of 50.0 GiB (99.6% full)" in e for e in disk.evidence), disk.evidence
    assert not any("not checked offline" in e for e in disk.evidence)
    full = next(f for f in report.findings if f.code == "PVC-FULL")
    assert full.root_cause and full.id in disk.caused_by


def test_node_use_maps_instance_addresses_to_nodes() -> None:
    b = scenario.platform(NOW)
    ip = next(a["address"] for a in b.require("Node", None, "k8s-worker-1")["status"]["addresses"] if a["type"] == "InternalIP")
    inst = {"instance": f"{ip}:9100", "job": "node-exporter"}
    ms = metric_set(node_cpu_percent=[(inst, 91.0)], node_memory_percent=[(inst, 50.0)],
                    node_filesystem_percent=[({**inst, "mountpoint": "/var/lib/longhorn", "device": "/dev/sdb"}, 83.0)])
    report = run(b, ms)
    got = sorted((f.code, f.severity, f.object.display()) for f in report.findings)
    assert got == [("NODE-CPU-HIGH", "warning", "Node k8s-worker-1"),
                   ("NODE-FILESYSTEM-FILLING", "warning", "Node k8s-worker-1")]
    snap = scenario.snapshot(b)
    assert node_name(snap, {"node": "k8s-worker-2"}) == "k8s-worker-2"
    assert node_name(snap, {"instance": "k8s-worker-3:9100"}) == "k8s-worker-3"


# ------------------------------------------------------------------------------------------ traffic


def _route(ns: str, name: str, rps: float, bad: float) -> dict[str, list]:
    lab = {"envoy_cluster_name": f"httproute/{ns}/{name}/rule/0"}
    return {"route_rps": [(lab, rps)], "route_5xx_rps": [(lab, rps * bad)] if bad else []}


def test_route_5xx_needs_traffic_to_mean_something() -> None:
    b = scenario.platform(NOW)
    assert run(b, metric_set(**_route("mycure-production", "api", 0.01, 1.0))).findings == []
    f = only(run(b, metric_set(**_route("mycure-production", "api", 5.0, 0.5))))
    assert f.code == "ROUTE-HIGH-5XX-RATE" and "50.0%" in f.title


def test_route_5xx_is_explained_by_its_crashing_backend() -> None:
    b = scenario.platform(NOW)
    for pod in scenario.live_pods(b, "Deployment", "api"):
        faults.crashloop(b, pod)
    report = run(b, metric_set(**_route("mycure-production", "api", 20.0, 0.6)))
    route = next(f for f in report.findings if f.code == "ROUTE-HIGH-5XX-RATE")
    assert not route.root_cause and route.caused_by, scenario.dump(report.findings)


def test_latency_above_the_largest_bucket_and_service_latency() -> None:
    b = scenario.platform(NOW)
    ms = metric_set(route_rps=[({"envoy_cluster_name": "httproute/lfh-staging/api/rule/0"}, 3.0)],
                    route_p95_ms=[({"envoy_cluster_name": "httproute/lfh-staging/api/rule/0"}, float("inf"))],
                    service_rps=[({"namespace": "lfh-staging", "service": "api"}, 3.0)],
                    service_p95_seconds=[({"namespace": "lfh-staging", "service": "api"}, 1.7)])
    got = sorted((f.code, f.title) for f in run(b, ms).findings)
    assert got == [("ROUTE-HIGH-LATENCY", "HTTPRoute lfh-staging/api: P95 latency is above the largest histogram bucket"),
                   ("SERVICE-HIGH-LATENCY", "Service lfh-staging/api: P95 latency is 1.70 s")]


# ------------------------------------------------------------------------------------------ certificates, targets, alerts


def test_certificate_not_in_the_snapshot_is_reported_from_the_metric() -> None:
    b = scenario.platform(NOW)
    expiry = (NOW + timedelta(days=5)).timestamp()
    f = only(run(b, metric_set(cert_expiry_timestamp=[({"namespace": "tenant", "name": "web-tls"}, expiry)])))
    assert (f.code, f.severity, f.object.display()) == ("CERT-EXPIRY-METRIC", "warning", "Certificate tenant/web-tls")
    assert any("not in the snapshot" in e for e in f.evidence)


def test_node_exporter_down_names_the_node_and_quotes_the_scrape_error() -> None:
    b = scenario.platform(NOW)
    lab = {"job": "node-exporter", "instance": "10.0.0.12:9100", "namespace": "monitoring",
           "service": "kube-prometheus-node-exporter"}
    ms = metric_set(targets_down=[(lab, 0.0)])
    ms.targets_down = [Target(lab, "http://10.0.0.12:9100/metrics", 'Get "http://10.0.0.12:9100/metrics": dial tcp '
                              "10.0.0.12:9100: connect: no route to host")]
    f = only(run(b, ms))
    node = node_name(scenario.snapshot(b), lab)
    assert (f.code, f.object.display()) == ("SCRAPE-TARGET-DOWN", f"Node {node}")
    assert any("no route to host" in e for e in f.evidence)


def test_alerts_map_to_objects_and_skip_what_is_explained() -> None:
    b = scenario.platform(NOW)
    faults.crashloop(b, b.require("Pod", "mycure-production", "mongodb-0"))
    ms = metric_set()
    ms.alerts = [
        Alert("Watchdog", {"alertname": "Watchdog", "severity": "none"}),
        Alert("PodCrashLooping", {"alertname": "PodCrashLooping", "severity": "critical",
                                  "namespace": "mycure-production", "pod": "mongodb-0"}),
        Alert("GatewayHighErrorRate", {"alertname": "GatewayHighErrorRate", "severity": "warning",
                                       "envoy_cluster_name": "httproute/lfh-staging/api/rule/0"}),
        Alert("TenantQueueBacklog", {"alertname": "TenantQueueBacklog", "severity": "warning", "namespace": "lfh-staging"},
              {"summary": "queue backlog above 1000"}),
    ]
    report = run(b, ms)
    alerts = sorted((f.object.display(), f.component, f.runbook) for f in report.findings if f.code == "ALERT-FIRING")
    assert alerts == [("HTTPRoute lfh-staging/api", "gateway", "app-unreachable"),
                      ("Namespace lfh-staging", "monitoring", None)]


def test_prometheus_storage_when_kubelet_stats_are_missing() -> None:
    b = scenario.platform(NOW)
    prom = {"namespace": "monitoring", "pod": "prometheus-kube-prometheus-prometheus-0"}
    ms = metric_set(prom_blocks_bytes=[(prom, 44 * GiB)], prom_wal_bytes=[(prom, 2 * GiB)],
                    prom_retention_limit_bytes=[(prom, 0.0)], prom_head_series=[(prom, 2.1e6)])
    f = only(run(b, ms))
    assert (f.code, f.severity, f.object.display()) == ("PROMETHEUS-STORAGE-FILLING", "critical",
                                                        "Prometheus monitoring/kube-prometheus-prometheus")
    assert any("46.0 GiB of the 50.0 GiB volume (92.0%)" in e for e in f.evidence), f.evidence
    assert any("retention limit" in e and "not set" in e for e in f.evidence)


def test_metric_lines_for_the_trace_hops() -> None:
    from sre_expert.domain.traffic_metrics import route_metric_lines, service_metric_lines

    b = scenario.platform(NOW)
    ms = metric_set(**_route("mycure-production", "api", 20.0, 0.1),
                    route_p95_ms=[({"envoy_cluster_name": "httproute/mycure-production/api/rule/0"}, 120.0)],
                    service_rps=[({"namespace": "mycure-production", "service": "api"}, 4.0)])
    snap = scenario.snapshot(b)
    assert route_metric_lines(snap, "mycure-production", "api") == []  # no metrics attached
    snap.metrics = ms
    assert route_metric_lines(snap, "mycure-production", "api") == [
        "metrics at 2026-11-26T03:00:00Z: 20.00 req/s through Envoy, 10.0% 5xx, P95 120 ms"]
    assert service_metric_lines(snap, "mycure-production", "api") == [
        "metrics at 2026-11-26T03:00:00Z: 4.00 req/s, 0.0% 5xx"]
    assert route_metric_lines(snap, "lfh-staging", "api") == [] and service_metric_lines(snap, "lfh-staging", "api") == []


def test_trace_quotes_the_route_and_service_metrics_on_their_hops() -> None:
    from sre_expert.diagnosis.trace import trace

    b = scenario.platform(NOW)
    svc = {"namespace": "mycure-production", "service": "api"}
    ms = metric_set(**_route("mycure-production", "api", 20.0, 0.25),
                    service_rps=[(svc, 19.0)], service_5xx_rps=[(svc, 4.75)], service_p95_seconds=[(svc, 1.8)])
    snap = scenario.snapshot(b)
    snap.metrics = ms
    result = trace(snap, "route/mycure-production/api")
    route_hop = next(h for h in result.hops if h.name == "route")
    svc_hop = next(h for h in result.hops if h.name == "service")
    assert any("20.00 req/s through Envoy" in e and "25.0% 5xx" in e for e in route_hop.evidence), route_hop.evidence
    assert any("19.00 req/s" in e and "P95 1.8" in e for e in svc_hop.evidence), svc_hop.evidence
    snap.metrics = None
    assert not any("req/s" in e for h in trace(snap, "route/mycure-production/api").hops for e in h.evidence)
