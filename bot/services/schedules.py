"""Scheduled digests as use cases: set, list, find and clear a scope's schedules.

One implementation for every front end: ``briefbot schedule`` and ``/schedule`` parse their
input, call these, and format what comes back, so a rule (a weekday only for a weekly
schedule, a known topic, a safe webhook URL) holds the same on both. Nothing here posts a
digest; ``bot.services.digests.DigestService`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from briefs.schedules import make_timing, next_fire

if TYPE_CHECKING:
    from bot.services.shared import Services
    from briefs.store.schedules import Delivery, Schedule


@dataclass(frozen=True)
class SavedSchedule:
    """A schedule just set (so enabled) and when its next digest is due."""

    schedule: Schedule
    next_digest: datetime


@dataclass(frozen=True)
class ScheduleStatus:
    """A schedule as a person asks after it: timing, state, next digest, recent posts."""

    schedule: Schedule
    recent: tuple[Delivery, ...]
    next_digest: datetime | None  # None when disabled

    def text(self) -> str:
        """Plain lines, the same on the command line and in Discord (in a code block)."""
        schedule = self.schedule
        scope = f"server {schedule.scope_id}" if schedule.scope_id else "command line"
        lines = [f"{schedule.describe()} ({scope})"]
        if self.next_digest is not None:
            lines.append(f"    next digest {local_time(self.next_digest, schedule)}")
        else:
            lines.append(f"    DISABLED: {schedule.disabled_reason}")
            lines.append("    fix the cause, then set the schedule again to resume it")
        for d in self.recent:
            state = d.status
            if d.message_ids:
                state += f", {len(d.message_ids)} messages"
            if d.error:
                state += f": {d.error}"
            lines.append(f"    window ending {local_time(d.window_end, schedule)}: {state}")
        if not self.recent:
            lines.append("    no digest posted yet")
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        s = self.schedule
        return {
            "id": s.id,
            "guild_id": s.scope_id,
            "target": s.target,
            "kind": s.timing.kind,
            "weekday": s.timing.weekday,
            "time": s.timing.local_time.strftime("%H:%M"),
            "timezone": s.timing.timezone,
            "topics": list(s.topics),
            "entities": list(s.entities),
            "enabled": s.enabled,
            "disabled_reason": s.disabled_reason,
            "next_digest": iso(self.next_digest),
            "deliveries": [
                {
                    "window_start": iso(d.window_start),
                    "window_end": iso(d.window_end),
                    "status": d.status,
                    "messages": list(d.message_ids),
                    "error": d.error,
                }
                for d in self.recent
            ],
        }


def local_time(value: datetime, schedule: Schedule) -> str:
    """An instant in the schedule's own zone, with UTC beside it."""
    local = value.astimezone(schedule.timing.zone)
    return f"{local:%Y-%m-%d %H:%M} {schedule.timing.timezone} ({value:%H:%M} UTC)"


class ScheduleService:
    """Schedules of a scope (a Discord server's id, or None for the command line)."""

    def __init__(self, services: Services) -> None:
        self._shared = services

    def set(
        self,
        scope: str | None,
        *,
        kind: str,
        time: str,
        timezone: str,
        weekday: str | None = None,
        channel_id: str | None = None,
        webhook_url: str | None = None,
        topics: Sequence[str] = (),
        entities: Sequence[str] = (),
    ) -> SavedSchedule:
        """Create the scope's schedule for that channel or webhook, or change it; every part
        is checked before anything is stored (an unknown topic fails now, not at 08:00)."""
        timing = make_timing(kind, time, timezone, weekday)
        for topic in topics:
            self._shared.lexicon.topic(topic)
        if webhook_url is not None:
            from bot.delivery import check_webhook_url

            webhook_url = check_webhook_url(webhook_url)
        now = self._shared.clock()
        schedule = self._shared.store.schedules.save(
            scope,
            timing,
            now,
            channel_id=channel_id,
            webhook_url=webhook_url,
            topics=list(topics),
            entities=list(entities),
        )
        return SavedSchedule(schedule, next_fire(schedule.timing, now))

    def status(
        self, scope: str | None, *, every_scope: bool = False, recent: int = 5
    ) -> list[ScheduleStatus]:
        """The scope's schedules (or every scope's), each with its last ``recent`` posts."""
        store = self._shared.store.schedules
        found = (
            store.list_schedules(every_scope=True) if every_scope else store.list_schedules(scope)
        )
        now = self._shared.clock()
        return [
            ScheduleStatus(
                s,
                tuple(store.deliveries(s.id, limit=recent)),
                next_fire(s.timing, now) if s.enabled else None,
            )
            for s in found
        ]

    def of_scope(self, scope: str | None) -> list[Schedule]:
        """The scope's schedules, for pickers (autocomplete)."""
        return self._shared.store.schedules.list_schedules(scope)

    def enabled(self) -> list[Schedule]:
        """Every scope's enabled schedules (what the scheduler keeps jobs for)."""
        return self._shared.store.schedules.enabled()

    def abandon_stale(self, now: datetime, older_than: timedelta) -> list[Delivery]:
        """Give up claims older than ``older_than`` whose sender never finished (never sent
        again: with message ids recorded they are ``partial``, else ``abandoned``)."""
        return self._shared.store.schedules.abandon_stale(now, older_than)

    def get(self, schedule_id: int) -> Schedule:
        return self._shared.store.schedules.get(schedule_id)

    def find(self, ref: str, scope: str | None) -> Schedule:
        """A schedule of the scope by id, channel id or webhook URL (NotFoundError if none)."""
        return self._shared.store.schedules.find(ref, scope)

    def clear(self, ref: str, scope: str | None) -> Schedule:
        """Delete a schedule of the scope; returns what was deleted."""
        found = self.find(ref, scope)
        self._shared.store.schedules.remove(found.id)
        return found
