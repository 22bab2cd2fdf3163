"""Who said what: attribute direct quotes and reported statements to their speakers.

Works on one document at a time, in order, because attribution needs context: "he said"
means the last named speaker, "the NSC official" means the person the article introduced
with that title, and an unattributed quote paragraph continues the previous speaker.
Anonymous sources stay anonymous: a descriptor is only resolved to a name when the article
itself names a person with matching distinctive words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from briefs.lexicon import Entity, Lexicon, _trie

SpeakerKind = Literal["person", "anonymous", "group", "organisation"]

_VERBS = (
    r"said|says|told|added|stressed|noted|warned|urged|underscored|reiterated|explained|"
    r"announced|insisted|claimed|argued|answered|characterized|demanded|denied|"
    r"welcomed|pointed to|pointed out|points? out|highlighted|called on|called for|"
    r"expressed|urges|accused|criticized|blamed|dismissed|reports|reported|"
    r"was quoted as saying|were quoted as saying"
)
_OPEN = '"“'
_CLOSE = '"”'
# '," Kirby said' / ',” they said' / '," the official said' / '," he added'
_POST_QUOTE = re.compile(
    rf"[,.?!…]?[\"”]\s+(?P<subj>(?:[\w.’'\[\]-]+\s+){{0,7}}?)(?P<verb>{_VERBS})\b"
)
# '," added Kirby' / ', said Kirby,'
_INVERTED = re.compile(rf",[\"”]?\s+(?:{_VERBS})\s+(?P<subj>[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)*)")
# 'quoted a U.S. official as saying'
_QUOTED_AS = re.compile(r"quoted\s+(?P<subj>.{3,60}?)\s+as\s+saying")
# 'X said ...', 'X told reporters ...', 'X added that ...', 'X warned ... that “...'
# (The verbs as a trie: no verb is another followed by a word boundary, so at most one can
# match at a position, and trying them in the trie's order finds the same one.)
_VERB_LIST = _VERBS.replace("points? out", "point out|points out").split("|")
_REPORTED = re.compile(rf"(?P<verb>\b(?:{_trie(_VERB_LIST, lower=False)}))\b")
_ACCORDING = re.compile(r"according to (?P<subj>(?:the )?[A-Z][\w’' -]{2,60}?)(?=[,.;]|$)")
_LEADING = re.compile(
    r"^(?:(?:but|and|so|however|now|meanwhile|then|also|is that|that)\s+)+", re.IGNORECASE
)
_TRAILING = re.compile(
    r"(?:\s+(?:also|further|later|again|previously|has|have|had|so far|is|was|were|will))+$",
    re.IGNORECASE,
)
_HEAD = re.compile(r"\b(officials?|spokes(?:person|man|woman)|secretary)\b")
_THE_THIS = re.compile(r"^(?:the|this)\b")
_THE_THIS_SPACE = re.compile(r"^(?:the|this)\s+")
_THE_OUR_SPACE = re.compile(r"^(?:the|our)\s+")
_OWNED = re.compile(r"(\w+[’']s\s+[\w ]+)$")
_INSTITUTION = re.compile(r"\b(?:government|ministry|ministers?|media|agency|office)\b")
_COORDINATED = re.compile(r"^(?P<subj>.+?)\s+\w+ed\b.*\band$")
_PASSIVE_END = re.compile(r"\b(?:was|were|is|are|been|be)\s*$")
_PASSIVE_BEFORE = re.compile(r"\b(?:is|are|was|were|been|be)\s+$")
_GAP = re.compile(r"\s*(?:(?:,|and|the)\s*)*")
_PRONOUN = re.compile(r"^(?:he|she|they|we)$", re.IGNORECASE)
_GENERIC = frozenset(
    "a an the senior us u.s. official officials source sources top local government "
    "spokesman spokeswoman spokesperson said also".split()
)
_EXPAND = {"nsc": "national security council", "u.s.": "us", "state department": "state department"}


@dataclass(frozen=True)
class Speaker:
    name: str
    kind: SpeakerKind
    entity_id: str | None = None


@dataclass(frozen=True)
class Attribution:
    """A sentence that quotes or reports someone."""

    position: int
    speaker: Speaker
    direct: bool  # a direct quotation (or its continuation), not reported speech


_EXPANSIONS = tuple(
    (short, re.compile(rf"(?<![\w.]){re.escape(short)}(?![\w])"), long)
    for short, long in _EXPAND.items()
)
_WORD = re.compile(r"[a-z][a-z.-]+")


@lru_cache(maxsize=20_000)
def _words(text: str) -> frozenset[str]:
    """The distinctive words of a descriptor ("NSC coordinator"), remembered per phrase."""
    text = text.lower()
    for short, pattern, long in _EXPANSIONS:
        if short in text:  # the pattern matches the short form as written, or nothing
            text = pattern.sub(long, text)
    return frozenset(w for w in _WORD.findall(text) if w not in _GENERIC)


@lru_cache(maxsize=10_000)
def _alias_pattern(alias: str) -> re.Pattern[str]:
    """``alias`` followed by a word boundary, compiled once per alias (not once per article)."""
    return re.compile(rf"{re.escape(alias)}\b")


_TITLE_WORDS_BEFORE = re.compile(r"(?:[A-Z][\w.]*\s+){1,6}$")
_APPOSITION_AFTER = re.compile(r",\s+([^,]{3,80}),")


def _descriptor_phrases(text: str, alias: str) -> Iterator[str]:
    """What an article calls a person around each mention of ``alias``: up to six capitalised
    words right before it ("NSC coordinator John Kirby"), else an apposition after it
    ("Kirby, the NSC coordinator,"). Found from the alias outward, since a scan of the whole
    text for capitalised runs costs more than the rest of the document's analysis."""
    after_last = 0
    for m in _alias_pattern(alias).finditer(text):
        if m.start() < after_last:
            continue  # inside the phrase of the previous mention
        before = text[max(after_last, m.start() - 120) : m.start()]
        titled = _TITLE_WORDS_BEFORE.search(before)
        if titled:
            after_last = m.end()
            yield titled.group(0)
            continue
        apposition = _APPOSITION_AFTER.match(text, m.end())
        if apposition:
            after_last = apposition.end()
            yield apposition.group(1)
        else:
            after_last = m.end()


def _written(entity: Entity) -> tuple[str, ...] | None:
    """Strings of which one must appear in a text, as written, for ``entity.pattern`` to match
    it (its aliases: the pattern is their case-sensitive alternation), or None when unknown."""
    return None if entity.pattern.flags & re.IGNORECASE else entity.aliases


class _Finder:
    """Which of some entities may match in a text, found by one scan of it for their aliases
    as written, instead of one pattern per entity (the patterns run only for those found).

    The scan finds, at each position, the longest alias starting there; every alias that
    occurs is a prefix of the longest at its position, so the aliases contained in the ones
    found are exactly the aliases in the text. An entity whose pattern ignores case (none
    that a lexicon file makes) is always kept.
    """

    def __init__(self, entities: Sequence[Entity]) -> None:
        self.entities = tuple(entities)
        self.always = frozenset(
            i for i, e in enumerate(self.entities) if e.pattern.flags & re.IGNORECASE
        )
        owners: dict[str, set[int]] = {}
        for i, entity in enumerate(self.entities):
            if i not in self.always:
                for alias in entity.aliases:
                    owners.setdefault(alias, set()).add(i)
        # For each alias, every entity with an alias inside it (itself included).
        self.within = {
            alias: frozenset(i for inner, ids in owners.items() if inner in alias for i in ids)
            for alias in owners
        }
        body = _trie([a for a in owners if a], lower=False) or "(?!)"
        self.scan = re.compile(f"(?=({body}))")

    def present(self, text: str) -> list[Entity]:
        """The entities, in their order, whose pattern may match in ``text``."""
        found = set(self.always)
        for m in self.scan.finditer(text):
            found |= self.within[m.group(1)]
        if not found:
            return []
        return [self.entities[i] for i in sorted(found)]


class _Cast:
    """The lexicon's people and bodies (states, organisations), with their finders, and what
    was found in each phrase asked about: built once per lexicon, not once per article.

    What a phrase names depends only on the phrase and the lexicon, and the same phrases
    ("he", "the official", "North Korea") come back article after article: each is worked
    out once and remembered (up to ``_REMEMBERED`` phrases per look-up).
    """

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.people = tuple(e for e in lexicon.entities if e.type == "person")
        self.bodies = tuple(e for e in lexicon.entities if e.type in {"state", "organisation"})
        self.people_written = tuple((p, _written(p)) for p in self.people)
        self._people_present = _Finder(self.people).present
        self._bodies_present = _Finder(self.bodies).present
        self._person_in: dict[str, Entity | None] = {}
        self._bodies_in: dict[str, tuple[Entity, ...]] = {}
        self._group_at_start: dict[str, Speaker | None] = {}

    def people_present(self, text: str) -> list[Entity]:
        """The people whose pattern may match in ``text`` (an alias of theirs is in it)."""
        return self._people_present(text)

    def person_in(self, phrase: str) -> Entity | None:
        """The named person a subject phrase names (not a possessive: "Shoigu’s visit")."""
        memo = self._person_in
        if phrase in memo:
            return memo[phrase]
        best: tuple[int, Entity] | None = None
        for person in self._people_present(phrase):
            for m in person.pattern.finditer(phrase):
                if phrase[m.end() : m.end() + 2] in {"’s", "'s"}:
                    continue
                if best is None or m.start() > best[0]:
                    best = (m.start(), person)
        if len(memo) >= _REMEMBERED:
            memo.clear()
        found = memo[phrase] = best[1] if best else None
        return found

    def bodies_in(self, phrase: str) -> tuple[Entity, ...]:
        """The states and bodies named in ``phrase``, in the order of their first mention."""
        memo = self._bodies_in
        cached = memo.get(phrase)
        if cached is not None:
            return cached
        found = []
        for body in self._bodies_present(phrase):
            m = body.pattern.search(phrase)
            if m:
                found.append((m.start(), body))
        if len(memo) >= _REMEMBERED:
            memo.clear()
        bodies = memo[phrase] = tuple(b for _, b in sorted(found, key=lambda x: x[0]))
        return bodies

    def group_at_start(self, phrase: str) -> Speaker | None:
        """A subject that opens with a list of states or bodies: "Pyongyang and Moscow ..."."""
        memo = self._group_at_start
        if phrase in memo:
            return memo[phrase]
        # By position only: two bodies may share an alias (a user's "Moscow" beside the
        # shipped Russia's), and entities have no order; ties keep the lexicon's order.
        spans = sorted(
            (
                (m.start(), m.end(), body)
                for body in self._bodies_present(phrase)
                for m in body.pattern.finditer(phrase)
            ),
            key=lambda span: (span[0], span[1]),
        )
        members: list[Entity] = []
        position = 0
        for start, end, body in spans:
            gap = phrase[position:start]
            if start < position or not _GAP.fullmatch(gap):
                break
            if body not in members:
                members.append(body)
            position = end
        group = None
        if len(members) >= 2:
            names = [b.name for b in members]
            group = Speaker(", ".join(names[:-1]) + " and " + names[-1], "group")
        if len(memo) >= _REMEMBERED:
            memo.clear()
        memo[phrase] = group
        return group


_REMEMBERED = 20_000


@lru_cache(maxsize=20_000)
def _bare(phrase: str) -> str:
    """A subject phrase without its quotation marks, leading "but"/"and"..., trailing
    "also"/"has"... (remembered per phrase)."""
    phrase = _LEADING.sub("", phrase.strip(' ,—–-"“”'))
    return _TRAILING.sub("", phrase).strip()


class _Context:
    """What the article has told us so far, to resolve pronouns and descriptors."""

    def __init__(self, sentences: Sequence[str], lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.cast = lexicon.derived(_Cast)
        self.people = self.cast.people
        self.bodies = self.cast.bodies
        self.last_person: Speaker | None = None
        self.last_group: Speaker | None = None
        self.last_official: Speaker | None = None
        self.last_speaker: Speaker | None = None
        self.history: list[Speaker] = []
        self.raw_descriptors: dict[str, set[str]] = {}
        # Descriptor words the article attaches to each named person ("NSC coordinator").
        self.descriptors: dict[str, set[str]] = {}
        text = " ".join(sentences)
        # An alias must appear as written for the pattern to match: most people are not in a
        # given article, and one scan for every alias (``_Finder``) rules them out without a
        # pattern each; for the others the pattern is searched from the first alias found,
        # not the article's start.
        present = {id(p) for p in self.cast.people_present(text)}
        for person, aliases in self.cast.people_written:
            if id(person) not in present:
                continue
            if aliases is None:
                first = 0
            else:
                found = [at for at in map(text.find, aliases) if at >= 0]
                if not found:
                    continue
                first = min(found)
            if person.pattern.search(text, first) is None:
                continue
            words = set(_words(person.role or ""))
            raw = set((person.role or "").lower().split())
            for alias in person.aliases:
                for phrase in _descriptor_phrases(text, alias):
                    words |= _words(phrase)
                    raw |= set(phrase.lower().split())
            self.descriptors[person.id] = words
            self.raw_descriptors[person.id] = raw

    def person_in(self, phrase: str) -> Entity | None:
        return self.cast.person_in(phrase)

    def bodies_in(self, phrase: str) -> tuple[Entity, ...]:
        return self.cast.bodies_in(phrase)

    def group_at_start(self, phrase: str) -> Speaker | None:
        return self.cast.group_at_start(phrase)

    def by_descriptor(self, phrase: str) -> Speaker | None:
        wanted = _words(phrase)
        if not wanted:
            return None
        best: tuple[int, Entity] | None = None
        for person in self.people:
            overlap = len(wanted & self.descriptors.get(person.id, set()))
            if overlap and (best is None or overlap > best[0]):
                best = (overlap, person)
        if best is None:
            return None
        return Speaker(best[1].name, "person", best[1].id)

    def resolve(self, phrase: str) -> Speaker | None:
        """Turn a subject phrase into a speaker, or None when it names nobody."""
        phrase = _bare(phrase)
        if not phrase:
            return None
        person = self.person_in(phrase)
        if person is not None:
            return Speaker(person.name, "person", person.id)
        last_word = phrase.split()[-1].lower()
        if _PRONOUN.match(last_word):
            if last_word in {"they", "we"}:
                return self.last_group or self.last_person
            return self.last_person
        lower = phrase.lower()
        head = _HEAD.search(lower)
        if head:
            named = self.by_descriptor(phrase)
            if named is not None:
                return named
            if _THE_THIS.match(lower):
                recent = self.recent_with(head.group(1))
                if recent is not None:
                    return recent
            label = _THE_THIS_SPACE.sub("a ", phrase)
            return Speaker(label, "anonymous")
        bodies = self.bodies_in(phrase)
        if len(bodies) >= 2 and (" and " in phrase or "," in phrase):
            return Speaker(
                ", ".join(b.name for b in bodies[:-1]) + " and " + bodies[-1].name, "group"
            )
        if bodies:
            owned = _OWNED.search(phrase) if "s" in phrase else None
            if owned:  # "Russia’s defense ministry": a body of a state, named as printed
                return Speaker(owned.group(1), "organisation", bodies[0].id)
            return Speaker(bodies[0].name, "organisation", bodies[0].id)
        if _INSTITUTION.search(lower):
            return Speaker(_THE_OUR_SPACE.sub("", phrase), "organisation")
        return None

    def recent_with(self, noun: str) -> Speaker | None:
        """The most recent speaker described by ``noun`` ("the spokesperson", "the official")."""
        stem = noun.rstrip("s")
        for speaker in reversed(self.history):
            if speaker.kind == "anonymous" and stem in speaker.name.lower():
                return speaker
            if speaker.kind == "person" and any(
                w.startswith(stem) for w in self.raw_descriptors.get(speaker.entity_id or "", set())
            ):
                return speaker
        return None

    def remember(self, speaker: Speaker) -> None:
        self.last_speaker = speaker
        self.history.append(speaker)
        if speaker.kind == "person":
            self.last_person = speaker
        elif speaker.kind == "group":
            self.last_group = speaker
        if speaker.kind == "anonymous" or (
            speaker.kind == "person"
            and "official" in self.descriptors.get(speaker.entity_id or "", set())
        ):
            self.last_official = speaker


def _subject_before(text: str) -> str:
    """The subject phrase of a clause ending just before its verb.

    Drops a trailing appositive ("John Kirby, NSC coordinator, said" -> "John Kirby") but keeps
    the appositive when the head names no one ("The US top diplomat, Antony Blinken, said").
    """
    text = text.rstrip()
    # Cut at the last quotation mark: what follows it is the attribution clause.
    cut = max(text.rfind(ch) for ch in _CLOSE + _OPEN)
    if cut >= 0:
        text = text[cut + 1 :]
    segments = [s.strip() for s in text.split(",")]
    if len(segments) >= 3 and segments[-1] == "":
        head, appositive = segments[-3], segments[-2]
        return head + " ,APPOS, " + appositive
    trailing = [s for s in segments if s]
    if not trailing:
        return ""
    # A list of states or organisations ("the United States, United Kingdom ... and Japan").
    return ", ".join(trailing[-4:]) if " and " in trailing[-1] else trailing[-1]


def _resolve_subject(ctx: _Context, subject: str) -> Speaker | None:
    if ",APPOS," in subject:
        head, appositive = subject.split(",APPOS,")
        return (
            ctx.resolve(head)
            if ctx.person_in(head)
            else (ctx.resolve(appositive) or ctx.resolve(head))
        )
    group = ctx.group_at_start(_LEADING.sub("", subject.strip()))
    if group is not None:
        return group
    stripped = subject.strip()
    # The pattern ends with "and" at the very end: nothing else can match it.
    coordinated = _COORDINATED.match(stripped) if stripped.endswith("and") else None
    if coordinated:
        # "our government summoned the ambassador and demanded ...": the subject comes first.
        return ctx.resolve(coordinated.group("subj"))
    words = subject.split()
    # The subject sits right before the verb, unless the clause opens with a state or body
    # and names no person ("North Korea is a staunch supporter of Russia and has ...").
    speaker = ctx.resolve(" ".join(words[-8:]))
    if speaker is None or speaker.kind == "organisation":
        opening = _LEADING.sub("", subject.strip())
        bodies = ctx.bodies_in(opening)
        opens = bool(bodies) and bodies[0].pattern.match(opening) is not None
        if opens and (speaker is None or speaker.entity_id != bodies[0].id):
            return Speaker(bodies[0].name, "organisation", bodies[0].id)
    return speaker


_CREDIT = re.compile(r"\(([^()]{3,120})\)\s*[.!?]?\s*$")


def _attribution_in(ctx: _Context, sentence: str) -> tuple[Speaker, bool] | None:
    """The speaker a sentence names, and whether it is tied to a direct quotation."""
    # Each pattern below needs a character or word the sentence may lack: checked first.
    credit = _CREDIT.search(sentence) if ")" in sentence else None
    if credit:
        # "Experts also point out that ... (Ewha Womans University Professor Park Won-gon)."
        person = ctx.person_in(credit.group(1))
        if person is not None:
            return Speaker(person.name, "person", person.id), False
    closes = '"' in sentence or "”" in sentence
    for m in _POST_QUOTE.finditer(sentence) if closes else ():
        if _PASSIVE_END.search(m.group("subj")) and not m.group("verb").startswith(
            ("was quoted", "were quoted")
        ):
            continue  # passive: '..." he was accused of ...' names no speaker
        speaker = ctx.resolve(m.group("subj")) if m.group("subj").strip() else None
        if speaker:
            return speaker, True
    for pattern, needs in ((_INVERTED, ","), (_QUOTED_AS, "quoted")):
        found = pattern.search(sentence) if needs in sentence else None
        speaker = ctx.resolve(found.group("subj")) if found else None
        if speaker:
            return speaker, True
    question = sentence.rstrip("\"”’' ").endswith("?")
    for m in _REPORTED.finditer(sentence):
        before = sentence[: m.start()]
        if question or _PASSIVE_BEFORE.search(before):
            continue  # "What has Russia said?", "North Korea is said to have ..."
        if before.count('"') % 2 == 1 or before.count("“") > before.count("”"):
            continue  # the verb is inside a quotation
        speaker = _resolve_subject(ctx, _subject_before(before))
        if speaker:
            direct = any(ch in sentence[m.end() :] for ch in _OPEN)
            return speaker, direct
    according = _ACCORDING.search(sentence) if "according to " in sentence else None
    speaker = ctx.resolve(according.group("subj")) if according else None
    return (speaker, False) if speaker else None


def _quote_spans(sentences: Sequence[str], paragraphs: Sequence[int]) -> list[list[int]]:
    """Group sentences joined by one open quotation (it never crosses a paragraph)."""
    spans: list[list[int]] = []
    open_quote = False
    for i, sentence in enumerate(sentences):
        if i and paragraphs[i] != paragraphs[i - 1]:
            open_quote = False
        if open_quote and spans:
            spans[-1].append(i)
        else:
            spans.append([i])
        straight = sentence.count('"')
        opened = sentence.count("“") - sentence.count("”")
        if straight % 2 == 1:
            open_quote = not open_quote
        elif opened > 0:
            open_quote = True
        elif opened < 0:
            open_quote = False
    return spans


def _has_quote(sentence: str) -> bool:
    return any(ch in sentence for ch in _OPEN + "”")


def attribute(
    sentences: Sequence[str], paragraphs: Sequence[int], lexicon: Lexicon
) -> list[Attribution]:
    """Attributions for one document's sentences, in order."""
    ctx = _Context(sentences, lexicon)
    out: list[Attribution] = []
    for span in _quote_spans(sentences, paragraphs):
        found: tuple[Speaker, bool] | None = None
        for i in span:
            found = _attribution_in(ctx, sentences[i])
            if found:
                break
        quoted = any(_has_quote(sentences[i]) for i in span) or len(span) > 1
        if found is None:
            starts_quote = sentences[span[0]].lstrip()[:1] in _OPEN
            if starts_quote and ctx.last_speaker is not None:
                # A quote paragraph with no attribution continues the previous speaker.
                found = (ctx.last_speaker, True)
            else:
                continue
        speaker, direct = found
        ctx.remember(speaker)
        for i in span:
            out.append(Attribution(i, speaker, direct and quoted))
    return out
