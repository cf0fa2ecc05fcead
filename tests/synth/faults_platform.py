"""Faults of platform components: ESO sync and store, cert-manager issuance, Velero, Gateway routes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from synth.builder import PlatformBuilder

# ---------------------------------------------------------------- helpers
from synth.meta import bump, condition, number, parse_ts, safe_suffix, set_condition, ts


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
    from synth import certmanager as cm

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
    from synth import velero as vl

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
    from synth.gateway import route_parent_status

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


def bsl_outage(b: PlatformBuilder, since: timedelta, *, name: str = "default", error: str | None = None) -> dict[str, Any]:
    """The bucket refuses Velero since `since` ago: the location turns Unavailable at its next validation and
    every scheduled backup started after that fails at the object-storage existence check."""
    err = error or (
        "googleapi: Error 403: velero-server@mc-v4-prod.iam.gserviceaccount.com does not have storage.objects.list "
        "access to the Google Cloud Storage bucket. Permission 'storage.objects.list' denied on resource "
        "(or it may not exist)., forbidden"
    )
    start = b.now - since
    loc = bsl_unavailable(b, name, message=f"rpc error: code = Unknown desc = {err}")
    loc["status"]["lastSyncedTime"] = ts(start)
    for bk in b.list("Backup", "velero"):
        if bk["metadata"]["labels"].get("velero.io/storage-location", "default") != name:
            continue
        st = bk["status"]
        started = parse_ts(st.get("startTimestamp") or bk["metadata"]["creationTimestamp"])
        if started <= start:
            continue
        st["phase"] = "Failed"
        st["failureReason"] = (
            f"error checking if backup already exists in object storage: rpc error: code = Unknown desc = {err}"
        )
        st.pop("progress", None)
        st["completionTimestamp"] = ts(started + timedelta(seconds=2))
        bump(bk)
    b.refresh()
    return loc


def listener_certificate_lost(b: PlatformBuilder, cert: dict[str, Any], listener: str, *,
                              since: timedelta = timedelta(minutes=45), challenge_error: str | None = None) -> None:
    """A listener's TLS Secret is gone and cert-manager cannot issue a new one (the DNS-01 challenge is
    refused). Envoy Gateway marks the listener InvalidCertificateRef and routes bound only to it are not
    accepted (NoReadyListeners), as v1.2 writes them."""
    from synth import certmanager as cm
    from synth.gateway import route_parent_status

    ns = cert["metadata"]["namespace"]
    secret_name = cert["spec"]["secretName"]
    secret = b.get("Secret", ns, secret_name)
    if secret is not None:
        b.remove(secret)
    first = b.now - since
    gen = cert["metadata"]["generation"]
    msg = "Issuing certificate as Secret does not exist"
    cert["status"]["conditions"] = [
        condition("Ready", "False", "DoesNotExist", msg, first, observed_generation=gen),
        condition("Issuing", "True", "DoesNotExist", msg, first, observed_generation=gen),
    ]
    for k in ("notAfter", "notBefore", "renewalTime"):
        cert["status"].pop(k, None)
    bump(cert)
    cr = b.add(cm.certificate_request(cert, cert["status"]["revision"] + 1, first + timedelta(seconds=2), ready=False))
    order = b.add(cm.order(cr, cert["spec"]["dnsNames"], first + timedelta(seconds=3), state="pending"))
    issuer = b.require("ClusterIssuer", None, cert["spec"]["issuerRef"]["name"])
    solver = issuer["spec"]["acme"]["solvers"][0]
    why = challenge_error or (
        f'Error presenting challenge: Cloudflare API Error for GET "/zones?name='
        f'{cert["spec"]["dnsNames"][0].removeprefix("*.")}"\n Error: 9109: Invalid access token'
    )
    for dns in cert["spec"]["dnsNames"]:
        ch = b.add(cm.challenge(order, dns, solver, first + timedelta(seconds=4), state="pending", presented=False,
                                reason=why))
        b.add_event(ch, "PresentError", why, "Warning", int(since.total_seconds() // 300) + 1,
                    first=first + timedelta(seconds=5), component="cert-manager-challenges")
    b.add_event(cert, "Issuing", msg, first=first, component="cert-manager-certificates-trigger")
    for gw in b.list("Gateway"):
        g = gw["metadata"]["generation"]
        for ls in (gw.get("status") or {}).get("listeners") or []:
            if ls["name"] != listener:
                continue
            ls["conditions"] = [
                condition("ResolvedRefs", "False", "InvalidCertificateRef", f"Secret {ns}/{secret_name} does not exist.",
                          first, observed_generation=g),
                condition("Programmed", "False", "Invalid", "Listener is invalid, see other Conditions for details.",
                          first, observed_generation=g),
            ]
            bump(gw)
            for r in b.list("HTTPRoute"):
                status = r.get("status") or {}
                hit = False
                for i, p in enumerate(status.get("parents") or []):
                    ref = p["parentRef"]
                    if ref.get("sectionName") == listener and ref.get("name") == gw["metadata"]["name"]:
                        status["parents"][i] = route_parent_status(ref, first, r["metadata"]["generation"], accepted=(
                            "False", "NoReadyListeners", "There are no ready listeners for this parent ref"))
                        hit = True
                if hit:
                    bump(r)
