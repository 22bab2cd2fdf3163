"""Feed entries as articles, and the keys deduplication works on.

Kept apart from polling so ``briefbot ingest`` can store RSS/Atom files from disk the same
way the poller stores fetched ones.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from briefs.feeds.parse import FeedEntry
from briefs.feeds.urls import canonical_url
from briefs.ingest.outlets import INFERRED, OutletTable
from briefs.models import ParsedArticle, Provenance


def entry_url(entry: FeedEntry) -> str | None:
    return canonical_url(entry.link) if entry.link else None


# documents.source_key is unique: PostgreSQL's index takes at most 2,704 bytes a row, and a
# URL of 2,048 characters can be 8 KB of UTF-8. Longer keys are stored as their hash.
MAX_KEY_BYTES = 2600


def source_key(entry: FeedEntry, fallback: str) -> str:
    """Where the article lives: its canonical URL, so the same article from several feeds
    (or a file) is one document; without a link, ``fallback`` plus the entry id. A key
    longer than ``MAX_KEY_BYTES`` is its SHA-256 (still the same for the same article)."""
    url = entry_url(entry)
    key = f"url:{url}" if url else f"{fallback}#{entry.entry_id}"
    encoded = key.encode("utf-8")
    if len(encoded) <= MAX_KEY_BYTES:
        return key
    return "sha256:" + hashlib.sha256(encoded).hexdigest()


def entry_hash(entry: FeedEntry, text: str | None = None) -> str:
    """What the entry says (title, link, text), leaving out its date and id: a publisher
    who rewrites an old item's pubDate or guid does not make it look changed."""
    digest = hashlib.sha256()
    for part in (entry.title, entry_url(entry) or "", text if text is not None else entry.text):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1f")
    return digest.hexdigest()


def entry_article(
    entry: FeedEntry, feed_title: str | None, text: str | None = None, *, outlets: OutletTable
) -> ParsedArticle:
    """A feed entry as an article, credited to the outlet that published it, not to the feed
    that carried it (``briefs.ingest.outlets``). A missing date stays missing here: never
    silently "now"; the store places such a document by its fetch time and marks it so
    (``briefs.models.placement``)."""
    body = (text if text is not None else entry.text) or entry.title
    publisher, evidence = outlets.outlet_of(
        url=entry.link,
        text=body,
        source_title=entry.source_title,
        source_url=entry.source_url,
        stated=entry.publisher,
        feed_title=feed_title,
    )
    provenance: dict[str, Provenance] = {
        "title": "text",
        "publisher": "none"
        if publisher is None
        else "inferred"
        if evidence in INFERRED
        else "text",
        "byline": "text" if entry.author else "none",
        "published": "text" if entry.published_at is not None else "none",
    }
    if text is not None and text != entry.text:
        provenance["body"] = "inferred"  # extracted from the article page
    return ParsedArticle(
        title=entry.title,
        publisher=publisher,
        byline=entry.author,
        published_at=entry.published_at,
        published_precision=entry.published_precision,
        body=body,
        provenance=provenance,
        url=entry_url(entry),
    )


def newest_first(entries: list[FeedEntry]) -> list[FeedEntry]:
    """Dated entries newest first, then undated ones in feed order (feeds list newest
    first), for choosing a backfill."""
    dated = sorted(
        (e for e in entries if e.published_at is not None),
        key=lambda e: e.published_at or datetime.min,
        reverse=True,
    )
    return dated + [e for e in entries if e.published_at is None]
