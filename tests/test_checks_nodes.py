"""Node, HorizontalPodAutoscaler and unexplained-event checks: one fault at a time on the healthy platform.

Faults are what the kubelet, the node lifecycle controller, the HPA controller and other components
write (conditions, taints, Leases, events); each test asserts the finding (code, object, evidence), how it
links (pods on a failed node are its symptoms; an HPA without metrics is the metrics API's symptom), and
that nothing else of severity warning or above appears.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from scenario import Scenario, has, live_pods

from sre_expert.checks.events import unexplained_warning_events
from sre_expert.core.model import SEVERITY_RANK
from sre_expert.sources.memory import snapshot_from_objects
from synth import faults
from synth import pods as podlib
from synth.builder import PlatformBuilder
from synth.events import event
from synth.meta import micro_ts, ts, uid

pytestmark = pytest.mark.scenario

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
MYCURE = "mycure-production"
LFH = "lfh-staging"
MINE = ("NODE-", "HPA-", "EVENT-")

Obj = dict[str, Any]


# --------------------------------------------------------------------------------------------- harness

H = Scenario(NOW, areas=("nodes", "autoscaling", "events"), namespace=None)
platform, run, dump, one, only_serious = H.platform, H.run, H.dump, H.one, H.only_serious


def set_node_condition(
    node: Obj,
    type_: str,
    status: str,
    reason: str,
    message: str,
    since: datetime,
    heartbeat: datetime | None = None,
) -> None:
    for c in node["status"]["conditions"]:
        if c["type"] == type_:
            c.update(
                status=status,
                reason=reason,
                message=message,
                lastTransitionTime=ts(since),
                lastHeartbeatTime=ts(heartbeat or NOW - timedelta(seconds=20)),
            )
            return
    raise KeyError(type_)


def add_taint(
    node: Obj, key: str, effect: str, added: datetime | None = None, value: str | None = None
) -> None:
    t: dict[str, Any] = {"effect": effect, "key": key}
    if value is not None:
        t["value"] = value
    if added is not None:
        t["timeAdded"] = ts(added)
    node["spec"].setdefault("taints", []).append(t)


# --------------------------------------------------------------------------------------------- healthy


def test_healthy_platform_has_no_node_hpa_or_event_findings() -> None:
    report = run(platform())
    assert not [f for f in report.findings if f.code.startswith(MINE)], dump(report)


# --------------------------------------------------------------------------------------------- nodes


def node_lost(b: PlatformBuilder, name: str, since: timedelta = timedelta(minutes=7)) -> list[Obj]:
    """The kubelet stops posting status: the node lifecycle controller marks every kubelet condition Unknown,
    taints the node unreachable and marks its pods NotReady."""
    node = b.require("Node", None, name)
    went = NOW - since
    last_hb = went - timedelta(seconds=40)
    for c in node["status"]["conditions"]:
        if c["type"] in ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure"):
            c.update(
                status="Unknown",
                reason="NodeStatusUnknown",
                message="Kubelet stopped posting node status.",
                lastTransitionTime=ts(went),
                lastHeartbeatTime=ts(last_hb),
            )
    add_taint(node, "node.kubernetes.io/unreachable", "NoSchedule", went)
    add_taint(node, "node.kubernetes.io/unreachable", "NoExecute", went)
    b.require("Lease", "kube-node-lease", name)["spec"]["renewTime"] = micro_ts(last_hb)
    b.add_event(
        node,
        "NodeNotReady",
        f"Node {name} status is now: NodeNotReady",
        component="node-controller",
        first=went,
    )
    pods = [p for p in b.list("Pod") if p["spec"].get("nodeName") == name and not podlib.is_terminal(p)]
    for p in pods:
        podlib.set_pod_condition(p, "Ready", "False", went)
        b.add_event(
            p, "NodeNotReady", "Node is not ready", "Warning", component="node-controller", first=went
        )
    return pods


def test_not_ready_node_is_the_root_of_its_pods_and_services() -> None:
    b = platform()
    pods = node_lost(b, "k8s-worker-2")
    report = run(b)
    f = one(report, "NODE-NOT-READY", "k8s-worker-2")
    assert f.severity == "critical" and f.root_cause
    assert "Ready=Unknown (NodeStatusUnknown)" in f.title
    assert has(
        f.evidence,
        'status.conditions[Ready]: Unknown (NodeStatusUnknown) "Kubelet stopped posting node status."',
    )
    assert has(f.evidence, "last kubelet heartbeat 2026-11-26T09:52:20Z (7m ago)")
    assert has(f.evidence, "node.kubernetes.io/unreachable:NoExecute")
    assert {("Pod", p["metadata"]["namespace"], p["metadata"]["name"]) for p in pods} <= set(f.subjects)
    drain = [r for r in f.remediation if r.command and r.command.startswith("kubectl drain")]
    assert drain and drain[0].safety == "destructive"
    assert f.runbook == "complete-outage"
    only_serious(report, f)


def test_not_ready_node_after_the_taint_manager_evicted_its_pods() -> None:
    """synth's node_not_ready: 12 minutes down, pods marked for deletion and replaced elsewhere."""
    b = platform()
    faults.node_not_ready(b, b.require("Node", None, "k8s-worker-1"))
    report = run(b)
    f = one(report, "NODE-NOT-READY", "k8s-worker-1")
    assert f.severity == "critical" and f.root_cause
    on_node = [
        p for p in b.list("Pod") if p["spec"].get("nodeName") == "k8s-worker-1" and not podlib.is_terminal(p)
    ]
    assert {("Pod", p["metadata"]["namespace"], p["metadata"]["name"]) for p in on_node} <= set(f.subjects)
    assert has(f.evidence, "Kubelet stopped posting node status.")
    only_serious(report, f)


def test_disk_pressure_with_an_eviction() -> None:
    b = platform()
    victim = next(p for p in live_pods(b, "Deployment", "api") if p["spec"].get("nodeName"))
    node = victim["spec"]["nodeName"]
    faults.evicted(b, victim, resource="ephemeral-storage")
    report = run(b)
    f = one(report, "NODE-DISK-PRESSURE", node)
    assert f.severity == "warning" and f.root_cause
    assert "1 pod(s) evicted" in f.title
    assert has(
        f.evidence,
        'status.conditions[DiskPressure]: True (KubeletHasDiskPressure) "kubelet has disk pressure"',
    )
    assert has(f.evidence, "node.kubernetes.io/disk-pressure:NoSchedule")
    assert has(f.evidence, "The node was low on resource: ephemeral-storage")
    assert has(f.evidence, "EvictionThresholdMet")
    assert ("Pod", MYCURE, victim["metadata"]["name"]) in f.subjects
    only_serious(report, f)


@pytest.mark.parametrize(("node", "resource", "code", "titles", "evidence"), [
    pytest.param("k8s-worker-3", "memory", "NODE-MEMORY-PRESSURE", [], [
        "status.conditions[MemoryPressure]: True (KubeletHasInsufficientMemory)",
        "status.capacity.memory: 32Gi",
    ], id="memory_pressure_without_evictions_is_a_warning"),
    pytest.param("k8s-worker-2", "pid", "NODE-PID-PRESSURE", ["PID pressure"], [
        "status.conditions[PIDPressure]: True (KubeletHasInsufficientPID)",
    ], id="pid_pressure"),
])
def test_node_pressure(node: str, resource: str, code: str, titles: list[str], evidence: list[str]) -> None:
    b = platform()
    faults.node_pressure(b, b.require("Node", None, node), resource)
    report = run(b)
    f = one(report, code, node)
    assert f.severity == "warning"
    for text in titles:
        assert text in f.title
    for text in evidence:
        assert has(f.evidence, text), text
    only_serious(report, f)


def test_network_unavailable() -> None:
    b = platform()
    node = b.require("Node", None, "k8s-worker-3")
    set_node_condition(
        node,
        "NetworkUnavailable",
        "True",
        "NoRouteCreated",
        "RouteController failed to create a route",
        NOW - timedelta(minutes=9),
    )
    add_taint(node, "node.kubernetes.io/network-unavailable", "NoSchedule", NOW - timedelta(minutes=9))
    report = run(b)
    f = one(report, "NODE-NETWORK-UNAVAILABLE", "k8s-worker-3")
    assert f.severity == "critical"
    assert has(f.evidence, "RouteController failed to create a route")
    assert [t for t in report.findings if t.code == "NODE-TAINTED"] == []
    only_serious(report, f)


def test_long_cordon_is_a_warning_short_one_info() -> None:
    for age, severity in ((timedelta(hours=3), "warning"), (timedelta(minutes=10), "info")):
        b = platform()
        node = b.require("Node", None, "k8s-worker-3")
        node["spec"]["unschedulable"] = True
        add_taint(node, "node.kubernetes.io/unschedulable", "NoSchedule", NOW - age)
        b.add_event(
            node,
            "NodeNotSchedulable",
            "Node k8s-worker-3 status is now: NodeNotSchedulable",
            first=NOW - age,
            last=NOW - age,
        )
        report = run(b)
        f = one(report, "NODE-CORDONED", "k8s-worker-3")
        assert f.severity == severity
        assert has(f.evidence, "spec.unschedulable: true")
        assert has(f.evidence, "cordoned since")
        uncordon = [r for r in f.remediation if r.command == "kubectl uncordon k8s-worker-3"]
        assert uncordon and uncordon[0].safety == "mutating"
        only_serious(report, *([f] if severity == "warning" else []))


def test_custom_taint_is_info_stuck_startup_taint_a_warning() -> None:
    b = platform()
    add_taint(b.require("Node", None, "k8s-worker-3"), "dedicated", "NoSchedule", value="mongodb")
    # k8s-worker-1 re-registered 40 minutes ago and the cloud controller never initialized it
    fresh = b.require("Node", None, "k8s-worker-1")
    fresh["metadata"]["creationTimestamp"] = ts(NOW - timedelta(minutes=40))
    add_taint(fresh, "node.cloudprovider.kubernetes.io/uninitialized", "NoSchedule", value="true")
    report = run(b)
    custom = one(report, "NODE-TAINTED", "k8s-worker-3")
    assert custom.severity == "info" and "dedicated=mongodb:NoSchedule" in custom.title
    stuck = one(report, "NODE-TAINTED", "k8s-worker-1")
    assert stuck.severity == "warning"
    assert has(stuck.evidence, "the cloud controller manager has not initialized the node after 40m")
    taint_cmd = [r for r in stuck.remediation if r.command and r.command.startswith("kubectl taint")][0]
    assert (
        taint_cmd.command
        == "kubectl taint nodes k8s-worker-1 node.cloudprovider.kubernetes.io/uninitialized-"
    )
    only_serious(report, stuck)


def test_control_plane_taint_is_not_reported() -> None:
    report = run(platform())
    assert not [f for f in report.findings if f.code == "NODE-TAINTED"]


# --------------------------------------------------------------------------------------------- autoscaling


def hpa(b: PlatformBuilder, namespace: str = MYCURE) -> Obj:
    return b.require("HorizontalPodAutoscaler", namespace, "api")


def set_hpa_condition(h: Obj, type_: str, status: str, reason: str, message: str, since: timedelta) -> None:
    for c in h["status"]["conditions"]:
        if c["type"] == type_:
            c.update(status=status, reason=reason, message=message, lastTransitionTime=ts(NOW - since))
            return
    raise KeyError(type_)


def test_hpa_target_missing() -> None:
    b = platform()
    h = hpa(b)
    h["spec"]["scaleTargetRef"]["name"] = "api-v2"
    msg = 'the HPA controller was unable to get the target\'s current scale: deployments/scale.apps "api-v2" not found'
    set_hpa_condition(h, "AbleToScale", "False", "FailedGetScale", msg, timedelta(minutes=30))
    h["status"]["conditions"] = [c for c in h["status"]["conditions"] if c["type"] == "AbleToScale"]
    h["status"].pop("currentMetrics", None)
    b.add_event(h, "FailedGetScale", 'deployments/scale.apps "api-v2" not found', "Warning", count=60)
    report = run(b)
    f = one(report, "HPA-TARGET-MISSING", "api", MYCURE)
    assert f.severity == "warning"
    assert has(f.evidence, "spec.scaleTargetRef: apps/v1 Deployment api-v2")
    assert has(f.evidence, 'deployments/scale.apps "api-v2" not found')
    assert not [x for x in report.findings if x.code == "HPA-UNABLE-TO-SCALE"]
    only_serious(report, f)


def test_hpa_missing_cpu_request_names_the_container() -> None:
    b = platform()
    b.remove(
        b.require("ResourceQuota", MYCURE, "compute-quota")
    )  # a quota on requests would refuse such pods
    w = b.workload("Deployment", MYCURE, "api")
    sidecar = podlib.container("log-shipper", "docker.io/fluent/fluent-bit:3.1.9", requests=None, limits=None)
    sidecar.pop("resources", None)
    sidecar["resources"] = {}
    for spec in [w.controller["spec"]["template"]["spec"], w.replicaset["spec"]["template"]["spec"]] + [
        p["spec"] for p in live_pods(b, "Deployment", "api")
    ]:
        spec["containers"].append(copy.deepcopy(sidecar))
    pod0 = live_pods(b, "Deployment", "api")[0]["metadata"]["name"]
    msg = (
        "the HPA was unable to compute the replica count: failed to get cpu utilization: missing request for cpu "
        f'in container "log-shipper" of Pod "{pod0}"'
    )
    h = hpa(b)
    set_hpa_condition(h, "ScalingActive", "False", "FailedGetResourceMetric", msg, timedelta(minutes=20))
    h["status"]["currentMetrics"] = None
    b.add_event(
        h,
        "FailedGetResourceMetric",
        f'failed to get cpu utilization: missing request for cpu in container "log-shipper" of Pod "{pod0}"',
        "Warning",
        count=80,
        component="horizontal-pod-autoscaler",
    )
    report = run(b)
    f = one(report, "HPA-MISSING-REQUESTS", "api", MYCURE)
    assert f.severity == "warning"
    assert "log-shipper" in f.title and "cpu" in f.title
    assert has(f.evidence, "container(s) log-shipper set no resources.requests.cpu")
    assert has(f.evidence, "missing request for cpu")
    cmd = [r for r in f.remediation if r.command and "set resources" in r.command][0]
    assert (
        cmd.command
        == f"kubectl set resources deployment api -n {MYCURE} -c log-shipper --requests=cpu=<amount>"
    )
    assert cmd.safety == "mutating"
    only_serious(report, f)


def crashloop(b: PlatformBuilder, pod: Obj) -> None:
    c = pod["spec"]["containers"][0]["name"]
    cs = podlib.container_status(pod, c)
    md = pod["metadata"]
    cs.update(
        {
            "ready": False,
            "restartCount": 11,
            "started": False,
            "lastState": {
                "terminated": {
                    "exitCode": 1,
                    "reason": "Error",
                    "finishedAt": ts(NOW - timedelta(minutes=2)),
                    "startedAt": ts(NOW - timedelta(minutes=2, seconds=5)),
                }
            },
            "state": {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": f"back-off 5m0s restarting failed container={c} pod={md['name']}",
                }
            },
        }
    )
    podlib.refresh_readiness(pod, NOW - timedelta(minutes=30))
    b.add_event(
        pod, "BackOff", f"Back-off restarting failed container {c} in pod {md['name']}", "Warning", count=40
    )


def test_hpa_without_metrics_is_explained_by_the_metrics_server() -> None:
    b = platform()
    for p in live_pods(b, "Deployment", "metrics-server", "kube-system"):
        crashloop(b, p)
    msg = (
        "the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for "
        "resource cpu: unable to fetch metrics from resource metrics API: the server is currently unable to handle "
        "the request (get pods.metrics.k8s.io)"
    )
    hpas = b.list("HorizontalPodAutoscaler")
    for h in hpas:
        set_hpa_condition(h, "ScalingActive", "False", "FailedGetResourceMetric", msg, timedelta(minutes=25))
        for m in h["status"]["currentMetrics"]:
            m["resource"]["current"] = {}
        b.add_event(
            h,
            "FailedGetResourceMetric",
            msg.split(": ", 1)[1],
            "Warning",
            count=100,
            component="horizontal-pod-autoscaler",
        )
    report = run(b)
    for h in hpas:
        f = one(report, "HPA-METRICS-UNAVAILABLE", "api", h["metadata"]["namespace"])
        assert f.severity == "warning" and not f.root_cause
        assert has(f.evidence, "get pods.metrics.k8s.io")
        assert has(f.evidence, "has no current value (<unknown>)")
        assert ("Service", "kube-system", "metrics-server") in f.depends_on
        assert any(
            c.startswith(("SVC-NO-READY-ENDPOINTS/kube-system/Service/metrics-server", "POD-"))
            for c in f.caused_by
        ), dump(report)
    roots = [x for x in report.findings if x.root_cause and SEVERITY_RANK[x.severity] <= 1]
    assert [(x.code, x.object.name) for x in roots] == [("POD-CRASHLOOP", "metrics-server")], dump(report)


def test_hpa_pinned_at_max_replicas_while_over_target() -> None:
    b = platform()
    h = hpa(b)
    h["spec"]["maxReplicas"] = h["status"]["currentReplicas"]
    h["status"]["desiredReplicas"] = h["spec"]["maxReplicas"]
    h["status"]["currentMetrics"][0]["resource"]["current"] = {
        "averageUtilization": 186,
        "averageValue": "465m",
    }
    for c in h["status"]["conditions"]:
        if c["type"] == "ScalingLimited":
            c.update(
                status="True",
                reason="TooManyReplicas",
                message="the desired replica count is more than the maximum replica count",
                lastTransitionTime=ts(NOW - timedelta(minutes=35)),
            )
    report = run(b)
    f = one(report, "HPA-AT-MAX-REPLICAS", "api", MYCURE)
    assert f.severity == "warning"
    mx = h["spec"]["maxReplicas"]
    assert has(f.evidence, f"status.currentReplicas: {mx} = spec.maxReplicas: {mx}")
    assert has(f.evidence, "cpu 186% of request > target 70%")
    assert has(f.evidence, "TooManyReplicas")
    only_serious(report, f)


def test_hpa_unable_to_update_the_scale() -> None:
    b = platform()
    h = hpa(b)
    msg = (
        'the HPA controller was unable to update the target scale: admission webhook "validate.kyverno.svc-fail" '
        "denied the request: policy deployment-replicas/check-max: replicas must be at most 3"
    )
    set_hpa_condition(h, "AbleToScale", "False", "FailedUpdateScale", msg, timedelta(minutes=15))
    b.add_event(
        h,
        "FailedRescale",
        "New size: 4; reason: cpu resource utilization (percentage of request) above "
        f"target; error: {msg.split(': ', 1)[1]}",
        "Warning",
        count=15,
        component="horizontal-pod-autoscaler",
    )
    report = run(b)
    f = one(report, "HPA-UNABLE-TO-SCALE", "api", MYCURE)
    assert f.severity == "warning" and "FailedUpdateScale" in f.title
    assert has(f.evidence, 'admission webhook "validate.kyverno.svc-fail" denied the request')
    assert has(f.evidence, "FailedRescale ×15")
    assert ("Deployment", MYCURE, "api") in f.depends_on
    only_serious(report, f)


def test_hpa_at_max_but_under_target_is_fine() -> None:
    b = platform()
    h = hpa(b)
    h["spec"]["maxReplicas"] = h["status"]["currentReplicas"]
    report = run(b)
    assert not [f for f in report.findings if f.code.startswith("HPA-")], dump(report)


# --------------------------------------------------------------------------------------------- events


def test_unexplained_warning_event_is_reported_once_per_object_and_reason() -> None:
    b = platform()
    cj = b.require("CronJob", MYCURE, "session-cleanup")
    msg = (
        "Cannot determine if job needs to be started: too many missed start time (> 100). Set or decrease "
        ".spec.startingDeadlineSeconds or check clock skew"
    )
    b.add_event(cj, "FailedNeedsStart", msg, "Warning", count=3, last=NOW - timedelta(minutes=4))
    b.add_event(
        cj,
        "FailedNeedsStart",
        msg,
        "Warning",
        count=2,
        first=NOW - timedelta(minutes=50),
        last=NOW - timedelta(minutes=40),
    )
    b.add_event(
        cj,
        "FailedGetJob",
        "old trouble",
        "Warning",
        first=NOW - timedelta(hours=3),
        last=NOW - timedelta(hours=2),
    )
    report = run(b)
    f = one(report, "EVENT-WARNING", "session-cleanup", MYCURE)
    assert f.severity == "info"
    assert "FailedNeedsStart ×5" in f.title
    assert has(f.evidence, "too many missed start time")
    assert has(f.evidence, "5 occurrences in the last hour")
    assert f.remediation[0].command == (
        f"kubectl get events -n {MYCURE} --field-selector involvedObject.kind=CronJob,"
        "involvedObject.name=session-cleanup,reason=FailedNeedsStart "
        "--sort-by=.lastTimestamp"
    )
    assert not [x for x in report.findings if "FailedGetJob" in x.title]


def test_events_of_explained_gone_or_recovered_objects_are_not_reported() -> None:
    b = platform()
    pods = node_lost(b, "k8s-worker-2")  # NodeNotReady warnings on pods the node finding explains
    assert pods
    gone = copy.deepcopy(live_pods(b, "Deployment", "api")[0])
    gone["metadata"]["name"] = "api-deleted-xyz12"
    gone["metadata"]["uid"] = uid("Pod", MYCURE, "api-deleted-xyz12")
    b.objects.append(
        event(
            gone,
            "BackOff",
            "Back-off restarting failed container",
            type_="Warning",
            count=9,
            first=NOW - timedelta(minutes=20),
            component="kubelet",
        )
    )
    ready = next(p for p in live_pods(b, "Deployment", "api", LFH))
    b.add_event(
        ready,
        "FailedScheduling",
        "0/4 nodes are available: 3 Insufficient cpu.",
        "Warning",
        component="default-scheduler",
        first=NOW - timedelta(minutes=30),
    )
    b.add_event(
        ready,
        "Unhealthy",
        "Readiness probe failed: HTTP probe failed with statuscode: 503",
        "Warning",
        first=NOW - timedelta(minutes=30),
    )
    report = run(b)
    assert not [f for f in report.findings if f.code.startswith("EVENT-")], dump(report)


def test_many_objects_with_the_same_warning_are_grouped() -> None:
    b = platform()
    pods = [p for p in b.list("Pod", "kube-system") if not podlib.is_terminal(p)]
    assert len(pods) > 5
    for p in pods:
        b.add_event(
            p,
            "PolicyViolation",
            "policy require-requests-limits/validate-resources fail: validation error: "
            "CPU and memory resource requests and limits are required.",
            "Warning",
            count=2,
            component="kyverno-admission",
        )
    report = run(b)
    f = one(report, "EVENT-WARNINGS-GROUPED", "kube-system", None)
    assert f.object.kind == "Namespace" and f.severity == "info"
    assert f"{len(pods)} objects" in f.title and "PolicyViolation" in f.title
    assert has(f.evidence, "… and")
    assert len(f.subjects) >= len(pods)
    assert not [x for x in report.findings if x.code == "EVENT-WARNING"]


def test_thirty_thousand_events_are_capped() -> None:
    b = platform()
    targets = [o for o in b.objects if o["kind"] in ("Service", "ConfigMap", "Deployment", "Secret")]
    objs = list(b.objects)
    for i in range(30_000):
        t = targets[i % len(targets)]
        objs.append(
            event(
                t,
                f"Reason{i % 7}",
                f"something odd #{i % 13}",
                type_="Warning" if i % 2 else "Normal",
                first=NOW - timedelta(minutes=i % 150),
                component="some-operator",
                salt=str(i),
            )
        )
    snap = snapshot_from_objects(objs, NOW)
    out = list(unexplained_warning_events(snap, []))
    assert 0 < len(out) <= 100
