"""Fire times, windows and catch-up decisions: the pure functions of briefs/schedules.py."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.scheduler import TimingTrigger
from briefs.clock import FrozenClock
from briefs.errors import InputError
from briefs.schedules import (
    Timing,
    due_window,
    fire_on,
    fire_times,
    make_timing,
    next_fire,
    parse_time,
    parse_weekday,
    previous_fire,
    zone,
)

NY = "America/New_York"
KYIV = "Europe/Kyiv"
SEOUL = "Asia/Seoul"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def daily(at: str, tz: str) -> Timing:
    return make_timing("daily", at, tz)


def local(instant: datetime, tz: str) -> str:
    return instant.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z")


def test_new_york_spring_forward_fires_every_day_at_eight_local() -> None:
    fires = fire_times(daily("08:00", NY), utc(2026, 3, 6), utc(2026, 3, 11))
    assert [local(f, NY) for f in fires] == [
        "2026-03-06 08:00 EST",
        "2026-03-07 08:00 EST",
        "2026-03-08 08:00 EDT",
        "2026-03-09 08:00 EDT",
        "2026-03-10 08:00 EDT",
    ]
    assert fires[1] == utc(2026, 3, 7, 13) and fires[2] == utc(2026, 3, 8, 12)


def test_a_time_that_does_not_exist_fires_once_shifted_past_the_gap() -> None:
    timing = daily("02:30", NY)  # 02:00 -> 03:00 on 2026-03-08
    fires = fire_times(timing, utc(2026, 3, 7), utc(2026, 3, 10))
    assert [local(f, NY) for f in fires] == [
        "2026-03-07 02:30 EST",
        "2026-03-08 03:30 EDT",
        "2026-03-09 02:30 EDT",
    ]
    assert fires[1] == utc(2026, 3, 8, 7, 30)


def test_an_ambiguous_time_on_fall_back_fires_once_at_its_first_occurrence() -> None:
    timing = daily("01:30", NY)  # 01:00-02:00 happens twice on 2026-11-01
    fires = fire_times(timing, utc(2026, 10, 31, 12), utc(2026, 11, 2, 12))
    assert [local(f, NY) for f in fires] == ["2026-11-01 01:30 EDT", "2026-11-02 01:30 EST"]
    assert fires[0] == utc(2026, 11, 1, 5, 30)
    assert fires[1] - fires[0] == timedelta(hours=25)


def test_new_york_fall_back_day_is_25_hours_between_digests() -> None:
    fires = fire_times(daily("08:00", NY), utc(2026, 10, 31), utc(2026, 11, 2, 23))
    assert [local(f, NY)[-9:] for f in fires] == ["08:00 EDT", "08:00 EST", "08:00 EST"]
    assert [b - a for a, b in itertools.pairwise(fires)] == [
        timedelta(hours=25),
        timedelta(hours=24),
    ]


def test_kyiv_across_both_changes() -> None:
    # EET -> EEST at 03:00 local on 2026-03-29; back at 04:00 local on 2026-10-25.
    spring = fire_times(daily("03:30", KYIV), utc(2026, 3, 28), utc(2026, 3, 30, 12))
    assert [local(f, KYIV) for f in spring] == [
        "2026-03-28 03:30 EET",
        "2026-03-29 04:30 EEST",
        "2026-03-30 03:30 EEST",
    ]
    autumn = fire_times(daily("03:30", KYIV), utc(2026, 10, 24), utc(2026, 10, 26, 12))
    assert [local(f, KYIV) for f in autumn] == [
        "2026-10-24 03:30 EEST",
        "2026-10-25 03:30 EEST",
        "2026-10-26 03:30 EET",
    ]
    assert autumn[1] == utc(2026, 10, 25, 0, 30)
    eight = fire_times(daily("08:00", KYIV), utc(2026, 3, 28), utc(2026, 3, 30, 12))
    assert [f.hour for f in eight] == [6, 5, 5]


def test_seoul_has_no_dst_every_fire_is_the_same_utc_time() -> None:
    timing = daily("08:00", SEOUL)
    fires = fire_times(timing, utc(2025, 12, 31), utc(2026, 12, 31))
    assert len(fires) == 365
    assert {(f.hour, f.minute) for f in fires} == {(23, 0)}
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(fires))


def test_weekly_fires_only_on_its_weekday() -> None:
    timing = make_timing("weekly", "09:15", NY, "mon")
    fires = fire_times(timing, utc(2026, 3, 1), utc(2026, 3, 31))
    assert [f.astimezone(ZoneInfo(NY)).date() for f in fires] == [
        date(2026, 3, 2),
        date(2026, 3, 9),
        date(2026, 3, 16),
        date(2026, 3, 23),
        date(2026, 3, 30),
    ]
    assert fire_on(timing, date(2026, 3, 3)) is None


def test_previous_and_next_fire() -> None:
    timing = daily("08:00", KYIV)
    at = utc(2026, 11, 22, 6)  # 08:00 Kyiv exactly
    assert previous_fire(timing, at) == at
    assert next_fire(timing, at) == utc(2026, 11, 23, 6)
    assert previous_fire(timing, at - timedelta(seconds=1)) == utc(2026, 11, 21, 6)


def test_input_validation() -> None:
    with pytest.raises(InputError, match="unknown time zone 'Mars/Olympus'"):
        zone("Mars/Olympus")
    with pytest.raises(InputError, match="did you mean Europe/Kyiv"):
        zone("europe/kyiv")
    with pytest.raises(InputError, match="unknown time zone"):
        zone("../../etc/passwd")
    assert parse_time("8:05") == time(8, 5)
    for bad in ("24:00", "08:60", "eight", ""):
        with pytest.raises(InputError, match="HH:MM"):
            parse_time(bad)
    assert parse_weekday("Sunday") == 6 and parse_weekday("tue") == 1
    with pytest.raises(InputError, match="weekday"):
        parse_weekday("someday")
    with pytest.raises(InputError, match="needs a weekday"):
        make_timing("weekly", "08:00", "UTC")
    with pytest.raises(InputError, match="daily or weekly"):
        make_timing("hourly", "08:00", "UTC")


# -- windows and catch-up -------------------------------------------------------------------

GRACE = timedelta(hours=12)
TIMING = daily("08:00", KYIV)  # 06:00 UTC in winter
CREATED = utc(2026, 11, 1)


def test_first_digest_covers_the_last_day_or_week() -> None:
    window = due_window(
        TIMING, utc(2026, 11, 22, 6), active_since=CREATED, last_end=None, grace=GRACE
    )
    assert window is not None
    assert (window.start, window.end) == (utc(2026, 11, 21, 6), utc(2026, 11, 22, 6))
    weekly = make_timing("weekly", "08:00", KYIV, "sunday")
    window = due_window(
        weekly, utc(2026, 11, 22, 6, 1), active_since=CREATED, last_end=None, grace=GRACE
    )
    assert window is not None and window.end - window.start == timedelta(days=7)


def test_window_starts_where_the_last_successful_digest_ended() -> None:
    last = utc(2026, 11, 21, 6)
    assert (
        due_window(
            TIMING, utc(2026, 11, 22, 5, 59), active_since=CREATED, last_end=last, grace=GRACE
        )
        is None
    )
    window = due_window(
        TIMING, utc(2026, 11, 22, 6, 30), active_since=CREATED, last_end=last, grace=GRACE
    )
    assert window is not None and (window.start, window.end, window.missed) == (
        last,
        utc(2026, 11, 22, 6),
        0,
    )
    # Already delivered: nothing owed.
    assert (
        due_window(
            TIMING,
            utc(2026, 11, 22, 7),
            active_since=CREATED,
            last_end=utc(2026, 11, 22, 6),
            grace=GRACE,
        )
        is None
    )


def test_after_downtime_one_catch_up_covers_the_whole_gap() -> None:
    last = utc(2026, 11, 18, 6)
    window = due_window(
        TIMING, utc(2026, 11, 22, 9), active_since=CREATED, last_end=last, grace=GRACE
    )
    assert window is not None
    assert (window.start, window.end) == (last, utc(2026, 11, 22, 6))
    assert window.missed == 3 and window.catch_up


def test_a_missed_fire_beyond_the_grace_waits_for_the_next_regular_digest() -> None:
    last = utc(2026, 11, 20, 6)
    late = utc(2026, 11, 22, 19)  # 13 h after today's fire
    assert due_window(TIMING, late, active_since=CREATED, last_end=last, grace=GRACE) is None
    tomorrow = due_window(
        TIMING, utc(2026, 11, 23, 6), active_since=CREATED, last_end=last, grace=GRACE
    )
    assert tomorrow is not None and tomorrow.start == last  # the gap is not lost


def test_no_digest_for_fire_times_before_the_schedule_existed() -> None:
    created = utc(2026, 11, 22, 7)  # after today's 06:00 UTC fire
    assert (
        due_window(TIMING, utc(2026, 11, 22, 8), active_since=created, last_end=None, grace=GRACE)
        is None
    )
    window = due_window(
        TIMING, utc(2026, 11, 23, 6), active_since=created, last_end=None, grace=GRACE
    )
    assert window is not None and window.missed == 0


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        fire_times(TIMING, datetime(2026, 1, 1), utc(2026, 1, 2))


def test_the_apscheduler_trigger_follows_the_same_fire_times() -> None:
    trigger = TimingTrigger(daily("02:30", NY))
    first = trigger.get_next_fire_time(None, utc(2026, 3, 7, 12))
    assert first is not None and first.astimezone(UTC) == utc(2026, 3, 8, 7, 30)
    second = trigger.get_next_fire_time(first, first)
    assert second is not None and local(second, NY) == "2026-03-09 02:30 EDT"


def test_the_trigger_counts_in_the_engines_clock_and_hands_apscheduler_wall_time() -> None:
    """The engine's clock says 07:59:30 in Kyiv (05:59:30 UTC) while the wall says noon: the
    job is due in 30 s of wall time, then the next day's 08:00 a day later."""
    engine = FrozenClock(utc(2026, 11, 22, 5, 59, 30))
    trigger = TimingTrigger(daily("08:00", KYIV), engine)
    wall = utc(2025, 6, 1, 12)
    first = trigger.get_next_fire_time(None, wall)
    assert first is not None and first.astimezone(UTC) == wall + timedelta(seconds=30)
    engine.advance(timedelta(seconds=30))  # both clocks move on together
    second = trigger.get_next_fire_time(first, first)
    assert second is not None and second - first == timedelta(days=1)
