"""Platform components from their data files: each installed component's controllers must be running.

Data-driven: the controllers come from `knowledge/components/*.yaml`. One finding per controller
workload that is missing or short of available replicas; it depends on the workload and its pods, so a
workload or pod finding that says *why* (crash loop, image pull, pending on a PVC) explains it. A
component that is not installed at all is an info finding, never an error.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..components import COMPONENT_CODES, WORKLOAD_API, Component, absence_evidence, controller_status, detection_evidence, load_components
from ..model import Finding, ObjectRef
from ..registry import check, finding
from ..snapshot import Snapshot


def _not_collected(snap: Snapshot, kind: str, namespace: str) -> bool:
    for e in snap.info.collection_errors:
        if e.get("kind") == kind and (not e.get("namespace") or e.get("namespace") == namespace):
            return True
    return False


def _namespace_note(snap: Snapshot, namespace: str) -> str | None:
    if snap.get("Namespace", None, namespace) is not None:
        return None
    if snap.count("Namespace"):
        return f"namespace {namespace} does not exist"
    if not any(snap.list(k, namespace) for k in ("Pod", "Service", "ConfigMap", "Deployment", "StatefulSet", "DaemonSet")):
        return f"nothing from namespace {namespace} is in the snapshot (deleted, or not collected)"
    return None


def _crds_prove_absence(snap: Snapshot, comp: Component) -> bool:
    """CRDs are cluster-scoped: when they were listed, a missing CRD says "not installed" whatever the scope."""
    return bool(comp.detect.crds) and snap.collected("CustomResourceDefinition") and snap.count("CustomResourceDefinition") > 0


def component_findings(snap: Snapshot, comp: Component) -> Iterator[Finding]:
    detected = detection_evidence(snap, comp)
    if not detected:
        homes = sorted({*comp.namespaces, *comp.detect.namespaces, *(r.namespace for r in comp.controllers)})
        unseen = [ns for ns in homes if not snap.sees(ns)]
        if unseen and not _crds_prove_absence(snap, comp):
            snap.outside(unseen[0], f"{comp.title} (namespace {', '.join(unseen)})")
            return
        f = finding(
            "COMPONENT-NOT-INSTALLED",
            ObjectRef("", "Component", None, comp.name),
            title=f"{comp.title} is not installed",
            evidence=["looked for: " + "; ".join(absence_evidence(snap, comp))],
            params={"component": comp.name, "namespace": comp.namespaces[0]},
        )
        f.component = comp.component
        yield f
        return
    installed = "installed: " + ", ".join(detected)
    for ns in sorted({r.namespace for r in comp.controllers if not snap.sees(r.namespace)}):
        snap.outside(ns, f"{comp.title} controllers (namespace {ns})")
    for ref in comp.controllers:
        if _not_collected(snap, ref.kind, ref.namespace) or not snap.sees(ref.namespace):
            continue
        cs = controller_status(snap, ref)
        obj = ObjectRef(WORKLOAD_API[ref.kind], ref.kind, ref.namespace, ref.name)
        params = {"component": comp.name}
        if not cs.found:
            ev = [f"{ref.display()} is not in the snapshot", installed]
            note = _namespace_note(snap, ref.namespace)
            if note:
                ev.insert(1, note)
            f = finding(
                "COMPONENT-CONTROLLER-MISSING", obj,
                title=f"{comp.title}: {ref.kind} {ref.namespace}/{ref.name} is missing",
                evidence=ev, params=params, depends_on=[ref.key],
            )
        elif not cs.healthy:
            if cs.desired == 0:
                what = "desires 0 pods (scaled to zero or schedulable on no node)"
            else:
                what = f"has {cs.available}/{cs.desired} available"
            f = finding(
                "COMPONENT-CONTROLLER-UNAVAILABLE", obj,
                title=f"{comp.title}: {ref.kind} {ref.namespace}/{ref.name} {what}",
                evidence=cs.evidence, params=params,
                depends_on=[ref.key, *cs.pods],
                severity="critical" if cs.available == 0 else "warning",
            )
        else:
            continue
        f.component = comp.component
        yield f


@check("components", codes=COMPONENT_CODES, reads=("Deployment", "StatefulSet", "DaemonSet"))
def platform_components(snap: Snapshot) -> Iterator[Finding]:
    for comp in load_components().values():
        yield from component_findings(snap, comp)
