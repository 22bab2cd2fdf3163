"""How good a sentence is as a statement of a brief: one rule for analysis and compose.

Analysis folds it into a sentence's stored salience, the composer into a candidate's
relevance; one function keeps the two from drifting apart. Pure, and cheap to import
(analysis workers load it).
"""

from __future__ import annotations


def quality(text: str, low_value: bool) -> float:
    """Short lines, questions and explainers (``low_value``: the text has a ``low_value``
    cue) make poor statements in a brief."""
    words = len(text.split())
    score = 1.0
    if words < 8:
        score *= 0.4
    if text.rstrip("\"”’' ").endswith("?"):
        score *= 0.2
    if low_value:
        score *= 0.2
    if words > 70:
        score *= 0.7
    return score
