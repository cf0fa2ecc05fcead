"""Notifications through an outbox: a Slack-compatible incoming webhook and a generic JSON webhook.

Why an outbox table: a receiver that is down for a minute must not lose the message, and neither must
a restart. Each notification is a row; a sender thread posts what is due, and on failure schedules the
next attempt with exponential backoff until `max_attempts`, after which the row is `failed` and the
record says why. Messages are built from the stored (already redacted) record and redacted again.

Two kinds: `result` (the investigation's root cause, once per root cause) and `resolved` (a short
"it is over" once the whole alert group has resolved, sent only to targets that got a result, so a
channel never hears of an end without its beginning).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from sre_expert.edges.webhook.store import LIST_ALERTS, StoreBase

log = logging.getLogger("sre_expert.edges.webhook")
EVIDENCE_LINES = 3
SECTION_MAX = 2900  # Slack rejects section text above 3000 characters
SEVERITY_ICON = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_blue_circle:"}


def _cut(text: str, n: int = SECTION_MAX) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _m(value: object) -> str:
    """Record text for Slack mrkdwn, escaped as Slack asks (&, <, >): alert labels and cluster text must not
    become `<!channel>` pings or `<https://phish|links>` in the on-call channel."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _scope_text(rec: dict[str, Any]) -> str:
    s = rec.get("scope") or {}
    if s.get("kind"):
        ns = f"{s['namespace']}/" if s.get("namespace") else ""
        return f"{s['kind']} {ns}{s.get('name')}"
    return f"namespace {s['namespace']}" if s.get("namespace") else "cluster"


def slack_message(rec: dict[str, Any], link: str | None) -> dict[str, Any]:
    """Slack incoming-webhook body: `text` for notifications, `blocks` for the message itself. Every value from
    the record is escaped (`_m`); only the link to the page is ours."""
    what = rec.get("alertname") or ("check" if rec.get("trigger") == "manual" else "alert")
    sev = rec.get("severity")
    head = _m(f"{'[' + sev.upper() + '] ' if sev else ''}{what} · {_scope_text(rec)}")
    text = f"{head}: {_m(rec.get('summary') or '')}"
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": _cut(f"{SEVERITY_ICON.get(sev or '', '')} *{head}*".strip())}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _cut(_m(rec.get("summary") or "no summary"))}},
    ]
    root = rec.get("rootCause")
    if root:
        obj = root.get("object") or {}
        ns = f"{obj['namespace']}/" if obj.get("namespace") else ""
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(_m(
            f"*Root cause* `{root.get('code')}` on {obj.get('kind')} {ns}{obj.get('name')}\n{root.get('title', '')}"))}})
        evidence = [e for e in root.get("evidence") or () if e][:EVIDENCE_LINES]
        if evidence:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(
                "*Evidence*\n```" + "\n".join(_m(e.replace("```", "'''")) for e in evidence) + "```")}})
        fixes = [r for r in root.get("remediation") or () if r.get("description")][:2]
        if fixes:
            lines = [f"• {r['description']}" + (f": `{r['command']}` ({r.get('safety')})" if r.get("command") else "")
                     for r in fixes]
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(_m("*Fix*\n" + "\n".join(lines)))}})
    if link:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{link}|Investigation {_m(rec['id'])}>"}]})
        text += f" {link}"
    return {"text": _cut(text, 3000), "blocks": blocks}


def webhook_message(rec: dict[str, Any], link: str | None) -> dict[str, Any]:
    """The record itself (without the scoped report, which can be large; its first alerts and
    `alertsTotal`) plus its link and `"event": "investigated"`."""
    out = {k: v for k, v in rec.items() if k != "report"}
    out["event"] = "investigated"
    out["link"] = link
    return out


def slack_resolved_message(rec: dict[str, Any], link: str | None) -> dict[str, Any]:
    """A short Slack message: the group is over, what it was about, and what its root cause had been."""
    what = rec.get("alertname") or "alert"
    total = rec.get("alertsTotal") or len(rec.get("alerts") or ())
    head = _m(f"[RESOLVED] {what} · {_scope_text(rec)}")
    root = rec.get("rootCause") or {}
    line = f"{total} alert{'s' if total != 1 else ''} resolved"
    if root.get("code"):
        line += f"; the root cause was `{_m(root['code'])}`"
    text = f"{head}: {line}"
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": _cut(f":white_check_mark: *{head}*\n{line}")}}]
    if link:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{link}|Investigation {_m(rec['id'])}>"}]})
        text += f" {link}"
    return {"text": _cut(text, 3000), "blocks": blocks}


def webhook_resolved_message(rec: dict[str, Any], link: str | None) -> dict[str, Any]:
    """Just enough to close the incident on the receiving side: ids, scope, when, and the root cause's code."""
    root = rec.get("rootCause") or {}
    keep = ("id", "status", "trigger", "groupKey", "alertname", "severity", "scope", "summary", "createdAt",
            "resolvedAt", "alertsTotal")
    return {"event": "resolved", **{k: rec.get(k) for k in keep}, "rootCauseCode": root.get("code"), "link": link}


MESSAGES: dict[tuple[str, str], Callable[[dict[str, Any], str | None], dict[str, Any]]] = {
    ("slack", "result"): slack_message, ("webhook", "result"): webhook_message,
    ("slack", "resolved"): slack_resolved_message, ("webhook", "resolved"): webhook_resolved_message,
}


READ_LIMIT = 65536  # bytes of a receiver's answer read before the connection is dropped


class SendRefused(RuntimeError):
    """The receiver answered, but not with 2xx (a redirect included: it is not followed)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status} {reason}".rstrip())
        self.status = status


def post_json(url: str, body: dict[str, Any], headers: Mapping[str, str] | None = None, timeout: float = 10.0) -> None:
    """POST JSON (with `headers`, e.g. Idempotency-Key); raises on a non-2xx answer or a network error.
    Redirects are not followed: the message would arrive at another address as a GET without its body."""
    import httpx

    from sre_expert.sources.http_client import system_tls

    sent = {**(headers or {}), "Content-Type": "application/json", "User-Agent": "sre-expert"}
    with (httpx.Client(verify=system_tls(), follow_redirects=False) as client,
          client.stream("POST", url, content=orjson.dumps(body), timeout=timeout, headers=sent) as resp):
        got = 0
        for chunk in resp.iter_bytes():
            got += len(chunk)
            if got >= READ_LIMIT:
                break
        if not 200 <= resp.status_code < 300:
            raise SendRefused(resp.status_code, resp.reason_phrase)


class Notifier:
    """The outbox sender thread. Each send carries the notification's `Idempotency-Key` header: a replica
    that dies between sending and marking sent leaves a claim that expires, the message is sent again
    with the same key, and the receiver can drop the repeat."""

    def __init__(self, store: StoreBase, *, external_url: str | None, base_delay: float = 2.0, max_attempts: int = 6,
                 sender: Callable[[str, dict[str, Any], Mapping[str, str]], None] = post_json,
                 on_result: Callable[[str, bool], None] | None = None):
        self.store = store
        self.external_url = (external_url or "").rstrip("/") or None
        self.base_delay = base_delay
        self.max_attempts = max_attempts
        self.sender = sender
        self.on_result = on_result
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def link(self, inv_id: str) -> str | None:
        return f"{self.external_url}/investigations/{inv_id}" if self.external_url else None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="sre-expert-notifier", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.store._wake()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                sent = self.send_due()
            except Exception as e:  # the db is busy or closing: try again later, never die
                from sre_expert.safety.redact import redact

                log.error("notification outbox failed: %s", redact(f"{type(e).__name__}: {e}"))
                sent = 0
            if sent:
                continue
            nxt = self.store.next_notification_at()
            wait = 1.0 if nxt is None else min(1.0, max(0.01, nxt - time.time()))
            self.store.wait_for_work(wait)

    def send_due(self) -> int:
        """Send every due notification once; returns how many were attempted."""
        from sre_expert.safety.redact import redact, redact_obj

        due = self.store.due_notifications()
        for n in due:
            rec = self.store.get(n["investigation"], with_report=False, alerts_limit=LIST_ALERTS)
            if rec is None:
                self.store.notification_result(n["id"], ok=False, error="investigation not found", next_at=None)
                continue
            build = MESSAGES[("slack" if n["target"] == "slack" else "webhook", n.get("kind") or "result")]
            body = redact_obj(build(rec, self.link(rec["id"])))
            try:
                self.sender(n["url"], body, {"Idempotency-Key": n["idempotencyKey"]})
            except Exception as e:
                err = redact(without_url(_error_text(e), n["url"]))[:500]
                attempts = n["attempts"] + 1
                nxt = None if attempts >= self.max_attempts else time.time() + self.base_delay * 2 ** (attempts - 1)
                self.store.notification_result(n["id"], ok=False, error=err, next_at=nxt)
                if self.on_result:
                    self.on_result(n["target"], False)
            else:
                self.store.notification_result(n["id"], ok=True, error=None, next_at=None)
                if self.on_result:
                    self.on_result(n["target"], True)
        return len(due)


def url_problem(url: str) -> str | None:
    """Why a notification target URL can never be posted to, without quoting it (a Slack webhook URL is a
    credential); None when it can."""
    from urllib.parse import urlsplit

    if any(c.isspace() or not c.isprintable() for c in url):
        return "it holds a space, a newline or a control character (a Secret file's trailing newline?)"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "it is not a URL"
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "it is not an http:// or https:// URL with a host"
    return None


def without_url(text: str, url: str) -> str:
    """`text` (a send error) without the target URL or any part of its path: an HTTP library may quote the
    path alone, and the path of a Slack webhook URL is its secret."""
    from urllib.parse import urlsplit

    try:
        path = urlsplit(url).path
    except ValueError:
        path = ""
    for part in sorted({url, url.strip(), path, path.strip(), *(p for p in path.split("/") if len(p) >= 8)},
                       key=len, reverse=True):
        if part and part != "/":
            text = text.replace(part, "<the target URL>")
    return text


def _error_text(e: Exception) -> str:
    """Why a send failed, in the words the record shows (the caller removes the URL and redacts)."""
    import httpx

    from sre_expert.sources.http_client import transport_reason

    if isinstance(e, SendRefused):
        return str(e)
    if isinstance(e, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return f"not a usable URL: {e}"
    if isinstance(e, httpx.ConnectTimeout):
        return "unreachable: timed out"
    if isinstance(e, httpx.TimeoutException):  # connected, then no answer in time
        return "TimeoutError: timed out"
    if isinstance(e, httpx.RequestError):
        return f"unreachable: {transport_reason(e)}"
    return f"{type(e).__name__}: {e}"
