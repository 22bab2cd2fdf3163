"""Analysis in batches and on several cores stores exactly what one-by-one analysis stores,
with a fixed number of statements and commits per batch (issue 14, item 3)."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, text

from bench.corpus import generate
from briefs.analysis.facts import candidate_names
from briefs.analysis.pipeline import analyze_pending
from briefs.errors import SettingsError
from briefs.ingest.files import ingest_files
from briefs.lexicon import TermScan, _terms_pattern, load_lexicon, load_lexicon_again
from briefs.store import SqlStore
from tests.conftest import SEEDS

LEX = load_lexicon()
NOW = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.fixture
def corpus(store: SqlStore, tmp_path: Path) -> SqlStore:
    """The seeds, 36 generated articles, and near-copies of some of them published at the
    same minute (so stories, near-duplicates and ties in publication time all occur)."""
    files = generate(tmp_path / "files", 36)
    for i, path in enumerate(files[::6]):
        for k in range(1 + i % 2):
            copy = path.with_name(f"{path.stem}_copy{k}.txt")
            copy.write_text(path.read_text().replace("benchmark series", f"series, copy {k}"))
            files.append(copy)
    files += sorted(SEEDS.glob("*.txt"))
    assert all(r.ok for r in ingest_files(store, files, "file", lambda: NOW))
    return store


def _reset(store: SqlStore) -> None:
    """Back to never analysed: no facts, no stories."""
    with store.engine.begin() as conn:
        for table in ("mentions", "date_mentions", "names"):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(
            text(
                "UPDATE sentences SET topics = NULL, speaker = NULL, speaker_kind = NULL, "
                "direct = NULL, stance = NULL, stance_holder = NULL, date_value = NULL, "
                "date_precision = NULL, salience = NULL"
            )
        )
        conn.execute(
            text(
                "UPDATE documents SET analysis_version = NULL, signature = NULL, "
                "story_id = NULL, duplicate_of = NULL"
            )
        )


def _analysis(store: SqlStore) -> dict[str, list[tuple[object, ...]]]:
    queries = {
        "documents": "SELECT id, analysis_version, signature, story_id, duplicate_of "
        "FROM documents ORDER BY id",
        "sentences": "SELECT id, topics, speaker, speaker_kind, direct, stance, stance_holder, "
        "date_value, date_precision, salience FROM sentences ORDER BY id",
        "mentions": "SELECT * FROM mentions ORDER BY sentence_id, entity_id",
        "date_mentions": "SELECT * FROM date_mentions ORDER BY sentence_id, start",
        "names": "SELECT * FROM names ORDER BY document_id, name",
    }
    with store.engine.connect() as conn:
        return {k: [tuple(r) for r in conn.execute(text(q))] for k, q in queries.items()}


def _fresh_then_stale(
    store: SqlStore, workers: int, batch: int, max_sentences: int | None
) -> tuple[dict[str, list[tuple[object, ...]]], ...]:
    """What analysis stores from scratch, then after a version change (stories kept)."""
    _reset(store)
    kw = {"workers": workers, "batch": batch, "max_sentences": max_sentences}
    assert analyze_pending(store, LEX, **kw) > 40  # type: ignore[arg-type]
    fresh = _analysis(store)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE documents SET analysis_version = 'older'"))
    analyze_pending(store, LEX, **kw)  # type: ignore[arg-type]
    return fresh, _analysis(store)


@pytest.mark.parametrize("max_sentences", [None, 12])
def test_workers_and_batch_sizes_store_the_same_analysis(
    corpus: SqlStore, max_sentences: int | None, caplog: pytest.LogCaptureFixture
) -> None:
    one_by_one = _fresh_then_stale(corpus, workers=1, batch=1, max_sentences=max_sentences)
    fresh, _ = one_by_one
    assert len({row[3] for row in fresh["documents"]}) > 3, "several stories"
    assert any(row[4] for row in fresh["documents"]), "some near-duplicates"
    assert fresh["mentions"] and fresh["date_mentions"] and fresh["names"]
    assert _fresh_then_stale(corpus, 1, 1000, max_sentences) == one_by_one
    with caplog.at_level(logging.INFO, logger="briefs.analysis.pipeline"):
        assert _fresh_then_stale(corpus, 2, 7, max_sentences) == one_by_one
    assert "analysing in 2 worker processes" in caplog.text  # the pool did the work


def test_a_worker_loads_the_lexicon_it_is_named_or_is_sent_one_built_by_hand(
    corpus: SqlStore,
) -> None:
    """Workers keep nothing between shares: a lexicon loaded from files is loaded again in the
    worker from its source (checked by fingerprint); one built by hand is sent whole."""
    assert LEX.source is not None
    assert load_lexicon_again(LEX.source, LEX.fingerprint) is LEX  # memoised: loaded once
    with pytest.raises(SettingsError, match="changed while documents were being analysed"):
        load_lexicon_again(LEX.source, "not-its-fingerprint")
    by_hand = dataclasses.replace(LEX, source=None)
    _reset(corpus)
    assert analyze_pending(corpus, LEX, workers=1, batch=7) > 40
    one = _analysis(corpus)
    _reset(corpus)
    assert analyze_pending(corpus, by_hand, workers=2, batch=7) > 40
    assert _analysis(corpus) == one


class _Counter:
    """Statements sent and commits made through an engine (SQLAlchemy events)."""

    def __init__(self, store: SqlStore) -> None:
        self.statements = 0
        self.commits = 0
        self.engine = store.engine
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)

    def _statement(self, *args: object) -> None:
        self.statements += 1

    def _commit(self, *args: object) -> None:
        self.commits += 1

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)


@pytest.fixture
def counted(corpus: SqlStore) -> Iterator[tuple[SqlStore, _Counter]]:
    counter = _Counter(corpus)
    yield corpus, counter
    counter.close()


def test_statements_and_commits_are_per_batch(counted: tuple[SqlStore, _Counter]) -> None:
    """One commit per batch for the facts and one for the stories; a fixed number of
    statements per batch for the facts and for the stories (lock and read, write), one per
    window of dates for the stories' neighbours and a few for what was not read before: not
    some fourteen per document."""
    store, counter = counted
    documents = analyze_pending(store, LEX, batch=10)
    batches = -(-documents // 10)
    assert counter.commits == 2 * batches
    # pending (1) + IDF background (1) + entity background (2); facts: 2 reads + 10 writes a
    # batch; stories: lock and read (1), what tells the batch's events (3) and write (1) a
    # batch, the neighbours of each window of dates (at most one per document), and reads
    # of bodies.
    fixed = 4 + 12 * batches + 5 * batches
    # (Near-copies read their own body and their originals', once each, to compare wording.)
    assert fixed <= counter.statements <= fixed + documents
    assert counter.statements / documents < 2.5

    # One document (a re-analysis of one): the same statements, one batch.
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE documents SET analysis_version = 'older' WHERE id = "
                "(SELECT min(id) FROM documents)"
            )
        )
    counter.statements = counter.commits = 0
    assert analyze_pending(store, LEX, batch=10) == 1
    assert counter.commits == 2
    # (Facts: an insert with no rows of its kind is left out; stories: lock and read, its
    # window, write, and the bodies compared when it is a near-copy.)
    # (Stories also: the entity background (2), what tells its event (3) and its older
    # neighbours' (3).)
    assert 4 + 9 + 3 + 6 <= counter.statements <= 4 + 12 + 3 + 6 + 2


# -- one pass over a sentence finds what one pattern per topic found ----------------------

_PIECES = ["arm", "arms", "arms deal", "Arm", "ſ", "s", "K", "k", "İ", "i", "-", " ", "’", "a"]
_terms = st.lists(
    st.text(st.sampled_from(["a", "r", "m", "s", " ", "d", "ſ", "K", "k", "İ", "’"]), min_size=1),
    min_size=1,
    max_size=5,
)
_texts = st.lists(st.sampled_from([*_PIECES, "x", "deal", "Arms", "ARMS"]), max_size=12).map(
    "".join
)


@given(lists=st.lists(_terms, min_size=1, max_size=4), sample=_texts)
def test_term_scan_finds_what_each_pattern_finds(lists: list[list[str]], sample: str) -> None:
    named = {("topic", str(i)): tuple(terms) for i, terms in enumerate(lists)}
    scan = TermScan(named)  # type: ignore[arg-type]
    expected = {}
    for name, terms in named.items():
        found = _terms_pattern(terms, ignore_case=True).search(sample)
        if found:
            expected[name] = found.start()
    assert scan.first_starts(sample) == expected
    assert scan.first_starts(sample) == expected  # and again, from what it remembered


@settings(max_examples=100)
@given(
    st.lists(st.sampled_from(list(LEX.cues.values()) + [t.pattern for t in LEX.topics.values()]))
)
def test_shipped_lexicon_scan_matches_its_patterns(patterns: list[re.Pattern[str]]) -> None:
    sample = " ".join(p.pattern[12:40] for p in patterns)
    topics, cues = LEX.scan(sample)
    assert topics == tuple(k for k, t in LEX.topics.items() if t.matches(sample))
    assert cues == {
        name: m.start() for name in LEX.cues if (m := LEX.cue_match(name, sample)) is not None
    }


def test_candidate_names_skip_what_the_gazetteer_knows() -> None:
    """Remembering a name's verdict changes nothing: asked twice, the same names."""
    sentences = [
        "Kim Jong Un met Vladimir Putin and Acme Shipping Company in Vostochny.",
        "Acme Shipping Company denied it; North Korean Ambassador Ri Ok met Sergei Shoigu.",
    ]
    first = candidate_names(sentences, LEX)
    assert first == candidate_names(sentences, LEX)
    assert "Acme Shipping Company" in first
    assert not any("Putin" in name or "Shoigu" in name for name in first)


_DATE_PIECES = ["last", "LAST", "laſt", "thıs", "this", "THİS", "week", "month", "year", "ago",
                "AGO", "two", "days", " ", "Monday", "Day", "Victory", "1", "3rd", "on the ",
                "Sept.", "in ", "late ", "today", "Yesterday", "x"]  # fmt: skip


@given(st.lists(st.sampled_from(_DATE_PIECES), max_size=10).map("".join))
def test_date_gates_let_through_every_sentence_a_pattern_matches(sample: str) -> None:
    """The cheap tests that let a sentence skip a date pattern hold whenever the pattern
    matches, ignoring case as it does ("laſt": "ſ" matches "s"; "thıs": "ı" matches "i")."""
    from briefs import dates

    digit = dates._DIGIT.search(sample) is not None
    gates = {
        dates._MONTH_DAY_RE: digit,
        dates._SEASON_RE: digit,
        dates._ORDINAL_RE: digit,
        dates._NAMED_DAY_RE: "Day" in sample,
        dates._WEEKDAY_RE: "day" in sample,
        dates._AGO_RE: "ago" in sample.lower(),
        dates._RELATIVE_RE: dates._RELATIVE_WORDS.search(sample) is not None,
    }
    for pattern, gate in gates.items():
        if pattern.search(sample):
            assert gate, pattern.pattern
