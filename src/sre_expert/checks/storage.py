"""Storage: claims that do not bind or lost their volume, missing/default StorageClasses, volumes that
cannot be released, resized, attached or mounted.

Linking: a PVC finding speaks for the claim (pods waiting for it depend on ("PersistentVolumeClaim", ns,
claim)) and for its waiting pods, so a Service whose pods wait for storage is explained too. A claim of a
WaitForFirstConsumer class that no pod uses yet, or whose pod is not scheduled yet, is not a failure.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sre_expert.checks.registry import check, finding
from sre_expert.core.k8s import condition, pod_ready, pod_state, pod_terminal
from sre_expert.core.model import Finding, Key, ObjectRef
from sre_expert.core.snapshot import Snapshot, event_time
from sre_expert.domain.event_text import (
    RECENT,
    ago,
    cond_line,
    event_line,
    event_message,
    latest_by_reason,
    recent_events,
)

Obj = dict[str, Any]

PROVISION_GRACE_SECONDS = 300
STATIC_BIND_GRACE_SECONDS = 120
DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)
SELECTED_NODE = "volume.kubernetes.io/selected-node"
PROVISIONER_ANNOTATIONS = (
    "volume.kubernetes.io/storage-provisioner",
    "volume.beta.kubernetes.io/storage-provisioner",
)
PENDING_REASONS = (
    "ProvisioningFailed",
    "ExternalProvisioning",
    "FailedBinding",
    "Provisioning",
    "WaitForFirstConsumer",
    "WaitForPodScheduled",
    "VolumeMismatch",
)
VOLUME_RE = re.compile(r'volume "([^"]+)"')
MAX_SUBJECT_PODS = 100


class ClaimUsers:
    """(namespace, claim) → pods that mount it, including generic ephemeral volumes."""

    def __init__(self, snap: Snapshot):
        users: dict[tuple[str, str], list[Obj]] = defaultdict(list)
        for pod in snap.list("Pod"):
            md = pod["metadata"]
            for v in (pod.get("spec") or {}).get("volumes") or ():
                claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
                if not claim and v.get("ephemeral") is not None:
                    claim = f"{md['name']}-{v.get('name')}"
                if claim:
                    users[(md.get("namespace") or "", claim)].append(pod)
        self._users = dict(users)

    def of(self, ns: str, claim: str) -> list[Obj]:
        return self._users.get((ns, claim), [])


def _pkey(pod: Obj) -> Key:
    md = pod["metadata"]
    return ("Pod", md.get("namespace") or "", md["name"])


def default_classes(snap: Snapshot) -> list[Obj]:
    return [
        sc
        for sc in snap.list("StorageClass")
        if any(
            ((sc["metadata"].get("annotations") or {}).get(a) or "").lower() == "true"
            for a in DEFAULT_CLASS_ANNOTATIONS
        )
    ]


def _age_s(snap: Snapshot, obj: Obj) -> float:
    age = snap.age(obj["metadata"].get("creationTimestamp"))
    return age.total_seconds() if age is not None else 1e9


def _waiting(pods: list[Obj]) -> list[Obj]:
    return [p for p in pods if not pod_terminal(p) and not pod_ready(p)]


def _sc_line(sc: Obj) -> str:
    return (
        f"StorageClass {sc['metadata']['name']}: provisioner {sc.get('provisioner')}, "
        f"volumeBindingMode {sc.get('volumeBindingMode') or 'Immediate'}, "
        f"reclaimPolicy {sc.get('reclaimPolicy') or 'Delete'}"
        + (", allowVolumeExpansion true" if sc.get("allowVolumeExpansion") else "")
    )


@check(
    codes=("PVC-PENDING", "PVC-STORAGECLASS-MISSING", "PVC-NO-DEFAULT-STORAGECLASS", "PVC-LOST", "PVC-RESIZE-PENDING",
        "PVC-RESIZE-FAILED"),
    reads=("PersistentVolumeClaim",),
    speaks_for=("PersistentVolumeClaim", "Pod"),
    depends_on=("StorageClass",),
)
def claims(snap: Snapshot) -> Iterator[Finding]:
    pvcs = snap.list("PersistentVolumeClaim")
    if not pvcs:
        return
    users = snap.memo("storage.claim_users", ClaimUsers)
    classes_captured = snap.count("StorageClass") > 0
    defaults = default_classes(snap)
    for pvc in pvcs:
        st = pvc.get("status") or {}
        phase = st.get("phase")
        if phase == "Pending":
            f = _pending(snap, pvc, users, classes_captured, defaults)
            if f:
                yield f
        elif phase == "Lost":
            yield _lost(snap, pvc, users)
        elif phase == "Bound":
            yield from _bound(snap, pvc, users, classes_captured)


def _claim_common(snap: Snapshot, pvc: Obj, pods: list[Obj]) -> tuple[list[str], list[Key]]:
    spec = pvc.get("spec") or {}
    req = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    evidence = [
        f"status.phase: {(pvc.get('status') or {}).get('phase')} for "
        f"{ago(snap, pvc['metadata'].get('creationTimestamp')).removesuffix(' ago')}",
        f"spec: storageClassName {spec['storageClassName']!r}"
        if "storageClassName" in spec
        else "spec: storageClassName not set",
    ]
    evidence[-1] += f", request {req}, accessModes {','.join(spec.get('accessModes') or [])}"
    if spec.get("volumeName"):
        evidence.append(f"spec.volumeName: {spec['volumeName']} (pre-bound)")
    waiting = _waiting(pods)
    if waiting:
        shown = ", ".join(p["metadata"]["name"] for p in waiting[:5])
        evidence.append(f"{len(waiting)} pod(s) waiting for it: {shown}" + (" …" if len(waiting) > 5 else ""))
    elif pods:
        evidence.append(f"used by {len(pods)} pod(s): {', '.join(p['metadata']['name'] for p in pods[:5])}")
    else:
        evidence.append("no pod uses this claim")
    return evidence, [_pkey(p) for p in waiting[:MAX_SUBJECT_PODS]]


def _pending(snap: Snapshot, pvc: Obj, users: ClaimUsers, classes_captured: bool,
             defaults: list[Obj]) -> Finding | None:
    md = pvc["metadata"]
    ns, name = md.get("namespace") or "", md["name"]
    spec = pvc.get("spec") or {}
    pods = users.of(ns, name)
    evidence, subjects = _claim_common(snap, pvc, pods)
    events = recent_events(snap, pvc, reasons=PENDING_REASONS)
    failed = [e for e in events if e.get("type") == "Warning"]
    age = _age_s(snap, pvc)
    sc_name = spec.get("storageClassName")
    sc = None
    if "storageClassName" not in spec or sc_name is None:
        if not defaults and classes_captured and not spec.get("volumeName"):
            if age < 60 and not failed:
                return None
            evidence.append("no StorageClass has annotation storageclass.kubernetes.io/is-default-class=true")
            evidence.append(
                "StorageClasses: " + ", ".join(s["metadata"]["name"] for s in snap.list("StorageClass"))
            )
            evidence.extend(event_line(snap, e) for e in latest_by_reason(events))
            return finding(
                "PVC-NO-DEFAULT-STORAGECLASS",
                pvc,
                title=f"PVC {name} is Pending: it names no StorageClass and the cluster has no default one",
                evidence=evidence,
                subjects=subjects,
            )
        sc = defaults[0] if defaults else None
        if sc is not None:
            evidence.append(f"default {_sc_line(sc)}")
    elif sc_name:
        sc = snap.get("StorageClass", "", sc_name)
        if sc is None and classes_captured:
            evidence.append(
                f'StorageClass "{sc_name}" does not exist; existing: '
                + ", ".join(s["metadata"]["name"] for s in snap.list("StorageClass"))
            )
            evidence.extend(event_line(snap, e) for e in latest_by_reason(events))
            return finding(
                "PVC-STORAGECLASS-MISSING",
                pvc,
                title=f"PVC {name} is Pending: StorageClass {sc_name} does not exist",
                evidence=evidence,
                subjects=subjects,
                params={"storageclass": sc_name},
                depends_on=[("StorageClass", "", sc_name)],
            )
        if sc is not None:
            evidence.append(_sc_line(sc))
        elif not classes_captured:
            evidence.append(f"StorageClass {sc_name}: not in the capture (StorageClasses were not collected)")

    wffc = sc is not None and sc.get("volumeBindingMode") == "WaitForFirstConsumer"
    selected = (md.get("annotations") or {}).get(SELECTED_NODE)
    if wffc and not failed:
        if not selected:
            return None  # waits for a consumer pod to be scheduled: the pod's scheduling is the story
        if age < PROVISION_GRACE_SECONDS:
            return None
    if not failed:
        static = sc_name == "" or (sc is not None and sc.get("provisioner") == "kubernetes.io/no-provisioner")
        grace = STATIC_BIND_GRACE_SECONDS if static else PROVISION_GRACE_SECONDS
        if age < grace:
            return None
    if selected:
        evidence.append(
            f"metadata.annotations[{SELECTED_NODE}]: {selected} (scheduler picked a node; "
            "provisioning should have started)"
        )
    provisioner = next(
        (
            (md.get("annotations") or {}).get(a)
            for a in PROVISIONER_ANNOTATIONS
            if (md.get("annotations") or {}).get(a)
        ),
        None,
    ) or (sc or {}).get("provisioner")
    evidence.extend(event_line(snap, e) for e in latest_by_reason(events))
    if not events:
        evidence.append("no provisioning or binding events in the last hour")
    if failed:
        msg = event_message(failed[-1])
        why = f": {failed[-1].get('reason')}: {msg[:140] + '…' if len(msg) > 140 else msg}"
    elif any(e.get("reason") == "ExternalProvisioning" for e in events):
        why = f": provisioner {provisioner} has not created a volume"
    elif sc_name == "" or spec.get("volumeName"):
        why = ": no matching PersistentVolume to bind"
    else:
        why = ""
    if spec.get("volumeName"):
        pv = snap.get("PersistentVolume", "", spec["volumeName"])
        if pv is None and snap.count("PersistentVolume") > 0:
            evidence.append(f"PersistentVolume {spec['volumeName']} does not exist")
        elif pv is not None:
            ref = (pv.get("spec") or {}).get("claimRef") or {}
            evidence.append(
                f"PersistentVolume {spec['volumeName']}: phase {(pv.get('status') or {}).get('phase')}"
                + (f", claimRef {ref.get('namespace')}/{ref.get('name')}" if ref else "")
            )
    deps = [("StorageClass", "", sc["metadata"]["name"])] if sc is not None else []
    return finding(
        "PVC-PENDING",
        pvc,
        title=f"PVC {name} is Pending{why}",
        evidence=evidence,
        subjects=subjects,
        depends_on=deps,
        params={
            "storageclass": (sc or {}).get("metadata", {}).get("name") or sc_name or "",
            "provisioner": provisioner or "?",
        },
    )


def _lost(snap: Snapshot, pvc: Obj, users: ClaimUsers) -> Finding:
    md = pvc["metadata"]
    pods = users.of(md.get("namespace") or "", md["name"])
    evidence, subjects = _claim_common(snap, pvc, pods)
    vol = (pvc.get("spec") or {}).get("volumeName")
    if vol:
        pv = snap.get("PersistentVolume", "", vol)
        evidence.append(
            f"spec.volumeName: {vol}: "
            + (
                "PersistentVolume does not exist"
                if pv is None
                else f"PersistentVolume phase {(pv.get('status') or {}).get('phase')}"
            )
        )
    evidence.extend(
        event_line(snap, e) for e in latest_by_reason(recent_events(snap, pvc, warning_only=True))
    )
    return finding(
        "PVC-LOST",
        pvc,
        title=f"PVC {md['name']} is Lost: its PersistentVolume {vol or '?'} is gone",
        evidence=evidence,
        subjects=subjects,
        params={"volume": vol or ""},
    )


def _bound(snap: Snapshot, pvc: Obj, users: ClaimUsers, classes_captured: bool) -> Iterator[Finding]:
    md = pvc["metadata"]
    ns, name = md.get("namespace") or "", md["name"]
    spec = pvc.get("spec") or {}
    st = pvc.get("status") or {}
    sc_name = spec.get("storageClassName")
    if sc_name and classes_captured and snap.get("StorageClass", "", sc_name) is None:
        yield finding(
            "PVC-STORAGECLASS-MISSING",
            pvc,
            severity="info",
            title=f"PVC {name} is Bound but its StorageClass {sc_name} no longer exists",
            evidence=[
                f"spec.storageClassName: {sc_name}",
                f"status.phase: Bound to {spec.get('volumeName')}",
                f'StorageClass "{sc_name}" does not exist: resizing this claim and creating new claims '
                "from the same template will fail",
            ],
            params={"storageclass": sc_name},
        )
    want = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    have = (st.get("capacity") or {}).get("storage")
    resize_failed = recent_events(
        snap, pvc, reasons=("VolumeResizeFailed", "FileSystemResizeFailed"), warning_only=True
    )
    infeasible = {
        k: v for k, v in (st.get("allocatedResourceStatuses") or {}).items() if "Infeasible" in str(v)
    }
    if resize_failed or infeasible:
        evidence = [f"spec.resources.requests.storage: {want}, status.capacity.storage: {have}"]
        evidence.extend(f"status.allocatedResourceStatuses[{k}]: {v}" for k, v in infeasible.items())
        evidence.extend(event_line(snap, e) for e in latest_by_reason(resize_failed))
        sc = snap.get("StorageClass", "", sc_name or "")
        if sc is not None and not sc.get("allowVolumeExpansion"):
            evidence.append(f"StorageClass {sc_name}: allowVolumeExpansion is not true")
        yield finding(
            "PVC-RESIZE-FAILED",
            pvc,
            title=f"PVC {name}: resize from {have} to {want} failed",
            evidence=evidence,
            params={"storageclass": sc_name or ""},
        )
        return
    c = condition(pvc, "FileSystemResizePending")
    if c is not None and c.get("status") == "True":
        pods = [p for p in users.of(ns, name) if not pod_terminal(p)]
        evidence = [
            cond_line(snap, c),
            f"spec.resources.requests.storage: {want}, status.capacity.storage: {have}",
        ]
        evidence.append("pods using it: " + (", ".join(p["metadata"]["name"] for p in pods) or "none"))
        yield finding(
            "PVC-RESIZE-PENDING",
            pvc,
            title=f"PVC {name}: volume grown to {want}, file system resize waits for a pod (re)start",
            evidence=evidence,
            params={"pod": pods[0]["metadata"]["name"] if pods else "<pod>"},
        )


@check(codes=("PV-FAILED", "PV-RELEASED"), reads=("PersistentVolume",), speaks_for=("PersistentVolume",), depends_on=())
def volumes(snap: Snapshot) -> Iterator[Finding]:
    for pv in snap.list("PersistentVolume"):
        st = pv.get("status") or {}
        spec = pv.get("spec") or {}
        phase = st.get("phase")
        name = pv["metadata"]["name"]
        ref = spec.get("claimRef") or {}
        claim = f"{ref.get('namespace')}/{ref.get('name')}" if ref else "none"
        policy = spec.get("persistentVolumeReclaimPolicy") or "?"
        if phase == "Failed":
            evidence = [
                "status.phase: Failed",
                f"spec.persistentVolumeReclaimPolicy: {policy}",
                f"spec.claimRef: {claim}",
            ]
            if st.get("message"):
                evidence.append(f'status.message: "{st["message"]}"')
            if st.get("reason"):
                evidence.append(f"status.reason: {st['reason']}")
            evidence.extend(
                event_line(snap, e) for e in latest_by_reason(snap.events_for(pv, warning_only=True))
            )
            yield finding(
                "PV-FAILED",
                pv,
                title=f"PersistentVolume {name} is Failed: reclaim ({policy}) did not complete",
                evidence=evidence,
            )
        elif phase == "Released" and policy == "Retain":
            cap = (spec.get("capacity") or {}).get("storage")
            yield finding(
                "PV-RELEASED",
                pv,
                title=f"PersistentVolume {name} ({cap}) is Released and retained: "
                f"former claim {claim} is gone",
                evidence=[
                    "status.phase: Released",
                    "spec.persistentVolumeReclaimPolicy: Retain",
                    f"spec.claimRef: {claim} (no longer exists)",
                    f"spec.storageClassName: {spec.get('storageClassName') or ''}",
                    "the data is kept, but no new claim can bind this volume until claimRef is cleared",
                ],
            )


@check(
    codes=("PVC-ATTACH-FAILED",),
    reads=("Pod", "Event"),
    speaks_for=("PersistentVolume", "PersistentVolumeClaim", "Pod"),
    depends_on=(),
)
def attach_failures(snap: Snapshot) -> Iterator[Finding]:
    """FailedAttachVolume / FailedMount of persistent volumes on pods that are still not running, and
    VolumeAttachments reporting an attach error."""
    by_pv: dict[str, dict[str, Any]] = {}

    def entry(pv_name: str) -> dict[str, Any]:
        return by_pv.setdefault(pv_name, {"pods": {}, "events": [], "va": []})

    for va in snap.list("VolumeAttachment"):
        st = va.get("status") or {}
        err = st.get("attachError")
        if err and not st.get("attached"):
            pvn = ((va.get("spec") or {}).get("source") or {}).get("persistentVolumeName")
            if pvn:
                entry(pvn)["va"].append(va)
    cutoff = snap.now - RECENT
    for key, evs in snap.event_index().items():
        if key[0] != "Pod":
            continue
        pod = None
        for ev in evs:
            reason = ev.get("reason")
            if reason not in ("FailedAttachVolume", "FailedMount") or ev.get("type") != "Warning":
                continue
            m = VOLUME_RE.search(ev.get("message") or "")
            if not m:
                continue
            pv = snap.get("PersistentVolume", "", m.group(1))
            if reason == "FailedMount" and pv is None:
                continue  # secret/configmap/projected mounts belong to the pod checks
            if pod is None:
                pod = snap.get(*key)
                if pod is None or pod_ready(pod) or pod_terminal(pod):
                    break
            t = event_time(ev)
            if t is not None and t < cutoff:
                continue
            e = entry(m.group(1))
            e["pods"][pod["metadata"]["name"]] = pod
            e["events"].append(ev)
    for pv_name, e in by_pv.items():
        if not e["pods"] and not e["va"]:
            continue
        pv = snap.get("PersistentVolume", "", pv_name)
        ref = ((pv or {}).get("spec") or {}).get("claimRef") or {}
        pvc = snap.get("PersistentVolumeClaim", ref.get("namespace"), ref.get("name") or "") if ref else None
        obj: Obj | ObjectRef
        if pvc is not None:
            obj = pvc
        elif pv is not None:
            obj = pv
        else:
            obj = ObjectRef("v1", "PersistentVolume", None, pv_name)
        pods = list(e["pods"].values())
        evidence = []
        reasons = {ev.get("reason") for ev in e["events"]}
        for ev in latest_by_reason(sorted(e["events"], key=lambda x: event_time(x) or snap.now), limit=3):
            evidence.append(f"pod {ev['involvedObject'].get('name')}: {event_line(snap, ev)}")
        for va in e["va"]:
            err = (va.get("status") or {}).get("attachError") or {}
            evidence.append(
                f"VolumeAttachment {va['metadata']['name']} (node {(va.get('spec') or {}).get('nodeName')}, "
                f"attacher {(va.get('spec') or {}).get('attacher')}): status.attachError "
                f'"{err.get("message")}" at {err.get("time")}'
            )
        evidence.extend(
            f"pod {pod_state(p)} on node {(p.get('spec') or {}).get('nodeName')}" for p in pods[:5]
        )
        if pv is not None:
            evidence.append(
                f"PersistentVolume {pv_name}: accessModes "
                f"{','.join((pv.get('spec') or {}).get('accessModes') or [])}"
                + (
                    f", CSI driver {((pv.get('spec') or {}).get('csi') or {}).get('driver')}"
                    if (pv.get("spec") or {}).get("csi")
                    else ""
                )
            )
        multi = any("Multi-Attach" in (ev.get("message") or "") for ev in e["events"])
        what = (
            "is still attached to another node (Multi-Attach)"
            if multi
            else "cannot be attached"
            if "FailedAttachVolume" in reasons or e["va"]
            else "cannot be mounted"
        )
        subjects: list[Key] = [_pkey(p) for p in pods]
        if pv is not None and pvc is not None:
            subjects.append(("PersistentVolume", "", pv_name))
        name = obj["metadata"]["name"] if isinstance(obj, dict) else obj.name
        yield finding(
            "PVC-ATTACH-FAILED",
            obj,
            title=f"Volume {pv_name} of {'PVC ' + name if pvc is not None else 'PV ' + pv_name} {what}: "
            f"{len(pods)} pod(s) stuck",
            evidence=evidence,
            subjects=subjects,
            params={
                "pod": pods[0]["metadata"]["name"] if pods else "<pod>",
                "pod_namespace": (pods[0]["metadata"].get("namespace") if pods else ref.get("namespace"))
                or "default",
                "volume": pv_name,
            },
        )
