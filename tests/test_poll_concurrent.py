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
import io
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, select

from bot.cli import main
from briefs.clock import FrozenClock
from briefs.errors import internal_error
from briefs.feeds.decide import Policy
from briefs.feeds.fetch import Fetcher, FetchSettings
from briefs.feeds.poll import FeedOutcome, Poller
from briefs.feeds.urls import canonical_url
from briefs.models import ParsedArticle
from briefs.store import SqlStore, open_store
from briefs.store.schema import documents, feed_entries, meta
from tests.conftest import Run
from tests.feedserver import FeedServer, HeldFeeds

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
SKIPPED = re.compile(
    r"briefbot: feed (\d+) is being polled by another process \(lease held by \S+ until "
    r"\d{4}-\d\d-\d\d \d\d:\d\d UTC\); skipped"
)


class Gated(HeldFeeds):
    """Wire feeds whose answers wait while ``gate`` is shut (a poll in flight), with texts
    distinct enough that analysis never takes one item for a rewrite of another."""

    def __init__(self, server: FeedServer, count: int) -> None:
        super().__init__(
            server,
            count,
            name="wire",
            items=ITEMS,
            describe=lambda n, k: f"{SUBJECTS[n]} {VERBS[k % len(VERBS)]} on day {k}.",
            deadline=DEADLINE,
        )

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


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _check_both_polls(
    gated: Gated, ids: list[int], first: Run, second: Run, db_url: str, fetched_at: Any
) -> None:
    """Each feed fetched once, by the first poll; the second skipped them all and said so."""
    assert gated.requested() == Counter(gated.paths), "a feed was fetched twice"
    assert (first.code, second.code) == (0, 0), (first.err, second.err)
    assert first.err.splitlines() == [
        f"briefbot: poll: {len(ids)} feeds: {len(ids)} fetched, 0 not modified, 0 failed; "
        f"{len(ids) * ITEMS} new items, 0 duplicates"
    ]
    lines = second.err.splitlines()
    skipped = [m for m in map(SKIPPED.fullmatch, lines[:-1]) if m]
    assert [int(m.group(1)) for m in skipped] == ids, second.err
    assert lines[-1] == (
        f"briefbot: poll: {len(ids)} feeds: 0 fetched, 0 not modified, 0 failed, "
        f"{len(ids)} skipped (polled by another process); 0 new items, 0 duplicates"
    )
    store = open_store(db_url)
    try:
        for feed_id in ids:
            feed = store.feeds.get(feed_id)
            assert feed.lease_owner is None and feed.last_error is None
            assert feed.entries == ITEMS and fetched_at(feed.last_fetched_at)
        with store.engine.connect() as conn:
            assert len(conn.execute(select(documents.c.id)).all()) == len(ids) * ITEMS
    finally:
        store.close()


def test_two_cli_polls_at_once_fetch_each_feed_once(env: dict[str, str], db_url: str) -> None:
    clock = FrozenClock(NOW)
    results: dict[str, Run] = {}

    def poll(name: str) -> None:
        out, err = io.StringIO(), io.StringIO()
        code = main(["poll"], env={**env, **LOCAL}, clock=clock, out=out, err=err)
        results[name] = Run(code, out.getvalue(), err.getvalue())

    with FeedServer() as server:
        gated = Gated(server, 3)
        ids = gated.follow(db_url, NOW)
        gated.gate.clear()
        threads = [threading.Thread(target=poll, args=(n,)) for n in ("first", "second")]
        try:
            threads[0].start()
            _wait(lambda: len(server.requests) == 3, "the first poll never fetched its feeds")
            threads[1].start()
            threads[1].join(DEADLINE / 2)
            done_while_held = not threads[1].is_alive()
        finally:
            gated.gate.set()
            for thread in threads:
                if thread.ident is not None:
                    thread.join(DEADLINE)
        assert done_while_held, "the second poll waited for (or fetched) the first one's feeds"
        _check_both_polls(
            gated, ids, results["first"], results["second"], db_url, lambda t: t == NOW
        )


def test_two_poll_processes_at_once_fetch_each_feed_once(env: dict[str, str], db_url: str) -> None:
    """The same with two real ``briefbot poll`` processes on the system clock."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFBOT_")}
    process_env = {**base, **env, **LOCAL}
    command = [sys.executable, "-m", "bot.cli", "poll"]
    started = datetime.now(UTC)

    def spawn() -> subprocess.Popen[str]:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=process_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def finish(process: subprocess.Popen[str], timeout: float) -> Run:
        out, err = process.communicate(timeout=timeout)
        return Run(process.returncode, out, err)

    with FeedServer() as server:
        gated = Gated(server, 3)
        ids = gated.follow(db_url, started - timedelta(minutes=1))
        gated.gate.clear()
        first = spawn()
        second: subprocess.Popen[str] | None = None
        try:
            _wait(lambda: len(server.requests) == 3, "the first process never fetched its feeds")
            second = spawn()
            try:
                second_run = finish(second, DEADLINE)
                done_while_held = True
            except subprocess.TimeoutExpired:
                done_while_held = False
        finally:
            gated.gate.set()
            for process in (first, second):
                if process is not None and process.returncode is None:
                    try:
                        process.wait(DEADLINE)
                    except subprocess.TimeoutExpired:
                        process.kill()
        assert done_while_held, "the second process waited for (or fetched) the first's feeds"
        first_run = finish(first, DEADLINE)
        _check_both_polls(
            gated, ids, first_run, second_run, db_url, lambda t: t is not None and t >= started
        )


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
        first,
        "documents",
        lambda: theirs.append(second.documents.ingest(article, "feed", key, NOW).status),
    ) as fired:
        outcome = first.documents.ingest(article, "feed", key, NOW)
    assert fired and theirs == ["added"]
    assert outcome.status == "duplicate"
    assert (
        outcome.document_id
        == outcome.duplicate_of
        == second.documents.ingest(article, "feed", key, NOW).document_id
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
