"""deploy/serve: the manifests of `sre-expert serve` are valid for the API server (strict schemas, the
prometheus-operator CRD for the ServiceMonitor), `kubectl kustomize` renders exactly them, they hang
together (Service → pod port, probes, Secret, PVC, the read-only ClusterRole of deploy/rbac.yaml), the
pod passes the restricted pod-security profile, and the Alertmanager snippet passes `amtool check-config`
and routes as it says. End to end: the Deployment's own command and probe paths run against a real
`sre-expert serve`, and a real Alertmanager with the shipped receiver and route delivers to it while the
routes after it still get the alert (continue: true)."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import programs
import pytest
import yaml
from schema_validation import validate_object
from server_harness import alertmanager, request, start_serve, stop_serve, wait_for, wait_until, webhook_payload

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
SERVE = ROOT / "deploy" / "serve"
RBAC = ROOT / "deploy" / "rbac.yaml"
K8S_VERSION = "1.32.0"
MANIFESTS = ["serviceaccount.yaml", "pvc.yaml", "deployment.yaml", "service.yaml", "servicemonitor.yaml"]
LABELS = {"app.kubernetes.io/name": "sre-expert", "app.kubernetes.io/instance": "sre-expert"}


def tool(name: str) -> str:
    return programs.require(name)


def docs(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((SERVE / name).read_text()) if d]


def objects() -> list[dict[str, Any]]:
    return [d for name in MANIFESTS for d in docs(name)]


def one(kind: str) -> dict[str, Any]:
    (doc,) = [d for d in objects() if d["kind"] == kind]
    return doc


def container() -> dict[str, Any]:
    (c,) = one("Deployment")["spec"]["template"]["spec"]["containers"]
    return c


def validate(doc: dict[str, Any]) -> None:
    import kubernetes_validate

    if doc["apiVersion"].startswith("monitoring.coreos.com/"):
        validate_object(doc)  # the prometheus-operator CRD in ../shared/crds
    else:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


# ------------------------------------------------------------------------------------------- manifests
def test_every_manifest_is_valid_for_the_api_server() -> None:
    kinds = []
    for doc in objects():
        validate(doc)
        kinds.append(doc["kind"])
    assert kinds == ["ServiceAccount", "ClusterRoleBinding", "PersistentVolumeClaim", "Deployment", "Service",
                     "ServiceMonitor"]


def test_strict_validation_catches_a_misspelt_field() -> None:
    import kubernetes_validate

    bad = copy.deepcopy(one("Deployment"))
    bad["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, K8S_VERSION, strict=True)


def test_kustomize_renders_exactly_the_manifests() -> None:
    kustomization = yaml.safe_load((SERVE / "kustomization.yaml").read_text())
    assert kustomization["resources"] == MANIFESTS
    r = subprocess.run([tool("kubectl"), "kustomize", str(SERVE)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    rendered = [d for d in yaml.safe_load_all(r.stdout) if d]
    for doc in rendered:
        validate(doc)
    key = lambda d: (d["kind"], d["metadata"]["name"])  # noqa: E731
    assert sorted(rendered, key=key) == sorted(objects(), key=key)


def test_everything_lives_in_monitoring_where_the_webhook_url_points() -> None:
    for doc in objects():
        if doc["kind"] != "ClusterRoleBinding":
            assert doc["metadata"]["namespace"] == "monitoring", doc["kind"]
        assert {k: doc["metadata"]["labels"][k] for k in LABELS} == LABELS, doc["kind"]
    svc = one("Service")
    receiver = yaml.safe_load((SERVE / "alertmanager-receiver.yaml").read_text())
    url = urlsplit(receiver["receivers"][0]["webhook_configs"][0]["url"])
    assert url.hostname == f"{svc['metadata']['name']}.{svc['metadata']['namespace']}.svc"
    assert url.port == svc["spec"]["ports"][0]["port"] and url.path == "/api/v1/alerts"


def test_the_service_account_gets_the_read_only_cluster_role_of_rbac_yaml() -> None:
    rbac = {d["kind"]: d for d in yaml.safe_load_all(RBAC.read_text()) if d and d["kind"] == "ClusterRole"}
    crb, sa = one("ClusterRoleBinding"), one("ServiceAccount")
    assert crb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                              "name": rbac["ClusterRole"]["metadata"]["name"]}
    assert crb["subjects"] == [{"kind": "ServiceAccount", "name": sa["metadata"]["name"],
                                "namespace": sa["metadata"]["namespace"]}]
    assert one("Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == sa["metadata"]["name"]
    assert crb["metadata"]["name"] != "sre-expert-reader", "must not replace the binding of deploy/rbac.yaml"
    assert not [d for d in objects() if d["kind"] in ("ClusterRole", "Role")], "no second, wider role"


def test_the_service_and_probes_point_at_the_container_port() -> None:
    dep, svc, c = one("Deployment"), one("Service"), container()
    pod_labels = dep["spec"]["template"]["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert svc["spec"]["selector"].items() <= pod_labels.items()
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert svc["spec"]["ports"][0]["targetPort"] in ports
    args = c["args"]
    assert c["command"] == ["sre-expert"] and args[0] == "serve"
    assert args[args.index("--port") + 1] == str(ports["http"]) and args[args.index("--host") + 1] == "0.0.0.0"
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    sm = one("ServiceMonitor")["spec"]
    assert sm["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
    assert sm["endpoints"][0]["port"] == svc["spec"]["ports"][0]["name"]


def test_the_token_comes_from_a_secret_and_the_database_from_the_pvc() -> None:
    c, spec = container(), one("Deployment")["spec"]
    env = {e["name"]: e for e in c["env"]}
    assert env["SRE_EXPERT_TOKEN"] == {"name": "SRE_EXPERT_TOKEN",
                                       "valueFrom": {"secretKeyRef": {"name": "sre-expert", "key": "token"}}}
    assert all("value" not in e or "TOKEN" not in e["name"] for e in c["env"])
    db = c["args"][c["args"].index("--db") + 1]
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["template"]["spec"]["volumes"]}
    data = volumes[mounts[str(Path(db).parent)]]
    assert data["persistentVolumeClaim"]["claimName"] == one("PersistentVolumeClaim")["metadata"]["name"]
    assert "emptyDir" in volumes[mounts["/tmp"]], "a writable /tmp on a read-only root filesystem"
    assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}, "one SQLite writer, RWO volume"
    # the ServiceMonitor and the Alertmanager use the same Secret
    auth = one("ServiceMonitor")["spec"]["endpoints"][0]["authorization"]["credentials"]
    assert auth == {"name": "sre-expert", "key": "token"}
    receiver = yaml.safe_load((SERVE / "alertmanager-receiver.yaml").read_text())
    cred = receiver["receivers"][0]["webhook_configs"][0]["http_config"]["authorization"]["credentials_file"]
    assert cred == "/etc/alertmanager/secrets/sre-expert/token"  # where the operator mounts Secret sre-expert


def test_the_pod_meets_the_restricted_pod_security_profile() -> None:
    assert_restricted(one("Deployment"))


def assert_restricted(deployment: dict[str, Any]) -> None:
    """The checks of the Kubernetes `restricted` profile (which the platform's Kyverno pod-security
    ClusterPolicy enforces), plus a read-only root filesystem and resources."""
    spec = deployment["spec"]["template"]["spec"]
    pod_sc, (c,) = spec["securityContext"], spec["containers"]
    sc = c["securityContext"]
    assert pod_sc["runAsNonRoot"] is True and pod_sc["runAsUser"] > 0
    assert pod_sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["readOnlyRootFilesystem"] is True and not sc.get("privileged")
    assert not any(spec.get(k) for k in ("hostNetwork", "hostPID", "hostIPC"))
    assert all(set(v) <= {"name", "persistentVolumeClaim", "emptyDir"} for v in spec["volumes"]), "no hostPath"
    res = c["resources"]
    assert res["requests"]["cpu"] and res["requests"]["memory"] and res["limits"]["memory"]


def test_the_image_runs_as_the_deployment_expects() -> None:
    """deploy/serve/Dockerfile (not built by the tests: no container runtime here) agrees with the pod."""
    lines = [ln.split(None, 1) for ln in (SERVE / "Dockerfile").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    final = lines[max(i for i, (op, _) in enumerate(lines) if op == "FROM"):]
    instr = {op: arg for op, arg in final}
    pod_sc = one("Deployment")["spec"]["template"]["spec"]["securityContext"]
    assert instr["USER"] == f"{pod_sc['runAsUser']}:{pod_sc['runAsGroup']}"
    assert instr["EXPOSE"] == str(container()["ports"][0]["containerPort"])
    assert json.loads(instr["ENTRYPOINT"]) == container()["command"]


# ------------------------------------------------------------------------------ the HA variant (PostgreSQL)
HA = ROOT / "deploy" / "serve-ha"


def render(directory: Path) -> list[dict[str, Any]]:
    """What `kubectl apply -k directory` would send, every object validated strictly."""
    r = subprocess.run([tool("kubectl"), "kustomize", str(directory)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    rendered = [d for d in yaml.safe_load_all(r.stdout) if d]
    for doc in rendered:
        validate(doc)
    return rendered


def by_kind(rendered: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (doc,) = [d for d in rendered if d["kind"] == kind]
    return doc


@pytest.fixture(scope="module")
def ha() -> list[dict[str, Any]]:
    return render(HA)


def test_ha_renders_the_base_without_the_volume_claim_plus_a_disruption_budget(ha) -> None:
    assert sorted(d["kind"] for d in ha) == sorted(
        ["ServiceAccount", "ClusterRoleBinding", "Deployment", "Service", "ServiceMonitor", "PodDisruptionBudget"])
    for doc in ha:
        if doc["kind"] != "ClusterRoleBinding":
            assert doc["metadata"]["namespace"] == "monitoring", doc["kind"]
        assert {k: doc["metadata"]["labels"][k] for k in LABELS} == LABELS, doc["kind"]
    # the objects the variant does not mean to change are the base's, byte for byte
    base = {(d["kind"], d["metadata"]["name"]): d for d in objects()}
    for doc in ha:
        if doc["kind"] not in ("Deployment", "PodDisruptionBudget"):
            assert doc == base[(doc["kind"], doc["metadata"]["name"])], doc["kind"]


def test_ha_deployment_differs_from_the_base_only_where_it_says(ha) -> None:
    """Replicas, strategy, anti-affinity, the DSN, no --db and /data on an emptyDir; the rest (image,
    probes, resources, pod security, the token) is the base's, so the two cannot drift apart."""
    dep, base = copy.deepcopy(by_kind(ha, "Deployment")), copy.deepcopy(one("Deployment"))
    for d in (dep, base):
        spec = d["spec"]
        spec.pop("replicas"), spec.pop("strategy"), spec["template"]["spec"].pop("affinity", None)
        (c,) = spec["template"]["spec"]["containers"]
        c["env"] = [e for e in c["env"] if e["name"] != "SRE_EXPERT_DB"]
        args = c.pop("args")
        c["argsWithoutDb"] = [a for i, a in enumerate(args) if a != "--db" and (i == 0 or args[i - 1] != "--db")]
        spec["template"]["spec"]["volumes"] = [v for v in spec["template"]["spec"]["volumes"] if v["name"] != "data"]
    assert dep == base


def test_ha_runs_two_replicas_and_a_rollout_never_goes_below_two(ha) -> None:
    spec = by_kind(ha, "Deployment")["spec"]
    assert spec["replicas"] == 2
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    (c,) = spec["template"]["spec"]["containers"]
    # a new pod takes traffic only once /readyz says the database is open and the cluster was read
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}


def test_ha_disruption_budget_lets_one_pod_go_at_a_time(ha) -> None:
    dep, pdb = by_kind(ha, "Deployment"), by_kind(ha, "PodDisruptionBudget")
    assert pdb["apiVersion"] == "policy/v1" and pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"].items() <= dep["spec"]["template"]["metadata"]["labels"].items()
    assert dep["spec"]["replicas"] - pdb["spec"]["minAvailable"] == 1, "one voluntary eviction allowed, not zero"


def test_ha_spreads_the_replicas_over_nodes(ha) -> None:
    dep = by_kind(ha, "Deployment")
    anti = dep["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    # preferred: a required rule on a two-node cluster leaves the rollout's surge pod unschedulable
    assert "requiredDuringSchedulingIgnoredDuringExecution" not in anti
    (term,) = anti["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    sel = term["podAffinityTerm"]["labelSelector"]["matchLabels"]
    assert sel.items() <= dep["spec"]["template"]["metadata"]["labels"].items()


def test_ha_takes_the_dsn_from_a_secret_and_keeps_no_volume_claim(ha) -> None:
    dep = by_kind(ha, "Deployment")
    pod = dep["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    env = {e["name"]: e for e in c["env"]}
    assert env["SRE_EXPERT_DB"] == {"name": "SRE_EXPERT_DB",
                                    "valueFrom": {"secretKeyRef": {"name": "sre-expert-db", "key": "dsn"}}}
    assert env["SRE_EXPERT_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "sre-expert", "key": "token"}
    assert "--db" not in c["args"], "an argument would override the Secret's DSN"
    assert not any("persistentVolumeClaim" in v for v in pod["volumes"])
    assert all(set(v) <= {"name", "emptyDir"} for v in pod["volumes"])
    assert_restricted(dep)


def test_ha_patch_mistakes_are_caught(tmp_path: Path) -> None:
    """The rendering checks above can fail: a misspelt field in the patch is refused by the strict
    schema, and a patch that forgets the claim leaves a PVC the comparison sees."""
    import kubernetes_validate

    shutil.copytree(SERVE, tmp_path / "serve")
    copy_ha = shutil.copytree(HA, tmp_path / "serve-ha")
    assert {d["kind"] for d in render(copy_ha)} == {d["kind"] for d in render(HA)}  # the copy renders as the original
    patch = copy_ha / "deployment-patch.yaml"
    patch.write_text(patch.read_text().replace("maxUnavailable: 0", "maxUnavailable: 0\n      maxUnavailible: 0"))
    with pytest.raises(kubernetes_validate.ValidationError):
        render(copy_ha)
    patch.write_text((HA / "deployment-patch.yaml").read_text())
    kust = copy_ha / "kustomization.yaml"
    kust.write_text(kust.read_text().replace("  - patch: |-\n      $patch: delete\n", "  - patch: |-\n"))
    assert "PersistentVolumeClaim" in [d["kind"] for d in render(copy_ha)]


# ------------------------------------------------------------------------------------- Alertmanager
def full_config(snippet: dict[str, Any], team_url: str = "http://team-webhook.example:8080/") -> dict[str, Any]:
    """A complete alertmanager.yml as an operator has it, with the snippet merged in as its README says:
    the route first among the routes, the receiver next to the others."""
    return {
        "global": {"resolve_timeout": "5m"},
        "route": {"receiver": "default", "group_by": ["alertname"],
                  "routes": snippet["route"]["routes"] + [
                      {"receiver": "team", "matchers": ['severity="critical"'], "group_wait": "0s"}]},
        "receivers": [{"name": "default"}, {"name": "team", "webhook_configs": [{"url": team_url}]}]
        + snippet["receivers"],
    }


def snippet() -> dict[str, Any]:
    return yaml.safe_load((SERVE / "alertmanager-receiver.yaml").read_text())


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("amtool"), *args], capture_output=True, text=True, timeout=60)


def test_the_receiver_snippet_passes_amtool_check_config(tmp_path: Path) -> None:
    s = snippet()
    wc = s["receivers"][0]["webhook_configs"][0]
    assert wc["send_resolved"] is True and wc["max_alerts"] > 0
    assert s["route"]["routes"][0]["continue"] is True
    cfg = tmp_path / "alertmanager.yml"
    cfg.write_text(yaml.safe_dump(full_config(s), sort_keys=False))
    r = amtool("check-config", str(cfg))
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr


def test_amtool_rejects_a_broken_receiver(tmp_path: Path) -> None:
    """The check above can fail: a misspelt webhook option is refused."""
    s = snippet()
    s["receivers"][0]["webhook_configs"][0]["send_resolve"] = True
    cfg = tmp_path / "alertmanager.yml"
    cfg.write_text(yaml.safe_dump(full_config(s), sort_keys=False))
    r = amtool("check-config", str(cfg))
    assert r.returncode != 0 and "send_resolve" in r.stdout + r.stderr


@pytest.mark.parametrize(("labels", "receivers"), [
    (["alertname=NodeDown", "severity=critical"], "sre-expert,team"),
    (["alertname=PodNotReady", "severity=warning", "namespace=lfh-staging"], "sre-expert"),
    (["alertname=Watchdog", "severity=none"], "default"),
])
def test_the_route_sends_platform_alerts_to_sre_expert_and_continues(tmp_path: Path, labels: list[str],
                                                                     receivers: str) -> None:
    cfg = tmp_path / "alertmanager.yml"
    cfg.write_text(yaml.safe_dump(full_config(snippet()), sort_keys=False))
    r = amtool("config", "routes", "test", f"--config.file={cfg}", *labels)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == receivers


# ------------------------------------------------------------------------------------- end to end
class TeamReceiver:
    """The route after sre-expert's: records what Alertmanager posts to it."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                outer.posts.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def serve_args(c: dict[str, Any] | None = None) -> list[str]:
    """The Deployment's `serve` options for a local run: without --host/--port/--db (start_serve sets
    loopback, port 0 and a temp db) and with Prometheus at a port nothing listens on."""
    args, out, i = (c or container())["args"][1:], [], 0
    while i < len(args):
        if args[i] in ("--host", "--port", "--db"):
            i += 2
        elif args[i] == "--prometheus":
            out += [args[i], "http://127.0.0.1:9"]
            i += 2
        else:
            out.append(args[i])
            i += 1
    return out


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """`sre-expert serve` with the Deployment's arguments, and Alertmanager with the shipped snippet
    (only the URL's host, the token file's path and group_wait changed for a local run)."""
    base, token, serve = start_serve(tmp_path / "db.sqlite", args=(*serve_args(), "--demo"), ready=False)
    team = TeamReceiver()
    try:
        (tmp_path / "token").write_text(token)
        s = snippet()
        wc = s["receivers"][0]["webhook_configs"][0]
        wc["url"] = base + urlsplit(wc["url"]).path
        wc["http_config"]["authorization"]["credentials_file"] = str(tmp_path / "token")
        s["route"]["routes"][0]["group_wait"] = "0s"
        with alertmanager(tmp_path, full_config(s, team.url)) as am_url:
            yield {"base": base, "token": token, "am": am_url, "team": team, "log": tmp_path / "am.log"}
    finally:
        team.close()
        stop_serve(serve)


def test_the_deployment_command_and_probes_against_a_real_server_and_alertmanager(deployed) -> None:
    base, token, am = deployed["base"], deployed["token"], deployed["am"]
    c = container()
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        path = c[probe]["httpGet"]["path"]
        wait_until(lambda p=path: request(base, "GET", p)[0] == 200, f"{probe} {path} to answer 200")
    assert request(base, "GET", "/api/v1/investigations")[0] == 401, "the token is required"

    now = datetime.now(UTC)
    labels = {"alertname": "PersistentVolumeCritical", "severity": "critical", "component": "storage",
              "namespace": "lfh-staging", "persistentvolumeclaim": "uploads"}
    status, _ = request(am, "POST", "/api/v2/alerts", [{
        "labels": labels, "annotations": {"summary": "Volume lfh-staging/uploads is almost full",
                                          "runbook": "storage-pvc"},
        "startsAt": (now - timedelta(minutes=6)).isoformat().replace("+00:00", "Z")}])
    assert status == 200

    def delivered() -> Any:
        items = request(base, "GET", "/api/v1/investigations", token=token)[1]["items"]
        return items[0] if items else None

    inv = wait_until(delivered, f"Alertmanager to deliver to sre-expert (log: {deployed['log']})")
    assert inv["receiver"] == "sre-expert" and inv["alertname"] == "PersistentVolumeCritical"
    assert inv["groupKey"].endswith('{alertname="PersistentVolumeCritical", namespace="lfh-staging"}')
    team = wait_until(lambda: deployed["team"].posts, "the next route to get the alert too (continue: true)")
    assert team[0]["receiver"] == "team" and team[0]["commonLabels"]["alertname"] == "PersistentVolumeCritical"


def test_ha_deployment_command_runs_two_replicas_on_one_postgresql(ha) -> None:
    """The HA Deployment's own arguments and environment (the DSN in SRE_EXPERT_DB, no --db) start two
    real replicas on a real PostgreSQL: both pass the probes, and an alert one of them takes is investigated
    and visible through the other."""
    from pg_harness import pg_server

    dep = by_kind(ha, "Deployment")
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    env_names = {e["name"] for e in c["env"]}
    assert "SRE_EXPERT_DB" in env_names and "--db" not in c["args"]
    dsn = pg_server().create_database()
    token = "ha-deploy-test-token-0123456789"
    procs = []
    try:
        for _ in range(dep["spec"]["replicas"]):
            base, _, proc = start_serve(None, args=(*serve_args(c), "--demo"), env={"SRE_EXPERT_DB": dsn},
                                        token=token, ready=False)
            procs.append((base, proc))
        for base, _ in procs:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                path = c[probe]["httpGet"]["path"]
                wait_until(lambda p=path, b=base: request(b, "GET", p)[0] == 200, f"{probe} {path} on {base}")
        (first, _), (second, _) = procs
        status, doc = request(first, "POST", "/api/v1/alerts", webhook_payload([{"labels": {
            "alertname": "PodCrashLooping", "severity": "critical", "namespace": "lfh-staging",
            "pod": "api-h2jfc4tw-xsn8x"}}]), token=token)
        assert status == 200, doc
        (inv,) = doc["investigations"]
        rec = wait_for(second, token, inv)  # the other replica reads the same database
        assert rec["status"] == "done" and rec["alertname"] == "PodCrashLooping"
        assert request(second, "GET", "/api/v1/investigations", token=token)[1]["total"] == 1
    finally:
        for _, proc in procs:
            stop_serve(proc)
