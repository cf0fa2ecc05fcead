"""Argo CD faults on the healthy synthetic platform, with status written the way Argo CD v2.13 writes it.
Each mutation is validated against the Application / ApplicationSet CRD schema.

The synthetic builder recomputes every Application's status on `refresh()`, so faults that change
cluster objects refresh first and then edit the Application status.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from scenario import validated

from synth import faults
from synth.builder import PlatformBuilder
from synth.meta import hex_id, new_object, parse_ts, ts

ARGO_NS = "argocd"
NEW_SHA = hex_id("commit", "monobase-infra", "broken-change", n=40)

HELM_ERROR = (
    "Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown desc = "
    "Manifest generation error (cached): `helm template . --name-template mycure-production --namespace "
    "mycure-production --kube-version 1.32 --values <path to cached source>/values/deployments/mycure-production.yaml "
    "<api versions removed> --include-crds` failed exit status 1: Error: template: monobase/templates/api/deployment.yaml"
    ":57:28: executing \"monobase/templates/api/deployment.yaml\" at <.Values.api.resources.limits.memory>: "
    "nil pointer evaluating interface {}.memory"
)
REPO_DOWN = (
    "Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unavailable "
    "desc = connection error: desc = \"transport: Error while dialing: dial tcp 10.96.114.20:8081: connect: "
    "connection refused\""
)
STS_IMMUTABLE = (
    "StatefulSet.apps \"mongodb\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than "
    "'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
    "'minReadySeconds' are forbidden"
)


def app(b: PlatformBuilder, name: str) -> dict[str, Any]:
    return b.require("Application", ARGO_NS, name)


def comparison_error(b: PlatformBuilder, name: str = "mycure-production", message: str = HELM_ERROR) -> dict[str, Any]:
    """A values change broke the Helm template: Argo CD cannot render the target state."""
    a = app(b, name)
    st = a["status"]
    since = b.now - timedelta(minutes=42)
    st["conditions"] = [{"lastTransitionTime": ts(since), "message": message, "type": "ComparisonError"}]
    st["sync"]["status"] = "Unknown"
    st["sync"]["revision"] = NEW_SHA
    st["reconciledAt"] = ts(b.now - timedelta(seconds=40))
    validated(a)
    return a


def sync_failed(b: PlatformBuilder, name: str = "mycure-production") -> dict[str, Any]:
    """A chart upgrade changed the StatefulSet's volumeClaimTemplates: the API server refuses the update,
    auto-sync retried five times and gave up."""
    a = app(b, name)
    st = a["status"]
    started = b.now - timedelta(minutes=25)
    finished = started + timedelta(minutes=3, seconds=14)
    msg = f"one or more objects failed to apply, reason: {STS_IMMUTABLE}"
    op = st["operationState"]
    op.update({"phase": "Failed", "message": msg, "startedAt": ts(started), "finishedAt": ts(finished), "retryCount": 5})
    op["operation"]["sync"]["revision"] = NEW_SHA
    op["syncResult"]["revision"] = NEW_SHA
    for r in op["syncResult"]["resources"]:
        if r["kind"] == "StatefulSet" and r["name"] == "mongodb":
            r.update({"status": "SyncFailed", "message": STS_IMMUTABLE, "hookPhase": "Failed"})
    for r in st["resources"]:
        if r["kind"] == "StatefulSet" and r["name"] == "mongodb":
            r["status"] = "OutOfSync"
    st["sync"]["status"] = "OutOfSync"
    st["sync"]["revision"] = NEW_SHA
    st["conditions"] = [{"lastTransitionTime": ts(finished), "type": "SyncError",
                         "message": f"Failed sync attempt to {NEW_SHA}: {msg}"}]
    validated(a)
    return a


def old_sync_failure(b: PlatformBuilder, name: str = "lfh-staging") -> dict[str, Any]:
    """The last operation failed, but the app is Synced and Healthy since (someone fixed it by hand)."""
    a = app(b, name)
    op = a["status"]["operationState"]
    op.update({"phase": "Failed", "message": "one or more synchronization tasks completed unsuccessfully"})
    validated(a)
    return a


def drift(b: PlatformBuilder, name: str = "lfh-staging", resource: tuple[str, str] = ("Deployment", "api")) -> dict[str, Any]:
    """Manual sync policy and a live change (kubectl scale) that Git does not have."""
    a = app(b, name)
    del a["spec"]["syncPolicy"]["automated"]
    for r in a["status"]["resources"]:
        if (r["kind"], r["name"]) == resource:
            r["status"] = "OutOfSync"
    a["status"]["sync"]["status"] = "OutOfSync"
    validated(a)
    return a


def shared_resource_warning(b: PlatformBuilder, name: str = "grafana") -> dict[str, Any]:
    a = app(b, name)
    a["status"]["conditions"] = [{
        "lastTransitionTime": ts(b.now - timedelta(days=3)), "type": "SharedResourceWarning",
        "message": "ConfigMap/grafana-dashboards is part of applications argocd/grafana and kube-prometheus"}]
    validated(a)
    return a


def break_external_secret(b: PlatformBuilder, namespace: str, name: str) -> dict[str, Any]:
    """The remote secret was deleted from GCP Secret Manager (synth's ESO fault); on refresh Argo CD's
    health check turns the ExternalSecret, its Application and an app-of-apps parent Degraded."""
    es = b.require("ExternalSecret", namespace, name)
    faults.external_secret_failed(b, es, since=timedelta(minutes=35))
    validated(es)
    return es


def reconciliation_stopped(b: PlatformBuilder, since_minutes: int = 95) -> None:
    """The application controller stopped: no Application has been reconciled since."""
    for a in b.list("Application", ARGO_NS):
        a["status"]["reconciledAt"] = ts(b.now - timedelta(minutes=since_minutes + len(a["metadata"]["name"]) % 7))
        validated(a)


def controller_oom_loop(b: PlatformBuilder, since_minutes: int = 95) -> dict[str, Any]:
    """argocd-application-controller is OOMKilled at start-up (too many resources cached for its 2Gi limit)."""
    w = b.workload("StatefulSet", ARGO_NS, "argocd-application-controller")
    pod = next(p for p in w.pods if b.get("Pod", ARGO_NS, p["metadata"]["name"]) is p)
    faults.oomkilled(b, pod, restarts=19, since=timedelta(minutes=since_minutes))
    reconciliation_stopped(b, since_minutes)
    return pod


def hook_running(b: PlatformBuilder, name: str = "mycure-production", minutes: int = 50) -> dict[str, Any]:
    """A PreSync migration hook Job has been running for `minutes`: the sync waits for it."""
    a = app(b, name)
    op = a["status"]["operationState"]
    started = b.now - timedelta(minutes=minutes)
    job = f"{name}-db-migrate"
    op.update({"phase": "Running", "message": f"waiting for completion of hook batch/Job/{job}", "startedAt": ts(started)})
    op.pop("finishedAt", None)
    op["syncResult"]["resources"] = [{
        "group": "batch", "hookPhase": "Running", "hookType": "PreSync", "kind": "Job", "message": "job.batch/"
        f"{job} created", "name": job, "namespace": name, "status": "Synced", "syncPhase": "PreSync", "version": "v1"}]
    validated(a)
    return a


def applicationset_error(b: PlatformBuilder) -> dict[str, Any]:
    """The tenant auto-discovery ApplicationSet's template uses a parameter the git files generator does
    not produce, so no Application can be rendered."""
    created = parse_ts(app(b, "infrastructure-root")["metadata"]["creationTimestamp"])
    aset = new_object("ApplicationSet", "tenants-auto-discover", ARGO_NS, created, api_version="argoproj.io/v1alpha1",
                      labels={"app.kubernetes.io/instance": "argocd-bootstrap"})
    aset["spec"] = {
        "generators": [{"git": {"repoURL": "https://github.com/monobaselabs/monobase-infra.git", "revision": "main",
                                "files": [{"path": "values/deployments/*.yaml"}]}}],
        "goTemplate": True,
        "template": {
            "metadata": {"name": "{{.path.filenameNormalized}}"},
            "spec": {"project": "tenants",
                     "source": {"repoURL": "https://github.com/monobaselabs/monobase-infra.git", "targetRevision": "main",
                                "path": "charts/monobase",
                                "helm": {"valueFiles": ["../../values/deployments/{{.path.filename}}"]}},
                     "destination": {"server": "https://kubernetes.default.svc", "namespace": "{{.tenant.namespace}}"},
                     "syncPolicy": {"automated": {"prune": True, "selfHeal": True}}},
        },
    }
    when = b.now - timedelta(hours=2)
    msg = ("failed to execute go template {{.tenant.namespace}}: template: :1:9: executing \"\" at <.tenant.namespace>: "
           "map has no entry for key \"tenant\"")
    aset["status"] = {"conditions": [
        {"lastTransitionTime": ts(when), "message": msg, "reason": "ApplicationGenerationFromParamsError",
         "status": "True", "type": "ErrorOccurred"},
        {"lastTransitionTime": ts(when), "message": msg, "reason": "ErrorOccurred", "status": "False",
         "type": "ParametersGenerated"},
        {"lastTransitionTime": ts(when), "message": msg, "reason": "ApplicationGenerationFromParamsError",
         "status": "False", "type": "ResourcesUpToDate"},
    ]}
    validated(aset)
    return b.add(aset)
