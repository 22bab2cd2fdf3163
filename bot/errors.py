"""How the Discord bot answers when a command fails.

Errors the user can fix (a ``BriefbotError`` but a ``SettingsError``, a refused check, a bad
option) get an ephemeral line that says what to do. Anything else is logged with its context
and an incident id, and the user sees a short apology quoting that id, so the log line is
easy to find. Nothing here ever pings: every reply allows no mentions.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
from typing import Any

import discord
from discord import app_commands

from briefs.errors import BriefbotError, SettingsError, StoreDamaged, StoreReadOnly

log = logging.getLogger("briefbot.discord")
NO_MENTIONS = discord.AllowedMentions.none()
_CLI_HINT = re.compile(r"\bbriefbot (?=search|feeds|entity|source|brief|schedule)")


def incident_id() -> str:
    """A short random id that ties an apology to its log line."""
    return secrets.token_hex(4)


def user_message(error: BaseException) -> str | None:
    """The ephemeral line for an error the user can fix, or None if it is not theirs to fix."""
    if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        original = getattr(error, "original", None) or error.__cause__
        if isinstance(error, app_commands.TransformerError):
            return f"`{error.value}` is not a valid value here; pick one of the suggestions."
        if original is not None:
            return user_message(original)
        return None
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command works only inside a server, not in direct messages."
    if isinstance(error, app_commands.MissingPermissions):
        needed = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
        return f"You need the {needed} permission in this server to do that."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or "You cannot use this command here."
    if isinstance(error, SettingsError | StoreDamaged | StoreReadOnly):
        # The operator's configuration or store, not the user's request (and its path).
        return None
    if isinstance(error, BriefbotError):
        # Services messages name command-line commands; here the same thing is a slash command.
        return _CLI_HINT.sub("/", str(error))
    return None


def _options(interaction: discord.Interaction[Any]) -> dict[str, Any]:
    data: Any = interaction.data or {}
    found: dict[str, Any] = {}

    def walk(options: list[dict[str, Any]], prefix: str) -> None:
        for option in options:
            if "options" in option:
                walk(option["options"], f"{prefix}{option['name']} ")
            else:
                found[f"{prefix}{option['name']}"] = option.get("value")

    walk(list(data.get("options", [])), "")
    return found


async def reply_privately(interaction: discord.Interaction[Any], text: str) -> None:
    """An ephemeral answer, whether or not the interaction was answered or deferred already.

    A public deferral ("thinking…") cannot turn ephemeral, so it is removed first and the
    message follows privately.
    """
    text = text[:1900]
    if not interaction.response.is_done():
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        return
    # An ephemeral deferral, or already gone: the followup is private either way.
    with contextlib.suppress(discord.HTTPException):
        await interaction.delete_original_response()
    await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


async def on_app_command_error(
    interaction: discord.Interaction[Any], error: app_commands.AppCommandError
) -> None:
    """The tree's error handler: a private hint, or a logged incident and an apology."""
    message = user_message(error)
    if message is None:
        incident = incident_id()
        original = getattr(error, "original", error)
        command = interaction.command.qualified_name if interaction.command else "?"
        log.error(
            "incident %s: /%s failed (guild %s, channel %s, user %s, options %r)",
            incident,
            command,
            interaction.guild_id,
            interaction.channel_id,
            interaction.user.id,
            _options(interaction),
            exc_info=(type(original), original, original.__traceback__),
        )
        message = (
            f"Sorry, something went wrong on our side (incident `{incident}`). "
            "It has been logged; quote the id if you report it."
        )
    else:
        log.info("/%s refused: %s", interaction.command and interaction.command.name, message)
    try:
        await reply_privately(interaction, message)
    except discord.HTTPException as exc:  # the interaction expired, or Discord is down
        log.warning("could not tell the user about an error: %s", exc)
