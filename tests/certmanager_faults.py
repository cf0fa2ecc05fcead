"""cert-manager faults on the healthy synthetic platform, written as the v1.16 controllers write them
(the cert-manager v1.16 sources).

Each helper mutates the builder the way the cluster would look at NOW: conditions with their reasons
and messages, the CertificateRequest/Order/Challenge of the issuance in flight, the events the
controllers record. Every custom resource touched is validated against its CRD schema.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import scenario

from sre_expert.core.model import Finding
from sre_expert.diagnosis.engine import Report
from synth import certmanager as cm
from synth.builder import PlatformBuilder
from synth.meta import bump, condition, parse_ts, safe_suffix, set_condition, ts

Obj = dict[str, Any]

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
GW_NS = "gateway-system"
GW_NAME = "shared-gateway"
CM_NS = "cert-manager"
CF_ISSUER = "letsencrypt-mycure-cloudflare-prod"
CF_SECRET = "cloudflare-api-token"
CERT = "gateway-tls"  # *.mycureapp.com, served by the shared-gateway's https listener

CF_SECRET_MISSING = f'error getting cloudflare secret: secret "{CF_SECRET}" not found'
CF_INVALID_TOKEN = ('while attempting to find Zones for domain _acme-challenge.mycureapp.com.\n'
                    'while querying the Cloudflare API for GET "/zones?name=mycureapp.com" \n'
                    '\t Error: 9109: Invalid access token')


# ------------------------------------------------------------------------------------ build and run


H = scenario.Scenario(NOW, areas=("certmanager", "externalsecrets"), groups=("cert-manager.io", "external-secrets.io"))
platform, run, dump, one = H.platform, H.run, H.dump, H.one
serious, serious_roots = H.serious, H.serious_roots
has, descendants = scenario.has, scenario.descendants


def only_root(report: Report, code: str, kind: str, name: str) -> Finding:
    """The single new warning-or-worse root cause is `code` on `kind` `name`."""
    return H.only_root(report, code, kind, name, strays=False)


# ------------------------------------------------------------------------------------ small helpers


def cert(b: PlatformBuilder, name: str = CERT, ns: str = GW_NS) -> Obj:
    return b.require("Certificate", ns, name)


def current_request(b: PlatformBuilder, c: Obj) -> Obj:
    md = c["metadata"]
    return b.require("CertificateRequest", md["namespace"], f"{md['name']}-{c['status']['revision']}")


COMPONENTS = {"Certificate": "cert-manager-certificates-issuing",
              "CertificateRequest": "cert-manager-certificaterequests-issuer-acme",
              "Order": "cert-manager-orders", "Challenge": "cert-manager-challenges",
              "ClusterIssuer": "cert-manager-clusterissuers", "Issuer": "cert-manager-issuers"}


def event(b: PlatformBuilder, obj: Obj, reason: str, message: str, type_: str = "Normal", count: int = 1,
          last: datetime | None = None, first: datetime | None = None) -> None:
    b.add_event(obj, reason, message, type_, count=count, last=last, first=first,
                component=COMPONENTS.get(obj["kind"], "cert-manager"))


def go_time(dt: datetime) -> str:
    """metav1.Time printed with %s, as in "Renewing certificate as renewal was scheduled at ..."."""
    return dt.strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def rfc1123(dt: datetime) -> str:
    return format_datetime(dt, usegmt=True).replace("GMT", "UTC")


def renewing(c: Obj) -> str:
    return f"Renewing certificate as renewal was scheduled at {go_time(parse_ts(c['status']['renewalTime']))}"


def set_expiry(c: Obj, left: timedelta) -> None:
    """The certificate in the Secret expires `left` from NOW (90-day certificate, renewal at 2/3)."""
    not_after = NOW + left
    not_before = not_after - cm.DURATION
    st = c["status"]
    st["notAfter"], st["notBefore"] = ts(not_after), ts(not_before)
    st["renewalTime"] = ts(not_after - cm.DURATION / 3)
    bump(c)


def _begin_issuance(b: PlatformBuilder, c: Obj, since: datetime, trigger_reason: str, trigger_message: str) -> Obj:
    """Issuing=True set by the trigger controller, the temporary private key, a new request (revision + 1)."""
    st = c["status"]
    set_condition(c, condition("Issuing", "True", trigger_reason, trigger_message, since,
                               observed_generation=c["metadata"]["generation"]))
    st["nextPrivateKeySecretName"] = f"{c['metadata']['name']}-{safe_suffix('nextkey', c['metadata']['uid'])}"
    bump(c)
    event(b, c, "Issuing", trigger_message, last=since)
    event(b, c, "Generated", f'Stored new private key in temporary Secret resource "{st["nextPrivateKeySecretName"]}"',
          last=since + timedelta(seconds=1))
    cr = b.add(cm.certificate_request(c, st.get("revision", 0) + 1, since + timedelta(seconds=2), ready=False))
    event(b, c, "Requested", f'Created new CertificateRequest resource "{cr["metadata"]["name"]}"',
          last=since + timedelta(seconds=2))
    return cr


def _pending_order(b: PlatformBuilder, cr: Obj, c: Obj, since: datetime) -> Obj:
    o = b.add(cm.order(cr, c["spec"]["dnsNames"], since + timedelta(seconds=3), state="pending"))
    event(b, cr, "OrderCreated", f'Created Order resource {o["metadata"]["namespace"]}/{o["metadata"]["name"]}',
          last=since + timedelta(seconds=3))
    return o


def _challenge(b: PlatformBuilder, o: Obj, dns: str, issuer: Obj, since: datetime, **kw: Any) -> Obj:
    solver = issuer["spec"]["acme"]["solvers"][0]
    ch = b.add(cm.challenge(o, dns, solver, since + timedelta(seconds=5), **kw))
    event(b, o, "Created", f'Created Challenge resource "{ch["metadata"]["name"]}" for domain "{ch["spec"]["dnsName"]}"',
          last=since + timedelta(seconds=5))
    return ch


def delete_tls_secret_and_reissue(b: PlatformBuilder, name: str = CERT,
                                  since: timedelta = timedelta(hours=3)) -> tuple[Obj, Obj, Obj]:
    """The Certificate's Secret was deleted: cert-manager marks it not Ready and starts a new issuance.

    Returns (certificate, request, order); the Order is pending, no Challenge yet.
    """
    c = cert(b, name)
    b.remove(b.require("Secret", GW_NS, c["spec"]["secretName"]))
    when = NOW - since
    msg = "Issuing certificate as Secret does not exist"
    set_condition(c, condition("Ready", "False", "DoesNotExist", msg, when, observed_generation=c["metadata"]["generation"]))
    cr = _begin_issuance(b, c, when, "DoesNotExist", msg)
    o = _pending_order(b, cr, c, when)
    return c, cr, o


def listener_lost_certificate(b: PlatformBuilder, secret: str = "gateway-tls", listener: str = "https",
                              since: timedelta = timedelta(hours=3)) -> None:
    """Envoy Gateway's view once the listener's Secret is gone (ResolvedRefs=False/InvalidCertificateRef)."""
    gw = b.require("Gateway", GW_NS, GW_NAME)
    gen = gw["metadata"]["generation"]
    when = NOW - since
    for ls in gw["status"]["listeners"]:
        if ls["name"] != listener:
            continue
        ls["conditions"] = [
            condition("Programmed", "False", "Invalid", "Listener is invalid, see other Conditions for details.", when,
                      observed_generation=gen),
            condition("Accepted", "True", "Accepted", "Listener has been successfully translated", when,
                      observed_generation=gen),
            condition("ResolvedRefs", "False", "InvalidCertificateRef",
                      f"Secret {GW_NS}/{secret} does not exist.", when, observed_generation=gen),
        ]
    bump(gw)


# ------------------------------------------------------------------------------------ faults


def cloudflare_token_missing(b: PlatformBuilder, *, managed_by_external_secret: bool = False) -> dict[str, Obj]:
    """The Cloudflare API token Secret is gone while gateway-tls is being reissued.

    The DNS-01 challenge cannot be presented ("error getting cloudflare secret"), so it stays pending with
    PresentError events, the Order stays pending, the request waits on it, the Certificate is not Ready and
    the shared-gateway's https listener has no certificate. With `managed_by_external_secret=False` the
    ExternalSecret is removed (the token was put there by hand); otherwise the caller breaks the ExternalSecret.
    """
    b.remove(b.require("Secret", CM_NS, CF_SECRET))
    if not managed_by_external_secret:
        b.remove(b.require("ExternalSecret", CM_NS, CF_SECRET))
    issuer = b.require("ClusterIssuer", "", CF_ISSUER)
    since = NOW - timedelta(hours=3)
    c, cr, o = delete_tls_secret_and_reissue(b, CERT, since=timedelta(hours=3))
    chals = []
    for dns in c["spec"]["dnsNames"]:
        ch = _challenge(b, o, dns, issuer, since, state="pending", presented=False, processing=True,
                        reason=CF_SECRET_MISSING)
        event(b, ch, "Started", "Challenge scheduled for processing", last=since + timedelta(seconds=6))
        event(b, ch, "PresentError", f"Error presenting challenge: {CF_SECRET_MISSING}", "Warning", count=14,
              first=since + timedelta(seconds=6), last=NOW - timedelta(minutes=4))
        chals.append(ch)
    listener_lost_certificate(b)
    return {"certificate": c, "request": cr, "order": o, "challenges": chals, "issuer": issuer}


def cloudflare_token_rejected(b: PlatformBuilder) -> dict[str, Obj]:
    """The token exists but Cloudflare refuses it (revoked or expired): a renewal stuck for 2 days.

    The certificate still serves (Ready=True) but renewal was due 2 days ago and Issuing has been True since.
    """
    issuer = b.require("ClusterIssuer", "", CF_ISSUER)
    c = cert(b)
    set_expiry(c, timedelta(days=28))
    since = parse_ts(c["status"]["renewalTime"])
    cr = _begin_issuance(b, c, since, "Renewing", renewing(c))
    o = _pending_order(b, cr, c, since)
    chals = []
    for dns in c["spec"]["dnsNames"]:
        ch = _challenge(b, o, dns, issuer, since, state="pending", presented=False, processing=True, reason=CF_INVALID_TOKEN)
        event(b, ch, "PresentError", f"Error presenting challenge: {CF_INVALID_TOKEN}", "Warning", count=40,
              first=since + timedelta(seconds=7), last=NOW - timedelta(minutes=9))
        chals.append(ch)
    return {"certificate": c, "request": cr, "order": o, "challenges": chals}


def dns_propagation_stuck(b: PlatformBuilder) -> dict[str, Obj]:
    """Challenge presented but the TXT record never shows up on the authoritative servers (1h40m)."""
    issuer = b.require("ClusterIssuer", "", CF_ISSUER)
    c = cert(b, "localfirsthealth-wildcard")
    set_expiry(c, timedelta(days=29, hours=22, minutes=20))
    since = parse_ts(c["status"]["renewalTime"])
    cr = _begin_issuance(b, c, since, "Renewing", renewing(c))
    o = _pending_order(b, cr, c, since)
    reason = ("Waiting for DNS-01 challenge propagation: DNS record for \"localfirsthealth.com\" not yet propagated")
    ch = _challenge(b, o, "*.localfirsthealth.com", issuer, since, state="pending", presented=True, processing=True,
                    reason=reason)
    event(b, ch, "Presented", "Presented challenge using DNS-01 challenge mechanism", last=since + timedelta(seconds=9))
    # The apex domain validated; its Challenge stays until the Order is valid.
    _challenge(b, o, "localfirsthealth.com", issuer, since, state="valid", presented=True, processing=False,
               reason="Successfully authorized domain")
    return {"certificate": c, "request": cr, "order": o, "challenge": ch}


def challenge_invalid_issuance_failed(b: PlatformBuilder, attempts: int = 2,
                                      last_failure: timedelta = timedelta(minutes=30)) -> dict[str, Obj]:
    """Let's Encrypt found the wrong TXT value: Challenge invalid → Order invalid → request Failed →
    Certificate Issuing=False with failedIssuanceAttempts and back-off; the old certificate still serves."""
    issuer = b.require("ClusterIssuer", "", CF_ISSUER)
    c = cert(b, "mycure-md-wildcard")
    set_expiry(c, timedelta(days=30) - last_failure - timedelta(hours=2))
    started = NOW - last_failure - timedelta(minutes=6)
    cr = _begin_issuance(b, c, started, "Renewing", renewing(c))
    detail = ('Incorrect TXT record "q8V3kJ2mGx7hZ0pYc1uWf9sLr4eTn6aBd5vK3jH2iQo" found at _acme-challenge.mycure.md')
    o = b.add(cm.order(cr, c["spec"]["dnsNames"], started + timedelta(seconds=3), state="invalid"))
    o["status"]["failureTime"] = ts(NOW - last_failure - timedelta(seconds=20))
    ch = _challenge(b, o, "*.mycure.md", issuer, started, state="invalid", presented=True, processing=False,
                    reason=f"Error accepting authorization: acme: authorization error for mycure.md: 403 "
                           f"urn:ietf:params:acme:error:unauthorized: {detail}")
    event(b, ch, "Failed", f"Accepting challenge authorization failed: acme: authorization error for mycure.md: 403 "
                           f"urn:ietf:params:acme:error:unauthorized: {detail}", "Warning",
          last=NOW - last_failure - timedelta(seconds=30))
    _challenge(b, o, "mycure.md", issuer, started, state="valid", presented=True, processing=False,
               reason="Successfully authorized domain")
    fail_msg = (f'Failed to wait for order resource "{o["metadata"]["name"]}" to become ready: order is in "invalid" '
                f'state: ')
    ready = condition("Ready", "False", "Failed", fail_msg, NOW - last_failure)
    cr["status"]["conditions"] = [cr["status"]["conditions"][0], ready]
    cr["status"]["failureTime"] = ts(NOW - last_failure)
    event(b, cr, "OrderFailed", fail_msg, "Warning", last=NOW - last_failure)
    issuing_msg = f"The certificate request has failed to complete and will be retried: {fail_msg}"
    set_condition(c, condition("Issuing", "False", "Failed", issuing_msg, NOW - last_failure,
                               observed_generation=c["metadata"]["generation"]))
    c["status"]["lastFailureTime"] = ts(NOW - last_failure)
    c["status"]["failedIssuanceAttempts"] = attempts
    c["status"].pop("nextPrivateKeySecretName", None)
    event(b, c, "Failed", issuing_msg, "Warning", last=NOW - last_failure)
    return {"certificate": c, "request": cr, "order": o, "challenge": ch}


def request_denied(b: PlatformBuilder) -> dict[str, Obj]:
    """An approver-policy denied the renewal request; the Certificate backs off (first failure, 10m ago)."""
    c = cert(b, "stg-localfirsthealth-wildcard")
    set_expiry(c, timedelta(days=30) - timedelta(minutes=11))
    started = NOW - timedelta(minutes=11)
    cr = _begin_issuance(b, c, started, "Renewing", renewing(c))
    denied_msg = ("No policy approved this request: [monobase-wildcards: spec.allowed.dnsNames.values: Invalid value: "
                  "\"*.stg.localfirsthealth.com\": *.localfirsthealth.com]")
    cr["status"] = {
        "conditions": [
            condition("Denied", "True", "policy.cert-manager.io", denied_msg, started + timedelta(seconds=3)),
            condition("Ready", "False", "Denied", "The CertificateRequest was denied by an approval controller",
                      started + timedelta(seconds=3)),
        ],
        "failureTime": ts(started + timedelta(seconds=3)),
    }
    when = NOW - timedelta(minutes=10)
    msg = f"The certificate request has failed to complete and will be retried: {denied_msg}"
    set_condition(c, condition("Issuing", "False", "Denied", msg, when, observed_generation=c["metadata"]["generation"]))
    c["status"]["lastFailureTime"] = ts(when)
    c["status"]["failedIssuanceAttempts"] = 1
    c["status"].pop("nextPrivateKeySecretName", None)
    event(b, c, "Denied", msg, "Warning", last=when)
    return {"certificate": c, "request": cr}


def issuer_registration_failed(b: PlatformBuilder, issuer: str = CF_ISSUER) -> Obj:
    """The ACME account cannot be registered (e.g. egress to Let's Encrypt blocked): Ready=False."""
    iss = b.require("ClusterIssuer", "", issuer)
    when = NOW - timedelta(hours=2)
    msg = ('Failed to register ACME account: Get "https://acme-v02.api.letsencrypt.org/directory": dial tcp '
           '172.65.32.248:443: i/o timeout')
    iss["status"]["conditions"] = [condition("Ready", "False", "ErrRegisterACMEAccount", msg, when,
                                             observed_generation=iss["metadata"]["generation"])]
    bump(iss)
    event(b, iss, "ErrVerifyACMEAccount", msg, "Warning", count=9, last=NOW - timedelta(minutes=6))
    return iss


def certificate_with_unknown_issuer(b: PlatformBuilder, issuer: str = "letsencrypt-cloudflare-prod") -> dict[str, Obj]:
    """A new Certificate whose issuerRef has a typo: never issued, request Pending "Referenced ... not found"."""
    ns = "mycure-production"
    created = NOW - timedelta(hours=2)
    c = cm.certificate(ns, "portal-tls", "portal-tls", ["portal.mycureapp.com"], issuer, created, NOW, revision=1)
    when = created + timedelta(seconds=2)
    c["status"] = {"conditions": [
        condition("Ready", "False", "DoesNotExist", "Issuing certificate as Secret does not exist", when,
                  observed_generation=1),
        condition("Issuing", "True", "DoesNotExist", "Issuing certificate as Secret does not exist", when,
                  observed_generation=1),
    ], "nextPrivateKeySecretName": f"portal-tls-{safe_suffix('pk', 'portal')}"}
    b.add(c)
    cr = cm.certificate_request(c, 1, when + timedelta(seconds=1), ready=False)
    msg = f'Referenced "ClusterIssuer" not found: clusterissuer.cert-manager.io "{issuer}" not found'
    cr["status"]["conditions"][1] = condition("Ready", "False", "Pending", msg, when + timedelta(seconds=1))
    b.add(cr)
    event(b, cr, "IssuerNotFound", msg, last=when + timedelta(seconds=1))
    return {"certificate": c, "request": cr}


def standalone_request_unknown_issuer(b: PlatformBuilder) -> Obj:
    """A CertificateRequest created directly (by a tool, no Certificate) naming a missing Issuer."""
    ns = "mycure-production"
    owner = cm.certificate(ns, "scratch", "scratch", ["scratch.mycureapp.com"], "internal-ca", NOW - timedelta(hours=1),
                           NOW, issuer_kind="Issuer", revision=1)
    cr = cm.certificate_request(owner, 1, NOW - timedelta(minutes=50), ready=False)
    md = cr["metadata"]
    md["name"] = "mtls-client-7f2c"
    md.pop("ownerReferences", None)
    md["annotations"] = {}
    msg = 'Referenced "Issuer" not found: issuer.cert-manager.io "internal-ca" not found'
    cr["status"]["conditions"][1] = condition("Ready", "False", "Pending", msg, NOW - timedelta(minutes=50))
    b.add(cr)
    return cr


def renewal_not_started(b: PlatformBuilder, overdue: timedelta = timedelta(hours=6)) -> Obj:
    """renewalTime passed hours ago and nothing happened (trigger controller wedged): Ready, not Issuing."""
    c = cert(b, "stg-localfirsthealth-wildcard")
    set_expiry(c, timedelta(days=30) - overdue)
    return c


def expired(b: PlatformBuilder, name: str = "mycure-md-wildcard", ago: timedelta = timedelta(hours=5)) -> Obj:
    """The certificate expired; cert-manager's readiness check says so; nothing is being issued."""
    c = cert(b, name)
    set_expiry(c, -ago)
    not_after = parse_ts(c["status"]["notAfter"])
    set_condition(c, condition("Ready", "False", "Expired",
                               f"Certificate expired on {rfc1123(not_after)}",
                               not_after, observed_generation=c["metadata"]["generation"]))
    return c


def scale_to_zero(b: PlatformBuilder, ns: str, name: str) -> None:
    """A controller Deployment scaled to zero (e.g. by a bad values change): its pods are gone."""
    w = b.workload("Deployment", ns, name)
    w.controller["spec"]["replicas"] = 0
    bump(w.controller)
    w.controller["metadata"]["generation"] += 1
    for p in list(w.pods):
        if b.get("Pod", ns, p["metadata"]["name"]) is p:
            b.remove(p)
    b.refresh()


def old_failed_attempts_left_behind(b: PlatformBuilder) -> None:
    """History that must not be reported: a Failed request and an invalid Order of the revision that is
    now issued (the retry succeeded) on a healthy certificate."""
    c = cert(b, "localfirsthealth-wildcard")
    rev = c["status"]["revision"]
    issued = parse_ts(current_request(b, c)["metadata"]["creationTimestamp"])
    old = cm.certificate_request(c, rev, issued - timedelta(hours=2), ready=False,
                                 failure='Failed to wait for order resource "x" to become ready: order is in "invalid" state: ')
    old["metadata"]["name"] = f"{c['metadata']['name']}-{rev}-old"
    old["metadata"]["uid"] = old["metadata"]["uid"][:-4] + "0ld0"
    b.add(old)
    o = cm.order(old, c["spec"]["dnsNames"], issued - timedelta(hours=2), state="invalid")
    b.add(o)


def fresh_issuance(b: PlatformBuilder) -> Obj:
    """A Certificate created 3 minutes ago: not Ready yet, challenges pending for 2 minutes. Normal."""
    ns = "mycure-production"
    created = NOW - timedelta(minutes=3)
    c = cm.certificate(ns, "docs-tls", "docs-tls", ["docs.mycureapp.com"], CF_ISSUER, created, NOW, revision=1)
    msg = "Issuing certificate as Secret does not exist"
    c["status"] = {"conditions": [condition("Ready", "False", "DoesNotExist", msg, created, observed_generation=1),
                                  condition("Issuing", "True", "DoesNotExist", msg, created, observed_generation=1)],
                   "nextPrivateKeySecretName": "docs-tls-x7k2p"}
    b.add(c)
    cr = b.add(cm.certificate_request(c, 1, created + timedelta(seconds=2), ready=False))
    o = b.add(cm.order(cr, ["docs.mycureapp.com"], created + timedelta(seconds=3), state="pending"))
    issuer = b.require("ClusterIssuer", "", CF_ISSUER)
    b.add(cm.challenge(o, "docs.mycureapp.com", issuer["spec"]["acme"]["solvers"][0], created + timedelta(minutes=1),
                       reason='Waiting for DNS-01 challenge propagation: DNS record for "docs.mycureapp.com" not yet propagated'))
    return c
