"""Document persistence: a document and its sentences stored in one transaction, revised
with every unchanged sentence keeping its citation index (``briefs.store.revisions`` plans it,
this applies the plan), and read back by id, window or citation."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from briefs.models import Document, Origin, ParsedArticle, placement
from briefs.store import dialect
from briefs.store.base import DocumentSummary, IngestOutcome, SentenceRow, Visibility
from briefs.store.identity import body_hash, content_hash, document_id_for
from briefs.store.queries import chunks, only_visible, window
from briefs.store.revisions import SentencePlan, StoredSentence, plan_sentences
from briefs.store.schema import documents, sentences
from briefs.store.search import SentenceIndex

log = logging.getLogger(__name__)
_INT32_MAX = 2**31 - 1

# Statements of the ingest hot path, built once: SQLAlchemy memoises their cache keys.
_BY_SOURCE_KEY = select(documents.c.id, documents.c.content_hash).where(
    documents.c.source_key == bindparam("key")
)
_BY_BODY_HASH = select(documents.c.id).where(documents.c.body_hash == bindparam("hash")).limit(1)
_INSERT_DOCUMENT = documents.insert()
_BY_SOURCE_KEYS = select(documents.c.source_key, documents.c.id, documents.c.content_hash).where(
    documents.c.source_key.in_(bindparam("keys", expanding=True))
)
_BY_BODY_HASHES = select(documents.c.body_hash, documents.c.id).where(
    documents.c.body_hash.in_(bindparam("hashes", expanding=True))
)
_INSERT_SENTENCE = sentences.insert()
_MOVE_SENTENCE = (
    sentences.update()
    .where(sentences.c.id == bindparam("row"))
    .values(position=bindparam("pos"), span_start=bindparam("start"), span_end=bindparam("end"))
)


class _InsertRefused(Exception):
    """The insert of a new document broke a unique key (``ingest`` decides whether that was
    another writer storing the same source meanwhile)."""

    def __init__(self, error: IntegrityError) -> None:
        super().__init__(str(error))
        self.error = error


def _document_values(
    article: ParsedArticle, origin: Origin, source_key: str, fetched_at: datetime
) -> dict[str, Any]:
    published_at, precision = placement(article, fetched_at)
    return {
        "origin": origin,
        "source_key": source_key,
        "url": article.url,
        "title": article.title,
        "publisher": article.publisher,
        "byline": article.byline,
        "published_at": published_at,
        "published_precision": precision,
        "fetched_at": fetched_at,
        "updated_at": fetched_at,
        "body": article.body,
        "body_hash": body_hash(article.body),
        "content_hash": content_hash(article),
        "provenance": json.dumps(article.provenance, sort_keys=True),
    }


def _sentence_rows(doc_id: str, plan: SentencePlan) -> list[dict[str, Any]]:
    return [
        {
            "document_id": doc_id,
            "idx": new.index,
            "position": new.position,
            "text": new.text,
            "span_start": new.span.start,
            "span_end": new.span.end,
        }
        for new in plan.added
    ]


class SqlDocuments:
    """Documents and their sentences over the store's engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.index = SentenceIndex(engine.dialect.name == dialect.POSTGRES)

    # -- writing -------------------------------------------------------------------------

    def ingest(
        self, article: ParsedArticle, origin: Origin, source_key: str, fetched_at: datetime
    ) -> IngestOutcome:
        """Insert or update one document and its sentences in one transaction.

        Another process may store the same source between the check and the insert (two
        polls of feeds carrying one article): the unique key refuses the second insert, and
        that is a duplicate of the document that won, not an error.
        """
        try:
            with self.engine.begin() as conn:
                return self._ingest_in(conn, article, origin, source_key, fetched_at)
        except _InsertRefused as refused:
            with self.engine.connect() as conn:
                winner = conn.execute(_BY_SOURCE_KEY, {"key": source_key}).first()
            if winner is None:  # not the race on the source key: a real fault
                raise refused.error from None
            log.info("%s: stored by another writer meanwhile; a duplicate", source_key)
            return IngestOutcome("duplicate", winner.id, duplicate_of=winner.id)

    def ingest_many(
        self, items: Sequence[tuple[ParsedArticle, str]], origin: Origin, fetched_at: datetime
    ) -> list[IngestOutcome]:
        """Store a batch of (article, source key) in one transaction: what ``ingest`` of
        each in turn would do, at a few statements a batch instead of six a document (a
        feed's entries arrive together, and a commit each was most of their cost).

        Should an insert be refused (another writer storing one of them meanwhile), the
        batch is rolled back and stored one by one by ``ingest``, which tells that race
        from a real fault.
        """
        if not items:
            return []
        try:
            with self.engine.begin() as conn:
                return self._ingest_batch(conn, items, origin, fetched_at)
        except _InsertRefused:
            log.info("a batch of %d documents met another writer; storing one by one", len(items))
            return [self.ingest(article, origin, key, fetched_at) for article, key in items]

    def _ingest_batch(
        self,
        conn: Connection,
        items: Sequence[tuple[ParsedArticle, str]],
        origin: Origin,
        fetched_at: datetime,
    ) -> list[IngestOutcome]:
        """New documents are inserted together; the rare rest (an update, a key twice in
        the batch) goes through ``_ingest_in`` on the same connection, after the pending
        inserts, so each item sees the ones before it as ``ingest`` would."""
        prepared = [(a, key, body_hash(a.body), content_hash(a)) for a, key in items]
        existing: dict[str, Any] = {}
        for chunk in chunks(list(dict.fromkeys(key for _, key, _, _ in prepared))):
            existing.update(
                (r.source_key, r) for r in conn.execute(_BY_SOURCE_KEYS, {"keys": chunk})
            )
        twins: dict[str, str] = {}
        wanted = list(dict.fromkeys(h for _, key, h, _ in prepared if key not in existing))
        for chunk in chunks(wanted):
            for r in conn.execute(_BY_BODY_HASHES, {"hashes": chunk}):
                twins.setdefault(r.body_hash, r.id)
        outcomes: list[IngestOutcome] = []
        pending: list[tuple[dict[str, Any], ParsedArticle]] = []  # new, not yet inserted
        counts: dict[str, int] = {}  # sentences stored, by new document
        written: set[str] = set()  # source keys this batch stored
        exact = False  # after an update, body twins are looked up one by one again

        def one_by_one(article: ParsedArticle, key: str) -> IngestOutcome:
            counts.update(self._insert_documents(conn, pending))
            pending.clear()
            return self._ingest_in(conn, article, origin, key, fetched_at)

        for article, key, hashed_body, hashed_content in prepared:
            before = existing.get(key)
            if key in written or exact:  # the same source twice: the second sees the first
                outcome = one_by_one(article, key)
            elif before is not None:
                if before.content_hash == hashed_content:
                    outcomes.append(IngestOutcome("unchanged", before.id))
                    continue
                outcome = one_by_one(article, key)
            elif (twin := twins.get(hashed_body)) is not None:
                outcomes.append(IngestOutcome("duplicate", twin, duplicate_of=twin))
                continue
            else:
                doc_id = document_id_for(key)
                values = _document_values(article, origin, key, fetched_at)
                pending.append(({"id": doc_id, **values}, article))
                twins[hashed_body] = doc_id
                written.add(key)
                outcomes.append(IngestOutcome("added", doc_id))
                continue
            exact = exact or outcome.status == "updated"
            if outcome.status in ("added", "updated"):
                written.add(key)
            outcomes.append(outcome)
        counts.update(self._insert_documents(conn, pending))
        return [
            IngestOutcome("added", o.document_id, counts[o.document_id])
            if o.status == "added" and o.document_id in counts
            else o
            for o in outcomes
        ]

    def _insert_documents(
        self, conn: Connection, pending: list[tuple[dict[str, Any], ParsedArticle]]
    ) -> dict[str, int]:
        """Insert new documents and all their sentences with one statement each (and one
        for SQLite's full-text index); the number of sentences stored, by document."""
        if not pending:
            return {}
        try:
            conn.execute(_INSERT_DOCUMENT, [values for values, _ in pending])
        except IntegrityError as exc:
            raise _InsertRefused(exc) from exc
        rows: list[dict[str, Any]] = []
        counts: dict[str, int] = {}
        for values, article in pending:
            plan = plan_sentences((), article.sentences)
            counts[values["id"]] = len(plan.added)
            rows.extend(_sentence_rows(values["id"], plan))
        if rows:
            conn.execute(_INSERT_SENTENCE, rows)
            for chunk in chunks(list(counts)):
                self.index.add_live(conn, chunk)
        return counts

    def _ingest_in(
        self,
        conn: Connection,
        article: ParsedArticle,
        origin: Origin,
        source_key: str,
        fetched_at: datetime,
    ) -> IngestOutcome:
        existing = conn.execute(_BY_SOURCE_KEY, {"key": source_key}).first()
        if existing is None:
            twin = conn.execute(_BY_BODY_HASH, {"hash": body_hash(article.body)}).first()
            if twin is not None:
                return IngestOutcome("duplicate", twin.id, duplicate_of=twin.id)
        elif existing.content_hash == content_hash(article):
            return IngestOutcome("unchanged", existing.id)
        values = _document_values(article, origin, source_key, fetched_at)
        if existing is None:
            doc_id = document_id_for(source_key)
            try:
                conn.execute(_INSERT_DOCUMENT, {"id": doc_id, **values})
            except IntegrityError as exc:
                raise _InsertRefused(exc) from exc  # leaves the transaction: rolled back
            plan = plan_sentences((), article.sentences)
            self._apply(conn, doc_id, plan)
            return IngestOutcome("added", doc_id, len(plan.added), plan.retired)
        doc_id = existing.id
        del values["fetched_at"]
        if article.published_at is None:  # still undated: it keeps its first placement
            del values["published_at"], values["published_precision"]
        values["analysis_version"] = None
        conn.execute(documents.update().where(documents.c.id == doc_id).values(**values))
        stored = [
            StoredSentence(r.id, r.idx, r.position, r.text)
            for r in conn.execute(
                select(
                    sentences.c.id, sentences.c.idx, sentences.c.position, sentences.c.text
                ).where(sentences.c.document_id == doc_id)
            )
        ]
        plan = plan_sentences(stored, article.sentences)
        # Every stored sentence leaves the text and the index; the plan's kept ones return.
        self.index.remove_document(conn, doc_id)
        conn.execute(
            sentences.update().where(sentences.c.document_id == doc_id).values(position=None)
        )
        self._apply(conn, doc_id, plan)
        return IngestOutcome("updated", doc_id, len(plan.added), plan.retired)

    def _apply(self, conn: Connection, doc_id: str, plan: SentencePlan) -> None:
        """Write a plan: kept sentences moved into place, new ones inserted, both indexed."""
        if plan.kept:
            conn.execute(
                _MOVE_SENTENCE,
                [
                    {"row": k.row_id, "pos": k.position, "start": k.span.start, "end": k.span.end}
                    for k in plan.kept
                ],
            )
        rows = _sentence_rows(doc_id, plan)
        if rows:
            conn.execute(_INSERT_SENTENCE, rows)
        self.index.add_live(conn, [doc_id])  # the plan's sentences are the live ones

    # -- reading -------------------------------------------------------------------------

    def get(self, document_id: str) -> Document | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(documents).where(documents.c.id == document_id)).first()
        if row is None:
            return None
        return Document(
            id=row.id,
            origin=row.origin,
            source_key=row.source_key,
            url=row.url,
            title=row.title,
            publisher=row.publisher,
            byline=row.byline,
            published_at=row.published_at,
            published_precision=row.published_precision,
            fetched_at=row.fetched_at,
            body=row.body,
            content_hash=row.content_hash,
            provenance=json.loads(row.provenance),
        )

    def is_empty(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(documents.c.id).limit(1)).first() is None

    def has_origin(self, origin: str) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(select(documents.c.id).where(documents.c.origin == origin).limit(1))
            return row.first() is not None

    def summaries(
        self,
        ids: Iterable[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        visible: Visibility | None = None,
    ) -> list[DocumentSummary]:
        query = select(
            documents.c.id,
            documents.c.origin,
            documents.c.title,
            documents.c.publisher,
            documents.c.published_at,
            documents.c.published_precision,
            documents.c.url,
            documents.c.story_id,
        )
        query = only_visible(window(query, since, until), visible)
        if ids is not None:
            wanted = list(ids)
            if not wanted:
                return []
            query = query.where(documents.c.id.in_(wanted))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(documents.c.published_at, documents.c.id)).all()
        return [DocumentSummary(*row) for row in rows]

    def sentence(self, document_id: str, index: int) -> tuple[SentenceRow, bool] | None:
        """The sentence at a citation, and whether it is still in the current text."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(sentences.c.idx, sentences.c.position, sentences.c.text).where(
                    and_(sentences.c.document_id == document_id, sentences.c.idx == index)
                )
            ).first()
        if row is None:
            return None
        position = row.position if row.position is not None else -1
        return SentenceRow(document_id, row.idx, position, row.text), row.position is not None

    def context(self, document_id: str, position: int, radius: int) -> list[SentenceRow]:
        # Positions are 32-bit INTEGERs on PostgreSQL: a bound past them is an error there.
        low, high = max(position - radius, -_INT32_MAX), min(position + radius, _INT32_MAX)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(sentences.c.idx, sentences.c.position, sentences.c.text)
                .where(
                    and_(
                        sentences.c.document_id == document_id,
                        sentences.c.position.between(low, high),
                    )
                )
                .order_by(sentences.c.position)
            ).all()
        return [SentenceRow(document_id, r.idx, r.position, r.text) for r in rows]
