"""Components recognised by what they are, on clusters installed the way other people install them.

Each cluster here is built from facts of the upstream manifests (names, namespaces, images, labels):
kube-prometheus from its jsonnet `manifests/` (prometheus-operator/kube-prometheus), Velero 1.7 with its
`restic` DaemonSet, Kyverno 1.9's single Deployment, External Secrets from its Helm chart in its default
namespace, and a cluster with none of the platform's components. The reference platform's names are
hints: no "missing" finding may come from a different install, while a real gap (Certificates and no
cert-manager controller) stays critical.
"""

from __future__ import annotations

import copy
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from rich.console import Console

from sre_expert.diagnosis.engine import Report, diagnose
from sre_expert.knowledge.platform_components import load_components, status_of
from sre_expert.render.component_view import run_component
from sre_expert.sources.memory import snapshot_from_objects
from synth.builder import PlatformBuilder

pytestmark = pytest.mark.scenario

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _cluster(name: str = "kind-upstream") -> PlatformBuilder:
    b = PlatformBuilder(NOW, cluster=name)
    b.add_node("kind-control-plane", control_plane=True)
    b.add_node("kind-worker")
    b.add_node("kind-worker2")
    b.add_namespace("kube-system")
    b.add_deployment("kube-system", "coredns", "registry.k8s.io/coredns/coredns:v1.11.1", 2,
                     labels={"k8s-app": "kube-dns"}, ports=(("dns", 53),), probe_path=None, managed_by=None)
    return b


def _cr(api: str, kind: str, ns: str, name: str, labels: dict[str, str], spec: dict[str, Any],
        b: PlatformBuilder) -> dict[str, Any]:
    """A prometheus-operator custom resource with the status the operator writes (Available, Reconciled)."""
    t = b.ago(days=40).strftime("%Y-%m-%dT%H:%M:%SZ")
    return b.add({
        "apiVersion": api, "kind": kind,
        "metadata": {"name": name, "namespace": ns, "uid": f"uid-{kind.lower()}-{name}", "generation": 3,
                     "creationTimestamp": t, "labels": labels},
        "spec": spec,
        "status": {"availableReplicas": spec["replicas"], "replicas": spec["replicas"], "updatedReplicas": spec["replicas"],
                   "unavailableReplicas": 0, "paused": False,
                   "conditions": [
                       {"type": "Available", "status": "True", "lastTransitionTime": t, "observedGeneration": 3},
                       {"type": "Reconciled", "status": "True", "lastTransitionTime": t, "observedGeneration": 3},
                   ]},
    })


def kube_prometheus_jsonnet(b: PlatformBuilder, operator: bool = True) -> None:
    """kube-prometheus as `kubectl apply -f manifests/` installs it (release-0.12 names, images and labels)."""
    ns = "monitoring"
    b.add_namespace(ns)
    kp = {"app.kubernetes.io/part-of": "kube-prometheus"}
    if operator:
        b.add_deployment(ns, "prometheus-operator", "quay.io/prometheus-operator/prometheus-operator:v0.62.0", 1,
                         labels={**kp, "app.kubernetes.io/name": "prometheus-operator",
                                 "app.kubernetes.io/component": "controller", "app.kubernetes.io/version": "0.62.0"},
                         ports=(("http", 8080),), probe_path=None, managed_by=None)
    b.add_deployment(ns, "kube-state-metrics", "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.7.0", 1,
                     labels={**kp, "app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/component": "exporter"},
                     ports=(("http-metrics", 8080),), probe_path=None, managed_by=None)
    b.add_deployment(ns, "grafana", "grafana/grafana:9.3.2", 1,
                     labels={**kp, "app.kubernetes.io/name": "grafana", "app.kubernetes.io/component": "grafana"},
                     ports=(("http", 3000),), probe_path="/api/health", managed_by=None)
    b.add_deployment(ns, "blackbox-exporter", "quay.io/prometheus/blackbox-exporter:v0.23.0", 1,
                     labels={**kp, "app.kubernetes.io/name": "blackbox-exporter", "app.kubernetes.io/component": "exporter"},
                     ports=(("http", 9115),), probe_path=None, managed_by=None)
    b.add_daemonset(ns, "node-exporter", "quay.io/prometheus/node-exporter:v1.5.0",
                    labels={**kp, "app.kubernetes.io/name": "node-exporter", "app.kubernetes.io/component": "exporter"})
    prom = _cr("monitoring.coreos.com/v1", "Prometheus", ns, "k8s",
               {**kp, "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "k8s"},
               {"replicas": 2, "version": "2.41.0", "image": "quay.io/prometheus/prometheus:v2.41.0",
                "serviceAccountName": "prometheus-k8s", "serviceMonitorSelector": {}, "ruleSelector": {}}, b)
    am = _cr("monitoring.coreos.com/v1", "Alertmanager", ns, "main",
             {**kp, "app.kubernetes.io/name": "alertmanager", "app.kubernetes.io/instance": "main"},
             {"replicas": 3, "version": "0.25.0", "image": "quay.io/prometheus/alertmanager:v0.25.0"}, b)
    for owner, sts, image, replicas, port in ((prom, "prometheus-k8s", "quay.io/prometheus/prometheus:v2.41.0", 2, 9090),
                                              (am, "alertmanager-main", "quay.io/prometheus/alertmanager:v0.25.0", 3, 9093)):
        name = owner["metadata"]["labels"]["app.kubernetes.io/name"]
        b.add_statefulset(ns, sts, image, replicas, ports=(("web", port),), storage_class=None,
                          labels={**kp, "app.kubernetes.io/name": name, "app.kubernetes.io/instance": owner["metadata"]["name"],
                                  "app.kubernetes.io/managed-by": "prometheus-operator",
                                  "operator.prometheus.io/name": owner["metadata"]["name"]})
        obj = b.workload("StatefulSet", ns, sts).controller
        obj["metadata"]["ownerReferences"] = [{
            "apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]


def _run(b: PlatformBuilder) -> tuple[Any, Report]:
    b.refresh()
    snap = snapshot_from_objects(copy.deepcopy(b.objects), NOW, logs=dict(b.logs))
    return snap, diagnose(snap)


def _serious(r: Report, prefix: str = "COMPONENT-") -> list[tuple[str, str, str]]:
    return [(f.severity, f.code, f.title) for f in r.findings if f.code.startswith(prefix) and f.severity != "info"]


def test_kube_prometheus_from_upstream_jsonnet_is_recognised_role_by_role() -> None:
    b = _cluster()
    kube_prometheus_jsonnet(b)
    snap, r = _run(b)
    assert not _serious(r), _serious(r)
    st = status_of(snap, load_components()["kube-prometheus"], r.findings)
    assert st.installed and st.state == "healthy", (st.state, [c.to_json() for c in st.controllers])
    where = {c.ref.name: (c.display(), c.how) for c in st.controllers}
    assert where == {
        "kube-prometheus-operator": ("Deployment monitoring/prometheus-operator", "name"),
        "prometheus-kube-prometheus-prometheus": ("StatefulSet monitoring/prometheus-k8s", "name"),
        "alertmanager-kube-prometheus-alertmanager": ("StatefulSet monitoring/alertmanager-main", "name"),
        "kube-prometheus-kube-state-metrics": ("Deployment monitoring/kube-state-metrics", "name"),
        "kube-prometheus-node-exporter": ("DaemonSet monitoring/node-exporter", "name"),
        "grafana": ("Deployment monitoring/grafana", "reference"),
    }, where
    assert st.versions_seen == ["v0.62.0"] and st.version_ok is False
    note = [f for f in r.findings if f.code == "COMPONENT-DIFFERS-FROM-REFERENCE" and f.object.name == "kube-prometheus"]
    assert len(note) == 1 and note[0].severity == "info"
    assert any("Deployment monitoring/prometheus-operator plays Deployment monitoring/kube-prometheus-operator" in e
               for e in note[0].evidence), note[0].evidence
    assert any("version v0.62.0 (reference platform: v0.78.2)" in e for e in note[0].evidence)


def test_renamed_operator_is_found_by_image_and_labels() -> None:
    """A kube-prometheus-stack style install under another release name: neither the reference nor the
    jsonnet name, found by the operator image and its app.kubernetes.io/name label."""
    b = _cluster()
    kube_prometheus_jsonnet(b, operator=False)
    b.add_deployment("monitoring", "obs-kps-operator", "quay.io/prometheus-operator/prometheus-operator:v0.78.2", 1,
                     labels={"app": "kube-prometheus-stack-operator", "release": "obs"}, probe_path=None)
    snap, r = _run(b)
    st = status_of(snap, load_components()["kube-prometheus"], r.findings)
    op = st.controllers[0]
    assert (op.display(), op.how, op.healthy) == ("Deployment monitoring/obs-kps-operator", "image", True)
    assert not _serious(r), _serious(r)


def test_operator_missing_while_prometheus_objects_exist_is_critical() -> None:
    b = _cluster()
    kube_prometheus_jsonnet(b, operator=False)
    snap, r = _run(b)
    missing = [f for f in r.findings if f.code == "COMPONENT-CONTROLLER-MISSING"]
    assert [(f.severity, f.object.name) for f in missing] == [("critical", "kube-prometheus-operator")], _serious(r)
    assert any("needed by: 1 Prometheus object(s), 1 Alertmanager object(s)" in e
               for e in missing[0].evidence), missing[0].evidence
    assert any("no Deployment matches its other names, image or labels" in e for e in missing[0].evidence)


def velero_17(b: PlatformBuilder, restic: bool = True) -> None:
    """Velero 1.7 as `velero install --use-restic` creates it: Deployment velero and DaemonSet restic."""
    ns = "velero"
    b.add_namespace(ns)
    b.add_deployment(ns, "velero", "velero/velero:v1.7.0", 1, labels={"component": "velero", "deploy": "velero"},
                     ports=(("metrics", 8085),), probe_path=None, managed_by=None, service=False)
    if restic:
        b.add_daemonset(ns, "restic", "velero/velero:v1.7.0", labels={"component": "velero", "name": "restic"})
    t = b.ago(days=90).strftime("%Y-%m-%dT%H:%M:%SZ")
    b.add({"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
           "metadata": {"name": "default", "namespace": ns, "uid": "uid-bsl-default", "generation": 1, "creationTimestamp": t,
                        "labels": {"component": "velero"}},
           "spec": {"default": True, "provider": "aws", "objectStorage": {"bucket": "velero-backups"},
                    "config": {"region": "minio", "s3ForcePathStyle": "true", "s3Url": "http://minio.velero.svc:9000"}},
           "status": {"phase": "Available", "lastValidationTime": b.ago(minutes=1).strftime("%Y-%m-%dT%H:%M:%SZ")}})


def test_velero_17_restic_daemonset_is_the_node_agent() -> None:
    b = _cluster()
    velero_17(b)
    snap, r = _run(b)
    st = status_of(snap, load_components()["velero"], r.findings)
    agent = next(c for c in st.controllers if c.ref.name == "node-agent")
    assert (agent.display(), agent.how, agent.healthy) == ("DaemonSet velero/restic", "name", True)
    # no Schedule exists, so the RPO checks speak (a real finding); the controllers themselves are fine
    assert not _serious(r) and all(f.code.startswith("VELERO-") for f in st.problems), _serious(r)
    assert st.versions_seen == ["v1.7.0"]


def test_velero_without_a_node_agent_is_a_note_not_a_gap() -> None:
    """The Helm chart leaves the node agent out unless deployNodeAgent is set: nothing needs it here."""
    b = _cluster()
    velero_17(b, restic=False)
    snap, r = _run(b)
    assert not _serious(r), _serious(r)
    st = status_of(snap, load_components()["velero"], r.findings)
    agent = next(c for c in st.controllers if c.ref.name == "node-agent")
    assert not agent.found and not agent.required and agent.summary() == "not installed"
    assert any("node-agent: not part of this install" in d for d in st.differences), st.differences


def test_kyverno_19_single_deployment_plays_the_admission_role() -> None:
    b = _cluster()
    b.add_namespace("kyverno")
    b.add_deployment("kyverno", "kyverno", "ghcr.io/kyverno/kyverno:v1.9.5", 3,
                     labels={"app.kubernetes.io/name": "kyverno", "app.kubernetes.io/component": "kyverno",
                             "app.kubernetes.io/part-of": "kyverno", "app.kubernetes.io/instance": "kyverno"},
                     ports=(("https", 9443),), probe_path=None)
    snap, r = _run(b)
    st = status_of(snap, load_components()["kyverno"], r.findings)
    adm = st.controllers[0]
    assert (adm.display(), adm.how) == ("Deployment kyverno/kyverno", "name")
    assert [c.summary() for c in st.controllers[1:]] == ["not installed"] * 3
    assert st.state == "healthy" and not _serious(r), _serious(r)
    buf = io.StringIO()
    assert run_component(snap, r, "kyverno", "terminal", Console(file=buf, width=200, color_system=None)) == 0
    out = buf.getvalue()
    assert "Deployment kyverno/kyverno (as Deployment kyverno/kyverno-admission-controller, by name)" in out, out
    assert "missing" not in out and out.count("not installed") >= 3


def test_external_secrets_chart_in_its_default_namespace_tells_roles_apart_by_label() -> None:
    """One image for three roles: each is found by the chart's app.kubernetes.io/name, in namespace
    external-secrets (the chart's documented default), not external-secrets-system."""
    b = _cluster()
    b.add_namespace("external-secrets")
    for name in ("external-secrets", "external-secrets-webhook", "external-secrets-cert-controller"):
        b.add_deployment("external-secrets", name, "ghcr.io/external-secrets/external-secrets:v0.10.4", 1,
                         labels={"app.kubernetes.io/name": name, "app.kubernetes.io/instance": "external-secrets"},
                         probe_path=None, service=name == "external-secrets-webhook")
    snap, r = _run(b)
    st = status_of(snap, load_components()["external-secrets"], r.findings)
    assert [c.display() for c in st.controllers] == [
        "Deployment external-secrets/external-secrets", "Deployment external-secrets/external-secrets-webhook",
        "Deployment external-secrets/external-secrets-cert-controller"]
    assert st.installed and st.state == "healthy" and not _serious(r), _serious(r)


def test_certificates_without_a_cert_manager_controller_is_a_real_gap() -> None:
    b = _cluster()
    b.add_namespace("apps")
    t = b.ago(days=10).strftime("%Y-%m-%dT%H:%M:%SZ")
    b.add({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
           "metadata": {"name": "web-tls", "namespace": "apps", "uid": "uid-cert-web", "generation": 1, "creationTimestamp": t},
           "spec": {"secretName": "web-tls", "dnsNames": ["web.example.org"],
                    "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer", "group": "cert-manager.io"}},
           "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "Ready", "observedGeneration": 1,
                                      "message": "Certificate is up to date and has not expired", "lastTransitionTime": t}],
                      "notAfter": "2026-05-20T10:00:00Z", "notBefore": "2026-02-19T10:00:00Z",
                      "renewalTime": "2026-04-20T10:00:00Z", "revision": 1}})
    snap, r = _run(b)
    missing = [f for f in r.findings if f.code == "COMPONENT-CONTROLLER-MISSING"]
    assert [(f.severity, f.object.name) for f in missing] == [("critical", "cert-manager")], _serious(r)
    assert any("needed by: 1 Certificate object(s)" in e for e in missing[0].evidence)


def test_a_cluster_without_platform_components_gets_one_info_line() -> None:
    b = _cluster()
    snap, r = _run(b)
    comp = [f for f in r.findings if f.code.startswith("COMPONENT-")]
    assert [(f.code, f.severity) for f in comp] == [("COMPONENT-NOT-INSTALLED", "info")], comp
    assert comp[0].title.startswith("Not installed: argocd, cert-manager, envoy-gateway")
    assert len(comp[0].evidence) == len(load_components())


def test_a_monitoring_namespace_alone_is_not_kube_prometheus() -> None:
    """`monitoring` is a common namespace name (Loki, Datadog...): it proves nothing about kube-prometheus."""
    b = _cluster()
    b.add_namespace("monitoring")
    b.add_statefulset("monitoring", "loki", "grafana/loki:2.9.4", 1, ports=(("http", 3100),), storage_class=None)
    snap, r = _run(b)
    st = status_of(snap, load_components()["kube-prometheus"], r.findings)
    assert not st.installed and st.state == "not-installed"


def test_component_command_shows_where_each_role_runs() -> None:
    b = _cluster()
    kube_prometheus_jsonnet(b)
    snap, r = _run(b)
    buf = io.StringIO()
    con = Console(file=buf, width=160, color_system=None, highlight=False)
    assert run_component(snap, r, "kube-prometheus", "json", con) == 0
    doc = json.loads(buf.getvalue())
    ops = doc["controllers"][0]
    assert (ops["name"], ops["recognisedBy"], ops["reference"]["name"]) == (
        "prometheus-operator", "name", "kube-prometheus-operator")
    assert doc["state"] == "healthy" and doc["differsFromReference"]


def test_pods_alone_in_a_component_namespace_are_not_checked_not_healthy() -> None:
    """What `kubectl get pods -A` alone leaves (gitops-engine's fixtures): a pod in namespace argocd says
    Argo CD may be there, but no controller was seen, so nothing is claimed about its health or layout."""
    b = _cluster()
    b.add_namespace("argocd")
    b.add_deployment("argocd", "argocd-server", "quay.io/argoproj/argocd:v2.9.3", 1,
                     labels={"app.kubernetes.io/name": "argocd-server"}, probe_path=None)
    b.refresh()
    objs = [o for o in copy.deepcopy(b.objects) if not (o["kind"] in ("Deployment", "ReplicaSet")
                                                       and o["metadata"].get("namespace") == "argocd")]
    snap = snapshot_from_objects(objs, NOW)
    r = diagnose(snap)
    st = status_of(snap, load_components()["argocd"], r.findings)
    assert st.installed and st.state == "not-checked" and st.differences == [], (st.state, st.differences)
    assert not _serious(r), _serious(r)


def test_argocd_operator_install_is_recognised_by_component_labels() -> None:
    """argocd-operator prefixes every workload with the ArgoCD object's name and labels it
    app.kubernetes.io/name=<name>-<role>, component=<role>, part-of=argocd: the pair finds each role."""
    b = _cluster()
    b.add_namespace("gitops")
    image = "quay.io/argoproj/argocd:v2.12.3"
    for kind, role in (("Deployment", "server"), ("Deployment", "repo-server"), ("Deployment", "redis"),
                       ("StatefulSet", "application-controller")):
        labels = {"app.kubernetes.io/name": f"example-argocd-{role}", "app.kubernetes.io/component": role,
                  "app.kubernetes.io/part-of": "argocd", "app.kubernetes.io/managed-by": "example-argocd"}
        add = b.add_deployment if kind == "Deployment" else b.add_statefulset
        add("gitops", f"example-argocd-{role}", "redis:7.0.15-alpine" if role == "redis" else image, 1,
            labels=labels, probe_path=None, **({"storage_class": None} if kind == "StatefulSet" else {}))
    t = b.ago(days=5).strftime("%Y-%m-%dT%H:%M:%SZ")
    b.add({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
           "metadata": {"name": "guestbook", "namespace": "gitops", "uid": "uid-app-guestbook", "generation": 4,
                        "creationTimestamp": t},
           "spec": {"project": "default", "destination": {"server": "https://kubernetes.default.svc", "namespace": "guestbook"},
                    "source": {"repoURL": "https://github.com/argoproj/argocd-example-apps", "path": "guestbook",
                               "targetRevision": "HEAD"}},
           "status": {"sync": {"status": "Synced", "revision": "53e28ff20cc530b9ada2173fbbd64d48338583ba"},
                      "health": {"status": "Healthy"}, "reconciledAt": b.ago(minutes=2).strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "operationState": {"phase": "Succeeded", "message": "successfully synced (all tasks run)",
                                         "startedAt": t, "finishedAt": t}}})
    snap, r = _run(b)
    st = status_of(snap, load_components()["argocd"], r.findings)
    found = {c.ref.name: (c.display(), c.how) for c in st.controllers if c.found}
    assert found == {
        "argocd-application-controller": ("StatefulSet gitops/example-argocd-application-controller", "labels"),
        "argocd-repo-server": ("Deployment gitops/example-argocd-repo-server", "labels"),
        "argocd-server": ("Deployment gitops/example-argocd-server", "labels"),
        "argocd-redis": ("Deployment gitops/example-argocd-redis", "labels"),
    }, found
    assert not [f for f in r.findings if f.code.startswith("COMPONENT-CONTROLLER")], _serious(r)
