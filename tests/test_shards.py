"""Shards: which guilds a process serves (``bot.shards``), and a process scheduling only the
digests of its own shards' guilds. On the suite's store (SQLite, or PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.scheduler import job_id
from bot.settings import discord_settings
from bot.shards import ALL, Shards, shard_of
from briefs.clock import FrozenClock
from briefs.schedules import make_timing
from briefs.settings import load_settings
from tests.schedule_kit import Recorder, process, scheduler_for, settings_env, stop

NOW = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)


def guild_on(shard: int, count: int, n: int = 1) -> str:
    """A snowflake-shaped guild id on ``shard`` of ``count``."""
    return str(((shard + count * n) << 22) | 0x2A5)


def test_shard_of_is_discords_formula() -> None:
    # Discord's documented example: (guild_id >> 22) % num_shards.
    assert shard_of(41771983423143937, 1) == 0
    assert shard_of(41771983423143937, 16) == 6  # 41771983423143937 >> 22 = 9959216934
    assert [shard_of(guild_on(s, 3), 3) for s in range(3)] == [0, 1, 2]
    assert shard_of("81384788765712384", 4) == 2  # ids as text too
    # The low 22 bits (worker, process, increment) never move a guild to another shard.
    assert shard_of((7 << 22) | 0x3FFFFF, 5) == shard_of(7 << 22, 5) == 2
    assert shard_of(None, 3) == shard_of("", 3) == 0  # no guild: shard 0, as Discord's DMs
    with pytest.raises(ValueError):
        shard_of(1, 0)
    with pytest.raises(ValueError):
        shard_of(-5, 2)


def test_shards_of_a_process() -> None:
    assert ALL.everything and ALL.owns(guild_on(1, 3))
    assert Shards.of(0).everything  # not sharded
    assert Shards.of(3).everything and Shards.of(3, [0, 1, 2]).everything  # all here
    mine = Shards.of(3, [1])
    assert not mine.everything
    assert [mine.owns(guild_on(s, 3)) for s in range(3)] == [False, True, False]
    assert not mine.owns(None)  # shard 0's
    assert Shards.of(3, [0, 2]).describe() == "shards 0,2 of 3"
    with pytest.raises(ValueError, match=r"outside 0\.\.2"):
        Shards.of(3, [3])
    settings = load_settings(
        {"BRIEFBOT_DISCORD_SHARD_COUNT": "4", "BRIEFBOT_DISCORD_SHARD_IDS": "1,3", "HOME": "/x"}
    )
    assert Shards.from_settings(discord_settings(settings)) == Shards(4, frozenset({1, 3}))


def test_a_process_runs_only_its_own_shards_schedules(db_url: str, tmp_path: Path) -> None:
    env = settings_env(db_url, str(tmp_path))
    clock = FrozenClock(NOW)
    recorder = Recorder()
    timing = make_timing("daily", "08:00", "UTC")
    shard0 = process(env, clock, recorder, shards=Shards.of(2, [0]))
    shard1 = process(env, clock, recorder, shards=Shards.of(2, [1]))
    try:
        store = shard0.services.store
        mine = store.schedules.save(guild_on(0, 2), timing, clock(), channel_id="1001")
        theirs = store.schedules.save(guild_on(1, 2), timing, clock(), channel_id="1002")
        cli = store.schedules.save(
            None, timing, clock(), webhook_url="https://discord.com/api/webhooks/1/abc"
        )
        clock.now = NOW + timedelta(hours=1, seconds=5)
        window = shard0.due(mine, None, clock())
        assert window is not None

        scheduler = scheduler_for(shard0)
        scheduler.sync(store.schedules.enabled())
        assert sorted(scheduler._known) == sorted([mine.id, cli.id])  # no job for theirs
        assert scheduler.aps.get_job(job_id(theirs.id)) is None
        assert asyncio.run(shard0.run_schedule(theirs.id)).status == "elsewhere"
        ran = asyncio.run(shard0.run_due())
        assert sorted((r.schedule_id, r.status) for r in ran) == [
            (mine.id, "sent"),
            (cli.id, "sent"),
        ]
        ran = asyncio.run(shard1.run_due())
        assert [(r.schedule_id, r.status) for r in ran] == [(theirs.id, "sent")]
        # Two processes that both think they own a guild (a shard moving between them):
        # the ledger still lets only one post a window.
        both = process(env, clock, recorder)  # all shards
        try:
            assert asyncio.run(both.deliver(mine, window, clock())).status == "taken"
        finally:
            stop(both)
        assert sorted(p.schedule_id for p in recorder.posts) == sorted([mine.id, theirs.id, cli.id])
    finally:
        stop(shard0)
        stop(shard1)
