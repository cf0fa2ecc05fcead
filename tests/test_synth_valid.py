"""The synthetic cluster must be indistinguishable from a real one to the checks.

Every object of the healthy platform and of each fault scenario is validated against the real
schemas (kubernetes-validate strict 1.32 for core kinds, ../shared/crds for custom resources, with
the server's pruning and defaulting made explicit), references between objects must resolve, the
healthy platform must be healthy by every measure an SRE would use, and each fault must show the
signals a real cluster shows.
"""

from __future__ import annotations

import json
import sys
import tarfile
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scenario
from schema_validation import CRD_DIR, crd_kinds, missing_defaults, validation_errors

from sre_expert.core.units import quantity
from synth import EVENT_TTL, PlatformBuilder, faults, write_bundle
from synth import pods as podlib
from synth.events import event_last_seen
from synth.meta import is_custom, parse_ts

pytestmark = pytest.mark.scenario

NOW = datetime(2025, 3, 12, 10, 17, 5, tzinfo=UTC)
TENANT = "mycure-production"


def build() -> PlatformBuilder:
    return scenario.platform(NOW)


@pytest.fixture(scope="module")
def healthy() -> PlatformBuilder:
    return build()


def api(b: PlatformBuilder, ns: str = TENANT):
    return b.workload("Deployment", ns, "api")


def db(b: PlatformBuilder, ns: str = TENANT):
    return b.workload("StatefulSet", ns, "mongodb")


def envoy(b: PlatformBuilder):
    return next(
        w
        for w in b.workloads
        if w.kind == "Deployment"
        and w.namespace == "envoy-gateway-system"
        and w.name.startswith("envoy-gateway-system-shared-gateway")
    )


SCENARIOS: dict[str, Callable[[PlatformBuilder], Any]] = {
    "crashloop": lambda b: faults.crashloop(b, api(b).pods[0], exit_code=1),
    "oomkilled": lambda b: faults.oomkilled(b, api(b).pods[1]),
    "image_pull_backoff": lambda b: faults.image_pull_backoff(b, api(b)),
    "image_pull_backoff_pod": lambda b: faults.image_pull_backoff(
        b, db(b).pods[0], "docker.io/bitnami/mongodb:9.9.9"
    ),
    "ccce_missing_secret": lambda b: faults.create_container_config_error(b, api(b).pods[0]),
    "ccce_missing_key": lambda b: faults.create_container_config_error(b, api(b).pods[0], missing="key"),
    "failed_mount": lambda b: faults.failed_mount(b, envoy(b).pods[0]),
    "unschedulable": lambda b: faults.unschedulable(b, api(b)),
    "unschedulable_pod": lambda b: faults.unschedulable(b, db(b).pods[0], resource="cpu"),
    "pvc_pending": lambda b: faults.pvc_pending(b, db(b)),
    "node_not_ready": lambda b: faults.node_not_ready(b, b.require("Node", None, "k8s-worker-2")),
    "node_pressure": lambda b: faults.node_pressure(b, b.require("Node", None, "k8s-worker-1"), "disk"),
    "probe_readiness": lambda b: faults.probe_failure(b, api(b).pods[0]),
    "probe_liveness": lambda b: faults.probe_failure(b, api(b).pods[1], probe="liveness"),
    "evicted": lambda b: faults.evicted(b, api(b, "lfh-staging").pods[0]),
    "quota_exceeded": lambda b: faults.quota_exceeded(b, api(b)),
    "webhook_denied": lambda b: faults.webhook_denied(b, api(b)),
    "deployment_progress_deadline": lambda b: faults.deployment_progress_deadline(b, api(b)),
    "job_failed": lambda b: faults.job_failed(b, b.workload("CronJob", TENANT, "session-cleanup")),
    "external_secret_failed": lambda b: faults.external_secret_failed(
        b, b.require("ExternalSecret", TENANT, "api-secrets")
    ),
    "secret_store_invalid": lambda b: faults.secret_store_invalid(
        b, b.require("ClusterSecretStore", None, "gcp-secretstore")
    ),
    "certificate_not_ready": lambda b: faults.certificate_not_ready(
        b, b.require("Certificate", "gateway-system", "gateway-tls")
    ),
    "backup_failed": lambda b: faults.backup_failed(b),
    "bsl_unavailable": lambda b: faults.bsl_unavailable(b),
    "route_not_accepted": lambda b: faults.route_not_accepted(b, b.require("HTTPRoute", TENANT, "api")),
    "create_container_config_error": lambda b: faults.create_container_config_error(b, api(b).pods[0]),
    "bsl_outage": lambda b: faults.bsl_outage(b, since=timedelta(hours=50)),
    "listener_certificate_lost": lambda b: faults.listener_certificate_lost(
        b, next(c for c in b.list("Certificate", "gateway-system")
                if "*.stg.localfirsthealth.com" in c["spec"]["dnsNames"]), "https-lfh-stg"),
}


def test_every_fault_of_synth_has_a_scenario_here() -> None:
    """A new fault in synth.faults.FAULTS gets its objects validated against the schemas only through a scenario
    above: name it in one (docs/DEVELOPING.md, Tests)."""
    used = {name for inject in SCENARIOS.values() for name in inject.__code__.co_names}
    assert sorted(set(faults.FAULTS) - used) == []


@pytest.fixture(scope="module")
def scenarios() -> dict[str, tuple[PlatformBuilder, Any]]:
    out = {}
    for name, inject in SCENARIOS.items():
        b = build()
        out[name] = (b, inject(b))
    return out


# ---------------------------------------------------------------- schema validity


_CHECKED: dict[bytes, list[str]] = {}


def _all_errors(b: PlatformBuilder) -> list[str]:
    """Schema errors and missing CRD defaults of every object (identical objects are checked once)."""
    errors: list[str] = []
    for obj in b.objects:
        key = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
        if key not in _CHECKED:
            found = validation_errors(obj)
            if is_custom(obj["apiVersion"]):
                found += [f"missing CRD default: {m}" for m in missing_defaults(obj)]
            _CHECKED[key] = found
        errors += _CHECKED[key]
    return errors


def test_crd_schemas_are_available():
    assert CRD_DIR.is_dir(), f"CRD schemas missing at {CRD_DIR}; custom resources cannot be validated"
    assert ("gateway.networking.k8s.io/v1", "Gateway") in crd_kinds()


def test_every_healthy_object_matches_its_schema(healthy):
    errors = _all_errors(healthy)
    assert not errors, "\n".join(errors[:40])


def test_every_custom_resource_kind_has_a_crd(healthy):
    custom = {(o["apiVersion"], o["kind"]) for o in healthy.objects if is_custom(o["apiVersion"])}
    assert custom <= crd_kinds(), custom - crd_kinds()
    assert len(custom) >= 20


def test_cached_validator_agrees_with_kubernetes_validate(healthy):
    """One object per core kind through the library's own entry point (strict, 1.32)."""
    import kubernetes_validate

    seen: set[tuple[str, str]] = set()
    for obj in healthy.objects:
        key = (obj["apiVersion"], obj["kind"])
        if key in seen or is_custom(obj["apiVersion"]):
            continue
        seen.add(key)
        kubernetes_validate.validate(obj, "1.32", strict=True)
    assert len(seen) >= 25


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_faulted_object_matches_its_schema(scenarios, name):
    b, _ = scenarios[name]
    errors = _all_errors(b)
    assert not errors, "\n".join(errors[:40])


# ---------------------------------------------------------------- referential integrity


def _integrity_errors(b: PlatformBuilder, strict: bool) -> list[str]:
    """Broken references. strict adds the ones only a healthy cluster guarantees (secrets, SAs, volumes...)."""
    errs: list[str] = []
    uids = {o["metadata"]["uid"]: o for o in b.objects}
    names = {(o["kind"], o["metadata"].get("namespace") or "", o["metadata"]["name"]) for o in b.objects}

    def has(kind: str, ns: str, name: str) -> bool:
        return (kind, ns, name) in names

    for o in b.objects:
        md = o["metadata"]
        where = f"{o['kind']} {md.get('namespace', '')}/{md['name']}"
        for ref in md.get("ownerReferences", []):
            owner = uids.get(ref["uid"])
            if owner is None or owner["kind"] != ref["kind"] or owner["metadata"]["name"] != ref["name"]:
                errs.append(
                    f"{where}: ownerReference {ref['kind']}/{ref['name']} {ref['uid']} does not exist"
                )
        if md.get("namespace") and not has("Namespace", "", md["namespace"]):
            errs.append(f"{where}: namespace {md['namespace']} does not exist")
        if o["kind"] == "Event":
            inv = o["involvedObject"]
            target = uids.get(inv.get("uid"))
            if target is None or target["kind"] != inv["kind"] or target["metadata"]["name"] != inv["name"]:
                errs.append(f"{where}: involvedObject {inv['kind']}/{inv['name']} does not exist")
        if o["kind"] == "Pod":
            node = o["spec"].get("nodeName")
            if node and not has("Node", "", node):
                errs.append(f"{where}: node {node} does not exist")
            if not node and o["status"].get("phase") not in ("Pending",):
                errs.append(f"{where}: {o['status'].get('phase')} pod without a node")
        if o["kind"] == "EndpointSlice":
            for ep in o.get("endpoints") or []:
                ref = ep.get("targetRef")
                if ref and (ref["uid"] not in uids or uids[ref["uid"]]["metadata"]["name"] != ref["name"]):
                    errs.append(f"{where}: targetRef pod {ref['name']} does not exist")
                if ep.get("nodeName") and not has("Node", "", ep["nodeName"]):
                    errs.append(f"{where}: endpoint node {ep['nodeName']} does not exist")
            svc = o["metadata"]["labels"]["kubernetes.io/service-name"]
            if not has("Service", md["namespace"], svc):
                errs.append(f"{where}: service {svc} does not exist")
        if o["kind"] == "Endpoints":
            for subset in o.get("subsets", []):
                for addr in subset.get("addresses", []) + subset.get("notReadyAddresses", []):
                    ref = addr.get("targetRef")
                    if ref and ref["uid"] not in uids:
                        errs.append(f"{where}: targetRef pod {ref['name']} does not exist")
        if (
            o["kind"] == "PersistentVolumeClaim"
            and o["spec"].get("volumeName")
            and not has("PersistentVolume", "", o["spec"]["volumeName"])
        ):
            errs.append(f"{where}: volume {o['spec']['volumeName']} does not exist")
        if o["kind"] == "PersistentVolume":
            ref = o["spec"]["claimRef"]
            if ref["uid"] not in uids:
                errs.append(f"{where}: claimRef {ref['name']} does not exist")
        if o["kind"] == "HTTPRoute":
            for p in o["spec"]["parentRefs"]:
                if not has("Gateway", p.get("namespace", md["namespace"]), p["name"]):
                    errs.append(f"{where}: parent Gateway {p['name']} does not exist")
            for rule in o["spec"]["rules"]:
                for be in rule.get("backendRefs", []):
                    ns = be.get("namespace", md["namespace"])
                    if not has("Service", ns, be["name"]):
                        errs.append(f"{where}: backend Service {ns}/{be['name']} does not exist")
                    elif ns != md["namespace"] and not any(
                        g["kind"] == "ReferenceGrant"
                        and g["metadata"]["namespace"] == ns
                        and any(f["namespace"] == md["namespace"] for f in g["spec"]["from"])
                        for g in b.objects
                    ):
                        errs.append(
                            f"{where}: cross-namespace backend {ns}/{be['name']} without ReferenceGrant"
                        )
        if o["kind"] == "HorizontalPodAutoscaler":
            ref = o["spec"]["scaleTargetRef"]
            if not has(ref["kind"], md["namespace"], ref["name"]):
                errs.append(f"{where}: scale target {ref['kind']}/{ref['name']} does not exist")
        if not strict:
            continue
        if o["kind"] == "Pod":
            ns, spec = md["namespace"], o["spec"]
            sa = spec.get("serviceAccountName")
            if sa and not has("ServiceAccount", ns, sa):
                errs.append(f"{where}: serviceAccount {sa} does not exist")
            for c in spec["containers"] + spec.get("initContainers", []):
                for e in c.get("env", []):
                    ref = e.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        sec = b.get("Secret", ns, ref["name"])
                        if sec is None:
                            errs.append(f"{where}: secretKeyRef secret {ref['name']} does not exist")
                        elif ref["key"] not in sec.get("data", {}):
                            errs.append(f"{where}: secretKeyRef key {ref['key']} missing in {ref['name']}")
                    ref = e.get("valueFrom", {}).get("configMapKeyRef")
                    if ref and not has("ConfigMap", ns, ref["name"]):
                        errs.append(f"{where}: configMapKeyRef {ref['name']} does not exist")
            for v in spec.get("volumes", []):
                if "secret" in v and not has("Secret", ns, v["secret"]["secretName"]):
                    errs.append(f"{where}: secret volume {v['secret']['secretName']} does not exist")
                if "configMap" in v and not has("ConfigMap", ns, v["configMap"]["name"]):
                    errs.append(f"{where}: configMap volume {v['configMap']['name']} does not exist")
                if "persistentVolumeClaim" in v and not has(
                    "PersistentVolumeClaim", ns, v["persistentVolumeClaim"]["claimName"]
                ):
                    errs.append(f"{where}: claim {v['persistentVolumeClaim']['claimName']} does not exist")
                for src in v.get("projected", {}).get("sources", []):
                    if "configMap" in src and not has("ConfigMap", ns, src["configMap"]["name"]):
                        errs.append(f"{where}: projected configMap {src['configMap']['name']} does not exist")
        if o["kind"] == "Gateway":
            for lst in o["spec"]["listeners"]:
                for ref in lst.get("tls", {}).get("certificateRefs", []):
                    if not has("Secret", ref.get("namespace", md["namespace"]), ref["name"]):
                        errs.append(
                            f"{where}: listener {lst['name']} TLS secret {ref['name']} does not exist"
                        )
        if o["kind"] == "ExternalSecret" and not has("Secret", md["namespace"], o["spec"]["target"]["name"]):
            errs.append(f"{where}: target secret {o['spec']['target']['name']} does not exist")
        if o["kind"] == "Certificate" and not has("Secret", md["namespace"], o["spec"]["secretName"]):
            errs.append(f"{where}: secret {o['spec']['secretName']} does not exist")
        if o["kind"] == "ClusterSecretStore":
            ref = o["spec"]["provider"]["gcpsm"]["auth"]["secretRef"]["secretAccessKeySecretRef"]
            if not has("Secret", ref["namespace"], ref["name"]):
                errs.append(f"{where}: auth secret {ref['name']} does not exist")
        if o["kind"] == "ClusterIssuer":
            for solver in o["spec"]["acme"]["solvers"]:
                ref = solver.get("dns01", {}).get("cloudflare", {}).get("apiTokenSecretRef")
                if ref and not has("Secret", "cert-manager", ref["name"]):
                    errs.append(f"{where}: cloudflare token secret {ref['name']} does not exist")
        if (
            o["kind"] in ("Deployment", "StatefulSet", "DaemonSet")
            and o["spec"]["template"]["spec"].get("serviceAccountName")
            and not has(
                "ServiceAccount", md["namespace"], o["spec"]["template"]["spec"]["serviceAccountName"]
            )
        ):
            errs.append(f"{where}: serviceAccount does not exist")
    return errs


def test_healthy_references_resolve(healthy):
    errs = _integrity_errors(healthy, strict=True)
    assert not errs, "\n".join(errs[:40])


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_faulted_references_resolve(scenarios, name):
    b, _ = scenarios[name]
    errs = _integrity_errors(b, strict=False)
    assert not errs, "\n".join(errs[:40])


def test_no_duplicate_identities(healthy):
    keys = Counter(
        (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in healthy.objects
    )
    assert [k for k, n in keys.items() if n > 1] == []
    uids = Counter(o["metadata"]["uid"] for o in healthy.objects)
    assert [u for u, n in uids.items() if n > 1] == []


# ---------------------------------------------------------------- the healthy platform is healthy


def _cond(obj: dict[str, Any], type_: str) -> dict[str, Any] | None:
    return next((c for c in obj.get("status", {}).get("conditions", []) if c["type"] == type_), None)


def test_healthy_platform_has_the_reference_layout(healthy):
    namespaces = {o["metadata"]["name"] for o in healthy.list("Namespace")}
    assert {
        "kube-system",
        "gateway-system",
        "envoy-gateway-system",
        "cert-manager",
        "external-secrets-system",
        "velero",
        "monitoring",
        "kyverno",
        "falco",
        "argocd",
        "longhorn-system",
        TENANT,
        "lfh-staging",
    } <= namespaces
    assert len(healthy.list("Node")) >= 3
    gw = healthy.require("Gateway", "gateway-system", "shared-gateway")
    assert [lst["name"] for lst in gw["spec"]["listeners"]] == [
        "http",
        "https",
        "http-lfh",
        "https-lfh",
        "http-lfh-stg",
        "https-lfh-stg",
        "http-mycure",
        "https-mycure",
    ]
    assert healthy.require("Service", "kube-system", "kube-dns")["spec"]["clusterIP"] == "10.96.0.10"
    sched = healthy.require("Schedule", "velero", "infrastructure-daily")
    assert sched["spec"]["schedule"] == "0 3 * * *" and sched["spec"]["template"]["ttl"] == "720h0m0s"
    weekly = healthy.require("Schedule", "velero", "cluster-resources-weekly")
    assert weekly["spec"]["schedule"] == "0 4 * * 0" and weekly["spec"]["template"]["ttl"] == "2160h0m0s"
    store = healthy.require("ClusterSecretStore", None, "gcp-secretstore")
    assert store["spec"]["provider"]["gcpsm"]["projectID"] == "mc-v4-prod"
    assert {o["metadata"]["name"] for o in healthy.list("ClusterIssuer")} == {
        "letsencrypt-prod",
        "letsencrypt-staging",
        "letsencrypt-mycure-cloudflare-prod",
    }
    assert {o["metadata"]["name"] for o in healthy.list("ClusterPolicy")} == {
        "pod-security",
        "restrict-registries",
        "require-labels",
    }
    assert (
        healthy.require("ClusterPolicy", None, "restrict-registries")["spec"]["validationFailureAction"]
        == "Audit"
    )
    remote = [
        d["remoteRef"]["key"]
        for d in healthy.require("ExternalSecret", TENANT, "api-secrets")["spec"]["data"]
    ]
    assert "mycure-production-mongo-uri" in remote
    assert (
        healthy.require("StorageClass", None, "longhorn")["metadata"]["annotations"][
            "storageclass.kubernetes.io/is-default-class"
        ]
        == "true"
    )


def test_healthy_pods_run_and_are_ready(healthy):
    bad = []
    for p in healthy.list("Pod"):
        phase = p["status"]["phase"]
        if phase == "Succeeded":
            continue
        if (
            phase != "Running"
            or not podlib.is_ready(p)
            or any(cs["restartCount"] or not cs["ready"] for cs in p["status"]["containerStatuses"])
        ):
            bad.append(f"{p['metadata']['namespace']}/{p['metadata']['name']}")
    assert not bad


def test_healthy_controllers_are_complete(healthy):
    for d in healthy.list("Deployment"):
        st = d["status"]
        assert (
            st.get("availableReplicas")
            == st.get("readyReplicas")
            == st.get("updatedReplicas")
            == d["spec"]["replicas"]
        ), d["metadata"]
        assert "unavailableReplicas" not in st
        assert (
            _cond(d, "Available")["status"] == "True"
            and _cond(d, "Progressing")["reason"] == "NewReplicaSetAvailable"
        )
    for s in healthy.list("StatefulSet"):
        assert s["status"].get("readyReplicas") == s["spec"]["replicas"] == s["status"]["availableReplicas"]
    for ds in healthy.list("DaemonSet"):
        st = ds["status"]
        assert st["desiredNumberScheduled"] == st["numberReady"] == st.get("numberAvailable") > 0, ds[
            "metadata"
        ]["name"]
    for j in healthy.list("Job"):
        assert _cond(j, "Complete") is not None
    for hpa in healthy.list("HorizontalPodAutoscaler"):
        st = hpa["status"]
        assert st["currentReplicas"] == st["desiredReplicas"]
        assert (
            _cond(hpa, "ScalingActive")["status"] == "True"
            and _cond(hpa, "ScalingLimited")["status"] == "False"
        )
    for pdb in healthy.list("PodDisruptionBudget"):
        assert pdb["status"]["disruptionsAllowed"] >= 1


def test_healthy_services_have_ready_endpoints(healthy):
    for svc in healthy.list("Service"):
        if not svc["spec"].get("selector"):
            continue
        ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        slices = [
            e
            for e in healthy.list("EndpointSlice", ns)
            if e["metadata"]["labels"]["kubernetes.io/service-name"] == name
        ]
        assert slices and any(ep["conditions"]["ready"] for e in slices for ep in e["endpoints"] or []), (
            f"{ns}/{name}"
        )
        assert healthy.require("Endpoints", ns, name)["subsets"][0]["addresses"], f"{ns}/{name}"
    lb = [s for s in healthy.list("Service") if s["spec"]["type"] == "LoadBalancer"]
    assert lb and all(s["status"]["loadBalancer"]["ingress"][0]["ip"] for s in lb)


def test_healthy_nodes_storage_and_capacity(healthy):
    requested: Counter = Counter()
    for p in healthy.list("Pod"):
        if p["status"]["phase"] == "Running":
            for c in p["spec"]["containers"]:
                requested[p["spec"]["nodeName"], "cpu"] += quantity(
                    c["resources"].get("requests", {}).get("cpu", 0)
                )
                requested[p["spec"]["nodeName"], "memory"] += quantity(
                    c["resources"].get("requests", {}).get("memory", 0)
                )
    for n in healthy.list("Node"):
        conds = {c["type"]: c for c in n["status"]["conditions"]}
        assert conds["Ready"]["status"] == "True" and conds["Ready"]["reason"] == "KubeletReady"
        for t in ("MemoryPressure", "DiskPressure", "PIDPressure"):
            assert conds[t]["status"] == "False"
        assert NOW - parse_ts(conds["Ready"]["lastHeartbeatTime"]) < timedelta(minutes=5)
        name = n["metadata"]["name"]
        for r in ("cpu", "memory"):
            assert requested[name, r] < 0.8 * quantity(n["status"]["allocatable"][r]), (name, r)
        lease = healthy.require("Lease", "kube-node-lease", name)
        assert NOW - parse_ts(lease["spec"]["renewTime"]) < timedelta(seconds=40)
    assert all(c["status"]["phase"] == "Bound" for c in healthy.list("PersistentVolumeClaim"))
    for q in healthy.list("ResourceQuota"):
        for k, hard in q["status"]["hard"].items():
            assert quantity(q["status"]["used"][k]) < 0.8 * quantity(hard), (
                q["metadata"]["namespace"],
                k,
            )


def test_healthy_events_are_recent_and_normal(healthy):
    events = healthy.list("Event")
    assert events
    for e in events:
        assert e["type"] == "Normal", (e["reason"], e["message"])
        assert NOW - EVENT_TTL <= parse_ts(event_last_seen(e)) <= NOW, e["metadata"]["name"]
    reasons = {e["reason"] for e in events}
    assert {"Scheduled", "Pulled", "Created", "Started", "SuccessfulCreate", "ScalingReplicaSet"} <= reasons


def test_healthy_platform_custom_resources_are_healthy(healthy):
    gw = healthy.require("Gateway", "gateway-system", "shared-gateway")
    assert _cond(gw, "Programmed")["status"] == _cond(gw, "Accepted")["status"] == "True"
    assert gw["status"]["addresses"][0]["value"]
    for lst in gw["status"]["listeners"]:
        assert all(c["status"] == "True" for c in lst["conditions"])
    assert sum(lst["attachedRoutes"] for lst in gw["status"]["listeners"]) >= 6
    for r in healthy.list("HTTPRoute"):
        assert len(r["status"]["parents"]) == len(r["spec"]["parentRefs"])
        assert all(c["status"] == "True" for p in r["status"]["parents"] for c in p["conditions"])
    epp = healthy.list("EnvoyPatchPolicy")[0]
    assert all(c["status"] == "True" for c in epp["status"]["ancestors"][0]["conditions"])
    assert _cond(healthy.require("GatewayClass", None, "envoy-gateway"), "Accepted")["status"] == "True"
    for kind in ("ClusterIssuer", "Certificate", "ExternalSecret", "ClusterSecretStore", "ClusterPolicy"):
        for o in healthy.list(kind):
            assert _cond(o, "Ready")["status"] == "True", (kind, o["metadata"]["name"])
    for cert in healthy.list("Certificate"):
        assert parse_ts(cert["status"]["renewalTime"]) > NOW + timedelta(days=7)
        assert parse_ts(cert["status"]["notBefore"]) < NOW < parse_ts(cert["status"]["notAfter"])
    for es in healthy.list("ExternalSecret"):
        assert NOW - parse_ts(es["status"]["refreshTime"]) < timedelta(hours=1)
    assert not healthy.list("Challenge")
    assert all(o["status"]["state"] == "valid" for o in healthy.list("Order"))
    bsl = healthy.require("BackupStorageLocation", "velero", "default")
    assert bsl["status"]["phase"] == "Available" and NOW - parse_ts(
        bsl["status"]["lastValidationTime"]
    ) < timedelta(minutes=1)
    for s in healthy.list("Schedule"):
        assert s["status"]["phase"] == "Enabled" and NOW - parse_ts(s["status"]["lastBackup"]) <= timedelta(
            days=7
        )
    assert all(x["status"]["phase"] == "Completed" for x in healthy.list("Backup"))
    for a in healthy.list("Application"):
        assert a["status"]["sync"]["status"] == "Synced" and a["status"]["health"]["status"] == "Healthy", a[
            "metadata"
        ]["name"]
        assert a["status"]["resources"], a["metadata"]["name"]
    for cr in healthy.list("Prometheus") + healthy.list("Alertmanager"):
        assert _cond(cr, "Available")["status"] == "True"
    assert all(r["summary"]["fail"] == 0 for r in healthy.list("PolicyReport"))


def test_healthy_logs_cover_running_containers(healthy):
    for p in healthy.list("Pod"):
        if p["status"]["phase"] != "Running":
            continue
        for c in p["spec"]["containers"]:
            key = (p["metadata"]["namespace"], p["metadata"]["name"], c["name"], False)
            assert healthy.logs.get(key), key
    assert not [k for k in healthy.logs if k[3]]


def test_service_monitors_select_a_service_port(healthy):
    for sm in healthy.list("ServiceMonitor"):
        sel, port = sm["spec"]["selector"]["matchLabels"], sm["spec"]["endpoints"][0]["port"]
        hits = [
            s
            for ns in sm["spec"]["namespaceSelector"]["matchNames"]
            for s in healthy.list("Service", ns)
            if all(s["metadata"].get("labels", {}).get(k) == v for k, v in sel.items())
            and any(p.get("name") == port for p in s["spec"]["ports"])
        ]
        assert hits, sm["metadata"]["name"]


def test_tenant_network_policies(healthy):
    pols = {p["metadata"]["name"]: p for p in healthy.list("NetworkPolicy", TENANT)}
    assert pols["default-deny-ingress"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    frm = pols["allow-from-gateway"]["spec"]["ingress"][0]["from"][0]
    assert frm["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "envoy-gateway-system"
    dns = pols["restrict-egress"]["spec"]["egress"][0]
    assert {(p["port"], p["protocol"]) for p in dns["ports"]} == {(53, "UDP"), (53, "TCP")}
    assert dns["to"][0]["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}


# ---------------------------------------------------------------- faults show what a real cluster shows


def _events(b: PlatformBuilder, obj: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in b.list("Event") if e["involvedObject"]["uid"] == obj["metadata"]["uid"]]


def _warnings(b: PlatformBuilder, obj: dict[str, Any]) -> dict[str, str]:
    return {e["reason"]: e["message"] for e in _events(b, obj) if e["type"] == "Warning"}


def test_crashloop(scenarios):
    b, pod = scenarios["crashloop"]
    cs = pod["status"]["containerStatuses"][0]
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert cs["state"]["waiting"]["message"].startswith("back-off 5m0s restarting failed container=api pod=")
    assert cs["lastState"]["terminated"]["exitCode"] == 1 and cs["restartCount"] == 7 and not cs["ready"]
    assert _cond(pod, "Ready")["status"] == "False"
    assert "Back-off restarting failed container api" in _warnings(b, pod)["BackOff"]
    key = (TENANT, pod["metadata"]["name"], "api", True)
    assert "TypeError: Cannot read properties of undefined" in b.logs[key]
    dep = api(b).deployment
    assert dep["status"]["readyReplicas"] == 1 and dep["status"]["unavailableReplicas"] == 1
    assert _cond(dep, "Available")["status"] == "False"
    eps = api(b).endpointslice
    assert sorted(ep["conditions"]["ready"] for ep in eps["endpoints"]) == [False, True]
    assert b.require("Application", "argocd", TENANT)["status"]["health"]["status"] == "Progressing"


def test_oomkilled(scenarios):
    _, pod = scenarios["oomkilled"]
    last = pod["status"]["containerStatuses"][0]["lastState"]["terminated"]
    assert (last["reason"], last["exitCode"]) == ("OOMKilled", 137)


def test_image_pull_backoff(scenarios):
    b, pod = scenarios["image_pull_backoff"]
    cs = pod["status"]["containerStatuses"][0]
    assert cs["state"]["waiting"]["reason"] == "ImagePullBackOff" and pod["status"]["phase"] == "Pending"
    assert cs["imageID"] == "" and "containerID" not in cs
    w = _warnings(b, pod)
    assert w["Failed"] in ("Error: ErrImagePull", "Error: ImagePullBackOff") or "not found" in w["Failed"]
    msgs = [e["message"] for e in _events(b, pod) if e["reason"] == "Failed"]
    assert any(
        m.startswith('Failed to pull image "ghcr.io/monobaselabs/api:v9.9.9"') and m.endswith("not found")
        for m in msgs
    )
    w_api = api(b)
    assert len(w_api.old_replicasets) >= 1 and w_api.deployment["status"]["updatedReplicas"] == 1
    assert w_api.deployment["status"]["readyReplicas"] == 2
    assert _cond(w_api.deployment, "Progressing")["reason"] == "ReplicaSetUpdated"
    b2, pod2 = scenarios["image_pull_backoff_pod"]
    assert pod2["spec"]["containers"][0]["image"] == "docker.io/bitnami/mongodb:9.9.9"
    sts = db(b2).statefulset
    assert sts["spec"]["template"]["spec"]["containers"][0]["image"] == "docker.io/bitnami/mongodb:9.9.9"
    assert sts["status"]["updateRevision"] != sts["status"]["currentRevision"]
    assert pod2["metadata"]["labels"]["controller-revision-hash"] == sts["status"]["updateRevision"]


def test_create_container_config_error(scenarios):
    b, pod = scenarios["ccce_missing_secret"]
    cs = pod["status"]["containerStatuses"][0]
    assert cs["state"]["waiting"] == {
        "message": 'secret "api-secrets" not found',
        "reason": "CreateContainerConfigError",
    }
    assert b.get("Secret", TENANT, "api-secrets") is None
    assert _warnings(b, pod)["Failed"] == 'Error: secret "api-secrets" not found'
    b2, pod2 = scenarios["ccce_missing_key"]
    msg = pod2["status"]["containerStatuses"][0]["state"]["waiting"]["message"]
    assert msg == f"couldn't find key MONGO_URI in Secret {TENANT}/api-secrets"
    assert "MONGO_URI" not in b2.require("Secret", TENANT, "api-secrets")["data"]


def test_failed_mount(scenarios):
    b, pod = scenarios["failed_mount"]
    assert pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ContainerCreating"
    assert (
        _warnings(b, pod)["FailedMount"]
        == 'MountVolume.SetUp failed for volume "certs" : secret "envoy" not found'
    )


def test_unschedulable(scenarios):
    b, pod = scenarios["unschedulable"]
    cond = pod["status"]["conditions"][0]
    assert (cond["type"], cond["status"], cond["reason"]) == ("PodScheduled", "False", "Unschedulable")
    assert cond["message"] == (
        "0/4 nodes are available: 1 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }, 3 Insufficient memory. preemption: 0/4 nodes "
        "are available: 1 Preemption is not helpful for scheduling, 3 No preemption victims "
        "found for incoming pod."
    )
    ev = next(e for e in _events(b, pod) if e["reason"] == "FailedScheduling")
    assert ev["type"] == "Warning" and ev["message"] == cond["message"] and ev["series"]["count"] > 1
    assert ev["reportingComponent"] == "default-scheduler" and ev["lastTimestamp"] is None
    assert "nodeName" not in pod["spec"] and "Scheduled" not in {e["reason"] for e in _events(b, pod)}
    _, pod2 = scenarios["unschedulable_pod"]
    assert "Insufficient cpu" in pod2["status"]["conditions"][0]["message"]


def test_pvc_pending(scenarios):
    b, claim = scenarios["pvc_pending"]
    assert claim["status"]["phase"] == "Pending" and claim["spec"]["storageClassName"] == "fast-ssd"
    assert _warnings(b, claim)["ProvisioningFailed"] == 'storageclass.storage.k8s.io "fast-ssd" not found'
    pod = b.require("Pod", TENANT, "mongodb-0")
    assert "unbound immediate PersistentVolumeClaims" in pod["status"]["conditions"][0]["message"]
    assert db(b).statefulset["status"].get("readyReplicas", 0) == 0


def test_node_not_ready(scenarios):
    b, node = scenarios["node_not_ready"]
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "Unknown",
        "NodeStatusUnknown",
        "Kubelet stopped posting node status.",
    )
    assert {(t["key"], t["effect"]) for t in node["spec"]["taints"]} >= {
        ("node.kubernetes.io/unreachable", "NoSchedule"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
    }
    on_node = [
        p
        for p in b.list("Pod")
        if p["spec"].get("nodeName") == "k8s-worker-2" and p["status"]["phase"] == "Running"
    ]
    assert on_node and all(not podlib.is_ready(p) for p in on_node)
    assert any(p["metadata"].get("deletionTimestamp") for p in on_node)
    for ns in (TENANT, "lfh-staging"):  # evicted after 300s and replaced on healthy nodes
        assert api(b, ns).deployment["status"]["availableReplicas"] == 2


def test_node_pressure_and_evicted(scenarios):
    _, node = scenarios["node_pressure"]
    disk = next(c for c in node["status"]["conditions"] if c["type"] == "DiskPressure")
    assert (disk["status"], disk["reason"]) == ("True", "KubeletHasDiskPressure")
    assert any(t["key"] == "node.kubernetes.io/disk-pressure" for t in node["spec"]["taints"])
    b, pod = scenarios["evicted"]
    assert (pod["status"]["phase"], pod["status"]["reason"]) == ("Failed", "Evicted")
    assert pod["status"]["message"].startswith("The node was low on resource: memory.")
    assert _warnings(b, pod)["Evicted"] == pod["status"]["message"]
    assert api(b, "lfh-staging").deployment["status"]["availableReplicas"] == 2


def test_probe_failures(scenarios):
    b, pod = scenarios["probe_readiness"]
    assert _warnings(b, pod)["Unhealthy"] == "Readiness probe failed: HTTP probe failed with statuscode: 503"
    assert pod["status"]["phase"] == "Running" and not podlib.is_ready(pod)
    b2, pod2 = scenarios["probe_liveness"]
    assert _warnings(b2, pod2)["Unhealthy"].startswith("Liveness probe failed:")
    assert pod2["status"]["containerStatuses"][0]["restartCount"] >= 1


def test_quota_exceeded(scenarios):
    b, rs = scenarios["quota_exceeded"]
    msg = _warnings(b, rs)["FailedCreate"]
    assert (
        msg.startswith(f'Error creating: pods "{rs["metadata"]["name"]}-')
        and "exceeded quota: compute-quota, requested: limits.memory=1Gi" in msg
    )
    assert _cond(rs, "ReplicaFailure")["reason"] == "FailedCreate"
    dep = api(b).deployment
    assert dep["spec"]["replicas"] == 3 and dep["status"]["unavailableReplicas"] == 1
    q = b.require("ResourceQuota", TENANT, "compute-quota")
    used, hard = (quantity(q["status"][k]["limits.memory"]) for k in ("used", "hard"))
    assert used < hard < used + quantity("1Gi")
    assert (
        f"used: limits.memory={q['status']['used']['limits.memory']}, "
        f"limited: limits.memory={q['status']['hard']['limits.memory']}"
        in msg
    )


def test_webhook_denied_and_progress_deadline(scenarios):
    b, rs = scenarios["webhook_denied"]
    msg = _warnings(b, rs)["FailedCreate"]
    assert msg.startswith('Error creating: admission webhook "validate.kyverno.svc-fail" denied the request')
    assert rs["status"]["replicas"] == 0
    b2, dep = scenarios["deployment_progress_deadline"]
    prog = _cond(dep, "Progressing")
    assert (prog["status"], prog["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert b2.require("Application", "argocd", TENANT)["status"]["health"]["status"] == "Degraded"


def test_job_failed(scenarios):
    b, job = scenarios["job_failed"]
    failed = _cond(job, "Failed")
    assert (failed["reason"], job["status"]["failed"]) == ("BackoffLimitExceeded", 3)
    assert _warnings(b, job)["BackoffLimitExceeded"] == "Job has reached the specified backoff limit"
    pods = [
        p
        for p in b.list("Pod", TENANT)
        if p["metadata"]["ownerReferences"][0]["uid"] == job["metadata"]["uid"]
    ]
    assert len(pods) == 3 and all(p["status"]["phase"] == "Failed" for p in pods)


def test_platform_faults(scenarios):
    b, es = scenarios["external_secret_failed"]
    assert (
        _cond(es, "Ready")["reason"] == "SecretSyncedError"
        and "not found or has no versions" in _warnings(b, es)["UpdateFailed"]
    )
    b, _store = scenarios["secret_store_invalid"]
    assert all(_cond(e, "Ready")["status"] == "False" for e in b.list("ExternalSecret"))
    b, ch = scenarios["certificate_not_ready"]
    assert ch["status"]["state"] == "pending" and "Cloudflare" in ch["status"]["reason"]
    assert _cond(b.require("Certificate", "gateway-system", "gateway-tls"), "Issuing")["status"] == "True"
    b, bk = scenarios["backup_failed"]
    assert bk["status"]["phase"] == "PartiallyFailed" and bk["status"]["errors"] == 3
    b, bsl = scenarios["bsl_unavailable"]
    assert bsl["status"]["message"].startswith('BackupStorageLocation "default" is unavailable:')
    b, route = scenarios["route_not_accepted"]
    assert any(c["reason"] == "NoMatchingParent" for p in route["status"]["parents"] for c in p["conditions"])
    gw = b.require("Gateway", "gateway-system", "shared-gateway")
    assert (
        next(lst for lst in gw["status"]["listeners"] if lst["name"] == "https-mycure")["attachedRoutes"] == 0
    )


def test_faults_compose_on_one_cluster():
    b = build()
    faults.crashloop(b, api(b).pods[0])
    faults.node_not_ready(b, b.require("Node", None, "k8s-worker-3"))
    faults.pvc_pending(b, db(b, "mycure-production"))
    faults.external_secret_failed(b, b.require("ExternalSecret", "lfh-staging", "api-secrets"))
    errors = _all_errors(b) + _integrity_errors(b, strict=False)
    assert not errors, "\n".join(errors[:40])


# ---------------------------------------------------------------- determinism and bundles


def test_build_is_deterministic():
    a, c = build(), build()
    assert json.dumps(a.objects, sort_keys=True) == json.dumps(c.objects, sort_keys=True)
    assert a.logs == c.logs


def test_write_bundle_json(tmp_path, healthy):
    out = write_bundle(healthy, tmp_path / "bundle")
    meta = json.loads((out / "bundle.json").read_text())
    kinds = meta.pop("kinds")  # a synthetic cluster stands for a full sweep: every kind it lists was collected
    assert meta == {
        "capturedAt": "2025-03-12T10:17:05Z",
        "cluster": healthy.cluster,
        "kubernetesVersion": healthy.kubernetes_version,
    }
    from sre_expert.core.kinds import COLLECTED_KINDS

    assert {f"{s.group}/{s.kind}" if s.group else s.kind for s in COLLECTED_KINDS} <= set(kinds)
    pods_text = (out / "pods.json").read_text()
    assert pods_text.startswith('{\n    "apiVersion": "v1",\n    "items": [\n')
    loaded = []
    for f in out.glob("*.json"):
        if f.name == "bundle.json":
            continue
        doc = json.loads(f.read_text())
        assert doc["kind"] == "List"
        loaded += doc["items"]
    assert len(loaded) == len(healthy.objects)
    assert "\\u0026" in (out / "pods.json").read_text()  # Go's HTML escaping of '&' (etcd probe path)
    log = out / "logs" / TENANT / api(healthy).pods[0]["metadata"]["name"] / "api.log"
    assert log.read_text().strip()


def test_write_bundle_yaml_and_archive(tmp_path, scenarios):
    b, pod = scenarios["crashloop"]
    out = write_bundle(b, tmp_path / "y", fmt="yaml")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    docs = [d for f in out.glob("*.yaml") for d in yaml.load_all(f.read_text(), Loader=loader) if d]
    assert len(docs) == len(b.objects)
    prev = out / "logs" / TENANT / pod["metadata"]["name"] / "api.previous.log"
    assert prev.exists()
    tgz = write_bundle(b, tmp_path / "b.tar.gz")
    with tarfile.open(tgz) as tar:
        names = tar.getnames()
    assert "b/bundle.json" in names and "b/pods.json" in names
