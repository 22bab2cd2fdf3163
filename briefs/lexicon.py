"""Topic lexicons, section cues and the entity gazetteer, read from config/ TOML files.

Matching is plain regular expressions, each compiled once, when first used (most commands
use a few of them); the data stays in config/ so a user adds a topic or an alias without
touching code.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as _field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, TypeVar, cast

from briefs import names as _names
from briefs.errors import NotFoundError, SettingsError
from briefs.lazyre import lazy_compile
from briefs.resources import config_dir

_T = TypeVar("_T")


def _terms_pattern(terms: Iterable[str], *, ignore_case: bool) -> re.Pattern[str]:
    ordered = sorted({t for t in terms if t}, key=len, reverse=True)
    body = "|".join(re.escape(t) for t in ordered) or "(?!)"
    flags = re.IGNORECASE if ignore_case else 0
    return lazy_compile(rf"(?<![\w])(?:{body})", flags)


def _trie(words: Iterable[str], *, lower: bool = True) -> str:
    """One regular expression for many literal words, as a trie: at each character only the
    branch for that character is tried, where a plain alternation tries every word. Longer
    words are preferred (a word's continuation before its end), so the match at a position
    is the longest word there, as in an alternation sorted longest first. The words are
    lower-cased first (for a pattern that ignores case) unless ``lower`` is false."""
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for ch in word.lower() if lower else word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(root)


def _folds_alone(word: str) -> bool:
    """Whether, ignoring case, each character of ``word`` matches only the characters its
    lower case matches (ASCII, or caseless): then two words that differ after ``lower()``
    never match the same text, so the trie's longest match is every word's longest match."""
    return all(ch.isascii() or ch.lower() == ch.upper() for ch in word)


ListName = tuple[str, str]  # ("topic" or "cue", its key)


class TermScan:
    """Which of several term lists (case-insensitive, each matched at the start of a word)
    a text contains, and where each first matches: one scan of the text, not one per list.

    The scan finds every position where some term starts (a look-ahead, so overlapping
    terms are all seen) and the longest term there; which lists match at that position
    depends only on that text, so it is worked out once per distinct text and remembered.
    The result equals searching each list's own pattern (``_terms_pattern``).
    """

    def __init__(self, lists: dict[ListName, tuple[str, ...]]) -> None:
        self.patterns = {
            name: _terms_pattern(terms, ignore_case=True) for name, terms in lists.items()
        }
        words = {t for terms in lists.values() for t in terms if t}
        body = _trie(words) or "(?!)"
        self._scan = re.compile(rf"(?<![\w])(?=({body}))", re.IGNORECASE)
        # With exotic case folding ("ſ" matches "s") the longest match is not certain to
        # decide the lists, so each list is then checked at each position instead.
        self._exact_by_text = all(_folds_alone(w) for w in words)
        # The same scan, heeding case, for ASCII text lower-cased first: then each of its
        # characters matches a term's character ignoring case exactly when it equals that
        # character lower-cased (the terms fold alone), and a pattern that heeds case is
        # about twice as fast. Positions do not move (ASCII keeps its length).
        self._lower_scan = re.compile(rf"(?<![\w])(?=({body}))")
        self._known: dict[str, tuple[ListName, ...]] = {}

    def first_starts(self, text: str) -> dict[ListName, int]:
        """Each list found in ``text``, with where its first match starts."""
        found: dict[ListName, int] = {}
        if not self._exact_by_text:
            for m in self._scan.finditer(text):
                start = m.start()
                for name, p in self.patterns.items():
                    if name not in found and p.match(text, start):
                        found[name] = start
            return found
        if text.isascii():
            matches = self._lower_scan.finditer(text.lower())
        else:
            matches = self._scan.finditer(text)
        known = self._known
        for m in matches:
            word = m.group(1)
            names = known.get(word)
            if names is None:
                if len(known) > 50_000:
                    known.clear()
                names = known[word] = tuple(n for n, p in self.patterns.items() if p.match(word))
            for name in names:
                if name not in found:
                    found[name] = m.start()
        return found


@dataclass(frozen=True)
class Topic:
    key: str
    label: str
    pattern: re.Pattern[str]
    terms: tuple[str, ...] = ()
    # A context topic (summits, exercises) frames the news without being its subject: a
    # statement on context topics alone weighs less in a brief (``compose.CONTEXT_ONLY``).
    context: bool = False

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
    # The terms of each cue (``cues`` holds their patterns), for the one-pass scan.
    cue_terms: dict[str, tuple[str, ...]] = _field(default_factory=dict)
    # The files it was loaded from (``load_lexicon``'s arguments), so another process can load
    # the same lexicon itself rather than be sent it; None for one built by hand.
    source: tuple[str, str | None, str | None] | None = _field(default=None, compare=False)

    def topic(self, name: str) -> Topic:
        key = name.strip().lower()
        for topic in self.topics.values():
            if key in {topic.key, topic.label.lower()}:
                return topic
        known = ", ".join(sorted(self.topics))
        raise NotFoundError(f"unknown topic {name!r}; known topics: {known}")

    def entity(self, name: str) -> Entity:
        """An entity by id, name or alias (case-insensitive), or by a variant of one (a
        spelling the gazetteer links, ``VariantIndex``); an unknown name matches itself."""
        wanted = name.strip().casefold()
        for entity in self.entities:
            names = {entity.id, entity.name.casefold(), *(a.casefold() for a in entity.aliases)}
            if wanted in names:
                return entity
        whole = self._variants.whole(name.strip())
        if whole is not None:
            found = self.by_id(whole)
            if found is not None:
                return found
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

    def __getstate__(self) -> dict[str, Any]:
        """What a worker process receives: the data, not what was derived from it here."""
        state = dict(self.__dict__)
        state.pop("_derived", None)
        return state

    def derived(self, build: Callable[[Lexicon], _T]) -> _T:
        """What ``build`` makes of this lexicon, made on first use and kept with it (a frozen
        lexicon's derived data never changes), so other modules' caches of it live here,
        not in module globals. Two threads may both build it once; either result is kept."""
        made: dict[object, Any] = self.__dict__.setdefault("_derived", {})
        found = made.get(build)
        if found is None:
            found = made[build] = build(self)
        return cast(_T, found)

    def cue(self, name: str, text: str) -> bool:
        return self.cue_match(name, text) is not None

    def cue_match(self, name: str, text: str) -> re.Match[str] | None:
        pattern = self.cues.get(name)
        return pattern.search(text) if pattern else None

    def scan(self, text: str) -> tuple[tuple[str, ...], dict[str, int]]:
        """(topics in ``text``, in lexicon order; where each cue first matches): what
        ``Topic.matches`` and ``cue_match`` would say, from one pass over the text."""
        found = self._term_scan.first_starts(text)
        topics = tuple(key for key in self.topics if ("topic", key) in found)
        return topics, {name: at for (kind, name), at in found.items() if kind == "cue"}

    @cached_property
    def _term_scan(self) -> TermScan:
        lists: dict[ListName, tuple[str, ...]] = {
            ("topic", k): t.terms for k, t in self.topics.items()
        }
        lists.update({("cue", k): terms for k, terms in self.cue_terms.items()})
        return TermScan(lists)

    def knows_name(self, name: str) -> bool:
        """Whether a capitalised name is the gazetteer's: one of its entities matches in it,
        or it contains an alias longer than three letters (remembered per name)."""
        known = self._known_names.get(name)
        if known is None:
            if len(self._known_names) > 100_000:
                self._known_names.clear()
            known = (
                self._combined[0].search(name) is not None
                or any(alias in name for alias in self._long_aliases)
                or bool(self._variants.resolve(name))
            )
            self._known_names[name] = known
        return known

    @cached_property
    def _known_names(self) -> dict[str, bool]:
        return {}

    @cached_property
    def _long_aliases(self) -> tuple[str, ...]:
        return tuple(a for e in self.entities for a in e.aliases if len(a) > 3)

    def mentions(self, texts: Iterable[str]) -> Counter[str]:
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(self.mentions_in(text))
        return counts

    def mentions_in(self, text: str) -> Counter[str]:
        """Entity ids named in ``text``, with counts: one pass of one combined pattern for
        the aliases as written, then the capitalised names it left, as variants of them."""
        pattern, owners = self._combined
        found: Counter[str] = Counter()
        for m in pattern.finditer(text):
            for entity_id in owners[m.group(0)]:
                found[entity_id] += 1
        variants = self._variants
        # Most runs of capitalised words hold no variant, and are known to hold none: then
        # one set operation (in C) settles the sentence.
        if variants.empty.issuperset(_CAPITALISED.findall(text)):
            return found
        # (Rarely here: where the aliases matched is needed only now.)
        exact = [(m.start(), m.end(), owners[m.group(0)]) for m in pattern.finditer(text)]
        replaced = False
        for m in _CAPITALISED.finditer(text):
            start = m.start()
            for a, b, variant in variants.resolve(m.group(0)):
                a, b = a + start, b + start
                inside = [x for x in exact if x[0] < b and a < x[1]]
                # A variant over aliases found as written replaces them only when it holds
                # them all and is longer (the longest match, as among aliases).
                if inside and not all(a <= s and e <= b and e - s < b - a for s, e, _ in inside):
                    continue
                for x in inside:
                    found.subtract(x[2])
                    exact.remove(x)
                    replaced = True
                found.update(variant)
        return +found if replaced else found

    def family_mentions(self, text: str, families: dict[str, list[str]]) -> Counter[str]:
        """People a document has named in full whom ``text`` names by family name alone, as
        reports do after the first mention ("Choe" after "Choe Son-hui"): a run of
        capitalised words that is that name (or its possessive). ``families``: each family
        name of the people named so far (``family_of``), with their ids; two people with one
        family name (Kim Jong-un, Kim Yo-jong): "Kim" is neither."""
        found: Counter[str] = Counter()
        if not any(family in text for family in families):
            return found
        for run in _CAPITALISED.findall(text):
            ids = families.get(_POSSESSIVE.sub("", run))
            if ids is not None and len(ids) == 1:
                found[ids[0]] += 1
        return found

    def family_of(self, entity_id: str) -> str | None:
        """The family name a person is called by alone, unless an alias is it already."""
        return self._families.get(entity_id)

    @cached_property
    def _families(self) -> dict[str, str]:
        """Each person's family name (``names.family_name``), unless an alias already is it
        (then the alias pattern finds it anywhere: "Shoigu")."""
        out = {}
        for entity in self.entities:
            family = _names.family_name(entity.name) if entity.type == "person" else None
            if family is not None and family not in entity.aliases:
                out[entity.id] = family
        return out

    def close_entity(self, name: str) -> Entity | None:
        """A person, organisation or vessel of the gazetteer spelt like ``name``
        (``names.close``), that ``name`` is not linked to: for a new name's "spelt like"."""
        for entity in self.entities:
            if entity.type in _CLOSE_TYPES and any(
                _names.close(name, alias) for alias in (entity.name, *entity.aliases)
            ):
                return entity
        return None

    @cached_property
    def _variants(self) -> VariantIndex:
        return VariantIndex(self.entities)

    @cached_property
    def _combined(self) -> tuple[re.Pattern[str], dict[str, list[str]]]:
        owners: dict[str, list[str]] = {}
        for entity in self.entities:
            for alias in entity.aliases:
                ids = owners.setdefault(alias, [])
                if entity.id not in ids:
                    ids.append(entity.id)
        return _aliases_pattern(owners), owners

    def by_id(self, entity_id: str) -> Entity | None:
        return next((e for e in self.entities if e.id == entity_id), None)


# A run of capitalised words (a hyphenated word is one), where a name spelt another way may be.
# (The look-behind after the first letter: a pattern that starts with a letter class is
# scanned for it in C, where one that starts with a look-behind tries every position.)
_CAPITALISED = re.compile(
    r"[A-Z](?<![\w.'’-][A-Z])[\w'’]*(?:-[\w'’]+)*(?: [A-Z][\w'’]*(?:-[\w'’]+)*)*"
)
# Types whose names are worth a "spelt like" note on a new name.
_CLOSE_TYPES = frozenset({"person", "organisation", "vessel"})
# Types whose names are transliterated, so matched by ``names.same_words`` too.
_FUZZY_TYPES = frozenset({"person", "vessel"})
_POSSESSIVE = re.compile(r"['’]s$")
# Keys shorter than this are acronyms and short words: matched only as written.
_KEY_MIN = 5
# The most words a variant has (a run of capitalised words may be longer: a title).
_VARIANT_WORDS = 5


class VariantIndex:
    """The gazetteer's capitalised aliases by ``names.key`` (any type) and, for people and
    vessels, by the sounds of their words, so a name spelt another way finds the aliases
    it may be a variant of in one look-up and is then checked by ``names.same_words``."""

    def __init__(self, entities: Sequence[Entity]) -> None:
        by_key: dict[str, list[str]] = {}
        by_sound: dict[tuple[str, ...], list[tuple[tuple[str, ...], str]]] = {}
        for entity in entities:
            for alias in (entity.name, *entity.aliases):
                if not alias[:1].isupper():
                    continue
                k = _names.key(alias)
                if len(k) >= _KEY_MIN:
                    ids = by_key.setdefault(k, [])
                    if entity.id not in ids:
                        ids.append(entity.id)
                if entity.type in _FUZZY_TYPES:
                    ws = _names.words(alias)
                    if any(len(w) >= _names.FUZZY_MIN for w in ws):
                        sounds = tuple(_names.sound(w) for w in ws)
                        by_sound.setdefault(sounds, []).append((ws, entity.id))
        self._by_key = {k: tuple(v) for k, v in by_key.items()}
        self._by_sound = by_sound
        # Aliases as written: the combined pattern finds them, so they are no variants.
        self._as_written = frozenset(a for e in entities for a in e.aliases)
        self._resolved: dict[str, tuple[tuple[int, int, tuple[str, ...]], ...]] = {}
        # Runs of capitalised words known to hold no variant.
        self.empty: set[str] = set()

    def whole(self, name: str) -> str | None:
        """The one entity the whole of ``name`` is a variant of, if any."""
        ids = self._match(name)
        return ids[0] if len(ids) == 1 else None

    def _match(self, name: str) -> tuple[str, ...]:
        k = _names.key(name)
        if len(k) >= _KEY_MIN and k in self._by_key:
            return self._by_key[k]
        ws = _names.words(name)
        candidates = self._by_sound.get(tuple(_names.sound(w) for w in ws), ())
        ids = tuple(dict.fromkeys(e for aw, e in candidates if _names.same_words(ws, aw)))
        return ids if len(ids) == 1 else ()  # two people alike: not safe to choose

    def resolve(self, span: str) -> tuple[tuple[int, int, tuple[str, ...]], ...]:
        """The variants in a run of capitalised words: (start, end, entity ids) of each,
        longest first and not overlapping, remembered per run."""
        known = self._resolved.get(span)
        if known is not None:
            return known
        bounds = [m.span() for m in re.finditer(r"\S+", span)]
        found: list[tuple[int, int, tuple[str, ...]]] = []
        used = [False] * len(bounds)
        for size in range(min(len(bounds), _VARIANT_WORDS), 0, -1):
            for first in range(len(bounds) - size + 1):
                last = first + size - 1
                if any(used[first : last + 1]):
                    continue
                a, b = bounds[first][0], bounds[last][1]
                words = span[a:b]
                written = _POSSESSIVE.sub("", words) in self._as_written
                # One word in capitals is an acronym or a dateline (SEOUL), not a variant.
                shouted = size == 1 and words.isupper()
                ids = () if written or shouted else self._match(words)
                if ids or written:
                    used[first : last + 1] = [True] * size
                if ids:
                    found.append((a, b, ids))
        result = tuple(sorted(found))
        if len(self._resolved) > 100_000:
            self._resolved.clear()
            self.empty.clear()
        self._resolved[span] = result
        if not result:
            self.empty.add(span)
        return result


def _entity_pattern(aliases: Iterable[str], *, ignore_case: bool = False) -> re.Pattern[str]:
    ordered = sorted(set(aliases), key=len, reverse=True)
    body = "|".join(re.escape(a) for a in ordered)
    return lazy_compile(rf"(?<![\w.-])(?:{body})(?![\w-])", re.IGNORECASE if ignore_case else 0)


def _aliases_pattern(aliases: Iterable[str]) -> re.Pattern[str]:
    """What ``_entity_pattern(aliases)`` matches, faster for many aliases: a trie instead of
    an alternation (the longest alias that fits is tried first, as in one sorted longest
    first), behind a set of the characters an alias starts with, which rules out most
    positions before the look-behind is tried."""
    words = sorted(set(aliases))
    if not words or "" in words:  # an empty alias matches the empty string: no trie for it
        return _entity_pattern(words)
    firsts = "".join(re.escape(ch) for ch in sorted({w[0] for w in words}))
    body = _trie(words, lower=False)
    return re.compile(rf"(?=[{firsts}])(?<![\w.-])(?:{body})(?![\w-])")


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


def load_lexicon_again(source: tuple[str, str | None, str | None], fingerprint: str) -> Lexicon:
    """The lexicon loaded from ``source`` (``Lexicon.source``) in this process, once (the
    loading is memoised), checked to be the one meant: an analysis worker's lexicon."""
    lexicon = _load(*source)
    if lexicon.fingerprint != fingerprint:
        raise SettingsError(
            "the domain data files changed while documents were being analysed; run the "
            "command again"
        )
    return lexicon


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


def _terms_of(key: str, value: object, what: str) -> tuple[str, ...]:
    entry = _table(value, f"{what}: {key}")
    if "terms" not in entry:
        raise SettingsError(f"{what}: {key} lacks terms = [...] (see docs/configuration.md)")
    return tuple(string_list(entry["terms"], f"{what}: {key}", "terms"))


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
    topics = {}
    for key, (value, what) in raw_topics.items():
        terms = _terms_of(key, value, what)
        table = _table(value, f"{what}: {key}")
        label = str(table.get("label", key))
        context = table.get("context", False)
        if not isinstance(context, bool):
            raise SettingsError(f"{what}: {key}: context must be true or false")
        pattern = _terms_pattern(terms, ignore_case=True)
        topics[key] = Topic(key, label, pattern, terms, context)
    entities = tuple(_entity(e, what) for e, what in raw_entities)
    cue_terms = {key: _terms_of(key, value, "cues") for key, value in raw_cues.items()}
    cues = {key: _terms_pattern(terms, ignore_case=True) for key, terms in cue_terms.items()}
    source = (folder, extra_entities, extra_topics)
    return Lexicon(topics, entities, cues, digest.hexdigest()[:16], cue_terms, source)
