"""The PostgreSQL backend of the store: several `serve` replicas sharing one database.

Why PostgreSQL: platform teams run Alertmanager in HA pairs and want more than one `serve`; the store
must then be shared, and PostgreSQL is the distributed engine they already run. The behaviour is
`StoreBase`'s (store.py); this file holds only what is PostgreSQL's own: the driver (psycopg 3, loaded
only when a postgresql:// DSN is used), a small connection pool, the versioned migrations, the
dialect words (`FOR UPDATE SKIP LOCKED` on claims, a row lock on the group being merged, a sequence),
advisory locks that serialise ingests of the same alerts,
and LISTEN/NOTIFY, so work one replica queues wakes the idle workers of every other at once.

Migrations are numbered and recorded in `schema_migrations` (version, applied_at); a version may carry a
data step in Python (`MIGRATION_STEPS`). They run in one transaction under a transaction-scoped
advisory lock, so replicas starting together apply them once; a database newer than this code is refused.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any

from sre_expert.edges.webhook.store import (
    DEFAULT_LEASE,
    StoreBase,
    StoreError,
    check_schema_version,
    describe_db,
    scrub_dsn,
    unqualify_group_keys,
)

# pg_advisory_xact_lock key of the migrations: any constant the product owns ("sre-expert" in ASCII, cut)
MIGRATION_LOCK = 0x7372652D657870
# Ingests of overlapping firing alerts are serialised by transaction-level advisory locks (two-key form,
# a key space apart from MIGRATION_LOCK's): the class ("sre0" in ASCII) and one of ALERT_LOCK_BUCKETS
# buckets of (cluster, fingerprint). Buckets, not one lock per fingerprint: a group of 10,000 alerts takes
# at most this many locks (the server's lock table is shared and finite), at the price of unrelated
# alerts that share a bucket waiting for each other's short transaction.
ALERT_LOCK_CLASS = 0x73726530
ALERT_LOCK_BUCKETS = 128
CHANNEL = "sre_expert_work"  # NOTIFY channel: work was queued (an investigation or a notification)
POOL_SIZE = 8  # connections per replica: workers, the notifier and the web threads share them
EXTRA_HINT = "install the PostgreSQL extra: pip install 'sre-expert[postgres]' (psycopg 3; it needs libpq, Debian: libpq5)"

# (version, what it does, statements). Append only: a released migration is never edited.
MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (1, "alerts, investigations, reports and the notification outbox", """
CREATE TABLE investigations (
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
    seq           BIGINT NOT NULL,
    external_url  TEXT
);
CREATE SEQUENCE investigations_seq;
CREATE INDEX inv_status ON investigations(status, seq);
CREATE INDEX inv_group ON investigations(group_key, status);
CREATE INDEX inv_seq ON investigations(seq);
CREATE TABLE alerts (
    id               BIGSERIAL PRIMARY KEY,
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
CREATE UNIQUE INDEX alert_inv_fp ON alerts(investigation_id, fingerprint);
CREATE INDEX alert_fp ON alerts(fingerprint, status);
CREATE INDEX alert_inv_order ON alerts(investigation_id, id);
CREATE TABLE reports (
    hash TEXT PRIMARY KEY,
    body BYTEA NOT NULL
);
CREATE TABLE notifications (
    id               BIGSERIAL PRIMARY KEY,
    investigation_id TEXT NOT NULL,
    target           TEXT NOT NULL,
    url              TEXT NOT NULL,
    root_key         TEXT,
    kind             TEXT NOT NULL DEFAULT 'result',
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    next_at          DOUBLE PRECISION NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX notif_due ON notifications(status, next_at);
CREATE INDEX notif_inv ON notifications(investigation_id);
"""),
    (2, "cluster of each investigation, claim leases, idempotency keys, one open investigation per group", """
ALTER TABLE investigations ADD COLUMN cluster TEXT, ADD COLUMN claimed_by TEXT,
    ADD COLUMN lease_until DOUBLE PRECISION;
ALTER TABLE notifications ADD COLUMN claimed_by TEXT, ADD COLUMN lease_until DOUBLE PRECISION,
    ADD COLUMN idem_key TEXT;
CREATE UNIQUE INDEX inv_open_group ON investigations(group_key) WHERE group_key IS NOT NULL AND status <> 'resolved';
CREATE INDEX inv_cluster ON investigations(cluster, seq);
"""),
    (3, "no unique open group key across clusters; group keys as Alertmanager sent them (MIGRATION_STEPS)", """
DROP INDEX inv_open_group;
"""),
    (4, "one open investigation per cluster and group (two clusters' Alertmanagers send the same group key)", """
CREATE UNIQUE INDEX inv_open_cluster_group ON investigations((COALESCE(cluster, '')), group_key)
    WHERE group_key IS NOT NULL AND status <> 'resolved';
"""),
)
PG_SCHEMA_VERSION = MIGRATIONS[-1][0]
# Data steps, run in the migration's transaction after the statements of their version.
MIGRATION_STEPS: dict[int, Callable[[Any], object]] = {3: lambda conn: unqualify_group_keys(_Db(conn))}


def alert_lock_buckets(cluster: str | None, fingerprints: Iterable[str], buckets: int = ALERT_LOCK_BUCKETS) -> list[int]:
    """The sorted advisory-lock buckets of these alerts: every ingest takes its buckets in ascending
    order, so two ingests waiting for each other's buckets cannot deadlock."""
    prefix = (cluster or "").encode() + b"\x00"
    return sorted({int.from_bytes(hashlib.sha256(prefix + fp.encode()).digest()[:4], "big") % buckets
                   for fp in fingerprints})


def load_driver() -> Any:
    """psycopg, imported only now: SQLite users never need it. Missing (or missing libpq): an error naming
    the extra to install."""
    try:
        import psycopg
    except ImportError as e:
        raise StoreError(f"a postgresql:// database needs the psycopg driver ({e}): {EXTRA_HINT}") from None
    return psycopg


@lru_cache(maxsize=512)
def pg_sql(sql: str) -> str:
    """The shared SQL (sqlite3's `?` parameters) in psycopg's `%s` style. The product's statements hold
    no literal `?` or `%`."""
    return sql.replace("?", "%s")


def pg_params(params: Sequence[Any]) -> Sequence[Any]:
    """`params` with each NUL of a string as U+FFFD. JSON (and SQLite) allow NUL, PostgreSQL's text does not:
    a cluster label, group key or fingerprint holding one failed the whole webhook (a 500, resent for ever)
    and a ?cluster= filter holding one failed the page. The same replacement on writes and filters keeps them
    matching."""
    if not any(isinstance(p, str) and "\x00" in p for p in params):
        return params
    return tuple(p.replace("\x00", "\ufffd") if isinstance(p, str) else p for p in params)


class _Db:
    """A psycopg connection speaking the shared SQL."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Any):
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(pg_sql(sql), pg_params(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        cur = self._conn.cursor()
        cur.executemany(pg_sql(sql), [pg_params(r) for r in rows])
        return cur


def migrate(conn: Any, migrations: Sequence[tuple[int, str, str]] = MIGRATIONS,
            steps: Mapping[int, Callable[[Any], object]] = MIGRATION_STEPS) -> list[int]:
    """Bring the database to the last of `migrations` in one transaction under the advisory lock; returns
    the versions applied. A database with a version this code does not know is refused."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                     "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        found = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]
        check_schema_version(found, migrations[-1][0] if migrations else 0)
        applied = []
        for version, _what, statements in migrations:
            if version <= found:
                continue
            conn.execute(statements)  # several statements in one simple query: no parameters
            if version in steps:
                steps[version](conn)
            conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
            applied.append(version)
    return applied


class PostgresStore(StoreBase):
    """PostgreSQL; any number of replicas on one database. Claims skip rows another replica holds
    locked, an ingest locks the open investigation it merges into, and the partial unique index on the
    open group key turns a race between two replicas into a retry that merges."""

    ALERT_ORDER = "id"
    NO_LIMIT = None  # LIMIT NULL: all rows
    LOCK_GROUP = " FOR UPDATE"
    SKIP_LOCKED = " FOR UPDATE SKIP LOCKED"
    SAME = "IS NOT DISTINCT FROM"
    NOT_SAME = "IS DISTINCT FROM"
    exclusive = False

    def __init__(self, dsn: str, *, clock: Callable[[], datetime] | None = None, lease: float = DEFAULT_LEASE,
                 owner: str | None = None, pool_size: int = POOL_SIZE, db_clock: bool | None = None):
        super().__init__(clock=clock, lease=lease, owner=owner)
        # leases on the database server's clock; by default unless a test drives time with its own clock
        self._db_clock = clock is None if db_clock is None else db_clock
        self.path = describe_db(dsn)  # for messages: never the password
        self._psycopg = load_driver()
        self._dsn = dsn
        self._free: queue.LifoQueue[Any] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(max(1, pool_size))
        self._all: list[Any] = []
        self._all_lock = threading.Lock()
        self._closed = False
        self._listener: threading.Thread | None = None
        self._listening = threading.Event()
        self._listener_lock = threading.Lock()
        self._offset = 0.0  # the database clock minus ours: leases are read on the database's clock
        try:
            with self._conn() as conn:
                migrate(conn)
            if self._db_clock:
                self._sync_clock()
        except self._psycopg.Error as e:
            raise StoreError(f"{self.path}: {scrub_dsn(str(e).strip(), dsn)}") from None

    def _connect(self) -> Any:
        conn = self._psycopg.connect(self._dsn, autocommit=True, connect_timeout=10,
                                     application_name="sre-expert serve")
        with self._all_lock:
            self._all.append(conn)
        return conn

    def _drop(self, conn: Any) -> None:
        conn.close()
        with self._all_lock:
            if conn in self._all:
                self._all.remove(conn)

    @contextmanager
    def _conn(self) -> Iterator[Any]:
        """A connection of the pool (at most pool_size at once); a broken one is dropped, not reused."""
        if self._closed:
            raise StoreError("the store is closed")
        self._slots.acquire()
        try:
            try:
                conn = self._free.get_nowait()
            except queue.Empty:
                conn = self._connect()
            if conn.closed or conn.broken:
                self._drop(conn)
                conn = self._connect()
            try:
                yield conn
            finally:
                if conn.closed or conn.broken or self._closed:
                    self._drop(conn)
                else:
                    self._free.put(conn)
        finally:
            self._slots.release()

    @contextmanager
    def _tx(self) -> Iterator[_Db]:
        with self._conn() as conn, conn.transaction():
            yield _Db(conn)

    _read = _tx  # a read is a short transaction too (one snapshot per statement)

    def _sync_clock(self) -> None:
        """Measure the database server's clock against ours. Replicas comparing leases on their own wall
        clocks disagree by their skew: one running ahead takes a live replica's work, and the leases it
        writes keep its work from the others for that long after it dies. On the server's clock they agree."""
        with self._conn() as conn:
            before = self._clock().timestamp()
            server = conn.execute("SELECT extract(epoch FROM clock_timestamp())::float8").fetchone()[0]
            after = self._clock().timestamp()
        self._offset = float(server) - (before + after) / 2

    def _ts(self) -> float:
        return self._clock().timestamp() + self._offset

    def renew_leases(self) -> int:
        if self._db_clock:
            self._sync_clock()  # each round: a clock stepped since (NTP) is measured again
        return super().renew_leases()

    def _next_seq(self, db: Any) -> int:
        return db.execute("SELECT nextval('investigations_seq')").fetchone()[0]

    def _unique_violation(self, e: BaseException) -> bool:
        return isinstance(e, self._psycopg.errors.UniqueViolation)

    def _lock_alerts(self, db: Any, cluster: str | None, fingerprints: Sequence[str]) -> None:
        """Two replicas receiving the same alerts under two group keys at once would each find no other
        investigation holding them and open one each: the second now waits here until the first commits,
        and its lookups (read committed: a fresh snapshot per statement) then see it. Taken before any row
        lock of the ingest, in ascending order (the ORDER BY runs before the volatile lock function)."""
        db.execute("SELECT pg_advisory_xact_lock(?, b) FROM unnest(?::int[]) AS b ORDER BY b",
                   (ALERT_LOCK_CLASS, alert_lock_buckets(cluster, fingerprints)))

    def _announce(self, db: Any) -> None:
        db.execute(f"NOTIFY {CHANNEL}")  # delivered at commit; several in one transaction are one

    def wait_for_work(self, timeout: float) -> None:
        """As StoreBase's, but woken by work any replica queues: one LISTEN connection per replica, started
        by the first sleeper."""
        self._ensure_listener()
        super().wait_for_work(timeout)

    def _ensure_listener(self) -> None:
        with self._listener_lock:
            if self._listener is None and not self._closed:
                self._listener = threading.Thread(target=self._listen, name="sre-expert-pg-listen", daemon=True)
                self._listener.start()
        self._listening.wait(5.0)  # a sleeper that starts before LISTEN would miss the first wake-up

    def _listen(self) -> None:
        """Turn the channel's notifications into local wake-ups; reconnect after a lost connection (the
        sleepers' own timeout covers the gap)."""
        while not self._closed:
            try:
                conn = self._psycopg.connect(self._dsn, autocommit=True, connect_timeout=10,
                                             application_name="sre-expert serve (listen)")
            except self._psycopg.Error:
                self._listening.set()  # nobody waits for a listener that cannot connect
                threading.Event().wait(1.0)
                continue
            try:
                conn.execute(f"LISTEN {CHANNEL}")
                self._listening.set()
                while not self._closed:  # the timeout lets a closed store's listener end
                    for _ in conn.notifies(timeout=1.0):
                        StoreBase._wake(self)
            except self._psycopg.Error:
                threading.Event().wait(0.2)
            finally:
                conn.close()

    def schema_version(self) -> int:
        with self._read() as db:
            return db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]

    def close(self) -> None:
        self._closed = True
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
