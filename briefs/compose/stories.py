"""Story lists: every story in a window with its outlets and dates (briefs of kind
``stories``)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from briefs.brief import (
    Brief,
    Window,
)
from briefs.compose.brief import story_ref
from briefs.compose.sources import SourceBook
from briefs.store.base import DocumentSummary, Store, Visibility


def compose_stories(
    store: Store,
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
    visible: Visibility | None = None,
) -> Brief:
    """Every story in the window, largest and latest first, with its outlets and dates."""
    docs = store.documents.summaries(since=since, until=until, visible=visible)
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
