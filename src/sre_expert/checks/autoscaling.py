"""HorizontalPodAutoscalers: missing target, missing requests, metrics unavailable, pinned at maxReplicas
while over target, unable to scale.

Keyed on the conditions the HPA controller writes: AbleToScale (FailedGetScale, FailedUpdateScale),
ScalingActive (ValidMetricFound, FailedGet*Metric, ScalingDisabled), ScalingLimited (TooManyReplicas).
autoscaling/v2 keeps them in status.conditions; an object read as autoscaling/v1 (older clusters, older
kubectl and support-bundle tools) has no such field, and the API server puts the same conditions, as a
JSON string, in the `autoscaling.alpha.kubernetes.io/conditions` annotation, with the current metrics in
`autoscaling.alpha.kubernetes.io/current-metrics` and the CPU target in spec.targetCPUUtilizationPercentage.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sre_expert.checks.registry import check, finding
from sre_expert.core.model import Finding, Key, index_kind
from sre_expert.core.snapshot import Snapshot
from sre_expert.core.units import parse_quantity
from sre_expert.domain.event_text import cond_line, event_line, latest_by_reason, recent_events

Obj = dict[str, Any]

SETTLE_SECONDS = 300
METRICS_API = {
    "Resource": "v1beta1.metrics.k8s.io",
    "ContainerResource": "v1beta1.metrics.k8s.io",
    "Pods": "v1beta1.custom.metrics.k8s.io",
    "Object": "v1beta1.custom.metrics.k8s.io",
    "External": "v1beta1.external.metrics.k8s.io",
}


CONDITIONS_ANNOTATION = "autoscaling.alpha.kubernetes.io/conditions"
CURRENT_METRICS_ANNOTATION = "autoscaling.alpha.kubernetes.io/current-metrics"


def _annotation_list(hpa: Obj, name: str) -> list[Obj]:
    """A JSON list of objects kept in an annotation; [] when absent or not such a list."""
    raw = ((hpa.get("metadata") or {}).get("annotations") or {}).get(name)
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        return []
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def hpa_conditions(hpa: Obj) -> list[Obj]:
    """The HPA controller's conditions: status.conditions (v2), else the v1 annotation that carries them."""
    conds = (hpa.get("status") or {}).get("conditions")
    if conds:
        return [c for c in conds if isinstance(c, dict)]
    return _annotation_list(hpa, CONDITIONS_ANNOTATION)


def _hcond(hpa: Obj, type_: str) -> Obj | None:
    return next((c for c in hpa_conditions(hpa) if c.get("type") == type_), None)


def _hcond_line(snap: Snapshot, hpa: Obj, c: Obj) -> str:
    """cond_line, naming the annotation when that is where the condition was read."""
    if (hpa.get("status") or {}).get("conditions"):
        return cond_line(snap, c)
    return cond_line(snap, c, prefix=f"metadata.annotations[{CONDITIONS_ANNOTATION}]")


def _spec_metrics(hpa: Obj) -> list[Obj]:
    """spec.metrics (v2); for v1, the one CPU utilization target spec.targetCPUUtilizationPercentage sets."""
    spec = hpa.get("spec") or {}
    if spec.get("metrics"):
        return list(spec["metrics"])
    target = spec.get("targetCPUUtilizationPercentage")
    if target is None:
        return []
    return [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                         "averageUtilization": target}}}]


def _current_metrics(hpa: Obj) -> list[Obj]:
    """status.currentMetrics (v2); for v1, status.currentCPUUtilizationPercentage, or the annotation's list
    (autoscaling/v2beta1 shape: currentAverageUtilization, currentAverageValue) in the v2 shape."""
    st = hpa.get("status") or {}
    if st.get("currentMetrics"):
        return list(st["currentMetrics"])
    out: list[Obj] = []
    for m in _annotation_list(hpa, CURRENT_METRICS_ANNOTATION):
        body = m.get(_field(m.get("type") or "")) or {}
        cur = {k: body[old] for k, old in (("averageUtilization", "currentAverageUtilization"),
                                            ("averageValue", "currentAverageValue"), ("value", "currentValue"))
               if body.get(old) is not None}
        named = {k: v for k, v in body.items() if not k.startswith("current")}
        out.append({"type": m.get("type"), _field(m.get("type") or ""): {**named, "current": cur}})
    if not out and st.get("currentCPUUtilizationPercentage") is not None:
        out.append({"type": "Resource", "resource": {
            "name": "cpu", "current": {"averageUtilization": st["currentCPUUtilizationPercentage"]}}})
    return out


def _target(snap: Snapshot, hpa: Obj) -> tuple[dict[str, str], Obj | None]:
    ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
    ns = hpa["metadata"].get("namespace") or ""
    return ref, snap.get(index_kind(ref.get("kind") or "", ref.get("apiVersion")), ns, ref.get("name") or "")


def _age_s(snap: Snapshot, obj: Obj) -> float:
    age = snap.age(obj["metadata"].get("creationTimestamp"))
    return age.total_seconds() if age is not None else 1e9


@check(
    codes=("HPA-TARGET-MISSING", "HPA-MISSING-REQUESTS", "HPA-METRICS-UNAVAILABLE", "HPA-AT-MAX-REPLICAS",
        "HPA-UNABLE-TO-SCALE"),
    reads=("HorizontalPodAutoscaler",),
    speaks_for=("HorizontalPodAutoscaler",),
    depends_on=("APIService", "Deployment", "ReplicaSet", "Service", "StatefulSet"),
)
def hpas(snap: Snapshot) -> Iterator[Finding]:
    for hpa in snap.list("HorizontalPodAutoscaler"):
        ref, target = _target(snap, hpa)
        able = _hcond(hpa, "AbleToScale")
        active = _hcond(hpa, "ScalingActive")
        limited = _hcond(hpa, "ScalingLimited")
        kind = ref.get("kind") or ""
        # Absent only when its kind was captured: a bundle of HPAs alone proves no Deployment missing. The
        # controller's own "not found" says so whatever was captured.
        ns = hpa["metadata"].get("namespace") or ""
        absent = target is None and snap.count(kind) > 0 and snap.absent(kind, ns, ref.get("name") or "") is True
        if target is None and (
            absent
            or (able and able.get("status") == "False" and "not found" in (able.get("message") or ""))
        ):
            yield _target_missing(snap, hpa, ref, able)
            continue
        missing = _missing_requests(snap, hpa, target) if target is not None else []
        if missing:
            yield _requests(snap, hpa, ref, missing, active)
        elif (
            active is not None
            and active.get("status") == "False"
            and (active.get("reason") or "").startswith("FailedGet")
            and _age_s(snap, hpa) >= SETTLE_SECONDS
        ):
            yield _metrics(snap, hpa, ref, target, active)
        if able is not None and able.get("status") == "False":
            yield finding(
                "HPA-UNABLE-TO-SCALE",
                hpa,
                title=f"HPA {hpa['metadata']['name']} cannot scale {kind} {ref.get('name')}: "
                f"{able.get('reason')}",
                evidence=[_hcond_line(snap, hpa, able)]
                + [
                    event_line(snap, e)
                    for e in latest_by_reason(
                        recent_events(
                            snap,
                            hpa,
                            reasons=("FailedGetScale", "FailedRescale", "FailedUpdateScale"),
                            warning_only=True,
                        )
                    )
                ],
                params={"target_kind": kind.lower(), "target": ref.get("name") or ""},
                depends_on=[(kind, hpa["metadata"].get("namespace") or "", ref.get("name") or "")],
            )
        f = _at_max(snap, hpa, ref, limited)
        if f:
            yield f


def _target_missing(snap: Snapshot, hpa: Obj, ref: dict[str, str], able: Obj | None) -> Finding:
    evidence = [
        f"spec.scaleTargetRef: {ref.get('apiVersion')} {ref.get('kind')} {ref.get('name')}",
        f"{ref.get('kind')} {ref.get('name')} does not exist in namespace {hpa['metadata'].get('namespace')}",
    ]
    if able is not None:
        evidence.append(_hcond_line(snap, hpa, able))
    evidence.extend(
        event_line(snap, e) for e in latest_by_reason(recent_events(snap, hpa, warning_only=True))
    )
    return finding(
        "HPA-TARGET-MISSING",
        hpa,
        title=f"HPA {hpa['metadata']['name']} targets {ref.get('kind')} {ref.get('name')}, "
        "which does not exist",
        evidence=evidence,
        params={"target_kind": (ref.get("kind") or "").lower(), "target": ref.get("name") or ""},
    )


def _limit_range_defaults(snap: Snapshot, ns: str) -> set[str]:
    """Resources a LimitRange gives every container a default request for."""
    out: set[str] = set()
    for lr in snap.list("LimitRange", ns):
        for lim in (lr.get("spec") or {}).get("limits") or ():
            if lim.get("type") == "Container":
                out.update((lim.get("defaultRequest") or {}).keys())
                out.update((lim.get("default") or {}).keys())  # request defaults to the default limit
    return out


def _missing_requests(snap: Snapshot, hpa: Obj, target: Obj) -> list[tuple[str, list[str], str]]:
    """[(resource, containers without a request, where we looked)] for Utilization metrics."""
    metrics = _spec_metrics(hpa)
    wanted: list[tuple[str, str | None]] = []
    for m in metrics:
        if m.get("type") == "Resource":
            r = m.get("resource") or {}
            if (r.get("target") or {}).get("type") == "Utilization":
                wanted.append((r.get("name") or "", None))
        elif m.get("type") == "ContainerResource":
            r = m.get("containerResource") or {}
            if (r.get("target") or {}).get("type") == "Utilization":
                wanted.append((r.get("name") or "", r.get("container")))
    if not wanted:
        return []
    pods = [p for p in snap.pods_of(target) if (p.get("status") or {}).get("phase") == "Running"]
    if pods:
        containers = (pods[0].get("spec") or {}).get("containers") or ()
        where = f"pod {pods[0]['metadata']['name']}"
        defaults: set[str] = set()
    else:
        containers = (((target.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
            "containers"
        ) or ()
        where = f"{target['kind']} {target['metadata']['name']} pod template"
        defaults = _limit_range_defaults(snap, hpa["metadata"].get("namespace") or "")
    out = []
    for res, only in wanted:
        if res in defaults:
            continue
        lacking = [
            c.get("name")
            for c in containers
            if (only is None or c.get("name") == only)
            and res not in ((c.get("resources") or {}).get("requests") or {})
        ]
        if lacking:
            out.append((res, lacking, where))
    return out


def _requests(snap: Snapshot, hpa: Obj, ref: dict[str, str], missing: list[tuple[str, list[str], str]],
              active: Obj | None) -> Finding:
    evidence = []
    if active is not None and active.get("status") == "False":
        evidence.append(_hcond_line(snap, hpa, active))
    for res, lacking, where in missing:
        evidence.append(
            f"{where}: container(s) {', '.join(lacking)} set no resources.requests.{res}, "
            f"so {res} utilization (a percentage of the request) cannot be computed"
        )
    evidence.extend(
        event_line(snap, e)
        for e in latest_by_reason(
            recent_events(
                snap,
                hpa,
                reasons=(
                    "FailedGetResourceMetric",
                    "FailedComputeMetricsReplicas",
                    "FailedGetContainerResourceMetric",
                ),
                warning_only=True,
            )
        )
    )
    res, lacking, _ = missing[0]
    return finding(
        "HPA-MISSING-REQUESTS",
        hpa,
        title=f"HPA {hpa['metadata']['name']} cannot scale on {res}: container(s) {', '.join(lacking)} of "
        f"{ref.get('kind')} {ref.get('name')} have no {res} request",
        evidence=evidence,
        params={
            "target_kind": (ref.get("kind") or "").lower(),
            "target": ref.get("name") or "",
            "container": lacking[0],
            "resource_name": res,
        },
    )


def _metrics(snap: Snapshot, hpa: Obj, ref: dict[str, str], target: Obj | None, active: Obj) -> Finding:
    ns = hpa["metadata"].get("namespace") or ""
    evidence = [_hcond_line(snap, hpa, active)]
    for cm in _current_metrics(hpa):
        body = cm.get(_field(cm.get("type") or "")) or {}
        if not body.get("current"):
            evidence.append(
                f"status.currentMetrics: {cm.get('type')} {_metric_name(cm)} has no current value (<unknown>)"
            )
    evidence.extend(
        event_line(snap, e) for e in latest_by_reason(recent_events(snap, hpa, warning_only=True))
    )
    deps: list[Key] = []
    msg = active.get("message") or ""
    apis = {api for m in _spec_metrics(hpa) if (api := METRICS_API.get(m.get("type") or "")) is not None}
    for api in sorted(apis):
        svc = _api_service_backend(snap, api)
        deps.append(("APIService", "", api))
        if svc:
            deps.append(svc)
            evidence.append(f"metrics come from APIService {api} served by Service {svc[1]}/{svc[2]}")
    if target is not None and ("unready" in msg or "did not receive metrics" in msg):
        deps.extend(("Pod", ns, p["metadata"]["name"]) for p in snap.pods_of(target)[:50])
    return finding(
        "HPA-METRICS-UNAVAILABLE",
        hpa,
        title=f"HPA {hpa['metadata']['name']} gets no metrics ({active.get('reason')}): "
        f"{ref.get('kind')} {ref.get('name')} is not autoscaled",
        evidence=evidence,
        depends_on=deps,
        params={"target_kind": (ref.get("kind") or "").lower(), "target": ref.get("name") or ""},
    )


def _api_service_backend(snap: Snapshot, api: str) -> Key | None:
    aps = snap.get("APIService", "", api)
    if aps is not None:
        svc = (aps.get("spec") or {}).get("service") or {}
        if svc.get("name"):
            return ("Service", svc.get("namespace") or "", svc["name"])
        return None
    if api == "v1beta1.metrics.k8s.io" and snap.get("Service", "kube-system", "metrics-server") is not None:
        return ("Service", "kube-system", "metrics-server")
    return None


def _field(mtype: str) -> str:
    return {
        "Resource": "resource",
        "ContainerResource": "containerResource",
        "Pods": "pods",
        "Object": "object",
        "External": "external",
    }.get(mtype, mtype.lower())


def _metric_name(m: Obj) -> str:
    body = m.get(_field(m.get("type") or "")) or {}
    name = body.get("name") or (body.get("metric") or {}).get("name") or "?"
    if body.get("container"):
        name += f" (container {body['container']})"
    return name


def _over_target(spec_m: Obj, cur_m: Obj) -> str | None:
    """'cpu 95% of request > target 70%' when the current value exceeds the target, else None."""
    t = (spec_m.get(_field(spec_m.get("type") or "")) or {}).get("target") or {}
    c = (cur_m.get(_field(cur_m.get("type") or "")) or {}).get("current") or {}
    name = _metric_name(spec_m)
    if t.get("type") == "Utilization" and c.get("averageUtilization") is not None:
        if c["averageUtilization"] > (t.get("averageUtilization") or 0):
            return f"{name} {c['averageUtilization']}% of request > target {t.get('averageUtilization')}%"
        return None
    for fld in ("averageValue", "value"):
        tv, cv = parse_quantity(t.get(fld)), parse_quantity(c.get(fld))
        if tv is not None and cv is not None:
            return f"{name} {fld} {c.get(fld)} > target {t.get(fld)}" if cv > tv else None
    return None


def _at_max(snap: Snapshot, hpa: Obj, ref: dict[str, str], limited: Obj | None) -> Finding | None:
    spec, st = hpa.get("spec") or {}, hpa.get("status") or {}
    mx, cur = spec.get("maxReplicas"), st.get("currentReplicas")
    if limited is None or limited.get("status") != "True" or limited.get("reason") != "TooManyReplicas":
        return None
    if mx is None or cur is None or cur < mx:
        return None
    over = []
    cur_metrics = _current_metrics(hpa)
    for sm in _spec_metrics(hpa):
        for cm in cur_metrics:
            if cm.get("type") == sm.get("type") and _metric_name(cm) == _metric_name(sm):
                o = _over_target(sm, cm)
                if o:
                    over.append(o)
                break
    if not over:
        return None
    evidence = [
        f"status.currentReplicas: {cur} = spec.maxReplicas: {mx} (minReplicas {spec.get('minReplicas', 1)})",
        _hcond_line(snap, hpa, limited),
    ]
    evidence.extend(f"status.currentMetrics: {o}" for o in over)
    if st.get("desiredReplicas") is not None:
        evidence.append(f"status.desiredReplicas: {st['desiredReplicas']}")
    return finding(
        "HPA-AT-MAX-REPLICAS",
        hpa,
        title=f"HPA {hpa['metadata']['name']} is pinned at maxReplicas {mx} while {over[0]}",
        evidence=evidence,
        params={"target_kind": (ref.get("kind") or "").lower(), "target": ref.get("name") or "", "max": mx},
    )
