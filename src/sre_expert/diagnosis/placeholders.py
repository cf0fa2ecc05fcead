"""Fill the placeholders of catalogue commands that the snapshot can answer: `argocd app sync <application>`
names the Argo CD Application that deploys the object, when one does."""

from __future__ import annotations

from sre_expert.core.model import Finding, Key
from sre_expert.core.snapshot import Snapshot
from sre_expert.knowledge.platform_components import kind_objects

# (object key → Application (namespace, name), Application name → itself), as application_index builds it
AppIndex = tuple[dict[Key, tuple[str, str]], dict[str, tuple[str, str]]]
APPLICATION = "<application>"
TRACKING_LABELS = ("argocd.argoproj.io/instance", "app.kubernetes.io/instance")  # Argo CD's tracking labels


def application_index(snap: Snapshot) -> AppIndex:
    """(object key → Application (namespace, name) from status.resources, Application name → itself)."""
    by_resource: dict[Key, tuple[str, str]] = {}
    by_name: dict[str, tuple[str, str]] = {}
    for app in kind_objects(snap, "Application.argoproj.io"):
        md = app.get("metadata") or {}
        ref = (md.get("namespace") or "argocd", md.get("name") or "")
        by_name.setdefault(ref[1], ref)
        for r in (app.get("status") or {}).get("resources") or ():
            if r.get("kind") == "Application":  # an app of apps lists its children: they are not workloads
                continue
            by_resource.setdefault((r.get("kind") or "", r.get("namespace") or "", r.get("name") or ""), ref)
    return by_resource, by_name


def application_of(snap: Snapshot, key: Key, index: AppIndex) -> tuple[str, str] | None:
    """The Application deploying the object `key`, or that of the workload owning it (a pod's Deployment)."""
    by_resource, by_name = index
    obj = snap.get(*key)
    chain = [obj, snap.top_controller(obj)] if obj is not None else []
    if key in by_resource:
        return by_resource[key]
    for o in chain:
        md = o.get("metadata") or {}
        okey = (o.get("kind") or "", md.get("namespace") or "", md.get("name") or "")
        if okey in by_resource:
            return by_resource[okey]
        labels = md.get("labels") or {}
        for label in TRACKING_LABELS:
            if labels.get(label) in by_name:
                return by_name[labels[label]]
    return None


def fill_applications(snap: Snapshot, findings: list[Finding]) -> None:
    """Replace `<application>` in remediation commands with the Application that deploys what the finding
    is about (the workloads it speaks for first, then its own object). Left as is when none is known."""
    todo = [f for f in findings if any(r.command and APPLICATION in r.command for r in f.remediation)]
    if not todo or not kind_objects(snap, "Application.argoproj.io"):
        return
    index = application_index(snap)
    for f in todo:
        keys = [k for k in f.subjects if k != f.object.key] + [f.object.key]
        app = next((a for a in (application_of(snap, k, index) for k in keys) if a is not None), None)
        if app is None:
            continue
        ns, name = app
        for r in f.remediation:
            if r.command and APPLICATION in r.command:
                r.command = r.command.replace(APPLICATION, f"{name} --app-namespace {ns}")
