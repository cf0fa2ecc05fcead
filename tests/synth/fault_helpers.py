"""Shared mechanics of fault injection: container lookup, waiting states, kubelet events, rollouts."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sre_expert.core.units import quantity
from synth import pods as podlib
from synth.builder import PlatformBuilder, Workload
from synth.meta import (
    bump,
    condition,
    fmt_bytes,
    fmt_cpu,
    number,
    safe_suffix,
    set_condition,
    ts,
)
from synth.workloads import max_surge_unavailable, replicaset, template_hash

# ---------------------------------------------------------------- helpers


def container_of(pod: dict[str, Any], name: str | None) -> dict[str, Any]:
    containers = pod["spec"]["containers"]
    if name is None:
        return containers[0]
    for c in containers:
        if c["name"] == name:
            return c
    raise KeyError(f"pod {pod['metadata']['name']} has no container {name!r}")


def pod_desc(pod: dict[str, Any]) -> str:
    md = pod["metadata"]
    return f"{md['name']}_{md['namespace']}({md['uid']})"


def backoff_text(restarts: int) -> str:
    seconds = min(300, 10 * 2 ** max(0, restarts - 1))
    return f"{seconds // 60}m{seconds % 60}s" if seconds >= 60 else f"{seconds}s"


def drop_logs(b: PlatformBuilder, pod: dict[str, Any], container: str | None = None) -> None:
    ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    for key in [
        k for k in b.logs if k[0] == ns and k[1] == name and (container is None or k[2] == container)
    ]:
        del b.logs[key]


def set_waiting(
    pod: dict[str, Any], cname: str, reason: str, message: str | None, when: datetime
) -> dict[str, Any]:
    """A container that never started (image, config, mount errors): the pod is Pending."""
    c = container_of(pod, cname)
    statuses = pod["status"].setdefault("containerStatuses", [])
    new = podlib.waiting_container_status(c, reason, message)
    for i, cs in enumerate(statuses):
        if cs["name"] == cname:
            statuses[i] = new
            break
    else:
        statuses.append(new)
    pod["status"]["phase"] = "Pending"
    podlib.refresh_readiness(pod, when)
    return new


def fresh_pending_status(
    pod: dict[str, Any], created: datetime, reason: str, message: str | None, sandbox_ready: bool = True
) -> None:
    """Status of a new pod whose containers are all stuck waiting (never ran)."""
    host_ip, pod_ip = pod["status"].get("hostIP"), pod["status"].get("podIP")
    names = ", ".join(c["name"] for c in pod["spec"]["containers"])
    unready = f"containers with unready status: [{names}]"
    sandbox = created + timedelta(seconds=2)
    status: dict[str, Any] = {
        "conditions": [
            podlib.pod_condition("PodReadyToStartContainers", "True" if sandbox_ready else "False", sandbox),
            podlib.pod_condition("Initialized", "True", created),
            podlib.pod_condition("Ready", "False", created, "ContainersNotReady", unready),
            podlib.pod_condition("ContainersReady", "False", created, "ContainersNotReady", unready),
            podlib.pod_condition("PodScheduled", "True", created),
        ],
        "containerStatuses": [
            podlib.waiting_container_status(c, reason, message) for c in pod["spec"]["containers"]
        ],
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "phase": "Pending",
    }
    if sandbox_ready:
        status.update({"podIP": pod_ip, "podIPs": [{"ip": pod_ip}]})
    status.update({"qosClass": podlib.qos_class(pod["spec"]), "startTime": ts(created)})
    pod["status"] = status


def kubelet_event(
    b: PlatformBuilder,
    pod: dict[str, Any],
    reason: str,
    message: str,
    type_: str,
    count: int,
    first: datetime,
    cname: str | None = None,
    last: datetime | None = None,
) -> dict[str, Any]:
    return b.add_event(
        pod,
        reason,
        message,
        type_,
        count,
        first=first,
        last=last
        or b.now - timedelta(seconds=number("kl", pod["metadata"]["uid"], reason, message, lo=3, hi=40)),
        component="kubelet",
        field_path=f"spec.containers{{{cname}}}" if cname else None,
    )


def require_deployment(w: Workload) -> None:
    if w.kind != "Deployment":
        raise ValueError(f"{w.kind} {w.namespace}/{w.name}: this fault needs a Deployment workload")


def revision_of(dep: dict[str, Any]) -> int:
    return int(dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"])


def rollout(
    b: PlatformBuilder,
    w: Workload,
    mutate: Callable[[dict[str, Any]], None],
    *,
    since: timedelta = timedelta(minutes=20),
    new_pods: int | None = None,
) -> list[dict[str, Any]]:
    """Start a rolling update of a Deployment: new ReplicaSet revision with `mutate`d template and its
    first surge pod(s), old pods untouched. Returns the new pods (healthy until a fault changes them)."""
    require_deployment(w)
    dep = w.deployment
    started = b.now - since
    tmpl = copy.deepcopy(dep["spec"]["template"])
    mutate(tmpl)
    revision = revision_of(dep) + 1
    dep["spec"]["template"] = tmpl
    dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = str(revision)
    bump(dep, generation=True)
    surge, _ = max_surge_unavailable(dep)
    wanted = max(1, surge)
    count = new_pods if new_pods is not None else wanted
    rs = b.add(replicaset(dep, revision, started, wanted))
    if w.replicaset is not None:
        w.old_replicasets.insert(0, w.replicaset)
    w.replicaset = rs
    pods = []
    for i in range(count):
        name = f"{rs['metadata']['name']}-{safe_suffix('pod', w.namespace, rs['metadata']['name'], i)}"
        spec_for_fit = podlib.pod_spec_for(rs["spec"]["template"]["spec"], name, w.namespace, None)
        node = b._pick_node(spec_for_fit, None)
        pod = b._make_pod(
            name=name,
            namespace=w.namespace,
            template=rs["spec"]["template"],
            owner=rs,
            node_name=node,
            created=started + timedelta(seconds=1 + i),
            generate_name=f"{rs['metadata']['name']}-",
            emit_events=False,
        )
        w.pods.append(pod)
        b._pod_workload[pod["metadata"]["uid"]] = w
        pods.append(pod)
        b.add_event(
            rs,
            "SuccessfulCreate",
            f"Created pod: {name}",
            component="replicaset-controller",
            first=started + timedelta(seconds=1 + i),
        )
        b.add_event(
            pod,
            "Scheduled",
            f"Successfully assigned {w.namespace}/{name} to {node}",
            component="default-scheduler",
            first=started + timedelta(seconds=1 + i),
        )
    b.add_event(
        dep,
        "ScalingReplicaSet",
        f"Scaled up replica set {rs['metadata']['name']} from 0 to {wanted}",
        component="deployment-controller",
        first=started,
    )
    set_condition(
        dep,
        condition(
            "Progressing",
            "True",
            "ReplicaSetUpdated",
            f'ReplicaSet "{rs["metadata"]["name"]}" is progressing.',
            started,
            update=started + timedelta(seconds=2),
        ),
    )
    return pods


def target_pod(
    b: PlatformBuilder,
    target: dict[str, Any] | Workload,
    mutate: Callable[[dict[str, Any]], None],
    since: timedelta,
) -> dict[str, Any]:
    """A Deployment workload gets a rollout whose first new pod is returned; a pod is changed in place."""
    if isinstance(target, Workload):
        return rollout(b, target, mutate, since=since)[0]
    pod = target
    w = b.workload_of(pod)
    if w is not None and w.kind == "StatefulSet":
        # a StatefulSet rolling update: new template revision, the pod recreated at that revision
        sts = w.statefulset
        mutate(sts["spec"]["template"])
        bump(sts, generation=True)
        rev = f"{w.name}-{template_hash(sts['spec']['template'], f'{w.namespace}/{w.name}')}"
        sts["status"]["updateRevision"] = rev
        pod["metadata"]["labels"]["controller-revision-hash"] = rev
    mutate({"metadata": {"labels": {}}, "spec": pod["spec"]})
    return pod


# ---------------------------------------------------------------- container faults


def replace_pod(
    b: PlatformBuilder, pod: dict[str, Any], created: datetime, avoid: str | None
) -> dict[str, Any] | None:
    """The ReplicaSet controller's replacement for a pod that is gone or terminating."""
    w = b.workload_of(pod)
    if w is None or w.kind != "Deployment":
        return None
    rs = next(
        r
        for r in [w.replicaset] + w.old_replicasets
        if r and r["metadata"]["uid"] == pod["metadata"]["ownerReferences"][0]["uid"]
    )
    name = f"{rs['metadata']['name']}-{safe_suffix('repl', pod['metadata']['uid'])}"
    spec_fit = podlib.pod_spec_for(rs["spec"]["template"]["spec"], name, w.namespace, None)
    for _ in range(len(b.node_names()) + 1):
        node = b._pick_node(spec_fit, None)
        if node != avoid and b.require("Node", None, node)["status"]["conditions"][-1]["status"] == "True":
            break
    new = b._make_pod(
        name=name,
        namespace=w.namespace,
        template=rs["spec"]["template"],
        owner=rs,
        node_name=node,
        created=created,
        generate_name=f"{rs['metadata']['name']}-",
    )
    w.pods.append(new)
    b._pod_workload[new["metadata"]["uid"]] = w
    b.add_event(
        rs, "SuccessfulCreate", f"Created pod: {name}", component="replicaset-controller", first=created
    )
    return new


def fit_quota(b: PlatformBuilder, namespace: str) -> None:
    """Raise ResourceQuota hard limits that the namespace's pods now exceed: quota admission would have
    rejected those pods otherwise, so a fault that grows requests implies the quota was raised too."""
    usage = b.namespace_usage(namespace)
    for q in b.list("ResourceQuota", namespace):
        hard = q["spec"]["hard"]
        for key, value in list(hard.items()):
            used = usage.get(key, 0.0)
            if used > quantity(value):
                if key.endswith(".cpu"):
                    hard[key] = fmt_cpu(int(used * 1.25) + 1)
                elif key.endswith(("memory", "storage")):
                    hard[key] = fmt_bytes(2**30 * (int(used * 1.25 / 2**30) + 1))
                else:
                    hard[key] = str(int(used * 1.25) + 1)
                bump(q)
    b.refresh_quotas()
