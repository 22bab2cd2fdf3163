"""The evaluation gate: the seed-corpus figures may never fall below their pinned floors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from briefs.articles import read_article
from briefs.segment import split_sentences
from tests.conftest import SEEDS
from tests.eval.score import load_gold
from tests.eval.system import BUDGET, Report, evaluate

FLOORS = tomllib.loads((Path(__file__).parent / "eval" / "floors.toml").read_text("utf-8"))


@pytest.fixture(scope="module")
def report() -> Report:
    return evaluate()


@pytest.mark.parametrize("figure", sorted(FLOORS))
def test_figure_holds_its_floor(report: Report, figure: str) -> None:
    value = report.figures()[figure]
    assert value >= FLOORS[figure] - 1e-9, (
        f"{figure} fell to {value:.3f} (floor {FLOORS[figure]}); "
        f"missing key facts: {report.missing_key}; speaker misses: {report.speaker_misses}; "
        f"date misses: {report.date_misses}"
    )


def test_acceptance_targets(report: Report) -> None:
    """The analysis issue's targets, independent of the floors."""
    assert report.statements <= BUDGET
    assert report.key_facts >= 0.9
    assert report.citation_validity == 1.0
    assert report.speaker_accuracy >= 0.95
    assert report.date_accuracy >= 0.95
    assert report.story_f1 >= 0.9


def test_every_floor_is_a_known_figure(report: Report) -> None:
    assert set(FLOORS) == set(report.figures())


def test_debris_free_sentence_count_matches_the_gold() -> None:
    gold = load_gold()
    counts = {
        p.name: len(split_sentences(read_article(p).body)) for p in sorted(SEEDS.glob("*.txt"))
    }
    assert counts == dict(gold.sentence_count)
    assert sum(counts.values()) == gold.sentence_total
