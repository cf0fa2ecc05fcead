"""Kyverno (admission policies, policy reports) and Falco (runtime security) — component `policy`.

Keyed on what the projects write in their status and reports:
- ClusterPolicy/Policy `status.conditions[]` type Ready (True/Succeeded, False/Failed) and the
  deprecated boolean `status.ready`; `spec.validationFailureAction` Audit | Enforce.
- PolicyReport / ClusterPolicyReport `results[]` (result pass|fail|warn|error|skip); Kyverno 1.12 writes
  one report per resource and names the resource in `scope`, older versions in `results[].resources`.
- Admission denials as the controllers record them: FailedCreate events whose message carries
  `admission webhook "validate.kyverno.svc-fail" denied the request: ... resource Kind/ns/name was
  blocked due to the following policies` followed by a YAML map policy → rule → message; and
  `failed calling webhook "...kyverno..."` when the Kyverno webhook itself cannot be reached.
- Falco: the DaemonSet's `desiredNumberScheduled` / `numberReady` and its pods' readiness, and the
  alerts in the falco container log: JSON lines (`time`, `rule`, `priority`, `output`, `output_fields`)
  when `json_output: true`, else the default text lines "<time>: <Priority> <output>".

Linking: a denial finding speaks for the ReplicaSets/StatefulSets/DaemonSets/Jobs it blocks and their
Deployments, so the workload FailedCreate findings (which depend on the ClusterPolicy) are its symptoms;
an unreachable webhook depends on the admission controller and its pods; a Falco coverage gap depends on
the falco pods and nodes that are not ready. Only the rule, priority, pod, namespace, node and a masked,
shortened command line of an alert are ever printed.
"""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

import orjson
import yaml

from sre_expert.checks.registry import check, finding
from sre_expert.core.k8s import condition, pod_ready
from sre_expert.core.model import TOP_CONTROLLER_KINDS, Finding, Key, ObjectRef, key_of
from sre_expert.core.selectors import matches, matches_map
from sre_expert.core.snapshot import Snapshot, event_time
from sre_expert.core.timeutil import human, parse_time
from sre_expert.core.wording import quote, shorten

Obj = dict[str, Any]

DENIED = re.compile(r'admission webhook "((?:validate|mutate)\.kyverno\.svc[^"]*)" denied the request')
BLOCKED = re.compile(r"resource (\S+?) was blocked due to the following policies:?", re.S)
WEBHOOK_FAILED = re.compile(r'failed calling webhook "([^"]*kyverno[^"]*)"')
WEBHOOK_URL = re.compile(r"https://([a-z0-9-]+)\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?(?::\d+)?(/[^\s\"?]*)?")
NO_ENDPOINTS_SVC = re.compile(r'for service "([a-z0-9-]+)"')
FAIL_RESULTS = ("fail", "error")
HIGH_SEVERITIES = ("critical", "high")
FALCO_PRIORITIES = {"emergency": 0, "alert": 1, "critical": 2, "error": 3, "warning": 4}
FALCO_WINDOW = timedelta(hours=24)
EVENT_FRESH = timedelta(hours=1)
"""Older FailedCreate events are history (the API server's default event TTL is one hour)."""
MAX_LISTED = 8


# ---------------------------------------------------------------------------------------- shared helpers


def _image_repo_name(image: str) -> str:
    return image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]


def _containers(obj: Obj) -> list[Obj]:
    return (((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []


def kyverno_admission_controllers(snap: Snapshot) -> list[Obj]:
    """Deployments running the Kyverno admission controller (image .../kyverno/kyverno:TAG)."""
    out = []
    for d in snap.list("Deployment"):
        for c in _containers(d):
            img = (c.get("image") or "").split("@", 1)[0]
            repo = img.rsplit(":", 1)[0] if ":" in img.rsplit("/", 1)[-1] else img
            if repo.endswith("kyverno/kyverno"):
                out.append(d)
                break
    return out


def effective_action(policy: Obj | None, namespace: str | None) -> str:
    """Audit or Enforce for a resource in `namespace`, honouring validationFailureActionOverrides."""
    if policy is None:
        return "unknown"
    spec = policy.get("spec") or {}
    action = str(spec.get("validationFailureAction") or "Audit")
    if namespace:
        for o in spec.get("validationFailureActionOverrides") or ():
            if any(fnmatch.fnmatchcase(namespace, pat) for pat in o.get("namespaces") or ()):
                action = str(o.get("action") or action)
                break
    return action.capitalize()


def _policy_object(snap: Snapshot, ref: str) -> tuple[Obj | None, ObjectRef]:
    """A report's or denial's policy reference ("name" or "ns/name") → object and its ref."""
    if "/" in ref:
        ns, name = ref.split("/", 1)
        obj = snap.get("Policy", ns, name)
        return obj, ObjectRef.of(obj) if obj else ObjectRef("kyverno.io/v1", "Policy", ns, name)
    obj = snap.get("ClusterPolicy", None, ref)
    return obj, ObjectRef.of(obj) if obj else ObjectRef("kyverno.io/v1", "ClusterPolicy", None, ref)


def _action_text(policy: Obj | None) -> str:
    if policy is None:
        return "policy not in the snapshot"
    spec = policy.get("spec") or {}
    parts = [f"spec.validationFailureAction={spec.get('validationFailureAction') or 'Audit (default)'}"]
    if spec.get("validationFailureActionOverrides"):
        parts.append("with per-namespace overrides")
    if spec.get("failurePolicy"):
        parts.append(f"failurePolicy={spec['failurePolicy']}")
    return ", ".join(parts)


def _display(kind: str, ns: str | None, name: str) -> str:
    return f"{kind} {ns}/{name}" if ns else f"{kind} {name}"


def _listing(items: list[str], limit: int = MAX_LISTED) -> list[str]:
    out = items[:limit]
    if len(items) > limit:
        out.append(f"… and {len(items) - limit} more")
    return out


# ---------------------------------------------------------------------------------------- ClusterPolicy readiness


def _policy_not_ready(policy: Obj) -> list[str] | None:
    """Evidence when the policy is not ready, else None. Conditions win over the deprecated bool."""
    st = policy.get("status")
    if not st:
        return None
    c = condition(policy, "Ready")
    if c is not None:
        if c.get("status") == "True":
            return None
        ev = [f"condition Ready={c.get('status')} reason={c.get('reason') or '-'}: {c.get('message') or ''}".rstrip(": ")]
        if "ready" in st:
            ev.append(f"status.ready={str(st['ready']).lower()}")
        return ev
    if st.get("ready") is False:
        return ["status.ready=false (no Ready condition)"]
    return None


@check(
    codes=("KYVERNO-POLICY-NOT-READY",),
    reads=("ClusterPolicy",),
    speaks_for=("ClusterPolicy", "Policy"),
    depends_on=("Deployment",),
)
def policies_not_ready(snap: Snapshot) -> Iterator[Finding]:
    admission = [key_of(d) for d in kyverno_admission_controllers(snap)]
    for kind in ("ClusterPolicy", "Policy"):
        for pol in snap.list(kind):
            ev = _policy_not_ready(pol)
            if ev is None:
                continue
            md = pol["metadata"]
            spec = pol.get("spec") or {}
            action = str(spec.get("validationFailureAction") or "Audit").capitalize()
            rules = [r.get("name") for r in spec.get("rules") or () if r.get("name")]
            ev.append(_action_text(pol))
            if rules:
                ev.append("rules: " + ", ".join(rules[:10]))
            gen, c = md.get("generation"), condition(pol, "Ready")
            if c and gen is not None and c.get("observedGeneration") is not None and c["observedGeneration"] < gen:
                ev.append(f"Ready observedGeneration={c['observedGeneration']} < metadata.generation={gen}")
            shown = f"{md['namespace']}/{md['name']}" if md.get("namespace") else md["name"]
            yield finding(
                "KYVERNO-POLICY-NOT-READY", pol,
                title=f"Kyverno {kind} {shown} is not ready: "
                      + ("its rules are not enforced" if action == "Enforce" else "its rules are not applied"),
                evidence=ev,
                params={"kyverno_namespace": admission[0][1] if admission else "kyverno",
                        "admission": admission[0][2] if admission else "kyverno-admission-controller",
                        "kind_lower": kind.lower(), "ns_flag": f"-n {md['namespace']} " if md.get("namespace") else ""},
                depends_on=admission,
            )


# ---------------------------------------------------------------------------------------- Policy reports


def _report_resources(report: Obj, result: Obj) -> list[tuple[str, str, str]]:
    res = result.get("resources") or ()
    if res:
        return [(r.get("kind") or "?", r.get("namespace") or "", r.get("name") or "?") for r in res]
    scope = report.get("scope") or {}
    if scope.get("name"):
        return [(scope.get("kind") or "?", scope.get("namespace") or "", scope["name"])]
    return []


@check(
    codes=("KYVERNO-POLICY-VIOLATIONS", "KYVERNO-POLICY-ERRORS"),
    reads=("PolicyReport",),
    speaks_for=("ClusterPolicy", "Policy"),
    depends_on=(),
)
def policy_reports(snap: Snapshot) -> Iterator[Finding]:
    # policy → result kind → resource → [(rule, message, severity)]
    grouped: dict[str, dict[str, dict[tuple[str, str, str], list[tuple[str, str, str]]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list)))
    kinds = ["PolicyReport"] + (["ClusterPolicyReport"] if snap.collected("ClusterPolicyReport") else [])
    for kind in kinds:
        for rep in snap.list(kind):
            for r in rep.get("results") or ():
                outcome = r.get("result")
                if outcome not in FAIL_RESULTS or not r.get("policy"):
                    continue
                src = r.get("source")
                if src and src != "kyverno":
                    continue
                for res in _report_resources(rep, r):
                    grouped[r["policy"]][outcome][res].append(
                        (r.get("rule") or "?", (r.get("message") or "").strip(), (r.get("severity") or "").lower()))
    for pname in sorted(grouped):
        pol, ref = _policy_object(snap, pname)
        for outcome, code in (("fail", "KYVERNO-POLICY-VIOLATIONS"), ("error", "KYVERNO-POLICY-ERRORS")):
            by_res = grouped[pname].get(outcome)
            if not by_res:
                continue
            actions = {effective_action(pol, ns) for (_, ns, _) in by_res}
            enforce = "Enforce" in actions
            sevs = {s for items in by_res.values() for (_, _, s) in items}
            ev = [_action_text(pol) + (f" (effective here: {', '.join(sorted(actions))})" if len(actions) > 1 else "")]
            lines = []
            for (rk, rns, rname), items in sorted(by_res.items()):
                rules = "; ".join(
                    f"rule {rule}: {quote(msg)}" if msg else f"rule {rule}" for rule, msg, _ in items[:3])
                lines.append(f"{_display(rk, rns, rname)}: {rules}")
            ev.extend(_listing(lines))
            namespaces = sorted({ns for (_, ns, _) in by_res if ns})
            if outcome == "error":
                severity = "warning"
                title = (f"Kyverno policy {pname} cannot be evaluated against {len(by_res)} resource(s) "
                         f"(result=error): they are not checked")
            else:
                severity = "warning" if enforce or sevs & set(HIGH_SEVERITIES) else "info"
                mode = "Enforce" if enforce else "Audit"
                title = (f"{len(by_res)} resource(s) violate Kyverno policy {pname} ({mode} mode"
                         + (", admitted before the policy or exempt" if enforce else ", reported only") + ")")
            yield finding(
                code, ref, title=title, evidence=ev, severity=severity,
                params={"policy": ref.name, "report_namespace": namespaces[0] if namespaces else "default",
                        "kind_lower": ref.kind.lower(), "ns_flag": f"-n {ref.namespace} " if ref.namespace else ""},
            )


# ---------------------------------------------------------------------------------------- Admission denials


_POLICY_LINE = re.compile(r"^([A-Za-z0-9][\w.-]*(?:/[A-Za-z0-9][\w.-]*)?):\s*$")
_RULE_LINE = re.compile(r"^\s+([A-Za-z0-9][\w.-]*):\s*(.*)$")


def _unquote(text: str) -> str:
    t = " ".join(text.split())
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"":
        t = t[1:-1]
    return t.replace("''", "'")


def _denial_lines(tail: str) -> dict[str, dict[str, str]]:
    """Line-wise reading of the policy → rule → message block, for text that is not valid YAML."""
    out: dict[str, dict[str, str]] = {}
    policy, rule = None, None
    for line in tail.splitlines():
        if not line.strip():
            continue
        m = _POLICY_LINE.match(line)
        if m:
            policy, rule = m.group(1), None
            out[policy] = {}
            continue
        r = _RULE_LINE.match(line)
        if policy and r and (rule is None or len(line) - len(line.lstrip()) <= 2):
            rule = r.group(1)
            out[policy][rule] = r.group(2)
        elif policy and rule:
            out[policy][rule] += " " + line.strip()
    return {p: {r: _unquote(m) for r, m in rules.items()} for p, rules in out.items()}


def parse_kyverno_denial(message: str, known_policies: Iterable[str] = ()) -> tuple[str | None, dict[str, dict[str, str]]]:
    """Kyverno's denial text → (blocked resource "Kind/ns/name" or None, {policy: {rule: message}}).

    The part after "was blocked due to the following policies" is YAML (policy → rule → message); text
    that is not valid YAML is read line by line, and when a tool flattened it onto one line, the known
    policy names found in it are returned with empty rule maps.
    """
    d = DENIED.search(message)
    if not d:
        return None, {}
    m = BLOCKED.search(message)
    resource = m.group(1) if m else None
    tail = message[m.end():] if m else message[d.end():]
    out: dict[str, dict[str, str]] = {}
    try:
        doc = yaml.load(tail, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        doc = None
    if isinstance(doc, dict):
        for pol, rules in doc.items():
            if isinstance(pol, str):
                out[pol] = ({str(k): " ".join(str(v).split()) for k, v in rules.items()}
                            if isinstance(rules, dict) else {})
    if not out:
        out = _denial_lines(tail)
    if not out:
        for pol in known_policies:
            if re.search(rf"(?<![\w.-]){re.escape(pol)}:", tail):
                out[pol] = {}
    return resource, out


def _short_of_pods(obj: Obj) -> bool:
    """The workload that logged FailedCreate still lacks pods (the event is not history)."""
    kind, spec, st = obj.get("kind"), obj.get("spec") or {}, obj.get("status") or {}
    if kind in ("ReplicaSet", "StatefulSet"):
        want = spec.get("replicas", 1)
        return int(st.get("replicas") or 0) < int(want if want is not None else 1)
    if kind == "DaemonSet":
        return int(st.get("currentNumberScheduled") or 0) < int(st.get("desiredNumberScheduled") or 0)
    if kind == "Job":
        done = any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True" for c in st.get("conditions") or ())
        return not done and not st.get("active")
    return True


def _availability(obj: Obj) -> tuple[int, int]:
    """(available, desired) of the workload a user cares about (Deployment, StatefulSet, ...)."""
    kind, spec, st = obj.get("kind"), obj.get("spec") or {}, obj.get("status") or {}
    if kind == "DaemonSet":
        return int(st.get("numberAvailable") or 0), int(st.get("desiredNumberScheduled") or 0)
    if kind == "Job":
        return int(st.get("active") or 0) + int(st.get("succeeded") or 0), int(spec.get("parallelism") or 1)
    want = spec.get("replicas", 1)
    want = int(want if want is not None else 1)
    if kind == "StatefulSet" and "availableReplicas" not in st:
        return int(st.get("readyReplicas") or 0), want
    return int(st.get("availableReplicas") or 0), want


class _Blocked:
    __slots__ = ("subject", "top", "events", "count", "last", "rules")

    def __init__(self, subject: Obj, top: Obj) -> None:
        self.subject, self.top = subject, top
        self.events: list[Obj] = []
        self.count = 0
        self.last: datetime | None = None
        self.rules: dict[str, str] = {}

    def add(self, ev: Obj) -> None:
        self.events.append(ev)
        self.count += int(ev.get("count") or (ev.get("series") or {}).get("count") or 1)
        t = event_time(ev)
        if t and (self.last is None or t > self.last):
            self.last = t

    def keys(self) -> list[Key]:
        ks = [key_of(self.subject)]
        if self.top is not self.subject:
            ks.append(key_of(self.top))
        return ks

    def label(self, snap: Snapshot) -> str:
        s = self.subject["metadata"]
        text = _display(self.subject["kind"], s.get("namespace"), s["name"])
        if self.top is not self.subject:
            t = self.top["metadata"]
            text += f" of {_display(self.top['kind'], t.get('namespace'), t['name'])}"
        avail, want = _availability(self.top)
        ago = human(snap.now - self.last) if self.last else "?"
        return f"{text} ({avail}/{want} available): FailedCreate x{self.count}, last {ago} ago"


def _blocked_workload_severity(blocked: Iterable[_Blocked]) -> str:
    for b in blocked:
        avail, want = _availability(b.top)
        if want > 0 and avail == 0:
            return "critical"
    return "warning"


def _failed_create_events(snap: Snapshot) -> Iterator[tuple[Obj, Obj, Obj]]:
    """(event, workload that logged it, its top controller) for current FailedCreate warnings."""
    for ev in snap.list("Event"):
        if ev.get("reason") != "FailedCreate" or ev.get("type") != "Warning":
            continue
        msg = ev.get("message") or ev.get("note") or ""
        if "kyverno" not in msg:
            continue
        when = event_time(ev)
        if when is not None and snap.now - when > EVENT_FRESH:
            continue
        subj = ev.get("involvedObject") or ev.get("regarding") or {}
        obj = snap.get(subj.get("kind") or "", subj.get("namespace"), subj.get("name") or "")
        if obj is None or not _short_of_pods(obj):
            continue
        yield ev, obj, snap.top_controller(obj)


@check(
    codes=("KYVERNO-ADMISSION-DENIED", "KYVERNO-WEBHOOK-UNAVAILABLE"),
    reads=("Event",),
    speaks_for=("ClusterPolicy", *TOP_CONTROLLER_KINDS, "Service"),
    depends_on=(*TOP_CONTROLLER_KINDS, "Pod", "Service"),
)
def admission_denials(snap: Snapshot) -> Iterator[Finding]:
    known = [p["metadata"]["name"] for p in snap.list("ClusterPolicy")]
    denied: dict[str, dict[Key, _Blocked]] = defaultdict(dict)
    unreachable: dict[tuple[str, str, str], dict[Key, _Blocked]] = defaultdict(dict)
    samples: dict[Any, str] = {}
    for event, obj, top in _failed_create_events(snap):
        msg = event.get("message") or event.get("note") or ""
        k = key_of(obj)
        _, policies = parse_kyverno_denial(msg, known)
        for denying, rules_hit in policies.items():
            b = denied[denying].setdefault(k, _Blocked(obj, top))
            b.add(event)
            b.rules.update(rules_hit)
        if policies:
            continue
        m = WEBHOOK_FAILED.search(msg)
        if not m:
            continue
        u = WEBHOOK_URL.search(msg)
        if u:
            svc, ns = u.group(1), u.group(2)
        else:
            s = NO_ENDPOINTS_SVC.search(msg)
            svc, ns = (s.group(1) if s else "kyverno-svc"), "kyverno"
        wk = (m.group(1), ns, svc)
        unreachable[wk].setdefault(k, _Blocked(obj, top)).add(event)
        samples.setdefault(wk, msg)

    for pol_name in sorted(denied):
        blocked = sorted(denied[pol_name].values(), key=lambda b: key_of(b.subject))
        pol, ref = _policy_object(snap, pol_name)
        rules: dict[str, str] = {}
        for b in blocked:
            rules.update(b.rules)
        ev = [_action_text(pol)]
        ev.extend(_listing([b.label(snap) for b in blocked]))
        for rule, why in list(rules.items())[:4]:
            ev.append(f"rule {rule}: {quote(why)}")
        tops = sorted({_display(b.top["kind"], b.top["metadata"].get("namespace"), b.top["metadata"]["name"]) for b in blocked})
        first = blocked[0].top["metadata"]
        yield finding(
            "KYVERNO-ADMISSION-DENIED", ref,
            title=f"Kyverno policy {pol_name} blocks pod creation for {len(tops)} workload(s): " + ", ".join(tops[:3])
                  + (" …" if len(tops) > 3 else ""),
            evidence=ev,
            params={"policy": ref.name, "kind_lower": ref.kind.lower(),
                    "ns_flag": f"-n {ref.namespace} " if ref.namespace else "",
                    "workload_namespace": first.get("namespace") or "default", "workload": first["name"],
                    "workload_resource": blocked[0].top["kind"].lower()},
            subjects=[k for b in blocked for k in b.keys()],
            severity=_blocked_workload_severity(blocked),
        )

    for (webhook, ns, svc_name) in sorted(unreachable):
        blocked = sorted(unreachable[(webhook, ns, svc_name)].values(), key=lambda b: key_of(b.subject))
        svc = snap.get("Service", ns, svc_name)
        deps: list[Key] = [("Service", ns, svc_name)]
        backends: list[str] = []
        if svc is not None:
            sel = (svc.get("spec") or {}).get("selector")
            for d in snap.list("Deployment", ns):
                tpl_labels = (((d.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")
                if matches_map(sel, tpl_labels):
                    deps.append(key_of(d))
                    avail, want = _availability(d)
                    backends.append(f"Deployment {ns}/{d['metadata']['name']}: {avail}/{want} available")
            deps.extend(key_of(p) for p in snap.service_pods(svc))
            eps = snap.service_endpoints(svc)
            if eps is not None:
                backends.append(f"Service {ns}/{svc_name}: {sum(1 for e in eps if e['ready'])} ready endpoint(s)")
        elif snap.outside(ns, f"webhook Service {ns}/{svc_name}"):
            backends.append(f"Service {ns}/{svc_name}: outside the swept namespaces ({snap.info.scope_text()}), not checked")
        else:
            backends.append(f"Service {ns}/{svc_name} does not exist")
            deps.extend(key_of(d) for d in kyverno_admission_controllers(snap))
        msg = " ".join(samples[(webhook, ns, svc_name)].split())
        ev = [f"FailedCreate: {quote(msg)}", *backends, *_listing([b.label(snap) for b in blocked])]
        tops = sorted({_display(b.top["kind"], b.top["metadata"].get("namespace"), b.top["metadata"]["name"]) for b in blocked})
        yield finding(
            "KYVERNO-WEBHOOK-UNAVAILABLE", ObjectRef("v1", "Service", ns, svc_name),
            title=f"Kyverno webhook {webhook} is unreachable: the API server refuses to create pods for {len(tops)} workload(s)",
            evidence=ev,
            params={"webhook": webhook,
                    "admission": next((k[2] for k in deps if k[0] == "Deployment"), "kyverno-admission-controller")},
            subjects=[k for b in blocked for k in b.keys()],
            depends_on=deps,
        )


# ---------------------------------------------------------------------------------------- Falco


def falco_daemonsets(snap: Snapshot) -> list[Obj]:
    """DaemonSets running the Falco engine itself (not falco-exporter or falcosidekick)."""
    out = []
    for ds in snap.list("DaemonSet"):
        if any(_image_repo_name(c.get("image") or "") in ("falco", "falco-no-driver", "falco-distroless")
               for c in _containers(ds)):
            out.append(ds)
    return out


def _pod_state(pod: Obj) -> str:
    st = pod.get("status") or {}
    for cs in list(st.get("initContainerStatuses") or ()) + list(st.get("containerStatuses") or ()):
        w = (cs.get("state") or {}).get("waiting")
        if w and w.get("reason") != "PodInitializing":
            return f"{cs.get('name')} {w.get('reason')}"
        t = (cs.get("state") or {}).get("terminated")
        if t and t.get("reason") != "Completed":
            return f"{cs.get('name')} terminated {t.get('reason')}"
    return f"phase {st.get('phase') or 'Unknown'}"


@check(codes=("FALCO-COVERAGE-GAP",), reads=("DaemonSet", "Pod"), speaks_for=("DaemonSet",), depends_on=("Node", "Pod"))
def falco_coverage(snap: Snapshot) -> Iterator[Finding]:
    """Nodes without a ready Falco pod: from the DaemonSet counters and from the pods themselves (a pod
    on a node that stopped reporting stays scheduled but not ready)."""
    for ds in falco_daemonsets(snap):
        st = ds.get("status") or {}
        desired = int(st.get("desiredNumberScheduled") or 0)
        ready = int(st.get("numberReady") or 0)
        scheduled = int(st.get("currentNumberScheduled") or 0)
        pods = [p for p in snap.pods_of(ds) if not (p["metadata"].get("deletionTimestamp"))]
        not_ready = [p for p in pods if not pod_ready(p)]
        if desired == 0 or (ready >= desired and not not_ready):
            continue
        by_node: dict[str, Obj] = {}
        for p in pods:
            node = (p.get("spec") or {}).get("nodeName")
            if node:
                by_node[node] = p
        lacking: list[str] = []
        deps: list[Key] = []
        for p in sorted(not_ready, key=lambda p: (p.get("spec") or {}).get("nodeName") or ""):
            node = (p.get("spec") or {}).get("nodeName")
            deps.append(key_of(p))
            if node:
                lacking.append(f"{node} (pod {p['metadata']['name']}: {_pod_state(p)})")
                deps.append(("Node", "", node))
            else:
                lacking.append(f"(unscheduled pod {p['metadata']['name']}: {_pod_state(p)})")
        if scheduled < desired:
            node_sel = (((ds.get("spec") or {}).get("template") or {}).get("spec") or {}).get("nodeSelector")
            for n in snap.list("Node"):
                name = n["metadata"]["name"]
                if name in by_node:
                    continue
                if node_sel and not matches({"matchLabels": node_sel}, n["metadata"].get("labels")):
                    continue
                lacking.append(f"{name} (no falco pod)")
                deps.append(("Node", "", name))
        total = max(desired, scheduled, len(pods))
        covered = min(ready, total - len(not_ready)) if not_ready else ready
        ev = [f"status.desiredNumberScheduled={desired}, currentNumberScheduled={scheduled}, numberReady={ready}, "
              f"numberAvailable={int(st.get('numberAvailable') or 0)}"]
        if lacking:
            ev.append("nodes without a ready falco pod: " + "; ".join(_listing(lacking, 10)))
        yield finding(
            "FALCO-COVERAGE-GAP", ds,
            title=f"Falco runs on {covered} of {total} nodes: runtime threats on {total - covered} node(s) "
                  f"go undetected",
            evidence=ev, depends_on=deps,
            severity="critical" if covered == 0 else "warning",
        )


_SECRET_PATTERNS = (
    (re.compile(r"(?i)(://)[^/\s:@]+:[^@\s]+@"), r"\1***@"),
    (re.compile(r"(?i)(authorization:?\s*(?:bearer|basic|token)\s+)\S+"), r"\1***"),
    (re.compile(r"(?i)(bearer\s+)\S+"), r"\1***"),
    (re.compile(r"(?i)((?:^|[\s\"'])-{1,2}[\w.-]*(?:pass(?:word)?|passwd|pwd|token|secret|key|auth|credential)s?[\w.-]*[=\s]\s*)"
                r"(?!\*\*\*)\S+"), r"\1***"),
    (re.compile(r"(?i)([\w.-]*(?:pass(?:word)?|passwd|pwd|token|secret|key|auth|credential)s?[\w.-]*\s*[=:]\s*)"
                r"(?!\*\*\*)(?!(?:bearer|basic|token)\s)[^\s&]+"), r"\1***"),
    (re.compile(r"((?:^|\s)-p)[^\s]+"), r"\1***"),
    (re.compile(r"[A-Za-z0-9+/_=.-]{32,}"), "***"),
)


def redact_cmdline(cmdline: str, limit: int = 80) -> str:
    """A process command line with passwords, tokens and long opaque strings masked, then cut short."""
    text = " ".join(str(cmdline).split())
    for pat, rep in _SECRET_PATTERNS:
        text = pat.sub(rep, text)
    return shorten(text, limit)


_FALCO_TEXT = re.compile(r"^(\S+): (Emergency|Alert|Critical|Error|Warning|Notice|Informational|Debug) (.+)$")
_TEXT_FIELD = {
    "k8s.ns.name": re.compile(r"\b(?:k8s\.ns|k8s_ns|k8s\.ns\.name|ns)=([a-z0-9][a-z0-9-]*)"),
    "k8s.pod.name": re.compile(r"\b(?:k8s\.pod|k8s_pod_name|k8s\.pod\.name|pod)=([a-z0-9][a-z0-9.-]*)"),
    "proc.cmdline": re.compile(r"\b(?:cmdline|command)=(.+?)(?=\s+[\w.]+=|\)|$)"),
}


def _falco_alerts(text: str) -> Iterator[Obj]:
    """Alerts from a falco container log: JSON lines (json_output: true), else the text lines Falco
    prints by default, whose rule name is not printed (the message before its field list stands in)."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            if '"rule"' not in line or '"priority"' not in line:
                continue
            try:
                doc = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(doc, dict) and isinstance(doc.get("rule"), str) and isinstance(doc.get("priority"), str):
                yield doc
            continue
        m = _FALCO_TEXT.match(line)
        if not m or m.group(2).lower() not in FALCO_PRIORITIES:
            continue
        msg = m.group(3)
        fields = {k: (x.group(1) if (x := pat.search(msg)) else None) for k, pat in _TEXT_FIELD.items()}
        head = msg.split(" (", 1)[0].strip()
        yield {"rule": head[:100], "priority": m.group(2), "time": m.group(1) if "T" in m.group(1) else None,
               "output_fields": fields, "_text": True}


class _Rule:
    __slots__ = ("name", "count", "prio", "newest", "pods", "namespaces", "cmdlines", "hosts", "text")

    def __init__(self, name: str, text: bool = False) -> None:
        self.name = name
        self.text = text
        self.count = 0
        self.prio = 99
        self.newest: datetime | None = None
        self.pods: dict[str, int] = defaultdict(int)
        self.namespaces: set[str] = set()
        self.cmdlines: list[str] = []
        self.hosts: set[str] = set()


@check(codes=("FALCO-ALERT",), reads=("DaemonSet", "Pod"), speaks_for=("DaemonSet",), depends_on=())
def falco_alerts(snap: Snapshot) -> Iterator[Finding]:
    for ds in falco_daemonsets(snap):
        rules: dict[str, _Rule] = {}
        ns = ds["metadata"].get("namespace") or ""
        for pod in snap.pods_of(ds):
            text = snap.logs(ns, pod["metadata"]["name"], "falco", False)
            if not text:
                continue
            for a in _falco_alerts(text):
                prio = FALCO_PRIORITIES.get(a["priority"].strip().lower())
                if prio is None:
                    continue
                t = parse_time(a["time"].replace("+0000", "+00:00")) if isinstance(a.get("time"), str) else None
                if t is not None and snap.now - t > FALCO_WINDOW:
                    continue
                r = rules.setdefault(a["rule"], _Rule(a["rule"], bool(a.get("_text"))))
                r.count += 1
                r.prio = min(r.prio, prio)
                if t and (r.newest is None or t > r.newest):
                    r.newest = t
                given = a.get("output_fields")
                fields: dict[str, Any] = given if isinstance(given, dict) else {}
                kns, kpod = fields.get("k8s.ns.name"), fields.get("k8s.pod.name")
                if kns and kpod:
                    r.pods[f"{kns}/{kpod}"] += 1
                    r.namespaces.add(str(kns))
                else:
                    r.pods["(host or unknown container)"] += 1
                cmd = fields.get("proc.cmdline")
                if cmd and len(r.cmdlines) < 3:
                    red = redact_cmdline(cmd)
                    if red not in r.cmdlines:
                        r.cmdlines.append(red)
                host = a.get("hostname") or (pod.get("spec") or {}).get("nodeName")
                if isinstance(host, str):
                    r.hosts.add(host)
        for r in sorted(rules.values(), key=lambda r: (r.prio, r.name)):
            prio_name = next(k for k, v in FALCO_PRIORITIES.items() if v == r.prio).capitalize()
            pods = sorted(r.pods.items(), key=lambda kv: (-kv[1], kv[0]))
            what = f"alert {r.name!r} (text output: rule name not logged)" if r.text else f"rule {r.name!r}"
            ev = [f"{what}, priority {prio_name}: {r.count} event(s) in the last "
                  f"{int(FALCO_WINDOW.total_seconds() // 3600)}h of falco logs, newest "
                  + (f"{r.newest.isoformat().replace('+00:00', 'Z')} ({human(snap.now - r.newest)} ago)"
                     if r.newest else "unknown")]
            ev.append("pods: " + ", ".join(_listing([f"{p} ({n}x)" for p, n in pods], 6)))
            if r.namespaces:
                ev.append("namespaces: " + ", ".join(sorted(r.namespaces)))
            for c in r.cmdlines:
                ev.append(f"proc.cmdline: {c}")
            if r.hosts:
                ev.append("nodes: " + ", ".join(sorted(r.hosts)[:6]))
            first_pod = pods[0][0] if pods and "/" in pods[0][0] else ""
            yield finding(
                "FALCO-ALERT", ds,
                title=f"Falco {'alert' if r.text else 'rule'} {r.name!r} ({prio_name}) fired {r.count} time(s) "
                      f"in {len(r.pods)} pod(s)"
                      + (f" in {', '.join(sorted(r.namespaces)[:3])}" if r.namespaces else ""),
                evidence=ev,
                params={"rule": r.name, "pod_namespace": first_pod.split("/")[0] if first_pod else "<namespace>",
                        "pod": first_pod.split("/")[1] if first_pod else "<pod>"},
                severity="critical" if r.prio <= FALCO_PRIORITIES["critical"] else "warning",
            )
