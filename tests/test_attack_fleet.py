"""Attacks on the many-cluster and PostgreSQL `serve` and on fleet `check`: each test here failed before
its fix (passwords in messages, terminal escapes in names, …)."""

from __future__ import annotations

import pytest
from pg_harness import pg_dsn  # noqa: F401 - fixture

from sre_expert.edges.webhook.store import StoreError, describe_db, open_store

pytestmark = pytest.mark.e2e

SECRET = "S3cr3tPw"


# ------------------------------------------------------------------------------ DSN passwords
@pytest.mark.parametrize("dsn", [
    f"postgresql://sre:{SECRET}#x@127.0.0.1:1/sre",  # libpq reads `#` as part of the password
    f"postgresql://sre:{SECRET}?x@127.0.0.1:1/sre",  # and `?` (it looks for `@` before any `/`)
    f"postgresql://sre:{SECRET}/x@127.0.0.1:1/sre",  # an unencoded `/`: libpq fails, the message must not tell
    f"postgresql://sre@127.0.0.1:1/sre?password={SECRET}",  # libpq takes the password as a parameter too
    f"postgresql://sre@127.0.0.1:1/sre?sslmode=disable&PassWord={SECRET}&connect_timeout=1",
    f"postgres://sre:{SECRET}@127.0.0.1:notaport/sre",  # urlsplit's .port raised ValueError: a traceback
    f"postgresql://sre:{SECRET}@[::1:1/sre",  # urlsplit: "Invalid IPv6 URL"
])
def test_describe_db_never_shows_the_password_nor_raises(dsn: str) -> None:
    shown = describe_db(dsn)
    assert SECRET not in shown and "***" in shown
    assert shown.startswith(dsn.split("://")[0] + "://sre")


def test_describe_db_keeps_what_has_no_password() -> None:
    assert describe_db("postgresql://sre@db.example.org:5432/sre?sslmode=require") == \
        "postgresql://sre@db.example.org:5432/sre?sslmode=require"
    assert describe_db("postgresql://sre:pw@db.example.org:5432/sre?sslmode=require") == \
        "postgresql://sre:***@db.example.org:5432/sre?sslmode=require"
    assert describe_db("postgresql:///sre?host=/run/postgresql") == "postgresql:///sre?host=/run/postgresql"


@pytest.mark.parametrize("dsn", [
    f"postgresql://sre:{SECRET}%zz@127.0.0.1:1/sre",  # libpq: invalid percent-encoded token: "<password>"
    f"postgresql://sre:{SECRET}@127.0.0.1:notaport/sre",
    f"postgresql://sre:{SECRET}#x@127.0.0.1:1/sre",
    f"postgresql://sre@127.0.0.1:1/sre?password={SECRET}%zz",
])
def test_a_dsn_libpq_refuses_is_a_store_error_without_the_password(dsn: str) -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(StoreError) as err:
        open_store(dsn)
    assert SECRET not in str(err.value)


# ------------------------------------------------------------------------------ serve's log lines
def test_a_cluster_label_naming_no_cluster_cannot_forge_log_lines_nor_reach_the_terminal(
        tmp_path, caplog: pytest.LogCaptureFixture) -> None:
    """The label's value is quoted in the failure (so the operator sees which cluster was named), and it
    is whatever the alert's sender wrote: a newline there forged a second log line, ESC drove the terminal
    of whoever tails the log."""
    import logging

    from server_harness import webhook_payload

    from sre_expert.edges.webhook.clusters import Clusters, ClusterSource
    from sre_expert.edges.webhook.payload import parse_webhook, redacted
    from sre_expert.edges.webhook.store import Store
    from sre_expert.edges.webhook.worker import SourceCache, WorkerPool
    from sre_expert.sources.resolve import open_source

    forged = "x\n2026-12-06 03:00:00,000 INFO sre_expert.edges.webhook: investigation inv-0 done: ALL CLEAR\x1b]52;c;cm0=\x07"
    store = Store(str(tmp_path / "db.sqlite"))
    try:
        payload, errors = parse_webhook(webhook_payload(
            [{"labels": {"alertname": "KubePodCrashLooping", "namespace": "lfh-staging", "pod": "p", "cluster": forged}}],
            group_key="g"))
        assert not errors
        (inv,) = store.ingest(redacted(payload))
        sources = [ClusterSource("prod", loader=lambda: open_source(None, True, progress=False)),
                   ClusterSource("staging", loader=lambda: open_source(None, True, progress=False))]
        clusters = Clusters(sources, {s.name: SourceCache(s.make_loader(), None) for s in sources}, "cluster")
        pool = WorkerPool(store, clusters, workers=1)
        with caplog.at_level(logging.INFO, logger="sre_expert.edges.webhook"):
            job = store.claim()
            assert job is not None and job["id"] == inv
            pool.run_one(job)
        record = store.get(inv)
    finally:
        store.close()
    assert record["status"] == "failed" and "names no configured cluster" in record["error"]
    (line,) = [r.getMessage() for r in caplog.records if inv in r.getMessage()]
    assert "\n" not in line and "\x1b" not in line and "\x07" not in line
    assert "x\\n2026-12-06" in line  # still says what the label held, escaped


# ------------------------------------------------------------------------------ fleet check output
HOSTILE = "/tmp/x\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\\x1b[2J\x01\u202e"
BAD = ("\x1b", "\x01", "\u202e")


def _unreadable_fleet():
    from sre_expert.render.fleet_view import Member, check_fleet

    def load(m: Member):
        raise OSError(f"{m.bundle}: no such file or directory (token=hunter2hunter2hunter2)")

    return check_fleet([Member(HOSTILE, bundle=HOSTILE), Member("b", bundle="b")], load)


def test_fleet_terminal_output_spells_out_controls_in_names_and_errors() -> None:
    """A member is named after its context or path, and its error may quote what an API server answered:
    both reached the terminal raw (OSC 8 forged a link, CSI 2J cleared the screen), and the error
    unredacted, while the JSON document redacted it."""
    import io

    from rich.console import Console

    from sre_expert.render.fleet_view import render_fleet_terminal

    for terminal in (False, True):
        buf = io.StringIO()
        render_fleet_terminal(_unreadable_fleet(), Console(file=buf, force_terminal=terminal, width=200,
                                                           color_system=None))
        text = buf.getvalue()
        assert not any(b in text for b in BAD), repr(text)
        assert "hunter2" not in text
        assert "\\x1b]8;;http://evil" in text  # still says what the name held


def test_fleet_markdown_and_junit_spell_out_controls() -> None:
    import xml.etree.ElementTree as ET

    from sre_expert.render.fleet_view import render_fleet_ci, render_fleet_markdown

    md = render_fleet_markdown(_unreadable_fleet())
    assert not any(b in md for b in BAD) and "hunter2" not in md
    xml = render_fleet_ci(_unreadable_fleet(), "junit", fail_on="warning")
    root = ET.fromstring(xml)  # raw controls made it not well-formed: a CI could not read the report at all
    names = [ts.get("name") for ts in root.iter("testsuite")]
    assert names[0].startswith("sre-expert check /tmp/x\\x1b") and not any(b in xml.decode() for b in BAD)


def test_named_lines_spell_out_controls() -> None:
    import io

    from sre_expert.render.fleet_view import NamedLines

    out = io.StringIO()
    stream = NamedLines("ctx\x1b[2J", out)
    stream.write("read 10 pods; the API server said \x1b]52;c;cm0=\x07\n")
    assert "\x1b" not in out.getvalue() and "\x07" not in out.getvalue()
    assert out.getvalue().startswith("ctx\\x1b[2J: read 10 pods")


# ------------------------------------------------------------------------------ PostgreSQL and NUL
def test_a_nul_in_an_alerts_cluster_group_key_or_fingerprint_is_stored_on_postgresql(pg_dsn: str) -> None:
    """JSON allows \\u0000 and SQLite stores it; PostgreSQL's text refuses it. The webhook answered 500, so
    Alertmanager resent the group for ever and none of its alerts was stored; ?cluster= with a NUL was a
    500 on every page."""
    from server_harness import webhook_payload

    from sre_expert.edges.webhook.payload import parse_webhook, redacted

    alerts = [{"labels": {"alertname": "KubePodCrashLooping", "namespace": "lfh-staging", "pod": "p",
                          "cluster": "prod\x00x"}, "fingerprint": "f\x00"},
              {"labels": {"alertname": "KubePodCrashLooping", "namespace": "lfh-staging", "pod": "q",
                          "cluster": "prod\x00x"}}]
    payload, errors = parse_webhook(webhook_payload(alerts, group_key="{}:{alertname=\"A\x00\"}"))
    assert not errors
    store = open_store(pg_dsn)
    try:
        (inv,) = store.ingest(redacted(payload))
        again = store.ingest(redacted(payload))  # the resend merges, as it does on SQLite
        record = store.get(inv)
        items, total = store.list(cluster="prod\x00x")
    finally:
        store.close()
    assert again == [inv] and record["alertsTotal"] == 2
    assert total == 1 and items[0]["id"] == inv  # the filter finds what the label named


# ------------------------------------------------------------------------------ PostgreSQL: clock skew
def test_leases_are_on_the_database_clock_so_a_replica_whose_clock_is_off_neither_steals_nor_stalls(
        pg_dsn: str) -> None:
    """Each replica wrote and compared `lease_until` on its own wall clock: one running 10 minutes ahead
    queued a live replica's investigation again (run twice), and the leases it wrote kept its work from
    the others for 10 minutes after it died. Both now read the database server's clock."""
    from datetime import UTC, datetime, timedelta

    from test_server_pgstore import payload

    from sre_expert.edges.webhook.pgstore import PostgresStore

    shift = [0.0]  # seconds `late` moves on after it measured the database clock

    def ahead() -> datetime:
        return datetime.now(UTC) + timedelta(minutes=10)

    def late() -> datetime:
        return datetime.now(UTC) + timedelta(seconds=shift[0])

    # db_clock: as without a clock of the test's (the clocks here stand for the machines' wall clocks)
    good = PostgresStore(pg_dsn, lease=600, owner="good", clock=late, db_clock=True)  # its own --lease-seconds
    fast = PostgresStore(pg_dsn, lease=60, owner="fast", clock=ahead, db_clock=True)
    try:
        first = good.ingest(payload("g1", ["p1"]))[0]
        job = good.claim()
        assert job is not None and job["id"] == first
        assert fast.requeue_expired() == 0  # good's lease has 10 minutes left on the one clock that counts
        second = fast.ingest(payload("g2", ["p2"]))[0]
        job = fast.claim()
        assert job is not None and job["id"] == second
        shift[0] = 61.0  # fast died; a minute and a bit later its lease has expired for everyone
        assert good.requeue_expired() == 1
        assert good.get(second)["status"] == "queued" and good.get(first)["status"] == "running"
    finally:
        good.close()
        fast.close()


# ------------------------------------------------------------------------------ Slack webhook URL
HOOK_SECRET = "xoxHookSecretPart0123456789"


def test_a_notification_error_never_stores_the_target_url(tmp_path) -> None:
    """A webhook URL is a credential (Slack's path is its secret). A URL urllib refuses (a space pasted into
    it, no scheme) came back quoted in the error, stored as the notification's lastError and shown to every
    reader of the API and the page; redaction knows a whole Slack URL, not its path alone."""
    from server_harness import webhook_payload

    from sre_expert.edges.webhook.notify import Notifier, post_json
    from sre_expert.edges.webhook.payload import parse_webhook, redacted
    from sre_expert.edges.webhook.store import Store

    store = Store(str(tmp_path / "db.sqlite"))
    try:
        payload, _ = parse_webhook(webhook_payload(
            [{"labels": {"alertname": "A", "namespace": "n", "pod": "p"}}], group_key="g"))
        (inv,) = store.ingest(redacted(payload))
        store.enqueue_notifications(inv, [("slack", f"http://127.0.0.1:9/services/T0123/B0456 /{HOOK_SECRET}"),
                                          ("webhook", f"hooks.example.org/notify/{HOOK_SECRET}")], None)
        Notifier(store, external_url=None, max_attempts=1, sender=post_json).send_due()
        notes = store.get(inv)["notifications"]
    finally:
        store.close()
    assert [n["status"] for n in notes] == ["failed", "failed"]
    assert all(n["lastError"] and HOOK_SECRET not in n["lastError"] for n in notes), notes


@pytest.mark.parametrize("flag", ["--slack-webhook", "--webhook"])
@pytest.mark.parametrize("url", [f"https://hooks.slack.com/services/T0/B0/{HOOK_SECRET}\n",
                                 f"hooks.slack.com/services/T0/B0/{HOOK_SECRET}", f"file:///etc/{HOOK_SECRET}"])
def test_serve_refuses_a_notification_url_it_could_never_post_to_without_echoing_it(
        flag: str, url: str, tmp_path) -> None:
    from typer.testing import CliRunner

    from sre_expert.edges.cli.main import app

    r = CliRunner().invoke(app, ["serve", "--demo", "--insecure-no-auth", "--port", "0", "--db",
                                 str(tmp_path / "db.sqlite"), flag, url])
    assert r.exit_code == 2, r.output
    assert flag in r.output and "URL" in r.output and HOOK_SECRET not in r.output


# ------------------------------------------------------------------------------ the DSN in argv
def test_a_password_in_the_db_argument_is_warned_about_and_the_env_is_not(tmp_path, monkeypatch) -> None:
    """`--db postgresql://u:pw@…` puts the password in the argv every user of the machine reads with `ps`
    (and in the shell history): say so, and where it belongs; SRE_EXPERT_DB (a Secret) is the advice."""
    from pg_harness import free_port
    from typer.testing import CliRunner

    from sre_expert.edges.cli.main import app

    dsn = f"postgresql://sre:{SECRET}@127.0.0.1:{free_port()}/sre"
    monkeypatch.delenv("SRE_EXPERT_DB", raising=False)
    r = CliRunner().invoke(app, ["serve", "--demo", "--insecure-no-auth", "--port", "0", "--db", dsn])
    assert r.exit_code == 2  # nothing listens there
    assert "warning" in r.output and "ps" in r.output and "SRE_EXPERT_DB" in r.output and SECRET not in r.output
    r = CliRunner().invoke(app, ["serve", "--demo", "--insecure-no-auth", "--port", "0"], env={"SRE_EXPERT_DB": dsn})
    assert r.exit_code == 2 and "warning" not in r.output and SECRET not in r.output
    r = CliRunner().invoke(app, ["serve", "--demo", "--insecure-no-auth", "--port", "0", "--db",
                                 dsn.replace(f":{SECRET}", "")])
    assert "warning" not in r.output  # no password in it (PGPASSWORD or ~/.pgpass give it)


# ------------------------------------------------------------------------------ a cluster that is down
def test_a_live_cluster_that_cannot_be_read_is_tried_once_per_retry_window_not_once_per_investigation() -> None:
    """Each investigation of a cluster whose API server hangs tried a fresh read (a minute of timeouts),
    one after the other, holding every worker: the other clusters' investigations waited behind them for
    as long as that cluster had alerts queued. After a failed first read, the next ones in the retry window
    fail at once with its error; a worker that waited for the failed read does not read again."""
    import threading

    from sre_expert.edges.webhook.worker import SourceCache
    from sre_expert.sources.resolve import open_source

    now = [0.0]
    calls = []
    entered, release = threading.Event(), threading.Event()

    def loader():
        calls.append(now[0])
        if len(calls) == 1:
            entered.set()
            release.wait(30)
            raise OSError("cannot reach the API server at https://10.0.0.1:6443: timed out")
        if len(calls) == 2:
            raise OSError("cannot reach the API server at https://10.0.0.1:6443: connection refused")
        return open_source(None, True, progress=False)

    cache = SourceCache(loader, 30.0, clock=lambda: now[0], retry_failed=10.0)
    errors: list[str] = []

    def investigate() -> None:
        try:
            cache.get()
        except Exception as e:
            errors.append(str(e))

    first = threading.Thread(target=investigate)
    first.start()
    assert entered.wait(30)
    second = threading.Thread(target=investigate)  # waits for the read in progress
    second.start()
    release.set()
    first.join(30)
    second.join(30)
    for _ in range(5):
        investigate()  # within the window: no read
    assert len(calls) == 1 and len(errors) == 7 and all("timed out" in e for e in errors), (calls, errors)
    now[0] = 10.0
    investigate()  # the window has passed: read again
    assert len(calls) == 2 and "connection refused" in errors[-1]
    now[0] = 20.0
    snap, _ = cache.get()
    assert snap is not None and len(calls) == 3 and cache.last_error is None
