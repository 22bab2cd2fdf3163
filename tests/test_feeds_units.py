"""Feed engine without a network: scheduling decisions, URLs, address checks, parsing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from briefs.errors import InputError, SettingsError
from briefs.feeds.decide import Answer, Policy, backoff, decide
from briefs.feeds.entries import entry_article, entry_hash, newest_first, source_key
from briefs.feeds.fetch import max_age_seconds, retry_after_seconds
from briefs.feeds.parse import NotAFeedError, html_to_text, parse_feed
from briefs.feeds.safety import AddressPolicy, address_problem
from briefs.feeds.urls import canonical_url, check_feed_url
from briefs.ingest.outlets import shipped_outlets
from briefs.settings import load_settings
from tests.feedserver import item, rss

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
POLICY = Policy(
    min_interval=timedelta(minutes=15),
    default_interval=timedelta(hours=1),
    max_interval=timedelta(days=1),
    max_failures=4,
)


# -- decide: pure scheduling ------------------------------------------------------------


def test_success_uses_the_default_interval_with_a_little_jitter() -> None:
    for seed in range(50):
        d = decide(NOW, 0, Answer(True, 200), POLICY, random.Random(seed))
        assert d.enabled and d.failures == 0
        assert timedelta(minutes=54) <= d.next_poll_at - NOW <= timedelta(minutes=66)


def test_cache_control_max_age_is_honoured_within_bounds() -> None:
    rng = random.Random(1)
    two_hours = decide(NOW, 0, Answer(True, 200, max_age=7200), POLICY, rng)
    assert timedelta(minutes=108) <= two_hours.next_poll_at - NOW <= timedelta(minutes=132)
    tiny = decide(NOW, 0, Answer(True, 200, max_age=5), POLICY, rng)
    # Never more often than min_interval, never less often than max_interval.
    assert timedelta(minutes=15) <= tiny.next_poll_at - NOW <= timedelta(minutes=16.5)
    huge = decide(NOW, 0, Answer(True, 200, max_age=10**9), POLICY, rng)
    assert timedelta(hours=21.6) <= huge.next_poll_at - NOW <= timedelta(days=1)


def test_retry_after_is_honoured_even_above_the_maximum_interval() -> None:
    answer = Answer(False, 503, "HTTP 503", retry_after=3 * 86400)
    d = decide(NOW, 0, answer, POLICY, random.Random(0))
    assert d.next_poll_at - NOW == timedelta(days=3)
    assert d.failures == 1 and d.enabled
    capped = decide(NOW, 0, Answer(False, 429, "x", retry_after=10**9), POLICY, random.Random(0))
    assert capped.next_poll_at - NOW == timedelta(days=7)


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    for failures in range(1, 12):
        lows, highs = [], []
        for seed in range(30):
            wait = backoff(failures, POLICY, random.Random(seed))
            ceiling = min(POLICY.max_interval, POLICY.min_interval * 2**failures)
            assert ceiling / 2 <= wait <= ceiling
            lows.append(wait)
            highs.append(wait)
        assert len(set(lows)) > 1  # jitter: not everyone retries at once
    assert backoff(40, POLICY, random.Random(0)) <= POLICY.max_interval


def test_failures_count_up_and_disable_the_feed_with_the_reason() -> None:
    rng = random.Random(3)
    failures = 0
    for _ in range(3):
        d = decide(NOW, failures, Answer(False, 500, "HTTP 500 Internal Server Error"), POLICY, rng)
        assert d.enabled and d.disabled_reason is None
        failures = d.failures
    d = decide(NOW, failures, Answer(False, 500, "HTTP 500 Internal Server Error"), POLICY, rng)
    assert not d.enabled and d.failures == 4
    assert d.disabled_reason == "4 failed polls in a row; the last: HTTP 500 Internal Server Error"
    # A success resets the count.
    assert decide(NOW, 3, Answer(True, 304), POLICY, rng).failures == 0


def test_gone_disables_at_once() -> None:
    d = decide(NOW, 0, Answer(False, 410, "HTTP 410 Gone"), POLICY, random.Random(0))
    assert not d.enabled and "410" in (d.disabled_reason or "")


def test_header_values() -> None:
    assert retry_after_seconds("120", NOW) == 120
    assert retry_after_seconds("Sun, 22 Nov 2026 09:00:00 GMT", NOW) == 3600
    assert retry_after_seconds("Sun, 22 Nov 2026 07:00:00 GMT", NOW) == 0
    assert retry_after_seconds("soon", NOW) is None
    assert max_age_seconds("public, max-age=600, must-revalidate") == 600
    assert max_age_seconds("s-maxage=5") is None
    assert max_age_seconds(None) is None


# -- URLs and addresses -----------------------------------------------------------------


def test_canonical_url_drops_tracking_and_normalises() -> None:
    assert (
        canonical_url("HTTPS://News.Example.COM:443/a/b?utm_source=rss&id=7&fbclid=x&b=2#top")
        == "https://news.example.com/a/b?b=2&id=7"
    )
    assert canonical_url("http://example.com") == "http://example.com/"
    assert canonical_url("http://example.com:8080/x?gclid=1") == "http://example.com:8080/x"
    assert canonical_url("http://[::1]:81/x") == "http://[::1]:81/x"


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/feed", "javascript:alert(1)", "example.com"]
)
def test_only_http_and_https_urls(url: str) -> None:
    with pytest.raises(InputError, match="only http and https"):
        check_feed_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://4300000000/feed",  # all digits but no address (found by the fuzz suite)
        "http://1.2.3.4.5/feed",
        "http://%31%32%37.0.0.1/feed",  # percent-escapes in a host
        "http://ex ample.com/feed",
        "http://xn--/feed",  # a label IDNA refuses
        "http://127.0.0.1:80\\@news.example.com/",
    ],
)
def test_hosts_no_resolver_should_see_are_refused(url: str) -> None:
    with pytest.raises(InputError, match="not a valid"):
        check_feed_url(url)


def test_url_without_host_or_with_bad_port() -> None:
    with pytest.raises(InputError, match="no host"):
        check_feed_url("http:///feed")
    with pytest.raises(InputError, match="not a valid URL"):
        check_feed_url("http://example.com:99999/feed")


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "reserved"),  # carrier-grade NAT: not global
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of cloud metadata
        ("64:ff9b::808:808", None),  # NAT64 of a public address: IPv6-only networks need it
        ("64:ff9b:1::808:808", "private"),  # local-use NAT64 prefix
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:808:808::1", None),  # 6to4 of a public address
        ("::127.0.0.1", "loopback"),  # IPv4-compatible
        ("fe80::1%eth0", "link-local"),  # zone id ignored
        ("[::1]", "loopback"),
        ("93.184.216.34", None),
        ("2606:2800:220:1::1", None),
    ],
)
def test_address_problems(address: str, problem: str | None) -> None:
    assert address_problem(address) == problem


def test_literal_hosts_are_checked_names_are_left_to_the_resolver() -> None:
    from briefs.feeds.safety import UnsafeAddressError

    with pytest.raises(UnsafeAddressError, match="loopback"):
        AddressPolicy().check_host("127.0.0.1")
    with pytest.raises(UnsafeAddressError, match="link-local"):
        AddressPolicy().check_host("[fe80::1]")
    AddressPolicy(allow_private=True).check_host("127.0.0.1")  # allowed by setting
    AddressPolicy().check_host("news.example.com")  # resolved, then checked


# -- parsing ----------------------------------------------------------------------------


def test_parse_rss_entries_ids_dates_and_text() -> None:
    body = rss(
        "Wire",
        [
            item(1),
            item(2, pubDate="Thu, 02 Nov 2023"),  # date only
            {"title": "No date", "link": "http://news.example/nodate"},
            {"title": "Only a title", "description": "Text without link or guid."},
        ],
    )
    parsed = parse_feed(body, {"content-type": "application/rss+xml"}, "http://news.example/f")
    assert parsed.version == "rss20" and parsed.title == "Wire"
    one, two, undated, bare = parsed.entries
    assert one.entry_id == "story-1"
    assert one.published_at == datetime(2023, 11, 2, 8, 0, tzinfo=UTC)
    assert one.published_precision == "minute"
    assert one.text.startswith("Officials said designation 1")
    assert "\n\n" in one.text and "<" not in one.text
    assert two.published_at == datetime(2023, 11, 2, tzinfo=UTC)
    assert two.published_precision == "day"
    assert undated.entry_id == "http://news.example/nodate"  # no guid: the link
    assert undated.published_at is None and undated.published_precision == "none"
    assert bare.entry_id.startswith("hash:")  # neither: a hash of title and date
    assert parse_feed(body).entries[3].entry_id == bare.entry_id  # stable


def test_dates_become_aware_utc() -> None:
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:a</id>
<entry><title>T</title><id>urn:1</id><updated>2023-11-02T10:30:00+09:00</updated>
<summary>S.</summary></entry>
<entry><title>D</title><id>urn:2</id><updated>2023-11-03</updated></entry></feed>"""
    first, second = parse_feed(atom).entries
    assert first.published_at == datetime(2023, 11, 2, 1, 30, tzinfo=UTC)
    assert first.published_at.tzinfo is UTC
    assert (second.published_at, second.published_precision) == (
        datetime(2023, 11, 3, tzinfo=UTC),
        "day",
    )


def test_unreadable_date_stays_missing_with_a_warning() -> None:
    parsed = parse_feed(rss("W", [item(1, pubDate="sometime soon")]))
    assert parsed.entries[0].published_at is None
    assert any("unreadable date" in w for w in parsed.warnings)
    article = entry_article(parsed.entries[0], parsed.title, outlets=shipped_outlets())
    assert article.published_at is None and article.provenance["published"] == "none"


def test_html_becomes_clean_text() -> None:
    markup = (
        '<div><p>First &amp; <b>bold</b>.</p><script>alert("x")</script>'
        "<style>p{}</style><p>Second\x07 line</p><iframe src=x>frame</iframe></div>"
    )
    assert html_to_text(markup) == "First & bold.\n\nSecond line"
    assert html_to_text("AT&T and 3 < 4", is_html=False) == "AT&T and 3 < 4"
    assert html_to_text("<p>unclosed <b>bold") == "unclosed bold"


def test_script_in_titles_and_summaries_is_dropped() -> None:
    body = rss(
        "Evil &lt;script&gt;x()&lt;/script&gt;Feed",
        [
            item(
                1,
                title="&lt;script&gt;steal()&lt;/script&gt;Real title",
                description="&lt;script&gt;steal()&lt;/script&gt;&lt;p&gt;Body.&lt;/p&gt;",
            )
        ],
    )
    parsed = parse_feed(body)
    assert parsed.title == "Evil Feed"
    entry = parsed.entries[0]
    assert entry.title == "Real title" and entry.text == "Body."


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"<!DOCTYPE html><html><head><title>Front page</title></head></html>", "text/html",
         "an HTML page titled 'Front page'"),
        (b'{"version": "https://jsonfeed.org/version/1"}', "application/json", "a JSON document"),
        (b"%PDF-1.7 ...", "application/pdf", "a PDF document"),
        (b"\x89PNG\r\n\x1a\n....", "image/png", "an image"),
        (b'<?xml version="1.0"?><urlset><url/></urlset>', "application/xml",
         "root element is <urlset>"),
        (b"just some words", "text/plain", "not a feed (text/plain)"),
        (b"  \n ", "text/plain", "an empty document"),
    ],
)  # fmt: skip
def test_not_a_feed_names_what_it_is(body: bytes, content_type: str, expected: str) -> None:
    with pytest.raises(NotAFeedError, match="http://x/f") as caught:
        parse_feed(body, {"Content-Type": content_type}, "http://x/f")
    assert expected in str(caught.value)


def test_wrong_declared_encoding_is_survivable() -> None:
    body = rss("Новости", [item(1, title="Санкции против компаний")], encoding="windows-1251")
    # The server claims UTF-8; the document says windows-1251.
    parsed = parse_feed(body, {"content-type": "application/xml; charset=utf-8"})
    assert parsed.warnings  # noted, not fatal
    assert parsed.entries and parsed.entries[0].title


def test_ill_formed_xml_keeps_the_entries_it_can() -> None:
    body = rss("W", [item(1), item(2), item(3)])
    broken = body.replace(b"</item><item>", b"</item><item><junk>", 1)[:-30]
    parsed = parse_feed(broken)
    assert any("ill-formed" in w for w in parsed.warnings)
    assert [e.entry_id for e in parsed.entries][:2] == ["story-1", "story-2"]


def test_one_bad_entry_never_loses_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    import briefs.feeds.parse as parse

    real = parse._entry

    def flaky(entry: object, warnings: list[str], base: str) -> object:
        if "2" in str(entry.get("id")):  # type: ignore[attr-defined]
            raise ValueError("broken entry")
        return real(entry, warnings, base)

    monkeypatch.setattr(parse, "_entry", flaky)
    parsed = parse_feed(rss("W", [item(1), item(2), item(3)]))
    assert [e.entry_id for e in parsed.entries] == ["story-1", "story-3"]
    assert parsed.skipped == ["entry 2: ValueError: broken entry"]


def test_entity_expansion_is_not_a_bomb() -> None:
    lol = "".join(
        f'<!ENTITY l{i} "{"".join(f"&l{i - 1};" for _ in range(10))}">' for i in range(1, 10)
    )
    body = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY l0 "lol">{lol}]>'
        '<rss version="2.0"><channel><title>B</title><item><title>&l9;</title>'
        "<guid>1</guid><description>&l9;</description></item></channel></rss>"
    ).encode()
    parsed = parse_feed(body)
    assert len(parsed.entries) == 1
    assert len(parsed.entries[0].text) < 1000 and len(parsed.entries[0].title) < 1000


def test_external_entities_are_not_read() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<rss version="2.0"><channel><title>T</title><item><title>a&x;</title>'
        b"<guid>1</guid></item></channel></rss>"
    )
    parsed = parse_feed(body)
    assert "root:" not in parsed.entries[0].title


def test_enormous_titles_are_shortened() -> None:
    parsed = parse_feed(rss("W", [item(1, title="word " * 50_000)]))
    assert len(parsed.entries[0].title) <= 301


# -- entries as articles ----------------------------------------------------------------


def test_entry_hash_ignores_date_and_id_but_not_text() -> None:
    base = parse_feed(rss("W", [item(1)])).entries[0]
    moved = parse_feed(
        rss("W", [item(1, guid="renamed", pubDate="Fri, 01 Dec 2023 09:00:00 GMT")])
    ).entries[0]
    edited = parse_feed(rss("W", [item(1, description="A corrected text.")])).entries[0]
    assert entry_hash(base) == entry_hash(moved)
    assert entry_hash(base) != entry_hash(edited)


def test_source_key_is_the_canonical_url() -> None:
    entry = parse_feed(rss("W", [item(1)])).entries[0]
    assert source_key(entry, "feed:x") == "url:http://news.example/story/1"
    bare = parse_feed(rss("W", [{"title": "t", "guid": "g"}])).entries[0]
    assert source_key(bare, "feed:x") == "feed:x#g"
    article = entry_article(entry, "Wire", outlets=shipped_outlets())
    assert article.url == "http://news.example/story/1"
    assert article.publisher == "Wire" and article.provenance["published"] == "text"


def test_newest_first_for_backfill() -> None:
    entries = parse_feed(rss("W", [item(3), {"title": "undated", "guid": "u"}, item(5), item(4)]))
    order = [e.entry_id for e in newest_first(entries.entries)]
    assert order == ["story-5", "story-4", "story-3", "u"]


# -- settings ---------------------------------------------------------------------------


def test_feed_settings_defaults_and_environment() -> None:
    feeds = load_settings({}).feeds
    assert feeds.allow_private_addresses is False and feeds.full_text is False
    env = {
        "BRIEFBOT_FEEDS_TOTAL_TIMEOUT": "2.5",
        "BRIEFBOT_FEEDS_ALLOW_PRIVATE_ADDRESSES": "yes",
        "BRIEFBOT_FEEDS_MAX_FAILURES": "3",
        "BRIEFBOT_FEEDS_ALLOWED_HOSTS": "News.Intranet, other.lan",
        "BRIEFBOT_FEEDS_CONTACT": "ops@example.org",
    }
    feeds = load_settings(env).feeds
    assert feeds.total_timeout == 2.5 and feeds.allow_private_addresses is True
    assert feeds.max_failures == 3 and feeds.allowed_hosts == ("news.intranet", "other.lan")
    assert feeds.contact == "ops@example.org"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("BRIEFBOT_FEEDS_TOTAL_TIMEOUT", "fast", "expected a number"),
        ("BRIEFBOT_FEEDS_TOTAL_TIMEOUT", "0", "expected a number above 0"),
        ("BRIEFBOT_FEEDS_MAX_FAILURES", "0", "at least 1"),
        ("BRIEFBOT_FEEDS_ALLOW_PRIVATE_ADDRESSES", "maybe", "true or false"),
        ("BRIEFBOT_FEEDS_MIN_INTERVAL_MINUTES", "999", "min_interval_minutes <="),
    ],
)
def test_bad_feed_settings_name_the_setting(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as caught:
        load_settings({name: value})
    assert name in str(caught.value) or "[feeds]" in str(caught.value)
