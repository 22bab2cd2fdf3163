"""Topic lexicons, section cues and the entity gazetteer, read from config/ TOML files.

Matching is plain regular expressions compiled once; the data stays in config/ so a user
adds a topic or an alias without touching code.
"""

from __future__ import annotations

import difflib
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

    def close_names(self, name: str, limit: int = 3) -> list[str]:
        """Gazetteer names (or aliases, shown as their entity's name) spelt like ``name``,
        for "did you mean" hints."""
        by_spelling: dict[str, str] = {}
        for entity in self.entities:
            for spelling in (entity.name, *entity.aliases):
                by_spelling.setdefault(spelling.casefold(), entity.name)
        found = difflib.get_close_matches(
            name.casefold(), list(by_spelling), n=limit * 3, cutoff=0.8
        )
        return list(dict.fromkeys(by_spelling[f] for f in found))[:limit]

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


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """A domain data file (shipped or the user's) as a table; whatever makes it unreadable is
    one SettingsError naming ``what`` and the file, never a traceback."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"{what}: {path} does not exist") from None
    except IsADirectoryError:
        raise SettingsError(f"{what}: {path} is a folder; name a TOML file") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{what}: {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{what}: {path} is not valid TOML ({exc})") from None
    except OSError as exc:
        raise SettingsError(f"{what}: cannot read {path} ({exc.strerror})") from None


def string_list(value: object, where: str, field: str) -> list[str]:
    """A list of non-empty strings, or one clear error naming the entry and field."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingsError(
            f'{where}: {field} must be a list of strings, like {field} = ["a", "b"]'
        )
    return [v for v in value if v.strip()]


def _table(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SettingsError(f"{where} must be a table (a [section] with keys), not {value!r}")
    return value


def _entity_entries(raw: dict[str, Any], what: str) -> list[dict[str, Any]]:
    entries = raw.get("entity", [])
    if isinstance(entries, dict):
        raise SettingsError(
            f"{what}: write each entity as [[entity]] (an array of tables), not [entity]"
        )
    if not isinstance(entries, list):
        raise SettingsError(f"{what}: entity must be a list of [[entity]] tables")
    return [_table(e, f"{what}: an [[entity]] entry") for e in entries]


def _entity(e: dict[str, Any], what: str) -> Entity:
    for field in ("id", "name", "type"):
        if not isinstance(e.get(field), str) or not e[field].strip():
            label = e.get("id") or e.get("name") or "an [[entity]] entry"
            raise SettingsError(f"{what}: {label}: {field} must be a non-empty string")
    where = f"{what}: entity {e['id']}"
    aliases = string_list(e.get("aliases", [e["name"]]), where, "aliases") or [e["name"]]
    role = e.get("role")
    if role is not None and not isinstance(role, str):
        raise SettingsError(f"{where}: role must be a string")
    return Entity(
        id=e["id"],
        name=e["name"],
        type=e["type"],
        aliases=tuple(aliases),
        role=role,
        pattern=_entity_pattern(aliases),
    )


def _terms_of(key: str, value: object, what: str) -> re.Pattern[str]:
    entry = _table(value, f"{what}: {key}")
    if "terms" not in entry:
        raise SettingsError(f"{what}: {key} lacks terms = [...] (see docs/configuration.md)")
    return _terms_pattern(string_list(entry["terms"], f"{what}: {key}", "terms"), ignore_case=True)


@lru_cache(maxsize=8)
def _load(folder: str, extra_entities: str | None, extra_topics: str | None) -> Lexicon:
    base = Path(folder)
    digest = hashlib.sha256()
    files = [base / "topics.toml", base / "cues.toml", base / "entities.toml"]
    files += [Path(p) for p in (extra_entities, extra_topics) if p]
    for path in files:
        if path.is_file():
            digest.update(path.read_bytes())
    raw_topics = {k: (v, "topics") for k, v in read_toml(base / "topics.toml", "topics").items()}
    raw_cues = read_toml(base / "cues.toml", "cues")
    raw_entities = [
        (e, "entities")
        for e in _entity_entries(read_toml(base / "entities.toml", "entities"), "entities")
    ]
    if extra_topics:
        what = f"[analysis] topics {extra_topics}"
        raw_topics.update({k: (v, what) for k, v in read_toml(Path(extra_topics), what).items()})
    if extra_entities:
        what = f"[analysis] entities {extra_entities}"
        extra = _entity_entries(read_toml(Path(extra_entities), what), what)
        replaced = {e.get("id") for e in extra}
        raw_entities = [(e, w) for e, w in raw_entities if e.get("id") not in replaced]
        raw_entities += [(e, what) for e in extra]
    topics = {
        key: Topic(
            key, str(_table(value, f"{what}: {key}").get("label", key)), _terms_of(key, value, what)
        )
        for key, (value, what) in raw_topics.items()
    }
    entities = tuple(_entity(e, what) for e, what in raw_entities)
    cues = {key: _terms_of(key, value, "cues") for key, value in raw_cues.items()}
    return Lexicon(topics, entities, cues, digest.hexdigest()[:16])
