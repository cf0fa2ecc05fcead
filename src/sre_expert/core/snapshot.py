"""The Snapshot: every object of one capture, indexed once, read-only to checks.

Checks ask it questions (owners, selected pods, events of an object, endpoints of a Service) instead
of scanning lists themselves, so each question costs a dict lookup whatever the cluster size.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sre_expert.core.kinds import BUILTIN_GROUPS, COLLECTED_KINDS, spec_of
from sre_expert.core.model import Key, index_kind, key_of
from sre_expert.core.selectors import matches, matches_map
from sre_expert.core.timeutil import parse_time

if TYPE_CHECKING:
    from sre_expert.core.metric_set import MetricSet

Obj = dict[str, Any]
CLUSTER_KINDS = ("Node", "PersistentVolume", "Namespace", "StorageClass", "ClusterIssuer", "ClusterSecretStore",
                 "ClusterPolicy", "ClusterPolicyReport", "GatewayClass", "CustomResourceDefinition", "ClusterRole",
                 "ClusterRoleBinding", "PriorityClass", "IngressClass", "VolumeAttachment")
LogReader = Callable[[str, str, str, bool], "str | None"]
# Inside the Snapshot class `list` names its method, so annotations there use these aliases.
Objs = list[Obj]
Strs = list[str]
_T = TypeVar("_T")


@dataclass(slots=True)
class SnapshotInfo:
    captured_at: datetime
    cluster: str = ""
    kubernetes_version: str = ""
    source: str = "bundle"
    location: str = ""
    collection_errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # The namespaces a scoped sweep (`-n`) listed namespaced kinds in; () means every namespace was read.
    namespaces: tuple[str, ...] = ()
    # Kinds (index names, see model.kind_name) the source read, even when it found none: a bundle's files and
    # bundle.json "kinds", what a live sweep listed or found not installed. The Snapshot adds the kinds of its
    # objects. None: not known (an in-memory snapshot of a whole platform), every kind counts as collected.
    collected_kinds: frozenset[str] | None = None
    # Where captured_at came from: "" for a live sweep's clock, else e.g. "bundle.json capturedAt" or
    # "estimated from event and status times" (reports say so when the time is not the recorded one).
    captured_at_source: str = ""

    def captured_at_note(self) -> str:
        """'' when captured_at is the recorded capture time, else the phrase a report header shows."""
        if self.captured_at_source in ("", "bundle.json capturedAt"):
            return ""
        return f"capture time: {self.captured_at_source}"

    def scope_text(self) -> str:
        """`-n a -n b` as the user typed it, for "outside the swept namespaces (-n a -n b)" notes."""
        return " ".join(f"-n {ns}" for ns in self.namespaces)


# What the running check could not judge because it lies outside the sweep's namespaces. The engine sets a
# fresh list around each check and turns it into one "not checked" line; a context variable, not a field,
# so concurrent diagnoses of one snapshot (serve) keep their notes apart.
UNSEEN: ContextVar[list[str] | None] = ContextVar("sre_expert_unseen", default=None)


@contextmanager
def unseen_notes() -> Iterator[list[str]]:
    """Collect what `Snapshot.outside` reports inside the block (the engine per check; trace, dr status)."""
    notes: list[str] = []
    token = UNSEEN.set(notes)
    try:
        yield notes
    finally:
        UNSEEN.reset(token)


def event_time(ev: Obj) -> datetime | None:
    """When an event last happened; core/v1 and events.k8s.io/v1 spell it differently."""
    series = ev.get("series") or {}
    for v in (
        ev.get("lastTimestamp"),
        series.get("lastObservedTime"),
        ev.get("eventTime"),
        ev.get("deprecatedLastTimestamp"),
        ev.get("firstTimestamp"),
        (ev.get("metadata") or {}).get("creationTimestamp"),
    ):
        t = parse_time(v)
        if t:
            return t
    return None


def event_subject(ev: Obj) -> dict[str, Any]:
    return ev.get("involvedObject") or ev.get("regarding") or {}


class Snapshot:
    """Indexed, read-only view of one capture. Objects are the raw dicts the API server returned."""

    def __init__(self, objects: Iterable[Obj], info: SnapshotInfo, log_reader: LogReader | None = None,
                 keys: Sequence[tuple[Key, str | None]] | None = None):
        """`keys`, optional: (key_of(obj), metadata.uid) of each object, in order. The bundle loader reads
        them while each freshly parsed object is still in the CPU cache; reading them here, from cold
        memory, cost about 0.06 s of a 10,000-pod bundle's load."""
        self.info = info
        self._log_reader = log_reader
        self._memo: dict[str, Any] = {}
        self._memo_lock = threading.RLock()
        # Metric answers of the same moment (Prometheus or a bundle's metrics/metrics.json), set by the source
        # after loading; None when the caller did not ask for metrics (the metric checks then stay silent).
        self.metrics: MetricSet | None = None
        objs = objects if isinstance(objects, list) else list(objects)
        if keys is None:
            keys = [(key_of(o), (o.get("metadata") or {}).get("uid")) for o in objs]
        elif len(keys) != len(objs):
            raise ValueError(f"{len(keys)} keys for {len(objs)} objects")
        by_kind: dict[str, list[Obj]] = defaultdict(list)
        by_key: dict[Key, Obj] = {}
        by_uid: dict[str, Obj] = {}
        for obj, (k, uid) in zip(objs, keys):
            old = by_key.get(k)
            if old is not None:
                by_kind[k[0]].remove(old)
            by_key[k] = obj
            by_kind[k[0]].append(obj)
            if uid:
                by_uid[uid] = obj
        self._by_kind = dict(by_kind)
        self._by_key = by_key
        self._by_uid = by_uid

        children: dict[str, list[Obj]] = defaultdict(list)
        by_ns_kind: dict[tuple[str, str], list[Obj]] = defaultdict(list)
        for kind, objs in self._by_kind.items():
            if kind == "Event":
                continue
            for obj in objs:
                md = obj["metadata"]
                ns = md.get("namespace")
                if ns:
                    by_ns_kind[(kind, ns)].append(obj)
                refs = md.get("ownerReferences")
                if refs:
                    for ref in refs:
                        uid = ref.get("uid")
                        if uid:
                            children[uid].append(obj)
        self._children = dict(children)
        self._by_ns_kind = dict(by_ns_kind)

        # Recorders put events about cluster-scoped objects in "default" or ""; index them under "".
        self._cluster_kinds = set(CLUSTER_KINDS)
        for kind, objs in self._by_kind.items():
            if objs and not objs[0]["metadata"].get("namespace"):
                self._cluster_kinds.add(kind)
        cluster_kinds = self._cluster_kinds
        events: dict[Key, list[Obj]] = defaultdict(list)
        for ev in self._by_kind.get("Event", ()):
            s = ev.get("involvedObject") or ev.get("regarding") or {}  # event_subject(ev), inlined: per event
            kind = index_kind(s.get("kind") or "", s.get("apiVersion"))  # a Longhorn Node's events stay its own
            ns = "" if kind in cluster_kinds else (s.get("namespace") or "")
            events[(kind, ns, s.get("name") or "")].append(ev)
        self._events = dict(events)
        self._events_sorted: set[Key] = set()

        pods_by_node: dict[str, list[Obj]] = defaultdict(list)
        for pod in self._by_kind.get("Pod", ()):
            node = (pod.get("spec") or {}).get("nodeName")
            if node:
                pods_by_node[node].append(pod)
        self._pods_by_node = dict(pods_by_node)

        slices: dict[tuple[str, str], list[Obj]] = defaultdict(list)
        for es in self._by_kind.get("EndpointSlice", ()):
            md = es["metadata"]
            svc = (md.get("labels") or {}).get("kubernetes.io/service-name")
            if svc:
                slices[(md.get("namespace") or "", svc)].append(es)
        self._slices = dict(slices)

        if info.collected_kinds is not None:
            info.collected_kinds = frozenset(info.collected_kinds).union(self._by_kind)
        self._not_installed: frozenset[tuple[str, str]] | None = None

    # --- basic access -------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        return self.info.captured_at

    def kinds(self) -> list[str]:
        return sorted(self._by_kind)

    def count(self, kind: str) -> int:
        return len(self._by_kind.get(kind, ()))

    def list(self, kind: str, namespace: str | None = None) -> list[Obj]:
        if namespace is None:
            return self._by_kind.get(kind, [])
        return self._by_ns_kind.get((kind, namespace), [])

    def get(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        return self._by_key.get((kind, namespace or "", name))

    def by_uid(self, uid: str) -> Obj | None:
        return self._by_uid.get(uid)

    def namespaces(self) -> Strs:
        names = {ns for (_, ns) in self._by_ns_kind}
        names.update(o["metadata"]["name"] for o in self._by_kind.get("Namespace", ()))
        return sorted(names)

    def collected(self, kind: str) -> bool:
        """Whether the source read this kind, so that finding none of it means there is none. False when the
        kind was not in the capture (a bundle without its file, see SnapshotInfo.collected_kinds) unless the
        captured CRD list shows it is not installed, or when the source recorded it could not be read
        (forbidden, failed): cluster-wide, or in every namespace of a scoped sweep (`-n`)."""
        kinds = self.info.collected_kinds
        if kinds is not None and kind not in kinds and not self.not_installed(kind):
            return False
        failed = {e.get("namespace") or "" for e in self.info.collection_errors if e.get("kind") == kind}
        if "" in failed:
            return False
        return not (self.info.namespaces and failed.issuperset(self.info.namespaces))

    def not_installed(self, kind: str) -> bool:
        """True when the kind is a custom resource of the kinds table and the captured CRD list (read whole)
        has no CRD for it: then none of it can exist, even though the bundle holds no file of it."""
        spec = spec_of(kind)
        if spec is None or spec.group in BUILTIN_GROUPS:
            return False
        if self._not_installed is None:
            crd_read = ("CustomResourceDefinition" in (self.info.collected_kinds or ())
                        and not any(e.get("kind") == "CustomResourceDefinition" for e in self.info.collection_errors))
            served: set[tuple[str, str]] = set()
            for crd in self._by_kind.get("CustomResourceDefinition", ()):
                sp = crd.get("spec") or {}
                served.add((str(sp.get("group") or ""), str((sp.get("names") or {}).get("kind") or "")))
            self._not_installed = frozenset(
                (s.group, s.kind) for s in COLLECTED_KINDS if s.group not in BUILTIN_GROUPS and (s.group, s.kind) not in served
            ) if crd_read else frozenset()
        return (spec.group, spec.kind) in self._not_installed

    def uncollected(self) -> Strs:
        """Kinds a full sweep reads (the kinds table) that this capture does not hold, in table order, except
        those recorded as collection errors (each check that needed one says so itself)."""
        if self.info.collected_kinds is None:
            return []
        failed = {e.get("kind") for e in self.info.collection_errors}
        return [s.kind for s in COLLECTED_KINDS if s.kind not in failed and not self.collected(s.kind)]

    # --- scope: what a namespace-scoped sweep (`-n`) could not see -----------------------------
    def sees(self, namespace: str | None) -> bool:
        """Whether namespaced objects of `namespace` were listed. Cluster-scoped lookups (None, "") are
        always "seen": their kinds are listed whole, or recorded as collection errors (see `collected`)."""
        scope = self.info.namespaces
        return not scope or not namespace or namespace in scope

    def absent(self, kind: str, namespace: str | None, name: str) -> bool | None:
        """True when the object is known not to exist, False when present, None when it cannot be known:
        its namespace was outside the sweep, or its kind could not be read there."""
        if self.get(kind, namespace, name) is not None:
            return False
        if not self.sees(namespace) or not self.collected(kind):
            return None
        if namespace and any(e.get("kind") == kind and e.get("namespace") == namespace
                             for e in self.info.collection_errors):
            return None
        return True

    def outside(self, namespace: str | None, what: str) -> bool:
        """True when `namespace` is outside the sweep; then notes `what` (say "parent Gateway ns/name")
        as not checked, so the caller stays silent instead of calling it missing."""
        if self.sees(namespace):
            return False
        notes = UNSEEN.get()
        if notes is not None and what not in notes:
            notes.append(what)
        return True

    def age(self, timestamp: str | None) -> timedelta | None:
        t = parse_time(timestamp)
        return self.now - t if t else None

    def memo(self, name: str, factory: Callable[[Snapshot], _T]) -> _T:
        """A derived index built once per snapshot and shared by the checks that need it."""
        built: _T
        try:
            built = self._memo[name]
            return built
        except KeyError:
            pass
        with self._memo_lock:  # serve shares one snapshot between worker threads: build each index once
            if name not in self._memo:
                self._memo[name] = factory(self)
            built = self._memo[name]
            return built

    # --- ownership ----------------------------------------------------------------------------
    def owners(self, obj: Obj) -> Objs:
        out = []
        for ref in (obj.get("metadata") or {}).get("ownerReferences") or ():
            o = self._by_uid.get(ref.get("uid", ""))
            if o is not None:
                out.append(o)
        return out

    def controller_of(self, obj: Obj) -> Obj | None:
        for ref in (obj.get("metadata") or {}).get("ownerReferences") or ():
            if ref.get("controller"):
                return self._by_uid.get(ref.get("uid", ""))
        return None

    def top_controller(self, obj: Obj) -> Obj:
        """The outermost controller (Pod → ReplicaSet → Deployment), or the object itself."""
        seen = 0
        cur = obj
        while seen < 8:
            up = self.controller_of(cur)
            if up is None:
                return cur
            cur, seen = up, seen + 1
        return cur

    def owned(self, obj: Obj, kind: str | None = None) -> Objs:
        uid = (obj.get("metadata") or {}).get("uid")
        kids = self._children.get(uid, []) if uid else []
        return [k for k in kids if kind is None or k.get("kind") == kind]

    def pods_of(self, workload: Obj) -> Objs:
        """Pods a workload runs, through ReplicaSets for Deployments and Jobs for CronJobs."""
        pods: Objs = []
        stack = [workload]
        while stack:
            cur = stack.pop()
            for child in self.owned(cur):
                if child.get("kind") == "Pod":
                    pods.append(child)
                elif child.get("kind") in ("ReplicaSet", "Job"):
                    stack.append(child)
        return pods

    # --- selection ----------------------------------------------------------------------------
    def select(self, kind: str, namespace: str, selector: dict[str, Any] | None) -> Objs:
        """Objects of a kind in a namespace matching a LabelSelector (`{}` selects all)."""
        return [o for o in self.list(kind, namespace) if matches(selector, o["metadata"].get("labels"))]

    def service_pods(self, svc: Obj) -> Objs:
        sel = (svc.get("spec") or {}).get("selector")
        ns = svc["metadata"].get("namespace") or ""
        return [p for p in self.list("Pod", ns) if matches_map(sel, p["metadata"].get("labels"))]

    def endpoint_slices(self, svc: Obj) -> Objs:
        md = svc["metadata"]
        return self._slices.get((md.get("namespace") or "", md.get("name") or ""), [])

    def service_endpoints(self, svc: Obj) -> Objs | None:
        """Addresses behind a Service as {ip, ready, pod}: from EndpointSlices, else Endpoints.

        None means neither was captured, so readiness cannot be judged from endpoints.
        """
        slices = self.endpoint_slices(svc)
        out: Objs = []
        if slices:
            for es in slices:
                for ep in es.get("endpoints") or ():
                    cond = ep.get("conditions") or {}
                    ready = cond.get("ready")
                    ref = ep.get("targetRef") or {}
                    for ip in ep.get("addresses") or ():
                        out.append({"ip": ip, "ready": ready is not False,
                                    "pod": ref.get("name") if ref.get("kind") == "Pod" else None})
            return out
        md = svc["metadata"]
        eps = self.get("Endpoints", md.get("namespace"), md.get("name"))
        if eps is None:
            return None
        for subset in eps.get("subsets") or ():
            for ready, field_name in ((True, "addresses"), (False, "notReadyAddresses")):
                for a in subset.get(field_name) or ():
                    ref = a.get("targetRef") or {}
                    out.append({"ip": a.get("ip"), "ready": ready, "pod": ref.get("name") if ref.get("kind") == "Pod" else None})
        return out

    # --- events, nodes, logs --------------------------------------------------------------------
    def events_for(self, obj: Obj | Key, reason: str | None = None, warning_only: bool = False) -> Objs:
        """Events about an object, newest last."""
        key = obj if isinstance(obj, tuple) else key_of(obj)
        kind, ns, name = key
        if kind in self._cluster_kinds:
            ns = ""
        key = (kind, ns, name)
        evs = self._events.get(key, [])
        if len(evs) > 1 and key not in self._events_sorted:  # sort once, on first use: most are never read
            # a sorted copy put in place, never list.sort(): that empties the list while it sorts, and a
            # thread reading the same object's events meanwhile (serve's workers share a snapshot) saw none
            evs = self._events[key] = sorted(evs, key=lambda e: event_time(e) or self.now)
            self._events_sorted.add(key)
        if reason or warning_only:
            return [e for e in evs
                    if (not reason or e.get("reason") == reason) and (not warning_only or e.get("type") == "Warning")]
        return list(evs)

    def event_index(self) -> dict[Key, Objs]:
        return self._events

    def pods_on_node(self, node: str) -> Objs:
        return self._pods_by_node.get(node, [])

    def logs(self, namespace: str, pod: str, container: str, previous: bool = False) -> str | None:
        """A container's log, read only when asked (logs can be large)."""
        if self._log_reader is None:
            return None
        return self._log_reader(namespace, pod, container, previous)
