"""Faults injected into a built platform, with the status, events and logs a real cluster shows.

Every function mutates builder objects in place, adds the Warning (and accompanying Normal) events
with the exact message formats of kubelet / kube-scheduler / controllers / operators, writes the
container logs an SRE would read, and ends with `b.refresh()` so owning controllers, endpoints,
quotas, Gateway and Argo CD status agree with the injected state. Each returns the object(s) it
broke so scenarios can assert on them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from . import pods as podlib
from .builder import PlatformBuilder, Workload
from .cron import fire_times_before
from .logs import crash_log, probe_log
from .meta import (
    bump,
    condition,
    find_condition,
    fmt_bytes,
    fmt_cpu,
    micro_ts,
    number,
    owner_reference,
    parse_quantity,
    parse_ts,
    safe_suffix,
    set_condition,
    ts,
)
from .workloads import cron_job_name, fail_job, max_surge_unavailable, replicaset, template_hash
from .workloads import job as make_job

# ---------------------------------------------------------------- helpers


def _container(pod: dict[str, Any], name: str | None) -> dict[str, Any]:
    containers = pod["spec"]["containers"]
    if name is None:
        return containers[0]
    for c in containers:
        if c["name"] == name:
            return c
    raise KeyError(f"pod {pod['metadata']['name']} has no container {name!r}")


def _pod_desc(pod: dict[str, Any]) -> str:
    md = pod["metadata"]
    return f"{md['name']}_{md['namespace']}({md['uid']})"


def _backoff(restarts: int) -> str:
    seconds = min(300, 10 * 2 ** max(0, restarts - 1))
    return f"{seconds // 60}m{seconds % 60}s" if seconds >= 60 else f"{seconds}s"


def _drop_logs(b: PlatformBuilder, pod: dict[str, Any], container: str | None = None) -> None:
    ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    for key in [
        k for k in b.logs if k[0] == ns and k[1] == name and (container is None or k[2] == container)
    ]:
        del b.logs[key]


def _set_waiting(
    pod: dict[str, Any], cname: str, reason: str, message: str | None, when: datetime
) -> dict[str, Any]:
    """A container that never started (image, config, mount errors): the pod is Pending."""
    c = _container(pod, cname)
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


def _fresh_pending_status(
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


def _kubelet(
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


def _require_deployment(w: Workload) -> None:
    if w.kind != "Deployment":
        raise ValueError(f"{w.kind} {w.namespace}/{w.name}: this fault needs a Deployment workload")


def _revision(dep: dict[str, Any]) -> int:
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
    _require_deployment(w)
    dep = w.deployment
    started = b.now - since
    tmpl = copy.deepcopy(dep["spec"]["template"])
    mutate(tmpl)
    revision = _revision(dep) + 1
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


def _target_pod(
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


def crashloop(
    b: PlatformBuilder,
    pod: dict[str, Any],
    container: str | None = None,
    *,
    exit_code: int = 1,
    reason: str = "Error",
    previous_log: str | None = None,
    restarts: int = 7,
    since: timedelta = timedelta(minutes=18),
    message: str | None = None,
) -> dict[str, Any]:
    """Container keeps exiting: CrashLoopBackOff with lastState.terminated, BackOff events, crash logs."""
    c = _container(pod, container)
    cname = c["name"]
    cs = podlib.container_status(pod, cname)
    uid = pod["metadata"]["uid"]
    finished = b.now - timedelta(seconds=number("fin", uid, lo=20, hi=120))
    started = finished - timedelta(seconds=number("run", uid, lo=1, hi=8) if reason != "OOMKilled" else 45)
    last_id = podlib.container_id(uid, cname, restarts)
    terminated: dict[str, Any] = {"containerID": last_id, "exitCode": exit_code, "finishedAt": ts(finished)}
    if message:
        terminated["message"] = message
    terminated.update({"reason": reason, "startedAt": ts(started)})
    cs.update(
        {
            "containerID": last_id,
            "lastState": {"terminated": terminated},
            "ready": False,
            "restartCount": restarts,
            "started": False,
            "state": {
                "waiting": {
                    "message": f"back-off {_backoff(restarts)} restarting failed container={cname} "
                    f"pod={_pod_desc(pod)}",
                    "reason": "CrashLoopBackOff",
                }
            },
        }
    )
    pod["status"]["phase"] = "Running"
    first = b.now - since
    podlib.refresh_readiness(pod, first)
    text = previous_log or crash_log(c["image"], started, "oom" if reason == "OOMKilled" else "error")
    b.add_log(pod, cname, text, previous=True)
    b.add_log(pod, cname, text)
    _kubelet(
        b,
        pod,
        "Pulled",
        f'Container image "{c["image"]}" already present on machine',
        "Normal",
        restarts + 1,
        first,
        cname,
    )
    _kubelet(b, pod, "Created", f"Created container: {cname}", "Normal", restarts + 1, first, cname)
    _kubelet(b, pod, "Started", f"Started container {cname}", "Normal", restarts + 1, first, cname)
    _kubelet(
        b,
        pod,
        "BackOff",
        f"Back-off restarting failed container {cname} in pod {_pod_desc(pod)}",
        "Warning",
        restarts * 4 + number("bo", uid, hi=9),
        first + timedelta(seconds=30),
        cname,
    )
    b.refresh()
    return pod


def oomkilled(
    b: PlatformBuilder,
    pod: dict[str, Any],
    container: str | None = None,
    *,
    restarts: int = 4,
    since: timedelta = timedelta(minutes=25),
    memory_limit: str | None = None,
) -> dict[str, Any]:
    """Container killed by the kernel OOM killer (exit 137, reason OOMKilled), now in CrashLoopBackOff."""
    c = _container(pod, container)
    if memory_limit:
        c["resources"].setdefault("limits", {})["memory"] = memory_limit
        fit_quota(b, pod["metadata"]["namespace"])
    return crashloop(b, pod, c["name"], exit_code=137, reason="OOMKilled", restarts=restarts, since=since)


def _pull_error(ref: str) -> str:
    return (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": failed to resolve reference '
        f'"{ref}": {ref}: not found'
    )


def image_pull_backoff(
    b: PlatformBuilder,
    target: dict[str, Any] | Workload,
    image: str | None = None,
    *,
    container: str | None = None,
    since: timedelta = timedelta(minutes=20),
) -> dict[str, Any]:
    """Image tag that does not exist. A Deployment workload gets a rollout to the bad image (old pods keep
    serving); a pod is switched in place. Returns the pod stuck in ImagePullBackOff."""
    chosen: dict[str, str] = {}

    def mutate(tmpl: dict[str, Any]) -> None:
        c = _container({"metadata": {"name": "template"}, "spec": tmpl["spec"]}, container)
        repo = c["image"].rsplit(":", 1)[0] if ":" in c["image"].rsplit("/", 1)[-1] else c["image"]
        c["image"] = image or f"{repo}:v9.9.9"
        chosen["image"], chosen["name"] = c["image"], c["name"]

    pod = _target_pod(b, target, mutate, since)
    cname, bad = chosen["name"], chosen["image"]
    ref = podlib.normalize_image(bad)
    first = b.now - since
    _drop_logs(b, pod)
    if isinstance(target, Workload):
        _fresh_pending_status(
            pod,
            first,
            "ImagePullBackOff",
            f'Back-off pulling image "{bad}": ErrImagePull: {_pull_error(ref)}',
        )
    else:
        _set_waiting(
            pod,
            cname,
            "ImagePullBackOff",
            f'Back-off pulling image "{bad}": ErrImagePull: {_pull_error(ref)}',
            first,
        )
    n = 5 + number("pulls", pod["metadata"]["uid"], hi=4)
    _kubelet(b, pod, "Pulling", f'Pulling image "{bad}"', "Normal", n, first + timedelta(seconds=2), cname)
    _kubelet(
        b,
        pod,
        "Failed",
        f'Failed to pull image "{bad}": {_pull_error(ref)}',
        "Warning",
        n,
        first + timedelta(seconds=3),
        cname,
    )
    _kubelet(b, pod, "Failed", "Error: ErrImagePull", "Warning", n, first + timedelta(seconds=3), cname)
    _kubelet(
        b,
        pod,
        "BackOff",
        f'Back-off pulling image "{bad}"',
        "Normal",
        n * 14,
        first + timedelta(seconds=4),
        cname,
    )
    _kubelet(
        b, pod, "Failed", "Error: ImagePullBackOff", "Warning", n * 14, first + timedelta(seconds=4), cname
    )
    b.refresh()
    return pod


def _first_secret_ref(pod: dict[str, Any], cname: str) -> tuple[str, str]:
    for e in _container(pod, cname).get("env", []):
        ref = e.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            return ref["name"], ref["key"]
    raise ValueError(f"container {cname} of {pod['metadata']['name']} has no secretKeyRef env")


def create_container_config_error(
    b: PlatformBuilder,
    pod: dict[str, Any],
    container: str | None = None,
    *,
    secret: str | None = None,
    key: str | None = None,
    missing: str = "secret",
    since: timedelta = timedelta(minutes=15),
    remove: bool = True,
) -> dict[str, Any]:
    """Env var from a Secret that is gone (missing="secret") or lacks the key (missing="key").

    With remove=True the Secret (or key) is really deleted from the builder, as it would be in the cluster."""
    c = _container(pod, container)
    cname = c["name"]
    ns = pod["metadata"]["namespace"]
    if secret is None or key is None:
        s_name, s_key = _first_secret_ref(pod, cname)
        secret, key = secret or s_name, key or s_key
    if missing == "secret":
        msg = f'secret "{secret}" not found'
        obj = b.get("Secret", ns, secret)
        if remove and obj is not None:
            b.remove(obj)
    elif missing == "key":
        msg = f"couldn't find key {key} in Secret {ns}/{secret}"
        obj = b.get("Secret", ns, secret)
        if remove and obj is not None:
            obj.get("data", {}).pop(key, None)
            bump(obj)
    else:
        raise ValueError("missing must be 'secret' or 'key'")
    first = b.now - since
    _drop_logs(b, pod, cname)
    _set_waiting(pod, cname, "CreateContainerConfigError", msg, first)
    n = 60 + number("ccce", pod["metadata"]["uid"], hi=20)
    _kubelet(
        b,
        pod,
        "Pulled",
        f'Container image "{c["image"]}" already present on machine',
        "Normal",
        n,
        first,
        cname,
    )
    _kubelet(b, pod, "Failed", f"Error: {msg}", "Warning", n, first, cname)
    b.refresh()
    return pod


def failed_mount(
    b: PlatformBuilder,
    pod: dict[str, Any],
    volume: str | None = None,
    *,
    since: timedelta = timedelta(minutes=12),
    remove: bool = True,
) -> dict[str, Any]:
    """A secret/configMap volume whose source is missing: ContainerCreating forever, FailedMount events."""
    vols = [
        v
        for v in pod["spec"].get("volumes", [])
        if ("secret" in v or "configMap" in v) and (volume is None or v["name"] == volume)
    ]
    if not vols:
        raise ValueError(f"pod {pod['metadata']['name']} has no secret/configMap volume {volume or ''}")
    v = vols[0]
    ns = pod["metadata"]["namespace"]
    if "secret" in v:
        kind, src = "Secret", v["secret"]["secretName"]
        what = f'secret "{src}" not found'
    else:
        kind, src = "ConfigMap", v["configMap"]["name"]
        what = f'configmap "{src}" not found'
    if remove and b.get(kind, ns, src) is not None:
        b.remove(b.require(kind, ns, src))
    first = b.now - since
    _drop_logs(b, pod)
    _fresh_pending_status(
        pod, parse_ts(pod["metadata"]["creationTimestamp"]), "ContainerCreating", None, sandbox_ready=False
    )
    pod["status"]["conditions"][0]["lastTransitionTime"] = ts(first)
    n = 8 + number("fm", pod["metadata"]["uid"], hi=6)
    _kubelet(
        b,
        pod,
        "FailedMount",
        f'MountVolume.SetUp failed for volume "{v["name"]}" : {what}',
        "Warning",
        n,
        first,
    )
    b.refresh()
    return pod


# ---------------------------------------------------------------- scheduling and storage


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


def fit_quota(b: PlatformBuilder, namespace: str) -> None:
    """Raise ResourceQuota hard limits that the namespace's pods now exceed: quota admission would have
    rejected those pods otherwise, so a fault that grows requests implies the quota was raised too."""
    usage = b.namespace_usage(namespace)
    for q in b.list("ResourceQuota", namespace):
        hard = q["spec"]["hard"]
        for key, value in list(hard.items()):
            used = usage.get(key, 0.0)
            if used > parse_quantity(value):
                if key.endswith(".cpu"):
                    hard[key] = fmt_cpu(int(used * 1.25) + 1)
                elif key.endswith(("memory", "storage")):
                    hard[key] = fmt_bytes(2**30 * (int(used * 1.25 / 2**30) + 1))
                else:
                    hard[key] = str(int(used * 1.25) + 1)
                bump(q)
    b.refresh_quotas()


def _make_unscheduled(b: PlatformBuilder, pod: dict[str, Any], message: str, since: timedelta) -> None:
    pod["spec"].pop("nodeName", None)
    _drop_logs(b, pod)
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
        parse_quantity(b.require("Node", None, n)["status"]["allocatable"][resource]) for n in b.node_names()
    )
    value = request or (
        fmt_bytes(2**30 * (int(biggest / 2**30) + 16)) if resource == "memory" else fmt_cpu(int(biggest) + 4)
    )

    def mutate(tmpl: dict[str, Any]) -> None:
        c = _container({"metadata": {"name": "template"}, "spec": tmpl["spec"]}, container)
        res = c.setdefault("resources", {})
        res.setdefault("requests", {})[resource] = value
        if resource in res.get("limits", {}) and parse_quantity(res["limits"][resource]) < parse_quantity(
            value
        ):
            res["limits"][resource] = value

    pod = _target_pod(b, target, mutate, since)
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


def _replace_pod(
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
            _replace_pod(b, pod, evict_at + timedelta(seconds=1), avoid=name)
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
    usage_ki = int(parse_quantity(req) * 2.4) // 1024
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
    _drop_logs(b, pod)
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
    _replace_pod(b, pod, at + timedelta(seconds=1), avoid=node_name)
    b.refresh()
    return pod


# ---------------------------------------------------------------- probes


def probe_failure(
    b: PlatformBuilder,
    pod: dict[str, Any],
    container: str | None = None,
    *,
    probe: str = "readiness",
    status_code: int = 503,
    since: timedelta = timedelta(minutes=10),
    output: str | None = None,
) -> dict[str, Any]:
    """Readiness (pod NotReady, out of endpoints) or liveness (restarts) probe failing, with Unhealthy events."""
    c = _container(pod, container)
    cname = c["name"]
    spec_probe = c.get(f"{probe}Probe") or c.get("readinessProbe") or c.get("livenessProbe")
    if spec_probe is None:
        raise ValueError(f"container {cname} has no {probe} probe")
    if "httpGet" in spec_probe:
        detail = f"HTTP probe failed with statuscode: {status_code}"
    elif "tcpSocket" in spec_probe:
        port = spec_probe["tcpSocket"]["port"]
        detail = f"dial tcp {pod['status'].get('podIP')}:{port}: connect: connection refused"
    else:
        detail = output or "command timed out"
    label = probe.capitalize()
    first = b.now - since
    cs = podlib.container_status(pod, cname)
    period = spec_probe.get("periodSeconds", 10)
    n = max(3, int(since.total_seconds() // period))
    if probe == "liveness":
        restarts = max(1, n // (spec_probe.get("failureThreshold", 3) * 3))
        last_start = b.now - timedelta(seconds=number("ls", pod["metadata"]["uid"], lo=30, hi=90))
        prev_end = last_start - timedelta(seconds=1)
        cs.update(
            {
                "lastState": {
                    "terminated": {
                        "containerID": podlib.container_id(pod["metadata"]["uid"], cname, restarts - 1),
                        "exitCode": 137,
                        "finishedAt": ts(prev_end),
                        "reason": "Error",
                        "startedAt": ts(prev_end - timedelta(minutes=3)),
                    }
                },
                "containerID": podlib.container_id(pod["metadata"]["uid"], cname, restarts),
                "ready": False,
                "restartCount": cs["restartCount"] + restarts,
                "state": {"running": {"startedAt": ts(last_start)}},
            }
        )
        b.add_event(
            pod,
            "Killing",
            f"Container {cname} failed liveness probe, will be restarted",
            "Normal",
            restarts,
            first=first,
            component="kubelet",
            field_path=f"spec.containers{{{cname}}}",
        )
        b.add_log(
            pod,
            cname,
            b.logs.get((pod["metadata"]["namespace"], pod["metadata"]["name"], cname, False), ""),
            previous=True,
        )
    else:
        cs["ready"] = False
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"], cname, False)
        b.logs[key] = b.logs.get(key, "") + probe_log(c["image"], first, b.now, status_code)
    podlib.refresh_readiness(pod, first)
    _kubelet(b, pod, "Unhealthy", f"{label} probe failed: {detail}", "Warning", n, first, cname)
    b.refresh()
    return pod


# ---------------------------------------------------------------- controllers that cannot create pods


def _replica_failure(
    b: PlatformBuilder, w: Workload, rs: dict[str, Any], message: str, since: timedelta, count: int
) -> None:
    first = b.now - since
    cond = condition("ReplicaFailure", "True", "FailedCreate", message, first)
    set_condition(rs, cond)
    set_condition(
        w.deployment, condition("ReplicaFailure", "True", "FailedCreate", message, first, update=first)
    )
    b.add_event(
        rs,
        "FailedCreate",
        f"Error creating: {message}",
        "Warning",
        count,
        first=first,
        component="replicaset-controller",
    )


def quota_exceeded(
    b: PlatformBuilder,
    w: Workload,
    *,
    quota: str = "compute-quota",
    resource: str = "limits.memory",
    extra_replicas: int = 1,
    since: timedelta = timedelta(minutes=14),
) -> dict[str, Any]:
    """Scale-up blocked by ResourceQuota: ReplicaFailure/FailedCreate with the quota admission message.

    The quota's hard limit is set to used + half a pod's request, so used + requested > hard as in the message."""
    _require_deployment(w)
    q = b.require("ResourceQuota", w.namespace, quota)
    dep, rs = w.deployment, w.replicaset
    c = rs["spec"]["template"]["spec"]["containers"][0]
    kind, res = resource.split(".")
    requested = parse_quantity(c["resources"].get(kind, {}).get(res) or c["resources"]["requests"][res])
    b.refresh_quotas()
    used = parse_quantity(q["status"]["used"][resource])
    fmt = fmt_cpu if res == "cpu" else fmt_bytes
    limited = used + (requested // 2 if res != "cpu" else round(requested / 2, 3))
    q["spec"]["hard"][resource] = fmt(limited)
    bump(q, generation=False)
    new_total = dep["spec"]["replicas"] + extra_replicas
    dep["spec"]["replicas"] = new_total
    bump(dep, generation=True)
    rs["spec"]["replicas"] = new_total
    rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] = str(new_total)
    bump(rs, generation=True)
    if w.hpa:
        w.hpa["status"]["desiredReplicas"] = new_total
        w.hpa["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"] = 94
        set_condition(
            w.hpa,
            condition(
                "AbleToScale",
                "True",
                "SucceededRescale",
                f"the HPA controller was able to update the target scale to {new_total}",
                b.now - since,
            ),
        )
    pod_name = f"{rs['metadata']['name']}-{safe_suffix('quota', rs['metadata']['uid'])}"
    message = (
        f'pods "{pod_name}" is forbidden: exceeded quota: {quota}, requested: {resource}={fmt(requested)}, '
        f"used: {resource}={fmt(used)}, limited: {resource}={fmt(limited)}"
    )
    _replica_failure(b, w, rs, message, since, 12 + number("qe", rs["metadata"]["uid"], hi=10))
    b.add_event(
        dep,
        "ScalingReplicaSet",
        f"Scaled up replica set {rs['metadata']['name']} from {new_total - extra_replicas} to {new_total}",
        first=b.now - since,
        component="deployment-controller",
    )
    b.refresh()
    return rs


def webhook_denied(
    b: PlatformBuilder,
    w: Workload,
    *,
    policy: str = "pod-security",
    rule: str = "restricted",
    since: timedelta = timedelta(minutes=16),
    reason: str | None = None,
) -> dict[str, Any]:
    """Rollout whose new pods Kyverno's enforcing policy rejects: new ReplicaSet stuck at 0 with FailedCreate."""

    def mutate(tmpl: dict[str, Any]) -> None:
        for c in tmpl["spec"]["containers"]:
            c.pop("securityContext", None)
        tmpl["metadata"].setdefault("annotations", {})["checksum/config"] = "debug-" + tmpl["metadata"][
            "labels"
        ].get("app.kubernetes.io/name", "app")

    rollout(b, w, mutate, since=since, new_pods=0)
    rs = w.replicaset
    pod_name = f"{rs['metadata']['name']}-{safe_suffix('deny', rs['metadata']['uid'])}"
    detail = reason or (
        "Validation rule 'restricted' failed. It violates PodSecurity \"restricted:latest\": "
        "(Forbidden reason: allowPrivilegeEscalation != false, field error list: "
        "[spec.containers[0].securityContext.allowPrivilegeEscalation is forbidden, forbidden values "
        "found: nil])(Forbidden reason: unrestricted capabilities, field error list: "
        "[spec.containers[0].securityContext.capabilities.drop: Required value])"
    )
    message = (
        f'admission webhook "validate.kyverno.svc-fail" denied the request: \n\nresource '
        f"Pod/{w.namespace}/{pod_name} was blocked due to the following policies \n\n{policy}:\n  {rule}: "
        f"'{detail}'\n"
    )
    _replica_failure(b, w, rs, message, since, 15 + number("wd", rs["metadata"]["uid"], hi=10))
    pol = b.get("ClusterPolicy", None, policy)
    if pol is not None:
        b.add_event(
            pol,
            "PolicyViolation",
            f"Pod {w.namespace}/{pod_name}: [{rule}] fail (blocked); {detail}",
            "Warning",
            15,
            first=b.now - since,
            component="kyverno-admission",
            reporting_instance="kyverno-admission-controller",
        )
    b.refresh()
    return rs


def deployment_progress_deadline(b: PlatformBuilder, w: Workload) -> dict[str, Any]:
    """Progressing=False/ProgressDeadlineExceeded on a stuck rollout (a bad-image rollout is started if the
    Deployment has none in flight, older than progressDeadlineSeconds)."""
    _require_deployment(w)
    dep = w.deployment
    prog = find_condition(dep, "Progressing")
    deadline = timedelta(seconds=dep["spec"].get("progressDeadlineSeconds", 600))
    if not prog or prog["reason"] != "ReplicaSetUpdated":
        image_pull_backoff(b, w, since=deadline + timedelta(minutes=9))
        prog = find_condition(dep, "Progressing")
    started = parse_ts(prog["lastUpdateTime"])
    when = started + deadline
    rs = w.replicaset["metadata"]["name"]
    set_condition(
        dep,
        condition(
            "Progressing",
            "False",
            "ProgressDeadlineExceeded",
            f'ReplicaSet "{rs}" has timed out progressing.',
            when,
            update=when,
        ),
    )
    b.refresh()
    return dep


# ---------------------------------------------------------------- jobs


def job_failed(
    b: PlatformBuilder,
    target: Workload,
    *,
    exit_code: int = 1,
    backoff_limit: int | None = 2,
    log: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """A Job (or a CronJob's newest run) whose pods keep failing until BackoffLimitExceeded."""
    if target.kind == "CronJob":
        cj = target.cronjob
        fire = at or fire_times_before(cj["spec"]["schedule"], b.now, 1)[0]
        name = cron_job_name(cj["metadata"]["name"], fire)
        existing = b.get("Job", target.namespace, name)
        if existing is not None:
            for p in [
                p
                for p in b.list("Pod", target.namespace)
                if p["metadata"]["ownerReferences"][0]["uid"] == existing["metadata"]["uid"]
            ]:
                b.delete(p)
            b.delete(existing)
            target.jobs = [j for j in target.jobs if j is not existing]
        template = copy.deepcopy(cj["spec"]["jobTemplate"]["spec"]["template"])
        j = b.add(
            make_job(
                target.namespace,
                name,
                template,
                fire,
                owners=[owner_reference(cj)],
                backoff_limit=backoff_limit if backoff_limit is not None else 6,
            )
        )
        target.jobs.append(j)
        ok = [x for x in target.jobs if find_condition(x, "Complete")]
        cj["status"] = {"lastScheduleTime": ts(fire)}
        if ok:
            cj["status"]["lastSuccessfulTime"] = ok[-1]["status"]["completionTime"]
        owner_cj = cj
    else:
        j = target.job
        fire = parse_ts(j["metadata"]["creationTimestamp"])
        if backoff_limit is not None:
            j["spec"]["backoffLimit"] = backoff_limit
        for p in [
            p
            for p in b.list("Pod", target.namespace)
            if p["metadata"]["ownerReferences"][0]["uid"] == j["metadata"]["uid"]
        ]:
            b.delete(p)
        b.remove_events(j)
        owner_cj = None
    limit = j["spec"]["backoffLimit"]
    t = fire + timedelta(seconds=1)
    c_name = j["spec"]["template"]["spec"]["containers"][0]["name"]
    image = j["spec"]["template"]["spec"]["containers"][0]["image"]
    for attempt in range(limit + 1):
        pname = f"{j['metadata']['name']}-{safe_suffix('fail', j['metadata']['uid'], attempt)}"
        spec_fit = podlib.pod_spec_for(j["spec"]["template"]["spec"], pname, target.namespace, None)
        pod = b._make_pod(
            name=pname,
            namespace=target.namespace,
            template=j["spec"]["template"],
            owner=j,
            node_name=b._pick_node(spec_fit, None),
            created=t,
            generate_name=f"{j['metadata']['name']}-",
            phase="Succeeded",
            runtime=timedelta(seconds=3),
            emit_events=False,
        )
        cs = pod["status"]["containerStatuses"][0]
        cs["state"]["terminated"].update({"exitCode": exit_code, "reason": "Error"})
        finished = parse_ts(cs["state"]["terminated"]["finishedAt"])
        pod["status"]["phase"] = "Failed"
        for cond in pod["status"]["conditions"]:
            if cond.get("reason") == "PodCompleted":
                cond["reason"] = "PodFailed"
        b.add_log(
            pod, c_name, log or crash_log(image, parse_ts(cs["state"]["terminated"]["startedAt"]), "error")
        )
        b.add_event(j, "SuccessfulCreate", f"Created pod: {pname}", component="job-controller", first=t)
        t = finished + timedelta(seconds=10 * 2**attempt)
    failed_at = t - timedelta(seconds=10 * 2**limit) + timedelta(seconds=1)
    fail_job(j, failed_at, limit + 1)
    b.add_event(
        j,
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
        "Warning",
        first=failed_at,
        component="job-controller",
    )
    if owner_cj is not None:
        b.add_event(
            owner_cj,
            "SawCompletedJob",
            f"Saw completed job: {j['metadata']['name']}, condition: Failed",
            first=failed_at + timedelta(seconds=1),
            component="cronjob-controller",
        )
    b.refresh()
    return j


# ---------------------------------------------------------------- platform components (beyond pods)


def external_secret_failed(
    b: PlatformBuilder,
    es: dict[str, Any],
    *,
    error: str | None = None,
    since: timedelta = timedelta(hours=3),
    delete_target: bool = False,
) -> dict[str, Any]:
    """Sync failing: Ready=False/SecretSyncedError with ESO's generic message; the provider error is only in
    the UpdateFailed Warning event. refreshTime stops moving."""
    key = es["spec"]["data"][0]["remoteRef"]["key"]
    err = error or (
        f"error processing spec.data[0] (key: {key}), err: rpc error: code = NotFound desc = Secret "
        f"[projects/{number('proj', hi=10**12)}/secrets/{key}] not found or has no versions."
    )
    first = b.now - since
    set_condition(
        es, condition("Ready", "False", "SecretSyncedError", "could not get secret data from provider", first)
    )
    es["status"]["refreshTime"] = ts(
        first - timedelta(minutes=number("rt", es["metadata"]["uid"], lo=5, hi=50))
    )
    b.add_event(
        es,
        "UpdateFailed",
        err,
        "Warning",
        int(since.total_seconds() // 60) + 3,
        first=first,
        component="external-secrets",
    )
    if delete_target:
        sec = b.get("Secret", es["metadata"]["namespace"], es["spec"]["target"]["name"])
        if sec is not None:
            b.remove(sec)
    b.refresh()
    return es


def secret_store_invalid(
    b: PlatformBuilder, store: dict[str, Any], *, since: timedelta = timedelta(hours=2)
) -> dict[str, Any]:
    """ClusterSecretStore auth broken (e.g. the gcpsm-secret key revoked): every ExternalSecret on it fails."""
    first = b.now - since
    set_condition(
        store, condition("Ready", "False", "InvalidProviderConfig", "unable to create client", first)
    )
    store["status"].pop("capabilities", None)
    b.add_event(
        store,
        "InvalidProviderConfig",
        "unable to create client: failed to create GCP secretmanager client: "
        "invalid_grant: Invalid JWT Signature.",
        "Warning",
        40,
        first=first,
        component="external-secrets",
    )
    for es in b.list("ExternalSecret"):
        if es["spec"]["secretStoreRef"]["name"] == store["metadata"]["name"]:
            external_secret_failed(
                b, es, error=f"the desired SecretStore {store['metadata']['name']} is not ready", since=since
            )
    b.refresh()
    return store


def certificate_not_ready(
    b: PlatformBuilder,
    cert: dict[str, Any],
    *,
    reason: str | None = None,
    expires_in: timedelta = timedelta(days=5),
    since: timedelta = timedelta(hours=6),
) -> dict:
    """Renewal stuck on a DNS-01 challenge: Certificate Ready=True but Issuing=True past renewalTime, close to
    expiry; CertificateRequest Pending, Order pending, Challenge pending with the solver's error."""
    md = cert["metadata"]
    from . import certmanager as cm

    not_after = b.now + expires_in
    not_before = not_after - cm.DURATION
    cert["status"].update(
        {
            "notAfter": ts(not_after),
            "notBefore": ts(not_before),
            "renewalTime": ts(not_after - cm.DURATION / 3),
        }
    )
    first = b.now - since
    revision = cert["status"]["revision"] + 1
    set_condition(
        cert,
        condition(
            "Issuing",
            "True",
            "Renewing",
            f"Renewing certificate as renewal was scheduled at {cert['status']['renewalTime']}",
            first,
            observed_generation=md["generation"],
        ),
    )
    cert["status"]["nextPrivateKeySecretName"] = f"{md['name']}-{safe_suffix('npk', md['uid'])}"
    cr = b.add(cm.certificate_request(cert, revision, first + timedelta(seconds=2), ready=False))
    o = b.add(cm.order(cr, cert["spec"]["dnsNames"], first + timedelta(seconds=3), state="pending"))
    issuer = b.get("ClusterIssuer", None, cert["spec"]["issuerRef"]["name"])
    solver = issuer["spec"]["acme"]["solvers"][0] if issuer else cm.cloudflare_dns01_solver()
    why = reason or (
        "Error presenting challenge: Cloudflare API Error for zone "
        f'"{cert["spec"]["dnsNames"][0].removeprefix("*.")}": 9109: Invalid access token'
    )
    ch = b.add(
        cm.challenge(
            o, cert["spec"]["dnsNames"][0], solver, first + timedelta(seconds=4), presented=False, reason=why
        )
    )
    b.add_event(
        cert,
        "Issuing",
        f"Renewing certificate as renewal was scheduled at {cert['status']['renewalTime']}",
        first=first,
        component="cert-manager-certificates-trigger",
    )
    b.add_event(
        ch,
        "PresentError",
        why,
        "Warning",
        int(since.total_seconds() // 300) + 1,
        first=first,
        component="cert-manager-challenges",
    )
    b.refresh()
    return ch


def backup_failed(
    b: PlatformBuilder,
    schedule_name: str = "infrastructure-daily",
    *,
    phase: str = "PartiallyFailed",
    errors: int = 3,
) -> dict[str, Any]:
    """The newest Backup of a Schedule ended PartiallyFailed (errors counted) or Failed (failureReason)."""
    from . import velero as vl

    sched = b.require("Schedule", "velero", schedule_name)
    backups = sorted(
        (
            x
            for x in b.list("Backup", "velero")
            if x["metadata"]["labels"].get("velero.io/schedule-name") == schedule_name
        ),
        key=lambda x: x["metadata"]["creationTimestamp"],
    )
    newest = backups[-1]
    started = parse_ts(newest["status"]["startTimestamp"])
    b.remove(newest)
    bad = vl.backup(
        sched,
        started,
        phase=phase,
        errors=errors if phase == "PartiallyFailed" else 0,
        failure_reason=None
        if phase == "PartiallyFailed"
        else 'error getting backup storage location: BackupStorageLocation.velero.io "default" not found',
    )
    return b.add(bad)


def bsl_unavailable(
    b: PlatformBuilder, name: str = "default", *, message: str | None = None
) -> dict[str, Any]:
    bsl = b.require("BackupStorageLocation", "velero", name)
    bsl["status"]["phase"] = "Unavailable"
    bsl["status"]["message"] = (
        f'BackupStorageLocation "{name}" is unavailable: '
        f"{message or 'rpc error: code = Unknown desc = storage: bucket does not exist'}"
    )
    bump(bsl)
    return bsl


def route_not_accepted(
    b: PlatformBuilder, route: dict[str, Any], *, section: str = "https-lfh-prod"
) -> dict[str, Any]:
    """HTTPRoute pointing at a listener name that does not exist: Accepted=False/NoMatchingParent, and the
    Gateway listener it should attach to loses the route (attachedRoutes drops)."""
    from .gateway import route_parent_status

    for ref in route["spec"]["parentRefs"]:
        if ref.get("sectionName", "").startswith("https"):
            ref["sectionName"] = section
    bump(route, generation=True)
    gen = route["metadata"]["generation"]
    when = b.now - timedelta(minutes=7)
    parents = []
    for ref in route["spec"]["parentRefs"]:
        if ref.get("sectionName") == section:
            parents.append(
                route_parent_status(
                    ref,
                    when,
                    gen,
                    accepted=("False", "NoMatchingParent", "No listeners match this parent ref"),
                )
            )
        else:
            parents.append(route_parent_status(ref, when, gen))
    route["status"]["parents"] = parents
    b.refresh()
    return route


FAULTS: dict[str, Callable[..., Any]] = {
    "crashloop": crashloop,
    "oomkilled": oomkilled,
    "image_pull_backoff": image_pull_backoff,
    "create_container_config_error": create_container_config_error,
    "failed_mount": failed_mount,
    "unschedulable": unschedulable,
    "pvc_pending": pvc_pending,
    "node_not_ready": node_not_ready,
    "node_pressure": node_pressure,
    "probe_failure": probe_failure,
    "evicted": evicted,
    "quota_exceeded": quota_exceeded,
    "webhook_denied": webhook_denied,
    "deployment_progress_deadline": deployment_progress_deadline,
    "job_failed": job_failed,
    "external_secret_failed": external_secret_failed,
    "secret_store_invalid": secret_store_invalid,
    "certificate_not_ready": certificate_not_ready,
    "backup_failed": backup_failed,
    "bsl_unavailable": bsl_unavailable,
    "route_not_accepted": route_not_accepted,
}
"""Name -> function, for generators that pick faults by name."""

__all__: Sequence[str] = tuple(FAULTS) + ("rollout", "scheduler_message", "FAULTS")
