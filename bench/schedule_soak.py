"""Soak test of scheduled digests: many schedules, a simulated week, random restarts.

1,000 schedules across 200 guilds (daily and weekly, in eight time zones, two of which change
to summer time during the week) run over a simulated week on one SQLite file. Time is moved,
not waited: every ``--step`` minutes the running "process" does what its scheduler's jobs
and sweep do (``Scheduler.sweep``). Random restarts replace the process (a new engine,
store and ledger owner) after a random downtime shorter than the catch-up grace; sometimes
a second process runs beside the first (a double start). Deliveries go to an in-process
recorder. At the end every schedule's ledger is checked:

- duplicates: a window (schedule, fire time) posted more than once;
- missed windows: a fire time not covered by a delivered window (windows must chain: each
  starts where the previous one ended).

    python -m bench.schedule_soak [--schedules 1000] [--guilds 200] [--days 7] [--write]

``--write`` puts the result table into docs/operations.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import re
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.discord_render import DiscordMessage
from bot.scheduler import Scheduler
from bot.services.digests import DigestService
from bot.services.shared import Services
from briefs.clock import FrozenClock
from briefs.schedules import fire_times, make_timing
from briefs.settings import load_settings

ZONES = [
    "UTC",
    "Europe/Kyiv",
    "Europe/London",
    "America/New_York",  # summer time starts 2026-03-08
    "America/Los_Angeles",  # likewise
    "Asia/Seoul",
    "Asia/Kolkata",
    "Australia/Sydney",
]
START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday; the US changes clocks on the 8th
DOC = Path(__file__).resolve().parent.parent / "docs" / "operations.md"
MARK = re.compile(r"<!-- soak:start -->.*<!-- soak:end -->", re.S)


class Recorder:
    """Every message "posted", by schedule and window (the nonce names the window)."""

    def __init__(self) -> None:
        self.posts: Counter[tuple[int, str]] = Counter()

    def target(self, schedule: object) -> RecordingTarget:
        return RecordingTarget(self, schedule.id)  # type: ignore[attr-defined]


class RecordingTarget:
    def __init__(self, recorder: Recorder, schedule_id: int) -> None:
        self.recorder = recorder
        self.schedule_id = schedule_id
        self.label = f"recorder {schedule_id}"

    async def send(self, message: DiscordMessage, nonce: str, markdown: str | None) -> str:
        self.recorder.posts[(self.schedule_id, nonce)] += 1
        return nonce


def _render(brief: object) -> list[DiscordMessage]:
    return [DiscordMessage("digest", [])]  # Discord rendering is not what is soaked here


def run(schedules: int, guilds: int, days: int, step: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    folder = tempfile.mkdtemp(prefix="briefbot-soak-")
    env = {
        "BRIEFBOT_DATABASE_URL": f"sqlite:///{folder}/soak.sqlite3",
        "HOME": folder,
        "XDG_DATA_HOME": folder,
        "BRIEFBOT_INGEST_SEED_CORPUS": "false",
        "BRIEFBOT_SCHEDULES_POST_WHEN_EMPTY": "true",
    }
    settings = load_settings(env)
    clock = FrozenClock(START)
    recorder = Recorder()

    def new_process() -> Scheduler:
        engine = Services(settings, clock)
        service = DigestService(engine, target_factory=recorder.target, render=_render)
        return Scheduler(service, poll=False)

    first = new_process()
    store = first.services.store.schedules
    for n in range(schedules):
        weekly = rng.random() < 0.2
        timing = make_timing(
            "weekly" if weekly else "daily",
            f"{rng.randrange(24):02d}:{rng.randrange(0, 60, 5):02d}",
            rng.choice(ZONES),
            rng.randrange(7) if weekly else None,
        )
        store.save(f"9{n % guilds:017d}", timing, clock(), channel_id=f"{n + 1:018d}")
    end = START + timedelta(days=days)
    clock.now = START
    restarts = doubles = 0
    downtime = timedelta(0)
    running = [first]
    started = time.perf_counter()
    last_sweep = clock.now
    while clock.now <= end:
        last_sweep = clock.now
        for process in running:
            asyncio.run(process.sweep())
        clock.advance(timedelta(minutes=step))
        roll = rng.random()
        if roll < 0.01 and clock.now < end:  # killed; restarted after up to 6 hours
            for process in running:
                process.services.close()
            gap = timedelta(minutes=step * rng.randrange(0, 6 * 60 // step))
            clock.advance(gap)
            downtime += gap
            running = [new_process()]
            restarts += 1
        elif roll < 0.015:  # a second process started on the same store for a while
            running = [*running[:1], new_process()]
            doubles += 1
        elif len(running) > 1 and roll > 0.9:
            running.pop().services.close()
    for process in running:
        process.services.close()
    elapsed = time.perf_counter() - started

    check = Services(settings, clock)
    ledger = check.store.schedules
    duplicates = sum(n - 1 for n in recorder.posts.values() if n > 1)
    missed = windows = catch_ups = 0
    sent_by = Counter(s for s, _ in recorder.posts)
    for schedule in ledger.list_schedules(every_guild=True):
        rows = sorted(
            (d for d in ledger.deliveries(schedule.id) if d.status in ("sent", "empty")),
            key=lambda d: d.window_end,
        )
        windows += len(rows)
        fires = fire_times(schedule.timing, schedule.active_since, last_sweep)
        covered = 0
        for fire in fires:
            if any(
                d.window_start is not None and d.window_start < fire <= d.window_end for d in rows
            ):
                covered += 1
        missed += len(fires) - covered
        for a, b in itertools.pairwise(rows):
            if b.window_start != a.window_end:
                missed += 1  # a gap (or overlap) between two windows
        catch_ups += sum(1 for d in rows if d.claimed_at - d.window_end > timedelta(minutes=step))
        if sent_by[schedule.id] != len(rows):
            duplicates += abs(sent_by[schedule.id] - len(rows))
    check.close()
    return {
        "schedules": schedules,
        "guilds": guilds,
        "days": days,
        "step": step,
        "windows": windows,
        "catch_ups": catch_ups,
        "restarts": restarts,
        "doubles": doubles,
        "downtime_h": downtime.total_seconds() / 3600,
        "duplicates": duplicates,
        "missed": missed,
        "seconds": elapsed,
        "seed": seed,
    }


def table(r: dict[str, object]) -> str:
    rows = [
        ("Schedules (guilds)", f"{r['schedules']:,} ({r['guilds']})"),
        ("Simulated time", f"{r['days']} days, a sweep every {r['step']} minutes"),
        ("Random restarts (total downtime)", f"{r['restarts']} ({r['downtime_h']:.1f} h)"),
        ("Second process started beside the first", f"{r['doubles']} times"),
        ("Windows delivered", f"{r['windows']:,}"),
        ("of which catch-ups posted late, after a restart", f"{r['catch_ups']:,}"),
        ("**Duplicate posts**", f"**{r['duplicates']}**"),
        ("**Missed windows**", f"**{r['missed']}**"),
        ("Wall time", f"{r['seconds']:.0f} s"),
    ]
    lines = ["| Measure | Value |", "| --- | --- |"]
    lines += [f"| {a} | {b} |" for a, b in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--guilds", type=int, default=200)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--step", type=int, default=15, help="minutes between sweeps")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--write", action="store_true", help="update docs/operations.md")
    args = parser.parse_args(argv)
    result = run(args.schedules, args.guilds, args.days, args.step, args.seed)
    text = table(result)
    print(text)
    if args.write:
        command = (
            f"python -m bench.schedule_soak --schedules {args.schedules} --guilds {args.guilds} "
            f"--days {args.days} --step {args.step} --seed {args.seed} --write"
        )
        block = f"<!-- soak:start -->\n`{command}`:\n\n{text}\n<!-- soak:end -->"
        doc = DOC.read_text(encoding="utf-8")
        DOC.write_text(MARK.sub(lambda _: block, doc), encoding="utf-8")
    return 0 if result["duplicates"] == 0 and result["missed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
