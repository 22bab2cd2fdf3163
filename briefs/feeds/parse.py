"""Parse feed documents with feedparser, from downloaded bytes and their headers.

Never from a URL: the fetcher has already applied the safety and politeness rules, and
feedparser's own fetching would bypass them. Survivable problems (a declared encoding that
is wrong, a non-XML content type, ill-formed XML the lenient parser recovers) become
warnings and parsing goes on; a document that is not a feed is a ``NotAFeedError`` naming
what it is. One bad entry never loses the others. HTML becomes clean text: feedparser's
sanitiser drops scripts, styles and unsafe markup, then ``html_to_text`` keeps the words.
"""

from __future__ import annotations

import calendar
import codecs
import hashlib
import html
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any, Literal
from urllib.parse import urljoin

import feedparser
from feedparser.encodings import convert_to_utf8

from briefs.errors import InputError
from briefs.feeds.urls import check_feed_url
from briefs.ingest.cleaning import normalize_text

log = logging.getLogger(__name__)

MAX_TITLE = 300
MAX_TEXT = 200_000
MAX_ID = 512
# Survivable bozo exceptions: the document parsed, something about it was not as declared.
SURVIVABLE = ("CharacterEncodingOverride", "NonXMLContentType", "CharacterEncodingUnknown")
_BLOCKS = frozenset(
    "p div br li ul ol dl dt dd h1 h2 h3 h4 h5 h6 blockquote pre table tr section article "
    "header footer figure figcaption hr".split()
)
_DROP = frozenset({"script", "style", "noscript", "template", "iframe", "object", "svg", "head"})
_HAS_TIME = re.compile(r"\d{1,2}:\d\d")
_MARKUP = re.compile(r"<[a-zA-Z/!?]|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_TITLE_TAG = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
# Byte-order marks, UTF-32 before the UTF-16 mark it starts with.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32le"),
    (codecs.BOM_UTF32_BE, "utf-32be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16le"),
    (codecs.BOM_UTF16_BE, "utf-16be"),
)
_CHARREF = re.compile(rb"&#(?:([0-9]+)|[xX]([0-9a-fA-F]+));")

Precision = Literal["minute", "day", "none"]


class NotAFeedError(InputError):
    """The document is not an RSS or Atom feed; the message says what it is."""


@dataclass(frozen=True)
class FeedEntry:
    entry_id: str
    title: str
    link: str | None
    author: str | None
    published_at: datetime | None  # aware UTC; None when the feed gives no usable date
    published_precision: Precision  # "day" for a date without a time of day
    text: str  # clean text of the longest of content and summary
    # Who published the item, where the feed says so: an aggregator's <source> (title and
    # URL), or dc:publisher. The outlet is read from these first (briefs.ingest.outlets).
    source_title: str | None = None
    source_url: str | None = None
    publisher: str | None = None


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    link: str | None
    version: str  # feedparser's name for the format: "rss20", "atom10", ...
    entries: list[FeedEntry]
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one line per entry that was lost
    over_limit: int = 0  # entries left out by ``max_items`` (older ones), not in ``skipped``


class _TextExtractor(HTMLParser):
    """Collects text, dropping script-like elements, with blocks as paragraph breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP:
            self._dropping += 1
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP:
            self._dropping = max(0, self._dropping - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._dropping:
            self.parts.append(data)


def html_to_text(markup: str, is_html: bool = True) -> str:
    """Clean text of an HTML fragment (or of plain text): paragraphs kept, spaces collapsed,
    control characters gone."""
    markup = markup[: MAX_TEXT * 4]
    if is_html and _MARKUP.search(markup):
        extractor = _TextExtractor()
        try:
            extractor.feed(markup)
            extractor.close()
            text = "".join(extractor.parts)
        except Exception:  # HTMLParser on hostile input: fall back to dropping tags
            text = html.unescape(re.sub(r"<[^>]*>", " ", markup))
    else:
        text = markup
    # Cut again after NFC, which can make a character three (U+1D160 and the like).
    text = normalize_text(text[:MAX_TEXT])[:MAX_TEXT]
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut + "…"


def _when(entry: Any) -> tuple[datetime | None, Precision, str | None]:
    """An aware UTC date for the entry, its precision, and a warning for a date that could
    not be read. A date without a time of day keeps day precision; none stays none."""
    for key in ("published", "updated", "created"):
        # Plain dict look-ups: FeedParserDict maps a missing "updated" to "published".
        raw = dict.get(entry, key)
        parsed = dict.get(entry, f"{key}_parsed")
        if not parsed:
            if raw:
                return None, "none", f"unreadable date {str(raw)[:60]!r}"
            continue
        try:
            stamp = datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
        except (OverflowError, ValueError, TypeError, OSError):
            return None, "none", f"date out of range {str(raw)[:60]!r}"
        if isinstance(raw, str) and not _HAS_TIME.search(raw):
            return stamp.replace(hour=0, minute=0, second=0, microsecond=0), "day", None
        return stamp, "minute", None
    return None, "none", None


def _clean_id(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = normalize_text(value).strip()
    if not text:
        return None
    if len(text) > MAX_ID:
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return text


def _link(entry: Any, base: str) -> str | None:
    link = entry.get("link")
    if not isinstance(link, str) or not link.strip():
        return None
    # A link wrapped over lines ("http://x/a\n  b"): URL parsers drop newlines (WHATWG), and
    # canonical_url did already, but the link itself kept them, to be fetched and cited.
    link = "".join(normalize_text(link).split("\n"))
    try:
        return check_feed_url(urljoin(base, link.strip()))
    except InputError:
        return None  # javascript:, mailto:, relative junk: not an article address


def entry_hash_id(title: str, published: datetime | None) -> str:
    """The id of an entry with neither guid nor link: a hash of its title and date."""
    stamp = published.isoformat() if published else ""
    return "hash:" + hashlib.sha256(f"{title}\x1f{stamp}".encode()).hexdigest()[:32]


def _entry(entry: Any, warnings: list[str], base: str = "") -> FeedEntry:
    published, precision, problem = _when(entry)
    if problem:
        warnings.append(problem)
    bodies = [c.get("value", "") for c in entry.get("content") or [] if isinstance(c, dict)]
    summary = entry.get("summary") or ""
    raw = max([*bodies, summary], key=lambda v: len(v) if isinstance(v, str) else 0)
    text = html_to_text(raw if isinstance(raw, str) else "")
    raw_title = entry.get("title")
    # Titles never need markup: whatever looks like a tag goes, even in "plain text".
    title = html_to_text(raw_title) if isinstance(raw_title, str) else ""
    title = " ".join(title.split())
    if not title:
        title = text.split("\n", 1)[0] if text else ""
    title = _shorten(title, MAX_TITLE) or "Untitled"
    link = _link(entry, base)
    author = entry.get("author")
    author_text = _shorten(html_to_text(author, False), 200) if isinstance(author, str) else ""
    # A link stands in for a missing id under the same bound as an id (up to 2,048 characters
    # of URL would not fit PostgreSQL's index on feed_entries).
    entry_id = _clean_id(entry.get("id")) or _clean_id(link) or entry_hash_id(title, published)
    source = entry.get("source")
    source_title = source_url = None
    if isinstance(source, dict):
        title_of = source.get("title")
        source_title = (
            _shorten(html_to_text(title_of, False), 200) if isinstance(title_of, str) else None
        )
        href = source.get("href") or source.get("link")
        source_url = href[:2048] if isinstance(href, str) and href.strip() else None
    publisher = entry.get("publisher")
    return FeedEntry(
        entry_id=entry_id,
        title=title,
        link=link,
        author=author_text or None,
        published_at=published,
        published_precision=precision,
        text=text,
        source_title=source_title or None,
        source_url=source_url,
        publisher=_shorten(html_to_text(publisher, False), 200) or None
        if isinstance(publisher, str)
        else None,
    )


def describe(body: bytes, content_type: str) -> str:
    """What a document that is not a feed is, in a few words, for the refusal."""
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    lowered = head.lower()
    ctype = content_type.split(";", 1)[0].strip().lower()
    if not head:
        return "an empty document"
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered or "html" in ctype:
        match = _TITLE_TAG.search(body[:65536])
        title = html_to_text(match.group(1).decode("utf-8", "replace"))[:80] if match else ""
        named = f" titled {title!r}" if title else ""
        return f"an HTML page{named} (look on the site for its RSS or Atom link)"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF")):
        return "an image"
    if head.startswith((b"{", b"[")) or "json" in ctype:
        return "a JSON document (JSON Feed is not supported)"
    if head.startswith(b"<"):
        root = None
        for match in _ROOT.finditer(head):
            name = match.group(1).decode("ascii", "replace")
            if not name.lower().startswith(("?xml", "!")):
                root = name
                break
        if root:
            return f"an XML document whose root element is <{root}>, not RSS or Atom"
        return "an XML document that is not RSS or Atom"
    if b"\x00" in head:
        return "a binary file"
    return f"not a feed ({ctype or 'no content type'})"


def newest_indexes(dates: list[datetime | None], limit: int) -> list[int]:
    """Which of the entries with these dates to keep, at most ``limit``: the newest dated ones
    (ties in feed order), then undated ones in feed order (feeds list newest first), as
    ``entries.newest_first`` orders a backfill. Returned in feed order."""
    if len(dates) <= limit:
        return list(range(len(dates)))
    dated = [(i, d) for i, d in enumerate(dates) if d is not None]
    dated.sort(key=lambda pair: pair[1], reverse=True)  # stable: ties keep feed order
    undated = [i for i, d in enumerate(dates) if d is None]
    return sorted(([i for i, _ in dated] + undated)[:limit])


def _raw_date(entry: Any) -> datetime | None:
    """An entry's date for choosing the newest; an entry it cannot read counts as undated."""
    try:
        return _when(entry)[0]
    except Exception:
        return None


def _decoding_headers(body: bytes, headers: dict[str, str]) -> dict[str, str]:
    """The headers to give feedparser, with the charset RFC 7303 and browsers would use.

    feedparser follows the older RFC 3023: text/xml without a charset is US-ASCII, whatever
    the document declares, so a UTF-16 feed read as ASCII came out as NULs and was refused
    as "a binary file"; and a charset parameter beat a byte-order mark. Here a byte-order mark
    wins, and text/xml without a charset means what the document declares (else UTF-8).
    """
    ctype = headers.get("content-type", "")
    media, _, params = ctype.partition(";")
    media = media.strip().lower()
    for bom, name in _BOMS:
        if body.startswith(bom):
            return {**headers, "content-type": f"{media or 'application/xml'}; charset={name}"}
    is_xml = media == "text/xml" or (media.startswith("text/") and media.endswith("+xml"))
    if is_xml and "charset" not in params.lower():
        return {**headers, "content-type": "application/" + media.removeprefix("text/")}
    return headers


def _fix_charref(match: re.Match[bytes]) -> bytes:
    decimal, hexadecimal = match.groups()
    digits = decimal or hexadecimal
    # Longer than any code point's digits, a surrogate, or past U+10FFFF: no character.
    if len(digits.lstrip(b"0")) > 7:
        return b"&#xFFFD;"
    point = int(digits, 10 if decimal else 16)
    return b"&#xFFFD;" if 0xD800 <= point <= 0xDFFF or point > 0x10FFFF else match.group(0)


def _without_bad_charrefs(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """The document in UTF-8, as feedparser would decode it, with references to no character
    as U+FFFD, and headers that say UTF-8 so it is not decoded twice."""
    data: bytes = convert_to_utf8(headers, body, {})  # its XML declaration now says utf-8
    if data is body:  # no encoding worked: the lenient parser reads it as UTF-8 anyway
        data = body.decode("utf-8", "replace").encode("utf-8")
    headers = dict(headers)
    media = headers.pop("content-type", "").split(";", 1)[0].strip()
    if media:
        headers["content-type"] = f"{media}; charset=utf-8"
    return _CHARREF.sub(_fix_charref, data), headers


def parse_feed(
    body: bytes,
    headers: dict[str, str] | None = None,
    url: str = "",
    *,
    max_items: int | None = None,
    source: str = "",
) -> ParsedFeed:
    """Parse feed bytes, with the response headers (lower-case names) for the encoding.

    At most ``max_items`` entries are kept ([feeds] max_items_per_fetch): the newest, chosen
    before any entry's text is processed, so a feed of 100,000 items costs the work of
    ``max_items``; a warning (logged naming ``source``, else ``url``) says how many were left
    out.
    Raises NotAFeedError, naming what the document is, when it is no RSS or Atom feed.
    """
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    if not body.strip():
        raise NotAFeedError(f"{url or 'the document'} is an empty document, not a feed")
    warnings: list[str] = []
    # No base URI for feedparser: it would resolve guids against it, and an entry id must
    # not change when the feed moves. Entry links are resolved against ``url`` below.
    decoding = _decoding_headers(body, headers)
    try:
        parsed = feedparser.parse(body, response_headers=decoding, resolve_relative_uris=False)
    except (ValueError, OverflowError) as exc:
        # feedparser's lenient parser turns each character reference into chr(n) and fails on
        # one that names no character (&#xD800;, &#x110000;): read the feed without them.
        log.info("feed %s: %s, character references replaced", url, exc)
        fixed, decoding = _without_bad_charrefs(body, decoding)
        parsed = feedparser.parse(fixed, response_headers=decoding, resolve_relative_uris=False)
        warnings.append("character references to no character (&#xD800; and the like) replaced")
    version = parsed.get("version") or ""
    raw_entries = parsed.get("entries") or []
    if parsed.get("bozo"):
        problem = parsed.get("bozo_exception")
        name = type(problem).__name__ if problem is not None else "ill-formed"
        message = " ".join(str(problem).split())[:200] if problem is not None else ""
        if name not in SURVIVABLE:
            message = f"ill-formed XML, read leniently ({message})"
        warnings.append(message or name)
        log.info("feed %s: %s", url, warnings[-1])
    if not version:
        what = describe(body, headers.get("content-type", ""))
        raise NotAFeedError(f"{url or 'the document'} is {what}")
    over_limit = 0
    numbered = list(enumerate(raw_entries, start=1))
    if max_items is not None and len(numbered) > max_items:
        keep = newest_indexes([_raw_date(raw) for raw in raw_entries], max_items)
        numbered = [numbered[i] for i in keep]
        over_limit = len(raw_entries) - len(keep)
        warnings.insert(
            0,
            f"{len(raw_entries):,} items in the feed: took the newest {len(keep):,} and "
            f"skipped {over_limit:,} ([feeds] max_items_per_fetch is {max_items:,})",
        )
        log.warning("feed %s: %s", source or url or "without a URL", warnings[0])
    entries: list[FeedEntry] = []
    skipped: list[str] = []
    for number, raw in numbered:
        try:
            entries.append(_entry(raw, warnings, url))
        except Exception as exc:  # one bad entry never loses the others
            skipped.append(f"entry {number}: {type(exc).__name__}: {exc}"[:200])
            log.warning("feed %s: entry %d skipped (%s)", url, number, exc)
    feed = parsed.get("feed") or {}
    raw_title = feed.get("title")
    title = html_to_text(raw_title) if isinstance(raw_title, str) else ""
    title = _shorten(" ".join(title.split()), MAX_TITLE) or url or "Untitled feed"
    link = feed.get("link") if isinstance(feed.get("link"), str) else None
    return ParsedFeed(title, link, version, entries, warnings, skipped, over_limit)
