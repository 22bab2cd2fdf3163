"""Event clustering: which story a newly analysed document reports (docs/architecture.md,
"Stories").

Pure decisions, no I/O: the pipeline reads what identifies an event from the store (title,
lead, the body's term signature, canonical entity ids, resolved dates) and asks here which
story the document joins, and which stories it shows to be one.

A document is a weighted vector: its title and lead weigh more than its body, each word by
how rare it is in English at large (wordfreq: sensible on a small or new store) damped by how
common it is in the store (boilerplate of one domain, "Treasury", "designated"), plus shared
entity ids and numbers. A title's series affixes (what a feed puts on many of its items,
"Roundup: Market Talk", "Watch live:") are left out: they name a column, not an event. It
joins the story whose centroid (the sum of its members' vectors) it is nearest, if near enough
once a time decay is applied, or a little less near when it shares several marks (entity ids,
numbers, rare title words) with the story's members; a story is never one document.
"""

from __future__ import annotations

import heapq
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any

from briefs.terms import STOPWORDS

# Weights of a term's occurrences by where it is: the title and lead say what the event is.
TITLE_WEIGHT = 3.0
LEAD_WEIGHT = 2.0
BODY_WEIGHT = 1.0
# A canonical entity id and a number (not a year) count as one rare term each.
ENTITY_WEIGHT = 2.0
NUMBER_WEIGHT = 2.0
# Inverse frequency from wordfreq's Zipf scale (log10 of a word per billion): a word of zipf
# z weighs (9 - z), within these bounds (an unknown word is a name or a misspelling).
MIN_IDF = 1.0
MAX_IDF = 7.0
# A term in more than 1 in STORE_COMMON sampled documents of the store is damped (by the
# log ratio), to at least DAMP_FLOOR; a store of fewer than STORE_MIN documents damps nothing.
STORE_COMMON = 4.0
DAMP_FLOOR = 0.15
STORE_MIN = 30
# Similarity (cosine, after decay) to a story's centroid to join it, and between two stories'
# centroids for a document near both to merge them.
JOIN = 0.35
MERGE = 0.40
# A document sharing at least EVIDENT marks with a story (entity ids, numbers, rare title
# words: ``evidence``) joins it at JOIN_EVIDENT already: many agreeing marks say more than a
# cosine diluted by a long or a short text. A title word is rare at a weight of RARE or more.
JOIN_EVIDENT = 0.28
EVIDENT = 4
RARE = 5.0
# A document and a story whose event dates are more than DECAY_GRACE days apart lose
# similarity by exp(-(days - grace) / DECAY_DAYS).
DECAY_GRACE = 1
DECAY_DAYS = 2.0
# Terms kept in a story centroid: a story of hundreds of documents costs no more than this.
CENTROID_TERMS = 300
# Heaviest terms of a document by which it is indexed, and looked up, for candidate stories.
POSTING_TERMS = 12
# Characters of the body read as its lead (cut at a sentence end).
LEAD_CHARS = 400
# A feed's series title ("Health Care Roundup: Market Talk", "Watch live: ...", "... - AFP"):
# a title's start or end, at most SERIES_WORDS words with a separator (":", "|", a dash) in or
# beside them, that begins or ends at least SERIES_MIN titles of one publisher. It says which
# column an item is in, not what happened: it is left out of the title's words.
SERIES_MIN = 3
SERIES_WORDS = 4

_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s+(million|billion))?\b")
_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
_WORD_NUMBER = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.I)
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_COMBINING = re.compile("[\u0300-\u036f]")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*\s")
# A title's words and separators (a colon, a bar, a dash between spaces), one token each.
_TITLE_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|[:|]|(?<=\s)[-–—](?=\s)|[–—]")
SEPARATOR = "|"

Vector = dict[str, float]


@dataclass(frozen=True)
class EventInput:
    """What identifies a document's event, as the store holds it."""

    title: str
    lead: str
    body: str  # the body's first part (the lead included)
    entities: frozenset[str] = frozenset()
    published: date | None = None
    # Resolved dates of day precision named in the title or lead (the event's own date).
    dates: tuple[date, ...] = ()
    # Who publishes it: its series titles are that publisher's (``Background.series``).
    publisher: str | None = None


@dataclass(frozen=True)
class Background:
    """How common terms and entities are in the store (a sample of it)."""

    documents: int = 0
    term_df: Mapping[str, int] = field(default_factory=dict)
    entity_df: Mapping[str, int] = field(default_factory=dict)
    # Each publisher's series title affixes (``series_affixes``).
    series: Mapping[str, frozenset[tuple[str, ...]]] = field(default_factory=dict)
    # Each word's weight once computed (``weight``).
    _weights: dict[str, float] = field(default_factory=dict, compare=False, repr=False)

    def weight(self, word: str) -> float:
        """A word's rarity in English, damped by how common it is in the store (whose
        sample counts terms as ``rank.terms`` cuts them: 7 letters)."""
        found = self._weights.get(word)
        if found is None:
            found = self._weights[word] = idf(word) * self.damp(self.term_df.get(word[:7], 0))
        return found

    def damp(self, df: int) -> float:
        """1 for a term rare in the store, less for one in many of its documents."""
        if self.documents < STORE_MIN or df * STORE_COMMON <= self.documents:
            return 1.0
        ratio = math.log((self.documents + 1) / (df + 1)) / math.log(STORE_COMMON)
        return max(DAMP_FLOOR, min(1.0, ratio))


def _title_spans(title: str) -> list[tuple[str, int, int]]:
    """A title's tokens (``title_tokens``), each with where it is in the title."""
    out = []
    for m in _TITLE_TOKEN.finditer(title):
        token = m.group().lower()
        out.append((_plain(token) if token[0].isalnum() else SEPARATOR, m.start(), m.end()))
    return out


def title_tokens(title: str) -> list[str]:
    """A title's lower-cased words and separators (each as ``SEPARATOR``), accents and
    typographic apostrophes folded."""
    return [t for t, _, _ in _title_spans(title)]


def title_affixes(tokens: Sequence[str]) -> set[tuple[str, ...]]:
    """A title's starts and ends that may be a series' (``SERIES_MIN``): at most
    ``SERIES_WORDS`` words, with a separator among or beside them, and not the whole title.
    A start is keyed by a leading ``"<"``, an end by ``">"``."""
    out: set[tuple[str, ...]] = set()
    limit = len(tokens) - 1
    words_in = 0
    for k in range(1, limit + 1):
        words_in += tokens[k - 1] != SEPARATOR
        if words_in > SERIES_WORDS:
            break
        if SEPARATOR in tokens[:k] or tokens[k] == SEPARATOR:
            out.add(("<", *tokens[:k]))
    words_in = 0
    for k in range(1, limit + 1):
        words_in += tokens[-k] != SEPARATOR
        if words_in > SERIES_WORDS:
            break
        if SEPARATOR in tokens[-k:] or tokens[-k - 1] == SEPARATOR:
            out.add((">", *tokens[-k:]))
    return out


def series_affixes(
    titles: Iterable[tuple[str, str | None]],
) -> dict[str, frozenset[tuple[str, ...]]]:
    """Each publisher's series title affixes, from (title, publisher) pairs of the store."""
    counts: dict[str, dict[tuple[str, ...], int]] = {}
    for title, publisher in titles:
        if not publisher:
            continue
        mine = counts.setdefault(publisher, {})
        for affix in title_affixes(title_tokens(title)):
            mine[affix] = mine.get(affix, 0) + 1
    out: dict[str, frozenset[tuple[str, ...]]] = {}
    for publisher, mine in counts.items():
        found = frozenset(a for a, n in mine.items() if n >= SERIES_MIN)
        if found:
            out[publisher] = found
    return out


def without_series(title: str, series: frozenset[tuple[str, ...]]) -> str:
    """The title less its longest series start and longest series end (the rest as written)."""
    if not series:
        return title
    spans = _title_spans(title)
    tokens = [t for t, _, _ in spans]
    start, end = 0, len(tokens)
    for k in range(len(tokens) - 1, 0, -1):
        if ("<", *tokens[:k]) in series:
            start = k
            break
    for k in range(len(tokens) - start - 1, 0, -1):
        if (">", *tokens[-k:]) in series:
            end = len(tokens) - k
            break
    if start == 0 and end == len(tokens):
        return title
    while start < end and tokens[start] == SEPARATOR:
        start += 1
    while end > start and tokens[end - 1] == SEPARATOR:
        end -= 1
    return title[spans[start][1] : spans[end - 1][2]] if start < end else ""


@cache
def _frequencies() -> Mapping[str, float]:
    """wordfreq's English word frequencies, loaded once per process."""
    from wordfreq import get_frequency_dict

    return get_frequency_dict("en", wordlist="best")


@lru_cache(maxsize=200_000)
def idf(word: str) -> float:
    """How much a shared word says two texts report the same thing: the rarer in English at
    large, the more (wordfreq, so a new store weighs words as sensibly as an old one). From
    the word's Zipf frequency z (log10 of its uses per billion words): 9 - z, bounded."""
    freq = _frequencies().get(word)
    zipf = math.log10(freq) + 9.0 if freq else 0.0
    return max(MIN_IDF, min(MAX_IDF, 9.0 - zipf))


@cache
def _stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball stem (freezes, freezing -> freez): one event's reports inflect alike."""
    return str(_stemmer().stemWord(word))


def words(text: str) -> list[str]:
    """Lower-cased content words, accents and typographic apostrophes folded (Sinéad
    O’Connor is Sinead O'Connor), stop words and possessive 's left out."""
    folded = _plain(text.lower())
    return [w for w in _WORD.findall(folded) if w not in STOPWORDS and len(w) >= 2]


def _plain(text: str) -> str:
    """``text`` without accents, typographic apostrophes as ASCII ones (ASCII as it is)."""
    if text.isascii():
        return text
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text.translate(_APOSTROPHES)))


def lead_of(body: str) -> str:
    """The first sentences of a body, within ``LEAD_CHARS`` (at least its first sentence)."""
    head = body[: LEAD_CHARS + 200]
    cut = 0
    for m in _SENTENCE_END.finditer(head):
        if cut and m.end() > LEAD_CHARS:
            break
        cut = m.end()
    return head[:cut] if cut else body[:LEAD_CHARS]


def numbers(text: str) -> set[str]:
    """Numbers a text states ("1,000 containers", "three entities"), years left out: shared
    figures mark the same event."""
    out: set[str] = set()
    for m in _NUMBER.finditer(text):
        raw = m.group(1).replace(",", "")
        value = float(raw)
        if m.group(2):
            value *= 1e6 if m.group(2) == "million" else 1e9
        elif "." not in raw and 1900 <= value <= 2100:
            continue  # a year
        out.add(f"{value:g}")
    for m in _WORD_NUMBER.finditer(text):
        value = _NUMBER_WORDS[m.group(1).lower()]
        if value >= 2:
            out.add(str(value))
    return out


def own_title(doc: EventInput, background: Background) -> str:
    """The document's title less its publisher's series affixes (``series_affixes``)."""
    series = background.series.get(doc.publisher) if doc.publisher is not None else None
    return without_series(doc.title, series) if series else doc.title


def evidence(doc: EventInput, background: Background, vec: Vector) -> frozenset[str]:
    """A document's marks, what two reports of one event share beyond common words: its
    entity ids and numbers (the vector's ``@`` and ``#`` terms), and the stems of its own
    title's rare words (``RARE``)."""
    out = {t for t in vec if t[0] in "@#"}
    out.update(stem(w) for w in words(own_title(doc, background)) if background.weight(w) >= RARE)
    return frozenset(out)


def vector(doc: EventInput, background: Background) -> Vector:
    """The document's unit vector: terms weighted by place and rarity, entities, numbers (its
    title's series affixes left out)."""
    raw: dict[str, float] = {}
    rarity: dict[str, float] = {}
    rest = doc.body[len(doc.lead) :] if doc.body.startswith(doc.lead) else doc.body
    title = own_title(doc, background)
    for text, weight in ((title, TITLE_WEIGHT), (doc.lead, LEAD_WEIGHT), (rest, BODY_WEIGHT)):
        for word in words(text):
            term = stem(word)
            raw[term] = raw.get(term, 0.0) + weight
            if term not in rarity:
                rarity[term] = background.weight(word)
    out: Vector = {t: math.log1p(w) * rarity[t] for t, w in raw.items()}
    # In a fixed order (sets iterate by hash, which varies between runs): the same floats.
    for entity in sorted(doc.entities):
        out[f"@{entity}"] = (
            ENTITY_WEIGHT * MAX_IDF / 2 * background.damp(background.entity_df.get(entity, 0))
        )
    small = {"2", "3", "4", "5", "6", "7", "8", "9", "10"}
    for number in sorted(numbers(f"{title}\n{doc.lead}")):
        out[f"#{number}"] = NUMBER_WEIGHT * (MAX_IDF / 4 if number in small else MAX_IDF / 2)
    return _unit(out)


def _unit(vec: Vector) -> Vector:
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {t: v / norm for t, v in vec.items()}


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b[t] for t, v in a.items() if t in b)


@dataclass(frozen=True)
class Features:
    """What clustering compares of a document (``features`` makes it)."""

    vector: Vector
    day: date | None
    # Its heaviest terms (``top_terms``): its entries in the index of ``Clusters``.
    top: tuple[str, ...] = ()
    # Its marks (``evidence``): entity ids, numbers, rare title words.
    evidence: frozenset[str] = frozenset()


def features(doc: EventInput, background: Background) -> Features:
    vec = vector(doc, background)
    return Features(vec, event_day(doc), tuple(top_terms(vec)), evidence(doc, background, vec))


def event_day(doc: EventInput) -> date | None:
    """When the event happened: a resolved date the title or lead names, if it is at most a
    week before publication, else the publication date."""
    if doc.published is None:
        return None
    near = [d for d in doc.dates if 0 <= (doc.published - d).days <= 7]
    return min(near) if near else doc.published


@dataclass
class Story:
    """A story as clustering sees it: the sum of its members' vectors (its centroid's
    direction), and its members' event days."""

    story_id: str
    total: Vector = field(default_factory=dict)
    members: set[str] = field(default_factory=set)
    days: set[date] = field(default_factory=set)
    # When its earliest member was published: the older of two merged stories keeps its id.
    first: date | None = None
    # Its members' marks (``Features.evidence``).
    evidence: set[str] = field(default_factory=set)
    _unit: Vector | None = None
    # The squared length of ``total``, kept as it grows (the centroid's cosine needs it).
    _sumsq: float = 0.0

    def add(self, doc_id: str, doc: Features) -> None:
        if doc_id in self.members:
            return
        self.members.add(doc_id)
        self.evidence |= doc.evidence
        day = doc.day
        total = self.total
        sumsq = self._sumsq
        for t, v in doc.vector.items():
            old = total.get(t, 0.0)
            total[t] = new = old + v
            sumsq += new * new - old * old
        self._sumsq = sumsq
        if len(total) > CENTROID_TERMS * 3:
            kept = sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))[:CENTROID_TERMS]
            self.total = dict(kept)
            self._sumsq = sum(v * v for _, v in kept)
        if day is not None:
            self.days.add(day)
            self.first = day if self.first is None else min(self.first, day)
        self._unit = None

    def absorb(self, other: Story) -> None:
        """Take ``other``'s members in (a merge)."""
        total = self.total
        for t, v in other.total.items():
            total[t] = total.get(t, 0.0) + v
        self.members |= other.members
        self.evidence |= other.evidence
        self.days |= other.days
        if other.first is not None:
            self.first = other.first if self.first is None else min(self.first, other.first)
        self._unit = None
        self._sumsq = sum(v * v for v in total.values())

    def similarity(self, vec: Vector) -> float:
        """The cosine of a unit vector with the story's centroid."""
        total = self.total
        dot = sum([v * total[t] for t, v in vec.items() if t in total])
        return dot / (math.sqrt(max(self._sumsq, 0.0)) or 1.0)

    def centroid(self) -> Vector:
        if self._unit is None:
            self._unit = _unit(self.total)
        return self._unit


def decay(day: date | None, days: Iterable[date]) -> float:
    """1 for events within ``DECAY_GRACE`` days of one of the story's, less the further."""
    if day is None:
        return 1.0
    gap = min((abs((day - d).days) for d in days), default=0)
    return math.exp(-max(0, gap - DECAY_GRACE) / DECAY_DAYS)


def score(doc: Features, story: Story) -> float:
    """The document's similarity to the story's centroid, decayed by time."""
    return story.similarity(doc.vector) * decay(doc.day, story.days)


@dataclass(frozen=True)
class Decision:
    """The story a document joins (None: it starts its own), and stories to merge into it."""

    story_id: str | None
    merged: tuple[str, ...] = ()


def older(a: Story, b: Story) -> Story:
    """Which of two merging stories keeps its id: the one whose first member was published
    first (ties: the smaller id), so an id already shown keeps being shown."""
    key_a = (a.first or date.max, a.story_id)
    key_b = (b.first or date.max, b.story_id)
    return a if key_a <= key_b else b


def near_enough(sim: float, doc: Features, story: Story) -> bool:
    """Whether a document this similar to a story (``score``) may join it: at ``JOIN``, or
    at ``JOIN_EVIDENT`` when it shares ``EVIDENT`` marks with the story's members."""
    if sim >= JOIN:
        return True
    return sim >= JOIN_EVIDENT and len(doc.evidence & story.evidence) >= EVIDENT


def decide(doc: Features, stories: Sequence[Story]) -> Decision:
    """Join the story whose centroid is nearest (``JOIN`` at least); when the document is that
    near to other stories too, and their centroids are ``MERGE`` alike, it bridges them: they
    merge, the oldest keeping its id."""
    scored = sorted(((score(doc, s), s) for s in stories), key=lambda p: (-p[0], p[1].story_id))
    near = [s for sim, s in scored if near_enough(sim, doc, s)]
    if not near:
        return Decision(None)
    best = near[0]
    bridged = [s for s in near[1:] if cosine(best.centroid(), s.centroid()) >= MERGE]
    if not bridged:
        return Decision(best.story_id)
    keeper = best
    for s in bridged:
        keeper = older(keeper, s)
    merged = tuple(s.story_id for s in [best, *bridged] if s is not keeper)
    return Decision(keeper.story_id, merged)


def top_terms(vec: Vector, n: int = POSTING_TERMS) -> list[str]:
    """A vector's ``n`` heaviest terms (ties in the vector's order): what finds its
    candidate stories."""
    return [t for t, _ in heapq.nlargest(n, vec.items(), key=itemgetter(1))]


@dataclass
class Clusters:
    """The stories seen so far, with an index from each member's heaviest terms to its
    story: a document is compared only with stories that share one of its own heaviest
    terms, so the cost does not grow with the stories in a busy window (a similarity of
    ``JOIN`` needs shared weight, which the heaviest terms carry)."""

    stories: dict[str, Story] = field(default_factory=dict)
    postings: dict[str, set[str]] = field(default_factory=dict)

    def add(self, story_id: str, doc_id: str, doc: Features) -> None:
        story = self.stories.get(story_id)
        if story is None:
            story = self.stories[story_id] = Story(story_id)
        elif doc_id in story.members:
            return
        story.add(doc_id, doc)
        for term in doc.top:
            self.postings.setdefault(term, set()).add(story_id)

    def candidates(self, doc: Features, allowed: Iterable[str]) -> list[Story]:
        """Stories among ``allowed`` (those near in time) sharing a heavy term with ``doc``,
        by id."""
        found: set[str] = set()
        for term in doc.top:
            found |= self.postings.get(term, set())
        return [self.stories[s] for s in sorted(found.intersection(allowed))]

    def merge(self, keeper: str, loser: str) -> None:
        """Story ``loser`` joins ``keeper`` (its index entries point to ``keeper`` now)."""
        gone = self.stories.pop(loser)
        self.stories[keeper].absorb(gone)
        for ids in self.postings.values():
            if loser in ids:
                ids.discard(loser)
                ids.add(keeper)
