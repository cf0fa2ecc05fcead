"""Helpers for the lint tests: copies of the example repository with one fault injected, and a cluster
snapshot built from the repository's own objects as the API server would return them (server metadata,
CRD defaults filled in, the status the controllers write), each validated against its schema.
"""

from __future__ import annotations

import copy
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from schema_validation import CRD_DIR, _crd_schemas, validate_object

from sre_expert.lint.repo import load_repo
from sre_expert.lint.runner import LintResult, lint
from sre_expert.sources.memory import snapshot_from_objects
from synth.meta import condition, resource_version, ts, uid

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "platform-repo"
NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
CREATED = NOW - timedelta(days=41, hours=5)


def promtool() -> str:
    """The real promtool: CI installs it; a missing one fails the test (no silent skip)."""
    path = shutil.which("promtool")
    assert path, "promtool is not installed (apt-get install prometheus)"
    return path


def copy_repo(tmp_path: Path) -> Path:
    dst = tmp_path / "platform-repo"
    shutil.copytree(EXAMPLE, dst)
    return dst


def edit(root: Path, rel: str, old: str, new: str) -> None:
    """Replace `old` (which must occur exactly once) in one file of the copy."""
    p = root / rel
    text = p.read_text()
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {rel}"
    p.write_text(text.replace(old, new))


def line_of(root: Path, rel: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line containing `needle`: expected lines are read, not hard-coded."""
    hits = [i for i, ln in enumerate((root / rel).read_text().splitlines(), 1) if needle in ln]
    assert len(hits) >= nth, f"{needle!r} not found {nth} time(s) in {rel}"
    return hits[nth - 1]


def run_lint(root: Path) -> LintResult:
    return lint(load_repo(root), crd_dirs=(str(CRD_DIR),), promtool=promtool(), helm_bin=None)


def triples(result: LintResult) -> set[tuple[str, str | None, int | None]]:
    return {(f.code, f.file, f.line) for f in result.findings}


# ------------------------------------------------------------------------ cluster built from the repo


def fill_defaults(obj: dict[str, Any]) -> None:
    """Set the CRD defaults the API server applies on create (structural defaulting)."""
    schemas = _crd_schemas().get((obj.get("apiVersion", ""), obj.get("kind", "")))
    if schemas:
        _defaults(schemas[0][1], obj)


def _defaults(schema: dict[str, Any], value: Any) -> None:
    if isinstance(value, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if name not in value and "default" in sub:
                value[name] = copy.deepcopy(sub["default"])
            if name in value:
                _defaults(sub, value[name])
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for item in value.values():
                _defaults(extra, item)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            _defaults(schema["items"], item)


def _cond(type_: str, reason: str, message: str, gen: int | None = 1, when: datetime = CREATED) -> dict[str, Any]:
    return condition(type_, "True", reason, message, when + timedelta(seconds=7), observed_generation=gen)


def _status(obj: dict[str, Any]) -> dict[str, Any] | None:
    kind, spec = obj["kind"], obj.get("spec") or {}
    md = obj["metadata"]
    if kind == "HTTPRoute":
        return {"parents": [{
            "conditions": [_cond("Accepted", "Accepted", "Route is accepted"),
                           _cond("ResolvedRefs", "ResolvedRefs", "Resolved all the Object references for the Route")],
            "controllerName": "gateway.envoyproxy.io/gatewayclass-controller",
            "parentRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", **p},
        } for p in spec.get("parentRefs") or []]}
    if kind == "Gateway":
        return {
            "addresses": [{"type": "IPAddress", "value": "203.0.113.10"}],
            "conditions": [_cond("Accepted", "Accepted", "The Gateway has been scheduled by Envoy Gateway"),
                           _cond("Programmed", "Programmed", "Address assigned to the Gateway, 2/2 envoy replicas available")],
            "listeners": [{"attachedRoutes": 1,
                           "conditions": [_cond("Programmed", "Programmed",
                                                "Sending translated listener configuration to the data plane")],
                           "name": lst["name"], "supportedKinds": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"},
                                                                    {"group": "gateway.networking.k8s.io", "kind": "GRPCRoute"}]}
                          for lst in spec.get("listeners") or []],
        }
    if kind == "GatewayClass":
        return {"conditions": [_cond("Accepted", "Accepted", "Valid GatewayClass")]}
    if kind == "Certificate":
        issued = NOW - timedelta(days=25)
        return {"conditions": [_cond("Ready", "Ready", "Certificate is up to date and has not expired", when=issued)],
                "notAfter": ts(issued + timedelta(days=90)), "notBefore": ts(issued),
                "renewalTime": ts(issued + timedelta(days=60)), "revision": 3}
    if kind == "ClusterIssuer":
        acme = spec.get("acme") or {}
        return {"acme": {"lastPrivateKeyHash": "k4bN0d6b2v3pQk9c1v8aZrJ0mU5yX2wT7eR4sD1fG6h=",
                         "lastRegisteredEmail": acme.get("email"),
                         "uri": "https://acme-v02.api.letsencrypt.org/acme/acct/1843370126"},
                "conditions": [_cond("Ready", "ACMEAccountRegistered", "The ACME account was registered with the ACME server")]}
    if kind == "ExternalSecret":
        return {"binding": {"name": (spec.get("target") or {}).get("name") or md["name"]},
                "conditions": [_cond("Ready", "SecretSynced", "Secret was synced", gen=None)],
                "refreshTime": ts(NOW - timedelta(minutes=17)),
                "syncedResourceVersion": f"1-{uid('srv', md.get('namespace'), md['name']).replace('-', '')}"}
    if kind == "ClusterSecretStore":
        return {"capabilities": "ReadWrite", "conditions": [_cond("Ready", "Valid", "store validated", gen=None)]}
    if kind == "Schedule":
        return {"lastBackup": ts(NOW - timedelta(minutes=30)), "phase": "Enabled"}
    if kind == "BackupStorageLocation":
        return {"lastSyncedTime": ts(NOW - timedelta(seconds=41)), "lastValidationTime": ts(NOW - timedelta(seconds=12)),
                "phase": "Available"}
    if kind == "ClusterPolicy":
        return {"conditions": [_cond("Ready", "Succeeded", "Ready", gen=None)], "ready": True,
                "rulecount": {"generate": 0, "mutate": 0, "validate": len(spec.get("rules") or []), "verifyimages": 0},
                "validatingadmissionpolicy": {"generated": False, "message": ""}}
    if kind == "EnvoyPatchPolicy":
        ref = spec["targetRef"]
        return {"ancestors": [{"ancestorRef": {"group": ref["group"], "kind": ref["kind"], "name": ref["name"],
                                               "namespace": md["namespace"]},
                               "conditions": [_cond("Accepted", "Accepted", "Policy has been accepted."),
                                              _cond("Programmed", "Programmed", "Patches have been successfully applied.")],
                               "controllerName": "gateway.envoyproxy.io/gatewayclass-controller"}]}
    if kind == "Application":
        return {"health": {"status": "Healthy"},
                "sync": {"status": "Synced", "revision": "4f2d9c1e8b7a6d5c4b3a29180f7e6d5c4b3a2918"}}
    return None


def server_object(obj: dict[str, Any]) -> dict[str, Any]:
    """The repository object as `kubectl get -o yaml` shows it once applied and reconciled."""
    out = copy.deepcopy(obj)
    md = out.setdefault("metadata", {})
    ns = md.get("namespace")
    md["creationTimestamp"] = ts(CREATED)
    md["generation"] = 1
    md["resourceVersion"] = resource_version(out["kind"], ns, md["name"])
    md["uid"] = uid(out["kind"], ns, md["name"])
    labels = md.setdefault("labels", {})
    labels.setdefault("argocd.argoproj.io/instance", "infrastructure")
    fill_defaults(out)
    status = _status(out)
    if status is not None:
        out["status"] = status
    validate_object(out)
    return out


def cluster_objects(root: Path = EXAMPLE) -> list[dict[str, Any]]:
    """Every object the repository declares (manifests and what charts/tenant renders from values)."""
    out = []
    for ro in load_repo(root).objects():
        obj = copy.deepcopy(ro.obj)
        if ro.from_values:  # what charts/tenant adds around the values it is given
            ns = obj["metadata"]["namespace"]
            obj["metadata"]["labels"] = {"app.kubernetes.io/instance": ns, "app.kubernetes.io/managed-by": "Helm",
                                         "app.kubernetes.io/name": "api", "app.kubernetes.io/part-of": ns,
                                         "helm.sh/chart": "tenant-1.8.0"}
            if obj["kind"] == "HTTPRoute":
                obj["spec"]["rules"] = [{"backendRefs": [{"name": "api", "port": 80}]}]
        out.append(server_object(obj))
    return out


def cluster_snapshot(objects: list[dict[str, Any]]):
    return snapshot_from_objects(copy.deepcopy(objects), NOW, cluster="mc-v4-prod", source="bundle")
