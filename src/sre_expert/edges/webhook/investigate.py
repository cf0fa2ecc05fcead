"""From an alert group and a diagnosis to a root cause: the pure heart of `serve`.

An alert names an object through its labels (the catalogue in knowledge/alerts.yaml says which labels,
in which order). The diagnosis already linked every finding to its causes; here we only pick the
findings that concern the alerted object, walk `caused_by` to the root and say it in one line. When no
finding concerns the object we say so, and list the root causes of its namespace as candidates instead
of pretending one of them is the cause.

No I/O: the caller passes the snapshot and its (cached) diagnosis; the result is JSON-ready and every
string in it is redacted.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sre_expert.core.model import Finding, Key
from sre_expert.core.snapshot import Snapshot
from sre_expert.diagnosis.engine import Report, filter_report
from sre_expert.knowledge.alert_catalogue import alert_rule

Obj = dict[str, Any]

# Labels that name an object when the alert is not in the catalogue, in order of preference.
# `instance` is handled apart: it is an address that may be a node's or a pod's.
GENERIC_SCOPE: tuple[tuple[str, str], ...] = (
    ("pod", "Pod"),
    ("persistentvolumeclaim", "PersistentVolumeClaim"),
    ("deployment", "Deployment"),
    ("statefulset", "StatefulSet"),
    ("daemonset", "DaemonSet"),
    ("job_name", "Job"),
    ("cronjob", "CronJob"),
    ("horizontalpodautoscaler", "HorizontalPodAutoscaler"),
    ("httproute", "HTTPRoute"),
    ("envoy_cluster_name", "HTTPRoute"),
    ("certificate", "Certificate"),
    ("externalsecret", "ExternalSecret"),
    ("service", "Service"),
    ("node", "Node"),
    ("persistentvolume", "PersistentVolume"),
)
CLUSTER_SCOPED = frozenset({"Node", "PersistentVolume", "Namespace", "ClusterIssuer", "ClusterSecretStore"})
ENVOY_ROUTE = re.compile(r"^httproute/(?P<ns>[^/]+)/(?P<name>[^/]+)(?:/rule/\d+.*)?$")
MAX_CANDIDATES = 5
MAX_OBJECTS = 50  # distinct objects of one alert group that are looked at (a group can hold thousands)


@dataclass(frozen=True, slots=True)
class Scope:
    """The object an alert is about. `found` says whether the snapshot has it."""

    namespace: str | None
    kind: str | None
    name: str | None
    found: bool = False
    label: str | None = None  # the alert label it came from

    @property
    def key(self) -> Key | None:
        if not self.kind or not self.name:
            return None
        return (self.kind, "" if self.kind in CLUSTER_SCOPED else (self.namespace or ""), self.name)

    def display(self) -> str:
        if not self.kind:
            return f"namespace {self.namespace}" if self.namespace else "the cluster"
        ns = f"{self.namespace}/" if self.namespace and self.kind not in CLUSTER_SCOPED else ""
        return f"{self.kind} {ns}{self.name}"

    def to_json(self) -> dict[str, str | None]:
        return {"namespace": self.namespace, "kind": self.kind, "name": self.name}


# ---------------------------------------------------------------------------------------------- scope


def alert_scope(alertname: str | None, labels: Mapping[str, str], snap: Snapshot) -> Scope:
    """The object the alert's labels name: the catalogue's scope labels first, then common label names."""
    namespace = labels.get("namespace") or labels.get("exported_namespace") or None
    rule = alert_rule(alertname) if alertname else None
    order: Sequence[tuple[str, str]] = (
        [(s.label, s.kind) for s in rule.scope] if rule is not None and rule.scope else GENERIC_SCOPE
    )
    for label, kind in order:
        value = labels.get(label)
        if value:
            scope = _resolve(kind, value, namespace, snap, label)
            if scope is not None:
                return scope
    if rule is None and labels.get("instance"):
        scope = _by_address(labels["instance"], namespace, snap)
        if scope is not None:
            return scope
    return Scope(namespace, None, None, found=bool(namespace and snap.get("Namespace", None, namespace)))


def _resolve(kind: str, value: str, namespace: str | None, snap: Snapshot, label: str) -> Scope | None:
    if kind == "Node":
        return _node(value, snap, label)
    if kind == "HTTPRoute":
        m = ENVOY_ROUTE.match(value)
        if m:
            namespace, value = m["ns"], m["name"]
        elif "/" in value:  # an Envoy cluster that is not a route (e.g. a backend cluster): no object
            return None
    ns = None if kind in CLUSTER_SCOPED else namespace
    found = snap.get(kind, ns, value) is not None
    return Scope(namespace if kind not in CLUSTER_SCOPED else None, kind, value, found, label)


def _host(address: str) -> str:
    """'10.0.1.12:9100' → '10.0.1.12'; '[fd00::1]:9100' → 'fd00::1'; a name stays a name."""
    a = address.strip()
    if a.startswith("["):
        return a[1:].split("]", 1)[0]
    if a.count(":") == 1:
        return a.split(":", 1)[0]
    return a


def _node(value: str, snap: Snapshot, label: str) -> Scope:
    """A node by name, by one of its addresses (InternalIP, Hostname...), or by a short name."""
    host = _host(value)
    if snap.get("Node", None, host) is not None:
        return Scope(None, "Node", host, True, label)
    for node in snap.list("Node"):
        name = node["metadata"]["name"]
        addresses = {a.get("address") for a in (node.get("status") or {}).get("addresses") or ()}
        if host in addresses or name.split(".", 1)[0] == host.split(".", 1)[0]:
            return Scope(None, "Node", name, True, label)
    return Scope(None, "Node", host, False, label)


def _by_address(value: str, namespace: str | None, snap: Snapshot) -> Scope | None:
    host = _host(value)
    node = _node(value, snap, "instance")
    if node.found:
        return node
    for pod in snap.list("Pod", namespace) if namespace else snap.list("Pod"):
        st = pod.get("status") or {}
        ips = {st.get("podIP")} | {p.get("ip") for p in st.get("podIPs") or ()}
        if host in ips and not (pod.get("spec") or {}).get("hostNetwork"):
            md = pod["metadata"]
            return Scope(md.get("namespace"), "Pod", md["name"], True, "instance")
    return None


def related_keys(scope: Scope, snap: Snapshot) -> list[Key]:
    """Keys whose findings speak about the alerted object: itself first, then what it is made of or
    stands for (a pod's controllers, a Service's pods, a route's backends, a Certificate's Secret...)."""
    key = scope.key
    if key is None:
        return []
    out: list[Key] = [key]
    obj = snap.get(scope.kind or "", None if scope.kind in CLUSTER_SCOPED else scope.namespace, scope.name or "")
    if obj is None:
        return out
    kind, ns = key[0], key[1]
    spec = obj.get("spec") or {}

    def add(k: Key) -> None:
        if k not in out:
            out.append(k)

    def add_obj(o: Obj) -> None:
        md = o.get("metadata") or {}
        add((o.get("kind") or "", md.get("namespace") or "", md.get("name") or ""))

    if kind == "Pod":
        seen: Obj | None = obj
        for _ in range(4):  # Pod → ReplicaSet → Deployment (→ an operator's resource)
            seen = snap.controller_of(seen) if seen is not None else None
            if seen is None:
                break
            add_obj(seen)
    elif kind == "Service":
        for pod in snap.service_pods(obj):
            add_obj(pod)
            add_obj(snap.top_controller(pod))
    elif kind in ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"):
        for pod in snap.pods_of(obj):
            add_obj(pod)
    elif kind == "HTTPRoute":
        for rule in spec.get("rules") or ():
            for ref in rule.get("backendRefs") or ():
                if (ref.get("kind") or "Service") == "Service" and ref.get("name"):
                    add(("Service", ref.get("namespace") or ns, ref["name"]))
    elif kind == "Certificate":
        if spec.get("secretName"):
            add(("Secret", ns, spec["secretName"]))
    elif kind == "PersistentVolumeClaim":
        if spec.get("volumeName"):
            add(("PersistentVolume", "", spec["volumeName"]))
    return out


# ------------------------------------------------------------------------------------------- findings


def concerning(report: Report, keys: Sequence[Key], component: str | None = None) -> list[Finding]:
    """Findings that name one of `keys` (as their object or a subject), most direct first: about the
    object itself before its relatives, the alert's component first, then the report's rank."""
    if not keys:
        return []
    tier = {k: i for i, k in enumerate(keys)}
    hits: list[tuple[int, int, int, int, Finding]] = []
    for pos, f in enumerate(report.findings):
        ts = [tier[k] for k in (f.object.key, *f.subjects) if k in tier]
        if ts:
            t = min(ts)
            own = 0 if f.object.key == keys[t] else 1  # a finding about the object beats one that lists it
            hits.append((t, own, 0 if component is None or f.component == component else 1, pos, f))
    hits.sort(key=lambda h: h[:4])
    return [h[4] for h in hits]


def chain_to_root(finding: Finding, report: Report) -> list[Finding]:
    """[root, ..., finding]: follow `caused_by`, taking the best-ranked cause at each step."""
    by_id = {f.id: f for f in report.findings}
    pos = {f.id: i for i, f in enumerate(report.findings)}
    path = [finding]
    seen = {finding.id}
    cur = finding
    while cur.caused_by:
        causes = [c for c in cur.caused_by if c in by_id and c not in seen]
        if not causes:
            break
        cur = by_id[min(causes, key=lambda c: pos[c])]
        seen.add(cur.id)
        path.append(cur)
    path.reverse()
    return path


def _closure(findings: Iterable[Finding], report: Report) -> set[str]:
    by_id = {f.id: f for f in report.findings}
    keep: set[str] = set()
    stack = [f.id for f in findings]
    while stack:
        fid = stack.pop()
        if fid in keep or fid not in by_id:
            continue
        keep.add(fid)
        stack.extend(by_id[fid].caused_by)
    return keep


def scoped_report(report: Report, namespace: str | None, findings: Iterable[Finding]) -> Report:
    """The namespace's findings plus the given ones, with every cause that explains them."""
    keep = _closure(findings, report)
    if namespace:
        keep |= {f.id for f in filter_report(report, [namespace]).findings}
    kept = [f for f in report.findings if f.id in keep]
    return Report(report.info, kept, report.not_checked, hidden=len(report.findings) - len(kept))


# ---------------------------------------------------------------------------------------------- record


_DOCS: dict[int, tuple[Report, dict[str, Any]]] = {}
_DOCS_KEEP = 4
_DOCS_LOCK = threading.Lock()


def _full_doc(report: Report) -> dict[str, Any]:
    """report_dict of the whole report, memoised per Report object: redaction is ~90% of an
    investigation's cost, and a burst of alerts shares one diagnosis. Workers run investigations in
    threads: the memo is read and written under a lock (a burst waits for the one document being built
    instead of building it four times, and eviction never iterates a dict another thread is growing)."""
    from sre_expert.render.json_report import report_dict

    with _DOCS_LOCK:
        hit = _DOCS.get(id(report))
        if hit is not None and hit[0] is report:
            return hit[1]
        doc = report_dict(report)
        while len(_DOCS) >= _DOCS_KEEP:
            _DOCS.pop(next(iter(_DOCS)))
        _DOCS[id(report)] = (report, doc)  # the strong reference keeps id() from being reused meanwhile
        return doc


def _report_json(scoped: Report, full: Report) -> dict[str, Any]:
    """The findings JSON document of `scoped` (a subset of `full`), from the memoised full document."""
    doc = _full_doc(full)
    keep = {f.id for f in scoped.findings}
    return {**doc, "findings": [f for f in doc["findings"] if f["id"] in keep], "summary": scoped.summary()}


def _red(text: str) -> str:
    from sre_expert.safety.redact import redact

    return redact(text)


def _runbook(runbook_id: str | None) -> dict[str, str] | None:
    if not runbook_id:
        return None
    from sre_expert.runbooks.library import load_runbooks

    rb = load_runbooks().get(runbook_id)
    return {"id": runbook_id, "title": rb.title if rb else runbook_id}


def _describe(f: Finding) -> str:
    return f"{f.code} on {f.object.display()}"


def _not_checked_note(report: Report) -> str:
    n = len(report.not_checked)
    return f"; {n} check{'s' if n != 1 else ''} could not run (see report.notChecked)" if n else ""


def investigate_alerts(
    alertname: str | None,
    common_labels: Mapping[str, str],
    alerts: Sequence[Mapping[str, Any]],
    snap: Snapshot,
    report: Report,
) -> dict[str, Any]:
    """The investigation fields of one alert group: scope, runbook, component, summary, rootCause,
    chain (root → symptom), candidates (when no finding names the object), trace, scoped report, and
    `objects` (each alerted object with its root cause) when the group names several objects."""
    rule = alert_rule(alertname) if alertname else None
    component = rule.component if rule else None
    firing = [a for a in alerts if a.get("status", "firing") == "firing"] or list(alerts)
    # Each alert names its object with its own labels over the group's common ones; a group (say, every
    # crash-looping pod of a namespace) may name several objects.
    label_sets = [{**common_labels, **(a.get("labels") or {})} for a in firing] or [dict(common_labels)]
    objects: dict[Scope, int] = {}
    for labels in label_sets:
        sc = alert_scope(alertname, labels, snap)
        objects[sc] = objects.get(sc, 0) + 1
    looks = [_look(sc, n, snap, report, component) for sc, n in list(objects.items())[:MAX_OBJECTS]]
    primary = _primary(looks, report)
    scope, chain, about, trace_json = primary.scope, primary.chain, primary.about, primary.trace
    candidates: list[Finding] = [] if chain else _namespace_roots(report, scope.namespace)
    everything = [f for lk in looks for f in lk.about] + candidates
    scoped = scoped_report(report, scope.namespace, everything)
    doc = _report_json(scoped, report)
    by_id = {f["id"]: f for f in doc["findings"]}

    summary = _summary(scope, chain, candidates, about, report)
    if len(objects) > 1:
        shared = sum(lk.alerts for lk in looks if chain and lk.chain and lk.chain[0].id == chain[0].id)
        summary += (f" ({shared} of {len(label_sets)} alerts, on {len(objects)} objects, share this root cause)"
                    if chain else f" ({len(label_sets)} alerts on {len(objects)} objects; none has a finding)")
    runbook_id = rule.runbook if rule else (chain[0].runbook or chain[-1].runbook if chain else None)
    out: dict[str, Any] = {
        "scope": scope.to_json(),
        "runbook": _runbook(runbook_id),
        "component": component or (chain[-1].component if chain else None),
        "rootCause": by_id.get(chain[0].id) if chain else None,
        "chain": [by_id[f.id] for f in chain if f.id in by_id],
        "candidates": [by_id[f.id] for f in candidates if f.id in by_id],
        "summary": _red(summary),
        "report": doc,
    }
    if len(objects) > 1:
        out["objects"] = [{"scope": lk.scope.to_json(), "alerts": lk.alerts,
                           "rootCause": lk.chain[0].id if lk.chain else None} for lk in looks]
    if trace_json is not None:
        out["trace"] = trace_json
    return out


@dataclass(slots=True)
class _Look:
    """What the findings say about one alerted object."""

    scope: Scope
    alerts: int
    about: list[Finding]
    chain: list[Finding]
    trace: dict[str, Any] | None


def _look(scope: Scope, alerts: int, snap: Snapshot, report: Report, component: str | None) -> _Look:
    keys = related_keys(scope, snap)
    trace_json = None
    if scope.found and scope.kind in ("HTTPRoute", "Service"):
        trace_json, broken_key = _trace(snap, scope)
        if broken_key is not None and broken_key not in keys:
            keys.append(broken_key)
    about = concerning(report, keys, component)
    return _Look(scope, alerts, about, chain_to_root(about[0], report) if about else [], trace_json)


def _primary(looks: list[_Look], report: Report) -> _Look:
    """The object to lead with: the one whose root cause explains the most alerts of the group (then
    the better-ranked root); with no root cause at all, the first alerted object."""
    pos = {f.id: i for i, f in enumerate(report.findings)}
    weight: dict[str, int] = {}
    for lk in looks:
        if lk.chain:
            weight[lk.chain[0].id] = weight.get(lk.chain[0].id, 0) + lk.alerts
    if not weight:
        return looks[0]
    best = min(weight, key=lambda rid: (-weight[rid], pos.get(rid, 0)))
    return next(lk for lk in looks if lk.chain and lk.chain[0].id == best)


def _namespace_roots(report: Report, namespace: str | None) -> list[Finding]:
    roots = [f for f in report.findings if f.root_cause]
    if namespace:
        roots = [f for f in roots if f.object.namespace == namespace]
    return roots[:MAX_CANDIDATES]


def _summary(scope: Scope, chain: list[Finding], candidates: list[Finding], about: list[Finding],
             report: Report) -> str:
    if chain:
        root, symptom = chain[0], chain[-1]
        line = f"root cause: {root.title} ({_describe(root)})"
        if len(chain) > 1:
            line += " → " + " → ".join(f.code for f in chain[1:]) + f" on {symptom.object.display()}"
        others = {chain_to_root(f, report)[0].id for f in about[1:]} - {root.id}
        if others:
            many = len(others) != 1
            line += (f"; {len(others)} other root cause{'s' if many else ''} also "
                     f"concern{'' if many else 's'} {scope.display()}")
        return line
    captured = report.info.captured_at.isoformat().replace("+00:00", "Z")
    if scope.kind is None:
        head = (f"the alert names no object in namespace {scope.namespace}" if scope.namespace
                else "the alert names no namespace or object")
    elif not scope.found:
        head = f"{scope.display()} is not in the snapshot captured at {captured}"
    else:
        head = f"no finding names {scope.display()}"
    where = f"namespace {scope.namespace}" if scope.namespace else "the cluster"
    if candidates:
        listed = ", ".join(_describe(f) for f in candidates)
        return f"{head}; root causes in {where}: {listed}" + _not_checked_note(report)
    return f"{head}; {where} has no root cause either (snapshot captured at {captured})" + _not_checked_note(report)


def _trace(snap: Snapshot, scope: Scope) -> tuple[dict[str, Any] | None, Key | None]:
    """The outside-in trace of a route or Service (redacted), and the key of its broken hop's object."""
    from sre_expert.diagnosis.trace import trace
    from sre_expert.render.trace_view import trace_dict
    from sre_expert.safety.redact import redact_obj

    prefix = "route" if scope.kind == "HTTPRoute" else "svc"
    result = trace(snap, f"{prefix}/{scope.namespace}/{scope.name}")
    if not result.resolved:
        return None, None
    hop = result.broken_hop
    broken = hop.object.key if hop is not None and hop.object is not None else None
    return redact_obj(trace_dict(snap, result)), broken


def investigate_check(namespace: str | None, component: str | None, snap: Snapshot, report: Report) -> dict[str, Any]:
    """A manual check of a namespace and/or component: its root causes, the first one as rootCause."""
    filtered = filter_report(report, [namespace] if namespace else (), [component] if component else ())
    selected = [f for f in filtered.findings
                if (not namespace or f.object.namespace == namespace) and (not component or f.component == component)]
    roots = [f for f in filtered.findings if f.root_cause]
    chain = chain_to_root(selected[0], filtered) if selected else []
    if chain and roots and chain[0].id != roots[0].id:
        chain = [roots[0]]  # the worst root of the scope leads; the chain above was for another finding
    doc = _report_json(filtered, report)
    by_id = {f["id"]: f for f in doc["findings"]}
    what = " ".join(p for p in (f"namespace {namespace}" if namespace else "",
                                 f"component {component}" if component else "") if p) or "the cluster"
    if roots:
        s = doc["summary"]
        summary = (f"{len(roots)} root cause{'s' if len(roots) != 1 else ''} for {what} "
                   f"({s['critical']} critical, {s['warning']} warning findings); first: {roots[0].title} "
                   f"({_describe(roots[0])})")
    else:
        summary = f"no finding for {what}" + _not_checked_note(report)
    return {
        "scope": {"namespace": namespace, "kind": None, "name": None},
        "runbook": _runbook(roots[0].runbook if roots else None),
        "component": component,
        "rootCause": by_id.get(chain[0].id) if chain else None,
        "chain": [by_id[f.id] for f in chain if f.id in by_id],
        "candidates": [by_id[f.id] for f in roots[1:MAX_CANDIDATES + 1] if f.id in by_id],
        "summary": _red(summary),
        "report": doc,
    }
