"""The Discord client: a sharding-ready bot that loads one cog per feature and syncs commands.

``setup_hook`` opens the store (through the shared ``Services``), loads ``COGS``, starts the
scheduler (``bot.scheduler``), and syncs the command tree: to the
development server at once when ``[discord] dev_guild_id`` is set, globally otherwise.
Blocking engine work runs in a thread pool of ``[discord] max_workers`` threads, so the event
loop stays free to acknowledge every interaction within Discord's 3 seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

import discord
from discord.ext import commands

from bot.cogs.common import RecentCitations
from bot.errors import on_app_command_error
from bot.scheduler import Scheduler, start_scheduler
from bot.services.shared import Services
from bot.settings import discord_settings
from briefs.settings import Settings

log = logging.getLogger("briefbot.discord")
# Stale documents re-analysed per worker-thread call (about 2-4 s of work at 50-100 a second).
REFRESH_BATCH = 200
READY_TTL = 10.0
P = ParamSpec("P")
T = TypeVar("T")

# One extension per feature, loaded in this order.
COGS: tuple[str, ...] = (
    "bot.cogs.briefs",
    "bot.cogs.sources",
    "bot.cogs.search",
    "bot.cogs.feeds",
    "bot.cogs.about",
    "bot.cogs.schedule",
)


def intents() -> discord.Intents:
    """Only what slash commands need: guild events. No members, no message content."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


# discord.py refuses a max_ratelimit_timeout under 30 s; above this it hands a 429 back as
# discord.RateLimited, so the digest service (not discord.py) decides whether to wait.
_MIN_RATELIMIT_TIMEOUT = 30.0
_MAX_RATELIMIT_TIMEOUT = 60.0


def ratelimit_timeout(settings: Settings) -> float:
    """How long discord.py itself waits out a 429 before raising discord.RateLimited.

    Without a limit discord.py sleeps whatever Discord asks (hours, on a bad day) and the
    schedules' ``max_rate_limit_wait_seconds`` never applies; with one, longer waits come back
    to `bot.delivery`, which waits up to that setting or fails the window.
    """
    wanted = settings.schedules.max_rate_limit_wait_seconds
    return max(_MIN_RATELIMIT_TIMEOUT, min(_MAX_RATELIMIT_TIMEOUT, wanted))


class BriefBot(commands.AutoShardedBot):
    """briefbot on Discord. One shard unless ``[discord] shard_count`` says otherwise."""

    def __init__(self, services: Services, *, resolver: Any = None, **options: Any) -> None:
        settings = self.discord_settings = discord_settings(services.settings)
        if settings.shard_count:
            options.setdefault("shard_count", settings.shard_count)
            if settings.shard_ids:
                options.setdefault("shard_ids", list(settings.shard_ids))
        else:
            options.setdefault("shard_count", 1)  # no GET /gateway/bot: one connection
        options.setdefault("max_ratelimit_timeout", ratelimit_timeout(services.settings))
        super().__init__(
            command_prefix=commands.when_mentioned,  # slash commands only; never reads messages
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            **options,
        )
        self.services = services
        # Stale analysis (another version, other domain data) is refreshed in the background
        # by one process (the one running shard 0): the bot starts at once after an upgrade.
        services.refresh_in_background = True
        self.refreshes_analysis = not settings.shard_ids or 0 in settings.shard_ids
        self._refresher: asyncio.Task[None] | None = None
        # Briefs need not re-check the whole store for unanalysed documents on every command:
        # feeds polled here are analysed as they arrive; other processes' ingests within 10 s.
        services.ready_ttl = READY_TTL
        # DNS for feed fetching (None: the system's); tests pin names to 127.0.0.1.
        self.resolver = resolver
        self.executor = ThreadPoolExecutor(
            max_workers=settings.max_workers, thread_name_prefix="briefbot-worker"
        )
        self.scheduler: Scheduler | None = None
        self.recent_citations = RecentCitations()
        # Set by the scheduler: the next digest time for a guild id (or None), for /about.
        self.next_digest: Callable[[int | None], datetime | None] | None = None
        self.tree.on_error = on_app_command_error  # type: ignore[method-assign]

    async def blocking(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run blocking engine work in the bot's worker threads, off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(func, *args, **kwargs))

    async def setup_hook(self) -> None:
        # The store is opened, seeded and analysed before any command can arrive.
        await self.blocking(self.services.ensure_ready)
        if self.refreshes_analysis:
            self._refresher = asyncio.create_task(self.refresh_stale_analysis())
        for name in COGS:
            await self.load_extension(name)
        self.scheduler = await start_scheduler(self)
        await self.sync_commands()

    async def sync_commands(self) -> None:
        """Register the slash commands with Discord (dev server at once, else globally)."""
        settings = self.discord_settings
        if not settings.sync_commands:
            return
        if settings.dev_guild_id:
            guild = discord.Object(id=int(settings.dev_guild_id))
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to server %s", len(synced), settings.dev_guild_id)
        else:
            synced = await self.tree.sync()
            log.info("synced %d commands globally", len(synced))

    async def on_ready(self) -> None:
        log.info("connected as %s to %d servers", self.user, len(self.guilds))

    async def refresh_stale_analysis(self) -> None:
        """Re-analyse documents analysed by another version or other domain data, a batch at
        a time in a worker thread, while the bot answers from their old analysis."""
        total = await self.blocking(self.services.stale_documents)
        if not total:
            return
        log.info(
            "refreshing the analysis of %d documents (analysed by another version or other "
            "domain data) in the background; briefs use their old analysis meanwhile",
            total,
        )
        started, done, tenth = time.monotonic(), 0, 0
        try:
            while True:
                count = await self.blocking(self.services.refresh_stale, REFRESH_BATCH)
                if not count:
                    break
                done += count
                if done * 10 // total > tenth and done < total:
                    tenth = done * 10 // total
                    log.info("refreshed %d of %d documents (%d %%)", done, total, tenth * 10)
        except Exception:
            log.exception("refreshing stale analysis stopped after %d documents", done)
            return
        took = time.monotonic() - started
        log.info("refreshed the analysis of %d documents in %.0f s", done, took)

    async def close(self) -> None:
        """Stop the analysis refresh, the scheduler, the connection, then the worker threads
        (whoever made the services closes the store)."""
        refresher, self._refresher = self._refresher, None
        if refresher is not None and not refresher.done():
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None:
            try:
                await scheduler.shutdown()
            except Exception:
                log.exception("stopping the scheduler failed; closing the bot anyway")
        await super().close()
        self.executor.shutdown(wait=False, cancel_futures=True)
