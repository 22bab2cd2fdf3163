"""Answers as use cases: briefs, source look-ups, search, timelines, entity profiles,
story lists and counts, for whatever a scope (a Discord server, or the command line) sees.

One implementation behind ``briefbot brief|source|search|timeline|entity|stories|stats`` and
the slash commands. Every answer first makes the store ready (seeded, analysed), except counts,
which need no facts; bad filters are refused before any of that work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from briefs.analysis.versioning import analysis_version
from briefs.compose.brief import BriefRequest, check_filters, compose_brief

if TYPE_CHECKING:
    from bot.services.shared import Services
    from briefs.brief import Brief
    from briefs.store import StoreStats, Visibility


class BriefService:
    """What a scope asks of the store's contents."""

    def __init__(self, services: Services) -> None:
        self._shared = services

    def brief(
        self,
        *,
        topic: str | None = None,
        entity: str | None = None,
        query: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        max_items: int | None = None,
        visible: Visibility | None = None,
    ) -> Brief:
        """A sourced brief of what ``visible`` sees, narrowed by topic, entity, query, window."""
        check_filters(topic, entity, query)  # before seeding or analysing anything
        self._shared.ensure_ready()
        items = max_items or self._shared.settings.max_items
        request = BriefRequest(
            topic=topic,
            entity=entity,
            query=query,
            since=since,
            until=until,
            max_items=items,
            bluf_items=min(self._shared.settings.bluf_items, items),
            visible=visible,
        )
        return compose_brief(
            self._shared.store, self._shared.lexicon, request, self._shared.clock()
        )

    def source(self, ref: str, radius: int = 1, visible: Visibility | None = None) -> Brief:
        from briefs.compose.lookup import lookup_source, parse_ref

        parse_ref(ref)  # a malformed reference is refused before any analysis runs
        self._shared.ensure_ready()
        return lookup_source(
            self._shared.store, ref, self._shared.clock(), radius=radius, visible=visible
        )

    def search(
        self,
        query: str,
        limit: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        visible: Visibility | None = None,
    ) -> Brief:
        from briefs.compose.lookup import search_statements

        self._shared.ensure_ready()
        return search_statements(
            self._shared.store,
            query,
            limit or self._shared.settings.search_limit,
            self._shared.clock(),
            since,
            until,
            visible=visible,
        )

    def timeline(
        self,
        entity: str | None = None,
        topic: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 40,
        visible: Visibility | None = None,
    ) -> Brief:
        from briefs.compose.timelines import compose_timeline

        check_filters(topic, entity)
        self._shared.ensure_ready()
        return compose_timeline(
            self._shared.store,
            self._shared.lexicon,
            self._shared.clock(),
            entity,
            topic,
            since,
            until,
            limit,
            visible,
        )

    def entity(self, name: str, visible: Visibility | None = None) -> Brief:
        from briefs.compose.profiles import compose_entity

        self._shared.ensure_ready()
        return compose_entity(
            self._shared.store, self._shared.lexicon, name, self._shared.clock(), visible
        )

    def stories(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        visible: Visibility | None = None,
    ) -> Brief:
        from briefs.compose.stories import compose_stories

        self._shared.ensure_ready()
        return compose_stories(self._shared.store, self._shared.clock(), since, until, visible)

    def stats(self) -> StoreStats:
        """What the store holds, with how many documents await analysis: counted, not
        analysed (the next read analyses them, and says so), so ``stats`` answers at once
        however much a large ingest or an upgrade left to analyse. A new store is seeded
        first, as for every read."""
        self._shared.ensure_seeded()
        return self._shared.store.stats(analysis_version(self._shared.lexicon))

    def corpus_size(self, visible: Visibility | None = None) -> int:
        """Documents ``visible`` sees: counted, not analysed (a count needs no facts)."""
        self._shared.ensure_seeded()
        if visible is None:
            return self._shared.store.stats().documents
        return len(self._shared.store.feeds.visible_documents(visible.scope_id))

    def topic_names(self) -> list[tuple[str, str]]:
        """(key, label) of every topic."""
        return sorted((t.key, t.label) for t in self._shared.lexicon.topics.values())

    def entity_names(self) -> list[tuple[str, Sequence[str]]]:
        """(name, aliases) of every gazetteer entity."""
        return [(e.name, e.aliases) for e in self._shared.lexicon.entities]
