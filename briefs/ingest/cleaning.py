"""Turn a saved article page into metadata and a clean body, by rules kept in config/.

Pure functions: text in, ``CleanPage`` out. The rules (config/cleaning.toml) say which lines
are page debris; this module only applies them, so a new site needs data, not code.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from briefs.resources import config_dir


@dataclass(frozen=True)
class Teaser:
    marker: str
    before: int
    after: int


@dataclass(frozen=True)
class CleaningRules:
    drop_lines: frozenset[str]
    drop_patterns: tuple[re.Pattern[str], ...]
    cut_from: tuple[str, ...]
    teasers: tuple[Teaser, ...]
    drop_doubled_captions: bool
    byline: re.Pattern[str]
    published: re.Pattern[str]
    publisher: re.Pattern[str]
    mastheads: frozenset[str]
    trailing_credit: re.Pattern[str]
    title_max_chars: int


@dataclass
class CleanPage:
    """The result of cleaning: metadata printed in the page, and the body paragraphs."""

    title: str | None = None
    masthead: str | None = None
    byline: str | None = None
    published_text: str | None = None
    publisher: str | None = None
    credit: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


def load_rules(path: Path | None = None) -> CleaningRules:
    """Read cleaning rules from a TOML file (default: the shipped config/cleaning.toml)."""
    return _load_rules_cached(str(path or config_dir() / "cleaning.toml"))


@lru_cache(maxsize=8)
def _load_rules_cached(path: str) -> CleaningRules:
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    meta = raw.get("metadata", {})
    return CleaningRules(
        drop_lines=frozenset(_fold(s) for s in raw.get("drop_lines", [])),
        drop_patterns=tuple(re.compile(p) for p in raw.get("drop_patterns", [])),
        cut_from=tuple(_fold(s) for s in raw.get("cut_from", [])),
        teasers=tuple(
            Teaser(_fold(t["marker"]), int(t.get("before", 0)), int(t.get("after", 0)))
            for t in raw.get("teasers", [])
        ),
        drop_doubled_captions=bool(raw.get("captions", {}).get("drop_doubled", True)),
        byline=re.compile(meta.get("byline", r"(?!)")),
        published=re.compile(meta.get("published", r"(?!)")),
        publisher=re.compile(meta.get("publisher", r"(?!)")),
        mastheads=frozenset(_fold(m) for m in meta.get("mastheads", [])),
        trailing_credit=re.compile(meta.get("trailing_credit", r"(?!)")),
        title_max_chars=int(meta.get("title_max_chars", 200)),
    )


# Control and format characters (Unicode categories Cc and Cf), newline and tab aside.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]"
)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


def normalize_text(text: str) -> str:
    """Unicode NFC, one kind of newline and space, no BOM or control characters."""
    text = unicodedata.normalize("NFC", text.lstrip("\ufeff"))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))


def _fold(line: str) -> str:
    return _SPACES.sub(" ", line).strip().casefold()


def _is_doubled(line: str) -> bool:
    """True for a line that holds the same text twice, as sites print photo captions."""
    half, rest = divmod(len(line), 2)
    if len(line) < 40:
        return False
    for cut in (half, half + rest):
        left, right = line[:cut].strip(), line[cut:].strip()
        if left and left == right:
            return True
    return False


def clean_page(text: str, rules: CleaningRules) -> CleanPage:
    """Split a page into metadata and clean paragraphs, dropping what the rules call debris."""
    page = CleanPage()
    # normalize_text already folds white space, so lines compare by casefold() alone.
    lines = normalize_text(text).split("\n")

    # 1. Everything from a footer marker on is page furniture.
    for i, line in enumerate(lines):
        folded = line.casefold()
        if folded and any(folded.startswith(marker) for marker in rules.cut_from):
            page.dropped.extend(x for x in lines[i:] if x)
            lines = lines[:i]
            break

    keep = [bool(line) for line in lines]

    # 2. Teasers for other articles, around their marker line.
    nonblank = [i for i, line in enumerate(lines) if line]
    for teaser in rules.teasers:
        for pos, i in enumerate(nonblank):
            if lines[i].casefold() != teaser.marker:
                continue
            for j in nonblank[max(0, pos - teaser.before) : pos + teaser.after + 1]:
                keep[j] = False

    # 3. Photo captions printed twice, as one doubled line or two identical lines.
    if rules.drop_doubled_captions:
        previous: int | None = None
        for i in nonblank:
            if _is_doubled(lines[i]):
                keep[i] = False
            elif previous is not None and lines[i] == lines[previous] and len(lines[i]) > 20:
                keep[i] = keep[previous] = False
            previous = i

    # 4. Debris lines, by text and by pattern.
    for i in nonblank:
        folded = lines[i].casefold()
        if folded in rules.drop_lines or any(p.fullmatch(lines[i]) for p in rules.drop_patterns):
            keep[i] = False

    # 5. Metadata lines: read them, then take them out of the body.
    first = True
    for i in nonblank:
        if not keep[i]:
            continue
        line = lines[i]
        if first and line.casefold() in rules.mastheads:
            page.masthead, keep[i] = line, False
            continue
        first = False
        for name, pattern in (
            ("byline", rules.byline),
            ("published_text", rules.published),
            ("publisher", rules.publisher),
        ):
            match = pattern.match(line)
            if match and getattr(page, name) is None:
                setattr(page, name, match.group("value").strip())
                keep[i] = False
                break

    for i in nonblank:
        if not keep[i]:
            page.dropped.append(lines[i])
    paragraphs = [lines[i] for i in nonblank if keep[i]]

    # 6. The title: a first line that does not read as a sentence of the body.
    if len(paragraphs) > 1:
        head = paragraphs[0]
        if len(head) <= rules.title_max_chars and not head.endswith((".", ":", ";", ",")):
            page.title = head
            paragraphs = paragraphs[1:]

    # 7. An agency credit closing the article: "... and others. (Yonhap)".
    if paragraphs:
        match = rules.trailing_credit.search(paragraphs[-1])
        if match:
            page.credit = match.group("value")
            paragraphs[-1] = paragraphs[-1][: match.start()].rstrip()
            if not paragraphs[-1]:
                paragraphs.pop()
    page.paragraphs = paragraphs
    return page
