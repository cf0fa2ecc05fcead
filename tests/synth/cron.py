"""Fire times of CronJob and Velero schedules for the builder, from the product's own cron parser."""

from __future__ import annotations

from datetime import datetime, timedelta

from sre_expert.core.cron import parse


def fire_times_before(expr: str, now: datetime, count: int = 1, horizon_days: int = 40) -> list[datetime]:
    """The `count` most recent times at or before `now` that the expression fires, newest first."""
    sched = parse(expr)
    out: list[datetime] = []
    limit = now - timedelta(days=horizon_days)
    t: datetime | None = now
    while t is not None and len(out) < count:
        t = sched.prev(t)
        if t is None or t < limit:
            break
        out.append(t)
        t = t - timedelta(minutes=1)
    return out
