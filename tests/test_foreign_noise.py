"""A cluster that is not the reference platform: no noise about what it simply does not run.

No Velero: `dr status` says there is nothing to judge and exits 0. No Argo CD: fixes do not point at
values/deployments/<tenant>.yaml or `argocd app sync`; they say to change the workload where it is
defined. On the reference platform (Argo CD manages the tenant namespaces) the GitOps fixes stay.
"""

from __future__ import annotations

import copy
import io
import json
from datetime import UTC, datetime

import pytest
from monitoring_faults import NOW as PLATFORM_NOW
from monitoring_faults import platform
from rich.console import Console

from sre_expert.diagnosis.engine import diagnose
from sre_expert.render.dr_view import run_dr_status
from sre_expert.sources.memory import snapshot_from_objects
from synth import faults
from synth.builder import PlatformBuilder

pytestmark = pytest.mark.scenario

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def k3s_cluster() -> PlatformBuilder:
    """A k3s cluster running one application with a database, nothing of the reference platform."""
    b = PlatformBuilder(NOW, cluster="k3s-edge")
    b.add_node("edge-1", control_plane=True)
    b.add_node("edge-2")
    b.add_namespace("kube-system")
    b.add_deployment("kube-system", "coredns", "rancher/mirrored-coredns-coredns:1.10.1", 1,
                     labels={"k8s-app": "kube-dns"}, ports=(("dns", 53),), probe_path=None, managed_by=None)
    b.add_deployment("kube-system", "traefik", "rancher/mirrored-library-traefik:2.10.5", 1,
                     labels={"app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": "traefik-kube-system"},
                     ports=(("web", 8000),), probe_path=None)
    b.add_namespace("shop")
    b.add_deployment("shop", "web", "ghcr.io/example/shop-web:2.3.1", 2, ports=(("http", 8080),),
                     limits={"memory": "256Mi"}, requests={"memory": "128Mi", "cpu": "50m"})
    b.add_statefulset("shop", "postgres", "docker.io/library/postgres:16.2", 1, ports=(("postgres", 5432),),
                      volume_claims={"data": "10Gi"}, storage_class="local-path")
    return b


def _snap(b: PlatformBuilder, now: datetime = NOW):
    b.refresh()
    return snapshot_from_objects(copy.deepcopy(b.objects), now, logs=dict(b.logs))


@pytest.mark.parametrize("output", ["terminal", "json", "markdown"])
def test_dr_status_without_velero_has_nothing_to_judge_and_exits_0(output: str) -> None:
    snap = _snap(k3s_cluster())
    buf = io.StringIO()
    code = run_dr_status(snap, output, Console(file=buf, width=140, color_system=None, highlight=False))
    out = buf.getvalue()
    assert code == 0, out
    assert "Velero not installed: no backups to judge (not checked)" in out
    assert "MISSED" not in out and "NO SCHEDULE" not in out
    if output == "json":
        doc = json.loads(out)
        assert doc["veleroInstalled"] is False and doc["namespaces"] == [] and doc["notChecked"]


def _oom(b: PlatformBuilder, ns: str, name: str, now: datetime):
    pod = b.workload("Deployment", ns, name).pods[0]
    faults.oomkilled(b, pod)
    r = diagnose(snapshot_from_objects(copy.deepcopy(b.objects), now, logs=dict(b.logs)))
    return next(f for f in r.findings if f.code == "POD-OOMKILLED")


def test_fixes_without_argo_cd_do_not_point_at_the_reference_repo_layout() -> None:
    b = k3s_cluster()
    b.refresh()
    f = _oom(b, "shop", "web", NOW)
    text = " ".join(f"{x.description} {x.command or ''}" for x in f.remediation)
    assert "values/deployments" not in text and "Argo CD" not in text and "argocd" not in text, text
    assert any(x.command and x.command.startswith("kubectl set resources deployment/web -n shop") for x in f.remediation), text
    assert "where the workload is defined" in text


def test_fixes_on_the_reference_platform_keep_the_gitops_steps() -> None:
    b = platform()
    f = _oom(b, "mycure-production", "api", PLATFORM_NOW)
    text = " ".join(x.description for x in f.remediation)
    assert "values/deployments/<tenant>.yaml" in text and "let Argo CD sync" in text, text
    assert "where the workload is defined" not in text


def test_argo_cd_tracking_annotation_marks_an_object_as_managed() -> None:
    """Annotation tracking (argocd.argoproj.io/tracking-id) says Argo CD manages the object even when the
    Application itself lives in another cluster and is not in this snapshot."""
    from sre_expert.knowledge.platform_components import argocd_manages

    b = k3s_cluster()
    dep = b.workload("Deployment", "shop", "web").controller
    dep["metadata"].setdefault("annotations", {})["argocd.argoproj.io/tracking-id"] = "shop:apps/Deployment:shop/web"
    snap = _snap(b)
    managed = argocd_manages(snap)
    assert managed(("Deployment", "shop", "web"))
    assert not managed(("StatefulSet", "shop", "postgres"))
