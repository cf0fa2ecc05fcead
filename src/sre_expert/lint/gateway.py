"""HTTPRoutes against the Gateway listeners they attach to, and route hosts against certificates.

Listeners come from Gateway manifests; a Gateway the repository only describes in
values/infrastructure/main.yaml (`gateway.name/namespace/listeners`) is read from there.
Hostname matching follows the Gateway API: a listener `*.example.com` matches any host ending in
`.example.com` (any depth); a certificate `*.example.com` covers exactly one more label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .codes import lint_finding
from .context import LintContext, obj_ref
from .repo import Doc, RepoObject


@dataclass(slots=True)
class Listener:
    name: str
    hostname: str | None
    port: int | None
    protocol: str


@dataclass(slots=True)
class GatewayDef:
    namespace: str
    name: str
    listeners: list[Listener]
    file: str
    line: int


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


def gateways(ctx: LintContext) -> dict[tuple[str, str], GatewayDef]:
    out: dict[tuple[str, str], GatewayDef] = {}
    for ro in ctx.repo.objects("Gateway"):
        with ctx.guard("gateway listeners", ro):
            if not ro.obj.get("apiVersion", "").startswith("gateway.networking.k8s.io/"):
                continue
            ls = [_listener(x) for x in (ro.obj.get("spec") or {}).get("listeners") or [] if isinstance(x, dict)]
            for ns in ro.namespaces or ("",):
                out[(ns, ro.name)] = GatewayDef(ns, ro.name, ls, ro.file, ro.line("spec", "listeners"))
    vals = ctx.repo.infra_values
    gw = vals.get("gateway") if vals else None
    if isinstance(gw, dict) and gw.get("name") and isinstance(gw.get("listeners"), list):
        key = (str(gw.get("namespace") or "default"), str(gw["name"]))
        if key not in out:
            ls = [_listener(x) for x in gw["listeners"] if isinstance(x, dict)]
            out[key] = GatewayDef(key[0], key[1], ls, vals.file, vals.line("gateway", "listeners"))
    return out


def _listener(x: dict[str, Any]) -> Listener:
    port = x.get("port")
    return Listener(str(x.get("name") or ""), x.get("hostname"), int(port) if isinstance(port, int) else None,
                    str(x.get("protocol") or "HTTP").upper())


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
                key = keys[0]
                gw = next((gws[k] for k in keys if k in gws), None)
                if gw is None:
                    if gw_known:
                        ctx.add(lint_finding(
                            "LINT-ROUTE-PARENT-MISSING", obj_ref(ro), ro.file, ro.line("spec", "parentRefs", pi, "name"),
                            f"{ro.display()} attaches to Gateway {' or '.join(f'{k[0]}/{k[1]}' for k in keys)}, which the "
                            "repository does not define",
                            evidence=["Gateways in the repository: " + (", ".join(f"{n}/{m}" for n, m in gws) or "none")]))
                    continue
                tls_hosts |= _check_parent(ctx, ro, pi, ref, gw, hosts)
            if certs_known:
                _check_certs(ctx, ro, hosts, tls_hosts, certs)


def _check_parent(ctx: LintContext, ro: RepoObject, pi: int, ref: dict[str, Any], gw: GatewayDef,
                  hosts: list[str]) -> set[str]:
    """Findings for one parentRef; returns the hosts served over HTTPS through it."""
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
        tls |= {host} if any(x.protocol in ("HTTPS", "TLS") for x in matching) else set()
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

