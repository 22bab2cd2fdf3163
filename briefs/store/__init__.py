"""The store: what callers see of persistence. No SQL leaks past this interface: callers
use the repositories of ``Store`` (documents, analysis, search, feeds, schedules)."""

from briefs.store.base import (
    Analysis,
    Documents,
    DocumentSummary,
    Feeds,
    IngestOutcome,
    Schedules,
    Search,
    SearchHit,
    SentenceRow,
    Store,
    StoreStats,
    Visibility,
)
from briefs.store.connect import default_database_url, open_store
from briefs.store.sql import SqlStore

__all__ = [
    "Analysis",
    "DocumentSummary",
    "Documents",
    "Feeds",
    "IngestOutcome",
    "Schedules",
    "Search",
    "SearchHit",
    "SentenceRow",
    "SqlStore",
    "Store",
    "StoreStats",
    "Visibility",
    "default_database_url",
    "open_store",
]
