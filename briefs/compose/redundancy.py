"""Near-repeats: two statements that report the same event in other words.

Term similarity (``briefs.compose.rank``) misses a repeat told in other words ("began supplying
weapons" and "has begun sending artillery"), and a repeat wrapped in a different attribution
("..., a senior US official said Thursday"). Here a statement is reduced to what it reports:
its content words without the attribution (the quoted words of a quote; the rest without
the speaker's name), each cut to a stem and folded into a class of words that report the
same thing in this domain (supply, send, provide: a transfer). A statement is a near-repeat
of the brief so far when it shares a predicate class (what happens: a transfer, a concern,
talks) with one chosen statement, and little of what it says is new to the chosen ones
together. Pure, and cheap: sets of strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from briefs.terms import STOPWORDS, terms

# Word stems (``rank.terms`` cuts words to 7 letters; a stem here matches a term that starts
# with it, one ending in "$" only that very term: "sent", not "sentence") folded into one
# class: ways of reporting the same kind of event. Predicate classes say what happens; a
# shared one is what makes two statements candidates for a repeat.
PREDICATES: dict[str, tuple[str, ...]] = {
    "transfer": (
        "suppl",
        "send",
        "sent$",
        "provid",
        "provisi",
        "deliver",
        "ship$",
        "ships$",
        "shipped",
        "shipmen",
        "transfer",
        "export",
        "sell",
        "sold$",
        "funnel",
        "trade",
        "trading",
    ),
    "begin": ("began", "begun", "begin", "start"),
    "concern": ("concern", "worr", "alarm", "monitor", "watchin"),
    "talks": ("negotia", "talks", "discuss"),
    "visit": ("visit", "trip$", "trips$", "travel"),
    "meet": ("meet", "met$", "summit"),
    "violate": ("violat", "breach"),
    "deny": ("deny", "denied", "denies", "denial", "dismiss", "rejecte", "groundle"),
    "warn": ("warn", "caution"),
    "sanction": ("sanctio", "designa", "blackli"),
    "launch": ("launch", "fired$", "fire$", "fires$", "firing$"),
    "help": ("help", "assist", "support"),
    "seek": ("seek", "sought", "acquir", "obtain", "looking"),
}
# Generic names of what events are about, folded like predicates (sharing one alone does not
# make a repeat). Specific ones (artillery, ammunition, satellites) stay words: they are news.
OBJECTS: dict[str, tuple[str, ...]] = {
    "arms": ("weapon", "arms", "armamen"),
    "cooperation": ("coopera", "relatio", "ties$"),
}
# A near-repeat says at most this share of new units (terms and classes) against the
# statements already chosen together.
MAX_NOVELTY = 0.4
# Words that report or frame rather than say something (the attribution is dropped before).
_FRAME = frozenset(
    {
        "noted",
        "stresse",
        "undersc",
        "accordi",
        "quoted",
        "stated",
        "reporte",
        "report",
        "reports",
        "adding",
        "possibl",
        "potenti",
        "obvious",
        "certain",
        "clearly",
        "closely",
        "also",
        "still",
        "yet",
        "any",
        "such",
        "there",
        "both",
        "two",
        "countri",
    }
)
# Numbers (digits, number words): a statement with one the statements it resembles do not
# have adds a fact ("three firms" after "four banks"). Names do not count: outlets name their
# sources and agencies around the same fact.
_ANCHOR = re.compile(
    r"\b(?:\d[\d,.]*|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"dozens?|hundreds?|thousands?|millions?|billions?)\b"
)
_QUOTED = re.compile(r"[\"“]([^\"“”]{12,})[\"”]")
_REPORTING = r"(?:said|says|told|added|noted|stressed|underscored|warned|highlighted)"
# "..., a senior US official said Thursday, ..." and "The NSC official noted that ...".
_ATTRIBUTION = re.compile(
    rf",\s+(?:an?|the|{_REPORTING})\b[^,\"“”]{{0,80}}?\b{_REPORTING}\b[^,.;\"“”]*"
    rf"|^(?:an?|the)\b[^,\"“”]{{0,60}}?\b{_REPORTING}\s+(?:that\s+)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Gist:
    """What a statement reports: its content units, which of them are predicates, and its
    numbers (``anchors``)."""

    units: frozenset[str]
    predicates: frozenset[str]
    anchors: frozenset[str] = frozenset()


def _classes() -> dict[str, tuple[tuple[str, ...], frozenset[str]]]:
    """Each class's prefixes and exact terms, split once."""
    out = {}
    for label, stems in (*PREDICATES.items(), *OBJECTS.items()):
        prefixes = tuple(s for s in stems if not s.endswith("$"))
        exact = frozenset(s[:-1] for s in stems if s.endswith("$"))
        out[label] = (prefixes, exact)
    return out


_CLASSES = _classes()


@lru_cache(maxsize=50_000)
def _fold(term: str) -> str:
    """A term's class, or itself (remembered per term: a brief folds the same words often)."""
    for label, (prefixes, exact) in _CLASSES.items():
        if term in exact or term.startswith(prefixes):
            return f"<{label}>"
    return term


def content(text: str, speaker: str | None = None, direct: bool = False) -> str:
    """The words of a statement that report something: the quoted words of a direct quote
    (when they are long enough to say something), else the text without the speaker."""
    if direct:
        quoted = " ".join(m.group(1) for m in _QUOTED.finditer(text))
        if quoted:
            return quoted
    if speaker and len(speaker) > 3:
        text = text.replace(speaker, " ")
    return _ATTRIBUTION.sub(" ", text)


@lru_cache(maxsize=20_000)
def gist(text: str, speaker: str | None = None, direct: bool = False) -> Gist:
    """A statement's gist (see the module's docstring); remembered per statement, as the
    same sentences come back brief after brief (a pure function of its arguments)."""
    said = content(text, speaker, direct)
    units = {_fold(t) for t in terms(said) if t not in _FRAME}
    predicates = {u for u in units if u.startswith("<") and u[1:-1] in PREDICATES}
    anchors = {a.lower()[:7] for a in _ANCHOR.findall(said)} - STOPWORDS
    return Gist(frozenset(units), frozenset(predicates), frozenset(anchors))


def novelty(candidate: Gist, chosen: Iterable[Gist]) -> float:
    """The share of the candidate's units that none of the chosen statements says."""
    if not candidate.units:
        return 0.0
    said: set[str] = set()
    for g in chosen:
        said |= g.units
    return len(candidate.units - said) / len(candidate.units)


def alike(candidate: Gist, chosen: Iterable[Gist]) -> list[Gist]:
    """The chosen statements that report the same kind of event (a shared predicate class)."""
    return [g for g in chosen if candidate.predicates & g.predicates]


def is_near_repeat(
    candidate: Gist, chosen: Sequence[Gist], max_novelty: float | None = None
) -> bool:
    """True when the candidate reports the same kind of event as chosen statements (a shared
    predicate class), has no number they do not, and adds little else to what they say
    together."""
    same = alike(candidate, chosen)
    if not same or candidate.anchors - {a for g in same for a in g.anchors}:
        return False
    limit = MAX_NOVELTY if max_novelty is None else max_novelty
    return novelty(candidate, same) <= limit
