"""The serve pages in a real browser (headless Chromium over CDP, see browser.py).

(a) Pages rendered from realistic records (the demo platform diagnosed) and served from a loopback
    http.server: content, drawing, zero console errors or exceptions, zero requests leaving the machine,
    no horizontal overflow at 1280 px and on a phone, light and dark themes, screenshots.
(b) End to end against `sre-expert serve --demo` started by tests/server_harness.py: an alert posted with
    the token, the investigation listed and shown with the right root cause, the cookie login, and no data
    without the token.

Chromium missing is a failure, not a skip: CI installs it.
"""

from __future__ import annotations

import copy
import json
import stat
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from browser import Chromium, Page
from test_server_pages import demo_record, hostile_record, pending_record

from sre_expert.render import pages
from sre_expert.render.chain_view import object_text

pytestmark = [pytest.mark.e2e, pytest.mark.needs("chromium")]

PHONE = (390, 844)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


# ------------------------------------------------------------------------------------------- fixtures


class _Site:
    """Static HTML documents served from 127.0.0.1 on an ephemeral port (anything else is a 404)."""

    def __init__(self) -> None:
        self.docs: dict[str, str] = {}
        docs = self.docs

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                body = docs.get(self.path)
                data = (body if body is not None else "not found").encode()
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8" if body is not None else "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def put(self, path: str, html: str) -> str:
        self.docs[path] = html
        return self.base + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    with Chromium() as b:
        yield b


@pytest.fixture(scope="module")
def site() -> Iterator[_Site]:
    s = _Site()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def page(browser: Chromium) -> Iterator[Page]:
    p = browser.new_page()
    try:
        yield p
    finally:
        browser.send("Target.closeTarget", {"targetId": p.target})


def open_clean(page: Page, url: str) -> None:
    page.navigate(url)
    problems = page.problems()
    assert not problems, problems.lines()


def no_horizontal_overflow(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"page is {widths[0]}px wide in a {widths[1]}px viewport"


# Layout read from the browser: each chain box with its rectangle and, for every text run inside it, the run's
# rectangle (a Range over the text node: the glyphs drawn, not the element's box) and its computed font size.
CHAIN_BOXES = """[...document.querySelectorAll('ol.chain li.node')].map(li => {
  const box = li.querySelector('.box').getBoundingClientRect();
  const walker = document.createTreeWalker(li.querySelector('.box'), NodeFilter.SHOW_TEXT);
  const runs = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim() || n.parentElement.closest('details:not([open]) > :not(summary)')) continue;
    const r = document.createRange(); r.selectNodeContents(n); const b = r.getBoundingClientRect();
    runs.push({text: n.textContent, left: b.left, right: b.right, top: b.top, bottom: b.bottom,
               px: parseFloat(getComputedStyle(n.parentElement).fontSize)});
  }
  return {code: li.dataset.code, left: box.left, right: box.right, top: box.top, bottom: box.bottom,
          width: box.width, runs};
})"""


def check_chain_layout(page: Page, *, min_px: float = 12.0) -> list[dict[str, Any]]:
    """Boxes top to bottom without overlap; every text run inside its box, drawn at min_px or more."""
    boxes = page.evaluate(CHAIN_BOXES)
    assert boxes, "no chain drawn"
    for upper, lower in zip(boxes, boxes[1:]):
        assert upper["bottom"] < lower["top"], (upper["code"], lower["code"])
    for b in boxes:
        for r in b["runs"]:
            assert b["left"] <= r["left"] and r["right"] <= b["right"] + 0.5, (b["code"], r["text"][:60])
            assert b["top"] <= r["top"] and r["bottom"] <= b["bottom"] + 0.5, (b["code"], r["text"][:60])
            assert r["px"] >= min_px, (b["code"], r["text"][:60], r["px"])
    return boxes


# ------------------------------------------------------------------------------------------- (a) pages


def test_investigation_page_renders_cleanly(page: Page, site: _Site, tmp_path: Path):
    rec = demo_record()
    open_clean(page, site.put("/investigations/inv-0123456789ab", pages.render_investigation(rec)))
    assert page.title().startswith("DONE · PodCrashLooping · mycure-production")
    chain = rec["chain"]
    # the boxes are drawn top to bottom in chain order, do not overlap, and hold their whole text
    boxes = check_chain_layout(page, min_px=12)
    assert [b["code"] for b in boxes] == [f["code"] for f in chain]
    assert all(b["width"] > 600 for b in boxes), "boxes are drawn at a readable width at 1280 px"
    # the key error of each box is on the page whole, inside its box
    for b, f in zip(boxes, chain):
        assert f["title"] in "".join(r["text"] for r in b["runs"])
    # the "causes" arrow sits between two boxes
    arrows = page.evaluate("[...document.querySelectorAll('ol.chain li.node + li.node')].map(li => "
                           "getComputedStyle(li, '::before').content)")
    assert arrows == ['"↓ causes"'] * (len(chain) - 1)
    # ...on the page's background, not the boxes' colour
    assert page.evaluate("[...document.querySelectorAll('ol.chain li.node')].every(li => "
                         "getComputedStyle(li).backgroundColor === 'rgba(0, 0, 0, 0)')")
    text = page.text()
    root = rec["rootCause"]
    assert f"Root cause: {root['code']}" in text
    evidence = page.evaluate("[...document.querySelectorAll('#h-root ~ ul.evidence li')].map(li => li.innerText)")
    assert evidence == root["evidence"]
    assert page.count("#h-root ~ ol.steps li[data-safety]") == len(root["remediation"])
    assert "alertname=PodCrashLooping" in text
    no_horizontal_overflow(page)
    shot = page.screenshot(tmp_path / "investigation.png")
    width, height = png_size(shot)
    assert width == 1280 and height > 900 and shot.stat().st_size > 20_000


def test_investigation_page_on_a_phone_and_in_dark_mode(page: Page, site: _Site, tmp_path: Path):
    rec = demo_record()
    url = site.put("/investigations/inv-phone", pages.render_investigation(rec))
    page.set_viewport(*PHONE)
    page.color_scheme("dark")
    open_clean(page, url)
    no_horizontal_overflow(page)
    # before: an SVG scaled down to the phone, its text ~5 px; now boxes whose text wraps at 12 px and more
    boxes = check_chain_layout(page, min_px=12)
    assert all(300 < b["width"] and b["right"] <= PHONE[0] for b in boxes)
    for b, f in zip(boxes, rec["chain"]):
        assert f["title"] in "".join(r["text"] for r in b["runs"])
    bg, fg = page.evaluate("(() => { const s = getComputedStyle(document.body); return [s.backgroundColor, s.color] })()")
    assert bg == "rgb(17, 19, 23)" and fg == "rgb(232, 234, 237)"
    box_fill = page.evaluate("getComputedStyle(document.querySelector('ol.chain .root .box')).backgroundColor")
    assert box_fill == "rgb(74, 22, 24)"  # the dark critical background, not the light one
    # the header keeps one line: brand, where, sign-out side by side, none wrapped or overlapping
    head = page.evaluate("[...document.querySelectorAll('header.top .brand, header.top .where, header.top button')]"
                         ".map(e => { const r = e.getBoundingClientRect(); return [r.left, r.right, r.height] })")
    assert len(head) == 3 and all(h[2] < 40 for h in head), head
    assert head[0][1] <= head[1][0] and head[1][1] <= head[2][0] and head[2][1] <= PHONE[0], head
    png_size(page.screenshot(tmp_path / "investigation-phone-dark.png"))


def test_list_page_renders_cleanly(page: Page, site: _Site, tmp_path: Path):
    recs = [demo_record(inv_id="inv-aaaaaaaaaaaa"), pending_record("running"),
            pending_record("failed", error="source unreadable: connection refused")]
    recs[1]["id"], recs[2]["id"] = "inv-bbbbbbbbbbbb", "inv-cccccccccccc"
    open_clean(page, site.put("/", pages.render_list(recs, total=3, status=None)))
    assert page.title() == "Investigations · sre-expert"
    assert page.count("table.investigations tbody tr") == 3
    hrefs = page.evaluate("[...document.querySelectorAll('tbody tr td.what a')].map(a => a.getAttribute('href'))")
    assert hrefs == ["/investigations/inv-aaaaaaaaaaaa", "/investigations/inv-bbbbbbbbbbbb",
                     "/investigations/inv-cccccccccccc"]
    assert "source unreadable: connection refused" in page.text("tbody")
    no_horizontal_overflow(page)
    png_size(page.screenshot(tmp_path / "list.png"))
    page.set_viewport(*PHONE)
    no_horizontal_overflow(page)
    # on a phone each row is a card
    assert page.evaluate("getComputedStyle(document.querySelector('tbody td')).display") == "block"
    png_size(page.screenshot(tmp_path / "list-phone.png"))


CELLS = """[...document.querySelectorAll('table.investigations tbody td')].map(td => {
  const r = td.getBoundingClientRect();
  return {cls: td.className, left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width,
          scroll: td.scrollWidth, client: td.clientWidth, px: parseFloat(getComputedStyle(td).fontSize)};
})"""


def test_list_gives_the_summary_the_room(page: Page, site: _Site, tmp_path: Path):
    """Before: at 1280 px the Summary column was ~130-225 px, one or two words a line, and five
    investigations made a page 2,452-6,316 px tall."""
    recs = [demo_record(inv_id=f"inv-aaaaaaaaaa{i:02d}") for i in range(4)] + [pending_record("running")]
    open_clean(page, site.put("/five", pages.render_list(recs, total=5, status=None)))
    table = page.evaluate("document.querySelector('table.investigations').getBoundingClientRect().width")
    cells = page.evaluate(CELLS)
    summaries = [c for c in cells if c["cls"] == "summary"]
    assert len(summaries) == 5
    assert all(c["width"] >= 0.45 * table and c["width"] >= 500 for c in summaries), (table, summaries[0])
    line = page.evaluate("parseFloat(getComputedStyle(document.querySelector('td.summary')).lineHeight)")
    text_h = page.evaluate("(() => { const r = document.createRange();"
                           "r.selectNodeContents(document.querySelector('td.summary'));"
                           "return r.getBoundingClientRect().height })()")
    assert text_h / line <= 8, f"the summary takes {text_h / line:.0f} lines"
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= 1300, f"five investigations make a {height}px page"
    # nothing spills out of its cell (a nowrap time wider than its column would)
    assert all(c["scroll"] <= c["client"] for c in cells), [c for c in cells if c["scroll"] > c["client"]]
    no_horizontal_overflow(page)
    png_size(page.screenshot(tmp_path / "list-five.png"))

    # on a phone: stacked cards, full width, readable, in reading order, nothing off screen
    page.set_viewport(*PHONE)
    no_horizontal_overflow(page)
    cells = page.evaluate(CELLS)
    assert all(c["left"] >= 0 and c["right"] <= PHONE[0] for c in cells)
    assert all(c["px"] >= 12 for c in cells)
    assert all(c["scroll"] <= c["client"] for c in cells)
    first = cells[:4]  # state, alert, summary, time of the first row: one under the other
    assert [c["cls"] for c in first] == ["state", "what", "summary", "when"]
    for upper, lower in zip(first, first[1:]):
        assert upper["bottom"] <= lower["top"] + 0.5
    assert all(c["width"] >= 340 for c in first)
    png_size(page.screenshot(tmp_path / "list-five-phone.png"))


def test_hostile_record_runs_nothing(page: Page, site: _Site):
    rec = hostile_record()
    for path, doc in (("/investigations/hostile", pages.render_investigation(rec)),
                      ("/hostile-list", pages.render_list([rec], total=1, status=None))):
        open_clean(page, site.put(path, doc))  # an alert() would show up as a dialog problem
        assert page.count("script") == 0 and page.count("img") == 0
        assert '<script>alert("x")</script>"><img src=x onerror=alert(1)>' in page.text()


def test_pages_without_diagnosis(page: Page, site: _Site):
    failed = pending_record("failed", error="snapshot: cannot list pods: connection refused")
    open_clean(page, site.put("/investigations/failed", pages.render_investigation(failed)))
    assert page.count("svg") == 0 and page.count("ol.chain") == 0
    assert "snapshot: cannot list pods: connection refused" in page.text("[role=alert]")
    resolved = demo_record(status="resolved")
    resolved["resolvedAt"] = "2026-11-26T03:30:00Z"
    open_clean(page, site.put("/investigations/resolved", pages.render_investigation(resolved)))
    assert "The alert resolved at 2026-11-26 03:30:00 UTC." in page.text("[role=status]")
    assert page.count("ol.chain li.node") == len(resolved["chain"])


def test_long_chain_fits(page: Page, site: _Site, tmp_path: Path):
    rec = demo_record()
    chain = []
    for i in range(12):
        f = copy.deepcopy(rec["chain"][i % len(rec["chain"])])
        f["id"] = f"F{i}"
        f["object"] = dict(f["object"], name=f"{f['object']['name']}-{i:02d}-" + "long" * 30)
        chain.append(f)
    rec.update(chain=chain, rootCause=chain[0])
    open_clean(page, site.put("/investigations/long", pages.render_investigation(rec)))
    for width in (1280, PHONE[0]):
        page.set_viewport(width, 900)
        boxes = check_chain_layout(page)
        assert len(boxes) == 12
        no_horizontal_overflow(page)
        # the long names wrap inside their boxes, whole
        assert object_text(chain[5]["object"]) in "".join(r["text"] for r in boxes[5]["runs"])
        png_size(page.screenshot(tmp_path / f"long-chain-{width}.png"))


def test_login_page(page: Page, site: _Site):
    open_clean(page, site.put("/login", pages.render_login("Wrong token.")))
    assert page.title() == "Sign in · sre-expert"
    assert page.evaluate("document.activeElement.id") == "token"
    assert page.evaluate("document.querySelector('form').getAttribute('action')") == "/login"
    assert page.text("[role=alert]") == "Wrong token."


# ------------------------------------------------------------------------------------------- (b) end to end


def _alert_payload(now: str) -> dict[str, Any]:
    """Alertmanager's webhook body (version 4) for APIDown on the demo's broken api Service."""
    labels = {"alertname": "APIDown", "severity": "critical", "namespace": "mycure-production",
              "service": "api", "job": "api", "prometheus": "monitoring/kube-prometheus-prometheus"}
    return {
        "version": "4", "status": "firing", "receiver": "sre-expert", "truncatedAlerts": 0,
        "groupKey": '{}/{severity="critical"}:{alertname="APIDown"}', "groupLabels": {"alertname": "APIDown"},
        "commonLabels": labels,
        "commonAnnotations": {"summary": "API is down", "description": "api has no ready endpoint <b>now</b>"},
        "externalURL": "http://alertmanager.monitoring:9093",
        "alerts": [{"status": "firing", "labels": labels,
                    "annotations": {"summary": "API is down", "description": "api has no ready endpoint <b>now</b>"},
                    "startsAt": now, "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus.monitoring:9090/graph?g0.expr=up",
                    "fingerprint": "5c1c9a0e2b7d4f31"}],
    }


def test_serve_end_to_end(browser: Chromium, tmp_path: Path):
    from server_harness import output, request, start_serve, stop_serve, wait_for, wait_until

    from sre_expert.diagnosis.engine import diagnose
    from sre_expert.sources.resolve import open_source

    base, token, proc = start_serve(tmp_path / "sre-expert.db", args=("--demo",))
    try:
        status, accepted = request(base, "POST", "/api/v1/alerts",
                                   _alert_payload(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())), token=token)
        assert status == 200, accepted
        (inv_id,) = accepted["investigations"]
        record = wait_for(base, token, inv_id, timeout=120)
        assert record["status"] == "done", record.get("error")
        root = record["rootCause"]
        assert root and root["rootCause"]
        # the root cause is one the engine itself finds for the demo, and the chain ends at the alerted Service
        demo = diagnose(open_source(None, True, None, None, progress=False))
        assert root["id"] in {f.id for f in demo.findings if f.root_cause}
        assert record["chain"][0]["id"] == root["id"]
        assert record["chain"][-1]["object"] == {"apiVersion": "v1", "kind": "Service",
                                                 "namespace": "mycure-production", "name": "api"}
        # the CLI: the database only its owner can read, and one log line per alert and per investigation
        assert stat.S_IMODE((tmp_path / "sre-expert.db").stat().st_mode) == 0o600
        # (the worker logs just after it stores the result: wait for the line, bounded)
        log = wait_until(lambda: f"investigation {inv_id} done: root cause:" in output(proc) and output(proc),
                         "the investigation's log line")
        assert f"alert received: APIDown firing mycure-production/api fingerprint=5c1c9a0e2b7d4f31 " \
               f"investigation={inv_id}" in log
        assert token not in log

        # without the token: the login form (or a 401), never data
        anon = browser.new_page()
        try:
            for path in ("/", f"/investigations/{inv_id}"):
                anon.navigate(base + path)
                text = anon.text()
                assert inv_id not in text and "APIDown" not in text and root["code"] not in text
                assert anon.count("form[action='/login'] input[name=token]") == 1 or anon.document_status() == 401
            # a wrong token is refused and sets no cookie
            anon.navigate(f"{base}/login")
            anon.evaluate("document.querySelector('input[name=token]').value = 'not-the-token';"
                          "document.querySelector('form').submit(); true")
            anon.wait_load()
            assert "wrong token" in anon.text("[role=alert]")
            assert not [c for c in anon.cookies(base) if c["name"].startswith("sre_expert")]
        finally:
            browser.send("Target.closeTarget", {"targetId": anon.target})

        # sign in through the form: the server sets the HttpOnly cookie and redirects to the list
        page = browser.new_page()
        try:
            page.navigate(f"{base}/login")
            page.evaluate(f"document.querySelector('input[name=token]').value = {json.dumps(token)};"
                          "document.querySelector('form').submit(); true")
            page.wait_load()
            cookie = {c["name"]: c for c in page.cookies(base)}["sre_expert_session"]
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
            assert cookie["value"] != token and token not in json.dumps(page.cookies(base))
            assert page.evaluate("location.pathname") == "/"
            problems = page.problems()
            assert not problems, problems.lines()
            assert page.count(f"a[href='/investigations/{inv_id}']") == 1
            assert "APIDown" in page.text("table") and "done" in page.text("table").lower()

            page.navigate(f"{base}/investigations/{inv_id}")
            problems = page.problems()
            assert not problems, problems.lines()
            assert page.title().startswith("DONE · APIDown")
            assert page.count("ol.chain li.node") == len(record["chain"])
            codes = page.evaluate("[...document.querySelectorAll('ol.chain li.node')].map(g => g.dataset.code)")
            assert codes == [f["code"] for f in record["chain"]]
            assert f"Root cause: {root['code']}" in page.text()
            evidence = page.evaluate("[...document.querySelectorAll('#h-root ~ ul.evidence li')].map(l => l.innerText)")
            assert evidence == root["evidence"]
            # the annotation's markup is shown as text, not interpreted
            assert "api has no ready endpoint <b>now</b>" in page.text("section[aria-labelledby=h-alerts]")
            assert page.count("section[aria-labelledby=h-alerts] b") == 0
            # links out, from what Alertmanager sent: the rule's graph, the group and a silence for it
            hrefs = page.evaluate("Object.fromEntries([...document.querySelectorAll('ul.links a')]"
                                  ".map(a => [a.textContent, a.href]))")
            assert hrefs["Graph in Prometheus"] == "http://prometheus.monitoring:9090/graph?g0.expr=up"
            assert hrefs["The group in Alertmanager"].startswith("http://alertmanager.monitoring:9093/#/alerts?filter=%7B")
            assert hrefs["Silence this group"].startswith(
                "http://alertmanager.monitoring:9093/#/silences/new?filter=%7Balertname%3D%22APIDown%22")
            png_size(page.screenshot(tmp_path / "serve-investigation.png"))

            # a manual check of a namespace, from the API to its page
            status, created = request(base, "POST", "/api/v1/check", {"namespace": "mycure-production",
                                                                       "component": None}, token=token)
            assert status == 202, created
            check = wait_for(base, token, created["id"], timeout=120)
            assert check["status"] == "done" and check["rootCause"], check.get("error")
            page.navigate(f"{base}/investigations/{created['id']}")
            problems = page.problems()
            assert not problems, problems.lines()
            assert page.title().startswith("DONE · Manual check · mycure-production")
            assert f"Root cause: {check['rootCause']['code']}" in page.text()
            page.navigate(f"{base}/")
            assert page.count("table.investigations tbody tr") == 2

            page.navigate(f"{base}/investigations/inv-000000000000")
            assert "no investigation inv-000000000000" in page.text()
            assert page.document_status() == 404

            # sign out from the header: back at the form, and the old session id opens nothing any more
            session = {c["name"]: c for c in page.cookies(base)}["sre_expert_session"]["value"]
            status, _ = request(base, "GET", "/api/v1/investigations", headers={"Cookie": f"sre_expert_session={session}"})
            assert status == 200  # a live session opens reads
            page.navigate(f"{base}/")
            page.evaluate("document.querySelector('header form.signout button').click(); true")
            page.wait_load()
            assert page.evaluate("location.pathname") == "/login"
            assert not [c for c in page.cookies(base) if c["name"] == "sre_expert_session"]
            status, _ = request(base, "GET", "/api/v1/investigations", headers={"Cookie": f"sre_expert_session={session}"})
            assert status == 401
        finally:
            browser.send("Target.closeTarget", {"targetId": page.target})
    finally:
        stop_serve(proc)


def test_the_harness_sees_what_goes_wrong(page: Page, site: _Site):
    """The checks above pass because the pages are clean, not because the harness is blind."""
    bad = ("<!DOCTYPE html><html><head><title>bad</title>"
           '<link rel="stylesheet" href="https://cdn.example.com/style.css"></head><body>'
           "<script>console.error('boom'); alert('hi'); throw new Error('kaput');</script>"
           f'<img src="{site.base}/missing.png"></body></html>')
    page.navigate(site.put("/bad", bad))
    p = page.problems(settle=0.5)
    assert p.console_errors == ["boom"]
    assert any("kaput" in e for e in p.exceptions)
    assert p.dialogs == ["alert: hi"]
    assert p.external_requests == ["https://cdn.example.com/style.css"]
    assert any("cdn.example.com" in f for f in p.failed_requests)
    assert f"404 {site.base}/missing.png" in p.http_errors
    # the pages' own Content-Security-Policy turns an injected script into a logged violation
    page.clear()
    page.navigate(site.put("/csp", pages.render_error(500, "x").replace("</main>", "<script>alert(1)</script></main>")))
    p = page.problems(settle=0.3)
    assert not p.dialogs and any("Content Security Policy" in e for e in p.log_errors), p.lines()
