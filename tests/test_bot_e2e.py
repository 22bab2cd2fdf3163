"""The bot end to end: the unmodified discord.py client against the Discord API double.

Each test starts the real ``BriefBot`` on a copy of an analysed seed store, lets it log in,
sync its commands and connect, then acts as users do (INTERACTION_CREATE) and asserts what
Discord would have received; ``assert_clean`` fails on any request Discord would refuse, any
unknown route and any ping.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.app import BriefBot
from bot.services.shared import Services
from briefs import __version__
from briefs.analysis.pipeline import analyze_pending
from briefs.clock import FrozenClock
from briefs.ingest.files import ingest_files, seed_files
from briefs.lexicon import load_lexicon
from briefs.settings import load_settings
from briefs.store import open_store
from tests.conftest import NOW, SEEDS
from tests.discord_double import (
    MANAGER_PERMISSIONS,
    CallbackType,
    DiscordDouble,
    InteractionRecord,
    MessageRecord,
)
from tests.feedserver import FeedServer, Route, item, rss

DEFERRED = CallbackType.DEFERRED_MESSAGE
PAGE_BUTTONS = re.compile(r"previous|next", re.IGNORECASE)


@pytest.fixture(scope="module")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An analysed store of the seed corpus, built once and copied for each test."""
    path = tmp_path_factory.mktemp("seeded") / "store.sqlite3"
    store = open_store(f"sqlite:///{path}")
    assert all(r.ok for r in ingest_files(store, seed_files(SEEDS), "seed", FrozenClock(NOW)))
    store.set_meta("seed_corpus_ingested_at", NOW.isoformat())
    analyze_pending(store, load_lexicon())
    store.close()
    return path


@pytest.fixture
def make_services(tmp_path: Path, seeded_file: Path) -> Iterator[Callable[..., Services]]:
    engines: list[Services] = []

    def make(**env: str) -> Services:
        db = tmp_path / f"store{len(engines)}.sqlite3"
        shutil.copy(seeded_file, db)
        full = {
            "BRIEFBOT_DATABASE_URL": f"sqlite:///{db}",
            "HOME": str(tmp_path),
            "BRIEFBOT_FEEDS_ALLOW_PRIVATE_ADDRESSES": "true",
            **env,
        }
        engine = Services(load_settings(full), FrozenClock(NOW))
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()


@asynccontextmanager
async def connected(
    double: DiscordDouble, engine: Services, **options: Any
) -> AsyncIterator[BriefBot]:
    bot = BriefBot(engine, **options)
    async with double.running(bot):
        yield bot


def _quiet(message: MessageRecord) -> bool:
    """Every payload the bot sent for this message allowed no mentions at all. (The deferral's
    "thinking" placeholder, which carries no text, is the double's and not counted.)"""
    sent = [p for p in message.history if set(p) - {"content", "flags"}]
    return bool(sent) and all(
        isinstance(p.get("allowed_mentions"), dict)
        and not any(p["allowed_mentions"].get(k) for k in ("parse", "users", "roles"))
        and not p["allowed_mentions"].get("replied_user")
        for p in sent
    )


def _plain(messages: list[MessageRecord]) -> str:
    return "\n".join(m.text() for m in messages)


async def _answer(ix: InteractionRecord, count: int = 1) -> list[MessageRecord]:
    """The deferral, then ``count`` followups; every message sent without mentions."""
    first = await ix.wait_callback(timeout=3)
    assert first.type == DEFERRED and first.accepted and first.latency < 3
    messages = await ix.wait_followups(count, timeout=15)
    assert all(_quiet(m) for m in messages)
    return messages


@pytest.mark.asyncio
async def test_login_sync_and_a_brief(discord_double: DiscordDouble, make_services: Any) -> None:
    guild = discord_double.add_guild("Analysts")
    async with connected(discord_double, make_services()):
        names = {c["name"] for c in discord_double.commands(guild.id)}
        assert {"brief", "source", "search", "timeline", "entity", "stories", "feeds"} <= names
        assert {"about"} <= names
        feeds = discord_double.find_command("feeds", guild.id)
        assert (
            int(feeds["default_member_permissions"]) == discord.Permissions(manage_guild=True).value
        )
        options = {o["name"]: o for o in discord_double.find_command("brief")["options"]}
        assert options["days"]["min_value"] == 1 and options["days"]["max_value"] == 365
        assert discord_double.identify_payloads[-1]["intents"] == discord.Intents(guilds=True).value

        ix = await discord_double.command("brief", {"topic": "sanctions"}, guild=guild)
        messages = await _answer(ix)
        embeds = [e for m in messages for e in m.embeds]
        assert embeds and embeds[0]["title"]
        text = _plain(messages)
        assert re.search(r"[0-9a-f]{12}:\d+", text), "statements carry citations"
        files = [f.filename for f in ix.files]
        assert any(name.endswith(".md") for name in files)
        markdown = next(f for f in ix.files if f.filename.endswith(".md")).text
        assert markdown.startswith("# Brief") and "sanction" in markdown.lower()
    discord_double.assert_clean()


@pytest.mark.asyncio
async def test_each_command_answers(discord_double: DiscordDouble, make_services: Any) -> None:
    guild = discord_double.add_guild()
    async with connected(discord_double, make_services()):
        ix = await discord_double.command("brief", {"entity": "Sergei Shoigu", "format": "html"})
        await _answer(ix)
        html = next(f for f in ix.files if f.filename.endswith(".html")).text
        assert "<html" in html.lower()

        ref = re.search(r"([0-9a-f]{12}:\d+)", _plain(ix.followups))
        assert ref is not None
        ix = await discord_double.command("source", {"ref": ref.group(1), "context": 2})
        text = _plain(await _answer(ix))
        assert ref.group(1) in text

        ix = await discord_double.command("search", {"query": "Shoigu"})
        assert "Shoigu" in _plain(await _answer(ix))

        ix = await discord_double.command("timeline", {"entity": "North Korea", "days": 365})
        await _answer(ix)  # the corpus is from 2023: nothing in the last year, said politely
        ix = await discord_double.command("timeline", {"entity": "North Korea"})
        assert re.search(r"2023-\d\d", _plain(await _answer(ix)))

        ix = await discord_double.command("entity", {"name": "Kim Jong-un"})
        assert "Kim Jong-un" in _plain(await _answer(ix))

        ix = await discord_double.command("stories", {})
        assert _plain(await _answer(ix))

        ix = await discord_double.command("about", {})
        callback = await ix.wait_callback()
        assert callback.type == DEFERRED and callback.data is not None
        assert callback.data["flags"] & 64  # private to the caller
        about = (await ix.wait_followups(1))[0]
        assert "**Documents visible here** 5" in about.text()
        assert f"**Version** {__version__}" in about.text()
    assert guild.id
    discord_double.assert_clean()


@pytest.mark.asyncio
async def test_user_errors_are_private_and_say_what_to_do(
    discord_double: DiscordDouble, make_services: Any
) -> None:
    discord_double.add_guild()
    async with connected(discord_double, make_services()):
        ix = await discord_double.command("brief", {"topic": "weather"})
        callback = await ix.wait_callback()
        assert callback.type == CallbackType.MESSAGE
        assert callback.data is not None and callback.data["flags"] & 64  # ephemeral
        assert "unknown topic 'weather'; known topics:" in callback.data["content"]
        assert "sanctions" in callback.data["content"]

        ix = await discord_double.command("source", {"ref": "not a ref!"})
        callback = await ix.wait_callback()
        assert callback.data is not None and callback.data["flags"] & 64
        assert "is not a reference" in callback.data["content"]

        # Found only after the deferral: the "thinking" message goes, the hint is private.
        ix = await discord_double.command("source", {"ref": "000000000000:1"})
        assert (await ix.wait_callback()).type == DEFERRED
        await ix.wait_for(lambda r: r.followups and r.deleted, timeout=5)
        assert "no document '000000000000'" in ix.followups[-1].text()
        assert "/search" in ix.followups[-1].text()
        assert ix.deleted == ["@original"]
    discord_double.assert_clean()


@pytest.mark.asyncio
async def test_unexpected_error_is_an_incident_with_an_id(
    discord_double: DiscordDouble,
    make_services: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    discord_double.add_guild()
    engine = make_services()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    engine.briefs.stories = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="briefbot.discord"):
        async with connected(discord_double, engine):
            ix = await discord_double.command("stories", {"days": 30})
            await ix.wait_for(lambda r: r.followups, timeout=5)
    reply = ix.followups[-1].text()
    incident = re.search(r"incident `([0-9a-f]{8})`", reply)
    assert incident and "Sorry" in reply and "disk on fire" not in reply
    logged = [r for r in caplog.records if incident.group(1) in r.getMessage()]
    assert logged and "/stories" in logged[0].getMessage() and "days" in logged[0].getMessage()
    assert logged[0].exc_info is not None
    discord_double.assert_clean()


@pytest.mark.asyncio
async def test_slow_work_is_deferred_first(
    discord_double: DiscordDouble, make_services: Any
) -> None:
    """The acknowledgement does not wait for the engine: it comes while the work is blocked."""
    discord_double.add_guild()
    engine = make_services()
    release = threading.Event()
    search = engine.briefs.search

    def slow(*args: Any, **kwargs: Any) -> Any:
        assert release.wait(10)
        return search(*args, **kwargs)

    engine.briefs.search = slow  # type: ignore[method-assign]
    async with connected(discord_double, engine):
        ix = await discord_double.command("search", {"query": "sanctions"})
        callback = await ix.wait_callback(timeout=3)
        assert callback.type == DEFERRED and not ix.followups
        release.set()
        await ix.wait_followups(1, timeout=10)
    discord_double.assert_clean()


@pytest.mark.asyncio
async def test_autocomplete(discord_double: DiscordDouble, make_services: Any) -> None:
    discord_double.add_guild()
    async with connected(discord_double, make_services()):
        ix = await discord_double.autocomplete("brief", {"topic": "sanc"}, "topic")
        callback = await ix.wait_callback()
        assert callback.type == CallbackType.AUTOCOMPLETE
        assert "sanctions" in [c["value"] for c in callback.choices]

        ix = await discord_double.autocomplete("brief", {"entity": "shoi"}, "entity")
        assert "Sergei Shoigu" in [c["value"] for c in (await ix.wait_callback()).choices]

        ix = await discord_double.autocomplete("entity", {"name": ""}, "name")
        assert 0 < len((await ix.wait_callback()).choices) <= 25

        # /source suggests the citations of the caller's latest answer.
        brief = await discord_double.command("brief", {})
        await _answer(brief)
        cited = set(re.findall(r"[0-9a-f]{12}:\d+", _plain(brief.followups)))
        ix = await discord_double.autocomplete("source", {"ref": ""}, "ref")
        offered = {c["value"] for c in (await ix.wait_callback()).choices}
        assert offered & cited
        assert all(re.fullmatch(r"[0-9a-f]{12}:\d+", ref) for ref in offered)
    discord_double.assert_clean()


@pytest.mark.asyncio
async def test_paging_buttons_work_for_the_caller_only(
    discord_double: DiscordDouble, make_services: Any
) -> None:
    guild = discord_double.add_guild()
    async with connected(discord_double, make_services(BRIEFBOT_DISCORD_PAGE_SIZE="2")):
        ix = await discord_double.command("search", {"query": "North Korea"})
        page = (await _answer(ix))[0]
        buttons = page.custom_ids()
        assert len(buttons) == 2
        assert "page 1/" in page.text()
        first_page = page.text()

        other = guild.member("manager")
        refused = await discord_double.click(page, buttons[1], user=other)
        callback = await refused.wait_callback()
        assert callback.type == CallbackType.MESSAGE and callback.data is not None
        assert callback.data["flags"] & 64 and "/search" in callback.data["content"]
        assert discord_double.message(page.id).text() == first_page

        turned = await discord_double.click(page, buttons[1])  # the caller ("analyst")
        callback = await turned.wait_callback()
        assert callback.type == CallbackType.UPDATE_MESSAGE and callback.accepted
        assert "page 2/" in discord_double.message(page.id).text()
        assert _quiet(discord_double.message(page.id))

        ix = await discord_double.command("stories", {})
        assert (await _answer(ix))[0].custom_ids(), "/stories pages too"
    discord_double.assert_clean()


@pytest.mark.asyncio
async def test_feeds_need_manage_server(discord_double: DiscordDouble, make_services: Any) -> None:
    guild = discord_double.add_guild()
    async with connected(discord_double, make_services()):
        ix = await discord_double.command("feeds list", {})  # the "analyst" member
        callback = await ix.wait_callback()
        assert callback.type == CallbackType.MESSAGE and callback.data is not None
        assert callback.data["flags"] & 64
        assert "Manage Guild permission" in callback.data["content"]

        ix = await discord_double.command("feeds list", {}, user=guild.member("manager"))
        assert "No feeds followed here" in _plain(await _answer(ix))
        ix = await discord_double.command("feeds list", {}, permissions=MANAGER_PERMISSIONS)
        assert (await ix.wait_callback()).type == DEFERRED
    discord_double.assert_clean()


@pytest.mark.asyncio
async def test_feeds_add_suggests_the_suggested_feeds(
    discord_double: DiscordDouble, make_services: Any, tmp_path: Path
) -> None:
    guild = discord_double.add_guild()
    manager = guild.member("manager")
    with FeedServer() as server:
        server.routes["/wire.xml"] = Route(rss("Sanctions Wire", [item(1)]))
        server.routes["/other.xml"] = Route(rss("Not Suggested", [item(2)]))
        long_url = "https://example.org/" + "x" * 90  # too long for a choice's value
        listed = tmp_path / "suggested.toml"
        listed.write_text(
            f'[[feed]]\nurl = "{server.url("/wire.xml")}"\ntitle = "Sanctions Wire"\n'
            'about = "Designations as they happen."\n\n'
            f'[[feed]]\nurl = "https://example.org/un.xml"\ntitle = "UN {"W" * 120}"\n\n'
            f'[[feed]]\nurl = "{long_url}"\ntitle = "Long Address"\n',
            encoding="utf-8",
        )
        engine = make_services(BRIEFBOT_FEEDS_SUGGESTED_FILE=str(listed))
        async with connected(discord_double, engine):

            async def offered(typed: str) -> list[dict[str, Any]]:
                ix = await discord_double.autocomplete(
                    "feeds add", {"url": typed}, "url", guild=guild, user=manager
                )
                callback = await ix.wait_callback()
                assert callback.type == CallbackType.AUTOCOMPLETE and callback.accepted
                return list(callback.choices)

            everything = await offered("")
            assert [c["value"] for c in everything] == [
                server.url("/wire.xml"),
                "https://example.org/un.xml",
            ]
            assert everything[0]["name"] == "Sanctions Wire"
            assert len(everything[1]["name"]) == 100  # cut to Discord's limit
            assert [c["name"] for c in await offered("sanc")] == ["Sanctions Wire"]
            assert [c["value"] for c in await offered("https://example")] == [
                "https://example.org/un.xml"
            ]
            assert await offered("nothing like it") == []

            ix = await discord_double.command(
                "feeds add", {"url": server.url("/wire.xml")}, guild=guild, user=manager
            )
            assert "Following feed **1**" in _plain(await _answer(ix))
            assert (await offered("sanc"))[0]["name"] == "Sanctions Wire (followed here)"
            # Any URL typed is still taken, suggested or not.
            ix = await discord_double.command(
                "feeds add", {"url": server.url("/other.xml")}, guild=guild, user=manager
            )
            assert "Following feed **2**" in _plain(await _answer(ix))

            ix = await discord_double.command("feeds suggested", {}, guild=guild, user=manager)
            callback = await ix.wait_callback(timeout=3)
            assert callback.type == DEFERRED and callback.data is not None
            assert callback.data["flags"] & 64  # private to the caller
            pages = await ix.wait_followups(1, timeout=10)
            assert all(m.ephemeral and _quiet(m) for m in pages)
            text = _plain(pages)
            assert "Sanctions Wire" in text and "followed here: feed **1**" in text
            assert "Designations as they happen." in text and "Long Address" in text
    discord_double.assert_clean()


@pytest.mark.asyncio
async def test_feeds_add_suggests_the_shipped_list(
    discord_double: DiscordDouble, make_services: Any
) -> None:
    guild = discord_double.add_guild()
    async with connected(discord_double, make_services()):
        ix = await discord_double.autocomplete(
            "feeds add", {"url": "38"}, "url", guild=guild, user=guild.member("manager")
        )
        choices = (await ix.wait_callback()).choices
        assert choices == [{"name": "38 North", "value": "https://www.38north.org/feed/"}]
    discord_double.assert_clean()


HOSTILE_TITLE = "@everyone Breaking &lt;@&amp;{role}&gt; [click](http://evil.example) **now**"


@pytest.mark.asyncio
async def test_feed_text_pings_nobody_and_stays_in_its_guild(
    discord_double: DiscordDouble, make_services: Any
) -> None:
    home = discord_double.add_guild("Home")
    away = discord_double.add_guild("Away")
    role = discord_double.add_role(home, "Analysts")
    title = HOSTILE_TITLE.format(role=role.id)
    description = (
        f"&lt;p&gt;@here the Zorblaxian fleet carried shells for &lt;@&amp;{role.id}&gt; and "
        f"&lt;@{home.member('owner').id}&gt; to the port, officials said.&lt;/p&gt;"
    )
    with FeedServer() as server:
        server.routes["/feed.xml"] = Route(
            rss(title, [item(1, title=title, description=description)])
        )
        async with connected(discord_double, make_services()):
            manager = home.member("manager")
            ix = await discord_double.command(
                "feeds test", {"url": server.url("/feed.xml")}, guild=home, user=manager
            )
            await _answer(ix)
            ix = await discord_double.command(
                "feeds add", {"url": server.url("/feed.xml")}, guild=home, user=manager
            )
            added = _plain(await _answer(ix))
            assert "Following feed" in added
            ix = await discord_double.command("feeds list", {}, guild=home, user=manager)
            await _answer(ix)
            ix = await discord_double.autocomplete(
                "feeds remove", {"feed": ""}, "feed", guild=home, user=manager
            )
            offered = (await ix.wait_callback()).choices
            assert [c["value"] for c in offered] == ["1"]
            assert offered[0]["name"].startswith("1 · ")  # plain text: choices never ping
            ix = await discord_double.autocomplete(
                "feeds remove", {"feed": ""}, "feed", guild=away, user=away.member("manager")
            )
            assert (await ix.wait_callback()).choices == []
            ix = await discord_double.command(
                "feeds enable", {"feed": "1"}, guild=home, user=manager
            )
            assert "enabled again" in _plain(await _answer(ix))
            ix = await discord_double.command(
                "feeds remove", {"feed": "1"}, guild=away, user=away.member("manager")
            )
            await ix.wait_for(lambda r: r.followups, timeout=5)
            assert "no feed '1' is followed here (see: /feeds list)" in ix.followups[-1].text()
            ix = await discord_double.command("search", {"query": "Zorblaxian"}, guild=home)
            found = _plain(await _answer(ix))
            assert "Zorblaxian fleet carried shells" in found
            ix = await discord_double.command("brief", {"query": "Zorblaxian"}, guild=home)
            await _answer(ix)
            ix = await discord_double.command("search", {"query": "Zorblaxian"}, guild=away)
            elsewhere = _plain(await _answer(ix))
            assert "fleet carried" not in elsewhere and "No stored statement" in elsewhere
    sent = [m for m in discord_double.messages if not m.deleted]
    assert sent and all(_quiet(m) for m in sent)
    for message in sent:
        assert message.allowed_mentions is not None and not message.allowed_mentions.get("parse")
        text = message.text()
        assert "@everyone" not in text and "@here" not in text, text
        assert f"<@&{role.id}>" not in text and "](http://evil" not in text
    assert discord_double.pings() == []
    discord_double.assert_clean()


@pytest.mark.asyncio
async def test_a_long_brief_is_split_without_a_400(
    discord_double: DiscordDouble, make_services: Any
) -> None:
    discord_double.add_guild()
    engine = make_services(BRIEFBOT_BRIEF_MAX_ITEMS="80")
    async with connected(discord_double, engine):
        ix = await discord_double.command("brief", {})
        await ix.wait_callback()
        await ix.wait_for(lambda r: any(f.filename.endswith(".md") for f in r.files), 20)
    assert len(ix.followups) > 1, "the brief did not need splitting: make it larger"
    assert sum(len(m.embeds) for m in ix.followups) > 2
    assert discord_double.violations == []
    discord_double.assert_clean()


@pytest.mark.asyncio
async def test_a_closed_connection_resumes(
    discord_double: DiscordDouble, make_services: Any
) -> None:
    discord_double.add_guild()
    async with connected(discord_double, make_services()):
        await discord_double.drop_connection(0)
        await discord_double.wait_for(lambda: discord_double.resume_count >= 1, 10, "a RESUME")
        assert discord_double.identify_count == 1
        ix = await discord_double.command("search", {"query": "Shoigu"})
        assert "Shoigu" in _plain(await _answer(ix))
    discord_double.assert_clean()


@pytest.mark.asyncio
async def test_a_rejected_token_fails_login(
    discord_double: DiscordDouble, make_services: Any
) -> None:
    discord_double.add_guild()
    with pytest.raises(discord.LoginFailure):
        async with discord_double.running(BriefBot(make_services()), token="not-the-token"):
            pass


def test_briefbot_run_with_a_rejected_token_is_one_line(cli: Any) -> None:
    """``briefbot run`` in-process against a double on its own thread: exit 2, one line."""
    from tests.discord_double import threaded_double

    with threaded_double():
        result = cli("run", extra_env={"DISCORD_TOKEN": "rejected-token-123"})
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        "briefbot: error: Discord rejected the token in DISCORD_TOKEN; copy it again from "
        "the developer portal (Bot > Reset Token)"
    ]
    assert "rejected-token-123" not in result.err


def test_sigterm_closes_the_bot_the_scheduler_and_the_store(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``briefbot run`` in-process: once connected, SIGTERM ends it cleanly with exit 0."""
    import os
    import signal

    import bot.run
    from tests.discord_double import patched_discord

    engines: list[Services] = []
    bots: list[BriefBot] = []
    real_bot = bot.run.BriefBot

    def recording(engine: Services, **options: Any) -> BriefBot:
        engines.append(engine)
        bots.append(real_bot(engine, **options))
        return bots[-1]

    monkeypatch.setattr(bot.run, "BriefBot", recording)
    loop = asyncio.new_event_loop()
    double = DiscordDouble()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def terminate_when_ready() -> None:
        deadline = loop.time() + 20
        while loop.time() < deadline and not (bots and bots[0].is_ready()):
            threading.Event().wait(0.01)
        os.kill(os.getpid(), signal.SIGTERM)

    try:
        asyncio.run_coroutine_threadsafe(double.start(), loop).result(10)
        loop.call_soon_threadsafe(double.add_guild)
        with patched_discord(double):
            killer = threading.Thread(target=terminate_when_ready, daemon=True)
            killer.start()
            result = cli("run", extra_env={"DISCORD_TOKEN": double.token})
            killer.join(5)
        assert result.code == 0, result.err
        assert result.err.strip().endswith("briefbot: stopped (SIGTERM)")
        assert double.token not in result.err
        assert bots[0].is_closed() and bots[0].scheduler is None
        assert engines[0]._store is None, "the store was closed"
    finally:
        asyncio.run_coroutine_threadsafe(double.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@pytest.mark.asyncio
async def test_dev_guild_gets_the_commands_at_once(
    discord_double: DiscordDouble, make_services: Any
) -> None:
    guild = discord_double.add_guild("Dev")
    engine = make_services(BRIEFBOT_DISCORD_DEV_GUILD_ID=str(guild.id))
    async with connected(discord_double, engine):
        synced = {c["name"] for c in discord_double.guild_commands.get(guild.id, [])}
        assert {"brief", "search", "feeds"} <= synced
        assert discord_double.global_commands == []
        ix = await discord_double.command("search", {"query": "Shoigu"}, guild=guild)
        assert "Shoigu" in _plain(await _answer(ix))
    discord_double.assert_clean()


@pytest.mark.asyncio
async def test_sharded_from_settings(discord_double: DiscordDouble, make_services: Any) -> None:
    guilds = [discord_double.add_guild(f"Team {n}") for n in range(4)]
    engine = make_services(BRIEFBOT_DISCORD_SHARD_COUNT="2", BRIEFBOT_DISCORD_SHARD_IDS="0,1")
    async with connected(discord_double, engine) as bot:
        assert bot.shard_count == 2
        shards = sorted(tuple(p["shard"]) for p in discord_double.identify_payloads)
        assert shards == [(0, 2), (1, 2)]
        for guild in guilds:
            ix = await discord_double.command("search", {"query": "Shoigu"}, guild=guild)
            assert "Shoigu" in _plain(await _answer(ix))
    discord_double.assert_clean()


@pytest.mark.asyncio
async def test_stale_analysis_is_refreshed_in_the_background(
    discord_double: DiscordDouble,
    make_services: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After an upgrade (or a gazetteer edit) every document's analysis is stale: the bot
    connects and answers from the old analysis while it re-analyses in the background."""
    from sqlalchemy import text

    import bot.app

    engine = make_services()
    with engine.store.engine.begin() as conn:
        conn.execute(text("UPDATE documents SET analysis_version = 'an older briefbot'"))
    monkeypatch.setattr(bot.app, "REFRESH_BATCH", 2)
    gate = threading.Event()
    refresh = engine.refresh_stale

    def gated(batch: int) -> int:
        assert gate.wait(10), "the test never opened the gate"
        return refresh(batch)

    monkeypatch.setattr(engine, "refresh_stale", gated)
    caplog.set_level(logging.INFO, logger="briefbot.discord")
    guild = discord_double.add_guild()
    async with connected(discord_double, engine) as running:
        assert running.refreshes_analysis
        assert engine.stale_documents() == 5  # connected with all of them still stale
        ix = await discord_double.command("brief", {"topic": "sanctions"}, guild=guild)
        assert re.search(r"[0-9a-f]{12}:\d+", _plain(await _answer(ix)))
        assert engine.stale_documents() == 5  # the brief did not wait for the refresh
        gate.set()
        for _ in range(200):
            if engine.stale_documents() == 0:
                break
            await asyncio.sleep(0.05)
        assert engine.stale_documents() == 0
        for _ in range(100):  # the task logs its last line after the last batch
            if running._refresher is not None and running._refresher.done():
                break
            await asyncio.sleep(0.05)
    said = [r.getMessage() for r in caplog.records if r.name == "briefbot.discord"]
    assert any(m.startswith("refreshing the analysis of 5 documents") for m in said), said
    assert "refreshed 2 of 5 documents (40 %)" in said
    assert any(m.startswith("refreshed the analysis of 5 documents in ") for m in said), said
    discord_double.assert_clean()


def test_only_the_process_running_shard_0_refreshes_analysis(make_services: Any) -> None:
    """Several processes on one store: one re-analyses, the others answer meanwhile."""
    for ids, refreshes in (("0,1", True), ("1", False)):
        engine = make_services(BRIEFBOT_DISCORD_SHARD_COUNT="2", BRIEFBOT_DISCORD_SHARD_IDS=ids)
        client = BriefBot(engine)
        client.executor.shutdown()
        assert client.refreshes_analysis is refreshes
        assert engine.refresh_in_background  # no process re-analyses stale documents inline
