"""Split a clean body into sentences, the citation unit of every brief.

Rule-based and fast: a boundary is end punctuation, optional closing quotes or brackets,
white space, then an opening quote or a capital letter or digit. Abbreviations, initials
and dotted acronyms (``Sept. 13``, ``N. Korea``, ``U.S.``, ``Mr.``, ``Jr.``) are not boundaries.
Paragraph breaks always are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from briefs.models import Span

# Words that end with a full stop without ending the sentence (compared case-sensitively).
ABBREVIATIONS = frozenset(
    """
    Mr Mrs Ms Dr Prof Gen Lt Col Maj Capt Cmdr Adm Sgt Cpl Pvt Gov Sen Rep Rev Hon Pres Amb
    Jr Sr St Mt Ft No Nos vs etc al Inc Corp Co Ltd Bros Dept Univ Assn Ave Blvd Rd
    Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec Mon Tue Tues Wed Thu Thur Thurs Fri Sat Sun
    approx est govt
    """.split()
)

_CANDIDATE = re.compile(
    r"""(?P<end>[.!?…]+)            # end punctuation (or an ellipsis)
        (?P<close>["”’'\)\]]*)        # closing quotes or brackets stay with the sentence
        (?P<space>\s+)
        (?=["“‘'\(\[]*[A-Z0-9])       # the next sentence opens with a capital or digit
    """,
    re.VERBOSE,
)
_INITIAL = re.compile(r"^(?:[A-Z]|(?:[A-Za-z]\.)+[A-Za-z])$")


def _word_before(text: str, end: int) -> str:
    """The run of non-space characters ending at ``end``, found by stepping back from it.

    A regular expression searched from the paragraph's start (``(\\S+)$``) costs the length
    of the paragraph per full stop, so one long paragraph took time quadratic in its size
    (a one-paragraph file of 4,000 sentences: 46 s); this costs the length of the word.
    """
    if end and text[end - 1] == "\n":
        end -= 1  # as ``$`` did: a word may end just before one newline
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start:end]


def _is_boundary(text: str, match: re.Match[str]) -> bool:
    end = match.group("end")
    if end != ".":
        # "?" and "!" end sentences; a lone ellipsis mid-quote ("... was") is handled by the
        # capital-letter lookahead, so a capitalised word after it does start a new one.
        return True
    if match.group("close"):
        return True
    word = _word_before(text, match.start())
    if not word:
        return True
    word = word.lstrip("\"“‘'([")
    if word in ABBREVIATIONS:
        return False
    # Single initials ("N. Korea", "John F. Kennedy") and dotted acronyms ("U.S.", "U.N.").
    return not _INITIAL.match(word)


def split_paragraph(text: str, offset: int = 0) -> Iterator[tuple[str, Span]]:
    """Yield (sentence, span) for one paragraph; spans are relative to the whole body."""
    start = 0
    for match in _CANDIDATE.finditer(text):
        if not _is_boundary(text, match):
            continue
        end = match.start("space")
        sentence = text[start:end].strip()
        if sentence:
            lead = len(text[start:end]) - len(text[start:end].lstrip())
            yield sentence, Span(offset + start + lead, offset + start + lead + len(sentence))
        start = match.end()
    tail = text[start:]
    if tail.strip():
        lead = len(tail) - len(tail.lstrip())
        sentence = tail.strip()
        yield sentence, Span(offset + start + lead, offset + start + lead + len(sentence))


def split_sentences(body: str) -> list[tuple[str, Span]]:
    """Split a body whose paragraphs are separated by blank lines."""
    out: list[tuple[str, Span]] = []
    position = 0
    for paragraph in body.split("\n\n"):
        out.extend(split_paragraph(paragraph, position))
        position += len(paragraph) + 2
    return out
