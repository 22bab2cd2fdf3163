"""What every cog shares: acknowledging in time, sending briefs and pages, autocomplete.

The pattern of a command that touches the store: ``await defer(interaction)`` first (the
acknowledgement Discord wants within 3 seconds), then the engine in a worker thread
(``bot.blocking``), then the answer as followups. Every send allows no mentions.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands

from bot.discord_render import DiscordMessage, page_results, render_for_discord
from bot.services.shared import Services, visibility
from bot.views import Pager, embeds_of
from briefs.brief import Brief
from briefs.store import Visibility

if TYPE_CHECKING:
    from bot.app import BriefBot

NO_MENTIONS = discord.AllowedMentions.none()
MAX_CHOICES = 25  # Discord's cap on autocomplete suggestions
Format = Literal["embed", "markdown", "html"]
FORMAT_CHOICES = [
    app_commands.Choice(name="embeds, with the full brief attached as Markdown", value="embed"),
    app_commands.Choice(name="a Markdown file only", value="markdown"),
    app_commands.Choice(name="embeds, with a printable HTML page attached", value="html"),
]
# Brief messages sent for one command at most; the rest is in the attached file.
MAX_MESSAGES = 5


def bot_of(interaction: discord.Interaction[Any]) -> BriefBot:
    from bot.app import BriefBot

    client = interaction.client
    assert isinstance(client, BriefBot)
    return client


def scope(interaction: discord.Interaction[Any]) -> Visibility:
    """What the caller's server sees (in direct messages: seeds and files only)."""
    return visibility(interaction.guild_id)


async def defer(interaction: discord.Interaction[Any], *, ephemeral: bool = False) -> None:
    """Acknowledge now ("briefbot is thinking…"); the answer follows."""
    if not interaction.response.is_done():
        await interaction.response.defer(thinking=True, ephemeral=ephemeral)


def _file(text: str, name: str) -> discord.File:
    return discord.File(io.BytesIO(text.encode("utf-8")), filename=name)


def file_stem(brief: Brief) -> str:
    return f"{brief.kind}-{brief.generated_at:%Y%m%d-%H%M}"


async def send_message(
    interaction: discord.Interaction[Any],
    message: DiscordMessage,
    *,
    files: Sequence[discord.File] = (),
    view: discord.ui.View | None = None,
    ephemeral: bool = False,
) -> discord.WebhookMessage:
    """One followup; empty content is left out (Discord refuses an empty string)."""
    kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS, "wait": True}
    if message.content:
        kwargs["content"] = message.content
    if message.embeds:
        kwargs["embeds"] = embeds_of(message)
    if files:
        kwargs["files"] = list(files)
    if view is not None:
        kwargs["view"] = view
    if ephemeral:
        kwargs["ephemeral"] = True
    sent: discord.WebhookMessage = await interaction.followup.send(**kwargs)
    return sent


Prepared = tuple[Brief, list[DiscordMessage], list[discord.File]]


def _prepare(services: Services, brief: Brief, fmt: Format) -> Prepared:
    """The messages and files of a brief (blocking: templates)."""
    stem = file_stem(brief)
    if fmt == "markdown":
        title = DiscordMessage(f"**{_plain(brief.title)}**: the full brief is attached.", [])
        return brief, [title], [_file(services.render(brief, "md"), f"{stem}.md")]
    messages = render_for_discord(
        brief, services.environment, attach_markdown=True, max_messages=MAX_MESSAGES
    )
    files = [_file(services.render(brief, "md"), f"{stem}.md")]
    if fmt == "html":
        files.append(_file(services.render(brief, "html"), f"{stem}.html"))
    return brief, messages, files


async def _send_prepared(
    interaction: discord.Interaction[Any], prepared: Prepared, *, ephemeral: bool = False
) -> None:
    brief, messages, files = prepared
    remember(interaction, brief)
    for n, message in enumerate(messages):
        last = n == len(messages) - 1
        await send_message(interaction, message, files=files if last else (), ephemeral=ephemeral)


async def send_brief(
    interaction: discord.Interaction[Any],
    brief: Brief,
    fmt: Format = "embed",
    *,
    ephemeral: bool = False,
) -> None:
    """A brief as embeds across as many messages as it needs, the full text attached.
    ``ephemeral``: every message for the caller only (Discord makes only the first followup
    after an ephemeral deferral private by itself)."""
    bot = bot_of(interaction)
    prepared = await bot.blocking(_prepare, bot.services, brief, fmt)
    await _send_prepared(interaction, prepared, ephemeral=ephemeral)


async def answer_brief(
    interaction: discord.Interaction[Any], compose: Callable[[], Brief], fmt: Format = "embed"
) -> None:
    """Compose and render in one worker job, then send: under load each answer leaves as
    soon as its own brief is ready, not after every queued brief is composed."""
    bot = bot_of(interaction)
    services = bot.services
    prepared = await bot.blocking(lambda: _prepare(services, compose(), fmt))
    await _send_prepared(interaction, prepared)


async def answer_pages(
    interaction: discord.Interaction[Any], compose: Callable[[], Brief], command: str
) -> Pager | None:
    """Results one page at a time, with buttons when there is more than one page."""
    bot = bot_of(interaction)
    services = bot.services
    size = bot.discord_settings.page_size

    def work() -> tuple[Brief, list[DiscordMessage]]:
        brief = compose()
        return brief, page_results(brief, size, services.environment)

    brief, pages = await bot.blocking(work)
    remember(interaction, brief)
    if len(pages) == 1:
        await send_message(interaction, pages[0])
        return None
    pager = Pager(pages, interaction.user.id, command)
    pager.message = await send_message(interaction, pages[0], view=pager)
    return pager


async def send_pages(
    interaction: discord.Interaction[Any], brief: Brief, command: str
) -> Pager | None:
    """A composed brief's results, paged (see ``answer_pages``)."""
    return await answer_pages(interaction, lambda: brief, command)


def _plain(text: str, limit: int = 1500) -> str:
    """Source text escaped for a message line and cut to ``limit`` (Discord's count) after
    escaping, never between a backslash and what it escapes: a dangling backslash would
    escape the markup that follows it (the closing ``**`` of the title line)."""
    from bot.discord_render import dlen, escape_source

    out = escape_source(text)
    if dlen(out) <= limit:
        return out
    head = out.encode("utf-16-le")[: 2 * (limit - 1)].decode("utf-16-le", "ignore")
    if (len(head) - len(head.rstrip("\\"))) % 2:
        head = head[:-1]
    return head + "…"


# -- autocomplete -------------------------------------------------------------------------


def choices(candidates: Iterable[tuple[str, str]], current: str) -> list[app_commands.Choice[str]]:
    """Up to 25 (name, value) suggestions: those starting with what was typed, then those
    containing it."""
    typed = current.strip().casefold()
    first: list[tuple[str, str]] = []
    then: list[tuple[str, str]] = []
    for name, value in candidates:
        folded = f"{name} {value}".casefold()
        if not typed or name.casefold().startswith(typed) or value.casefold().startswith(typed):
            first.append((name, value))
        elif typed in folded:
            then.append((name, value))
    picked = [*first, *then][:MAX_CHOICES]
    return [app_commands.Choice(name=n[:100], value=v[:100]) for n, v in picked]


class RecentCitations:
    """The citations each user was last shown, newest first, to suggest them to ``/source``
    (bounded: the latest 200 of each of the latest 1,000 users; one per bot, not global)."""

    def __init__(self, users: int = 1000, per_user: int = 200) -> None:
        self._by_user: OrderedDict[int, list[tuple[str, str]]] = OrderedDict()
        self._users = users
        self._per_user = per_user

    def remember(self, user: int, brief: Brief) -> None:
        titles = {s.ref: s.title for s in brief.sources}
        cited = [c for i in brief.items() for c in i.citations]
        cited += [c for t in brief.timeline for c in t.citations]
        found = [(f"{c.sentence} · {titles.get(c.ref, '')}", c.sentence) for c in cited]
        if not found:
            return
        earlier = self._by_user.pop(user, [])
        self._by_user[user] = list(dict.fromkeys([*found, *earlier]))[: self._per_user]
        while len(self._by_user) > self._users:
            self._by_user.popitem(last=False)

    def of(self, user: int) -> list[tuple[str, str]]:
        return list(self._by_user.get(user, []))


def remember(interaction: discord.Interaction[Any], brief: Brief) -> None:
    """Keep the citations a user was just shown, to suggest them to /source."""
    bot_of(interaction).recent_citations.remember(interaction.user.id, brief)


def text_pages(title: str, blocks: Sequence[str], budget: int = 3800) -> list[DiscordMessage]:
    """Lines of the bot's own text (already escaped) as embed pages within Discord's limits."""
    from bot.discord_render import COLOR, dlen

    pages: list[list[str]] = [[]]
    size = 0
    for block in blocks:
        block = block if dlen(block) <= budget else block[: budget // 2] + "…"
        if pages[-1] and size + dlen(block) + 1 > budget:
            pages.append([])
            size = 0
        pages[-1].append(block)
        size += dlen(block) + 1
    out = []
    for n, page in enumerate(pages, start=1):
        embed: dict[str, Any] = {
            "type": "rich",
            "title": title[:256],
            "description": "\n".join(page) or "—",
            "color": COLOR,
        }
        if len(pages) > 1:
            embed["footer"] = {"text": f"page {n}/{len(pages)}"}
        out.append(DiscordMessage("", [embed]))
    return out


async def send_text_pages(
    interaction: discord.Interaction[Any], pages: Sequence[DiscordMessage], command: str
) -> None:
    if len(pages) == 1:
        await send_message(interaction, pages[0])
        return
    pager = Pager(pages, interaction.user.id, command)
    pager.message = await send_message(interaction, pages[0], view=pager)
