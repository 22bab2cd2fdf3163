"""Query plans: an entity's sentences walked by mention salience are its most salient, and
new names read by key or by scan; a digest window scan reads its
index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from briefs.analysis.pipeline import analyze_pending
from briefs.clock import FrozenClock
from briefs.ingest.files import ingest_files, seed_files
from briefs.lexicon import load_lexicon
from briefs.store import SqlStore, Visibility, open_store
from briefs.store.migrations import LATEST
from tests.conftest import NOW, SEEDS


def _top_entity(store: SqlStore) -> tuple[str, int]:
    with store.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT entity_id, count(*) AS n FROM mentions GROUP BY entity_id "
                "ORDER BY n DESC, entity_id LIMIT 1"
            )
        ).one()
    return str(row[0]), int(row[1])


def _mention_salience_mismatches(store: SqlStore) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM mentions JOIN sentences ON sentences.id = "
                    "mentions.sentence_id WHERE mentions.salience IS DISTINCT FROM "
                    "sentences.salience"
                    if store.postgres
                    else "SELECT count(*) FROM mentions JOIN sentences ON sentences.id = "
                    "mentions.sentence_id WHERE mentions.salience IS NOT sentences.salience"
                )
            ).scalar_one()
        )


def test_an_entitys_best_sentences_walked_by_mention_salience_are_its_best(
    seeded: SqlStore,
) -> None:
    """The walk of ix_mentions_entity_salience gives, rank by rank, the salience of sorting
    every sentence that names the entity; each mention carries its sentence's salience."""
    analyze_pending(seeded, load_lexicon())
    assert _mention_salience_mismatches(seeded) == 0
    entity, mentioned = _top_entity(seeded)
    everything = seeded.analysis.live_sentences(entity_id=entity)  # no limit: every one, by date
    assert len(everything) == mentioned
    best = sorted((r.salience or 0.0 for r in everything), reverse=True)
    refs = {(r.document_id, r.index) for r in everything}
    for limit in (1, 3, 7, mentioned + 5):
        walked = seeded.analysis.live_sentences(entity_id=entity, limit=limit)
        assert [r.salience or 0.0 for r in walked] == best[:limit]
        assert {(r.document_id, r.index) for r in walked} <= refs


def test_migration_7_copies_the_salience_into_existing_mentions(db_url: str) -> None:
    """A store analysed before mentions carried salience gets it when it is opened."""
    store = open_store(db_url)
    try:
        assert all(r.ok for r in ingest_files(store, seed_files(SEEDS), "seed", FrozenClock(NOW)))
        analyze_pending(store, load_lexicon())
        with store.engine.begin() as conn:  # back to schema 6: no column, the old index
            conn.execute(text("DROP INDEX ix_mentions_entity_salience"))
            conn.execute(text("ALTER TABLE mentions DROP COLUMN salience"))
            conn.execute(text("CREATE INDEX ix_mentions_entity ON mentions (entity_id)"))
            for table in ("feeds", "subscriptions", "schedules"):  # and before step 8's names
                conn.execute(text(f"ALTER TABLE {table} RENAME COLUMN scope_id TO guild_id"))
            conn.execute(text("UPDATE meta SET value = '6' WHERE key = 'schema_version'"))
    finally:
        store.close()
    reopened = open_store(db_url)
    try:
        assert reopened.stats().schema_version == LATEST
        assert _mention_salience_mismatches(reopened) == 0
        with reopened.engine.connect() as conn:
            filled = conn.execute(
                text("SELECT count(*) FROM mentions WHERE salience IS NOT NULL")
            ).scalar_one()
        assert filled > 0
    finally:
        reopened.close()


def test_the_entity_walk_reads_the_mention_salience_index(tmp_path: Path) -> None:
    """SQLite's plan of the statement the store ran: the index, and no sort of the mentions
    (PostgreSQL's planner is measured in bench/scale.py)."""
    seeded = open_store(f"sqlite:///{tmp_path / 'plan.db'}")
    assert all(r.ok for r in ingest_files(seeded, seed_files(SEEDS), "seed", FrozenClock(NOW)))
    analyze_pending(seeded, load_lexicon())
    entity, _ = _top_entity(seeded)
    ran: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "FROM sentences" in statement and "mentions" in statement:
            ran.append((statement, params))

    event.listen(seeded.engine, "before_cursor_execute", record)
    seeded.analysis.live_sentences(entity_id=entity, limit=5)
    event.remove(seeded.engine, "before_cursor_execute", record)
    statement, params = ran[-1]
    with seeded.engine.connect() as conn:
        plan = " | ".join(
            str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
        )
    seeded.close()
    assert "ix_mentions_entity_salience" in plan, plan
    assert "TEMP B-TREE FOR ORDER BY" not in plan, plan


def test_a_digest_window_scan_uses_the_fetched_at_index(tmp_path: Path) -> None:
    """The query `window_documents` sends for files and seeds reads ix_documents_fetched, not
    the whole documents table (SQLite's plan of the statement the store actually ran)."""
    store = open_store(f"sqlite:///{tmp_path / 'plan.db'}")
    try:
        ran: list[tuple[str, Any]] = []

        def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
            if "FROM documents" in statement and "fetched_at" in statement:
                ran.append((statement, params))

        event.listen(store.engine, "before_cursor_execute", record)
        start = datetime(2026, 11, 21, tzinfo=UTC)
        assert store.schedules.window_documents(None, start, start + timedelta(days=1)) == []
        event.remove(store.engine, "before_cursor_execute", record)
        assert len(ran) == 1
        statement, params = ran[0]
        with store.engine.connect() as conn:
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
        details = " ".join(str(row[-1]) for row in plan)
        assert "ix_documents_fetched" in details, details
    finally:
        store.close()


@pytest.mark.parametrize("guild", [None, "42"], ids=["everything", "a guild's view"])
def test_new_names_read_by_key_or_by_scan_agree(
    seeded: SqlStore, monkeypatch: pytest.MonkeyPatch, guild: str | None
) -> None:
    """A narrow window reads its documents' names by key, a wide one scans: same answer."""
    analyze_pending(seeded, load_lexicon())
    visible = Visibility(guild) if guild is not None else None
    stats = seeded.stats()
    assert stats.first_published is not None and stats.last_published is not None
    windows = [
        (stats.first_published, None),
        (stats.last_published - timedelta(days=1), None),
        (None, stats.first_published + timedelta(days=1)),
    ]
    seen_any = False
    for since, until in windows:
        monkeypatch.setattr(seeded.analysis, "_window_counts", lambda _s, _u: (1, 100))  # narrow
        by_key = seeded.analysis.new_names(since, until, minimum=1, visible=visible)
        monkeypatch.setattr(seeded.analysis, "_window_counts", lambda _s, _u: (100, 100))  # wide
        by_scan = seeded.analysis.new_names(since, until, minimum=1, visible=visible)
        assert by_key == by_scan
        seen_any = seen_any or bool(by_key)
    assert seen_any  # the seeds do hold names the gazetteer does not know
