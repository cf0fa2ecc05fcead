"""Events and conditions as evidence: the events of an object within a window, the newest per reason, and
the one-line forms (`event Warning BackOff ×12, last 2m ago: "…"`, `status.conditions[Ready]: False …`)
that findings quote, with messages folded and clipped to one length everywhere.

Needs only the Snapshot (its capture time and event index); shared by the area checks and their models.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sre_expert.core.k8s import Obj
from sre_expert.core.model import Key
from sre_expert.core.snapshot import Snapshot, event_time
from sre_expert.core.timeutil import human, parse_time
from sre_expert.core.wording import quote

RECENT = timedelta(hours=1)


def ago(snap: Snapshot, timestamp: str | datetime | None) -> str:
    """'12m ago' for a timestamp, '' when unknown."""
    t = timestamp if isinstance(timestamp, datetime) else parse_time(timestamp)
    if t is None:
        return ""
    return f"{human(snap.now - t)} ago"


def cond_line(snap: Snapshot, c: Obj, prefix: str = "status.conditions") -> str:
    """`status.conditions[Ready]: Unknown (NodeStatusUnknown) "Kubelet stopped posting …" since …`."""
    parts = [f"{prefix}[{c.get('type')}]: {c.get('status')}"]
    if c.get("reason"):
        parts.append(f"({c['reason']})")
    if c.get("message"):
        parts.append(f'"{quote(c["message"])}"')
    since = c.get("lastTransitionTime")
    if since:
        parts.append(f"since {since} ({ago(snap, since)})")
    return " ".join(parts)


def event_count(ev: Obj) -> int:
    series = ev.get("series") or {}
    return int(series.get("count") or ev.get("count") or ev.get("deprecatedCount") or 1)


def event_message(ev: Obj) -> str:
    return quote(ev.get("message") or ev.get("note") or "")


def event_line(snap: Snapshot, ev: Obj) -> str:
    """`event Warning ProvisioningFailed ×12, last 2m ago: "…"` — the exact message, as kubectl shows it."""
    n = event_count(ev)
    when = ago(snap, event_time(ev))
    return (
        f"event {ev.get('type') or 'Normal'} {ev.get('reason') or '?'}"
        f'{f" ×{n}" if n > 1 else ""}{f", last {when}" if when else ""}: "{event_message(ev)}"'
    )


def recent_events(
    snap: Snapshot,
    obj: Obj | Key,
    reasons: tuple[str, ...] | None = None,
    warning_only: bool = False,
    within: timedelta = RECENT,
) -> list[Obj]:
    """Events of an object seen within `within` of the capture, oldest first."""
    cutoff = snap.now - within
    out = []
    for ev in snap.events_for(obj, warning_only=warning_only):
        if reasons and ev.get("reason") not in reasons:
            continue
        t = event_time(ev)
        if t is not None and t < cutoff:
            continue
        out.append(ev)
    return out


def latest_by_reason(events: list[Obj], limit: int = 3) -> list[Obj]:
    """The newest event of each reason (events oldest first in), Warnings first, then newest first."""
    seen: dict[str, Obj] = {}
    for ev in events:
        seen[ev.get("reason") or ""] = ev
    newest_first = list(reversed(list(seen.values())))
    newest_first.sort(key=lambda e: e.get("type") != "Warning")
    return newest_first[:limit]


def fmt_event(ev: Obj) -> str:
    """`event Warning BackOff x12: …` — type, reason, count and the message quoted on one line, without the age."""
    count = ev.get("count") or (ev.get("series") or {}).get("count") or 1
    times = f" x{count}" if count > 1 else ""
    return f"event {ev.get('type') or 'Normal'} {ev.get('reason')}{times}: {quote(ev.get('message'))}"
