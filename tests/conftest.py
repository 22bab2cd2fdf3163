"""Shared fixtures: a real store per test, the CLI run in-process with a fixed clock.

The store is an SQLite file, or with BRIEFBOT_TEST_DATABASE=postgres a fresh schema on a real
PostgreSQL server started for the session (tests/pg.py).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import text

from bot.cli import main
from briefs.clock import FrozenClock
from briefs.ingest.files import ingest_files, seed_files
from briefs.resources import seeds_dir
from briefs.store import SqlStore, open_store
from tests import pg
from tests.discord_double.fixture import discord_double  # noqa: F401  (the fixture)

# Fuzz tests (Hypothesis) run with a fixed budget and a fixed seed: the same examples on every
# run, so CI's time is bounded and a failure repeats. HYPOTHESIS_PROFILE=explore searches wider
# and at random, for a developer hunting new failures (each one then becomes a plain test).
settings.register_profile(
    "ci",
    max_examples=200,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
SEEDS = seeds_dir()


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> dict:  # type: ignore[type-arg]
        return json.loads(self.out)


def pytest_report_header() -> str:
    return f"store backend: {'postgres' if pg.wanted() else 'sqlite'} ({pg.BACKEND_VARIABLE})"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.PostgresServer]:
    """The session's PostgreSQL server, started on first use and stopped at the end."""
    try:
        server = pg.server_for_session()
    except pg.PostgresMissing as exc:
        if pg.wanted():
            raise
        pytest.skip(f"PostgreSQL is not installed here ({exc}); .ci/run installs it")
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: pg.PostgresServer) -> str:
    """A fresh, empty PostgreSQL schema, whatever backend the suite runs on."""
    return pg_server.fresh_url()


@pytest.fixture
def db_url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The test's store: an SQLite file, or a fresh PostgreSQL schema when the suite runs
    on PostgreSQL (BRIEFBOT_TEST_DATABASE=postgres)."""
    if pg.wanted():
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path / 'store.sqlite3'}"


@pytest.fixture
def env(tmp_path: Path, db_url: str) -> dict[str, str]:
    """A clean environment: no user settings, the store in tmp_path."""
    return {"BRIEFBOT_DATABASE_URL": db_url, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)}


@pytest.fixture
def cli(env: dict[str, str]) -> Callable[..., Run]:
    def run(*args: str, extra_env: dict[str, str] | None = None) -> Run:
        out, err = io.StringIO(), io.StringIO()
        code = main(
            list(args), env={**env, **(extra_env or {})}, clock=FrozenClock(NOW), out=out, err=err
        )
        return Run(code, out.getvalue(), err.getvalue())

    return run


@pytest.fixture
def store(db_url: str) -> SqlStore:
    s = open_store(db_url)
    yield s  # type: ignore[misc]
    s.close()


@pytest.fixture
def seeded(store: SqlStore) -> SqlStore:
    results = list(ingest_files(store, seed_files(SEEDS), "seed", FrozenClock(NOW)))
    assert all(r.ok for r in results)
    return store


@pytest.fixture
def seeded_cli(cli: Callable[..., Run]) -> Callable[..., Run]:
    """The CLI on a store that already holds the seed corpus, analysed."""
    assert cli("brief").code == 0  # ingests the seeds into the empty store and analyses them
    return cli


def stored(db_url: str) -> dict[str, list[tuple[object, ...]]]:
    """``snapshot`` of the store at ``db_url``, opened and closed for it."""
    store = open_store(db_url)
    try:
        return snapshot(store)
    finally:
        store.close()


def snapshot(store: SqlStore) -> dict[str, list[tuple[object, ...]]]:
    """Everything stored, row by row, to prove a failed command changed nothing."""
    with store.engine.connect() as conn:
        return {
            table: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]
            for table in ("documents", "sentences", "sentences_fts", "meta")
        }
