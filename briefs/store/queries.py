"""SQL pieces every repository of the store shares: a publication window, a scope's view of
the corpus, a sentence row with its analysis, batches of ids, executemany at driver speed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.engine import Connection

from briefs.store.base import SentenceRow, Visibility
from briefs.store.schema import documents, feed_entries, feeds, sentences


def in_scope(column: Any, scope_id: str | None) -> ColumnElement[bool]:
    """``column`` names ``scope_id``'s scope (NULL is the command line's)."""
    return column.is_(None) if scope_id is None else column == scope_id  # type: ignore[no-any-return]


def scope_documents(scope_id: str | None) -> Any:
    """Ids of the documents a scope's feeds brought (removed feeds included)."""
    return (
        select(feed_entries.c.document_id)
        .join(feeds, feeds.c.id == feed_entries.c.feed_id)
        .where(in_scope(feeds.c.scope_id, scope_id))
    )


def visible_filter(scope_id: str | None) -> ColumnElement[bool]:
    """An SQL condition on ``documents`` for what a scope may see: seeds and files are
    everyone's; a feed document only for scopes one of whose feeds brought it (a removed
    feed still counts: the scope has seen those items)."""
    return or_(documents.c.origin != "feed", documents.c.id.in_(scope_documents(scope_id)))


def only_visible(query: Any, view: Visibility | None) -> Any:
    """Only documents ``view`` may see (a query that joins ``documents``)."""
    if view is None:
        return query
    return query.where(visible_filter(view.scope_id))


def window(query: Any, since: datetime | None, until: datetime | None) -> Any:
    """Only documents published in [since, until)."""
    if since is not None:
        query = query.where(documents.c.published_at >= since)
    if until is not None:
        query = query.where(documents.c.published_at < until)
    return query


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


def chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    """Lists of at most ``size``: IN lists stay within every backend's parameter limit."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


ROW_COLUMNS = (
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


def sentence_row(r: Any) -> SentenceRow:
    """A row of ``ROW_COLUMNS`` (or the same columns by position) as a ``SentenceRow``."""
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


class DriverMany:
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
