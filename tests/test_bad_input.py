"""Bad input is one line on stderr and exit 2, never a traceback and exit 70 (issue 15,
finding 5): huge numbers, non-ASCII digits, dates datetime cannot hold, empty filters."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import Run, stored


def one_error_line(run: Run) -> str:
    """The run failed as bad input: exit 2, exactly one line on stderr, no traceback."""
    assert run.code == 2, run.err
    assert "Traceback" not in run.err, run.err
    lines = run.err.splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("briefbot: error: "), run.err
    return lines[0]


HUGE = "99999999999999999999999"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # Sentence indexes past the store's INTEGER overflowed the query (OverflowError).
        (["source", f"29979d9ea9c5:{HUGE}"], "the sentence index is out of range"),
        (["source", "29979d9ea9c5:2147483648"], "the sentence index is out of range"),
        # int() reads Arabic-Indic and full-width digits: only ASCII digits are digits here.
        (["source", "29979d9ea9c5:\u0663"], "is not a reference"),
        (["source", "29979d9ea9c5:\uff13"], "is not a reference"),
        (["search", "sanctions", "--limit", "\u0663"], "expected a whole number"),
        (["brief", "--max-items", "\uff15"], "expected a whole number"),
        # Counts past 32 bits overflowed the SQL they end up in.
        (["source", "29979d9ea9c5:3", "--context", HUGE], "at most 2147483647"),
        (["search", "sanctions", "--limit", HUGE], "at most 2147483647"),
        # A date-only --until is the next midnight: the day after 9999-12-31 does not exist.
        (["brief", "--until", "9999-12-31"], "--until: '9999-12-31' is out of range"),
        (["search", "x", "--until", "9999-12-31"], "--until: '9999-12-31' is out of range"),
        # Moved to UTC, these fall before year 1 or after year 9999.
        (["brief", "--since", "0001-01-01T00:00+01:00"], "--since: '0001-01-01T00:00+01:00'"),
        (["stories", "--until", "9999-12-31T23:30-01:00"], "is out of range"),
        # An empty value is a mistake, not "no filter" (it gave a whole-corpus brief).
        (["brief", "--query", ""], "the query is empty"),
        (["brief", "--query", "  "], "the query is empty"),
        (["brief", "--entity", ""], "the entity name is empty"),
        (["brief", "--topic", ""], "the topic is empty"),
        (["timeline", "--entity", ""], "the entity name is empty"),
        (["timeline", "--topic", " "], "the topic is empty"),
        (["brief", "--since", ""], "--since: '' is not a date"),
        (["timeline", "--until", ""], "--until: '' is not a date"),
        (["digest", "--since", ""], "--since: '' is not a date"),
        # Only a value of exactly YYYY-MM-DD is a whole day; other digits are not dates.
        (["brief", "--since", "\u0662\u0660\u0662\u0663-01-01"], "is not a date"),
        # A schedule's time and channel id are ASCII digits too (they were stored as given).
        (
            ["schedule", "set", "--channel", "123", "--time", "\u0660\u0668:00"],
            "expected HH:MM",
        ),
        (
            ["schedule", "set", "--channel", "\u0661\u0662\u0663", "--time", "08:00"],
            "expected a channel id (digits)",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    seeded_cli: Callable[..., Run], db_url: str, args: list[str], message: str
) -> None:
    before = stored(db_url)
    run = seeded_cli(*args)
    assert message in one_error_line(run)
    assert run.out == ""
    assert stored(db_url) == before


def test_empty_filter_is_refused_before_the_first_use_seeds_the_store(
    cli: Callable[..., Run], db_url: str
) -> None:
    """The check comes before any work: a refused brief does not ingest the seed corpus."""
    run = cli("brief", "--query", "")
    assert "the query is empty" in one_error_line(run)
    assert stored(db_url)["documents"] == []


def test_the_largest_index_and_count_are_still_accepted(seeded_cli: Callable[..., Run]) -> None:
    """The bounds refuse only what cannot be stored: the largest value is a plain answer."""
    run = seeded_cli("source", "29979d9ea9c5:2147483647")
    assert "has no sentence 2147483647" in one_error_line(run)
    run = seeded_cli("source", "29979d9ea9c5:3", "--context", "2147483647")
    assert run.code == 0, run.err
    assert seeded_cli("search", "sanctions", "--limit", "2147483647").code == 0
    assert seeded_cli("brief", "--until", "9999-12-30", "--format", "json").code == 0
