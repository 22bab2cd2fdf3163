"""The command tree as Discord will receive it: names, options, ranges, permissions."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.app import COGS, BriefBot
from bot.errors import user_message
from bot.services.shared import Services
from briefs.clock import FrozenClock
from briefs.errors import InputError, NotFoundError, SettingsError
from briefs.settings import load_settings
from tests.conftest import NOW


def _tree(tmp_path: Path) -> list[dict[str, Any]]:
    env = {"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path / 's.sqlite3'}", "HOME": str(tmp_path)}
    engine = Services(load_settings(env), FrozenClock(NOW))

    async def build() -> list[dict[str, Any]]:
        bot = BriefBot(engine)
        try:
            for name in dict.fromkeys(COGS):
                await bot.load_extension(name)
            return [c.to_dict(bot.tree) for c in bot.tree.get_commands()]
        finally:
            bot.executor.shutdown()  # never connected: nothing else to close
            engine.close()

    return asyncio.run(build())


@pytest.fixture(scope="module")
def commands(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    payload = _tree(tmp_path_factory.mktemp("tree"))
    names = Counter(c["name"] for c in payload)
    duplicated = [n for n, k in names.items() if k > 1]
    assert not duplicated, f"commands sharing one name: {duplicated}"
    return {c["name"]: c for c in payload}


def test_no_two_commands_share_a_name(commands: dict[str, dict[str, Any]]) -> None:
    assert {"brief", "source", "search", "timeline", "entity", "stories", "feeds", "about"} <= set(
        commands
    )
    for command in commands.values():
        subs = [o["name"] for o in command.get("options", []) if o["type"] == 1]
        assert len(subs) == len(set(subs)), command["name"]


def _options(command: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["name"]: o for o in command.get("options", [])}


def test_options_are_typed_with_ranges_and_descriptions(
    commands: dict[str, dict[str, Any]],
) -> None:
    brief = _options(commands["brief"])
    assert set(brief) == {"topic", "entity", "days", "query", "format"}
    assert brief["days"]["type"] == 4 and (
        brief["days"]["min_value"],
        brief["days"]["max_value"],
    ) == (1, 365)
    assert brief["topic"]["autocomplete"] and brief["entity"]["autocomplete"]
    assert {c["value"] for c in brief["format"]["choices"]} == {"embed", "markdown", "html"}
    assert not any(o["required"] for o in brief.values())
    assert _options(commands["source"])["ref"]["required"]
    assert _options(commands["source"])["ref"]["autocomplete"]
    assert _options(commands["search"])["query"]["required"]
    assert _options(commands["stories"])["days"]["max_value"] == 365
    assert _options(commands["entity"])["name"]["autocomplete"]
    for command in commands.values():
        assert 1 <= len(command["description"]) <= 100
        for option in command.get("options", []):
            assert 1 <= len(option["description"]) <= 100, (command["name"], option["name"])


def test_feeds_require_manage_server_inside_a_server(commands: dict[str, dict[str, Any]]) -> None:
    feeds = commands["feeds"]
    assert int(feeds["default_member_permissions"]) == discord.Permissions(manage_guild=True).value
    assert feeds["contexts"] == [0] and feeds["dm_permission"] is False
    subs = _options(feeds)
    assert set(subs) >= {"add", "list", "suggested", "remove", "test"}
    assert _options(subs["remove"])["feed"]["autocomplete"]
    assert _options(subs["add"])["url"]["autocomplete"]  # the suggested feeds
    assert commands["brief"].get("default_member_permissions") is None


def test_user_errors_say_what_to_do_and_others_are_incidents() -> None:
    assert user_message(NotFoundError("unknown topic 'x'; known topics: a, b")) == (
        "unknown topic 'x'; known topics: a, b"
    )
    assert user_message(InputError("bad ref")) == "bad ref"
    assert user_message(SettingsError("bad setting")) is None
    assert user_message(RuntimeError("boom")) is None
    missing = app_commands.MissingPermissions(["manage_guild"])
    assert "Manage Guild" in (user_message(missing) or "")


def test_run_without_a_token_is_one_clear_line(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("run", extra_env={"DISCORD_TOKEN": "  "})
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert result.err.startswith("briefbot: error: set the environment variable DISCORD_TOKEN")
