"""Identity by group + kind: a custom resource that reuses a core kind name (Longhorn's `nodes.longhorn.io`,
Istio's `gateways.networking.istio.io`) is indexed apart from the kind the checks mean, in the loader, the
Snapshot, the event index and the findings' keys."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from sre_expert.core.model import ObjectRef, key_of
from sre_expert.core.timeutil import parse_time
from sre_expert.diagnosis.engine import diagnose
from sre_expert.sources.bundle_reader import load_bundle
from sre_expert.sources.memory import snapshot_from_objects

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data"
CAPTURED = "2026-11-26T03:00:00Z"


def core_node(name: str) -> dict:
    """A k3s agent as `kubectl get nodes -o json` prints it."""
    hb = "2026-11-26T02:58:40Z"
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "name": name, "uid": f"6f0c1e4a-2b7d-4c55-9a61-{name[-1] * 12}", "resourceVersion": "918273",
            "creationTimestamp": "2026-09-02T08:14:51Z",
            "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                       "node.kubernetes.io/instance-type": "k3s"},
            "annotations": {"k3s.io/node-args": "[\"agent\"]", "node.alpha.kubernetes.io/ttl": "0",
                            "csi.volume.kubernetes.io/nodeid": f"{{\"driver.longhorn.io\":\"{name}\"}}"},
        },
        "spec": {"podCIDR": "10.42.1.0/24", "podCIDRs": ["10.42.1.0/24"], "providerID": f"k3s://{name}"},
        "status": {
            "addresses": [{"address": "192.168.56.11", "type": "InternalIP"}, {"address": name, "type": "Hostname"}],
            "allocatable": {"cpu": "4", "ephemeral-storage": "59716503961", "memory": "8029876Ki", "pods": "110"},
            "capacity": {"cpu": "4", "ephemeral-storage": "61384672Ki", "memory": "8029876Ki", "pods": "110"},
            "conditions": [
                {"type": t, "status": "False", "reason": r, "message": m, "lastHeartbeatTime": hb,
                 "lastTransitionTime": "2026-11-20T06:01:12Z"}
                for t, r, m in (("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                                ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                                ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"))
            ] + [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
                  "lastHeartbeatTime": hb, "lastTransitionTime": "2026-11-20T06:01:12Z"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"architecture": "amd64", "containerRuntimeVersion": "containerd://1.7.22-k3s1",
                         "kernelVersion": "6.8.0-45-generic", "kubeProxyVersion": "v1.31.1+k3s1",
                         "kubeletVersion": "v1.31.1+k3s1", "operatingSystem": "linux", "osImage": "Ubuntu 24.04.1 LTS",
                         "machineID": "4c1d5a0e9f7b4e2a8d3c6b5a4f3e2d1c", "systemUUID": "4c1d5a0e-9f7b-4e2a-8d3c-6b5a4f3e2d1c",
                         "bootID": "0b9e8d7c-6a5f-4e3d-2c1b-0a9f8e7d6c5b"},
        },
    }


def longhorn_node(name: str, version: str, ready: bool) -> dict:
    """A Longhorn node object (`nodes.longhorn.io`, namespaced in longhorn-system). v1beta1 keeps its
    conditions as a map keyed by type; v1beta2 as a list, like core kinds."""
    conds = [
        {"type": "Ready", "status": "True" if ready else "False",
         "reason": "" if ready else "KubernetesNodeNotReady",
         "message": "" if ready else f"Kubernetes node {name} not ready: KubeletNotReady",
         "lastProbeTime": "", "lastTransitionTime": "2026-11-26T02:41:09Z"},
        {"type": "Schedulable", "status": "True", "reason": "", "message": "", "lastProbeTime": "",
         "lastTransitionTime": "2026-09-02T08:16:30Z"},
        {"type": "MountPropagation", "status": "True", "reason": "", "message": "", "lastProbeTime": "",
         "lastTransitionTime": "2026-09-02T08:16:30Z"},
    ]
    return {
        "apiVersion": f"longhorn.io/{version}", "kind": "Node",
        "metadata": {
            "name": name, "namespace": "longhorn-system", "uid": f"b3d1f0aa-7e21-4f0b-9c3e-{name[-1] * 12}",
            "resourceVersion": "918402", "generation": 3, "creationTimestamp": "2026-09-02T08:16:29Z",
            "finalizers": ["longhorn.io"], "labels": {"longhornnode": name},
        },
        "spec": {
            "name": name, "allowScheduling": True, "evictionRequested": False, "tags": [],
            "instanceManagerCPURequest": 0,
            "disks": {f"default-disk-{name[-1]}0a1": {"path": "/var/lib/longhorn/", "allowScheduling": True,
                                                      "evictionRequested": False, "storageReserved": 18415151308,
                                                      "tags": [], "diskType": "filesystem"}},
        },
        "status": {
            "conditions": {c["type"]: c for c in conds} if version == "v1beta1" else conds,
            "diskStatus": {f"default-disk-{name[-1]}0a1": {"storageAvailable": 41383206912, "storageMaximum": 61384667136,
                                                           "storageScheduled": 10737418240, "conditions": []}},
            "region": "", "zone": "", "autoEvicting": False,
        },
    }


def crashloop_pod(node: str) -> dict:
    pod = json.loads((DATA / "pod-crashloop.json").read_text())
    pod["spec"]["nodeName"] = node
    return pod


def longhorn_event(node: str) -> dict:
    """What longhorn-manager records about its own Node object."""
    return {
        "apiVersion": "v1", "kind": "Event", "type": "Warning", "reason": "Ready", "count": 3,
        "message": f"Kubernetes node {node} not ready: KubeletNotReady",
        "metadata": {"name": f"{node}.1823a9c0d4e5f6a7", "namespace": "longhorn-system",
                     "uid": "e1f2a3b4-0000-4d5e-8f90-a1b2c3d4e5f6",
                     "resourceVersion": "918410", "creationTimestamp": "2026-11-26T02:41:09Z"},
        "involvedObject": {"apiVersion": "longhorn.io/v1beta2", "kind": "Node", "name": node,
                           "namespace": "longhorn-system", "uid": f"b3d1f0aa-7e21-4f0b-9c3e-{node[-1] * 12}",
                           "resourceVersion": "918402"},
        "source": {"component": "longhorn-node-controller", "host": node},
        "firstTimestamp": "2026-11-26T02:41:09Z", "lastTimestamp": "2026-11-26T02:55:09Z",
        "reportingComponent": "", "reportingInstance": "",
    }


def istio_gateway() -> dict:
    return {
        "apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway",
        "metadata": {"name": "bookinfo-gateway", "namespace": "istio-system", "uid": "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d",
                     "resourceVersion": "5512", "generation": 1, "creationTimestamp": "2026-10-01T12:00:00Z"},
        "spec": {"selector": {"istio": "ingressgateway"},
                 "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["bookinfo.example.com"]}]},
    }


def write_bundle(root: Path, files: dict[str, list[dict]]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, items in files.items():
        (root / name).write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items,
                                             "metadata": {"resourceVersion": ""}}))
    (root / "bundle.json").write_text(json.dumps({"capturedAt": CAPTURED}))
    return root


def test_index_names_keep_the_plain_kind_for_its_own_group_only() -> None:
    from sre_expert.core.model import index_kind

    assert index_kind("Node", "v1") == index_kind("Node", None) == "Node"
    assert index_kind("Node", "longhorn.io/v1beta2") == "Node.longhorn.io"
    assert index_kind("Gateway", "gateway.networking.k8s.io/v1") == "Gateway"
    assert index_kind("Gateway", "networking.istio.io/v1beta1") == "Gateway.networking.istio.io"
    # the same stored type served by an older or a second group keeps its name
    assert index_kind("Event", "events.k8s.io/v1") == index_kind("Event", "v1") == "Event"
    assert index_kind("Deployment", "extensions/v1beta1") == "Deployment"
    # kinds the table does not know: apart per group, so two CRDs named Cluster never mix
    assert index_kind("Cluster", "postgresql.cnpg.io/v1") != index_kind("Cluster", "cluster.x-k8s.io/v1beta1")
    assert index_kind("ServiceAccount", "v1") == "ServiceAccount"
    lh = longhorn_node("k3s-agent-1", "v1beta2", True)
    assert key_of(lh) == ("Node.longhorn.io", "longhorn-system", "k3s-agent-1") == ObjectRef.of(lh).key
    assert ObjectRef.of(lh).to_json()["kind"] == "Node"  # the report still names the object's own kind


def test_longhorn_nodes_beside_core_nodes_crash_nothing_and_the_crash_loop_is_reported(tmp_path: Path) -> None:
    root = write_bundle(tmp_path / "b", {
        "nodes.json": [core_node("k3s-agent-1"), core_node("k3s-agent-2")],
        "nodes.longhorn.io.json": [longhorn_node("k3s-agent-1", "v1beta1", True),
                                   longhorn_node("k3s-agent-2", "v1beta2", False)],
        "pods.json": [crashloop_pod("k3s-agent-1")],
        "events.json": [longhorn_event("k3s-agent-2")],
    })
    snap = load_bundle(root)
    assert [n["apiVersion"] for n in snap.list("Node")] == ["v1", "v1"]
    assert {n["apiVersion"] for n in snap.list("Node.longhorn.io")} == {"longhorn.io/v1beta1", "longhorn.io/v1beta2"}
    core = snap.get("Node", None, "k3s-agent-2")
    assert core is not None and core["apiVersion"] == "v1"
    assert snap.events_for(core) == []  # Longhorn's event about its own Node object stays with that object
    assert len(snap.events_for(snap.get("Node.longhorn.io", "longhorn-system", "k3s-agent-2"))) == 1

    report = diagnose(snap)
    assert not [t for t in report.not_checked if "check failed" in t], report.not_checked
    crash = [f for f in report.findings if f.code == "POD-CRASHLOOP"]
    assert [f.object.name for f in crash] == ["api-7d9f8b6c5d-x2x7k"]
    # no core-node finding is made from a Longhorn Node, and every finding names its object's real group
    assert not [f for f in report.findings if f.code.startswith("NODE-")], [f.title for f in report.findings]
    for f in report.findings:
        obj = snap.get(*f.object.key)
        if obj is not None:
            assert obj.get("apiVersion") == f.object.api_version, f.title


def test_an_istio_gateway_is_never_read_as_a_gateway_api_gateway() -> None:
    gw = istio_gateway()
    snap = snapshot_from_objects([gw], parse_time(CAPTURED))
    assert snap.list("Gateway") == [] and snap.get("Gateway", "istio-system", "bookinfo-gateway") is None
    assert snap.list("Gateway.networking.istio.io") == [gw]
    report = diagnose(snap)
    about_it = [f for f in report.findings if f.object.name == "bookinfo-gateway" or f.code.startswith("GATEWAY-")]
    assert not about_it, [f.title for f in about_it]
    assert not [t for t in report.not_checked if "check failed" in t], report.not_checked


def test_kind_less_items_take_the_group_the_checks_mean(tmp_path: Path) -> None:
    """troubleshoot writes list items without kind or apiVersion; the kind comes from the folder."""
    node = core_node("k3s-agent-1")
    del node["kind"], node["apiVersion"]
    (tmp_path / "cluster-resources").mkdir()
    (tmp_path / "cluster-resources" / "nodes.json").write_text(json.dumps({"kind": "NodeList", "items": [node]}))
    snap = load_bundle(tmp_path)
    assert [n["metadata"]["name"] for n in snap.list("Node")] == ["k3s-agent-1"]


def test_same_name_objects_of_two_groups_both_survive() -> None:
    a = longhorn_node("k3s-agent-1", "v1beta2", True)
    b = copy.deepcopy(a)
    b["apiVersion"], b["metadata"]["uid"] = "example.com/v1", "other-uid"
    snap = snapshot_from_objects([a, b], parse_time(CAPTURED))
    assert snap.get("Node.longhorn.io", "longhorn-system", "k3s-agent-1") is a
    assert snap.get("Node.example.com", "longhorn-system", "k3s-agent-1") is b


def test_what_a_user_types_names_one_group() -> None:
    from sre_expert.edges.toolbox import _kind

    kinds = ["Node", "Node.longhorn.io", "Certificate", "WidgetPolicy.example.com"]
    assert _kind("nodes", kinds) == _kind("no", kinds) == "Node"
    assert _kind("nodes.longhorn.io", kinds) == "Node.longhorn.io"
    assert _kind("certificates.cert-manager.io", kinds) == "Certificate"
    assert _kind("widgetpolicies", kinds) == "WidgetPolicy.example.com"
    assert _kind("nodes.example.com", kinds) is None


def test_a_bare_group_in_an_old_events_involved_object_is_a_group() -> None:
    """Kubernetes 1.8 recorders wrote involvedObject.apiVersion "extensions" (sonobuoy 0.10 results)."""
    from sre_expert.core.model import index_kind

    assert index_kind("DaemonSet", "extensions") == index_kind("DaemonSet", "extensions/v1beta1") == "DaemonSet"
    assert index_kind("Deployment", "v1beta1") == "Deployment.core"  # a bare version is the core group's
    assert index_kind("Pod", "v1") == "Pod" and index_kind("Node", "longhorn.io") == "Node.longhorn.io"
