"""Schedule and delivery-ledger storage: the source of truth the scheduler rebuilds from.

The ledger is what makes a digest post at most once per window, across restarts, retried
jobs and several processes on one store: before sending, a process inserts the row
``(schedule_id, window_end)`` under a unique constraint; an insert that conflicts means
another process (or an earlier run of this one) has that window, and it sends nothing.
After sending, the row records the message ids and its final status.

Statuses: ``claimed`` (sending, or the sender died), ``sent`` and ``empty`` (successes: the
next window starts at this one's end), ``partial`` (some messages sent), ``failed`` (nothing
sent, after retries), ``abandoned`` (a claim older than the stale limit: the sender died
between claiming and recording; never sent again). Only successes move the next window's
start, so the items of a window that failed or was abandoned appear in the next digest:
an item may be announced twice after a crash, but never lost, and a window never twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from briefs.errors import InputError, NotFoundError
from briefs.schedules import Timing
from briefs.store.queries import in_scope
from briefs.store.schema import deliveries, documents, feed_entries, feeds, schedules
from briefs.store.schema import names as names_table

SUCCESS = ("sent", "empty")
FINAL = ("sent", "empty", "partial", "failed", "abandoned")


@dataclass(frozen=True)
class Schedule:
    id: int
    scope_id: str | None
    channel_id: str | None
    webhook_url: str | None
    timing: Timing
    topics: tuple[str, ...]
    entities: tuple[str, ...]
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    active_since: datetime
    created_at: datetime
    updated_at: datetime

    @property
    def target(self) -> str:
        """Where it posts, safe to show: a channel mention, or the webhook URL masked."""
        if self.channel_id is not None:
            return f"channel {self.channel_id}"
        return f"webhook {mask_webhook(self.webhook_url or '')}"

    def describe(self) -> str:
        parts = [f"[{self.id}] {self.timing.describe()} to {self.target}"]
        if self.topics:
            parts.append("topics " + ", ".join(self.topics))
        if self.entities:
            parts.append("entities " + ", ".join(self.entities))
        return "; ".join(parts)


@dataclass(frozen=True)
class Delivery:
    id: int
    schedule_id: int
    window_start: datetime | None
    window_end: datetime
    status: str
    claimed_at: datetime
    claimed_by: str
    finished_at: datetime | None
    message_ids: tuple[str, ...]
    items: int | None
    error: str | None


def mask_webhook(url: str) -> str:
    """A webhook URL without its token (the token is a password for posting)."""
    head, _, tail = url.strip().rstrip("/").partition("?")[0].rpartition("/")
    if not head or not tail:
        return "…"
    return f"{head}/…"


def target_key(channel_id: str | None, webhook_url: str | None) -> str:
    """What makes two schedules of a scope the same one: the channel, or the webhook."""
    if (channel_id is None) == (webhook_url is None):
        raise InputError("a schedule posts to exactly one of: a channel, a webhook URL")
    if channel_id is not None:
        if not (channel_id.strip().isascii() and channel_id.strip().isdigit()):
            raise InputError(f"channel {channel_id!r}: expected a channel id (digits)")
        return f"channel:{channel_id.strip()}"
    digest = hashlib.sha256((webhook_url or "").strip().encode("utf-8")).hexdigest()[:32]
    return f"webhook:{digest}"


def _lines(values: Sequence[str]) -> str | None:
    cleaned = [v.strip() for v in values if v.strip()]
    return "\n".join(dict.fromkeys(cleaned)) or None


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v for v in (value or "").split("\n") if v)


class ScheduleStore:
    """Schedules and their delivery ledger, over the store's SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- schedules -----------------------------------------------------------------------

    def save(
        self,
        scope_id: str | None,
        timing: Timing,
        now: datetime,
        *,
        channel_id: str | None = None,
        webhook_url: str | None = None,
        topics: Sequence[str] = (),
        entities: Sequence[str] = (),
    ) -> Schedule:
        """Create the scope's schedule for a target, or replace its timing and filters.

        Setting a schedule again enables it (a fixed permission is confirmed this way). A new
        timing only fires from now on: no digest for a fire time already past.
        """
        key = target_key(channel_id, webhook_url)
        values: dict[str, Any] = {
            "kind": timing.kind,
            "weekday": timing.weekday,
            "local_time": timing.local_time.strftime("%H:%M"),
            "timezone": timing.timezone,
            "topics": _lines(topics),
            "entities": _lines(entities),
            "enabled": 1,
            "disabled_reason": None,
            "disabled_at": None,
            "updated_at": now,
        }
        with self.engine.begin() as conn:
            row = conn.execute(
                select(schedules).where(
                    and_(in_scope(schedules.c.scope_id, scope_id), schedules.c.target == key)
                )
            ).first()
            if row is None:
                result = conn.execute(
                    schedules.insert().values(
                        scope_id=scope_id,
                        target=key,
                        channel_id=channel_id.strip() if channel_id else None,
                        webhook_url=webhook_url.strip() if webhook_url else None,
                        active_since=now,
                        created_at=now,
                        **values,
                    )
                )
                schedule_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            else:
                schedule_id = int(row.id)
                same_timing = _timing(row) == timing
                if not same_timing or not row.enabled:
                    values["active_since"] = now
                conn.execute(update(schedules).where(schedules.c.id == row.id).values(**values))
        return self.get(schedule_id)

    def get(self, schedule_id: int) -> Schedule:
        found = self._select(schedules.c.id == schedule_id)
        if not found:
            raise NotFoundError(f"no schedule {schedule_id}")
        return found[0]

    def list_schedules(
        self, scope_id: str | None = None, *, every_scope: bool = False
    ) -> list[Schedule]:
        """A scope's schedules (None: the command line's), or every schedule."""
        if every_scope:
            return self._select(schedules.c.id.is_not(None))
        return self._select(in_scope(schedules.c.scope_id, scope_id))

    def enabled(self) -> list[Schedule]:
        return self._select(schedules.c.enabled == 1)

    def find(self, ref: str, scope_id: str | None) -> Schedule:
        """A schedule of the scope by id, channel id or webhook URL."""
        wanted = ref.strip()
        for schedule in self.list_schedules(scope_id):
            if wanted in {str(schedule.id), schedule.channel_id, schedule.webhook_url}:
                return schedule
        raise NotFoundError(f"no schedule {wanted!r} here (see: briefbot schedule show)")

    def remove(self, schedule_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(deliveries.delete().where(deliveries.c.schedule_id == schedule_id))
            conn.execute(schedules.delete().where(schedules.c.id == schedule_id))

    def disable(self, schedule_id: int, reason: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(schedules)
                .where(schedules.c.id == schedule_id)
                .values(enabled=0, disabled_reason=reason[:500], disabled_at=now, updated_at=now)
            )

    def enable(self, schedule_id: int, now: datetime) -> None:
        """Resume a disabled schedule from now on (missed fire times are not posted)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(schedules)
                .where(schedules.c.id == schedule_id)
                .values(
                    enabled=1,
                    disabled_reason=None,
                    disabled_at=None,
                    active_since=now,
                    updated_at=now,
                )
            )

    def _select(self, condition: Any) -> list[Schedule]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(schedules).where(condition).order_by(schedules.c.id)).all()
        return [
            Schedule(
                id=r.id,
                scope_id=r.scope_id,
                channel_id=r.channel_id,
                webhook_url=r.webhook_url,
                timing=_timing(r),
                topics=_split(r.topics),
                entities=_split(r.entities),
                enabled=bool(r.enabled),
                disabled_reason=r.disabled_reason,
                disabled_at=r.disabled_at,
                active_since=r.active_since,
                created_at=r.created_at,
                updated_at=r.updated_at,
            )
            for r in rows
        ]

    # -- the ledger ----------------------------------------------------------------------

    def claim(
        self,
        schedule_id: int,
        window_start: datetime | None,
        window_end: datetime,
        now: datetime,
        owner: str,
    ) -> Delivery | None:
        """Take a window before sending it; None when it is taken already (by anyone)."""
        try:
            with self.engine.begin() as conn:
                result = conn.execute(
                    deliveries.insert().values(
                        schedule_id=schedule_id,
                        window_start=window_start,
                        window_end=window_end,
                        status="claimed",
                        claimed_at=now,
                        claimed_by=owner[:64],
                    )
                )
                delivery_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        except IntegrityError:
            return None
        return self.delivery(delivery_id)

    def record_message(self, delivery_id: int, message_ids: Sequence[str]) -> None:
        """Note the messages sent so far (each as soon as it is sent, for crash forensics)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery_id)
                .values(message_ids=",".join(message_ids) or None)
            )

    def finish(
        self,
        delivery_id: int,
        status: str,
        now: datetime,
        *,
        message_ids: Sequence[str] = (),
        items: int | None = None,
        error: str | None = None,
    ) -> None:
        if status not in FINAL:
            raise ValueError(f"not a final delivery status: {status}")
        with self.engine.begin() as conn:
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery_id)
                .values(
                    status=status,
                    finished_at=now,
                    message_ids=",".join(message_ids) or None,
                    items=items,
                    error=error[:500] if error else None,
                )
            )

    def abandon_stale(self, now: datetime, older_than: timedelta) -> list[Delivery]:
        """Claims older than ``older_than`` whose sender never finished: final, never re-sent.
        Those with message ids recorded become ``partial``, the others ``abandoned``."""
        cutoff = now - older_than
        stale = and_(deliveries.c.status == "claimed", deliveries.c.claimed_at < cutoff)
        with self.engine.begin() as conn:
            ids = [r.id for r in conn.execute(select(deliveries.c.id).where(stale))]
            if not ids:
                return []
            for status, has_ids in (("partial", True), ("abandoned", False)):
                condition = (
                    deliveries.c.message_ids.is_not(None)
                    if has_ids
                    else deliveries.c.message_ids.is_(None)
                )
                conn.execute(
                    update(deliveries)
                    .where(and_(deliveries.c.id.in_(ids), stale, condition))
                    .values(
                        status=status,
                        finished_at=now,
                        error="the sender stopped between claiming and finishing",
                    )
                )
        return [d for d in (self.delivery(i) for i in ids)]

    def delivery(self, delivery_id: int) -> Delivery:
        found = self._deliveries(deliveries.c.id == delivery_id)
        if not found:
            raise NotFoundError(f"no delivery {delivery_id}")
        return found[0]

    def deliveries(
        self, schedule_id: int | None = None, limit: int | None = None
    ) -> list[Delivery]:
        """A schedule's deliveries (or all), newest window first."""
        if schedule_id is None:
            return self._deliveries(deliveries.c.id.is_not(None), limit)
        return self._deliveries(deliveries.c.schedule_id == schedule_id, limit)

    def last_success_end(self, schedule_id: int) -> datetime | None:
        """Where the next digest starts: the end of the latest successful window; when none
        succeeded yet, the start of the first window tried (so a failed first digest's
        items are not lost either); None for a schedule that never ran."""
        return self.last_success_ends([schedule_id]).get(schedule_id)

    def last_success_ends(self, schedule_ids: Sequence[int] | None = None) -> dict[int, datetime]:
        """``last_success_end`` of many schedules in two queries."""
        ids = list(schedule_ids) if schedule_ids is not None else None
        success = (
            select(deliveries.c.schedule_id, func.max(deliveries.c.window_end))
            .where(deliveries.c.status.in_(SUCCESS))
            .group_by(deliveries.c.schedule_id)
        )
        tried = select(deliveries.c.schedule_id, func.min(deliveries.c.window_start)).group_by(
            deliveries.c.schedule_id
        )
        if ids is not None:
            success = success.where(deliveries.c.schedule_id.in_(ids))
            tried = tried.where(deliveries.c.schedule_id.in_(ids))
        with self.engine.connect() as conn:
            ends = conn.execute(success).all()
            starts = conn.execute(tried).all()
        # min()/max() over the stored text lose the column type: parse like UTCDateTime does.
        found = {int(r[0]): _parse(r[1]) for r in starts if r[1] is not None}
        found.update({int(r[0]): _parse(r[1]) for r in ends if r[1] is not None})
        return found

    def _deliveries(self, condition: Any, limit: int | None = None) -> list[Delivery]:
        query = (
            select(deliveries)
            .where(condition)
            .order_by(deliveries.c.window_end.desc(), deliveries.c.id.desc())
        )
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            Delivery(
                id=r.id,
                schedule_id=r.schedule_id,
                window_start=r.window_start,
                window_end=r.window_end,
                status=r.status,
                claimed_at=r.claimed_at,
                claimed_by=r.claimed_by,
                finished_at=r.finished_at,
                message_ids=tuple(i for i in (r.message_ids or "").split(",") if i),
                items=r.items,
                error=r.error,
            )
            for r in rows
        ]

    # -- what a window holds -------------------------------------------------------------

    def window_documents(self, scope_id: str | None, start: datetime, end: datetime) -> list[str]:
        """Documents new for a scope in ``(start, end]``: items its feeds brought first in
        the window (still marked new), and files or seeds ingested in it. First seen, not
        published: an item published while the bot was down is still new."""
        feed_query = (
            select(feed_entries.c.document_id)
            .join(feeds, feeds.c.id == feed_entries.c.feed_id)
            .where(
                and_(
                    in_scope(feeds.c.scope_id, scope_id),
                    feed_entries.c.new == 1,
                    feed_entries.c.first_seen_at > start,
                    feed_entries.c.first_seen_at <= end,
                )
            )
        )
        other_query = select(documents.c.id).where(
            and_(
                documents.c.origin != "feed",
                documents.c.fetched_at > start,
                documents.c.fetched_at <= end,
            )
        )
        with self.engine.connect() as conn:
            found = [r[0] for r in conn.execute(feed_query)]
            found += [r[0] for r in conn.execute(other_query)]
        return sorted(set(found))

    def window_names(self, document_ids: Sequence[str], minimum: int = 2) -> list[tuple[str, int]]:
        """Names the gazetteer does not know, in these documents, most frequent first."""
        ids = list(document_ids)
        if not ids:
            return []
        total = func.sum(names_table.c.count)
        query = (
            select(names_table.c.name, total)
            .where(names_table.c.document_id.in_(ids))
            .group_by(names_table.c.name)
            .having(or_(total >= minimum, func.count() >= 2))
            .order_by(total.desc(), names_table.c.name)
        )
        with self.engine.connect() as conn:
            return [(name, int(n)) for name, n in conn.execute(query).all()]


def _timing(row: Any) -> Timing:
    hours, minutes = (int(p) for p in str(row.local_time).split(":"))
    return Timing(row.kind, time(hours, minutes), row.timezone, row.weekday)


def _parse(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    from datetime import UTC

    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
