"""The evaluation scorer (tests/eval/score.py) on tiny hand-made inputs, and the gold data's
consistency with the seed corpus it describes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from briefs.articles import read_article
from briefs.segment import split_sentences
from tests.eval.score import (
    Fact,
    Gold,
    GoldDate,
    GoldQuote,
    Story,
    brief_statements,
    citation_validity,
    date_accuracy,
    expression_matches,
    fact_coverage,
    load_gold,
    normalise,
    quote_speaker_accuracy,
    speaker_matches,
    story_f1,
)

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def tiny_gold(**parts: object) -> Gold:
    base: dict[str, object] = {"facts": (), "stories": (), "quotes": (), "dates": ()}
    base.update(parts)
    return Gold(**base)  # type: ignore[arg-type]


# -- fact coverage --------------------------------------------------------------------------

FACTS = (
    Fact("talks", "talks advancing", 2, (("actively advancing",), ("secret", "active talks"))),
    Fact("shoigu", "Shoigu visit", 1, (("shoigu", "in july"),)),
    Fact("veto", "Russia could veto", 1, (("veto",),)),
)


def test_fact_coverage_weights_covered_facts() -> None:
    gold = tiny_gold(facts=FACTS)
    statements = [
        "Arms negotiations are ACTIVELY   advancing, Kirby said.",
        "Shoigu visited Pyongyang last month.",  # no "in July": does not cover "shoigu"
    ]
    score, covered, missing = fact_coverage(statements, gold)
    assert covered == ["talks"]
    assert missing == ["shoigu", "veto"]
    assert score == pytest.approx(2 / 4)


def test_fact_alternative_needs_all_its_parts_in_one_statement() -> None:
    gold = tiny_gold(facts=FACTS[:1])
    # "secret" and "active talks" in two different statements do not cover the fact.
    assert fact_coverage(["in secret", "in active talks"], gold)[0] == 0.0
    assert fact_coverage(["in secret and active talks"], gold)[0] == 1.0


def test_fact_matching_reads_curly_quotes_as_straight() -> None:
    fact = Fact("visit", "", 1, (("kim jong-un's visit",),))
    assert fact.covered_by("Kim Jong-un’s visit to Russia")
    assert normalise("A  ‘B’\n“C”") == "a 'b' \"c\""


def test_fact_coverage_of_nothing() -> None:
    assert fact_coverage([], tiny_gold(facts=FACTS)) == (0.0, [], ["talks", "shoigu", "veto"])
    assert fact_coverage(["anything"], tiny_gold()) == (0.0, [], [])


def test_brief_statements_are_bluf_then_section_items() -> None:
    brief = {
        "bluf": [{"text": "a", "citations": []}],
        "sections": [{"items": [{"text": "b"}, {"text": "c"}]}, {"items": [{"text": "d"}]}],
        "timeline": [{"text": "not a statement"}],
    }
    assert brief_statements(brief) == ["a", "b", "c", "d"]


# -- citation validity ----------------------------------------------------------------------


def test_citation_validity_counts_each_citation() -> None:
    stored = {"d1:0": "Kirby said  Wednesday.", "d1:1": "Other text.", "d2:0": "Exact."}
    brief = {
        "bluf": [{"text": "Kirby said Wednesday.", "citations": [{"ref": 1, "sentence": "d1:0"}]}],
        "sections": [
            {
                "items": [
                    # one valid, one pointing at another sentence
                    {
                        "text": "Exact.",
                        "citations": [
                            {"ref": 2, "sentence": "d2:0"},
                            {"ref": 1, "sentence": "d1:1"},
                        ],
                    },
                    # a citation to a sentence that does not exist
                    {"text": "Ghost.", "citations": [{"ref": 1, "sentence": "d1:9"}]},
                    # case differs: not verbatim
                    {"text": "exact.", "citations": [{"ref": 2, "sentence": "d2:0"}]},
                ]
            }
        ],
    }
    assert citation_validity(brief, stored.get) == pytest.approx(2 / 5)


def test_citation_validity_of_an_empty_brief() -> None:
    assert citation_validity({"bluf": [], "sections": []}, lambda ref: None) == 1.0


# -- speakers -------------------------------------------------------------------------------

QUOTES = (
    GoldQuote("a.txt", "We have new information", "John Kirby"),
    GoldQuote("a.txt", "the official said on condition", "anonymous: a senior US official"),
    GoldQuote(
        "b.txt",
        "they said",
        "group: United States, United Kingdom, South Korea and Japan",
        ("South Korea", "Japan"),
    ),
    GoldQuote(
        "b.txt",
        "defense ministry said",
        "organisation: Russian Defence Ministry",
        ("ministry|MoD",),
    ),
)


@pytest.mark.parametrize(
    ("predicted", "index", "right"),
    [
        ("John Kirby", 0, True),
        ("john  KIRBY", 0, True),
        ("Kirby", 0, False),
        ("anonymous: John Kirby", 0, True),  # a prefix on a person's name is ignored
        ("anonymous: senior official", 1, True),
        ("anonymous: a US official", 1, True),
        ("anonymous: a source", 1, False),
        ("official", 1, False),  # not marked anonymous
        ("group: US, UK, South Korea and Japan", 2, True),
        ("group: South Korea", 2, False),
        ("South Korea and Japan", 2, False),  # not marked as a group
        ("organisation: Russia's defense ministry", 3, True),
        ("Russian Defence Ministry", 3, True),
        ("state: Russia", 3, False),
        ("anonymous: ministry official", 3, False),
        (None, 0, False),
        ("", 0, False),
    ],
)
def test_speaker_matches(predicted: str | None, index: int, right: bool) -> None:
    assert speaker_matches(predicted, QUOTES[index]) is right


def test_quote_speaker_accuracy() -> None:
    gold = tiny_gold(quotes=QUOTES)
    predicted = [
        ("a.txt", '"We have new information," the NSC spokesperson said.', "John Kirby"),
        # right sentence, wrong speaker
        ("a.txt", '"Russia," the official said on condition of anonymity.', "John Kirby"),
        # a sentence of b.txt predicted under the wrong document does not count
        ("a.txt", '"Russia is negotiating," they said.', "group: South Korea and Japan"),
        # two entries for one sentence: one right is enough
        ("b.txt", "Russia’s defense ministry said: “…”", None),
        ("b.txt", "Russia’s defense ministry said: “…”", "organisation: Russian MoD"),
    ]
    accuracy, misses = quote_speaker_accuracy(predicted, gold)
    assert accuracy == pytest.approx(2 / 4)
    assert len(misses) == 2
    assert "on condition" in misses[0] and "'John Kirby'" in misses[0]
    assert "they said" in misses[1] and "no prediction" in misses[1]


# -- dates ----------------------------------------------------------------------------------

DATES = (
    GoldDate("a.txt", "said Wednesday", "Wednesday", date(2023, 8, 30), "day"),
    GoldDate("a.txt", "late last year", "late last year", date(2022, 10, 1), "season"),
    GoldDate("b.txt", "on Wednesday, Aug. 30", "Wednesday, Aug. 30", date(2023, 8, 30), "day"),
    GoldDate("b.txt", "in May and August", "August", date(2023, 8, 1), "month"),
)


def test_expression_matches() -> None:
    assert expression_matches("on Wednesday", "Wednesday")
    assert expression_matches("Aug. 30", "Wednesday, Aug. 30")
    assert expression_matches("‘Victory Day’", "'Victory Day'")
    assert not expression_matches("May", "August")
    assert not expression_matches("", "August")


def test_date_accuracy() -> None:
    gold = tiny_gold(dates=DATES)
    predicted = [
        ("a.txt", "an official said Wednesday.", "Wednesday", "2023-08-30", "day"),
        # right value, wrong precision
        ("a.txt", "shells late last year.", "late last year", "2022-10-01", "year"),
        # a second expression of the same sentence: "Aug. 30" is part of the gold one
        (
            "b.txt",
            "The White House on Wednesday, Aug. 30, said",
            "on Wednesday",
            "2023-08-31",
            "day",
        ),
        ("b.txt", "The White House on Wednesday, Aug. 30, said", "Aug. 30", "2023-08-30", "day"),
        # the other expression of the sentence does not stand in for "August"
        ("b.txt", "twice, in May and August, but", "in May", "2023-08-01", "month"),
    ]
    accuracy, misses = date_accuracy(predicted, gold)
    assert accuracy == pytest.approx(2 / 4)
    assert misses[0].startswith("a.txt: 'late last year'") and "2022-10-01 (year)" in misses[0]
    assert "'August'" in misses[1] and "not found" in misses[1]


# -- stories --------------------------------------------------------------------------------

STORIES = (Story("s1", "", ("a", "b")), Story("s2", "", ("c",)), Story("s3", "", ("d", "e", "f")))


def test_story_f1_perfect_and_partial() -> None:
    gold = tiny_gold(stories=STORIES)
    assert story_f1([{"a", "b"}, {"c"}, {"d", "e", "f"}], gold) == (1.0, 1.0, 1.0)
    # gold pairs: ab, de, df, ef. Predicted: ab, cd (wrong), ef; "d" and "f" apart.
    precision, recall, f1 = story_f1([{"a", "b"}, {"c", "d"}, {"e", "f"}], gold)
    assert (precision, recall) == (pytest.approx(2 / 3), pytest.approx(2 / 4))
    assert f1 == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))


def test_story_f1_singletons_and_one_lump() -> None:
    gold = tiny_gold(stories=STORIES)
    assert story_f1([], gold) == (1.0, 0.0, 0.0)
    precision, recall, _ = story_f1([{"a", "b", "c", "d", "e", "f"}], gold)
    assert (precision, recall) == (pytest.approx(4 / 15), 1.0)
    assert story_f1([{"a"}, {"b"}], tiny_gold(stories=(Story("x", "", ("a",)),))) == (
        1.0,
        1.0,
        1.0,
    )


# -- the gold data itself -------------------------------------------------------------------


@pytest.fixture(scope="module")
def gold() -> Gold:
    return load_gold()


@pytest.fixture(scope="module")
def seed_sentences() -> dict[str, list[str]]:
    return {
        p.name: [s for s, _ in split_sentences(read_article(p).body)]
        for p in sorted(SEEDS.glob("*.txt"))
    }


def test_gold_shape(gold: Gold, seed_sentences: dict[str, list[str]]) -> None:
    names = set(seed_sentences)
    assert 15 <= len(gold.facts) <= 20
    assert len({f.id for f in gold.facts}) == len(gold.facts)
    assert all(f.weight in (1, 2) for f in gold.facts)
    assert len(gold.quotes) >= 40
    assert len(gold.dates) >= 30
    assert set(gold.sentence_count) == names == set(gold.published)
    assert sum(gold.sentence_count.values()) == gold.sentence_total
    documents = [d for s in gold.stories for d in s.documents]
    assert sorted(documents) == sorted(names)  # the stories partition the corpus
    assert all(d.precision in ("day", "week", "month", "season", "year") for d in gold.dates)
    assert all(d.value.weekday() == 0 for d in gold.dates if d.precision == "week")
    assert all(d.value.day == 1 for d in gold.dates if d.precision in ("month", "season", "year"))


def test_every_fact_alternative_matches_a_seed_sentence(
    gold: Gold, seed_sentences: dict[str, list[str]]
) -> None:
    everything = [normalise(s) for ss in seed_sentences.values() for s in ss]
    for fact in gold.facts:
        for alternative in fact.match:
            parts = [normalise(p) for p in alternative]
            assert any(all(p in s for p in parts) for s in everything), (fact.id, alternative)


def test_quote_and_date_anchors_pick_exactly_one_sentence(
    gold: Gold, seed_sentences: dict[str, list[str]]
) -> None:
    for entry in (*gold.quotes, *gold.dates):
        hits = [
            s for s in seed_sentences[entry.document] if normalise(entry.contains) in normalise(s)
        ]
        assert len(hits) == 1, (entry.document, entry.contains, len(hits))
        if isinstance(entry, GoldDate):
            assert normalise(entry.expression) in normalise(hits[0]), entry
    anchors = [(q.document, normalise(q.contains)) for q in gold.quotes]
    assert len(set(anchors)) == len(anchors)


def test_the_whole_corpus_scores_full_marks_on_facts(
    gold: Gold, seed_sentences: dict[str, list[str]]
) -> None:
    every_sentence = [s for ss in seed_sentences.values() for s in ss]
    assert fact_coverage(every_sentence, gold)[0] == 1.0
    assert fact_coverage(every_sentence[:5], gold)[0] < 0.5
