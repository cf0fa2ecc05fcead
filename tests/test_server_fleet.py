"""`serve` with several clusters: each alert investigated against the cluster its label names, through a
real `serve` process (and a real Alertmanager), the list API and pages filtered by cluster, manual checks
per cluster, and the refusals (an alert naming no configured cluster never runs against another)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from live_harness import NOW, faulty_platform
from server_harness import alertmanager, output, request, start_serve, stop_serve, wait_for, wait_until, webhook_payload
from test_cli import EXE

from sre_expert.edges.webhook.clusters import (
    ClusterConfigError,
    ClusterSource,
    UnknownCluster,
    from_flags,
    parse_cluster_file,
    route,
    split_named,
)
from synth import PlatformBuilder, healthy_platform, write_bundle

pytestmark = pytest.mark.e2e

CRASHING_POD = "api-55wcnlhq-qbc67"  # crash-loops in prod (faulty_platform); runs fine in staging


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("clusters")
    return {"prod": write_bundle(faulty_platform(), root / "prod.tar.gz"),
            "staging": write_bundle(healthy_platform(PlatformBuilder(NOW, cluster="staging")), root / "staging")}


@pytest.fixture(scope="module")
def fleet(bundles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    db = tmp_path_factory.mktemp("fleet-db") / "db.sqlite"
    base, token, proc = start_serve(db, args=("--bundle", f"prod={bundles['prod']}",
                                              "--bundle", f"staging={bundles['staging']}"))
    try:
        yield base, token
    finally:
        stop_serve(proc)


def crashloop(cluster: str | None, pod: str = CRASHING_POD) -> dict[str, Any]:
    labels = {"alertname": "KubePodCrashLooping", "severity": "critical", "namespace": "mycure-production",
              "pod": pod, "container": "api"}
    if cluster is not None:
        labels["cluster"] = cluster
    return {"labels": labels}


def post_alert(base: str, token: str, alert: dict[str, Any], group: str) -> str:
    status, body = request(base, "POST", "/api/v1/alerts", webhook_payload([alert], group_key=group), token=token)
    assert status == 200, body
    (inv_id,) = body["investigations"]
    return inv_id


def test_each_alert_is_investigated_against_the_cluster_its_label_names(fleet) -> None:
    base, token = fleet
    # the same alert from two clusters: Alertmanager groups by cluster, so two groups
    prod_id = post_alert(base, token, crashloop("prod"), '{}:{alertname="KubePodCrashLooping", cluster="prod"}')
    stg_id = post_alert(base, token, crashloop("staging"), '{}:{alertname="KubePodCrashLooping", cluster="staging"}')
    prod, stg = wait_for(base, token, prod_id), wait_for(base, token, stg_id)
    assert prod["status"] == stg["status"] == "done"
    assert prod["cluster"] == "prod" and stg["cluster"] == "staging"
    assert prod["scope"] == stg["scope"] == {"namespace": "mycure-production", "kind": "Pod", "name": CRASHING_POD}
    # prod's pod crash-loops because of its database's pending volume; staging's runs
    assert prod["rootCause"] and prod["rootCause"]["code"] == "PVC-STORAGECLASS-MISSING"
    assert any(f["code"] == "POD-CRASHLOOP" for f in prod["chain"])
    assert stg["rootCause"] is None and stg["chain"] == []
    assert "CRASHLOOP" not in json.dumps(stg["report"])


def test_two_clusters_sending_the_same_group_key_get_one_investigation_each(fleet) -> None:
    """Each cluster's Alertmanager groups without the cluster label (it sees one cluster): the same alert
    name gives the same group key from both. They must not merge, while an HA pair's resend still does."""
    base, token = fleet
    group = '{}/{severity="critical"}:{alertname="KubePodCrashLooping"}'
    prod_id = post_alert(base, token, crashloop("prod", pod="api-55wcnlhq-srwsw"), group)
    stg_id = post_alert(base, token, crashloop("staging", pod="api-55wcnlhq-srwsw"), group)
    assert prod_id != stg_id
    assert post_alert(base, token, crashloop("prod", pod="api-55wcnlhq-srwsw"), group) == prod_id  # the HA twin
    prod, stg = wait_for(base, token, prod_id), wait_for(base, token, stg_id)
    assert (prod["cluster"], stg["cluster"]) == ("prod", "staging")
    # the group key is what Alertmanager sent: the store dedups by (cluster, group key)
    assert prod["groupKey"] == stg["groupKey"] == group and prod["alertsTotal"] == stg["alertsTotal"] == 1
    assert prod["rootCause"]["code"] == "ESO-TARGET-SECRET-MISSING"  # its container config names a missing Secret
    assert stg["rootCause"] is None


@pytest.mark.parametrize("cluster,words", [
    (None, ["no `cluster` label", "2 clusters are configured (prod, staging)", "--cluster-label"]),
    ("qa", ['`cluster`="qa" names no configured cluster', "known clusters: prod, staging"]),
])
def test_an_alert_naming_no_configured_cluster_fails_with_the_label_and_the_clusters(fleet, cluster, words) -> None:
    base, token = fleet
    inv_id = post_alert(base, token, crashloop(cluster, pod="api-55wcnlhq-srwsw"), f"{{}}:{{unrouted={cluster}}}")
    rec = wait_for(base, token, inv_id)
    assert rec["status"] == "failed" and rec["rootCause"] is None and rec["chain"] == []
    for w in words:
        assert w in rec["error"], rec["error"]


def test_alerts_of_several_clusters_in_one_group_fail_rather_than_pick_one(fleet) -> None:
    base, token = fleet
    payload = webhook_payload([crashloop("prod"), crashloop("staging", pod="api-55wcnlhq-srwsw")],
                              group_key='{}:{alertname="KubePodCrashLooping"}')
    status, body = request(base, "POST", "/api/v1/alerts", payload, token=token)
    assert status == 200
    rec = wait_for(base, token, body["investigations"][0])
    assert rec["status"] == "failed" and "group by it in Alertmanager" in rec["error"]


def test_manual_checks_name_their_cluster(fleet) -> None:
    base, token = fleet
    status, body = request(base, "POST", "/api/v1/check", {"namespace": "mycure-production"}, token=token)
    assert status == 422 and body["error"] == 'several clusters are configured: name one ("cluster": prod or staging)'
    status, body = request(base, "POST", "/api/v1/check", {"cluster": "qa"}, token=token)
    assert status == 422 and body["error"] == "cluster qa is not configured; known clusters: prod, staging"
    status, body = request(base, "POST", "/api/v1/check", {"cluster": 7}, token=token)
    assert status == 422 and "cluster must be a string" in body["error"]
    ids = {}
    for name in ("prod", "staging"):
        status, body = request(base, "POST", "/api/v1/check", {"cluster": name, "namespace": "mycure-production"},
                               token=token)
        assert status == 202
        ids[name] = body["id"]
    prod, stg = (wait_for(base, token, ids[n]) for n in ("prod", "staging"))
    assert (prod["cluster"], stg["cluster"]) == ("prod", "staging")
    assert prod["rootCause"]["code"] == "PVC-STORAGECLASS-MISSING"
    assert stg["rootCause"] is None and stg["report"]["findings"] == []


def test_the_list_api_and_the_pages_filter_by_cluster(fleet) -> None:
    base, token = fleet
    request(base, "POST", "/api/v1/check", {"cluster": "staging"}, token=token)
    request(base, "POST", "/api/v1/check", {"cluster": "prod"}, token=token)
    everything = request(base, "GET", "/api/v1/investigations?limit=500", token=token)[1]
    by_cluster = {n: request(base, "GET", f"/api/v1/investigations?cluster={n}&limit=500", token=token)[1]
                  for n in ("prod", "staging", "qa")}
    for name, page in by_cluster.items():
        assert page["items"] and {it["cluster"] for it in page["items"]} == {name}
        assert page["total"] == sum(1 for it in everything["items"] if it["cluster"] == name)
    assert "cluster" in everything["items"][0]  # every record says which cluster it is about
    # the alert naming an unconfigured cluster is kept under that name, failed, for someone to see
    assert {it["status"] for it in by_cluster["qa"]["items"]} == {"failed"}

    clusters = request(base, "GET", "/api/v1/clusters", token=token)[1]
    assert clusters["label"] == "cluster"
    assert [(c["name"], c["source"], c["loaded"]) for c in clusters["items"]] == [("prod", "bundle", True),
                                                                                 ("staging", "bundle", True)]
    for c in clusters["items"]:
        assert sum(c["counts"].values()) == by_cluster[c["name"]]["total"]

    page = request(base, "GET", "/?cluster=staging", token=token, headers={"Accept": "text/html"})[1]
    assert 'aria-label="Filter by cluster"' in page
    assert f'href="/?cluster=staging" aria-current="page">staging <span class="muted">({by_cluster["staging"]["total"]})' in page
    assert f'>prod <span class="muted">({by_cluster["prod"]["total"]})</span>' in page
    assert "<h1>Investigations in staging</h1>" in page
    assert 'href="/?cluster=staging&amp;status=done"' in page  # the status filters keep the cluster
    staging_ids = {it["id"] for it in by_cluster["staging"]["items"]}
    prod_ids = {it["id"] for it in by_cluster["prod"]["items"]}
    assert all(i in page for i in staging_ids) and not any(i in page for i in prod_ids)
    one = next(iter(prod_ids))
    detail = request(base, "GET", f"/investigations/{one}", token=token, headers={"Accept": "text/html"})[1]
    assert "<dt>Cluster</dt><dd>prod</dd>" in detail


def test_readyz_reports_every_cluster(fleet) -> None:
    """To the token only: a probe carries none, and the names (contexts such as an EKS ARN with its account
    id) are what /api/v1/clusters keeps behind it."""
    base, token = fleet
    # both bundles loaded (the server reads them after it starts listening)
    wait_until(lambda: request(base, "GET", "/readyz")[1]["source"], "both clusters loaded")
    status, body = request(base, "GET", "/readyz")
    assert status == 200 and body["source"] is True and "clusters" not in body
    assert "prod" not in str(body) and "staging" not in str(body)
    status, body = request(base, "GET", "/readyz", token=token)
    assert body["clusters"] == {"prod": {"source": True, "sourceError": None},
                                "staging": {"source": True, "sourceError": None}}


def test_one_cluster_takes_every_alert_whatever_its_label(tmp_path: Path) -> None:
    base, token, proc = start_serve(tmp_path / "db.sqlite", args=("--demo",))
    try:
        labels = {"alertname": "KubePodCrashLooping", "namespace": "lfh-staging", "pod": "api-7d9f8b6c5d-x2x9k",
                  "cluster": "somewhere-else"}
        inv_id = post_alert(base, token, {"labels": labels}, '{}:{alertname="KubePodCrashLooping"}')
        assert wait_for(base, token, inv_id)["status"] == "done"
        clusters = request(base, "GET", "/api/v1/clusters", token=token)[1]["items"]
        assert [(c["name"], c["source"], sum(c["counts"].values())) for c in clusters] == [("demo", "demo", 1)]
        assert "clusters" not in request(base, "GET", "/readyz")[1]
    finally:
        stop_serve(proc)


# ------------------------------------------------------------------ a cluster file, another label, Alertmanager


def test_a_real_alertmanager_routes_by_a_custom_label_through_a_cluster_file(bundles, tmp_path: Path) -> None:
    (tmp_path / "clusters.yaml").write_text(
        "clusters:\n"
        f"  - name: eu-prod\n    bundle: {bundles['prod']}\n"
        f"  - name: eu-staging\n    bundle: {bundles['staging']}\n")
    base, token, proc = start_serve(tmp_path / "db.sqlite", args=(
        "--clusters", str(tmp_path / "clusters.yaml"), "--cluster-label", "k8s_cluster"))
    try:
        assert "2 clusters (eu-prod, eu-staging), alerts routed by their `k8s_cluster` label" in output(proc)
        (tmp_path / "token").write_text(token)
        config = {
            "route": {"receiver": "sre-expert", "group_by": ["alertname", "k8s_cluster"], "group_wait": "0s",
                      "group_interval": "1s", "repeat_interval": "1h"},
            "receivers": [{"name": "sre-expert", "webhook_configs": [{
                "url": f"{base}/api/v1/alerts", "send_resolved": True,
                "http_config": {"authorization": {"type": "Bearer", "credentials_file": str(tmp_path / "token")}}}]}],
        }
        with alertmanager(tmp_path, config) as am:
            starts = (datetime.now(UTC) - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
            alerts = [{"labels": {**crashloop(None)["labels"], "k8s_cluster": c}, "startsAt": starts}
                      for c in ("eu-prod", "eu-staging")]
            assert request(am, "POST", "/api/v2/alerts", alerts)[0] == 200

            def both() -> Any:
                items = request(base, "GET", "/api/v1/investigations", token=token)[1]["items"]
                return items if len(items) == 2 else None

            items = wait_until(both, "Alertmanager to deliver one group per cluster")
        recs = {r["cluster"]: r for r in (wait_for(base, token, it["id"]) for it in items)}
        assert set(recs) == {"eu-prod", "eu-staging"}
        assert recs["eu-prod"]["groupKey"].endswith('{alertname="KubePodCrashLooping", k8s_cluster="eu-prod"}')
        assert recs["eu-prod"]["rootCause"]["code"] == "PVC-STORAGECLASS-MISSING"
        assert recs["eu-staging"]["status"] == "done" and recs["eu-staging"]["rootCause"] is None
    finally:
        stop_serve(proc)


# ------------------------------------------------------------------ refusals at the command line


def serve_cli(*args: str, tmp_path: Path) -> Any:
    import os
    import subprocess

    env = {**os.environ, "SRE_EXPERT_TOKEN": "t" * 32, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    return subprocess.run([EXE, "serve", "--port", "0", "--db", str(tmp_path / "db.sqlite"), *args],
                          capture_output=True, text=True, timeout=60, env=env)


@pytest.mark.parametrize("args,message", [
    (("--demo", "-b", "a", "-b", "b"), "--demo is one cluster"),
    (("--context", "a", "--context", "b", "--prometheus", "http://p:9090"), "--prometheus names one cluster's"),
    (("--context", "a", "--context", "a"), "cluster a is named twice"),
    (("-b", "x=/nonexistent", "-b", "y=/nonexistent"), "cluster x: --bundle /nonexistent: no such file"),
    (("--clusters", "/nonexistent.yaml"), "--clusters /nonexistent.yaml: cannot read it"),
    (("--clusters", "/dev/null", "--demo"), "give no --bundle/--demo"),
    (("--demo", "--cluster-label", "k8s-cluster"), "not a Prometheus label name"),
])
def test_serve_refuses_clusters_it_cannot_serve(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    r = serve_cli(*args, tmp_path=tmp_path)
    assert r.returncode == 2 and message in r.stderr, r.stderr


# ------------------------------------------------------------------ the pure parts


def test_route() -> None:
    assert route(None, ["only"], "cluster") == "only" and route("other", ["only"], "cluster") == "only"
    assert route("b", ["a", "b"], "cluster") == "b"
    with pytest.raises(UnknownCluster, match="carry no `env` label"):
        route(None, ["a", "b"], "env")
    with pytest.raises(UnknownCluster, match='`env`="c" names no configured cluster; known clusters: a, b'):
        route("c", ["a", "b"], "env")


def test_split_named() -> None:
    assert split_named("prod=arn:aws:eks:eu-west-1:1:cluster/prod") == ("prod", "arn:aws:eks:eu-west-1:1:cluster/prod")
    assert split_named("./snap=1.tgz") == (None, "./snap=1.tgz")
    assert split_named("kind-staging") == (None, "kind-staging")
    assert split_named("prod=") == (None, "prod=")


def test_from_flags_applies_kubeconfig_and_namespaces_to_every_context() -> None:
    got = from_flags([], ["prod=ctx-a", "ctx-b"], kubeconfig="/k", namespaces=["ns"], prometheus=None)
    assert got == [ClusterSource("prod", context="ctx-a", kubeconfig="/k", namespaces=("ns",)),
                   ClusterSource("ctx-b", context="ctx-b", kubeconfig="/k", namespaces=("ns",))]
    with pytest.raises(ClusterConfigError, match="not both"):
        from_flags(["a"], ["b"], kubeconfig=None, namespaces=(), prometheus=None)


@pytest.mark.parametrize("doc,message", [
    (None, "expected `clusters:`"),
    ({"clusters": []}, "expected `clusters:`"),
    ({"clusters": [{"name": "a", "demo": True}], "label": "x"}, "unknown key label"),
    ({"clusters": [{"context": "x"}]}, "cluster 1: `name` is required"),
    ({"clusters": [{"name": "a", "context": "x", "bundle": "/b"}]}, "give exactly one source"),
    ({"clusters": [{"name": "a"}]}, "give exactly one source"),
    ({"clusters": [{"name": "a", "demo": "yes"}]}, "`demo` must be true or false"),
    ({"clusters": [{"name": "a", "context": "x", "prometheus": "p:9090"}]}, "http(s) URL"),
    ({"clusters": [{"name": "a", "context": "x", "namespaces": [3]}]}, "`namespaces` must be a list"),
    ({"clusters": [{"name": "a", "context": "x"}, {"name": "a", "demo": True}]}, "cluster a is named twice"),
    ({"clusters": [{"name": "a", "contxt": "x"}]}, "unknown key contxt"),
])
def test_cluster_file_errors_name_the_entry(doc: Any, message: str) -> None:
    with pytest.raises(ClusterConfigError) as e:
        parse_cluster_file(doc, "clusters.yaml")
    assert message in str(e.value) and str(e.value).startswith("clusters.yaml")


def test_cluster_file() -> None:
    got = parse_cluster_file({"clusters": [
        {"name": "prod", "context": "arn:aws:eks:eu-west-1:1:cluster/prod", "namespaces": "a, b",
         "prometheus": "http://prometheus:9090"},
        {"name": "lab", "demo": True}]}, "f")
    assert got == [ClusterSource("prod", context="arn:aws:eks:eu-west-1:1:cluster/prod", namespaces=("a", "b"),
                                 prometheus="http://prometheus:9090"), ClusterSource("lab", demo=True)]


# ------------------------------------------------------------------ live contexts


def test_serve_reads_each_context_live_and_routes_to_it(bundles, tmp_path: Path) -> None:
    """`serve --kubeconfig KC --context prod --context staging=stg-ctx`: two API servers, one kubeconfig."""
    from test_check_fleet import multi_kubeconfig

    from sre_expert.edges.apiserver import start_server

    # a live read's clock is the wall clock: the healthy cluster is captured now, so nothing in it is late
    now = datetime.now(UTC).replace(microsecond=0)
    healthy = write_bundle(healthy_platform(PlatformBuilder(now, cluster="staging")), tmp_path / "staging")
    with start_server(bundles["prod"]) as prod_api, start_server(healthy) as stg_api:
        kc = multi_kubeconfig(tmp_path / "kubeconfig", {"prod": prod_api.url, "stg-ctx": stg_api.url})
        base, token, proc = start_serve(tmp_path / "db.sqlite", args=(
            "--kubeconfig", str(kc), "--context", "prod", "--context", "staging=stg-ctx"),
            env={"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)})
        try:
            ids = {c: post_alert(base, token, crashloop(c), f'{{}}:{{alertname="KubePodCrashLooping", cluster="{c}"}}')
                   for c in ("prod", "staging")}
            prod, stg = (wait_for(base, token, ids[c], timeout=120) for c in ("prod", "staging"))
            clusters = request(base, "GET", "/api/v1/clusters", token=token)[1]["items"]
        finally:
            stop_serve(proc)
        prod_lists = [p for m, p, _ in prod_api.request_log if m == "GET" and p.startswith("/api/v1/pods")]
        stg_lists = [p for m, p, _ in stg_api.request_log if m == "GET" and p.startswith("/api/v1/pods")]
    assert [(c["name"], c["source"], c["loaded"]) for c in clusters] == [("prod", "live", True),
                                                                        ("staging", "live", True)]
    assert prod["report"]["source"] == stg["report"]["source"] == "live"
    assert prod["rootCause"]["code"] == "PVC-STORAGECLASS-MISSING"
    assert stg["status"] == "done" and stg["rootCause"] is None and stg["chain"] == []
    assert prod_lists and stg_lists  # each cluster was read from its own API server
