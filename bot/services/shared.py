"""One facade over the engine for every front end: the command line, the Discord bot, the scheduler.

It holds the settings, the clock, the store and the domain data, seeds and analyses the store
before reads (``ensure_ready``), and answers each kind of request with a ``Brief``. Every
method but the feed fetches is blocking: the bot runs them in worker threads, so the store
is opened once under a lock and analysis never runs twice at once. Reads take ``visible``:
a guild's view of the corpus (``Visibility``), or None for the whole store (the command line).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from briefs.analysis.versioning import analysis_version
from briefs.errors import InputError
from briefs.lexicon import Lexicon, load_lexicon
from briefs.store import SqlStore, Visibility, default_database_url, open_store

# What only some answers need is imported where they run (start-up, docs/performance.md):
# Jinja2 to render, the ingest path to seed a new store, the analysis pipeline before a read,
# feeds (aiohttp, feedparser) for feed commands, look-ups and profiles for their commands.
if TYPE_CHECKING:
    from jinja2 import Environment

    from bot.services.briefs import BriefService
    from bot.services.documents import DocumentService
    from bot.services.feeds import FeedService
    from bot.services.schedules import ScheduleService
    from briefs.brief import Brief
    from briefs.clock import Clock
    from briefs.ingest.files import IngestLimits
    from briefs.ingest.outlets import OutletTable
    from briefs.settings import Settings

log = logging.getLogger("briefbot")
SEEDED = "seed_corpus_ingested_at"
# Analysis of this many documents or more at once is announced, with progress: the first brief
# after an upgrade, a gazetteer edit or a large ingest can take minutes (about 50 a second).
ANNOUNCE_ANALYSIS = 100
# What a direct message sees: no guild's feed items (no feed is ever filed under this id).
NO_GUILD = Visibility("")


def visibility(guild_id: int | str | None) -> Visibility:
    """A Discord guild's view of the corpus; outside any guild, the seeds and files only."""
    return Visibility(str(guild_id)) if guild_id is not None else NO_GUILD


class AnalysisProgress:
    """Says when a long analysis starts, each tenth of the way, and when it ends, so a brief
    that waits for it (or a bot that starts after an upgrade) is not silently stuck."""

    def __init__(
        self, say: Callable[[str], None], now: Callable[[], float] = time.monotonic
    ) -> None:
        self.say = say
        self.now = now
        self._started = 0.0
        self._tenth = 0

    def __call__(self, done: int, total: int) -> None:
        if total < ANNOUNCE_ANALYSIS:
            return
        if done == 1:
            self._started, self._tenth = self.now(), 0
            eta = total / 100  # documents a second, measured (docs/performance.md)
            about = f"{max(1, round(eta))} s" if eta < 90 else f"{eta / 60:.0f} min"
            self.say(
                f"briefbot: analysing {total:,} documents (new, or analysed by another version "
                f"or other domain data); about {about}"
            )
        tenth = done * 10 // total
        if tenth > self._tenth and done < total:
            self._tenth = tenth
            self.say(f"briefbot: analysed {done:,} of {total:,} documents ({tenth * 10} %)")
        if done == total:
            took = self.now() - self._started
            self.say(f"briefbot: analysed {total:,} documents in {took:.0f} s")


def days_window(now: datetime, days: int | None) -> tuple[datetime | None, datetime | None]:
    """The last ``days`` days up to now (None: no bound)."""
    if days is None:
        return None, None
    if days < 1:
        raise InputError(f"days must be at least 1, got {days}")
    return now - timedelta(days=days), None


class Services:
    """Settings, clock, store and lexicon, and one method per kind of answer."""

    def __init__(
        self, settings: Settings, clock: Clock, say: Callable[[str], None] | None = None
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.say = say or (lambda message: log.info("%s", message))
        self._store: SqlStore | None = None
        self._opening = threading.Lock()
        self._analysing = threading.Lock()
        # Seconds a readiness check stays good (0: check on every read, as the command line
        # does). A long-running bot analyses what its own feeds bring at once (``analyze``)
        # and so only needs to notice other processes' ingests now and then.
        self.ready_ttl = 0.0
        self._ready_at: float | None = None
        self.progress = AnalysisProgress(self.say)
        # The bot sets this: documents analysed by another version or other domain data are
        # re-analysed in the background (``refresh_stale``), not before the next answer.
        self.refresh_in_background = False
        self._noted_read_only = False

    # -- parts ---------------------------------------------------------------------------

    @property
    def store(self) -> SqlStore:
        """The store, opened (and migrated) on first use."""
        if self._store is None:
            with self._opening:
                if self._store is None:
                    url = self.settings.database_url
                    if url:
                        origin = self.settings.origin("store.database_url")
                        setting = origin if origin != "default" else "[store] database_url"
                    else:
                        url = default_database_url(self.settings.data_dir)
                        setting = "[store] data_dir"
                    self._store = open_store(url, setting, self.settings.pool)
        return self._store

    @cached_property
    def lexicon(self) -> Lexicon:
        """The domain data: shipped config/ plus the user's [analysis] files."""
        return load_lexicon(
            extra_entities=self.settings.extra_entities, extra_topics=self.settings.extra_topics
        )

    @cached_property
    def environment(self) -> Environment:
        """Jinja2 templates: the user's folder first, then the shipped ones."""
        from briefs.render import make_environment, template_cache

        cache = template_cache(self.settings.cache_dir) if self.settings.cache_dir else None
        return make_environment(self.settings.templates_dir, cache)

    @property
    def ingest_limits(self) -> IngestLimits:
        """What one ingested file may cost: [ingest] max_file_bytes, and for an RSS/Atom file
        [feeds] max_items_per_fetch (the file counts as one fetch)."""
        from briefs.ingest.files import IngestLimits

        return IngestLimits(self.settings.max_file_bytes, self.settings.feeds.max_items_per_fetch)

    @cached_property
    def outlets(self) -> OutletTable:
        """Who publishes what: the shipped table, then [feeds] outlets_file."""
        from briefs.ingest.outlets import load_outlets

        extra = self.settings.feeds.outlets_file
        return load_outlets([extra] if extra is not None else [])

    def render(self, brief: Brief, fmt: str = "md") -> str:
        from briefs.render import render

        return render(brief, fmt, self.environment)

    def close(self) -> None:
        with self._opening:
            if self._store is not None:
                self._store.close()
                self._store = None

    # -- readiness -----------------------------------------------------------------------

    def ensure_corpus(self) -> None:
        """On first use, any command that reads data ingests the seed corpus first.

        "First use" is remembered in the store, so files ingested before the first brief do
        not keep the seeds out, and seeds a user removed are not brought back.
        """
        store = self.store
        if store.read_only or not self.settings.seed_corpus:
            return  # a store that cannot be written is read as it is
        if store.get_meta(SEEDED) or store.documents.has_origin("seed"):
            return
        from briefs.ingest.files import ingest_files, seed_files

        files = seed_files(self.settings.seeds_dir)
        self.say(
            f"briefbot: first use of this store; ingesting the seed corpus first "
            f"({len(files)} articles from {self.settings.seeds_dir})"
        )
        for result in ingest_files(
            store, files, "seed", self.clock, self.ingest_limits, self.outlets
        ):
            if result.error:
                self.say(f"briefbot: seed skipped: {result.error}")
        store.set_meta(SEEDED, self.clock().isoformat(timespec="seconds"))

    def ensure_ready(self) -> None:
        """Seed an empty store, then analyse whatever is new or stale (one thread at a time)."""
        checked = self._ready_at
        if checked is not None and time.monotonic() - checked < self.ready_ttl:
            return
        with self._analysing:
            self.ensure_corpus()
            self._analyze()
            self._ready_at = time.monotonic()

    def analyze(self) -> None:
        """Analyse what is new (after a feed brought documents)."""
        with self._analysing:
            self._analyze()

    def _analyze(self) -> None:
        stale = not self.refresh_in_background
        if self.store.read_only:
            self._note_unanalysed(stale)
            return
        # One query when nothing awaits analysis (every brief on a ready store): the
        # pipeline, with its process pool machinery, is imported only when there is work.
        if not self.store.analysis.pending(analysis_version(self.lexicon), stale=stale):
            return
        from briefs.analysis.pipeline import analyze_pending

        analyze_pending(
            self.store,
            self.lexicon,
            self.progress,
            stale=stale,
            max_sentences=self.settings.max_sentences,
            workers=self.settings.analysis_workers,
        )

    def _note_unanalysed(self, stale: bool) -> None:
        """A read-only store is answered from the analysis it holds; say so (once) when
        some documents lack it, since their statements then count for less."""
        if self._noted_read_only:
            return
        self._noted_read_only = True
        version = analysis_version(self.lexicon)
        pending = len(self.store.analysis.pending(version, stale=stale))
        if pending:
            self.say(
                f"briefbot: note: the store is read-only ({self.store.read_only}): "
                f"answering without the analysis of {pending} document(s) it lacks"
            )

    def stale_documents(self) -> int:
        """Documents whose analysis was made by another version or other domain data."""
        version = analysis_version(self.lexicon)
        return len(self.store.analysis.pending(version))

    def refresh_stale(self, batch: int) -> int:
        """Re-analyse up to ``batch`` stale documents (the lock held for one batch only, so
        answers interleave); how many. Briefs read the old analysis of the rest meanwhile."""
        from briefs.analysis.pipeline import analyze_pending

        with self._analysing:
            return analyze_pending(
                self.store,
                self.lexicon,
                limit=batch,
                max_sentences=self.settings.max_sentences,
                workers=self.settings.analysis_workers,
            )

    def ensure_seeded(self) -> None:
        """Seed a new store, analysing nothing (for counts, which need no facts)."""
        with self._analysing:
            self.ensure_corpus()

    @cached_property
    def briefs(self) -> BriefService:
        """Briefs, sources, search, timelines, profiles, stories and counts of a scope."""
        from bot.services.briefs import BriefService

        return BriefService(self)

    @cached_property
    def documents(self) -> DocumentService:
        """Ingest files, the store's writability and location, copying it elsewhere."""
        from bot.services.documents import DocumentService

        return DocumentService(self)

    @cached_property
    def feeds(self) -> FeedService:
        """Feeds of a scope: follow, list, test, poll (one implementation for every front end)."""
        from bot.services.feeds import FeedService

        return FeedService(self)

    @cached_property
    def schedules(self) -> ScheduleService:
        """Scheduled digests of a scope: set, show, clear."""
        from bot.services.schedules import ScheduleService

        return ScheduleService(self)
