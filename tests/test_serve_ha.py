"""`serve` in HA, end to end: two `sre-expert serve --demo` replicas on one real PostgreSQL, behind a
round-robin proxy standing in for the Service, fed by a real Alertmanager HA pair (two Alertmanagers
gossiping on loopback) to which 1,000 alerts in 100 groups are posted, every alert to both, as Prometheus
does. Once one replica is busy (it has answered webhooks and notifications are flowing) and while alerts
are still being posted, it is killed with SIGKILL and started again a second later. Once all is quiet:

- every alert of every webhook a replica answered 200 (the proxy's record) is stored, once, in its group's
  investigation; since Alertmanager retries what failed, every alert posted is acknowledged in the end;
- every group has exactly one investigation, though both Alertmanagers may send it and the two replicas
  may each receive it; every investigation is done;
- notifications, in terms of Idempotency-Keys: every outbox row is sent, no two rows share a key, every
  delivery carries a key, a key never names two messages (target, investigation, kind), and the keys the
  receiver got are exactly the outbox's, each for the message its row is about. The same key delivered
  twice is a resend (the replica died between sending and recording it): allowed, counted in the log line,
  and dropped by a receiver that deduplicates by key. Each investigation has a result row per target
  (a later root cause of the same group is a new message with its own key).

Three runs in a row, each on a fresh database, alternating the replica killed. Select with `-m ha`. The
self-tests below spoil a good run's record one way at a time and show `verify` fails on each.
"""

from __future__ import annotations

import json
import random
import secrets
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ha_harness import Delivery, Forwarded, NotificationSink, RoundRobinProxy, alertmanager_pair, cluster_size
from pg_harness import pg_dsn  # noqa: F401 - fixture
from server_harness import START_TIMEOUT, output, request, start_serve, stop_serve, wait_until

pytestmark = [pytest.mark.ha, pytest.mark.needs("alertmanager")]

ALERTNAMES = ("PodCrashLooping", "PodNotReady", "KubeContainerWaiting", "PodRestartsHigh", "PodOOMKilled",
              "ContainerCPUThrottling", "PodPending", "ContainerMemoryHigh", "PodErrorRateHigh", "PodLatencyHigh")
NAMESPACES = ("lfh-staging", "mycure-production", "monitoring", "argocd", "kyverno", "velero", "falco",
              "cert-manager", "envoy-gateway-system", "external-secrets-system")
PODS_PER_GROUP = 10  # 10 alert names x 10 namespaces x 10 pods = 1,000 alerts in 100 groups
BATCH = 50  # alerts per POST to each Alertmanager (Prometheus batches its sends too)
BATCH_PAUSE = 0.3  # seconds between batches: the 20 batches take about 6 s
KILL_WHEN_ACKED, KILL_WHEN_SENT = 20, 10  # the victim is killed once it took this many webhooks and
RESTART_AFTER = 1.0  # ... the receiver got this many notifications; it is started again this long after
HOLD_AT = 15  # batches posted before the rest wait for the kill (a loaded machine is slow to get busy)
SETTLE = 60.0  # seconds the stack has to become quiet after the last batch
SINK_DELAY = 0.05  # seconds the receiver takes to answer: a kill then often lands mid-send
LEASE = 3.0  # seconds a dead replica's claims last before the other takes them (default 60)


def demo_pods() -> dict[str, list[str]]:
    """The demo platform's pod names per namespace: the alerts name real pods, so investigations find them."""
    from sre_expert.sources.resolve import demo_path

    doc = json.loads((demo_path() / "pods.json").read_text())
    pods: dict[str, list[str]] = defaultdict(list)
    for item in doc["items"]:
        pods[item["metadata"]["namespace"]].append(item["metadata"]["name"])
    return pods


def posted_alerts(run: int) -> list[dict[str, Any]]:
    """The 1,000 alerts, in an order shuffled per run (groups fill up at different times). A namespace with
    fewer than 10 pods repeats a pod with another container."""
    now = datetime.now(UTC)
    pods = demo_pods()
    out = []
    for name in ALERTNAMES:
        for ns in NAMESPACES:
            for k in range(PODS_PER_GROUP):
                out.append({
                    "labels": {"alertname": name, "namespace": ns, "pod": sorted(pods[ns])[k % len(pods[ns])],
                               "container": f"c{k}", "severity": "critical" if k % 3 == 0 else "warning",
                               "job": "kube-state-metrics"},
                    "annotations": {"summary": f"{name} on {ns}/{k}"},
                    "startsAt": (now - timedelta(minutes=5)).isoformat().replace("+00:00", "Z"),
                    "generatorURL": "http://prometheus:9090/graph"})
    random.Random(run).shuffle(out)
    return out


def group_key(name: str, ns: str) -> str:
    """Alertmanager's key for the route below (the root route: `{}`; then the group labels)."""
    return f'{{}}:{{alertname="{name}", namespace="{ns}"}}'


def am_config(proxy_url: str, token_file: Path) -> dict[str, Any]:
    """Alertmanager's receiver for sre-expert as deploy/serve ships it, with short timers for a test."""
    return {
        "route": {"receiver": "sre-expert", "group_by": ["alertname", "namespace"], "group_wait": "1s",
                  "group_interval": "1s", "repeat_interval": "1h"},
        "receivers": [{"name": "sre-expert", "webhook_configs": [{
            "url": f"{proxy_url}/api/v1/alerts", "send_resolved": True,
            "http_config": {"authorization": {"type": "Bearer", "credentials_file": str(token_file)}}}]}],
    }


@pytest.fixture(scope="module")
def postgres() -> Any:
    """The test PostgreSQL (tests/pg_harness.py: initdb + pg_ctl in a temp dir); each run makes a database."""
    from pg_harness import pg_server

    return pg_server()


class Replicas:
    """The two serve processes, sharing one database and one token; a replica can be killed and restarted."""

    def __init__(self, dsn: str, token: str, args: tuple[str, ...]) -> None:
        self.dsn, self.token, self.args = dsn, token, args
        self.procs: list[Any] = [None, None]
        self.bases = ["", ""]
        self.logs: list[str] = []

    def start(self, i: int) -> str:
        base, _, proc = start_serve(self.dsn, args=self.args, token=self.token)
        self.procs[i], self.bases[i] = proc, base
        return base

    def start_both(self) -> None:
        """Both at once, as a Deployment's pods start: each opens (and migrates) the same database."""
        errors: list[BaseException] = []

        def one(i: int) -> None:
            try:
                self.start(i)
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=one, args=(i,)) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]

    def kill(self, i: int) -> None:
        proc = self.procs[i]
        proc.kill()  # SIGKILL: no shutdown hook runs, claims and leases stay as they were
        proc.wait(10)
        self.logs.append(f"--- replica {i} (killed)\n" + output(proc))

    def stop(self) -> None:
        for i, proc in enumerate(self.procs):
            if proc is not None:
                stop_serve(proc)
                self.logs.append(f"--- replica {i}\n" + output(proc))


class Chaos(threading.Thread):
    """Kills the victim with SIGKILL once it is busy (it has answered KILL_WHEN_ACKED webhooks and the
    receiver has KILL_WHEN_SENT notifications), waits RESTART_AFTER seconds and starts it again; the
    proxy sends its share to the new process."""

    def __init__(self, replicas: Replicas, proxy: RoundRobinProxy, sink: NotificationSink, victim: int,
                 posted: list[int]) -> None:
        super().__init__(daemon=True)
        self.replicas, self.proxy, self.sink, self.victim, self.posted = replicas, proxy, sink, victim, posted
        self.killed_at = 0.0
        self.batches_before_kill = 0
        self.down_for = 0.0
        self.done = False
        self.killed = threading.Event()
        self.cancelled = threading.Event()  # the test is over (it failed early): start nothing any more
        self.error = ""

    def run(self) -> None:
        try:
            wait_until(lambda: self.cancelled.is_set() or (
                sum(f.backend == self.victim and f.status == 200 for f in self.proxy.log) >= KILL_WHEN_ACKED
                and len(self.sink.deliveries) >= KILL_WHEN_SENT), "the victim to be busy", timeout=60)
            if self.cancelled.is_set():
                return
            self.batches_before_kill = self.posted[0]
            self.killed_at = time.monotonic()
            self.replicas.kill(self.victim)
            self.killed.set()
            if self.cancelled.wait(RESTART_AFTER):
                return
            self.proxy.set_backend(self.victim, self.replicas.start(self.victim))
            self.down_for = time.monotonic() - self.killed_at
            self.done = True
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.error = f"{type(e).__name__}: {e}"
            self.killed.set()


def run_stack(run: int, dsn: str, tmp: Path) -> dict[str, Any]:
    """Run the scenario; returns what the proxy, the receiver and the API saw."""
    alerts = posted_alerts(run)
    victim = run % 2
    token = secrets.token_urlsafe(24)
    (tmp / "token").write_text(token)
    with NotificationSink(delay=SINK_DELAY) as sink:
        chaos: Chaos | None = None
        replicas = Replicas(dsn, token, ("--demo", "--workers", "2", "--slack-webhook", sink.url + "/slack",
                                         "--webhook", sink.url + "/hook", "--notify-backoff", "0.2",
                                         "--lease-seconds", str(LEASE)))
        try:
            replicas.start_both()
            with RoundRobinProxy(list(replicas.bases)) as proxy, \
                    alertmanager_pair(tmp, am_config(proxy.url, tmp / "token")) as ams:
                wait_until(lambda: all(cluster_size(u) == 2 for u in ams), "the Alertmanagers to see each other")
                started = time.monotonic()
                posted = [0]  # batches posted so far
                chaos = Chaos(replicas, proxy, sink, victim, posted)
                chaos.start()
                for b in range(0, len(alerts), BATCH):
                    if posted[0] == HOLD_AT:  # the last batches wait for the kill: it falls mid-stream
                        chaos.killed.wait(60)
                    for am in ams:  # every alert to both, as a Prometheus configured with the pair does
                        status, body = request(am, "POST", "/api/v2/alerts", alerts[b:b + BATCH])
                        assert status == 200, body
                    posted[0] += 1
                    time.sleep(BATCH_PAUSE)
                chaos.join(90)
                assert chaos.done, f"the kill and restart did not happen: {chaos.error}"
                settled = wait_settled(replicas.bases[0], token, proxy, sink)
                records = [request(replicas.bases[0], "GET", f"/api/v1/investigations/{i['id']}", token=token)[1]
                           for i in all_items(replicas.bases[0], token)]
                return {"proxy": list(proxy.log), "sender_gone": proxy.sender_gone, "sink": list(sink.deliveries),
                        "records": records, "alerts": alerts, "settled": settled,
                        "seconds": time.monotonic() - started, "victim": victim, "killed_at": chaos.killed_at,
                        "batches_before_kill": chaos.batches_before_kill, "batches": posted[0],
                        "down_for": chaos.down_for}
        finally:
            if chaos is not None:  # never let it start a replica after the others are stopped
                chaos.cancelled.set()
                chaos.join(START_TIMEOUT)
            replicas.stop()
            (tmp / "replicas.log").write_text("\n".join(replicas.logs))


def all_items(base: str, token: str) -> list[dict[str, Any]]:
    status, page = request(base, "GET", "/api/v1/investigations?limit=500", token=token)
    assert status == 200, page
    assert page["total"] <= 500, "more investigations than one page: far more than the 100 groups"
    return page["items"]


def wait_settled(base: str, token: str, proxy: RoundRobinProxy, sink: NotificationSink) -> bool:
    """Wait until nothing moves: no webhook for 5 s (longer than Alertmanager's retry backoff between two
    attempts here), no notification for 1 s, nothing queued or running, no notification pending."""
    deadline = time.monotonic() + SETTLE
    while time.monotonic() < deadline:
        if proxy.idle_for() >= 5.0 and sink.idle_for() >= 1.0:
            items = all_items(base, token)
            busy = [i for i in items if i["status"] in ("queued", "running")
                    or any(n["status"] == "pending" for n in i["notifications"])]
            if items and not busy:
                return True
        time.sleep(0.25)
    return False


def outbox_rows(dsn: str) -> list[tuple[str, str, str, str, str]]:
    """(idempotency key, target, investigation, kind, status) of every outbox row, read from PostgreSQL
    itself: the API shows the rows but not their keys."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        return [tuple(r) for r in conn.execute(  # type: ignore[misc]
            "SELECT idem_key, target, investigation_id, kind, status FROM notifications ORDER BY id")]


@pytest.mark.parametrize("run", [1, 2, 3])
def test_two_replicas_behind_an_alertmanager_pair_lose_nothing_when_one_is_killed(run: int, postgres: Any,
                                                                                  tmp_path: Path) -> None:
    dsn = postgres.create_database(f"ha_run_{run}")
    seen = run_stack(run, dsn, tmp_path)
    seen["outbox"] = outbox_rows(dsn)
    why = f"(replica logs: {tmp_path / 'replicas.log'}; Alertmanager logs: {tmp_path}/am0, am1)"
    assert seen["settled"], f"the stack did not become quiet within {SETTLE:.0f} s {why}"
    stats = verify(seen)
    print(f"run {run}: {seen['seconds']:.1f} s, replica {seen['victim']} killed after batch {seen['batches_before_kill']}"
          f" of {seen['batches']} and down {seen['down_for']:.1f} s; {stats['webhooks']} webhooks "
          f"({stats['acknowledged']} acknowledged, {stats['refused']} to the dead replica), "
          f"{stats['investigations']} investigations, "
          f"{stats['notifications']} notifications, {stats['resent']} resent by key; slowest webhook "
          f"{max(f.seconds for f in seen['proxy']):.2f} s, {seen['sender_gone']} answered after Alertmanager gave up")


def verify(seen: dict[str, Any]) -> dict[str, int]:
    """Assert the guarantees of the module docstring on what the proxy, the receiver, the API and the
    outbox saw; returns counts for the log line."""
    records, forwarded, sink, posted = seen["records"], seen["proxy"], seen["sink"], seen["alerts"]

    # the kill happened mid-stream: the victim answered webhooks before it, alerts were still being posted,
    # and webhooks failed while it was down
    assert any(f.backend == seen["victim"] and f.status == 200 and f.at < seen["killed_at"] for f in forwarded)
    assert seen["batches_before_kill"] < seen["batches"], "the kill came after the last alert was posted"
    assert any(f.status == 502 for f in forwarded), "no webhook reached the killed replica while it was down"

    # every group: exactly one investigation, and it is done
    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        by_key[rec["groupKey"]].append(rec)
    expected = {group_key(a["labels"]["alertname"], a["labels"]["namespace"]) for a in posted}
    assert set(by_key) == expected
    assert [k for k, recs in by_key.items() if len(recs) != 1] == [], "a group opened two investigations"
    assert Counter(r["status"] for r in records) == Counter({"done": len(expected)})

    # every alert acknowledged with a 200 is stored in its group's investigation, firing
    stored = Counter((r["groupKey"], a["fingerprint"]) for r in records for a in r["alerts"])
    acked = {(f.group_key, fp) for f in forwarded if f.status == 200 for fp, _ in f.alerts}
    assert acked <= stored.keys(), f"acknowledged but not stored: {sorted(acked - stored.keys())[:5]}"
    assert len(acked) == len(posted), "Alertmanager retries until every alert is acknowledged"
    assert set(stored.values()) == {1} and len(stored) == len(posted), "each alert stored once"
    assert {a["status"] for r in records for a in r["alerts"]} == {"firing"}
    # ... and the ids a 200 named are the investigations that hold those alerts
    ids = {r["id"]: r["groupKey"] for r in records}
    assert all(ids.get(i) == f.group_key for f in forwarded if f.status == 200 for i in f.investigations)

    # notifications: each outbox row recorded as sent reached its target under its own key, nothing else did
    assert sink and all(d.key for d in sink), "every notification carries an Idempotency-Key"
    target = {"/slack": "slack", "/hook": "webhook"}
    kind = {"investigated": "result", "resolved": "resolved"}
    per_key: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    for d in sink:
        per_key[d.key].add((target[d.path], d.investigation, kind[d.event]))
    assert [k for k, what in per_key.items() if len(what) != 1] == [], "one key named two messages"
    outbox = seen["outbox"]
    assert [k for k, n in Counter(row[0] for row in outbox).items() if n > 1] == [], "two outbox rows, one key"
    assert {row[4] for row in outbox} == {"sent"}, "every notification sent, none pending or failed"
    assert {row[0]: (row[1], row[2], row[3]) for row in outbox} == {k: next(iter(v)) for k, v in per_key.items()}
    # the API agrees with the outbox, and each investigation's result reached both targets
    assert Counter((n["target"], r["id"], n["kind"]) for r in records for n in r["notifications"]
                   if n["status"] == "sent") == Counter((row[1], row[2], row[3]) for row in outbox)
    for r in records:
        assert {(n["target"], n["kind"]) for n in r["notifications"]} >= {("slack", "result"), ("webhook", "result")}
    return {"webhooks": len(forwarded), "acknowledged": sum(f.status == 200 for f in forwarded),
            "refused": sum(f.status == 502 for f in forwarded), "investigations": len(records),
            "notifications": len(per_key), "resent": len(sink) - len(per_key)}


# ------------------------------------------------------------------------------ the checks can fail
def small_world() -> dict[str, Any]:
    """What a good run of two groups of two alerts looks like to `verify`: one webhook lost to the dead
    replica and retried, one notification resent under its key."""
    alerts = [{"labels": {"alertname": "PodCrashLooping", "namespace": ns, "pod": p}}
              for ns in ("lfh-staging", "argocd") for p in ("a", "b")]
    keys = [group_key("PodCrashLooping", ns) for ns in ("lfh-staging", "argocd")]
    inv = {keys[0]: "inv-000000000001", keys[1]: "inv-000000000002"}
    records = [{"id": inv[k], "groupKey": k, "status": "done",
                "alerts": [{"fingerprint": f"{k}/{p}", "status": "firing"} for p in ("a", "b")],
                "notifications": [{"target": t, "kind": "result", "status": "sent"} for t in ("slack", "webhook")]}
               for k in keys]
    forwarded = [Forwarded(0, 200, keys[0], [(f"{keys[0]}/a", "firing")], [inv[keys[0]]]),
                 Forwarded(1, 502, keys[1], [(f"{keys[1]}/a", "firing"), (f"{keys[1]}/b", "firing")]),
                 Forwarded(0, 200, keys[1], [(f"{keys[1]}/a", "firing"), (f"{keys[1]}/b", "firing")], [inv[keys[1]]]),
                 Forwarded(1, 200, keys[0], [(f"{keys[0]}/a", "firing"), (f"{keys[0]}/b", "firing")], [inv[keys[0]]])]
    outbox = [(f"key-{i}-{t}", t, i, "result", "sent") for i in inv.values() for t in ("slack", "webhook")]
    sink = [Delivery({"slack": "/slack", "webhook": "/hook"}[t], key, i, "investigated") for key, t, i, _, _ in outbox]
    sink.append(sink[0])  # a resend: same key
    for f in forwarded:
        f.at = 5.0 if f.status == 502 else 1.0
    return {"records": records, "proxy": forwarded, "sink": sink, "alerts": alerts, "outbox": outbox, "victim": 0,
            "killed_at": 4.0, "batches_before_kill": 1, "batches": 2}


def test_verify_accepts_a_good_run() -> None:
    assert verify(small_world())["resent"] == 1


def _second_investigation(w: dict[str, Any]) -> None:
    w["records"].append({**w["records"][0], "id": "inv-000000000003"})


def _acked_not_stored(w: dict[str, Any]) -> None:
    w["records"][1]["alerts"].pop()


def _unfinished(w: dict[str, Any]) -> None:
    w["records"][0]["status"] = "running"


def _never_acknowledged(w: dict[str, Any]) -> None:
    w["proxy"][2].status = 502


def _second_key(w: dict[str, Any]) -> None:
    w["sink"].append(Delivery("/slack", "another-key", w["sink"][0].investigation, "investigated"))


def _key_without_header(w: dict[str, Any]) -> None:
    w["sink"][1].key = None


def _key_reused(w: dict[str, Any]) -> None:
    w["sink"].append(Delivery("/slack", w["sink"][0].key, "inv-000000000002", "investigated"))


def _sent_not_received(w: dict[str, Any]) -> None:
    w["sink"] = [d for d in w["sink"] if d.key != w["outbox"][3][0]]


def _nothing_refused(w: dict[str, Any]) -> None:
    w["proxy"].pop(1)


def _killed_after_the_stream(w: dict[str, Any]) -> None:
    w["batches_before_kill"] = w["batches"]


def _killed_before_it_took_anything(w: dict[str, Any]) -> None:
    w["killed_at"] = 0.5


@pytest.mark.parametrize("spoil", [_killed_after_the_stream, _killed_before_it_took_anything, _second_investigation,
                                   _acked_not_stored, _unfinished, _never_acknowledged, _second_key, _key_without_header,
                                   _key_reused, _sent_not_received, _nothing_refused])
def test_verify_catches(spoil: Any) -> None:
    world = small_world()
    spoil(world)
    with pytest.raises(AssertionError):
        verify(world)


# ------------------------------------------------------------------------------ what the HA runs found
def _webhook(group: str, pods: list[str]) -> dict[str, Any]:
    from server_harness import webhook_payload

    from sre_expert.edges.webhook.payload import parse_webhook, redacted

    parsed, errors = parse_webhook(webhook_payload([{"labels": {
        "alertname": "PodCrashLooping", "severity": "critical", "namespace": "lfh-staging", "pod": p}} for p in pods],
        group_key=group))
    assert not errors
    return redacted(parsed)


def _keys(dsn: str) -> list[tuple[str, str, str]]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        return [tuple(r) for r in conn.execute(  # type: ignore[misc]
            "SELECT target, root_key, idem_key FROM notifications ORDER BY id")]


def test_a_result_queued_late_and_the_next_result_get_different_keys(pg_dsn: str) -> None:
    """Found by run 1 above: a replica finishes generation 1, an alert of the group arrives (generation 2)
    before it queues its notifications, then generation 2 finishes with another root cause. Two messages;
    with the same key the receiver would drop the second as a repeat."""
    from sre_expert.edges.webhook.store import open_store

    store = open_store(pg_dsn, owner="replica-a")
    try:
        (inv,) = store.ingest(_webhook("g", ["api-1"]))
        job = store.claim()
        assert job and job["id"] == inv and store.finish(inv, job["generation"], {"rootCause": {"id": "R1"}})
        store.ingest(_webhook("g", ["api-1", "api-2"]))  # a new alert: queued again, generation 2
        store.enqueue_notifications(inv, [("slack", "http://hooks.example/1")], "R1")  # generation 1's, late
        job = store.claim()
        assert job and store.finish(inv, job["generation"], {"rootCause": {"id": "R2"}})
        store.enqueue_notifications(inv, [("slack", "http://hooks.example/1")], "R2")
    finally:
        store.close()
    rows = _keys(pg_dsn)
    assert [r[1] for r in rows] == ["R1", "R2"]
    assert len({r[2] for r in rows}) == 2, rows


def test_two_replicas_queueing_one_result_at_once_queue_it_once(pg_dsn: str) -> None:
    """The other half of run 1's finding: two replicas queueing the same result for one investigation at
    the same moment (one finished generation 1 late, the other generation 2 with the same root cause) make
    one outbox row per target, not two rows under one key."""
    from concurrent.futures import ThreadPoolExecutor

    from sre_expert.edges.webhook.store import open_store

    stores = [open_store(pg_dsn, owner=f"replica-{k}") for k in (0, 1)]
    try:
        invs = [stores[0].ingest(_webhook(f"g{i}", [f"api-{i}"]))[0] for i in range(30)]
        targets = [("slack", "http://hooks.example/1"), ("webhook", "http://hooks.example/2")]
        for inv in invs:
            gate = threading.Barrier(2)

            def enqueue(k: int, inv: str = inv) -> int:
                gate.wait()
                return stores[k].enqueue_notifications(inv, targets, "R1")

            with ThreadPoolExecutor(2) as pool:
                assert sum(pool.map(enqueue, (0, 1))) == len(targets), inv
    finally:
        for s in stores:
            s.close()
    rows = _keys(pg_dsn)
    assert len(rows) == len(invs) * len(targets)
