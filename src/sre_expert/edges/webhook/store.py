"""The store of alerts, investigations and the notification outbox: SQLite (embedded default) or
PostgreSQL (replicas), one behaviour.

Why SQLite with WAL and synchronous=FULL: Alertmanager treats our 200 as "delivered" and will not send
the group again until its repeat interval, so a webhook must be on disk before we answer. One file,
no server, survives `kill -9`. PostgreSQL (`pgstore.py`) is the same contract for several replicas
sharing one database; everything here that is not SQL dialect is written once, in `StoreBase`.

Dedup: one open (not resolved) investigation per cluster and Alertmanager group key, enforced by a
partial unique index, so two replicas receiving the same group from an HA Alertmanager pair open one
investigation (the loser of the race retries and merges), while two clusters' Alertmanagers, which
group without the cluster label and so send the same key, get one each. The cluster is the webhook's
(`cluster_of`); alerts that name none are a cluster of their own, so a group whose alerts stop agreeing
on the cluster continues as another group (not handled: the first stays open until a webhook naming
its cluster again resolves it). A webhook for an open group merges its alerts in and queues a re-investigation only when
a fingerprint starts firing that was not firing before (or when the investigation had failed:
Alertmanager's resend is then a retry). The same firing alerts (same fingerprints and labels) arriving
from the same cluster under another group key (one alert, two routes) open nothing new, also when both
arrive at once at two replicas (PostgreSQL serialises ingests whose firing fingerprints overlap); a
payload that only shares fingerprints with another group never merges into it or rewrites its labels
(fingerprints are the sender's word). When every alert of an investigation is resolved, it is closed
(status resolved, resolvedAt) and, in the same transaction, each notification target that was sent
its result gets one "resolved" notification.

Claims are leases: a worker's claim names its replica (`claimed_by`) and lasts until `lease_until`,
renewed while it works. A replica that dies leaves leases that expire, and any replica queues that
work again; a live replica's work is never taken. The outbox is claimed the same way, and every
notification carries an idempotency key, so the resend that at-least-once delivery implies after a
crash between sending and marking sent can be dropped by the receiver.

Every string stored is redacted first (labels, annotations, results, errors).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

# SQLite's PRAGMA user_version. 2: notifications.kind (result | resolved); 3: alerts.generator_url,
# investigations.external_url; 4: investigations.cluster, claim leases, idempotency keys, one open
# investigation per group key (unique index); 5: one open investigation per (cluster, group key)
SCHEMA_VERSION = 5
STATUSES = ("queued", "running", "done", "failed", "resolved")
OPEN = ("queued", "running", "done", "failed")
LIST_ALERTS = 20  # alerts carried by each item of a list (and by a notification); the record has them all
DEFAULT_LEASE = 60.0  # seconds a claim lasts without renewal; the worker pool renews every third of it
INGEST_RETRIES = 8  # a unique-key race between replicas is retried (the second attempt merges)

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
    external_url  TEXT,
    cluster       TEXT,
    claimed_by    TEXT,
    lease_until   REAL
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
    updated_at       TEXT NOT NULL,
    claimed_by       TEXT,
    lease_until      REAL,
    idem_key         TEXT
);
CREATE INDEX IF NOT EXISTS notif_due ON notifications(status, next_at);
CREATE INDEX IF NOT EXISTS notif_inv ON notifications(investigation_id);
"""

# Columns later versions added: an older file gains them (CREATE TABLE IF NOT EXISTS leaves its tables as they are).
ADDED_COLUMNS = (
    ("notifications", "kind", "TEXT NOT NULL DEFAULT 'result'"),  # 2: every older notification is a result
    ("alerts", "generator_url", "TEXT"),  # 3: where each alert came from (Prometheus)
    ("investigations", "external_url", "TEXT"),  # 3: the Alertmanager that sent it
    ("investigations", "cluster", "TEXT"),  # 4
    ("investigations", "claimed_by", "TEXT"),
    ("investigations", "lease_until", "REAL"),
    ("notifications", "claimed_by", "TEXT"),
    ("notifications", "lease_until", "REAL"),
    ("notifications", "idem_key", "TEXT"),
)
# Indexes dropped by later versions: 5 replaced inv_open_group (group key alone) by inv_open_cluster_group.
DROPPED_INDEXES = ("inv_open_group",)
# Indexes over added columns: created after the columns exist.
LATE_INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS inv_open_cluster_group ON investigations(COALESCE(cluster, ''), group_key)
    WHERE group_key IS NOT NULL AND status <> 'resolved';
CREATE INDEX IF NOT EXISTS inv_cluster ON investigations(cluster, seq);
"""


class StoreError(RuntimeError):
    """The database cannot be used (wrong schema version, unreadable file, unreachable server)."""


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


LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def unqualified_group_key(group_key: str, cluster: str) -> str | None:
    """The group key Alertmanager sent, out of one that schema 4's `serve` qualified by the cluster when it
    served several (`cluster="prod"/{}:{…}`); None when `group_key` is not such a key. Alertmanager's own
    keys start with `{`, never with a label name."""
    label, sep, rest = group_key.partition("=")
    prefix = '"' + cluster.replace("\\", "\\\\").replace('"', '\\"') + '"/'
    if sep and LABEL_NAME.fullmatch(label) and rest.startswith(prefix) and len(rest) > len(prefix):
        return rest[len(prefix):]
    return None


def unqualify_group_keys(db: Db) -> int:
    """Schema 5 migration step, after the unique index on the group key alone is dropped and before the one
    on (cluster, group key) is built: each investigation's group key becomes Alertmanager's again, so the
    next webhook of a group that was open under a qualified key still merges into it. An open one whose
    plain key is already open in its cluster keeps its qualified key (the index would refuse two).
    Returns how many investigations changed."""
    rows = db.execute("SELECT id, cluster, group_key, status FROM investigations "
                      "WHERE cluster IS NOT NULL AND group_key IS NOT NULL ORDER BY seq").fetchall()
    open_keys = {(r[1], r[2]) for r in rows if r[3] != "resolved"}
    changes = []
    for inv_id, cluster, group_key, status in rows:
        plain = unqualified_group_key(group_key, cluster)
        if plain is None:
            continue
        if status != "resolved":
            if (cluster, plain) in open_keys:
                continue
            open_keys.add((cluster, plain))
        changes.append((plain, inv_id))
    if changes:
        db.executemany("UPDATE investigations SET group_key=? WHERE id=?", changes)
        db.executemany("UPDATE alerts SET group_key=? WHERE investigation_id=?", changes)
    return len(changes)


def root_key_of(result: Mapping[str, Any]) -> str | None:
    """What a result notification is about: its root cause's id, else its summary (one message per root)."""
    root = result.get("rootCause") or {}
    return root.get("id") or result.get("summary")


def idempotency_key(inv_id: str, target: str, kind: str, generation: int, about: str | None = None) -> str:
    """Stable per investigation, target, kind, generation and what the message is about (a result's root
    key): a resend after a crash carries the same key, another message another one. The generation alone
    is not enough: it is read when the notification is queued, and a result queued late (after a new
    alert re-ran the investigation elsewhere) shares the newer run's generation."""
    data = "\x00".join((inv_id, target, kind, str(generation), "" if about is None else "\x01" + about))
    return hashlib.sha256(data.encode()).hexdigest()[:32]


def cluster_of(payload: Mapping[str, Any], label: str) -> str | None:
    """The cluster a webhook is about: its common label, else the value every alert agrees on, else None."""
    common = (payload.get("commonLabels") or {}).get(label)
    if common:
        return str(common)
    values = {(a.get("labels") or {}).get(label) for a in payload.get("alerts") or ()}
    if len(values) == 1:
        (only,) = values
        return str(only) if only else None
    return None


def replica_id() -> str:
    """Who holds a claim: host (the pod's name in Kubernetes), process and a random part, so a restarted
    process never mistakes its predecessor's leases for its own."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def check_schema_version(found: int, known: int) -> None:
    """A database written by a newer sre-expert is refused: this code would not know its columns' meaning."""
    if found > known:
        raise StoreError(f"database schema version {found} is newer than this sre-expert ({known}); "
                         "upgrade sre-expert or point it at another database")


def is_postgres(db: str) -> bool:
    return db.startswith(("postgresql://", "postgres://"))


PASSWORD_PARAM = re.compile(r"(?i)(\bpassword=)([^&]*)")


def _dsn_credentials(db: str) -> tuple[str, str, str] | None:
    """(scheme://, user-info, the rest) of a DSN whose user-info holds a `:` (a password), else None.
    libpq ends the user-info at the first `@` ahead of any `/`, so a password may hold `#`, `?` or `:`
    unencoded; an unencoded `/` makes libpq fail, and then the last `@` ends it (its error must not show
    the password either). Never urlsplit: it splits such a DSN elsewhere and raises on a bad port."""
    scheme, sep, rest = db.partition("://")
    if not sep:
        return None
    at = next((i for i, ch in enumerate(rest) if ch in "@/"), -1)
    if at < 0 or rest[at] != "@":
        at = rest.rfind("@")
    if at < 0 or ":" not in rest[:at]:
        return None
    return scheme + sep, rest[:at], rest[at:]


def dsn_secrets(db: str) -> list[str]:
    """The passwords a postgresql:// DSN carries (user-info and `password=` parameters), as written and
    percent-decoded, longest first: what no message may show (libpq quotes bad tokens in its errors)."""
    from urllib.parse import unquote

    if not is_postgres(db):
        return []
    found = [m.group(2) for m in PASSWORD_PARAM.finditer(db)]
    creds = _dsn_credentials(db)
    if creds:
        found.append(creds[1].partition(":")[2])
    out = {v for f in found for v in (f, unquote(f)) if v}
    return sorted(out, key=len, reverse=True)


def scrub_dsn(text: str, db: str) -> str:
    """`text` (an error about `db`) with the DSN's passwords replaced by ***."""
    for secret in dsn_secrets(db):
        text = text.replace(secret, "***")
    return text


def describe_db(db: str) -> str:
    """The database for log lines and errors: a DSN without its password (user-info or `password=`)."""
    if not is_postgres(db):
        return db
    creds = _dsn_credentials(db)
    if creds:
        scheme, userinfo, rest = creds
        db = f"{scheme}{userinfo.partition(':')[0]}:***{rest}"
    return PASSWORD_PARAM.sub(r"\1***", db)


def open_store(db: str, *, clock: Callable[[], datetime] | None = None, lease: float = DEFAULT_LEASE,
               owner: str | None = None) -> StoreBase:
    """The store `db` names: a postgresql:// DSN opens PostgreSQL (the `postgres` extra), anything else is a
    SQLite file."""
    if is_postgres(db):
        from sre_expert.edges.webhook.pgstore import PostgresStore

        return PostgresStore(db, clock=clock, lease=lease, owner=owner)
    return Store(db, clock=clock, lease=lease, owner=owner)


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Db(Protocol):
    """What the shared logic needs of a connection: sqlite3's execute/executemany with `?` parameters."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> Any: ...


# Inside StoreBase `list` names its method, so annotations after it use this alias.
Rows = list[dict[str, Any]]


class StoreBase(ABC):
    """Every store operation, written once over `Db`; a backend supplies connections (`_tx`, `_read`),
    the sequence of investigations and a few dialect words below."""

    ALERT_ORDER = "rowid"  # arrival order of alerts
    NO_LIMIT: int | None = -1  # LIMIT value meaning "all"
    LOCK_GROUP = ""  # appended to the open-group lookup of ingest (PostgreSQL locks that row)
    SKIP_LOCKED = ""  # appended to the sub-selects that claim work
    SAME = "IS"  # null-safe equality
    NOT_SAME = "IS NOT"
    exclusive = True  # one process owns the database: at start, every running claim is a dead one

    def __init__(self, *, clock: Callable[[], datetime] | None, lease: float, owner: str | None):
        self._clock = clock or (lambda: datetime.now(UTC))
        self.lease = float(lease)
        self.owner = owner or replica_id()
        self._changed = threading.Condition(threading.Lock())

    # ------------------------------------------------------------------------------ backend
    @abstractmethod
    def _tx(self) -> Any:
        """A context manager: one write transaction, yielding a `Db`."""

    @abstractmethod
    def _read(self) -> Any:
        """A context manager yielding a `Db` for reads."""

    @abstractmethod
    def _next_seq(self, db: Db) -> int:
        """The next investigation sequence number (list order)."""

    def _unique_violation(self, e: BaseException) -> bool:
        """True when `e` is a lost race on a unique key (another replica inserted first)."""
        return False

    def _lock_alerts(self, db: Db, cluster: str | None, fingerprints: Sequence[str]) -> None:  # noqa: B027 - a hook
        """Inside an ingest transaction, before its lookups: wait for every other ingest of any of these
        firing alerts (of this cluster) to commit, so the "same alerts under another group key" rule sees
        it. SQLite has one writer at a time already."""

    def _announce(self, db: Db) -> None:  # noqa: B027 - a hook a backend may leave empty
        """Inside a transaction that queued work: tell the other replicas when it commits (PostgreSQL
        NOTIFY). SQLite has no other process to tell."""

    @abstractmethod
    def close(self) -> None:
        """Release the backend's connections."""

    def ping(self) -> bool:
        with self._read() as db:
            return db.execute("SELECT 1").fetchone()[0] == 1

    # ------------------------------------------------------------------------------ plumbing
    def now(self) -> str:
        return rfc3339(self._clock())

    def _ts(self) -> float:
        """Seconds since the epoch on the store's clock (leases)."""
        return self._clock().timestamp()

    def wait_for_work(self, timeout: float) -> None:
        """Block until something was queued here (or `timeout`): workers sleep here instead of polling hard.
        Work another replica queues is seen at the next timeout."""
        with self._changed:
            self._changed.wait(timeout)

    def _wake(self) -> None:
        with self._changed:
            self._changed.notify_all()

    # ------------------------------------------------------------------------------ ingest
    def ingest(self, payload: Mapping[str, Any], *, cluster_label: str = "cluster") -> list[str]:
        """Store one Alertmanager webhook (already validated and redacted) and return the investigation
        ids its alerts belong to. Committed (durable) when this returns. A replica that lost the race to
        open the group's investigation retries, and then merges into the winner's."""
        for attempt in range(INGEST_RETRIES):
            try:
                ids, wake = self._ingest_once(payload, cluster_of(payload, cluster_label))
            except Exception as e:
                if attempt + 1 < INGEST_RETRIES and self._unique_violation(e):
                    continue
                raise
            if wake:
                self._wake()
            return ids
        raise AssertionError("unreachable")

    def _ingest_once(self, payload: Mapping[str, Any], cluster: str | None) -> tuple[list[str], bool]:
        group_key = payload.get("groupKey") or None
        alerts = list(payload.get("alerts") or ())
        now = self.now()
        fps = [a["fingerprint"] for a in alerts if a["status"] == "firing"]
        with self._tx() as db:
            if fps:
                self._lock_alerts(db, cluster, fps)
            inv = None
            if group_key:
                inv = db.execute(
                    "SELECT id, status FROM investigations WHERE group_key=? AND COALESCE(cluster, '')=? "
                    f"AND status IN (?,?,?,?) ORDER BY seq DESC LIMIT 1{self.LOCK_GROUP}",
                    (group_key, cluster or "", *OPEN)).fetchone()
            if inv is None and fps and not group_key:
                # a sender without group keys: its alerts group by fingerprint among its own investigations
                marks = ",".join("?" * len(fps))
                inv = db.execute(
                    f"SELECT i.id, i.status FROM alerts a JOIN investigations i ON i.id=a.investigation_id "
                    f"WHERE a.fingerprint IN ({marks}) AND a.status='firing' AND i.status IN (?,?,?,?) "
                    f"AND i.group_key IS NULL AND COALESCE(i.cluster, '')=? ORDER BY i.seq DESC LIMIT 1",
                    (*fps, *OPEN, cluster or "")).fetchone()
            if inv is None and fps:
                dup = self._duplicate_elsewhere(db, cluster, group_key, alerts, fps)
                if dup is not None:  # the same alerts routed to us again under another group: nothing new
                    return [dup], False
            if inv is None and not fps:
                # resolved alerts of a group we never saw open: kept for the record, nothing to investigate
                self._upsert_alerts(db, None, group_key, alerts, now)
                return [], False
            if inv is None:
                inv_id = new_id()
                db.execute(
                    "INSERT INTO investigations (id, status, trigger, group_key, receiver, alertname, severity, "
                    "common_labels, created_at, updated_at, seq, external_url, cluster) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (inv_id, "queued", "alert", group_key, payload.get("receiver"),
                     _alertname(payload), _severity(payload), _dumps(payload.get("commonLabels") or {}),
                     now, now, self._next_seq(db), payload.get("externalURL"), cluster))
                self._upsert_alerts(db, inv_id, group_key, alerts, now)
                queued = True
            else:
                inv_id = inv[0]
                before = {r[0]: r[1] for r in db.execute(
                    "SELECT fingerprint, status FROM alerts WHERE investigation_id=?", (inv_id,))}
                self._upsert_alerts(db, inv_id, group_key, alerts, now)
                if payload.get("externalURL"):  # the Alertmanager that sent the latest update
                    db.execute("UPDATE investigations SET external_url=? WHERE id=?",
                               (payload["externalURL"], inv_id))
                # a new firing fingerprint is news; a failed investigation is retried on any resend
                queued = any(before.get(fp) != "firing" for fp in fps) or (inv[1] == "failed" and bool(fps))
                if queued:
                    # the cluster is part of the group's identity (the lookup matched it): it never changes
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
                self._announce(db)
        return [inv_id], bool(queued or announced)

    def _duplicate_elsewhere(self, db: Db, cluster: str | None, group_key: str | None,
                             alerts: Sequence[Mapping[str, Any]], fps: Sequence[str]) -> str | None:
        """The open investigation of this cluster that already holds every firing alert of this payload, with
        the same labels, under another (or no) group key: the id to answer with, or None.

        Alertmanager sends one alert to every route it matches (`continue: true`), each under its own group
        key: that must not open a second investigation. A fingerprint is only the sender's word, though: a
        payload whose fingerprint is known but whose labels differ, or that brings alerts the other group
        does not hold, is another group's business. It never merges into that group nor rewrites its
        labels: it opens its own investigation."""
        marks = ",".join("?" * len(fps))
        row = db.execute(
            f"SELECT i.id FROM alerts a JOIN investigations i ON i.id=a.investigation_id "
            f"WHERE a.fingerprint IN ({marks}) AND a.status='firing' AND i.status IN (?,?,?,?) "
            f"AND i.group_key IS NOT NULL AND i.group_key {self.NOT_SAME} ? AND COALESCE(i.cluster, '')=? "
            "ORDER BY i.seq DESC LIMIT 1", (*fps, *OPEN, group_key, cluster or "")).fetchone()
        if row is None:
            return None
        held = {r[0]: _loads(r[1], {}) for r in db.execute(
            f"SELECT fingerprint, labels FROM alerts WHERE investigation_id=? AND status='firing' "
            f"AND fingerprint IN ({marks})", (row[0], *fps))}
        firing = [a for a in alerts if a["status"] == "firing"]
        if all(a["fingerprint"] in held and held[a["fingerprint"]] == (a.get("labels") or {}) for a in firing):
            return row[0]
        return None

    def _queue_resolved(self, db: Db, inv_id: str, now: str) -> int:
        """In the resolving transaction: one 'resolved' notification per target that was told about this
        investigation (its latest URL), and never a second. A group that resolves before its result was
        sent stays silent: a resolution of something nobody heard of is noise."""
        targets = db.execute(
            "SELECT n.target, n.url FROM notifications n WHERE n.id IN (SELECT MAX(id) FROM notifications "
            "WHERE investigation_id=? AND kind='result' GROUP BY target) AND NOT EXISTS (SELECT 1 FROM "
            "notifications r WHERE r.investigation_id=n.investigation_id AND r.target=n.target AND "
            "r.kind='resolved') ORDER BY n.target", (inv_id,)).fetchall()
        if not targets:
            return 0
        generation = db.execute("SELECT generation FROM investigations WHERE id=?", (inv_id,)).fetchone()[0]
        db.executemany(
            "INSERT INTO notifications (investigation_id, target, url, root_key, kind, status, next_at, created_at, "
            "updated_at, idem_key) VALUES (?,?,?,NULL,'resolved','pending',?,?,?,?)",
            [(inv_id, target, url, time.time(), now, now, idempotency_key(inv_id, target, "resolved", generation))
             for target, url in targets])
        return len(targets)

    @staticmethod
    def _upsert_alerts(db: Db, inv_id: str | None, group_key: str | None,
                       alerts: Sequence[Mapping[str, Any]], now: str) -> None:
        db.executemany(
            "INSERT INTO alerts (investigation_id, fingerprint, group_key, status, starts_at, ends_at, labels, "
            "annotations, received_at, updated_at, generator_url) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(investigation_id, fingerprint) DO UPDATE SET status=excluded.status, "
            "starts_at=excluded.starts_at, ends_at=excluded.ends_at, labels=excluded.labels, "
            "annotations=excluded.annotations, updated_at=excluded.updated_at, "
            "generator_url=COALESCE(excluded.generator_url, alerts.generator_url)",
            [(inv_id, a["fingerprint"], group_key, a["status"], a.get("startsAt"), a.get("endsAt"),
              _dumps(a.get("labels") or {}), _dumps(a.get("annotations") or {}), now, now, a.get("generatorURL"))
             for a in alerts])

    def create_manual(self, namespace: str | None, component: str | None, *, cluster: str | None = None) -> str:
        now = self.now()
        inv_id = new_id()
        with self._tx() as db:
            db.execute(
                "INSERT INTO investigations (id, status, trigger, request, created_at, updated_at, seq, cluster) "
                "VALUES (?,?,?,?,?,?,?,?)",
                (inv_id, "queued", "manual", _dumps({"namespace": namespace, "component": component}),
                 now, now, self._next_seq(db), cluster))
            self._announce(db)
        self._wake()
        return inv_id

    # ------------------------------------------------------------------------------ worker side
    def requeue_interrupted(self) -> int:
        """At start. SQLite (one process per file): whatever was running belonged to a process that is gone,
        so it is all queued again. PostgreSQL (replicas): only claims whose lease expired; a live replica's
        work is its own."""
        if not self.exclusive:
            return self.requeue_expired()
        with self._tx() as db:
            n = db.execute("UPDATE investigations SET status='queued', claimed_by=NULL, lease_until=NULL, "
                           "updated_at=? WHERE status='running'", (self.now(),)).rowcount
            db.execute("UPDATE notifications SET claimed_by=NULL, lease_until=NULL WHERE claimed_by IS NOT NULL")
            if n:
                self._announce(db)
        if n:
            self._wake()
        return n

    def requeue_expired(self) -> int:
        """Queue again every running investigation whose claim lease has expired (its replica died or hung);
        returns how many. Expired outbox claims need nothing: an expired lease is due again by itself."""
        with self._tx() as db:
            # rows another replica is updating right now are skipped (the next round sees them): two
            # replicas requeueing at once never wait on each other, so they cannot deadlock
            n = db.execute("UPDATE investigations SET status='queued', claimed_by=NULL, lease_until=NULL, "
                           "updated_at=? WHERE id IN (SELECT id FROM investigations WHERE status='running' AND "
                           f"(lease_until IS NULL OR lease_until<?){self.SKIP_LOCKED})",
                           (self.now(), self._ts())).rowcount
            if n:
                self._announce(db)
        if n:
            self._wake()
        return n

    def renew_leases(self) -> int:
        """Extend every claim this replica holds (investigations running, notifications being sent)."""
        until = self._ts() + self.lease
        with self._tx() as db:
            n = db.execute("UPDATE investigations SET lease_until=? WHERE status='running' AND claimed_by=?",
                           (until, self.owner)).rowcount
            n += db.execute("UPDATE notifications SET lease_until=? WHERE status='pending' AND claimed_by=?",
                            (until, self.owner)).rowcount
        return n

    def release_claims(self) -> int:
        """On a graceful stop: this replica's running investigations are queued again and its outbox claims
        dropped, so other replicas (or the next start) take them at once instead of after the lease."""
        with self._tx() as db:
            n = db.execute("UPDATE investigations SET status='queued', claimed_by=NULL, lease_until=NULL, "
                           "updated_at=? WHERE status='running' AND claimed_by=?", (self.now(), self.owner)).rowcount
            db.execute("UPDATE notifications SET claimed_by=NULL, lease_until=NULL WHERE claimed_by=?", (self.owner,))
            self._announce(db)
        return n

    def claim(self) -> dict[str, Any] | None:
        """Atomically take the oldest queued investigation under a lease (id, generation, and what it
        needs). Replicas skip each other's locked rows, so no investigation is handed out twice."""
        with self._tx() as db:
            row = db.execute(
                "UPDATE investigations SET status='running', updated_at=?, claimed_by=?, lease_until=? WHERE id=("
                f"SELECT id FROM investigations WHERE status='queued' ORDER BY seq LIMIT 1{self.SKIP_LOCKED}) "
                "RETURNING id, generation, trigger, alertname, common_labels, request, cluster",
                (self.now(), self.owner, self._ts() + self.lease)).fetchone()
            if row is None:
                return None
            alerts = [self._alert_row(r) for r in db.execute(
                "SELECT fingerprint, status, starts_at, ends_at, labels, annotations, generator_url FROM alerts "
                f"WHERE investigation_id=? ORDER BY {self.ALERT_ORDER}", (row[0],))]
        return {"id": row[0], "generation": row[1], "trigger": row[2], "alertname": row[3],
                "commonLabels": _loads(row[4], {}), "request": _loads(row[5], {}), "cluster": row[6],
                "alerts": alerts}

    # the claim is still ours: running, same generation, our lease (a requeued or re-claimed one is not)
    _OURS = "status='running' AND generation=? AND claimed_by=?"

    def finish(self, inv_id: str, generation: int, result: Mapping[str, Any],
               notify: Iterable[tuple[str, str]] = ()) -> bool:
        """Store a result; the status becomes done unless the investigation was re-queued, resolved or
        claimed by another replica meanwhile. True when it became done; its notifications to the `notify`
        targets are then queued in the same transaction, so a replica killed right after finishing cannot
        leave a done investigation that nobody was told about."""
        result = dict(result)
        report = result.pop("report", None)
        now = self.now()
        ours = (generation, self.owner)
        with self._tx() as db:
            rhash = None
            if report is not None:
                body = orjson.dumps(report, option=orjson.OPT_SORT_KEYS)
                rhash = hashlib.sha256(body).hexdigest()
                db.execute("INSERT INTO reports (hash, body) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING",
                           (rhash, body))
            cur = db.execute(
                "UPDATE investigations SET result=?, report_hash=?, error=NULL, updated_at=?, "
                f"status=CASE WHEN {self._OURS} THEN 'done' ELSE status END, "
                f"lease_until=CASE WHEN {self._OURS} THEN NULL ELSE lease_until END, "
                f"claimed_by=CASE WHEN {self._OURS} THEN NULL ELSE claimed_by END "
                "WHERE id=? RETURNING status, generation",
                (_dumps(result), rhash, now, *ours, *ours, *ours, inv_id)).fetchone()
            done = bool(cur and cur[0] == "done" and cur[1] == generation)
            queued = self._queue_results(db, inv_id, notify, root_key_of(result)) if done else 0
        if queued:
            self._wake()
        return done

    def fail(self, inv_id: str, generation: int, error: str) -> None:
        ours = (generation, self.owner)
        with self._tx() as db:
            db.execute(
                "UPDATE investigations SET error=?, updated_at=?, "
                f"status=CASE WHEN {self._OURS} THEN 'failed' ELSE status END, "
                f"lease_until=CASE WHEN {self._OURS} THEN NULL ELSE lease_until END, "
                f"claimed_by=CASE WHEN {self._OURS} THEN NULL ELSE claimed_by END WHERE id=?",
                (error, self.now(), *ours, *ours, *ours, inv_id))

    # ------------------------------------------------------------------------------ reading
    @staticmethod
    def _alert_row(r: Sequence[Any]) -> dict[str, Any]:
        return {"fingerprint": r[0], "status": r[1], "startsAt": r[2], "endsAt": r[3],
                "labels": _loads(r[4], {}), "annotations": _loads(r[5], {}), "generatorURL": r[6]}

    _COLS = ("id, status, trigger, group_key, receiver, alertname, severity, common_labels, request, result, "
             "report_hash, error, created_at, updated_at, resolved_at, external_url, cluster")

    def _record(self, db: Db, row: Sequence[Any], *, with_report: bool,
                alerts_limit: int | None = None, alerts_offset: int = 0) -> dict[str, Any]:
        """One record; `alerts` holds alerts_offset.. (at most alerts_limit; None: all) in arrival order and
        `alertsTotal` counts them all, since a group can hold tens of thousands."""
        (inv_id, status, trigger, group_key, receiver, alertname, severity, common, request, result, rhash,
         error, created, updated, resolved, external_url, cluster) = row
        res = _loads(result, {})
        req = _loads(request, {})
        alerts = [self._alert_row(r) for r in db.execute(
            "SELECT fingerprint, status, starts_at, ends_at, labels, annotations, generator_url FROM alerts "
            f"WHERE investigation_id=? ORDER BY {self.ALERT_ORDER} LIMIT ? OFFSET ?",
            (inv_id, self.NO_LIMIT if alerts_limit is None else alerts_limit, max(0, alerts_offset)))]
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
            "externalURL": external_url, "cluster": cluster,
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
            rec["report"] = _loads(bytes(body[0])) if body else None
        return rec

    def get(self, inv_id: str, *, with_report: bool = True, alerts_limit: int | None = None,
            alerts_offset: int = 0) -> dict[str, Any] | None:
        with self._read() as db:
            row = db.execute(f"SELECT {self._COLS} FROM investigations WHERE id=?", (inv_id,)).fetchone()
            return self._record(db, row, with_report=with_report, alerts_limit=alerts_limit,
                                alerts_offset=alerts_offset) if row else None

    def list(self, status: str | None = None, limit: int = 50, offset: int = 0, *,
             cluster: str | None = None) -> tuple[list[dict[str, Any]], int]:
        """Newest first, without reports, each with its first LIST_ALERTS alerts (and `alertsTotal`): a page
        of 500 records must not load every alert of every group. `status` and `cluster` filter when given."""
        where, args = _filters(status, cluster)
        with self._read() as db:
            total = db.execute(f"SELECT COUNT(*) FROM investigations {where}", args).fetchone()[0]
            rows = db.execute(
                f"SELECT {self._COLS} FROM investigations {where} ORDER BY seq DESC LIMIT ? OFFSET ?",
                (*args, limit, offset)).fetchall()
            return [self._record(db, r, with_report=False, alerts_limit=LIST_ALERTS) for r in rows], total

    def counts(self, cluster: str | None = None) -> dict[str, int]:
        where, args = _filters(None, cluster)
        with self._read() as db:
            got = dict(db.execute(f"SELECT status, COUNT(*) FROM investigations {where} GROUP BY status",
                                  args).fetchall())
        return {s: int(got.get(s, 0)) for s in STATUSES}

    def alert_count(self) -> int:
        with self._read() as db:
            return db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0]

    # ------------------------------------------------------------------------------ outbox
    def enqueue_notifications(self, inv_id: str, targets: Iterable[tuple[str, str]], root_key: str | None) -> int:
        """One pending result notification per target, unless this root cause was already notified for it."""
        with self._tx() as db:
            n = self._queue_results(db, inv_id, targets, root_key)
        if n:
            self._wake()
        return n

    def _queue_results(self, db: Any, inv_id: str, targets: Iterable[tuple[str, str]], root_key: str | None) -> int:
        now = self.now()
        n = 0
        # the row lock (PostgreSQL) serialises two replicas queueing a result for one investigation at once,
        # so the second sees the first's rows below instead of adding its own under the same key
        row = db.execute(f"SELECT generation FROM investigations WHERE id=?{self.LOCK_GROUP}",
                         (inv_id,)).fetchone()
        generation = row[0] if row else 0
        for target, url in targets:
            seen = db.execute("SELECT 1 FROM notifications WHERE investigation_id=? AND target=? AND "
                              f"kind='result' AND root_key {self.SAME} ?", (inv_id, target, root_key)).fetchone()
            if seen:
                continue
            db.execute("INSERT INTO notifications (investigation_id, target, url, root_key, status, next_at, "
                       "created_at, updated_at, idem_key) VALUES (?,?,?,?,?,?,?,?,?)",
                       (inv_id, target, url, root_key, "pending", time.time(), now, now,
                        idempotency_key(inv_id, target, "result", generation, root_key)))
            n += 1
        if n:
            self._announce(db)
        return n

    def due_notifications(self, limit: int = 20) -> Rows:
        """Claim (under a lease) up to `limit` pending notifications that are due and not claimed by a live
        replica. The caller reports each with `notification_result`; one it never reports (it died) is due
        again when the lease expires, and is sent again with the same idempotency key."""
        now = self._ts()
        with self._tx() as db:
            rows = db.execute(
                "UPDATE notifications SET claimed_by=?, lease_until=? WHERE id IN (SELECT id FROM notifications "
                "WHERE status='pending' AND next_at<=? AND (lease_until IS NULL OR lease_until<?) "
                f"ORDER BY next_at, id LIMIT ?{self.SKIP_LOCKED}) "
                "RETURNING id, investigation_id, target, url, attempts, kind, idem_key, next_at",
                (self.owner, now + self.lease, time.time(), now, limit)).fetchall()
        rows.sort(key=lambda r: (r[7], r[0]))
        return [{"id": r[0], "investigation": r[1], "target": r[2], "url": r[3], "attempts": r[4], "kind": r[5],
                 "idempotencyKey": r[6] or f"notification-{r[0]}"} for r in rows]

    def next_notification_at(self) -> float | None:
        """When the next pending notification is due: its next attempt, or the end of another claim's lease."""
        with self._read() as db:
            row = db.execute(
                "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until>=? THEN lease_until ELSE next_at END) "
                "FROM notifications WHERE status='pending'", (self._ts(),)).fetchone()
        return row[0] if row else None

    def notification_result(self, nid: int, *, ok: bool, error: str | None, next_at: float | None) -> None:
        """ok → sent; else pending again at `next_at`, or failed for good when next_at is None."""
        status = "sent" if ok else ("pending" if next_at is not None else "failed")
        with self._tx() as db:
            db.execute("UPDATE notifications SET status=?, attempts=attempts+1, last_error=?, next_at=?, "
                       "updated_at=?, claimed_by=NULL, lease_until=NULL WHERE id=?",
                       (status, error, next_at or 0, self.now(), nid))


class Store(StoreBase):
    """SQLite. One connection guarded by a lock: SQLite serialises writers anyway, and the lock keeps the
    merge/dedup of a webhook atomic with respect to the workers."""

    def __init__(self, path: str, *, clock: Callable[[], datetime] | None = None, lease: float = DEFAULT_LEASE,
                 owner: str | None = None):
        super().__init__(clock=clock, lease=lease, owner=owner)
        self.path = path
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{path}: {e}") from None

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        check_schema_version(version, SCHEMA_VERSION)
        if version < SCHEMA_VERSION:
            with self._tx() as db:
                for stmt in SCHEMA.split(";"):
                    if stmt.strip():
                        db.execute(stmt)
                for table, col, decl in ADDED_COLUMNS:
                    if col not in {r[1] for r in db.execute(f"PRAGMA table_info({table})")}:
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {col} {decl}")
                for name in DROPPED_INDEXES:
                    db.execute(f"DROP INDEX IF EXISTS {name}")
                if version < 5:
                    unqualify_group_keys(db)
                for stmt in LATE_INDEXES.split(";"):
                    if stmt.strip():
                        db.execute(stmt)
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction (the write lock is taken up front, so no upgrade deadlock)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._db

    def _next_seq(self, db: Db) -> int:
        return (db.execute("SELECT COALESCE(MAX(seq), 0) FROM investigations").fetchone()[0] or 0) + 1

    def _unique_violation(self, e: BaseException) -> bool:
        return isinstance(e, sqlite3.IntegrityError) and "UNIQUE" in str(e)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _filters(status: str | None, cluster: str | None) -> tuple[str, tuple[Any, ...]]:
    conds, args = [], []
    if status:
        conds.append("status=?")
        args.append(status)
    if cluster is not None:
        conds.append("cluster=?")
        args.append(cluster)
    return ("WHERE " + " AND ".join(conds) if conds else ""), tuple(args)


def _alertname(payload: Mapping[str, Any]) -> str | None:
    name = (payload.get("commonLabels") or {}).get("alertname") or (payload.get("groupLabels") or {}).get("alertname")
    if name:
        return name
    names = {n for a in payload.get("alerts") or () if (n := (a.get("labels") or {}).get("alertname")) is not None}
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
