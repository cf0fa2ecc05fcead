"""serve's store: durable ingest, dedup by group key and fingerprint, resolve, resume, outbox.

The contract tests run against both backends (the `store` fixture is parametrized): SQLite keeps every
guarantee, and PostgreSQL (a throwaway server from pg_harness) proves the same. SQLite-only tests open
files; PostgreSQL-only ones (migrations, replicas racing) are in test_server_pgstore.py."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pg_harness import pg_dsn  # noqa: F401 - fixture
from server_harness import webhook_payload

from sre_expert.edges.webhook.payload import parse_webhook, redacted
from sre_expert.edges.webhook.store import (
    LIST_ALERTS,
    SCHEMA_VERSION,
    Store,
    StoreBase,
    StoreError,
    open_store,
    unqualified_group_key,
)

pytestmark = pytest.mark.unit


def pod_alert(pod: str, status: str = "firing", **extra: str) -> dict:
    return {"labels": {"alertname": "PodCrashLooping", "severity": "critical", "namespace": "lfh-staging",
                       "pod": pod, **extra}, "status": status}


def ingest(store: StoreBase, alerts: list[dict], *, group_key: str = "{}:{alertname=\"PodCrashLooping\"}",
           status: str | None = None) -> list[str]:
    payload, errors = parse_webhook(webhook_payload(alerts, group_key=group_key, status=status))
    assert not errors
    return store.ingest(redacted(payload))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=[pytest.mark.e2e, pytest.mark.needs("postgres")])])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of each backend: a SQLite file, or a new PostgreSQL database."""
    if request.param == "postgres":
        return request.getfixturevalue("pg_dsn")
    return str(tmp_path / "db.sqlite")


@pytest.fixture
def store(db_url: str) -> StoreBase:
    s = open_store(db_url)
    yield s
    s.close()


def sql(store: StoreBase, query: str, params: tuple = ()) -> list[tuple]:
    """Rows of one query, on either backend (the tests look under the API)."""
    with store._read() as db:
        return [tuple(r) for r in db.execute(query, params).fetchall()]


def test_database_is_wal_full_sync_and_versioned(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    Store(str(path)).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer than this sre-expert"):
        Store(str(path))


def test_a_new_group_opens_one_queued_investigation(store: StoreBase) -> None:
    ids = ingest(store, [pod_alert("api-1"), pod_alert("api-2")])
    assert len(ids) == 1 and ids[0].startswith("inv-") and len(ids[0]) == 16
    rec = store.get(ids[0])
    assert rec["status"] == "queued" and rec["trigger"] == "alert"
    assert rec["alertname"] == "PodCrashLooping" and rec["severity"] == "critical"
    assert [a["labels"]["pod"] for a in rec["alerts"]] == ["api-1", "api-2"]
    assert rec["commonLabels"]["namespace"] == "lfh-staging" and "pod" not in rec["commonLabels"]
    assert rec["summary"] == "investigation queued" and rec["report"] is None


def test_repeat_of_the_same_group_merges_without_reinvestigating(store: StoreBase) -> None:
    first = ingest(store, [pod_alert("api-1")])
    job = store.claim()
    assert store.finish(job["id"], job["generation"], {"summary": "root cause: x"})
    again = ingest(store, [pod_alert("api-1")])  # Alertmanager's repeat_interval resend
    assert again == first
    assert store.get(first[0])["status"] == "done"
    assert store.claim() is None


def test_a_new_firing_fingerprint_requeues_the_same_investigation(store: StoreBase) -> None:
    first = ingest(store, [pod_alert("api-1")])
    job = store.claim()
    store.finish(job["id"], job["generation"], {"summary": "one pod"})
    assert ingest(store, [pod_alert("api-1"), pod_alert("api-2")]) == first
    rec = store.get(first[0])
    assert rec["status"] == "queued" and len(rec["alerts"]) == 2
    job2 = store.claim()
    assert job2["id"] == first[0] and job2["generation"] == job["generation"] + 1
    assert len(job2["alerts"]) == 2


def test_the_same_fingerprint_under_another_group_key_opens_nothing_new(store: StoreBase) -> None:
    first = ingest(store, [pod_alert("api-1")], group_key="route-a")
    assert ingest(store, [pod_alert("api-1")], group_key="route-b") == first
    assert store.counts()["queued"] == 1


def test_a_known_fingerprint_under_another_group_key_never_merges_or_rewrites_labels(store: StoreBase) -> None:
    """Issue 12: a fingerprint is the sender's word. Group B claims group A's fingerprint with other labels
    (and resolves it): A keeps its alert, labels and status; B gets its own investigation."""
    first = ingest(store, [pod_alert("api-1")], group_key="route-a")
    fp = store.get(first[0])["alerts"][0]["fingerprint"]
    forged = pod_alert("payments-0", severity="info", team="billing")
    forged["fingerprint"] = fp
    second = ingest(store, [forged], group_key="route-b")
    assert second != first and len(second) == 1
    a, b = store.get(first[0]), store.get(second[0])
    assert [al["labels"] for al in a["alerts"]] == [pod_alert("api-1")["labels"]]
    assert a["groupKey"] == "route-a" and a["status"] == "queued" and a["severity"] == "critical"
    assert [al["labels"]["pod"] for al in b["alerts"]] == ["payments-0"] and b["groupKey"] == "route-b"
    # resolving "it" under route-b resolves route-b's copy only
    forged["status"] = "resolved"
    ingest(store, [forged], group_key="route-b")
    assert store.get(first[0])["status"] == "queued"
    assert store.get(first[0])["alerts"][0]["status"] == "firing"
    assert store.get(second[0])["status"] == "resolved"


def test_a_known_fingerprint_with_new_alerts_under_another_group_key_opens_its_own(store: StoreBase) -> None:
    first = ingest(store, [pod_alert("api-1")], group_key="route-a")
    second = ingest(store, [pod_alert("api-1"), pod_alert("api-2")], group_key="route-b")
    assert second != first
    assert [al["labels"]["pod"] for al in store.get(first[0])["alerts"]] == ["api-1"]
    assert [al["labels"]["pod"] for al in store.get(second[0])["alerts"]] == ["api-1", "api-2"]


def test_senders_without_group_keys_still_group_by_fingerprint(store: StoreBase) -> None:
    payload, errors = parse_webhook({**webhook_payload([pod_alert("api-1")]), "groupKey": None})
    assert not errors
    first = store.ingest(redacted(payload))
    payload2, _ = parse_webhook({**webhook_payload([pod_alert("api-1"), pod_alert("api-2")]), "groupKey": None})
    assert store.ingest(redacted(payload2)) == first
    assert len(store.get(first[0])["alerts"]) == 2


def test_resolving_every_alert_closes_the_investigation(store: StoreBase) -> None:
    ids = ingest(store, [pod_alert("api-1"), pod_alert("api-2")])
    job = store.claim()
    store.finish(job["id"], job["generation"], {"summary": "s"})
    ingest(store, [pod_alert("api-1", "resolved"), pod_alert("api-2")])
    assert store.get(ids[0])["status"] == "done"  # one still firing
    ingest(store, [pod_alert("api-1", "resolved"), pod_alert("api-2", "resolved")])
    rec = store.get(ids[0])
    assert rec["status"] == "resolved" and rec["resolvedAt"] is not None
    assert {a["status"] for a in rec["alerts"]} == {"resolved"}
    assert rec["summary"] == "s"  # the result stays
    # firing again later is a new incident: a new investigation
    again = ingest(store, [pod_alert("api-1")])
    assert again != ids and store.get(again[0])["status"] == "queued"


def test_resolved_alerts_of_an_unknown_group_open_nothing(store: StoreBase) -> None:
    assert ingest(store, [pod_alert("api-9", "resolved")]) == []
    assert store.counts() == {"queued": 0, "running": 0, "done": 0, "failed": 0, "resolved": 0}
    assert store.alert_count() == 1


def test_a_result_from_an_outdated_run_never_marks_done(store: StoreBase) -> None:
    ids = ingest(store, [pod_alert("api-1")])
    job = store.claim()
    ingest(store, [pod_alert("api-1"), pod_alert("api-2")])  # requeued while running
    assert not store.finish(job["id"], job["generation"], {"summary": "stale"})
    assert store.get(ids[0])["status"] == "queued"


def test_finishing_queues_its_notifications_in_the_same_transaction(store: StoreBase) -> None:
    """A replica killed between storing a result and queueing its notifications left a done investigation
    nobody was told about: the result and its notifications are one commit."""
    targets = [("slack", "http://s"), ("webhook", "http://w")]
    ids = ingest(store, [pod_alert("api-1")])
    job = store.claim()
    assert store.finish(job["id"], job["generation"], {"summary": "s", "rootCause": {"id": "R1"}}, targets)
    rows = sql(store, "SELECT target, root_key, status FROM notifications ORDER BY target")
    assert [tuple(r) for r in rows] == [("slack", "R1", "pending"), ("webhook", "R1", "pending")]
    ingest(store, [pod_alert("api-1"), pod_alert("api-2")])  # a new alert: investigated again
    job = store.claim()
    ingest(store, [pod_alert("api-1"), pod_alert("api-2"), pod_alert("api-3")])  # requeued while running
    assert not store.finish(job["id"], job["generation"], {"summary": "stale", "rootCause": {"id": "R2"}}, targets)
    assert len(sql(store, "SELECT 1 FROM notifications")) == 2  # an outdated result tells nobody
    assert store.get(ids[0])["status"] == "queued"


def test_resolved_while_running_stays_resolved(store: StoreBase) -> None:
    ids = ingest(store, [pod_alert("api-1")])
    job = store.claim()
    ingest(store, [pod_alert("api-1", "resolved")])
    assert not store.finish(job["id"], job["generation"], {"summary": "late"})
    rec = store.get(ids[0])
    assert rec["status"] == "resolved" and rec["summary"] == "late"


def test_failure_keeps_the_error_text(store: StoreBase) -> None:
    ids = ingest(store, [pod_alert("api-1")])
    job = store.claim()
    store.fail(job["id"], job["generation"], "BundleError: cannot read /x")
    rec = store.get(ids[0])
    assert rec["status"] == "failed" and rec["error"] == "BundleError: cannot read /x"
    assert rec["summary"] == "investigation failed: BundleError: cannot read /x"


def test_a_resend_retries_a_failed_investigation(store: StoreBase) -> None:
    ids = ingest(store, [pod_alert("api-1")])
    job = store.claim()
    store.fail(job["id"], job["generation"], "OSError: unreachable")
    assert ingest(store, [pod_alert("api-1")]) == ids
    assert store.get(ids[0])["status"] == "queued"


def test_running_investigations_are_requeued_after_a_crash(tmp_path: Path) -> None:
    path = str(tmp_path / "db.sqlite")
    s = Store(path)
    ids = ingest(s, [pod_alert("api-1")])
    assert s.claim()["id"] == ids[0]
    s._db.close()  # the process dies with the investigation running
    s2 = Store(path)
    assert s2.get(ids[0])["status"] == "running"
    assert s2.requeue_interrupted() == 1
    assert s2.claim()["id"] == ids[0]
    s2.close()


def test_identical_reports_are_stored_once(store: StoreBase) -> None:
    report = {"findings": [{"id": "X"}], "summary": {"critical": 1}}
    for pod in ("a", "b"):
        ingest(store, [pod_alert(pod)], group_key=pod)
        job = store.claim()
        store.finish(job["id"], job["generation"], {"summary": pod, "report": report})
    assert sql(store, "SELECT COUNT(*) FROM reports") == [(1,)]
    items, total = store.list()
    assert total == 2 and all("report" not in i for i in items)
    assert store.get(items[0]["id"])["report"] == report


def test_list_filters_pages_and_orders_newest_first(store: StoreBase) -> None:
    for i in range(5):
        ingest(store, [pod_alert(f"p{i}")], group_key=f"g{i}")
    job = store.claim()
    store.finish(job["id"], job["generation"], {"summary": "x"})
    items, total = store.list(limit=2, offset=1)
    assert total == 5 and [i["alerts"][0]["labels"]["pod"] for i in items] == ["p3", "p2"]
    done, n = store.list(status="done")
    assert n == 1 and done[0]["alerts"][0]["labels"]["pod"] == "p0"


def test_labels_and_annotations_are_redacted_before_they_are_stored(store: StoreBase) -> None:
    alert = pod_alert("api-1")
    alert["annotations"] = {"description": "login as admin@example.com with password=hunter2hunter2"}
    ids = ingest(store, [alert])
    raw = b"".join(bytes(str(r), "utf-8") for r in sql(store, "SELECT * FROM alerts"))
    assert b"hunter2hunter2" not in raw and b"admin@example.com" not in raw
    text = store.get(ids[0])["alerts"][0]["annotations"]["description"]
    assert "<redacted:" in text


def test_outbox_backoff_and_give_up(store: StoreBase) -> None:
    ids = ingest(store, [pod_alert("api-1")])
    assert store.enqueue_notifications(ids[0], [("slack", "http://x"), ("webhook", "http://y")], "ROOT-1") == 2
    assert store.enqueue_notifications(ids[0], [("slack", "http://x")], "ROOT-1") == 0  # same root: once
    due = store.due_notifications()
    assert [d["target"] for d in due] == ["slack", "webhook"]
    store.notification_result(due[0]["id"], ok=False, error="HTTP 500", next_at=time.time() + 3600)
    store.notification_result(due[1]["id"], ok=True, error=None, next_at=None)
    assert store.due_notifications() == []
    store.notification_result(due[0]["id"], ok=False, error="HTTP 500", next_at=None)
    notes = store.get(ids[0])["notifications"]
    assert [(n["target"], n["status"], n["attempts"], n["lastError"]) for n in notes] == [
        ("slack", "failed", 2, "HTTP 500"), ("webhook", "sent", 1, None)]


def test_list_items_carry_the_first_alerts_and_the_total(store: StoreBase) -> None:
    """A big group (Alertmanager accepts thousands of alerts in one webhook) must not make every list page
    load all of them: list items hold LIST_ALERTS, the record every one (or a slice on demand)."""
    n = LIST_ALERTS * 3 + 7
    big = ingest(store, [pod_alert(f"api-{i}") for i in range(n)], group_key="big")[0]
    small = ingest(store, [pod_alert("solo")], group_key="small")[0]
    items, total = store.list()
    assert total == 2 and [i["id"] for i in items] == [small, big]
    assert items[0]["alertsTotal"] == 1 and len(items[0]["alerts"]) == 1
    assert items[1]["alertsTotal"] == n and len(items[1]["alerts"]) == LIST_ALERTS
    assert [a["labels"]["pod"] for a in items[1]["alerts"]] == [f"api-{i}" for i in range(LIST_ALERTS)]
    rec = store.get(big)
    assert rec["alertsTotal"] == n and len(rec["alerts"]) == n
    page = store.get(big, alerts_limit=5, alerts_offset=n - 3)
    assert page["alertsTotal"] == n and [a["labels"]["pod"] for a in page["alerts"]] == [
        f"api-{i}" for i in range(n - 3, n)]


def test_a_version_1_database_gains_notification_kinds(tmp_path: Path) -> None:
    """Databases written before resolved notifications existed open as they are: old rows are results."""
    path = tmp_path / "db.sqlite"
    s = Store(str(path))
    inv = ingest(s, [pod_alert("api-1")])[0]
    s.enqueue_notifications(inv, [("slack", "http://x")], "ROOT-1")
    s.close()
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE notifications DROP COLUMN kind")  # the version 1 table
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    s = Store(str(path))
    try:
        assert s._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert [(n["target"], n["kind"]) for n in s.get(inv)["notifications"]] == [("slack", "result")]
        ingest(s, [pod_alert("api-1", status="resolved")])
        assert [(n["kind"], n["status"]) for n in s.get(inv)["notifications"]] == [
            ("result", "pending"), ("resolved", "pending")]
    finally:
        s.close()


# ---------------------------------------------------------------------------------- schema 4, both backends
class Clock:
    """A settable clock for leases (seconds past a fixed instant)."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)


def test_the_cluster_label_is_stored_and_filters_lists_and_counts(store: StoreBase) -> None:
    prod = ingest(store, [pod_alert("a", cluster="prod-eu")], group_key="g-prod")[0]
    # no common value, but every alert agrees
    payload, errors = parse_webhook(webhook_payload([pod_alert("b", cluster="staging"),
                                                     pod_alert("c", cluster="staging")], group_key="g-stg"))
    payload["commonLabels"].pop("cluster", None)
    staging = store.ingest(redacted(payload))[0]
    mixed = ingest(store, [pod_alert("d", cluster="prod-eu"), pod_alert("e", cluster="staging")], group_key="g-mix")[0]
    none = ingest(store, [pod_alert("f")], group_key="g-none")[0]
    other = ingest(store, [pod_alert("g", region="r2")], group_key="g-region")[0]
    assert [store.get(i)["cluster"] for i in (prod, staging, mixed, none)] == ["prod-eu", "staging", None, None]
    items, total = store.list(cluster="prod-eu")
    assert total == 1 and [i["id"] for i in items] == [prod] and items[0]["cluster"] == "prod-eu"
    assert store.counts(cluster="staging")["queued"] == 1 and store.counts()["queued"] == 5
    # another label names the cluster when the operator says so; the cluster is part of a group's identity,
    # so the same group key read with another cluster label is another cluster's group (schema 5)
    payload, errors = parse_webhook(webhook_payload([pod_alert("h", region="r2")], group_key="g-region"))
    regional = store.ingest(redacted(payload), cluster_label="region")
    assert regional != [other] and store.get(regional[0])["cluster"] == "r2" and store.get(other)["cluster"] is None
    payload, errors = parse_webhook(webhook_payload([pod_alert("h", region="r2"), pod_alert("j", region="r2")],
                                                    group_key="g-region"))
    assert store.ingest(redacted(payload), cluster_label="region") == regional  # and it merges there
    payload, errors = parse_webhook(webhook_payload([pod_alert("g", region="r2"), pod_alert("i", region="r2")],
                                                    group_key="g-region-2"))
    r2 = store.ingest(redacted(payload), cluster_label="region")[0]
    assert store.get(r2)["cluster"] == "r2" and store.list(status="queued", cluster="r2")[1] == 2
    job_ids = set()
    while (job := store.claim()) is not None:
        job_ids.add((job["id"], job["cluster"]))
    assert (prod, "prod-eu") in job_ids and (none, None) in job_ids
    manual = store.create_manual("lfh-staging", None, cluster="prod-eu")
    assert store.get(manual)["cluster"] == "prod-eu" and store.counts(cluster="prod-eu")["queued"] == 1


def test_one_open_investigation_per_group_key_is_enforced_by_the_database(store: StoreBase) -> None:
    first = ingest(store, [pod_alert("api-1")], group_key="g")[0]
    with pytest.raises(Exception) as err:
        with store._tx() as db:
            db.execute("INSERT INTO investigations (id, status, trigger, group_key, created_at, updated_at, seq) "
                       "VALUES ('inv-dup', 'queued', 'alert', 'g', 'x', 'x', 99)")
    assert store._unique_violation(err.value)
    ingest(store, [pod_alert("api-1", "resolved")], group_key="g")
    assert store.get(first)["status"] == "resolved"
    again = ingest(store, [pod_alert("api-1")], group_key="g")  # a resolved one does not count
    assert again != [first] and store.get(again[0])["status"] == "queued"


def test_a_claim_is_a_lease_that_expires_and_is_requeued(db_url: str) -> None:
    clock = Clock()
    a = open_store(db_url, clock=clock, lease=30, owner="replica-a")
    b = open_store(db_url, clock=clock, lease=30, owner="replica-b")
    try:
        inv = ingest(a, [pod_alert("api-1")])[0]
        job = a.claim()
        assert job["id"] == inv and b.claim() is None
        assert sql(a, "SELECT claimed_by, lease_until FROM investigations") == [("replica-a", clock.t + 30)]
        clock.t += 20
        assert b.requeue_expired() == 0  # a live lease is a live replica's work
        assert a.renew_leases() == 1
        clock.t += 20
        assert b.requeue_expired() == 0  # renewed: still a's
        clock.t += 31  # a stopped renewing (it died)
        assert b.requeue_expired() == 1
        job_b = b.claim()
        assert job_b["id"] == inv and job_b["generation"] == job["generation"]
        # a was only slow: its late result never marks b's claim done
        assert not a.finish(inv, job["generation"], {"summary": "late"})
        assert store_status(b, inv) == "running"
        a.fail(inv, job["generation"], "late failure")
        assert store_status(b, inv) == "running"
        assert b.finish(inv, job_b["generation"], {"summary": "b's"})
        assert store_status(b, inv) == "done"
        assert sql(b, "SELECT claimed_by, lease_until FROM investigations") == [(None, None)]
    finally:
        a.close()
        b.close()


def store_status(store: StoreBase, inv: str) -> str:
    return store.get(inv, with_report=False)["status"]


def test_the_outbox_is_claimed_under_a_lease_with_an_idempotency_key(db_url: str) -> None:
    clock = Clock()
    a = open_store(db_url, clock=clock, lease=30, owner="replica-a")
    b = open_store(db_url, clock=clock, lease=30, owner="replica-b")
    try:
        inv = ingest(a, [pod_alert("api-1")])[0]
        job = a.claim()
        a.finish(inv, job["generation"], {"summary": "s"})
        a.enqueue_notifications(inv, [("slack", "http://s"), ("webhook", "http://w")], "ROOT")
        due_a = a.due_notifications()
        assert [d["target"] for d in due_a] == ["slack", "webhook"]
        assert b.due_notifications() == []  # claimed by a
        assert a.next_notification_at() == clock.t + 30  # the lease ends then
        keys = {d["target"]: d["idempotencyKey"] for d in due_a}
        assert len(set(keys.values())) == 2 and all(len(k) == 32 for k in keys.values())
        a.notification_result(due_a[1]["id"], ok=True, error=None, next_at=None)
        clock.t += 31  # a died before marking slack sent: b sends it again, with the same key
        due_b = b.due_notifications()
        assert [(d["target"], d["idempotencyKey"]) for d in due_b] == [("slack", keys["slack"])]
        b.notification_result(due_b[0]["id"], ok=True, error=None, next_at=None)
        # the resolved notification: another kind, another key; the key is stable per generation
        ingest(a, [pod_alert("api-1", "resolved")])
        resolved = b.due_notifications()
        assert {d["kind"] for d in resolved} == {"resolved"} and len(resolved) == 2
        assert not {d["idempotencyKey"] for d in resolved} & set(keys.values())
    finally:
        a.close()
        b.close()


def test_start_recovery_depends_on_the_backend(db_url: str) -> None:
    """SQLite: one process per file, so at start every running claim is a dead process's. PostgreSQL: other
    replicas are alive, and only expired leases are taken over."""
    a = open_store(db_url, owner="replica-a")
    b = open_store(db_url, owner="replica-b")
    try:
        ingest(a, [pod_alert("api-1")])
        a.claim()
        assert b.requeue_interrupted() == (1 if db_url.endswith(".sqlite") else 0)
    finally:
        a.close()
        b.close()


def test_a_version_3_sqlite_file_gains_the_current_schema(tmp_path: Path) -> None:
    """Files written before clusters and leases open as they are: the columns and the unique index are added."""
    path = tmp_path / "db.sqlite"
    s = Store(str(path))
    inv = ingest(s, [pod_alert("api-1")])[0]
    s.close()
    db = sqlite3.connect(path)
    db.execute("DROP INDEX inv_cluster")
    db.execute("DROP INDEX inv_open_cluster_group")
    for table, col in (("investigations", "cluster"), ("investigations", "claimed_by"),
                       ("investigations", "lease_until"), ("notifications", "claimed_by"),
                       ("notifications", "lease_until"), ("notifications", "idem_key")):
        db.execute(f"ALTER TABLE {table} DROP COLUMN {col}")
    db.execute("PRAGMA user_version=3")
    db.commit()
    db.close()
    s = Store(str(path))
    try:
        assert s._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert s.get(inv)["cluster"] is None and s.claim()["id"] == inv
        names = {r[0] for r in s._db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert {"inv_cluster", "inv_open_cluster_group"} <= names
    finally:
        s.close()


def test_a_graceful_stop_hands_its_claims_back(db_url: str) -> None:
    a = open_store(db_url, owner="replica-a")
    b = open_store(db_url, owner="replica-b")
    try:
        mine, theirs = ingest(a, [pod_alert("api-1")], group_key="g1")[0], ingest(a, [pod_alert("api-2")], group_key="g2")[0]
        assert a.claim()["id"] == mine and b.claim()["id"] == theirs
        a.enqueue_notifications(mine, [("slack", "http://s")], "R")
        assert len(a.due_notifications()) == 1 and b.due_notifications() == []
        assert a.release_claims() == 1
        assert store_status(b, mine) == "queued" and store_status(b, theirs) == "running"
        assert b.claim()["id"] == mine and len(b.due_notifications()) == 1
    finally:
        a.close()
        b.close()


# ---------------------------------------------------------------------------------- schema 5: dedup per cluster
SHARED_GROUP = '{}/{severity="critical"}:{alertname="PodCrashLooping"}'


def test_two_clusters_sending_the_same_group_key_open_one_investigation_each(store: StoreBase) -> None:
    """Each cluster's Alertmanager groups without the cluster label (it sees one cluster), so two clusters
    send the same group key: the dedup key is (cluster, group key), and the group key stays the sender's."""
    prod = ingest(store, [pod_alert("api-1", cluster="prod")], group_key=SHARED_GROUP)
    stg = ingest(store, [pod_alert("api-1", cluster="staging")], group_key=SHARED_GROUP)
    assert prod != stg and len(prod) == len(stg) == 1
    # prod's HA twin merges into prod's; a new alert of staging's group requeues staging's only
    assert ingest(store, [pod_alert("api-1", cluster="prod")], group_key=SHARED_GROUP) == prod
    job = store.claim()
    assert job["id"] == prod[0] and job["cluster"] == "prod"
    assert ingest(store, [pod_alert("api-1", cluster="staging"), pod_alert("api-2", cluster="staging")],
                  group_key=SHARED_GROUP) == stg
    p, s = store.get(prod[0]), store.get(stg[0])
    assert (p["cluster"], s["cluster"]) == ("prod", "staging")
    assert p["groupKey"] == s["groupKey"] == SHARED_GROUP
    assert [a["labels"]["pod"] for a in p["alerts"]] == ["api-1"] and p["status"] == "running"
    assert [a["labels"]["pod"] for a in s["alerts"]] == ["api-1", "api-2"] and s["status"] == "queued"
    # alerts without the label are a cluster of their own (none), not either of the named ones
    unnamed = ingest(store, [pod_alert("api-1")], group_key=SHARED_GROUP)
    assert unnamed not in (prod, stg) and store.get(unnamed[0])["cluster"] is None
    # staging's group resolving closes staging's investigation only
    ingest(store, [pod_alert("api-1", "resolved", cluster="staging"), pod_alert("api-2", "resolved", cluster="staging")],
           group_key=SHARED_GROUP)
    assert [store_status(store, i[0]) for i in (prod, stg, unnamed)] == ["running", "resolved", "queued"]
    assert store.counts(cluster="prod")["running"] == 1 and store.counts(cluster="staging")["resolved"] == 1


def test_one_open_investigation_per_cluster_and_group_key_is_enforced_by_the_database(store: StoreBase) -> None:
    ingest(store, [pod_alert("api-1", cluster="prod")], group_key="g")
    ingest(store, [pod_alert("api-1")], group_key="g")  # no cluster: its own key

    def insert(inv_id: str, cluster: str | None) -> None:
        with store._tx() as db:
            db.execute("INSERT INTO investigations (id, status, trigger, group_key, created_at, updated_at, seq, "
                       "cluster) VALUES (?, 'queued', 'alert', 'g', 'x', 'x', 99, ?)", (inv_id, cluster))

    for cluster in ("prod", None):
        with pytest.raises(Exception) as err:
            insert(f"inv-dup-{cluster}", cluster)
        assert store._unique_violation(err.value), err.value
    insert("inv-staging", "staging")  # another cluster's open group of the same key is allowed
    assert store.counts()["queued"] == 3


def test_the_same_alerts_under_another_group_key_of_another_cluster_open_their_own(store: StoreBase) -> None:
    """The "one alert, two routes" rule holds within a cluster: a payload the webhook attributes to
    another cluster (here by its common labels) is that cluster's business, even with the same alerts."""
    first = ingest(store, [pod_alert("api-1")], group_key="route-a")
    payload, errors = parse_webhook(webhook_payload([pod_alert("api-1")], group_key="route-b"))
    assert not errors
    assert store.ingest(redacted(payload)) == first  # same cluster (none): nothing new
    payload["commonLabels"]["cluster"] = "staging"
    other = store.ingest(redacted(payload))
    assert other != first and store.get(other[0])["cluster"] == "staging"


def test_a_version_4_sqlite_file_gains_dedup_per_cluster_with_its_rows(tmp_path: Path) -> None:
    """A schema 4 file (unique open group key across clusters) opens as schema 5 with every row kept."""
    path = tmp_path / "db.sqlite"
    s = Store(str(path))
    done = ingest(s, [pod_alert("api-9", cluster="prod")], group_key="g-done")[0]
    job = s.claim()
    s.finish(job["id"], job["generation"], {"summary": "s"})
    prod = ingest(s, [pod_alert("api-1", cluster="prod")], group_key=SHARED_GROUP)[0]
    s.enqueue_notifications(prod, [("slack", "http://s")], "ROOT")
    # schema 4's serve, serving several clusters, qualified group keys by the cluster
    stg = ingest(s, [pod_alert("api-1", cluster="staging")], group_key='cluster="staging"/' + SHARED_GROUP)[0]
    gone = ingest(s, [pod_alert("api-2", cluster="staging")], group_key='cluster="staging"/{}:{x="1"}')[0]
    ingest(s, [pod_alert("api-2", "resolved", cluster="staging")], group_key='cluster="staging"/{}:{x="1"}')
    twin = ingest(s, [pod_alert("api-3", cluster="prod")], group_key='cluster="prod"/' + SHARED_GROUP)[0]
    s.close()
    db = sqlite3.connect(path)
    db.execute("DROP INDEX inv_open_cluster_group")  # the schema 4 index: one open group key, whatever the cluster
    db.execute("CREATE UNIQUE INDEX inv_open_group ON investigations(group_key) "
               "WHERE group_key IS NOT NULL AND status <> 'resolved'")
    db.execute("PRAGMA user_version=4")
    db.commit()
    db.close()
    s = Store(str(path))
    try:
        assert s._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
        names = {r[0] for r in s._db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert "inv_open_cluster_group" in names and "inv_open_group" not in names
        assert s.counts() == {"queued": 3, "running": 0, "done": 1, "failed": 0, "resolved": 1}
        assert s.get(done)["summary"] == "s" and len(s.get(prod)["notifications"]) == 1
        # the group keys are Alertmanager's again (open or resolved), but for an open one whose plain key
        # was open already in its cluster: two open investigations of one group are never made
        assert [s.get(i)["groupKey"] for i in (prod, stg, gone, twin)] == [
            SHARED_GROUP, SHARED_GROUP, '{}:{x="1"}', 'cluster="prod"/' + SHARED_GROUP]
        assert sql(s, "SELECT group_key FROM alerts WHERE investigation_id=?", (stg,)) == [(SHARED_GROUP,)]
        assert ingest(s, [pod_alert("api-1", cluster="prod")], group_key=SHARED_GROUP) == [prod]
        assert ingest(s, [pod_alert("api-1", cluster="staging")], group_key=SHARED_GROUP) == [stg]
        assert ingest(s, [pod_alert("api-1", cluster="qa")], group_key=SHARED_GROUP) not in ([prod], [stg])
    finally:
        s.close()


@pytest.mark.parametrize("key,cluster,plain", [
    ('cluster="prod"/{}/{severity="critical"}:{alertname="X"}', "prod", '{}/{severity="critical"}:{alertname="X"}'),
    ('k8s_cluster="eu-prod"/{}:{}', "eu-prod", "{}:{}"),
    ('env="a\\"b"/{}:{}', 'a"b', "{}:{}"),  # the quoting schema 4 used
    ('cluster="prod"/{}:{}', "staging", None),  # another cluster's prefix
    ('{}:{cluster="prod"}', "prod", None),  # Alertmanager's own key, grouped by the label
    ('{}/{a="b"}:{cluster="prod"/x}', "prod", None),
    ('cluster="prod"/', "prod", None),
    ('not a label="prod"/{}:{}', "prod", None),
])
def test_unqualified_group_key(key: str, cluster: str, plain: str | None) -> None:
    assert unqualified_group_key(key, cluster) == plain


def test_two_results_notified_at_one_generation_get_two_idempotency_keys(db_url: str) -> None:
    """The key is taken when a result is queued for sending, at the investigation's generation then. A
    replica whose result notification is queued late (after a new alert re-ran the investigation on
    another replica) queues another root cause at the same generation as the newer run's: a different
    message, so another key, or a receiver that drops repeats would drop it. A resend keeps its key."""
    clock = Clock()
    a = open_store(db_url, clock=clock, lease=30, owner="replica-a")
    b = open_store(db_url, clock=clock, lease=30, owner="replica-b")
    try:
        inv = ingest(a, [pod_alert("api-1")])[0]
        job_a = a.claim()
        assert a.finish(inv, job_a["generation"], {"summary": "a"})
        # before a queues its notification, a new alert re-runs the group on b
        ingest(b, [pod_alert("api-1"), pod_alert("api-2")])
        job_b = b.claim()
        assert job_b["generation"] == job_a["generation"] + 1
        assert b.finish(inv, job_b["generation"], {"summary": "b"})
        assert b.enqueue_notifications(inv, [("webhook", "http://w")], "ROOT-B") == 1
        assert a.enqueue_notifications(inv, [("webhook", "http://w")], "ROOT-A") == 1
        due = b.due_notifications()
        keys = [d["idempotencyKey"] for d in due]
        assert len(due) == 2 and len(set(keys)) == 2 and all(len(k) == 32 for k in keys)
        b.notification_result(due[0]["id"], ok=True, error=None, next_at=None)
        clock.t += 31  # b dies before marking the second sent: a resends it under the same key
        assert [d["idempotencyKey"] for d in a.due_notifications()] == [keys[1]]
    finally:
        a.close()
        b.close()
