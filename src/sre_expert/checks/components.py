"""Platform components from their data files: each installed component's controllers must be running.

Data-driven: the controller roles come from `knowledge/components/*.yaml` and are located wherever and
however the component was installed (`components.locate_controllers`). One finding per controller
workload that is short of available replicas, or missing while something needs it; it depends on the
workload and its pods, so a workload or pod finding that says *why* (crash loop, image pull, pending on a
PVC) explains it. An install that differs from the reference platform (other names, namespaces, version,
roles left out) gets one info note per component. Components that are simply absent share one info line.
"""

from __future__ import annotations

from collections.abc import Iterator

from sre_expert.checks.registry import check, finding
from sre_expert.core.model import COMPONENT_KIND, Finding, ObjectRef
from sre_expert.core.snapshot import Snapshot
from sre_expert.knowledge.platform_components import (
    WORKLOAD_API,
    Component,
    ComponentStatus,
    absence_evidence,
    load_components,
    status_of,
)


def _not_collected(snap: Snapshot, kind: str, namespace: str) -> bool:
    if not snap.collected(kind):
        return True
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


def _absent(snap: Snapshot, comp: Component) -> bool:
    """True when the component is known not to be installed; False when the sweep could not tell (noted)."""
    homes = sorted({*comp.namespaces, *comp.detect.namespaces, *(r.namespace for r in comp.controllers)})
    unseen = [ns for ns in homes if not snap.sees(ns)]
    if unseen and not _crds_prove_absence(snap, comp):
        snap.outside(unseen[0], f"{comp.title} (namespace {', '.join(unseen)})")
        return False
    return True


def _tag(f: Finding, comp: Component) -> Finding:
    f.component = comp.component
    key = (COMPONENT_KIND, "", comp.name)
    if key not in f.subjects:
        f.subjects.append(key)
    return f


def component_findings(snap: Snapshot, comp: Component, st: ComponentStatus | None = None) -> Iterator[Finding]:
    """Findings about one installed component's controllers (nothing when it is not installed)."""
    st = st or status_of(snap, comp, ())
    if not st.installed:
        return
    installed = "installed: " + ", ".join(st.detected_by)
    for ns in sorted({r.namespace for r in comp.controllers if not snap.sees(r.namespace)}):
        snap.outside(ns, f"{comp.title} controllers (namespace {ns})")
    for cs in st.controllers:
        ref = cs.ref
        kind, ns, name = cs.key
        if _not_collected(snap, kind, ns) or not snap.sees(ns):
            continue
        obj = ObjectRef(WORKLOAD_API[kind], kind, ns, name)
        params = {"component": comp.name}
        if not cs.found:
            if not cs.required:
                continue  # not part of this install and nothing needs it: the differences note says so
            ev = [f"{ref.display()} is not in the snapshot, and no {ref.kind} matches its other names, image or labels"]
            note = _namespace_note(snap, ref.namespace)
            if note:
                ev.append(note)
            if cs.dependents:
                ev.append("needed by: " + ", ".join(cs.dependents) + " — nothing reconciles them")
            ev.append(installed)
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
                title=f"{comp.title}: {kind} {ns}/{name} {what}",
                evidence=cs.evidence, params=params,
                depends_on=[cs.key, *cs.pods],
                severity="critical" if cs.available == 0 else "warning",
            )
        else:
            continue
        yield _tag(f, comp)
    diffs = st.differences
    if diffs:
        f = finding(
            "COMPONENT-DIFFERS-FROM-REFERENCE", ObjectRef("", "Component", None, comp.name),
            title=f"{comp.title} is installed differently from the reference platform",
            evidence=diffs + [installed], params={"component": comp.name, "namespace": comp.namespaces[0]},
            speaks_for_object=False,
        )
        yield _tag(f, comp)


@check(
    codes=("COMPONENT-CONTROLLER-MISSING", "COMPONENT-CONTROLLER-UNAVAILABLE", "COMPONENT-NOT-INSTALLED",
        "COMPONENT-DIFFERS-FROM-REFERENCE"),
    reads=("Deployment", "StatefulSet", "DaemonSet"),
    speaks_for=(COMPONENT_KIND, "DaemonSet", "Deployment", "StatefulSet"),
    depends_on=("DaemonSet", "Deployment", "Pod", "StatefulSet"),
)
def platform_components(snap: Snapshot) -> Iterator[Finding]:
    absent: list[Component] = []
    for comp in load_components().values():
        st = status_of(snap, comp, ())
        if st.installed:
            yield from component_findings(snap, comp, st)
        elif _absent(snap, comp):
            absent.append(comp)
    if not absent:
        return
    names = [c.name for c in absent]
    title = (f"{absent[0].title} is not installed" if len(absent) == 1
             else f"Not installed: {', '.join(names)} ({len(absent)} of {len(load_components())} platform components)")
    f = finding(
        "COMPONENT-NOT-INSTALLED",
        ObjectRef("", "Component", None, names[0] if len(absent) == 1 else "absent-components"),
        title=title,
        evidence=[f"{c.name}: looked for " + "; ".join(absence_evidence(snap, c)) for c in absent],
        params={"component": names[0], "namespace": absent[0].namespaces[0]},
        subjects=[(COMPONENT_KIND, "", n) for n in names],
        speaks_for_object=len(absent) == 1,
    )
    f.component = absent[0].component if len(absent) == 1 else "platform"
    yield f
