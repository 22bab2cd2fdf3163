"""The multi-outlet and feed-entries evaluation sets (issue 12), run through the real product.

Each set is delivered as feed files and goes through ``ingest_files`` (what ``briefbot
ingest`` calls) and ``analyze_pending``; the figures come from what the product stored (story
ids, publishers, mention rows) and from ``briefbot brief --format json`` over the set's window.
Scoring is done by the pure functions of tests/eval/score.py. See docs/quality.md.
"""

from __future__ import annotations

import io
import json
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import select

from bot.cli import main
from briefs.analysis.pipeline import analyze_pending
from briefs.clock import FrozenClock
from briefs.feeds.urls import canonical_url
from briefs.ingest.files import ingest_files
from briefs.lexicon import load_lexicon
from briefs.store import open_store
from briefs.store.schema import documents, mentions, sentences
from tests.conftest import NOW
from tests.eval.build_feeds import CORPUS_PATH, FEEDS_DIR, load_corpus
from tests.eval.score import (
    PRF,
    Fact,
    Gold,
    GoldMention,
    PredictedMention,
    bcubed_prf,
    brief_statements,
    entity_linking,
    fact_coverage,
    key_fact_coverage,
    outlet_accuracy,
    pairwise_prf,
)

EVAL_DIR = Path(__file__).parent
FEED_ENTRIES_LABELS = EVAL_DIR / "feed_entries.toml"
# The repository's parent holds shared/ (the CI runs with ../shared beside the clone).
FEED_ENTRIES_DIR = EVAL_DIR.parent.parent.parent / "shared" / "datasets" / "feed-entries-2023"
# Statements in the windowed brief of a set: more than the seeds' 12, as there are more events.
SET_BUDGET = 20
# Entity kinds the mention labels cover; only the product's links to these are scored.
LABELLED_KINDS = ("person", "organisation", "vessel")


@dataclass(frozen=True)
class LabelledSet:
    """A set's documents (keyed by canonical URL) and labels."""

    name: str
    feed_files: tuple[Path, ...]
    events: dict[str, str]  # document -> event id
    outlets: dict[str, str]  # document -> outlet
    mentions: tuple[GoldMention, ...]
    gold: Gold  # facts only
    window: tuple[date, date]
    ignored: frozenset[str] = frozenset()


@dataclass
class SetReport:
    name: str
    documents: int
    stored: int
    events: int
    story_pairwise: PRF
    story_bcubed: PRF
    outlet_accuracy: float
    entity_linking: PRF | None
    key_fact_coverage: float | None
    all_fact_coverage: float | None
    statements: int = 0
    outlet_misses: list[str] = field(default_factory=list)
    linking_misses: list[str] = field(default_factory=list)
    linking_wrong: list[str] = field(default_factory=list)
    missing_facts: list[str] = field(default_factory=list)
    predicted_stories: int = 0

    def figures(self) -> dict[str, float]:
        """Every figure floors.toml can pin for this set (absent ones are not measured)."""
        out = {
            "story_pairwise_precision": self.story_pairwise.precision,
            "story_pairwise_recall": self.story_pairwise.recall,
            "story_pairwise_f1": self.story_pairwise.f1,
            "story_bcubed_precision": self.story_bcubed.precision,
            "story_bcubed_recall": self.story_bcubed.recall,
            "story_bcubed_f1": self.story_bcubed.f1,
            "outlet_accuracy": self.outlet_accuracy,
        }
        if self.entity_linking is not None:
            out["entity_linking_precision"] = self.entity_linking.precision
            out["entity_linking_recall"] = self.entity_linking.recall
        if self.key_fact_coverage is not None:
            out["key_fact_coverage"] = self.key_fact_coverage
        if self.all_fact_coverage is not None:
            out["all_fact_coverage"] = self.all_fact_coverage
        return out


def _facts(raw: Sequence[dict[str, Any]], prefix: str = "") -> tuple[Fact, ...]:
    return tuple(
        Fact(
            f"{prefix}{f['id']}",
            f["text"],
            int(f.get("weight", 1)),
            tuple(tuple(a) for a in f["match"]),
        )
        for f in raw
    )


def _gold(facts: tuple[Fact, ...]) -> Gold:
    return Gold(facts=facts, stories=(), quotes=(), dates=())


# -- the multi-outlet set -------------------------------------------------------------------


def load_multi_outlet(path: Path = CORPUS_PATH) -> LabelledSet:
    raw = load_corpus(path)
    docs = raw["doc"]
    key = {d["id"]: canonical_url(d["link"]) for d in docs}
    facts: list[Fact] = []
    for event in raw["event"]:
        facts.extend(_facts(event.get("facts", []), f"{event['id']}/"))
    days = [datetime.fromisoformat(d["published"].replace("Z", "+00:00")).date() for d in docs]
    return LabelledSet(
        name="multi-outlet",
        feed_files=tuple(sorted(FEEDS_DIR.iterdir())),
        events={key[d["id"]]: d["event"] for d in docs},
        outlets={key[d["id"]]: d["outlet"] for d in docs},
        mentions=tuple(
            GoldMention(key[d["id"]], surface, entity)
            for d in docs
            for surface, entity in d["mentions"]
        ),
        gold=_gold(tuple(facts)),
        window=(min(days), max(days)),
    )


# -- the feed-entries set -------------------------------------------------------------------


def _rss_item(entry: dict[str, Any]) -> str:
    when = datetime.fromisoformat(str(entry["date_published"]))
    parts = [
        "<item>",
        f"<title>{escape(str(entry.get('title') or ''))}</title>",
        f"<link>{escape(str(entry['link']))}</link>",
        f"<guid>{escape(str(entry['link']))}</guid>",
        f"<pubDate>{format_datetime(when)}</pubDate>",
        f"<description>{escape(str(entry.get('description') or ''))}</description>",
        "</item>",
    ]
    return "".join(parts)


def write_feed_entry_feeds(
    source: Path, out_dir: Path, titles: dict[str, str]
) -> list[tuple[Path, list[dict[str, Any]]]]:
    """One RSS file per captured feed and day, as the feed served it: the channel title the
    real feed carries, its items' title, link, date and teaser (nothing else is known)."""
    written = []
    for capture in sorted(source.glob("*_entries.json")):
        entries = json.loads(capture.read_text("utf-8"))
        if not entries:
            continue
        feed_url = str(entries[0]["source"])
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>{escape(titles[feed_url])}</title><link>{escape(feed_url)}</link>"
            f"<description>{escape(titles[feed_url])}</description>"
            + "".join(_rss_item(e) for e in entries)
            + "</channel></rss>\n"
        )
        path = out_dir / (capture.name.removesuffix(".json") + ".xml")
        path.write_text(body, encoding="utf-8")
        written.append((path, entries))
    return written


def load_feed_entries(out_dir: Path, source: Path = FEED_ENTRIES_DIR) -> LabelledSet:
    """The feed-entries set: its feeds written to ``out_dir`` from ``source``, labelled by
    feed_entries.toml (events by link; outlet by feed, or by the link's domain)."""
    with FEED_ENTRIES_LABELS.open("rb") as fh:
        raw = tomllib.load(fh)
    feeds = raw["feeds"]
    by_domain = raw.get("outlet_by_domain", {})
    written = write_feed_entry_feeds(source, out_dir, {u: f["title"] for u, f in feeds.items()})
    events: dict[str, str] = {}
    outlets: dict[str, str] = {}
    days: list[date] = []
    for _, entries in written:
        for entry in entries:
            url = canonical_url(str(entry["link"]))
            domain = url.split("/")[2]
            outlets[url] = by_domain.get(domain, feeds[str(entry["source"])]["outlet"])
            events.setdefault(url, f"single:{url}")
            days.append(datetime.fromisoformat(str(entry["date_published"])).date())
    for event in raw["event"]:
        for link in event["links"]:
            url = canonical_url(link)
            if url not in events:
                raise ValueError(f"feed_entries.toml: {link} is in no captured feed")
            events[url] = event["id"]
    facts: list[Fact] = []
    for event in raw["event"]:
        facts.extend(_facts(event.get("facts", []), f"{event['id']}/"))
    return LabelledSet(
        name="feed-entries",
        feed_files=tuple(p for p, _ in written),
        events=events,
        outlets=outlets,
        mentions=(),
        gold=_gold(tuple(facts)),
        window=(min(days), max(days)),
        ignored=frozenset(canonical_url(u) for u in raw.get("ignore", [])),
    )


# -- running the product and scoring --------------------------------------------------------


@dataclass
class ProductRun:
    story_of: dict[str, str]  # canonical URL -> story id (the document's id when it has none)
    publisher_of: dict[str, str | None]
    mentions: list[PredictedMention]
    statements: list[str]
    entity_kinds: dict[str, str]


def run_product(files: Sequence[Path], window: tuple[date, date], budget: int) -> ProductRun:
    """Ingest ``files`` into a fresh SQLite store, analyse, and read back what was made."""
    lexicon = load_lexicon()
    with tempfile.TemporaryDirectory(prefix="briefbot-evalset-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'store.sqlite3'}"
        env = {"BRIEFBOT_DATABASE_URL": url, "HOME": tmp, "XDG_DATA_HOME": tmp}
        store = open_store(url)
        try:
            results = list(ingest_files(store, list(files), "file", FrozenClock(NOW)))
            errors = [r.error for r in results if r.error]
            if errors:
                raise RuntimeError(f"ingest refused part of the set: {errors[:3]}")
            analyze_pending(store, lexicon)
            # Read from the table: summaries() leaves out documents stored as duplicates of
            # another (the same text under a second URL), which belong to their original's story.
            cols = (documents.c.id, documents.c.url, documents.c.publisher)
            extra = (documents.c.story_id, documents.c.duplicate_of)
            with store.engine.connect() as conn:
                docs = conn.execute(select(*cols, *extra)).all()
            url_of = {str(d.id): str(d.url or d.id) for d in docs}
            own = {str(d.id): str(d.story_id or d.id) for d in docs}
            story_of = {
                url_of[str(d.id)]: own.get(str(d.duplicate_of or d.id), own[str(d.id)])
                for d in docs
            }
            publisher_of = {url_of[str(d.id)]: d.publisher for d in docs}
            query = select(sentences.c.document_id, sentences.c.text, mentions.c.entity_id).join(
                mentions, mentions.c.sentence_id == sentences.c.id
            )
            with store.engine.connect() as conn:
                rows = conn.execute(query).all()
            predicted = [
                PredictedMention(url_of[doc], str(text), str(entity))
                for doc, text, entity in rows
                if doc in url_of
            ]
            out, err = io.StringIO(), io.StringIO()
            argv = ["brief", "--format", "json", "--max-items", str(budget)]
            argv += ["--since", window[0].isoformat(), "--until", window[1].isoformat()]
            code = main(argv, env=env, clock=FrozenClock(NOW), out=out, err=err)
            if code != 0:
                raise RuntimeError(f"briefbot brief exited {code}: {err.getvalue()}")
            statements = brief_statements(json.loads(out.getvalue()))
        finally:
            store.close()
    kinds = {e.id: e.type for e in lexicon.entities}
    return ProductRun(story_of, publisher_of, predicted, statements, kinds)


def score_set(labels: LabelledSet, run: ProductRun, entity_kinds: dict[str, str]) -> SetReport:
    """The set's figures from one product run (``entity_kinds``: the labels' own entities)."""
    universe = {u for u in labels.events if u in run.story_of and u not in labels.ignored}
    predicted: dict[str, set[str]] = {}
    for u in universe:
        predicted.setdefault(run.story_of[u], set()).add(u)
    gold: dict[str, set[str]] = {}
    for u in universe:
        gold.setdefault(labels.events[u], set()).add(u)
    outlets = {u: o for u, o in labels.outlets.items() if u in universe}
    accuracy, outlet_misses = outlet_accuracy(run.publisher_of, outlets)
    linking: PRF | None = None
    missed: list[str] = []
    wrong: list[str] = []
    if labels.mentions:
        kinds = {**run.entity_kinds, **entity_kinds}
        scored = {e for e, k in kinds.items() if k in LABELLED_KINDS}
        linking, missed, wrong = entity_linking(run.mentions, labels.mentions, scored)
    key = every = None
    missing: list[str] = []
    if labels.gold.facts:
        key = key_fact_coverage(run.statements, labels.gold)[0]
        every, _, missing = fact_coverage(run.statements, labels.gold)
    return SetReport(
        name=labels.name,
        documents=len(labels.events) - len(labels.ignored & set(labels.events)),
        stored=len(universe),
        events=len({labels.events[u] for u in universe}),
        story_pairwise=pairwise_prf(predicted.values(), gold.values(), universe),
        story_bcubed=bcubed_prf(predicted.values(), gold.values(), universe),
        outlet_accuracy=accuracy,
        entity_linking=linking,
        key_fact_coverage=key,
        all_fact_coverage=every,
        statements=len(run.statements),
        outlet_misses=outlet_misses,
        linking_misses=missed,
        linking_wrong=wrong,
        missing_facts=missing,
        predicted_stories=len(predicted),
    )


def evaluate_multi_outlet() -> SetReport:
    labels = load_multi_outlet()
    run = run_product(labels.feed_files, labels.window, SET_BUDGET)
    return score_set(labels, run, dict(load_corpus()["entities"]))


def evaluate_feed_entries(source: Path = FEED_ENTRIES_DIR) -> SetReport:
    if not source.is_dir():
        raise FileNotFoundError(
            f"{source}: the feed-entries set is read from ../shared beside the repository"
        )
    with tempfile.TemporaryDirectory(prefix="briefbot-feedentries-") as tmp:
        labels = load_feed_entries(Path(tmp), source)
        run = run_product(labels.feed_files, labels.window, SET_BUDGET)
    return score_set(labels, run, {})
