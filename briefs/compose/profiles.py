"""Entity profiles: what the sources say about one person, state, organisation or weapon
(briefs of kind ``entity``)."""

from __future__ import annotations

from datetime import datetime

from briefs.brief import (
    SECTION_HEADINGS,
    Brief,
    EntityRef,
    Item,
    MonthCount,
    Profile,
    Quote,
    Section,
)
from briefs.compose.brief import BriefRequest, compose_brief
from briefs.compose.sources import SourceBook
from briefs.errors import NotFoundError
from briefs.lexicon import Lexicon
from briefs.store.base import Store, Visibility


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
    months = [MonthCount(m, n) for m, n in store.analysis.mention_months(entity.id, visible)]
    brief.profile = Profile(
        entity.id, entity.name, entity.type, entity.role, list(entity.aliases), months
    )
    total = sum(m.mentions for m in months)
    brief.entities = [EntityRef(entity.id, entity.name, entity.type, total)] if total else []
    # Quotes by the entity, wherever they are, not only those the brief selected.
    book = SourceBook(s.id for s in brief.sources)
    by_entity = [
        r
        for r in store.analysis.live_sentences(speaker=entity.name, visible=visible)
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
