"""Digest window look-up: ``python -m bench.window_scan --n 100000``.

A digest starts by asking which documents are new in its window (`window_documents`): feed
items by first sight, files and seeds by ``documents.fetched_at``. This builds (or reuses,
with --store) an SQLite store of N generated documents fetched one every few minutes over a
year (ingested only: the look-up needs no analysis), then times the look-up of a one-day
window with the ``ix_documents_fetched`` index (schema migration 6) and without it (dropped
and re-created afterwards), pinned to one core. Prints a Markdown table for
docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bench.brief_latency import build, percentiles
from briefs.store import SqlStore

START = datetime(2025, 11, 22, tzinfo=UTC)
YEAR = timedelta(days=365)


def fetch_clock(n: int) -> Callable[[], datetime]:
    """Fetch times spread evenly over a year, one per call, as a feed-fed team would see."""
    step = YEAR / n
    ticks: Iterator[int] = iter(range(n * 2))
    return lambda: START + step * next(ticks)


def time_lookup(store: SqlStore, runs: int) -> tuple[int, list[float]]:
    """Documents found in a one-day window in the middle of the year, and each run's time."""
    start = START + YEAR / 2
    end = start + timedelta(days=1)
    found = 0
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        found = len(store.schedules.window_documents(None, start, end))
        samples.append(time.perf_counter() - began)
    return found, samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100000, help="documents in the store")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--store", type=Path, help="folder to keep (and reuse) the store in")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    folder = args.store or Path(tempfile.mkdtemp(prefix="briefbot-window-"))
    folder.mkdir(parents=True, exist_ok=True)
    store = build(folder, args.n, fetch_clock(args.n), analyse=False)
    rows = []
    try:
        found, indexed = time_lookup(store, args.runs)
        with store.engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_documents_fetched"))
        try:
            found_scan, scanned = time_lookup(store, args.runs)
        finally:
            with store.engine.begin() as conn:
                conn.execute(text("CREATE INDEX ix_documents_fetched ON documents (fetched_at)"))
        assert found == found_scan, (found, found_scan)
        for label, samples in (("with the index", indexed), ("without (a full scan)", scanned)):
            p50, p95, worst = percentiles(samples)
            rows.append(
                f"| {label} | {found} | {p50 * 1000:.1f} | {p95 * 1000:.1f} | {worst * 1000:.1f} |"
            )
    finally:
        store.close()
    print(f"\n{args.n} documents, one-day window, {args.runs} runs, one core\n")
    print("| `window_documents` | documents found | p50 ms | p95 ms | max ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
