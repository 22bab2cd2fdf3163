"""Briefs end to end through the CLI: every item is the verbatim sentence it cites."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import jsonschema
import pytest

from briefs.lexicon import load_lexicon
from briefs.resources import schema_path
from tests.conftest import Run

SCHEMA = json.loads(schema_path().read_text(encoding="utf-8"))

QUERIES = [
    [],
    ["--topic", "sanctions"],
    ["--topic", "munitions"],
    ["--entity", "Sergei Shoigu"],
    ["--entity", "DPRK"],
    ["--query", "artillery shells"],
    ["--since", "2023-09-01"],
    ["--until", "2023-08-31"],
    ["--since", "2023-09-01", "--topic", "arms", "--max-items", "5"],
]


def _norm(s: str) -> str:
    return " ".join(s.split())


def _all_statements(brief: dict) -> list[dict]:  # type: ignore[type-arg]
    items = list(brief["bluf"])
    for section in brief["sections"]:
        items.extend(section["items"])
    items.extend(brief["timeline"])
    items.extend(brief["quotes"])
    return items


@pytest.mark.parametrize("args", QUERIES, ids=lambda a: " ".join(a) or "whole corpus")
def test_items_are_the_sentences_they_cite(cli: Callable[..., Run], args: list[str]) -> None:
    run = cli("brief", "--format", "json", *args)
    assert run.code == 0, run.err
    brief = run.json()
    jsonschema.validate(brief, SCHEMA)
    statements = _all_statements(brief)
    assert statements, f"empty brief for {args}"
    refs = {s["ref"]: s["id"] for s in brief["sources"]}
    for item in statements:
        for citation in item["citations"]:
            doc_id, _index = citation["sentence"].split(":")
            assert refs[citation["ref"]] == doc_id
            source = cli("source", citation["sentence"], "--format", "json").json()
            passage = source["sections"][0]["items"]
            cited = [i for i in passage if i["citations"][0]["sentence"] == citation["sentence"]]
            assert len(cited) == 1
            assert _norm(cited[0]["text"]) == _norm(item["text"])


def test_source_markdown_prints_the_cited_sentence(cli: Callable[..., Run]) -> None:
    brief = cli("brief", "--format", "json").json()
    for item in brief["bluf"]:
        ref = item["citations"][0]["sentence"]
        run = cli("source", ref)
        assert run.code == 0
        assert f"→ [{ref}] **{item['text']}**" in run.out


def test_brief_respects_max_items_and_bluf_first(cli: Callable[..., Run]) -> None:
    brief = cli("brief", "--format", "json", "--max-items", "6").json()
    count = len(brief["bluf"]) + sum(len(s["items"]) for s in brief["sections"])
    assert count == 6
    assert 2 <= len(brief["bluf"]) <= 3
    texts = [_norm(i["text"]) for i in _all_statements(brief)[:count]]
    assert len(texts) == len(set(texts)), "a statement appears twice"


def test_topic_brief_only_has_topic_statements(cli: Callable[..., Run]) -> None:
    topic = load_lexicon().topic("sanctions")
    brief = cli("brief", "--format", "json", "--topic", "sanctions").json()
    for item in _all_statements(brief):
        assert topic.matches(item["text"]), item["text"]


def test_entity_brief_only_has_entity_statements(cli: Callable[..., Run]) -> None:
    brief = cli("brief", "--format", "json", "--entity", "Sergei Shoigu").json()
    assert brief["query"]["entity"] == "Sergei Shoigu"
    for item in _all_statements(brief):
        assert "Shoigu" in item["text"]


def test_window_brief_only_cites_documents_in_the_window(cli: Callable[..., Run]) -> None:
    brief = cli("brief", "--format", "json", "--since", "2023-09-01").json()
    assert brief["sources"]
    for source in brief["sources"]:
        assert date.fromisoformat(source["published"]) >= date(2023, 9, 1)
    until = cli("brief", "--format", "json", "--until", "2023-08-31").json()
    assert {s["published"] for s in until["sources"]} <= {"2023-08-30", "2023-08-31"}


def test_sections_follow_the_design_order(cli: Callable[..., Run]) -> None:
    brief = cli("brief", "--format", "json").json()
    keys = [s["key"] for s in brief["sections"]]
    order = ["developments", "quotes", "sanctions", "denials", "watch"]
    assert keys == [k for k in order if k in keys]
    assert {"quotes", "sanctions", "denials"} <= set(keys)
    denials = next(s for s in brief["sections"] if s["key"] == "denials")
    # Denials, and claims made against a denial ("despite its denials, ...").
    assert all(i["stance"] in {"denial", "claim"} for i in denials["items"])
    dates = [t["date"] for t in brief["timeline"]]
    assert dates == sorted(dates)


def test_the_same_event_from_two_outlets_is_one_story(cli: Callable[..., Run]) -> None:
    brief = cli("brief", "--format", "json", "--max-items", "20").json()
    by_id = {s["ref"]: s["id"] for s in brief["sources"]}
    groups = [sorted(by_id[r] for r in story["refs"]) for story in brief["stories"]]
    # 002 (Korea Herald, Aug. 31) and 003 (Moscow Times, Aug. 30) report the same briefing.
    assert sorted(["29979d9ea9c5", "35f1b1c4c678"]) in groups


def test_markdown_brief_is_readable(cli: Callable[..., Run]) -> None:
    run = cli("brief")
    assert run.code == 0
    assert run.out.startswith("# Brief")
    for heading in ("## Bottom line", "## Key developments", "## Sources"):
        assert heading in run.out
    assert "ingesting the seed corpus first" in run.err


def test_unknown_topic_is_one_clear_line(cli: Callable[..., Run]) -> None:
    run = cli("brief", "--topic", "knitting")
    assert run.code == 2
    assert run.err.strip().count("\n") == 0 or "ingesting" in run.err
    assert "unknown topic 'knitting'; known topics:" in run.err


def test_a_query_nothing_matches_says_so(cli: Callable[..., Run]) -> None:
    run = cli("brief", "--query", "zebra giraffe")
    assert run.code == 0
    assert "No stored statement matches this request." in run.out


def test_an_entity_not_in_the_gazetteer_says_so_and_suggests_close_names(
    cli: Callable[..., Run],
) -> None:
    """A misspelt entity: the brief says the name is not in the gazetteer, that nothing names
    it, and which gazetteer names are spelt like it; no window is claimed."""
    run = cli("brief", "--entity", "Shoibu")
    assert run.code == 0
    assert "_all dates · 0 sources · generated " in run.out
    assert "'Shoibu' is not in the gazetteer" in run.out
    assert "No stored statement matches this request." in run.out
    assert "Names in the gazetteer close to it: Sergei Shoigu." in run.out
    assert "showing those with any" not in run.out  # no loosened match survived the filter


def test_an_unknown_name_the_corpus_uses_is_found_as_written(cli: Callable[..., Run]) -> None:
    note = (
        "'Vostochny Cosmodrome' is not in the gazetteer; "
        "showing statements that name it as written."
    )
    assert note in cli("brief", "--entity", "Vostochny Cosmodrome").out
    brief = cli("brief", "--entity", "Vostochny Cosmodrome", "--format", "json").json()
    texts = [i["text"] for i in brief["bluf"]] + [
        i["text"] for s in brief["sections"] for i in s["items"]
    ]
    assert texts and all("Vostochny Cosmodrome" in t for t in texts)


def test_a_brief_since_a_day_says_since(cli: Callable[..., Run]) -> None:
    run = cli("brief", "--since", "2023-09-20")
    assert "_since 2023-09-20 · " in run.out and "undated" not in run.out.splitlines()[2]


def test_a_brief_on_several_stories_leads_with_one_line_per_story(
    cli: Callable[..., Run],
) -> None:
    """The bottom line and the first Key developments are one line per story, the most
    important first (the two-outlet story leads), each with its date and outlets."""
    brief = cli("brief", "--format", "json").json()
    developments = next(s for s in brief["sections"] if s["key"] == "developments")
    lines = [i for i in [*brief["bluf"], *developments["items"]] if "story" in i]
    assert len(brief["bluf"]) == 3 and all("story" in i for i in brief["bluf"])
    stories = [i["story"]["id"] for i in lines]
    assert len(stories) == len(set(stories)) == len(brief["stories"])
    assert lines[0]["story"]["outlets"] == 2
    assert [i["story"]["outlets"] for i in lines] == sorted(
        (i["story"]["outlets"] for i in lines), reverse=True
    )
    for item in lines:
        assert item["story"]["date"] is not None
    # Lines come first in Key developments; the other items carry no story.
    flags = ["story" in i for i in developments["items"]]
    assert flags == sorted(flags, reverse=True)
    md = cli("brief").out
    assert "(2023-08-30, 2 outlets)" in md


def test_an_entity_brief_is_not_event_first(cli: Callable[..., Run]) -> None:
    brief = cli("entity", "Sergei Shoigu", "--format", "json").json()
    assert not any("story" in i for i in _all_statements(brief))
