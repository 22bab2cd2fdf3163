"""The store interface and the records it returns."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from briefs.models import Document, Origin, ParsedArticle


def process_owner() -> str:
    """Who holds a claim or lease in the store (a delivery, a feed being polled): host, pid
    and a random part, so a restarted pid is someone else, as is a second process."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Visibility:
    """Whose view of the corpus a read takes: seeds and files are everyone's, a feed item only
    for the guilds whose feeds brought it (``guild_id`` None: the command line's own feeds).

    Reads take ``visible: Visibility | None``; None reads everything (the command line).
    """

    guild_id: str | None


@dataclass(frozen=True)
class IngestOutcome:
    status: Literal["added", "updated", "unchanged", "duplicate"]
    document_id: str
    sentences_added: int = 0
    sentences_retired: int = 0
    duplicate_of: str | None = None


@dataclass(frozen=True)
class DocumentSummary:
    id: str
    origin: str
    title: str
    publisher: str | None
    published_at: datetime | None
    published_precision: str
    url: str | None
    story_id: str | None = None


@dataclass(frozen=True)
class SentenceRow:
    """A live sentence with what ranking needs of its document."""

    document_id: str
    index: int
    position: int
    text: str
    # Analysis facts (None until the document is analysed).
    topics: str | None = None
    speaker: str | None = None
    speaker_kind: str | None = None
    direct: bool = False
    stance: str | None = None
    stance_holder: str | None = None
    date_value: str | None = None
    date_precision: str | None = None
    salience: float | None = None
    story_id: str | None = None

    @property
    def topic_keys(self) -> tuple[str, ...]:
        return tuple(self.topics.split(",")) if self.topics else ()

    @property
    def ref(self) -> str:
        return f"{self.document_id}:{self.index}"


@dataclass(frozen=True)
class EventRow:
    """What story assignment reads of a document to tell its event (briefs/events.py)."""

    title: str
    head: str  # the body's first characters, its lead among them
    published_at: datetime | None
    entities: tuple[str, ...]  # canonical ids of the entities its analysed sentences name
    dates: tuple[str, ...]  # day-precision dates its first sentences resolve to, ISO


@dataclass(frozen=True)
class AnalysisInput:
    """What analysing one document needs: its live sentences in order, and its date."""

    document_id: str
    body: str
    published_at: datetime | None
    published_precision: str
    sentence_ids: list[int]
    sentences: list[str]
    paragraphs: list[int]
    # Where the analysed text ends when the document has more sentences than are analysed
    # ([analysis] max_sentences): the end of the last one. None: the whole body.
    analysed_end: int | None = None


@dataclass(frozen=True)
class SearchHit:
    sentence: SentenceRow
    score: float


@dataclass(frozen=True)
class StoreStats:
    documents: int
    sentences: int
    retired_sentences: int
    by_origin: dict[str, int]
    first_published: datetime | None
    last_published: datetime | None
    schema_version: int
    location: str
    # Documents never analysed, or analysed by another version or other domain data (the
    # next read analyses them); 0 when the caller did not ask (``stats()`` without a version).
    awaiting_analysis: int = 0


class Store(Protocol):
    """What the engine needs of persistence (SQLite today, PostgreSQL later)."""

    def is_empty(self) -> bool: ...

    def ingest(
        self, article: ParsedArticle, origin: Origin, source_key: str, fetched_at: datetime
    ) -> IngestOutcome: ...

    def ingest_many(
        self, items: Sequence[tuple[ParsedArticle, str]], origin: Origin, fetched_at: datetime
    ) -> list[IngestOutcome]: ...

    def get_document(self, document_id: str) -> Document | None: ...

    def summaries(
        self,
        ids: Iterable[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        visible: Visibility | None = None,
    ) -> list[DocumentSummary]: ...

    def mention_months(
        self, entity_id: str, visible: Visibility | None = None
    ) -> list[tuple[str, int]]: ...

    def new_names(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        minimum: int = 2,
        visible: Visibility | None = None,
    ) -> list[tuple[str, int]]: ...

    def sentence(self, document_id: str, index: int) -> tuple[SentenceRow, bool] | None: ...

    def context(self, document_id: str, position: int, radius: int) -> list[SentenceRow]: ...

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
    ) -> list[SentenceRow]: ...

    def search(
        self,
        query: str,
        limit: int,
        since: datetime | None = None,
        until: datetime | None = None,
        mode: str = "all",
        visible: Visibility | None = None,
    ) -> list[SearchHit]: ...

    def stats(self) -> StoreStats: ...

    def close(self) -> None: ...
