"""ExternalSecret remote keys against the `{namespace}-{secret-name}` convention.

Same rule as the live check (checks/externalsecrets.py): tenant namespaces only, keys that are paths
(`a/b`) belong to other providers' layouts and are left alone, and only GCP Secret Manager stores
(or stores the repository does not define) are held to it.
"""

from __future__ import annotations

from sre_expert.domain.secret_sync import PLATFORM_NAMESPACES, remote_keys, store_keys
from sre_expert.lint.codes import lint_finding
from sre_expert.lint.context import LintContext, obj_ref


def check_remote_keys(ctx: LintContext) -> None:
    stores = {(ro.kind, ro.namespace, ro.name): ro.obj for ro in ctx.repo.objects("ClusterSecretStore", "SecretStore")}
    for ro in ctx.repo.objects("ExternalSecret"):
        with ctx.guard("external secret keys", ro):
            ns = ro.namespace
            if not ns or ns in PLATFORM_NAMESPACES or ns.startswith("kube-"):
                continue
            keys = store_keys(ro.obj)
            store = stores.get(keys[0]) if keys else None
            if store is not None and "gcpsm" not in ((store.get("spec") or {}).get("provider") or {}):
                continue
            spec = ro.obj.get("spec") or {}
            located = _key_paths(spec)
            for key in remote_keys(ro.obj):
                if key.startswith(f"{ns}-") or "/" in key:
                    continue
                path = located.get(key, ("spec",))
                ctx.add(lint_finding(
                    "LINT-ESO-REMOTE-KEY", obj_ref(ro), ro.file, ro.line(*path),
                    f"{ro.display()}: remote key {key!r} does not start with {ns + '-'!r}",
                    evidence=[f"remote key: {key}", f"expected: {ns}-<secret-name>, e.g. {ns}-{key}"],
                ))


def _key_paths(spec: dict) -> dict[str, tuple]:
    out: dict[str, tuple] = {}
    for i, d in enumerate(spec.get("data") or []):
        k = ((d or {}).get("remoteRef") or {}).get("key")
        if k:
            out.setdefault(k, ("spec", "data", i, "remoteRef", "key"))
    for i, d in enumerate(spec.get("dataFrom") or []):
        k = ((d or {}).get("extract") or {}).get("key")
        if k:
            out.setdefault(k, ("spec", "dataFrom", i, "extract", "key"))
    return out
