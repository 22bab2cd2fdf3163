"""Compose a brief: pick central, non-redundant source sentences and file them in sections.

Every statement is a stored sentence, verbatim, with its citation; nothing is paraphrased.
The composer reads the store through its interface and is otherwise pure.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from briefs.brief import (
    SECTION_HEADINGS,
    SECTION_ORDER,
    Brief,
    Citation,
    EntityRef,
    Item,
    Kind,
    Query,
    Quote,
    Section,
    SourceRef,
    StoryRef,
    TimelineEntry,
    Window,
)
from briefs.dates import find_dates
from briefs.lexicon import Entity, Lexicon, Topic
from briefs.rank import Vector, centrality, cosine, mmr, tfidf_vectors
from briefs.store.base import DocumentSummary, SentenceRow, Store

# Ranking never looks at more sentences than this; the index narrows the field first.
MAX_CANDIDATES = 3000
TIMELINE_ITEMS = 8
# Documents at least this alike (TF-IDF cosine), two days apart at most, report one story.
STORY_SIMILARITY = 0.33
_QUOTE_MARKS = ('"', "“", "”")


@dataclass(frozen=True)
class BriefRequest:
    topic: str | None = None
    entity: str | None = None
    query: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    max_items: int = 12
    bluf_items: int = 3
    kind: Kind = "brief"


@dataclass
class _Candidate:
    row: SentenceRow
    doc: DocumentSummary
    vector: Vector = field(default_factory=dict)
    relevance: float = 0.0
    section: str = "developments"
    date: str | None = None
    date_precision: str | None = None


def _norm(text: str) -> str:
    return " ".join(text.split())


def _published_date(doc: DocumentSummary) -> datetime | None:
    return doc.published_at


def _quality(text: str, lexicon: Lexicon) -> float:
    words = len(text.split())
    score = 1.0
    if words < 8:
        score *= 0.4
    if text.rstrip("\"”’' ").endswith("?"):
        score *= 0.2
    if lexicon.cue("low_value", text):
        score *= 0.2
    if words > 70:
        score *= 0.7
    return score


def classify(text: str, lexicon: Lexicon) -> str:
    """The brief section a statement belongs in, by cue words (config/cues.toml)."""
    if lexicon.cue("denials", text):
        return "denials"
    sanctions = lexicon.topics.get("sanctions")
    if sanctions is not None and sanctions.matches(text):
        return "sanctions"
    if any(mark in text for mark in _QUOTE_MARKS) and lexicon.cue("speech", text):
        return "quotes"
    if lexicon.cue("watch", text):
        return "watch"
    return "developments"


def _gather(
    store: Store, request: BriefRequest, topic: Topic | None, entity: Entity | None
) -> tuple[list[SentenceRow], dict[str, float], list[str]]:
    notes: list[str] = []
    query_scores: dict[str, float] = {}
    if request.query:
        hits = store.search(request.query, MAX_CANDIDATES, request.since, request.until)
        if not hits:
            hits = store.search(
                request.query, MAX_CANDIDATES, request.since, request.until, mode="any"
            )
            if hits:
                notes.append("No statement has every word of the query; showing those with any.")
        top = max((h.score for h in hits), default=1.0) or 1.0
        query_scores = {h.sentence.ref: h.score / top for h in hits}
        rows = [h.sentence for h in hits]
    else:
        rows = store.live_sentences(request.since, request.until)
    if topic is not None:
        rows = [r for r in rows if topic.matches(r.text)]
    if entity is not None:
        rows = [r for r in rows if entity.count(r.text)]
    if len(rows) > MAX_CANDIDATES:
        rows = rows[-MAX_CANDIDATES:]  # live_sentences is oldest first: keep the newest
    return rows, query_scores, notes


def compose_brief(store: Store, lexicon: Lexicon, request: BriefRequest, now: datetime) -> Brief:
    """Build a brief for ``request`` from the store."""
    topic = lexicon.topic(request.topic) if request.topic else None
    entity = lexicon.entity(request.entity) if request.entity else None
    rows, query_scores, notes = _gather(store, request, topic, entity)
    title = _title(request, topic, entity)
    brief = Brief(
        kind=request.kind,
        title=title,
        generated_at=now,
        window=Window(request.since, request.until),
        query=Query(
            topic=topic.key if topic else None,
            entity=entity.name if entity else None,
            text=request.query,
        ),
        notes=notes,
    )
    if not rows:
        brief.notes.append("No stored statement matches this request.")
        return brief

    docs = {d.id: d for d in store.summaries({r.document_id for r in rows})}
    candidates = [_Candidate(r, docs[r.document_id]) for r in rows if r.document_id in docs]
    _score(candidates, lexicon, query_scores)

    selected = _select(candidates, request, lexicon)
    refs: dict[str, int] = {}

    def cite(c: _Candidate) -> list[Citation]:
        same = [o for o in candidates if _norm(o.row.text) == _norm(c.row.text)]
        same.sort(key=lambda o: (o is not c, o.row.ref))
        out = []
        for o in same:
            ref = refs.setdefault(o.row.document_id, len(refs) + 1)
            out.append(Citation(ref, o.row.ref))
        return out

    def item(c: _Candidate) -> Item:
        return Item(c.row.text, cite(c), c.date, "denial" if c.section == "denials" else None)

    bluf, by_section = selected
    brief.bluf = [item(c) for c in bluf]
    for key in SECTION_ORDER:
        if by_section.get(key):
            brief.sections.append(
                Section(key, SECTION_HEADINGS[key], [item(c) for c in by_section[key]])
            )
    brief.timeline = _timeline(candidates, cite)
    chosen = [*bluf, *(c for key in SECTION_ORDER for c in by_section.get(key, []))]
    brief.quotes = [
        Quote(_speaker(c.row.text, lexicon), c.row.text, cite(c))
        for c in chosen
        if c.section == "quotes"
    ]
    brief.entities = _entities(lexicon, [c.row.text for c in candidates])
    brief.sources = [
        source_ref(ref, docs[doc_id]) for doc_id, ref in sorted(refs.items(), key=lambda kv: kv[1])
    ]
    brief.stories = _stories(candidates, refs, docs)
    if request.since is None and request.until is None:
        dates = [d.published_at for d in (docs[i] for i in refs) if d.published_at]
        if dates:
            brief.window = Window(min(dates), max(dates))
    return brief


def source_ref(ref: int, doc: DocumentSummary) -> SourceRef:
    """The entry of a brief's source list for ``doc``."""
    published = doc.published_at.date().isoformat() if doc.published_at else None
    return SourceRef(ref, doc.id, doc.title, doc.publisher, published, doc.url, doc.origin)


def _score(candidates: list[_Candidate], lexicon: Lexicon, query_scores: dict[str, float]) -> None:
    vectors = tfidf_vectors([c.row.text for c in candidates])
    central = centrality(vectors, [c.row.document_id for c in candidates])
    stamps = [d.timestamp() for c in candidates if (d := _published_date(c.doc))]
    oldest, newest = (min(stamps), max(stamps)) if stamps else (0.0, 0.0)
    span = (newest - oldest) or 1.0
    for c, vec, cent in zip(candidates, vectors, central, strict=True):
        c.vector = vec
        lead = 1.0 if c.row.position == 0 else 0.9 if c.row.position < 3 else 0.8
        published = _published_date(c.doc)
        recency = 0.9 + 0.1 * ((published.timestamp() - oldest) / span) if published else 0.9
        relevance = 0.5 + 0.5 * query_scores[c.row.ref] if query_scores else 1.0
        c.relevance = cent * lead * recency * relevance * _quality(c.row.text, lexicon)
        c.section = classify(c.row.text, lexicon)
        if published:
            found = find_dates(c.row.text, published.date())
            if found:
                c.date = found[0].value.isoformat()
                c.date_precision = found[0].precision


def _select(
    candidates: list[_Candidate], request: BriefRequest, lexicon: Lexicon
) -> tuple[list[_Candidate], dict[str, list[_Candidate]]]:
    relevance = [c.relevance for c in candidates]
    vectors = [c.vector for c in candidates]

    def diversity_bonus(i: int, chosen: list[int]) -> float:
        used = {candidates[j].row.document_id for j in chosen}
        return 0.08 if candidates[i].row.document_id not in used else 0.0

    budget = request.max_items
    declarative = [
        i
        for i, c in enumerate(candidates)
        if not c.row.text.startswith(('"', "“", "'", "‘"))
        and _quality(c.row.text, lexicon) >= 1.0
        and c.section != "denials"
    ] or list(range(len(candidates)))
    bluf = mmr(
        declarative, relevance, vectors, min(request.bluf_items, budget), bonus=diversity_bonus
    )
    chosen = list(bluf)
    by_section: dict[str, list[int]] = defaultdict(list)
    # One statement for each kind of section that has material, then the best of the rest.
    for key in ("quotes", "sanctions", "denials", "watch", "developments"):
        if len(chosen) >= budget:
            break
        pool = [i for i, c in enumerate(candidates) if c.section == key and i not in chosen]
        pick = mmr(pool, relevance, vectors, 1, chosen=chosen, bonus=diversity_bonus)
        for i in pick:
            by_section[key].append(i)
            chosen.append(i)
    rest = mmr(
        list(range(len(candidates))),
        relevance,
        vectors,
        max(0, budget - len(chosen)),
        chosen=chosen,
        bonus=diversity_bonus,
    )
    for i in rest:
        by_section[candidates[i].section].append(i)
    return [candidates[i] for i in bluf], {
        key: [candidates[i] for i in ids] for key, ids in by_section.items()
    }


def _timeline(candidates: Sequence[_Candidate], cite: object) -> list[TimelineEntry]:
    dated = [c for c in candidates if c.date and c.relevance > 0]
    dated.sort(key=lambda c: -c.relevance)
    seen: set[str] = set()
    picked: list[_Candidate] = []
    for c in dated:
        key = _norm(c.row.text)
        if key in seen:
            continue
        seen.add(key)
        picked.append(c)
        if len(picked) >= TIMELINE_ITEMS:
            break
    picked.sort(key=lambda c: (c.date or "", c.row.ref))
    assert callable(cite)
    return [
        TimelineEntry(c.date or "", c.date_precision or "day", c.row.text, cite(c)) for c in picked
    ]


_SPEECH = r"(?:said|told|added|stressed|noted|warned|urged|reiterated|underscored)"


def _speaker(text: str, lexicon: Lexicon) -> str | None:
    """The named person a quoted statement is attributed to ("..., Kirby said"), if named."""
    for entity in lexicon.entities:
        if entity.type != "person":
            continue
        aliases = "|".join(re.escape(a) for a in sorted(entity.aliases, key=len, reverse=True))
        attributed = re.search(
            rf"(?:(?<![\w.])(?:{aliases})\s+(?:\w+\s+)?{_SPEECH}|{_SPEECH}\s+(?:{aliases})(?![\w-]))",
            text,
        )
        if attributed:
            return entity.name
    return None


def _entities(lexicon: Lexicon, texts: Sequence[str], limit: int = 12) -> list[EntityRef]:
    counts = lexicon.mentions(texts)
    out = []
    for entity_id, n in counts.most_common(limit):
        entity = lexicon.by_id(entity_id)
        if entity is not None:
            out.append(EntityRef(entity.id, entity.name, entity.type, n))
    return out


def _stories(
    candidates: Sequence[_Candidate], refs: dict[str, int], docs: dict[str, DocumentSummary]
) -> list[StoryRef]:
    """Group cited documents that report the same event: similar text, close in time."""
    cited = sorted(refs, key=lambda d: refs[d])
    texts = {d: " ".join(c.row.text for c in candidates if c.row.document_id == d) for d in cited}
    vectors = dict(zip(cited, tfidf_vectors([texts[d] for d in cited]), strict=True))
    parent = {d: d for d in cited}

    def find(d: str) -> str:
        while parent[d] != d:
            d = parent[d]
        return d

    for i, a in enumerate(cited):
        for b in cited[i + 1 :]:
            da, db = docs[a].published_at, docs[b].published_at
            close = da is not None and db is not None and abs((da - db).days) <= 2
            if close and cosine(vectors[a], vectors[b]) >= STORY_SIMILARITY:
                parent[find(b)] = find(a)
    groups: dict[str, list[str]] = defaultdict(list)
    for d in cited:
        groups[find(d)].append(d)
    stories = []
    for members in groups.values():
        first = min(members, key=lambda d: (docs[d].published_at is None, docs[d].published_at))
        stories.append(
            StoryRef(
                id=f"s-{first}",
                title=docs[first].title,
                refs=sorted(refs[d] for d in members),
            )
        )
    return stories


def _title(request: BriefRequest, topic: Topic | None, entity: Entity | None) -> str:
    parts = []
    if topic:
        parts.append(topic.label)
    if entity:
        parts.append(entity.name)
    if request.query:
        parts.append(f"“{request.query}”")
    if request.since or request.until:
        start = request.since.date().isoformat() if request.since else "…"
        end = request.until.date().isoformat() if request.until else "now"
        parts.append(f"{start} to {end}")
    return "Brief: " + (" · ".join(parts) if parts else "sanctions and arms-trade news")
