"""Feed ingest throughput: ``python -m bench.feeds_bench --feeds 40 --items 50``.

Writes F local feed files (RSS 2.0 and Atom, I items each, HTML summaries built from the
seed paragraphs, every item distinct), then measures on one core, in items per second:

- ``feedparser.parse`` alone on the same bytes: the floor no pipeline built on it can beat;
- ``parse_feed``: feedparser plus briefbot's entry handling (ids, dates, HTML to text);
- ``briefbot ingest`` of the files (``ingest_files``) into a fresh SQLite store;
- a first poll of each feed by the ``Poller`` from the downloaded bytes (no network): parse
  off the event loop, dedup checks, documents, sentences, full-text index, entry links;
- a second poll of the same, unchanged bytes: what a feed without ETag support costs.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import platform
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
from sqlalchemy import text

from bench.corpus import seed_paragraphs
from bench.ingest_bench import cpu_model
from briefs.clock import FrozenClock
from briefs.feeds.decide import Policy
from briefs.feeds.fetch import Fetcher, FetchResult, FetchSettings
from briefs.feeds.parse import parse_feed
from briefs.feeds.poll import Poller
from briefs.ingest.files import ingest_files
from briefs.store import open_store

START = datetime(2023, 1, 2, 9, 0, tzinfo=UTC)


def _summary(rng: random.Random, pool: list[str], n: int) -> str:
    paragraphs = rng.sample(pool, rng.randint(3, 8))
    paragraphs.append(f"Reference {n}: filed by desk {n % 17} with {rng.randint(2, 99)} notes.")
    markup = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return markup + '<img src="x.png" alt=""><script>track()</script>'


def write_feeds(folder: Path, feeds: int, items: int) -> list[Path]:
    rng = random.Random(4)
    pool = seed_paragraphs()
    folder.mkdir(parents=True)
    paths: list[Path] = []
    n = 0
    for f in range(feeds):
        entries = []
        for _ in range(items):
            n += 1
            when = START + timedelta(minutes=37 * n)
            title = html.escape(rng.choice(pool).split(".")[0][:90])
            summary = html.escape(_summary(rng, pool, n))
            link = f"https://outlet{f}.example/news/{n}?utm_source=rss"
            if f % 2:
                entries.append(
                    f"<entry><title>{title}</title><id>urn:o{f}:{n}</id>"
                    f'<link href="{link}"/><updated>{when.isoformat()}</updated>'
                    f'<content type="html">{summary}</content></entry>'
                )
            else:
                entries.append(
                    f"<item><title>{title}</title><guid>o{f}-{n}</guid><link>{link}</link>"
                    f"<pubDate>{when:%a, %d %b %Y %H:%M:%S} GMT</pubDate>"
                    f"<description>{summary}</description></item>"
                )
        if f % 2:
            doc = (
                '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
                f"<title>Outlet {f}</title><id>urn:o{f}</id>{''.join(entries)}</feed>"
            )
            path = folder / f"outlet{f}.atom"
        else:
            doc = (
                '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>Outlet {f}</title><link>https://outlet{f}.example/</link>"
                f"{''.join(entries)}</channel></rss>"
            )
            path = folder / f"outlet{f}.rss"
        path.write_text(doc, encoding="utf-8")
        paths.append(path)
    return paths


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def poll_all(store_url: str, bodies: list[tuple[str, bytes]], rounds: int) -> list[float]:
    """Seconds of each polling round over all feeds, from bytes already downloaded."""
    store = open_store(store_url)
    clock = FrozenClock(datetime(2026, 11, 22, 8, 0, tzinfo=UTC))
    feeds = [store.feeds.add(url, url, None, None, clock(), False) for url, _ in bodies]
    headers = {"content-type": "application/rss+xml; charset=utf-8"}

    async def go() -> list[float]:
        async with Fetcher(FetchSettings(), None, clock) as fetcher:
            poller = Poller(store, fetcher, Policy(), clock, random.Random(0))
            times = []
            for _ in range(rounds):
                start = time.perf_counter()
                for feed, (url, body) in zip(feeds, bodies, strict=True):
                    result = FetchResult(url, url, status=200, body=body, headers=headers)
                    outcome = await poller.poll(feed, fetched=result)
                    assert outcome.status == "fetched", outcome.error
                times.append(time.perf_counter() - start)
            return times

    try:
        return asyncio.run(go())
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=40)
    parser.add_argument("--items", type=int, default=50)
    args = parser.parse_args()
    pinned = hasattr(os, "sched_setaffinity")
    if pinned:
        os.sched_setaffinity(0, {0})
    total = args.feeds * args.items
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="briefbot-feeds-") as tmp:
        folder = Path(tmp)
        paths = write_feeds(folder / "feeds", args.feeds, args.items)
        bodies = [(f"https://example.org/{p.name}", p.read_bytes()) for p in paths]
        megabytes = sum(len(b) for _, b in bodies) / 1e6

        def floor() -> None:
            # With the options parse_feed uses (relative URIs resolved by briefbot itself).
            for _, body in bodies:
                parsed = feedparser.parse(body, resolve_relative_uris=False)
                assert len(parsed.entries) == args.items

        def ours() -> None:
            for url, body in bodies:
                assert len(parse_feed(body, {}, url).entries) == args.items

        parse_feed(bodies[0][1], {}, bodies[0][0])  # warm-up: imports, regex caches
        rows.append(("feedparser.parse alone (floor)", timed(floor)))
        rows.append(("parse_feed (feedparser + entries + HTML to text)", timed(ours)))

        store = open_store(f"sqlite:///{folder / 'ingest.sqlite3'}")
        results: list[object] = []
        seconds = timed(
            lambda: results.extend(ingest_files(store, paths, "file", lambda: datetime.now(UTC)))
        )
        with store.engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM documents")).scalar_one()
        store.close()
        assert stored == total, f"ingest stored {stored} of {total} items"
        rows.append(("briefbot ingest of the files (fresh store)", seconds))

        first, again = poll_all(f"sqlite:///{folder / 'poll.sqlite3'}", bodies, rounds=2)
        rows.append(("poll, first round (all items new, fresh store)", first))
        rows.append(("poll, second round (same bytes, nothing new)", again))
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores "
        f"({'pinned to one' if pinned else 'not pinned'}); Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, feedparser {feedparser.__version__}\n"
    )
    print(f"{args.feeds} feeds x {args.items} items = {total} items, {megabytes:.1f} MB\n")
    print("| step | seconds | items/s | share of floor speed |")
    print("| --- | ---: | ---: | ---: |")
    floor_rate = total / rows[0][1]
    for name, seconds in rows:
        rate = total / seconds
        print(f"| {name} | {seconds:.2f} | {rate:,.0f} | {rate / floor_rate:.0%} |")


if __name__ == "__main__":
    main()
