"""/about: what this bot is, which version, what it knows here, and when the next digest is."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs.common import bot_of, defer, scope, send_message
from bot.discord_render import COLOR, DiscordMessage
from briefs import __version__


class About(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="about", description="Version, corpus size, feeds, next digest")
    async def about(self, interaction: discord.Interaction[Any]) -> None:
        bot = bot_of(interaction)
        await defer(interaction, ephemeral=True)
        guild = str(interaction.guild_id) if interaction.guild_id is not None else None
        documents = await bot.blocking(bot.services.briefs.corpus_size, scope(interaction))
        feeds = await bot.blocking(bot.services.feeds.of_scope, guild) if guild else []
        next_digest = bot.next_digest(interaction.guild_id) if bot.next_digest else None
        lines = [
            "Sourced briefs on sanctions and arms-trade news: every statement is a verbatim "
            "source sentence with its citation; `/source` shows where it came from.",
            "",
            f"**Version** {__version__}",
            f"**Documents visible here** {documents:,}",
            f"**Feeds followed here** {len(feeds)}"
            + (f" ({sum(1 for f in feeds if not f.enabled)} disabled)" if feeds else ""),
            "**Next digest** "
            + (f"<t:{int(next_digest.timestamp())}:f>" if next_digest else "none scheduled"),
        ]
        embed: dict[str, Any] = {
            "type": "rich",
            "title": "briefbot",
            "description": "\n".join(lines),
            "color": COLOR,
        }
        await send_message(interaction, DiscordMessage("", [embed]), ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(About(bot))
