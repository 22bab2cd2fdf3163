"""``/schedule`` and ``/digest`` end to end, and the real APScheduler inside the running bot.

The real ``BriefBot`` (discord.py unmodified) runs against the Discord API double on a copy
of an analysed seed store (the seed articles came in at 08:00 UTC on 2026-11-22); users act
through INTERACTION_CREATE as on Discord. ``start_scheduler`` runs the real
``AsyncIOScheduler``: jobs are rebuilt from the store at start-up, a due schedule fires on
its own (the engine's clock runs at real speed from a second before the fire time, so the
test takes about a second and never sleeps to move time), and restarts on the same SQLite
file post each window once and a missed window once, as one catch-up.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent

from bot import scheduler as jobs
from bot.app import BriefBot
from bot.services.digests import RunResult
from bot.services.shared import Services
from briefs.clock import FrozenClock
from briefs.ingest.files import ingest_files
from briefs.schedules import make_timing
from briefs.settings import load_settings
from tests.discord_double import (
    MANAGER_PERMISSIONS,
    CallbackType,
    DiscordDouble,
    Guild,
    InteractionRecord,
    MessageRecord,
)
from tests.schedule_kit import TickingClock, build_seed_store, scheduler_of, settings_env

SEEDS_AT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
SET_AT = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
FIRE = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # 14:00 in Kyiv
CITATION = re.compile(r"[0-9a-f]{12}:\d+")
DEFERRED = CallbackType.DEFERRED_MESSAGE
EPHEMERAL = 64


@pytest.fixture(scope="module")
def seed_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_seed_store(tmp_path_factory.mktemp("seeded") / "seed.sqlite3", SEEDS_AT)


@pytest.fixture
def env(seed_file: Path, tmp_path: Path) -> dict[str, str]:
    db = tmp_path / "store.sqlite3"
    shutil.copy(seed_file, db)
    return settings_env(
        f"sqlite:///{db}", str(tmp_path), BRIEFBOT_SCHEDULES_POST_WHEN_EMPTY="false"
    )


@pytest.fixture
def engines(env: dict[str, str]) -> Iterator[list[Services]]:
    made: list[Services] = []
    yield made
    for engine in made:
        engine.close()


@asynccontextmanager
async def running(
    double: DiscordDouble, env: dict[str, str], clock: Any, engines: list[Services]
) -> AsyncIterator[BriefBot]:
    """A bot "process" on the store of ``env``: connected, start-up catch-up done."""
    engine = Services(load_settings(env), clock)
    engines.append(engine)
    bot = BriefBot(engine)
    async with double.running(bot):
        await scheduler_of(bot).caught_up()
        yield bot


def attached(ix: InteractionRecord) -> bool:
    """A brief's last message carries its Markdown file: the whole answer is in."""
    return any(f.filename.endswith(".md") for f in ix.files)


async def ask(
    double: DiscordDouble,
    guild: Guild,
    name: str,
    options: dict[str, Any],
    user: str = "manager",
    until: Callable[[InteractionRecord], Any] = lambda ix: ix.followups,
) -> tuple[InteractionRecord, str]:
    """Run a command as ``user``; the answer must be private to the caller, deferred first."""
    ix = await double.command(name, options, guild=guild, user=guild.member(user))
    callback = await ix.wait_callback(timeout=3)
    assert callback.type == DEFERRED and callback.data is not None
    assert callback.data["flags"] & EPHEMERAL
    await ix.wait_for(until, timeout=10)
    assert all(m.ephemeral for m in ix.followups), "shown to the caller only"
    return ix, "\n".join(m.text() for m in ix.followups)


PORTS = ["Rajin", "Nampo", "Chongjin", "Wonsan", "Haeju", "Sinpo", "Hungnam", "Songrim"]
CARGO = ["artillery shells", "rocket launchers", "drone engines", "rifle cartridges",
         "armoured vehicles", "radar parts", "machine tools", "fuel oil"]  # fmt: skip
FLAGS = ["Togo", "Sierra Leone", "Palau", "Comoros", "Mongolia", "Cameroon"]


def write_articles(folder: Path, count: int) -> list[Path]:
    """``count`` distinct articles (each its own story) for digests longer than a message."""
    folder.mkdir()
    files = []
    for n in range(count):
        port, cargo = PORTS[n % len(PORTS)], CARGO[(n * 3) % len(CARGO)]
        flag, ship = FLAGS[n % len(FLAGS)], f"Vessel-{n:02d}"
        # Published five days apart: each its own event however alike the wording (a
        # store this small damps no shared word; docs/quality.md, "Stories").
        day = date(2023, 1, 2) + timedelta(days=5 * n)
        body = (
            f"Monitors track {ship} shipment {n} out of {port}\n\n"
            f"Published : {day:%B} {day.day}, {day.year} - 09:00\n\n"
            f"The {flag}-flagged freighter {ship} left {port} with a cargo of {cargo} on "
            f"day {n + 1} of the month, according to satellite imagery reviewed by analysts "
            f"of the monitoring group number {n}.\n\n"
            f"Officials in {flag} said registry case {1000 + n} concerning {ship} was opened "
            f"after inspectors found {cargo} listed under false customs codes.\n"
        )
        path = folder / f"article-{n:02d}.txt"
        path.write_text(body, encoding="utf-8")
        files.append(path)
    return files


def quiet(double: DiscordDouble) -> None:
    """Nothing Discord would refuse; every message the bot sent allows no mentions."""
    assert double.violations == []
    double.assert_clean()
    for message in double.messages:
        for payload in message.history:
            if set(payload) - {"content", "flags"}:  # not a deferral's placeholder
                assert payload.get("allowed_mentions") == {"parse": []}, payload


def posted(double: DiscordDouble, guild: Guild) -> list[MessageRecord]:
    return double.channel_messages(guild.channel("digests").id)


@pytest.mark.asyncio
async def test_schedule_commands_need_manage_server(
    discord_double: DiscordDouble, env: dict[str, str], engines: list[Services]
) -> None:
    guild = discord_double.add_guild(channels=("general", "digests"))
    async with running(discord_double, env, FrozenClock(SET_AT), engines):
        schedule = discord_double.find_command("schedule", guild.id)
        assert int(schedule["default_member_permissions"]) == 1 << 5  # Manage Server
        assert {o["name"] for o in schedule["options"]} == {"set", "show", "clear", "post-now"}
        digests = guild.channel("digests")
        for name, options in (
            ("schedule show", {}),
            ("schedule set", {"channel": digests.id, "time": "08:00"}),
            ("schedule post-now", {"schedule": "1"}),
            ("schedule clear", {"schedule": "1"}),
        ):
            ix = await discord_double.command(name, options, guild=guild)  # the analyst
            callback = await ix.wait_callback()
            assert callback.type == CallbackType.MESSAGE and callback.data is not None
            assert callback.data["flags"] & EPHEMERAL
            assert "Manage Guild permission" in callback.data["content"], name
        assert engines[0].store.schedules.list_schedules(str(guild.id)) == []
        ix = await discord_double.command(
            "schedule show", {}, guild=guild, permissions=MANAGER_PERMISSIONS
        )
        assert (await ix.wait_callback()).type == DEFERRED
        assert "No schedules here" in (await ix.wait_followups(1))[0].text()
    quiet(discord_double)


@pytest.mark.asyncio
async def test_schedule_set_show_clear(
    discord_double: DiscordDouble, env: dict[str, str], engines: list[Services]
) -> None:
    guild = discord_double.add_guild(channels=("general", "digests"))
    digests = guild.channel("digests")
    base = {"channel": digests.id, "time": "14:00", "timezone": "Europe/Kyiv"}
    async with running(discord_double, env, FrozenClock(SET_AT), engines) as bot:
        refused = {
            "unknown time zone 'europe/kyiv' (did you mean Europe/Kyiv?)": {
                "timezone": "europe/kyiv"
            },
            "unknown time zone 'Mars/Olympus' (e.g. Europe/Kyiv, Asia/Seoul, UTC)": {
                "timezone": "Mars/Olympus"
            },
            "time '25:00': expected HH:MM on a 24-hour clock, e.g. 08:00": {"time": "25:00"},
            "a weekly schedule needs a weekday (e.g. monday)": {"kind": "weekly"},
            "unknown topic 'cooking'": {"topics": "cooking"},
        }
        for words, change in refused.items():
            _, text = await ask(discord_double, guild, "schedule set", {**base, **change})
            assert text.startswith(f"Not saved: {words}"), text
        assert engines[0].store.schedules.list_schedules(str(guild.id)) == []

        _, text = await ask(discord_double, guild, "schedule set", {**base, "topics": "sanctions"})
        fire = int(FIRE.timestamp())
        assert text == (
            f"Schedule 1: daily at 14:00 Europe/Kyiv to <#{digests.id}>. Next digest <t:{fire}:F>."
        )
        job = scheduler_of(bot).aps.get_job(jobs.job_id(1))
        assert job is not None and job.args == (1,)  # the scheduler re-read the store at once

        _, text = await ask(discord_double, guild, "schedule show", {})
        assert f"[1] daily at 14:00 Europe/Kyiv to channel {digests.id}; topics sanctions" in text
        assert "next digest 2026-11-22 14:00 Europe/Kyiv (12:00 UTC)" in text
        assert "no digest posted yet" in text

        # Setting the same channel again changes that schedule (weekly, Seoul time now).
        change = {"time": "08:30", "timezone": "Asia/Seoul", "kind": "weekly", "weekday": "monday"}
        _, text = await ask(discord_double, guild, "schedule set", {**base, **change})
        assert text.startswith("Schedule 1: weekly on Monday at 08:30 Asia/Seoul")
        _, text = await ask(discord_double, guild, "schedule show", {})
        assert "next digest 2026-11-23 08:30 Asia/Seoul (23:30 UTC)" in text
        assert len(engines[0].store.schedules.list_schedules(str(guild.id))) == 1

        _, text = await ask(discord_double, guild, "schedule clear", {"schedule": "7"})
        assert text == "no schedule '7' here (see: /schedule show)"
        _, text = await ask(discord_double, guild, "schedule clear", {"schedule": "1"})
        assert text == "Schedule 1 cleared."
        assert scheduler_of(bot).aps.get_job(jobs.job_id(1)) is None
        _, text = await ask(discord_double, guild, "schedule show", {})
        assert text.startswith("No schedules here")
    assert posted(discord_double, guild) == []
    quiet(discord_double)


@pytest.mark.asyncio
async def test_post_now_posts_once_per_window(
    discord_double: DiscordDouble, env: dict[str, str], engines: list[Services]
) -> None:
    guild = discord_double.add_guild(channels=("general", "digests"))
    digests = guild.channel("digests")
    clock = FrozenClock(SET_AT)
    async with running(discord_double, env, clock, engines) as bot:
        kyiv = {"channel": digests.id, "time": "14:00", "timezone": "Europe/Kyiv"}
        await ask(discord_double, guild, "schedule set", kyiv)
        _, text = await ask(discord_double, guild, "schedule post-now", {"schedule": "1"})
        messages = posted(discord_double, guild)
        assert text == f"Posted ({len(messages)} messages)." and messages
        assert CITATION.search("\n".join(m.text() for m in messages))
        # Again at the same moment: that window is posted already.
        _, text = await ask(discord_double, guild, "schedule post-now", {"schedule": "1"})
        assert text == "A digest for this moment was just posted."
        # Ten minutes later: a new window, from where the last one ended; nothing new in it.
        clock.advance(timedelta(minutes=10))
        _, text = await ask(discord_double, guild, "schedule post-now", {"schedule": "1"})
        assert text == "Nothing new since the last digest; nothing posted."
        # The regular digest starts where the manual one ended: nothing new, nothing posted.
        clock.now = FIRE + timedelta(seconds=5)
        regular = await scheduler_of(bot).run_schedule(1)
        assert regular.status == "empty" and regular.window is not None
        assert regular.window.start == SET_AT + timedelta(minutes=10)
        _, text = await ask(discord_double, guild, "schedule post-now", {"schedule": "9"})
        assert text == "no schedule '9' here (see: /schedule show)"
    assert len(posted(discord_double, guild)) == len(messages)
    ledger = engines[0].store.schedules.deliveries(1)
    assert [d.status for d in ledger] == ["empty", "empty", "sent"]
    quiet(discord_double)


@pytest.mark.asyncio
async def test_digest_is_shown_to_the_caller_only(
    discord_double: DiscordDouble, env: dict[str, str], engines: list[Services], tmp_path: Path
) -> None:
    """Even when it takes several messages (every followup after the first needs its own
    ephemeral flag, or Discord shows it to the whole channel)."""
    guild = discord_double.add_guild(channels=("general", "digests"))
    env["BRIEFBOT_SCHEDULES_MAX_ITEMS"] = "60"
    setup = Services(load_settings(env), FrozenClock(SET_AT))
    engines.append(setup)
    files = write_articles(tmp_path / "articles", 24)
    came_in = FrozenClock(SEEDS_AT + timedelta(minutes=30))
    assert all(r.ok for r in ingest_files(setup.store, files, "file", came_in))
    async with running(discord_double, env, FrozenClock(SET_AT), engines):
        ix, text = await ask(discord_double, guild, "digest", {}, "analyst", until=attached)
        assert len(ix.followups) > 1, "one message: make the digest longer"
        assert text.startswith("Digest: 2026-11-21 09:00 to 2026-11-22 09:00 UTC")
        assert CITATION.search(text) and "outlet" in text
        ix, text = await ask(discord_double, guild, "digest", {"topics": "cooking"}, "analyst")
        assert "unknown topic 'cooking'" in text
    assert all(m.ephemeral for m in discord_double.messages)
    assert discord_double.channel_messages(guild.channel("general").id) == []
    assert engines[0].store.schedules.deliveries() == []  # a preview: no ledger
    quiet(discord_double)


# -- the real APScheduler -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_jobs_are_rebuilt_from_the_store_at_start_up(
    discord_double: DiscordDouble, env: dict[str, str], engines: list[Services]
) -> None:
    guild = discord_double.add_guild(channels=("general", "digests"))
    digests = guild.channel("digests")
    setup = Services(load_settings(env), FrozenClock(SET_AT))
    engines.append(setup)
    store = setup.store.schedules
    kyiv = store.save(
        str(guild.id),
        make_timing("daily", "14:00", "Europe/Kyiv"),
        SET_AT,
        channel_id=str(digests.id),
    )
    seoul = store.save(
        str(guild.id),
        make_timing("weekly", "08:30", "Asia/Seoul", "monday"),
        SET_AT,
        channel_id=str(guild.channel("general").id),
    )
    off = store.save("42", make_timing("daily", "07:00", "UTC"), SET_AT, channel_id="43")
    store.disable(off.id, "Discord answered 403 (missing permissions, code 50013)", SET_AT)

    async with running(discord_double, env, FrozenClock(SET_AT), engines) as bot:
        aps = scheduler_of(bot).aps
        assert aps.running
        ids = {job.id for job in aps.get_jobs()}
        assert ids == {"sweep", "poll-feeds", f"schedule:{kyiv.id}", f"schedule:{seoul.id}"}
        wall = datetime.now(UTC)
        for schedule, fire in (
            (kyiv, FIRE),
            (seoul, datetime(2026, 11, 22, 23, 30, tzinfo=UTC)),
        ):
            job = aps.get_job(jobs.job_id(schedule.id))
            assert job.func == scheduler_of(bot).run_schedule and job.args == (schedule.id,)
            assert job.coalesce and job.max_instances == 1
            assert job.misfire_grace_time == 12 * 3600  # [schedules] catch_up_hours
            # APScheduler waits in wall time: the engine's fire time, as far from now.
            assert abs(job.next_run_time - wall - (fire - SET_AT)) < timedelta(seconds=5)
        assert bot.next_digest is not None and bot.next_digest(guild.id) == FIRE

        # A schedule set by another process (briefbot schedule set): the sweep adds its job.
        later = store.save("77", make_timing("daily", "06:00", "UTC"), SET_AT, channel_id="78")
        assert aps.get_job(jobs.job_id(later.id)) is None
        assert await scheduler_of(bot).sweep() == []
        assert aps.get_job(jobs.job_id(later.id)) is not None
    assert bot.scheduler is None  # stopped with the bot
    quiet(discord_double)


@pytest.mark.asyncio
async def test_the_real_scheduler_fires_a_due_schedule(
    discord_double: DiscordDouble, env: dict[str, str], engines: list[Services]
) -> None:
    guild = discord_double.add_guild(channels=("general", "digests"))
    digests = guild.channel("digests")
    clock = TickingClock(SET_AT)
    executed: list[JobExecutionEvent] = []
    async with running(discord_double, env, clock, engines) as bot:
        scheduler_of(bot).aps.add_listener(executed.append, EVENT_JOB_EXECUTED)
        # A second before 14:00 Kyiv the schedule is set for 14:00; then the engine's time
        # runs. (Had the job fired before the clock ran, it would find nothing due and its
        # trigger would ask again for 14:00 engine time: the run below is still the one.)
        clock.set(FIRE - timedelta(seconds=1))
        await ask(
            discord_double,
            guild,
            "schedule set",
            {"channel": digests.id, "time": "14:00", "timezone": "Europe/Kyiv"},
        )
        job = scheduler_of(bot).aps.get_job(jobs.job_id(1))
        assert job is not None
        assert job.next_run_time - datetime.now(UTC) <= timedelta(seconds=1)
        clock.run_from(FIRE - timedelta(seconds=1))
        messages = await discord_double.wait_for_messages(digests.id, 1, timeout=5)
        sent = await discord_double.wait_for(
            lambda: [e for e in executed if e.retval and e.retval.status == "sent"], 3, "a run"
        )
        assert len(posted(discord_double, guild)) == len(sent[0].retval.message_ids)
    runs = [e for e in executed if e.job_id == jobs.job_id(1)]
    assert [e.retval.status for e in runs if e.retval.status != "not_due"] == ["sent"]
    assert [str(m.id) for m in posted(discord_double, guild)] == sent[0].retval.message_ids
    assert "Daily digest: 2026-11-21 14:00 to 2026-11-22 14:00 Europe/Kyiv" in messages[0].text()
    ledger = engines[0].store.schedules.deliveries(1)
    assert [(d.status, d.window_end) for d in ledger] == [("sent", FIRE)]
    quiet(discord_double)


ARTICLE = """Sanctions envoy warns of new Zorblaxian shell shipments

By Staff Writer

The Zorblaxian freighter Northern Star carried artillery shells from Rajin to Vladivostok \
on Monday, a sanctions monitoring group said on Tuesday.

The group said the shipment would breach UN Security Council resolutions on North Korea.
"""


@pytest.mark.asyncio
async def test_restarts_post_each_window_once_and_a_missed_window_once(
    discord_double: DiscordDouble, env: dict[str, str], engines: list[Services], tmp_path: Path
) -> None:
    guild = discord_double.add_guild(channels=("general", "digests"))
    digests = guild.channel("digests")
    setup = Services(load_settings(env), FrozenClock(SET_AT))
    engines.append(setup)
    setup.store.schedules.save(
        str(guild.id),
        make_timing("daily", "14:00", "Europe/Kyiv"),
        SET_AT,
        channel_id=str(digests.id),
    )

    async def start_at(now: datetime) -> list[RunResult]:
        async with running(discord_double, env, FrozenClock(now), engines) as bot:
            done: list[RunResult] = await scheduler_of(bot).caught_up()
            return done

    first = await start_at(FIRE + timedelta(seconds=5))  # the start-up catch-up posts it
    assert [r.status for r in first] == ["sent"]
    count = len(posted(discord_double, guild))
    assert await start_at(FIRE + timedelta(minutes=30)) == []  # restarted: nothing more
    assert len(posted(discord_double, guild)) == count

    # Down for two days; an article comes in meanwhile (another process ingests it).
    article = tmp_path / "zorblax.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    came_in = FrozenClock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    assert all(r.ok for r in ingest_files(setup.store, [article], "file", came_in))

    back = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)
    catch_up = await start_at(back)
    assert [r.status for r in catch_up] == ["sent"]
    window = catch_up[0].window
    assert window is not None and window.catch_up and window.missed == 1
    assert (window.start, window.end) == (FIRE, FIRE + timedelta(days=2))
    new = posted(discord_double, guild)[count:]
    assert [str(m.id) for m in new] == catch_up[0].message_ids
    text = "\n".join(m.text() for m in new)
    assert "Daily digest: 2026-11-22 14:00 to 2026-11-24 14:00 Europe/Kyiv" in text
    assert "Zorblaxian freighter Northern Star" in text
    assert await start_at(back + timedelta(minutes=5)) == []  # and only once
    assert await start_at(back + timedelta(minutes=6)) == []
    ledger = setup.store.schedules.deliveries(1)
    assert [(d.status, d.window_end) for d in ledger] == [
        ("sent", FIRE + timedelta(days=2)),
        ("sent", FIRE),
    ]
    assert len(posted(discord_double, guild)) == count + len(catch_up[0].message_ids)
    quiet(discord_double)


# One table of inputs through both front ends: the same rule, the same outcome (issue 16).
SAME_RULES: list[tuple[dict[str, str], str | None]] = [
    ({"kind": "daily", "weekday": "monday"}, "a weekday is only for a weekly schedule"),
    ({"kind": "weekly"}, "a weekly schedule needs a weekday (e.g. monday)"),
    ({"kind": "weekly", "weekday": "friday"}, None),
    ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
    ({"time": "25:00"}, "time '25:00': expected HH:MM on a 24-hour clock"),
    ({"topics": "cooking"}, "unknown topic 'cooking'"),
    ({"topics": "sanctions", "entities": "Sergei Shoigu"}, None),
    ({}, None),
]


@pytest.mark.asyncio
async def test_the_command_line_and_the_slash_command_set_schedules_alike(
    discord_double: DiscordDouble, env: dict[str, str], engines: list[Services]
) -> None:
    import io

    from bot.cli import main

    guild = discord_double.add_guild(channels=("general", "digests"))
    channel = str(guild.channel("digests").id)
    base = {"time": "14:00", "timezone": "Europe/Kyiv"}

    def by_cli(options: dict[str, str]) -> tuple[str, str | None]:
        """(what was stored or "", the refusal or None) for the command line."""
        argv = ["schedule", "set", "--guild", str(guild.id), "--channel", channel]
        for name, value in options.items():
            flag = {"topics": "--topic", "entities": "--entity"}.get(name, f"--{name}")
            argv += [flag, value]
        out, err = io.StringIO(), io.StringIO()
        code = main(argv, env=env, clock=FrozenClock(SET_AT), out=out, err=err)
        return stored(), (err.getvalue().strip() if code else None)

    def stored() -> str:
        found = engines[0].store.schedules.list_schedules(str(guild.id))
        for schedule in found:
            engines[0].store.schedules.remove(schedule.id)
        return "; ".join(s.describe() for s in found)

    async with running(discord_double, env, FrozenClock(SET_AT), engines):
        for change, refusal in SAME_RULES:
            options = {**base, **change}
            cli_stored, cli_refusal = by_cli(options)
            _, text = await ask(
                discord_double, guild, "schedule set", {"channel": channel, **options}
            )
            slash_stored = stored()
            slash_refusal = (
                text.removeprefix("Not saved: ") if text.startswith("Not saved") else None
            )
            assert cli_stored == slash_stored, change
            if refusal is None:
                assert cli_refusal is None and slash_refusal is None, (change, text)
                assert slash_stored, change
            else:
                assert cli_refusal is not None and slash_refusal is not None, (change, text)
                assert refusal in cli_refusal and slash_refusal.startswith(refusal), change
                assert cli_stored == "", change
    quiet(discord_double)
