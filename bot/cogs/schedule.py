"""``/schedule set|show|clear|post-now`` (Manage Server) and ``/digest`` (anyone).

The store is the source of truth; after a change the running scheduler re-reads it at once
(``Scheduler.refresh``). ``/schedule show`` says when a schedule was disabled and why (a
permission removed, a channel deleted), so a stop is never silent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import manage_guild_only
from bot.cogs.common import NO_MENTIONS, bot_of, choices, defer, send_brief
from bot.errors import user_message
from bot.services.digests import DigestService
from briefs.errors import BriefbotError
from briefs.schedules import WEEKDAYS

if TYPE_CHECKING:
    from bot.app import BriefBot

KIND_CHOICES = [
    app_commands.Choice(name="daily", value="daily"),
    app_commands.Choice(name="weekly", value="weekly"),
]
WEEKDAY_CHOICES = [app_commands.Choice(name=d.capitalize(), value=d) for d in WEEKDAYS]
COMMON_ZONES = [
    "UTC",
    "Europe/Kyiv",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Seoul",
    "Asia/Tokyo",
]


def _service(bot: BriefBot) -> tuple[DigestService, aiohttp.ClientSession | None]:
    """The running scheduler's service, or a one-off one with its own HTTP session (for
    webhook posts) when the scheduler is not running."""
    if bot.scheduler is not None:
        return bot.scheduler.service, None
    session = aiohttp.ClientSession()
    return DigestService(bot.services, client=bot, session=session, blocking=bot.blocking), session


def _refresh(bot: BriefBot) -> None:
    """Make the running scheduler re-read the store now (a schedule was set or cleared)."""
    if bot.scheduler is not None:
        bot.scheduler.refresh()


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _said(exc: BriefbotError) -> str:
    """The engine's message, naming slash commands where it names command-line ones."""
    return user_message(exc) or str(exc)


async def _reply(interaction: discord.Interaction[Any], text: str) -> None:
    await interaction.followup.send(text[:1900], ephemeral=True, allowed_mentions=NO_MENTIONS)


class ScheduleCog(commands.Cog):
    schedule = app_commands.Group(
        name="schedule",
        description="Scheduled digests for this server",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: BriefBot) -> None:
        self.bot = bot
        self.schedules = bot.services.schedules

    @schedule.command(name="set", description="Post a digest to a channel every day or week")
    @app_commands.describe(
        channel="where to post (the bot needs Send Messages and Embed Links there)",
        time="local time, HH:MM on a 24-hour clock",
        timezone="IANA time zone, e.g. Europe/Kyiv",
        kind="daily (default) or weekly",
        weekday="for weekly digests",
        topics="only these topics, separated by commas",
        entities="only statements naming these entities, separated by commas",
    )
    @app_commands.choices(kind=KIND_CHOICES, weekday=WEEKDAY_CHOICES)
    @manage_guild_only()
    async def set_(
        self,
        interaction: discord.Interaction[Any],
        channel: discord.TextChannel,
        time: app_commands.Range[str, 4, 5],
        timezone: app_commands.Range[str, 1, 64] = "UTC",
        kind: str = "daily",
        weekday: str | None = None,
        topics: str | None = None,
        entities: str | None = None,
    ) -> None:
        await defer(interaction, ephemeral=True)
        bot = bot_of(interaction)
        guild_id = str(interaction.guild_id)

        def save() -> str:
            saved = self.schedules.set(
                guild_id,
                kind=kind,
                time=time,
                timezone=timezone,
                weekday=weekday,
                channel_id=str(channel.id),
                topics=_split(topics),
                entities=_split(entities),
            )
            return (
                f"Schedule {saved.schedule.id}: {saved.schedule.timing.describe()} "
                f"to <#{channel.id}>. Next digest <t:{int(saved.next_digest.timestamp())}:F>."
            )

        try:
            text = await bot.blocking(save)
        except BriefbotError as exc:
            await _reply(interaction, f"Not saved: {_said(exc)}")
            return
        _refresh(bot)
        await _reply(interaction, text)

    @schedule.command(name="show", description="This server's schedules, next digests, problems")
    @manage_guild_only()
    async def show_(self, interaction: discord.Interaction[Any]) -> None:
        await defer(interaction, ephemeral=True)
        bot = bot_of(interaction)
        guild_id = str(interaction.guild_id)

        def report() -> str:
            found = self.schedules.status(guild_id, recent=3)
            if not found:
                return "No schedules here. Add one with `/schedule set`."
            listing = "\n\n".join(status.text() for status in found)
            return f"```\n{listing}\n```"

        await _reply(interaction, await bot.blocking(report))

    @schedule.command(name="clear", description="Delete a schedule")
    @app_commands.describe(schedule="the schedule id (see /schedule show) or its channel id")
    @manage_guild_only()
    async def clear(self, interaction: discord.Interaction[Any], schedule: str) -> None:
        await defer(interaction, ephemeral=True)
        bot = bot_of(interaction)
        guild_id = str(interaction.guild_id)

        def remove() -> str:
            return f"Schedule {self.schedules.clear(schedule, guild_id).id} cleared."

        try:
            text = await bot.blocking(remove)
        except BriefbotError as exc:
            await _reply(interaction, _said(exc))
            return
        _refresh(bot)
        await _reply(interaction, text)

    @clear.autocomplete("schedule")
    async def _schedules(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        bot = bot_of(interaction)
        found = await bot.blocking(self.schedules.of_scope, str(interaction.guild_id))
        return choices(((s.describe(), str(s.id)) for s in found), current)

    @schedule.command(name="post-now", description="Post what is new since the last digest, now")
    @app_commands.describe(schedule="the schedule id (see /schedule show)")
    @manage_guild_only()
    async def post_now(self, interaction: discord.Interaction[Any], schedule: str) -> None:
        await defer(interaction, ephemeral=True)
        bot = bot_of(interaction)
        try:
            found = await bot.blocking(self.schedules.find, schedule, str(interaction.guild_id))
        except BriefbotError as exc:
            await _reply(interaction, _said(exc))
            return
        service, session = _service(bot)
        try:
            result = await service.post_now(found.id)
        finally:
            if session is not None:
                await session.close()
        text = {
            "sent": f"Posted ({len(result.message_ids)} messages).",
            "empty": "Nothing new since the last digest; nothing posted.",
            "taken": "A digest for this moment was just posted.",
            "disabled": f"Could not post; the schedule is now disabled: {result.error}",
        }.get(result.status, f"Could not post: {result.error or result.status}")
        await _reply(interaction, text)

    post_now.autocomplete("schedule")(_schedules)

    @app_commands.command(name="digest", description="The digest a schedule would post now")
    @app_commands.describe(topics="only these topics, comma-separated", entities="only these")
    async def digest(
        self,
        interaction: discord.Interaction[Any],
        topics: str | None = None,
        entities: str | None = None,
    ) -> None:
        await defer(interaction, ephemeral=True)
        bot = bot_of(interaction)
        guild_id = str(interaction.guild_id) if interaction.guild_id else ""
        # A preview posts nothing: no HTTP session needed.
        service = DigestService(bot.services, client=bot, blocking=bot.blocking)
        try:
            brief = await bot.blocking(
                service.preview, guild_id, topics=_split(topics), entities=_split(entities)
            )
        except BriefbotError as exc:
            await _reply(interaction, _said(exc))
            return
        await send_brief(interaction, brief, ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ScheduleCog(bot))  # type: ignore[arg-type]
