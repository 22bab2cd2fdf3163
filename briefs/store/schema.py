"""Table definitions for queries (SQLAlchemy Core). DDL lives in migrations.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Float,
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
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes stored as ISO 8601 text, so every backend sorts them alike."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        return value.astimezone(UTC).isoformat(timespec="seconds")

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

documents = Table(
    "documents",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("origin", String(16), nullable=False),
    Column("source_key", Text, nullable=False, unique=True),
    Column("url", Text),
    Column("title", Text, nullable=False),
    Column("publisher", Text),
    Column("byline", Text),
    Column("published_at", UTCDateTime),
    Column("published_precision", String(16), nullable=False),
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("body", Text, nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("provenance", Text, nullable=False),
    Column("story_id", String(32)),
    Column("analysis_version", String(64)),
    Column("signature", Text),
    Column("duplicate_of", String(32)),
)

sentences = Table(
    "sentences",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("document_id", String(32), nullable=False),
    Column("idx", Integer, nullable=False),
    Column("position", Integer),
    Column("text", Text, nullable=False),
    Column("span_start", Integer, nullable=False),
    Column("span_end", Integer, nullable=False),
    Column("topics", Text),
    Column("speaker", Text),
    Column("speaker_kind", String(16)),
    Column("direct", Integer),
    Column("stance", String(16)),
    Column("stance_holder", Text),
    Column("date_value", String(10)),
    Column("date_precision", String(8)),
    Column("salience", Float),
)

mentions = Table(
    "mentions",
    metadata,
    Column("sentence_id", Integer, primary_key=True),
    Column("entity_id", String(64), primary_key=True),
    Column("count", Integer, nullable=False),
    # The sentence's salience, copied: an entity's best sentences by one index range.
    Column("salience", Float),
)

date_mentions = Table(
    "date_mentions",
    metadata,
    Column("sentence_id", Integer, primary_key=True),
    Column("start", Integer, primary_key=True),
    Column("expression", Text, nullable=False),
    Column("value", String(10), nullable=False),
    Column("precision", String(8), nullable=False),
)

feeds = Table(
    "feeds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scope_id", String(32)),
    Column("url", Text, nullable=False),
    Column("canonical_url", Text, nullable=False),
    Column("title", Text),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("added_at", UTCDateTime, nullable=False),
    Column("last_fetched_at", UTCDateTime),
    Column("last_status", Integer),
    Column("last_error_type", String(32)),
    Column("last_error", Text),
    Column("failures", Integer, nullable=False),
    Column("next_poll_at", UTCDateTime),
    Column("enabled", Integer, nullable=False),
    Column("disabled_reason", Text),
    Column("full_text", Integer, nullable=False),
    Column("removed_at", UTCDateTime),
    # Feed-poll lease: which process polls the feed now, and until when (FeedStore.claim_due).
    Column("lease_owner", String(64)),
    Column("lease_until", UTCDateTime),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("feed_id", Integer, nullable=False),
    Column("scope_id", String(32)),
    Column("channel_id", String(32), nullable=False),
    Column("include_terms", Text),
    Column("exclude_terms", Text),
    Column("created_at", UTCDateTime, nullable=False),
)

feed_entries = Table(
    "feed_entries",
    metadata,
    Column("feed_id", Integer, primary_key=True),
    Column("entry_id", Text, primary_key=True),
    Column("document_id", String(32), nullable=False),
    Column("entry_hash", String(64), nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("new", Integer, nullable=False),
)

names = Table(
    "names",
    metadata,
    Column("document_id", String(32), primary_key=True),
    Column("name", Text, primary_key=True),
    Column("count", Integer, nullable=False),
)


# Digest schedules (one per scope and target) and the delivery ledger; docs/operations.md.
schedules = Table(
    "schedules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scope_id", String(32)),
    # "channel:<id>" or "webhook:<hash of the URL>": what the unique index compares.
    Column("target", String(80), nullable=False),
    Column("channel_id", String(32)),
    Column("webhook_url", Text),  # a secret: never logged or shown in full
    Column("kind", String(16), nullable=False),
    Column("weekday", Integer),
    Column("local_time", String(5), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("topics", Text),
    Column("entities", Text),
    Column("enabled", Integer, nullable=False, default=1),
    Column("disabled_reason", Text),
    Column("disabled_at", UTCDateTime),
    Column("active_since", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index(
    "ux_schedules_target",
    func.coalesce(schedules.c.scope_id, ""),
    schedules.c.target,
    unique=True,
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "schedule_id",
        Integer,
        ForeignKey("schedules.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("window_start", UTCDateTime),
    Column("window_end", UTCDateTime, nullable=False),
    # claimed | sent | empty | partial | failed | abandoned
    Column("status", String(16), nullable=False),
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("claimed_by", String(64), nullable=False),
    Column("finished_at", UTCDateTime),
    Column("message_ids", Text),
    Column("items", Integer),
    Column("error", Text),
    # The guard against double posts: one row per schedule and window, whoever inserts it.
    UniqueConstraint("schedule_id", "window_end", name="ux_deliveries_window"),
)
Index("ix_deliveries_status", deliveries.c.status, deliveries.c.claimed_at)
