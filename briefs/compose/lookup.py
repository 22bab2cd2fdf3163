"""Source lookups and search, as briefs of kind "source" and "search" (one JSON contract)."""

from __future__ import annotations

import re
from datetime import datetime

from briefs.brief import SECTION_HEADINGS, Brief, Item, Query, Section, Window
from briefs.compose.sources import SourceBook
from briefs.errors import InputError, NotFoundError
from briefs.store.base import SentenceRow, Store, Visibility

# ASCII digits only: ``\d`` would take Arabic-Indic or full-width digits, which ``int`` reads.
_REF = re.compile(r"\s*\[?(?P<doc>[0-9a-zA-Z_-]+)(?::(?P<idx>[0-9]+))?\]?\s*")
LEAD_SENTENCES = 3
# The largest sentence index a store can hold (a 32-bit INTEGER column on PostgreSQL); a
# larger one would overflow the query instead of finding nothing.
MAX_SENTENCE_INDEX = 2**31 - 1


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``<document id>`` or ``<document id>:<sentence index>``."""
    match = _REF.fullmatch(ref)
    if not match:
        raise InputError(
            f"{ref!r} is not a reference; use a document id (29979d9ea9c5) "
            "or a citation (29979d9ea9c5:4)"
        )
    if match["idx"] is None:
        return match["doc"], None
    index = int(match["idx"])
    if index > MAX_SENTENCE_INDEX:
        raise InputError(
            f"{ref!r}: the sentence index is out of range (at most {MAX_SENTENCE_INDEX})"
        )
    return match["doc"], index


def _item(row: SentenceRow, book: SourceBook) -> Item:
    return Item(row.text, [book.cite(row)])


def lookup_source(
    store: Store, ref: str, now: datetime, radius: int = 1, visible: Visibility | None = None
) -> Brief:
    """Where a statement came from: its document and the sentence with its neighbours.

    A document ``visible`` may not see is "not found", exactly like one never stored.
    """
    doc_id, index = parse_ref(ref)
    summaries = store.documents.summaries([doc_id], visible=visible)
    if not summaries:
        raise NotFoundError(f"no document {doc_id!r} in the store (see briefbot search)")
    doc = summaries[0]
    book = SourceBook([doc.id])
    brief = Brief(
        kind="source",
        title=doc.title,
        generated_at=now,
        window=Window(doc.published_at, doc.published_at),
        query=Query(text=ref.strip()),
        sources=book.sources({doc.id: doc}),
    )
    if index is None:
        rows = store.documents.context(doc_id, 0, LEAD_SENTENCES - 1)
        rows = [r for r in rows if r.position >= 0]
        brief.sections.append(
            Section("passage", SECTION_HEADINGS["passage"], [_item(r, book) for r in rows])
        )
        return brief
    found = store.documents.sentence(doc_id, index)
    if found is None:
        raise NotFoundError(f"document {doc_id} has no sentence {index}")
    row, live = found
    if live:
        rows = store.documents.context(doc_id, row.position, radius)
    else:
        rows = [row]
        brief.notes.append(
            "This sentence is no longer in the current text of the document "
            "(the source was edited after it was cited); it is kept so citations stay valid."
        )
    brief.sections.append(
        Section("passage", SECTION_HEADINGS["passage"], [_item(r, book) for r in rows])
    )
    return brief


def search_statements(
    store: Store,
    query: str,
    limit: int,
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
    visible: Visibility | None = None,
) -> Brief:
    """Stored sentences matching ``query``, best first, each with its citation."""
    if not query.strip():
        raise InputError("the search query is empty")
    brief = Brief(
        kind="search",
        title=f"Search: {query.strip()}",
        generated_at=now,
        window=Window(since, until),
        query=Query(text=query.strip()),
    )
    hits = store.search.sentences(query, limit, since, until, visible=visible)
    if not hits:
        hits = store.search.sentences(query, limit, since, until, "any", visible)
        if hits:
            brief.notes.append("No statement has every word of the query; showing those with any.")
    if not hits:
        brief.notes.append("No stored statement matches this query.")
        return brief
    docs = {d.id: d for d in store.documents.summaries({h.sentence.document_id for h in hits})}
    book = SourceBook()
    items = [Item(hit.sentence.text, [book.cite(hit.sentence)]) for hit in hits]
    brief.sections.append(Section("results", SECTION_HEADINGS["results"], items))
    brief.sources = book.sources(docs)
    return brief
