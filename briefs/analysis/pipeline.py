"""Run analysis over what the store holds: per document, then story assignment.

Documents go in batches: a batch is read by two statements and its analysis written in one
transaction. The text analysis of a document is pure (``analyze_document``), so with more
than one worker it runs in a pool of processes while this one reads and writes; story
assignment and every write stay in this process, in order, so the stored result is the same
whatever the number of workers or the batch size.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime

from briefs.analysis.facts import (
    VECTOR_CACHE,
    Background,
    DocumentAnalysis,
    StoryCandidate,
    analysis_version,
    analyze_document,
    choose_story,
    shingles,
    signature,
    story_window,
)
from briefs.lexicon import Lexicon
from briefs.store.base import AnalysisInput, Store

BACKGROUND_DOCUMENTS = 2000
# Documents per transaction (and per hand-over to the workers).
BATCH_DOCUMENTS = 100
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
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start_worker, initargs=(lexicon,)
    ) as pool:
        # A batch more in flight than there are workers: while this process writes one,
        # each worker has the next share waiting, and none waits for this one to read.
        queued: deque[list[Future[list[DocumentAnalysis]]]] = deque()
        for doc_ids in batches:
            inputs = store.analysis.inputs(doc_ids, max_sentences)
            share = -(-len(inputs) // workers)
            queued.append(
                [pool.submit(_analyse, inputs[i : i + share]) for i in range(0, len(inputs), share)]
            )
            if len(queued) > workers:
                yield [a for part in queued.popleft() for a in part.result()]
        while queued:
            yield [a for part in queued.popleft() for a in part.result()]


_worker_lexicon: Lexicon | None = None


def _start_worker(lexicon: Lexicon) -> None:
    global _worker_lexicon
    _worker_lexicon = lexicon


def _analyse(inputs: Sequence[AnalysisInput]) -> list[DocumentAnalysis]:
    """Worker side: the lexicon came once, at start."""
    assert _worker_lexicon is not None, "analysis worker started without its lexicon"
    return [analyze_document(d, _worker_lexicon) for d in inputs]


def _assign_stories(store: Store, doc_ids: list[str], cut: dict[str, int], batch: int) -> None:
    """Join each newly analysed document to a story of the same event, or start one
    (a document analysed in part is compared by its analysed part, ``cut``).

    Each document is compared with the documents already in a story near its date, in the
    order the store lists them, so the stories set earlier count; a neighbour's signature is
    decoded, and its shingles and vector computed, once per run (not once per document it
    neighbours). The store reads each window of dates once per batch (``StoryBatch``).
    """
    background = Background()
    for sig in store.analysis.signatures(BACKGROUND_DOCUMENTS):
        background.add(sig)
    signatures: dict[str, dict[str, int]] = {}
    their_shingles: dict[str, set[int]] = {}
    for doc_ids_batch in _batches(doc_ids, batch):
        with store.analysis.story_batch(doc_ids_batch) as tx:
            inputs = tx.inputs()
            for doc_id in doc_ids_batch:
                published_at, sig_json = inputs[doc_id]
                story_id, duplicate_of = None, None
                if published_at is not None:
                    stored = sig_json is not None
                    if sig_json is not None:
                        sig = signatures.get(doc_id) or json.loads(sig_json)
                    else:
                        sig = signature(tx.body(doc_id)[: cut.get(doc_id)])
                    start, end = story_window(published_at.date())
                    near = tx.neighbours(
                        doc_id,
                        datetime(start.year, start.month, start.day, tzinfo=UTC),
                        datetime(end.year, end.month, end.day, tzinfo=UTC),
                    )
                    if stored:  # kept for when it is a neighbour: it is its stored signature
                        if len(signatures) >= VECTOR_CACHE:
                            signatures.clear()
                            their_shingles.clear()
                        signatures[doc_id] = sig
                    unseen = [n for n, _ in near if n not in signatures]
                    if unseen:
                        if len(signatures) + len(unseen) > VECTOR_CACHE:
                            signatures.clear()
                            their_shingles.clear()
                            unseen = [n for n, _ in near]
                        signatures.update(
                            (n, json.loads(s)) for n, s in tx.signatures(unseen).items()
                        )
                    candidates = [StoryCandidate(n, story, signatures[n]) for n, story in near]

                    def mine(doc_id: str = doc_id) -> set[int]:
                        return shingles(tx.body(doc_id)[: cut.get(doc_id)])

                    def theirs(other: str) -> set[int]:
                        found = their_shingles.get(other)
                        if found is None:
                            found = their_shingles[other] = shingles(tx.body(other))
                        return found

                    story_id, duplicate_of = choose_story(
                        sig, mine, candidates, background, theirs, doc_id if stored else None
                    )
                tx.set_story(doc_id, story_id or f"s-{doc_id}", duplicate_of)
