"""Compose a brief: pick central, non-redundant source sentences and file them in sections.

Every statement is a stored sentence, verbatim, with its citation; nothing is paraphrased.
Candidates come from the store's indexes (full-text, topic, entity, salience), so ranking
work is bounded however large the store grows. The composer is otherwise pure.

The digest composer (``briefs.compose.digest``) ranks and cites the same way, through the small
public API here: ``Candidate``, ``score_candidates``, ``citer``, ``cited_item``, ``finish``
and ``story_ref``, so the two never drift apart. Sources are numbered by a ``SourceBook``
(``briefs.compose.sources``), as in every other view.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from briefs.analysis.scoring import quality
from briefs.brief import (
    SECTION_HEADINGS,
    SECTION_ORDER,
    Brief,
    Citation,
    EntityRef,
    Item,
    Kind,
    NewName,
    Query,
    Quote,
    Section,
    StoryLine,
    StoryRef,
    TimelineEntry,
    Window,
)
from briefs.compose.rank import TermMatrix, centrality, mmr
from briefs.compose.redundancy import Gist, gist, is_near_repeat
from briefs.compose.sources import SourceBook
from briefs.errors import InputError
from briefs.lexicon import Entity, Lexicon, Topic
from briefs.names import name_kind
from briefs.store.base import DocumentSummary, SentenceRow, Store, Visibility

# Ranking never looks at more sentences than this; the indexes narrow the field first.
MAX_CANDIDATES = 600
TIMELINE_ITEMS = 8
NEW_NAMES = 5
# Concrete measures (designations, summonses) are rare in the text but central to the brief.
MEASURE_BOOST = 1.6
# Relevance factor of a statement on context topics alone (``Topic.context``: summits,
# exercises), none of the subjects of the brief (arms, munitions, sanctions...).
CONTEXT_ONLY = 0.8
# Share of centrality (against informativeness) in a statement's relevance.
CENTRALITY_WEIGHT = 0.6
# The bottom line must not repeat itself: it weighs redundancy more than the sections do.
BLUF_DIVERSITY = 0.6
# Bonus for a statement of a story not covered yet (a story already covered gets none).
STORY_BONUS = 0.08
# A section holds at most budget / SECTION_SHARE statements (at least two).
SECTION_SHARE = 4
# Weight of redundancy against relevance when choosing statements (maximal marginal relevance).
DIVERSITY = 0.5
_QUOTE_OPENERS = ('"', "“", "'", "‘")
# A brief on several stories leads with the events: one line per story (the bottom line holds
# the top stories' lines, Key developments the next ones), at most budget / EVENT_SHARE lines.
EVENT_SHARE = 2
# A story's line is its most relevant statement that does not repeat an earlier line: term
# likeness to other stories' lines counts for little (they are other events).
LINE_DIVERSITY = 0.1
# Times a filled brief may give up a statement that the others, chosen after it, say all of
# (a near-repeat of the rest), to take the next best in its place.
PRUNE_ROUNDS = 4
# What makes a story lead, beside its outlets (``story_importance``).
RECENCY_WEIGHT = 0.5
ACT_WEIGHT = 0.5
# Predicate classes (``briefs.compose.redundancy``) of the acts a brief on sanctions and arms
# must lead with: a transfer, a sanction.
ACTS = frozenset({"<transfer>", "<sanction>"})


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
    # Only documents this view may see (a scope's); None: the whole store.
    visible: Visibility | None = None


@dataclass
class Candidate:
    """A sentence up for selection, with its document; ``score_candidates`` fills in
    relevance, quality and section."""

    row: SentenceRow
    doc: DocumentSummary
    relevance: float = 0.0
    quality: float = 1.0
    section: str = "developments"

    @property
    def story(self) -> str:
        return self.row.story_id or self.row.document_id


def _norm(text: str) -> str:
    return " ".join(text.split())


def section_of(row: SentenceRow, lexicon: Lexicon) -> str:
    """The brief section a statement belongs in, from its analysis and cue words."""
    if row.stance == "denial" or lexicon.cue("contested", row.text):
        return "denials"
    if row.direct and row.speaker:
        return "quotes"
    if "sanctions" in row.topic_keys:
        return "sanctions"
    if lexicon.cue("watch", row.text):
        return "watch"
    return "developments"


def gather(
    store: Store,
    request: BriefRequest,
    topic: Topic | None,
    entity: Entity | None,
    limit: int = MAX_CANDIDATES,
) -> tuple[list[SentenceRow], dict[str, float], list[str]]:
    """Candidate sentences for a request, from the indexes; with query scores and notes."""
    notes: list[str] = []
    query_scores: dict[str, float] = {}
    text_query = request.query
    if entity is not None and entity.type == "unknown":
        # Not in the gazetteer: find the name through the full-text index.
        text_query = " ".join(filter(None, [request.query, entity.name]))
        notes.append(
            f"{entity.name!r} is not in the gazetteer; showing statements that name it as written."
        )
    if text_query:
        hits = store.search.sentences(
            text_query, limit, request.since, request.until, visible=request.visible
        )
        loosened = False
        if not hits:
            hits = store.search.sentences(
                text_query, limit, request.since, request.until, "any", request.visible
            )
            loosened = bool(hits)
        top = max((h.score for h in hits), default=1.0) or 1.0
        query_scores = {h.sentence.ref: h.score / top for h in hits}
        rows = [h.sentence for h in hits]
        if topic is not None:
            rows = [r for r in rows if topic.key in r.topic_keys]
        if entity is not None:
            rows = [r for r in rows if entity.count(r.text)]
        if loosened and rows:
            notes.append("No statement has every word of the query; showing those with any.")
    else:
        rows = store.analysis.live_sentences(
            request.since,
            request.until,
            topic=topic.key if topic else None,
            entity_id=entity.id if entity else None,
            limit=limit,
            visible=request.visible,
        )
    return rows, query_scores, notes


def check_filters(
    topic: str | None = None, entity: str | None = None, query: str | None = None
) -> None:
    """Refuse a topic, entity or query given empty (or blank): it is a mistake, and taken as
    "no filter" it would answer with the whole corpus."""
    for what, value in (("topic", topic), ("entity name", entity), ("query", query)):
        if value is not None and not value.strip():
            raise InputError(f"the {what} is empty (give one, or leave the option out)")


def compose_brief(store: Store, lexicon: Lexicon, request: BriefRequest, now: datetime) -> Brief:
    """Build a brief for ``request`` from the (analysed) store."""
    check_filters(request.topic, request.entity, request.query)
    topic = lexicon.topic(request.topic) if request.topic else None
    entity = lexicon.entity(request.entity) if request.entity else None
    rows, query_scores, notes = gather(store, request, topic, entity)
    brief = Brief(
        kind=request.kind,
        title=_title(request, topic, entity),
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
        if entity is not None and entity.type == "unknown":
            close = lexicon.close_names(entity.name)
            if close:
                brief.notes.append(f"Names in the gazetteer close to it: {', '.join(close)}.")
        return brief

    docs = {d.id: d for d in store.documents.summaries({r.document_id for r in rows})}
    candidates = [Candidate(r, docs[r.document_id]) for r in rows if r.document_id in docs]
    matrix = score_candidates(candidates, lexicon, query_scores)
    bluf, by_section, lines = _select(candidates, matrix, request, lexicon)

    book = SourceBook()
    cite = citer(candidates, book)
    brief.bluf = [cited_item(c, cite, lines.get(id(c))) for c in bluf]
    for key in SECTION_ORDER:
        if by_section.get(key):
            items = [cited_item(c, cite, lines.get(id(c))) for c in by_section[key]]
            brief.sections.append(Section(key, SECTION_HEADINGS[key], items))
    chosen = [*bluf, *(c for key in SECTION_ORDER for c in by_section.get(key, []))]
    brief.timeline = _timeline(candidates, cite)
    names = store.analysis.new_names(request.since, request.until, visible=request.visible)
    finish(brief, lexicon, chosen, cite, book, docs, names, [t.text for t in brief.timeline])
    brief.stories = _stories(candidates, book.numbers, docs)
    if request.since is None and request.until is None:
        dates = [d.published_at for d in (docs[i] for i in book.numbers) if d.published_at]
        if dates:
            # Exclusive end, like a requested window: midnight after the latest source's day.
            last = max(dates).replace(hour=0, minute=0, second=0, microsecond=0)
            brief.window = Window(min(dates), last + timedelta(days=1))
    return brief


def finish(
    brief: Brief,
    lexicon: Lexicon,
    chosen: Sequence[Candidate],
    cite: Callable[[Candidate], list[Citation]],
    book: SourceBook,
    docs: Mapping[str, DocumentSummary],
    new_names: Sequence[tuple[str, int]],
    also_named: Sequence[str] = (),
) -> None:
    """The end every ranked brief shares (brief, entity, digest), once its statements are
    cited: the direct quotes among ``chosen``, the entities they (and ``also_named``) name,
    the numbered sources and the first new names."""
    brief.quotes = [
        Quote(c.row.speaker, c.row.text, cite(c)) for c in chosen if c.row.direct and c.row.speaker
    ]
    brief.entities = entity_refs(lexicon, [*(c.row.text for c in chosen), *also_named])
    brief.sources = book.sources(docs)
    brief.new_names = new_name_list(lexicon, new_names)


def new_name_list(lexicon: Lexicon, counted: Sequence[tuple[str, int]]) -> list[NewName]:
    """The first ``NEW_NAMES`` new names, each typed, and said to be spelt like a known
    entity when it is (a store analysed before names were typed may still hold a name of
    no kind: it is left out)."""
    out: list[NewName] = []
    for name, n in counted:
        kind = name_kind(name)
        if kind is None:
            continue
        like = lexicon.close_entity(name)
        out.append(NewName(name, n, kind, like.name if like else None))
        if len(out) == NEW_NAMES:
            break
    return out


def citer(
    candidates: Sequence[Candidate], book: SourceBook
) -> Callable[[Candidate], list[Citation]]:
    """Cite a candidate, and every other candidate with the very same text (wire copy).

    A candidate is cited first, then the rest of its group by citation. Wire copy can put a
    hundred candidates in one group, cited again by every statement of the group: the group
    is sorted once, and its citations are made once (the first time numbers its documents in
    ``book``, for good), then reordered.
    """
    by_text: dict[str, list[Candidate]] = defaultdict(list)
    group_of: dict[int, list[Candidate]] = {}
    norms: dict[str, str] = {}
    for c in candidates:
        text = c.row.text
        norm = norms.get(text)
        if norm is None:
            norm = norms[text] = _norm(text)
        group = by_text[norm]
        group.append(c)
        group_of[id(c)] = group
    for group in by_text.values():
        group.sort(key=lambda o: o.row.ref)
    made: dict[int, Citation] = {}

    def cite(c: Candidate) -> list[Citation]:
        group = group_of.get(id(c))
        if group is None:  # not a candidate: cited through its copies among them alone
            return [book.cite(o.row) for o in by_text.get(_norm(c.row.text), [])]
        if id(c) not in made:
            for o in (c, *(o for o in group if o is not c)):
                made[id(o)] = book.cite(o.row)
        return [made[id(c)], *(made[id(o)] for o in group if o is not c)]

    return cite


def cited_item(
    c: Candidate, cite: Callable[[Candidate], list[Citation]], story: StoryLine | None = None
) -> Item:
    """A candidate as a brief item: verbatim text, its citations (``cite``), date, stance,
    and the story it stands for when it is an event line."""
    stance = c.row.stance if c.row.stance in {"claim", "denial", "confirmation"} else None
    if c.section == "denials" and stance is None:
        stance = "denial"
    return Item(c.row.text, cite(c), c.row.date_value, stance, story)  # type: ignore[arg-type]


def score_candidates(
    candidates: list[Candidate], lexicon: Lexicon, query_scores: dict[str, float]
) -> TermMatrix:
    """Set each candidate's relevance and section; return their term matrix."""
    matrix = TermMatrix.from_texts([c.row.text for c in candidates])
    central = centrality(matrix, [c.row.document_id for c in candidates])
    stamps = [c.doc.published_at.timestamp() for c in candidates if c.doc.published_at]
    oldest, newest = (min(stamps), max(stamps)) if stamps else (0.0, 0.0)
    span = (newest - oldest) or 1.0
    top_salience = max((c.row.salience or 0.0 for c in candidates), default=0.0) or 1.0
    # The cue patterns are the dearest part after the matrix: each distinct text (wire copy
    # repeats one across outlets) is matched once.
    by_text: dict[str, tuple[float, bool]] = {}
    sections: dict[tuple[str, str | None, bool, bool], str] = {}
    context = {t.key for t in lexicon.topics.values() if t.context}
    for c, cent in zip(candidates, central, strict=True):
        text = c.row.text
        known = by_text.get(text)
        if known is None:
            known = by_text[text] = (
                quality(text, lexicon.cue("low_value", text)),
                lexicon.cue("measures", text),
            )
        c.quality, measures = known
        section_key = (
            text,
            c.row.stance,
            bool(c.row.direct and c.row.speaker),
            "sanctions" in c.row.topic_keys,
        )
        section = sections.get(section_key)
        if section is None:
            section = sections[section_key] = section_of(c.row, lexicon)
        c.section = section
        lead = 1.0 if c.row.position == 0 else 0.9 if c.row.position < 3 else 0.8
        published = c.doc.published_at
        recency = 0.9 + 0.1 * ((published.timestamp() - oldest) / span) if published else 0.9
        relevance = 0.5 + 0.5 * query_scores.get(c.row.ref, 0.0) if query_scores else 1.0
        # Central (said across outlets) or informative (names, topics, measures, dates):
        # a designation reported once matters as much as a concern repeated five times.
        informative = (c.row.salience or 0.0) / top_salience
        if measures:
            informative = min(1.0, informative * MEASURE_BOOST)
        blend = CENTRALITY_WEIGHT * cent + (1 - CENTRALITY_WEIGHT) * informative
        c.relevance = blend * lead * recency * relevance * c.quality
        if context and set(c.row.topic_keys) <= context:
            c.relevance *= CONTEXT_ONLY
    return matrix


def repeat_check(
    candidates: Sequence[Candidate],
) -> tuple[Callable[[int, list[int]], bool], Callable[[int], Gist]]:
    """``mmr``'s ``skip``: is candidate ``i`` a near-repeat of the chosen ones
    (``briefs.compose.redundancy``)? And each candidate's gist, worked out once, when first
    asked."""
    gists: dict[int, Gist] = {}

    def gist_of(i: int) -> Gist:
        found = gists.get(i)
        if found is None:
            row = candidates[i].row
            found = gists[i] = gist(row.text, row.speaker, row.direct)
        return found

    def repeats(i: int, chosen: list[int]) -> bool:
        return bool(chosen) and is_near_repeat(gist_of(i), [gist_of(j) for j in chosen])

    return repeats, gist_of


def story_importance(outlets: int, recency: float, acts: bool, best: float) -> float:
    """How strongly a story leads a brief: the outlets that report it first, then how recent
    it is (0 to 1 across the candidates), whether it reports an act (a transfer, a sanction:
    what a brief on sanctions and arms exists for) and how relevant its best statement is."""
    return outlets + RECENCY_WEIGHT * recency + ACT_WEIGHT * acts + best


def story_order(
    candidates: Sequence[Candidate], gist_of: Callable[[int], Gist], lexicon: Lexicon
) -> list[tuple[str, StoryLine]]:
    """The candidates' stories, most important first (``story_importance``), each with the
    line it gets: its first report's date and its outlets among the candidates' documents."""
    docs: dict[str, dict[str, DocumentSummary]] = defaultdict(dict)
    best: dict[str, float] = defaultdict(float)
    acts: dict[str, bool] = defaultdict(bool)
    for i, c in enumerate(candidates):
        docs[c.story][c.doc.id] = c.doc
        best[c.story] = max(best[c.story], c.relevance)
        if not acts[c.story] and c.relevance > 0:
            acts[c.story] = bool(gist_of(i).predicates & ACTS) or lexicon.cue(
                "measures", c.row.text
            )
    stamps = [c.doc.published_at.timestamp() for c in candidates if c.doc.published_at]
    oldest, newest = (min(stamps), max(stamps)) if stamps else (0.0, 0.0)
    scored: list[tuple[float, str, StoryLine]] = []
    for story, members in docs.items():
        published = [d.published_at for d in members.values() if d.published_at]
        recency = (
            (max(published).timestamp() - oldest) / ((newest - oldest) or 1.0) if published else 0.0
        )
        outlets = len({d.publisher or d.id for d in members.values()})
        date = min(published).date().isoformat() if published else None
        weight = story_importance(outlets, recency, acts[story], best[story])
        scored.append((weight, story, StoryLine(story, date, outlets)))
    scored.sort(key=lambda t: (-t[0], t[1]))
    return [(story, line) for _, story, line in scored]


def _select(
    candidates: list[Candidate], matrix: TermMatrix, request: BriefRequest, lexicon: Lexicon
) -> tuple[list[Candidate], dict[str, list[Candidate]], dict[int, StoryLine]]:
    """The bottom line, the sections' statements, and the event lines among them (by the
    candidate's ``id``)."""
    relevance = [c.relevance for c in candidates]
    repeats, gist_of = repeat_check(candidates)
    stories = [c.story for c in candidates]
    doc_ids = [c.row.document_id for c in candidates]
    # mmr asks for every candidate's bonus against one selection: its stories and outlets
    # are counted once per selection, not once per candidate.
    selections: dict[tuple[int, ...], tuple[Counter[str], set[str]]] = {}

    def story_bonus(i: int, chosen: list[int]) -> float:
        """Cover distinct stories, then distinct outlets, before a second sentence of one."""
        key = tuple(chosen)
        seen = selections.get(key)
        if seen is None:
            seen = selections[key] = (
                Counter(stories[j] for j in chosen),
                {doc_ids[j] for j in chosen},
            )
        bonus = 0.0 if seen[0][stories[i]] else STORY_BONUS
        return bonus + (0.03 if doc_ids[i] not in seen[1] else 0.0)

    def next_best(pool: list[int]) -> list[int]:
        """The best of ``pool`` given the selection: relevant, unlike it, no near-repeat."""
        return mmr(
            pool,
            relevance,
            matrix,
            1,
            chosen=chosen,
            bonus=story_bonus,
            diversity=DIVERSITY,
            skip=repeats,
        )

    budget = request.max_items
    declarative = [
        i
        for i, c in enumerate(candidates)
        if not c.row.text.startswith(_QUOTE_OPENERS) and c.quality >= 1.0 and c.section != "denials"
    ] or list(range(len(candidates)))
    by_section: dict[str, list[int]] = defaultdict(list)
    # Only a brief leads with the events (an entity brief is about its entity).
    order = story_order(candidates, gist_of, lexicon) if request.kind == "brief" else []
    lines: dict[int, StoryLine] = {}
    if len(order) > 1:
        # Event first: the top stories' lines are the bottom line, the next ones Key
        # developments; a story whose every statement repeats an earlier line is left out.
        chosen: list[int] = []
        wanted = min(len(order), max(request.bluf_items, budget // EVENT_SHARE), budget)
        usable = set(declarative)
        for story, line in order:
            if len(chosen) >= wanted:
                break
            members = [i for i, s in enumerate(stories) if s == story]
            pool = [i for i in members if i in usable] or members
            for i in mmr(
                pool, relevance, matrix, 1, chosen=chosen, diversity=LINE_DIVERSITY, skip=repeats
            ):
                lines[i] = line
                chosen.append(i)
        bluf = chosen[: min(request.bluf_items, budget)]
        by_section["developments"] = chosen[len(bluf) :]
    else:
        bluf = mmr(
            declarative,
            relevance,
            matrix,
            min(request.bluf_items, budget),
            bonus=story_bonus,
            diversity=BLUF_DIVERSITY,
            skip=repeats,
        )
        chosen = list(bluf)
        # Every story gets a statement before any story gets a second (largest stories first).
        weight: dict[str, float] = defaultdict(float)
        for story, c in zip(stories, candidates, strict=True):
            weight[story] = max(weight[story], c.relevance)
        covered = {stories[i] for i in chosen}
        for story in sorted(weight, key=lambda s: -weight[s]):
            if len(chosen) >= budget:
                break
            if story in covered:
                continue
            pool = [i for i, s in enumerate(stories) if s == story and i not in chosen]
            for i in mmr(
                pool, relevance, matrix, 1, chosen=chosen, diversity=DIVERSITY, skip=repeats
            ):
                by_section[candidates[i].section].append(i)
                chosen.append(i)
    # One statement for each kind of section that has material, then the best of the rest.
    for key in ("quotes", "sanctions", "denials", "watch", "developments"):
        if len(chosen) >= budget:
            break
        if key == "developments" and lines:
            continue  # opened by the event lines
        pool = [i for i, c in enumerate(candidates) if c.section == key and i not in chosen]
        # A section opens with its most telling kind of statement: a measure actually taken,
        # a denial by the party accused, a quote by a named person, a plan stated unhedged.
        preferred = [i for i in pool if _telling(candidates[i], key, lexicon)]
        for i in next_best(preferred or pool):
            by_section[key].append(i)
            chosen.append(i)
    # Then the best of the rest, one at a time, no section taking more than its share.
    cap = max(2, math.ceil(budget / SECTION_SHARE))
    dropped: set[int] = set()
    for rounds in range(PRUNE_ROUNDS + 1):
        while len(chosen) < budget:
            pool = [
                i
                for i, c in enumerate(candidates)
                if i not in chosen and i not in dropped and len(by_section[c.section]) < cap
            ]
            picked = next_best(pool)
            if not picked:
                break
            by_section[candidates[picked[0]].section].append(picked[0])
            chosen.append(picked[0])
        if rounds == PRUNE_ROUNDS:
            break
        # Near-repeats are judged against what was chosen before; a statement chosen early
        # can turn out to say nothing the later ones do not: it gives way (lines and the
        # bottom line stay), and the budget is filled again.
        gone = next(
            (
                j
                for j in chosen
                if j not in lines and j not in bluf and repeats(j, [o for o in chosen if o != j])
            ),
            None,
        )
        if gone is None:
            break
        chosen.remove(gone)
        by_section[candidates[gone].section].remove(gone)
        dropped.add(gone)
    return (
        [candidates[i] for i in bluf],
        {key: [candidates[i] for i in ids] for key, ids in by_section.items()},
        {id(candidates[i]): line for i, line in lines.items()},
    )


def _telling(c: Candidate, section: str, lexicon: Lexicon) -> bool:
    if section == "sanctions":
        return lexicon.cue("measures", c.row.text)
    if section == "denials":
        return c.row.stance == "denial"
    if section == "quotes":
        return c.row.speaker_kind == "person"
    if section == "watch":
        # Something announced or promised, before what may or could happen.
        return not lexicon.cue("hedges", c.row.text)
    return True


def _timeline(
    candidates: Sequence[Candidate], cite: Callable[[Candidate], list[Citation]]
) -> list[TimelineEntry]:
    """The most relevant dated statements, oldest first."""
    dated = sorted(
        (c for c in candidates if c.row.date_value and c.relevance > 0),
        key=lambda c: (c.row.date_precision != "day", -c.relevance),
    )
    seen: set[str] = set()
    seen_raw: set[str] = set()  # texts as stored: a repeat is skipped without normalising
    picked: list[Candidate] = []
    for c in dated:
        if c.row.text in seen_raw:
            continue
        seen_raw.add(c.row.text)
        key = _norm(c.row.text)
        if key not in seen:
            seen.add(key)
            picked.append(c)
        if len(picked) >= TIMELINE_ITEMS:
            break
    picked.sort(key=lambda c: (c.row.date_value or "", c.row.ref))
    return [
        TimelineEntry(c.row.date_value or "", c.row.date_precision or "day", c.row.text, cite(c))
        for c in picked
    ]


def entity_refs(lexicon: Lexicon, texts: Sequence[str], limit: int = 12) -> list[EntityRef]:
    """The gazetteer entities the chosen statements name, most mentioned first."""
    counts = lexicon.mentions(texts)
    out = []
    for entity_id, n in counts.most_common(limit):
        entity = lexicon.by_id(entity_id)
        if entity is not None:
            out.append(EntityRef(entity.id, entity.name, entity.type, n))
    return out


def _stories(
    candidates: Sequence[Candidate], refs: Mapping[str, int], docs: dict[str, DocumentSummary]
) -> list[StoryRef]:
    """The cited documents grouped by the story (event) analysis assigned them to."""
    story_of = {c.row.document_id: c.story for c in candidates}
    groups: dict[str, list[DocumentSummary]] = defaultdict(list)
    for doc_id in sorted(refs, key=lambda d: refs[d]):
        groups[story_of.get(doc_id, doc_id)].append(docs[doc_id])
    return [story_ref(story_id, members, refs) for story_id, members in groups.items()]


def story_ref(
    story_id: str, members: Sequence[DocumentSummary], refs: Mapping[str, int]
) -> StoryRef:
    """A story as the brief lists it: title, sources, outlets, first and last report."""
    dates = sorted(d.published_at.date().isoformat() for d in members if d.published_at)
    outlets = {d.publisher or d.id for d in members}
    return StoryRef(
        id=story_id,
        title=story_title(members),
        refs=sorted(refs[d.id] for d in members if d.id in refs),
        outlets=len(outlets),
        first_report=dates[0] if dates else None,
        last_report=dates[-1] if dates else None,
    )


def story_title(members: Sequence[DocumentSummary]) -> str:
    """The earliest report's headline, preferring headlines printed by the outlet."""

    def key(d: DocumentSummary) -> tuple[bool, bool, str]:
        return (
            d.title.endswith("…"),
            d.published_at is None,
            d.published_at.isoformat() if d.published_at else "",
        )

    return min(members, key=key).title


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
        # The window's end is exclusive; a reader expects the last day it includes.
        end = (request.until - timedelta(seconds=1)).date().isoformat() if request.until else "now"
        parts.append(f"{start} to {end}")
    return "Brief: " + (" · ".join(parts) if parts else "sanctions and arms-trade news")
