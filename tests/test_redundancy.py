"""Near-repeats (briefs.compose.redundancy): pure, no store. Sentences are made up for the tests."""

from __future__ import annotations

from briefs.compose.redundancy import content, gist, is_near_repeat, novelty


def test_the_same_transfer_in_other_words_is_a_near_repeat() -> None:
    first = gist("Reports say Ruritania began supplying weapons to Freedonia after the summit.")
    other = gist(
        'An official told a broadcaster: "Ruritania has begun sending weapons to Freedonia."',
        "An official",
        True,
    )
    assert "<transfer>" in first.predicates and "<begin>" in first.predicates
    assert is_near_repeat(other, [first])


def test_a_statement_with_new_facts_is_not_a_repeat() -> None:
    first = gist("Reports say Ruritania began supplying weapons to Freedonia after the summit.")
    more = gist(
        "Ruritania is said to have provided millions of mortar rounds and drones to Freedonia "
        "through Zembla late last year."
    )
    assert not is_near_repeat(more, [first])
    assert novelty(more, [first]) > 0.5


def test_no_shared_predicate_no_repeat() -> None:
    """Two statements on the same parties, one a transfer and one a launch, are two events."""
    first = gist("Ruritania began supplying weapons to Freedonia.")
    launch = gist("Ruritania fired weapons near Freedonia.")
    assert not first.predicates & launch.predicates
    assert not is_near_repeat(launch, [first])


def test_attribution_is_not_content() -> None:
    """The same concern, told by two officials on two days, is one statement."""
    said = content(
        "Freedonia is concerned about the cooperation between Ruritania and Zembla, "
        "a senior Freedonian official said Thursday."
    )
    assert "official" not in said and "Thursday" not in said
    first = gist(
        "Freedonia is concerned about growing defense cooperation between Ruritania and Zembla, "
        "a foreign ministry official said Wednesday."
    )
    again = gist(
        "Freedonia is closely monitoring defense cooperation between Ruritania and Zembla, "
        "a senior Freedonian official said Thursday."
    )
    assert is_near_repeat(again, [first])


def test_a_quote_counts_its_quoted_words() -> None:
    text = 'The minister said on the 5th: "Ruritania has begun sending weapons to Freedonia."'
    assert (
        content(text, "The minister", True) == "Ruritania has begun sending weapons to Freedonia."
    )
    assert "minister" not in gist(text, "The minister", True).units


def test_outlets_lead_then_recency_acts_and_relevance() -> None:
    from briefs.compose.brief import story_importance

    # One outlet more weighs more than any other single factor at its most.
    assert story_importance(2, 0.0, False, 0.5) > story_importance(1, 1.0, False, 0.5)
    assert story_importance(2, 0.5, False, 0.5) > story_importance(1, 0.5, True, 0.5)
    assert story_importance(2, 0.5, False, 0.0) > story_importance(1, 0.5, False, 0.9)
    recent = story_importance(1, 1.0, False, 0.5)
    assert recent > story_importance(1, 0.0, False, 0.5)
    assert story_importance(1, 0.5, True, 0.5) > story_importance(1, 0.5, False, 0.5)


def test_a_new_number_is_a_new_fact() -> None:
    first = gist("The ministry sanctioned four banks for arms transfers, a spokesman said.")
    other = gist("The ministry sanctioned three banks for arms transfers, a spokesman said.")
    same = gist("The ministry sanctioned four banks over arms transfers, an official said.")
    assert not is_near_repeat(other, [first])
    assert is_near_repeat(same, [first])


def test_short_stems_fold_only_their_own_words() -> None:
    """ "sent" is a transfer, "sentenced" is not; "sold" is, "soldiers" is not."""
    sent = gist("The ministry sent the rockets across the border by rail.")
    court = gist("The court sentenced the soldiers who guarded the shipyard at night.")
    assert "<transfer>" in sent.predicates
    assert not court.predicates
