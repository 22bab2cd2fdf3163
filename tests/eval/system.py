"""Run briefbot on the seed corpus and score it against the gold (docs/quality.md).

``python -m tests.eval.system`` prints the figures; tests/test_quality_gate.py pins floors.
After the seed figures it prints, for every set (seeds, multi-outlet, feed-entries), the
story, entity-linking, outlet and fact-coverage figures of issue 12 (tests/eval/sets.py).
"""

from __future__ import annotations

import io
import json
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.cli import main
from briefs.analysis.pipeline import analyze_pending
from briefs.clock import FrozenClock
from briefs.ingest.files import ingest_files
from briefs.lexicon import load_lexicon
from briefs.resources import seeds_dir
from briefs.store import open_store
from tests.conftest import NOW
from tests.eval.score import (
    GOLD_PATH,
    Gold,
    bcubed_prf,
    brief_statements,
    citation_validity,
    date_accuracy,
    fact_coverage,
    key_fact_coverage,
    load_gold,
    oracle_fact_coverage,
    outlet_accuracy,
    pairwise_prf,
    quote_speaker_accuracy,
    story_f1,
)
from tests.eval.sets import (
    FEED_ENTRIES_DIR,
    SetReport,
    evaluate_feed_entries,
    evaluate_multi_outlet,
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
    # For the sets table (issue 12): the product's story groups (file names) and publishers.
    groups: list[set[str]] = field(default_factory=list)
    publishers: dict[str, str | None] = field(default_factory=dict)

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
                found = store.documents.sentence(doc_id, int(index))
                return found[0].text if found else None

            validity = citation_validity(brief, sentence_text)
            rows = store.analysis.live_sentences()
            speakers = []
            for row in rows:
                label = row.speaker
                if row.speaker and row.speaker_kind and row.speaker_kind != "person":
                    label = f"{row.speaker_kind}: {row.speaker}"
                speakers.append((file_of[row.document_id], row.text, label))
            speaker_acc, speaker_misses = quote_speaker_accuracy(speakers, gold)
            dates = [
                (file_of[doc_id], sentence, expression, value, precision)
                for doc_id, sentence, expression, value, precision in (
                    store.analysis.date_mention_rows()
                )
            ]
            date_acc, date_misses = date_accuracy(dates, gold)
            groups: dict[str, set[str]] = {}
            for doc in store.documents.summaries():
                groups.setdefault(doc.story_id or doc.id, set()).add(file_of[doc.id])
            _, _, f1 = story_f1(list(groups.values()), gold)
            publishers = {file_of[doc.id]: doc.publisher for doc in store.documents.summaries()}
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
        groups=list(groups.values()),
        publishers=publishers,
    )


def seed_set_report(report: Report, gold_path: Path | None = None) -> SetReport:
    """The seeds as one of the sets: story grouping against gold.toml's stories, outlets
    against its [outlet] table, fact coverage from the whole-corpus brief. The seeds have no
    mention labels, so entity linking is not measured on them."""
    with (gold_path or GOLD_PATH).open("rb") as fh:
        outlets: dict[str, str] = tomllib.load(fh).get("outlet", {})
    gold = load_gold(gold_path)
    universe = {f for g in report.groups for f in g}
    wanted = [set(s.documents) for s in gold.stories]
    accuracy, misses = outlet_accuracy(report.publishers, outlets)
    return SetReport(
        name="seeds",
        documents=len(universe),
        stored=len(universe),
        events=len(wanted),
        story_pairwise=pairwise_prf(report.groups, wanted, universe),
        story_bcubed=bcubed_prf(report.groups, wanted, universe),
        outlet_accuracy=accuracy,
        entity_linking=None,
        key_fact_coverage=report.key_facts,
        all_fact_coverage=report.all_facts,
        statements=report.statements,
        outlet_misses=misses,
        predicted_stories=len(report.groups),
    )


FLOORS_PATH = Path(__file__).with_name("floors.toml")
SET_NAMES = ("seeds", "multi-outlet", "feed-entries")


def set_reports(report: Report | None = None) -> dict[str, SetReport]:
    """Every set's report; the feed-entries set only when ../shared holds its data."""
    out = {"seeds": seed_set_report(report or evaluate())}
    out["multi-outlet"] = evaluate_multi_outlet()
    if FEED_ENTRIES_DIR.is_dir():
        out["feed-entries"] = evaluate_feed_entries()
    return out


def print_sets(reports: dict[str, SetReport]) -> None:
    """One table, a column per set, each figure with its floor and target (floors.toml)."""
    with FLOORS_PATH.open("rb") as fh:
        pinned = tomllib.load(fh)
    floors, targets = pinned.get("sets", {}), pinned.get("targets", {})
    names = [n for n in SET_NAMES if n in reports]
    figures: list[str] = []
    for name in names:
        figures += [f for f in reports[name].figures() if f not in figures]
    print("\n## Sets (issue 12): value (floor / target)\n")
    print("| figure | " + " | ".join(names) + " |")
    print("| --- |" + " ---: |" * len(names))
    for figure in figures:
        cells = []
        for name in names:
            value = reports[name].figures().get(figure)
            if value is None:
                cells.append("n/a")
                continue
            floor = floors.get(name, {}).get(figure)
            target = targets.get(name, {}).get(figure)
            extra = " / ".join("-" if x is None else f"{x:g}" for x in (floor, target))
            cells.append(f"{value:.3f} ({extra})")
        print(f"| {figure.replace('_', ' ')} | " + " | ".join(cells) + " |")
    for name in names:
        r = reports[name]
        print(
            f"\n{name}: {r.documents} documents ({r.stored} stored and scored), {r.events} "
            f"events, {r.predicted_stories} predicted stories, {r.statements} brief statements"
        )
        if r.entity_linking is not None:
            print(f"  entity links missed: {len(r.linking_misses)}, wrong: {len(r.linking_wrong)}")
            for line in r.linking_wrong[:8]:
                print("    wrong:", line[:160])
            for line in r.linking_misses[:30]:
                print("    missed:", line[:160])
        for line in r.outlet_misses[:3]:
            print("  outlet miss:", line[:160])
        if r.missing_facts:
            print("  facts missing from the brief:", ", ".join(r.missing_facts[:12]))
    if "feed-entries" not in reports:
        print(f"\nfeed-entries: not measured ({FEED_ENTRIES_DIR} is absent)")


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
    print_sets(set_reports(report))


if __name__ == "__main__":
    main_report()
