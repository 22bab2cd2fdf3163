"""/feeds add|list|suggested|remove|enable|test: a server's RSS/Atom feeds, for Manage Server only.

A feed belongs to the server that added it: its URL is listed only there, and the items only
it brought show only in that server's briefs and searches.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
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
from briefs.errors import SettingsError
from briefs.feeds.suggested import SuggestedFeed
from briefs.store.feeds import Feed

log = logging.getLogger("briefbot.discord")
PREVIEW_ITEMS = 10
CHOICE_MAX = 100  # Discord's limit on a choice's name and on a string choice's value


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
    feeds = await bot.blocking(bot.services.feeds.of_scope, str(interaction.guild_id))
    return choices(((f"{f.id} · {f.name}", str(f.id)) for f in feeds), current)


async def suggested_autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """The suggested feeds as the url option's choices: title shown, URL as the value. What
    the user types is still accepted as it is: a choice is a suggestion, not a limit."""
    if interaction.guild_id is None:
        return []
    bot = bot_of(interaction)
    try:
        suggestions = await bot.blocking(bot.services.feeds.suggested, str(interaction.guild_id))
    except SettingsError as exc:  # the operator's file; /feeds suggested reports it
        log.warning("suggested feeds for /feeds add: %s", exc)
        return []
    return choices(suggestion_choices(suggestions), current)


def suggestion_choices(
    suggestions: Sequence[tuple[SuggestedFeed, Feed | None]],
) -> list[tuple[str, str]]:
    """(name, value) pairs within Discord's 100 characters: a followed feed says so, and a URL
    longer than a choice value can hold is left out (it must be typed)."""
    found = []
    for suggested, followed in suggestions:
        if len(suggested.url) > CHOICE_MAX:
            continue
        mark = " (followed here)" if followed is not None else ""
        found.append((suggested.title[: CHOICE_MAX - len(mark)] + mark, suggested.url))
    return found


def suggestion_block(suggested: SuggestedFeed, followed: Feed | None) -> str:
    """One suggested feed as /feeds suggested shows it; the list's text escaped too."""
    mark = f" · followed here: feed **{followed.id}**" if followed is not None else ""
    lines = [
        f"**{escape_source(suggested.title)}**{mark}",
        f"`{escape_source(suggested.url).replace('`', '')}`",
    ]
    if suggested.about:
        lines.append(escape_source(suggested.about))
    return "\n".join(lines) + "\n"


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Feeds(commands.GroupCog, group_name="feeds", group_description="This server's feeds"):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="add", description="Follow an RSS/Atom feed; fetched once now")
    @app_commands.describe(
        url="the feed's address (http or https), or one of the suggested feeds",
        channel="also post this feed's new items in this channel's digests",
    )
    @app_commands.autocomplete(url=suggested_autocomplete)
    @app_commands.check(can_manage_guild)
    async def add(
        self,
        interaction: discord.Interaction[Any],
        url: app_commands.Range[str, 1, 2000],
        channel: discord.TextChannel | None = None,
    ) -> None:
        bot = bot_of(interaction)
        await defer(interaction)
        feed, outcome, parsed = await bot.services.feeds.add(
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
        feeds = await bot.blocking(bot.services.feeds.of_scope, str(interaction.guild_id))
        if not feeds:
            message = DiscordMessage("No feeds followed here. Add one with `/feeds add`.", [])
            await send_message(interaction, message)
            return
        await send_text_pages(
            interaction, text_pages("Feeds", [feed_block(f) for f in feeds]), "feeds list"
        )

    @app_commands.command(
        name="suggested", description="Feeds worth following; marks those followed here"
    )
    @app_commands.check(can_manage_guild)
    async def suggested(self, interaction: discord.Interaction[Any]) -> None:
        bot = bot_of(interaction)
        await defer(interaction, ephemeral=True)
        suggestions = await bot.blocking(bot.services.feeds.suggested, str(interaction.guild_id))
        blocks = [suggestion_block(s, f) for s, f in suggestions]
        if any(f is None for _, f in suggestions):
            blocks.append("Follow one with `/feeds add`: its url option offers these.")
        if not blocks:
            blocks.append("No suggested feeds: the list is empty.")
        # Every page says ephemeral: only the first followup of an ephemeral deferral is
        # private by itself.
        for page in text_pages("Suggested feeds", blocks):
            await send_message(interaction, page, ephemeral=True)

    @app_commands.command(name="remove", description="Stop following a feed (its items stay)")
    @app_commands.describe(feed="the feed's number or URL (see /feeds list)")
    @app_commands.autocomplete(feed=feed_autocomplete)
    @app_commands.check(can_manage_guild)
    async def remove(
        self, interaction: discord.Interaction[Any], feed: app_commands.Range[str, 1, 2000]
    ) -> None:
        bot = bot_of(interaction)
        await defer(interaction)
        removed = await bot.blocking(bot.services.feeds.remove, feed, str(interaction.guild_id))
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
        resumed = await bot.blocking(bot.services.feeds.enable, feed, str(interaction.guild_id))
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
        result, parsed = await bot.services.feeds.test(url, bot.resolver)
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
