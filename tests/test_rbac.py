"""deploy/rbac.yaml: valid objects, exactly the kinds the live source lists (get/list, pods/log get, no
Secrets), and enough for a real sweep: the rules are enforced by a small RBAC authorizer in front of
`bundle serve` and the live source must read everything it needs with them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from live_harness import TENANT, fast, findings, served, without, wrap_handle

from sre_expert.core.kinds import COLLECTED_KINDS, LOG_RESOURCE
from sre_expert.edges.apiserver.api import Response
from sre_expert.sources.bundle_reader import load_bundle
from sre_expert.sources.live import sweep
from sre_expert.sources.resolve import demo_path

pytestmark = pytest.mark.unit

RBAC = Path(__file__).resolve().parents[1] / "deploy" / "rbac.yaml"
K8S_VERSION = "1.32.0"


def docs() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(RBAC.read_text()) if d]


def one(kind: str) -> dict[str, Any]:
    (doc,) = [d for d in docs() if d["kind"] == kind]
    return doc


def allows(rules: list[dict[str, Any]], verb: str, group: str, resource: str) -> bool:
    """The RBAC rule match (no resourceNames or nonResourceURLs are used in this file)."""
    return any(
        (group in r.get("apiGroups", ()) or "*" in r.get("apiGroups", ()))
        and (resource in r.get("resources", ()) or "*" in r.get("resources", ()))
        and (verb in r.get("verbs", ()) or "*" in r.get("verbs", ()))
        for r in rules
    )


@pytest.fixture(scope="module")
def demo():
    return load_bundle(demo_path())


# ------------------------------------------------------------------------------------------- the file
def test_every_object_is_valid_for_the_api_server() -> None:
    import kubernetes_validate

    kinds = []
    for doc in docs():
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        kinds.append(doc["kind"])
    assert kinds == ["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"]


def test_bindings_grant_the_roles_to_the_sre_expert_service_account() -> None:
    sa = one("ServiceAccount")["metadata"]
    assert (sa["namespace"], sa["name"]) == ("sre-expert", "sre-expert")
    crb, rb = one("ClusterRoleBinding"), one("RoleBinding")
    assert crb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                              "name": one("ClusterRole")["metadata"]["name"]}
    assert rb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": one("Role")["metadata"]["name"]}
    assert rb["metadata"]["namespace"] == one("Role")["metadata"]["namespace"]
    for b in (crb, rb):
        assert b["subjects"] == [{"kind": "ServiceAccount", "name": "sre-expert", "namespace": "sre-expert"}]


def test_the_cluster_role_grants_exactly_what_the_live_source_lists() -> None:
    rules = one("ClusterRole")["rules"]
    for s in COLLECTED_KINDS:
        granted = allows(rules, "list", s.group, s.resource)
        assert granted == (s.kind != "Secret"), s
    assert allows(rules, "get", "", LOG_RESOURCE)
    assert not allows(rules, "list", "", "secrets") and not allows(rules, "get", "", "secrets")
    wanted = {(s.group, s.resource) for s in COLLECTED_KINDS if s.kind != "Secret"} | {("", LOG_RESOURCE)}
    granted = {(g, res) for r in rules for g in r["apiGroups"] for res in r["resources"]}
    assert granted == wanted, "nothing beyond the collected kinds"
    assert "Secret" in RBAC.read_text() and "SECRETS ARE NOT GRANTED" in RBAC.read_text()


def test_verbs_are_read_only() -> None:
    for kind in ("ClusterRole", "Role"):
        for r in one(kind)["rules"]:
            assert set(r["verbs"]) <= {"get", "list"}, r
            assert "*" not in r["apiGroups"] and "*" not in r["resources"]
            assert not any(res.endswith(("/exec", "/attach", "/portforward", "/proxy")) for res in r["resources"])


def test_the_namespaced_role_covers_every_namespaced_kind() -> None:
    rules = one("Role")["rules"]
    for s in COLLECTED_KINDS:
        if s.kind == "Secret":
            assert not allows(rules, "list", s.group, s.resource)
        elif s.namespaced:
            assert allows(rules, "list", s.group, s.resource), s
        else:
            assert not allows(rules, "list", s.group, s.resource), f"{s.kind} is cluster-scoped: a Role cannot grant it"
    assert allows(rules, "get", "", LOG_RESOURCE)


# ------------------------------------------------------------------------------------------- enforced
def request_attributes(method: str, path: str) -> tuple[str, str, str, str] | None:
    """(verb, group, resource[/subresource], namespace) of a resource request; None for discovery."""
    segs = [s for s in path.split("/") if s]
    if len(segs) < 3 or segs[0] not in ("api", "apis") or (segs[0] == "apis" and len(segs) < 4):
        return None
    group, rest = ("", segs[2:]) if segs[0] == "api" else (segs[1], segs[3:])
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    resource = rest[0] + (f"/{rest[2]}" if len(rest) > 2 else "")
    verb = "get" if len(rest) > 1 else "list"
    return verb, group, resource, namespace


def authorizer(rules: list[dict[str, Any]], namespace: str | None):
    """A front for the served API that answers 403 unless the rules allow the request. namespace=None:
    the rules come from a ClusterRole bound cluster-wide; else from a Role in that namespace."""
    denied: list[str] = []

    def check(inner, method, path, query, headers, body):
        attrs = request_attributes(method, path)
        if attrs is not None:
            verb, group, resource, ns = attrs
            in_scope = namespace is None or ns == namespace
            if not (in_scope and allows(rules, verb, group, resource)):
                denied.append(path)
                return Response(403, orjson.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                                   "reason": "Forbidden", "code": 403,
                                                   "message": f'{resource} is forbidden: cannot {verb}'}))
        return inner(method, path, query, headers, body)

    return check, denied


def test_a_sweep_with_the_cluster_role_reads_everything_but_secrets(demo, tmp_path: Path) -> None:
    check, denied = authorizer(one("ClusterRole")["rules"], None)
    with served(demo_path(), tmp_path) as (h, kc):
        wrap_handle(h.api, check)
        result = sweep(fast(kc, demo.now))
    assert result.errors == [{"kind": "Secret", "namespace": "", "error": "forbidden"}]
    assert denied == ["/api/v1/secrets"]
    assert result.logs, "pods/log get is granted"
    assert findings(result.snapshot()) == findings(without(demo, {"Secret"}, result.errors))


def test_a_tenant_sweep_with_the_namespaced_role(demo, tmp_path: Path) -> None:
    role = one("Role")
    check, denied = authorizer(role["rules"], TENANT)
    with served(demo_path(), tmp_path) as (h, kc):
        wrap_handle(h.api, check)
        result = sweep(fast(kc, demo.now, namespaces=(TENANT,)))
    errors = {(e["kind"], e["namespace"], e["error"]) for e in result.errors}
    served_kinds = {s.kind for s in COLLECTED_KINDS} - {s.kind for s in result.not_installed}
    expected = {(s.kind, "", "forbidden") for s in COLLECTED_KINDS if not s.namespaced and s.kind in served_kinds}
    expected.add(("Secret", TENANT, "forbidden"))
    assert errors == expected  # cluster-scoped kinds are recorded, not fatal
    assert not any(not s.namespaced for s, _ in result.lists)
    live = result.snapshot()
    assert live.count("Node") == 0
    for kind in ("Pod", "Deployment", "StatefulSet", "Service", "Event", "PersistentVolumeClaim", "ExternalSecret"):
        assert len(live.list(kind, TENANT)) == len(demo.list(kind, TENANT)), kind
    assert {p["metadata"]["namespace"] for p in live.list("Pod")} == {TENANT}
    assert any(k[0] == TENANT for k in result.logs)
    assert all("/namespaces/" not in p or f"/namespaces/{TENANT}/" in p for p in denied)
