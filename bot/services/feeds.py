"""Feeds as use cases: follow, list, test, stop, resume and poll a scope's feeds.

One implementation behind ``briefbot feeds``/``poll``, ``/feeds`` and the bot's polling job.
A scope is a Discord server's id, or None for the command line's own feeds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiohttp.abc import AbstractResolver

    from bot.services.shared import Services
    from briefs.feeds.fetch import Fetcher, FetchResult
    from briefs.feeds.parse import ParsedFeed
    from briefs.feeds.poll import FeedOutcome, Poller, PollSummary
    from briefs.feeds.suggested import SuggestedFeed
    from briefs.store.feeds import Feed


class FeedService:
    """The feeds of every scope of one store."""

    def __init__(self, services: Services) -> None:
        self._shared = services

    def due(self) -> list[Feed]:
        """Feeds due for a poll now (for a progress bar's total)."""
        return self._shared.store.feeds.due(self._shared.clock())

    def of_scope(self, scope: str | None) -> list[Feed]:
        return self._shared.store.feeds.list_feeds(scope)

    def suggested(self, scope: str | None) -> list[tuple[SuggestedFeed, Feed | None]]:
        """The suggested feeds (shipped, or the user's [feeds] suggested_file), each with the
        scope's feed that follows it, or None. Read on every call: the file is small, and an
        edit then shows without a restart."""
        from briefs.feeds.suggested import load_suggested, mark_followed

        suggested = load_suggested(
            self._shared.settings.feeds.suggested_file, set(self._shared.lexicon.topics)
        )
        return mark_followed(suggested, self.of_scope(scope))

    def remove(self, ref: str, scope: str | None) -> Feed:
        """Stop following a feed of the guild's scope (its items stay)."""
        feed = self._shared.store.feeds.find(ref, scope)
        self._shared.store.feeds.remove(feed.id, self._shared.clock())
        return feed

    def enable(self, ref: str, scope: str | None) -> Feed:
        feed = self._shared.store.feeds.find(ref, scope)
        self._shared.store.feeds.enable(feed.id, self._shared.clock())
        return feed

    def fetcher(self, resolver: AbstractResolver | None = None) -> Fetcher:
        """An HTTP fetcher with the [feeds] settings (use as ``async with``)."""
        from briefs.feeds.fetch import Fetcher, FetchSettings

        return Fetcher(
            FetchSettings.from_settings(self._shared.settings.feeds), resolver, self._shared.clock
        )

    def poller(self, fetcher: Fetcher) -> Poller:
        """A poller over this store that analyses what new items bring."""
        from briefs.feeds.decide import Policy
        from briefs.feeds.poll import Poller

        feeds = self._shared.settings.feeds
        policy = Policy(
            min_interval=timedelta(minutes=feeds.min_interval_minutes),
            default_interval=timedelta(minutes=feeds.default_interval_minutes),
            max_interval=timedelta(minutes=feeds.max_interval_minutes),
            max_failures=feeds.max_failures,
        )
        return Poller(
            self._shared.store,
            fetcher,
            policy,
            self._shared.clock,
            concurrency=feeds.concurrency,
            analyze=self._shared.analyze,
            max_items=feeds.max_items_per_fetch,
            outlets=self._shared.outlets,
        )

    async def poll_due(
        self,
        owner: str,
        *,
        resolver: AbstractResolver | None = None,
        progress: Callable[[FeedOutcome], None] | None = None,
        on_batch: Callable[[PollSummary], None] | None = None,
        blocking: Callable[..., Awaitable[Any]] | None = None,
    ) -> PollSummary:
        """One polling round over leases (async): the due feeds no other process holds, as
        ``owner``, for ``[schedules] poll_lease_seconds``; feeds held elsewhere are skipped
        ("leased" outcomes). The bot's polling job and ``briefbot poll`` both run this."""
        import asyncio

        from briefs.feeds.poll import claim_batch, poll_leased

        lease = timedelta(seconds=self._shared.settings.schedules.poll_lease_seconds)

        @asynccontextmanager
        async def open_poller() -> AsyncIterator[Poller]:
            async with self.fetcher(resolver) as fetcher:
                yield self.poller(fetcher)

        run = blocking or asyncio.to_thread
        await run(lambda: self._shared.store)  # open the store off the event loop
        return await poll_leased(
            self._shared.store.feeds,
            self._shared.clock,
            open_poller,
            owner,
            lease,
            claim_batch(self._shared.settings.feeds, lease),
            progress=progress,
            on_batch=on_batch,
            blocking=run,
        )

    async def add(
        self,
        url: str,
        scope: str | None,
        *,
        backfill: int = 0,
        full_text: bool | None = None,
        channel_id: str | None = None,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        resolver: AbstractResolver | None = None,
    ) -> tuple[Feed, FeedOutcome, ParsedFeed]:
        """Follow a feed in a scope: fetched once now, its items stored (async)."""
        import asyncio

        from briefs.feeds.poll import add_feed

        if full_text is None:
            full_text = self._shared.settings.feeds.full_text
        await asyncio.to_thread(lambda: self._shared.store)  # open the store off the event loop
        async with self.fetcher(resolver) as fetcher:
            feed, outcome, parsed = await add_feed(
                self.poller(fetcher), url, scope, backfill, full_text
            )
        if channel_id:
            await asyncio.to_thread(
                self._shared.store.feeds.subscribe,
                feed.id,
                channel_id,
                self._shared.clock(),
                list(include),
                list(exclude),
            )
        return feed, outcome, parsed

    async def test(
        self, url: str, resolver: AbstractResolver | None = None
    ) -> tuple[FetchResult, ParsedFeed]:
        """Fetch and parse a feed, storing nothing (async)."""
        from briefs.feeds.poll import preview_feed

        async with self.fetcher(resolver) as fetcher:
            return await preview_feed(fetcher, url, self._shared.settings.feeds.max_items_per_fetch)
