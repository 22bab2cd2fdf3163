"""The [discord] section of the settings: the Discord front end's own, read here so the
engine's settings (``briefs.settings``) know nothing of Discord."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from briefs.errors import SettingsError
from briefs.settings import Settings


@dataclass(frozen=True)
class DiscordSettings:
    """Where commands are synced, sharding, worker threads, page size (docs/discord.md).

    The token is not a setting: it comes only from the environment variable DISCORD_TOKEN.
    """

    dev_guild_id: str = ""
    shard_count: int = 0  # 0: not sharded (one connection); n: n shards
    shard_ids: tuple[int, ...] = ()  # the shards this process runs; empty: all of them
    max_workers: int = 4
    sync_commands: bool = True
    page_size: int = 5


def discord_settings(settings: Settings) -> DiscordSettings:
    """The [discord] section of ``settings``; types were checked on loading, ranges and
    shapes here (one ``SettingsError`` naming where the value came from)."""
    values: Mapping[str, Any] = settings.sections.get("discord", {})
    origins = settings.origins

    def where(key: str) -> str:
        return origins.get(f"discord.{key}", f"[discord] {key}")

    defaults = DiscordSettings()
    guild = str(values.get("dev_guild_id", defaults.dev_guild_id)).strip()
    if guild and not guild.isdigit():
        raise SettingsError(
            f"{where('dev_guild_id')}: expected a server id (digits), got {guild!r}"
        )
    numbers: dict[str, int] = {}
    for key, floor in (("shard_count", 0), ("max_workers", 1), ("page_size", 1)):
        value = values.get(key, getattr(defaults, key))
        if not isinstance(value, int) or isinstance(value, bool) or value < floor:
            raise SettingsError(f"{where(key)}: expected a whole number of at least {floor}")
        numbers[key] = value
    text = str(values.get("shard_ids", "")).strip()
    try:
        shard_ids = tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise SettingsError(
            f"{where('shard_ids')}: expected shard numbers separated by commas, got {text!r}"
        ) from None
    count = numbers["shard_count"]
    if shard_ids and not count:
        raise SettingsError(f"{where('shard_ids')}: set [discord] shard_count too")
    bad = [i for i in shard_ids if not 0 <= i < count]
    if bad:
        raise SettingsError(
            f"{where('shard_ids')}: shard {bad[0]} is outside 0..{count - 1} (shard_count {count})"
        )
    return DiscordSettings(
        dev_guild_id=guild,
        shard_count=count,
        shard_ids=shard_ids,
        max_workers=numbers["max_workers"],
        sync_commands=bool(values.get("sync_commands", True)),
        page_size=numbers["page_size"],
    )
