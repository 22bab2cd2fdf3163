"""Checks on who may run a command, enforced by the bot and not only by Discord's defaults.

``default_permissions`` only hides a command from members by default; a server admin can
override it per role or channel. Managing feeds and schedules changes what a whole server
sees, so the bot itself checks Manage Server on every invocation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

T = TypeVar("T")


def can_manage_guild(interaction: discord.Interaction[Any]) -> bool:
    """Whether the caller has Manage Server (or Administrator) in this server."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    permissions = interaction.permissions
    if permissions.manage_guild or permissions.administrator:
        return True
    raise app_commands.MissingPermissions(["manage_guild"])


def manage_guild_only() -> Callable[[T], T]:
    """Decorator: inside a server only, for members with Manage Server; checked each time."""

    def decorate(func: T) -> T:
        func = app_commands.guild_only()(func)
        func = app_commands.default_permissions(manage_guild=True)(func)
        return app_commands.check(can_manage_guild)(func)

    return decorate
