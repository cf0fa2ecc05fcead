"""PodDisruptionBudgets that allow no voluntary eviction: `kubectl drain`, node upgrades and the cluster
autoscaler's scale-down wait on them, and a drain that never ends stalls a whole node pool upgrade.

Keyed on what the disruption controller writes: the DisruptionAllowed condition (False, reason
InsufficientPods, or SyncFailed when it cannot compute the budget) and status.currentHealthy,
desiredHealthy, expectedPods, disruptionsAllowed. A budget that blocks for a few minutes is normal (a pod
restarting, a rollout replacing pods), so only a block older than BLOCK_GRACE is reported: a warning,
or info while the workload behind it is merely rolling out. The finding depends on the pods that are not
ready, so whatever keeps them down (a crash loop, a lost node) is its root cause.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sre_expert.checks.registry import check, finding
from sre_expert.core.k8s import condition, pod_ready
from sre_expert.core.model import TOP_CONTROLLER_KINDS, Finding, Key, key_of
from sre_expert.core.selectors import describe
from sre_expert.core.snapshot import Snapshot
from sre_expert.core.timeutil import human, parse_time
from sre_expert.domain.event_text import cond_line

Obj = dict[str, Any]

BLOCK_GRACE = timedelta(minutes=30)
MAX_LISTED = 5


def _counts(st: Obj) -> str:
    return (f"status: currentHealthy={st.get('currentHealthy', 0)} desiredHealthy={st.get('desiredHealthy', 0)} "
            f"expectedPods={st.get('expectedPods', 0)} disruptionsAllowed={st.get('disruptionsAllowed', 0)}")


def _budget(spec: Obj) -> str:
    if spec.get("maxUnavailable") is not None:
        return f"spec.maxUnavailable={spec['maxUnavailable']}"
    if spec.get("minAvailable") is not None:
        return f"spec.minAvailable={spec['minAvailable']}"
    return "no minAvailable or maxUnavailable"


def rolling_out(w: Obj) -> str | None:
    """'Deployment ns/x: rollout in progress (…)' while a workload is replacing its pods within its
    deadline; None when it is settled, or stuck (a rollout past its deadline is a failure, not progress)."""
    kind, md = w.get("kind"), w["metadata"]
    spec, st = w.get("spec") or {}, w.get("status") or {}
    where = f"{kind} {md.get('namespace')}/{md['name']}"
    if (st.get("observedGeneration") or 0) < (md.get("generation") or 0):
        return f"{where}: spec changed (generation {md.get('generation')}), not yet observed by its controller"
    if kind == "Deployment":
        progressing = condition(w, "Progressing")
        if progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded":
            return None
        want = spec.get("replicas", 1)
        if (st.get("updatedReplicas") or 0) < want or (st.get("replicas") or 0) > want:
            return (f"{where}: rollout in progress ({st.get('updatedReplicas') or 0}/{want} updated, "
                    f"{st.get('replicas') or 0} pods)")
    elif kind == "StatefulSet":
        if st.get("updateRevision") and st.get("currentRevision") != st.get("updateRevision"):
            return (f"{where}: rollout in progress ({st.get('updatedReplicas') or 0}/{spec.get('replicas', 1)} "
                    f"on revision {st.get('updateRevision')})")
    elif kind == "DaemonSet":
        want = st.get("desiredNumberScheduled") or 0
        if (st.get("updatedNumberScheduled") or 0) < want:
            return f"{where}: rollout in progress ({st.get('updatedNumberScheduled') or 0}/{want} nodes updated)"
    return None


def _pod_line(pod: Obj) -> str:
    md, st = pod["metadata"], pod.get("status") or {}
    waiting = [f"{cs.get('name')}: {(cs.get('state') or {}).get('waiting', {}).get('reason')}"
               for cs in st.get("containerStatuses") or () if (cs.get("state") or {}).get("waiting")]
    node = (pod.get("spec") or {}).get("nodeName")
    return (f"pod {md['name']} not Ready (phase {st.get('phase')}" + (f", {', '.join(waiting)}" if waiting else "")
            + (f", node {node}" if node else "") + ")")


@check(
    codes=("PDB-BLOCKS-EVICTION",),
    reads=("PodDisruptionBudget",),
    speaks_for=("PodDisruptionBudget",),
    depends_on=(*TOP_CONTROLLER_KINDS, "Pod"),
)
def disruption_budgets(snap: Snapshot) -> Iterator[Finding]:
    for pdb in snap.list("PodDisruptionBudget"):
        f = _blocked(snap, pdb)
        if f is not None:
            yield f


def _blocked(snap: Snapshot, pdb: Obj) -> Finding | None:
    md, spec, st = pdb["metadata"], pdb.get("spec") or {}, pdb.get("status") or {}
    allowed = condition(pdb, "DisruptionAllowed")
    if allowed is not None and allowed.get("status") != "False":
        return None
    if allowed is None and (st.get("disruptionsAllowed") or 0) > 0:
        return None
    expected = st.get("expectedPods") or 0
    if expected == 0 or md.get("deletionTimestamp"):
        return None  # it selects no pod: there is nothing it could keep from being evicted
    since = parse_time((allowed or {}).get("lastTransitionTime")) or parse_time(md.get("creationTimestamp"))
    if since is None or snap.now - since < BLOCK_GRACE:
        return None
    ns, name = md.get("namespace") or "", md["name"]
    pods = [p for p in snap.select("Pod", ns, spec.get("selector"))
            if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
            and not p["metadata"].get("deletionTimestamp")]
    unready = [p for p in pods if not pod_ready(p)]
    owners: dict[Key, Obj] = {}
    for p in pods:
        top = snap.top_controller(p)
        if top is not p:
            owners.setdefault(key_of(top), top)
    rollouts = [r for r in (rolling_out(w) for w in owners.values()) if r]
    current, desired = st.get("currentHealthy") or 0, st.get("desiredHealthy") or 0

    ev = [cond_line(snap, allowed) if allowed is not None else "no DisruptionAllowed condition",
          _counts(st), _budget(spec)]
    if allowed is not None and allowed.get("reason") == "SyncFailed":
        why = f"the disruption controller cannot compute the budget: {allowed.get('message') or 'SyncFailed'}"
    elif current < desired:
        why = f"{current} of {expected} selected pods are healthy and {desired} must stay up"
    else:
        why = (f"it requires {desired} healthy pods out of {expected}, so even with every pod healthy no pod "
               "may be evicted")
    ev.append(f"cause: {why}")
    ev += [_pod_line(p) for p in unready[:MAX_LISTED]]
    if len(unready) > MAX_LISTED:
        ev.append(f"… and {len(unready) - MAX_LISTED} more pods not Ready")
    nodes: list[str] = sorted({n for p in pods if (n := (p.get("spec") or {}).get("nodeName"))})
    if nodes:
        ev.append("a drain of " + ", ".join(nodes[:MAX_LISTED]) + (" …" if len(nodes) > MAX_LISTED else "")
                  + " waits on this budget")
    if spec.get("unhealthyPodEvictionPolicy"):
        ev.append(f"spec.unhealthyPodEvictionPolicy={spec['unhealthyPodEvictionPolicy']}")
    ev += rollouts

    blocked_for = human(snap.now - since)
    severity = "info" if rollouts and current < desired else "warning"
    title = f"PodDisruptionBudget {ns}/{name} has allowed no eviction for {blocked_for}: {why}"
    if severity == "info":
        title += " (a rollout is in progress)"
    owner = next(iter(owners.values()), None)
    return finding(
        "PDB-BLOCKS-EVICTION", pdb, title=title, evidence=ev, severity=severity,
        # Pods that are down (and the workloads short of them) explain the block; a budget that blocks with
        # every pod healthy is its own cause.
        depends_on=[key_of(p) for p in unready] + (list(owners) if current < desired else []),
        params={"selector": describe(spec.get("selector")),
                "workload": f"{owner['kind'].lower()}/{owner['metadata']['name']}" if owner else "<workload>"},
    )
