"""serve's SQLite store: durable ingest, dedup by group key and fingerprint, resolve, resume, outbox."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from server_harness import webhook_payload

from sre_expert.server.payload import parse_webhook, redacted
from sre_expert.server.store import LIST_ALERTS, SCHEMA_VERSION, Store, StoreError


def pod_alert(pod: str, status: str = "firing", **extra: str) -> dict:
    return {"labels": {"alertname": "PodCrashLooping", "severity": "critical", "namespace": "lfh-staging",
                       "pod": pod, **extra}, "status": status}


def ingest(store: Store, alerts: list[dict], *, group_key: str = "{}:{alertname=\"PodCrashLooping\"}",
           status: str | None = None) -> list[str]:
    payload, errors = parse_webhook(webhook_payload(alerts, group_key=group_key, status=status))
    assert not errors
    return store.ingest(redacted(payload))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(str(tmp_path / "db.sqlite"))
    yield s
    s.close()


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


def test_a_new_group_opens_one_queued_investigation(store: Store) -> None:
    ids = ingest(store, [pod_alert("api-1"), pod_alert("api-2")])
    assert len(ids) == 1 and ids[0].startswith("inv-") and len(ids[0]) == 16
    rec = store.get(ids[0])
    assert rec["status"] == "queued" and rec["trigger"] == "alert"
    assert rec["alertname"] == "PodCrashLooping" and rec["severity"] == "critical"
    assert [a["labels"]["pod"] for a in rec["alerts"]] == ["api-1", "api-2"]
    assert rec["commonLabels"]["namespace"] == "lfh-staging" and "pod" not in rec["commonLabels"]
    assert rec["summary"] == "investigation queued" and rec["report"] is None


def test_repeat_of_the_same_group_merges_without_reinvestigating(store: Store) -> None:
    first = ingest(store, [pod_alert("api-1")])
    job = store.claim()
    assert store.finish(job["id"], job["generation"], {"summary": "root cause: x"})
    again = ingest(store, [pod_alert("api-1")])  # Alertmanager's repeat_interval resend
    assert again == first
    assert store.get(first[0])["status"] == "done"
    assert store.claim() is None


def test_a_new_firing_fingerprint_requeues_the_same_investigation(store: Store) -> None:
    first = ingest(store, [pod_alert("api-1")])
    job = store.claim()
    store.finish(job["id"], job["generation"], {"summary": "one pod"})
    assert ingest(store, [pod_alert("api-1"), pod_alert("api-2")]) == first
    rec = store.get(first[0])
    assert rec["status"] == "queued" and len(rec["alerts"]) == 2
    job2 = store.claim()
    assert job2["id"] == first[0] and job2["generation"] == job["generation"] + 1
    assert len(job2["alerts"]) == 2


def test_the_same_fingerprint_under_another_group_key_opens_nothing_new(store: Store) -> None:
    first = ingest(store, [pod_alert("api-1")], group_key="route-a")
    assert ingest(store, [pod_alert("api-1")], group_key="route-b") == first
    assert store.counts()["queued"] == 1


def test_a_known_fingerprint_under_another_group_key_never_merges_or_rewrites_labels(store: Store) -> None:
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


def test_a_known_fingerprint_with_new_alerts_under_another_group_key_opens_its_own(store: Store) -> None:
    first = ingest(store, [pod_alert("api-1")], group_key="route-a")
    second = ingest(store, [pod_alert("api-1"), pod_alert("api-2")], group_key="route-b")
    assert second != first
    assert [al["labels"]["pod"] for al in store.get(first[0])["alerts"]] == ["api-1"]
    assert [al["labels"]["pod"] for al in store.get(second[0])["alerts"]] == ["api-1", "api-2"]


def test_senders_without_group_keys_still_group_by_fingerprint(store: Store) -> None:
    payload, errors = parse_webhook({**webhook_payload([pod_alert("api-1")]), "groupKey": None})
    assert not errors
    first = store.ingest(redacted(payload))
    payload2, _ = parse_webhook({**webhook_payload([pod_alert("api-1"), pod_alert("api-2")]), "groupKey": None})
    assert store.ingest(redacted(payload2)) == first
    assert len(store.get(first[0])["alerts"]) == 2


def test_resolving_every_alert_closes_the_investigation(store: Store) -> None:
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


def test_resolved_alerts_of_an_unknown_group_open_nothing(store: Store) -> None:
    assert ingest(store, [pod_alert("api-9", "resolved")]) == []
    assert store.counts() == {"queued": 0, "running": 0, "done": 0, "failed": 0, "resolved": 0}
    assert store.alert_count() == 1


def test_a_result_from_an_outdated_run_never_marks_done(store: Store) -> None:
    ids = ingest(store, [pod_alert("api-1")])
    job = store.claim()
    ingest(store, [pod_alert("api-1"), pod_alert("api-2")])  # requeued while running
    assert not store.finish(job["id"], job["generation"], {"summary": "stale"})
    assert store.get(ids[0])["status"] == "queued"


def test_resolved_while_running_stays_resolved(store: Store) -> None:
    ids = ingest(store, [pod_alert("api-1")])
    job = store.claim()
    ingest(store, [pod_alert("api-1", "resolved")])
    assert not store.finish(job["id"], job["generation"], {"summary": "late"})
    rec = store.get(ids[0])
    assert rec["status"] == "resolved" and rec["summary"] == "late"


def test_failure_keeps_the_error_text(store: Store) -> None:
    ids = ingest(store, [pod_alert("api-1")])
    job = store.claim()
    store.fail(job["id"], job["generation"], "BundleError: cannot read /x")
    rec = store.get(ids[0])
    assert rec["status"] == "failed" and rec["error"] == "BundleError: cannot read /x"
    assert rec["summary"] == "investigation failed: BundleError: cannot read /x"


def test_a_resend_retries_a_failed_investigation(store: Store) -> None:
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


def test_identical_reports_are_stored_once(store: Store) -> None:
    report = {"findings": [{"id": "X"}], "summary": {"critical": 1}}
    for pod in ("a", "b"):
        ingest(store, [pod_alert(pod)], group_key=pod)
        job = store.claim()
        store.finish(job["id"], job["generation"], {"summary": pod, "report": report})
    assert store._db.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == 1
    items, total = store.list()
    assert total == 2 and all("report" not in i for i in items)
    assert store.get(items[0]["id"])["report"] == report


def test_list_filters_pages_and_orders_newest_first(store: Store) -> None:
    for i in range(5):
        ingest(store, [pod_alert(f"p{i}")], group_key=f"g{i}")
    job = store.claim()
    store.finish(job["id"], job["generation"], {"summary": "x"})
    items, total = store.list(limit=2, offset=1)
    assert total == 5 and [i["alerts"][0]["labels"]["pod"] for i in items] == ["p3", "p2"]
    done, n = store.list(status="done")
    assert n == 1 and done[0]["alerts"][0]["labels"]["pod"] == "p0"


def test_labels_and_annotations_are_redacted_before_they_are_stored(store: Store) -> None:
    alert = pod_alert("api-1")
    alert["annotations"] = {"description": "login as admin@example.com with password=hunter2hunter2"}
    ids = ingest(store, [alert])
    raw = b"".join(bytes(str(r), "utf-8") for r in store._db.execute("SELECT * FROM alerts").fetchall())
    assert b"hunter2hunter2" not in raw and b"admin@example.com" not in raw
    text = store.get(ids[0])["alerts"][0]["annotations"]["description"]
    assert "<redacted:" in text


def test_outbox_backoff_and_give_up(store: Store) -> None:
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


def test_list_items_carry_the_first_alerts_and_the_total(store: Store) -> None:
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
        assert s._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        assert [(n["target"], n["kind"]) for n in s.get(inv)["notifications"]] == [("slack", "result")]
        ingest(s, [pod_alert("api-1", status="resolved")])
        assert [(n["kind"], n["status"]) for n in s.get(inv)["notifications"]] == [
            ("result", "pending"), ("resolved", "pending")]
    finally:
        s.close()
