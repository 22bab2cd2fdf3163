"""Suggested feeds: the shipped list, a user's own list, ``feeds suggested`` and
``feeds add --suggested`` against feeds served on 127.0.0.1 (tests/feedserver.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from briefs.errors import SettingsError
from briefs.feeds.suggested import SuggestedFeed, load_suggested, shipped_file
from briefs.feeds.urls import canonical_url
from briefs.lexicon import load_lexicon
from briefs.resources import config_dir
from briefs.settings import load_settings
from tests.conftest import Run
from tests.feedserver import FeedServer, Route, item, rss

LOCAL = {"BRIEFBOT_FEEDS_ALLOW_PRIVATE_ADDRESSES": "true"}
PAGE = b"<html><head><title>Front page</title></head><body>News</body></html>"


def _list(*entries: tuple[str, str, str]) -> str:
    """A suggested-feeds file of (url, title, about) entries."""
    return "".join(
        f'[[feed]]\nurl = "{url}"\ntitle = "{title}"\nabout = "{about}"\n\n'
        for url, title, about in entries
    )


def test_the_shipped_list_parses_and_every_url_is_https_and_unique() -> None:
    assert shipped_file() == config_dir() / "feeds.toml"
    feeds = load_suggested(topics=set(load_lexicon().topics))  # unknown topics are refused
    assert 6 <= len(feeds) <= 10
    assert all(urlsplit(f.url).scheme == "https" for f in feeds)
    assert len({canonical_url(f.url) for f in feeds}) == len(feeds)
    assert all(f.title and f.about and "\n" not in f.about for f in feeds)
    assert "https://news.un.org/feed/subscribe/en/news/all/rss.xml" in {f.url for f in feeds}


def test_a_user_file_replaces_the_shipped_list(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        _list(("https://example.org/rss", "Example", "why"))
        + '[[feed]]\nurl = " http://example.net/feed "\ntitle = "Net"\ntopics = ["unsc"]\n',
        encoding="utf-8",
    )
    assert load_suggested(path, topics={"unsc"}) == [
        SuggestedFeed("https://example.org/rss", "Example", "why"),
        SuggestedFeed("http://example.net/feed", "Net", "", ("unsc",)),
    ]
    path.write_text("", encoding="utf-8")
    assert load_suggested(path) == []  # a team that wants no suggestions


def test_the_setting_is_a_path_from_file_or_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # what ~ expands to
    env = {"HOME": str(tmp_path)}
    assert load_settings(env).feeds.suggested_file is None
    named = load_settings({**env, "BRIEFBOT_FEEDS_SUGGESTED_FILE": "~/feeds.toml"})
    assert named.feeds.suggested_file == Path(tmp_path) / "feeds.toml"
    settings = tmp_path / "settings.toml"
    settings.write_text("[feeds]\nsuggested_file = 3\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"suggested_file in \[feeds\] of .*expected text"):
        load_settings({**env, "BRIEFBOT_SETTINGS": str(settings)})


GOOD = '[[feed]]\nurl = "https://example.org/rss"\ntitle = "A"\n'


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[[feed]\n", "is not valid TOML"),
        ('[[feed]]\ntitle = "No URL"\n', "feed 1 ('No URL'): url is missing"),
        (
            GOOD + '[[feed]]\nurl = "ftp://example.org/rss"\ntitle = "B"\n',
            "feed 2 ('B'): 'ftp://example.org/rss': only http and https URLs",
        ),
        (
            GOOD + '[[feed]]\nurl = "https://EXAMPLE.org/rss?utm_source=x"\ntitle = "B"\n',
            "feed 2 ('B'): https://EXAMPLE.org/rss?utm_source=x is feed 1 already",
        ),
        (
            '[[feed]]\nurl = "https://example.org/rss"\n',
            "feed 1 ('https://example.org/rss'): title",
        ),
        ('[[feed]]\nurl = ""\ntitle = "A"\n', "feed 1 ('A'): url must be a non-empty string"),
        ('[feed]\nurl = "https://example.org/rss"\ntitle = "A"\n', "write each feed as [[feed]]"),
        ('[[feeds]]\nurl = "https://example.org/rss"\n', "unknown key 'feeds'"),
        (GOOD + 'titel = "B"\n', "feed 1 ('A'): unknown key 'titel'"),
        (GOOD + 'about = """two\nlines"""\n', "about must be one line"),
        (GOOD + 'topics = "unsc"\n', "topics must be a list of strings"),
        (GOOD + 'topics = ["sanction"]\n', "unknown topic 'sanction' (known: arms,"),
        (None, "is a folder"),
    ],
)
def test_a_malformed_list_is_one_line_naming_file_and_entry(
    cli: Callable[..., Run], tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "suggested.toml"
    if content is None:
        path.mkdir()
    else:
        path.write_text(content, encoding="utf-8")
    result = cli("feeds", "suggested", extra_env={"BRIEFBOT_FEEDS_SUGGESTED_FILE": str(path)})
    assert result.code == 2 and result.out == ""
    assert result.err.count("\n") == 1, result.err
    assert result.err.startswith(f"briefbot: error: [feeds] suggested_file {path}")
    assert message in result.err


def test_a_missing_list_file_is_named(cli: Callable[..., Run], tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    result = cli(
        "feeds", "add", "--suggested", extra_env={"BRIEFBOT_FEEDS_SUGGESTED_FILE": str(path)}
    )
    assert result.code == 2
    assert result.err == f"briefbot: error: [feeds] suggested_file {path}: {path} does not exist\n"


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as s:
        s.routes["/good"] = Route(rss("Good Wire", [item(n) for n in range(1, 4)]))
        s.routes["/page"] = Route(PAGE, content_type="text/html")
        s.routes["/old"] = Route(rss("Old Wire", [item(n) for n in range(10, 12)]))
        yield s


@pytest.fixture
def suggesting(cli: Callable[..., Run], server: FeedServer, tmp_path: Path) -> Callable[..., Run]:
    """The CLI with private addresses allowed and a suggested list of three local feeds: a
    good one, an HTML page, and one the test follows first."""
    path = tmp_path / "suggested.toml"
    path.write_text(
        _list(
            (server.url("/good"), "Good Wire", "the one to add"),
            (server.url("/page"), "Front page", "not a feed"),
            (server.url("/old"), "Old Wire", "followed already"),
        ),
        encoding="utf-8",
    )
    env = {**LOCAL, "BRIEFBOT_FEEDS_SUGGESTED_FILE": str(path)}

    def run(*args: str) -> Run:
        return cli(*args, extra_env=env)

    return run


def test_suggested_lists_the_feeds_and_marks_those_followed(
    suggesting: Callable[..., Run], server: FeedServer
) -> None:
    assert suggesting("feeds", "add", server.url("/old")).code == 0
    listed = suggesting("feeds", "suggested")
    assert listed.code == 0, listed.err
    assert listed.out.splitlines() == [
        "Good Wire",
        f"    {server.url('/good')}",
        "    the one to add",
        "Front page",
        f"    {server.url('/page')}",
        "    not a feed",
        "Old Wire  [followed here: feed 1]",
        f"    {server.url('/old')}",
        "    followed already",
        "",
        "3 suggested, 1 followed here; follow the others with: briefbot feeds add --suggested",
    ]
    data = json.loads(suggesting("feeds", "suggested", "--format", "json").out)
    assert [(d["title"], d["followed"], d["feed_id"]) for d in data] == [
        ("Good Wire", False, None),
        ("Front page", False, None),
        ("Old Wire", True, 1),
    ]
    # Another scope follows nothing yet: the mark is per guild, as feeds are.
    other = json.loads(suggesting("feeds", "suggested", "--guild", "42", "--format", "json").out)
    assert not any(d["followed"] for d in other)
    assert len(server.hits("/good")) == 0  # listing fetches nothing


def test_add_suggested_adds_each_reports_each_and_refusals_do_not_stop_it(
    suggesting: Callable[..., Run], server: FeedServer
) -> None:
    assert suggesting("feeds", "add", server.url("/old")).code == 0
    result = suggesting("feeds", "add", "--suggested")
    assert result.code == 1, result.err
    assert result.out.splitlines() == [
        "added: Good Wire, as feed 2 (3 items; 0 new for the next digest)",
        f"refused: Front page: {server.url('/page')} is an HTML page titled 'Front page' "
        "(look on the site for its RSS or Atom link)",
        "already followed: Old Wire, as feed 1",
    ]
    assert result.err == (
        "briefbot: feeds add --suggested: 3 suggested: 1 added, 1 already followed, 1 refused\n"
    )
    feeds = json.loads(suggesting("feeds", "list", "--format", "json").out)
    assert [(f["id"], f["url"], f["items"]) for f in feeds] == [
        (1, server.url("/old"), 2),
        (2, server.url("/good"), 3),
    ]
    assert (len(server.hits("/good")), len(server.hits("/page")), len(server.hits("/old"))) == (
        1,
        1,
        1,
    )

    # Once the page turns into a feed, a second run adds it alone and succeeds.
    server.routes["/page"] = Route(rss("Front page", [item(20)]))
    again = suggesting("feeds", "add", "--suggested", "--backfill", "1")
    assert again.code == 0, again.err
    assert again.out.splitlines() == [
        "already followed: Good Wire, as feed 2",
        "added: Front page, as feed 3 (1 items; 1 new for the next digest)",
        "already followed: Old Wire, as feed 1",
    ]
    assert "1 added, 2 already followed, 0 refused" in again.err
    assert len(server.hits("/good")) == 1


def test_add_suggested_in_a_guild_scope(suggesting: Callable[..., Run], server: FeedServer) -> None:
    assert suggesting("feeds", "add", server.url("/old")).code == 0  # the CLI's own scope
    result = suggesting("feeds", "add", "--suggested", "--guild", "42")
    assert result.code == 1
    assert "added: Old Wire, as feed" in result.out  # followed elsewhere is not followed here
    listed = json.loads(suggesting("feeds", "suggested", "--guild", "42", "--format", "json").out)
    assert [d["followed"] for d in listed] == [True, False, True]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["feeds", "add"], "one of the arguments URL --suggested is required"),
        (
            ["feeds", "add", "https://example.org/rss", "--suggested"],
            "argument --suggested: not allowed with argument URL",
        ),
        (["feeds", "add", "--suggested", "--include", "x"], "give --channel too"),
    ],
)
def test_url_and_suggested_are_one_or_the_other(
    suggesting: Callable[..., Run], server: FeedServer, args: list[str], message: str
) -> None:
    result = suggesting(*args)
    assert result.code == 2 and result.out == ""
    assert result.err.startswith("briefbot: error: ") and result.err.count("\n") == 1
    assert message in result.err
    assert server.requests == []
