"""serve on PostgreSQL: what only replicas sharing one database need, against a real server (pg_harness).

Migrations (fresh, from an older version, newer-than-code refused, replicas starting together), claims
that never hand one investigation to two replicas, dedup of a group two replicas receive at once, the
outbox shared the same way, and `serve --db postgresql://…` end to end with the Idempotency-Key header.
The behaviour both backends share is proven in test_server_store.py.
"""

from __future__ import annotations

import http.server
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
import pytest
from pg_harness import pg_dsn  # noqa: F401 - fixture
from server_harness import request, start_serve, stop_serve, wait_for, webhook_payload

from sre_expert.edges.webhook.payload import parse_webhook, redacted
from sre_expert.edges.webhook.pgstore import MIGRATIONS, PG_SCHEMA_VERSION, PostgresStore, migrate
from sre_expert.edges.webhook.store import StoreError, describe_db, open_store

pytestmark = pytest.mark.e2e


def payload(group: str, pods: list[str], status: str = "firing", cluster: str | None = None) -> dict[str, Any]:
    extra = {"cluster": cluster} if cluster else {}
    alerts = [{"labels": {"alertname": "PodCrashLooping", "severity": "critical", "namespace": "lfh-staging",
                          "pod": p, **extra}, "status": status} for p in pods]
    parsed, errors = parse_webhook(webhook_payload(alerts, group_key=group))
    assert not errors
    return redacted(parsed)


def raw(dsn: str, query: str, params: tuple = ()) -> list[tuple]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return [tuple(r) for r in cur.fetchall()] if cur.description else []


def race(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """Run fn(0..n-1) in n threads released together; their results (an exception fails the test)."""
    gate = threading.Barrier(n)

    def run(i: int) -> Any:
        gate.wait()
        return fn(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


@pytest.fixture
def replicas(pg_dsn: str) -> Iterator[list[PostgresStore]]:
    """Four replicas (each its own connection pool) on one database."""
    stores = [PostgresStore(pg_dsn, owner=f"replica-{i}") for i in range(4)]
    yield stores
    for s in stores:
        s.close()


# ------------------------------------------------------------------------------ migrations
def test_a_fresh_database_gets_every_migration_recorded(pg_dsn: str) -> None:
    s = open_store(pg_dsn)
    try:
        assert isinstance(s, PostgresStore) and s.schema_version() == PG_SCHEMA_VERSION == len(MIGRATIONS)
    finally:
        s.close()
    rows = raw(pg_dsn, "SELECT version, applied_at IS NOT NULL FROM schema_migrations ORDER BY version")
    assert rows == [(v, True) for v, _, _ in MIGRATIONS]
    PostgresStore(pg_dsn).close()  # opening again applies nothing
    assert len(raw(pg_dsn, "SELECT version FROM schema_migrations")) == len(MIGRATIONS)


def test_a_database_of_an_older_version_is_migrated_with_its_data(pg_dsn: str) -> None:
    import psycopg

    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        assert migrate(conn, MIGRATIONS[:1]) == [1]
        conn.execute("INSERT INTO investigations (id, status, trigger, group_key, created_at, updated_at, seq) "
                     "VALUES ('inv-000000000001', 'queued', 'alert', 'old-group', '2026-12-01T00:00:00.000Z', "
                     "'2026-12-01T00:00:00.000Z', nextval('investigations_seq'))")
        conn.execute("INSERT INTO alerts (investigation_id, fingerprint, group_key, status, labels, annotations, "
                     "received_at, updated_at) VALUES ('inv-000000000001', 'fp1', 'old-group', 'firing', "
                     "'{\"pod\": \"api-1\"}', '{}', 'x', 'x')")
    s = PostgresStore(pg_dsn)
    try:
        assert s.schema_version() == PG_SCHEMA_VERSION
        rec = s.get("inv-000000000001")
        assert rec["cluster"] is None and rec["alerts"][0]["labels"] == {"pod": "api-1"}
        assert s.ingest(payload("old-group", ["api-1"])) == ["inv-000000000001"]  # merges into the old one
        assert s.claim()["id"] == "inv-000000000001"
    finally:
        s.close()


def test_a_version_2_database_gains_dedup_per_cluster_with_its_rows(pg_dsn: str) -> None:
    """Version 2 allowed one open investigation per group key whatever the cluster; version 3 one per
    (cluster, group key). Every row of a version 2 database is kept."""
    import psycopg

    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        assert migrate(conn, MIGRATIONS[:2]) == [1, 2]
        conn.execute("INSERT INTO investigations (id, status, trigger, group_key, created_at, updated_at, seq, "
                     "cluster) VALUES ('inv-000000000002', 'queued', 'alert', 'shared', '2026-12-01T00:00:00.000Z', "
                     "'2026-12-01T00:00:00.000Z', nextval('investigations_seq'), 'prod')")
        conn.execute("INSERT INTO alerts (investigation_id, fingerprint, group_key, status, labels, annotations, "
                     "received_at, updated_at) VALUES ('inv-000000000002', 'fp1', 'shared', 'firing', "
                     "'{\"pod\": \"api-1\", \"cluster\": \"prod\"}', '{}', 'x', 'x')")
        conn.execute("INSERT INTO notifications (investigation_id, target, url, root_key, status, next_at, "
                     "created_at, updated_at, idem_key) VALUES ('inv-000000000002', 'slack', 'http://s', 'R', "
                     "'sent', 0, 'x', 'x', 'k')")
        # version 2's serve qualified group keys by the cluster when it served several
        conn.execute("INSERT INTO investigations (id, status, trigger, group_key, created_at, updated_at, seq, "
                     "cluster) VALUES ('inv-000000000003', 'done', 'alert', 'cluster=\"staging\"/shared', 'x', "
                     "'x', nextval('investigations_seq'), 'staging')")
        conn.execute("INSERT INTO alerts (investigation_id, fingerprint, group_key, status, labels, annotations, "
                     "received_at, updated_at) VALUES ('inv-000000000003', 'fp2', 'cluster=\"staging\"/shared', "
                     "'firing', '{\"pod\": \"api-1\", \"cluster\": \"staging\"}', '{}', 'x', 'x')")
    s = PostgresStore(pg_dsn)
    try:
        assert s.schema_version() == PG_SCHEMA_VERSION == 4
        indexes = {r[0] for r in raw(pg_dsn, "SELECT indexname FROM pg_indexes WHERE tablename='investigations'")}
        assert "inv_open_cluster_group" in indexes and "inv_open_group" not in indexes
        rec = s.get("inv-000000000002")
        assert rec["cluster"] == "prod" and rec["alertsTotal"] == 1 and len(rec["notifications"]) == 1
        assert s.get("inv-000000000003")["groupKey"] == "shared"  # as Alertmanager sent it
        assert raw(pg_dsn, "SELECT DISTINCT group_key FROM alerts") == [("shared",)]
        assert s.ingest(payload("shared", ["api-1"], cluster="prod")) == ["inv-000000000002"]
        assert s.ingest(payload("shared", ["api-1"], cluster="staging")) == ["inv-000000000003"]
        (qa,) = s.ingest(payload("shared", ["api-1"], cluster="qa"))
        assert qa not in ("inv-000000000002", "inv-000000000003") and s.get(qa)["groupKey"] == "shared"
    finally:
        s.close()


def test_a_database_newer_than_the_code_is_refused(pg_dsn: str) -> None:
    PostgresStore(pg_dsn).close()
    raw(pg_dsn, "INSERT INTO schema_migrations (version) VALUES (%s)", (PG_SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match=f"schema version {PG_SCHEMA_VERSION + 1} is newer than this sre-expert"):
        PostgresStore(pg_dsn)


def test_replicas_starting_together_migrate_once(pg_dsn: str) -> None:
    stores = race(8, lambda i: PostgresStore(pg_dsn, owner=f"r{i}"))
    try:
        assert raw(pg_dsn, "SELECT version FROM schema_migrations ORDER BY version") == [(v,) for v, _, _ in MIGRATIONS]
        assert all(s.ping() for s in stores)
    finally:
        for s in stores:
            s.close()


def test_an_unreachable_server_is_a_store_error_without_the_password() -> None:
    from pg_harness import free_port

    with pytest.raises(StoreError) as err:
        open_store(f"postgresql://sre:s3cret-pw@127.0.0.1:{free_port()}/sre")
    assert "s3cret-pw" not in str(err.value) and "sre:***@127.0.0.1" in str(err.value)
    assert describe_db("postgresql://sre:pw@db.example.org:5432/sre?sslmode=require") == \
        "postgresql://sre:***@db.example.org:5432/sre?sslmode=require"
    assert describe_db("/var/lib/sre-expert/db.sqlite") == "/var/lib/sre-expert/db.sqlite"


def test_a_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now raises ImportError
    with pytest.raises(StoreError, match=r"pip install 'sre-expert\[postgres\]'"):
        open_store("postgresql://sre@127.0.0.1:1/sre")


# ------------------------------------------------------------------------------ replicas
def test_claims_by_many_threads_of_many_replicas_never_hand_an_investigation_twice(
        replicas: list[PostgresStore]) -> None:
    ids = [replicas[0].ingest(payload(f"g{i}", [f"p{i}"]))[0] for i in range(200)]
    claimed: list[tuple[str, str]] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        store = replicas[i % len(replicas)]
        while (job := store.claim()) is not None:
            with lock:
                claimed.append((job["id"], store.owner))

    race(16, worker)
    counts = Counter(i for i, _ in claimed)
    assert sorted(counts) == sorted(ids) and set(counts.values()) == {1}
    assert len({owner for _, owner in claimed}) == len(replicas)  # every replica took a share
    owners = dict(raw(replicas[0]._dsn, "SELECT id, claimed_by FROM investigations"))
    assert all(owners[i] == owner for i, owner in claimed)


def test_two_replicas_receiving_the_same_group_at_once_open_one_investigation(
        replicas: list[PostgresStore]) -> None:
    """An HA Alertmanager pair sends each group from both members: 200 races, one investigation each
    (half of the groups name their cluster: the dedup key is the cluster and the group key)."""
    a, b = replicas[:2]
    for i in range(200):
        body = payload(f"ha-{i}", [f"api-{i}", f"web-{i}"], cluster="prod" if i % 2 else None)
        got = race(2, lambda k, body=body: (a, b)[k].ingest(body))
        assert got[0] == got[1] and len(got[0]) == 1, (i, got)
    rows = raw(a._dsn, "SELECT group_key, COUNT(*), SUM(generation) FROM investigations GROUP BY group_key")
    assert len(rows) == 200 and all(n == 1 and gen == 1 for _, n, gen in rows)
    assert raw(a._dsn, "SELECT COUNT(*) FROM alerts") == [(400,)]


def test_the_same_alerts_under_two_group_keys_at_once_open_one_investigation(
        replicas: list[PostgresStore]) -> None:
    """One alert, two routes (`continue: true`): Alertmanager sends it under two group keys, here to two
    replicas at the same instant, 200 times. The rule "the same firing alerts under another group key open
    nothing new" holds under the race: one investigation each time, and both answers name it."""
    a, b = replicas[:2]
    for i in range(200):
        bodies = [payload(f"{route}-{i}", [f"api-{i}", f"web-{i}"], cluster="prod") for route in ("route-a", "route-b")]
        got = race(2, lambda k, bodies=bodies: (a, b)[k].ingest(bodies[k]))
        assert got[0] == got[1] and len(got[0]) == 1, (i, got)
    assert raw(a._dsn, "SELECT COUNT(*) FROM investigations") == [(200,)]
    assert raw(a._dsn, "SELECT COUNT(*) FROM alerts") == [(400,)]
    # another cluster's identical-looking alerts under both keys are that cluster's own: one more each
    got = race(2, lambda k: (a, b)[k].ingest(payload(("route-a-0", "route-b-0")[k], ["api-0", "web-0"],
                                                    cluster="staging")))
    assert got[0] == got[1] and raw(a._dsn, "SELECT COUNT(*) FROM investigations") == [(201,)]


def test_the_outbox_is_shared_without_double_claims(replicas: list[PostgresStore]) -> None:
    inv = replicas[0].ingest(payload("g", ["api-1"]))[0]
    job = replicas[0].claim()
    replicas[0].finish(inv, job["generation"], {"summary": "s"})
    for i in range(60):
        replicas[0].enqueue_notifications(inv, [(f"hook-{i}", f"http://127.0.0.1:9/{i}")], "ROOT")

    def sender(i: int) -> list[int]:
        store, got = replicas[i % len(replicas)], []
        while due := store.due_notifications(limit=3):
            got += [d["id"] for d in due]
            for d in due:
                store.notification_result(d["id"], ok=True, error=None, next_at=None)
        return got

    sent = [n for got in race(8, sender) for n in got]
    assert len(sent) == 60 and len(set(sent)) == 60
    assert {n["status"] for n in replicas[1].get(inv)["notifications"]} == {"sent"}


# ------------------------------------------------------------------------------ serve end to end
class Receiver(http.server.BaseHTTPRequestHandler):
    got: list[tuple[str | None, dict[str, Any]]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = orjson.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Receiver.got.append((self.headers.get("Idempotency-Key"), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_serve_on_postgresql_investigates_and_notifies_with_an_idempotency_key(pg_dsn: str) -> None:
    Receiver.got = []
    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    base, token, proc = start_serve(pg_dsn, args=("--demo", "--webhook", f"http://127.0.0.1:{hook.server_port}/"))
    try:
        alert = {"labels": {"alertname": "PodCrashLooping", "severity": "critical", "namespace": "lfh-staging",
                            "pod": "api-7d9f8b6c5-x2x7k", "cluster": "prod-eu"}}
        status, body = request(base, "POST", "/api/v1/alerts", webhook_payload([alert], group_key="g-pg"), token=token)
        assert status == 200, body
        rec = wait_for(base, token, body["investigations"][0])
        assert rec["status"] == "done" and rec["cluster"] == "prod-eu"
        for _ in range(100):
            if Receiver.got:
                break
            threading.Event().wait(0.1)
        assert len(Receiver.got) == 1
        key, sent = Receiver.got[0]
        assert sent["id"] == rec["id"] and key is not None and len(key) == 32
        assert raw(pg_dsn, "SELECT idem_key, status FROM notifications") == [(key, "sent")]
    finally:
        stop_serve(proc)
        hook.shutdown()
    assert "s3cret" not in pg_dsn


def test_a_worker_pool_keeps_its_leases_and_takes_over_a_dead_replicas(pg_dsn: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Replica A runs an investigation three times longer than the lease: its keeper renews the claim, so
    B never takes it. Then a replica claims and dies (no keeper): B's keeper requeues it once the lease
    expires and B's worker finishes it."""
    from sre_expert.edges.webhook import worker as worker_mod
    from sre_expert.edges.webhook.worker import SourceCache, WorkerPool
    from sre_expert.sources.resolve import open_source

    snap = open_source(None, True, progress=False)
    release = threading.Event()
    running = threading.Event()
    real = worker_mod.run_job

    runs: list[str] = []

    def slow(job: dict[str, Any], *args: Any) -> Any:
        runs.append(job["id"])
        if job["alertname"] == "PodCrashLooping" and not release.is_set():
            running.set()
            release.wait(30)
        return real(job, *args)

    monkeypatch.setattr(worker_mod, "run_job", slow)
    a = PostgresStore(pg_dsn, owner="replica-a", lease=1.0)
    b = PostgresStore(pg_dsn, owner="replica-b", lease=1.0)
    dead = PostgresStore(pg_dsn, owner="replica-dead", lease=1.0)
    pool_a = WorkerPool(a, SourceCache(lambda: snap, ttl=None), workers=1)
    pool_b: WorkerPool | None = None
    try:
        inv = a.ingest(payload("long", ["api-1"]))[0]
        pool_a.start()
        assert running.wait(30)
        stolen = 0
        for _ in range(30):  # 3 s, three leases
            stolen += b.requeue_expired()
            assert raw(pg_dsn, "SELECT status, claimed_by FROM investigations") == [("running", "replica-a")]
            threading.Event().wait(0.1)
        release.set()
        for _ in range(300):
            if a.get(inv, with_report=False)["status"] == "done":
                break
            threading.Event().wait(0.1)
        assert stolen == 0 and a.get(inv, with_report=False)["status"] == "done" and runs == [inv]
        pool_a.stop()

        orphan = dead.ingest(payload("orphan", ["db-0"]))[0]
        assert dead.claim()["id"] == orphan
        dead.close()  # the replica is gone with its claim
        pool_b = WorkerPool(b, SourceCache(lambda: snap, ttl=None), workers=1)
        pool_b.start()
        assert b.get(orphan, with_report=False)["status"] == "running"  # its lease is still live at start
        for _ in range(300):
            if b.get(orphan, with_report=False)["status"] == "done":
                break
            threading.Event().wait(0.1)
        assert b.get(orphan, with_report=False)["status"] == "done"
    finally:
        release.set()
        pool_a.stop()
        if pool_b is not None:
            pool_b.stop()
        a.close()
        b.close()


def test_sre_expert_db_selects_postgresql_and_a_bad_one_stops_serve_before_it_listens() -> None:
    """The DSN can come from the environment (a Secret), and an unreachable database is an error at start
    that never prints the password."""
    import os
    import subprocess

    from pg_harness import free_port

    env = {**os.environ, "SRE_EXPERT_TOKEN": "t" * 32,
           "SRE_EXPERT_DB": f"postgresql://sre:hunter2-secret@127.0.0.1:{free_port()}/sre"}
    got = subprocess.run([sys.executable, "-m", "sre_expert.edges.cli.main", "serve", "--demo", "--port", "0"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert got.returncode == 2, got.stdout + got.stderr
    assert "database: postgresql://sre:***@127.0.0.1:" in got.stderr
    assert "hunter2-secret" not in got.stdout + got.stderr


def test_work_queued_by_one_replica_wakes_the_sleepers_of_another(replicas: list[PostgresStore]) -> None:
    """Without LISTEN/NOTIFY a replica's idle workers would see another replica's alert only at their next
    poll; the sleeper here would sleep its whole minute."""
    a, b = replicas[:2]
    b.wait_for_work(0.01)  # starts b's listener
    woke = threading.Event()

    def sleeper() -> None:
        b.wait_for_work(60.0)
        woke.set()

    t = threading.Thread(target=sleeper, daemon=True)
    t.start()
    for i in range(40):  # the sleeper may not be asleep yet when the first one lands: send until it wakes
        a.ingest(payload(f"wake-{i}", ["api-1"]))
        if woke.wait(0.5):
            break
    assert woke.is_set()
