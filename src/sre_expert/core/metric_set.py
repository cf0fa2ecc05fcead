"""Metrics of one instant: the answers of a fixed set of named PromQL queries, as plain data.

Why a fixed set: checks must be pure functions of the snapshot, so the metric facts they read are
evaluated once, at one time, by the source (sources/prometheus.py) and carried here — in memory for a
live run, or as `metrics/metrics.json` inside a bundle. Each query records whether it answered (`ok`),
found nothing because its metric does not exist in that Prometheus (`missing`), or failed (`error`), so a
check never mistakes an absent metric for a healthy one: absent and failed queries become "not checked".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sre_expert.core.timeutil import parse_time

OK, MISSING, ERROR = "ok", "missing", "error"
FORMAT = "sre-expert/metrics/v1"


@dataclass(frozen=True, slots=True)
class Query:
    """A named PromQL query. `metric` is what its absence is blamed on; with `empty_ok`, an empty answer
    is healthy (no 5xx, no target down) and only an error makes it "not checked"."""

    name: str
    promql: str
    what: str
    metric: str
    empty_ok: bool = False


_FS = 'fstype!~"tmpfs|overlay|squashfs"'
QUERIES: tuple[Query, ...] = (
    Query("node_cpu_percent", '100 - (avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100)',
          "node CPU use", "node_cpu_seconds_total"),
    Query("node_memory_percent", "(1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes) * 100",
          "node memory use", "node_memory_MemAvailable_bytes"),
    Query("node_filesystem_percent",
          f"(1 - node_filesystem_avail_bytes{{{_FS}}} / node_filesystem_size_bytes{{{_FS}}}) * 100",
          "node filesystem use", "node_filesystem_avail_bytes"),
    Query("pvc_percent", "kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes * 100",
          "PersistentVolumeClaim fill", "kubelet_volume_stats_used_bytes"),
    Query("pvc_used_bytes", "kubelet_volume_stats_used_bytes", "PersistentVolumeClaim fill",
          "kubelet_volume_stats_used_bytes"),
    Query("pvc_capacity_bytes", "kubelet_volume_stats_capacity_bytes", "PersistentVolumeClaim fill",
          "kubelet_volume_stats_capacity_bytes"),
    Query("route_rps", "sum by (envoy_cluster_name) (rate(envoy_cluster_upstream_rq_total[5m]))",
          "HTTPRoute 5xx rate and latency (Envoy Gateway)", "envoy_cluster_upstream_rq_total"),
    Query("route_5xx_rps",
          'sum by (envoy_cluster_name) (rate(envoy_cluster_upstream_rq_xx{envoy_response_code_class="5"}[5m]))',
          "HTTPRoute 5xx rate (Envoy Gateway)", "envoy_cluster_upstream_rq_xx", empty_ok=True),
    Query("route_p95_ms",
          "histogram_quantile(0.95, sum by (envoy_cluster_name, le) (rate(envoy_cluster_upstream_rq_time_bucket[5m])))",
          "HTTPRoute P95 latency (Envoy Gateway)", "envoy_cluster_upstream_rq_time_bucket"),
    Query("service_rps", "sum by (namespace, service) (rate(http_requests_total[5m]))",
          "Service 5xx rate (app metrics)", "http_requests_total"),
    Query("service_5xx_rps", 'sum by (namespace, service) (rate(http_requests_total{status=~"5.."}[5m]))',
          "Service 5xx rate (app metrics)", "http_requests_total", empty_ok=True),
    Query("service_p95_seconds",
          "histogram_quantile(0.95, sum by (namespace, service, le) (rate(http_request_duration_seconds_bucket[5m])))",
          "Service P95 latency (app metrics)", "http_request_duration_seconds_bucket"),
    Query("cert_expiry_timestamp", "certmanager_certificate_expiration_timestamp_seconds",
          "certificate expiry (cert-manager metrics)", "certmanager_certificate_expiration_timestamp_seconds"),
    Query("targets_per_job", "count by (job) (up)", "scrape targets", "up"),
    Query("targets_down", "up == 0", "scrape targets", "up", empty_ok=True),
    Query("alerts_firing", 'ALERTS{alertstate="firing"}', "firing alerts", "ALERTS", empty_ok=True),
    Query("prom_blocks_bytes", "prometheus_tsdb_storage_blocks_bytes", "Prometheus storage",
          "prometheus_tsdb_storage_blocks_bytes"),
    Query("prom_wal_bytes", "prometheus_tsdb_wal_storage_size_bytes", "Prometheus storage",
          "prometheus_tsdb_wal_storage_size_bytes"),
    Query("prom_retention_limit_bytes", "prometheus_tsdb_retention_limit_bytes", "Prometheus storage",
          "prometheus_tsdb_retention_limit_bytes"),
    Query("prom_head_series", "prometheus_tsdb_head_series", "Prometheus storage", "prometheus_tsdb_head_series"),
)
QUERY_BY_NAME = {q.name: q for q in QUERIES}


@dataclass(slots=True)
class Series:
    labels: dict[str, str]
    value: float


@dataclass(slots=True)
class QueryResult:
    status: str  # ok | missing | error
    series: list[Series] = field(default_factory=list)
    error: str = ""
    dropped: int = 0  # series beyond the cap, not kept


@dataclass(slots=True)
class Alert:
    """A firing alert as Prometheus's /api/v1/alerts (or the ALERTS series) reports it."""

    name: str
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    active_at: str = ""
    value: str = ""


@dataclass(slots=True)
class Target:
    """A scrape target that is down, from /api/v1/targets."""

    labels: dict[str, str]
    scrape_url: str = ""
    last_error: str = ""
    last_scrape: str = ""


@dataclass(slots=True)
class MetricSet:
    """Answers of QUERIES at `evaluated_at` from `source`, plus Prometheus's own view of alerts and targets.

    `unavailable` says why there is no usable metrics source at all (then nothing else is set): the
    diagnosis turns it into one "not checked" line instead of silently passing the metric checks.
    `alerts` / `targets_down` are None when they were not read (`alerts_error` / `targets_error` say why).
    """

    source: str
    evaluated_at: datetime | None
    results: dict[str, QueryResult] = field(default_factory=dict)
    alerts: list[Alert] | None = None
    alerts_error: str = ""
    targets_down: list[Target] | None = None
    targets_total: int = 0
    targets_error: str = ""
    warnings: list[str] = field(default_factory=list)
    unavailable: str = ""

    @classmethod
    def absent(cls, reason: str, source: str = "") -> MetricSet:
        return cls(source=source, evaluated_at=None, unavailable=reason)

    def series(self, name: str) -> list[Series] | None:
        """The series of a query that answered, else None (missing, failed, or not run)."""
        r = self.results.get(name)
        return r.series if r is not None and r.status == OK else None

    def not_checked(self) -> list[str]:
        """One line per metric fact that could not be judged: absent metric, failed query, unread API."""
        if self.unavailable:
            return [f"metrics: {self.unavailable}"]
        out: list[str] = []
        for q in QUERIES:
            r = self.results.get(q.name)
            if r is None:
                line = f"metrics: not checked: {q.what} (query {q.name} was not run)"
            elif r.status == MISSING:
                line = f"metrics: not checked: {q.what} (metric {q.metric} not found in Prometheus)"
            elif r.status == ERROR:
                line = f"metrics: not checked: {q.what} (query failed: {r.error})"
            else:
                continue
            if line not in out:
                out.append(line)
        if self.alerts_error:
            out.append(f"metrics: not checked: Prometheus alerts API ({self.alerts_error})")
        if self.targets_error:
            out.append(f"metrics: not checked: Prometheus targets API ({self.targets_error})")
        return out

    # --- JSON -------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "source": self.source,
            "evaluatedAt": _ts(self.evaluated_at),
            "unavailable": self.unavailable,
            "queries": {
                name: {
                    "promql": QUERY_BY_NAME[name].promql if name in QUERY_BY_NAME else "",
                    "status": r.status,
                    "error": r.error,
                    "dropped": r.dropped,
                    "series": [{"labels": s.labels, "value": _num(s.value)} for s in r.series],
                }
                for name, r in self.results.items()
            },
            "alerts": None if self.alerts is None else [
                {"name": a.name, "labels": a.labels, "annotations": a.annotations, "activeAt": a.active_at,
                 "value": a.value} for a in self.alerts],
            "alertsError": self.alerts_error,
            "targetsDown": None if self.targets_down is None else [
                {"labels": t.labels, "scrapeUrl": t.scrape_url, "lastError": t.last_error,
                 "lastScrape": t.last_scrape} for t in self.targets_down],
            "targetsTotal": self.targets_total,
            "targetsError": self.targets_error,
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> MetricSet:
        """Inverse of to_json. Raises ValueError on a document that is not a metric set."""
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError(f"not a metric set (format must be {FORMAT!r})")
        results: dict[str, QueryResult] = {}
        for name, q in (doc.get("queries") or {}).items():
            status = q.get("status")
            if status not in (OK, MISSING, ERROR):
                raise ValueError(f"query {name}: bad status {status!r}")
            results[str(name)] = QueryResult(
                status, [Series({str(k): str(v) for k, v in (s.get("labels") or {}).items()}, float(s["value"]))
                         for s in q.get("series") or ()],
                str(q.get("error") or ""), int(q.get("dropped") or 0))
        alerts = doc.get("alerts")
        targets = doc.get("targetsDown")
        return cls(
            source=str(doc.get("source") or ""),
            evaluated_at=parse_time(doc.get("evaluatedAt")),
            results=results,
            alerts=None if alerts is None else [
                Alert(str(a["name"]), dict(a.get("labels") or {}), dict(a.get("annotations") or {}),
                      str(a.get("activeAt") or ""), str(a.get("value") or "")) for a in alerts],
            alerts_error=str(doc.get("alertsError") or ""),
            targets_down=None if targets is None else [
                Target(dict(t.get("labels") or {}), str(t.get("scrapeUrl") or ""), str(t.get("lastError") or ""),
                       str(t.get("lastScrape") or "")) for t in targets],
            targets_total=int(doc.get("targetsTotal") or 0),
            targets_error=str(doc.get("targetsError") or ""),
            warnings=[str(w) for w in doc.get("warnings") or ()],
            unavailable=str(doc.get("unavailable") or ""),
        )


def _num(v: float) -> float | str:
    """JSON has no infinities; Prometheus spells them +Inf/-Inf, which float() reads back."""
    return v if math.isfinite(v) else ("+Inf" if v > 0 else "-Inf")


def _ts(t: datetime | None) -> str | None:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if t else None
