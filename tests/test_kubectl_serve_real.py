"""The real kubectl against `bundle serve` of bundles that are not ours: a partial bundle (the README's
recipe when some `kubectl get` failed), troubleshoot.sh support bundles from tests/realworld (kind-less
list items, captured CRDs, Longhorn's `nodes.longhorn.io` beside core Nodes), and the demo's certificates.

What a user types must answer as a cluster would: an empty list for a kind the bundle lacks, never
"the server doesn't have a resource type"; the bundle's own Kubernetes version, so no skew warning.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_kubectl_serve import Kubectl, rows
from test_serve_api import build_bundle

from sre_expert.edges.apiserver import start_server
from sre_expert.sources.bundle_reader import load_bundle
from sre_expert.sources.resolve import demo_path

pytestmark = [pytest.mark.e2e, pytest.mark.needs("kubectl")]

REALWORLD = Path(__file__).resolve().parent / "realworld"
KURL = REALWORLD / "sbctl-kurl-longhorn"
K3S = REALWORLD / "troubleshoot-k3s-baseline"
NO_TYPE = "doesn't have a resource type"
# Kinds kubectl users ask for that a partial bundle does not hold, as typed (plural, short name, qualified).
ABSENT = ("daemonsets", "ds", "events", "ev", "events.events.k8s.io", "cronjobs", "cj", "secrets", "crd",
          "customresourcedefinitions.apiextensions.k8s.io", "ingresses", "pdb", "leases", "networkpolicies",
          "statefulsets", "hpa", "endpointslices", "storageclasses", "priorityclasses", "csidrivers")


def _items(path: Path) -> list[dict[str, Any]]:
    """Objects of a troubleshoot file or folder of per-namespace files (JSON lists or YAML, as captured)."""
    import yaml

    files = [path] if path.is_file() else sorted(f for f in path.glob("*") if f.suffix in (".json", ".yaml")
                                                 and not f.name.endswith("-errors.json"))
    out: list[dict[str, Any]] = []
    for f in files:
        doc = json.loads(f.read_text()) if f.suffix == ".json" else yaml.safe_load(f.read_text())
        out.extend((doc.get("items") or []) if isinstance(doc, dict) else doc or [])
    return out


def _serve(bundle: Path, home: Path) -> Iterator[tuple[Kubectl, Any]]:
    with start_server(load_bundle(bundle)) as h:
        yield Kubectl(h.url, home), h


@pytest.fixture(scope="module")
def partial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synth platform's bundle with only pods, nodes and bundle.json left."""
    path = build_bundle(tmp_path_factory.mktemp("partial") / "bundle", with_crds=False)
    for f in path.iterdir():
        if f.name not in ("pods.json", "nodes.json", "bundle.json"):
            shutil.rmtree(f) if f.is_dir() else f.unlink()
    return path


@pytest.fixture(scope="module")
def on_partial(partial: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Kubectl, Any]]:
    yield from _serve(partial, tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def on_kurl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Kubectl, Any]]:
    yield from _serve(KURL, tmp_path_factory.mktemp("home"))


# ------------------------------------------------------------------ a bundle that lacks most kinds


@pytest.mark.parametrize("what", ABSENT)
def test_a_kind_the_bundle_lacks_is_an_empty_list(on_partial: tuple[Kubectl, Any], what: str) -> None:
    kubectl, _ = on_partial
    scope = "" if what in ("crd", "customresourcedefinitions.apiextensions.k8s.io", "storageclasses",
                           "priorityclasses", "csidrivers") else "-A"
    r = kubectl(f"get {what} {scope}")
    assert r.returncode == 0 and NO_TYPE not in r.stderr, r.stderr
    assert r.stdout == "" and "No resources found" in r.stderr


def test_get_all_lists_the_pods_and_nothing_fails(on_partial: tuple[Kubectl, Any], partial: Path) -> None:
    kubectl, server = on_partial
    n = len(server.request_log)
    r = kubectl("get all -A -o name")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    pods = load_bundle(partial).list("Pod")
    assert sorted(r.stdout.split()) == sorted(f"pod/{p['metadata']['name']}" for p in pods)
    listed = {p.split("?")[0] for _, p, code in server.request_log[n:] if code == 200}
    # the `all` category as a real server defines it: each of these was listed, empty or not
    for path in ("/api/v1/pods", "/api/v1/services", "/api/v1/replicationcontrollers", "/apis/apps/v1/daemonsets",
                 "/apis/apps/v1/deployments", "/apis/apps/v1/replicasets", "/apis/apps/v1/statefulsets",
                 "/apis/batch/v1/jobs", "/apis/batch/v1/cronjobs", "/apis/autoscaling/v2/horizontalpodautoscalers"):
        assert path in listed, path
    assert all(code < 400 for _, _, code in server.request_log[n:])


def test_api_resources_lists_the_builtin_set_of_the_bundles_version(on_partial: tuple[Kubectl, Any]) -> None:
    kubectl, _ = on_partial
    r = kubectl("api-resources --no-headers")
    assert r.returncode == 0, r.stderr
    table = {(t[0], t[-1]): t for t in rows(r.stdout)}
    assert table[("daemonsets", "DaemonSet")][1:3] == ["ds", "apps/v1"]
    assert table[("cronjobs", "CronJob")][1:3] == ["cj", "batch/v1"]
    assert table[("customresourcedefinitions", "CustomResourceDefinition")][1:3] == ["crd,crds", "apiextensions.k8s.io/v1"]
    assert table[("secrets", "Secret")][1:] == ["v1", "true", "Secret"]
    assert table[("horizontalpodautoscalers", "HorizontalPodAutoscaler")][2] == "autoscaling/v2"
    assert table[("flowschemas", "FlowSchema")][1] == "flowcontrol.apiserver.k8s.io/v1"  # GA since 1.29
    assert ("events", "Event") in table and ("leases", "Lease") in table


def test_describe_nodes_lists_their_pods_by_field_selector(on_partial: tuple[Kubectl, Any], partial: Path) -> None:
    kubectl, server = on_partial
    snap = load_bundle(partial)
    node = next(n for n in snap.list("Node") if snap.pods_on_node(n["metadata"]["name"]))
    name = node["metadata"]["name"]
    n = len(server.request_log)
    r = kubectl(f"describe node {name}")
    assert r.returncode == 0, r.stderr
    running = [p for p in snap.pods_on_node(name) if p["status"].get("phase") not in ("Succeeded", "Failed")]
    assert f"Non-terminated Pods:          ({len(running)} in total)" in r.stdout
    assert all(p["metadata"]["name"] in r.stdout for p in running)
    sent = [p for _, p, code in server.request_log[n:] if p.startswith("/api/v1/pods?") and code == 200]
    assert sent and "fieldSelector=spec.nodeName%3D" + name in sent[0]
    # no events in this bundle: describe asks by involvedObject fields and gets an empty list
    assert any("/events?" in p and "involvedObject.name%3D" + name in p and code == 200
               for _, p, code in server.request_log[n:])
    assert r.stdout.rstrip().endswith("Events:              <none>")


def test_describe_nodes_without_any_pod_in_the_bundle(partial: Path, tmp_path: Path) -> None:
    nodes_only = tmp_path / "nodes-only"
    nodes_only.mkdir()
    for f in ("nodes.json", "bundle.json"):
        shutil.copy(partial / f, nodes_only / f)
    snap = load_bundle(nodes_only)
    with start_server(snap) as h:
        r = Kubectl(h.url, tmp_path / "home")("describe nodes")
        codes = [code for _, _, code in h.request_log]
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("Non-terminated Pods:          (0 in total)") == len(snap.list("Node")) > 0
    assert all(code == 200 or code == 404 for code in codes)  # 404: a node's Lease, which kubectl tolerates


def test_version_is_the_bundles_so_kubectl_sees_no_skew(on_partial: tuple[Kubectl, Any], partial: Path) -> None:
    kubectl, _ = on_partial
    r = kubectl("version")
    want = json.loads((partial / "bundle.json").read_text())["kubernetesVersion"]
    assert r.returncode == 0 and f"Server Version: {want}" in r.stdout, r.stderr
    assert "WARNING" not in r.stderr


def test_version_unknown_to_the_bundle_is_not_a_made_up_zero(tmp_path: Path, partial: Path) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    pods = json.loads((partial / "pods.json").read_text())
    for p in pods["items"]:
        p["spec"].pop("nodeName", None)
    (bare / "pods.json").write_text(json.dumps(pods))
    with start_server(load_bundle(bare)) as h:
        r = Kubectl(h.url, tmp_path / "home")("version -o json")
    assert r.returncode == 0, r.stderr
    server = json.loads(r.stdout)["serverVersion"]
    assert server["gitVersion"].endswith("+unknown") and server["major"] == "1" and server["minor"].isdigit()
    assert "WARNING" not in r.stderr


def test_version_from_the_kubelets_when_the_bundle_does_not_say(partial: Path, tmp_path: Path) -> None:
    b = tmp_path / "b"
    b.mkdir()
    shutil.copy(partial / "nodes.json", b / "nodes.json")
    nodes = json.loads((b / "nodes.json").read_text())["items"]
    kubelet = nodes[0]["status"]["nodeInfo"]["kubeletVersion"]
    assert all(n["status"]["nodeInfo"]["kubeletVersion"] == kubelet for n in nodes)
    with start_server(load_bundle(b)) as h:
        r = Kubectl(h.url, tmp_path / "home")("version -o json")
    assert r.returncode == 0 and json.loads(r.stdout)["serverVersion"]["gitVersion"] == kubelet, r.stderr


# ------------------------------------------------------------------ a troubleshoot.sh bundle (kURL, Longhorn)


def test_troubleshoot_bundle_reports_its_kubernetes_version(on_kurl: tuple[Kubectl, Any]) -> None:
    kubectl, _ = on_kurl
    r = kubectl("version -o json")
    want = json.loads((KURL / "cluster-info" / "cluster_version.json").read_text())["info"]
    got = json.loads(r.stdout)["serverVersion"]
    assert (got["gitVersion"], got["major"], got["minor"]) == (want["gitVersion"], want["major"], want["minor"])


def test_core_nodes_and_longhorn_nodes_stay_apart(on_kurl: tuple[Kubectl, Any]) -> None:
    kubectl, _ = on_kurl
    core = _items(KURL / "cluster-resources" / "nodes.json")
    longhorn = _items(KURL / "cluster-resources" / "custom-resources" / "nodes.longhorn.io")
    assert core and longhorn and all(n["apiVersion"] == "longhorn.io/v1beta1" for n in longhorn)
    r = kubectl("get nodes")
    assert r.returncode == 0, r.stderr
    table = rows(r.stdout)
    assert table[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert sorted(t[0] for t in table[1:]) == sorted(n["metadata"]["name"] for n in core)
    r = kubectl("get nodes.longhorn.io -A")
    assert r.returncode == 0, r.stderr
    table = rows(r.stdout)
    # the CRD's printer columns, evaluated on each Longhorn Node (its conditions are a map)
    assert table[0] == ["NAMESPACE", "NAME", "READY", "ALLOWSCHEDULING", "SCHEDULABLE", "AGE"]
    for n in longhorn:
        row = next(t for t in table[1:] if t[:2] == [n["metadata"]["namespace"], n["metadata"]["name"]])
        assert row[2:5] == [n["status"]["conditions"]["Ready"]["status"], str(n["spec"]["allowScheduling"]).lower(),
                            n["status"]["conditions"]["Schedulable"]["status"]]
    r = kubectl("get nodes.longhorn.io -n longhorn-system -o json")
    assert {i["apiVersion"] for i in json.loads(r.stdout)["items"]} == {"longhorn.io/v1beta1"}


def test_captured_crds_are_served_and_make_their_resources_discoverable(on_kurl: tuple[Kubectl, Any]) -> None:
    kubectl, _ = on_kurl
    crds = _items(KURL / "cluster-resources" / "custom-resource-definitions.json")
    assert crds and not any("apiVersion" in c for c in crds)  # troubleshoot writes kind-less items
    r = kubectl("get crd -o name")
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.split()) == sorted(f"customresourcedefinition.apiextensions.k8s.io/{c['metadata']['name']}"
                                              for c in crds)
    r = kubectl(f"get crd {crds[0]['metadata']['name']} -o json")
    assert json.loads(r.stdout)["apiVersion"] == "apiextensions.k8s.io/v1"
    r = kubectl("api-resources --api-group=velero.io --no-headers")
    assert r.returncode == 0, r.stderr
    served = {t[0] for t in rows(r.stdout)}
    want = {c["spec"]["names"]["plural"] for c in crds if c["spec"]["group"] == "velero.io"}
    assert want and want <= served  # from the CRDs, objects or not (and the captured discovery, see below)
    from sre_expert.edges.apiserver.api import BundleAPI

    without_discovery = BundleAPI(load_bundle(KURL))
    body = json.loads(without_discovery.handle("GET", "/apis/velero.io/v1", "", {}).body)
    assert {x["name"] for x in body["resources"]} == want
    r = kubectl("get schedules.velero.io -A")
    assert r.returncode == 0 and NO_TYPE not in r.stderr, r.stderr


def test_kindless_items_are_served_under_their_group(tmp_path: Path) -> None:
    """troubleshoot's analyzer fixture: Deployments, Jobs, StatefulSets and Nodes listed without apiVersion."""
    bundle = REALWORLD / "troubleshoot-analyzer-fixture"
    deploys = _items(bundle / "cluster-resources" / "deployments")
    jobs = _items(bundle / "cluster-resources" / "jobs")
    assert deploys and jobs and not any("apiVersion" in o for o in deploys + jobs)
    for kubectl, _ in _serve(bundle, tmp_path / "home"):
        r = kubectl("get deploy -A -o name")
        assert r.returncode == 0, r.stderr
        assert sorted(r.stdout.split()) == sorted(f"deployment.apps/{d['metadata']['name']}" for d in deploys)
        d = deploys[0]["metadata"]
        r = kubectl(f"get deploy {d['name']} -n {d['namespace']} -o json")
        got = json.loads(r.stdout)
        assert (got["apiVersion"], got["kind"], got["metadata"]["uid"]) == ("apps/v1", "Deployment", d["uid"])
        r = kubectl(f"describe deploy {d['name']} -n {d['namespace']}")
        assert r.returncode == 0 and re.search(rf"^Name:\s+{re.escape(d['name'])}$", r.stdout, re.M), r.stderr
        r = kubectl("get jobs -A -o json")
        assert {(i["apiVersion"], i["kind"]) for i in json.loads(r.stdout)["items"]} == {("batch/v1", "Job")}
        r = kubectl("get nodes -o name")
        nodes = _items(bundle / "cluster-resources" / "nodes.json")
        assert r.returncode == 0 and len(r.stdout.split()) == len(nodes), r.stderr


def test_logs_of_a_troubleshoot_pod_current_and_previous(on_kurl: tuple[Kubectl, Any]) -> None:
    kubectl, _ = on_kurl
    logs = KURL / "cluster-resources" / "pods" / "logs" / "velero" / "velero-6996dd565b-xl44t"
    r = kubectl("logs velero-6996dd565b-xl44t -n velero -c velero")
    assert r.returncode == 0 and r.stdout == (logs / "velero.log").read_text(), r.stderr
    r = kubectl("logs velero-6996dd565b-xl44t -n velero -c velero --previous --tail=3")
    want = (logs / "velero-previous.log").read_text().splitlines(keepends=True)[-3:]
    assert r.returncode == 0 and r.stdout == "".join(want), r.stderr


def test_describe_nodes_on_the_troubleshoot_bundle(on_kurl: tuple[Kubectl, Any]) -> None:
    kubectl, _ = on_kurl
    r = kubectl("describe nodes")
    assert r.returncode == 0, r.stderr
    core = _items(KURL / "cluster-resources" / "nodes.json")
    assert r.stdout.count("\nNon-terminated Pods:") == len(core)


def test_k3s_bundle_get_all_and_no_skew_warning(tmp_path: Path) -> None:
    for kubectl, _ in _serve(K3S, tmp_path / "home"):
        r = kubectl("version")
        assert r.returncode == 0 and "Server Version: v1.31.2+k3s1" in r.stdout, r.stderr
        assert "WARNING" not in r.stderr  # kubectl 1.32 and a 1.31 server are within the supported skew
        r = kubectl("get all -A -o name")
        assert r.returncode == 0 and r.stderr == "", r.stderr
        ds = _items(K3S / "cluster-resources" / "daemonsets")
        assert {f"daemonset.apps/{d['metadata']['name']}" for d in ds} <= set(r.stdout.split())


# ------------------------------------------------------------------ the demo: what the product recommends


def test_demo_certificates_wide_show_readiness_from_status(tmp_path: Path) -> None:
    demo = load_bundle(demo_path())
    with start_server(demo) as h:
        r = Kubectl(h.url, tmp_path / "home")("get certificates -A -o wide")
    assert r.returncode == 0, r.stderr
    table = rows(r.stdout)
    assert table[0] == ["NAMESPACE", "NAME", "READY", "SECRET", "ISSUER", "STATUS", "AGE"]
    seen = set()
    for cert in demo.list("Certificate"):
        md = cert["metadata"]
        row = next(t for t in table[1:] if t[:2] == [md["namespace"], md["name"]])
        ready = next(c for c in cert["status"]["conditions"] if c["type"] == "Ready")
        assert row[2:5] == [ready["status"], cert["spec"]["secretName"], cert["spec"]["issuerRef"]["name"]]
        assert row[5] == ready["message"]
        seen.add(ready["status"])
    assert seen == {"True", "False"}  # the demo has both, so the column is really read from status


def test_notes_say_what_is_not_answered_as_the_cluster_did() -> None:
    from datetime import UTC, datetime

    from sre_expert.edges.apiserver.api import BundleAPI
    from sre_expert.sources.memory import snapshot_from_objects

    now = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    objs = [{"kind": "Widget", "metadata": {"name": "w", "namespace": "n"}},
            {"kind": "Pod", "metadata": {"name": "p", "namespace": "n"}, "spec": {}, "status": {}}]
    api = BundleAPI(snapshot_from_objects(objs, now))
    notes = api.notes()
    assert any("does not say its Kubernetes version" in n for n in notes)
    assert "1 Widget object without apiVersion not served: no built-in kind or captured CRD tells their API group" in notes
    body = json.loads(api.handle("GET", "/api/v1/namespaces/n/pods/p", "", {}).body)
    assert (body["apiVersion"], body["kind"]) == ("v1", "Pod")  # the kind-less Pod is served under core v1
    assert BundleAPI(load_bundle(KURL)).notes() == [
        "Kubernetes v1.23.5: discovery lists the built-in resources of 1.25 (the nearest release known), plus every "
        "version the bundle's objects use"]


def test_a_kindless_event_is_served_as_a_core_event_in_both_groups(tmp_path: Path) -> None:
    ev = {"metadata": {"name": "web.1", "namespace": "n", "creationTimestamp": "2026-11-26T02:00:00Z", "uid": "e1"},
          "involvedObject": {"kind": "Pod", "namespace": "n", "name": "web", "apiVersion": "v1"},
          "reason": "BackOff", "message": "Back-off restarting failed container", "type": "Warning",
          "source": {"component": "kubelet"}, "count": 3, "firstTimestamp": "2026-11-26T02:00:00Z",
          "lastTimestamp": "2026-11-26T02:50:00Z"}
    b = tmp_path / "b"
    b.mkdir()
    (b / "events.json").write_text(json.dumps({"kind": "EventList", "items": [ev]}))  # items without apiVersion
    (b / "bundle.json").write_text(json.dumps({"capturedAt": "2026-11-26T03:00:00Z", "kubernetesVersion": "v1.31.4"}))
    for kubectl, _ in _serve(b, tmp_path / "home"):
        r = kubectl("get event web.1 -n n -o json")
        assert r.returncode == 0 and json.loads(r.stdout)["apiVersion"] == "v1", r.stderr
        r = kubectl("get events.events.k8s.io -n n -o json")
        (item,) = json.loads(r.stdout)["items"]
        assert (item["apiVersion"], item["note"], item["regarding"]["name"]) == (
            "events.k8s.io/v1", ev["message"], "web")
        r = kubectl("get events -n n")
        assert r.returncode == 0 and rows(r.stdout)[1][:3] == ["10m", "Warning", "BackOff"], r.stdout


def test_the_bundles_own_discovery_is_served_for_its_old_release(on_kurl: tuple[Kubectl, Any]) -> None:
    """kURL 1.23 captured its discovery: PodSecurityPolicy (policy/v1beta1, gone in 1.25) and Contour's
    resources (no CRD captured) are listed as that cluster listed them."""
    kubectl, server = on_kurl
    captured = json.loads((KURL / "cluster-resources" / "resources.json").read_text())
    assert any(d["groupVersion"] == "policy/v1beta1" for d in captured)
    r = kubectl("get psp")
    assert r.returncode == 0 and "No resources found" in r.stderr, r.stderr
    r = kubectl("api-resources --api-group=projectcontour.io --no-headers")
    assert r.returncode == 0, r.stderr
    want = {x["name"] for d in captured if d["groupVersion"].startswith("projectcontour.io/")
            for x in d["resources"] if "/" not in x["name"]}
    assert want and {t[0] for t in rows(r.stdout)} == want
    assert any(n.startswith("discovery as the cluster answered it") for n in server.api.notes())


def test_discovery_captured_in_an_archive(tmp_path: Path) -> None:
    archive = REALWORLD / "troubleshoot-k3s-archive" / "support-bundle.tar.gz"
    for kubectl, server in _serve(archive, tmp_path / "home"):
        assert server.api.captured  # read from inside the archive
        r = kubectl("api-resources --api-group=helm.cattle.io --no-headers")
        assert r.returncode == 0 and {t[0] for t in rows(r.stdout)} == {"helmchartconfigs", "helmcharts"}, r.stderr
        r = kubectl("version")
        assert "Server Version: v1.24.4+k3s1" in r.stdout


def test_an_hpa_captured_at_autoscaling_v1_reads_as_v2(tmp_path: Path) -> None:
    """gitops-engine's degraded HPA (autoscaling/v1: CPU target in a field, conditions in an annotation), read
    as kubectl reads it, at autoscaling/v2: the target prints and describe shows the ScalingActive=False cause."""
    import yaml

    hpa = yaml.safe_load((REALWORLD / "gitops-engine-health" / "hpa-v1-degraded.yaml").read_text())
    hpa["metadata"]["creationTimestamp"] = "2020-11-23T19:38:00Z"
    b = tmp_path / "b"
    b.mkdir()
    (b / "horizontalpodautoscalers.json").write_text(json.dumps({"kind": "List", "items": [hpa]}))
    (b / "bundle.json").write_text(json.dumps({"capturedAt": "2020-11-23T20:00:00Z", "kubernetesVersion": "v1.19.3"}))
    for kubectl, _ in _serve(b, tmp_path / "home"):
        r = kubectl("get hpa -n argocd")
        assert r.returncode == 0, r.stderr
        assert rows(r.stdout)[1][:6] == ["sample", "Deployment/sample", "cpu: <unknown>/2%", "1", "1", "1"]
        r = kubectl("describe hpa sample -n argocd")
        assert r.returncode == 0, r.stderr
        assert re.search(r"ScalingActive\s+False\s+FailedGetResourceMetric", r.stdout), r.stdout
        r = kubectl("get horizontalpodautoscalers.v1.autoscaling sample -n argocd -o json")  # at v1: as captured
        assert json.loads(r.stdout)["spec"]["targetCPUUtilizationPercentage"] == 2


def test_the_request_log_is_bounded_and_sliced_like_a_list() -> None:
    from sre_expert.edges.apiserver.http_front import RequestLog

    log = RequestLog(limit=3)
    for i in range(5):
        log.append(("GET", f"/{i}", 200))
    assert len(log) == 5 and [p for _, p, _ in log] == ["/2", "/3", "/4"]  # the two oldest are forgotten
    assert log[0:] == log[2:] and [p for _, p, _ in log[4:]] == ["/4"] and log[5:] == []
    n = len(log)
    log.append(("DELETE", "/x", 405))
    assert log[n:] == [("DELETE", "/x", 405)]
    del log[n:]
    assert len(log) == n and [p for _, p, _ in log] == ["/3", "/4"]  # /2 made room for /x
