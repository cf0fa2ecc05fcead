"""Faults of scheduling, storage and nodes: Unschedulable, Pending PVC, NotReady, pressure, eviction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sre_expert.core.units import quantity
from synth import pods as podlib
from synth.builder import PlatformBuilder, Workload

# ---------------------------------------------------------------- helpers
from synth.fault_helpers import container_of, drop_logs, fit_quota, replace_pod, target_pod
from synth.meta import bump, fmt_bytes, fmt_cpu, micro_ts, number, parse_ts, ts


def scheduler_message(b: PlatformBuilder, reason: str, *, exclude_tainted: bool = True) -> str:
    """FailedScheduling text for this cluster's nodes, in kube-scheduler's format (sorted reasons)."""
    names = b.node_names()
    tainted = [
        n
        for n in names
        if "node-role.kubernetes.io/control-plane" in b.require("Node", None, n)["metadata"]["labels"]
    ]
    others = [n for n in names if n not in tainted]
    total = len(names)
    if reason == "unbound-pvc":
        return (
            f"0/{total} nodes are available: pod has unbound immediate PersistentVolumeClaims. "
            f"preemption: 0/{total} nodes are available: {total} Preemption is not helpful for scheduling."
        )
    parts = []
    if tainted and exclude_tainted:
        parts.append(
            f"{len(tainted)} node(s) had untolerated taint {{node-role.kubernetes.io/control-plane: }}"
        )
    label = {"memory": "Insufficient memory", "cpu": "Insufficient cpu"}.get(reason, reason)
    parts.append(f"{len(others)} {label}")
    parts.sort()
    pre = []
    if tainted:
        pre.append(f"{len(tainted)} Preemption is not helpful for scheduling")
    pre.append(f"{len(others)} No preemption victims found for incoming pod")
    pre.sort()
    return f"0/{total} nodes are available: {', '.join(parts)}. preemption: 0/{total} nodes are available: {', '.join(pre)}."


def _make_unscheduled(b: PlatformBuilder, pod: dict[str, Any], message: str, since: timedelta) -> None:
    pod["spec"].pop("nodeName", None)
    drop_logs(b, pod)
    first = b.now - since
    pod["status"] = {
        "conditions": [podlib.pod_condition("PodScheduled", "False", first, "Unschedulable", message)],
        "phase": "Pending",
        "qosClass": podlib.qos_class(pod["spec"]),
    }
    n = 6 + number("fs", pod["metadata"]["uid"], hi=30)
    b.add_event(
        pod,
        "FailedScheduling",
        message,
        "Warning",
        n,
        first=first,
        last=b.now - timedelta(seconds=number("fsl", pod["metadata"]["uid"], lo=5, hi=120)),
        component="default-scheduler",
    )


def unschedulable(
    b: PlatformBuilder,
    target: dict[str, Any] | Workload,
    *,
    resource: str = "memory",
    request: str | None = None,
    container: str | None = None,
    since: timedelta = timedelta(minutes=30),
    message: str | None = None,
) -> dict[str, Any]:
    """Pod requests more than any node can offer: Pending, PodScheduled=False/Unschedulable, FailedScheduling.

    A Deployment workload gets a rollout with the oversized request; a pod is changed in place."""
    biggest = max(
        quantity(b.require("Node", None, n)["status"]["allocatable"][resource]) for n in b.node_names()
    )
    value = request or (
        fmt_bytes(2**30 * (int(biggest / 2**30) + 16)) if resource == "memory" else fmt_cpu(int(biggest) + 4)
    )

    def mutate(tmpl: dict[str, Any]) -> None:
        c = container_of({"metadata": {"name": "template"}, "spec": tmpl["spec"]}, container)
        res = c.setdefault("resources", {})
        res.setdefault("requests", {})[resource] = value
        if resource in res.get("limits", {}) and quantity(res["limits"][resource]) < quantity(
            value
        ):
            res["limits"][resource] = value

    pod = target_pod(b, target, mutate, since)
    b.remove_events(pod, "Scheduled")
    _make_unscheduled(b, pod, message or scheduler_message(b, resource), since)
    fit_quota(b, pod["metadata"]["namespace"])
    b.refresh()
    return pod


def pvc_pending(
    b: PlatformBuilder,
    target: dict[str, Any] | Workload,
    *,
    storage_class: str = "fast-ssd",
    since: timedelta = timedelta(minutes=40),
) -> dict[str, Any]:
    """Claim for a StorageClass that does not exist: Pending PVC, ProvisioningFailed events, and the pod that
    needs it Pending (unbound immediate PVC). target: a PVC, or a StatefulSet workload (its first claim)."""
    claim = target.pvcs[0] if isinstance(target, Workload) else target
    ns = claim["metadata"]["namespace"]
    if b.get("StorageClass", None, storage_class) is not None:
        raise ValueError(f"StorageClass {storage_class} exists; pick a missing name")
    pv_name = claim["spec"].pop("volumeName", None)
    if pv_name and b.get("PersistentVolume", None, pv_name):
        b.remove(b.require("PersistentVolume", None, pv_name))
        for node_obj in b.list("Node"):
            st = node_obj["status"]
            st["volumesAttached"] = [v for v in st.get("volumesAttached", []) if pv_name not in v["name"]]
            st["volumesInUse"] = [v for v in st.get("volumesInUse", []) if pv_name not in v]
            for k in ("volumesAttached", "volumesInUse"):
                if not st[k]:
                    del st[k]
    claim["spec"]["storageClassName"] = storage_class
    ann = claim["metadata"].setdefault("annotations", {})
    for k in (
        "pv.kubernetes.io/bind-completed",
        "pv.kubernetes.io/bound-by-controller",
        "volume.beta.kubernetes.io/storage-provisioner",
        "volume.kubernetes.io/storage-provisioner",
    ):
        ann.pop(k, None)
    if not ann:
        del claim["metadata"]["annotations"]
    claim["status"] = {"phase": "Pending"}
    first = b.now - since
    claim["metadata"]["creationTimestamp"] = ts(first)
    bump(claim)
    n = 100 + number("pf", claim["metadata"]["uid"], hi=60)
    b.add_event(
        claim,
        "ProvisioningFailed",
        f'storageclass.storage.k8s.io "{storage_class}" not found',
        "Warning",
        n,
        first=first,
        component="persistentvolume-controller",
    )
    for pod in b.list("Pod", ns):
        uses = any(
            v.get("persistentVolumeClaim", {}).get("claimName") == claim["metadata"]["name"]
            for v in pod["spec"].get("volumes", [])
        )
        if uses and not podlib.is_terminal(pod):
            pod["metadata"]["creationTimestamp"] = ts(first)
            _make_unscheduled(b, pod, scheduler_message(b, "unbound-pvc"), since)
    b.refresh()
    return claim


# ---------------------------------------------------------------- nodes


def _set_node_condition(
    node_obj: dict[str, Any],
    type_: str,
    status: str,
    reason: str,
    message: str,
    heartbeat: datetime,
    transition: datetime,
) -> None:
    for c in node_obj["status"]["conditions"]:
        if c["type"] == type_:
            c.update(
                {
                    "lastHeartbeatTime": ts(heartbeat),
                    "lastTransitionTime": ts(transition),
                    "message": message,
                    "reason": reason,
                    "status": status,
                }
            )


def node_not_ready(
    b: PlatformBuilder,
    node_obj: dict[str, Any],
    *,
    since: timedelta = timedelta(minutes=12),
    evict: bool = True,
) -> dict[str, Any]:
    """Kubelet stopped reporting: conditions Unknown/NodeStatusUnknown, unreachable taints, stale Lease,
    pods NotReady; after 300s the taint manager deletes pods and Deployments replace them elsewhere."""
    name = node_obj["metadata"]["name"]
    lost = b.now - since
    noticed = lost + timedelta(seconds=40)
    msg = "Kubelet stopped posting node status."
    for type_ in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready"):
        _set_node_condition(node_obj, type_, "Unknown", "NodeStatusUnknown", msg, lost, noticed)
    taints = [t for t in node_obj["spec"].get("taints", []) if not t["key"].startswith("node.kubernetes.io/")]
    taints += [
        {"effect": "NoSchedule", "key": "node.kubernetes.io/unreachable", "timeAdded": ts(noticed)},
        {
            "effect": "NoExecute",
            "key": "node.kubernetes.io/unreachable",
            "timeAdded": ts(noticed + timedelta(seconds=5)),
        },
    ]
    node_obj["spec"]["taints"] = taints
    bump(node_obj)
    lease = b.get("Lease", "kube-node-lease", name)
    if lease:
        lease["spec"]["renewTime"] = micro_ts(lost)
    b.add_event(
        node_obj,
        "NodeNotReady",
        f"Node {name} status is now: NodeNotReady",
        first=noticed,
        component="node-controller",
    )
    evict_at = noticed + timedelta(seconds=300)
    for pod in b.list("Pod"):
        if pod["spec"].get("nodeName") != name or podlib.is_terminal(pod):
            continue
        podlib.set_pod_condition(pod, "Ready", "False", noticed)
        b.add_event(
            pod, "NodeNotReady", "Node is not ready", "Warning", first=noticed, component="node-controller"
        )
        tolerates_forever = any(
            t.get("key") == "node.kubernetes.io/unreachable" and "tolerationSeconds" not in t
            for t in pod["spec"].get("tolerations", [])
        ) or any(
            t.get("operator") == "Exists" and not t.get("key") for t in pod["spec"].get("tolerations", [])
        )
        if evict and b.now > evict_at and not tolerates_forever:
            pod["metadata"]["deletionGracePeriodSeconds"] = 30
            pod["metadata"]["deletionTimestamp"] = ts(evict_at + timedelta(seconds=30))
            pod["status"]["conditions"].insert(
                0,
                podlib.pod_condition(
                    "DisruptionTarget",
                    "True",
                    evict_at,
                    "DeletionByTaintManager",
                    "Taint manager: deleting due to NoExecute taint",
                ),
            )
            b.add_event(
                pod,
                "TaintManagerEviction",
                f"Marking for deletion Pod {pod['metadata']['namespace']}/{pod['metadata']['name']}",
                first=evict_at,
                component="taint-eviction-controller",
            )
            replace_pod(b, pod, evict_at + timedelta(seconds=1), avoid=name)
    b.refresh()
    return node_obj


_PRESSURE = {
    "memory": (
        "MemoryPressure",
        "KubeletHasInsufficientMemory",
        "kubelet has insufficient memory available",
        "node.kubernetes.io/memory-pressure",
        "memory",
    ),
    "disk": (
        "DiskPressure",
        "KubeletHasDiskPressure",
        "kubelet has disk pressure",
        "node.kubernetes.io/disk-pressure",
        "ephemeral-storage",
    ),
    "pid": (
        "PIDPressure",
        "KubeletHasInsufficientPID",
        "kubelet has insufficient PID available",
        "node.kubernetes.io/pid-pressure",
        "pids",
    ),
}


def node_pressure(
    b: PlatformBuilder,
    node_obj: dict[str, Any],
    kind: str = "memory",
    *,
    since: timedelta = timedelta(minutes=9),
) -> dict[str, Any]:
    """Kubelet eviction threshold crossed: <Kind>Pressure=True, NoSchedule pressure taint, kubelet events."""
    type_, reason, message, taint_key, resource = _PRESSURE[kind]
    name = node_obj["metadata"]["name"]
    start = b.now - since
    heartbeat = b.now - timedelta(seconds=number("hbp", name, lo=2, hi=30))
    _set_node_condition(node_obj, type_, "True", reason, message, heartbeat, start)
    taints = node_obj["spec"].setdefault("taints", [])
    if not any(t["key"] == taint_key for t in taints):
        taints.append(
            {"effect": "NoSchedule", "key": taint_key, "timeAdded": ts(start + timedelta(seconds=2))}
        )
    bump(node_obj)
    b.add_event(
        node_obj,
        f"NodeHas{reason.removeprefix('KubeletHas')}",
        f"Node {name} status is now: NodeHas{reason.removeprefix('KubeletHas')}",
        first=start,
        component="kubelet",
        host=name,
    )
    b.add_event(
        node_obj,
        "EvictionThresholdMet",
        f"Attempting to reclaim {resource}",
        "Warning",
        3 + number("etm", name, hi=5),
        first=start,
        component="kubelet",
        host=name,
    )
    b.refresh()
    return node_obj


def evicted(
    b: PlatformBuilder,
    pod: dict[str, Any],
    *,
    resource: str = "memory",
    with_pressure: bool = True,
    since: timedelta = timedelta(minutes=8),
) -> dict[str, Any]:
    """Kubelet evicted the pod under node pressure: phase Failed, reason Evicted; a Deployment replaces it."""
    node_name = pod["spec"]["nodeName"]
    at = b.now - since
    c = pod["spec"]["containers"][0]
    req = c.get("resources", {}).get("requests", {}).get("memory", "0")
    usage_ki = int(quantity(req) * 2.4) // 1024
    message = (
        f"The node was low on resource: {resource}. Threshold quantity: 100Mi, available: "
        f"{90000 + number('avail', pod['metadata']['uid'], hi=9000)}Ki. Container {c['name']} was using "
        f"{usage_ki}Ki, request is {req}, has larger consumption of {resource}. "
    )
    if with_pressure:
        node_pressure(
            b,
            b.require("Node", None, node_name),
            "disk" if resource == "ephemeral-storage" else "memory",
            since=since + timedelta(minutes=1),
        )
    drop_logs(b, pod)
    st = pod["status"]
    st["conditions"] = [
        podlib.pod_condition("DisruptionTarget", "True", at, "TerminationByKubelet", message),
        podlib.pod_condition("PodReadyToStartContainers", "False", at + timedelta(seconds=2)),
        podlib.pod_condition("Initialized", "True", parse_ts(st["startTime"])),
        podlib.pod_condition("Ready", "False", at + timedelta(seconds=1), "PodFailed"),
        podlib.pod_condition("ContainersReady", "False", at + timedelta(seconds=1), "PodFailed"),
        podlib.pod_condition("PodScheduled", "True", parse_ts(st["startTime"])),
    ]
    for cs in st.get("containerStatuses", []):
        cs.update(
            {
                "ready": False,
                "started": False,
                "state": {
                    "terminated": {
                        "exitCode": 137,
                        "finishedAt": None,
                        "message": "The container could not be located when the pod was terminated",
                        "reason": "ContainerStatusUnknown",
                        "startedAt": None,
                    }
                },
                "lastState": {},
            }
        )
        cs.pop("containerID", None)
    st["message"] = message
    st["phase"] = "Failed"
    st["reason"] = "Evicted"
    b.add_event(pod, "Evicted", message, "Warning", first=at, component="kubelet")
    b.add_event(
        pod,
        "Killing",
        f"Stopping container {c['name']}",
        first=at,
        component="kubelet",
        field_path=f"spec.containers{{{c['name']}}}",
    )
    replace_pod(b, pod, at + timedelta(seconds=1), avoid=node_name)
    b.refresh()
    return pod


# ---------------------------------------------------------------- probes
