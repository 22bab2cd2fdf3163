"""A Discord API double for end-to-end tests with the unmodified discord.py client.

`DiscordDouble` serves Discord's REST API and gateway websocket on 127.0.0.1 (aiohttp, random
port, starts in well under a second), checks what the bot sends against Discord's documented
limits, answers violations the way Discord does (HTTP 400, code 50035, nested errors) and
records everything, so a test fails when the bot would fail in production.

Writing an end-to-end test (pytest-asyncio in auto mode; the ``discord_double`` fixture starts
a double, points ``discord.http.Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY`` at it,
and undoes both afterwards)::

    async def test_brief(discord_double: DiscordDouble) -> None:
        guild = discord_double.add_guild("Analysts")          # #general, #briefs, members
        bot = make_bot()                                      # any discord.Client
        async with discord_double.running(bot):               # login, sync, READY, guilds
            assert {c["name"] for c in discord_double.commands(guild.id)} >= {"brief"}
            ix = await discord_double.command("brief", {"topic": "sanctions"}, guild=guild)
            first = await ix.wait_callback(timeout=3)         # Callback: type, data, files
            assert first.type == CallbackType.DEFERRED_MESSAGE
            msg = await ix.wait_followups(1)                  # or ix.wait_edits(1)
            assert msg[0].embeds and msg[0].allows_no_mentions
        discord_double.assert_clean()                         # no 400s, unknown routes, pings

Controls (all on `DiscordDouble`):

- world: `add_guild`, `add_channel`, `add_role`, `add_member`, `add_webhook`
  (a `Webhook` has ``url``: the double's execute URL, and ``discord_url``: the
  ``https://discord.com/api/webhooks/...`` form for ``discord.Webhook.from_url``);
- interactions: `command` (slash command; ``"feeds add"`` names a subcommand, options are
  typed from the synced command definition), `autocomplete`, `click` (button / select on a
  recorded message), `submit_modal`; each returns an `InteractionRecord` to await
  (`wait_callback`, `wait_followups`, `wait_edits`, `wait_for`);
- settings: ``interaction_deadline`` (3 s), ``app_permissions`` (the bot's permissions in
  interactions), ``attachment_size_limit``, ``shard_count`` (what ``GET /gateway/bot``
  recommends);
- failures: `fail_next(method, path_glob, Failure.rate_limited(0.05) | Failure.server_error()
  | Failure.missing_permissions() | Failure.unknown_channel() | Failure(status, body))`;
- gateway: `drop_connection` (the client resumes), `invalidate_session`, `dispatch_event`,
  counters `identify_count` / `resume_count`, `wait_for`;
- records: `requests`, `messages` / `channel_messages(id)`, `webhook_messages(id)`,
  `interactions`, `violations` (every 4xx the double answered for a bad payload),
  `unknown_requests` (routes the double does not serve: 404 + recorded), `injected`,
  `global_commands` / `guild_commands` / `commands(guild_id)`; `pings()` lists what would
  have notified someone given content and ``allowed_mentions``; `assert_clean()`.

See docs/testing-discord.md.
"""

from __future__ import annotations

from tests.discord_double import validate
from tests.discord_double.fixture import threaded_double
from tests.discord_double.records import (
    Callback,
    CallbackType,
    Channel,
    FileRecord,
    Guild,
    InteractionRecord,
    Member,
    MessageRecord,
    Ping,
    RequestRecord,
    Role,
    Violation,
    Webhook,
)
from tests.discord_double.server import (
    BOT_TOKEN,
    DEFAULT_PERMISSIONS,
    MANAGER_PERMISSIONS,
    DiscordDouble,
    Failure,
    patched_discord,
)

__all__ = [
    "BOT_TOKEN",
    "DEFAULT_PERMISSIONS",
    "MANAGER_PERMISSIONS",
    "Callback",
    "CallbackType",
    "Channel",
    "DiscordDouble",
    "Failure",
    "FileRecord",
    "Guild",
    "InteractionRecord",
    "Member",
    "MessageRecord",
    "Ping",
    "RequestRecord",
    "Role",
    "Violation",
    "Webhook",
    "patched_discord",
    "threaded_double",
    "validate",
]
