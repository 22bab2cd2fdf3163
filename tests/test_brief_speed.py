"""The fast paths of brief composing and rendering give exactly what the plain code gave.

Each shortcut (distinct texts weighed once, the term matrix filled in one assignment, the
Markdown escape skipping text with nothing to escape, the brief's own ``asdict``) is checked
against the straightforward version it replaced.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

import jinja2
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from briefs.brief import (
    Brief,
    Citation,
    EntityRef,
    Item,
    MonthCount,
    NewName,
    Profile,
    Quote,
    Section,
    SourceRef,
    StoryLine,
    StoryRef,
    TimelineEntry,
)
from briefs.compose.brief import Candidate, citer
from briefs.compose.rank import TermMatrix, Vector, centrality, tfidf_vectors
from briefs.compose.sources import SourceBook
from briefs.render import (
    _MD_CLOSING_HASHES,
    _MD_EMAIL,
    _MD_INLINE,
    _MD_LINE_START,
    _MD_ORDERED,
    _MD_SCHEME,
    _MD_WWW,
    _ZWSP,
    escape_markdown,
    make_environment,
)
from briefs.store.base import DocumentSummary, SentenceRow
from briefs.terms import terms

TEXTS = [
    "Russia denied supplying artillery shells to North Korea.",
    "The sanctions target three shipping firms and two banks.",
    "Russia denied supplying artillery shells to North Korea.",
    "",
    "Shells, shells and more shells were shipped, officials said.",
    "The sanctions target three shipping firms and two banks.",
    "Russia denied supplying artillery shells to North Korea.",
]


def _plain_tfidf(texts: Sequence[str]) -> list[Vector]:
    """tfidf_vectors as it was: every text weighed, duplicates included."""
    bags = [Counter(terms(t)) for t in texts]
    df: Counter[str] = Counter()
    for bag in bags:
        df.update(bag.keys())
    n = len(texts)
    idf = {term: math.log((1 + n) / (1 + count)) + 1.0 for term, count in df.items()}
    vectors: list[Vector] = []
    for bag in bags:
        vec = {term: (1 + math.log(tf)) * idf[term] for term, tf in bag.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        vectors.append({term: v / norm for term, v in vec.items()})
    return vectors


def _plain_rows(vectors: Sequence[Vector]) -> np.ndarray:
    """TermMatrix.rows as it was filled: one weight at a time."""
    vocabulary: dict[str, int] = {}
    for vec in vectors:
        for term in vec:
            vocabulary.setdefault(term, len(vocabulary))
    rows = np.zeros((len(vectors), max(1, len(vocabulary))), dtype=np.float32)
    for i, vec in enumerate(vectors):
        for term, weight in vec.items():
            rows[i, vocabulary[term]] = weight
    return rows


def test_tfidf_vectors_weigh_repeated_texts_as_before() -> None:
    fast = tfidf_vectors(TEXTS)
    assert fast == _plain_tfidf(TEXTS)
    assert [list(v) for v in fast] == [list(v) for v in _plain_tfidf(TEXTS)]  # term order too
    # Each statement owns its vector: changing one repeat leaves the others alone.
    fast[0]["russia"] = 0.0
    assert fast[2]["russia"] != 0.0


@given(st.lists(st.sampled_from([*TEXTS, "Kim met Shoigu.", "Shoigu met Kim in Pyongyang."])))
def test_term_matrix_is_filled_as_before(texts: list[str]) -> None:
    vectors = tfidf_vectors(texts)
    assert vectors == _plain_tfidf(texts)
    rows = TermMatrix(vectors).rows
    expected = _plain_rows(vectors)
    assert rows.dtype == expected.dtype and rows.shape == expected.shape
    assert np.array_equal(rows, expected)
    # From the texts at once, each distinct one made once: the same rows again.
    direct = TermMatrix.from_texts(texts).rows
    assert direct.dtype == expected.dtype and direct.shape == expected.shape
    assert np.array_equal(direct, expected) and direct.flags.c_contiguous


def _plain_escape(text: str | None) -> str:
    """escape_markdown without its shortcut: every pass, always."""
    if not text:
        return ""
    text = " ".join(text.split())
    text = _MD_INLINE.sub(r"\\\1", text)
    text = _MD_LINE_START.sub(r"\\\1", text)
    text = _MD_ORDERED.sub(r"\1\\\2", text)
    text = _MD_CLOSING_HASHES.sub(r"\1\\\2", text)
    text = _MD_SCHEME.sub(r"\\:", text)
    text = _MD_WWW.sub(r"\1\\.", text)
    return _MD_EMAIL.sub("@" + _ZWSP, text)


# Pieces of Markdown and of what only looks like it, strung together.
MARKUP = st.lists(
    st.sampled_from([*"aW w.:/@#>+=-_*`~[]<&;\\)12٣ \n\t", "www.", "://", "&amp;"]), max_size=30
).map("".join)


@given(st.one_of(MARKUP, st.text(max_size=30)))
@example("1. first")
@example("٣) third")
@example("WWW.example.org")
@example("mail a@b.c")
@example("heading ##")
@example("- item")
@example("see https://example.org")
@example("Plain text, with (brackets) and a dash - inside.")
def test_escape_markdown_shortcut_changes_nothing(text: str) -> None:
    assert escape_markdown(text) == _plain_escape(text)


def test_brief_to_dict_is_the_dataclasses_asdict_of_its_parts() -> None:
    cites = [Citation(1, "a:0"), Citation(2, "b:3")]
    brief = Brief(
        kind="entity",
        title="Title",
        generated_at=datetime(2026, 1, 2, tzinfo=UTC),
        bluf=[Item("x", cites, "2026-01-01", "claim")],
        sections=[
            Section(
                "developments",
                "Key developments",
                [Item("y", cites[:1]), Item("w", cites, story=StoryLine("s", None, 2))],
            )
        ],
        timeline=[TimelineEntry("2026-01-01", "day", "z", cites)],
        quotes=[Quote(None, "q", cites)],
        stories=[StoryRef("s", "t", [1, 2], 2, "2026-01-01", None)],
        entities=[EntityRef("e", "E", "person", 3)],
        sources=[SourceRef(1, "a", "A", None, "2026-01-01", None, "file")],
        profile=Profile("e", "E", "person", None, ["E", "Ee"], [MonthCount("2026-01", 3)]),
        new_names=[NewName("N", 2, "person", "M"), NewName("O", 3, "vessel")],
    )
    out = brief.to_dict()

    def item(i: Item) -> dict[str, object]:
        # ``story`` only on event lines: the other items keep their four fields.
        return {k: v for k, v in dataclasses.asdict(i).items() if k != "story" or v is not None}

    parts = {
        "query": dataclasses.asdict(brief.query),
        "bluf": [item(i) for i in brief.bluf],
        "sections": [
            {"key": s.key, "heading": s.heading, "items": [item(i) for i in s.items]}
            for s in brief.sections
        ],
        "timeline": [dataclasses.asdict(t) for t in brief.timeline],
        "quotes": [dataclasses.asdict(q) for q in brief.quotes],
        "stories": [dataclasses.asdict(s) for s in brief.stories],
        "entities": [dataclasses.asdict(e) for e in brief.entities],
        "sources": [dataclasses.asdict(s) for s in brief.sources],
        "profile": dataclasses.asdict(brief.profile) if brief.profile else None,
        "new_names": [
            {k: v for k, v in dataclasses.asdict(n).items() if v is not None}
            for n in brief.new_names
        ],
    }
    for key, value in parts.items():
        assert out[key] == value, key
    assert "story" not in out["bluf"][0]
    assert out["sections"][0]["items"][1]["story"] == {"id": "s", "date": None, "outlets": 2}
    # A copy, never the brief's own lists.
    assert out["profile"]["aliases"] is not brief.profile.aliases  # type: ignore[union-attr]


def _candidate(doc: str, index: int, text: str) -> Candidate:
    row = SentenceRow(doc, index, index, text)
    return Candidate(row, DocumentSummary(doc, "file", doc, None, None, "none", None, None))


def test_citations_put_the_statement_first_then_its_copies_by_reference() -> None:
    same = "Wire copy, word for word."
    candidates = [
        _candidate("d3", 1, same),
        _candidate("d1", 4, "Other."),
        _candidate("d2", 7, same),
        _candidate("d1", 2, " Wire copy,  word for word. "),
        _candidate("d2", 10, same),
    ]
    book = SourceBook()
    cite = citer(candidates, book)
    assert [c.sentence for c in cite(candidates[2])] == ["d2:7", "d1:2", "d2:10", "d3:1"]
    assert [c.sentence for c in cite(candidates[0])] == ["d3:1", "d1:2", "d2:10", "d2:7"]
    assert book.numbers == {"d2": 1, "d1": 2, "d3": 3}
    assert [c.ref for c in cite(candidates[1])] == [2]
    # One that is not a candidate is cited through its copies among them alone.
    outsider = _candidate("d9", 0, same)
    assert [c.sentence for c in cite(outsider)] == ["d1:2", "d2:10", "d2:7", "d3:1"]
    assert cite(_candidate("d9", 1, "Unknown.")) == []


def test_plain_text_needs_no_escape_pass() -> None:
    assert escape_markdown("Plain  text,\nwith (brackets).") == "Plain text, with (brackets)."


def test_templates_find_a_dicts_keys_and_attributes_as_jinja_does() -> None:
    env = make_environment()
    plain = jinja2.Environment(undefined=jinja2.StrictUndefined)
    source = "{{ d.text }}|{{ d.items is callable }}|{{ d['items'] }}|{{ o.real }}|{{ d.get('x') }}"
    context = {"d": {"text": "a", "items": [1], "x": 2}, "o": 3}
    assert env.from_string(source).render(context) == plain.from_string(source).render(context)
    assert env.from_string(source).render(context) == "a|True|[1]|3|2"
    for missing in ("{{ d.nothing }}", "{{ d.nothing.deeper }}"):
        with pytest.raises(jinja2.UndefinedError):
            env.from_string(missing).render(d={"text": "a"})


def _plain_centrality(
    matrix: TermMatrix, groups: Sequence[str], weight: float = 0.3
) -> list[float]:
    """centrality as it was: same-document pairs weighed through np.where."""
    n = matrix.rows.shape[0]
    if n == 0:
        return []
    similarity = matrix.similarity()
    group_index = {g: k for k, g in enumerate(dict.fromkeys(groups))}
    group_ids = np.array([group_index[g] for g in groups])
    same = group_ids[:, None] == group_ids[None, :]
    similarity = np.where(same, similarity * weight, similarity)
    np.fill_diagonal(similarity, 0.0)
    scores = similarity.sum(axis=1) / max(1, n - 1)
    top = float(scores.max()) or 1.0
    return [float(s) / top for s in scores]


@given(
    st.lists(
        st.tuples(
            st.sampled_from([*TEXTS, "Kim met Shoigu.", "Shoigu met Kim in Pyongyang."]),
            st.sampled_from("abc"),
        )
    )
)
def test_centrality_weighs_same_document_pairs_as_before(pairs: list[tuple[str, str]]) -> None:
    matrix = TermMatrix.from_texts([text for text, _ in pairs])
    groups = [doc for _, doc in pairs]
    assert centrality(matrix, groups) == _plain_centrality(matrix, groups)
