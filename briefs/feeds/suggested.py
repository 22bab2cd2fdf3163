"""Suggested feeds: the starter list shipped in config/feeds.toml, or a team's own list.

A team new to briefbot should not have to hunt for feed URLs, and a team that knows better
should change the list without touching code, so the list is domain data beside the code.
A user file (``[feeds] suggested_file``) replaces the shipped list: a list is curated as a
whole. Every entry is checked when the list is read, so a typo is one line naming the file
and the entry, not a feed that silently never arrives. Whether a URL really is a feed is
only known by fetching it: ``feeds add`` does that, and refuses what is not.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from briefs.errors import InputError, SettingsError
from briefs.feeds.urls import canonical_url, check_feed_url
from briefs.lexicon import read_toml, string_list
from briefs.resources import config_dir
from briefs.store.feeds import Feed

FIELDS = ("about", "title", "topics", "url")


@dataclass(frozen=True)
class SuggestedFeed:
    url: str
    title: str
    about: str = ""
    topics: tuple[str, ...] = ()


def shipped_file() -> Path:
    return config_dir() / "feeds.toml"


def load_suggested(
    user_file: Path | None = None, topics: Collection[str] | None = None
) -> list[SuggestedFeed]:
    """The user's list if one is named (it replaces the shipped one), else the shipped list.

    ``topics``: the topic keys an entry may name (None: any). Raises SettingsError naming the
    file and the entry for anything unusable.
    """
    if user_file is not None:
        path, what = user_file, f"[feeds] suggested_file {user_file}"
    else:
        path = shipped_file()
        what = f"shipped feed list {path}"
    return parse_suggested(read_toml(path, what), what, topics)


def parse_suggested(
    raw: dict[str, Any], what: str, topics: Collection[str] | None = None
) -> list[SuggestedFeed]:
    """Check a parsed list file: [[feed]] tables only, each usable, no URL twice."""
    unknown = sorted(set(raw) - {"feed"})
    if unknown:
        raise SettingsError(
            f"{what}: unknown key {unknown[0]!r}; the file holds [[feed]] tables only"
        )
    entries = raw.get("feed", [])
    if isinstance(entries, dict):
        raise SettingsError(f"{what}: write each feed as [[feed]] (an array of tables), not [feed]")
    if not isinstance(entries, list):
        raise SettingsError(f"{what}: feed must be a list of [[feed]] tables")
    feeds: list[SuggestedFeed] = []
    first: dict[str, int] = {}
    for n, entry in enumerate(entries, start=1):
        where = f"{what}: feed {n}"
        feed = _entry(entry, where, topics)
        seen = first.setdefault(canonical_url(feed.url), n)
        if seen != n:
            raise SettingsError(f"{where} ({feed.title!r}): {feed.url} is feed {seen} already")
        feeds.append(feed)
    return feeds


def _entry(entry: object, where: str, topics: Collection[str] | None) -> SuggestedFeed:
    if not isinstance(entry, dict):
        raise SettingsError(f"{where}: must be a [[feed]] table, not {entry!r}")
    label = next((v for v in (entry.get("title"), entry.get("url")) if _text(v)), None)
    if isinstance(label, str):
        where = f"{where} ({label.strip()!r})"
    extra = sorted(set(entry) - set(FIELDS))
    if extra:
        raise SettingsError(f"{where}: unknown key {extra[0]!r} (known: {', '.join(FIELDS)})")
    for field in ("url", "title"):
        if field not in entry:
            raise SettingsError(f'{where}: {field} is missing, like {field} = "..."')
        if not _text(entry[field]):
            raise SettingsError(f"{where}: {field} must be a non-empty string")
    try:
        url = check_feed_url(entry["url"])
    except InputError as exc:
        raise SettingsError(f"{where}: {exc}") from None
    about = entry.get("about", "")
    if not isinstance(about, str) or "\n" in about.strip():
        raise SettingsError(f"{where}: about must be one line of text")
    named = tuple(string_list(entry.get("topics", []), where, "topics"))
    if topics is not None:
        for topic in named:
            if topic not in topics:
                known = ", ".join(sorted(topics))
                raise SettingsError(f"{where}: unknown topic {topic!r} (known: {known})")
    return SuggestedFeed(url, entry["title"].strip(), about.strip(), named)


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def mark_followed(
    suggested: Sequence[SuggestedFeed], followed: Iterable[Feed]
) -> list[tuple[SuggestedFeed, Feed | None]]:
    """Each suggestion with the scope's feed that follows it (None: not followed), matched
    by canonical URL as ``feeds add`` matches, so the two never disagree."""
    by_url = {f.canonical_url: f for f in followed}
    return [(s, by_url.get(canonical_url(s.url))) for s in suggested]
