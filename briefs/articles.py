"""Read one article file into a ``ParsedArticle``: validation, cleaning and metadata.

Metadata comes, in order of trust, from the text itself, from a ``manifest.toml`` beside the
file (for what the text does not print), or is inferred; each value records which.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from briefs.cleaning import CleaningRules, clean_page, load_rules
from briefs.dates import DateParseError, find_dates, parse_manifest_date, parse_printed
from briefs.errors import InputError
from briefs.models import ParsedArticle, Provenance
from briefs.segment import split_sentences

MANIFEST_NAME = "manifest.toml"


@dataclass(frozen=True)
class ManifestEntry:
    values: dict[str, Any]

    def get(self, key: str) -> Any:
        return self.values.get(key)


@lru_cache(maxsize=64)
def _load_manifest(folder: str, mtime: float) -> dict[str, dict[str, Any]]:
    path = Path(folder) / MANIFEST_NAME
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    return {k: v for k, v in raw.items() if isinstance(v, dict)}


def manifest_entry(path: Path) -> ManifestEntry:
    """The manifest entry for ``path`` from a manifest.toml in its folder, if any."""
    manifest = path.parent / MANIFEST_NAME
    if not manifest.is_file():
        return ManifestEntry({})
    entries = _load_manifest(str(path.parent), manifest.stat().st_mtime)
    return ManifestEntry(dict(entries.get(path.name, {})))


def decode_article(data: bytes, name: str) -> str:
    """Bytes to text, refusing what is not an article: empty, binary, or not UTF-8."""
    if not data.strip():
        raise InputError(f"{name}: empty file, nothing to ingest")
    if b"\x00" in data[:8192]:
        raise InputError(f"{name}: binary file, not a text article")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name}: not UTF-8 text (invalid byte at offset {exc.start}); "
            "convert it first, for example with iconv -t UTF-8"
        ) from None


def _inferred_title(body: str) -> str:
    first = split_sentences(body)[0][0] if body else "Untitled"
    if len(first) <= 90:
        return first
    return first[:90].rsplit(" ", 1)[0] + "…"


def parse_article(
    text: str, name: str, manifest: ManifestEntry | None = None, rules: CleaningRules | None = None
) -> ParsedArticle:
    """Clean ``text`` and gather its metadata, recording where each value came from."""
    manifest = manifest or ManifestEntry({})
    page = clean_page(text, rules or load_rules())
    if not page.paragraphs:
        raise InputError(f"{name}: no article text left after removing page debris")
    provenance: dict[str, Provenance] = {}
    tz = manifest.get("timezone")

    def pick(key: str, printed: str | None) -> str | None:
        if printed:
            provenance[key] = "text"
            return printed
        if manifest.get(key):
            provenance[key] = "manifest"
            return str(manifest.get(key))
        provenance[key] = "none"
        return None

    title = pick("title", page.title)
    if title is None:
        title = _inferred_title(page.body)
        provenance["title"] = "inferred"
    publisher = pick("publisher", page.publisher or page.masthead or page.credit)
    byline = pick("byline", page.byline)

    published: datetime | None = None
    precision: Any = "none"
    try:
        if page.published_text:
            published, precision = parse_printed(page.published_text, tz)
            provenance["published"] = "text"
        elif manifest.get("published") is not None:
            published, precision = parse_manifest_date(manifest.get("published"), tz)
            provenance["published"] = "manifest"
    except DateParseError as exc:
        raise InputError(f"{name}: {exc}") from None
    if published is None:
        provenance["published"] = "none"
        explicit = _latest_explicit_date(page.body)
        if explicit is not None:
            published, precision = parse_manifest_date(explicit)
            provenance["published"] = "inferred"

    return ParsedArticle(
        title=title,
        publisher=publisher,
        byline=byline,
        published_at=published,
        published_precision=precision,
        body=page.body,
        provenance=provenance,
        url=manifest.get("url"),
    )


def _latest_explicit_date(body: str) -> date | None:
    """The latest fully printed date (with a year) in the body: a floor for its publication."""
    dates = [d.value for d in find_dates(body, date.max.replace(year=9000)) if "," in d.text]
    return max(dates) if dates else None


def read_article(path: Path, rules: CleaningRules | None = None) -> ParsedArticle:
    """Read and parse one article file; every failure is an InputError naming the file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    return parse_article(decode_article(data, str(path)), str(path), manifest_entry(path), rules)
