"""Disaster recovery from the snapshot: which namespaces are protected by which Velero backups, whether
each meets its recovery point objective, and a concrete recovery plan per failure scenario.

Pure logic over a Snapshot (no I/O, no clock: `snap.now` is "now"). The objectives come from the data
file knowledge/rto_rpo.yaml. Velero semantics (v1.15): a backup covers a namespace when its
`includedNamespaces` is empty, holds `*` or a glob matching it, and no `excludedNamespaces` entry matches;
only a `Completed` backup is a usable restore point; Backups made by a Schedule carry the label
`velero.io/schedule-name`.
"""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import yaml

from sre_expert.core import cron
from sre_expert.core.kinds import CLUSTER_SCOPED_NAMES, add_commands
from sre_expert.core.model import Key
from sre_expert.core.snapshot import Snapshot
from sre_expert.core.timeutil import human, parse_time
from sre_expert.core.units import objective_duration

Obj = dict[str, Any]

SCHEDULE_LABEL = "velero.io/schedule-name"
LOCATION_LABEL = "velero.io/storage-location"
DEFAULT_VELERO_NAMESPACE = "velero"

GOOD_PHASE = "Completed"
FAILED_PHASES = ("Failed", "PartiallyFailed", "FailedValidation")
TERMINAL_PHASES = (GOOD_PHASE, *FAILED_PHASES)
RUNNING_PHASES = (
    "",
    "New",
    "InProgress",
    "WaitingForPluginOperations",
    "WaitingForPluginOperationsPartiallyFailed",
    "Finalizing",
    "FinalizingPartiallyFailed",
)

# Resources that exist outside namespaces: a backup limited to these holds no namespace data.
# (the kinds of the kinds table, plus the cluster-scoped resources Velero users name that it does not list).
_CLUSTER_SCOPED = CLUSTER_SCOPED_NAMES | {"volumesnapshotclasses", "volumesnapshotcontents", "podsecuritypolicies"}


# ----------------------------------------------------------------------------------------- objectives


def format_duration(d: timedelta | None) -> str:
    """'24h', '1w', '30s', '0' for objectives, in the units of the RTO/RPO table (not kubectl-style ages)."""
    if d is None:
        return "-"
    secs = int(d.total_seconds())
    if secs == 0:
        return "0"
    for unit, size in (("w", 604800), ("h", 3600), ("m", 60)):
        if secs % size == 0:
            return f"{secs // size}{unit}"
    return f"{secs}s"


@dataclass(slots=True, frozen=True)
class Scenario:
    id: str
    name: str
    rto: timedelta
    rpo: timedelta
    method: str
    backup: str = "none"  # none | daily | weekly
    namespace_scoped: bool = False
    aliases: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "rto": format_duration(self.rto), "rpo": format_duration(self.rpo),
                "rtoSeconds": int(self.rto.total_seconds()), "rpoSeconds": int(self.rpo.total_seconds()),
                "method": self.method, "namespaceScoped": self.namespace_scoped}


@dataclass(slots=True, frozen=True)
class NamespaceClass:
    id: str
    description: str
    scenario: str
    required: bool
    namespaces: tuple[str, ...] = ()
    database_markers: tuple[str, ...] = ()


@dataclass(slots=True, frozen=True)
class Objectives:
    grace: timedelta
    scenarios: tuple[Scenario, ...]
    classes: tuple[NamespaceClass, ...]
    ignore_namespaces: frozenset[str]

    def scenario(self, name: str | None) -> Scenario | None:
        """A scenario by id, alias or name, case and separators ignored ('Namespace deletion' works)."""
        if not name:
            return None
        want = re.sub(r"[\s_]+", "-", name.strip().lower())
        for s in self.scenarios:
            if want == s.id or want in s.aliases or want == re.sub(r"\s+", "-", s.name.lower()):
                return s
        return None

    def klass(self, cid: str) -> NamespaceClass:
        return next(c for c in self.classes if c.id == cid)

    def infrastructure_namespaces(self) -> tuple[str, ...]:
        return next((c.namespaces for c in self.classes if c.id == "infrastructure"), ())


@cache
def objectives() -> Objectives:
    """The RTO/RPO table (knowledge/rto_rpo.yaml), loaded once."""
    text = (resources.files("sre_expert") / "knowledge" / "rto_rpo.yaml").read_text(encoding="utf-8")
    doc = yaml.load(text, Loader=yaml.CSafeLoader) or {}
    scenarios = tuple(
        Scenario(
            id=s["id"], name=s["name"], rto=objective_duration(s.get("rto")), rpo=objective_duration(s.get("rpo")),
            method=s.get("method", ""), backup=s.get("backup", "none"),
            namespace_scoped=bool(s.get("namespace_scoped")), aliases=tuple(s.get("aliases") or ()),
        )
        for s in doc.get("scenarios") or ()
    )
    classes = tuple(
        NamespaceClass(
            id=c["id"], description=c.get("description", ""), scenario=c["scenario"], required=bool(c.get("required")),
            namespaces=tuple(c.get("namespaces") or ()), database_markers=tuple(c.get("database_markers") or ()),
        )
        for c in doc.get("namespace_classes") or ()
    )
    ids = {s.id for s in scenarios}
    for c in classes:
        if c.scenario not in ids:
            raise ValueError(f"rto_rpo.yaml: class {c.id} names unknown scenario {c.scenario}")
    return Objectives(objective_duration(doc.get("grace", "1h")), scenarios, classes,
                      frozenset(doc.get("ignore_namespaces") or ()))


# ----------------------------------------------------------------------------------------- Velero objects


@lru_cache(maxsize=4096)
def _split_patterns(patterns: tuple[str, ...]) -> tuple[bool, frozenset[str], tuple[str, ...]]:
    """(has '*', plain names, glob patterns): split once, since a schedule may list hundreds of namespaces."""
    globs = tuple(p for p in patterns if p != "*" and any(ch in p for ch in "*?["))
    return "*" in patterns, frozenset(patterns).difference(globs), globs


def _matches(split: tuple[bool, frozenset[str], tuple[str, ...]], value: str) -> bool:
    """`value` against patterns split by _split_patterns."""
    star, plain, globs = split
    return star or value in plain or any(fnmatch.fnmatchcase(value, g) for g in globs)


@dataclass(slots=True, frozen=True)
class Scope:
    """What a Backup (or a Schedule's template) selects."""

    included: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    included_resources: tuple[str, ...] = ()
    excluded_resources: tuple[str, ...] = ()
    namespaced_resources: tuple[str, ...] = ()
    excluded_namespaced_resources: tuple[str, ...] = ()
    include_cluster_resources: bool | None = None
    label_selector: bool = False
    # covers() runs for every namespace against every schedule and backup scope: its parts computed once
    _holds_namespaces: bool = field(init=False, compare=False, repr=False, default=True)
    _included: tuple[bool, frozenset[str], tuple[str, ...]] = field(init=False, compare=False, repr=False,
                                                                    default=(False, frozenset(), ()))
    _excluded: tuple[bool, frozenset[str], tuple[str, ...]] = field(init=False, compare=False, repr=False,
                                                                    default=(False, frozenset(), ()))

    def __post_init__(self) -> None:
        object.__setattr__(self, "_holds_namespaces", self._namespace_data())
        object.__setattr__(self, "_included", _split_patterns(self.included))
        object.__setattr__(self, "_excluded", _split_patterns(self.excluded))

    @classmethod
    def of(cls, spec: Obj | None) -> Scope:
        spec = spec or {}

        def t(k: str) -> tuple[str, ...]:
            return tuple(str(x) for x in spec.get(k) or ())

        return cls(
            included=t("includedNamespaces"),
            excluded=t("excludedNamespaces"),
            included_resources=t("includedResources"),
            excluded_resources=t("excludedResources"),
            namespaced_resources=t("includedNamespaceScopedResources"),
            excluded_namespaced_resources=t("excludedNamespaceScopedResources"),
            include_cluster_resources=spec.get("includeClusterResources"),
            label_selector=bool(spec.get("labelSelector") or spec.get("orLabelSelectors")),
        )

    @property
    def namespace_data(self) -> bool:
        """False when the backup selects only cluster-scoped resources (no namespace content at all)."""
        return self._holds_namespaces

    def _namespace_data(self) -> bool:
        if "*" in self.excluded_resources or "*" in self.excluded_namespaced_resources:
            return False
        res = [r for r in self.included_resources if r != "*"]
        if self.included_resources and "*" not in self.included_resources:
            return not all(r.split(".", 1)[0].lower() in _CLUSTER_SCOPED for r in res)
        return True

    def covers(self, namespace: str) -> bool:
        if not self._holds_namespaces:
            return False
        if self.included and not _matches(self._included, namespace):
            return False
        return not _matches(self._excluded, namespace)

    def cluster_wide(self) -> bool:
        """Holds the cluster-scoped resources (CRDs, cluster roles, storage classes...): Velero includes them
        when asked to, or by default when the backup takes every namespace."""
        if self.include_cluster_resources is not None:
            return bool(self.include_cluster_resources)
        return not self.included or "*" in self.included

    def limits(self) -> list[str]:
        """What makes the coverage of a namespace partial."""
        out = []
        if self.included_resources and "*" not in self.included_resources:
            out.append("only resources " + ",".join(self.included_resources))
        if self.namespaced_resources and "*" not in self.namespaced_resources:
            out.append("only resources " + ",".join(self.namespaced_resources))
        if self.excluded_resources:
            out.append("excluding " + ",".join(self.excluded_resources))
        if self.label_selector:
            out.append("only objects matching its label selector")
        return out


@dataclass(slots=True)
class BackupInfo:
    name: str
    namespace: str
    phase: str
    schedule: str | None
    location: str | None
    scope: Scope
    time: datetime | None  # when the data was taken: startTimestamp, else creationTimestamp
    completed: datetime | None
    expires: datetime | None
    obj: Obj

    @property
    def key(self) -> Key:
        return ("Backup", self.namespace, self.name)

    @property
    def status(self) -> Obj:
        return self.obj.get("status") or {}

    @property
    def volumes(self) -> str:
        """How volume data was captured: 'fs-backup', 'snapshots', 'snapshot data mover', 'none' or 'default'."""
        spec = self.obj.get("spec") or {}
        st = self.status
        if spec.get("defaultVolumesToFsBackup") or spec.get("defaultVolumesToRestic"):
            return "fs-backup"
        if spec.get("snapshotMoveData"):
            return "snapshot data mover"
        if (st.get("volumeSnapshotsCompleted") or 0) + (st.get("csiVolumeSnapshotsCompleted") or 0) > 0:
            return "snapshots"
        if spec.get("snapshotVolumes") is False:
            return "none"
        return "default"


@dataclass(slots=True)
class ScheduleInfo:
    name: str
    namespace: str
    expression: str
    paused: bool
    phase: str
    scope: Scope
    location: str | None
    last_backup: datetime | None
    obj: Obj
    backups: list[BackupInfo] = field(default_factory=list)  # newest first
    cron_error: str | None = None

    @property
    def key(self) -> Key:
        return ("Schedule", self.namespace, self.name)

    @property
    def newest(self) -> BackupInfo | None:
        return self.backups[0] if self.backups else None

    @property
    def newest_terminal(self) -> BackupInfo | None:
        return next((b for b in self.backups if b.phase in TERMINAL_PHASES), None)

    def period(self, at: datetime) -> timedelta | None:
        try:
            return cron.parse(self.expression).period(at)
        except cron.CronError:
            return None


def _order(b: BackupInfo) -> tuple[float, str]:
    return (b.time.timestamp() if b.time else 0.0, b.name)


def _bsl_location_for(spec: Obj | None, default_bsl: str | None) -> str | None:
    return (spec or {}).get("storageLocation") or default_bsl


class VeleroState:
    """Velero objects of a snapshot, indexed once: locations, schedules with their backups, restores."""

    def __init__(self, snap: Snapshot):
        self.snap = snap
        self.locations: dict[str, Obj] = {}
        nss: dict[str, int] = defaultdict(int)
        for bsl in snap.list("BackupStorageLocation"):
            self.locations[bsl["metadata"]["name"]] = bsl
            nss[bsl["metadata"].get("namespace") or ""] += 1
        schedules = snap.list("Schedule")
        for s in schedules:
            if (s.get("apiVersion") or "").startswith("velero.io/"):
                nss[s["metadata"].get("namespace") or ""] += 1
        self.namespace = max(nss, key=lambda k: nss[k]) if nss else DEFAULT_VELERO_NAMESPACE
        self.default_location = next(
            (n for n, b in self.locations.items() if (b.get("spec") or {}).get("default")),
            "default" if "default" in self.locations else None,
        )
        self.backups: list[BackupInfo] = []
        for b in snap.list("Backup"):
            if not (b.get("apiVersion") or "").startswith("velero.io/"):
                continue
            md, spec, st = b["metadata"], b.get("spec") or {}, b.get("status") or {}
            labels = md.get("labels") or {}
            self.backups.append(BackupInfo(
                name=md["name"], namespace=md.get("namespace") or "", phase=st.get("phase") or "",
                schedule=labels.get(SCHEDULE_LABEL),
                location=spec.get("storageLocation") or labels.get(LOCATION_LABEL) or self.default_location,
                scope=Scope.of(spec),
                time=parse_time(st.get("startTimestamp")) or parse_time(md.get("creationTimestamp")),
                completed=parse_time(st.get("completionTimestamp")),
                expires=parse_time(st.get("expiration")),
                obj=b,
            ))
        self.backups.sort(key=_order, reverse=True)
        self.schedules: dict[str, ScheduleInfo] = {}
        for s in schedules:
            if not (s.get("apiVersion") or "").startswith("velero.io/"):
                continue
            md, spec, st = s["metadata"], s.get("spec") or {}, s.get("status") or {}
            tpl = spec.get("template") or {}
            info = ScheduleInfo(
                name=md["name"], namespace=md.get("namespace") or "", expression=spec.get("schedule") or "",
                paused=bool(spec.get("paused")), phase=st.get("phase") or "", scope=Scope.of(tpl),
                location=_bsl_location_for(tpl, self.default_location),
                last_backup=parse_time(st.get("lastBackup")), obj=s,
            )
            try:
                cron.parse(info.expression)
            except cron.CronError as e:
                info.cron_error = str(e)
            self.schedules[info.name] = info
        self.manual: list[BackupInfo] = []
        for backup in self.backups:
            sched = self.schedules.get(backup.schedule or "")
            if sched is not None and backup.namespace == sched.namespace:
                sched.backups.append(backup)
            else:
                self.manual.append(backup)
        self.good = [b for b in self.backups if b.phase == GOOD_PHASE]
        # Newest backup per distinct scope: a namespace is then judged against a handful of scopes
        # (about one per schedule) instead of every retained backup.
        self._good_by_scope: dict[Scope, BackupInfo] = {}
        self._any_by_scope: dict[Scope, BackupInfo] = {}
        for backup in self.backups:
            self._any_by_scope.setdefault(backup.scope, backup)
            if backup.phase == GOOD_PHASE:
                self._good_by_scope.setdefault(backup.scope, backup)

    @property
    def installed(self) -> bool:
        return bool(self.locations or self.schedules or self.backups)

    @property
    def not_collected(self) -> list[str]:
        """Velero kinds the capture does not hold (a bundle without their files): no schedule or backup can
        be judged missing from it."""
        return [k for k in ("Schedule", "Backup") if not self.snap.collected(k)]

    @property
    def unseen(self) -> bool:
        """Whether Velero is installed, and what it backs up, is unknown: its Schedules or Backups were not
        collected, or nothing of it was read because its namespace was outside a scoped sweep (`-n`)."""
        return bool(self.not_collected) or (not self.installed and not self.snap.sees(self.namespace))

    def location_available(self, name: str | None) -> tuple[bool | None, str]:
        """(available?, evidence) of a BackupStorageLocation."""
        if not name:
            return None, "no backup storage location named and no default location"
        bsl = self.locations.get(name)
        if bsl is None:
            return False, f"BackupStorageLocation {name} does not exist"
        st = bsl.get("status") or {}
        phase = st.get("phase") or ""
        if phase == "Available":
            return True, f"BackupStorageLocation {name}: phase Available, lastValidationTime {st.get('lastValidationTime', '-')}"
        if phase == "Unavailable":
            return False, f"BackupStorageLocation {name}: phase Unavailable: {st.get('message') or 'no message'}"
        return None, f"BackupStorageLocation {name}: phase not set (never validated)"

    def _newest(self, table: dict[Scope, BackupInfo], namespace: str) -> BackupInfo | None:
        best: BackupInfo | None = None
        for scope, b in table.items():
            if scope.covers(namespace) and (best is None or _order(b) > _order(best)):
                best = b
        return best

    def newest_good_covering(self, namespace: str) -> BackupInfo | None:
        """The newest Completed backup that holds this namespace: the restore point."""
        return self._newest(self._good_by_scope, namespace)

    def newest_attempt_covering(self, namespace: str) -> BackupInfo | None:
        """The newest backup of any phase that holds this namespace."""
        return self._newest(self._any_by_scope, namespace)

    def cluster_archive(self) -> BackupInfo | None:
        """Newest Completed backup holding the cluster-scoped resources (the weekly archive)."""
        return next((b for b in self.good if b.scope.cluster_wide()), None)

    def server(self) -> Obj | None:
        """The velero server Deployment."""
        d = self.snap.get("Deployment", self.namespace, "velero")
        if d is not None:
            return d
        for dep in self.snap.list("Deployment", self.namespace):
            labels = dep["metadata"].get("labels") or {}
            if labels.get("app.kubernetes.io/name") == "velero" or labels.get("component") == "velero":
                return dep
        return None

    def node_agent(self) -> Obj | None:
        return self.snap.get("DaemonSet", self.namespace, "node-agent") or self.snap.get("DaemonSet", self.namespace, "restic")


# ----------------------------------------------------------------------------------------- namespaces


def _image_base(image: str) -> str:
    repo = image.split("@", 1)[0]
    last = repo.rsplit("/", 1)[-1]
    return last.split(":", 1)[0].lower()


def database_workloads(snap: Snapshot, markers: tuple[str, ...]) -> dict[str, list[Obj]]:
    """namespace → StatefulSets/Deployments that run a database (by app label or image name)."""
    marks = set(markers)
    out: dict[str, list[Obj]] = defaultdict(list)
    for kind in ("StatefulSet", "Deployment"):
        for w in snap.list(kind):
            md = w["metadata"]
            labels = md.get("labels") or {}
            hit = labels.get("app.kubernetes.io/name") in marks or labels.get("app") in marks
            if not hit:
                pod_spec = ((w.get("spec") or {}).get("template") or {}).get("spec") or {}
                hit = any(_image_base(c.get("image") or "") in marks for c in pod_spec.get("containers") or ())
            if hit:
                out[md.get("namespace") or ""].append(w)
    return dict(out)


@dataclass(slots=True)
class ScheduleCoverage:
    name: str
    expression: str
    paused: bool
    phase: str
    limits: list[str]
    newest_backup: str | None
    newest_phase: str | None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "schedule": self.expression, "paused": self.paused, "phase": self.phase,
                "limits": self.limits, "newestBackup": self.newest_backup, "newestPhase": self.newest_phase}


@dataclass(slots=True)
class NamespaceDR:
    """Recovery-point standing of one namespace."""

    namespace: str
    klass: str
    required: bool
    scenario: str
    rpo: timedelta
    rto: timedelta
    schedules: list[ScheduleCoverage]
    last_backup: str | None
    last_backup_time: datetime | None
    age: timedelta | None
    met: bool | None
    status: str  # met | missed | unprotected (required, no schedule) | not-covered (not required, no schedule)
    reason: str
    databases: list[str] = field(default_factory=list)
    last_backup_schedule: str | None = None
    last_backup_location: str | None = None
    volumes: str | None = None
    newest_attempt: str | None = None
    newest_attempt_phase: str | None = None
    depends_on: list[Key] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace, "class": self.klass, "required": self.required, "scenario": self.scenario,
            "rpo": format_duration(self.rpo), "rpoSeconds": int(self.rpo.total_seconds()),
            "rto": format_duration(self.rto),
            "schedules": [s.to_json() for s in self.schedules],
            "lastBackup": None if self.last_backup is None else {
                "name": self.last_backup,
                "time": self.last_backup_time.isoformat().replace("+00:00", "Z") if self.last_backup_time else None,
                "age": human(self.age) if self.age is not None else None,
                "ageSeconds": int(self.age.total_seconds()) if self.age is not None else None,
                "schedule": self.last_backup_schedule, "storageLocation": self.last_backup_location,
                "volumes": self.volumes,
            },
            "newestAttempt": None if self.newest_attempt is None else {"name": self.newest_attempt, "phase": self.newest_attempt_phase},
            "met": self.met, "status": self.status, "reason": self.reason, "databases": self.databases,
        }


def _classify(ns: str, obj: Objectives, dbs: dict[str, list[Obj]]) -> NamespaceClass:
    for c in obj.classes:
        if c.namespaces and ns in c.namespaces:
            return c
        if c.database_markers and ns in dbs:
            return c
        if not c.namespaces and not c.database_markers:
            return c
    return obj.classes[-1]


def dr_status(snap: Snapshot, state: VeleroState | None = None) -> list[NamespaceDR]:
    """Every namespace with its protecting schedules, newest good backup and RPO verdict, by name."""
    obj = objectives()
    st = state or VeleroState(snap)
    markers = next((c.database_markers for c in obj.classes if c.database_markers), ())
    dbs = database_workloads(snap, markers)
    scenarios = {s.id: s for s in obj.scenarios}
    limit_grace = obj.grace
    out: list[NamespaceDR] = []
    if st.unseen:  # every namespace would read "in no schedule": unknowable, not a verdict
        if not st.not_collected:  # not collected: the caller says so (run_dr_status)
            snap.outside(st.namespace, f"Velero schedules and backups (namespace {st.namespace})")
        return out
    for ns in snap.namespaces():
        if ns in obj.ignore_namespaces:
            continue
        if snap.outside(ns, f"namespace {ns}"):
            continue  # its databases (hence its RPO class) were not read
        klass = _classify(ns, obj, dbs)
        sc = scenarios[klass.scenario]
        covering = [s for s in st.schedules.values() if s.scope.covers(ns)]
        cov = [
            ScheduleCoverage(s.name, s.expression, s.paused, s.phase, s.scope.limits(),
                             s.newest.name if s.newest else None, s.newest.phase if s.newest else None)
            for s in sorted(covering, key=lambda s: s.name)
        ]
        good = st.newest_good_covering(ns)
        attempt = st.newest_attempt_covering(ns)
        age = snap.now - good.time if good and good.time else None
        deps: list[Key] = []
        for s in covering:
            deps.append(s.key)
            if s.newest_terminal is not None:
                deps.append(s.newest_terminal.key)
            if s.newest is not None and s.newest is not s.newest_terminal:
                deps.append(s.newest.key)
            if s.location:
                deps.append(("BackupStorageLocation", st.namespace, s.location))
        if not covering:
            status = "unprotected" if klass.required else "not-covered"
            met = False if klass.required else None
            reason = "no Velero Schedule includes this namespace"
            if good is not None and age is not None:
                reason += f"; the newest Completed backup holding it is {good.name} ({human(age)} old)"
        elif good is None or age is None:
            met, status = False, "missed"
            reason = "no Completed backup holds this namespace"
            if attempt is not None:
                reason += f"; the newest attempt {attempt.name} is {attempt.phase or 'New'}"
        elif age <= sc.rpo + limit_grace:
            met, status = True, "met"
            reason = f"newest Completed backup {good.name} is {human(age)} old (RPO {format_duration(sc.rpo)})"
        else:
            met, status = False, "missed"
            reason = f"newest Completed backup {good.name} is {human(age)} old, beyond the RPO of {format_duration(sc.rpo)}"
            if attempt is not None and attempt is not good:
                reason += f"; the newest attempt {attempt.name} is {attempt.phase or 'New'}"
        out.append(NamespaceDR(
            namespace=ns, klass=klass.id, required=klass.required, scenario=sc.id, rpo=sc.rpo, rto=sc.rto,
            schedules=cov, last_backup=good.name if good else None, last_backup_time=good.time if good else None,
            age=age, met=met, status=status, reason=reason,
            databases=[f"{w['kind']}/{w['metadata']['name']}" for w in dbs.get(ns, ())],
            last_backup_schedule=good.schedule if good else None,
            last_backup_location=good.location if good else None,
            volumes=good.volumes if good else None,
            newest_attempt=attempt.name if attempt else None,
            newest_attempt_phase=(attempt.phase or "New") if attempt else None,
            depends_on=deps,
        ))
    return out


@dataclass(slots=True)
class ArchiveDR:
    """Standing of the cluster archive (cluster-scoped resources) against the cluster-failure RPO."""

    rpo: timedelta
    schedules: list[str]
    backup: str | None
    time: datetime | None
    age: timedelta | None
    met: bool

    def to_json(self) -> dict[str, Any]:
        return {"rpo": format_duration(self.rpo), "rpoSeconds": int(self.rpo.total_seconds()), "schedules": self.schedules,
                "backup": self.backup, "time": self.time.isoformat().replace("+00:00", "Z") if self.time else None,
                "age": human(self.age) if self.age is not None else None, "met": self.met}


def dr_cluster_archive(snap: Snapshot, state: VeleroState | None = None) -> ArchiveDR:
    st = state or VeleroState(snap)
    sc = objectives().scenario("cluster-failure")
    rpo = sc.rpo if sc else timedelta(weeks=1)
    archive = st.cluster_archive()
    age = snap.now - archive.time if archive is not None and archive.time else None
    return ArchiveDR(
        rpo=rpo, schedules=sorted(s.name for s in st.schedules.values() if s.scope.cluster_wide()),
        backup=archive.name if archive else None, time=archive.time if archive else None, age=age,
        met=age is not None and age <= rpo + objectives().grace,
    )


# ----------------------------------------------------------------------------------------- plans


@dataclass(slots=True)
class Step:
    description: str
    command: str | None = None
    safety: str = "read-only"  # read-only | mutating | destructive (None command: a manual action)

    def to_json(self) -> dict[str, Any]:
        return {"description": self.description, "command": self.command, "safety": self.safety if self.command else "manual"}


@dataclass(slots=True)
class Precondition:
    description: str
    ok: bool | None  # None: cannot be judged from the snapshot
    detail: str
    blocking: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"description": self.description, "ok": self.ok, "detail": self.detail, "blocking": self.blocking}


@dataclass(slots=True)
class Plan:
    scenario: Scenario
    namespace: str | None
    backup: str | None = None
    backup_time: datetime | None = None
    backup_age: timedelta | None = None
    rpo_met: bool | None = None
    preconditions: list[Precondition] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """No blocking precondition fails."""
        return not any(p.ok is False and p.blocking for p in self.preconditions)

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.to_json(),
            "namespace": self.namespace,
            "backup": None if self.backup is None else {
                "name": self.backup,
                "time": self.backup_time.isoformat().replace("+00:00", "Z") if self.backup_time else None,
                "age": human(self.backup_age) if self.backup_age is not None else None,
                "rpoMet": self.rpo_met,
            },
            "ready": self.ready,
            "preconditions": [p.to_json() for p in self.preconditions],
            "steps": [s.to_json() for s in self.steps],
            "notes": self.notes,
            "candidates": self.candidates,
        }


class UnknownScenario(ValueError):
    def __init__(self, name: str):
        self.valid = [s.id for s in objectives().scenarios]
        super().__init__(f"unknown scenario {name!r}; valid scenarios: {', '.join(self.valid)}")


def _ts(snap: Snapshot) -> str:
    return snap.now.strftime("%Y%m%d%H%M")


def _restore_name(prefix: str, snap: Snapshot) -> str:
    suffix = "-" + _ts(snap)
    return (prefix[: 63 - len(suffix)].rstrip("-") + suffix).lower()


def _deployment_available(dep: Obj | None, read: bool = True) -> tuple[bool | None, str]:
    if dep is None:
        if not read:
            return None, "not checked: Deployments were not collected"
        return None, "velero Deployment not found in the snapshot"
    md, spec, st = dep["metadata"], dep.get("spec") or {}, dep.get("status") or {}
    want = spec.get("replicas", 1)
    avail = st.get("availableReplicas") or 0
    text = f"Deployment {md.get('namespace')}/{md['name']}: {avail}/{want} replicas available"
    return (avail >= 1 if want else False), text


def _apps_for_namespace(snap: Snapshot, ns: str) -> list[Obj]:
    out = []
    for app in snap.list("Application"):
        if not (app.get("apiVersion") or "").startswith("argoproj.io/"):
            continue
        dest = (app.get("spec") or {}).get("destination") or {}
        if dest.get("namespace") == ns:
            out.append(app)
    return sorted(out, key=lambda a: a["metadata"]["name"])


def _argocd_pause_resume(snap: Snapshot, ns: str) -> tuple[list[Step], list[Step]]:
    """Steps that stop Argo CD auto-sync for the namespace's Applications and put it back as it was."""
    pause: list[Step] = []
    resume: list[Step] = []
    if any((a["metadata"].get("namespace") or "") == ns for a in snap.list("Application")):
        return pause, resume  # Argo CD itself lives here: it comes back with the restore, nothing to pause
    for app in _apps_for_namespace(snap, ns):
        auto = ((app.get("spec") or {}).get("syncPolicy") or {}).get("automated")
        if auto is None:
            continue
        name = app["metadata"]["name"]
        app_ns = app["metadata"].get("namespace") or "argocd"
        flags = ["--sync-policy automated"]
        if auto.get("selfHeal"):
            flags.append("--self-heal")
        if auto.get("prune"):
            flags.append("--auto-prune")
        pause.append(Step(
            f"Stop Argo CD from re-creating objects of {ns} from Git during the restore (Application {name} "
            "auto-syncs)",
            f"argocd app set {name} --app-namespace {app_ns} --sync-policy none", "mutating"))
        resume.append(Step(f"Give Application {name} its automated sync policy back",
                           f"argocd app set {name} --app-namespace {app_ns} {' '.join(flags)}", "mutating"))
    return pause, resume


def _backup_preconditions(st: VeleroState, b: BackupInfo | None, snap: Snapshot, rpo: timedelta,
                          what: str) -> list[Precondition]:
    out: list[Precondition] = []
    ok, text = _deployment_available(st.server(), snap.collected("Deployment"))
    out.append(Precondition("The Velero server is running", ok, text))
    if b is None and not snap.collected("Backup"):
        out.append(Precondition(f"A Completed backup of {what} exists", None,
                                "not checked: Backups were not collected"))
        return out
    if b is None:
        out.append(Precondition(f"A Completed backup of {what} exists", False,
                                f"no Backup with phase Completed covers {what}"))
        return out
    out.append(Precondition(f"Backup {b.name} is Completed", b.phase == GOOD_PHASE,
                            f"Backup {b.name}: phase {b.phase or 'New'}"))
    loc_ok, loc_text = st.location_available(b.location)
    out.append(Precondition(f"Its storage location {b.location or '(default)'} is Available", loc_ok, loc_text))
    age = snap.now - b.time if b.time else None
    if age is not None and b.time is not None:
        grace = objectives().grace
        out.append(Precondition(
            f"The backup is within the RPO of {format_duration(rpo)}", age <= rpo + grace,
            f"Backup {b.name} taken {b.time.isoformat().replace('+00:00', 'Z')} ({human(age)} ago)", blocking=False))
    if b.expires is not None and b.expires - snap.now < timedelta(hours=24):
        out.append(Precondition("The backup is not about to expire", b.expires > snap.now,
                                f"status.expiration {b.expires.isoformat().replace('+00:00', 'Z')}: garbage collection "
                                "deletes it then", blocking=False))
    if b.volumes == "fs-backup":
        na = st.node_agent()
        if na is not None:
            s = na.get("status") or {}
            ready, want = s.get("numberReady") or 0, s.get("desiredNumberScheduled") or 0
            out.append(Precondition("node-agent runs on every node (file-system restore needs it)",
                                    want > 0 and ready >= want, f"DaemonSet {st.namespace}/node-agent: {ready}/{want} ready"))
        else:
            out.append(Precondition("node-agent is installed (file-system restore needs it)", False,
                                    f"no DaemonSet node-agent in {st.namespace}"))
    return out


def _candidates(snap: Snapshot) -> list[str]:
    return [d.namespace for d in dr_status(snap) if d.required]


def dr_plan(snap: Snapshot, scenario: str, namespace: str | None = None) -> Plan:
    """The recovery procedure for a scenario of the RTO/RPO table, built from this snapshot.

    Raises UnknownScenario (with `.valid`) for a scenario that is not in the table.
    """
    sc = objectives().scenario(scenario)
    if sc is None:
        raise UnknownScenario(scenario)
    st = VeleroState(snap)
    builder = {
        "pod-failure": _plan_pod,
        "node-failure": _plan_node,
        "database-corruption": _plan_database,
        "namespace-deletion": _plan_namespace,
        "cluster-failure": _plan_cluster,
        "region-failure": _plan_region,
    }.get(sc.id)
    plan = Plan(sc, namespace)
    if builder is None:  # a scenario added to the data file without a procedure in code
        plan.notes.append(f"Recovery method: {sc.method}")
        return plan
    if sc.namespace_scoped and not namespace:
        plan.candidates = _candidates(snap)
        plan.preconditions.append(Precondition(
            "A namespace is named", False,
            f"scenario {sc.id} restores one namespace; choose one of: {', '.join(plan.candidates) or '(none found)'}"))
        return plan
    builder(snap, st, plan)
    if st.not_collected:
        plan.notes.append(f"Velero {' and '.join(st.not_collected)} {'was' if len(st.not_collected) == 1 else 'were'} "
                          "not collected, so the restore point and the preconditions that need them are unknown; add "
                          f"them: {add_commands(st.not_collected)}")
    elif st.unseen:
        plan.notes.append(f"Velero's namespace {st.namespace} is outside the swept namespaces ({snap.info.scope_text()}): "
                          "its backups, schedules and storage locations were not read, so the restore point and the "
                          "preconditions that need them are unknown; sweep it too (-n " + st.namespace + ")")
    return plan


def _set_backup(plan: Plan, b: BackupInfo | None, snap: Snapshot) -> None:
    if b is None:
        return
    plan.backup, plan.backup_time = b.name, b.time
    plan.backup_age = snap.now - b.time if b.time else None
    if plan.backup_age is not None:
        plan.rpo_met = plan.backup_age <= plan.scenario.rpo + objectives().grace


def _controller_free_pods(snap: Snapshot, ns: str | None) -> list[Obj]:
    pods = snap.list("Pod", ns) if ns else snap.list("Pod")
    return [p for p in pods if not any(r.get("controller") for r in p["metadata"].get("ownerReferences") or ())]


def _plan_pod(snap: Snapshot, st: VeleroState, plan: Plan) -> None:
    ns = plan.namespace
    where = f"-n {ns}" if ns else "-A"
    bare = _controller_free_pods(snap, ns)
    plan.preconditions.append(Precondition(
        "Every pod is managed by a controller (a bare pod is not re-created)", not bare,
        ("pods without a controller: " + ", ".join(f"{p['metadata'].get('namespace')}/{p['metadata']['name']}" for p in bare[:10]))
        if bare else "all pods have a controlling owner", blocking=False))
    single = []
    for kind in ("Deployment", "StatefulSet"):
        for w in (snap.list(kind, ns) if ns else snap.list(kind)):
            if ((w.get("spec") or {}).get("replicas", 1) or 0) == 1:
                single.append(f"{kind} {w['metadata'].get('namespace')}/{w['metadata']['name']}")
    plan.preconditions.append(Precondition(
        "Workloads run at least 2 replicas (an RTO of 0s needs a spare)", not single,
        ("single-replica: " + ", ".join(single[:10]) + (f" and {len(single) - 10} more" if len(single) > 10 else ""))
        if single else "every Deployment/StatefulSet runs 2 or more replicas", blocking=False))
    plan.steps.append(Step("List pods that are not Running or Succeeded",
                           f"kubectl get pods {where} --field-selector=status.phase!=Running,status.phase!=Succeeded -o wide"))
    bad = []
    for p in (snap.list("Pod", ns) if ns else snap.list("Pod")):
        phase = (p.get("status") or {}).get("phase")
        statuses = (p.get("status") or {}).get("containerStatuses") or []
        if phase not in ("Running", "Succeeded") or any(not c.get("ready") for c in statuses if phase == "Running"):
            bad.append(p)
    for p in bad[:5]:
        pns, pname = p["metadata"].get("namespace"), p["metadata"]["name"]
        plan.steps.append(Step(f"Read why pod {pns}/{pname} is failing", f"kubectl describe pod {pname} -n {pns}"))
        for c in ((p.get("status") or {}).get("containerStatuses") or [])[:2]:
            if c.get("restartCount"):
                plan.steps.append(Step(f"Read the crashed container {c['name']}'s previous log",
                                       f"kubectl logs {pname} -n {pns} -c {c['name']} --previous --tail=100"))
    plan.steps.append(Step("Read recent events", f"kubectl get events {where} --sort-by=.lastTimestamp"))
    for p in bad[:5]:
        pns, pname = p["metadata"].get("namespace"), p["metadata"]["name"]
        if any(r.get("controller") for r in p["metadata"].get("ownerReferences") or ()):
            plan.steps.append(Step(f"If pod {pns}/{pname} is wedged, delete it; its controller creates a new one",
                                   f"kubectl delete pod {pname} -n {pns}", "destructive"))
    plan.notes.append("Kubernetes restarts failed containers and replaces deleted pods on its own; no data is restored. "
                      "For a crash loop follow runbook pod-not-starting.")


def _node_ready(node: Obj) -> bool:
    for c in (node.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def _plan_node(snap: Snapshot, st: VeleroState, plan: Plan) -> None:
    nodes = snap.list("Node")
    ready = [n for n in nodes if _node_ready(n)]
    down = [n for n in nodes if not _node_ready(n)]
    if nodes:
        plan.preconditions.append(Precondition(
            "At least 2 nodes are Ready to take the evicted pods", len(ready) >= 2,
            f"{len(ready)} of {len(nodes)} nodes Ready" + (f"; not Ready: {', '.join(n['metadata']['name'] for n in down)}" if down else "")))
    else:
        plan.preconditions.append(Precondition("At least 2 nodes are Ready", None, "no Node objects in the snapshot"))
    plan.steps.append(Step("See which nodes are not Ready", "kubectl get nodes -o wide"))
    shown: list[Obj | None] = [*down[:5]] or [None]
    for n in shown:
        name = n["metadata"]["name"] if n else "NODE"
        plan.steps.append(Step(f"Read the conditions and events of node {name}", f"kubectl describe node {name}"))
        plan.steps.append(Step(f"List the pods that ran on {name}",
                               f"kubectl get pods -A -o wide --field-selector spec.nodeName={name}"))
        plan.steps.append(Step(f"Stop new pods landing on {name}", f"kubectl cordon {name}", "mutating"))
        plan.steps.append(Step(f"Evict the remaining pods from {name} so they reschedule elsewhere",
                               f"kubectl drain {name} --ignore-daemonsets --delete-emptydir-data --timeout=10m", "destructive"))
        if n is not None:
            stuck = [p for p in snap.pods_on_node(name) if (p.get("metadata") or {}).get("deletionTimestamp")
                     and (snap.controller_of(p) or {}).get("kind") == "StatefulSet"]
            for p in stuck[:5]:
                pns, pname = p["metadata"].get("namespace"), p["metadata"]["name"]
                plan.steps.append(Step(
                    f"Only once {name} is confirmed powered off: release StatefulSet pod {pns}/{pname} stuck Terminating",
                    f"kubectl delete pod {pname} -n {pns} --force --grace-period=0", "destructive"))
    if snap.namespaces() and "longhorn-system" in snap.namespaces():
        plan.steps.append(Step("Check that Longhorn volumes re-attached and rebuilt their replicas",
                               "kubectl get volumes.longhorn.io -n longhorn-system"))
    plan.steps.append(Step("Confirm every pod is running again",
                           "kubectl get pods -A --field-selector=status.phase!=Running,status.phase!=Succeeded"))
    plan.notes.append("Pods of a lost node are replaced on other nodes after the node-monitor grace period; no backup "
                      "is involved. Volumes attached to the lost node may need their attachment released first.")


def _db_pvcs(snap: Snapshot, sts: Obj) -> list[str]:
    ns = sts["metadata"].get("namespace")
    names: list[str] = []
    for pod in snap.pods_of(sts):
        for v in (pod.get("spec") or {}).get("volumes") or ():
            claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
            if claim and claim not in names:
                names.append(claim)
    if not names:
        sname = sts["metadata"]["name"]
        prefixes = [f"{t['metadata']['name']}-{sname}-" for t in (sts.get("spec") or {}).get("volumeClaimTemplates") or ()
                    if (t.get("metadata") or {}).get("name")]
        names = sorted(p["metadata"]["name"] for p in snap.list("PersistentVolumeClaim", ns)
                       if any(p["metadata"]["name"].startswith(x) for x in prefixes))
    return names


def _verify_steps(plan: Plan, restore: str, ns: str, snap: Snapshot) -> None:
    plan.steps.append(Step("Check the restore finished Completed, with its warnings and errors",
                           f"velero restore describe {restore} --details"))
    plan.steps.append(Step("Read the restore log for skipped or failed items", f"velero restore logs {restore}"))
    plan.steps.append(Step(f"Check the pods of {ns} are running", f"kubectl get pods -n {ns} -o wide"))
    if snap.count("ExternalSecret"):
        plan.steps.append(Step("Check the ExternalSecrets re-synced their Secrets", f"kubectl get externalsecrets -n {ns}"))


def _plan_database(snap: Snapshot, st: VeleroState, plan: Plan) -> None:
    ns = plan.namespace or ""
    b = st.newest_good_covering(ns)
    _set_backup(plan, b, snap)
    plan.preconditions += _backup_preconditions(st, b, snap, plan.scenario.rpo, f"namespace {ns}")
    markers = next((c.database_markers for c in objectives().classes if c.database_markers), ())
    dbs = [w for w in database_workloads(snap, markers).get(ns, []) if w["kind"] == "StatefulSet"]
    plan.preconditions.append(Precondition(
        f"A database StatefulSet runs in {ns}", bool(dbs),
        ", ".join(f"StatefulSet {w['metadata']['name']}" for w in dbs) or f"no database StatefulSet found in {ns}",
        blocking=False))
    if b is not None:
        vol_ok = None if b.volumes == "default" else b.volumes != "none"
        plan.preconditions.append(Precondition(
            "The backup holds the volume data, not only the manifests", vol_ok,
            {"fs-backup": "defaultVolumesToFsBackup: true (file-system backup by node-agent)",
             "snapshots": "volume snapshots completed", "snapshot data mover": "snapshotMoveData: true",
             "none": "snapshotVolumes: false and no file-system backup: the restore brings back empty volumes",
             "default": "no volume snapshot or file-system backup recorded in its status; check with velero backup describe"}[b.volumes],
            blocking=False))
    bname = b.name if b else "BACKUP"
    restore = _restore_name(f"restore-db-{ns}", snap)
    plan.steps.append(Step("Confirm what the backup holds (volumes, item counts, warnings)",
                           f"velero backup describe {bname} --details"))
    pause, resume = _argocd_pause_resume(snap, ns)
    plan.steps += pause
    sts_list = dbs or []
    for sts in sts_list:
        name = sts["metadata"]["name"]
        plan.steps.append(Step(f"Stop the database {name} so nothing writes to the corrupted volumes",
                               f"kubectl scale statefulset {name} -n {ns} --replicas=0", "destructive"))
    for sts in sts_list:
        name = sts["metadata"]["name"]
        plan.steps.append(Step(f"Delete StatefulSet {name}; Velero does not overwrite objects that still exist",
                               f"kubectl delete statefulset {name} -n {ns}", "destructive"))
        pvcs = _db_pvcs(snap, sts)
        if pvcs:
            plan.steps.append(Step(f"Delete the corrupted volumes of {name} (data since the backup is lost)",
                                   f"kubectl delete pvc {' '.join(pvcs)} -n {ns}", "destructive"))
    if not sts_list:
        plan.steps.append(Step(f"Delete the database StatefulSet and its PersistentVolumeClaims in {ns} (none detected "
                               "in the snapshot; name them by hand)", None, "destructive"))
    resources_list = "statefulsets,persistentvolumeclaims,persistentvolumes"
    if b is not None and b.volumes == "fs-backup":
        resources_list += ",pods"  # file-system restores run in the restored pods' init container
    plan.steps.append(Step(
        f"Restore the database objects and volume data of {ns} from {bname}",
        f"velero restore create {restore} --from-backup {bname} --include-namespaces {ns} "
        f"--include-resources {resources_list} --wait", "mutating"))
    for sts in sts_list:
        plan.steps.append(Step(f"Wait for {sts['metadata']['name']} to come back",
                               f"kubectl rollout status statefulset/{sts['metadata']['name']} -n {ns} --timeout=15m"))
    _verify_steps(plan, restore, ns, snap)
    plan.steps += resume
    if b is not None and b.time:
        plan.notes.append(f"Writes made after {b.time.isoformat().replace('+00:00', 'Z')} are lost (the backup's point in time).")
    plan.notes.append("Re-run the application's own consistency checks (e.g. mongosh db.validate / pg_amcheck) before "
                      "reopening traffic.")


def _plan_namespace(snap: Snapshot, st: VeleroState, plan: Plan) -> None:
    ns = plan.namespace or ""
    b = st.newest_good_covering(ns)
    _set_backup(plan, b, snap)
    plan.preconditions += _backup_preconditions(st, b, snap, plan.scenario.rpo, f"namespace {ns}")
    nsobj = snap.get("Namespace", None, ns)
    if nsobj is not None:
        terminating = bool(nsobj["metadata"].get("deletionTimestamp")) or (nsobj.get("status") or {}).get("phase") == "Terminating"
        if terminating:
            plan.preconditions.append(Precondition(
                f"Namespace {ns} is fully deleted", False,
                f"Namespace {ns} is Terminating since {nsobj['metadata'].get('deletionTimestamp', '?')}; a restore "
                "into it fails until the deletion finishes"))
        else:
            plan.preconditions.append(Precondition(
                f"Namespace {ns} is gone or empty", None,
                f"Namespace {ns} still exists: Velero skips every object that already exists", blocking=False))
    bname = b.name if b else "BACKUP"
    restore = _restore_name(f"restore-{ns}", snap)
    plan.steps.append(Step("Confirm what the backup holds", f"velero backup describe {bname} --details"))
    if nsobj is not None:
        plan.steps.append(Step(f"See whether {ns} is stuck Terminating and on which finalizers",
                               f"kubectl get namespace {ns} -o jsonpath='{{.status.conditions}}'"))
    pause, resume = _argocd_pause_resume(snap, ns)
    plan.steps += pause
    plan.steps.append(Step(f"Restore namespace {ns} from {bname}",
                           f"velero restore create {restore} --from-backup {bname} --include-namespaces {ns} --wait",
                           "mutating"))
    _verify_steps(plan, restore, ns, snap)
    plan.steps.append(Step(f"Check the certificates of {ns} are Ready", f"kubectl get certificates -n {ns}"))
    plan.steps += resume
    if b is not None and b.time:
        plan.notes.append(f"Objects and data changed after {b.time.isoformat().replace('+00:00', 'Z')} are not in the backup.")
    if any((a["metadata"].get("namespace") or "") == ns for a in snap.list("Application")):
        plan.notes.append(f"Argo CD runs in {ns}: its Applications come back with the restore and resume syncing on "
                          f"their own; check them with kubectl get applications -n {ns}.")
        return
    for app in _apps_for_namespace(snap, ns):
        app_ns = app["metadata"].get("namespace") or "argocd"
        plan.steps.append(Step(f"Let Argo CD reconcile {app['metadata']['name']} with Git",
                               f"argocd app sync {app['metadata']['name']} --app-namespace {app_ns}", "mutating"))


def _install_command(st: VeleroState, bsl_name: str | None) -> str | None:
    bsl = st.locations.get(bsl_name or "")
    if bsl is None:
        return None
    spec = bsl.get("spec") or {}
    store = spec.get("objectStorage") or {}
    parts = [f"velero install --provider {spec.get('provider', 'PROVIDER')} --bucket {store.get('bucket', 'BUCKET')}"]
    if store.get("prefix"):
        parts.append(f"--prefix {store['prefix']}")
    cfg = spec.get("config") or {}
    if cfg:
        parts.append("--backup-location-config " + ",".join(f"{k}={v}" for k, v in sorted(cfg.items())))
    server = st.server()
    plugins = []
    if server is not None:
        for c in ((server.get("spec") or {}).get("template") or {}).get("spec", {}).get("initContainers") or ():
            if c.get("image"):
                plugins.append(c["image"])
        containers = ((server.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or ()
        if containers and containers[0].get("image"):
            parts.append(f"--image {containers[0]['image']}")
    if plugins:
        parts.append("--plugins " + ",".join(plugins))
    if st.node_agent() is not None:
        parts.append("--use-node-agent")
    parts.append("--secret-file ./credentials-velero")
    return " ".join(parts)


def _plan_cluster(snap: Snapshot, st: VeleroState, plan: Plan, region: bool = False) -> None:
    archive = st.cluster_archive()
    _set_backup(plan, archive, snap)
    plan.preconditions += _backup_preconditions(st, archive, snap, plan.scenario.rpo, "the whole cluster")
    infra_ns = [n for n in objectives().infrastructure_namespaces() if n in snap.namespaces()]
    infra = None
    for b in st.good:
        if infra_ns and all(b.scope.covers(n) for n in infra_ns) and b is not archive:
            infra = b
            break
    if infra is not None and archive is not None and infra.time and archive.time and infra.time <= archive.time:
        infra = None  # the archive is newer and holds the same namespaces
    bsl_name = archive.location if archive else st.default_location
    if region:
        regions = {}
        for name, bsl in st.locations.items():
            spec = bsl.get("spec") or {}
            regions[name] = (spec.get("provider"), (spec.get("objectStorage") or {}).get("bucket"),
                             (spec.get("config") or {}).get("region"))
        distinct = {(p, bk, r) for p, bk, r in regions.values()}
        if len(distinct) >= 2:
            secondary = next((n for n in sorted(regions) if n != bsl_name), None)
            plan.preconditions.append(Precondition(
                "Backups are stored in more than one region or provider", True,
                "; ".join(f"{n}: {p} bucket {bk} region {r or '-'}" for n, (p, bk, r) in sorted(regions.items())),
                blocking=False))
            if secondary:
                ok, text = st.location_available(secondary)
                plan.preconditions.append(Precondition(f"The second location {secondary} is Available", ok, text))
                bsl_name = secondary
        else:
            only = next(iter(regions.items()), None)
            plan.preconditions.append(Precondition(
                "Backups are stored outside the failed region", None,
                (f"only one storage location ({only[0]}: {only[1][0]} bucket {only[1][1]} region {only[1][2] or '-'}); "
                 "the backups survive a region failure only if that bucket is replicated to another region")
                if only else "no BackupStorageLocation in the snapshot", blocking=False))
    plan.steps.append(Step(
        "Create the replacement cluster" + (" in another region" if region else "") +
        " (same Kubernetes minor version) and point kubectl at it", None, "mutating"))
    install = _install_command(st, bsl_name)
    plan.steps.append(Step(
        f"Install Velero in the new cluster against the existing bucket of location {bsl_name or 'default'}",
        install, "mutating"))
    plan.steps.append(Step(
        "Make the location read-only so nothing overwrites the backups during recovery",
        f"kubectl patch backupstoragelocation {bsl_name or 'default'} -n {st.namespace} --type merge "
        "-p '{\"spec\":{\"accessMode\":\"ReadOnly\"}}'", "mutating"))
    plan.steps.append(Step("Wait until the backups appear (synced from the bucket)", "velero backup get"))
    if archive is not None:
        r = _restore_name("restore-cluster", snap)
        plan.steps.append(Step(f"Check the weekly archive {archive.name}", f"velero backup describe {archive.name} --details"))
        what = ("resources " + ", ".join(archive.scope.included_resources)) if archive.scope.included_resources else \
            "every namespace and the cluster-scoped resources"
        plan.steps.append(Step(f"Restore the cluster archive {archive.name} ({what})",
                               f"velero restore create {r} --from-backup {archive.name} --wait", "mutating"))
        plan.steps.append(Step("Check the archive restore", f"velero restore describe {r} --details"))
    else:
        plan.steps.append(Step("No Completed cluster-wide backup exists: rebuild cluster resources from Git "
                               "(Argo CD bootstrap) instead", None, "mutating"))
    if infra is not None:
        r = _restore_name("restore-infra", snap)
        plan.steps.append(Step(f"Restore the newer infrastructure backup {infra.name}",
                               f"velero restore create {r} --from-backup {infra.name} "
                               f"--include-namespaces {','.join(infra_ns)} --existing-resource-policy update --wait", "mutating"))
    for d in dr_status(snap, st):
        if d.klass != "database" or d.last_backup is None:
            continue
        b = next(x for x in st.good if x.name == d.last_backup)
        if archive is not None and b is archive:
            continue
        r = _restore_name(f"restore-{d.namespace}", snap)
        plan.steps.append(Step(f"Restore tenant database namespace {d.namespace} from its newest backup {b.name}",
                               f"velero restore create {r} --from-backup {b.name} --include-namespaces {d.namespace} "
                               "--existing-resource-policy update --wait", "mutating"))
    plan.steps.append(Step(
        "Give the location back its write access so scheduled backups resume",
        f"kubectl patch backupstoragelocation {bsl_name or 'default'} -n {st.namespace} --type merge "
        "-p '{\"spec\":{\"accessMode\":\"ReadWrite\"}}'", "mutating"))
    plan.steps.append(Step("Check Argo CD has synced every application", "kubectl get applications -n argocd"))
    plan.steps.append(Step("Check secrets and certificates are back", "kubectl get externalsecrets,certificates -A"))
    plan.steps.append(Step("Check the gateway is programmed and note its address", "kubectl get gateway -n gateway-system"))
    plan.steps.append(Step("Point DNS at the new gateway address if it changed", None, "mutating"))
    plan.steps.append(Step("List pods that are not running", "kubectl get pods -A --field-selector=status.phase!=Running,status.phase!=Succeeded"))
    rebuilt = [d.namespace for d in dr_status(snap, st) if not d.required and not d.schedules]
    if rebuilt:
        plan.notes.append("Namespaces in no backup (" + ", ".join(rebuilt) + ") come back only from Git: Argo CD "
                          "re-creates them once it is restored and syncs.")
    if archive is not None and archive.time:
        plan.notes.append(f"Cluster state changed after {archive.time.isoformat().replace('+00:00', 'Z')} is not in the archive; "
                          "namespaces with a newer daily backup are restored from it.")


def _plan_region(snap: Snapshot, st: VeleroState, plan: Plan) -> None:
    _plan_cluster(snap, st, plan, region=True)
