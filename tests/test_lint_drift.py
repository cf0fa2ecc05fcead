"""`lint --against-cluster`: the example repository against a cluster built from its own objects (as the
API server returns them: defaults, status, server metadata) shows no drift; one change on either side
gives exactly the expected drift finding, naming the file:line and the cluster object."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from lint_faults import EXAMPLE, cluster_objects, cluster_snapshot, copy_repo, edit, line_of, server_object

from sre_expert.lint.drift import drift
from sre_expert.lint.repo import load_repo

pytestmark = pytest.mark.scenario

STAGING = "values/deployments/lfh-staging.yaml"
SCHEDULES = "infrastructure/velero/schedules.yaml"


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return cluster_objects()


def _find(objs: list[dict[str, Any]], kind: str, ns: str | None, name: str) -> dict[str, Any]:
    return next(o for o in objs if o["kind"] == kind and o["metadata"].get("namespace") == ns
                and o["metadata"]["name"] == name)


def _drift(objs: list[dict[str, Any]], root: Path = EXAMPLE):
    return drift(load_repo(root), cluster_snapshot(objs))


def test_repo_against_its_own_cluster_has_no_drift(objects) -> None:
    objs = copy.deepcopy(objects)
    # a controller-made object (cert-manager's HTTP-01 solver route) is not expected in the repository
    solver = server_object({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "cm-acme-http-solver-x7k2p", "namespace": "monitoring",
                     "labels": {"acme.cert-manager.io/http-domain": "1620491742",
                                "acme.cert-manager.io/http-token": "1305781449"},
                     "ownerReferences": [{"apiVersion": "acme.cert-manager.io/v1", "kind": "Challenge",
                                          "name": "grafana-tls-1-2871136781-398127311",
                                          "uid": "3f0a6d1e-8f5b-4c47-9d0e-6c1b2a3f4e5d", "controller": True,
                                          "blockOwnerDeletion": True}]},
        "spec": {"parentRefs": [{"name": "shared-gateway", "namespace": "gateway-system", "sectionName": "http"}],
                 "hostnames": ["grafana.mycureapp.com"],
                 "rules": [{"backendRefs": [{"name": "cm-acme-http-solver-9wz6s", "port": 8089}]}]},
    })
    found, skipped = _drift(objs + [solver])
    assert found == [] and skipped == []
    # the cluster really carries what the server adds: defaults and status the repository never sets
    route = _find(objs, "HTTPRoute", "lfh-staging", "api")
    assert route["spec"]["parentRefs"][0]["kind"] == "Gateway" and route["status"]["parents"]
    assert route["spec"]["rules"][0]["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]


def test_route_missing_in_cluster(objects) -> None:
    objs = [o for o in objects if not (o["kind"] == "HTTPRoute" and o["metadata"].get("namespace") == "lfh-staging")]
    [f], _ = _drift(objs)
    assert (f.code, f.file, f.line) == ("LINT-DRIFT-MISSING-IN-CLUSTER", STAGING, line_of(EXAMPLE, STAGING, "- name: api"))
    assert f.evidence[0] == f"repository: {STAGING}:{f.line}"
    assert "no HTTPRoute lfh-staging/api in bundle mc-v4-prod" in f.evidence[1]


def test_policy_only_in_cluster(objects) -> None:
    extra = server_object({
        "apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "disallow-latest-tag"},
        "spec": {"validationFailureAction": "Audit", "background": True, "rules": [{
            "name": "require-image-tag", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
            "validate": {"message": "An image tag other than latest is required.",
                         "pattern": {"spec": {"containers": [{"image": "!*:latest"}]}}}}]},
    })
    [f], _ = _drift(objects + [extra])
    assert (f.code, f.file, f.line) == ("LINT-DRIFT-NOT-IN-REPO", None, None)
    assert f.object.name == "disallow-latest-tag" and f.object.kind == "ClusterPolicy"
    assert f.evidence[0].startswith("cluster: ClusterPolicy disallow-latest-tag (resourceVersion ")
    assert "infrastructure/security/kyverno/policies/" in f.evidence[1]


def test_schedule_ttl_changed_in_cluster(objects) -> None:
    objs = copy.deepcopy(objects)
    _find(objs, "Schedule", "velero", "infrastructure-daily")["spec"]["template"]["ttl"] = "168h0m0s"
    [f], _ = _drift(objs)
    assert (f.code, f.file, f.line) == ("LINT-DRIFT-SPEC", SCHEDULES, line_of(EXAMPLE, SCHEDULES, "ttl: 720h0m0s"))
    assert "spec.template.ttl: repository '720h0m0s' ≠ cluster '168h0m0s'" in f.evidence
    assert f.evidence[1].startswith("cluster: Schedule velero/infrastructure-daily (resourceVersion ")


def test_route_section_edited_in_cluster(objects) -> None:
    objs = copy.deepcopy(objects)
    _find(objs, "HTTPRoute", "lfh-staging", "api")["spec"]["parentRefs"][0]["sectionName"] = "https-lfh"
    [f], _ = _drift(objs)
    assert (f.code, f.file, f.line) == ("LINT-DRIFT-SPEC", STAGING, line_of(EXAMPLE, STAGING, "sectionName: https-lfh-stg"))
    assert "spec.parentRefs[0].sectionName: repository 'https-lfh-stg' ≠ cluster 'https-lfh'" in f.evidence


def test_repo_side_changes(objects, tmp_path: Path) -> None:
    root = copy_repo(tmp_path)
    rel = "infrastructure/cert-manager/cloudflare-api-token.yaml"
    edit(root, rel, "refreshInterval: 1h", "refreshInterval: 15m")
    certs = "infrastructure/gateway/certificates.yaml"
    text = (root / certs).read_text()
    (root / certs).write_text(text[: text.index("---\n# mycure.md has no wildcard")])
    found, _ = _drift(objects, root)
    got = {(f.code, f.file, f.line, f.object.kind, f.object.name) for f in found}
    assert got == {
        ("LINT-DRIFT-SPEC", rel, line_of(root, rel, "refreshInterval: 15m"), "ExternalSecret", "cloudflare-api-token"),
        ("LINT-DRIFT-NOT-IN-REPO", None, None, "Certificate", "mycure-md"),
    }


def test_same_duration_spelled_differently_is_not_drift(objects) -> None:
    objs = copy.deepcopy(objects)
    _find(objs, "Schedule", "velero", "infrastructure-hourly")["spec"]["template"]["ttl"] = "72h"
    assert _drift(objs) == ([], [])


def test_kind_absent_from_a_bundle_is_not_checked(objects) -> None:
    objs = [o for o in objects if o["kind"] != "ClusterPolicy"]
    found, skipped = _drift(objs)
    assert found == [] and skipped == ["drift ClusterPolicy: the bundle holds no ClusterPolicy (not collected?)"]
