"""SQLite store of alerts, investigations and the notification outbox.

Why SQLite with WAL and synchronous=FULL: Alertmanager treats our 200 as "delivered" and will not send
the group again until its repeat interval, so a webhook must be on disk before we answer. One file,
no server, survives `kill -9`; on start every queued or running investigation is queued again.

Dedup: one open (not resolved) investigation per Alertmanager group key. A webhook for an open group
merges its alerts in and queues a re-investigation only when a fingerprint starts firing that was not
firing before (or when the investigation had failed: Alertmanager's resend is then a retry). The same
firing alerts (same fingerprints and labels) arriving under another group key (one alert, two routes)
open nothing new; a payload that only shares fingerprints with another group never merges into it or
rewrites its labels (fingerprints are the sender's word). When every
alert of an investigation is resolved, it is closed (status resolved, resolvedAt) and, in the same
transaction, each notification target that was sent its result gets one "resolved" notification.

Every string stored is redacted first (labels, annotations, results, errors).
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson

# 2: notifications.kind (result | resolved); 3: alerts.generator_url, investigations.external_url
SCHEMA_VERSION = 3
STATUSES = ("queued", "running", "done", "failed", "resolved")
OPEN = ("queued", "running", "done", "failed")
LIST_ALERTS = 20  # alerts carried by each item of a list (and by a notification); the record has them all

SCHEMA = """
CREATE TABLE IF NOT EXISTS investigations (
    id            TEXT PRIMARY KEY,
    status        TEXT NOT NULL,
    trigger       TEXT NOT NULL,
    group_key     TEXT,
    receiver      TEXT,
    alertname     TEXT,
    severity      TEXT,
    common_labels TEXT NOT NULL DEFAULT '{}',
    request       TEXT NOT NULL DEFAULT '{}',
    result        TEXT NOT NULL DEFAULT '{}',
    report_hash   TEXT,
    error         TEXT,
    generation    INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    resolved_at   TEXT,
    seq           INTEGER NOT NULL,
    external_url  TEXT
);
CREATE INDEX IF NOT EXISTS inv_status ON investigations(status, seq);
CREATE INDEX IF NOT EXISTS inv_group ON investigations(group_key, status);
CREATE INDEX IF NOT EXISTS inv_seq ON investigations(seq);

CREATE TABLE IF NOT EXISTS alerts (
    investigation_id TEXT,
    fingerprint      TEXT NOT NULL,
    group_key        TEXT,
    status           TEXT NOT NULL,
    starts_at        TEXT,
    ends_at          TEXT,
    labels           TEXT NOT NULL,
    annotations      TEXT NOT NULL,
    received_at      TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    generator_url    TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS alert_inv_fp ON alerts(investigation_id, fingerprint);
CREATE INDEX IF NOT EXISTS alert_fp ON alerts(fingerprint, status);

-- Scoped reports are large and often identical across investigations of one snapshot: stored once.
CREATE TABLE IF NOT EXISTS reports (
    hash TEXT PRIMARY KEY,
    body BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS notifications (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    investigation_id TEXT NOT NULL,
    target           TEXT NOT NULL,
    url              TEXT NOT NULL,
    root_key         TEXT,
    kind             TEXT NOT NULL DEFAULT 'result',
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    next_at          REAL NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notif_due ON notifications(status, next_at);
CREATE INDEX IF NOT EXISTS notif_inv ON notifications(investigation_id);
"""


class StoreError(RuntimeError):
    """The database cannot be used (wrong schema version, unreadable file)."""


def rfc3339(t: datetime | None = None) -> str:
    t = t or datetime.now(UTC)
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    return "inv-" + secrets.token_hex(6)


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def _loads(text: str | bytes | None, default: Any = None) -> Any:
    if text is None or text == "":
        return default
    return orjson.loads(text)


def fingerprint_of(labels: Mapping[str, str]) -> str:
    """Alertmanager sends a fingerprint; for senders that do not, one from the sorted label set."""
    data = "\xff".join(f"{k}\xfe{labels[k]}" for k in sorted(labels))
    return hashlib.sha256(data.encode()).hexdigest()[:16]


class Store:
    """All database access. One connection guarded by a lock: SQLite serialises writers anyway, and the
    lock keeps the merge/dedup of a webhook atomic with respect to the workers."""

    def __init__(self, path: str, *, clock: Callable[[], datetime] | None = None):
        self.path = path
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{path}: {e}") from None

    # ------------------------------------------------------------------------------ plumbing
    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"database schema version {version} is newer than this sre-expert ({SCHEMA_VERSION})")
        if version < SCHEMA_VERSION:
            with self._tx():
                for stmt in SCHEMA.split(";"):
                    if stmt.strip():
                        self._db.execute(stmt)
                cols = {r[1] for r in self._db.execute("PRAGMA table_info(notifications)")}
                if "kind" not in cols:  # a version 1 database: every notification it holds is a result
                    self._db.execute("ALTER TABLE notifications ADD COLUMN kind TEXT NOT NULL DEFAULT 'result'")
                # version 3: where each alert came from (Prometheus) and the Alertmanager that sent it
                for table, col in (("alerts", "generator_url"), ("investigations", "external_url")):
                    if col not in {r[1] for r in self._db.execute(f"PRAGMA table_info({table})")}:
                        self._db.execute(f"ALTER TABLE {table} ADD COLUMN {col} TEXT")
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @contextmanager
    def _tx(self):
        """One IMMEDIATE transaction (the write lock is taken up front, so no upgrade deadlock)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def now(self) -> str:
        return rfc3339(self._clock())

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def ping(self) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1").fetchone()[0] == 1

    def wait_for_work(self, timeout: float) -> None:
        """Block until something was queued (or `timeout`): workers sleep here instead of polling hard."""
        with self._changed:
            self._changed.wait(timeout)

    def _wake(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def _next_seq(self, db: sqlite3.Connection) -> int:
        return (db.execute("SELECT COALESCE(MAX(seq), 0) FROM investigations").fetchone()[0] or 0) + 1

    # ------------------------------------------------------------------------------ ingest
    def ingest(self, payload: Mapping[str, Any]) -> list[str]:
        """Store one Alertmanager webhook (already validated and redacted) and return the investigation
        ids its alerts belong to. Committed (fsync'd) when this returns."""
        group_key = payload.get("groupKey") or None
        alerts = list(payload.get("alerts") or ())
        now = self.now()
        ids: list[str] = []
        with self._tx() as db:
            inv = None
            if group_key:
                inv = db.execute(
                    "SELECT id, status FROM investigations WHERE group_key=? AND status IN (?,?,?,?) "
                    "ORDER BY seq DESC LIMIT 1", (group_key, *OPEN)).fetchone()
            fps = [a["fingerprint"] for a in alerts if a["status"] == "firing"]
            if inv is None and fps and not group_key:
                # a sender without group keys: its alerts group by fingerprint among its own investigations
                marks = ",".join("?" * len(fps))
                inv = db.execute(
                    f"SELECT i.id, i.status FROM alerts a JOIN investigations i ON i.id=a.investigation_id "
                    f"WHERE a.fingerprint IN ({marks}) AND a.status='firing' AND i.status IN (?,?,?,?) "
                    f"AND i.group_key IS NULL ORDER BY i.seq DESC LIMIT 1", (*fps, *OPEN)).fetchone()
            if inv is None and fps:
                dup = self._duplicate_elsewhere(db, group_key, alerts, fps)
                if dup is not None:  # the same alerts routed to us again under another group: nothing new
                    return [dup]
            if inv is None and not fps:
                # resolved alerts of a group we never saw open: kept for the record, nothing to investigate
                self._upsert_alerts(db, None, group_key, alerts, now)
                return []
            if inv is None:
                inv_id = new_id()
                db.execute(
                    "INSERT INTO investigations (id, status, trigger, group_key, receiver, alertname, severity, "
                    "common_labels, created_at, updated_at, seq, external_url) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (inv_id, "queued", "alert", group_key, payload.get("receiver"),
                     _alertname(payload), _severity(payload), _dumps(payload.get("commonLabels") or {}),
                     now, now, self._next_seq(db), payload.get("externalURL")))
                self._upsert_alerts(db, inv_id, group_key, alerts, now)
                ids.append(inv_id)
                queued = True
            else:
                inv_id = inv[0]
                before = {r[0]: r[1] for r in db.execute(
                    "SELECT fingerprint, status FROM alerts WHERE investigation_id=?", (inv_id,))}
                self._upsert_alerts(db, inv_id, group_key, alerts, now)
                ids.append(inv_id)
                if payload.get("externalURL"):  # the Alertmanager that sent the latest update
                    db.execute("UPDATE investigations SET external_url=? WHERE id=?",
                               (payload["externalURL"], inv_id))
                # a new firing fingerprint is news; a failed investigation is retried on any resend
                queued = any(before.get(fp) != "firing" for fp in fps) or (inv[1] == "failed" and bool(fps))
                if queued:
                    db.execute("UPDATE investigations SET status='queued', generation=generation+1, updated_at=?, "
                               "common_labels=? WHERE id=?",
                               (now, _dumps(payload.get("commonLabels") or {}), inv_id))
            firing_left = db.execute(
                "SELECT COUNT(*) FROM alerts WHERE investigation_id=? AND status='firing'", (inv_id,)).fetchone()[0]
            announced = 0
            if firing_left == 0:
                db.execute("UPDATE investigations SET status='resolved', resolved_at=?, updated_at=? WHERE id=?",
                           (now, now, inv_id))
                queued = False
                announced = self._queue_resolved(db, inv_id, now)
        if queued or announced:
            self._wake()
        return ids

    @staticmethod
    def _duplicate_elsewhere(db: sqlite3.Connection, group_key: str | None, alerts: Sequence[Mapping[str, Any]],
                             fps: Sequence[str]) -> str | None:
        """The open investigation that already holds every firing alert of this payload, with the same labels,
        under another (or no) group key: the id to answer with, or None.

        Alertmanager sends one alert to every route it matches (`continue: true`), each under its own group
        key: that must not open a second investigation. A fingerprint is only the sender's word, though: a
        payload whose fingerprint is known but whose labels differ, or that brings alerts the other group
        does not hold, is another group's business. It never merges into that group nor rewrites its
        labels: it opens its own investigation."""
        marks = ",".join("?" * len(fps))
        row = db.execute(
            f"SELECT i.id FROM alerts a JOIN investigations i ON i.id=a.investigation_id "
            f"WHERE a.fingerprint IN ({marks}) AND a.status='firing' AND i.status IN (?,?,?,?) "
            f"AND i.group_key IS NOT NULL AND i.group_key IS NOT ? ORDER BY i.seq DESC LIMIT 1",
            (*fps, *OPEN, group_key)).fetchone()
        if row is None:
            return None
        held = {r[0]: _loads(r[1], {}) for r in db.execute(
            f"SELECT fingerprint, labels FROM alerts WHERE investigation_id=? AND status='firing' "
            f"AND fingerprint IN ({marks})", (row[0], *fps))}
        firing = [a for a in alerts if a["status"] == "firing"]
        if all(a["fingerprint"] in held and held[a["fingerprint"]] == (a.get("labels") or {}) for a in firing):
            return row[0]
        return None

    @staticmethod
    def _queue_resolved(db: sqlite3.Connection, inv_id: str, now: str) -> int:
        """In the resolving transaction: one 'resolved' notification per target that was told about this
        investigation (its latest URL), and never a second. A group that resolves before its result was
        sent stays silent: a resolution of something nobody heard of is noise."""
        return db.execute(
            "INSERT INTO notifications (investigation_id, target, url, root_key, kind, status, next_at, created_at, "
            "updated_at) SELECT investigation_id, target, url, NULL, 'resolved', 'pending', ?, ?, ? FROM ("
            "SELECT investigation_id, target, url, MAX(id) FROM notifications n WHERE investigation_id=? AND "
            "kind='result' AND NOT EXISTS (SELECT 1 FROM notifications r WHERE r.investigation_id=n.investigation_id "
            "AND r.target=n.target AND r.kind='resolved') GROUP BY target) ORDER BY target",
            (time.time(), now, now, inv_id)).rowcount

    def _upsert_alerts(self, db: sqlite3.Connection, inv_id: str | None, group_key: str | None,
                       alerts: Sequence[Mapping[str, Any]], now: str) -> None:
        db.executemany(
            "INSERT INTO alerts (investigation_id, fingerprint, group_key, status, starts_at, ends_at, labels, "
            "annotations, received_at, updated_at, generator_url) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(investigation_id, fingerprint) DO UPDATE SET status=excluded.status, "
            "starts_at=excluded.starts_at, ends_at=excluded.ends_at, labels=excluded.labels, "
            "annotations=excluded.annotations, updated_at=excluded.updated_at, "
            "generator_url=COALESCE(excluded.generator_url, generator_url)",
            [(inv_id, a["fingerprint"], group_key, a["status"], a.get("startsAt"), a.get("endsAt"),
              _dumps(a.get("labels") or {}), _dumps(a.get("annotations") or {}), now, now, a.get("generatorURL"))
             for a in alerts])

    def create_manual(self, namespace: str | None, component: str | None) -> str:
        now = self.now()
        inv_id = new_id()
        with self._tx() as db:
            db.execute(
                "INSERT INTO investigations (id, status, trigger, request, created_at, updated_at, seq) "
                "VALUES (?,?,?,?,?,?,?)",
                (inv_id, "queued", "manual", _dumps({"namespace": namespace, "component": component}),
                 now, now, self._next_seq(db)))
        self._wake()
        return inv_id

    # ------------------------------------------------------------------------------ worker side
    def requeue_interrupted(self) -> int:
        """After a crash: what was running is queued again (the worker that ran it is gone)."""
        with self._tx() as db:
            n = db.execute("UPDATE investigations SET status='queued', updated_at=? WHERE status='running'",
                           (self.now(),)).rowcount
        if n:
            self._wake()
        return n

    def claim(self) -> dict[str, Any] | None:
        """Atomically take the oldest queued investigation: (id, generation, and what it needs)."""
        with self._tx() as db:
            row = db.execute(
                "UPDATE investigations SET status='running', updated_at=? WHERE id=("
                "SELECT id FROM investigations WHERE status='queued' ORDER BY seq LIMIT 1) "
                "RETURNING id, generation, trigger, alertname, common_labels, request",
                (self.now(),)).fetchone()
            if row is None:
                return None
            alerts = [self._alert_row(r) for r in db.execute(
                "SELECT fingerprint, status, starts_at, ends_at, labels, annotations, generator_url FROM alerts "
                "WHERE investigation_id=? ORDER BY rowid", (row[0],))]
        return {"id": row[0], "generation": row[1], "trigger": row[2], "alertname": row[3],
                "commonLabels": _loads(row[4], {}), "request": _loads(row[5], {}), "alerts": alerts}

    def finish(self, inv_id: str, generation: int, result: Mapping[str, Any]) -> bool:
        """Store a result; the status becomes done unless the investigation was re-queued or resolved
        meanwhile. True when it became done (the caller then notifies)."""
        result = dict(result)
        report = result.pop("report", None)
        now = self.now()
        with self._tx() as db:
            rhash = None
            if report is not None:
                body = orjson.dumps(report, option=orjson.OPT_SORT_KEYS)
                rhash = hashlib.sha256(body).hexdigest()
                db.execute("INSERT OR IGNORE INTO reports (hash, body) VALUES (?, ?)", (rhash, body))
            cur = db.execute(
                "UPDATE investigations SET result=?, report_hash=?, error=NULL, updated_at=?, "
                "status=CASE WHEN status='running' AND generation=? THEN 'done' ELSE status END "
                "WHERE id=? RETURNING status, generation",
                (_dumps(result), rhash, now, generation, inv_id)).fetchone()
        return bool(cur and cur[0] == "done" and cur[1] == generation)

    def fail(self, inv_id: str, generation: int, error: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE investigations SET error=?, updated_at=?, "
                "status=CASE WHEN status='running' AND generation=? THEN 'failed' ELSE status END WHERE id=?",
                (error, self.now(), generation, inv_id))

    # ------------------------------------------------------------------------------ reading
    @staticmethod
    def _alert_row(r: Sequence[Any]) -> dict[str, Any]:
        return {"fingerprint": r[0], "status": r[1], "startsAt": r[2], "endsAt": r[3],
                "labels": _loads(r[4], {}), "annotations": _loads(r[5], {}), "generatorURL": r[6]}

    _COLS = ("id, status, trigger, group_key, receiver, alertname, severity, common_labels, request, result, "
             "report_hash, error, created_at, updated_at, resolved_at, external_url")

    def _record(self, db: sqlite3.Connection, row: Sequence[Any], *, with_report: bool,
                alerts_limit: int | None = None, alerts_offset: int = 0) -> dict[str, Any]:
        """One record; `alerts` holds alerts_offset.. (at most alerts_limit; None: all) in arrival order and
        `alertsTotal` counts them all, since a group can hold tens of thousands."""
        (inv_id, status, trigger, group_key, receiver, alertname, severity, common, request, result, rhash,
         error, created, updated, resolved, external_url) = row
        res = _loads(result, {})
        req = _loads(request, {})
        alerts = [self._alert_row(r) for r in db.execute(
            "SELECT fingerprint, status, starts_at, ends_at, labels, annotations, generator_url FROM alerts "
            "WHERE investigation_id=? ORDER BY rowid LIMIT ? OFFSET ?",
            (inv_id, -1 if alerts_limit is None else alerts_limit, max(0, alerts_offset)))]
        if alerts_limit is None and not alerts_offset:
            alerts_total = len(alerts)
        else:
            alerts_total = db.execute("SELECT COUNT(*) FROM alerts WHERE investigation_id=?", (inv_id,)).fetchone()[0]
        notes = [{"target": r[0], "status": r[1], "attempts": r[2], "lastError": r[3], "at": r[4], "kind": r[5]}
                 for r in db.execute("SELECT target, status, attempts, last_error, updated_at, kind FROM notifications "
                                     "WHERE investigation_id=? ORDER BY id", (inv_id,))]
        scope = res.get("scope") or {"namespace": req.get("namespace"), "kind": None, "name": None}
        rec: dict[str, Any] = {
            "id": inv_id, "status": status, "trigger": trigger, "groupKey": group_key, "receiver": receiver,
            "externalURL": external_url,
            "alertname": alertname, "severity": severity, "commonLabels": _loads(common, {}), "alerts": alerts,
            "alertsTotal": alerts_total,
            "scope": scope, "runbook": res.get("runbook"),
            "component": res.get("component", req.get("component")),
            "createdAt": created, "updatedAt": updated, "resolvedAt": resolved,
            "summary": res.get("summary") or _pending_summary(status, error),
            "rootCause": res.get("rootCause"), "chain": res.get("chain") or [],
            "candidates": res.get("candidates") or [],
            "notifications": notes, "error": error,
        }
        if "trace" in res:
            rec["trace"] = res["trace"]
        if with_report:
            body = db.execute("SELECT body FROM reports WHERE hash=?", (rhash,)).fetchone() if rhash else None
            rec["report"] = _loads(body[0]) if body else None
        return rec

    def get(self, inv_id: str, *, with_report: bool = True, alerts_limit: int | None = None,
            alerts_offset: int = 0) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(f"SELECT {self._COLS} FROM investigations WHERE id=?", (inv_id,)).fetchone()
            return self._record(self._db, row, with_report=with_report, alerts_limit=alerts_limit,
                                alerts_offset=alerts_offset) if row else None

    def list(self, status: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Newest first, without reports, each with its first LIST_ALERTS alerts (and `alertsTotal`): a page
        of 500 records must not load every alert of every group."""
        where, args = ("WHERE status=?", (status,)) if status else ("", ())
        with self._lock:
            total = self._db.execute(f"SELECT COUNT(*) FROM investigations {where}", args).fetchone()[0]
            rows = self._db.execute(
                f"SELECT {self._COLS} FROM investigations {where} ORDER BY seq DESC LIMIT ? OFFSET ?",
                (*args, limit, offset)).fetchall()
            return [self._record(self._db, r, with_report=False, alerts_limit=LIST_ALERTS) for r in rows], total

    def counts(self) -> dict[str, int]:
        with self._lock:
            got = dict(self._db.execute("SELECT status, COUNT(*) FROM investigations GROUP BY status").fetchall())
        return {s: int(got.get(s, 0)) for s in STATUSES}

    def alert_count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0]

    # ------------------------------------------------------------------------------ outbox
    def enqueue_notifications(self, inv_id: str, targets: Iterable[tuple[str, str]], root_key: str | None) -> int:
        """One pending result notification per target, unless this root cause was already notified for it."""
        now = self.now()
        n = 0
        with self._tx() as db:
            for target, url in targets:
                seen = db.execute("SELECT 1 FROM notifications WHERE investigation_id=? AND target=? AND "
                                  "kind='result' AND root_key IS ?", (inv_id, target, root_key)).fetchone()
                if seen:
                    continue
                db.execute("INSERT INTO notifications (investigation_id, target, url, root_key, status, next_at, "
                           "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                           (inv_id, target, url, root_key, "pending", time.time(), now, now))
                n += 1
        if n:
            self._wake()
        return n

    def due_notifications(self, limit: int = 20) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, investigation_id, target, url, attempts, kind FROM notifications "
                "WHERE status='pending' AND next_at<=? ORDER BY next_at, id LIMIT ?", (time.time(), limit)).fetchall()
        return [{"id": r[0], "investigation": r[1], "target": r[2], "url": r[3], "attempts": r[4], "kind": r[5]}
                for r in rows]

    def next_notification_at(self) -> float | None:
        with self._lock:
            row = self._db.execute("SELECT MIN(next_at) FROM notifications WHERE status='pending'").fetchone()
        return row[0] if row else None

    def notification_result(self, nid: int, *, ok: bool, error: str | None, next_at: float | None) -> None:
        """ok → sent; else pending again at `next_at`, or failed for good when next_at is None."""
        status = "sent" if ok else ("pending" if next_at is not None else "failed")
        with self._tx() as db:
            db.execute("UPDATE notifications SET status=?, attempts=attempts+1, last_error=?, next_at=?, "
                       "updated_at=? WHERE id=?", (status, error, next_at or 0, self.now(), nid))


def _alertname(payload: Mapping[str, Any]) -> str | None:
    name = (payload.get("commonLabels") or {}).get("alertname") or (payload.get("groupLabels") or {}).get("alertname")
    if name:
        return name
    names = {(a.get("labels") or {}).get("alertname") for a in payload.get("alerts") or ()}
    names.discard(None)
    return ",".join(sorted(names)) or None


def _severity(payload: Mapping[str, Any]) -> str | None:
    sev = (payload.get("commonLabels") or {}).get("severity")
    if sev in ("critical", "warning", "info"):
        return sev
    found = {(a.get("labels") or {}).get("severity") for a in payload.get("alerts") or ()}
    for s in ("critical", "warning", "info"):
        if s in found:
            return s
    return None


def _pending_summary(status: str, error: str | None) -> str:
    if status == "failed":
        return f"investigation failed: {error}" if error else "investigation failed"
    if status in ("queued", "running"):
        return f"investigation {status}"
    if status == "resolved":
        return "resolved before it was investigated"
    return ""
