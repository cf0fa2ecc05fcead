"""The HTML renderers of `sre-expert serve` (server/pages.py), tested as pure functions.

Records are built the way the server builds them: the demo platform diagnosed, then the alert group handed to
`server.investigate.investigate_alerts` (scope, chain from the root cause to the alerted object, scoped
report, request trace, candidates), wrapped in the stored record's envelope. Hostile text (script tags,
attribute breakers) goes into every field the cluster or Alertmanager controls.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote_plus

import pytest

from sre_expert.diagnosis.engine import diagnose
from sre_expert.edges.webhook.investigate import investigate_alerts, investigate_check
from sre_expert.knowledge.alert_catalogue import alert_rule
from sre_expert.render import pages
from sre_expert.render.chain_view import object_text
from sre_expert.sources.resolve import open_source

pytestmark = pytest.mark.e2e

HOSTILE = '<script>alert("x")</script>"><img src=x onerror=alert(1)>'
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

# ------------------------------------------------------------------------------------------- records


@functools.lru_cache(maxsize=1)
def _demo() -> tuple[Any, Any]:
    snap = open_source(None, True, None, None, progress=False)
    return snap, diagnose(snap)


def demo_pod(prefix: str = "api-", namespace: str = "mycure-production") -> str:
    snap, _ = _demo()
    return sorted(p["metadata"]["name"] for p in snap.list("Pod")
                  if p["metadata"]["namespace"] == namespace and p["metadata"]["name"].startswith(prefix))[0]


def demo_record(*, alertname: str = "PodCrashLooping", labels: dict[str, str] | None = None, status: str = "done",
                inv_id: str = "inv-0123456789ab") -> dict[str, Any]:
    """An investigation record as the server stores it: the alert group's envelope around what
    server.investigate.investigate_alerts finds for it on the demo platform (default: the api pod that
    crash-loops because MongoDB cannot read its data files, a three-finding chain)."""
    snap, report = _demo()
    rule = alert_rule(alertname)
    if labels is None:
        labels = {"namespace": "mycure-production", "pod": demo_pod(), "container": "api"}
    labels = {"alertname": alertname, "severity": rule.severity if rule else "warning", **labels,
              "prometheus": "monitoring/kube-prometheus-prometheus"}
    alerts = [{"fingerprint": "3f1c2a9d8e7b6c5a", "status": "firing", "startsAt": "2026-11-26T02:50:00Z",
               "endsAt": "0001-01-01T00:00:00Z", "labels": labels,
               "annotations": {"summary": f"{alertname} on {labels.get('pod') or labels.get('service') or '?'}",
                               "description": "Restarted 9 times in 15 minutes.",
                               "runbook_url": "https://runbooks.example.internal/pod-not-starting"}}]
    captured = report.info.captured_at.isoformat().replace("+00:00", "Z")
    found = investigate_alerts(alertname, labels, alerts, snap, report)
    return {
        "id": inv_id, "status": status, "trigger": "alert",
        "groupKey": f'{{}}/{{severity="{labels["severity"]}"}}:{{alertname="{alertname}"}}',
        "receiver": "sre-expert", "alertname": alertname, "severity": labels["severity"],
        "commonLabels": labels, "alerts": alerts,
        "createdAt": captured, "updatedAt": captured, "resolvedAt": None,
        "notifications": [{"target": "slack", "status": "sent", "attempts": 1, "lastError": None, "at": captured},
                          {"target": "webhook", "status": "failed", "attempts": 5,
                           "lastError": "POST https://hooks.example.internal/x: 503 Service Unavailable", "at": captured}],
        "error": None,
        **found,
    }


def pending_record(status: str, error: str | None = None) -> dict[str, Any]:
    rec = demo_record(status=status)
    rec.update(summary=None, rootCause=None, chain=[], report=None, notifications=[], error=error)
    return rec


def hostile_record() -> dict[str, Any]:
    """Every cluster- or Alertmanager-controlled string replaced by markup."""
    rec = copy.deepcopy(demo_record())
    rec["alertname"] = rec["summary"] = rec["groupKey"] = rec["receiver"] = HOSTILE
    rec["scope"] = {"namespace": HOSTILE, "kind": "Service", "name": HOSTILE}
    rec["runbook"] = {"id": HOSTILE, "title": HOSTILE}
    rec["commonLabels"] = {HOSTILE: HOSTILE}
    rec["alerts"][0]["labels"] = {"alertname": HOSTILE, HOSTILE: HOSTILE}
    rec["alerts"][0]["annotations"] = {"description": HOSTILE, HOSTILE: HOSTILE}
    rec["alerts"][0]["fingerprint"] = HOSTILE
    rec["notifications"][1]["lastError"] = HOSTILE
    rec["error"] = HOSTILE
    for f in rec["chain"] + rec["report"]["findings"] + [rec["rootCause"]]:
        f["title"] = f["detail"] = HOSTILE
        f["code"] = HOSTILE
        f["object"]["name"] = HOSTILE
        f["evidence"] = [HOSTILE, "log: " + HOSTILE]
        f["remediation"] = [{"description": HOSTILE, "command": HOSTILE, "safety": "destructive"}]
    rec["report"]["notChecked"] = [HOSTILE]
    rec["report"]["collectionErrors"] = [{"kind": HOSTILE, "namespace": HOSTILE, "error": HOSTILE}]
    return rec


# ------------------------------------------------------------------------------------------- a tiny DOM


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        return [n for n in self.iter() if (tag is None or n.tag == tag) and (cls is None or cls in n.classes)]

    def find(self, tag: str | None = None, cls: str | None = None) -> Node:
        found = self.find_all(tag, cls)
        assert found, f"no <{tag} class={cls}>"
        return found[0]


class StrictTree(HTMLParser):
    """Builds a Node tree and fails on a stray or mismatched end tag or an element left open."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.cur = self.root
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):  # <rect .../> in inline SVG
        self.cur.children.append(Node(tag, dict(attrs), self.cur))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if self.cur.tag != tag:
            self.errors.append(f"</{tag}> closes <{self.cur.tag}>")
            return
        self.cur = self.cur.parent or self.root

    def handle_data(self, data):
        self.cur.children.append(data)


def parse(doc: str) -> Node:
    t = StrictTree()
    t.feed(doc)
    t.close()
    assert not t.errors, t.errors[:5]
    assert t.cur is t.root, f"unclosed <{t.cur.tag}>"
    return t.root


def assert_safe(doc: str) -> Node:
    """Well formed, no script, no event handler attribute, nothing loaded from elsewhere. Only a link (<a>)
    a person follows may point elsewhere, and then only to http(s) (Prometheus, Alertmanager, Grafana)."""
    tree = parse(doc)
    assert not tree.find_all("script")
    assert not re.search(r"<script", doc, re.I)
    for n in tree.iter():
        assert n.tag != "img", "no <img> may come out of data"
        for k, v in n.attrs.items():
            assert not k.startswith("on"), (n.tag, k)
            if k in ("src", "href", "action") and v:
                assert not re.match(r"^\s*(?:javascript|vbscript):", v, re.I), v
                assert n.tag != "a" or not re.match(r"^\s*data:", v, re.I), v
                if n.tag == "a" and k == "href" and re.match(r"^https?://[^/\s]", v):
                    continue
                assert not re.match(r"^(?:[a-z]+:)?//", v, re.I), v
    csp = [n for n in tree.find_all("meta") if n.attrs.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in (csp[0].attrs.get("content") or "")
    return tree


# ------------------------------------------------------------------------------------------- tests


def test_demo_record_is_a_real_chain():
    rec = demo_record()
    codes = [f["code"] for f in rec["chain"]]
    assert codes == ["POD-STORAGE-CORRUPTION", "SVC-NO-READY-ENDPOINTS", "POD-CRASHLOOP"]
    assert rec["chain"][0]["rootCause"] and not any(f["rootCause"] for f in rec["chain"][1:])
    for a, b in zip(rec["chain"], rec["chain"][1:]):
        assert b["id"] in a["causes"]
    assert rec["rootCause"] == rec["chain"][0]


def test_investigation_page_chain_in_order():
    rec = demo_record()
    tree = assert_safe(pages.render_investigation(rec))
    chain = tree.find("ol", "chain")
    nodes = chain.find_all("li", "node")
    assert [n.attrs["data-code"] for n in nodes] == [f["code"] for f in rec["chain"]]
    assert "root" in nodes[0].classes and "alerted" in nodes[-1].classes
    assert nodes[0].find("span", "role").text() == "Root cause"
    assert nodes[-1].find("span", "role").text() == "Alerted object"
    assert not nodes[1].find_all("span", "role")
    # each box holds the whole key error: code, object and title, never cut
    for node, f in zip(nodes, rec["chain"]):
        assert node.find("code", "code").text() == f["code"]
        assert node.find("span", "obj").text() == object_text(f["object"])
        assert node.find("p", "title").text() == f["title"]
    assert chain.attrs.get("aria-label") == "Causal chain, 3 findings, root cause first"
    # the root cause's evidence is in its own section; the others carry theirs, folded
    assert nodes[0].find("a").attrs["href"] == "#h-root"
    for node, f in zip(nodes[1:], rec["chain"][1:]):
        folded = node.find("details", "more")
        assert [li.text() for li in folded.find("ul", "evidence").find_all("li")] == f["evidence"]


def test_the_chain_appears_once():
    """Before: drawn, listed as text, repeated in the summary line and again as "Along the chain"."""
    rec = demo_record()
    doc = pages.render_investigation(rec)
    tree = assert_safe(doc)
    text = tree.find("main").text()
    root, *rest = rec["chain"]
    for f in rest:  # (codes repeat: other Services have no endpoints either; titles name the object)
        assert text.count(f["title"]) == 1, f["title"]
    # the root cause: its box, and the heading of its evidence-and-fix section
    assert text.count(root["code"]) == 2 and text.count(root["title"]) == 2
    assert rec["summary"] not in text  # the summary is the chain in one line
    assert len(tree.find_all("ol", "chain")) == 1 and not tree.find_all("svg")


def test_no_api_field_names_on_the_pages():
    """What a person reads says "alerts", "root cause", "Alertmanager group", not rootCause or groupKey."""
    rec = demo_record()
    keys: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            keys.update(k for k in value if re.search(r"[a-z][A-Z]", k))
            for v in value.values():
                collect(v)
        elif isinstance(value, list):
            for v in value:
                collect(v)

    collect(rec)
    collect({"alertsTotal": 1, "alertsOffset": 1, "alertsLimit": 1, "externalURL": 1, "generatorURL": 1})
    big = dict(rec, alertsTotal=500)
    for doc in (pages.render_investigation(big), pages.render_list([big], total=1, status=None)):
        text = assert_safe(doc).find("main").text()
        leaked = sorted(k for k in keys if re.search(rf"\b{k}\b", text))
        assert not leaked, leaked


def test_investigation_page_header_root_cause_and_evidence():
    rec = demo_record()
    doc = pages.render_investigation(rec)
    tree = assert_safe(doc)
    title = tree.find("title").text()
    assert "PodCrashLooping" in title and "DONE" in title
    root = rec["rootCause"]
    text = tree.text()
    assert "pod-not-starting" in text and "Pod not starting" in text
    assert f"mycure-production · Pod {demo_pod()}" in text
    root_sec = next(s for s in tree.find_all("section") if s.attrs.get("aria-labelledby") == "h-root")
    assert root["code"] in root_sec.find("h2").text()
    ev = [li.text() for li in root_sec.find("ul", "evidence").find_all("li")]
    assert ev == root["evidence"]
    steps = root_sec.find("ol", "steps").find_all("li")
    assert [s.attrs["data-safety"] for s in steps] == [r["safety"] for r in root["remediation"]]
    for s, r in zip(steps, root["remediation"]):
        assert r["description"] in s.text()
        if r["command"]:
            assert r["command"] in s.find("pre").text()


def test_other_findings_alerts_and_notifications():
    rec = demo_record()
    tree = assert_safe(pages.render_investigation(rec))
    in_chain = {f["id"] for f in rec["chain"]}
    others = [f for f in rec["report"]["findings"] if f["id"] not in in_chain]
    assert others, "the scoped demo report has findings beside the chain"
    other_sec = next(s for s in tree.find_all("section") if s.attrs.get("aria-labelledby") == "h-other")
    shown = other_sec.find_all("details", "finding")
    assert len(shown) == len(others)
    for d, f in zip(shown, others):
        assert f["code"] in d.find("summary").text()
    alerts = next(s for s in tree.find_all("section") if s.attrs.get("aria-labelledby") == "h-alerts")
    assert "alertname=PodCrashLooping" in alerts.text() and "Restarted 9 times in 15 minutes." in alerts.text()
    assert "firing" in alerts.text()
    notes = next(s for s in tree.find_all("section") if s.attrs.get("aria-labelledby") == "h-notify")
    rows = notes.find("tbody").find_all("tr")
    assert len(rows) == 2 and "503 Service Unavailable" in rows[1].text() and "failed" in rows[1].text()
    # Alertmanager's zero end time is no end
    assert "0001" not in alerts.text()


def test_everything_from_the_cluster_is_escaped():
    rec = hostile_record()
    for doc in (pages.render_investigation(rec), pages.render_list([rec], total=1, status=None)):
        tree = assert_safe(doc)
        assert "<img" not in doc.lower()
        assert "&lt;script&gt;" in doc
        assert HOSTILE in tree.text()  # shown, as text
    detail = pages.render_investigation(rec)
    # the hostile text reached every section, each time as text
    tree = parse(detail)
    for sec in ("h-chain", "h-root", "h-other", "h-alerts", "h-notify"):
        s = next(x for x in tree.find_all("section") if x.attrs.get("aria-labelledby") == sec)
        assert HOSTILE in s.text(), sec
    assert pages.render_login(HOSTILE).count("&lt;script&gt;") == 1
    assert_safe(pages.render_login(HOSTILE))
    assert_safe(pages.render_error(404, HOSTILE))


def test_hostile_investigation_id_in_links():
    rec = demo_record(inv_id='inv-"><script>x</script>/../..')
    tree = assert_safe(pages.render_list([rec], total=1, status=None))
    link = tree.find("table").find("a")
    assert link.attrs["href"] == "/investigations/inv-%22%3E%3Cscript%3Ex%3C%2Fscript%3E%2F..%2F.."


def test_destructive_and_mutating_steps_are_marked():
    rec = demo_record()
    rec["rootCause"] = dict(rec["rootCause"], remediation=[
        {"description": "Read the pod", "command": "kubectl get pod x -n y", "safety": "read-only"},
        {"description": "Restart it", "command": "kubectl rollout restart deployment/x -n y", "safety": "mutating"},
        {"description": "Delete the volume claim", "command": "kubectl delete pvc data-x -n y", "safety": "destructive"},
        {"description": "Odd step", "command": "frobnicate", "safety": "something-else"},
    ])
    tree = assert_safe(pages.render_investigation(rec))
    steps = next(s for s in tree.find_all("section")
                 if s.attrs.get("aria-labelledby") == "h-root").find("ol", "steps").find_all("li")
    assert [s.attrs["class"] for s in steps] == ["read-only", "mutating", "destructive", "unknown"]
    assert "destructive" in steps[2].find("span", "badge").text() and "⚠" in steps[2].text()
    assert "explicit confirmation" in steps[2].text()
    assert "needs confirmation" in steps[1].text()
    assert "safe to run" in steps[0].text()
    assert "not classified" in steps[3].text()


@pytest.mark.parametrize("status", ["queued", "running"])
def test_pending_investigation(status):
    doc = pages.render_investigation(pending_record(status))
    tree = assert_safe(doc)
    refresh = [n for n in tree.find_all("meta") if n.attrs.get("http-equiv") == "refresh"]
    assert refresh and refresh[0].attrs["content"] == str(pages.REFRESH_SECONDS)
    assert not tree.find_all("svg")
    assert "Not diagnosed yet." in tree.text()
    assert pages.STATUS_TEXT[status] in tree.text()


def test_failed_investigation_shows_error():
    doc = pages.render_investigation(pending_record("failed", error="snapshot: cannot list pods: connection refused"))
    tree = assert_safe(doc)
    assert not [n for n in tree.find_all("meta") if n.attrs.get("http-equiv") == "refresh"]
    banner = tree.find("div", "banner")
    assert banner.attrs.get("role") == "alert"
    assert "snapshot: cannot list pods: connection refused" in banner.text()
    assert "No diagnosis" in tree.text()


def test_done_without_root_cause():
    rec = demo_record()
    rec.update(rootCause=None, chain=[], summary="No finding explains PodCrashLooping", candidates=[])
    tree = assert_safe(pages.render_investigation(rec))
    assert not tree.find_all("svg")
    assert "No finding explains this alert." in tree.text()
    assert "Root cause:" not in tree.text()


def test_request_trace_of_a_service_alert():
    rec = demo_record(alertname="APIDown", labels={"namespace": "mycure-production", "service": "api"})
    assert rec["trace"]["brokenHop"] == "pods"
    tree = assert_safe(pages.render_investigation(rec))
    sec = next(s for s in tree.find_all("section") if s.attrs.get("aria-labelledby") == "h-trace")
    hops = sec.find("ol", "hops").find_all("li")
    hops = [h for h in hops if "data-status" in h.attrs]
    assert [h.attrs["data-status"] for h in hops] == [h["status"] for h in rec["trace"]["hops"]]
    assert "broken at the pods hop" in sec.text()
    failed = [h for h in hops if h.attrs["data-status"] == "failed"]
    assert failed and all("open" in h.find("details").attrs for h in failed)
    assert rec["trace"]["hops"][-1]["evidence"][0] in failed[-1].text()


def test_candidates_when_nothing_names_the_object():
    rec = demo_record(alertname="PodNotReady", labels={"namespace": "lfh-staging", "pod": "api-gone-7c9f"})
    assert not rec["chain"] and rec["candidates"]
    tree = assert_safe(pages.render_investigation(rec))
    assert not tree.find_all("svg")
    chain_sec = next(s for s in tree.find_all("section") if s.attrs.get("aria-labelledby") == "h-chain")
    assert "No finding explains this alert." in chain_sec.text() and "candidates, not a diagnosis" in chain_sec.text()
    shown = [d.find("summary").text() for d in chain_sec.find_all("details", "finding")]
    assert len(shown) == len(rec["candidates"])
    for text, f in zip(shown, rec["candidates"]):
        assert f["code"] in text
    other = next(s for s in tree.find_all("section") if s.attrs.get("aria-labelledby") == "h-other")
    assert not ({f["code"] for f in rec["candidates"]} & {d.find("code").text() for d in other.find_all("details")})
    assert rec["summary"] in tree.text()


def test_resolved_investigation():
    rec = demo_record(status="resolved")
    rec["resolvedAt"] = "2026-11-26T03:30:00Z"
    tree = assert_safe(pages.render_investigation(rec))
    banner = tree.find("div", "banner")
    assert "resolved" in banner.text() and "2026-11-26 03:30:00 UTC" in banner.text()
    assert tree.find_all("ol", "chain")  # the diagnosis stays


def manual_record(namespace: str | None, component: str | None = None) -> dict[str, Any]:
    snap, report = _demo()
    rec = pending_record("done")
    rec.update(trigger="manual", alertname=None, severity=None, groupKey=None, receiver=None, commonLabels={},
               alerts=[], notifications=[], trace=None, **investigate_check(namespace, component, snap, report))
    return rec


def test_manual_check():
    rec = manual_record("mycure-production")
    assert rec["chain"] and rec["candidates"]
    tree = assert_safe(pages.render_investigation(rec))
    assert tree.find("title").text().startswith("DONE · Manual check · mycure-production")
    nodes = tree.find("ol", "chain").find_all("li", "node")
    assert [n.attrs["data-code"] for n in nodes] == [f["code"] for f in rec["chain"]]
    # a longer chain of a manual check ends at a symptom, not at an alerted object
    chain = demo_record()["chain"]
    longer = assert_safe(pages.render_investigation(dict(rec, chain=chain, rootCause=chain[0]))).find("ol", "chain")
    assert longer.find_all("li", "node")[-1].find("span", "role").text() == "Symptom"
    assert "Alerted object" not in longer.text()
    roots = next(s for s in tree.find_all("section") if s.attrs.get("aria-labelledby") == "h-roots")
    assert [d.find("code").text() for d in roots.find_all("details")] == [f["code"] for f in rec["candidates"]]
    alerts = next(s for s in tree.find_all("section") if s.attrs.get("aria-labelledby") == "h-alerts")
    assert "a manual check, no alert" in alerts.text()


def test_manual_check_of_a_healthy_scope():
    rec = manual_record("kyverno", "argocd")  # no argocd finding in kyverno's namespace
    assert not rec["chain"] and not rec["candidates"]
    tree = assert_safe(pages.render_investigation(rec))
    assert "No finding in this scope." in tree.text() and "explains this alert" not in tree.text()


def test_resolved_before_diagnosis():
    rec = pending_record("resolved")
    rec["resolvedAt"] = "2026-11-26T03:01:00Z"
    tree = assert_safe(pages.render_investigation(rec))
    assert "No diagnosis was recorded" in tree.text() and "No finding explains" not in tree.text()


def test_long_chain_is_drawn_whole():
    rec = demo_record()
    base = rec["chain"][-1]
    chain = []
    for i in range(14):
        f = copy.deepcopy(base)
        f["id"] = f"F{i}"
        f["code"] = f"CODE-{i}"
        f["rootCause"] = i == 0
        f["object"] = dict(f["object"], name=f"object-with-a-rather-long-name-number-{i:02d}-" + "x" * 80)
        f["title"] = f"Title {i} " + "word " * 60
        chain.append(f)
    rec.update(chain=chain, rootCause=chain[0])
    tree = assert_safe(pages.render_investigation(rec))
    nodes = tree.find("ol", "chain").find_all("li", "node")
    assert len(nodes) == 14
    # nothing is cut: the long object names and titles are in their boxes whole
    for node, f in zip(nodes, chain):
        assert node.find("span", "obj").text() == object_text(f["object"])
        assert node.find("p", "title").text() == f["title"]


def test_list_page():
    recs = [demo_record(inv_id="inv-aaaaaaaaaaaa"), pending_record("queued"),
            pending_record("failed", error="boom: source unreadable")]
    recs[1]["id"], recs[2]["id"] = "inv-bbbbbbbbbbbb", "inv-cccccccccccc"
    recs.append(dict(demo_record(inv_id="inv-dddddddddddd"), trigger="manual", alertname=None, severity=None,
                     scope={"namespace": "lfh-staging", "kind": None, "name": None}))
    tree = assert_safe(pages.render_list(recs, total=4, status=None))
    rows = tree.find("tbody").find_all("tr")
    assert len(rows) == 4
    links = [r.find("a").attrs["href"] for r in rows]
    assert links == [f"/investigations/{r['id']}" for r in recs]
    assert "PodCrashLooping" in rows[0].text() and recs[0]["summary"] in rows[0].text()
    assert "done" in rows[0].text() and "critical" in rows[0].text()
    assert pages.STATUS_TEXT["queued"] in rows[1].text()
    assert "boom: source unreadable" in rows[2].text()
    assert "Manual check" in rows[3].text() and "lfh-staging" in rows[3].text() and "no severity" in rows[3].text()
    filters = tree.find("nav").find_all("a")
    assert [a.text() for a in filters] == ["All", "Queued", "Running", "Done", "Failed", "Resolved"]
    assert filters[0].attrs.get("aria-current") == "page"
    assert filters[4].attrs["href"] == "/?status=failed"


def test_list_empty_states_and_filter():
    tree = assert_safe(pages.render_list([], total=0, status=None))
    assert "No investigations yet." in tree.text()
    assert not tree.find_all("table")
    tree = assert_safe(pages.render_list([], total=0, status="failed"))
    assert "No investigations with status “failed”." in tree.text()
    current = [a for a in tree.find("nav").find_all("a") if a.attrs.get("aria-current") == "page"]
    assert [a.text() for a in current] == ["Failed"]
    assert "Investigations: failed" in tree.find("title").text()
    # an unknown status filter is ignored, not echoed into the page
    doc = pages.render_list([], total=0, status="<b>x</b>")
    assert "&lt;b&gt;" not in doc and "<b>x" not in doc


def test_list_pager_links():
    recs = [demo_record(inv_id=f"inv-{i:012x}") for i in range(2)]
    tree = assert_safe(pages.render_list(recs, total=7, status="done", offset=2, limit=2))
    assert "Showing 3–4 of 7." in tree.text()
    pager = tree.find("nav", "pager").find_all("a")
    assert [(a.text(), a.attrs["href"]) for a in pager] == [("← Newer", "/?status=done&limit=2"),
                                                           ("Older →", "/?status=done&offset=4&limit=2")]
    tree = assert_safe(pages.render_list(recs, total=2, status=None, limit=2))
    assert not tree.find_all("nav", "pager")


def test_login_page():
    tree = assert_safe(pages.render_login(None))
    form = tree.find("form")
    assert form.attrs["method"] == "post" and form.attrs["action"] == "/login"
    field = form.find("input")
    assert field.attrs["name"] == "token" and field.attrs["type"] == "password"
    assert tree.find("label").attrs["for"] == field.attrs["id"]
    assert not tree.find_all("div", "banner")
    tree = assert_safe(pages.render_login("Wrong token."))
    assert tree.find("div", "banner").text() == "Wrong token."


def test_times_and_helpers():
    assert pages.format_time("2026-11-26T03:06:12Z") == '<time datetime="2026-11-26T03:06:12Z">2026-11-26 03:06:12 UTC</time>'
    assert pages.format_time("2026-11-26T04:06:12+01:00").endswith(">2026-11-26 03:06:12 UTC</time>")
    assert pages.format_time("0001-01-01T00:00:00Z") == ""
    assert pages.format_time(None) == ""
    assert pages.format_time("<yesterday>") == "<time>&lt;yesterday&gt;</time>"
    assert pages.scope_text({"namespace": None, "kind": "Node", "name": "k8s-worker-2"}) == "Node k8s-worker-2"
    assert pages.scope_text({}) == "cluster-wide"
    assert object_text({"kind": "Node", "namespace": None, "name": "n1"}) == "Node n1"


@pytest.mark.parametrize("record", [
    {},
    {"id": "inv-000000000001", "status": "queued"},
    {"id": None, "status": None, "scope": None, "alerts": None, "chain": None, "report": None, "runbook": None,
     "notifications": None, "commonLabels": None, "rootCause": None, "trace": None, "candidates": None},
    {"id": "inv-000000000002", "status": "weird", "alerts": [{"labels": None, "annotations": None}],
     "report": {"findings": [{"code": "X"}]}, "notifications": [{"target": "slack"}],
     "trace": {"resolved": False, "message": "no such route"}},
])
def test_sparse_records_still_render(record):
    tree = assert_safe(pages.render_investigation(record))
    assert tree.find("h1")
    assert_safe(pages.render_list([record], total=1, status=None))


def test_big_groups_show_counts_not_every_alert():
    """List items and pages carry only the first alerts of a big group; the pages say how many there are."""
    rec = demo_record(inv_id="inv-eeeeeeeeeeee")
    first = rec["alerts"][:1]
    big = dict(rec, alerts=first * 3, alertsTotal=40_000)
    row = assert_safe(pages.render_list([big], total=1, status=None)).find("tbody").find("tr")
    assert "40000 alerts" in row.text()
    tree = assert_safe(pages.render_investigation(big))
    assert len(tree.find_all("div", "alert-card")) == 3
    text = tree.text()
    assert "Alerts (40000)" in text and "Showing the first 3 of 40000 alerts" in text
    rest = [a for a in tree.find_all("a") if a.text() == "the other 39997 as JSON"]
    assert rest and rest[0].attrs["href"] == f"/api/v1/investigations/{big['id']}?alertsOffset=3"
    single = assert_safe(pages.render_list([dict(rec, alerts=first, alertsTotal=1)], total=1, status=None))
    assert " alerts" not in single.find("tbody").find("tr").text()


# ------------------------------------------------------------------------------------------- serve: sign-in, logs, db


SERVE_TOKEN = "test-token-pages-0123456789"


@pytest.fixture
def served(tmp_path, caplog):
    """The app in process (fastapi's TestClient) over the demo snapshot, with its database in tmp_path."""
    from fastapi.testclient import TestClient

    from sre_expert.edges.webhook.app import create_app
    from sre_expert.edges.webhook.config import ServeConfig

    snap, _ = _demo()
    caplog.set_level("INFO", logger="sre_expert.edges.webhook")
    app = create_app(ServeConfig(db_path=str(tmp_path / "serve.db"), token=SERVE_TOKEN, demo=True,
                                 loader=lambda: snap))
    with TestClient(app, base_url="http://127.0.0.1:8080", follow_redirects=False) as client:
        yield client


def _cookie(jar: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}


def _sign_in(client) -> str:
    resp = client.post("/login", content=f"token={SERVE_TOKEN}",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 303 and resp.headers["location"] == "/"
    return resp.cookies["sre_expert_session"]


def test_the_cookie_is_a_session_id_never_the_token(served):
    set_cookie = served.post("/login", content=f"token={SERVE_TOKEN}",
                             headers={"Content-Type": "application/x-www-form-urlencoded"}).headers["set-cookie"]
    assert SERVE_TOKEN not in set_cookie
    assert "HttpOnly" in set_cookie and "samesite=strict" in set_cookie.lower() and "Max-Age=43200" in set_cookie
    session = _sign_in(served)
    assert len(session) >= 43 and session != SERVE_TOKEN
    served.cookies.clear()
    assert served.get("/", headers=_cookie({"sre_expert_session": session})).status_code == 200
    # the token itself in the cookie opens nothing; neither does a made-up id or the old cookie name
    for jar in ({"sre_expert_session": SERVE_TOKEN}, {"sre_expert_session": "x" * 43},
                {"sre_expert_token": SERVE_TOKEN}):
        resp = served.get("/", headers=_cookie(jar))
        assert resp.status_code == 303 and resp.headers["location"] == "/login", jar
    # a session never authorises a change, like the token cookie before it
    assert served.post("/api/v1/check", json={}, headers=_cookie({"sre_expert_session": session})).status_code == 401


def test_sign_out_deletes_the_session(served):
    session = _sign_in(served)
    served.cookies.clear()
    resp = served.post("/logout", headers=_cookie({"sre_expert_session": session}))
    assert resp.status_code == 303 and resp.headers["location"] == "/login"
    assert 'sre_expert_session=""' in resp.headers["set-cookie"] and "Max-Age=0" in resp.headers["set-cookie"]
    # the id is dead on the server, not only forgotten by this browser
    resp = served.get("/", headers=_cookie({"sre_expert_session": session}))
    assert resp.status_code == 303 and resp.headers["location"] == "/login"
    # every page offers the way out
    other = _sign_in(served)
    served.cookies.clear()
    tree = parse(served.get("/", headers=_cookie({"sre_expert_session": other})).text)
    form = [f for f in tree.find_all("form") if f.attrs.get("action") == "/logout"]
    assert form and form[0].attrs["method"] == "post" and form[0].find("button").text().strip() == "Sign out"


def test_sessions_expire_and_stay_bounded():
    from sre_expert.edges.webhook.auth import Sessions

    now = [1000.0]
    sessions = Sessions(ttl=60, clock=lambda: now[0], limit=3)
    first = sessions.create()
    assert sessions.valid(first) and not sessions.valid(None) and not sessions.valid("")
    now[0] += 59
    assert sessions.valid(first)
    now[0] += 2
    assert not sessions.valid(first) and len(sessions) == 0
    ids = [sessions.create() for _ in range(4)]
    assert len(sessions) == 3 and not sessions.valid(ids[0]) and all(sessions.valid(i) for i in ids[1:])
    assert sessions.delete(ids[1]) and not sessions.valid(ids[1]) and not sessions.delete(ids[1])


def test_the_database_file_is_private(served, tmp_path):
    import stat

    for name in ("serve.db", "serve.db-wal", "serve.db-shm"):
        path = tmp_path / name
        if name == "serve.db" or path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name


def test_serve_logs_each_alert_and_each_finished_investigation(served, caplog):
    import time

    pod = demo_pod()
    labels = {"alertname": "PodCrashLooping", "severity": "critical", "namespace": "mycure-production",
              "pod": pod, "token": "ghp_" + "a" * 36}
    payload = {"version": "4", "status": "firing", "receiver": "sre-expert", "groupKey": "{}:{alertname=\"x\"}",
               "groupLabels": {}, "commonLabels": labels, "commonAnnotations": {},
               "externalURL": "http://alertmanager:9093",
               "alerts": [{"status": "firing", "labels": labels, "annotations": {},
                           "startsAt": "2026-11-26T02:50:00Z", "endsAt": "0001-01-01T00:00:00Z",
                           "generatorURL": "http://prometheus:9090/graph", "fingerprint": "3f1c2a9d8e7b6c5a"},
                          {"status": "firing", "annotations": {},
                           "labels": {**labels, "pod": "ghp_" + "b" * 36, "service": "svc\nFORGED log line"},
                           "startsAt": "2026-11-26T02:50:00Z", "endsAt": "0001-01-01T00:00:00Z",
                           "generatorURL": "http://prometheus:9090/graph", "fingerprint": "3f1c2a9d8e7b6c5b"}]}
    resp = served.post("/api/v1/alerts", json=payload, headers={"Authorization": f"Bearer {SERVE_TOKEN}"})
    assert resp.status_code == 200
    (inv_id,) = resp.json()["investigations"]

    def info() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "sre_expert.edges.webhook" and r.levelname == "INFO"]

    for _ in range(600):  # bounded wait for the worker thread (it logs after storing), not a timing assertion
        if any(m.startswith(f"investigation {inv_id} done:") for m in info()):
            break
        time.sleep(0.05)
    lines = info()
    received = [m for m in lines if m.startswith("alert received:")]
    assert len(received) == 2
    assert f"PodCrashLooping firing mycure-production/{pod} fingerprint=3f1c2a9d8e7b6c5a investigation={inv_id}" \
        in received[0]
    finished = [m for m in lines if m.startswith(f"investigation {inv_id} done:")]
    assert len(finished) == 1 and "POD-STORAGE-CORRUPTION" in finished[0]
    assert not any("ghp_" + "a" * 36 in m or "ghp_" + "b" * 36 in m for m in lines)  # redacted first
    assert "svc\\nFORGED log line" in received[1] and not any("\n" in m for m in lines)


# ------------------------------------------------------------------------------------------- links out


def test_links_to_prometheus_alertmanager_and_grafana():
    from urllib.parse import parse_qs, unquote, urlsplit

    rec = demo_record()
    rec["externalURL"] = "http://alertmanager.monitoring:9093/"
    expr = 'sum(kube_pod_container_status_restarts_total{namespace="mycure-production"}) > 3'
    gen = "http://prometheus.monitoring:9090/graph?g0.expr=" + quote_plus(expr) + "&g0.tab=1"
    rec["alerts"][0]["generatorURL"] = gen
    tree = assert_safe(pages.render_investigation(rec, grafana_url="https://grafana.example.org/"))
    links = {a.text(): a.attrs["href"] for a in tree.find_all("a") if a.attrs.get("href", "").startswith("http")}
    assert links["Graph in Prometheus"] == gen
    # an annotation that is a URL (the rule's runbook_url) is a link; text with a URL inside stays text
    assert links["https://runbooks.example.internal/pod-not-starting"] == "https://runbooks.example.internal/pod-not-starting"
    rec["alerts"][0]["annotations"]["description"] = "see https://x.example.org now"
    texts = [a.text() for a in assert_safe(pages.render_investigation(rec)).find_all("a")]
    assert not [t for t in texts if "x.example.org" in t]
    # Alertmanager: the group's alerts and a new silence, both filtered by the labels the group shares
    group, silence = links["The group in Alertmanager"], links["Silence this group"]
    common = rec["commonLabels"]
    want = "{" + ",".join(f'{k}="{common[k]}"' for k in sorted(common)) + "}"
    assert group.startswith("http://alertmanager.monitoring:9093/#/alerts?filter=")
    assert unquote(group.split("filter=", 1)[1]) == want
    assert silence.startswith("http://alertmanager.monitoring:9093/#/silences/new?filter=")
    q = parse_qs(silence.split("?", 1)[1])
    assert q["filter"] == [want] and q["comment"] == ["sre-expert investigation inv-0123456789ab"]
    assert "+" not in silence  # spaces as %20: the UI reads the fragment literally
    # Grafana Explore with the alert's query, from an hour before it started
    explore = urlsplit(links["Explore in Grafana"])
    assert explore.netloc == "grafana.example.org" and explore.path == "/explore"
    pane = json.loads(parse_qs(explore.query)["panes"][0])["sre"]
    assert pane["queries"] == [{"refId": "A", "expr": expr}]
    assert pane["range"] == {"from": "1795657800000", "to": "now"}  # 2026-11-26T01:50:00Z in ms


def test_links_only_when_known_and_only_http():
    rec = demo_record()
    rec["alerts"][0]["annotations"].pop("runbook_url")
    tree = assert_safe(pages.render_investigation(rec))  # no externalURL, generatorURL, Grafana
    assert not [a for a in tree.find_all("a") if a.attrs.get("href", "").startswith(("http", "javascript"))]
    rec["alerts"][0]["annotations"]["runbook_url"] = "javascript:alert(1)"
    assert not [a for a in assert_safe(pages.render_investigation(rec)).find_all("a")
                if "alert(1)" in a.attrs.get("href", "")]
    rec["externalURL"] = "javascript:alert(1)//"
    rec["alerts"][0]["generatorURL"] = "javascript:alert(1)//?g0.expr=up"
    for doc in (pages.render_investigation(rec, grafana_url="https://grafana.example.org"),
                pages.render_investigation(dict(rec, alerts=[dict(rec["alerts"][0], generatorURL="data:,x")]))):
        hrefs = [a.attrs.get("href", "") for a in assert_safe(doc).find_all("a")]
        assert not [h for h in hrefs if h.startswith(("javascript", "data", "http"))], hrefs
    # a generatorURL without a query still links to Prometheus, but gives Grafana nothing to explore
    rec["alerts"][0]["generatorURL"] = "http://prometheus:9090/graph"
    tree = assert_safe(pages.render_investigation(rec, grafana_url="https://grafana.example.org"))
    texts = [a.text() for a in tree.find_all("a")]
    assert "Graph in Prometheus" in texts and "Explore in Grafana" not in texts


def test_matchers_quote_like_alertmanager():
    assert pages.matchers({"b": 'say "hi"', "a": "c:\\dir", "bad-name": "x", "n": "l1\nl2"}) == \
        '{a="c:\\\\dir",b="say \\"hi\\"",n="l1\\nl2"}'
    assert pages.matchers({}) == "{}"


def test_webhook_urls_are_kept_checked_and_redacted(tmp_path):
    from sre_expert.edges.webhook.payload import parse_webhook, redacted
    from sre_expert.edges.webhook.store import Store

    alert = {"status": "firing", "labels": {"alertname": "A", "namespace": "n"}, "annotations": {},
             "startsAt": "2026-11-26T02:50:00Z", "fingerprint": "1111111111111111",
             "generatorURL": "http://prometheus:9090/graph?g0.expr=up&password=hunter2hunter2"}
    doc = {"version": "4", "status": "firing", "receiver": "r", "groupKey": "{}:{a}", "commonLabels": {"alertname": "A"},
           "externalURL": "http://alertmanager:9093", "alerts": [alert, dict(alert, fingerprint="2222222222222222",
                                                                             generatorURL="javascript:alert(1)")]}
    payload, errors = parse_webhook(doc)
    assert not errors and payload is not None
    assert [a["generatorURL"] for a in payload["alerts"]][1] is None
    store = Store(str(tmp_path / "db.sqlite"))
    try:
        (inv,) = store.ingest(redacted(payload))
        rec = store.get(inv)
        assert rec["externalURL"] == "http://alertmanager:9093"
        first = rec["alerts"][0]["generatorURL"]
        assert first.startswith("http://prometheus:9090/graph?g0.expr=up") and "hunter2hunter2" not in first
        assert rec["alerts"][1]["generatorURL"] is None
        listed, _ = store.list()
        assert listed[0]["externalURL"] == "http://alertmanager:9093"
    finally:
        store.close()
