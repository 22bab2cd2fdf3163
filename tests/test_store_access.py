"""A store that is damaged, or that cannot be written, is one clear line (exit 2), never a
traceback or "not a briefbot store"; read-only commands work on a read-only store (issue 15,
finding 5).

The damaged and read-only stores are SQLite files of their own, whatever backend the suite
runs on: a file is what gets damaged or mounted read-only. The schema_version test runs on the
suite's backend.
"""

from __future__ import annotations

import gc
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from briefs.errors import StoreDamaged, StoreReadOnly
from briefs.store import open_store
from tests.conftest import Run
from tests.test_bad_input import one_error_line

READ_COMMANDS = [
    ["stats", "--format", "json"],
    ["brief", "--format", "json"],
    ["brief", "--topic", "sanctions", "--format", "json"],
    ["source", "29979d9ea9c5:3", "--format", "json"],
    ["search", "sanctions", "--format", "json"],
    ["timeline", "--format", "json"],
    ["entity", "Russia", "--format", "json"],
    ["stories", "--format", "json"],
    ["feeds", "list"],
    ["feeds", "suggested", "--format", "json"],
    ["schedule", "list"],
    ["schedule", "show"],
    ["digest", "--format", "json"],
]


def _store_refuses_writes(url: str) -> None:
    """Below the CLI's up-front check, the store itself refuses a write in one line."""
    store = open_store(url)
    try:
        with pytest.raises(StoreReadOnly, match=r"is read-only .*; this command must write"):
            store.set_meta("x", "y")
    finally:
        store.close()


def _rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the store's main tables, read with plain SQL (no migration, no checks)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]
                for table in ("documents", "sentences", "meta", "feeds", "schedules")
            }
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_store(cli: Callable[..., Run], tmp_path: Path) -> tuple[Path, Callable[..., Run]]:
    """A seeded and analysed SQLite store in a folder of its own, and the CLI pointed at it."""
    folder = tmp_path / "store"
    folder.mkdir()
    path = folder / "briefbot.sqlite3"
    url = f"sqlite:///{path}"

    def run(*args: str) -> Run:
        return cli(*args, extra_env={"BRIEFBOT_DATABASE_URL": url})

    assert run("brief").code == 0  # seeds and analyses (stats only counts what awaits it)
    assert sorted(p.name for p in folder.iterdir()) == [path.name]  # no -wal/-shm left
    return path, run


# -- a damaged store -------------------------------------------------------------------------


def _damage(path: Path, at: float, pages: int = 3) -> None:
    """Overwrite ``pages`` 4 KiB pages from ``at`` (a fraction of the file); the 100-byte
    header (and the rest of page 1) stay intact, so SQLite still opens the file."""
    size = path.stat().st_size
    offset = max(4096, int(size * at) // 4096 * 4096)
    with path.open("r+b") as fh:
        fh.seek(offset)
        fh.write(b"\xa5" * 4096 * pages)


@pytest.mark.parametrize("at", [0.1, 0.3, 0.5, 0.7, 0.9])
def test_a_damaged_store_is_one_line_for_every_read_command(
    sqlite_store: tuple[Path, Callable[..., Run]], at: float
) -> None:
    path, run = sqlite_store
    _damage(path, at)
    damaged = 0
    for args in READ_COMMANDS:
        result = run(*args)
        if result.code == 0:
            continue  # this command read no damaged page
        assert f"the store {path} is damaged" in one_error_line(result), args
        assert "restore it from a backup" in result.err
        damaged += 1
    assert damaged, "the damage should reach at least one command"


def test_damaged_pages_in_the_sentence_table_are_one_line(
    sqlite_store: tuple[Path, Callable[..., Run]],
) -> None:
    """Half the file overwritten: both kinds of damage SQLite reports (a malformed image,
    a text that is no longer UTF-8) reach the commands, each as one line."""
    path, run = sqlite_store
    _damage(path, 0.25, pages=max(1, path.stat().st_size // 4096 // 2))
    results = [run(*args) for args in READ_COMMANDS]
    for args, result in zip(READ_COMMANDS, results, strict=True):
        assert result.code == 2, (args, result.err)
        assert "is damaged" in one_error_line(result)


# -- schema_version that is not a number -----------------------------------------------------


@pytest.mark.parametrize("value", ["seven", "", "7.0", "\u0667"])
def test_a_non_numeric_schema_version_is_one_line_and_changes_nothing(
    cli: Callable[..., Run], db_url: str, value: str
) -> None:
    assert cli("stats").code == 0
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE meta SET value = :v WHERE key = 'schema_version'"), {"v": value})
    engine.dispose()
    before = _rows(db_url)
    for args in (["stats"], ["brief"], ["source", "29979d9ea9c5:3"], ["ingest", "README.md"]):
        line = one_error_line(cli(*args))
        assert f"schema_version is {value!r}, not a number" in line, line
    assert _rows(db_url) == before


# -- a read-only store -----------------------------------------------------------------------


def _run_quietly(*command: str) -> bool:
    return subprocess.run(command, capture_output=True, check=False).returncode == 0


@contextmanager
def read_only(folder: Path) -> Iterator[str]:
    """Make ``folder`` (and the store in it) impossible to write, for real: a read-only bind
    mount as root (whom file modes do not stop), else file modes. Yields how."""
    if os.geteuid() == 0:
        if not _run_quietly("mount", "--bind", str(folder), str(folder)):
            pytest.fail("as root this test needs mount (CAP_SYS_ADMIN) for a read-only mount")
        try:
            assert _run_quietly("mount", "-o", "remount,bind,ro", str(folder))
            yield "it is on a read-only file system"
        finally:
            # A connection an exception still holds keeps the mount busy until collected;
            # a lazy unmount, last, never leaves a mount behind.
            gc.collect()
            _run_quietly("umount", str(folder)) or _run_quietly("umount", "-l", str(folder))
        return
    files = list(folder.iterdir())
    for path in files:
        path.chmod(0o444)
    folder.chmod(0o555)
    try:
        yield "the file is not writable"
    finally:
        folder.chmod(0o755)
        for path in files:
            path.chmod(0o644)


def test_read_commands_work_on_a_read_only_store(
    sqlite_store: tuple[Path, Callable[..., Run]],
) -> None:
    path, run = sqlite_store
    writable = [run(*args) for args in READ_COMMANDS]
    with read_only(path.parent):
        for args, expected in zip(READ_COMMANDS, writable, strict=True):
            result = run(*args)
            assert result.code == 0, (args, result.err)
            assert result.out == expected.out, args  # the same answer as before
            assert result.err == "", (args, result.err)
        assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_a_read_only_store_with_unanalysed_documents_answers_with_a_note(
    sqlite_store: tuple[Path, Callable[..., Run]], tmp_path: Path
) -> None:
    """``ingest`` does not analyse; a read-only store cannot be analysed: the brief is made
    from the analysis there is, and says so once on stderr."""
    path, run = sqlite_store
    article = tmp_path / "new.txt"
    article.write_text(
        "Sanctions on arms\n\nThe council imposed sanctions on Monday, officials said.\n",
        encoding="utf-8",
    )
    assert run("ingest", str(article)).code == 0
    before = _rows(f"sqlite:///{path}")
    with read_only(path.parent) as why:
        result = run("brief", "--format", "json")
    assert result.code == 0, result.err
    assert result.err.splitlines() == [
        f"briefbot: note: the store is read-only ({why}): answering without the analysis "
        "of 1 document(s) it lacks"
    ]
    assert _rows(f"sqlite:///{path}") == before


WRITE_COMMANDS = [
    (["ingest", "README.md"], "briefbot ingest must write"),
    (["feeds", "add", "http://127.0.0.1:9/feed.xml"], "briefbot feeds add must write"),
    (["feeds", "remove", "1"], "briefbot feeds remove must write"),
    (["feeds", "enable", "1"], "briefbot feeds enable must write"),
    (["poll"], "briefbot poll must write"),
    (
        ["schedule", "set", "--webhook", "https://discord.com/api/webhooks/1/x", "--time", "08:00"],
        "briefbot schedule set must write",
    ),
    (["schedule", "clear", "1"], "briefbot schedule clear must write"),
    (["schedule", "run"], "briefbot schedule run must write"),
    (
        ["digest", "--webhook", "https://discord.com/api/webhooks/1/x"],
        "briefbot digest must write",
    ),
]


def test_write_commands_on_a_read_only_store_say_so_in_one_line(
    sqlite_store: tuple[Path, Callable[..., Run]],
) -> None:
    path, run = sqlite_store
    before = _rows(f"sqlite:///{path}")
    with read_only(path.parent) as why:
        for args, message in WRITE_COMMANDS:
            line = one_error_line(run(*args))
            assert f"the store {path} is read-only ({why}); {message} to it" in line, line
    assert _rows(f"sqlite:///{path}") == before


def test_a_read_only_store_of_an_older_version_says_it_needs_writing_once(
    sqlite_store: tuple[Path, Callable[..., Run]],
) -> None:
    path, run = sqlite_store
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE meta SET value = '6' WHERE key = 'schema_version'"))
    engine.dispose()
    with read_only(path.parent):
        line = one_error_line(run("stats"))
    assert f"the store {path} is read-only" in line
    assert "older than this briefbot" in line and "open it once where it can be written" in line


def test_a_read_only_file_that_is_no_store_says_so(cli: Callable[..., Run], tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "briefbot.sqlite3").write_bytes(b"")
    with read_only(folder):
        run = cli(
            "stats", extra_env={"BRIEFBOT_DATABASE_URL": f"sqlite:///{folder}/briefbot.sqlite3"}
        )
    assert "is read-only" in one_error_line(run) and "holds no briefbot store" in run.err


def test_a_read_only_store_with_a_pending_write_ahead_log_says_so(
    sqlite_store: tuple[Path, Callable[..., Run]],
) -> None:
    """A -wal file left by a crash holds writes the store file lacks; read without its -shm
    (immutable) they would be missed, so the store is refused in one line."""
    path, run = sqlite_store
    wal = path.with_name(path.name + "-wal")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("INSERT INTO meta (key, value) VALUES ('left-by-a-crash', 'x')")
    conn.commit()
    pending = wal.read_bytes()  # as a crash would leave it: not checkpointed
    conn.close()
    assert pending and not wal.exists()
    wal.write_bytes(pending)
    with read_only(path.parent):
        line = one_error_line(run("stats"))
    assert f"the store {path} is read-only" in line and f"write-ahead log {wal}" in line, line


def test_a_read_only_database_url_reads_and_refuses_writes(
    sqlite_store: tuple[Path, Callable[..., Run]], cli: Callable[..., Run]
) -> None:
    """``?mode=ro`` in the URL opens any store read-only, on any machine: reads work, a
    write is refused up front by the CLI, and below it by the store itself."""
    path, _ = sqlite_store
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    before = _rows(f"sqlite:///{path}")
    env = {"BRIEFBOT_DATABASE_URL": url}
    assert cli("search", "sanctions", extra_env=env).code == 0
    line = one_error_line(cli("ingest", "README.md", extra_env=env))
    assert "is read-only (the database URL opens it read-only); briefbot ingest" in line
    _store_refuses_writes(url)
    assert _rows(f"sqlite:///{path}") == before


def test_a_copy_of_a_read_only_store_can_be_made(
    sqlite_store: tuple[Path, Callable[..., Run]], cli: Callable[..., Run], tmp_path: Path
) -> None:
    """``db migrate-to`` reads its source only: a read-only store can be moved elsewhere."""
    path, run = sqlite_store
    target = tmp_path / "copy.sqlite3"
    with read_only(path.parent):
        result = run("db", "migrate-to", f"sqlite:///{target}")
    assert result.code == 0, result.err
    assert _rows(f"sqlite:///{target}")["documents"] == _rows(f"sqlite:///{path}")["documents"]
    shutil.rmtree(path.parent)


# -- a PostgreSQL store that accepts no writes -----------------------------------------------


def test_a_read_only_postgres_store_reads_and_refuses_writes(
    cli: Callable[..., Run], pg_url: str
) -> None:
    """A server that accepts no writes (a hot standby; here the session setting a standby
    has, default_transaction_read_only): reads work, writes are one line, nothing changes."""
    assert cli("brief", extra_env={"BRIEFBOT_DATABASE_URL": pg_url}).code == 0  # analysed
    url = make_url(pg_url)
    options = f"{url.query['options']} -cdefault_transaction_read_only=on"
    read_only_url = url.update_query_dict({"options": options}).render_as_string(
        hide_password=False
    )
    ro = {"BRIEFBOT_DATABASE_URL": read_only_url}
    before = _rows(pg_url)
    for args in READ_COMMANDS:
        writable = cli(*args, extra_env={"BRIEFBOT_DATABASE_URL": pg_url})
        result = cli(*args, extra_env=ro)
        assert result.code == 0, (args, result.err)
        if args[0] == "stats":  # the only answer naming the URL, which differs
            assert {**result.json(), "location": ""} == {**writable.json(), "location": ""}
        else:
            assert result.out == writable.out, args
    for args, message in WRITE_COMMANDS:
        line = one_error_line(cli(*args, extra_env=ro))
        assert f"is read-only (the database server accepts no writes); {message}" in line, line
    _store_refuses_writes(read_only_url)
    assert _rows(pg_url) == before


def test_discord_users_get_no_store_error_but_an_incident(tmp_path: Path) -> None:
    """On Discord a damaged or read-only store is the operator's to fix: the user gets the
    apology with an incident id (``user_message`` None), never the store's path."""
    from bot.errors import user_message

    for error in (
        StoreDamaged(f"the store {tmp_path} is damaged (database disk image is malformed)"),
        StoreReadOnly(f"the store {tmp_path} is read-only; this command must write to it"),
    ):
        assert user_message(error) is None
