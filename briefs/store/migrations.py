"""Schema migrations, applied in order when a store opens.

Each step is explicit DDL kept forever (never rewritten), so a store of any age reaches the
current version the same way. The version lives in the ``meta`` table. Statements are
written in SQLite's words and run through ``dialect.ddl``, which translates them for
PostgreSQL; the full-text index is the one real difference (FTS5 or a ``tsvector`` column).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import Connection

from briefs.errors import SettingsError, StoreDamaged, StoreReadOnly
from briefs.store import dialect

Step = Callable[[Connection], None]
# Key of the PostgreSQL advisory lock held while migrating ("briefbot" in ASCII, as a number).
_MIGRATION_LOCK = 0x6272696566626F74


def _v1(conn: Connection) -> None:
    statements = [
        """CREATE TABLE documents (
            id VARCHAR(32) PRIMARY KEY,
            origin VARCHAR(16) NOT NULL,
            source_key TEXT NOT NULL UNIQUE,
            url TEXT,
            title TEXT NOT NULL,
            publisher TEXT,
            byline TEXT,
            published_at VARCHAR(32),
            published_precision VARCHAR(16) NOT NULL,
            fetched_at VARCHAR(32) NOT NULL,
            updated_at VARCHAR(32) NOT NULL,
            body TEXT NOT NULL,
            body_hash VARCHAR(64) NOT NULL,
            content_hash VARCHAR(64) NOT NULL,
            provenance TEXT NOT NULL,
            story_id VARCHAR(32)
        )""",
        "CREATE INDEX ix_documents_published ON documents (published_at)",
        "CREATE INDEX ix_documents_body_hash ON documents (body_hash)",
        """CREATE TABLE sentences (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            document_id VARCHAR(32) NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            position INTEGER,
            text TEXT NOT NULL,
            span_start INTEGER NOT NULL,
            span_end INTEGER NOT NULL,
            UNIQUE (document_id, idx)
        )""",
        "CREATE INDEX ix_sentences_position ON sentences (document_id, position)",
    ]
    if dialect.is_postgres(conn):
        # The full-text index is a column computed by PostgreSQL itself for live sentences
        # (a retired one has no position, so no vector), with a GIN index; the view keeps
        # the name and shape of SQLite's FTS table for whoever looks (rowid = sentences.id).
        statements += [
            "ALTER TABLE sentences ADD COLUMN tsv tsvector GENERATED ALWAYS AS (CASE WHEN "
            f"position IS NULL THEN NULL ELSE to_tsvector('{dialect.TS_CONFIG}', text) END) "
            "STORED",
            "CREATE INDEX ix_sentences_tsv ON sentences USING GIN (tsv)",
            "CREATE VIEW sentences_fts AS "
            "SELECT id AS rowid, text FROM sentences WHERE position IS NOT NULL",
        ]
    else:
        # Full-text index of live sentences; rowid = sentences.id.
        statements.append(
            "CREATE VIRTUAL TABLE sentences_fts USING fts5(text, tokenize='porter unicode61')"
        )
    dialect.ddl(conn, *statements)


def _v2_analysis(conn: Connection) -> None:
    """Analysis results: per-sentence facts, entity mentions, dates, names, story signatures."""
    statements = [
        "ALTER TABLE documents ADD COLUMN analysis_version VARCHAR(64)",
        "ALTER TABLE documents ADD COLUMN signature TEXT",
        "ALTER TABLE documents ADD COLUMN duplicate_of VARCHAR(32)",
        "CREATE INDEX ix_documents_story ON documents (story_id)",
        "ALTER TABLE sentences ADD COLUMN topics TEXT",
        "ALTER TABLE sentences ADD COLUMN speaker TEXT",
        "ALTER TABLE sentences ADD COLUMN speaker_kind VARCHAR(16)",
        "ALTER TABLE sentences ADD COLUMN direct INTEGER",
        "ALTER TABLE sentences ADD COLUMN stance VARCHAR(16)",
        "ALTER TABLE sentences ADD COLUMN stance_holder TEXT",
        "ALTER TABLE sentences ADD COLUMN date_value VARCHAR(10)",
        "ALTER TABLE sentences ADD COLUMN date_precision VARCHAR(8)",
        "ALTER TABLE sentences ADD COLUMN salience REAL",
        "CREATE INDEX ix_sentences_salience ON sentences (salience)",
        """CREATE TABLE mentions (
            sentence_id INTEGER NOT NULL REFERENCES sentences (id) ON DELETE CASCADE,
            entity_id VARCHAR(64) NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (sentence_id, entity_id)
        )""",
        "CREATE INDEX ix_mentions_entity ON mentions (entity_id)",
        """CREATE TABLE date_mentions (
            sentence_id INTEGER NOT NULL REFERENCES sentences (id) ON DELETE CASCADE,
            start INTEGER NOT NULL,
            expression TEXT NOT NULL,
            value VARCHAR(10) NOT NULL,
            precision VARCHAR(8) NOT NULL,
            PRIMARY KEY (sentence_id, start)
        )""",
        "CREATE INDEX ix_date_mentions_value ON date_mentions (value)",
        """CREATE TABLE names (
            document_id VARCHAR(32) NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (document_id, name)
        )""",
    ]
    dialect.ddl(conn, *statements)


def _v3_feeds(conn: Connection) -> None:
    """Feeds (each belongs to one guild; NULL = the command line), subscriptions, and the
    entries each feed brought, linked to the documents that hold them."""
    statements = [
        """CREATE TABLE feeds (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            guild_id VARCHAR(32),
            url TEXT NOT NULL,
            canonical_url TEXT NOT NULL,
            title TEXT,
            etag TEXT,
            last_modified TEXT,
            added_at VARCHAR(32) NOT NULL,
            last_fetched_at VARCHAR(32),
            last_status INTEGER,
            last_error_type VARCHAR(32),
            last_error TEXT,
            failures INTEGER NOT NULL DEFAULT 0,
            next_poll_at VARCHAR(32),
            enabled INTEGER NOT NULL DEFAULT 1,
            disabled_reason TEXT,
            full_text INTEGER NOT NULL DEFAULT 0,
            removed_at VARCHAR(32)
        )""",
        # One row per feed and guild; NULL guilds compare equal through COALESCE.
        "CREATE UNIQUE INDEX ux_feeds_guild_url ON feeds (COALESCE(guild_id, ''), canonical_url)",
        "CREATE INDEX ix_feeds_due ON feeds (enabled, next_poll_at)",
        """CREATE TABLE subscriptions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            feed_id INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
            guild_id VARCHAR(32),
            channel_id VARCHAR(32) NOT NULL,
            include_terms TEXT,
            exclude_terms TEXT,
            created_at VARCHAR(32) NOT NULL,
            UNIQUE (feed_id, channel_id)
        )""",
        """CREATE TABLE feed_entries (
            feed_id INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
            entry_id TEXT NOT NULL,
            document_id VARCHAR(32) NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
            entry_hash VARCHAR(64) NOT NULL,
            first_seen_at VARCHAR(32) NOT NULL,
            new INTEGER NOT NULL,
            PRIMARY KEY (feed_id, entry_id)
        )""",
        "CREATE INDEX ix_feed_entries_document ON feed_entries (document_id)",
        "CREATE INDEX ix_feed_entries_new ON feed_entries (feed_id, new, first_seen_at)",
    ]
    dialect.ddl(conn, *statements)


def _v4_schedules(conn: Connection) -> None:
    """Digest schedules and the delivery ledger. The tables are a frozen copy made here (not
    schema.py's, which may change later), created by SQLAlchemy in each backend's own words
    (identity keys, expression index), so the step stays the same forever on both."""
    from sqlalchemy import (
        Column,
        ForeignKey,
        Index,
        Integer,
        MetaData,
        String,
        Table,
        Text,
        UniqueConstraint,
        func,
    )

    frozen = MetaData()
    stamp = String(32)  # UTC ISO 8601 text, like every time in the store
    schedules = Table(
        "schedules",
        frozen,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("guild_id", String(32)),
        Column("target", String(80), nullable=False),
        Column("channel_id", String(32)),
        Column("webhook_url", Text),
        Column("kind", String(16), nullable=False),
        Column("weekday", Integer),
        Column("local_time", String(5), nullable=False),
        Column("timezone", String(64), nullable=False),
        Column("topics", Text),
        Column("entities", Text),
        Column("enabled", Integer, nullable=False),
        Column("disabled_reason", Text),
        Column("disabled_at", stamp),
        Column("active_since", stamp, nullable=False),
        Column("created_at", stamp, nullable=False),
        Column("updated_at", stamp, nullable=False),
    )
    Index(
        "ux_schedules_target",
        func.coalesce(schedules.c.guild_id, ""),
        schedules.c.target,
        unique=True,
    )
    deliveries = Table(
        "deliveries",
        frozen,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column(
            "schedule_id", Integer, ForeignKey("schedules.id", ondelete="CASCADE"), nullable=False
        ),
        Column("window_start", stamp),
        Column("window_end", stamp, nullable=False),
        Column("status", String(16), nullable=False),
        Column("claimed_at", stamp, nullable=False),
        Column("claimed_by", String(64), nullable=False),
        Column("finished_at", stamp),
        Column("message_ids", Text),
        Column("items", Integer),
        Column("error", Text),
        UniqueConstraint("schedule_id", "window_end", name="ux_deliveries_window"),
    )
    Index("ix_deliveries_status", deliveries.c.status, deliveries.c.claimed_at)
    frozen.create_all(conn)


def _v5_feed_leases(conn: Connection) -> None:
    """Feed-poll leases: the process polling a feed and until when; a lease that ran out
    (its process died) lets another process take the feed over."""
    dialect.ddl(
        conn,
        "ALTER TABLE feeds ADD COLUMN lease_owner VARCHAR(64)",
        "ALTER TABLE feeds ADD COLUMN lease_until VARCHAR(32)",
    )


def _v6_fetched_index(conn: Connection) -> None:
    """Digest windows select files and seeds by when they were fetched: an index, so a
    window scan stays small however many documents the store holds."""
    dialect.ddl(conn, "CREATE INDEX ix_documents_fetched ON documents (fetched_at)")


def _v7_mention_salience(conn: Connection) -> None:
    """Each mention carries its sentence's salience, indexed after the entity: an entity's
    most salient sentences are one index range, however often the corpus names it (fetching
    every mention and sorting grew with the entity: 0.8 s for 91,000 mentions in 100k
    documents on PostgreSQL). Copies the salience of the sentences already analysed."""
    dialect.ddl(
        conn,
        "ALTER TABLE mentions ADD COLUMN salience REAL",
        "UPDATE mentions SET salience = "
        "(SELECT salience FROM sentences WHERE sentences.id = mentions.sentence_id)",
        "CREATE INDEX ix_mentions_entity_salience ON mentions (entity_id, salience, sentence_id)",
        "DROP INDEX ix_mentions_entity",
    )


def _v8_scopes(conn: Connection) -> None:
    """Feeds, subscriptions and schedules belong to a scope, of which a Discord server is one
    kind: the column says so (its values, and the indexes over it, are unchanged)."""
    dialect.ddl(
        conn,
        "ALTER TABLE feeds RENAME COLUMN guild_id TO scope_id",
        "ALTER TABLE subscriptions RENAME COLUMN guild_id TO scope_id",
        "ALTER TABLE schedules RENAME COLUMN guild_id TO scope_id",
    )


def _v9_undated_placed(conn: Connection) -> None:
    """A document that printed no date is placed by when it was fetched (precision
    ``fetched``), as ingest now stores it: it belongs to the window and story it arrived in."""
    dialect.ddl(
        conn,
        "UPDATE documents SET published_at = fetched_at, published_precision = 'fetched' "
        "WHERE published_at IS NULL",
    )


MIGRATIONS: list[Step] = [
    _v1,
    _v2_analysis,
    _v3_feeds,
    _v4_schedules,
    _v5_feed_leases,
    _v6_fetched_index,
    _v7_mention_salience,
    _v8_scopes,
    _v9_undated_placed,
]
LATEST = len(MIGRATIONS)


def current_version(conn: Connection) -> int:
    if not conn.dialect.has_table(conn, "meta"):
        return 0
    row = conn.execute(text("SELECT value FROM meta WHERE key='schema_version'")).first()
    if row is None:
        return 0
    value = str(row[0]).strip()
    # ASCII digits only: anything else is damage (or an edit by hand), never a version.
    if not (value.isascii() and value.isdigit()):
        raise StoreDamaged(
            f"the store's schema_version is {str(row[0])!r}, not a number: the store is "
            "damaged or was edited by hand; restore it from a backup"
        )
    return int(value)


def _not_newer(version: int) -> int:
    """``version``, unless this briefbot is too old for the store: one message for both paths."""
    if version > LATEST:
        raise SettingsError(
            f"the store has schema version {version}, newer than this briefbot ({LATEST}); "
            "upgrade briefbot"
        )
    return version


def check_current(conn: Connection) -> int:
    """For a store that cannot be written: its version, which must be LATEST (a newer one
    needs a newer briefbot, an older one an upgrade, which writes). Writes nothing."""
    version = _not_newer(current_version(conn))
    if version == 0:
        raise StoreReadOnly("it holds no briefbot store, and a new one cannot be made there")
    if version < LATEST:
        raise StoreReadOnly(
            f"it has schema version {version}, older than this briefbot ({LATEST}); open it "
            "once where it can be written, to upgrade it"
        )
    return version


def migrate(conn: Connection) -> int:
    """Bring the schema to LATEST inside the caller's transaction; return the old version."""
    if dialect.is_postgres(conn):
        # Several processes may open one PostgreSQL store at once: one migrates, the others
        # wait for its transaction and then find the schema current.
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    version = _not_newer(current_version(conn))
    if version == 0:
        conn.execute(text("CREATE TABLE meta (key VARCHAR(64) PRIMARY KEY, value TEXT NOT NULL)"))
    for step in MIGRATIONS[version:]:
        step(conn)
    if version != LATEST:
        conn.execute(
            text(
                "INSERT INTO meta (key, value) VALUES ('schema_version', :v) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            ),
            {"v": str(LATEST)},
        )
    return version
