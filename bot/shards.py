"""Which guilds a process serves: Discord's shard formula over the ``[discord]`` settings.

Discord sends a guild's events only to the shard ``(guild_id >> 22) % shard_count``, so a
process running some shards can only answer those guilds' commands; it schedules and
delivers digests for the same guilds, and no other process does (docs/scaling.md). Pure
arithmetic, no discord.py, so it is cheap to test and to call for every schedule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.settings import DiscordSettings


def shard_of(guild_id: int | str | None, shard_count: int) -> int:
    """The shard Discord gives a guild; no guild (a direct message, a webhook schedule made
    on the command line) is shard 0, as Discord does for DMs."""
    if shard_count < 1:
        raise ValueError(f"shard_count must be at least 1, got {shard_count}")
    if guild_id is None or guild_id == "":
        return 0
    number = int(guild_id)
    if number < 0:
        raise ValueError(f"guild id {guild_id!r} is not a Discord id")
    return (number >> 22) % shard_count


@dataclass(frozen=True)
class Shards:
    """The shards one process runs: ``count`` in all, ``ids`` of them here (empty: all)."""

    count: int = 1
    ids: frozenset[int] = frozenset()

    @classmethod
    def of(cls, count: int, ids: Iterable[int] = ()) -> Shards:
        """From ``[discord] shard_count`` (0: not sharded) and ``shard_ids`` (empty: all)."""
        wanted = frozenset(ids)
        total = max(count, 1)
        bad = sorted(i for i in wanted if not 0 <= i < total)
        if bad:
            raise ValueError(f"shard {bad[0]} is outside 0..{total - 1} (shard_count {total})")
        return cls(total, frozenset() if wanted == frozenset(range(total)) else wanted)

    @classmethod
    def from_settings(cls, settings: DiscordSettings) -> Shards:
        return cls.of(settings.shard_count, settings.shard_ids)

    @property
    def everything(self) -> bool:
        """Whether this process serves every guild (one process, or all shards here)."""
        return not self.ids

    def owns(self, guild_id: int | str | None) -> bool:
        """Whether ``guild_id``'s schedules are this process's to run."""
        return self.everything or shard_of(guild_id, self.count) in self.ids

    def describe(self) -> str:
        if self.everything:
            return f"all {self.count} shards" if self.count > 1 else "all guilds (one shard)"
        return f"shards {','.join(map(str, sorted(self.ids)))} of {self.count}"


ALL = Shards()
