"""Ingest throughput: ``python -m bench.ingest_bench --n 2000``.

Generates N varied articles from the seed text (bench/corpus.py), then ingests them into a
fresh SQLite file, full-text index included, pinned to one core. Reports documents and
sentences per second, and how the time splits between reading (decode, clean, metadata)
and storing (segmenting, writing rows and the FTS5 index, one transaction per document).
With ``--analyse`` it then times analysis of the same documents (``analyze_pending``:
speakers, stance, dates, topics, mentions, names, stories); ``--workers N`` analyses with N
processes ([analysis] workers) pinned to N cores (ingest stays on the first).
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from bench.corpus import generate
from briefs.analysis.pipeline import analyze_pending
from briefs.ingest.articles import read_article
from briefs.ingest.files import ingest_files
from briefs.lexicon import load_lexicon
from briefs.store import open_store


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument(
        "--database",
        metavar="URL",
        help="an empty database to fill instead of a fresh SQLite file (e.g. PostgreSQL)",
    )
    parser.add_argument("--analyse", action="store_true", help="then time analysis too")
    parser.add_argument(
        "--workers", type=int, default=1, help="analysis processes, each on a core of its own"
    )
    args = parser.parse_args()
    pinned = hasattr(os, "sched_setaffinity")
    if pinned:
        os.sched_setaffinity(0, {0})
    with tempfile.TemporaryDirectory(prefix="briefbot-ingest-") as tmp:
        folder = Path(tmp)
        files = generate(folder / "files", args.n)
        start = time.perf_counter()
        for path in files:
            read_article(path)
        read_seconds = time.perf_counter() - start

        store = open_store(args.database or f"sqlite:///{folder / 'store.sqlite3'}")
        backend = store.engine.dialect.name
        if not store.documents.is_empty():
            raise SystemExit(f"{store.location} is not empty")
        start = time.perf_counter()
        results = list(ingest_files(store, files, "file", lambda: datetime.now(UTC)))
        seconds = time.perf_counter() - start
        failed = [r for r in results if not r.ok]
        with store.engine.connect() as conn:
            fts = conn.execute(text("SELECT count(*) FROM sentences_fts")).scalar_one()
            live = conn.execute(
                text("SELECT count(*) FROM sentences WHERE position IS NOT NULL")
            ).scalar_one()
        analysed, analysis_seconds = 0, 0.0
        if args.analyse:
            lexicon = load_lexicon()
            if pinned:  # the workers inherit the affinity: one core each
                os.sched_setaffinity(0, set(range(args.workers)) & set(range(os.cpu_count() or 1)))
            start = time.perf_counter()
            analysed = analyze_pending(store, lexicon, workers=args.workers)
            analysis_seconds = time.perf_counter() - start
        store.close()
    assert fts == live, "the full-text index must hold every live sentence"
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores "
        f"({'pinned to one' if pinned else 'not pinned'}); Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; store on {backend}\n"
    )
    print("| documents | sentences | seconds | documents/s | sentences/s | read+clean share |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| {args.n - len(failed)} | {live} | {seconds:.2f} | {args.n / seconds:.0f} | "
        f"{live / seconds:.0f} | {read_seconds / seconds:.0%} |"
    )
    if args.analyse:
        print("\n| analysed documents | workers | seconds | documents/s | sentences/s |")
        print("| ---: | ---: | ---: | ---: | ---: |")
        print(
            f"| {analysed} | {args.workers} | {analysis_seconds:.2f} | "
            f"{analysed / analysis_seconds:.0f} | {live / analysis_seconds:.0f} |"
        )


if __name__ == "__main__":
    main()
