"""The live source against a real HTTP Kubernetes API (`sre-expert bundle serve`, in-process), through
the official client: same findings as loading the bundle, faults turned into collection errors or
retries, one paginated LIST per kind, and the kind list kept in step with what the checks read."""

from __future__ import annotations

import io
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
from live_harness import (
    MONGO_URI_LINE,
    NOW,
    TENANT,
    counting_faults,
    fast,
    findings,
    served,
    without,
    wrap_handle,
    write_faulty_bundle,
)

from sre_expert.core.kinds import COLLECTED_KINDS, KindSpec
from sre_expert.diagnosis.engine import diagnose
from sre_expert.sources import live as live_mod
from sre_expert.sources.api_discovery import parse_aggregated, parse_resource_list, resolve
from sre_expert.sources.bundle_reader import BundleError, load_bundle
from sre_expert.sources.live import LiveOptions, LiveSourceError, connect, sweep
from sre_expert.sources.live_http import retry_after_seconds
from sre_expert.sources.live_progress import summary_line, sweep_progress
from sre_expert.sources.logselect import log_targets
from sre_expert.sources.resolve import demo_path, open_source

pytestmark = pytest.mark.e2e

SRC = Path(__file__).resolve().parents[1] / "src" / "sre_expert"
CRD_DIR = Path(__file__).resolve().parents[2] / "shared" / "crds"


@pytest.fixture(scope="module")
def demo():
    return load_bundle(demo_path())


@pytest.fixture(scope="module")
def faulty_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_faulty_bundle(tmp_path_factory.mktemp("faulty") / "bundle")


def list_requests(log: list[tuple[str, str, int]]) -> list[tuple[str, dict[str, list[str]], int]]:
    out = []
    for method, target, code in log:
        parts = urlsplit(target)
        q = parse_qs(parts.query)
        if method == "GET" and "limit" in q:
            out.append((parts.path, q, code))
    return out


# ------------------------------------------------------------------------------------ same findings
def test_live_sweep_of_the_demo_gives_the_findings_of_the_bundle(demo, tmp_path: Path) -> None:
    with served(demo_path(), tmp_path) as (h, kc):
        result = sweep(fast(kc, demo.now))
    live = result.snapshot()
    assert live.info.source == "live" and live.info.captured_at == demo.now
    assert live.info.kubernetes_version == demo.info.kubernetes_version
    assert result.errors == [] and result.warnings == []
    expected = findings(demo)
    assert len(expected) > 40
    assert findings(live) == expected
    for kind in ("Pod", "Event", "Certificate", "Backup", "HTTPRoute", "Secret"):
        assert live.count(kind) == demo.count(kind), kind


def test_live_sweep_of_a_faulty_platform_gives_the_findings_of_the_bundle(faulty_bundle: Path, tmp_path: Path) -> None:
    direct = load_bundle(faulty_bundle)
    with served(faulty_bundle, tmp_path) as (h, kc):
        live = sweep(fast(kc, direct.now)).snapshot()
    report = diagnose(live)
    roots = {f.code for f in report.findings if f.root_cause}
    assert roots == {"PVC-STORAGECLASS-MISSING", "ESO-TARGET-SECRET-MISSING", "ESO-REMOTE-KEY-MISSING",
                     "POD-IMAGE-PULL"}, roots
    assert {"POD-CRASHLOOP", "POD-CONFIG-ERROR"} <= {f.code for f in report.findings}
    assert findings(live) == findings(direct)


def test_secret_values_never_reach_the_snapshot_and_log_passwords_are_masked(faulty_bundle: Path, tmp_path: Path) -> None:
    direct = load_bundle(faulty_bundle)
    with served(faulty_bundle, tmp_path) as (h, kc):
        live = sweep(fast(kc, direct.now)).snapshot()
    secrets = live.list("Secret")
    assert secrets and all(set(v) == {""} for s in secrets for v in [set((s.get("data") or {"k": ""}).values())])
    assert any(s.get("data") for s in secrets), "keys are kept"
    crash = diagnose(live)
    lines = [e for f in crash.findings if f.code == "POD-CRASHLOOP" for e in f.evidence if "mongodb://" in e]
    assert lines and all("s3cr3t-pw" not in e and re.search(r"mongodb://api:<redacted:[a-z0-9-]+#\d+>@mongodb", e)
                         for e in lines)
    assert "s3cr3t-pw" in MONGO_URI_LINE  # the fault really carried the password


def test_pages_are_followed_and_each_kind_costs_its_pages_only(demo, tmp_path: Path) -> None:
    """No per-object GETs: LIST requests per kind = ceil(objects / limit), the rest is discovery and logs."""
    with served(demo_path(), tmp_path) as (h, kc):
        result = sweep(fast(kc, demo.now, page_size=7))
        log = list(h.request_log)
    live = result.snapshot()
    assert findings(live) == findings(demo)
    lists = list_requests(log)
    per_path = Counter(path for path, _, _ in lists)
    for served_kind, items in result.lists:
        path = served_kind.list_path()
        assert per_path[path] == max(1, math.ceil(len(items) / 7)), path
    assert sum(per_path.values()) == result.pages
    assert all(code == 200 and q["limit"] == ["7"] for _, q, code in lists)
    assert sum(1 for _, q, _ in lists if "continue" in q) == result.pages - len(per_path)
    logs = [t for _, t, _ in log if "/log?" in t]
    assert len(logs) == len(result.logs)
    discovery = [t for _, t, _ in log if "limit=" not in t and "/log?" not in t]
    assert all(t == "/version" or t == "/api" or t.startswith(("/api/v1", "/apis")) for t in discovery)
    # one resource list per group version that serves a collected kind (ReferenceGrant: v1beta1 only)
    versions = {f"/apis/{s.group_version}" for s, _ in result.lists if s.spec.group}
    assert sorted(discovery) == sorted({"/version", "/api", "/apis", "/api/v1"} | versions)
    assert result.requests == len(log)
    # nothing asked for one object by name
    named = [t for _, t, _ in log if "limit=" not in t and "/log?" not in t and t.count("/") > 4]
    assert named == []


def test_only_unhealthy_containers_and_the_falco_engine_have_their_logs_read(demo, tmp_path: Path) -> None:
    with served(demo_path(), tmp_path) as (h, kc):
        result = sweep(fast(kc, demo.now))
    pods = {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in demo.list("Pod")}
    assert result.logs
    for (ns, pod, container, previous) in result.logs:
        p = pods[(ns, pod)]
        assert (container, previous) in log_targets(p, demo.now)
    assert any(ns == "falco" for ns, *_ in result.logs)
    assert any(prev for *_, prev in result.logs)
    healthy = [k for k, p in pods.items() if not log_targets(p, demo.now)]
    assert healthy and not any((ns, pod) in {(a, b) for a, b, _, _ in result.logs} for ns, pod in healthy)


# ------------------------------------------------------------------------------------ faults
def test_forbidden_kinds_become_collection_errors_and_not_checked(demo, tmp_path: Path) -> None:
    with served(demo_path(), tmp_path, faults={"Certificate": 403, "Secret": 403}) as (h, kc):
        result = sweep(fast(kc, demo.now))
    errors = sorted((e["kind"], e["namespace"], e["error"]) for e in result.errors)
    assert errors == [("Certificate", "", "forbidden"), ("Secret", "", "forbidden")]
    live = result.snapshot()
    report = diagnose(live)
    assert any(t.startswith("certmanager.") and "could not read Certificate: forbidden" in t and "grant list" in t
               for t in report.not_checked)
    assert live.count("Certificate") == 0 and live.count("Pod") == demo.count("Pod")
    oracle = without(demo, {"Certificate", "Secret"}, result.errors)
    assert findings(live) == findings(oracle)
    assert any(code.startswith("BACKUP") or code.startswith("VELERO") for code, *_ in findings(live))


def test_a_kind_missing_from_discovery_is_skipped_as_not_installed(demo, tmp_path: Path) -> None:
    with served(demo_path(), tmp_path, faults={"Order": 404}) as (h, kc):
        result = sweep(fast(kc, demo.now))
        log = list(h.request_log)
    assert "Order" in {s.kind for s in result.not_installed}
    assert not any("/orders" in t for _, t, _ in log), "no request for a kind the server does not serve"
    assert result.errors == []
    assert findings(result.snapshot()) == findings(without(demo, {"Order"}, []))


def test_a_list_answering_404_is_recorded_as_not_installed(demo, tmp_path: Path) -> None:
    from sre_expert.edges.apiserver.api import Response

    def gone(inner, method, path, query, headers, body):
        if path.endswith("/challenges"):
            return Response(404, orjson.dumps({"kind": "Status", "code": 404,
                                               "message": "the server could not find the requested resource"}))
        return inner(method, path, query, headers, body)

    with served(demo_path(), tmp_path) as (h, kc):
        wrap_handle(h.api, gone)
        result = sweep(fast(kc, demo.now))
    assert result.errors == [{"kind": "Challenge", "namespace": "", "error": "not installed"}]


def test_server_errors_are_retried_until_success(demo, tmp_path: Path) -> None:
    with served(demo_path(), tmp_path) as (h, kc):
        counting_faults(h.api, "Backup", 500, times=2)
        counting_faults(h.api, "Schedule", 429, times=1)
        result = sweep(fast(kc, demo.now, retries=3))
        log = list(h.request_log)
    assert result.errors == []
    backups = [code for _, t, code in log if t.startswith("/apis/velero.io/v1/backups?")]
    assert backups == [500, 500, 200]
    schedules = [code for _, t, code in log if t.startswith("/apis/velero.io/v1/schedules?")]
    assert schedules == [429, 200]
    assert result.retried == 3
    assert findings(result.snapshot()) == findings(demo)


def test_a_server_error_that_persists_is_recorded_after_the_retries(demo, tmp_path: Path) -> None:
    with served(demo_path(), tmp_path, faults={"Backup": 500}) as (h, kc):
        result = sweep(fast(kc, demo.now, retries=2))
        log = list(h.request_log)
    assert [code for _, t, code in log if "/backups?" in t] == [500, 500, 500]
    (err,) = result.errors
    assert err["kind"] == "Backup" and err["error"].startswith("HTTP 500") and "after 3 attempts" in err["error"]


def test_a_slow_kind_hits_the_request_timeout_and_the_rest_is_read(demo, tmp_path: Path) -> None:
    with served(demo_path(), tmp_path, faults={"Backup": "slow:3"}) as (h, kc):
        result = sweep(fast(kc, demo.now, timeout=0.3, retries=1))
    (err,) = result.errors
    assert err["kind"] == "Backup" and err["error"].startswith("timed out") and "0.3s" in err["error"]
    live = result.snapshot()
    assert live.count("Backup") == 0 and live.count("Schedule") == demo.count("Schedule")
    assert any("could not read Backup" in t and "grant list" not in t for t in diagnose(live).not_checked)


def test_truncated_bodies_are_retried_then_recorded(demo, tmp_path: Path) -> None:
    with served(demo_path(), tmp_path, faults={"Schedule": "truncate"}) as (h, kc):
        result = sweep(fast(kc, demo.now, retries=2))
        log = list(h.request_log)
    assert len([t for _, t, _ in log if "/schedules?" in t]) == 3
    (err,) = result.errors
    assert err["kind"] == "Schedule" and err["error"].startswith("truncated response")


def test_a_truncated_body_once_is_retried_to_success(demo, tmp_path: Path) -> None:
    with served(demo_path(), tmp_path) as (h, kc):
        counting_faults(h.api, "Pod", "truncate", times=1)
        result = sweep(fast(kc, demo.now, logs=False))
    assert result.errors == [] and result.retried == 1
    assert result.snapshot().count("Pod") == demo.count("Pod")


def test_an_expired_continue_token_restarts_the_list(demo, tmp_path: Path) -> None:
    from sre_expert.edges.apiserver.api import Response

    state = {"expired": False}

    def expire(inner, method, path, query, headers, body):
        if path == "/api/v1/events" and "continue=" in query and not state["expired"]:
            state["expired"] = True
            return Response(410, orjson.dumps({"kind": "Status", "code": 410, "reason": "Expired",
                                               "message": "The provided continue parameter is too old"}))
        return inner(method, path, query, headers, body)

    with served(demo_path(), tmp_path) as (h, kc):
        wrap_handle(h.api, expire)
        result = sweep(fast(kc, demo.now, page_size=50))
    assert state["expired"] and result.errors == []
    assert result.snapshot().count("Event") == demo.count("Event")


# ------------------------------------------------------------------------------------ namespaces, auth
def test_namespace_scope_lists_per_namespace(demo, tmp_path: Path) -> None:
    with served(demo_path(), tmp_path) as (h, kc):
        result = sweep(fast(kc, demo.now, namespaces=(TENANT, "lfh-staging")))
        log = list(h.request_log)
    namespaced = [p for p, _, _ in list_requests(log) if "/namespaces/" in p]
    assert namespaced and all(f"/namespaces/{TENANT}/" in p or "/namespaces/lfh-staging/" in p for p in namespaced)
    assert not any(p == "/api/v1/pods" for p, _, _ in list_requests(log))
    live = result.snapshot()
    assert {p["metadata"]["namespace"] for p in live.list("Pod")} == {TENANT, "lfh-staging"}
    assert live.count("Node") == demo.count("Node")  # cluster-scoped kinds are still listed cluster-wide
    assert len(live.list("Pod", TENANT)) == len(demo.list("Pod", TENANT))
    assert result.namespaces == (TENANT, "lfh-staging")
    assert live.info.warnings and live.info.warnings[0].startswith(f"only namespaces {TENANT}, lfh-staging were read")


def test_the_kubeconfig_token_is_sent(demo, tmp_path: Path) -> None:
    seen: list[str] = []

    def capture(inner, method, path, query, headers, body):
        seen.append(headers.get("authorization", ""))
        return inner(method, path, query, headers, body)

    with served(demo_path(), tmp_path) as (h, kc):
        wrap_handle(h.api, capture)
        text = kc.read_text().replace("user: {}", "user:\n    token: tok-123")
        assert "tok-123" in text
        kc.write_text(text)
        sweep(fast(kc, demo.now, logs=False))
    assert seen and set(seen) == {"Bearer tok-123"}


def test_the_context_picks_the_cluster(demo, tmp_path: Path) -> None:
    with served(demo_path(), tmp_path) as (h, kc):
        good = kc.read_text()
        extra = good.replace("sre-expert-bundle", "other").replace(h.url, "http://127.0.0.1:9")
        doc = __import__("yaml").safe_load(good)
        other = __import__("yaml").safe_load(extra)
        for key in ("clusters", "users", "contexts"):
            doc[key] += other[key]
        doc["current-context"] = "other"
        kc.write_text(__import__("yaml").safe_dump(doc))
        with pytest.raises(LiveSourceError, match="cannot reach the API server at http://127.0.0.1:9"):
            sweep(fast(kc, demo.now))
        result = sweep(fast(kc, demo.now, context="sre-expert-bundle", logs=False))
    assert result.cluster == "sre-expert-bundle" and result.location == "context sre-expert-bundle"
    assert result.snapshot().count("Pod") == demo.count("Pod")


def test_unusable_configuration_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LiveSourceError, match="no such file"):
        connect(LiveOptions(kubeconfig=str(tmp_path / "missing")))
    bad = tmp_path / "kc"
    bad.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    with pytest.raises(LiveSourceError, match="kubeconfig"):
        connect(LiveOptions(kubeconfig=str(bad), context="nope"))


def test_refused_credentials_are_a_clear_error(demo, tmp_path: Path) -> None:
    from sre_expert.edges.apiserver.api import Response

    def deny(inner, method, path, query, headers, body):
        return Response(401, orjson.dumps({"kind": "Status", "code": 401, "reason": "Unauthorized"}))

    with served(demo_path(), tmp_path) as (h, kc):
        wrap_handle(h.api, deny)
        with pytest.raises(LiveSourceError, match="401 Unauthorized"):
            sweep(fast(kc, demo.now))


def test_in_cluster_configuration_is_used_without_a_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kubernetes.config import incluster_config

    token, ca = tmp_path / "token", tmp_path / "ca.crt"
    token.write_text("sa-token-1")
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    monkeypatch.setattr(live_mod, "SA_TOKEN", str(token))
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(ca))
    api, cluster, location = connect(LiveOptions())
    assert api.configuration.host == "https://10.96.0.1:443"
    assert api.configuration.auth_settings()["BearerToken"]["value"].lower() == "bearer sa-token-1"
    assert location == "in-cluster service account"


# ------------------------------------------------------------------------------------ resolve
def test_open_source_goes_live_with_a_kubeconfig_and_keeps_the_error_without(demo, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch,
                                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(BundleError, match="no source: pass --bundle PATH"):
        open_source(None, False)
    with pytest.raises(BundleError, match="not both"):
        open_source(str(tmp_path), False, context="x")
    with served(demo_path(), tmp_path) as (h, kc):
        monkeypatch.setenv("KUBECONFIG", str(kc))
        snap = open_source(None, False)
        assert snap.info.source == "live" and snap.count("Pod") == demo.count("Pod")
        snap = open_source(None, False, kubeconfig=str(kc), namespaces=[TENANT], progress=False)
        assert {p["metadata"]["namespace"] for p in snap.list("Pod")} == {TENANT}
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("read ") and "objects" in err and "context sre-expert-bundle" in err


def test_the_cli_reads_a_live_cluster(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    exe = str(Path(sys.executable).parent / "sre-expert")
    with served(demo_path(), tmp_path) as (h, kc):
        r = subprocess.run([exe, "check", "--kubeconfig", str(kc), "-o", "json"], capture_output=True, text=True,
                           timeout=120)
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert doc["source"] == "live" and doc["findings"] and doc["collectionErrors"] == []
    assert "Traceback" not in r.stderr and r.stderr.startswith("read ")
    r = subprocess.run([exe, "check", "--kubeconfig", str(tmp_path / "nope")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr


# ------------------------------------------------------------------------------------ progress
def test_progress_bar_on_a_terminal_and_summary_line(demo, tmp_path: Path) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    with served(demo_path(), tmp_path) as (h, kc), sweep_progress(out) as progress:
        result = sweep(fast(kc, demo.now, logs=False), progress)
    assert progress.objects == result.object_count > 0
    line = summary_line(result)
    assert f"{result.object_count:,} objects" in line and f"({result.requests} requests)" in line
    silent = io.StringIO()
    with sweep_progress(silent) as p:
        p.add_tasks(3)
        p.task_done("Pod", 5)
    assert silent.getvalue() == ""


# ------------------------------------------------------------------------------------ pure parts
def test_discovery_documents_resolve_versions_and_resources() -> None:
    offers: dict = {}
    parse_resource_list("", {"groupVersion": "v1", "resources": [
        {"name": "pods", "namespaced": True, "kind": "Pod", "verbs": ["get", "list", "watch"]},
        {"name": "pods/log", "namespaced": True, "kind": "Pod", "verbs": ["get"]},
        {"name": "bindings", "namespaced": True, "kind": "Binding", "verbs": ["create"]}]}, offers)
    parse_resource_list("autoscaling", {"groupVersion": "autoscaling/v2", "resources": [
        {"name": "horizontalpodautoscalers", "namespaced": True, "kind": "HorizontalPodAutoscaler", "verbs": ["list"]}]},
        offers)
    parse_resource_list("autoscaling", {"groupVersion": "autoscaling/v1", "resources": [
        {"name": "horizontalpodautoscalers", "namespaced": True, "kind": "HorizontalPodAutoscaler", "verbs": ["list"]}]},
        offers)
    served, missing = resolve([KindSpec("Pod", "", "pods"), KindSpec("HorizontalPodAutoscaler", "autoscaling",
                                                                     "horizontalpodautoscalers"),
                               KindSpec("Binding", "", "bindings"), KindSpec("Backup", "velero.io", "backups")], offers)
    assert [(s.spec.kind, s.version, s.list_path("ns1")) for s in served] == [
        ("Pod", "v1", "/api/v1/namespaces/ns1/pods"),
        ("HorizontalPodAutoscaler", "v2", "/apis/autoscaling/v2/namespaces/ns1/horizontalpodautoscalers")]
    assert [s.kind for s in missing] == ["Binding", "Backup"]


def test_aggregated_discovery_is_parsed() -> None:
    doc = {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "items": [
        {"metadata": {"name": "cert-manager.io"}, "versions": [
            {"version": "v1", "resources": [
                {"resource": "certificates", "responseKind": {"group": "cert-manager.io", "version": "v1",
                                                              "kind": "Certificate"},
                 "scope": "Namespaced", "verbs": ["get", "list", "watch"],
                 "subresources": [{"subresource": "status", "verbs": ["get"]}]},
                {"resource": "clusterissuers", "responseKind": {"kind": "ClusterIssuer"}, "scope": "Cluster",
                 "verbs": ["list"]}]}]}]}
    offers: dict = {}
    assert parse_aggregated(doc, offers)
    assert offers[("cert-manager.io", "Certificate")] == [("v1", "certificates", True)]
    assert offers[("cert-manager.io", "ClusterIssuer")] == [("v1", "clusterissuers", False)]
    assert not parse_aggregated({"kind": "APIGroupList", "groups": []}, {})


def test_aggregated_discovery_saves_the_per_group_requests(demo, tmp_path: Path) -> None:
    """A server answering /api and /apis as APIGroupDiscoveryList (Kubernetes ≥ 1.30) is asked nothing else."""
    from sre_expert.edges.apiserver.api import Response

    def aggregated(inner, method, path, query, headers, body):
        if path not in ("/api", "/apis") or "APIGroupDiscoveryList" not in headers.get("accept", ""):
            return inner(method, path, query, headers, body)
        items = []
        groups = [("", ["v1"])] if path == "/api" else [
            (g["name"], [v["version"] for v in g["versions"]])
            for g in orjson.loads(inner("GET", "/apis", "", {}, b"").body)["groups"]]
        for group, versions in groups:
            vs = []
            for v in versions:
                rl = orjson.loads(inner("GET", f"/apis/{group}/{v}" if group else f"/api/{v}", "", {}, b"").body)
                vs.append({"version": v, "resources": [
                    {"resource": r["name"], "responseKind": {"group": group, "version": v, "kind": r["kind"]},
                     "scope": "Namespaced" if r["namespaced"] else "Cluster", "verbs": r["verbs"]}
                    for r in rl["resources"] if "/" not in r["name"]]})
            items.append({"metadata": {"name": group}, "versions": vs})
        return Response(200, orjson.dumps({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
                                           "items": items}))

    with served(demo_path(), tmp_path) as (h, kc):
        wrap_handle(h.api, aggregated)
        result = sweep(fast(kc, demo.now, logs=False))
        log = list(h.request_log)
    discovery = [t for _, t, _ in log if "limit=" not in t]
    assert discovery == ["/version", "/api", "/apis"] or sorted(discovery) == sorted(["/version", "/api", "/apis"])
    assert result.snapshot().count("Certificate") == demo.count("Certificate")


def test_retry_after_accepts_seconds_and_dates() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert retry_after_seconds("Thu, 26 Nov 2026 10:00:05 GMT", now=NOW.timestamp()) == pytest.approx(5.0)


def test_log_targets_pick_unhealthy_containers() -> None:
    def pod(phase: str, *statuses: dict[str, Any], images: dict[str, str] | None = None) -> dict[str, Any]:
        return {"spec": {"containers": [{"name": s["name"], "image": (images or {}).get(s["name"], "app:1")}
                                        for s in statuses]},
                "status": {"phase": phase, "containerStatuses": list(statuses)}}

    running = {"state": {"running": {}}, "ready": True, "restartCount": 0}
    assert log_targets(pod("Running", {"name": "a", **running}), NOW) == []
    crash = {"name": "a", "state": {"waiting": {"reason": "CrashLoopBackOff"}}, "ready": False, "restartCount": 4,
             "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-11-26T09:59:00Z"}}}
    assert log_targets(pod("Running", crash), NOW) == [("a", False), ("a", True)]
    pull = {"name": "a", "state": {"waiting": {"reason": "ImagePullBackOff"}}, "ready": False, "restartCount": 0}
    assert log_targets(pod("Pending", pull), NOW) == []  # never started: no log to read
    old_restart = {"name": "a", "state": {"running": {}}, "ready": True, "restartCount": 1,
                   "lastState": {"terminated": {"exitCode": 137, "finishedAt": "2026-11-20T09:59:00Z"}}}
    assert log_targets(pod("Running", old_restart), NOW) == []
    recent = {**old_restart, "lastState": {"terminated": {"exitCode": 137, "finishedAt": "2026-11-26T08:00:00Z"}}}
    assert log_targets(pod("Running", recent), NOW) == [("a", False), ("a", True)]
    unready = {"name": "a", "state": {"running": {}}, "ready": False, "restartCount": 0}
    assert log_targets(pod("Running", unready), NOW) == [("a", False)]
    failed = {"name": "a", "state": {"terminated": {"exitCode": 2}}, "ready": False, "restartCount": 0}
    assert log_targets(pod("Failed", failed), NOW) == [("a", False)]
    falco = {"name": "falco", **running}
    assert log_targets(pod("Running", falco, images={"falco": "docker.io/falcosecurity/falco:0.39.2"}), NOW) == [
        ("falco", False)]


# ------------------------------------------------------------------------------------ the kind list
# Which kinds the checks, trace, component and dr views read is measured through the Snapshot API in
# tests/test_check_declarations.py (a recording snapshot), not by regexes over their source.


def test_built_in_kinds_match_the_upstream_api_paths() -> None:
    """Group, plural and scope of each built-in kind as the official client's generated paths spell them."""
    import kubernetes.client.api as api_pkg

    text = "\n".join(p.read_text() for p in Path(api_pkg.__file__).parent.glob("*_api.py"))
    paths = set(re.findall(r"resource_path='([^']+)'", text))
    builtin_groups = {"", "apps", "batch", "autoscaling", "policy", "discovery.k8s.io", "networking.k8s.io",
                      "storage.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io",
                      "admissionregistration.k8s.io"}
    checked = 0
    for s in COLLECTED_KINDS:
        if s.group not in builtin_groups:
            continue
        base = "/api/v1" if not s.group else f"/apis/{s.group}/"
        ns_path = [p for p in paths if p.startswith(base) and p.endswith(f"/namespaces/{{namespace}}/{s.resource}")]
        flat = [p for p in paths if p.startswith(base) and p.endswith(f"/{s.resource}") and "{" not in p]
        assert bool(ns_path) == s.namespaced, (s, ns_path)
        assert flat, s  # the list path (all namespaces, or the cluster-scoped kind)
        checked += 1
    assert checked >= 20


def test_custom_resource_kinds_match_their_crds() -> None:
    import yaml

    if not CRD_DIR.is_dir():
        pytest.fail(f"CRDs not found at {CRD_DIR} (shared/crds next to the checkout)")
    crds = {}
    for f in CRD_DIR.glob("*/*.yaml"):
        for doc in yaml.load_all(f.read_text(), Loader=yaml.CSafeLoader):
            if doc and doc.get("kind") == "CustomResourceDefinition":
                spec = doc["spec"]
                crds[(spec["group"], spec["names"]["kind"])] = (spec["names"]["plural"], spec["scope"] == "Namespaced")
    checked = 0
    for s in COLLECTED_KINDS:
        if s.key in crds:
            assert crds[s.key] == (s.resource, s.namespaced), s
            checked += 1
    assert checked >= 25


# ------------------------------------------------------------------------------------ retry policy
class _Raw:
    def __init__(self, body: bytes, headers: dict[str, str] | None = None):
        self.body, self.headers = body, headers or {}

    def stream(self, n: int, decode_content: bool = True):
        yield self.body

    def release_conn(self) -> None:
        pass

    def close(self) -> None:
        pass


class _Resp:
    def __init__(self, status: int, body: bytes = b"{}", headers: dict[str, str] | None = None):
        self.status, self.response = status, _Raw(body, headers)


class _FakeApi:
    """Stands in for kubernetes.client.ApiClient: the two methods HttpClient calls."""

    def __init__(self, answers: list[Any]):
        from types import SimpleNamespace

        self.answers = answers
        self.configuration = SimpleNamespace(host="https://fake")
        self.urls: list[str] = []

    def param_serialize(self, method, resource_path, query_params=None, header_params=None, auth_settings=None):
        return method, "https://fake" + resource_path, header_params, None, None

    def call_api(self, method, url, header_params=None, _request_timeout=None):
        self.urls.append(url)
        a = self.answers.pop(0)
        if isinstance(a, Exception):
            raise a
        return a


def test_retry_after_is_honoured_and_backoff_grows() -> None:
    from sre_expert.sources.live_http import HttpClient

    sleeps: list[float] = []
    api = _FakeApi([_Resp(429, b'{"message":"too many requests"}', {"Retry-After": "2"}),
                    _Resp(503, b"{}"), _Resp(502, b"{}"), _Resp(200, b'{"items": []}')])
    http = HttpClient(api, retries=4, backoff=0.5, max_backoff=8, max_retry_after=30, sleep=sleeps.append)
    assert http.get_json("/api/v1/pods") == {"items": []}
    assert sleeps[0] == 2.0
    assert 0.5 <= sleeps[1] <= 1.0 and 1.0 <= sleeps[2] <= 2.0  # 0.5·2^(n-1) with jitter in [½, 1]
    assert http.requests == 4 and http.retried == 3


def test_retry_after_is_capped_and_retries_end() -> None:
    from sre_expert.sources.live_http import HttpClient, RequestFailed

    sleeps: list[float] = []
    api = _FakeApi([_Resp(429, b"{}", {"Retry-After": "3600"}) for _ in range(3)])
    http = HttpClient(api, retries=2, max_retry_after=5, sleep=sleeps.append)
    with pytest.raises(RequestFailed) as e:
        http.get_json("/apis/velero.io/v1/backups")
    assert sleeps == [5, 5] and e.value.status == 429 and e.value.attempts == 3


def test_resets_and_timeouts_are_retried_and_4xx_are_not() -> None:
    import urllib3

    from sre_expert.sources.live_http import HttpClient, RequestFailed

    api = _FakeApi([urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")),
                    urllib3.exceptions.ReadTimeoutError(None, "/x", "read timed out"),
                    _Resp(200, b'{"ok": true}')])
    http = HttpClient(api, retries=3, backoff=0.001, sleep=lambda s: None)
    assert http.get_json("/x") == {"ok": True} and http.retried == 2
    api = _FakeApi([_Resp(403, b'{"message": "pods is forbidden"}'), _Resp(200)])
    http = HttpClient(api, retries=3, sleep=lambda s: None)
    with pytest.raises(RequestFailed) as e:
        http.get_json("/api/v1/pods")
    assert e.value.error == "forbidden" and e.value.detail == "pods is forbidden" and http.requests == 1
    api = _FakeApi([_Resp(200, b'{"items": [{"a"'), _Resp(200, b'{"items": []}')])
    http = HttpClient(api, retries=1, sleep=lambda s: None)
    assert http.get_json("/x") == {"items": []} and http.retried == 1
