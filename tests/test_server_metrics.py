"""`serve`'s /metrics (edges/webhook/service_metrics.py): the names, types and labels dashboards and alerts rely
on, read back with prometheus-client's own parser; one registry per server."""

from __future__ import annotations

import subprocess

import programs
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from sre_expert.edges.webhook.service_metrics import LATENCY_BUCKETS, Metrics

pytestmark = pytest.mark.unit


def _busy() -> Metrics:
    """A server's metrics after some traffic: two webhooks (3 alerts), a rejected one, runs and notifications."""
    m = Metrics()
    m.received(2)
    m.received(1)
    m.rejected()
    m.finished("done")
    m.finished("failed")
    m.finished("done")
    m.notified("slack", True)
    m.notified("webhook", False)
    for seconds in (0.0004, 0.003, 0.7, 9.0):
        m.observe_webhook(seconds)
    return m


def _families(text: str) -> dict[str, tuple[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]]:
    return {f.name: (f.type, {(s.name, tuple(sorted(s.labels.items()))): s.value for s in f.samples})
            for f in text_string_to_metric_families(text)}


def test_names_types_labels_and_values() -> None:
    fams = _families(_busy().render({"done": 4, "pending": 1}))
    assert {name: kind for name, (kind, _) in fams.items()} == {
        "sre_expert_alerts_received": "counter",
        "sre_expert_webhooks": "counter",
        "sre_expert_investigation_runs": "counter",
        "sre_expert_notifications": "counter",
        "sre_expert_webhook_duration_seconds": "histogram",
        "sre_expert_investigations": "gauge",
    }
    assert fams["sre_expert_alerts_received"][1] == {("sre_expert_alerts_received_total", ()): 3.0}
    assert fams["sre_expert_webhooks"][1] == {("sre_expert_webhooks_total", (("result", "accepted"),)): 2.0,
                                             ("sre_expert_webhooks_total", (("result", "rejected"),)): 1.0}
    assert fams["sre_expert_investigation_runs"][1] == {
        ("sre_expert_investigation_runs_total", (("status", "done"),)): 2.0,
        ("sre_expert_investigation_runs_total", (("status", "failed"),)): 1.0}
    notes = fams["sre_expert_notifications"][1]
    assert notes == {("sre_expert_notifications_total", (("result", r), ("target", t))): n
                     for (t, r), n in {("slack", "sent"): 1.0, ("slack", "failed"): 0.0,
                                       ("webhook", "sent"): 0.0, ("webhook", "failed"): 1.0}.items()}
    assert fams["sre_expert_investigations"][1] == {("sre_expert_investigations", (("status", "done"),)): 4.0,
                                                   ("sre_expert_investigations", (("status", "pending"),)): 1.0}
    hist = fams["sre_expert_webhook_duration_seconds"][1]
    buckets = {dict(labels)["le"]: v for (name, labels), v in hist.items() if name.endswith("_bucket")}
    assert list(buckets) == [*(str(b) for b in LATENCY_BUCKETS), "+Inf"]
    assert (buckets["0.001"], buckets["0.005"], buckets["1.0"], buckets["5.0"], buckets["+Inf"]) == (1, 2, 3, 3, 4)
    assert hist[("sre_expert_webhook_duration_seconds_count", ())] == 4
    assert hist[("sre_expert_webhook_duration_seconds_sum", ())] == pytest.approx(9.7034)


def test_no_created_series_and_zero_outcomes_before_traffic() -> None:
    """A fresh server exports every outcome at 0 (so rate() sees the first increase) and no `_created` series."""
    text = Metrics().render({})
    assert "_created" not in text
    fams = _families(text)
    assert set(fams["sre_expert_webhooks"][1].values()) == {0.0}
    assert len(fams["sre_expert_notifications"][1]) == 4
    assert fams["sre_expert_investigations"][1] == {}


def test_each_server_counts_in_its_own_registry() -> None:
    """Two apps in one process: neither sees the other's counts, and the process-wide registry stays empty of
    them (a second Metrics() would raise 'Duplicated timeseries' if they shared one)."""
    a, b = Metrics(), Metrics()
    a.received(5)
    assert _families(a.render({}))["sre_expert_alerts_received"][1] == {("sre_expert_alerts_received_total", ()): 5.0}
    assert _families(b.render({}))["sre_expert_alerts_received"][1] == {("sre_expert_alerts_received_total", ()): 0.0}
    assert REGISTRY.get_sample_value("sre_expert_alerts_received_total") is None


@pytest.mark.e2e
@pytest.mark.needs("promtool")
def test_promtool_accepts_the_exposition() -> None:
    lint = subprocess.run([programs.path("promtool"), "check", "metrics"], input=_busy().render({"done": 1}),
                          capture_output=True, text=True, timeout=30, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
