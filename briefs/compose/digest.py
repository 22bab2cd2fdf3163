"""Compose a digest: what is new for a scope in a window, grouped into stories.

A digest (a ``Brief`` of kind "digest") answers "what happened since the last digest": the
documents new in the window (items the scope's feeds brought first in it, and files or seeds
ingested in it), grouped into the stories analysis assigned them to. Like a brief on many
documents it leads with the events: Key developments holds one line per story, most important
first (``compose.story_importance``: outlets, recency, a transfer or sanction, relevance),
each line its story's best statement with the story's date and outlets; a story several
documents report may have a second statement, only when it adds a fact (no near-repeat,
``briefs.compose.redundancy``). Statements are verbatim and cited, chosen by the brief
composer's own scoring (``briefs.compose.brief``); then what to watch and new names.
Filters (topics, entities) keep statements on any of the topics and naming any of the
entities. An empty window gives a brief with no statements and one note, which the caller
posts or not (``[schedules] post_when_empty``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from briefs.brief import SECTION_HEADINGS, Brief, Query, Section, StoryLine, Window
from briefs.compose.brief import (
    DIVERSITY,
    MAX_CANDIDATES,
    Candidate,
    cited_item,
    citer,
    finish,
    repeat_check,
    score_candidates,
    story_order,
    story_ref,
)
from briefs.compose.rank import mmr
from briefs.compose.sources import SourceBook
from briefs.lexicon import Entity, Lexicon, Topic
from briefs.store.base import DocumentSummary, SentenceRow, Store

# Items first seen in the last minutes before a window's end go into the next digest, so a
# poll still writing when the digest is composed is never lost between two windows.
SETTLE = timedelta(minutes=2)
# Statements per story: the strongest, and a second (from another outlet when there is one)
# for stories that more than one document reports.
PER_STORY = 2
WATCH_ITEMS = 2
NOTHING_NEW = "Nothing new since the last digest."


@dataclass(frozen=True)
class DigestRequest:
    scope_id: str | None
    start: datetime
    end: datetime
    topics: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    max_items: int = 12
    title: str | None = None
    settle: timedelta = SETTLE


def is_empty(brief: Brief) -> bool:
    """A digest with no statement: "nothing new"."""
    return not brief.items()


def compose_digest(store: Store, lexicon: Lexicon, request: DigestRequest, now: datetime) -> Brief:
    """The digest of ``request``'s window for its scope, from the (analysed) store."""
    topics = [lexicon.topic(t) for t in request.topics]
    entities = [lexicon.entity(e) for e in request.entities]
    brief = Brief(
        kind="digest",
        title=request.title or _title(request),
        generated_at=now,
        window=Window(request.start, request.end),
        query=Query(
            topic=",".join(t.key for t in topics) or None,
            entity=", ".join(e.name for e in entities) or None,
        ),
    )
    doc_ids = store.schedules.window_documents(
        request.scope_id, request.start - request.settle, request.end - request.settle
    )
    rows = _candidates(store, doc_ids, topics, entities) if doc_ids else []
    if not rows:
        brief.notes.append(NOTHING_NEW)
        return brief
    docs = {d.id: d for d in store.documents.summaries(doc_ids)}
    candidates = [Candidate(r, docs[r.document_id]) for r in rows if r.document_id in docs]
    matrix = score_candidates(candidates, lexicon, {})
    relevance = [c.relevance for c in candidates]
    repeats, gist_of = repeat_check(candidates)

    members: dict[str, list[DocumentSummary]] = defaultdict(list)
    for doc in docs.values():
        members[doc.story_id or doc.id].append(doc)
    by_story: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(candidates):
        by_story[c.story].append(i)
    # Outlets and date over every document of the story in the window, not only those with
    # a candidate statement.
    order = [
        (story, StoryLine(story, line.date, max(line.outlets, _outlets(members.get(story, [])))))
        for story, line in story_order(candidates, gist_of, lexicon)
    ]
    budget = max(1, request.max_items)
    chosen: list[int] = []
    picks: dict[str, list[int]] = defaultdict(list)
    # One line per story, most important first; a story that only repeats earlier lines is
    # left out.
    for story, _ in order:
        if len(chosen) >= budget:
            break
        for i in mmr(
            by_story[story], relevance, matrix, 1, chosen=chosen, diversity=DIVERSITY, skip=repeats
        ):
            picks[story].append(i)
            chosen.append(i)
    # A second statement for a story several documents report, from another document when
    # there is one, only when it adds a fact (no near-repeat).
    for story, _ in order:
        if len(chosen) >= budget or len(members.get(story, [])) < 2 or not picks[story]:
            continue
        first_doc = candidates[picks[story][0]].row.document_id
        pool = [i for i in by_story[story] if i not in chosen]
        other = [i for i in pool if candidates[i].row.document_id != first_doc]
        for i in mmr(
            other or pool,
            relevance,
            matrix,
            PER_STORY - 1,
            chosen=chosen,
            diversity=DIVERSITY,
            skip=repeats,
        ):
            picks[story].append(i)
            chosen.append(i)
    watch = [i for i, c in enumerate(candidates) if c.section == "watch" and i not in chosen]
    watch_picks = mmr(
        watch, relevance, matrix, WATCH_ITEMS, chosen=chosen, diversity=DIVERSITY, skip=repeats
    )

    book = SourceBook()
    cite = citer(candidates, book)
    events = []
    for story, line in order:
        for n, i in enumerate(picks[story]):
            events.append(cited_item(candidates[i], cite, line if n == 0 else None))
    if events:
        brief.sections.append(Section("developments", SECTION_HEADINGS["developments"], events))
    if watch_picks:
        items = [cited_item(candidates[i], cite) for i in watch_picks]
        brief.sections.append(Section("watch", SECTION_HEADINGS["watch"], items))
    picked = [candidates[i] for i in [*chosen, *watch_picks]]
    finish(brief, lexicon, picked, cite, book, docs, store.schedules.window_names(doc_ids))
    brief.stories = [
        story_ref(story, members.get(story, []), book.numbers) for story, _ in order if picks[story]
    ]
    return brief


def _outlets(group: Sequence[DocumentSummary]) -> int:
    return len({d.publisher or d.id for d in group})


def _candidates(
    store: Store, doc_ids: Sequence[str], topics: Sequence[Topic], entities: Sequence[Entity]
) -> list[SentenceRow]:
    """Live sentences of the window's documents, on any filter topic, naming any filter entity."""
    rows = store.analysis.live_sentences(document_ids=doc_ids, limit=MAX_CANDIDATES * 4)
    if topics:
        keys = {t.key for t in topics}
        rows = [r for r in rows if keys.intersection(r.topic_keys)]
    if entities:
        rows = [r for r in rows if any(e.count(r.text) for e in entities)]
    rows.sort(key=lambda r: -(r.salience or 0.0))
    return rows[:MAX_CANDIDATES]


def _title(request: DigestRequest) -> str:
    start = request.start.strftime("%Y-%m-%d %H:%M")
    end = request.end.strftime("%Y-%m-%d %H:%M")
    return f"Digest: {start} to {end} UTC"
