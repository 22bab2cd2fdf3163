"""Feeds against a real HTTP server on 127.0.0.1: what is stored, and what each feed shows."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, select

from briefs.analysis.pipeline import analyze_pending
from briefs.clock import FrozenClock
from briefs.errors import InputError
from briefs.feeds.decide import Policy
from briefs.feeds.fetch import Fetcher, FetchResult, FetchSettings
from briefs.feeds.poll import FeedOutcome, Poller, PollSummary, add_feed
from briefs.feeds.safety import StaticResolver
from briefs.lexicon import load_lexicon
from briefs.store import SqlStore
from briefs.store.feeds import Feed
from briefs.store.queries import visible_filter
from briefs.store.schema import documents, feed_entries
from tests.feedserver import FeedServer, Route, item, rss

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
POLICY = Policy(
    min_interval=timedelta(minutes=15),
    default_interval=timedelta(hours=1),
    max_interval=timedelta(days=1),
    max_failures=3,
)
LOCAL = FetchSettings(allow_private=True, total_timeout=10, connect_timeout=5)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as s:
        yield s


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


class Harness:
    """Adds and polls feeds the way the CLI does, with settings and DNS of the test's own."""

    def __init__(self, store: SqlStore, clock: FrozenClock) -> None:
        self.store = store
        self.clock = clock
        self.settings = LOCAL
        self.resolver: StaticResolver | None = None
        self.analyze = False

    def _poller(self, fetcher: Fetcher) -> Poller:
        lexicon = load_lexicon() if self.analyze else None

        def analyze() -> None:
            assert lexicon is not None
            analyze_pending(self.store, lexicon)

        return Poller(
            self.store,
            fetcher,
            POLICY,
            self.clock,
            random.Random(7),
            analyze=analyze if self.analyze else None,
        )

    def add(
        self, url: str, guild: str | None = None, backfill: int = 0, full_text: bool = False
    ) -> tuple[Feed, FeedOutcome]:
        async def go() -> tuple[Feed, FeedOutcome]:
            async with Fetcher(self.settings, self.resolver, self.clock) as fetcher:
                feed, outcome, _ = await add_feed(
                    self._poller(fetcher), url, guild, backfill, full_text
                )
                return feed, outcome

        return asyncio.run(go())

    def poll(self, advance: timedelta = timedelta(days=2)) -> PollSummary:
        """Move time past every feed's next poll, then run one round."""
        self.clock.advance(advance)

        async def go() -> PollSummary:
            async with Fetcher(self.settings, self.resolver, self.clock) as fetcher:
                return await self._poller(fetcher).round()

        return asyncio.run(go())

    def fetch(self, url: str) -> FetchResult:
        async def go() -> FetchResult:
            async with Fetcher(self.settings, self.resolver, self.clock) as fetcher:
                return await fetcher.fetch(url)

        return asyncio.run(go())

    def feed(self, feed_id: int) -> Feed:
        return self.store.feeds.get(feed_id)

    def documents(self) -> int:
        with self.store.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(documents)).scalar_one())

    def entries(self, feed_id: int) -> list[Any]:
        with self.store.engine.connect() as conn:
            return list(
                conn.execute(
                    select(feed_entries)
                    .where(feed_entries.c.feed_id == feed_id)
                    .order_by(feed_entries.c.entry_id)
                )
            )


@pytest.fixture
def h(store: SqlStore, clock: FrozenClock) -> Harness:
    return Harness(store, clock)


def _only(summary: PollSummary) -> FeedOutcome:
    assert len(summary.outcomes) == 1
    return summary.outcomes[0]


# -- polling: what gets stored ----------------------------------------------------------


def test_two_polls_of_an_unchanged_feed_add_nothing(h: Harness, server: FeedServer) -> None:
    server.routes["/feed"] = Route(rss("Wire", [item(i) for i in range(1, 6)]))
    feed, first = h.add(server.url("/feed"))
    assert (first.stored, first.new) == (5, 0)
    assert h.documents() == 5
    for _ in range(2):
        outcome = _only(h.poll())
        assert outcome.status == "fetched"
        assert (outcome.new, outcome.duplicate, outcome.unchanged) == (0, 0, 5)
    assert h.documents() == 5
    shown = h.feed(feed.id)
    assert shown.last_status == 200 and shown.last_error is None and shown.entries == 5


def test_a_changed_feed_adds_only_its_new_items(h: Harness, server: FeedServer) -> None:
    server.routes["/feed"] = Route(rss("Wire", [item(i) for i in range(1, 4)]))
    _feed, _ = h.add(server.url("/feed"))
    server.routes["/feed"] = Route(rss("Wire", [item(i) for i in range(2, 6)]))  # 1 dropped
    outcome = _only(h.poll())
    assert (outcome.new, outcome.unchanged, outcome.duplicate) == (2, 2, 0)
    assert h.documents() == 5
    new = h.store.feeds.new_documents(None)
    assert len(new) == 2
    titles = {h.store.documents.get(d).title for d in new}  # type: ignore[union-attr]
    assert titles == {"Sanctions story number 4", "Sanctions story number 5"}


def test_an_edited_item_updates_its_document_without_counting_as_new(
    h: Harness, server: FeedServer
) -> None:
    server.routes["/feed"] = Route(rss("Wire", [item(1)]))
    feed, _ = h.add(server.url("/feed"))
    server.routes["/feed"] = Route(rss("Wire", [item(1, description="A corrected account.")]))
    outcome = _only(h.poll())
    assert (outcome.new, outcome.updated) == (0, 1)
    (row,) = h.entries(feed.id)
    assert h.store.documents.get(row.document_id).body == "A corrected account."  # type: ignore[union-attr]
    assert h.documents() == 1


def test_not_modified_by_etag_costs_nothing(h: Harness, server: FeedServer) -> None:
    server.routes["/feed"] = Route(rss("Wire", [item(1)]), etag='"v1"')
    feed, _ = h.add(server.url("/feed"))
    assert h.feed(feed.id).etag == '"v1"'
    outcome = _only(h.poll())
    assert outcome.status == "not_modified"
    assert server.hits("/feed")[-1]["If-None-Match"] == '"v1"'
    shown = h.feed(feed.id)
    assert shown.last_status == 304 and shown.etag == '"v1"' and shown.failures == 0
    server.routes["/feed"] = Route(rss("Wire", [item(1), item(2)]), etag='"v2"')
    assert _only(h.poll()).new == 1
    assert h.feed(feed.id).etag == '"v2"'


def test_not_modified_by_last_modified(h: Harness, server: FeedServer) -> None:
    stamp = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    server.routes["/feed"] = Route(rss("Wire", [item(1)]), last_modified=stamp)
    feed, _ = h.add(server.url("/feed"))
    assert h.feed(feed.id).last_modified == "Fri, 20 Nov 2026 10:00:00 GMT"
    assert _only(h.poll()).status == "not_modified"
    assert server.hits("/feed")[-1]["If-Modified-Since"] == "Fri, 20 Nov 2026 10:00:00 GMT"


def test_the_same_article_in_two_feeds_is_stored_once(h: Harness, server: FeedServer) -> None:
    server.routes["/a"] = Route(rss("Outlet A", [item(1), item(2)]))
    # Outlet B carries article 2 under another guid and other tracking parameters.
    shared = item(2, guid="b-2", link="http://NEWS.example/story/2?fbclid=zz&utm_medium=x")
    server.routes["/b"] = Route(rss("Outlet B", [shared, item(3)]))
    a, _ = h.add(server.url("/a"))
    b, outcome = h.add(server.url("/b"), backfill=5)
    assert (outcome.new, outcome.duplicate) == (1, 1)
    assert h.documents() == 3
    doc_a = {r.entry_id: r.document_id for r in h.entries(a.id)}["story-2"]
    doc_b = {r.entry_id: r.document_id for r in h.entries(b.id)}["b-2"]
    assert doc_a == doc_b


def test_the_same_content_under_another_link_is_stored_once(h: Harness, server: FeedServer) -> None:
    server.routes["/a"] = Route(rss("A", [item(1)]))
    copy = item(1, guid="syndicated-1", link="http://syndicate.example/x/1")
    server.routes["/b"] = Route(rss("B", [copy]))
    h.add(server.url("/a"))
    _, outcome = h.add(server.url("/b"), backfill=1)
    assert (outcome.new, outcome.duplicate) == (0, 1)
    assert h.documents() == 1


def test_a_rewritten_pubdate_or_guid_with_the_same_content_adds_nothing(
    h: Harness, server: FeedServer
) -> None:
    server.routes["/feed"] = Route(rss("Wire", [item(1), item(2)]))
    _feed, _ = h.add(server.url("/feed"))
    server.routes["/feed"] = Route(
        rss(
            "Wire",
            [
                item(1, pubDate="Mon, 20 Nov 2026 07:00:00 GMT"),  # pubDate bumped
                item(2, guid="new-guid-2"),  # guid rewritten, same link and text
            ],
        )
    )
    outcome = _only(h.poll())
    assert outcome.new == 0
    assert (outcome.unchanged, outcome.duplicate) == (1, 1)
    assert h.documents() == 2
    assert h.store.feeds.new_documents(None) == []
    # No link, guid rewritten, same text: the content hash still matches.
    bare = {"title": "Bare", "guid": "g1", "description": "Unlinked text about sanctions."}
    server.routes["/feed"] = Route(rss("Wire", [bare]))
    assert _only(h.poll()).new == 1
    server.routes["/feed"] = Route(rss("Wire", [{**bare, "guid": "g2"}]))
    assert _only(h.poll()).new == 0
    assert h.documents() == 3


def test_first_add_is_not_new_unless_backfilled(h: Harness, server: FeedServer) -> None:
    server.routes["/a"] = Route(rss("A", [item(i) for i in range(1, 6)]))
    server.routes["/b"] = Route(rss("B", [item(i) for i in range(11, 16)]))
    _a, outcome = h.add(server.url("/a"))
    assert (outcome.new, outcome.stored) == (0, 5)
    _b, outcome = h.add(server.url("/b"), backfill=2)
    assert (outcome.new, outcome.stored) == (2, 3)
    new = {h.store.documents.get(d).title for d in h.store.feeds.new_documents(None)}  # type: ignore[union-attr]
    assert new == {"Sanctions story number 15", "Sanctions story number 14"}  # the newest two
    # Stored all the same: searchable and briefable.
    assert h.store.search.sentences("designation 3", 5)


def test_items_that_arrive_while_the_bot_is_down_are_still_new(
    h: Harness, server: FeedServer
) -> None:
    server.routes["/feed"] = Route(rss("Wire", [item(1)]))
    h.add(server.url("/feed"))
    last_digest = h.clock()
    # The bot is down for a week; the feed publishes three items meanwhile.
    server.routes["/feed"] = Route(rss("Wire", [item(1), item(2), item(3), item(4)]))
    assert _only(h.poll(advance=timedelta(days=7))).new == 3
    assert len(h.store.feeds.new_documents(None, since=last_digest)) == 3


# -- HTTP behaviour ---------------------------------------------------------------------


def test_redirects_are_followed_and_a_permanent_one_moves_the_feed(
    h: Harness, server: FeedServer
) -> None:
    server.routes["/feed"] = Route(rss("Wire", [item(1)]))
    server.routes["/temp"] = Route(status=302, headers={"Location": "/feed"})
    server.routes["/old"] = Route(status=301, headers={"Location": server.url("/temp")})
    result = h.fetch(server.url("/old"))
    assert result.ok and result.final_url == server.url("/feed") and result.moved_to is None
    server.routes["/moved"] = Route(status=308, headers={"Location": "/feed"})
    feed, _ = h.add(server.url("/moved"))
    h.poll()
    assert h.feed(feed.id).url == server.url("/feed")


def test_a_redirect_loop_is_an_error_shown_on_the_feed(h: Harness, server: FeedServer) -> None:
    server.routes["/feed"] = Route(rss("Wire", [item(1)]))
    feed, _ = h.add(server.url("/feed"))
    server.routes["/feed"] = Route(status=302, headers={"Location": "/loop"})
    server.routes["/loop"] = Route(status=302, headers={"Location": "/feed"})
    outcome = _only(h.poll())
    assert outcome.status == "failed" and outcome.error_type == "redirect_loop"
    shown = h.feed(feed.id)
    assert shown.last_error_type == "redirect_loop" and "leads back to" in (shown.last_error or "")
    assert shown.failures == 1 and shown.enabled and shown.entries == 1


def test_too_many_redirects(h: Harness, server: FeedServer) -> None:
    for n in range(10):
        server.routes[f"/r{n}"] = Route(status=307, headers={"Location": f"/r{n + 1}"})
    h.settings = FetchSettings(allow_private=True, max_redirects=3)
    result = h.fetch(server.url("/r0"))
    assert result.error_type == "too_many_redirects"
    assert len(server.hits("/r0") + server.hits("/r3")) == 2 and not server.hits("/r4")


def test_a_redirect_to_another_scheme_is_refused(h: Harness, server: FeedServer) -> None:
    server.routes["/feed"] = Route(status=301, headers={"Location": "file:///etc/passwd"})
    result = h.fetch(server.url("/feed"))
    assert result.error_type == "bad_url" and "only http and https" in (result.error or "")


@pytest.mark.parametrize(
    ("status", "shown"), [(404, "HTTP 404 Not Found"), (500, "HTTP 500 Internal Server Error")]
)
def test_http_errors_count_as_failures_and_back_off(
    h: Harness, server: FeedServer, status: int, shown: str
) -> None:
    server.routes["/feed"] = Route(rss("Wire", [item(1)]))
    feed, _ = h.add(server.url("/feed"))
    server.routes["/feed"] = Route(b"oops", status=status)
    outcome = _only(h.poll())
    assert outcome.status == "failed" and outcome.error == shown
    state = h.feed(feed.id)
    assert (state.last_status, state.last_error_type, state.failures) == (status, "http", 1)
    assert state.next_poll_at is not None
    assert timedelta(minutes=15) <= state.next_poll_at - h.clock() <= timedelta(minutes=30)
    assert h.documents() == 1  # what was stored stays


def test_gone_disables_the_feed_at_once_with_the_reason(h: Harness, server: FeedServer) -> None:
    server.routes["/feed"] = Route(rss("Wire", [item(1)]))
    feed, _ = h.add(server.url("/feed"))
    server.routes["/feed"] = Route(b"", status=410)
    assert _only(h.poll()).disabled
    state = h.feed(feed.id)
    assert not state.enabled and "410" in (state.disabled_reason or "")
    assert h.poll().outcomes == []  # a disabled feed is not polled
    h.store.feeds.enable(feed.id, h.clock())
    server.routes["/feed"] = Route(rss("Wire", [item(1)]))
    assert _only(h.poll()).status == "fetched"
    assert h.feed(feed.id).enabled


def test_consecutive_failures_disable_the_feed_and_keep_the_reason(
    h: Harness, server: FeedServer
) -> None:
    server.routes["/feed"] = Route(rss("Wire", [item(1)]))
    feed, _ = h.add(server.url("/feed"))
    server.routes["/feed"] = Route(b"", status=500)
    outcomes = [_only(h.poll()) for _ in range(3)]
    assert [o.disabled for o in outcomes] == [False, False, True]
    state = h.feed(feed.id)
    assert not state.enabled and state.failures == 3
    assert (
        state.disabled_reason == "3 failed polls in a row; the last: HTTP 500 Internal Server Error"
    )


def test_a_slow_server_times_out(h: Harness, server: FeedServer) -> None:
    server.routes["/feed"] = Route(rss("Wire", [item(1)]))
    feed, _ = h.add(server.url("/feed"))
    server.routes["/feed"] = Route(rss("Wire", [item(1), item(2)]), delay=60)
    h.settings = FetchSettings(allow_private=True, total_timeout=0.3)
    outcome = _only(h.poll())
    assert outcome.error_type == "timeout"
    state = h.feed(feed.id)
    assert state.last_error == "no complete answer within 0.3 s" and state.last_status is None
    assert h.documents() == 1


def test_an_oversized_body_is_refused(h: Harness, server: FeedServer) -> None:
    big = rss("Wire", [item(i, description="x" * 2000) for i in range(50)])
    server.routes["/declared"] = Route(big)

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(big), 8192):
            await response.write(big[start : start + 8192])
        await response.write_eof()
        return response

    server.routes["/chunked"] = chunked
    h.settings = FetchSettings(allow_private=True, max_bytes=20_000)
    for path in ("/declared", "/chunked"):
        result = h.fetch(server.url(path))
        assert result.error_type == "too_large", path
        assert "20,000-byte limit" in (result.error or "")
    with pytest.raises(InputError, match="20,000-byte limit"):
        h.add(server.url("/chunked"))
    assert h.store.feeds.list_feeds(None) == []


def test_an_html_page_is_refused_naming_what_it_is(h: Harness, server: FeedServer) -> None:
    page = b"<!doctype html><html><head><title>Daily News</title></head><body>Hi</body></html>"
    server.routes["/page"] = Route(page, content_type="text/html; charset=utf-8")
    with pytest.raises(InputError, match="is an HTML page titled 'Daily News'"):
        h.add(server.url("/page"))
    assert h.store.feeds.list_feeds(None) == [] and h.documents() == 0
    # A followed feed that turns into an HTML page shows that as its error.
    server.routes["/feed"] = Route(rss("Wire", [item(1)]))
    feed, _ = h.add(server.url("/feed"))
    server.routes["/feed"] = Route(page, content_type="text/html")
    assert _only(h.poll()).error_type == "not_a_feed"
    assert "HTML page" in (h.feed(feed.id).last_error or "")


def test_gzip(h: Harness, server: FeedServer) -> None:
    server.routes["/feed"] = Route(rss("Wire", [item(i) for i in range(1, 4)]), gzip=True)
    _, outcome = h.add(server.url("/feed"))
    assert outcome.stored == 3
    assert "gzip" in server.hits("/feed")[0]["Accept-Encoding"]


@pytest.mark.parametrize(
    ("encoding", "title"),
    [
        ("iso-8859-1", "Sanktionen gegen Rüstungsfirmen in Köln"),
        ("windows-1251", "Санкции против оружейных компаний"),
        ("utf-16", "朝鲜与俄罗斯的武器交易"),
        ("shift_jis", "北朝鮮とロシアの武器取引"),
    ],
)
def test_several_encodings(h: Harness, server: FeedServer, encoding: str, title: str) -> None:
    server.routes["/feed"] = Route(
        rss("Wire", [item(1, title=title)], encoding=encoding), content_type="application/xml"
    )
    feed, outcome = h.add(server.url("/feed"))
    assert outcome.stored == 1
    (row,) = h.entries(feed.id)
    assert h.store.documents.get(row.document_id).title == title  # type: ignore[union-attr]


def test_a_header_charset_that_contradicts_the_document(h: Harness, server: FeedServer) -> None:
    title = "Санкции против компаний"
    server.routes["/feed"] = Route(
        rss("Wire", [item(1, title=title)], encoding="windows-1251"),
        content_type="text/xml; charset=utf-8",
    )
    feed, outcome = h.add(server.url("/feed"))
    assert outcome.warnings  # logged and shown, not fatal
    assert outcome.stored == 1 and h.feed(feed.id).last_error is None


def test_ill_formed_xml_stores_what_it_can(h: Harness, server: FeedServer) -> None:
    body = rss("Wire", [item(1), item(2), item(3)])
    body = body.replace(b"<item>", b"<item><broken attr=>", 1)[:-40]  # and truncated
    server.routes["/feed"] = Route(body)
    feed, outcome = h.add(server.url("/feed"))
    assert outcome.stored >= 2
    assert any("ill-formed" in w for w in outcome.warnings)
    assert h.feed(feed.id).last_status == 200 and h.feed(feed.id).last_error is None


def test_retry_after_and_cache_control_set_the_next_poll(h: Harness, server: FeedServer) -> None:
    server.routes["/feed"] = Route(
        rss("Wire", [item(1)]), headers={"Cache-Control": "public, max-age=7200"}
    )
    feed, _ = h.add(server.url("/feed"))
    state = h.feed(feed.id)
    assert state.next_poll_at is not None
    assert timedelta(minutes=108) <= state.next_poll_at - NOW <= timedelta(minutes=132)
    server.routes["/feed"] = Route(b"busy", status=503, headers={"Retry-After": "10800"})
    outcome = _only(h.poll())
    assert outcome.status == "failed"
    state = h.feed(feed.id)
    assert state.next_poll_at == h.clock() + timedelta(hours=3)
    assert h.poll(advance=timedelta(hours=2)).outcomes == []  # not due yet: not asked


def test_the_user_agent_names_briefbot_and_the_contact(h: Harness, server: FeedServer) -> None:
    server.routes["/feed"] = Route(rss("Wire", [item(1)]))
    h.settings = FetchSettings(allow_private=True, contact="mailto:ops@example.org")
    h.fetch(server.url("/feed"))
    agent = server.hits("/feed")[0]["User-Agent"]
    assert agent.startswith("briefbot/") and "mailto:ops@example.org" in agent


def test_requests_to_one_host_are_limited(h: Harness, server: FeedServer) -> None:
    active = {"now": 0, "most": 0}
    body = rss("Wire", [item(1)])

    async def counted(request: web.Request) -> web.StreamResponse:
        active["now"] += 1
        active["most"] = max(active["most"], active["now"])
        await asyncio.sleep(0.05)
        active["now"] -= 1
        return web.Response(body=body, content_type="application/rss+xml")

    for n in range(6):
        server.routes[f"/f{n}"] = counted
    h.settings = FetchSettings(allow_private=True, per_host=2)

    async def go() -> list[FetchResult]:
        async with Fetcher(h.settings, None, h.clock) as fetcher:
            return await asyncio.gather(*(fetcher.fetch(server.url(f"/f{n}")) for n in range(6)))

    results = asyncio.run(go())
    assert all(r.ok for r in results)
    assert active["most"] == 2


# -- safety -----------------------------------------------------------------------------


def test_private_addresses_are_refused_by_default(h: Harness, server: FeedServer) -> None:
    server.routes["/feed"] = Route(rss("Wire", [item(1)]))
    h.settings = FetchSettings()
    for url in (server.url("/feed"), f"http://[::1]:{server.port}/feed"):
        result = h.fetch(url)
        assert result.error_type == "unsafe_address" and "loopback" in (result.error or "")
    with pytest.raises(InputError, match="loopback address"):
        h.add(server.url("/feed"))
    assert server.requests == []  # nothing was sent
    assert h.store.feeds.list_feeds(None) == []


def test_a_public_looking_name_that_resolves_to_loopback_is_refused(
    h: Harness, server: FeedServer
) -> None:
    server.routes["/feed"] = Route(rss("Wire", [item(1)]))
    h.settings = FetchSettings()
    h.resolver = StaticResolver({"news.example.com": "127.0.0.1", "localhost": "127.0.0.1"})
    result = h.fetch(server.url("/feed", host="news.example.com"))
    assert result.error_type == "unsafe_address"
    assert "news.example.com resolves to 127.0.0.1, a loopback address" in (result.error or "")
    # localhost is loopback by name (RFC 6761), whatever the resolver says.
    result = h.fetch(server.url("/feed", host="localhost"))
    assert result.error_type == "unsafe_address"
    assert "localhost is a loopback name" in (result.error or "")
    assert server.requests == []


def test_a_redirect_to_a_private_address_is_refused(h: Harness, server: FeedServer) -> None:
    # The first host is allowed (an intranet name); where it redirects is checked again.
    server.routes["/feed"] = Route(rss("Wire", [item(1)]))
    server.routes["/to-literal"] = Route(status=302, headers={"Location": server.url("/feed")})
    server.routes["/to-name"] = Route(
        status=302, headers={"Location": server.url("/feed", host="evil.example.com")}
    )
    h.settings = FetchSettings(allowed_hosts=frozenset({"feeds.intranet"}))
    h.resolver = StaticResolver({"feeds.intranet": "127.0.0.1", "evil.example.com": "127.0.0.1"})
    assert h.fetch(server.url("/feed", host="feeds.intranet")).ok  # the allowed name works
    for path in ("/to-literal", "/to-name"):
        result = h.fetch(server.url(path, host="feeds.intranet"))
        assert result.error_type == "unsafe_address", path
        assert "loopback" in (result.error or "")
    assert [p for p, _ in server.requests] == ["/feed", "/to-literal", "/to-name"]


def test_the_setting_allows_private_addresses(h: Harness, server: FeedServer) -> None:
    server.routes["/feed"] = Route(rss("Wire", [item(1)]))
    h.resolver = StaticResolver({"localhost": "127.0.0.1"})
    assert h.fetch(server.url("/feed", host="localhost")).ok


# -- scoping, full text, stories, robustness --------------------------------------------


def test_feeds_and_their_items_belong_to_their_guild(
    h: Harness, server: FeedServer, seeded: SqlStore
) -> None:
    server.routes["/a"] = Route(rss("A", [item(1)]))
    server.routes["/b"] = Route(rss("B", [item(2)]))
    server.routes["/both"] = Route(rss("Both", [item(2)]))
    a, _ = h.add(server.url("/a"), guild="111")
    b, _ = h.add(server.url("/b"), guild="222")
    assert [f.id for f in h.store.feeds.list_feeds("111")] == [a.id]
    assert [f.id for f in h.store.feeds.list_feeds("222")] == [b.id]
    assert h.store.feeds.list_feeds(None) == []  # the command line's own scope
    seeds = {d.id for d in h.store.documents.summaries() if d.origin == "seed"}
    doc_a = h.entries(a.id)[0].document_id
    doc_b = h.entries(b.id)[0].document_id
    assert h.store.feeds.visible_documents("111") == seeds | {doc_a}
    assert h.store.feeds.visible_documents("222") == seeds | {doc_b}
    assert h.store.feeds.visible_documents(None) == seeds
    # Guild 111 follows a feed carrying B's article: stored once, now 111 sees it too.
    _, outcome = h.add(server.url("/both"), guild="111", backfill=1)
    assert outcome.new == 1  # new to guild 111, though guild 222 had it
    assert doc_b in h.store.feeds.visible_documents("111")
    # Both guilds may follow the same URL, each with its own feed.
    again, _ = h.add(server.url("/a"), guild="222")
    assert again.id != a.id
    # The filter works inside queries, as brief composition will use it.
    with h.store.engine.connect() as conn:
        ids = {r.id for r in conn.execute(select(documents.c.id).where(visible_filter("222")))}
    assert ids == h.store.feeds.visible_documents("222")


def test_removing_a_feed_keeps_its_items_and_readding_does_not_announce_them(
    h: Harness, server: FeedServer
) -> None:
    server.routes["/feed"] = Route(rss("Wire", [item(1), item(2)]))
    feed, _ = h.add(server.url("/feed"), backfill=2)
    h.store.feeds.remove(feed.id, h.clock())
    assert h.store.feeds.list_feeds(None) == [] and h.documents() == 2
    assert h.poll().outcomes == []
    server.routes["/feed"] = Route(rss("Wire", [item(1), item(2), item(3)]))
    again, outcome = h.add(server.url("/feed"), backfill=3)
    assert again.id == feed.id
    assert (outcome.new, outcome.unchanged) == (1, 2)


def test_subscriptions_and_their_keyword_filters(h: Harness, server: FeedServer) -> None:
    server.routes["/feed"] = Route(rss("Wire", [item(1)]))
    feed, _ = h.add(server.url("/feed"), guild="111")
    sub = h.store.feeds.subscribe(feed.id, "chan-1", h.clock(), ["sanctions"], ["sport"])
    assert (sub.scope_id, sub.include, sub.exclude) == ("111", ("sanctions",), ("sport",))
    assert sub.matches("New SANCTIONS on shipping")
    assert not sub.matches("Sanctions on sport federations")
    assert not sub.matches("Weather")
    assert h.store.feeds.subscriptions("222") == []
    h.store.feeds.unsubscribe(feed.id, "chan-1")
    assert h.store.feeds.subscriptions("111") == []


ARTICLE = """<!doctype html><html><head><title>Full story</title></head><body>
<nav>Home | World | Sport</nav><article><h1>Shipping firms sanctioned</h1>
<p>The Treasury Department on Tuesday sanctioned four shipping companies accused of carrying
North Korean munitions to Russian ports across the Sea of Japan.</p>
<p>Officials said the vessels switched off their transponders for days at a time while they
loaded containers at Rajin and unloaded them at Vostochny.</p>
<p>The companies, registered in Hong Kong and the Marshall Islands, had no immediate comment,
and a spokesman for the Russian embassy dismissed the accusations as baseless.</p>
<p>Analysts said the measures were unlikely to stop the trade but would raise its cost and make
insurers and port operators more careful about the ships they accept.</p>
</article><footer>Copyright 2026 Example News</footer></body></html>"""


def test_full_text_is_fetched_for_teasers_when_the_feed_asks(
    h: Harness, server: FeedServer
) -> None:
    server.routes["/article/1"] = Route(ARTICLE.encode(), content_type="text/html")
    teaser = item(1, link=server.url("/article/1"), description="Shipping firms sanctioned.")
    server.routes["/feed"] = Route(rss("Wire", [teaser]))
    server.routes["/plain"] = Route(
        rss("Wire", [{**teaser, "guid": "p", "link": server.url("/x")}])
    )
    feed, _ = h.add(server.url("/feed"), full_text=True)
    body = h.store.documents.get(h.entries(feed.id)[0].document_id).body  # type: ignore[union-attr]
    assert "switched off their transponders" in body and "Copyright" not in body
    plain, _ = h.add(server.url("/plain"))  # off by default: the teaser is kept
    body = h.store.documents.get(h.entries(plain.id)[0].document_id).body  # type: ignore[union-attr]
    assert body == "Shipping firms sanctioned."
    assert not server.hits("/x")


def test_a_rewrite_from_another_outlet_joins_the_story_instead_of_counting_as_new(
    h: Harness, server: FeedServer
) -> None:
    paragraphs = [p for p in ARTICLE.split("<p>")[1:]]
    text = " ".join(p.split("</p>")[0] for p in paragraphs)
    text = " ".join(text.split())
    rewrite = text.replace("on Tuesday", "this week").replace("baseless", "groundless")
    date = "Tue, 17 Nov 2026 09:00:00 GMT"
    server.routes["/a"] = Route(rss("A", [item(1, description=text, pubDate=date)]))
    other = item(2, link="http://other.example/2", description=rewrite, pubDate=date)
    server.routes["/b"] = Route(rss("B", [other]))
    h.analyze = True
    h.add(server.url("/a"), backfill=1)
    _b, outcome = h.add(server.url("/b"), backfill=1)
    assert (outcome.new, outcome.duplicate) == (0, 1)
    assert h.documents() == 2  # kept: another outlet reporting the story
    first, second = (
        h.store.documents.get(d) for d in sorted(h.store.feeds.visible_documents(None))
    )
    assert first and second
    story = {s.story_id for s in h.store.documents.summaries()}
    assert len(story) == 1


def test_one_feed_failing_inside_never_stops_the_others(
    h: Harness, server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import briefs.feeds.poll as poll

    server.routes["/good"] = Route(rss("Good", [item(1)]))
    server.routes["/bad"] = Route(rss("Bad", [item(2)]))
    good, _ = h.add(server.url("/good"))
    bad, _ = h.add(server.url("/bad"))
    server.routes["/good"] = Route(rss("Good", [item(1), item(3)]))
    server.routes["/bad"] = Route(rss("Bad", [item(2), item(4)]))
    real = poll.parse_feed

    def explode(body: bytes, headers: dict[str, str], url: str, **options: Any) -> Any:
        if url.endswith("/bad"):
            raise RuntimeError("parser bug")
        return real(body, headers, url, **options)

    monkeypatch.setattr(poll, "parse_feed", explode)
    summary = h.poll()
    by_id = {o.feed_id: o for o in summary.outcomes}
    assert by_id[good.id].new == 1
    assert by_id[bad.id].status == "failed" and by_id[bad.id].error_type == "internal"
    assert "parser bug" in (h.feed(bad.id).last_error or "")
