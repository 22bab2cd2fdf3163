"""Timelines, entity profiles and story lists: briefs of kinds timeline, entity, stories."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from briefs.brief import (
    SECTION_HEADINGS,
    Brief,
    EntityRef,
    Item,
    MonthCount,
    Profile,
    Query,
    Quote,
    Section,
    TimelineEntry,
    Window,
)
from briefs.compose import BriefRequest, check_filters, compose_brief, story_ref
from briefs.errors import NotFoundError
from briefs.lexicon import Lexicon
from briefs.sources import SourceBook
from briefs.store.base import DocumentSummary, SentenceRow, Store, Visibility

TIMELINE_LIMIT = 40


def compose_timeline(
    store: Store,
    lexicon: Lexicon,
    now: datetime,
    entity: str | None = None,
    topic: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = TIMELINE_LIMIT,
    visible: Visibility | None = None,
) -> Brief:
    """Dated statements in date order: what happened when, each with its source."""
    check_filters(topic, entity)
    found_entity = lexicon.entity(entity) if entity else None
    found_topic = lexicon.topic(topic) if topic else None
    if found_entity is not None and found_entity.type == "unknown":
        raise NotFoundError(f"unknown entity {entity!r}; see briefbot entity for known names")
    rows = store.live_sentences(
        since,
        until,
        topic=found_topic.key if found_topic else None,
        entity_id=found_entity.id if found_entity else None,
        visible=visible,
    )
    dated = [r for r in rows if r.date_value]
    dated.sort(key=lambda r: (r.date_precision != "day", -(r.salience or 0.0)))
    seen: set[str] = set()
    picked: list[SentenceRow] = []
    for row in dated:
        key = " ".join(row.text.split())
        if key not in seen:
            seen.add(key)
            picked.append(row)
        if len(picked) >= limit:
            break
    picked.sort(key=lambda r: (r.date_value or "", r.ref))
    book = SourceBook()
    title = "Timeline" + (f": {found_entity.name}" if found_entity else "")
    brief = Brief(
        kind="timeline",
        title=title,
        generated_at=now,
        window=Window(since, until),
        query=Query(
            topic=found_topic.key if found_topic else None,
            entity=found_entity.name if found_entity else None,
        ),
    )
    brief.timeline = [
        TimelineEntry(r.date_value or "", r.date_precision or "day", r.text, [book.cite(r)])
        for r in picked
    ]
    brief.sources = book.look_up(store)
    if not brief.timeline:
        brief.notes.append("No dated statement matches this request.")
    return brief


def compose_entity(
    store: Store, lexicon: Lexicon, name: str, now: datetime, visible: Visibility | None = None
) -> Brief:
    """An entity's profile: who or what it is, what is said about it and by it, when."""
    entity = lexicon.entity(name)
    if entity.type == "unknown":
        raise NotFoundError(
            f"{name!r} is not in the gazetteer (config/entities.toml); "
            "try briefbot search, or add it there"
        )
    brief = compose_brief(
        store,
        lexicon,
        BriefRequest(entity=entity.name, max_items=10, kind="entity", visible=visible),
        now,
    )
    brief.title = f"{entity.name} ({entity.type})"
    months = [MonthCount(m, n) for m, n in store.mention_months(entity.id, visible)]
    brief.profile = Profile(
        entity.id, entity.name, entity.type, entity.role, list(entity.aliases), months
    )
    total = sum(m.mentions for m in months)
    brief.entities = [EntityRef(entity.id, entity.name, entity.type, total)] if total else []
    # Quotes by the entity, wherever they are, not only those the brief selected.
    book = SourceBook(s.id for s in brief.sources)
    by_entity = [
        r
        for r in store.live_sentences(speaker=entity.name, visible=visible)
        if r.speaker_kind == "person"
    ]
    quotes = [Quote(row.speaker, row.text, [book.cite(row)]) for row in by_entity[:10]]
    if quotes:
        brief.quotes = quotes
        brief.sections = [s for s in brief.sections if s.key != "quotes"]
        brief.sections.insert(
            0,
            Section(
                "quotes",
                SECTION_HEADINGS["quotes"],
                [Item(q.text, q.citations, None, "claim") for q in quotes],
            ),
        )
    brief.sources.extend(book.look_up(store, start=len(brief.sources)))
    return brief


def compose_stories(
    store: Store,
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
    visible: Visibility | None = None,
) -> Brief:
    """Every story in the window, largest and latest first, with its outlets and dates."""
    docs = store.summaries(since=since, until=until, visible=visible)
    groups: dict[str, list[DocumentSummary]] = defaultdict(list)
    for doc in docs:
        groups[doc.story_id or doc.id].append(doc)
    ordered = sorted(
        groups.items(),
        key=lambda kv: (
            -len(kv[1]),
            -max(d.published_at.timestamp() if d.published_at else 0.0 for d in kv[1]),
        ),
    )
    book = SourceBook(d.id for _, members in ordered for d in members)
    brief = Brief(kind="stories", title="Stories", generated_at=now, window=Window(since, until))
    brief.stories = [story_ref(story_id, members, book.numbers) for story_id, members in ordered]
    brief.sources = book.sources({d.id: d for d in docs})
    if not brief.stories:
        brief.notes.append("No stored story in this window.")
    return brief
