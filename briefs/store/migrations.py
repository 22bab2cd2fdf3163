"""Schema migrations, applied in order when a store opens.

Each step is explicit DDL kept forever (never rewritten), so a store of any age reaches the
current version the same way. The version lives in the ``meta`` table.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import Connection

from briefs.errors import SettingsError

Step = Callable[[Connection], None]


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
        # Full-text index of live sentences; rowid = sentences.id.
        "CREATE VIRTUAL TABLE sentences_fts USING fts5(text, tokenize='porter unicode61')",
    ]
    for statement in statements:
        conn.execute(text(statement))


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
    for statement in statements:
        conn.execute(text(statement))


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
    for statement in statements:
        conn.execute(text(statement))


MIGRATIONS: list[Step] = [_v1, _v2_analysis, _v3_feeds]
LATEST = len(MIGRATIONS)


def current_version(conn: Connection) -> int:
    exists = conn.execute(
        text("SELECT name FROM sqlite_master WHERE type='table' AND name='meta'")
    ).first()
    if not exists:
        return 0
    row = conn.execute(text("SELECT value FROM meta WHERE key='schema_version'")).first()
    return int(row[0]) if row else 0


def migrate(conn: Connection) -> int:
    """Bring the schema to LATEST inside the caller's transaction; return the old version."""
    version = current_version(conn)
    if version > LATEST:
        raise SettingsError(
            f"the store has schema version {version}, newer than this briefbot ({LATEST}); "
            "upgrade briefbot"
        )
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
