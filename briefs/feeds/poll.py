"""One polling round: fetch the feeds that are due, parse off the event loop, store entries.

Per-feed outcomes and errors are data (``FeedOutcome``), kept on the feed row and shown by
``feeds list``: nothing a feed sends stops the round or another feed. Blocking work (parsing,
article extraction, SQLite) runs in worker threads so the event loop keeps answering (the
Discord bot will share it), and writes go one feed at a time so two feeds carrying the same
article cannot race to store it twice; another process storing the same article or entry
meanwhile makes a duplicate, never an error. ``poll_leased`` is the round over feed leases
that the bot's polling job and ``briefbot poll`` share, so no feed is polled twice at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from briefs.clock import Clock
from briefs.errors import BriefbotError, InputError, internal_error
from briefs.feeds.decide import Answer, Policy, decide
from briefs.feeds.entries import entry_article, entry_hash, newest_first, source_key
from briefs.feeds.fetch import PAGE_ACCEPT, Fetcher, FetchResult
from briefs.feeds.parse import FeedEntry, NotAFeedError, ParsedFeed, parse_feed
from briefs.feeds.urls import canonical_url, check_feed_url
from briefs.ingest.outlets import OutletTable, shipped_outlets
from briefs.ingest.pages import main_text
from briefs.models import ParsedArticle
from briefs.settings import FeedSettings
from briefs.store.base import Feeds, IngestOutcome, Store
from briefs.store.feeds import EntryLink, Feed, FeedState

log = logging.getLogger(__name__)

# An entry with less text than this is a teaser: worth the article page when full text is on.
TEASER_CHARS = 600
# Article pages fetched per feed and poll at most (politeness towards the publisher).
FULL_TEXT_PAGES = 20
# The status of a feed another process holds the lease of: skipped, not polled.
LEASED = "leased"
# Items taken from one fetch, the newest: the default of [feeds] max_items_per_fetch.
MAX_ITEMS_PER_FETCH = 500


@dataclass
class FeedOutcome:
    """What one poll of one feed did."""

    feed_id: int
    url: str
    status: str  # "fetched", "not_modified", "failed" or "leased" (another process polls it)
    items: int = 0  # entries in the document
    new: int = 0  # stored and new for the next digest
    stored: int = 0  # stored for briefs and search, not announced (first add)
    duplicate: int = 0  # the scope already had it (another feed, same content, a rewrite)
    updated: int = 0  # a known entry whose text changed
    unchanged: int = 0  # a known entry, as before
    skipped: list[str] = field(default_factory=list)  # entries lost, one line each
    warnings: list[str] = field(default_factory=list)
    error_type: str | None = None
    error: str | None = None
    disabled: bool = False
    new_documents: list[str] = field(default_factory=list)
    held_by: str | None = None  # "leased": the lease's owner and end
    held_until: datetime | None = None


@dataclass
class PollSummary:
    outcomes: list[FeedOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def total(self, key: str) -> int:
        return sum(getattr(o, key) for o in self.outcomes)

    def line(self) -> str:
        disabled = sum(o.disabled for o in self.outcomes)
        leased = self.count(LEASED)
        return (
            f"{len(self.outcomes)} feeds: {self.count('fetched')} fetched, "
            f"{self.count('not_modified')} not modified, {self.count('failed')} failed"
            + (f" ({disabled} disabled)" if disabled else "")
            + (f", {leased} skipped (polled by another process)" if leased else "")
            + f"; {self.total('new')} new items, {self.total('duplicate')} duplicates"
            + (f", {self.total('updated')} updated" if self.total("updated") else "")
        )


@dataclass(frozen=True)
class _Plan:
    """Entries to store (with their hashes) and how many were known and unchanged."""

    todo: list[tuple[FeedEntry, str]]
    known: set[str]
    unchanged: int


async def preview_feed(
    fetcher: Fetcher, url: str, max_items: int = MAX_ITEMS_PER_FETCH
) -> tuple[FetchResult, ParsedFeed]:
    """Fetch and parse a feed, storing nothing; a refusal is an InputError naming the URL.

    Its newest ``max_items`` entries are kept, as a poll keeps them.
    """
    url = check_feed_url(url)
    result = await fetcher.fetch(url)
    if not result.ok or result.body is None:
        raise InputError(f"{url}: {result.reason()}")
    parsed = await asyncio.to_thread(
        _parse, result.body, result.headers, result.final_url, max_items
    )
    return result, parsed


def _parse(body: bytes, headers: dict[str, str], url: str, max_items: int) -> ParsedFeed:
    return parse_feed(body, headers, url, max_items=max_items)


async def add_feed(
    poller: Poller,
    url: str,
    scope_id: str | None = None,
    backfill: int = 0,
    full_text: bool = False,
) -> tuple[Feed, FeedOutcome, ParsedFeed]:
    """Follow a feed: fetch it once (refusing what is not a feed) and store its items.

    The items are stored for briefs and search but are not new for the next digest, except
    the newest ``backfill`` of them. Nothing is stored when the feed is refused.
    """
    url = check_feed_url(url)
    canonical = canonical_url(url)
    for feed in await asyncio.to_thread(poller.store.feeds.list_feeds, scope_id):
        if feed.canonical_url == canonical:
            raise InputError(f"{url}: already followed here, as feed {feed.id}")
    result, parsed = await preview_feed(poller.fetcher, url, poller.max_items)
    feed = await asyncio.to_thread(
        poller.store.feeds.add, url, canonical, scope_id, parsed.title, poller.clock(), full_text
    )
    outcome = await poller.poll(
        feed, first_add=True, backfill=backfill, fetched=result, parsed=parsed
    )
    return await asyncio.to_thread(poller.store.feeds.get, feed.id), outcome, parsed


class Poller:
    """Polls feeds into a store through one fetcher; scheduling follows ``policy``.

    ``analyze`` (optional) runs the store's analysis after new documents arrive, so a
    rewrite of an article the scope already has joins its story instead of counting as new.
    ``max_items`` bounds what one fetch may bring ([feeds] max_items_per_fetch).
    """

    def __init__(
        self,
        store: Store,
        fetcher: Fetcher,
        policy: Policy,
        clock: Clock,
        rng: random.Random | None = None,
        concurrency: int = 8,
        analyze: Callable[[], object] | None = None,
        max_items: int = MAX_ITEMS_PER_FETCH,
        outlets: OutletTable | None = None,
    ) -> None:
        self.store = store
        self.outlets = outlets or shipped_outlets()
        self.max_items = max_items
        self.fetcher = fetcher
        self.policy = policy
        self.clock = clock
        self.rng = rng or random.Random()
        self.analyze = analyze
        self._slots = asyncio.Semaphore(concurrency)
        self._writing = asyncio.Lock()

    async def round(
        self,
        progress: Callable[[FeedOutcome], None] | None = None,
        feeds: Sequence[Feed] | None = None,
    ) -> PollSummary:
        """Poll every feed that is due now (or ``feeds``), at most ``concurrency`` at once."""
        due = (
            list(feeds)
            if feeds is not None
            else await asyncio.to_thread(self.store.feeds.due, self.clock())
        )
        summary = PollSummary()

        async def one(feed: Feed) -> None:
            async with self._slots:
                outcome = await self.poll(feed)
            summary.outcomes.append(outcome)
            if progress is not None:
                progress(outcome)

        await asyncio.gather(*(one(feed) for feed in due))
        summary.outcomes.sort(key=lambda o: o.feed_id)
        return summary

    async def poll(
        self,
        feed: Feed,
        *,
        first_add: bool = False,
        backfill: int = 0,
        fetched: FetchResult | None = None,
        parsed: ParsedFeed | None = None,
    ) -> FeedOutcome:
        """Fetch, parse and store one feed; its state and any error go on the feed row.

        Never raises (but for cancellation): the boundary that keeps one feed's trouble its own.
        """
        try:
            return await self._poll(feed, first_add, backfill, fetched, parsed)
        except Exception as exc:
            log.exception("polling feed %s (%s) failed unexpectedly", feed.id, feed.url)
            return await self._fail(feed, None, "internal", internal_error(exc))

    async def _poll(
        self,
        feed: Feed,
        first_add: bool,
        backfill: int,
        fetched: FetchResult | None,
        parsed: ParsedFeed | None,
    ) -> FeedOutcome:
        result = fetched or await self.fetcher.fetch(feed.url, feed.etag, feed.last_modified)
        if result.moved_to:
            await asyncio.to_thread(self.store.feeds.move, feed.id, result.moved_to)
        if result.not_modified:
            await self._succeed(feed, result, None)
            return FeedOutcome(feed.id, feed.url, "not_modified")
        if not result.ok or result.body is None:
            return await self._fail(feed, result, result.error_type or "http", result.reason())
        if parsed is None:
            try:
                parsed = await asyncio.to_thread(
                    _parse, result.body, result.headers, result.final_url, self.max_items
                )
            except NotAFeedError as exc:
                return await self._fail(feed, result, "not_a_feed", str(exc))
        plan = await asyncio.to_thread(self._plan, feed, parsed)
        texts = await self._full_texts(plan) if feed.full_text else {}
        async with self._writing:
            outcome = await asyncio.to_thread(
                self._store, feed, parsed, plan, texts, first_add, backfill
            )
            if outcome.new_documents and self.analyze is not None:
                await asyncio.to_thread(self.analyze)
                rewrites = await asyncio.to_thread(
                    self.store.feeds.rewrites, feed.scope_id, outcome.new_documents
                )
                if rewrites:
                    await asyncio.to_thread(self.store.feeds.not_new, feed.id, rewrites)
                    outcome.new -= len(rewrites)
                    outcome.duplicate += len(rewrites)
                    outcome.new_documents = [
                        d for d in outcome.new_documents if d not in set(rewrites)
                    ]
        await self._succeed(feed, result, parsed.title)
        return outcome

    def _plan(self, feed: Feed, parsed: ParsedFeed) -> _Plan:
        """Which entries need storing: unknown ones, and known ones whose text changed."""
        known = self.store.feeds.known_entries(feed.id)
        todo: list[tuple[FeedEntry, str]] = []
        unchanged = 0
        seen: set[str] = set()
        for entry in parsed.entries:
            if entry.entry_id in seen:
                continue  # the same id twice in one document: the first wins
            seen.add(entry.entry_id)
            digest = entry_hash(entry)
            before = known.get(entry.entry_id)
            if before is not None and before.entry_hash == digest:
                unchanged += 1
            else:
                todo.append((entry, digest))
        return _Plan(todo, set(known), unchanged)

    async def _full_texts(self, plan: _Plan) -> dict[str, str]:
        """Main text of the article pages of new teaser entries (trafilatura)."""
        wanted = [entry for entry, _ in plan.todo if entry.link and len(entry.text) < TEASER_CHARS][
            :FULL_TEXT_PAGES
        ]

        async def one(entry: FeedEntry) -> tuple[str, str | None]:
            assert entry.link is not None
            page = await self.fetcher.fetch(entry.link, accept=PAGE_ACCEPT)
            if not page.ok or page.body is None:
                log.info("full text of %s: %s", entry.link, page.reason())
                return entry.entry_id, None
            return entry.entry_id, await asyncio.to_thread(main_text, page.body, entry.link)

        found = await asyncio.gather(*(one(e) for e in wanted))
        return {
            entry_id: text
            for (entry_id, text), entry in zip(found, wanted, strict=True)
            if text and len(text) > len(entry.text)
        }

    def _store(
        self,
        feed: Feed,
        parsed: ParsedFeed,
        plan: _Plan,
        texts: dict[str, str],
        first_add: bool,
        backfill: int,
    ) -> FeedOutcome:
        """Store the planned entries as documents and link them to the feed (worker thread)."""
        now = self.clock()
        outcome = FeedOutcome(
            feed.id,
            feed.url,
            "fetched",
            items=len(parsed.entries),
            unchanged=plan.unchanged,
            skipped=list(parsed.skipped),
            warnings=list(parsed.warnings),
        )
        announce = {e.entry_id for e in newest_first(parsed.entries)[:backfill]}
        feeds = self.store.feeds
        fallback = f"feed:{feed.canonical_url}"
        keys = {e.entry_id: source_key(e, fallback) for e, _ in plan.todo}
        stored = feeds.documents_for_keys(keys.values())
        links: list[EntryLink] = []
        linked: set[str] = set()  # documents this poll already linked to the feed
        kinds: dict[str, str] = {}  # how each new link was counted: new, stored, duplicate
        documents_of: dict[str, str] = {}
        # The articles to store, in the order the loop below uses them: every changed known
        # entry, and the first entry of each source key no document has yet. One batch, one
        # transaction (a commit per entry cost more than parsing the feed).
        articles: dict[str, ParsedArticle] = {}
        batch: list[tuple[ParsedArticle, str]] = []
        queued: set[str] = set()
        for entry, _ in plan.todo:
            try:
                article = entry_article(
                    entry, parsed.title, texts.get(entry.entry_id), outlets=self.outlets
                )
            except Exception as exc:  # one bad entry never loses the others
                self._skip(feed, entry, exc, outcome)
                continue
            articles[entry.entry_id] = article
            key = keys[entry.entry_id]
            if entry.entry_id in plan.known or (key not in stored and key not in queued):
                batch.append((article, key))
                if entry.entry_id not in plan.known:
                    queued.add(key)
        results: list[IngestOutcome] | None = None
        try:
            results = self.store.documents.ingest_many(batch, "feed", now)
        except Exception:  # stored entry by entry below, each failure its own
            log.warning("feed %s: batch not stored; storing entry by entry", feed.id, exc_info=True)
        ingest = iter(results) if results is not None else None
        seen: set[str] | None = None
        if results is not None:
            # What the scope may already see, asked once: documents this batch did not add.
            maybe = set(stored.values()) | {o.document_id for o in results if o.status != "added"}
            seen = feeds.seen(feed.scope_id, maybe) if maybe else set()

        def one(article: ParsedArticle, key: str) -> IngestOutcome:
            """The batch's outcome for the next article it stored (or store it now)."""
            if ingest is None:
                return self.store.documents.ingest(article, "feed", key, now)
            return next(ingest)

        for entry, digest in plan.todo:
            if entry.entry_id not in articles:
                continue
            try:
                article = articles[entry.entry_id]
                key = keys[entry.entry_id]
                if entry.entry_id in plan.known:
                    result = one(article, key)
                    links.append(EntryLink(entry.entry_id, result.document_id, digest, known=True))
                    outcome.updated += 1
                    continue
                # An article another feed (or a file) brought under the same URL is linked as
                # it is: stored once, and one outlet's teaser never overwrites another's text.
                document_id = stored.get(key)
                added = False
                if document_id is None:
                    result = one(article, key)
                    document_id, added = result.document_id, result.status == "added"
                    stored[key] = document_id
                # Already visible to this scope: the same article from another of its feeds,
                # a seed or file, or the same item under a rewritten guid or pubDate.
                had = document_id in linked or (
                    not added
                    and (
                        document_id in seen
                        if seen is not None
                        else feeds.sees(feed.scope_id, document_id)
                    )
                )
                new = not had and (not first_add or entry.entry_id in announce)
                links.append(EntryLink(entry.entry_id, document_id, digest, new=new))
                linked.add(document_id)
                kinds[entry.entry_id] = "duplicate" if had else "new" if new else "stored"
                documents_of[entry.entry_id] = document_id
                if had:
                    outcome.duplicate += 1
                elif new:
                    outcome.new += 1
                    outcome.new_documents.append(document_id)
                else:
                    outcome.stored += 1
            except Exception as exc:  # one bad entry never loses the others
                self._skip(feed, entry, exc, outcome)
        # Links go last, in one transaction: should the process die before, the documents
        # are there and the next poll links them (as new: the scope never saw them).
        # Another poll of this feed may have linked some first: theirs stand, and here they
        # are duplicates (announced, if at all, by the other poll).
        for entry_id in feeds.record_entries(feed.id, links, now):
            kind = kinds.get(entry_id)
            if kind == "new":
                outcome.new -= 1
                outcome.new_documents.remove(documents_of[entry_id])
            elif kind == "stored":
                outcome.stored -= 1
            else:
                continue
            outcome.duplicate += 1
        return outcome

    @staticmethod
    def _skip(feed: Feed, entry: FeedEntry, exc: Exception, outcome: FeedOutcome) -> None:
        log.warning("feed %s: entry %r not stored", feed.id, entry.entry_id, exc_info=exc)
        why = str(exc) if isinstance(exc, BriefbotError) else internal_error(exc)
        outcome.skipped.append(f"{entry.entry_id[:80]}: {why}"[:200])

    async def _succeed(self, feed: Feed, result: FetchResult, title: str | None) -> None:
        answer = Answer(True, result.status, None, result.retry_after, result.max_age)
        decision = decide(self.clock(), feed.failures, answer, self.policy, self.rng)
        state = FeedState(
            fetched_at=self.clock(),
            status=result.status,
            error_type=None,
            error=None,
            failures=0,
            next_poll_at=decision.next_poll_at,
            enabled=True,
            disabled_reason=None,
            title=title,
            etag=result.etag,
            last_modified=result.last_modified,
        )
        await asyncio.to_thread(self.store.feeds.save_state, feed.id, state)

    async def _fail(
        self, feed: Feed, result: FetchResult | None, kind: str, error: str
    ) -> FeedOutcome:
        status = result.status if result is not None else None
        retry_after = result.retry_after if result is not None else None
        answer = Answer(False, status, error, retry_after, None)
        decision = decide(self.clock(), feed.failures, answer, self.policy, self.rng)
        state = FeedState(
            fetched_at=self.clock(),
            status=status,
            error_type=kind,
            error=error,
            failures=decision.failures,
            next_poll_at=decision.next_poll_at,
            enabled=decision.enabled,
            disabled_reason=decision.disabled_reason,
        )
        await asyncio.to_thread(self.store.feeds.save_state, feed.id, state)
        if not decision.enabled:
            log.warning("feed %s (%s) disabled: %s", feed.id, feed.url, decision.disabled_reason)
        return FeedOutcome(
            feed.id,
            feed.url,
            "failed",
            error_type=kind,
            error=error,
            disabled=not decision.enabled,
        )


Blocking = Callable[..., Awaitable[Any]]


def claim_batch(feeds: FeedSettings, lease: timedelta, margin: float = 2.0) -> int:
    """How many feeds one claim takes: as many as ``concurrency`` fetches at once can finish
    within the lease if each took ``total_timeout`` x ``margin`` (at least one wave)."""
    waves = int(lease.total_seconds() // (feeds.total_timeout * margin))
    return feeds.concurrency * max(1, waves)


async def poll_leased(
    store: Feeds,
    clock: Clock,
    open_poller: Callable[[], AbstractAsyncContextManager[Poller]],
    owner: str,
    lease: timedelta,
    batch: int,
    *,
    progress: Callable[[FeedOutcome], None] | None = None,
    on_batch: Callable[[PollSummary], None] | None = None,
    blocking: Blocking = asyncio.to_thread,
) -> PollSummary:
    """Claim the due feeds no other process holds, poll them, give back any not polled: the
    one polling loop of the bot's job and of ``briefbot poll``, so several processes share
    the feeds, each polled by one at a time.

    Claims come in batches that each fit in one lease (``claim_batch``), so a live process
    never outlasts its own lease; a dead one's feeds are free again when its lease runs out.
    Due feeds another process holds are "leased" outcomes (skipped). ``open_poller`` is
    entered only when there is something to poll; ``on_batch`` sees each batch's summary.
    """
    summary = PollSummary()
    polled: set[int] = set()
    held: dict[int, Feed] = {}

    async def claim() -> list[Feed]:
        now = clock()
        claimed: list[Feed] = await blocking(store.claim_due, now, owner, lease, batch)
        for feed in await blocking(store.held_elsewhere, now, owner):
            held.setdefault(feed.id, feed)
        return claimed

    claimed = await claim()
    if claimed:
        async with open_poller() as poller:
            while claimed:
                ids = [feed.id for feed in claimed]
                try:
                    if polled.issuperset(ids):  # polled this time and due again: next time
                        break
                    part = await poller.round(progress, feeds=claimed)
                finally:
                    await _give_back(store, ids, owner, blocking)
                polled.update(ids)
                summary.outcomes.extend(part.outcomes)
                if on_batch is not None:
                    on_batch(part)
                if len(claimed) < batch:
                    break
                claimed = await claim()
    for feed in held.values():
        if feed.id in polled:
            continue
        log.info(
            "feed %s: polled by %s (lease until %s); skipped",
            feed.id,
            feed.lease_owner,
            feed.lease_until,
        )
        outcome = FeedOutcome(
            feed.id, feed.url, LEASED, held_by=feed.lease_owner, held_until=feed.lease_until
        )
        summary.outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
    summary.outcomes.sort(key=lambda o: o.feed_id)
    return summary


async def _give_back(store: Feeds, feed_ids: list[int], owner: str, blocking: Blocking) -> None:
    """Release claimed feeds the round did not poll (it was cut short): others need not wait
    for the lease. Polled feeds were released by the poll itself."""
    with contextlib.suppress(Exception):  # stopping: the lease runs out instead
        await asyncio.shield(blocking(store.release, feed_ids, owner))
