"""``briefbot db migrate-to URL``: move the store to another database (SQLite to PostgreSQL).

The source is the store the settings (or ``--database``) name; the target must be empty.
Rows are copied table by table in batches (``briefs.store.copy``), with a progress bar on a
terminal, then counted on both sides and the counts printed; any difference is exit 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.argtypes import int_at_least
from briefs.errors import BriefbotError

if TYPE_CHECKING:
    from bot.cli import App


class CopyMismatch(BriefbotError):
    """Row counts differ after a copy."""


def register(subparsers: Any) -> None:
    """Add ``db`` (``migrate-to``) to the ``briefbot`` parser's subcommands."""
    p = subparsers.add_parser("db", help="database maintenance: migrate-to another database")
    actions = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    q = actions.add_parser(
        "migrate-to",
        help="copy this store into an empty database (e.g. PostgreSQL), counts checked",
    )
    q.add_argument("url", metavar="URL", help="the target, e.g. postgresql+psycopg://u@host/db")
    q.add_argument(
        "--batch-size",
        type=int_at_least(1),
        default=1000,
        metavar="N",
        help="rows per insert (1000)",
    )


def cmd_db(app: App, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    bars: list[Any] = []

    def progress(table: str, total: int) -> Callable[[int], None]:
        bar = tqdm(
            total=total,
            desc=table,
            unit="row",
            file=app.err,
            disable=not app.err.isatty(),
            leave=False,
        )
        bars.append(bar)
        return bar.update  # type: ignore[no-any-return]

    def starting(source: str, target: str) -> None:
        app.say(f"briefbot: copying {source} to {target}")

    try:
        counts = app.services.documents.copy_to(args.url, args.batch_size, progress, starting)
    finally:
        for bar in bars:
            bar.close()
    width = max(len(c.table) for c in counts)
    lines = [f"{'table':<{width}}  {'source':>9}  {'target':>9}"]
    lines += [
        f"{c.table:<{width}}  {c.source:>9}  {c.target:>9}{'' if c.ok else '  DIFFERENT'}"
        for c in counts
    ]
    app.out.write("\n".join(lines) + "\n")
    wrong = [c.table for c in counts if not c.ok]
    if wrong:
        raise CopyMismatch(f"row counts differ after the copy: {', '.join(wrong)}")
    app.say(f"briefbot: migrate-to: done, {sum(c.target for c in counts[:-1])} rows copied")
    return 0
