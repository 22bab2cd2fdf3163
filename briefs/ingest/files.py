"""Ingest article files into the store: one transaction per document (per feed file for
RSS/Atom files), errors as data.

A bad file never stops the others and never touches what is stored: each failure becomes a
``FileResult`` with a one-line reason naming the file. Files are read one at a time, each
only after the one before is stored, and none over ``IngestLimits.max_file_bytes`` is read
at all: memory holds one file, however many are ingested.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from briefs.errors import InputError
from briefs.ingest.articles import MANIFEST_NAME, read_article, read_bytes
from briefs.ingest.cleaning import load_rules
from briefs.ingest.outlets import INFERRED, OutletTable, shipped_outlets
from briefs.ingest.pages import is_page_file, read_page
from briefs.models import Origin, ParsedArticle
from briefs.store.base import IngestOutcome, Store


@dataclass(frozen=True)
class IngestLimits:
    """What one input file may cost ([ingest] max_file_bytes, [feeds] max_items_per_fetch):
    the defaults are the shipped settings."""

    max_file_bytes: int = 5_000_000
    max_feed_items: int = 500


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
    wanted = {s.lower() for s in suffixes} | set(FEED_SUFFIXES)
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


# RSS/Atom files are read as feeds: each entry becomes a document (see is_feed_file).
FEED_SUFFIXES = (".rss", ".atom", ".xml")


def is_feed_file(path: Path) -> bool:
    """An RSS or Atom file, by its ending or, for any other name, by how it begins."""
    if path.suffix.lower() in FEED_SUFFIXES:
        return True
    try:
        with path.open("rb") as fh:
            head = fh.read(512)
    except OSError:
        return False  # read_article names the problem
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<?xml", b"<rss", b"<feed", b"<rdf:rdf"))


def credited(article: ParsedArticle, outlets: OutletTable) -> ParsedArticle:
    """An article file or saved page credited to its outlet: an agency's credit line, else
    its stated publisher by the table's name for it, else its link's domain."""
    publisher, evidence = outlets.outlet_of(
        url=article.url, text=article.body, stated=article.publisher
    )
    if publisher is None or publisher == article.publisher:
        return article
    provenance = dict(article.provenance)
    if evidence in INFERRED:
        provenance["publisher"] = "inferred"
    return replace(article, publisher=publisher, provenance=provenance)


def ingest_feed_file(
    store: Store,
    path: Path,
    origin: Origin,
    now: Callable[[], datetime],
    limits: IngestLimits | None = None,
    outlets: OutletTable | None = None,
) -> Iterator[FileResult]:
    """Store each entry of an RSS/Atom file, as the poller stores a fetched feed's entries
    (keyed by canonical article URL, so a feed bringing the same article later adds nothing).
    The file counts as one fetch: its newest ``max_feed_items`` entries are taken.
    """
    from briefs.feeds.entries import entry_article
    from briefs.feeds.entries import source_key as entry_key
    from briefs.feeds.parse import parse_feed

    limits = limits or IngestLimits()
    outlets = outlets or shipped_outlets()
    try:
        body = read_bytes(path, limits.max_file_bytes)
    except InputError as exc:
        yield FileResult(path, error=str(exc))
        return
    try:
        parsed = parse_feed(
            body,
            {"content-type": "application/xml"},
            max_items=limits.max_feed_items,
            source=str(path),
        )
    except InputError as exc:
        yield FileResult(path, error=f"{path}: {exc}")
        return
    del body  # the entries hold what is kept; the raw document need not stay in memory
    if not parsed.entries and not parsed.skipped:
        yield FileResult(path, error=f"{path}: a feed with no entries, nothing to ingest")
    fallback = source_key(path, origin)
    batch = [
        (entry_article(entry, parsed.title, outlets=outlets), entry_key(entry, fallback))
        for entry in parsed.entries
    ]
    # One transaction for the file's entries, as a poll stores a fetch: a commit per entry
    # cost more than parsing the feed.
    for outcome in store.documents.ingest_many(batch, origin, now()):
        yield FileResult(path, outcome=outcome)
    for skipped in parsed.skipped:
        yield FileResult(path, error=f"{path}: {skipped}")


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
    limits: IngestLimits | None = None,
    outlets: OutletTable | None = None,
) -> Iterator[FileResult]:
    """Ingest each file, yielding its result as soon as it is stored (for progress bars).

    One file at a time: nothing of a file is kept once its result is yielded.
    """
    limits = limits or IngestLimits()
    outlets = outlets or shipped_outlets()
    rules = load_rules()
    for path in files:
        page = is_page_file(path)  # by its ending: an XHTML page may begin like a feed
        if not page and is_feed_file(path):
            yield from ingest_feed_file(store, path, origin, now, limits, outlets)
            continue
        try:
            read = read_page if page else read_article
            article = credited(read(path, rules, now().date(), limits.max_file_bytes), outlets)
        except InputError as exc:
            yield FileResult(path, error=str(exc))
            continue
        outcome = store.documents.ingest(article, origin, source_key(path, origin), now())
        del article  # not kept while the next file is read
        yield FileResult(path, outcome=outcome)


def seed_files(seeds_dir: Path) -> list[Path]:
    files, errors = collect_files([seeds_dir], [".txt"])
    if errors:
        raise InputError(f"seed corpus: {errors[0]}")
    return files
