"""Copy a whole store into an empty one (``briefbot db migrate-to``), e.g. SQLite to PostgreSQL.

Both stores are opened with ``open_store``, so both have the current schema. Every table is
copied row for row, raw values (no type conversion, so times and ids stay byte for byte), in
the order the foreign keys need, in batches, inside one transaction of the target: a failed
copy leaves the target as empty as it was. The source is read in one transaction too, so
the copy is a consistent snapshot. Then the full-text index is rebuilt, identity counters
are moved past the copied ids, and every table's rows are counted on both sides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import column, func, inspect, select, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import ColumnClause

from briefs.errors import InputError
from briefs.store import dialect
from briefs.store.sql import SqlStore

# Derived or internal tables, never copied: the FTS5 index and its shadow tables (rebuilt
# from sentences), SQLite's AUTOINCREMENT counters.
_DERIVED_PREFIXES = ("sentences_fts", "sqlite_")
# Columns a backend computes itself (PostgreSQL's tsvector of each live sentence).
_GENERATED = {("sentences", "tsv")}
FTS_CHECK = "full-text index"

# progress(table, total rows) -> advance(n rows copied)
Progress = Callable[[str, int], Callable[[int], None]]


@dataclass(frozen=True)
class TableCount:
    """Rows of one table in the source and in the target after the copy."""

    table: str
    source: int
    target: int

    @property
    def ok(self) -> bool:
        return self.source == self.target


def _tables(conn: Connection) -> list[str]:
    """The store's tables in foreign-key order (parents first), derived ones left out."""
    ordered = [
        name for name, _ in inspect(conn).get_sorted_table_and_fkc_names() if name is not None
    ]
    return [name for name in ordered if not name.startswith(_DERIVED_PREFIXES)]


def _columns(conn: Connection, name: str) -> list[str]:
    return [
        c["name"] for c in inspect(conn).get_columns(name) if (name, c["name"]) not in _GENERATED
    ]


def _count(conn: Connection, name: str) -> int:
    return int(conn.execute(select(func.count()).select_from(table(name))).scalar_one())


def _fts_count(conn: Connection) -> int:
    """Sentences the full-text index holds (what search can find)."""
    if dialect.is_postgres(conn):
        sql = "SELECT count(*) FROM sentences WHERE tsv IS NOT NULL"
    else:
        sql = "SELECT count(*) FROM sentences_fts"
    return int(conn.execute(text(sql)).scalar_one())


def _live_count(conn: Connection) -> int:
    sql = "SELECT count(*) FROM sentences WHERE position IS NOT NULL"
    return int(conn.execute(text(sql)).scalar_one())


def check_empty(conn: Connection, where: str) -> None:
    """Refuse a target that holds anything: the copy adds rows, it never merges."""
    held = [(name, _count(conn, name)) for name in _tables(conn) if name != "meta"]
    held = [(name, n) for name, n in held if n]
    extra_meta = conn.execute(
        text("SELECT count(*) FROM meta WHERE key != 'schema_version'")
    ).scalar_one()
    if extra_meta:
        held.append(("meta", int(extra_meta)))
    if held:
        summary = ", ".join(f"{n} rows in {name}" for name, n in held)
        raise InputError(
            f"{where} is not empty ({summary}); migrate-to only fills an empty database: "
            "create a new one, or drop what is there first"
        )


def copy_store(
    source: SqlStore, target: SqlStore, batch_size: int = 1000, progress: Progress | None = None
) -> list[TableCount]:
    """Copy every row of ``source`` into the empty ``target``; return the counts per table,
    the full-text index last (live sentences in the source, indexed ones in the target)."""
    if source.location == target.location:
        raise InputError(f"{target.location} is the store being copied; give another database")
    with source.engine.connect() as src:
        if dialect.is_postgres(src):
            src = src.execution_options(isolation_level="REPEATABLE READ")
        with src.begin(), target.engine.begin() as dst:
            check_empty(dst, target.location)
            source_tables = _tables(src)
            target_tables = set(_tables(dst))
            unknown = [name for name in source_tables if name not in target_tables]
            if unknown:
                raise InputError(
                    f"the source has tables the target's schema lacks ({', '.join(unknown)}); "
                    "is it a store of a newer briefbot?"
                )
            counts: dict[str, int] = {}
            # Parents first, as the target orders its own tables.
            for name in [n for n in _tables(dst) if n in source_tables]:
                counts[name] = _copy_table(src, dst, name, batch_size, progress)
            _rebuild_index(dst)
            live = _live_count(src)
        with target.engine.connect() as dst:
            result = [TableCount(name, n, _count(dst, name)) for name, n in counts.items()]
            result.append(TableCount(FTS_CHECK, live, _fts_count(dst)))
    return result


def _copy_table(
    src: Connection, dst: Connection, name: str, batch_size: int, progress: Progress | None
) -> int:
    names = _columns(src, name)
    missing = set(names) - set(_columns(dst, name))
    if missing:
        raise InputError(
            f"table {name}: the target lacks columns {', '.join(sorted(missing))}; "
            "is the source a store of a newer briefbot?"
        )
    cols: list[ColumnClause[Any]] = [column(c) for c in names]
    source_table, target_table = table(name, *cols), table(name, *[column(c) for c in names])
    total = _count(src, name)
    advance = progress(name, total) if progress else None
    if name == "meta":
        # The target's migrations wrote its own (equal) schema version already.
        dst.execute(text("DELETE FROM meta WHERE key = 'schema_version'"))
    keys = inspect(src).get_pk_constraint(name).get("constrained_columns") or names[:1]
    query = select(*cols).select_from(source_table).order_by(*[column(k) for k in keys])
    copied = 0
    result = src.execution_options(stream_results=True, max_row_buffer=batch_size).execute(query)
    for rows in result.partitions(batch_size):
        dst.execute(target_table.insert(), [dict(zip(names, row, strict=True)) for row in rows])
        copied += len(rows)
        if advance:
            advance(len(rows))
    if "id" in names and len(keys) == 1 and keys[0] == "id":
        dialect.reset_identity(dst, name)
    return copied


def _rebuild_index(dst: Connection) -> None:
    """SQLite's FTS5 table is filled from the live sentences; PostgreSQL computed each
    sentence's vector as it was inserted, so its index only needs fresh statistics."""
    if dialect.is_postgres(dst):
        dst.execute(text("ANALYZE"))
        return
    dst.execute(text("DELETE FROM sentences_fts"))
    dst.execute(
        text(
            "INSERT INTO sentences_fts (rowid, text) "
            "SELECT id, text FROM sentences WHERE position IS NOT NULL"
        )
    )
