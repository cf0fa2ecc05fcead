"""Timestamps as the API server writes them (RFC 3339, UTC) and human durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def parse_time(value: str | None) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def human(delta: timedelta) -> str:
    """'3d4h', '12m', '40s': the compact form kubectl uses for ages."""
    secs = int(delta.total_seconds())
    sign = "-" if secs < 0 else ""
    secs = abs(secs)
    days, rem = divmod(secs, 86400)
    hours, rem = divmod(rem, 3600)
    mins, secs = divmod(rem, 60)
    if days:
        return f"{sign}{days}d{hours}h" if hours else f"{sign}{days}d"
    if hours:
        return f"{sign}{hours}h{mins}m" if mins else f"{sign}{hours}h"
    if mins:
        return f"{sign}{mins}m"
    return f"{sign}{secs}s"
