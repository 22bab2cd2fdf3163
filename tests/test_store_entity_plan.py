"""Query plans: the entity filter's two plans (fetch every mention, or walk sentences by
salience) agree, and so do new names read by key or by scan; a digest window scan reads its
index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from briefs.lexicon import load_lexicon
from briefs.pipeline import analyze_pending
from briefs.store import SqlStore, Visibility, open_store


def _top_entity(store: SqlStore) -> tuple[str, int]:
    with store.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT entity_id, count(*) AS n FROM mentions GROUP BY entity_id "
                "ORDER BY n DESC, entity_id LIMIT 1"
            )
        ).one()
    return str(row[0]), int(row[1])


def test_common_entity_rule_and_both_plans_give_the_same_sentences(
    seeded: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    analyze_pending(seeded, load_lexicon())
    entity, mentioned = _top_entity(seeded)
    documents = seeded.stats().documents
    # The rule: M * M > limit * 20 * documents.
    assert seeded._common_entity(entity, 1) is (mentioned * mentioned > 20 * documents)
    assert seeded._common_entity(entity, 10**9) is False

    def rows(common: bool, limit: int) -> list[tuple[float, str, int]]:
        monkeypatch.setattr(seeded, "_common_entity", lambda _e, _l: common)
        found = seeded.live_sentences(entity_id=entity, limit=limit)
        return [(r.salience or 0.0, r.document_id, r.index) for r in found]

    everything = rows(False, mentioned + 5)
    assert len(everything) == mentioned
    assert sorted(rows(True, mentioned + 5)) == sorted(everything)
    for limit in (1, 3, 7):
        walked, fetched = rows(True, limit), rows(False, limit)
        assert len(walked) == len(fetched) == min(limit, mentioned)
        # Ties in salience may come in either order; the salience of each rank may not.
        assert [s for s, _, _ in walked] == [s for s, _, _ in fetched]
        assert set(walked) <= set(everything)


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
        monkeypatch.setattr(seeded, "_window_counts", lambda _s, _u: (1, 100))  # narrow
        by_key = seeded.new_names(since, until, minimum=1, visible=visible)
        monkeypatch.setattr(seeded, "_window_counts", lambda _s, _u: (100, 100))  # wide
        by_scan = seeded.new_names(since, until, minimum=1, visible=visible)
        assert by_key == by_scan
        seen_any = seen_any or bool(by_key)
    assert seen_any  # the seeds do hold names the gazetteer does not know
