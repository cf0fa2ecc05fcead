"""HTTPRoutes against the Gateway listeners they attach to, and route hosts against certificates.

Listeners come from Gateway manifests; a Gateway the repository only describes in
values/infrastructure/main.yaml (`gateway.name/namespace/listeners`) is read from there.
Hostname matching follows the Gateway API: a listener `*.example.com` matches any host ending in
`.example.com` (any depth); a certificate `*.example.com` covers exactly one more label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sre_expert.lint.codes import lint_finding
from sre_expert.lint.context import LintContext, obj_ref
from sre_expert.lint.repo import Doc, RepoObject


@dataclass(slots=True)
class Listener:
    name: str
    hostname: str | None
    port: int | None
    protocol: str
    cert_refs: tuple[str, ...] = ()  # Secrets named by tls.certificateRefs


@dataclass(slots=True)
class GatewayDef:
    namespace: str
    name: str
    listeners: list[Listener]
    file: str
    line: int
    shim: bool = False  # annotated for cert-manager's gateway-shim: it issues a certificate per listener host


def nearest(defs: list[GatewayDef], file: str) -> GatewayDef:
    """The definition sharing the longest directory prefix with `file`: a repository of separate examples
    (or of one app per directory) defines the same Gateway name several times, each for its neighbours."""
    parts = file.split("/")[:-1]

    def shared(d: GatewayDef) -> int:
        n = 0
        for a, b in zip(parts, d.file.split("/")[:-1]):
            if a != b:
                break
            n += 1
        return n

    return max(defs, key=shared)


def listener_matches(listener_host: str | None, host: str) -> bool:
    if not listener_host:
        return True
    if listener_host.startswith("*."):
        return host.endswith(listener_host[1:]) and len(host) > len(listener_host) - 1
    return host == listener_host


def _specificity(listener_host: str | None) -> tuple[int, int]:
    """Exact hosts beat wildcards; longer suffixes beat shorter ones (how Envoy picks a filter chain)."""
    if not listener_host:
        return (0, 0)
    return (2, len(listener_host)) if not listener_host.startswith("*.") else (1, len(listener_host))


def cert_covers(dns_name: str, host: str) -> bool:
    if dns_name.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == dns_name[2:]
    return dns_name == host


def gateways(ctx: LintContext) -> dict[tuple[str, str], list[GatewayDef]]:
    out: dict[tuple[str, str], list[GatewayDef]] = {}
    for ro in ctx.repo.objects("Gateway"):
        with ctx.guard("gateway listeners", ro):
            if not ro.obj.get("apiVersion", "").startswith("gateway.networking.k8s.io/"):
                continue
            ls = [_listener(x) for x in (ro.obj.get("spec") or {}).get("listeners") or [] if isinstance(x, dict)]
            ann = ro.metadata.get("annotations") or {}
            shim = any(k in ann for k in ("cert-manager.io/issuer", "cert-manager.io/cluster-issuer"))
            for ns in ro.namespaces or ("",):
                out.setdefault((ns, ro.name), []).append(
                    GatewayDef(ns, ro.name, ls, ro.file, ro.line("spec", "listeners"), shim))
    vals = ctx.repo.infra_values
    gw = vals.get("gateway") if vals else None
    if vals and isinstance(gw, dict) and gw.get("name") and isinstance(gw.get("listeners"), list):  # gw: vals set
        key = (str(gw.get("namespace") or "default"), str(gw["name"]))
        if key not in out:
            ls = [_listener(x) for x in gw["listeners"] if isinstance(x, dict)]
            out[key] = [GatewayDef(key[0], key[1], ls, vals.file, vals.line("gateway", "listeners"))]
    return out


def _listener(x: dict[str, Any]) -> Listener:
    port = x.get("port")
    given = x.get("tls")
    tls: dict[str, Any] = given if isinstance(given, dict) else {}
    refs = tuple(str(r.get("name")) for r in tls.get("certificateRefs") or []
                 if isinstance(r, dict) and (r.get("kind") or "Secret") == "Secret" and r.get("name"))
    if x.get("tlsSecret"):  # values/infrastructure/main.yaml spells it this way
        refs += (str(x["tlsSecret"]),)
    return Listener(str(x.get("name") or ""), x.get("hostname"), int(port) if isinstance(port, int) else None,
                    str(x.get("protocol") or "HTTP").upper(), refs)


def certificate_names(ctx: LintContext) -> list[tuple[str, str]]:
    """(dnsName, where it is declared) from Certificates and values tls.certManager."""
    names: list[tuple[str, str]] = []
    for ro in ctx.repo.objects("Certificate"):
        with ctx.guard("certificates", ro):
            if not ro.obj.get("apiVersion", "").startswith("cert-manager.io/"):
                continue
            spec = ro.obj.get("spec") or {}
            for n in (spec.get("dnsNames") or []) + ([spec["commonName"]] if spec.get("commonName") else []):
                names.append((str(n), f"Certificate {ro.namespace}/{ro.name}"))
    vals = ctx.repo.infra_values
    if vals is not None:
        names += _values_cert_names(vals)
    return names


def _values_cert_names(vals: Doc) -> list[tuple[str, str]]:
    cm = vals.get("tls", "certManager")
    if not isinstance(cm, dict) or cm.get("enabled") is False:
        return []
    domain = vals.get("global", "domain") or cm.get("domain")
    out = []
    for w in cm.get("wildcards") or []:
        if isinstance(w, dict) and w.get("domain"):
            out.append((f"*.{w['domain']}", "values tls.certManager.wildcards"))
    for s in cm.get("subdomains") or []:
        if domain:
            out.append((f"{s}.{domain}", "values tls.certManager.subdomains"))
    for d in cm.get("additionalDomains") or []:
        out.append((str(d), "values tls.certManager.additionalDomains"))
    return out


def check_routes(ctx: LintContext) -> None:
    gws = gateways(ctx)
    certs = certificate_names(ctx)
    routes = ctx.repo.objects("HTTPRoute")
    gw_known = not routes or ctx.trusts_absence("HTTPRoute parent Gateways", "Gateway")
    certs_known = not routes or ctx.trusts_absence("HTTPRoute certificate coverage", "Certificate")
    issued = issued_secrets(ctx)
    not_ours: dict[str, set[str]] = {}  # host -> Secrets no Certificate of the repository writes
    for ro in routes:
        with ctx.guard("HTTPRoutes", ro):
            spec = ro.obj.get("spec") or {}
            hosts = [str(h) for h in spec.get("hostnames") or []]
            tls_hosts: set[str] = set()
            for pi, ref in enumerate(spec.get("parentRefs") or []):
                if not isinstance(ref, dict) or (ref.get("kind") or "Gateway") != "Gateway":
                    continue
                name = str(ref.get("name") or "")
                # the parent's namespace defaults to the route's, wherever kustomize/Flux/Argo CD put it
                keys = [(str(ref["namespace"]), name)] if ref.get("namespace") else \
                    [(ns, name) for ns in ro.namespaces or ("",)]
                gw = next((nearest(gws[k], ro.file) for k in keys if k in gws), None)
                if gw is None:
                    if gw_known:
                        named = " or ".join("/".join(k) if k[0] else k[1] for k in keys)
                        ctx.add(lint_finding(
                            "LINT-ROUTE-PARENT-MISSING", obj_ref(ro), ro.file, ro.line("spec", "parentRefs", pi, "name"),
                            f"{ro.display()} attaches to Gateway {named}, which the repository does not define",
                            evidence=["Gateways in the repository: " + (", ".join(f"{n}/{m}" for n, m in gws) or "none")]))
                    continue
                tls_hosts |= _check_parent(ctx, ro, pi, ref, gw, hosts, issued, not_ours)
            if certs_known:
                _check_certs(ctx, ro, hosts, tls_hosts, certs)
    if not_ours:
        hosts_ = sorted(not_ours)
        secrets = sorted(set().union(*not_ours.values()))
        ctx.skip(f"certificate coverage: {len(hosts_)} HTTPS host{'s' if len(hosts_) > 1 else ''} ("
                 f"{', '.join(hosts_[:3])}{' …' if len(hosts_) > 3 else ''}) served with Secrets no cert-manager "
                 f"Certificate of the repository writes ({', '.join(secrets[:3])}{' …' if len(secrets) > 3 else ''}): "
                 "their certificates are not in the repository, not checked")


def issued_secrets(ctx: LintContext) -> set[str] | None:
    """Secrets cert-manager Certificates of the repository write; None when the platform values manage
    certificates (tls.certManager), whose Secrets are not spelled out."""
    vals = ctx.repo.infra_values
    if vals is not None and _values_cert_names(vals):
        return None
    return {str((ro.obj.get("spec") or {}).get("secretName")) for ro in ctx.repo.objects("Certificate")
            if ro.obj.get("apiVersion", "").startswith("cert-manager.io/")}


def _check_parent(ctx: LintContext, ro: RepoObject, pi: int, ref: dict[str, Any], gw: GatewayDef,
                  hosts: list[str], issued: set[str] | None = None,
                  not_ours: dict[str, set[str]] | None = None) -> set[str]:
    """Findings for one parentRef; returns the hosts served over HTTPS through it whose certificate the
    repository is expected to hold: not those of a gateway-shim Gateway (cert-manager issues one per
    listener host), nor those whose listeners name only Secrets no Certificate here writes (`not_ours`)."""
    section = ref.get("sectionName")
    port = ref.get("port")
    names = [x.name for x in gw.listeners]
    if section is not None:
        chosen = [x for x in gw.listeners if x.name == section]
        if not chosen:
            near = [x.name for x in gw.listeners if any(listener_matches(x.hostname, h) for h in hosts)]
            ctx.add(lint_finding(
                "LINT-ROUTE-LISTENER", obj_ref(ro), ro.file, ro.line("spec", "parentRefs", pi, "sectionName"),
                f"{ro.display()}: sectionName {section!r} is not a listener of Gateway {gw.namespace}/{gw.name}",
                evidence=[f"listeners: {', '.join(names)}"]
                + ([f"listeners matching {', '.join(hosts)}: {', '.join(near)}"] if near and hosts else []),
            ))
            return set()
    else:
        chosen = [x for x in gw.listeners if port is None or x.port == port]
    tls: set[str] = set()
    for hi, host in enumerate(hosts):
        matching = [x for x in chosen if listener_matches(x.hostname, host)]
        if not matching:
            ctx.add(lint_finding(
                "LINT-ROUTE-HOSTNAME", obj_ref(ro), ro.file, ro.line("spec", "hostnames", hi),
                f"{ro.display()}: host {host} is outside listener "
                + (f"{section} ({chosen[0].hostname})" if section else f"hostnames of {gw.name}"),
                evidence=[f"{x.name}: {x.hostname}" for x in chosen][:8],
            ))
            continue
        https = [x for x in matching if x.protocol in ("HTTPS", "TLS")]
        if https and not gw.shim:
            foreign = [x for x in https if issued is not None and x.cert_refs and not set(x.cert_refs) & issued]
            if len(foreign) == len(https):
                if not_ours is not None:
                    not_ours.setdefault(host, set()).update(*(x.cert_refs for x in foreign))
            else:
                tls.add(host)
        if section is None:
            continue
        lst = matching[0]
        rivals = [x for x in gw.listeners if x is not lst and x.port == lst.port and x.protocol == lst.protocol
                  and listener_matches(x.hostname, host) and _specificity(x.hostname) > _specificity(lst.hostname)]
        if rivals:
            best = max(rivals, key=lambda x: _specificity(x.hostname))
            ctx.add(lint_finding(
                "LINT-ROUTE-LISTENER-SHADOWED", obj_ref(ro), ro.file, ro.line("spec", "parentRefs", pi, "sectionName"),
                f"{ro.display()}: host {host} on listener {lst.name} ({lst.hostname}) is taken by the more "
                f"specific listener {best.name} ({best.hostname})",
                evidence=[f"sectionName: {section}", f"{lst.name}: {lst.hostname}", f"{best.name}: {best.hostname}"],
            ))
    return tls


def _check_certs(ctx: LintContext, ro: RepoObject, hosts: list[str], tls_hosts: set[str],
                 certs: list[tuple[str, str]]) -> None:
    for hi, host in enumerate(hosts):
        if host not in tls_hosts or any(cert_covers(n, host) for n, _ in certs):
            continue
        near = sorted({f"{n} ({src})" for n, src in certs if host.endswith(n.lstrip("*"))})
        ctx.add(lint_finding(
            "LINT-CERT-COVERAGE", obj_ref(ro), ro.file, ro.line("spec", "hostnames", hi),
            f"{ro.display()}: no certificate covers {host}",
            evidence=[f"hostname: {host}"] + ([f"closest: {', '.join(near[:4])}"] if near else
                                              ["no Certificate or tls.certManager entry in that domain"]),
        ))

