"""Polling many feeds over HTTP: ``python -m bench.poll_bench --feeds 1000``.

A separate process serves F feeds on 127.0.0.1 (each under its own host name, resolved to
127.0.0.1 by a fixed table, so the per-host limit applies as it would on the internet); the
``Poller`` fetches them with the real ``Fetcher`` (aiohttp, conditional GET, safety checks)
into a fresh SQLite store, pinned to one core while the server has the other.

Rounds, each over every feed:

1. first poll: every item is new (I items a feed);
2. then R steady rounds: each round one feed in ten has two new items; four feeds in five
   answer ``304 Not Modified`` to the stored ETag when unchanged, one in five ignores
   conditional requests and sends the same bytes again (a common publisher habit).

Analysis of the new documents (entities, stories) is timed apart: it runs after a round,
not per feed. The issue's target: 1,000 feeds polled within one minute by one process.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import html
import multiprocessing
import os
import platform
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

from bench.corpus import seed_paragraphs
from bench.ingest_bench import cpu_model
from briefs.analysis.pipeline import analyze_pending
from briefs.clock import FrozenClock
from briefs.feeds.decide import Policy
from briefs.feeds.fetch import Fetcher, FetchSettings
from briefs.feeds.poll import Poller, PollSummary
from briefs.feeds.safety import StaticResolver
from briefs.lexicon import load_lexicon
from briefs.store import open_store

START = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
NEW_PER_CHANGE = 2


def host(i: int) -> str:
    return f"outlet{i}.bench.test"


def _item(i: int, n: int, pool: list[str]) -> str:
    rng = random.Random(i * 100_003 + n)
    paragraphs = rng.sample(pool, rng.randint(3, 7))
    paragraphs.append(f"Dispatch {n} of outlet {i}, desk {rng.randint(1, 40)}.")
    body = html.escape("".join(f"<p>{html.escape(p)}</p>" for p in paragraphs))
    title = html.escape(rng.choice(pool).split(".")[0][:90])
    when = START + timedelta(minutes=11 * n + i)
    return (
        f"<item><title>{title}</title><guid>o{i}-{n}</guid>"
        f"<link>https://{host(i)}/news/{n}?utm_source=rss</link>"
        f"<pubDate>{when:%a, %d %b %Y %H:%M:%S} GMT</pubDate>"
        f"<description>{body}</description></item>"
    )


def serve(port_out: multiprocessing.Queue[int], feeds: int, items: int) -> None:  # type: ignore[type-arg]
    """The server process: feed i at round r holds its items, newest first."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {1 % (os.cpu_count() or 1)})
    pool = seed_paragraphs()
    state = {"round": 0}
    cache: dict[tuple[int, int], tuple[bytes, str]] = {}

    def count(i: int) -> int:
        # Feed i gains NEW_PER_CHANGE items in rounds r with r % 10 == i % 10 (r >= 1).
        r = state["round"]
        changes = sum(1 for k in range(1, r + 1) if k % 10 == i % 10)
        return items + NEW_PER_CHANGE * changes

    def body(i: int) -> tuple[bytes, str]:
        n = count(i)
        if (i, n) not in cache:
            entries = "".join(_item(i, k, pool) for k in range(n, max(0, n - items - 5), -1))
            doc = (
                '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>Outlet {i}</title><link>https://{host(i)}/</link>{entries}"
                "</channel></rss>"
            ).encode()
            cache[(i, n)] = (doc, '"' + hashlib.sha1(doc).hexdigest()[:16] + '"')
        return cache[(i, n)]

    async def feed(request: web.Request) -> web.Response:
        i = int(request.match_info["i"])
        doc, etag = body(i)
        conditional = i % 5 != 0
        if conditional and request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        headers = {"ETag": etag} if conditional else {}
        return web.Response(body=doc, content_type="application/rss+xml", headers=headers)

    async def set_round(request: web.Request) -> web.Response:
        state["round"] = int(request.match_info["r"])
        return web.Response(text="ok")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{i}.xml", feed)
        app.router.add_post("/round/{r}", set_round)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port_out.put(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        await asyncio.Event().wait()

    asyncio.run(main())


async def run(feeds: int, items: int, rounds: int, concurrency: int, port: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="briefbot-poll-"))
    store = open_store(f"sqlite:///{folder / 'store.sqlite3'}")
    clock = FrozenClock(START)
    resolver = StaticResolver({host(i): "127.0.0.1" for i in range(feeds)})
    settings = FetchSettings(allow_private=True, contact="bench@example.invalid")
    all_feeds = [
        store.feeds.add(u, u, None, None, clock(), False)
        for u in (f"http://{host(i)}:{port}/feed/{i}.xml" for i in range(feeds))
    ]
    lexicon = load_lexicon()
    print(
        f"{feeds} feeds × {items} items on {cpu_model()}, Python {platform.python_version()}, "
        f"concurrency {concurrency}"
    )
    print("| round | seconds | feeds/min | fetched | 304 | failed | new items | analysis s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    async with Fetcher(settings, resolver, clock) as fetcher:
        poller = Poller(store, fetcher, Policy(), clock, random.Random(0), concurrency)
        control = f"http://127.0.0.1:{port}/round"
        for r in range(rounds + 1):
            async with aiohttp.ClientSession() as session, session.post(f"{control}/{r}") as ok:
                assert ok.status == 200
            current = [store.feeds.get(f.id) for f in all_feeds]
            start = time.perf_counter()
            summary: PollSummary = await poller.round(feeds=current)
            seconds = time.perf_counter() - start
            start = time.perf_counter()
            await asyncio.to_thread(analyze_pending, store, lexicon)
            analysis = time.perf_counter() - start
            label = "first poll" if r == 0 else f"steady {r}"
            print(
                f"| {label} | {seconds:.2f} | {len(current) / seconds * 60:,.0f} | "
                f"{summary.count('fetched')} | {summary.count('not_modified')} | "
                f"{summary.count('failed')} | {summary.total('new')} | {analysis:.1f} |"
            )
            failures = [o.error for o in summary.outcomes if o.status == "failed"][:3]
            if failures:
                print(f"  failures, e.g.: {failures}")
            clock.advance(timedelta(hours=1))
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(
        target=serve, args=(ports, args.feeds, args.items), daemon=True
    )
    server.start()
    try:
        port = ports.get(timeout=30)
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {0})
        asyncio.run(run(args.feeds, args.items, args.rounds, args.concurrency, port))
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()
