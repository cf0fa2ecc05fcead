"""serve's investigation core (server/investigate.py): alert labels → object → findings → root cause.

On the demo platform (its seven incidents) and on synth faults built for one alert each. Records are
checked against docs/findings.schema.json, the contract every finding in them follows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import certmanager_faults as F
import eso_faults as E
import jsonschema
import pytest
from scenario import live_pods, platform, snapshot

from sre_expert.diagnosis.engine import diagnose
from sre_expert.edges.webhook.investigate import alert_scope, investigate_alerts, investigate_check
from sre_expert.sources.resolve import open_source

pytestmark = pytest.mark.scenario

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "findings.schema.json").read_text())
FINDING_SCHEMA = {**SCHEMA["$defs"]["finding"], "$defs": SCHEMA["$defs"]}
NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo() -> tuple[Any, Any]:
    snap = open_source(None, True, progress=False)
    return snap, diagnose(snap)


def alert(snap_report: tuple[Any, Any], name: str, /, **labels: str) -> dict[str, Any]:
    snap, report = snap_report
    labels = {"alertname": name, **labels}
    out = investigate_alerts(name, labels, [{"status": "firing", "labels": labels}], snap, report)
    for f in [out["rootCause"], *out["chain"], *out["candidates"]]:
        if f is not None:
            jsonschema.validate(f, FINDING_SCHEMA)
    jsonschema.validate(out["report"], SCHEMA)
    return out


def codes(findings: list[dict[str, Any]]) -> list[str]:
    return [f["code"] for f in findings]


# -------------------------------------------------------------------------------------------- demo


def test_crashlooping_pod_whose_secret_never_synced_blames_the_external_secret(demo) -> None:
    pod = next(p["metadata"]["name"] for p in demo[0].list("Pod", "lfh-staging")
               if p["metadata"]["name"].startswith("api-") and p["status"].get("phase") == "Pending")
    out = alert(demo, "PodCrashLooping", namespace="lfh-staging", pod=pod, container="api")
    assert out["scope"] == {"namespace": "lfh-staging", "kind": "Pod", "name": pod}
    assert out["rootCause"]["code"] == "ESO-REMOTE-KEY-MISSING"
    assert out["rootCause"]["object"]["name"] == "api-secrets"
    assert codes(out["chain"]) == ["ESO-REMOTE-KEY-MISSING", "POD-CONFIG-ERROR"]
    assert out["chain"][0]["rootCause"] is True and out["chain"][-1]["rootCause"] is False
    assert out["runbook"] == {"id": "pod-not-starting", "title": "Pod not starting"}
    assert out["component"] == "workloads"
    assert out["summary"].startswith("root cause: ExternalSecret lfh-staging/api-secrets")
    assert "POD-CONFIG-ERROR on Deployment lfh-staging/api" in out["summary"]
    assert out["candidates"] == []


def test_crashlooping_api_is_explained_by_the_database_with_corrupted_data(demo) -> None:
    snap, report = demo
    crash = next(f for f in report.findings if f.code == "POD-CRASHLOOP" and f.object.name == "api")
    pod = next(k[2] for k in crash.subjects if k[0] == "Pod")
    out = alert(demo, "PodCrashLooping", namespace="mycure-production", pod=pod)
    assert codes(out["chain"]) == ["POD-STORAGE-CORRUPTION", "SVC-NO-READY-ENDPOINTS", "POD-CRASHLOOP"]
    assert out["rootCause"]["object"] == {"apiVersion": "apps/v1", "kind": "StatefulSet",
                                          "namespace": "mycure-production", "name": "mongodb"}


def test_a_group_naming_several_pods_leads_with_the_root_cause_of_most_of_them(demo) -> None:
    snap, report = demo
    crash = next(f for f in report.findings if f.code == "POD-CRASHLOOP" and f.object.name == "api")
    pods = [("mycure-production", k[2]) for k in crash.subjects if k[0] == "Pod"]
    pods.append(("lfh-staging", "api-h2jfc4tw-xsn8x"))
    alerts = [{"status": "firing", "labels": {"alertname": "PodCrashLooping", "namespace": ns, "pod": pod}}
              for ns, pod in pods]
    out = investigate_alerts("PodCrashLooping", {"alertname": "PodCrashLooping"}, alerts, snap, report)
    assert len(pods) == 3
    assert out["rootCause"]["code"] == "POD-STORAGE-CORRUPTION" and out["scope"]["name"] == pods[0][1]
    assert out["summary"].endswith("(2 of 3 alerts, on 3 objects, share this root cause)")
    assert [(o["scope"]["name"], o["rootCause"].split("/")[0]) for o in out["objects"]] == [
        (pods[0][1], "POD-STORAGE-CORRUPTION"), (pods[1][1], "POD-STORAGE-CORRUPTION"),
        ("api-h2jfc4tw-xsn8x", "ESO-REMOTE-KEY-MISSING")]
    ids = {f["id"] for f in out["report"]["findings"]}
    assert "ESO-REMOTE-KEY-MISSING/lfh-staging/ExternalSecret/api-secrets" in ids  # every object's chain is kept


def test_certificate_expiry_leads_to_the_stuck_dns01_challenge(demo) -> None:
    out = alert(demo, "CertificateExpiryCritical", namespace="gateway-system", name="stg-localfirsthealth-wildcard")
    assert out["scope"]["kind"] == "Certificate"
    assert codes(out["chain"]) == ["CERT-CHALLENGE-STUCK", "CERT-NOT-READY"]
    assert out["chain"][-1]["object"]["name"] == "stg-localfirsthealth-wildcard"
    assert "Invalid access token" in " ".join(out["rootCause"]["evidence"] + [out["rootCause"]["title"]])
    assert out["runbook"]["id"] == "certificate-renewal"


def test_volume_filling_up_without_a_finding_says_so_and_lists_the_namespace_roots(demo) -> None:
    out = alert(demo, "PersistentVolumeFillingUp", namespace="lfh-staging", persistentvolumeclaim="data-postgresql-0")
    assert out["scope"] == {"namespace": "lfh-staging", "kind": "PersistentVolumeClaim", "name": "data-postgresql-0"}
    assert out["rootCause"] is None and out["chain"] == []
    assert out["summary"].startswith("no finding names PersistentVolumeClaim lfh-staging/data-postgresql-0; "
                                     "root causes in namespace lfh-staging: ")
    assert "ESO-REMOTE-KEY-MISSING" in codes(out["candidates"])
    assert all(f["object"]["namespace"] == "lfh-staging" and f["rootCause"] for f in out["candidates"])
    assert out["runbook"]["id"] == "storage-pvc"


@pytest.mark.parametrize("instance", ["10.0.0.12:9100", "k8s-worker-2", "k8s-worker-2:9100"])
def test_node_down_resolves_the_instance_to_the_node(demo, instance: str) -> None:
    out = alert(demo, "NodeDown", instance=instance, job="node-exporter")
    assert out["scope"] == {"namespace": None, "kind": "Node", "name": "k8s-worker-2"}
    assert codes(out["chain"]) == ["NODE-NOT-READY"]


def test_gateway_error_rate_maps_the_envoy_cluster_to_the_route_and_traces_it(demo) -> None:
    out = alert(demo, "GatewayHighErrorRate", envoy_cluster_name="httproute/lfh-staging/api/rule/0")
    assert out["scope"] == {"namespace": "lfh-staging", "kind": "HTTPRoute", "name": "api"}
    assert codes(out["chain"]) == ["CERT-CHALLENGE-STUCK", "CERT-NOT-READY", "GATEWAY-LISTENER-CERT-INVALID",
                                   "HTTPROUTE-NOT-ACCEPTED"]
    assert out["trace"]["target"] == "route/lfh-staging/api" and out["trace"]["ok"] is False


def test_unknown_alert_is_scoped_by_its_generic_labels(demo) -> None:
    out = alert(demo, "ReportWorkerStuck", namespace="mycure-production", deployment="report-worker")
    assert out["scope"] == {"namespace": "mycure-production", "kind": "Deployment", "name": "report-worker"}
    assert out["rootCause"]["code"] == "KYVERNO-ADMISSION-DENIED"
    assert codes(out["chain"]) == ["KYVERNO-ADMISSION-DENIED", "WORKLOAD-ADMISSION-DENIED"]
    assert out["runbook"] is not None and out["component"] == "workloads"


def test_unknown_alert_with_an_instance_address_finds_the_pod(demo) -> None:
    snap, _ = demo
    pod = next(p for p in snap.list("Pod", "lfh-staging") if p["status"].get("podIP")
               and p["metadata"]["name"].startswith("postgresql"))
    scope = alert_scope("PostgresReplicationLag", {"namespace": "lfh-staging",
                                                    "instance": pod["status"]["podIP"] + ":9187"}, snap)
    assert (scope.kind, scope.name, scope.found) == ("Pod", pod["metadata"]["name"], True)


def test_an_object_missing_from_the_snapshot_is_said_to_be_missing(demo) -> None:
    out = alert(demo, "PodCrashLooping", namespace="lfh-staging", pod="api-gone-12345")
    assert out["rootCause"] is None
    assert out["summary"].startswith("Pod lfh-staging/api-gone-12345 is not in the snapshot captured at 2026-")


def test_an_alert_naming_nothing_lists_the_cluster_root_causes(demo) -> None:
    out = alert(demo, "Watchdog")
    assert out["scope"] == {"namespace": None, "kind": None, "name": None}
    assert out["summary"].startswith("the alert names no namespace or object; root causes in the cluster: ")
    assert len(out["candidates"]) == 5 and out["candidates"][0]["code"] == demo[1].findings[0].code


def test_manual_check_of_a_namespace(demo) -> None:
    snap, report = demo
    out = investigate_check("lfh-staging", None, snap, report)
    assert out["rootCause"]["rootCause"] is True
    assert "ESO-REMOTE-KEY-MISSING" in codes([out["rootCause"], *out["candidates"]])
    assert out["summary"].startswith("3 root causes for namespace lfh-staging")
    assert all(f["object"]["namespace"] in ("lfh-staging", "gateway-system", None) for f in out["report"]["findings"])


# -------------------------------------------------------------------------------------------- synth


def run_synth(b) -> tuple[Any, Any]:
    snap = snapshot(b)
    return snap, diagnose(snap)


def test_synth_store_broken_pod_crashloop_blames_the_secret_store() -> None:
    b = platform(F.NOW)
    E.break_store(b)
    E.block_pods_on(b, E.TENANT, "Deployment", "api", "api-secrets")
    pod = live_pods(b, "Deployment", "api")[0]["metadata"]["name"]
    out = alert(run_synth(b), "PodCrashLooping", namespace=E.TENANT, pod=pod)
    assert out["rootCause"]["code"] == "ESO-STORE-NOT-READY"
    assert out["rootCause"]["object"]["name"] == E.STORE
    assert out["chain"][-1]["object"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                          "namespace": E.TENANT, "name": "api"}
    assert len(out["chain"]) >= 2 and out["chain"][0]["rootCause"]


def test_synth_certificate_expiring_because_the_dns_token_is_missing() -> None:
    b = platform(F.NOW)
    F.cloudflare_token_missing(b)
    out = alert(run_synth(b), "CertificateExpiryCritical", namespace=F.GW_NS, name=F.CERT)
    assert out["scope"]["name"] == F.CERT
    assert out["rootCause"]["code"] == "CERT-ISSUER-SECRET-MISSING"
    assert out["chain"][-1]["object"]["name"] == F.CERT


def test_synth_volume_filling_up_whose_resize_failed() -> None:
    b = platform(NOW)
    claim = b.require("PersistentVolumeClaim", "mycure-production", "datadir-mongodb-0")
    claim["spec"]["resources"]["requests"]["storage"] = "40Gi"
    b.add_event(claim, "VolumeResizeFailed",
                'resize volume "pvc-x" by resizer "driver.longhorn.io" failed: rpc error: '
                "code = FailedPrecondition desc = volume is not ready for expansion",
                "Warning", count=6, component="external-resizer driver.longhorn.io")
    out = alert(run_synth(b), "PersistentVolumeFillingUp", namespace="mycure-production",
                persistentvolumeclaim="datadir-mongodb-0")
    assert out["rootCause"]["code"] == "PVC-RESIZE-FAILED"
    assert codes(out["chain"]) == ["PVC-RESIZE-FAILED"]
    assert "volume is not ready for expansion" in " ".join(out["rootCause"]["evidence"])


def test_synth_healthy_pod_is_healthy_and_said_so() -> None:
    b = platform(NOW)
    pod = live_pods(b, "Deployment", "api")[0]["metadata"]["name"]
    out = alert(run_synth(b), "PodHighMemory", namespace="mycure-production", pod=pod)
    assert out["rootCause"] is None and out["candidates"] == []
    assert out["summary"].startswith(f"no finding names Pod mycure-production/{pod}; "
                                     "namespace mycure-production has no root cause either")


def test_secrets_in_alert_evidence_are_redacted() -> None:
    b = platform(NOW)
    b.add_event(b.require("PersistentVolumeClaim", "mycure-production", "datadir-mongodb-0"), "VolumeResizeFailed",
                "resize failed: POST https://admin:hunter2hunter2@longhorn.internal/v1 refused", "Warning",
                count=2, component="external-resizer driver.longhorn.io")
    out = alert(run_synth(b), "PersistentVolumeFillingUp", namespace="mycure-production",
                persistentvolumeclaim="datadir-mongodb-0")
    assert "hunter2hunter2" not in json.dumps(out)
    assert out["rootCause"]["code"] == "PVC-RESIZE-FAILED"


def test_the_report_document_memo_holds_under_worker_threads() -> None:
    """serve's workers build investigations in threads from one shared report document memo; evicting from
    it while another thread adds (a burst of alerts over several diagnoses) once failed an investigation with
    "dictionary changed size during iteration" in a full-suite run."""
    import sys
    import threading

    from sre_expert.diagnosis.engine import Report
    from sre_expert.edges.webhook import investigate as inv

    base = diagnose(open_source(None, True, progress=False))
    reports = [Report(base.info, base.findings[:2], base.not_checked) for _ in range(400)]
    errors: list[BaseException] = []

    def build(part: list[Report]) -> None:
        try:
            for r in part:
                assert inv._full_doc(r)["findings"][0]["id"] == base.findings[0].id
        except BaseException as e:  # noqa: BLE001 - any failure in a thread is the test's failure
            errors.append(e)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race needs a switch mid-eviction
    try:
        threads = [threading.Thread(target=build, args=(reports[i::8],)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert errors == []
    assert len(inv._DOCS) <= inv._DOCS_KEEP
