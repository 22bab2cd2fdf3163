"""Feed-poll leases (``FeedStore.claim_due``): several processes share polling through the
store, each feed held by one at a time, and a dead process's feeds are taken over when its
lease runs out. On the suite's backend (``db_url``), and on PostgreSQL (``pg_url``) for the
race between concurrent claimers.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from briefs.store import SqlStore, open_store
from briefs.store.feeds import FeedState

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)


def _feeds(store: SqlStore, n: int) -> list[int]:
    return [
        store.feeds.add(
            f"http://news.example/{i}.xml", f"news.example/{i}.xml", None, None, NOW, False
        ).id
        for i in range(n)
    ]


def _polled(store: SqlStore, feed_id: int, now: datetime) -> None:
    state = FeedState(now, 200, None, None, 0, now + timedelta(hours=1), True, None)
    store.feeds.save_state(feed_id, state)


@pytest.fixture
def store(db_url: str) -> SqlStore:
    s = open_store(db_url)
    yield s  # type: ignore[misc]
    s.close()


def test_a_claimed_feed_is_nobody_elses_until_polled_or_expired(store: SqlStore) -> None:
    ids = _feeds(store, 5)
    a = store.feeds.claim_due(NOW, "process-a", LEASE, limit=2)
    assert [f.id for f in a] == ids[:2]
    assert all(f.lease_owner == "process-a" and f.lease_until == NOW + LEASE for f in a)
    b = store.feeds.claim_due(NOW, "process-b", LEASE)
    assert [f.id for f in b] == ids[2:]
    assert store.feeds.claim_due(NOW, "process-c", LEASE) == []

    # A polls its first feed: the lease ends with the poll, and the feed is not due again yet.
    _polled(store, ids[0], NOW)
    assert store.feeds.get(ids[0]).lease_owner is None
    # B gives back one feed it did not get to; anyone may take it at once. A cannot release
    # B's other feeds.
    store.feeds.release([ids[2]], "process-b")
    store.feeds.release([ids[3]], "process-a")
    assert [f.id for f in store.feeds.claim_due(NOW, "process-c", LEASE)] == [ids[2]]

    # A dies holding ids[1]: before the lease runs out nobody takes it, after it, C does.
    almost = NOW + LEASE - timedelta(seconds=1)
    assert [f.id for f in store.feeds.claim_due(almost, "process-c", LEASE)] == []
    later = NOW + LEASE
    taken = store.feeds.claim_due(later, "process-c", LEASE)
    assert sorted(f.id for f in taken) == ids[1:]  # B's and C's own ran out as well
    assert store.feeds.get(ids[1]).lease_until == later + LEASE
    # The plain list of due feeds (``briefbot poll``) ignores leases.
    assert len(store.feeds.due(later)) == 4


def test_disabled_and_removed_feeds_are_never_claimed(store: SqlStore) -> None:
    ids = _feeds(store, 3)
    store.feeds.remove(ids[0], NOW)
    state = FeedState(NOW, 410, "gone", "HTTP 410", 1, NOW, False, "gone")
    store.feeds.save_state(ids[1], state)
    assert [f.id for f in store.feeds.claim_due(NOW, "p", LEASE)] == [ids[2]]


@pytest.mark.parametrize("url_fixture", ["db_url", "pg_url"])
def test_concurrent_claimers_share_the_feeds_without_overlap(
    url_fixture: str, request: pytest.FixtureRequest
) -> None:
    url = str(request.getfixturevalue(url_fixture))
    setup = open_store(url)
    ids = _feeds(setup, 40)
    setup.close()
    got: dict[str, list[int]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def process(name: str) -> None:
        # Each "process" has its own store (engine and connections), as separate processes do.
        own = open_store(url)
        mine: list[int] = []
        try:
            start.wait()
            while batch := own.feeds.claim_due(NOW, name, LEASE, limit=3):
                mine += [f.id for f in batch]
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.close()
            got[name] = mine

    threads = [threading.Thread(target=process, args=(f"p{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    claimed = [feed for mine in got.values() for feed in mine]
    assert sorted(claimed) == ids  # every feed once, none twice
