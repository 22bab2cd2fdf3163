"""When scheduled digests fire and what each one covers: pure functions, no store, no clock.

A schedule fires at a local wall-clock time in an IANA time zone, every day or on one
weekday. Fire times are computed per local date, so each date fires exactly once whatever
the zone does that day:

- a local time that does not exist (spring forward: 02:30 in New York) fires once, at the
  same distance past the gap (03:30 local, the instant 02:30 standard time would have been);
- a local time that happens twice (fall back: 01:30 in New York) fires once, at the first
  occurrence (``fold=0``).

A digest covers ``(start, end]``: ``end`` is the fire time it belongs to (deterministic, so
two processes deciding alone agree on it, which is what the delivery ledger's unique key
needs), ``start`` the end of the previous successful digest of the same schedule, so nothing
falls between two digests whatever happened in between. A schedule's first digest covers the
last day (daily) or week (weekly). After downtime one catch-up digest covers the whole gap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from briefs.errors import InputError

ScheduleKind = Literal["daily", "weekly"]
KINDS: tuple[ScheduleKind, ...] = ("daily", "weekly")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# ASCII digits: ``\d`` also matches Arabic-Indic and full-width digits, which ``int`` reads.
_TIME = re.compile(r"^\s*([0-9]{1,2}):([0-9]{2})\s*$")


@dataclass(frozen=True)
class Timing:
    """When a schedule fires: kind, weekday (weekly only; 0 = Monday), local time, zone."""

    kind: ScheduleKind
    local_time: time
    timezone: str
    weekday: int | None = None

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.timezone)

    @property
    def period(self) -> timedelta:
        """What a first digest covers: a day or a week."""
        return timedelta(days=7) if self.kind == "weekly" else timedelta(days=1)

    def describe(self) -> str:
        when = self.local_time.strftime("%H:%M")
        if self.kind == "weekly" and self.weekday is not None:
            return f"weekly on {WEEKDAYS[self.weekday].capitalize()} at {when} {self.timezone}"
        return f"daily at {when} {self.timezone}"


@dataclass(frozen=True)
class DueWindow:
    """A digest to post now: the window it covers and whether it catches up missed fires."""

    start: datetime
    end: datetime
    missed: int = 0  # fire times before ``end`` that never got a digest (downtime)

    @property
    def catch_up(self) -> bool:
        return self.missed > 0


# -- parsing and validation ----------------------------------------------------------------


def zone(name: str) -> ZoneInfo:
    """An IANA time zone by name; an unknown name is an InputError with a hint."""
    cleaned = name.strip()
    if not cleaned or cleaned.startswith(("/", ".")) or ".." in cleaned:
        raise InputError(f"unknown time zone {name!r}: use an IANA name like Europe/Kyiv")
    try:
        return ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        close = sorted(z for z in available_timezones() if z.lower() == cleaned.lower())
        hint = f" (did you mean {close[0]}?)" if close else " (e.g. Europe/Kyiv, Asia/Seoul, UTC)"
        raise InputError(f"unknown time zone {name!r}{hint}") from None


def parse_time(text: str) -> time:
    """``HH:MM`` (24-hour clock) to a time."""
    m = _TIME.match(text)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise InputError(f"time {text!r}: expected HH:MM on a 24-hour clock, e.g. 08:00")
    return time(int(m.group(1)), int(m.group(2)))


def parse_weekday(text: str) -> int:
    """A weekday name or its first three letters (Monday = 0)."""
    folded = text.strip().lower()
    for i, day in enumerate(WEEKDAYS):
        if folded and (folded == day or (len(folded) >= 3 and day.startswith(folded))):
            return i
    raise InputError(f"weekday {text!r}: expected one of {', '.join(WEEKDAYS)}")


def make_timing(
    kind: str, local_time: str, timezone: str, weekday: str | int | None = None
) -> Timing:
    """A validated Timing from user input (command line or slash command)."""
    if kind not in KINDS:
        raise InputError(f"schedule kind {kind!r}: expected daily or weekly")
    day: int | None = None
    if kind != "weekly" and weekday not in (None, ""):
        raise InputError("a weekday is only for a weekly schedule (kind weekly)")
    if kind == "weekly":
        if weekday is None or weekday == "":
            raise InputError("a weekly schedule needs a weekday (e.g. monday)")
        day = weekday if isinstance(weekday, int) else parse_weekday(weekday)
        if not 0 <= day <= 6:
            raise InputError(f"weekday {weekday!r}: expected 0 (Monday) to 6 (Sunday)")
    tz = zone(timezone)
    return Timing(kind, parse_time(local_time), tz.key, day)


# -- fire times ----------------------------------------------------------------------------


def fire_on(timing: Timing, day: date) -> datetime | None:
    """The UTC instant a schedule fires on a local date, or None if it does not fire then."""
    if timing.kind == "weekly" and day.weekday() != timing.weekday:
        return None
    tz = timing.zone
    local = datetime.combine(day, timing.local_time, tzinfo=tz)  # fold=0
    # fold=0 reads a time in a gap with the offset before it (shifted forward by the gap)
    # and an ambiguous time as its first occurrence: one instant per date either way.
    return local.astimezone(UTC)


def _days(timing: Timing, start: datetime, end: datetime) -> list[date]:
    tz = timing.zone
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def fire_times(timing: Timing, start: datetime, end: datetime) -> list[datetime]:
    """Fire instants ``t`` with ``start < t <= end``, in order (UTC)."""
    _aware(start, end)
    out = []
    for day in _days(timing, start, end):
        at = fire_on(timing, day)
        if at is not None and start < at <= end:
            out.append(at)
    return sorted(set(out))


def previous_fire(timing: Timing, at: datetime) -> datetime:
    """The latest fire instant at or before ``at``."""
    found = fire_times(timing, at - timedelta(days=8), at)
    return found[-1]


def next_fire(timing: Timing, after: datetime) -> datetime:
    """The first fire instant strictly after ``after``."""
    return fire_times(timing, after, after + timedelta(days=8))[0]


def due_window(
    timing: Timing,
    now: datetime,
    *,
    active_since: datetime,
    last_end: datetime | None,
    grace: timedelta,
) -> DueWindow | None:
    """The digest a schedule owes at ``now``, or None.

    ``active_since``: when the schedule got its current timing (no digest for fire times
    before it); ``last_end``: the end of its latest successful digest; ``grace``: how late a
    missed fire may still be posted (beyond it the missed time is not lost: the next regular
    digest starts from ``last_end`` and covers it).
    """
    _aware(now, active_since)
    latest = previous_fire(timing, now)
    if latest <= active_since:
        return None
    if last_end is not None and latest <= last_end:
        return None
    if now - latest > grace:
        return None
    start = last_end if last_end is not None else latest - timing.period
    missed_from = max(start, active_since)
    missed = len(fire_times(timing, missed_from, latest)) - 1
    return DueWindow(start, latest, max(missed, 0))


def _aware(*values: datetime) -> None:
    for value in values:
        if value.tzinfo is None:
            raise ValueError("naive datetime given to schedules; use timezone-aware UTC")
