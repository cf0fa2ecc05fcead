"""Cron expressions as Velero reads them (robfig/cron `ParseStandard`), with previous and next fire times.

Supported: five fields (minute hour day-of-month month day-of-week) with `*`, `?`, `a-b`, `a-b/n`,
`*/n`, `a/n` (a to the field's maximum, every n), comma lists, month names (jan-dec) and weekday names
(sun-sat; 7 is accepted as Sunday); descriptors `@yearly` `@annually` `@monthly` `@weekly` `@daily`
`@midnight` `@hourly` and `@every <duration>`; a `CRON_TZ=<zone>` or `TZ=<zone>` prefix (UTC otherwise).

Day matching follows robfig/cron: when either day field is `*` (or `?`) both must match, otherwise a
day matches when either field does (the classic cron OR rule). `*/n` with n > 1 counts as restricted.

Times are timezone-aware datetimes; results carry the input's timezone (UTC for the API server's
timestamps). Fire times are whole minutes, except `@every`, which is relative to the previous run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache

from sre_expert.core.units import go_duration

__all__ = ["CronError", "CronSchedule", "next_fire", "parse", "previous_fire"]


class CronError(ValueError):
    """The expression cannot be parsed; the message says which field and why."""


_MONTHS = {n: i for i, n in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_DAYS = {n: i for i, n in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_MONTH_NAMES = {i: n for i, n in enumerate(("January", "February", "March", "April", "May", "June", "July", "August",
                                            "September", "October", "November", "December"), 1)}
_MONTH_DAYS = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}

# (name, low, high, names)
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 0, 6, _DAYS),
)

_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

def _parse_value(token: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    t = token.lower()
    if t in names:
        return names[t]
    if not t.isdigit():
        raise CronError(f"{name}: {token!r} is not a number" + (" or a name" if names else ""))
    v = int(t)
    if v < low or v > high:
        raise CronError(f"{name}: {v} is outside {low}-{high}")
    return v


def _parse_field(text: str, index: int) -> tuple[frozenset[int], bool]:
    """Values allowed by one field and whether it is a star (unrestricted) field."""
    name, low, high, names = _FIELDS[index]
    # Day-of-week accepts 7 as a second Sunday (folded to 0 below), as Vixie cron does.
    value_high = 7 if name == "day-of-week" else high
    values: set[int] = set()
    star = False
    for part in text.split(","):
        if not part:
            raise CronError(f"{name}: empty list element in {text!r}")
        range_part, slash, step_part = part.partition("/")
        step = 1
        if slash:
            if not step_part.isdigit() or int(step_part) == 0:
                raise CronError(f"{name}: bad step in {part!r}")
            step = int(step_part)
        if range_part in ("*", "?"):
            start, end = low, high
            if step == 1:
                star = True
        else:
            lo_s, dash, hi_s = range_part.partition("-")
            start = _parse_value(lo_s, name, low, value_high, names)
            if dash:
                end = _parse_value(hi_s, name, low, value_high, names)
            elif slash:
                end = high  # "a/n" means from a to the field's maximum, every n
            else:
                end = start
            if end < start:
                raise CronError(f"{name}: range {range_part!r} runs backwards")
        values.update(range(start, end + 1, step))
    if name == "day-of-week" and 7 in values:
        values.discard(7)
        values.add(0)
    return frozenset(values), star


@dataclass(frozen=True, slots=True)
class CronSchedule:
    """A parsed schedule. `every` is set for `@every` schedules, which have no fixed fire times."""

    expression: str
    minutes: frozenset[int] = frozenset()
    hours: frozenset[int] = frozenset()
    days: frozenset[int] = frozenset()
    months: frozenset[int] = frozenset()
    weekdays: frozenset[int] = frozenset()
    dom_star: bool = True
    dow_star: bool = True
    zone: tzinfo = UTC
    every: timedelta | None = None

    # --- matching -----------------------------------------------------------------------------
    def _day_matches(self, d: date) -> bool:
        if d.month not in self.months:
            return False
        dom = d.day in self.days
        dow = (d.isoweekday() % 7) in self.weekdays
        if self.dom_star or self.dow_star:
            return dom and dow
        return dom or dow

    def matches(self, t: datetime) -> bool:
        """True when the schedule fires at minute `t` (seconds ignored)."""
        if self.every is not None:
            return False
        local = t.astimezone(self.zone)
        return local.minute in self.minutes and local.hour in self.hours and self._day_matches(local.date())

    # --- fire times ---------------------------------------------------------------------------
    def next(self, after: datetime) -> datetime | None:
        """The first fire time strictly after `after` (None if none within ~5 years)."""
        if self.every is not None:
            return after + self.every
        tz = after.tzinfo or UTC
        local = after.astimezone(self.zone).replace(second=0, microsecond=0) + timedelta(minutes=1)
        hours = sorted(self.hours)
        minutes = sorted(self.minutes)
        d = local.date()
        for _ in range(366 * 5):
            if self._day_matches(d):
                for h in hours:
                    if d == local.date() and h < local.hour:
                        continue
                    for m in minutes:
                        cand = datetime(d.year, d.month, d.day, h, m, tzinfo=self.zone)
                        if cand >= local:
                            return self._resolve(cand).astimezone(tz)
            d += timedelta(days=1)
        return None

    def prev(self, at: datetime) -> datetime | None:
        """The last fire time at or before `at` (None for `@every` or none within ~5 years)."""
        if self.every is not None:
            return None
        tz = at.tzinfo or UTC
        local = at.astimezone(self.zone).replace(second=0, microsecond=0)
        hours = sorted(self.hours, reverse=True)
        minutes = sorted(self.minutes, reverse=True)
        d = local.date()
        for _ in range(366 * 5):
            if self._day_matches(d):
                for h in hours:
                    if d == local.date() and h > local.hour:
                        continue
                    for m in minutes:
                        cand = datetime(d.year, d.month, d.day, h, m, tzinfo=self.zone)
                        if cand <= local:
                            return self._resolve(cand).astimezone(tz)
            d -= timedelta(days=1)
        return None

    def _resolve(self, wall: datetime) -> datetime:
        # A wall time in the schedule's zone; round-trip through UTC normalises DST gaps.
        return wall.astimezone(UTC)

    def period(self, at: datetime) -> timedelta | None:
        """Time between the fire before `at` and the one after it: the interval a run is late by."""
        if self.every is not None:
            return self.every
        p = self.prev(at)
        n = self.next(at)
        if p is None or n is None:
            return None
        return n - p

    def describe(self) -> str:
        return self.expression

    def never_fires(self) -> str | None:
        """Why no date can ever match, or None when some date does (February 29 counts: it comes back).

        Only a restricted day-of-month with an unrestricted day-of-week can rule out every date: a
        restricted day-of-week matches some day of every month, whichever rule (AND or OR) applies."""
        if self.every is not None or self.dom_star or not self.dow_star:
            return None
        if any(d <= _MONTH_DAYS[m] for m in self.months for d in self.days):
            return None
        names = [_MONTH_NAMES[m] for m in sorted(self.months)]
        where = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        days = sorted(self.days)
        what = f"day {days[0]}" if len(days) == 1 else "days " + ", ".join(str(d) for d in days)
        longest = max(_MONTH_DAYS[m] for m in self.months)
        return f"{what} of the month never occur{'s' if len(days) == 1 else ''} in {where} (at most {longest} days)"


@lru_cache(maxsize=512)
def parse(expression: str) -> CronSchedule:
    """Parse a Velero Schedule's `spec.schedule`. Raises CronError with the reason."""
    if not isinstance(expression, str) or not expression.strip():
        raise CronError("empty schedule")
    text = expression.strip()
    zone: tzinfo = UTC
    if text.startswith(("CRON_TZ=", "TZ=")):
        head, _, text = text.partition(" ")
        zone_name = head.split("=", 1)[1]
        zone = _zone(zone_name)
        text = text.strip()
    low = text.lower()
    if low.startswith("@every"):
        arg = text[len("@every"):].strip()
        if not arg:
            raise CronError("@every needs a duration")
        every = go_duration(arg)
        if every is None:
            raise CronError(f"invalid duration {arg!r}")
        every = max(every, timedelta(seconds=1))
        return CronSchedule(expression, zone=zone, every=timedelta(seconds=int(every.total_seconds())))
    if low.startswith("@"):
        if low not in _DESCRIPTORS:
            raise CronError(f"unrecognised descriptor {text!r}")
        text = _DESCRIPTORS[low]
    fields = text.split()
    if len(fields) != 5:
        raise CronError(f"expected exactly 5 fields, found {len(fields)}: {text!r}")
    parsed = [_parse_field(f, i) for i, f in enumerate(fields)]
    return CronSchedule(
        expression,
        minutes=parsed[0][0],
        hours=parsed[1][0],
        days=parsed[2][0],
        months=parsed[3][0],
        weekdays=parsed[4][0],
        dom_star=parsed[2][1],
        dow_star=parsed[4][1],
        zone=zone,
    )


def _zone(name: str) -> tzinfo:
    if name.upper() in ("UTC", "ETC/UTC", "Z"):
        return UTC
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception as e:  # ZoneInfoNotFoundError, ValueError
        raise CronError(f"unknown time zone {name!r}") from e


def previous_fire(expression: str, at: datetime) -> datetime | None:
    return parse(expression).prev(at)


def next_fire(expression: str, after: datetime) -> datetime | None:
    return parse(expression).next(after)
