"""Workload controllers (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, HPA) and their status.

Status is never typed in by hand: `refresh_*` derive it from the pods the way each controller
does, so injecting a fault into a pod and refreshing gives counts and conditions that agree.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sre_expert.core.units import quantity
from synth.meta import (
    condition,
    fmt_cpu,
    new_object,
    number,
    owner_reference,
    safe_suffix,
    set_condition,
    ts,
)
from synth.pods import is_ready, is_terminal


def template_hash(template: dict[str, Any], salt: object = "") -> str:
    """pod-template-hash / controller-revision-hash: 8-10 safe characters, stable for a template."""
    raw = json.dumps(template, sort_keys=True)
    return safe_suffix("tmpl", raw, salt, n=number("tlen", raw, salt, lo=8, hi=11))


def _parse_percent(value: int | str, total: int, round_up: bool) -> int:
    if isinstance(value, int):
        return value
    pct = int(value.rstrip("%"))
    x = total * pct / 100
    return math.ceil(x) if round_up else math.floor(x)


def max_surge_unavailable(dep: dict[str, Any]) -> tuple[int, int]:
    replicas = dep["spec"].get("replicas", 1)
    if dep["spec"].get("strategy", {}).get("type") == "Recreate":
        return 0, 0
    ru = dep["spec"].get("strategy", {}).get("rollingUpdate") or {}
    surge = _parse_percent(ru.get("maxSurge", "25%"), replicas, True)
    unavailable = _parse_percent(ru.get("maxUnavailable", "25%"), replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _with_template_label(template: dict[str, Any], key: str, value: str) -> dict[str, Any]:
    t = copy.deepcopy(template)
    t["metadata"]["labels"][key] = value
    return t


# ---------------------------------------------------------------- Deployment / ReplicaSet


def deployment(
    namespace_: str,
    name: str,
    template: dict[str, Any],
    replicas: int,
    created: datetime,
    *,
    selector: Mapping[str, str],
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    revision: int = 1,
    strategy: dict[str, Any] | None = None,
    owners: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    obj = new_object(
        "Deployment",
        name,
        namespace_,
        created,
        labels=labels,
        generation=revision,
        annotations={"deployment.kubernetes.io/revision": str(revision), **(annotations or {})},
        owners=owners or [],
    )
    obj["spec"] = {
        "progressDeadlineSeconds": 600,
        "replicas": replicas,
        "revisionHistoryLimit": 10,
        "selector": {"matchLabels": dict(selector)},
        "strategy": strategy
        or {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
        "template": template,
    }
    obj["status"] = {"observedGeneration": revision}
    return obj


def replicaset(
    dep: dict[str, Any],
    revision: int,
    created: datetime,
    replicas: int,
    template: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """ReplicaSet for one revision of a Deployment; its name carries the pod-template-hash."""
    dmd = dep["metadata"]
    tmpl = template if template is not None else dep["spec"]["template"]
    h = template_hash(tmpl, f"{dmd['namespace']}/{dmd['name']}")
    surge, _ = max_surge_unavailable(dep)
    labels = {**tmpl["metadata"]["labels"], "pod-template-hash": h}
    obj = new_object(
        "ReplicaSet",
        f"{dmd['name']}-{h}",
        dmd["namespace"],
        created,
        labels=labels,
        owners=[owner_reference(dep)],
        generation=1 if replicas else 2,
        annotations={
            "deployment.kubernetes.io/desired-replicas": str(dep["spec"]["replicas"]),
            "deployment.kubernetes.io/max-replicas": str(dep["spec"]["replicas"] + surge),
            "deployment.kubernetes.io/revision": str(revision),
        },
    )
    obj["spec"] = {
        "replicas": replicas,
        "selector": {"matchLabels": {**dep["spec"]["selector"]["matchLabels"], "pod-template-hash": h}},
        "template": _with_template_label(tmpl, "pod-template-hash", h),
    }
    obj["status"] = {"observedGeneration": obj["metadata"]["generation"], "replicas": 0}
    return obj


def refresh_replicaset(rs: dict[str, Any], pods: Iterable[dict[str, Any]]) -> None:
    live = [p for p in pods if not is_terminal(p) and not p["metadata"].get("deletionTimestamp")]
    ready = sum(1 for p in live if is_ready(p))
    status: dict[str, Any] = {}
    if ready:
        status["availableReplicas"] = ready
    if rs.get("status", {}).get("conditions"):
        status["conditions"] = rs["status"]["conditions"]
    if live:
        status["fullyLabeledReplicas"] = len(live)
    status["observedGeneration"] = rs["metadata"]["generation"]
    if ready:
        status["readyReplicas"] = ready
    status["replicas"] = len(live)
    rs["status"] = status


def refresh_deployment(dep: dict[str, Any], replicasets: list[dict[str, Any]], now: datetime) -> None:
    """Deployment status from its ReplicaSets; replicasets[0] is the newest (current revision)."""
    desired = dep["spec"]["replicas"]
    _, max_unavailable = max_surge_unavailable(dep)
    total = sum(rs["status"].get("replicas", 0) for rs in replicasets)
    ready = sum(rs["status"].get("readyReplicas", 0) for rs in replicasets)
    available = sum(rs["status"].get("availableReplicas", 0) for rs in replicasets)
    updated = replicasets[0]["status"].get("replicas", 0) if replicasets else 0
    status = dep.setdefault("status", {})
    for key in ("availableReplicas", "readyReplicas", "replicas", "unavailableReplicas", "updatedReplicas"):
        status.pop(key, None)
    if available:
        status["availableReplicas"] = available
    status["observedGeneration"] = dep["metadata"]["generation"]
    if ready:
        status["readyReplicas"] = ready
    if total:
        status["replicas"] = total
    if max(desired, total) - available > 0:
        status["unavailableReplicas"] = max(desired, total) - available
    if updated:
        status["updatedReplicas"] = updated
    ok = available >= desired - max_unavailable
    prev = next((c for c in status.get("conditions", []) if c["type"] == "Available"), None)
    want = "True" if ok else "False"
    if prev is None or prev["status"] != want:
        created = datetime.fromisoformat(dep["metadata"]["creationTimestamp"])
        when = (
            now
            if prev is not None
            else created + timedelta(seconds=number("avail", dep["metadata"]["uid"], lo=5, hi=40))
        )
        set_condition(
            dep,
            condition(
                "Available",
                want,
                "MinimumReplicasAvailable" if ok else "MinimumReplicasUnavailable",
                "Deployment has minimum availability."
                if ok
                else "Deployment does not have minimum availability.",
                when,
                update=when,
            ),
        )
    conds = status.get("conditions", [])
    conds.sort(key=lambda c: {"Available": 0, "Progressing": 1, "ReplicaFailure": 2}.get(c["type"], 3))


def progressing_condition(rs_name: str, when: datetime, updated: datetime | None = None) -> dict[str, Any]:
    return condition(
        "Progressing",
        "True",
        "NewReplicaSetAvailable",
        f'ReplicaSet "{rs_name}" has successfully progressed.',
        when,
        update=updated or when,
    )


# ---------------------------------------------------------------- StatefulSet


def statefulset(
    namespace_: str,
    name: str,
    template: dict[str, Any],
    replicas: int,
    created: datetime,
    *,
    selector: Mapping[str, str],
    service_name: str,
    labels: Mapping[str, str] | None = None,
    volume_claim_templates: list[dict[str, Any]] | None = None,
    pod_management: str = "OrderedReady",
    annotations: Mapping[str, str] | None = None,
    owners: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    obj = new_object(
        "StatefulSet", name, namespace_, created, labels=labels, annotations=annotations, owners=owners or []
    )
    spec: dict[str, Any] = {
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
        "podManagementPolicy": pod_management,
        "replicas": replicas,
        "revisionHistoryLimit": 10,
        "selector": {"matchLabels": dict(selector)},
        "serviceName": service_name,
        "template": template,
        "updateStrategy": {"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"},
    }
    if volume_claim_templates:
        spec["volumeClaimTemplates"] = volume_claim_templates
    obj["spec"] = spec
    revision = f"{name}-{template_hash(template, f'{namespace_}/{name}')}"
    obj["status"] = {
        "availableReplicas": 0,
        "collisionCount": 0,
        "currentRevision": revision,
        "observedGeneration": 1,
        "replicas": 0,
        "updateRevision": revision,
    }
    return obj


def volume_claim_template(
    name: str, size: str, storage_class_name: str | None = "longhorn", labels: Mapping[str, str] | None = None
) -> dict[str, Any]:
    md: dict[str, Any] = {"creationTimestamp": None, "name": name}
    if labels:
        md["labels"] = dict(labels)
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if storage_class_name:
        spec["storageClassName"] = storage_class_name
    spec["volumeMode"] = "Filesystem"
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": md,
        "spec": spec,
        "status": {"phase": "Pending"},
    }


def refresh_statefulset(sts: dict[str, Any], pods: Iterable[dict[str, Any]]) -> None:
    live = [p for p in pods if not is_terminal(p)]
    ready = sum(1 for p in live if is_ready(p))
    status = sts["status"]
    revs = [p["metadata"]["labels"].get("controller-revision-hash") for p in live]
    updated = revs.count(status["updateRevision"])
    if updated == len(live) == sts["spec"]["replicas"] and ready == len(live):
        status["currentRevision"] = status["updateRevision"]  # rollout finished
    current = revs.count(status["currentRevision"])
    status["availableReplicas"] = ready
    status["observedGeneration"] = sts["metadata"]["generation"]
    status["replicas"] = len(live)
    for key, value in (("currentReplicas", current), ("readyReplicas", ready), ("updatedReplicas", updated)):
        if value:
            status[key] = value
        else:
            status.pop(key, None)


# ---------------------------------------------------------------- DaemonSet


def daemonset(
    namespace_: str,
    name: str,
    template: dict[str, Any],
    created: datetime,
    *,
    selector: Mapping[str, str],
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    max_unavailable: int | str = 1,
    owners: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    obj = new_object(
        "DaemonSet",
        name,
        namespace_,
        created,
        labels=labels,
        annotations={"deprecated.daemonset.template.generation": "1", **(annotations or {})},
        owners=owners or [],
    )
    obj["spec"] = {
        "revisionHistoryLimit": 10,
        "selector": {"matchLabels": dict(selector)},
        "template": template,
        "updateStrategy": {
            "rollingUpdate": {"maxSurge": 0, "maxUnavailable": max_unavailable},
            "type": "RollingUpdate",
        },
    }
    obj["status"] = {
        "currentNumberScheduled": 0,
        "desiredNumberScheduled": 0,
        "numberMisscheduled": 0,
        "numberReady": 0,
        "observedGeneration": 1,
    }
    return obj


def tolerates(tolerations: list[dict[str, Any]], taint: dict[str, Any]) -> bool:
    for t in tolerations:
        if t.get("effect") and t["effect"] != taint["effect"]:
            continue
        if t.get("operator") == "Exists" and not t.get("key"):
            return True
        if t.get("key") != taint["key"]:
            continue
        if t.get("operator") == "Exists" or t.get("value", "") == taint.get("value", ""):
            return True
    return False


def refresh_daemonset(ds: dict[str, Any], pods: Iterable[dict[str, Any]], desired: int) -> None:
    live = [p for p in pods if not is_terminal(p)]
    ready = sum(1 for p in live if is_ready(p))
    status: dict[str, Any] = {"currentNumberScheduled": len(live), "desiredNumberScheduled": desired}
    if ready:
        status["numberAvailable"] = ready
    status["numberMisscheduled"] = 0
    status["numberReady"] = ready
    if desired - ready > 0:
        status["numberUnavailable"] = desired - ready
    status["observedGeneration"] = ds["metadata"]["generation"]
    if live:
        status["updatedNumberScheduled"] = len(live)
    ds["status"] = status


# ---------------------------------------------------------------- Job / CronJob


def job_labels(job_name: str, job_uid: str) -> dict[str, str]:
    return {
        "batch.kubernetes.io/controller-uid": job_uid,
        "batch.kubernetes.io/job-name": job_name,
        "controller-uid": job_uid,
        "job-name": job_name,
    }


def job(
    namespace_: str,
    name: str,
    template: dict[str, Any],
    created: datetime,
    *,
    labels: Mapping[str, str] | None = None,
    owners: list[dict[str, Any]] | None = None,
    backoff_limit: int = 6,
    ttl_after_finished: int | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    obj = new_object(
        "Job", name, namespace_, created, labels=labels, owners=owners or [], annotations=annotations
    )
    jl = job_labels(name, obj["metadata"]["uid"])
    obj["metadata"]["labels"] = {**jl, **(labels or {})}
    tmpl = copy.deepcopy(template)
    tmpl["metadata"]["labels"] = {**jl, **tmpl["metadata"].get("labels", {})}
    spec: dict[str, Any] = {
        "backoffLimit": backoff_limit,
        "completionMode": "NonIndexed",
        "completions": 1,
        "manualSelector": False,
        "parallelism": 1,
        "podReplacementPolicy": "TerminatingOrFailed",
        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": obj["metadata"]["uid"]}},
        "suspend": False,
        "template": tmpl,
    }
    if ttl_after_finished is not None:
        spec["ttlSecondsAfterFinished"] = ttl_after_finished
    obj["spec"] = spec
    obj["status"] = {"ready": 0, "startTime": ts(created), "terminating": 0, "uncountedTerminatedPods": {}}
    return obj


def job_condition(type_: str, reason: str, message: str, when: datetime) -> dict[str, Any]:
    c = condition(type_, "True", reason, message, when, probe=when)
    return c


def complete_job(j: dict[str, Any], finished: datetime) -> None:
    """Mark a Job succeeded as the 1.32 job controller does (SuccessCriteriaMet, then Complete)."""
    msg = "Reached expected number of succeeded pods"
    j["status"] = {
        "completionTime": ts(finished),
        "conditions": [
            job_condition("SuccessCriteriaMet", "CompletionsReached", msg, finished),
            job_condition("Complete", "CompletionsReached", msg, finished),
        ],
        "ready": 0,
        "startTime": j["status"]["startTime"],
        "succeeded": 1,
        "terminating": 0,
        "uncountedTerminatedPods": {},
    }


def fail_job(j: dict[str, Any], failed_at: datetime, failed_pods: int) -> None:
    """BackoffLimitExceeded: FailureTarget then Failed, as the 1.32 job controller writes them."""
    msg = "Job has reached the specified backoff limit"
    j["status"] = {
        "conditions": [
            job_condition("FailureTarget", "BackoffLimitExceeded", msg, failed_at),
            job_condition("Failed", "BackoffLimitExceeded", msg, failed_at),
        ],
        "failed": failed_pods,
        "ready": 0,
        "startTime": j["status"]["startTime"],
        "terminating": 0,
        "uncountedTerminatedPods": {},
    }


def cronjob(
    namespace_: str,
    name: str,
    schedule: str,
    job_template: dict[str, Any],
    created: datetime,
    *,
    labels: Mapping[str, str] | None = None,
    concurrency: str = "Forbid",
    successful_history: int = 3,
    failed_history: int = 1,
    time_zone: str | None = None,
) -> dict[str, Any]:
    obj = new_object("CronJob", name, namespace_, created, labels=labels)
    spec: dict[str, Any] = {
        "concurrencyPolicy": concurrency,
        "failedJobsHistoryLimit": failed_history,
        "jobTemplate": job_template,
        "schedule": schedule,
        "successfulJobsHistoryLimit": successful_history,
        "suspend": False,
    }
    if time_zone:
        spec["timeZone"] = time_zone
    obj["spec"] = spec
    obj["status"] = {}
    return obj


def job_template_spec(
    template: dict[str, Any], *, backoff_limit: int = 6, ttl_after_finished: int | None = None
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "backoffLimit": backoff_limit,
        "completionMode": "NonIndexed",
        "completions": 1,
        "manualSelector": False,
        "parallelism": 1,
        "podReplacementPolicy": "TerminatingOrFailed",
        "suspend": False,
        "template": template,
    }
    if ttl_after_finished is not None:
        spec["ttlSecondsAfterFinished"] = ttl_after_finished
    return {"metadata": {"creationTimestamp": None}, "spec": spec}


def cron_job_name(cronjob_name: str, scheduled: datetime) -> str:
    """<cronjob>-<minutes since epoch>, the CronJob controller's naming."""
    return f"{cronjob_name}-{int(scheduled.timestamp()) // 60}"


# ---------------------------------------------------------------- HorizontalPodAutoscaler


def hpa(
    namespace_: str,
    name: str,
    target: dict[str, Any],
    created: datetime,
    *,
    min_replicas: int = 2,
    max_replicas: int = 6,
    cpu_target: int = 70,
    memory_target: int | None = 80,
    cpu_current: int = 48,
    memory_current: int = 55,
    current_replicas: int | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """autoscaling/v2 HPA on CPU (and memory) utilization, with the status metrics-server feeds."""
    obj = new_object("HorizontalPodAutoscaler", name, namespace_, created, labels=labels)
    metrics = [
        {
            "resource": {"name": "cpu", "target": {"averageUtilization": cpu_target, "type": "Utilization"}},
            "type": "Resource",
        }
    ]
    if memory_target:
        metrics.append(
            {
                "resource": {
                    "name": "memory",
                    "target": {"averageUtilization": memory_target, "type": "Utilization"},
                },
                "type": "Resource",
            }
        )
    obj["spec"] = {
        "maxReplicas": max_replicas,
        "metrics": metrics,
        "minReplicas": min_replicas,
        "scaleTargetRef": {
            "apiVersion": target["apiVersion"],
            "kind": target["kind"],
            "name": target["metadata"]["name"],
        },
    }
    replicas = current_replicas if current_replicas is not None else target["spec"]["replicas"]
    container = target["spec"]["template"]["spec"]["containers"][0]
    req = container.get("resources", {}).get("requests", {})
    current = [
        {
            "resource": {
                "current": {
                    "averageUtilization": cpu_current,
                    "averageValue": fmt_cpu(quantity(req.get("cpu", "100m")) * cpu_current / 100),
                },
                "name": "cpu",
            },
            "type": "Resource",
        }
    ]
    if memory_target:
        mem = int(quantity(req.get("memory", "256Mi")) * memory_current / 100)
        current.append(
            {
                "resource": {
                    "current": {"averageUtilization": memory_current, "averageValue": str(mem - mem % 4096)},
                    "name": "memory",
                },
                "type": "Resource",
            }
        )
    ratios = [cpu_current / cpu_target] + ([memory_current / memory_target] if memory_target else [])
    desired = max(min_replicas, min(max_replicas, math.ceil(replicas * max(ratios))))
    since = created + timedelta(seconds=30)
    conds = [
        condition("AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size", since),
        condition(
            "ScalingActive",
            "True",
            "ValidMetricFound",
            "the HPA was able to successfully calculate a replica count from cpu resource utilization "
            "(percentage of request)",
            since,
        ),
        condition(
            "ScalingLimited",
            "False",
            "DesiredWithinRange",
            "the desired count is within the acceptable range",
            since,
        ),
    ]
    obj["status"] = {
        "conditions": conds,
        "currentMetrics": current,
        "currentReplicas": replicas,
        "desiredReplicas": desired,
    }
    return obj


# ---------------------------------------------------------------- PodDisruptionBudget


def pod_disruption_budget(
    namespace_: str,
    name: str,
    selector: Mapping[str, str],
    created: datetime,
    *,
    min_available: int | str | None = 1,
    max_unavailable: int | str | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    obj = new_object("PodDisruptionBudget", name, namespace_, created, labels=labels)
    spec: dict[str, Any] = {}
    if max_unavailable is not None:
        spec["maxUnavailable"] = max_unavailable
    elif min_available is not None:
        spec["minAvailable"] = min_available
    spec["selector"] = {"matchLabels": dict(selector)}
    obj["spec"] = spec
    obj["status"] = {}
    return obj


def refresh_pdb(pdb: dict[str, Any], pods: Iterable[dict[str, Any]], now: datetime) -> None:
    """PDB status as the disruption controller computes it from the selected pods."""
    live = [p for p in pods if not is_terminal(p)]
    expected = len(live)
    healthy = sum(1 for p in live if is_ready(p))
    spec = pdb["spec"]
    if "minAvailable" in spec:
        desired = _parse_percent(spec["minAvailable"], expected, True)
    else:
        desired = expected - _parse_percent(spec["maxUnavailable"], expected, True)
    allowed = max(0, healthy - desired)
    prev = next(
        (c for c in pdb.get("status", {}).get("conditions", []) if c["type"] == "DisruptionAllowed"), None
    )
    ok = allowed > 0
    want = "True" if ok else "False"
    created = datetime.fromisoformat(pdb["metadata"]["creationTimestamp"])
    when = (
        created + timedelta(seconds=2)
        if prev is None
        else (now if prev["status"] != want else datetime.fromisoformat(prev["lastTransitionTime"]))
    )
    pdb["status"] = {
        "conditions": [
            condition(
                "DisruptionAllowed",
                want,
                "SufficientPods" if ok else "InsufficientPods",
                "",
                when,
                observed_generation=pdb["metadata"]["generation"],
            )
        ],
        "currentHealthy": healthy,
        "desiredHealthy": desired,
        "disruptionsAllowed": allowed,
        "expectedPods": expected,
        "observedGeneration": pdb["metadata"]["generation"],
    }
