"""``briefbot ingest`` of feed files against bare feedparser, side by side:
``python -m bench.ingest_feeds --feeds 200 --items 20``.

Writes F real-shaped RSS 2.0 files of I items each (channel metadata, Dublin Core creator,
categories, a teaser ``description`` and the full article in ``content:encoded`` as CDATA,
paragraphs recombined from this project's seed articles, every item distinct), then times
on one core, interleaved round after round so both see the same machine load:

- ``feedparser.parse(bytes)`` of every file, as ``parse_feed`` calls it (the floor);
- ``briefbot ingest FOLDER`` in-process (the CLI's ``main``) into a fresh SQLite store:
  read, parse, clean, split into sentences, store with the full-text index. No analysis:
  that happens on the first read;
- the first poll of the same feeds from their bytes (``Poller.poll`` with a fetched
  result, no network), which stores through the same path.

Prints the median of each, the ratio to the floor in each round (the figure to quote on a
shared machine) and the ratio of median CPU times (process time: less swayed by the other
users of the machine, though it leaves out waiting for the disk), with the machine.
"""

from __future__ import annotations

import argparse
import html
import io
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser

from bench.corpus import seed_paragraphs
from bench.feeds_bench import poll_all
from bench.ingest_bench import cpu_model
from bot.cli import main as cli_main
from briefs.clock import FrozenClock

START = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)
DESKS = ["Politics", "World", "Defence", "Economy", "Asia", "Europe", "Trade", "Energy"]
AUTHORS = ["Mara Lind", "Jun Park", "Ola Berg", "Ines Roy", "Tariq Sen", "Vera Holm"]


def write_rss(folder: Path, feeds: int, items: int) -> list[Path]:
    """F RSS files shaped like a news site's: newest item first, every body distinct."""
    rng = random.Random(14)
    pool = seed_paragraphs()
    folder.mkdir(parents=True)
    paths = []
    n = 0
    for f in range(feeds):
        site = f"https://www.outlet{f}.example"
        entries = []
        for i in range(items):
            n += 1
            when = START - timedelta(minutes=23 * i + 7 * f)
            paragraphs = rng.sample(pool, rng.randint(4, 9))
            paragraphs.append(f"Filed as report {n} by the {DESKS[n % len(DESKS)]} desk.")
            title = html.escape(rng.choice(pool).split(".")[0][:100])
            slug = f"{when:%Y/%m/%d}/report-{n}"
            teaser = html.escape(f"<p>{html.escape(paragraphs[0][:240])}</p>")
            body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
            figure = f'<figure><img src="{site}/img/{n}.jpg" alt="Photo {n}"/></figure>'
            entries.append(
                f"<item><title>{title}</title><link>{site}/{slug}?utm_source=rss</link>"
                f'<guid isPermaLink="false">{site}/?p={n}</guid>'
                f"<pubDate>{when:%a, %d %b %Y %H:%M:%S} +0000</pubDate>"
                f"<dc:creator><![CDATA[{AUTHORS[n % len(AUTHORS)]}]]></dc:creator>"
                f"<category><![CDATA[{DESKS[n % len(DESKS)]}]]></category>"
                f"<category><![CDATA[{DESKS[(n * 3) % len(DESKS)]}]]></category>"
                f"<description>{teaser}</description>"
                f"<content:encoded><![CDATA[{figure}{body}]]></content:encoded></item>"
            )
        doc = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
            f"<title>Outlet {f} News</title><link>{site}/</link>"
            f'<atom:link href="{site}/feed/" rel="self" type="application/rss+xml"/>'
            f"<description>News from outlet {f}</description><language>en-GB</language>"
            f"<lastBuildDate>{START:%a, %d %b %Y %H:%M:%S} +0000</lastBuildDate>"
            f"<generator>bench</generator>{''.join(entries)}</channel></rss>"
        )
        path = folder / f"outlet{f:03d}.rss"
        path.write_text(doc, encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-poll", action="store_true", help="time ingest and the floor only")
    args = parser.parse_args()
    pinned = hasattr(os, "sched_setaffinity")
    if pinned:
        os.sched_setaffinity(0, {0})
    total = args.feeds * args.items
    times: dict[str, list[float]] = {"floor": [], "ingest": [], "poll": []}
    cpu: dict[str, list[float]] = {"floor": [], "ingest": [], "poll": []}
    with tempfile.TemporaryDirectory(prefix="briefbot-ingest-feeds-") as tmp:
        folder = Path(tmp)
        paths = write_rss(folder / "feeds", args.feeds, args.items)
        bodies = [
            (f"https://www.outlet{i}.example/feed/", p.read_bytes()) for i, p in enumerate(paths)
        ]
        megabytes = sum(len(b) for _, b in bodies) / 1e6
        feedparser.parse(bodies[0][1], resolve_relative_uris=False)  # warm-up: imports
        for r in range(args.rounds):
            start, used = time.perf_counter(), time.process_time()
            for _, body in bodies:
                assert (
                    len(feedparser.parse(body, resolve_relative_uris=False).entries) == args.items
                )
            times["floor"].append(time.perf_counter() - start)
            cpu["floor"].append(time.process_time() - used)

            env = {
                "BRIEFBOT_DATABASE_URL": f"sqlite:///{folder / f'ingest{r}.sqlite3'}",
                "HOME": tmp,
                "XDG_DATA_HOME": tmp,
            }
            out, err = io.StringIO(), io.StringIO()
            clock = FrozenClock(START)
            start, used = time.perf_counter(), time.process_time()
            code = cli_main(
                ["ingest", str(folder / "feeds")], env=env, clock=clock, out=out, err=err
            )
            times["ingest"].append(time.perf_counter() - start)
            cpu["ingest"].append(time.process_time() - used)
            assert code == 0 and f"{total} added" in err.getvalue(), err.getvalue()

            if not args.no_poll:
                store_url = f"sqlite:///{folder / f'poll{r}.sqlite3'}"
                used = time.process_time()
                times["poll"].append(poll_all(store_url, bodies, rounds=1)[0])
                cpu["poll"].append(time.process_time() - used)
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores, shared "
        f"({'pinned to one' if pinned else 'not pinned'}); Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, feedparser {feedparser.__version__}\n"
    )
    print(f"{args.feeds} RSS files x {args.items} items = {total} items, {megabytes:.1f} MB\n")
    print("| step | median s | items/s | time / floor, per round | CPU time / floor's |")
    print("| --- | ---: | ---: | --- | ---: |")
    rows = [
        ("feedparser.parse(bytes) alone (floor)", "floor"),
        ("briefbot ingest of the files (fresh store)", "ingest"),
        ("poll of the same feeds, first round (fresh store)", "poll"),
    ]
    for name, key in rows:
        if not times[key]:
            continue
        median = statistics.median(times[key])
        ratios = ", ".join(f"{t / f:.2f}x" for t, f in zip(times[key], times["floor"], strict=True))
        cpu_ratio = statistics.median(cpu[key]) / statistics.median(cpu["floor"])
        print(f"| {name} | {median:.2f} | {total / median:,.0f} | {ratios} | {cpu_ratio:.2f}x |")


if __name__ == "__main__":
    main()
