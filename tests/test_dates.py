"""Date expressions resolved against the article's publication date."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from briefs.dates import (
    DateParseError,
    find_dates,
    parse_cli_date,
    parse_printed,
    reference_date,
)

THU_AUG_31 = date(2023, 8, 31)
FRI_OCT_6 = date(2023, 10, 6)
THU_SEP_21 = date(2023, 9, 21)


@pytest.mark.parametrize(
    ("sentence", "published", "value", "precision"),
    [
        ("an official said Wednesday", THU_AUG_31, date(2023, 8, 30), "day"),
        ("the exercise that began Monday", THU_AUG_31, date(2023, 8, 28), "day"),
        ("a senior US official said Thursday", THU_SEP_21, date(2023, 9, 21), "day"),
        ("met Putin in Russia on Sept. 13, spawning", THU_SEP_21, date(2023, 9, 13), "day"),
        ("The White House on Wednesday, Aug. 30, said", THU_AUG_31, date(2023, 8, 30), "day"),
        ("On the 5th (local time), CBS said", FRI_OCT_6, date(2023, 10, 5), "day"),
        ("held on the 13th of last month", FRI_OCT_6, date(2023, 9, 13), "day"),
        ("a visit to Pyongyang in July", THU_AUG_31, date(2023, 7, 1), "month"),
        ("rockets to Russia late last year", THU_AUG_31, date(2022, 10, 1), "season"),
        ("cases in the fall of 2021", THU_SEP_21, date(2021, 9, 1), "season"),
        ("an exercise in Poland last weekend", THU_SEP_21, date(2023, 9, 11), "week"),
        ("on the record a week or so ago", date(2023, 9, 14), date(2023, 9, 4), "week"),
        ("In July, the two leaders met", THU_SEP_21, date(2023, 7, 1), "month"),
        ("talks two months ago", THU_SEP_21, date(2023, 7, 1), "month"),
        ("after last week's summit", THU_SEP_21, date(2023, 9, 11), "week"),
        ("Shoigu's trip last month", THU_AUG_31, date(2023, 7, 1), "month"),
        ("Last year, companies signed deals", THU_SEP_21, date(2022, 1, 1), "year"),
        ("on Dec. 30 the talks ended", date(2024, 1, 3), date(2023, 12, 30), "day"),
    ],
)
def test_resolution(sentence: str, published: date, value: date, precision: str) -> None:
    found = find_dates(sentence, published)
    assert found, sentence
    assert (found[0].value, found[0].precision) == (value, precision)


def test_month_lists_resolve_each_month() -> None:
    found = find_dates("attempted twice, in May and August, but failed", FRI_OCT_6)
    assert [(d.text, d.value) for d in found] == [
        ("in May", date(2023, 5, 1)),
        ("August", date(2023, 8, 1)),
    ]


def test_dateline_sets_the_reference_day() -> None:
    # Published 09:35 in Seoul on Aug. 31 is still Aug. 30 in Washington.
    published = datetime(2023, 8, 31, 0, 35, tzinfo=UTC)
    body = "WASHINGTON -- Officials said today that talks advance."
    assert reference_date(published, "minute", body) == date(2023, 8, 30)
    assert reference_date(published, "minute", "SEOUL -- " + body[14:]) == date(2023, 8, 31)
    assert reference_date(published, "day", body) == date(2023, 8, 31)


def test_printed_time_is_converted_to_utc() -> None:
    assert parse_printed("Sept. 14, 2023 - 09:17", "Asia/Seoul") == (
        datetime(2023, 9, 14, 0, 17, tzinfo=UTC),
        "minute",
    )
    assert parse_printed("Aug. 31, 2023")[1] == "day"


def test_cli_dates() -> None:
    assert parse_cli_date("2023-09-01") == datetime(2023, 9, 1, tzinfo=UTC)
    with pytest.raises(DateParseError):
        parse_cli_date("yesterday")
    with pytest.raises(DateParseError):
        parse_cli_date("2023-13-40")


@pytest.mark.parametrize(
    ("sentence", "value"),
    [
        # The seed sentence: North Korea's Victory Day (the armistice), though Russia is named.
        (
            "Shoigu's visit to North Korea in July this year on the occasion of North Korea's "
            "'Victory Day' (the day the Korean War armistice agreement was signed), and Kim "
            "Jong-un's visit to Russia in September",
            date(2023, 7, 27),
        ),
        ("Putin watched the Victory Day parade on Red Square", date(2023, 5, 9)),
        ("gifts for the Day of the Sun", date(2023, 4, 15)),
        ("the Victory Day celebrations were muted", None),  # whose? left undated
    ],
)
def test_named_days_are_dated_by_their_nearest_keeper(sentence: str, value: date | None) -> None:
    named = [d for d in find_dates(sentence, FRI_OCT_6) if "Day" in d.text]
    if value is None:
        assert named == []
    else:
        assert [(d.value, d.precision) for d in named] == [(value, "day")]


def test_a_named_day_later_in_the_year_than_publication_is_last_years() -> None:
    [found] = find_dates("Russia's Victory Day parade", date(2023, 3, 1))
    assert found.value == date(2022, 5, 9)
