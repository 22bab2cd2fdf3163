"""Patterns compiled on first use (briefs.lazyre): they must answer exactly as compiled ones."""

from __future__ import annotations

import pickle
import re

from hypothesis import given
from hypothesis import strategies as st

from briefs.lazyre import LazyPattern, lazy_compile
from briefs.lexicon import load_lexicon

WORDS = st.lists(st.text("abcAB .-'", min_size=1, max_size=6), min_size=1, max_size=5)


@given(words=WORDS, text=st.text("abcAB .-'x\n", max_size=40), ignore_case=st.booleans())
def test_a_lazy_pattern_answers_as_the_compiled_one(
    words: list[str], text: str, ignore_case: bool
) -> None:
    source = r"(?<![\w])(?:" + "|".join(re.escape(w) for w in words) + ")"
    flags = re.IGNORECASE if ignore_case else 0
    real = re.compile(source, flags)
    for lazy in (lazy_compile(source, flags), lazy_compile(source, flags)):
        first = lazy.search(text)  # the first use compiles; the second pattern starts elsewhere
        assert (first and first.span()) == ((m := real.search(text)) and m.span())
        assert lazy.findall(text) == real.findall(text)
        assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in real.finditer(text)]
        assert (lazy.match(text) is None) == (real.match(text) is None)
        assert lazy.sub("_", text) == real.sub("_", text)
        assert lazy.split(text) == real.split(text)
        assert (lazy.flags, lazy.groups, lazy.pattern) == (real.flags, real.groups, real.pattern)


def test_equality_hash_pickle_and_copy() -> None:
    a, b = LazyPattern("a+", re.I), LazyPattern("a+", re.I)
    assert a == b and hash(a) == hash(b) and a != LazyPattern("a+")
    b.search("aa")  # compiled or not, the same pattern
    assert a == b and hash(a) == hash(b)
    again = pickle.loads(pickle.dumps(b))
    assert again == b and again.search("xAa") is not None


def test_the_domain_data_patterns_are_compiled_on_first_use() -> None:
    """Analysis uses all of them; a read uses a few cues and the combined entity pattern."""
    lexicon = load_lexicon()
    lazy = [
        *(t.pattern for t in lexicon.topics.values()),
        *(e.pattern for e in lexicon.entities),
        *lexicon.cues.values(),
    ]
    assert lazy and all(isinstance(p, LazyPattern) for p in lazy)
