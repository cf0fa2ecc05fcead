"""cert-manager (v1.16): certificates, their issuance chain, and the issuers behind them.

Issuance runs Certificate → CertificateRequest → Order → Challenge (ownerReferences, falling back to the
`cert-manager.io/certificate-name` annotation that CertificateRequests and Orders carry). Findings are
linked along that chain: every finding depends on the objects below it, so the deepest broken hop (a
Challenge the DNS provider refuses, an issuer whose DNS-01 token Secret is missing, an issuer that is not
Ready) is the root cause, and the Certificate, and whatever serves its Secret, are its symptoms.

Only the *current* issuance is judged: a CertificateRequest for revision `status.revision + 1` (the one
being issued), its Orders and their Challenges. Old failed requests, orders and challenges left behind
by an issuance that later succeeded are history, not faults.

Every age and expiry is measured against `snap.now` (the capture time).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeGuard

from sre_expert.checks.registry import check, finding
from sre_expert.core.k8s import condition, ns_of
from sre_expert.core.model import Finding, Key, key_of
from sre_expert.core.snapshot import Snapshot
from sre_expert.core.timeutil import human, parse_time
from sre_expert.core.wording import quote
from sre_expert.domain.event_text import ago, cond_line, event_line, latest_by_reason, recent_events

Obj = dict[str, Any]

DEFAULT_RESOURCE_NAMESPACE = "cert-manager"
CERT_NAME_ANNOTATION = "cert-manager.io/certificate-name"
REVISION_ANNOTATION = "cert-manager.io/certificate-revision"
CM_GROUP = "cert-manager.io"

EXPIRY_CRITICAL = timedelta(days=2)
EXPIRY_WARNING = timedelta(days=7)
ISSUANCE_GRACE = timedelta(minutes=10)      # a fresh issuance is allowed to be in progress this long
ISSUANCE_STUCK = timedelta(hours=1)         # ACME issuance takes minutes; an hour is stuck
RENEWAL_GRACE = timedelta(minutes=15)       # the trigger controller acts at renewalTime, give it slack
CHALLENGE_STUCK = timedelta(minutes=15)     # DNS-01 propagation normally completes in a few minutes
ORDER_STUCK = timedelta(hours=1)
BACKOFF_INITIAL = timedelta(hours=1)
BACKOFF_MAX = timedelta(hours=32)
MAX_LISTED = 5

FINAL_BAD_STATES = ("invalid", "errored", "expired")
# Ready=False reasons under which the Secret holds no usable certificate at all.
NO_USABLE_CERT = ("DoesNotExist", "MissingData", "InvalidKeyPair", "InvalidCertificate", "Expired")
# Ready=False reasons about the Secret's metadata or ownership, not about issuance: no issuer involved.
NON_ISSUANCE_REASONS = ("IncorrectCertificate", "SecretTemplateMismatch", "SecretManagedMetadataMismatch",
                        "AdditionalOutputFormatsMismatch", "ManagedFieldsParseError", "SecretOwnerRefMismatch")
# Secret references in issuer specs that cert-manager creates itself (the ACME account key).
SELF_MANAGED_REFS = ("privateKeySecretRef",)


# ------------------------------------------------------------------------------------------- helpers


def _name(obj: Obj) -> str:
    return (obj.get("metadata") or {}).get("name") or ""


def _is(c: Obj | None, status: str) -> TypeGuard[Obj]:
    return c is not None and c.get("status") == status


def _secrets_visible(snap: Snapshot) -> bool:
    """Secrets were collected: only then can "the Secret does not exist" be claimed."""
    return snap.collected("Secret") and snap.count("Secret") > 0


def backoff(attempts: int | None) -> timedelta:
    """cert-manager's retry delay after failed issuances: 1h × 2^(n−1), between 1h and 32h."""
    if not attempts or attempts < 1:
        return BACKOFF_INITIAL
    if attempts > 6:
        return BACKOFF_MAX
    factor: int = 2 ** (attempts - 1)  # attempts >= 1 here: an int (typeshed types int ** int as Any)
    return min(BACKOFF_MAX, max(BACKOFF_INITIAL, BACKOFF_INITIAL * factor))


def _left(snap: Snapshot, not_after: datetime | None) -> str:
    if not_after is None:
        return ""
    d = not_after - snap.now
    return f"expired {human(-d)} ago" if d.total_seconds() <= 0 else f"expires in {human(d)}"


def secret_refs(node: Any, path: str, skip: tuple[str, ...] = SELF_MANAGED_REFS) -> Iterator[tuple[str, str, str | None]]:
    """(field path, Secret name, key) of every `…SecretRef`/`secretRef` selector under a spec node.

    Webhook solver `config` is opaque to cert-manager (the webhook reads it), so it is not walked.
    """
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("webhook", "config"):
                continue
            p = f"{path}.{k}"
            if k.endswith("ecretRef") and k not in skip and isinstance(v, dict) and v.get("name"):
                yield p, v["name"], v.get("key")
            elif isinstance(v, (dict, list)):
                yield from secret_refs(v, p, skip)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from secret_refs(v, f"{path}[{i}]", skip)


def issuer_key(ref: Obj | None, namespace: str) -> Key | None:
    """Key of the issuer an issuerRef names; None for external issuers (another API group)."""
    if not ref or not ref.get("name"):
        return None
    group = ref.get("group") or CM_GROUP
    if group != CM_GROUP:
        return None
    kind = ref.get("kind") or "Issuer"
    if kind == "ClusterIssuer":
        return ("ClusterIssuer", "", ref["name"])
    if kind == "Issuer":
        return ("Issuer", namespace, ref["name"])
    return None


def _controller_deployment(snap: Snapshot) -> Obj | None:
    d = snap.get("Deployment", DEFAULT_RESOURCE_NAMESPACE, "cert-manager")
    if d is not None:
        return d
    for dep in snap.list("Deployment"):
        labels = dep["metadata"].get("labels") or {}
        if labels.get("app.kubernetes.io/name") == "cert-manager" and labels.get("app.kubernetes.io/component") == "controller":
            return dep
    return None


def _resource_namespace(snap: Snapshot, controller: Obj | None) -> str:
    """Where ClusterIssuer Secrets live: --cluster-resource-namespace, else the controller's namespace."""
    if controller is None:
        return DEFAULT_RESOURCE_NAMESPACE
    spec = ((controller.get("spec") or {}).get("template") or {}).get("spec") or {}
    for c in spec.get("containers") or ():
        for arg in (c.get("args") or []) + (c.get("command") or []):
            if isinstance(arg, str) and arg.startswith("--cluster-resource-namespace="):
                v = arg.split("=", 1)[1].strip()
                if v and "$" not in v:
                    return v
    return ns_of(controller) or DEFAULT_RESOURCE_NAMESPACE


# ------------------------------------------------------------------------------------------- index


class CertManagerIndex:
    """The issuance chain of every Certificate, resolved once per check run."""

    def __init__(self, snap: Snapshot):
        self.snap = snap
        self.controller = _controller_deployment(snap)
        self.controller_key: Key | None = key_of(self.controller) if self.controller is not None else None
        self.resource_ns = _resource_namespace(snap, self.controller)
        self.issuers_visible = (snap.count("Issuer") + snap.count("ClusterIssuer")) > 0 and snap.collected(
            "ClusterIssuer") and snap.collected("Issuer")
        self.secrets_visible = _secrets_visible(snap)

        self.cert_of_cr: dict[Key, Obj] = {}
        self.crs_of_cert: dict[Key, list[Obj]] = defaultdict(list)
        for cr in snap.list("CertificateRequest"):
            cert = None
            for owner in snap.owners(cr):
                if owner.get("kind") == "Certificate":
                    cert = owner
                    break
            if cert is None:
                name = (cr["metadata"].get("annotations") or {}).get(CERT_NAME_ANNOTATION)
                if name:
                    cert = snap.get("Certificate", ns_of(cr), name)
            if cert is not None:
                self.cert_of_cr[key_of(cr)] = cert
                self.crs_of_cert[key_of(cert)].append(cr)

        self.cr_of_order: dict[Key, Obj] = {}
        self.orders_of_cr: dict[Key, list[Obj]] = defaultdict(list)
        for o in snap.list("Order"):
            req = next((x for x in snap.owners(o) if x.get("kind") == "CertificateRequest"), None)
            if req is not None:
                self.cr_of_order[key_of(o)] = req
                self.orders_of_cr[key_of(req)].append(o)

        self.order_of_challenge: dict[Key, Obj] = {}
        self.challenges_of_order: dict[Key, list[Obj]] = defaultdict(list)
        for ch in snap.list("Challenge"):
            order = next((x for x in snap.owners(ch) if x.get("kind") == "Order"), None)
            if order is None and "-" in _name(ch):
                # Challenge names are "<order name>-<hash>".
                order = snap.get("Order", ns_of(ch), _name(ch).rsplit("-", 1)[0])
            if order is not None:
                self.order_of_challenge[key_of(ch)] = order
                self.challenges_of_order[key_of(order)].append(ch)

        self.certs_of_issuer: dict[Key, list[Obj]] = defaultdict(list)
        for cert in snap.list("Certificate"):
            ik = issuer_key((cert.get("spec") or {}).get("issuerRef"), ns_of(cert))
            if ik:
                self.certs_of_issuer[ik].append(cert)

    # --- chain navigation ---------------------------------------------------------------------
    def current_crs(self, cert: Obj) -> list[Obj]:
        """The CertificateRequests of the issuance in progress (revision status.revision + 1)."""
        crs = self.crs_of_cert.get(key_of(cert), [])
        if not crs:
            return []
        nxt = str(((cert.get("status") or {}).get("revision") or 0) + 1)
        out = [cr for cr in crs if (cr["metadata"].get("annotations") or {}).get(REVISION_ANNOTATION) == nxt]
        if out:
            return out
        # No revision annotation (created by hand or an old cert-manager): not-yet-issued ones count.
        return [cr for cr in crs if REVISION_ANNOTATION not in (cr["metadata"].get("annotations") or {})
                and (condition(cr, "Ready") or {}).get("reason") != "Issued"]

    def cr_is_current(self, cr: Obj) -> bool:
        cert = self.cert_of_cr.get(key_of(cr))
        if cert is None:
            return not _is(condition(cr, "Ready"), "True")
        return any(c is cr for c in self.current_crs(cert))

    def order_is_current(self, order: Obj) -> bool:
        cr = self.cr_of_order.get(key_of(order))
        return True if cr is None else self.cr_is_current(cr)

    def orders_of(self, crs: list[Obj]) -> list[Obj]:
        return [o for cr in crs for o in self.orders_of_cr.get(key_of(cr), [])]

    def challenges_of(self, orders: list[Obj]) -> list[Obj]:
        return [ch for o in orders for ch in self.challenges_of_order.get(key_of(o), [])]

    def cert_of_order(self, order: Obj | None) -> Obj | None:
        if order is None:
            return None
        cr = self.cr_of_order.get(key_of(order))
        if cr is not None:
            return self.cert_of_cr.get(key_of(cr))
        name = (order["metadata"].get("annotations") or {}).get(CERT_NAME_ANNOTATION)
        return self.snap.get("Certificate", ns_of(order), name) if name else None

    def issuer(self, key: Key | None) -> Obj | None:
        return self.snap.get(*key) if key else None

    def secret_namespace(self, issuer_k: Key) -> str:
        return self.resource_ns if issuer_k[0] == "ClusterIssuer" else issuer_k[1]

    # --- impact -------------------------------------------------------------------------------
    def cert_impact(self, cert: Obj | None) -> str:
        """critical when the Certificate serves no valid certificate or is about to expire."""
        if cert is None:
            return "warning"
        st = cert.get("status") or {}
        ready = condition(cert, "Ready")
        not_after = parse_time(st.get("notAfter"))
        if ready is not None and ready.get("status") == "False":
            return "critical"
        if not_after is not None and not_after - self.snap.now < EXPIRY_CRITICAL:
            return "critical"
        return "warning"


# ------------------------------------------------------------------------------------------- evidence


def _ch_line(snap: Snapshot, ch: Obj) -> str:
    st = ch.get("status") or {}
    spec = ch.get("spec") or {}
    what = f"{spec.get('type') or '?'} for {'*.' if spec.get('wildcard') else ''}{spec.get('dnsName') or '?'}"
    bits = [f"state={st.get('state') or '(none)'}", f"processing={str(bool(st.get('processing'))).lower()}",
            f"presented={str(bool(st.get('presented'))).lower()}"]
    return _progress_line(snap, ch, f"Challenge {_name(ch)} ({what}): {', '.join(bits)}")


def _order_line(snap: Snapshot, o: Obj) -> str:
    st = o.get("status") or {}
    failed = [f", failureTime {st['failureTime']}"] if st.get("failureTime") else []
    return _progress_line(snap, o, f"Order {_name(o)}: state={st.get('state') or '(none)'}", failed)


def _progress_line(snap: Snapshot, obj: Obj, head: str, extras: list[str] | None = None) -> str:
    """`head`, then the status reason, any `extras` and the age: how an ACME Challenge or Order stands."""
    line = head
    reason = (obj.get("status") or {}).get("reason")
    if reason:
        line += f', reason "{quote(reason)}"'
    line += "".join(extras or ())
    created = obj["metadata"].get("creationTimestamp")
    if created:
        line += f", created {ago(snap, created)}"
    return line


def _cr_line(snap: Snapshot, cr: Obj) -> str:
    bits = []
    for t in ("Approved", "Denied", "InvalidRequest", "Ready"):
        c = condition(cr, t)
        if c is None:
            continue
        text = f"{t}={c.get('status')}" + (f" ({c['reason']})" if c.get("reason") else "")
        if c.get("message") and t != "Approved":
            text += f' "{quote(c["message"])}"'
        bits.append(text)
    ft = (cr.get("status") or {}).get("failureTime")
    if ft:
        bits.append(f"failureTime {ft}")
    return f"CertificateRequest {_name(cr)}: " + (", ".join(bits) if bits else "no status yet")


def _warning_events(snap: Snapshot, obj: Obj, limit: int = 2) -> list[str]:
    evs = recent_events(snap, obj, warning_only=True, within=timedelta(hours=24))
    return [event_line(snap, e) for e in latest_by_reason(evs, limit)]


def _issuer_problem_line(snap: Snapshot, idx: CertManagerIndex, ik: Key | None) -> str | None:
    if ik is None:
        return None
    iss = idx.issuer(ik)
    disp = f"{ik[0]} {ik[1] + '/' if ik[1] else ''}{ik[2]}"
    if iss is None:
        return f"{disp} does not exist" if idx.issuers_visible else None
    ready = condition(iss, "Ready")
    if ready is not None and ready.get("status") != "True":
        return f"{disp}: " + cond_line(snap, ready).split(": ", 1)[1]
    return None


# ------------------------------------------------------------------------------------------- Certificates


@check(
    codes=("CERT-EXPIRED", "CERT-NOT-READY", "CERT-ISSUER-NOT-FOUND", "CERT-ISSUANCE-FAILED", "CERT-ISSUANCE-STUCK",
        "CERT-EXPIRING-SOON", "CERT-RENEWAL-OVERDUE"),
    reads=("Certificate",),
    speaks_for=("Certificate", "Secret"),
    depends_on=("CertificateRequest", "Challenge", "ClusterIssuer", "Deployment", "Issuer", "Order"),
)
def certificates(snap: Snapshot) -> Iterator[Finding]:
    idx = CertManagerIndex(snap)
    for cert in snap.list("Certificate"):
        f = _certificate_finding(snap, idx, cert)
        if f is not None:
            yield f


@dataclass(slots=True)
class _CertFacts:
    """What one Certificate's spec, status and issuance chain say, read once for verdict, evidence and title."""

    cert: Obj
    ns: str
    name: str
    now: datetime
    st: Obj
    ready: Obj | None
    issuing: Obj | None
    not_after: datetime | None
    renewal: datetime | None
    left: timedelta | None
    secret_name: str
    secret_missing: bool
    ref: Obj
    ik: Key | None
    crs: list[Obj]
    orders: list[Obj]
    challenges: list[Obj]
    attempts: Any
    last_failure: datetime | None
    issuing_true: bool
    issuing_failed: bool
    issuing_since: datetime | None
    age: timedelta
    issuer_missing: bool
    in_grace: bool

    @property
    def kind_disp(self) -> str:
        return self.ref.get("kind") or "Issuer"

    @property
    def retry_due(self) -> datetime | None:
        """When the issuance back-off after the last failure ends (None without a failure time)."""
        return self.last_failure + backoff(self.attempts) if self.last_failure is not None else None


def _certificate_finding(snap: Snapshot, idx: CertManagerIndex, cert: Obj) -> Finding | None:
    if cert["metadata"].get("deletionTimestamp"):
        return None
    f = _cert_facts(snap, idx, cert)
    verdict = _cert_verdict(f)
    if verdict is None:
        return None
    code, severity = verdict
    return finding(
        code, cert, title=_cert_title(snap, f, code), evidence=_cert_evidence(snap, idx, f), severity=severity,
        subjects=[("Secret", f.ns, f.secret_name)] if f.secret_name else [], depends_on=_cert_deps(idx, f, code),
        params={"secret": f.secret_name or f.name, **_issuer_params(f.ref, f.ns)},
    )


def _cert_facts(snap: Snapshot, idx: CertManagerIndex, cert: Obj) -> _CertFacts:
    md, spec, st = cert["metadata"], cert.get("spec") or {}, cert.get("status") or {}
    ns, name = md.get("namespace") or "", md["name"]
    now = snap.now
    issuing = condition(cert, "Issuing")
    not_after = parse_time(st.get("notAfter"))
    secret_name = spec.get("secretName") or ""
    ref = spec.get("issuerRef") or {}
    ik = issuer_key(ref, ns)
    crs = idx.current_crs(cert)
    orders = idx.orders_of(crs)
    attempts = st.get("failedIssuanceAttempts")
    last_failure = parse_time(st.get("lastFailureTime"))
    issuing_true = _is(issuing, "True")
    issuing_since = parse_time((issuing or {}).get("lastTransitionTime"))
    cr_not_found = next((cr for cr in crs if (condition(cr, "Ready") or {}).get("reason") == "Pending"
                         and _referenced_not_found((condition(cr, "Ready") or {}).get("message"))), None)
    return _CertFacts(
        cert=cert, ns=ns, name=name, now=now, st=st, ready=condition(cert, "Ready"), issuing=issuing,
        not_after=not_after, renewal=parse_time(st.get("renewalTime")),
        left=(not_after - now) if not_after else None, secret_name=secret_name,
        secret_missing=bool(secret_name) and idx.secrets_visible and snap.get("Secret", ns, secret_name) is None,
        ref=ref, ik=ik, crs=crs, orders=orders, challenges=idx.challenges_of(orders), attempts=attempts,
        last_failure=last_failure, issuing_true=issuing_true,
        issuing_failed=bool(_is(issuing, "False") and (issuing or {}).get("reason") != "Issued" and (
            last_failure is not None or attempts)),  # only tested for truth
        issuing_since=issuing_since, age=snap.age(md.get("creationTimestamp")) or timedelta(0),
        issuer_missing=ik is not None and idx.issuer(ik) is None and (
            idx.issuers_visible or cr_not_found is not None),
        in_grace=issuing_true and not last_failure and issuing_since is not None
        and now - issuing_since < ISSUANCE_GRACE,
    )


def _cert_verdict(f: _CertFacts) -> tuple[str, str] | None:
    """The finding code and severity, the most specific problem first; None for a healthy Certificate."""
    code: str | None = None
    severity = "warning"
    ready, now = f.ready, f.now
    expired = (f.left is not None and f.left.total_seconds() <= 0) or (ready or {}).get("reason") == "Expired"
    if expired:
        code, severity = "CERT-EXPIRED", "critical"
    elif f.issuer_missing:
        code = "CERT-ISSUER-NOT-FOUND"
        severity = "critical" if (f.secret_missing or (ready or {}).get("reason") in NO_USABLE_CERT
                                  or (ready is None and not f.st)) else "warning"
    elif ready is not None and _is(ready, "False") and not f.in_grace:
        code = "CERT-NOT-READY"
        severity = "critical" if (ready.get("reason") in NO_USABLE_CERT or f.secret_missing) else "warning"
    elif ready is None and not f.st and f.age > ISSUANCE_GRACE:
        code, severity = "CERT-NOT-READY", "critical" if f.secret_missing else "warning"
    elif f.issuing_failed:
        code = "CERT-ISSUANCE-FAILED"
    elif f.issuing_true and f.issuing_since is not None and now - f.issuing_since > ISSUANCE_STUCK:
        code = "CERT-ISSUANCE-STUCK"
    elif f.left is not None and f.left < EXPIRY_WARNING:
        code = "CERT-EXPIRING-SOON"
    elif f.renewal is not None and now - f.renewal > RENEWAL_GRACE and _is(ready, "True") and not f.issuing_true:
        code = "CERT-RENEWAL-OVERDUE"
    if code is None:
        return None
    if f.left is not None and f.left < EXPIRY_CRITICAL:
        severity = "critical"
    return code, severity


def _cert_evidence(snap: Snapshot, idx: CertManagerIndex, f: _CertFacts) -> list[str]:
    """Conditions, Secret, back-off, validity, issuer and the current issuance chain, then Warning events."""
    ev: list[str] = []
    if f.ready is not None:
        ev.append(cond_line(snap, f.ready))
    elif not f.st:
        created = f.cert["metadata"].get("creationTimestamp")
        ev.append("no status: cert-manager has not processed this Certificate since it was created "
                  f"{ago(snap, created)}")
    if f.issuing is not None:
        ev.append(cond_line(snap, f.issuing))
    if f.secret_name:
        if f.secret_missing:
            ev.append(f"Secret {f.ns}/{f.secret_name} (spec.secretName) does not exist")
        elif not idx.secrets_visible:
            ev.append(f"spec.secretName: {f.secret_name} (Secrets were not collected: existence unknown)")
    if f.last_failure is not None or f.attempts:
        ev.append(_backoff_line(f))
    if f.not_after is not None:
        ev.append(f"status.notAfter: {f.st.get('notAfter')} ({_left(snap, f.not_after)})")
    if f.renewal is not None:
        due = f.now - f.renewal
        ev.append(f"status.renewalTime: {f.st.get('renewalTime')}"
                  + (f" (passed {human(due)} ago)" if due.total_seconds() > 0 else f" (in {human(-due)})"))
    ev.extend(_issuer_evidence(snap, idx, f))
    for cr in f.crs[:MAX_LISTED]:
        ev.append(_cr_line(snap, cr))
    for o in f.orders[:MAX_LISTED]:
        ev.append(_order_line(snap, o))
    bad_chals = [ch for ch in f.challenges if (ch.get("status") or {}).get("state") != "valid"]
    for ch in bad_chals[:MAX_LISTED]:
        ev.append(_ch_line(snap, ch))
    if (f.issuing_true and not f.crs and f.issuing_since is not None
            and f.now - f.issuing_since > ISSUANCE_GRACE):
        ev.append("no CertificateRequest exists for this issuance")
    ev.extend(_warning_events(snap, f.cert))
    return ev


def _backoff_line(f: _CertFacts) -> str:
    """Failed attempts and when cert-manager's back-off lets the next issuance start."""
    delay = backoff(f.attempts)
    line = (f"status.failedIssuanceAttempts: {f.attempts or 0}, "
            f"status.lastFailureTime: {f.st.get('lastFailureTime') or '(unset)'}")
    retry_due = f.retry_due
    if retry_due is not None:
        if retry_due > f.now:
            line += (f"; back-off {human(delay)}: next issuance attempt at "
                     f"{retry_due.isoformat().replace('+00:00', 'Z')} (in {human(retry_due - f.now)})")
        else:
            line += f"; back-off {human(delay)} ended {human(f.now - retry_due)} ago"
            if not f.issuing_true:
                line += ", yet no new issuance has started"
    return line


def _issuer_evidence(snap: Snapshot, idx: CertManagerIndex, f: _CertFacts) -> list[str]:
    """spec.issuerRef, and either that the issuer does not exist or what is wrong with it."""
    ref, kind_disp = f.ref, f.kind_disp
    ev = [f"spec.issuerRef: {kind_disp} {ref.get('name') or '?'}" + (
        f" (group {ref['group']})" if ref.get("group") and ref.get("group") != CM_GROUP else "")]
    if f.issuer_missing:
        ev.append(f"{kind_disp} {ref.get('name')} does not exist"
                  + (f" in namespace {f.ns}" if kind_disp == "Issuer" else "")
                  + _issuer_suggestion(snap, f.ik))
    else:
        line = _issuer_problem_line(snap, idx, f.ik)
        if line:
            ev.append(line)
    return ev


def _cert_title(snap: Snapshot, f: _CertFacts, code: str) -> str:
    disp = f"Certificate {f.ns}/{f.name}"
    reason = (f.ready or {}).get("reason")
    not_after, now = f.not_after, f.now
    if code == "CERT-EXPIRED":
        return f"{disp} has expired ({_left(snap, not_after)})" if not_after else f"{disp} has expired"
    if code == "CERT-ISSUER-NOT-FOUND":
        return f"{disp} names {f.kind_disp} {f.ref.get('name')}, which does not exist"
    if code == "CERT-NOT-READY":
        title = f"{disp} is not Ready" + (f" ({reason})" if reason else ": no status")
        return title + (f": Secret {f.secret_name} does not exist" if f.secret_missing else "")
    if code == "CERT-ISSUANCE-FAILED":
        n = f.attempts or 1
        return f"{disp}: issuance failed {n} time{'s' if n != 1 else ''}" + (
            f", {_left(snap, not_after)}" if not_after else "")
    if code == "CERT-ISSUANCE-STUCK" and f.issuing_since is not None:
        return f"{disp}: issuance in progress for {human(now - f.issuing_since)}" + (
            f", {_left(snap, not_after)}" if not_after else "")
    if code == "CERT-EXPIRING-SOON" and not_after is not None:
        return f"{disp} {_left(snap, not_after)} and has not been renewed"
    assert f.renewal is not None  # CERT-RENEWAL-OVERDUE is only given with a renewalTime
    return f"{disp}: renewal was due {human(now - f.renewal)} ago and has not started"


def _cert_deps(idx: CertManagerIndex, f: _CertFacts, code: str) -> list[Key]:
    """The issuance chain and the issuer; the controller too when nothing moves that should."""
    deps: list[Key] = [key_of(x) for x in (*f.crs, *f.orders, *f.challenges)]
    if f.ik is not None and (f.ready or {}).get("reason") not in NON_ISSUANCE_REASONS:
        deps.append(f.ik)
    # Nothing moving when it should (no status, renewal not started, back-off over) is the controller's job.
    retry_due = f.retry_due
    idle = code in ("CERT-RENEWAL-OVERDUE", "CERT-EXPIRING-SOON", "CERT-ISSUANCE-STUCK") or not f.st or (
        retry_due is not None and retry_due <= f.now and not f.issuing_true) or (
        code == "CERT-EXPIRED" and not f.issuing_true and f.last_failure is None)
    if idle and idx.controller_key is not None:
        deps.append(idx.controller_key)
    return deps


def _issuer_params(ref: Obj, namespace: str) -> dict[str, str]:
    kind = ref.get("kind") or "Issuer"
    return {"issuer": ref.get("name") or "", "issuer_kind": kind.lower(),
            "issuer_ns_flag": f" -n {namespace}" if kind == "Issuer" else ""}


def _referenced_not_found(message: str | None) -> bool:
    return bool(message and message.startswith("Referenced ") and "not found" in message)


def _issuer_suggestion(snap: Snapshot, ik: Key | None) -> str:
    """Name the existing issuers, so a typo in issuerRef is obvious."""
    if ik is None:
        return ""
    names = sorted(_name(i) for i in snap.list(ik[0], ik[1] or None) if ik[0] == "ClusterIssuer" or ns_of(i) == ik[1])
    if not names:
        return f" (no {ik[0]} exists)"
    return f" (existing: {', '.join(names[:8])}{'…' if len(names) > 8 else ''})"


# ------------------------------------------------------------------------------------------- CertificateRequests


@check(
    codes=("CERT-REQUEST-DENIED", "CERT-REQUEST-FAILED", "CERT-REQUEST-ISSUER-NOT-FOUND"),
    reads=("CertificateRequest",),
    speaks_for=("CertificateRequest",),
    depends_on=("Challenge", "ClusterIssuer", "Issuer", "Order"),
)
def certificate_requests(snap: Snapshot) -> Iterator[Finding]:
    idx = CertManagerIndex(snap)
    for cr in snap.list("CertificateRequest"):
        if cr["metadata"].get("deletionTimestamp") or not idx.cr_is_current(cr):
            continue
        ready = condition(cr, "Ready")
        denied = condition(cr, "Denied")
        invalid = condition(cr, "InvalidRequest")
        cert = idx.cert_of_cr.get(key_of(cr))
        if _is(denied, "True") or (ready or {}).get("reason") == "Denied":
            code = "CERT-REQUEST-DENIED"
            title = f"CertificateRequest {ns_of(cr)}/{_name(cr)} was denied"
        elif (ready or {}).get("reason") == "Failed" or _is(invalid, "True"):
            code = "CERT-REQUEST-FAILED"
            why = (invalid if _is(invalid, "True") else ready) or {}
            title = f"CertificateRequest {ns_of(cr)}/{_name(cr)} failed: {quote(why.get('message') or why.get('reason') or '')}"
        elif ((ready or {}).get("reason") == "Pending" and _referenced_not_found((ready or {}).get("message"))
              and cert is None):
            code = "CERT-REQUEST-ISSUER-NOT-FOUND"
            pending = (ready or {}).get("message") or ""
            title = f"CertificateRequest {ns_of(cr)}/{_name(cr)} is pending: {quote(pending)}"
        else:
            continue
        ik = issuer_key((cr.get("spec") or {}).get("issuerRef"), ns_of(cr))
        orders = idx.orders_of([cr])
        chals = idx.challenges_of(orders)
        ev = [cond_line(snap, c) for c in (denied, invalid) if _is(c, "True")]
        if ready is not None:
            ev.append(cond_line(snap, ready))
        ft = (cr.get("status") or {}).get("failureTime")
        if ft:
            ev.append(f"status.failureTime: {ft} ({ago(snap, ft)})")
        ref = (cr.get("spec") or {}).get("issuerRef") or {}
        ev.append(f"spec.issuerRef: {ref.get('kind') or 'Issuer'} {ref.get('name') or '?'}")
        line = _issuer_problem_line(snap, idx, ik)
        if line:
            ev.append(line)
        if cert is not None:
            ev.append(f"requested by Certificate {ns_of(cert)}/{_name(cert)} (revision "
                      f"{(cr['metadata'].get('annotations') or {}).get(REVISION_ANNOTATION, '?')})")
        for o in orders[:MAX_LISTED]:
            ev.append(_order_line(snap, o))
        for ch in [c for c in chals if (c.get("status") or {}).get("state") != "valid"][:MAX_LISTED]:
            ev.append(_ch_line(snap, ch))
        ev.extend(_warning_events(snap, cr))
        deps = [key_of(x) for x in (*orders, *chals)] + ([ik] if ik else [])
        severity = "critical" if code == "CERT-REQUEST-ISSUER-NOT-FOUND" else idx.cert_impact(cert)
        yield finding(code, cr, title=title, evidence=ev, severity=severity, depends_on=deps,
                      params={"certificate": _name(cert) if cert is not None else "", **_issuer_params(ref, ns_of(cr))})


# ------------------------------------------------------------------------------------------- ACME Orders, Challenges


@check(
    codes=("CERT-ORDER-FAILED", "CERT-ORDER-STUCK"),
    reads=("Order",),
    speaks_for=("Order",),
    depends_on=("Challenge", "ClusterIssuer", "Deployment"),
)
def acme_orders(snap: Snapshot) -> Iterator[Finding]:
    idx = CertManagerIndex(snap)
    for o in snap.list("Order"):
        st = o.get("status") or {}
        state = st.get("state") or ""
        if state == "valid" or o["metadata"].get("deletionTimestamp") or not idx.order_is_current(o):
            continue
        age = snap.age(o["metadata"].get("creationTimestamp")) or timedelta(0)
        if state in FINAL_BAD_STATES:
            code = "CERT-ORDER-FAILED"
            title = f"ACME Order {ns_of(o)}/{_name(o)} is {state}" + (f": {quote(st['reason'])}" if st.get("reason") else "")
        elif age > ORDER_STUCK:
            code = "CERT-ORDER-STUCK"
            title = f"ACME Order {ns_of(o)}/{_name(o)} is still {state or 'without a state'} after {human(age)}"
        else:
            continue
        cert = idx.cert_of_order(o)
        chals = idx.challenges_of_order.get(key_of(o), [])
        ik = issuer_key((o.get("spec") or {}).get("issuerRef"), ns_of(o))
        ev = [_order_line(snap, o)]
        if st.get("url"):
            ev.append(f"status.url: {st['url']}")
        for a in st.get("authorizations") or ():
            ev.append(f"authorization for {'*.' if a.get('wildcard') else ''}{a.get('identifier')}: initialState "
                      f"{a.get('initialState') or '?'}, "
                      f"challenge types {', '.join(c.get('type', '?') for c in a.get('challenges') or ())}")
        for ch in chals[:MAX_LISTED]:
            ev.append(_ch_line(snap, ch))
        if not chals and state in ("pending", ""):
            ev.append("no Challenge exists for this Order")
        line = _issuer_problem_line(snap, idx, ik)
        if line:
            ev.append(line)
        if cert is not None:
            ev.append(f"for Certificate {ns_of(cert)}/{_name(cert)}")
        ev.extend(_warning_events(snap, o))
        deps = [key_of(c) for c in chals] + ([ik] if ik else [])
        if code == "CERT-ORDER-STUCK" and idx.controller_key:
            deps.append(idx.controller_key)
        yield finding(code, o, title=title, evidence=ev, severity=idx.cert_impact(cert), depends_on=deps,
                      params={"certificate": _name(cert) if cert is not None else ""})


@check(
    codes=("CERT-CHALLENGE-FAILED", "CERT-CHALLENGE-STUCK"),
    reads=("Challenge",),
    speaks_for=("Challenge",),
    depends_on=("ClusterIssuer", "Secret"),
)
def acme_challenges(snap: Snapshot) -> Iterator[Finding]:
    """One finding per Order and failure: the wildcard and apex challenges of one order usually fail alike."""
    idx = CertManagerIndex(snap)
    groups: dict[tuple[Key, str, str], list[Obj]] = defaultdict(list)
    for ch in snap.list("Challenge"):
        st = ch.get("status") or {}
        state = st.get("state") or ""
        if state == "valid" or ch["metadata"].get("deletionTimestamp"):
            continue
        order = idx.order_of_challenge.get(key_of(ch))
        if order is not None and ((order.get("status") or {}).get("state") == "valid" or not idx.order_is_current(order)):
            continue
        age = snap.age(ch["metadata"].get("creationTimestamp")) or timedelta(0)
        if state in FINAL_BAD_STATES:
            code = "CERT-CHALLENGE-FAILED"
        elif age > CHALLENGE_STUCK:
            code = "CERT-CHALLENGE-STUCK"
        else:
            continue
        group = key_of(order) if order is not None else key_of(ch)
        groups[(group, code, st.get("reason") or "")].append(ch)
    for (_, code, reason), chals in groups.items():
        chals.sort(key=_name)  # a stable object whatever order the source listed them in
        yield _challenge_finding(snap, idx, code, reason, chals)


def _challenge_finding(snap: Snapshot, idx: CertManagerIndex, code: str, reason: str, chals: list[Obj]) -> Finding:
    ch = chals[0]
    st, spec = ch.get("status") or {}, ch.get("spec") or {}
    state = st.get("state") or "pending"
    age = snap.age(ch["metadata"].get("creationTimestamp")) or timedelta(0)
    domains = ", ".join(f"{'*.' if (c.get('spec') or {}).get('wildcard') else ''}{(c.get('spec') or {}).get('dnsName') or '?'}"
                        for c in chals)
    what = f"{spec.get('type') or 'ACME'} challenge{'s' if len(chals) > 1 else ''} for {domains}"
    if code == "CERT-CHALLENGE-FAILED":
        title = f"{what} {'are' if len(chals) > 1 else 'is'} {state}"
    else:
        title = f"{what} {'have' if len(chals) > 1 else 'has'} been {state} for {human(age)}"
    if reason:
        title += f": {quote(reason)}"
    order = idx.order_of_challenge.get(key_of(ch))
    cert = idx.cert_of_order(order)
    ik = issuer_key(spec.get("issuerRef"), ns_of(ch))
    secret_ns = idx.secret_namespace(ik or ("ClusterIssuer", "", ""))
    refs = list(secret_refs(((spec.get("solver") or {}).get("dns01")) or {}, "spec.solver.dns01"))
    ev = [_ch_line(snap, c) for c in chals[:MAX_LISTED]]
    for path, sname, skey in refs:
        exists = snap.get("Secret", secret_ns, sname) if idx.secrets_visible else None
        state_txt = ("" if not idx.secrets_visible else
                     " (outside the swept namespaces, not checked)" if not snap.sees(secret_ns) else
                     " (does not exist)" if exists is None else
                     f' (no key "{skey}")' if skey and skey not in (exists.get("data") or {}) else " (present)")
        ev.append(f"{path}: Secret {secret_ns}/{sname}" + (f' key "{skey}"' if skey else "") + state_txt)
    hint = _provider_hint(reason)
    if hint:
        ev.append(hint)
    ev.extend(_warning_events(snap, ch, limit=3))
    line = _issuer_problem_line(snap, idx, ik)
    if line:
        ev.append(line)
    if order is not None:
        ev.append(_order_line(snap, order))
    if cert is not None:
        ev.append(f"for Certificate {ns_of(cert)}/{_name(cert)} ({_cert_state(snap, cert)})")
    deps = [("Secret", secret_ns, s) for _, s, _ in refs] + ([ik] if ik else [])
    return finding(code, ch, title=title, evidence=ev, severity=idx.cert_impact(cert), depends_on=deps,
                   subjects=[key_of(c) for c in chals[1:]],
                   params={"certificate": _name(cert) if cert is not None else "", "dns_name": spec.get("dnsName") or "",
                           **_issuer_params(spec.get("issuerRef") or {}, ns_of(ch))})


def _cert_state(snap: Snapshot, cert: Obj) -> str:
    ready = condition(cert, "Ready")
    bits = []
    if ready is not None:
        bits.append(f"Ready={ready.get('status')}"
                    + (f" {ready['reason']}" if ready.get("reason") and ready.get("status") != "True" else ""))
    not_after = parse_time((cert.get("status") or {}).get("notAfter"))
    if not_after is not None and not (ready is not None and ready.get("reason") == "DoesNotExist"):
        bits.append(_left(snap, not_after))
    return ", ".join(bits) or "no status"


def _provider_hint(reason: str) -> str | None:
    r = reason.lower()
    if "9109" in r or "invalid access token" in r or "10000" in r and "authentication" in r:
        return "Cloudflare rejected the API token: it is invalid, expired or lacks Zone:DNS:Edit on the zone"
    if "waiting for dns-01 challenge propagation" in r:
        return "the TXT record is not visible on the authoritative nameservers yet (or was never written)"
    if "waiting for http-01 challenge propagation" in r:
        return ("the solver path /.well-known/acme-challenge/ is not reachable through the Gateway; HTTP-01 is "
                "unreliable behind Envoy Gateway v1.2.0, the DNS-01 issuer letsencrypt-mycure-cloudflare-prod avoids it")
    return None


# ------------------------------------------------------------------------------------------- Issuers


def _issuers(snap: Snapshot) -> list[Obj]:
    return [*snap.list("ClusterIssuer"), *snap.list("Issuer")]


@check(
    codes=("CERT-ISSUER-NOT-READY", "CERT-ISSUER-SECRET-MISSING"),
    reads=("ClusterIssuer", "Issuer"),
    speaks_for=("ClusterIssuer", "Issuer", "Secret"),
    depends_on=("Secret",),
    any_read=True,
)
def issuers(snap: Snapshot) -> Iterator[Finding]:
    idx = CertManagerIndex(snap)
    for iss in _issuers(snap):
        ik = key_of(iss)
        if ik[0] == "ClusterIssuer":
            ik = ("ClusterIssuer", "", ik[2])
        spec = iss.get("spec") or {}
        secret_ns = idx.secret_namespace(ik)
        users = idx.certs_of_issuer.get(ik, [])
        disp = f"{ik[0]} {ik[1] + '/' if ik[1] else ''}{ik[2]}"
        params = {"issuer_kind": ik[0].lower(), "issuer_ns_flag": f" -n {ik[1]}" if ik[1] else "",
                  "secret_namespace": secret_ns}

        # Secrets the issuer itself needs (CA key pair, EAB key, Vault auth): shown when it is not Ready.
        own_refs = [(p, n, k) for p, n, k in secret_refs({k: v for k, v in spec.items()}, "spec")
                    if ".solvers[" not in p]
        if (spec.get("ca") or {}).get("secretName"):
            own_refs.append(("spec.ca.secretName", spec["ca"]["secretName"], None))

        ready = condition(iss, "Ready")
        if ready is not None and ready.get("status") == "False":
            ev = [cond_line(snap, ready)]
            acme = spec.get("acme") or {}
            if acme.get("server"):
                ev.append(f"spec.acme.server: {acme['server']}" + (f", email {acme['email']}" if acme.get("email") else ""))
            for p, n, k in own_refs:
                ev.append(_secret_state_line(snap, idx, p, secret_ns, n, k))
            ev.extend(_warning_events(snap, iss))
            ev.append(_usage_line(snap, users))
            sev = "critical" if users else "warning"
            yield finding(
                "CERT-ISSUER-NOT-READY", iss,
                title=f"{disp} is not Ready ({ready.get('reason') or 'no reason'}): {quote(ready.get('message') or '')}",
                evidence=ev, severity=sev, params=params,
                depends_on=[("Secret", secret_ns, n) for _, n, _ in own_refs],
            )

        # DNS-01 provider credentials: read only when a challenge is presented, so the issuer stays Ready.
        if not idx.secrets_visible:
            continue
        solvers = ((spec.get("acme") or {}).get("solvers")) or []
        missing: list[tuple[str, str, str | None, str]] = []
        for i, solver in enumerate(solvers):
            dns01 = (solver or {}).get("dns01")
            if not dns01:
                continue
            for p, n, k in secret_refs(dns01, f"spec.acme.solvers[{i}].dns01"):
                if snap.outside(secret_ns, f"{disp} DNS-01 credentials Secret {secret_ns}/{n}"):
                    continue
                sec = snap.get("Secret", secret_ns, n)
                if sec is None:
                    missing.append((p, n, k, "does not exist"))
                elif k and k not in (sec.get("data") or {}) and k not in (sec.get("stringData") or {}):
                    keys = sorted((sec.get("data") or {}).keys())
                    missing.append((p, n, k, f'has no key "{k}" (keys: {", ".join(keys) or "none"})'))
        if not missing:
            continue
        ev = []
        for p, n, k, what in missing:
            ev.append(f"{p}: {{name: {n}" + (f", key: {k}" if k else "") + "}")
            ev.append(f"Secret {secret_ns}/{n} {what}")
            ev.extend(_external_secret_lines(snap, secret_ns, n))
        blocked = [ch for ch in snap.list("Challenge")
                   if issuer_key((ch.get("spec") or {}).get("issuerRef"), ns_of(ch)) == ik
                   and (ch.get("status") or {}).get("state") not in ("valid",)]
        if blocked:
            ev.append(f"{len(blocked)} challenge(s) of this issuer are not valid: "
                      + "; ".join(f"{ns_of(c)}/{_name(c)} {(c.get('status') or {}).get('state') or 'pending'}"
                                  + (f' "{quote((c.get("status") or {}).get("reason") or "")}"'
                                     if (c.get("status") or {}).get("reason") else "")
                                  for c in blocked[:3]))
        ev.append(_usage_line(snap, users))
        urgent = any(idx.cert_impact(c) == "critical" or _renewal_near(snap, c) for c in users)
        sev = "critical" if (blocked or urgent) and users else "warning"
        first = missing[0]
        secret_keys = [("Secret", secret_ns, n) for _, n, _, _ in missing]
        yield finding(
            "CERT-ISSUER-SECRET-MISSING", iss,
            title=f"{disp}: DNS-01 credentials Secret {secret_ns}/{first[1]} {first[3]}",
            evidence=ev, severity=sev, subjects=secret_keys, depends_on=secret_keys,
            params={**params, "secret": first[1], "secret_key": first[2] or "api-token"},
        )


def _renewal_near(snap: Snapshot, cert: Obj) -> bool:
    st = cert.get("status") or {}
    not_after = parse_time(st.get("notAfter"))
    renewal = parse_time(st.get("renewalTime"))
    return (renewal is not None and renewal <= snap.now) or (not_after is not None and not_after - snap.now < EXPIRY_WARNING)


def _secret_state_line(snap: Snapshot, idx: CertManagerIndex, path: str, ns: str, name: str, key: str | None) -> str:
    base = f"{path}: Secret {ns}/{name}" + (f' key "{key}"' if key else "")
    if not idx.secrets_visible:
        return base
    if not snap.sees(ns):
        return base + " (outside the swept namespaces, not checked)"
    sec = snap.get("Secret", ns, name)
    if sec is None:
        return base + " (does not exist)"
    if key and key not in (sec.get("data") or {}):
        return base + f' (Secret exists without key "{key}")'
    return base + " (present)"


def _usage_line(snap: Snapshot, users: list[Obj]) -> str:
    if not users:
        return "no Certificate uses this issuer"
    names = ", ".join(f"{ns_of(c)}/{_name(c)}" for c in users[:MAX_LISTED])
    return f"{len(users)} Certificate(s) use this issuer: {names}{'…' if len(users) > MAX_LISTED else ''}"


def _external_secret_lines(snap: Snapshot, ns: str, secret: str) -> list[str]:
    """The ExternalSecret that should write this Secret, if any, and its sync state."""
    out = []
    for es in snap.list("ExternalSecret", ns):
        target = ((es.get("spec") or {}).get("target") or {}).get("name") or _name(es)
        if target != secret:
            continue
        r = condition(es, "Ready")
        out.append(f"ExternalSecret {ns}/{_name(es)} should create it: "
                    + (cond_line(snap, r).split(": ", 1)[1] if r else "no Ready condition"))
    if not out and snap.count("ExternalSecret"):
        out.append(f"no ExternalSecret in {ns} writes this Secret (it was created by hand)")
    return out
