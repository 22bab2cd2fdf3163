"""Analysis persistence: what analysis derives from documents (facts per sentence, entity
mentions, resolved dates, new names, signatures, stories), written a batch at a time, and
the reads every brief makes of it. It stores what it is handed (``AnalysedDocument``); it
never analyses."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Select

from briefs.store import dialect
from briefs.store.base import AnalysedDocument, AnalysisInput, EventRow, SentenceRow, Visibility
from briefs.store.queries import (
    ROW_COLUMNS,
    DriverMany,
    chunks,
    only_visible,
    sentence_row,
    window,
)
from briefs.store.schema import date_mentions, documents, mentions, sentences
from briefs.store.schema import names as names_table

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
# Live sentences past those analysed ([analysis] max_sentences) keep no facts.
_CLEAR_PAST_ANALYSED = (
    sentences.update()
    .where(
        and_(
            sentences.c.document_id == bindparam("doc"),
            sentences.c.position >= bindparam("analysed"),
        )
    )
    .values({c: None for c in _FACT_COLUMNS})
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
_SET_STORY = (
    documents.update()
    .where(documents.c.id == bindparam("doc"))
    .values(story_id=bindparam("story"), duplicate_of=bindparam("dup"))
)


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


class _Writes:
    """The analysis statements, run by the driver's ``executemany`` (compiled once per
    repository: nothing is kept at module level)."""

    def __init__(self) -> None:
        self.clear_past_analysed = DriverMany(_CLEAR_PAST_ANALYSED)
        self.set_facts = DriverMany(_SET_FACTS)
        self.insert_mention = DriverMany(_INSERT_MENTION)
        self.insert_date = DriverMany(_INSERT_DATE)
        self.insert_name = DriverMany(_INSERT_NAME)
        self.set_analysed = DriverMany(_SET_ANALYSED)
        self.set_story = DriverMany(_SET_STORY)


def _event_rows(
    conn: Connection, doc_ids: Sequence[str], head: int, lead_sentences: int
) -> dict[str, EventRow]:
    out: dict[str, EventRow] = {}
    for chunk in chunks(list(doc_ids)):
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
                documents.c.publisher,
            ).where(documents.c.id.in_(chunk))
        )
        for row in rows:
            out[row.id] = EventRow(
                row.title or "",
                row.head or "",
                row.published_at,
                tuple(sorted(entities.get(row.id, ()))),
                tuple(sorted(dates.get(row.id, ()))),
                row.publisher,
            )
    return out


class SqlStoryBatch:
    """One transaction of story assignment: the batch's rows locked (in id order, as
    ``SqlAnalysis.save`` locks them) and read by one statement, then per document its
    neighbours read and its story set. The neighbours of a later document include the
    stories set earlier in the batch.

    Statements are per window, not per document: the documents of a window are read once
    (with the batch's own documents whatever their story, and enough spare rows for those
    to be left out), then each document's neighbours are filtered from them with the
    stories set so far; the stories are written by one statement when the batch ends.
    """

    def __init__(self, engine: Engine, doc_ids: Sequence[str], set_story: DriverMany) -> None:
        self._engine = engine
        self._doc_ids = list(doc_ids)
        self._set_story = set_story
        self._conn: Connection | None = None
        self._inputs: dict[str, tuple[datetime | None, str | None]] = {}
        # Signature JSON of the documents read so far (the batch's and its windows').
        self._signatures: dict[str, str] = {}
        # (start, end, limit): the window's rows (id, story when read), and whether all.
        self._windows: dict[tuple[datetime, datetime, int], tuple[list[tuple[str, Any]], bool]]
        self._windows = {}
        self._stories: dict[str, tuple[str, str | None]] = {}

    def __enter__(self) -> SqlStoryBatch:
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
                self._set_story.run(
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
        assert self._conn is not None, "use a story batch in a with statement"
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
        found = self._windows.get(key)
        if found is None:
            # Rows left out below are the batch's own (itself, or no story yet): at most
            # all of it, so this many rows always hold the first ``limit`` of the others.
            spare = limit + len(self._doc_ids)
            rows = self.conn.execute(
                _NEIGHBOURS[self._engine.dialect.name],
                {"batch": self._doc_ids, "start": start, "end": end, "limit": spare},
            ).all()
            for r in rows:
                self._signatures[r.id] = r.signature
            found = self._windows[key] = ([(r.id, r.story_id) for r in rows], len(rows) < spare)
        out: list[tuple[str, str]] = []
        stories = self._stories
        for other, story in found[0]:
            if other in stories:
                story = stories[other][0]
            if story is not None and other != doc_id:
                out.append((other, story))
                if len(out) == limit:
                    break
        assert len(out) == limit or found[1], "a window read too few rows"
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
        """A document's clean body (story assignment compares bodies, not sentences)."""
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


def pending_condition(version: str, stale: bool = True) -> ColumnElement[bool]:
    """Documents never analysed, and (``stale``) those analysed by other code or data."""
    never = documents.c.analysis_version.is_(None)
    return or_(never, documents.c.analysis_version != version) if stale else never


class SqlAnalysis:
    """Analysis results over the store's engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == dialect.POSTGRES
        self._writes = _Writes()

    # -- writing -------------------------------------------------------------------------

    def pending(self, version: str, stale: bool = True) -> list[str]:
        """Documents never analysed, and (``stale``) those analysed by other code or domain
        data; oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(documents.c.id)
                .where(pending_condition(version, stale))
                .order_by(documents.c.published_at, documents.c.id)
            ).all()
        return [r.id for r in rows]

    def inputs(
        self, doc_ids: Sequence[str], max_sentences: int | None = None
    ) -> list[AnalysisInput]:
        """What analysing each document needs, in their order, read by two statements: its
        first ``max_sentences`` live sentences (all when None), and where the analysed text
        ends when there are more."""
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

    def save(self, version: str, analysed: Sequence[AnalysedDocument]) -> None:
        """Replace the analysis of several documents in one transaction: each kind of row is
        deleted, updated or inserted by one statement for all of them, not one per document."""
        if not analysed:
            return
        doc_ids = [a.document_id for a in analysed]
        writes = self._writes
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
            writes.clear_past_analysed.run(
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
                writes.set_facts.run(conn, updates)
            if mention_rows:
                writes.insert_mention.run(conn, mention_rows)
            if date_rows:
                writes.insert_date.run(conn, date_rows)
            if name_rows:
                writes.insert_name.run(conn, name_rows)
            writes.set_analysed.run(
                conn,
                [
                    {"doc": a.document_id, "v": version, "sig": json.dumps(a.signature)}
                    for a in analysed
                ],
            )

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

    def titles(self, limit: int) -> list[tuple[str, str | None]]:
        """(title, publisher) of the most recent ``limit`` analysed documents: the series
        titles a feed repeats (briefs/analysis/events.py, ``series_affixes``)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(documents.c.title, documents.c.publisher)
                .where(documents.c.signature.is_not(None))
                .order_by(documents.c.published_at.desc(), documents.c.id)
                .limit(limit)
            ).all()
        return [(str(r.title or ""), r.publisher) for r in rows]

    def story_batch(self, doc_ids: Sequence[str]) -> SqlStoryBatch:
        """A transaction in which stories are found and set for ``doc_ids`` (use ``with``)."""
        return SqlStoryBatch(self.engine, doc_ids, self._writes.set_story)

    # -- reading -------------------------------------------------------------------------

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
            select(*ROW_COLUMNS)
            .select_from(sentences.join(documents, documents.c.id == sentences.c.document_id))
            .where(sentences.c.position.is_not(None))
        )
        query = only_visible(window(query, since, until), visible)
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
                in_window = window(select(documents.c.id), since, until)
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
        return [sentence_row(r) for r in rows]

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
            in_window = conn.execute(window(count, since, until)).scalar_one()
            total = conn.execute(count).scalar_one()
        return int(in_window), int(total)

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
        query = only_visible(query, visible)
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
            chosen = only_visible(window(select(documents.c.id), since, until), visible)
            query = query.where(names_table.c.document_id.in_(chosen))
        elif since is not None or until is not None or visible is not None:
            # (With neither window nor view, every name counts: no join, as a name's document
            # always exists, the key cascades; that halves the whole-store read.)
            joined = names_table.join(documents, documents.c.id == names_table.c.document_id)
            query = only_visible(window(query.select_from(joined), since, until), visible)
        with self.engine.connect() as conn:
            return [(name, int(n)) for name, n in conn.execute(query).all()]

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
