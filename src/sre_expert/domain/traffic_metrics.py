"""Traffic as the metrics show it: per-HTTPRoute request rate, 5xx share and slowest-rule P95 from Envoy
Gateway's cluster stats (clusters named httproute/<ns>/<name>/rule/<i>), and per-Service figures from the
apps' own metrics, with the number formats every metric line uses.

Shared by the metric checks (thresholds) and diagnosis.trace (one line per route and service hop).
Reads only snap.metrics; every function returns nothing when no metrics were attached.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict

from sre_expert.core.metric_set import MetricSet, Series
from sre_expert.core.snapshot import Snapshot

ROUTE_CLUSTER = re.compile(r"^httproute/([^/]+)/([^/]+)/rule/(\d+)")


def metrics_of(snap: Snapshot) -> MetricSet | None:
    ms = snap.metrics
    return ms if ms is not None and not ms.unavailable else None


def percent_text(v: float) -> str:
    return f"{v:.1f}%"


def seconds_text(v: float) -> str:
    if math.isinf(v):
        return "above the largest histogram bucket"
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s"


def evaluated_text(ms: MetricSet) -> str:
    return ms.evaluated_at.strftime("%Y-%m-%dT%H:%M:%SZ") if ms.evaluated_at else "?"


def by_labels(series: list[Series] | None, *keys: str) -> dict[tuple[str, ...], float]:
    return {tuple(s.labels.get(k, "") for k in keys): s.value for s in series or ()}


def _route_stats(snap: Snapshot) -> dict[tuple[str, str], tuple[float, float, tuple[float, str] | None]]:
    """(namespace, route) -> (req/s, 5xx req/s, (slowest rule's P95 ms, its cluster) or None)."""
    ms = metrics_of(snap)
    if ms is None or ms.series("route_rps") is None:
        return {}
    total: dict[tuple[str, str], float] = defaultdict(float)
    errors: dict[tuple[str, str], float] = defaultdict(float)
    p95: dict[tuple[str, str], tuple[float, str]] = {}
    for qname, acc in (("route_rps", total), ("route_5xx_rps", errors)):
        for s in ms.series(qname) or ():
            m = ROUTE_CLUSTER.match(s.labels.get("envoy_cluster_name", ""))
            if m:
                acc[(m.group(1), m.group(2))] += s.value  # a route's rules are one route to its users
    for s in ms.series("route_p95_ms") or ():
        m = ROUTE_CLUSTER.match(s.labels.get("envoy_cluster_name", ""))
        if m is None:
            continue
        k = (m.group(1), m.group(2))
        if k not in p95 or s.value > p95[k][0]:  # the slowest rule speaks for the route
            p95[k] = (s.value, s.labels["envoy_cluster_name"])
    return {k: (rps, errors.get(k, 0.0), p95.get(k)) for k, rps in total.items()}


def route_stats_of(snap: Snapshot) -> dict[tuple[str, str], tuple[float, float, tuple[float, str] | None]]:
    return snap.memo(f"metrics.route_stats.{id(snap.metrics)}", _route_stats)  # per MetricSet attached


def route_metric_lines(snap: Snapshot, ns: str, name: str) -> list[str]:
    """What the metrics say about one HTTPRoute's traffic, for the trace's route hop ([] without metrics)."""
    stats = route_stats_of(snap).get((ns, name))
    if stats is None:
        return []
    rps, err, p95 = stats
    ms = snap.metrics
    line = f"metrics at {evaluated_text(ms) if ms else '?'}: {rps:.2f} req/s through Envoy"
    if rps > 0:
        line += f", {percent_text(err / rps * 100)} 5xx"
    if p95 is not None:
        line += f", P95 {seconds_text(p95[0] / 1000)}"
    return [line]


def service_metric_lines(snap: Snapshot, ns: str, name: str) -> list[str]:
    """What the apps' own metrics say about one Service, for the trace's service hop."""
    ms = metrics_of(snap)
    if ms is None:
        return []
    rps = by_labels(ms.series("service_rps"), "namespace", "service").get((ns, name))
    if rps is None:
        return []
    err = by_labels(ms.series("service_5xx_rps"), "namespace", "service").get((ns, name), 0.0)
    lat = by_labels(ms.series("service_p95_seconds"), "namespace", "service").get((ns, name))
    line = f"metrics at {evaluated_text(ms)}: {rps:.2f} req/s" + (f", {percent_text(err / rps * 100)} 5xx" if rps > 0 else "")
    return [line + (f", P95 {seconds_text(lat)}" if lat is not None else "")]
