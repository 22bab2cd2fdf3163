"""Names as analysts see them: one name, however a report spells or romanises it.

News spells the same person several ways (Kim Jong-un, Kim Jong Un; Sergei Shoigu, Sergey
Shoygu; Mkrtychev, Mkrtichev), so the gazetteer's aliases cannot list every form. These pure
functions decide when two spellings are one name:

* ``key``: the name with case, diacritics, hyphens, spaces, apostrophes and a possessive
  "'s" removed; two names with one key are one name (Choe Son Hui, Choe Son-hui; P'yŏngyang,
  Pyong Yang, Pyongyang).
* ``same_words``: the transliteration rule. Word by word (a hyphenated word is one word),
  each pair is equal, or both are at least ``FUZZY_MIN`` letters long, start with the same
  letter, sound alike (the same Metaphone code) and are at most one edit apart (two from
  nine letters on). Short words must be equal, so Korean given names never blur (Kim Jong-un
  is not Kim Yo-jong, Kim In-ae is not Kim Ju-ae) and neither do short surnames (Putin is
  not Patin).

Edit distance and Metaphone come from jellyfish (a small, compiled, dependency-free library,
the phonetic and edit-distance toolkit that sanctions name matching such as OpenSanctions'
builds on). The field's own name library, rigour, needs PyICU, which has no wheels and must
be compiled against ICU on every machine; these two measures are what this rule needs of it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import jellyfish

# Words shorter than this are compared exactly (syllables of Korean given names, "Kim").
FUZZY_MIN = 6
# From this length a word may be two edits from another (Mkrtychev, Makrtichev).
TWO_EDITS_FROM = 9

_APOSTROPHES = "'’ʼ`‘"
_POSSESSIVE = re.compile(r"['’]s$")
_NOT_LETTER = re.compile(r"[^0-9a-z ]+")


def fold(name: str) -> str:
    """``name`` lower-cased, without diacritics or apostrophes, hyphens and dots as spaces:
    the form compared (``fold("Choe Son-hui's") == "choe son hui"``)."""
    text = _POSSESSIVE.sub("", name.strip())
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch) and ch not in _APOSTROPHES)
    text = _NOT_LETTER.sub(" ", text.casefold().replace("-", " "))
    return " ".join(text.split())


@lru_cache(maxsize=65_536)
def key(name: str) -> str:
    """The name with nothing but its letters and digits (``fold`` without spaces): spellings
    that differ in case, accents, hyphens or spaces share it."""
    return fold(name).replace(" ", "")


def words(name: str) -> tuple[str, ...]:
    """The name's words, folded, each hyphenated word one word ("Kim Jong-un": kim, jongun)."""
    base = _POSSESSIVE.sub("", name.strip())
    return tuple(w for w in (key(part) for part in base.split()) if w)


@lru_cache(maxsize=65_536)
def sound(word: str) -> str:
    """A folded word's Metaphone code: transliterations of one name mostly share it."""
    return str(jellyfish.metaphone(word)) if word else ""


def same_word(a: str, b: str) -> bool:
    """Whether two folded words are one word spelt two ways (the module's rule)."""
    if a == b:
        return True
    if min(len(a), len(b)) < FUZZY_MIN or a[0] != b[0] or sound(a) != sound(b):
        return False
    edits = 2 if min(len(a), len(b)) >= TWO_EDITS_FROM else 1
    return int(jellyfish.levenshtein_distance(a, b)) <= edits


def same_words(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether two names, as ``words``, are the same words in order, each ``same_word``."""
    return len(a) == len(b) and all(same_word(x, y) for x, y in zip(a, b, strict=True))


def same_name(a: str, b: str) -> bool:
    """Whether two spellings name one name: one ``key``, or ``same_words``."""
    return key(a) == key(b) or same_words(words(a), words(b))


def close(a: str, b: str, threshold: float = 0.9) -> bool:
    """Whether two spellings are alike enough to be worth a "spelt like" hint (Jaro-Winkler
    of their keys): looser than ``same_name``, so it never links, it only says so."""
    ka, kb = key(a), key(b)
    return bool(ka and kb) and jellyfish.jaro_winkler_similarity(ka, kb) >= threshold


_EAST_ASIAN_GIVEN = re.compile(r"[A-Z][a-z]+-[a-z]+")


def family_name(name: str) -> str | None:
    """The word a report calls a person by once it has named them in full: the first word of
    a Korean-style name, whose given name is hyphenated in lower case (Choe Son-hui: Choe),
    else the last word (Sergey Lavrov: Lavrov); None for a name of one word."""
    parts = name.split()
    if len(parts) < 2:
        return None
    if len(parts) == 2 and _EAST_ASIAN_GIVEN.fullmatch(parts[1]):
        return parts[0]
    return parts[-1]


# -- what kind of thing a new name is -------------------------------------------------------

# A word that ends or marks an organisation's name.
ORGANISATION_WORDS = frozenset(
    "Agency Administration Airlines Army Assembly Association Authority Bank Board Bureau "
    "Center Centre Club College Commission Committee Company Corporation Corp Corps Council "
    "Court Department Directorate Electronics Entertainment Enterprises Factory Federation "
    "Forces Foundation Fund Group Guard Holdings Inc Industries Institute Logistics Ltd "
    "Ministry Motor Motors Navy Network Office Organisation Organization Parliament Party "
    "Service Services Shipping Systems Team Technologies Trading Union University Works".split()
)
# Words that name a kind of thing, not one thing: an organisation's name needs a word that is
# neither these nor ``ORGANISATION_WORDS`` ("Development Office" is no organisation's name).
GENERIC_WORDS = frozenset(
    "Affairs Armed Atomic Central Chiefs Commerce Commonwealth Defence Defense Development "
    "Economic Economy Energy Equipment European Federal Finance Financial Foreign General Home "
    "Industry Intelligence Interior International Joint Justice Military National Nuclear "
    "Public Security Space Staff State Strategic Trade Treasury Unification Weapons".split()
)
# Words of a title: a name holding one is a title, or a title and a part of a name
# ("Under Secretary", "Chief Cabinet Secretary Hirokazu"), not a name to add.
TITLE_WORDS = frozenset(
    "Ambassador Cabinet Chairman Chairwoman Chancellor Chief Commander Director Envoy General "
    "Governor King Mayor Minister Premier President Professor Queen Secretary Senator "
    "Spokesman Spokesperson Spokeswoman Under Vice".split()
)
# A last word that makes a name a place, an event or a document, not a person.
NOT_A_PERSON = frozenset(
    "Act Agreement Airport Avenue Award Base Bay Bridge Canal Championship Conference "
    "Cosmodrome Cup Day Dam District East Festival Forum Games Harbor Harbour Hotel Island "
    "Islands Krai Lake League Mountains North Ocean Oblast Palace Peninsula Plan Port Prize "
    "Province Region Resolution River Road Sea Series Shipyard South Square Station Strait "
    "Street Summit Treaty Valley War Week West Year Zone".split()
)
# A first word that makes a name a place or a storm, not a person.
NOT_A_PERSON_FIRST = frozenset(
    "Cape Cyclone Fort Gulf Hurricane Lake Las Los Mount New Port Saint San Storm Typhoon".split()
)
VESSEL_PREFIXES = frozenset({"MV", "MT", "SS", "M/V", "M/T"})


@lru_cache(maxsize=65_536)
def name_kind(name: str) -> str | None:
    """What a capitalised name the gazetteer does not know names, from its words alone:
    "vessel" (MV Lady R), "organisation" (a distinctive word and an organisation word),
    "person" (two to four name-like words), or None (a kind of thing, a place, an event)."""
    parts = [p for p in re.split(r"[\s]+", name.strip()) if p]
    if not parts:
        return None
    if parts[0] in VESSEL_PREFIXES and len(parts) > 1:
        return "vessel"
    heads = [p.split("-")[0] for p in parts]
    if any(h in TITLE_WORDS for h in heads):
        return None
    if any(h in ORGANISATION_WORDS for h in heads):
        distinctive = [h for h in heads if h not in ORGANISATION_WORDS | GENERIC_WORDS]
        return "organisation" if distinctive else None
    if any(h in GENERIC_WORDS for h in heads) or heads[-1] in NOT_A_PERSON:
        return None
    if heads[0] in NOT_A_PERSON_FIRST:
        return None
    return "person" if 2 <= len(parts) <= 4 else None
