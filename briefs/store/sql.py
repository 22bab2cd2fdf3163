"""The SQL store: SQLAlchemy Core over an SQLite file (FTS5 for full-text search) or a
PostgreSQL database (a tsvector column with a GIN index), chosen by the database URL
(``briefs.store.connect``). It is one repository per kind of persistence over one engine,
and what spans them: the schema migrated on opening, counts, bookkeeping."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, Engine

from briefs.errors import StoreReadOnly
from briefs.store import dialect, migrations
from briefs.store.analysis import SqlAnalysis, pending_condition
from briefs.store.base import StoreStats
from briefs.store.documents import SqlDocuments
from briefs.store.schema import documents, meta, sentences
from briefs.store.search import SqlSearch

if TYPE_CHECKING:
    from briefs.store.feeds import FeedStore
    from briefs.store.schedules import ScheduleStore


class SqlStore:
    """The store over one SQLAlchemy engine: ``documents``, ``analysis``, ``search``,
    ``feeds`` and ``schedules``, each a repository its callers reach by name."""

    def __init__(self, engine: Engine, location: str, read_only: str | None = None) -> None:
        self.engine = engine
        self.location = location
        # Why the store cannot be written (opened read-only), or None: then nothing is
        # migrated, seeded or analysed, and a command that must write is refused.
        self.read_only = read_only
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
        self.documents = SqlDocuments(engine)
        self.analysis = SqlAnalysis(engine)
        self.search = SqlSearch(engine)

    # Feeds and schedules are opened on first use: a brief from files never imports them.
    @cached_property
    def feeds(self) -> FeedStore:
        from briefs.store.feeds import FeedStore

        return FeedStore(self.engine)

    @cached_property
    def schedules(self) -> ScheduleStore:
        from briefs.store.schedules import ScheduleStore

        return ScheduleStore(self.engine)

    def get_meta(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(meta.c.value).where(meta.c.key == key)).first()
        return row.value if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(meta.delete().where(meta.c.key == key))
            conn.execute(meta.insert().values(key=key, value=value))

    def stats(self, analysis_version: str | None = None) -> StoreStats:
        """Counts of what the store holds; with ``analysis_version``, also how many documents
        that version would analyse (counted, nothing analysed)."""
        awaiting = 0
        with self.engine.connect() as conn:
            if analysis_version is not None:
                awaiting = conn.execute(
                    select(func.count())
                    .select_from(documents)
                    .where(pending_condition(analysis_version))
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

    def close(self) -> None:
        self.engine.dispose()


def _server_read_only(conn: Connection) -> bool:
    return bool(conn.execute(text("SHOW transaction_read_only")).scalar_one() == "on")
