"""The bot's polling job with leases (``bot.scheduler.poll_feeds``): it claims due feeds in the
store, leaves those another process holds, takes over a dead process's feeds once their
lease ran out, and gives back what a round cut short did not poll. Real feeds over HTTP on
127.0.0.1, on the suite's store; the process-level kill test is tests/test_multiprocess.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from briefs.clock import FrozenClock
from briefs.feeds.poll import claim_batch
from briefs.settings import FeedSettings
from tests.feedserver import FeedServer, Route, item, rss
from tests.schedule_kit import process, scheduler_for, settings_env, stop

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)


def _env(db_url: str, home: Path) -> dict[str, str]:
    return settings_env(
        db_url,
        str(home),
        BRIEFBOT_FEEDS_ALLOW_PRIVATE_ADDRESSES="true",
        BRIEFBOT_SCHEDULES_POLL_LEASE_SECONDS=str(LEASE.total_seconds()),
    )


def test_claim_batches_fit_in_a_lease() -> None:
    feeds = FeedSettings(concurrency=8, total_timeout=30.0)
    assert claim_batch(feeds, timedelta(minutes=10)) == 80  # 10 waves of 8 at 60 s each
    assert claim_batch(feeds, timedelta(seconds=119)) == 8  # one wave at least
    assert claim_batch(feeds, timedelta(seconds=1)) == 8
    assert claim_batch(FeedSettings(concurrency=2, total_timeout=1.0), timedelta(seconds=10)) == 10


def test_polling_skips_held_feeds_and_takes_over_expired_ones(db_url: str, tmp_path: Path) -> None:
    clock = FrozenClock(NOW)
    service = process(_env(db_url, tmp_path), clock)
    try:
        with FeedServer() as server:
            feeds = service.services.store.feeds
            ids = []
            for n in range(3):
                path = f"/f{n}.xml"
                server.routes[path] = Route(rss(f"Wire {n}", [item(10 * n + 1)]))
                ids.append(feeds.add(server.url(path), f"f{n}", "1", None, NOW, False).id)
            # Another process claimed the first feed and died without polling it.
            [held] = feeds.claim_due(NOW, "host:99999:dead", LEASE, limit=1)
            assert held.id == ids[0]
            scheduler = scheduler_for(service)

            assert asyncio.run(scheduler.poll_feeds()) == 2
            assert sorted(p for p, _ in server.requests) == ["/f1.xml", "/f2.xml"]
            after = {fid: feeds.get(fid) for fid in ids}
            assert after[ids[0]].lease_owner == "host:99999:dead"
            assert after[ids[0]].last_fetched_at is None
            assert all(after[i].lease_owner is None for i in ids[1:])
            assert all(after[i].last_fetched_at == NOW for i in ids[1:])

            clock.advance(LEASE - timedelta(seconds=1))  # still the dead process's
            assert asyncio.run(scheduler.poll_feeds()) == 0
            clock.advance(timedelta(seconds=1))  # its lease ran out: taken over
            assert asyncio.run(scheduler.poll_feeds()) == 1
            taken = feeds.get(ids[0])
            assert taken.lease_owner is None and taken.last_fetched_at == clock.now
            assert taken.entries == 1
            assert [p for p, _ in server.requests[2:]] == ["/f0.xml"]
    finally:
        stop(service)


def test_a_round_cut_short_gives_its_feeds_back(db_url: str, tmp_path: Path) -> None:
    clock = FrozenClock(NOW)
    service = process(_env(db_url, tmp_path), clock)
    gate = threading.Event()
    try:
        with FeedServer() as server:

            async def held(request: web.Request) -> web.Response:
                await asyncio.get_running_loop().run_in_executor(None, gate.wait, 30)
                return web.Response(body=rss("Held", [item(1)]), content_type="text/xml")

            feeds = service.services.store.feeds
            ids = []
            for n in range(2):
                server.routes[f"/h{n}.xml"] = held
                ids.append(feeds.add(server.url(f"/h{n}.xml"), f"h{n}", "1", None, NOW, False).id)
            scheduler = scheduler_for(service)

            async def cut_short() -> None:
                task = asyncio.create_task(scheduler.poll_feeds())
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 10
                while len(server.requests) < 2:  # both fetches in flight
                    assert loop.time() < deadline, "the round never started"
                    await asyncio.sleep(0.01)
                assert all(feeds.get(fid).lease_owner == service.owner[:64] for fid in ids)
                task.cancel()  # the bot is stopping
                with contextlib.suppress(asyncio.CancelledError):
                    await task

            asyncio.run(cut_short())
            gate.set()
            # Given back at once: nobody waits ten minutes for a lease to run out.
            assert [feeds.get(fid).lease_owner for fid in ids] == [None, None]
            assert [f.id for f in feeds.claim_due(NOW, "another", LEASE)] == ids
    finally:
        gate.set()
        stop(service)
