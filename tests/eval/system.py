"""Run briefbot on the seed corpus and score it against the gold (docs/quality.md).

``python -m tests.eval.system`` prints the figures; tests/test_quality_gate.py pins floors.
"""

from __future__ import annotations

import io
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.cli import main
from briefs.clock import FrozenClock
from briefs.ingest import ingest_files
from briefs.lexicon import load_lexicon
from briefs.pipeline import analyze_pending
from briefs.resources import seeds_dir
from briefs.store import open_store
from tests.conftest import NOW
from tests.eval.score import (
    Gold,
    brief_statements,
    citation_validity,
    date_accuracy,
    fact_coverage,
    key_fact_coverage,
    load_gold,
    oracle_fact_coverage,
    quote_speaker_accuracy,
    story_f1,
)

BUDGET = 12


@dataclass
class Report:
    key_facts: float
    all_facts: float
    oracle_all_facts: float
    statements: int
    citation_validity: float
    speaker_accuracy: float
    date_accuracy: float
    story_f1: float
    sentence_count: int
    missing_key: list[str] = field(default_factory=list)
    missing_all: list[str] = field(default_factory=list)
    speaker_misses: list[str] = field(default_factory=list)
    date_misses: list[str] = field(default_factory=list)
    brief: dict[str, Any] = field(default_factory=dict)

    def figures(self) -> dict[str, float]:
        return {
            "key_fact_coverage": self.key_facts,
            "all_fact_coverage": self.all_facts,
            "citation_validity": self.citation_validity,
            "quote_speaker_accuracy": self.speaker_accuracy,
            "date_accuracy": self.date_accuracy,
            "story_f1": self.story_f1,
        }


def evaluate(budget: int = BUDGET, gold: Gold | None = None) -> Report:
    gold = gold or load_gold()
    seeds = sorted(seeds_dir().glob("*.txt"))
    with tempfile.TemporaryDirectory(prefix="briefbot-eval-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'store.sqlite3'}"
        env = {"BRIEFBOT_DATABASE_URL": url, "HOME": tmp, "XDG_DATA_HOME": tmp}
        store = open_store(url)
        try:
            results = list(ingest_files(store, seeds, "seed", FrozenClock(NOW)))
            file_of = {r.outcome.document_id: r.path.name for r in results if r.outcome}
            analyze_pending(store, load_lexicon())
            out, err = io.StringIO(), io.StringIO()
            argv = ["brief", "--format", "json", "--max-items", str(budget)]
            code = main(argv, env=env, clock=FrozenClock(NOW), out=out, err=err)
            if code != 0:
                raise RuntimeError(f"briefbot brief exited {code}: {err.getvalue()}")
            brief = json.loads(out.getvalue())
            statements = brief_statements(brief)

            def sentence_text(ref: str) -> str | None:
                doc_id, _, index = ref.rpartition(":")
                found = store.sentence(doc_id, int(index))
                return found[0].text if found else None

            validity = citation_validity(brief, sentence_text)
            rows = store.live_sentences()
            speakers = []
            for row in rows:
                label = row.speaker
                if row.speaker and row.speaker_kind and row.speaker_kind != "person":
                    label = f"{row.speaker_kind}: {row.speaker}"
                speakers.append((file_of[row.document_id], row.text, label))
            speaker_acc, speaker_misses = quote_speaker_accuracy(speakers, gold)
            dates = [
                (file_of[doc_id], sentence, expression, value, precision)
                for doc_id, sentence, expression, value, precision in store.date_mention_rows()
            ]
            date_acc, date_misses = date_accuracy(dates, gold)
            groups: dict[str, set[str]] = {}
            for doc in store.summaries():
                groups.setdefault(doc.story_id or doc.id, set()).add(file_of[doc.id])
            _, _, f1 = story_f1(list(groups.values()), gold)
            all_sentences = [r.text for r in rows]
        finally:
            store.close()
    key, _, missing_key = key_fact_coverage(statements, gold)
    every, _, missing_all = fact_coverage(statements, gold)
    return Report(
        key_facts=key,
        all_facts=every,
        oracle_all_facts=oracle_fact_coverage(all_sentences, gold, budget),
        statements=len(statements),
        citation_validity=validity,
        speaker_accuracy=speaker_acc,
        date_accuracy=date_acc,
        story_f1=f1,
        sentence_count=len(all_sentences),
        missing_key=missing_key,
        missing_all=missing_all,
        speaker_misses=[str(m) for m in speaker_misses],
        date_misses=[str(m) for m in date_misses],
        brief=brief,
    )


def main_report() -> None:
    report = evaluate()
    print("| figure | value |\n| --- | ---: |")
    for name, value in report.figures().items():
        print(f"| {name.replace('_', ' ')} | {value:.3f} |")
    print(f"| statements | {report.statements} |")
    print(f"| oracle all-fact coverage at {BUDGET} statements | {report.oracle_all_facts:.3f} |")
    print(f"| debris-free sentences | {report.sentence_count} |")
    print("\nmissing key facts:", ", ".join(report.missing_key) or "none")
    print("missing facts (all):", ", ".join(report.missing_all) or "none")
    print("\nspeaker misses:")
    for m in report.speaker_misses:
        print("  ", m[:200])
    print("\ndate misses:")
    for m in report.date_misses:
        print("  ", m[:200])


if __name__ == "__main__":
    main_report()
