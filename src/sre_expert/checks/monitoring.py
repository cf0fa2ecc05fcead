"""kube-prometheus: Prometheus and Alertmanager instances, their storage, rules and scrape targets.

Keyed on what prometheus-operator v0.78 writes in the status of its resources:
- Prometheus/Alertmanager CR `status.conditions[]`: `Available` (True / Degraded / False) and
  `Reconciled` (True / False), reasons NoPodReady, SomePodsNotReady, StatefulSetNotFound,
  ReconciliationFailed.
- PrometheusRule / ServiceMonitor have no status: rejection is a Warning Event with reason
  `InvalidConfiguration`; selection follows the Prometheus CR's `ruleSelector`/`ruleNamespaceSelector`
  and `serviceMonitorSelector`/`serviceMonitorNamespaceSelector` (empty selects all, null selects none,
  a null namespace selector means the Prometheus's own namespace).
- A full Prometheus volume shows offline only as "no space left on device" in the prometheus
  container's log; the volume usage itself is a kubelet metric, quoted when the snapshot carries metrics.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sre_expert.checks.metrics import pvc_usage_text
from sre_expert.checks.registry import check, finding
from sre_expert.core.k8s import condition, pod_ready
from sre_expert.core.model import Finding, Key, key_of
from sre_expert.core.selectors import describe, matches
from sre_expert.core.snapshot import Snapshot, event_time
from sre_expert.core.timeutil import human, parse_time

Obj = dict[str, Any]

_MISSING_REF = re.compile(r'\b(secrets?|configmaps?)\s+"([^"]+)"\s+not found', re.I)
_LOG_TS = re.compile(r'(?:\bts=|"ts":)("?)([0-9T:.\-+Z]+)\1')
_REJECT_KINDS = ("ServiceMonitor", "PodMonitor", "Probe", "ScrapeConfig")


# ---------------------------------------------------------------------------------------- helpers


def _cond_line(c: Obj) -> str:
    line = f"condition {c.get('type')}={c.get('status')} reason={c.get('reason') or '-'}"
    if c.get("message"):
        line += f": {c['message']}"
    return line


def _ns_labels(snap: Snapshot, ns: str) -> dict[str, str]:
    obj = snap.get("Namespace", None, ns)
    labels = dict((obj or {}).get("metadata", {}).get("labels") or {})
    labels.setdefault("kubernetes.io/metadata.name", ns)
    return labels


def _selects(snap: Snapshot, prom: Obj, sel_field: str, ns_field: str, obj: Obj) -> bool:
    """Whether a Prometheus picks up a ServiceMonitor / PrometheusRule (operator semantics)."""
    spec = prom.get("spec") or {}
    sel = spec.get(sel_field)
    if sel is None or not matches(sel, obj["metadata"].get("labels")):
        return False
    obj_ns = obj["metadata"].get("namespace") or ""
    ns_sel = spec.get(ns_field)
    if ns_sel is None:
        return obj_ns == (prom["metadata"].get("namespace") or "")
    return matches(ns_sel, _ns_labels(snap, obj_ns))


def _selector_text(prom: Obj, sel_field: str, ns_field: str) -> str:
    spec = prom.get("spec") or {}
    sel, ns_sel = spec.get(sel_field), spec.get(ns_field)
    md = prom["metadata"]
    if sel is None:
        what = f"{sel_field} is not set, so it selects none"
    else:
        what = f"{sel_field}={{{describe(sel)}}}" if describe(sel) else f"{sel_field}={{}} (all)"
    if ns_sel is None:
        where = f"{ns_field} not set (only namespace {md.get('namespace')})"
    else:
        where = f"{ns_field}={{{describe(ns_sel)}}}" if describe(ns_sel) else f"{ns_field}={{}} (all namespaces)"
    return f"Prometheus {md.get('namespace')}/{md.get('name')}: {what}; {where}"


def _labels_text(obj: Obj) -> str:
    labels = obj["metadata"].get("labels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "(none)"


def _label_fix(snap: Snapshot, proms: list[Obj], sel_field: str, ns_field: str, obj: Obj) -> tuple[str, str]:
    """(labels to add to the object, labels to add to its namespace) to be picked up by the first
    Prometheus whose selectors are plain matchLabels; "" when not derivable."""
    labels = obj["metadata"].get("labels") or {}
    ns = obj["metadata"].get("namespace") or ""
    for p in proms:
        spec = p.get("spec") or {}
        sel = spec.get(sel_field)
        if sel is None or sel.get("matchExpressions"):
            continue
        add = [f"{k}={v}" for k, v in (sel.get("matchLabels") or {}).items() if labels.get(k) != v]
        ns_sel = spec.get(ns_field)
        ns_add = ""
        if ns_sel is not None and not ns_sel.get("matchExpressions"):
            nl = _ns_labels(snap, ns)
            ns_add = " ".join(f"{k}={v}" for k, v in (ns_sel.get("matchLabels") or {}).items() if nl.get(k) != v)
        elif ns_sel is None and ns != p["metadata"].get("namespace"):
            continue
        return " ".join(add), ns_add
    return "", ""


def _statefulsets(snap: Snapshot, cr: Obj, prefix: str) -> list[Obj]:
    """StatefulSets the operator runs for a Prometheus/Alertmanager CR: owned by it, else by name."""
    owned = snap.owned(cr, "StatefulSet")
    if owned:
        return owned
    md = cr["metadata"]
    ns, name = md.get("namespace"), md.get("name")
    out = []
    base = snap.get("StatefulSet", ns, f"{prefix}-{name}")
    if base is not None:
        out.append(base)
    for i in range(1, int((cr.get("spec") or {}).get("shards") or 1)):
        s = snap.get("StatefulSet", ns, f"{prefix}-{name}-shard-{i}")
        if s is not None:
            out.append(s)
    return out


def _pod_keys(pods: list[Obj]) -> list[Key]:
    return [key_of(p) for p in pods]


def _claim_keys(sts_list: list[Obj], pods: list[Obj]) -> list[Key]:
    keys: list[Key] = []
    for p in pods:
        ns = p["metadata"].get("namespace") or ""
        for v in (p.get("spec") or {}).get("volumes") or ():
            claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
            if claim and ("PersistentVolumeClaim", ns, claim) not in keys:
                keys.append(("PersistentVolumeClaim", ns, claim))
    if keys:
        return keys
    for sts in sts_list:
        md, spec = sts["metadata"], sts.get("spec") or {}
        for tpl in spec.get("volumeClaimTemplates") or ():
            for i in range(int(spec.get("replicas", 1) or 0)):
                keys.append(("PersistentVolumeClaim", md.get("namespace") or "", f"{tpl['metadata']['name']}-{md['name']}-{i}"))
    return keys


def _pod_state(pod: Obj) -> str:
    st = pod.get("status") or {}
    for cs in st.get("containerStatuses") or ():
        w = (cs.get("state") or {}).get("waiting")
        if w:
            return f"{cs.get('name')} waiting: {w.get('reason')}"
        t = (cs.get("state") or {}).get("terminated")
        if t:
            return f"{cs.get('name')} terminated: {t.get('reason')}"
        if not cs.get("ready"):
            return f"{cs.get('name')} not ready"
    return f"phase {st.get('phase') or 'Unknown'}"


def _operator_keys(snap: Snapshot) -> list[Key]:
    """The prometheus-operator Deployment(s): whoever reconciles the CRs and creates the StatefulSets."""
    out = []
    for d in snap.list("Deployment"):
        spec = ((d.get("spec") or {}).get("template") or {}).get("spec") or {}
        if any("prometheus-operator" in (c.get("image") or "").rsplit("/", 1)[-1] for c in spec.get("containers") or ()):
            out.append(key_of(d))
    return out


def _missing_refs(message: str, ns: str) -> list[Key]:
    out = []
    for kind, name in _MISSING_REF.findall(message or ""):
        out.append(("Secret" if kind.lower().startswith("secret") else "ConfigMap", ns, name))
    return out


def _age(snap: Snapshot, t: Any) -> str:
    if t is None:
        return "?"
    return human(snap.now - t)


# ---------------------------------------------------------------------------------------- Prometheus / Alertmanager


def _instance_findings(snap: Snapshot, cr: Obj, kind_prefix: str, operator: list[Key]) -> Iterator[Finding]:
    """Availability and reconciliation of one Prometheus or Alertmanager CR."""
    kind = cr["kind"]
    md = cr["metadata"]
    ns, name = md.get("namespace") or "", md["name"]
    code_prefix = "PROMETHEUS" if kind == "Prometheus" else "ALERTMANAGER"
    avail, recon = condition(cr, "Available"), condition(cr, "Reconciled")
    st = cr.get("status") or {}
    sts_list = _statefulsets(snap, cr, kind_prefix)
    pods = [p for s in sts_list for p in snap.pods_of(s)]
    counts = (
        f"status.replicas={st.get('replicas', 0)}, availableReplicas={st.get('availableReplicas', 0)}, "
        f"unavailableReplicas={st.get('unavailableReplicas', 0)}"
    )
    not_ready = [p for p in pods if not pod_ready(p)]
    pod_lines = [f"pod {p['metadata']['name']}: {_pod_state(p)}" for p in not_ready[:5]]
    stale = []
    gen = md.get("generation")
    for c in (avail, recon):
        if c and gen is not None and c.get("observedGeneration") is not None and c["observedGeneration"] < gen:
            stale.append(f"condition {c['type']} observedGeneration={c['observedGeneration']} < metadata.generation={gen}")
    params = {"statefulset": sts_list[0]["metadata"]["name"] if sts_list else f"{kind_prefix}-{name}",
              "operator": operator[0][2] if operator else "<prometheus-operator>",
              "operator_namespace": operator[0][1] if operator else ns}
    sts_keys = [key_of(s) for s in sts_list] or [("StatefulSet", ns, params["statefulset"])]
    deps = _pod_keys(pods) + _claim_keys(sts_list, pods)

    if avail and avail.get("status") == "False":
        ev = [_cond_line(avail), counts, *pod_lines]
        if recon and recon.get("status") != "True":
            ev.append(_cond_line(recon))
        if avail.get("reason") == "StatefulSetNotFound" or (recon and recon.get("status") == "False"):
            deps = deps + operator + _missing_refs((recon or {}).get("message", ""), ns)
        yield finding(
            f"{code_prefix}-UNAVAILABLE", cr,
            title=f"{kind} {ns}/{name} has no available pods ({avail.get('reason') or 'Available=False'})",
            evidence=ev + stale, params=params, subjects=sts_keys, depends_on=deps,
        )
        return
    if recon and recon.get("status") == "False":
        ev = [_cond_line(recon)]
        if avail:
            ev.append(_cond_line(avail))
        yield finding(
            f"{code_prefix}-NOT-RECONCILED", cr,
            title=f"prometheus-operator cannot apply the configuration of {kind} {ns}/{name}",
            evidence=ev + stale, params=params,
            depends_on=operator + _missing_refs(recon.get("message", ""), ns),
        )
        return
    if avail and avail.get("status") == "Degraded":
        yield finding(
            f"{code_prefix}-DEGRADED", cr,
            title=f"{kind} {ns}/{name} runs with some pods not ready ({avail.get('reason') or 'Degraded'})",
            evidence=[_cond_line(avail), counts, *pod_lines, *stale], params=params,
            subjects=sts_keys, depends_on=deps,
        )


def _disk_full(snap: Snapshot, cr: Obj) -> Iterator[Finding]:
    """'no space left on device' in a Prometheus container log (current or previous instance)."""
    md = cr["metadata"]
    ns, name = md.get("namespace") or "", md["name"]
    sts_list = _statefulsets(snap, cr, "prometheus")
    pods = [p for s in sts_list for p in snap.pods_of(s)]
    hits: list[tuple[Obj, str, bool]] = []
    for p in pods:
        for previous in (False, True):
            text = snap.logs(ns, p["metadata"]["name"], "prometheus", previous)
            if not text or "no space left on device" not in text:
                continue
            lines = [ln for ln in text.splitlines() if "no space left on device" in ln]
            hits.append((p, lines[-1], previous))
            break
    if not hits:
        return
    newest = None
    for _, line, _ in hits:
        m = _LOG_TS.search(line)
        t = parse_time(m.group(2)) if m else None
        if t and (newest is None or t > newest):
            newest = t
    recent = newest is None or snap.now - newest <= timedelta(hours=6)
    down = any(not pod_ready(p) for p, _, _ in hits)
    ev = []
    for p, line, previous in hits[:3]:
        where = "previous container log" if previous else "log"
        ev.append(f"pod {p['metadata']['name']} {where}: {line.strip()[:300]}")
    spec = cr.get("spec") or {}
    vct = ((spec.get("storage") or {}).get("volumeClaimTemplate") or {}).get("spec") or {}
    size = ((vct.get("resources") or {}).get("requests") or {}).get("storage")
    ev.append(
        f"spec.retention={spec.get('retention') or '24h (default)'}, spec.retentionSize={spec.get('retentionSize') or 'not set'}"
        + (f", volume size {size}" if size else "")
    )
    claims = _claim_keys(sts_list, pods)
    usage = [u for c in claims if (u := pvc_usage_text(snap, c[1], c[2]))]
    ev.extend(usage or ["volume usage (kubelet_volume_stats_used_bytes) is a metric: not checked offline"])
    params = {"pvc": claims[0][2] if claims else f"prometheus-{name}-db-prometheus-{name}-0",
              "pod": hits[0][0]["metadata"]["name"]}
    yield finding(
        "PROMETHEUS-DISK-FULL", cr,
        title=f"Prometheus {ns}/{name} ran out of disk space" + ("" if recent else f" ({_age(snap, newest)} ago)"),
        evidence=ev, params=params,
        # with metrics, the claim's own fill finding (checks/metrics.py) is the cause; without, this one speaks for it
        subjects=[*([] if usage else claims), *_pod_keys(pods), *(key_of(s) for s in sts_list)],
        depends_on=claims if usage else [],
        severity="critical" if (down or recent) else "warning",
    )


def _alerting_targets(snap: Snapshot, prom: Obj) -> Iterator[Finding]:
    """Every Alertmanager endpoint in spec.alerting must name an existing Service with that port."""
    md = prom["metadata"]
    ns = md.get("namespace") or ""
    for am in ((prom.get("spec") or {}).get("alerting") or {}).get("alertmanagers") or ():
        am_ns, am_name, port = am.get("namespace") or ns, am.get("name"), am.get("port")
        if not am_name or snap.outside(am_ns, f"Alertmanager Service {am_ns}/{am_name}"):
            continue
        svc = snap.get("Service", am_ns, am_name)
        if svc is None:
            problem = f"Service {am_ns}/{am_name} does not exist"
        else:
            ports = (svc.get("spec") or {}).get("ports") or ()
            if any(p.get("name") == port or p.get("port") == port or str(p.get("port")) == str(port) for p in ports):
                continue
            problem = (f"Service {am_ns}/{am_name} has no port {port!r} (ports: "
                       + ", ".join(f"{p.get('name') or '-'}:{p.get('port')}" for p in ports) + ")")
        yield finding(
            "PROMETHEUS-ALERTMANAGER-NOT-FOUND", prom,
            title=f"Prometheus {ns}/{md['name']} sends alerts to {am_ns}/{am_name}, which it cannot reach",
            evidence=[f"spec.alerting.alertmanagers: name={am_name} namespace={am_ns} port={port}", problem],
            params={"am_namespace": am_ns, "am_service": am_name},
        )


@check(
    codes=("PROMETHEUS-UNAVAILABLE", "PROMETHEUS-DEGRADED", "PROMETHEUS-NOT-RECONCILED", "PROMETHEUS-DISK-FULL",
        "PROMETHEUS-ALERTMANAGER-NOT-FOUND"),
    reads=("Prometheus",),
    speaks_for=("PersistentVolumeClaim", "Pod", "Prometheus", "StatefulSet"),
    depends_on=("ConfigMap", "Deployment", "PersistentVolumeClaim", "Pod", "Secret"),
)
def prometheus_instances(snap: Snapshot) -> Iterator[Finding]:
    proms = snap.list("Prometheus")
    if not proms:
        return
    operator = _operator_keys(snap)
    services_read = snap.collected("Service")
    for prom in proms:
        yield from _instance_findings(snap, prom, "prometheus", operator)
        yield from _disk_full(snap, prom)
        if services_read:
            yield from _alerting_targets(snap, prom)


@check(
    codes=("ALERTMANAGER-UNAVAILABLE", "ALERTMANAGER-DEGRADED", "ALERTMANAGER-NOT-RECONCILED"),
    reads=("Alertmanager",),
    speaks_for=("Alertmanager", "StatefulSet"),
    depends_on=("ConfigMap", "Deployment", "PersistentVolumeClaim", "Pod", "Secret"),
)
def alertmanager_instances(snap: Snapshot) -> Iterator[Finding]:
    ams = snap.list("Alertmanager")
    if not ams:
        return
    operator = _operator_keys(snap)
    for am in ams:
        yield from _instance_findings(snap, am, "alertmanager", operator)


# ---------------------------------------------------------------------------------------- rejected resources


def _rejections(snap: Snapshot, obj: Obj) -> list[Obj]:
    evs = snap.events_for(obj, reason="InvalidConfiguration", warning_only=True)
    if not evs:
        return []
    created = parse_time(obj["metadata"].get("creationTimestamp"))
    if created is not None:
        evs = [e for e in evs if (event_time(e) or snap.now) >= created]
    return evs


def _rejected_finding(snap: Snapshot, obj: Obj, code: str, what: str) -> Finding | None:
    evs = _rejections(snap, obj)
    if not evs:
        return None
    last = evs[-1]
    md = obj["metadata"]
    msg = (last.get("message") or last.get("note") or "").strip()
    err = msg.split("invalid configuration:", 1)[1].strip() if "invalid configuration:" in msg else msg
    count = sum(int(e.get("count") or (e.get("series") or {}).get("count") or 1) for e in evs)
    ev = [f"Warning InvalidConfiguration ({count}x, last {_age(snap, event_time(last))} ago): {msg}"]
    return finding(
        code, obj,
        title=f"{obj['kind']} {md.get('namespace')}/{md['name']} was rejected by prometheus-operator: {what}",
        evidence=ev, params={"error": err[:200]},
    )


@check(codes=("PROMETHEUSRULE-REJECTED",), reads=("PrometheusRule",), speaks_for=("PrometheusRule",), depends_on=())
def rejected_rules(snap: Snapshot) -> Iterator[Finding]:
    for rule in snap.list("PrometheusRule"):
        f = _rejected_finding(snap, rule, "PROMETHEUSRULE-REJECTED", "its alerts are not loaded")
        if f:
            yield f


@check(
    codes=("SCRAPE-CONFIG-REJECTED",),
    reads=("ServiceMonitor",),
    speaks_for=("PodMonitor", "Probe", "ScrapeConfig", "ServiceMonitor"),
    depends_on=(),
)
def rejected_monitors(snap: Snapshot) -> Iterator[Finding]:
    for kind in _REJECT_KINDS:
        for obj in snap.list(kind):
            f = _rejected_finding(snap, obj, "SCRAPE-CONFIG-REJECTED", "its targets are not scraped")
            if f:
                yield f


# ---------------------------------------------------------------------------------------- selection


@check(
    codes=("PROMETHEUSRULE-NOT-SELECTED",),
    reads=("PrometheusRule", "Prometheus"),
    speaks_for=("PrometheusRule",),
    depends_on=(),
)
def unselected_rules(snap: Snapshot) -> Iterator[Finding]:
    proms = snap.list("Prometheus")
    if not proms:
        return
    for rule in snap.list("PrometheusRule"):
        if any(_selects(snap, p, "ruleSelector", "ruleNamespaceSelector", rule) for p in proms):
            continue
        md = rule["metadata"]
        add, ns_add = _label_fix(snap, proms, "ruleSelector", "ruleNamespaceSelector", rule)
        n_rules = sum(len(g.get("rules") or ()) for g in (rule.get("spec") or {}).get("groups") or ())
        yield finding(
            "PROMETHEUSRULE-NOT-SELECTED", rule,
            title=f"PrometheusRule {md.get('namespace')}/{md['name']} is not loaded by any Prometheus "
                  f"({n_rules} rule{'' if n_rules == 1 else 's'} never evaluated)",
            evidence=[f"labels: {_labels_text(rule)}",
                      *(_selector_text(p, "ruleSelector", "ruleNamespaceSelector") for p in proms),
                      *_scope_lines(snap)],
            params={"labels": add or "<label>=<value>", "ns_labels": ns_add or "<label>=<value>"},
        )


def _scope_lines(snap: Snapshot) -> list[str]:
    """A scoped sweep judges selection by the Prometheus objects it saw; say so."""
    if not snap.info.namespaces:
        return []
    return [f"only the Prometheus objects in the swept namespaces ({snap.info.scope_text()}) were compared"]


def _sm_namespaces(snap: Snapshot, sm: Obj, ignore_ns_selector: bool) -> list[str]:
    ns = sm["metadata"].get("namespace") or ""
    sel = (sm.get("spec") or {}).get("namespaceSelector") or {}
    if ignore_ns_selector:
        return [ns]
    if sel.get("any"):
        return snap.namespaces()
    if sel.get("matchNames"):
        return list(sel["matchNames"])
    return [ns]


def _near_miss(services: list[Obj], selector: Obj) -> str | None:
    """The Service whose labels come closest to the selector's matchLabels (a typo, a renamed label)."""
    want = selector.get("matchLabels") or {}
    if not want:
        return None
    best, score = None, 0.0
    for s in services:
        labels = s["metadata"].get("labels") or {}
        n = 0.0
        for k, v in want.items():
            have = labels.get(k)
            if have == v:
                n += 1
            elif have is not None:
                n += 0.75 if (v in have or have in v) else 0.25
        if n > score:
            best, score = s, n
    if best is None:
        return None
    md = best["metadata"]
    return f"closest Service: {md.get('namespace')}/{md['name']} with labels {_labels_text(best)}"


@check(
    codes=("SERVICEMONITOR-NOT-SELECTED", "SERVICEMONITOR-NO-SERVICES", "SERVICEMONITOR-PORT-MISSING"),
    reads=("ServiceMonitor", "Prometheus", "Service"),
    speaks_for=("ServiceMonitor",),
    depends_on=(),
)
def service_monitors(snap: Snapshot) -> Iterator[Finding]:
    proms = snap.list("Prometheus")
    sms = snap.list("ServiceMonitor")
    if not sms:
        return
    for sm in sms:
        md = sm["metadata"]
        ns, name = md.get("namespace") or "", md["name"]
        spec = sm.get("spec") or {}
        selecting = [p for p in proms if _selects(snap, p, "serviceMonitorSelector", "serviceMonitorNamespaceSelector", sm)]
        if proms and not selecting:
            add, ns_add = _label_fix(snap, proms, "serviceMonitorSelector", "serviceMonitorNamespaceSelector", sm)
            yield finding(
                "SERVICEMONITOR-NOT-SELECTED", sm,
                title=f"ServiceMonitor {ns}/{name} is not picked up by any Prometheus: its targets are never scraped",
                evidence=[f"labels: {_labels_text(sm)}; namespace {ns} labels: "
                          + ",".join(f"{k}={v}" for k, v in sorted(_ns_labels(snap, ns).items())),
                          *(_selector_text(p, "serviceMonitorSelector", "serviceMonitorNamespaceSelector") for p in proms),
                          *_scope_lines(snap)],
                params={"labels": add or "<label>=<value>", "ns_labels": ns_add or "<label>=<value>"},
            )
        ignore = bool(selecting) and all((p.get("spec") or {}).get("ignoreNamespaceSelectors") for p in selecting)
        namespaces = _sm_namespaces(snap, sm, ignore)
        selector = spec.get("selector")
        if selector is None:
            continue
        candidates = [s for n in namespaces for s in snap.list("Service", n)]
        services = [s for s in candidates if matches(selector, s["metadata"].get("labels"))]
        where = ", ".join(namespaces) if len(namespaces) <= 5 else f"{len(namespaces)} namespaces"
        unseen = [n for n in namespaces if not snap.sees(n)]
        if unseen:  # its Services may live where the sweep did not look: neither "none" nor "no port" holds
            snap.outside(unseen[0], f"Services selected by ServiceMonitor {ns}/{name} in {', '.join(unseen[:3])}"
                         + (f" and {len(unseen) - 3} more" if len(unseen) > 3 else ""))
            continue
        if not services:
            ev = [f"spec.selector {{{describe(selector) or 'all'}}} in namespace(s) {where} matches no Service"]
            hint = _near_miss(candidates, selector)
            if hint:
                ev.append(hint)
            yield finding(
                "SERVICEMONITOR-NO-SERVICES", sm,
                title=f"ServiceMonitor {ns}/{name} selects no Service: nothing is scraped",
                evidence=ev, params={"selector": describe(selector), "target_namespace": namespaces[0] if namespaces else ns},
            )
            continue
        have = {p.get("name") for s in services for p in (s.get("spec") or {}).get("ports") or () if p.get("name")}
        missing = [ep.get("port") for ep in spec.get("endpoints") or () if ep.get("port") and ep.get("port") not in have]
        if missing:
            svc_ports = "; ".join(
                f"{s['metadata']['name']}: " + ", ".join(f"{p.get('name') or '(unnamed)'}:{p.get('port')}"
                                                         for p in (s.get("spec") or {}).get("ports") or ())
                for s in services[:5]
            )
            yield finding(
                "SERVICEMONITOR-PORT-MISSING", sm,
                title=f"ServiceMonitor {ns}/{name} scrapes port {', '.join(map(repr, missing))}, which its Services do not name",
                evidence=[f"spec.endpoints[].port: {', '.join(missing)}", f"selected Service ports: {svc_ports}"],
                params={"port": missing[0], "service": services[0]["metadata"]["name"],
                        "service_namespace": services[0]["metadata"].get("namespace") or ns},
            )
