"""HTML pages of `sre-expert serve`: the investigations list, one investigation, the login form.

Pure functions from records (the JSON the API serves, see the serve contract) to complete documents. Every
value that comes from a record is escaped here, because all of it comes from the cluster or from
Alertmanager: labels, annotations, evidence lines and log excerpts are attacker-reachable text. Redaction
already happened when the record was stored; these functions only present.

No asset is loaded from anywhere (inline CSS, no script at all) and each page carries a
Content-Security-Policy that forbids scripts and outside requests, so a page renders behind a port-forward
with no internet and a missed escape still cannot run code. Links out (Prometheus, Alertmanager, Grafana)
are plain links a person follows; nothing is fetched from them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from sre_expert.render.chain_view import chain_html, object_text
from sre_expert.render.page_style import CSS
from sre_expert.safety.web_links import web_url

STATUSES = ("queued", "running", "done", "failed", "resolved")
SEVERITIES = ("critical", "warning", "info")
PENDING = ("queued", "running")
PAGE_ALERTS = 100  # alert cards drawn on an investigation page; the API serves the rest (alertsOffset)
REFRESH_SECONDS = 5  # how often a page with an investigation still in progress reloads itself

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
       "base-uri 'none'")

STATUS_TEXT = {
    "queued": "Investigation queued: waiting for a worker.",
    "running": "Investigation running: reading the cluster and linking findings.",
    "done": "Investigation done.",
    "failed": "Investigation failed.",
    "resolved": "The alert is resolved.",
}

UNKNOWN_SAFETY = ("unknown", "not classified; treat as a change and confirm first")
SAFETY_TEXT = {
    "read-only": ("read-only", "only reads; safe to run"),
    "mutating": ("mutating", "changes the cluster; needs confirmation"),
    "destructive": ("⚠ destructive", "can lose data or take things down; needs explicit confirmation"),
}


# ------------------------------------------------------------------------------------------------ helpers


def esc(value: Any) -> str:
    """Text of any value, escaped for HTML text and attribute values alike; None is empty."""
    return "" if value is None else escape(str(value), quote=True)


def investigation_href(inv_id: Any) -> str:
    return "/investigations/" + quote(str(inv_id or ""), safe="")


def _doc(title: str, body: str, *, where: str = "", refresh: int | None = None,
         signed_in: bool = True) -> str:
    """A complete page; `signed_in` pages (all but the sign-in form) offer sign-out in the header."""
    refresh_tag = f'<meta http-equiv="refresh" content="{int(refresh)}">' if refresh else ""
    where_tag = f'<span class="where">{esc(where)}</span>' if where else ""
    signout = ('<form class="signout" method="post" action="/logout">'
               '<button type="submit">Sign out</button></form>' if signed_in else "")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">'
        '<meta name="color-scheme" content="light dark">'
        '<meta name="referrer" content="no-referrer">'
        f"{refresh_tag}"
        '<link rel="icon" href="data:,">'
        f"<title>{esc(title)}</title>"
        f"<style>{CSS}</style></head><body>"
        '<header class="top"><div class="wrap">'
        '<a class="brand" href="/">sre-expert</a>'
        f"{where_tag}{signout}</div></header>"
        f'<main class="wrap" id="main">{body}</main>'
        "</body></html>\n"
    )


def format_time(ts: Any) -> str:
    """An RFC3339 timestamp as a <time> element in UTC (`2026-11-26 03:06:12 UTC`); empty when missing."""
    if not ts:
        return ""
    text = str(ts)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return f"<time>{esc(text)}</time>"
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    if dt.year <= 1:  # Alertmanager's "no end" (0001-01-01T00:00:00Z)
        return ""
    shown = dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f'<time datetime="{esc(text)}">{shown}</time>'


def status_badge(status: Any) -> str:
    s = str(status or "unknown")
    cls = f"st-{s}" if s in STATUSES else "st-queued"
    return f'<span class="badge {cls}">{esc(s)}</span>'


def severity_badge(severity: Any) -> str:
    if not severity:
        return '<span class="badge sev-none">no severity</span>'
    s = str(severity)
    cls = f"sev-{s}" if s in SEVERITIES else "sev-none"
    return f'<span class="badge {cls}">{esc(s)}</span>'


def scope_text(scope: dict[str, Any] | None) -> str:
    """`namespace · Kind name` from a record's scope; `cluster-wide` when it names nothing."""
    scope = scope or {}
    ns, kind, name = scope.get("namespace"), scope.get("kind"), scope.get("name")
    obj = " ".join(str(p) for p in (kind, name) if p)
    parts = [str(p) for p in (ns, obj) if p]
    return " · ".join(parts) if parts else "cluster-wide"


def alert_title(record: dict[str, Any]) -> str:
    if record.get("alertname"):
        return str(record["alertname"])
    return "Manual check" if record.get("trigger") == "manual" else "Investigation"


def _labels(labels: dict[str, Any] | None) -> str:
    if not labels:
        return '<p class="muted">none</p>'
    pairs = sorted(labels.items(), key=lambda kv: str(kv[0]))
    items = "".join(f"<li>{esc(k)}={esc(v)}</li>" for k, v in pairs)
    return f'<ul class="labels">{items}</ul>'


def _mono(value: Any) -> str:
    """A monospace span of `value`, or nothing when it is empty."""
    return f'<span class="mono">{esc(value)}</span>' if value else ""


def _facts(rows: list[tuple[str, str]], *, wide: bool = False) -> str:
    """A definition list of (label, already-escaped HTML) rows, skipping empty values; `wide` flows the pairs
    into two columns on a wide screen."""
    body = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in rows if v)
    return f'<dl class="facts{" wide" if wide else ""}">{body}</dl>'


# ------------------------------------------------------------------------------------------------ links out

LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def matchers(labels: dict[str, Any] | None) -> str:
    """`{a="1",b="x\\"y"}`: equality matchers for every label, sorted, values quoted the way Alertmanager
    parses them. Names that are not Prometheus label names are left out (no alert carries them)."""
    def quoted(v: Any) -> str:
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    pairs = sorted((str(k), v) for k, v in (labels or {}).items() if LABEL_NAME.fullmatch(str(k)))
    return "{" + ",".join(f"{k}={quoted(v)}" for k, v in pairs) + "}"


def alertmanager_links(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(text, URL) of the group's alerts and of a new silence for the group in the Alertmanager that sent
    it (its externalURL), both filtered by the labels every alert of the group shares; none without it."""
    base = web_url(record.get("externalURL"))
    labels = record.get("commonLabels") or {}
    if not base or not labels:
        return []
    base = base.rstrip("/")
    filt = matchers(labels)
    comment = f"sre-expert investigation {record.get('id') or ''}".strip()
    # %20, not +, for spaces: the UI reads these from the URL fragment, where + is not a space
    alerts = urlencode({"filter": filt}, quote_via=quote)
    silence = urlencode({"filter": filt, "comment": comment}, quote_via=quote)
    return [("The group in Alertmanager", f"{base}/#/alerts?{alerts}"),
            ("Silence this group", f"{base}/#/silences/new?{silence}")]


def alert_query(generator_url: Any) -> str | None:
    """The PromQL expression of a Prometheus generatorURL (`/graph?g0.expr=...`), if it carries one."""
    url = web_url(generator_url)
    if not url:
        return None
    exprs = parse_qs(urlsplit(url).query).get("g0.expr")
    return exprs[0] if exprs and exprs[0].strip() else None


def grafana_explore(grafana_url: str | None, expr: str | None, starts_at: Any) -> str | None:
    """Grafana Explore on the default data source with the alert's query, from an hour before it started
    until now; None without Grafana or a query."""
    base = web_url(grafana_url)
    if not base or not expr:
        return None
    start = "now-6h"
    try:
        started = datetime.fromisoformat(str(starts_at).replace("Z", "+00:00"))
        if started.year > 1:
            start = str(int((started - timedelta(hours=1)).timestamp() * 1000))
    except ValueError:
        pass
    pane = {"sre": {"queries": [{"refId": "A", "expr": expr}], "range": {"from": start, "to": "now"}}}
    query = urlencode({"schemaVersion": 1, "panes": json.dumps(pane, separators=(",", ":"))}, quote_via=quote)
    return f"{base.rstrip('/')}/explore?{query}"


def _links(pairs: Sequence[tuple[str, str | None]]) -> str:
    """Links out, as a row; each href was checked to be http(s) by web_url."""
    items = [f'<li><a href="{esc(url)}" rel="noreferrer">{esc(text)}</a></li>' for text, url in pairs if url]
    return f'<ul class="links">{"".join(items)}</ul>' if items else ""


# ------------------------------------------------------------------------------------------------ list


def render_list(items: list[dict[str, Any]], *, total: int, status: str | None,
                offset: int = 0, limit: int | None = None, cluster: str | None = None,
                clusters: list[tuple[str, int]] | None = None) -> str:
    """The investigations page: filters by status (and by cluster when `clusters`, the configured ones
    with their investigation counts, is given), one row per investigation, newest first as given.

    offset/limit only draw the "newer/older" links; the caller has already sliced `items`."""
    current = status if status in STATUSES else None
    in_cluster = {"cluster": cluster} if cluster else {}
    all_href = "/?" + urlencode(in_cluster) if cluster else "/"
    filters = [f'<li><a href="{esc(all_href)}"' + (' aria-current="page"' if current is None else "") + ">All</a></li>"]
    for s in STATUSES:
        cur = ' aria-current="page"' if s == current else ""
        filters.append(f'<li><a href="/?{esc(urlencode({**in_cluster, "status": s}))}"{cur}>{esc(s.capitalize())}</a></li>')
    nav = f'<nav aria-label="Filter by status"><ul class="filters">{"".join(filters)}</ul></nav>'
    if clusters is not None:
        nav = _cluster_nav(clusters, cluster, current) + nav

    heading = "Investigations" + (f" in {cluster}" if cluster else "") + (f": {current}" if current else "")
    shown = len(items)
    if shown and (offset or shown < total):
        count = f"Showing {offset + 1}–{offset + shown} of {total}."
    else:
        count = f"{total} investigation{'s' if total != 1 else ''}."

    if not items:
        what = f"with status “{esc(current)}”" if current else "yet"
        body = (f'<div class="panel empty"><p><strong>No investigations {what}.</strong></p>'
                '<p class="muted">An investigation starts when Alertmanager posts a firing alert to '
                "<code>/api/v1/alerts</code>, or with a manual check "
                "(<code>POST /api/v1/check</code>).</p></div>")
    else:
        rows = "".join(_list_row(it) for it in items)
        body = (
            f'<p class="count muted">{esc(count)}</p>'
            '<table class="investigations"><thead><tr>'
            '<th scope="col" class="state">Status</th><th scope="col" class="what">Alert and scope</th>'
            '<th scope="col" class="summary">Summary</th><th scope="col" class="when">Updated</th>'
            f'</tr></thead><tbody>{rows}</tbody></table>'
        )
    pager = _pager(current, offset, limit, shown, total, cluster)
    return _doc(f"{heading} · sre-expert", f"<h1>{esc(heading)}</h1>{nav}{body}{pager}",
                where="Investigations")


def _cluster_nav(clusters: list[tuple[str, int]], current: str | None, status: str | None) -> str:
    """The clusters with their investigation counts, each a filter (keeping the status filter)."""
    keep = {"status": status} if status else {}
    links = ['<li><a href="' + esc("/?" + urlencode(keep) if keep else "/") + '"'
             + (' aria-current="page"' if current is None else "") + ">Every cluster</a></li>"]
    for name, count in clusters:
        cur = ' aria-current="page"' if name == current else ""
        links.append(f'<li><a href="/?{esc(urlencode({"cluster": name, **keep}))}"{cur}>{esc(name)} '
                     f'<span class="muted">({count})</span></a></li>')
    return f'<nav aria-label="Filter by cluster"><ul class="filters clusters">{"".join(links)}</ul></nav>'


def _list_row(it: dict[str, Any]) -> str:
    href = investigation_href(it.get("id"))
    status = it.get("status")
    summary = it.get("summary") or ""
    if not summary:
        summary_html = f'<span class="muted">{esc(STATUS_TEXT.get(str(status), ""))}</span>'
    else:
        summary_html = esc(summary)
    if status == "failed" and it.get("error"):
        summary_html += f'<br><span class="muted">error: {esc(it.get("error"))}</span>'
    created = format_time(it.get("createdAt"))
    return (
        "<tr>"
        f'<td class="state">{status_badge(status)} {severity_badge(it.get("severity"))}</td>'
        f'<td class="what"><a class="name" href="{esc(href)}">{esc(alert_title(it))}</a>{_alert_count(it)}'
        + (f'<span class="cluster">cluster <strong>{esc(it["cluster"])}</strong></span>' if it.get("cluster") else "")
        + f'<span class="scope">{_scope_cell(it.get("scope"))}</span>'
        f'<span class="muted mono id">{esc(it.get("id"))}</span></td>'
        f'<td class="summary">{summary_html}</td>'
        f'<td class="when">{format_time(it.get("updatedAt"))}'
        + (f'<span class="muted created">created {created}</span>' if created else "")
        + "</td></tr>"
    )


def _alert_count(it: dict[str, Any]) -> str:
    """How many alerts the group holds (list items carry only the first few, the count is exact)."""
    total = it.get("alertsTotal")
    if not isinstance(total, int):
        total = len(it.get("alerts") or [])
    return f' <span class="muted nowrap">· {total} alerts</span>' if total > 1 else ""


def _scope_cell(scope: dict[str, Any] | None) -> str:
    """Namespace on its own unbroken line, the object under it: names with dashes stay readable."""
    scope = scope or {}
    ns = scope.get("namespace")
    obj = " ".join(str(p) for p in (scope.get("kind"), scope.get("name")) if p)
    if not ns:
        return esc(scope_text(scope))
    return f'<span class="nowrap">{esc(ns)}</span>' + (f" · {esc(obj)}" if obj else "")


def _pager(status: str | None, offset: int, limit: int | None, shown: int, total: int,
           cluster: str | None = None) -> str:
    if not limit:
        return ""
    links = []

    def href(off: int) -> str:
        q: dict[str, Any] = {"cluster": cluster} if cluster else {}
        if status:
            q["status"] = status
        if off:
            q["offset"] = off
        q["limit"] = limit
        return "/?" + urlencode(q)

    if offset > 0:
        links.append(f'<a href="{esc(href(max(0, offset - limit)))}">← Newer</a>')
    if offset + shown < total:
        links.append(f'<a href="{esc(href(offset + limit))}">Older →</a>')
    return f'<nav class="pager" aria-label="Pages">{"".join(links)}</nav>' if links else ""


# ------------------------------------------------------------------------------------------------ detail


def render_investigation(record: dict[str, Any], *, grafana_url: str | None = None) -> str:
    """One investigation: what fired, the causal chain (once: boxes root cause first, the boxes after the
    root carrying their evidence and fix), the root cause with its evidence and fix, the rest of the
    scoped report, the alerts and the notifications."""
    status = str(record.get("status") or "")
    name = alert_title(record)
    scope = scope_text(record.get("scope"))
    root = record.get("rootCause")
    chain = [f for f in (record.get("chain") or []) if isinstance(f, dict)]
    if not chain and isinstance(root, dict):
        chain = [root]
    report = record.get("report") if isinstance(record.get("report"), dict) else None

    out: list[str] = [
        '<p class="muted"><a href="/">← All investigations</a></p>',
        f"<h1>{severity_badge(record.get('severity'))} {esc(name)} "
        f'<span class="muted">· {esc(scope)}</span> {status_badge(status)}</h1>',
        _state_banner(record, status),
    ]
    if record.get("summary") and not chain:  # with a chain, the summary is that chain in one line
        sev = record.get("severity")
        cls = f" sev-{sev}" if sev in SEVERITIES else ""
        out.append(f'<p class="summary-line{cls}">{esc(record["summary"])}</p>')

    candidates = [f for f in (record.get("candidates") or []) if isinstance(f, dict)]
    manual = record.get("trigger") == "manual"
    out.append('<section aria-labelledby="h-chain"><h2 id="h-chain">Causal chain</h2>')
    out.append(_chain_section(chain, status, report, [] if chain else candidates, manual=manual,
                              root_shown=isinstance(root, dict)))
    out.append("</section>")
    out.append(_header_facts(record, scope))

    if isinstance(root, dict):
        out.append('<section aria-labelledby="h-root">'
                   f'<h2 id="h-root">Root cause: <code>{esc(root.get("code"))}</code></h2>')
        out.append(_finding_body(root, heading_level=3))
        out.append("</section>")

    if chain and candidates:  # a manual check: the scope's other root causes
        out.append('<section aria-labelledby="h-roots"><h2 id="h-roots">Other root causes '
                   f"({len(candidates)})</h2>")
        out.extend(_finding_details(f) for f in candidates)
        out.append("</section>")

    if isinstance(record.get("trace"), dict):
        out.append(_trace_section(record["trace"]))

    if report is not None:
        out.append(_report_section(report, {str(f.get("id")) for f in chain + candidates}))

    out.append(_alerts_section(record, grafana_url))
    out.append(_notifications_section(record.get("notifications") or []))

    title = f"{status.upper() or '?'} · {name} · {scope} · sre-expert"
    refresh = REFRESH_SECONDS if status in PENDING else None
    return _doc(title, "".join(out), where=f"Investigation {record.get('id') or ''}", refresh=refresh)


def _state_banner(record: dict[str, Any], status: str) -> str:
    error = record.get("error")
    if status in PENDING:
        return (f'<div class="banner st-{status}" role="status"><strong>{esc(STATUS_TEXT[status])}</strong>'
                f"This page reloads every {REFRESH_SECONDS} seconds until the diagnosis is ready.</div>")
    if status == "failed":
        err = f'<pre class="cmd">{esc(error)}</pre>' if error else '<p>No error message was recorded.</p>'
        return (f'<div class="banner st-failed" role="alert"><strong>{esc(STATUS_TEXT["failed"])}</strong>'
                f"The diagnosis could not be completed:{err}</div>")
    if status == "resolved":
        when = format_time(record.get("resolvedAt"))
        at = f" at {when}" if when else ""
        return (f'<div class="banner st-resolved" role="status"><strong>The alert resolved{at}.</strong>'
                "The diagnosis below is from while it was firing.</div>")
    if error:
        return ('<div class="banner st-failed" role="alert"><strong>Error</strong>'
                f'<pre class="cmd">{esc(error)}</pre></div>')
    return ""


def _header_facts(record: dict[str, Any], scope: str) -> str:
    runbook = record.get("runbook")
    runbook_html = ""
    if isinstance(runbook, dict) and runbook.get("id"):
        title = f" — {esc(runbook.get('title'))}" if runbook.get("title") else ""
        runbook_html = (f"<code>{esc(runbook['id'])}</code>{title}<br>"
                        f'<code class="muted">sre-expert runbook show {esc(runbook["id"])}</code>')
    rows = [
        ("Status", status_badge(record.get("status"))),
        ("Cluster", esc(record.get("cluster"))),
        ("Alert", esc(record.get("alertname")) or esc(alert_title(record))),
        ("Severity", esc(record.get("severity"))),
        ("Trigger", esc(record.get("trigger"))),
        ("Scope", esc(scope)),
        ("Component", esc(record.get("component"))),
        ("Runbook", runbook_html),
        ("Receiver", esc(record.get("receiver"))),
        ("Alertmanager", _links(alertmanager_links(record))),
        ("Alertmanager group", _mono(record.get("groupKey"))),
        ("Created", format_time(record.get("createdAt"))),
        ("Updated", format_time(record.get("updatedAt"))),
        ("Resolved", format_time(record.get("resolvedAt"))),
        ("Investigation", _mono(record.get("id"))),
    ]
    return f'<div class="panel">{_facts(rows, wide=True)}</div>'


def _chain_section(chain: list[dict[str, Any]], status: str, report: dict[str, Any] | None,
                   candidates: list[dict[str, Any]], *, manual: bool = False, root_shown: bool = True) -> str:
    if not chain:
        if status in PENDING:
            return '<p class="muted">Not diagnosed yet.</p>'
        if status == "failed":
            return '<p class="muted">No diagnosis: the investigation failed (see the error above).</p>'
        if report is None and not candidates:
            return '<p class="muted">No diagnosis was recorded for this investigation.</p>'
        head = ("<p><strong>No finding in this scope.</strong> The checks found nothing broken here."
                if manual else "<p><strong>No finding explains this alert.</strong> The checks found no broken "
                "object behind the object it names.")
        if candidates:
            n = len(candidates)
            return (head + f" These {n} root cause{'s' if n != 1 else ''} in the same namespace may explain "
                    "it; they are candidates, not a diagnosis.</p>"
                    '<h3 id="h-candidates">Candidate causes</h3>'
                    + "".join(_finding_details(f) for f in candidates))
        n = len([f for f in (report or {}).get("findings") or [] if isinstance(f, dict)])
        more = (f" The scoped report holds {n} other finding{'s' if n != 1 else ''}, listed below."
                if n else " The scoped report holds no finding.")
        return head + more + "</p>"
    to_root = '<p class="more"><a href="#h-root">Evidence and fix below ↓</a></p>'
    inner = [to_root if i == 0 and root_shown else
             '<details class="more"><summary>Evidence and fix</summary>'
             f"{_finding_body(f, heading_level=4, in_box=True)}</details>" for i, f in enumerate(chain)]
    return (
        '<p class="muted chain-note">Root cause at the top; each finding causes the one below it, down to '
        + ("the finding checked." if manual else "the object the alert is about.") + "</p>"
        + chain_html(chain, end_label="Symptom" if manual else "Alerted object", inner=inner)
    )


def _evidence(lines: list[Any]) -> str:
    if not lines:
        return '<p class="muted">No evidence recorded.</p>'
    return '<ul class="evidence">' + "".join(f"<li>{esc(e)}</li>" for e in lines) + "</ul>"


def _remediation(steps: list[dict[str, Any]]) -> str:
    if not steps:
        return '<p class="muted">No remediation recorded.</p>'
    items = []
    for step in steps:
        safety = str(step.get("safety") or "unknown")
        label, note = SAFETY_TEXT.get(safety, UNKNOWN_SAFETY)
        cls = safety if safety in SAFETY_TEXT else "unknown"
        cmd = step.get("command")
        cmd_html = (f'<pre class="cmd"><code>{esc(cmd)}</code></pre>' if cmd
                    else '<p class="muted">Manual step: no command.</p>')
        items.append(
            f'<li class="{esc(cls)}" data-safety="{esc(cls)}">'
            f'<span class="badge safety-{esc(cls)}">{esc(label)}</span>'
            f'<span class="safety-note muted">{esc(note)}</span><br>'
            f'{esc(step.get("description"))}{cmd_html}</li>'
        )
    return f'<ol class="steps">{"".join(items)}</ol>'


def _finding_body(f: dict[str, Any], *, heading_level: int, in_box: bool = False) -> str:
    """Title, facts, detail, evidence and fix of a finding; `in_box` (folded inside its chain box, which
    already shows the title, code, object and severity) leaves those out."""
    h = f"h{heading_level}"
    runbook = f.get("runbook")
    rows = [
        ("Severity", "" if in_box else severity_badge(f.get("severity"))),
        ("Object", "" if in_box else f'<span class="mono">{esc(object_text(f.get("object")))}</span>'),
        ("Component", esc(f.get("component"))),
        ("Runbook", f"<code>{esc(runbook)}</code>" if runbook else ""),
    ]
    detail = f'<p>{esc(f.get("detail"))}</p>' if f.get("detail") else ""
    title = "" if in_box else f'<p><strong>{esc(f.get("title"))}</strong></p>'
    return (
        f'{title}{_facts(rows)}{detail}'
        f"<{h}>Evidence</{h}>{_evidence(f.get('evidence') or [])}"
        f"<{h}>Remediation</{h}>{_remediation(f.get('remediation') or [])}"
    )


def _finding_details(f: dict[str, Any]) -> str:
    root = ' <span class="badge st-failed">root cause</span>' if f.get("rootCause") else ""
    return (
        f'<details class="finding"><summary>{severity_badge(f.get("severity"))}{root} '
        f'<code>{esc(f.get("code"))}</code> {_mono(object_text(f.get("object")))}: '
        f'{esc(f.get("title"))}</summary>'
        f"{_finding_body(f, heading_level=4)}</details>"
    )


TRACE_MARK = {"passed": ("✔ passed", "st-resolved"), "failed": ("✘ failed", "st-failed"),
              "skipped": ("· skipped", "st-queued")}


def _trace_section(trace: dict[str, Any]) -> str:
    """The outside-in request trace (commands/trace.py JSON): each hop with its verdict and evidence."""
    parts = ['<section aria-labelledby="h-trace">', '<h2 id="h-trace">Request path</h2>']
    target = esc(trace.get("target"))
    if not trace.get("resolved", True):
        parts.append(f'<p>The trace could not resolve <code>{target}</code>: {esc(trace.get("message"))}</p>')
    else:
        verdict = ("every hop passed" if trace.get("ok")
                   else f"broken at the <strong>{esc(trace.get('brokenHop') or '?')}</strong> hop")
        parts.append(f"<p>Followed a request to <code>{target}</code> outside-in: {verdict}.</p>")
    hops = [h for h in trace.get("hops") or [] if isinstance(h, dict)]
    if hops:
        items = []
        for h in hops:
            st = str(h.get("status") or "")
            label, cls = TRACE_MARK.get(st, (st or "?", "st-queued"))
            note = f'<p class="muted">{esc(h.get("note"))}</p>' if h.get("note") else ""
            inner = f"{note}{_evidence(h.get('evidence') or [])}"
            if h.get("fix") and st == "failed":
                inner += f"<h4>Fix</h4>{_remediation(h.get('fix') or [])}"
            open_attr = " open" if st == "failed" else ""
            items.append(
                f'<li data-status="{esc(st)}"><details class="finding"{open_attr}><summary>'
                f'<span class="badge {cls}">{esc(label)}</span> <strong>{esc(h.get("name"))}</strong>: '
                f"{esc(h.get('title'))}</summary>{inner}</details></li>"
            )
        parts.append(f'<ol class="hops">{"".join(items)}</ol>')
    impact = trace.get("impact") or {}
    also = [f"{esc(k)}: {esc(', '.join(str(x) for x in v))}" for k, v in impact.items() if v]
    if also:
        parts.append("<p><strong>Also affected by the broken hop:</strong> " + "; ".join(also) + "</p>")
    parts.append("</section>")
    return "".join(parts)


def _report_section(report: dict[str, Any], in_chain: set[str]) -> str:
    findings = [f for f in report.get("findings") or []
                if isinstance(f, dict) and str(f.get("id")) not in in_chain]
    summary = report.get("summary") or {}
    counts = ", ".join(f"{summary.get(s, 0)} {s}" for s in SEVERITIES)
    captured = format_time(report.get("capturedAt"))
    head = (f'<p class="muted">Scoped report of cluster {esc(report.get("cluster"))}'
            f"{', captured ' + captured if captured else ''}: {esc(counts)}.</p>")
    parts = ['<section aria-labelledby="h-other">',
             f'<h2 id="h-other">Other findings in scope ({len(findings)})</h2>', head]
    if findings:
        parts.extend(_finding_details(f) for f in findings)
    else:
        parts.append('<p class="muted">None besides the chain.</p>')
    not_checked = report.get("notChecked") or []
    if not_checked:
        parts.append("<h3>Not checked</h3><ul>" + "".join(f"<li>{esc(t)}</li>" for t in not_checked)
                     + "</ul>")
    errors = report.get("collectionErrors") or []
    if errors:
        rows = []
        for e in errors:
            if isinstance(e, dict):
                where = f" in {esc(e.get('namespace'))}" if e.get("namespace") else ""
                rows.append(f"<li><code>{esc(e.get('kind'))}</code>{where}: {esc(e.get('error'))}</li>")
        parts.append(f"<h3>Could not read</h3><ul>{''.join(rows)}</ul>")
    parts.append("</section>")
    return "".join(parts)


def _alerts_section(record: dict[str, Any], grafana_url: str | None = None) -> str:
    alerts = [a for a in record.get("alerts") or [] if isinstance(a, dict)]
    total = record.get("alertsTotal")
    total = total if isinstance(total, int) and total >= len(alerts) else len(alerts)
    parts = ['<section aria-labelledby="h-alerts">', f'<h2 id="h-alerts">Alerts ({total})</h2>']
    if total > len(alerts):
        rid = quote(str(record.get("id") or ""), safe="")
        rest = f"/api/v1/investigations/{rid}?{urlencode({'alertsOffset': len(alerts)})}"
        parts.append(f'<p class="muted">Showing the first {len(alerts)} of {total} alerts; '
                     f'<a href="{esc(rest)}">the other {total - len(alerts)} as JSON</a>.</p>')
    if record.get("commonLabels"):
        parts.append(f"<h3>Common labels</h3>{_labels(record.get('commonLabels'))}")
    if not alerts:
        what = "a manual check, no alert" if record.get("trigger") == "manual" else "no alert recorded"
        parts.append(f'<p class="muted">None: {esc(what)}.</p>')
    for a in alerts:
        st = str(a.get("status") or "")
        st_cls = "st-failed" if st == "firing" else ("st-resolved" if st == "resolved" else "st-queued")
        labels = a.get("labels") or {}
        ann = a.get("annotations") or {}
        pairs = "".join(f"<dt>{esc(k)}</dt><dd>{_annotation(v)}</dd>"
                        for k, v in sorted(ann.items(), key=lambda kv: str(kv[0])))
        ann_html = f'<dl class="facts annotations">{pairs}</dl>' if ann else '<p class="muted">none</p>'
        rows = [("Started", format_time(a.get("startsAt"))), ("Ended", format_time(a.get("endsAt"))),
                ("Fingerprint", _mono(a.get("fingerprint")))]
        generator = web_url(a.get("generatorURL"))
        explore = grafana_explore(grafana_url, alert_query(generator), a.get("startsAt"))
        links = _links([("Graph in Prometheus", generator), ("Explore in Grafana", explore)])
        parts.append(
            f'<div class="panel alert-card"><h3><span class="badge {st_cls}">{esc(st or "unknown")}</span> '
            f'{esc(labels.get("alertname") or record.get("alertname") or "")}</h3>'
            f"{links}{_facts(rows)}<h4>Labels</h4>{_labels(labels)}<h4>Annotations</h4>{ann_html}</div>"
        )
    parts.append("</section>")
    return "".join(parts)


def _annotation(value: Any) -> str:
    """An annotation's text; one that is a whole http(s) URL (runbook_url, dashboard links) is a link."""
    text = value.strip() if isinstance(value, str) else ""
    url = web_url(text) if text and not any(c.isspace() for c in text) else None
    return f'<a href="{esc(url)}" rel="noreferrer">{esc(value)}</a>' if url else esc(value)


def _notifications_section(notes: list[dict[str, Any]]) -> str:
    head = '<section aria-labelledby="h-notify"><h2 id="h-notify">Notifications</h2>'
    if not notes:
        return head + '<p class="muted">None sent: no Slack or webhook target is configured.</p></section>'
    rows = []
    for n in notes:
        if not isinstance(n, dict):
            continue
        st = str(n.get("status") or "")
        cls = {"sent": "st-resolved", "failed": "st-failed", "pending": "st-queued"}.get(st, "st-queued")
        kind = f' <span class="muted">({esc(n.get("kind"))})</span>' if n.get("kind") not in (None, "result") else ""
        rows.append(
            f"<tr><td>{esc(n.get('target'))}{kind}</td><td><span class=\"badge {cls}\">{esc(st)}</span></td>"
            f"<td>{esc(n.get('attempts'))}</td><td class=\"summary\">{esc(n.get('lastError'))}</td>"
            f"<td class=\"when\">{format_time(n.get('at'))}</td></tr>"
        )
    cols = "".join(f'<th scope="col">{c}</th>' for c in ("Target", "Status", "Attempts", "Last error", "At"))
    return (head + f'<table class="notifications"><thead><tr>{cols}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></section>')


# ------------------------------------------------------------------------------------------------ login


def render_login(error: str | None) -> str:
    """The token form. It posts to /login, which sets the HttpOnly cookie and redirects to /."""
    err = (f'<div class="banner st-failed" role="alert"><strong>{esc(error)}</strong></div>' if error else "")
    body = (
        '<form class="login panel" method="post" action="/login">'
        "<h1>Sign in</h1>"
        '<p class="muted">Paste the API token of this server '
        "(the value of <code>SRE_EXPERT_TOKEN</code>).</p>"
        f"{err}"
        '<label for="token">Token</label>'
        '<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>'
        '<button type="submit">Sign in</button>'
        "</form>"
    )
    return _doc("Sign in · sre-expert", body, signed_in=False)


def render_error(status_code: int, message: str) -> str:
    """A plain error page (unknown investigation, bad request) in the same style."""
    body = (f'<h1>{esc(status_code)}</h1><p>{esc(message)}</p>'
            '<p><a href="/">← All investigations</a></p>')
    return _doc(f"{status_code} · sre-expert", body)
