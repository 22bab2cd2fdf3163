"""Opening a store: the database URL read (SQLite file or PostgreSQL server), the file's
state checked (read-only, damaged, not a store), the engine made with its pragmas or pool,
and the database errors that are about the store turned into one clear line."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError

from briefs.errors import BriefbotError, SettingsError, StoreDamaged, StoreReadOnly
from briefs.store import dialect
from briefs.store.sql import SqlStore

log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_read_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """A read-only connection: no journal mode change, which would be a write."""
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# SQLite's primary result codes (the low byte of an extended code) that mean a damaged file,
# and a write refused because the database is read-only.
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26
_SQLITE_READONLY = 8


def _sqlite_code(exc: BaseException | None) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _sqlite_damage(exc: BaseException | None) -> str | None:
    """What is wrong, when a DB-API error says the SQLite file is damaged; else None."""
    if _sqlite_code(exc) in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return str(exc)
    if isinstance(exc, sqlite3.OperationalError) and str(exc).startswith("Could not decode"):
        return "a stored text is not valid UTF-8"  # the message quotes the garbled text
    return None


class _StoreErrors:
    """Turn the database errors that are about the store, not the code, into one clear line:
    a damaged file (or PostgreSQL's data_corrupted), and a write to a store that cannot be
    written (SQLITE_READONLY; PostgreSQL's read_only_sql_transaction, 25006). Until the store
    is open (``opened``), a file SQLite does not recognise is left to ``open_store``: it is
    no store."""

    def __init__(self, location: str, read_only: str | None) -> None:
        self.location = location
        self.read_only = read_only
        self.opened = False

    def __call__(self, context: ExceptionContext) -> None:
        location, read_only = self.location, self.read_only
        error = context.original_exception
        damage = _sqlite_damage(error)
        if damage is not None and (self.opened or _sqlite_code(error) != _SQLITE_NOTADB):
            log.debug("store %s is damaged", location, exc_info=error)
            raise StoreDamaged(
                f"the store {location} is damaged ({damage}); restore it from a backup "
                "(see docs/operations.md)"
            )
        if getattr(error, "sqlstate", None) in ("XX001", "XX002"):
            log.debug("store %s is damaged", location, exc_info=error)
            raise StoreDamaged(
                f"the store {location} is damaged ({_first_line(error)}); restore it from a "
                "backup (see docs/scaling.md)"
            )
        if _sqlite_code(error) == _SQLITE_READONLY or getattr(error, "sqlstate", "") == "25006":
            why = f" ({read_only})" if read_only else ""
            raise StoreReadOnly(
                f"the store {location} is read-only{why}; this command must write to it"
            )


def _first_line(error: BaseException) -> str:
    return next((line.strip() for line in str(error).splitlines() if line.strip()), "")


def _read_only_reason(path: Path) -> str | None:
    """Why an existing store file cannot be written here, or None. ``os.access`` asks the
    kernel, so it knows a read-only mount (EROFS) even for root, whom modes do not stop."""
    if not path.is_file():
        return None
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return "it is on a read-only file system"
    except OSError:
        pass
    if not os.access(path, os.W_OK):
        return "the file is not writable"
    if not os.access(path.parent, os.W_OK):
        # WAL mode keeps -wal and -shm files beside the store: their folder must be writable.
        return f"its folder {path.parent} is not writable"
    return None


def _read_only_url(path: Path, setting: str, why: str) -> URL:
    """A URI filename SQLite opens without writing (``mode=ro``).

    Reading a WAL store takes its -wal and -shm files: when they are missing and cannot be
    made beside it, the store is opened ``immutable`` (no -shm, no locks), which is right for
    a read-only mount, and refused when a -wal file holds writes not yet in the store.
    """
    query = {"mode": "ro", "uri": "true"}
    wal = path.with_name(path.name + "-wal")
    shm = path.with_name(path.name + "-shm")
    if not (wal.exists() and shm.exists()) and not os.access(path.parent, os.W_OK):
        if wal.exists() and wal.stat().st_size:
            raise SettingsError(
                f"{setting}: the store {path} is read-only ({why}) and its write-ahead log "
                f"{wal} holds writes not yet in it; open it once where it can be written"
            )
        query["immutable"] = "1"
    return URL.create("sqlite", database="file:" + quote(str(path)), query=query)


def default_database_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'briefbot.sqlite3'}"


_URL_FORMS = "sqlite:///path/briefbot.sqlite3 or postgresql+psycopg://user@host/database"


def open_store(
    url: str, setting: str = "database URL", pool: dialect.PoolOptions | None = None
) -> SqlStore:
    """Open (and migrate) the store at ``url``; ``setting`` names where the URL came from.
    ``pool`` sizes the connection pool of a PostgreSQL store."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise SettingsError(
            f"{setting}: malformed database URL {url!r} (expected e.g. {_URL_FORMS})"
        ) from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return _open_postgres(parsed, setting, pool or dialect.PoolOptions())
    if backend != "sqlite":
        raise SettingsError(
            f"{setting}: unsupported database {backend!r} in {url!r}; "
            f"briefbot stores data in SQLite or PostgreSQL ({_URL_FORMS})"
        )
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SettingsError(
                f"{setting}: cannot create the folder {path.parent} ({exc.strerror})"
            ) from None
        location = str(path)
        read_only = _read_only_reason(path)
    else:
        location = database or ":memory:"
        ro = parsed.query.get("mode") == "ro" or parsed.query.get("immutable") == "1"
        read_only = "the database URL opens it read-only" if ro else None
    if read_only is None or database.startswith("file:"):
        return _open_sqlite(parsed, setting, location, read_only)
    return _open_sqlite(_read_only_url(path, setting, read_only), setting, location, read_only)


def _open_sqlite(url: URL, setting: str, location: str, read_only: str | None) -> SqlStore:
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_read_pragmas if read_only else _sqlite_pragmas)
    errors = _StoreErrors(location, read_only)
    event.listen(engine, "handle_error", errors)
    try:
        store = SqlStore(engine, location, read_only)
        errors.opened = True
        return store
    except DatabaseError as exc:
        engine.dispose()
        raise SettingsError(
            f"{setting}: cannot open the database {location} ({exc.orig}); "
            "is it a briefbot SQLite store?"
        ) from None
    except SettingsError as exc:
        engine.dispose()
        raise SettingsError(f"{setting}: {location}: {exc}") from None
    except BriefbotError:
        engine.dispose()
        raise


def _open_postgres(parsed: URL, setting: str, pool: dialect.PoolOptions) -> SqlStore:
    """A pooled engine on PostgreSQL through psycopg 3 (``postgresql://`` and
    ``postgres://`` mean it too), checked and migrated before use."""
    if parsed.get_driver_name() not in ("psycopg", "postgresql", "postgres", ""):
        raise SettingsError(
            f"{setting}: PostgreSQL driver {parsed.get_driver_name()!r} is not supported; "
            "use postgresql+psycopg://user@host/database"
        )
    parsed = parsed.set(drivername="postgresql+psycopg")
    location = parsed.render_as_string(hide_password=True)
    try:
        import psycopg  # noqa: F401  (only to say what to install when it is missing)
    except ImportError:
        raise SettingsError(
            f"{setting}: {location} needs the PostgreSQL driver: pip install 'briefbot[postgres]'"
        ) from None
    query = dict(parsed.query)
    query.setdefault("connect_timeout", "10")
    query.setdefault("application_name", "briefbot")
    engine = create_engine(
        parsed.set(query=query),
        pool_size=pool.pool_size,
        max_overflow=pool.max_overflow,
        pool_timeout=pool.pool_timeout,
        pool_recycle=pool.pool_recycle,
        # A connection the server or a proxy dropped while idle is replaced, not an error.
        pool_pre_ping=True,
    )
    errors = _StoreErrors(location, None)
    event.listen(engine, "handle_error", errors)
    try:
        store = SqlStore(engine, location)
        errors.read_only = store.read_only
        errors.opened = True
        return store
    except DatabaseError as exc:
        engine.dispose()
        reason = "; ".join(line.strip() for line in str(exc.orig).splitlines() if line.strip())
        raise SettingsError(f"{setting}: cannot open the database {location} ({reason})") from None
    except SettingsError as exc:
        engine.dispose()
        raise SettingsError(f"{setting}: {location}: {exc}") from None
