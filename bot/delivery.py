"""Sending a digest to Discord: to a channel through the bot, or to a webhook URL.

Errors are handled by kind, and every outcome is data (``DeliveryFailed``) for the caller to
record in the ledger; nothing stops silently:

- 429: discord.py waits as told and retries; when it still ends in a 429 (or a wait longer
  than its limit), this module waits ``retry_after`` once more if that is at most
  ``max_rate_limit_wait``, else the delivery fails (the next digest covers its items);
- 5xx and network errors: retried with a doubling backoff, ``retries`` times at most;
  channel messages carry a nonce Discord enforces, so a retry after a 5xx that did post
  returns the same message instead of a second one;
- 403 (50013 missing permissions, 50001 missing access), 404 (10003 unknown channel,
  10015 unknown webhook) and 401 (a webhook token that no longer works): the target is gone
  or closed to the bot; the caller disables the schedule with the reason;
- anything else (a 400: a rendering bug): the delivery fails, logged with the details.

Every message is sent with ``allowed_mentions=AllowedMentions.none()``.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import aiohttp
import discord

from bot.discord_render import DiscordMessage
from briefs.errors import InputError
from briefs.store.schedules import Schedule, mask_webhook

log = logging.getLogger("briefbot.delivery")
NO_MENTIONS = discord.AllowedMentions.none()
# What discord.Webhook.from_url accepts.
_WEBHOOK_URL = re.compile(r"discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9.\-_]{60,}")
Sleep = Callable[[float], Awaitable[None]]
Action = Literal["disable", "retry", "rate_limited", "fail"]
# Discord's JSON error codes that mean "this target is gone or closed to us".
GONE_CODES = {
    10003: "unknown channel",
    10004: "unknown server",
    10015: "unknown webhook",
    50001: "missing access",
    50013: "missing permissions",
    50027: "invalid webhook token",
}


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3
    backoff: float = 5.0
    max_backoff: float = 300.0
    max_rate_limit_wait: float = 600.0


@dataclass(frozen=True)
class Failure:
    """What went wrong with one attempt, and what to do about it."""

    action: Action
    reason: str
    status: int | None = None
    code: int | None = None
    retry_after: float | None = None


class DeliveryFailed(Exception):
    """A digest could not be (fully) sent; ``sent`` holds the ids of messages that were."""

    def __init__(self, failure: Failure, sent: Sequence[str] = ()) -> None:
        super().__init__(failure.reason)
        self.failure = failure
        self.sent = list(sent)

    @property
    def disables(self) -> bool:
        return self.failure.action == "disable"


class Target(Protocol):
    """Where a digest goes. ``send`` posts one message and returns its id."""

    label: str

    async def send(self, message: DiscordMessage, nonce: str, markdown: str | None) -> str: ...


def classify(exc: BaseException) -> Failure:
    """Sort an exception from sending into what to do next."""
    if isinstance(exc, discord.RateLimited):
        reason = f"Discord answered 429 (rate limited for {exc.retry_after:.0f} s)"
        return Failure("rate_limited", reason, 429, None, exc.retry_after)
    if isinstance(exc, LocalRefusal):
        action: Action = "disable" if exc.status in (401, 403, 404) else "fail"
        return Failure(action, exc.text, exc.status, exc.code or None)
    if isinstance(exc, discord.HTTPException):
        status, code = exc.status, exc.code or None
        what = GONE_CODES.get(exc.code, "") or (exc.text or "").strip()[:120]
        reason = f"Discord answered {status}" + (
            f" ({what}, code {code})" if code else f" ({what})" if what else ""
        )
        if status in (401, 403, 404) or exc.code in GONE_CODES:
            return Failure("disable", reason, status, code)
        if status == 429:
            return Failure("rate_limited", reason, status, code, _retry_after(exc))
        if status >= 500:
            return Failure("retry", reason, status, code)
        return Failure("fail", reason, status, code)
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | OSError):
        return Failure("retry", f"network error: {type(exc).__name__}: {exc}"[:200])
    return Failure("fail", f"{type(exc).__name__}: {exc}"[:200])


def _retry_after(exc: discord.HTTPException) -> float | None:
    response: Any = exc.response
    headers = getattr(response, "headers", None) or {}
    for key in ("Retry-After", "X-RateLimit-Reset-After"):
        try:
            if key in headers:
                return float(headers[key])
        except (TypeError, ValueError):
            pass
    try:
        data = json.loads(exc.text) if exc.text else {}
        value = data.get("retry_after") if isinstance(data, dict) else None
        return float(value) if value is not None else None
    except (ValueError, TypeError):
        return None


def nonce_for(key: str, part: int) -> str:
    """A nonce (at most 25 characters) that is the same for the same window and part."""
    return hashlib.sha256(f"{key}#{part}".encode()).hexdigest()[:25]


async def send_all(
    target: Target,
    messages: Sequence[DiscordMessage],
    *,
    key: str,
    policy: RetryPolicy,
    sleep: Sleep = asyncio.sleep,
    on_sent: Callable[[list[str]], Awaitable[None]] | None = None,
    markdown: str | None = None,
) -> list[str]:
    """Send ``messages`` in order; return their ids, or raise ``DeliveryFailed``."""
    sent: list[str] = []
    for part, message in enumerate(messages):
        nonce = nonce_for(key, part)
        attempt = 0
        waited_for_rate_limit = False
        while True:
            try:
                message_id = await target.send(message, nonce, markdown)
                break
            except Exception as exc:
                failure = classify(exc)
                if failure.action == "retry" and attempt < policy.retries:
                    delay = min(policy.max_backoff, policy.backoff * 2**attempt)
                    attempt += 1
                    log.warning(
                        "delivery to %s: %s; retry %d of %d in %.0f s",
                        target.label,
                        failure.reason,
                        attempt,
                        policy.retries,
                        delay,
                    )
                    await sleep(delay)
                    continue
                if failure.action == "rate_limited" and not waited_for_rate_limit:
                    wait = (
                        failure.retry_after if failure.retry_after is not None else policy.backoff
                    )
                    if wait <= policy.max_rate_limit_wait:
                        waited_for_rate_limit = True
                        log.warning(
                            "delivery to %s: %s; waiting %.1f s as told",
                            target.label,
                            failure.reason,
                            wait,
                        )
                        await sleep(wait)
                        continue
                raise DeliveryFailed(failure, sent) from exc
        sent.append(message_id)
        if on_sent is not None:
            await on_sent(list(sent))
    return sent


def _embeds(message: DiscordMessage) -> list[discord.Embed]:
    return [discord.Embed.from_dict(e) for e in message.embeds]


def _kwargs(message: DiscordMessage, markdown: str | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
    if message.content:
        kwargs["content"] = message.content
    if message.embeds:
        kwargs["embeds"] = _embeds(message)
    if message.attach_markdown and markdown:
        kwargs["file"] = discord.File(io.BytesIO(markdown.encode("utf-8")), filename="digest.md")
    return kwargs


class ChannelTarget:
    """A text channel, through the bot's connection."""

    def __init__(self, client: discord.Client, channel_id: str) -> None:
        self.client = client
        self.channel_id = int(channel_id)
        self.label = f"channel {channel_id}"

    async def channel(self) -> Any:
        # No cache needed: a partial channel posts by id (a gone channel answers 404).
        found: Any = self.client.get_channel(self.channel_id)
        if found is None:
            found = self.client.get_partial_messageable(self.channel_id)
        if not hasattr(found, "send"):
            raise _local_error(400, 50008, "not a text channel")
        return found

    async def send(self, message: DiscordMessage, nonce: str, markdown: str | None) -> str:
        channel = await self.channel()
        sent = await channel.send(nonce=nonce, **_kwargs(message, markdown))
        return str(sent.id)


class WebhookTarget:
    """A webhook URL (no bot needed); the URL is a secret and only shown masked."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session = session
        self.url = url
        self.label = f"webhook {mask_webhook(url)}"

    async def send(self, message: DiscordMessage, nonce: str, markdown: str | None) -> str:
        try:
            webhook = discord.Webhook.from_url(self.url, session=self.session)
        except ValueError:
            raise _local_error(404, 10015, "not a Discord webhook URL") from None
        sent = await webhook.send(wait=True, **_kwargs(message, markdown))
        return str(sent.id)


def check_webhook_url(url: str) -> str:
    """A Discord webhook URL, stripped; anything else is an InputError (token never shown)."""
    cleaned = url.strip()
    if _WEBHOOK_URL.search(cleaned) is None:
        raise InputError(
            f"{mask_webhook(cleaned)} is not a Discord webhook URL "
            "(https://discord.com/api/webhooks/ID/TOKEN, from the channel's Integrations)"
        )
    return cleaned


class LocalRefusal(discord.HTTPException):
    """A problem found before asking Discord, handled like Discord's answer of the same kind."""


class _FakeResponse:
    """Enough of an aiohttp response for discord.HTTPException, for errors found locally."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.reason = "local check"
        self.headers: dict[str, str] = {}


def _local_error(status: int, code: int, message: str) -> discord.HTTPException:
    """An HTTPException for a problem found before asking Discord (same handling after)."""
    fake: Any = _FakeResponse(status)
    return LocalRefusal(fake, {"code": code, "message": message})


def target_for(
    schedule: Schedule, client: discord.Client | None, session: aiohttp.ClientSession | None
) -> Target:
    """The Target of a schedule: its webhook, or its channel through the bot."""
    if schedule.webhook_url:
        if session is None:
            raise RuntimeError("webhook delivery needs an aiohttp session")
        return WebhookTarget(session, schedule.webhook_url)
    if client is None or schedule.channel_id is None:
        raise DeliveryFailed(
            Failure("fail", "channel delivery needs the bot running (briefbot run)")
        )
    return ChannelTarget(client, schedule.channel_id)


async def tell_guild(client: discord.Client | None, schedule: Schedule, reason: str) -> bool:
    """Tell a guild its schedule was disabled, in its system channel when the bot can post
    there (cheap and best effort; ``/schedule show`` says it in any case)."""
    if client is None or schedule.scope_id is None or not schedule.scope_id.isdigit():
        return False
    guild = client.get_guild(int(schedule.scope_id))
    channel = getattr(guild, "system_channel", None)
    if channel is None:
        return False
    text = (
        f"briefbot: the digest schedule {schedule.id} ({schedule.target}) is disabled: "
        f"{reason}. Someone with Manage Server can fix it and run `/schedule set` again."
    )
    try:
        await channel.send(text, allowed_mentions=NO_MENTIONS)
    except Exception as exc:  # the notice is best effort; the reason is stored and logged
        log.info(
            "could not tell server %s about schedule %s: %s", schedule.scope_id, schedule.id, exc
        )
        return False
    return True
