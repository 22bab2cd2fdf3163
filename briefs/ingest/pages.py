"""Saved web pages (.html, .htm) as articles, cited the same way as text files.

A page is decoded as a browser decodes it (byte-order mark, then its ``<meta charset>``, else
UTF-8 or refused), its main text is extracted with trafilatura (paragraphs kept), and what its
HTML says about the article (meta tags, JSON-LD, canonical link) becomes metadata with
provenance ``page``. The text then goes through the same cleaning rules and sentence splitter
as a text file (``briefs.ingest.articles``), so the same paragraph gives the same citations.
"""

from __future__ import annotations

import codecs
import json
import logging
import re
from collections.abc import Iterator
from datetime import date
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from briefs.errors import InputError
from briefs.feeds.urls import canonical_url, check_feed_url
from briefs.ingest.articles import (
    build_article,
    decode_article,
    manifest_entry,
    read_bytes,
    refuse_non_text,
)
from briefs.ingest.cleaning import CleaningRules, clean_page, load_rules
from briefs.models import PageMetadata, ParsedArticle

log = logging.getLogger(__name__)

PAGE_SUFFIXES = (".html", ".htm")

# Browsers read the charset from the head; saved pages often push it past the 1,024 bytes
# the prescan of the HTML standard looks at, and browsers honour a later one too.
_CHARSET_WINDOW = 65536
_META_CHARSET = re.compile(rb"<meta\b[^>]*?\bcharset\s*=\s*[\"']?\s*([A-Za-z0-9._:+-]+)", re.I)
# The WHATWG Encoding Standard reads these labels as a superset (Latin-1 is windows-1252...);
# a meta tag cannot declare UTF-16, since the prescan just read it as ASCII.
_WHATWG = {
    "iso8859-1": "cp1252",
    "ascii": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
    "gb2312": "gbk",
    "big5": "big5hkscs",
    "utf-16": "utf-8",
    "utf-16-le": "utf-8",
    "utf-16-be": "utf-8",
}
_UTF16_BOMS = ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def _c1_controls(error: UnicodeError) -> tuple[str, int]:
    """windows-1252 as browsers decode it: the five bytes Python leaves undefined are C1
    controls (which cleaning then removes), not a reason to refuse the page."""
    assert isinstance(error, UnicodeDecodeError)
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("briefbot-c1", _c1_controls)


def is_page_file(path: Path) -> bool:
    return path.suffix.lower() in PAGE_SUFFIXES


def _declared_charset(data: bytes) -> tuple[str, str] | None:
    """The label a page's ``<meta charset>`` (or http-equiv Content-Type) declares, with the
    Python codec browsers would use for it; None when it declares none briefbot knows."""
    match = _META_CHARSET.search(data[:_CHARSET_WINDOW])
    if match is None:
        return None
    label = match[1].decode("ascii").lower()
    try:
        codec = codecs.lookup(label).name
        codec = _WHATWG.get(codec, codec)
        b"".decode(codec)  # refuses bytes-to-bytes codecs ("base64", "zlib")
    except LookupError:
        return None  # browsers ignore an unknown label too
    return label, codec


def decode_page(data: bytes, name: str) -> str:
    """Bytes to text the way a browser decodes a page from disk: a byte-order mark wins, then
    the declared charset; without either, UTF-8 or refused as for text files."""
    for bom, codec in _UTF16_BOMS:
        if data.startswith(bom):
            text = _decode(
                data[len(bom) :], codec, name, "UTF-16 text, as its byte-order mark says"
            )
            refuse_non_text(text.encode("utf-8"), name)
            return text
    declared = _declared_charset(data)
    if declared is None or declared[1] == "utf-8" or data.startswith(codecs.BOM_UTF8):
        return decode_article(data, name)
    refuse_non_text(data, name)
    label, codec = declared
    return _decode(data, codec, name, f"{label} text, the charset the page declares")


def _decode(data: bytes, codec: str, name: str, what: str) -> str:
    try:
        return data.decode(codec, errors="briefbot-c1" if codec == "cp1252" else "strict")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name}: not valid {what} (invalid byte at offset {exc.start}); "
            "convert it to UTF-8 first, for example with iconv -t UTF-8"
        ) from None


def main_text(page: str | bytes, url: str | None = None, precise: bool = False) -> str | None:
    """The main text of an article page (trafilatura), one paragraph per block; None if none.

    Shared by saved pages and the full text of feed entries, so both read a page alike.
    ``precise`` favours leaving a doubtful block out over keeping a menu in: on a short page
    trafilatura otherwise falls back to the whole body, navigation included.
    """
    import trafilatura  # imported on first use: it is large, and most commands never need it

    try:
        text = trafilatura.extract(
            page,
            url=url,
            include_comments=False,
            include_tables=False,
            favor_precision=precise,
        )
    except Exception as exc:  # a hostile page must not take the caller down
        log.info("main text of %s: extraction failed (%s)", url or "a page", exc)
        return None
    if not text:
        return None
    paragraphs = (" ".join(line.split()) for line in str(text).split("\n"))
    return "\n\n".join(p for p in paragraphs if p) or None


def _reads_as_prose(paragraph: str) -> bool:
    """Four words or more ending as a sentence ends: what menus and link lists never do."""
    return len(paragraph.split()) >= 4 and paragraph.rstrip("\"'”’»)] ").endswith(
        (".", "!", "?", "…")
    )


def read_page(
    path: Path,
    rules: CleaningRules | None = None,
    today: date | None = None,
    max_bytes: int | None = None,
) -> ParsedArticle:
    """Read one saved page as an article; every failure is an InputError naming the file."""
    name = str(path)
    html = decode_page(read_bytes(path, max_bytes), name)
    meta = page_metadata(html)
    text = main_text(html, meta.url, precise=True)
    if text is None or not any(_reads_as_prose(p) for p in text.split("\n\n")):
        raise InputError(f"{name}: no article text found in this page")
    page = clean_page(text, rules or load_rules())
    if page.title is not None and meta.titles and _fold(page.title) not in meta.titles:
        # The page names its headline: a first line that is not it is article text.
        page.paragraphs.insert(0, page.title)
        page.title = None
    return build_article(page, name, manifest_entry(path), today, meta)


# -- metadata ---------------------------------------------------------------------------------

_DATE_KEYS = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "publishdate",
    "publish-date",
    "publication_date",
    "pubdate",
    "parsely-pub-date",
    "sailthru.date",
    "article.published",
    "dcterms.issued",
    "dc.date.issued",
    "dc.date",
    "citation_publication_date",
    "date",
)
_TITLE_KEYS = ("og:title", "twitter:title", "dc.title")
_AUTHOR_KEYS = (
    "author",
    "article:author",
    "byl",
    "dc.creator",
    "parsely-author",
    "sailthru.author",
)
_SITE_KEYS = ("og:site_name", "application-name", "publisher", "dc.publisher")
_ARTICLE_TYPES = re.compile(r"(?:\w*Article|BlogPosting|Report)$")
_SAVED_FROM = re.compile(r"^\s*saved from url=\(\d+\)(\S+)")
_SITE_SEPARATORS = re.compile(r"\s+[|\-–—:·»]\s+")


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


class _MetaReader(HTMLParser):
    """Collects the parts of a page that describe its article; the body text is not kept."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, list[str]] = {}
        self.canonical: str | None = None
        self.base: str | None = None
        self.saved_from: str | None = None
        self.title = ""
        self.h1: list[str] = []
        self.json_ld: list[str] = []
        self.times: list[str] = []
        self._capture: str | None = None  # "title", "h1" or "json-ld"
        self._buffer: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "").strip() for k, v in attrs}
        if tag == "meta" and a.get("content"):
            key = (a.get("property") or a.get("name") or a.get("itemprop") or "").lower()
            if key:
                self.meta.setdefault(key, []).append(" ".join(a["content"].split()))
        elif tag == "link" and "canonical" in a.get("rel", "").lower().split():
            self.canonical = self.canonical or a.get("href") or None
        elif tag == "base":
            self.base = self.base or a.get("href") or None
        elif tag == "time" and a.get("datetime"):
            if a.get("itemprop", "").lower() == "datepublished" or "pubdate" in a:
                self.times.append(a["datetime"])
        elif tag in ("title", "h1") and self._capture is None:
            self._capture, self._buffer = tag, []
        elif tag == "script" and a.get("type", "").lower() == "application/ld+json":
            self._capture, self._buffer = "json-ld", []

    def handle_endtag(self, tag: str) -> None:
        if self._capture is None or tag != (
            "script" if self._capture == "json-ld" else self._capture
        ):
            return
        text = "".join(self._buffer)
        if self._capture == "title":
            self.title = self.title or " ".join(text.split())
        elif self._capture == "h1":
            self.h1.append(" ".join(text.split()))
        else:
            self.json_ld.append(text)
        self._capture = None

    def handle_data(self, data: str) -> None:
        if self._capture is not None:
            self._buffer.append(data)

    def handle_comment(self, data: str) -> None:
        match = _SAVED_FROM.match(data)
        if match and self.saved_from is None:
            self.saved_from = match[1]

    def first(self, keys: tuple[str, ...]) -> str | None:
        return next((v for k in keys for v in self.meta.get(k, ())), None)

    def byline(self) -> str | None:
        """The people of the first author tag that names people (several tags: co-authors)."""
        for key in _AUTHOR_KEYS:
            people = [p for p in map(_name, self.meta.get(key, ())) if p]
            if people:
                return ", ".join(dict.fromkeys(people))
        return None


def _ld_objects(blocks: list[str]) -> Iterator[dict[str, Any]]:
    """The article objects of a page's JSON-LD (a NewsArticle, possibly inside @graph)."""
    for block in blocks:
        try:
            data = json.loads(block)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                stack.extend(item.get("@graph", []) if isinstance(item.get("@graph"), list) else [])
                kinds = item.get("@type", [])
                kinds = kinds if isinstance(kinds, list) else [kinds]
                if any(isinstance(k, str) and _ARTICLE_TYPES.search(k) for k in kinds):
                    yield item


def _names(value: Any) -> list[str]:
    """Names of JSON-LD persons or organisations: a string, an object, or a list of them."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        return [name for v in value for name in _names(v)]
    return []


def _text(value: Any) -> str | None:
    return (" ".join(value.split()) or None) if isinstance(value, str) else None


def _name(value: str | None) -> str | None:
    """A name, not a profile link: "By Jane Doe" read as "Jane Doe"."""
    if not value or value.lower().startswith(("http:", "https:", "www.", "/")):
        return None
    return re.sub(r"^by\s+", "", value, flags=re.I).strip() or None


def _without_site(title: str, site: str | None) -> str:
    """The headline without the site name pages add to it ("... - The Korea Herald")."""
    if not site:
        return title
    parts = _SITE_SEPARATORS.split(title)
    if len(parts) > 1 and _fold(parts[-1]) == _fold(site):
        return title[: title.rfind(parts[-1])].rstrip(" |-–—:·»")
    if len(parts) > 1 and _fold(parts[0]) == _fold(site):
        return title[len(parts[0]) :].lstrip(" |-–—:·»")
    return title


def _iso(value: str) -> str | None:
    """A declared date as ISO 8601 text: ISO already, 2023/09/14, or an RFC 2822 date."""
    value = value.strip()
    if re.fullmatch(r"\d{4}/\d{2}/\d{2}", value):
        return value.replace("/", "-")
    if re.match(r"\d{4}-\d{2}-\d{2}", value):
        return value.replace(" ", "T", 1)
    try:
        return parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError, IndexError):
        return None


def _page_url(reader: _MetaReader, ld: list[dict[str, Any]]) -> str | None:
    """The article's canonical URL: rel=canonical, og:url, JSON-LD, or where it was saved from."""
    og_url = reader.first(("og:url",))
    base = reader.base or og_url or reader.saved_from or ""
    candidates = [reader.canonical, og_url]
    for item in ld:
        entity = item.get("mainEntityOfPage")
        candidates += [item.get("url"), entity.get("@id") if isinstance(entity, dict) else entity]
    candidates.append(reader.saved_from)
    for candidate in candidates:
        if not isinstance(candidate, str) or not candidate.strip():
            continue
        try:
            return canonical_url(check_feed_url(urljoin(base, candidate.strip())))
        except InputError:
            continue  # not an http(s) URL: a relative one without a base, a javascript: link
    return None


def page_metadata(html: str) -> PageMetadata:
    """What a page's HTML declares about its article, most trusted source first."""
    reader = _MetaReader()
    try:
        reader.feed(html)
        reader.close()
    except AssertionError:  # html.parser gives up on some malformed markup: keep what it read
        pass
    ld = list(_ld_objects(reader.json_ld))
    sites = [reader.first((key,)) for key in _SITE_KEYS]
    sites += [name for item in ld for name in _names(item.get("publisher"))]
    publisher = next((site for site in map(_name, sites) if site), None)
    headlines = [reader.first(_TITLE_KEYS), *(_text(item.get("headline")) for item in ld)]
    headlines += [reader.h1[0] if len(reader.h1) == 1 else None, reader.title or None]
    titles = [_without_site(t, publisher) for t in headlines if t]
    ld_authors = dict.fromkeys(
        p for item in ld for n in _names(item.get("author")) if (p := _name(n))
    )
    dates = [reader.first((key,)) for key in _DATE_KEYS]
    dates += [_text(item.get("datePublished")) for item in ld]
    dates += reader.times
    return PageMetadata(
        title=titles[0] if titles else None,
        titles=frozenset(_fold(t) for t in [*titles, *headlines, *reader.h1] if t),
        byline=reader.byline() or ", ".join(ld_authors) or None,
        publisher=publisher,
        published=tuple(iso for iso in (_iso(v) for v in dates if v) if iso),
        url=_page_url(reader, ld),
    )
