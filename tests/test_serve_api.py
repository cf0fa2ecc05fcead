"""`bundle serve` at the HTTP level: discovery, lists, paging, selectors, tables, logs, Status errors,
reviews, fault injection, and the official Python client against it.

Bundles are the shipped demo and synth platforms written to disk as `kubectl get -o json` files, with
the upstream CRDs from ../shared/crds where a test needs printer columns.
"""

from __future__ import annotations

import copy
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from apiserver_faults import FaultyBundleAPI, start_faulty_server

from sre_expert.core.selectors import matches
from sre_expert.edges.apiserver import start_server
from sre_expert.edges.apiserver.api import BundleAPI
from sre_expert.edges.apiserver.event_shapes import to_events_v1
from sre_expert.edges.apiserver.jsonpath import find
from sre_expert.edges.apiserver.paging import encode
from sre_expert.edges.apiserver.printers import human_duration, pod_row
from sre_expert.edges.apiserver.protobuf import decode_review
from sre_expert.edges.apiserver.query_selectors import (
    SelectorError,
    parse_field_selector,
    parse_label_selector,
)
from sre_expert.sources.bundle_reader import load_bundle
from sre_expert.sources.memory import snapshot_from_objects
from sre_expert.sources.resolve import demo_path
from synth import faults
from synth.builder import PlatformBuilder
from synth.bundle_writer import write_bundle
from synth.platform import healthy_platform

pytestmark = pytest.mark.e2e

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
CRD_DIR = Path(__file__).resolve().parents[2] / "shared" / "crds"
TENANT = "mycure-production"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
CRASH_LOG = "starting api\nconnecting to mongodb\nMongoServerSelectionError: connect ECONNREFUSED\nexiting\n"
# What kubectl v1.32 sends for `kubectl auth can-i list pods` (Content-Type application/vnd.kubernetes.protobuf).
KUBECTL_SSAR = (b'k8s\x00\n2\n\x17authorization.k8s.io/v1\x12\x17SelfSubjectAccessReview\x12=\n\x10\n\x00\x12\x00'
                b'\x1a\x00"\x00*\x002\x008\x00B\x00\x12\x1f\n\x1d\n\x07default\x12\x04list\x1a\x00"\x00*\x04pods2\x00'
                b':\x00\x1a\x08\x08\x00\x12\x00\x1a\x00 \x00\x1a\x00"\x00')


def crd(path: str) -> dict[str, Any]:
    """An upstream CRD as the API server returns it (the file is a Helm template: drop its templated labels)."""
    doc = next(d for d in yaml.safe_load_all((CRD_DIR / path).read_text()) if d and d.get("kind") == "CustomResourceDefinition")
    doc["metadata"] = {"name": doc["metadata"]["name"], "creationTimestamp": "2026-04-01T00:00:00Z",
                       "uid": f"crd-{doc['metadata']['name']}", "resourceVersion": "100"}
    return doc


def platform_with_crashloop() -> PlatformBuilder:
    """The synth platform with one crash-looping api pod (previous log captured) in mycure-production."""
    b = healthy_platform(PlatformBuilder(NOW))
    pod = b.workload("Deployment", TENANT, "api").pods[0]
    faults.crashloop(b, pod, previous_log=CRASH_LOG, restarts=7)
    return b


def build_bundle(path: Path, with_crds: bool = True) -> Path:
    b = platform_with_crashloop()
    write_bundle(b, path)
    if with_crds:
        items = [crd("cert-manager/crd-certificates.yaml"), crd("gateway-api/gateway.networking.k8s.io_httproutes.yaml")]
        (path / "customresourcedefinitions.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    return path


def crashing_pod(snap: Any) -> dict[str, Any]:
    return next(p for p in snap.list("Pod", TENANT)
                if any((c.get("state") or {}).get("waiting", {}).get("reason") == "CrashLoopBackOff"
                       for c in p["status"].get("containerStatuses") or ()))


class Client:
    """Plain HTTP against a running server; answers (status, parsed JSON or text)."""

    def __init__(self, url: str):
        self.url = url

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
                ) -> tuple[int, Any, str]:
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                code, data, ctype = r.status, r.read(), r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            code, data, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
        return code, (json.loads(data) if ctype.startswith("application/json") else data.decode()), ctype

    def get(self, path: str, **headers: str) -> tuple[int, Any]:
        code, body, _ = self.request("GET", path, headers={k.replace("_", "-"): v for k, v in headers.items()})
        return code, body


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_bundle(tmp_path_factory.mktemp("serve") / "bundle")


@pytest.fixture(scope="module")
def snap(bundle: Path) -> Any:
    return load_bundle(bundle)


@pytest.fixture(scope="module")
def server(snap: Any) -> Iterator[Any]:
    with start_server(snap) as h:
        yield h


@pytest.fixture(scope="module")
def client(server: Any) -> Client:
    return Client(server.url)


# ------------------------------------------------------------------ discovery


def test_version_comes_from_bundle_json(client: Client, snap: Any) -> None:
    code, body = client.get("/version")
    assert code == 200 and body["gitVersion"] == snap.info.kubernetes_version
    assert (body["major"], body["minor"]) == tuple(snap.info.kubernetes_version.lstrip("v").split(".")[:2])


def test_core_discovery_lists_every_builtin_kind_read_only_with_short_names(client: Client) -> None:
    code, body = client.get("/api")
    assert code == 200 and body["kind"] == "APIVersions" and body["versions"] == ["v1"]
    code, body = client.get("/api/v1")
    assert code == 200 and body["kind"] == "APIResourceList" and body["groupVersion"] == "v1"
    res = {r["name"]: r for r in body["resources"]}
    assert res["pods"]["shortNames"] == ["po"] and res["pods"]["namespaced"] is True and res["pods"]["kind"] == "Pod"
    assert res["services"]["shortNames"] == ["svc"] and res["nodes"]["namespaced"] is False
    assert res["pods/log"]["verbs"] == ["get"]
    assert all(set(r["verbs"]) <= {"get", "list"} for r in body["resources"])
    # a real server lists every built-in resource, objects or not: nothing of this kind is in the bundle
    assert res["replicationcontrollers"]["shortNames"] == ["rc"] and "all" in res["replicationcontrollers"]["categories"]
    code, body = client.get("/api/v1/replicationcontrollers")
    assert code == 200 and body["kind"] == "ReplicationControllerList" and body["items"] == []


def test_group_discovery_from_object_api_versions(client: Client) -> None:
    code, body = client.get("/apis")
    assert code == 200 and body["kind"] == "APIGroupList"
    groups = {g["name"]: g for g in body["groups"]}
    assert groups["apps"]["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    assert groups["cert-manager.io"]["versions"] == [{"groupVersion": "cert-manager.io/v1", "version": "v1"}]
    assert "authorization.k8s.io" in groups  # the access reviews the server answers itself
    code, body = client.get("/apis/apps/v1")
    deploy = next(r for r in body["resources"] if r["name"] == "deployments")
    assert deploy["shortNames"] == ["deploy"] and "all" in deploy["categories"]
    code, body = client.get("/apis/cert-manager.io/v1")
    names = {r["name"]: r for r in body["resources"]}
    assert names["certificates"]["shortNames"] == ["cert", "certs"]  # from the CRD in the bundle
    assert names["clusterissuers"]["namespaced"] is False
    assert client.get("/apis/nope.example.com/v1")[0] == 404
    assert client.get("/apis/apps/v2")[0] == 404


def test_unknown_kind_gets_plural_and_scope_from_its_objects() -> None:
    objs = [{"apiVersion": "example.com/v1alpha1", "kind": "WidgetPolicy", "metadata": {"name": "a", "namespace": "n1"}},
            {"apiVersion": "example.com/v1alpha1", "kind": "WidgetPolicy", "metadata": {"name": "b", "namespace": "n2"}}]
    api = BundleAPI(snapshot_from_objects(objs, NOW))
    r = api.handle("GET", "/apis/example.com/v1alpha1", "", {})
    (res,) = json.loads(r.body)["resources"]
    assert (res["name"], res["namespaced"], res["kind"]) == ("widgetpolicies", True, "WidgetPolicy")
    r = api.handle("GET", "/apis/example.com/v1alpha1/namespaces/n2/widgetpolicies", "", {})
    assert [o["metadata"]["name"] for o in json.loads(r.body)["items"]] == ["b"]


def test_openapi_is_404(client: Client) -> None:
    assert client.get("/openapi/v2")[0] == 404 and client.get("/openapi/v3")[0] == 404


# ------------------------------------------------------------------ list and get


def test_cluster_wide_list_has_every_pod_with_list_metadata(client: Client, snap: Any) -> None:
    code, body = client.get("/api/v1/pods")
    assert code == 200 and body["kind"] == "PodList" and body["apiVersion"] == "v1"
    assert body["metadata"]["resourceVersion"] and "continue" not in body["metadata"]
    got = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in body["items"]}
    assert got == {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in snap.list("Pod")}


def test_namespaced_list_get_and_custom_resources(client: Client, snap: Any) -> None:
    code, body = client.get(f"/api/v1/namespaces/{TENANT}/pods")
    assert {p["metadata"]["namespace"] for p in body["items"]} == {TENANT}
    assert len(body["items"]) == len(snap.list("Pod", TENANT))
    pod = body["items"][0]
    code, one = client.get(f"/api/v1/namespaces/{TENANT}/pods/{pod['metadata']['name']}")
    assert code == 200 and one == pod
    code, routes = client.get("/apis/gateway.networking.k8s.io/v1/httproutes")
    assert routes["kind"] == "HTTPRouteList" and len(routes["items"]) == len(snap.list("HTTPRoute"))
    code, issuers = client.get("/apis/cert-manager.io/v1/clusterissuers")
    assert code == 200 and len(issuers["items"]) == len(snap.list("ClusterIssuer"))
    name = issuers["items"][0]["metadata"]["name"]
    assert client.get(f"/apis/cert-manager.io/v1/clusterissuers/{name}")[1]["metadata"]["name"] == name


def test_missing_object_is_a_not_found_status(client: Client) -> None:
    code, body = client.get(f"/api/v1/namespaces/{TENANT}/pods/nope")
    assert code == 404
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": 'pods "nope" not found', "reason": "NotFound",
                    "details": {"name": "nope", "kind": "pods"}, "code": 404}
    code, body = client.get("/apis/apps/v1/namespaces/x/deployments/y")
    assert body["message"] == 'deployments.apps "y" not found' and body["details"]["group"] == "apps"


def test_secrets_are_served_without_values(client: Client) -> None:
    _, body = client.get("/api/v1/secrets")
    assert body["items"] and all(set(s.get("data", {}).values()) <= {""} for s in body["items"])


# ------------------------------------------------------------------ paging


def walk(client: Client, path: str, limit: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every item by pages, and each page's metadata."""
    items, metas, token = [], [], None
    sep = "&" if "?" in path else "?"
    while True:
        url = f"{path}{sep}limit={limit}" + (f"&continue={urllib.parse.quote(token)}" if token else "")
        code, body = client.get(url)
        assert code == 200, body
        assert len(body["items"]) <= limit
        items.extend(body["items"])
        metas.append(body["metadata"])
        token = body["metadata"].get("continue")
        if not token:
            return items, metas


def test_paging_returns_each_object_once_in_order(client: Client) -> None:
    _, full = client.get("/api/v1/pods")
    items, metas = walk(client, "/api/v1/pods", 7)
    assert [p["metadata"]["uid"] for p in items] == [p["metadata"]["uid"] for p in full["items"]]
    assert len(metas) == -(-len(full["items"]) // 7)
    remaining = [m["remainingItemCount"] for m in metas[:-1]]
    assert remaining == sorted(remaining, reverse=True) and remaining[0] == len(full["items"]) - 7
    assert all(m["resourceVersion"] == metas[0]["resourceVersion"] for m in metas)


def test_paging_applies_after_the_selector(client: Client) -> None:
    sel = urllib.parse.quote("app.kubernetes.io/name in (api,mongodb)")
    _, full = client.get(f"/api/v1/pods?labelSelector={sel}")
    items, _ = walk(client, f"/api/v1/pods?labelSelector={sel}", 2)
    assert len(full["items"]) > 2 and items == full["items"]


def test_bad_and_stale_continue_tokens(client: Client, server: Any) -> None:
    code, body = client.get("/api/v1/pods?limit=5&continue=not-a-token")
    assert code == 400 and body["reason"] == "BadRequest"
    stale = encode("1", ("a", "b")) if server.api.resource_version != "1" else encode("2", ("a", "b"))
    code, body = client.get(f"/api/v1/pods?limit=5&continue={stale}")
    assert code == 410 and body["reason"] == "Expired"


# ------------------------------------------------------------------ selectors


@pytest.mark.parametrize("text, selector", [
    ("app.kubernetes.io/name=api", {"matchLabels": {"app.kubernetes.io/name": "api"}}),
    ("app.kubernetes.io/name==api", {"matchLabels": {"app.kubernetes.io/name": "api"}}),
    ("app.kubernetes.io/name!=api",
     {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "NotIn", "values": ["api"]}]}),
    ("app.kubernetes.io/name in (api,mongodb)",
     {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In", "values": ["api", "mongodb"]}]}),
    ("app.kubernetes.io/name notin (api, mongodb)",
     {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "NotIn", "values": ["api", "mongodb"]}]}),
    ("pod-template-hash", {"matchExpressions": [{"key": "pod-template-hash", "operator": "Exists"}]}),
    ("!pod-template-hash", {"matchExpressions": [{"key": "pod-template-hash", "operator": "DoesNotExist"}]}),
    ("app.kubernetes.io/instance=mycure-production,!pod-template-hash",
     {"matchLabels": {"app.kubernetes.io/instance": "mycure-production"},
      "matchExpressions": [{"key": "pod-template-hash", "operator": "DoesNotExist"}]}),
])
def test_label_selectors_match_what_the_label_selector_semantics_say(client: Client, snap: Any, text: str,
                                                                     selector: dict[str, Any]) -> None:
    code, body = client.get("/api/v1/pods?labelSelector=" + urllib.parse.quote(text))
    assert code == 200
    want = sorted(p["metadata"]["name"] for p in snap.list("Pod") if matches(selector, p["metadata"].get("labels")))
    assert want and sorted(p["metadata"]["name"] for p in body["items"]) == want


@pytest.mark.parametrize("text", ["a in ()", "=x", "a b", "a=b=c", "in (a", "Bad Key=x"])
def test_invalid_label_selectors_are_rejected(text: str) -> None:
    with pytest.raises(SelectorError):
        parse_label_selector(text)


def test_numeric_label_comparisons() -> None:
    pred = parse_label_selector("tier>1")
    assert (pred is not None and pred({"metadata": {"labels": {"tier": "2"}}})
            and not pred({"metadata": {"labels": {"tier": "1"}}}))


def test_event_field_selectors_as_kubectl_describe_sends_them(client: Client, snap: Any) -> None:
    pod = crashing_pod(snap)
    md = pod["metadata"]
    sel = f"involvedObject.namespace={TENANT},involvedObject.uid={md['uid']},involvedObject.name={md['name']}"
    code, body = client.get(f"/api/v1/namespaces/{TENANT}/events?fieldSelector={urllib.parse.quote(sel)}&limit=500")
    assert code == 200
    assert sorted(e["reason"] for e in body["items"]) == sorted(e["reason"] for e in snap.events_for(pod))
    assert "BackOff" in {e["reason"] for e in body["items"]}
    code, body = client.get("/api/v1/events?fieldSelector=" + urllib.parse.quote("type=Warning,reason=BackOff"))
    assert body["items"] and {(e["type"], e["reason"]) for e in body["items"]} == {("Warning", "BackOff")}


def test_pod_field_selectors_as_kubectl_describe_node_sends_them(client: Client, snap: Any) -> None:
    node = snap.list("Node")[1]["metadata"]["name"]
    sel = f"spec.nodeName={node},status.phase!=Succeeded,status.phase!=Failed"
    code, body = client.get("/api/v1/pods?fieldSelector=" + urllib.parse.quote(sel))
    want = {p["metadata"]["name"] for p in snap.pods_on_node(node) if p["status"].get("phase") not in ("Succeeded", "Failed")}
    assert code == 200 and want and {p["metadata"]["name"] for p in body["items"]} == want
    code, body = client.get("/api/v1/namespaces?fieldSelector=metadata.name%3Dkube-system")
    assert [n["metadata"]["name"] for n in body["items"]] == ["kube-system"]


def test_unsupported_field_selector_is_400_as_on_a_cluster(client: Client) -> None:
    code, body = client.get("/api/v1/pods?fieldSelector=spec.priority%3D3")
    assert code == 400 and body["message"] == "field label not supported: spec.priority"


def test_field_selector_escapes() -> None:
    pred = parse_field_selector(r"metadata.name=a\,b", "", "Pod")
    assert pred is not None and pred({"metadata": {"name": "a,b"}}) and not pred({"metadata": {"name": "a"}})


# ------------------------------------------------------------------ tables


def test_pod_table_has_kubectls_columns_and_the_crashloop_row(client: Client, snap: Any) -> None:
    pod = crashing_pod(snap)
    code, body = client.get(f"/api/v1/namespaces/{TENANT}/pods", accept=TABLE)
    assert code == 200 and body["kind"] == "Table" and body["apiVersion"] == "meta.k8s.io/v1"
    cols = [(c["name"], c["priority"]) for c in body["columnDefinitions"]]
    assert cols == [("Name", 0), ("Ready", 0), ("Status", 0), ("Restarts", 0), ("Age", 0), ("IP", 1), ("Node", 1),
                    ("Nominated Node", 1), ("Readiness Gates", 1)]
    row = next(r for r in body["rows"] if r["cells"][0] == pod["metadata"]["name"])
    assert row["cells"][1:3] == ["0/1", "CrashLoopBackOff"]
    assert row["cells"][3].startswith("7 (") and row["cells"][3].endswith(" ago)")
    assert row["cells"][5:7] == [pod["status"]["podIP"], pod["spec"]["nodeName"]]
    assert row["object"]["kind"] == "PartialObjectMetadata" and row["object"]["metadata"]["name"] == pod["metadata"]["name"]


def test_table_include_object(client: Client) -> None:
    _, body = client.get("/api/v1/nodes?includeObject=Object", accept=TABLE)
    assert all(r["object"]["kind"] == "Node" and "status" in r["object"] for r in body["rows"])
    _, body = client.get("/api/v1/nodes?includeObject=None", accept=TABLE)
    assert all("object" not in r for r in body["rows"])


def test_table_for_a_single_object_and_paged_tables(client: Client) -> None:
    _, body = client.get("/api/v1/namespaces/kube-system", accept=TABLE)
    assert [r["cells"][:2] for r in body["rows"]] == [["kube-system", "Active"]]
    _, body = client.get("/api/v1/pods?limit=3", accept=TABLE)
    assert len(body["rows"]) == 3 and body["metadata"]["continue"]


@pytest.mark.parametrize("path, columns", [
    ("/apis/apps/v1/deployments", ["Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"]),
    ("/api/v1/services", ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"]),
    ("/api/v1/nodes", ["Name", "Status", "Roles", "Age", "Version", "Internal-IP", "External-IP", "OS-Image",
                       "Kernel-Version", "Container-Runtime"]),
    ("/api/v1/events", ["Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen",
                        "Count", "Name"]),
    ("/api/v1/persistentvolumeclaims", ["Name", "Status", "Volume", "Capacity", "Access Modes", "StorageClass",
                                        "VolumeAttributesClass", "Age", "VolumeMode"]),
    ("/api/v1/namespaces", ["Name", "Status", "Age"]),
    ("/apis/batch/v1/jobs", ["Name", "Status", "Completions", "Duration", "Age", "Containers", "Images", "Selector"]),
    ("/apis/batch/v1/cronjobs", ["Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age",
                                 "Containers", "Images", "Selector"]),
    ("/apis/apps/v1/replicasets", ["Name", "Desired", "Current", "Ready", "Age", "Containers", "Images", "Selector"]),
    ("/apis/apps/v1/statefulsets", ["Name", "Ready", "Age", "Containers", "Images"]),
    ("/apis/apps/v1/daemonsets", ["Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector",
                                  "Age", "Containers", "Images", "Selector"]),
])
def test_builtin_tables_have_the_servers_columns_and_one_cell_per_column(client: Client, path: str,
                                                                        columns: list[str]) -> None:
    code, body = client.get(path, accept=TABLE)
    assert code == 200 and [c["name"] for c in body["columnDefinitions"]] == columns
    assert body["rows"] and all(len(r["cells"]) == len(columns) for r in body["rows"])


def test_crd_printer_columns_when_the_crd_is_in_the_bundle(client: Client, snap: Any) -> None:
    _, body = client.get("/apis/cert-manager.io/v1/certificates", accept=TABLE)
    assert [c["name"] for c in body["columnDefinitions"]] == ["Name", "Ready", "Secret", "Issuer", "Status", "Age"]
    cert = snap.list("Certificate")[0]
    row = next(r for r in body["rows"] if r["cells"][0] == cert["metadata"]["name"])
    ready = next(c["status"] for c in cert["status"]["conditions"] if c["type"] == "Ready")
    assert row["cells"][1:4] == [ready, cert["spec"]["secretName"], cert["spec"]["issuerRef"]["name"]]
    assert row["cells"][5].endswith("d")  # created months before capturedAt
    _, body = client.get("/apis/gateway.networking.k8s.io/v1/httproutes", accept=TABLE)
    assert [c["name"] for c in body["columnDefinitions"]] == ["Name", "Hostnames", "Age"]
    assert all(r["cells"][1].startswith("[") for r in body["rows"])  # a list, printed as Go prints it


def test_operator_resources_without_their_crd_print_the_upstream_crd_columns() -> None:
    """The demo holds Certificates but not their CRD: the cluster had cert-manager's CRD, so print its columns."""
    demo = load_bundle(demo_path())
    with start_server(demo) as h:
        _, body = Client(h.url).get("/apis/cert-manager.io/v1/certificates", accept=TABLE)
    assert [c["name"] for c in body["columnDefinitions"]] == ["Name", "Ready", "Secret", "Issuer", "Status", "Age"]
    for cert in demo.list("Certificate"):
        row = next(r for r in body["rows"] if r["cells"][0] == cert["metadata"]["name"])
        ready = [c["status"] for c in (cert.get("status") or {}).get("conditions") or () if c["type"] == "Ready"]
        assert row["cells"][1] == (ready[0] if ready else None)


def test_custom_resources_of_an_unknown_crd_get_name_and_age() -> None:
    objs = [{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "a", "namespace": "n1",
             "creationTimestamp": "2026-11-25T03:00:00Z"}, "status": {"phase": "Ready"}}]
    api = BundleAPI(snapshot_from_objects(objs, NOW))
    body = json.loads(api.handle("GET", "/apis/example.com/v1/widgets", "", {"accept": TABLE}).body)
    assert [c["name"] for c in body["columnDefinitions"]] == ["Name", "Age"]
    assert body["rows"][0]["cells"] == ["a", "24h"]


def test_partial_object_metadata_lists(client: Client) -> None:
    _, body = client.get("/api/v1/namespaces", accept="application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io")
    assert body["kind"] == "PartialObjectMetadataList" and body["items"][0]["kind"] == "PartialObjectMetadata"


@pytest.mark.parametrize("seconds, text", [
    (-5, "<invalid>"), (-1, "0s"), (0, "0s"), (119, "119s"), (120, "2m"), (125, "2m5s"), (600, "10m"), (10799, "179m"),
    (3 * 3600, "3h"), (7 * 3600 + 59 * 60, "7h59m"), (47 * 3600, "47h"), (76 * 3600, "3d4h"), (9 * 86400, "9d"),
    (800 * 86400, "2y70d"), (3000 * 86400, "8y"),
])
def test_ages_as_kubectl_prints_them(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


def test_pod_status_for_init_containers_and_deletion() -> None:
    pod = {"metadata": {"name": "p", "creationTimestamp": "2026-11-26T02:00:00Z"},
           "spec": {"initContainers": [{"name": "migrate"}], "containers": [{"name": "app"}]},
           "status": {"phase": "Pending", "initContainerStatuses": [
               {"name": "migrate", "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-11-26T02:58:00Z"}}}],
               "containerStatuses": [{"name": "app", "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}}]}}
    cells = pod_row(pod, NOW)
    assert cells[1:4] == ["0/1", "Init:CrashLoopBackOff", "3 (2m ago)"]
    pod["metadata"]["deletionTimestamp"] = "2026-11-26T02:59:00Z"
    assert pod_row(pod, NOW)[2] == "Terminating"


def test_jsonpath_subset() -> None:
    obj = {"status": {"conditions": [{"type": "Synced", "status": "False"}, {"type": "Ready", "status": "True"}]},
           "spec": {"a.b": {"c": [1, 2]}}}
    assert find(obj, '.status.conditions[?(@.type=="Ready")].status') == ["True"]
    assert find(obj, ".status.conditions[*].type") == ["Synced", "Ready"]
    assert find(obj, ".spec['a.b'].c[1]") == [2]
    assert find(obj, ".status.missing") == []


# ------------------------------------------------------------------ logs


def log_path(pod: dict[str, Any]) -> str:
    return f"/api/v1/namespaces/{pod['metadata']['namespace']}/pods/{pod['metadata']['name']}/log"


def test_logs_current_previous_and_tail(client: Client, snap: Any) -> None:
    pod = crashing_pod(snap)
    cname = pod["spec"]["containers"][0]["name"]
    code, text, ctype = client.request("GET", log_path(pod) + f"?container={cname}&previous=true")
    assert code == 200 and ctype.startswith("text/plain") and text == CRASH_LOG
    code, text, _ = client.request("GET", log_path(pod) + "?previous=true&tailLines=2")
    assert text == "MongoServerSelectionError: connect ECONNREFUSED\nexiting\n"
    code, text, _ = client.request("GET", log_path(pod) + "?tailLines=0")
    assert code == 200 and text == ""
    code, text, _ = client.request("GET", log_path(pod) + "?limitBytes=5")
    assert text == CRASH_LOG[:5]


def test_log_errors_are_the_api_servers(client: Client, snap: Any) -> None:
    multi = next(p for p in snap.list("Pod") if len(p["spec"]["containers"]) > 1)
    names = " ".join(c["name"] for c in multi["spec"]["containers"])
    code, body = client.get(log_path(multi))
    assert code == 400 and body["message"].startswith(
        f"a container name must be specified for pod {multi['metadata']['name']}, choose one of: [{names}]")
    code, body = client.get(log_path(multi) + "?container=nope")
    assert code == 400 and body["message"] == f"container nope is not valid for pod {multi['metadata']['name']}"
    never = next(p for p in snap.list("Pod", "kube-system") if p["status"]["containerStatuses"][0]["restartCount"] == 0
                 and len(p["spec"]["containers"]) == 1)
    code, body = client.get(log_path(never) + "?previous=true")
    assert code == 400 and "previous terminated container" in body["message"]
    code, body = client.get(f"/api/v1/namespaces/{TENANT}/pods/nope/log")
    assert code == 404 and body["reason"] == "NotFound"
    code, body = client.get(log_path(never) + "?tailLines=-1")
    assert code == 422 and body["reason"] == "Invalid"


def test_a_log_the_bundle_does_not_hold_is_404_saying_so(snap: Any) -> None:
    pod = next(p for p in snap.list("Pod") if len(p["spec"]["containers"]) == 1
               and (p["status"]["containerStatuses"][0].get("state") or {}).get("running"))
    api = BundleAPI(snapshot_from_objects([copy.deepcopy(pod)], NOW, logs={}))  # captured without logs
    r = api.handle("GET", log_path(pod), "", {})
    body = json.loads(r.body)
    assert r.code == 404 and "not captured in this bundle" in body["message"] and body["kind"] == "Status"


# ------------------------------------------------------------------ writes, watch, reviews


@pytest.mark.parametrize("method, path, verb", [
    ("DELETE", f"/api/v1/namespaces/{TENANT}/pods/x", 'delete pods "x"'),
    ("DELETE", f"/api/v1/namespaces/{TENANT}/pods", "deletecollection pods"),
    ("POST", f"/apis/apps/v1/namespaces/{TENANT}/deployments", "create deployments.apps"),
    ("PUT", "/api/v1/nodes/n1", 'update nodes "n1"'),
    ("PATCH", f"/apis/apps/v1/namespaces/{TENANT}/deployments/api/scale", 'patch deployments.apps "api" (scale subresource)'),
])
def test_writes_are_refused_with_a_method_not_allowed_status(client: Client, method: str, path: str, verb: str) -> None:
    code, body, _ = client.request(method, path, body=b"{}", headers={"Content-Type": "application/json"})
    assert code == 405
    assert body["kind"] == "Status" and body["status"] == "Failure" and body["reason"] == "MethodNotAllowed"
    assert body["code"] == 405 and body["message"].startswith(verb) and "read-only" in body["message"]


def test_watch_is_refused_cleanly(client: Client) -> None:
    for path in ("/api/v1/pods?watch=true", "/api/v1/watch/pods", f"/api/v1/watch/namespaces/{TENANT}/pods"):
        code, body = client.get(path)
        assert code == 405 and body["kind"] == "Status" and "watch" in body["message"]


@pytest.mark.parametrize("verb, allowed", [("get", True), ("list", True), ("watch", True), ("delete", False),
                                           ("create", False), ("patch", False)])
def test_access_review_allows_reads_only(client: Client, verb: str, allowed: bool) -> None:
    req = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
           "spec": {"resourceAttributes": {"verb": verb, "resource": "pods", "namespace": TENANT}}}
    code, body, _ = client.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                                   json.dumps(req).encode(), {"Content-Type": "application/json"})
    assert code == 201 and body["status"]["allowed"] is allowed and body["spec"] == req["spec"]


def test_access_review_in_kubectls_protobuf(client: Client) -> None:
    assert decode_review(KUBECTL_SSAR)["spec"]["resourceAttributes"]["verb"] == "list"
    code, body, _ = client.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", KUBECTL_SSAR,
                                   {"Content-Type": "application/vnd.kubernetes.protobuf"})
    assert code == 201 and body["status"]["allowed"] is True


def test_rules_review_lists_read_verbs(client: Client) -> None:
    code, body, _ = client.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
                                   b'{"spec": {"namespace": "default"}}', {"Content-Type": "application/json"})
    assert code == 201 and body["status"]["resourceRules"][0]["verbs"] == ["get", "list", "watch"]


# ------------------------------------------------------------------ fault injection


@pytest.fixture(scope="module")
def faulty(snap: Any) -> Iterator[Any]:
    with start_faulty_server(snap, {"Pod": 403, "Certificate": 404, "Node": 500, "Event": "slow:0.01",
                                    "Service": "truncate"}) as h:
        yield h


def test_fault_403_is_an_rbac_forbidden(faulty: Any) -> None:
    code, body = Client(faulty.url).get(f"/api/v1/namespaces/{TENANT}/pods")
    assert code == 403 and body["reason"] == "Forbidden"
    assert body["message"].startswith("pods is forbidden: User ") and f'in the namespace "{TENANT}"' in body["message"]


def test_fault_404_removes_the_kind_from_discovery_too(faulty: Any) -> None:
    c = Client(faulty.url)
    _, disc = c.get("/apis/cert-manager.io/v1")
    assert ("certificates" not in {r["name"] for r in disc["resources"]}
            and "clusterissuers" in {r["name"] for r in disc["resources"]})
    code, body = c.get("/apis/cert-manager.io/v1/certificates")
    assert code == 404 and body["message"] == "the server could not find the requested resource"


def test_fault_500_slow_and_truncate(faulty: Any) -> None:
    c = Client(faulty.url)
    code, body = c.get("/api/v1/nodes")
    assert code == 500 and body["reason"] == "InternalError"
    code, body = c.get("/api/v1/events")  # slow, then a full answer
    assert code == 200 and body["items"]
    assert faulty.api.handle("GET", "/api/v1/events", "", {}).delay == 0.01
    conn = http.client.HTTPConnection(faulty.host, faulty.port, timeout=10)
    conn.request("GET", "/api/v1/services")
    resp = conn.getresponse()
    assert resp.status == 200
    with pytest.raises(http.client.IncompleteRead):
        resp.read()
    conn.close()
    assert c.get("/apis/apps/v1/deployments")[0] == 200  # other kinds are untouched


def test_unknown_fault_spec_is_refused(snap: Any) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        FaultyBundleAPI(snap, faults={"Pod": "sometimes"})


# ------------------------------------------------------------------ events in both API groups


def test_events_k8s_io_events_are_served_through_core_v1_too(snap: Any) -> None:
    pod = crashing_pod(snap)
    objs = [copy.deepcopy(pod)] + [to_events_v1(copy.deepcopy(e)) for e in snap.events_for(pod)]
    assert all(e["apiVersion"] == "events.k8s.io/v1" and "regarding" in e for e in objs[1:])
    api = BundleAPI(snapshot_from_objects(objs, NOW))
    sel = urllib.parse.quote(f"involvedObject.name={pod['metadata']['name']}")
    body = json.loads(api.handle("GET", f"/api/v1/namespaces/{TENANT}/events", f"fieldSelector={sel}", {}).body)
    assert len(body["items"]) == len(objs) - 1
    assert all(e["involvedObject"]["name"] == pod["metadata"]["name"] and e["message"] for e in body["items"])
    body = json.loads(api.handle("GET", f"/apis/events.k8s.io/v1/namespaces/{TENANT}/events", "", {}).body)
    assert len(body["items"]) == len(objs) - 1 and all("note" in e for e in body["items"])


# ------------------------------------------------------------------ the official Python client


def test_the_official_python_client_reads_the_bundle(server: Any, snap: Any) -> None:
    import kubernetes  # a main dependency: the live source uses it
    from kubernetes.client.rest import ApiException

    conf = kubernetes.client.Configuration()
    conf.host = server.url
    with kubernetes.client.ApiClient(conf) as api_client:
        core = kubernetes.client.CoreV1Api(api_client)
        pods = core.list_pod_for_all_namespaces(limit=10)
        assert len(pods.items) == 10 and pods.metadata._continue
        rest = core.list_pod_for_all_namespaces(limit=1000, _continue=pods.metadata._continue)
        assert len(pods.items) + len(rest.items) == len(snap.list("Pod"))
        pod = crashing_pod(snap)
        got = core.read_namespaced_pod(pod["metadata"]["name"], TENANT)
        assert got.status.container_statuses[0].state.waiting.reason == "CrashLoopBackOff"
        log = core.read_namespaced_pod_log(pod["metadata"]["name"], TENANT, previous=True, tail_lines=1)
        assert log == "exiting\n"
        certs = kubernetes.client.CustomObjectsApi(api_client).list_cluster_custom_object("cert-manager.io", "v1", "certificates")
        assert len(certs["items"]) == len(snap.list("Certificate"))
        assert kubernetes.client.VersionApi(api_client).get_code().git_version == snap.info.kubernetes_version
        with pytest.raises(ApiException) as exc:
            core.delete_namespaced_pod(pod["metadata"]["name"], TENANT)
        assert exc.value.status == 405 and json.loads(exc.value.body)["reason"] == "MethodNotAllowed"
