"""kube-prometheus faults synth does not offer, written the way prometheus-operator v0.78 shows them.

- `operator_status`: a builder refresher deriving each Prometheus/Alertmanager CR's status from its
  StatefulSet's pods exactly as the operator's statefulset reporter does (Available True/Degraded/False
  with reasons NoPodReady/SomePodsNotReady and "shard 0: pod NAME: message" lines; Reconciled).
- Each fault mutates builder objects, adds the operator's events and the container logs, and calls
  `b.refresh()`; every custom resource it touches is checked against the CRD schema.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import scenario
from schema_validation import validate_object

from sre_expert.diagnosis.engine import Report
from synth import faults, storage
from synth import pods as podlib
from synth.builder import PlatformBuilder
from synth.meta import bump, condition, new_object, set_condition, ts
from synth.monitoring import MON_API

NS = "monitoring"
PROM = "kube-prometheus-prometheus"
PROM_STS = "prometheus-kube-prometheus-prometheus"
AM = "kube-prometheus-alertmanager"
AM_STS = "alertmanager-kube-prometheus-alertmanager"
OPERATOR = "kube-prometheus-operator"

Obj = dict[str, Any]


# ---------------------------------------------------------------- operator status


def _pod_message(pod: Obj) -> str:
    for c in pod["status"].get("conditions", []):
        if c["type"] == "Ready" and c["status"] != "True":
            return c.get("message") or c.get("reason") or "not ready"
    return ""


def _derive(b: PlatformBuilder, cr: Obj, sts_name: str) -> None:
    """The statefulset reporter: Available from ready pods, Reconciled kept unless a fault set it."""
    ns, gen = cr["metadata"]["namespace"], cr["metadata"]["generation"]
    replicas = int(cr["spec"].get("replicas", 1))
    sts = b.get("StatefulSet", ns, sts_name)
    st = cr["status"]
    avail_cond = next(c for c in st["conditions"] if c["type"] == "Available")
    if sts is None:
        status, reason, message, pods = "False", "StatefulSetNotFound", f"statefulset {ns}/{sts_name} not found", []
    else:
        pods = [p for p in b.list("Pod", ns) if any(o.get("uid") == sts["metadata"]["uid"]
                                                     for o in p["metadata"].get("ownerReferences", []))]
        ready = [p for p in pods if podlib.is_ready(p)]
        lines = [f"shard 0: pod {p['metadata']['name']}: {_pod_message(p)}" for p in pods if _pod_message(p)]
        if len(ready) >= replicas:
            status, reason, message = "True", None, None
        elif not ready:
            status, reason, message = "False", "NoPodReady", "\n".join(lines) or None
        else:
            status, reason, message = "Degraded", "SomePodsNotReady", "\n".join(lines) or None
        st["availableReplicas"] = len(ready)
        st["unavailableReplicas"] = len(pods) - len(ready)
        st["replicas"] = len(pods)
        st["updatedReplicas"] = len(pods)
        if "shardStatuses" in st:
            st["shardStatuses"][0].update({"availableReplicas": len(ready), "replicas": len(pods),
                                           "unavailableReplicas": len(pods) - len(ready), "updatedReplicas": len(pods)})
    if avail_cond["status"] != status or avail_cond.get("reason") != reason or avail_cond.get("message") != message:
        avail_cond.clear()
        avail_cond.update(condition("Available", status, reason, message, b.now - timedelta(minutes=3),
                                    observed_generation=gen))


def operator_status(b: PlatformBuilder) -> None:
    for cr in b.list("Prometheus"):
        _derive(b, cr, f"prometheus-{cr['metadata']['name']}")
    for cr in b.list("Alertmanager"):
        _derive(b, cr, f"alertmanager-{cr['metadata']['name']}")


def with_operator_status(b: PlatformBuilder) -> PlatformBuilder:
    if operator_status not in b.refreshers:
        b.refreshers.append(operator_status)
    b.refresh()
    return b


# ---------------------------------------------------------------- faults


def _prom_pod(b: PlatformBuilder) -> Obj:
    return b.require("Pod", NS, f"{PROM_STS}-0")


def disk_full_log(start) -> str:
    """What Prometheus 2.55 logs (logfmt) when its data volume is full and WAL replay fails at start-up."""
    t = lambda s: ts(start + timedelta(seconds=s)).replace("Z", ".512Z")  # noqa: E731
    return "\n".join([
        f'ts={t(0)} caller=main.go:601 level=info msg="Starting Prometheus Server" mode=server '
        'version="(version=2.55.1, branch=HEAD, revision=6d7569113f1ca814f1e149f74176656540043b8d)"',
        f'ts={t(0)} caller=main.go:1129 level=info msg="Starting TSDB ..."',
        f'ts={t(1)} caller=head.go:626 level=info component=tsdb msg="Replaying on-disk memory mappable chunks if any"',
        f'ts={t(2)} caller=head.go:713 level=info component=tsdb msg="Replaying WAL, this may take a while"',
        f'ts={t(4)} caller=main.go:1150 level=error err="opening storage failed: create dir: '
        'mkdir /prometheus/wal/checkpoint.00004117.tmp: no space left on device"',
        f'ts={t(4)} caller=main.go:1227 level=info msg="See you next time!"',
    ]) + "\n"


def prometheus_disk_full(b: PlatformBuilder) -> Obj:
    """The 50Gi volume filled up: Prometheus cannot replay its WAL and crash-loops at start-up."""
    pod = _prom_pod(b)
    start = b.now - timedelta(seconds=70)
    faults.crashloop(b, pod, "prometheus", previous_log=disk_full_log(start), restarts=9,
                     since=timedelta(minutes=35))
    return pod


def prometheus_reconcile_failed(b: PlatformBuilder, secret: str = "additional-scrape-configs") -> Obj:
    """spec.additionalScrapeConfigs names a Secret that does not exist: Reconciled=False."""
    cr = b.require("Prometheus", NS, PROM)
    cr["spec"]["additionalScrapeConfigs"] = {"key": "prometheus-additional.yaml", "name": secret}
    bump(cr, generation=True)
    gen = cr["metadata"]["generation"]
    for c in cr["status"]["conditions"]:
        c["observedGeneration"] = gen
    set_condition(cr, condition(
        "Reconciled", "False", "ReconciliationFailed",
        f'creating config failed: generating config failed: loading additional scrape configs from Secret failed: '
        f'secret "{secret}" not found', b.now - timedelta(minutes=9), observed_generation=gen))
    validate_object(cr)
    b.refresh()
    return cr


def invalid_rule(b: PlatformBuilder, namespace: str = NS, name: str = "tenant-api-alerts", *,
                 valid: bool = False) -> Obj:
    """A PrometheusRule with a PromQL syntax error (missing ')'), rejected by the operator; with
    valid=True the same rule, correct, and no event."""
    created = b.now - timedelta(minutes=25)
    rule = new_object("PrometheusRule", name, namespace, created, api_version=MON_API,
                      labels={"app.kubernetes.io/name": "api", "app.kubernetes.io/instance": "api",
                              "app.kubernetes.io/part-of": "kube-prometheus"})
    rule["spec"] = {"groups": [{"name": "api-latency", "rules": [{
        "alert": "APISlowRequests",
        "expr": 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))'
                + (")" if valid else "") + " > 2",
        "for": "10m", "labels": {"severity": "warning"},
        "annotations": {"summary": "API P99 latency above 2s"}}]}]}
    validate_object(rule)
    b.add(rule)
    if valid:
        b.refresh()
        return rule
    err = ('group "api-latency", rule 1, "APISlowRequests": could not parse expression: 1:97: parse error: '
           "unclosed left parenthesis")
    b.add_event(rule, "InvalidConfiguration",
                f"PrometheusRule {name} was rejected due to invalid configuration: {err}", "Warning", 6,
                first=created + timedelta(seconds=5), component="prometheus-controller")
    b.refresh()
    return rule


def require_monitor_label(b: PlatformBuilder, key: str = "app.kubernetes.io/part-of", value: str = "kube-prometheus") -> Obj:
    """The Prometheus selects only ServiceMonitors carrying one label (kube-prometheus-stack style)."""
    cr = b.require("Prometheus", NS, PROM)
    cr["spec"]["serviceMonitorSelector"] = {"matchLabels": {key: value}}
    bump(cr, generation=True)
    for c in cr["status"]["conditions"]:
        c["observedGeneration"] = cr["metadata"]["generation"]
    validate_object(cr)
    b.refresh()
    return cr


def tenant_service_monitor(b: PlatformBuilder, namespace: str, *, selector: dict[str, str], port: str,
                           labels: dict[str, str] | None = None, name: str = "api-business-metrics") -> Obj:
    """A tenant ServiceMonitor as the api chart would ship it."""
    sm = new_object("ServiceMonitor", name, namespace, b.now - timedelta(days=2), api_version=MON_API,
                    labels=labels if labels is not None else {"app.kubernetes.io/name": "api",
                                                              "app.kubernetes.io/instance": "api"})
    sm["spec"] = {"endpoints": [{"interval": "30s", "path": "/metrics", "port": port}],
                  "selector": {"matchLabels": dict(selector)}}
    validate_object(sm)
    b.add(sm)
    b.refresh()
    return sm


def scale_prometheus(b: PlatformBuilder, replicas: int = 2) -> list[Obj]:
    """spec.replicas raised on the Prometheus CR: the operator scales its StatefulSet, which creates the
    next ordinal pods with their own bound claims (as the builder does for a new StatefulSet)."""
    cr = b.require("Prometheus", NS, PROM)
    cr["spec"]["replicas"] = replicas
    bump(cr, generation=True)
    for c in cr["status"]["conditions"]:
        c["observedGeneration"] = cr["metadata"]["generation"]
    validate_object(cr)
    w = b.workload("StatefulSet", NS, PROM_STS)
    sts = w.statefulset
    sts["spec"]["replicas"] = replicas
    bump(sts, generation=True)
    created = b.now - timedelta(hours=2)
    new = []
    for i in range(len(w.pods), replicas):
        pod_name = f"{PROM_STS}-{i}"
        tmpl = copy.deepcopy(sts["spec"]["template"])
        for vct in sts["spec"].get("volumeClaimTemplates", []):
            claim_name = f"{vct['metadata']['name']}-{pod_name}"
            claim = b.add(storage.pvc(NS, claim_name, vct["spec"]["resources"]["requests"]["storage"], created,
                                      storage_class_name=vct["spec"].get("storageClassName"),
                                      labels=sts["spec"]["selector"]["matchLabels"]))
            w.pvcs.append(claim)
            w.pvs.append(b.add(storage.bind(claim)))
            tmpl["spec"].setdefault("volumes", []).insert(0, podlib.pvc_volume(vct["metadata"]["name"], claim_name))
        node = b._pick_node(podlib.pod_spec_for(tmpl["spec"], pod_name, NS, None), None)
        pod = b._make_pod(name=pod_name, namespace=NS, template=tmpl, owner=sts, node_name=node, created=created,
                          hostname=pod_name, subdomain=sts["spec"]["serviceName"], log_flavor="prometheus",
                          extra_labels={"apps.kubernetes.io/pod-index": str(i),
                                        "controller-revision-hash": sts["status"]["updateRevision"],
                                        "statefulset.kubernetes.io/pod-name": pod_name})
        w.pods.append(pod)
        b._pod_workload[pod["metadata"]["uid"]] = w
        new.append(pod)
    b.refresh()
    return new


def alertmanager_crashloop(b: PlatformBuilder) -> Obj:
    """Alertmanager exits at start-up on a broken receiver configuration."""
    pod = b.require("Pod", NS, f"{AM_STS}-0")
    start = b.now - timedelta(seconds=50)
    log = (f'ts={ts(start)} caller=main.go:181 level=info msg="Starting Alertmanager" version="(version=0.28.1)"\n'
           f'ts={ts(start + timedelta(seconds=1))} caller=coordinator.go:118 level=error component=configuration '
           f'msg="Loading configuration file failed" file=/etc/alertmanager/config_out/alertmanager.env.yaml '
           f'err="no global Slack API URL set"\n')
    faults.crashloop(b, pod, "alertmanager", previous_log=log, restarts=6)
    return pod


# ---------------------------------------------------------------- scenario harness (shared by the policy tests)

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)


def _platform(now: datetime) -> PlatformBuilder:
    """The synth healthy platform, with Prometheus/Alertmanager status derived from their pods."""
    return with_operator_status(scenario.platform(now))


H = scenario.Scenario(NOW, areas=("monitoring", "policy", "components"), build=_platform)
platform, run, serious, serious_roots, dump, one = H.platform, H.run, H.serious, H.serious_roots, H.dump, H.one
codes = scenario.by_code


def assert_only(report: Report, roots: set[str], allowed_roots: set[str] = frozenset()) -> None:
    """The serious root causes are exactly `roots` (codes), plus at most `allowed_roots`; every other
    warning-or-worse finding descends from one of them."""
    got = {f.code for f in serious_roots(report)}
    assert roots <= got <= roots | set(allowed_roots), dump(report)
