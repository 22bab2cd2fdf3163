"""Baselines for the brief: how many key facts of the seed corpus a 12-sentence extract covers.

Run from the repository root (needs the ``bench`` extra: ``pip install -e '.[bench]'``)::

    python -m bench.baselines              # Markdown tables on stdout
    python -m bench.baselines --budget 20  # another sentence budget

Every system gets the same input and the same budget. The baselines (LexRank and TextRank
from ``sumy``, and a lead-sentences floor) read the cleaned seed bodies
(``briefs.ingest.articles.read_article``), cut into our citation units
(``briefs.segment.split_sentences``), all five documents as one document model; sumy's own
tokenizer is not used (it needs NLTK data), a plain word tokenizer stands in. briefbot runs
in-process as ``briefbot brief --format json --max-items N`` against a temporary SQLite store
holding the seeds; its statements are the BLUF and section items. Coverage is scored by
``tests/eval/score.py`` against ``tests/eval/gold.toml``. For briefbot the report adds the
other measures: citation validity, story grouping, the speakers the store holds for every
sentence, and the date resolver over every sentence. See docs/quality.md.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from briefs.ingest.articles import read_article
from briefs.segment import split_sentences
from tests.eval.score import (
    Gold,
    brief_statements,
    citation_validity,
    date_accuracy,
    fact_coverage,
    key_fact_coverage,
    load_gold,
    quote_speaker_accuracy,
    story_f1,
)

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
BUDGET = 12
REPEATS = 3
# The fixed "now" of the test suite, so the brief does not depend on the day it is run.
NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*", re.UNICODE)


@dataclass
class Seed:
    name: str
    published: Any  # datetime | None
    sentences: list[str]


@dataclass
class Result:
    system: str
    statements: list[str]
    seconds: float
    note: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def load_seeds(folder: Path = SEEDS) -> list[Seed]:
    out = []
    for path in sorted(folder.glob("*.txt")):
        article = read_article(path)
        out.append(
            Seed(path.name, article.published_at, [s for s, _ in split_sentences(article.body)])
        )
    return out


def _timed(run: Callable[[], list[str]], repeats: int = REPEATS) -> tuple[list[str], float]:
    """Run ``repeats`` times; the last output and the median wall time in seconds."""
    times, output = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        output = run()
        times.append(time.perf_counter() - start)
    return output, statistics.median(times)


# -- sumy baselines ---------------------------------------------------------------------------


class WordTokenizer:
    """The two methods sumy asks of a tokenizer, without NLTK data: words are runs of letters
    and digits (inner hyphens and apostrophes kept); sentences are never asked for, since the
    document model is built from our own sentences."""

    language = "english"

    def to_words(self, sentence: str) -> tuple[str, ...]:
        return tuple(_WORD.findall(sentence))

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        return tuple(s for s, _ in split_sentences(paragraph))


def sumy_document(seeds: Sequence[Seed]) -> Any:
    """All seeds as one sumy document model: a paragraph per article, our sentences."""
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence

    tokenizer = WordTokenizer()
    return ObjectDocumentModel(
        [Paragraph([Sentence(s, tokenizer) for s in seed.sentences]) for seed in seeds]
    )


def sumy_baseline(name: str, seeds: Sequence[Seed], budget: int) -> Result:
    from sumy.nlp.stemmers import Stemmer
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.summarizers.text_rank import TextRankSummarizer
    from sumy.utils import get_stop_words

    summarizer_class = {"LexRank": LexRankSummarizer, "TextRank": TextRankSummarizer}[name]

    def run() -> list[str]:
        summarizer = summarizer_class(Stemmer("english"))
        summarizer.stop_words = get_stop_words("english")
        return [str(s) for s in summarizer(sumy_document(seeds), budget)]

    statements, seconds = _timed(run)
    return Result(f"{name} (sumy)", statements, seconds, "stemmed, English stop words")


def lead_baseline(seeds: Sequence[Seed], budget: int) -> Result:
    """A floor: the first sentences of each article in turn (1st of each, then 2nd, ...)."""

    def run() -> list[str]:
        out: list[str] = []
        for i in range(max(len(s.sentences) for s in seeds)):
            out.extend(s.sentences[i] for s in seeds if i < len(s.sentences))
        return out[:budget]

    statements, seconds = _timed(run)
    return Result("Lead (first sentences, round-robin)", statements, seconds)


# -- briefbot ---------------------------------------------------------------------------------


def briefbot_result(seeds: Sequence[Seed], gold: Gold, budget: int) -> Result:
    """``briefbot brief --format json --max-items N`` in-process on a temporary store."""
    from bot.cli import main
    from briefs.clock import FrozenClock
    from briefs.ingest.files import ingest_files
    from briefs.store import open_store

    with tempfile.TemporaryDirectory(prefix="briefbot-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'store.sqlite3'}"
        env = {"BRIEFBOT_DATABASE_URL": url, "HOME": tmp, "XDG_DATA_HOME": tmp}
        store = open_store(url)
        start = time.perf_counter()
        results = list(
            ingest_files(store, [SEEDS / s.name for s in seeds], "seed", FrozenClock(NOW))
        )
        ingest_seconds = time.perf_counter() - start
        failed = [r.error for r in results if not r.ok]
        if failed:
            raise RuntimeError(f"seed ingest failed: {failed}")
        file_of = {r.outcome.document_id: r.path.name for r in results if r.outcome}

        brief: dict[str, Any] = {}

        def run() -> list[str]:
            out, err = io.StringIO(), io.StringIO()
            argv = ["brief", "--format", "json", "--max-items", str(budget)]
            code = main(argv, env=env, clock=FrozenClock(NOW), out=out, err=err)
            if code != 0:
                raise RuntimeError(f"briefbot brief exited {code}: {err.getvalue().strip()}")
            brief.clear()
            brief.update(json.loads(out.getvalue()))
            return brief_statements(brief)

        try:
            start = time.perf_counter()
            run()  # the first brief analyses the newly ingested documents
            first_seconds = time.perf_counter() - start
            statements, seconds = _timed(run)
            speakers = stored_speaker_accuracy(store, file_of, gold)

            def sentence_text(ref: str) -> str | None:
                document_id, _, index = ref.rpartition(":")
                found = store.documents.sentence(document_id, int(index))
                return found[0].text if found else None

            validity = citation_validity(brief, sentence_text)
        finally:
            store.close()

    doc_of_ref = {s["ref"]: file_of.get(s["id"], s["id"]) for s in brief.get("sources", [])}
    groups = [{doc_of_ref[r] for r in story["refs"]} for story in brief.get("stories", [])]
    precision, recall, f1 = story_f1(groups, gold)
    extra = {
        "citation validity": f"{validity:.3f}",
        "story pairs P / R / F1": f"{precision:.2f} / {recall:.2f} / {f1:.2f}",
    }
    if speakers is not None:
        extra["speaker accuracy (stored attribution, all sentences)"] = speakers
    return Result(
        "briefbot brief",
        statements,
        seconds,
        f"once analysed; setup: ingest {ingest_seconds * 1000:.0f} ms, "
        f"first brief with analysis {first_seconds * 1000:.0f} ms",
        extra,
    )


def stored_speaker_accuracy(store: Any, file_of: dict[str, str], gold: Gold) -> str | None:
    """Speaker accuracy of the attribution the store holds for every live sentence, or None
    when the store does not expose one (the analysis is still being built)."""
    try:
        rows = store.analysis.live_sentences()
        predicted = []
        for row in rows:
            speaker, kind = row.speaker, getattr(row, "speaker_kind", None)
            label = f"{kind}: {speaker}" if speaker and kind and kind != "person" else speaker
            predicted.append((file_of.get(row.document_id, row.document_id), row.text, label))
    except (AttributeError, TypeError):
        return None
    accuracy, misses = quote_speaker_accuracy(predicted, gold)
    right = len(gold.quotes) - len(misses)
    return f"{accuracy:.3f} ({right}/{len(gold.quotes)})"


def resolver_date_accuracy(seeds: Sequence[Seed], gold: Gold) -> tuple[float, list[str]]:
    """The engine's date resolver (briefs.dates.find_dates) over every seed sentence, each
    resolved against its article's publication date as the engine reads it."""
    from briefs.dates import find_dates

    predicted = []
    for seed in seeds:
        published = seed.published.date()
        for sentence in seed.sentences:
            for found in find_dates(sentence, published):
                predicted.append(
                    (seed.name, sentence, found.text, found.value.isoformat(), found.precision)
                )
    return date_accuracy(predicted, gold)


# -- report -----------------------------------------------------------------------------------


def report(results: Sequence[Result], gold: Gold, budget: int) -> str:
    total = len(gold.facts)
    weight = sum(f.weight for f in gold.facts)
    lines = [
        f"Key-fact coverage of a {budget}-sentence extract of the seed corpus "
        f"({total} facts, total weight {weight}; tests/eval/gold.toml).",
        "",
        "| System | Key facts (weight 2) | All facts (weighted) | Facts covered | Run time |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    missing_by_system = []
    for r in results:
        score, covered, missing = fact_coverage(r.statements, gold)
        key, _, _ = key_fact_coverage(r.statements, gold)
        time_text = f"{r.seconds * 1000:.0f} ms" + (f" ({r.note})" if r.note else "")
        lines.append(
            f"| {r.system} | {key:.3f} | {score:.3f} | {len(covered)}/{total} | {time_text} |"
        )
        missing_by_system.append((r.system, len(r.statements), missing))
    lines.append("")
    lines.append(
        f"Run time: median of {REPEATS} runs on this machine; the baselines' time excludes "
        "reading and splitting the seeds, which they are given."
    )
    for system, count, missing in missing_by_system:
        lines.append("")
        lines.append(f"{system} ({count} statements) misses: " + (", ".join(missing) or "none"))
    extras = [r for r in results if r.extra]
    for r in extras:
        lines.append("")
        lines.append(f"{r.system}, other measures:")
        lines.extend(f"- {k}: {v}" for k, v in r.extra.items())
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.baselines", description=__doc__)
    parser.add_argument("--budget", type=int, default=BUDGET, help="sentences per system (12)")
    args = parser.parse_args(argv)
    gold = load_gold()
    seeds = load_seeds()
    results = [
        sumy_baseline("LexRank", seeds, args.budget),
        sumy_baseline("TextRank", seeds, args.budget),
        lead_baseline(seeds, args.budget),
    ]
    try:
        ours = briefbot_result(seeds, gold, args.budget)
    except Exception as exc:  # report the baselines even when the engine is broken
        print(f"briefbot brief failed: {exc}", file=sys.stderr)
    else:
        accuracy, misses = resolver_date_accuracy(seeds, gold)
        ours.extra["date resolver accuracy (find_dates, all sentences)"] = (
            f"{accuracy:.3f} ({len(gold.dates) - len(misses)}/{len(gold.dates)})"
        )
        results.append(ours)
    sys.stdout.write(report(results, gold, args.budget))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
