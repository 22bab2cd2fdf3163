"""Ingest article files into the store: one transaction per document, errors as data.

A bad file never stops the others and never touches what is stored: each failure becomes a
``FileResult`` with a one-line reason naming the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from briefs.articles import MANIFEST_NAME, read_article
from briefs.cleaning import load_rules
from briefs.errors import InputError
from briefs.models import Origin
from briefs.store.base import IngestOutcome, Store


@dataclass(frozen=True)
class FileResult:
    path: Path
    outcome: IngestOutcome | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def collect_files(paths: Iterable[Path], suffixes: Sequence[str]) -> tuple[list[Path], list[str]]:
    """Expand files and folders into article files; name every path that yields none."""
    files: list[Path] = []
    errors: list[str] = []
    wanted = {s.lower() for s in suffixes}
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in wanted
                and p.name != MANIFEST_NAME
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                errors.append(
                    f"{path}: no articles found in this folder "
                    f"(looked for files ending in {', '.join(sorted(wanted))})"
                )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif path.exists():
            errors.append(f"{path}: not a regular file or folder")
        else:
            errors.append(f"{path}: no such file or folder")
    return files, errors


def source_key(path: Path, origin: Origin) -> str:
    """Seeds are keyed by file name (ids stay the same on every machine); files by path."""
    if origin == "seed":
        return f"seed:{path.name}"
    return f"file:{path.resolve()}"


def ingest_files(
    store: Store,
    files: Sequence[Path],
    origin: Origin,
    now: Callable[[], datetime],
) -> Iterator[FileResult]:
    """Ingest each file, yielding its result as soon as it is stored (for progress bars)."""
    rules = load_rules()
    for path in files:
        try:
            article = read_article(path, rules, now().date())
        except InputError as exc:
            yield FileResult(path, error=str(exc))
            continue
        outcome = store.ingest(article, origin, source_key(path, origin), now())
        yield FileResult(path, outcome=outcome)


def seed_files(seeds_dir: Path) -> list[Path]:
    files, errors = collect_files([seeds_dir], [".txt"])
    if errors:
        raise InputError(f"seed corpus: {errors[0]}")
    return files
