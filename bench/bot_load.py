"""Discord load: ``python -m bench.bot_load --n 10000 --concurrent 50 --runs 5``.

Builds (or reuses, with --store) a store of N generated documents, analysed (the corpus of
bench/brief_latency.py), starts the real bot against the Discord API double of the tests on
127.0.0.1, and sends ``--concurrent`` ``/brief`` commands at once, ``--runs`` times. For each
command it records the first response (the acknowledgement Discord wants within 3 s) and
the final answer (the last message, with the Markdown file attached), as seen by the double.
Prints percentiles as Markdown tables; ``--write`` puts them in docs/performance.md under
"Discord load".
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import statistics
import tempfile
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.brief_latency import build
from bot.app import BriefBot
from bot.services.shared import Services
from briefs.clock import FrozenClock
from briefs.settings import load_settings
from briefs.store import open_store
from tests.discord_double import CallbackType, DiscordDouble, InteractionRecord, patched_discord

NOW = datetime(2026, 11, 22, tzinfo=UTC)
DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
HEADING = "## Discord load"
# What the 50 commands ask for: a mix of whole-corpus, topic, entity, query and window briefs.
REQUESTS: list[dict[str, object]] = [
    {},
    {"topic": "sanctions"},
    {"entity": "Sergei Shoigu"},
    {"query": "artillery shells"},
    {"days": 30},
    {"topic": "arms", "days": 365},
    {"entity": "Kim Jong-un", "query": "summit"},
]


def percentiles(samples: list[float]) -> tuple[float, float, float, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return statistics.median(ordered), at(0.95), at(0.99), ordered[-1]


def _finished(ix: InteractionRecord) -> bool:
    """The answer is complete (Markdown attached), or the bot answered with an error."""
    refused = ix.callback is not None and ix.callback.type != CallbackType.DEFERRED_MESSAGE
    return (
        refused
        or any(f.filename.endswith(".md") for f in ix.files)
        or any("incident" in m.text() for m in ix.followups)
    )


async def one_run(
    double: DiscordDouble, concurrent: int, timeout: float
) -> tuple[list[float], list[float], int]:
    """Send ``concurrent`` /brief commands at once: ack and final latencies, failures."""
    loop = asyncio.get_running_loop()

    async def final(ix: InteractionRecord) -> float:
        await ix.wait_for(_finished, timeout)
        return loop.time() - ix.dispatched_at

    interactions = [
        await double.command("brief", REQUESTS[i % len(REQUESTS)]) for i in range(concurrent)
    ]
    finals = list(await asyncio.gather(*(final(ix) for ix in interactions)))
    acks, failures = [], 0
    for ix in interactions:
        callback = ix.callback
        if callback is None or callback.type != CallbackType.DEFERRED_MESSAGE:
            failures += 1
            continue
        acks.append(callback.latency)
        if not any(f.filename.endswith(".md") for f in ix.files):
            failures += 1
    return acks, finals, failures


async def run(args: argparse.Namespace, folder: Path) -> str:
    env = {
        "BRIEFBOT_DATABASE_URL": f"sqlite:///{folder / 'store.sqlite3'}",
        "HOME": str(folder),
        "BRIEFBOT_DISCORD_MAX_WORKERS": str(args.workers),
    }
    settings = load_settings(env)
    store = open_store(settings.database_url)
    last = store.stats().last_published
    store.close()
    # "Now" is the day after the newest document, so the windows of the mix are not empty.
    engine = Services(settings, FrozenClock(last + timedelta(days=1) if last else NOW))
    double = DiscordDouble()
    await double.start()
    try:
        with patched_discord(double):
            double.add_guild("Load")
            bot = BriefBot(engine)
            async with double.running(bot, timeout=600):
                documents = await bot.blocking(engine.corpus_size)
                all_acks: list[float] = []
                all_finals: list[float] = []
                rows = []
                for n in range(1, args.runs + 1):
                    acks, finals, failures = await one_run(double, args.concurrent, args.timeout)
                    all_acks += acks
                    all_finals += finals
                    a = percentiles(acks)
                    f = percentiles(finals)
                    rows.append(
                        f"| {n} | {args.concurrent} | {failures} | {a[0]:.2f} | {a[1]:.2f} | "
                        f"{a[3]:.2f} | {f[0]:.1f} | {f[1]:.1f} | {f[3]:.1f} |"
                    )
                    print(rows[-1], flush=True)
            violations = len(double.violations)
    finally:
        await double.stop()
        engine.close()
    a = percentiles(all_acks)
    f = percentiles(all_finals)
    cpu = os.cpu_count()
    lines = [
        HEADING,
        "",
        f"`python -m bench.bot_load --n {args.n} --concurrent {args.concurrent} "
        f"--runs {args.runs} --workers {args.workers}`: the real bot (discord.py "
        "client, `BriefBot`) connected to the Discord API double of the tests on 127.0.0.1, "
        f"a store of {documents:,} documents, {args.concurrent} `/brief` commands sent at "
        "once (whole corpus, topic, entity, query and window briefs in turn), "
        f"{args.runs} times; {args.workers} worker threads, {cpu} cores "
        f"({platform.processor() or platform.machine()}), Python {platform.python_version()}. "
        "*First response* is the time from the double dispatching the interaction to the "
        "bot's acknowledgement (Discord's deadline: 3 s); *final* is the time to the answer's "
        "last message, Markdown file attached, as the double received it. Seconds.",
        "",
        "| run | commands | failed | ack p50 | ack p95 | ack max | final p50 | final p95 "
        "| final max |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows,
        f"| all | {len(all_acks)} | | {a[0]:.2f} | {a[1]:.2f} | {a[3]:.2f} | {f[0]:.1f} | "
        f"{f[1]:.1f} | {f[3]:.1f} |",
        "",
        f"Every first response came within {a[3]:.2f} s "
        f"({'inside' if a[3] < 3 else 'OUTSIDE'} the 3-second deadline); the double saw "
        f"{violations} requests Discord would refuse. The acknowledgement is sent before any "
        "store work (the engine runs in the worker threads), so it does not grow with the "
        "queue; the final answers do, since the briefs of one burst share the workers and "
        "one interpreter.",
        "",
    ]
    return "\n".join(wrap(line) for line in lines)


def wrap(line: str) -> str:
    """Prose wrapped like the rest of docs/; tables and headings as they are."""
    if line.startswith(("|", "#")) or len(line) <= 95:
        return line
    return textwrap.fill(line, 95, break_on_hyphens=False, break_long_words=False)


def write_section(text: str) -> None:
    """Replace (or add) the "Discord load" section of docs/performance.md."""
    doc = DOC.read_text(encoding="utf-8")
    start = doc.find(HEADING)
    if start == -1:
        doc = doc.rstrip("\n") + "\n\n" + text
    else:
        end = doc.find("\n## ", start + len(HEADING))
        doc = doc[:start] + text + ("\n" + doc[end + 1 :] if end != -1 else "")
    DOC.write_text(doc, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10000, help="documents in the store")
    parser.add_argument("--concurrent", type=int, default=50, help="commands sent at once")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4, help="[discord] max_workers")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for one run")
    parser.add_argument("--store", type=Path, help="folder holding (or to hold) the store")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    folder = args.store or Path(tempfile.mkdtemp(prefix="briefbot-load-"))
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    build(folder, args.n).close()
    print(f"store ready in {time.perf_counter() - start:.0f} s", flush=True)
    text = asyncio.run(run(args, folder))
    print("\n" + text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
