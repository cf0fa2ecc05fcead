"""The Prometheus source against a real Prometheus (2.42) holding backfilled metrics of the synth platform.

One Prometheus for the module (prom_harness): each scenario is a 15-minute window of samples ending at
its own instant, and each test snapshots the platform at that instant and queries Prometheus there.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import jsonschema
import prom_harness as ph
import pytest
from prom_harness import Faults, Window

from sre_expert.core.metric_set import ERROR, MISSING, OK, QUERIES, MetricSet
from sre_expert.core.model import Finding
from sre_expert.diagnosis.engine import Report, diagnose
from sre_expert.sources.prometheus import (
    FetchOptions,
    PrometheusError,
    fetch_metrics,
    instant_query,
    metrics_from_url,
    metrics_in_cluster,
    url_transport,
)
from sre_expert.sources.resolve import open_source
from synth import faults
from synth.bundle_writer import write_bundle

pytestmark = [pytest.mark.e2e, pytest.mark.needs("prometheus", "promtool")]

EXE = str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "sre-expert")
MONGO = ("mycure-production", "datadir-mongodb-0")
PG = ("lfh-staging", "data-postgresql-0")
PROM_PVC = ("monitoring", "prometheus-kube-prometheus-prometheus-db-prometheus-kube-prometheus-prometheus-0")
METRIC_CODES = {"PVC-FILLING-UP", "PVC-FULL", "NODE-CPU-HIGH", "NODE-MEMORY-HIGH", "NODE-FILESYSTEM-FILLING",
                "ROUTE-HIGH-5XX-RATE", "ROUTE-HIGH-LATENCY", "SERVICE-HIGH-5XX-RATE", "SERVICE-HIGH-LATENCY",
                "CERT-EXPIRY-METRIC", "SCRAPE-TARGET-DOWN", "ALERT-FIRING", "PROMETHEUS-STORAGE-FILLING",
                "PROMETHEUS-RETENTION-OVER-VOLUME"}


def _api_pods(win_end: datetime, ns: str) -> list[str]:
    b = Window("x", win_end, Faults()).platform()
    return sorted(p["metadata"]["name"] for p in b.list("Pod", ns)
                  if (p["metadata"].get("labels") or {}).get("app.kubernetes.io/name") == "api")


def _windows() -> list[Window]:
    names = ["healthy", "pvc85", "pvc95", "nodedisk", "route5xx", "routep95", "cert", "targetdown", "svc5xx",
             "promstorage", "missing", "live"]
    ends = dict(zip(names, ph.window_ends(len(names)), strict=True))
    f = {n: Faults() for n in names}
    f["pvc85"].pvc_percent[MONGO] = 85.0
    f["pvc85"].alerts.append({"alertname": "PersistentVolumeFillingUp", "severity": "warning", "namespace": MONGO[0],
                              "persistentvolumeclaim": MONGO[1], "job": "kubelet"})
    f["pvc95"].pvc_percent[PG] = 95.0
    f["nodedisk"].node_fs_percent["k8s-worker-2"] = 92.0
    f["route5xx"].route_5xx[("mycure-production", "api")] = 0.12
    f["routep95"].route_p95_slow.add(("lfh-staging", "api"))
    f["cert"].cert_expires_in[("gateway-system", "gateway-tls")] = timedelta(days=1)
    f["targetdown"].targets_down.add(_api_pods(ends["targetdown"], "mycure-production")[0])
    f["svc5xx"].service_5xx[("lfh-staging", "api")] = 0.2
    f["promstorage"].pvc_percent[PROM_PVC] = 93.0
    f["promstorage"].prom_blocks_gib = 46.0
    f["promstorage"].prom_retention_gib = 60.0
    f["missing"].only = ("up", "node_")
    f["live"].restarting_pods.add(("mycure-production", _api_pods(ends["live"], "mycure-production")[0]))
    return [Window(n, ends[n], f[n]) for n in names]


@pytest.fixture(scope="module")
def prom() -> Iterator[ph.PromServer]:
    with ph.prometheus(_windows(), live_alert="PodCrashLooping") as server:
        ph.wait_for_alert(server.url, "PodCrashLooping")
        yield server


def _report(prom: ph.PromServer, name: str, b: Any = None, live: bool = False) -> tuple[Report, MetricSet]:
    win = prom.windows[name]
    snap = ph.snapshot_of(win, b)
    snap.metrics = metrics_from_url(prom.url, win.end, live)
    return diagnose(snap), snap.metrics


def _metric_findings(report: Report) -> list[Finding]:
    return [f for f in report.findings if f.code in METRIC_CODES]


def _only(report: Report) -> Finding:
    found = [(f.code, f.object.display(), f.severity) for f in report.findings]
    assert len(report.findings) == 1, found
    return report.findings[0]


# ------------------------------------------------------------------------------------------ healthy


def test_healthy_metrics_give_no_finding_and_everything_is_checked(prom: ph.PromServer) -> None:
    report, ms = _report(prom, "healthy")
    assert [(f.code, f.object.display(), f.title) for f in report.findings] == []
    assert report.not_checked == []
    assert {n: r.status for n, r in ms.results.items()} == {q.name: OK for q in QUERIES}
    assert ms.evaluated_at == prom.windows["healthy"].end
    assert len(ms.series("pvc_percent") or []) == 4 and len(ms.series("node_filesystem_percent") or []) == 4  # tmpfs filtered


# ------------------------------------------------------------------------------------------ faults


def test_pvc_at_85_percent_is_a_warning_and_its_alert_is_not_repeated(prom: ph.PromServer) -> None:
    report, ms = _report(prom, "pvc85")
    f = _only(report)
    assert (f.code, f.severity, f.object.display()) == ("PVC-FILLING-UP", "warning",
                                                       "PersistentVolumeClaim mycure-production/datadir-mongodb-0")
    assert "85.0% full" in f.title and any("17.0 GiB used of 20.0 GiB, 85.0% full" in e for e in f.evidence), f.evidence
    assert any("warning above 80%, critical above 90%" in e for e in f.evidence)
    assert [a.name for a in ms.alerts or []] == ["PersistentVolumeFillingUp"]  # read from ALERTS at that instant


def test_pvc_at_95_percent_is_critical_and_explains_the_pod_failing_with_no_space(prom: ph.PromServer) -> None:
    win = prom.windows["pvc95"]
    b = win.platform()
    pod = b.require("Pod", "lfh-staging", "postgresql-0")
    log = ("2026-11-26 02:50:01.123 UTC [1] LOG:  starting PostgreSQL 16.4\n"
           "2026-11-26 02:50:01.456 UTC [1] FATAL:  could not write to file \"pg_wal/xlogtemp.1\": No space left on device\n"
           "2026-11-26 02:50:01.457 UTC [1] LOG:  database system is shut down\n")
    faults.crashloop(b, pod, previous_log=log)
    report, _ = _report(prom, "pvc95", b)
    full = next(f for f in report.findings if f.code == "PVC-FULL")
    assert full.severity == "critical" and full.root_cause
    assert full.object.display() == "PersistentVolumeClaim lfh-staging/data-postgresql-0"
    assert any("95.0% full" in e for e in full.evidence) and any("No space left on device" in e for e in full.evidence)
    crash = next(f for f in report.findings if f.code == "POD-CRASHLOOP")
    assert crash.caused_by == [full.id] and not crash.root_cause
    assert {f.code for f in report.findings if f.root_cause} == {"PVC-FULL"}


def test_node_disk_at_92_percent_is_critical(prom: ph.PromServer) -> None:
    report, _ = _report(prom, "nodedisk")
    f = _only(report)
    assert (f.code, f.severity, f.object.display()) == ("NODE-FILESYSTEM-FILLING", "critical", "Node k8s-worker-2")
    assert "filesystem / is 92.0% full" in f.title and any("92.0% full" in e for e in f.evidence)


def test_route_5xx_at_12_percent(prom: ph.PromServer) -> None:
    report, _ = _report(prom, "route5xx")
    f = _only(report)
    assert (f.code, f.severity, f.object.display()) == ("ROUTE-HIGH-5XX-RATE", "warning", "HTTPRoute mycure-production/api")
    assert "12.0% of requests fail with 5xx" in f.title
    assert any("2.40 of 20.00 req/s = 12.0%" in e and "threshold 5%" in e for e in f.evidence), f.evidence
    assert ("Service", "mycure-production", "api") in f.depends_on


def test_route_p95_of_2_5_seconds(prom: ph.PromServer) -> None:
    report, _ = _report(prom, "routep95")
    f = _only(report)
    assert (f.code, f.object.display()) == ("ROUTE-HIGH-LATENCY", "HTTPRoute lfh-staging/api")
    assert "P95 latency is 2.50 s" in f.title and any("httproute/lfh-staging/api/rule/0" in e for e in f.evidence)


def test_service_5xx_from_app_metrics(prom: ph.PromServer) -> None:
    report, _ = _report(prom, "svc5xx")
    f = _only(report)
    assert (f.code, f.object.display()) == ("SERVICE-HIGH-5XX-RATE", "Service lfh-staging/api")
    assert "20.0% of requests fail with 5xx" in f.title


def test_certificate_expiring_in_one_day_per_metric_only(prom: ph.PromServer) -> None:
    """The status still shows the old, later date: only the metric knows, so the metric check reports it."""
    report, _ = _report(prom, "cert")
    f = _only(report)
    assert (f.code, f.severity, f.object.display()) == (
        "CERT-EXPIRY-METRIC", "critical", "Certificate gateway-system/gateway-tls")
    assert "expires in 1d" in f.title
    assert any("status.notAfter" in e and "disagrees" in e for e in f.evidence), f.evidence


def test_certificate_expiry_already_reported_by_status_is_not_repeated(prom: ph.PromServer) -> None:
    win = prom.windows["cert"]
    b = win.platform()
    cert = b.require("Certificate", "gateway-system", "gateway-tls")
    cert["status"]["notAfter"] = (win.end + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    cert["status"]["renewalTime"] = (win.end - timedelta(days=29)).strftime("%Y-%m-%dT%H:%M:%SZ")
    report, _ = _report(prom, "cert", b)
    codes = [f.code for f in report.findings]
    assert "CERT-EXPIRY-METRIC" not in codes and any(c.startswith("CERT-") for c in codes), codes


def test_scrape_target_down(prom: ph.PromServer) -> None:
    report, _ = _report(prom, "targetdown")
    f = _only(report)
    pod = _api_pods(prom.windows["targetdown"].end, "mycure-production")[0]
    assert (f.code, f.object.display()) == ("SCRAPE-TARGET-DOWN", "Service mycure-production/api")
    assert any('up{job="api"' in e and "== 0" in e for e in f.evidence) and ("Pod", "mycure-production", pod) in f.depends_on


def test_prometheus_volume_full_and_retention_over_volume(prom: ph.PromServer) -> None:
    report, _ = _report(prom, "promstorage")
    got = sorted((f.code, f.object.display()) for f in report.findings)
    assert got == [("PROMETHEUS-RETENTION-OVER-VOLUME", "Prometheus monitoring/kube-prometheus-prometheus"),
                   ("PVC-FULL", f"PersistentVolumeClaim {PROM_PVC[0]}/{PROM_PVC[1]}")]
    full = next(f for f in report.findings if f.code == "PVC-FULL")
    assert any("prometheus_tsdb blocks" in e and "46.0 GiB" in e for e in full.evidence), full.evidence
    ret = next(f for f in report.findings if f.code == "PROMETHEUS-RETENTION-OVER-VOLUME")
    assert "60.0 GiB is larger than its 50.0 GiB volume" in ret.title


def test_firing_alert_from_the_alerts_api(prom: ph.PromServer) -> None:
    """The live window: PodCrashLooping (the platform rule, for: 0s) fires in the test Prometheus."""
    report, ms = _report(prom, "live", live=True)
    pod = _api_pods(prom.windows["live"].end, "mycure-production")[0]
    assert ms.targets_error == "" and ms.targets_down == [] and ms.alerts_error == ""
    f = _only(report)
    assert (f.code, f.severity, f.object.display()) == ("ALERT-FIRING", "critical", f"Pod mycure-production/{pod}")
    assert f.component == "workloads" and f.runbook == "pod-not-starting"
    assert any("PodCrashLooping (critical) firing since" in e for e in f.evidence), f.evidence
    assert any(e.startswith("summary: Pod mycure-production/") for e in f.evidence)


# ------------------------------------------------------------------------------------------ not checked, errors


def test_absent_metrics_are_not_checked_never_passed(prom: ph.PromServer) -> None:
    report, ms = _report(prom, "missing")
    assert report.findings == []
    assert ms.results["pvc_percent"].status == MISSING and ms.results["node_cpu_percent"].status == OK
    nc = report.not_checked
    assert ("metrics: not checked: PersistentVolumeClaim fill "
            "(metric kubelet_volume_stats_used_bytes not found in Prometheus)") in nc
    assert any("envoy_cluster_upstream_rq_total not found" in t for t in nc)
    assert any("certmanager_certificate_expiration_timestamp_seconds not found" in t for t in nc)
    assert not any("node CPU" in t or "scrape targets" in t for t in nc)


def test_unreachable_prometheus_is_one_clear_not_checked_line() -> None:
    port = ph.free_port()
    ms = metrics_from_url(f"http://127.0.0.1:{port}", datetime.now(UTC), live=True,
                          opts=FetchOptions(query_timeout=2, deadline=5))
    assert ms.unavailable and f"cannot reach Prometheus at http://127.0.0.1:{port}" in ms.unavailable
    b = Window("x", datetime.now(UTC).replace(microsecond=0), Faults()).platform()
    snap = ph.snapshot_of(Window("x", b.now, Faults()), b)
    snap.metrics = ms
    report = diagnose(snap)
    assert report.findings == [] and len(report.not_checked) == 1 and "cannot reach" in report.not_checked[0]


def test_prometheus_error_text_and_series_cap(prom: ph.PromServer) -> None:
    get = url_transport(prom.url)
    with pytest.raises(PrometheusError, match=r"HTTP 400 bad_data: .*parse error"):
        instant_query(get, "sum(", datetime.now(UTC), 5)
    at = prom.windows["healthy"].end
    ms = fetch_metrics(get, prom.url, at, FetchOptions(max_series=2), live_apis=False)
    r = ms.results["pvc_percent"]
    assert (r.status, len(r.series), r.dropped) == (OK, 2, 2)
    assert any("query pvc_percent returned 4 series; kept the 2 highest, dropped 2" in w for w in ms.warnings)


class _Html(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = b"<html><body>Grafana login</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_not_prometheus_gives_a_clear_error() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Html)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        ms = metrics_from_url(url, datetime.now(UTC), live=True, opts=FetchOptions(query_timeout=2, deadline=5))
        assert "not a Prometheus API answer (not JSON: '<html><body>Grafana login" in ms.unavailable
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------------------------------ bundles and the CLI


def test_bundle_queried_at_its_captured_time_and_carrying_metrics(prom: ph.PromServer, tmp_path: Path) -> None:
    win = prom.windows["pvc85"]
    path = write_bundle(win.platform(), tmp_path / "bundle")
    snap = open_source(str(path), False, prometheus=prom.url, progress=False)
    assert snap.metrics is not None and snap.metrics.evaluated_at == win.end
    codes = [f.code for f in diagnose(snap).findings]
    assert codes == ["PVC-FILLING-UP"]
    # the same metrics, carried offline inside the bundle
    (path / "metrics").mkdir()
    (path / "metrics" / "metrics.json").write_text(json.dumps(snap.metrics.to_json()))
    offline = open_source(str(path), False, progress=False)
    assert offline.metrics is not None and offline.metrics.to_json() == snap.metrics.to_json()
    assert [f.code for f in diagnose(offline).findings] == ["PVC-FILLING-UP"]


def test_bundle_without_data_at_its_time_is_queried_now_with_a_warning(prom: ph.PromServer, tmp_path: Path) -> None:
    old = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    path = write_bundle(Window("old", old, Faults()).platform(), tmp_path / "old")
    snap = open_source(str(path), False, prometheus=prom.url, progress=False)
    assert snap.metrics is not None and snap.metrics.evaluated_at is not None
    assert abs((snap.metrics.evaluated_at - datetime.now(UTC)).total_seconds()) < 120
    assert any("no data at the bundle's capturedAt" in w for w in snap.info.warnings)


def test_cli_check_with_prometheus(prom: ph.PromServer, tmp_path: Path) -> None:
    path = write_bundle(prom.windows["route5xx"].platform(), tmp_path / "b")
    r = subprocess.run([EXE, "check", "-b", str(path), "--prometheus", prom.url, "-o", "json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert [f["code"] for f in doc["findings"]] == ["ROUTE-HIGH-5XX-RATE"] and doc["notChecked"] == []
    jsonschema.validate(doc, json.loads((Path(__file__).resolve().parents[1] / "docs" / "findings.schema.json").read_text()))
    r = subprocess.run([EXE, "check", "-b", str(path), "--prometheus", f"http://127.0.0.1:{ph.free_port()}", "-o", "json"],
                       capture_output=True, text=True, timeout=120)
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and doc["findings"] == [] and "Traceback" not in r.stderr
    assert len(doc["notChecked"]) == 1 and "cannot reach Prometheus" in doc["notChecked"][0]
    r = subprocess.run([EXE, "check", "-b", str(path), "-o", "json"], capture_output=True, text=True, timeout=120)
    assert [t for t in json.loads(r.stdout)["notChecked"]] == [
        "metrics: no Prometheus source (pass --prometheus URL, or run in a cluster whose Prometheus is reachable); "
        "node, volume, latency, error-rate, certificate-expiry and alert checks were not run"]


# ------------------------------------------------------------------------------------------ in-cluster


def _proxy_handler(prom_url: str, seen: list[str]) -> type[http.server.BaseHTTPRequestHandler]:
    prefix = "/api/v1/namespaces/monitoring/services/kube-prometheus-prometheus:http/proxy"

    class Api(http.server.BaseHTTPRequestHandler):
        """An API server as far as the service proxy goes: /version, and proxying to the real Prometheus."""

        def do_GET(self) -> None:  # noqa: N802
            seen.append(self.path)
            if self.headers.get("Authorization") != "Bearer test-token":
                return self._send(401, b'{"kind":"Status","message":"Unauthorized"}')
            if self.path == "/version":
                return self._send(200, b'{"gitVersion":"v1.32.0"}')
            if self.path.startswith(prefix):
                try:
                    with urllib.request.urlopen(prom_url + self.path[len(prefix):], timeout=10) as r:
                        return self._send(r.status, r.read())
                except urllib.error.HTTPError as e:
                    return self._send(e.code, e.read())
            self._send(404, b'{"kind":"Status","message":"not found"}')

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Api


def test_in_cluster_prometheus_through_the_api_server_service_proxy(prom: ph.PromServer, tmp_path: Path) -> None:
    seen: list[str] = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _proxy_handler(prom.url, seen))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "test",
            "clusters": [{"name": "test", "cluster": {"server": f"http://127.0.0.1:{server.server_address[1]}"}}],
            "users": [{"name": "test", "user": {"token": "test-token"}}],
            "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}],
        }))
        win = prom.windows["live"]
        snap = ph.snapshot_of(win)
        started = time.monotonic()
        ms = metrics_in_cluster(snap, None, str(kubeconfig))
        elapsed = time.monotonic() - started
        assert ms.unavailable == "", ms.unavailable
        assert ms.source == "service monitoring/kube-prometheus-prometheus:http via the API server proxy"
        assert all(r.status == OK for r in ms.results.values()), {n: r.error for n, r in ms.results.items() if r.status == ERROR}
        assert any(p.startswith("/api/v1/namespaces/monitoring/services/kube-prometheus-prometheus:http/proxy/api/v1/query?")
                   for p in seen)
        assert [a.name for a in ms.alerts or []] == ["PodCrashLooping"]
        print(f"\nmetrics fetch through the service proxy: {elapsed:.2f}s")
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_timing_note(prom: ph.PromServer) -> None:
    """Not an assertion on time: prints what one fetch of the whole query set costs (see the report)."""
    get = url_transport(prom.url)
    started = time.monotonic()
    ms = fetch_metrics(get, prom.url, prom.windows["healthy"].end, live_apis=False)
    elapsed = time.monotonic() - started
    assert all(r.status == OK for r in ms.results.values())
    print(f"\n{len(ms.results)} queries in {elapsed * 1000:.0f} ms; backfill of {prom.samples} samples "
          f"built in {prom.build_seconds:.1f}s")


def test_bundle_collect_writes_the_metrics_and_check_reads_them_offline(prom: ph.PromServer, tmp_path: Path) -> None:
    from live_harness import served

    win = prom.windows["live"]
    src = write_bundle(win.platform(), tmp_path / "cluster")
    with served(str(src), tmp_path) as (_, kc):
        r = subprocess.run([EXE, "bundle", "collect", "--kubeconfig", str(kc), "--prometheus", prom.url,
                            "-o", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"metrics: 20/20 queries answered by {prom.url}" in r.stderr
    doc = json.loads((tmp_path / "out" / "metrics" / "metrics.json").read_text())
    assert [a["name"] for a in doc["alerts"]] == ["PodCrashLooping"] and doc["targetsTotal"] == 0
    r = subprocess.run([EXE, "check", "-b", str(tmp_path / "out"), "-o", "json"], capture_output=True, text=True,
                       timeout=120)
    report = json.loads(r.stdout)
    pod = _api_pods(win.end, "mycure-production")[0]
    assert [(f["code"], f["object"]["name"]) for f in report["findings"]] == [("ALERT-FIRING", pod)]
    assert report["notChecked"] == []


class _Slow(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        time.sleep(3)
        try:
            self.send_response(200)
            self.end_headers()
        except OSError:
            pass

    def log_message(self, *args: Any) -> None:
        pass


def test_a_hanging_prometheus_is_bounded_by_the_timeouts() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        ms = fetch_metrics(url_transport(url), url, datetime.now(UTC), FetchOptions(query_timeout=0.3, deadline=1.0))
        errors = {r.error for r in ms.results.values()}
        assert {r.status for r in ms.results.values()} == {ERROR}
        assert errors <= {f"no answer from {url} within 2.3s", "not answered within the 1s deadline"}, errors
        assert "not answered within the 1s deadline" in errors  # 4 workers cannot get through 20 queries
    finally:
        server.shutdown()
        server.server_close()


def test_no_prometheus_service_in_the_cluster() -> None:
    b = Window("x", datetime.now(UTC).replace(microsecond=0), Faults()).platform()
    for svc in list(b.list("Service", "monitoring")):
        b.remove(svc)
    ms = metrics_in_cluster(ph.snapshot_of(Window("x", b.now, Faults()), b), None, "/nonexistent/kubeconfig")
    assert ms.unavailable.startswith("no Prometheus source") and "no Prometheus Service was found" in ms.unavailable


class _BehindRedirect(http.server.BaseHTTPRequestHandler):
    """A Prometheus behind a proxy that moves it under /prom: the first answer is a redirect."""

    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        if not self.path.startswith("/prom/"):
            self.send_response(302)
            self.send_header("Location", "/prom" + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"job": "x"}, "value": [1700000000, "1"]}]}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_url_transport_follows_a_same_host_redirect_with_its_credentials() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BehindRedirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        get = url_transport(f"http://reader:pw@127.0.0.1:{port}")
        assert instant_query(get, "up", datetime.now(UTC), 5)
        (first, auth1), (second, auth2) = _BehindRedirect.seen
        assert first.startswith("/api/v1/query?query=up") and second == "/prom" + first
        assert auth1 == auth2 == "Basic cmVhZGVyOnB3"
    finally:
        server.shutdown()


def test_the_unreachable_text_is_the_os_reason_without_credentials() -> None:
    port = ph.free_port()
    get = url_transport(f"http://reader:s3cret@127.0.0.1:{port}/prom/")
    with pytest.raises(PrometheusError) as e:
        instant_query(get, "up", datetime.now(UTC), 2)
    assert str(e.value) == f"cannot reach Prometheus at http://127.0.0.1:{port}/prom: Connection refused"
