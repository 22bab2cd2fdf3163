"""The store: idempotent ingest, stable sentence ids across edits, atomic documents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from briefs.errors import SettingsError
from briefs.ingest.articles import parse_article
from briefs.ingest.files import ingest_files, seed_files
from briefs.schedules import make_timing
from briefs.store import SqlStore, open_store
from briefs.store.documents import SqlDocuments
from briefs.store.identity import document_id_for
from briefs.store.migrations import LATEST
from tests.conftest import NOW, SEEDS, snapshot

ARTICLE = """A test headline about sanctions

By Test Wire

Published : Sept. 14, 2023 - 09:17

The first sentence stays the same. The second sentence will change.

A third sentence closes the article.
"""


def _ingest(store: SqlStore, path: Path) -> object:
    return next(iter(ingest_files(store, [path], "file", lambda: NOW)))


def test_same_file_twice_adds_nothing(store: SqlStore, tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    first = _ingest(store, path)
    before = snapshot(store)
    second = _ingest(store, path)
    assert first.outcome.status == "added"  # type: ignore[attr-defined]
    assert second.outcome.status == "unchanged"  # type: ignore[attr-defined]
    assert snapshot(store) == before


def test_changed_file_keeps_ids_of_unchanged_sentences(store: SqlStore, tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    doc_id = _ingest(store, path).outcome.document_id  # type: ignore[attr-defined]
    before = {store.documents.sentence(doc_id, i)[0].text: i for i in range(3)}  # type: ignore[index]
    path.write_text(
        ARTICLE.replace("The second sentence will change.", "A new second sentence appears."),
        encoding="utf-8",
    )
    result = _ingest(store, path).outcome  # type: ignore[attr-defined]
    assert (result.status, result.document_id) == ("updated", doc_id)
    assert (result.sentences_added, result.sentences_retired) == (1, 1)
    # Unchanged sentences keep their citation index.
    for sentence_text in (
        "The first sentence stays the same.",
        "A third sentence closes the article.",
    ):
        row, live = store.documents.sentence(doc_id, before[sentence_text])  # type: ignore[misc]
        assert row.text == sentence_text and live
    # The removed sentence is retired, not deleted: old citations still resolve.
    old, live = store.documents.sentence(doc_id, before["The second sentence will change."])  # type: ignore[misc]
    assert old.text == "The second sentence will change." and not live
    assert not store.search.sentences("change", 5)
    assert [h.sentence.text for h in store.search.sentences("appears", 5)] == [
        "A new second sentence appears."
    ]
    live_texts = [r.text for r in store.analysis.live_sentences(document_ids=[doc_id])]
    assert live_texts == [
        "The first sentence stays the same.",
        "A new second sentence appears.",
        "A third sentence closes the article.",
    ]


def test_same_body_under_another_path_is_a_duplicate(store: SqlStore, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "b.txt").write_text(ARTICLE, encoding="utf-8")
    first = _ingest(store, tmp_path / "a.txt").outcome  # type: ignore[attr-defined]
    second = _ingest(store, tmp_path / "b.txt").outcome  # type: ignore[attr-defined]
    assert second.status == "duplicate" and second.duplicate_of == first.document_id
    assert store.stats().documents == 1


def test_seed_ids_do_not_depend_on_the_folder(tmp_path: Path) -> None:
    a = open_store(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    copy = tmp_path / "elsewhere"
    copy.mkdir()
    for p in SEEDS.glob("*"):
        (copy / p.name).write_bytes(p.read_bytes())
    ids_a = [
        r.outcome.document_id
        for r in ingest_files(a, sorted(SEEDS.glob("*.txt")), "seed", lambda: NOW)
    ]  # type: ignore[union-attr]
    b = open_store(f"sqlite:///{tmp_path / 'b.sqlite3'}")
    ids_b = [
        r.outcome.document_id
        for r in ingest_files(b, sorted(copy.glob("*.txt")), "seed", lambda: NOW)
    ]  # type: ignore[union-attr]
    assert ids_a == ids_b and len(set(ids_a)) == 5


def test_crash_mid_document_leaves_the_store_consistent(
    store: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    _ingest(store, tmp_path / "a.txt")
    before = snapshot(store)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(SqlDocuments, "_apply", boom)
    article = parse_article(ARTICLE.replace("headline", "second headline") + "\nMore text.", "x")
    with pytest.raises(RuntimeError):
        store.documents.ingest(article, "file", "file:/elsewhere/new.txt", NOW)
    # The document row written before the failure was rolled back with it.
    assert snapshot(store) == before


def test_store_reopens_at_latest_schema(db_url: str) -> None:
    s = open_store(db_url)
    assert s.stats().schema_version == LATEST
    s.close()
    s = open_store(db_url)
    with s.engine.connect() as conn:
        assert conn.execute(text("SELECT value FROM meta")).scalar_one() == str(LATEST)
    s.close()


def test_fts_index_matches_live_sentences(seeded: SqlStore) -> None:
    with seeded.engine.connect() as conn:
        fts = conn.execute(text("SELECT count(*) FROM sentences_fts")).scalar_one()
        live = conn.execute(
            text("SELECT count(*) FROM sentences WHERE position IS NOT NULL")
        ).scalar_one()
    assert fts == live == seeded.stats().sentences == 124


def test_datetimes_come_back_aware_utc(seeded: SqlStore) -> None:
    for doc in seeded.documents.summaries():
        assert doc.published_at is not None and doc.published_at.tzinfo is not None
        assert doc.published_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    before = snapshot(seeded)
    article = parse_article(ARTICLE, "naive.txt")
    with pytest.raises(StatementError, match="naive datetime"):
        seeded.documents.ingest(article, "file", "file:/x", datetime(2023, 1, 1))
    assert snapshot(seeded) == before


@pytest.mark.parametrize(
    "url",
    ["not a url", "sqlite:/", "postgresql+asyncpg://u@localhost/briefbot", "mysql://x"],
)
def test_bad_database_urls_are_settings_errors(url: str) -> None:
    with pytest.raises(SettingsError) as info:
        open_store(url, "BRIEFBOT_DATABASE_URL")
    assert "BRIEFBOT_DATABASE_URL" in str(info.value)


def test_document_ids_are_derived_from_source_keys() -> None:
    assert document_id_for("seed:a.txt") == document_id_for("seed:a.txt")
    assert document_id_for("seed:a.txt") != document_id_for("seed:b.txt")
    assert datetime.now(UTC).tzinfo is UTC


@pytest.mark.parametrize("limit", [1, 5, 600])
@pytest.mark.parametrize(
    "since", [None, datetime(2023, 8, 31, tzinfo=UTC), datetime(2023, 10, 1, tzinfo=UTC)]
)
def test_salient_sentences_of_a_window_are_the_same_whichever_plan_reads_them(
    seeded: SqlStore, limit: int, since: datetime | None
) -> None:
    """A narrow window is read document by document, a wide one by salience: same answer."""
    from briefs.analysis.pipeline import analyze_pending
    from briefs.lexicon import load_lexicon

    analyze_pending(seeded, load_lexicon())
    everything = seeded.analysis.live_sentences(since)
    expected = sorted((r.salience or 0.0 for r in everything), reverse=True)[:limit]
    got = seeded.analysis.live_sentences(since, limit=limit)
    assert [r.salience or 0.0 for r in got] == expected
    assert {r.ref for r in got} <= {r.ref for r in everything}


def test_migration_8_keeps_each_scopes_feeds_and_schedules(db_url: str) -> None:
    """A store whose feeds, subscriptions and schedules were filed by guild id (schema 7)
    keeps every row in its scope when step 8 renames the columns."""
    store = open_store(db_url)
    try:
        feed = store.feeds.add(
            "http://a.example/rss", "http://a.example/rss", "111", None, NOW, False
        )
        store.feeds.subscribe(feed.id, "555", NOW)
        timing = make_timing("daily", "08:00", "UTC")
        store.schedules.save("111", timing, NOW, channel_id="555")
        with store.engine.begin() as conn:  # back to schema 7's names
            for table in ("feeds", "subscriptions", "schedules"):
                conn.execute(text(f"ALTER TABLE {table} RENAME COLUMN scope_id TO guild_id"))
            conn.execute(text("UPDATE meta SET value = '7' WHERE key = 'schema_version'"))
    finally:
        store.close()
    reopened = open_store(db_url)
    try:
        assert reopened.stats().schema_version == LATEST
        assert [f.url for f in reopened.feeds.list_feeds("111")] == ["http://a.example/rss"]
        assert reopened.feeds.list_feeds("222") == [] and reopened.feeds.list_feeds(None) == []
        assert [s.scope_id for s in reopened.feeds.subscriptions("111")] == ["111"]
        assert [s.channel_id for s in reopened.schedules.list_schedules("111")] == ["555"]
    finally:
        reopened.close()


UNDATED = """Shipping firms named in a new designation

Three shipping firms were named on the list. The measure freezes their assets.
"""


def test_an_undated_document_is_placed_by_its_fetch_time_and_says_so(
    store: SqlStore, tmp_path: Path
) -> None:
    """Issue 12, item 6: an article that prints no date lands in the window and story it
    arrived in (its fetch time), its listings say that this is no publication date, and
    fetching it again later neither changes it nor moves it."""
    from briefs.compose.sources import source_ref

    path = tmp_path / "undated.txt"
    path.write_text(UNDATED, encoding="utf-8")
    first = next(iter(ingest_files(store, [path], "file", lambda: NOW)))
    doc_id = first.outcome.document_id  # type: ignore[union-attr]
    (summary,) = store.documents.summaries([doc_id])
    assert (summary.published_at, summary.published_precision) == (NOW, "fetched")
    assert [d.id for d in store.documents.summaries(since=NOW, until=NOW + timedelta(days=1))] == [
        doc_id
    ]
    assert source_ref(1, summary).published == "2026-11-22 (fetched; no publication date)"
    later = NOW + timedelta(days=3)
    again = next(iter(ingest_files(store, [path], "file", lambda: later)))
    assert again.outcome.status == "unchanged"  # type: ignore[union-attr]
    path.write_text(UNDATED + "\nA third sentence was added.\n", encoding="utf-8")
    edited = next(iter(ingest_files(store, [path], "file", lambda: later)))
    assert edited.outcome.status == "updated"  # type: ignore[union-attr]
    (summary,) = store.documents.summaries([doc_id])
    assert (summary.published_at, summary.published_precision) == (NOW, "fetched")


def test_migration_9_places_the_undated_documents_of_an_older_store(db_url: str) -> None:
    store = open_store(db_url)
    try:
        assert all(r.ok for r in ingest_files(store, seed_files(SEEDS), "seed", lambda: NOW))
        with store.engine.begin() as conn:  # an undated document as schema 8 stored it
            conn.execute(
                text(
                    "UPDATE documents SET published_at = NULL, published_precision = 'none' "
                    "WHERE id = (SELECT min(id) FROM documents)"
                )
            )
            conn.execute(text("UPDATE meta SET value = '8' WHERE key = 'schema_version'"))
    finally:
        store.close()
    reopened = open_store(db_url)
    try:
        assert reopened.stats().schema_version == LATEST
        placed = [s for s in reopened.documents.summaries() if s.published_precision == "fetched"]
        assert len(placed) == 1 and placed[0].published_at == NOW
        assert all(s.published_at is not None for s in reopened.documents.summaries())
    finally:
        reopened.close()
