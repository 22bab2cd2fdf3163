"""The evaluation scorer (tests/eval/score.py) on tiny hand-made inputs, and the gold data's
consistency with the seed corpus it describes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from briefs.ingest.articles import read_article
from briefs.segment import split_sentences
from tests.eval.score import (
    PRF,
    Fact,
    Gold,
    GoldDate,
    GoldMention,
    GoldQuote,
    PredictedMention,
    Story,
    bcubed_prf,
    brief_statements,
    citation_validity,
    date_accuracy,
    entity_linking,
    expression_matches,
    fact_coverage,
    load_gold,
    names,
    normalise,
    outlet_accuracy,
    outlet_name,
    pairwise_prf,
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


# -- story clustering, entity linking, outlets (issue 12) -----------------------------------

ABCD = ("a", "b", "c", "d")
GOLD_ABC_D = [{"a", "b", "c"}, {"d"}]


def test_pairwise_and_bcubed_by_hand() -> None:
    """Gold {a,b,c}{d}, predicted {a,b}{c,d}: gold pairs ab ac bc, predicted ab cd, one hit.
    B-cubed per item (p, r): a (1, 2/3), b (1, 2/3), c (1/2, 1/3), d (1/2, 1)."""
    pairwise = pairwise_prf([{"a", "b"}, {"c", "d"}], GOLD_ABC_D, ABCD)
    assert (pairwise.precision, pairwise.recall) == pytest.approx((1 / 2, 1 / 3))
    assert pairwise.f1 == pytest.approx(0.4)
    b3 = bcubed_prf([{"a", "b"}, {"c", "d"}], GOLD_ABC_D, ABCD)
    assert (b3.precision, b3.recall) == pytest.approx((3 / 4, 2 / 3))
    assert b3.f1 == pytest.approx(12 / 17)


def test_all_singletons_predict_no_pair() -> None:
    """Nothing grouped: pairwise precision 1 (no pair claimed), recall 0; B-cubed recall is
    the mean of 1/3, 1/3, 1/3 and 1."""
    pairwise = pairwise_prf([], GOLD_ABC_D, ABCD)
    assert (pairwise.precision, pairwise.recall, pairwise.f1) == (1.0, 0.0, 0.0)
    b3 = bcubed_prf([], GOLD_ABC_D, ABCD)
    assert (b3.precision, b3.recall) == pytest.approx((1.0, 0.5))
    assert b3.f1 == pytest.approx(2 / 3)


def test_one_big_cluster() -> None:
    """Everything in one story: 6 pairs predicted, the 3 gold ones among them; B-cubed
    precision is the mean of 3/4, 3/4, 3/4 and 1/4."""
    pairwise = pairwise_prf([set(ABCD)], GOLD_ABC_D, ABCD)
    assert (pairwise.precision, pairwise.recall) == pytest.approx((0.5, 1.0))
    assert pairwise.f1 == pytest.approx(2 / 3)
    b3 = bcubed_prf([set(ABCD)], GOLD_ABC_D, ABCD)
    assert (b3.precision, b3.recall) == pytest.approx((0.625, 1.0))
    assert b3.f1 == pytest.approx(10 / 13)


def test_perfect_clustering_and_empty_universe() -> None:
    assert pairwise_prf(GOLD_ABC_D, GOLD_ABC_D, ABCD) == PRF(1.0, 1.0, 1.0)
    assert bcubed_prf(GOLD_ABC_D, GOLD_ABC_D, ABCD) == PRF(1.0, 1.0, 1.0)
    assert bcubed_prf([], [], []) == PRF(1.0, 1.0, 1.0)
    # Only singletons in the gold and the prediction: no pair to find or claim.
    assert pairwise_prf([], [], ABCD) == PRF(1.0, 1.0, 1.0)


def test_the_universe_bounds_what_is_scored() -> None:
    """Items outside the universe (not stored, or left out) are dropped from both sides."""
    got = pairwise_prf([{"a", "b", "x"}], [{"a", "b"}, {"x", "y"}], ("a", "b"))
    assert got == PRF(1.0, 1.0, 1.0)


def test_an_item_in_two_groups_is_refused() -> None:
    with pytest.raises(ValueError, match="two groups"):
        pairwise_prf([{"a", "b"}, {"b", "c"}], GOLD_ABC_D, ABCD)


def test_entity_linking_by_hand() -> None:
    """Three labelled mentions, one found; two scored links, one a false merge of Kim
    Yo-jong into Kim Jong-un. A link to an entity of a kind the labels do not cover (a
    state) is not scored."""
    gold = [
        GoldMention("d1", "Kim Jong-un", "kim-jong-un"),
        GoldMention("d1", "Choe Son Hui", "choe-son-hui"),
        GoldMention("d2", "Kim Yo-jong", "kim-yo-jong"),
    ]
    predicted = [
        PredictedMention("d1", "Kim Jong-un met Choe Son Hui in Pyongyang.", "kim-jong-un"),
        PredictedMention("d1", "Kim Jong-un met Choe Son Hui in Pyongyang.", "north-korea"),
        PredictedMention("d2", "Kim Yo-jong issued a statement.", "kim-jong-un"),
    ]
    scored = {"kim-jong-un", "kim-yo-jong", "choe-son-hui"}
    got, missed, wrong = entity_linking(predicted, gold, scored)
    assert (got.precision, got.recall) == pytest.approx((1 / 2, 1 / 3))
    assert missed == ["d1: 'Choe Son Hui' -> choe-son-hui", "d2: 'Kim Yo-jong' -> kim-yo-jong"]
    assert len(wrong) == 1 and wrong[0].startswith("d2: kim-jong-un")


def test_entity_linking_edges() -> None:
    assert entity_linking([], [], set())[0] == PRF(1.0, 1.0, 1.0)
    # The right entity in the wrong document is no help.
    gold = [GoldMention("d1", "Shoigu", "sergei-shoigu")]
    other = [PredictedMention("d2", "Shoigu spoke.", "sergei-shoigu")]
    got, missed, wrong = entity_linking(other, gold, {"sergei-shoigu"})
    assert (got.precision, got.recall) == (0.0, 0.0)
    assert len(missed) == len(wrong) == 1


def test_names_matches_whole_words() -> None:
    assert names("Eleven countries acted outside the UN.", "UN")
    assert not names("The launch was delayed.", "UN")
    assert names("a breach of U.N. sanctions", "U.N.")
    assert names("KIM JONG-UN  arrived", "Kim Jong-un")


def test_outlet_accuracy() -> None:
    """Case, a leading "the" and end punctuation are forgiven; a feed's own title is not
    its outlet, and no prediction is a miss."""
    predicted = {"a": "The Harbor Times", "b": "The Harbor Times – Asia", "c": None}
    gold = {"a": "harbor times.", "b": "The Harbor Times", "c": "Reuters"}
    accuracy, misses = outlet_accuracy(predicted, gold)
    assert accuracy == pytest.approx(1 / 3)
    assert [m.split(":")[0] for m in misses] == ["b", "c"]
    assert outlet_accuracy({}, {}) == (1.0, [])
    assert outlet_name("The Associated Press") == "associated press"
