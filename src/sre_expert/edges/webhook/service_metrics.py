"""The server's Prometheus metrics, counted by prometheus-client in a registry of this server's own (not the
process-wide one, so several apps in one process, tests among them, never share or collide). The investigation
gauge is read from the store at scrape time so it survives restarts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# the outcomes exported at 0 before they first happen (a rate() over a series that appears late misses its start)
WEBHOOK_RESULTS = ("accepted", "rejected")
RUN_OUTCOMES = ("done", "failed")
NOTIFY_TARGETS = ("slack", "webhook")
NOTIFY_RESULTS = ("sent", "failed")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._alerts = Counter("sre_expert_alerts_received", "Alerts received through the Alertmanager webhook.",
                               registry=r)
        self._webhooks = Counter("sre_expert_webhooks", "Webhook requests by result.", ["result"], registry=r)
        self._runs = Counter("sre_expert_investigation_runs",
                             "Investigation runs by outcome (a re-investigation counts again).", ["status"], registry=r)
        self._notifications = Counter("sre_expert_notifications", "Notification attempts by target and result.",
                                      ["target", "result"], registry=r)
        self._duration = Histogram("sre_expert_webhook_duration_seconds",
                                   "Time from webhook request to committed alerts.", buckets=LATENCY_BUCKETS,
                                   registry=r)
        for result in WEBHOOK_RESULTS:
            self._webhooks.labels(result)
        for status in RUN_OUTCOMES:
            self._runs.labels(status)
        for target in NOTIFY_TARGETS:
            for outcome in NOTIFY_RESULTS:
                self._notifications.labels(target, outcome)

    def received(self, alerts: int) -> None:
        self._alerts.inc(alerts)
        self._webhooks.labels("accepted").inc()

    def rejected(self) -> None:
        self._webhooks.labels("rejected").inc()

    def notified(self, target: str, ok: bool) -> None:
        self._notifications.labels(target, "sent" if ok else "failed").inc()

    def finished(self, status: str) -> None:
        self._runs.labels(status).inc()

    def observe_webhook(self, seconds: float) -> None:
        self._duration.observe(seconds)

    def render(self, investigations: Mapping[str, int]) -> str:
        """The text exposition format (0.0.4) of every metric, with `investigations` (status → count) as the
        gauge."""
        gauge = GaugeMetricFamily("sre_expert_investigations", "Investigations in the database by status.",
                                  labels=["status"])
        for status, n in sorted(investigations.items()):
            gauge.add_metric([status], n)
        return generate_latest(_Scrape(self.registry, gauge)).decode()


class _Scrape(Collector):
    """One scrape's collector: the registry's families without the `_created` series (they would add metric
    names the server never exported; prometheus-client can drop them only process-wide), then the gauge."""

    def __init__(self, registry: CollectorRegistry, gauge: Metric) -> None:
        self._registry = registry
        self._gauge = gauge

    def collect(self) -> Iterator[Metric]:
        for family in self._registry.collect():
            family.samples = [s for s in family.samples if not s.name.endswith("_created")]
            yield family
        yield self._gauge
