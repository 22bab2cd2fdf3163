"""Timelines: dated statements in date order (briefs of kind ``timeline``)."""

from __future__ import annotations

from datetime import datetime

from briefs.brief import (
    Brief,
    Query,
    TimelineEntry,
    Window,
)
from briefs.compose.brief import check_filters
from briefs.compose.sources import SourceBook
from briefs.errors import NotFoundError
from briefs.lexicon import Lexicon
from briefs.store.base import SentenceRow, Store, Visibility

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
    rows = store.analysis.live_sentences(
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
