"""/source: where a statement came from, with its neighbours, outlet, date and link."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs.common import answer_brief, bot_of, choices, defer, scope
from briefs.compose.lookup import parse_ref


async def ref_autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """The citations the caller was shown last (a brief, a search), matching what is typed."""
    return choices(bot_of(interaction).recent_citations.of(interaction.user.id), current)


class Sources(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="source", description="Where a statement came from")
    @app_commands.describe(
        ref="a citation like 29979d9ea9c5:4 (or a document id)",
        context="neighbouring sentences to show on each side (1 to 5)",
    )
    @app_commands.autocomplete(ref=ref_autocomplete)
    async def source(
        self,
        interaction: discord.Interaction[Any],
        ref: app_commands.Range[str, 1, 100],
        context: app_commands.Range[int, 1, 5] = 1,
    ) -> None:
        parse_ref(ref)  # a malformed reference is the caller's to fix, before any wait
        bot = bot_of(interaction)
        await defer(interaction)
        visible = scope(interaction)
        await answer_brief(interaction, lambda: bot.services.briefs.source(ref, context, visible))


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Sources(bot))
