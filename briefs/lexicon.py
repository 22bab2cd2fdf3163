"""Topic lexicons, section cues and the entity gazetteer, read from config/ TOML files.

Matching is plain regular expressions compiled once; the data stays in config/ so a user
adds a topic or an alias without touching code.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from briefs.errors import NotFoundError, SettingsError
from briefs.resources import config_dir


def _terms_pattern(terms: Iterable[str], *, ignore_case: bool) -> re.Pattern[str]:
    ordered = sorted({t for t in terms if t}, key=len, reverse=True)
    body = "|".join(re.escape(t) for t in ordered) or "(?!)"
    flags = re.IGNORECASE if ignore_case else 0
    return re.compile(rf"(?<![\w])(?:{body})", flags)


@dataclass(frozen=True)
class Topic:
    key: str
    label: str
    pattern: re.Pattern[str]

    def matches(self, text: str) -> bool:
        return self.pattern.search(text) is not None


@dataclass(frozen=True)
class Entity:
    id: str
    name: str
    type: str
    aliases: tuple[str, ...]
    role: str | None
    pattern: re.Pattern[str]

    def count(self, text: str) -> int:
        return len(self.pattern.findall(text))


@dataclass(frozen=True)
class Lexicon:
    """Topics, cues and entities; frozen, so derived patterns are cached on first use."""

    topics: dict[str, Topic]
    entities: tuple[Entity, ...]
    cues: dict[str, re.Pattern[str]]
    # Identifies the data this lexicon was built from (part of the analysis version).
    fingerprint: str = ""

    def topic(self, name: str) -> Topic:
        key = name.strip().lower()
        for topic in self.topics.values():
            if key in {topic.key, topic.label.lower()}:
                return topic
        known = ", ".join(sorted(self.topics))
        raise NotFoundError(f"unknown topic {name!r}; known topics: {known}")

    def entity(self, name: str) -> Entity:
        """An entity by id, name or alias (case-insensitive); an unknown name matches itself."""
        wanted = name.strip().casefold()
        for entity in self.entities:
            names = {entity.id, entity.name.casefold(), *(a.casefold() for a in entity.aliases)}
            if wanted in names:
                return entity
        if not wanted:
            raise NotFoundError("the entity name is empty")
        return Entity(
            id=re.sub(r"\W+", "-", wanted).strip("-"),
            name=name.strip(),
            type="unknown",
            aliases=(name.strip(),),
            role=None,
            pattern=_entity_pattern([name.strip()], ignore_case=True),
        )

    def cue(self, name: str, text: str) -> bool:
        return self.cue_match(name, text) is not None

    def cue_match(self, name: str, text: str) -> re.Match[str] | None:
        pattern = self.cues.get(name)
        return pattern.search(text) if pattern else None

    def mentions(self, texts: Iterable[str]) -> Counter[str]:
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(self.mentions_in(text))
        return counts

    def mentions_in(self, text: str) -> Counter[str]:
        """Entity ids named in ``text``, with counts: one pass of one combined pattern."""
        pattern, owners = self._combined
        found: Counter[str] = Counter()
        for m in pattern.finditer(text):
            for entity_id in owners[m.group(0)]:
                found[entity_id] += 1
        return found

    @cached_property
    def _combined(self) -> tuple[re.Pattern[str], dict[str, list[str]]]:
        owners: dict[str, list[str]] = {}
        for entity in self.entities:
            for alias in entity.aliases:
                ids = owners.setdefault(alias, [])
                if entity.id not in ids:
                    ids.append(entity.id)
        return _entity_pattern(owners), owners

    def by_id(self, entity_id: str) -> Entity | None:
        return next((e for e in self.entities if e.id == entity_id), None)


def _entity_pattern(aliases: Iterable[str], *, ignore_case: bool = False) -> re.Pattern[str]:
    ordered = sorted(set(aliases), key=len, reverse=True)
    body = "|".join(re.escape(a) for a in ordered)
    return re.compile(rf"(?<![\w.-])(?:{body})(?![\w-])", re.IGNORECASE if ignore_case else 0)


def load_lexicon(
    folder: Path | None = None,
    extra_entities: Path | None = None,
    extra_topics: Path | None = None,
) -> Lexicon:
    """The shipped domain data, extended by a user's own entity and topic files.

    A user's entity with the id of a shipped one replaces it; a user's topic with the key of
    a shipped one replaces it; everything else is added.
    """
    return _load(
        str(folder or config_dir()),
        str(extra_entities) if extra_entities else None,
        str(extra_topics) if extra_topics else None,
    )


def _read(path: Path, what: str) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"{what}: {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{what}: {path} is not valid TOML ({exc})") from None


@lru_cache(maxsize=8)
def _load(folder: str, extra_entities: str | None, extra_topics: str | None) -> Lexicon:
    base = Path(folder)
    digest = hashlib.sha256()
    files = [base / "topics.toml", base / "cues.toml", base / "entities.toml"]
    files += [Path(p) for p in (extra_entities, extra_topics) if p]
    for path in files:
        if path.exists():
            digest.update(path.read_bytes())
    raw_topics = _read(base / "topics.toml", "topics")
    raw_cues = _read(base / "cues.toml", "cues")
    raw_entities = list(_read(base / "entities.toml", "entities").get("entity", []))
    if extra_topics:
        raw_topics.update(_read(Path(extra_topics), "[analysis] topics"))
    if extra_entities:
        extra = _read(Path(extra_entities), "[analysis] entities").get("entity", [])
        replaced = {e.get("id") for e in extra}
        raw_entities = [e for e in raw_entities if e.get("id") not in replaced] + list(extra)
    try:
        topics = {
            key: Topic(
                key, str(value.get("label", key)), _terms_pattern(value["terms"], ignore_case=True)
            )
            for key, value in raw_topics.items()
        }
        entities = tuple(
            Entity(
                id=e["id"],
                name=e["name"],
                type=e["type"],
                aliases=tuple(e.get("aliases", [e["name"]])),
                role=e.get("role"),
                pattern=_entity_pattern(e.get("aliases", [e["name"]])),
            )
            for e in raw_entities
        )
        cues = {
            key: _terms_pattern(value["terms"], ignore_case=True) for key, value in raw_cues.items()
        }
    except (KeyError, TypeError) as exc:
        raise SettingsError(
            f"entity, topic or cue data: an entry lacks the field {exc} (see docs/configuration.md)"
        ) from None
    return Lexicon(topics, entities, cues, digest.hexdigest()[:16])
