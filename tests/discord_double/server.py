"""The Discord API double: REST and gateway on 127.0.0.1, for the unmodified discord.py client.

It runs on the test's event loop (start/stop in the test or the ``discord_double`` fixture),
so the bot, the double and the test share one loop and every control is a plain call or an
awaitable. See the package docstring for the controls and docs/testing-discord.md for usage.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import hashlib
import itertools
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import yarl
from aiohttp import BodyPartReader, web

from tests.discord_double import validate
from tests.discord_double.records import (
    JSON,
    MESSAGE_FLAG_EPHEMERAL,
    MESSAGE_FLAG_LOADING,
    Callback,
    CallbackType,
    Channel,
    FileRecord,
    Guild,
    InteractionRecord,
    Member,
    MessageRecord,
    Notifier,
    Ping,
    RequestRecord,
    Role,
    Violation,
    Webhook,
)

BOT_TOKEN = "MTE5MDAwMDAwMDAwMDAwMDAwMA.GDoubl.discord-double-bot-token-for-tests"
API_VERSION = 10
DISCORD_EPOCH_MS = 1_420_070_400_000
_BASE_MS = 1_767_225_600_000 - DISCORD_EPOCH_MS  # ids look like 2026-01-01 snowflakes

# Permission bits (discord.Permissions) of the members every guild starts with.
_P = discord.Permissions
DEFAULT_PERMISSIONS = _P(
    view_channel=True,
    send_messages=True,
    read_message_history=True,
    embed_links=True,
    attach_files=True,
    add_reactions=True,
    use_application_commands=True,
    use_external_emojis=True,
).value
MANAGER_PERMISSIONS = DEFAULT_PERMISSIONS | _P(manage_guild=True).value
ADMIN_PERMISSIONS = _P.all().value
BOT_PERMISSIONS = DEFAULT_PERMISSIONS | _P(manage_webhooks=True).value


def snowflake_time(snowflake: int) -> datetime:
    return datetime.fromtimestamp(0, UTC) + timedelta(
        milliseconds=(snowflake >> 22) + DISCORD_EPOCH_MS
    )


@dataclass
class Failure:
    """An answer to inject instead of the real one (see `DiscordDouble.fail_next`)."""

    status: int
    body: JSON = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def rate_limited(cls, retry_after: float = 0.05, *, is_global: bool = False) -> Failure:
        """A 429 exactly as Discord sends it (discord.py retries after ``retry_after`` s)."""
        headers = {
            "Retry-After": str(max(1, round(retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Bucket": "double-bucket",
            "X-RateLimit-Scope": "global" if is_global else "user",
            # discord.py treats a 429 without Via as a Cloudflare ban.
            "Via": "1.1 google",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": is_global,
            "code": 0,
        }
        return cls(429, body, headers)

    @classmethod
    def server_error(cls, status: int = 500) -> Failure:
        """500/502: discord.py retries after 1 s, 3 s... (its own fixed backoff)."""
        return cls(status, {"message": "500: Internal Server Error", "code": 0})

    @classmethod
    def missing_permissions(cls) -> Failure:
        return cls(403, {"message": "Missing Permissions", "code": 50013})

    @classmethod
    def missing_access(cls) -> Failure:
        return cls(403, {"message": "Missing Access", "code": 50001})

    @classmethod
    def unknown_channel(cls) -> Failure:
        return cls(404, {"message": "Unknown Channel", "code": 10003})

    @classmethod
    def unknown_webhook(cls) -> Failure:
        return cls(404, {"message": "Unknown Webhook", "code": 10015})


@dataclass
class _Injection:
    method: str
    pattern: str
    failure: Failure
    remaining: int | None  # None: until clear_failures()


@dataclass
class _Session:
    """One gateway session (per shard): its events, so a RESUME can replay what was missed."""

    session_id: str
    shard_id: int
    shard_count: int
    seq: int = 0
    events: list[tuple[int, str]] = field(default_factory=list)
    ws: web.WebSocketResponse | None = None


class _Refusal(Exception):
    """Answer the request with a Discord error (status, code, message, nested errors)."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: JSON | None = None,
        *,
        violation: bool = True,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.errors = errors or {}
        self.violation = violation

    def body(self) -> JSON:
        body: JSON = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


def _invalid(errors: validate.Errors) -> _Refusal:
    return _Refusal(400, 50035, "Invalid Form Body", errors.tree)


def _wrap(prefix: str, errors: validate.Errors) -> validate.Errors:
    wrapped = validate.Errors()
    if errors:
        wrapped.tree = {prefix: errors.tree}
    return wrapped


Handler = Callable[["_Request"], Awaitable[web.StreamResponse]]


@dataclass
class _Request:
    raw: web.Request
    path: str
    params: dict[str, str]
    body: Any
    files: list[FileRecord]
    record: RequestRecord


_ROUTES: list[tuple[str, str, str, bool]] = [
    # method, path pattern ({name} = one segment), handler name, bot auth required
    ("GET", "/users/@me", "_get_me", True),
    ("GET", "/oauth2/applications/@me", "_get_application", True),
    ("GET", "/applications/@me", "_get_application", True),
    ("GET", "/gateway", "_get_gateway", False),
    ("GET", "/gateway/bot", "_get_gateway_bot", True),
    ("GET", "/applications/{app}/commands", "_get_commands", True),
    ("PUT", "/applications/{app}/commands", "_put_commands", True),
    ("GET", "/applications/{app}/guilds/{guild}/commands", "_get_commands", True),
    ("PUT", "/applications/{app}/guilds/{guild}/commands", "_put_commands", True),
    ("POST", "/interactions/{interaction}/{token}/callback", "_post_callback", False),
    ("POST", "/webhooks/{webhook}/{token}", "_post_webhook", False),
    ("GET", "/webhooks/{webhook}/{token}", "_get_webhook", False),
    ("GET", "/webhooks/{webhook}/{token}/messages/{message}", "_get_webhook_message", False),
    ("PATCH", "/webhooks/{webhook}/{token}/messages/{message}", "_patch_webhook_message", False),
    ("DELETE", "/webhooks/{webhook}/{token}/messages/{message}", "_delete_webhook_message", False),
    ("GET", "/channels/{channel}", "_get_channel", True),
    ("POST", "/channels/{channel}/messages", "_post_channel_message", True),
    ("GET", "/channels/{channel}/messages/{message}", "_get_channel_message", True),
    ("PATCH", "/channels/{channel}/messages/{message}", "_patch_channel_message", True),
    ("DELETE", "/channels/{channel}/messages/{message}", "_delete_channel_message", True),
    ("POST", "/channels/{channel}/typing", "_no_content", True),
    ("GET", "/channels/{channel}/webhooks", "_get_channel_webhooks", True),
    ("GET", "/guilds/{guild}", "_get_guild", True),
    ("GET", "/guilds/{guild}/channels", "_get_guild_channels", True),
    ("GET", "/guilds/{guild}/roles", "_get_guild_roles", True),
    ("GET", "/guilds/{guild}/members/{user}", "_get_guild_member", True),
]


def _compile(pattern: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(pattern))
    return re.compile(f"^{regex}$")


_COMPILED = [(m, _compile(p), h, auth) for m, p, h, auth in _ROUTES]
_PREFIX = re.compile(r"^/api(?:/v\d+)?")


class DiscordDouble:
    """Discord's REST API and gateway for one bot, on 127.0.0.1 (see the package docstring).

    ``interaction_deadline`` is Discord's 3 s to acknowledge an interaction: a later first
    callback gets 404 10062 "Unknown interaction", as in production. ``shard_count`` is what
    ``GET /gateway/bot`` recommends to an auto-sharded client.
    """

    def __init__(
        self,
        *,
        token: str = BOT_TOKEN,
        interaction_deadline: float = 3.0,
        shard_count: int = 1,
        attachment_size_limit: int = 10 * 1024 * 1024,
    ) -> None:
        self.token = token
        self.interaction_deadline = interaction_deadline
        self.shard_count = shard_count
        self.attachment_size_limit = attachment_size_limit
        # The bot's permissions in interactions (``interaction.app_permissions``); lower
        # them to test how the bot copes without, say, Embed Links.
        self.app_permissions = BOT_PERMISSIONS
        self._ids = itertools.count(1)
        self.application_id = self.new_id()
        self.bot = Member(self.application_id, "briefbot-double", BOT_PERMISSIONS, bot=True)
        self.owner_id = self.new_id()
        self.port = 0
        self._runner: web.AppRunner | None = None
        self.notifier = Notifier()

        # The world.
        self.guilds: list[Guild] = []
        self.webhooks: dict[int, Webhook] = {}
        self._channels: dict[int, Channel] = {}

        # What the bot did.
        self.requests: list[RequestRecord] = []
        self.unknown_requests: list[RequestRecord] = []
        self.violations: list[Violation] = []
        self.refusals: list[Violation] = []  # every error the double answered on its own
        self.injected: list[RequestRecord] = []
        self.messages: list[MessageRecord] = []
        self.interactions: list[InteractionRecord] = []
        self.global_commands: list[JSON] = []
        self.guild_commands: dict[int, list[JSON]] = {}
        self.command_syncs: list[tuple[int | None, list[JSON]]] = []  # (guild id, as sent)
        self.identify_count = 0
        self.resume_count = 0
        self.identify_payloads: list[JSON] = []
        self.gateway_urls: list[str] = []  # path?query of every gateway connection

        self._failures: list[_Injection] = []
        self._sessions: dict[str, _Session] = {}
        self._shards: dict[int, _Session] = {}  # current session of each shard
        self._interactions: dict[int, InteractionRecord] = {}
        self._messages: dict[int, MessageRecord] = {}
        self._sockets: set[web.WebSocketResponse] = set()
        self._send_chain: dict[web.WebSocketResponse, asyncio.Task[None]] = {}

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> DiscordDouble:
        """Serve on 127.0.0.1 at a free port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway/", self._gateway)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/resume/", self._gateway)
        app.router.add_route("*", "/{tail:.*}", self._dispatch_rest)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        """Close every gateway connection and stop serving."""
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordDouble:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """What ``discord.http.Route.BASE`` must be."""
        return f"{self.base_url}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        """What ``DiscordWebSocket.DEFAULT_GATEWAY`` must be."""
        return f"ws://127.0.0.1:{self.port}/gateway/"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/resume/"

    @contextlib.asynccontextmanager
    async def running(
        self,
        client: discord.Client,
        *,
        token: str | None = None,
        timeout: float = 10.0,
        fast_ready: bool = True,
    ) -> AsyncIterator[discord.Client]:
        """Start ``client`` against the double, wait until it is ready and has every guild
        of its shards, yield it, and close it on exit. A start failure (LoginFailure...)
        is raised here. ``fast_ready`` lowers discord.py's wait for further GUILD_CREATEs
        after READY (``guild_ready_timeout``, 2 s by default) to 0.05 s and skips the 5 s
        its ``before_identify_hook`` waits before every IDENTIFY but the first (a second
        shard, a re-IDENTIFY after an invalidated session): Discord's identify rate
        limit, which the double does not have."""
        if fast_ready:
            state = client._connection
            state.guild_ready_timeout = min(state.guild_ready_timeout, 0.05)

            async def identify_at_once(shard_id: int | None, *, initial: bool = False) -> None:
                return None

            client.before_identify_hook = identify_at_once  # type: ignore[method-assign]
        task = asyncio.create_task(client.start(token or self.token))
        try:
            ready = asyncio.create_task(client.wait_until_ready())
            done, _ = await asyncio.wait(
                {task, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if task in done:
                ready.cancel()
                task.result()  # raises what made the client stop
                raise AssertionError("the client stopped before it was ready")
            if ready not in done:
                ready.cancel()
                raise AssertionError(f"the client was not ready within {timeout} s")
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while (
                any(client.get_guild(g.id) is None for g in self.guilds) and loop.time() < deadline
            ):
                await asyncio.sleep(0.005)  # GUILD_CREATEs arriving after READY
            yield client
        finally:
            await client.close()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=5)

    # -- the world ---------------------------------------------------------------------------

    def new_id(self) -> int:
        """A fresh snowflake (unique, increasing)."""
        return (_BASE_MS + next(self._ids)) << 22

    def add_guild(
        self,
        name: str = "Analysts",
        *,
        channels: tuple[str, ...] = ("general", "briefs"),
        preferred_locale: str = "en-US",
    ) -> Guild:
        """A guild with text ``channels``, an @everyone role, a "Managers" role, and three
        members: "owner" (all permissions), "manager" (Manage Server), "analyst" (none of
        the managing ones). Sent to connected clients as GUILD_CREATE."""
        guild_id = self.new_id()
        guild = Guild(guild_id, name, self.owner_id, preferred_locale=preferred_locale)
        guild.roles.append(Role(guild_id, "@everyone", DEFAULT_PERMISSIONS, 0))
        managers = Role(self.new_id(), "Managers", MANAGER_PERMISSIONS, 1)
        guild.roles.append(managers)
        guild.members += [
            Member(self.owner_id, "owner", ADMIN_PERMISSIONS),
            Member(self.new_id(), "manager", MANAGER_PERMISSIONS, [managers.id]),
            Member(self.new_id(), "analyst", DEFAULT_PERMISSIONS),
            self.bot,
        ]
        self.guilds.append(guild)
        for position, channel_name in enumerate(channels):
            self._new_channel(guild, channel_name, 0, position)
        self.dispatch_event(
            "GUILD_CREATE", guild.create_payload(self.bot), guild_id=guild.id, only_connected=True
        )
        return guild

    def guild(self, guild_id: int) -> Guild:
        for guild in self.guilds:
            if guild.id == guild_id:
                return guild
        raise KeyError(guild_id)

    def _new_channel(self, guild: Guild, name: str, type_: int, position: int) -> Channel:
        channel = Channel(self.new_id(), guild.id, name, type_, position)
        guild.channels.append(channel)
        self._channels[channel.id] = channel
        return channel

    def add_channel(self, guild: Guild, name: str, *, type: int = 0) -> Channel:
        """A new channel (CHANNEL_CREATE to a connected client)."""
        channel = self._new_channel(guild, name, type, len(guild.channels))
        self.dispatch_event(
            "CHANNEL_CREATE", channel.payload(), guild_id=guild.id, only_connected=True
        )
        return channel

    def remove_channel(self, channel: Channel) -> None:
        """Delete a channel: later requests to it get 404 10003 Unknown Channel."""
        self._channels.pop(channel.id, None)
        if channel.guild_id is not None:
            guild = self.guild(channel.guild_id)
            guild.channels = [c for c in guild.channels if c.id != channel.id]
        self.dispatch_event(
            "CHANNEL_DELETE", channel.payload(), guild_id=channel.guild_id, only_connected=True
        )

    def channel(self, channel_id: int) -> Channel:
        return self._channels[channel_id]

    def add_role(
        self, guild: Guild, name: str, *, permissions: int = 0, mentionable: bool = True
    ) -> Role:
        role = Role(self.new_id(), name, permissions, len(guild.roles), mentionable)
        guild.roles.append(role)
        self.dispatch_event(
            "GUILD_ROLE_CREATE",
            {"guild_id": str(guild.id), "role": role.payload()},
            guild_id=guild.id,
            only_connected=True,
        )
        return role

    def add_member(
        self,
        guild: Guild,
        username: str,
        *,
        permissions: int = DEFAULT_PERMISSIONS,
        roles: list[Role] | None = None,
    ) -> Member:
        member = Member(self.new_id(), username, permissions, [r.id for r in roles or []])
        guild.members.append(member)
        return member

    def add_webhook(self, channel: Channel, name: str = "digest") -> Webhook:
        """An incoming webhook of ``channel``: executing it posts to that channel."""
        webhook_id = self.new_id()
        token = hashlib.sha256(str(webhook_id).encode()).hexdigest()  # 64 chars, like Discord's
        path = f"/webhooks/{webhook_id}/{token}"
        webhook = Webhook(
            webhook_id,
            token,
            channel.id,
            channel.guild_id,
            name,
            url=f"{self.base_url}/api{path}",
            discord_url=f"https://discord.com/api{path}",
        )
        self.webhooks[webhook_id] = webhook
        return webhook

    # -- records -----------------------------------------------------------------------------

    def channel_messages(self, channel_id: int) -> list[MessageRecord]:
        """Messages everyone in the channel sees, in order: posted by REST or webhook, and
        non-ephemeral interaction responses and followups; deleted ones left out."""
        return [
            m
            for m in self.messages
            if m.channel_id == channel_id and not m.ephemeral and not m.deleted
        ]

    def webhook_messages(self, webhook_id: int) -> list[MessageRecord]:
        return [m for m in self.messages if m.webhook_id == webhook_id]

    def message(self, message_id: int) -> MessageRecord:
        return self._messages[message_id]

    def commands(self, guild_id: int | None = None) -> list[JSON]:
        """The commands a user sees in ``guild_id``: its guild commands plus the global ones
        (only the global ones without a guild)."""
        local = self.guild_commands.get(guild_id, []) if guild_id is not None else []
        return [*local, *self.global_commands]

    def find_command(self, name: str, guild_id: int | None = None) -> JSON:
        """The synced chat-input command called ``name`` (guild commands first)."""
        for command in self.commands(guild_id):
            if command["name"] == name and command.get("type", 1) == 1:
                return command
        known = sorted(c["name"] for c in self.commands(guild_id))
        raise AssertionError(f"/{name} is not a synced command here (synced: {known})")

    def pings(self) -> list[Ping]:
        """Every notification the bot's messages caused (should be none)."""
        return [p for m in self.messages for p in m.pings()]

    def assert_clean(self) -> None:
        """Fail when the bot sent anything Discord would refuse, called a route the double
        does not know, or pinged anyone."""
        problems = [str(v) for v in self.violations]
        problems += [f"unknown route {r.method} {r.path}" for r in self.unknown_requests]
        problems += [f"ping {p}" for p in self.pings()]
        if problems:
            raise AssertionError("Discord double saw problems:\n" + "\n".join(problems))

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 5.0, what: str = ""
    ) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked whenever the double records
        something) and return it; AssertionError after ``timeout`` seconds."""
        return await self.notifier.wait_for(predicate, timeout, lambda: what or repr(predicate))

    async def wait_for_messages(
        self, channel_id: int, count: int = 1, timeout: float = 5.0
    ) -> list[MessageRecord]:
        """The first ``count`` messages of a channel, once there are that many."""
        await self.wait_for(
            lambda: len(self.channel_messages(channel_id)) >= count,
            timeout,
            f"{count} message(s) in channel {channel_id}",
        )
        return self.channel_messages(channel_id)[:count]

    # -- failure injection -------------------------------------------------------------------

    def fail_next(self, method: str, path: str, failure: Failure, *, times: int | None = 1) -> None:
        """Answer the next ``times`` requests (None: all, until `clear_failures`) whose
        method and path (without ``/api/v10``; glob: ``/channels/*/messages``) match with
        ``failure`` instead of serving them."""
        self._failures.append(_Injection(method.upper(), path, failure, times))

    def clear_failures(self) -> None:
        self._failures.clear()

    def _injected_failure(self, method: str, path: str) -> Failure | None:
        for injection in self._failures:
            if injection.method in (method, "*") and fnmatch.fnmatchcase(path, injection.pattern):
                if injection.remaining is not None:
                    injection.remaining -= 1
                    if injection.remaining <= 0:
                        self._failures.remove(injection)
                return injection.failure
        return None

    # -- gateway -----------------------------------------------------------------------------

    def _shard_of(self, guild_id: int | None) -> int:
        shard_count = max(1, next(iter(self._shards.values())).shard_count) if self._shards else 1
        return 0 if guild_id is None else (guild_id >> 22) % shard_count

    def dispatch_event(
        self, name: str, data: JSON, *, guild_id: int | None = None, only_connected: bool = False
    ) -> None:
        """Send a gateway event to the shard of ``guild_id``. While the client is
        disconnected the event waits in the session and is replayed on RESUME; with
        ``only_connected`` it is dropped when no session exists yet (READY sends the
        state anyway)."""
        session = self._shards.get(self._shard_of(guild_id))
        if session is None:
            if not only_connected and not self._shards:
                raise AssertionError(
                    f"no gateway session to dispatch {name} to: is the client running?"
                )
            return
        self._send_dispatch(session, name, data)

    def _send_dispatch(self, session: _Session, name: str, data: JSON) -> None:
        session.seq += 1
        frame = json.dumps({"op": 0, "t": name, "s": session.seq, "d": data})
        session.events.append((session.seq, frame))
        ws = session.ws
        if ws is not None and not ws.closed:
            # One task per frame, each after the previous one, so frames keep their order.
            previous = self._send_chain.get(ws)
            self._send_chain[ws] = asyncio.get_running_loop().create_task(
                self._send(ws, frame, previous)
            )

    async def _send(
        self, ws: web.WebSocketResponse, frame: str, previous: asyncio.Task[None] | None
    ) -> None:
        if previous is not None:
            with contextlib.suppress(Exception):
                await previous
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_str(frame)

    async def drop_connection(self, shard_id: int = 0, *, code: int = 4000) -> None:
        """Close the shard's websocket as a network failure would (close code 4000): the
        client reconnects and RESUMEs; events dispatched meanwhile are replayed."""
        session = self._shards.get(shard_id)
        if session is None or session.ws is None:
            raise AssertionError(f"shard {shard_id} is not connected")
        ws, session.ws = session.ws, None
        await ws.close(code=code, message=b"dropped by the double")

    async def invalidate_session(self, shard_id: int = 0) -> None:
        """Tell the shard its session is gone (op 9, not resumable): it must IDENTIFY."""
        session = self._shards.get(shard_id)
        if session is None or session.ws is None:
            raise AssertionError(f"shard {shard_id} is not connected")
        self._sessions.pop(session.session_id, None)
        ws, session.ws = session.ws, None
        await ws.send_str(json.dumps({"op": 9, "d": False}))

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.add(ws)
        self.gateway_urls.append(request.path_qs)
        await ws.send_str(
            json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        )
        try:
            async for msg in ws:
                if msg.type.name != "TEXT":
                    continue
                frame = json.loads(msg.data)
                op, data = frame.get("op"), frame.get("d")
                if op == 1:
                    await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
                elif op == 2:
                    await self._identify(ws, data)
                elif op == 6:
                    await self._resume(ws, data)
                elif op == 8:
                    await self._request_members(ws, data)
        finally:
            self._sockets.discard(ws)
            self._send_chain.pop(ws, None)
            for session in self._shards.values():
                if session.ws is ws:
                    session.ws = None
            self.notifier.notify()
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: JSON) -> None:
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        self.identify_count += 1
        self.identify_payloads.append(data)
        shard_id, shard_count = data.get("shard") or [0, 1]
        session = _Session(f"double-session-{self.new_id()}", shard_id, shard_count, ws=ws)
        self._sessions[session.session_id] = session
        self._shards[shard_id] = session
        mine = [g for g in self.guilds if (g.id >> 22) % shard_count == shard_id]
        ready = {
            "v": API_VERSION,
            "user": {**self.bot.user_payload(), "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in mine],
            "session_id": session.session_id,
            "resume_gateway_url": self.resume_gateway_url,
            "shard": [shard_id, shard_count],
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        self._send_dispatch(session, "READY", ready)
        for guild in mine:
            self._send_dispatch(session, "GUILD_CREATE", guild.create_payload(self.bot))
        self.notifier.notify()

    async def _resume(self, ws: web.WebSocketResponse, data: JSON) -> None:
        session = self._sessions.get(str(data.get("session_id")))
        if session is None or data.get("token") != self.token:
            await ws.send_str(json.dumps({"op": 9, "d": False, "s": None, "t": None}))
            return
        self.resume_count += 1
        session.ws = ws
        self._shards[session.shard_id] = session
        seen = data.get("seq") or 0
        for seq, frame in session.events:
            if seq > seen:
                await ws.send_str(frame)
        self._send_dispatch(session, "RESUMED", {})
        self.notifier.notify()

    async def _request_members(self, ws: web.WebSocketResponse, data: JSON) -> None:
        guild = self.guild(int(data["guild_id"]))
        chunk = {
            "guild_id": str(guild.id),
            "members": [m.member_payload() for m in guild.members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        for session in self._shards.values():
            if session.ws is ws:
                self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", chunk)

    # -- interactions ------------------------------------------------------------------------

    def _context(
        self,
        guild: Guild | None,
        channel: Channel | None,
        user: Member | None,
        permissions: int | None,
    ) -> tuple[Guild | None, Channel, Member]:
        if guild is None and channel is not None and channel.guild_id is not None:
            guild = self.guild(channel.guild_id)
        if guild is None and self.guilds:
            guild = self.guilds[0]
        if guild is None:
            raise AssertionError("add a guild first (the double has none)")
        channel = channel or guild.text_channel
        user = user or guild.member("analyst")
        if permissions is not None:
            user = Member(user.id, user.username, permissions, user.roles, user.bot)
        return guild, channel, user

    def _interaction(
        self,
        type_: int,
        data: JSON,
        *,
        guild: Guild | None,
        channel: Channel | None,
        user: Member | None,
        permissions: int | None,
        locale: str,
        message: JSON | None = None,
    ) -> InteractionRecord:
        guild, channel, member = self._context(guild, channel, user, permissions)
        assert guild is not None
        interaction_id = self.new_id()
        token = f"interaction-token-{interaction_id}"
        payload: JSON = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": type_,
            "data": data,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
            "channel_id": str(channel.id),
            "channel": channel.payload(),
            "member": member.member_payload(with_permissions=True),
            "token": token,
            "version": 1,
            "app_permissions": str(self.app_permissions),
            "locale": locale,
            "guild_locale": guild.preferred_locale,
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": self.attachment_size_limit,
        }
        if message is not None:
            payload["message"] = message
        record = InteractionRecord(
            interaction_id, token, type_, payload, asyncio.get_running_loop().time(), self.notifier
        )
        self.interactions.append(record)
        self._interactions[interaction_id] = record
        self.dispatch_event("INTERACTION_CREATE", payload, guild_id=guild.id)
        return record

    def _command_data(
        self, name: str, options: JSON | list[JSON] | None, guild: Guild | None, focused: str | None
    ) -> JSON:
        path = name.split()
        guild_id = guild.id if guild is not None else (self.guilds[0].id if self.guilds else None)
        command = self.find_command(path[0], guild_id)
        definition: JSON = command
        chain: list[JSON] = []
        for part in path[1:]:
            sub = next(
                (
                    o
                    for o in definition.get("options") or []
                    if o["name"] == part and o["type"] in (1, 2)
                ),
                None,
            )
            if sub is None:
                raise AssertionError(
                    f"/{name}: {part!r} is not a subcommand of {definition['name']!r}"
                )
            chain.append(sub)
            definition = sub
        resolved: JSON = {}
        if isinstance(options, list):
            leaf = options
        else:
            leaf = self._typed_options(name, definition, options or {}, focused, resolved, guild_id)
        for sub in reversed(chain):
            leaf = [{"name": sub["name"], "type": sub["type"], "options": leaf}]
        data: JSON = {"id": command["id"], "name": command["name"], "type": 1, "options": leaf}
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return data

    def _typed_options(
        self,
        name: str,
        definition: JSON,
        given: JSON,
        focused: str | None,
        resolved: JSON,
        guild_id: int | None,
    ) -> list[JSON]:
        known = {o["name"]: o for o in definition.get("options") or []}
        for key in given:
            if key not in known:
                raise AssertionError(f"/{name} has no option {key!r} (options: {sorted(known)})")
        if focused is None:
            missing = [
                o["name"] for o in known.values() if o.get("required") and o["name"] not in given
            ]
            if missing:
                raise AssertionError(f"/{name}: required options missing: {missing}")
        out: list[JSON] = []
        for key, value in given.items():
            kind = known[key]["type"]
            option: JSON = {
                "name": key,
                "type": kind,
                "value": self._option_value(kind, value, resolved, guild_id),
            }
            if key == focused:
                option["focused"] = True
                option["value"] = str(value)
            out.append(option)
        return out

    def _option_value(self, kind: int, value: Any, resolved: JSON, guild_id: int | None) -> Any:
        if kind in (6, 7, 8, 9):
            target = value.id if hasattr(value, "id") else int(value)
            guild = self.guild(guild_id) if guild_id is not None else None
            member = next((m for m in guild.members if m.id == target), None) if guild else None
            role = next((r for r in guild.roles if r.id == target), None) if guild else None
            if member is not None:
                resolved.setdefault("users", {})[str(target)] = member.user_payload()
                resolved.setdefault("members", {})[str(target)] = {
                    k: v
                    for k, v in member.member_payload(with_permissions=True).items()
                    if k != "user"
                }
            elif role is not None:
                resolved.setdefault("roles", {})[str(target)] = role.payload()
            elif target in self._channels:
                channel = self._channels[target].payload()
                channel["permissions"] = str(BOT_PERMISSIONS)
                resolved.setdefault("channels", {})[str(target)] = channel
            return str(target)
        if kind == 4:
            return int(value)
        if kind == 10:
            return float(value)
        if kind == 5:
            return bool(value)
        return str(value)

    async def command(
        self,
        name: str,
        options: JSON | list[JSON] | None = None,
        *,
        guild: Guild | None = None,
        channel: Channel | None = None,
        user: Member | None = None,
        permissions: int | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Invoke a synced slash command as a user would (INTERACTION_CREATE type 2).

        ``name`` may name a subcommand (``"feeds add"``, ``"admin feeds add"``). ``options``
        maps option names to values, typed from the synced definition (a user, channel or
        role option takes the object or its id, and gets ``resolved`` data); a list is sent
        as raw options. Defaults: the first guild, its first text channel, its "analyst"
        member; ``permissions`` overrides the member's permission bits."""
        data = self._command_data(name, options, guild, None)
        return self._interaction(
            2, data, guild=guild, channel=channel, user=user, permissions=permissions, locale=locale
        )

    async def autocomplete(
        self,
        name: str,
        options: JSON,
        focused: str,
        *,
        guild: Guild | None = None,
        channel: Channel | None = None,
        user: Member | None = None,
        permissions: int | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Ask for autocomplete choices of option ``focused`` (INTERACTION_CREATE type 4),
        with what the user typed so far in ``options``."""
        if focused not in options:
            raise AssertionError(f"the focused option {focused!r} must be in options")
        data = self._command_data(name, options, guild, focused)
        return self._interaction(
            4, data, guild=guild, channel=channel, user=user, permissions=permissions, locale=locale
        )

    async def click(
        self,
        message: MessageRecord,
        custom_id: str,
        *,
        values: list[str] | None = None,
        user: Member | None = None,
        permissions: int | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Press the button (or choose ``values`` in the select) ``custom_id`` on a message
        the bot sent (INTERACTION_CREATE type 3 carrying that message)."""
        component = _find_component(message.components, custom_id)
        if component is None:
            raise AssertionError(
                f"no component {custom_id!r} on message {message.id}: {message.custom_ids()}"
            )
        data: JSON = {"custom_id": custom_id, "component_type": component.get("type", 2)}
        if values is not None:
            data["values"] = values
        channel = self._channels.get(message.channel_id)
        guild = self.guild(message.guild_id) if message.guild_id is not None else None
        return self._interaction(
            3,
            data,
            guild=guild,
            channel=channel,
            user=user,
            permissions=permissions,
            locale=locale,
            message=self._message_json(message),
        )

    async def submit_modal(
        self,
        interaction: InteractionRecord,
        values: dict[str, str],
        *,
        user: Member | None = None,
        permissions: int | None = None,
    ) -> InteractionRecord:
        """Submit the modal the bot answered ``interaction`` with (type 5), filling text
        inputs by custom id."""
        modal = next(
            (c.data for c in interaction.callbacks if c.type == CallbackType.MODAL and c.accepted),
            None,
        )
        if modal is None:
            raise AssertionError(f"interaction {interaction.id} was not answered with a modal")
        rows = [
            {"type": 18, "component": {"type": 4, "custom_id": cid, "value": v}}
            for cid, v in values.items()
        ]
        data = {"custom_id": modal["custom_id"], "components": rows}
        guild = self.guild(int(interaction.payload["guild_id"]))
        channel = self._channels.get(int(interaction.payload["channel_id"]))
        return self._interaction(
            5,
            data,
            guild=guild,
            channel=channel,
            user=user,
            permissions=permissions,
            locale="en-US",
        )

    # -- REST --------------------------------------------------------------------------------

    async def _dispatch_rest(self, request: web.Request) -> web.StreamResponse:
        path = _PREFIX.sub("", request.path) or "/"
        method = request.method
        files: list[FileRecord] = []
        body: Any = None
        try:
            body, files = await self._read_body(request)
        except ValueError:  # not JSON: handlers see None and refuse it
            body = None
        record = RequestRecord(
            method,
            path,
            dict(request.query),
            dict(request.headers),
            body,
            at=asyncio.get_running_loop().time(),
        )
        self.requests.append(record)
        try:
            failure = self._injected_failure(method, path)
            if failure is not None:
                self.injected.append(record)
                record.status = failure.status
                return self._json(failure.body, failure.status, failure.headers)
            for route_method, regex, handler_name, auth in _COMPILED:
                match = regex.match(path)
                if match is None or route_method != method:
                    continue
                if auth and request.headers.get("Authorization") != f"Bot {self.token}":
                    raise _Refusal(401, 0, "401: Unauthorized", violation=False)
                handler: Handler = getattr(self, handler_name)
                response = await handler(
                    _Request(request, path, match.groupdict(), body, files, record)
                )
                record.status = response.status
                return response
            self.unknown_requests.append(record)
            raise _Refusal(404, 0, "404: Not Found", violation=False)
        except Exception as exc:
            # A bug of the double: a 400 the test sees at once (a 500 would make discord.py
            # retry for half a minute).
            refusal = (
                exc
                if isinstance(exc, _Refusal)
                else _Refusal(400, -1, f"discord double failed: {exc!r}")
            )

            record.status = refusal.status
            violation = Violation(
                method,
                path,
                refusal.status,
                refusal.code,
                refusal.message,
                refusal.errors,
                body,
                _interaction_of(path),
            )
            self.refusals.append(violation)
            if refusal.violation:
                self.violations.append(violation)
                interaction = self._interactions.get(violation.interaction_id or 0)
                if interaction is not None:
                    interaction.violations.append(violation)
            return self._json(refusal.body(), refusal.status)
        finally:
            self.notifier.notify()

    async def _read_body(self, request: web.Request) -> tuple[Any, list[FileRecord]]:
        if not request.body_exists:
            return None, []
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            payload: Any = None
            files: list[FileRecord] = []
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    continue
                content = bytes(await part.read())
                if part.name == "payload_json":
                    payload = json.loads(content)
                elif part.filename is not None:
                    files.append(
                        FileRecord(
                            part.name or "",
                            part.filename,
                            content,
                            part.headers.get("Content-Type", "application/octet-stream"),
                        )
                    )
            return payload, files
        raw = await request.read()
        return (json.loads(raw) if raw else None), []

    @staticmethod
    def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        # discord.py parses JSON only under this exact header.
        return web.Response(
            status=status,
            body=json.dumps(body).encode(),
            headers={**(headers or {}), "Content-Type": "application/json"},
        )

    async def _no_content(self, request: _Request) -> web.StreamResponse:
        return web.Response(status=204)

    async def _get_me(self, request: _Request) -> web.StreamResponse:
        return self._json(
            {**self.bot.user_payload(), "verified": True, "mfa_enabled": False, "flags": 0}
        )

    async def _get_application(self, request: _Request) -> web.StreamResponse:
        owner = Member(self.owner_id, "owner", ADMIN_PERMISSIONS)
        return self._json(
            {
                "id": str(self.application_id),
                "name": self.bot.username,
                "icon": None,
                "description": "Discord double application",
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": owner.user_payload(),
                "team": None,
                "verify_key": "0" * 64,
                "flags": 0,
                "summary": "",
                "bot": self.bot.user_payload(),
            }
        )

    async def _get_gateway(self, request: _Request) -> web.StreamResponse:
        return self._json({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: _Request) -> web.StreamResponse:
        return self._json(
            {
                "url": self.gateway_url,
                "shards": self.shard_count,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    def _check_app(self, request: _Request) -> int | None:
        if int(request.params["app"]) != self.application_id:
            raise _Refusal(403, 50001, "Missing Access", violation=True)
        guild = request.params.get("guild")
        if guild is None:
            return None
        guild_id = int(guild)
        if not any(g.id == guild_id for g in self.guilds):
            raise _Refusal(403, 50001, "Missing Access", violation=True)
        return guild_id

    async def _get_commands(self, request: _Request) -> web.StreamResponse:
        guild_id = self._check_app(request)
        stored = self.global_commands if guild_id is None else self.guild_commands.get(guild_id, [])
        return self._json(stored)

    async def _put_commands(self, request: _Request) -> web.StreamResponse:
        guild_id = self._check_app(request)
        errors = validate.check_commands(request.body)
        if errors:
            raise _invalid(errors)
        previous = (
            self.global_commands if guild_id is None else self.guild_commands.get(guild_id, [])
        )
        ids = {(c.get("type", 1), c["name"]): c["id"] for c in previous}
        stored: list[JSON] = []
        for command in request.body:
            kind = command.get("type", 1)
            entry = {
                "id": ids.get((kind, command["name"])) or str(self.new_id()),
                "application_id": str(self.application_id),
                "version": str(self.new_id()),
                "type": kind,
                "description": "",
                "default_member_permissions": None,
                "dm_permission": True,
                "nsfw": False,
                **command,
            }
            if guild_id is not None:
                entry["guild_id"] = str(guild_id)
            stored.append(entry)
        if guild_id is None:
            self.global_commands = stored
        else:
            self.guild_commands[guild_id] = stored
        self.command_syncs.append((guild_id, request.body))
        return self._json(stored)

    # interactions

    def _interaction_for(self, request: _Request) -> InteractionRecord:
        interaction = self._interactions.get(int(request.params["interaction"]))
        if interaction is None or interaction.token != request.params["token"]:
            raise _Refusal(404, 10062, "Unknown interaction")
        return interaction

    async def _post_callback(self, request: _Request) -> web.StreamResponse:
        interaction = self._interaction_for(request)
        loop = asyncio.get_running_loop()
        latency = loop.time() - interaction.dispatched_at
        body = request.body if isinstance(request.body, dict) else {}
        kind = body.get("type")
        data = body.get("data")
        callback = Callback(kind if isinstance(kind, int) else 0, data, request.files, latency, 0)
        interaction.callbacks.append(callback)
        try:
            if interaction.callback is not None:
                raise _Refusal(400, 40060, "Interaction has already been acknowledged.")
            if latency > self.interaction_deadline:
                raise _Refusal(404, 10062, "Unknown interaction")
            allowed = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}[interaction.type]
            if kind not in allowed:
                errors = validate.Errors()
                errors.add(
                    ("type",),
                    "INTERACTION_RESPONSE_TYPE_INVALID",
                    f"Value must be one of {sorted(allowed)}.",
                )
                raise _invalid(errors)
            resource = self._accept_callback(
                interaction, int(kind), data if isinstance(data, dict) else {}, request
            )
        except _Refusal as refusal:
            callback.status = refusal.status
            raise
        callback.status = 200
        if request.raw.query.get("with_response") in ("1", "true", "True"):
            original = interaction.original
            result: JSON = {
                "interaction": {
                    "id": str(interaction.id),
                    "type": interaction.type,
                    "response_message_id": None if original is None else str(original.id),
                    "response_message_loading": kind == 5,
                    "response_message_ephemeral": bool(original is not None and original.ephemeral),
                },
                "resource": resource,
            }
            return self._json(result)
        callback.status = 204
        return web.Response(status=204)

    def _accept_callback(
        self, interaction: InteractionRecord, kind: int, data: JSON, request: _Request
    ) -> JSON:
        channel_id = int(interaction.payload["channel_id"])
        guild_id = int(interaction.payload["guild_id"])
        if kind == CallbackType.MESSAGE:
            self._check_message(data, request.files, create=True, prefix="data")
            message = self._store_message(
                data, request.files, channel_id, guild_id, "interaction", interaction
            )
            interaction.original = message
            return {"type": kind, "message": self._message_json(message)}
        if kind == CallbackType.DEFERRED_MESSAGE:
            flags = MESSAGE_FLAG_LOADING | (int(data.get("flags") or 0) & MESSAGE_FLAG_EPHEMERAL)
            message = self._store_message(
                {"content": "", "flags": flags},
                [],
                channel_id,
                guild_id,
                "interaction",
                interaction,
                visible=False,
            )
            interaction.original = message
            return {"type": kind, "message": self._message_json(message)}
        if kind in (CallbackType.DEFERRED_UPDATE, CallbackType.UPDATE_MESSAGE):
            if interaction.type not in (3, 5) or "message" not in interaction.payload:
                errors = validate.Errors()
                errors.add(
                    ("type",),
                    "INTERACTION_RESPONSE_TYPE_INVALID",
                    "This interaction has no message.",
                )
                raise _invalid(errors)
            target = self._messages.get(int(interaction.payload["message"]["id"]))
            interaction.original = target
            if kind == CallbackType.UPDATE_MESSAGE:
                self._check_message(data, request.files, create=False, prefix="data")
                if target is not None:
                    self._edit(target, data, request.files)
                interaction.edits.append(data)
            if target is None:
                return {"type": kind}
            return {"type": kind, "message": self._message_json(target)}
        if kind == CallbackType.AUTOCOMPLETE:
            errors = validate.check_choices(data)
            if errors:
                raise _invalid(errors)
            return {"type": kind}
        errors = validate.check_modal(data)
        if errors:
            raise _invalid(errors)
        return {"type": kind}

    def _check_message(
        self, payload: Any, files: list[FileRecord], *, create: bool, prefix: str | None = None
    ) -> None:
        errors = validate.check_message(payload, files=len(files))
        if errors:
            raise _invalid(_wrap(prefix, errors) if prefix else errors)
        if create and validate.is_empty_message(payload, len(files)):
            raise _Refusal(400, 50006, "Cannot send an empty message")
        if sum(len(f.content) for f in files) > self.attachment_size_limit:
            raise _Refusal(413, 40005, "Request entity too large")

    def _store_message(
        self,
        payload: JSON,
        files: list[FileRecord],
        channel_id: int,
        guild_id: int | None,
        kind: str,
        interaction: InteractionRecord | None = None,
        *,
        webhook_id: int | None = None,
        visible: bool = True,
    ) -> MessageRecord:
        message = MessageRecord(
            self.new_id(),
            channel_id,
            guild_id,
            kind,
            payload={**payload, "flags": int(payload.get("flags") or 0)},
            files=self._attach(files),
            history=[payload] if visible else [],  # a deferral's placeholder: not sent
            interaction_id=None if interaction is None else interaction.id,
            webhook_id=webhook_id,
            visible_payload=payload if visible else None,
        )
        self.messages.append(message)
        self._messages[message.id] = message
        return message

    def _attach(self, files: list[FileRecord]) -> list[FileRecord]:
        for f in files:
            f.id = f.id or self.new_id()
        return list(files)

    def _edit(self, message: MessageRecord, payload: JSON, files: list[FileRecord]) -> None:
        merged = {**message.payload, **{k: v for k, v in payload.items() if k != "attachments"}}
        merged["flags"] = (int(message.payload.get("flags") or 0) & ~MESSAGE_FLAG_LOADING) | (
            int(payload.get("flags") or 0) & ~MESSAGE_FLAG_EPHEMERAL
        )
        if "attachments" in payload:
            keep = {str(a.get("id")) for a in payload["attachments"] or [] if isinstance(a, dict)}
            message.files = [f for f in message.files if str(f.id) in keep]
        message.files += self._attach(files)
        message.payload = merged
        message.history.append(payload)
        if message.visible_payload is None:
            message.visible_payload = merged

    def _message_json(self, message: MessageRecord) -> JSON:
        sent = message.payload
        timestamp = snowflake_time(message.id).isoformat()
        author = self.bot.user_payload()
        if message.webhook_id is not None:
            webhook = self.webhooks.get(message.webhook_id)
            author = {
                "id": str(message.webhook_id),
                "username": webhook.name if webhook else "webhook",
                "discriminator": "0000",
                "avatar": None,
                "bot": True,
            }
        data: JSON = {
            "id": str(message.id),
            "channel_id": str(message.channel_id),
            "type": 20 if message.kind == "interaction" else 0,
            "content": str(sent.get("content") or ""),
            "author": author,
            "embeds": list(sent.get("embeds") or []),
            "attachments": [
                {
                    "id": str(f.id),
                    "filename": f.filename,
                    "size": len(f.content),
                    "url": f"{self.base_url}/attachments/{message.id}/{f.filename}",
                    "proxy_url": f"{self.base_url}/attachments/{message.id}/{f.filename}",
                    "content_type": f.content_type,
                }
                for f in message.files
            ],
            "components": list(sent.get("components") or []),
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": bool(sent.get("tts")),
            "timestamp": timestamp,
            "edited_timestamp": timestamp if len(message.history) > 1 else None,
            "flags": message.flags,
        }
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
        if message.webhook_id is not None:
            data["webhook_id"] = str(message.webhook_id)
        if message.interaction_id is not None:
            data["application_id"] = str(self.application_id)
            data["webhook_id"] = str(self.application_id)
        return data

    # webhooks: interaction followups (application id + interaction token) and incoming ones

    def _webhook_target(self, request: _Request) -> tuple[InteractionRecord | None, Webhook | None]:
        webhook_id, token = int(request.params["webhook"]), request.params["token"]
        if webhook_id == self.application_id:
            interaction = next((i for i in self.interactions if i.token == token), None)
            if interaction is None:
                raise _Refusal(404, 10015, "Unknown Webhook")
            return interaction, None
        webhook = self.webhooks.get(webhook_id)
        if webhook is None or webhook.token != token:
            raise _Refusal(404, 10015, "Unknown Webhook", violation=False)
        if webhook.channel_id not in self._channels:
            raise _Refusal(404, 10015, "Unknown Webhook", violation=False)
        return None, webhook

    async def _post_webhook(self, request: _Request) -> web.StreamResponse:
        interaction, webhook = self._webhook_target(request)
        payload = request.body if isinstance(request.body, dict) else {}
        self._check_message(payload, request.files, create=True)
        if interaction is not None:
            if interaction.callback is None:
                raise _Refusal(404, 10015, "Unknown Webhook")
            original = interaction.original
            if (
                original is not None
                and original.visible_payload is None
                and interaction.callback.type == CallbackType.DEFERRED_MESSAGE
                and original not in interaction.followups
            ):
                # Discord: the first followup after a deferral replaces the "thinking" message.
                self._edit(original, payload, request.files)
                interaction.followups.append(original)
                return self._json(self._message_json(original))
            message = self._store_message(
                payload,
                request.files,
                int(interaction.payload["channel_id"]),
                int(interaction.payload["guild_id"]),
                "followup",
                interaction,
            )
            interaction.followups.append(message)
            return self._json(self._message_json(message))
        assert webhook is not None
        clean = {**payload, "flags": int(payload.get("flags") or 0) & ~MESSAGE_FLAG_EPHEMERAL}
        message = self._store_message(
            clean,
            request.files,
            webhook.channel_id,
            webhook.guild_id,
            "webhook",
            webhook_id=webhook.id,
        )
        if request.raw.query.get("wait") in ("1", "true", "True"):
            return self._json(self._message_json(message))
        return web.Response(status=204)

    async def _get_webhook(self, request: _Request) -> web.StreamResponse:
        _, webhook = self._webhook_target(request)
        if webhook is None:
            raise _Refusal(404, 10015, "Unknown Webhook", violation=False)
        return self._json(webhook.payload())

    async def _get_channel_webhooks(self, request: _Request) -> web.StreamResponse:
        channel = self._channel_for(request)
        return self._json(
            [w.payload() for w in self.webhooks.values() if w.channel_id == channel.id]
        )

    def _webhook_message(self, request: _Request) -> tuple[InteractionRecord | None, MessageRecord]:
        interaction, webhook = self._webhook_target(request)
        key = request.params["message"]
        if key == "@original":
            if interaction is None or interaction.original is None:
                raise _Refusal(404, 10008, "Unknown Message")
            return interaction, interaction.original
        message = self._messages.get(int(key)) if key.isdigit() else None
        owner_ok = message is not None and (
            (interaction is not None and message.interaction_id == interaction.id)
            or (webhook is not None and message.webhook_id == webhook.id)
        )
        if message is None or not owner_ok or message.deleted:
            raise _Refusal(404, 10008, "Unknown Message")
        return interaction, message

    async def _get_webhook_message(self, request: _Request) -> web.StreamResponse:
        _, message = self._webhook_message(request)
        return self._json(self._message_json(message))

    async def _patch_webhook_message(self, request: _Request) -> web.StreamResponse:
        interaction, message = self._webhook_message(request)
        payload = request.body if isinstance(request.body, dict) else {}
        self._check_message(payload, request.files, create=False)
        self._edit(message, payload, request.files)
        if interaction is not None:
            interaction.edits.append(payload)
        return self._json(self._message_json(message))

    async def _delete_webhook_message(self, request: _Request) -> web.StreamResponse:
        interaction, message = self._webhook_message(request)
        message.deleted = True
        if interaction is not None:
            interaction.deleted.append(request.params["message"])
        return web.Response(status=204)

    # channels and guilds

    def _channel_for(self, request: _Request) -> Channel:
        channel = self._channels.get(int(request.params["channel"]))
        if channel is None:
            raise _Refusal(404, 10003, "Unknown Channel", violation=False)
        return channel

    async def _get_channel(self, request: _Request) -> web.StreamResponse:
        return self._json(self._channel_for(request).payload())

    async def _post_channel_message(self, request: _Request) -> web.StreamResponse:
        channel = self._channel_for(request)
        payload = request.body if isinstance(request.body, dict) else {}
        self._check_message(payload, request.files, create=True)
        message = self._store_message(
            payload, request.files, channel.id, channel.guild_id, "channel"
        )
        return self._json(self._message_json(message))

    def _channel_message(self, request: _Request) -> MessageRecord:
        channel = self._channel_for(request)
        message = self._messages.get(int(request.params["message"]))
        if message is None or message.channel_id != channel.id or message.deleted:
            raise _Refusal(404, 10008, "Unknown Message", violation=False)
        return message

    async def _get_channel_message(self, request: _Request) -> web.StreamResponse:
        return self._json(self._message_json(self._channel_message(request)))

    async def _patch_channel_message(self, request: _Request) -> web.StreamResponse:
        message = self._channel_message(request)
        payload = request.body if isinstance(request.body, dict) else {}
        self._check_message(payload, request.files, create=False)
        self._edit(message, payload, request.files)
        return self._json(self._message_json(message))

    async def _delete_channel_message(self, request: _Request) -> web.StreamResponse:
        self._channel_message(request).deleted = True
        return web.Response(status=204)

    def _guild_for(self, request: _Request) -> Guild:
        try:
            return self.guild(int(request.params["guild"]))
        except KeyError:
            raise _Refusal(404, 10004, "Unknown Guild", violation=False) from None

    async def _get_guild(self, request: _Request) -> web.StreamResponse:
        return self._json(self._guild_for(request).payload())

    async def _get_guild_channels(self, request: _Request) -> web.StreamResponse:
        return self._json([c.payload() for c in self._guild_for(request).channels])

    async def _get_guild_roles(self, request: _Request) -> web.StreamResponse:
        return self._json([r.payload() for r in self._guild_for(request).roles])

    async def _get_guild_member(self, request: _Request) -> web.StreamResponse:
        guild = self._guild_for(request)
        user_id = int(request.params["user"])
        member = next((m for m in guild.members if m.id == user_id), None)
        if member is None:
            raise _Refusal(404, 10007, "Unknown Member", violation=False)
        return self._json(member.member_payload())


def _interaction_of(path: str) -> int | None:
    match = re.match(r"^/interactions/(\d+)/", path)
    return int(match.group(1)) if match else None


def _find_component(items: list[Any], custom_id: str) -> JSON | None:
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("custom_id") == custom_id:
            return item
        found = _find_component(list(item.get("components") or []), custom_id)
        if found is not None:
            return found
    return None


@contextlib.contextmanager
def patched_discord(double: DiscordDouble) -> Iterator[None]:
    """Point discord.py's REST base and default gateway at ``double``; restore both after."""
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = double.api_url
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(double.gateway_url)
    try:
        yield
    finally:
        Route.BASE = old_base
        DiscordWebSocket.DEFAULT_GATEWAY = old_gateway
