"""Faults of platform components: ESO sync and store, cert-manager issuance, Velero, Gateway routes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .builder import PlatformBuilder

# ---------------------------------------------------------------- helpers
from .meta import (
    bump,
    condition,
    number,
    parse_ts,
    safe_suffix,
    set_condition,
    ts,
)


def external_secret_failed(
    b: PlatformBuilder,
    es: dict[str, Any],
    *,
    error: str | None = None,
    since: timedelta = timedelta(hours=3),
    delete_target: bool = False,
) -> dict[str, Any]:
    """Sync failing: Ready=False/SecretSyncedError with ESO's generic message; the provider error is only in
    the UpdateFailed Warning event. refreshTime stops moving."""
    key = es["spec"]["data"][0]["remoteRef"]["key"]
    err = error or (
        f"error processing spec.data[0] (key: {key}), err: rpc error: code = NotFound desc = Secret "
        f"[projects/{number('proj', hi=10**12)}/secrets/{key}] not found or has no versions."
    )
    first = b.now - since
    set_condition(
        es, condition("Ready", "False", "SecretSyncedError", "could not get secret data from provider", first)
    )
    es["status"]["refreshTime"] = ts(
        first - timedelta(minutes=number("rt", es["metadata"]["uid"], lo=5, hi=50))
    )
    b.add_event(
        es,
        "UpdateFailed",
        err,
        "Warning",
        int(since.total_seconds() // 60) + 3,
        first=first,
        component="external-secrets",
    )
    if delete_target:
        sec = b.get("Secret", es["metadata"]["namespace"], es["spec"]["target"]["name"])
        if sec is not None:
            b.remove(sec)
    b.refresh()
    return es


def secret_store_invalid(
    b: PlatformBuilder, store: dict[str, Any], *, since: timedelta = timedelta(hours=2)
) -> dict[str, Any]:
    """ClusterSecretStore auth broken (e.g. the gcpsm-secret key revoked): every ExternalSecret on it fails."""
    first = b.now - since
    set_condition(
        store, condition("Ready", "False", "InvalidProviderConfig", "unable to create client", first)
    )
    store["status"].pop("capabilities", None)
    b.add_event(
        store,
        "InvalidProviderConfig",
        "unable to create client: failed to create GCP secretmanager client: "
        "invalid_grant: Invalid JWT Signature.",
        "Warning",
        40,
        first=first,
        component="external-secrets",
    )
    for es in b.list("ExternalSecret"):
        if es["spec"]["secretStoreRef"]["name"] == store["metadata"]["name"]:
            external_secret_failed(
                b, es, error=f"the desired SecretStore {store['metadata']['name']} is not ready", since=since
            )
    b.refresh()
    return store


def certificate_not_ready(
    b: PlatformBuilder,
    cert: dict[str, Any],
    *,
    reason: str | None = None,
    expires_in: timedelta = timedelta(days=5),
    since: timedelta = timedelta(hours=6),
) -> dict:
    """Renewal stuck on a DNS-01 challenge: Certificate Ready=True but Issuing=True past renewalTime, close to
    expiry; CertificateRequest Pending, Order pending, Challenge pending with the solver's error."""
    md = cert["metadata"]
    from . import certmanager as cm

    not_after = b.now + expires_in
    not_before = not_after - cm.DURATION
    cert["status"].update(
        {
            "notAfter": ts(not_after),
            "notBefore": ts(not_before),
            "renewalTime": ts(not_after - cm.DURATION / 3),
        }
    )
    first = b.now - since
    revision = cert["status"]["revision"] + 1
    set_condition(
        cert,
        condition(
            "Issuing",
            "True",
            "Renewing",
            f"Renewing certificate as renewal was scheduled at {cert['status']['renewalTime']}",
            first,
            observed_generation=md["generation"],
        ),
    )
    cert["status"]["nextPrivateKeySecretName"] = f"{md['name']}-{safe_suffix('npk', md['uid'])}"
    cr = b.add(cm.certificate_request(cert, revision, first + timedelta(seconds=2), ready=False))
    o = b.add(cm.order(cr, cert["spec"]["dnsNames"], first + timedelta(seconds=3), state="pending"))
    issuer = b.get("ClusterIssuer", None, cert["spec"]["issuerRef"]["name"])
    solver = issuer["spec"]["acme"]["solvers"][0] if issuer else cm.cloudflare_dns01_solver()
    why = reason or (
        "Error presenting challenge: Cloudflare API Error for zone "
        f'"{cert["spec"]["dnsNames"][0].removeprefix("*.")}": 9109: Invalid access token'
    )
    ch = b.add(
        cm.challenge(
            o, cert["spec"]["dnsNames"][0], solver, first + timedelta(seconds=4), presented=False, reason=why
        )
    )
    b.add_event(
        cert,
        "Issuing",
        f"Renewing certificate as renewal was scheduled at {cert['status']['renewalTime']}",
        first=first,
        component="cert-manager-certificates-trigger",
    )
    b.add_event(
        ch,
        "PresentError",
        why,
        "Warning",
        int(since.total_seconds() // 300) + 1,
        first=first,
        component="cert-manager-challenges",
    )
    b.refresh()
    return ch


def backup_failed(
    b: PlatformBuilder,
    schedule_name: str = "infrastructure-daily",
    *,
    phase: str = "PartiallyFailed",
    errors: int = 3,
) -> dict[str, Any]:
    """The newest Backup of a Schedule ended PartiallyFailed (errors counted) or Failed (failureReason)."""
    from . import velero as vl

    sched = b.require("Schedule", "velero", schedule_name)
    backups = sorted(
        (
            x
            for x in b.list("Backup", "velero")
            if x["metadata"]["labels"].get("velero.io/schedule-name") == schedule_name
        ),
        key=lambda x: x["metadata"]["creationTimestamp"],
    )
    newest = backups[-1]
    started = parse_ts(newest["status"]["startTimestamp"])
    b.remove(newest)
    bad = vl.backup(
        sched,
        started,
        phase=phase,
        errors=errors if phase == "PartiallyFailed" else 0,
        failure_reason=None
        if phase == "PartiallyFailed"
        else 'error getting backup storage location: BackupStorageLocation.velero.io "default" not found',
    )
    return b.add(bad)


def bsl_unavailable(
    b: PlatformBuilder, name: str = "default", *, message: str | None = None
) -> dict[str, Any]:
    bsl = b.require("BackupStorageLocation", "velero", name)
    bsl["status"]["phase"] = "Unavailable"
    bsl["status"]["message"] = (
        f'BackupStorageLocation "{name}" is unavailable: '
        f"{message or 'rpc error: code = Unknown desc = storage: bucket does not exist'}"
    )
    bump(bsl)
    return bsl


def route_not_accepted(
    b: PlatformBuilder, route: dict[str, Any], *, section: str = "https-lfh-prod"
) -> dict[str, Any]:
    """HTTPRoute pointing at a listener name that does not exist: Accepted=False/NoMatchingParent, and the
    Gateway listener it should attach to loses the route (attachedRoutes drops)."""
    from .gateway import route_parent_status

    for ref in route["spec"]["parentRefs"]:
        if ref.get("sectionName", "").startswith("https"):
            ref["sectionName"] = section
    bump(route, generation=True)
    gen = route["metadata"]["generation"]
    when = b.now - timedelta(minutes=7)
    parents = []
    for ref in route["spec"]["parentRefs"]:
        if ref.get("sectionName") == section:
            parents.append(
                route_parent_status(
                    ref,
                    when,
                    gen,
                    accepted=("False", "NoMatchingParent", "No listeners match this parent ref"),
                )
            )
        else:
            parents.append(route_parent_status(ref, when, gen))
    route["status"]["parents"] = parents
    b.refresh()
    return route
