"""/feeds add|list|remove|enable|test: a server's RSS/Atom feeds, for Manage Server only.

A feed belongs to the server that added it: its URL is listed only there, and the items only
it brought show only in that server's briefs and searches.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import can_manage_guild
from bot.cogs.common import (
    bot_of,
    choices,
    defer,
    send_message,
    send_text_pages,
    text_pages,
)
from bot.discord_render import DiscordMessage, escape_source
from briefs.store.feeds import Feed

PREVIEW_ITEMS = 10


def _when(value: datetime | None) -> str:
    return f"<t:{int(value.timestamp())}:R>" if value is not None else "never"


def feed_block(f: Feed) -> str:
    """One feed as the bot shows it; every text from the feed escaped."""
    state = "enabled" if f.enabled else f"**disabled**: {escape_source(f.disabled_reason)}"
    lines = [
        f"**{f.id}** · {escape_source(f.name)}",
        f"`{escape_source(f.url).replace('`', '')}`",
        f"{state}; {f.entries} items; last fetched {_when(f.last_fetched_at)}"
        + (f" (HTTP {f.last_status})" if f.last_status else ""),
    ]
    if f.last_error:
        lines.append(
            f"last error ({escape_source(f.last_error_type)}, {f.failures} in a row): "
            f"{escape_source(f.last_error)}"
        )
    if f.enabled:
        lines.append(f"next poll {_when(f.next_poll_at)}")
    return "\n".join(lines) + "\n"


async def feed_autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None:
        return []
    bot = bot_of(interaction)
    feeds = await bot.blocking(bot.engine.list_feeds, str(interaction.guild_id))
    return choices(((f"{f.id} · {f.name}", str(f.id)) for f in feeds), current)


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Feeds(commands.GroupCog, group_name="feeds", group_description="This server's feeds"):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="add", description="Follow an RSS/Atom feed; fetched once now")
    @app_commands.describe(
        url="the feed's address (http or https)",
        channel="also post this feed's new items in this channel's digests",
    )
    @app_commands.check(can_manage_guild)
    async def add(
        self,
        interaction: discord.Interaction[Any],
        url: app_commands.Range[str, 1, 2000],
        channel: discord.TextChannel | None = None,
    ) -> None:
        bot = bot_of(interaction)
        await defer(interaction)
        feed, outcome, parsed = await bot.engine.add_feed(
            url,
            str(interaction.guild_id),
            channel_id=str(channel.id) if channel is not None else None,
            resolver=bot.resolver,
        )
        lines = [
            f"Following feed **{feed.id}**: {escape_source(parsed.title)} "
            f"({len(parsed.entries)} items; {outcome.new} new for the next digest)."
        ]
        if channel is not None:
            lines.append(f"Its new items go to <#{channel.id}>.")
        for warning in outcome.warnings[:3]:
            lines.append(f"Warning: {escape_source(warning)}")
        await send_message(interaction, DiscordMessage("\n".join(lines)[:2000], []))

    @app_commands.command(name="list", description="This server's feeds: status, errors, polls")
    @app_commands.check(can_manage_guild)
    async def list(self, interaction: discord.Interaction[Any]) -> None:
        bot = bot_of(interaction)
        await defer(interaction)
        feeds = await bot.blocking(bot.engine.list_feeds, str(interaction.guild_id))
        if not feeds:
            message = DiscordMessage("No feeds followed here. Add one with `/feeds add`.", [])
            await send_message(interaction, message)
            return
        await send_text_pages(
            interaction, text_pages("Feeds", [feed_block(f) for f in feeds]), "feeds list"
        )

    @app_commands.command(name="remove", description="Stop following a feed (its items stay)")
    @app_commands.describe(feed="the feed's number or URL (see /feeds list)")
    @app_commands.autocomplete(feed=feed_autocomplete)
    @app_commands.check(can_manage_guild)
    async def remove(
        self, interaction: discord.Interaction[Any], feed: app_commands.Range[str, 1, 2000]
    ) -> None:
        bot = bot_of(interaction)
        await defer(interaction)
        removed = await bot.blocking(bot.engine.remove_feed, feed, str(interaction.guild_id))
        text = (
            f"No longer following feed **{removed.id}** ({escape_source(removed.name)}); "
            "its items stay in briefs and searches."
        )
        await send_message(interaction, DiscordMessage(text[:2000], []))

    @app_commands.command(name="enable", description="Resume a feed disabled after failures")
    @app_commands.describe(feed="the feed's number or URL (see /feeds list)")
    @app_commands.autocomplete(feed=feed_autocomplete)
    @app_commands.check(can_manage_guild)
    async def enable(
        self, interaction: discord.Interaction[Any], feed: app_commands.Range[str, 1, 2000]
    ) -> None:
        bot = bot_of(interaction)
        await defer(interaction)
        resumed = await bot.blocking(bot.engine.enable_feed, feed, str(interaction.guild_id))
        text = (
            f"Feed **{resumed.id}** ({escape_source(resumed.name)}) is enabled again; "
            "it is polled at the next round."
        )
        await send_message(interaction, DiscordMessage(text[:2000], []))

    @app_commands.command(name="test", description="Fetch and preview a feed; stores nothing")
    @app_commands.describe(url="the feed's address (http or https)")
    @app_commands.check(can_manage_guild)
    async def test(
        self, interaction: discord.Interaction[Any], url: app_commands.Range[str, 1, 2000]
    ) -> None:
        bot = bot_of(interaction)
        await defer(interaction)
        result, parsed = await bot.engine.test_feed(url, bot.resolver)
        blocks = [
            f"`{escape_source(result.final_url).replace('`', '')}` "
            f"({escape_source(parsed.version)}, {len(parsed.entries)} items)\n"
        ]
        for entry in parsed.entries[:PREVIEW_ITEMS]:
            when = entry.published_at.strftime("%Y-%m-%d") if entry.published_at else "undated"
            blocks.append(f"• {when} {escape_source(entry.title)}")
        if len(parsed.entries) > PREVIEW_ITEMS:
            blocks.append(f"… and {len(parsed.entries) - PREVIEW_ITEMS} more")
        title = escape_source(parsed.title) or "Feed preview"
        await send_text_pages(interaction, text_pages(title, blocks), "feeds test")


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Feeds(bot))
