"""Delivery end to end through the unmodified discord.py client, over real HTTP on 127.0.0.1.

Channel messages go through a logged-in ``discord.Client`` and webhook executes through
``discord.Webhook.from_url``; both reach a small Discord REST stand-in served here (the
REST base is ``discord.http.Route.BASE``), which answers like Discord, including 429 with
``retry_after``, 5xx, 403 (50013 missing permissions) and 404 (10003, 10015). The ledger and
the schedule state are asserted in the store. Waits are recorded, not slept.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import pytest
from aiohttp import web

from bot import scheduler as jobs
from bot.digests import DigestService
from briefs.clock import FrozenClock
from briefs.schedules import make_timing
from tests.feedserver import FeedServer
from tests.schedule_kit import process, scheduler_for, settings_env, stop

GUILD = "111111111111111111"
CHANNEL = "222222222222222222"
HOOK_ID = "333333333333333333"
TOKEN = "t0ken" * 14
AT = datetime(2026, 11, 22, 6, 0, 5, tzinfo=UTC)  # just after 08:00 in Kyiv


def _user(user_id: str = "999999999999999999") -> dict[str, Any]:
    return {"id": user_id, "username": "briefbot", "discriminator": "0", "avatar": None}


class DiscordREST:
    """Discord's REST answers for login, channel messages and webhook executes."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []  # accepted, with "where"
        self.requests: list[tuple[str, str]] = []
        self.failures: list[tuple[int, dict[str, Any]]] = []  # answered in order, then OK
        self.next_id = 500000000000000000

    def fail(self, status: int, code: int = 0, **extra: Any) -> None:
        body: dict[str, Any] = {"message": f"error {status}", "code": code, **extra}
        self.failures.append((status, body))

    async def handle(self, request: web.Request) -> web.Response:
        path = request.path.removeprefix("/api/v10")
        self.requests.append((request.method, path))
        if path == "/users/@me":
            return self._json(_user())
        if path == "/oauth2/applications/@me":
            return self._json(
                {
                    "id": "999999999999999999",
                    "name": "briefbot",
                    "description": "",
                    "icon": None,
                    "bot_public": True,
                    "bot_require_code_grant": False,
                    "owner": _user("888888888888888888"),
                    "verify_key": "00",
                    "flags": 0,
                }
            )
        if request.method == "POST" and (
            path.startswith("/webhooks/") or path.endswith("/messages")
        ):
            if self.failures:
                status, body = self.failures.pop(0)
                headers = {}
                if status == 429:
                    headers = {"Via": "1.1 google", "Retry-After": str(body["retry_after"])}
                return self._json(body, status, headers)
            payload = await self._payload(request)
            self.next_id += 1
            channel = path.split("/")[2] if path.startswith("/channels/") else CHANNEL
            message = {
                "id": str(self.next_id),
                "channel_id": channel,
                "type": 0,
                "content": payload.get("content", ""),
                "author": _user(),
                "embeds": payload.get("embeds", []),
                "attachments": [],
                "mentions": [],
                "mention_roles": [],
                "pinned": False,
                "mention_everyone": False,
                "tts": False,
                "timestamp": "2026-11-22T06:00:05+00:00",
                "edited_timestamp": None,
                "flags": 0,
                "components": [],
            }
            self.messages.append({**payload, "where": path, "id": message["id"]})
            return self._json(message)
        return self._json({"message": "404: Not Found", "code": 0}, 404)

    async def _payload(self, request: web.Request) -> dict[str, Any]:
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            return dict(json.loads(str(form["payload_json"])))
        return dict(await request.json())

    @staticmethod
    def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        # discord.py wants exactly "application/json" (no charset) to parse a body.
        return web.Response(
            status=status,
            body=json.dumps(body).encode(),
            content_type="application/json",
            headers=headers or {},
        )


class RestServer(FeedServer):
    """The feed tests' HTTP server thread, answering every path with ``DiscordREST``."""

    def __init__(self, fake: DiscordREST) -> None:
        super().__init__()
        self.fake = fake

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        return await self.fake.handle(request)


@pytest.fixture
def rest(monkeypatch: pytest.MonkeyPatch) -> Iterator[DiscordREST]:
    fake = DiscordREST()
    with RestServer(fake) as server:
        base = f"http://127.0.0.1:{server.port}/api/v10"
        monkeypatch.setattr(discord.http.Route, "BASE", base)
        yield fake


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return settings_env(
        f"sqlite:///{tmp_path / 'store.sqlite3'}",
        str(tmp_path),
        BRIEFBOT_SCHEDULES_RETRIES="2",
    )


WEBHOOK = f"https://discord.com/api/webhooks/{HOOK_ID}/{TOKEN}"


def _setup(env: dict[str, str], *, webhook: bool) -> int:
    service = process(env, FrozenClock(datetime(2026, 11, 21, 12, tzinfo=UTC)))
    target = {"webhook_url": WEBHOOK} if webhook else {"channel_id": CHANNEL}
    schedule = service.engine.store.schedules.save(
        GUILD, make_timing("daily", "08:00", "Europe/Kyiv"), service.engine.clock(), **target
    )
    stop(service)
    return schedule.id


def _run(env: dict[str, str], at: datetime = AT) -> tuple[list[Any], DigestService, list[float]]:
    """One process: log in, run the start-up sweep, log out. Returns results and waits."""
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def go() -> tuple[list[Any], DigestService]:
        import aiohttp

        client = discord.Client(intents=discord.Intents.none())
        await client.login("not-a-real-token")
        async with aiohttp.ClientSession() as session:
            service = process(env, FrozenClock(at), client=client, session=session, sleep=sleep)
            scheduler_for(service, poll=False)
            try:
                results = await jobs.sweep()
            finally:
                await client.close()
                stop(service)
        return results, service

    results, service = asyncio.run(go())
    return results, service, waits


def _deliveries(env: dict[str, str]) -> list[tuple[str, str | None]]:
    service = process(env, FrozenClock(AT))
    found = [(d.status, d.error) for d in service.engine.store.schedules.deliveries()]
    stop(service)
    return found


def _schedule(env: dict[str, str], schedule_id: int) -> Any:
    service = process(env, FrozenClock(AT))
    found = service.engine.store.schedules.get(schedule_id)
    stop(service)
    return found


@pytest.mark.parametrize("webhook", [False, True], ids=["channel", "webhook"])
def test_a_digest_is_posted_once_with_no_mentions(
    rest: DiscordREST, env: dict[str, str], webhook: bool
) -> None:
    _setup(env, webhook=webhook)
    results, _, _ = _run(env)
    assert [r.status for r in results] == ["sent"]
    assert len(rest.messages) >= 1
    where = rest.messages[0]["where"]
    assert where == (f"/webhooks/{HOOK_ID}/{TOKEN}" if webhook else f"/channels/{CHANNEL}/messages")
    assert all(m["allowed_mentions"] == {"parse": []} for m in rest.messages)
    if not webhook:
        assert all(len(m["nonce"]) <= 25 and m["enforce_nonce"] for m in rest.messages)
    assert results[0].message_ids == [m["id"] for m in rest.messages]
    again, _, _ = _run(env, AT.replace(minute=30))
    assert again == [] and len(rest.messages) == len(results[0].message_ids)
    assert _deliveries(env) == [("sent", None)]


@pytest.mark.parametrize(
    ("status", "code", "webhook", "words"),
    [
        (403, 50013, False, "Discord answered 403 (missing permissions, code 50013)"),
        (404, 10003, False, "Discord answered 404 (unknown channel, code 10003)"),
        (404, 10015, True, "Discord answered 404 (unknown webhook, code 10015)"),
    ],
)
def test_403_and_404_disable_the_schedule_with_the_reason(
    rest: DiscordREST,
    env: dict[str, str],
    status: int,
    code: int,
    webhook: bool,
    words: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sid = _setup(env, webhook=webhook)
    rest.fail(status, code)
    results, _, _ = _run(env)
    assert [r.status for r in results] == ["disabled"]
    schedule = _schedule(env, sid)
    assert not schedule.enabled
    assert schedule.disabled_reason.startswith(words)
    assert TOKEN not in schedule.disabled_reason
    assert any(
        r.name == "briefbot.schedules" and f"schedule {sid} disabled" in r.getMessage()
        for r in caplog.records
    )
    assert _deliveries(env) == [("failed", words)]
    # Disabled: later runs post nothing and say why; the show command says so.
    later, _, _ = _run(env, AT.replace(day=23))
    assert later == [] and rest.messages == []
    from bot.cli_schedule import show

    assert f"DISABLED: {words}" in show(schedule, [], AT)


def test_5xx_is_retried_with_backoff(rest: DiscordREST, env: dict[str, str]) -> None:
    _setup(env, webhook=False)
    rest.fail(503)
    rest.fail(503)
    results, _, waits = _run(env)
    assert [r.status for r in results] == ["sent"]
    assert waits == [5.0, 10.0]  # backoff doubling from retry_backoff_seconds
    assert len(rest.messages) >= 1
    assert len({m["nonce"] for m in rest.messages}) == len(rest.messages)


def test_5xx_beyond_the_retries_fails_the_window_but_not_the_schedule(
    rest: DiscordREST, env: dict[str, str]
) -> None:
    sid = _setup(env, webhook=False)
    for _ in range(3):
        rest.fail(503)
    results, _, waits = _run(env)
    assert [r.status for r in results] == ["failed"]
    assert waits == [5.0, 10.0]
    assert _schedule(env, sid).enabled
    assert _deliveries(env) == [("failed", "Discord answered 503 (error 503)")]
    # The next day's digest covers the failed window too (starts at the last success).
    results, _, _ = _run(env, AT.replace(day=23))
    assert [r.status for r in results] == ["sent"]
    assert results[0].window is not None
    assert results[0].window.start == datetime(2026, 11, 21, 6, tzinfo=UTC)


@pytest.mark.parametrize("webhook", [False, True], ids=["channel", "webhook"])
def test_429_waits_as_told_then_sends(
    rest: DiscordREST, env: dict[str, str], webhook: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    _setup(env, webhook=webhook)
    told: list[float] = []
    real_sleep = asyncio.sleep

    async def record(seconds: float, *args: Any) -> Any:
        told.append(seconds)
        return await real_sleep(0)

    # discord.py waits out a 429 itself (asyncio.sleep inside the library): record it.
    monkeypatch.setattr(asyncio, "sleep", record)
    rest.fail(429, 0, retry_after=3.5, **{"global": False})
    results, _, _ = _run(env)
    assert [r.status for r in results] == ["sent"]
    assert 3.5 in told
    assert len(rest.messages) >= 1


def test_a_final_429_beyond_the_limit_fails_without_disabling(
    rest: DiscordREST, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {**env, "BRIEFBOT_SCHEDULES_MAX_RATE_LIMIT_WAIT_SECONDS": "60"}
    sid = _setup(env, webhook=False)

    async def no_wait(seconds: float, *args: Any) -> None:
        return None

    monkeypatch.setattr(asyncio, "sleep", no_wait)
    for _ in range(5):  # discord.py waits (recorded, not slept) and gives up after 5 tries
        rest.fail(429, 0, retry_after=3600.0)
    results, _, _ = _run(env)
    assert [r.status for r in results] == ["failed"]
    assert results[0].error is not None and "429" in results[0].error
    assert rest.messages == []
    assert _schedule(env, sid).enabled
