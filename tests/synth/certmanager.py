"""cert-manager v1.16 objects: ClusterIssuers, Certificates and the CertificateRequest/Order/Challenge chain.

A healthy issuance leaves a Ready Certificate, its TLS Secret, the last CertificateRequest
(`<cert>-<revision>`) and a `valid` Order; Challenges are deleted once the Order is valid, so a
Challenge only exists while issuance is in flight or stuck.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from synth.config import fake_pem, tls_secret
from synth.meta import b64, condition, hex_id, new_object, number, owner_reference, ts, uid

CM_API = "cert-manager.io/v1"
ACME_API = "acme.cert-manager.io/v1"
LE_PROD = "https://acme-v02.api.letsencrypt.org/directory"
LE_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory"
DURATION = timedelta(days=90)


def cluster_issuer(
    name: str,
    created: datetime,
    *,
    server: str = LE_PROD,
    email: str = "devops@monobaselabs.com",
    solver: Mapping[str, Any],
    ready: bool = True,
    labels: Mapping[str, str] | None = None,
) -> dict:
    obj = new_object("ClusterIssuer", name, None, created, api_version=CM_API, labels=labels)
    obj["spec"] = {
        "acme": {
            "email": email,
            "privateKeySecretRef": {"name": f"{name}-account-key"},
            "server": server,
            "solvers": [dict(solver)],
        }
    }
    acct = number("acct", name, lo=100_000_000, hi=2_000_000_000)
    host = server.split("/")[2]
    when = created + timedelta(seconds=4)
    obj["status"] = {
        "acme": {
            "lastPrivateKeyHash": b64(bytes.fromhex(hex_id("acctkey", name, n=64))),
            "lastRegisteredEmail": email,
            "uri": f"https://{host}/acme/acct/{acct}",
        },
        "conditions": [
            condition(
                "Ready",
                "True",
                "ACMEAccountRegistered",
                "The ACME account was registered with the ACME server",
                when,
                observed_generation=1,
            )
            if ready
            else condition(
                "Ready",
                "False",
                "ErrRegisterACMEAccount",
                "Failed to register ACME account: 403 urn:ietf:params:acme:error:unauthorized",
                when,
                observed_generation=1,
            )
        ],
    }
    return obj


def http01_gateway_solver(gateway_namespace: str, gateway_name: str, section: str = "http") -> dict[str, Any]:
    return {
        "http01": {
            "gatewayHTTPRoute": {
                "parentRefs": [
                    {
                        "group": "gateway.networking.k8s.io",
                        "kind": "Gateway",
                        "name": gateway_name,
                        "namespace": gateway_namespace,
                        "sectionName": section,
                    }
                ]
            }
        }
    }


def cloudflare_dns01_solver(
    secret: str = "cloudflare-api-token", key: str = "api-token", zones: Sequence[str] = ()
) -> dict[str, Any]:
    solver: dict[str, Any] = {"dns01": {"cloudflare": {"apiTokenSecretRef": {"key": key, "name": secret}}}}
    if zones:
        solver["selector"] = {"dnsZones": list(zones)}
    return solver


def certificate(
    namespace: str,
    name: str,
    secret_name: str,
    dns_names: Sequence[str],
    issuer: str,
    created: datetime,
    now: datetime,
    *,
    issued: datetime | None = None,
    revision: int = 3,
    issuer_kind: str = "ClusterIssuer",
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A Ready Certificate last issued at `issued` (default: 25 days before now), renewing at 2/3 of 90 days."""
    obj = new_object("Certificate", name, namespace, created, api_version=CM_API, labels=labels)
    obj["spec"] = {
        "dnsNames": list(dns_names),
        "issuerRef": {"group": "cert-manager.io", "kind": issuer_kind, "name": issuer},
        "privateKey": {"algorithm": "ECDSA", "rotationPolicy": "Always", "size": 256},
        "secretName": secret_name,
    }
    issued = issued or (now - timedelta(days=25, hours=number("iss", namespace, name, hi=20)))
    not_before = issued - timedelta(seconds=issued.second % 60 + 3600)
    not_after = not_before + DURATION
    ready_at = issued + timedelta(seconds=number("cready", name, lo=30, hi=150))
    obj["status"] = {
        "conditions": [
            condition(
                "Ready",
                "True",
                "Ready",
                "Certificate is up to date and has not expired",
                ready_at,
                observed_generation=1,
            )
        ],
        "notAfter": ts(not_after),
        "notBefore": ts(not_before),
        "renewalTime": ts(not_after - DURATION / 3),
        "revision": revision,
    }
    return obj


def certificate_secret(cert: dict[str, Any]) -> dict[str, Any]:
    """The kubernetes.io/tls Secret a Certificate issues into, with cert-manager's annotations."""
    md, spec = cert["metadata"], cert["spec"]
    issued = datetime.fromisoformat(cert["status"]["conditions"][0]["lastTransitionTime"])
    return tls_secret(
        md["namespace"],
        spec["secretName"],
        issued - timedelta(seconds=2),
        annotations={
            "cert-manager.io/alt-names": ",".join(spec.get("dnsNames", [])),
            "cert-manager.io/certificate-name": md["name"],
            "cert-manager.io/common-name": spec.get("commonName", spec.get("dnsNames", [""])[0]),
            "cert-manager.io/ip-sans": "",
            "cert-manager.io/issuer-group": spec["issuerRef"].get("group", "cert-manager.io"),
            "cert-manager.io/issuer-kind": spec["issuerRef"].get("kind", "Issuer"),
            "cert-manager.io/issuer-name": spec["issuerRef"]["name"],
            "cert-manager.io/uri-sans": "",
        },
        labels={"controller.cert-manager.io/fao": "true"},
    )


def _csr(cert: dict[str, Any]) -> str:
    return b64(
        fake_pem("CERTIFICATE REQUEST", cert["metadata"]["uid"], cert["status"].get("revision", 1), lines=4)
    )


def certificate_request(
    cert: dict[str, Any], revision: int, created: datetime, *, ready: bool = True, failure: str | None = None
) -> dict[str, Any]:
    """`<cert>-<revision>` request; Approved and Issued when healthy, Ready=False/Failed with `failure`."""
    md = cert["metadata"]
    obj = new_object(
        "CertificateRequest",
        f"{md['name']}-{revision}",
        md["namespace"],
        created,
        api_version=CM_API,
        owners=[owner_reference(cert)],
        annotations={
            "cert-manager.io/certificate-name": md["name"],
            "cert-manager.io/certificate-revision": str(revision),
            "cert-manager.io/private-key-secret-name": f"{md['name']}-{hex_id('pk', md['uid'], revision, n=5)}",
        },
    )
    obj["spec"] = {
        "groups": ["system:serviceaccounts", "system:serviceaccounts:cert-manager", "system:authenticated"],
        "issuerRef": dict(cert["spec"]["issuerRef"]),
        "request": _csr(cert),
        "uid": uid("ServiceAccount", "cert-manager", "cert-manager"),
        "usages": ["digital signature", "key encipherment"],
        "username": "system:serviceaccount:cert-manager:cert-manager",
    }
    approved = condition(
        "Approved",
        "True",
        "cert-manager.io",
        "Certificate request has been approved by cert-manager.io",
        created + timedelta(seconds=1),
    )
    if ready:
        done = created + timedelta(seconds=number("crdone", md["uid"], revision, lo=20, hi=120))
        obj["status"] = {
            "certificate": b64(fake_pem("CERTIFICATE", md["uid"], revision, lines=20)),
            "conditions": [
                approved,
                condition("Ready", "True", "Issued", "Certificate fetched from issuer successfully", done),
            ],
        }
    elif failure:
        obj["status"] = {
            "conditions": [approved, condition("Ready", "False", "Failed", failure, created)],
            "failureTime": ts(created + timedelta(minutes=2)),
        }
    else:
        obj["status"] = {
            "conditions": [
                approved,
                condition(
                    "Ready",
                    "False",
                    "Pending",
                    f'Waiting on certificate issuance from order {md["namespace"]}/{order_name(obj)}: "pending"',
                    created + timedelta(seconds=2),
                ),
            ]
        }
    return obj


def order_name(cr: dict[str, Any]) -> str:
    return f"{cr['metadata']['name']}-{number('order', cr['metadata']['uid'], hi=4_294_967_295)}"


def order(
    cr: dict[str, Any],
    dns_names: Sequence[str],
    created: datetime,
    *,
    state: str = "valid",
    reason: str | None = None,
) -> dict[str, Any]:
    md = cr["metadata"]
    obj = new_object(
        "Order",
        order_name(cr),
        md["namespace"],
        created,
        api_version=ACME_API,
        owners=[owner_reference(cr)],
        annotations={
            "cert-manager.io/certificate-name": md["annotations"]["cert-manager.io/certificate-name"],
            "cert-manager.io/certificate-revision": md["annotations"]["cert-manager.io/certificate-revision"],
            "cert-manager.io/private-key-secret-name": md["annotations"][
                "cert-manager.io/private-key-secret-name"
            ],
        },
    )
    obj["spec"] = {
        "dnsNames": list(dns_names),
        "issuerRef": dict(cr["spec"]["issuerRef"]),
        "request": cr["spec"]["request"],
    }
    acct = number("acct", cr["spec"]["issuerRef"]["name"], lo=100_000_000, hi=2_000_000_000)
    oid = number("oid", md["uid"], lo=10**10, hi=10**11)
    base = "https://acme-v02.api.letsencrypt.org/acme"
    auths = []
    for dns in dns_names:
        wildcard = dns.startswith("*.")
        ident = dns[2:] if wildcard else dns
        authz = number("authz", md["uid"], dns, lo=10**11, hi=10**12)
        auth: dict[str, Any] = {
            "challenges": [
                {
                    "token": hex_id("tok", md["uid"], dns, n=43),
                    "type": "dns-01",
                    "url": f"{base}/chall/{acct}/{authz}/{hex_id('ch', dns, n=6)}",
                }
            ],
            "identifier": ident,
            "initialState": "pending",
            "url": f"{base}/authz/{acct}/{authz}",
        }
        if state == "valid":
            auth["initialState"] = "valid" if number("iv", dns, hi=2) else "pending"
        if wildcard:
            auth["wildcard"] = True
        auths.append(auth)
    status: dict[str, Any] = {
        "authorizations": auths,
        "finalizeURL": f"{base}/finalize/{acct}/{oid}",
        "state": state,
        "url": f"{base}/order/{acct}/{oid}",
    }
    if state == "valid":
        status["certificate"] = cr["status"].get("certificate") or b64(
            fake_pem("CERTIFICATE", md["uid"], lines=20)
        )
    if reason:
        status["reason"] = reason
    if state in ("invalid", "errored", "expired"):
        status["failureTime"] = ts(created + timedelta(minutes=3))
    obj["status"] = status
    return obj


def challenge(
    order_obj: dict[str, Any],
    dns_name: str,
    solver: Mapping[str, Any],
    created: datetime,
    *,
    state: str = "pending",
    presented: bool = True,
    processing: bool = True,
    reason: str | None = None,
) -> dict[str, Any]:
    md = order_obj["metadata"]
    auth = next(
        a for a in order_obj["status"]["authorizations"] if a["identifier"] == dns_name.removeprefix("*.")
    )
    name = f"{md['name']}-{number('chal', md['uid'], dns_name, hi=4_294_967_295)}"
    obj = new_object(
        "Challenge",
        name,
        md["namespace"],
        created,
        api_version=ACME_API,
        owners=[owner_reference(order_obj)],
        finalizers=["acme.cert-manager.io/finalizer"],
    )
    ch = auth["challenges"][0]
    obj["spec"] = {
        "authorizationURL": auth["url"],
        "dnsName": dns_name.removeprefix("*."),
        "issuerRef": dict(order_obj["spec"]["issuerRef"]),
        "key": b64(bytes.fromhex(hex_id("key", name, n=64)))[:43],
        "solver": dict(solver),
        "token": ch["token"],
        "type": "DNS-01" if "dns01" in solver else "HTTP-01",
        "url": ch["url"],
    }
    if dns_name.startswith("*."):
        obj["spec"]["wildcard"] = True
    status: dict[str, Any] = {"presented": presented, "processing": processing, "state": state}
    if reason:
        status["reason"] = reason
    obj["status"] = status
    return obj
