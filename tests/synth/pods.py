"""Containers, pod templates and pods with the fields the API server defaults and the kubelet reports.

A check reads what the server returns, so every default (imagePullPolicy, terminationMessagePath,
probe thresholds, the projected service-account volume, default tolerations...) is filled in here
exactly as admission and defaulting would, and the status is what a 1.32 kubelet writes.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sre_expert.core.units import quantity
from synth.meta import hex_id, number, safe_suffix, ts

SA_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"

DEFAULT_TOLERATIONS = [
    {
        "effect": "NoExecute",
        "key": "node.kubernetes.io/not-ready",
        "operator": "Exists",
        "tolerationSeconds": 300,
    },
    {
        "effect": "NoExecute",
        "key": "node.kubernetes.io/unreachable",
        "operator": "Exists",
        "tolerationSeconds": 300,
    },
]

# What the DaemonSet controller adds to every daemon pod (plus network-unavailable for hostNetwork).
DAEMONSET_TOLERATIONS = [
    {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists"},
    {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists"},
    {"effect": "NoSchedule", "key": "node.kubernetes.io/disk-pressure", "operator": "Exists"},
    {"effect": "NoSchedule", "key": "node.kubernetes.io/memory-pressure", "operator": "Exists"},
    {"effect": "NoSchedule", "key": "node.kubernetes.io/pid-pressure", "operator": "Exists"},
    {"effect": "NoSchedule", "key": "node.kubernetes.io/unschedulable", "operator": "Exists"},
]

Port = int | tuple[str, int] | tuple[str, int, str] | Mapping[str, Any]


# ---------------------------------------------------------------- images


def normalize_image(image: str) -> str:
    """Image as the kubelet reports it in status: registry and tag made explicit."""
    name, _, digest_part = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    if ":" not in last and not digest_part:
        name += ":latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    return f"{name}@{digest_part}" if digest_part else name


def image_repo(image: str) -> str:
    norm = normalize_image(image).split("@")[0]
    repo, _, tag = norm.rpartition(":")
    return repo if "/" not in tag else norm


def image_id(image: str) -> str:
    """imageID: the repository digest the runtime resolved the tag to."""
    if "@sha256:" in image:
        return normalize_image(image)
    return f"{image_repo(image)}@sha256:{hex_id('image', normalize_image(image))}"


def image_size(image: str) -> int:
    return number("size", image, lo=18_000_000, hi=420_000_000)


# ---------------------------------------------------------------- container spec


def http_probe(
    path: str,
    port: int | str,
    *,
    initial_delay: int | None = None,
    period: int = 10,
    timeout: int = 1,
    failure: int = 3,
    success: int = 1,
    scheme: str = "HTTP",
) -> dict[str, Any]:
    probe: dict[str, Any] = {
        "failureThreshold": failure,
        "httpGet": {"path": path, "port": port, "scheme": scheme},
    }
    if initial_delay:
        probe["initialDelaySeconds"] = initial_delay
    probe.update({"periodSeconds": period, "successThreshold": success, "timeoutSeconds": timeout})
    return probe


def tcp_probe(
    port: int | str, *, initial_delay: int | None = None, period: int = 10, timeout: int = 1, failure: int = 3
) -> dict[str, Any]:
    probe: dict[str, Any] = {"failureThreshold": failure}
    if initial_delay:
        probe["initialDelaySeconds"] = initial_delay
    probe.update(
        {
            "periodSeconds": period,
            "successThreshold": 1,
            "tcpSocket": {"port": port},
            "timeoutSeconds": timeout,
        }
    )
    return probe


def exec_probe(
    command: Sequence[str],
    *,
    initial_delay: int | None = None,
    period: int = 10,
    timeout: int = 5,
    failure: int = 6,
) -> dict[str, Any]:
    probe: dict[str, Any] = {"exec": {"command": list(command)}, "failureThreshold": failure}
    if initial_delay:
        probe["initialDelaySeconds"] = initial_delay
    probe.update({"periodSeconds": period, "successThreshold": 1, "timeoutSeconds": timeout})
    return probe


def _port(p: Port) -> dict[str, Any]:
    if isinstance(p, Mapping):
        out = dict(p)
        out.setdefault("protocol", "TCP")
        return out
    if isinstance(p, int):
        return {"containerPort": p, "protocol": "TCP"}
    name, number_, *proto = p
    return {"containerPort": number_, "name": name, "protocol": proto[0] if proto else "TCP"}


def resources(
    cpu: str | None = None,
    memory: str | None = None,
    cpu_limit: str | None = None,
    memory_limit: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    limits = {k: v for k, v in (("cpu", cpu_limit), ("memory", memory_limit)) if v}
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    if limits:
        out["limits"] = limits
    if requests:
        out["requests"] = requests
    return out


def container(
    name: str,
    image: str,
    *,
    ports: Iterable[Port] = (),
    env: Mapping[str, str] | None = None,
    env_secrets: Mapping[str, tuple[str, str]] | None = None,
    env_configmaps: Mapping[str, tuple[str, str]] | None = None,
    env_fields: Mapping[str, str] | None = None,
    env_from_secrets: Iterable[str] = (),
    env_from_configmaps: Iterable[str] = (),
    requests: Mapping[str, str] | None = None,
    limits: Mapping[str, str] | None = None,
    readiness: dict[str, Any] | None = None,
    liveness: dict[str, Any] | None = None,
    startup: dict[str, Any] | None = None,
    volume_mounts: Iterable[Mapping[str, Any]] = (),
    command: Sequence[str] | None = None,
    args: Sequence[str] | None = None,
    security_context: Mapping[str, Any] | None = None,
    image_pull_policy: str | None = None,
) -> dict[str, Any]:
    """Container spec after defaulting. env_secrets: ENV -> (secret name, key)."""
    c: dict[str, Any] = {}
    if args:
        c["args"] = list(args)
    if command:
        c["command"] = list(command)
    env_list: list[dict[str, Any]] = []
    for k, v in (env or {}).items():
        env_list.append({"name": k, "value": v})
    for k, path in (env_fields or {}).items():
        env_list.append({"name": k, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}})
    for k, (secret, key) in (env_secrets or {}).items():
        env_list.append({"name": k, "valueFrom": {"secretKeyRef": {"key": key, "name": secret}}})
    for k, (cm, key) in (env_configmaps or {}).items():
        env_list.append({"name": k, "valueFrom": {"configMapKeyRef": {"key": key, "name": cm}}})
    if env_list:
        c["env"] = env_list
    env_from = [{"secretRef": {"name": s}} for s in env_from_secrets]
    env_from += [{"configMapRef": {"name": m}} for m in env_from_configmaps]
    if env_from:
        c["envFrom"] = env_from
    c["image"] = image
    tag = image.rsplit("/", 1)[-1]
    c["imagePullPolicy"] = image_pull_policy or (
        "Always" if (":" not in tag and "@" not in tag) or tag.endswith(":latest") else "IfNotPresent"
    )
    if liveness:
        c["livenessProbe"] = liveness
    c["name"] = name
    port_list = [_port(p) for p in ports]
    if port_list:
        c["ports"] = port_list
    if readiness:
        c["readinessProbe"] = readiness
    res: dict[str, Any] = {}
    if limits:
        res["limits"] = dict(limits)
    if requests:
        res["requests"] = dict(requests)
    elif limits:  # the server copies limits into missing requests
        res["requests"] = dict(limits)
    c["resources"] = res
    if security_context:
        c["securityContext"] = dict(security_context)
    if startup:
        c["startupProbe"] = startup
    c["terminationMessagePath"] = "/dev/termination-log"
    c["terminationMessagePolicy"] = "File"
    mounts = [dict(m) for m in volume_mounts]
    if mounts:
        c["volumeMounts"] = mounts
    return c


RESTRICTED_CONTAINER_SC = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def restricted_pod_sc(uid: int = 1001) -> dict[str, Any]:
    """Pod securityContext meeting the Restricted Pod Security profile (Kyverno pod-security)."""
    return {
        "fsGroup": uid,
        "runAsGroup": uid,
        "runAsNonRoot": True,
        "runAsUser": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


# ---------------------------------------------------------------- volumes


def secret_volume(
    name: str, secret: str, optional: bool | None = None, items: list | None = None
) -> dict[str, Any]:
    src: dict[str, Any] = {"defaultMode": 420, "secretName": secret}
    if items:
        src["items"] = items
    if optional is not None:
        src["optional"] = optional
    return {"name": name, "secret": src}


def configmap_volume(name: str, configmap: str, items: list | None = None) -> dict[str, Any]:
    src: dict[str, Any] = {"defaultMode": 420, "name": configmap}
    if items:
        src["items"] = items
    return {"configMap": src, "name": name}


def pvc_volume(name: str, claim: str) -> dict[str, Any]:
    return {"name": name, "persistentVolumeClaim": {"claimName": claim}}


def empty_dir(name: str, medium: str | None = None, size_limit: str | None = None) -> dict[str, Any]:
    src: dict[str, Any] = {}
    if medium:
        src["medium"] = medium
    if size_limit:
        src["sizeLimit"] = size_limit
    return {"emptyDir": src, "name": name}


def host_path(name: str, path: str, type_: str = "") -> dict[str, Any]:
    return {"hostPath": {"path": path, "type": type_}, "name": name}


def kube_api_access_volume(pod_name: str, namespace: str) -> dict[str, Any]:
    """The projected token volume the ServiceAccount admission plugin adds to every pod."""
    return {
        "name": f"kube-api-access-{safe_suffix('kapi', namespace, pod_name)}",
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
                {
                    "downwardAPI": {
                        "items": [
                            {
                                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                                "path": "namespace",
                            }
                        ]
                    }
                },
            ],
        },
    }


# ---------------------------------------------------------------- pod template and pod spec


def pod_template(
    labels: Mapping[str, str],
    containers: list[dict[str, Any]],
    *,
    annotations: Mapping[str, str] | None = None,
    volumes: list[dict[str, Any]] | None = None,
    init_containers: list[dict[str, Any]] | None = None,
    service_account: str | None = None,
    security_context: Mapping[str, Any] | None = None,
    restart_policy: str = "Always",
    termination_grace: int = 30,
    priority_class: str | None = None,
    host_network: bool = False,
    node_selector: Mapping[str, str] | None = None,
    tolerations: list[dict[str, Any]] | None = None,
    affinity: dict[str, Any] | None = None,
    automount_token: bool | None = None,
    dns_policy: str | None = None,
) -> dict[str, Any]:
    """PodTemplateSpec as it reads back from a controller's spec.template."""
    spec: dict[str, Any] = {}
    if affinity:
        spec["affinity"] = copy.deepcopy(affinity)
    if automount_token is not None:
        spec["automountServiceAccountToken"] = automount_token
    spec["containers"] = containers
    spec["dnsPolicy"] = dns_policy or ("ClusterFirstWithHostNet" if host_network else "ClusterFirst")
    if host_network:
        spec["hostNetwork"] = True
    if init_containers:
        spec["initContainers"] = init_containers
    if node_selector:
        spec["nodeSelector"] = dict(node_selector)
    if priority_class:
        spec["priorityClassName"] = priority_class
    spec["restartPolicy"] = restart_policy
    spec["schedulerName"] = "default-scheduler"
    spec["securityContext"] = dict(security_context or {})
    if service_account:
        spec["serviceAccount"] = service_account
        spec["serviceAccountName"] = service_account
    spec["terminationGracePeriodSeconds"] = termination_grace
    if tolerations:
        spec["tolerations"] = copy.deepcopy(tolerations)
    if volumes:
        spec["volumes"] = volumes
    md: dict[str, Any] = {}
    if annotations:
        md["annotations"] = dict(annotations)
    md["creationTimestamp"] = None
    md["labels"] = dict(labels)
    return {"metadata": md, "spec": spec}


PRIORITY_CLASSES = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}


def pod_spec_for(
    template_spec: dict[str, Any],
    pod_name: str,
    namespace: str,
    node_name: str | None,
    *,
    daemon_node: str | None = None,
) -> dict[str, Any]:
    """Pod spec as admission leaves it: token volume, default tolerations, priority, node."""
    spec = copy.deepcopy(template_spec)
    sa = spec.get("serviceAccountName") or "default"
    spec["serviceAccount"] = sa
    spec["serviceAccountName"] = sa
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec["priority"] = PRIORITY_CLASSES.get(spec.get("priorityClassName", ""), 0)
    if node_name:
        spec["nodeName"] = node_name
    if daemon_node:
        spec["affinity"] = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [daemon_node]}]}
                    ]
                }
            }
        }
        tolerations = spec.get("tolerations", [])
        extra = list(DAEMONSET_TOLERATIONS)
        if spec.get("hostNetwork"):
            extra.append(
                {
                    "effect": "NoSchedule",
                    "key": "node.kubernetes.io/network-unavailable",
                    "operator": "Exists",
                }
            )
        for t in extra:
            if not any(x.get("key") == t["key"] and x.get("effect") == t["effect"] for x in tolerations):
                tolerations.append(t)
        spec["tolerations"] = tolerations
    else:
        tolerations = spec.get("tolerations", [])
        for t in DEFAULT_TOLERATIONS:
            if not any(
                x.get("key") == t["key"] and x.get("effect") in (None, "", "NoExecute") for x in tolerations
            ) and not any(x.get("operator") == "Exists" and not x.get("key") for x in tolerations):
                tolerations.append(dict(t))
        spec["tolerations"] = tolerations
    if spec.get("automountServiceAccountToken") is not False:
        vol = kube_api_access_volume(pod_name, namespace)
        spec.setdefault("volumes", []).append(vol)
        mount = {"mountPath": SA_MOUNT, "name": vol["name"], "readOnly": True}
        for c in spec["containers"] + spec.get("initContainers", []):
            c.setdefault("volumeMounts", []).append(dict(mount))
    return spec


def qos_class(spec: dict[str, Any]) -> str:
    containers = spec["containers"] + spec.get("initContainers", [])
    any_set = False
    guaranteed = True
    for c in containers:
        req = c.get("resources", {}).get("requests", {})
        lim = c.get("resources", {}).get("limits", {})
        if req or lim:
            any_set = True
        for r in ("cpu", "memory"):
            if r not in lim or quantity(req.get(r, lim[r])) != quantity(lim[r]):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


# ---------------------------------------------------------------- pod status


def container_id(pod_uid: str, container_name: str, attempt: int = 0) -> str:
    return f"containerd://{hex_id('ctr', pod_uid, container_name, attempt)}"


def _status_mounts(c: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for m in c.get("volumeMounts", []):
        s = {"mountPath": m["mountPath"], "name": m["name"]}
        if m.get("readOnly"):
            s["readOnly"] = True
            s["recursiveReadOnly"] = "Disabled"
        out.append(s)
    return out


def running_container_status(
    c: dict[str, Any], pod_uid: str, started: datetime, *, ready: bool = True, restart_count: int = 0
) -> dict[str, Any]:
    return {
        "containerID": container_id(pod_uid, c["name"], restart_count),
        "image": normalize_image(c["image"]),
        "imageID": image_id(c["image"]),
        "lastState": {},
        "name": c["name"],
        "ready": ready,
        "restartCount": restart_count,
        "started": True,
        "state": {"running": {"startedAt": ts(started)}},
        "volumeMounts": _status_mounts(c),
    }


def terminated_container_status(
    c: dict[str, Any],
    pod_uid: str,
    started: datetime,
    finished: datetime,
    *,
    exit_code: int = 0,
    reason: str = "Completed",
) -> dict[str, Any]:
    return {
        "containerID": container_id(pod_uid, c["name"]),
        "image": normalize_image(c["image"]),
        "imageID": image_id(c["image"]),
        "lastState": {},
        "name": c["name"],
        "ready": False,
        "restartCount": 0,
        "started": False,
        "state": {
            "terminated": {
                "containerID": container_id(pod_uid, c["name"]),
                "exitCode": exit_code,
                "finishedAt": ts(finished),
                "reason": reason,
                "startedAt": ts(started),
            }
        },
        "volumeMounts": _status_mounts(c),
    }


def waiting_container_status(
    c: dict[str, Any], reason: str, message: str | None = None, restart_count: int = 0
) -> dict[str, Any]:
    """A container that never ran (image pull, config error): no containerID, no imageID."""
    waiting = {"reason": reason}
    if message:
        waiting["message"] = message
    return {
        "image": c["image"],
        "imageID": "",
        "lastState": {},
        "name": c["name"],
        "ready": False,
        "restartCount": restart_count,
        "started": False,
        "state": {"waiting": waiting},
        "volumeMounts": _status_mounts(c),
    }


def pod_condition(
    type_: str, status: str, when: datetime, reason: str | None = None, message: str | None = None
) -> dict[str, Any]:
    c: dict[str, Any] = {"lastProbeTime": None, "lastTransitionTime": ts(when)}
    if message:
        c["message"] = message
    if reason:
        c["reason"] = reason
    c["status"] = status
    c["type"] = type_
    return c


def pod_times(created: datetime, key: str) -> dict[str, datetime]:
    """When a pod was scheduled, its sandbox ready, its containers started and Ready."""
    scheduled = created
    sandbox = scheduled + timedelta(seconds=1 + number("sbx", key, hi=2))
    started = sandbox + timedelta(seconds=number("pull", key, lo=1, hi=14))
    ready = started + timedelta(seconds=number("ready", key, lo=3, hi=25))
    return {"scheduled": scheduled, "sandbox": sandbox, "started": started, "ready": ready}


def running_status(pod: dict[str, Any], host_ip: str, pod_ip: str) -> dict[str, Any]:
    """Status of a healthy Running pod whose containers all passed readiness."""
    md, spec = pod["metadata"], pod["spec"]
    t = pod_times(datetime.fromisoformat(md["creationTimestamp"]), md["uid"])
    init_statuses = []
    init_done = t["sandbox"]
    for ic in spec.get("initContainers", []):
        s = init_done + timedelta(seconds=1)
        init_done = s + timedelta(seconds=number("init", md["uid"], ic["name"], lo=1, hi=6))
        init_statuses.append(terminated_container_status(ic, md["uid"], s, init_done))
    started = max(t["started"], init_done + timedelta(seconds=1))
    ready = started + (t["ready"] - t["started"])
    status: dict[str, Any] = {
        "conditions": [
            pod_condition("PodReadyToStartContainers", "True", t["sandbox"]),
            pod_condition("Initialized", "True", init_done if init_statuses else t["scheduled"]),
            pod_condition("Ready", "True", ready),
            pod_condition("ContainersReady", "True", ready),
            pod_condition("PodScheduled", "True", t["scheduled"]),
        ],
        "containerStatuses": [running_container_status(c, md["uid"], started) for c in spec["containers"]],
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
    }
    if init_statuses:
        status["initContainerStatuses"] = init_statuses
    status.update(
        {
            "phase": "Running",
            "podIP": pod_ip,
            "podIPs": [{"ip": pod_ip}],
            "qosClass": qos_class(spec),
            "startTime": ts(t["scheduled"]),
        }
    )
    return status


def succeeded_status(pod: dict[str, Any], host_ip: str, pod_ip: str, runtime: timedelta) -> dict[str, Any]:
    """Status of a Job pod whose containers all exited 0."""
    md, spec = pod["metadata"], pod["spec"]
    t = pod_times(datetime.fromisoformat(md["creationTimestamp"]), md["uid"])
    finished = t["started"] + runtime
    return {
        "conditions": [
            pod_condition("PodReadyToStartContainers", "False", finished + timedelta(seconds=1)),
            pod_condition("Initialized", "True", t["scheduled"], reason="PodCompleted"),
            pod_condition("Ready", "False", finished, reason="PodCompleted"),
            pod_condition("ContainersReady", "False", finished, reason="PodCompleted"),
            pod_condition("PodScheduled", "True", t["scheduled"]),
        ],
        "containerStatuses": [
            terminated_container_status(c, md["uid"], t["started"], finished) for c in spec["containers"]
        ],
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "phase": "Succeeded",
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "qosClass": qos_class(spec),
        "startTime": ts(t["scheduled"]),
    }


def get_condition(pod: dict[str, Any], type_: str) -> dict[str, Any] | None:
    for c in pod.get("status", {}).get("conditions", []):
        if c["type"] == type_:
            return c
    return None


def set_pod_condition(
    pod: dict[str, Any],
    type_: str,
    status: str,
    when: datetime,
    reason: str | None = None,
    message: str | None = None,
) -> None:
    """Update a pod condition; lastTransitionTime moves only when the status flips."""
    conds = pod.setdefault("status", {}).setdefault("conditions", [])
    for i, c in enumerate(conds):
        if c["type"] == type_:
            moved = when if c["status"] != status else datetime.fromisoformat(c["lastTransitionTime"])
            conds[i] = pod_condition(type_, status, moved, reason, message)
            return
    conds.append(pod_condition(type_, status, when, reason, message))


def container_status(pod: dict[str, Any], name: str) -> dict[str, Any]:
    for cs in pod.get("status", {}).get("containerStatuses", []) + pod.get("status", {}).get(
        "initContainerStatuses", []
    ):
        if cs["name"] == name:
            return cs
    raise KeyError(f"pod {pod['metadata']['name']} has no container {name!r}")


def refresh_readiness(pod: dict[str, Any], when: datetime) -> None:
    """Recompute Ready/ContainersReady from the container statuses, as the kubelet status manager does."""
    statuses = pod.get("status", {}).get("containerStatuses", [])
    if not statuses or pod["status"].get("phase") in ("Succeeded", "Failed"):
        return
    not_ready = [cs["name"] for cs in statuses if not cs.get("ready")]
    if not_ready:
        names = ", ".join(not_ready)
        message = f"containers with unready status: [{names}]"
        set_pod_condition(pod, "Ready", "False", when, "ContainersNotReady", message)
        set_pod_condition(pod, "ContainersReady", "False", when, "ContainersNotReady", message)
    else:
        set_pod_condition(pod, "Ready", "True", when)
        set_pod_condition(pod, "ContainersReady", "True", when)


def is_ready(pod: dict[str, Any]) -> bool:
    c = get_condition(pod, "Ready")
    return bool(c and c["status"] == "True")


def is_terminal(pod: dict[str, Any]) -> bool:
    return pod.get("status", {}).get("phase") in ("Succeeded", "Failed")

