"""StorageClasses, PersistentVolumeClaims and the PersistentVolumes a CSI provisioner binds to them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from synth.meta import new_object, number, object_ref, ts

LONGHORN = "driver.longhorn.io"
LONGHORN_PARAMS = {
    "dataEngine": "v1",
    "dataLocality": "disabled",
    "fromBackup": "",
    "fsType": "ext4",
    "numberOfReplicas": "3",
    "staleReplicaTimeout": "30",
}


def storage_class(
    name: str,
    created: datetime,
    *,
    provisioner: str = LONGHORN,
    parameters: Mapping[str, str] | None = None,
    default: bool = False,
    binding_mode: str = "Immediate",
    expansion: bool = True,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    annotations = {"storageclass.kubernetes.io/is-default-class": "true"} if default else None
    obj = new_object("StorageClass", name, None, created, labels=labels, annotations=annotations)
    obj.update(
        {
            "allowVolumeExpansion": expansion,
            "parameters": dict(parameters if parameters is not None else LONGHORN_PARAMS),
            "provisioner": provisioner,
            "reclaimPolicy": "Delete",
            "volumeBindingMode": binding_mode,
        }
    )
    return obj


def pvc(
    namespace_: str,
    name: str,
    size: str,
    created: datetime,
    *,
    storage_class_name: str | None = "longhorn",
    access_modes: tuple[str, ...] = ("ReadWriteOnce",),
    labels: Mapping[str, str] | None = None,
    owners: list[dict[str, Any]] | None = None,
    provisioner: str = LONGHORN,
) -> dict[str, Any]:
    """A claim as created, before binding (phase Pending); `bind` completes it."""
    annotations = {}
    if storage_class_name:
        annotations = {
            "volume.beta.kubernetes.io/storage-provisioner": provisioner,
            "volume.kubernetes.io/storage-provisioner": provisioner,
        }
    obj = new_object(
        "PersistentVolumeClaim",
        name,
        namespace_,
        created,
        labels=labels,
        annotations=annotations or None,
        owners=owners or [],
        finalizers=["kubernetes.io/pvc-protection"],
    )
    spec: dict[str, Any] = {"accessModes": list(access_modes), "resources": {"requests": {"storage": size}}}
    if storage_class_name is not None:
        spec["storageClassName"] = storage_class_name
    spec["volumeMode"] = "Filesystem"
    obj["spec"] = spec
    obj["status"] = {"phase": "Pending"}
    return obj


def bind(claim: dict[str, Any], *, provisioner: str = LONGHORN) -> dict[str, Any]:
    """Provision a PV for the claim and bind both, as the CSI external-provisioner does. Returns the PV."""
    md, spec = claim["metadata"], claim["spec"]
    created = datetime.fromisoformat(md["creationTimestamp"])
    bound_at = created + timedelta(seconds=number("bind", md["uid"], lo=2, hi=9))
    pv_name = f"pvc-{md['uid']}"
    size = spec["resources"]["requests"]["storage"]
    pv = new_object(
        "PersistentVolume",
        pv_name,
        None,
        bound_at,
        annotations={
            "pv.kubernetes.io/provisioned-by": provisioner,
            "volume.kubernetes.io/provisioner-deletion-secret-name": "",
            "volume.kubernetes.io/provisioner-deletion-secret-namespace": "",
        },
        finalizers=["external-provisioner.volume.kubernetes.io/finalizer", "kubernetes.io/pv-protection"],
    )
    claim_ref = object_ref(claim)
    pv["spec"] = {
        "accessModes": list(spec["accessModes"]),
        "capacity": {"storage": size},
        "claimRef": claim_ref,
        "csi": {
            "driver": provisioner,
            "fsType": "ext4",
            "volumeAttributes": {
                **LONGHORN_PARAMS,
                "storage.kubernetes.io/csiProvisionerIdentity": "1735689600000-9781-driver.longhorn.io",
            },
            "volumeHandle": pv_name,
        },
        "persistentVolumeReclaimPolicy": "Delete",
        "storageClassName": spec.get("storageClassName", ""),
        "volumeMode": "Filesystem",
    }
    pv["status"] = {"lastPhaseTransitionTime": ts(bound_at), "phase": "Bound"}
    md.setdefault("annotations", {}).update(
        {"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes"}
    )
    spec["volumeName"] = pv_name
    claim["status"] = {
        "accessModes": list(spec["accessModes"]),
        "capacity": {"storage": size},
        "phase": "Bound",
    }
    return pv
