"""Issue 12's acceptance line, end to end on the multi-outlet evaluation set: "`briefbot stories
--format json` over the multi-outlet set, and a `/digest` against the Discord double, show one
story per event with its outlets counted."

The set (tests/eval/multi_outlet/corpus.toml, written for this project) is ingested as the
product receives it, its RSS and Atom files, then read back through the CLI in-process and
through ``/digest`` run by the real bot against the Discord API double. Every document is
mapped to its labels by its canonical URL; an event "with two or more documents" is one the
labels give two or more documents.

Four events are split today (each has one document outside its story): what the evaluation
measures as pairwise recall below 1.0 (docs/quality.md, "Stories"). The whole acceptance check
is therefore an expected failure naming them (strict: it fails the suite the day it passes, so
the mark goes), and a second test holds the other twelve events whole and every story to one
event, so a regression fails at once.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import BriefBot
from bot.services.shared import Services
from briefs.clock import FrozenClock
from briefs.feeds.urls import canonical_url
from briefs.ingest.files import ingest_files
from briefs.settings import load_settings
from briefs.store.schema import documents
from tests.conftest import Run
from tests.discord_double import CallbackType, DiscordDouble, InteractionRecord
from tests.eval.sets import LabelledSet, load_multi_outlet
from tests.schedule_kit import scheduler_of, settings_env

# Events the product splits today, each with the one document left outside its story.
KNOWN_SPLITS = {
    "ofac-mkrtychev": "mkrtychev-eastbound (a title and no text)",
    "shoigu-in-pyongyang": "shoigu-northstar (the arms fair)",
    "un-panel-veto": "veto-unpress (the UN's own meeting coverage)",
    "un-panel-kharkiv-missile": "kharkiv-reuters (the short wire item)",
}


@pytest.fixture(scope="module")
def labels() -> LabelledSet:
    return load_multi_outlet()


def multi_document_events(labels: LabelledSet) -> dict[str, set[str]]:
    """Event -> its documents (canonical URLs), for events with two or more."""
    docs: dict[str, set[str]] = defaultdict(set)
    for url, event in labels.events.items():
        docs[event].add(url)
    return {e: urls for e, urls in docs.items() if len(urls) >= 2}


# -- briefbot stories --format json --------------------------------------------------------


@pytest.fixture
def stories(cli: Callable[..., Run], labels: LabelledSet) -> list[tuple[dict[str, Any], set[str]]]:
    """Each story of ``briefbot stories --format json`` with its documents' canonical URLs."""
    off = {"BRIEFBOT_INGEST_SEED_CORPUS": "false"}
    run = cli("ingest", *map(str, labels.feed_files), extra_env=off)
    assert run.code == 0, run.err
    assert f"{len(labels.events)} added" in run.err
    run = cli("stories", "--format", "json", extra_env=off)
    assert run.code == 0, run.err
    data = run.json()
    url_of = {s["ref"]: canonical_url(s["url"]) for s in data["sources"]}
    out = [(story, {url_of[r] for r in story["refs"]}) for story in data["stories"]]
    listed = set().union(*(urls for _, urls in out))
    assert listed == set(labels.events), "every document of the set is in one story"
    return out


def split_events(
    stories: list[tuple[dict[str, Any], set[str]]], labels: LabelledSet
) -> dict[str, int]:
    """Events with two or more documents that are not one story -> how many stories hold them."""
    holding: dict[str, set[str]] = defaultdict(set)
    for story, urls in stories:
        for url in urls:
            holding[labels.events[url]].add(story["id"])
    return {
        event: len(holding[event])
        for event in multi_document_events(labels)
        if len(holding[event]) != 1
    }


def test_stories_do_not_mix_events_and_count_their_outlets(
    stories: list[tuple[dict[str, Any], set[str]]], labels: LabelledSet
) -> None:
    for story, urls in stories:
        events = Counter(labels.events[u] for u in urls)
        assert len(events) == 1, f"{story['title']!r} mixes events: {dict(events)}"
        outlets = {labels.outlets[u] for u in urls}
        assert story["outlets"] == len(outlets), (story["title"], sorted(outlets))
    # The other twelve events are whole; the known splits are no worse than one stray each.
    split = split_events(stories, labels)
    assert set(split) <= set(KNOWN_SPLITS), split
    assert all(n == 2 for n in split.values()), split
    whole = set(multi_document_events(labels)) - set(KNOWN_SPLITS)
    assert len(whole) == 12


@pytest.mark.xfail(
    strict=True,
    reason="stories by event split four events, one document each: "
    + "; ".join(f"{e}: {d}" for e, d in KNOWN_SPLITS.items()),
)
def test_stories_show_one_story_per_event(
    stories: list[tuple[dict[str, Any], set[str]]], labels: LabelledSet
) -> None:
    assert split_events(stories, labels) == {}


# -- /digest against the Discord double ------------------------------------------------------

CAME_IN = datetime(2026, 11, 22, 8, 30, tzinfo=UTC)
ASKED = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
# A story's line in the digest: its first statement, first citation, then the story's date and
# outlets; a story's second statement carries no such suffix. Markdown (the attached file, the
# whole digest) and Discord (the messages, cut when too long for the channel):
MD_STORY_LINE = re.compile(
    r"^- .*? \[\d+: ([0-9a-f]{12}):\d+\].* _\((?:\d{4}-\d\d-\d\d|undated), (\d+) outlets?\)_$", re.M
)
DISCORD_STORY_LINE = re.compile(
    r"^• .*? \[\d+ `([0-9a-f]{12}):\d+`\].* \*\((?:\d{4}-\d\d-\d\d|undated), (\d+) outlets?\)\*$",
    re.M,
)


def _attached(ix: InteractionRecord) -> bool:
    return any(f.filename.endswith(".md") for f in ix.files)


@pytest.mark.asyncio
async def test_digest_shows_one_line_per_event_story_with_its_outlets(
    discord_double: DiscordDouble, tmp_path: Path, db_url: str, labels: LabelledSet
) -> None:
    """The set's feed files come in as files half an hour before ``/digest``: every document
    is new in its window (the last 24 hours)."""
    env = settings_env(db_url, str(tmp_path), BRIEFBOT_SCHEDULES_MAX_ITEMS="80")
    engine = Services(load_settings(env), FrozenClock(ASKED))
    try:
        came_in = FrozenClock(CAME_IN)
        results = list(ingest_files(engine.store, list(labels.feed_files), "file", came_in))
        assert all(r.ok for r in results) and len(results) == len(labels.events)
        guild = discord_double.add_guild(channels=("general",))
        bot = BriefBot(engine)
        async with discord_double.running(bot):
            await scheduler_of(bot).caught_up()
            analyst = guild.member("analyst")
            ix = await discord_double.command("digest", {}, guild=guild, user=analyst)
            callback = await ix.wait_callback(timeout=3)
            assert callback.type == CallbackType.DEFERRED_MESSAGE
            await ix.wait_for(_attached, timeout=15)
        query = select(documents.c.id, documents.c.url, documents.c.story_id)
        with engine.store.engine.connect() as conn:
            rows = conn.execute(query).all()
    finally:
        engine.close()
    url_of = {str(r.id): canonical_url(str(r.url)) for r in rows}
    story_of = {str(r.id): str(r.story_id or r.id) for r in rows}
    members: dict[str, set[str]] = defaultdict(set)
    for doc, story in story_of.items():
        members[story].add(url_of[doc])
    markdown = "\n".join(f.text for f in ix.files if f.filename.endswith(".md"))
    assert markdown.startswith("# Digest: 2026-11-21 09:00 to 2026-11-22 09:00 UTC")

    lines = MD_STORY_LINE.findall(markdown)
    stories = [story_of[doc] for doc, _ in lines]
    assert len(stories) == len(set(stories)), "one line per story"
    lines_of: Counter[str] = Counter()
    for (doc, outlets), story in zip(lines, stories, strict=True):
        held = {labels.events[u] for u in members[story]}
        assert len(held) == 1, f"the story of {doc} mixes events: {held}"
        lines_of[held.pop()] += 1
        expected = len({labels.outlets[u] for u in members[story]})
        assert int(outlets) == expected, (doc, sorted(members[story]))
    # Every event is in the digest; one line each, but for the known splits' one stray.
    events = multi_document_events(labels)
    assert set(events) <= set(lines_of)
    split = {e: n for e, n in lines_of.items() if e in events and n != 1}
    assert set(split) <= set(KNOWN_SPLITS), split
    assert all(n == 2 for n in split.values()), split

    # The Discord messages show the same lines, as far as they go (they are cut when the digest
    # is longer than the channel allows; the attached file is whole).
    text = "\n".join(m.text() for m in ix.followups)
    assert text.startswith("Digest: 2026-11-21 09:00 to 2026-11-22 09:00 UTC")
    shown = DISCORD_STORY_LINE.findall(text)
    assert len(shown) >= len(events)
    assert shown == lines[: len(shown)]
