"""Run analysis over what the store holds: per document, then story assignment."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from briefs.analysis import (
    Background,
    analysis_version,
    analyze_sentences,
    candidate_names,
    choose_story,
    signature,
    story_window,
)
from briefs.dates import reference_date
from briefs.lexicon import Lexicon
from briefs.store.sql import SqlStore

BACKGROUND_DOCUMENTS = 2000
log = logging.getLogger(__name__)


def analyze_pending(
    store: SqlStore,
    lexicon: Lexicon,
    progress: Callable[[int, int], None] | None = None,
    *,
    stale: bool = True,
    limit: int | None = None,
    max_sentences: int | None = None,
) -> int:
    """Analyse every document whose analysis is missing (and, with ``stale``, made by other
    code or domain data), at most ``limit`` of them, oldest first; return how many.

    Of each document only the first ``max_sentences`` sentences are analysed ([analysis]
    max_sentences), and its story found from that part: one huge document costs no more
    than that. The rest stays stored, citable and searchable, with no facts.
    """
    version = analysis_version(lexicon)
    pending = store.pending_analysis(version, stale=stale)[:limit]
    if not pending:
        return 0
    cut: dict[str, int] = {}  # documents analysed in part: where the analysed text ends
    for done, doc_id in enumerate(pending, start=1):
        data = store.analysis_input(doc_id, max_sentences)
        text = data.body
        if data.analysed_end is not None:
            cut[doc_id] = data.analysed_end
            text = data.body[: data.analysed_end]
            log.info(
                "document %s: analysed its first %d sentences only ([analysis] max_sentences)",
                doc_id,
                len(data.sentences),
            )
        published = (
            reference_date(data.published_at, data.published_precision, data.body)
            if data.published_at
            else None
        )
        facts = analyze_sentences(data.sentences, data.paragraphs, published, lexicon)
        store.save_analysis(
            doc_id,
            version,
            data.sentence_ids,
            facts,
            candidate_names(data.sentences, lexicon),
            signature(text),
        )
        if progress is not None:
            progress(done, len(pending))
    _assign_stories(store, pending, cut)
    return len(pending)


def _assign_stories(store: SqlStore, doc_ids: list[str], cut: dict[str, int]) -> None:
    """Join each newly analysed document to a story of the same event, or start one
    (a document analysed in part is compared by its analysed part, ``cut``)."""
    background = Background()
    for sig in store.signatures(BACKGROUND_DOCUMENTS):
        background.add(sig)
    docs = {d.id: d for d in store.summaries(doc_ids)}
    for doc_id in doc_ids:
        doc = docs[doc_id]
        story_id, duplicate_of = None, None
        if doc.published_at is not None:
            body = store.body(doc_id)[: cut.get(doc_id)]
            start, end = story_window(doc.published_at.date())
            candidates = store.story_neighbours(
                doc_id,
                datetime(start.year, start.month, start.day, tzinfo=UTC),
                datetime(end.year, end.month, end.day, tzinfo=UTC),
            )
            story_id, duplicate_of = choose_story(signature(body), body, candidates, background)
        store.set_story(doc_id, story_id or f"s-{doc_id}", duplicate_of)
