"""How a revised document keeps its citations: which stored sentences stay, which are new,
and how many leave the text. A pure plan (old sentences + new sentences), so the rule is
tested without a store and the store only applies it, as reader's update Decider does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from briefs.models import Span


@dataclass(frozen=True)
class StoredSentence:
    """A sentence of the document as stored (``position`` None: already retired)."""

    row_id: int
    index: int
    position: int | None
    text: str


@dataclass(frozen=True)
class KeptSentence:
    """A stored sentence found again: it keeps its row and citation index, moves to
    ``position`` and ``span`` in the new text."""

    row_id: int
    position: int
    text: str
    span: Span


@dataclass(frozen=True)
class NewSentence:
    """A sentence not stored before: a new citation index, after every index ever used."""

    index: int
    position: int
    text: str
    span: Span


@dataclass(frozen=True)
class SentencePlan:
    kept: tuple[KeptSentence, ...]
    added: tuple[NewSentence, ...]
    # Live sentences the new text no longer holds: kept for their citations, out of search.
    retired: int


def plan_sentences(
    stored: Sequence[StoredSentence], sentences: Sequence[tuple[str, Span]]
) -> SentencePlan:
    """The plan that stores ``sentences`` (the new text, in order) over ``stored``.

    A citation must keep pointing at the same words: each new sentence takes a stored one
    with the same text if any is left (live ones first, in their order, then retired ones,
    so a sentence that comes back gets its old index); the rest get fresh indexes, never
    one used before. Sentences of ``stored`` not taken are retired.
    """
    by_text: dict[str, list[StoredSentence]] = {}
    for row in sorted(stored, key=_stored_order):
        by_text.setdefault(row.text, []).append(row)
    next_index = max((row.index for row in stored), default=-1) + 1
    kept: list[KeptSentence] = []
    added: list[NewSentence] = []
    for position, (text, span) in enumerate(sentences):
        same = by_text.get(text)
        if same:
            kept.append(KeptSentence(same.pop(0).row_id, position, text, span))
        else:
            added.append(NewSentence(next_index, position, text, span))
            next_index += 1
    retired = sum(1 for rows in by_text.values() for r in rows if r.position is not None)
    return SentencePlan(tuple(kept), tuple(added), retired)


def _stored_order(row: StoredSentence) -> tuple[bool, int, int]:
    return (row.position is None, row.position or 0, row.index)
