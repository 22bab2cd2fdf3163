"""The multi-process kill test (issue 7): three real bot processes share one store, one dies.

Three ``python -m tests.multiproc_bot`` processes (``briefbot run``'s own code, pointed at the
Discord API double and at a clock file by that test-only launcher) run shards 0, 1 and 2 of
3 against ONE store: PostgreSQL when a server is available (always in CI: the suite's
session server, also during the SQLite run), else a shared SQLite file. The double and the
feed server run in this process on 127.0.0.1. Six guilds (two per shard) each follow a feed
and have a daily digest at 08:00 UTC; every process polls feeds (leases in the store) and
posts digests for its own shard's guilds only.

Time is the clock file: it stands still until the test moves it, so each step is decided
by the test and checked by polling for its outcome with a deadline, never by sleeping.

1. Window 1: every guild's digest is posted once, each by its own shard's process.
2. The feeds get a new item and their answers are held back; every feed is claimed and in
   flight. The process holding the most leases is SIGKILLed. The others finish theirs; the
   dead one's feeds stay leased until the lease runs out (test time), then the others take
   them over: every new item is stored exactly once.
3. Window 2 comes while the dead shard is down: the others post only their own guilds.
   The dead process is restarted with the same shard id (decision in docs/scaling.md: a
   shard's guilds are served by that shard's process; a supervisor restarts it), and its
   start-up catch-up posts window 2 for its guilds, once.
4. Window 3: all post. In the end, every schedule has windows 1, 2 and 3 exactly once in
   the ledger, each claimed by a process of its own shard, and the double's channels hold
   exactly the ledger's messages: nothing posted twice, nothing lost.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text

from bot.services.shared import Services
from bot.shards import shard_of
from briefs.schedules import make_timing
from briefs.settings import load_settings
from briefs.store import SqlStore, open_store
from briefs.store.feeds import Feed
from tests import pg
from tests.discord_double import DiscordDouble, Guild
from tests.discord_double.server import BOT_TOKEN
from tests.feedserver import FeedServer, HeldFeeds
from tests.multiproc_bot import API_VARIABLE, CLOCK_VARIABLE, GATEWAY_VARIABLE, FileClock

ROOT = Path(__file__).resolve().parent.parent
SHARDS = 3
# Feeds are polled every 60 min +-10 % (briefs/feeds/decide.py): each step of the clock
# leaves at least that between polls of a feed, so every feed is due when the test says.
START = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
WINDOWS = [datetime(2026, 11, 22 + n, 8, 0, tzinfo=UTC) for n in range(3)]  # 08:00 UTC daily
LEASE = timedelta(minutes=2)  # in test time; the clock file moves it
DEADLINE = 30.0  # seconds of real time for any one step
T = TypeVar("T")


# -- the world: store, double, feeds -----------------------------------------------------------


@pytest.fixture
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One store for all processes: PostgreSQL whenever a server is available (the suite's
    session server; in CI on both runs), else an SQLite file on this machine."""
    if pg.wanted() or os.environ.get(pg.SERVER_URL_VARIABLE):
        return str(request.getfixturevalue("pg_url"))
    try:
        installed = (pg._bin_dir() / "initdb").exists()
    except pg.PostgresMissing:
        installed = False
    if not installed:
        return f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


@contextmanager
def double_on_a_thread() -> Iterator[tuple[DiscordDouble, Callable[[Callable[[], T]], T]]]:
    """A Discord API double on its own event loop thread, and a way to read its records on
    that loop (so a read never races a write)."""
    loop = asyncio.new_event_loop()
    double = DiscordDouble(shard_count=SHARDS)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def read(fn: Callable[[], T]) -> T:
        async def call() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(call(), loop).result(10)

    try:
        asyncio.run_coroutine_threadsafe(double.start(), loop).result(10)
        yield double, read
    finally:
        asyncio.run_coroutine_threadsafe(double.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


class Feeds(HeldFeeds):
    """The guilds' feeds: ``items`` per feed, answers held while the gate is shut."""

    def __init__(self, server: FeedServer, count: int) -> None:
        super().__init__(server, count, name="feed", deadline=DEADLINE)

    def fetchers(self, path: str, since: int = 0) -> list[str]:
        """Who asked for ``path`` (the contact in each User-Agent), from request ``since``."""
        found = []
        for requested, headers in self.server.requests[since:]:
            if requested == path:
                found.append(headers.get("User-Agent", "").rsplit("+", 1)[-1].rstrip(")"))
        return found


# -- the bot processes ------------------------------------------------------------------------


@dataclass
class Bot:
    shard: int
    log: Path
    popen: subprocess.Popen[bytes]
    pids: list[int] = field(default_factory=list)

    @property
    def contact(self) -> str:
        return f"mp-shard-{self.shard}"


class Cluster:
    """The three bot processes and what the test needs to start, kill and read them."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env = env
        self.folder = folder
        self.bots: dict[int, Bot] = {}

    def start(self, shard: int) -> Bot:
        env = {
            **self.env,
            "BRIEFBOT_DISCORD_SHARD_IDS": str(shard),
            "BRIEFBOT_FEEDS_CONTACT": f"mp-shard-{shard}",
        }
        log = self.folder / f"shard{shard}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                [sys.executable, "-m", "tests.multiproc_bot"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        bot = self.bots.get(shard)
        pids = [*bot.pids, popen.pid] if bot is not None else [popen.pid]
        self.bots[shard] = Bot(shard, log, popen, pids)
        return self.bots[shard]

    def shard_of_owner(self, owner: str) -> int:
        """The shard of the process that claimed as ``owner`` (``host:pid:random``)."""
        pid = int(owner.split(":")[-2])
        return next(b.shard for b in self.bots.values() if pid in b.pids)

    def kill(self, shard: int) -> None:
        popen = self.bots[shard].popen
        popen.send_signal(signal.SIGKILL)
        popen.wait(10)

    def check_alive(self, *, dead: frozenset[int] = frozenset()) -> None:
        for bot in self.bots.values():
            if bot.shard not in dead and bot.popen.poll() is not None:
                raise AssertionError(
                    f"bot process of shard {bot.shard} exited with {bot.popen.returncode}\n"
                    + self.logs()
                )

    def logs(self) -> str:
        return "\n".join(
            f"--- shard {b.shard} log (tail) ---\n" + b.log.read_text(errors="replace")[-3000:]
            for b in self.bots.values()
        )

    def stop(self) -> dict[int, int]:
        """SIGTERM every running process (the orderly stop); their exit codes."""
        codes: dict[int, int] = {}
        for bot in self.bots.values():
            if bot.popen.poll() is None:
                bot.popen.send_signal(signal.SIGTERM)
        for bot in self.bots.values():
            try:
                codes[bot.shard] = bot.popen.wait(15)
            except subprocess.TimeoutExpired:
                bot.popen.kill()
                codes[bot.shard] = bot.popen.wait(5)
        return codes


def wait_for(
    what: str, check: Callable[[], T], cluster: Cluster, dead: frozenset[int] = frozenset()
) -> T:
    """Poll ``check`` until it returns something true (the outcome, not a sleep, moves the
    test on); fail after DEADLINE seconds or when a process that should run has exited."""
    deadline = time.monotonic() + DEADLINE
    while True:
        value = check()
        if value:
            return value
        cluster.check_alive(dead=dead)
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{cluster.logs()}")
        time.sleep(0.05)


# -- the test ---------------------------------------------------------------------------------


def test_three_processes_share_the_work_and_survive_a_kill(shared_url: str, tmp_path: Path) -> None:
    clock = FileClock(tmp_path / "clock")
    clock.set(START)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIEFBOT_", "DISCORD_"))}
    env.update(
        {
            "BRIEFBOT_DATABASE_URL": shared_url,
            "HOME": str(tmp_path),
            "XDG_DATA_HOME": str(tmp_path),
            "BRIEFBOT_INGEST_SEED_CORPUS": "false",
            "BRIEFBOT_SCHEDULES_POST_WHEN_EMPTY": "true",  # every window posts something
            "BRIEFBOT_SCHEDULES_SWEEP_MINUTES": "0.004",  # a sweep every 0.24 s
            "BRIEFBOT_SCHEDULES_POLL_TICK_SECONDS": "0.2",
            "BRIEFBOT_SCHEDULES_POLL_JITTER_SECONDS": "0.01",
            "BRIEFBOT_SCHEDULES_POLL_LEASE_SECONDS": str(LEASE.total_seconds()),
            "BRIEFBOT_FEEDS_ALLOW_PRIVATE_ADDRESSES": "true",
            "BRIEFBOT_FEEDS_TOTAL_TIMEOUT": "20.0",
            "BRIEFBOT_DISCORD_SHARD_COUNT": str(SHARDS),
            "BRIEFBOT_DISCORD_SYNC_COMMANDS": "false",
            "BRIEFBOT_DISCORD_MAX_WORKERS": "2",
            "DISCORD_TOKEN": BOT_TOKEN,
            CLOCK_VARIABLE: str(clock.path),
        }
    )

    with (
        double_on_a_thread() as (double, read),
        FeedServer() as server,
        _store(shared_url) as store,
    ):
        env[API_VARIABLE] = double.api_url
        env[GATEWAY_VARIABLE] = double.gateway_url
        guilds = _guilds(double)
        feeds = Feeds(server, len(guilds))
        engine = Services(load_settings(env), clock)
        try:
            schedule_of, feed_ids = _follow_and_schedule(engine, guilds, feeds)
        finally:
            engine.close()
        shard_of_schedule = {sid: shard_of(gid, SHARDS) for gid, sid in schedule_of.items()}
        channel_of = {
            sid: double.guild(gid).channel("briefs").id for gid, sid in schedule_of.items()
        }
        cluster = Cluster(env, tmp_path)
        try:
            _run(
                cluster,
                clock,
                store,
                (double, read),
                feeds,
                feed_ids,
                shard_of_schedule,
                channel_of,
            )
        finally:
            feeds.gate.set()
            codes = cluster.stop()
        assert all(code == 0 for code in codes.values()), (codes, cluster.logs())
        violations = read(lambda: list(double.violations))
        assert violations == [], violations


def _run(
    cluster: Cluster,
    clock: FileClock,
    store: SqlStore,
    discord: tuple[DiscordDouble, Callable[[Callable[[], Any]], Any]],
    feeds: Feeds,
    feed_ids: list[int],
    shard_of_schedule: dict[int, int],
    channel_of: dict[int, int],
) -> None:
    double, read = discord
    for shard in range(SHARDS):
        cluster.start(shard)
    wait_for(
        "every shard to connect",
        lambda: (
            read(lambda: {p["shard"][0] for p in double.identify_payloads}) == set(range(SHARDS))
        ),
        cluster,
    )

    # 1. Window 1: each guild's digest, from its own shard's process; feeds polled again.
    clock.set(WINDOWS[0] + timedelta(seconds=30))
    wait_for("window 1 posted", lambda: _sent(store, WINDOWS[0]) == set(shard_of_schedule), cluster)
    wait_for("feeds polled", lambda: _all_polled(store, feed_ids, clock()), cluster)

    # 2. New items; answers held; every feed claimed and in flight; the busiest dies.
    feeds.items = 3
    feeds.gate.clear()
    mark = len(feeds.server.requests)
    claim_time = datetime(2026, 11, 22, 9, 10, tzinfo=UTC)  # each feed is due again
    clock.set(claim_time)
    held = wait_for("every feed claimed", lambda: _leases(store, feed_ids), cluster)
    # In flight: requested and held at the gate (at most [feeds] per_host_concurrency at
    # once per process: every feed is on 127.0.0.1).
    wait_for("fetches in flight", lambda: len(feeds.server.requests) > mark, cluster)
    owners = Counter(held.values())
    victim_owner = max(owners, key=lambda o: (owners[o], -cluster.shard_of_owner(o)))
    victim = cluster.shard_of_owner(victim_owner)
    victim_feeds = sorted(fid for fid, owner in held.items() if owner == victim_owner)
    assert all(store.feeds.get(fid).lease_until == claim_time + LEASE for fid in feed_ids)
    cluster.kill(victim)
    dead = frozenset({victim})
    feeds.gate.set()
    others = sorted(set(held) - set(victim_feeds))
    wait_for(
        "the survivors' own feeds polled",
        lambda: all(_polled_at(store, fid) == claim_time for fid in others),
        cluster,
        dead,
    )
    # The dead process's feeds stay its own until the lease runs out: nobody fetched them.
    for fid in victim_feeds:
        feed = store.feeds.get(fid)
        assert feed.lease_owner == victim_owner[:64] and feed.last_fetched_at != claim_time
        assert set(feeds.fetchers(_path(feed), mark)) <= {f"mp-shard-{victim}"}

    mark = len(feeds.server.requests)
    clock.set(claim_time + LEASE + timedelta(seconds=1))
    wait_for(
        "the dead process's feeds taken over",
        lambda: all(_polled_at(store, fid) == clock() for fid in victim_feeds),
        cluster,
        dead,
    )
    for fid in victim_feeds:
        takers = set(feeds.fetchers(_path(store.feeds.get(fid)), mark))
        assert takers and f"mp-shard-{victim}" not in takers, takers
    # Every item of every feed stored once: the third ones by whoever polled last.
    assert _entries_per_feed(store) == {fid: 3 for fid in held}
    assert _feed_documents(store) == 3 * len(held)

    # 3. Window 2 while the shard is down: the others post only their own guilds.
    clock.set(WINDOWS[1] + timedelta(seconds=30))
    survivors = {sid for sid, shard in shard_of_schedule.items() if shard != victim}
    orphans = set(shard_of_schedule) - survivors
    wait_for(
        "window 2 posted by the survivors",
        lambda: _sent(store, WINDOWS[1]) >= survivors,
        cluster,
        dead,
    )
    assert not _claimed(store, WINDOWS[1]) & orphans  # nobody ran the dead shard's guilds
    # The shard's process comes back (as a supervisor restarts it): its catch-up posts.
    cluster.start(victim)
    wait_for(
        "window 2 caught up by the restarted shard",
        lambda: _sent(store, WINDOWS[1]) == set(shard_of_schedule),
        cluster,
    )

    # 4. Window 3: everyone.
    clock.set(WINDOWS[2] + timedelta(seconds=30))
    wait_for("window 3 posted", lambda: _sent(store, WINDOWS[2]) == set(shard_of_schedule), cluster)

    # Nothing twice, nothing lost: the ledger...
    ledger = store.schedules.deliveries()
    assert Counter((d.schedule_id, d.window_end) for d in ledger) == {
        (sid, end): 1 for sid in shard_of_schedule for end in WINDOWS
    }
    assert {d.status for d in ledger} == {"sent"}
    for delivery in ledger:  # each window posted by a process of its own guild's shard
        assert (
            cluster.shard_of_owner(delivery.claimed_by) == shard_of_schedule[delivery.schedule_id]
        )
    # ... and what Discord (the double) holds: exactly the ledger's messages, each once.
    for sid, channel in channel_of.items():
        messages = read(lambda channel=channel: list(double.channel_messages(channel)))
        ids = [str(m.id) for m in messages]
        recorded = [i for d in ledger if d.schedule_id == sid for i in d.message_ids]
        assert sorted(ids) == sorted(recorded) and len(set(ids)) == len(ids)
        texts = {str(m.id): m.text() for m in messages}
        for delivery in (d for d in ledger if d.schedule_id == sid):
            end = f"to {delivery.window_end:%Y-%m-%d %H:%M}"
            assert any(end in texts[i] for i in delivery.message_ids), (end, texts)


# -- helpers ----------------------------------------------------------------------------------


@contextmanager
def _store(url: str) -> Iterator[SqlStore]:
    store = open_store(url)
    try:
        yield store
    finally:
        store.close()


def _guilds(double: DiscordDouble) -> list[Guild]:
    """Two guilds on each shard (ids are snowflakes, so their shards vary)."""
    per_shard: dict[int, list[Guild]] = {s: [] for s in range(SHARDS)}
    while any(len(g) < 2 for g in per_shard.values()):
        guild = double.add_guild(f"Analysts {len(double.guilds)}")
        shard = shard_of(guild.id, SHARDS)
        if len(per_shard[shard]) < 2:
            per_shard[shard].append(guild)
        else:
            double.guilds.remove(guild)  # not wanted; shift the next id to another shard
            double.new_id()
    return [g for s in range(SHARDS) for g in per_shard[s]]


def _follow_and_schedule(
    engine: Services, guilds: list[Guild], feeds: Feeds
) -> tuple[dict[int, int], list[int]]:
    """Each guild follows its own feed (first poll now, items stored) and gets a daily
    08:00 UTC digest in #briefs; the schedule id of each guild, and the feed ids."""
    schedules: dict[int, int] = {}
    feed_ids: list[int] = []
    timing = make_timing("daily", "08:00", "UTC")
    for guild, path in zip(guilds, feeds.paths, strict=True):
        feed, _, _ = asyncio.run(engine.feeds.add(feeds.server.url(path), str(guild.id)))
        feed_ids.append(feed.id)
        saved = engine.store.schedules.save(
            str(guild.id), timing, engine.clock(), channel_id=str(guild.channel("briefs").id)
        )
        schedules[guild.id] = saved.id
    return schedules, feed_ids


def _sent(store: SqlStore, end: datetime) -> set[int]:
    return {
        d.schedule_id
        for d in store.schedules.deliveries()
        if d.window_end == end and d.status == "sent"
    }


def _claimed(store: SqlStore, end: datetime) -> set[int]:
    return {d.schedule_id for d in store.schedules.deliveries() if d.window_end == end}


def _all_polled(store: SqlStore, feed_ids: list[int], at: datetime) -> bool:
    return all(_polled_at(store, fid) == at for fid in feed_ids)


def _leases(store: SqlStore, feed_ids: list[int]) -> dict[int, str] | None:
    """Feed id -> owner when every feed is leased (else None)."""
    found = [store.feeds.get(fid) for fid in feed_ids]
    if all(f.lease_owner for f in found):
        return {f.id: str(f.lease_owner) for f in found}
    return None


def _polled_at(store: SqlStore, feed_id: int) -> datetime | None:
    feed = store.feeds.get(feed_id)
    return feed.last_fetched_at if feed.lease_owner is None else None


def _path(feed: Feed) -> str:
    return "/" + feed.url.split("/", 3)[3]


def _entries_per_feed(store: SqlStore) -> dict[int, int]:
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT feed_id, count(*) FROM feed_entries GROUP BY feed_id"))
        return {int(r[0]): int(r[1]) for r in rows}


def _feed_documents(store: SqlStore) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(text("SELECT count(*) FROM documents WHERE origin = 'feed'")).scalar_one()
        )
