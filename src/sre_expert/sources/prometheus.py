"""Read the fixed metric queries (metrics.QUERIES) from a Prometheus HTTP API into a MetricSet.

The I/O edge for metrics: plain HTTP (httpx) to a URL, or the API server's service proxy
(`/api/v1/namespaces/{ns}/services/{name}:{port}/proxy/...`) with the kubeconfig client when running
against a live cluster without a URL. Every query is bounded three ways — Prometheus's own `timeout=`
parameter, a socket timeout, and a total deadline for the whole set — and capped in series, so a huge
or sick Prometheus slows a run by seconds, never hangs it. Queries run on a small thread pool. Failures
are data, not exceptions: a query that fails is an `error` result and a Prometheus that cannot be reached
at all is `MetricSet.absent(...)`, which the diagnosis reports as "not checked".
"""

from __future__ import annotations

import base64
import json
import math
import time
import urllib.parse
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sre_expert.core.metric_set import (
    ERROR,
    MISSING,
    OK,
    QUERIES,
    Alert,
    MetricSet,
    Query,
    QueryResult,
    Series,
    Target,
)

Obj = dict[str, Any]
# (API path under the Prometheus root, query parameters, socket timeout) -> parsed JSON body
Transport = Callable[[str, Sequence[tuple[str, str]], float], Any]

# Metrics whose presence at an instant says "this Prometheus holds data for then" (small cardinality).
PROBE = ('count({__name__=~"up|kubelet_volume_stats_capacity_bytes|node_memory_MemTotal_bytes|'
         'certmanager_certificate_expiration_timestamp_seconds|envoy_cluster_upstream_rq_total"})')
LIVE_SKEW = timedelta(minutes=5)  # within this of the wall clock, the alerts/targets APIs describe the instant
NO_SOURCE = ("no Prometheus source (pass --prometheus URL, or run in a cluster whose Prometheus is reachable); "
             "node, volume, latency, error-rate, certificate-expiry and alert checks were not run")


class PrometheusError(Exception):
    """One request to Prometheus failed; the text says how (unreachable, HTTP status with Prometheus's
    error, not JSON, timed out)."""


@dataclass(frozen=True)
class FetchOptions:
    query_timeout: float = 10.0  # seconds, sent as timeout= and used as the socket timeout (+2 s)
    deadline: float = 30.0  # seconds for the whole set
    max_series: int = 2000  # per query; the rest are dropped with a warning
    workers: int = 4


# ------------------------------------------------------------------------------------------ transports


def _envelope(body: bytes, where: str) -> Any:
    """The `data` of a Prometheus API answer, or PrometheusError with its error text."""
    try:
        doc = json.loads(body)
    except ValueError:
        head = body[:80].decode("utf-8", "replace").strip().replace("\n", " ")
        raise PrometheusError(f"{where}: not a Prometheus API answer (not JSON: {head!r})") from None
    if not isinstance(doc, dict) or "status" not in doc:
        raise PrometheusError(f"{where}: not a Prometheus API answer (no status field)")
    if doc.get("status") != "success":
        raise PrometheusError(f"{where}: {doc.get('errorType') or 'error'}: {doc.get('error') or 'no error text'}")
    return doc.get("data")


def _http_error_text(status: int, body: bytes) -> str:
    try:
        doc = json.loads(body)
        if isinstance(doc, dict) and doc.get("error"):
            return f"HTTP {status} {doc.get('errorType') or ''}: {doc['error']}".replace(" :", ":")
    except ValueError:
        pass
    first = body[:200].decode("utf-8", "replace").strip().splitlines()
    return f"HTTP {status}" + (f": {first[0]}" if first else "")


def public_url(url: str) -> str:
    """The URL without user:password, for reports."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def url_transport(url: str) -> Transport:
    """GETs against a Prometheus base URL (http[s]://host:port[/prefix]); user:password in it is basic auth."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PrometheusError(f"{url!r}: not an http(s) URL")
    base = public_url(url)
    headers = {"Accept": "application/json", "User-Agent": "sre-expert (read-only)"}
    if parts.username:
        cred = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()

    import httpx

    from sre_expert.sources.http_client import system_tls, transport_reason

    # one client for the whole set: queries run on a thread pool and share its connections (httpx's Client is
    # thread-safe); redirects are followed as urllib did (a Prometheus behind a path-rewriting proxy)
    client = httpx.Client(headers=headers, follow_redirects=True, verify=system_tls())

    def get(path: str, params: Sequence[tuple[str, str]], timeout: float) -> Any:
        full = base + path + ("?" + urllib.parse.urlencode(list(params)) if params else "")
        try:
            resp = client.get(full, timeout=timeout)
        except httpx.TimeoutException:
            raise PrometheusError(f"no answer from {base} within {timeout:g}s") from None
        except httpx.RequestError as e:  # refused, DNS, TLS, reset, too many redirects
            raise PrometheusError(f"cannot reach Prometheus at {base}: {transport_reason(e)}") from None
        if resp.status_code >= 400:
            raise PrometheusError(_http_error_text(resp.status_code, resp.content))
        return _envelope(resp.content, base + path)

    return get


def proxy_path(namespace: str, service: str, port: str | int) -> str:
    return f"/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy"


def proxy_transport(http: Any, namespace: str, service: str, port: str | int) -> Transport:
    """GETs through the API server's service proxy with the live source's HttpClient (kubeconfig auth)."""
    from sre_expert.sources.live_http import RequestFailed

    root = proxy_path(namespace, service, port)

    def get(path: str, params: Sequence[tuple[str, str]], timeout: float) -> Any:
        try:
            body = http.get_text(root + path, list(params)).encode()
        except RequestFailed as e:
            detail = e.detail
            try:  # Prometheus's own error body comes through the proxy unchanged
                doc = json.loads(detail)
                if isinstance(doc, dict) and doc.get("error"):
                    detail = f"{doc.get('errorType') or 'error'}: {doc['error']}"
            except ValueError:
                pass
            what = f"HTTP {e.status}" if e.status else e.error
            raise PrometheusError(f"Service {namespace}/{service}:{port} through the API server proxy: "
                                  f"{what}{f' ({detail})' if detail else ''}") from None
        return _envelope(body, f"service {namespace}/{service}:{port}{path}")

    return get


# ------------------------------------------------------------------------------------------ queries


def _rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def instant_query(get: Transport, promql: str, at: datetime, timeout: float) -> list[Series]:
    """Instant vector (or scalar) of a PromQL expression at `at`; NaN samples (no data) are dropped."""
    data = get("/api/v1/query", [("query", promql), ("time", _rfc3339(at)), ("timeout", f"{timeout:g}s")],
               timeout + 2.0)
    if not isinstance(data, dict):
        raise PrometheusError("answer without data")
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar" and isinstance(result, list):
        result = [{"metric": {}, "value": result}]
    elif kind != "vector" or not isinstance(result, list):
        raise PrometheusError(f"unexpected result type {kind!r}")
    out = []
    for s in result:
        try:
            v = float(s["value"][1])
        except (KeyError, IndexError, TypeError, ValueError):
            continue
        if math.isnan(v):
            continue
        out.append(Series({str(k): str(x) for k, x in (s.get("metric") or {}).items()}, v))
    return out


def _run_query(get: Transport, q: Query, at: datetime, opts: FetchOptions) -> QueryResult:
    try:
        series = instant_query(get, q.promql, at, opts.query_timeout)
    except PrometheusError as e:
        return QueryResult(ERROR, error=str(e))
    if not series:
        return QueryResult(OK if q.empty_ok else MISSING)
    series.sort(key=lambda s: (-s.value, sorted(s.labels.items())))
    dropped = max(0, len(series) - opts.max_series)
    return QueryResult(OK, series[: opts.max_series], dropped=dropped)


def has_data(get: Transport, at: datetime, opts: FetchOptions = FetchOptions()) -> bool:
    """Whether Prometheus holds samples of the platform's core metrics at `at` (within its 5 m lookback)."""
    return bool(instant_query(get, PROBE, at, opts.query_timeout))


def _alerts(get: Transport, opts: FetchOptions) -> list[Alert]:
    data = get("/api/v1/alerts", [], opts.query_timeout + 2.0)
    out = []
    for a in (data or {}).get("alerts") or ():
        if a.get("state") != "firing":
            continue
        labels = {str(k): str(v) for k, v in (a.get("labels") or {}).items()}
        out.append(Alert(labels.get("alertname", ""), labels,
                         {str(k): str(v) for k, v in (a.get("annotations") or {}).items()},
                         str(a.get("activeAt") or ""), str(a.get("value") or "")))
    return out


def _targets(get: Transport, opts: FetchOptions) -> tuple[list[Target], int]:
    data = get("/api/v1/targets", [("state", "active")], opts.query_timeout + 2.0)
    active = (data or {}).get("activeTargets") or []
    down = [Target({str(k): str(v) for k, v in (t.get("labels") or {}).items()}, str(t.get("scrapeUrl") or ""),
                   str(t.get("lastError") or ""), str(t.get("lastScrape") or ""))
            for t in active if t.get("health") == "down"]
    return down, len(active)


def fetch_metrics(get: Transport, source: str, at: datetime, opts: FetchOptions = FetchOptions(),
                  live_apis: bool = True, queries: Sequence[Query] = QUERIES) -> MetricSet:
    """Every query at `at`, concurrently, within opts.deadline. With `live_apis` (the instant is now) the
    alerts and targets APIs are read too; otherwise firing alerts come from the ALERTS series at `at`."""
    evaluated_at = at.astimezone(UTC).replace(microsecond=0)
    ms = MetricSet(source=source, evaluated_at=evaluated_at)
    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=max(1, opts.workers), thread_name_prefix="prometheus")
    try:
        futures = {q.name: pool.submit(_run_query, get, q, evaluated_at, opts) for q in queries}
        f_alerts = pool.submit(_alerts, get, opts) if live_apis else None
        f_targets = pool.submit(_targets, get, opts) if live_apis else None
        for name, fut in futures.items():
            try:
                ms.results[name] = fut.result(timeout=max(0.0, opts.deadline - (time.monotonic() - started)))
            except FutureTimeout:
                fut.cancel()
                ms.results[name] = QueryResult(ERROR, error=f"not answered within the {opts.deadline:g}s deadline")
        for name, r in ms.results.items():
            if r.dropped:
                ms.warnings.append(f"metrics: query {name} returned {len(r.series) + r.dropped} series; "
                                   f"kept the {len(r.series)} highest, dropped {r.dropped}")
        if f_alerts is not None:
            try:
                ms.alerts = f_alerts.result(timeout=max(0.0, opts.deadline - (time.monotonic() - started)))
            except PrometheusError as e:
                ms.alerts_error = str(e)
            except FutureTimeout:
                ms.alerts_error = f"not answered within the {opts.deadline:g}s deadline"
        if f_targets is not None:
            try:
                ms.targets_down, ms.targets_total = f_targets.result(
                    timeout=max(0.0, opts.deadline - (time.monotonic() - started)))
            except PrometheusError as e:
                ms.targets_error = str(e)
            except FutureTimeout:
                ms.targets_error = f"not answered within the {opts.deadline:g}s deadline"
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if ms.alerts is None:
        series = ms.series("alerts_firing")
        if series is not None:  # the ALERTS series: what was firing at `at`, without annotations
            ms.alerts = [Alert(s.labels.get("alertname", ""),
                               {k: v for k, v in s.labels.items() if k not in ("__name__", "alertstate")})
                         for s in series]
            ms.alerts_error = ""
    return ms


def query_time(get: Transport, captured_at: datetime, live: bool, opts: FetchOptions,
               now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> tuple[datetime, bool, str]:
    """(instant to query, whether it is "now", warning): a live snapshot is now; a bundle is its
    capturedAt when Prometheus has data then, else now with a warning."""
    wall = now()
    if live or abs(wall - captured_at) <= LIVE_SKEW:  # the alerts and targets APIs describe this instant
        return captured_at, True, ""
    if has_data(get, captured_at, opts):  # a PrometheusError here means no query would work either
        return captured_at, False, ""
    when = captured_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return wall, True, (f"metrics: Prometheus has no data at the bundle's capturedAt ({when}); metrics were "
                        f"evaluated at the current time instead, so they may not match the snapshot")


def metrics_from_url(url: str, captured_at: datetime, live: bool, opts: FetchOptions = FetchOptions()) -> MetricSet:
    """The MetricSet from a Prometheus URL; an unreachable or broken one gives MetricSet.absent(why)."""
    try:
        get = url_transport(url)
    except PrometheusError as e:
        return MetricSet.absent(f"--prometheus {e}", source=url)
    return _fetch(get, public_url(url), captured_at, live, opts)


def _fetch(get: Transport, source: str, captured_at: datetime, live: bool, opts: FetchOptions) -> MetricSet:
    try:
        at, is_now, warning = query_time(get, captured_at, live, opts)
    except PrometheusError as e:
        return MetricSet.absent(f"Prometheus at {source} could not be queried ({e}); metric checks were not run",
                                source=source)
    ms = fetch_metrics(get, source, at, opts, live_apis=is_now)
    if warning:
        ms.warnings.insert(0, warning)
    # Nothing answered: one clear reason instead of twenty identical "query failed" lines.
    errors = [r.error for r in ms.results.values() if r.status == ERROR]
    if errors and len(errors) == len(ms.results):
        return MetricSet.absent(f"Prometheus at {source} could not be queried ({errors[0]}); "
                                "metric checks were not run", source=source)
    return ms


# ------------------------------------------------------------------------------------------ in-cluster


PROM_POD_LABELS = ({"app.kubernetes.io/name": "prometheus"}, {"app": "prometheus"})


def find_prometheus_service(snap: Any) -> tuple[str, str, str | int] | None:
    """(namespace, Service, port) of the cluster's Prometheus: a Service selecting pods of a Prometheus CR
    or labelled app.kubernetes.io/name=prometheus, preferring namespace monitoring, a ClusterIP Service
    (not the headless prometheus-operated) and port 9090 (`web`/`http-web`)."""
    cr_names = {(p["metadata"].get("namespace") or "", p["metadata"]["name"]) for p in snap.list("Prometheus")}
    candidates: list[tuple[tuple[int, ...], tuple[str, str, str | int]]] = []
    for svc in snap.list("Service"):
        md, spec = svc["metadata"], svc.get("spec") or {}
        ns, name = md.get("namespace") or "", md["name"]
        sel = spec.get("selector") or {}
        ports = spec.get("ports") or []
        port = next((p for p in ports if p.get("port") == 9090 or p.get("name") in ("web", "http-web")), None)
        if port is None:
            continue
        by_cr = (sel.get("prometheus") and (ns, sel["prometheus"]) in cr_names) or \
            (sel.get("operator.prometheus.io/name") and (ns, sel["operator.prometheus.io/name"]) in cr_names)
        by_label = any(all(sel.get(k) == v for k, v in want.items()) for want in PROM_POD_LABELS)
        by_name = name in ("kube-prometheus-prometheus", "prometheus", "prometheus-server", "prometheus-k8s")
        if not (by_cr or by_label or by_name):
            continue
        headless = spec.get("clusterIP") == "None"
        rank = (0 if ns == "monitoring" else 1, 1 if headless else 0, 0 if by_cr else 1, 0 if port.get("port") == 9090 else 1)
        candidates.append((rank, (ns, name, port.get("name") or port.get("port"))))
    if not candidates:
        return None
    candidates.sort(key=lambda c: (c[0], c[1][0], c[1][1]))
    return candidates[0][1]


def metrics_in_cluster(snap: Any, context: str | None, kubeconfig: str | None,
                       opts: FetchOptions = FetchOptions()) -> MetricSet:
    """Metrics through the API server's service proxy to the Prometheus Service found in the snapshot."""
    found = find_prometheus_service(snap)
    if found is None:
        return MetricSet.absent(NO_SOURCE + " — no Prometheus Service was found in the cluster")
    ns, name, port = found
    from sre_expert.sources.live import LiveOptions, LiveSourceError, connect
    from sre_expert.sources.live_http import HttpClient

    try:
        api, _, _ = connect(LiveOptions(context=context, kubeconfig=kubeconfig))
    except LiveSourceError as e:
        return MetricSet.absent(f"{NO_SOURCE} — {e}")
    http = HttpClient(api, timeout=opts.query_timeout + 2.0, retries=1, backoff=0.2)
    source = f"service {ns}/{name}:{port} via the API server proxy"
    ms = _fetch(proxy_transport(http, ns, name, port), source, snap.info.captured_at, True, opts)
    if ms.unavailable:
        ms.unavailable += " (pass --prometheus URL to query it directly)"
    return ms
