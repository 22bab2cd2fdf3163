"""The private-address guard, against every spelling of a loopback address we know of.

A listener bound on loopback (127.0.0.1 and, where the machine has it, [::1], one port) counts
every TCP connection it accepts. Each spelling in ``LOOPBACK`` would reach it if the guard let
it through; each must be refused with no connection, on every path a URL from a user or a
feed takes: ``feeds add``, ``feeds test`` and ``poll`` on the command line, the bot's
``/feeds add``, the full-text fetch of article pages, and a redirect. ``ELSEWHERE`` are
private addresses of other hosts (cloud metadata, a LAN, NAT64 and 6to4 wrappings of
loopback): refused by the pure check before any connection is tried, so these tests never
send a packet off this machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import random
import select
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.cli import main
from bot.services.shared import Services
from briefs.clock import FrozenClock
from briefs.errors import InputError
from briefs.feeds.decide import Policy
from briefs.feeds.fetch import Fetcher, FetchSettings
from briefs.feeds.poll import Poller, add_feed
from briefs.feeds.safety import AddressPolicy, StaticResolver, UnsafeAddressError
from briefs.feeds.urls import check_feed_url
from briefs.settings import load_settings
from briefs.store import open_store
from tests.conftest import Run
from tests.feedserver import FeedServer, Route, item, rss
from tests.test_bot_e2e import _quiet, connected

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
FEED = rss("Loopback Wire", [item(1), item(2)])

# Every URL here leads to the listener on loopback ({port}) if fetched as the HTTP client
# reads it. Written as escapes where the characters are the point.
LOOPBACK: dict[str, str] = {
    "plain": "http://127.0.0.1:{port}/feed.xml",
    "full-width digits": "http://\uff11\uff12\uff17.\uff10.\uff10.\uff11:{port}/feed.xml",
    "ideographic full stops": "http://127\u30020\u30020\u30021:{port}/feed.xml",
    "full-width full stops": "http://127\uff0e0\uff0e0\uff0e1:{port}/feed.xml",
    "halfwidth ideographic stops": "http://127\uff610\uff610\uff611:{port}/feed.xml",
    "small full stops": "http://127\ufe520\ufe520\ufe521:{port}/feed.xml",
    "full-width digits and stops": "http://\uff11\uff12\uff17\u3002\uff10\u3002\uff10\u3002\uff11:{port}/",
    "circled digits": "http://\u2460\u2461\u2466.0.0.1:{port}/feed.xml",
    "mathematical bold digits": "http://\U0001d7cf\U0001d7d0\U0001d7d5.0.0.1:{port}/feed.xml",
    "superscript digits": "http://\u00b9\u00b2\u2077.\u2070.\u2070.\u00b9:{port}/feed.xml",
    "full-width other loopback": "http://\uff11\uff12\uff17.\uff10.\uff10.\uff12:{port}/",
    "other loopback": "http://127.8.9.10:{port}/feed.xml",
    "trailing dot": "http://127.0.0.1.:{port}/feed.xml",
    "full-width trailing dot": "http://\uff11\uff12\uff17.0.0.1\u3002:{port}/feed.xml",
    "short form": "http://127.1:{port}/feed.xml",
    "decimal": "http://2130706433:{port}/feed.xml",
    "hex": "http://0x7f000001:{port}/feed.xml",
    "dotted hex": "http://0x7f.0x0.0x0.0x1:{port}/feed.xml",
    "octal": "http://0177.0.0.1:{port}/feed.xml",
    "padded": "http://127.000.000.001:{port}/feed.xml",
    "zero": "http://0:{port}/feed.xml",
    "unspecified": "http://0.0.0.0:{port}/feed.xml",
    "full-width unspecified": "http://\uff10.\uff10.\uff10.\uff10:{port}/feed.xml",
    "localhost": "http://localhost:{port}/feed.xml",
    "mixed-case localhost": "http://LocalHost:{port}/feed.xml",
    "localhost trailing dot": "http://localhost.:{port}/feed.xml",
    "full-width localhost": "http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54:{port}/",
    "circled localhost": "http://\u24db\u24de\u24d2\u24d0\u24db\u24d7\u24de\u24e2\u24e3:{port}/",
    "percent-encoded digits": "http://%31%32%37.0.0.1:{port}/feed.xml",
    "percent-encoded dots": "http://127%2e0%2e0%2e1:{port}/feed.xml",
    "userinfo": "http://news.example.com@127.0.0.1:{port}/feed.xml",
    "userinfo with port": "http://news.example.com:80@127.0.0.1:{port}/feed.xml",
    "userinfo full-width": "http://good@\uff11\uff12\uff17.0.0.1:{port}/feed.xml",
    "fragment at": "http://127.0.0.1:{port}#@news.example.com/feed.xml",
    "query at": "http://127.0.0.1:{port}?@news.example.com/feed.xml",
    "backslash at": "http://127.0.0.1:{port}\\@news.example.com/feed.xml",
    "IPv6 loopback": "http://[::1]:{port}/feed.xml",
    "IPv6 loopback long": "http://[0:0:0:0:0:0:0:1]:{port}/feed.xml",
    "IPv6 zone id": "http://[::1%25lo]:{port}/feed.xml",
    "IPv6 zone id unescaped": "http://[::1%lo]:{port}/feed.xml",
    "IPv6 unspecified": "http://[::]:{port}/feed.xml",
    "IPv4-mapped": "http://[::ffff:127.0.0.1]:{port}/feed.xml",
    "IPv4-mapped hex": "http://[::ffff:7f00:1]:{port}/feed.xml",
    "IPv4-mapped long": "http://[0:0:0:0:0:ffff:127.0.0.1]:{port}/feed.xml",
    "IPv4-mapped unspecified": "http://[::ffff:0.0.0.0]:{port}/feed.xml",
    "upper-case scheme and host": "HTTP://LOCALHOST:{port}/feed.xml",
}

# Private addresses of other hosts: the pure check must refuse these; never connected to.
ELSEWHERE: dict[str, str] = {
    "NAT64 of loopback": "http://[64:ff9b::7f00:1]:{port}/",
    "NAT64 of metadata": "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
    "NAT64 local-use": "http://[64:ff9b:1::a00:1]/",
    "6to4 of loopback": "http://[2002:7f00:1::]:{port}/",
    "6to4 of metadata": "http://[2002:a9fe:a9fe::1]/",
    "IPv4-compatible loopback": "http://[::127.0.0.1]:{port}/",
    "metadata": "http://169.254.169.254/latest/meta-data/",
    "full-width metadata": "http://\uff11\uff16\uff19.\uff12\uff15\uff14.\uff11\uff16\uff19.\uff12\uff15\uff14/",
    "ideographic metadata": "http://169\u3002254\u3002169\u3002254/latest/",
    "metadata decimal": "http://2852039166/latest/",
    "LAN": "http://10.0.0.1/",
    "full-width LAN": "http://\uff11\uff10.\uff10.\uff10.\uff11/",
    "ideographic LAN": "http://192\u3002168\u30021\u30021/",
    "IPv6 link-local zone": "http://[fe80::1%25eth0]/",
    "IPv6 unique local": "http://[fd00:ec2::254]/",
    "mapped metadata": "http://[::ffff:169.254.169.254]/",
}


class LoopbackListener:
    """Accepts TCP connections on 127.0.0.1 and [::1] (same port), counts them, and answers
    each with a small RSS feed, so a fetch that got through would also succeed."""

    def __init__(self) -> None:
        self.accepted = 0
        self._sockets: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.port = 0

    def __enter__(self) -> LoopbackListener:
        v4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        v4.bind(("127.0.0.1", 0))
        self.port = v4.getsockname()[1]
        self._sockets.append(v4)
        with contextlib.suppress(OSError):  # a machine without IPv6 loopback
            v6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            v6.bind(("::1", self.port))
            self._sockets.append(v6)
        for s in self._sockets:
            s.listen(64)
            s.setblocking(False)
        self._thread.start()
        return self

    def _serve(self) -> None:
        body = FEED
        answer = (
            b"HTTP/1.0 200 OK\r\nContent-Type: application/rss+xml\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        while not self._stop.is_set():
            ready, _, _ = select.select(self._sockets, [], [], 0.05)
            for s in ready:
                with contextlib.suppress(OSError):
                    conn, _ = s.accept()
                    self.accepted += 1
                    with conn:
                        conn.settimeout(2)
                        with contextlib.suppress(OSError):
                            conn.recv(65536)
                            conn.sendall(answer)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        for s in self._sockets:
            s.close()

    def urls(self, table: dict[str, str]) -> list[tuple[str, str]]:
        return [(name, url.format(port=self.port)) for name, url in table.items()]


@pytest.fixture(scope="module")
def listener() -> Iterator[LoopbackListener]:
    with LoopbackListener() as it:
        yield it


def _fetch(url: str, settings: FetchSettings | None = None) -> Any:
    async def go() -> Any:
        async with Fetcher(settings or FetchSettings(), clock=FrozenClock(NOW)) as fetcher:
            return await fetcher.fetch(url)

    return asyncio.run(go())


def _refusal(text: str) -> bool:
    """The one-line reasons a refused URL gets: an unsafe address, or no valid host."""
    return (
        "briefbot does not fetch from it" in text
        or "briefbot does not connect to it" in text
        or "is not a valid host name" in text
        or "is not a valid URL" in text
    )


def test_the_tables_are_large_enough() -> None:
    assert len(LOOPBACK) + len(ELSEWHERE) >= 60
    assert len(LOOPBACK) >= 40


def test_the_listener_counts_what_gets_through(listener: LoopbackListener) -> None:
    """The guard is off when private addresses are allowed: the listener is reachable, so a
    count of zero below means refused, not unreachable."""
    before = listener.accepted
    result = _fetch(f"http://127.0.0.1:{listener.port}/feed.xml", FetchSettings(allow_private=True))
    assert result.ok and b"Loopback Wire" in result.body
    assert listener.accepted == before + 1


@pytest.mark.parametrize("name", list(ELSEWHERE))
def test_private_hosts_elsewhere_are_refused_before_any_connection(name: str) -> None:
    url = ELSEWHERE[name].format(port=8080)
    with pytest.raises((UnsafeAddressError, InputError)):
        AddressPolicy().check_url(check_feed_url(url))
    result = _fetch(url)  # refused by the same check, before a socket exists
    assert result.error_type in {"unsafe_address", "bad_url"}, (name, result)
    assert _refusal(result.reason()), result.reason()


def test_fetcher_refuses_every_loopback_spelling(listener: LoopbackListener) -> None:
    before = listener.accepted
    for name, url in listener.urls(LOOPBACK):
        result = _fetch(url)
        assert not result.ok, name
        assert result.error_type in {"unsafe_address", "bad_url", "connection"}, (name, result)
        assert _refusal(result.reason()), (name, result)
        assert listener.accepted == before, f"{name}: {url} reached the listener"


def test_the_socket_check_holds_when_the_url_check_is_skipped(listener: LoopbackListener) -> None:
    """Layer 3 alone: the session's connector refuses a private peer for an IP literal."""

    async def go(url: str) -> BaseException:
        async with Fetcher(FetchSettings(), clock=FrozenClock(NOW)) as fetcher:
            session = fetcher._session
            assert session is not None
            with pytest.raises(aiohttp.ClientConnectorError) as caught:
                await session.get(url)
            return caught.value

    before = listener.accepted
    for url in (
        f"http://127.0.0.1:{listener.port}/",
        f"http://[::ffff:7f00:1]:{listener.port}/",
        f"http://0.0.0.0:{listener.port}/",
    ):
        error = asyncio.run(go(url))
        assert isinstance(error.os_error, UnsafeAddressError), error
        assert "briefbot does not connect to it" in str(error.os_error)
    assert listener.accepted == before


def test_allowed_hosts_admit_only_their_own_addresses(listener: LoopbackListener) -> None:
    """An allowed intranet name gets through all three layers; a literal of the same address
    does not, since only the name was allowed."""
    settings = FetchSettings(allowed_hosts=frozenset({"feeds.intranet"}))

    async def go(url: str) -> Any:
        resolver = StaticResolver({"feeds.intranet": "127.0.0.1"})
        async with Fetcher(settings, resolver, FrozenClock(NOW)) as fetcher:
            return await fetcher.fetch(url)

    before = listener.accepted
    assert asyncio.run(go(f"http://feeds.intranet:{listener.port}/feed.xml")).ok
    assert listener.accepted == before + 1
    refused = asyncio.run(go(f"http://\uff11\uff12\uff17.0.0.1:{listener.port}/feed.xml"))
    assert refused.error_type == "unsafe_address"
    assert listener.accepted == before + 1


def test_every_redirect_hop_is_judged_as_the_client_reads_it(listener: LoopbackListener) -> None:
    with FeedServer() as server:
        urls = listener.urls(LOOPBACK)
        for n, (_, url) in enumerate(urls):
            server.routes[f"/go/{n}"] = Route(status=302, headers={"Location": url})
        settings = FetchSettings(allowed_hosts=frozenset({"feeds.intranet"}))

        async def go() -> list[Any]:
            resolver = StaticResolver({"feeds.intranet": "127.0.0.1"})
            async with Fetcher(settings, resolver, FrozenClock(NOW)) as fetcher:
                return [
                    await fetcher.fetch(server.url(f"/go/{n}", host="feeds.intranet"))
                    for n in range(len(urls))
                ]

        before = listener.accepted
        results = asyncio.run(go())
        assert len(server.requests) == len(urls)  # each redirect itself was fetched
    for (name, _), result in zip(urls, results, strict=True):
        assert not result.ok, name
        assert _refusal(result.reason()), (name, result)
    assert listener.accepted == before


def test_full_text_pages_are_refused(
    listener: LoopbackListener, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Teaser items whose article links spell loopback: the feed is stored, no page fetched."""
    urls = [url for _, url in listener.urls(LOOPBACK)]
    store = open_store(db_url)
    clock = FrozenClock(NOW)
    policy = Policy(
        min_interval=timedelta(minutes=15),
        default_interval=timedelta(minutes=60),
        max_interval=timedelta(days=1),
        max_failures=10,
    )
    try:
        with FeedServer() as server:
            chunks = [urls[i : i + 20] for i in range(0, len(urls), 20)]  # 20 pages a poll
            for c, chunk in enumerate(chunks):
                items = [
                    item(100 * c + n, link=url, description=f"Teaser {c}-{n} on a designation.")
                    for n, url in enumerate(chunk)
                ]
                server.routes[f"/teasers/{c}.xml"] = Route(rss("Teasers", items))
            settings = FetchSettings(allowed_hosts=frozenset({"feeds.intranet"}))

            async def go() -> None:
                resolver = StaticResolver({"feeds.intranet": "127.0.0.1"})
                async with Fetcher(settings, resolver, clock) as fetcher:
                    poller = Poller(store, fetcher, policy, clock, random.Random(1))
                    for c in range(len(chunks)):
                        url = server.url(f"/teasers/{c}.xml", host="feeds.intranet")
                        await add_feed(poller, url, None, 0, True)

            before = listener.accepted
            caplog.set_level(logging.INFO, logger="briefs.feeds.poll")
            asyncio.run(go())
            paths = {p for p, _ in server.requests}
        assert paths == {f"/teasers/{c}.xml" for c in range(len(chunks))}
        assert listener.accepted == before
        tried = [r.getMessage() for r in caplog.records if r.getMessage().startswith("full text")]
        linked = [u for u in urls if _accepted_link(u)]  # the rest are no article address
        assert len(tried) == len(linked) >= 40  # every page was asked for, and each refused
        assert all(_refusal(line) for line in tried), tried
        assert (
            len(store.documents.summaries()) >= 40
        )  # the teasers kept as they were (some share a URL)
    finally:
        store.close()


def _accepted_link(url: str) -> bool:
    try:
        check_feed_url(url)
    except InputError:
        return False
    return True


# -- the command line and the bot ----------------------------------------------------------


@pytest.fixture
def run(env: dict[str, str]) -> Callable[..., Run]:
    clock = FrozenClock(NOW)

    def go(*args: str) -> Run:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(args), env=env, clock=clock, out=out, err=err)
        return Run(code, out.getvalue(), err.getvalue())

    return go


@pytest.mark.parametrize("command", ["add", "test"])
def test_feeds_add_and_test_refuse_every_spelling(
    run: Callable[..., Run], listener: LoopbackListener, command: str
) -> None:
    before = listener.accepted
    for name, url in listener.urls(LOOPBACK):
        result = run("feeds", command, url)
        assert result.code == 2, (name, result)
        assert result.err.startswith("briefbot: error: ") and result.err.count("\n") == 1, name
        assert _refusal(result.err), (name, result.err)
        assert listener.accepted == before, f"{name}: {url} reached the listener"
    assert run("feeds", "list").out.startswith("No feeds")


def test_poll_refuses_stored_feeds_that_spell_loopback(
    run: Callable[..., Run], listener: LoopbackListener, db_url: str
) -> None:
    """Feeds already in the store (added while private addresses were allowed, or by an older
    version) are judged again on every poll."""
    urls = listener.urls(LOOPBACK)
    store = open_store(db_url)
    try:
        for n, (_, url) in enumerate(urls):
            store.feeds.add(url, f"loopback-{n}", None, None, NOW, False)
    finally:
        store.close()
    before = listener.accepted
    result = run("poll")
    assert result.code == 0, result.err
    summary = result.err.splitlines()[-1]
    assert f"{len(urls)} feeds: 0 fetched, 0 not modified, {len(urls)} failed" in summary
    failures = result.err.splitlines()[:-1]
    assert len(failures) == len(urls)
    assert all(_refusal(line) for line in failures), failures
    assert listener.accepted == before


@pytest.mark.asyncio
async def test_the_bots_feeds_add_refuses_every_spelling(
    listener: LoopbackListener, discord_double: Any, tmp_path: Path
) -> None:
    guild = discord_double.add_guild()
    manager = guild.member("manager")
    engine = Services(
        load_settings(
            {"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path / 's.sqlite3'}", "HOME": str(tmp_path)}
        ),
        FrozenClock(NOW),
    )
    before = listener.accepted
    try:
        async with connected(discord_double, engine):
            for name, url in listener.urls(LOOPBACK):
                ix = await discord_double.command(
                    "feeds add", {"url": url}, guild=guild, user=manager
                )
                callback = await ix.wait_callback(timeout=3)
                if callback.data and callback.data.get("content"):
                    text = callback.data["content"]
                    assert callback.data["flags"] & 64, name  # private to the caller
                else:  # found after the deferral: the "thinking" message goes, a hint stays
                    await ix.wait_for(lambda r: r.followups and r.deleted, timeout=15)
                    assert all(_quiet(m) for m in ix.followups), name
                    text = ix.followups[-1].text()
                assert _refusal(text), (name, text)
                assert listener.accepted == before, f"{name}: {url} reached the listener"
            ix = await discord_double.command("feeds list", {}, guild=guild, user=manager)
            await ix.wait_callback(timeout=3)
            listed = await ix.wait_followups(1, timeout=15)
            assert "No feeds followed here" in "\n".join(m.text() for m in listed)
    finally:
        engine.close()
    discord_double.assert_clean()
