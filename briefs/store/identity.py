"""What makes two stored documents the same: the id a source always gets, and the hashes
that tell a copy (same body) and an unchanged re-ingest (same content) apart."""

from __future__ import annotations

import hashlib

from briefs.models import ParsedArticle


def document_id_for(source_key: str) -> str:
    """A short id derived from where the document came from, so re-ingest keeps it."""
    return hashlib.sha1(source_key.encode("utf-8")).hexdigest()[:12]


def body_hash(body: str) -> str:
    """Equal for two documents with the same text: the second is a copy."""
    return _hash(body)


def content_hash(article: ParsedArticle) -> str:
    """What makes a stored document differ: an equal hash means nothing to update."""
    return _hash(
        article.body,
        article.title,
        article.publisher,
        article.byline,
        article.published_at,
        article.url,
        sorted(article.provenance.items()),
    )


def _hash(*parts: object) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()
