"""A brief's numbered source list: one numbering per brief, in order of first citation.

Every view (brief, digest, entity, timeline, stories, search, source look-up) numbers the
documents it cites through a ``SourceBook`` and builds its ``sources`` from it, so citation
[n] always means the same thing: the n-th document cited.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import islice

from briefs.brief import Citation, SourceRef
from briefs.models import FETCHED
from briefs.store.base import DocumentSummary, SentenceRow, Store


def source_ref(ref: int, doc: DocumentSummary) -> SourceRef:
    """The entry of a brief's source list for ``doc``."""
    published = doc.published_at.date().isoformat() if doc.published_at else None
    if published is not None and doc.published_precision == FETCHED:
        published += " (fetched; no publication date)"
    return SourceRef(ref, doc.id, doc.title, doc.publisher, published, doc.url, doc.origin)


class SourceBook:
    """Hands out source numbers per document, 1, 2, ... in order of first use."""

    def __init__(self, cited: Iterable[str] = ()) -> None:
        """``cited``: documents already numbered, in order (a brief being extended)."""
        self.numbers: dict[str, int] = {}
        for doc_id in cited:
            self.number(doc_id)

    def number(self, doc_id: str) -> int:
        """The document's number, given it now if it has none yet."""
        return self.numbers.setdefault(doc_id, len(self.numbers) + 1)

    def cite(self, row: SentenceRow) -> Citation:
        """The citation of a stored sentence."""
        return Citation(self.number(row.document_id), row.ref)

    def sources(self, docs: Mapping[str, DocumentSummary], start: int = 0) -> list[SourceRef]:
        """The source list, in number order, from the ``start``-th numbered document on
        (``docs`` holds every document listed)."""
        return [source_ref(n, docs[d]) for d, n in islice(self.numbers.items(), start, None)]

    def look_up(self, store: Store, start: int = 0) -> list[SourceRef]:
        """Like ``sources``, reading the documents from ``store``."""
        ids = list(self.numbers)[start:]
        docs = {d.id: d for d in store.documents.summaries(ids)} if ids else {}
        return self.sources(docs, start)
