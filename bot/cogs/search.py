"""/search: stored statements matching a query, best first, paged for the caller."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs.common import answer_pages, bot_of, defer, scope
from bot.services.shared import days_window

RESULTS = 50  # results fetched per search; shown a page at a time


class Search(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="search", description="Statements matching words, with citations")
    @app_commands.describe(
        query="words to find (all of them; else any)",
        days="only sources published in the last N days (1 to 365)",
    )
    async def search(
        self,
        interaction: discord.Interaction[Any],
        query: app_commands.Range[str, 1, 200],
        days: app_commands.Range[int, 1, 365] | None = None,
    ) -> None:
        bot = bot_of(interaction)
        await defer(interaction)
        since, until = days_window(bot.services.clock(), days)
        visible = scope(interaction)
        await answer_pages(
            interaction,
            lambda: bot.services.briefs.search(query, RESULTS, since, until, visible),
            "search",
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Search(bot))
