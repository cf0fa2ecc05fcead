"""Cron parsing and fire times as Velero's schedule controller computes them (robfig/cron ParseStandard)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sre_expert.core import cron

pytestmark = pytest.mark.unit


def t(s: str) -> datetime:
    return datetime.fromisoformat(s)


def test_every_five_minutes() -> None:
    s = cron.parse("*/5 * * * *")
    assert s.minutes == frozenset(range(0, 60, 5))
    assert s.prev(t("2025-03-10T10:07:30Z")) == t("2025-03-10T10:05:00Z")
    assert s.prev(t("2025-03-10T10:05:00Z")) == t("2025-03-10T10:05:00Z")  # at the fire time itself
    assert s.next(t("2025-03-10T10:05:00Z")) == t("2025-03-10T10:10:00Z")  # strictly after
    assert s.next(t("2025-03-10T23:58:00Z")) == t("2025-03-11T00:00:00Z")
    assert s.period(t("2025-03-10T10:07:00Z")) == timedelta(minutes=5)


def test_daily_at_three() -> None:
    s = cron.parse("0 3 * * *")
    assert s.prev(t("2025-03-10T02:59:00Z")) == t("2025-03-09T03:00:00Z")
    assert s.prev(t("2025-03-10T03:00:00Z")) == t("2025-03-10T03:00:00Z")
    assert s.next(t("2025-03-10T03:00:00Z")) == t("2025-03-11T03:00:00Z")
    assert s.next(t("2025-12-31T04:00:00Z")) == t("2026-01-01T03:00:00Z")  # year boundary
    assert s.period(t("2025-03-10T12:00:00Z")) == timedelta(days=1)


def test_weekly_sunday_at_four() -> None:
    s = cron.parse("0 4 * * 0")
    # 2025-03-09 is a Sunday.
    assert s.prev(t("2025-03-12T12:00:00Z")) == t("2025-03-09T04:00:00Z")
    assert s.next(t("2025-03-09T04:00:00Z")) == t("2025-03-16T04:00:00Z")
    assert s.prev(t("2025-03-09T03:59:00Z")) == t("2025-03-02T04:00:00Z")
    assert s.period(t("2025-03-12T12:00:00Z")) == timedelta(weeks=1)
    # 7 and the name mean Sunday too.
    assert cron.parse("0 4 * * 7").weekdays == s.weekdays == cron.parse("0 4 * * sun").weekdays


def test_ranges_lists_steps_and_names() -> None:
    s = cron.parse("15,45 9-17/4 * jan-mar mon-fri")
    assert s.minutes == {15, 45}
    assert s.hours == {9, 13, 17}
    assert s.months == {1, 2, 3}
    assert s.weekdays == {1, 2, 3, 4, 5}
    # Friday 2025-03-14 17:45 → next is Monday 2025-03-17 09:15.
    assert s.next(t("2025-03-14T17:45:00Z")) == t("2025-03-17T09:15:00Z")
    assert s.prev(t("2025-03-15T12:00:00Z")) == t("2025-03-14T17:45:00Z")
    # Out of season: after March, the next run is the first weekday of January.
    assert s.next(t("2025-03-31T18:00:00Z")) == t("2026-01-01T09:15:00Z")
    # "a/n" runs from a to the maximum.
    assert cron.parse("10/20 * * * *").minutes == {10, 30, 50}
    assert cron.parse("0 0 * * 5-7").weekdays == {0, 5, 6}
    assert cron.parse("0 0 1,15 * *").days == {1, 15}


def test_day_of_month_and_weekday_or_rule() -> None:
    # Both restricted: either matches (1st of the month OR a Monday).
    s = cron.parse("0 0 1 * 1")
    assert s.next(t("2025-03-01T00:00:00Z")) == t("2025-03-03T00:00:00Z")  # Monday the 3rd
    assert s.next(t("2025-03-31T00:00:00Z")) == t("2025-04-01T00:00:00Z")  # the 1st, a Tuesday
    # One is a star: both must match (robfig), so "*" in day-of-month does not widen it.
    assert cron.parse("0 0 * * 1").next(t("2025-03-31T00:00:00Z")) == t("2025-04-07T00:00:00Z")
    # "*/2" counts as restricted (no star bit), so the OR rule applies.
    odd = cron.parse("0 0 */2 * 1")
    assert not odd.dom_star and odd.next(t("2025-03-01T00:00:00Z")) == t("2025-03-03T00:00:00Z")


def test_descriptors_and_every() -> None:
    assert cron.parse("@daily").prev(t("2025-03-10T10:00:00Z")) == t("2025-03-10T00:00:00Z")
    assert cron.parse("@weekly").prev(t("2025-03-12T10:00:00Z")) == t("2025-03-09T00:00:00Z")
    assert cron.parse("@hourly").next(t("2025-03-10T10:00:00Z")) == t("2025-03-10T11:00:00Z")
    assert cron.parse("@monthly").next(t("2025-03-10T10:00:00Z")) == t("2025-04-01T00:00:00Z")
    every = cron.parse("@every 6h")
    assert every.every == timedelta(hours=6)
    assert every.next(t("2025-03-10T10:00:00Z")) == t("2025-03-10T16:00:00Z")
    assert every.prev(t("2025-03-10T10:00:00Z")) is None
    assert cron.parse("@every 1h30m").every == timedelta(minutes=90)


def test_leap_day() -> None:
    s = cron.parse("0 12 29 2 *")
    assert s.next(t("2025-01-01T00:00:00Z")) == t("2028-02-29T12:00:00Z")
    assert s.prev(t("2027-06-01T00:00:00Z")) == t("2024-02-29T12:00:00Z")


def test_utc_results_and_time_zone_prefix() -> None:
    s = cron.parse("0 3 * * *")
    r = s.next(t("2025-03-10T00:00:00Z"))
    assert r.utcoffset() == timedelta(0)
    # CRON_TZ moves the wall clock: 03:00 in Asia/Manila (UTC+8, no DST) is 19:00 UTC the day before.
    manila = cron.parse("CRON_TZ=Asia/Manila 0 3 * * *")
    assert manila.next(t("2025-03-10T00:00:00Z")) == t("2025-03-10T19:00:00Z")
    assert manila.prev(t("2025-03-10T00:00:00Z")) == t("2025-03-09T19:00:00Z")
    assert cron.parse("TZ=UTC 0 3 * * *").next(t("2025-03-10T00:00:00Z")) == t("2025-03-10T03:00:00Z")


def test_matches() -> None:
    s = cron.parse("30 2 * * *")
    assert s.matches(datetime(2025, 3, 10, 2, 30, 45, tzinfo=UTC))
    assert not s.matches(datetime(2025, 3, 10, 2, 31, tzinfo=UTC))


@pytest.mark.parametrize("expr, fragment", [
    ("", "empty"),
    ("* * * *", "5 fields"),
    ("* * * * * *", "5 fields"),
    ("60 * * * *", "minute"),
    ("* 24 * * *", "hour"),
    ("* * 0 * *", "day-of-month"),
    ("* * * 13 *", "month"),
    ("* * * * 8", "day-of-week"),
    ("*/0 * * * *", "step"),
    ("5-1 * * * *", "backwards"),
    ("* * * foo *", "month"),
    ("@fortnightly", "descriptor"),
    ("@every", "duration"),
    ("@every soon", "duration"),
    ("1,,2 * * * *", "empty list"),
    ("CRON_TZ=Mars/Olympus 0 3 * * *", "time zone"),
])
def test_errors(expr: str, fragment: str) -> None:
    with pytest.raises(cron.CronError, match=fragment):
        cron.parse(expr)


def test_helpers() -> None:
    now = t("2025-03-10T10:07:00Z")
    assert cron.previous_fire("*/5 * * * *", now) == t("2025-03-10T10:05:00Z")
    assert cron.next_fire("*/5 * * * *", now) == t("2025-03-10T10:10:00Z")
    assert cron.parse_go_duration("720h0m0s") == timedelta(hours=720)
    assert cron.parse_go_duration("1m30s") == timedelta(seconds=90)
    assert cron.parse_go_duration("0s") == timedelta(0)
