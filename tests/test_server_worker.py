"""serve's workers and outbox in-process: one snapshot and one diagnosis for a burst, TTL reloads,
errors that fail one investigation and never the worker, notification messages and backoff."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from server_harness import webhook_payload

from sre_expert.edges.webhook import worker as worker_mod
from sre_expert.edges.webhook.notify import Notifier, slack_message, slack_resolved_message
from sre_expert.edges.webhook.payload import parse_webhook, redacted
from sre_expert.edges.webhook.store import Store
from sre_expert.edges.webhook.worker import SourceCache, WorkerPool
from sre_expert.sources.resolve import open_source

pytestmark = pytest.mark.unit


class CountingLoader:
    def __init__(self, fail_first: int = 0) -> None:
        self.calls = 0
        self.fail_first = fail_first

    def __call__(self) -> Any:
        self.calls += 1
        if self.calls <= self.fail_first:
            raise OSError("bundle unreadable: /nowhere")
        return open_source(None, True, progress=False)


def ingest(store: Store, pod: str, group: str, alertname: str = "PodCrashLooping", **extra: str) -> str:
    payload, errors = parse_webhook(webhook_payload(
        [{"labels": {"alertname": alertname, "namespace": "lfh-staging", "pod": pod, **extra}}], group_key=group))
    assert not errors
    return store.ingest(redacted(payload))[0]


def settle(store: Store, timeout: float = 60.0) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = store.counts()
        if counts["queued"] == counts["running"] == 0:
            return counts
        time.sleep(0.02)
    raise AssertionError(f"investigations did not finish: {store.counts()}")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(str(tmp_path / "db.sqlite"))
    yield s
    s.close()


def test_a_burst_loads_the_source_and_diagnoses_once(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    diagnoses = []
    real = worker_mod.diagnose
    monkeypatch.setattr(worker_mod, "diagnose", lambda snap: diagnoses.append(1) or real(snap))
    loader = CountingLoader()
    pool = WorkerPool(store, SourceCache(loader, ttl=None), workers=4)
    for i in range(200):
        ingest(store, "api-h2jfc4tw-xsn8x" if i % 2 else f"gone-{i}", f"g{i}", prometheus_replica=str(i))
    pool.start()
    try:
        assert settle(store)["done"] == 200
    finally:
        pool.stop()
    assert loader.calls == 1 and len(diagnoses) == 1


def test_live_snapshots_expire_after_the_ttl_and_a_failed_reload_keeps_the_last() -> None:
    now = [0.0]
    loader = CountingLoader()
    cache = SourceCache(loader, ttl=30.0, clock=lambda: now[0])
    first = cache.get()
    now[0] = 29.0
    assert cache.get() is not None and loader.calls == 1
    now[0] = 31.0
    second = cache.get()
    assert loader.calls == 2 and second[0] is not first[0]
    loader.fail_first = 99  # the cluster is unreachable now
    now[0] = 62.0
    assert cache.get()[0] is second[0] and cache.last_error == "OSError: bundle unreadable: /nowhere"


def test_while_one_worker_reloads_the_others_use_the_previous_snapshot() -> None:
    import threading

    now = [0.0]
    release, started = threading.Event(), threading.Event()
    first = open_source(None, True, progress=False)
    loads = iter([first, None])

    def slow_loader() -> Any:
        snap = next(loads)
        if snap is None:  # the second load: a slow live sweep
            started.set()
            release.wait(30)
            return open_source(None, True, progress=False)
        return snap

    cache = SourceCache(slow_loader, ttl=30.0, clock=lambda: now[0])
    assert cache.get()[0] is first
    now[0] = 31.0
    got: list[Any] = []
    reloader = threading.Thread(target=lambda: got.append(cache.get()[0]))
    reloader.start()
    assert started.wait(30)
    assert cache.get()[0] is first  # does not wait for the sweep in progress
    release.set()
    reloader.join(30)
    assert got and got[0] is not first and cache.get()[0] is got[0] and cache.loads == 2


def test_an_error_fails_one_investigation_and_the_worker_goes_on(store: Store, monkeypatch: pytest.MonkeyPatch,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    real = worker_mod.investigate_alerts

    def flaky(alertname: Any, *args: Any) -> Any:
        if alertname == "Explodes":
            raise ValueError("token=hunter2hunter2hunter2 broke the check")
        return real(alertname, *args)

    monkeypatch.setattr(worker_mod, "investigate_alerts", flaky)
    loader = CountingLoader(fail_first=1)
    pool = WorkerPool(store, SourceCache(loader, ttl=None), workers=1)
    a = ingest(store, "api-h2jfc4tw-xsn8x", "a")  # the source cannot be read yet
    pool.start()
    try:
        settle(store)
        b = ingest(store, "x", "b", alertname="Explodes")
        c = ingest(store, "api-h2jfc4tw-xsn8x", "c", container="api")
        settle(store)
        assert ingest(store, "api-h2jfc4tw-xsn8x", "a") == a  # Alertmanager resends: a failed one is retried
        settle(store)
    finally:
        pool.stop()
    ra, rb, rc = store.get(a), store.get(b), store.get(c)
    assert ra["status"] == "done" and ra["error"] is None and ra["rootCause"]["code"] == "ESO-REMOTE-KEY-MISSING"
    assert rb["status"] == "failed" and rb["error"].startswith("ValueError: token=<redacted:")
    assert "hunter2" not in rb["error"] and "hunter2" not in caplog.text
    assert "investigation " + a + " failed: OSError: bundle unreadable: /nowhere" in caplog.text
    assert rc["status"] == "done" and rc["rootCause"]["code"] == "ESO-REMOTE-KEY-MISSING"


def test_finished_investigations_queue_one_notification_per_target(store: Store) -> None:
    pool = WorkerPool(store, SourceCache(CountingLoader(), ttl=None), workers=1,
                      notify=[("slack", "http://s"), ("webhook", "http://w")])
    inv = ingest(store, "api-h2jfc4tw-xsn8x", "n")
    pool.start()
    try:
        settle(store)
    finally:
        pool.stop()
    sent: list[tuple[str, dict[str, Any]]] = []
    notifier = Notifier(store, external_url="https://sre.example.org/",
                        sender=lambda url, body, headers: sent.append((url, body)))
    assert notifier.send_due() == 2
    assert [u for u, _ in sent] == ["http://s", "http://w"]
    slack = sent[0][1]
    assert slack["text"].startswith("PodCrashLooping · Pod lfh-staging/api-h2jfc4tw-xsn8x: root cause: ExternalSecret")
    assert slack["text"].endswith(f"https://sre.example.org/investigations/{inv}")
    texts = [b["text"]["text"] for b in slack["blocks"] if b["type"] == "section"]
    assert texts[2].startswith("*Root cause* `ESO-REMOTE-KEY-MISSING` on ExternalSecret lfh-staging/api-secrets")
    assert texts[3].startswith("*Evidence*\n```") and texts[4].startswith("*Fix*\n• ")
    assert sent[1][1]["id"] == inv and sent[1][1]["link"].endswith(inv) and "report" not in sent[1][1]
    assert [n["status"] for n in store.get(inv)["notifications"]] == ["sent", "sent"]


def resolve(store: Store, pod: str, group: str, alertname: str = "PodCrashLooping") -> list[str]:
    payload, errors = parse_webhook(webhook_payload(
        [{"labels": {"alertname": alertname, "namespace": "lfh-staging", "pod": pod}, "status": "resolved"}],
        group_key=group))
    assert not errors
    return store.ingest(redacted(payload))


def test_a_resolved_group_sends_one_short_resolved_notification_per_target(store: Store) -> None:
    inv = ingest(store, "api-h2jfc4tw-xsn8x", "r")
    quiet = ingest(store, "web-1", "never-announced")
    job = store.claim()
    assert job is not None and job["id"] == inv
    store.finish(inv, job["generation"], {"summary": "root cause: ExternalSecret lfh-staging/api-secrets",
                                          "rootCause": {"id": "f1", "code": "ESO-REMOTE-KEY-MISSING"},
                                          "scope": {"namespace": "lfh-staging", "kind": "Pod",
                                                    "name": "api-h2jfc4tw-xsn8x"}})
    store.enqueue_notifications(inv, [("slack", "http://s"), ("webhook", "http://w")], "f1")
    sent: list[tuple[str, dict[str, Any]]] = []
    notifier = Notifier(store, external_url="https://sre.example.org", sender=lambda url, body, headers: sent.append((url, body)))
    assert notifier.send_due() == 2 and [b.get("event") for _, b in sent] == [None, "investigated"]

    assert resolve(store, "api-h2jfc4tw-xsn8x", "r") == [inv]
    assert resolve(store, "web-1", "never-announced") == [quiet]
    assert resolve(store, "api-h2jfc4tw-xsn8x", "r") == []  # Alertmanager repeats a resolved group: no second one
    sent.clear()
    assert notifier.send_due() == 2 and notifier.send_due() == 0
    (slack_url, slack), (hook_url, hook) = sent
    assert (slack_url, hook_url) == ("http://s", "http://w")
    assert slack["text"] == ("[RESOLVED] PodCrashLooping · Pod lfh-staging/api-h2jfc4tw-xsn8x: 1 alert resolved; the root cause "
                             f"was `ESO-REMOTE-KEY-MISSING` https://sre.example.org/investigations/{inv}")
    assert len(slack["blocks"]) == 2 and ":white_check_mark:" in slack["blocks"][0]["text"]["text"]
    assert hook["event"] == "resolved" and hook["id"] == inv and hook["status"] == "resolved"
    assert hook["resolvedAt"] and hook["rootCauseCode"] == "ESO-REMOTE-KEY-MISSING" and hook["alertsTotal"] == 1
    assert "alerts" not in hook and hook["link"].endswith(inv)
    notes = store.get(inv)["notifications"]
    assert [(n["target"], n["kind"], n["status"]) for n in notes] == [
        ("slack", "result", "sent"), ("webhook", "result", "sent"),
        ("slack", "resolved", "sent"), ("webhook", "resolved", "sent")]
    assert store.get(quiet)["status"] == "resolved" and store.get(quiet)["notifications"] == []


def test_the_resolved_message_escapes_what_the_cluster_wrote() -> None:
    rec = {"id": "inv-0123456789ab", "alertname": "<!channel> X", "alertsTotal": 3,
           "scope": {"namespace": "a<b", "kind": None, "name": None}, "rootCause": None}
    msg = slack_resolved_message(rec, None)
    assert msg["text"] == "[RESOLVED] &lt;!channel&gt; X · namespace a&lt;b: 3 alerts resolved"
    assert len(msg["blocks"]) == 1


def test_failed_sends_back_off_exponentially_then_give_up(store: Store) -> None:
    inv = ingest(store, "p", "bo")
    store.enqueue_notifications(inv, [("webhook", "http://127.0.0.1:9/")], None)

    def refuse(url: str, body: dict[str, Any], headers: Any) -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    notifier = Notifier(store, external_url=None, base_delay=100.0, max_attempts=3, sender=refuse)
    delays = []
    for _attempt in range(3):
        row = store._db.execute("SELECT id FROM notifications").fetchone()
        store._db.execute("UPDATE notifications SET next_at=0 WHERE id=?", row)  # make it due now
        before = time.time()
        assert notifier.send_due() == 1
        nxt = store._db.execute("SELECT next_at FROM notifications").fetchone()[0]
        delays.append(round((nxt - before) / 100.0) if nxt else None)
    assert delays == [1, 2, None]  # 100 s, 200 s, then failed for good
    note = store.get(inv)["notifications"][0]
    assert note["status"] == "failed" and note["attempts"] == 3
    assert note["lastError"].startswith("ConnectionRefusedError")


def test_slack_message_for_a_record_without_root_cause() -> None:
    rec = {"id": "inv-0123456789ab", "alertname": "PersistentVolumeFillingUp", "severity": "warning",
           "scope": {"namespace": "lfh-staging", "kind": "PersistentVolumeClaim", "name": "data-postgresql-0"},
           "summary": "no finding names PersistentVolumeClaim lfh-staging/data-postgresql-0", "rootCause": None}
    msg = slack_message(rec, None)
    assert msg["text"] == ("[WARNING] PersistentVolumeFillingUp · PersistentVolumeClaim lfh-staging/data-postgresql-0: "
                           "no finding names PersistentVolumeClaim lfh-staging/data-postgresql-0")
    assert len(msg["blocks"]) == 2


def test_readyz_is_503_while_the_source_cannot_be_read(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from sre_expert.edges.webhook.app import create_app
    from sre_expert.edges.webhook.config import ServeConfig

    def unreachable() -> Any:
        raise OSError("https://admin:s3cretpassw0rd@10.0.0.1:6443 unreachable")

    app = create_app(ServeConfig(db_path=str(tmp_path / "db"), token="t" * 20, loader=unreachable))
    with TestClient(app) as client:
        deadline = time.monotonic() + 10
        auth = {"Authorization": "Bearer " + "t" * 20}
        while time.monotonic() < deadline:
            r = client.get("/readyz", headers=auth)
            if r.json()["sourceError"]:
                break
            time.sleep(0.02)
        assert r.status_code == 503
        assert r.json()["db"] is True and r.json()["source"] is False
        assert r.json()["sourceError"].startswith("OSError: https://") and "s3cretpassw0rd" not in r.text
        # readyz is open to probes without the token: they get the status, not the cluster's address
        anon = client.get("/readyz")
        assert anon.status_code == 503 and "10.0.0.1" not in anon.text
        assert anon.json()["sourceError"] == "OSError: details need the token"
        assert client.get("/healthz").status_code == 200


def test_an_unexpected_error_is_a_json_500_with_a_redacted_log_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    from fastapi.testclient import TestClient

    from sre_expert.edges.webhook.app import create_app
    from sre_expert.edges.webhook.config import ServeConfig

    def broken(self: Store, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk I/O error while writing password=hunter2hunter2")

    monkeypatch.setattr(Store, "ingest", broken)
    app = create_app(ServeConfig(db_path=str(tmp_path / "db"), token="t" * 20, loader=CountingLoader()))
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.post("/api/v1/alerts", json=webhook_payload([{"labels": {"alertname": "X"}}]),
                        headers={"Authorization": "Bearer " + "t" * 20})
    assert r.status_code == 500 and r.json() == {"error": "internal error (see the server log)"}
    assert "unhandled error on POST /api/v1/alerts: RuntimeError: disk I/O error" in caplog.text
    assert "hunter2" not in caplog.text
