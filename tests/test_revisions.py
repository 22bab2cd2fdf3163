"""The sentence plan of a revised document, without a store (briefs.store.revisions)."""

from __future__ import annotations

from briefs.models import Span
from briefs.store.revisions import KeptSentence, NewSentence, StoredSentence, plan_sentences


def _new(*texts: str) -> list[tuple[str, Span]]:
    spans, at = [], 0
    for text in texts:
        spans.append((text, Span(at, at + len(text))))
        at += len(text) + 1
    return spans


def test_a_first_version_gets_indexes_in_order() -> None:
    plan = plan_sentences((), _new("A.", "B."))
    assert plan.kept == ()
    assert [(n.index, n.position, n.text) for n in plan.added] == [(0, 0, "A."), (1, 1, "B.")]
    assert plan.retired == 0


def test_unchanged_sentences_keep_their_index_and_new_ones_never_reuse_one() -> None:
    stored = [
        StoredSentence(10, 0, 0, "A."),
        StoredSentence(11, 1, 1, "B."),
        StoredSentence(12, 2, 2, "C."),
    ]
    plan = plan_sentences(stored, _new("C.", "X.", "A."))
    assert plan.kept == (
        KeptSentence(12, 0, "C.", Span(0, 2)),
        KeptSentence(10, 2, "A.", Span(6, 8)),
    )
    # B. left the text: retired, and its index 1 is never given to X.
    assert plan.added == (NewSentence(3, 1, "X.", Span(3, 5)),)
    assert plan.retired == 1


def test_a_retired_sentence_that_comes_back_gets_its_old_index() -> None:
    stored = [StoredSentence(10, 0, 0, "A."), StoredSentence(11, 1, None, "B.")]
    plan = plan_sentences(stored, _new("A.", "B."))
    assert [k.row_id for k in plan.kept] == [10, 11]
    assert plan.added == () and plan.retired == 0


def test_repeated_sentences_are_matched_in_order_live_ones_first() -> None:
    stored = [
        StoredSentence(20, 3, None, "Same."),  # retired copy
        StoredSentence(21, 1, 1, "Same."),
        StoredSentence(22, 0, 0, "Same."),
    ]
    plan = plan_sentences(stored, _new("Same.", "Same."))
    # Live ones by position (22 at 0, then 21 at 1); the retired copy stays retired.
    assert [k.row_id for k in plan.kept] == [22, 21]
    assert plan.retired == 0
