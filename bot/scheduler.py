"""The bot's scheduler: APScheduler 3 (``AsyncIOScheduler``) on the bot's event loop.

``start_scheduler(bot)`` is called from the bot's ``setup_hook``. The store is the source of
truth: jobs are rebuilt from it at start-up, with explicit ids (``schedule:<id>``) and
``replace_existing``, ``coalesce`` and ``max_instances=1``, and a misfire grace measured in
hours (``[schedules] catch_up_hours``). A sweep job re-reads the store every few minutes
(schedules changed by ``briefbot schedule`` in another process), abandons stale claims and
posts anything due that a job missed; at start-up, once connected, the same sweep is the
catch-up of windows missed while down. Only the schedules of guilds on this process's shards
are run (``bot.shards``), and feeds are claimed with leases before polling, so several
processes can share one store (docs/scaling.md).

Jobs are the scheduler's own coroutine methods taking ids (``run_schedule(schedule_id)``,
``poll_feeds()``, ``sweep()``; the job store is in memory, so nothing is pickled), so a test
calls them directly to move time without sleeping; the state they need is on the instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.services.digests import DigestService, RunResult
from bot.shards import Shards
from briefs.clock import Clock
from briefs.feeds.poll import LEASED, PollSummary
from briefs.schedules import Timing, next_fire
from briefs.store.schedules import Schedule

if TYPE_CHECKING:
    from bot.app import BriefBot

log = logging.getLogger("briefbot.scheduler")
poll_log = logging.getLogger("briefbot.polling")


class TimingTrigger(BaseTrigger):  # type: ignore[misc]
    """Fires when ``briefs.schedules`` says a schedule fires: one source of truth for DST.

    APScheduler counts in wall-clock time; the engine in its injected ``clock``. Fire times
    are computed in the engine's time and handed to APScheduler shifted by the difference
    (nothing in production, where the clock is the system's), so a job fires when the
    engine, which decides what is due, agrees that the time has come.
    """

    def __init__(self, timing: Timing, clock: Clock | None = None) -> None:
        self.timing = timing
        self.clock = clock

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        skew = self.clock() - now if self.clock is not None else timedelta(0)
        after = (previous_fire_time if previous_fire_time is not None else now) + skew
        at = next_fire(self.timing, max(after, now + skew - timedelta(seconds=1)))
        return (at - skew).astimezone(self.timing.zone)

    def __str__(self) -> str:
        return f"timing[{self.timing.describe()}]"

    def __repr__(self) -> str:
        return f"<TimingTrigger ({self.timing.describe()})>"


def job_id(schedule_id: int) -> str:
    return f"schedule:{schedule_id}"


# -- the scheduler ---------------------------------------------------------------------------


class Scheduler:
    """Jobs for the schedules of ``service``'s store, plus feed polling and the sweep."""

    def __init__(
        self,
        service: DigestService,
        *,
        poll: bool = True,
        ready: Callable[[], Awaitable[Any]] | None = None,
        resolver: Any = None,
    ) -> None:
        self.service = service
        self.services = service.services
        self.poll = poll
        self.ready = ready
        self.resolver = resolver
        self.aps = AsyncIOScheduler(timezone=UTC)
        self._known: dict[int, Schedule] = {}
        self._startup: asyncio.Task[Any] | None = None
        service.on_disabled = lambda schedule: self._unschedule(schedule.id)

    @property
    def settings(self) -> Any:
        return self.services.settings.schedules

    def start(self) -> None:
        """Start on the running loop: jobs from the store, sweep, polling, then catch-up."""
        self.aps.start()
        self.sync(self.services.schedules.enabled())
        grace = int(self.settings.catch_up_hours * 3600)
        self.aps.add_job(
            self.sweep,
            IntervalTrigger(minutes=self.settings.sweep_minutes),
            id="sweep",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=grace,
        )
        if self.poll:
            self.aps.add_job(
                self.poll_feeds,
                IntervalTrigger(
                    seconds=self.settings.poll_tick_seconds,
                    jitter=self.settings.poll_jitter_seconds,
                ),
                id="poll-feeds",
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=grace,
            )
        self._startup = asyncio.get_running_loop().create_task(self._catch_up())
        log.info(
            "scheduler started: %d schedules (%s), sweep every %g min, feed polling %s",
            len(self._known),
            self.service.shards.describe(),
            self.settings.sweep_minutes,
            "on" if self.poll else "off",
        )
        fetch = self.services.settings.feeds.total_timeout
        if self.poll and self.settings.poll_lease_seconds < 2 * fetch:
            poll_log.warning(
                "[schedules] poll_lease_seconds (%g) is under twice [feeds] total_timeout "
                "(%g): another process may fetch a feed this one is still polling",
                self.settings.poll_lease_seconds,
                fetch,
            )

    async def _catch_up(self) -> list[RunResult]:
        if self.ready is not None:
            await self.ready()
        results = await self.sweep()
        posted = [r for r in results if r.status == "sent"]
        log.info("start-up catch-up: %d digests owed, %d posted", len(results), len(posted))
        return results

    async def caught_up(self) -> list[RunResult]:
        """Wait for the start-up catch-up (once connected) and return what it did."""
        if self._startup is None:
            return []
        return await asyncio.shield(self._startup)

    def sync(self, schedules: list[Schedule]) -> None:
        """Make the jobs match the enabled schedules (added, changed, removed)."""
        wanted = {s.id: s for s in schedules if s.enabled and self.service.mine(s)}
        for schedule_id in set(self._known) - set(wanted):
            self._unschedule(schedule_id)
        for schedule in wanted.values():
            if self._known.get(schedule.id) == schedule:
                continue
            self.aps.add_job(
                self.run_schedule,
                TimingTrigger(schedule.timing, self.services.clock),
                args=[schedule.id],
                id=job_id(schedule.id),
                name=f"digest {schedule.id}",
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=int(self.settings.catch_up_hours * 3600),
            )
            self._known[schedule.id] = schedule

    def refresh(self, schedule_id: int | None = None) -> None:
        """Re-read the store now (after ``/schedule set`` or ``clear``)."""
        self.sync(self.services.schedules.enabled())

    def _unschedule(self, schedule_id: int) -> None:
        self._known.pop(schedule_id, None)
        with contextlib.suppress(Exception):
            self.aps.remove_job(job_id(schedule_id))

    async def run_schedule(self, schedule_id: int) -> RunResult:
        """The job of one schedule: post the window it owes now, if nobody has."""
        return await self.service.run_schedule(schedule_id)

    async def sweep(self) -> list[RunResult]:
        """Re-read schedules, abandon stale claims, post anything due (also the catch-up)."""
        schedules = self.services.schedules
        stale = timedelta(minutes=self.settings.stale_claim_minutes)
        for delivery in await self.service.blocking(
            schedules.abandon_stale, self.service.now(), stale
        ):
            log.warning(
                "schedule %s: delivery of the window ending %s was claimed at %s and never "
                "finished (the process stopped); marked %s, not sent again",
                delivery.schedule_id,
                delivery.window_end.isoformat(),
                delivery.claimed_at.isoformat(),
                delivery.status,
            )
        self.sync(await self.service.blocking(schedules.enabled))
        return await self.service.run_due()

    async def poll_feeds(self) -> int:
        """Claim the due feeds no other process holds, poll them, give back any not polled
        (``Services.poll_due``: the same leases as ``briefbot poll``). Returns how many feeds
        were polled."""
        summary: PollSummary = await self.services.feeds.poll_due(
            self.service.owner,
            resolver=self.resolver,
            on_batch=self._log_round,
            blocking=self.service.blocking,
        )
        leased = summary.count(LEASED)
        if leased:
            poll_log.info("%d due feeds skipped: another process is polling them", leased)
        return len(summary.outcomes) - leased

    def _log_round(self, summary: PollSummary) -> None:
        poll_log.info("poll: %s", summary.line())
        for outcome in summary.outcomes:
            if outcome.status == "failed":
                poll_log.warning(
                    "feed %s %s: %s",
                    outcome.feed_id,
                    "disabled" if outcome.disabled else "failed",
                    outcome.error,
                )

    def next_digest(self, guild_id: int | str | None) -> datetime | None:
        """The next digest time of a guild (for ``/about``)."""
        key = str(guild_id) if guild_id is not None else None
        times = [
            next_fire(s.timing, self.service.now())
            for s in self._known.values()
            if s.scope_id == key
        ]
        return min(times) if times else None

    async def shutdown(self) -> None:
        if self._startup is not None and not self._startup.done():
            self._startup.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._startup
        if self.aps.running:
            self.aps.shutdown(wait=False)
        session = self.service.session
        if session is not None and not session.closed:
            await session.close()
        log.info("scheduler stopped")


async def start_scheduler(bot: BriefBot) -> Scheduler:
    """Called from the bot's ``setup_hook``: the scheduler on the bot's loop."""
    session = aiohttp.ClientSession()
    shards = Shards.from_settings(bot.discord_settings)
    service = DigestService(
        bot.services, client=bot, session=session, blocking=bot.blocking, shards=shards
    )
    scheduler = Scheduler(service, ready=bot.wait_until_ready, resolver=bot.resolver)
    await bot.blocking(bot.services.schedules.enabled)  # open the store off the loop
    scheduler.start()
    bot.next_digest = scheduler.next_digest
    return scheduler
