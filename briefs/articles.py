"""Read one article file into a ``ParsedArticle``: validation, cleaning and metadata.

Metadata comes, in order of trust, from the text itself, from a ``manifest.toml`` beside the
file (for what the text does not print), or is inferred; each value records which.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from briefs.cleaning import CleaningRules, clean_page, load_rules
from briefs.dates import (
    MONTHS,
    WEEKDAYS,
    DateParseError,
    find_dates,
    parse_manifest_date,
    parse_printed,
)
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
    text: str,
    name: str,
    manifest: ManifestEntry | None = None,
    rules: CleaningRules | None = None,
    today: date | None = None,
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
        inferred = infer_publication_date(page.body, today)
        if inferred is not None:
            published, precision = parse_manifest_date(inferred)
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


def read_article(
    path: Path, rules: CleaningRules | None = None, today: date | None = None
) -> ParsedArticle:
    """Read and parse one article file; every failure is an InputError naming the file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    text = decode_article(data, str(path))
    return parse_article(text, str(path), manifest_entry(path), rules, today)
