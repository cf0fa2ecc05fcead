"""Faults injected into a built platform, with the status, events and logs a real cluster shows.

Every function mutates builder objects in place, adds the Warning (and accompanying Normal) events
with the exact message formats of kubelet / kube-scheduler / controllers / operators, writes the
container logs an SRE would read, and ends with `b.refresh()` so owning controllers, endpoints,
quotas, Gateway and Argo CD status agree with the injected state. Each returns the object(s) it
broke so scenarios can assert on them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sre_expert.core import k8s
from sre_expert.core.units import quantity
from synth import pods as podlib
from synth.builder import PlatformBuilder, Workload
from synth.cron import fire_times_before

# ---------------------------------------------------------------- helpers
from synth.fault_helpers import (
    backoff_text,
    container_of,
    drop_logs,
    fit_quota,
    fresh_pending_status,
    kubelet_event,
    pod_desc,
    require_deployment,
    rollout,
    set_waiting,
    target_pod,
)
from synth.faults_nodes import (
    evicted,
    node_not_ready,
    node_pressure,
    pvc_pending,
    scheduler_message,
    unschedulable,
)
from synth.faults_platform import (
    backup_failed,
    bsl_outage,
    bsl_unavailable,
    certificate_not_ready,
    external_secret_failed,
    listener_certificate_lost,
    route_not_accepted,
    secret_store_invalid,
)
from synth.logs import crash_log, probe_log
from synth.meta import (
    bump,
    condition,
    fmt_bytes,
    fmt_cpu,
    number,
    owner_reference,
    parse_ts,
    safe_suffix,
    set_condition,
    ts,
)
from synth.workloads import cron_job_name, fail_job
from synth.workloads import job as make_job

__all__ = [
    "FAULTS",
    "backup_failed",
    "bsl_unavailable",
    "certificate_not_ready",
    "crashloop",
    "create_container_config_error",
    "deployment_progress_deadline",
    "evicted",
    "external_secret_failed",
    "failed_mount",
    "fit_quota",
    "image_pull_backoff",
    "job_failed",
    "node_not_ready",
    "node_pressure",
    "oomkilled",
    "probe_failure",
    "pvc_pending",
    "quota_exceeded",
    "rollout",
    "route_not_accepted",
    "scheduler_message",
    "secret_store_invalid",
    "unschedulable",
    "webhook_denied",
]


def crashloop(
    b: PlatformBuilder,
    pod: dict[str, Any],
    container: str | None = None,
    *,
    exit_code: int = 1,
    reason: str = "Error",
    previous_log: str | None = None,
    restarts: int = 7,
    since: timedelta = timedelta(minutes=18),
    message: str | None = None,
) -> dict[str, Any]:
    """Container keeps exiting: CrashLoopBackOff with lastState.terminated, BackOff events, crash logs."""
    c = container_of(pod, container)
    cname = c["name"]
    cs = podlib.container_status(pod, cname)
    uid = pod["metadata"]["uid"]
    finished = b.now - timedelta(seconds=number("fin", uid, lo=20, hi=120))
    started = finished - timedelta(seconds=number("run", uid, lo=1, hi=8) if reason != "OOMKilled" else 45)
    last_id = podlib.container_id(uid, cname, restarts)
    terminated: dict[str, Any] = {"containerID": last_id, "exitCode": exit_code, "finishedAt": ts(finished)}
    if message:
        terminated["message"] = message
    terminated.update({"reason": reason, "startedAt": ts(started)})
    cs.update(
        {
            "containerID": last_id,
            "lastState": {"terminated": terminated},
            "ready": False,
            "restartCount": restarts,
            "started": False,
            "state": {
                "waiting": {
                    "message": f"back-off {backoff_text(restarts)} restarting failed container={cname} "
                    f"pod={pod_desc(pod)}",
                    "reason": "CrashLoopBackOff",
                }
            },
        }
    )
    pod["status"]["phase"] = "Running"
    first = b.now - since
    podlib.refresh_readiness(pod, first)
    text = previous_log or crash_log(c["image"], started, "oom" if reason == "OOMKilled" else "error")
    b.add_log(pod, cname, text, previous=True)
    b.add_log(pod, cname, text)
    kubelet_event(
        b,
        pod,
        "Pulled",
        f'Container image "{c["image"]}" already present on machine',
        "Normal",
        restarts + 1,
        first,
        cname,
    )
    kubelet_event(b, pod, "Created", f"Created container: {cname}", "Normal", restarts + 1, first, cname)
    kubelet_event(b, pod, "Started", f"Started container {cname}", "Normal", restarts + 1, first, cname)
    kubelet_event(
        b,
        pod,
        "BackOff",
        f"Back-off restarting failed container {cname} in pod {pod_desc(pod)}",
        "Warning",
        restarts * 4 + number("bo", uid, hi=9),
        first + timedelta(seconds=30),
        cname,
    )
    b.refresh()
    return pod


def oomkilled(
    b: PlatformBuilder,
    pod: dict[str, Any],
    container: str | None = None,
    *,
    restarts: int = 4,
    since: timedelta = timedelta(minutes=25),
    memory_limit: str | None = None,
) -> dict[str, Any]:
    """Container killed by the kernel OOM killer (exit 137, reason OOMKilled), now in CrashLoopBackOff."""
    c = container_of(pod, container)
    if memory_limit:
        c["resources"].setdefault("limits", {})["memory"] = memory_limit
        fit_quota(b, pod["metadata"]["namespace"])
    return crashloop(b, pod, c["name"], exit_code=137, reason="OOMKilled", restarts=restarts, since=since)


def _pull_error(ref: str) -> str:
    return (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": failed to resolve reference '
        f'"{ref}": {ref}: not found'
    )


def image_pull_backoff(
    b: PlatformBuilder,
    target: dict[str, Any] | Workload,
    image: str | None = None,
    *,
    container: str | None = None,
    since: timedelta = timedelta(minutes=20),
) -> dict[str, Any]:
    """Image tag that does not exist. A Deployment workload gets a rollout to the bad image (old pods keep
    serving); a pod is switched in place. Returns the pod stuck in ImagePullBackOff."""
    chosen: dict[str, str] = {}

    def mutate(tmpl: dict[str, Any]) -> None:
        c = container_of({"metadata": {"name": "template"}, "spec": tmpl["spec"]}, container)
        repo = c["image"].rsplit(":", 1)[0] if ":" in c["image"].rsplit("/", 1)[-1] else c["image"]
        c["image"] = image or f"{repo}:v9.9.9"
        chosen["image"], chosen["name"] = c["image"], c["name"]

    pod = target_pod(b, target, mutate, since)
    cname, bad = chosen["name"], chosen["image"]
    ref = podlib.normalize_image(bad)
    first = b.now - since
    drop_logs(b, pod)
    if isinstance(target, Workload):
        fresh_pending_status(
            pod,
            first,
            "ImagePullBackOff",
            f'Back-off pulling image "{bad}": ErrImagePull: {_pull_error(ref)}',
        )
    else:
        set_waiting(
            pod,
            cname,
            "ImagePullBackOff",
            f'Back-off pulling image "{bad}": ErrImagePull: {_pull_error(ref)}',
            first,
        )
    n = 5 + number("pulls", pod["metadata"]["uid"], hi=4)
    kubelet_event(
        b, pod, "Pulling", f'Pulling image "{bad}"', "Normal", n, first + timedelta(seconds=2), cname
    )
    kubelet_event(
        b,
        pod,
        "Failed",
        f'Failed to pull image "{bad}": {_pull_error(ref)}',
        "Warning",
        n,
        first + timedelta(seconds=3),
        cname,
    )
    kubelet_event(b, pod, "Failed", "Error: ErrImagePull", "Warning", n, first + timedelta(seconds=3), cname)
    kubelet_event(
        b,
        pod,
        "BackOff",
        f'Back-off pulling image "{bad}"',
        "Normal",
        n * 14,
        first + timedelta(seconds=4),
        cname,
    )
    kubelet_event(
        b, pod, "Failed", "Error: ImagePullBackOff", "Warning", n * 14, first + timedelta(seconds=4), cname
    )
    b.refresh()
    return pod


def _first_secret_ref(pod: dict[str, Any], cname: str) -> tuple[str, str]:
    for e in container_of(pod, cname).get("env", []):
        ref = e.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            return ref["name"], ref["key"]
    raise ValueError(f"container {cname} of {pod['metadata']['name']} has no secretKeyRef env")


def create_container_config_error(
    b: PlatformBuilder,
    pod: dict[str, Any],
    container: str | None = None,
    *,
    secret: str | None = None,
    key: str | None = None,
    missing: str = "secret",
    since: timedelta = timedelta(minutes=15),
    remove: bool = True,
) -> dict[str, Any]:
    """Env var from a Secret that is gone (missing="secret") or lacks the key (missing="key").

    With remove=True the Secret (or key) is really deleted from the builder, as it would be in the cluster."""
    c = container_of(pod, container)
    cname = c["name"]
    ns = pod["metadata"]["namespace"]
    if secret is None or key is None:
        s_name, s_key = _first_secret_ref(pod, cname)
        secret, key = secret or s_name, key or s_key
    if missing == "secret":
        msg = f'secret "{secret}" not found'
        obj = b.get("Secret", ns, secret)
        if remove and obj is not None:
            b.remove(obj)
    elif missing == "key":
        msg = f"couldn't find key {key} in Secret {ns}/{secret}"
        obj = b.get("Secret", ns, secret)
        if remove and obj is not None:
            obj.get("data", {}).pop(key, None)
            bump(obj)
    else:
        raise ValueError("missing must be 'secret' or 'key'")
    first = b.now - since
    drop_logs(b, pod, cname)
    set_waiting(pod, cname, "CreateContainerConfigError", msg, first)
    n = 60 + number("ccce", pod["metadata"]["uid"], hi=20)
    kubelet_event(
        b,
        pod,
        "Pulled",
        f'Container image "{c["image"]}" already present on machine',
        "Normal",
        n,
        first,
        cname,
    )
    kubelet_event(b, pod, "Failed", f"Error: {msg}", "Warning", n, first, cname)
    b.refresh()
    return pod


def failed_mount(
    b: PlatformBuilder,
    pod: dict[str, Any],
    volume: str | None = None,
    *,
    since: timedelta = timedelta(minutes=12),
    remove: bool = True,
) -> dict[str, Any]:
    """A secret/configMap volume whose source is missing: ContainerCreating forever, FailedMount events."""
    vols = [
        v
        for v in pod["spec"].get("volumes", [])
        if ("secret" in v or "configMap" in v) and (volume is None or v["name"] == volume)
    ]
    if not vols:
        raise ValueError(f"pod {pod['metadata']['name']} has no secret/configMap volume {volume or ''}")
    v = vols[0]
    ns = pod["metadata"]["namespace"]
    if "secret" in v:
        kind, src = "Secret", v["secret"]["secretName"]
        what = f'secret "{src}" not found'
    else:
        kind, src = "ConfigMap", v["configMap"]["name"]
        what = f'configmap "{src}" not found'
    if remove and b.get(kind, ns, src) is not None:
        b.remove(b.require(kind, ns, src))
    first = b.now - since
    drop_logs(b, pod)
    fresh_pending_status(
        pod, parse_ts(pod["metadata"]["creationTimestamp"]), "ContainerCreating", None, sandbox_ready=False
    )
    pod["status"]["conditions"][0]["lastTransitionTime"] = ts(first)
    n = 8 + number("fm", pod["metadata"]["uid"], hi=6)
    kubelet_event(
        b,
        pod,
        "FailedMount",
        f'MountVolume.SetUp failed for volume "{v["name"]}" : {what}',
        "Warning",
        n,
        first,
    )
    b.refresh()
    return pod


# ---------------------------------------------------------------- scheduling and storage


def probe_failure(
    b: PlatformBuilder,
    pod: dict[str, Any],
    container: str | None = None,
    *,
    probe: str = "readiness",
    status_code: int = 503,
    since: timedelta = timedelta(minutes=10),
    output: str | None = None,
) -> dict[str, Any]:
    """Readiness (pod NotReady, out of endpoints) or liveness (restarts) probe failing, with Unhealthy events."""
    c = container_of(pod, container)
    cname = c["name"]
    spec_probe = c.get(f"{probe}Probe") or c.get("readinessProbe") or c.get("livenessProbe")
    if spec_probe is None:
        raise ValueError(f"container {cname} has no {probe} probe")
    if "httpGet" in spec_probe:
        detail = f"HTTP probe failed with statuscode: {status_code}"
    elif "tcpSocket" in spec_probe:
        port = spec_probe["tcpSocket"]["port"]
        detail = f"dial tcp {pod['status'].get('podIP')}:{port}: connect: connection refused"
    else:
        detail = output or "command timed out"
    label = probe.capitalize()
    first = b.now - since
    cs = podlib.container_status(pod, cname)
    period = spec_probe.get("periodSeconds", 10)
    n = max(3, int(since.total_seconds() // period))
    if probe == "liveness":
        restarts = max(1, n // (spec_probe.get("failureThreshold", 3) * 3))
        last_start = b.now - timedelta(seconds=number("ls", pod["metadata"]["uid"], lo=30, hi=90))
        prev_end = last_start - timedelta(seconds=1)
        cs.update(
            {
                "lastState": {
                    "terminated": {
                        "containerID": podlib.container_id(pod["metadata"]["uid"], cname, restarts - 1),
                        "exitCode": 137,
                        "finishedAt": ts(prev_end),
                        "reason": "Error",
                        "startedAt": ts(prev_end - timedelta(minutes=3)),
                    }
                },
                "containerID": podlib.container_id(pod["metadata"]["uid"], cname, restarts),
                "ready": False,
                "restartCount": cs["restartCount"] + restarts,
                "state": {"running": {"startedAt": ts(last_start)}},
            }
        )
        b.add_event(
            pod,
            "Killing",
            f"Container {cname} failed liveness probe, will be restarted",
            "Normal",
            restarts,
            first=first,
            component="kubelet",
            field_path=f"spec.containers{{{cname}}}",
        )
        b.add_log(
            pod,
            cname,
            b.logs.get((pod["metadata"]["namespace"], pod["metadata"]["name"], cname, False), ""),
            previous=True,
        )
    else:
        cs["ready"] = False
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"], cname, False)
        b.logs[key] = b.logs.get(key, "") + probe_log(c["image"], first, b.now, status_code)
    podlib.refresh_readiness(pod, first)
    kubelet_event(b, pod, "Unhealthy", f"{label} probe failed: {detail}", "Warning", n, first, cname)
    b.refresh()
    return pod


# ---------------------------------------------------------------- controllers that cannot create pods


def _replica_failure(
    b: PlatformBuilder, w: Workload, rs: dict[str, Any], message: str, since: timedelta, count: int
) -> None:
    first = b.now - since
    cond = condition("ReplicaFailure", "True", "FailedCreate", message, first)
    set_condition(rs, cond)
    set_condition(
        w.deployment, condition("ReplicaFailure", "True", "FailedCreate", message, first, update=first)
    )
    b.add_event(
        rs,
        "FailedCreate",
        f"Error creating: {message}",
        "Warning",
        count,
        first=first,
        component="replicaset-controller",
    )


def quota_exceeded(
    b: PlatformBuilder,
    w: Workload,
    *,
    quota: str = "compute-quota",
    resource: str = "limits.memory",
    extra_replicas: int = 1,
    since: timedelta = timedelta(minutes=14),
) -> dict[str, Any]:
    """Scale-up blocked by ResourceQuota: ReplicaFailure/FailedCreate with the quota admission message.

    The quota's hard limit is set to used + half a pod's request, so used + requested > hard as in the message."""
    require_deployment(w)
    q = b.require("ResourceQuota", w.namespace, quota)
    dep, rs = w.deployment, w.replicaset
    c = rs["spec"]["template"]["spec"]["containers"][0]
    kind, res = resource.split(".")
    requested = quantity(c["resources"].get(kind, {}).get(res) or c["resources"]["requests"][res])
    b.refresh_quotas()
    used = quantity(q["status"]["used"][resource])
    fmt = fmt_cpu if res == "cpu" else fmt_bytes
    limited = used + (requested // 2 if res != "cpu" else round(requested / 2, 3))
    q["spec"]["hard"][resource] = fmt(limited)
    bump(q, generation=False)
    new_total = dep["spec"]["replicas"] + extra_replicas
    dep["spec"]["replicas"] = new_total
    bump(dep, generation=True)
    rs["spec"]["replicas"] = new_total
    rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] = str(new_total)
    bump(rs, generation=True)
    if w.hpa:
        w.hpa["status"]["desiredReplicas"] = new_total
        w.hpa["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"] = 94
        set_condition(
            w.hpa,
            condition(
                "AbleToScale",
                "True",
                "SucceededRescale",
                f"the HPA controller was able to update the target scale to {new_total}",
                b.now - since,
            ),
        )
    pod_name = f"{rs['metadata']['name']}-{safe_suffix('quota', rs['metadata']['uid'])}"
    message = (
        f'pods "{pod_name}" is forbidden: exceeded quota: {quota}, requested: {resource}={fmt(requested)}, '
        f"used: {resource}={fmt(used)}, limited: {resource}={fmt(limited)}"
    )
    _replica_failure(b, w, rs, message, since, 12 + number("qe", rs["metadata"]["uid"], hi=10))
    b.add_event(
        dep,
        "ScalingReplicaSet",
        f"Scaled up replica set {rs['metadata']['name']} from {new_total - extra_replicas} to {new_total}",
        first=b.now - since,
        component="deployment-controller",
    )
    b.refresh()
    return rs


def webhook_denied(
    b: PlatformBuilder,
    w: Workload,
    *,
    policy: str = "pod-security",
    rule: str = "restricted",
    since: timedelta = timedelta(minutes=16),
    reason: str | None = None,
) -> dict[str, Any]:
    """Rollout whose new pods Kyverno's enforcing policy rejects: new ReplicaSet stuck at 0 with FailedCreate."""

    def mutate(tmpl: dict[str, Any]) -> None:
        for c in tmpl["spec"]["containers"]:
            c.pop("securityContext", None)
        tmpl["metadata"].setdefault("annotations", {})["checksum/config"] = "debug-" + tmpl["metadata"][
            "labels"
        ].get("app.kubernetes.io/name", "app")

    rollout(b, w, mutate, since=since, new_pods=0)
    rs = w.replicaset
    pod_name = f"{rs['metadata']['name']}-{safe_suffix('deny', rs['metadata']['uid'])}"
    detail = reason or (
        "Validation rule 'restricted' failed. It violates PodSecurity \"restricted:latest\": "
        "(Forbidden reason: allowPrivilegeEscalation != false, field error list: "
        "[spec.containers[0].securityContext.allowPrivilegeEscalation is forbidden, forbidden values "
        "found: nil])(Forbidden reason: unrestricted capabilities, field error list: "
        "[spec.containers[0].securityContext.capabilities.drop: Required value])"
    )
    message = (
        f'admission webhook "validate.kyverno.svc-fail" denied the request: \n\nresource '
        f"Pod/{w.namespace}/{pod_name} was blocked due to the following policies \n\n{policy}:\n  {rule}: "
        f"'{detail}'\n"
    )
    _replica_failure(b, w, rs, message, since, 15 + number("wd", rs["metadata"]["uid"], hi=10))
    pol = b.get("ClusterPolicy", None, policy)
    if pol is not None:
        b.add_event(
            pol,
            "PolicyViolation",
            f"Pod {w.namespace}/{pod_name}: [{rule}] fail (blocked); {detail}",
            "Warning",
            15,
            first=b.now - since,
            component="kyverno-admission",
            reporting_instance="kyverno-admission-controller",
        )
    b.refresh()
    return rs


def deployment_progress_deadline(b: PlatformBuilder, w: Workload) -> dict[str, Any]:
    """Progressing=False/ProgressDeadlineExceeded on a stuck rollout (a bad-image rollout is started if the
    Deployment has none in flight, older than progressDeadlineSeconds)."""
    require_deployment(w)
    dep = w.deployment
    prog = k8s.condition(dep, "Progressing")
    deadline = timedelta(seconds=dep["spec"].get("progressDeadlineSeconds", 600))
    if not prog or prog["reason"] != "ReplicaSetUpdated":
        image_pull_backoff(b, w, since=deadline + timedelta(minutes=9))
        prog = k8s.condition(dep, "Progressing")
    started = parse_ts(prog["lastUpdateTime"])
    when = started + deadline
    rs = w.replicaset["metadata"]["name"]
    set_condition(
        dep,
        condition(
            "Progressing",
            "False",
            "ProgressDeadlineExceeded",
            f'ReplicaSet "{rs}" has timed out progressing.',
            when,
            update=when,
        ),
    )
    b.refresh()
    return dep


# ---------------------------------------------------------------- jobs


def job_failed(
    b: PlatformBuilder,
    target: Workload,
    *,
    exit_code: int = 1,
    backoff_limit: int | None = 2,
    log: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """A Job (or a CronJob's newest run) whose pods keep failing until BackoffLimitExceeded."""
    if target.kind == "CronJob":
        cj = target.cronjob
        # the newest run that had time to fail: a run fired at "now" has not failed yet
        fire = at or fire_times_before(cj["spec"]["schedule"], b.now, 1)[0]
        name = cron_job_name(cj["metadata"]["name"], fire)
        existing = b.get("Job", target.namespace, name)
        if existing is not None:
            for p in [
                p
                for p in b.list("Pod", target.namespace)
                if p["metadata"]["ownerReferences"][0]["uid"] == existing["metadata"]["uid"]
            ]:
                b.delete(p)
            b.delete(existing)
            target.jobs = [j for j in target.jobs if j is not existing]
        template = copy.deepcopy(cj["spec"]["jobTemplate"]["spec"]["template"])
        j = b.add(
            make_job(
                target.namespace,
                name,
                template,
                fire,
                owners=[owner_reference(cj)],
                backoff_limit=backoff_limit if backoff_limit is not None else 6,
            )
        )
        target.jobs.append(j)
        ok = [x for x in target.jobs if k8s.condition(x, "Complete")]
        cj["status"] = {"lastScheduleTime": ts(fire)}
        if ok:
            cj["status"]["lastSuccessfulTime"] = ok[-1]["status"]["completionTime"]
        owner_cj = cj
    else:
        j = target.job
        fire = parse_ts(j["metadata"]["creationTimestamp"])
        if backoff_limit is not None:
            j["spec"]["backoffLimit"] = backoff_limit
        for p in [
            p
            for p in b.list("Pod", target.namespace)
            if p["metadata"]["ownerReferences"][0]["uid"] == j["metadata"]["uid"]
        ]:
            b.delete(p)
        b.remove_events(j)
        owner_cj = None
    limit = j["spec"]["backoffLimit"]
    t = fire + timedelta(seconds=1)
    c_name = j["spec"]["template"]["spec"]["containers"][0]["name"]
    image = j["spec"]["template"]["spec"]["containers"][0]["image"]
    for attempt in range(limit + 1):
        pname = f"{j['metadata']['name']}-{safe_suffix('fail', j['metadata']['uid'], attempt)}"
        spec_fit = podlib.pod_spec_for(j["spec"]["template"]["spec"], pname, target.namespace, None)
        pod = b._make_pod(
            name=pname,
            namespace=target.namespace,
            template=j["spec"]["template"],
            owner=j,
            node_name=b._pick_node(spec_fit, None),
            created=t,
            generate_name=f"{j['metadata']['name']}-",
            phase="Succeeded",
            runtime=timedelta(seconds=3),
            emit_events=False,
        )
        cs = pod["status"]["containerStatuses"][0]
        cs["state"]["terminated"].update({"exitCode": exit_code, "reason": "Error"})
        finished = parse_ts(cs["state"]["terminated"]["finishedAt"])
        pod["status"]["phase"] = "Failed"
        for cond in pod["status"]["conditions"]:
            if cond.get("reason") == "PodCompleted":
                cond["reason"] = "PodFailed"
        b.add_log(
            pod, c_name, log or crash_log(image, parse_ts(cs["state"]["terminated"]["startedAt"]), "error")
        )
        b.add_event(j, "SuccessfulCreate", f"Created pod: {pname}", component="job-controller", first=t)
        t = finished + timedelta(seconds=10 * 2**attempt)
    failed_at = t - timedelta(seconds=10 * 2**limit) + timedelta(seconds=1)
    fail_job(j, failed_at, limit + 1)
    b.add_event(
        j,
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
        "Warning",
        first=failed_at,
        component="job-controller",
    )
    if owner_cj is not None:
        b.add_event(
            owner_cj,
            "SawCompletedJob",
            f"Saw completed job: {j['metadata']['name']}, condition: Failed",
            first=failed_at + timedelta(seconds=1),
            component="cronjob-controller",
        )
    b.refresh()
    return j


# ---------------------------------------------------------------- platform components (beyond pods)


FAULTS: dict[str, Callable[..., Any]] = {
    "crashloop": crashloop,
    "oomkilled": oomkilled,
    "image_pull_backoff": image_pull_backoff,
    "create_container_config_error": create_container_config_error,
    "failed_mount": failed_mount,
    "unschedulable": unschedulable,
    "pvc_pending": pvc_pending,
    "node_not_ready": node_not_ready,
    "node_pressure": node_pressure,
    "probe_failure": probe_failure,
    "evicted": evicted,
    "quota_exceeded": quota_exceeded,
    "webhook_denied": webhook_denied,
    "deployment_progress_deadline": deployment_progress_deadline,
    "job_failed": job_failed,
    "external_secret_failed": external_secret_failed,
    "secret_store_invalid": secret_store_invalid,
    "certificate_not_ready": certificate_not_ready,
    "backup_failed": backup_failed,
    "bsl_unavailable": bsl_unavailable,
    "bsl_outage": bsl_outage,
    "listener_certificate_lost": listener_certificate_lost,
    "route_not_accepted": route_not_accepted,
}
"""Name -> function, for generators that pick faults by name."""
