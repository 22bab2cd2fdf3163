"""Which outlet published a document: not the feed that carried it (issue 12, item 3).

Counting "N outlets" only means something when a Reuters story on three sites counts once and
an aggregator's items count for their own publishers. The evidence, strongest first:

1. the item's own ``<source>`` element (aggregators name each item's publisher there), read
   through the table by its URL or name;
2. a news agency's credit at the start of the text ("(Reuters) -", "SEOUL, Oct. 13 (Yonhap)
   --"): republished wire copy is the agency's;
3. the page's or the item's stated publisher (``og:site_name``, ``dc:publisher``);
4. the link's registered domain, through the table of outlets (``config/outlets.toml``);
5. the feed's title without its section ("Reuters: World News" is Reuters; "The Harbor
   Times – Asia" is The Harbor Times).

A link belongs to the nearest domain the table lists, walking up from its host (``en.yna.co.kr``
is ``yna.co.kr``'s), so no public-suffix list is needed: the table names registered domains.
Pure functions over an ``OutletTable``; no I/O but loading the table.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from briefs.errors import SettingsError
from briefs.lexicon import read_toml, string_list
from briefs.resources import config_dir

Evidence = Literal["source", "wire", "stated", "domain", "feed", "none"]
# Evidence read into the text rather than stated by it: a credit line, a link's domain.
INFERRED: frozenset[Evidence] = frozenset({"wire", "domain"})

# A feed title's parts: "Site: Section", "Site | Section", "Section - Site", "Site > Section".
_SEPARATORS = re.compile(r"\s+[|\-–—>:·•]\s+|:\s+|\s+>\s*")
# Words that say which edition or section a title names, not whose it is.
_EDITION = re.compile(
    r"\s*(?:\((?:english|en|international|collected)\)|\b(?:online|english edition|"
    r"international edition)\s*)$",
    re.IGNORECASE,
)
# How far into a text an agency's credit may stand: a dateline, then "(Agency)".
_CREDIT_WINDOW = 120


def fold(name: str) -> str:
    """A name as compared: NFKC, case-folded, one space, no leading "the", no end dots."""
    text = " ".join(unicodedata.normalize("NFKC", name).casefold().split()).strip(" .,;:")
    return text[4:] if text.startswith("the ") else text


@dataclass(frozen=True)
class Outlet:
    name: str
    domains: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    wire: bool = False


class OutletTable:
    """Outlets by domain and by every name they go by; later entries win."""

    def __init__(self, outlets: Iterable[Outlet]) -> None:
        self.by_domain: dict[str, Outlet] = {}
        self.by_name: dict[str, Outlet] = {}
        wires: list[str] = []
        for outlet in outlets:
            for domain in outlet.domains:
                self.by_domain[domain.casefold().strip(".")] = outlet
            for name in (outlet.name, *outlet.aliases):
                self.by_name[fold(name)] = outlet
            if outlet.wire:
                wires += [outlet.name, *outlet.aliases]
        # Longest first, so "Yonhap News Agency" is read whole before "Yonhap".
        names = "|".join(re.escape(w) for w in sorted(set(wires), key=len, reverse=True))
        self._credit = re.compile(
            rf"^(?:[A-Z][\w.'’/-]*(?:\s+[A-Z][\w.'’/-]*){{0,3}}(?:,\s*[^()\n]{{0,30}}?)?\s*)?"
            rf"\((?P<wire>{names})\)\s*(?:[-–—]+|:)"
            if names
            else r"(?!)"
        )

    def for_url(self, url: str | None) -> Outlet | None:
        """The outlet of a link: its host or the nearest parent domain the table lists
        (``en.yna.co.kr`` is ``yna.co.kr``'s; ``home.treasury.gov`` is ``treasury.gov``'s)."""
        host = _host(url)
        if not host:
            return None
        labels = host.split(".")
        for start in range(len(labels) - 1):  # never a bare top-level domain
            found = self.by_domain.get(".".join(labels[start:]))
            if found is not None:
                return found
        return None

    def named(self, name: str | None) -> Outlet | None:
        return self.by_name.get(fold(name)) if name else None

    def credited_wire(self, text: str) -> Outlet | None:
        """The agency a text credits at its start ("(Reuters) -", "SEOUL, May 2 (Yonhap) --")."""
        match = self._credit.match(text.lstrip()[:_CREDIT_WINDOW])
        return self.named(match["wire"]) if match else None

    def outlet_of(
        self,
        *,
        url: str | None = None,
        text: str = "",
        source_title: str | None = None,
        source_url: str | None = None,
        stated: str | None = None,
        feed_title: str | None = None,
    ) -> tuple[str | None, Evidence]:
        """The outlet that published a document, and which evidence said so (see module)."""
        if source_title or source_url:
            known = self.for_url(source_url) or self.named(source_title)
            if known is not None:
                return known.name, "source"
            if source_title:
                return outlet_from_title(source_title, self), "source"
        wire = self.credited_wire(text)
        if wire is not None:
            return wire.name, "wire"
        if stated:
            known = self.named(stated)
            return (known.name if known else " ".join(stated.split())), "stated"
        known = self.for_url(url)
        if known is not None:
            return known.name, "domain"
        if feed_title:
            return outlet_from_title(feed_title, self), "feed"
        return None, "none"


def outlet_from_title(title: str, table: OutletTable | None = None) -> str:
    """The outlet a feed title names, without its section: a part the table knows wins
    ("World News - Breaking news | Sky News"), else the first part ("Reuters: World News",
    "Korea Ledger — North Korea"), without an edition word ("(English)", "Online")."""
    parts = [p.strip() for p in _SEPARATORS.split(title) if p and p.strip()]
    if not parts:
        return title.strip()
    if table is not None:
        for part in parts:
            known = table.named(part) or table.named(_EDITION.sub("", part))
            if known is not None:
                return known.name
    first = _EDITION.sub("", parts[0]).strip() or parts[0]
    return first


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname
    except ValueError:
        return None
    return host.casefold().strip(".") if host else None


@lru_cache(maxsize=1)
def shipped_outlets() -> OutletTable:
    """The shipped table alone (read once per process; it never changes while running)."""
    return load_outlets()


def load_outlets(extra: Sequence[Path] = ()) -> OutletTable:
    """The shipped table, then a team's own files ([feeds] outlets_file; theirs win). An
    unusable file is one SettingsError naming it: the operator's to fix, never shown to a
    Discord user as theirs."""
    shipped = config_dir() / "outlets.toml"
    outlets = _read(shipped, f"shipped outlets file {shipped}")
    for path in extra:
        outlets += _read(path, f"[feeds] outlets_file {path}")
    return OutletTable(outlets)


def _read(path: Path, what: str) -> list[Outlet]:
    found: list[Outlet] = []
    for n, entry in enumerate(read_toml(path, what).get("outlet", []), start=1):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise SettingsError(f"{what}: outlet {n} has no name")
        where = f"{what}: {name}"
        domains = string_list(entry.get("domains", []), where, "domains")
        aliases = string_list(entry.get("aliases", []), where, "aliases")
        found.append(Outlet(name.strip(), tuple(domains), tuple(aliases), bool(entry.get("wire"))))
    return found
