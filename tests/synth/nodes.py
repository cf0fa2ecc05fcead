"""Nodes and their kube-node-lease Leases, as the kubelet registers and heartbeats them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sre_expert.core.units import quantity
from synth.meta import fmt_bytes, hex_id, micro_ts, new_object, number, ts, uid

KUBELET_VERSION = "v1.32.2"
CONTAINERD_VERSION = "containerd://1.7.24"
OS_IMAGE = "Ubuntu 24.04.1 LTS"
KERNEL = "6.8.0-51-generic"

CONTROL_PLANE_TAINT = {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}


def node_conditions(
    boot: datetime, heartbeat: datetime, network_reason: str | None = "CiliumIsUp"
) -> list[dict]:
    """The four kubelet-owned conditions (plus the CNI's NetworkUnavailable), all healthy."""

    def c(type_: str, status: str, reason: str, message: str, transition: datetime) -> dict[str, Any]:
        return {
            "lastHeartbeatTime": ts(heartbeat),
            "lastTransitionTime": ts(transition),
            "message": message,
            "reason": reason,
            "status": status,
            "type": type_,
        }

    out = []
    if network_reason:
        out.append(
            {
                "lastHeartbeatTime": ts(boot + timedelta(seconds=40)),
                "lastTransitionTime": ts(boot + timedelta(seconds=40)),
                "message": "Cilium is running on this node",
                "reason": network_reason,
                "status": "False",
                "type": "NetworkUnavailable",
            }
        )
    out += [
        c(
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
            boot,
        ),
        c("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", boot),
        c("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available", boot),
        c(
            "Ready",
            "True",
            "KubeletReady",
            "kubelet is posting ready status",
            boot + timedelta(seconds=number("rdy", boot.isoformat(), lo=20, hi=60)),
        ),
    ]
    return out


def node(
    name: str,
    index: int,
    *,
    created: datetime,
    now: datetime,
    control_plane: bool = False,
    cpu: int = 8,
    memory: str = "32Gi",
    pods: int = 110,
    disk: str = "100Gi",
    internal_ip: str | None = None,
    labels: dict[str, str] | None = None,
    taints: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A Ready node. `index` picks its pod CIDR 10.244.<index>.0/24 and IP 10.0.0.<10+index>."""
    ip = internal_ip or f"10.0.0.{10 + index}"
    node_labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
    }
    if control_plane:
        node_labels["node-role.kubernetes.io/control-plane"] = ""
        node_labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
    node_labels.update(labels or {})
    obj = new_object(
        "Node",
        name,
        None,
        created,
        labels=node_labels,
        annotations={
            "csi.volume.kubernetes.io/nodeid": json.dumps(
                {"driver.longhorn.io": name}, separators=(",", ":")
            ),
            "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
            "node.alpha.kubernetes.io/ttl": "0",
            "volumes.kubernetes.io/controller-managed-attach-detach": "true",
        },
    )
    node_taints = list(taints or [])
    if control_plane and CONTROL_PLANE_TAINT not in node_taints:
        node_taints.insert(0, dict(CONTROL_PLANE_TAINT))
    spec: dict[str, Any] = {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"]}
    if node_taints:
        spec["taints"] = node_taints
    obj["spec"] = spec
    mem = quantity(memory)
    disk_bytes = quantity(disk)
    boot = now - timedelta(days=number("boot", name, lo=30, hi=60), minutes=number("bootm", name, hi=600))
    boot = max(boot, created)
    heartbeat = now - timedelta(seconds=number("hb", name, lo=5, hi=240))
    obj["status"] = {
        "addresses": [{"address": ip, "type": "InternalIP"}, {"address": name, "type": "Hostname"}],
        "allocatable": {
            "cpu": str(cpu),
            "ephemeral-storage": str(int(disk_bytes * 0.9)),
            "hugepages-1Gi": "0",
            "hugepages-2Mi": "0",
            "memory": fmt_bytes(mem - 100 * 2**20),
            "pods": str(pods),
        },
        "capacity": {
            "cpu": str(cpu),
            "ephemeral-storage": fmt_bytes(disk_bytes),
            "hugepages-1Gi": "0",
            "hugepages-2Mi": "0",
            "memory": fmt_bytes(mem),
            "pods": str(pods),
        },
        "conditions": node_conditions(boot, heartbeat),
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "images": [],
        "nodeInfo": {
            "architecture": "amd64",
            "bootID": uid("boot", None, name, boot.isoformat()),
            "containerRuntimeVersion": CONTAINERD_VERSION,
            "kernelVersion": KERNEL,
            "kubeProxyVersion": KUBELET_VERSION,
            "kubeletVersion": KUBELET_VERSION,
            "machineID": hex_id("machine", name, n=32),
            "operatingSystem": "linux",
            "osImage": OS_IMAGE,
            "systemUUID": uid("system", None, name),
        },
        "runtimeHandlers": [
            {"features": {"recursiveReadOnlyMounts": True, "userNamespaces": False}, "name": "runc"},
            {"features": {"recursiveReadOnlyMounts": True, "userNamespaces": False}, "name": ""},
        ],
    }
    return obj


def node_ip(node_obj: dict[str, Any]) -> str:
    for a in node_obj["status"]["addresses"]:
        if a["type"] == "InternalIP":
            return a["address"]
    raise ValueError(f"node {node_obj['metadata']['name']} has no InternalIP")


def add_node_image(node_obj: dict[str, Any], names: list[str], size: int) -> None:
    """Record an image the kubelet reports as present (status.images)."""
    images = node_obj["status"].setdefault("images", [])
    for img in images:
        if set(img["names"]) & set(names):
            return
    images.append({"names": names, "sizeBytes": size})


def add_attached_volume(
    node_obj: dict[str, Any], volume_handle: str, driver: str = "driver.longhorn.io"
) -> None:
    name = f"kubernetes.io/csi/{driver}^{volume_handle}"
    status = node_obj["status"]
    attached = status.setdefault("volumesAttached", [])
    if not any(v["name"] == name for v in attached):
        attached.append({"devicePath": "", "name": name})
    in_use = status.setdefault("volumesInUse", [])
    if name not in in_use:
        in_use.append(name)


def node_lease(node_obj: dict[str, Any], renewed: datetime) -> dict[str, Any]:
    """kube-node-lease/<node>: the kubelet renews it every 10s; a stale one means a dead kubelet."""
    name = node_obj["metadata"]["name"]
    created = datetime.fromisoformat(node_obj["metadata"]["creationTimestamp"])
    obj = new_object(
        "Lease",
        name,
        "kube-node-lease",
        created,
        api_version="coordination.k8s.io/v1",
        owners=[{"apiVersion": "v1", "kind": "Node", "name": name, "uid": node_obj["metadata"]["uid"]}],
    )
    obj["spec"] = {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": micro_ts(renewed)}
    return obj
