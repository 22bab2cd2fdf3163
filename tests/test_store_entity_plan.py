"""The entity filter's two plans (fetch every mention, or walk sentences by salience) agree."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from briefs.lexicon import load_lexicon
from briefs.pipeline import analyze_pending
from briefs.store import SqlStore


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
