"""The store's interface: the records it returns and, per kind of persistence, the Protocol
its callers use (documents, analysis, search, feeds, schedules), whatever the backend."""

from __future__ import annotations

import os
import socket
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Literal, Protocol

from briefs.models import Document, Origin, ParsedArticle

if TYPE_CHECKING:
    from briefs.schedules import Timing
    from briefs.store.feeds import EntryLink, Feed, FeedState, KnownEntry, Subscription
    from briefs.store.schedules import Delivery, Schedule


def process_owner() -> str:
    """Who holds a claim or lease in the store (a delivery, a feed being polled): host, pid
    and a random part, so a restarted pid is someone else, as is a second process."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Visibility:
    """Whose view of the corpus a read takes: seeds and files are everyone's, a feed item only
    for the scopes whose feeds brought it (``scope_id`` None: the command line's own feeds).

    Reads take ``visible: Visibility | None``; None reads everything (the command line).
    """

    scope_id: str | None


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
    """What story assignment reads of a document to tell its event (briefs/analysis/events.py)."""

    title: str
    head: str  # the body's first characters, its lead among them
    published_at: datetime | None
    entities: tuple[str, ...]  # canonical ids of the entities its analysed sentences name
    dates: tuple[str, ...]  # day-precision dates its first sentences resolve to, ISO
    publisher: str | None = None


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


# -- what analysis hands the store (its records satisfy these without the store importing it)


class SpeakerFact(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...


class DateFact(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def value(self) -> date: ...
    @property
    def precision(self) -> str: ...


class SentenceAnalysis(Protocol):
    @property
    def topics(self) -> tuple[str, ...]: ...
    @property
    def mentions(self) -> Mapping[str, int]: ...
    @property
    def speaker(self) -> SpeakerFact | None: ...
    @property
    def direct(self) -> bool: ...
    @property
    def stance(self) -> str | None: ...
    @property
    def stance_holder(self) -> str | None: ...
    @property
    def dates(self) -> Sequence[DateFact]: ...
    @property
    def salience(self) -> float: ...


class AnalysedDocument(Protocol):
    @property
    def document_id(self) -> str: ...
    @property
    def sentence_ids(self) -> Sequence[int]: ...
    @property
    def facts(self) -> Sequence[SentenceAnalysis]: ...
    @property
    def names(self) -> Counter[str]: ...
    @property
    def signature(self) -> dict[str, int]: ...


# -- the repositories


class Documents(Protocol):
    """Documents and their sentences: stored, revised (citations kept), read back."""

    def ingest(
        self, article: ParsedArticle, origin: Origin, source_key: str, fetched_at: datetime
    ) -> IngestOutcome: ...

    def ingest_many(
        self, items: Sequence[tuple[ParsedArticle, str]], origin: Origin, fetched_at: datetime
    ) -> list[IngestOutcome]: ...

    def get(self, document_id: str) -> Document | None: ...

    def is_empty(self) -> bool: ...

    def has_origin(self, origin: str) -> bool: ...

    def summaries(
        self,
        ids: Iterable[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        visible: Visibility | None = None,
    ) -> list[DocumentSummary]: ...

    def sentence(self, document_id: str, index: int) -> tuple[SentenceRow, bool] | None: ...

    def context(self, document_id: str, position: int, radius: int) -> list[SentenceRow]: ...


class StoryBatch(Protocol):
    """One transaction of story assignment (``Analysis.story_batch``, used with ``with``)."""

    def __enter__(self) -> StoryBatch: ...

    def __exit__(self, *exc: object) -> None: ...

    def inputs(self) -> dict[str, tuple[datetime | None, str | None]]: ...

    def neighbours(
        self, doc_id: str, start: datetime, end: datetime, limit: int = 300
    ) -> list[tuple[str, str]]: ...

    def signatures(self, doc_ids: Sequence[str]) -> dict[str, str]: ...

    def body(self, doc_id: str) -> str: ...

    def event_rows(
        self, doc_ids: Sequence[str], head: int, lead_sentences: int
    ) -> dict[str, EventRow]: ...

    def merge_story(self, old: str, new: str) -> None: ...

    def set_story(self, doc_id: str, story_id: str, duplicate_of: str | None) -> None: ...


class Analysis(Protocol):
    """What analysis derives from documents: written per batch, read by every brief."""

    def pending(self, version: str, stale: bool = True) -> list[str]: ...

    def inputs(
        self, doc_ids: Sequence[str], max_sentences: int | None = None
    ) -> list[AnalysisInput]: ...

    def save(self, version: str, analysed: Sequence[AnalysedDocument]) -> None: ...

    def signatures(self, limit: int) -> list[dict[str, int]]: ...

    def story_batch(self, doc_ids: Sequence[str]) -> StoryBatch: ...

    def entity_document_counts(self, limit: int) -> tuple[int, dict[str, int]]: ...

    def titles(self, limit: int) -> list[tuple[str, str | None]]: ...

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

    def date_mention_rows(self) -> list[tuple[str, str, str, str, str]]: ...


class Search(Protocol):
    """Full-text search over live sentences."""

    def sentences(
        self,
        query: str,
        limit: int,
        since: datetime | None = None,
        until: datetime | None = None,
        mode: str = "all",
        visible: Visibility | None = None,
    ) -> list[SearchHit]: ...


class Feeds(Protocol):
    """Feeds per scope, their state and errors as data, the entries they brought."""

    def add(
        self,
        url: str,
        canonical: str,
        scope_id: str | None,
        title: str | None,
        now: datetime,
        full_text: bool,
    ) -> Feed: ...

    def get(self, feed_id: int) -> Feed: ...

    def find(self, ref: str, scope_id: str | None) -> Feed: ...

    def list_feeds(self, scope_id: str | None) -> list[Feed]: ...

    def due(self, now: datetime, limit: int = 10_000) -> list[Feed]: ...

    def claim_due(
        self, now: datetime, owner: str, lease: timedelta, limit: int = 10_000
    ) -> list[Feed]: ...

    def held_elsewhere(self, now: datetime, owner: str) -> list[Feed]: ...

    def release(self, feed_ids: Iterable[int], owner: str) -> None: ...

    def remove(self, feed_id: int, now: datetime) -> None: ...

    def enable(self, feed_id: int, now: datetime) -> None: ...

    def save_state(self, feed_id: int, state: FeedState) -> None: ...

    def move(self, feed_id: int, url: str) -> None: ...

    def known_entries(self, feed_id: int) -> dict[str, KnownEntry]: ...

    def record_entries(
        self, feed_id: int, links: Sequence[EntryLink], now: datetime
    ) -> set[str]: ...

    def documents_for_keys(self, source_keys: Iterable[str]) -> dict[str, str]: ...

    def not_new(self, feed_id: int, document_ids: Iterable[str]) -> int: ...

    def rewrites(self, scope_id: str | None, document_ids: Iterable[str]) -> list[str]: ...

    def visible_documents(self, scope_id: str | None) -> set[str]: ...

    def sees(self, scope_id: str | None, document_id: str) -> bool: ...

    def seen(self, scope_id: str | None, document_ids: Iterable[str]) -> set[str]: ...

    def new_documents(self, scope_id: str | None, since: datetime | None = None) -> list[str]: ...

    def subscribe(
        self,
        feed_id: int,
        channel_id: str,
        now: datetime,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
    ) -> Subscription: ...

    def unsubscribe(self, feed_id: int, channel_id: str) -> None: ...

    def subscriptions(self, scope_id: str | None) -> list[Subscription]: ...


class Schedules(Protocol):
    """Digest schedules and the delivery ledger that posts each window at most once."""

    def save(
        self,
        scope_id: str | None,
        timing: Timing,
        now: datetime,
        *,
        channel_id: str | None = None,
        webhook_url: str | None = None,
        topics: Sequence[str] = (),
        entities: Sequence[str] = (),
    ) -> Schedule: ...

    def get(self, schedule_id: int) -> Schedule: ...

    def list_schedules(
        self, scope_id: str | None = None, *, every_scope: bool = False
    ) -> list[Schedule]: ...

    def enabled(self) -> list[Schedule]: ...

    def find(self, ref: str, scope_id: str | None) -> Schedule: ...

    def remove(self, schedule_id: int) -> None: ...

    def disable(self, schedule_id: int, reason: str, now: datetime) -> None: ...

    def enable(self, schedule_id: int, now: datetime) -> None: ...

    def claim(
        self,
        schedule_id: int,
        window_start: datetime | None,
        window_end: datetime,
        now: datetime,
        owner: str,
    ) -> Delivery | None: ...

    def record_message(self, delivery_id: int, message_ids: Sequence[str]) -> None: ...

    def finish(
        self,
        delivery_id: int,
        status: str,
        now: datetime,
        *,
        message_ids: Sequence[str] = (),
        items: int | None = None,
        error: str | None = None,
    ) -> None: ...

    def abandon_stale(self, now: datetime, older_than: timedelta) -> list[Delivery]: ...

    def delivery(self, delivery_id: int) -> Delivery: ...

    def deliveries(
        self, schedule_id: int | None = None, limit: int | None = None
    ) -> list[Delivery]: ...

    def last_success_end(self, schedule_id: int) -> datetime | None: ...

    def last_success_ends(
        self, schedule_ids: Sequence[int] | None = None
    ) -> dict[int, datetime]: ...

    def window_documents(
        self, scope_id: str | None, start: datetime, end: datetime
    ) -> list[str]: ...

    def window_names(
        self, document_ids: Sequence[str], minimum: int = 2
    ) -> list[tuple[str, int]]: ...


class Store(Protocol):
    """The whole store, as every caller sees it: one repository per kind of persistence,
    and what spans them (counts, bookkeeping, where it is)."""

    @property
    def documents(self) -> Documents: ...
    @property
    def analysis(self) -> Analysis: ...
    @property
    def search(self) -> Search: ...
    @property
    def feeds(self) -> Feeds: ...
    @property
    def schedules(self) -> Schedules: ...
    @property
    def location(self) -> str: ...
    @property
    def read_only(self) -> str | None: ...

    def stats(self, analysis_version: str | None = None) -> StoreStats: ...

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def close(self) -> None: ...
