"""Prometheus text-format metrics of the server, without a client library (a few counters and one
histogram; the investigation gauge is read from the store at scrape time so it survives restarts)."""

from __future__ import annotations

import threading
from collections.abc import Mapping

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.alerts_received = 0
        self.webhooks = {"accepted": 0, "rejected": 0}
        self.notifications: dict[tuple[str, str], int] = {}
        self.runs = {"done": 0, "failed": 0}
        self._buckets = [0] * len(LATENCY_BUCKETS)
        self._count = 0
        self._sum = 0.0

    def received(self, alerts: int) -> None:
        with self._lock:
            self.alerts_received += alerts
            self.webhooks["accepted"] += 1

    def rejected(self) -> None:
        with self._lock:
            self.webhooks["rejected"] += 1

    def notified(self, target: str, ok: bool) -> None:
        key = (target, "sent" if ok else "failed")
        with self._lock:
            self.notifications[key] = self.notifications.get(key, 0) + 1

    def finished(self, status: str) -> None:
        with self._lock:
            self.runs[status] = self.runs.get(status, 0) + 1

    def observe_webhook(self, seconds: float) -> None:
        with self._lock:
            self._count += 1
            self._sum += seconds
            for i, le in enumerate(LATENCY_BUCKETS):
                if seconds <= le:
                    self._buckets[i] += 1

    def render(self, investigations: Mapping[str, int]) -> str:
        with self._lock:
            lines = [
                "# HELP sre_expert_alerts_received_total Alerts received through the Alertmanager webhook.",
                "# TYPE sre_expert_alerts_received_total counter",
                f"sre_expert_alerts_received_total {self.alerts_received}",
                "# HELP sre_expert_webhooks_total Webhook requests by result.",
                "# TYPE sre_expert_webhooks_total counter",
                *(f'sre_expert_webhooks_total{{result="{k}"}} {v}' for k, v in sorted(self.webhooks.items())),
                "# HELP sre_expert_investigations Investigations in the database by status.",
                "# TYPE sre_expert_investigations gauge",
                *(f'sre_expert_investigations{{status="{k}"}} {v}' for k, v in sorted(investigations.items())),
                "# HELP sre_expert_investigation_runs_total Investigation runs by outcome (a re-investigation counts again).",
                "# TYPE sre_expert_investigation_runs_total counter",
                *(f'sre_expert_investigation_runs_total{{status="{k}"}} {v}' for k, v in sorted(self.runs.items())),
                "# HELP sre_expert_notifications_total Notification attempts by target and result.",
                "# TYPE sre_expert_notifications_total counter",
            ]
            for target in ("slack", "webhook"):
                for result in ("sent", "failed"):
                    n = self.notifications.get((target, result), 0)
                    lines.append(f'sre_expert_notifications_total{{target="{target}",result="{result}"}} {n}')
            lines += [
                "# HELP sre_expert_webhook_duration_seconds Time from webhook request to committed alerts.",
                "# TYPE sre_expert_webhook_duration_seconds histogram",
            ]
            for le, n in zip(LATENCY_BUCKETS, self._buckets, strict=True):
                lines.append(f'sre_expert_webhook_duration_seconds_bucket{{le="{le}"}} {n}')
            lines += [
                f'sre_expert_webhook_duration_seconds_bucket{{le="+Inf"}} {self._count}',
                f"sre_expert_webhook_duration_seconds_sum {self._sum:.6f}",
                f"sre_expert_webhook_duration_seconds_count {self._count}",
            ]
        return "\n".join(lines) + "\n"
