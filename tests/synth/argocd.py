"""Argo CD v2.13 Applications whose status mirrors the live objects they track.

Argo CD 2.x tracks resources by the `app.kubernetes.io/instance` label, so `refresh_applications`
lists every top-level object carrying the app's name and computes resource and app health with
the same rules as Argo's built-in health checks: a fault in a child shows up as a Degraded or
Progressing Application, the way an SRE sees it in the UI.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from synth.meta import hex_id, new_object, number, ts

if TYPE_CHECKING:
    from synth.builder import PlatformBuilder

ARGO_API = "argoproj.io/v1alpha1"
REPO = "https://github.com/monobaselabs/monobase-infra.git"
IN_CLUSTER = "https://kubernetes.default.svc"
HEALTH_ORDER = ["Healthy", "Suspended", "Progressing", "Missing", "Degraded", "Unknown"]
_SKIP_KINDS = {
    "Event",
    "Pod",
    "ReplicaSet",
    "Endpoints",
    "EndpointSlice",
    "PersistentVolume",
    "Lease",
    "ControllerRevision",
    "PolicyReport",
    "CertificateRequest",
    "Order",
    "Challenge",
    "Backup",
}


def application(
    name: str,
    created: datetime,
    *,
    path: str,
    dest_namespace: str,
    project: str = "default",
    value_files: tuple[str, ...] = (),
    chart_repo: str = REPO,
    revision: str = "main",
    labels: Mapping[str, str] | None = None,
    owners: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    obj = new_object(
        "Application",
        name,
        "argocd",
        created,
        api_version=ARGO_API,
        labels=labels,
        owners=owners or [],
        finalizers=["resources-finalizer.argocd.argoproj.io"],
    )
    source: dict[str, Any] = {"path": path, "repoURL": chart_repo, "targetRevision": revision}
    if value_files:
        source["helm"] = {"valueFiles": list(value_files)}
    obj["spec"] = {
        "destination": {"namespace": dest_namespace, "server": IN_CLUSTER},
        "project": project,
        "source": source,
        "syncPolicy": {
            "automated": {"prune": True, "selfHeal": True},
            "retry": {"backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}, "limit": 5},
            "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"],
        },
    }
    obj["status"] = {
        "controllerNamespace": "argocd",
        "health": {"status": "Healthy"},
        "sync": {"status": "Synced"},
    }
    return obj


def _cond(obj: dict[str, Any], type_: str) -> dict[str, Any] | None:
    return next(
        (c for c in obj.get("status", {}).get("conditions", []) or [] if c.get("type") == type_), None
    )


def resource_health(obj: dict[str, Any]) -> dict[str, str] | None:
    """Argo CD's built-in health for the kinds the platform runs; None for kinds without a check."""
    kind, st, spec = obj["kind"], obj.get("status", {}), obj.get("spec", {})
    name = obj["metadata"]["name"]
    if kind == "Deployment":
        prog = _cond(obj, "Progressing")
        if prog and prog.get("reason") == "ProgressDeadlineExceeded":
            return {"message": f'Deployment "{name}" exceeded its progress deadline', "status": "Degraded"}
        want, upd, avail = (
            spec.get("replicas", 1),
            st.get("updatedReplicas", 0),
            st.get("availableReplicas", 0),
        )
        if upd < want:
            return {
                "message": f"Waiting for rollout to finish: {upd} out of {want} new replicas have been updated...",
                "status": "Progressing",
            }
        if st.get("replicas", 0) > upd:
            return {
                "message": f"Waiting for rollout to finish: {st['replicas'] - upd} old replicas are pending termination...",
                "status": "Progressing",
            }
        if avail < upd:
            return {
                "message": f"Waiting for rollout to finish: {avail} of {upd} updated replicas are available...",
                "status": "Progressing",
            }
        return {"status": "Healthy"}
    if kind == "StatefulSet":
        want, ready = spec.get("replicas", 1), st.get("readyReplicas", 0)
        if ready < want:
            return {"message": f"Waiting for {want - ready} pods to be ready...", "status": "Progressing"}
        return {
            "message": f"partitioned roll out complete: {want} new pods have been updated...",
            "status": "Healthy",
        }
    if kind == "DaemonSet":
        want, avail = st.get("desiredNumberScheduled", 0), st.get("numberAvailable", 0)
        if avail < want:
            return {
                "message": f'Waiting for daemon set "{name}" rollout to finish: {avail} of {want} updated pods are available...',
                "status": "Progressing",
            }
        return {"message": f'daemon set "{name}" successfully rolled out', "status": "Healthy"}
    if kind == "PersistentVolumeClaim":
        return {"status": "Healthy"} if st.get("phase") == "Bound" else {"status": "Progressing"}
    if kind == "Service":
        if spec.get("type") == "LoadBalancer" and not st.get("loadBalancer", {}).get("ingress"):
            return {"status": "Progressing"}
        return {"status": "Healthy"}
    if kind in ("ExternalSecret", "ClusterSecretStore", "Certificate", "ClusterIssuer"):
        ready = _cond(obj, "Ready")
        if kind == "Certificate" and _cond(obj, "Issuing") and _cond(obj, "Issuing")["status"] == "True":
            return {"message": _cond(obj, "Issuing").get("message", ""), "status": "Progressing"}
        if ready is None:
            return {"message": "Waiting for status", "status": "Progressing"}
        if ready["status"] == "True":
            return {"message": ready.get("message", ""), "status": "Healthy"}
        return {"message": ready.get("message", ""), "status": "Degraded"}
    if kind == "HorizontalPodAutoscaler":
        active = _cond(obj, "ScalingActive")
        if active and active["status"] == "False":
            return {"message": active.get("message", ""), "status": "Degraded"}
        return {"message": "recommended size matches current size", "status": "Healthy"}
    if kind == "Job":
        if _cond(obj, "Failed"):
            return {"message": _cond(obj, "Failed").get("message", ""), "status": "Degraded"}
        if _cond(obj, "Complete"):
            return {"message": "Job completed", "status": "Healthy"}
        return {"status": "Progressing"}
    if kind == "Application":
        h = st.get("health", {})
        return {"status": h.get("status", "Unknown")}
    if kind == "Prometheus":
        avail = _cond(obj, "Available")
        if avail and avail["status"] != "True":
            return {"message": avail.get("message", ""), "status": "Degraded"}
        return {"status": "Healthy"}
    return None


def _gvk(obj: dict[str, Any]) -> tuple[str, str]:
    av = obj["apiVersion"]
    return (av.split("/")[0], av.split("/")[1]) if "/" in av else ("", av)


def tracked_by_app(b: PlatformBuilder) -> dict[str, list[dict[str, Any]]]:
    """Top-level objects grouped by the tracking label value (the Application name)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for o in b.objects:
        md = o["metadata"]
        if o["kind"] in _SKIP_KINDS or md.get("ownerReferences"):
            continue
        name = (md.get("labels") or {}).get("app.kubernetes.io/instance")
        if name:
            out.setdefault(name, []).append(o)
    return out


def refresh_applications(b: PlatformBuilder) -> None:
    """Recompute every Application's resources, health, sync and operation state from the cluster."""
    apps = b.list("Application", "argocd")
    # children first so an app-of-apps sees its children's fresh health
    apps.sort(key=lambda a: 1 if a["metadata"]["name"].endswith("-root") else 0)
    tracked = tracked_by_app(b)
    for app in apps:
        _refresh_one(b, app, [o for o in tracked.get(app["metadata"]["name"], []) if o is not app])


def _refresh_one(b: PlatformBuilder, app: dict[str, Any], children: list[dict[str, Any]]) -> None:
    md = app["metadata"]
    created = datetime.fromisoformat(md["creationTimestamp"])
    now = b.now
    sha = hex_id("commit", "monobase-infra", now.date().isoformat(), n=40)
    resources, images, worst = [], set(), "Healthy"
    for o in sorted(
        children,
        key=lambda x: (_gvk(x)[0], x["kind"], x["metadata"].get("namespace", ""), x["metadata"]["name"]),
    ):
        group, version = _gvk(o)
        entry: dict[str, Any] = {}
        if group:
            entry["group"] = group
        health = resource_health(o)
        if health is not None:
            entry["health"] = health
            if HEALTH_ORDER.index(health["status"]) > HEALTH_ORDER.index(worst):
                worst = health["status"]
        entry["kind"] = o["kind"]
        entry["name"] = o["metadata"]["name"]
        if o["metadata"].get("namespace"):
            entry["namespace"] = o["metadata"]["namespace"]
        entry["status"] = "Synced"
        entry["version"] = version
        resources.append(entry)
        tmpl = o.get("spec", {}).get("template", {}).get("spec", {})
        for c in tmpl.get("containers", []) + tmpl.get("initContainers", []):
            images.add(c["image"])
    started = b.state.get("argocd.sync", {}).get(md["name"]) or max(
        now
        - timedelta(
            hours=number("sync", md["name"], lo=2, hi=20), minutes=number("syncm", md["name"], hi=59)
        ),
        created + timedelta(minutes=1),
    )
    finished = started + timedelta(seconds=number("syncd", md["name"], lo=3, hi=40))
    source = dict(app["spec"]["source"])
    health: dict[str, Any] = {"status": worst}
    app["status"] = {
        "controllerNamespace": "argocd",
        "health": health,
        "history": [
            {
                "deployStartedAt": ts(started),
                "deployedAt": ts(finished),
                "id": number("hist", md["name"], lo=3, hi=40),
                "initiatedBy": {"automated": True},
                "revision": sha,
                "source": source,
            }
        ],
        "operationState": {
            "finishedAt": ts(finished),
            "message": "successfully synced (all tasks run)",
            "operation": {
                "initiatedBy": {"automated": True},
                "retry": {"limit": 5},
                "sync": {"revision": sha, "syncOptions": list(app["spec"]["syncPolicy"]["syncOptions"])},
            },
            "phase": "Succeeded",
            "startedAt": ts(started),
            "syncResult": {
                "resources": [
                    {
                        "group": r.get("group", ""),
                        "hookPhase": "Running",
                        "kind": r["kind"],
                        "message": f"{r['kind'].lower()}/{r['name']} serverside-applied",
                        "name": r["name"],
                        "namespace": r.get("namespace", ""),
                        "status": "Synced",
                        "syncPhase": "Sync",
                        "version": r["version"],
                    }
                    for r in resources
                ],
                "revision": sha,
                "source": source,
            },
        },
        "reconciledAt": ts(now - timedelta(seconds=number("rec", md["name"], lo=10, hi=170))),
        "resources": resources,
        "sourceType": "Helm"
        if "helm" in source or source.get("path", "").startswith("charts")
        else "Directory",
        "summary": {"images": sorted(images)} if images else {},
        "sync": {
            "comparedTo": {"destination": dict(app["spec"]["destination"]), "source": source},
            "revision": sha,
            "status": "Synced",
        },
    }
