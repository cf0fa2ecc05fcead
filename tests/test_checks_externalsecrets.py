"""External Secrets Operator checks: one scenario per fault on the healthy platform, the store →
ExternalSecret → Secret → pod chain, refresh staleness and the naming convention.

Each scenario asserts the root cause (code, object, evidence), the symptoms it explains, and that no
other new finding of severity warning or above is a root cause.
"""

from __future__ import annotations

import copy
from datetime import timedelta

import certmanager_faults as F
import eso_faults as E
import pytest
from certmanager_faults import only_root
from scenario import no_placeholders, snapshot_without

from sre_expert.checks import externalsecrets as esocheck
from sre_expert.core.model import Finding
from sre_expert.core.units import go_duration
from sre_expert.sources.memory import snapshot_from_objects
from synth import faults
from synth.meta import ts, uid

pytestmark = pytest.mark.scenario

NOW = F.NOW
T = E.TENANT
STORE_KEY = ("ClusterSecretStore", "", E.STORE)


def finding_on(report, code: str, ns: str, name: str) -> Finding:
    return F.one(report, code, name, ns)


# --------------------------------------------------------------------------------------- healthy


def test_healthy_platform_has_no_external_secrets_finding() -> None:
    report = F.run(F.platform())
    assert not [f for f in report.findings if f.component == "external-secrets"], F.dump(report)


# --------------------------------------------------------------------------------------- store


def test_store_auth_failure_is_the_only_root_of_three_secrets_and_their_pods() -> None:
    b = F.platform()
    E.break_store(b)
    blocked = [(T, "Deployment", "api", "api-secrets"), (T, "StatefulSet", "mongodb", "mongodb"),
               ("lfh-staging", "Deployment", "api", "api-secrets")]
    for ns, kind, name, secret in blocked:
        E.block_pods_on(b, ns, kind, name, secret)
    report = F.run(b)
    root = only_root(report, "ESO-STORE-NOT-READY", "ClusterSecretStore", E.STORE)
    assert root.severity == "critical"
    assert F.has(root.evidence, 'status.conditions[Ready]: False (InvalidProviderConfig) "unable to create client"')
    assert F.has(root.evidence, 'event Warning InvalidProviderConfig')
    assert F.has(root.evidence, '"error":"invalid_grant","error_description":"Invalid JWT Signature."')
    assert F.has(root.evidence, "5 ExternalSecret(s) use this store, 5 not Ready")
    assert F.has(root.evidence, "rotate the key")
    assert "kubectl get secret gcpsm-secret -n external-secrets-system" in [r.command for r in root.remediation]
    no_placeholders(root)
    below = F.descendants(report, root)
    for ns, _kind, name, secret in blocked:
        es = finding_on(report, "ESO-SYNC-FAILED", ns, secret)
        assert es.id in root.causes and not es.root_cause
        assert es.severity == "critical"  # the Secret is gone: pods cannot start
        assert ("Secret", ns, secret) in es.subjects and STORE_KEY in es.depends_on
        assert F.has(es.evidence, f"the desired SecretStore {E.STORE} is not ready")
        assert F.has(es.evidence, f"target Secret {ns}/{secret} does not exist")
        pod = finding_on(report, "POD-CONFIG-ERROR", ns, name)
        assert pod.id in es.causes and pod.id in below
    # the two ExternalSecrets whose Secrets still exist fail too, with less urgency
    for ns, name in (("cert-manager", "cloudflare-api-token"), ("lfh-staging", "postgresql")):
        es = finding_on(report, "ESO-SYNC-FAILED", ns, name)
        assert es.severity == "warning" and es.id in root.causes
        assert F.has(es.evidence, "it keeps the last synced values")


def test_synth_secret_store_invalid() -> None:
    b = F.platform()
    faults.secret_store_invalid(b, E.store(b))
    report = F.run(b)
    root = only_root(report, "ESO-STORE-NOT-READY", "ClusterSecretStore", E.STORE)
    assert F.has(root.evidence, "Invalid JWT Signature")
    assert all(f.id in root.causes for f in report.findings if f.code == "ESO-SYNC-FAILED")


def test_store_credentials_secret_deleted() -> None:
    b = F.platform()
    E.break_store(b, E.AUTH_SECRET_GONE, delete_credentials=True)
    report = F.run(b)
    root = only_root(report, "ESO-STORE-NOT-READY", "ClusterSecretStore", E.STORE)
    assert "credentials Secret external-secrets-system/gcpsm-secret is missing" in root.title
    assert F.has(root.evidence, 'spec.provider.gcpsm.auth.secretRef.secretAccessKeySecretRef: Secret '
                                'external-secrets-system/gcpsm-secret key "secret-access-credentials" (does not exist)')
    assert F.has(root.evidence, 'could not fetch SecretAccessKey secret: secrets "gcpsm-secret" not found')
    assert ("Secret", "external-secrets-system", "gcpsm-secret") in root.subjects


def test_store_credentials_deleted_before_the_store_notices() -> None:
    b = F.platform()
    E.delete_credentials_only(b)
    report = F.run(b)
    root = only_root(report, "ESO-STORE-CREDENTIALS-MISSING", "ClusterSecretStore", E.STORE)
    assert root.severity == "critical"
    assert F.has(root.evidence, 'status.conditions[Ready]: True (Valid) "store validated"')
    assert F.has(root.evidence, "(does not exist)")


# --------------------------------------------------------------------------------------- ExternalSecrets


def test_remote_key_missing_with_a_healthy_store_is_its_own_root() -> None:
    b = F.platform()
    E.remote_key_missing(b)
    report = F.run(b)
    root = only_root(report, "ESO-REMOTE-KEY-MISSING", "ExternalSecret", "api-secrets")
    assert root.severity == "warning"  # the Secret still holds the last synced values
    assert "remote key mycure-production-mongo-uri does not exist" in root.title
    assert F.has(root.evidence, "event Warning UpdateFailed")
    assert F.has(root.evidence, "Secret [projects/418732651234/secrets/mycure-production-mongo-uri] not found or has no versions")
    assert F.has(root.evidence, "store ClusterSecretStore gcp-secretstore is healthy")
    cmds = [r.command for r in root.remediation]
    assert "gcloud secrets describe mycure-production-mongo-uri --project mc-v4-prod" in cmds
    assert STORE_KEY in root.depends_on and ("Secret", T, "api-secrets") in root.subjects
    no_placeholders(root)


def test_remote_key_missing_blocks_pods_when_the_secret_was_never_written() -> None:
    b = F.platform()
    E.remote_key_missing(b, delete_target=True)
    E.block_pods_on(b, T, "Deployment", "api", "api-secrets")
    report = F.run(b)
    root = only_root(report, "ESO-REMOTE-KEY-MISSING", "ExternalSecret", "api-secrets")
    assert root.severity == "critical"
    pod = finding_on(report, "POD-CONFIG-ERROR", T, "api")
    assert pod.id in root.causes


@pytest.mark.parametrize("apply", [E.remote_key_missing_v0911,
                                   lambda b: faults.external_secret_failed(b, E.es(b, T, "api-secrets"))])
def test_remote_key_missing_message_variants(apply) -> None:
    b = F.platform()
    apply(b)
    report = F.run(b)
    root = only_root(report, "ESO-REMOTE-KEY-MISSING", "ExternalSecret", "api-secrets")
    assert "mycure-production-mongo-uri" in root.title


def test_other_sync_error_is_reported_with_the_event_text() -> None:
    b = F.platform()
    faults.external_secret_failed(
        b, E.es(b, T, "mongodb"), since=timedelta(minutes=30),
        error='could not apply template: could not execute template: '
              'template: mongodb-passwords:1: function "b64decod" not defined')
    report = F.run(b)
    root = only_root(report, "ESO-SYNC-FAILED", "ExternalSecret", "mongodb")
    assert 'function "b64decod" not defined' in root.title
    assert root.severity == "warning"


def test_external_secret_naming_a_store_that_does_not_exist() -> None:
    b = F.platform()
    E.store_missing(b)
    report = F.run(b)
    root = only_root(report, "ESO-STORE-NOT-FOUND", "ExternalSecret", "smtp-credentials")
    assert root.severity == "critical"
    assert F.has(root.evidence, "ClusterSecretStore gcp-secret-store (does not exist; existing: gcp-secretstore)")
    assert F.has(root.evidence, 'clustersecretstores.external-secrets.io "gcp-secret-store" not found')
    assert F.has(root.evidence, "status.refreshTime is unset")


def test_store_kind_omitted_defaults_to_secret_store() -> None:
    b = F.platform()
    E.store_missing(b, store_name=E.STORE, store_kind=None)
    report = F.run(b)
    root = only_root(report, "ESO-STORE-NOT-FOUND", "ExternalSecret", "smtp-credentials")
    assert F.has(root.evidence, "a ClusterSecretStore named gcp-secretstore exists: the reference needs kind: ClusterSecretStore")


def test_target_secret_deleted_while_ready_is_the_root_of_the_blocked_pods() -> None:
    b = F.platform()
    E.target_deleted(b)
    E.block_pods_on(b, T, "Deployment", "api", "api-secrets")
    report = F.run(b)
    root = only_root(report, "ESO-TARGET-SECRET-MISSING", "ExternalSecret", "api-secrets")
    assert root.severity == "critical"
    assert F.has(root.evidence, "target Secret mycure-production/api-secrets does not exist (creationPolicy Owner)")
    assert F.has(root.evidence, "controller Deployment external-secrets-system/external-secrets: 1/1 replicas available")
    assert finding_on(report, "POD-CONFIG-ERROR", T, "api").id in root.causes


def test_creation_policy_none_owns_no_secret() -> None:
    b = F.platform()
    x = E.target_deleted(b)
    x["spec"]["target"]["creationPolicy"] = "None"
    report = F.run(b)
    assert not [f for f in report.findings if f.component == "external-secrets"], F.dump(report)


# --------------------------------------------------------------------------------------- refresh


@pytest.mark.parametrize("interval,last,stale", [
    ("1h", timedelta(hours=5), True),
    ("1h", timedelta(hours=2, minutes=5), True),
    ("1h", timedelta(hours=1, minutes=30), False),
    ("15m", timedelta(minutes=40), True),
    ("1h30m", timedelta(hours=2, minutes=50), False),
    ("0", timedelta(days=20), False),
])
def test_stale_refresh(interval: str, last: timedelta, stale: bool) -> None:
    b = F.platform()
    x = E.stale(b, last=last)
    x["spec"]["refreshInterval"] = interval
    report = F.run(b)
    if not stale:
        assert not [f for f in report.findings if f.component == "external-secrets"], F.dump(report)
        return
    root = only_root(report, "ESO-REFRESH-STALE", "ExternalSecret", "mongodb")
    assert root.severity == "warning"
    assert F.has(root.evidence, f"status.refreshTime: {ts(NOW - last)}")
    assert ("Deployment", "external-secrets-system", "external-secrets") in root.depends_on


def test_controller_scaled_to_zero_explains_every_stale_external_secret() -> None:
    b = F.platform()
    E.controller_down(b)
    report = F.run(b)
    root = only_root(report, "COMPONENT-CONTROLLER-UNAVAILABLE", "Deployment", "external-secrets")
    stale = [f for f in report.findings if f.code == "ESO-REFRESH-STALE"]
    assert len(stale) == 5
    assert all(f.id in root.causes for f in stale)
    assert F.has(stale[0].evidence, "controller Deployment external-secrets-system/external-secrets: 0/0 replicas available")


# --------------------------------------------------------------------------------------- naming


def test_naming_convention_is_info_only_and_names_the_offending_keys() -> None:
    b = F.platform()
    E.new_external_secret(b, T, "smtp", {"password": "smtp-password", "user": "lfh-staging-smtp-user"})
    report = F.run(b)
    f = F.one(report, "ESO-NAMING-CONVENTION")
    assert f.severity == "info"
    assert F.has(f.evidence, "remote key 'smtp-password' does not start with 'mycure-production-'")
    assert F.has(f.evidence, "keys named after another tenant's namespace: lfh-staging-smtp-user")
    assert not F.serious(report)


def test_platform_namespaces_are_outside_the_convention() -> None:
    b = F.platform()
    E.new_external_secret(b, "monitoring", "grafana-smtp", {"password": "grafana-smtp-password"})
    report = F.run(b)
    assert not [f for f in report.findings if f.component == "external-secrets"]


# --------------------------------------------------------------------------------------- helpers, robustness


@pytest.mark.parametrize("text,seconds", [("1h", 3600), ("30m", 1800), ("1h30m", 5400), ("90s", 90), ("0", 0),
                                          ("0s", 0), ("1.5h", 5400), ("500ms", 0.5), ("", None), ("1d", None),
                                          ("abc", None)])
def test_parse_duration(text: str, seconds: float | None) -> None:
    d = go_duration(text)
    assert (d.total_seconds() if d is not None else None) == seconds


def test_secrets_not_collected_means_no_missing_secret_claims() -> None:
    b = F.platform()
    E.target_deleted(b)
    E.delete_credentials_only(b)
    snap = snapshot_without(b, "Secret", NOW)
    assert not list(esocheck.external_secrets(snap))
    assert not list(esocheck.cluster_secret_stores(snap))


def test_every_external_secrets_finding_fills_its_templates() -> None:
    seen = F.H.filled_templates("external-secrets", (
        E.break_store, E.delete_credentials_only, E.remote_key_missing, E.store_missing, E.stale,
        E.target_deleted, lambda b: E.new_external_secret(b, T, "smtp", {"p": "smtp-password"})))
    assert len(seen) >= 8, seen


def test_many_external_secrets_share_one_store_root() -> None:
    b = F.platform()
    E.break_store(b)
    base = E.es(b, T, "api-secrets")
    extra = []
    for i in range(5000):
        x = copy.deepcopy(base)
        ns = f"tenant-{i % 200}"
        x["metadata"].update(name=f"es-{i}", namespace=ns, uid=uid("ExternalSecret", ns, f"es-{i}"))
        for d in x["spec"]["data"]:
            d["remoteRef"]["key"] = f"{ns}-{d['secretKey'].lower()}"
        extra.append(x)
    snap = snapshot_from_objects(b.objects + extra, NOW)
    out = list(esocheck.external_secrets(snap)) + list(esocheck.cluster_secret_stores(snap))
    assert len(out) == 5006  # 5005 failing ExternalSecrets and their store
    store = next(f for f in out if f.code == "ESO-STORE-NOT-READY")
    assert F.has(store.evidence, "5005 ExternalSecret(s) use this store, 5005 not Ready")
