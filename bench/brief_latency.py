"""Brief latency on a large store: ``python -m bench.brief_latency --n 10000``.

Builds (or reuses, with --store) a store of N generated documents, analysed, then times
whole-corpus and filtered briefs in this process, pinned to one core. Prints percentiles
as a Markdown table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.corpus import generate
from briefs.analysis.pipeline import analyze_pending
from briefs.compose.brief import BriefRequest, compose_brief
from briefs.compose.lookup import search_statements
from briefs.ingest.files import ingest_files
from briefs.lexicon import Lexicon, load_lexicon
from briefs.render import make_environment, render
from briefs.store import SqlStore, open_store

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def build(
    folder: Path,
    n: int,
    fetched: Callable[[], datetime] = lambda: datetime.now(UTC),
    analyse: bool = True,
) -> SqlStore:
    """An SQLite store of ``n`` generated documents in ``folder`` (reused when it holds them),
    fetched at the times ``fetched`` gives, and analysed unless ``analyse`` is off."""
    store = open_store(f"sqlite:///{folder / 'store.sqlite3'}")
    if store.stats().documents >= n:
        return store
    files = generate(folder / "files", n)
    start = time.perf_counter()
    for done, _ in enumerate(ingest_files(store, files, "file", fetched), 1):
        if done % 10000 == 0:
            print(f"ingested {done} of {n}", flush=True)
    print(f"ingested {n} documents in {time.perf_counter() - start:.1f} s")
    if not analyse:
        return store
    start = time.perf_counter()
    analyze_pending(store, load_lexicon())
    print(f"analysed them in {time.perf_counter() - start:.1f} s")
    return store


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95, ordered[-1]


def brief_cases(store: SqlStore, lexicon: Lexicon) -> dict[str, Callable[[], object]]:
    """The timed requests: whole corpus, rendered, topic, entity, query, window, search."""
    stats = store.stats()
    env = make_environment()
    cases: dict[str, Callable[[], object]] = {
        "whole corpus": lambda: compose_brief(store, lexicon, BriefRequest(), NOW),
        "whole corpus, rendered md": lambda: render(
            compose_brief(store, lexicon, BriefRequest(), NOW), "md", env
        ),
        "--topic sanctions": lambda: compose_brief(
            store, lexicon, BriefRequest(topic="sanctions"), NOW
        ),
        "--entity Shoigu": lambda: compose_brief(
            store, lexicon, BriefRequest(entity="Sergei Shoigu"), NOW
        ),
        "--query artillery shells": lambda: compose_brief(
            store, lexicon, BriefRequest(query="artillery shells"), NOW
        ),
        "--since last 30 days of corpus": lambda: compose_brief(
            store,
            lexicon,
            BriefRequest(since=(stats.last_published or NOW).replace(day=1)),
            NOW,
        ),
        "search": lambda: search_statements(store, "Shoigu visit", 10, NOW),
    }
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--store", type=Path, help="folder holding (or to hold) the store")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    folder = args.store or Path(tempfile.mkdtemp(prefix="briefbot-latency-"))
    folder.mkdir(parents=True, exist_ok=True)
    store = build(folder, args.n)
    lexicon = load_lexicon()
    stats = store.stats()
    cases = brief_cases(store, lexicon)
    print(f"\n{stats.documents} documents, {stats.sentences} sentences, one core\n")
    print("| request | p50 ms | p95 ms | max ms |\n| --- | ---: | ---: | ---: |")
    for name, run in cases.items():
        run()  # warm caches (lexicon, SQLite pages)
        samples = []
        for _ in range(args.runs):
            start = time.perf_counter()
            run()
            samples.append((time.perf_counter() - start) * 1000)
        p50, p95, worst = percentiles(samples)
        print(f"| {name} | {p50:.0f} | {p95:.0f} | {worst:.0f} |")
    store.close()


if __name__ == "__main__":
    main()
