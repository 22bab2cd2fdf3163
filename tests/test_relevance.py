"""Context topics (config/topics.toml ``context = true``): a statement on them alone, none of
the brief's subjects, weighs less. Pure: candidates built by hand, no store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from briefs.compose.brief import CONTEXT_ONLY, Candidate, score_candidates
from briefs.errors import SettingsError
from briefs.lexicon import load_lexicon
from briefs.store.base import DocumentSummary, SentenceRow


def test_summits_and_exercises_are_context_topics() -> None:
    topics = load_lexicon().topics
    assert topics["diplomacy"].context and topics["exercises"].context
    assert not topics["arms"].context and not topics["sanctions"].context


def test_a_context_flag_must_be_a_boolean(tmp_path: Path) -> None:
    extra = tmp_path / "topics.toml"
    extra.write_text('[media]\nterms = ["broadcast"]\ncontext = "yes"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="context must be true or false"):
        load_lexicon(extra_topics=extra)


def test_a_statement_on_context_topics_alone_weighs_less() -> None:
    doc = DocumentSummary("d", "file", "T", "P", datetime(2026, 1, 1, tzinfo=UTC), "day", None)
    text = "The two ministers held talks in the capital on a range of regional questions today."
    rows = [
        SentenceRow("d", 0, 1, text, topics=topics, salience=1.0)
        for topics in ("diplomacy", "arms")
    ]
    subject, context = (Candidate(r, doc) for r in reversed(rows))
    score_candidates([context, subject], load_lexicon(), {})
    assert context.relevance == pytest.approx(subject.relevance * CONTEXT_ONLY)
