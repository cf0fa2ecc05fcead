"""Gateway API as Envoy Gateway v1.2 runs it: GatewayClass → Gateway → listeners → HTTPRoutes → backends,
plus EnvoyPatchPolicy and the Envoy Gateway controller and proxies.

Status is read exactly as Envoy Gateway writes it. Where status is
missing or stale, the attachment rules are recomputed from spec with the controller's own logic
(`GetReferencedListeners`, `computeHosts`, allowedRoutes), so a wrong `sectionName` or hostname is
explained even before the controller has looked at the route.

Linking keys: a listener is named by the pseudo-key ("Listener", gateway namespace, "gateway/listener");
listener and Gateway findings speak for it and for the HTTPRoutes attached to it, so route findings that
depend on a listener (NoReadyListeners) become their symptoms. A listener with a broken TLS Secret depends
on ("Secret", ns, name) and on ("Certificate", ns, name) of the cert-manager Certificate that writes that
Secret, so a failing Certificate becomes the root cause. Route backends depend on ("Service", ns, name) and
the backing pods, so core Service/pod findings explain unavailable routes. The proxy Deployment (found by
its owning-gateway labels) and the envoy-gateway controller are cited and depended on, never re-diagnosed:
pod and workload findings say why they are down, and the controller Deployment's own availability is the
components check's (knowledge/components/envoy-gateway.yaml).

The model these checks judge (GatewayIndex, hostname matching, impact) is domain.gateway_api, which
diagnosis.trace walks too; this module holds only the checks and the findings they build.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

import yaml

from sre_expert.checks.registry import check, finding, note_not_checked
from sre_expert.core.k8s import condition, find_condition, ns_of
from sre_expert.core.model import LISTENER_KIND, TOP_CONTROLLER_KINDS, Finding, Key, Remediation, key_of
from sre_expert.core.selectors import describe
from sre_expert.core.snapshot import Snapshot
from sre_expert.domain.gateway_api import (
    EG_CONFIGMAP,
    EG_CONTROLLER_NAME,
    EG_DEPLOYMENT,
    EG_NAMESPACE,
    ENVOY_DEFAULT_MAX_HEADERS_KB,
    IMPLEMENTATIONS,
    RECONCILE_GRACE,
    ROUTE_KINDS,
    Attachment,
    GatewayIndex,
    Listener,
    ListenerSetAttachment,
    Obj,
    backend_refs,
    cert_covers,
    close_matches,
    cond_text,
    controller_deps,
    gateway_impact,
    generation,
    host_matches,
    impact_line,
    intersect_hostnames,
    is_default_pending,
    is_false,
    is_service_ref,
    is_true,
    kind_of,
    listener_impact,
    mirror_refs,
    misspelt_envoy,
    name_of,
    pod_keys,
    pod_line,
    receiving_listener,
    route_hostnames,
    sample_host,
    short_list,
    wants_tls,
    wildcard_matches,
    workload_available,
    workload_line,
    workload_pods,
)
from sre_expert.knowledge.catalogue import spec

# ----------------------------------------------------------------------------------------------
# GatewayClass


@check(
    codes=("GATEWAYCLASS-NO-CONTROLLER", "GATEWAYCLASS-NOT-ACCEPTED"),
    reads=("GatewayClass",),
    speaks_for=("GatewayClass",),
    depends_on=(*TOP_CONTROLLER_KINDS, "EnvoyProxy", "Pod"),
)
def gateway_classes(snap: Snapshot) -> Iterator[Finding]:
    idx = snap.memo("gateway.index", GatewayIndex)
    for gc in snap.list("GatewayClass"):
        name = name_of(gc)
        ctrl = (gc.get("spec") or {}).get("controllerName") or ""
        acc = condition(gc, "Accepted")
        users = idx.gateways_of_class(name)
        users_line = f"Gateways of this class: {short_list(f'{ns_of(g)}/{name_of(g)}' for g in users)}"
        if acc is None or is_default_pending(acc):
            ev = [f'spec.controllerName: "{ctrl}"']
            ev.append(f"status.conditions: {cond_text(acc)} — the CRD default, no controller has claimed the class"
                      if acc else "status.conditions: empty — no controller has written status")
            deps: list[Key] = []
            # an outage only when Gateways of the class are themselves unclaimed (their own status says so)
            stuck = [g for g in users if not is_true(condition(g, "Accepted"))]
            severity = "critical" if (stuck if ctrl != EG_CONTROLLER_NAME else users) else "warning"
            if ctrl in IMPLEMENTATIONS and ctrl != EG_CONTROLLER_NAME:
                impl, impl_ns, impl_wl = IMPLEMENTATIONS[ctrl]
                ev.append(f"{ctrl} is {impl}'s controller: it is not running, not installed, or has not reached this class yet"
                          + (f" (its default place is {impl_wl} in {impl_ns})" if impl_wl else ""))
            elif ctrl != EG_CONTROLLER_NAME:
                if misspelt_envoy(ctrl):
                    ev.append(f'Envoy Gateway only reconciles classes whose controllerName is "{EG_CONTROLLER_NAME}"')
                    ev.append(f'"{ctrl}" is close to "{EG_CONTROLLER_NAME}" and names no known implementation: a misspelling?')
                else:
                    ev.append(f'"{ctrl}" is not an implementation this tool knows; its controller has not written status')
            else:
                dep = idx.controller()
                if dep is None:
                    ev.append(f"no {EG_DEPLOYMENT} controller Deployment found in the snapshot")
                else:
                    ev.append(workload_line(dep))
                    deps = [key_of(dep), *pod_keys(workload_pods(snap, dep))]
            cm, cfg = _eg_config(snap)
            configured = ((cfg or {}).get("gateway") or {}).get("controllerName")
            if cm is not None and configured and configured != ctrl:
                ev.append(f'ConfigMap {EG_NAMESPACE}/{EG_CONFIGMAP} configures Envoy Gateway with gateway.controllerName '
                          f'"{configured}", which differs from the class')
            ev.append(users_line)
            f = finding(
                "GATEWAYCLASS-NO-CONTROLLER", gc,
                title=f"GatewayClass {name} is not claimed by any controller",
                evidence=ev, depends_on=deps, severity=severity,
                params={"controller_name": ctrl},
            )
            if ctrl != EG_CONTROLLER_NAME and not misspelt_envoy(ctrl):
                f.remediation = [r for r in f.remediation if not _eg_specific(r) and r.safety != "destructive"]
                impl, impl_ns, impl_wl = IMPLEMENTATIONS.get(ctrl, ("", "", ""))
                if impl_wl:
                    f.remediation.append(Remediation(f"Check that the {impl} controller runs (default install location)",
                                                     f"kubectl get {impl_wl} -n {impl_ns}", "read-only"))
            yield f
        elif acc.get("status") != "True":
            ev = [f"status.conditions: {cond_text(acc)}", f'spec.controllerName: "{ctrl}"']
            if ctrl != EG_CONTROLLER_NAME:
                f = finding("GATEWAYCLASS-NOT-ACCEPTED", gc,
                            title=f"GatewayClass {name} is not accepted ({acc.get('reason') or acc.get('status')})",
                            evidence=ev + [users_line], severity="critical" if users else "warning",
                            params={"envoyproxy": "", "envoyproxy_namespace": ""})
                f.remediation = [r for r in f.remediation if not _eg_specific(r)]
                f.detail = spec(f.code).generic or f.detail
                yield f
                continue
            deps = []
            pref = (gc.get("spec") or {}).get("parametersRef") or {}
            ep_ns, ep_name = pref.get("namespace") or "", pref.get("name") or ""
            if pref:
                ev.append(f"spec.parametersRef: {pref.get('kind')} {ep_ns}/{ep_name}")
                if pref.get("kind") == "EnvoyProxy":
                    deps.append(("EnvoyProxy", ep_ns, ep_name))
                    if snap.get("EnvoyProxy", ep_ns, ep_name) is None:
                        ev.append(f"EnvoyProxy {ep_ns}/{ep_name} is not in the snapshot")
                        others = [f"{ns_of(e)}/{name_of(e)}" for e in snap.list("EnvoyProxy")]
                        if others:
                            ev.append(f"EnvoyProxy objects present: {short_list(others)}")
            ev.append(users_line)
            yield finding(
                "GATEWAYCLASS-NOT-ACCEPTED", gc,
                title=f"GatewayClass {name} is not accepted ({acc.get('reason') or acc.get('status')})",
                evidence=ev, depends_on=deps, severity="critical" if users else "warning",
                params={"envoyproxy": ep_name or "<envoyproxy>", "envoyproxy_namespace": ep_ns or EG_NAMESPACE},
            )


# ----------------------------------------------------------------------------------------------
# Gateway and its listeners


def _gateway_subjects(idx: GatewayIndex, gw: Obj, routes: list[Obj]) -> list[Key]:
    return [l.key for l in idx.gateway_listeners(gw)] + [key_of(r) for r in routes]


@check(
    codes=("GATEWAY-NOT-ACCEPTED", "GATEWAY-NO-ADDRESS", "GATEWAY-PROXY-UNAVAILABLE", "GATEWAY-NOT-PROGRAMMED",
        "GATEWAY-CONFIG-INVALID", "GATEWAY-LISTENER-CERT-INVALID", "GATEWAY-LISTENER-INVALID",
        "GATEWAY-REFS-UNRESOLVED"),
    reads=("Gateway",),
    speaks_for=("Gateway", "HTTPRoute", LISTENER_KIND),
    depends_on=("Certificate", *TOP_CONTROLLER_KINDS, "GatewayClass", "Pod", "Secret", "Service"),
)
def gateways(snap: Snapshot) -> Iterator[Finding]:
    idx = snap.memo("gateway.index", GatewayIndex)
    for gw in snap.list("Gateway"):
        yield from _gateway_findings(idx, gw)


def _gateway_findings(idx: GatewayIndex, gw: Obj) -> Iterator[Finding]:
    snap = idx.snap
    ns, name = ns_of(gw), name_of(gw)
    cls_name = (gw.get("spec") or {}).get("gatewayClassName") or ""
    gc = idx.classes.get(cls_name)
    acc, prog = condition(gw, "Accepted"), condition(gw, "Programmed")
    routes, hosts = gateway_impact(idx, gw)
    down = impact_line("Takes down", routes, hosts)
    subjects = _gateway_subjects(idx, gw, routes)
    params = {"gatewayclass": cls_name}

    if idx.foreign(gw):
        yield from _other_gateway_findings(idx, gw, gc, subjects, down, params)
        return
    class_unread = gc is None and not snap.collected("GatewayClass")  # judged by its own Accepted only
    if (gc is None and not class_unread) or not is_true(acc):
        ev = [f"status.conditions: {cond_text(acc, 'Accepted')}"]
        deps: list[Key] = [("GatewayClass", "", cls_name)]
        if class_unread:
            ev.append(f"GatewayClass {cls_name}: not checked (GatewayClasses were not collected)")
        elif gc is None:
            ev.insert(0, f"spec.gatewayClassName '{cls_name}': no such GatewayClass")
            close = close_matches(cls_name, idx.classes)
            if close:
                ev.append(f"GatewayClasses present: {short_list(idx.classes)} (did you mean '{close[0]}'?)")
        else:
            gc_acc = condition(gc, "Accepted")
            ev.append(f"GatewayClass {cls_name}: {cond_text(gc_acc, 'Accepted')}")
            if is_true(gc_acc) and (acc is None or is_default_pending(acc)):
                cdeps, cev = controller_deps(idx)
                deps += cdeps
                ev += cev or ["the class is accepted but the controller never wrote this Gateway's status"]
        ev.append(down)
        yield finding("GATEWAY-NOT-ACCEPTED", gw, title=f"Gateway {ns}/{name} is not accepted by Envoy Gateway",
                      evidence=ev, depends_on=deps, subjects=subjects, params=params)
        return

    proxies = idx.infra(gw, "Deployment") + idx.infra(gw, "DaemonSet")
    services = idx.infra(gw, "Service")
    proxy_down = bool(proxies) and all(workload_available(p) == 0 for p in proxies)
    reason = prog.get("reason") if prog else None
    if not is_true(prog) and reason == "AddressNotAssigned":
        ev = [f"status.conditions: {cond_text(prog)}",
              f"status.addresses: {(gw.get('status') or {}).get('addresses') or []}"]
        deps = []
        for svc in services:
            spec, st = svc.get("spec") or {}, svc.get("status") or {}
            ev.append(f"Service {ns_of(svc)}/{name_of(svc)}: type {spec.get('type')}, "
                      f"status.loadBalancer {st.get('loadBalancer') or {}}"
                      + (f", loadBalancerIP {spec['loadBalancerIP']}" if spec.get("loadBalancerIP") else ""))
            for e in snap.events_for(svc, warning_only=True)[-2:]:
                ev.append(f"event {e.get('reason')}: {e.get('message')}")
            deps.append(key_of(svc))
        if not services:
            ev.append("no Envoy proxy Service labelled for this Gateway in the snapshot")
        ev.append(down)
        first_svc = services[0] if services else None
        yield finding("GATEWAY-NO-ADDRESS", gw, title=f"Gateway {ns}/{name} has no address: its LoadBalancer Service got no IP",
                      evidence=ev, depends_on=deps, subjects=subjects,
                      params={**params, "service": name_of(first_svc) if first_svc else "<envoy-service>",
                              "service_namespace": ns_of(first_svc) if first_svc else EG_NAMESPACE})
    elif (not is_true(prog) and reason == "NoResources") or (proxy_down and is_true(prog)):
        ev = [f"status.conditions: {cond_text(prog)}"]
        if is_true(prog):
            ev.append("the Gateway status still says Programmed=True: the controller has not caught up")
        deps = []
        for p in proxies:
            ev.append(workload_line(p))
            pods = workload_pods(snap, p)
            ev += [pod_line(x) for x in pods[:3]]
            deps += [key_of(p), *pod_keys(pods)]
        if not proxies:
            ev.append("no Envoy proxy Deployment labelled for this Gateway in the snapshot")
            cdeps, cev = controller_deps(idx)
            deps += cdeps
            ev += cev
        ev.append(down)
        first = proxies[0] if proxies else None
        yield finding("GATEWAY-PROXY-UNAVAILABLE", gw, title=f"Gateway {ns}/{name}: no Envoy proxy replica is available",
                      evidence=ev, depends_on=deps, subjects=subjects,
                      params={**params, "proxy": name_of(first) if first else "<envoy-deployment>",
                              "proxy_namespace": ns_of(first) if first else EG_NAMESPACE,
                              "proxy_kind": (first.get("kind") or "Deployment").lower() if first else "deployment"})
    elif not is_true(prog):
        ev = [f"status.conditions: {cond_text(prog, 'Programmed')}", down]
        yield finding("GATEWAY-NOT-PROGRAMMED", gw, title=f"Gateway {ns}/{name} is not programmed ({reason or 'no condition'})",
                      evidence=ev, subjects=subjects, params=params)

    quirk = condition(gw, "ListenersNotValid")
    if is_false(quirk):
        deps = []
        pref = ((gc or {}).get("spec") or {}).get("parametersRef") or {}
        if pref.get("kind") == "EnvoyProxy":
            deps.append(("EnvoyProxy", pref.get("namespace") or "", pref.get("name") or ""))
        yield finding("GATEWAY-CONFIG-INVALID", gw, title=f"Gateway {ns}/{name}: the EnvoyProxy configuration is invalid",
                      evidence=[f"status.conditions: {cond_text(quirk)}",
                                f"GatewayClass {cls_name} spec.parametersRef: {pref.get('kind', '-')} "
                                f"{pref.get('namespace', '')}/{pref.get('name', '')}"],
                      depends_on=deps, params={**params, "envoyproxy": pref.get("name") or "<envoyproxy>",
                                               "envoyproxy_namespace": pref.get("namespace") or EG_NAMESPACE})

    yield from _gateway_refs(idx, gw, subjects, down, params)
    for lis in idx.gateway_listeners(gw):
        yield from _listener_findings(idx, gw, lis)


def _eg_specific(r: Remediation) -> bool:
    cmd = r.command or ""
    return "envoy-gateway" in cmd or "envoyproxy" in cmd or "gateway.envoyproxy.io" in cmd


def for_implementation(f: Finding, idx: GatewayIndex, gw: Obj | None) -> Finding:
    """A finding about another implementation's Gateway (or route parent): Envoy Gateway's own commands
    are dropped and that implementation's controller log is offered when its default place is known."""
    if gw is not None and idx.is_envoy(gw):
        return f
    generic = spec(f.code).generic
    if generic and f.detail == spec(f.code).explanation:
        f.detail = generic
    f.remediation = [r for r in f.remediation if not _eg_specific(r)]
    name, ns, workload = idx.implementation(gw)
    if ns and workload:
        f.remediation.append(Remediation(f"Read the {name} controller log (default install location)",
                                         f"kubectl logs -n {ns} {workload} --tail=100", "read-only"))
    return f


def _gateway_refs(idx: GatewayIndex, gw: Obj, subjects: list[Key], down: str, params: dict[str, Any]) -> Iterator[Finding]:
    """Gateway-level ResolvedRefs=False: spec.infrastructure parametersRef, backend client certificates
    (spec.tls.backend / backendTLS) or other Gateway references the controller could not resolve."""
    rr = condition(gw, "ResolvedRefs")
    if not is_false(rr):
        return
    spec = gw.get("spec") or {}
    ev = [f"status.conditions: {cond_text(rr)}"]
    infra = (spec.get("infrastructure") or {}).get("parametersRef")
    if infra:
        ev.append(f"spec.infrastructure.parametersRef: {infra.get('kind')} {infra.get('name')}")
    tls = spec.get("tls") or {}
    backend = tls.get("backend") or spec.get("backendTLS") or {}
    ref = backend.get("clientCertificateRef")
    if ref:
        sns = ref.get("namespace") or ns_of(gw)
        line, _ = _secret_state(idx.snap, sns, ref.get("name") or "")
        ev.append(f"backend client certificate: {line}")
    ev.append(down)
    yield for_implementation(finding(
        "GATEWAY-REFS-UNRESOLVED", gw,
        title=f"Gateway {ns_of(gw)}/{name_of(gw)}: references are not resolved ({rr.get('reason') or 'ResolvedRefs=False'})",
        evidence=ev, subjects=subjects, params=params), idx, gw)


def _other_gateway_findings(idx: GatewayIndex, gw: Obj, gc: Obj | None, subjects: list[Key], down: str,
                            params: dict[str, Any]) -> Iterator[Finding]:
    """A Gateway of another implementation (Istio, Cilium, NGINX Gateway Fabric, Traefik, Contour, ...) or of
    a class the snapshot does not hold: judged by the standard conditions its controller wrote."""
    snap = idx.snap
    ns, name = ns_of(gw), name_of(gw)
    cls_name = (gw.get("spec") or {}).get("gatewayClassName") or ""
    impl = idx.implementation(gw)[0]
    acc, prog = condition(gw, "Accepted"), condition(gw, "Programmed")
    if gc is None and snap.collected("GatewayClass") and snap.count("GatewayClass"):
        ev = [f"spec.gatewayClassName '{cls_name}': no such GatewayClass", f"status.conditions: {cond_text(acc, 'Accepted')}"]
        close = close_matches(cls_name, idx.classes)
        ev.append(f"GatewayClasses present: {short_list(idx.classes)}" + (f" (did you mean '{close[0]}'?)" if close else ""))
        ev.append(down)
        yield for_implementation(finding(
            "GATEWAY-NOT-ACCEPTED", gw, title=f"Gateway {ns}/{name}: its GatewayClass {cls_name} does not exist",
            evidence=ev, depends_on=[("GatewayClass", "", cls_name)], subjects=subjects, params=params), idx, gw)
        return
    if acc is None and prog is None:
        return  # no status at all: nothing written to judge (the class check speaks for an unclaimed class)
    if not is_true(acc):
        ev = [f"status.conditions: {cond_text(acc, 'Accepted')}"]
        if gc is not None:
            ev.append(f"GatewayClass {cls_name} ({(gc.get('spec') or {}).get('controllerName')}): "
                      f"{cond_text(condition(gc, 'Accepted'), 'Accepted')}")
        ev.append(down)
        yield for_implementation(finding(
            "GATEWAY-NOT-ACCEPTED", gw, title=f"Gateway {ns}/{name} is not accepted by {impl}",
            evidence=ev, depends_on=[("GatewayClass", "", cls_name)], subjects=subjects, params=params), idx, gw)
        return
    if not is_true(prog) and prog is not None and not is_default_pending(prog):
        code = "GATEWAY-NO-ADDRESS" if prog.get("reason") == "AddressNotAssigned" else "GATEWAY-NOT-PROGRAMMED"
        ev = [f"status.conditions: {cond_text(prog)}",
              f"status.addresses: {(gw.get('status') or {}).get('addresses') or []}", down]
        title = (f"Gateway {ns}/{name} has no address" if code == "GATEWAY-NO-ADDRESS"
                 else f"Gateway {ns}/{name} is not programmed ({prog.get('reason') or 'no reason'})")
        yield for_implementation(finding(code, gw, title=title, evidence=ev, subjects=subjects,
                                         params={**params, "service": "<gateway-service>", "service_namespace": ns}),
                                 idx, gw)
    yield from _gateway_refs(idx, gw, subjects, down, params)
    for lis in idx.gateway_listeners(gw):
        for f in _listener_findings(idx, gw, lis):
            yield for_implementation(f, idx, gw)


def _secret_state(snap: Snapshot, sns: str, sname: str) -> tuple[str, bool]:
    """(evidence line, usable) for a listener's TLS Secret."""
    sec = snap.get("Secret", sns, sname)
    if sec is None and snap.outside(sns, f"listener Secret {sns}/{sname}"):
        return f"Secret {sns}/{sname}: outside the swept namespaces, not checked", False
    if sec is None:
        if not snap.collected("Secret"):
            return f"Secret {sns}/{sname}: Secrets were not collected, cannot confirm", False
        return f"Secret {sns}/{sname}: does not exist", False
    keys = sorted((sec.get("data") or {}).keys())
    typ = sec.get("type") or "Opaque"
    if typ != "kubernetes.io/tls":
        return f"Secret {sns}/{sname}: type {typ} (a listener needs kubernetes.io/tls)", False
    if "tls.crt" not in keys or "tls.key" not in keys:
        return f"Secret {sns}/{sname}: keys {', '.join(keys) or 'none'} (tls.crt and tls.key are required)", False
    return f"Secret {sns}/{sname}: exists, type kubernetes.io/tls", True


def _cert_line(cert: Obj) -> str:
    ready = condition(cert, "Ready")
    issuing = condition(cert, "Issuing")
    text = (f"Certificate {ns_of(cert)}/{name_of(cert)} (spec.secretName {(cert.get('spec') or {}).get('secretName')}): "
            f"{cond_text(ready, 'Ready')}")
    if is_false(issuing) or is_true(issuing):
        text += f"; {cond_text(issuing)}"
    return text


def _listener_findings(idx: GatewayIndex, gw: Obj, lis: Listener) -> Iterator[Finding]:
    if lis.status is None:
        return
    snap = idx.snap
    ns, name = ns_of(gw), name_of(gw)
    rr, prog, acc, conf = lis.cond("ResolvedRefs"), lis.cond("Programmed"), lis.cond("Accepted"), lis.cond("Conflicted")
    routes, hosts = listener_impact(idx, lis)
    scheme = "HTTPS" if lis.tls else lis.protocol
    down = impact_line(f"Takes down {scheme} for", routes, hosts)
    attached = lis.status.get("attachedRoutes")
    subjects = [lis.key, *(key_of(r) for r in routes)]
    params = {"listener": lis.name}

    if is_false(rr) and rr.get("reason") in ("InvalidCertificateRef", "RefNotPermitted"):
        ev = [f"listener {lis.describe()}: {cond_text(rr)}"]
        deps: list[Key] = []
        fixes: list[Remediation] = []
        refs = lis.cert_refs()
        broken = []
        for sns, sname in refs:
            line, ok = _secret_state(snap, sns, sname)
            if not ok:
                broken.append((sns, sname))
                ev.append(line)
        if not broken:
            broken = refs
            ev += [_secret_state(snap, s, n)[0] for s, n in refs]
        for sns, sname in broken:
            deps.append(("Secret", sns, sname))
            cert = idx.certs_by_secret.get((sns, sname))
            if cert is not None:
                deps.append(key_of(cert))
                ev.append(_cert_line(cert))
                fixes.append(Remediation(f"See why Certificate {ns_of(cert)}/{name_of(cert)} is not issued "
                                         "(requests, orders, challenges)",
                                         f"kubectl describe certificate {name_of(cert)} -n {ns_of(cert)}", "read-only"))
                fixes.append(Remediation("List the ACME orders and challenges behind it",
                                         f"kubectl get certificaterequests,orders,challenges -n {ns_of(cert)}", "read-only"))
            elif snap.collected("Certificate"):
                ev.append(f"no cert-manager Certificate in {sns} has spec.secretName {sname}")
        if rr.get("reason") == "RefNotPermitted":
            ev.append(f"a Secret in another namespace needs a ReferenceGrant there allowing Gateway from {ns}")
        ev.append(down)
        if prog is not None:
            ev.append(f"listener {lis.name}: {cond_text(prog)}")
        ev.append(f"status.listeners[{lis.name}].attachedRoutes: {attached}")
        sec = broken[0] if broken else ("", "")
        yield finding("GATEWAY-LISTENER-CERT-INVALID", gw,
                      title=f"Gateway {ns}/{name} listener {lis.name}: TLS certificate Secret {sec[1]} is unusable",
                      evidence=ev, depends_on=deps, subjects=subjects, extra_fixes=fixes,
                      severity="critical" if routes else "warning",
                      params={**params, "secret": sec[1], "secret_namespace": sec[0] or ns})
        return

    problems = []
    if is_false(acc):
        problems.append(cond_text(acc))
    if is_true(conf):
        problems.append(cond_text(conf))
    if is_false(rr):
        problems.append(cond_text(rr))
    if prog is not None and not is_true(prog):
        problems.append(cond_text(prog))
    if problems:
        ev = [f"listener {lis.describe()}: {p}" for p in problems]
        ev += [down, f"status.listeners[{lis.name}].attachedRoutes: {attached}"]
        yield finding("GATEWAY-LISTENER-INVALID", gw,
                      title=f"Gateway {ns}/{name} listener {lis.name} is not programmed",
                      evidence=ev, subjects=subjects, params=params,
                      severity="critical" if routes else "warning")


# ----------------------------------------------------------------------------------------------
# HTTPRoute


def _section_fix(route: Obj, index: int, listener: str, description: str) -> Remediation:
    """A mutating fix that points the route's parentRefs[index].sectionName at `listener`."""
    patch = f'[{{"op":"replace","path":"/spec/parentRefs/{index}/sectionName","value":"{listener}"}}]'
    return Remediation(description,
                       f"kubectl patch {kind_of(route).lower()} {name_of(route)} -n {ns_of(route)} --type=json -p '{patch}'",
                       "mutating")


def _route_params(route: Obj, att: Attachment | None = None, **extra: Any) -> dict[str, Any]:
    p: dict[str, Any] = {"gateway": att.gw_name if att else "", "gateway_namespace": att.gw_ns if att else "",
                         "parent_index": att.index if att else 0}
    p.update(extra)
    return p


def _listeners_line(idx: GatewayIndex, att: Attachment) -> str:
    lst = idx.listeners.get((att.gw_ns, att.gw_name), [])
    return f"listeners of {att.gw_ns}/{att.gw_name}: " + short_list([l.describe() for l in lst], 12)


def _no_matching_parent(idx: GatewayIndex, att: Attachment, st: Obj | None, computed: bool) -> Finding:
    route = att.route
    lst = idx.listeners.get((att.gw_ns, att.gw_name), [])
    ev = []
    if st is not None:
        ev.append(f"{att.status_label()}: {cond_text(st)}")
    what = []
    if att.section and not any(l.name == att.section for l in lst):
        what.append(f"sectionName '{att.section}' names no listener")
    if att.port is not None and not any(l.port == att.port for l in lst):
        what.append(f"port {att.port} matches no listener")
    if att.section and att.port is not None and not what:
        what.append(f"no listener is both named '{att.section}' and on port {att.port}")
    ev.append(f"{att.describe_ref()}: {', '.join(what) or 'matches no listener'}"
              + (" (computed from spec; the controller has not written status for it)" if computed else ""))
    ev.append(_listeners_line(idx, att))
    suggestion = None
    if att.section:
        close = close_matches(att.section, [l.name for l in lst])
        fit = receiving_listener(idx, att, wants_tls(att, lst))
        suggestion = fit if fit else (close[0] if close else None)
        if close:
            ev.append(f"closest listener names: {', '.join(close)}")
        if fit:
            ev.append(f"spec.hostnames {', '.join(route_hostnames(route)) or '(none)'} fit listener {fit}")
    ev.append(f"Hosts not served: {short_list(route_hostnames(route))}")
    fixes = []
    if suggestion:
        fixes.append(_section_fix(
            route, att.index, suggestion,
            f"Point parentRefs[{att.index}].sectionName at listener {suggestion} "
            "(make the same change in Git if Argo CD manages the route)"))
    return finding("HTTPROUTE-NO-MATCHING-PARENT", route,
                   title=f"{kind_of(route)} {ns_of(route)}/{name_of(route)}: "
                         f"{what[0] if what else 'parentRef matches no listener'} on Gateway {att.gw_name}",
                   evidence=ev, params=_route_params(route, att), extra_fixes=fixes)


def _not_allowed(idx: GatewayIndex, att: Attachment, st: Obj | None, computed: bool) -> Finding:
    route = att.route
    rns = ns_of(route)
    ev = []
    if st is not None:
        ev.append(f"{att.status_label()}: {cond_text(st)}")
    elif computed:
        ev.append(f"{att.describe_ref()}: no selected listener allows this route (computed from spec)")
    for l in att.selected:
        ar = l.spec.get("allowedRoutes") or {}
        nss = ar.get("namespaces") or {}
        frm = nss.get("from") or "Same"
        reasons = []
        if not idx.kind_allowed(l, route.get("kind") or "HTTPRoute"):
            reasons.append(
                f"allowedRoutes.kinds "
                f"{', '.join(str(k.get('kind')) for k in ar.get('kinds') or ()) or '(default for ' + l.protocol + ')'} "
                f"excludes {route.get('kind')}")
        if idx.namespace_allowed(l, rns) is False:
            if frm == "Same":
                reasons.append(f"allowedRoutes.namespaces.from is Same (the default): only routes in {l.gw_ns}")
            elif frm == "Selector":
                reasons.append(f"namespace {rns} labels {describe(idx.ns_labels.get(rns, {})) or '(none)'} do not match "
                               f"allowedRoutes.namespaces.selector {describe(nss.get('selector')) or '(empty)'}")
            else:
                reasons.append(f"allowedRoutes.namespaces.from is {frm}")
        ev.append(f"listener {l.name}: " + ("; ".join(reasons) if reasons else "allows it now (status may be stale)"))
    ev.append(f"Hosts not served: {short_list(route_hostnames(route))}")
    return finding("HTTPROUTE-NOT-ALLOWED", route,
                   title=f"{kind_of(route)} {rns}/{name_of(route)} is not allowed by the listeners of Gateway {att.gw_name}",
                   evidence=ev, params=_route_params(route, att))


def _hostname_explain(route_hosts: list[str], lis: Listener) -> str:
    if not lis.hostname:
        return f"listener {lis.name} has no hostname and accepts any host"
    if lis.hostname.startswith("*."):
        return (f"listener {lis.name} hostname {lis.hostname} matches hosts ending in '{lis.hostname[1:]}' "
                f"(one or more labels before it, never {lis.hostname[2:]} itself); "
                f"{', '.join(route_hosts)} {'does' if len(route_hosts) == 1 else 'do'} not end in it")
    return f"listener {lis.name} only accepts host {lis.hostname}"


def _hostname_mismatch(idx: GatewayIndex, att: Attachment, st: Obj | None, computed: bool) -> Finding:
    route = att.route
    names = route_hostnames(route)
    lst = idx.listeners.get((att.gw_ns, att.gw_name), [])
    ev = []
    if st is not None:
        ev.append(f"{att.status_label()}: {cond_text(st)}")
    ev.append(f"spec.hostnames: {names}" + (" (computed from spec; no status written yet)" if computed else ""))
    for l in att.allowed:
        inter = intersect_hostnames(names, l.hostname)
        if inter:
            dup = [o for o in lst if o is not l and o.port == l.port and o.hostname in inter]
            ev.append(f"listener {l.name}: {', '.join(inter)} is exactly the hostname of listener "
                      f"{', '.join(o.name for o in dup)} on the same port, so Envoy Gateway leaves it to that listener")
        else:
            ev.append(_hostname_explain(names, l))
    fit = [l.name for l in lst if l.protocol in ("HTTP", "HTTPS") and any(intersect_hostnames([h], l.hostname) for h in names)]
    fixes = []
    if fit:
        ev.append(f"listeners whose hostname does cover them: {', '.join(fit)}")
        target = receiving_listener(idx, att, wants_tls(att, lst))
        if att.section and target:
            fixes.append(_section_fix(
                route, att.index, target,
                f"Attach parentRefs[{att.index}] to listener {target} instead "
                "(and change it in Git if Argo CD manages the route)"))
    return finding("HTTPROUTE-HOSTNAME-MISMATCH", route,
                   title=f"{kind_of(route)} {ns_of(route)}/{name_of(route)}: "
                         f"its hostnames fall outside the listener hostname on Gateway {att.gw_name}",
                   evidence=ev, params=_route_params(route, att), extra_fixes=fixes)


def _partial_hostnames(idx: GatewayIndex, atts: list[Attachment], used_anywhere: set[str] | None = None) -> Finding | None:
    """Route hostnames that no listener the route attaches to covers, on this Gateway or any other parent
    (a route with one hostname per Gateway is fine): silently ignored."""
    att = atts[0]
    names = route_hostnames(att.route)
    if not names:
        return None
    used: set[str] = set()
    allowed: list[Listener] = []
    for a in atts:
        for l in a.allowed:
            if l not in allowed:
                allowed.append(l)
        for hs in a.hosts.values():
            used.update(hs)
    everywhere = used | (used_anywhere or set())
    lost = []
    for n in names:
        if n in everywhere:
            continue
        # a route wildcard can surface as the listener's (more specific) hostname
        if n.startswith("*.") and any(wildcard_matches(u, n) for u in everywhere):
            continue
        lost.append(n)
    if not lost or len(lost) == len(names):
        return None
    ev = [f"spec.hostnames: {names}", f"served on {att.gw_ns}/{att.gw_name}: {sorted(used)}"]
    ev += [_hostname_explain(lost, l) for l in allowed]
    ev.append(f"Gateway API ignores a route hostname no listener covers: {', '.join(lost)} get no route (404)")
    return finding("HTTPROUTE-HOSTNAME-MISMATCH", att.route,
                   title=f"{kind_of(att.route)} {ns_of(att.route)}/{name_of(att.route)}: "
                         f"hostname {lost[0]} is outside its listeners and is ignored",
                   evidence=ev, params=_route_params(att.route, att), severity="warning")


def _shadowed(idx: GatewayIndex, att: Attachment) -> Iterator[Finding]:
    """HTTPS hosts a route attaches to on one listener while a more specific listener on the same port
    receives their TLS connections (Envoy picks the filter chain by SNI, most specific name first)."""
    route = att.route
    gw = att.gateway
    if gw is None:
        return
    attached_to: dict[str, list[str]] = {}
    for a in idx.by_route.get(key_of(route), []):
        if a.gw_ns == att.gw_ns and a.gw_name == att.gw_name:
            for l in a.allowed:
                attached_to.setdefault(l.name, []).extend(a.hosts.get(l.name, []))
    for lis in att.allowed:
        if lis.protocol != "HTTPS":
            continue
        for h in att.hosts.get(lis.name, []):
            if h == "*":
                continue
            winner = idx.listener_for(gw, sample_host(h), "HTTPS", lis.port)
            if winner is None or winner.name == lis.name:
                continue
            served_there = attached_to.get(winner.name) or []
            if any(host_matches(x, sample_host(h)) for x in served_there):
                continue
            ev = [
                f"{att.describe_ref()} attaches the route to listener {lis.describe()}",
                f"Gateway API hostname matching: {lis.hostname} matches {h} (a leading '*.' matches one or more labels), "
                f"so the route is Accepted and kubectl shows nothing wrong",
                f"but listener {winner.describe()} is the more specific match for {h}: "
                f"Envoy selects the TLS filter chain by SNI, "
                f"most specific name first, and this route is not attached to {winner.name}",
                f"HTTPS requests for {h} reach listener {winner.name} and get 404 (no route); plain HTTP may still work",
            ]
            acc = att.cond("Accepted")
            if acc is not None:
                ev.append(f"{att.status_label()}: {cond_text(acc)}")
            fixes = []
            if att.section:
                fixes.append(_section_fix(
                    route, att.index, winner.name,
                    f"Attach parentRefs[{att.index}] to listener {winner.name} (change it in Git if Argo CD manages the route)"))
            yield finding("HTTPROUTE-HOST-SHADOWED", route,
                          title=f"{kind_of(route)} {ns_of(route)}/{name_of(route)}: "
                                f"HTTPS for {h} is served by listener {winner.name}, not {lis.name}",
                          evidence=ev, depends_on=[], extra_fixes=fixes,
                          params=_route_params(route, att, listener=lis.name, winner=winner.name, host=h))
            return


def _cert_coverage(idx: GatewayIndex, att: Attachment) -> Iterator[Finding]:
    """Hosts a route serves over HTTPS that no certificate of the receiving listener covers (X.509 wildcards
    cover one label; Gateway API wildcards cover several)."""
    gw = att.gateway
    if gw is None:
        return
    route = att.route
    for lis in att.allowed:
        if lis.protocol != "HTTPS" or not is_true(lis.cond("Programmed")):
            continue
        for h in att.hosts.get(lis.name, []):
            if h == "*":
                continue
            winner = idx.listener_for(gw, sample_host(h), "HTTPS", lis.port)
            if winner is None or winner.name != lis.name:
                continue  # shadowed: reported on its own
            found = [idx.certs_by_secret.get(ref) for ref in lis.cert_refs()]
            certs = [c for c in found if c is not None]
            if not found or len(certs) != len(found):
                continue  # a Secret not written by cert-manager: its names are unknown offline
            names = [n for c in certs for n in ((c.get("spec") or {}).get("dnsNames") or [])]
            if not names or cert_covers(names, h):
                continue
            ev = [
                f"listener {lis.describe()} presents {', '.join(f'Certificate {ns_of(c)}/{name_of(c)}' for c in certs)} "
                f"with dnsNames {names}",
                f"{h} is not covered: a certificate wildcard covers exactly one label, although the listener "
                f"hostname {lis.hostname} (Gateway API) accepts several",
                f"HTTPS clients for {h} fail TLS verification (certificate name mismatch)",
            ]
            yield finding("HTTPROUTE-HOST-NOT-IN-CERT", route,
                          title=f"{kind_of(route)} {ns_of(route)}/{name_of(route)}: "
                                f"{h} is not in the TLS certificate of listener {lis.name}",
                          evidence=ev, depends_on=[key_of(c) for c in certs],
                          params=_route_params(route, att, listener=lis.name, host=h,
                                               certificate=name_of(certs[0]), certificate_namespace=ns_of(certs[0])))
            return


def _not_reconciled(idx: GatewayIndex, atts: list[Attachment]) -> Finding | None:
    """One finding per route and Gateway for every parentRef the controller never wrote status for."""
    att = atts[0]
    route = att.route
    age = idx.snap.age((route.get("metadata") or {}).get("creationTimestamp"))
    unseen = att.gateway is None and (not idx.snap.sees(att.gw_ns) or not idx.snap.collected("Gateway"))
    if (att.gateway is not None or unseen) and age is not None and age < RECONCILE_GRACE:
        return None  # brand new: the controller normally writes status within seconds
    ev = [f"{a.describe_ref()}: status.parents has no entry for it — never reconciled" for a in atts]
    deps: list[Key] = []
    sev = "critical"
    if unseen:
        ev.append(f"Gateway {att.gw_ns}/{att.gw_name} is {_unseen_where(idx.snap, att.gw_ns)}: whether it exists "
                  "and is accepted was not checked")
    elif att.gateway is None:
        ev.append(f"Gateway {att.gw_ns}/{att.gw_name} does not exist")
        names = [f"{n}/{g}" for (n, g) in idx.gateways]
        close = close_matches(f"{att.gw_ns}/{att.gw_name}", names)
        ev.append(f"Gateways present: {short_list(names)}" + (f" (did you mean {close[0]}?)" if close else ""))
    elif idx.foreign(att.gateway):
        gw = att.gateway
        acc = condition(gw, "Accepted")
        ev.append(f"Gateway {att.gw_ns}/{att.gw_name} ({idx.implementation(gw)[0]}): {cond_text(acc, 'Accepted')}")
        deps.append(att.gateway_key)
    else:
        gw = att.gateway
        gc = idx.gateway_class(gw)
        acc = condition(gw, "Accepted")
        if gc is None or (gc.get("spec") or {}).get("controllerName") != EG_CONTROLLER_NAME:
            ev.append(f"Gateway {att.gw_ns}/{att.gw_name} uses class '{(gw.get('spec') or {}).get('gatewayClassName')}', "
                      f"which Envoy Gateway does not control")
            deps.append(("GatewayClass", "", (gw.get("spec") or {}).get("gatewayClassName") or ""))
        if not is_true(acc):
            ev.append(f"Gateway {att.gw_ns}/{att.gw_name}: {cond_text(acc, 'Accepted')}")
            deps.append(att.gateway_key)
        cdeps, cev = controller_deps(idx)
        if cdeps:
            deps += cdeps
            ev += cev
        if not deps:
            sev = "warning"
            ev.append("the Gateway is accepted and the controller is running: the route may be brand new, "
                      "or status updates are failing (see the controller log)")
    ev.append(f"Hosts not served: {short_list(route_hostnames(route))}")
    f = finding("HTTPROUTE-NOT-RECONCILED", route,
                title=f"{kind_of(route)} {ns_of(route)}/{name_of(route)} "
                      f"was never reconciled for Gateway {att.gw_ns}/{att.gw_name}",
                evidence=ev, depends_on=deps, severity=sev, params=_route_params(route, att))
    return for_implementation(f, idx, att.gateway) if att.gateway is not None else f


# What the controller's Accepted=False reason means, as the code a whole-cluster snapshot would compute.
_REJECTION_CODES = {"NoMatchingParent": "HTTPROUTE-NO-MATCHING-PARENT", "NotAllowedByListeners": "HTTPROUTE-NOT-ALLOWED",
                    "NoMatchingListenerHostname": "HTTPROUTE-HOSTNAME-MISMATCH"}


def _unseen_where(snap: Snapshot, namespace: str) -> str:
    """Why a parent Gateway was not read: outside a scoped sweep, or Gateways were not collected at all."""
    if not snap.sees(namespace):
        return f"outside the swept namespaces ({snap.info.scope_text()})"
    return "not in the capture (Gateways were not collected)"


def _rejected_unseen(idx: GatewayIndex, att: Attachment, acc: Obj) -> Finding:
    """A rejection by a Gateway outside a scoped sweep: the route's status is the only evidence, so the
    finding has the code the reason implies but no listener comparison."""
    code = _REJECTION_CODES.get(acc.get("reason") or "")
    if code is None:
        return _not_accepted(idx, att, acc)
    route = att.route
    ev = [f"{att.status_label()}: {cond_text(acc)}", att.describe_ref(),
          f"Gateway {att.gw_ns}/{att.gw_name} is {_unseen_where(idx.snap, att.gw_ns)}: its listeners were not compared",
          f"Hosts not served: {short_list(route_hostnames(route))}"]
    return finding(code, route,
                   title=f"{kind_of(route)} {ns_of(route)}/{name_of(route)} "
                         f"is not accepted by Gateway {att.gw_name} ({acc.get('reason')})",
                   evidence=ev, params=_route_params(route, att))


def _listener_set_rejected(idx: GatewayIndex, la: ListenerSetAttachment, acc: Obj) -> Finding:
    """A route its ListenerSet parent did not accept: the route's status and the ListenerSet's conditions."""
    route = la.route
    ev = [f"{la.describe_ref()}: {cond_text(acc)}"]
    if la.listener_set is None:
        kind = la.ref.get("kind") or "ListenerSet"
        ev.append(f"{kind} {la.ls_ns}/{la.ls_name} is not in the snapshot" if idx.snap.collected(kind)
                  else f"{kind} objects were not collected")
    else:
        for t in ("Accepted", "Programmed"):
            ev.append(f"{la.listener_set.get('kind')} {la.ls_ns}/{la.ls_name}: {cond_text(condition(la.listener_set, t), t)}")
    ev.append(f"Hosts not served through it: {short_list(route_hostnames(route))}")
    return for_implementation(finding(
        "HTTPROUTE-NOT-ACCEPTED", route,
        title=f"{kind_of(route)} {ns_of(route)}/{name_of(route)} "
              f"is not accepted by {la.ref.get('kind') or 'ListenerSet'} {la.ls_name} ({acc.get('reason')})",
        evidence=ev, depends_on=[(la.ref.get("kind") or "ListenerSet", la.ls_ns, la.ls_name)],
        params={"gateway": name_of(la.gateway) if la.gateway else la.ls_name,
                "gateway_namespace": ns_of(la.gateway) if la.gateway else la.ls_ns, "parent_index": la.index}),
        idx, la.gateway)


def _not_accepted(idx: GatewayIndex, att: Attachment, acc: Obj) -> Finding:
    route = att.route
    ev = [f"{att.status_label()}: {cond_text(acc)}"]
    deps: list[Key] = []
    if acc.get("reason") == "NoReadyListeners":
        for l in att.selected:
            deps.append(l.key)
            ev.append(f"listener {l.name}: {cond_text(l.cond('Programmed'), 'Programmed')}")
    via = f"listener {att.section}" if att.section else f"Gateway {att.gw_name}"
    ev.append(f"Hosts not served through {via}: {short_list(route_hostnames(route))}")
    return finding("HTTPROUTE-NOT-ACCEPTED", route,
                   title=f"{kind_of(route)} {ns_of(route)}/{name_of(route)} "
                         f"is not accepted by Gateway {att.gw_name} ({acc.get('reason')})",
                   evidence=ev, depends_on=deps, params=_route_params(route, att))


@check(
    codes=("HTTPROUTE-NOT-RECONCILED", "HTTPROUTE-NO-MATCHING-PARENT", "HTTPROUTE-NOT-ALLOWED",
        "HTTPROUTE-HOSTNAME-MISMATCH", "HTTPROUTE-HOST-SHADOWED", "HTTPROUTE-HOST-NOT-IN-CERT",
        "HTTPROUTE-NOT-ACCEPTED", "HTTPROUTE-PARTIALLY-INVALID", "HTTPROUTE-BACKEND-NOT-FOUND",
        "HTTPROUTE-BACKEND-NOT-PERMITTED", "HTTPROUTE-BACKEND-INVALID", "HTTPROUTE-BACKEND-UNAVAILABLE",
        "HTTPROUTE-MIRROR-BACKEND-NOT-FOUND"),
    reads=("HTTPRoute", "GRPCRoute", "Gateway"),
    speaks_for=("GRPCRoute", "HTTPRoute"),
    depends_on=("Certificate", *TOP_CONTROLLER_KINDS, "Gateway", LISTENER_KIND, "Pod", "Service", "XListenerSet"),
    any_read=True,
)
def http_routes(snap: Snapshot) -> Iterator[Finding]:
    idx = snap.memo("gateway.index", GatewayIndex)
    for route in idx.routes:
        served = False
        status_rr: Obj | None = None
        partial: Obj | None = None
        unreconciled: dict[Key, list[Attachment]] = defaultdict(list)
        accepted: dict[Key, list[Attachment]] = defaultdict(list)
        other_served = False  # accepted by a parent whose listeners are not recomputed (other class, ListenerSet)
        for la in idx.via_listener_sets.get(key_of(route), []):
            acc, rr = la.cond("Accepted"), la.cond("ResolvedRefs")
            if is_false(rr) and status_rr is None:
                status_rr = rr
            if is_true(acc):
                served = other_served = True
            elif is_false(acc):
                yield _listener_set_rejected(idx, la, acc)
            else:
                note_not_checked(f"{kind_of(route)} {ns_of(route)}/{name_of(route)} "
                                 f"through {la.describe_ref().split(' → ', 1)[1]}: "
                                 "no status entry for that parent yet")
        rejected: dict[tuple[Key, str], list[Finding]] = defaultdict(list)
        for att in idx.by_route.get(key_of(route), []):
            if att.gateway is None and (snap.outside(att.gw_ns, f"parent Gateway {att.gw_ns}/{att.gw_name}")
                                        or not snap.collected("Gateway")):
                # the Gateway was not swept: judge by the route's own status for it, nothing from its spec
                acc, rr = att.cond("Accepted"), att.cond("ResolvedRefs")
                if is_false(rr) and status_rr is None:
                    status_rr = rr
                if acc is None:
                    unreconciled[att.gateway_key].append(att)
                elif is_false(acc):
                    rejected[(att.gateway_key, acc.get("reason") or "")].append(_rejected_unseen(idx, att, acc))
                else:
                    served = True
                continue
            if att.gateway is None or idx.foreign(att.gateway):
                # a Gateway this snapshot lacks, or another implementation's: only the status its own
                # controller wrote for this parent is evidence (Envoy Gateway's rules are not recomputed)
                acc, rr = att.cond("Accepted"), att.cond("ResolvedRefs")
                if is_false(rr) and status_rr is None:
                    status_rr = rr
                if is_true(acc):
                    served = True
                    other_served = True
                elif is_false(acc):
                    rejected[(att.gateway_key, acc.get("reason") or "")].append(
                        for_implementation(_not_accepted(idx, att, acc), idx, att.gateway))
                elif att.gateway is None and snap.collected("Gateway"):
                    unreconciled[att.gateway_key].append(att)
                elif att.gateway is not None and acc is None and not is_true(condition(att.gateway, "Accepted")):
                    unreconciled[att.gateway_key].append(att)  # its Gateway is not accepted either: a symptom
                elif att.gateway is not None and acc is None:
                    note_not_checked(f"{kind_of(route)} {ns_of(route)}/{name_of(route)} on Gateway {att.gw_ns}/{att.gw_name} "
                                     f"({idx.implementation(att.gateway)[0]}): no status entry from its controller")
                continue
            acc, rr, pi = att.cond("Accepted"), att.cond("ResolvedRefs"), att.cond("PartiallyInvalid")
            if is_false(rr) and status_rr is None:
                status_rr = rr
            if is_true(pi) and partial is None:
                partial = pi
            computed = att.computed_problem()
            reason: str | None
            if acc is None:
                # no status for this parent: judge the spec the way the controller will
                if computed is None:
                    unreconciled[att.gateway_key].append(att)
                    continue
                reason, status_cond = computed, None
            elif is_false(acc):
                reason, status_cond = acc.get("reason"), acc
            elif computed is not None and att.status_stale():
                reason, status_cond = computed, None  # the spec changed after the last Accepted=True
            else:
                reason, status_cond = None, None
            if reason == "NoMatchingParent":
                rejected[(att.gateway_key, reason)].append(
                    _no_matching_parent(idx, att, status_cond, computed=status_cond is None))
            elif reason == "NotAllowedByListeners":
                rejected[(att.gateway_key, reason)].append(_not_allowed(idx, att, status_cond, computed=status_cond is None))
            elif reason == "NoMatchingListenerHostname":
                rejected[(att.gateway_key, reason)].append(
                    _hostname_mismatch(idx, att, status_cond, computed=status_cond is None))
            elif status_cond is not None:
                rejected[(att.gateway_key, reason or "")].append(_not_accepted(idx, att, status_cond))
            else:
                served = True
                accepted[att.gateway_key].append(att)
                yield from _shadowed(idx, att)
                yield from _cert_coverage(idx, att)
        for same in rejected.values():
            yield _merge(same)
        for atts in unreconciled.values():
            f = _not_reconciled(idx, atts)
            if f is not None:
                yield f
        if not other_served:
            used_anywhere = {h for atts in accepted.values() for a in atts for hs in a.hosts.values() for h in hs}
            for atts in accepted.values():
                f = _partial_hostnames(idx, atts, used_anywhere)
                if f is not None:
                    yield f
        if partial is not None:
            yield finding("HTTPROUTE-PARTIALLY-INVALID", route,
                          title=f"{kind_of(route)} {ns_of(route)}/{name_of(route)}: some rules were dropped",
                          evidence=[f"status.parents: {cond_text(partial)}"], params=_route_params(route))
        yield from _backend_findings(idx, route, status_rr, served)


def _mirror_findings(idx: GatewayIndex, route: Obj, hosts: list[str]) -> Iterator[Finding]:
    """A RequestMirror filter whose Service does not exist: mirrored copies are dropped (and the route's
    ResolvedRefs may say BackendNotFound), but the real requests are still served."""
    snap = idx.snap
    rns = ns_of(route)
    for where, ref in mirror_refs(route):
        if not is_service_ref(ref):
            continue
        sns, sname = ref.get("namespace") or rns, ref.get("name") or ""
        if snap.get("Service", sns, sname) is not None or not snap.collected("Service"):
            continue
        if snap.outside(sns, f"mirror Service {sns}/{sname}"):
            continue
        yield finding(
            "HTTPROUTE-MIRROR-BACKEND-NOT-FOUND", route,
            title=f"{kind_of(route)} {rns}/{name_of(route)}: mirror Service {sns}/{sname} does not exist",
            evidence=[f"{where}.backendRef: Service {sns}/{sname} (port {ref.get('port')}) does not exist",
                      "requests are still served by the route's backendRefs; only the mirrored copies are lost",
                      f"hosts of the route: {short_list(hosts)}"],
            depends_on=[("Service", sns, sname)],
            params=_route_params(route, None, service=sname, service_namespace=sns, port=ref.get("port")))


def _merge(same: list[Finding]) -> Finding:
    """One finding for several parentRefs of a route rejected for the same reason by the same Gateway."""
    f = same[0]
    for g in same[1:]:
        f.evidence += [e for e in g.evidence if e not in f.evidence]
        cmds = {r.command for r in f.remediation}
        f.remediation += [r for r in g.remediation if r.command not in cmds]
        f.depends_on += [k for k in g.depends_on if k not in f.depends_on]
    return f


def _backend_findings(idx: GatewayIndex, route: Obj, status_rr: Obj | None, served: bool) -> Iterator[Finding]:
    snap = idx.snap
    rns, rname = ns_of(route), name_of(route)
    hosts = idx.route_hosts(route)
    seen: set[tuple[Any, ...]] = set()
    explained = False
    unseen: list[tuple[str, str, str, Any]] = []
    for ri, bi, ref in backend_refs(route):
        if not is_service_ref(ref):
            continue
        if ref.get("weight") == 0:
            continue
        sns, sname, port = ref.get("namespace") or rns, ref.get("name") or "", ref.get("port")
        if (sns, sname, port) in seen:
            continue
        seen.add((sns, sname, port))
        where = f"rules[{ri}].backendRefs[{bi}]"
        params = _route_params(route, None, service=sname, service_namespace=sns, port=port)
        status_line = [f"status.parents: {cond_text(status_rr)}"] if status_rr is not None else []
        svc = snap.get("Service", sns, sname)
        if svc is None and (snap.outside(sns, f"backend Service {sns}/{sname}") or not snap.collected("Service")):
            unseen.append((where, sns, sname, port))  # the route's own status (below) still speaks for it
            continue
        if svc is None:
            others = [name_of(s) for s in snap.list("Service", sns)]
            close = close_matches(sname, others)
            ev = status_line + [f"{where}: Service {sns}/{sname} does not exist"]
            if close:
                ev.append(f"Services in {sns} with a similar name: {', '.join(close)}")
            ev.append(impact_line("Hosts answering 500", [route], hosts))
            explained = True
            yield finding("HTTPROUTE-BACKEND-NOT-FOUND", route,
                          title=f"{kind_of(route)} {rns}/{rname}: backend Service {sns}/{sname} does not exist",
                          evidence=ev, depends_on=[("Service", sns, sname)], params=params)
            continue
        ports = [p.get("port") for p in ((svc.get("spec") or {}).get("ports") or ())]
        if port is not None and port not in ports:
            ev = status_line + [f"{where}: port {port} is not a port of Service {sns}/{sname} (spec.ports: {ports})",
                                "backendRefs[].port names the Service port, not the container targetPort",
                                impact_line("Hosts answering 500", [route], hosts)]
            explained = True
            yield finding("HTTPROUTE-BACKEND-NOT-FOUND", route,
                          title=f"{kind_of(route)} {rns}/{rname}: Service {sns}/{sname} has no port {port}",
                          evidence=ev, depends_on=[("Service", sns, sname)], params=params)
            continue
        if sns != rns and snap.collected("ReferenceGrant") and idx.grant_allows(route, sns, sname) is None:
            grants = idx.grants.get(sns, [])
            ev = status_line + [f"{where}: Service {sns}/{sname} is in another namespace than the route ({rns})",
                                f"ReferenceGrants in {sns}: {short_list(name_of(g) for g in grants)}; "
                                f"none allows HTTPRoute from {rns} to Service {sname}",
                                impact_line("Hosts answering 500", [route], hosts)]
            explained = True
            yield finding("HTTPROUTE-BACKEND-NOT-PERMITTED", route,
                          title=f"{kind_of(route)} {rns}/{rname}: "
                                f"reference to Service {sns}/{sname} is not permitted (no ReferenceGrant)",
                          evidence=ev, params=params)
            continue
        if (svc.get("spec") or {}).get("type") == "ExternalName":
            continue
        eps = snap.service_endpoints(svc)
        if eps is None or not served:
            continue
        ready = [e for e in eps if e["ready"]]
        if ready:
            continue
        selected = snap.service_pods(svc)
        ev = [f"{where}: Service {sns}/{sname} has 0 ready endpoints"
              + (f" ({len(eps)} not ready)" if eps else " (no endpoints at all)")]
        if not (svc.get("spec") or {}).get("selector"):
            ev.append(f"Service {sns}/{sname} has no selector and nothing maintains its EndpointSlices")
        elif not selected:
            ev.append(f"Service selector {describe((svc.get('spec') or {}).get('selector'))} matches no pod in {sns}")
        ev += [pod_line(p) for p in selected[:3]]
        ev.append(impact_line("Hosts answering 503 (no healthy upstream)", [route], hosts))
        by_name = {name_of(p): p for p in selected}
        pod_deps = [("Pod", sns, e["pod"]) for e in eps if e.get("pod")] or pod_keys(selected)
        owners = []
        for p in list(by_name.values())[:5]:
            top = snap.top_controller(p)
            if top is not p and key_of(top) not in owners:
                owners.append(key_of(top))
        yield finding("HTTPROUTE-BACKEND-UNAVAILABLE", route,
                      title=f"{kind_of(route)} {rns}/{rname}: backend Service {sns}/{sname} has no ready endpoints",
                      evidence=ev, depends_on=[("Service", sns, sname), *pod_deps, *owners], params=params)
    mirror_missing = list(_mirror_findings(idx, route, hosts))
    yield from mirror_missing
    explained = explained or bool(mirror_missing)
    if status_rr is not None and not explained:
        reason = status_rr.get("reason")
        code = {"BackendNotFound": "HTTPROUTE-BACKEND-NOT-FOUND",
                "RefNotPermitted": "HTTPROUTE-BACKEND-NOT-PERMITTED"}.get(reason or "")
        if unseen and code:  # the only candidates lie outside the sweep: the controller's word is the evidence
            where, sns, sname, port = unseen[0]
            yield finding(code, route,
                          title=f"{kind_of(route)} {rns}/{rname}: backend references are not resolved ({reason})",
                          evidence=[f"status.parents: {cond_text(status_rr)}",
                                    *(f"{w}: Service {n}/{s} is "
                                      + (f"outside the swept namespaces ({snap.info.scope_text()})" if not snap.sees(n)
                                         else "not in the capture (Service was not collected)") + ": not compared"
                                      for w, n, s, _ in unseen),
                                    impact_line("Hosts affected", [route], hosts)],
                          params=_route_params(route, None, service=sname, service_namespace=sns, port=port))
            return
        only_services = all(is_service_ref(r) for _, _, r in backend_refs(route))
        if reason in ("BackendNotFound", "RefNotPermitted") and only_services and not unseen:
            return  # every Service reference resolves now: the status is behind the cluster
        yield finding("HTTPROUTE-BACKEND-INVALID", route,
                      title=f"{kind_of(route)} {rns}/{rname}: backend references are invalid ({reason})",
                      evidence=[f"status.parents: {cond_text(status_rr)}",
                                impact_line("Hosts affected", [route], hosts)],
                      params=_route_params(route))


# ----------------------------------------------------------------------------------------------
# BackendTLSPolicy and ListenerSets: standard Gateway API kinds, judged by the conditions their controller writes


@check(codes=("BACKENDTLSPOLICY-NOT-ACCEPTED",), speaks_for=("BackendTLSPolicy",), depends_on=("ConfigMap", "Secret"))
def backend_tls_policies(snap: Snapshot) -> Iterator[Finding]:
    """status.ancestors[].conditions Accepted and ResolvedRefs of every BackendTLSPolicy: a policy that is not
    accepted, or whose CA certificate references do not resolve, leaves TLS to its Services unverified or
    failing, depending on the implementation."""
    pols = snap.list("BackendTLSPolicy")
    if not pols:
        return
    idx = snap.memo("gateway.index", GatewayIndex)
    for pol in pols:
        ns, name = ns_of(pol), name_of(pol)
        spec = pol.get("spec") or {}
        targets = spec.get("targetRefs") or ([spec["targetRef"]] if spec.get("targetRef") else [])
        services = [(ns, t.get("name") or "") for t in targets if (t.get("kind") or "Service") == "Service"]
        routes = [r for svc in services for r in idx.routes_by_service.get(svc, [])]
        validation = spec.get("validation") or (spec.get("tls") or {})
        ca_refs = validation.get("caCertificateRefs") or validation.get("caCertRefs") or []
        ancestors = (pol.get("status") or {}).get("ancestors") or []
        if not ancestors:
            note_not_checked(f"BackendTLSPolicy {ns}/{name}: no status.ancestors written yet")
            continue
        for anc in ancestors:
            conds = anc.get("conditions") or []
            acc, rr = find_condition(conds, "Accepted"), find_condition(conds, "ResolvedRefs")
            bad = [c for c in (acc, rr) if is_false(c)]
            if not bad:
                continue
            ref = anc.get("ancestorRef") or {}
            where = f"status.ancestors[{ref.get('kind', 'Gateway')} {ref.get('namespace') or ns}/{ref.get('name', '')}]"
            ev = [f"{where}: {cond_text(c)}" for c in bad]
            ev.append(f"spec.targetRefs: {short_list(f'Service {n}/{s}' for n, s in services)}")
            deps: list[Key] = []
            for r in ca_refs:
                kind = r.get("kind") or "ConfigMap"
                deps.append((kind, ns, r.get("name") or ""))
                if kind in ("ConfigMap", "Secret") and snap.collected(kind):
                    present = snap.get(kind, ns, r.get("name") or "") is not None
                    ev.append(f"validation.caCertificateRefs: {kind} {ns}/{r.get('name')} "
                              + ("exists" if present else "does not exist"))
            if validation.get("hostname"):
                ev.append(f"validation.hostname: {validation['hostname']}")
            ev.append(impact_line("Routes sending to these Services", routes, [h for r in routes for h in idx.route_hosts(r)]))
            reason = (bad[0].get("reason") or bad[0].get("type"))
            yield finding("BACKENDTLSPOLICY-NOT-ACCEPTED", pol,
                          title=f"BackendTLSPolicy {ns}/{name} is not in effect ({reason})",
                          evidence=ev, depends_on=deps, severity="critical" if routes else "warning",
                          params={"ancestor": ref.get("name") or ""})
            break


@check(
    codes=("GATEWAY-LISTENERSET-NOT-ACCEPTED",),
    speaks_for=("GRPCRoute", "HTTPRoute", "ListenerSet", "XListenerSet"),
    depends_on=("Gateway",),
)
def listener_sets(snap: Snapshot) -> Iterator[Finding]:
    """ListenerSets (XListenerSet, gateway.networking.x-k8s.io) add listeners to a Gateway; their own
    Accepted/Programmed conditions and per-listener conditions say whether those listeners serve."""
    idx = snap.memo("gateway.index", GatewayIndex)
    routes_via: dict[tuple[str, str], list[Obj]] = defaultdict(list)
    for atts in idx.via_listener_sets.values():
        for la in atts:
            routes_via[(la.ls_ns, la.ls_name)].append(la.route)
    for (ns, name), ls in idx.listener_sets.items():
        acc, prog = condition(ls, "Accepted"), condition(ls, "Programmed")
        if acc is None and prog is None:
            note_not_checked(f"{ls.get('kind')} {ns}/{name}: no status written yet")
            continue
        problems = [cond_text(c) for c in (acc, prog) if is_false(c)]
        for l in ((ls.get("status") or {}).get("listeners") or ()):
            for t in ("Accepted", "Programmed", "ResolvedRefs"):
                c = find_condition(l.get("conditions"), t)
                if is_false(c):
                    problems.append(f"listener {l.get('name')}: {cond_text(c)}")
            if is_true(find_condition(l.get("conditions"), "Conflicted")):
                problems.append(f"listener {l.get('name')}: {cond_text(find_condition(l.get('conditions'), 'Conflicted'))}")
        if not problems:
            continue
        pref = (ls.get("spec") or {}).get("parentRef") or {}
        routes = routes_via.get((ns, name), [])
        ev = problems + [f"spec.parentRef: Gateway {pref.get('namespace') or ns}/{pref.get('name')}",
                         impact_line("Routes attached through it", routes, [h for r in routes for h in route_hostnames(r)])]
        gw = idx.gateways.get((pref.get("namespace") or ns, pref.get("name") or ""))
        yield for_implementation(finding(
            "GATEWAY-LISTENERSET-NOT-ACCEPTED", ls,
            title=f"{ls.get('kind')} {ns}/{name}: its listeners do not serve ({problems[0].split(':')[0]})",
            evidence=ev, subjects=[key_of(r) for r in routes],
            depends_on=[("Gateway", pref.get("namespace") or ns, pref.get("name") or "")],
            severity="critical" if routes else "warning"), idx, gw)


# ----------------------------------------------------------------------------------------------
# EnvoyPatchPolicy


def _patch_lines(epp: Obj) -> list[str]:
    out = []
    for i, p in enumerate((epp.get("spec") or {}).get("jsonPatches") or ()):
        op = p.get("operation") or {}
        out.append(f"jsonPatches[{i}]: {p.get('type', '')} \"{p.get('name', '')}\" "
                   f"{op.get('op', '')} {op.get('path', op.get('jsonPath', ''))}")
    return out


def _header_limit(epp: Obj) -> int | None:
    """max_request_headers_kb the policy sets (-1 when set to something unreadable), None if it does not."""
    found: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "max_request_headers_kb":
                    found.append(v)
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for p in (epp.get("spec") or {}).get("jsonPatches") or ():
        op = p.get("operation") or {}
        if str(op.get("path") or "").rstrip("/").endswith("max_request_headers_kb"):
            found.append(op.get("value"))
        walk(op.get("value"))
    if not found:
        return None
    v = found[0]
    return int(v) if isinstance(v, (int, float)) or (isinstance(v, str) and v.isdigit()) else -1


def _eg_config(snap: Snapshot) -> tuple[Obj | None, Obj | None]:
    cm = snap.get("ConfigMap", EG_NAMESPACE, EG_CONFIGMAP)
    if cm is None:
        return None, None
    raw = (cm.get("data") or {}).get("envoy-gateway.yaml")
    try:
        return cm, (yaml.load(raw, Loader=yaml.CSafeLoader) if raw else None) or {}
    except yaml.YAMLError:
        return cm, None


@check(
    codes=("ENVOYPATCHPOLICY-DISABLED", "ENVOYPATCHPOLICY-INVALID", "ENVOYPATCHPOLICY-RESOURCE-NOT-FOUND",
        "ENVOYPATCHPOLICY-NOT-RECONCILED"),
    reads=("EnvoyPatchPolicy",),
    speaks_for=("EnvoyPatchPolicy",),
    depends_on=(*TOP_CONTROLLER_KINDS, "Gateway", "Pod"),
)
def envoy_patch_policies(snap: Snapshot) -> Iterator[Finding]:
    idx: GatewayIndex | None = None
    for epp in snap.list("EnvoyPatchPolicy"):
        ns, name = ns_of(epp), name_of(epp)
        target = (epp.get("spec") or {}).get("targetRef") or {}
        tkind, tname = target.get("kind") or "", target.get("name") or ""
        limit = _header_limit(epp)
        effect = []
        if limit is not None:
            size = f"{limit} KiB" if limit and limit > 0 else "a larger value"
            effect.append(f"this policy raises Envoy's max_request_headers_kb to {size}; without it Envoy keeps its "
                          f"default of {ENVOY_DEFAULT_MAX_HEADERS_KB} KiB and requests with larger headers (big cookies, "
                          f"long JWTs) get HTTP 431 Request Header Fields Too Large")
        patches = _patch_lines(epp)[:3]
        ancestors = (epp.get("status") or {}).get("ancestors") or []
        params = {"target": tname, "target_kind": tkind}
        if not ancestors:
            if idx is None:
                idx = snap.memo("gateway.index", GatewayIndex)
            ev = ["status.ancestors: empty — Envoy Gateway has not processed this policy",
                  f"spec.targetRef: {target.get('group', '')}/{tkind} {tname}"]
            deps: list[Key] = []
            if tkind == "Gateway":
                gw = idx.gateways.get((ns, tname))
                if gw is None:
                    ev.append(f"Gateway {ns}/{tname} does not exist "
                              "(an EnvoyPatchPolicy targets a Gateway in its own namespace); "
                              f"the controller skips the policy without writing status")
                    present = [n for (gns, n) in idx.gateways if gns == ns]
                    close = close_matches(tname, present)
                    if close:
                        ev.append(f"Gateways in {ns}: {short_list(present)} (did you mean {close[0]}?)")
                elif not is_true(condition(gw, "Accepted")):
                    deps.append(("Gateway", ns, tname))
                    ev.append(f"Gateway {ns}/{tname}: {cond_text(condition(gw, 'Accepted'), 'Accepted')}")
            cdeps, cev = controller_deps(idx)
            deps += cdeps
            ev += cev + effect
            yield finding("ENVOYPATCHPOLICY-NOT-RECONCILED", epp,
                          title=f"EnvoyPatchPolicy {ns}/{name} has no status: it is not applied",
                          evidence=ev, depends_on=deps, params=params)
            continue
        for anc in ancestors:
            ref = anc.get("ancestorRef") or {}
            where = f"status.ancestors[{ref.get('kind', 'Gateway')} {ref.get('namespace') or ns}/{ref.get('name', '')}]"
            conds = anc.get("conditions") or []
            acc, prog = find_condition(conds, "Accepted"), find_condition(conds, "Programmed")
            if is_false(acc) and acc.get("reason") == "Disabled":
                ev = [f"{where}: {cond_text(acc)}"]
                cm, cfg = _eg_config(snap)
                if cm is not None:
                    enabled = ((cfg or {}).get("extensionApis") or {}).get("enableEnvoyPatchPolicy")
                    if enabled is True:
                        ev.append(f"ConfigMap {EG_NAMESPACE}/{EG_CONFIGMAP} now sets extensionApis.enableEnvoyPatchPolicy: true, "
                                  f"but the controller has not been restarted since")
                    else:
                        ev.append(f"ConfigMap {EG_NAMESPACE}/{EG_CONFIGMAP} envoy-gateway.yaml: extensionApis "
                                  f"{(cfg or {}).get('extensionApis') or '(not set)'} — enableEnvoyPatchPolicy is not true")
                ev += effect + patches
                yield finding("ENVOYPATCHPOLICY-DISABLED", epp,
                              title=f"EnvoyPatchPolicy {ns}/{name} is not applied: EnvoyPatchPolicy is disabled in Envoy Gateway"
                              + (" (large headers fail with HTTP 431)" if limit is not None else ""),
                              evidence=ev, params=params)
            elif is_false(acc):
                yield finding("ENVOYPATCHPOLICY-INVALID", epp,
                              title=f"EnvoyPatchPolicy {ns}/{name} is rejected ({acc.get('reason')})",
                              evidence=[f"{where}: {cond_text(acc)}",
                                        f"spec.targetRef: {target.get('group', '')}/{tkind} {tname}",
                                        *effect], params=params)
            elif is_false(prog) and prog.get("reason") == "ResourceNotFound":
                yield finding("ENVOYPATCHPOLICY-RESOURCE-NOT-FOUND", epp,
                              title=f"EnvoyPatchPolicy {ns}/{name} patches xDS resources that do not exist",
                              evidence=[f"{where}: {cond_text(prog)}", *patches,
                                        "xDS names follow <gateway namespace>/<gateway name>/<listener name> for listeners "
                                        "and route configurations", *effect], params=params)
            elif is_false(prog):
                yield finding("ENVOYPATCHPOLICY-INVALID", epp,
                              title=f"EnvoyPatchPolicy {ns}/{name}: the JSON patch failed ({prog.get('reason')})",
                              evidence=[f"{where}: {cond_text(prog)}", *patches, *effect], params=params)


# ----------------------------------------------------------------------------------------------
# stale status (the controller Deployment itself is covered by the components check)


def _stale(obj: Obj, conds: Iterable[Obj]) -> tuple[int, int] | None:
    gen = generation(obj)
    seen = [g for c in conds if isinstance(g := c.get("observedGeneration"), int)]
    if gen is None or not seen or max(seen) >= gen:
        return None
    return max(seen), gen


@check(
    codes=("GATEWAY-API-STATUS-STALE",),
    reads=("Gateway",),
    speaks_for=("EnvoyPatchPolicy", "GRPCRoute", "Gateway", "GatewayClass", "HTTPRoute"),
    depends_on=(*TOP_CONTROLLER_KINDS, "Pod"),
)
def stale_status(snap: Snapshot) -> Iterator[Finding]:
    idx = snap.memo("gateway.index", GatewayIndex)
    cdeps, cev = controller_deps(idx)
    items: list[tuple[Obj, list[Obj]]] = []
    for gc in snap.list("GatewayClass"):
        items.append((gc, (gc.get("status") or {}).get("conditions") or []))
    for gateway in snap.list("Gateway"):
        items.append((gateway, (gateway.get("status") or {}).get("conditions") or []))
    for r in idx.routes:
        items.append((r, [c for p in ((r.get("status") or {}).get("parents") or ()) for c in p.get("conditions") or ()]))
    for e in snap.list("EnvoyPatchPolicy"):
        items.append((e, [c for a in ((e.get("status") or {}).get("ancestors") or ()) for c in a.get("conditions") or ()]))
    for obj, conds in items:
        st = _stale(obj, [c for c in conds if not is_default_pending(c)])
        if st is None:
            continue
        seen, gen = st
        kind, ns, name = key_of(obj)
        gw: Obj | None = obj if kind == "Gateway" else None
        if kind == "Gateway":
            envoy = idx.is_envoy(obj)
        elif kind == "GatewayClass":
            envoy = (obj.get("spec") or {}).get("controllerName") == EG_CONTROLLER_NAME
        elif kind in ROUTE_KINDS:
            parents = [a.gateway for a in idx.by_route.get(key_of(obj), []) if a.gateway is not None]
            envoy = not parents or any(idx.is_envoy(g) for g in parents)
            gw = None if envoy else parents[0]
        else:
            envoy = True
        f = finding("GATEWAY-API-STATUS-STALE", obj,
                    title=f"{kind} {ns + '/' if ns else ''}{name}: status describes an older spec (generation {seen} of {gen})",
                    evidence=[f"metadata.generation {gen}, status conditions observedGeneration {seen}",
                              "the status shown by kubectl predates the last spec change", *(cev if envoy else [])],
                    depends_on=cdeps if envoy else [], params={"ns_flag": f"-n {ns}" if ns else ""})
        yield f if envoy else for_implementation(f, idx, gw)
