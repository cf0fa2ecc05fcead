"""Metric-backed checks: node and volume fill, HTTP error rates and latency, certificate expiry seen by
cert-manager's exporter, scrape targets down, firing alerts, and Prometheus's own storage.

Pure functions of `snap.metrics` (a MetricSet evaluated at the snapshot's time, see metrics.py) and the
snapshot's objects. Thresholds are those of the platform's alert rules (knowledge/alerts.yaml, read with
`alert_rule(name).threshold`), so a finding here and an alert from Prometheus agree on what is too much.
Without metrics these checks emit nothing; the diagnosis lists what was not checked (MetricSet.not_checked).

Linking: a volume-fill finding speaks for its PersistentVolumeClaim; pod findings whose container logs say
"no space left on device" depend on the claims the pod mounts (checks/pods.py), so the full volume becomes
their root cause. Route and Service error-rate findings depend on their backends
(Services, pods), so a crashing backend explains them. Alerts already explained by another finding about
the object their labels name are not repeated.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sre_expert.checks.registry import check, finding
from sre_expert.checks.storage import ClaimUsers
from sre_expert.core.model import Finding, Key, ObjectRef, key_of
from sre_expert.core.snapshot import Snapshot
from sre_expert.core.timeutil import human, parse_time
from sre_expert.core.units import parse_quantity
from sre_expert.domain.traffic_metrics import (
    ROUTE_CLUSTER,
    by_labels,
    evaluated_text,
    metrics_of,
    percent_text,
    route_stats_of,
    seconds_text,
)
from sre_expert.knowledge.alert_catalogue import alert_rule

Obj = dict[str, Any]
GATEWAY_API = "gateway.networking.k8s.io/v1"
CERT_API = "cert-manager.io/v1"
MON_API = "monitoring.coreos.com/v1"
NO_SPACE = re.compile(r"no space left on device", re.I)
MIN_RPS = 0.05  # below 3 requests a minute a ratio says nothing
ALWAYS_FIRING = frozenset({"Watchdog", "InfoInhibitor"})  # kube-prometheus's dead-man's switches
MAX_LISTED = 5


# ------------------------------------------------------------------------------------------ helpers


def threshold(alert: str) -> float:
    """The number an alert rule of knowledge/alerts.yaml compares with (the single source of thresholds)."""
    rule = alert_rule(alert)
    if rule is None:  # a packaging bug: the alert catalogue lost a rule the checks rely on
        raise KeyError(f"alert {alert} is not in knowledge/alerts.yaml")
    return float(rule.threshold["value"])


def _bytes(n: float) -> str:
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def _ref(snap: Snapshot, api: str, kind: str, ns: str | None, name: str) -> Obj | ObjectRef:
    """The object from the snapshot, else a reference to it (metrics can name objects a sweep did not read)."""
    obj = snap.get(kind, ns, name)
    return obj if obj is not None else ObjectRef(api, kind, ns, name)


def _nodes_by_address(snap: Snapshot) -> dict[str, str]:
    out: dict[str, str] = {}
    for n in snap.list("Node"):
        name = n["metadata"]["name"]
        out[name] = name
        for a in (n.get("status") or {}).get("addresses") or ():
            if a.get("address"):
                out.setdefault(a["address"], name)
    return out


def node_name(snap: Snapshot, labels: dict[str, str]) -> str | None:
    """The Node a series is about: its node/nodename label, or its instance host matched to a Node's name
    or address (node-exporter's instance is usually <node IP>:9100)."""
    index = snap.memo("metrics.nodes_by_address", _nodes_by_address)
    for key in ("node", "nodename", "kubernetes_node"):
        if labels.get(key):
            return index.get(labels[key], labels[key])
    inst = labels.get("instance")
    if not inst:
        return None
    host = inst.rsplit(":", 1)[0] if inst.count(":") == 1 or inst.startswith("[") else inst
    host = host.strip("[]")
    return index.get(host) or index.get(host.split(".")[0]) or host


def claim_users(snap: Snapshot, ns: str, claim: str) -> list[Obj]:
    return snap.memo("storage.claim_users", ClaimUsers).of(ns, claim)


# ------------------------------------------------------------------------------------------ volumes


def _pvc_fills(snap: Snapshot) -> list[tuple[str, str, float, float | None, float | None]]:
    """(namespace, claim, percent, used bytes, capacity bytes) for every claim above the warning threshold."""
    ms = metrics_of(snap)
    if ms is None:
        return []
    pct = ms.series("pvc_percent")
    if pct is None:
        return []
    used = by_labels(ms.series("pvc_used_bytes"), "namespace", "persistentvolumeclaim")
    cap = by_labels(ms.series("pvc_capacity_bytes"), "namespace", "persistentvolumeclaim")
    warn = threshold("PersistentVolumeFillingUp")
    best: dict[tuple[str, str], float] = {}
    for s in pct:
        k = (s.labels.get("namespace", ""), s.labels.get("persistentvolumeclaim", ""))
        if k[1] and s.value > warn and s.value > best.get(k, -1.0):
            best[k] = s.value  # several kubelets can report one RWX claim: the fullest view counts
    return [(ns, c, v, used.get((ns, c)), cap.get((ns, c))) for (ns, c), v in sorted(best.items())]


def pvc_usage_text(snap: Snapshot, ns: str, claim: str) -> str | None:
    """'kubelet_volume_stats: 47.1 GiB used of 50.0 GiB (94.2%)' for a claim, None without that metric."""
    ms = metrics_of(snap)
    if ms is None:
        return None
    pct = by_labels(ms.series("pvc_percent"), "namespace", "persistentvolumeclaim").get((ns, claim))
    if pct is None:
        return None
    used = by_labels(ms.series("pvc_used_bytes"), "namespace", "persistentvolumeclaim").get((ns, claim))
    cap = by_labels(ms.series("pvc_capacity_bytes"), "namespace", "persistentvolumeclaim").get((ns, claim))
    amount = f"{_bytes(used)} used of {_bytes(cap)} " if used is not None and cap is not None else ""
    return f"kubelet_volume_stats at {evaluated_text(ms)}: claim {claim} {amount}({percent_text(pct)} full)"


def _no_space_pods(snap: Snapshot, pods: list[Obj]) -> list[tuple[Obj, str]]:
    """Pods among `pods` whose container logs (current or previous) say "no space left on device"."""
    out = []
    for pod in pods:
        md = pod["metadata"]
        names = [c.get("name") for c in ((pod.get("spec") or {}).get("containers") or ())]
        names += [c.get("name") for c in ((pod.get("spec") or {}).get("initContainers") or ())]
        hit = None
        for c in names:
            for previous in (True, False):
                text = snap.logs(md.get("namespace") or "", md["name"], c or "", previous)
                if text and NO_SPACE.search(text[-65536:]):
                    line = next(ln for ln in reversed(text[-65536:].splitlines()) if NO_SPACE.search(ln))
                    hit = f"pod {md['name']} container {c}{' (previous instance)' if previous else ''}: {line.strip()[:200]}"
                    break
            if hit:
                break
        if hit:
            out.append((pod, hit))
    return out


def _prometheus_of_claim(snap: Snapshot, ns: str, claim: str) -> Obj | None:
    for prom in snap.list("Prometheus", ns):
        name = prom["metadata"]["name"]
        if claim.startswith(f"prometheus-{name}-db-prometheus-{name}-"):
            return prom
    return None


def _tsdb_lines(snap: Snapshot, ns: str, pod_prefix: str) -> list[str]:
    """Prometheus's own view of its storage, for the pods of one Prometheus."""
    ms = metrics_of(snap)
    if ms is None:
        return []
    out = []
    for qname, what in (("prom_blocks_bytes", "blocks"), ("prom_wal_bytes", "WAL"),
                        ("prom_retention_limit_bytes", "retention limit"), ("prom_head_series", "head series")):
        for s in ms.series(qname) or ():
            if s.labels.get("namespace", ns) == ns and s.labels.get("pod", pod_prefix).startswith(pod_prefix):
                val = f"{s.value:.0f}" if qname == "prom_head_series" else (
                    "not set (0)" if s.value == 0 and qname == "prom_retention_limit_bytes" else _bytes(s.value))
                out.append(f"prometheus_tsdb {what} ({s.labels.get('pod') or s.labels.get('instance', '?')}): {val}")
    return out


@check(codes=("PVC-FILLING-UP", "PVC-FULL"), speaks_for=("PersistentVolumeClaim",), depends_on=())
def volume_fill(snap: Snapshot) -> Iterator[Finding]:
    """Claims above the PersistentVolumeFillingUp / PersistentVolumeCritical thresholds. Pods whose logs say
    "no space left on device" depend on the claims they mount (checks/pods.py), so they link under it."""
    ms = metrics_of(snap)
    if ms is None:
        return
    warn, crit = threshold("PersistentVolumeFillingUp"), threshold("PersistentVolumeCritical")
    for ns, claim, pct, used, cap in _pvc_fills(snap):
        key: Key = ("PersistentVolumeClaim", ns, claim)
        pods = claim_users(snap, ns, claim)
        amount = f"{_bytes(used)} used of {_bytes(cap)}, " if used is not None and cap is not None else ""
        ev = [f"kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes at {evaluated_text(ms)}: {amount}"
              f"{percent_text(pct)} full (warning above {warn:g}%, critical above {crit:g}%)"]
        if pods:
            ev.append("mounted by " + ", ".join(f"pod {p['metadata']['name']}" for p in pods[:MAX_LISTED]))
        full_pods = _no_space_pods(snap, pods)
        ev += [f"log: {line}" for _, line in full_pods[:3]]
        prom = _prometheus_of_claim(snap, ns, claim)
        if prom is not None:
            ev += _tsdb_lines(snap, ns, f"prometheus-{prom['metadata']['name']}-")
        critical = pct > crit
        yield finding(
            "PVC-FULL" if critical else "PVC-FILLING-UP",
            _ref(snap, "v1", "PersistentVolumeClaim", ns, claim),
            title=f"PersistentVolumeClaim {ns}/{claim} is {percent_text(pct)} full"
                  + (": writes fail when it fills up" if critical else ""),
            evidence=ev, params={"pvc": claim, "pod": pods[0]["metadata"]["name"] if pods else "<pod>"},
            subjects=[key],
        )


@check(codes=("NODE-CPU-HIGH", "NODE-MEMORY-HIGH", "NODE-FILESYSTEM-FILLING"), speaks_for=("Node",), depends_on=())
def node_usage(snap: Snapshot) -> Iterator[Finding]:
    ms = metrics_of(snap)
    if ms is None:
        return
    for qname, code, alert, what in (("node_cpu_percent", "NODE-CPU-HIGH", "NodeHighCPU", "CPU"),
                                     ("node_memory_percent", "NODE-MEMORY-HIGH", "NodeHighMemory", "memory")):
        limit = threshold(alert)
        for s in ms.series(qname) or ():
            if s.value <= limit:
                continue
            node = node_name(snap, s.labels) or "?"
            yield finding(
                code, _ref(snap, "v1", "Node", None, node),
                title=f"Node {node}: {what} use is {percent_text(s.value)}",
                evidence=[f"{qname.replace('_percent', '')} at {evaluated_text(ms)}: {percent_text(s.value)} "
                          f"(instance {s.labels.get('instance', '?')}; {alert} threshold {limit:g}%)"],
                params={"node": node}, speaks_for_object=False, subjects=[],
            )
    warn, crit = threshold("NodeDiskFillingUp"), threshold("NodeDiskCritical")
    for s in ms.series("node_filesystem_percent") or ():
        if s.value <= warn:
            continue
        node = node_name(snap, s.labels) or "?"
        mount = s.labels.get("mountpoint", "?")
        critical = s.value > crit
        yield finding(
            "NODE-FILESYSTEM-FILLING", _ref(snap, "v1", "Node", None, node),
            title=f"Node {node}: filesystem {mount} is {percent_text(s.value)} full",
            evidence=[f"node_filesystem_avail_bytes / node_filesystem_size_bytes at {evaluated_text(ms)}: {mount} "
                      f"(device {s.labels.get('device', '?')}, {s.labels.get('fstype', '?')}) is {percent_text(s.value)} full "
                      f"(warning above {warn:g}%, critical above {crit:g}%)"],
            params={"node": node, "mountpoint": mount}, severity="critical" if critical else "warning",
            speaks_for_object=critical, subjects=[],
        )


# ------------------------------------------------------------------------------------------ HTTP traffic


def _route_backends(snap: Snapshot, route: Obj | None, ns: str) -> list[Key]:
    out: list[Key] = []
    for rule in ((route or {}).get("spec") or {}).get("rules") or ():
        for ref in rule.get("backendRefs") or ():
            if (ref.get("kind") or "Service") == "Service" and not ref.get("group"):
                k = ("Service", ref.get("namespace") or ns, ref.get("name") or "")
                if k not in out:
                    out.append(k)
    return out


def _service_pods(snap: Snapshot, ns: str, name: str) -> list[Key]:
    svc = snap.get("Service", ns, name)
    return [key_of(p) for p in snap.service_pods(svc)] if svc is not None else []


@check(codes=("ROUTE-HIGH-5XX-RATE", "ROUTE-HIGH-LATENCY"), speaks_for=("HTTPRoute",), depends_on=("Pod", "Service"))
def route_traffic(snap: Snapshot) -> Iterator[Finding]:
    """Per HTTPRoute, from Envoy Gateway's cluster stats (cluster names httproute/<ns>/<name>/rule/<i>)."""
    stats = route_stats_of(snap)
    if not stats:
        return
    ms = snap.metrics
    assert ms is not None
    err_limit = threshold("GatewayHighErrorRate")
    lat_limit = threshold("APIHighLatency")  # seconds: the platform's latency objective
    for (ns, name), (rps, err, slowest) in sorted(stats.items()):
        route = snap.get("HTTPRoute", ns, name)
        backends = _route_backends(snap, route, ns)
        deps = backends + [p for b in backends for p in _service_pods(snap, b[1], b[2])]
        obj = route if route is not None else ObjectRef(GATEWAY_API, "HTTPRoute", ns, name)
        if rps >= MIN_RPS and err / rps * 100 > err_limit:
            yield finding(
                "ROUTE-HIGH-5XX-RATE", obj,
                title=f"HTTPRoute {ns}/{name}: {percent_text(err / rps * 100)} of requests fail with 5xx",
                evidence=[f"envoy_cluster_upstream_rq_xx{{envoy_response_code_class=\"5\"}} / envoy_cluster_upstream_rq_total "
                          f"over 5m at {evaluated_text(ms)}: {err:.2f} of {rps:.2f} req/s = {percent_text(err / rps * 100)} "
                          f"(GatewayHighErrorRate threshold {err_limit:g}%)",
                          "backends: " + (", ".join(f"Service {b[1]}/{b[2]}" for b in backends) or "unknown")],
                params={"service": backends[0][2] if backends else "<service>",
                        "service_namespace": backends[0][1] if backends else ns},
                depends_on=deps,
            )
        if slowest is not None and rps >= MIN_RPS and slowest[0] / 1000 > lat_limit:
            v, cluster = slowest
            yield finding(
                "ROUTE-HIGH-LATENCY", obj,
                title=f"HTTPRoute {ns}/{name}: P95 latency is {seconds_text(v / 1000)}",
                evidence=[f"histogram_quantile(0.95, envoy_cluster_upstream_rq_time_bucket) over 5m at {evaluated_text(ms)}: "
                          f"{seconds_text(v / 1000)} for {cluster} (APIHighLatency threshold {lat_limit:g}s)"],
                params={"service": backends[0][2] if backends else "<service>",
                        "service_namespace": backends[0][1] if backends else ns},
                depends_on=deps,
            )


@check(codes=("SERVICE-HIGH-5XX-RATE", "SERVICE-HIGH-LATENCY"), speaks_for=("Service",), depends_on=("Pod",))
def service_traffic(snap: Snapshot) -> Iterator[Finding]:
    """Per Service, from the apps' own http_requests_total / http_request_duration_seconds metrics."""
    ms = metrics_of(snap)
    if ms is None:
        return
    total = by_labels(ms.series("service_rps"), "namespace", "service")
    errors = by_labels(ms.series("service_5xx_rps"), "namespace", "service")
    p95 = by_labels(ms.series("service_p95_seconds"), "namespace", "service")
    err_limit, lat_limit = threshold("APIHighErrorRate"), threshold("APIHighLatency")
    for (ns, name), rps in sorted(total.items()):
        if not name or rps < MIN_RPS:
            continue
        obj = _ref(snap, "v1", "Service", ns, name)
        deps = _service_pods(snap, ns, name)
        err = errors.get((ns, name), 0.0)
        if err / rps * 100 > err_limit:
            yield finding(
                "SERVICE-HIGH-5XX-RATE", obj,
                title=f"Service {ns}/{name}: {percent_text(err / rps * 100)} of requests fail with 5xx",
                evidence=[f"http_requests_total{{status=~\"5..\"}} / http_requests_total over 5m at {evaluated_text(ms)}: "
                          f"{err:.2f} of {rps:.2f} req/s = {percent_text(err / rps * 100)} "
                          f"(APIHighErrorRate threshold {err_limit:g}%)"],
                depends_on=deps,
            )
        lat = p95.get((ns, name))
        if lat is not None and lat > lat_limit:
            yield finding(
                "SERVICE-HIGH-LATENCY", obj,
                title=f"Service {ns}/{name}: P95 latency is {seconds_text(lat)}",
                evidence=[f"histogram_quantile(0.95, http_request_duration_seconds_bucket) over 5m at {evaluated_text(ms)}: "
                          f"{seconds_text(lat)} (APIHighLatency threshold {lat_limit:g}s)"],
                depends_on=deps,
            )


# ------------------------------------------------------------------------------------------ certificates


@check(codes=("CERT-EXPIRY-METRIC",), speaks_for=("Certificate",), depends_on=(), post=True)
def certificate_expiry(snap: Snapshot, prior: list[Finding]) -> Iterator[Finding]:
    """cert-manager's expiry metric, for what the Certificate status checks did not already report (a
    Certificate not in the snapshot, or whose status does not show the near expiry)."""
    ms = metrics_of(snap)
    if ms is None or ms.evaluated_at is None:
        return
    reported = {k for f in prior if f.code.startswith("CERT-") for k in f.subjects}
    warn, crit = threshold("CertificateExpiringSoon"), threshold("CertificateExpiryCritical")
    for s in ms.series("cert_expiry_timestamp") or ():
        ns, name = s.labels.get("namespace", ""), s.labels.get("name", "")
        if not name or not math.isfinite(s.value) or s.value <= 0:
            continue
        expires = datetime.fromtimestamp(s.value, UTC)
        left = expires - ms.evaluated_at
        days = left.total_seconds() / 86400
        key: Key = ("Certificate", ns, name)
        if days >= warn or key in reported:
            continue
        cert = snap.get("Certificate", ns, name)
        when = expires.strftime("%Y-%m-%dT%H:%M:%SZ")
        ev = [f"certmanager_certificate_expiration_timestamp_seconds at {evaluated_text(ms)}: {when} "
              + (f"(expired {human(-left)} ago)" if days < 0 else f"(in {human(left)}, {days:.1f} days)")
              + f"; CertificateExpiringSoon below {warn:g} days, CertificateExpiryCritical below {crit:g} days"]
        if cert is None:
            ev.append(f"Certificate {ns}/{name} is not in the snapshot: its status could not be compared")
        else:
            st = cert.get("status") or {}
            na = parse_time(st.get("notAfter"))
            ev.append(f"status.notAfter: {st.get('notAfter') or 'not set'}"
                      + (" — the status disagrees with the certificate cert-manager's exporter reads from the "
                         "Secret (a renewal written to the status but not to the Secret, or a stale status)"
                         if na and abs((na - expires).total_seconds()) > 3600 else ""))
        yield finding(
            "CERT-EXPIRY-METRIC", _ref(snap, CERT_API, "Certificate", ns, name),
            title=f"Certificate {ns}/{name} " + (f"expired {human(-left)} ago" if days < 0 else f"expires in {human(left)}"),
            evidence=ev, severity="critical" if days < crit else "warning",
            params={"secret": ((cert or {}).get("spec") or {}).get("secretName") or name},
        )


# ------------------------------------------------------------------------------------------ targets and alerts


def _target_object(snap: Snapshot, labels: dict[str, str]) -> tuple[Obj | ObjectRef, list[Key]]:
    """(object a scrape target or alert names, keys it depends on) from its labels."""
    ns = labels.get("namespace", "")
    deps: list[Key] = []
    pod = labels.get("pod")
    if pod and ns:
        deps.append(("Pod", ns, pod))
    node = None
    if labels.get("node") or (labels.get("job") == "node-exporter" and labels.get("instance")):
        node = node_name(snap, labels)
        if node:
            deps.append(("Node", "", node))
    if node and not pod:  # node-exporter, the kubelet: per-node targets are about the node
        return _ref(snap, "v1", "Node", None, node), deps
    if labels.get("service") and ns:
        return _ref(snap, "v1", "Service", ns, labels["service"]), deps
    if pod and ns:
        return _ref(snap, "v1", "Pod", ns, pod), deps
    return ObjectRef("", "ScrapeTarget", ns or None, labels.get("job") or labels.get("instance") or "?"), deps


@check(codes=("SCRAPE-TARGET-DOWN",), speaks_for=("Node", "Pod", "ScrapeTarget", "Service"), depends_on=("Node", "Pod"))
def targets_down(snap: Snapshot) -> Iterator[Finding]:
    """`up == 0` at the snapshot's time, grouped per Service (or Pod, Node), with the scrape error from the
    targets API when it was read."""
    ms = metrics_of(snap)
    if ms is None:
        return
    down = ms.series("targets_down")
    errors = {(t.labels.get("job", ""), t.labels.get("instance", "")): t for t in ms.targets_down or ()}
    labelsets = [s.labels for s in down] if down is not None else [t.labels for t in ms.targets_down or ()]
    groups: dict[Key, tuple[Obj | ObjectRef, list[dict[str, str]], list[Key]]] = {}
    for labels in labelsets:
        obj, deps = _target_object(snap, labels)
        k = obj.key if isinstance(obj, ObjectRef) else key_of(obj)
        if k not in groups:
            groups[k] = (obj, [], [])
        groups[k][1].append(labels)
        groups[k][2].extend(d for d in deps if d not in groups[k][2])
    for k, (obj, targets, deps) in sorted(groups.items()):
        ev = []
        for labels in targets[:MAX_LISTED]:
            t = errors.get((labels.get("job", ""), labels.get("instance", "")))
            line = (f"up{{job=\"{labels.get('job', '?')}\", instance=\"{labels.get('instance', '?')}\"}} "
                    f"== 0 at {evaluated_text(ms)}")
            if t is not None and t.last_error:
                line += f"; last scrape error: {t.last_error[:200]}"
            ev.append(line)
        if len(targets) > MAX_LISTED:
            ev.append(f"… and {len(targets) - MAX_LISTED} more targets down")
        job = targets[0].get("job", "?")
        yield finding(
            "SCRAPE-TARGET-DOWN", obj,
            title=f"{len(targets)} scrape target{'s' if len(targets) > 1 else ''} of job {job} down"
                  + (f" ({k[0]} {k[1] + '/' if k[1] else ''}{k[2]})" if k[0] != "ScrapeTarget" else ""),
            evidence=ev, depends_on=deps, params={"job": job},
        )


def _alert_object(snap: Snapshot, alert: str, labels: dict[str, str]) -> tuple[Obj | ObjectRef, list[Key]]:
    """The object an alert names, through its rule's `scope` labels (alerts.yaml), else common labels."""
    rule = alert_rule(alert)
    ns = labels.get("namespace", "")
    for sc in rule.scope if rule else ():
        value = labels.get(sc.label)
        if not value:
            continue
        if sc.kind == "HTTPRoute":
            m = ROUTE_CLUSTER.match(value)
            if m:
                return _ref(snap, GATEWAY_API, "HTTPRoute", m.group(1), m.group(2)), []
            continue
        if sc.kind == "Node":
            node = node_name(snap, {sc.label: value}) or value
            return _ref(snap, "v1", "Node", None, node), []
        if sc.kind == "Certificate":
            return _ref(snap, CERT_API, "Certificate", ns, value), []
        return _ref(snap, "v1", sc.kind, ns or None, value), []
    obj, deps = _target_object(snap, labels)
    if isinstance(obj, ObjectRef) and obj.kind == "ScrapeTarget":
        if labels.get("persistentvolumeclaim") and ns:
            return _ref(snap, "v1", "PersistentVolumeClaim", ns, labels["persistentvolumeclaim"]), deps
        if ns:
            return _ref(snap, "v1", "Namespace", None, ns), deps
        return ObjectRef(MON_API, "PrometheusRule", None, alert), deps
    return obj, deps


@check(
    codes=("ALERT-FIRING",),
    speaks_for=("Certificate", "HTTPRoute", "Namespace", "Node", "PersistentVolumeClaim", "Pod", "PrometheusRule",
        "ScrapeTarget", "Service"),
    depends_on=("Node", "Pod"),
    post=True,
)
def firing_alerts(snap: Snapshot, prior: list[Finding]) -> Iterator[Finding]:
    """One finding per firing alert whose object no other finding already speaks for."""
    ms = metrics_of(snap)
    if ms is None or not ms.alerts:
        return
    spoken = {k for f in prior for k in f.subjects} | {f.object.key for f in prior}
    seen: set[tuple[str, Key]] = set()
    for a in ms.alerts:
        if not a.name or a.name in ALWAYS_FIRING or a.labels.get("severity") == "none":
            continue
        obj, deps = _alert_object(snap, a.name, a.labels)
        k = obj.key if isinstance(obj, ObjectRef) else key_of(obj)
        if k in spoken or (a.name, k) in seen:
            continue
        seen.add((a.name, k))
        rule = alert_rule(a.name)
        sev = a.labels.get("severity") if a.labels.get("severity") in ("critical", "warning", "info") else "warning"
        shown = ", ".join(f"{n}={v}" for n, v in sorted(a.labels.items()) if n not in ("alertname", "severity"))
        ev = [f"alert {a.name} ({sev}) firing" + (f" since {a.active_at}" if a.active_at else f" at {evaluated_text(ms)}")
              + (f", value {a.value}" if a.value else "") + (f"; labels {shown}" if shown else "")]
        for ann in ("summary", "description"):
            if a.annotations.get(ann):
                ev.append(f"{ann}: {a.annotations[ann][:300]}")
        if rule is not None:
            ev.append(f"rule: {rule.expr} (for {rule.for_})")
        f = finding(
            "ALERT-FIRING", obj, title=f"Alert {a.name} is firing for {k[0]} {k[1] + '/' if k[1] else ''}{k[2]}",
            evidence=ev, severity=sev, depends_on=deps, params={"alert": a.name},
        )
        if rule is not None:  # the alert's own component and runbook, from the alert catalogue
            f.component, f.runbook = rule.component, rule.runbook
        yield f


# ------------------------------------------------------------------------------------------ Prometheus storage


def _claim_capacity(snap: Snapshot, ns: str, claim: str) -> float | None:
    ms = metrics_of(snap)
    if ms is not None:
        cap = by_labels(ms.series("pvc_capacity_bytes"), "namespace", "persistentvolumeclaim").get((ns, claim))
        if cap:
            return cap
    pvc = snap.get("PersistentVolumeClaim", ns, claim)
    size = (((pvc or {}).get("status") or {}).get("capacity") or {}).get("storage") or \
        ((((pvc or {}).get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
    return parse_quantity(size) if size else None


@check(
    codes=("PROMETHEUS-STORAGE-FILLING", "PROMETHEUS-RETENTION-OVER-VOLUME"),
    speaks_for=("PersistentVolumeClaim",),
    depends_on=(),
)
def prometheus_storage(snap: Snapshot) -> Iterator[Finding]:
    """Prometheus's blocks + WAL against its volume, and a retention size the volume cannot hold. A claim
    the volume-fill check already reports (kubelet stats) is not reported twice."""
    ms = metrics_of(snap)
    if ms is None:
        return
    blocks = ms.series("prom_blocks_bytes")
    if blocks is None:
        return
    wal = {(s.labels.get("namespace", ""), s.labels.get("pod", "")): s.value for s in ms.series("prom_wal_bytes") or ()}
    limit = {(s.labels.get("namespace", ""), s.labels.get("pod", "")): s.value
             for s in ms.series("prom_retention_limit_bytes") or ()}
    filled = {(ns, c) for ns, c, *_ in _pvc_fills(snap)}
    warn, crit = threshold("PersistentVolumeFillingUp"), threshold("PersistentVolumeCritical")
    for s in blocks:
        ns, pod = s.labels.get("namespace", ""), s.labels.get("pod", "")
        m = re.match(r"^prometheus-(.+)-(\d+)$", pod)
        if not (ns and m):
            continue
        prom = snap.get("Prometheus", ns, m.group(1))
        if prom is None:
            continue
        claim = f"prometheus-{m.group(1)}-db-{pod}"
        cap = _claim_capacity(snap, ns, claim)
        if not cap:
            continue
        used = s.value + wal.get((ns, pod), 0.0)
        pct = used / cap * 100
        lim = limit.get((ns, pod))
        base = [f"prometheus_tsdb_storage_blocks_bytes + prometheus_tsdb_wal_storage_size_bytes of pod {pod} "
                f"at {evaluated_text(ms)}: {_bytes(used)} of the {_bytes(cap)} volume ({percent_text(pct)})"]
        params = {"pvc": claim, "pod": pod}
        if pct > warn and (ns, claim) not in filled:
            yield finding(
                "PROMETHEUS-STORAGE-FILLING", prom,
                title=f"Prometheus {ns}/{m.group(1)}: its data fills {percent_text(pct)} of its volume",
                evidence=base + _tsdb_lines(snap, ns, pod), params=params,
                severity="critical" if pct > crit else "warning",
                subjects=[("PersistentVolumeClaim", ns, claim)], speaks_for_object=False,
            )
        if lim is not None and lim > cap:
            yield finding(
                "PROMETHEUS-RETENTION-OVER-VOLUME", prom,
                title=f"Prometheus {ns}/{m.group(1)}: retention size {_bytes(lim)} is larger than its {_bytes(cap)} volume",
                evidence=base + [f"prometheus_tsdb_retention_limit_bytes: {_bytes(lim)} "
                                 f"(spec.retentionSize={(prom.get('spec') or {}).get('retentionSize') or 'not set'})"],
                params=params, speaks_for_object=False,
            )
