"""Storage and ResourceQuota checks: one fault at a time on the healthy reference platform.

Faults are what the PV controller, the CSI external-provisioner, the attach/detach controller, the
scheduler and the ReplicaSet controller write (phases, conditions, annotations, events); each test checks
the finding, its evidence, its links (pods waiting for a claim are its symptoms; a FailedCreate refused
by a quota is the quota's symptom) and that nothing else of severity warning or above appears.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from scenario import Scenario, has, live_pods

from synth import faults
from synth import pods as podlib
from synth import storage as stlib
from synth.builder import PlatformBuilder
from synth.meta import fmt_cpu, new_object, safe_suffix, ts, uid

pytestmark = pytest.mark.scenario

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
MYCURE = "mycure-production"
LFH = "lfh-staging"
MINE = ("PVC-", "PV-", "QUOTA-")

Obj = dict[str, Any]


# --------------------------------------------------------------------------------------------- harness

H = Scenario(NOW, areas=("storage", "quota"), namespace=MYCURE)
platform, run, dump, one, only_serious = H.platform, H.run, H.dump, H.one, H.only_serious


# --------------------------------------------------------------------------------------------- faults


def pending_claim(
    b: PlatformBuilder,
    name: str,
    *,
    storage_class: str | None = "longhorn",
    age: timedelta,
    namespace: str = MYCURE,
    size: str = "20Gi",
) -> Obj:
    claim = b.add(
        stlib.pvc(
            namespace,
            name,
            size,
            NOW - age,
            storage_class_name=storage_class,
            labels={"app.kubernetes.io/instance": namespace, "app.kubernetes.io/name": "mongodb"},
        )
    )
    if storage_class is None or b.get("StorageClass", None, storage_class) is None:
        claim["metadata"].pop("annotations", None)  # no provisioner is ever assigned
    return claim


def scale_mongodb_to_two(b: PlatformBuilder, claim: Obj, message: str) -> Obj:
    """mongodb-1 created by the StatefulSet controller, waiting for its claim: unschedulable."""
    w = b.workload("StatefulSet", MYCURE, "mongodb")
    w.controller["spec"]["replicas"] = 2
    first = live_pods(b, "StatefulSet", "mongodb")[0]
    pod = copy.deepcopy(first)
    md = pod["metadata"]
    created = NOW - timedelta(minutes=20)
    md.update(name="mongodb-1", uid=uid("Pod", MYCURE, "mongodb-1"), creationTimestamp=ts(created))
    md["labels"]["statefulset.kubernetes.io/pod-name"] = "mongodb-1"
    md["labels"]["apps.kubernetes.io/pod-index"] = "1"
    pod["spec"]["hostname"] = "mongodb-1"
    pod["spec"].pop("nodeName", None)
    for v in pod["spec"]["volumes"]:
        if v.get("persistentVolumeClaim"):
            v["persistentVolumeClaim"]["claimName"] = claim["metadata"]["name"]
    pod["status"] = {
        "conditions": [podlib.pod_condition("PodScheduled", "False", created, "Unschedulable", message)],
        "phase": "Pending",
        "qosClass": first["status"]["qosClass"],
    }
    b.add(pod)
    w.pods.append(pod)
    b.add_event(
        pod,
        "FailedScheduling",
        message,
        "Warning",
        count=12,
        component="default-scheduler",
        first=created,
        last=NOW - timedelta(minutes=1),
    )
    return pod


UNBOUND = (
    "0/4 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/4 nodes are "
    "available: 4 Preemption is not helpful for scheduling."
)


# --------------------------------------------------------------------------------------------- healthy


def test_healthy_platform_has_no_storage_or_quota_findings() -> None:
    report = run(platform())
    assert not [f for f in report.findings if f.code.startswith(MINE)], dump(report)


# --------------------------------------------------------------------------------------------- claims


def test_provisioning_failure_is_the_root_and_the_waiting_pod_its_symptom() -> None:
    b = platform()
    claim = pending_claim(b, "datadir-mongodb-1", age=timedelta(minutes=20))
    pod = scale_mongodb_to_two(b, claim, UNBOUND)
    b.add_event(
        claim,
        "Provisioning",
        f'External provisioner is provisioning volume for claim "{MYCURE}/datadir-mongodb-1"',
        count=9,
        component="driver.longhorn.io_csi-provisioner-7c9d8f6b5-x2x7q_7f0c",
    )
    b.add_event(
        claim,
        "ProvisioningFailed",
        'failed to provision volume with StorageClass "longhorn": rpc error: '
        "code = Internal desc = Bad response statusCode [500]. Status [500 Internal Server Error]. Body: "
        "[message=unable to create volume: insufficient storage on the available disks]",
        "Warning",
        count=9,
        component="driver.longhorn.io_csi-provisioner-7c9d8f6b5-x2x7q_7f0c",
    )
    b.add_event(
        claim,
        "ExternalProvisioning",
        "Waiting for a volume to be created either by the external provisioner "
        "'driver.longhorn.io' or manually by the system administrator. If volume creation is delayed, please "
        "verify that the provisioner is running and correctly registered.",
        count=80,
    )
    report = run(b)
    f = one(report, "PVC-PENDING", "datadir-mongodb-1")
    assert f.severity == "critical" and f.root_cause
    assert "ProvisioningFailed" in f.title
    assert has(f.evidence, "status.phase: Pending for 20m")
    assert has(
        f.evidence, "StorageClass longhorn: provisioner driver.longhorn.io, volumeBindingMode Immediate"
    )
    assert has(f.evidence, "ProvisioningFailed ×9") and has(
        f.evidence, "insufficient storage on the available disks"
    )
    assert has(f.evidence, "1 pod(s) waiting for it: mongodb-1")
    assert ("Pod", MYCURE, "mongodb-1") in f.subjects
    assert [r.command for r in f.remediation][0] == f"kubectl describe pvc datadir-mongodb-1 -n {MYCURE}"
    assert all(r.safety == "read-only" for r in f.remediation)
    pod_findings = [
        x for x in report.findings if ("Pod", MYCURE, pod["metadata"]["name"]) in x.subjects and x is not f
    ]
    assert pod_findings, dump(report)
    assert all(f.id in x.caused_by for x in pod_findings if x.code.startswith("POD-")), dump(report)
    only_serious(report, f)


def test_claim_naming_a_missing_storage_class() -> None:
    b = platform()
    db = b.workload("StatefulSet", MYCURE, "mongodb")
    claim = faults.pvc_pending(b, db, storage_class="fast-ssd")
    name = claim["metadata"]["name"]
    report = run(b)
    f = one(report, "PVC-STORAGECLASS-MISSING", name)
    assert f.severity == "critical" and f.root_cause
    assert f.title == f"PVC {name} is Pending: StorageClass fast-ssd does not exist"
    assert has(f.evidence, 'StorageClass "fast-ssd" does not exist; existing: longhorn')
    assert has(f.evidence, 'storageclass.storage.k8s.io "fast-ssd" not found')
    assert has(f.evidence, "1 pod(s) waiting for it: mongodb-0")
    assert ("Pod", MYCURE, "mongodb-0") in f.subjects
    delete = [r for r in f.remediation if r.command and r.command.startswith("kubectl delete")]
    assert delete and delete[0].safety == "destructive"
    pod_findings = [
        x for x in report.findings if x.code.startswith("POD-") and ("Pod", MYCURE, "mongodb-0") in x.subjects
    ]
    assert pod_findings and all(f.id in x.caused_by for x in pod_findings), dump(report)
    only_serious(report, f)


def test_claim_without_class_and_no_default_class() -> None:
    b = platform()
    sc = b.require("StorageClass", None, "longhorn")
    sc["metadata"]["annotations"].pop("storageclass.kubernetes.io/is-default-class")
    claim = pending_claim(b, "datadir-mongodb-1", storage_class=None, age=timedelta(minutes=20))
    scale_mongodb_to_two(b, claim, UNBOUND)
    b.add_event(
        claim,
        "FailedBinding",
        "no persistent volumes available for this claim and no storage class is set",
        count=80,
        component="persistentvolume-controller",
    )
    report = run(b)
    f = one(report, "PVC-NO-DEFAULT-STORAGECLASS", "datadir-mongodb-1")
    assert f.severity == "critical"
    assert has(f.evidence, "spec: storageClassName not set")
    assert has(f.evidence, "no StorageClass has annotation storageclass.kubernetes.io/is-default-class=true")
    assert has(f.evidence, "no persistent volumes available for this claim and no storage class is set")
    only_serious(report, f)


def test_wait_for_first_consumer_without_consumer_is_not_a_failure() -> None:
    b = platform()
    b.add(
        stlib.storage_class("longhorn-local", NOW - timedelta(days=30), binding_mode="WaitForFirstConsumer")
    )
    claim = pending_claim(b, "scratch", storage_class="longhorn-local", age=timedelta(hours=3))
    b.add_event(
        claim,
        "WaitForFirstConsumer",
        "waiting for first consumer to be created before binding",
        count=700,
        component="persistentvolume-controller",
    )
    report = run(b)
    assert not [f for f in report.findings if f.code.startswith(MINE)], dump(report)


def test_wait_for_first_consumer_whose_pod_is_not_scheduled_leaves_the_story_to_the_pod() -> None:
    b = platform()
    b.add(
        stlib.storage_class("longhorn-local", NOW - timedelta(days=30), binding_mode="WaitForFirstConsumer")
    )
    claim = pending_claim(b, "datadir-mongodb-1", storage_class="longhorn-local", age=timedelta(minutes=20))
    scale_mongodb_to_two(
        b,
        claim,
        "0/4 nodes are available: 1 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }, 3 Insufficient memory.",
    )
    b.add_event(
        claim,
        "WaitForPodScheduled",
        "waiting for pod mongodb-1 to be scheduled",
        count=80,
        component="persistentvolume-controller",
    )
    report = run(b)
    assert not [f for f in report.findings if f.code.startswith(MINE)], dump(report)


def test_young_claim_still_provisioning_is_not_reported() -> None:
    b = platform()
    claim = pending_claim(b, "uploads", age=timedelta(seconds=40))
    b.add_event(
        claim,
        "ExternalProvisioning",
        "Waiting for a volume to be created either by the external provisioner "
        "'driver.longhorn.io' or manually by the system administrator.",
        count=2,
    )
    report = run(b)
    assert not [f for f in report.findings if f.code.startswith(MINE)], dump(report)


def test_stuck_external_provisioning_names_the_provisioner() -> None:
    b = platform()
    claim = pending_claim(b, "uploads", age=timedelta(minutes=30))
    b.add_event(
        claim,
        "ExternalProvisioning",
        "Waiting for a volume to be created either by the external provisioner "
        "'driver.longhorn.io' or manually by the system administrator. If volume creation is delayed, please "
        "verify that the provisioner is running and correctly registered.",
        count=120,
    )
    report = run(b)
    f = one(report, "PVC-PENDING", "uploads")
    assert "provisioner driver.longhorn.io has not created a volume" in f.title
    assert has(f.evidence, "no pod uses this claim")
    assert "kubectl get csidriver driver.longhorn.io" in [r.command for r in f.remediation]


def test_lost_claim() -> None:
    b = platform()
    claim = b.require("PersistentVolumeClaim", LFH, "data-postgresql-0")
    pv = b.require("PersistentVolume", None, claim["spec"]["volumeName"])
    b.remove(pv)
    claim["status"] = {"phase": "Lost"}
    b.add_event(
        claim,
        "ClaimLost",
        "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
        "Warning",
        component="persistentvolume-controller",
    )
    report = run(b)
    f = one(report, "PVC-LOST", "data-postgresql-0", LFH)
    assert f.severity == "critical"
    assert has(f.evidence, f"spec.volumeName: {pv['metadata']['name']}: PersistentVolume does not exist")
    assert has(f.evidence, "Bound claim has lost its PersistentVolume")
    assert f.runbook == "backup-restore"
    only_serious(report, f)


def test_released_retained_and_failed_volumes_are_info() -> None:
    b = platform()
    claim = b.require("PersistentVolumeClaim", LFH, "data-postgresql-0")
    released = copy.deepcopy(b.require("PersistentVolume", None, claim["spec"]["volumeName"]))
    released["metadata"].update(
        name="pvc-0b7d2c1e-old", uid=uid("PersistentVolume", None, "pvc-0b7d2c1e-old")
    )
    released["spec"]["persistentVolumeReclaimPolicy"] = "Retain"
    released["spec"]["claimRef"]["name"] = "data-postgresql-old-0"
    released["status"] = {"lastPhaseTransitionTime": ts(NOW - timedelta(days=3)), "phase": "Released"}
    b.add(released)
    failed = copy.deepcopy(released)
    failed["metadata"].update(name="pvc-9f9e-failed", uid=uid("PersistentVolume", None, "pvc-9f9e-failed"))
    failed["spec"]["persistentVolumeReclaimPolicy"] = "Delete"
    failed["status"] = {
        "phase": "Failed",
        "message": "rpc error: code = Internal desc = volume pvc-9f9e-failed is "
        "still attached to node k8s-worker-1",
    }
    b.add(failed)
    report = run(b)
    r = one(report, "PV-RELEASED", "pvc-0b7d2c1e-old", None)
    assert r.severity == "info" and has(r.evidence, "spec.claimRef: lfh-staging/data-postgresql-old-0")
    patch = [x for x in r.remediation if x.command and "patch pv" in x.command]
    assert patch and patch[0].safety == "mutating"
    f = one(report, "PV-FAILED", "pvc-9f9e-failed", None)
    assert f.severity == "info" and has(f.evidence, "still attached to node k8s-worker-1")
    only_serious(report)


def test_file_system_resize_pending_is_info() -> None:
    b = platform()
    claim = b.require("PersistentVolumeClaim", MYCURE, "datadir-mongodb-0")
    claim["spec"]["resources"]["requests"]["storage"] = "40Gi"
    claim["status"]["allocatedResources"] = {"storage": "40Gi"}
    claim["status"]["conditions"] = [
        {
            "lastProbeTime": None,
            "lastTransitionTime": ts(NOW - timedelta(minutes=12)),
            "message": "Waiting for user to (re-)start a pod to finish file system resize of volume on node.",
            "status": "True",
            "type": "FileSystemResizePending",
        }
    ]
    report = run(b)
    f = one(report, "PVC-RESIZE-PENDING", "datadir-mongodb-0")
    assert f.severity == "info"
    assert has(f.evidence, "Waiting for user to (re-)start a pod")
    assert has(f.evidence, "requests.storage: 40Gi, status.capacity.storage: 20Gi")
    assert [r for r in f.remediation if r.command == f"kubectl delete pod mongodb-0 -n {MYCURE}"][
        0
    ].safety == "destructive"
    only_serious(report)


def test_resize_failure_is_a_warning() -> None:
    b = platform()
    claim = b.require("PersistentVolumeClaim", MYCURE, "datadir-mongodb-0")
    claim["spec"]["resources"]["requests"]["storage"] = "40Gi"
    b.add_event(
        claim,
        "VolumeResizeFailed",
        'resize volume "pvc-x" by resizer "driver.longhorn.io" failed: rpc error: '
        "code = FailedPrecondition desc = volume is not ready for expansion",
        "Warning",
        count=6,
        component="external-resizer driver.longhorn.io",
    )
    report = run(b)
    f = one(report, "PVC-RESIZE-FAILED", "datadir-mongodb-0")
    assert f.severity == "warning" and has(f.evidence, "volume is not ready for expansion")
    only_serious(report, f)


def test_multi_attach_error_is_the_root_of_the_stuck_pod() -> None:
    b = platform()
    pod = live_pods(b, "StatefulSet", "postgresql", LFH)[0]
    claim = b.require("PersistentVolumeClaim", LFH, "data-postgresql-0")
    pv_name = claim["spec"]["volumeName"]
    old_node = pod["spec"]["nodeName"]
    new_node = next(n for n in ("k8s-worker-1", "k8s-worker-2", "k8s-worker-3") if n != old_node)
    created = NOW - timedelta(minutes=14)
    pod["metadata"]["creationTimestamp"] = ts(created)
    pod["spec"]["nodeName"] = new_node
    st = pod["status"]
    st["phase"] = "Pending"
    st.pop("podIP", None)
    st.pop("podIPs", None)
    st["containerStatuses"] = [
        podlib.waiting_container_status(c, "ContainerCreating") for c in pod["spec"]["containers"]
    ]
    st.pop("initContainerStatuses", None)
    podlib.refresh_readiness(pod, created)
    podlib.set_pod_condition(pod, "PodReadyToStartContainers", "False", created)
    b.add_event(
        pod,
        "Scheduled",
        f"Successfully assigned {LFH}/postgresql-0 to {new_node}",
        component="default-scheduler",
        first=created,
    )
    b.add_event(
        pod,
        "FailedAttachVolume",
        f'Multi-Attach error for volume "{pv_name}" Volume is already exclusively '
        "attached to one node and can't be attached to another",
        "Warning",
        count=8,
        component="attachdetach-controller",
        first=created,
        last=NOW - timedelta(seconds=20),
    )
    b.add_event(
        pod,
        "FailedMount",
        "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes="
        "[data empty-dir kube-api-access-x2f8k]: timed out waiting for the condition",
        "Warning",
        count=6,
        first=created + timedelta(minutes=2),
        last=NOW - timedelta(minutes=1),
    )
    va = new_object(
        "VolumeAttachment",
        f"csi-{safe_suffix('va', pv_name, n=20)}",
        None,
        NOW - timedelta(days=9),
        api_version="storage.k8s.io/v1",
    )
    va["spec"] = {
        "attacher": "driver.longhorn.io",
        "nodeName": old_node,
        "source": {"persistentVolumeName": pv_name},
    }
    va["status"] = {"attached": True}
    b.add(va)
    report = run(b)
    f = one(report, "PVC-ATTACH-FAILED", "data-postgresql-0", LFH)
    assert f.severity == "critical" and f.root_cause
    assert "Multi-Attach" in f.title
    assert has(f.evidence, "Volume is already exclusively attached to one node")
    assert has(f.evidence, f"on node {new_node}")
    assert ("Pod", LFH, "postgresql-0") in f.subjects
    assert f.remediation[0].command == f"kubectl describe pod postgresql-0 -n {LFH}"
    only_serious(report, f)


# --------------------------------------------------------------------------------------------- quota


def _squeeze(b: PlatformBuilder, resource: str, factor: float, namespace: str = MYCURE) -> Obj:
    q = b.require("ResourceQuota", namespace, "compute-quota")
    used = b.namespace_usage(namespace)[resource]
    q["spec"]["hard"][resource] = (
        fmt_cpu(used * factor) if resource.endswith("cpu") else str(int(used * factor))
    )
    return q


def test_quota_refusing_pods_is_the_root_of_the_failed_create() -> None:
    b = platform()
    rs = faults.quota_exceeded(b, b.workload("Deployment", MYCURE, "api"), resource="requests.cpu")
    hard = b.require("ResourceQuota", MYCURE, "compute-quota")["spec"]["hard"]["requests.cpu"]
    report = run(b)
    f = one(report, "QUOTA-BLOCKING", "compute-quota")
    assert f.severity == "critical" and f.root_cause
    # used + requested > hard although used < hard: the refusal events, not the ratio, make it critical
    used = b.require("ResourceQuota", MYCURE, "compute-quota")["status"]["used"]["requests.cpu"]
    assert has(f.evidence, f"status.used[requests.cpu]: {used} of status.hard {hard} (")
    assert has(f.evidence, "exceeded quota: compute-quota, requested: requests.cpu=250m")
    assert has(f.evidence, f"refused: ReplicaSet {rs['metadata']['name']} ×")
    assert ("ReplicaSet", MYCURE, rs["metadata"]["name"]) in f.subjects
    patch = [r for r in f.remediation if r.command and "patch resourcequota" in r.command][0]
    assert patch.safety == "mutating" and '"requests.cpu":"<new-limit>"' in patch.command
    symptoms = [x for x in report.findings if f.id in x.caused_by]
    assert symptoms and any(x.code.startswith("WORKLOAD-") for x in symptoms), dump(report)
    only_serious(report, f)


def test_service_of_a_deployment_whose_every_pod_the_quota_refuses() -> None:
    """No pod exists: the Service selects nothing, depends on the workload, and the quota explains it."""
    b = platform()
    w = b.add_deployment(
        MYCURE,
        "reports",
        "ghcr.io/monobaselabs/reports:1.0.3",
        replicas=2,
        requests={"cpu": "500m", "memory": "256Mi"},
        created=NOW - timedelta(minutes=20),
    )
    for p in list(w.pods):
        b.remove(p)
    w.pods.clear()
    q = _squeeze(b, "requests.cpu", 1.0)
    used = q["spec"]["hard"]["requests.cpu"]
    rs = w.replicaset
    b.add_event(
        rs,
        "FailedCreate",
        f'Error creating: pods "{rs["metadata"]["name"]}-{safe_suffix("r", 2)}" is '
        f"forbidden: exceeded quota: compute-quota, requested: requests.cpu=500m, used: requests.cpu={used}, "
        f"limited: requests.cpu={used}",
        "Warning",
        count=15,
        component="replicaset-controller",
        first=NOW - timedelta(minutes=20),
    )
    report = run(b)
    quota = one(report, "QUOTA-BLOCKING", "compute-quota")
    svc = one(report, "SVC-NO-MATCHING-PODS", "reports")
    assert svc.severity == "critical" and "Deployment reports wants 2 but none exist" in svc.title
    assert ("Deployment", MYCURE, "reports") in svc.depends_on
    assert quota.id in svc.caused_by and quota.root_cause
    only_serious(report, quota)


def test_quota_exhausted_without_refusals_is_a_warning() -> None:
    b = platform()
    _squeeze(b, "pods", 1.0)
    report = run(b)
    f = one(report, "QUOTA-FULL", "compute-quota")
    assert f.severity == "warning"
    assert has(f.evidence, "status.used[pods]:") and has(f.evidence, "(100%)")
    only_serious(report, f)


def test_quota_near_limit_is_info() -> None:
    b = platform()
    _squeeze(b, "requests.cpu", 1.05)
    report = run(b)
    f = one(report, "QUOTA-NEAR-LIMIT", "compute-quota")
    assert f.severity == "info" and "requests.cpu" in f.title
    only_serious(report)


def test_zero_hard_limit_with_nothing_used_is_a_policy_not_a_problem() -> None:
    b = platform()
    q = b.require("ResourceQuota", MYCURE, "compute-quota")
    q["spec"]["hard"]["services.loadbalancers"] = "0"
    report = run(b)
    assert not [f for f in report.findings if f.code.startswith("QUOTA-")], dump(report)
