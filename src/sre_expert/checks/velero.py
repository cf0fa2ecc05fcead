"""Velero (v1.15): storage locations, schedules, backups, restores and recovery point objectives.

Linking:
- A Backup finding speaks for the Backup and for its Schedule, and depends on its
  BackupStorageLocation, so an Unavailable location is the root of the failed backups and of the
  namespaces whose RPO they break.
- An RPO finding (on the Namespace) depends on the schedules that cover the namespace, their newest
  backups and their locations.
- Server-side trouble (stale validation, late schedules, backups never picked up) depends on the velero
  Deployment, volume-backup trouble on the node-agent DaemonSet: the component and workload checks say
  why those pods are down; this module does not re-diagnose pods.
- A location depends on its credential Secret, so an ExternalSecret that fails to write it explains it.

Only the newest finished backup of each schedule raises an alarm: an older failure followed by a
Completed backup is history (an info finding at most).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sre_expert.checks.registry import check, finding
from sre_expert.core import cron
from sre_expert.core.model import Finding, Key, ObjectRef
from sre_expert.core.snapshot import Snapshot
from sre_expert.core.timeutil import human, parse_time
from sre_expert.core.units import go_duration
from sre_expert.core.wording import quote
from sre_expert.domain.recovery import (
    FAILED_PHASES,
    GOOD_PHASE,
    RUNNING_PHASES,
    BackupInfo,
    ScheduleInfo,
    VeleroState,
    dr_cluster_archive,
    dr_status,
    format_duration,
    objectives,
)

Obj = dict[str, Any]

DEFAULT_VALIDATION_FREQUENCY = timedelta(minutes=1)  # velero server --store-validation-frequency
MIN_STALE_VALIDATION = timedelta(minutes=10)
SCHEDULE_GRACE = timedelta(minutes=15)  # the schedule controller re-checks every minute
NEW_BACKUP_GRACE = timedelta(minutes=15)  # a backup nobody picked up: the server is not running
IN_PROGRESS_LIMIT = timedelta(hours=4)  # velero's default fs-backup and item-operation timeouts (4h)
FINALIZING_LIMIT = timedelta(hours=1)
HISTORY_WINDOW = timedelta(days=7)
RESTORE_ALARM_WINDOW = timedelta(days=7)



def _iso(t: datetime | None) -> str:
    return t.isoformat().replace("+00:00", "Z") if t else "-"


def _ago(snap: Snapshot, t: datetime | None) -> str:
    return f"{human(snap.now - t)} ago" if t else "never"


def _server_key(st: VeleroState) -> Key:
    dep = st.server()
    name = dep["metadata"]["name"] if dep is not None else "velero"
    return ("Deployment", st.namespace, name)


def _node_agent_key(st: VeleroState) -> Key | None:
    na = st.node_agent()
    return ("DaemonSet", st.namespace, na["metadata"]["name"]) if na is not None else None


def _bsl_key(st: VeleroState, name: str | None) -> Key | None:
    return ("BackupStorageLocation", st.namespace, name) if name else None


def _credential_secrets(st: VeleroState, bsl: Obj) -> list[Key]:
    """The Secret the location authenticates with: spec.credential, else the server's cloud-credentials volume."""
    cred = (bsl.get("spec") or {}).get("credential") or {}
    ns = bsl["metadata"].get("namespace") or st.namespace
    if cred.get("name"):
        return [("Secret", ns, cred["name"])]
    dep = st.server()
    if dep is None:
        return []
    out = []
    for v in ((dep.get("spec") or {}).get("template") or {}).get("spec", {}).get("volumes") or ():
        secret = (v.get("secret") or {}).get("secretName")
        if secret and v.get("name") == "cloud-credentials":
            out.append(("Secret", ns, secret))
    return out


# ----------------------------------------------------------------------------------- storage locations


def _used_locations(st: VeleroState) -> dict[str, list[str]]:
    """location → names of the enabled schedules writing to it."""
    used: dict[str, list[str]] = defaultdict(list)
    for s in st.schedules.values():
        if s.location and not s.paused:
            used[s.location].append(s.name)
    return used


@check(
    codes=("VELERO-BSL-UNAVAILABLE", "VELERO-BSL-VALIDATION-STALE", "VELERO-BSL-READ-ONLY"),
    reads=("BackupStorageLocation",),
    speaks_for=("BackupStorageLocation",),
    depends_on=("Deployment", "Secret"),
)
def storage_locations(snap: Snapshot) -> Iterator[Finding]:
    st = snap.memo("velero.state", VeleroState)
    used = _used_locations(st)
    server = _server_key(st)
    for name, bsl in sorted(st.locations.items()):
        spec, status = bsl.get("spec") or {}, bsl.get("status") or {}
        store = spec.get("objectStorage") or {}
        where = (f"{spec.get('provider', '?')} bucket {store.get('bucket', '?')}"
                 + (f"/{store['prefix']}" if store.get("prefix") else ""))
        params = {"bucket": store.get("bucket", ""), "provider": spec.get("provider", "")}
        phase = status.get("phase") or ""
        last = parse_time(status.get("lastValidationTime"))
        writers = used.get(name, [])
        role = []
        if spec.get("default"):
            role.append("the default location")
        if writers:
            role.append("target of schedule(s) " + ", ".join(sorted(writers)))
        role_text = "; ".join(role) or "not used by any enabled schedule"
        creds = _credential_secrets(st, bsl)
        params["secret"] = creds[0][2] if creds else "cloud-credentials"
        if phase == "Unavailable":
            ev = [
                "status.phase: Unavailable",
                f"status.message: {status.get('message') or '(empty)'}",
                f"status.lastValidationTime: {_iso(last)} ({_ago(snap, last)})",
                f"spec: provider {spec.get('provider', '?')}, bucket {store.get('bucket', '?')}"
                + (f", prefix {store['prefix']}" if store.get("prefix") else "")
                + (f", config {spec['config']}" if spec.get("config") else ""),
                f"role: {role_text}",
            ]
            if creds:
                ev.append("credential: " + ", ".join(f"Secret {k[1]}/{k[2]}" for k in creds))
            deps = list(creds)
            if last is not None and snap.now - last > MIN_STALE_VALIDATION:
                ev.append(f"not re-validated for {human(snap.now - last)}: the velero server is not running its "
                          "controllers, so this phase may be out of date")
                deps.append(server)
            cause = (status.get("message") or "").split(" is unavailable: ", 1)[-1]
            yield finding(
                "VELERO-BSL-UNAVAILABLE", bsl,
                title=f"Backup storage location {name} ({where}) is Unavailable" + (f": {_short(cause, 120)}" if cause else ""),
                evidence=ev, params=params, depends_on=deps,
                severity="critical" if (spec.get("default") or writers) else "warning",
            )
            continue
        # Staleness: the server re-validates every validationFrequency (default 1m; 0 disables).
        freq_text = spec.get("validationFrequency")
        freq = go_duration(freq_text) if freq_text else None
        if freq is None:  # unset or unreadable: the server's default (timedelta(0) is a real "disabled")
            freq = DEFAULT_VALIDATION_FREQUENCY
        if freq > timedelta(0):
            limit = max(freq * 3, MIN_STALE_VALIDATION)
            created = parse_time(bsl["metadata"].get("creationTimestamp"))
            age_ok = created is None or snap.now - created > limit
            stale = (last is None and age_ok) or (last is not None and snap.now - last > limit)
            if stale:
                ev = [
                    f"status.lastValidationTime: {_iso(last)} ({_ago(snap, last)})",
                    f"validation frequency: {freq_text or '1m (server default)'}; stale after {human(limit)}",
                    f"status.phase: {phase or '(never set)'}",
                    f"role: {role_text}",
                ]
                yield finding(
                    "VELERO-BSL-VALIDATION-STALE", bsl,
                    title=f"Backup storage location {name} has not been validated for "
                          f"{human(snap.now - last) if last else 'ever'}",
                    evidence=ev, params=params, depends_on=[server],
                    severity="warning",
                )
        if spec.get("accessMode") == "ReadOnly" and writers:
            yield finding(
                "VELERO-BSL-READ-ONLY", bsl,
                title=f"Backup storage location {name} is ReadOnly but schedules write to it",
                evidence=[
                    "spec.accessMode: ReadOnly",
                    f"schedules targeting it: {', '.join(sorted(writers))}",
                    ("the backup controller rejects every new backup to a read-only location "
                     "(\"backup can't be created because backup storage location ... is currently in read-only mode\")"),
                ],
                params=params,
            )


# ----------------------------------------------------------------------------------- schedules


def _schedule_params(s: ScheduleInfo) -> dict[str, str]:
    return {"schedule": s.name, "cron": s.expression}


@check(
    codes=("VELERO-SCHEDULE-PAUSED", "VELERO-SCHEDULE-INVALID", "VELERO-SCHEDULE-LATE"),
    reads=("Schedule",),
    speaks_for=("Schedule",),
    depends_on=("Deployment",),
)
def schedules(snap: Snapshot) -> Iterator[Finding]:
    st = snap.memo("velero.state", VeleroState)
    server = _server_key(st)
    for s in sorted(st.schedules.values(), key=lambda x: x.name):
        md = s.obj["metadata"]
        status = s.obj.get("status") or {}
        scope_text = _scope_text(s.obj.get("spec", {}).get("template") or {})
        if s.paused:
            yield finding(
                "VELERO-SCHEDULE-PAUSED", s.obj,
                title=f"Backup schedule {s.name} is paused",
                evidence=[
                    "spec.paused: true",
                    f"spec.schedule: {s.expression!r}",
                    f"status.lastBackup: {_iso(s.last_backup)} ({_ago(snap, s.last_backup)})",
                    f"covers: {scope_text}",
                ],
                params=_schedule_params(s),
            )
            continue
        if s.phase == "FailedValidation" or s.cron_error:
            errs = status.get("validationErrors") or ([f"invalid schedule: {s.cron_error}"] if s.cron_error else [])
            yield finding(
                "VELERO-SCHEDULE-INVALID", s.obj,
                title=f"Backup schedule {s.name} failed validation and creates no backups",
                evidence=[f"status.phase: {s.phase or '(not set)'}", f"spec.schedule: {s.expression!r}"]
                + [f"status.validationErrors: {e}" for e in errs],
                params=_schedule_params(s),
            )
            continue
        # Velero's own rule: due when now is past cron.Next(max(lastBackup or creation, lastSkipped)).
        sched = cron.parse(s.expression)
        created = parse_time(md.get("creationTimestamp"))
        skipped = parse_time(status.get("lastSkipped"))
        base = s.last_backup or created
        if skipped and (base is None or skipped > base):
            base = skipped
        if base is None:
            continue
        due = sched.next(base)
        if due is None or snap.now - due <= SCHEDULE_GRACE:
            continue
        missed = 0
        t: datetime | None = due
        while t is not None and t <= snap.now and missed < 1000:
            missed += 1
            t = sched.next(t)
        ev = [
            f"spec.schedule: {s.expression!r}",
            f"status.lastBackup: {_iso(s.last_backup)} ({_ago(snap, s.last_backup)})",
            f"next run was due {_iso(due)} ({_ago(snap, due)}); {missed} run(s) missed",
            f"status.phase: {s.phase or '(not set)'}",
        ]
        deps: list[Key] = [server]
        newest = s.newest
        if newest is not None and newest.phase in ("", "New", "InProgress"):
            ev.append(f"Backup {newest.name} is still {newest.phase or 'New'} since {_iso(newest.time)}: "
                      "the schedule skips runs while one of its backups is New or InProgress")
            deps.append(newest.key)
        else:
            ev.append("no backup of this schedule is running: the velero server is not creating scheduled backups")
        yield finding(
            "VELERO-SCHEDULE-LATE", s.obj,
            title=f"Backup schedule {s.name} is late: last backup {_ago(snap, s.last_backup)}",
            evidence=ev, params=_schedule_params(s), depends_on=deps,
        )


def _scope_text(spec: Obj) -> str:
    inc = spec.get("includedNamespaces") or ["*"]
    out = "namespaces " + ",".join(inc)
    if spec.get("excludedNamespaces"):
        out += " except " + ",".join(spec["excludedNamespaces"])
    if spec.get("includedResources"):
        out += "; resources " + ",".join(spec["includedResources"])
    return out


# ----------------------------------------------------------------------------------- backups


def _status_evidence(status: Obj, phase: str | None, errors_note: str = "") -> list[str]:
    """Phase, failureReason, validationErrors and error/warning counts of a Backup or Restore status."""
    ev = [f"status.phase: {phase or 'New'}"]
    if status.get("failureReason"):
        ev.append(f"status.failureReason: {status['failureReason']}")
    for e in status.get("validationErrors") or ():
        ev.append(f"status.validationErrors: {e}")
    if status.get("errors") or status.get("warnings"):
        ev.append(f"status.errors: {status.get('errors', 0)}, status.warnings: {status.get('warnings', 0)}{errors_note}")
    return ev


def _backup_evidence(b: BackupInfo, snap: Snapshot) -> list[str]:
    st = b.status
    ev = _status_evidence(st, b.phase, " (details only in the backup log in object storage)")
    prog = st.get("progress") or {}
    if prog:
        ev.append(f"status.progress: {prog.get('itemsBackedUp', 0)}/{prog.get('totalItems', 0)} items")
    vs_a, vs_c = st.get("volumeSnapshotsAttempted"), st.get("volumeSnapshotsCompleted")
    if vs_a:
        ev.append(f"volume snapshots: {vs_c or 0}/{vs_a} completed")
    csi_a, csi_c = st.get("csiVolumeSnapshotsAttempted"), st.get("csiVolumeSnapshotsCompleted")
    if csi_a:
        ev.append(f"CSI volume snapshots: {csi_c or 0}/{csi_a} completed")
    ops_f = st.get("backupItemOperationsFailed")
    if ops_f:
        ev.append(f"backup item operations failed: {ops_f}/{st.get('backupItemOperationsAttempted', '?')}")
    hooks = st.get("hookStatus") or {}
    if hooks.get("hooksFailed"):
        ev.append(f"hooks failed: {hooks['hooksFailed']}/{hooks.get('hooksAttempted', '?')}")
    ev.append(f"started {_iso(b.time)} ({_ago(snap, b.time)})" + (f", completed {_iso(b.completed)}" if b.completed else ""))
    ev.append(f"storage location: {b.location or '(default)'}; schedule: {b.schedule or '(none, one-off backup)'}")
    return ev


def _backup_finding(b: BackupInfo, st: VeleroState, snap: Snapshot, sched: ScheduleInfo | None,
                    prev_good: BackupInfo | None) -> Finding | None:
    subjects: list[Key] = [sched.key] if sched is not None else []
    deps: list[Key] = []
    loc = _bsl_key(st, b.location)
    if loc:
        deps.append(loc)
    params = {"backup": b.name, "schedule": b.schedule or "", "location": b.location or "",
              "retry": _retry_command(b, sched), "fix": _fix_command(b, sched)}
    ev = _backup_evidence(b, snap)
    if prev_good is not None:
        ev.append(f"newest Completed backup of the same {'schedule' if sched else 'scope'}: {prev_good.name} "
                  f"({_ago(snap, prev_good.time)})")
    elif sched is not None:
        ev.append(f"schedule {sched.name} has no Completed backup")
    who = f"schedule {sched.name}" if sched else (f"schedule {b.schedule}, deleted" if b.schedule else "one-off backup")
    if b.phase == "Failed":
        if "during the server starting" in (b.status.get("failureReason") or ""):
            deps.append(_server_key(st))  # the server restarted mid-backup
        return finding("VELERO-BACKUP-FAILED", b.obj,
                       title=f"Backup {b.name} ({who}) Failed: {_short(b.status.get('failureReason') or 'no failureReason')}",
                       evidence=ev, params=params, subjects=subjects, depends_on=deps)
    if b.phase == "PartiallyFailed":
        na = _node_agent_key(st)
        if na:
            deps.append(na)
        return finding("VELERO-BACKUP-PARTIALLY-FAILED", b.obj,
                       title=f"Backup {b.name} ({who}) PartiallyFailed with {b.status.get('errors', 0)} error(s)",
                       evidence=ev, params=params, subjects=subjects, depends_on=deps)
    if b.phase == "FailedValidation":
        return finding("VELERO-BACKUP-VALIDATION-FAILED", b.obj,
                       title=f"Backup {b.name} ({who}) FailedValidation: "
                             f"{_short('; '.join(b.status.get('validationErrors') or ['no validationErrors']))}",
                       evidence=ev, params=params, subjects=subjects, depends_on=deps)
    return None


def _retry_command(b: BackupInfo, sched: ScheduleInfo | None) -> str:
    if sched is not None:
        return f"velero backup create --from-schedule {sched.name} --wait"
    spec = b.obj.get("spec") or {}
    parts = [f"velero backup create {b.name}-retry"]
    if spec.get("includedNamespaces"):
        parts.append("--include-namespaces " + ",".join(spec["includedNamespaces"]))
    if spec.get("excludedNamespaces"):
        parts.append("--exclude-namespaces " + ",".join(spec["excludedNamespaces"]))
    if spec.get("storageLocation"):
        parts.append(f"--storage-location {spec['storageLocation']}")
    parts.append("--wait")
    return " ".join(parts)


def _fix_command(b: BackupInfo, sched: ScheduleInfo | None) -> str:
    if sched is not None:
        return f"kubectl edit schedule {sched.name} -n {sched.namespace}"
    return _retry_command(b, None)  # a backup that failed validation holds no data: take a new one


def _short(text: str, n: int = 140) -> str:
    """The whole message (JSON and Markdown carry full text; only the terminal shortens). `n` is kept for
    the callers' intent but no longer cuts."""
    return quote(text)


def _stuck(b: BackupInfo, st: VeleroState, snap: Snapshot, sched: ScheduleInfo | None) -> Finding | None:
    created = parse_time(b.obj["metadata"].get("creationTimestamp"))
    started = parse_time(b.status.get("startTimestamp"))
    phase = b.phase
    if phase in ("", "New"):
        since, limit = created, NEW_BACKUP_GRACE
    elif phase.startswith("Finalizing"):
        since, limit = started or created, IN_PROGRESS_LIMIT + FINALIZING_LIMIT
    else:
        since, limit = started or created, IN_PROGRESS_LIMIT
    if since is None or snap.now - since <= limit:
        return None
    deps: list[Key] = [_server_key(st)]
    loc = _bsl_key(st, b.location)
    if loc:
        deps.append(loc)
    na = _node_agent_key(st)
    if na and phase != "" and phase != "New":
        deps.append(na)
    ev = _backup_evidence(b, snap)
    if phase in ("", "New"):
        ev.insert(1, f"created {_iso(created)} ({_ago(snap, created)}) and never picked up: "
                     "the velero server is not processing backups")
    else:
        ev.insert(1, f"{phase} for {human(snap.now - since)} (limit {human(limit)})")
    return finding(
        "VELERO-BACKUP-STUCK", b.obj,
        title=f"Backup {b.name} is stuck {phase or 'New'} for {human(snap.now - since)}",
        evidence=ev, params={"backup": b.name, "schedule": b.schedule or "", "location": b.location or ""},
        subjects=[sched.key] if sched else [], depends_on=deps,
    )


def _groups(st: VeleroState) -> list[tuple[ScheduleInfo | None, list[BackupInfo]]]:
    """Backups grouped by schedule; one-off backups grouped by what they select. Newest first."""
    out: list[tuple[ScheduleInfo | None, list[BackupInfo]]] = [
        (s, s.backups) for s in sorted(st.schedules.values(), key=lambda x: x.name) if s.backups
    ]
    manual: dict[Any, list[BackupInfo]] = defaultdict(list)
    for b in st.manual:
        manual[(b.schedule, b.scope)].append(b)
    out.extend((None, bs) for bs in manual.values())
    return out


@check(
    codes=("VELERO-BACKUP-FAILED", "VELERO-BACKUP-PARTIALLY-FAILED", "VELERO-BACKUP-VALIDATION-FAILED",
        "VELERO-BACKUP-STUCK", "VELERO-BACKUP-PAST-FAILURES"),
    reads=("Backup",),
    speaks_for=("Backup", "Schedule"),
    depends_on=("BackupStorageLocation", "DaemonSet", "Deployment"),
)
def backups(snap: Snapshot) -> Iterator[Finding]:
    st = snap.memo("velero.state", VeleroState)
    for sched, group in _groups(st):
        newest_terminal = next((b for b in group if b.phase in ("Completed", *FAILED_PHASES)), None)
        # Stuck: only the newest backup can be the one blocking the schedule; older unfinished ones are
        # reported too when they are past their limit (they hold the schedule back as well).
        for b in group:
            if b.phase in RUNNING_PHASES:
                f = _stuck(b, st, snap, sched)
                if f is not None:
                    yield f
        if newest_terminal is None:
            continue
        good = next((b for b in group if b.phase == GOOD_PHASE), None)
        if newest_terminal.phase in FAILED_PHASES:
            f = _backup_finding(newest_terminal, st, snap, sched, good)
            if f is not None:
                yield f
        # History: failures between the newest Completed backup and a week before it.
        if good is not None and good is newest_terminal:
            past = [b for b in group if b.phase in FAILED_PHASES and b.time and good.time
                    and b.time < good.time and snap.now - b.time <= HISTORY_WINDOW]
            if past:
                obj = sched.obj if sched is not None else past[0].obj
                counts: dict[str, int] = defaultdict(int)
                for b in past:
                    counts[b.phase] += 1
                ev = [f"{b.name}: {b.phase}"
                      + (f" ({_short(b.status['failureReason'], 100)})" if b.status.get("failureReason") else "")
                      for b in past[:5]]
                if len(past) > 5:
                    ev.append(f"... and {len(past) - 5} more")
                ev.append(f"newest backup {good.name} Completed {_ago(snap, good.time)}")
                label = f"schedule {sched.name}" if sched else f"one-off backups like {past[0].name}"
                yield finding(
                    "VELERO-BACKUP-PAST-FAILURES", obj,
                    title=f"{label}: {len(past)} backup(s) failed in the last {human(HISTORY_WINDOW)}, the newest succeeded",
                    evidence=ev, params={"backup": past[0].name, "schedule": sched.name if sched else ""},
                )


# ----------------------------------------------------------------------------------- restores


@check(
    codes=("VELERO-RESTORE-FAILED", "VELERO-RESTORE-PARTIALLY-FAILED", "VELERO-RESTORE-STUCK"),
    reads=("Restore",),
    speaks_for=("Restore",),
    depends_on=("Backup", "BackupStorageLocation"),
)
def restores(snap: Snapshot) -> Iterator[Finding]:
    st = snap.memo("velero.state", VeleroState)
    restores_ = [r for r in snap.list("Restore") if (r.get("apiVersion") or "").startswith("velero.io/")]
    groups: dict[tuple[Any, ...], list[Obj]] = defaultdict(list)
    for r in restores_:
        spec = r.get("spec") or {}
        groups[(spec.get("backupName") or spec.get("scheduleName") or "", tuple(spec.get("includedNamespaces") or ()))].append(r)

    def when(r: Obj) -> datetime:
        st_ = r.get("status") or {}
        return (parse_time(st_.get("startTimestamp")) or parse_time(r["metadata"].get("creationTimestamp"))
                or snap.now)

    for (_, _), group in sorted(groups.items()):
        group.sort(key=when, reverse=True)
        newest = group[0]
        spec, status = newest.get("spec") or {}, newest.get("status") or {}
        phase = status.get("phase") or ""
        name = newest["metadata"]["name"]
        backup_name = spec.get("backupName") or ""
        backup = snap.get("Backup", newest["metadata"].get("namespace"), backup_name) if backup_name else None
        deps: list[Key] = []
        if backup is not None:
            deps.append(("Backup", backup["metadata"].get("namespace") or "", backup_name))
            loc = (backup.get("spec") or {}).get("storageLocation") or st.default_location
            if loc:
                deps.append(("BackupStorageLocation", st.namespace, loc))
        ev = _status_evidence(status, phase)
        prog = status.get("progress") or {}
        if prog:
            ev.append(f"status.progress: {prog.get('itemsRestored', 0)}/{prog.get('totalItems', 0)} items restored")
        src = f"backup {backup_name}" if backup_name else f"schedule {spec.get('scheduleName')}"
        if backup is not None:
            ev.append(f"source {src}: phase {(backup.get('status') or {}).get('phase') or 'New'}")
        elif backup_name:
            ev.append(f"source {src} does not exist in the cluster (not synced from the bucket, or deleted)")
        ev.append(f"namespaces: {','.join(spec.get('includedNamespaces') or ['*'])}")
        start = when(newest)
        ev.append(f"started {_iso(start)} ({_ago(snap, start)})")
        params = {"restore": name, "backup": backup_name}
        done = parse_time(status.get("completionTimestamp")) or start
        old = snap.now - done > RESTORE_ALARM_WINDOW
        if phase in ("Failed", "FailedValidation"):
            yield finding("VELERO-RESTORE-FAILED", newest,
                          title=f"Restore {name} from {src} {phase}"
                          + (f": {_short(status.get('failureReason') or '; '.join(status.get('validationErrors') or []))}"
                             if status.get("failureReason") or status.get("validationErrors") else ""),
                          evidence=ev, params=params, depends_on=deps, severity="info" if old else None)
        elif phase == "PartiallyFailed":
            yield finding("VELERO-RESTORE-PARTIALLY-FAILED", newest,
                          title=f"Restore {name} from {src} PartiallyFailed with {status.get('errors', 0)} error(s)",
                          evidence=ev, params=params, depends_on=deps, severity="info" if old else None)
        elif phase in RUNNING_PHASES:
            limit = NEW_BACKUP_GRACE if phase in ("", "New") else IN_PROGRESS_LIMIT
            if snap.now - start > limit:
                deps.append(_server_key(st))
                na = _node_agent_key(st)
                if na:
                    deps.append(na)
                yield finding("VELERO-RESTORE-STUCK", newest,
                              title=f"Restore {name} is stuck {phase or 'New'} for {human(snap.now - start)}",
                              evidence=ev, params=params, depends_on=deps)


# ----------------------------------------------------------------------------------- RPO


@check(
    codes=("VELERO-RPO-MISSED", "VELERO-NAMESPACE-UNPROTECTED", "VELERO-CLUSTER-RPO-MISSED"),
    reads=("Backup", "Schedule"),
    speaks_for=(),
    depends_on=("Backup", "BackupStorageLocation", "Deployment", "Schedule"),
)
def recovery_points(snap: Snapshot) -> Iterator[Finding]:
    st = snap.memo("velero.state", VeleroState)
    if not st.installed:
        if st.unseen:
            snap.outside(st.namespace, f"Velero schedules and backups (namespace {st.namespace})")
        return  # Velero absent: the component check reports it; every namespace would fire otherwise
    grace = objectives().grace
    f = _cluster_archive_finding(snap, st)
    if f is not None:
        yield f
    for d in dr_status(snap, st):
        if not d.required or d.status == "met":
            continue
        ns_obj = snap.get("Namespace", None, d.namespace)
        ref = ObjectRef.of(ns_obj) if ns_obj is not None else ObjectRef("v1", "Namespace", None, d.namespace)
        params = {"rpo": format_duration(d.rpo), "backup": d.last_backup or "",
                  "schedule": (d.schedules[0].name if d.schedules else "")}
        ev = [f"class: {d.klass} (scenario {d.scenario}: RPO {format_duration(d.rpo)}, RTO {format_duration(d.rto)})"]
        if d.databases:
            ev.append("databases: " + ", ".join(d.databases))
        for s in d.schedules:
            line = f"schedule {s.name} ({s.expression!r}"
            line += ", paused)" if s.paused else ")"
            if s.newest_backup:
                line += f": newest backup {s.newest_backup} is {s.newest_phase or 'New'}"
            if s.limits:
                line += "; covers " + "; ".join(s.limits)
            ev.append(line)
        if d.last_backup:
            ev.append(f"newest Completed backup holding {d.namespace}: {d.last_backup} taken {_iso(d.last_backup_time)} "
                      f"({human(d.age) if d.age is not None else '?'} ago)")
        else:
            ev.append(f"no Completed backup holds {d.namespace}")
        if d.status == "unprotected":
            f = finding(
                "VELERO-NAMESPACE-UNPROTECTED", ref,
                title=f"Namespace {d.namespace} ({d.klass}) is in no backup schedule",
                evidence=ev, params=params,
            )
        else:
            age = f"{human(d.age)} old" if d.age is not None else "absent"
            ev.append(f"limit: RPO {format_duration(d.rpo)} + {format_duration(grace)} for the run in progress")
            f = finding(
                "VELERO-RPO-MISSED", ref,
                title=f"Namespace {d.namespace} misses its {format_duration(d.rpo)} RPO: newest good backup {age}",
                evidence=ev, params=params, depends_on=d.depends_on + [_server_key(st)],
            )
        # About the namespace, but not speaking for it: other findings that depend on the Namespace
        # (admission, quota...) are not explained by its backups.
        f.subjects = [k for k in f.subjects if k != ref.key]
        yield f


def _cluster_archive_finding(snap: Snapshot, st: VeleroState) -> Finding | None:
    """The complete-cluster-failure objective: a Completed backup of the cluster-scoped resources (the
    weekly archive) no older than that scenario's RPO."""
    sc = objectives().scenario("cluster-failure")
    standing = dr_cluster_archive(snap, st)
    if sc is None or standing.met:
        return None
    archive = st.cluster_archive()
    age = standing.age
    producers = [s for s in sorted(st.schedules.values(), key=lambda x: x.name) if s.scope.cluster_wide()]
    ev = [f"scenario {sc.id}: RTO {format_duration(sc.rto)}, RPO {format_duration(sc.rpo)} ({sc.method})"]
    deps: list[Key] = [_server_key(st)]
    for s in producers:
        line = f"schedule {s.name} ({s.expression!r}{', paused' if s.paused else ''})"
        if s.newest is not None:
            line += f": newest backup {s.newest.name} is {s.newest.phase or 'New'}"
        ev.append(line)
        deps.append(s.key)
        for b in (s.newest_terminal, s.newest):
            if b is not None and b.key not in deps:
                deps.append(b.key)
        if s.location:
            deps.append(("BackupStorageLocation", st.namespace, s.location))
    if not producers:
        ev.append("no Schedule backs up the cluster-scoped resources (includeClusterResources, or every namespace)")
        # A configuration gap: no crash of the server (or of anything else) explains a Schedule nobody wrote.
        deps = []
    if archive is not None:
        # age is None only for an archive without any timestamp (human(None) used to raise there)
        ev.append(f"newest Completed cluster archive: {archive.name} taken {_iso(archive.time)} "
                  f"({human(age) if age is not None else '?'} ago)")
    else:
        ev.append("no Completed backup holds the cluster-scoped resources")
    obj = producers[0].obj if producers else ObjectRef("", "Cluster", None, snap.info.cluster or "cluster")
    f = finding(
        "VELERO-CLUSTER-RPO-MISSED", obj,
        title=("No cluster archive: nothing backs up the cluster-scoped resources" if archive is None and not producers else
               f"The cluster archive misses its {format_duration(sc.rpo)} RPO: "
               + (f"newest Completed one is {human(age)} old" if age is not None else "no Completed archive exists")),
        evidence=ev, depends_on=deps,
        params={"schedule": producers[0].name if producers else "cluster-resources-weekly"},
    )
    f.subjects = []  # a symptom of its schedule, backups or location: it explains none of them
    return f
