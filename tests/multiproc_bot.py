"""Test-only entry point: one bot process of the kill test (tests/test_multiprocess.py).

``python -m tests.multiproc_bot`` runs what ``briefbot run`` runs (``bot.run.run_bot`` on an
``Services`` from the environment's settings), with three test-only changes read from
environment variables, so nothing here can leak into a real deployment:

- ``BRIEFBOT_TEST_DISCORD_API`` and ``BRIEFBOT_TEST_DISCORD_GATEWAY``: discord.py's REST base
  (``discord.http.Route.BASE``) and gateway (``DiscordWebSocket.DEFAULT_GATEWAY``, which a
  client with a fixed ``shard_count`` connects to) point at the Discord API double;
- ``BRIEFBOT_TEST_CLOCK_FILE``: the engine's clock reads the time from this file (ISO 8601,
  replaced atomically by the test), so the test moves time for every process at once
  instead of sleeping;
- discord.py's wait for late GUILD_CREATEs after READY is 0.05 s instead of 2 s.

Everything else (shards, database, polling intervals, leases) is ordinary settings from
``BRIEFBOT_*`` variables. Logs go to stderr with the pid, which the test keeps per process.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

API_VARIABLE = "BRIEFBOT_TEST_DISCORD_API"
GATEWAY_VARIABLE = "BRIEFBOT_TEST_DISCORD_GATEWAY"
CLOCK_VARIABLE = "BRIEFBOT_TEST_CLOCK_FILE"


class FileClock:
    """The time written in a file: one clock for several processes, moved by the test."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self) -> datetime:
        return datetime.fromisoformat(self.path.read_text().strip()).astimezone(UTC)

    def set(self, now: datetime) -> None:
        """Write ``now`` (from the test): a new file replaces the old one in one step, so
        a reader never sees half a time."""
        temporary = self.path.with_name(self.path.name + ".new")
        temporary.write_text(now.astimezone(UTC).isoformat())
        os.replace(temporary, self.path)


def _point_discord_at_the_double() -> None:
    import yarl
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    Route.BASE = os.environ[API_VARIABLE]
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ[GATEWAY_VARIABLE])


def main() -> int:
    for name in (API_VARIABLE, GATEWAY_VARIABLE, CLOCK_VARIABLE):
        if not os.environ.get(name):
            print(f"tests.multiproc_bot: set {name} (this is a test launcher)", file=sys.stderr)
            return 2
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s",
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per job run
    _point_discord_at_the_double()

    from bot.run import run_bot
    from bot.services.shared import Services
    from briefs.settings import load_settings

    engine = Services(load_settings(os.environ), FileClock(Path(os.environ[CLOCK_VARIABLE])))
    return run_bot(engine, os.environ, sys.stderr, guild_ready_timeout=0.05)


if __name__ == "__main__":
    sys.exit(main())
