"""Timestamps as the API server writes them (RFC 3339, UTC) and human durations."""

from __future__ import annotations

from bisect import bisect_left
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
    """'3d4h', '12m', '40s': the compact form kubectl uses for ages. A negative delta (a timestamp after the
    capture time, i.e. clock skew or an estimated capture time) reads as '0s': an age is never negative."""
    secs = max(0, int(delta.total_seconds()))
    days, rem = divmod(secs, 86400)
    hours, rem = divmod(rem, 3600)
    mins, secs = divmod(rem, 60)
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h{mins}m" if mins else f"{hours}h"
    if mins:
        return f"{mins}m"
    return f"{secs}s"


def robust_latest(times: list[datetime], window: timedelta, support: int) -> datetime | None:
    """The latest of `times` that at least `support` other times fall within `window` before.

    Why: a capture time estimated as "the newest timestamp" moves with one stray object (a clock-skewed
    node, a hand-edited manifest two years ahead). A time that several others corroborate cannot be moved by
    fewer than `support` outliers. With fewer than support + 1 times the requirement shrinks to all of them;
    when no time is corroborated, the lower median is returned. None for an empty list."""
    if not times:
        return None
    ordered = sorted(times)
    need = min(support, len(ordered) - 1)
    for hi in range(len(ordered) - 1, -1, -1):
        if hi - bisect_left(ordered, ordered[hi] - window) >= need:
            return ordered[hi]
    return ordered[(len(ordered) - 1) // 2]
