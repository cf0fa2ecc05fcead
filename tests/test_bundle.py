"""The bundle source: every layout of the contract, troubleshoot.sh bundles, and bad input."""

from __future__ import annotations

import copy
import json
import tarfile
from pathlib import Path

import pytest
import yaml

from sre_expert.sources.bundle_reader import BundleError, load_bundle

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data"
POD = json.loads((DATA / "pod-crashloop.json").read_text())


def pod(name: str, ns: str = "mycure-production") -> dict:
    p = copy.deepcopy(POD)
    p["metadata"]["name"], p["metadata"]["namespace"] = name, ns
    p["metadata"]["uid"] = f"uid-{ns}-{name}"
    return p


def event(p: dict) -> dict:
    md = p["metadata"]
    return {
        "apiVersion": "v1", "kind": "Event", "type": "Warning", "reason": "BackOff", "count": 12,
        "message": "Back-off restarting failed container api in pod " + md["name"],
        "metadata": {"name": md["name"] + ".17b2a1c9d3e4f5a6", "namespace": md["namespace"], "uid": "ev-" + md["name"],
                     "resourceVersion": "99", "creationTimestamp": "2026-11-26T01:20:00Z"},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": md["name"], "namespace": md["namespace"],
                           "uid": md["uid"], "fieldPath": "spec.containers{api}"},
        "source": {"component": "kubelet", "host": "gke-prod-pool-1-a1b2"},
        "firstTimestamp": "2026-11-26T01:20:00Z", "lastTimestamp": "2026-11-26T02:58:00Z",
        "reportingComponent": "kubelet", "reportingInstance": "gke-prod-pool-1-a1b2",
    }


def write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


def test_every_file_shape_of_the_contract(tmp_path: Path) -> None:
    write(tmp_path / "single.json", json.dumps(pod("a")))
    write(tmp_path / "list.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": [pod("b"), pod("c")]}))
    write(tmp_path / "podlist.json", json.dumps({"apiVersion": "v1", "kind": "PodList", "items": [
        {k: v for k, v in pod("d").items() if k not in ("kind", "apiVersion")}]}))
    write(tmp_path / "array.json", json.dumps([pod("e"), event(pod("e"))]))
    write(tmp_path / "nested/stream.yaml", yaml.safe_dump_all([pod("f"), pod("g")]))
    write(tmp_path / "bundle.json",
          json.dumps({"capturedAt": "2026-11-26T03:00:00Z", "cluster": "prod", "kubernetesVersion": "v1.31.2"}))
    write(tmp_path / "logs/mycure-production/a/api.log", "ok\n")
    write(tmp_path / "logs/mycure-production/a/api.previous.log", "Error: connect ECONNREFUSED 10.0.0.5:27017\n")
    snap = load_bundle(tmp_path)
    assert sorted(p["metadata"]["name"] for p in snap.list("Pod")) == list("abcdefg")
    assert snap.get("Pod", "mycure-production", "d")["kind"] == "Pod"
    assert snap.info.cluster == "prod" and snap.info.kubernetes_version == "v1.31.2"
    assert snap.now.isoformat() == "2026-11-26T03:00:00+00:00"
    assert snap.logs("mycure-production", "a", "api", previous=True).startswith("Error: connect ECONNREFUSED")
    assert snap.logs("mycure-production", "a", "api") == "ok\n"
    assert snap.logs("mycure-production", "b", "api") is None
    assert [e["reason"] for e in snap.events_for(pod("e"))] == ["BackOff"]
    assert snap.info.warnings == []
    # managedFields are dropped on load: nothing reads them and they double the memory
    assert "managedFields" not in snap.get("Pod", "mycure-production", "a")["metadata"]


def test_tar_gz_bundle_with_top_folder(tmp_path: Path) -> None:
    src = tmp_path / "snap"
    write(src / "pods.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": [pod("a")]}))
    write(src / "logs/mycure-production/a/api.previous.log", "panic: boom\n")
    write(src / "bundle.json", json.dumps({"capturedAt": "2026-11-26T03:00:00Z"}))
    archive = tmp_path / "snap.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(src, arcname="snap")
    snap = load_bundle(archive)
    assert snap.count("Pod") == 1
    assert snap.logs("mycure-production", "a", "api", True) == "panic: boom\n"
    assert snap.now.year == 2026


def test_secret_values_never_enter_the_snapshot(tmp_path: Path) -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": "mongo", "namespace": "mycure-production", "uid": "s1",
                           "creationTimestamp": "2026-11-01T00:00:00Z"},
              "data": {"uri": "bW9uZ29kYjovL3VzZXI6cGFzc0Bob3N0"}}
    write(tmp_path / "secrets.json", json.dumps(secret))
    snap = load_bundle(tmp_path)
    assert snap.get("Secret", "mycure-production", "mongo")["data"] == {"uri": ""}


def test_bad_files_are_named_and_skipped(tmp_path: Path) -> None:
    write(tmp_path / "good.json", json.dumps(pod("a")))
    write(tmp_path / "broken.json", '{"kind": "Pod", "metadata": ')
    write(tmp_path / "broken.yaml", "kind: Pod\nmetadata: [unclosed\n")
    write(tmp_path / "nokind.json", json.dumps([{"metadata": {"name": "x"}}, pod("b")]))
    write(tmp_path / "notes.txt", "ignored")
    snap = load_bundle(tmp_path)
    assert snap.count("Pod") == 2
    text = "\n".join(snap.info.warnings)
    assert "broken.json: skipped, cannot parse" in text
    assert "broken.yaml: skipped, cannot parse" in text
    assert "nokind.json: 1 entry without kind or metadata.name skipped" in text
    assert "no capturedAt" in text  # falls back to the newest timestamp, and says so


def test_nothing_readable_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "broken.json", "{")
    with pytest.raises(BundleError, match="no Kubernetes objects could be read.*broken.json"):
        load_bundle(tmp_path)
    with pytest.raises(BundleError, match="no such file"):
        load_bundle(tmp_path / "missing")
    (tmp_path / "x.tar.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(BundleError):
        load_bundle(tmp_path / "x.tar.gz")


def test_troubleshoot_support_bundle(tmp_path: Path) -> None:
    root = tmp_path / "support-bundle-2026-11-26T03_00_00"
    cr = root / "cluster-resources"
    # the older collector wrote bare arrays without kind; the newer one a List envelope
    bare = [{k: v for k, v in pod("a").items() if k != "kind"}]
    write(cr / "pods/mycure-production.json", json.dumps(bare))
    write(cr / "events/mycure-production.json", json.dumps({"kind": "EventList", "apiVersion": "v1", "items": [event(pod("a"))]}))
    write(cr / "nodes.json", json.dumps({"kind": "NodeList", "apiVersion": "v1", "items": [
        {"metadata": {"name": "gke-prod-pool-1-a1b2", "uid": "n1"}, "spec": {}, "status": {}}]}))
    write(cr / "pods-errors.json", json.dumps(['pods is forbidden: User "sa" cannot list resource "pods" in API group ""'
                                               ' in the namespace "kube-system"']))
    write(cr / "groups.json", json.dumps({"kind": "APIGroupList", "groups": []}))
    write(cr / "resources.json", json.dumps([{"kind": "APIResourceList", "groupVersion": "v1", "resources": []}]))
    write(root / "custom-resources/certificates.cert-manager.io/gateway-system.json", json.dumps([
        {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
         "metadata": {"name": "gateway-tls", "namespace": "gateway-system"}}]))
    write(root / "cluster-info/cluster_version.json", json.dumps({"info": {"gitVersion": "v1.31.2"}, "string": "v1.31.2"}))
    write(cr / "pods/logs/mycure-production/api-1/api.log", "current\n")
    write(cr / "pods/logs/mycure-production/api-1/api-previous.log", "previous\n")
    write(cr / "pods/logs/mycure-production/api-1/api-logs-errors.log", "previous terminated container not found\n")
    snap = load_bundle(root)
    assert snap.get("Pod", "mycure-production", "a")["kind"] == "Pod"
    assert snap.count("Node") == 1 and snap.get("Node", None, "gke-prod-pool-1-a1b2")["kind"] == "Node"
    assert snap.count("Certificate") == 1
    assert snap.info.kubernetes_version == "v1.31.2"
    assert snap.now.isoformat() == "2026-11-26T03:00:00+00:00"
    assert snap.logs("mycure-production", "api-1", "api", True) == "previous\n"
    assert snap.logs("mycure-production", "api-1", "api", False) == "current\n"
    assert snap.info.collection_errors == [{"kind": "Pod", "namespace": "kube-system",
                                            "error": 'pods is forbidden: User "sa" cannot list resource "pods" in API group ""'
                                                     ' in the namespace "kube-system"'}]
    assert not [w for w in snap.info.warnings if "groups.json" in w or "resources.json" in w]


def test_the_loaders_precomputed_keys_index_exactly_like_the_snapshot_itself() -> None:
    """The loader hands the Snapshot each object's key and uid (a speed-up); the indexes must be the ones the
    Snapshot builds on its own from the same objects."""
    from sre_expert.core.snapshot import Snapshot
    from sre_expert.sources.resolve import demo_path

    loaded = load_bundle(demo_path())
    objs = [o for k in loaded.kinds() for o in loaded.list(k)]
    own = Snapshot(objs, loaded.info)
    fast = Snapshot(objs, loaded.info, keys=[((o["kind"], o["metadata"].get("namespace") or "", o["metadata"]["name"]),
                                              o["metadata"].get("uid")) for o in objs])
    for snap in (own, fast):
        assert snap.kinds() == loaded.kinds()
        for kind in loaded.kinds():
            assert [id(o) for o in snap.list(kind)] == [id(o) for o in loaded.list(kind)], kind
        pod = loaded.list("Pod")[0]
        assert snap.owners(pod) == loaded.owners(pod) and snap.events_for(pod) == loaded.events_for(pod)
    with pytest.raises(ValueError):
        Snapshot(objs, loaded.info, keys=[])
