"""Text analysis alone: ``python -m bench.text_bench --n 1000 [--dump FILE]``.

Ingests N generated articles plus the seeds into a temporary SQLite store, reads their
analysis inputs, then times ``analyze_document`` on them (CPU time of this process, best of
``--runs``: on a shared machine it moves less than wall time). No store, no stories: the
per-document text analysis only. ``--dump`` writes every result, one ``repr`` a line, ids
replaced by their order, so two trees can be compared:
``PYTHONPATH=/tmp/before python -m bench.text_bench --dump a``, then ``--dump b`` here,
then ``cmp a b``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bench.corpus import generate
from briefs.analysis.facts import analyze_document
from briefs.ingest.files import ingest_files, seed_files
from briefs.lexicon import load_lexicon
from briefs.resources import seeds_dir
from briefs.store import open_store
from briefs.store.base import AnalysisInput


def inputs(n: int, seed: int) -> list[AnalysisInput]:
    """The analysis inputs of N generated articles and the seeds, as the pipeline reads them."""
    with tempfile.TemporaryDirectory(prefix="briefbot-text-") as tmp:
        folder = Path(tmp)
        files = generate(folder / "files", n, seed=seed) + seed_files(seeds_dir())
        store = open_store(f"sqlite:///{folder / 'store.sqlite3'}")
        list(ingest_files(store, files, "file", lambda: datetime.now(UTC)))
        pending = store.analysis.pending("none")
        out: list[AnalysisInput] = []
        for start in range(0, len(pending), 100):
            out += store.analysis.inputs(pending[start : start + 100], None)
        store.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dump", type=Path, help="write every analysis here, one a line")
    args = parser.parse_args()
    docs = inputs(args.n, args.seed)
    lexicon = load_lexicon()
    best = float("inf")
    results = []
    for _ in range(max(1, args.runs)):
        start = time.process_time()
        results = [analyze_document(d, lexicon) for d in docs]
        best = min(best, time.process_time() - start)
    sentences = sum(len(d.sentences) for d in docs)
    print(
        f"{len(docs)} documents, {sentences} sentences: {best / len(docs) * 1000:.2f} ms "
        f"a document, {len(docs) / best:.0f} documents/s (CPU time, best of {args.runs})"
    )
    if args.dump:
        # Document ids are drawn at ingest: each is written as its place in the run instead.
        lines = (f"{replace(r, document_id=str(i))!r}\n" for i, r in enumerate(results))
        args.dump.write_text("".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
