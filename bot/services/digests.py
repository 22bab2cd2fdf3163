"""Running a schedule: decide the window, claim it in the ledger, compose, send, record.

One ``DigestService`` serves the scheduler's jobs, ``/schedule post-now``, ``/digest`` and
the command line. Every run reads the store (not memory), so a restart, a second process or
a retried job decides the same thing, and the ledger's unique claim lets exactly one of them
send a window. Blocking work (store, composition) runs through ``blocking`` (the bot's
worker threads, or ``asyncio.to_thread``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp

from bot.delivery import (
    DeliveryFailed,
    RetryPolicy,
    Sleep,
    Target,
    send_all,
    target_for,
    tell_guild,
)
from bot.discord_render import DiscordMessage, render_for_discord
from bot.shards import ALL, Shards
from briefs.brief import Brief
from briefs.compose.digest import SETTLE, DigestRequest, compose_digest, is_empty
from briefs.errors import NotFoundError, internal_error
from briefs.schedules import DueWindow, due_window
from briefs.settings import ScheduleSettings
from briefs.store.base import process_owner
from briefs.store.schedules import Schedule

if TYPE_CHECKING:
    from bot.services.shared import Services

log = logging.getLogger("briefbot.schedules")
T = TypeVar("T")
Blocking = Callable[..., Awaitable[Any]]


@dataclass
class RunResult:
    """What one run of a schedule did (for logs, tests, ``/schedule post-now``)."""

    schedule_id: int
    # sent | empty | not_due | taken | failed | partial | disabled | inactive | gone
    # | elsewhere (its guild is on another process's shards)
    status: str
    window: DueWindow | None = None
    message_ids: list[str] = field(default_factory=list)
    error: str | None = None


def policy_of(settings: ScheduleSettings) -> RetryPolicy:
    return RetryPolicy(
        retries=settings.retries,
        backoff=settings.retry_backoff_seconds,
        max_rate_limit_wait=settings.max_rate_limit_wait_seconds,
    )


class DigestService:
    """Digests of the schedules in ``services``' store, sent through ``client``/``session``.

    ``services`` is ``bot.services.shared.Services`` (settings, clock, store, lexicon, templates).
    ``target_factory`` replaces Discord delivery (the soak benchmark records instead).
    ``shards``: the guilds whose schedules this process runs (``bot.shards``; all by default,
    as for the command line).
    """

    def __init__(
        self,
        services: Services,
        *,
        client: Any = None,
        session: aiohttp.ClientSession | None = None,
        blocking: Blocking | None = None,
        sleep: Sleep = asyncio.sleep,
        owner: str | None = None,
        target_factory: Callable[[Schedule], Target] | None = None,
        render: Callable[[Brief], list[DiscordMessage]] | None = None,
        notify: bool = True,
        shards: Shards = ALL,
    ) -> None:
        self.services = services
        self.shards = shards
        self.client = client
        self.session = session
        self.blocking: Blocking = blocking or asyncio.to_thread
        self.sleep = sleep
        self.owner = owner or process_owner()
        self.target_factory = target_factory
        self.render = render or self._render
        self.notify = notify
        self.on_disabled: Callable[[Schedule], None] | None = None

    @property
    def settings(self) -> ScheduleSettings:
        settings: ScheduleSettings = self.services.settings.schedules
        return settings

    @property
    def grace(self) -> timedelta:
        return timedelta(hours=self.settings.catch_up_hours)

    def now(self) -> datetime:
        now: datetime = self.services.clock()
        return now.replace(microsecond=0)

    # -- deciding ------------------------------------------------------------------------

    def due(self, schedule: Schedule, last_end: datetime | None, now: datetime) -> DueWindow | None:
        return due_window(
            schedule.timing,
            now,
            active_since=schedule.active_since,
            last_end=last_end,
            grace=self.grace,
        )

    def mine(self, schedule: Schedule) -> bool:
        """Whether this process runs ``schedule``: its guild is on one of our shards."""
        return self.shards.owns(schedule.scope_id)

    # -- running -------------------------------------------------------------------------

    async def run_schedule(self, schedule_id: int) -> RunResult:
        """Post the window a schedule owes now, if any and if nobody has posted it."""
        store = self.services.store
        try:
            schedule = await self.blocking(store.schedules.get, schedule_id)
        except NotFoundError:
            log.info("schedule %s: gone (cleared); nothing to do", schedule_id)
            return RunResult(schedule_id, "gone")
        if not self.mine(schedule):
            return RunResult(schedule_id, "elsewhere")
        if not schedule.enabled:
            return RunResult(schedule_id, "inactive", error=schedule.disabled_reason)
        now = self.now()
        last_end = await self.blocking(store.schedules.last_success_end, schedule_id)
        window = self.due(schedule, last_end, now)
        if window is None:
            return RunResult(schedule_id, "not_due")
        return await self.deliver(schedule, window, now)

    async def run_due(self, concurrency: int = 8) -> list[RunResult]:
        """Every enabled schedule of our shards that owes a window now: start-up catch-up
        and sweeps."""
        store = self.services.store
        schedules = [s for s in await self.blocking(store.schedules.enabled) if self.mine(s)]
        ends = await self.blocking(store.schedules.last_success_ends)
        now = self.now()
        owed = [(s, w) for s in schedules if (w := self.due(s, ends.get(s.id), now)) is not None]
        slots = asyncio.Semaphore(concurrency)

        async def one(schedule: Schedule, window: DueWindow) -> RunResult:
            async with slots:
                return await self.deliver(schedule, window, now)

        return list(await asyncio.gather(*(one(s, w) for s, w in owed)))

    async def post_now(self, schedule_id: int) -> RunResult:
        """Post what is new since the schedule's last digest, now (``/schedule post-now``).
        The next regular digest starts where this one ends."""
        store = self.services.store
        schedule = await self.blocking(store.schedules.get, schedule_id)
        now = self.now()
        last_end = await self.blocking(store.schedules.last_success_end, schedule_id)
        if last_end is not None and last_end >= now:
            return RunResult(schedule_id, "taken", error="a digest for this moment was just posted")
        start = last_end if last_end is not None else now - schedule.timing.period
        return await self.deliver(schedule, DueWindow(start, now), now, manual=True)

    async def deliver(
        self, schedule: Schedule, window: DueWindow, now: datetime, *, manual: bool = False
    ) -> RunResult:
        """Claim the window, then compose, send and record it (at most once per window)."""
        store = self.services.store
        ledger = store.schedules
        claim = await self.blocking(
            ledger.claim, schedule.id, window.start, window.end, now, self.owner
        )
        if claim is None:
            log.info(
                "schedule %s: window ending %s already claimed; not sending",
                schedule.id,
                window.end.isoformat(),
            )
            return RunResult(schedule.id, "taken", window)
        kind = "manual digest" if manual else "catch-up digest" if window.catch_up else "digest"
        try:
            brief = await self.blocking(self.compose, schedule, window.start, window.end)
            empty = is_empty(brief)
            if empty and not self.settings.post_when_empty:
                await self.blocking(ledger.finish, claim.id, "empty", self.now(), items=0)
                log.info(
                    "schedule %s: %s %s..%s: nothing new; nothing posted",
                    schedule.id,
                    kind,
                    window.start.isoformat(),
                    window.end.isoformat(),
                )
                return RunResult(schedule.id, "empty", window)
            messages = await self.blocking(self.render, brief)
            markdown = await self.blocking(self.services.render, brief, "md")
            target = (
                self.target_factory(schedule)
                if self.target_factory is not None
                else target_for(schedule, self.client, self.session)
            )

            async def progress(ids: list[str]) -> None:
                await self.blocking(ledger.record_message, claim.id, ids)

            ids = await send_all(
                target,
                messages,
                key=f"{schedule.id}:{window.end.isoformat()}",
                policy=policy_of(self.settings),
                sleep=self.sleep,
                on_sent=progress,
                markdown=markdown,
            )
        except DeliveryFailed as exc:
            return await self._failed(schedule, window, claim.id, exc)
        except Exception as exc:
            log.exception("schedule %s: digest for %s failed", schedule.id, window.end.isoformat())
            error = internal_error(exc)[:300]  # kept in the ledger and shown: no SQL
            await self.blocking(ledger.finish, claim.id, "failed", self.now(), error=error)
            return RunResult(schedule.id, "failed", window, error=error)
        items = len(brief.items())
        await self.blocking(
            ledger.finish, claim.id, "sent", self.now(), message_ids=ids, items=items
        )
        log.info(
            "schedule %s: %s %s..%s posted to %s: %d messages, %d statements",
            schedule.id,
            kind,
            window.start.isoformat(),
            window.end.isoformat(),
            schedule.target,
            len(ids),
            items,
        )
        return RunResult(schedule.id, "sent", window, ids)

    async def _failed(
        self, schedule: Schedule, window: DueWindow, delivery_id: int, exc: DeliveryFailed
    ) -> RunResult:
        store = self.services.store
        status = "partial" if exc.sent else "failed"
        reason = exc.failure.reason
        await self.blocking(
            store.schedules.finish,
            delivery_id,
            status,
            self.now(),
            message_ids=exc.sent,
            error=reason,
        )
        if not exc.disables:
            log.error(
                "schedule %s: digest ending %s %s: %s (its items go into the next digest)",
                schedule.id,
                window.end.isoformat(),
                status,
                reason,
            )
            return RunResult(schedule.id, status, window, exc.sent, reason)
        when = self.now().strftime("%Y-%m-%d %H:%M UTC")
        why = f"{reason} when posting to {schedule.target} on {when}"
        await self.blocking(store.schedules.disable, schedule.id, why, self.now())
        log.error("schedule %s disabled: %s", schedule.id, why)
        if self.on_disabled is not None:
            self.on_disabled(schedule)
        if self.notify:
            await tell_guild(self.client, schedule, reason)
        return RunResult(schedule.id, "disabled", window, exc.sent, why)

    # -- composing -----------------------------------------------------------------------

    def compose(
        self,
        schedule: Schedule | None,
        start: datetime,
        end: datetime,
        *,
        scope_id: str | None = None,
        topics: Sequence[str] = (),
        entities: Sequence[str] = (),
        settle: timedelta = SETTLE,
    ) -> Brief:
        """The digest of a window (blocking): for a schedule, or a scope with filters.
        ``settle``: see ``briefs.compose.digest.SETTLE`` (a preview, outside the ledger,
        needs none)."""
        self.services.ensure_ready()
        if schedule is not None:
            scope_id, topics, entities = schedule.scope_id, schedule.topics, schedule.entities
        label = schedule.timing.describe() if schedule is not None else None
        request = DigestRequest(
            scope_id=scope_id,
            start=start,
            end=end,
            topics=tuple(topics),
            entities=tuple(entities),
            max_items=self.settings.max_items,
            title=_title(start, end, schedule, label),
            settle=settle,
        )
        return compose_digest(self.services.store, self.services.lexicon, request, self.now())

    def preview(
        self,
        scope_id: str | None,
        *,
        topics: Sequence[str] = (),
        entities: Sequence[str] = (),
        since: datetime | None = None,
    ) -> Brief:
        """The digest a schedule of this scope would post now (blocking; no ledger): since
        its last digest, or the last day when it has none."""
        now = self.now()
        store = self.services.store
        start = since
        mine = store.schedules.list_schedules(scope_id)
        if start is None and mine:
            ends = store.schedules.last_success_ends([s.id for s in mine])
            start = max(ends.values()) if ends else None
            topics = topics or mine[0].topics
            entities = entities or mine[0].entities
        if start is None:
            start = now - timedelta(days=1)
        return self.compose(
            None,
            start,
            now,
            scope_id=scope_id,
            topics=topics,
            entities=entities,
            settle=timedelta(0),
        )

    def _render(self, brief: Brief) -> list[DiscordMessage]:
        return render_for_discord(brief, self.services.environment, attach_markdown=False)


def _title(start: datetime, end: datetime, schedule: Schedule | None, label: str | None) -> str:
    if schedule is not None:
        tz = schedule.timing.zone
        a, b = start.astimezone(tz), end.astimezone(tz)
        span = f"{a:%Y-%m-%d %H:%M} to {b:%Y-%m-%d %H:%M} {schedule.timing.timezone}"
        name = "Weekly digest" if schedule.timing.kind == "weekly" else "Daily digest"
        return f"{name}: {span}"
    return f"Digest: {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
