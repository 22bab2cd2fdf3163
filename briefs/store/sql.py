"""The SQL store: SQLAlchemy Core over an SQLite file (FTS5 for full-text search) or a
PostgreSQL database (a tsvector column with a GIN index), chosen by the database URL."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    create_engine,
    event,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.engine import URL, Connection, Engine, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, IntegrityError
from sqlalchemy.sql import Select

from briefs.errors import BriefbotError, SettingsError, StoreDamaged, StoreReadOnly
from briefs.models import Document, Origin, ParsedArticle
from briefs.segment import split_sentences
from briefs.store import dialect, migrations
from briefs.store.base import (
    AnalysisInput,
    DocumentSummary,
    EventRow,
    IngestOutcome,
    SearchHit,
    SentenceRow,
    StoreStats,
    Visibility,
)
from briefs.store.schema import date_mentions, documents, mentions, meta, sentences
from briefs.store.schema import names as names_table

if TYPE_CHECKING:
    from briefs.analysis import DocumentAnalysis, SentenceFacts
    from briefs.store.feeds import FeedStore
    from briefs.store.schedules import ScheduleStore

log = logging.getLogger(__name__)
_INT32_MAX = 2**31 - 1
_TOKEN = re.compile(r"\w+", re.UNICODE)


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
# SQLite's full-text index of new documents' sentences, filled in the database itself.
_INDEX_DOCUMENTS_FTS = text(
    "INSERT INTO sentences_fts (rowid, text) SELECT id, text FROM sentences "
    "WHERE document_id IN :ids"
).bindparams(bindparam("ids", expanding=True))
_INSERT_SENTENCE = sentences.insert()

# Statements of analysis, built once.
_CLEAR_PAST_ANALYSED = (
    sentences.update()
    .where(
        and_(
            sentences.c.document_id == bindparam("doc"),
            sentences.c.position >= bindparam("analysed"),
        )
    )
    .values(
        topics=None,
        speaker=None,
        speaker_kind=None,
        direct=None,
        stance=None,
        stance_holder=None,
        date_value=None,
        date_precision=None,
        salience=None,
    )
)
_FACT_COLUMNS = (
    "topics",
    "speaker",
    "speaker_kind",
    "direct",
    "stance",
    "stance_holder",
    "date_value",
    "date_precision",
    "salience",
)
_SET_FACTS = (
    sentences.update()
    .where(sentences.c.id == bindparam("sid"))
    .values({c: bindparam(f"v_{c}") for c in _FACT_COLUMNS})
)
_INSERT_MENTION = mentions.insert().values({c.name: bindparam(c.name) for c in mentions.c})
_INSERT_DATE = date_mentions.insert().values({c.name: bindparam(c.name) for c in date_mentions.c})
_INSERT_NAME = names_table.insert().values({c.name: bindparam(c.name) for c in names_table.c})
_SET_ANALYSED = (
    documents.update()
    .where(documents.c.id == bindparam("doc"))
    .values(analysis_version=bindparam("v"), signature=bindparam("sig"))
)


class _DriverMany:
    """A statement run for many rows by the driver's own ``executemany``: compiled once per
    dialect, its rows handed over as the driver takes them. SQLAlchemy's ``execute`` would
    build each row's parameters anew (some 75 rows a document), a third of what writing
    an analysis costs; the SQL, the values (through the same bind processors, with the
    statement's own values where a row has none) and the statement events are the same."""

    def __init__(self, statement: Any) -> None:
        self._statement = statement
        self._compiled: dict[str, tuple[str, list[str] | None, dict[str, Any], Any]] = {}

    def run(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        dialect = conn.dialect
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self._statement.compile(dialect=dialect)
            fixed = {n: b.effective_value for n, b in compiled.binds.items() if not b.required}
            processors = {
                name: proc
                for name, bind in compiled.binds.items()
                if (proc := bind.type._cached_bind_processor(dialect)) is not None
            }
            found = self._compiled[dialect.name] = (
                compiled.string,
                list(compiled.positiontup) if compiled.positiontup else None,
                fixed,
                processors,
            )
        sql, positions, fixed, processors = found
        if fixed:
            rows = [{**fixed, **r} for r in rows]
        if processors:
            rows = [
                {k: (processors[k](v) if k in processors else v) for k, v in r.items()}
                for r in rows
            ]
        if positions is not None:
            conn.exec_driver_sql(sql, [tuple([r[k] for k in positions]) for r in rows])
        else:
            conn.exec_driver_sql(sql, list(rows))


def _neighbours(tie_break: Any) -> Select[Any]:
    """Documents with a signature published in a window, in the order stories are chosen
    from: by time, then ``tie_break``; those in a story, and those of the batch (whose story
    may be set before a later document of the batch looks). SQLite's rowid is the order it
    always returned ties in (the order documents were stored); PostgreSQL returned them in
    the order of their row versions, which moved as stories were set, so there they are
    ordered by id."""
    return (
        select(documents.c.id, documents.c.story_id, documents.c.signature)
        .where(
            and_(
                or_(
                    documents.c.story_id.is_not(None),
                    documents.c.id.in_(bindparam("batch", expanding=True)),
                ),
                documents.c.signature.is_not(None),
                documents.c.published_at >= bindparam("start"),
                documents.c.published_at < bindparam("end"),
            )
        )
        .order_by(documents.c.published_at, tie_break)
        .limit(bindparam("limit"))
    )


_NEIGHBOURS = {
    "sqlite": _neighbours(literal_column("documents.rowid")),
    "postgresql": _neighbours(documents.c.id),
}
_SET_STORY = (
    documents.update()
    .where(documents.c.id == bindparam("doc"))
    .values(story_id=bindparam("story"), duplicate_of=bindparam("dup"))
)

_CLEAR_PAST_ANALYSED_MANY = _DriverMany(_CLEAR_PAST_ANALYSED)
_SET_FACTS_MANY = _DriverMany(_SET_FACTS)
_INSERT_MENTION_MANY = _DriverMany(_INSERT_MENTION)
_INSERT_DATE_MANY = _DriverMany(_INSERT_DATE)
_INSERT_NAME_MANY = _DriverMany(_INSERT_NAME)
_SET_ANALYSED_MANY = _DriverMany(_SET_ANALYSED)
_SET_STORY_MANY = _DriverMany(_SET_STORY)


def _event_rows(
    conn: Connection, doc_ids: Sequence[str], head: int, lead_sentences: int
) -> dict[str, EventRow]:
    out: dict[str, EventRow] = {}
    for chunk in _chunks(list(doc_ids)):
        entities: dict[str, set[str]] = {}
        found = conn.execute(
            select(sentences.c.document_id, mentions.c.entity_id)
            .distinct()
            .join(mentions, mentions.c.sentence_id == sentences.c.id)
            .where(sentences.c.document_id.in_(chunk), sentences.c.position.is_not(None))
        )
        for r in found:
            entities.setdefault(r.document_id, set()).add(r.entity_id)
        dates: dict[str, set[str]] = {}
        resolved = conn.execute(
            select(sentences.c.document_id, date_mentions.c.value)
            .join(date_mentions, date_mentions.c.sentence_id == sentences.c.id)
            .where(
                sentences.c.document_id.in_(chunk),
                sentences.c.position.is_not(None),
                sentences.c.position < lead_sentences,
                date_mentions.c.precision == "day",
            )
        )
        for d in resolved:
            dates.setdefault(d.document_id, set()).add(d.value)
        rows = conn.execute(
            select(
                documents.c.id,
                documents.c.title,
                func.substr(documents.c.body, 1, head).label("head"),
                documents.c.published_at,
            ).where(documents.c.id.in_(chunk))
        )
        for row in rows:
            out[row.id] = EventRow(
                row.title or "",
                row.head or "",
                row.published_at,
                tuple(sorted(entities.get(row.id, ()))),
                tuple(sorted(dates.get(row.id, ()))),
            )
    return out


class StoryBatch:
    """One transaction of story assignment: the batch's rows locked (in id order, as
    ``save_analyses`` locks them) and read by one statement, then per document its
    neighbours read and its story set. The neighbours of a later document include the
    stories set earlier in the batch.

    Statements are per window, not per document: the documents of a window are read once
    (with the batch's own documents whatever their story, and enough spare rows for those
    to be left out), then each document's neighbours are filtered from them with the
    stories set so far; the stories are written by one statement when the batch ends.
    """

    def __init__(self, engine: Engine, doc_ids: Sequence[str]) -> None:
        self._engine = engine
        self._doc_ids = list(doc_ids)
        self._conn: Connection | None = None
        self._inputs: dict[str, tuple[datetime | None, str | None]] = {}
        # Signature JSON of the documents read so far (the batch's and its windows').
        self._signatures: dict[str, str] = {}
        # (start, end, limit): the window's rows (id, story when read), and whether all.
        self._windows: dict[tuple[datetime, datetime, int], tuple[list[tuple[str, Any]], bool]]
        self._windows = {}
        self._stories: dict[str, tuple[str, str | None]] = {}

    def __enter__(self) -> StoryBatch:
        self._begun = self._engine.begin()
        self._conn = self._begun.__enter__()
        rows = self._conn.execute(
            select(documents.c.id, documents.c.published_at, documents.c.signature)
            .where(documents.c.id.in_(self._doc_ids))
            .order_by(documents.c.id)
            .with_for_update()
        )
        for r in rows:
            self._inputs[r.id] = (r.published_at, r.signature)
            if r.signature is not None:
                self._signatures[r.id] = r.signature
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            if exc[0] is None and self._stories:
                _SET_STORY_MANY.run(
                    self.conn,
                    [
                        {"doc": doc_id, "story": story, "dup": dup}
                        for doc_id, (story, dup) in self._stories.items()
                    ],
                )
        finally:
            self._conn = None
            self._begun.__exit__(*exc)

    @property
    def conn(self) -> Connection:
        assert self._conn is not None, "use StoryBatch in a with statement"
        return self._conn

    def inputs(self) -> dict[str, tuple[datetime | None, str | None]]:
        """(publication time, stored signature JSON) of each document of the batch."""
        return dict(self._inputs)

    def neighbours(
        self, doc_id: str, start: datetime, end: datetime, limit: int = 300
    ) -> list[tuple[str, str]]:
        """(id, story) of the first ``limit`` other documents in a story (counting those
        set in this batch) with a signature published in [start, end), by time."""
        key = (start, end, limit)
        window = self._windows.get(key)
        if window is None:
            # Rows left out below are the batch's own (itself, or no story yet): at most
            # all of it, so this many rows always hold the first ``limit`` of the others.
            spare = limit + len(self._doc_ids)
            rows = self.conn.execute(
                _NEIGHBOURS[self._engine.dialect.name],
                {"batch": self._doc_ids, "start": start, "end": end, "limit": spare},
            ).all()
            for r in rows:
                self._signatures[r.id] = r.signature
            window = self._windows[key] = ([(r.id, r.story_id) for r in rows], len(rows) < spare)
        out: list[tuple[str, str]] = []
        stories = self._stories
        for other, story in window[0]:
            if other in stories:
                story = stories[other][0]
            if story is not None and other != doc_id:
                out.append((other, story))
                if len(out) == limit:
                    break
        assert len(out) == limit or window[1], "a window read too few rows"
        return out

    def signatures(self, doc_ids: Sequence[str]) -> dict[str, str]:
        """Stored signature JSON of documents (neighbours not seen before in this run):
        those of the batch and its windows were read with them."""
        found = {d: self._signatures[d] for d in doc_ids if d in self._signatures}
        missing = [d for d in doc_ids if d not in found]
        if missing:
            rows = self.conn.execute(
                select(documents.c.id, documents.c.signature).where(documents.c.id.in_(missing))
            )
            found.update((r.id, r.signature) for r in rows)
        return found

    def body(self, doc_id: str) -> str:
        return str(
            self.conn.execute(select(documents.c.body).where(documents.c.id == doc_id)).scalar_one()
        )

    def event_rows(
        self, doc_ids: Sequence[str], head: int, lead_sentences: int
    ) -> dict[str, EventRow]:
        """What tells each document's event (``head``: characters of body; dates from its
        first ``lead_sentences`` sentences), by three statements per 500 documents."""
        return _event_rows(self.conn, doc_ids, head, lead_sentences)

    def merge_story(self, old: str, new: str) -> None:
        """Every document of story ``old`` joins ``new`` (stored ones now, those set in this
        batch when it ends), and ``neighbours`` counts them so from now."""
        self.conn.execute(
            documents.update().where(documents.c.story_id == old).values(story_id=new)
        )
        for doc_id, (story, dup) in list(self._stories.items()):
            if story == old:
                self._stories[doc_id] = (new, dup)
        for key, (rows, whole) in list(self._windows.items()):
            self._windows[key] = ([(d, new if s == old else s) for d, s in rows], whole)

    def set_story(self, doc_id: str, story_id: str, duplicate_of: str | None) -> None:
        """Counted from now by ``neighbours``; written when the batch ends."""
        self._stories[doc_id] = (story_id, duplicate_of)


class _InsertRefused(Exception):
    """The insert of a new document broke a unique key (``ingest`` decides whether that was
    another writer storing the same source meanwhile)."""

    def __init__(self, error: IntegrityError) -> None:
        super().__init__(str(error))
        self.error = error


def document_id_for(source_key: str) -> str:
    """A short id derived from where the document came from, so re-ingest keeps it."""
    return hashlib.sha1(source_key.encode("utf-8")).hexdigest()[:12]


def _content_hash(article: ParsedArticle) -> str:
    """What makes a stored document differ: an equal hash means nothing to update."""
    return _hash(
        article.body,
        article.title,
        article.publisher,
        article.byline,
        article.published_at,
        article.url,
        sorted(article.provenance.items()),
    )


def _document_values(
    article: ParsedArticle,
    origin: Origin,
    source_key: str,
    fetched_at: datetime,
    body_hash: str,
    content_hash: str,
) -> dict[str, Any]:
    return {
        "origin": origin,
        "source_key": source_key,
        "url": article.url,
        "title": article.title,
        "publisher": article.publisher,
        "byline": article.byline,
        "published_at": article.published_at,
        "published_precision": article.published_precision,
        "fetched_at": fetched_at,
        "updated_at": fetched_at,
        "body": article.body,
        "body_hash": body_hash,
        "content_hash": content_hash,
        "provenance": json.dumps(article.provenance, sort_keys=True),
    }


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    """Lists of at most ``size``: IN lists stay within every backend's parameter limit."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _hash(*parts: object) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()


# Matching live sentences and their rank, lower is better, on each backend.
_FTS5_HITS = (
    "(SELECT rowid, bm25(sentences_fts) AS rank FROM sentences_fts "
    " WHERE sentences_fts MATCH :q) AS hits"
)
_PG_HITS = (
    "(SELECT id AS rowid, -ts_rank(tsv, q, 1) AS rank "
    f" FROM sentences, to_tsquery('{dialect.TS_CONFIG}', :q) AS q WHERE tsv @@ q) AS hits"
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


class SqlStore:
    """Store implementation over one SQLAlchemy engine."""

    def __init__(self, engine: Engine, location: str, read_only: str | None = None) -> None:
        self.engine = engine
        self.location = location
        # Why the store cannot be written (opened read-only), or None: then nothing is
        # migrated, seeded or analysed, and a command that must write is refused.
        self.read_only = read_only
        # SQLite keeps its FTS5 table up to date by hand; PostgreSQL computes the tsvector.
        self.postgres = engine.dialect.name == dialect.POSTGRES
        with engine.begin() as conn:
            # A hot standby, or a role or database with default_transaction_read_only.
            if read_only is None and self.postgres and _server_read_only(conn):
                read_only = self.read_only = "the database server accepts no writes"
            if read_only is None:
                migrations.migrate(conn)
            else:
                try:
                    migrations.check_current(conn)
                except StoreReadOnly as exc:
                    raise StoreReadOnly(
                        f"the store {location} is read-only ({read_only}): {exc}"
                    ) from None

    # Feeds and schedules are opened on first use: a brief from files never imports them.
    @cached_property
    def feeds(self) -> FeedStore:
        from briefs.store.feeds import FeedStore

        return FeedStore(self.engine)

    @cached_property
    def schedules(self) -> ScheduleStore:
        from briefs.store.schedules import ScheduleStore

        return ScheduleStore(self.engine)

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
            return self._ingest(article, origin, source_key, fetched_at)
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
        prepared = [(a, key, _hash(a.body), _content_hash(a)) for a, key in items]
        existing: dict[str, Any] = {}
        for chunk in _chunks(list(dict.fromkeys(key for _, key, _, _ in prepared))):
            existing.update(
                (r.source_key, r) for r in conn.execute(_BY_SOURCE_KEYS, {"keys": chunk})
            )
        twins: dict[str, str] = {}
        wanted = list(dict.fromkeys(h for _, key, h, _ in prepared if key not in existing))
        for chunk in _chunks(wanted):
            for r in conn.execute(_BY_BODY_HASHES, {"hashes": chunk}):
                twins.setdefault(r.body_hash, r.id)
        outcomes: list[IngestOutcome] = []
        pending: list[tuple[dict[str, Any], str]] = []  # new documents not yet inserted
        counts: dict[str, int] = {}  # sentences stored, by new document
        written: set[str] = set()  # source keys this batch stored
        exact = False  # after an update, body twins are looked up one by one again

        def one_by_one(article: ParsedArticle, key: str) -> IngestOutcome:
            counts.update(self._insert_documents(conn, pending))
            pending.clear()
            return self._ingest_in(conn, article, origin, key, fetched_at)

        for article, key, body_hash, content_hash in prepared:
            before = existing.get(key)
            if key in written or exact:  # the same source twice: the second sees the first
                outcome = one_by_one(article, key)
            elif before is not None:
                if before.content_hash == content_hash:
                    outcomes.append(IngestOutcome("unchanged", before.id))
                    continue
                outcome = one_by_one(article, key)
            elif (twin := twins.get(body_hash)) is not None:
                outcomes.append(IngestOutcome("duplicate", twin, duplicate_of=twin))
                continue
            else:
                doc_id = document_id_for(key)
                values = _document_values(article, origin, key, fetched_at, body_hash, content_hash)
                pending.append(({"id": doc_id, **values}, article.body))
                twins[body_hash] = doc_id
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
        self, conn: Connection, pending: list[tuple[dict[str, Any], str]]
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
        for values, body in pending:
            split = split_sentences(body)
            counts[values["id"]] = len(split)
            rows.extend(
                {
                    "document_id": values["id"],
                    "idx": idx,
                    "position": idx,
                    "text": sentence,
                    "span_start": span.start,
                    "span_end": span.end,
                }
                for idx, (sentence, span) in enumerate(split)
            )
        if rows:
            conn.execute(_INSERT_SENTENCE, rows)
            if not self.postgres:
                for chunk in _chunks(list(counts)):
                    conn.execute(_INDEX_DOCUMENTS_FTS, {"ids": chunk})
        return counts

    def _ingest(
        self, article: ParsedArticle, origin: Origin, source_key: str, fetched_at: datetime
    ) -> IngestOutcome:
        with self.engine.begin() as conn:
            return self._ingest_in(conn, article, origin, source_key, fetched_at)

    def _ingest_in(
        self,
        conn: Connection,
        article: ParsedArticle,
        origin: Origin,
        source_key: str,
        fetched_at: datetime,
    ) -> IngestOutcome:
        body_hash = _hash(article.body)
        content_hash = _content_hash(article)
        doc_id = document_id_for(source_key)
        existing = conn.execute(_BY_SOURCE_KEY, {"key": source_key}).first()
        if existing is None:
            twin = conn.execute(_BY_BODY_HASH, {"hash": body_hash}).first()
            if twin is not None:
                return IngestOutcome("duplicate", twin.id, duplicate_of=twin.id)
        elif existing.content_hash == content_hash:
            return IngestOutcome("unchanged", existing.id)
        values = _document_values(article, origin, source_key, fetched_at, body_hash, content_hash)
        if existing is None:
            try:
                conn.execute(_INSERT_DOCUMENT, {"id": doc_id, **values})
            except IntegrityError as exc:
                raise _InsertRefused(exc) from exc  # leaves the transaction: rolled back
            added, retired = self._write_sentences(conn, doc_id, article.body, fresh=True)
            return IngestOutcome("added", doc_id, added, retired)
        doc_id = existing.id
        del values["fetched_at"]
        values["analysis_version"] = None
        conn.execute(documents.update().where(documents.c.id == doc_id).values(**values))
        added, retired = self._write_sentences(conn, doc_id, article.body, fresh=False)
        return IngestOutcome("updated", doc_id, added, retired)

    def _write_sentences(
        self, conn: Connection, doc_id: str, body: str, *, fresh: bool
    ) -> tuple[int, int]:
        """Store the body's sentences; on an update keep the index of every unchanged one."""
        split = split_sentences(body)
        old: dict[str, list[Any]] = {}
        next_idx = 0
        if not fresh:
            rows = conn.execute(
                select(sentences.c.id, sentences.c.idx, sentences.c.position, sentences.c.text)
                .where(sentences.c.document_id == doc_id)
                .order_by(sentences.c.position.is_(None), sentences.c.position, sentences.c.idx)
            ).all()
            for row in rows:
                old.setdefault(row.text, []).append(row)
            next_idx = max((row.idx for row in rows), default=-1) + 1
            # Take every old sentence out of the index; live ones are re-added below.
            if not self.postgres:
                conn.execute(
                    text(
                        "DELETE FROM sentences_fts WHERE rowid IN "
                        "(SELECT id FROM sentences WHERE document_id = :d)"
                    ),
                    {"d": doc_id},
                )
            conn.execute(
                sentences.update().where(sentences.c.document_id == doc_id).values(position=None)
            )
        inserts: list[dict[str, Any]] = []
        fts_rows: list[dict[str, Any]] = []
        reused = 0
        for position, (sentence, span) in enumerate(split):
            candidates = old.get(sentence)
            if candidates:
                row = candidates.pop(0)
                reused += 1
                conn.execute(
                    sentences.update()
                    .where(sentences.c.id == row.id)
                    .values(position=position, span_start=span.start, span_end=span.end)
                )
                fts_rows.append({"rowid": row.id, "text": sentence})
                continue
            inserts.append(
                {
                    "document_id": doc_id,
                    "idx": next_idx,
                    "position": position,
                    "text": sentence,
                    "span_start": span.start,
                    "span_end": span.end,
                }
            )
            next_idx += 1
        if inserts:
            conn.execute(_INSERT_SENTENCE, inserts)
        if inserts and not self.postgres:
            new_rows = conn.execute(
                select(sentences.c.id, sentences.c.text).where(
                    and_(
                        sentences.c.document_id == doc_id,
                        sentences.c.idx >= inserts[0]["idx"],
                    )
                )
            ).all()
            fts_rows.extend({"rowid": r.id, "text": r.text} for r in new_rows)
        if fts_rows and not self.postgres:
            conn.execute(
                text("INSERT INTO sentences_fts (rowid, text) VALUES (:rowid, :text)"), fts_rows
            )
        # Old sentences left unmatched are retired (kept for citations, out of the index).
        retired = sum(1 for rows in old.values() for r in rows if r.position is not None)
        return len(inserts), retired

    # -- analysis ------------------------------------------------------------------------

    def pending_analysis(self, version: str, stale: bool = True) -> list[str]:
        """Documents never analysed, and (``stale``) those analysed by other code or domain
        data; oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(documents.c.id)
                .where(_pending(version, stale))
                .order_by(documents.c.published_at, documents.c.id)
            ).all()
        return [r.id for r in rows]

    def body(self, doc_id: str) -> str:
        """A document's clean body (story assignment compares bodies, not sentences)."""
        with self.engine.connect() as conn:
            return str(
                conn.execute(select(documents.c.body).where(documents.c.id == doc_id)).scalar_one()
            )

    def analysis_input(self, doc_id: str, max_sentences: int | None = None) -> AnalysisInput:
        """What analysing a document needs: its first ``max_sentences`` live sentences (all of
        them when None), and where the analysed text ends when there are more."""
        return self.analysis_inputs([doc_id], max_sentences)[0]

    def analysis_inputs(
        self, doc_ids: Sequence[str], max_sentences: int | None = None
    ) -> list[AnalysisInput]:
        """``analysis_input`` of several documents, in their order, read by two statements."""
        with self.engine.connect() as conn:
            docs = {
                r.id: r
                for r in conn.execute(
                    select(
                        documents.c.id,
                        documents.c.body,
                        documents.c.published_at,
                        documents.c.published_precision,
                    ).where(documents.c.id.in_(list(doc_ids)))
                )
            }
            query = select(
                sentences.c.document_id,
                sentences.c.id,
                sentences.c.text,
                sentences.c.span_start,
                sentences.c.span_end,
            ).where(
                and_(
                    sentences.c.document_id.in_(list(doc_ids)),
                    sentences.c.position.is_not(None),
                )
            )
            if max_sentences is not None:
                # Live sentences are numbered 0, 1, 2 ... in each document, so this reads one
                # more than is analysed, which tells whether there are more.
                query = query.where(sentences.c.position <= max_sentences)
            by_doc: dict[str, list[Any]] = {d: [] for d in doc_ids}
            for r in conn.execute(query.order_by(sentences.c.document_id, sentences.c.position)):
                by_doc[r.document_id].append(r)
        out = []
        for doc_id in doc_ids:
            doc, rows = docs[doc_id], by_doc[doc_id]
            analysed_end = None
            if max_sentences is not None and len(rows) > max_sentences:
                rows = rows[:max_sentences]
                analysed_end = rows[-1].span_end if rows else 0
            paragraphs = [doc.body.count("\n\n", 0, r.span_start) for r in rows]
            out.append(
                AnalysisInput(
                    doc_id,
                    doc.body,
                    doc.published_at,
                    doc.published_precision,
                    [r.id for r in rows],
                    [r.text for r in rows],
                    paragraphs,
                    analysed_end,
                )
            )
        return out

    def save_analysis(
        self,
        doc_id: str,
        version: str,
        sentence_ids: Sequence[int],
        facts: Sequence[SentenceFacts],
        names: Counter[str],
        signature: dict[str, int],
    ) -> None:
        """Replace a document's analysis in one transaction."""
        from briefs.analysis import DocumentAnalysis  # not at the top: reads never need it

        self.save_analyses(
            version, [DocumentAnalysis(doc_id, sentence_ids, facts, names, signature)]
        )

    def save_analyses(self, version: str, analysed: Sequence[DocumentAnalysis]) -> None:
        """Replace the analysis of several documents in one transaction: each kind of row is
        deleted, updated or inserted by one statement for all of them, not one per document."""
        if not analysed:
            return
        doc_ids = [a.document_id for a in analysed]
        with self.engine.begin() as conn:
            # Processes sharing a store may analyse the same new document at once (each bot
            # at start-up): the row locks make them take turns, each replacing the rows of
            # the one before instead of both inserting them; taken in id order, so two
            # batches never wait for each other in a circle. (SQLite has one writer.)
            conn.execute(
                select(documents.c.id)
                .where(documents.c.id.in_(doc_ids))
                .order_by(documents.c.id)
                .with_for_update()
            )
            all_ids = select(sentences.c.id).where(sentences.c.document_id.in_(doc_ids))
            conn.execute(mentions.delete().where(mentions.c.sentence_id.in_(all_ids)))
            conn.execute(date_mentions.delete().where(date_mentions.c.sentence_id.in_(all_ids)))
            conn.execute(names_table.delete().where(names_table.c.document_id.in_(doc_ids)))
            # Live sentences past those analysed ([analysis] max_sentences) keep no facts from
            # an earlier analysis: none when a document is analysed whole.
            _CLEAR_PAST_ANALYSED_MANY.run(
                conn, [{"doc": a.document_id, "analysed": len(a.sentence_ids)} for a in analysed]
            )
            updates: list[dict[str, Any]] = []
            mention_rows: list[dict[str, Any]] = []
            date_rows: list[dict[str, Any]] = []
            name_rows: list[dict[str, Any]] = []
            for a in analysed:
                for sid, fact in zip(a.sentence_ids, a.facts, strict=True):
                    first = fact.dates[0] if fact.dates else None
                    updates.append(
                        {
                            "sid": sid,
                            "v_topics": ",".join(fact.topics) or None,
                            "v_speaker": fact.speaker.name if fact.speaker else None,
                            "v_speaker_kind": fact.speaker.kind if fact.speaker else None,
                            "v_direct": int(fact.direct),
                            "v_stance": fact.stance,
                            "v_stance_holder": fact.stance_holder,
                            "v_date_value": first.value.isoformat() if first else None,
                            "v_date_precision": first.precision if first else None,
                            "v_salience": fact.salience,
                        }
                    )
                    mention_rows.extend(
                        {"sentence_id": sid, "entity_id": e, "count": n, "salience": fact.salience}
                        for e, n in fact.mentions.items()
                    )
                    date_rows.extend(
                        {
                            "sentence_id": sid,
                            "start": d.start,
                            "expression": d.text,
                            "value": d.value.isoformat(),
                            "precision": d.precision,
                        }
                        for d in fact.dates
                    )
                name_rows.extend(
                    {"document_id": a.document_id, "name": k, "count": v}
                    for k, v in a.names.items()
                )
            if updates:
                _SET_FACTS_MANY.run(conn, updates)
            if mention_rows:
                _INSERT_MENTION_MANY.run(conn, mention_rows)
            if date_rows:
                _INSERT_DATE_MANY.run(conn, date_rows)
            if name_rows:
                _INSERT_NAME_MANY.run(conn, name_rows)
            _SET_ANALYSED_MANY.run(
                conn,
                [
                    {"doc": a.document_id, "v": version, "sig": json.dumps(a.signature)}
                    for a in analysed
                ],
            )

    def date_mention_rows(self) -> list[tuple[str, str, str, str, str]]:
        """(document, sentence, expression, value, precision) of every resolved date."""
        query = (
            select(
                sentences.c.document_id,
                sentences.c.text,
                date_mentions.c.expression,
                date_mentions.c.value,
                date_mentions.c.precision,
            )
            .select_from(
                date_mentions.join(sentences, sentences.c.id == date_mentions.c.sentence_id)
            )
            .where(sentences.c.position.is_not(None))
            .order_by(sentences.c.document_id, sentences.c.position, date_mentions.c.start)
        )
        with self.engine.connect() as conn:
            return [(r[0], r[1], r[2], r[3], r[4]) for r in conn.execute(query).all()]

    def signatures(self, limit: int) -> list[dict[str, int]]:
        """Term signatures of the most recent analysed documents (IDF background)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(documents.c.signature)
                .where(documents.c.signature.is_not(None))
                .order_by(documents.c.published_at.desc())
                .limit(limit)
            ).all()
        return [json.loads(r.signature) for r in rows]

    def set_story(self, doc_id: str, story_id: str, duplicate_of: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(_SET_STORY, [{"doc": doc_id, "story": story_id, "dup": duplicate_of}])

    def entity_document_counts(self, limit: int) -> tuple[int, dict[str, int]]:
        """(documents, in how many of them each entity is named) over the most recent
        ``limit`` analysed documents: how common an entity is in the store."""
        recent = (
            select(documents.c.id)
            .where(documents.c.signature.is_not(None))
            .order_by(documents.c.published_at.desc())
            .limit(limit)
            .subquery()
        )
        query = (
            select(mentions.c.entity_id, func.count(sentences.c.document_id.distinct()))
            .join(sentences, mentions.c.sentence_id == sentences.c.id)
            .where(sentences.c.document_id.in_(select(recent.c.id)))
            .group_by(mentions.c.entity_id)
        )
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(recent)).scalar_one()
            counts = {str(r[0]): int(r[1]) for r in conn.execute(query)}
        return int(total), counts

    def story_batch(self, doc_ids: Sequence[str]) -> StoryBatch:
        """A transaction in which stories are found and set for ``doc_ids`` (use ``with``)."""
        return StoryBatch(self.engine, doc_ids)

    # -- reading -------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(meta.c.value).where(meta.c.key == key)).first()
        return row.value if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(meta.delete().where(meta.c.key == key))
            conn.execute(meta.insert().values(key=key, value=value))

    def has_origin(self, origin: str) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(select(documents.c.id).where(documents.c.origin == origin).limit(1))
            return row.first() is not None

    def is_empty(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(documents.c.id).limit(1)).first() is None

    def get_document(self, document_id: str) -> Document | None:
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
        query = self._visible(_window(query, since, until), visible)
        if ids is not None:
            wanted = list(ids)
            if not wanted:
                return []
            query = query.where(documents.c.id.in_(wanted))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(documents.c.published_at, documents.c.id)).all()
        return [DocumentSummary(*row) for row in rows]

    def mention_months(
        self, entity_id: str, visible: Visibility | None = None
    ) -> list[tuple[str, int]]:
        """How often an entity is named, by month of publication (YYYY-MM)."""
        month = func.substr(documents.c.published_at, 1, 7)
        query = (
            select(month, func.sum(mentions.c.count))
            .select_from(
                mentions.join(sentences, sentences.c.id == mentions.c.sentence_id).join(
                    documents, documents.c.id == sentences.c.document_id
                )
            )
            .where(and_(mentions.c.entity_id == entity_id, sentences.c.position.is_not(None)))
            .group_by(month)
            .order_by(month)
        )
        query = self._visible(query, visible)
        with self.engine.connect() as conn:
            return [(m or "undated", int(n)) for m, n in conn.execute(query).all()]

    def new_names(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        minimum: int = 2,
        visible: Visibility | None = None,
    ) -> list[tuple[str, int]]:
        """Names the gazetteer does not know, most frequent first, in a publication window.

        A window holding under a quarter of the documents reads its documents' names through
        the names key (2 ms for 30 days of 100k documents); a wider one, or none, reads the
        whole names table once, which is then cheaper than a key look-up per document (and
        with no window and no view, without the documents at all)."""
        total = func.sum(names_table.c.count)
        query = (
            select(names_table.c.name, total.label("n"))
            .group_by(names_table.c.name)
            .having(total >= minimum)
            .order_by(total.desc(), names_table.c.name)
        )
        in_window, documents_in_all = (
            self._window_counts(since, until) if since or until else (0, 0)
        )
        if in_window * 4 < documents_in_all:
            chosen = self._visible(_window(select(documents.c.id), since, until), visible)
            query = query.where(names_table.c.document_id.in_(chosen))
        elif since is not None or until is not None or visible is not None:
            # (With neither window nor view, every name counts: no join, as a name's document
            # always exists, the key cascades; that halves the whole-store read.)
            joined = names_table.join(documents, documents.c.id == names_table.c.document_id)
            query = self._visible(_window(query.select_from(joined), since, until), visible)
        with self.engine.connect() as conn:
            return [(name, int(n)) for name, n in conn.execute(query).all()]

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

    def live_sentences(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        document_ids: Sequence[str] | None = None,
        topic: str | None = None,
        entity_id: str | None = None,
        limit: int | None = None,
        speaker: str | None = None,
        visible: Visibility | None = None,
    ) -> list[SentenceRow]:
        """Live sentences with their analysis, oldest first; with ``limit``, the most salient."""
        query = (
            select(*_ROW_COLUMNS)
            .select_from(sentences.join(documents, documents.c.id == sentences.c.document_id))
            .where(sentences.c.position.is_not(None))
        )
        query = self._visible(_window(query, since, until), visible)
        if document_ids is not None:
            query = query.where(sentences.c.document_id.in_(list(document_ids)))
        if topic is not None:
            if self.postgres:
                # The same test on the bare column, which PostgreSQL has statistics for: on
                # the concatenation it guesses a handful of rows for a topic on one sentence
                # in seven, and sorts every match instead of walking the salience index.
                column = sentences.c.topics
                query = query.where(
                    or_(
                        column == topic,
                        column.startswith(f"{topic},"),
                        column.endswith(f",{topic}"),
                        column.contains(f",{topic},"),
                    )
                )
            else:
                query = query.where(("," + sentences.c.topics + ",").contains(f",{topic},"))
        fetch_then_sort = False
        narrow = (
            limit is not None
            and bool(since or until)
            and document_ids is None
            and self._narrow_window(since, until, limit)
        )
        walk_mentions = (
            entity_id is not None and limit is not None and document_ids is None and not narrow
        )
        if entity_id is not None and walk_mentions:
            # The entity's mentions in salience order (ix_mentions_entity_salience): the
            # best ``limit`` of them are read first, however often the entity is named.
            query = query.join(mentions, mentions.c.sentence_id == sentences.c.id).where(
                mentions.c.entity_id == entity_id
            )
        elif entity_id is not None:
            query = query.where(
                sentences.c.id.in_(
                    select(mentions.c.sentence_id).where(mentions.c.entity_id == entity_id)
                )
            )
        if speaker is not None:
            query = query.where(sentences.c.speaker == speaker)
        if limit is not None and walk_mentions:
            query = query.order_by(mentions.c.salience.desc(), mentions.c.sentence_id.desc())
            query = query.limit(limit)
        elif limit is not None:
            salience: Any = sentences.c.salience
            if narrow:
                # Reading the window's few documents and sorting beats scanning all sentences
                # by salience for them: the IN list leads the planner to the window's
                # documents, and "+ 0" keeps it off the salience index.
                in_window = _window(select(documents.c.id), since, until)
                query = query.where(sentences.c.document_id.in_(in_window))
                fetch_then_sort = True
            if fetch_then_sort:
                salience = salience + literal_column("0")
            query = query.order_by(salience.desc(), documents.c.published_at.desc())
            query = query.limit(limit)
        else:
            query = query.order_by(
                documents.c.published_at, sentences.c.document_id, sentences.c.position
            )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [_row(r) for r in rows]

    def _narrow_window(self, since: datetime | None, until: datetime | None, limit: int) -> bool:
        """Whether a window holds so few documents that reading them all is cheaper.

        Scanning sentences by salience reads about ``limit * N / W`` rows to find ``limit`` in
        a window of W of N documents; reading the window reads about ``W * s`` (s sentences a
        document, ~20). The window wins when ``W * W * 20 < limit * N``.
        """
        in_window, total = self._window_counts(since, until)
        return in_window**2 * 20 < limit * total

    def _window_counts(self, since: datetime | None, until: datetime | None) -> tuple[int, int]:
        """Documents published in a window, and in the whole store."""
        count = select(func.count()).select_from(documents)
        with self.engine.connect() as conn:
            in_window = conn.execute(_window(count, since, until)).scalar_one()
            total = conn.execute(count).scalar_one()
        return int(in_window), int(total)

    def search(
        self,
        query: str,
        limit: int,
        since: datetime | None = None,
        until: datetime | None = None,
        mode: str = "all",
        visible: Visibility | None = None,
    ) -> list[SearchHit]:
        """Live sentences matching ``query``, best first (BM25 on SQLite, ts_rank with length
        normalisation on PostgreSQL; both ranks are "lower is better" in ``hits``)."""
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
            params["since"] = _iso(since)
        if until is not None:
            sql += " AND d.published_at < :until"
            params["until"] = _iso(until)
        if visible is not None:
            # The same condition as FeedStore.visible_filter, in this statement's own SQL.
            sql += (
                " AND (d.origin != 'feed' OR d.id IN (SELECT fe.document_id FROM feed_entries fe"
                " JOIN feeds f ON f.id = fe.feed_id WHERE "
                + ("f.guild_id IS NULL" if visible.guild_id is None else "f.guild_id = :guild")
                + "))"
            )
            if visible.guild_id is not None:
                params["guild"] = visible.guild_id
        sql += " ORDER BY hits.rank, s.document_id, s.position LIMIT :limit"
        with self.engine.connect() as conn:
            rows = conn.execute(text(sql), params).all()
        return [SearchHit(_row(r[:-1]), -float(r[-1])) for r in rows]

    def stats(self, analysis_version: str | None = None) -> StoreStats:
        """Counts of what the store holds; with ``analysis_version``, also how many documents
        that version would analyse (counted, nothing analysed)."""
        awaiting = 0
        with self.engine.connect() as conn:
            if analysis_version is not None:
                awaiting = conn.execute(
                    select(func.count()).select_from(documents).where(_pending(analysis_version))
                ).scalar_one()
            docs = conn.execute(select(func.count()).select_from(documents)).scalar_one()
            live = conn.execute(
                select(func.count()).where(sentences.c.position.is_not(None))
            ).scalar_one()
            retired = conn.execute(
                select(func.count()).where(sentences.c.position.is_(None))
            ).scalar_one()
            by_origin: dict[str, int] = dict(
                conn.execute(
                    select(documents.c.origin, func.count()).group_by(documents.c.origin)
                ).all()
            )
            first, last = conn.execute(
                select(func.min(documents.c.published_at), func.max(documents.c.published_at))
            ).one()
            version = migrations.current_version(conn)
        return StoreStats(
            documents=docs,
            sentences=live,
            retired_sentences=retired,
            by_origin=by_origin,
            first_published=first,
            last_published=last,
            schema_version=version,
            location=self.location,
            awaiting_analysis=awaiting,
        )

    def _visible(self, query: Any, visible: Visibility | None) -> Any:
        """Only documents ``visible`` may see (a query that joins ``documents``)."""
        if visible is None:
            return query
        return query.where(self.feeds.visible_filter(visible.guild_id))

    def close(self) -> None:
        self.engine.dispose()


def _pending(version: str, stale: bool = True) -> ColumnElement[bool]:
    """Documents never analysed, and (``stale``) those analysed by other code or data."""
    never = documents.c.analysis_version.is_(None)
    return or_(never, documents.c.analysis_version != version) if stale else never


_ROW_COLUMNS = (
    sentences.c.document_id,
    sentences.c.idx,
    sentences.c.position,
    sentences.c.text,
    sentences.c.topics,
    sentences.c.speaker,
    sentences.c.speaker_kind,
    sentences.c.direct,
    sentences.c.stance,
    sentences.c.stance_holder,
    sentences.c.date_value,
    sentences.c.date_precision,
    sentences.c.salience,
    documents.c.story_id,
)


def _row(r: Any) -> SentenceRow:
    return SentenceRow(
        document_id=r[0],
        index=r[1],
        position=r[2],
        text=r[3],
        topics=r[4],
        speaker=r[5],
        speaker_kind=r[6],
        direct=bool(r[7]),
        stance=r[8],
        stance_holder=r[9],
        date_value=r[10],
        date_precision=r[11],
        salience=r[12],
        story_id=r[13],
    )


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _window(query: Any, since: datetime | None, until: datetime | None) -> Any:
    if since is not None:
        query = query.where(documents.c.published_at >= since)
    if until is not None:
        query = query.where(documents.c.published_at < until)
    return query


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_read_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """A read-only connection: no journal mode change, which would be a write."""
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# SQLite's primary result codes (the low byte of an extended code) that mean a damaged file,
# and a write refused because the database is read-only.
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26
_SQLITE_READONLY = 8


def _sqlite_code(exc: BaseException | None) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _sqlite_damage(exc: BaseException | None) -> str | None:
    """What is wrong, when a DB-API error says the SQLite file is damaged; else None."""
    if _sqlite_code(exc) in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return str(exc)
    if isinstance(exc, sqlite3.OperationalError) and str(exc).startswith("Could not decode"):
        return "a stored text is not valid UTF-8"  # the message quotes the garbled text
    return None


class _StoreErrors:
    """Turn the database errors that are about the store, not the code, into one clear line:
    a damaged file (or PostgreSQL's data_corrupted), and a write to a store that cannot be
    written (SQLITE_READONLY; PostgreSQL's read_only_sql_transaction, 25006). Until the store
    is open (``opened``), a file SQLite does not recognise is left to ``open_store``: it is
    no store."""

    def __init__(self, location: str, read_only: str | None) -> None:
        self.location = location
        self.read_only = read_only
        self.opened = False

    def __call__(self, context: ExceptionContext) -> None:
        location, read_only = self.location, self.read_only
        error = context.original_exception
        damage = _sqlite_damage(error)
        if damage is not None and (self.opened or _sqlite_code(error) != _SQLITE_NOTADB):
            log.debug("store %s is damaged", location, exc_info=error)
            raise StoreDamaged(
                f"the store {location} is damaged ({damage}); restore it from a backup "
                "(see docs/operations.md)"
            )
        if getattr(error, "sqlstate", None) in ("XX001", "XX002"):
            log.debug("store %s is damaged", location, exc_info=error)
            raise StoreDamaged(
                f"the store {location} is damaged ({_first_line(error)}); restore it from a "
                "backup (see docs/scaling.md)"
            )
        if _sqlite_code(error) == _SQLITE_READONLY or getattr(error, "sqlstate", "") == "25006":
            why = f" ({read_only})" if read_only else ""
            raise StoreReadOnly(
                f"the store {location} is read-only{why}; this command must write to it"
            )


def _server_read_only(conn: Connection) -> bool:
    return bool(conn.execute(text("SHOW transaction_read_only")).scalar_one() == "on")


def _first_line(error: BaseException) -> str:
    return next((line.strip() for line in str(error).splitlines() if line.strip()), "")


def _read_only_reason(path: Path) -> str | None:
    """Why an existing store file cannot be written here, or None. ``os.access`` asks the
    kernel, so it knows a read-only mount (EROFS) even for root, whom modes do not stop."""
    if not path.is_file():
        return None
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return "it is on a read-only file system"
    except OSError:
        pass
    if not os.access(path, os.W_OK):
        return "the file is not writable"
    if not os.access(path.parent, os.W_OK):
        # WAL mode keeps -wal and -shm files beside the store: their folder must be writable.
        return f"its folder {path.parent} is not writable"
    return None


def _read_only_url(path: Path, setting: str, why: str) -> URL:
    """A URI filename SQLite opens without writing (``mode=ro``).

    Reading a WAL store takes its -wal and -shm files: when they are missing and cannot be
    made beside it, the store is opened ``immutable`` (no -shm, no locks), which is right for
    a read-only mount, and refused when a -wal file holds writes not yet in the store.
    """
    query = {"mode": "ro", "uri": "true"}
    wal = path.with_name(path.name + "-wal")
    shm = path.with_name(path.name + "-shm")
    if not (wal.exists() and shm.exists()) and not os.access(path.parent, os.W_OK):
        if wal.exists() and wal.stat().st_size:
            raise SettingsError(
                f"{setting}: the store {path} is read-only ({why}) and its write-ahead log "
                f"{wal} holds writes not yet in it; open it once where it can be written"
            )
        query["immutable"] = "1"
    return URL.create("sqlite", database="file:" + quote(str(path)), query=query)


def default_database_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'briefbot.sqlite3'}"


_URL_FORMS = "sqlite:///path/briefbot.sqlite3 or postgresql+psycopg://user@host/database"


def open_store(
    url: str, setting: str = "database URL", pool: dialect.PoolOptions | None = None
) -> SqlStore:
    """Open (and migrate) the store at ``url``; ``setting`` names where the URL came from.
    ``pool`` sizes the connection pool of a PostgreSQL store."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise SettingsError(
            f"{setting}: malformed database URL {url!r} (expected e.g. {_URL_FORMS})"
        ) from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return _open_postgres(parsed, setting, pool or dialect.PoolOptions())
    if backend != "sqlite":
        raise SettingsError(
            f"{setting}: unsupported database {backend!r} in {url!r}; "
            f"briefbot stores data in SQLite or PostgreSQL ({_URL_FORMS})"
        )
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SettingsError(
                f"{setting}: cannot create the folder {path.parent} ({exc.strerror})"
            ) from None
        location = str(path)
        read_only = _read_only_reason(path)
    else:
        location = database or ":memory:"
        ro = parsed.query.get("mode") == "ro" or parsed.query.get("immutable") == "1"
        read_only = "the database URL opens it read-only" if ro else None
    if read_only is None or database.startswith("file:"):
        return _open_sqlite(parsed, setting, location, read_only)
    return _open_sqlite(_read_only_url(path, setting, read_only), setting, location, read_only)


def _open_sqlite(url: URL, setting: str, location: str, read_only: str | None) -> SqlStore:
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_read_pragmas if read_only else _sqlite_pragmas)
    errors = _StoreErrors(location, read_only)
    event.listen(engine, "handle_error", errors)
    try:
        store = SqlStore(engine, location, read_only)
        errors.opened = True
        return store
    except DatabaseError as exc:
        engine.dispose()
        raise SettingsError(
            f"{setting}: cannot open the database {location} ({exc.orig}); "
            "is it a briefbot SQLite store?"
        ) from None
    except SettingsError as exc:
        engine.dispose()
        raise SettingsError(f"{setting}: {location}: {exc}") from None
    except BriefbotError:
        engine.dispose()
        raise


def _open_postgres(parsed: URL, setting: str, pool: dialect.PoolOptions) -> SqlStore:
    """A pooled engine on PostgreSQL through psycopg 3 (``postgresql://`` and
    ``postgres://`` mean it too), checked and migrated before use."""
    if parsed.get_driver_name() not in ("psycopg", "postgresql", "postgres", ""):
        raise SettingsError(
            f"{setting}: PostgreSQL driver {parsed.get_driver_name()!r} is not supported; "
            "use postgresql+psycopg://user@host/database"
        )
    parsed = parsed.set(drivername="postgresql+psycopg")
    location = parsed.render_as_string(hide_password=True)
    try:
        import psycopg  # noqa: F401  (only to say what to install when it is missing)
    except ImportError:
        raise SettingsError(
            f"{setting}: {location} needs the PostgreSQL driver: pip install 'briefbot[postgres]'"
        ) from None
    query = dict(parsed.query)
    query.setdefault("connect_timeout", "10")
    query.setdefault("application_name", "briefbot")
    engine = create_engine(
        parsed.set(query=query),
        pool_size=pool.pool_size,
        max_overflow=pool.max_overflow,
        pool_timeout=pool.pool_timeout,
        pool_recycle=pool.pool_recycle,
        # A connection the server or a proxy dropped while idle is replaced, not an error.
        pool_pre_ping=True,
    )
    errors = _StoreErrors(location, None)
    event.listen(engine, "handle_error", errors)
    try:
        store = SqlStore(engine, location)
        errors.read_only = store.read_only
        errors.opened = True
        return store
    except DatabaseError as exc:
        engine.dispose()
        reason = "; ".join(line.strip() for line in str(exc.orig).splitlines() if line.strip())
        raise SettingsError(f"{setting}: cannot open the database {location} ({reason})") from None
    except SettingsError as exc:
        engine.dispose()
        raise SettingsError(f"{setting}: {location}: {exc}") from None
