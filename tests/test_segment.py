"""Sentence splitting: abbreviations, initials and quotes must not break citations."""

from __future__ import annotations

import pytest

from briefs.segment import split_sentences


def texts(body: str) -> list[str]:
    return [s for s, _ in split_sentences(body)]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "Kim met Putin on Sept. 13 in Russia. The talks lasted hours.",
            ["Kim met Putin on Sept. 13 in Russia.", "The talks lasted hours."],
        ),
        (
            "The White House said on Aug. 30 that talks advance. Moscow was silent.",
            ["The White House said on Aug. 30 that talks advance.", "Moscow was silent."],
        ),
        (
            "Talks between N. Korea and Russia advance. Seoul is watching.",
            ["Talks between N. Korea and Russia advance.", "Seoul is watching."],
        ),
        (
            "The U.S. CBS broadcast quoted a U.S. official. It gave no details.",
            ["The U.S. CBS broadcast quoted a U.S. official.", "It gave no details."],
        ),
        (
            "The U.N. Security Council met. China abstained.",
            ["The U.N. Security Council met.", "China abstained."],
        ),
        (
            "Gen. Park briefed reporters. He took questions.",
            ["Gen. Park briefed reporters.", "He took questions."],
        ),
        (
            "Mr. Putin is seeking shells. Kirby said so.",
            ["Mr. Putin is seeking shells.", "Kirby said so."],
        ),
        (
            "Martin Luther King Jr. Day fell on Monday. Offices closed.",
            ["Martin Luther King Jr. Day fell on Monday.", "Offices closed."],
        ),
        (
            'He said "we are watching closely." Then he left.',
            ['He said "we are watching closely."', "Then he left."],
        ),
        (
            "She said: “The US is the arch-criminal.” Nobody answered.",
            ["She said: “The US is the arch-criminal.”", "Nobody answered."],
        ),
        (
            "Why else would Mr. Putin reach out to ... rogue regimes? He is going to Iran.",
            ["Why else would Mr. Putin reach out to ... rogue regimes?", "He is going to Iran."],
        ),
        (
            "We remain concerned that... the DPRK continues to consider it.",
            ["We remain concerned that... the DPRK continues to consider it."],
        ),
    ],
)
def test_split(body: str, expected: list[str]) -> None:
    assert texts(body) == expected


def test_paragraph_break_always_ends_a_sentence() -> None:
    assert texts("A first paragraph without a stop\n\nA second one.") == [
        "A first paragraph without a stop",
        "A second one.",
    ]


def test_spans_point_at_the_sentence_in_the_body() -> None:
    body = "First one here.  Second, with Sept. 13 in it.\n\n“Quoted,” he said. Last."
    for sentence, span in split_sentences(body):
        assert body[span.start : span.end] == sentence


def test_splitting_is_deterministic() -> None:
    body = "One. Two? Three! “Four.” Five."
    assert split_sentences(body) == split_sentences(body)
    assert len(texts(body)) == 5
