"""Guild scoping through the shared engine: a feed item one server's feed brought is never
shown to another server (brief, search, source, timeline, stories), nor to direct messages."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.services.shared import NO_GUILD, Services, visibility
from briefs.brief import Brief
from briefs.clock import FrozenClock
from briefs.errors import NotFoundError
from briefs.settings import load_settings
from tests.feedserver import FeedServer, Route, item, rss

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
MARK = "Quorvexian"  # a word only guild A's feed item holds


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Services]:
    env = {
        "BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
        "HOME": str(tmp_path),
        "BRIEFBOT_FEEDS_ALLOW_PRIVATE_ADDRESSES": "true",
    }
    e = Services(load_settings(env), FrozenClock(NOW))
    yield e
    e.close()


@pytest.fixture
def feed_a(engine: Services) -> Iterator[str]:
    """Guild A follows a feed whose one item names MARK; the id of that item's document."""
    description = (
        f"&lt;p&gt;The {MARK} consortium shipped artillery shells to Pyongyang in November, "
        "officials said on Tuesday.&lt;/p&gt;&lt;p&gt;The ministry denied the report.&lt;/p&gt;"
        f"&lt;p&gt;{MARK} Trading, a {MARK} Trading affiliate said, ships from Nampo.&lt;/p&gt;"
    )
    with FeedServer() as server:
        server.routes["/a.xml"] = Route(rss("Guild A wire", [item(1, description=description)]))
        engine.ensure_ready()
        asyncio.run(engine.feeds.add(server.url("/a.xml"), "111"))
    hits = engine.briefs.search(MARK, visible=None)
    refs = [c.sentence for i in hits.items() for c in i.citations]
    assert refs, "the feed item was stored"
    yield refs[0]


def _text(brief: Brief) -> str:
    """What the brief shows from sources: statements, timeline, quotes, source list."""
    parts = [i.text for i in brief.items()] + [t.text for t in brief.timeline]
    parts += [q.text for q in brief.quotes] + [f"{s.id} {s.title}" for s in brief.sources]
    return "\n".join(parts)


def test_feed_items_stay_in_the_guild_that_brought_them(engine: Services, feed_a: str) -> None:
    a, b = visibility(111), visibility(222)
    assert MARK in _text(engine.briefs.search(MARK, visible=a))
    assert MARK not in _text(engine.briefs.search(MARK, visible=b))
    assert MARK not in _text(engine.briefs.search(MARK, visible=NO_GUILD))
    assert MARK in _text(engine.briefs.brief(query=MARK, visible=a))
    brief_b = engine.briefs.brief(query=MARK, visible=b)
    assert MARK not in _text(brief_b) and brief_b.items() == []
    assert MARK not in _text(engine.briefs.brief(visible=b, max_items=40))
    # The source of it: guild A sees the passage, guild B is told it does not exist.
    assert MARK in _text(engine.briefs.source(feed_a, visible=a))
    with pytest.raises(NotFoundError, match="no document"):
        engine.briefs.source(feed_a, visible=b)
    doc = feed_a.split(":")[0]
    assert all(s.id != doc for s in engine.briefs.stories(visible=b).sources)
    assert any(s.id == doc for s in engine.briefs.stories(visible=a).sources)
    assert doc not in _text(engine.briefs.timeline(visible=b))
    # The command line (no scope) sees everything; the seed corpus is everyone's.
    assert MARK in _text(engine.briefs.search(MARK))
    assert "Shoigu" in _text(engine.briefs.search("Shoigu", visible=b))


def test_engine_is_safe_from_worker_threads(engine: Services) -> None:
    """The bot runs the engine in a thread pool: concurrent first use seeds once, answers all."""
    with ThreadPoolExecutor(max_workers=6) as pool:
        briefs = list(pool.map(lambda _: engine.briefs.brief(visible=NO_GUILD), range(12)))
    assert all(b.items() for b in briefs)
    assert len({tuple(i.text for i in b.items()) for b in briefs}) == 1
    assert engine.briefs.stats().documents == 5  # the seeds, ingested once


def test_cli_guild_option_scopes_reads(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("search", "Shoigu", "--guild", "222")
    assert result.code == 0, result.err
    assert re.search(r"Shoigu", result.out)


def test_new_names_from_a_guilds_feed_stay_in_that_guild(engine: Services, feed_a: str) -> None:
    """ "New names" of a brief: a narrow window (read by key) and no window (a scan) alike."""
    name = f"{MARK} Trading"
    a, b = visibility(111), visibility(222)
    assert name in {n.name for n in engine.briefs.brief(visible=a).new_names}
    assert name not in {n.name for n in engine.briefs.brief(visible=b).new_names}
    # The store's answer for the window holding only the feed item (1 of 6 documents: read
    # by key) and for none (a scan); guild B's brief of that window is empty anyway.
    for since in (datetime(2023, 11, 1, tzinfo=UTC), None):
        assert name in {n for n, _ in engine.store.analysis.new_names(since, visible=a)}
        assert name not in {n for n, _ in engine.store.analysis.new_names(since, visible=b)}
