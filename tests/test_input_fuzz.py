"""Property-based tests (Hypothesis) of the input parsers: the sentence reference and the date
options. Whatever the string, the answer is a valid value or the engine's input error, never
another exception. The budget is the fixed "ci" profile (tests/conftest.py); every failure
found with HYPOTHESIS_PROFILE=explore is a plain test in tests/test_bad_input.py.

The Discord commands share the reference parser (``/source`` goes through ``Services.source``);
their windows are whole numbers of days (``Range[int, 1, 365]``), checked by Discord, so no
date string reaches the engine from there.
"""

from __future__ import annotations

import argparse
import re
import string
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.argtypes import MAXIMUM, int_at_least
from briefs.compose.lookup import MAX_SENTENCE_INDEX, parse_ref
from briefs.dates import DateParseError, parse_cli_date
from briefs.errors import InputError
from tests.conftest import Run
from tests.test_bad_input import one_error_line

_DOC = re.compile(r"[0-9a-zA-Z_-]+")

# Digits of many scripts, and the characters a reference or a date is made of.
DIGITS = "0123456789\u0660\u0663\u06f5\u0966\uff10\uff13\U0001d7ce"
REF_CHARS = string.ascii_letters + DIGITS + ":[]_- \t\n\u00a0"
DATE_CHARS = DIGITS + "-:T+Z. tz\u2212"

offsets = st.builds(
    timezone,
    st.timedeltas(
        min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
    ),
)
iso_datetimes = st.builds(
    lambda d, tz, sep, spec: d.replace(tzinfo=tz).isoformat(sep=sep, timespec=spec),
    st.datetimes(),
    st.none() | offsets,
    st.sampled_from(["T", " "]),
    st.sampled_from(["auto", "hours", "minutes", "seconds", "milliseconds"]),
)
date_texts = (
    st.text()
    | st.text(alphabet=DATE_CHARS)
    | st.dates().map(date.isoformat)
    | iso_datetimes
    | st.builds(
        lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}",
        st.integers(0, 9999),
        st.integers(0, 13),
        st.integers(0, 32),
    )
)
ref_texts = (
    st.text()
    | st.text(alphabet=REF_CHARS)
    | st.builds(
        lambda doc, idx, wrap: f"[{doc}:{idx}]" if wrap else f"{doc}:{idx}",
        st.from_regex(_DOC, fullmatch=True),
        st.integers(min_value=0, max_value=2**70).map(str) | st.text(alphabet=DIGITS, min_size=1),
        st.booleans(),
    )
)


@given(ref_texts)
@example("29979d9ea9c5:99999999999999999999999")
@example("29979d9ea9c5:\u0663")
def test_a_reference_parses_to_a_valid_one_or_is_an_input_error(text: str) -> None:
    try:
        doc, index = parse_ref(text)
    except InputError as exc:
        assert "\n" not in str(exc)  # one line, whatever the input held
        return
    assert _DOC.fullmatch(doc)
    assert index is None or 0 <= index <= MAX_SENTENCE_INDEX
    # What was parsed is what a citation of it says.
    assert parse_ref(f"{doc}:{index}" if index is not None else doc) == (doc, index)


@given(st.from_regex(_DOC, fullmatch=True), st.integers(0, MAX_SENTENCE_INDEX))
def test_every_citation_in_range_parses_back(doc: str, index: int) -> None:
    assert parse_ref(f" [{doc}:{index}] ") == (doc, index)


@given(date_texts, st.booleans())
@example("9999-12-31", True)
@example("0001-01-01T00:00+01:00", False)
@example("9999-12-31T23:59-01:00", False)
def test_a_date_option_is_aware_utc_or_an_input_error(text: str, end: bool) -> None:
    try:
        value = parse_cli_date(text, end=end)
    except DateParseError as exc:
        assert "\n" not in str(exc)
        return
    assert value.tzinfo is not None and value.utcoffset() == timedelta(0)
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        day = date.fromisoformat(text)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        assert value == (start + timedelta(days=1) if end else start)
    else:
        parsed = datetime.fromisoformat(text)  # the same instant; a value without zone is UTC
        assert value == (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))


@given(st.text() | st.text(alphabet=DIGITS + "+- ") | st.integers().map(str))
def test_a_count_option_is_a_bounded_whole_number_or_a_usage_error(text: str) -> None:
    try:
        value = int_at_least(1)(text)
    except argparse.ArgumentTypeError:
        return
    assert 1 <= value <= MAXIMUM
    assert text.strip().lstrip("+").isascii()


# A sample through the command line itself (in-process, a real store): slower, so fewer.
_cli_sample = settings(
    max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_cli_sample
@given(since=date_texts, until=date_texts)
def test_cli_window_is_an_answer_or_one_error_line(
    seeded_cli: Callable[..., Run], since: str, until: str
) -> None:
    run = seeded_cli("stories", f"--since={since}", f"--until={until}", "--format", "json")
    if run.code != 0:
        assert "--since" in one_error_line(run) or "--until" in run.err


@_cli_sample
@given(ref=ref_texts)
def test_cli_source_is_an_answer_or_one_error_line(
    seeded_cli: Callable[..., Run], ref: str
) -> None:
    run = seeded_cli("source", ref, "--format", "json")
    if run.code != 0:
        one_error_line(run)
