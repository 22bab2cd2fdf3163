"""Feed storage: feeds per scope, their state and last error as data, the entries they brought.

A feed belongs to the scope that added it (a Discord server is one kind of scope;
``scope_id`` None is the command line's own): one scope never lists another's feed URLs, and
a document that only another scope's feeds brought is not visible to it (``visible_filter``).
Documents themselves live in the ``documents`` table like any other; ``feed_entries`` links
each entry of a feed to its document, with the time briefbot first saw it and whether it is
new for the next digest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select, update
from sqlalchemy.engine import Connection, Engine

from briefs.errors import InputError, NotFoundError
from briefs.store import dialect
from briefs.store.queries import in_scope, scope_documents, visible_filter
from briefs.store.schema import documents, feed_entries, feeds, subscriptions


@dataclass(frozen=True)
class Feed:
    id: int
    scope_id: str | None
    url: str
    canonical_url: str
    title: str | None
    etag: str | None
    last_modified: str | None
    added_at: datetime
    last_fetched_at: datetime | None
    last_status: int | None
    last_error_type: str | None
    last_error: str | None
    failures: int
    next_poll_at: datetime | None
    enabled: bool
    disabled_reason: str | None
    full_text: bool
    removed_at: datetime | None = None
    entries: int = 0
    lease_owner: str | None = None  # the process polling it now (claim_due)
    lease_until: datetime | None = None

    @property
    def name(self) -> str:
        return self.title or self.url


@dataclass(frozen=True)
class FeedState:
    """What one poll learnt about a feed, stored in one go."""

    fetched_at: datetime
    status: int | None
    error_type: str | None
    error: str | None
    failures: int
    next_poll_at: datetime
    enabled: bool
    disabled_reason: str | None
    title: str | None = None  # None keeps the stored title
    etag: str | None = None  # None keeps the stored validator
    last_modified: str | None = None


@dataclass(frozen=True)
class KnownEntry:
    document_id: str
    entry_hash: str


@dataclass(frozen=True)
class EntryLink:
    """One entry of a poll and the document that holds it."""

    entry_id: str
    document_id: str
    entry_hash: str
    new: bool = False
    known: bool = False  # the feed brought this entry before


@dataclass(frozen=True)
class Subscription:
    """A channel following a feed, with optional keyword filters (any include, no exclude)."""

    id: int
    feed_id: int
    scope_id: str | None
    channel_id: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def matches(self, text: str) -> bool:
        folded = text.casefold()
        if self.include and not any(term.casefold() in folded for term in self.include):
            return False
        return not any(term.casefold() in folded for term in self.exclude)


def _due(now: datetime) -> ColumnElement[bool]:
    """Enabled, followed, and its next poll time has come."""
    return and_(
        feeds.c.enabled == 1,
        feeds.c.removed_at.is_(None),
        or_(feeds.c.next_poll_at.is_(None), feeds.c.next_poll_at <= now),
    )


def _insert_or_skip(conn: Connection, table: Any, keys: list[str]) -> Any:
    """An INSERT that leaves a row whose unique ``keys`` exist alone, returning the keys of
    the row it did insert (none when it skipped one): ``ON CONFLICT DO NOTHING RETURNING``
    in each backend's words (a driver's rowcount is not always kept)."""
    statement = (
        dialect.dialect_module(conn).insert(table).on_conflict_do_nothing(index_elements=keys)
    )
    return statement.returning(*(table.c[key] for key in keys))


def _terms(value: str | None) -> tuple[str, ...]:
    return tuple(t for t in (value or "").split("\n") if t)


class FeedStore:
    """Feeds, subscriptions and feed entries, over the store's SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- feeds ---------------------------------------------------------------------------

    def add(
        self,
        url: str,
        canonical: str,
        scope_id: str | None,
        title: str | None,
        now: datetime,
        full_text: bool,
    ) -> Feed:
        """Follow a feed in a scope; a feed removed before comes back with its entries
        (so they are not announced twice)."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(feeds.c.id, feeds.c.removed_at).where(
                    and_(in_scope(feeds.c.scope_id, scope_id), feeds.c.canonical_url == canonical)
                )
            ).first()
            values: dict[str, Any] = {
                "url": url,
                "title": title,
                "etag": None,
                "last_modified": None,
                "last_fetched_at": None,
                "last_status": None,
                "last_error_type": None,
                "last_error": None,
                "failures": 0,
                "next_poll_at": now,
                "enabled": 1,
                "disabled_reason": None,
                "full_text": int(full_text),
                "removed_at": None,
            }
            if row is not None and row.removed_at is None:
                raise InputError(f"{url}: already followed here, as feed {row.id}")
            if row is not None:
                conn.execute(update(feeds).where(feeds.c.id == row.id).values(**values))
                feed_id = int(row.id)
            else:
                result = conn.execute(
                    feeds.insert().values(
                        scope_id=scope_id, canonical_url=canonical, added_at=now, **values
                    )
                )
                feed_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        return self.get(feed_id)

    def get(self, feed_id: int) -> Feed:
        found = self._select(feeds.c.id == feed_id)
        if not found:
            raise NotFoundError(f"no feed {feed_id}")
        return found[0]

    def find(self, ref: str, scope_id: str | None) -> Feed:
        """A followed feed of the scope, by id or URL."""
        for feed in self.list_feeds(scope_id):
            if ref.strip() in {str(feed.id), feed.url, feed.canonical_url}:
                return feed
        raise NotFoundError(f"no feed {ref!r} is followed here (see: briefbot feeds list)")

    def list_feeds(self, scope_id: str | None) -> list[Feed]:
        """The followed feeds of one scope, oldest first."""
        return self._select(
            and_(in_scope(feeds.c.scope_id, scope_id), feeds.c.removed_at.is_(None))
        )

    def due(self, now: datetime, limit: int = 10_000) -> list[Feed]:
        """Enabled, followed feeds whose next poll time has come, most overdue first."""
        return self._select(_due(now), order=feeds.c.next_poll_at, limit=limit)

    def claim_due(
        self, now: datetime, owner: str, lease: timedelta, limit: int = 10_000
    ) -> list[Feed]:
        """Take the due feeds no other process holds, for ``lease``: several processes share
        polling this way, each feed polled by one at a time. ``save_state`` (the poll's end)
        or ``release`` gives a feed back; a lease that runs out (its process died) lets the
        next claim take the feed over.

        One UPDATE statement: on PostgreSQL its subquery locks the rows it picks with ``FOR
        UPDATE SKIP LOCKED``, so concurrent claims pass each other by instead of waiting or
        taking the same feed; SQLite runs one writer at a time, so the statement is atomic.
        """
        free = or_(feeds.c.lease_until.is_(None), feeds.c.lease_until <= now)
        pick = (
            select(feeds.c.id)
            .where(and_(_due(now), free))
            .order_by(feeds.c.next_poll_at, feeds.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite's compiler leaves it out
        )
        claim = (
            update(feeds)
            .where(and_(feeds.c.id.in_(pick.scalar_subquery()), free))
            .values(lease_owner=owner[:64], lease_until=now + lease)
            .returning(feeds.c.id)
        )
        with self.engine.begin() as conn:
            ids = [r.id for r in conn.execute(claim)]
        if not ids:
            return []
        return self._select(feeds.c.id.in_(ids), order=feeds.c.next_poll_at)

    def held_elsewhere(self, now: datetime, owner: str) -> list[Feed]:
        """Due feeds whose lease another process holds now: being polled there, skipped here."""
        held = and_(
            _due(now),
            feeds.c.lease_until > now,
            feeds.c.lease_owner.is_not(None),
            feeds.c.lease_owner != owner[:64],
        )
        return self._select(held, order=feeds.c.next_poll_at)

    def release(self, feed_ids: Iterable[int], owner: str) -> None:
        """Give back feeds claimed and not polled (a round cut short), so others need not
        wait for the lease to run out."""
        ids = list(feed_ids)
        if not ids:
            return
        with self.engine.begin() as conn:
            conn.execute(
                update(feeds)
                .where(and_(feeds.c.id.in_(ids), feeds.c.lease_owner == owner[:64]))
                .values(lease_owner=None, lease_until=None)
            )

    def _select(
        self, condition: ColumnElement[bool], order: Any = None, limit: int | None = None
    ) -> list[Feed]:
        count = (
            select(func.count())
            .where(feed_entries.c.feed_id == feeds.c.id)
            .correlate(feeds)
            .scalar_subquery()
        )
        query = select(*feeds.c, count.label("entries")).where(condition)
        query = query.order_by(order if order is not None else feeds.c.id, feeds.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            Feed(
                id=r.id,
                scope_id=r.scope_id,
                url=r.url,
                canonical_url=r.canonical_url,
                title=r.title,
                etag=r.etag,
                last_modified=r.last_modified,
                added_at=r.added_at,
                last_fetched_at=r.last_fetched_at,
                last_status=r.last_status,
                last_error_type=r.last_error_type,
                last_error=r.last_error,
                failures=r.failures,
                next_poll_at=r.next_poll_at,
                enabled=bool(r.enabled),
                disabled_reason=r.disabled_reason,
                full_text=bool(r.full_text),
                removed_at=r.removed_at,
                entries=r.entries,
                lease_owner=r.lease_owner,
                lease_until=r.lease_until,
            )
            for r in rows
        ]

    def remove(self, feed_id: int, now: datetime) -> None:
        """Stop following a feed. Its documents and entry links stay: briefs that cite them
        keep working, and adding the feed again does not announce old items as new."""
        with self.engine.begin() as conn:
            conn.execute(update(feeds).where(feeds.c.id == feed_id).values(removed_at=now))
            conn.execute(subscriptions.delete().where(subscriptions.c.feed_id == feed_id))

    def enable(self, feed_id: int, now: datetime) -> None:
        """Resume a disabled feed: failures forgotten, polled at the next round."""
        with self.engine.begin() as conn:
            conn.execute(
                update(feeds)
                .where(feeds.c.id == feed_id)
                .values(enabled=1, disabled_reason=None, failures=0, next_poll_at=now)
            )

    def save_state(self, feed_id: int, state: FeedState) -> None:
        values: dict[str, Any] = {
            "last_fetched_at": state.fetched_at,
            "last_status": state.status,
            "last_error_type": state.error_type,
            "last_error": state.error,
            "failures": state.failures,
            "next_poll_at": state.next_poll_at,
            "enabled": int(state.enabled),
            "disabled_reason": state.disabled_reason,
            # The poll is over: its lease, if any, ends with it.
            "lease_owner": None,
            "lease_until": None,
        }
        for key in ("title", "etag", "last_modified"):
            if getattr(state, key) is not None:
                values[key] = getattr(state, key)
        with self.engine.begin() as conn:
            conn.execute(update(feeds).where(feeds.c.id == feed_id).values(**values))

    def move(self, feed_id: int, url: str) -> None:
        """The feed answered with a permanent redirect: poll the new address from now on."""
        with self.engine.begin() as conn:
            conn.execute(update(feeds).where(feeds.c.id == feed_id).values(url=url))

    # -- entries -------------------------------------------------------------------------

    def known_entries(self, feed_id: int) -> dict[str, KnownEntry]:
        """Every entry the feed brought before, by entry id."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    feed_entries.c.entry_id, feed_entries.c.document_id, feed_entries.c.entry_hash
                ).where(feed_entries.c.feed_id == feed_id)
            ).all()
        return {r.entry_id: KnownEntry(r.document_id, r.entry_hash) for r in rows}

    def record_entries(self, feed_id: int, links: Sequence[EntryLink], now: datetime) -> set[str]:
        """Link a poll's entries to their documents, in one transaction. A ``known`` entry
        keeps its first sighting and its new flag, and follows its document if that changed.

        Returns the ids of the new entries another writer linked first (a second poll of the
        feed meanwhile): the unique key keeps its link, and the caller counts them as
        duplicates. They are told by what a multi-row insert-or-skip returns: one statement
        for up to 500 entries, not one each.
        """
        fresh = [
            {
                "feed_id": feed_id,
                "entry_id": link.entry_id,
                "document_id": link.document_id,
                "entry_hash": link.entry_hash,
                "first_seen_at": now,
                "new": int(link.new),
            }
            for link in links
            if not link.known
        ]
        changed = [
            {"e": link.entry_id, "d": link.document_id, "h": link.entry_hash}
            for link in links
            if link.known
        ]
        taken: set[str] = set()
        with self.engine.begin() as conn:
            insert = _insert_or_skip(conn, feed_entries, ["feed_id", "entry_id"])
            for start in range(0, len(fresh), 500):
                rows = fresh[start : start + 500]
                linked = {r.entry_id for r in conn.execute(insert.values(rows))}
                taken.update(str(row["entry_id"]) for row in rows if row["entry_id"] not in linked)
            if changed:
                conn.execute(
                    update(feed_entries)
                    .where(
                        and_(
                            feed_entries.c.feed_id == feed_id,
                            feed_entries.c.entry_id == bindparam("e"),
                        )
                    )
                    .values(document_id=bindparam("d"), entry_hash=bindparam("h")),
                    changed,
                )
        return taken

    def documents_for_keys(self, source_keys: Iterable[str]) -> dict[str, str]:
        """The documents stored under these source keys (canonical article URLs), by key."""
        keys = list(dict.fromkeys(source_keys))
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(keys), 500):
                rows = conn.execute(
                    select(documents.c.source_key, documents.c.id).where(
                        documents.c.source_key.in_(keys[start : start + 500])
                    )
                )
                found.update({r.source_key: r.id for r in rows})
        return found

    def not_new(self, feed_id: int, document_ids: Iterable[str]) -> int:
        """Take documents out of the next digest (rewrites of what the scope already has)."""
        ids = list(document_ids)
        if not ids:
            return 0
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    update(feed_entries)
                    .where(
                        and_(
                            feed_entries.c.feed_id == feed_id,
                            feed_entries.c.document_id.in_(ids),
                            feed_entries.c.new == 1,
                        )
                    )
                    .values(new=0)
                ).rowcount
            )

    def rewrites(self, scope_id: str | None, document_ids: Iterable[str]) -> list[str]:
        """Those of ``document_ids`` that analysis found to be near-copies of a document the
        scope already sees: another outlet's rewrite joins that story, it is not news."""
        ids = list(document_ids)
        if not ids:
            return []
        original = documents.alias("original")
        query = (
            select(documents.c.id)
            .join(original, original.c.id == documents.c.duplicate_of)
            .where(
                and_(
                    documents.c.id.in_(ids),
                    or_(
                        original.c.origin != "feed",
                        original.c.id.in_(scope_documents(scope_id)),
                    ),
                )
            )
        )
        with self.engine.connect() as conn:
            return [r.id for r in conn.execute(query)]

    def visible_documents(self, scope_id: str | None) -> set[str]:
        """Ids of the documents ``visible_filter`` lets through."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(documents.c.id).where(visible_filter(scope_id)))
            return {r.id for r in rows}

    def sees(self, scope_id: str | None, document_id: str, conn: Connection | None = None) -> bool:
        """Whether the scope can already see this document."""
        query = select(documents.c.id).where(
            and_(documents.c.id == document_id, visible_filter(scope_id))
        )
        if conn is not None:
            return conn.execute(query).first() is not None
        with self.engine.connect() as own:
            return own.execute(query).first() is not None

    def seen(self, scope_id: str | None, document_ids: Iterable[str]) -> set[str]:
        """Which of these documents the scope can already see (``sees`` for a whole poll)."""
        ids = list(dict.fromkeys(document_ids))
        found: set[str] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                query = select(documents.c.id).where(
                    and_(documents.c.id.in_(ids[start : start + 500]), visible_filter(scope_id))
                )
                found.update(r.id for r in conn.execute(query))
        return found

    def new_documents(self, scope_id: str | None, since: datetime | None = None) -> list[str]:
        """Documents that arrived as new items of the scope's feeds (first seen after
        ``since``): what a digest announces. First seen, not published: an item that
        arrived while the bot was down is still new."""
        query = (
            select(feed_entries.c.document_id, func.min(feed_entries.c.first_seen_at))
            .join(feeds, feeds.c.id == feed_entries.c.feed_id)
            .where(and_(in_scope(feeds.c.scope_id, scope_id), feed_entries.c.new == 1))
            .group_by(feed_entries.c.document_id)
            .order_by(func.min(feed_entries.c.first_seen_at), feed_entries.c.document_id)
        )
        if since is not None:
            query = query.where(feed_entries.c.first_seen_at > since)
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(query)]

    # -- subscriptions -------------------------------------------------------------------

    def subscribe(
        self,
        feed_id: int,
        channel_id: str,
        now: datetime,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
    ) -> Subscription:
        """A channel of the feed's scope follows the feed (again: filters replaced)."""
        feed = self.get(feed_id)
        values = {
            "include_terms": "\n".join(include) or None,
            "exclude_terms": "\n".join(exclude) or None,
        }
        with self.engine.begin() as conn:
            row = conn.execute(
                select(subscriptions.c.id).where(
                    and_(
                        subscriptions.c.feed_id == feed_id,
                        subscriptions.c.channel_id == channel_id,
                    )
                )
            ).first()
            if row is None:
                conn.execute(
                    subscriptions.insert().values(
                        feed_id=feed_id,
                        scope_id=feed.scope_id,
                        channel_id=channel_id,
                        created_at=now,
                        **values,
                    )
                )
            else:
                conn.execute(
                    update(subscriptions).where(subscriptions.c.id == row.id).values(**values)
                )
        return next(
            s
            for s in self.subscriptions(feed.scope_id)
            if s.feed_id == feed_id and s.channel_id == channel_id
        )

    def unsubscribe(self, feed_id: int, channel_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                subscriptions.delete().where(
                    and_(
                        subscriptions.c.feed_id == feed_id,
                        subscriptions.c.channel_id == channel_id,
                    )
                )
            )

    def subscriptions(self, scope_id: str | None) -> list[Subscription]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(subscriptions)
                .where(in_scope(subscriptions.c.scope_id, scope_id))
                .order_by(subscriptions.c.id)
            ).all()
        return [
            Subscription(
                r.id,
                r.feed_id,
                r.scope_id,
                r.channel_id,
                _terms(r.include_terms),
                _terms(r.exclude_terms),
            )
            for r in rows
        ]
