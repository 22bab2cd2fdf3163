"""What the schedule tests share: an engine per "process" on one store, and a recorder.

A "process" is a fresh ``Engine`` (its own store object and connections) and a fresh
``DigestService`` (its own ledger owner) on the same database file, so a restart is a new
process that knows only what the store holds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.digests import DigestService
from bot.discord_render import DiscordMessage
from bot.engine import Engine
from bot.scheduler import Scheduler, install
from briefs.clock import Clock
from briefs.settings import load_settings
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
    engine = Engine(load_settings(dict(env)), clock)
    factory = recorder.target if recorder is not None else None
    return DigestService(engine, target_factory=factory, **service)


def scheduler_for(service: DigestService, **options: Any) -> Scheduler:
    """A Scheduler around ``service``, installed for the module-level job functions (its
    APScheduler is not started: tests call the job functions themselves)."""
    scheduler = Scheduler(service, **options)
    install(scheduler)
    return scheduler


def stop(service: DigestService) -> None:
    """The process ends (or is killed): its store connections go away."""
    install(None)
    service.engine.close()
