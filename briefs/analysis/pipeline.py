"""Run analysis over what the store holds: per document, then story assignment.

Documents go in batches: a batch is read by two statements and its analysis written in one
transaction. The text analysis of a document is pure (``analyze_document``), so with more
than one worker it runs in a pool of processes while this one reads and writes; story
assignment and every write stay in this process, in order, so the stored result is the same
whatever the number of workers or the batch size.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, date, datetime
from functools import partial

from briefs.analysis import events
from briefs.analysis.facts import (
    DUPLICATE_CHECK,
    NEAR_DUPLICATE,
    VECTOR_CACHE,
    DocumentAnalysis,
    analysis_version,
    analyze_document,
    shingles,
    story_window,
)
from briefs.lexicon import Lexicon, load_lexicon_again
from briefs.store.base import AnalysisInput, EventRow, Store, StoryBatch

BACKGROUND_DOCUMENTS = 2000
# Documents per transaction (and per hand-over to the workers).
BATCH_DOCUMENTS = 100
# What story assignment reads of a document: characters of body (its lead among them), and
# the sentences whose resolved dates may be the event's own.
EVENT_HEAD = 600
LEAD_SENTENCES = 3
# Documents near in time a document is compared with (their stories): a busy day of feeds
# holds hundreds; the stories compared are then those sharing a heavy term (``Clusters``).
NEIGHBOURS = 3000
log = logging.getLogger(__name__)


def default_workers() -> int:
    """The cores this process may run on ([analysis] workers = 0)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def analyze_pending(
    store: Store,
    lexicon: Lexicon,
    progress: Callable[[int, int], None] | None = None,
    *,
    stale: bool = True,
    limit: int | None = None,
    max_sentences: int | None = None,
    workers: int = 1,
    batch: int = BATCH_DOCUMENTS,
) -> int:
    """Analyse every document whose analysis is missing (and, with ``stale``, made by other
    code or domain data), at most ``limit`` of them, oldest first; return how many.

    Of each document only the first ``max_sentences`` sentences are analysed ([analysis]
    max_sentences), and its story found from that part: one huge document costs no more
    than that. The rest stays stored, citable and searchable, with no facts.

    ``workers`` processes analyse text ([analysis] workers; 0: one per core, 1: this process
    only); a pool starts only for more than two batches of work, since starting it costs
    about as much as analysing a hundred documents (the bot's background refresh of 200
    stale documents at a time stays in-process).
    """
    version = analysis_version(lexicon)
    pending = store.analysis.pending(version, stale=stale)[:limit]
    if not pending:
        return 0
    batch = max(1, batch)
    workers = workers if workers > 0 else default_workers()
    cut: dict[str, int] = {}  # documents analysed in part: where the analysed text ends
    done = 0
    for analysed in _analysed_batches(store, lexicon, pending, max_sentences, workers, batch):
        for a in analysed:
            if a.analysed_end is not None:
                cut[a.document_id] = a.analysed_end
                log.info(
                    "document %s: analysed its first %d sentences only ([analysis] max_sentences)",
                    a.document_id,
                    len(a.sentence_ids),
                )
        store.analysis.save(version, analysed)
        if progress is not None:
            for _ in analysed:
                done += 1
                progress(done, len(pending))
    _assign_stories(store, pending, cut, batch)
    return len(pending)


def _batches(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _analysed_batches(
    store: Store,
    lexicon: Lexicon,
    pending: Sequence[str],
    max_sentences: int | None,
    workers: int,
    batch: int,
) -> Iterator[list[DocumentAnalysis]]:
    """The analysis of each batch of ``pending``, in order."""
    if workers <= 1 or len(pending) <= 2 * batch:
        for doc_ids in _batches(pending, batch):
            yield [
                analyze_document(d, lexicon) for d in store.analysis.inputs(doc_ids, max_sentences)
            ]
        return
    batches = list(_batches(pending, batch))
    done = 0
    try:
        for analysed in _pooled(store, lexicon, batches, max_sentences, workers):
            done += 1
            yield analysed
    except (BrokenProcessPool, OSError) as exc:
        # A worker that dies (killed, out of memory) or cannot start costs speed, not the run.
        log.warning(
            "analysis workers failed (%s); analysing the remaining %d batch(es) here",
            exc,
            len(batches) - done,
        )
        for doc_ids in batches[done:]:
            inputs = store.analysis.inputs(doc_ids, max_sentences)
            yield [analyze_document(d, lexicon) for d in inputs]


def _pooled(
    store: Store,
    lexicon: Lexicon,
    batches: Sequence[Sequence[str]],
    max_sentences: int | None,
    workers: int,
) -> Iterator[list[DocumentAnalysis]]:
    log.info("analysing in %d worker processes", workers)
    # Spawned, not forked: the bot runs threads, and a fork copies their locks mid-use.
    context = multiprocessing.get_context("spawn")
    task = _task(lexicon)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        # A batch more in flight than there are workers: while this process writes one,
        # each worker has the next share waiting, and none waits for this one to read.
        queued: deque[list[Future[list[DocumentAnalysis]]]] = deque()
        for doc_ids in batches:
            inputs = store.analysis.inputs(doc_ids, max_sentences)
            share = -(-len(inputs) // workers)
            queued.append(
                [pool.submit(task, inputs[i : i + share]) for i in range(0, len(inputs), share)]
            )
            if len(queued) > workers:
                yield [a for part in queued.popleft() for a in part.result()]
        while queued:
            yield [a for part in queued.popleft() for a in part.result()]


Task = Callable[[Sequence[AnalysisInput]], list[DocumentAnalysis]]


def _task(lexicon: Lexicon) -> Task:
    """What a worker runs on a share of documents. A lexicon loaded from files is loaded by
    the worker itself, once (``load_lexicon_again`` is memoised), from the same files and
    checked by its fingerprint, so only their names travel with each share; one built by
    hand travels whole."""
    if lexicon.source is not None:
        return partial(_analyse_loaded, lexicon.source, lexicon.fingerprint)
    return partial(_analyse_with, lexicon)


def _analyse_loaded(
    source: tuple[str, str | None, str | None],
    fingerprint: str,
    inputs: Sequence[AnalysisInput],
) -> list[DocumentAnalysis]:
    return _analyse_with(load_lexicon_again(source, fingerprint), inputs)


def _analyse_with(lexicon: Lexicon, inputs: Sequence[AnalysisInput]) -> list[DocumentAnalysis]:
    return [analyze_document(d, lexicon) for d in inputs]


def _assign_stories(store: Store, doc_ids: list[str], cut: dict[str, int], batch: int) -> None:
    """Join each newly analysed document to the story of the same event, or start one
    (briefs/analysis/events.py decides; a document analysed in part is known by its analysed part).

    Each document is compared with the stories of the documents near its date, in the order
    the store lists them, so the stories set earlier count; a document's event vector is
    made once per run, and a story's centroid grows as its documents are seen. A document
    near two stories that are alike bridges them: the younger story's documents take the
    older one's id (``events.older``), in the store too. The store reads each window of
    dates once per batch (``StoryBatch``).
    """
    sample = store.analysis.signatures(BACKGROUND_DOCUMENTS)
    term_df: Counter[str] = Counter()
    for sig in sample:
        term_df.update(sig.keys())
    counted, entity_df = store.analysis.entity_document_counts(BACKGROUND_DOCUMENTS)
    series = events.series_affixes(store.analysis.titles(BACKGROUND_DOCUMENTS))
    background = events.Background(len(sample), term_df, entity_df if counted else {}, series)
    known: dict[str, events.Features] = {}
    clusters = events.Clusters()
    their_shingles: dict[str, set[int]] = {}
    for doc_ids_batch in _batches(doc_ids, batch):
        with store.analysis.story_batch(doc_ids_batch) as tx:
            inputs = tx.inputs()
            _know(tx, doc_ids_batch, known, cut, background)
            for doc_id in doc_ids_batch:
                published_at = inputs[doc_id][0]
                story_id, duplicate_of = f"s-{doc_id}", None
                if published_at is not None:
                    start, end = story_window(published_at.date())
                    near = tx.neighbours(
                        doc_id,
                        datetime(start.year, start.month, start.day, tzinfo=UTC),
                        datetime(end.year, end.month, end.day, tzinfo=UTC),
                        NEIGHBOURS,
                    )
                    if len(known) + len(near) > VECTOR_CACHE:
                        known = {doc_id: known[doc_id]}
                        clusters = events.Clusters()
                        their_shingles.clear()
                    _know(tx, [n for n, _ in near], known, cut, background)
                    for other, story in near:
                        clusters.add(story, other, known[other])
                    mine = known[doc_id]
                    candidates = clusters.candidates(mine, {story for _, story in near})
                    decision = events.decide(mine, candidates)
                    if decision.story_id is not None:
                        story_id = decision.story_id
                        for loser in decision.merged:
                            clusters.merge(story_id, loser)
                            tx.merge_story(loser, story_id)
                            log.info("story %s merged into %s (by %s)", loser, story_id, doc_id)
                        members = clusters.stories[story_id].members
                        duplicate_of = _duplicate(
                            mine,
                            [n for n, _ in near if n in members],
                            known,
                            partial(_shingles_of, tx, doc_id, cut.get(doc_id), None),
                            partial(_shingles_of, tx, end=None, cache=their_shingles),
                        )
                    clusters.add(story_id, doc_id, mine)
                tx.set_story(doc_id, story_id, duplicate_of)


def _know(
    tx: StoryBatch,
    doc_ids: Sequence[str],
    known: dict[str, events.Features],
    cut: dict[str, int],
    background: events.Background,
) -> None:
    """Adds to ``known`` the event vector and day of each of ``doc_ids`` not in it (read
    together: a batch's own documents at once, then a window's older ones)."""
    unseen = [d for d in doc_ids if d not in known]
    if unseen:
        rows = tx.event_rows(unseen, EVENT_HEAD, LEAD_SENTENCES)
        for d in unseen:
            known[d] = _event_vector(tx, rows[d], d, cut.get(d), background)


def _shingles_of(
    tx: StoryBatch, doc_id: str, end: int | None, cache: dict[str, set[int]] | None
) -> set[int]:
    """A document's shingles (of its first ``end`` characters), kept in ``cache``."""
    found = cache.get(doc_id) if cache is not None else None
    if found is None:
        found = shingles(tx.body(doc_id)[:end])
        if cache is not None:
            cache[doc_id] = found
    return found


def _event_vector(
    tx: StoryBatch, row: EventRow, doc_id: str, end: int | None, background: events.Background
) -> events.Features:
    """What tells a document's event, from what the store holds of it."""
    head = row.head[:end] if end is not None else row.head
    published = row.published_at.date() if row.published_at is not None else None
    data = events.EventInput(
        title=row.title,
        lead=events.lead_of(head),
        body=head,
        entities=frozenset(row.entities),
        published=published,
        dates=tuple(date.fromisoformat(d) for d in row.dates),
        publisher=row.publisher,
    )
    return events.features(data, background)


def _duplicate(
    doc: events.Features,
    members: Sequence[str],
    known: dict[str, events.Features],
    mine: Callable[[], set[int]],
    theirs: Callable[..., set[int]],
) -> str | None:
    """The first of ``members`` the document copies nearly word for word: only documents
    this alike are compared by wording (a text with no words copies nothing)."""
    my_shingles: set[int] | None = None
    top = set(doc.top)
    for other in members:
        theirs_known = known[other]
        # A copy shares most of its heaviest terms: a cheap test before the cosine.
        if 2 * len(top.intersection(theirs_known.top)) < len(top):
            continue
        if events.cosine(doc.vector, theirs_known.vector) < DUPLICATE_CHECK:
            continue
        my_shingles = my_shingles if my_shingles is not None else mine()
        found = theirs(doc_id=other)
        if (
            my_shingles
            and found
            and len(my_shingles & found) >= NEAR_DUPLICATE * len(my_shingles | found)
        ):
            return other
    return None
