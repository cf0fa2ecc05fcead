"""The bundle loader on layouts other tools write: troubleshoot's empty lists and redacted YAML, sonobuoy
results, macOS archives, and one object captured twice."""

from __future__ import annotations

import copy
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from sre_expert.sources.bundle_reader import _archive_name, load_bundle

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data"
POD = json.loads((DATA / "pod-crashloop.json").read_text())
NS = "mycure-production"
CAPTURED = json.dumps({"capturedAt": "2026-11-26T03:00:00Z", "cluster": "prod"})


def pod(name: str, ns: str = NS, **md: Any) -> dict[str, Any]:
    p = copy.deepcopy(POD)
    p["metadata"].update({"name": name, "namespace": ns, "uid": f"uid-{ns}-{name}", **md})
    return p


def kindless(obj: dict[str, Any]) -> dict[str, Any]:
    """As a typed client serialises a list's items: no kind, no apiVersion."""
    return {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}


def node(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "uid": f"node-{name}", "resourceVersion": "4411",
                         "creationTimestamp": "2026-10-01T08:00:00Z",
                         "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}},
            "spec": {"podCIDR": "10.244.1.0/24"},
            "status": {"conditions": [
                {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
                 "lastHeartbeatTime": "2026-11-26T02:59:31Z", "lastTransitionTime": "2026-10-01T08:01:00Z"}],
                "nodeInfo": {"kubeletVersion": "v1.31.2"}}}


def write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


def tar_of(members: dict[str, bytes], path: Path) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def test_items_null_is_an_empty_list_not_a_warning(tmp_path: Path) -> None:
    root = tmp_path / "support-bundle-2026-11-26T03_00_00"
    cr = root / "cluster-resources"
    write(cr / "pods" / f"{NS}.json", json.dumps({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": [pod("a")]}))
    write(cr / "jobs" / f"{NS}.json", json.dumps({"kind": "JobList", "apiVersion": "batch/v1", "metadata": {}, "items": None}))
    write(cr / "cronjobs" / f"{NS}.json", json.dumps({"metadata": {}, "items": None}))
    write(cr / "leases" / f"{NS}.json", "null")
    write(tmp_path / "collector-errors/etcd-error.json", json.dumps(
        {"collector": "etcd", "error": "current k8s distribution does not support etcd collector",
         "timestamp": "2026-11-26T02:59:40Z"}))
    write(tmp_path / "resources/ns" / NS / "results.json", "[{}]")  # sonobuoy 0.8's empty namespace
    snap = load_bundle(root)
    assert snap.count("Pod") == 1 and snap.count("Job") == 0
    assert snap.info.warnings == []
    snap = load_bundle(tmp_path)
    assert snap.count("Pod") == 1 and snap.info.warnings == []
    # the support-bundle-<time> folder name wins; without it, the failed collector's own timestamp
    snap = load_bundle(root.rename(tmp_path / "bundle").parent)
    assert snap.now.isoformat() == "2026-11-26T02:59:40+00:00"
    assert snap.info.captured_at_source == "troubleshoot's collector-errors timestamps"


def test_archive_member_names_lose_only_a_leading_dot_slash() -> None:
    assert _archive_name("./pods.json") == "pods.json"
    assert _archive_name("././x/pods.json") == "x/pods.json"
    assert _archive_name("./.x") == ".x"
    assert _archive_name("..foo/pods.json") == "..foo/pods.json"
    assert _archive_name("/abs/pods.json") == "abs/pods.json"
    assert _archive_name("./") == ""


def test_macos_appledouble_files_are_ignored(tmp_path: Path) -> None:
    apple_double = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02\x00\x00\x00\t\x00\x00\x002\x00\x00\x0e\xb0"
    members = {"./": b"", "./pods.json": json.dumps({"kind": "List", "apiVersion": "v1", "items": [pod("a")]}).encode(),
               "./._pods.json": apple_double, "./bundle.json": CAPTURED.encode(), "./._bundle.json": apple_double,
               "./.hidden.json": b"{not json", "./__MACOSX/._pods.json": apple_double,
               f"./logs/{NS}/a/._api.log": apple_double, f"./logs/{NS}/a/api.log": b"started\n"}
    members.pop("./")
    snap = load_bundle(tar_of(members, tmp_path / "mac.tar.gz"))
    assert [p["metadata"]["name"] for p in snap.list("Pod")] == ["a"]
    assert snap.info.warnings == []
    assert snap.logs(NS, "a", "api") == "started\n"
    write(tmp_path / "dir/pods.json", json.dumps(pod("b")))
    write(tmp_path / "dir/._pods.json", apple_double)
    write(tmp_path / "dir/__MACOSX/pods.json", apple_double)
    write(tmp_path / "dir/bundle.json", CAPTURED)
    snap = load_bundle(tmp_path / "dir")
    assert snap.count("Pod") == 1 and snap.info.warnings == []


def test_sonobuoy_results_with_kindless_files_named_after_their_kind(tmp_path: Path) -> None:
    """Older sonobuoy wrote resources/ns/<ns>/Pods.json and resources/cluster/Nodes.json as bare arrays of
    kind-less items; newer ones write core_v1_pods.json Lists whose items carry their kind. meta/ holds the
    run's own files (JSON that is not Kubernetes objects) and the run log."""
    root = tmp_path / "202611260259_sonobuoy_5c0ffee0-1c2d-4e3f-8a9b-0c1d2e3f4a5b"
    write(root / "resources/ns" / NS / "Pods.json", json.dumps([kindless(pod("a")), kindless(pod("b"))]))
    write(root / "resources/ns" / NS / "PersistentVolumeClaims.json", json.dumps([kindless(
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
         "metadata": {"name": "data", "namespace": NS, "uid": "pvc1", "creationTimestamp": "2026-11-01T00:00:00Z"},
         "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}},
         "status": {"phase": "Bound"}})]))
    # an item with its own kind keeps it, whatever the file is called
    write(root / "resources/ns" / NS / "Services.json", json.dumps([pod("c")]))
    write(root / "resources/ns/kube-system/core_v1_pods.json",
          json.dumps({"kind": "PodList", "apiVersion": "v1", "items": [pod("coredns-1", "kube-system")]}))
    write(root / "resources/cluster/Nodes.json", json.dumps([kindless(node("worker-1"))]))
    write(root / "resources/cluster/ServerVersion.json", json.dumps({"major": "1", "minor": "31", "gitVersion": "v1.31.2"}))
    write(root / "resources/cluster/results.json", json.dumps([{"queryobj": "Nodes", "time": "5.1ms"}, {}]))
    write(root / "serverversion.json", json.dumps({"major": "1", "minor": "31", "gitVersion": "v1.31.2"}))
    write(root / "servergroups.json", json.dumps({"kind": "APIGroupList", "groups": []}))
    write(root / "hosts/worker-1/healthz.json", json.dumps({"status": 200}))
    write(root / "hosts/worker-1/configz.json", json.dumps({"kubeletconfig": {"maxPods": 110}}))
    write(root / "meta/config.json", json.dumps({"UUID": "5c0ffee0", "Namespace": "sonobuoy", "Resources": ["Pods"]}))
    write(root / "meta/info.json", json.dumps({"plugins": ["e2e"]}))
    write(root / "meta/query-time.json", json.dumps([{"queryobj": "Pods", "namespace": NS, "time": "12.5ms"}]))
    write(root / "meta/run.log", "\n".join(json.dumps({"level": "info", "msg": m, "time": t}) for m, t in (
        ("Starting server Expected Results: [{global e2e}]", "2026-11-26T02:10:00Z"),
        ("Running non-ns query", "2026-11-26T02:58:40Z"),
        ("Running ns query (mycure-production)", "2026-11-26T02:58:41Z"))) + "\n")
    write(root / "plugins/e2e/sonobuoy_results.yaml", "name: e2e\nstatus: passed\nitems:\n- name: ok\n  status: passed\n")
    write(root / "plugins/e2e/definition.json", json.dumps({"Definition": {"name": "e2e"}}))
    snap = load_bundle(root)
    assert sorted(p["metadata"]["name"] for p in snap.list("Pod")) == ["a", "b", "c", "coredns-1"]
    assert snap.count("PersistentVolumeClaim") == 1 and snap.count("Service") == 0
    assert snap.get("Node", None, "worker-1")["kind"] == "Node"
    assert snap.info.warnings == []
    assert snap.now.isoformat() == "2026-11-26T02:58:41+00:00"
    assert snap.info.captured_at_source == "sonobuoy's meta/run.log"
    # without the run log, the archive's own name (YYYYMMDDHHMM_sonobuoy_<uuid>) says when it was made
    (root / "meta/run.log").unlink()
    snap = load_bundle(root)
    assert snap.now.isoformat() == "2026-11-26T02:59:00+00:00"
    assert snap.info.captured_at_source == "the sonobuoy archive's name"


def test_the_same_object_in_two_files_keeps_the_newer_resource_version_and_says_so(tmp_path: Path) -> None:
    write(tmp_path / "bundle.json", CAPTURED)
    old = pod("api", resourceVersion="88231")
    new = pod("api", resourceVersion="90112")
    new["status"]["phase"] = "Running"
    write(tmp_path / "a-later-capture.json", json.dumps(new))
    write(tmp_path / "b-older-capture.json", json.dumps(old))
    snap = load_bundle(tmp_path)
    assert snap.get("Pod", NS, "api")["metadata"]["resourceVersion"] == "90112"
    assert snap.count("Pod") == 1
    assert snap.info.warnings == [
        f"Pod {NS}/api: the same object in a-later-capture.json (resourceVersion 90112) and b-older-capture.json "
        "(resourceVersion 88231); kept the one from a-later-capture.json, its newer resourceVersion"]


def test_two_different_objects_under_one_name_are_reported(tmp_path: Path) -> None:
    write(tmp_path / "bundle.json", CAPTURED)
    first = pod("api", resourceVersion="500", uid="11111111-aaaa")
    second = pod("api", resourceVersion="400", uid="22222222-bbbb")
    write(tmp_path / "one.json", json.dumps(first))
    write(tmp_path / "two.json", json.dumps(second))
    snap = load_bundle(tmp_path)
    assert snap.get("Pod", NS, "api")["metadata"]["uid"] == "11111111-aaaa"
    assert snap.by_uid("22222222-bbbb") is None
    [w] = snap.info.warnings
    assert w.startswith(f"Pod {NS}/api: two different objects (uid 11111111-aaaa and 22222222-bbbb) in one.json")
    assert w.endswith("kept the one from one.json, its newer resourceVersion")


def test_identical_copies_collapse_silently(tmp_path: Path) -> None:
    write(tmp_path / "bundle.json", CAPTURED)
    write(tmp_path / "all.json", json.dumps({"kind": "List", "apiVersion": "v1", "items": [pod("a"), pod("b")]}))
    write(tmp_path / "ns.json", json.dumps({"kind": "List", "apiVersion": "v1", "items": [pod("a")]}))
    snap = load_bundle(tmp_path)
    assert snap.count("Pod") == 2 and snap.info.warnings == []


def test_yaml_redacted_by_troubleshoot_is_read(tmp_path: Path) -> None:
    redacted = f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: mongo-config
  namespace: {NS}
  uid: cm1
  resourceVersion: "77"
  creationTimestamp: "2026-11-01T00:00:00Z"
data:
  MONGO_URL: mongodb://api:***HIDDEN***@mongodb-0.mongodb:27017/app
  MONGO_PASSWORD: ***HIDDEN***
  flags: |
    --auth
---
apiVersion: v1
kind: Pod
metadata:
  name: worker
  namespace: {NS}
  uid: p1
  creationTimestamp: "2026-11-01T00:00:00Z"
spec:
  containers:
  - name: worker
    image: ghcr.io/monobaselabs/worker:1.0.0
    env:
    - name: TOKEN
      value: ***HIDDEN***
    args:
    - ***HIDDEN***
status:
  phase: Running
"""
    write(tmp_path / "cluster-resources/configmaps" / f"{NS}.yaml", redacted)
    write(tmp_path / "bundle.json", CAPTURED)
    snap = load_bundle(tmp_path)
    cm = snap.get("ConfigMap", NS, "mongo-config")
    assert cm["data"]["MONGO_PASSWORD"] == "***HIDDEN***"
    assert cm["data"]["MONGO_URL"] == "mongodb://api:***HIDDEN***@mongodb-0.mongodb:27017/app"
    worker = snap.get("Pod", NS, "worker")["spec"]["containers"][0]
    assert worker["env"][0]["value"] == "***HIDDEN***" and worker["args"] == ["***HIDDEN***"]
    assert snap.info.warnings == []


def test_logs_of_a_namespace_named_like_a_bundle_folder_are_logs(tmp_path: Path) -> None:
    """`logs/<namespace>/<pod>/<container>.log` is a container log whatever the namespace is called: a
    namespace named `metrics` or `meta` once fell into the layout tests for those folders and lost its logs."""
    for ns in ("metrics", "meta", "plugins"):
        log = tmp_path / "logs" / ns / "exporter-0" / "exporter.log"
        log.parent.mkdir(parents=True)
        log.write_text(f"listening on :9100 in {ns}\n")
    (tmp_path / "namespaces.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "uid": f"uid-{ns}"}, "spec": {},
         "status": {"phase": "Active"}} for ns in ("metrics", "meta", "plugins")]}))
    snap = load_bundle(tmp_path)
    for ns in ("metrics", "meta", "plugins"):
        assert snap.logs(ns, "exporter-0", "exporter") == f"listening on :9100 in {ns}\n", ns
