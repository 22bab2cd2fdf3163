"""What the schedule tests share: an engine per "process" on one store, and a recorder.

A "process" is a fresh ``Services`` (its own store object and connections) and a fresh
``DigestService`` (its own ledger owner) on the same database file, so a restart is a new
process that knows only what the store holds. For the bot end to end: an analysed seed
store to copy, a clock that can run at real speed for the real APScheduler, and a Discord
API double on its own thread for the command line (which runs its own event loop).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import BriefBot
from bot.discord_render import DiscordMessage
from bot.scheduler import Scheduler
from bot.services.digests import DigestService
from bot.services.shared import Services
from briefs.analysis.pipeline import analyze_pending
from briefs.clock import Clock, FrozenClock
from briefs.ingest.files import ingest_files, seed_files
from briefs.lexicon import load_lexicon
from briefs.resources import seeds_dir
from briefs.settings import load_settings
from briefs.store import open_store
from briefs.store.schedules import Schedule


@dataclass
class Post:
    schedule_id: int
    message_id: str
    message: DiscordMessage

    @property
    def text(self) -> str:
        return self.message.content + json.dumps(self.message.embeds, ensure_ascii=False)


@dataclass
class Recorder:
    """Deliveries in memory, in order, shared by every "process" of a test."""

    posts: list[Post] = field(default_factory=list)
    next_id: int = 1000

    def target(self, schedule: Schedule) -> RecordingTarget:
        return RecordingTarget(self, schedule.id)

    def by_schedule(self, schedule_id: int) -> list[Post]:
        return [p for p in self.posts if p.schedule_id == schedule_id]


class RecordingTarget:
    def __init__(self, recorder: Recorder, schedule_id: int) -> None:
        self.recorder = recorder
        self.schedule_id = schedule_id
        self.label = f"recorder {schedule_id}"

    async def send(self, message: DiscordMessage, nonce: str, markdown: str | None) -> str:
        self.recorder.next_id += 1
        message_id = str(self.recorder.next_id)
        self.recorder.posts.append(Post(self.schedule_id, message_id, message))
        return message_id


def settings_env(db_url: str, home: str, **extra: str) -> dict[str, str]:
    return {
        "BRIEFBOT_DATABASE_URL": db_url,
        "HOME": home,
        "XDG_DATA_HOME": home,
        "BRIEFBOT_INGEST_SEED_CORPUS": "false",
        "BRIEFBOT_SCHEDULES_POST_WHEN_EMPTY": "true",
        **extra,
    }


def process(
    env: Mapping[str, str], clock: Clock, recorder: Recorder | None = None, **service: Any
) -> DigestService:
    """A new "process": engine, store and digest service, delivering to ``recorder``."""
    engine = Services(load_settings(dict(env)), clock)
    factory = recorder.target if recorder is not None else None
    return DigestService(engine, target_factory=factory, **service)


def scheduler_for(service: DigestService, **options: Any) -> Scheduler:
    """A Scheduler around ``service`` whose APScheduler is not started: tests call its job
    methods (``sweep``, ``poll_feeds``, ``run_schedule``) themselves."""
    return Scheduler(service, **options)


def stop(service: DigestService) -> None:
    """The process ends (or is killed): its store connections go away."""
    service.services.close()


class TickingClock:
    """The engine's clock for tests with the real APScheduler, which waits in wall-clock
    time: it stands still until ``run_from`` makes it run at real speed from an instant
    (just before a fire time), so a job fires within a second without sleeping to move
    time."""

    def __init__(self, now: datetime) -> None:
        self._base = now
        self._since: float | None = None

    def __call__(self) -> datetime:
        if self._since is None:
            return self._base
        return self._base + timedelta(seconds=time.monotonic() - self._since)

    def set(self, now: datetime) -> None:
        """Stand still at ``now``."""
        self._base, self._since = now, None

    def run_from(self, now: datetime) -> None:
        """Run at real speed from ``now`` on."""
        self._base, self._since = now, time.monotonic()


def build_seed_store(path: Path, fetched_at: datetime) -> Path:
    """An analysed store of the seed corpus (ingested at ``fetched_at``), to copy per test."""
    store = open_store(f"sqlite:///{path}")
    try:
        results = ingest_files(store, seed_files(seeds_dir()), "seed", FrozenClock(fetched_at))
        assert all(r.ok for r in results)
        store.set_meta("seed_corpus_ingested_at", fetched_at.isoformat())
        analyze_pending(store, load_lexicon())
    finally:
        store.close()
    return path


def scheduler_of(bot: BriefBot) -> Scheduler:
    """The running bot's scheduler (started by its ``setup_hook``)."""
    assert bot.scheduler is not None, "the bot's scheduler is not running"
    return bot.scheduler
