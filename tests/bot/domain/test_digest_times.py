"""The next digest moment by a zone's clock, across both daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.digests import next_digest_times, next_local_moment


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def nows(zone: str, start: str, hours: int) -> list[datetime]:
    """Every five minutes for ``hours`` from ``start`` on the zone's clock, in UTC."""
    first = datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    return [first + timedelta(minutes=5 * n) for n in range(hours * 12)]


def assert_next_of(moments: list[datetime], every_now: list[datetime], at: time, zone: str,
                   weekday: int | None = None) -> None:  # fmt: skip
    """Each answer is the first of ``moments`` after ``now``: none skipped, none repeated."""
    answers = {now: next_local_moment(now, zone, at, weekday) for now in every_now}
    for now, answer in answers.items():
        expected = next(m for m in moments if m > now)
        assert answer == expected, f"at {now} ({now.astimezone(ZoneInfo(zone))})"
    assert sorted(set(answers.values())) == moments


@pytest.mark.parametrize(
    ("zone", "at", "moments"),
    [
        # 2026-03-08: New York's clocks go from 02:00 to 03:00; 02:30 comes at 03:30 EDT.
        ("America/New_York", time(2, 30),
         ["2026-03-08T07:30", "2026-03-09T06:30", "2026-03-10T06:30"]),
        # 2026-03-29: Paris goes from 02:00 to 03:00.
        ("Europe/Paris", time(2, 30),
         ["2026-03-29T01:30", "2026-03-30T00:30", "2026-03-31T00:30"]),
    ],
)  # fmt: skip
def test_a_time_the_clocks_skip_comes_once_an_hour_later(zone, at, moments):
    day = moments[0][:10]
    start = (datetime.fromisoformat(day) - timedelta(days=1)).replace(hour=12)
    assert_next_of([utc(m) for m in moments], nows(zone, start.isoformat(), 48), at, zone)


@pytest.mark.parametrize(
    ("zone", "at", "moments"),
    [
        # 2026-11-01: New York's clocks show 01:00-02:00 twice; 01:30 counts at 01:30 EDT.
        ("America/New_York", time(1, 30),
         ["2026-11-01T05:30", "2026-11-02T06:30", "2026-11-03T06:30"]),
        # 2026-10-25: Paris shows 02:00-03:00 twice.
        ("Europe/Paris", time(2, 30),
         ["2026-10-25T00:30", "2026-10-26T01:30", "2026-10-27T01:30"]),
    ],
)  # fmt: skip
def test_a_time_the_clocks_show_twice_comes_once(zone, at, moments):
    day = moments[0][:10]
    start = (datetime.fromisoformat(day) - timedelta(days=1)).replace(hour=12)
    assert_next_of([utc(m) for m in moments], nows(zone, start.isoformat(), 48), at, zone)


def test_weekly_moments_across_both_changes():
    # Both US changes of 2026 fall on a Sunday.
    zone, sunday = "America/New_York", 6
    spring = [utc("2026-03-01T07:30"), utc("2026-03-08T07:30"), utc("2026-03-15T06:30")]
    assert_next_of(spring, nows(zone, "2026-02-28T12:00", 24 * 14), time(2, 30), zone, sunday)
    fall = [utc("2026-10-25T05:30"), utc("2026-11-01T05:30"), utc("2026-11-08T06:30")]
    assert_next_of(fall, nows(zone, "2026-10-24T12:00", 24 * 14), time(1, 30), zone, sunday)


def test_the_next_daily_and_weekly_digest_in_a_zone():
    now = utc("2026-06-10T11:59:59")  # a Wednesday, 07:59:59 in New York
    daily, weekly = next_digest_times(now, "America/New_York", time(8, 0), "friday")
    assert daily == utc("2026-06-10T12:00")
    assert weekly == utc("2026-06-12T12:00")
    # at the minute itself the next one is due: a row planned then waits for the next digest
    daily, weekly = next_digest_times(daily, "America/New_York", time(8, 0), "wednesday")
    assert daily == utc("2026-06-11T12:00")
    assert weekly == utc("2026-06-17T12:00")


@pytest.mark.parametrize(
    ("zone", "at", "start", "moments"),
    [
        # 2026-10-04: Sydney goes from 02:00 to 03:00 (southern spring); 02:30 comes at 03:30.
        ("Australia/Sydney", time(2, 30), "2026-10-03T12:00",
         ["2026-10-03T16:30", "2026-10-04T15:30", "2026-10-05T15:30"]),
        # 2026-04-05: Sydney shows 02:00-03:00 twice; 02:30 counts at its first showing.
        ("Australia/Sydney", time(2, 30), "2026-04-04T12:00",
         ["2026-04-04T15:30", "2026-04-05T16:30", "2026-04-06T16:30"]),
        # 2026-10-04: Lord Howe Island moves half an hour, 02:00 to 02:30; 02:15 comes at 02:45.
        ("Australia/Lord_Howe", time(2, 15), "2026-10-03T12:00",
         ["2026-10-03T15:45", "2026-10-04T15:15", "2026-10-05T15:15"]),
        # 2026-04-05: Lord Howe shows 01:30-02:00 twice.
        ("Australia/Lord_Howe", time(1, 45), "2026-04-04T12:00",
         ["2026-04-04T14:45", "2026-04-05T15:15", "2026-04-06T15:15"]),
    ],
)  # fmt: skip
def test_southern_and_half_hour_changes(zone, at, start, moments):
    assert_next_of([utc(m) for m in moments], nows(zone, start, 48), at, zone)
