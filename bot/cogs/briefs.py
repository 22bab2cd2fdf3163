"""/brief, /timeline, /entity and /stories: sourced briefs of what the server sees."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs.common import (
    FORMAT_CHOICES,
    Format,
    answer_brief,
    answer_pages,
    bot_of,
    choices,
    defer,
    scope,
)
from bot.services.shared import days_window

Days = app_commands.Range[int, 1, 365]


async def topic_autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    services = bot_of(interaction).services
    return choices(((label, key) for key, label in services.briefs.topic_names()), current)


async def entity_autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    services = bot_of(interaction).services
    typed = current.strip().casefold()
    found: list[tuple[str, str]] = []
    for name, aliases in services.briefs.entity_names():
        # Suggest the entity by its name when the typed text starts any of its aliases.
        if typed and not any(typed in a.casefold() for a in (name, *aliases)):
            continue
        found.append((name, name))
    found.sort(key=lambda pair: (not pair[0].casefold().startswith(typed), pair[0]))
    return choices(found, "")


class Briefs(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="brief", description="A sourced brief: every statement verbatim")
    @app_commands.describe(
        topic="only statements on this topic",
        entity="only statements naming this person, state, organisation or weapon",
        days="only sources published in the last N days (1 to 365)",
        query="only statements matching these words",
        format="how to deliver it (default: embeds with a Markdown file)",
    )
    @app_commands.choices(format=FORMAT_CHOICES)
    @app_commands.autocomplete(topic=topic_autocomplete, entity=entity_autocomplete)
    async def brief(
        self,
        interaction: discord.Interaction[Any],
        topic: str | None = None,
        entity: str | None = None,
        days: Days | None = None,
        query: app_commands.Range[str, 1, 200] | None = None,
        format: str = "embed",
    ) -> None:
        bot = bot_of(interaction)
        if topic:
            bot.services.lexicon.topic(topic)  # unknown: an error listing the known topics
        await defer(interaction)
        since, until = days_window(bot.services.clock(), days)
        visible = scope(interaction)
        fmt: Format = (
            "markdown" if format == "markdown" else "html" if format == "html" else "embed"
        )
        await answer_brief(
            interaction,
            lambda: bot.services.briefs.brief(
                topic=topic, entity=entity, query=query, since=since, until=until, visible=visible
            ),
            fmt,
        )

    @app_commands.command(name="timeline", description="Dated statements in date order")
    @app_commands.describe(
        entity="only statements naming this entity",
        days="only sources published in the last N days (1 to 365)",
    )
    @app_commands.autocomplete(entity=entity_autocomplete)
    async def timeline(
        self,
        interaction: discord.Interaction[Any],
        entity: str | None = None,
        days: Days | None = None,
    ) -> None:
        bot = bot_of(interaction)
        await defer(interaction)
        since, until = days_window(bot.services.clock(), days)
        visible = scope(interaction)
        await answer_brief(
            interaction,
            lambda: bot.services.briefs.timeline(entity, None, since, until, 40, visible),
        )

    @app_commands.command(name="entity", description="Profile of a person, state, organisation")
    @app_commands.describe(name="a name or alias from the gazetteer")
    @app_commands.autocomplete(name=entity_autocomplete)
    async def entity(
        self, interaction: discord.Interaction[Any], name: app_commands.Range[str, 1, 100]
    ) -> None:
        bot = bot_of(interaction)
        await defer(interaction)
        visible = scope(interaction)
        await answer_brief(interaction, lambda: bot.services.briefs.entity(name, visible))

    @app_commands.command(name="stories", description="Events reported across outlets, paged")
    @app_commands.describe(days="only sources published in the last N days (1 to 365)")
    async def stories(
        self, interaction: discord.Interaction[Any], days: Days | None = None
    ) -> None:
        bot = bot_of(interaction)
        await defer(interaction)
        since, until = days_window(bot.services.clock(), days)
        visible = scope(interaction)
        await answer_pages(
            interaction,
            lambda: bot.services.briefs.stories(since, until, visible),
            "stories",
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Briefs(bot))
