"""Just enough cron to know when a CronJob or Velero Schedule last fired before "now"."""

from __future__ import annotations

from datetime import datetime, timedelta


def _field(spec: str, lo: int, hi: int) -> set[int]:
    values: set[int] = set()
    for part in spec.split(","):
        step = 1
        if "/" in part:
            part, step_s = part.split("/")
            step = int(step_s)
        if part == "*":
            start, end = lo, hi
        elif "-" in part:
            a, b = part.split("-")
            start, end = int(a), int(b)
        else:
            start = end = int(part)
            if step > 1:
                end = hi
        values.update(range(start, end + 1, step))
    return values


def fire_times_before(expr: str, now: datetime, count: int = 1, horizon_days: int = 40) -> list[datetime]:
    """The `count` most recent times at or before `now` that the 5-field expression fires, newest first."""
    minute, hour, dom, month, dow = expr.split()
    mins, hours = _field(minute, 0, 59), _field(hour, 0, 23)
    doms, months = _field(dom, 1, 31), _field(month, 1, 12)
    dows = {d % 7 for d in _field(dow, 0, 7)}
    out: list[datetime] = []
    t = now.replace(second=0, microsecond=0)
    day_any, dow_any = dom == "*", dow == "*"
    limit = now - timedelta(days=horizon_days)
    while t >= limit and len(out) < count:
        day_ok = (
            t.day in doms if not day_any else True,
            (t.isoweekday() % 7) in dows if not dow_any else True,
        )
        if day_any or dow_any:
            matches_day = day_ok[0] and day_ok[1]
        else:
            matches_day = (t.day in doms) or ((t.isoweekday() % 7) in dows)
        if not (matches_day and t.month in months):
            t = t.replace(hour=23, minute=59) - timedelta(days=1)
            continue
        if t.hour not in hours:
            t = t.replace(minute=59) - timedelta(hours=1)
            continue
        if t.minute in mins:
            out.append(t)
        t -= timedelta(minutes=1)
    return out


def period(expr: str, now: datetime) -> timedelta:
    """Interval between the two most recent firings (the RPO a schedule promises)."""
    last_two = fire_times_before(expr, now, 2)
    return last_two[0] - last_two[1]
