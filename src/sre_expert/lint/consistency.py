"""values/infrastructure/main.yaml against the manifests written from it.

The values file states intent (listeners, certificates, backup tiers, allowed registries, the secret
store); the manifests under infrastructure/ are what Argo CD applies. When they disagree, one of them
was edited alone: every disagreement is a finding on the values line, naming the manifest's line.
Sections the values file does not have are not compared.
"""

from __future__ import annotations

from typing import Any

from sre_expert.core.units import go_duration
from sre_expert.lint.codes import lint_finding
from sre_expert.lint.context import LintContext
from sre_expert.lint.repo import Doc, RepoObject

CODE = "LINT-VALUES-MISMATCH"
COMPARED = ("Gateway", "Certificate", "Schedule", "BackupStorageLocation", "ClusterPolicy", "ClusterSecretStore")


def _ref(ro: RepoObject, *path: Any) -> str:
    return f"{ro.file}:{ro.line(*path)}"


def _say(ctx: LintContext, vals: Doc, path: tuple[Any, ...], title: str, evidence: list[str]) -> None:
    from sre_expert.lint.codes import file_ref

    ctx.add(lint_finding(CODE, file_ref(vals.file), vals.file, vals.line(*path), title, evidence=evidence))


def check_consistency(ctx: LintContext) -> None:
    vals = ctx.repo.infra_values
    if vals is None:
        return
    if not ctx.trusts_absence("values/infrastructure/main.yaml against manifests", *COMPARED):
        return
    for section in (_gateway, _certificates, _velero, _registries, _secret_store):
        with ctx.guard("infrastructure values vs manifests", vals):
            section(ctx, vals)


def _gateway(ctx: LintContext, vals: Doc) -> None:
    gw = vals.get("gateway")
    if not isinstance(gw, dict) or not isinstance(gw.get("listeners"), list):
        return
    ns, name = str(gw.get("namespace") or "default"), str(gw.get("name") or "")
    ro = next((g for g in ctx.repo.objects("Gateway") if g.namespace == ns and g.name == name), None)
    if ro is None:
        return  # the values describe a Gateway rendered elsewhere; routes are checked against the values
    spec = ro.obj.get("spec") or {}
    if gw.get("className") and spec.get("gatewayClassName") != gw["className"]:
        _say(ctx, vals, ("gateway", "className"), f"gateway.className {gw['className']} but Gateway {ns}/{name} "
             f"uses {spec.get('gatewayClassName')}", [f"Gateway: {_ref(ro, 'spec', 'gatewayClassName')}"])
    actual = {lst.get("name"): (i, lst) for i, lst in enumerate(spec.get("listeners") or []) if isinstance(lst, dict)}
    for i, want in enumerate(gw["listeners"]):
        if not isinstance(want, dict):
            continue
        lname = want.get("name")
        if lname not in actual:
            _say(ctx, vals, ("gateway", "listeners", i), f"Listener {lname} is in the values but not in Gateway {ns}/{name}",
                 [f"Gateway listeners ({_ref(ro, 'spec', 'listeners')}): " + ", ".join(map(str, actual))])
            continue
        j, got = actual[lname]
        tls = [c.get("name") for c in ((got.get("tls") or {}).get("certificateRefs") or []) if isinstance(c, dict)]
        pairs = [("hostname", want.get("hostname"), got.get("hostname")), ("port", want.get("port"), got.get("port")),
                 ("protocol", want.get("protocol"), got.get("protocol"))]
        if want.get("tlsSecret"):
            pairs.append(("tlsSecret", want["tlsSecret"], tls[0] if tls else None))
        for field, a, b in pairs:
            if a is not None and a != b:
                _say(ctx, vals, ("gateway", "listeners", i, field), f"Listener {lname}: {field} {a} in the values, "
                     f"{b} in Gateway {ns}/{name}", [f"Gateway: {_ref(ro, 'spec', 'listeners', j)}"])
    for lname, (j, _) in actual.items():
        if lname not in {w.get("name") for w in gw["listeners"] if isinstance(w, dict)}:
            _say(ctx, vals, ("gateway", "listeners"), f"Gateway {ns}/{name} has listener {lname}, which the values do not list",
                 [f"Gateway: {_ref(ro, 'spec', 'listeners', j)}"])


def _certificates(ctx: LintContext, vals: Doc) -> None:
    cm = vals.get("tls", "certManager")
    if not isinstance(cm, dict) or cm.get("enabled") is False:
        return
    certs = [c for c in ctx.repo.objects("Certificate") if c.obj.get("apiVersion", "").startswith("cert-manager.io/")]
    if not certs:
        return
    names = {str(n) for c in certs for n in ((c.obj.get("spec") or {}).get("dnsNames") or [])}
    for i, w in enumerate(cm.get("wildcards") or []):
        if isinstance(w, dict) and w.get("domain") and f"*.{w['domain']}" not in names:
            _say(ctx, vals, ("tls", "certManager", "wildcards", i), f"Wildcard *.{w['domain']} is in the values but in "
                 "no Certificate", [f"Certificates: {', '.join(c.name for c in certs)}"])
    for i, d in enumerate(cm.get("additionalDomains") or []):
        if str(d) not in names:
            _say(ctx, vals, ("tls", "certManager", "additionalDomains", i), f"Additional domain {d} is in no Certificate",
                 [f"Certificates: {', '.join(c.name for c in certs)}"])
    issuer = cm.get("clusterIssuer")
    for c in certs:
        ref = (c.obj.get("spec") or {}).get("issuerRef") or {}
        if issuer and ref.get("kind", "Issuer") == "ClusterIssuer" and ref.get("name") != issuer:
            _say(ctx, vals, ("tls", "certManager", "clusterIssuer"), f"Certificate {c.namespace}/{c.name} is issued by "
                 f"{ref.get('name')}, not {issuer}", [f"Certificate: {_ref(c, 'spec', 'issuerRef', 'name')}"])


def _velero(ctx: LintContext, vals: Doc) -> None:
    v = vals.get("velero")
    if not isinstance(v, dict):
        return
    schedules = {s.name: s for s in ctx.repo.objects("Schedule")}
    for name, want in (v.get("schedules") or {}).items():
        if not isinstance(want, dict) or want.get("enabled") is False:
            continue
        ro = schedules.get(name)
        if ro is None:
            _say(ctx, vals, ("velero", "schedules", name), f"Schedule {name} is enabled in the values but not defined",
                 ["Schedules: " + (", ".join(schedules) or "none")])
            continue
        spec = ro.obj.get("spec") or {}
        got = {"schedule": spec.get("schedule"), "ttl": (spec.get("template") or {}).get("ttl")}
        for field in ("schedule", "ttl"):
            a, b = want.get(field), got[field]
            if a is None or a == b or (field == "ttl" and _same_duration(a, b)):
                continue
            path = ("spec", "schedule") if field == "schedule" else ("spec", "template", "ttl")
            _say(ctx, vals, ("velero", "schedules", name, field), f"Schedule {name}: {field} {a!r} in the values, "
                 f"{b!r} in the manifest", [f"Schedule: {_ref(ro, *path)}"])
    loc = v.get("backupStorageLocation")
    if isinstance(loc, dict) and loc.get("name"):
        ro = next((b for b in ctx.repo.objects("BackupStorageLocation") if b.name == loc["name"]), None)
        if ro is None:
            _say(ctx, vals, ("velero", "backupStorageLocation", "name"),
                 f"Backup location {loc['name']} is in the values but not defined", [])
            return
        storage = (ro.obj.get("spec") or {}).get("objectStorage") or {}
        for field in ("bucket", "prefix"):
            if loc.get(field) is not None and loc[field] != storage.get(field):
                _say(ctx, vals, ("velero", "backupStorageLocation", field), f"Backup location {ro.name}: {field} "
                     f"{loc[field]} in the values, {storage.get(field)} in the manifest",
                     [f"BackupStorageLocation: {_ref(ro, 'spec', 'objectStorage', field)}"])


def _same_duration(a: Any, b: Any) -> bool:
    da, db = go_duration(str(a)), go_duration(str(b))
    return da is not None and da == db


def _registries(ctx: LintContext, vals: Doc) -> None:
    rr = vals.get("kyverno", "restrictRegistries")
    if not isinstance(rr, dict):
        return
    from sre_expert.lint.registries import allow_list

    found = allow_list(ctx)
    if found is None:
        return
    policy, patterns = found
    want = [f"{p}*" for p in rr.get("allowed") or []]
    where = f"ClusterPolicy {policy.name}: {_ref(policy, 'spec', 'rules')}"
    for i, p in enumerate(want):
        if p not in patterns:
            _say(ctx, vals, ("kyverno", "restrictRegistries", "allowed", i), f"Registry {p[:-1]} is allowed in the "
                 f"values but not in the {policy.name} policy", [where])
    for p in patterns:
        if p not in want:
            _say(ctx, vals, ("kyverno", "restrictRegistries", "allowed"), f"The {policy.name} policy allows {p}, which "
                 "the values do not list", [where])
    action = rr.get("action")
    got = (policy.obj.get("spec") or {}).get("validationFailureAction")
    if action and str(action).lower() != str(got).lower():
        _say(ctx, vals, ("kyverno", "restrictRegistries", "action"), f"restrictRegistries.action {action} in the values, "
             f"{got} in the {policy.name} policy", [f"ClusterPolicy: {_ref(policy, 'spec', 'validationFailureAction')}"])


def _secret_store(ctx: LintContext, vals: Doc) -> None:
    css = vals.get("externalSecrets", "clusterSecretStore")
    if not isinstance(css, dict) or not css.get("name"):
        return
    ro = next((s for s in ctx.repo.objects("ClusterSecretStore") if s.name == css["name"]), None)
    if ro is None:
        _say(ctx, vals, ("externalSecrets", "clusterSecretStore", "name"),
             f"ClusterSecretStore {css['name']} is in the values but not defined", [])
        return
    gcp = ((ro.obj.get("spec") or {}).get("provider") or {}).get("gcpsm") or {}
    if css.get("projectID") and gcp.get("projectID") != css["projectID"]:
        _say(ctx, vals, ("externalSecrets", "clusterSecretStore", "projectID"), f"ClusterSecretStore {ro.name} reads "
             f"project {gcp.get('projectID')}, the values say {css['projectID']}",
             [f"ClusterSecretStore: {_ref(ro, 'spec', 'provider', 'gcpsm', 'projectID')}"])
