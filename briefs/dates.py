"""Dates: read printed publication dates, and resolve date expressions in sentences.

Pure functions. A relative expression ("on Wednesday", "last month", "Sept. 13") is resolved
against the publication date of its article, and every result carries its precision.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Precision = Literal["day", "week", "month", "season", "year"]

MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4,
    "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11,
    "november": 11, "dec": 12, "december": 12,
}  # fmt: skip
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

_MONTH_RE = (
    r"(?P<month>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_PRINTED = re.compile(
    _MONTH_RE + r"\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})"
    r"(?:\s*[-–,]?\s*(?P<hour>\d{1,2}):(?P<minute>\d{2}))?"
)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class DateParseError(ValueError):
    pass


def zone(name: str | None) -> ZoneInfo:
    """An IANA time zone; UTC when none is named."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise DateParseError(
            f"unknown time zone {name!r} (use an IANA name such as Asia/Seoul)"
        ) from None


def parse_printed(text: str, tz: str | None = None) -> tuple[datetime, Literal["minute", "day"]]:
    """Parse a printed date such as ``Sept. 14, 2023 - 09:17`` into aware UTC."""
    match = _PRINTED.search(text)
    if not match:
        raise DateParseError(f"cannot read a date in {text!r}")
    month = MONTHS[match["month"].lower().rstrip(".")]
    year, day = int(match["year"]), int(match["day"])
    if match["hour"] is not None:
        local = datetime(
            year, month, day, int(match["hour"]), int(match["minute"]), tzinfo=zone(tz)
        )
        return local.astimezone(UTC), "minute"
    return datetime(year, month, day, tzinfo=UTC), "day"


def parse_manifest_date(value: object, tz: str | None = None) -> tuple[datetime, str]:
    """A manifest date: a TOML date, a TOML datetime, or an ISO string."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=zone(tz))
        return aware.astimezone(UTC), "minute"
    if isinstance(value, date):
        # A calendar date keeps its day: stored as midnight UTC of that date, precision "day".
        zone(tz)
        return datetime(value.year, value.month, value.day, tzinfo=UTC), "day"
    if isinstance(value, str):
        if _ISO.match(value):
            return parse_manifest_date(date.fromisoformat(value), tz)
        try:
            return parse_manifest_date(datetime.fromisoformat(value), tz)
        except ValueError:
            pass
    raise DateParseError(f"cannot read the date {value!r} (use YYYY-MM-DD or ISO 8601)")


_CLI_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_cli_date(text: str, *, end: bool = False) -> datetime:
    """A ``--since``/``--until`` value: YYYY-MM-DD or an ISO datetime, as aware UTC.

    With ``end`` (``--until``) a date-only value includes its whole day: the bound is the next
    midnight. A value datetime cannot hold (year 1 moved west of UTC, the day after
    9999-12-31) is refused like any other bad date, not left to overflow.
    """
    try:
        if _CLI_DAY.fullmatch(text):
            d = date.fromisoformat(text)
            day = datetime(d.year, d.month, d.day, tzinfo=UTC)
            return day + timedelta(days=1) if end else day
        if not text.isascii():  # only ASCII digits are digits here
            raise ValueError(text)
        value = datetime.fromisoformat(text)
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        raise DateParseError(
            f"{text!r} is out of range (use a date from 0001-01-02 to 9999-12-30)"
        ) from None
    except ValueError:
        raise DateParseError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


# Datelines name where a story was filed; relative dates ("today", "on Wednesday") are that
# place's days, not the publisher's.
DATELINE_ZONES = {
    "WASHINGTON": "America/New_York",
    "NEW YORK": "America/New_York",
    "UNITED NATIONS": "America/New_York",
    "SEOUL": "Asia/Seoul",
    "PYONGYANG": "Asia/Pyongyang",
    "TOKYO": "Asia/Tokyo",
    "BEIJING": "Asia/Shanghai",
    "MOSCOW": "Europe/Moscow",
    "KYIV": "Europe/Kyiv",
    "BRUSSELS": "Europe/Brussels",
    "LONDON": "Europe/London",
    "GENEVA": "Europe/Zurich",
}
_DATELINE = re.compile(r"^(?P<city>[A-Z][A-Z .]{2,30}?)\s*(?:--|—|–)\s")


def reference_date(published_at: datetime, precision: str, body: str) -> date:
    """The day relative date expressions count from: the publication day where the story was
    filed (its dateline), when the publication time is known; else the publication date."""
    match = _DATELINE.match(body)
    if precision == "minute" and match and match["city"].strip() in DATELINE_ZONES:
        return published_at.astimezone(ZoneInfo(DATELINE_ZONES[match["city"].strip()])).date()
    return published_at.date()


@dataclass(frozen=True)
class DateMention:
    """A date expression found in a sentence, resolved against its article's date."""

    text: str
    start: int
    value: date
    precision: Precision


_WEEKDAY_RE = re.compile(
    r"\b(?:on\s+|said\s+|last\s+)?(?P<wd>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
)
_MONTH_DAY_RE = re.compile(r"\b" + _MONTH_RE + r"\s+(?P<day>\d{1,2})\b(?:,?\s+(?P<year>\d{4}))?")
_ORDINAL_RE = re.compile(
    r"\b[Oo]n\s+the\s+(?P<day>\d{1,2})(?:st|nd|rd|th)\b(?P<last>\s+of\s+last\s+month)?"
)
_IN_MONTH_RE = re.compile(
    r"\b[Ii]n\s+(?P<month>January|February|March|April|May|June|July|August|September|October"
    r"|November|December)\b(?:\s+(?P<year>\d{4})|\s+(?P<this>this|last)\s+year)?"
    r"(?:\s+and\s+(?P<second>January|February|March|April|May|June|July|August|September"
    r"|October|November|December)\b)?"
)
_AGO_RE = re.compile(
    r"\b(?P<n>a|an|one|two|three|four|five|six|\d+)\s+(?P<unit>day|week|month|year)s?"
    r"(?:\s+or\s+so)?\s+ago\b",
    re.IGNORECASE,
)
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_RELATIVE_RE = re.compile(
    r"\b(?P<expr>last\s+(?:week|month|year|weekend)|this\s+(?:month|year|week)"
    r"|late\s+last\s+year|earlier\s+this\s+year|yesterday|today)\b",
    re.IGNORECASE,
)
_SEASON_RE = re.compile(
    r"\b(?:in\s+)?the\s+(?P<season>fall|autumn|spring|summer|winter)\s+of\s+(?P<year>\d{4})\b",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
# Words each relative expression contains, lower-cased ("late last year": "last").
# (ignoring case as the expression does: "ſ" matches "s", which ``lower()`` would not show).
_RELATIVE_WORDS = re.compile(r"last|this|yesterday|today", re.IGNORECASE)
# Each month name starts with one of these, as written (the month patterns heed case).
_MONTH_STEM = re.compile(r"Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec")


def _relative_words(sentence: str, lower: str) -> bool:
    """Whether ``sentence`` has a word of ``_RELATIVE_WORDS``: in ASCII text that is a
    substring test of its lower case (cheaper than a search that ignores case)."""
    if sentence.isascii():
        return "last" in lower or "this" in lower or "today" in lower or "yesterday" in lower
    return _RELATIVE_WORDS.search(sentence) is not None


# Meteorological seasons: a season is dated by its first month.
_SEASON_MONTH = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}


# Named days, dated by who keeps them: the qualifier nearest the name (within _NAMED_REACH
# characters either side) decides; a name with no qualifier near it is left undated.
_NAMED_DAY_RE = re.compile(
    r"\b(?P<name>Victory Day|Day of the Sun|Day of the Shining Star|Party Foundation Day)\b"
)
_NAMED_DAYS: dict[str, tuple[tuple[re.Pattern[str], int, int], ...]] = {
    "victory day": (
        # North Korea's "Victory Day": the Korean War armistice, July 27, 1953.
        (re.compile(r"North Korea|N\. Korea|DPRK|Pyongyang|armistice|Korean War"), 7, 27),
        # Russia's: the German surrender of May 9, 1945.
        (re.compile(r"Russia|Moscow|Kremlin|Soviet|Red Square|Great Patriotic"), 5, 9),
    ),
    "day of the sun": ((re.compile(r"."), 4, 15),),  # Kim Il-sung's birthday
    "day of the shining star": ((re.compile(r"."), 2, 16),),  # Kim Jong-il's birthday
    "party foundation day": ((re.compile(r"North Korea|Workers'|Workers’|Pyongyang"), 10, 10),),
}
_NAMED_REACH = 80


def _named_day(sentence: str, m: re.Match[str], published: date) -> date | None:
    """The date of a named day in ``m``: its keeper's day, on or before publication."""
    start, end = m.start(), m.end()
    window = sentence[max(0, start - _NAMED_REACH) : end + _NAMED_REACH]
    offset = max(0, start - _NAMED_REACH)
    best: tuple[int, int, int] | None = None
    tied = False
    for context, month, day in _NAMED_DAYS[m["name"].lower()]:
        distances = [
            max(start - (offset + c.end()), (offset + c.start()) - end, 0)
            for c in context.finditer(window)
            if not (start <= offset + c.start() < end)
        ]
        if not distances:
            continue
        near = min(distances)
        if best is None or near < best[0]:
            best, tied = (near, month, day), False
        elif near == best[0]:
            tied = True
    if best is None or tied:
        return None
    value = _safe_date(published.year, best[1], best[2])
    if value and value > published + timedelta(days=2):
        value = _safe_date(published.year - 1, best[1], best[2])
    return value


class _Span:
    """A match-like view of one group of a match (for a second month in "May and August")."""

    def __init__(self, match: re.Match[str], start: int, end: int) -> None:
        self._text = match.string[start:end]
        self._start, self._end = start, end

    def group(self, index: int = 0) -> str:
        return self._text

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end


def _month_back(ref: date, months: int) -> date:
    y, m = divmod(ref.year * 12 + ref.month - 1 - months, 12)
    return date(y, m + 1, 1)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def find_dates(sentence: str, published: date) -> list[DateMention]:
    """Every date expression in ``sentence``, resolved against ``published``.

    Also run over whole bodies (``infer_publication_date``): the spans already taken are kept
    sorted, so each overlap check costs a binary search, not a scan of every date before it
    (a body with thousands of dates took minutes).
    """
    found: list[DateMention] = []
    # The spans taken so far: disjoint, so sorted by start they are sorted by end too.
    starts: list[int] = []
    ends: list[int] = []

    def add(m: re.Match[str] | _Span, value: date | None, precision: Precision) -> None:
        if value is None:
            return
        i = bisect.bisect_left(starts, m.end())  # spans before i start before m ends
        if i and ends[i - 1] > m.start():
            return  # overlaps a date already found
        starts.insert(i, m.start())
        ends.insert(i, m.end())
        found.append(DateMention(m.group(0), m.start(), value, precision))

    # Each expression below needs a digit or one of a few words: a sentence without them
    # skips its pattern (most sentences hold no date at all).
    digit = _DIGIT.search(sentence) is not None
    named_month = _MONTH_STEM.search(sentence) is not None
    lower = sentence.lower()
    for m in _MONTH_DAY_RE.finditer(sentence) if digit and named_month else ():
        month, day = MONTHS[m["month"].lower().rstrip(".")], int(m["day"])
        if m["year"]:
            add(m, _safe_date(int(m["year"]), month, day), "day")
            continue
        value = _safe_date(published.year, month, day)
        if value and value > published + timedelta(days=2):
            value = _safe_date(published.year - 1, month, day)
        add(m, value, "day")
    for m in _NAMED_DAY_RE.finditer(sentence) if "Day" in sentence else ():
        add(m, _named_day(sentence, m, published), "day")
    for m in _SEASON_RE.finditer(sentence) if digit else ():
        add(m, date(int(m["year"]), _SEASON_MONTH[m["season"].lower()], 1), "season")
    for m in _ORDINAL_RE.finditer(sentence) if digit else ():
        day = int(m["day"])
        if m["last"]:
            base = _month_back(published, 1)
        else:
            base = published.replace(day=1) if day <= published.day else _month_back(published, 1)
        add(m, _safe_date(base.year, base.month, day), "day")
    for m in _IN_MONTH_RE.finditer(sentence) if named_month else ():
        months = [MONTHS[m["month"].lower()]]
        if m["second"]:
            months.append(MONTHS[m["second"].lower()])
        for k, month in enumerate(months):
            if m["year"]:
                year = int(m["year"])
            elif m["this"] == "last":
                year = published.year - 1
            else:
                year = published.year if month <= published.month else published.year - 1
            if k == 0 and m["second"]:
                first = _Span(m, m.start(), m.end("month"))
                add(first, date(year, month, 1), "month")
            elif k == 0:
                add(m, date(year, month, 1), "month")
            else:
                second = _Span(m, m.start("second"), m.end("second"))
                add(second, date(year, month, 1), "month")
    for m in _AGO_RE.finditer(sentence) if "ago" in lower else ():
        n = _NUMBERS.get(m["n"].lower()) or int(m["n"])
        unit = m["unit"].lower()
        if unit == "day":
            add(m, published - timedelta(days=n), "day")
        elif unit == "week":
            earlier = published - timedelta(days=7 * n)
            add(m, earlier - timedelta(days=earlier.weekday()), "week")
        elif unit == "month":
            add(m, _month_back(published, n), "month")
        else:
            add(m, date(published.year - n, 1, 1), "year")
    for m in _WEEKDAY_RE.finditer(sentence) if "day" in sentence else ():
        target = WEEKDAYS.index(m["wd"].lower())
        back = (published.weekday() - target) % 7
        if m.group(0).lower().startswith("last") and back == 0:
            back = 7
        add(m, published - timedelta(days=back), "day")
    for m in _RELATIVE_RE.finditer(sentence) if _relative_words(sentence, lower) else ():
        expr = " ".join(m["expr"].lower().split())
        if expr == "last week":
            monday = published - timedelta(days=published.weekday() + 7)
            add(m, monday, "week")
        elif expr == "last weekend":
            # The weekend closing last week: dated, like "last week", by that week's Monday.
            add(m, published - timedelta(days=published.weekday() + 7), "week")
        elif expr == "this week":
            add(m, published - timedelta(days=published.weekday()), "week")
        elif expr == "last month":
            add(m, _month_back(published, 1), "month")
        elif expr == "this month":
            add(m, published.replace(day=1), "month")
        elif expr in {"last year"}:
            add(m, date(published.year - 1, 1, 1), "year")
        elif expr == "late last year":
            add(m, date(published.year - 1, 10, 1), "season")
        elif expr in {"this year", "earlier this year"}:
            add(m, date(published.year, 1, 1), "year")
        elif expr == "yesterday":
            add(m, published - timedelta(days=1), "day")
        elif expr == "today":
            add(m, published, "day")
    found.sort(key=lambda d: d.start)
    return found
