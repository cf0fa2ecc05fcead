"""A real Prometheus (found by tests/programs.py) holding backfilled metrics of the synthetic platform.

How: for each scenario ("window") a 15-minute stretch of samples is written as OpenMetrics text — the
series kube-prometheus, the kubelet, Envoy Gateway, cert-manager and the apps expose, for the objects
of the synth platform built at the window's end — then `promtool tsdb create-blocks-from openmetrics`
turns the file into TSDB blocks and Prometheus is started on them. A test snapshots the platform at
the window's end and queries Prometheus at that instant, so each scenario sees only its own values.
Windows lie in the last few hours of the wall clock (older blocks would fall out of retention); the
last one ends now, where a real alert rule (from knowledge/alerts.yaml, `for` set to 0s) is evaluated.
"""

from __future__ import annotations

import copy
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import programs
import yaml

from sre_expert.knowledge.alert_catalogue import alert_rule
from synth.builder import PlatformBuilder
from synth.platform import healthy_platform

PROMETHEUS = programs.path("prometheus")
PROMTOOL = programs.path("promtool")
STEP = 15  # seconds between samples
SPAN = 15 * 60  # seconds of samples per window
GAP = timedelta(minutes=20)  # between window ends: more than rate()'s 5m range plus the 5m lookback
GiB = 1 << 30

ENVOY_BUCKETS_MS = (0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000)
HTTP_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


@dataclass
class Faults:
    """What is wrong in a window's metrics (defaults: a healthy platform)."""

    pvc_percent: dict[tuple[str, str], float] = field(default_factory=dict)  # (ns, claim) -> % full
    node_fs_percent: dict[str, float] = field(default_factory=dict)  # node -> % of / used
    route_5xx: dict[tuple[str, str], float] = field(default_factory=dict)  # (ns, route) -> fraction
    route_p95_slow: set[tuple[str, str]] = field(default_factory=set)  # P95 exactly 2500 ms
    service_5xx: dict[tuple[str, str], float] = field(default_factory=dict)
    cert_expires_in: dict[tuple[str, str], timedelta] = field(default_factory=dict)
    targets_down: set[str] = field(default_factory=set)  # pod names whose scrape fails
    alerts: list[dict[str, str]] = field(default_factory=list)  # ALERTS series (rule results) to write
    restarting_pods: set[tuple[str, str]] = field(default_factory=set)  # (ns, pod) restarting every minute
    prom_blocks_gib: float = 10.0
    prom_retention_gib: float = 0.0  # 0: retentionSize not set
    only: tuple[str, ...] = ()  # when set, only metric names starting with one of these are written


@dataclass
class Window:
    name: str
    end: datetime
    faults: Faults

    def platform(self) -> PlatformBuilder:
        return healthy_platform(PlatformBuilder(self.end))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------------------------------ series


class Writer:
    """Accumulates samples per metric name (OpenMetrics wants each family's lines together)."""

    def __init__(self) -> None:
        self.families: dict[str, list[str]] = defaultdict(list)
        self.samples = 0

    def series(self, name: str, labels: dict[str, str], values: list[tuple[float, float]]) -> None:
        lab = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        lines = self.families[name]
        for t, v in values:
            lines.append(f"{name}{{{lab}}} {v:.6f} {t:.3f}")
        self.samples += len(values)

    def text(self) -> str:
        out = []
        for name in sorted(self.families):
            out.extend(self.families[name])
        out.append("# EOF")
        return "\n".join(out) + "\n"


def _times(end: datetime) -> list[float]:
    e = end.timestamp()
    return [e - SPAN + i * STEP for i in range(SPAN // STEP + 1)]


def _gauge(ts: list[float], v: float) -> list[tuple[float, float]]:
    return [(t, v) for t in ts]


def _counter(ts: list[float], rate: float, base: float = 1000.0) -> list[tuple[float, float]]:
    return [(t, base + rate * (t - ts[0])) for t in ts]


def _node_ip(node: dict[str, Any]) -> str:
    return next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")


def write_window(w: Writer, win: Window, b: PlatformBuilder) -> None:
    f = win.faults
    ts = _times(win.end)
    keep = (lambda n: any(n.startswith(p) for p in f.only)) if f.only else (lambda n: True)

    def series(name: str, labels: dict[str, str], values: list[tuple[float, float]]) -> None:
        if keep(name):
            w.series(name, labels, values)

    # node-exporter, per node
    for node in b.list("Node"):
        name = node["metadata"]["name"]
        ip = _node_ip(node)
        base = {"job": "node-exporter", "instance": f"{ip}:9100", "namespace": "monitoring",
                "service": "kube-prometheus-node-exporter", "container": "node-exporter"}
        for cpu in ("0", "1"):
            series("node_cpu_seconds_total", {**base, "cpu": cpu, "mode": "idle"}, _counter(ts, 0.8))
            series("node_cpu_seconds_total", {**base, "cpu": cpu, "mode": "user"}, _counter(ts, 0.15))
        series("node_memory_MemTotal_bytes", base, _gauge(ts, 16 * GiB))
        series("node_memory_MemAvailable_bytes", base, _gauge(ts, 9 * GiB))
        used = f.node_fs_percent.get(name, 45.0) / 100
        root = {**base, "device": "/dev/sda1", "fstype": "ext4", "mountpoint": "/"}
        series("node_filesystem_size_bytes", root, _gauge(ts, 100 * GiB))
        series("node_filesystem_avail_bytes", root, _gauge(ts, 100 * GiB * (1 - used)))
        run = {**base, "device": "tmpfs", "fstype": "tmpfs", "mountpoint": "/run"}  # full tmpfs: not a disk
        series("node_filesystem_size_bytes", run, _gauge(ts, GiB))
        series("node_filesystem_avail_bytes", run, _gauge(ts, 0.01 * GiB))
        series("up", base, _gauge(ts, 1))
        series("up", {"job": "kubelet", "instance": f"{ip}:10250", "node": name, "namespace": "kube-system",
                      "service": "kube-prometheus-kubelet", "metrics_path": "/metrics"}, _gauge(ts, 1))

    # kubelet volume stats, per bound claim
    for pvc in b.list("PersistentVolumeClaim"):
        md = pvc["metadata"]
        ns, claim = md["namespace"], md["name"]
        cap = float(int(pvc["status"]["capacity"]["storage"].removesuffix("Gi")) * GiB)
        pct = f.pvc_percent.get((ns, claim), 40.0)
        users = [p for p in b.list("Pod", ns) if any((v.get("persistentVolumeClaim") or {}).get("claimName") == claim
                                                     for v in p["spec"].get("volumes") or ())]
        node = users[0]["spec"]["nodeName"] if users else "k8s-worker-1"
        lab = {"job": "kubelet", "namespace": ns, "persistentvolumeclaim": claim, "node": node,
               "instance": f"{_node_ip(b.require('Node', None, node))}:10250", "metrics_path": "/metrics"}
        series("kubelet_volume_stats_capacity_bytes", lab, _gauge(ts, cap))
        series("kubelet_volume_stats_used_bytes", lab, _gauge(ts, cap * pct / 100))

    # Envoy Gateway: one cluster per route rule
    envoy = {"job": "envoy-gateway-proxy", "namespace": "envoy-gateway-system",
             "pod": "envoy-gateway-system-shared-gateway-c6f444b3-7d9c8b5f4-x2x9k"}
    for route in b.list("HTTPRoute"):
        ns, name = route["metadata"]["namespace"], route["metadata"]["name"]
        for i, _ in enumerate(route["spec"]["rules"]):
            lab = {**envoy, "envoy_cluster_name": f"httproute/{ns}/{name}/rule/{i}"}
            rps = 20.0
            bad = f.route_5xx.get((ns, name), 0.002)
            series("envoy_cluster_upstream_rq_total", lab, _counter(ts, rps))
            series("envoy_cluster_upstream_rq_xx", {**lab, "envoy_response_code_class": "2"}, _counter(ts, rps * (1 - bad)))
            series("envoy_cluster_upstream_rq_xx", {**lab, "envoy_response_code_class": "5"}, _counter(ts, rps * bad))
            # cumulative share of requests at or below each bucket: P95 100 ms healthy, 2500 ms slow
            shares = {100: 0.95, 250: 1.0} if (ns, name) not in f.route_p95_slow else {1000: 0.5, 2500: 0.95, 5000: 1.0}
            for le in (*ENVOY_BUCKETS_MS, float("inf")):
                share = max((s for bound, s in shares.items() if le >= bound), default=0.0)
                series("envoy_cluster_upstream_rq_time_bucket", {**lab, "le": "+Inf" if le == float("inf") else f"{le:g}"},
                       _counter(ts, rps * share))

    series("up", {**envoy, "instance": "10.244.2.31:19001", "service": "envoy-gateway-system-shared-gateway-c6f444b3"},
           _gauge(ts, 1))

    # the apps' own metrics and scrape targets, per api pod
    for ns in ("mycure-production", "lfh-staging"):
        for pod in b.list("Pod", ns):
            pname = pod["metadata"]["name"]
            if (pod["metadata"].get("labels") or {}).get("app.kubernetes.io/name") != "api":
                continue
            lab = {"job": "api", "namespace": ns, "service": "api", "pod": pname,
                   "instance": f"{pod['status'].get('podIP', '10.244.0.1')}:8080"}
            bad = f.service_5xx.get((ns, "api"), 0.001)
            series("http_requests_total", {**lab, "status": "200", "method": "GET"}, _counter(ts, 10 * (1 - bad)))
            series("http_requests_total", {**lab, "status": "500", "method": "GET"}, _counter(ts, 10 * bad))
            for le in (*HTTP_BUCKETS_S, float("inf")):
                share = 0.0 if le < 0.1 else (0.96 if le < 0.25 else 1.0)
                series("http_request_duration_seconds_bucket", {**lab, "le": "+Inf" if le == float("inf") else f"{le:g}"},
                       _counter(ts, 10 * share))
            series("up", lab, _gauge(ts, 0 if pname in f.targets_down else 1))

    # cert-manager's exporter
    for cert in b.list("Certificate"):
        ns, name = cert["metadata"]["namespace"], cert["metadata"]["name"]
        if (ns, name) in f.cert_expires_in:
            expiry = (win.end + f.cert_expires_in[(ns, name)]).timestamp()
        else:
            expiry = datetime.fromisoformat(cert["status"]["notAfter"].replace("Z", "+00:00")).timestamp()
        ref = cert["spec"]["issuerRef"]
        series("certmanager_certificate_expiration_timestamp_seconds",
               {"job": "cert-manager", "namespace": ns, "name": name, "issuer_name": ref["name"],
                "issuer_kind": ref["kind"], "issuer_group": ref["group"]}, _gauge(ts, expiry))

    # Prometheus's own TSDB
    prom = {"job": "kube-prometheus-prometheus", "namespace": "monitoring", "service": "kube-prometheus-prometheus",
            "pod": "prometheus-kube-prometheus-prometheus-0", "instance": "10.244.3.20:9090", "container": "prometheus"}
    series("prometheus_tsdb_storage_blocks_bytes", prom, _gauge(ts, f.prom_blocks_gib * GiB))
    series("prometheus_tsdb_wal_storage_size_bytes", prom, _gauge(ts, 0.5 * GiB))
    series("prometheus_tsdb_retention_limit_bytes", prom, _gauge(ts, f.prom_retention_gib * GiB))
    series("prometheus_tsdb_head_series", prom, _gauge(ts, 180000))

    # kube-state-metrics restarts (the live alert rule reads them)
    for ns, pname in sorted(f.restarting_pods):
        series("kube_pod_container_status_restarts_total",
               {"job": "kube-state-metrics", "namespace": ns, "pod": pname, "container": "api"},
               [(t, float(int((t - ts[0]) // 60))) for t in ts])

    # results of alert rules Prometheus evaluated then
    for labels in f.alerts:
        series("ALERTS", {**labels, "alertstate": "firing"}, _gauge(ts, 1))


# ------------------------------------------------------------------------------------------ the server


@dataclass
class PromServer:
    url: str
    windows: dict[str, Window]
    samples: int
    build_seconds: float


def _rule_file(path: Path, alert: str) -> None:
    """One platform rule exactly as alerts.yaml has it, except `for: 0s` so it fires on the first evaluation."""
    rule = alert_rule(alert)
    assert rule is not None, alert
    r = rule.prometheus_rule()
    r["for"] = "0s"
    path.write_text(yaml.safe_dump({"groups": [{"name": "test", "interval": "1s", "rules": [r]}]}))


@contextmanager
def prometheus(windows: list[Window], live_alert: str | None = None,
               alertmanager: str | None = None) -> Iterator[PromServer]:
    """Backfill `windows` into a new TSDB and run Prometheus on it; stops it and removes everything after.

    `alertmanager` ("host:port") makes Prometheus send its alerts there, resent every second (the default
    resend delay of a minute would outlast a test when the Alertmanager starts after the first evaluation)."""
    programs.require("prometheus")
    programs.require("promtool")
    tmp = Path(tempfile.mkdtemp(prefix="sre-expert-prom-"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        started = time.monotonic()
        w = Writer()
        for win in windows:
            write_window(w, win, win.platform())
        om = tmp / "metrics.om"
        om.write_text(w.text())
        data = tmp / "data"
        r = subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", str(om), str(data)],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr[-2000:]
        build = time.monotonic() - started
        config: dict[str, Any] = {"global": {"evaluation_interval": "1s", "scrape_interval": "1h"}}
        if live_alert:
            _rule_file(tmp / "rules.yaml", live_alert)
            config["rule_files"] = [str(tmp / "rules.yaml")]
        if alertmanager:
            config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
        (tmp / "prometheus.yml").write_text(yaml.safe_dump(config))
        port = free_port()
        log = open(tmp / "prometheus.log", "wb")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={tmp / 'prometheus.yml'}", f"--storage.tsdb.path={data}",
             f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=30d",
             *(["--rules.alert.resend-delay=1s"] if alertmanager else [])],
            stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, proc, tmp / "prometheus.log")
        yield PromServer(url, {win.name: win for win in windows}, w.samples, build)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"prometheus exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"prometheus not ready after {timeout}s: {log.read_text()[-2000:]}")


def wait_for_alert(url: str, name: str, timeout: float = 20.0) -> None:
    import json

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{url}/api/v1/alerts", timeout=2) as r:
            alerts = json.load(r)["data"]["alerts"]
        if any(a["labels"].get("alertname") == name and a["state"] == "firing" for a in alerts):
            return
        time.sleep(0.2)
    raise AssertionError(f"alert {name} did not fire within {timeout}s")


def window_ends(count: int, now: datetime | None = None) -> list[datetime]:
    """`count` window ends, oldest first, the last one at the current minute."""
    last = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    return [last - GAP * (count - 1 - i) for i in range(count)]


def snapshot_of(win: Window, b: PlatformBuilder | None = None):
    """A snapshot of the window's platform (or of `b`, changed by a test) captured at the window's end."""
    from sre_expert.sources.memory import snapshot_from_objects

    b = b or win.platform()
    return snapshot_from_objects(copy.deepcopy(b.objects), win.end, logs=dict(b.logs))
