"""Core records shared by every layer: plain dataclasses, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Literal

Origin = Literal["seed", "feed", "file"]
# Where a metadata value came from: a web page's HTML metadata (meta tags, JSON-LD, canonical
# link), printed in the text, given by a manifest, or inferred.
Provenance = Literal["page", "text", "manifest", "inferred", "none"]


@dataclass(frozen=True)
class Span:
    """Character offsets of a sentence in the clean body."""

    start: int
    end: int


@dataclass(frozen=True)
class ParsedArticle:
    """What a loader read from one article file, before it is stored."""

    title: str
    publisher: str | None
    byline: str | None
    published_at: datetime | None
    published_precision: Literal["minute", "day", "none"]
    body: str
    provenance: dict[str, Provenance] = field(default_factory=dict)
    url: str | None = None

    @cached_property
    def sentences(self) -> list[tuple[str, Span]]:
        """The body's sentences and their spans: what the store keeps and cites, split
        before storing so the store only stores."""
        from briefs.segment import split_sentences  # models stay importable by segment

        return split_sentences(self.body)


# The precision of a document's date when it printed none: it is placed by when briefbot
# fetched it (windows, stories and timelines use that), and every listing of it says so.
FETCHED = "fetched"


def placement(article: ParsedArticle, fetched_at: datetime) -> tuple[datetime, str]:
    """When a document is placed in time, and how precisely: its publication time, or for an
    article with none, the time it was fetched (precision ``FETCHED``), so an undated item
    still lands in the window and story it arrived with instead of in none."""
    if article.published_at is not None:
        return article.published_at, article.published_precision
    return fetched_at, FETCHED


@dataclass(frozen=True)
class PageMetadata:
    """What a saved web page's HTML says about its article, apart from the article text.

    ``titles`` holds every spelling of the headline the page carries (og:title, h1, <title>):
    a first body line equal to one of them is the headline, not a sentence. ``published``
    holds the declared publication dates as written, most trusted first.
    """

    title: str | None = None
    titles: frozenset[str] = frozenset()
    byline: str | None = None
    publisher: str | None = None
    published: tuple[str, ...] = ()
    url: str | None = None


@dataclass(frozen=True)
class Document:
    id: str
    origin: Origin
    source_key: str
    url: str | None
    title: str
    publisher: str | None
    byline: str | None
    published_at: datetime | None
    published_precision: str
    fetched_at: datetime
    body: str
    content_hash: str
    provenance: dict[str, str]


@dataclass(frozen=True)
class Sentence:
    document_id: str
    index: int  # stable citation index within the document
    position: int | None  # order in the current body; None once retired by a later edit
    text: str
    span: Span

    @property
    def ref(self) -> str:
        return f"{self.document_id}:{self.index}"
