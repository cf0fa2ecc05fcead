"""Pod checks: one scenario per fault on an otherwise healthy platform, plus the false alarms to avoid.

Each fault is applied the way the API server would show it (status fields, kubelet/scheduler events,
previous-instance logs); the tests assert the root cause (code, object, evidence) and that no other
root cause of severity warning or above appears.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import scenario
from hypothesis import given
from hypothesis import strategies as st

from sre_expert.core.model import Finding
from sre_expert.diagnosis.engine import Report
from synth import faults as F
from synth import pods as podlib
from synth.builder import PlatformBuilder
from synth.logs import crash_log
from synth.meta import safe_suffix, ts, uid

pytestmark = pytest.mark.scenario

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
NS = "mycure-production"
API_IMAGE = "ghcr.io/monobaselabs/api:v2.14.3"

Obj = dict[str, Any]


# --------------------------------------------------------------------------------------------- platform


def _platform(now: datetime) -> PlatformBuilder:
    """The synth reference platform (healthy), plus a few extras the scenarios use: redis and postgresql
    StatefulSets next to mongodb in the tenant namespace, and a completed migration Job."""
    b = scenario.platform(now)
    b.add_statefulset(NS, "redis", "docker.io/bitnami/redis:7.4.1", replicas=1, ports=(("redis", 6379),),
                      created=now - timedelta(days=30))
    b.add_statefulset(NS, "postgresql", "docker.io/bitnami/postgresql:16.4.0", replicas=1,
                      ports=(("tcp-postgresql", 5432),), volume_claims={"data": "10Gi"}, created=now - timedelta(days=30))
    b.add_job(NS, "api-migrate-7", API_IMAGE, created=now - timedelta(hours=3))
    b.refresh()
    return b


H = scenario.Scenario(NOW, areas=("pods", "workloads"), build=_platform)
platform, run, serious_roots, _dump = H.platform, H.run, H.serious_roots, H.dump
has, pods_of = scenario.has, scenario.live_pods


def only_root(report: Report, code: str, kind: str, name: str, namespace: str = NS) -> Finding:
    """The single warning-or-worse root cause; every other warning-or-worse finding descends from it."""
    return H.only_root(report, code, kind, name, namespace)


def codes(report: Report, prefix: str = "") -> list[str]:
    return [f.code for f in report.findings if f.code.startswith(prefix)]


# --------------------------------------------------------------------------------------------- faults
# Scenarios use synth.faults; these reproduce the variants it does not offer, the way a 1.32
# API server shows them.


def _cname(pod: Obj, container: str | None) -> str:
    return container or pod["spec"]["containers"][0]["name"]


def _fp(container: str, init: bool = False) -> str:
    return f"spec.{'initContainers' if init else 'containers'}{{{container}}}"


def never_started(pod: Obj, reason: str, message: str | None, container: str | None = None,
                  phase: str = "Pending") -> None:
    """A pod whose container never ran (image pull, config error, stuck creating)."""
    c = _cname(pod, container)
    spec_c = next(x for x in pod["spec"]["containers"] if x["name"] == c)
    st = pod["status"]
    st["phase"] = phase
    st["containerStatuses"] = [podlib.waiting_container_status(x, reason, message) if x["name"] == c else
                               podlib.container_status(pod, x["name"]) for x in pod["spec"]["containers"]]
    for x in st["containerStatuses"]:
        if x["name"] == c:
            x["image"] = spec_c["image"]
    podlib.refresh_readiness(pod, NOW - timedelta(minutes=30))
    if reason == "ContainerCreating":
        podlib.set_pod_condition(pod, "PodReadyToStartContainers", "False", NOW - timedelta(minutes=30))
        st.pop("podIP", None)
        st.pop("podIPs", None)


def image_pull_error(b: PlatformBuilder, pod: Obj, image: str, error: str) -> None:
    """ImagePullBackOff with a chosen registry error (synth's fault always says "not found")."""
    c = _cname(pod, None)
    next(x for x in pod["spec"]["containers"] if x["name"] == c)["image"] = image
    never_started(pod, "ImagePullBackOff", f'Back-off pulling image "{image}"')
    fp = _fp(c)
    b.add_event(pod, "Pulling", f'Pulling image "{image}"', count=7, field_path=fp)
    b.add_event(pod, "Failed", f'Failed to pull image "{image}": {error}', "Warning", count=7, field_path=fp)
    b.add_event(pod, "Failed", "Error: ErrImagePull", "Warning", count=7, field_path=fp)
    b.add_event(pod, "BackOff", f'Back-off pulling image "{image}"', "Normal", count=120, field_path=fp)
    b.add_event(pod, "Failed", "Error: ImagePullBackOff", "Warning", count=120, field_path=fp)


def config_error(b: PlatformBuilder, pod: Obj, message: str) -> None:
    """CreateContainerConfigError with any kubelet message (synth's fault covers Secrets only)."""
    c = _cname(pod, None)
    never_started(pod, "CreateContainerConfigError", message)
    b.add_event(pod, "Failed", f"Error: {message}", "Warning", count=140, field_path=_fp(c))
    b.add_event(pod, "Pulled", f'Container image "{pod["spec"]["containers"][0]["image"]}" already present on machine',
                count=140, field_path=_fp(c))


def unschedulable(b: PlatformBuilder, pod: Obj, message: str, age: timedelta = timedelta(minutes=25)) -> None:
    """Pending/Unschedulable with a chosen scheduler message."""
    created = NOW - age
    pod["metadata"]["creationTimestamp"] = ts(created)
    pod["spec"].pop("nodeName", None)
    pod["status"] = {"conditions": [podlib.pod_condition("PodScheduled", "False", created, "Unschedulable", message)],
                     "phase": "Pending", "qosClass": pod["status"]["qosClass"]}
    b.add_event(pod, "FailedScheduling", message, "Warning", count=9, component="default-scheduler",
                first=created, last=NOW - timedelta(minutes=1))


def add_pod_copy(b: PlatformBuilder, like: Obj, suffix_seed: str) -> Obj:
    """Another pod of the same ReplicaSet/StatefulSet (a replacement, or an evicted leftover)."""
    p = copy.deepcopy(like)
    md = p["metadata"]
    base = md.get("generateName") or md["name"].rsplit("-", 1)[0] + "-"
    md["name"] = base + safe_suffix("copy", suffix_seed)
    md["uid"] = uid("Pod", md["namespace"], md["name"])
    return b.add(p)


def healthy_restart(pod: Obj, *, restarts: int, ago: timedelta, reason: str = "Error", exit_code: int = 1) -> None:
    cs = pod["status"]["containerStatuses"][0]
    cs["restartCount"] = restarts
    cs["lastState"] = {"terminated": {"containerID": podlib.container_id(pod["metadata"]["uid"], cs["name"], restarts - 1),
                                      "exitCode": exit_code, "finishedAt": ts(NOW - ago), "reason": reason,
                                      "startedAt": ts(NOW - ago - timedelta(hours=5))}}
    cs["state"] = {"running": {"startedAt": ts(NOW - ago + timedelta(seconds=10))}}



# --------------------------------------------------------------------------------------------- healthy


def test_healthy_platform_is_silent() -> None:
    report = run(platform())
    assert serious_roots(report) == [], _dump(report)
    mine = [f for f in report.findings if f.code.startswith(("POD-", "WORKLOAD-", "JOB-", "CRONJOB-"))]
    assert not mine, _dump(report)


# --------------------------------------------------------------------------------------------- crash loops


def test_crashloop_groups_pods_on_the_deployment_with_exit_code_and_log_lines() -> None:
    b = platform()
    pods = pods_of(b, "Deployment", "api")
    for p in pods:
        F.crashloop(b, p, restarts=12, previous_log=crash_log(API_IMAGE, NOW - timedelta(minutes=3),
                                                                detail="Error: JWT_SECRET must be set"))
    report = run(b)
    root = only_root(report, "POD-CRASHLOOP", "Deployment", "api")
    assert root.severity == "critical"
    assert set(root.subjects) >= {("Pod", NS, p["metadata"]["name"]) for p in pods}
    assert len([f for f in report.findings if f.code == "POD-CRASHLOOP"]) == 1
    assert has(root.evidence, "state.waiting.reason=CrashLoopBackOff")
    assert has(root.evidence, "lastState.terminated.exitCode=1 reason=Error")
    assert has(root.evidence, "event Warning BackOff x")
    assert has(root.evidence, "JWT_SECRET must be set")
    assert "2/2 pods" in root.title and "exits with code 1" in root.title
    first = sorted(p["metadata"]["name"] for p in pods)[0]
    cmds = [r.command for r in root.remediation if r.command]
    assert f"kubectl logs {first} -n {NS} -c api --previous --tail=100" in cmds
    restart = [r for r in root.remediation if r.command and "rollout restart" in r.command]
    assert restart and restart[0].safety == "mutating"
    unavailable = next(f for f in report.findings if f.code == "WORKLOAD-UNAVAILABLE")
    assert not unavailable.root_cause and root.id in unavailable.caused_by


def test_one_crashing_pod_of_two_is_a_warning() -> None:
    b = platform()
    F.crashloop(b, pods_of(b, "Deployment", "api")[0], exit_code=139)
    report = run(b)
    root = only_root(report, "POD-CRASHLOOP", "Deployment", "api")
    assert root.severity == "warning"
    assert "(1 ready)" in root.title
    assert has(root.evidence, "SIGSEGV")


def test_grouping_caps_the_pod_list() -> None:
    b = platform()
    w = b.add_deployment(NS, "worker", API_IMAGE, replicas=12, service=False)
    b.refresh()
    for p in w.pods:
        F.crashloop(b, p)
    report = run(b)
    root = only_root(report, "POD-CRASHLOOP", "Deployment", "worker")
    assert len([s for s in root.subjects if s[0] == "Pod"]) == 12
    assert has(root.evidence, "… and 6 more pods")
    assert len(root.evidence) < 20


def test_standalone_pod_gets_its_own_finding() -> None:
    b = platform()
    pod = add_pod_copy(b, pods_of(b, "Deployment", "api")[0], "debug")
    b.remove(pod)
    pod["metadata"].pop("ownerReferences")
    pod["metadata"]["name"] = "debug-shell"
    b.add(pod)
    F.crashloop(b, pod)
    report = run(b)
    root = only_root(report, "POD-CRASHLOOP", "Pod", "debug-shell")
    assert root.subjects == [("Pod", NS, "debug-shell")]
    assert not any("rollout restart" in (r.command or "") for r in root.remediation)


def test_log_connection_refused_to_fqdn_links_the_database_service() -> None:
    b = platform()
    F.crashloop(b, pods_of(b, "StatefulSet", "mongodb")[0], exit_code=14)
    line = ('{"level":60,"time":1795686900000,"pid":1,"msg":"MongoNetworkError: connect ECONNREFUSED",'
            '"err":"mongodb.mycure-production.svc.cluster.local:27017: connect: connection refused"}')
    for p in pods_of(b, "Deployment", "api"):
        F.crashloop(b, p, previous_log=line + "\n")
    report = run(b)
    api = next(f for f in report.findings if f.code == "POD-CRASHLOOP" and f.object.name == "api")
    assert ("Service", NS, "mongodb") in api.depends_on
    assert has(api.evidence, "connection to mongodb.mycure-production.svc.cluster.local fails, which is Service "
                             "mycure-production/mongodb")
    # mongodb's own failure is the single root (synth's mongodb crash log is a WiredTiger panic, so the
    # corruption leads its crash loop); the api crash is a consequence (through the Service finding)
    root = next(f for f in report.findings if f.code == "POD-STORAGE-CORRUPTION" and f.object.name == "mongodb")
    assert [f.id for f in serious_roots(report)] == [root.id], _dump(report)
    assert not api.root_cause
    # the Service-level finding links them: mongodb pods -> Service -> api
    (svc,) = [f for f in report.findings if f.object.kind == "Service" and f.object.name == "mongodb"]
    assert svc.id in api.caused_by and root.id in svc.caused_by


@pytest.mark.parametrize("line, service", [
    ("Error: getaddrinfo ENOTFOUND postgresql\n    at GetAddrInfoReqWrap.onlookup [as oncomplete] (node:dns:107:26)",
     "postgresql"),
    ('panic: dial tcp: lookup redis on 10.96.0.10:53: no such host', "redis"),
    ("MongoServerSelectionError: connect ECONNREFUSED {mongo_ip}:27017", "mongodb"),
    ('connection to server at "postgresql.mycure-production" (10.96.1.2), port 5432 failed: Connection refused',
     "postgresql"),
    ("failed to connect to mongodb-0.mongodb-headless:27017: i/o timeout", "mongodb-headless"),
])
def test_log_dependency_forms(line: str, service: str) -> None:
    b = platform()
    mongo_ip = b.require("Service", NS, "mongodb")["spec"]["clusterIP"]
    for p in pods_of(b, "Deployment", "api"):
        F.crashloop(b, p, previous_log=f"2026-11-26T09:57:30.120Z INFO starting\n{line.format(mongo_ip=mongo_ip)}\n")
    report = run(b)
    api = next(f for f in report.findings if f.code == "POD-CRASHLOOP" and f.object.name == "api")
    assert ("Service", NS, service) in api.depends_on
    assert not [d for d in api.depends_on if d[2] in ("kube-dns", "api")]
    # the dependency is healthy, so the api crash stays the root cause
    only_root(report, "POD-CRASHLOOP", "Deployment", "api")


def test_unknown_host_without_service_is_evidence_not_a_link() -> None:
    b = platform()
    for p in pods_of(b, "Deployment", "api"):
        F.crashloop(b, p, previous_log="Error: getaddrinfo ENOTFOUND mongo-primary\n")
    report = run(b)
    root = only_root(report, "POD-CRASHLOOP", "Deployment", "api")
    assert not [d for d in root.depends_on if d[0] == "Service"]
    assert has(root.evidence, "host 'mongo-primary' does not resolve and no Service mongo-primary exists")


def test_start_error_names_the_runtime_cause() -> None:
    b = platform()
    msg = ('failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create '
           'failed: unable to start container process: exec: "node-server": executable file not found in $PATH: '
           'unknown')
    for p in pods_of(b, "Deployment", "api"):
        F.crashloop(b, p, exit_code=128, reason="StartError", message=msg)
    report = run(b)
    root = only_root(report, "POD-START-ERROR", "Deployment", "api")
    assert 'exec: "node-server": executable file not found in $PATH' in root.title


def test_run_container_error() -> None:
    b = platform()
    for p in pods_of(b, "Deployment", "api"):
        never_started(p, "RunContainerError", 'failed to start container "api": Error response from daemon: '
                      'failed to create task for container: error mounting "/etc/app/config.yaml" to rootfs: '
                      'not a directory')
        b.add_event(p, "Failed", "Error: failed to start container", "Warning", count=9, field_path=_fp("api"))
    report = run(b)
    root = only_root(report, "POD-START-ERROR", "Deployment", "api")
    assert has(root.evidence, "state.waiting.reason=RunContainerError")


# --------------------------------------------------------------------------------------------- OOM


def test_oomkilled_in_crashloop_names_the_limit_and_suggests_more() -> None:
    b = platform()
    for p in pods_of(b, "Deployment", "api"):
        F.oomkilled(b, p)
    report = run(b)
    root = only_root(report, "POD-OOMKILLED", "Deployment", "api")
    assert not codes(report, "POD-CRASHLOOP")
    assert has(root.evidence, "lastState.terminated.exitCode=137 reason=OOMKilled")
    assert has(root.evidence, "resources.limits.memory=1Gi")
    assert has(root.evidence, "heap out of memory")
    assert "1Gi memory limit" in root.title
    assert any(r.command and "--limits=memory=2Gi" in r.command and r.safety == "mutating" for r in root.remediation)
    assert any("values/deployments" in r.description for r in root.remediation)


def test_recent_oom_on_a_recovered_pod_is_a_warning_old_restart_is_info() -> None:
    b = platform()
    api = pods_of(b, "Deployment", "api")
    healthy_restart(api[0], restarts=1, ago=timedelta(minutes=20), reason="OOMKilled", exit_code=137)
    healthy_restart(pods_of(b, "StatefulSet", "mongodb")[0], restarts=2, ago=timedelta(hours=5))
    report = run(b)
    oom = [f for f in report.findings if f.code == "POD-OOMKILLED"]
    assert len(oom) == 1 and oom[0].severity == "warning" and oom[0].object.name == "api"
    info = [f for f in report.findings if f.code == "POD-RESTARTS"]
    assert len(info) == 1 and info[0].severity == "info" and info[0].object.name == "mongodb"


def test_restart_long_ago_and_ready_now_is_at_most_info() -> None:
    b = platform()
    for p in pods_of(b, "Deployment", "api"):
        healthy_restart(p, restarts=3, ago=timedelta(hours=4))
    healthy_restart(pods_of(b, "StatefulSet", "mongodb")[0], restarts=1, ago=timedelta(days=3))
    report = run(b)
    assert serious_roots(report) == [], _dump(report)
    mine = [f for f in report.findings if f.code.startswith("POD-")]
    assert [f.code for f in mine] == ["POD-RESTARTS"]  # one per controller, nothing for the 3-day-old one
    assert mine[0].severity == "info"


# --------------------------------------------------------------------------------------------- image pull


def test_image_pull_backoff_on_a_rollout_is_a_warning_while_old_pods_serve() -> None:
    b = platform()
    pod = F.image_pull_backoff(b, b.workload("Deployment", NS, "api"))
    report = run(b)
    root = only_root(report, "POD-IMAGE-PULL", "Deployment", "api")
    assert root.severity == "warning"
    assert ("Pod", NS, pod["metadata"]["name"]) in root.subjects
    assert "ghcr.io/monobaselabs/api:v9.9.9" in root.title and "does not exist" in root.title
    assert has(root.evidence, "state.waiting.reason=ImagePullBackOff")
    assert has(root.evidence, 'Failed to pull image "ghcr.io/monobaselabs/api:v9.9.9"')
    assert not codes(report, "WORKLOAD-")  # the rollout is within its deadline, old pods are available


@pytest.mark.parametrize("error, cause", [
    ('rpc error: code = Unknown desc = failed to pull and unpack image "ghcr.io/monobaselabs/api:v2.15.0": failed to '
     'resolve reference "ghcr.io/monobaselabs/api:v2.15.0": failed to authorize: failed to fetch anonymous token: '
     'unexpected status from GET request to https://ghcr.io/token?scope=repository%3Amonobaselabs%2Fapi%3Apull: '
     '401 Unauthorized', "unauthorized"),
    ('rpc error: code = Unknown desc = failed to pull and unpack image "ghcr.io/monobaselabs/api:v2.15.0": failed to '
     'resolve reference "ghcr.io/monobaselabs/api:v2.15.0": failed to do request: Head '
     '"https://ghcr.io/v2/monobaselabs/api/manifests/v2.15.0": dial tcp: lookup ghcr.io on 169.254.169.254:53: '
     'read udp 10.0.0.5:40212->169.254.169.254:53: i/o timeout', "unreachable"),
    ('rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/library/nginx:1.27": failed to copy: '
     'httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/nginx/manifests/'
     'sha256:aa: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit.',
     "rate-limits"),
])
def test_image_pull_causes(error: str, cause: str) -> None:
    b = platform()
    for p in pods_of(b, "Deployment", "api"):
        image_pull_error(b, p, "ghcr.io/monobaselabs/api:v2.15.0", error)
    report = run(b)
    root = only_root(report, "POD-IMAGE-PULL", "Deployment", "api")
    assert root.severity == "critical"
    assert cause in root.title
    assert has(root.evidence, 'event Warning Failed x7: Failed to pull image "ghcr.io/monobaselabs/api:v2.15.0"')


def test_unauthorized_pull_depends_on_the_pull_secret() -> None:
    b = platform()
    for p in pods_of(b, "Deployment", "api"):
        p["spec"]["imagePullSecrets"] = [{"name": "ghcr-pull"}]
        image_pull_error(b, p, "ghcr.io/monobaselabs/api:v2.15.0", "failed to authorize: 403 Forbidden")
    report = run(b)
    root = only_root(report, "POD-IMAGE-PULL", "Deployment", "api")
    assert ("Secret", NS, "ghcr-pull") in root.depends_on
    assert has(root.evidence, "imagePullSecret mycure-production/ghcr-pull does not exist")


def test_invalid_image_name() -> None:
    b = platform()
    for p in pods_of(b, "Deployment", "api"):
        p["spec"]["containers"][0]["image"] = "ghcr.io/monobaselabs/API:v2.15.0"
        never_started(p, "InvalidImageName", 'Failed to apply default image tag "ghcr.io/monobaselabs/API:v2.15.0": '
                      'couldn\'t parse image name "ghcr.io/monobaselabs/API:v2.15.0": invalid reference format: '
                      'repository name (monobaselabs/API) must be lowercase')
        b.add_event(p, "InspectFailed", 'Failed to apply default image tag "ghcr.io/monobaselabs/API:v2.15.0": '
                    "couldn't parse image name: invalid reference format", "Warning", count=30, field_path=_fp("api"))
    report = run(b)
    root = only_root(report, "POD-IMAGE-PULL", "Deployment", "api")
    assert "malformed" in root.title


# --------------------------------------------------------------------------------------------- config


def test_missing_secret_of_an_external_secret_chains_to_it() -> None:
    b = platform()
    for p in pods_of(b, "Deployment", "api"):
        F.create_container_config_error(b, p)
    report = run(b)
    f = next(f for f in report.findings if f.code == "POD-CONFIG-ERROR")
    assert (f.object.kind, f.object.name) == ("Deployment", "api")
    assert ("Secret", NS, "api-secrets") in f.depends_on
    assert "Secret api-secrets not found" in f.title
    assert has(f.evidence, 'message=secret "api-secrets" not found')
    assert has(f.evidence, "Secret mycure-production/api-secrets does not exist in the snapshot")
    assert has(f.evidence, "ExternalSecret mycure-production/api-secrets is meant to create it")
    roots = serious_roots(report)
    if any(r.object.kind == "ExternalSecret" for r in report.findings):
        # the ExternalSecret finding speaks for the Secret: it is the root, the pods are its symptom
        assert [r.object.kind for r in roots] == ["ExternalSecret"], _dump(report)
        assert f.id in roots[0].causes
    else:
        assert [r.id for r in roots] == [f.id]


def test_missing_plain_secret_is_the_root_when_nothing_manages_it() -> None:
    b = platform()
    w = b.add_deployment(NS, "notifier", API_IMAGE, replicas=1, service=False,
                         env_secrets={"SMTP_PASSWORD": ("smtp-credentials", "password")})
    b.refresh()
    F.create_container_config_error(b, w.pods[0])
    report = run(b)
    root = only_root(report, "POD-CONFIG-ERROR", "Deployment", "notifier")
    assert ("Secret", NS, "smtp-credentials") in root.depends_on


def test_missing_key_names_the_key_and_the_keys_present() -> None:
    b = platform()
    for p in pods_of(b, "Deployment", "api"):
        F.create_container_config_error(b, p, secret="api-secrets", key="JWT_SECRET", missing="key")
    report = run(b)
    f = next(f for f in report.findings if f.code == "POD-CONFIG-ERROR")
    assert ("Secret", NS, "api-secrets") in f.depends_on
    assert "Secret api-secrets has no key JWT_SECRET" in f.title
    assert has(f.evidence, "Secret mycure-production/api-secrets exists with keys [MONGO_URI], no key JWT_SECRET")
    assert len(serious_roots(report)) == 1


def test_missing_configmap() -> None:
    b = platform()
    for p in pods_of(b, "Deployment", "api"):
        config_error(b, p, 'configmap "api-feature-flags" not found')
    report = run(b)
    root = only_root(report, "POD-CONFIG-ERROR", "Deployment", "api")
    assert ("ConfigMap", NS, "api-feature-flags") in root.depends_on


def test_failed_mount_of_a_missing_secret() -> None:
    b = platform()
    b.add_secret(NS, "web-tls", ["tls.crt", "tls.key"])
    w = b.add_deployment(NS, "web", "ghcr.io/monobaselabs/web:2.0.1", replicas=2,
                         volumes=[podlib.secret_volume("tls", "web-tls")],
                         volume_mounts=[{"mountPath": "/etc/tls", "name": "tls", "readOnly": True}])
    b.refresh()
    for p in list(w.pods):
        F.failed_mount(b, p)
    report = run(b)
    root = only_root(report, "POD-VOLUME-MOUNT", "Deployment", "web")
    assert ("Secret", NS, "web-tls") in root.depends_on
    assert "Secret web-tls" in root.title
    assert has(root.evidence, 'event Warning FailedMount x')
    assert has(root.evidence, "volume tls: Secret mycure-production/web-tls does not exist")


def test_kube_root_ca_and_projected_volume_noise_is_ignored() -> None:
    b = platform()
    for p in pods_of(b, "Deployment", "api"):
        vol = next(v["name"] for v in p["spec"]["volumes"] if "projected" in v)
        b.add_event(p, "FailedMount", f'MountVolume.SetUp failed for volume "{vol}" : object "{NS}"/"kube-root-ca.crt" '
                    "not registered", "Warning", count=2)
    report = run(b)
    assert not [f for f in report.findings if f.code.startswith("POD-")], _dump(report)


# --------------------------------------------------------------------------------------------- init containers


def test_init_crashloop() -> None:
    b = platform()
    init = podlib.container("wait-for-mongodb", "docker.io/library/busybox:1.36",
                            command=["sh", "-c", "until nc -z mongodb 27017; do sleep 2; done"])
    w = b.add_deployment(NS, "worker", API_IMAGE, replicas=2, init_containers=[init], service=False)
    b.refresh()
    for p in w.pods:
        ics = p["status"]["initContainerStatuses"][0]
        ics.update({"ready": False, "restartCount": 9, "started": False,
                    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed"}},
                    "lastState": {"terminated": {"exitCode": 2, "reason": "Error", "finishedAt": ts(NOW - timedelta(minutes=2)),
                                                 "startedAt": ts(NOW - timedelta(minutes=2, seconds=5))}}})
        p["status"]["phase"] = "Pending"
        p["status"]["containerStatuses"] = [podlib.waiting_container_status(p["spec"]["containers"][0], "PodInitializing")]
        podlib.set_pod_condition(p, "Initialized", "False", NOW - timedelta(minutes=30), "ContainersNotInitialized",
                                 "containers with incomplete status: [wait-for-mongodb]")
        podlib.refresh_readiness(p, NOW - timedelta(minutes=30))
        b.add_log(p, "wait-for-mongodb", "nc: bad address 'mongodb-primary'\n", previous=True)
    report = run(b)
    root = only_root(report, "POD-INIT-FAILING", "Deployment", "worker")
    assert "init container wait-for-mongodb" in root.title
    assert has(root.evidence, "lastState.terminated.exitCode=2")
    assert has(root.evidence, "bad address")


def test_init_container_waiting_for_a_dependency_is_stuck() -> None:
    b = platform()
    init = podlib.container("wait-for-db", "docker.io/library/busybox:1.36",
                            command=["sh", "-c", "until nc -z postgresql 5432; do sleep 2; done"])
    w = b.add_deployment(NS, "reporter", API_IMAGE, replicas=1, init_containers=[init], service=False)
    b.refresh()
    p = w.pods[0]
    ics = p["status"]["initContainerStatuses"][0]
    ics.update({"ready": False, "started": True, "state": {"running": {"startedAt": ts(NOW - timedelta(minutes=35))}}})
    p["status"]["phase"] = "Pending"
    p["status"]["containerStatuses"] = [podlib.waiting_container_status(p["spec"]["containers"][0], "PodInitializing")]
    podlib.refresh_readiness(p, NOW - timedelta(minutes=35))
    b.add_log(p, "wait-for-db", "nc: postgresql (10.96.1.2:5432): Connection refused\n" * 3)
    report = run(b)
    root = only_root(report, "POD-INIT-STUCK", "Deployment", "reporter")
    assert ("Service", NS, "postgresql") in root.depends_on


# --------------------------------------------------------------------------------------------- probes


def test_readiness_probe_failing() -> None:
    b = platform()
    for p in pods_of(b, "Deployment", "api"):
        F.probe_failure(b, p)
        b.add_log(p, "api", '{"level":50,"msg":"health check failed: MongoServerSelectionError: Server selection '
                  'timed out after 30000 ms","host":"mongodb:27017"}\n')
    report = run(b)
    root = only_root(report, "POD-PROBE-FAILING", "Deployment", "api")
    assert "readiness probe failing: HTTP probe failed with statuscode: 503" in root.title
    assert has(root.evidence, "Readiness probe failed: HTTP probe failed with statuscode: 503")
    assert has(root.evidence, "readinessProbe: http-get http://:http/health")
    assert ("Service", NS, "mongodb") in root.depends_on
    assert any("probe" in (r.description or "") for r in root.remediation)


def test_liveness_probe_kills_are_named() -> None:
    b = platform()
    for p in pods_of(b, "Deployment", "api"):
        F.probe_failure(b, p, probe="liveness")
    report = run(b)
    root = only_root(report, "POD-PROBE-FAILING", "Deployment", "api")
    assert "liveness" in root.title
    assert has(root.evidence, "failed liveness probe, will be restarted")
    assert has(root.evidence, "lastState.terminated.exitCode=137")


def test_readiness_failing_during_startup_is_not_reported() -> None:
    b = platform()
    p = pods_of(b, "Deployment", "api")[0]
    F.probe_failure(b, p, since=timedelta(seconds=40))
    report = run(b)
    assert not [f for f in report.findings if f.code.startswith(("POD-", "WORKLOAD-"))], _dump(report)


# --------------------------------------------------------------------------------------------- evictions, failures


def test_evicted_pod_is_a_symptom_of_node_pressure() -> None:
    b = platform()
    pod = F.evicted(b, pods_of(b, "Deployment", "api")[0])
    report = run(b)
    f = next(f for f in report.findings if f.code == "POD-EVICTED")
    assert (f.object.kind, f.object.name, f.severity) == ("Deployment", "api", "warning")
    assert "low on memory" in f.title
    assert has(f.evidence, "status.reason=Evicted")
    assert ("Node", "", pod["spec"]["nodeName"]) in f.depends_on
    roots = serious_roots(report)
    assert len(roots) == 1 and roots[0].object.kind == "Node", _dump(report)


def test_evicted_pod_without_node_pressure_is_the_root() -> None:
    b = platform()
    F.evicted(b, pods_of(b, "Deployment", "api")[0], with_pressure=False)
    report = run(b)
    root = only_root(report, "POD-EVICTED", "Deployment", "api")
    assert root.severity == "warning"


def test_old_eviction_is_info() -> None:
    b = platform()
    F.evicted(b, pods_of(b, "Deployment", "api", "lfh-staging")[0], with_pressure=False, since=timedelta(hours=5))
    report = run(b)
    f = next(f for f in report.findings if f.code == "POD-EVICTED")
    assert f.severity == "info"
    assert serious_roots(report) == [], _dump(report)


def test_standalone_failed_pod() -> None:
    b = platform()
    pod = add_pod_copy(b, pods_of(b, "Deployment", "api")[0], "debug")
    b.remove(pod)
    pod["metadata"].pop("ownerReferences")
    pod["metadata"]["name"] = "debug-shell"
    b.add(pod)
    pod["spec"]["restartPolicy"] = "Never"
    cs = pod["status"]["containerStatuses"][0]
    cs.update({"ready": False, "started": False, "state": {"terminated": {
        "exitCode": 1, "reason": "Error", "finishedAt": ts(NOW - timedelta(minutes=5)),
        "startedAt": ts(NOW - timedelta(minutes=6))}}})
    pod["status"]["phase"] = "Failed"
    podlib.refresh_readiness(pod, NOW - timedelta(minutes=5))
    b.add_log(pod, "api", "2026-11-26T09:54:59Z FATAL cannot open /data/seed.json: no such file or directory\n")
    report = run(b)
    root = only_root(report, "POD-FAILED", "Pod", "debug-shell")
    assert root.subjects == [("Pod", NS, "debug-shell")]
    assert has(root.evidence, "state.terminated.exitCode=1 reason=Error")
    assert has(root.evidence, "cannot open /data/seed.json")


def test_completed_job_pods_and_failed_pods_of_a_job_that_later_succeeded_are_not_failures() -> None:
    b = platform()
    job = b.workload("Job", NS, "api-migrate-7")
    ok = job.pods[0]
    failed = add_pod_copy(b, ok, "first-try")
    cs = failed["status"]["containerStatuses"][0]
    cs["state"] = {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ts(NOW - timedelta(hours=3, minutes=1)),
                                  "startedAt": ts(NOW - timedelta(hours=3, minutes=2))}}
    failed["status"]["phase"] = "Failed"
    job.job["status"]["failed"] = 1
    report = run(b)
    assert serious_roots(report) == [], _dump(report)
    assert not [f for f in report.findings if f.code.startswith(("POD-", "JOB-"))]


# --------------------------------------------------------------------------------------------- scheduling


def test_unschedulable_insufficient_memory_is_decoded() -> None:
    b = platform()
    b.add_namespace("batch")  # no ResourceQuota there: admission lets the pod in, the scheduler cannot place it
    w = b.add_deployment("batch", "reports", API_IMAGE, replicas=1, service=False)
    b.refresh()
    F.unschedulable(b, w.pods[0], request="64Gi")
    report = run(b)
    root = only_root(report, "POD-UNSCHEDULABLE", "Deployment", "reports", namespace="batch")
    assert has(root.evidence, "cause: 3 node(s) lack free memory for the pod's requests (memory request 64Gi)")
    assert has(root.evidence, "cause: 1 node(s) have the taint {node-role.kubernetes.io/control-plane: }")
    assert has(root.evidence, "condition PodScheduled=False reason=Unschedulable")
    assert "lack free memory" in root.title.split(";")[0]


def test_unschedulable_on_unbound_claim_is_explained_by_the_claim() -> None:
    b = platform()
    F.pvc_pending(b, b.workload("StatefulSet", NS, "mongodb"))
    report = run(b)
    f = next(f for f in report.findings if f.code == "POD-UNSCHEDULABLE")
    assert (f.object.kind, f.object.name) == ("StatefulSet", "mongodb")
    assert ("PersistentVolumeClaim", NS, "datadir-mongodb-0") in f.depends_on
    assert has(f.evidence, "PersistentVolumeClaim is not bound")
    roots = serious_roots(report)
    assert len(roots) == 1, _dump(report)
    assert roots[0].object.kind == "PersistentVolumeClaim" or roots[0].id == f.id


def test_node_selector_mismatch() -> None:
    b = platform()
    b.add_namespace("batch")
    w = b.add_deployment("batch", "gpu", API_IMAGE, replicas=1, service=False)
    b.refresh()
    w.pods[0]["spec"]["nodeSelector"] = {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    unschedulable(b, w.pods[0], "0/4 nodes are available: 1 node(s) had untolerated taint "
                  "{node-role.kubernetes.io/control-plane: }, 3 node(s) didn't match Pod's node affinity/selector. "
                  "preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.")
    report = run(b)
    root = only_root(report, "POD-UNSCHEDULABLE", "Deployment", "gpu", namespace="batch")
    assert has(root.evidence, "3 node(s) do not match the pod's nodeSelector cloud.google.com/gke-accelerator=nvidia-l4")


def test_just_created_unschedulable_pod_is_not_reported_yet() -> None:
    b = platform()
    b.add_namespace("batch")
    w = b.add_deployment("batch", "burst", API_IMAGE, replicas=1, service=False)
    b.refresh()
    F.unschedulable(b, w.pods[0], resource="cpu", since=timedelta(seconds=30))
    w.pods[0]["metadata"]["creationTimestamp"] = ts(NOW - timedelta(seconds=31))
    report = run(b)
    assert not codes(report, "POD-UNSCHEDULABLE")


def test_daemonset_pod_pending_for_a_node_being_removed_is_ignored() -> None:
    b = platform()
    node = b.require("Node", None, "k8s-worker-2")
    node["spec"]["unschedulable"] = True
    node["spec"].setdefault("taints", []).append({"effect": "NoSchedule", "key": "ToBeDeletedByClusterAutoscaler",
                                                  "value": "1764150000"})
    ds_pods = pods_of(b, "DaemonSet", "kube-prometheus-node-exporter", "monitoring")
    pod = next(p for p in ds_pods if p["spec"]["nodeName"] == "k8s-worker-2")
    unschedulable(b, pod, "0/4 nodes are available: 1 node(s) were unschedulable, 3 node(s) didn't match Pod's node "
                  "affinity/selector. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.")
    report = run(b)
    assert not [f for f in report.findings if f.code.startswith(("POD-", "WORKLOAD-"))], _dump(report)


# --------------------------------------------------------------------------------------------- nodes, termination


def test_pods_on_a_not_ready_node_depend_on_the_node() -> None:
    b = platform()
    F.node_not_ready(b, b.require("Node", None, "k8s-worker-2"))
    report = run(b)
    lost = [f for f in report.findings if f.code == "POD-NODE-LOST"]
    assert lost and all(("Node", "", "k8s-worker-2") in f.depends_on for f in lost)
    assert all(not f.root_cause for f in lost)
    roots = serious_roots(report)
    assert [f.object.name for f in roots] == ["k8s-worker-2"], _dump(report)


def test_pod_stuck_terminating() -> None:
    b = platform()
    pod = pods_of(b, "StatefulSet", "redis")[0]
    pod["metadata"]["deletionTimestamp"] = ts(NOW - timedelta(minutes=42))
    pod["metadata"]["deletionGracePeriodSeconds"] = 30
    pod["metadata"]["finalizers"] = ["backup.example.com/snapshot"]
    report = run(b)
    root = only_root(report, "POD-TERMINATING-STUCK", "StatefulSet", "redis")
    assert has(root.evidence, "metadata.finalizers=['backup.example.com/snapshot']")
    assert any(r.safety == "destructive" and "--force" in (r.command or "") for r in root.remediation)


def test_recently_deleted_pod_is_not_stuck() -> None:
    b = platform()
    pod = pods_of(b, "Deployment", "api")[0]
    pod["metadata"]["deletionTimestamp"] = ts(NOW + timedelta(seconds=20))
    pod["metadata"]["deletionGracePeriodSeconds"] = 30
    report = run(b)
    assert not [f for f in report.findings if f.code.startswith("POD-")]


# --------------------------------------------------------------------------------------------- scale


def test_ten_thousand_pods_group_per_controller() -> None:
    """1,000 crash-looping pods of one Deployment are one finding speaking for all of them (speed: benchmarks/)."""
    from sre_expert.checks.pods import pod_health
    from sre_expert.core.snapshot import Snapshot, SnapshotInfo

    b = platform()
    template = pods_of(b, "Deployment", "api")[0]
    objs: list[Obj] = []
    for i in range(10_000):
        p = copy.deepcopy(template)
        p["metadata"]["name"] = f"api-{i}"
        p["metadata"]["uid"] = f"u-{i}"
        if i % 10 == 0:
            cs = p["status"]["containerStatuses"][0]
            cs.update({"ready": False, "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                       "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                                                    "finishedAt": ts(NOW - timedelta(minutes=3))}}})
        objs.append(p)
        for r in ("Pulled", "Created", "BackOff"):
            objs.append({"apiVersion": "v1", "kind": "Event", "metadata": {"name": f"api-{i}.{r}", "namespace": NS},
                         "involvedObject": {"kind": "Pod", "namespace": NS, "name": f"api-{i}"}, "reason": r,
                         "type": "Warning" if r == "BackOff" else "Normal", "message": r,
                         "lastTimestamp": ts(NOW - timedelta(minutes=5))})
    objs += [o for o in b.objects if o["kind"] in ("Node", "ReplicaSet", "Deployment")]
    snap = Snapshot(objs, SnapshotInfo(captured_at=NOW))
    found = [f for f in pod_health(snap) if f.code == "POD-CRASHLOOP"]
    assert len(found) == 1
    assert len([k for k in found[0].subjects if k[0] == "Pod"]) == 1000


# --------------------------------------------------------------------------------------------- more states


def test_multi_attach_is_explained_by_the_claim() -> None:
    b = platform()
    w = b.workload("StatefulSet", NS, "mongodb")
    pod, pv = w.pods[0], w.pvcs[0]["spec"]["volumeName"]
    never_started(pod, "ContainerCreating", None)
    b.add_event(pod, "FailedAttachVolume", f'Multi-Attach error for volume "{pv}" Volume is already exclusively '
                "attached to one node and can't be attached to another", "Warning", 12)
    b.add_event(pod, "FailedMount", "Unable to attach or mount volumes: unmounted volumes=[datadir], unattached "
                "volumes=[datadir empty-dir]: timed out waiting for the condition", "Warning", 5)
    report = run(b)
    f = next(f for f in report.findings if f.code == "POD-VOLUME-MOUNT")
    assert "Multi-Attach" in f.title
    assert ("PersistentVolumeClaim", NS, "datadir-mongodb-0") in f.depends_on
    roots = serious_roots(report)
    assert len(roots) == 1 and (roots[0].id == f.id or roots[0].object.kind == "PersistentVolumeClaim"), _dump(report)


def test_sandbox_failure_leaves_the_pod_stuck_creating() -> None:
    b = platform()
    for p in pods_of(b, "Deployment", "api"):
        never_started(p, "ContainerCreating", None)
        b.add_event(p, "FailedCreatePodSandBox", 'Failed to create pod sandbox: rpc error: code = Unknown desc = failed '
                    'to setup network for sandbox "4f1c": plugin type="cilium-cni" failed (add): unable to connect to '
                    "Cilium daemon: failed to create cilium agent client after 30.000000 seconds timeout",
                    "Warning", 25)
    report = run(b)
    root = only_root(report, "POD-STUCK-CREATING", "Deployment", "api")
    assert "sandbox" in root.title
    assert has(root.evidence, "FailedCreatePodSandBox")


def test_container_flapping_while_ready_is_a_crashloop_warning() -> None:
    b = platform()
    for p in pods_of(b, "Deployment", "api"):
        healthy_restart(p, restarts=9, ago=timedelta(minutes=4), exit_code=2)
    report = run(b)
    root = only_root(report, "POD-CRASHLOOP", "Deployment", "api")
    assert root.severity == "warning"
    assert "9 restarts" in root.title


def test_a_pod_refusing_its_own_service_links_nothing() -> None:
    b = platform()
    for p in pods_of(b, "Deployment", "api"):
        F.crashloop(b, p, previous_log="Error: connect ECONNREFUSED api.mycure-production.svc:8080\n")
    report = run(b)
    root = only_root(report, "POD-CRASHLOOP", "Deployment", "api")
    assert not [d for d in root.depends_on if d[0] == "Service"]


def test_standalone_pod_past_its_active_deadline() -> None:
    b = platform()
    pod = add_pod_copy(b, pods_of(b, "Deployment", "api")[0], "debug")
    b.remove(pod)
    pod["metadata"].pop("ownerReferences")
    pod["metadata"]["name"] = "db-export"
    b.add(pod)
    pod["spec"].update({"restartPolicy": "Never", "activeDeadlineSeconds": 600})
    cs = pod["status"]["containerStatuses"][0]
    cs.update({"ready": False, "started": False, "state": {"terminated": {
        "exitCode": 137, "reason": "Error", "finishedAt": ts(NOW - timedelta(minutes=20)),
        "startedAt": ts(NOW - timedelta(minutes=30))}}})
    pod["status"].update({"phase": "Failed", "reason": "DeadlineExceeded",
                          "message": "Pod was active on the node longer than the specified deadline"})
    podlib.refresh_readiness(pod, NOW - timedelta(minutes=20))
    report = run(b)
    root = only_root(report, "POD-FAILED", "Pod", "db-export")
    assert "activeDeadlineSeconds=600" in root.title
    assert has(root.evidence, "status.reason=DeadlineExceeded")


@given(st.text(alphabet=st.sampled_from(list("ErRoFaTLxyz :/.-_0123456789oOmMiIsSnNgGhHtTdDuUkKcCbBéİK")), max_size=60)
       | st.sampled_from(["Connection REFUSED", "FATAL: x", "No Such Host", "OOMKilled", "EXIT 1", "Timed Out"]))
def test_fast_log_matching_agrees_with_the_case_insensitive_patterns(line: str) -> None:
    from sre_expert.checks import logscan

    assert logscan._telling(line) == bool(logscan.TELLING.search(line))
    assert logscan._connect_error(line) == bool(logscan.CONNECT_ERROR.search(line))
