"""Nothing a feed sends can crash the poller or stop other feeds.

A few hundred malformed and adversarial documents, made deterministically: truncated XML,
flipped bytes, wrong encodings, entity bombs, enormous titles and ids, script tags, control
characters, deep nesting, odd dates, and things that are not feeds at all. Each must parse to
entries or be refused as "not a feed"; served over HTTP in one round next to good feeds,
every feed ends fetched or failed with a reason, and the good feeds' items are stored.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from briefs.clock import FrozenClock
from briefs.feeds.decide import Policy
from briefs.feeds.fetch import Fetcher, FetchSettings
from briefs.feeds.parse import NotAFeedError, parse_feed
from briefs.feeds.poll import FeedOutcome, Poller
from briefs.store import SqlStore
from briefs.store.schema import documents
from tests.feedserver import FeedServer, Route, item, rss

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom wire</title><id>urn:wire</id>
<entry><title type="html">&lt;b&gt;Arms&lt;/b&gt; talks</title><id>urn:e1</id>
<link href="/a/1"/><updated>2023-09-13T08:00:00Z</updated>
<content type="html">&lt;p&gt;Leaders met in Vostochny.&lt;/p&gt;</content></entry>
<entry><title>Second</title><id>urn:e2</id><updated>2023-09-14</updated>
<summary>Sanctions were widened.</summary></entry></feed>"""


def _base(rng: random.Random) -> bytes:
    if rng.random() < 0.3:
        return ATOM
    return rss("Wire", [item(n) for n in range(rng.randint(1, 6))])


def _bomb(depth: int, fan: int) -> bytes:
    lol = "".join(
        f'<!ENTITY l{i} "{"".join(f"&l{i - 1};" for _ in range(fan))}">'
        for i in range(1, depth + 1)
    )
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">{lol}]>'
        f'<rss version="2.0"><channel><title>&l{depth};</title><item><title>Bomb &l{depth};'
        f"</title><guid>b</guid><description>&l{depth};</description></item></channel></rss>"
    ).encode()


def adversarial(count_per_kind: int = 24) -> Iterator[tuple[str, bytes]]:
    """(kind, document) pairs, the same on every run."""
    rng = random.Random(20261122)
    n = count_per_kind
    for _i in range(n):
        doc = _base(rng)
        yield "truncated", doc[: rng.randint(0, len(doc) - 1)]
    for _i in range(n):
        flipped = bytearray(_base(rng))
        for _ in range(rng.randint(1, 40)):
            flipped[rng.randrange(len(flipped))] = rng.randrange(256)
        yield "flipped", bytes(flipped)
    for _i in range(n):
        grown = bytearray(_base(rng))
        for _ in range(rng.randint(1, 10)):
            at = rng.randrange(len(grown))
            grown[at:at] = rng.choice([b"<", b">", b"&", b"]]>", b"<![CDATA[", b"</item>", b"\x00"])
        yield "inserted", bytes(grown)
    declared = ["utf-8", "utf-16", "utf-32", "iso-8859-1", "koi8-r", "bogus-enc", "shift_jis"]
    actual = ["latin-1", "utf-16-le", "cp1251", "utf-8"]
    for _i in range(n):
        source = rss("Новости ünïcödé", [item(1, title="Санкции ✓ 制裁 ñ")], encoding="utf-8")
        text = source.decode().replace('encoding="utf-8"', f'encoding="{rng.choice(declared)}"')
        yield "encoding", text.encode(rng.choice(actual), errors="replace")
    yield "encoding", b"\xff\xfe" + rss("W", [item(1)])  # a UTF-16 BOM on UTF-8 bytes
    yield "encoding", b"\xef\xbb\xbf" + rss("W", [item(1)])
    yield "encoding", rss("W", [item(1)]).replace(b"Sanctions", b"\xc3\x28\xa0\xa1")
    for depth, fan in [(3, 10), (5, 10), (9, 10), (12, 20), (2, 5000)]:
        yield "bomb", _bomb(depth, fan)
    big = "A" * 50_000
    quadratic = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "{big}">]><rss version="2.0"><channel>'
        f"<title>Q</title><item><title>q</title><guid>q</guid><description>"
        f"{'&a;' * 2000}</description></item></channel></rss>"
    )
    yield "bomb", quadratic.encode()
    yield (
        "bomb",
        (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">'
            b'<!ENTITY y SYSTEM "http://127.0.0.1:9/">]><rss version="2.0"><channel><title>&x;'
            b"</title><item><title>&y;</title><guid>x</guid></item></channel></rss>"
        ),
    )
    for _i in range(n):
        size = rng.choice([1000, 100_000, 1_000_000])
        word = rng.choice(["sanctions ", "x", "制裁", "a b "])
        fields = rng.choice(["title", "guid", "link", "description", "author"])
        value = (word * (size // len(word)))[:size]
        if fields == "link":
            value = "http://news.example/" + value.replace(" ", "-")
        yield "enormous", rss("W", [item(1, **{fields: value}), item(2)])
    scripts = [
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "<![CDATA[<script>document.cookie</script><p>text</p>]]>",
        "&lt;img src=x onerror=alert(1)&gt;",
        "&lt;iframe src=javascript:alert(1)&gt;&lt;/iframe&gt;",
        "&lt;svg onload=alert(1)&gt;&lt;script&gt;x()&lt;/script&gt;&lt;/svg&gt;",
        "&lt;style&gt;body{display:none}&lt;/style&gt;visible",
        "&lt;scr&lt;script&gt;ipt&gt;alert(1)&lt;/script&gt;",
        "&lt;a href=&quot;javascript:alert(1)&quot;&gt;click&lt;/a&gt;",
    ]
    for _i in range(n):
        payload = rng.choice(scripts)
        yield (
            "script",
            rss(
                payload,
                [
                    item(1, title=payload, description=payload + rng.choice(scripts)),
                    item(2, link=rng.choice(["javascript:alert(1)", "data:text/html,x", "//x"])),
                ],
            ),
        )
    for _i in range(n):
        junk = "".join(
            chr(rng.choice([*range(0, 32), 0x7F, 0x85, 0x2028, 0xFEFF])) for _ in range(30)
        )
        yield "control", rss("W" + junk, [item(1, title="T" + junk, description=junk + "text")])
    for depth in (100, 1000, 20_000):
        nested = "&lt;div&gt;" * depth + "deep" + "&lt;/div&gt;" * depth
        yield "nesting", rss("W", [item(1, description=nested)])
        yield "nesting", b"<rss version='2.0'><channel>" + b"<x>" * depth + b"</channel></rss>"
    dates = [
        "Wed, 31 Feb 2023 08:00:00 GMT", "0000-00-00T00:00:00Z", "99999-01-01", "-1",
        "Tue, 12 Sep 2023 25:61:61 +9999", "2023-09-12T08:00:00+14:00", "yesterday",
        "Mon, 01 Jan 1900 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "",
    ]  # fmt: skip
    for date in dates:
        yield "dates", rss("W", [item(1, pubDate=date), item(2)])
    for _i in range(n):
        guid = rng.choice(["", " ", "same", "same", "\x00", "g" * 5000, "http://x/?a=1#b"])
        yield "ids", rss("W", [item(1, guid=guid), item(2, guid=guid), item(3, guid="same")])
    garbage = [
        b"", b"   ", b"\x00" * 100, bytes(range(256)) * 4, b"<html><body>hi", b'{"items": []}',
        b"<?xml version='1.0'?>", b"<rss>", b"<rss version='2.0'/>", b"<feed/>", b"%PDF-1.4",
        b"<?xml version='1.0'?><!-- only a comment -->", b"<rdf:RDF>", b"\xff" * 1000,
    ]  # fmt: skip
    for doc in garbage:
        yield "garbage", doc
    for _i in range(n):
        yield "random", bytes(rng.randrange(256) for _ in range(rng.randint(1, 3000)))


CASES = list(adversarial())


def test_there_are_a_few_hundred_cases() -> None:
    assert len(CASES) >= 250
    assert len({kind for kind, _ in CASES}) >= 12


@pytest.mark.parametrize("number", range(len(CASES)))
def test_every_document_parses_or_is_refused(number: int) -> None:
    kind, body = CASES[number]
    try:
        parsed = parse_feed(body, {"content-type": "application/xml"}, "http://fuzz.example/f")
    except NotAFeedError as exc:
        assert str(exc).startswith("http://fuzz.example/f is ")
        return
    assert len(parsed.title) <= 301
    for entry in parsed.entries:
        assert entry.entry_id and len(entry.entry_id) <= 512
        assert 0 < len(entry.title) <= 301
        assert len(entry.text) <= 200_000
        assert entry.link is None or entry.link.startswith(("http://", "https://"))
        assert entry.published_at is None or entry.published_at.tzinfo == UTC
        for text in (entry.title, entry.text, entry.author or ""):
            assert not CONTROL.search(text), kind
            assert "<script" not in text.lower(), kind


def test_a_round_of_adversarial_feeds_stops_nothing(store: SqlStore) -> None:
    clock = FrozenClock(NOW)
    with FeedServer() as server:
        ids: dict[int, str] = {}
        for number, (kind, body) in enumerate(CASES):
            if kind == "random" and number % 4:
                continue  # a quarter of the random bytes is plenty over HTTP
            path = f"/fuzz/{number}"
            server.routes[path] = Route(body, content_type="application/rss+xml")
            feed = store.feeds.add(server.url(path), server.url(path), None, None, clock(), False)
            ids[feed.id] = kind
        for name in ("good-1", "good-2"):
            items = [
                item(n, link=f"http://news.example/{name}/{n}",
                     description=f"The {name} desk filed report {n} on export controls.")
                for n in range(1, 4)
            ]  # fmt: skip
            server.routes[f"/{name}"] = Route(rss(name, items))
            good = store.feeds.add(server.url(f"/{name}"), name, None, None, clock(), False)
            ids[good.id] = name

        async def round_() -> list[FeedOutcome]:
            settings = FetchSettings(allow_private=True, total_timeout=20)
            async with Fetcher(settings, None, clock) as fetcher:
                poller = Poller(store, fetcher, Policy(), clock, random.Random(1), concurrency=8)
                summary = await poller.round()
                return list(summary.outcomes)

        outcomes = asyncio.run(round_())
    assert len(outcomes) == len(ids)
    for outcome in outcomes:
        assert outcome.status in {"fetched", "failed"}
        if outcome.status == "failed":
            assert outcome.error
    by_kind = {ids[o.feed_id]: o for o in outcomes}
    assert by_kind["good-1"].new + by_kind["good-1"].stored == 3
    assert by_kind["good-2"].new + by_kind["good-2"].stored == 3
    for feed in store.feeds.list_feeds(None):
        assert feed.last_fetched_at == clock()
        assert (feed.last_error is None) == (feed.last_error_type is None)
    with store.engine.connect() as conn:
        rows = conn.execute(select(documents.c.title, documents.c.body)).all()
    assert len(rows) >= 6
    for title, body in rows:
        assert not CONTROL.search(title) and not CONTROL.search(body)
        assert "<script" not in body.lower()
