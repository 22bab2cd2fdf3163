"""A document is credited to the outlet that published it, not the feed that carried it
(issue 12, item 3): the table's rules as pure functions, then through ``briefbot ingest`` of a
feed file, a poll over HTTP, a team's own outlets file, and the digest's outlet count."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from briefs.errors import SettingsError
from briefs.ingest.outlets import (
    Outlet,
    OutletTable,
    load_outlets,
    outlet_from_title,
    shipped_outlets,
)
from briefs.store import open_store
from tests.conftest import Run
from tests.feedserver import FeedServer, Route, item, rss

TABLE = shipped_outlets()


@pytest.mark.parametrize(
    ("url", "outlet"),
    [
        ("https://en.yna.co.kr/view/AEN2023", "Yonhap"),  # a subdomain of a listed domain
        ("https://home.treasury.gov/news/press-releases/jy1", "U.S. Department of the Treasury"),
        ("https://WWW.Reuters.com./world/x", "Reuters"),  # case and a trailing dot
        ("https://www.bbc.com/news/world-asia-1", "BBC News"),
        ("https://feeds.a.dj.com/rss/RSSWorldNews.xml", "The Wall Street Journal"),
        ("https://news.sky.com/story/x", "Sky News"),
        ("https://sky.com/x", None),  # the outlet is news.sky.com, not every sky.com host
        ("https://notreuters.com/x", None),  # a suffix of the name is not the domain
        ("https://reuters.com.evil.example/x", None),
        ("http://127.0.0.1:8080/feed", None),
        ("not a url", None),
        (None, None),
    ],
)
def test_a_link_belongs_to_the_nearest_listed_domain(url: str | None, outlet: str | None) -> None:
    found = TABLE.for_url(url)
    assert (found.name if found else None) == outlet


@pytest.mark.parametrize(
    ("text", "wire"),
    [
        ("(Reuters) - The U.S. Treasury on Thursday ...", "Reuters"),
        ("WASHINGTON, Oct. 13 (Yonhap) -- North Korea has ...", "Yonhap"),
        ("SEOUL, Sept. 14 (AP) — Kim Jong Un ...", "Associated Press"),
        ("KYIV (AFP) - Russia launched ...", "Agence France-Presse"),
        ("NEW YORK/LONDON (Reuters) - Oil prices ...", "Reuters"),
        ("  TOKYO, Jan 5 (Kyodo) -- Japan ...", "Kyodo News"),
        ("Officials said (AP) - the talks ...", None),  # not a dateline: a sentence
        ("Kim said the (Reuters) report - was false.", None),
        ("The report by Reuters said the ship ...", None),
        ("Reuters reported on Tuesday that ...", None),
        ("(Bellingcat) - Open-source researchers ...", None),  # not an agency in the table
        ("x" * 200 + " (Reuters) - late", None),  # only at the start of the text
    ],
)
def test_an_agency_credit_at_the_start_makes_the_copy_the_agencys(
    text: str, wire: str | None
) -> None:
    found = TABLE.credited_wire(text)
    assert (found.name if found else None) == wire


@pytest.mark.parametrize(
    ("title", "outlet"),
    [
        ("Reuters: World News", "Reuters"),
        ("World News - Breaking international news and headlines | Sky News", "Sky News"),
        ("NYT > World News", "The New York Times"),
        ("The Harbor Times – Asia", "The Harbor Times"),  # unknown outlets: the first part
        ("Korea Ledger — North Korea", "Korea Ledger"),
        ("The Moscow Courier (English)", "The Moscow Courier"),
        ("Daily Metro Online - Latest", "Daily Metro"),
        ("Eastbound Brief", "Eastbound Brief"),
        ("Sanctions Wire", "Sanctions Wire"),
    ],
)
def test_a_feed_title_names_its_outlet_without_the_section(title: str, outlet: str) -> None:
    assert outlet_from_title(title, TABLE) == outlet


def test_evidence_is_taken_strongest_first() -> None:
    wire_copy = "(Reuters) - The ministry said ..."
    # An aggregator's <source> beats everything, read through the table by URL or by name.
    assert TABLE.outlet_of(
        url="https://news.aggregator.example/x",
        text=wire_copy,
        source_title="AP News",
        source_url=None,
        feed_title="Aggregator: Top stories",
    ) == ("Associated Press", "source")
    assert TABLE.outlet_of(
        source_title="UN Meetings Coverage", source_url="https://press.un.org", feed_title="x"
    ) == ("United Nations", "source")
    assert TABLE.outlet_of(source_title="Harbor Times | Asia") == ("Harbor Times", "source")
    # A credit line beats the site that republished the copy and the feed.
    assert TABLE.outlet_of(
        url="https://www.harbortimes.com/x", text=wire_copy, feed_title="The Harbor Times"
    ) == ("Reuters", "wire")
    # A stated publisher, by the table's name for it.
    assert TABLE.outlet_of(stated="Donga", feed_title="x") == ("The Dong-A Ilbo", "stated")
    assert TABLE.outlet_of(stated="  Korea   Ledger ") == ("Korea Ledger", "stated")
    # Then the link's domain, then the feed's title.
    assert TABLE.outlet_of(url="https://en.yna.co.kr/x", feed_title="NK News feed") == (
        "Yonhap",
        "domain",
    )
    assert TABLE.outlet_of(url="https://unknown.example/x", feed_title="Wire | World") == (
        "Wire",
        "feed",
    )
    assert TABLE.outlet_of() == (None, "none")


def test_a_teams_outlets_file_extends_the_table_and_wins(tmp_path: Path) -> None:
    own = tmp_path / "outlets.toml"
    own.write_text(
        '[[outlet]]\nname = "Harbor Times"\ndomains = ["harbortimes.com"]\n'
        'aliases = ["HT"]\n\n[[outlet]]\nname = "Reuters (Asia desk)"\n'
        'domains = ["reuters.com"]\n',
        encoding="utf-8",
    )
    table = load_outlets([own])
    assert table.outlet_of(url="https://www.harbortimes.com/a") == ("Harbor Times", "domain")
    assert table.outlet_of(url="https://www.reuters.com/a") == ("Reuters (Asia desk)", "domain")
    assert table.outlet_of(url="https://en.yna.co.kr/a") == ("Yonhap", "domain")  # shipped


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[outlet]]\ndomains = ['x.example']\n", "outlet 1 has no name"),
        ("[[outlet]]\nname = 'X'\ndomains = [1]\n", "X: domains must be a list of strings"),
        ("[[outlet]\nname = 'X'\n", "not valid TOML"),
    ],
)
def test_a_bad_outlets_file_is_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    own = tmp_path / "outlets.toml"
    own.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=rf"\[feeds\] outlets_file .*{message}"):
        load_outlets([own])
    with pytest.raises(SettingsError, match=r"missing\.toml does not exist"):
        load_outlets([tmp_path / "missing.toml"])


def test_later_entries_win_and_wire_names_are_read_longest_first() -> None:
    table = OutletTable(
        [
            Outlet("Yonhap", ("yna.co.kr",), ("Yonhap News Agency",), wire=True),
            Outlet("Yonhap English", ("en.yna.co.kr",)),
        ]
    )
    assert table.outlet_of(url="https://en.yna.co.kr/x") == ("Yonhap English", "domain")
    assert table.outlet_of(url="https://www.yna.co.kr/x") == ("Yonhap", "domain")
    found = table.credited_wire("SEOUL, May 2 (Yonhap News Agency) -- x")
    assert found is not None and found.name == "Yonhap"


# -- through the product ------------------------------------------------------------------

AGGREGATED = (
    "<item><title>Kim and Putin meet</title><link>https://digest.example/a/1</link>"
    "<guid>a1</guid><pubDate>Wed, 13 Sep 2023 08:00:00 GMT</pubDate>"
    '<source url="https://apnews.com">The Associated Press</source>'
    "<description>Kim Jong Un met Vladimir Putin at a spaceport in the Russian Far East."
    "</description></item>"
)


def _feed_file(folder: Path) -> Path:
    """A feed of one outlet carrying its own story, a Reuters copy, and an aggregated item."""
    own = item(1, link="https://www.harbortimes.com/own/1")
    wire = item(
        2,
        link="https://www.harbortimes.com/wire/2",
        description="(Reuters) - The Treasury named eleven companies on Thursday, officials said.",
    )
    body = rss("The Harbor Times – Asia", [own, wire]).decode()
    body = body.replace("</channel>", AGGREGATED + "</channel>")
    path = folder / "harbor.xml"
    path.write_text(body, encoding="utf-8")
    return path


def _publishers(db_url: str) -> dict[str, str | None]:
    store = open_store(db_url)
    try:
        return {d.url or d.id: d.publisher for d in store.documents.summaries()}
    finally:
        store.close()


def test_ingest_of_a_feed_file_credits_each_item_to_its_outlet(
    cli: Callable[..., Run], tmp_path: Path, db_url: str
) -> None:
    no_seeds = {"BRIEFBOT_INGEST_SEED_CORPUS": "false"}
    assert cli("ingest", str(_feed_file(tmp_path)), extra_env=no_seeds).code == 0
    assert _publishers(db_url) == {
        "https://www.harbortimes.com/own/1": "The Harbor Times",
        "https://www.harbortimes.com/wire/2": "Reuters",
        "https://digest.example/a/1": "Associated Press",
    }


def test_a_teams_outlets_file_applies_to_ingest(
    cli: Callable[..., Run], tmp_path: Path, db_url: str
) -> None:
    own = tmp_path / "outlets.toml"
    own.write_text(
        '[[outlet]]\nname = "HT Asia"\ndomains = ["harbortimes.com"]\n', encoding="utf-8"
    )
    env = {"BRIEFBOT_INGEST_SEED_CORPUS": "false", "BRIEFBOT_FEEDS_OUTLETS_FILE": str(own)}
    assert cli("ingest", str(_feed_file(tmp_path)), extra_env=env).code == 0
    publishers = _publishers(db_url)
    # The domain now names the outlet, but a credit line and a <source> still come first.
    assert publishers["https://www.harbortimes.com/own/1"] == "HT Asia"
    assert publishers["https://www.harbortimes.com/wire/2"] == "Reuters"
    assert publishers["https://digest.example/a/1"] == "Associated Press"


def test_a_polled_feed_credits_outlets_and_stories_count_them(
    cli: Callable[..., Run], db_url: str
) -> None:
    """Two sites republishing one Reuters story and the wire's own copy are one outlet."""
    text = (
        "(Reuters) - The Treasury on Thursday designated eleven shipping companies that moved "
        "North Korean munitions to Russia, officials said.&lt;p&gt;The companies are based "
        "in three countries, the statement said.&lt;/p&gt;"
    )
    a = item(1, link="https://www.harbortimes.com/a", description=text)
    b = item(2, link="https://www.korealedger.co.kr/b", description=text.replace("on T", "on t"))
    env = {"BRIEFBOT_INGEST_SEED_CORPUS": "false", "BRIEFBOT_FEEDS_ALLOW_PRIVATE_ADDRESSES": "true"}
    with FeedServer() as server:
        server.routes["/ht.xml"] = Route(rss("The Harbor Times", [a]))
        server.routes["/kl.xml"] = Route(rss("Korea Ledger — North Korea", [b]))
        for path in ("/ht.xml", "/kl.xml"):
            added = cli("feeds", "add", server.url(path), extra_env=env)
            assert added.code == 0, added.err
    publishers = _publishers(db_url)
    assert publishers == {
        "https://www.harbortimes.com/a": "Reuters",
        "https://www.korealedger.co.kr/b": "Reuters",
    }
    stories = cli("stories", extra_env=env)
    assert stories.code == 0
    assert "2 reports from 1 outlet," in stories.out  # not "from 2 outlets"


def test_a_missing_outlets_file_stops_ingest_with_one_line_and_stores_nothing(
    cli: Callable[..., Run], tmp_path: Path, db_url: str
) -> None:
    missing = tmp_path / "no-such-outlets.toml"
    env = {"BRIEFBOT_INGEST_SEED_CORPUS": "false", "BRIEFBOT_FEEDS_OUTLETS_FILE": str(missing)}
    run = cli("ingest", str(_feed_file(tmp_path)), extra_env=env)
    assert run.code == 2
    assert run.err.strip().splitlines() == [
        f"briefbot: error: [feeds] outlets_file {missing}: {missing} does not exist"
    ]
    assert _publishers(db_url) == {}
