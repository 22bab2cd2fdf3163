"""The [discord] section is the Discord front end's: read by bot/settings.py, not the engine."""

from __future__ import annotations

import pytest

from bot.settings import DiscordSettings, discord_settings
from briefs.errors import SettingsError
from briefs.settings import load_settings


def test_defaults_and_environment_overrides() -> None:
    assert discord_settings(load_settings({"HOME": "/x"})) == DiscordSettings()
    settings = load_settings(
        {"HOME": "/x", "BRIEFBOT_DISCORD_PAGE_SIZE": "3", "BRIEFBOT_DISCORD_DEV_GUILD_ID": "42"}
    )
    assert discord_settings(settings).page_size == 3
    assert discord_settings(settings).dev_guild_id == "42"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BRIEFBOT_DISCORD_DEV_GUILD_ID": "my-server"}, "expected a server id"),
        ({"BRIEFBOT_DISCORD_SHARD_IDS": "1"}, "set \\[discord\\] shard_count too"),
        (
            {"BRIEFBOT_DISCORD_SHARD_COUNT": "2", "BRIEFBOT_DISCORD_SHARD_IDS": "2"},
            "outside 0..1",
        ),
        ({"BRIEFBOT_DISCORD_PAGE_SIZE": "0"}, "at least 1"),
    ],
)
def test_a_bad_discord_setting_is_one_line_naming_its_origin(
    env: dict[str, str], message: str
) -> None:
    settings = load_settings({"HOME": "/x", **env})  # the engine's settings load: not its part
    with pytest.raises(SettingsError, match=message) as caught:
        discord_settings(settings)
    assert "environment variable BRIEFBOT_DISCORD_" in str(caught.value)
    assert "\n" not in str(caught.value)
