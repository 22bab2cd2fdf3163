"""Scheduled delivery end to end: the real bot, its real scheduler, the Discord API double.

Each test runs ``BriefBot`` (discord.py unmodified) against the shared Discord API double
(tests/discord_double), on a copy of an analysed seed store (the seed articles came in at
08:00 UTC on 2026-11-22). A daily 14:00 Europe/Kyiv schedule (12:00 UTC) is due at DUE;
tests move the engine's clock there and call the job function APScheduler calls
(``bot.scheduler.run_schedule``), so time moves without sleeping. The double answers like
Discord, including injected 429s, 5xx, 403 (50013) and 404 (10003 unknown channel, 10015
unknown webhook); the ledger and the schedule's state are asserted in the store, and
``/schedule show`` and ``briefbot schedule show`` must say why a schedule stopped. The
service's own waits (backoff, rate limits) are recorded, not slept.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import scheduler as jobs
from bot.app import BriefBot
from bot.cli import main
from bot.services.shared import Services
from briefs.clock import FrozenClock
from briefs.schedules import make_timing
from briefs.settings import load_settings
from tests.discord_double import (
    Channel,
    DiscordDouble,
    Failure,
    Guild,
    MessageRecord,
    Webhook,
)
from tests.schedule_kit import build_seed_store, scheduler_of, settings_env

SEEDS_AT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)  # when the seed articles came in
SET_AT = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # when the schedule was set
DUE = datetime(2026, 11, 22, 12, 0, 5, tzinfo=UTC)  # just after 14:00 in Kyiv
TIMING = make_timing("daily", "14:00", "Europe/Kyiv")
TITLE = "Daily digest: 2026-11-21 14:00 to 2026-11-22 14:00 Europe/Kyiv"
CITATION = re.compile(r"[0-9a-f]{12}:\d+")
MESSAGES = "/channels/*/messages"


@pytest.fixture(scope="module")
def seed_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_seed_store(tmp_path_factory.mktemp("seeded") / "seed.sqlite3", SEEDS_AT)


@dataclass
class World:
    """One guild on the double, one store file shared by every bot "process" of a test."""

    double: DiscordDouble
    guild: Guild
    channel: Channel
    env: dict[str, str]
    clock: FrozenClock = field(default_factory=lambda: FrozenClock(SET_AT))
    waits: list[float] = field(default_factory=list)
    engines: list[Services] = field(default_factory=list)

    def engine(self) -> Services:
        engine = Services(load_settings(self.env), self.clock)
        self.engines.append(engine)
        return engine

    def schedule(self, webhook: Webhook | None = None) -> int:
        """The guild's 14:00 Kyiv schedule, to the channel or a webhook, set at SET_AT."""
        target = (
            {"webhook_url": webhook.discord_url}
            if webhook is not None
            else {"channel_id": str(self.channel.id)}
        )
        engine = self.engine()
        return engine.store.schedules.save(str(self.guild.id), TIMING, SET_AT, **target).id

    @asynccontextmanager
    async def bot(self, **options: Any) -> AsyncIterator[BriefBot]:
        """A bot "process": connected, its scheduler started and its start-up catch-up
        done; the digest service's waits recorded instead of slept."""
        bot = BriefBot(self.engine(), **options)
        async with self.double.running(bot):
            await scheduler_of(bot).caught_up()

            async def record(seconds: float) -> None:
                self.waits.append(seconds)

            scheduler_of(bot).service.sleep = record
            yield bot

    def posted(self) -> list[MessageRecord]:
        """Messages the scheduler posted (not interaction answers), in order."""
        return [m for m in self.double.messages if m.kind in ("channel", "webhook")]

    def ledger(self) -> list[tuple[str, str | None]]:
        engine = self.engine()
        return [(d.status, d.error) for d in engine.store.schedules.deliveries()]

    def cli(self, *args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(args), env=self.env, clock=self.clock, out=out, err=err)
        return code, out.getvalue(), err.getvalue()

    def assert_quiet_and_valid(self) -> None:
        """Nothing Discord would refuse, nothing pinged, no message that allows mentions."""
        assert self.double.violations == []
        self.double.assert_clean()
        for message in self.double.messages:
            for payload in message.history:
                if set(payload) - {"content", "flags"}:  # not the deferral's placeholder
                    assert payload.get("allowed_mentions") == {"parse": []}, payload


@pytest.fixture
def world(discord_double: DiscordDouble, seed_file: Path, tmp_path: Path) -> Iterator[World]:
    db = tmp_path / "store.sqlite3"
    shutil.copy(seed_file, db)
    env = settings_env(
        f"sqlite:///{db}",
        str(tmp_path),
        BRIEFBOT_SCHEDULES_RETRIES="2",
        BRIEFBOT_SCHEDULES_POST_WHEN_EMPTY="false",
    )
    guild = discord_double.add_guild("Analysts", channels=("general", "digests"))
    made = World(discord_double, guild, guild.channel("digests"), env)
    yield made
    for engine in made.engines:
        engine.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("webhook", [False, True], ids=["channel", "webhook"])
async def test_a_digest_is_posted_once_with_no_mentions(world: World, webhook: bool) -> None:
    hook = world.double.add_webhook(world.channel) if webhook else None
    sid = world.schedule(hook)
    async with world.bot() as bot:
        assert scheduler_of(bot).aps.get_job(jobs.job_id(sid)) is not None
        assert world.posted() == []  # 09:00: nothing due at start-up
        world.clock.now = DUE
        result = await scheduler_of(bot).run_schedule(sid)
        assert result.status == "sent", result.error
        posted = world.posted()
        assert [str(m.id) for m in posted] == result.message_ids
        assert all(m.channel_id == world.channel.id for m in posted)
        if hook is not None:
            assert all(m.kind == "webhook" and m.webhook_id == hook.id for m in posted)
        else:
            nonces = [m.history[0]["nonce"] for m in posted]
            assert all(len(n) <= 25 for n in nonces) and len(set(nonces)) == len(nonces)
            assert all(m.kind == "channel" and m.history[0]["enforce_nonce"] for m in posted)
        text = "\n".join(m.text() for m in posted)
        assert TITLE in text and CITATION.search(text)
        # The same job retried, a sweep, half an hour later: nothing more.
        world.clock.now = DUE + timedelta(minutes=30)
        assert (await scheduler_of(bot).run_schedule(sid)).status == "not_due"
        assert await scheduler_of(bot).sweep() == []
    async with world.bot() as bot:  # restarted: the start-up catch-up posts nothing more
        assert scheduler_of(bot).aps.get_job(jobs.job_id(sid)) is not None
    assert len(world.posted()) == len(result.message_ids)
    assert world.ledger() == [("sent", None)]
    assert world.waits == []
    world.assert_quiet_and_valid()


GONE = [
    ("missing-permissions", False, "Discord answered 403 (missing permissions, code 50013)"),
    ("channel-deleted", False, "Discord answered 404 (unknown channel, code 10003)"),
    ("webhook-gone", True, "Discord answered 404 (unknown webhook, code 10015)"),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(("case", "webhook", "words"), GONE, ids=[g[0] for g in GONE])
async def test_403_and_404_disable_the_schedule_and_say_why(
    world: World, case: str, webhook: bool, words: str, caplog: pytest.LogCaptureFixture
) -> None:
    hook = world.double.add_webhook(world.channel) if webhook else None
    sid = world.schedule(hook)
    general = world.guild.channel("general")
    world.guild.system_channel_id = general.id  # where Discord sends system notices
    async with world.bot() as bot:
        if case == "missing-permissions":
            world.double.fail_next("POST", MESSAGES, Failure.missing_permissions())
        else:
            world.double.remove_channel(world.channel)  # the webhook goes with its channel
        world.clock.now = DUE
        result = await scheduler_of(bot).run_schedule(sid)
        assert result.status == "disabled"
        assert result.error is not None and result.error.startswith(words)
        assert scheduler_of(bot).aps.get_job(jobs.job_id(sid)) is None  # no job left to stop
        # The guild is told in its system channel, without pinging anyone.
        notice = world.double.channel_messages(general.id)
        assert len(notice) == 1 and f"schedule {sid}" in notice[0].content
        assert words in notice[0].content and "/schedule set" in notice[0].content
        # Later runs post nothing and say why.
        world.clock.now = DUE + timedelta(days=1)
        assert (await scheduler_of(bot).run_schedule(sid)).status == "inactive"
        assert await scheduler_of(bot).sweep() == []
        # /schedule show tells the managers.
        ix = await world.double.command(
            "schedule show", {}, guild=world.guild, user=world.guild.member("manager")
        )
        shown = (await ix.wait_followups(1))[0]
        assert shown.ephemeral and f"DISABLED: {words}" in shown.text()
    schedule = world.engine().store.schedules.get(sid)
    assert not schedule.enabled and schedule.disabled_reason is not None
    assert schedule.disabled_reason.startswith(words)
    assert "when posting to" in schedule.disabled_reason
    if hook is not None:
        assert hook.token not in schedule.disabled_reason
    assert world.ledger() == [("failed", words)]
    assert [m.channel_id for m in world.posted()] == [general.id]  # only the notice
    assert any(
        r.name == "briefbot.schedules" and f"schedule {sid} disabled" in r.getMessage()
        for r in caplog.records
    )
    code, out, _ = world.cli("schedule", "show", "--guild", str(world.guild.id))
    assert code == 0 and f"DISABLED: {words}" in out
    world.assert_quiet_and_valid()


@pytest.mark.asyncio
async def test_5xx_is_retried_with_backoff(world: World) -> None:
    sid = world.schedule()
    async with world.bot() as bot:
        world.double.fail_next("POST", MESSAGES, Failure.server_error(503), times=2)
        world.clock.now = DUE
        result = await scheduler_of(bot).run_schedule(sid)
    assert result.status == "sent"
    assert world.waits == [5.0, 10.0]  # doubling from retry_backoff_seconds
    assert [r.status for r in world.double.injected] == [503, 503]
    assert [str(m.id) for m in world.posted()] == result.message_ids
    assert world.ledger() == [("sent", None)]
    world.assert_quiet_and_valid()


@pytest.mark.asyncio
async def test_a_webhook_5xx_is_retried_and_the_window_sent_once(world: World) -> None:
    """discord.py's webhook adapter retries a 5xx itself (after 1 s, then 3 s, ...), before the
    service's own retries: one 503, then the digest goes out once and the ledger says sent."""
    hook = world.double.add_webhook(world.channel)
    sid = world.schedule(hook)
    async with world.bot() as bot:
        world.double.fail_next("POST", f"/webhooks/{hook.id}/*", Failure.server_error(503))
        world.clock.now = DUE
        result = await scheduler_of(bot).run_schedule(sid)
    assert result.status == "sent"
    assert [r.status for r in world.double.injected] == [503]
    posted = world.double.webhook_messages(hook.id)
    assert posted and [str(m.id) for m in posted] == result.message_ids
    assert world.ledger() == [("sent", None)]
    world.assert_quiet_and_valid()


@pytest.mark.asyncio
async def test_5xx_beyond_the_retries_fails_the_window_not_the_schedule(world: World) -> None:
    sid = world.schedule()
    async with world.bot() as bot:
        world.double.fail_next("POST", MESSAGES, Failure.server_error(503), times=3)
        world.clock.now = DUE
        failed = await scheduler_of(bot).run_schedule(sid)
        assert failed.status == "failed" and world.posted() == []
        assert world.waits == [5.0, 10.0]
        # The next day's digest covers the failed window too: it starts where that one did.
        world.clock.now = DUE + timedelta(days=1)
        result = await scheduler_of(bot).run_schedule(sid)
    assert result.status == "sent" and result.window is not None
    assert result.window.start == datetime(2026, 11, 21, 12, tzinfo=UTC)
    assert CITATION.search("\n".join(m.text() for m in world.posted()))
    assert world.engine().store.schedules.get(sid).enabled
    failure = "Discord answered 503 (500: Internal Server Error)"
    assert world.ledger() == [("sent", None), ("failed", failure)]
    world.assert_quiet_and_valid()


@pytest.mark.asyncio
@pytest.mark.parametrize("webhook", [False, True], ids=["channel", "webhook"])
async def test_429_waits_as_told_then_sends(world: World, webhook: bool) -> None:
    hook = world.double.add_webhook(world.channel) if webhook else None
    sid = world.schedule(hook)
    path = f"/webhooks/{hook.id}/*" if hook is not None else MESSAGES
    async with world.bot() as bot:
        world.double.fail_next("POST", path, Failure.rate_limited(0.05))
        world.clock.now = DUE
        result = await scheduler_of(bot).run_schedule(sid)
    assert result.status == "sent"
    limited = world.double.injected[0]
    retry = next(r for r in world.double.requests if r.at > limited.at and r.method == "POST")
    assert limited.status == 429 and retry.status == 200
    assert retry.at - limited.at >= 0.05  # discord.py waited as told before retrying
    assert [str(m.id) for m in world.posted()] == result.message_ids
    world.assert_quiet_and_valid()


@pytest.mark.asyncio
async def test_a_long_429_is_waited_out_by_the_service_or_fails_beyond_its_limit(
    world: World,
) -> None:
    """The production bot's discord.py hands back 429s longer than 60 s (``ratelimit_timeout``);
    the service waits ``retry_after`` itself up to ``max_rate_limit_wait_seconds``, else fails
    the window (its items go into the next digest) without disabling the schedule."""
    world.env["BRIEFBOT_SCHEDULES_MAX_RATE_LIMIT_WAIT_SECONDS"] = "120"
    sid = world.schedule()
    async with world.bot() as bot:
        assert bot.http.max_ratelimit_timeout == 60.0
        world.double.fail_next("POST", MESSAGES, Failure.rate_limited(3600.0))
        world.clock.now = DUE
        failed = await scheduler_of(bot).run_schedule(sid)
        assert failed.status == "failed" and failed.error is not None and "429" in failed.error
        assert world.waits == [] and world.posted() == []
        world.double.fail_next("POST", MESSAGES, Failure.rate_limited(90.0))
        world.clock.now = DUE + timedelta(days=1)
        result = await scheduler_of(bot).run_schedule(sid)
    assert result.status == "sent"
    assert world.waits == [90.0]
    assert world.engine().store.schedules.get(sid).enabled
    assert [s for s, _ in world.ledger()] == ["sent", "failed"]
    world.assert_quiet_and_valid()
