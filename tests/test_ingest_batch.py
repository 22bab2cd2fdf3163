"""Feed entries are stored a batch at a time (issue 14, item 2).

The cost of storing a feed must not grow a transaction (or a statement) per entry: the
number of commits and statements of ``briefbot ingest`` of a feed file and of a poll stays
the same whether the feed has 3 entries or 40, counted by SQLAlchemy event listeners on a
real store (SQLite, or PostgreSQL under BRIEFBOT_TEST_DATABASE=postgres). And a batch
stores exactly what storing its entries one by one stores: outcomes and every row.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from briefs.clock import FrozenClock
from briefs.feeds.decide import Policy
from briefs.feeds.fetch import Fetcher, FetchResult, FetchSettings
from briefs.feeds.poll import Poller
from briefs.ingest.files import ingest_files
from briefs.models import ParsedArticle
from briefs.store import SqlStore, open_store
from tests import pg
from tests.conftest import NOW, snapshot
from tests.feedserver import item, rss


@dataclass
class Counts:
    commits: int = 0
    statements: int = 0


@contextmanager
def counting(store: SqlStore) -> Iterator[Counts]:
    """Commits and statements (an executemany counts once) issued on the store's engine."""
    counts = Counts()

    def on_commit(_conn: Any) -> None:
        counts.commits += 1

    def on_statement(*_args: Any) -> None:
        counts.statements += 1

    event.listen(store.engine, "commit", on_commit)
    event.listen(store.engine, "before_cursor_execute", on_statement)
    try:
        yield counts
    finally:
        event.remove(store.engine, "commit", on_commit)
        event.remove(store.engine, "before_cursor_execute", on_statement)


def feed_file(folder: Path, name: str, first: int, count: int) -> Path:
    path = folder / f"{name}.rss"
    path.write_bytes(rss(f"Outlet {name}", [item(n) for n in range(first, first + count)]))
    return path


def test_ingest_of_a_feed_file_commits_once_whatever_its_size(
    store: SqlStore, tmp_path: Path
) -> None:
    small = feed_file(tmp_path, "small", 0, 3)
    large = feed_file(tmp_path, "large", 100, 40)
    clock = FrozenClock(NOW)
    measured = []
    for path, size in ((small, 3), (large, 40)):
        with counting(store) as counts:
            results = list(ingest_files(store, [path], "file", clock))
        assert [r.outcome.status for r in results if r.outcome] == ["added"] * size
        measured.append(counts)
    assert [c.commits for c in measured] == [1, 1]
    assert measured[0].statements == measured[1].statements  # not one more per entry
    # Ingesting the same files again stores nothing and still costs one commit a file.
    with counting(store) as again:
        results = list(ingest_files(store, [small, large], "file", clock))
    assert {r.outcome.status for r in results if r.outcome} == {"unchanged"}
    assert again.commits == 2


def _poll(store: SqlStore, body: bytes, url: str) -> tuple[Counts, int]:
    clock = FrozenClock(NOW)
    feed = store.feeds.add(url, url, None, None, clock(), False)
    headers = {"content-type": "application/rss+xml; charset=utf-8"}

    async def go() -> tuple[Counts, int]:
        async with Fetcher(FetchSettings(), None, clock) as fetcher:
            poller = Poller(store, fetcher, Policy(), clock)
            result = FetchResult(url, url, status=200, body=body, headers=headers)
            with counting(store) as counts:
                outcome = await poller.poll(feed, fetched=result)
            assert outcome.status == "fetched", outcome.error
            return counts, outcome.new

    return asyncio.run(go())


def test_a_poll_stores_its_entries_in_a_constant_number_of_transactions(
    store: SqlStore,
) -> None:
    small, new_small = _poll(store, rss("S", [item(n) for n in range(3)]), "https://s.example/f")
    large, new_large = _poll(
        store, rss("L", [item(n) for n in range(100, 140)]), "https://l.example/f"
    )
    assert (new_small, new_large) == (3, 40)
    assert small.commits == large.commits
    assert small.statements == large.statements  # documents, sentences and entry links


# -- a batch stores what one by one stores -------------------------------------------------

KEYS = st.sampled_from(["url:a", "url:b", "url:c", "url:d"])
BODIES = st.sampled_from(
    [
        "Officials said the first measure took effect. It names two ports.",
        "The ministry listed nine companies. Shipping firms were named.",
        "A third report. Brief.",
    ]
)
ARTICLES = st.builds(
    lambda title, body: ParsedArticle(
        title=title,
        publisher="Outlet",
        byline=None,
        published_at=datetime(2023, 11, 1, tzinfo=UTC),
        published_precision="day",
        body=body,
        provenance={"title": "text"},
        url=None,
    ),
    st.sampled_from(["One", "Two"]),
    BODIES,
)
BATCHES = st.lists(st.tuples(ARTICLES, KEYS), max_size=8)


@pytest.fixture(scope="module")
def fresh_url(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A new empty store's URL on each call, on the suite's backend."""
    if pg.wanted():
        yield request.getfixturevalue("pg_server").fresh_url
        return
    with tempfile.TemporaryDirectory(prefix="briefbot-batch-") as tmp:
        counter = iter(range(10**9))
        yield lambda: f"sqlite:///{Path(tmp) / f'{next(counter)}.sqlite3'}"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=BATCHES, batch=BATCHES)
def test_a_batch_stores_what_one_by_one_stores(
    fresh_url: Any,
    before: list[tuple[ParsedArticle, str]],
    batch: list[tuple[ParsedArticle, str]],
) -> None:
    """Keys twice in a batch, bodies shared (duplicates), documents stored before and
    unchanged or changed now: outcomes and rows are those of ``ingest`` one at a time."""
    one_by_one, together = open_store(fresh_url()), open_store(fresh_url())
    try:
        for store in (one_by_one, together):
            for article, key in before:
                store.documents.ingest(article, "feed", key, NOW)
        later = NOW + timedelta(hours=1)
        expected = [
            one_by_one.documents.ingest(article, "feed", key, later) for article, key in batch
        ]
        assert together.documents.ingest_many(batch, "feed", later) == expected
        assert snapshot(together) == snapshot(one_by_one)
    finally:
        one_by_one.close()
        together.close()
