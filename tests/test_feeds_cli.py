"""``briefbot feeds …``, ``briefbot poll`` and ``briefbot ingest`` of feed files, in-process."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.cli import main
from briefs.clock import FrozenClock
from briefs.feeds.safety import StaticResolver
from briefs.store import open_store
from tests.conftest import Run
from tests.feedserver import FeedServer, Route, item, rss

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
LOCAL = {"BRIEFBOT_FEEDS_ALLOW_PRIVATE_ADDRESSES": "true"}


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as s:
        s.routes["/feed"] = Route(rss("Sanctions Wire", [item(n) for n in range(1, 4)]))
        s.routes["/page"] = Route(
            b"<html><head><title>Front page</title></head><body>News</body></html>",
            content_type="text/html",
        )
        yield s


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def run(env: dict[str, str], clock: FrozenClock) -> Callable[..., Run]:
    """The CLI with one clock for the whole test, so time can move between commands."""

    def go(
        *args: str,
        private: bool = True,
        extra: dict[str, str] | None = None,
        resolver: StaticResolver | None = None,
    ) -> Run:
        out, err = io.StringIO(), io.StringIO()
        full = {**env, **(LOCAL if private else {}), **(extra or {})}
        code = main(list(args), env=full, clock=clock, out=out, err=err, resolver=resolver)
        return Run(code, out.getvalue(), err.getvalue())

    return go


def _tables(db_url: str) -> dict[str, list[tuple[object, ...]]]:
    store = open_store(db_url)
    try:
        with store.engine.connect() as conn:
            return {
                t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY 1"))]
                for t in ("feeds", "feed_entries", "subscriptions", "documents", "sentences")
            }
    finally:
        store.close()


def test_add_shows_title_and_items_then_list_shows_state(
    run: Callable[..., Run], server: FeedServer
) -> None:
    result = run("feeds", "add", server.url("/feed"))
    assert result.code == 0, result.err
    assert result.out == "following feed 1: Sanctions Wire (3 items; 0 new for the next digest)\n"
    listed = run("feeds", "list")
    assert listed.code == 0
    assert "[1] Sanctions Wire" in listed.out and server.url("/feed") in listed.out
    assert "enabled; 3 items; last fetched 2026-11-22 08:00 UTC (HTTP 200)" in listed.out
    assert "next poll 2026-11-22 0" in listed.out
    data = json.loads(run("feeds", "list", "--format", "json").out)
    assert data[0]["items"] == 3 and data[0]["last_status"] == 200 and data[0]["enabled"]


def test_add_with_backfill(run: Callable[..., Run], server: FeedServer) -> None:
    result = run("feeds", "add", server.url("/feed"), "--backfill", "2")
    assert "(3 items; 2 new for the next digest)" in result.out


def test_add_refuses_a_non_feed_in_one_line_and_stores_nothing(
    run: Callable[..., Run], server: FeedServer, db_url: str
) -> None:
    run("feeds", "add", server.url("/feed"))
    before = _tables(db_url)
    result = run("feeds", "add", server.url("/page"))
    assert result.code == 2 and result.out == ""
    assert result.err == (
        f"briefbot: error: {server.url('/page')} is an HTML page titled 'Front page' "
        "(look on the site for its RSS or Atom link)\n"
    )
    assert _tables(db_url) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["feeds", "add", "ftp://example.com/feed"], "only http and https URLs"),
        (["feeds", "add", "http://127.0.0.1:9/feed", "--backfill", "-1"], "at least 0"),
        (["feeds", "add", "http://127.0.0.1:9/feed", "--backfill", "x"], "whole number"),
        (["feeds", "remove", "42"], "no feed '42' is followed here"),
        (["feeds"], "required: ACTION"),
        (["feeds", "add", "http://127.0.0.1:9/f", "--include", "x"], "give --channel too"),
    ],
)
def test_bad_input_is_one_line(run: Callable[..., Run], args: list[str], message: str) -> None:
    result = run(*args)
    assert result.code == 2
    assert result.err.startswith("briefbot: error: ") and result.err.count("\n") == 1
    assert message in result.err


def test_private_addresses_are_refused_unless_allowed(
    run: Callable[..., Run], server: FeedServer
) -> None:
    result = run("feeds", "add", server.url("/feed"), private=False)
    assert result.code == 2
    assert "127.0.0.1 is a loopback address; briefbot does not fetch from it" in result.err
    assert server.requests == []


def test_a_public_name_resolving_to_loopback_is_refused(
    run: Callable[..., Run], server: FeedServer
) -> None:
    result = run(
        "feeds",
        "test",
        server.url("/feed", host="feeds.example.org"),
        private=False,
        resolver=StaticResolver({"feeds.example.org": "127.0.0.1"}),
    )
    assert result.code == 2
    assert "feeds.example.org resolves to 127.0.0.1, a loopback address" in result.err
    assert server.requests == []


def test_test_previews_and_stores_nothing(
    run: Callable[..., Run], server: FeedServer, db_url: str
) -> None:
    result = run("feeds", "test", server.url("/feed"))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "Sanctions Wire"
    assert lines[1] == f"{server.url('/feed')} (rss20, 3 items)"
    assert "- 2023-11-02 Sanctions story number 1" in lines
    assert "  http://news.example/story/1?utm_source=rss" in lines
    tables = _tables(db_url)
    assert tables["feeds"] == [] and tables["documents"] == []


def test_poll_reports_a_summary(
    run: Callable[..., Run], server: FeedServer, clock: FrozenClock
) -> None:
    run("feeds", "add", server.url("/feed"))
    server.routes["/other"] = Route(rss("Other", [item(9)]))
    run("feeds", "add", server.url("/other"))
    nothing = run("poll")
    assert nothing.err == (
        "briefbot: poll: 0 feeds: 0 fetched, 0 not modified, 0 failed; 0 new items, 0 duplicates\n"
    )
    server.routes["/feed"] = Route(rss("Sanctions Wire", [item(n) for n in range(1, 6)]))
    server.routes["/other"] = Route(b"", status=500)
    clock.advance(timedelta(days=1))
    result = run("poll")
    assert result.code == 0
    assert result.err.splitlines() == [
        "briefbot: feed 2 failed: HTTP 500 Internal Server Error",
        "briefbot: poll: 2 feeds: 1 fetched, 0 not modified, 1 failed; 2 new items, 0 duplicates",
    ]
    listed = run("feeds", "list").out
    assert "last error (http, 1 in a row): HTTP 500 Internal Server Error" in listed


def test_a_disabled_feed_shows_why_and_can_be_enabled(
    run: Callable[..., Run], server: FeedServer, clock: FrozenClock
) -> None:
    run("feeds", "add", server.url("/feed"))
    server.routes["/feed"] = Route(b"", status=503)
    extra = {"BRIEFBOT_FEEDS_MAX_FAILURES": "2"}
    for _ in range(2):
        clock.advance(timedelta(days=1))
        result = run("poll", extra=extra)
    assert "briefbot: feed 1 disabled: HTTP 503 Service Unavailable" in result.err
    listed = run("feeds", "list").out
    assert "DISABLED: 2 failed polls in a row; the last: HTTP 503 Service Unavailable" in listed
    assert "next poll" not in listed
    clock.advance(timedelta(days=1))
    assert "0 feeds" in run("poll").err  # disabled: not polled
    enabled = run("feeds", "enable", "1")
    assert enabled.code == 0 and "enabled" in enabled.err
    server.routes["/feed"] = Route(rss("Sanctions Wire", [item(1)]))
    assert "1 fetched" in run("poll").err


def test_feeds_belong_to_their_guild(run: Callable[..., Run], server: FeedServer) -> None:
    assert run("feeds", "add", server.url("/feed"), "--guild", "111", "--channel", "9",
               "--include", "sanctions").code == 0  # fmt: skip
    assert "Sanctions Wire" in run("feeds", "list", "--guild", "111").out
    assert "No feeds followed here" in run("feeds", "list", "--guild", "222").out
    assert "No feeds followed here" in run("feeds", "list").out
    assert run("feeds", "remove", "1", "--guild", "222").code == 2  # not theirs
    removed = run("feeds", "remove", server.url("/feed"), "--guild", "111")
    assert removed.code == 0 and "its items stay" in removed.err
    assert "No feeds followed here" in run("feeds", "list", "--guild", "111").out


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Desk</title><id>urn:desk</id>
<entry><title>Ministers agree export controls</title><id>urn:desk:1</id>
<link href="https://desk.example/1?utm_campaign=x"/><updated>2023-09-20T10:00:00Z</updated>
<content type="html">&lt;p&gt;Ministers agreed new export controls on Wednesday.&lt;/p&gt;
&lt;p&gt;The controls cover drone parts and artillery fuses.&lt;/p&gt;</content></entry>
</feed>"""


def test_ingest_accepts_rss_and_atom_files(
    run: Callable[..., Run], tmp_path: Path, db_url: str
) -> None:
    folder = tmp_path / "feeds"
    folder.mkdir()
    (folder / "wire.rss").write_bytes(rss("Wire", [item(1), item(2)]))
    (folder / "desk.atom").write_text(ATOM, encoding="utf-8")
    (folder / "article.txt").write_text(
        "Title line\n\nOfficials in Seoul announced new sanctions on Friday.\n", encoding="utf-8"
    )
    saved = tmp_path / "saved-feed"  # no telling ending: recognised by its content
    saved.write_bytes(rss("Saved", [item(3)]))
    result = run("ingest", str(folder), str(saved))
    assert result.code == 0, result.err
    assert result.err.strip() == "briefbot: ingest: 5 added"
    again = run("ingest", str(folder), str(saved))
    assert again.err.strip() == "briefbot: ingest: 5 unchanged"
    store = open_store(db_url)
    try:
        docs = {d.title: d for d in store.documents.summaries()}
        desk = docs["Ministers agree export controls"]
        assert desk.url == "https://desk.example/1" and desk.origin == "file"
        assert desk.publisher == "Atom Desk"
        assert desk.published_at == datetime(2023, 9, 20, 10, 0, tzinfo=UTC)
        body = store.documents.get(desk.id).body  # type: ignore[union-attr]
        assert body == (
            "Ministers agreed new export controls on Wednesday.\n\n"
            "The controls cover drone parts and artillery fuses."
        )
    finally:
        store.close()


def test_ingest_names_a_feed_file_that_is_not_a_feed(
    run: Callable[..., Run], tmp_path: Path
) -> None:
    bad = tmp_path / "sitemap.xml"
    bad.write_text('<?xml version="1.0"?><urlset><url/></urlset>', encoding="utf-8")
    result = run("ingest", str(bad))
    assert result.code == 1
    assert (
        f"briefbot: error: {bad}: the document is an XML document whose root element is "
        "<urlset>, not RSS or Atom" in result.err
    )
