"""Paging buttons for long results (/search, /stories): only the caller can turn the pages."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import discord

from bot.discord_render import DiscordMessage

log = logging.getLogger("briefbot.discord")
NO_MENTIONS = discord.AllowedMentions.none()
TIMEOUT = 600.0  # seconds of no clicks after which the buttons go away


def embeds_of(message: DiscordMessage) -> list[discord.Embed]:
    return [discord.Embed.from_dict(e) for e in message.embeds]


class Pager(discord.ui.View):
    """Previous/next buttons over pre-rendered pages, usable by ``owner_id`` alone."""

    def __init__(
        self, pages: Sequence[DiscordMessage], owner_id: int, command: str, timeout: float = TIMEOUT
    ) -> None:
        super().__init__(timeout=timeout)
        if not pages:
            raise ValueError("a pager needs at least one page")
        self.pages = list(pages)
        self.owner_id = owner_id
        self.command = command
        self.index = 0
        self.message: discord.InteractionMessage | discord.WebhookMessage | None = None
        self._sync()

    def _sync(self) -> None:
        self.previous.disabled = self.index == 0
        self.next.disabled = self.index >= len(self.pages) - 1

    def page_kwargs(self) -> dict[str, Any]:
        page = self.pages[self.index]
        return {
            "content": page.content or None,
            "embeds": embeds_of(page),
            "view": self,
            "allowed_mentions": NO_MENTIONS,
        }

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(
            f"These pages belong to whoever ran /{self.command}; run it yourself to page through.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        return False

    async def _turn(self, interaction: discord.Interaction[Any], step: int) -> None:
        self.index = max(0, min(len(self.pages) - 1, self.index + step))
        self._sync()
        await interaction.response.edit_message(**self.page_kwargs())

    @discord.ui.button(label="◀ Previous", style=discord.ButtonStyle.secondary)
    async def previous(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Pager]
    ) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label="Next ▶", style=discord.ButtonStyle.secondary)
    async def next(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Pager]
    ) -> None:
        await self._turn(interaction, +1)

    async def on_timeout(self) -> None:
        """Take the buttons away, so nobody presses a dead one."""
        if self.message is None:
            return
        try:
            await self.message.edit(view=None, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.info("could not remove the paging buttons: %s", exc)
