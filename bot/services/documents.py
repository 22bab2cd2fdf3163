"""The store's documents as use cases: ingest files, say whether the store can be written,
copy the whole store to another database.

One implementation behind ``briefbot ingest`` and ``briefbot db migrate-to`` (and the check
every writing command makes first).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.services.shared import Services
    from briefs.ingest.files import FileResult
    from briefs.store.copy import TableCount


class DocumentService:
    """What the store holds, and how it moves."""

    def __init__(self, services: Services) -> None:
        self._shared = services

    def ingest(self, files: Sequence[Path]) -> Iterator[FileResult]:
        """Store each file (articles, saved pages, RSS/Atom files), yielding each result as
        soon as it is stored (for progress), credited to its outlet."""
        from briefs.ingest.files import ingest_files

        shared = self._shared
        yield from ingest_files(
            shared.store, files, "file", shared.clock, shared.ingest_limits, shared.outlets
        )

    @property
    def location(self) -> str:
        """Where the store is, safe to show (no password)."""
        return self._shared.store.location

    @property
    def read_only(self) -> str | None:
        """Why the store cannot be written (None when it can)."""
        return self._shared.store.read_only

    def copy_to(
        self,
        url: str,
        batch_size: int,
        progress: Callable[[str, int], Callable[[int], None]],
        starting: Callable[[str, str], None],
    ) -> list[TableCount]:
        """Copy every row into the empty database at ``url``: ``starting(from, to)`` once
        both are open, then the row counts of each table in both."""
        from briefs.store import open_store
        from briefs.store.copy import copy_store

        source = self._shared.store
        target = open_store(url, "migrate-to URL", self._shared.settings.pool)
        try:
            starting(source.location, target.location)
            return copy_store(source, target, batch_size, progress)
        finally:
            target.close()
