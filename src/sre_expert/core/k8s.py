"""Object-level Kubernetes facts read the same way by every area: a status condition by type, whether a pod
is Ready, finished or pinned to a node, and a pod's state in one line.

Pure functions of one object dict as the API server returns it; nothing here needs a Snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Obj = dict[str, Any]


def find_condition(conditions: Iterable[Obj] | None, type_: str) -> Obj | None:
    """The condition of this type in a conditions list (an object's, a listener's, a route parent's), else None."""
    for c in conditions or ():
        if c.get("type") == type_:
            return c
    return None


def condition(obj: Obj, type_: str) -> Obj | None:
    """The status condition of this type of an object, else None."""
    conditions: list[Obj] = (obj.get("status") or {}).get("conditions") or []
    return find_condition(conditions, type_)


def pod_ready(pod: Obj) -> bool:
    c = condition(pod, "Ready")
    return c is not None and bool(c) and c.get("status") == "True"


def daemon_node(pod: Obj) -> str | None:
    """The node a DaemonSet pod is pinned to (required nodeAffinity on metadata.name), None if not pinned."""
    aff = (((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution") or {}
    for term in aff.get("nodeSelectorTerms") or ():
        for f in term.get("matchFields") or ():
            if f.get("key") == "metadata.name" and f.get("values"):
                node: str = f["values"][0]
                return node
    return None


def pod_terminal(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def pod_state(pod: Obj) -> str:
    """`web-7d9f-abcde: Running, Ready=False, app waiting CrashLoopBackOff, 7 restarts`."""
    st = pod.get("status") or {}
    bits = [st.get("phase") or "Unknown"]
    if st.get("reason"):
        bits.append(f"reason {st['reason']}")
    if pod["metadata"].get("deletionTimestamp"):
        bits.append("terminating")
    rc = condition(pod, "Ready")
    if rc is not None:
        bits.append(f"Ready={rc.get('status')}")
    restarts = 0
    for cs in (st.get("initContainerStatuses") or []) + (st.get("containerStatuses") or []):
        restarts += cs.get("restartCount") or 0
        state = cs.get("state") or {}
        if "waiting" in state and (state["waiting"] or {}).get("reason"):
            bits.append(f"{cs.get('name')} waiting {state['waiting']['reason']}")
        elif "terminated" in state and (state["terminated"] or {}).get("reason") not in (None, "Completed"):
            bits.append(f"{cs.get('name')} terminated {state['terminated']['reason']}")
    if restarts:
        bits.append(f"{restarts} restart{'s' if restarts != 1 else ''}")
    return f"{pod['metadata']['name']}: {', '.join(bits)}"


def ns_of(obj: Obj) -> str:
    """The namespace of an object; "" for a cluster-scoped one (or one without metadata)."""
    ns = (obj.get("metadata") or {}).get("namespace")
    return ns if isinstance(ns, str) else ""


def ns_flag(namespace: str | None) -> str:
    return f" -n {namespace}" if namespace else ""
