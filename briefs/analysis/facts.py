"""Analyse stored documents: topics, entity mentions, speakers, stance, dates, stories.

Analysis is derived data, kept apart from ingest: a document is analysed after it is stored,
and again whenever the analysis code or the domain data in config/ changes (the version is a
hash of both), so editing the gazetteer takes effect without re-ingesting anything.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from operator import itemgetter
from typing import TYPE_CHECKING

from briefs.analysis.quotes import Speaker, attribute
from briefs.analysis.scoring import quality
from briefs.analysis.versioning import ANALYSIS_CODE_VERSION as ANALYSIS_CODE_VERSION
from briefs.analysis.versioning import analysis_version as analysis_version
from briefs.dates import DateMention, find_dates, reference_date
from briefs.lexicon import Lexicon
from briefs.names import name_kind
from briefs.terms import terms

if TYPE_CHECKING:
    from briefs.store.base import AnalysisInput

# The analysis version (bump ANALYSIS_CODE_VERSION when analysis code changes in a way that
# changes stored results) lives in briefs.analysis.versioning, which reads import without
# this module.
SIGNATURE_TERMS = 80
STORY_WINDOW_DAYS = 2
NEAR_DUPLICATE = 0.5
# Event similarity above which two documents are checked word by word for near-duplication.
DUPLICATE_CHECK = 0.6
# Documents whose event features and shingles story assignment keeps at once: windows of
# neighbours are far smaller, and a 100k-document re-analysis must not hold them all.
VECTOR_CACHE = 20_000

_DENIAL_HOLDER_TYPES = {"state", "organisation", "person"}
_NAME = re.compile(r"\b([A-Z][a-z]+(?:-[a-z]+)?(?:[- ][A-Z][a-z]+(?:-[a-z]+)?){1,3})\b(?!-)")
_NOT_NAMES = frozenset(
    "The A An In On At For But And So If As It He She They We This That What Why Who When "
    "Will Has Have Do Did Since During After Before Meanwhile However Speaking Last Secretary "
    "President Minister Deputy Defense Korean Russian North South United National Security "
    "Council White House State Department Ministry Press Foreign Domestic Other Staunch "
    "Democratic Middle East Victory Republic People".split()
)


@dataclass(frozen=True)
class SentenceFacts:
    position: int
    topics: tuple[str, ...] = ()
    mentions: dict[str, int] = field(default_factory=dict)
    speaker: Speaker | None = None
    direct: bool = False
    stance: str | None = None
    stance_holder: str | None = None
    dates: tuple[DateMention, ...] = ()
    salience: float = 0.0


def _stance(
    text: str, speaker: Speaker | None, lexicon: Lexicon, cues: dict[str, int]
) -> tuple[str | None, str | None]:
    """Claim, denial or confirmation, and who holds it (``cues``: where each cue first
    matches in ``text``, from ``Lexicon.scan``)."""
    denial = cues.get("denials")
    if denial is not None:
        if speaker is not None and speaker.kind == "organisation":
            return "denial", speaker.name
        holder = None
        best = -1
        before = text[:denial]
        for entity in lexicon.entities:
            # (An alias must be in the text for the pattern to match: a substring test rules
            # out most of the gazetteer without a regex scan.)
            if entity.type not in _DENIAL_HOLDER_TYPES or not any(
                alias in before for alias in entity.aliases
            ):
                continue
            for m in entity.pattern.finditer(text, 0, denial):
                if m.start() > best:
                    best, holder = m.start(), entity.name
        if "contested" in cues and speaker is not None:
            return "claim", speaker.name
        return "denial", holder or (speaker.name if speaker else None)
    if "confirmations" in cues and not re.search(r"\bif\b[^.]*\bconfirm", text, re.I):
        return "confirmation", speaker.name if speaker else None
    if speaker is not None or "claims" in cues:
        return "claim", speaker.name if speaker else None
    return None, None


def analyze_sentences(
    sentences: Sequence[str],
    paragraphs: Sequence[int],
    published: date | None,
    lexicon: Lexicon,
) -> list[SentenceFacts]:
    """Facts about each sentence of one document, in order."""
    speakers = {a.position: a for a in attribute(sentences, paragraphs, lexicon)}
    out = []
    named: set[str] = set()  # the entities the document has named so far
    families: dict[str, list[str]] = {}  # their family names (Lexicon.family_mentions)
    for position, text in enumerate(sentences):
        topics, cues = lexicon.scan(text)
        found = lexicon.mentions_in(text)
        for entity_id in found.keys() - named:
            named.add(entity_id)
            family = lexicon.family_of(entity_id)
            if family is not None:
                families.setdefault(family, []).append(entity_id)
        if families:
            found.update(lexicon.family_mentions(text, families))
        mentions = dict(found)
        attribution = speakers.get(position)
        speaker = attribution.speaker if attribution else None
        stance, holder = _stance(text, speaker, lexicon, cues)
        dates = tuple(find_dates(text, published)) if published else ()
        salience = (
            1.0
            + 0.3 * min(3, len(topics))
            + 0.15 * min(4, len(mentions))
            + (0.3 if speaker else 0.0)
            + (0.3 if stance == "denial" else 0.0)
            + (0.2 if dates else 0.0)
            + (0.3 if position == 0 else 0.1 if position < 3 else 0.0)
        ) * quality(text, "low_value" in cues)
        out.append(
            SentenceFacts(
                position=position,
                topics=topics,
                mentions=mentions,
                speaker=speaker,
                direct=bool(attribution and attribution.direct),
                stance=stance,
                stance_holder=holder,
                dates=dates,
                salience=round(salience, 4),
            )
        )
    return out


@dataclass(frozen=True)
class DocumentAnalysis:
    """Everything analysis stores for one document (what ``analyze_document`` returns)."""

    document_id: str
    sentence_ids: Sequence[int]
    facts: Sequence[SentenceFacts]
    names: Counter[str]
    signature: dict[str, int]
    # Where the analysed text ends when only the first sentences were analysed, else None.
    analysed_end: int | None = None


def analyze_document(data: AnalysisInput, lexicon: Lexicon) -> DocumentAnalysis:
    """The analysis of one stored document: pure, so it runs in any process."""
    text = data.body if data.analysed_end is None else data.body[: data.analysed_end]
    published = (
        reference_date(data.published_at, data.published_precision, data.body)
        if data.published_at
        else None
    )
    return DocumentAnalysis(
        data.document_id,
        data.sentence_ids,
        analyze_sentences(data.sentences, data.paragraphs, published, lexicon),
        candidate_names(data.sentences, lexicon),
        signature(text),
        data.analysed_end,
    )


def candidate_names(sentences: Sequence[str], lexicon: Lexicon) -> Counter[str]:
    """Capitalised names the gazetteer does not know, spelt as written or otherwise, that
    name a person, an organisation or a vessel (``names.name_kind``): the brief's "new
    names", which an analyst adds to the gazetteer, so no kinds of thing or places."""
    counts: Counter[str] = Counter()
    for text in sentences:
        for m in _NAME.finditer(text):
            name = m.group(1)
            first = name.split()[0].split("-")[0]
            if first in _NOT_NAMES or lexicon.knows_name(name) or name_kind(name) is None:
                continue
            if _fragment(text, m.start()):
                continue
            counts[name] += 1
    return counts


_ENDS_IN_A_NAME = re.compile(r"[A-Z][\w'’-]* $")


def _fragment(text: str, start: int) -> bool:
    """Whether the name at ``start`` goes on a run of capitalised words begun before it (the
    end of "South Korean President Yoon Suk Yeol" is no name of its own)."""
    return start > 1 and _ENDS_IN_A_NAME.search(text, max(0, start - 40), start) is not None


def signature(body: str) -> dict[str, int]:
    """The document's most frequent content terms: enough to compare events cheaply."""
    # What ``Counter.most_common`` returns (a stable sort: ties keep their first-seen order),
    # without its heap, which costs more for a few hundred terms.
    counts = Counter(terms(body))
    return dict(sorted(counts.items(), key=itemgetter(1), reverse=True)[:SIGNATURE_TERMS])


def shingles(body: str, size: int = 5) -> set[int]:
    words = re.findall(r"\w+", body.lower())
    return {hash(" ".join(words[i : i + size])) for i in range(max(0, len(words) - size + 1))}


def story_window(published: date) -> tuple[date, date]:
    return published - timedelta(days=STORY_WINDOW_DAYS), published + timedelta(
        days=STORY_WINDOW_DAYS + 1
    )


ProgressFn = Callable[[int, int], None]
