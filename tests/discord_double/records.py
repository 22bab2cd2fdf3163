"""What the Discord double knows and records: the world (guilds, channels, roles, members,
webhooks) and what the bot did (requests, messages, interaction callbacks, violations).

Plain dataclasses, so tests assert on them directly; payload builders emit the JSON shapes
discord.py 2.x parses.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

JSON = dict[str, Any]


class CallbackType(IntEnum):
    """Interaction callback types (what the bot answered an interaction with)."""

    PONG = 1
    MESSAGE = 4
    DEFERRED_MESSAGE = 5
    DEFERRED_UPDATE = 6
    UPDATE_MESSAGE = 7
    AUTOCOMPLETE = 8
    MODAL = 9


class Notifier:
    """Wakes waiters whenever the double records something, so tests wait for a condition
    with a timeout instead of sleeping a fixed time."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        """Wake every waiter to re-check its condition."""
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float, what: Callable[[], str]
    ) -> Any:
        """Return the first truthy ``predicate()``; AssertionError naming ``what()`` after
        ``timeout`` seconds. Re-checked when the double records something, and every
        10 ms for state the bot changes without a request (its own lists, handlers)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (result := predicate()):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout} s waiting for {what()}")
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.add(waiter)
            try:
                await asyncio.wait({waiter}, timeout=min(remaining, 0.01))
            finally:
                self._waiters.discard(waiter)
        return result


@dataclass
class Role:
    id: int
    name: str
    permissions: int = 0
    position: int = 0
    mentionable: bool = False

    def payload(self) -> JSON:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": False,
            "mentionable": self.mentionable,
            "flags": 0,
        }


@dataclass
class Channel:
    id: int
    guild_id: int | None
    name: str
    type: int = 0  # 0 text, 2 voice, 4 category, 5 announcement, 15 forum
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None

    def payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None if self.parent_id is None else str(self.parent_id),
            "flags": 0,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.type in (0, 5):
            data.update(topic=self.topic, last_message_id=None, rate_limit_per_user=0)
        return data


@dataclass
class Member:
    """A user in a guild; ``permissions`` is what an interaction reports for them."""

    id: int
    username: str
    permissions: int
    roles: list[int] = field(default_factory=list)
    bot: bool = False

    def user_payload(self) -> JSON:
        return {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.username.title(),
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }

    def member_payload(self, *, with_permissions: bool = False) -> JSON:
        data: JSON = {
            "user": self.user_payload(),
            "nick": None,
            "avatar": None,
            "roles": [str(r) for r in self.roles],
            "joined_at": "2025-01-01T00:00:00+00:00",
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_permissions:
            data["permissions"] = str(self.permissions)
        return data


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    channels: list[Channel] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    preferred_locale: str = "en-US"
    # Where Discord posts system notices (and bots tell a server's managers things); set it
    # before the client connects.
    system_channel_id: int | None = None

    def channel(self, name: str) -> Channel:
        """The channel called ``name`` (KeyError if there is none)."""
        for channel in self.channels:
            if channel.name == name:
                return channel
        raise KeyError(name)

    def role(self, name: str) -> Role:
        for role in self.roles:
            if role.name == name:
                return role
        raise KeyError(name)

    def member(self, username: str) -> Member:
        for member in self.members:
            if member.username == username:
                return member
        raise KeyError(username)

    @property
    def text_channel(self) -> Channel:
        """The first text channel (where interactions happen unless a test says otherwise)."""
        return next(c for c in self.channels if c.type == 0)

    def payload(self) -> JSON:
        """The partial guild of REST ``GET /guilds/{id}``."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [r.payload() for r in self.roles],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": (
                str(self.system_channel_id) if self.system_channel_id is not None else None
            ),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "preferred_locale": self.preferred_locale,
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "approximate_member_count": len(self.members),
        }

    def create_payload(self, bot: Member) -> JSON:
        """The GUILD_CREATE event data: the guild with channels, roles and the bot member."""
        data = self.payload()
        data.update(
            unavailable=False,
            large=False,
            member_count=len(self.members),
            joined_at="2025-01-01T00:00:00+00:00",
            channels=[
                {k: v for k, v in c.payload().items() if k != "guild_id"} for c in self.channels
            ],
            threads=[],
            members=[bot.member_payload()],
            voice_states=[],
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
        )
        return data


@dataclass
class Webhook:
    id: int
    token: str
    channel_id: int
    guild_id: int | None
    name: str
    url: str  # the double's execute URL (plain HTTP, for any HTTP client)
    discord_url: str  # https://discord.com/api/webhooks/<id>/<token>, for Webhook.from_url

    def payload(self) -> JSON:
        return {
            "id": str(self.id),
            "type": 1,
            "guild_id": None if self.guild_id is None else str(self.guild_id),
            "channel_id": str(self.channel_id),
            "name": self.name,
            "avatar": None,
            "token": self.token,
            "application_id": None,
        }


@dataclass
class FileRecord:
    """A file attached to a message (multipart ``files[n]``)."""

    field: str
    filename: str
    content: bytes
    content_type: str
    id: int = 0  # the attachment id the double gave it

    @property
    def text(self) -> str:
        return self.content.decode("utf-8")


@dataclass
class RequestRecord:
    """One HTTP request the double answered (path without the ``/api/v10`` prefix)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any  # parsed JSON (or payload_json of a multipart body), else None
    status: int = 0
    at: float = 0.0  # loop.time() when it arrived


@dataclass
class Violation:
    """A request Discord would have refused (the double answered it with ``status``)."""

    method: str
    path: str
    status: int
    code: int
    message: str
    errors: JSON
    body: Any
    interaction_id: int | None = None

    def __str__(self) -> str:
        return (
            f"{self.method} {self.path} -> {self.status} {self.code} {self.message} {self.errors}"
        )


@dataclass
class Ping:
    """A notification a message would have caused: @everyone/@here, a user or a role."""

    message_id: int
    kind: str  # "everyone", "here", "user", "role", "replied_user"
    target: int | None = None


MESSAGE_FLAG_EPHEMERAL = 1 << 6
MESSAGE_FLAG_LOADING = 1 << 7

_USER_MENTION = re.compile(r"<@!?(\d{15,21})>")
_ROLE_MENTION = re.compile(r"<@&(\d{15,21})>")


@dataclass
class MessageRecord:
    """A message the bot created: in a channel, as an interaction response or followup, or
    through a webhook. ``payload`` is the current state (edits applied); ``history`` holds
    each payload as sent (create, then every edit)."""

    id: int
    channel_id: int
    guild_id: int | None
    kind: str  # "channel", "interaction", "followup", "webhook"
    payload: JSON
    files: list[FileRecord] = field(default_factory=list)
    history: list[JSON] = field(default_factory=list)
    interaction_id: int | None = None
    webhook_id: int | None = None
    deleted: bool = False
    # The payload that made the message visible (a deferred response becomes visible with
    # its first edit): the one that can notify people.
    visible_payload: JSON | None = None

    @property
    def content(self) -> str:
        return str(self.payload.get("content") or "")

    @property
    def embeds(self) -> list[JSON]:
        return list(self.payload.get("embeds") or [])

    @property
    def components(self) -> list[JSON]:
        return list(self.payload.get("components") or [])

    @property
    def flags(self) -> int:
        return int(self.payload.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & MESSAGE_FLAG_EPHEMERAL)

    @property
    def allowed_mentions(self) -> JSON | None:
        """``allowed_mentions`` as last sent (None: the bot sent none, so Discord parses
        every mention in the content)."""
        for sent in reversed(self.history):
            if "allowed_mentions" in sent:
                value = sent["allowed_mentions"]
                return value if isinstance(value, dict) else None
        return None

    @property
    def allows_no_mentions(self) -> bool:
        """True when every payload of this message that carried content carried
        allowed_mentions that allow nothing (no parse kinds, no user or role ids, no replied
        user). Payloads without content (a deferral's "thinking" placeholder, an embed-only
        edit) cannot mention anyone: Discord reads mentions from content only."""
        speaking = [p for p in self.history if p.get("content")]
        return bool(self.history) and all(
            _allows_nothing(p.get("allowed_mentions")) for p in speaking
        )

    def custom_ids(self) -> list[str]:
        """Custom ids of every component, in order (buttons, selects, nested)."""
        found: list[str] = []

        def walk(items: list[Any]) -> None:
            for item in items:
                if isinstance(item, dict):
                    if "custom_id" in item:
                        found.append(str(item["custom_id"]))
                    walk(list(item.get("components") or []))
                    if isinstance(item.get("accessory"), dict):
                        walk([item["accessory"]])

        walk(self.components)
        return found

    def text(self) -> str:
        """Content plus every embed's visible text, for assertions on what users read."""
        parts = [self.content]
        for embed in self.embeds:
            parts += [str(embed.get(k) or "") for k in ("title", "description")]
            parts += [str((embed.get("author") or {}).get("name") or "")]
            for f in embed.get("fields") or []:
                parts += [str(f.get("name") or ""), str(f.get("value") or "")]
            parts += [str((embed.get("footer") or {}).get("text") or "")]
        return "\n".join(p for p in parts if p)

    def pings(self) -> list[Ping]:
        """Who this message notified, the way Discord decides: mentions in the content
        (never in embeds), filtered by ``allowed_mentions`` (absent = parse everything)."""
        sent = self.visible_payload
        if sent is None or self.ephemeral:
            return []
        return pings_of(self.id, sent)


def _allows_nothing(allowed: Any) -> bool:
    if not isinstance(allowed, dict):
        return False
    return (
        not allowed.get("parse")
        and not allowed.get("users")
        and not allowed.get("roles")
        and not allowed.get("replied_user")
    )


def pings_of(message_id: int, sent: JSON) -> list[Ping]:
    """Notifications caused by creating a message with payload ``sent``."""
    content = str(sent.get("content") or "")
    allowed = sent.get("allowed_mentions")
    parse = (
        {"everyone", "users", "roles"}
        if not isinstance(allowed, dict)
        else set(allowed.get("parse") or [])
    )
    users = set() if not isinstance(allowed, dict) else {int(u) for u in allowed.get("users") or []}
    roles = set() if not isinstance(allowed, dict) else {int(r) for r in allowed.get("roles") or []}
    found: list[Ping] = []
    if "everyone" in parse:
        if "@everyone" in content:
            found.append(Ping(message_id, "everyone"))
        if "@here" in content:
            found.append(Ping(message_id, "here"))
    for match in _USER_MENTION.finditer(content):
        uid = int(match.group(1))
        if "users" in parse or uid in users:
            found.append(Ping(message_id, "user", uid))
    for match in _ROLE_MENTION.finditer(content):
        rid = int(match.group(1))
        if "roles" in parse or rid in roles:
            found.append(Ping(message_id, "role", rid))
    reference = sent.get("message_reference")
    if reference and (not isinstance(allowed, dict) or allowed.get("replied_user", True)):
        found.append(Ping(message_id, "replied_user"))
    return found


@dataclass
class Callback:
    """The bot's answer to an interaction (``POST /interactions/{id}/{token}/callback``)."""

    type: int
    data: JSON | None
    files: list[FileRecord]
    latency: float  # seconds from dispatching the interaction to this callback
    status: int  # what the double answered (204/200 accepted, 4xx refused)

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300

    @property
    def choices(self) -> list[JSON]:
        """Autocomplete choices (type 8)."""
        return list((self.data or {}).get("choices") or [])


@dataclass
class InteractionRecord:
    """An interaction the double dispatched and everything the bot answered to it."""

    id: int
    token: str
    type: int  # 2 command, 3 component, 4 autocomplete, 5 modal submit
    payload: JSON  # the INTERACTION_CREATE data as dispatched
    dispatched_at: float  # loop.time()
    notifier: Notifier
    callbacks: list[Callback] = field(default_factory=list)
    original: MessageRecord | None = None  # the response message (@original), if any
    followups: list[MessageRecord] = field(default_factory=list)
    edits: list[JSON] = field(default_factory=list)  # payloads of every edit, in order
    deleted: list[str] = field(default_factory=list)  # "@original" or message ids deleted
    violations: list[Violation] = field(default_factory=list)

    @property
    def callback(self) -> Callback | None:
        """The first accepted callback (Discord accepts exactly one)."""
        return next((c for c in self.callbacks if c.accepted), None)

    @property
    def latency(self) -> float | None:
        """Seconds from dispatch to the first callback (accepted or not)."""
        return self.callbacks[0].latency if self.callbacks else None

    @property
    def files(self) -> list[FileRecord]:
        """Every file attached to the response, its edits and followups."""
        found: list[FileRecord] = []
        for c in self.callbacks:
            found += c.files
        if self.original is not None:
            found += [f for f in self.original.files if f not in found]
        for m in self.followups:
            found += m.files
        return found

    @property
    def messages(self) -> list[MessageRecord]:
        """The original response (if it is a message) then the followups."""
        return ([self.original] if self.original is not None else []) + self.followups

    def _describe(self) -> str:
        return (
            f"interaction {self.id} (type {self.type}): callbacks "
            f"{[(c.type, c.status) for c in self.callbacks]}, {len(self.followups)} followups, "
            f"{len(self.edits)} edits, violations {[str(v) for v in self.violations]}"
        )

    async def wait_for(
        self, predicate: Callable[[InteractionRecord], Any], timeout: float = 3.0
    ) -> Any:
        """Wait until ``predicate(self)`` is truthy and return it."""
        return await self.notifier.wait_for(lambda: predicate(self), timeout, self._describe)

    async def wait_callback(self, timeout: float = 3.0) -> Callback:
        """The first callback (accepted or not); AssertionError if none within ``timeout``."""
        await self.wait_for(lambda r: r.callbacks, timeout)
        return self.callbacks[0]

    async def wait_followups(self, count: int = 1, timeout: float = 5.0) -> list[MessageRecord]:
        """The first ``count`` followup messages, once there are that many."""
        await self.wait_for(lambda r: len(r.followups) >= count, timeout)
        return self.followups[:count]

    async def wait_edits(self, count: int = 1, timeout: float = 5.0) -> list[JSON]:
        """The first ``count`` edit payloads of the response (``@original`` or by id)."""
        await self.wait_for(lambda r: len(r.edits) >= count, timeout)
        return self.edits[:count]
