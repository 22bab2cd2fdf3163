"""``briefbot db migrate-to``: a real SQLite store with seeds, a re-ingested file, feeds,
entries, a subscription, a schedule and deliveries, copied into an empty database and read
back row for row; briefs from the copy equal briefs from the original.

The target is the suite's backend (``db_url``: a second SQLite file, or PostgreSQL) and, in
every run where PostgreSQL is installed, PostgreSQL itself (``pg_url``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import column, inspect, select, table

from bot.cli import main
from briefs.clock import FrozenClock
from briefs.store import open_store
from briefs.store.copy import FTS_CHECK, copy_store
from tests.conftest import NOW, Run
from tests.feedserver import FeedServer, Route, item, rss

LOCAL = {"BRIEFBOT_FEEDS_ALLOW_PRIVATE_ADDRESSES": "true"}
ARTICLE = (
    "Sanctions desk notes\n\n"
    "Officials said the new designations target four shipping companies. "
    "The ministry denied any transfer of artillery shells. "
    "Analysts expect the freighter Zorvex to be listed next.\n"
)
TABLES = [
    "meta",
    "documents",
    "sentences",
    "mentions",
    "date_mentions",
    "names",
    "feeds",
    "subscriptions",
    "feed_entries",
    "schedules",
    "deliveries",
]


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as s:
        s.routes["/feed"] = Route(rss("Sanctions Wire", [item(n) for n in range(1, 5)]))
        s.routes["/other"] = Route(rss("Arms Desk", [item(n) for n in range(7, 9)]))
        yield s


def _cli(tmp_path: Path, url: str) -> Callable[..., Run]:
    clock = FrozenClock(NOW)

    def run(*args: str) -> Run:
        env = {
            "BRIEFBOT_DATABASE_URL": url,
            "HOME": str(tmp_path),
            "XDG_DATA_HOME": str(tmp_path),
            **LOCAL,
        }
        out, err = io.StringIO(), io.StringIO()
        code = main(list(args), env=env, clock=clock, out=out, err=err)
        return Run(code, out.getvalue(), err.getvalue())

    return run


def _source_store(tmp_path: Path, server: FeedServer) -> str:
    """An SQLite store holding one of everything the store knows."""
    url = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    run = _cli(tmp_path, url)
    assert run("brief").code == 0  # seeds ingested and analysed
    article = tmp_path / "desk.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    assert run("ingest", str(article)).code == 0
    article.write_text(ARTICLE.replace("Zorvex", "Quillon"), encoding="utf-8")
    assert run("ingest", str(article)).code == 0  # one sentence retired, one added
    assert run("feeds", "add", server.url("/feed"), "--backfill", "2").code == 0
    assert run("schedule", "set", "--channel", "555", "--time", "08:00").code == 0
    assert run("brief").code == 0  # analyse what came in
    store = open_store(url)
    try:
        store.feeds.subscribe(1, "555", NOW, include=["shipping"], exclude=["sport"])
        schedule = store.schedules.list_schedules(None)[0]
        first = store.schedules.claim(schedule.id, None, NOW, NOW, "test")
        assert first is not None
        store.schedules.finish(first.id, "sent", NOW, message_ids=["9001"], items=3)
        second = store.schedules.claim(schedule.id, NOW, NOW + timedelta(days=1), NOW, "test")
        assert second is not None
    finally:
        store.close()
    return url


def _rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, raw, in key order (PostgreSQL's computed tsvector left out)."""
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            found: dict[str, list[tuple[object, ...]]] = {}
            inspector = inspect(conn)
            for name in TABLES:
                names = [c["name"] for c in inspector.get_columns(name) if c["name"] != "tsv"]
                keys = inspector.get_pk_constraint(name)["constrained_columns"]
                query = select(*[column(c) for c in names]).select_from(table(name))
                rows = conn.execute(query.order_by(*[column(k) for k in keys])).all()
                found[name] = [tuple(r) for r in rows]
            return found
    finally:
        store.close()


@pytest.mark.parametrize("target_fixture", ["db_url", "pg_url"])
def test_migrate_to_copies_every_table_and_the_copy_works(
    tmp_path: Path, server: FeedServer, request: pytest.FixtureRequest, target_fixture: str
) -> None:
    target = str(request.getfixturevalue(target_fixture))
    source = _source_store(tmp_path, server)
    before = _rows(source)
    assert all(before[name] for name in TABLES), {n: len(r) for n, r in before.items()}

    run = _cli(tmp_path, source)
    result = run("db", "migrate-to", target, "--batch-size", "7")
    assert result.code == 0, result.err
    assert "migrate-to: done" in result.err
    lines = {line.split()[0]: line.split()[1:] for line in result.out.splitlines()[1:]}
    for name in TABLES:
        assert lines[name] == [str(len(before[name]))] * 2, result.out
    live = sum(1 for r in before["sentences"] if r[3] is not None)  # position set
    assert result.out.splitlines()[-1].split()[-2:] == [str(live)] * 2
    assert FTS_CHECK in result.out

    # Row for row the same, times and ids included.
    assert _rows(target) == before

    # The copy answers like the original: same brief, same stats, search finds live text only.
    copy_run = _cli(tmp_path, target)
    original = run("brief", "--format", "json")
    copied = copy_run("brief", "--format", "json")
    assert copied.code == 0 and copied.out == original.out
    hits = copy_run("search", "artillery shells", "--format", "json").json()
    texts = [i["text"] for s in hits["sections"] for i in s["items"]]
    assert texts and all("shells" in t for t in texts)
    assert copy_run("search", "Zorvex", "--format", "json").json()["sections"] == []
    assert copy_run("search", "Quillon", "--format", "json").json()["sections"] != []

    # New rows get new ids after the copied ones (identity counters moved on).
    added = copy_run("feeds", "add", server.url("/other"))
    assert added.code == 0, added.err
    assert added.out.startswith("following feed 2:")
    assert copy_run("schedule", "set", "--channel", "556", "--time", "09:00").code == 0
    store = open_store(target)
    try:
        ids = [s.id for s in store.schedules.list_schedules(None)]
        assert sorted(ids) == [1, 2]
    finally:
        store.close()

    # A second copy into the same database is refused, and changes nothing.
    again = run("db", "migrate-to", target)
    assert again.code == 2
    assert "is not empty" in again.err and "rows in documents" in again.err
    assert len(_rows(target)["feeds"]) == 2


def test_migrate_to_refuses_its_own_store_and_a_bad_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    run = _cli(tmp_path, url)
    assert run("brief").code == 0
    same = run("db", "migrate-to", url)
    assert same.code == 2 and "is the store being copied" in same.err
    bad = run("db", "migrate-to", "oracle://scott@db/x")
    assert bad.code == 2 and "migrate-to URL: unsupported database 'oracle'" in bad.err


def test_copy_reports_progress_per_table_and_a_failed_copy_leaves_the_target_empty(
    tmp_path: Path, db_url: str
) -> None:
    url = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    assert _cli(tmp_path, url)("brief").code == 0
    source, target = open_store(url), open_store(db_url)
    seen: dict[str, list[int]] = {}

    def progress(name: str, total: int) -> Callable[[int], None]:
        seen[name] = [total]
        if name == "sentences":
            raise RuntimeError("disk full")  # a failure in the middle of the copy
        return seen[name].append

    try:
        with pytest.raises(RuntimeError, match="disk full"):
            copy_store(source, target, 50, progress)
        assert seen["documents"] == [5, 5]  # one batch of 5 rows
        assert target.documents.is_empty()
        counts = copy_store(source, target, 50, lambda name, total: lambda n: None)
        assert all(c.ok for c in counts) and {c.table for c in counts} >= set(TABLES)
    finally:
        source.close()
        target.close()
