"""Full-text search over live sentences, and the index it reads: SQLite's FTS5 table, kept
by hand as sentences come and go; PostgreSQL's generated tsvector column (GIN index), which
keeps itself."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Engine

from briefs.store import dialect
from briefs.store.base import SearchHit, Visibility
from briefs.store.queries import iso, sentence_row

_TOKEN = re.compile(r"\w+", re.UNICODE)

# Matching live sentences and their rank, lower is better, on each backend.
_FTS5_HITS = (
    "(SELECT rowid, bm25(sentences_fts) AS rank FROM sentences_fts "
    " WHERE sentences_fts MATCH :q) AS hits"
)
_PG_HITS = (
    "(SELECT id AS rowid, -ts_rank(tsv, q, 1) AS rank "
    f" FROM sentences, to_tsquery('{dialect.TS_CONFIG}', :q) AS q WHERE tsv @@ q) AS hits"
)
# SQLite's index of documents' live sentences, filled in the database itself.
_INDEX_LIVE = text(
    "INSERT INTO sentences_fts (rowid, text) SELECT id, text FROM sentences "
    "WHERE document_id IN :ids AND position IS NOT NULL"
).bindparams(bindparam("ids", expanding=True))
_UNINDEX_DOCUMENT = text(
    "DELETE FROM sentences_fts WHERE rowid IN (SELECT id FROM sentences WHERE document_id = :d)"
)


def tsquery(query: str, mode: str = "all") -> str | None:
    """Free text as a PostgreSQL ``to_tsquery`` argument: words (``\\w+`` only, so no
    operator can slip in) joined by & (all) or | (any)."""
    words = [w for w in _TOKEN.findall(query) if w]
    if not words:
        return None
    return (" | " if mode == "any" else " & ").join(words)


def fts_query(query: str, mode: str = "all") -> str | None:
    """Turn free text into a safe FTS5 query: each word quoted, all (AND) or any (OR)."""
    words = [w for w in _TOKEN.findall(query) if w]
    if not words:
        return None
    joiner = " OR " if mode == "any" else " "
    return joiner.join(f'"{w}"' for w in words)


class SentenceIndex:
    """Upkeep of the full-text index inside a writer's transaction (nothing on PostgreSQL,
    whose tsvector is computed from the row)."""

    def __init__(self, postgres: bool) -> None:
        self.by_hand = not postgres

    def add_live(self, conn: Connection, doc_ids: list[str]) -> None:
        """Index the live sentences of documents just written (ids in lists an IN list can
        take): all of a new one's, a revised one's after ``remove_document``."""
        if self.by_hand and doc_ids:
            conn.execute(_INDEX_LIVE, {"ids": doc_ids})

    def remove_document(self, conn: Connection, doc_id: str) -> None:
        """Take every sentence of a document out of the index (``add_live`` puts the live
        ones back)."""
        if self.by_hand:
            conn.execute(_UNINDEX_DOCUMENT, {"d": doc_id})


class SqlSearch:
    """Search of live sentences: BM25 on SQLite, ts_rank with length normalisation on
    PostgreSQL (both ranks "lower is better" in ``hits``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == dialect.POSTGRES

    def sentences(
        self,
        query: str,
        limit: int,
        since: datetime | None = None,
        until: datetime | None = None,
        mode: str = "all",
        visible: Visibility | None = None,
    ) -> list[SearchHit]:
        """Live sentences matching ``query``, best first."""
        match = (tsquery if self.postgres else fts_query)(query, mode)
        if match is None:
            return []
        sql = (
            "SELECT s.document_id, s.idx, s.position, s.text, s.topics, s.speaker, "
            "s.speaker_kind, s.direct, s.stance, s.stance_holder, s.date_value, "
            "s.date_precision, s.salience, d.story_id, hits.rank "
            f"FROM {_PG_HITS if self.postgres else _FTS5_HITS} "
            "JOIN sentences s ON s.id = hits.rowid "
            "JOIN documents d ON d.id = s.document_id "
            "WHERE s.position IS NOT NULL"
        )
        params: dict[str, Any] = {"q": match, "limit": limit}
        if since is not None:
            sql += " AND d.published_at >= :since"
            params["since"] = iso(since)
        if until is not None:
            sql += " AND d.published_at < :until"
            params["until"] = iso(until)
        if visible is not None:
            # The same condition as queries.visible_filter, in this statement's own SQL.
            sql += (
                " AND (d.origin != 'feed' OR d.id IN (SELECT fe.document_id FROM feed_entries fe"
                " JOIN feeds f ON f.id = fe.feed_id WHERE "
                + ("f.scope_id IS NULL" if visible.scope_id is None else "f.scope_id = :scope")
                + "))"
            )
            if visible.scope_id is not None:
                params["scope"] = visible.scope_id
        sql += " ORDER BY hits.rank, s.document_id, s.position LIMIT :limit"
        with self.engine.connect() as conn:
            rows = conn.execute(text(sql), params).all()
        return [SearchHit(sentence_row(r[:-1]), -float(r[-1])) for r in rows]
