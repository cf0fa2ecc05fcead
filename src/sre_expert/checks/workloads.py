"""Workload controllers: Deployments, StatefulSets, DaemonSets and ReplicaSets short of available replicas,
rollouts past their progress deadline, controllers that cannot create pods (quota, admission webhooks),
failed Jobs, CronJobs whose last run failed or that stopped being scheduled.

A workload finding depends on its not-ready pods (and a Deployment's ReplicaSets), so the pod-level
finding that speaks for those pods explains it; when nothing does, the workload finding is the root.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sre_expert.checks import logscan
from sre_expert.checks.registry import check, finding
from sre_expert.core import cron
from sre_expert.core.k8s import condition, daemon_node, pod_ready
from sre_expert.core.model import TOP_CONTROLLER_KINDS, Finding, Key, key_of
from sre_expert.core.snapshot import Snapshot, event_time
from sre_expert.core.timeutil import human, parse_time
from sre_expert.core.wording import quote
from sre_expert.domain.admission import webhook_service
from sre_expert.domain.event_text import fmt_event

Obj = dict[str, Any]

UNAVAILABLE_GRACE = timedelta(minutes=5)
EVENT_FRESH = timedelta(hours=1)
JOB_RECENT = timedelta(hours=24)
CRON_TOLERANCE = timedelta(minutes=5)
MAX_LISTED = 5
ROLLOUT_REASONS = {"NewReplicaSetCreated", "FoundNewReplicaSet", "ReplicaSetUpdated"}


def _t(v: Any) -> datetime | None:
    return parse_time(v) if v else None


def _where(obj: Obj) -> str:
    md = obj["metadata"]
    ns = f"{md['namespace']}/" if md.get("namespace") else ""
    return f"{obj.get('kind')} {ns}{md['name']}"


def _cond_text(c: Obj | None) -> str:
    if not c:
        return ""
    return (f"condition {c.get('type')}={c.get('status')} reason={c.get('reason')}"
            + (f" message={quote(c.get('message'))}" if c.get("message") else ""))


def _live_pods(snap: Snapshot, workload: Obj) -> list[Obj]:
    return [p for p in snap.pods_of(workload)
            if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
            and not p["metadata"].get("deletionTimestamp")]


def _not_ready_since(pod: Obj) -> datetime | None:
    c = condition(pod, "Ready")
    if c and c.get("status") != "True":
        return _t(c.get("lastTransitionTime")) or _t(pod["metadata"].get("creationTimestamp"))
    if c is None:
        return _t(pod["metadata"].get("creationTimestamp"))
    return None


# --------------------------------------------------------------------------------------------- FailedCreate


@dataclass(slots=True)
class CreateFailure:
    code: str
    creator: Obj  # the ReplicaSet / StatefulSet / DaemonSet / Job whose pod creation fails
    summary: str
    evidence: list[str]
    depends: list[Key] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)


_QUOTA = re.compile(r"(exceeded|failed) quota: ([a-z0-9][-a-z0-9.]*)(?:, requested: ([^,]+(?:,[^,]+)*?), used: (.+?), "
                    r"limited: ([^\s]+(?:,[^\s]+)*))?", re.IGNORECASE)
_WEBHOOK_DENIED = re.compile(r"admission webhook \"([^\"]+)\" denied the request:?\s*(.*)", re.DOTALL)
_WEBHOOK_FAILED = re.compile(r"failed calling webhook \"([^\"]+)\":?\s*(.*)", re.DOTALL)
_POD_SECURITY = re.compile(r"violates PodSecurity \"([^\"]+)\":?\s*(.*)", re.DOTALL)
_SA_MISSING = re.compile(r"serviceaccount \"([^\"]+)\" not found")


def _short_quantities(s: str | None) -> str:
    return (s or "").strip().rstrip(".")


def _kyverno_policies(detail: str) -> list[tuple[str, str]]:
    """(policy, first rule message) from Kyverno's 'blocked due to the following policies' text."""
    out: list[tuple[str, str]] = []
    body = detail.split("following policies", 1)[1] if "following policies" in detail else detail
    current = None
    for line in body.splitlines():
        if not line.strip():
            continue
        m = re.match(r"^([a-z0-9][-a-z0-9.]*):\s*$", line)
        if m:
            current = m.group(1)
            out.append((current, ""))
            continue
        r = re.match(r"^\s+([\w.-]+):\s*(.*)$", line)
        if r and current and out and not out[-1][1]:
            out[-1] = (current, f"{r.group(1)}: {quote(r.group(2).strip(chr(39)))}")
    return out


def parse_create_failure(snap: Snapshot, creator: Obj, message: str) -> CreateFailure:
    ns = creator["metadata"].get("namespace") or ""
    msg = message or ""
    m = _QUOTA.search(msg)
    if m:
        name = m.group(2)
        ev: list[str] = []
        quota = snap.get("ResourceQuota", ns, name)
        if quota is not None:
            hard = (quota.get("status") or {}).get("hard") or (quota.get("spec") or {}).get("hard") or {}
            used = (quota.get("status") or {}).get("used") or {}
            res = []
            for r in sorted(hard):
                if m.group(3) is None or r in (m.group(3) or "") or r in (m.group(5) or ""):
                    res.append(f"{r} used {used.get(r, '?')} of {hard[r]}")
            if res:
                ev.append(f"ResourceQuota {ns}/{name}: " + ", ".join(res[:6]))
        if m.group(1).lower() == "exceeded":
            summary = (f"ResourceQuota {name} exceeded: requested {_short_quantities(m.group(3))}, used "
                       f"{_short_quantities(m.group(4))}, limited {_short_quantities(m.group(5))}"
                       if m.group(3) else f"ResourceQuota {name} exceeded")
        else:
            summary = f"ResourceQuota {name} requires resource limits/requests the pod does not set"
        return CreateFailure("WORKLOAD-QUOTA-EXCEEDED", creator, summary, ev,
                             depends=[("ResourceQuota", ns, name)], params={"quota": name})
    m = _WEBHOOK_DENIED.search(msg)
    if m:
        webhook, detail = m.group(1), m.group(2)
        pols = _kyverno_policies(detail)
        deps: list[Key] = []
        ev = [f"webhook: {webhook}"]
        for pol, rule in pols:
            ev.append(f"policy {pol}" + (f": {rule}" if rule else ""))
            if snap.get("ClusterPolicy", "", pol) is not None:
                deps.append(("ClusterPolicy", "", pol))
            elif snap.get("Policy", ns, pol) is not None:
                deps.append(("Policy", ns, pol))
        if pols:
            summary = f"admission webhook {webhook} denied the pods: policy {', '.join(p for p, _ in pols)}"
        else:
            summary = f"admission webhook {webhook} denied the pods: {quote(detail)}"
        return CreateFailure("WORKLOAD-ADMISSION-DENIED", creator, summary, ev, depends=deps,
                             params={"webhook": webhook, "policy": pols[0][0] if pols else ""})
    m = _WEBHOOK_FAILED.search(msg)
    if m:
        webhook, detail = m.group(1), m.group(2)
        svc = webhook_service(snap, webhook, detail)
        ev = [f"webhook: {webhook} could not be called: {quote(detail)}"]
        if svc:
            ev.append(f"webhook backend: Service {svc[1]}/{svc[2]}")
        return CreateFailure("WORKLOAD-ADMISSION-DENIED", creator,
                             f"admission webhook {webhook} is unreachable, so pod creation fails",
                             ev, depends=[svc] if svc else [], params={"webhook": webhook, "policy": ""})
    m = _POD_SECURITY.search(msg)
    if m:
        level, detail = m.group(1), m.group(2)
        return CreateFailure("WORKLOAD-ADMISSION-DENIED", creator,
                             f"Pod Security admission rejects the pods: violates PodSecurity {level}",
                             [f"PodSecurity {level}: {quote(detail)}"], depends=[("Namespace", "", ns)],
                             params={"webhook": "PodSecurity", "policy": level})
    m = _SA_MISSING.search(msg)
    if m:
        return CreateFailure("WORKLOAD-CREATE-FAILED", creator, f"ServiceAccount {m.group(1)} does not exist",
                             [], depends=[("ServiceAccount", ns, m.group(1))])
    return CreateFailure("WORKLOAD-CREATE-FAILED", creator, f"pod creation fails: {quote(msg)}", [])


def _still_short(obj: Obj) -> bool:
    """Whether the controller still lacks the pods it tries to create (else its FailedCreate is stale)."""
    kind = obj.get("kind")
    spec, st = obj.get("spec") or {}, obj.get("status") or {}
    if kind in ("ReplicaSet", "StatefulSet"):
        return bool((st.get("replicas") or 0) < spec.get("replicas", 1))
    if kind == "DaemonSet":
        return (st.get("currentNumberScheduled") or 0) < (st.get("desiredNumberScheduled") or 0)
    if kind == "Job":
        for c in st.get("conditions") or ():
            if c.get("status") == "True" and c.get("type") in ("Complete", "Failed", "SuccessCriteriaMet",
                                                                "FailureTarget"):
                return False
        if spec.get("suspend"):
            return False
        return bool((st.get("active") or 0) < spec.get("parallelism", 1))
    return False


def create_failure(snap: Snapshot, obj: Obj, index: dict[Key, list[Obj]] | None = None) -> CreateFailure | None:
    """The current pod-creation failure of a ReplicaSet/StatefulSet/DaemonSet/Job, from its ReplicaFailure
    condition or its FailedCreate events."""
    if not _still_short(obj):
        return None
    failure = condition(obj, "ReplicaFailure")
    evs = (index if index is not None else snap.event_index()).get(key_of(obj)) or ()
    failed = [e for e in evs if e.get("reason") == "FailedCreate"]
    msg = ""
    ev_lines: list[str] = []
    if failed:
        failed.sort(key=lambda e: event_time(e) or snap.now)
        newest = failed[-1]
        when = event_time(newest)
        if when is None or snap.now - when <= EVENT_FRESH:
            msg = newest.get("message") or ""
            ev_lines.append(fmt_event(newest))
    if failure and failure.get("status") == "True" and failure.get("reason") == "FailedCreate":
        if not msg:
            msg = failure.get("message") or ""
        ev_lines.insert(0, f"{obj.get('kind')} {obj['metadata']['name']}: " + _cond_text(failure))
    if not msg:
        return None
    cf = parse_create_failure(snap, obj, msg)
    cf.evidence = ev_lines + cf.evidence
    return cf


@check(
    codes=("WORKLOAD-QUOTA-EXCEEDED", "WORKLOAD-ADMISSION-DENIED", "WORKLOAD-CREATE-FAILED"),
    speaks_for=TOP_CONTROLLER_KINDS,
    depends_on=("ClusterPolicy", "Namespace", "ResourceQuota", "Service", "ServiceAccount"),
)
def failed_create(snap: Snapshot) -> Iterator[Finding]:
    index = snap.event_index()
    groups: dict[tuple[Key, str], list[CreateFailure]] = {}
    tops: dict[Key, Obj] = {}
    for kind in ("ReplicaSet", "StatefulSet", "DaemonSet", "Job"):
        for obj in snap.list(kind):
            if not _still_short(obj):  # create_failure's own first test, asked before the event lookup
                continue
            k = key_of(obj)
            has_events = any(e.get("reason") == "FailedCreate" for e in index.get(k) or ())
            if not has_events and not condition(obj, "ReplicaFailure"):
                continue
            cf = create_failure(snap, obj, index)
            if cf is None:
                continue
            top = snap.top_controller(obj)
            tk = key_of(top)
            tops[tk] = top
            groups.setdefault((tk, cf.code), []).append(cf)
    for (tk, code), cfs in sorted(groups.items()):
        top = tops[tk]
        cfs.sort(key=lambda c: c.creator["metadata"]["name"])
        rep = cfs[0]
        available, desired = _availability(top)
        evidence = list(rep.evidence)
        if desired is not None:
            evidence.append(f"{_where(top)}: {available}/{desired} replicas available")
        for other in cfs[1:MAX_LISTED]:
            evidence.append(f"{other.creator.get('kind')} {other.creator['metadata']['name']}: {other.summary}")
        depends: list[Key] = []
        for c in cfs:
            for d in c.depends:
                if d not in depends:
                    depends.append(d)
        sev = "critical" if (desired and not available) else "warning"
        if top.get("kind") in ("Job", "CronJob"):
            sev = "warning"
        params = {"creator": rep.creator["metadata"]["name"], "creator_kind": rep.creator.get("kind", "").lower()}
        params.update(rep.params)
        yield finding(
            code, top, title=f"{_where(top)}: {rep.summary}", evidence=evidence, params=params, severity=sev,
            subjects=[key_of(c.creator) for c in cfs if key_of(c.creator) != tk], depends_on=depends,
        )


def _availability(obj: Obj) -> tuple[int, int | None]:
    kind = obj.get("kind")
    spec, st = obj.get("spec") or {}, obj.get("status") or {}
    if kind in ("Deployment", "ReplicaSet"):
        return st.get("availableReplicas") or 0, spec.get("replicas", 1)
    if kind == "StatefulSet":
        avail = st.get("availableReplicas") if "availableReplicas" in st else st.get("readyReplicas")
        return avail or 0, spec.get("replicas", 1)
    if kind == "DaemonSet":
        return st.get("numberAvailable") or 0, st.get("desiredNumberScheduled") or 0
    return 0, None


# --------------------------------------------------------------------------------------------- availability


def _status_line(obj: Obj) -> str:
    st = obj.get("status") or {}
    spec = obj.get("spec") or {}
    if obj.get("kind") == "DaemonSet":
        fields: tuple[str, ...] = ("desiredNumberScheduled", "currentNumberScheduled", "numberReady",
                                   "numberAvailable", "numberUnavailable", "updatedNumberScheduled",
                                   "numberMisscheduled")
        return "status: " + " ".join(f"{f}={st.get(f, 0)}" for f in fields)
    fields = ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas")
    return f"spec.replicas={spec.get('replicas', 1)} status: " + " ".join(
        f"{f}={st[f]}" for f in fields if f in st) + ("" if "availableReplicas" in st else " availableReplicas=0")


def _unavailable(snap: Snapshot, w: Obj, extra_evidence: list[str], depends: list[Key],
                 excused: set[str] | None = None) -> Finding | None:
    """WORKLOAD-UNAVAILABLE when the shortfall has lasted beyond a normal start. It depends on the not-ready
    pods (and `depends`), so the pod-level finding explains it. excused: pod names not to count (daemon pods
    of nodes being removed)."""
    available, desired = _availability(w)
    # pods being deleted count: a StatefulSet pod stuck Terminating is why its replacement does not exist
    pods = [p for p in snap.pods_of(w) if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
    now = snap.now
    not_ready: list[tuple[Obj, datetime | None]] = []
    for p in pods:
        if pod_ready(p):
            continue
        if excused and p["metadata"]["name"] in excused:
            continue
        not_ready.append((p, _not_ready_since(p)))
    long_bad = [p for p, since in not_ready if since is None or now - since >= UNAVAILABLE_GRACE]
    avail_c = condition(w, "Available")
    avail_false_long = bool(avail_c and avail_c.get("status") == "False"
                            and (avail_since := _t(avail_c.get("lastTransitionTime")))
                            and now - avail_since >= UNAVAILABLE_GRACE)
    # Pods found through their owners: only when those kinds were collected is "not created" a fact
    chain = ("Pod", "ReplicaSet") if w.get("kind") == "Deployment" else ("Pod",)
    unread = [k for k in chain if not snap.collected(k)]
    missing = 0 if unread else max(0, (desired or 0) - len(pods))
    # without its pods, the workload's own counts say how far short it is
    shortfall = max(0, (desired or 0) - (available or 0)) if unread else missing
    persistent = bool(long_bad) or avail_false_long
    if not persistent and shortfall and not any(True for p in pods if _young(p, now)):
        created = _t(w["metadata"].get("creationTimestamp"))
        persistent = created is not None and now - created >= UNAVAILABLE_GRACE
    if not persistent:
        return None
    evidence = [_status_line(w)]
    if avail_c:
        evidence.append(_cond_text(avail_c))
    evidence += extra_evidence
    names = sorted(p["metadata"]["name"] + (" (terminating)" if p["metadata"].get("deletionTimestamp") else "")
                   for p, _ in not_ready)
    if names:
        more = len(names) - MAX_LISTED
        shown = ", ".join(names[:MAX_LISTED]) + (f" and {more} more" if more > 0 else "")
        evidence.append(f"pods not ready: {shown}")
    if not (snap.collected("Pod") and snap.count("Pod") > 0):
        evidence.append("not checked: pods were not captured, so which pods are down (and why) cannot be seen")
    elif unread:
        evidence.append(f"its pods were not checked: {' and '.join(unread)} not collected")
    elif missing:
        evidence.append(f"{missing} pod(s) missing: the controller has not created them")
    deps = list(depends) + [key_of(p) for p, _ in not_ready]
    sev = "critical" if not available else "warning"
    what = f"{available}/{desired} replicas available"
    return finding("WORKLOAD-UNAVAILABLE", w, title=f"{_where(w)}: {what}", evidence=evidence, severity=sev,
                   depends_on=deps, params={"selector": _selector(w)})


def _young(p: Obj, now: datetime) -> bool:
    c = _t(p["metadata"].get("creationTimestamp"))
    return c is not None and now - c < UNAVAILABLE_GRACE


def _selector(w: Obj) -> str:
    ml = ((w.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in ml.items())


@check(
    codes=("WORKLOAD-UNAVAILABLE", "WORKLOAD-PROGRESS-DEADLINE"),
    reads=("Deployment",),
    speaks_for=("Deployment",),
    depends_on=("Pod", "ReplicaSet"),
)
def deployments(snap: Snapshot) -> Iterator[Finding]:
    for d in snap.list("Deployment"):
        spec, st = d.get("spec") or {}, d.get("status") or {}
        desired = spec.get("replicas", 1)
        if not desired:
            continue  # scaled to zero on purpose
        available = st.get("availableReplicas") or 0
        prog = condition(d, "Progressing")
        deadline = bool(prog and prog.get("status") == "False" and prog.get("reason") == "ProgressDeadlineExceeded")
        if not deadline and available >= desired:
            continue
        rss = snap.owned(d, "ReplicaSet")
        rs_keys = [key_of(rs) for rs in rss
                   if (rs.get("spec") or {}).get("replicas") or (rs.get("status") or {}).get("replicas")]
        failure = next((cf for rs in rss if (cf := create_failure(snap, rs)) is not None), None)
        extra: list[str] = []
        if (d["metadata"].get("generation") or 0) > (st.get("observedGeneration") or 0):
            extra.append(f"metadata.generation={d['metadata'].get('generation')} > status.observedGeneration="
                         f"{st.get('observedGeneration')}: the deployment controller has not processed the latest spec")
        rf = condition(d, "ReplicaFailure")
        if rf and rf.get("status") == "True":
            extra.append(_cond_text(rf))
        if deadline:
            assert prog is not None  # deadline is read from this condition
            m = re.search(r"ReplicaSet \"([^\"]+)\"", prog.get("message") or "")
            new_rs = m.group(1) if m else None
            pods = _live_pods(snap, d)
            bad = [p for p in pods if not pod_ready(p)]
            evidence = [_cond_text(prog), _status_line(d)]
            avail_c = condition(d, "Available")
            if avail_c:
                evidence.append(_cond_text(avail_c))
            evidence += extra
            if failure is not None:
                evidence.append(f"pod creation fails: {failure.summary}")
            names = sorted(p["metadata"]["name"] for p in bad)
            if names:
                evidence.append("pods not ready: " + ", ".join(names[:MAX_LISTED])
                                + (f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""))
            deps = list(rs_keys) + [key_of(p) for p in bad]
            if new_rs:
                deps.append(("ReplicaSet", d["metadata"].get("namespace") or "", new_rs))
            sev = "critical" if not available else "warning"
            since = _t(prog.get("lastTransitionTime"))
            title = (f"{_where(d)}: rollout stuck past progressDeadlineSeconds="
                     f"{spec.get('progressDeadlineSeconds', 600)}" + (f" ({new_rs})" if new_rs else "")
                     + f", {available}/{desired} available" + (f", for {human(snap.now - since)}" if since else ""))
            yield finding("WORKLOAD-PROGRESS-DEADLINE", d, title=title, evidence=evidence, severity=sev,
                          depends_on=list(dict.fromkeys(deps)), params={"new_rs": new_rs or ""})
            continue
        if prog and prog.get("status") == "True" and prog.get("reason") in ROLLOUT_REASONS and not spec.get("paused"):
            continue  # a rollout within its deadline: pod-level findings speak if pods fail
        if failure is not None:
            extra.append(f"pod creation fails: {failure.summary}")
        f = _unavailable(snap, d, extra, rs_keys)
        if f is not None:
            yield f


@check(codes=("WORKLOAD-UNAVAILABLE",), reads=("StatefulSet",), speaks_for=("StatefulSet",), depends_on=("Pod",))
def statefulsets(snap: Snapshot) -> Iterator[Finding]:
    for s in snap.list("StatefulSet"):
        available, desired = _availability(s)
        if not desired or available >= desired:
            continue
        st = s.get("status") or {}
        extra: list[str] = []
        if st.get("updateRevision") and st.get("currentRevision") and st["updateRevision"] != st["currentRevision"]:
            extra.append(f"rolling update in progress: currentRevision={st['currentRevision']} "
                         f"updateRevision={st['updateRevision']} updatedReplicas={st.get('updatedReplicas', 0)}")
        cf = create_failure(snap, s)
        deps: list[Key] = []
        if cf is not None:
            extra.append(f"pod creation fails: {cf.summary}")
            if not [p for p in _live_pods(snap, s) if not pod_ready(p)]:
                continue  # the FailedCreate finding on this StatefulSet is the whole story
        f = _unavailable(snap, s, extra, deps)
        if f is not None:
            yield f


@check(codes=("WORKLOAD-UNAVAILABLE",), reads=("DaemonSet",), speaks_for=("DaemonSet",), depends_on=("Pod",))
def daemonsets(snap: Snapshot) -> Iterator[Finding]:
    going: set[str] | None = None
    for ds in snap.list("DaemonSet"):
        available, desired = _availability(ds)
        if not desired or available >= desired:
            continue
        if going is None:
            going = _nodes_going(snap)
        nodes = snap.list("Node")
        known = {n["metadata"]["name"] for n in nodes}
        pods = _live_pods(snap, ds)
        # a daemon pod for a node being removed (cordoned for deletion, or already gone) is not a failure
        excused = [p for p in pods if not pod_ready(p) and (
            (t := _daemon_target(p)) in going or (known and t is not None and t not in known))]
        counted = [p for p in pods if not pod_ready(p) and p not in excused]
        if not counted and desired - len(pods) <= 0:
            continue
        extra: list[str] = []
        if excused:
            extra.append("not counted: pods for nodes being removed: "
                         + ", ".join(sorted(p["metadata"]["name"] for p in excused)[:MAX_LISTED]))
        cf = create_failure(snap, ds)
        if cf is not None:
            extra.append(f"pod creation fails: {cf.summary}")
            if not counted:
                continue  # the FailedCreate finding on this DaemonSet is the whole story
        f = _unavailable(snap, ds, extra, [], excused={p["metadata"]["name"] for p in excused})
        if f is not None:
            yield f


def _nodes_going(snap: Snapshot) -> set[str]:
    out = set()
    for n in snap.list("Node"):
        spec = n.get("spec") or {}
        if n["metadata"].get("deletionTimestamp") or spec.get("unschedulable") or any(
                t.get("key") == "ToBeDeletedByClusterAutoscaler" for t in spec.get("taints") or ()):
            out.add(n["metadata"]["name"])
    return out


def _daemon_target(pod: Obj) -> str | None:
    node = daemon_node(pod)
    return node if node is not None else (pod.get("spec") or {}).get("nodeName")


@check(codes=("WORKLOAD-UNAVAILABLE",), reads=("ReplicaSet",), speaks_for=("ReplicaSet",), depends_on=("Pod",))
def replicasets(snap: Snapshot) -> Iterator[Finding]:
    """ReplicaSets no captured controller judges: a Deployment's are judged through the Deployment, but when
    that Deployment is not in the capture (not collected, or already deleted) the ReplicaSet is all there is."""
    for rs in snap.list("ReplicaSet"):
        if snap.controller_of(rs) is not None:
            continue
        available, desired = _availability(rs)
        if not desired or available >= desired:
            continue
        cf = create_failure(snap, rs)
        extra = [f"pod creation fails: {cf.summary}"] if cf else []
        if cf is not None and not [p for p in _live_pods(snap, rs) if not pod_ready(p)]:
            continue
        f = _unavailable(snap, rs, extra, [])
        if f is not None:
            yield f


# --------------------------------------------------------------------------------------------- Jobs


def _job_state(job: Obj) -> str:
    for c in (job.get("status") or {}).get("conditions") or ():
        if c.get("status") == "True":
            if c.get("type") == "Complete":
                return "Complete"
            if c.get("type") == "Failed":
                return "Failed"
    return "Active"


def _job_failure(snap: Snapshot, job: Obj) -> tuple[str, list[str], list[Key], Obj | None, str]:
    """(summary, evidence, depends, failed pod, container) of a Failed Job."""
    st = job.get("status") or {}
    spec = job.get("spec") or {}
    fc = condition(job, "Failed") or {}
    reason = fc.get("reason") or "Failed"
    evidence = [_cond_text(fc) + (f" at {fc.get('lastTransitionTime')}" if fc.get("lastTransitionTime") else "")]
    counts = f"status.failed={st.get('failed', 0)} succeeded={st.get('succeeded', 0)} active={st.get('active', 0)}"
    if reason == "BackoffLimitExceeded":
        counts += f", spec.backoffLimit={spec.get('backoffLimit', 6)}"
    elif reason == "DeadlineExceeded":
        counts += f", spec.activeDeadlineSeconds={spec.get('activeDeadlineSeconds')} startTime={st.get('startTime')}"
    evidence.append(counts)
    pods = snap.pods_of(job)
    failed_pods = sorted((p for p in pods if (p.get("status") or {}).get("phase") == "Failed"),
                         key=lambda p: (p["metadata"].get("creationTimestamp") or "", p["metadata"]["name"]))
    candidates = failed_pods or sorted(pods, key=lambda p: p["metadata"].get("creationTimestamp") or "")
    detail = ""
    pod, container = None, ""
    if candidates:
        pod = candidates[-1]
        for cs in (pod.get("status") or {}).get("containerStatuses") or ():
            term = (cs.get("state") or {}).get("terminated") or (cs.get("lastState") or {}).get("terminated")
            waiting = (cs.get("state") or {}).get("waiting")
            if term and (term.get("exitCode") or term.get("reason") not in ("Completed", None)):
                container = cs.get("name") or ""
                line = (f"pod {pod['metadata']['name']} container {container}: terminated.exitCode="
                        f"{term.get('exitCode')} reason={term.get('reason')}")
                if term.get("reason") == "OOMKilled":
                    c_spec: Obj = next((c for c in (pod.get("spec") or {}).get("containers") or ()
                                   if c.get("name") == container), {})
                    limit = ((c_spec.get("resources") or {}).get("limits") or {}).get("memory")
                    line += f" (resources.limits.memory={limit or 'none'})"
                    detail = f"container {container} OOMKilled"
                else:
                    detail = f"container {container} exit code {term.get('exitCode')}"
                if term.get("message"):
                    line += f" message={quote(term.get('message'))}"
                evidence.append(line)
                break
            if waiting and waiting.get("reason") not in (None, "ContainerCreating", "PodInitializing"):
                container = cs.get("name") or ""
                evidence.append(f"pod {pod['metadata']['name']} container {container}: state.waiting.reason="
                                f"{waiting.get('reason')} message={quote(waiting.get('message'))}")
                detail = f"container {container} {waiting.get('reason')}"
                break
        if (pod.get("status") or {}).get("reason") and not container:
            evidence.append(f"pod {pod['metadata']['name']}: status.reason={pod['status']['reason']} "
                            f"message={quote(pod['status'].get('message'))}")
    summary = reason + (f" ({detail})" if detail else "")
    deps = [key_of(p) for p in pods]
    return summary, evidence, deps, pod, container


def _log_evidence(snap: Snapshot, pod: Obj | None, container: str, resolver: logscan.ServiceResolver
                  ) -> tuple[list[str], list[Key]]:
    if pod is None or not container:
        return [], []
    md = pod["metadata"]
    ns = md.get("namespace") or ""
    lines, prev = logscan.read_lines(snap, ns, md["name"], container, False)
    if not lines:
        return [], []
    label = f"log of {md['name']}/{container}"
    ev = [f"{label}: {ln}" for ln in logscan.telling_lines(lines)]
    deps: list[Key] = []
    for svc, host, ln in logscan.service_links(lines, ns, resolver, pod):
        k = ("Service", svc["metadata"].get("namespace") or "", svc["metadata"]["name"])
        deps.append(k)
        ev.append(f"{label}: connection to {host} fails, which is Service {k[1]}/{k[2]}: {ln}")
    return ev, deps


@check(codes=("JOB-FAILED",), reads=("Job",), speaks_for=("Job", "Pod"), depends_on=("Pod",))
def jobs(snap: Snapshot) -> Iterator[Finding]:
    resolver = logscan.ServiceResolver(snap)
    for job in snap.list("Job"):
        if _job_state(job) != "Failed":
            continue
        owner = snap.controller_of(job)
        if owner is not None and owner.get("kind") == "CronJob":
            continue  # judged as the CronJob's last run
        summary, evidence, deps, pod, container = _job_failure(snap, job)
        log_ev, log_deps = _log_evidence(snap, pod, container, resolver)
        fc = condition(job, "Failed") or {}
        when = _t(fc.get("lastTransitionTime"))
        sev = "warning" if when is None or snap.now - when <= JOB_RECENT else "info"
        yield finding("JOB-FAILED", job, title=f"{_where(job)} failed: {summary}", evidence=evidence + log_ev,
                      severity=sev, subjects=[key_of(p) for p in snap.pods_of(job)], depends_on=deps + log_deps,
                      params={"pod": pod["metadata"]["name"] if pod else "", "container": container})


# --------------------------------------------------------------------------------------------- CronJobs


@check(
    codes=("CRONJOB-FAILED", "CRONJOB-NOT-SCHEDULED", "CRONJOB-SUSPENDED", "CRONJOB-SCHEDULE-NEVER-FIRES",
        "CRONJOB-RUN-MISSING"),
    reads=("CronJob",),
    speaks_for=("CronJob", "Job", "Pod"),
    depends_on=("Job", "Pod"),
)
def cronjobs(snap: Snapshot) -> Iterator[Finding]:
    resolver = logscan.ServiceResolver(snap)
    now = snap.now
    for cj in snap.list("CronJob"):
        spec, st = cj.get("spec") or {}, cj.get("status") or {}
        schedule = spec.get("schedule") or ""
        if spec.get("suspend"):
            yield finding("CRONJOB-SUSPENDED", cj, title=f"{_where(cj)} is suspended (schedule {schedule!r})",
                          evidence=["spec.suspend=true", f"status.lastScheduleTime={st.get('lastScheduleTime')}"],
                          severity="info")
            continue
        jobs = sorted(snap.owned(cj, "Job"), key=lambda j: (j["metadata"].get("creationTimestamp") or "",
                                                            j["metadata"]["name"]))
        finished = [j for j in jobs if _job_state(j) != "Active"]
        if finished and _job_state(finished[-1]) == "Failed":
            last = finished[-1]
            fc = condition(last, "Failed") or {}
            failed_at = _t(fc.get("lastTransitionTime"))
            last_ok = _t(st.get("lastSuccessfulTime"))
            if not (last_ok and failed_at and last_ok > failed_at):
                summary, evidence, deps, pod, container = _job_failure(snap, last)
                streak = 0
                for j in reversed(finished):
                    if _job_state(j) != "Failed":
                        break
                    streak += 1
                head = [f"last finished Job {last['metadata']['name']} failed"
                        + (f"; the last {streak} runs failed" if streak > 1 else ""),
                        f"status.lastScheduleTime={st.get('lastScheduleTime')} "
                        f"lastSuccessfulTime={st.get('lastSuccessfulTime')}"]
                log_ev, log_deps = _log_evidence(snap, pod, container, resolver)
                subjects = [key_of(j) for j in jobs] + [key_of(p) for j in jobs for p in snap.pods_of(j)]
                yield finding("CRONJOB-FAILED", cj, title=f"{_where(cj)}: last run {last['metadata']['name']} "
                              f"failed: {summary}", evidence=head + evidence + log_ev, subjects=subjects,
                              depends_on=deps + log_deps,
                              params={"job": last["metadata"]["name"],
                                      "pod": pod["metadata"]["name"] if pod else "", "container": container})
        impossible = _never_fires(cj)
        if impossible is not None:
            yield impossible
            continue
        f = _missed_schedule(snap, cj, jobs, now)
        if f is not None:
            yield f
        f = _run_missing(snap, cj, jobs, now)
        if f is not None:
            yield f


def _cron_expression(cj: Obj) -> str:
    """spec.schedule with spec.timeZone folded in as CRON_TZ, as the CronJob controller reads it."""
    spec = cj.get("spec") or {}
    schedule = spec.get("schedule") or ""
    return schedule if not spec.get("timeZone") or "TZ=" in schedule else f"CRON_TZ={spec['timeZone']} {schedule}"


def _never_fires(cj: Obj) -> Finding | None:
    """A schedule no date matches (`0 0 30 2 *`): the API server accepts it, and the CronJob never runs."""
    spec, st = cj.get("spec") or {}, cj.get("status") or {}
    try:
        why = cron.parse(_cron_expression(cj)).never_fires()
    except ValueError:
        return None
    if why is None:
        return None
    return finding("CRONJOB-SCHEDULE-NEVER-FIRES", cj,
                   title=f"{_where(cj)} never runs: its schedule {spec.get('schedule')!r} names a date that does "
                         f"not exist ({why})",
                   evidence=[f"spec.schedule={spec.get('schedule')!r}"
                             + (f" timeZone={spec.get('timeZone')}" if spec.get("timeZone") else ""),
                             f"cause: {why}",
                             f"status.lastScheduleTime={st.get('lastScheduleTime') or 'never'}"],
                   params={"schedule": spec.get("schedule") or ""})


CRONJOB_SCHEDULED_AT = "batch.kubernetes.io/cronjob-scheduled-timestamp"


def _scheduled_at(job: Obj, cronjob_name: str) -> datetime | None:
    """The scheduled time a CronJob's Job was created for: its annotation (Kubernetes 1.28+), else the
    `<cronjob>-<minutes since the epoch>` name the controller gives it."""
    md = job["metadata"]
    t = _t((md.get("annotations") or {}).get(CRONJOB_SCHEDULED_AT))
    if t is not None:
        return t
    suffix = md["name"][len(cronjob_name) + 1:] if md["name"].startswith(cronjob_name + "-") else ""
    if suffix.isdigit():
        return datetime.fromtimestamp(int(suffix) * 60, tz=UTC)
    return None


def _run_missing(snap: Snapshot, cj: Obj, jobs: list[Obj], now: datetime) -> Finding | None:
    """The last scheduled run left no Job and no success after it: the Job failed and was removed
    (failedJobsHistoryLimit 0, ttlSecondsAfterFinished) or was deleted, so nothing shows that it did not work."""
    spec, st = cj.get("spec") or {}, cj.get("status") or {}
    last = _t(st.get("lastScheduleTime"))
    if last is None or now - last <= CRON_TOLERANCE or st.get("active"):
        return None
    if not (snap.collected("Job") and snap.count("Job") > 0):
        return None  # Jobs were not captured: their absence proves nothing
    ok = _t(st.get("lastSuccessfulTime"))
    if ok is not None and ok >= last:
        return None
    name = cj["metadata"]["name"]
    for j in jobs:
        at = _scheduled_at(j, name)
        created = _t(j["metadata"].get("creationTimestamp"))
        if at == last or (at is None and created is not None and created >= last):
            return None
    job_spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    limit = spec.get("failedJobsHistoryLimit", 1)
    evidence = [f"status.lastScheduleTime={st.get('lastScheduleTime')}",
                f"status.lastSuccessfulTime={st.get('lastSuccessfulTime') or 'never'}"
                + (" (before the last scheduled run)" if ok is not None else ""),
                "no Job for that run in the capture" + (": the CronJob owns " + ", ".join(
                    j["metadata"]["name"] for j in jobs[-MAX_LISTED:]) if jobs else ", and the CronJob owns no Job")]
    removers = []
    if limit == 0:
        removers.append("spec.failedJobsHistoryLimit=0 deletes a failed Job at once")
    if job_spec.get("ttlSecondsAfterFinished") is not None:
        removers.append(f"jobTemplate.spec.ttlSecondsAfterFinished={job_spec['ttlSecondsAfterFinished']} deletes "
                        "every finished Job after that many seconds")
    evidence.extend(removers or [f"spec.failedJobsHistoryLimit={limit}: a failed Job should still be kept, so it "
                                 "was deleted (by hand or by a cleanup)"])
    for ev in (snap.event_index().get(key_of(cj)) or ())[-3:]:
        evidence.append(fmt_event(ev))
    return finding("CRONJOB-RUN-MISSING", cj,
                   title=f"{_where(cj)}: the run scheduled at {st.get('lastScheduleTime')} left no Job and no "
                         f"success after it ({human(now - last)} ago)",
                   evidence=evidence, params={"schedule": spec.get("schedule") or ""})


def _missed_schedule(snap: Snapshot, cj: Obj, jobs: list[Obj], now: datetime) -> Finding | None:
    spec, st = cj.get("spec") or {}, cj.get("status") or {}
    schedule = spec.get("schedule") or ""
    expr = _cron_expression(cj)
    try:
        sched = cron.parse(expr)
    except ValueError:
        return None
    last = _t(st.get("lastScheduleTime"))
    base = last or _t(cj["metadata"].get("creationTimestamp"))
    if base is None:
        return None
    due = sched.next(base)
    if due is None:
        return None
    tolerance = max(CRON_TOLERANCE, timedelta(seconds=spec.get("startingDeadlineSeconds") or 0))
    if now - due <= tolerance:
        return None
    evidence = [f"spec.schedule={schedule!r}" + (f" timeZone={spec.get('timeZone')}" if spec.get("timeZone") else ""),
                f"status.lastScheduleTime={st.get('lastScheduleTime') or 'never'}",
                f"next run was due at {due.strftime('%Y-%m-%dT%H:%M:%SZ')} ({human(now - due)} ago)"]
    active = [j for j in jobs if _job_state(j) == "Active"]
    deps: list[Key] = []
    policy = spec.get("concurrencyPolicy", "Allow")
    if active and policy == "Forbid":
        a = active[-1]
        started = _t((a.get("status") or {}).get("startTime")) or _t(a["metadata"].get("creationTimestamp"))
        evidence.append(f"concurrencyPolicy=Forbid and Job {a['metadata']['name']} is still active"
                        + (f" (started {human(now - started)} ago)" if started else "") + ": runs are skipped")
        deps += [key_of(a)] + [key_of(p) for p in snap.pods_of(a)]
        why = f"skipped while Job {a['metadata']['name']} is still running"
    elif any(ev.get("type") == "Warning" and ev.get("reason") == "FailedCreate"
             for ev in (snap.event_index().get(key_of(cj)) or ())[-3:]):
        why = "the CronJob controller tried, but creating the Job failed (FailedCreate below)"
    else:
        why = "the CronJob controller has not created a run (is kube-controller-manager healthy?)"
    for ev in (snap.event_index().get(key_of(cj)) or ())[-3:]:
        if ev.get("type") == "Warning":
            evidence.append(fmt_event(ev))
    return finding("CRONJOB-NOT-SCHEDULED", cj,
                   title=f"{_where(cj)}: no run since {st.get('lastScheduleTime') or 'creation'}; "
                         f"run due {human(now - due)} ago {why}",
                   evidence=evidence, depends_on=deps)
