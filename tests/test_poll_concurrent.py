"""Two polls at once (issue 15, finding 3): ``briefbot poll`` takes the same feed leases as
the bot's polling job, and a unique-key race on insert is a duplicate, never an error.

- Two ``briefbot poll`` at once, in-process (two threads, two lease owners on one store) and
  as two real processes: the first holds every feed in flight (its answers wait behind a
  gate), the second skips them all and says so, and each feed is fetched exactly once.
- Two writers storing the same document or feed entry: the race is made deterministic by
  a hook on the first store's engine that, just before its INSERT, lets a second store on
  the same database (another "process") poll the same feed to the end. The first then
  counts what it lost the race for as duplicates, and no error names SQL.

Real feeds over HTTP on 127.0.0.1, on the suite's store (SQLite, or PostgreSQL with
BRIEFBOT_TEST_DATABASE=postgres).
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import delete, event, select

from briefs.clock import FrozenClock
from briefs.errors import internal_error
from briefs.feeds.decide import Policy
from briefs.feeds.fetch import Fetcher, FetchSettings
from briefs.feeds.poll import FeedOutcome, Poller
from briefs.feeds.urls import canonical_url
from briefs.models import ParsedArticle
from briefs.store import SqlStore, open_store
from briefs.store.schema import documents, feed_entries, meta
from tests.feedserver import FeedServer, item, rss

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
# Feeds on 127.0.0.1, all three fetched at once (one host: the default allows two).
LOCAL = {
    "BRIEFBOT_FEEDS_ALLOW_PRIVATE_ADDRESSES": "true",
    "BRIEFBOT_FEEDS_PER_HOST_CONCURRENCY": "4",
}
DEADLINE = 20.0  # seconds of real time for any one step
ITEMS = 2
POLICY = Policy(
    min_interval=timedelta(minutes=15),
    default_interval=timedelta(hours=1),
    max_interval=timedelta(days=1),
    max_failures=3,
)
FETCH = FetchSettings(allow_private=True, total_timeout=10, connect_timeout=5)
# Texts distinct enough that analysis never takes one item for a rewrite of another.
SUBJECTS = [
    "The treasury designated a tanker operator in Dubai",
    "Customs officers seized drone parts bound for Tehran",
    "A court in Rotterdam fined an exporter of machine tools",
]
VERBS = ["after a long investigation", "citing evasion through Hong Kong fronts"]


class Gated:
    """Feeds on a FeedServer whose answers wait while ``gate`` is shut: claimed, requested,
    not answered (a poll in flight)."""

    def __init__(self, server: FeedServer, count: int) -> None:
        self.server = server
        self.gate = threading.Event()
        self.gate.set()
        self.paths = [f"/wire/{n}.xml" for n in range(count)]
        for number, path in enumerate(self.paths):
            server.routes[path] = self._handler(number)

    def _handler(self, number: int) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.Response:
            await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, DEADLINE)
            entries = [
                item(
                    100 * number + k,
                    title=f"Wire {number} sanctions story {k}",
                    link=f"http://news.example/wire{number}/story/{k}",
                    guid=f"wire{number}-story-{k}",
                    description=f"{SUBJECTS[number]} {VERBS[k % len(VERBS)]} on day {k}.",
                )
                for k in range(1, ITEMS + 1)
            ]
            return web.Response(body=rss(f"Wire {number}", entries), content_type="text/xml")

        return handle

    def requested(self) -> Counter[str]:
        return Counter(path for path, _ in self.server.requests)

    def follow(self, db_url: str, now: datetime) -> list[int]:
        """Follow every feed (due at ``now``) in the command line's scope; their ids."""
        store = open_store(db_url)
        try:
            return [
                store.feeds.add(
                    self.server.url(p), canonical_url(self.server.url(p)), None, p, now, False
                ).id
                for p in self.paths
            ]
        finally:
            store.close()


# -- unique-key races on insert ---------------------------------------------------------------


@contextmanager
def before_insert(store: SqlStore, table: str, action: Callable[[], object]) -> Iterator[list[str]]:
    """Run ``action`` once, just before ``store`` next inserts into ``table``: another writer
    gets in between the existence check and the insert. Yields the statements it fired on."""
    fired: list[str] = []

    def hook(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not fired and statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()} "):
            fired.append(statement)
            action()

    event.listen(store.engine, "before_cursor_execute", hook)
    try:
        yield fired
    finally:
        event.remove(store.engine, "before_cursor_execute", hook)


def _poll(store: SqlStore, feed_id: int, clock: FrozenClock) -> FeedOutcome:
    """One poll of one feed by a poller of its own (another process's, for ``store``)."""

    async def go() -> FeedOutcome:
        async with Fetcher(FETCH, None, clock) as fetcher:
            poller = Poller(store, fetcher, POLICY, clock, random.Random(7))
            return await poller.poll(store.feeds.get(feed_id))

    return asyncio.run(go())


@pytest.fixture
def two_writers(db_url: str) -> Iterator[tuple[SqlStore, SqlStore]]:
    """Two stores on one database: two processes' connections."""
    first, second = open_store(db_url), open_store(db_url)
    yield first, second
    first.close()
    second.close()


def test_a_document_another_writer_inserts_meanwhile_is_a_duplicate(
    two_writers: tuple[SqlStore, SqlStore],
) -> None:
    first, second = two_writers
    article = ParsedArticle(
        title="Ministry lists three shipping firms",
        publisher="Wire",
        byline=None,
        published_at=NOW,
        published_precision="minute",
        body="The ministry listed three shipping firms on Monday. The measure took effect.",
        url="http://news.example/story/1",
    )
    key = "http://news.example/story/1"
    theirs: list[str] = []
    with before_insert(
        first, "documents", lambda: theirs.append(second.ingest(article, "feed", key, NOW).status)
    ) as fired:
        outcome = first.ingest(article, "feed", key, NOW)
    assert fired and theirs == ["added"]
    assert outcome.status == "duplicate"
    assert (
        outcome.document_id
        == outcome.duplicate_of
        == second.ingest(article, "feed", key, NOW).document_id
    )
    with first.engine.connect() as conn:
        assert len(conn.execute(select(documents.c.id)).all()) == 1


@pytest.mark.parametrize("table", ["documents", "feed_entries"])
def test_a_feed_polled_by_another_writer_meanwhile_counts_duplicates(
    two_writers: tuple[SqlStore, SqlStore], table: str, db_url: str
) -> None:
    """The other writer polls the same feed to the end between this poll's existence checks
    and its insert of ``table``: this poll counts each item a duplicate, not an error."""
    first, second = two_writers
    clock = FrozenClock(NOW)
    with FeedServer() as server:
        gated = Gated(server, 1)
        [feed_id] = gated.follow(db_url, NOW)
        theirs: list[FeedOutcome] = []
        with before_insert(first, table, lambda: theirs.append(_poll(second, feed_id, clock))):
            ours = _poll(first, feed_id, clock)
    assert len(theirs) == 1 and theirs[0].status == "fetched"
    assert (theirs[0].new, theirs[0].duplicate) == (ITEMS, 0)
    assert ours.status == "fetched", ours.error
    assert (ours.new, ours.stored, ours.duplicate) == (0, 0, ITEMS)
    assert ours.skipped == [] and ours.new_documents == []
    with first.engine.connect() as conn:
        rows = conn.execute(select(feed_entries.c.entry_id, feed_entries.c.new)).all()
    assert sorted(rows) == [(f"wire0-story-{k}", 1) for k in range(1, ITEMS + 1)]
    assert first.feeds.get(feed_id).last_error is None


def test_an_internal_error_is_one_line_without_sql(
    two_writers: tuple[SqlStore, SqlStore], db_url: str
) -> None:
    """A real integrity failure that is not a duplicate (the document was deleted under the
    poll): the feed fails with one line naming the error, never the statement."""
    first, second = two_writers
    clock = FrozenClock(NOW)

    def drop_documents() -> None:
        with second.engine.begin() as conn:
            conn.execute(delete(documents))

    with FeedServer() as server:
        gated = Gated(server, 1)
        [feed_id] = gated.follow(db_url, NOW)
        with before_insert(first, "feed_entries", drop_documents) as fired:
            ours = _poll(first, feed_id, clock)
    assert fired
    assert ours.status == "failed" and ours.error_type == "internal"
    stored = first.feeds.get(feed_id).last_error
    for message in (ours.error, stored):
        assert message is not None and message.startswith("internal error: ")
        assert message.endswith(" (details in the log)") and "\n" not in message
        assert "[SQL" not in message and "INSERT INTO" not in message.upper(), message


def test_internal_error_names_the_driver_error_only(store: SqlStore) -> None:
    """A real SQLAlchemy error's text carries the statement; the user's line does not."""
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError) as caught, store.engine.begin() as conn:
        conn.execute(meta.insert(), [{"key": "k", "value": "v"}] * 2)
    assert "INSERT INTO meta" in str(caught.value)
    message = internal_error(caught.value)
    assert "INSERT" not in message and "\n" not in message and "[SQL" not in message
    assert message.startswith("internal error: ") and message.endswith(" (details in the log)")
    assert internal_error(ValueError("bad\nsecond line")) == (
        "internal error: ValueError: bad (details in the log)"
    )
