"""cert-manager checks: one scenario per fault on the healthy platform, the Challenge → Order →
CertificateRequest → Certificate → Gateway listener chain, expiry thresholds and the back-off rule.

Each scenario asserts the root cause (code, object, evidence), the symptoms it explains, and that no
other new finding of severity warning or above is a root cause.
"""

from __future__ import annotations

from datetime import timedelta

import certmanager_faults as F
import pytest
from certmanager_faults import only_root
from scenario import no_placeholders, snapshot_without

from sre_expert.checks import certmanager as cmcheck
from sre_expert.core.model import Finding
from sre_expert.sources.memory import snapshot_from_objects
from synth import faults
from synth.meta import uid

pytestmark = pytest.mark.scenario

NOW = F.NOW
GW = F.GW_NS
TOKEN_KEY = ("Secret", "cert-manager", F.CF_SECRET)
ISSUER_KEY = ("ClusterIssuer", "", F.CF_ISSUER)


def explains(report, root: Finding, code: str, name: str | None = None) -> Finding:
    """The finding `code` (on `name`) exists, is not a root cause, and descends from `root`."""
    f = F.one(report, code, name)
    assert not f.root_cause, F.dump(report)
    assert f.id in F.descendants(report, root), f"{f.id} is not explained by {root.id}\n{F.dump(report)}"
    return f


# --------------------------------------------------------------------------------------- healthy


def test_healthy_platform_has_no_cert_manager_finding() -> None:
    report = F.run(F.platform())
    assert not [f for f in report.findings if f.component == "cert-manager"], F.dump(report)


def test_history_and_fresh_issuance_are_not_faults() -> None:
    b = F.platform()
    F.old_failed_attempts_left_behind(b)
    F.fresh_issuance(b)
    report = F.run(b)
    assert not [f for f in report.findings if f.component == "cert-manager"], F.dump(report)


# --------------------------------------------------------------------------------------- Cloudflare token


def test_cloudflare_token_missing_is_the_root_of_challenge_order_certificate_and_listener() -> None:
    b = F.platform()
    objs = F.cloudflare_token_missing(b)
    report = F.run(b)
    root = only_root(report, "CERT-ISSUER-SECRET-MISSING", "ClusterIssuer", F.CF_ISSUER)
    assert root.severity == "critical"
    assert TOKEN_KEY in root.subjects and ISSUER_KEY in root.subjects
    assert TOKEN_KEY in root.depends_on  # an ExternalSecret writing the token would be the deeper root
    assert F.has(root.evidence, "spec.acme.solvers[0].dns01.cloudflare.apiTokenSecretRef: "
                                "{name: cloudflare-api-token, key: api-token}")
    assert F.has(root.evidence, "Secret cert-manager/cloudflare-api-token does not exist")
    assert F.has(root.evidence, "no ExternalSecret in cert-manager writes this Secret")
    assert F.has(root.evidence, "2 challenge(s) of this issuer are not valid")
    assert any("kubectl get secret cloudflare-api-token -n cert-manager" == r.command for r in root.remediation)
    no_placeholders(root)

    ch = explains(report, root, "CERT-CHALLENGE-STUCK")
    assert ch.severity == "critical"  # the certificate it serves has no Secret
    assert F.has(ch.evidence, 'reason "error getting cloudflare secret: secret "cloudflare-api-token" not found"')
    assert F.has(ch.evidence, 'event Warning PresentError ×14')
    assert {("Challenge", GW, c["metadata"]["name"]) for c in objs["challenges"]} <= set(ch.subjects)
    assert TOKEN_KEY in ch.depends_on and ISSUER_KEY in ch.depends_on

    explains(report, root, "CERT-ORDER-STUCK", objs["order"]["metadata"]["name"])
    cert = explains(report, root, "CERT-NOT-READY", F.CERT)
    assert cert.severity == "critical"
    assert ("Secret", GW, "gateway-tls") in cert.subjects
    assert F.has(cert.evidence, 'status.conditions[Ready]: False (DoesNotExist) "Issuing certificate as Secret does not exist"')
    assert F.has(cert.evidence, "Secret gateway-system/gateway-tls (spec.secretName) does not exist")
    assert ("CertificateRequest", GW, objs["request"]["metadata"]["name"]) in cert.depends_on
    # the listener without its Secret is a symptom too
    (listener,) = [f for f in report.findings if f.code == "GATEWAY-LISTENER-CERT-INVALID"]
    assert listener.id in cert.causes and not listener.root_cause


def test_cloudflare_token_written_by_a_failing_external_secret_makes_the_external_secret_the_root() -> None:
    b = F.platform()
    F.cloudflare_token_missing(b, managed_by_external_secret=True)
    faults.external_secret_failed(b, b.require("ExternalSecret", "cert-manager", F.CF_SECRET))
    report = F.run(b)
    root = only_root(report, "ESO-REMOTE-KEY-MISSING", "ExternalSecret", F.CF_SECRET)
    assert TOKEN_KEY in root.subjects
    token = explains(report, root, "CERT-ISSUER-SECRET-MISSING")
    assert F.has(token.evidence, "ExternalSecret cert-manager/cloudflare-api-token should create it: False (SecretSyncedError)")
    explains(report, root, "CERT-CHALLENGE-STUCK")
    explains(report, root, "CERT-NOT-READY", F.CERT)


def test_token_secret_without_the_referenced_key() -> None:
    b = F.platform()
    sec = b.require("Secret", "cert-manager", F.CF_SECRET)
    sec["data"] = {"token": sec["data"]["api-token"]}
    report = F.run(b)
    root = only_root(report, "CERT-ISSUER-SECRET-MISSING", "ClusterIssuer", F.CF_ISSUER)
    assert F.has(root.evidence, 'Secret cert-manager/cloudflare-api-token has no key "api-token" (keys: token)')
    assert root.severity == "warning"  # latent: no challenge in flight, no renewal due within a week


def test_cloudflare_rejects_the_token_renewal_stuck_for_two_days() -> None:
    b = F.platform()
    objs = F.cloudflare_token_rejected(b)
    report = F.run(b)
    names = sorted(c["metadata"]["name"] for c in objs["challenges"])
    root = only_root(report, "CERT-CHALLENGE-STUCK", "Challenge", names[0])
    assert F.has(root.evidence, "Error: 9109: Invalid access token")
    assert F.has(root.evidence, "Cloudflare rejected the API token")
    assert F.has(root.evidence, 'Secret cert-manager/cloudflare-api-token key "api-token" (present)')
    assert root.severity == "warning"  # 28 days of validity left
    assert ("Challenge", GW, names[1]) in root.subjects  # one finding per order and failure
    cert = explains(report, root, "CERT-ISSUANCE-STUCK", F.CERT)
    assert F.has(cert.evidence, 'status.conditions[Issuing]: True (Renewing) "Renewing certificate as renewal was scheduled at')
    assert F.has(cert.evidence, "status.renewalTime: 2025-03-08T12:00:00Z (passed 2d ago)")
    explains(report, root, "CERT-ORDER-STUCK")


@pytest.mark.parametrize("expires_in,severity", [(timedelta(days=5), "warning"), (timedelta(days=1), "critical")])
def test_synth_renewal_stuck_on_dns01_severity_follows_expiry(expires_in: timedelta, severity: str) -> None:
    b = F.platform()
    ch = faults.certificate_not_ready(b, F.cert(b), expires_in=expires_in)
    report = F.run(b)
    root = only_root(report, "CERT-CHALLENGE-STUCK", "Challenge", ch["metadata"]["name"])
    assert root.severity == severity
    assert F.has(root.evidence, "9109: Invalid access token")
    cert = explains(report, root, "CERT-ISSUANCE-STUCK", F.CERT)
    assert cert.severity == severity
    assert f"expires in {'5d' if severity == 'warning' else '1d'}" in cert.title


def test_dns_propagation_never_completes() -> None:
    b = F.platform()
    objs = F.dns_propagation_stuck(b)
    report = F.run(b)
    root = only_root(report, "CERT-CHALLENGE-STUCK", "Challenge", objs["challenge"]["metadata"]["name"])
    assert "Waiting for DNS-01 challenge propagation" in root.title
    assert F.has(root.evidence, "presented=true")
    assert F.has(root.evidence, "TXT record is not visible")
    assert "dig +short TXT _acme-challenge.localfirsthealth.com @1.1.1.1" in [r.command for r in root.remediation]
    cert = explains(report, root, "CERT-ISSUANCE-STUCK", "localfirsthealth-wildcard")
    assert cert.severity == "warning"


# --------------------------------------------------------------------------------------- failed issuance


def test_invalid_challenge_fails_order_request_and_certificate_with_back_off() -> None:
    b = F.platform()
    objs = F.challenge_invalid_issuance_failed(b, attempts=2, last_failure=timedelta(minutes=30))
    report = F.run(b)
    root = only_root(report, "CERT-CHALLENGE-FAILED", "Challenge", objs["challenge"]["metadata"]["name"])
    assert F.has(root.evidence, 'Incorrect TXT record')
    assert F.has(root.evidence, "event Warning Failed")
    order = explains(report, root, "CERT-ORDER-FAILED", objs["order"]["metadata"]["name"])
    assert order.title.endswith("is invalid")
    req = explains(report, root, "CERT-REQUEST-FAILED", objs["request"]["metadata"]["name"])
    assert F.has(req.evidence, 'order is in "invalid" state')
    cert = explains(report, root, "CERT-ISSUANCE-FAILED", "mycure-md-wildcard")
    assert cert.severity == "warning"
    assert F.has(cert.evidence, 'status.conditions[Issuing]: False (Failed) '
                                '"The certificate request has failed to complete and will be retried')
    assert F.has(cert.evidence, "status.failedIssuanceAttempts: 2, status.lastFailureTime: 2025-03-10T11:30:00Z; "
                                "back-off 2h: next issuance attempt at 2025-03-10T13:30:00Z (in 1h30m)")
    assert "issuance failed 2 times" in cert.title


def test_back_off_over_without_a_new_attempt_points_at_the_controller() -> None:
    b = F.platform()
    F.challenge_invalid_issuance_failed(b, attempts=3, last_failure=timedelta(hours=5))
    report = F.run(b)
    cert = F.one(report, "CERT-ISSUANCE-FAILED", "mycure-md-wildcard")
    assert F.has(cert.evidence, "back-off 4h ended 1h ago, yet no new issuance has started")
    assert ("Deployment", "cert-manager", "cert-manager") in cert.depends_on


@pytest.mark.parametrize("attempts,hours", [(None, 1), (0, 1), (1, 1), (2, 2), (3, 4), (5, 16), (6, 32), (7, 32), (40, 32)])
def test_back_off_rule(attempts: int | None, hours: int) -> None:
    assert cmcheck.backoff(attempts) == timedelta(hours=hours)


def test_denied_request() -> None:
    b = F.platform()
    objs = F.request_denied(b)
    report = F.run(b)
    root = only_root(report, "CERT-REQUEST-DENIED", "CertificateRequest", objs["request"]["metadata"]["name"])
    assert F.has(root.evidence, 'status.conditions[Denied]: True (policy.cert-manager.io) "No policy approved this request')
    assert F.has(root.evidence, "requested by Certificate gateway-system/stg-localfirsthealth-wildcard")
    cert = explains(report, root, "CERT-ISSUANCE-FAILED", "stg-localfirsthealth-wildcard")
    assert F.has(cert.evidence, "back-off 1h: next issuance attempt at 2025-03-10T12:50:00Z (in 50m)")
    assert any(r.safety == "destructive" and r.command.startswith("kubectl delete certificaterequest") for r in root.remediation)


# --------------------------------------------------------------------------------------- issuers


def test_cluster_issuer_not_ready() -> None:
    b = F.platform()
    F.issuer_registration_failed(b)
    report = F.run(b)
    root = only_root(report, "CERT-ISSUER-NOT-READY", "ClusterIssuer", F.CF_ISSUER)
    assert root.severity == "critical"  # four certificates renew through it
    assert "ErrRegisterACMEAccount" in root.title
    assert F.has(root.evidence, "dial tcp 172.65.32.248:443: i/o timeout")
    assert F.has(root.evidence, "event Warning ErrVerifyACMEAccount ×9")
    assert F.has(root.evidence, "4 Certificate(s) use this issuer")
    assert "kubectl describe clusterissuer letsencrypt-mycure-cloudflare-prod" in [r.command for r in root.remediation]


def test_unused_issuer_not_ready_is_a_warning() -> None:
    b = F.platform()
    F.issuer_registration_failed(b, "letsencrypt-staging")
    report = F.run(b)
    root = only_root(report, "CERT-ISSUER-NOT-READY", "ClusterIssuer", "letsencrypt-staging")
    assert root.severity == "warning"
    assert F.has(root.evidence, "no Certificate uses this issuer")


def test_certificate_naming_an_issuer_that_does_not_exist() -> None:
    b = F.platform()
    objs = F.certificate_with_unknown_issuer(b)
    report = F.run(b)
    root = only_root(report, "CERT-ISSUER-NOT-FOUND", "Certificate", "portal-tls")
    assert root.severity == "critical"
    assert F.has(root.evidence, "ClusterIssuer letsencrypt-cloudflare-prod does not exist (existing: "
                                "letsencrypt-mycure-cloudflare-prod, letsencrypt-prod, letsencrypt-staging)")
    assert F.has(root.evidence, 'Referenced "ClusterIssuer" not found: '
                                'clusterissuer.cert-manager.io "letsencrypt-cloudflare-prod" not found')
    assert ("Secret", "mycure-production", "portal-tls") in root.subjects
    assert ("CertificateRequest", "mycure-production", objs["request"]["metadata"]["name"]) in root.depends_on
    assert not [f for f in report.findings if f.code == "CERT-REQUEST-ISSUER-NOT-FOUND"]


def test_standalone_request_naming_a_missing_issuer() -> None:
    b = F.platform()
    F.standalone_request_unknown_issuer(b)
    report = F.run(b)
    root = only_root(report, "CERT-REQUEST-ISSUER-NOT-FOUND", "CertificateRequest", "mtls-client-7f2c")
    assert F.has(root.evidence, 'Referenced "Issuer" not found: issuer.cert-manager.io "internal-ca" not found')
    assert F.has(root.evidence, "Issuer mycure-production/internal-ca does not exist")


# --------------------------------------------------------------------------------------- expiry and renewal


@pytest.mark.parametrize("left,code,severity", [
    (timedelta(days=1), "CERT-EXPIRING-SOON", "critical"),
    (timedelta(hours=47), "CERT-EXPIRING-SOON", "critical"),
    (timedelta(days=5), "CERT-EXPIRING-SOON", "warning"),
    (timedelta(days=6, hours=23), "CERT-EXPIRING-SOON", "warning"),
    (timedelta(days=30), None, None),
])
def test_expiry_thresholds(left: timedelta, code: str | None, severity: str | None) -> None:
    b = F.platform()
    F.set_expiry(F.cert(b, "mycure-md-wildcard"), left)
    report = F.run(b)
    found = [f for f in report.findings if f.component == "cert-manager"]
    if code is None:
        assert not found, F.dump(report)
        return
    root = only_root(report, code, "Certificate", "mycure-md-wildcard")
    assert root.severity == severity
    assert F.has(root.evidence, f"status.notAfter: {F.ts(NOW + left)} (expires in ")
    assert F.has(root.evidence, "status.renewalTime:")  # passed long ago: renewal is not happening
    assert ("Deployment", "cert-manager", "cert-manager") in root.depends_on
    assert "cmctl renew mycure-md-wildcard -n gateway-system" in [r.command for r in root.remediation]


def test_expired_certificate() -> None:
    b = F.platform()
    F.expired(b)
    report = F.run(b)
    root = only_root(report, "CERT-EXPIRED", "Certificate", "mycure-md-wildcard")
    assert root.severity == "critical"
    assert F.has(root.evidence, 'status.conditions[Ready]: False (Expired) '
                                '"Certificate expired on Mon, 10 Mar 2025 07:00:00 UTC"')
    assert "expired 5h ago" in root.title
    assert ("Secret", GW, "mycure-md-wildcard-tls") in root.subjects


def test_renewal_overdue_without_issuance() -> None:
    b = F.platform()
    F.renewal_not_started(b)
    report = F.run(b)
    root = only_root(report, "CERT-RENEWAL-OVERDUE", "Certificate", "stg-localfirsthealth-wildcard")
    assert root.severity == "warning"
    assert F.has(root.evidence, "(passed 6h ago)")
    assert ("Deployment", "cert-manager", "cert-manager") in root.depends_on


def test_controller_scaled_to_zero_explains_the_overdue_renewal() -> None:
    b = F.platform()
    F.scale_to_zero(b, "cert-manager", "cert-manager")
    F.renewal_not_started(b)
    report = F.run(b)
    root = only_root(report, "COMPONENT-CONTROLLER-UNAVAILABLE", "Deployment", "cert-manager")
    explains(report, root, "CERT-RENEWAL-OVERDUE", "stg-localfirsthealth-wildcard")


# --------------------------------------------------------------------------------------- robustness


def test_secrets_not_collected_means_no_missing_secret_claims() -> None:
    b = F.platform()
    F.cloudflare_token_missing(b)
    snap = snapshot_without(b, "Secret", NOW)
    found = [f for f in cmcheck.issuers(snap)]
    assert not found
    certs = list(cmcheck.certificates(snap))
    assert certs and not F.has(certs[0].evidence, "(spec.secretName) does not exist")
    assert F.has(certs[0].evidence, "Secrets were not collected: existence unknown")


def test_every_cert_manager_finding_fills_its_templates() -> None:
    scenarios = [F.cloudflare_token_missing, F.request_denied, F.issuer_registration_failed,
                 F.certificate_with_unknown_issuer, F.standalone_request_unknown_issuer, F.expired,
                 F.challenge_invalid_issuance_failed, F.renewal_not_started]
    seen = F.H.filled_templates("cert-manager", scenarios)
    assert len(seen) >= 11, seen


def test_many_certificates_at_scale() -> None:
    b = F.platform()
    base = F.cert(b)
    import copy
    extra = []
    for i in range(3000):
        c = copy.deepcopy(base)
        c["metadata"]["name"] = f"tenant-{i}-tls"
        c["metadata"]["namespace"] = "mycure-production"
        c["metadata"]["uid"] = uid("Certificate", "mycure-production", c["metadata"]["name"])
        c["spec"]["secretName"] = f"tenant-{i}-tls"
        extra.append(c)
        cr = copy.deepcopy(F.current_request(b, base))
        cr["metadata"].update(name=f"tenant-{i}-tls-1", namespace="mycure-production",
                              uid=uid("CertificateRequest", "mycure-production", f"tenant-{i}-tls-1"))
        cr["metadata"]["ownerReferences"][0]["uid"] = c["metadata"]["uid"]
        extra.append(cr)
    snap = snapshot_from_objects(b.objects + extra, NOW)
    for fn in (cmcheck.certificates, cmcheck.certificate_requests, cmcheck.acme_orders, cmcheck.acme_challenges,
               cmcheck.issuers):
        assert list(fn(snap)) is not None
