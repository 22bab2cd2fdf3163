"""The fast paths of text analysis find exactly what the plain patterns they replace found.

Each test checks one shortcut (a trie for an alternation, a substring test before a pattern,
a lower-cased scan, a remembered answer) against the straightforward code it stands for, on
texts built from pieces chosen to break it: prefixes of one another, case, "ſ", "K" (Kelvin),
"İ", punctuation around names.
"""

from __future__ import annotations

import re
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from briefs import dates
from briefs.analysis import quotes
from briefs.analysis.facts import SIGNATURE_TERMS, signature
from briefs.lexicon import Entity, TermScan, _aliases_pattern, _entity_pattern, _terms_pattern
from briefs.terms import _WORD, STOPWORDS, terms

_NAME_PIECES = ["Kim", "Kim Jong", "Jong-un", "Jong", "K", "k", "K", "İ", "i", "ſ", "s", "Un"]
_aliases = st.lists(
    st.lists(st.sampled_from(_NAME_PIECES), min_size=1, max_size=3).map(" ".join),
    min_size=1,
    max_size=5,
)
_name_texts = st.lists(
    st.sampled_from([*_NAME_PIECES, " ", ".", "-", ",", "’s", "'s", "x", "_", "\n"]), max_size=14
).map("".join)


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)]


@given(aliases=_aliases, text=_name_texts)
def test_alias_trie_matches_the_alternation(aliases: list[str], text: str) -> None:
    assert _spans(_aliases_pattern(aliases), text) == _spans(_entity_pattern(aliases), text)


def _entity(i: int, aliases: list[str], kind: str = "person") -> Entity:
    return Entity(f"e{i}", f"Name {i}", kind, tuple(aliases), None, _entity_pattern(aliases))


@given(st.lists(_aliases, min_size=1, max_size=4), _name_texts)
def test_finder_keeps_every_entity_whose_pattern_matches(
    alias_lists: list[list[str]], text: str
) -> None:
    entities = [_entity(i, a) for i, a in enumerate(alias_lists)]
    present = quotes._Finder(entities).present(text)
    # Exactly the entities with an alias in the text as written, in their order ...
    assert present == [e for e in entities if any(a in text for a in e.aliases)]
    # ... so none whose pattern matches is left out.
    assert {e.id for e in entities if e.pattern.search(text)} <= {e.id for e in present}


def test_finder_keeps_an_entity_that_ignores_case() -> None:
    loose = Entity("x", "X", "person", ("kim",), None, _entity_pattern(["kim"], ignore_case=True))
    assert quotes._Finder([loose]).present("KIM said") == [loose]


class _Lexicon:
    """Just what the cast reads of a lexicon."""

    def __init__(self, entities: list[Entity]) -> None:
        self.entities = tuple(entities)


@given(st.lists(_aliases, min_size=1, max_size=4), _name_texts)
def test_cast_look_ups_match_one_pattern_per_entity(
    alias_lists: list[list[str]], phrase: str
) -> None:
    people = [_entity(i, a) for i, a in enumerate(alias_lists)]
    bodies = [_entity(i + 10, a, "state") for i, a in enumerate(alias_lists)]
    cast = quotes._Cast(_Lexicon(people + bodies))  # type: ignore[arg-type]
    # The person: the last mention that is not a possessive, the first entity on a tie.
    best: tuple[int, Entity] | None = None
    for person in people:
        for m in person.pattern.finditer(phrase):
            if phrase[m.end() : m.end() + 2] not in {"’s", "'s"} and (
                best is None or m.start() > best[0]
            ):
                best = (m.start(), person)
    for _ in range(2):  # worked out, then remembered
        assert cast.person_in(phrase) == (best[1] if best else None)
        found = [(at.start(), b) for b in bodies if (at := b.pattern.search(phrase))]
        assert cast.bodies_in(phrase) == tuple(b for _, b in sorted(found, key=lambda x: x[0]))


_ASCII_TERMS = st.lists(
    st.text(st.sampled_from(["a", "r", "m", "s", " ", "d", "-", "’"]), min_size=1),
    min_size=1,
    max_size=5,
)
_SCAN_TEXTS = st.lists(
    st.sampled_from(["arm", "ARMS", "Arms deal", "s", "S", "ſ", "K", "x", "-", " ", "’", "d"]),
    max_size=12,
).map("".join)


@given(lists=st.lists(_ASCII_TERMS, min_size=1, max_size=4), sample=_SCAN_TEXTS)
def test_lower_cased_scan_finds_what_each_pattern_finds(
    lists: list[list[str]], sample: str
) -> None:
    """Terms that fold alone: ASCII text takes the lower-cased scan, other text the scan that
    ignores case; both agree with one pattern per list."""
    named: dict[tuple[str, str], tuple[str, ...]] = {
        ("topic", str(i)): tuple(t) for i, t in enumerate(lists)
    }
    scan = TermScan(named)
    expected = {}
    for name, listed in named.items():
        found = _terms_pattern(listed, ignore_case=True).search(sample)
        if found:
            expected[name] = found.start()
    assert scan.first_starts(sample) == expected
    assert scan.first_starts(sample.upper()) == {
        name: m.start()
        for name, listed in named.items()
        if (m := _terms_pattern(listed, ignore_case=True).search(sample.upper()))
    }


def _terms_reference(text: str) -> list[str]:
    out = []
    for word in _WORD.findall(text):
        lower = word.lower()
        if lower in STOPWORDS or len(lower) < 2:
            continue
        out.append(lower[:7])
    return out


_WORD_TEXTS = st.lists(
    st.sampled_from(
        ["The", "said", "Missile", "DPRK's", "re-entry", "K", "İ", "ſ", "٣", "7", "x", " ", "-"]
    ),
    max_size=20,
).map("".join)


@given(_WORD_TEXTS)
def test_terms_are_those_of_one_word_at_a_time(text: str) -> None:
    assert terms(text) == _terms_reference(text)
    counts = Counter(_terms_reference(text))
    assert list(signature(text).items()) == counts.most_common(SIGNATURE_TERMS)


def test_reported_verbs_trie_matches_the_alternation() -> None:
    plain = re.compile(rf"(?P<verb>\b(?:{quotes._VERBS}))\b")
    verbs = quotes._VERB_LIST
    text = " ".join(v + tail for v in verbs for tail in ("", "s", " x", "-", "ed"))
    text += " " + "".join(verbs) + " pointsout points out point out"
    assert [(m.span(), m["verb"]) for m in quotes._REPORTED.finditer(text)] == [
        (m.span(), m["verb"]) for m in plain.finditer(text)
    ]


def _words_reference(text: str) -> set[str]:
    text = text.lower()
    for short, long in quotes._EXPAND.items():
        text = re.sub(rf"(?<![\w.]){re.escape(short)}(?![\w])", long, text)
    return {w for w in re.findall(r"[a-z][a-z.-]+", text) if w not in quotes._GENERIC}


@given(
    st.lists(
        st.sampled_from(["NSC", "nsc", "U.S.", "u.s.", "us", ".", " ", "State Department", "x"]),
        max_size=10,
    ).map("".join)
)
def test_descriptor_words_match_substitution_without_gates(text: str) -> None:
    assert quotes._words(text) == _words_reference(text)


_DATE_PIECES = ["In ", "in ", "May", "June", "Jun", "Sept.", "September", "mAY", "MAY", "3",
                "2024", " ", "and ", "last", "LAST", "laſt", "thıs", "this", "THİS", "today",
                "Yesterday", "x", "ſ"]  # fmt: skip


@given(st.lists(st.sampled_from(_DATE_PIECES), max_size=10).map("".join))
def test_month_and_relative_gates_let_through_every_match(sample: str) -> None:
    named_month = dates._MONTH_STEM.search(sample) is not None
    digit = dates._DIGIT.search(sample) is not None
    if dates._MONTH_DAY_RE.search(sample):
        assert digit and named_month
    if dates._IN_MONTH_RE.search(sample):
        assert named_month
    if dates._RELATIVE_RE.search(sample):
        assert dates._relative_words(sample, sample.lower())
    assert dates._relative_words(sample, sample.lower()) == (
        dates._RELATIVE_WORDS.search(sample) is not None
    )
