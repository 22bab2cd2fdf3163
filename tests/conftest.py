"""Shared fixtures: a real SQLite file per test, the CLI run in-process with a fixed clock."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.cli import main
from briefs.clock import FrozenClock
from briefs.ingest import ingest_files, seed_files
from briefs.resources import seeds_dir
from briefs.store import SqlStore, open_store

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
SEEDS = seeds_dir()


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> dict:  # type: ignore[type-arg]
        return json.loads(self.out)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
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


def snapshot(store: SqlStore) -> dict[str, list[tuple[object, ...]]]:
    """Everything stored, row by row, to prove a failed command changed nothing."""
    with store.engine.connect() as conn:
        return {
            table: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]
            for table in ("documents", "sentences", "sentences_fts", "meta")
        }
