"""Content words: what ranking (TF-IDF), analysis (signatures, salience) and story matching
count. Shared by every stage, so analysis does not reach into compose for it."""

from __future__ import annotations

import re

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+|\d+")
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in into is
    it it's its itself just let me more most my myself no nor not now of off on once only or other
    our ours ourselves out over own same she should so some such than that that's the their theirs
    them themselves then there these they this those through to too under until up very was we
    were what when where which while who whom why will with would you your yours yourself said
    say says told added also one two may might must shall""".split()
)

_LOWER_WORD = re.compile(r"[a-z][a-z'-]+|\d+")


def terms(text: str) -> list[str]:
    """Content words, lower-cased and cut to a 7-letter stem (cheap, language-agnostic)."""
    if text.isascii():
        # Lower-casing ASCII text first finds the same words, already lower-cased.
        words = _LOWER_WORD.findall(text.lower())
    else:
        words = [word.lower() for word in _WORD.findall(text)]
    return [word[:7] for word in words if word not in STOPWORDS and len(word) >= 2]
