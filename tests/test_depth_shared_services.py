"""Shared platform services as causes (issue 17): one broken service (cluster DNS, an admission webhook)
shows up in many places; every symptom must sit under ONE root, the finding about the service itself.

Scenarios: the healthy synth platform plus the faults of depth_faults (objects, events and logs as CoreDNS,
Node, Go, ESO, Argo CD, Kyverno and the Kubernetes controllers write them).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import depth_faults as D
import pytest
from scenario import TENANT, Scenario, descendants, has

from sre_expert.diagnosis.shared_services import failing_services, service_key
from sre_expert.sources.memory import snapshot_from_objects

pytestmark = pytest.mark.scenario

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
H = Scenario(NOW, areas=("pods", "workloads", "services", "externalsecrets", "argocd", "policy", "autoscaling"),
             refresh=False)  # the faults refresh the builder themselves, before the Argo CD status edit
platform, run, dump, serious, one, only_root = H.platform, H.run, H.dump, H.serious, H.one, H.only_root


def test_cluster_dns_down_is_one_root_with_every_consumer_under_it() -> None:
    b = platform()
    broken = D.cluster_dns_down(b)
    report = run(b)
    root = only_root(report, "POD-CRASHLOOP", "Deployment", "coredns", "kube-system")
    assert serious(report)[0] is root, dump(report)  # ranked first
    below = {report_id for report_id in descendants(report, root)}
    for code, ns, name in (("ESO-SYNC-FAILED", TENANT, broken["es"]["metadata"]["name"]),
                           ("ARGOCD-APP-COMPARISON-ERROR", "argocd", "lfh-staging"),
                           ("POD-CRASHLOOP", TENANT, "api"),   # Node: getaddrinfo EAI_AGAIN
                           ("POD-CRASHLOOP", "lfh-staging", "api")):  # Go: lookup … i/o timeout
        f = one(report, code, name, ns)
        assert f.id in below and not f.root_cause, (code, ns, name, dump(report))
    assert ("PlatformService", "", "cluster-dns") in root.subjects
    assert has(root.evidence, "plugin/forward: /etc/coredns/Corefile:13 - Error during parsing")


def test_a_name_that_does_not_resolve_while_dns_is_healthy_stays_its_own_root() -> None:
    """No DNS finding: the EAI_AGAIN crash of one tenant is not blamed on the platform."""
    b = platform()
    D.tenant_dns_failures(b)
    report = run(b)
    f = one(report, "POD-CRASHLOOP", "api", TENANT)
    assert f.root_cause and ("PlatformService", "", "cluster-dns") in f.depends_on, dump(report)
    assert not [x for x in report.findings if x.object.name == "coredns" and x.severity != "info"]


def test_kyverno_down_puts_cronjob_replicaset_and_hpa_refusals_under_the_webhook_root() -> None:
    b = platform()
    D.kyverno_down(b)
    report = run(b)
    root = only_root(report, "POD-OOMKILLED", "Deployment", "kyverno-admission-controller", "kyverno")
    assert serious(report)[0] is root
    below = descendants(report, root)
    cj = one(report, "CRONJOB-NOT-SCHEDULED", None, TENANT)
    hook = one(report, "KYVERNO-WEBHOOK-UNAVAILABLE", "kyverno-svc", "kyverno")
    assert cj.id in below and hook.id in below, dump(report)
    assert cj.id in descendants(report, hook)
    assert "kube-controller-manager" not in cj.title and "creating the Job failed" in cj.title
    assert has(cj.evidence, 'failed calling webhook "validate.kyverno.svc-fail"')
    hpa = [f for f in report.findings if f.object.kind == "HorizontalPodAutoscaler" and f.severity != "info"]
    assert hpa and all(f.id in below for f in hpa), dump(report)
    denied = one(report, "WORKLOAD-ADMISSION-DENIED", "api", TENANT)
    assert denied.id in below


def test_evidence_names_the_shared_service() -> None:
    snap = snapshot_from_objects([], NOW)
    cases = {
        "Error: getaddrinfo EAI_AGAIN api.example.com": service_key("cluster-dns"),
        "dial tcp: lookup github.com on 10.96.0.10:53: read udp 10.244.2.17:52344->10.96.0.10:53: i/o timeout":
            service_key("cluster-dns"),
        "dial tcp: lookup vault.vault.svc on 10.96.0.10:53: no such host": service_key("cluster-dns"),
        "failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from "
        "resource metrics API: the server is currently unable to handle the request (get pods.metrics.k8s.io)":
            service_key("api:metrics.k8s.io"),
        'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox '
        '"4f1c": plugin type="calico" failed (add): stat /var/lib/calico/nodename: no such file or directory':
            service_key("cni"),
        "MountVolume.MountDevice failed for volume \"pvc-1\" : kubernetes.io/csi: attacher.MountDevice failed to "
        "create newCsiDriverClient: driver name ebs.csi.aws.com not found in the list of registered CSI drivers":
            ("CSIDriver", "", "ebs.csi.aws.com"),
        'Internal error occurred: failed calling webhook "validate.kyverno.svc-fail": failed to call webhook: '
        'Post "https://kyverno-svc.kyverno.svc:443/validate/fail?timeout=10s": context deadline exceeded':
            ("Service", "kyverno", "kyverno-svc"),
    }
    for text, want in cases.items():
        assert want in failing_services(snap, text), text
    assert failing_services(snap, "connection refused to mongodb:27017") == []


def test_a_webhook_error_without_url_names_its_service_by_the_api_servers_words() -> None:
    b = platform()
    snap = H.snapshot(b)
    text = ('Error creating: Internal error occurred: failed calling webhook "validate.kyverno.svc-fail": '
            'no endpoints available for service "kyverno-svc"')
    assert ("Service", "kyverno", "kyverno-svc") in failing_services(snap, text)
    assert ("AdmissionWebhook", "", "validate.kyverno.svc-fail") in failing_services(snap, text)


def test_webhook_configuration_and_cni_daemonset_back_their_service_keys() -> None:
    """With the ValidatingWebhookConfiguration collected, the webhook's key is backed by it, its Service, the
    Service's pods and their controllers; the CNI key by the CNI DaemonSet and its pods."""
    from sre_expert.diagnosis.shared_services import backing_objects
    from synth.meta import new_object

    b = platform()
    vwc = new_object("ValidatingWebhookConfiguration", "kyverno-resource-validating-webhook-cfg", None,
                     NOW - timedelta(days=30), api_version="admissionregistration.k8s.io/v1",
                     labels={"webhook.kyverno.io/managed-by": "kyverno"})
    vwc["webhooks"] = [{
        "admissionReviewVersions": ["v1"], "failurePolicy": "Fail", "matchPolicy": "Equivalent",
        "name": "validate.kyverno.svc-fail", "sideEffects": "NoneOnDryRun", "timeoutSeconds": 10,
        "clientConfig": {"service": {"name": "kyverno-svc", "namespace": "kyverno", "path": "/validate/fail",
                                     "port": 443}},
        "rules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                   "resources": ["deployments"], "scope": "*"}]}]
    b.add(vwc)
    snap = H.snapshot(b)
    keys = backing_objects(snap, ("AdmissionWebhook", "", "validate.kyverno.svc-fail"))
    assert ("ValidatingWebhookConfiguration", "", "kyverno-resource-validating-webhook-cfg") in keys
    assert ("Service", "kyverno", "kyverno-svc") in keys
    assert ("Deployment", "kyverno", "kyverno-admission-controller") in keys
    assert any(k[0] == "Pod" and k[2].startswith("kyverno-admission-controller-") for k in keys)
    cni = backing_objects(snap, service_key("cni"))
    assert ("DaemonSet", "kube-system", "cilium") in cni
    assert len([k for k in cni if k[0] == "Pod"]) == len(b.list("Node"))  # one cilium agent per node
