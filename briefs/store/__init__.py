"""The store: what callers see of persistence. No SQL leaks past this interface."""

from briefs.store.base import (
    DocumentSummary,
    IngestOutcome,
    SearchHit,
    SentenceRow,
    Store,
    StoreStats,
    Visibility,
)
from briefs.store.sql import SqlStore, open_store

__all__ = [
    "DocumentSummary",
    "IngestOutcome",
    "SearchHit",
    "SentenceRow",
    "SqlStore",
    "Store",
    "StoreStats",
    "Visibility",
    "open_store",
]
