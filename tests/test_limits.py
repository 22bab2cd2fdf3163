"""Bounds on what one input may cost (docs/operations.md, "Limits"): the largest file
``ingest`` reads, the items taken from one feed fetch, the sentences of one document analysed.

Each limit is exercised through the real parts: the CLI in-process on a real store, feeds
served over HTTP on 127.0.0.1, the engine's own poller (the one the bot's polling job uses).
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from bot.cli import main
from bot.services.shared import Services
from briefs.analysis.pipeline import analyze_pending
from briefs.clock import FrozenClock
from briefs.feeds.entries import newest_first
from briefs.feeds.parse import FeedEntry, newest_indexes, parse_feed
from briefs.lexicon import load_lexicon
from briefs.models import ParsedArticle
from briefs.settings import load_settings
from briefs.store import SqlStore, open_store
from tests.conftest import NOW, Run
from tests.feedserver import FeedServer, Route, item, rss

GOOD = "A headline on arms\n\nSanctions were imposed on Monday. Officials said so.\n"
LOCAL = {"BRIEFBOT_FEEDS_ALLOW_PRIVATE_ADDRESSES": "true"}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def run(env: dict[str, str], clock: FrozenClock) -> Callable[..., Run]:
    """The CLI with one clock for the whole test; ``extra`` adds environment variables."""

    def go(*args: str, extra: dict[str, str] | None = None) -> Run:
        out, err = io.StringIO(), io.StringIO()
        full = {**env, **LOCAL, **(extra or {})}
        code = main(list(args), env=full, clock=clock, out=out, err=err)
        return Run(code, out.getvalue(), err.getvalue())

    return go


def _rows(db_url: str, query: str) -> list[tuple[object, ...]]:
    store = open_store(db_url)
    try:
        with store.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(query))]
    finally:
        store.close()


# -- [ingest] max_file_bytes ------------------------------------------------------------------


def _article(size: int) -> str:
    """A valid article of at least ``size`` bytes."""
    sentence = "Officials said the new sanctions on arms shipments took effect on Monday. "
    return "A headline on arms\n\n" + sentence * (size // len(sentence) + 1)


def test_a_file_over_the_limit_is_refused_in_one_line_naming_it_and_the_limit(
    run: Callable[..., Run], tmp_path: Path, db_url: str
) -> None:
    big = tmp_path / "big.txt"
    big.write_text(_article(3000), encoding="utf-8")
    size = big.stat().st_size
    result = run("ingest", str(big), extra={"BRIEFBOT_INGEST_MAX_FILE_BYTES": "2000"})
    assert result.code == 1
    assert result.err.splitlines() == [
        f"briefbot: error: {big}: {size:,} bytes, larger than the limit of 2,000 bytes for one "
        "file ([ingest] max_file_bytes); split it, or raise the limit",
        "briefbot: ingest: 1 failed",
    ]
    assert _rows(db_url, "SELECT id FROM documents") == []
    # Under the limit, the same file is ingested.
    assert run("ingest", str(big), extra={"BRIEFBOT_INGEST_MAX_FILE_BYTES": str(size)}).code == 0


def test_a_folder_skips_files_over_the_limit_and_ingests_the_rest(
    run: Callable[..., Run], tmp_path: Path, db_url: str
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    (folder / "huge.txt").write_text(_article(5000), encoding="utf-8")
    (folder / "huge.html").write_text(f"<html><body><p>{_article(5000)}</p></body></html>")
    (folder / "huge.xml").write_bytes(rss("Wire", [item(n) for n in range(40)]))
    result = run("ingest", str(folder), extra={"BRIEFBOT_INGEST_MAX_FILE_BYTES": "4000"})
    assert result.code == 1  # partial failure, as for any other bad file
    refused = [line for line in result.err.splitlines() if "[ingest] max_file_bytes" in line]
    assert sorted(line.split(": ")[2] for line in refused) == [
        str(folder / name) for name in ("huge.html", "huge.txt", "huge.xml")
    ]
    assert result.err.splitlines()[-1] == "briefbot: ingest: 1 added, 3 failed"
    assert len(_rows(db_url, "SELECT id FROM documents")) == 1


def test_the_default_limit_refuses_a_file_over_five_megabytes_without_reading_it(
    run: Callable[..., Run], tmp_path: Path
) -> None:
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as fh:  # sparse: takes no disk space, and would read as binary
        fh.truncate(5_000_001)
    result = run("ingest", str(huge))
    assert result.code == 1
    assert f"{huge}: 5,000,001 bytes, larger than the limit of 5,000,000 bytes" in result.err


def test_the_seed_corpus_obeys_the_limit_too(run: Callable[..., Run], tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "small.txt").write_text(GOOD, encoding="utf-8")
    (seeds / "large.txt").write_text(_article(5000), encoding="utf-8")
    extra = {"BRIEFBOT_INGEST_SEEDS_DIR": str(seeds), "BRIEFBOT_INGEST_MAX_FILE_BYTES": "4000"}
    result = run("stats", "--format", "json", extra=extra)
    assert result.code == 0, result.err
    assert result.json()["documents"] == 1
    assert "briefbot: seed skipped: " in result.err and "[ingest] max_file_bytes" in result.err


# -- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("BRIEFBOT_INGEST_MAX_FILE_BYTES", "0", "expected a whole number of at least 1, got 0"),
        ("BRIEFBOT_INGEST_MAX_FILE_BYTES", "5MB", "expected a whole number, got '5MB'"),
        ("BRIEFBOT_FEEDS_MAX_ITEMS_PER_FETCH", "0", "expected a whole number of at least 1"),
        ("BRIEFBOT_FEEDS_MAX_ITEMS_PER_FETCH", "1.5", "expected a whole number, got '1.5'"),
        ("BRIEFBOT_ANALYSIS_MAX_SENTENCES", "-3", "expected a whole number of at least 1"),
        ("BRIEFBOT_ANALYSIS_MAX_SENTENCES", "many", "expected a whole number, got 'many'"),
    ],
)
def test_a_bad_limit_is_one_line_naming_the_variable(
    run: Callable[..., Run], variable: str, value: str, message: str
) -> None:
    result = run("stats", extra={variable: value})
    assert result.code == 2 and result.out == ""
    assert result.err.count("\n") == 1
    assert result.err.startswith(f"briefbot: error: environment variable {variable}: ")
    assert message in result.err


def test_limits_are_read_from_a_settings_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(
        "[ingest]\nmax_file_bytes = 1_000\n[feeds]\nmax_items_per_fetch = 7\n"
        "[analysis]\nmax_sentences = 30\n"
    )
    settings = load_settings({}, path)
    assert (settings.max_file_bytes, settings.feeds.max_items_per_fetch) == (1000, 7)
    assert settings.max_sentences == 30
    defaults = load_settings({})
    assert (defaults.max_file_bytes, defaults.feeds.max_items_per_fetch) == (5_000_000, 500)
    assert defaults.max_sentences == 2000


# -- [feeds] max_items_per_fetch --------------------------------------------------------------


def _when(day: int) -> str:
    return (datetime(2023, 1, 1, 8, 0, tzinfo=UTC) + timedelta(days=day)).strftime(
        "%a, %d %b %Y %H:%M:%S GMT"
    )


def _shuffled_feed(count: int, undated: frozenset[int] = frozenset()) -> bytes:
    """Items 0..count-1 whose dates are out of feed order: item n is dated day (n * 7) % count."""
    items = []
    for n in range(count):
        entry = item(n, pubDate=_when((n * 7) % count))
        if n in undated:
            del entry["pubDate"]
        items.append(entry)
    return rss("Busy Wire", items)


def test_parse_keeps_the_newest_items_in_feed_order_and_says_how_many_it_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = _shuffled_feed(30)
    whole = parse_feed(body, {}, "http://news.example/feed")
    with caplog.at_level(logging.WARNING, logger="briefs.feeds.parse"):
        parsed = parse_feed(body, {}, "http://news.example/feed", max_items=10)
    newest = {e.entry_id for e in newest_first(whole.entries)[:10]}
    assert [e.entry_id for e in parsed.entries] == [
        e.entry_id for e in whole.entries if e.entry_id in newest
    ]
    assert parsed.over_limit == 20 and parsed.skipped == [] and whole.over_limit == 0
    assert parsed.warnings[0] == (
        "30 items in the feed: took the newest 10 and skipped 20 "
        "([feeds] max_items_per_fetch is 10)"
    )
    assert any(
        "http://news.example/feed" in r.getMessage() and "skipped 20" in r.getMessage()
        for r in caplog.records
    )


def test_undated_items_come_after_dated_ones_in_feed_order() -> None:
    parsed = parse_feed(_shuffled_feed(12, frozenset({0, 3, 4, 9})), {}, max_items=10)
    ids = {e.entry_id for e in parsed.entries}
    assert len(ids) == 10 and {"story-0", "story-3"} <= ids
    assert not {"story-4", "story-9"} & ids


def _dates() -> st.SearchStrategy[list[datetime | None]]:
    day = st.integers(0, 40).map(lambda d: datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=d))
    return st.lists(st.one_of(st.none(), day), max_size=60)


@given(dates=_dates(), limit=st.integers(1, 70))
def test_newest_indexes_choose_what_a_backfill_would(
    dates: list[datetime | None], limit: int
) -> None:
    entries = [
        FeedEntry(str(i), "t", None, None, d, "minute" if d else "none", "")
        for i, d in enumerate(dates)
    ]
    kept = newest_indexes(dates, limit)
    assert kept == sorted(kept) and len(kept) == min(limit, len(dates))
    assert {str(i) for i in kept} == {e.entry_id for e in newest_first(entries)[:limit]}


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as s:
        s.routes["/feed"] = Route(_shuffled_feed(12))
        yield s


def test_feeds_test_shows_the_newest_items_only_and_warns(
    run: Callable[..., Run], server: FeedServer
) -> None:
    result = run(
        "feeds", "test", server.url("/feed"), extra={"BRIEFBOT_FEEDS_MAX_ITEMS_PER_FETCH": "5"}
    )
    assert result.code == 0, result.err
    assert f"{server.url('/feed')} (rss20, 5 items)" in result.out
    assert (
        "briefbot: warning: 12 items in the feed: took the newest 5 and skipped 7 "
        "([feeds] max_items_per_fetch is 5)"
    ) in result.err.splitlines()


def test_feeds_add_stores_the_newest_items_and_backfills_from_them(
    run: Callable[..., Run], server: FeedServer, db_url: str
) -> None:
    extra = {"BRIEFBOT_FEEDS_MAX_ITEMS_PER_FETCH": "5"}
    result = run("feeds", "add", server.url("/feed"), "--backfill", "2", extra=extra)
    assert result.code == 0, result.err
    assert "(5 items; 2 new for the next digest)" in result.out
    stored = _rows(db_url, "SELECT entry_id FROM feed_entries ORDER BY entry_id")
    # Item n is dated day (n * 7) % 12: the newest five are those dated days 7 to 11.
    newest = [n for n in range(12) if (n * 7) % 12 >= 7]
    assert stored == sorted((f"story-{n}",) for n in newest)
    assert len(_rows(db_url, "SELECT id FROM documents WHERE origin = 'feed'")) == 5


def test_poll_takes_the_newest_items_of_a_fetch(
    run: Callable[..., Run], server: FeedServer, clock: FrozenClock, db_url: str
) -> None:
    extra = {"BRIEFBOT_FEEDS_MAX_ITEMS_PER_FETCH": "5"}
    assert run("feeds", "add", server.url("/feed"), extra=extra).code == 0
    server.routes["/feed"] = Route(rss("Busy Wire", [item(n) for n in range(100, 130)]))
    clock.advance(timedelta(days=1))
    result = run("poll", extra=extra)
    assert result.code == 0, result.err
    assert "1 fetched, 0 not modified, 0 failed; 5 new items" in result.err
    assert len(_rows(db_url, "SELECT entry_id FROM feed_entries")) == 10


def test_the_bots_poller_takes_the_newest_items_of_a_fetch(
    env: dict[str, str], server: FeedServer, clock: FrozenClock
) -> None:
    settings = load_settings({**env, **LOCAL, "BRIEFBOT_FEEDS_MAX_ITEMS_PER_FETCH": "4"})
    engine = Services(settings, clock)
    try:
        feed, outcome, parsed = asyncio.run(engine.feeds.add(server.url("/feed"), "42"))
        assert (outcome.items, outcome.stored, parsed.over_limit) == (4, 4, 8)
        server.routes["/feed"] = Route(rss("Busy Wire", [item(n) for n in range(200, 220)]))
        clock.advance(timedelta(days=1))

        async def round_() -> int:
            async with engine.feeds.fetcher() as fetcher:  # what the bot's polling job runs
                summary = await engine.feeds.poller(fetcher).round()
            return summary.total("new")

        assert asyncio.run(round_()) == 4
        assert len(engine.store.feeds.known_entries(feed.id)) == 8
    finally:
        engine.close()


def test_an_rss_file_given_to_ingest_counts_as_one_fetch(
    run: Callable[..., Run], tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "wire.xml"
    path.write_bytes(_shuffled_feed(12))
    with caplog.at_level(logging.WARNING, logger="briefs.feeds.parse"):
        result = run("ingest", str(path), extra={"BRIEFBOT_FEEDS_MAX_ITEMS_PER_FETCH": "3"})
    assert result.code == 0, result.err
    assert result.err.splitlines()[-1] == "briefbot: ingest: 3 added"
    assert len(_rows(db_url, "SELECT id FROM documents")) == 3
    assert [r.getMessage() for r in caplog.records] == [
        f"feed {path}: 12 items in the feed: took the newest 3 and skipped 9 "
        "([feeds] max_items_per_fetch is 3)"
    ]


# -- [analysis] max_sentences -----------------------------------------------------------------


def _long_article(sentences: int) -> str:
    lines = [
        f"Officials said Russia shipped {n + 1} artillery shells to North Korea under "
        f"sanctions, marker{n}x."
        for n in range(sentences)
    ]
    paragraphs = [" ".join(lines[i : i + 5]) for i in range(0, len(lines), 5)]
    return "Arms shipments under sanctions\n\n" + "\n\n".join(paragraphs) + "\n"


def _facts(db_url: str) -> list[tuple[object, ...]]:
    """(position, salience, topics, mentions) of each live sentence, in order."""
    return _rows(
        db_url,
        "SELECT s.position, s.salience, s.topics, "
        "(SELECT COUNT(*) FROM mentions m WHERE m.sentence_id = s.id) "
        "FROM sentences s WHERE s.position IS NOT NULL ORDER BY s.position",
    )


def test_analysis_stops_after_max_sentences_and_every_sentence_stays_citable(
    run: Callable[..., Run], tmp_path: Path, db_url: str
) -> None:
    path = tmp_path / "long.txt"
    path.write_text(_long_article(60), encoding="utf-8")
    extra = {"BRIEFBOT_ANALYSIS_MAX_SENTENCES": "20", "BRIEFBOT_INGEST_SEED_CORPUS": "false"}
    assert run("ingest", str(path), extra=extra).code == 0
    assert run("brief", extra=extra).code == 0  # a read analyses what is new
    facts = _facts(db_url)
    assert len(facts) == 60
    assert all(s is not None and t and m for _, s, t, m in facts[:20])
    assert all(s is None and t is None and m == 0 for _, s, t, m in facts[20:])
    (doc,) = _rows(db_url, "SELECT id, analysis_version FROM documents")
    assert doc[1] is not None  # analysed: the next read does not analyse it again
    source = run("source", f"{doc[0]}:55", extra=extra)
    assert source.code == 0, source.err
    assert "marker55x" in source.out
    found = run("search", "marker55x", extra=extra)
    assert found.code == 0 and "marker55x" in found.out


def test_a_document_analysed_in_part_keeps_no_old_facts_past_the_limit(
    store: SqlStore, db_url: str
) -> None:
    lexicon = load_lexicon()
    body = _long_article(40).split("\n\n", 1)[1]

    def ingest(text_: str) -> None:
        article = ParsedArticle("Arms", None, None, NOW, "minute", text_, {})
        store.documents.ingest(article, "file", "file:/long.txt", NOW)

    ingest(body)
    assert analyze_pending(store, lexicon) == 1
    assert all(s is not None for _, s, _, _ in _facts(db_url))
    ingest("A new first sentence on sanctions.\n\n" + body)  # re-analysed; sentences reused
    assert analyze_pending(store, lexicon, max_sentences=10) == 1
    facts = _facts(db_url)
    assert len(facts) == 41
    assert all(s is not None for _, s, _, _ in facts[:10])
    assert all(s is None and t is None and m == 0 for _, s, t, m in facts[10:])


def test_analysis_cost_is_bounded_by_the_limit_not_the_document(
    store: SqlStore, db_url: str
) -> None:
    """A document of 3,000 sentences is analysed as its first 50: facts for 50, and its
    story signature drawn from them only (terms past the limit do not count)."""
    lexicon = load_lexicon()
    body = _long_article(50).split("\n\n", 1)[1] + "\n\n" + "Zanzibarian tariffs rose. " * 2950
    article = ParsedArticle("Arms", None, None, NOW, "minute", body, {})
    store.documents.ingest(article, "file", "file:/huge.txt", NOW)
    assert analyze_pending(store, lexicon, max_sentences=50) == 1
    analysed = [f for f in _facts(db_url) if f[1] is not None]
    assert len(analysed) == 50
    (signature,) = _rows(db_url, "SELECT signature FROM documents")
    assert "zanzibarian" not in str(signature).lower()


# -- the cost of one large document, within the limits ------------------------------------------


def test_a_large_article_within_the_limit_is_ingested_and_analysed_in_seconds(
    run: Callable[..., Run], tmp_path: Path, db_url: str
) -> None:
    """A 1 MB article in one paragraph, a date in each sentence: ingest and the first read
    (which analyses it) take seconds, not the minutes they took."""
    sentences = [
        f"Officials said Russia shipped {n} artillery shells to North Korea on March "
        f"{n % 28 + 1}, 2023."
        for n in range(12_000)
    ]
    path = tmp_path / "large.txt"
    path.write_text("A large report on arms\n\n" + " ".join(sentences) + "\n", encoding="utf-8")
    assert 1_000_000 < path.stat().st_size < 5_000_000
    extra = {"BRIEFBOT_INGEST_SEED_CORPUS": "false"}
    started = time.perf_counter()
    assert run("ingest", str(path), extra=extra).code == 0
    assert run("brief", extra=extra).code == 0
    assert time.perf_counter() - started < 60.0
    assert len(_rows(db_url, "SELECT id FROM sentences WHERE salience IS NOT NULL")) == 2000
