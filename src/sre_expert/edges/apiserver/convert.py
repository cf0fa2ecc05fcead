"""Version conversion a real API server does on read: an object stored at one version is served at the
version the client asked for.

Only HorizontalPodAutoscaler differs in shape between the versions a bundle holds and kubectl reads:
autoscaling/v1 keeps CPU utilisation in two fields and its conditions and other metrics in
annotations, autoscaling/v2 (what kubectl get/describe ask for) has `metrics`, `currentMetrics` and
`status.conditions`. Other kinds are served as captured (their versions share one shape for what
kubectl prints). Events are converted in events.py.
"""

from __future__ import annotations

import json
from typing import Any

Obj = dict[str, Any]
HPA = ("autoscaling", "HorizontalPodAutoscaler")
CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions"
METRICS = "autoscaling.alpha.kubernetes.io/metrics"
CURRENT_METRICS = "autoscaling.alpha.kubernetes.io/current-metrics"


def _annotation_list(annotations: dict[str, str], key: str) -> list[Obj]:
    try:
        value = json.loads(annotations.get(key) or "[]")
    except ValueError:
        return []
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _v2beta1_metric(m: Obj) -> Obj:
    """A metric of the v1 annotations (v2beta1 shape, `targetAverageUtilization`...) in v2 shape."""
    if m.get("type") != "Resource" or not isinstance(m.get("resource"), dict):
        return m
    r = m["resource"]
    if "target" in r or "current" in r:
        return m
    target: Obj = {}
    if r.get("targetAverageUtilization") is not None:
        target = {"type": "Utilization", "averageUtilization": r["targetAverageUtilization"]}
    elif r.get("targetAverageValue") is not None:
        target = {"type": "AverageValue", "averageValue": r["targetAverageValue"]}
    current = {k2: r[k1] for k1, k2 in (("currentAverageUtilization", "averageUtilization"),
                                        ("currentAverageValue", "averageValue")) if r.get(k1) is not None}
    out: Obj = {"name": r.get("name")}
    if target:
        out["target"] = target
    if current:
        out["current"] = current
    return {"type": "Resource", "resource": out}


def hpa_v1_to_v2(obj: Obj) -> Obj:
    """An autoscaling/v1 HPA as the API server serves it at autoscaling/v2."""
    md = dict(obj.get("metadata") or {})
    ann = dict(md.get("annotations") or {})
    spec, st = dict(obj.get("spec") or {}), dict(obj.get("status") or {})
    metrics = [_v2beta1_metric(m) for m in _annotation_list(ann, METRICS)]
    cpu = spec.pop("targetCPUUtilizationPercentage", None)
    if cpu is not None:
        metrics.insert(0, {"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": cpu}}})
    if metrics:
        spec["metrics"] = metrics
    current = [_v2beta1_metric(m) for m in _annotation_list(ann, CURRENT_METRICS)]
    cur_cpu = st.pop("currentCPUUtilizationPercentage", None)
    if cur_cpu is not None:
        current.insert(0, {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": cur_cpu}}})
    if current:
        st["currentMetrics"] = current
    conditions = _annotation_list(ann, CONDITIONS)
    if conditions and "conditions" not in st:
        st["conditions"] = conditions
    for key in (CONDITIONS, METRICS, CURRENT_METRICS):
        ann.pop(key, None)
    if ann:
        md["annotations"] = ann
    else:
        md.pop("annotations", None)
    return {**obj, "apiVersion": "autoscaling/v2", "metadata": md, "spec": spec, "status": st}


def needs(group: str, kind: str) -> bool:
    return (group, kind) == HPA


def at_version(obj: Obj, group: str, kind: str, version: str) -> Obj:
    """The object as served at group/version (unchanged unless a conversion above applies)."""
    if (group, kind) == HPA and version == "v2" and obj.get("apiVersion") == "autoscaling/v1":
        return hpa_v1_to_v2(obj)
    return obj
