"""Schedules and the delivery ledger on a real SQLite file shared across "restarts".

Each "process" is a new engine, store and digest service on the same file, with its own
clock value; time moves by setting the clock, never by sleeping. Deliveries go to an
in-process recorder here; tests/test_schedules_delivery.py and tests/test_schedules_bot.py
send through the Discord API double with the real bot.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.services.digests import DigestService
from briefs.clock import FrozenClock
from briefs.errors import InputError
from briefs.schedules import make_timing
from briefs.store import open_store
from briefs.store.schedules import mask_webhook
from tests.feedserver import FeedServer, Route, item, rss
from tests.schedule_kit import Recorder, process, scheduler_for, settings_env, stop

GUILD = "111111111111111111"
CHANNEL = "222222222222222222"
KYIV = "Europe/Kyiv"  # 08:00 Kyiv = 06:00 UTC in November


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return settings_env(f"sqlite:///{tmp_path / 'shared.sqlite3'}", str(tmp_path))


def make_schedule(env: dict[str, str], at: datetime, when: str = "08:00", tz: str = KYIV) -> int:
    service = process(env, FrozenClock(at))
    schedule = service.services.store.schedules.save(
        GUILD, make_timing("daily", when, tz), at, channel_id=CHANNEL
    )
    stop(service)
    return schedule.id


def run_due(env: dict[str, str], at: datetime, recorder: Recorder) -> list[str]:
    """Start a process at ``at``, do its start-up sweep (catch-up), stop it."""
    service = process(env, FrozenClock(at), recorder)
    scheduler = scheduler_for(service, poll=False)
    try:
        results = asyncio.run(scheduler.sweep())
    finally:
        stop(service)
    return [r.status for r in results]


def ledger(env: dict[str, str]) -> list[tuple[str, str, str | None]]:
    store = open_store(env["BRIEFBOT_DATABASE_URL"])
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT window_end, status, message_ids FROM deliveries ORDER BY window_end")
            ).all()
        return [(r[0], r[1], r[2]) for r in rows]
    finally:
        store.close()


def test_a_digest_at_eight_local_posts_once(env: dict[str, str]) -> None:
    sid = make_schedule(env, utc(2026, 11, 21, 12))
    recorder = Recorder()
    assert run_due(env, utc(2026, 11, 22, 5, 59), recorder) == []  # 07:59 local
    assert recorder.posts == []
    assert run_due(env, utc(2026, 11, 22, 6, 0), recorder) == ["sent"]
    for minutes in (0, 1, 5, 30, 120):  # the same job retried, restarts, sweeps
        later = utc(2026, 11, 22, 6) + timedelta(minutes=minutes)
        assert run_due(env, later, recorder) == []
    assert len(recorder.by_schedule(sid)) == 1
    assert ledger(env) == [("2026-11-22T06:00:00+00:00", "sent", recorder.posts[0].message_id)]


def test_killed_at_0759_and_restarted_at_0830_posts_exactly_one_catch_up(
    env: dict[str, str],
) -> None:
    make_schedule(env, utc(2026, 11, 20, 12))
    recorder = Recorder()
    assert run_due(env, utc(2026, 11, 21, 6, 0), recorder) == ["sent"]  # yesterday's
    # Killed at 07:59 local (05:59 UTC): nothing runs until 08:30 local.
    assert run_due(env, utc(2026, 11, 22, 6, 30), recorder) == ["sent"]
    assert run_due(env, utc(2026, 11, 22, 6, 31), recorder) == []
    assert len(recorder.posts) == 2
    assert [row[0] for row in ledger(env)] == [
        "2026-11-21T06:00:00+00:00",
        "2026-11-22T06:00:00+00:00",
    ]


def test_after_days_of_downtime_one_catch_up_covers_the_gap(env: dict[str, str]) -> None:
    sid = make_schedule(env, utc(2026, 11, 17, 12))
    recorder = Recorder()
    assert run_due(env, utc(2026, 11, 18, 6, 1), recorder) == ["sent"]
    assert run_due(env, utc(2026, 11, 22, 7), recorder) == ["sent"]  # down 4 days
    assert len(recorder.posts) == 2
    store = open_store(env["BRIEFBOT_DATABASE_URL"])
    last = store.schedules.deliveries(sid, limit=1)[0]
    store.close()
    assert (last.window_start, last.window_end) == (utc(2026, 11, 18, 6), utc(2026, 11, 22, 6))


def test_killed_right_after_sending_posts_nothing_more(env: dict[str, str]) -> None:
    make_schedule(env, utc(2026, 11, 21, 12))
    recorder = Recorder()

    class Killed(BaseException):
        """The process dies: no except clause of the service runs."""

    service = process(env, FrozenClock(utc(2026, 11, 22, 6)), recorder)
    inner = service.target_factory
    assert inner is not None

    class DiesAfterSending:
        label = "dies"

        def __init__(self, schedule: object) -> None:
            self.target = inner(schedule)  # type: ignore[arg-type]

        async def send(self, message: object, nonce: str, markdown: str | None) -> str:
            await self.target.send(message, nonce, markdown)  # type: ignore[arg-type]
            raise Killed

    service.target_factory = DiesAfterSending  # type: ignore[assignment]
    scheduler = scheduler_for(service, poll=False)
    with pytest.raises(Killed):
        asyncio.run(scheduler.sweep())
    stop(service)
    assert len(recorder.posts) == 1
    assert ledger(env) == [("2026-11-22T06:00:00+00:00", "claimed", None)]
    # Restarted a few minutes later, then after the stale limit: never sent again.
    assert run_due(env, utc(2026, 11, 22, 6, 5), recorder) == ["taken"]
    assert run_due(env, utc(2026, 11, 22, 7, 0), recorder) == ["taken"]
    assert ledger(env) == [("2026-11-22T06:00:00+00:00", "abandoned", None)]
    assert len(recorder.posts) == 1
    # The next day's digest starts from the last confirmed one (items are not lost).
    assert run_due(env, utc(2026, 11, 23, 6, 0), recorder) == ["sent"]
    assert len(recorder.posts) == 2


def test_two_engines_racing_on_one_file_post_once(env: dict[str, str]) -> None:
    make_schedule(env, utc(2026, 11, 21, 12))
    recorder = Recorder()
    at = FrozenClock(utc(2026, 11, 22, 6, 0, 1))
    first, second = process(env, at, recorder), process(env, at, recorder)

    async def race() -> list[str]:
        results = await asyncio.gather(first.run_due(), second.run_due())
        return sorted(r.status for batch in results for r in batch)

    try:
        assert asyncio.run(race()) == ["sent", "taken"]
    finally:
        stop(first)
        stop(second)
    assert len(recorder.posts) == 1


def _child(url: str, home: str, queue: multiprocessing.Queue, barrier: object) -> None:  # type: ignore[type-arg]
    env = settings_env(url, home)
    recorder = Recorder()
    service: DigestService = process(env, FrozenClock(utc(2026, 11, 22, 6, 0, 2)), recorder)
    service.services.store.schedules.enabled()  # connected and migrated: now race
    barrier.wait(30)  # type: ignore[attr-defined]
    results = asyncio.run(service.run_due())
    stop(service)
    queue.put(([r.status for r in results], len(recorder.posts)))


def test_two_processes_on_the_same_store_post_once(env: dict[str, str], tmp_path: Path) -> None:
    make_schedule(env, utc(2026, 11, 21, 12))
    ctx = multiprocessing.get_context("spawn")
    queue, barrier = ctx.Queue(), ctx.Barrier(2)
    children = [
        ctx.Process(
            target=_child, args=(env["BRIEFBOT_DATABASE_URL"], str(tmp_path), queue, barrier)
        )
        for _ in range(2)
    ]
    for child in children:
        child.start()
    outcomes = [queue.get(timeout=60) for _ in children]
    for child in children:
        child.join(30)
        assert child.exitcode == 0
    statuses = sorted(s for found, _ in outcomes for s in found)
    # Both found the window owed and raced for it ("taken"), or the second already saw it
    # delivered: either way exactly one sent it.
    assert statuses in (["sent", "taken"], ["sent"])
    assert sum(posts for _, posts in outcomes) == 1
    assert [row[1] for row in ledger(env)] == ["sent"]


def test_dst_change_day_posts_once_at_the_right_local_time(env: dict[str, str]) -> None:
    make_schedule(env, utc(2026, 3, 6, 14), "08:00", "America/New_York")
    recorder = Recorder()
    clock = FrozenClock(utc(2026, 3, 7, 0))
    service = process(env, clock, recorder)
    scheduler = scheduler_for(service, poll=False)
    posted_at: list[datetime] = []
    try:
        while clock.now < utc(2026, 3, 10, 0):
            before = len(recorder.posts)
            asyncio.run(scheduler.sweep())
            if len(recorder.posts) > before:
                posted_at.append(clock.now)
            clock.advance(timedelta(minutes=15))
    finally:
        stop(service)
    # 08:00 EST, then 08:00 EDT on the change day, then 08:00 EDT.
    assert posted_at == [utc(2026, 3, 7, 13), utc(2026, 3, 8, 12), utc(2026, 3, 9, 12)]


def test_an_item_published_during_downtime_is_in_the_next_digest(env: dict[str, str]) -> None:
    env = {**env, "BRIEFBOT_FEEDS_ALLOW_PRIVATE_ADDRESSES": "true"}
    recorder = Recorder()
    with FeedServer() as server:
        server.routes["/feed"] = Route(rss("Sanctions Wire", [item(n) for n in range(1, 4)]))
        day1 = FrozenClock(utc(2026, 11, 21, 5))
        service = process(env, day1, recorder)
        asyncio.run(service.services.feeds.add(server.url("/feed"), GUILD))
        service.services.store.schedules.save(
            GUILD, make_timing("daily", "08:00", KYIV), day1(), channel_id=CHANNEL
        )
        scheduler = scheduler_for(service, poll=False)
        day1.now = utc(2026, 11, 21, 6)
        assert [r.status for r in asyncio.run(scheduler.sweep())] == ["sent"]
        assert "designation 1 " not in recorder.posts[-1].text  # first add: not news
        stop(service)  # down from day 1 06:00 (UTC) to day 2 05:00
        server.routes["/feed"] = Route(
            rss("Sanctions Wire", [item(n) for n in range(1, 5)])  # story 4 appears
        )
        day2 = FrozenClock(utc(2026, 11, 22, 5))
        service = process(env, day2, recorder)
        scheduler = scheduler_for(service)
        assert asyncio.run(scheduler.poll_feeds()) == 1
        day2.now = utc(2026, 11, 22, 6)
        assert [r.status for r in asyncio.run(scheduler.sweep())] == ["sent"]
        stop(service)
        assert scheduler.service is service
    digest = recorder.posts[-1].text
    assert "designation 4 targets 6 companies" in digest
    assert "designation 1 " not in digest


def test_schedule_rows_are_validated_and_the_webhook_is_never_shown(env: dict[str, str]) -> None:
    service = process(env, FrozenClock(utc(2026, 11, 22)))
    schedules = service.services.store.schedules
    timing = make_timing("daily", "08:00", KYIV)
    url = "https://discord.com/api/webhooks/123456789012345678/" + "s3cr3t" * 11
    hook = schedules.save(GUILD, timing, utc(2026, 11, 22), webhook_url=url)
    assert "s3cr" not in hook.describe() and "s3cr" not in mask_webhook(url)
    assert hook.target.startswith("webhook https://discord.com/api/webhooks/123456789012345678/")
    with pytest.raises(InputError, match="exactly one"):
        schedules.save(GUILD, timing, utc(2026, 11, 22))
    with pytest.raises(InputError, match="channel id"):
        schedules.save(GUILD, timing, utc(2026, 11, 22), channel_id="#general")
    # Setting the same target again replaces it (and re-enables it).
    first = schedules.save(GUILD, timing, utc(2026, 11, 22), channel_id=CHANNEL)
    schedules.disable(first.id, "Discord answered 403", utc(2026, 11, 22, 1))
    again = schedules.save(
        GUILD, make_timing("weekly", "09:00", KYIV, "mon"), utc(2026, 11, 22, 2), channel_id=CHANNEL
    )
    assert again.id == first.id and again.enabled and again.disabled_reason is None
    assert again.active_since == utc(2026, 11, 22, 2)
    assert [s.id for s in schedules.list_schedules(GUILD)] == [hook.id, first.id]
    assert schedules.list_schedules("999") == []
    stop(service)
