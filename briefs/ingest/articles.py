"""Read one article file into a ``ParsedArticle``: validation, cleaning and metadata.

Metadata comes, in order of trust, from a web page's HTML metadata (briefs/ingest/pages.py),
from the text itself, from a ``manifest.toml`` beside the file (for what neither states), or is
inferred; each value records which.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from briefs.dates import (
    MONTHS,
    WEEKDAYS,
    DateParseError,
    find_dates,
    parse_manifest_date,
    parse_printed,
    zone,
)
from briefs.errors import InputError
from briefs.ingest.cleaning import CleaningRules, CleanPage, clean_page, load_rules
from briefs.models import PageMetadata, ParsedArticle, Provenance
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


def refuse_non_text(data: bytes, name: str) -> None:
    """Refuse what cannot be an article whatever its encoding: empty or binary."""
    if not data.strip():
        raise InputError(f"{name}: empty file, nothing to ingest")
    if b"\x00" in data[:8192]:
        raise InputError(f"{name}: binary file, not a text article")


def decode_article(data: bytes, name: str) -> str:
    """Bytes to text, refusing what is not an article: empty, binary, or not UTF-8."""
    refuse_non_text(data, name)
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
    text: str,
    name: str,
    manifest: ManifestEntry | None = None,
    rules: CleaningRules | None = None,
    today: date | None = None,
) -> ParsedArticle:
    """Clean ``text`` and gather its metadata, recording where each value came from."""
    return build_article(clean_page(text, rules or load_rules()), name, manifest, today)


def build_article(
    page: CleanPage,
    name: str,
    manifest: ManifestEntry | None = None,
    today: date | None = None,
    declared: PageMetadata | None = None,
) -> ParsedArticle:
    """A cleaned page as an article, each metadata value from the most trusted place that has
    it: the HTML metadata of a web page (``declared``), the text, the manifest, inference."""
    manifest = manifest or ManifestEntry({})
    if not page.paragraphs:
        raise InputError(f"{name}: no article text left after removing page debris")
    stated = declared or PageMetadata()
    provenance: dict[str, Provenance] = {}
    tz = manifest.get("timezone")

    def pick(key: str, from_page: str | None, printed: str | None) -> str | None:
        if from_page:
            provenance[key] = "page"
            return from_page
        if printed:
            provenance[key] = "text"
            return printed
        if manifest.get(key):
            provenance[key] = "manifest"
            return str(manifest.get(key))
        provenance[key] = "none"
        return None

    title = pick("title", stated.title, page.title)
    if title is None:
        title = _inferred_title(page.body)
        provenance["title"] = "inferred"
    publisher = pick("publisher", stated.publisher, page.publisher or page.masthead or page.credit)
    byline = pick("byline", stated.byline, page.byline)

    published: datetime | None = None
    precision: Any = "none"
    try:
        if stated.published:
            zone(tz)  # a bad manifest time zone is named, not mistaken for a bad page date
        for value in stated.published:
            try:
                published, precision = parse_manifest_date(value, tz)
            except DateParseError:
                continue  # page metadata is often sloppy: try the next date it declares
            provenance["published"] = "page"
            break
        if published is None and page.published_text:
            published, precision = parse_printed(page.published_text, tz)
            provenance["published"] = "text"
        elif published is None and manifest.get("published") is not None:
            published, precision = parse_manifest_date(manifest.get("published"), tz)
            provenance["published"] = "manifest"
    except DateParseError as exc:
        raise InputError(f"{name}: {exc}") from None
    if published is None:
        provenance["published"] = "none"
        inferred = infer_publication_date(page.body, today)
        if inferred is not None:
            published, precision = parse_manifest_date(inferred)
            provenance["published"] = "inferred"

    url = stated.url or manifest.get("url")
    if declared is not None:  # text files keep the provenance they always had
        provenance["url"] = "page" if stated.url else "manifest" if url else "none"

    return ParsedArticle(
        title=title,
        publisher=publisher,
        byline=byline,
        published_at=published,
        published_precision=precision,
        body=page.body,
        provenance=provenance,
        url=url,
    )


_WEEKDAY_DATE = re.compile(
    r"\b(?P<wd>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday),?\s+"
    r"(?P<month>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)[a-z]*\.?\s+(?P<day>\d{1,2})\b"
)


def infer_publication_date(body: str, today: date | None = None) -> date | None:
    """A publication date from the text when none is printed: "on Wednesday, Aug. 30".

    A weekday printed with its date fixes the year (the latest year, up to ``today``, in which
    that date fell on that weekday); the article reports it as news, so it is dated that day.
    Failing that, the latest date printed with its year is a floor for the publication date.
    """
    today = today or date.today()
    found: list[date] = []
    for m in _WEEKDAY_DATE.finditer(body):
        month = MONTHS[m["month"].lower().rstrip(".")]
        weekday = WEEKDAYS.index(m["wd"].lower())
        for year in range(today.year, today.year - 12, -1):
            try:
                candidate = date(year, month, int(m["day"]))
            except ValueError:
                break
            if candidate <= today and candidate.weekday() == weekday:
                found.append(candidate)
                break
    if found:
        return max(found)
    dated = [d.value for d in find_dates(body, today) if re.search(r"\d{4}", d.text)]
    dated = [d for d in dated if d.year >= 1990 and d <= today]
    return max(dated) if dated else None


def read_bytes(path: Path, max_bytes: int | None = None) -> bytes:
    """The file's bytes; an unreadable file, or one over ``max_bytes``, is an InputError
    naming it. The size is checked before reading, and no more than the limit is ever read
    (a file still growing cannot slip past it): one huge file must not exhaust memory."""
    try:
        with path.open("rb") as fh:
            if max_bytes is None:
                return fh.read()
            size = os.fstat(fh.fileno()).st_size
            if size > max_bytes:
                raise too_large(path, size, max_bytes)
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    if len(data) > max_bytes:
        raise too_large(path, len(data), max_bytes, more=True)
    return data


def too_large(path: Path, size: int, limit: int, more: bool = False) -> InputError:
    """The one-line refusal of a file over [ingest] max_file_bytes."""
    return InputError(
        f"{path}: {'over ' if more else ''}{size:,} bytes, larger than the limit of {limit:,} "
        "bytes for one file ([ingest] max_file_bytes); split it, or raise the limit"
    )


def read_article(
    path: Path,
    rules: CleaningRules | None = None,
    today: date | None = None,
    max_bytes: int | None = None,
) -> ParsedArticle:
    """Read and parse one article file; every failure is an InputError naming the file."""
    text = decode_article(read_bytes(path, max_bytes), str(path))
    return parse_article(text, str(path), manifest_entry(path), rules, today)
