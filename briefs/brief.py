"""The brief as data: what every renderer (Markdown, JSON, Discord) starts from.

``Brief.to_dict()`` is the public JSON contract documented in docs/brief-format.md and
checked by docs/brief.schema.json.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

SCHEMA_VERSION = 1

Kind = Literal["brief", "digest", "timeline", "entity", "stories", "source", "search"]
Stance = Literal["claim", "denial", "confirmation"]

SECTION_HEADINGS = {
    "developments": "Key developments",
    "quotes": "Who said what",
    "sanctions": "Sanctions and legal measures",
    "denials": "Denials and contested claims",
    "watch": "What to watch",
    "context": "Context",
    "passage": "Passage",
    "results": "Results",
}
SECTION_ORDER = list(SECTION_HEADINGS)


@dataclass(frozen=True)
class Citation:
    ref: int
    sentence: str  # "<document id>:<sentence index>"


@dataclass(frozen=True)
class StoryLine:
    """The story an event line stands for: its date (first report) and how many outlets
    report it. Only the lines that lead a brief or digest with the events carry one."""

    id: str
    date: str | None
    outlets: int


@dataclass(frozen=True)
class Item:
    text: str
    citations: list[Citation]
    date: str | None = None
    stance: Stance | None = None
    story: StoryLine | None = None


@dataclass(frozen=True)
class Section:
    key: str
    heading: str
    items: list[Item]


@dataclass(frozen=True)
class TimelineEntry:
    date: str
    precision: str
    text: str
    citations: list[Citation]


@dataclass(frozen=True)
class Quote:
    speaker: str | None
    text: str
    citations: list[Citation]


@dataclass(frozen=True)
class StoryRef:
    id: str
    title: str
    refs: list[int]
    outlets: int = 1
    first_report: str | None = None
    last_report: str | None = None


@dataclass(frozen=True)
class EntityRef:
    id: str
    name: str
    type: str
    mentions: int


@dataclass(frozen=True)
class SourceRef:
    ref: int
    id: str
    title: str
    publisher: str | None
    published: str | None
    url: str | None
    origin: str


@dataclass(frozen=True)
class MonthCount:
    month: str
    mentions: int


@dataclass(frozen=True)
class Profile:
    """Who or what an entity is (briefs of kind "entity")."""

    id: str
    name: str
    type: str
    role: str | None
    aliases: list[str]
    mentions_by_month: list[MonthCount]


@dataclass(frozen=True)
class NewName:
    name: str
    mentions: int
    # "person", "organisation" or "vessel" (briefs.names.name_kind).
    kind: str
    # The gazetteer entity it is spelt like, not linked to (Lexicon.close_entity), if any.
    like: str | None = None


@dataclass(frozen=True)
class Window:
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class Query:
    topic: str | None = None
    entity: str | None = None
    text: str | None = None


@dataclass
class Brief:
    kind: Kind
    title: str
    generated_at: datetime
    window: Window = field(default_factory=Window)
    query: Query = field(default_factory=Query)
    bluf: list[Item] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    stories: list[StoryRef] = field(default_factory=list)
    entities: list[EntityRef] = field(default_factory=list)
    sources: list[SourceRef] = field(default_factory=list)
    profile: Profile | None = None
    new_names: list[NewName] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # shown to readers, not part of the JSON

    def items(self) -> list[Item]:
        """Every statement of the brief: bottom line, then sections in order."""
        return [*self.bluf, *(item for section in self.sections for item in section.items)]

    def to_dict(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.astimezone(UTC).isoformat(timespec="seconds") if value else None

        out: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "kind": self.kind,
            "title": self.title,
            "generated_at": iso(self.generated_at),
            "window": {"start": iso(self.window.start), "end": iso(self.window.end)},
            "query": _asdict(self.query),
            "bluf": [_item(i) for i in self.bluf],
            "sections": [
                {"key": s.key, "heading": s.heading, "items": [_item(i) for i in s.items]}
                for s in self.sections
            ],
            "timeline": [_asdict(t) for t in self.timeline],
            "quotes": [_asdict(q) for q in self.quotes],
            "stories": [_asdict(s) for s in self.stories],
            "entities": [_asdict(e) for e in self.entities],
            "sources": [_asdict(s) for s in self.sources],
        }
        if self.profile is not None:
            out["profile"] = _asdict(self.profile)
        if self.new_names:
            # "like" only where a name has one (the schema's optional field).
            out["new_names"] = [
                {k: v for k, v in _asdict(n).items() if k != "like" or v is not None}
                for n in self.new_names
            ]
        return out


_ATOMS = (str, int, float, bool, type(None))


def _item(item: Item) -> dict[str, Any]:
    """An item as JSON: ``story`` only on event lines, so every other item keeps its four
    fields (the contract is extended, not changed)."""
    out: dict[str, Any] = _asdict(item)
    if item.story is None:
        del out["story"]
    return out


@lru_cache(maxsize=256)
def _field_names(cls: type) -> tuple[str, ...] | None:
    """A dataclass's field names in order (None: not a dataclass), looked up once a type."""
    try:
        return tuple(f.name for f in fields(cls))
    except TypeError:
        return None


def _asdict(value: Any) -> Any:
    """``dataclasses.asdict``: the same output, several times faster: a brief with hundreds of
    sources and citations took 25 ms to convert, mostly in the library's generic recursion
    and a ``deepcopy`` call for every string and number."""
    if isinstance(value, _ATOMS):
        return value
    if isinstance(value, list):
        return [_asdict(v) for v in value]
    names = _field_names(type(value))  # type: ignore[arg-type]  # a type is hashable
    if names is not None:
        return {name: _asdict(getattr(value, name)) for name in names}
    if isinstance(value, tuple):
        if hasattr(value, "_fields"):  # a named tuple takes its fields as arguments
            return type(value)(*[_asdict(v) for v in value])
        return type(value)(_asdict(v) for v in value)
    if isinstance(value, dict):
        return type(value)((_asdict(k), _asdict(v)) for k, v in value.items())
    return copy.deepcopy(value)
